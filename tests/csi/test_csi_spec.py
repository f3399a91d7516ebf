#!/usr/bin/env python3
"""test_csi_spec.py - the csi-sanity cases, run from Python against claimfs-csi.

csi-sanity (Go) cannot be built where `make check` runs, so this file makes
the same calls its specs make (kubernetes-csi/csi-test pkg/sanity, CSI spec
v1.11) and checks the same codes; every check is named after the sanity
case it stands for ("<RPC>: <sanity It(...) text>"). The plumbing (daemon,
driver, proto compilation, stubs) is test_csi.py's.

Covered: the node RPCs with relative and wrong paths (NodeGetVolumeStats,
NodeExpandVolume), node expansion seen through statvfs at the target, and
the "should work" / "should remove target path" lifecycles.

Environment and needs: as test_csi.py (root, /dev/fuse, python3-grpcio,
python3-grpc-tools). Every process and mount it starts is stopped/removed.
"""

import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_csi as base  # noqa: E402
from test_csi import MiB, must  # noqa: E402


class SpecTest(base.CsiTest):
    """The sanity cases; self.sanity names a check after its sanity case."""

    def sanity(self, code, fn, rpc, case):
        return self.expect(code, fn, '%s: %s' % (rpc, case))

    @staticmethod
    def unique_id():
        """What sanity's IDGen.GenerateUniqueValidVolumeID gives: an id nobody issued."""
        return 'fake-vol-id-' + uuid.uuid4().hex[:12]

    def node_info(self):
        return self.call(self.node.NodeGetInfo, self.pb.NodeGetInfoRequest())

    def lifecycle_publish(self, vol, target, mode='SINGLE_NODE_WRITER'):
        """What sanity's nodePublishVolume helpers do for our capabilities."""
        self.call(self.node.NodePublishVolume, self.publish_req(vol, target, mode=mode))

    def lifecycle_cleanup(self, vol, target):
        """sanity's Resources.Cleanup: unpublish, delete."""
        self.unpublish(vol.volume_id, target)
        self.call(self.ctl.DeleteVolume, self.pb.DeleteVolumeRequest(volume_id=vol.volume_id))

    # -- NodeGetVolumeStats --

    def test_node_get_volume_stats(self):
        pb, S = self.pb, self.grpc.StatusCode
        R = 'NodeGetVolumeStats'

        def stats(vid, path):
            return self.call(self.node.NodeGetVolumeStats,
                             pb.NodeGetVolumeStatsRequest(volume_id=vid, volume_path=path))
        self.sanity(S.INVALID_ARGUMENT, lambda: stats('', 'some/path'), R,
                    'should fail when no volume id is provided')
        self.sanity(S.INVALID_ARGUMENT, lambda: stats(self.unique_id(), ''), R,
                    'should fail when no volume path is provided')
        self.sanity(S.NOT_FOUND, lambda: stats(self.unique_id(), 'some/path'), R,
                    'should fail when volume is not found (relative path)')
        self.sanity(S.NOT_FOUND, lambda: stats(self.unique_id(), self.targets), R,
                    'should fail when volume is not found (absolute path)')
        vol = self.create('sanity-node-get-volume-stats', pvc=('spec', 'stats'))
        target = self.target('stats')
        self.lifecycle_publish(vol, target)
        self.sanity(S.NOT_FOUND, lambda: stats(vol.volume_id, 'some/path'), R,
                    'should fail when volume does not exist on the specified path (relative)')
        # A relative path that does lead to the claim from our working
        # directory must still be refused: the caller's path is not ours to resolve.
        cwd = os.getcwd()
        os.chdir(self.targets)
        try:
            self.sanity(S.NOT_FOUND, lambda: stats(vol.volume_id, 'stats'), R,
                        'a relative path is never resolved against the driver (NOT_FOUND)')
        finally:
            os.chdir(cwd)
        self.sanity(S.NOT_FOUND, lambda: stats(vol.volume_id, self.targets), R,
                    'should fail when volume does not exist on the specified path (absolute)')
        self.sanity('OK', lambda: stats(vol.volume_id, target), R, 'Node Service should work (stats at the target)')
        self.lifecycle_cleanup(vol, target)

    # -- NodeExpandVolume --

    def test_node_expand_volume(self):
        t, pb, S = self.t, self.pb, self.grpc.StatusCode
        R = 'NodeExpandVolume'

        def node_expand(vid, path, required=0, cap=True):
            req = pb.NodeExpandVolumeRequest(volume_id=vid, volume_path=path)
            if cap:
                req.volume_capability.CopyFrom(self.cap())
            if required:
                req.capacity_range.required_bytes = required
            return self.call(self.node.NodeExpandVolume, req)
        caps = {c.rpc.type for c in self.call(self.node.NodeGetCapabilities,
                                              pb.NodeGetCapabilitiesRequest()).capabilities}
        t.ok(pb.NodeServiceCapability.RPC.EXPAND_VOLUME in caps,
             'NodeGetCapabilities advertises EXPAND_VOLUME (sanity runs the NodeExpandVolume specs)', caps)
        self.sanity(S.INVALID_ARGUMENT, lambda: node_expand('', self.targets), R,
                    'should fail when no volume id is provided')
        vol = self.create('sanity-node-expand-volume-valid-id', pvc=('spec', 'expand-id'))
        self.sanity(S.INVALID_ARGUMENT, lambda: node_expand(vol.volume_id, ''), R,
                    'should fail when no volume path is provided')
        self.sanity(S.NOT_FOUND, lambda: node_expand(self.unique_id(), 'some/path', cap=False), R,
                    'should fail when volume is not found')
        self.call(self.ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id=vol.volume_id))

        vol = self.create('sanity-node-expand-volume', pvc=('spec', 'expand'))
        r = self.call(self.ctl.ControllerExpandVolume, pb.ControllerExpandVolumeRequest(
            volume_id=vol.volume_id, capacity_range=pb.CapacityRange(required_bytes=2 * MiB)))
        t.eq(r.capacity_bytes, 2 * MiB, 'ControllerExpandVolume to 2Mi before node-publish')
        target = self.target('expand')
        self.lifecycle_publish(vol, target)
        r = node_expand(vol.volume_id, target, required=2 * MiB)
        t.eq(r.capacity_bytes, 2 * MiB, '%s: should work if node-expand is called after node-publish' % R)
        self.sanity(S.NOT_FOUND, lambda: node_expand(vol.volume_id, 'some/path'), R,
                    'a relative path is NOT_FOUND for a known volume')

        def grown_in_df():
            r = self.call(self.ctl.ControllerExpandVolume, pb.ControllerExpandVolumeRequest(
                volume_id=vol.volume_id, capacity_range=pb.CapacityRange(required_bytes=6 * MiB)))
            must(r.capacity_bytes == 6 * MiB, r)
            r = node_expand(vol.volume_id, target, required=6 * MiB)
            must(r.capacity_bytes == 6 * MiB, r)
            st = os.statvfs(target)
            must(st.f_blocks * st.f_frsize == 6 * MiB, ('statvfs at the target', st))
            with open(os.path.join(target, 'big'), 'wb') as f:
                f.write(b'x' * (4 * MiB))
        t.run(grown_in_df, '%s online while published: statvfs (df) at the target shows the new size, '
                           'and the new room takes writes' % R)
        self.lifecycle_cleanup(vol, target)

    # -- the node lifecycles --

    def test_node_lifecycle(self):
        t = self.t
        vol = self.create('sanity-node-unpublish-volume', pvc=('spec', 'unpublish'))
        target = self.target('target')
        self.lifecycle_publish(vol, target)
        t.ok(os.path.isdir(target), 'NodeUnpublishVolume: should remove target path (created by publish)')
        self.unpublish(vol.volume_id, target)
        t.ok(not os.path.exists(target), 'NodeUnpublishVolume: should remove target path (gone after unpublish)')
        self.call(self.ctl.DeleteVolume, self.pb.DeleteVolumeRequest(volume_id=vol.volume_id))


def run_cases(test):
    test.test_node_get_volume_stats()
    test.test_node_expand_volume()
    test.test_node_lifecycle()


if __name__ == '__main__':
    base.run_suite(SpecTest, run_cases, 'claimfs-csi-spec.')
