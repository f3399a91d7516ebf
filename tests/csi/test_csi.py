#!/usr/bin/env python3
"""test_csi.py - claimfs-csi against a real claimfsd, over the real unix socket.

The client is not our C code: Debian's python3-grpc-tools compiles
csi-shim/csi.proto at test time and python3-grpcio calls every RPC. Covered:
success paths, idempotency, the gRPC status code of every error case the CSI
spec prescribes, and the story publish -> write through target_path ->
SIGKILL and restart claimfsd -> unpublish + republish -> data intact.

Snapshots, clones, online expansion and the API token are checked like
everything else: claimfsd has them, and a check that finds one missing fails.
python3-grpcio and python3-grpc-tools are installed by scripts/install-deps.sh,
so their absence fails the run too; only no root or no /dev/fuse skips it.

Environment: CLAIMFSD (daemon), CLAIMFS_CSI (driver), CLAIMFS_TEST_LIB,
CLAIMFS_CSI_PROTO (csi.proto). Needs root and /dev/fuse (bind mounts).
Every process and mount it starts is stopped/removed in `finally`.
"""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(__file__), '..', 'integration', 'lib')))
from tap import Tap  # noqa: E402
from daemon import Daemon, force_unmount, is_mounted  # noqa: E402

MiB = 1 << 20
GiB = 1 << 30
NODE = 'node-a'
TOPOLOGY_KEY = 'topology.claimfs.io/node'
SNAP_API = '/apis/snapshot.storage.k8s.io/v1'


def must(cond, detail):
    """Raise AssertionError(detail) unless cond; unlike assert, python -O keeps it."""
    if not cond:
        raise AssertionError(detail)


# --- set-up -------------------------------------------------------------------

def compile_proto(proto, out_dir):
    """Generate csi_pb2 / csi_pb2_grpc into out_dir with grpc_tools; import them."""
    import grpc_tools
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), '_proto')
    cmd = [sys.executable, '-m', 'grpc_tools.protoc',
           '-I' + os.path.dirname(proto), '-I' + well_known, '-I/usr/include',
           '--python_out=' + out_dir, '--grpc_python_out=' + out_dir,
           os.path.basename(proto)]
    os.makedirs(out_dir, exist_ok=True)
    done = subprocess.run(cmd, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        raise RuntimeError('grpc_tools.protoc failed:\n' + done.stdout)
    sys.path.insert(0, out_dir)
    import csi_pb2
    import csi_pb2_grpc
    return csi_pb2, csi_pb2_grpc


class Driver:
    """One claimfs-csi process on a unix socket."""

    def __init__(self, binary, workdir, daemon):
        self.binary = binary
        self.socket = os.path.join(workdir, 'csi.sock')
        self.state_dir = os.path.join(workdir, 'csi-state')
        self.log_path = os.path.join(workdir, 'csi.log')
        self.daemon = daemon
        self.proc = None

    def start(self, extra=()):
        log = open(self.log_path, 'ab')
        try:
            self.proc = subprocess.Popen(
                [self.binary, '--endpoint', 'unix://' + self.socket, '--node-id', NODE,
                 '--api', 'unix://' + self.daemon.unix_socket, '--mount', self.daemon.mount,
                 '--state-dir', self.state_dir, '--log-level', 'debug', *extra],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('claimfs-csi exited with %d:\n%s' % (self.proc.returncode, self.log_tail()))
            if os.path.exists(self.socket):
                return
            time.sleep(0.05)
        raise RuntimeError('claimfs-csi never created its socket:\n' + self.log_tail())

    def stop(self, sig=signal.SIGTERM):
        """Stop; return the exit code (None if it was not running)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        return rc

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, 'rb') as f:
                return '\n'.join(f.read().decode('utf-8', 'replace').splitlines()[-lines:])
        except OSError:
            return '(no log)'


def mounts_under(prefix):
    """Mount points below prefix, deepest first."""
    found = []
    with open('/proc/self/mounts', encoding='utf-8') as f:
        for line in f:
            point = line.split()[1].replace('\\040', ' ')
            if point.startswith(prefix + '/'):
                found.append(point)
    return sorted(found, key=len, reverse=True)


# --- the test -------------------------------------------------------------------

class CsiTest:
    def __init__(self, t, pb, rpc, grpc, workdir):
        self.t, self.pb, self.rpc, self.grpc = t, pb, rpc, grpc
        self.workdir = workdir
        self.targets = os.path.join(workdir, 'targets')
        os.makedirs(self.targets)
        self.d = Daemon(os.path.join(workdir, 'daemon'))
        self.drv = Driver(os.environ['CLAIMFS_CSI'], workdir, self.d)
        self.channel = None

    # -- plumbing --

    def connect(self):
        if self.channel is not None:
            self.channel.close()
        self.channel = self.grpc.insecure_channel('unix://' + self.drv.socket)
        self.identity = self.rpc.IdentityStub(self.channel)
        self.ctl = self.rpc.ControllerStub(self.channel)
        self.node = self.rpc.NodeStub(self.channel)

    def call(self, stub_method, request):
        return stub_method(request, timeout=30)

    def code_of(self, fn):
        """Run fn; return (grpc code or 'OK', result or details)."""
        try:
            return 'OK', fn()
        except self.grpc.RpcError as e:  # pylint: disable=no-member
            return e.code(), e.details()

    def expect(self, code, fn, desc):
        got, detail = self.code_of(fn)
        return self.t.ok(got == code, desc, 'expected %s, got %s: %s' % (code, got, detail))

    def cap(self, mode='SINGLE_NODE_WRITER', block=False, flags=()):
        pb = self.pb
        access = pb.VolumeCapability.AccessMode(mode=getattr(pb.VolumeCapability.AccessMode, mode))
        if block:
            return pb.VolumeCapability(block=pb.VolumeCapability.BlockVolume(), access_mode=access)
        return pb.VolumeCapability(mount=pb.VolumeCapability.MountVolume(mount_flags=list(flags)),
                                   access_mode=access)

    def create_req(self, name, required=MiB, limit=0, modes=('SINGLE_NODE_WRITER',), pvc=None,
                   params=None, source=None, topology=None):
        pb = self.pb
        parameters = dict(params or {})
        if pvc is not None:
            parameters['csi.storage.k8s.io/pvc/namespace'] = pvc[0]
            parameters['csi.storage.k8s.io/pvc/name'] = pvc[1]
            parameters['csi.storage.k8s.io/pv/name'] = name
        req = pb.CreateVolumeRequest(name=name, volume_capabilities=[self.cap(m) for m in modes],
                                     parameters=parameters)
        if required or limit:
            req.capacity_range.required_bytes = required
            req.capacity_range.limit_bytes = limit
        if source is not None:
            req.volume_content_source.CopyFrom(source)
        if topology is not None:
            req.accessibility_requirements.CopyFrom(topology)
        return req

    def create(self, *args, **kw):
        return self.call(self.ctl.CreateVolume, self.create_req(*args, **kw)).volume

    def publish_req(self, volume, target, mode='SINGLE_NODE_MULTI_WRITER', readonly=False, flags=()):
        return self.pb.NodePublishVolumeRequest(
            volume_id=volume.volume_id, target_path=target, volume_capability=self.cap(mode, flags=flags),
            readonly=readonly, volume_context=volume.volume_context)

    def unpublish(self, volume_id, target):
        return self.call(self.node.NodeUnpublishVolume,
                         self.pb.NodeUnpublishVolumeRequest(volume_id=volume_id, target_path=target))

    def claim(self, ns, name):
        status, _, body = self.d.request('GET', '/api/v1/namespaces/%s/persistentvolumeclaims/%s' % (ns, name))
        return json.loads(body) if status == 200 else None

    def target(self, name):
        return os.path.join(self.targets, name)

    # -- identity --

    def test_identity(self):
        t, pb = self.t, self.pb
        info = self.call(self.identity.GetPluginInfo, pb.GetPluginInfoRequest())
        version = subprocess.run([os.environ['CLAIMFS_CSI'], '--version'], check=True,
                                 stdout=subprocess.PIPE, text=True).stdout.split()[-1]
        t.eq((info.name, info.vendor_version), ('claimfs.csi.claimfs.io', version),
             'GetPluginInfo: DNS-style name and the project version')
        caps = self.call(self.identity.GetPluginCapabilities, pb.GetPluginCapabilitiesRequest())
        services = {c.service.type for c in caps.capabilities if c.HasField('service')}
        expansion = {c.volume_expansion.type for c in caps.capabilities if c.HasField('volume_expansion')}
        t.eq((services, expansion),
             ({pb.PluginCapability.Service.CONTROLLER_SERVICE,
               pb.PluginCapability.Service.VOLUME_ACCESSIBILITY_CONSTRAINTS,
               pb.PluginCapability.Service.GROUP_CONTROLLER_SERVICE},
              {pb.PluginCapability.VolumeExpansion.ONLINE}),
             'GetPluginCapabilities: controller, topology, group controller, online expansion')
        probe = self.call(self.identity.Probe, pb.ProbeRequest())
        t.ok(probe.HasField('ready') and probe.ready.value, 'Probe: ready while claimfsd answers')

        ctl = self.call(self.ctl.ControllerGetCapabilities, pb.ControllerGetCapabilitiesRequest())
        rpcs = {c.rpc.type for c in ctl.capabilities}
        R = pb.ControllerServiceCapability.RPC
        t.eq(rpcs, {R.CREATE_DELETE_VOLUME, R.LIST_VOLUMES, R.GET_CAPACITY, R.CREATE_DELETE_SNAPSHOT,
                    R.LIST_SNAPSHOTS, R.CLONE_VOLUME, R.EXPAND_VOLUME, R.SINGLE_NODE_MULTI_WRITER,
                    R.PUBLISH_UNPUBLISH_VOLUME, R.PUBLISH_READONLY, R.LIST_VOLUMES_PUBLISHED_NODES,
                    R.MODIFY_VOLUME},
             'ControllerGetCapabilities lists what is implemented')
        node = self.call(self.node.NodeGetCapabilities, pb.NodeGetCapabilitiesRequest())
        N = pb.NodeServiceCapability.RPC
        t.eq({c.rpc.type for c in node.capabilities},
             {N.GET_VOLUME_STATS, N.SINGLE_NODE_MULTI_WRITER, N.EXPAND_VOLUME, N.STAGE_UNSTAGE_VOLUME},
             'NodeGetCapabilities: stats, single-node multi-writer, expansion, staging')
        info = self.call(self.node.NodeGetInfo, pb.NodeGetInfoRequest())
        t.eq((info.node_id, dict(info.accessible_topology.segments), info.max_volumes_per_node),
             (NODE, {TOPOLOGY_KEY: NODE}, 0), 'NodeGetInfo: node id, topology, no volume limit')

        for path in ('/csi.v1.Controller/ControllerGetVolume', '/csi.v1.Controller/NoSuchMethod'):
            raw = self.channel.unary_unary(path, request_serializer=lambda b: b,
                                           response_deserializer=lambda b: b)
            self.expect(self.grpc.StatusCode.UNIMPLEMENTED, lambda raw=raw: raw(b'', timeout=10),
                        '%s is UNIMPLEMENTED' % path)
        raw = self.channel.unary_unary('/csi.v1.Controller/CreateVolume', request_serializer=lambda b: b,
                                       response_deserializer=lambda b: b)
        self.expect(self.grpc.StatusCode.INVALID_ARGUMENT, lambda: raw(b'\x0a\xff\xff\xff', timeout=10),
                    'a malformed request message is INVALID_ARGUMENT')

    # -- controller: volumes --

    def test_create(self):
        t, pb, S = self.t, self.pb, self.grpc.StatusCode
        vol = self.create('pvc-11111111-0000-0000-0000-000000000001', required=MiB,
                          pvc=('default', 'data-app-0'))
        claim = self.claim('default', 'data-app-0')
        t.ok(claim is not None and claim['spec']['volumeName'] == vol.volume_id,
             'CreateVolume names the claim after the PVC (csi.storage.k8s.io/pvc/*)', claim)
        t.eq((vol.capacity_bytes, dict(vol.volume_context)),
             (MiB, {'claimfs.io/namespace': 'default', 'claimfs.io/claim': 'data-app-0'}),
             'CreateVolume reports the capacity and where the claim lives')
        t.eq([dict(x.segments) for x in vol.accessible_topology], [{TOPOLOGY_KEY: NODE}],
             'CreateVolume: accessible topology is this node')
        t.ok(os.path.isdir(self.d.claim_path('default', 'data-app-0')), 'the claim directory exists')
        again = self.create('pvc-11111111-0000-0000-0000-000000000001', required=MiB,
                            pvc=('default', 'data-app-0'))
        t.eq(again.volume_id, vol.volume_id, 'CreateVolume again with the same arguments: same volume')
        again = self.create('pvc-11111111-0000-0000-0000-000000000001', required=512 * 1024, limit=MiB,
                            pvc=('default', 'data-app-0'))
        t.eq(again.volume_id, vol.volume_id, 'same name, range that still holds the volume: same volume')
        self.expect(S.ALREADY_EXISTS, lambda: self.create('pvc-11111111-0000-0000-0000-000000000001',
                                                          required=2 * MiB, pvc=('default', 'data-app-0')),
                    'same name, incompatible capacity: ALREADY_EXISTS')
        self.expect(S.ALREADY_EXISTS, lambda: self.create('pvc-11111111-0000-0000-0000-000000000001',
                                                          modes=('MULTI_NODE_MULTI_WRITER',),
                                                          pvc=('default', 'data-app-0')),
                    'same name, other access mode: ALREADY_EXISTS')
        self.expect(S.ALREADY_EXISTS, lambda: self.create('pvc-22222222-0000-0000-0000-000000000002',
                                                          pvc=('default', 'data-app-0')),
                    'another CSI name for an existing claim: ALREADY_EXISTS')
        self.d.create_claim('default', 'by-hand')
        self.expect(S.ALREADY_EXISTS, lambda: self.create('pvc-by-hand', pvc=('default', 'by-hand')),
                    'a claim not made by the driver is not taken over: ALREADY_EXISTS')

        plain = self.create('Weird Volume_Name.1', required=0)
        claims = json.loads(self.d.request('GET', '/api/v1/namespaces/csi/persistentvolumeclaims')[2])
        names = [c['metadata']['name'] for c in claims['items'] if c['spec'].get('volumeName') == plain.volume_id]
        t.ok(len(names) == 1 and names[0].startswith('weird-volume-name-1-'),
             'without PVC metadata: namespace csi, DNS-1123 name derived from the CSI name', names)
        t.eq(plain.capacity_bytes, GiB, 'no capacity range: the 1Gi default')
        limited = self.create('limit-only', required=0, limit=2 * MiB)
        t.eq(limited.capacity_bytes, 2 * MiB, 'limit only: the limit (below the default)')

        for mode, k8s in (('MULTI_NODE_MULTI_WRITER', 'ReadWriteMany'),
                          ('SINGLE_NODE_SINGLE_WRITER', 'ReadWriteOncePod'),
                          ('MULTI_NODE_READER_ONLY', 'ReadOnlyMany'),
                          ('SINGLE_NODE_MULTI_WRITER', 'ReadWriteOnce')):
            name = 'mode-' + mode.lower().replace('_', '-')
            self.create(name, modes=(mode,), pvc=('modes', name))
            claim = self.claim('modes', name)
            t.eq(claim and claim['spec']['accessModes'], [k8s], 'access mode %s -> %s' % (mode, k8s))

        here = pb.TopologyRequirement(requisite=[pb.Topology(segments={TOPOLOGY_KEY: 'other'}),
                                                 pb.Topology(segments={TOPOLOGY_KEY: NODE})],
                                      preferred=[pb.Topology(segments={TOPOLOGY_KEY: NODE})])
        self.expect('OK', lambda: self.create('topo-here', topology=here),
                    'requisite topology that includes this node: OK')
        elsewhere = pb.TopologyRequirement(requisite=[pb.Topology(segments={TOPOLOGY_KEY: 'other'})])
        self.expect(S.RESOURCE_EXHAUSTED, lambda: self.create('topo-there', topology=elsewhere),
                    'requisite topology of another node: RESOURCE_EXHAUSTED')

        bad = [
            ('empty name', pb.CreateVolumeRequest(volume_capabilities=[self.cap()])),
            ('no capabilities', pb.CreateVolumeRequest(name='x')),
            ('block access', pb.CreateVolumeRequest(name='x', volume_capabilities=[self.cap(block=True)])),
            ('no access mode', pb.CreateVolumeRequest(name='x', volume_capabilities=[
                pb.VolumeCapability(mount=pb.VolumeCapability.MountVolume())])),
            ('no access type', pb.CreateVolumeRequest(name='x', volume_capabilities=[
                pb.VolumeCapability(access_mode=pb.VolumeCapability.AccessMode(mode=1))])),
            ('limit below required', self.create_req('x', required=2 * MiB, limit=MiB)),
            ('negative size', self.create_req('x', required=-1)),
            ('unknown parameter', self.create_req('x', params={'replicas': '3'})),
            ('an unsupported mount flag', pb.CreateVolumeRequest(name='x', volume_capabilities=[self.cap(flags=('sync',))])),
            ('PVC name without namespace', self.create_req('x', params={'csi.storage.k8s.io/pvc/name': 'a'})),
            ('invalid PVC name', self.create_req('x', pvc=('default', 'Not_Valid'))),
        ]
        for what, req in bad:
            self.expect(S.INVALID_ARGUMENT, lambda req=req: self.call(self.ctl.CreateVolume, req),
                        'CreateVolume with %s: INVALID_ARGUMENT' % what)
        src = pb.VolumeContentSource(volume=pb.VolumeContentSource.VolumeSource(volume_id='pvc-nope'))
        self.expect(S.NOT_FOUND, lambda: self.create('from-nothing', source=src),
                    'CreateVolume from a missing source volume: NOT_FOUND')
        src = pb.VolumeContentSource(snapshot=pb.VolumeContentSource.SnapshotSource(snapshot_id='default/nope'))
        self.expect(S.NOT_FOUND, lambda: self.create('from-no-snapshot', source=src),
                    'CreateVolume from a missing snapshot: NOT_FOUND')

        # Retries racing each other: claimfsd answers the losers 409, they re-read.
        results = []

        def racer():
            results.append(self.code_of(lambda: self.create('pvc-race', pvc=('race', 'data'))))
        threads = [threading.Thread(target=racer) for _ in range(6)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        ids = {r[1].volume_id for r in results if r[0] == 'OK'}
        t.ok(len(results) == 6 and all(r[0] == 'OK' for r in results) and len(ids) == 1,
             'six concurrent CreateVolume of one name: all OK, one volume', results)
        return vol

    def test_validate(self, vol):
        t, pb, S = self.t, self.pb, self.grpc.StatusCode

        def validate(caps, vid=None, ctx=None, params=None):
            return self.call(self.ctl.ValidateVolumeCapabilities, pb.ValidateVolumeCapabilitiesRequest(
                volume_id=vid if vid is not None else vol.volume_id, volume_capabilities=caps,
                volume_context=ctx if ctx is not None else vol.volume_context, parameters=params or {}))
        r = validate([self.cap('SINGLE_NODE_WRITER'), self.cap('SINGLE_NODE_MULTI_WRITER')])
        t.ok(r.HasField('confirmed') and len(r.confirmed.volume_capabilities) == 2
             and dict(r.confirmed.volume_context) == dict(vol.volume_context),
             'ValidateVolumeCapabilities confirms the modes the volume was made for', r)
        r = validate([self.cap('MULTI_NODE_MULTI_WRITER')])
        t.ok(not r.HasField('confirmed') and r.message, 'an RWO volume is not confirmed for multi-node writers', r)
        r = validate([self.cap(block=True)])
        t.ok(not r.HasField('confirmed') and 'block' in r.message, 'block access is not confirmed', r)
        r = validate([self.cap('SINGLE_NODE_WRITER', flags=('nosuid', 'noatime'))])
        t.ok(r.HasField('confirmed'), 'bind-mount flags nosuid,noatime are confirmed', r)
        r = validate([self.cap('SINGLE_NODE_WRITER', flags=('sync',))])
        t.ok(not r.HasField('confirmed') and 'flag' in r.message, 'an unsupported mount flag is not confirmed', r)
        r = validate([self.cap()], params={'fancy': 'yes'})
        t.ok(not r.HasField('confirmed'), 'unknown parameters are not confirmed', r)
        self.expect(S.NOT_FOUND, lambda: validate([self.cap()], vid='pvc-does-not-exist', ctx={}),
                    'ValidateVolumeCapabilities of a missing volume: NOT_FOUND')
        self.expect(S.INVALID_ARGUMENT, lambda: validate([self.cap()], vid=''),
                    'ValidateVolumeCapabilities without a volume id: INVALID_ARGUMENT')
        self.expect(S.INVALID_ARGUMENT, lambda: validate([]),
                    'ValidateVolumeCapabilities without capabilities: INVALID_ARGUMENT')
        self.expect(S.INVALID_ARGUMENT,
                    lambda: validate([self.cap()], ctx={'claimfs.io/namespace': 'default', 'claimfs.io/claim': 'other'}),
                    'a volume_context of another claim: INVALID_ARGUMENT')

    def test_list(self):
        t, pb, S = self.t, self.pb, self.grpc.StatusCode
        for i in range(5):
            self.create('list-%d' % i, pvc=('lists', 'claim-%d' % i))
        everything = self.call(self.ctl.ListVolumes, pb.ListVolumesRequest())
        all_ids = [e.volume.volume_id for e in everything.entries]
        t.ok(everything.next_token == '' and len(all_ids) == len(set(all_ids)) and
             all(e.volume.capacity_bytes > 0 and e.volume.accessible_topology for e in everything.entries),
             'ListVolumes without max_entries: everything, one page', len(all_ids))
        seen, token, sizes = [], '', []
        while True:
            page = self.call(self.ctl.ListVolumes, pb.ListVolumesRequest(max_entries=2, starting_token=token))
            sizes.append(len(page.entries))
            seen += [e.volume.volume_id for e in page.entries]
            token = page.next_token
            if not token or len(sizes) > 100:
                break
        t.ok(seen == all_ids and max(sizes) == 2 and len(sizes) == (len(all_ids) + 1) // 2,
             'paging with max_entries=2 returns every volume once, in order', (sizes, seen, all_ids))
        for token in ('invalid-token', '7', 'after:Not A Volume!'):
            self.expect(S.ABORTED, lambda token=token: self.call(
                self.ctl.ListVolumes, pb.ListVolumesRequest(starting_token=token)),
                'ListVolumes with starting_token %r: ABORTED' % token)
        self.expect(S.INVALID_ARGUMENT, lambda: self.call(self.ctl.ListVolumes, pb.ListVolumesRequest(max_entries=-1)),
                    'ListVolumes with negative max_entries: INVALID_ARGUMENT')

    def test_capacity(self):
        t, pb, S = self.t, self.pb, self.grpc.StatusCode
        r = self.call(self.ctl.GetCapacity, pb.GetCapacityRequest(volume_capabilities=[self.cap()]))
        st = os.statvfs(self.d.mount)
        t.ok(r.available_capacity > 0 and abs(r.available_capacity - st.f_bavail * st.f_frsize) < 64 * MiB
             and r.maximum_volume_size.value == r.available_capacity,
             'GetCapacity: the store\'s free space', (r, st.f_bavail * st.f_frsize))
        r = self.call(self.ctl.GetCapacity, pb.GetCapacityRequest(
            accessible_topology=pb.Topology(segments={TOPOLOGY_KEY: 'other'})))
        t.eq(r.available_capacity, 0, 'GetCapacity for another node: 0')
        r = self.call(self.ctl.GetCapacity, pb.GetCapacityRequest(volume_capabilities=[self.cap(block=True)]))
        t.eq(r.available_capacity, 0, 'GetCapacity for block volumes: 0')
        self.expect(S.INVALID_ARGUMENT, lambda: self.call(self.ctl.GetCapacity, pb.GetCapacityRequest(
            parameters={'tier': 'gold'})), 'GetCapacity with an unknown parameter: INVALID_ARGUMENT')

    def test_expand(self):
        t, pb, S = self.t, self.pb, self.grpc.StatusCode
        vol = self.create('grow-me', required=MiB, pvc=('grow', 'data'))

        def expand(required, limit=0, vid=None, block=False):
            req = pb.ControllerExpandVolumeRequest(volume_id=vol.volume_id if vid is None else vid)
            if required is not None:
                req.capacity_range.required_bytes = required
                req.capacity_range.limit_bytes = limit
            if block:
                req.volume_capability.CopyFrom(self.cap(block=True))
            return self.call(self.ctl.ControllerExpandVolume, req)
        r = expand(512 * 1024)
        t.eq((r.capacity_bytes, r.node_expansion_required), (MiB, False),
             'ControllerExpandVolume to less than the size: OK, size unchanged')

        def grow():
            r = expand(4 * MiB)
            must((r.capacity_bytes, r.node_expansion_required) == (4 * MiB, False), r)
            st = os.statvfs(self.d.claim_path('grow', 'data'))
            must(st.f_blocks * st.f_frsize == 4 * MiB, st)
            r = expand(4 * MiB)
            must(r.capacity_bytes == 4 * MiB, r)
        t.run(grow, 'ControllerExpandVolume grows the claim online; statfs shows it; repeat is OK')
        self.expect(S.INVALID_ARGUMENT, lambda: expand(MiB, vid=''), 'ControllerExpandVolume without id: INVALID_ARGUMENT')
        self.expect(S.INVALID_ARGUMENT, lambda: expand(None), 'ControllerExpandVolume without range: INVALID_ARGUMENT')
        self.expect(S.INVALID_ARGUMENT, lambda: expand(2 * MiB, MiB), 'ControllerExpandVolume limit < required: INVALID_ARGUMENT')
        self.expect(S.INVALID_ARGUMENT, lambda: expand(2 * MiB, block=True), 'ControllerExpandVolume for block: INVALID_ARGUMENT')
        self.expect(S.NOT_FOUND, lambda: expand(2 * MiB, vid='pvc-gone'), 'ControllerExpandVolume of a missing volume: NOT_FOUND')

    # -- snapshots and clones --

    def test_snapshots(self):
        t, pb, S = self.t, self.pb, self.grpc.StatusCode
        vol = self.create('snap-src', required=MiB, pvc=('snaps', 'source'))
        path = self.d.claim_path('snaps', 'source')
        with open(os.path.join(path, 'visits.txt'), 'w') as f:
            f.write('41\n')
            f.flush()
            os.fsync(f.fileno())

        def snap_req(name='snapshot-1', source=None):
            return pb.CreateSnapshotRequest(name=name, source_volume_id=vol.volume_id if source is None else source)
        self.expect(S.INVALID_ARGUMENT, lambda: self.call(self.ctl.CreateSnapshot, snap_req(name='')),
                    'CreateSnapshot without a name: INVALID_ARGUMENT')
        self.expect(S.INVALID_ARGUMENT, lambda: self.call(self.ctl.CreateSnapshot, snap_req(source='')),
                    'CreateSnapshot without a source: INVALID_ARGUMENT')
        self.expect(S.NOT_FOUND, lambda: self.call(self.ctl.CreateSnapshot, snap_req(source='pvc-missing')),
                    'CreateSnapshot of a missing volume: NOT_FOUND')
        self.expect(S.INVALID_ARGUMENT, lambda: self.call(self.ctl.CreateSnapshot, pb.CreateSnapshotRequest(
            name='s', source_volume_id=vol.volume_id, parameters={'zone': 'a'})),
            'CreateSnapshot with an unknown parameter: INVALID_ARGUMENT')
        self.expect(S.INVALID_ARGUMENT, lambda: self.call(self.ctl.DeleteSnapshot, pb.DeleteSnapshotRequest()),
                    'DeleteSnapshot without an id: INVALID_ARGUMENT')
        self.expect('OK', lambda: self.call(self.ctl.DeleteSnapshot, pb.DeleteSnapshotRequest(snapshot_id='snaps/never')),
                    'DeleteSnapshot of a missing snapshot: OK')
        self.expect('OK', lambda: self.call(self.ctl.DeleteSnapshot, pb.DeleteSnapshotRequest(snapshot_id='garbage')),
                    'DeleteSnapshot of an id we never issued: OK')
        for token in ('invalid-token', '12'):
            self.expect(S.ABORTED, lambda token=token: self.call(self.ctl.ListSnapshots, pb.ListSnapshotsRequest(
                starting_token=token)), 'ListSnapshots with starting_token %r: ABORTED' % token)
        r = self.call(self.ctl.ListSnapshots, pb.ListSnapshotsRequest(source_volume_id='pvc-none-exist'))
        t.eq(len(r.entries), 0, 'ListSnapshots of a missing source volume: empty')
        r = self.call(self.ctl.ListSnapshots, pb.ListSnapshotsRequest(snapshot_id='snaps/none'))
        t.eq(len(r.entries), 0, 'ListSnapshots of a missing snapshot id: empty')

        def create_snapshot():
            s = self.call(self.ctl.CreateSnapshot, snap_req()).snapshot
            must(s.snapshot_id == 'snaps/snapshot-1' and s.source_volume_id == vol.volume_id, s)
            must(s.ready_to_use and s.size_bytes == MiB and s.creation_time.seconds > 0, s)
            again = self.call(self.ctl.CreateSnapshot, snap_req()).snapshot
            must(again.snapshot_id == s.snapshot_id, again)
            status, _, body = self.d.request('GET', SNAP_API + '/namespaces/snaps/volumesnapshots/snapshot-1')
            must(status == 200, (status, body))
        t.run(create_snapshot, 'CreateSnapshot: ready at once, size, source; repeated: same snapshot')
        with open(os.path.join(path, 'visits.txt'), 'w') as f:
            f.write('42\n')     # after the snapshot: must not show in the restore
        other = self.create('snap-other', pvc=('snaps', 'other'))
        self.expect(S.ALREADY_EXISTS, lambda: self.call(self.ctl.CreateSnapshot, snap_req(source=other.volume_id)),
                    'CreateSnapshot with the name of another source: ALREADY_EXISTS')

        def listing():
            self.call(self.ctl.CreateSnapshot, snap_req(name='snapshot-2'))
            ids = [e.snapshot.snapshot_id for e in self.call(self.ctl.ListSnapshots, pb.ListSnapshotsRequest()).entries]
            must('snaps/snapshot-1' in ids and 'snaps/snapshot-2' in ids, ids)
            one = self.call(self.ctl.ListSnapshots, pb.ListSnapshotsRequest(snapshot_id='snaps/snapshot-1')).entries
            must([e.snapshot.snapshot_id for e in one] == ['snaps/snapshot-1'], one)
            mine = self.call(self.ctl.ListSnapshots, pb.ListSnapshotsRequest(source_volume_id=vol.volume_id)).entries
            must(sorted(e.snapshot.snapshot_id for e in mine) == ['snaps/snapshot-1', 'snaps/snapshot-2'], mine)
            page = self.call(self.ctl.ListSnapshots, pb.ListSnapshotsRequest(max_entries=1))
            seen = [e.snapshot.snapshot_id for e in page.entries]
            while page.next_token:
                page = self.call(self.ctl.ListSnapshots, pb.ListSnapshotsRequest(max_entries=1, starting_token=page.next_token))
                seen += [e.snapshot.snapshot_id for e in page.entries]
            must(seen == ids, (seen, ids))
        t.run(listing, 'ListSnapshots finds it (all, by id, by source, paged)')
        source = pb.VolumeContentSource(snapshot=pb.VolumeContentSource.SnapshotSource(snapshot_id='snaps/snapshot-1'))

        def restore():
            restored = self.create('restored', required=0, pvc=('snaps', 'restored'), source=source)
            must(restored.capacity_bytes == MiB and restored.content_source.snapshot.snapshot_id == 'snaps/snapshot-1', restored)
            with open(os.path.join(self.d.claim_path('snaps', 'restored'), 'visits.txt')) as f:
                got = f.read()
            must(got == '41\n', 'restored visits.txt: %r' % got)
            again = self.create('restored', required=0, pvc=('snaps', 'restored'), source=source)
            must(again.volume_id == restored.volume_id, again)
        t.run(restore, 'CreateVolume from the snapshot restores its point in time')
        self.expect(S.OUT_OF_RANGE, lambda: self.create('too-small', required=MiB // 2, pvc=('snaps', 'small'),
                                                        source=source),
                    'CreateVolume from a snapshot, smaller than it: OUT_OF_RANGE')

        def delete():
            self.call(self.ctl.DeleteSnapshot, pb.DeleteSnapshotRequest(snapshot_id='snaps/snapshot-1'))
            ids = [e.snapshot.snapshot_id for e in self.call(self.ctl.ListSnapshots, pb.ListSnapshotsRequest()).entries]
            must('snaps/snapshot-1' not in ids, ids)
            self.call(self.ctl.DeleteSnapshot, pb.DeleteSnapshotRequest(snapshot_id='snaps/snapshot-1'))
        t.run(delete, 'DeleteSnapshot removes it; again: OK')

        clone_src = pb.VolumeContentSource(volume=pb.VolumeContentSource.VolumeSource(volume_id=vol.volume_id))

        def clone():
            with open(os.path.join(path, 'visits.txt'), 'w') as f:
                f.write('7\n')
            copy = self.create('clone-1', required=2 * MiB, pvc=('snaps', 'clone'), source=clone_src)
            must(copy.capacity_bytes == 2 * MiB and copy.content_source.volume.volume_id == vol.volume_id, copy)
            with open(os.path.join(self.d.claim_path('snaps', 'clone'), 'visits.txt')) as f:
                got = f.read()
            must(got == '7\n', 'cloned visits.txt: %r' % got)
        t.run(clone, 'CreateVolume from a volume clones its data (larger than the source is fine)')
        self.expect(S.OUT_OF_RANGE, lambda: self.create('clone-small', required=MiB // 2, pvc=('snaps', 'clone-small'),
                                                        source=clone_src),
                    'a clone smaller than its source: OUT_OF_RANGE')
        self.expect(S.INVALID_ARGUMENT, lambda: self.create('clone-elsewhere', pvc=('elsewhere', 'clone'), source=clone_src),
                    'a clone into another namespace: INVALID_ARGUMENT')

    # -- node --

    def test_node(self):
        t, pb, S = self.t, self.pb, self.grpc.StatusCode
        vol = self.create('node-vol', required=4 * MiB, pvc=('nodes', 'web-0'), modes=('SINGLE_NODE_MULTI_WRITER',))
        a, b = self.target('a'), self.target('b')
        self.expect('OK', lambda: self.call(self.node.NodePublishVolume, self.publish_req(vol, a)),
                    'NodePublishVolume bind-mounts the claim at target_path')
        t.ok(is_mounted(a), 'target_path is a mount point')
        with open(os.path.join(a, 'visits.txt'), 'w') as f:
            f.write('1\n')
        with open(os.path.join(self.d.claim_path('nodes', 'web-0'), 'visits.txt')) as f:
            t.eq(f.read(), '1\n', 'a write through target_path lands in the claim')
        self.expect('OK', lambda: self.call(self.node.NodePublishVolume, self.publish_req(vol, a)),
                    'NodePublishVolume again, same arguments: OK (idempotent)')
        self.expect(S.ALREADY_EXISTS, lambda: self.call(self.node.NodePublishVolume, self.publish_req(vol, a, readonly=True)),
                    'same target, read-only this time: ALREADY_EXISTS')
        self.expect('OK', lambda: self.call(self.node.NodePublishVolume, self.publish_req(vol, b)),
                    'a SINGLE_NODE_MULTI_WRITER volume at a second target: OK')
        with open(os.path.join(b, 'visits.txt')) as f:
            t.eq(f.read(), '1\n', 'both targets show the same claim')
        self.expect(S.FAILED_PRECONDITION, lambda: self.call(self.ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id=vol.volume_id)),
                    'DeleteVolume while published here: FAILED_PRECONDITION')

        def stats(vid=vol.volume_id, path=a):
            return self.call(self.node.NodeGetVolumeStats, pb.NodeGetVolumeStatsRequest(volume_id=vid, volume_path=path))
        with open(os.path.join(a, 'blob'), 'wb') as f:
            f.write(os.urandom(256 * 1024))
            f.flush()
            os.fsync(f.fileno())
        r = stats()
        usage = {u.unit: u for u in r.usage}
        B, I = pb.VolumeUsage.BYTES, pb.VolumeUsage.INODES
        t.ok(usage[B].total == 4 * MiB and usage[B].used >= 256 * 1024 and
             usage[B].available <= usage[B].total - usage[B].used + 64 * 1024 and
             usage[I].total > 0 and usage[I].used >= 3,
             'NodeGetVolumeStats: bytes and inodes of the claim (its quota, not the store)', r)
        self.expect(S.NOT_FOUND, lambda: stats(path=self.targets), 'NodeGetVolumeStats at a path without the volume: NOT_FOUND')
        self.expect(S.NOT_FOUND, lambda: stats(vid='pvc-nothing'), 'NodeGetVolumeStats of a missing volume: NOT_FOUND')
        self.expect(S.INVALID_ARGUMENT, lambda: stats(path=''), 'NodeGetVolumeStats without a path: INVALID_ARGUMENT')
        self.expect(S.INVALID_ARGUMENT, lambda: stats(vid=''), 'NodeGetVolumeStats without a volume id: INVALID_ARGUMENT')

        def node_expand(required, vid=vol.volume_id, path=a):
            req = pb.NodeExpandVolumeRequest(volume_id=vid, volume_path=path)
            req.capacity_range.required_bytes = required
            return self.call(self.node.NodeExpandVolume, req)
        t.eq(node_expand(4 * MiB).capacity_bytes, 4 * MiB, 'NodeExpandVolume: nothing to do, reports the size')
        self.expect(S.OUT_OF_RANGE, lambda: node_expand(8 * MiB), 'NodeExpandVolume beyond the claim: OUT_OF_RANGE')
        self.expect(S.NOT_FOUND, lambda: node_expand(MiB, vid='pvc-nothing'), 'NodeExpandVolume of a missing volume: NOT_FOUND')
        self.expect(S.NOT_FOUND, lambda: node_expand(MiB, path=self.targets), 'NodeExpandVolume at the wrong path: NOT_FOUND')

        rwop = self.create('node-rwop', pvc=('nodes', 'single'), modes=('SINGLE_NODE_SINGLE_WRITER',))
        self.expect('OK', lambda: self.call(self.node.NodePublishVolume, self.publish_req(rwop, self.target('c'), mode='SINGLE_NODE_SINGLE_WRITER')),
                    'a SINGLE_NODE_SINGLE_WRITER volume at its first target: OK')
        self.expect(S.FAILED_PRECONDITION, lambda: self.call(self.node.NodePublishVolume, self.publish_req(rwop, self.target('d'), mode='SINGLE_NODE_SINGLE_WRITER')),
                    'a SINGLE_NODE_SINGLE_WRITER volume at a second target: FAILED_PRECONDITION')
        self.expect(S.ALREADY_EXISTS, lambda: self.call(self.node.NodePublishVolume, self.publish_req(vol, self.target('c'))),
                    'another volume onto a target in use: ALREADY_EXISTS')
        t.ok(not os.path.exists(self.target('d')), 'a refused publish leaves no target behind')

        ro = self.target('ro')
        self.expect('OK', lambda: self.call(self.node.NodePublishVolume, self.publish_req(vol, ro, readonly=True, flags=('noexec',))),
                    'NodePublishVolume read-only with mount flag noexec: OK')
        t.errno(lambda: open(os.path.join(ro, 'new'), 'w'), errno.EROFS, 'a read-only publication refuses writes (EROFS)')
        with open(os.path.join(ro, 'visits.txt')) as f:
            t.eq(f.read(), '1\n', 'a read-only publication reads the claim')

        bad = [
            ('no volume id', pb.NodePublishVolumeRequest(target_path=self.target('x'), volume_capability=self.cap())),
            ('no target path', pb.NodePublishVolumeRequest(volume_id=vol.volume_id, volume_capability=self.cap())),
            ('a relative target path', pb.NodePublishVolumeRequest(volume_id=vol.volume_id, target_path='rel/x', volume_capability=self.cap())),
            ('no capability', pb.NodePublishVolumeRequest(volume_id=vol.volume_id, target_path=self.target('x'))),
            ('block access', pb.NodePublishVolumeRequest(volume_id=vol.volume_id, target_path=self.target('x'), volume_capability=self.cap(block=True))),
            ('an unknown mount flag', self.publish_req(vol, self.target('x'), flags=('sync',))),
        ]
        for what, req in bad:
            self.expect(S.INVALID_ARGUMENT, lambda req=req: self.call(self.node.NodePublishVolume, req),
                        'NodePublishVolume with %s: INVALID_ARGUMENT' % what)
        missing = pb.NodePublishVolumeRequest(volume_id='pvc-not-there', target_path=self.target('x'), volume_capability=self.cap())
        self.expect(S.NOT_FOUND, lambda: self.call(self.node.NodePublishVolume, missing),
                    'NodePublishVolume of a missing volume: NOT_FOUND')

        # The record survives a restart of the driver: idempotency still knows the arguments.
        rc = self.drv.stop()
        t.ok(rc == 0 and not os.path.exists(self.drv.socket), 'SIGTERM: the driver exits 0 and removes its socket', rc)
        self.drv.start()
        self.connect()
        self.expect('OK', lambda: self.call(self.node.NodePublishVolume, self.publish_req(vol, a)),
                    'after a driver restart: same publication again is OK')
        self.expect(S.ALREADY_EXISTS, lambda: self.call(self.node.NodePublishVolume, self.publish_req(vol, a, mode='MULTI_NODE_MULTI_WRITER')),
                    'after a driver restart: other arguments are still ALREADY_EXISTS')

        for target, v in ((a, vol), (b, vol), (ro, vol), (self.target('c'), rwop)):
            self.expect('OK', lambda target=target, v=v: self.unpublish(v.volume_id, target),
                        'NodeUnpublishVolume %s: OK' % os.path.basename(target))
        t.ok(not any(is_mounted(p) for p in (a, b, ro)) and not os.path.exists(a),
             'unpublished targets are unmounted and removed')
        self.expect('OK', lambda: self.unpublish(vol.volume_id, a), 'NodeUnpublishVolume again: OK (idempotent)')
        self.expect(S.NOT_FOUND, lambda: self.unpublish('pvc-never-was', self.target('never')),
                    'NodeUnpublishVolume of a missing volume: NOT_FOUND')
        self.expect(S.INVALID_ARGUMENT, lambda: self.unpublish('', a), 'NodeUnpublishVolume without a volume id: INVALID_ARGUMENT')
        self.expect(S.INVALID_ARGUMENT, lambda: self.unpublish(vol.volume_id, ''), 'NodeUnpublishVolume without a target: INVALID_ARGUMENT')
        return vol

    def test_delete(self, vol):
        t, pb, S = self.t, self.pb, self.grpc.StatusCode
        self.expect('OK', lambda: self.call(self.ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id=vol.volume_id)),
                    'DeleteVolume: OK')
        t.ok(self.claim('nodes', 'web-0') is None and not os.path.exists(self.d.claim_path('nodes', 'web-0')),
             'the claim and its directory are gone')
        self.expect('OK', lambda: self.call(self.ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id=vol.volume_id)),
                    'DeleteVolume again: OK (idempotent)')
        self.expect('OK', lambda: self.call(self.ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id='no such/volume')),
                    'DeleteVolume of an id we never issued: OK')
        self.expect(S.INVALID_ARGUMENT, lambda: self.call(self.ctl.DeleteVolume, pb.DeleteVolumeRequest()),
                    'DeleteVolume without an id: INVALID_ARGUMENT')
        ids = [e.volume.volume_id for e in self.call(self.ctl.ListVolumes, pb.ListVolumesRequest()).entries]
        t.ok(vol.volume_id not in ids, 'a deleted volume is not listed')

    # -- the crash story --

    def test_crash_story(self):
        t, pb, S = self.t, self.pb, self.grpc.StatusCode
        vol = self.create('pvc-story', required=MiB, pvc=('default', 'data-app-python-0'))
        target = self.target('story')
        healing = self.create('pvc-heal', required=MiB, pvc=('default', 'heal'))
        heal_target = self.target('heal')
        self.call(self.node.NodePublishVolume, self.publish_req(vol, target, mode='SINGLE_NODE_WRITER'))
        self.call(self.node.NodePublishVolume, self.publish_req(healing, heal_target))
        with open(os.path.join(target, 'visits.txt'), 'w') as f:
            f.write('visits: 1234\n')
            f.flush()
            os.fsync(f.fileno())
        with open(os.path.join(heal_target, 'note'), 'w') as f:
            f.write('still here\n')
        self.d.kill()
        t.errno(lambda: os.listdir(target), errno.ENOTCONN, 'after SIGKILL of claimfsd the bind mount is dead')
        self.expect(S.FAILED_PRECONDITION, lambda: self.call(self.identity.Probe, pb.ProbeRequest()),
                    'Probe while claimfsd is down: FAILED_PRECONDITION')
        self.expect(S.UNAVAILABLE, lambda: self.create('while-down'),
                    'CreateVolume while claimfsd is down: UNAVAILABLE')
        self.d.start()
        probe = self.call(self.identity.Probe, pb.ProbeRequest())
        t.ok(probe.ready.value, 'Probe after claimfsd restarted: ready')
        self.expect('OK', lambda: self.unpublish(vol.volume_id, target),
                    'NodeUnpublishVolume of the dead mount (as kubelet does): OK')
        t.ok(not is_mounted(target), 'the dead mount is gone')
        self.expect('OK', lambda: self.call(self.node.NodePublishVolume, self.publish_req(vol, target, mode='SINGLE_NODE_WRITER')),
                    'NodePublishVolume again after the restart: OK')
        with open(os.path.join(target, 'visits.txt')) as f:
            t.eq(f.read(), 'visits: 1234\n', 'the data written before SIGKILL is intact through target_path')
        with open(os.path.join(target, 'visits.txt'), 'a') as f:
            f.write('visits: 1235\n')
        with open(os.path.join(self.d.claim_path('default', 'data-app-python-0'), 'visits.txt')) as f:
            t.eq(f.read(), 'visits: 1234\nvisits: 1235\n', 'and the new publication writes into the claim')
        self.expect('OK', lambda: self.call(self.node.NodePublishVolume, self.publish_req(healing, heal_target)),
                    'NodePublishVolume on a mount that died with claimfsd mounts it again')
        with open(os.path.join(heal_target, 'note')) as f:
            t.eq(f.read(), 'still here\n', 'the remounted target shows the claim (closed file survived SIGKILL)')
        for v, tg in ((vol, target), (healing, heal_target)):
            self.unpublish(v.volume_id, tg)
            self.call(self.ctl.DeleteVolume, pb.DeleteVolumeRequest(volume_id=v.volume_id))

    # -- command line and API authentication --

    def test_command_line(self):
        t = self.t
        binary = os.environ['CLAIMFS_CSI']
        helped = subprocess.run([binary, '--help'], stdout=subprocess.PIPE, text=True, check=False)
        options = ('--endpoint', '--node-id', '--api', '--token-file', '--mount', '--state-dir',
                   '--default-capacity', '--max-volumes-per-node', '--workers', '--log-level', '--help', '--version',
                   '--peer-nodes')
        t.ok(helped.returncode == 0 and all(o in helped.stdout for o in options),
             '--help documents every option', helped.stdout)
        for argv, why in ((['--bogus'], 'an unknown option'),
                          (['--endpoint', 'tcp://127.0.0.1:1'], 'a non-unix endpoint'),
                          (['--endpoint', 'unix://' + self.workdir + '/x.sock', '--node-id', 'Not A Node!'],
                           'an invalid node id'),
                          (['--endpoint', 'unix://' + self.workdir + '/x.sock', '--api', 'ftp://x'], 'a bad API URL'),
                          (['--endpoint', 'unix://' + self.workdir + '/x.sock', '--peer-nodes', 'node-b,Bad Node!'],
                           'an invalid peer node id'),
                          (['--endpoint', 'unix://' + self.workdir + '/x.sock', '--token-file', '/nonexistent'],
                           'a missing token file')):
            done = subprocess.run([binary, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  check=False, timeout=10)
            t.ok(done.returncode == 2 and done.stderr.strip(), 'claimfs-csi refuses %s with a message (exit 2)' % why,
                 (done.returncode, done.stderr))

    def test_token(self):
        """claimfsd with --token-file: the driver needs the same token."""
        t, pb, S = self.t, self.pb, self.grpc.StatusCode
        helped = subprocess.run([self.d.binary, '--help'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, check=False)
        t.ok('--token-file' in helped.stdout, 'claimfsd --help documents --token-file', helped.stdout)
        token = os.path.join(self.workdir, 'token')
        with open(token, 'w', encoding='utf-8') as f:
            f.write('s3cret-token\n')
        self.d.stop()
        self.d.start(extra_args=('--token-file', token))
        self.expect(S.PERMISSION_DENIED, lambda: self.create('token-less'),
                    'without the API token claimfsd refuses the driver: PERMISSION_DENIED')
        self.drv.stop()
        self.drv.start(extra=('--token-file', token))
        self.connect()
        self.expect('OK', lambda: self.create('with-token', pvc=('auth', 'data')),
                    'with --token-file the driver provisions again')

    def cleanup_mounts(self):
        for point in mounts_under(self.targets):
            force_unmount(point)


def run_suite(test_class, run_cases, prefix):
    """Start claimfsd and the driver, run run_cases(test) with a test_class
    instance, stop and remove everything. Shared by test_csi_spec.py."""
    t = Tap()
    # scripts/install-deps.sh installs both modules and meson builds the
    # driver: without one of them the run fails instead of passing unseen.
    try:
        import grpc
    except ImportError:
        t.bail('python3-grpcio is not installed (scripts/install-deps.sh installs it)')
    try:
        import grpc_tools  # noqa: F401
    except ImportError:
        t.bail('python3-grpc-tools is not installed (scripts/install-deps.sh installs it)')
    if not os.environ.get('CLAIMFS_CSI') or not os.access(os.environ['CLAIMFS_CSI'], os.X_OK):
        t.bail('CLAIMFS_CSI not set to the driver binary')
    proto = os.environ.get('CLAIMFS_CSI_PROTO',
                           os.path.join(os.path.dirname(__file__), '..', '..', 'csi-shim', 'csi.proto'))
    workdir = tempfile.mkdtemp(prefix=prefix)
    os.chmod(workdir, 0o755)
    test = None
    try:
        pb, rpc = compile_proto(proto, os.path.join(workdir, 'proto'))
        test = test_class(t, pb, rpc, grpc, workdir)
        test.d.start()
        test.drv.start()
        test.connect()
        run_cases(test)
    except Exception:  # pylint: disable=broad-except
        import traceback
        t.ok(False, 'the test ran to completion', traceback.format_exc())
        if test is not None:
            t.diag('driver log:\n' + test.drv.log_tail())
            t.diag('daemon log:\n' + test.d.log_tail())
    finally:
        if test is not None:
            if test.channel is not None:
                test.channel.close()
            test.cleanup_mounts()
            test.drv.stop()
            test.d.stop()
            with open(test.drv.log_path, 'rb') as f:
                driver_reports = [line for line in f.read().decode('utf-8', 'replace').splitlines()
                                  if 'runtime error:' in line or 'Sanitizer' in line]
            t.ok(not driver_reports and not test.d.sanitizer_reports(),
                 'no sanitizer reports in the driver and daemon logs', (driver_reports, test.d.sanitizer_reports()))
        for point in mounts_under(workdir):
            force_unmount(point)
        shutil.rmtree(workdir, ignore_errors=True)
    t.done()


def run_all(test):
    test.test_identity()
    vol = test.test_create()
    test.test_validate(vol)
    test.test_list()
    test.test_capacity()
    test.test_expand()
    test.test_snapshots()
    test.test_delete(test.test_node())
    test.test_crash_story()
    test.test_command_line()
    test.test_token()


if __name__ == '__main__':
    run_suite(CsiTest, run_all, 'claimfs-csi-test.')
