#!/usr/bin/env python3
"""test_verbs.py - every mutating verb on every served kind, dry and real.

For each (verb, kind) in one table the check sends the request as a server
dry run (dryRun=All in the query, and for DELETE and deletecollection also
in the DeleteOptions body), compares a snapshot of everything the daemon
holds before and after (every object of every kind with its
resourceVersion, each list's resourceVersion, the file tree under the mount
with the files' contents), asserts that watches opened before the call
received nothing and that the daemon logged nothing it did, then sends the
same request for real and asserts that the dry run answered exactly what
the real call answered (status code and body, uids and timestamps aside),
errors (AlreadyExists, Conflict, Invalid, NotFound) included.

Then the verbs themselves: deletecollection, the status subresource, the
failing JSON-patch test op, and watches from too old or too new versions.

Owns: one temporary work directory and the daemon in it; both are gone when
the program ends, whatever happened.
"""

import hashlib
import http.client
import json
import os
import re
import socket
import struct
import sys
import time

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import Daemon, run_daemon_checks  # noqa: E402
from tap import Tap  # noqa: E402

NS = 'default'
UID_RE = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
# What a dry run may answer differently: uids, times, and the resourceVersion
# (the apiserver's dry run never reaches storage: see check_dry_version).
BLANK_KEYS = ('creationTimestamp', 'deletionTimestamp', 'creationTime')
DID_SOMETHING = re.compile(r'info: (provisioned|deleted|expanded|scaled|snapshot|released|'
                           r'bound|cloned|volume .* is Available)')
MERGE = 'application/merge-patch+json'
STRATEGIC = 'application/strategic-merge-patch+json'
JSONPATCH = 'application/json-patch+json'
APPLY = 'application/apply-patch+yaml'


def pv_body(name):
    return {'apiVersion': 'v1', 'kind': 'PersistentVolume',
            'metadata': {'name': name, 'labels': {'grp': 'dry'}},
            'spec': {'capacity': {'storage': '1Mi'}, 'accessModes': ['ReadWriteOnce'],
                     'persistentVolumeReclaimPolicy': 'Delete', 'storageClassName': 'manual'}}


def sc_body(name):
    return {'apiVersion': 'storage.k8s.io/v1', 'kind': 'StorageClass',
            'metadata': {'name': name, 'labels': {'grp': 'dry'}},
            'provisioner': 'claimfs.csi.claimfs.io', 'reclaimPolicy': 'Delete',
            'allowVolumeExpansion': True}


def sts_body(name):
    return {'apiVersion': 'apps/v1', 'kind': 'StatefulSet',
            'metadata': {'name': name, 'labels': {'grp': 'dry'}},
            'spec': {'serviceName': name, 'replicas': 1,
                     'selector': {'matchLabels': {'app': name}},
                     'template': {'metadata': {'labels': {'app': name}},
                                  'spec': {'containers': [{'name': 'c', 'image': 'busybox'}]}},
                     'volumeClaimTemplates': [{
                         'metadata': {'name': 'data'},
                         'spec': {'accessModes': ['ReadWriteOnce'],
                                  'resources': {'requests': {'storage': '1Mi'}}}}]}}


def vs_body(name):
    return {'apiVersion': 'snapshot.storage.k8s.io/v1', 'kind': 'VolumeSnapshot',
            'metadata': {'name': name, 'labels': {'grp': 'dry'}},
            'spec': {'source': {'persistentVolumeClaimName': 'src'}}}


def pvc_body(name):
    body = Daemon.claim_body(name)
    body['metadata']['labels'] = {'grp': 'dry'}
    return body


# kind -> (collection URL, manifest maker, has a status subresource)
KINDS = {
    'pvc': ('/api/v1/namespaces/%s/persistentvolumeclaims' % NS, pvc_body, True),
    'pv': ('/api/v1/persistentvolumes', pv_body, True),
    'sc': ('/apis/storage.k8s.io/v1/storageclasses', sc_body, False),
    'sts': ('/apis/apps/v1/namespaces/%s/statefulsets' % NS, sts_body, True),
    'vs': ('/apis/snapshot.storage.k8s.io/v1/namespaces/%s/volumesnapshots' % NS, vs_body, False),
}


def request(d, method, path, body=None, ctype='application/json'):
    status, _, payload = d.request(method, path, body, content_type=ctype)
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, payload.decode('utf-8', 'replace')


def normal(obj):
    """obj with uids and timestamps blanked: what must match between a dry
    run and the real call."""
    if isinstance(obj, dict):
        return {k: ('T' if k in BLANK_KEYS else normal(v)) for k, v in obj.items()
                if k != 'resourceVersion'}
    if isinstance(obj, list):
        return [normal(v) for v in obj]
    if isinstance(obj, str):
        return UID_RE.sub('UID', obj)
    return obj


def tree(root):
    """Every path under root with its type and, for files, a hash of the data."""
    out = []
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            with open(path, 'rb') as f:
                out.append((os.path.relpath(path, root), hashlib.sha256(f.read()).hexdigest()))
        out.extend((os.path.relpath(os.path.join(dirpath, n), root), 'dir') for n in dirs)
    return sorted(out)


def snapshot(d):
    """Everything the daemon holds, as a client and a user of the mount see it."""
    lists = {kind: request(d, 'GET', url)[1] for kind, (url, _, _) in KINDS.items()}
    return {'lists': lists, 'tree': tree(d.mount)}


class Watch:
    """A raw ?watch=true stream over a socket, to see whether anything arrives."""

    def __init__(self, d, url, version):
        self.sock = socket.create_connection(('127.0.0.1', d.port), timeout=5)
        self.sock.sendall(('GET %s?watch=true&resourceVersion=%s HTTP/1.1\r\nHost: x\r\n\r\n'
                           % (url, version)).encode())
        self.received = b''

    def take(self, wait=0.3):
        """What arrived within wait seconds (and since the last take)."""
        self.sock.settimeout(wait)
        got = b''
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                got += chunk
        except socket.timeout:
            pass
        return got

    def until(self, marker, limit):
        """What arrived until marker did (or limit seconds passed), and when
        (seconds since the call)."""
        began = time.monotonic()
        got = b''
        while marker not in got and time.monotonic() - began < limit:
            self.sock.settimeout(max(0.01, limit - (time.monotonic() - began)))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            got += chunk
        return got, time.monotonic() - began

    def events(self, wait=0.3):
        return self.take(wait).count(b'"type":')

    def close(self):
        self.sock.close()


def check_dry_version(t, desc, method, answer, before, kind):
    """A dry run answers no resourceVersion for a new object and the live
    one for a changed object, as the apiserver does (kubectl diff shows no
    resourceVersion line)."""
    status, obj = answer
    if not isinstance(obj, dict) or method not in ('POST', 'PUT', 'PATCH') or status not in (200, 201) \
            or obj.get('kind') == 'Scale':
        return
    version = obj.get('metadata', {}).get('resourceVersion')
    live = [i['metadata']['resourceVersion'] for i in before['lists'][kind]['items']
            if i['metadata']['name'] == obj['metadata']['name']]
    if status == 201:
        t.ok(version is None, '%s: a dry-run create answers no resourceVersion' % desc, version)
    else:
        t.ok(live and version == live[0],
             '%s: a dry-run change answers the live resourceVersion' % desc,
             '%s vs %s' % (version, live))


def dry_path(path):
    return path + ('&' if '?' in path else '?') + 'dryRun=All'


def cases_for(kind, d):
    """(verb, method, path, body, content type) of every mutating call on kind,
    in an order in which each real call leaves what the next needs."""
    url, make, has_status = KINDS[kind]
    victim = url + '/v-' + kind
    current = request(d, 'GET', victim)[1]
    put = json.loads(json.dumps(current))
    put['metadata'].setdefault('labels', {})['put'] = 'yes'
    stale = json.loads(json.dumps(put))
    stale['metadata']['resourceVersion'] = '1'
    bad = make('Bad_Name')
    apply = make('v-' + kind)
    apply['metadata']['labels']['applied'] = 'yes'
    cases = [
        ('create', 'POST', url, make('n-' + kind), 'application/json'),
        ('create AlreadyExists', 'POST', url, make('v-' + kind), 'application/json'),
        ('create Invalid', 'POST', url, bad, 'application/json'),
        ('update', 'PUT', victim, put, 'application/json'),
        ('update Conflict', 'PUT', victim, stale, 'application/json'),
        ('update NotFound', 'PUT', url + '/nope', make('nope'), 'application/json'),
        ('merge patch', 'PATCH', victim, {'metadata': {'labels': {'merge': 'yes'}}}, MERGE),
        ('strategic patch', 'PATCH', victim, {'metadata': {'labels': {'smp': 'yes'}}}, STRATEGIC),
        ('JSON patch', 'PATCH', victim,
         [{'op': 'add', 'path': '/metadata/labels/jp', 'value': 'yes'}], JSONPATCH),
        ('failing JSON patch', 'PATCH', victim,
         [{'op': 'test', 'path': '/metadata/name', 'value': 'other'}], JSONPATCH),
        ('apply', 'PATCH', victim + '?fieldManager=test&force=true', apply, APPLY),
        ('apply (create)', 'PATCH', url + '/a-' + kind + '?fieldManager=test',
         make('a-' + kind), APPLY),
    ]
    if has_status:
        cases.append(('status patch', 'PATCH', victim + '/status',
                      {'status': {'conditions': [{'type': 'Checked', 'status': 'True'}]}},
                      MERGE))
    if kind == 'sts':
        cases.append(('scale', 'PATCH', victim + '/scale', {'spec': {'replicas': 2}}, MERGE))
        cases.append(('scale PUT', 'PUT', victim + '/scale',
                      {'apiVersion': 'autoscaling/v1', 'kind': 'Scale',
                       'metadata': {'name': 'v-sts', 'namespace': NS},
                       'spec': {'replicas': 0}}, 'application/json'))
    cases += [
        ('delete', 'DELETE', victim, None, 'application/json'),
        ('delete NotFound', 'DELETE', url + '/nope', None, 'application/json'),
        ('deletecollection', 'DELETE', url + '?labelSelector=grp%3Ddry', None,
         'application/json'),
    ]
    return cases


def dry_variants(method, path, body):
    """The dry-run forms of a call: the query, and for DELETE the body too."""
    variants = [(dry_path(path), body)]
    if method == 'DELETE':
        variants.append((path, {'kind': 'DeleteOptions', 'apiVersion': 'v1',
                                'dryRun': ['All']}))
    return variants


def setup(d):
    """The objects the table works on: a source claim with data, and a
    victim of every kind."""
    d.create_claim(NS, 'src')
    with open(os.path.join(d.claim_path(NS, 'src'), 'data.txt'), 'w', encoding='ascii') as f:
        f.write('keep me')
    for kind, (url, make, _) in KINDS.items():
        status, body = request(d, 'POST', url, make('v-' + kind))
        if status != 201:
            raise AssertionError('setup %s: %s %s' % (kind, status, body))
    with open(os.path.join(d.claim_path(NS, 'v-pvc'), 'data.txt'), 'w', encoding='ascii') as f:
        f.write('victim data')


def log_lines(d):
    with open(d.log_path, encoding='utf-8', errors='replace') as f:
        return f.read().splitlines()


def run_dry_table(t, d):
    """The table: every verb on every kind, dry then real."""
    setup(d)
    version = snapshot(d)['lists']['pvc']['metadata']['resourceVersion']
    watches = {kind: Watch(d, url, version) for kind, (url, _, _) in KINDS.items()}
    for w in watches.values():
        w.take()
    try:
        for kind in KINDS:
            for verb, method, path, body, ctype in cases_for(kind, d):
                desc = '%s %s' % (verb, kind)
                answers = []
                for dpath, dbody in dry_variants(method, path, body):
                    before, logged = snapshot(d), len(log_lines(d))
                    answers.append(request(d, method, dpath, dbody, ctype))
                    check_dry_version(t, desc, method, answers[-1], before, kind)
                    arrived = {k: w.events(0.05) for k, w in watches.items()}
                    after = snapshot(d)
                    t.ok(after == before, '%s: a dry run (%s) changes nothing' % (desc, dpath),
                         json.dumps(answers[-1])[:300])
                    t.ok(not any(arrived.values()), '%s: no watch event for a dry run' % desc,
                         json.dumps(arrived))
                    said = [line for line in log_lines(d)[logged:] if DID_SOMETHING.search(line)]
                    t.ok(not said, '%s: the dry run logs nothing it did' % desc, '\n'.join(said))
                real = request(d, method, path, body, ctype)
                for w in watches.values():
                    w.take(0.05)
                for i, dry in enumerate(answers):
                    t.ok(dry[0] == real[0] and normal(dry[1]) == normal(real[1]),
                         '%s: the dry run answers what the real call answers (%s)'
                         % (desc, 'body' if i else 'query'),
                         'dry %s\nreal %s' % (json.dumps(dry)[:700], json.dumps(real)[:700]))
    finally:
        for w in watches.values():
            w.close()
    with open(os.path.join(d.claim_path(NS, 'src'), 'data.txt'), encoding='ascii') as f:
        t.eq(f.read(), 'keep me', 'the source claim\'s data survived the table')


def run_deletecollection(t, d):
    """DELETE on a collection answers the list of what it deleted."""
    url = KINDS['pvc'][0]
    for name in ('dc-1', 'dc-2', 'dc-3'):
        body = pvc_body(name)
        body['metadata']['labels'] = {'dc': 'yes' if name != 'dc-3' else 'no'}
        request(d, 'POST', url, body)
    status, body = request(d, 'DELETE', url + '?labelSelector=dc%3Dyes')
    names = sorted(i['metadata']['name'] for i in body.get('items', []))
    t.ok(status == 200 and body.get('kind') == 'PersistentVolumeClaimList'
         and body.get('apiVersion') == 'v1' and names == ['dc-1', 'dc-2'],
         'deletecollection answers the PersistentVolumeClaimList it deleted',
         '%s %s' % (status, json.dumps(body)[:500]))
    left = sorted(i['metadata']['name'] for i in request(d, 'GET', url)[1]['items']
                  if i['metadata']['name'].startswith('dc-'))
    t.eq(left, ['dc-3'], 'deletecollection deleted exactly the selected claims')
    t.ok(not os.path.exists(d.claim_path(NS, 'dc-1')), 'their directories are gone')
    status, _ = request(d, 'DELETE', url + '?fieldSelector=metadata.name%3Ddc-3')
    t.ok(status == 200 and request(d, 'GET', url + '/dc-3')[0] == 404,
         'deletecollection with a fieldSelector')
    status, body = request(d, 'DELETE', url, '{"dryRun": ')
    t.eq(status, 400, 'deletecollection with an unreadable DeleteOptions body is refused')

    # Item by item, as kube-apiserver: the DeleteOptions' preconditions hold
    # for each item; the first that fails ends the call with its error, the
    # ones before it stay deleted, the ones after it stay.
    versions = {}
    for name in ('dp-1', 'dp-2', 'dp-3'):
        body = pvc_body(name)
        body['metadata']['labels'] = {'dp': 'yes'}
        versions[name] = request(d, 'POST', url, body)[1]['metadata']['resourceVersion']
    status, body = request(d, 'DELETE', url + '?labelSelector=dp%3Dyes',
                           {'preconditions': {'resourceVersion': versions['dp-1']}})
    t.ok(status == 409 and body.get('reason') == 'Conflict'
         and body.get('details', {}).get('name') == 'dp-2',
         'a deletecollection whose second item fails its precondition answers that 409',
         '%s %s' % (status, json.dumps(body)[:500]))
    left = sorted(i['metadata']['name'] for i in request(d, 'GET', url + '?labelSelector=dp%3Dyes')[1]['items'])
    t.eq(left, ['dp-2', 'dp-3'], 'the item deleted before the failure stays deleted, the rest stay')
    t.ok(not os.path.exists(d.claim_path(NS, 'dp-1')) and os.path.exists(d.claim_path(NS, 'dp-2')),
         'with its directory; the others keep theirs')
    status, body = request(d, 'DELETE', url + '?labelSelector=dp%3Dyes&dryRun=All',
                           {'preconditions': {'resourceVersion': versions['dp-2']}})
    t.ok(status == 409 and request(d, 'GET', url + '/dp-2')[0] == 200,
         'a dry run stops at the same failure and deletes nothing', '%s %s' % (status, body))
    status, body = request(d, 'DELETE', url + '?labelSelector=dp%3Dyes',
                           {'preconditions': {'resourceVersion': versions['dp-2']}})
    t.ok(status == 409 and request(d, 'GET', url + '/dp-2')[0] == 404
         and request(d, 'GET', url + '/dp-3')[0] == 200,
         'for real: dp-2 goes, dp-3 fails its precondition and stays', '%s %s' % (status, body))


def run_status(t, d):
    """The status subresource changes status only; spec changes there are ignored."""
    url = KINDS['pvc'][0] + '/st'
    d.create_claim(NS, 'st')
    old = request(d, 'GET', url)[1]
    w = Watch(d, KINDS['pvc'][0], old['metadata']['resourceVersion'])
    w.take()
    status, new = request(d, 'PATCH', url + '/status',
                          {'spec': {'resources': {'requests': {'storage': '5Mi'}}},
                           'metadata': {'labels': {'via': 'status'}},
                           'status': {'phase': 'Lost',
                                      'conditions': [{'type': 'Checked', 'status': 'True'}]}},
                          MERGE)
    t.ok(status == 200 and new['status'].get('conditions') == [{'type': 'Checked',
                                                                 'status': 'True'}],
         'PATCH pvc/status sets status.conditions', json.dumps(new)[:500])
    if status != 200:
        w.close()
        return
    t.ok(new.get('spec') == old['spec'] and 'labels' not in new['metadata'],
         'a status write ignores spec and metadata changes', json.dumps(new)[:500])
    t.eq(new['status'].get('phase'), 'Bound', 'a status write cannot move the controller\'s phase')
    t.ok(int(new['metadata']['resourceVersion']) > int(old['metadata']['resourceVersion']),
         'a status write bumps resourceVersion')
    t.ok(b'"MODIFIED"' in w.take(), 'a status write emits MODIFIED')
    w.close()
    t.eq(request(d, 'GET', url + '/status')[1], new, 'GET pvc/status answers the claim')
    status, _ = request(d, 'PATCH', url, {'status': {'conditions': []}}, MERGE)
    t.eq(request(d, 'GET', url)[1]['status'].get('conditions'),
         [{'type': 'Checked', 'status': 'True'}],
         'a write of the main resource does not change status')
    stale = dict(new, metadata=dict(new['metadata'], resourceVersion='1'))
    t.eq(request(d, 'PUT', url + '/status', stale)[0], 409, 'a stale status PUT is a Conflict')
    t.eq(request(d, 'PATCH', KINDS['pvc'][0] + '/nope/status', {}, MERGE)[0], 404,
         'status of a missing claim is NotFound')


def run_json_patch_test(t, d):
    """A failing test op says which op failed, as the apiserver does."""
    status, body = request(d, 'PATCH', KINDS['pvc'][0] + '/src',
                           [{'op': 'test', 'path': '/spec/volumeName', 'value': 'x'}], JSONPATCH)
    causes = body.get('details', {}).get('causes', []) if isinstance(body, dict) else []
    t.ok(status == 422 and body.get('reason') == 'Invalid'
         and body.get('message') == 'the server rejected our request due to an error in our '
         'request' and any(c.get('message') == 'testing value /spec/volumeName failed: test '
                           'failed' for c in causes),
         'a failed JSON-patch test op names the op that failed', json.dumps(body))


def watch_first_event(d, url, version):
    w = Watch(d, url, version)
    data = w.take(2)
    w.close()
    head, _, rest = data.partition(b'\r\n\r\n')
    match = re.search(rb'\{.*\}', rest)
    return head.split(b' ')[1] if head else b'', json.loads(match.group(0)) if match else None


def run_watch_versions(t, d):
    """Watches from versions the server cannot serve end with an ERROR event."""
    url = KINDS['pvc'][0]
    current = int(request(d, 'GET', url)[1]['metadata']['resourceVersion'])
    w = Watch(d, url, current + 1000)
    data, waited = w.until(b'"ERROR"', 6)
    w.close()
    head, _, rest = data.partition(b'\r\n\r\n')
    code = head.split(b' ')[1] if head else b''
    match = re.search(rb'\{.*\}', rest)
    event = json.loads(match.group(0)) if match else None
    obj = (event or {}).get('object', {})
    t.ok(code == b'200' and event is not None and event.get('type') == 'ERROR'
         and obj.get('code') == 504 and obj.get('reason') == 'Timeout'
         and obj.get('message') == 'Timeout: Too large resource version: %d, current: %d'
         % (current + 1000, current)
         and obj.get('details', {}).get('retryAfterSeconds') == 1
         and obj['details'].get('causes', [{}])[0].get('reason') == 'ResourceVersionTooLarge',
         'a watch from a too new resourceVersion ends with a Timeout ERROR',
         '%s %s' % (code, json.dumps(event)))
    t.ok(2.8 <= waited < 4.5, 'after waiting about 3 s for the version, as the apiserver does',
         'waited %.2f s' % waited)

    # The version appears while the watch waits: the watch goes on from it.
    current = int(request(d, 'GET', url)[1]['metadata']['resourceVersion'])
    w = Watch(d, url, current + 1)
    w.take(0.3)
    d.create_claim(NS, 'wv-1')
    d.create_claim(NS, 'wv-2')
    time.sleep(3.5)
    data = w.take(0.5)
    w.close()
    t.ok(b'"ERROR"' not in data and b'"ADDED"' in data and b'"wv-2"' in data,
         'a watch from a version that appears within the wait proceeds with the events after it',
         data[-1500:])
    d.stop()
    d.start()
    code, event = watch_first_event(d, url, 1)
    obj = (event or {}).get('object', {})
    t.ok(code == b'200' and event is not None and event.get('type') == 'ERROR'
         and obj.get('code') == 410 and obj.get('reason') == 'Expired'
         and obj.get('message', '').startswith('too old resource version: 1 ('),
         'a watch from a version older than the history answers an Expired ERROR',
         '%s %s' % (code, json.dumps(event)))


def run_watch_disconnect(t, d):
    """A watcher that goes away (with a reset, as a killed client does) is
    routine: nothing about it at info level."""
    logged = len(log_lines(d))
    w = Watch(d, KINDS['pvc'][0], 0)
    w.take()
    w.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    w.close()
    for name in ('gone-1', 'gone-2'):
        d.create_claim(NS, name)
    said = [line for line in log_lines(d)[logged:] if 'http:' in line]
    t.ok(not said, 'a watch client that disconnects is not logged at info level',
         '\n'.join(said))


def run_all(t, d):
    """Every group of checks, in order, against one daemon."""
    run_dry_table(t, d)
    run_deletecollection(t, d)
    run_status(t, d)
    run_json_patch_test(t, d)
    run_watch_disconnect(t, d)
    run_watch_versions(t, d)


def main():
    t = Tap()
    run_daemon_checks(t, 'claimfs-verbs-', lambda d: run_all(t, d))
    t.done()


if __name__ == '__main__':
    main()
