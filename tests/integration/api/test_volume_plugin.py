#!/usr/bin/env python3
"""test_volume_plugin.py - the Docker/Podman volume plugin protocol (README
"Local containers") over a live daemon's plugin socket, spoken as the
engines speak it (POST, JSON bodies, no body for Activate and List):

  - every endpoint: Activate, Capabilities, Create, List, Get, Path, Mount,
    Unmount, Remove, and that a volume is a claim through both doors;
  - Create's options: size, storageClass (and its defaultVolumeSize),
    accessMode, uid/gid/mode of the root, clone; unknown and bad options;
  - the mount table: a container mounting twice, two containers on a
    ReadWriteOnce volume, a second container refused on ReadWriteOncePod,
    Remove refused while mounted, Unmount of what is not mounted;
  - bad requests: bad JSON, wrong types, unknown endpoints and methods;
  - malicious names (path traversal, bad DNS names): the Kubernetes API's
    name message, nothing made in or outside the mount;
  - every Err carries the message the HTTP API gives for the same thing;
  - --volume-plugin-socket none and a bad --volume-namespace.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import Daemon, UnixHTTPConnection, run_daemon_checks  # noqa: E402
from tap import Tap  # noqa: E402

PVCS = '/api/v1/namespaces/default/persistentvolumeclaims'
PLUGIN_TYPE = 'application/vnd.docker.plugins.v1.2+json'


def plugin(d, endpoint, body=None, raw=None, method='POST'):
    """One protocol call: (HTTP status, decoded answer or the raw text)."""
    conn = UnixHTTPConnection(d.plugin_socket, timeout=30)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {'Content-Type': PLUGIN_TYPE} if data is not None else {}
    try:
        conn.request(method, endpoint, body=data, headers=headers)
        resp = conn.getresponse()
        text = resp.read().decode()
    finally:
        conn.close()
    try:
        return resp.status, json.loads(text)
    except ValueError:
        return resp.status, text


def api_message(d, method, path, body=None):
    """The Status message the Kubernetes API answers."""
    _, _, payload = d.request(method, path, body)
    return json.loads(payload).get('message')


def get_claim(d, name):
    status, _, body = d.request('GET', '%s/%s' % (PVCS, name))
    return json.loads(body) if status == 200 else None


def create(d, name, **opts):
    return plugin(d, '/VolumeDriver.Create', {'Name': name, 'Opts': opts})


def run_endpoints(t, d):
    """Activate, Capabilities, Create, List, Get, Path: a volume is a claim."""
    t.eq(plugin(d, '/Plugin.Activate'), (200, {'Implements': ['VolumeDriver']}),
         'Activate without a body says VolumeDriver')
    t.eq(plugin(d, '/VolumeDriver.Capabilities'), (200, {'Capabilities': {'Scope': 'local'}}),
         'Capabilities: scope local')
    t.eq(create(d, 'data-app-python-0', size='1Gi'), (200, {'Err': ''}),
         'Create data-app-python-0 with size=1Gi')
    claim = get_claim(d, 'data-app-python-0') or {}
    t.ok(claim.get('status', {}).get('phase') == 'Bound'
         and claim['status'].get('capacity', {}).get('storage') == '1Gi',
         'the volume is a Bound 1Gi claim in the HTTP API', json.dumps(claim.get('status')))
    d.create_claim('default', 'made-by-kubectl', storage='2Mi')
    status, answer = plugin(d, '/VolumeDriver.List')
    names = sorted(v.get('Name') for v in answer.get('Volumes', [])) if status == 200 else answer
    t.eq(names, ['data-app-python-0', 'made-by-kubectl'],
         'List shows the plugin volume and the claim made through the API')
    path = d.claim_path('default', 'data-app-python-0')
    status, answer = plugin(d, '/VolumeDriver.Get', {'Name': 'data-app-python-0'})
    vol = answer.get('Volume', {}) if status == 200 else {}
    t.ok(vol.get('Name') == 'data-app-python-0' and vol.get('Mountpoint') == path
         and vol.get('Status', {}).get('capacity') == '1Gi'
         and vol['Status'].get('mounts') == 0 and vol.get('CreatedAt'),
         'Get: name, the claim directory, capacity, no mounts', json.dumps(answer))
    t.eq(plugin(d, '/VolumeDriver.Path', {'Name': 'data-app-python-0'}),
         (200, {'Mountpoint': path, 'Err': ''}), 'Path is the claim directory')
    t.ok(os.path.isdir(path), 'the directory exists under the mount')


def run_mounts(t, d):
    """Mount and Unmount counts; RWO shares, RWOP refuses; Remove waits."""
    name = 'data-app-python-0'
    path = d.claim_path('default', name)
    mount = {'Name': name, 'ID': 'c1'}
    t.eq(plugin(d, '/VolumeDriver.Mount', mount), (200, {'Mountpoint': path, 'Err': ''}),
         'Mount answers the claim directory')
    with open(os.path.join(path, 'visits'), 'w', encoding='ascii') as f:
        f.write('1\n')
    t.eq(plugin(d, '/VolumeDriver.Mount', mount)[0], 200, 'the same container mounts it twice')
    t.eq(plugin(d, '/VolumeDriver.Mount', {'Name': name, 'ID': 'c2'})[0], 200,
         'a second container mounts a ReadWriteOnce volume (one node, as the kubelet allows)')
    status, answer = plugin(d, '/VolumeDriver.Get', {'Name': name})
    t.eq(answer.get('Volume', {}).get('Status', {}).get('mounts'), 2,
         'Get counts two containers')
    status, answer = plugin(d, '/VolumeDriver.Remove', {'Name': name})
    t.ok(status == 500 and 'in use' in answer.get('Err', '') and get_claim(d, name),
         'Remove of a mounted volume is refused and the claim stays', json.dumps(answer))
    for i in range(2):
        t.eq(plugin(d, '/VolumeDriver.Unmount', mount), (200, {'Err': ''}),
             'Unmount c1 (%d of 2)' % (i + 1))
    t.eq(plugin(d, '/VolumeDriver.Unmount', mount), (200, {'Err': ''}),
         'a third Unmount of c1 succeeds: it is let go already (as CSI NodeUnpublish)')
    status, answer = plugin(d, '/VolumeDriver.Get', {'Name': name})
    t.eq(answer.get('Volume', {}).get('Status', {}).get('mounts'), 1,
         'and leaves the other container\'s mount counted')
    t.eq(plugin(d, '/VolumeDriver.Unmount', {'Name': name, 'ID': 'c2'})[0], 200, 'Unmount c2')

    t.eq(create(d, 'solo', size='1Mi', accessMode='RWOP')[0], 200,
         'Create with accessMode=RWOP')
    t.eq((get_claim(d, 'solo') or {}).get('spec', {}).get('accessModes'), ['ReadWriteOncePod'],
         'RWOP is the claim access mode ReadWriteOncePod')
    t.eq(plugin(d, '/VolumeDriver.Mount', {'Name': 'solo', 'ID': 'c1'})[0], 200,
         'the first container mounts the RWOP volume')
    status, answer = plugin(d, '/VolumeDriver.Mount', {'Name': 'solo', 'ID': 'c2'})
    t.ok(status == 500 and 'ReadWriteOncePod' in answer.get('Err', ''),
         'a second container is refused on a ReadWriteOncePod volume', json.dumps(answer))
    plugin(d, '/VolumeDriver.Unmount', {'Name': 'solo', 'ID': 'c1'})
    t.eq(plugin(d, '/VolumeDriver.Mount', {'Name': 'solo', 'ID': 'c2'})[0], 200,
         'once the first let go, the second container mounts it')
    # Deleted and made again through the API: the old claim's mounts are stale.
    d.delete_claim('default', 'solo')
    d.create_claim('default', 'solo', storage='1Mi', access_modes=('ReadWriteOncePod',))
    t.eq(plugin(d, '/VolumeDriver.Mount', {'Name': 'solo', 'ID': 'c3'})[0], 200,
         'a claim made again under the same name is not held by the old one\'s mounts')

    t.eq(plugin(d, '/VolumeDriver.Remove', {'Name': name}), (200, {'Err': ''}),
         'Remove once nothing has it mounted')
    t.ok(get_claim(d, name) is None and not os.path.exists(path),
         'Remove deleted the claim and (reclaim policy Delete) its data')
    status, answer = plugin(d, '/VolumeDriver.Mount', {'Name': name})
    t.ok(status == 400 and 'ID' in answer.get('Err', ''), 'Mount without ID is refused',
         json.dumps(answer))


def run_options(t, d):
    """size, storageClass + defaultVolumeSize, uid/gid/mode, clone; bad ones."""
    t.eq(create(d, 'owned', size='1Mi', uid='1000', gid='1001', mode='0750')[0], 200,
         'Create with uid=1000 gid=1001 mode=0750')
    st = os.stat(d.claim_path('default', 'owned'))
    t.eq((st.st_uid, st.st_gid, st.st_mode & 0o7777), (1000, 1001, 0o750),
         'the volume root has that owner and mode')
    # The local driver's o=KEY=VALUE,... list (podman kube play's mount-options
    # annotation) and its UID/GID keys.
    t.eq(create(d, 'listed', o='size=2Mi,mode=0700', UID='1002')[0], 200,
         'Create with o=size=2Mi,mode=0700 and UID=1002')
    st = os.stat(d.claim_path('default', 'listed'))
    t.ok((get_claim(d, 'listed') or {}).get('status', {}).get('capacity', {}).get('storage')
         == '2Mi' and st.st_uid == 1002 and st.st_mode & 0o7777 == 0o700,
         'the o= list and UID apply', oct(st.st_mode))
    for opts, words in (({'size': '1Mi', 'uid': '-1'}, 'option uid'),
                        ({'o': 'size'}, 'not KEY=VALUE'),
                        ({'o': 'size=1Mi,colour=red'}, "unknown option 'colour'"),
                        ({'size': '1Mi', 'mode': '999'}, 'option mode'),
                        ({'size': '1Mi', 'color': 'red'}, "unknown option 'color'"),
                        ({}, 'no size given')):
        status, answer = create(d, 'refused', **opts)
        t.ok(status == 422 and words in answer.get('Err', '') and get_claim(d, 'refused') is None,
             'Create %s is refused (%s) and makes nothing' % (json.dumps(opts), words),
             json.dumps(answer))
    # A bad quantity: the model's own message, as the HTTP API gives it.
    status, answer = create(d, 'lots', size='lots')
    expected = api_message(d, 'POST', PVCS, Daemon.claim_body('lots', storage='lots'))
    t.ok(status == 422 and answer.get('Err') == expected,
         'a bad size gets the HTTP API\'s message', '%s vs %s' % (answer, expected))
    d.request('POST', '/apis/storage.k8s.io/v1/storageclasses', {
        'apiVersion': 'storage.k8s.io/v1', 'kind': 'StorageClass',
        'metadata': {'name': 'small'}, 'provisioner': 'claimfs.csi.claimfs.io',
        'reclaimPolicy': 'Retain', 'parameters': {'defaultVolumeSize': '3Mi'}})
    t.eq(create(d, 'sized-by-class', storageClass='small')[0], 200,
         'Create with storageClass and no size')
    claim = get_claim(d, 'sized-by-class') or {}
    t.eq(claim.get('spec', {}).get('resources', {}).get('requests', {}).get('storage'), '3Mi',
         'the size comes from the class\'s defaultVolumeSize')
    volume_name = claim.get('spec', {}).get('volumeName')
    t.eq(plugin(d, '/VolumeDriver.Remove', {'Name': 'sized-by-class'})[0], 200,
         'Remove a volume of a Retain class')
    status, _, body = d.request('GET', '/api/v1/persistentvolumes/%s' % volume_name)
    t.ok(status == 200 and json.loads(body).get('status', {}).get('phase') == 'Released',
         'its PersistentVolume stays, Released (the reclaim policy decides)', body[:300])

    with open(os.path.join(d.claim_path('default', 'owned'), 'seed'), 'w',
              encoding='ascii') as f:
        f.write('seed\n')
    t.eq(create(d, 'copy', size='1Mi', clone='owned')[0], 200, 'Create with clone=owned')
    try:
        with open(os.path.join(d.claim_path('default', 'copy'), 'seed'), encoding='ascii') as f:
            copied = f.read()
    except OSError as e:
        copied = str(e)
    t.eq(copied, 'seed\n', 'the clone holds the source volume\'s files')
    status, _, body = d.request(
        'POST', '/apis/snapshot.storage.k8s.io/v1/namespaces/default/volumesnapshots',
        {'apiVersion': 'snapshot.storage.k8s.io/v1', 'kind': 'VolumeSnapshot',
         'metadata': {'name': 'owned-snap'},
         'spec': {'source': {'persistentVolumeClaimName': 'owned'}}})
    t.eq(status, 201, 'a VolumeSnapshot of the volume (HTTP API)')
    os.unlink(os.path.join(d.claim_path('default', 'owned'), 'seed'))
    t.eq(create(d, 'restored', size='1Mi', snapshot='owned-snap')[0], 200,
         'Create with snapshot=owned-snap')
    t.ok(os.path.exists(os.path.join(d.claim_path('default', 'restored'), 'seed')),
         'the restored volume holds the file as it was at the snapshot')


def run_bad_requests(t, d):
    """Bad JSON, wrong types, unknown volumes, endpoints and methods."""
    status, answer = plugin(d, '/VolumeDriver.Create', raw=b'{"Name": ')
    t.ok(status == 400 and answer.get('Err', '').startswith('json parse error'),
         'bad JSON is a 400 with the parse error', json.dumps(answer))
    for body, desc in (([1, 2], 'a JSON array'), ({'Name': 7}, 'a number as Name'),
                       ({}, 'no Name'), ({'Name': 'x', 'Opts': 'size=1Gi'}, 'Opts a string'),
                       ({'Name': 'x', 'Opts': {'size': 1}}, 'an option not a string')):
        status, answer = plugin(d, '/VolumeDriver.Create', body)
        t.ok(status == 400 and answer.get('Err'), 'Create with %s is a 400' % desc,
             json.dumps(answer))
    for endpoint in ('/VolumeDriver.Get', '/VolumeDriver.Path', '/VolumeDriver.Mount',
                     '/VolumeDriver.Remove'):
        status, answer = plugin(d, endpoint, {'Name': 'no-such-volume', 'ID': 'c1'})
        expected = api_message(d, 'GET', '%s/no-such-volume' % PVCS)
        t.ok(status == 404 and answer.get('Err') == expected,
             '%s of an unknown volume: 404 and the HTTP API\'s message' % endpoint,
             '%s vs %s' % (answer, expected))
    status, answer = create(d, 'made-by-kubectl', size='1Mi')
    expected = api_message(d, 'POST', PVCS, Daemon.claim_body('made-by-kubectl'))
    t.ok(status == 409 and answer.get('Err') == expected,
         'Create of a taken name: 409 and the HTTP API\'s message', '%s vs %s' % (answer, expected))
    status, answer = plugin(d, '/VolumeDriver.Snapshot', {'Name': 'x'})
    t.ok(status == 404 and 'not part of the volume plugin protocol' in answer.get('Err', ''),
         'an unknown endpoint is a 404', json.dumps(answer))
    status, answer = plugin(d, '/VolumeDriver.List', method='GET')
    t.ok(status == 405 and 'POST' in answer.get('Err', ''), 'GET is a 405', json.dumps(answer))


def run_malicious_names(t, d):
    """Names that try to leave the namespace directory, or are no DNS name."""
    before = sorted(os.listdir(os.path.join(d.mount, 'default')))
    top = sorted(os.listdir(d.mount))
    for name in ('../../etc', '..', 'a/b', '/abs', 'UPPER', 'x' * 300, 'dot.'):
        expected = api_message(d, 'POST', PVCS, Daemon.claim_body(name))
        for endpoint in ('/VolumeDriver.Create', '/VolumeDriver.Mount', '/VolumeDriver.Get'):
            status, answer = plugin(d, endpoint, {'Name': name, 'ID': 'c1',
                                                  'Opts': {'size': '1Mi'}})
            t.ok(status == 422 and answer.get('Err') == expected,
                 '%s of %r: 422 with the API server\'s name message' % (endpoint, name[:20]),
                 '%s vs %s' % (answer, expected))
    status, answer = plugin(d, '/VolumeDriver.Create', {'Name': 'nul\u0000x'})
    t.ok(status == 400 and 'json parse error' in answer.get('Err', ''),
         'a NUL byte inside Name is refused as the JSON decoder refuses it', json.dumps(answer))
    t.eq(sorted(os.listdir(os.path.join(d.mount, 'default'))), before,
         'nothing was made in the namespace directory')
    t.eq(sorted(os.listdir(d.mount)), top, 'nothing was made at the top of the mount')
    t.ok(not os.path.exists('/etc/1Mi') and not os.path.exists(os.path.join(d.workdir, 'abs')),
         'nothing was made outside the mount')


def run_all(t, d):
    run_endpoints(t, d)
    run_mounts(t, d)
    run_options(t, d)
    run_bad_requests(t, d)
    run_malicious_names(t, d)


def run_spec_file(t):
    """deploy/docker/claimfs.json names the socket claimfsd serves by default."""
    spec = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'deploy',
                        'docker', 'claimfs.json')
    with open(spec, encoding='utf-8') as f:
        doc = json.load(f)
    helptext = subprocess.run([os.environ['CLAIMFSD'], '--help'], capture_output=True, text=True,
                              timeout=30, check=False).stdout
    t.ok(doc.get('Name') == 'claimfs' and doc.get('Addr', '').startswith('unix://')
         and doc['Addr'][len('unix://'):] in helptext,
         'the Docker spec file names claimfsd\'s default plugin socket', json.dumps(doc))


def run_options_of_daemon(t):
    """--volume-plugin-socket none serves no socket; a bad namespace is refused."""
    workdir = tempfile.mkdtemp(prefix='claimfs-plugin-none-')
    try:
        with Daemon(workdir) as d:
            d.start(extra_args=('--volume-plugin-socket', 'none'))
            t.ok(not os.path.exists(d.plugin_socket) and
                 not os.path.exists('/run/docker/plugins/claimfs.sock.test'),
                 '--volume-plugin-socket none: no plugin socket')
            t.eq(d.stop(), 0, 'that daemon exits 0')
        proc = subprocess.run([os.environ['CLAIMFSD'], '--volume-namespace', 'Bad_NS', '--check',
                               '--store', os.path.join(workdir, 'x.db')],
                              capture_output=True, text=True, timeout=30, check=False)
        t.ok(proc.returncode == 2 and "--volume-namespace 'Bad_NS'" in proc.stderr
             and 'RFC 1123 label' in proc.stderr,
             'a bad --volume-namespace is a usage error naming the rule', proc.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    t = Tap()
    run_daemon_checks(t, 'claimfs-plugin-', lambda d: run_all(t, d))
    run_options_of_daemon(t)
    run_spec_file(t)
    t.done()


if __name__ == '__main__':
    main()
