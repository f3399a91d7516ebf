#!/usr/bin/env python3
"""test_csi_spec.py - the csi-sanity cases, run from Python against claimfs-csi.

csi-sanity (Go) cannot be built where `make check` runs, so this file makes
the same calls its specs make (kubernetes-csi/csi-test pkg/sanity, CSI spec
v1.11) and checks the same codes; every check is named after the sanity
case it stands for ("<RPC>: <sanity It(...) text>"). The plumbing (daemon,
driver, proto compilation, stubs) is test_csi.py's.

Covered: ControllerModifyVolume and CreateVolume's mutable_parameters
(MODIFY_VOLUME: the inode limit seen through statvfs at the target, ENOSPC
beyond it), the node RPCs with relative and wrong paths (NodeGetVolumeStats,
NodeExpandVolume), node expansion seen through statvfs at the target, and
the "should work" / "should remove target path" lifecycles.

Environment and needs: as test_csi.py (root, /dev/fuse, python3-grpcio,
python3-grpc-tools). Every process and mount it starts is stopped/removed.
"""

import errno
import json
import os
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_csi as base  # noqa: E402
from test_csi import MiB, NODE, SNAP_API, must  # noqa: E402


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

    # -- the controller specs (what test_csi.py does not already make) --

    def test_controller_specs(self):
        t, pb, S = self.t, self.pb, self.grpc.StatusCode
        ctl = self.ctl
        caps = self.call(ctl.ControllerGetCapabilities, pb.ControllerGetCapabilitiesRequest())
        known = set(pb.ControllerServiceCapability.RPC.Type.values()) - {0}
        t.ok(caps.capabilities and all(c.rpc.type in known for c in caps.capabilities),
             'ControllerGetCapabilities: should return appropriate capabilities', caps)
        self.sanity('OK', lambda: self.call(ctl.GetCapacity, pb.GetCapacityRequest()), 'GetCapacity',
                    'should return capacity (no optional values added)')
        R = 'ListVolumes'
        self.sanity(S.ABORTED, lambda: self.call(ctl.ListVolumes, pb.ListVolumesRequest(starting_token='invalid-token')),
                    R, 'should fail when an invalid starting_token is passed')
        before = len(self.call(ctl.ListVolumes, pb.ListVolumesRequest()).entries)
        vol = self.create('sanity', required=0)
        after = len(self.call(ctl.ListVolumes, pb.ListVolumesRequest()).entries)
        self.call(ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id=vol.volume_id))
        gone = len(self.call(ctl.ListVolumes, pb.ListVolumesRequest()).entries)
        t.eq((after, gone), (before + 1, before),
             '%s: check the presence of new volumes and absence of deleted ones in the volume list' % R)
        vols = [self.create('sanity-page-%d' % i) for i in range(3)]
        page = self.call(ctl.ListVolumes, pb.ListVolumesRequest(max_entries=2))
        for e in page.entries:
            self.call(ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id=e.volume.volume_id))
        added = self.create('new-addition')
        rest = self.code_of(lambda: self.call(ctl.ListVolumes, pb.ListVolumesRequest(starting_token=page.next_token)))
        listed = {e.volume.volume_id for e in page.entries}
        t.ok(rest[0] == 'OK' and not listed & {e.volume.volume_id for e in rest[1].entries},
             '%s: pagination accepts tokens when the last volume from a page is deleted, no duplicates' % R, rest)
        for v in vols + [added]:
            self.call(ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id=v.volume_id))

        R = 'CreateVolume'
        self.sanity(S.INVALID_ARGUMENT, lambda: self.call(ctl.CreateVolume, pb.CreateVolumeRequest()), R,
                    'should fail when no name is provided')
        self.sanity(S.INVALID_ARGUMENT, lambda: self.call(ctl.CreateVolume, pb.CreateVolumeRequest(
            name='sanity-controller-create-no-volume-capabilities')), R, 'should fail when no volume capabilities are provided')
        maxlen = ('sanity-controller-create-maxlen-' + uuid.uuid4().hex.upper() * 4)[:128]
        got = self.code_of(lambda: self.create(maxlen, required=MiB))
        t.ok(got[0] == 'OK' and got[1].capacity_bytes >= MiB,
             '%s: should not fail when creating volume with maximum-length name (128)' % R, got)
        if got[0] == 'OK':
            self.call(ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id=got[1].volume_id))
        name = self.unique_id()
        self.create(name, required=MiB, limit=MiB)
        self.sanity(S.ALREADY_EXISTS, lambda: self.create(name, required=2 * MiB, limit=2 * MiB), R,
                    'should fail when requesting to create a volume with already existing name and different capacity')

        R = 'DeleteVolume'
        self.sanity(S.INVALID_ARGUMENT, lambda: self.call(ctl.DeleteVolume, pb.DeleteVolumeRequest()), R,
                    'should fail when no volume id is provided')
        self.sanity('OK', lambda: self.call(ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id='reallyfakevolumeid')),
                    R, 'should succeed when an invalid volume id is used')
        R = 'ValidateVolumeCapabilities'
        self.sanity(S.INVALID_ARGUMENT, lambda: self.call(ctl.ValidateVolumeCapabilities, pb.ValidateVolumeCapabilitiesRequest(
            volume_capabilities=[self.cap()])), R, 'should fail when no volume id is provided')
        self.sanity(S.INVALID_ARGUMENT, lambda: self.call(ctl.ValidateVolumeCapabilities, pb.ValidateVolumeCapabilitiesRequest(
            volume_id=self.unique_id())), R, 'should fail when no volume capabilities are provided')
        self.sanity(S.NOT_FOUND, lambda: self.call(ctl.ValidateVolumeCapabilities, pb.ValidateVolumeCapabilitiesRequest(
            volume_id=self.unique_id(), volume_capabilities=[self.cap()])), R,
            'should fail when the requested volume does not exist')

        R = 'ControllerExpandVolume'
        self.sanity(S.INVALID_ARGUMENT, lambda: self.call(ctl.ControllerExpandVolume, pb.ControllerExpandVolumeRequest(
            capacity_range=pb.CapacityRange(required_bytes=MiB))), R, 'should fail if no volume id is given')
        vol = self.create('sanity-expand-no-range')
        self.sanity(S.INVALID_ARGUMENT, lambda: self.call(ctl.ControllerExpandVolume, pb.ControllerExpandVolumeRequest(
            volume_id=vol.volume_id)), R, 'should fail if no capacity range is given')

        R = 'CreateSnapshot'
        self.sanity(S.INVALID_ARGUMENT, lambda: self.call(ctl.CreateSnapshot, pb.CreateSnapshotRequest(source_volume_id='testId')),
                    R, 'should fail when no name is provided')
        self.sanity(S.INVALID_ARGUMENT, lambda: self.call(ctl.CreateSnapshot, pb.CreateSnapshotRequest(name='name')),
                    R, 'should fail when no source volume id is provided')
        snap_name = ('CreateSnapshot-snapshot-maxlen-' + uuid.uuid4().hex.upper() * 4)[:128]
        got = self.code_of(lambda: self.call(ctl.CreateSnapshot, pb.CreateSnapshotRequest(
            name=snap_name, source_volume_id=vol.volume_id)))
        t.ok(got[0] == 'OK' and got[1].snapshot.ready_to_use,
             '%s: should succeed when creating snapshot with maximum-length name' % R, got)
        snap = self.call(ctl.CreateSnapshot, pb.CreateSnapshotRequest(name='CreateSnapshot-snapshot-1',
                                                                      source_volume_id=vol.volume_id))
        self.sanity('OK', lambda: self.call(ctl.CreateSnapshot, pb.CreateSnapshotRequest(
            name='CreateSnapshot-snapshot-1', source_volume_id=vol.volume_id)), R,
            'should succeed when requesting to create a snapshot with already existing name and same source volume ID')
        other = self.create('CreateSnapshot-volume-3')
        self.sanity(S.ALREADY_EXISTS, lambda: self.call(ctl.CreateSnapshot, pb.CreateSnapshotRequest(
            name='CreateSnapshot-snapshot-1', source_volume_id=other.volume_id)), R,
            'should fail when requesting to create a snapshot with already existing name and different source volume ID')
        R = 'ListSnapshots'
        r = self.call(ctl.ListSnapshots, pb.ListSnapshotsRequest(snapshot_id=snap.snapshot.snapshot_id))
        t.ok(len(r.entries) == 1 and r.entries[0].snapshot.snapshot_id == snap.snapshot.snapshot_id,
             '%s: should return snapshots that match the specified snapshot id' % R, r)
        r = self.call(ctl.ListSnapshots, pb.ListSnapshotsRequest(snapshot_id='none-exist-id'))
        t.eq(len(r.entries), 0, '%s: should return empty when the specified snapshot id does not exist' % R)
        r = self.call(ctl.ListSnapshots, pb.ListSnapshotsRequest(source_volume_id=self.unique_id()))
        t.eq(len(r.entries), 0, '%s: should return empty when the specified source volume id does not exist' % R)
        R = 'DeleteSnapshot'
        self.sanity(S.INVALID_ARGUMENT, lambda: self.call(ctl.DeleteSnapshot, pb.DeleteSnapshotRequest()), R,
                    'should fail when no snapshot id is provided')
        self.sanity('OK', lambda: self.call(ctl.DeleteSnapshot, pb.DeleteSnapshotRequest(snapshot_id='reallyfakesnapshotid')),
                    R, 'should succeed when an invalid snapshot id is used')
        for sid in [snap.snapshot.snapshot_id] + ([got[1].snapshot.snapshot_id] if got[0] == 'OK' else []):
            self.call(ctl.DeleteSnapshot, pb.DeleteSnapshotRequest(snapshot_id=sid))
        for v in (vol, other):
            self.call(ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id=v.volume_id))

    # -- ControllerPublishVolume / ControllerUnpublishVolume --

    def cpub(self, vol, node=NODE, mode='SINGLE_NODE_WRITER', readonly=False, vid=None, cap=True):
        req = self.pb.ControllerPublishVolumeRequest(
            volume_id=vol.volume_id if vid is None else vid, node_id=node, readonly=readonly,
            volume_context=vol.volume_context if vol is not None else {})
        if cap:
            req.volume_capability.CopyFrom(self.cap(mode))
        return self.call(self.ctl.ControllerPublishVolume, req)

    def cunpub(self, vid, node=NODE):
        return self.call(self.ctl.ControllerUnpublishVolume,
                         self.pb.ControllerUnpublishVolumeRequest(volume_id=vid, node_id=node))

    def attachments(self, ns, name):
        claim = self.claim(ns, name)
        text = claim['metadata'].get('annotations', {}).get('csi.claimfs.io/attachments')
        return json.loads(text) if text else {}

    def test_controller_publish(self):
        t, pb, S = self.t, self.pb, self.grpc.StatusCode
        # node-b and node-c reach this claimfsd too (e.g. its mount is shared).
        self.drv.stop()
        self.drv.start(extra=('--peer-nodes', 'node-b,node-c'))
        self.connect()
        caps = {c.rpc.type for c in self.call(self.ctl.ControllerGetCapabilities,
                                              pb.ControllerGetCapabilitiesRequest()).capabilities}
        RPC = pb.ControllerServiceCapability.RPC
        t.ok({RPC.PUBLISH_UNPUBLISH_VOLUME, RPC.PUBLISH_READONLY} <= caps,
             'ControllerGetCapabilities advertises PUBLISH_UNPUBLISH_VOLUME and PUBLISH_READONLY', caps)
        vol = self.create('sanity-controller-publish', pvc=('spec', 'attach'))
        R = 'ControllerPublishVolume'
        self.sanity(S.INVALID_ARGUMENT, lambda: self.cpub(vol, vid=''), R, 'should fail when no volume id is provided')
        self.sanity(S.INVALID_ARGUMENT, lambda: self.cpub(vol, node=''), R, 'should fail when no node id is provided')
        self.sanity(S.INVALID_ARGUMENT, lambda: self.cpub(vol, cap=False), R,
                    'should fail when no volume capability is provided')
        self.sanity(S.INVALID_ARGUMENT, lambda: self.call(self.ctl.ControllerPublishVolume, pb.ControllerPublishVolumeRequest(
            volume_id=vol.volume_id, node_id=NODE, volume_capability=self.cap(block=True))), R, 'block access: INVALID_ARGUMENT')
        self.sanity(S.NOT_FOUND, lambda: self.cpub(None, node='some-fake-node-id', vid=self.unique_id()), R,
                    'should fail when the volume does not exist')
        self.sanity(S.NOT_FOUND, lambda: self.cpub(vol, node='some-fake-node-id'), R,
                    'should fail when the node does not exist')
        for i in range(3):
            self.sanity('OK', lambda: self.cpub(vol), R, 'volume lifecycle should be idempotent (call %d)' % (i + 1))
        t.eq(self.attachments('spec', 'attach'), {NODE: {'accessMode': 1, 'readonly': False}},
             'the publication is recorded on the claim in claimfsd (annotation csi.claimfs.io/attachments)')
        self.sanity(S.ALREADY_EXISTS, lambda: self.cpub(vol, readonly=True), R,
                    'should fail when the volume is already published but is incompatible')
        self.sanity(S.FAILED_PRECONDITION, lambda: self.cpub(vol, node='node-b'), R,
                    'a ReadWriteOnce volume published to another node: FAILED_PRECONDITION')

        # The full volume lifecycle of sanity: controller publish, stage, publish, and back.
        staging, target = self.target('cp-staging'), self.target('cp-target')
        self.call(self.node.NodeStageVolume, pb.NodeStageVolumeRequest(
            volume_id=vol.volume_id, staging_target_path=staging, volume_capability=self.cap(),
            volume_context=vol.volume_context))
        req = self.publish_req(vol, target, mode='SINGLE_NODE_WRITER')
        req.staging_target_path = staging
        self.call(self.node.NodePublishVolume, req)
        with open(os.path.join(target, 'attached'), 'w') as f:
            f.write('yes\n')
        self.unpublish(vol.volume_id, target)
        self.call(self.node.NodeUnstageVolume, pb.NodeUnstageVolumeRequest(volume_id=vol.volume_id,
                                                                           staging_target_path=staging))
        R = 'ControllerUnpublishVolume'
        for i in range(2):
            self.sanity('OK', lambda: self.cunpub(vol.volume_id), R, 'volume lifecycle should work (call %d)' % (i + 1))
        t.eq(self.attachments('spec', 'attach'), {}, 'the record is gone after unpublish')
        self.sanity('OK', lambda: self.cpub(vol, node='node-b'), 'ControllerPublishVolume',
                    'after unpublish from %s, the ReadWriteOnce volume may move to node-b' % NODE)
        self.sanity(S.INVALID_ARGUMENT, lambda: self.cunpub(''), R, 'should fail when no volume id is provided')
        self.sanity('OK', lambda: self.cunpub(self.unique_id()), R, 'a volume that does not exist: OK')
        self.sanity('OK', lambda: self.cunpub(vol.volume_id, node='some-fake-node-id'), R,
                    'a node the volume is not published to: OK')
        t.eq(list(self.attachments('spec', 'attach')), ['node-b'], 'and the record still names node-b')

        # The record is in claimfsd: it survives a driver restart.
        self.drv.stop()
        self.drv.start(extra=('--peer-nodes', 'node-b,node-c'))
        self.connect()
        self.sanity(S.FAILED_PRECONDITION, lambda: self.cpub(vol), 'ControllerPublishVolume',
                    'after a driver restart the volume is still on node-b: FAILED_PRECONDITION')
        self.sanity('OK', lambda: self.cunpub(vol.volume_id, node=''), R, 'without a node id: from every node')
        t.eq(self.attachments('spec', 'attach'), {}, 'no node left in the record')

        rwop = self.create('cp-rwop', pvc=('spec', 'attach-rwop'), modes=('SINGLE_NODE_SINGLE_WRITER',))
        self.cpub(rwop, mode='SINGLE_NODE_SINGLE_WRITER')
        self.sanity(S.FAILED_PRECONDITION, lambda: self.cpub(rwop, node='node-b', mode='SINGLE_NODE_SINGLE_WRITER'),
                    'ControllerPublishVolume', 'a ReadWriteOncePod volume on a second node: FAILED_PRECONDITION')
        rwx = self.create('cp-rwx', pvc=('spec', 'attach-rwx'), modes=('MULTI_NODE_MULTI_WRITER',))
        for node in (NODE, 'node-b', 'node-c'):
            self.sanity('OK', lambda node=node: self.cpub(rwx, node=node, mode='MULTI_NODE_MULTI_WRITER'),
                        'ControllerPublishVolume', 'a ReadWriteMany volume, MULTI_NODE_MULTI_WRITER on %s' % node)
        listed = {e.volume.volume_id: sorted(e.status.published_node_ids)
                  for e in self.call(self.ctl.ListVolumes, pb.ListVolumesRequest()).entries}
        t.eq((listed.get(rwx.volume_id), listed.get(rwop.volume_id), listed.get(vol.volume_id)),
             (sorted([NODE, 'node-b', 'node-c']), [NODE], []),
             'ListVolumes: status.published_node_ids (LIST_VOLUMES_PUBLISHED_NODES) from the record')
        self.sanity(S.FAILED_PRECONDITION, lambda: self.cpub(rwop, node='node-c', mode='MULTI_NODE_MULTI_WRITER'),
                    'ControllerPublishVolume', 'a MULTI_NODE mode asked for a ReadWriteOncePod volume on another node: '
                    'FAILED_PRECONDITION')

        # Racing publishers of one ReadWriteOnce volume: exactly one node wins.
        race = self.create('cp-race', pvc=('spec', 'attach-race'))
        results = {}

        def racer(node):
            results[node] = self.code_of(lambda: self.cpub(race, node=node))[0]
        threads = [threading.Thread(target=racer, args=(n,)) for n in (NODE, 'node-b', 'node-c')]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        winners = [n for n, code in results.items() if code == 'OK']
        t.ok(len(winners) == 1 and list(self.attachments('spec', 'attach-race')) == winners and
             all(code == S.FAILED_PRECONDITION for n, code in results.items() if n not in winners),
             'three nodes racing for one ReadWriteOnce volume: one wins, the others FAILED_PRECONDITION', results)

        # Controller-published read-only: the node mounts it read-only.
        ro = self.create('cp-ro', pvc=('spec', 'attach-ro'))
        self.cpub(ro, readonly=True)
        ro_target = self.target('cp-ro')
        self.call(self.node.NodePublishVolume, self.publish_req(ro, ro_target, mode='SINGLE_NODE_WRITER'))
        t.errno(lambda: open(os.path.join(ro_target, 'x'), 'w'), errno.EROFS,
                'a volume ControllerPublished read-only is NodePublished read-only')
        self.unpublish(ro.volume_id, ro_target)
        for v in (vol, rwop, rwx, race, ro):
            self.cunpub(v.volume_id, node='')
            self.call(self.ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id=v.volume_id))

    # -- GroupController: VolumeGroupSnapshots --

    def group_create(self, name, vols, params=None):
        return self.call(self.group.CreateVolumeGroupSnapshot, self.pb.CreateVolumeGroupSnapshotRequest(
            name=name, source_volume_ids=[v if isinstance(v, str) else v.volume_id for v in vols],
            parameters=params or {})).group_snapshot

    def group_get(self, gid):
        return self.call(self.group.GetVolumeGroupSnapshot,
                         self.pb.GetVolumeGroupSnapshotRequest(group_snapshot_id=gid)).group_snapshot

    def group_delete(self, gid, sids=()):
        return self.call(self.group.DeleteVolumeGroupSnapshot,
                         self.pb.DeleteVolumeGroupSnapshotRequest(group_snapshot_id=gid, snapshot_ids=list(sids)))

    def group_snapshot_ids_specs(self, g, a):
        """The spec's "Snapshot list mismatch" row (INVALID_ARGUMENT) of Delete and
        Get: snapshot_ids must name every member and nothing else; a refused
        Delete deletes nothing. Ends with one member deleted on its own, as a
        Delete that was cut short leaves the group."""
        t, pb, S = self.t, self.pb, self.grpc.StatusCode
        ids = sorted(x.snapshot_id for x in g.snapshots)
        other = self.call(self.ctl.CreateSnapshot, pb.CreateSnapshotRequest(
            name='not-in-group', source_volume_id=a.volume_id)).snapshot
        R = 'DeleteVolumeGroupSnapshot'
        for case, sids in (('snapshot_ids missing (the field is REQUIRED)', []),
                           ('snapshot_ids naming one member of two', ids[:1]),
                           ('snapshot_ids naming a snapshot outside the group', ids + [other.snapshot_id]),
                           ('snapshot_ids naming a snapshot of another namespace', ids + ['other/' + ids[0].split('/')[1]])):
            self.sanity(S.INVALID_ARGUMENT, lambda sids=sids: self.group_delete(g.group_snapshot_id, sids), R,
                        'Snapshot list mismatch: %s' % case)
        got = self.group_get(g.group_snapshot_id)
        left = self.call(self.ctl.ListSnapshots, pb.ListSnapshotsRequest(snapshot_id=other.snapshot_id))
        t.ok(sorted(x.snapshot_id for x in got.snapshots) == ids and len(left.entries) == 1,
             'DeleteVolumeGroupSnapshot: a refused call deletes nothing (members and the other snapshot stay)', got)
        R = 'GetVolumeGroupSnapshot'
        self.sanity(S.INVALID_ARGUMENT, lambda: self.call(self.group.GetVolumeGroupSnapshot, pb.GetVolumeGroupSnapshotRequest(
            group_snapshot_id=g.group_snapshot_id, snapshot_ids=ids[:1])), R, 'Snapshot list mismatch: one member of two')
        self.sanity('OK', lambda: self.call(self.group.GetVolumeGroupSnapshot, pb.GetVolumeGroupSnapshotRequest(
            group_snapshot_id=g.group_snapshot_id, snapshot_ids=ids)), R, 'snapshot_ids naming every member: OK')
        self.call(self.ctl.DeleteSnapshot, pb.DeleteSnapshotRequest(snapshot_id=other.snapshot_id))
        self.call(self.ctl.DeleteSnapshot, pb.DeleteSnapshotRequest(snapshot_id=ids[0]))

    def test_group_snapshot_specs(self):
        t, pb, S = self.t, self.pb, self.grpc.StatusCode
        self.group = self.rpc.GroupControllerStub(self.channel)
        plugin = self.call(self.identity.GetPluginCapabilities, pb.GetPluginCapabilitiesRequest())
        t.ok(pb.PluginCapability.Service.GROUP_CONTROLLER_SERVICE in
             {c.service.type for c in plugin.capabilities if c.HasField('service')},
             'GetPluginCapabilities advertises GROUP_CONTROLLER_SERVICE', plugin)
        caps = self.call(self.group.GroupControllerGetCapabilities, pb.GroupControllerGetCapabilitiesRequest())
        t.eq([c.rpc.type for c in caps.capabilities],
             [pb.GroupControllerServiceCapability.RPC.CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT],
             'GroupControllerGetCapabilities: should return appropriate capabilities')
        R = 'CreateVolumeGroupSnapshot'
        a = self.create('group-a', pvc=('sts', 'data-web-0'))
        b = self.create('group-b', pvc=('sts', 'data-web-1'))
        elsewhere = self.create('group-x', pvc=('other', 'data'))
        self.sanity(S.INVALID_ARGUMENT, lambda: self.call(self.group.CreateVolumeGroupSnapshot,
                                                          pb.CreateVolumeGroupSnapshotRequest()),
                    R, 'should fail when no name is provided')
        for what, args in (('no source volumes', ('g', [])),
                           ('a volume named twice', ('g', [a, a])),
                           ('volumes of two namespaces', ('g', [a, elsewhere])),
                           ('an unknown parameter', ('g', [a], {'fancy': 'yes'}))):
            self.sanity(S.INVALID_ARGUMENT, lambda args=args: self.group_create(*args), R,
                        '%s: INVALID_ARGUMENT' % what)
        self.sanity(S.NOT_FOUND, lambda: self.group_create('g', [a, self.unique_id()]), R,
                    'a volume that does not exist: NOT_FOUND')
        R = 'GetVolumeGroupSnapshot'
        self.sanity(S.INVALID_ARGUMENT, lambda: self.group_get(''), R, 'should fail when no volume id is provided')
        self.sanity(S.NOT_FOUND, lambda: self.group_get('fake-group-id'), R,
                    'should fail when an invalid volume id is used')
        self.sanity(S.NOT_FOUND, lambda: self.group_get('sts/no-such-group'), R, 'an unknown group: NOT_FOUND')
        R = 'DeleteVolumeGroupSnapshot'
        self.sanity(S.INVALID_ARGUMENT, lambda: self.group_delete(''), R, 'should fail when no volume id is provided')
        self.sanity('OK', lambda: self.group_delete('fake-group-id'), R,
                    'should succeed when an invalid volume id is used')

        g = self.group_create('web-backup', [a, b])
        members = {x.source_volume_id: x for x in g.snapshots}
        t.ok(g.group_snapshot_id == 'sts/web-backup' and g.ready_to_use and set(members) == {a.volume_id, b.volume_id}
             and all(x.group_snapshot_id == g.group_snapshot_id and x.ready_to_use for x in g.snapshots),
             'CreateVolumeGroupSnapshot: one snapshot per volume, ready, each naming the group', g)
        again = self.group_create('web-backup', [b, a])
        t.eq(sorted(x.snapshot_id for x in again.snapshots), sorted(x.snapshot_id for x in g.snapshots),
             'CreateVolumeGroupSnapshot again (volumes in another order): the same group (idempotent)')
        self.sanity(S.ALREADY_EXISTS, lambda: self.group_create('web-backup', [a]), 'CreateVolumeGroupSnapshot',
                    'the same name with other volumes: ALREADY_EXISTS')
        got = self.group_get(g.group_snapshot_id)
        t.eq(sorted(x.snapshot_id for x in got.snapshots), sorted(x.snapshot_id for x in g.snapshots),
             'GetVolumeGroupSnapshot: the members')
        listed = self.call(self.ctl.ListSnapshots, pb.ListSnapshotsRequest(snapshot_id=g.snapshots[0].snapshot_id))
        t.ok(len(listed.entries) == 1 and listed.entries[0].snapshot.group_snapshot_id == g.group_snapshot_id,
             'ListSnapshots shows a member with its group_snapshot_id', listed)
        vs = json.loads(self.d.request('GET', SNAP_API + '/namespaces/sts/volumesnapshots')[2])
        t.eq(sorted(i['status'].get('volumeGroupSnapshotName') for i in vs['items']), ['web-backup', 'web-backup'],
             'claimfsd: the members are VolumeSnapshots whose status.volumeGroupSnapshotName names the group')
        self.group_snapshot_ids_specs(g, a)
        self.sanity('OK', lambda: self.group_delete(g.group_snapshot_id, [x.snapshot_id for x in g.snapshots]),
                    'DeleteVolumeGroupSnapshot', 'deletes every member (one already deleted by a retried call)')
        self.sanity(S.NOT_FOUND, lambda: self.group_get(g.group_snapshot_id), 'GetVolumeGroupSnapshot',
                    'after delete: NOT_FOUND')
        left = self.call(self.ctl.ListSnapshots, pb.ListSnapshotsRequest(snapshot_id=g.snapshots[0].snapshot_id))
        t.eq(len(left.entries), 0, 'the members are gone after DeleteVolumeGroupSnapshot')
        self.sanity('OK', lambda: self.group_delete(g.group_snapshot_id), 'DeleteVolumeGroupSnapshot', 'again: OK')
        self.group_vols = (a, b)
        self.call(self.ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id=elsewhere.volume_id))

    def test_group_snapshot_consistency(self, rounds=5):
        """A writer keeps A and B in lockstep (A first); every group snapshot
        restores to A == B or A == B + 1."""
        t, pb = self.t, self.pb
        a, b = self.group_vols
        ta, tb = self.target('group-a'), self.target('group-b')
        for v, tg in ((a, ta), (b, tb)):
            self.call(self.node.NodePublishVolume, self.publish_req(v, tg, mode='SINGLE_NODE_WRITER'))
        fa = os.open(os.path.join(ta, 'counter'), os.O_CREAT | os.O_WRONLY, 0o644)
        fb = os.open(os.path.join(tb, 'counter'), os.O_CREAT | os.O_WRONLY, 0o644)
        stop, written = threading.Event(), [0]

        def writer():
            n = 0
            while not stop.is_set():
                n += 1
                text = b'%011d\n' % n
                os.pwrite(fa, text, 0)
                os.pwrite(fb, text, 0)
                written[0] = n
        th = threading.Thread(target=writer)
        th.start()
        seen, bad = [], []
        try:
            for i in range(rounds):
                time.sleep(0.05)
                g = self.group_create('lockstep-%d' % i, [a, b])
                by_source = {x.source_volume_id: x.snapshot_id for x in g.snapshots}
                values = []
                for v, label in ((a, 'a'), (b, 'b')):
                    src = pb.VolumeContentSource(snapshot=pb.VolumeContentSource.SnapshotSource(
                        snapshot_id=by_source[v.volume_id]))
                    restored = self.create('restore-%s-%d' % (label, i), pvc=('sts', 'restore-%s-%d' % (label, i)),
                                           source=src)
                    path = os.path.join(self.d.claim_path('sts', 'restore-%s-%d' % (label, i)), 'counter')
                    with open(path, 'rb') as f:
                        text = f.read()
                    values.append(int(text) if text else 0)
                    self.call(self.ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id=restored.volume_id))
                seen.append(tuple(values))
                if not (values[0] == values[1] or values[0] == values[1] + 1):
                    bad.append(tuple(values))
                self.group_delete(g.group_snapshot_id, [x.snapshot_id for x in g.snapshots])
        finally:
            stop.set()
            th.join()
            os.close(fa)
            os.close(fb)
        t.ok(not bad and len(seen) == rounds and len({x[0] for x in seen}) == rounds and written[0] > 0,
             'group snapshots while a writer keeps A and B in lockstep: every group holds A == B or A == B + 1 '
             '(both-or-neither), and the groups saw the writer move', (seen, bad, written[0]))
        for v, tg in ((a, ta), (b, tb)):
            self.unpublish(v.volume_id, tg)
            self.call(self.ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id=v.volume_id))

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

    # -- NodeStageVolume / NodeUnstageVolume --

    def stage_req(self, vol, path, mode='SINGLE_NODE_WRITER', cap=True):
        req = self.pb.NodeStageVolumeRequest(volume_id=vol.volume_id if vol else '', staging_target_path=path,
                                             volume_context=vol.volume_context if vol else {})
        if cap:
            req.volume_capability.CopyFrom(self.cap(mode))
        return req

    def stage(self, vol, path, mode='SINGLE_NODE_WRITER'):
        return self.call(self.node.NodeStageVolume, self.stage_req(vol, path, mode))

    def unstage(self, vid, path):
        return self.call(self.node.NodeUnstageVolume,
                         self.pb.NodeUnstageVolumeRequest(volume_id=vid, staging_target_path=path))

    def publish_staged(self, vol, staging, target, mode='SINGLE_NODE_MULTI_WRITER', readonly=False):
        req = self.publish_req(vol, target, mode=mode, readonly=readonly)
        req.staging_target_path = staging
        return self.call(self.node.NodePublishVolume, req)

    def test_node_stage_errors(self):
        t, pb, S = self.t, self.pb, self.grpc.StatusCode
        caps = {c.rpc.type for c in self.call(self.node.NodeGetCapabilities,
                                              pb.NodeGetCapabilitiesRequest()).capabilities}
        t.ok(pb.NodeServiceCapability.RPC.STAGE_UNSTAGE_VOLUME in caps,
             'NodeGetCapabilities advertises STAGE_UNSTAGE_VOLUME', caps)
        staging = self.target('staging-errors')
        vol = self.create('sanity-node-stage-nocaps', pvc=('spec', 'stage-nocaps'))
        R = 'NodeStageVolume'
        self.sanity(S.INVALID_ARGUMENT, lambda: self.call(self.node.NodeStageVolume, self.stage_req(None, staging)),
                    R, 'should fail when no volume id is provided')
        self.sanity(S.INVALID_ARGUMENT, lambda: self.call(self.node.NodeStageVolume, self.stage_req(vol, '')),
                    R, 'should fail when no staging target path is provided')
        self.sanity(S.INVALID_ARGUMENT,
                    lambda: self.call(self.node.NodeStageVolume, self.stage_req(vol, staging, cap=False)),
                    R, 'should fail when no volume capability is provided')
        block = self.stage_req(vol, staging)
        block.volume_capability.CopyFrom(self.cap(block=True))
        self.sanity(S.INVALID_ARGUMENT, lambda: self.call(self.node.NodeStageVolume, block), R,
                    'block access is INVALID_ARGUMENT')
        self.sanity(S.INVALID_ARGUMENT, lambda: self.stage(vol, 'rel/staging'), R,
                    'a relative staging path is INVALID_ARGUMENT')
        gone = pb.NodeStageVolumeRequest(volume_id=self.unique_id(), staging_target_path=staging,
                                         volume_capability=self.cap())
        self.sanity(S.NOT_FOUND, lambda: self.call(self.node.NodeStageVolume, gone), R,
                    'a volume that does not exist is NOT_FOUND')
        R = 'NodeUnstageVolume'
        self.sanity(S.INVALID_ARGUMENT, lambda: self.unstage('', staging), R,
                    'should fail when no volume id is provided')
        self.sanity(S.INVALID_ARGUMENT, lambda: self.unstage(self.unique_id(), ''), R,
                    'should fail when no staging target path is provided')
        self.sanity(S.NOT_FOUND, lambda: self.unstage(self.unique_id(), staging), R,
                    'a volume that does not exist and was never staged is NOT_FOUND')
        self.sanity('OK', lambda: self.unstage(vol.volume_id, staging), R,
                    'a known volume that is not staged: OK (idempotent)')
        t.ok(not any(base.is_mounted(p) for p in (staging,)), 'failed stagings leave nothing mounted')
        self.call(self.ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id=vol.volume_id))

    def test_node_stage_publish(self):
        t, pb, S = self.t, self.pb, self.grpc.StatusCode
        vol = self.create('sanity-node-full-1', pvc=('spec', 'staged'))
        other = self.create('sanity-node-other', pvc=('spec', 'other'))
        staging, a, b = self.target('staging'), self.target('pod-a'), self.target('pod-b')
        R = 'NodeStageVolume'
        for i in range(3):
            self.sanity('OK', lambda: self.stage(vol, staging), R, 'should be idempotent (call %d)' % (i + 1))
        t.ok(base.is_mounted(staging) and os.path.samefile(
            staging, self.d.claim_path('spec', 'staged')), 'the staging path is one mount of the claim')
        self.sanity(S.ALREADY_EXISTS, lambda: self.stage(vol, staging, mode='SINGLE_NODE_SINGLE_WRITER'), R,
                    'the same volume at the same path with another access mode: ALREADY_EXISTS')
        self.sanity(S.ALREADY_EXISTS, lambda: self.stage(other, staging), R,
                    'another volume at a staging path in use: ALREADY_EXISTS')
        self.sanity(S.FAILED_PRECONDITION, lambda: self.stage(vol, self.target('staging-2')), R,
                    'a second staging path for a volume on one node: FAILED_PRECONDITION')
        self.sanity(S.FAILED_PRECONDITION, lambda: self.publish_staged(other, staging, self.target('x')),
                    'NodePublishVolume', 'from a staging path where the volume is not staged: FAILED_PRECONDITION')
        t.ok(not os.path.exists(self.target('x')), 'a refused publish leaves no target behind')

        R = 'NodePublishVolume'
        for i in range(3):
            self.sanity('OK', lambda: self.publish_staged(vol, staging, a), R,
                        'Node Service should be idempotent (publish from staging, call %d)' % (i + 1))
        self.sanity('OK', lambda: self.publish_staged(vol, staging, b, readonly=True), R,
                    'a second pod from the same staging mount (SINGLE_NODE_MULTI_WRITER, read-only)')
        self.sanity(S.ALREADY_EXISTS, lambda: self.publish_staged(vol, staging, a, readonly=True), R,
                    'the same target with other arguments: ALREADY_EXISTS')
        with open(os.path.join(a, 'through-a'), 'w') as f:
            f.write('hello\n')
        with open(os.path.join(self.d.claim_path('spec', 'staged'), 'through-a')) as f:
            t.eq(f.read(), 'hello\n', 'a write through the pod target lands in the claim')
        t.errno(lambda: open(os.path.join(b, 'ro'), 'w'), errno.EROFS,
                'the read-only pod target refuses writes while the staging mount stays writable')
        st = self.call(self.node.NodeGetVolumeStats, pb.NodeGetVolumeStatsRequest(volume_id=vol.volume_id,
                                                                                 volume_path=a))
        t.ok(len(st.usage) == 2, 'NodeGetVolumeStats: Node Service should work (at the target)', st)
        self.sanity(S.FAILED_PRECONDITION, lambda: self.call(self.ctl.DeleteVolume, pb.DeleteVolumeRequest(
            volume_id=vol.volume_id)), 'DeleteVolume', 'a staged and published volume: FAILED_PRECONDITION')
        self.sanity(S.FAILED_PRECONDITION, lambda: self.unstage(vol.volume_id, staging), 'NodeUnstageVolume',
                    'while pods are still published from it: FAILED_PRECONDITION (unpublish first)')
        self.sanity(S.INVALID_ARGUMENT, lambda: self.unpublish(vol.volume_id, staging), 'NodeUnpublishVolume',
                    'of a staging path: INVALID_ARGUMENT')
        self.sanity(S.INVALID_ARGUMENT, lambda: self.unstage(vol.volume_id, a), 'NodeUnstageVolume',
                    'of a pod target: INVALID_ARGUMENT')

        # The record survives a driver restart; the mounts die with claimfsd and heal.
        self.drv.stop()
        self.drv.start()
        self.connect()
        self.sanity('OK', lambda: self.stage(vol, staging), R, 'after a driver restart: staging again is OK')
        self.sanity(S.ALREADY_EXISTS, lambda: self.stage(vol, staging, mode='SINGLE_NODE_SINGLE_WRITER'),
                    'NodeStageVolume', 'after a driver restart: another access mode is still ALREADY_EXISTS')
        self.unpublish(vol.volume_id, b)
        self.d.kill()
        self.d.start()
        self.sanity('OK', lambda: self.publish_staged(vol, staging, a), R,
                    'after claimfsd was killed: publishing again mounts staging and target again')
        with open(os.path.join(a, 'through-a')) as f:
            t.eq(f.read(), 'hello\n', 'the healed target shows the claim')
        t.run(lambda: os.listdir(staging), 'the staging mount is alive again (no ENOTCONN)')

        for target in (a, b):
            self.sanity('OK', lambda target=target: self.unpublish(vol.volume_id, target), 'NodeUnpublishVolume',
                        'should remove target path (%s)' % os.path.basename(target))
        R = 'NodeUnstageVolume'
        self.sanity('OK', lambda: self.unstage(vol.volume_id, staging), R, 'after every unpublish: OK')
        t.ok(not base.is_mounted(staging) and os.path.isdir(staging),
             'the staging path is unmounted and left to the CO')
        self.sanity('OK', lambda: self.unstage(vol.volume_id, staging), R, 'again: OK (idempotent)')
        for v in (vol, other):
            self.call(self.ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id=v.volume_id))

    # -- ControllerModifyVolume (MODIFY_VOLUME, VolumeAttributesClass) --

    def modify(self, vid, params=None):
        return self.call(self.ctl.ControllerModifyVolume, self.pb.ControllerModifyVolumeRequest(
            volume_id=vid, mutable_parameters=dict(params or {})))

    def test_modify_volume(self):
        t, pb, S = self.t, self.pb, self.grpc.StatusCode
        R = 'ModifyVolume'
        caps = {c.rpc.type for c in self.call(self.ctl.ControllerGetCapabilities,
                                              pb.ControllerGetCapabilitiesRequest()).capabilities}
        t.ok(pb.ControllerServiceCapability.RPC.MODIFY_VOLUME in caps,
             'ControllerGetCapabilities advertises MODIFY_VOLUME (sanity runs the ModifyVolume specs)', caps)
        attrs = {'inodeLimit': '50', 'ioClass': 'durable'}
        self.sanity(S.INVALID_ARGUMENT, lambda: self.modify('', attrs), R, 'should fail if no volume id is given')
        self.sanity(S.NOT_FOUND, lambda: self.modify('non-existing-volume-id', attrs), R,
                    'should fail if volume does not exist')
        plain = self.create('sanity-modify-volume-plain', pvc=('spec', 'modify-plain'))
        self.sanity(S.INVALID_ARGUMENT, lambda: self.modify(plain.volume_id, {'XXX_FakeKey': 'XXX_FakeValue'}), R,
                    'should fail if specified mutable parameters are not supported by the volume')
        for bad in ({'inodeLimit': '0'}, {'inodeLimit': '-1'}, {'inodeLimit': '12k'}, {'inodeLimit': ''},
                    {'ioClass': 'fast'}, {'ioClass': 'durable', 'inodeLimit': 'x'}):
            self.sanity(S.INVALID_ARGUMENT, lambda b=bad: self.modify(plain.volume_id, b), R,
                        'a bad value is INVALID_ARGUMENT: %r' % bad)
        claim = self.claim('spec', 'modify-plain')
        notes = claim['metadata'].get('annotations', {})
        t.ok('claimfs.io/inode-limit' not in notes and 'claimfs.io/io-class' not in notes,
             'a refused modification changes nothing on the claim', notes)
        self.sanity('OK', lambda: self.modify(plain.volume_id), R,
                    'should modify a volume created without a volume attribute class (no parameters)')
        self.sanity('OK', lambda: self.modify(plain.volume_id, attrs), R,
                    'should modify a volume created without a volume attribute class')
        notes = self.claim('spec', 'modify-plain')['metadata'].get('annotations', {})
        t.eq((notes.get('claimfs.io/inode-limit'), notes.get('claimfs.io/io-class')), ('50', 'durable'),
             'the claim carries the new attributes (HTTP API)')
        self.sanity('OK', lambda: self.modify(plain.volume_id, attrs), R, 'the same request again: OK (idempotent)')
        target = self.target('modify')
        self.lifecycle_publish(plain, target)
        sv = os.statvfs(target)
        t.eq((sv.f_files, sv.f_ffree), (50, 49), 'the inode limit is what statvfs shows at the published target')
        self.modify(plain.volume_id, {'inodeLimit': '3'})
        made = 0
        try:
            for i in range(5):
                os.close(os.open(os.path.join(target, 'f%d' % i), os.O_CREAT | os.O_WRONLY, 0o644))
                made += 1
            got = 0
        except OSError as e:
            got = e.errno
        t.eq((made, got, os.statvfs(target).f_files), (2, errno.ENOSPC, 3),
             'modified online while published: 2 files, then ENOSPC, the I/O class kept')
        notes = self.claim('spec', 'modify-plain')['metadata'].get('annotations', {})
        t.eq(notes.get('claimfs.io/io-class'), 'durable', 'a key not named keeps its value')
        self.lifecycle_cleanup(plain, target)

        R2 = 'CreateVolume'
        self.sanity(S.INVALID_ARGUMENT, lambda: self.call(self.ctl.CreateVolume, self.create_req_mutable(
            'sanity-modify-bad', {'XXX_FakeKey': 'XXX_FakeValue'})), R2,
            'mutable_parameters with an unknown key: INVALID_ARGUMENT')
        vac = self.call(self.ctl.CreateVolume, self.create_req_mutable('sanity-modify-volume-vac', attrs,
                                                                       pvc=('spec', 'modify-vac'))).volume
        notes = self.claim('spec', 'modify-vac')['metadata'].get('annotations', {})
        t.eq(notes.get('claimfs.io/inode-limit'), '50', '%s: mutable_parameters are applied at creation' % R2)
        self.sanity('OK', lambda: self.modify(vac.volume_id, attrs), R,
                    'should modify a volume created with a volume attribute class')
        self.sanity(S.INVALID_ARGUMENT, lambda: self.modify(vac.volume_id, {'XXX_FakeKey': 'XXX_FakeValue'}), R,
                    'should fail to modify a volume created with a volume attribute class if new mutable '
                    'parameters are not supported by volume')
        self.call(self.ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id=vac.volume_id))

    def create_req_mutable(self, name, mutable, **kw):
        req = self.create_req(name, **kw)
        req.mutable_parameters.update(mutable)
        return req

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
    test.test_controller_specs()
    test.test_node_get_volume_stats()
    test.test_node_expand_volume()
    test.test_node_lifecycle()
    test.test_modify_volume()
    test.test_node_stage_errors()
    test.test_node_stage_publish()
    test.test_controller_publish()
    test.test_group_snapshot_specs()
    test.test_group_snapshot_consistency()


if __name__ == '__main__':
    base.run_suite(SpecTest, run_cases, 'claimfs-csi-spec.')
