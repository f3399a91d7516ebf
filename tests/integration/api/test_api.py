#!/usr/bin/env python3
"""test_api.py - the HTTP API of a live claimfsd, over real TCP and the unix socket.

Starts the daemon (lib/daemon.py) and checks, request by request, what a
Kubernetes client would see: claims answered 201 with every field a bound
claim carries, their directories present as soon as the answer arrives,
get / namespace list / cluster-wide list, delete removing the directory,
every error case (400, 404, 405, 409, 413, 415, 422) answered with a valid
Kubernetes Status, the health endpoints, concurrent creation, claims
surviving SIGKILL of the daemon, and idle or stalled connections not
blocking other clients.

Owns: one temporary work directory and the daemon in it; both are gone when
the program ends, whatever happened.
"""

import http.client
import json
import os
import re
import shutil
import socket
import stat
import sys
import tempfile
import threading
import traceback

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import Daemon  # noqa: E402
from tap import Tap  # noqa: E402

PVCS = '/api/v1/namespaces/%s/persistentvolumeclaims'
PVC = '/api/v1/namespaces/%s/persistentvolumeclaims/%s'
ALL_PVCS = '/api/v1/persistentvolumeclaims'
UUID_RE = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')
TIME_RE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
MAX_BODY = 1024 * 1024  # daemon/main.c MAIN_MAX_BODY


def body_of(name, storage='1Mi', modes=('ReadWriteOnce',), **spec):
    """A claim manifest as a dict, with extra spec fields."""
    manifest = Daemon.claim_body(name, storage, modes)
    manifest['spec'].update(spec)
    return manifest


def decode(t, resp, desc):
    """The JSON body of RESP, or None (recording a failure)."""
    try:
        return json.loads(resp[2])
    except ValueError:
        t.ok(False, '%s: body is JSON' % desc, resp[2][:300])
        return None


def check_status(t, resp, code, reason, desc, message=None, field=None):
    """Check that RESP is HTTP CODE with a Kubernetes Status of REASON."""
    status, headers, _ = resp
    t.eq(status, code, '%s: HTTP %d' % (desc, code))
    obj = decode(t, resp, desc)
    if obj is None:
        return None
    good = (obj.get('kind') == 'Status' and obj.get('apiVersion') == 'v1'
            and obj.get('metadata') == {} and obj.get('status') == 'Failure'
            and obj.get('reason') == reason and obj.get('code') == code
            and isinstance(obj.get('message'), str) and obj['message'] != ''
            and headers.get('content-type', '').startswith('application/json'))
    t.ok(good, '%s: Status %s' % (desc, reason), json.dumps(obj)[:600])
    if message is not None:
        t.ok(message in obj.get('message', ''), '%s: message says %r' % (desc, message),
             obj.get('message'))
    if field is not None:
        causes = obj.get('details', {}).get('causes', [])
        t.ok(any(c.get('field') == field and c.get('reason', '').startswith('FieldValue')
                 for c in causes),
             '%s: details.causes names %s' % (desc, field), json.dumps(obj.get('details')))
    return obj


def check_bound(t, claim, ns, name, storage, modes, desc):
    """Every field of a bound claim, as Kubernetes shows it."""
    meta, spec, status = claim.get('metadata', {}), claim.get('spec', {}), claim.get('status', {})
    uid = meta.get('uid', '')
    notes = meta.get('annotations', {})
    checks = [
        (claim.get('apiVersion') == 'v1', 'apiVersion v1'),
        (claim.get('kind') == 'PersistentVolumeClaim', 'kind PersistentVolumeClaim'),
        (meta.get('name') == name and meta.get('namespace') == ns, 'name and namespace'),
        (UUID_RE.match(uid) is not None, 'metadata.uid is a UUID'),
        (str(meta.get('resourceVersion', '')).isdigit(), 'resourceVersion is a number string'),
        (TIME_RE.match(meta.get('creationTimestamp', '')) is not None, 'creationTimestamp RFC 3339'),
        (notes.get('pv.kubernetes.io/bind-completed') == 'yes'
         and notes.get('pv.kubernetes.io/bound-by-controller') == 'yes'
         and notes.get('volume.kubernetes.io/storage-provisioner'), 'binding annotations'),
        ('kubernetes.io/pvc-protection' in meta.get('finalizers', []), 'pvc-protection finalizer'),
        (spec.get('accessModes') == list(modes), 'spec.accessModes'),
        (spec.get('resources', {}).get('requests', {}).get('storage') == storage,
         'spec.resources.requests.storage %s' % storage),
        (spec.get('storageClassName') == 'claimfs', 'spec.storageClassName claimfs'),
        (spec.get('volumeMode') == 'Filesystem', 'spec.volumeMode Filesystem'),
        (spec.get('volumeName') == 'pvc-' + uid, 'spec.volumeName pvc-<uid>'),
        (status.get('phase') == 'Bound', 'status.phase Bound'),
        (status.get('accessModes') == list(modes), 'status.accessModes'),
        (status.get('capacity', {}).get('storage') == storage, 'status.capacity.storage'),
    ]
    bad = [what for good, what in checks if not good]
    return t.ok(not bad, '%s: bound claim fields' % desc,
                'wrong: %s\n%s' % (', '.join(bad), json.dumps(claim)))


def run_health(t, d):
    """/healthz, /livez, /readyz over TCP and the unix socket."""
    for path in ('/healthz', '/livez', '/readyz'):
        status, headers, body = d.request('GET', path)
        t.ok(status == 200 and body.strip() == b'ok'
             and headers.get('content-type', '').startswith('text/plain'),
             'GET %s answers 200 ok' % path, '%d %r' % (status, body))
        status, _, body = d.request_unix('GET', path)
        t.ok(status == 200 and body.strip() == b'ok', 'GET %s over the unix socket' % path)
    status, _, body = d.request('HEAD', '/healthz')
    t.ok(status == 200 and body == b'', 'HEAD /healthz answers 200 without a body')
    st = os.stat(d.unix_socket)
    t.ok(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) & 0o007 == 0,
         'unix socket exists and is not open to others', oct(st.st_mode))


def run_create(t, d):
    """Create claims and look at them: fields, directories, canonical quantities."""
    path = os.path.join(d.mount, 'default', 'data-app-python-0')
    # Look first, so the kernel has a negative entry to forget.
    t.ok(not os.path.exists(path) and not os.path.exists(os.path.dirname(path)),
         'no claim directory before the claim')
    status, headers, raw = d.request('POST', PVCS % 'default', body_of('data-app-python-0'))
    t.eq(status, 201, 'POST claim answers 201')
    # Checked before anything else: the directory exists when the answer arrives.
    t.ok(os.path.isdir(path), 'claim directory exists as soon as the 201 arrives')
    t.ok(headers.get('content-type', '').startswith('application/json'), '201 is application/json')
    claim = json.loads(raw)
    check_bound(t, claim, 'default', 'data-app-python-0', '1Mi', ('ReadWriteOnce',), 'created')
    t.eq(stat.S_IMODE(os.stat(path).st_mode), 0o777, 'claim directory mode 0777')
    with open(os.path.join(path, 'visits.txt'), 'w', encoding='ascii') as f:
        f.write('1\n')

    for storage, shown in (('1.5Gi', '1536Mi'), ('500M', '500M'), ('100k', '100k'),
                           ('1048576', '1048576'), ('1Gi', '1Gi')):
        name = 'q-' + re.sub(r'[^a-z0-9]', '-', storage.lower())
        status, _, raw = d.request('POST', PVCS % 'quantities', body_of(name, storage))
        got = json.loads(raw) if status == 201 else {}
        t.ok(status == 201 and got['spec']['resources']['requests']['storage'] == shown
             and got['status']['capacity']['storage'] == shown,
             'storage %s is stored and shown as %s' % (storage, shown), raw[:300])

    status, _, raw = d.request_unix('POST', PVCS % 'team-b', body_of('www-web-0'))
    t.eq(status, 201, 'POST claim over the unix socket answers 201')
    t.ok(os.path.isdir(os.path.join(d.mount, 'team-b', 'www-web-0')),
         'claim created over the unix socket has its directory')

    status, _, raw = d.request('POST', PVCS % 'default', body_of('shared', modes=(
        'ReadWriteMany', 'ReadOnlyMany')), content_type='application/json; charset=utf-8')
    t.eq(status, 201, 'Content-Type with charset parameter is accepted')
    if status == 201:
        check_bound(t, json.loads(raw), 'default', 'shared', '1Mi',
                    ('ReadOnlyMany', 'ReadWriteMany'), 'two access modes')

    manifest = body_of('')
    manifest['metadata'] = {'generateName': 'data-'}
    del manifest['kind'], manifest['apiVersion']
    status, _, raw = d.request('POST', PVCS % 'default', manifest)
    name = json.loads(raw).get('metadata', {}).get('name', '') if status == 201 else ''
    t.ok(status == 201 and re.match(r'^data-[a-z0-9]{5}$', name) is not None,
         'generateName (no kind/apiVersion) gets a generated name', raw[:300])
    t.ok(name != '' and os.path.isdir(os.path.join(d.mount, 'default', name)),
         'generated claim has its directory')

    status, _, raw = d.request('POST', PVCS % 'default', body_of('ro', modes=('ReadOnlyMany',)))
    t.eq(status, 201, 'ReadOnlyMany claim is created')
    t.errno(lambda: open(os.path.join(d.mount, 'default', 'ro', 'f'), 'w', encoding='ascii'),
            30, 'ReadOnlyMany claim is read-only through the mount (EROFS)')
    return claim


def run_read(t, d, first):
    """GET one, namespace lists, the cluster-wide list."""
    uid = first['metadata']['uid']
    status, _, raw = d.request('GET', PVC % ('default', 'data-app-python-0'))
    got = json.loads(raw) if status == 200 else {}
    t.ok(status == 200 and got == first, 'GET claim answers 200 with what POST answered',
         raw[:300])
    status, _, raw = d.request_unix('GET', PVC % ('default', 'data-app-python-0'))
    t.ok(status == 200 and json.loads(raw)['metadata']['uid'] == uid, 'GET over the unix socket')

    status, _, raw = d.request('GET', PVCS % 'default')
    lst = json.loads(raw) if status == 200 else {}
    names = [i['metadata']['name'] for i in lst.get('items', [])]
    t.ok(status == 200 and lst.get('kind') == 'PersistentVolumeClaimList'
         and lst.get('apiVersion') == 'v1'
         and str(lst.get('metadata', {}).get('resourceVersion', '')).isdigit(),
         'namespace list is a PersistentVolumeClaimList with a resourceVersion', raw[:300])
    t.ok('data-app-python-0' in names and 'ro' in names and names == sorted(names)
         and all(i['metadata']['namespace'] == 'default' for i in lst['items']),
         'namespace list holds that namespace\'s claims, by name', names)
    for item in lst.get('items', []):
        if item['metadata']['name'] == 'data-app-python-0':
            check_bound(t, item, 'default', 'data-app-python-0', '1Mi', ('ReadWriteOnce',),
                        'list item')

    status, _, raw = d.request('GET', PVCS % 'team-b')
    t.ok(status == 200 and [i['metadata']['name'] for i in json.loads(raw)['items']]
         == ['www-web-0'], 'another namespace lists only its own claims', raw[:300])
    status, _, raw = d.request('GET', PVCS % 'empty')
    t.ok(status == 200 and json.loads(raw).get('items') == [],
         'a namespace without claims lists none', raw[:200])

    status, _, raw = d.request('GET', ALL_PVCS)
    lst = json.loads(raw) if status == 200 else {}
    keys = [(i['metadata']['namespace'], i['metadata']['name']) for i in lst.get('items', [])]
    t.ok(status == 200 and lst.get('kind') == 'PersistentVolumeClaimList'
         and ('team-b', 'www-web-0') in keys and ('default', 'data-app-python-0') in keys
         and keys == sorted(keys), 'cluster-wide list holds every claim by namespace, name', keys)
    status, _, raw = d.request_unix('GET', ALL_PVCS)
    t.ok(status == 200 and len(json.loads(raw)['items']) == len(keys),
         'cluster-wide list over the unix socket')


def run_delete(t, d):
    """DELETE removes claim and directory; the name can be used again."""
    path = os.path.join(d.mount, 'team-b', 'www-web-0')
    status, _, raw = d.request('DELETE', PVC % ('team-b', 'www-web-0'))
    got = json.loads(raw) if status == 200 else {}
    t.ok(status == 200 and got.get('metadata', {}).get('name') == 'www-web-0'
         and 'deletionTimestamp' in got.get('metadata', {}),
         'DELETE answers 200 with the deleted claim', raw[:300])
    t.ok(not os.path.exists(path), 'claim directory is gone once DELETE answers')
    t.ok(not os.path.exists(os.path.dirname(path)), 'the emptied namespace directory is gone')
    check_status(t, d.request('GET', PVC % ('team-b', 'www-web-0')), 404, 'NotFound',
                 'GET deleted claim', message='persistentvolumeclaims "www-web-0" not found')
    check_status(t, d.request('DELETE', PVC % ('team-b', 'www-web-0')), 404, 'NotFound',
                 'DELETE deleted claim')
    status, _, raw = d.request('GET', PVCS % 'team-b')
    t.ok(status == 200 and json.loads(raw)['items'] == [], 'deleted claim is not listed')

    old_uid = got.get('metadata', {}).get('uid')
    status, _, raw = d.request('POST', PVCS % 'team-b', body_of('www-web-0'))
    new = json.loads(raw) if status == 201 else {}
    t.ok(status == 201 and new['metadata']['uid'] != old_uid and os.listdir(path) == [],
         'the name can be claimed again: new uid, empty directory', raw[:300])
    status, _, _ = d.request_unix('DELETE', PVC % ('team-b', 'www-web-0'))
    t.ok(status == 200 and not os.path.exists(path), 'DELETE over the unix socket')


def run_errors(t, d):
    """Every error case answers a Status with the right code and reason."""
    url = PVCS % 'default'
    check_status(t, d.request('POST', url, body_of('data-app-python-0')), 409, 'AlreadyExists',
                 'existing name', message='persistentvolumeclaims "data-app-python-0" already exists')
    check_status(t, d.request('GET', PVC % ('default', 'missing')), 404, 'NotFound',
                 'missing claim', message='persistentvolumeclaims "missing" not found')
    for path in ('/nope', '/api/v2/persistentvolumeclaims', '/api/v1/namespaces/default/secrets',
                 PVC % ('default', 'a') + '/extra', '/api/v1/namespaces//persistentvolumeclaims',
                 PVC % ('default', 'a%2Fb')):
        check_status(t, d.request('GET', path), 404, 'NotFound', 'GET %s' % path)

    # 400: the body cannot be decoded
    for desc, raw in (('bad JSON', '{bad'), ('empty body', ''), ('JSON array', '[]'),
                      ('truncated JSON', '{"metadata":{"name":"x"'),
                      ('NUL byte', '{"metadata":\x00}')):
        check_status(t, d.request('POST', url, raw), 400, 'BadRequest', desc)
    for desc, change, message in (
            ('wrong apiVersion', {'apiVersion': 'v2'}, 'the API version in the data (v2)'),
            ('wrong kind', {'kind': 'Pod'}, 'the kind in the data (Pod)'),
            ('long non-ASCII kind', {'kind': 'a' + '\u00fc' * 150}, 'the kind in the data ('),
            ('name not a string', {'metadata': {'name': 5}}, 'metadata.name'),
            ('namespace mismatch', {'metadata': {'name': 'x', 'namespace': 'other'}},
             'does not match the namespace'),
            ('resourceVersion set', {'metadata': {'name': 'x', 'resourceVersion': '3'}},
             'resourceVersion should not be set')):
        manifest = body_of('x')
        manifest.update(change)
        check_status(t, d.request('POST', url, manifest), 400, 'BadRequest', desc, message=message)

    # 422: names, namespaces, quantities, fields
    for name in ('../x', 'a/b', 'Data', 'UPPER', '-x', 'x-', 'a..b', 'a_b', 'a b', 'x' * 254):
        check_status(t, d.request('POST', url, body_of(name)), 422, 'Invalid',
                     'claim name %r' % (name if len(name) < 20 else '%d chars' % len(name)),
                     message='PersistentVolumeClaim "', field='metadata.name')
    check_status(t, d.request('POST', url, body_of('')), 422, 'Invalid', 'empty claim name',
                 message='name or generateName is required', field='metadata.name')
    status, _, _ = d.request('POST', url, body_of('x' * 253))
    t.eq(status, 201, 'a 253-character claim name is accepted')
    for ns in ('n' * 64, 'Default', 'a.b', 'a_b'):
        check_status(t, d.request('POST', PVCS % ns, body_of('x')), 422, 'Invalid',
                     'namespace %r' % (ns if len(ns) < 20 else '%d chars' % len(ns)),
                     field='metadata.namespace')
    status, _, _ = d.request('POST', PVCS % ('n' * 63), body_of('x'))
    t.eq(status, 201, 'a 63-character namespace is accepted')
    for storage in ('1 Mi', '1mi', 'Mi', '1.2.3', '', '-1Mi', '0', '16Ei', '1Kib', '0x10'):
        check_status(t, d.request('POST', url, body_of('q', storage)), 422, 'Invalid',
                     'storage %r' % storage, field='spec.resources[storage]')
    manifest = body_of('q')
    del manifest['spec']['resources']
    check_status(t, d.request('POST', url, manifest), 422, 'Invalid', 'storage missing',
                 field='spec.resources[storage]')
    check_status(t, d.request('POST', url, body_of('q', modes=())), 422, 'Invalid',
                 'no access modes', field='spec.accessModes')
    check_status(t, d.request('POST', url, body_of('q', modes=('ReadWriteSometimes',))), 422,
                 'Invalid', 'unknown access mode', field='spec.accessModes')
    check_status(t, d.request('POST', url, body_of('q', volumeMode='Block')), 422, 'Invalid',
                 'volumeMode Block', message='Unsupported value: "Block"', field='spec.volumeMode')
    obj = check_status(t, d.request('POST', url, {'metadata': {'name': 'Q'}, 'spec': {}}), 422,
                       'Invalid', 'several errors at once')
    t.ok(obj is not None and len(obj.get('details', {}).get('causes', [])) == 3
         and obj['message'].startswith('PersistentVolumeClaim "Q" is invalid: ['),
         'every invalid field is reported', json.dumps(obj)[:500])
    status, _, raw = d.request('GET', ALL_PVCS)
    t.ok(all(i['metadata']['name'] != 'q' for i in json.loads(raw)['items']),
         'refused requests created nothing')

    # 415: only JSON and YAML bodies (YAML is tested in test_kubectl.py)
    for ctype in ('text/plain', 'application/x-www-form-urlencoded',
                  'application/vnd.kubernetes.protobuf', 'application/jsonx', None):
        check_status(t, d.request('POST', url, json.dumps(body_of('ct')), content_type=ctype),
                     415, 'UnsupportedMediaType', 'Content-Type %s' % ctype)

    # 405: known paths, other methods (PUT and PATCH of claims: test_kubectl.py)
    for method, path in (('POST', PVC % ('default', 'data-app-python-0')),
                         ('PUT', ALL_PVCS), ('POST', ALL_PVCS), ('DELETE', ALL_PVCS),
                         ('POST', '/healthz')):
        check_status(t, d.request(method, path, body_of('x') if method != 'DELETE' else None),
                     405, 'MethodNotAllowed', '%s %s' % (method, path))
    run_too_large(t, d)


def run_too_large(t, d):
    """413 for bodies past the limit, declared or chunked; the daemon keeps serving."""
    url = PVCS % 'default'
    big = b'{"metadata":{"name":"big"},"pad":"' + b'x' * MAX_BODY + b'"}'
    check_status(t, d.request('POST', url, big), 413, 'RequestEntityTooLarge',
                 'oversized body with Content-Length')

    conn = http.client.HTTPConnection('127.0.0.1', d.port, timeout=30)
    try:
        chunks = (big[i:i + 65536] for i in range(0, len(big), 65536))
        conn.request('POST', url, body=chunks, encode_chunked=True,
                     headers={'Content-Type': 'application/json',
                              'Transfer-Encoding': 'chunked'})
        resp = conn.getresponse()
        check_status(t, (resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()),
                     413, 'RequestEntityTooLarge', 'oversized chunked body')
    finally:
        conn.close()

    # Answered at once, without waiting for a body that never comes: a client
    # waiting for "100 Continue", and an absurd declared length.
    for desc, length, expect in (('Expect: 100-continue', 2 * MAX_BODY, True),
                                 ('64 MiB declared', 64 * MAX_BODY, False)):
        sock = socket.create_connection(('127.0.0.1', d.port), timeout=10)
        try:
            sock.sendall(('POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                          'Content-Length: %d\r\n%s\r\n'
                          % (url, length, 'Expect: 100-continue\r\n' if expect else ''))
                         .encode())
            head = sock.recv(4096)
            t.ok(head.startswith(b'HTTP/1.1 413'), '%s: 413 before the body is sent' % desc,
                 head[:200])
        except socket.timeout:
            t.ok(False, '%s: 413 before the body is sent' % desc, 'no answer in 10 s')
        finally:
            sock.close()
    status, _, _ = d.request('GET', '/healthz')
    t.eq(status, 200, 'daemon serves after oversized bodies')
    status, _, raw = d.request('POST', url, body_of('almost-big'),
                               headers={'X-Pad': 'y' * 1000})
    t.eq(status, 201, 'a normal request right after works')


def run_concurrency(t, d):
    """Parallel clients: distinct names all succeed; one name is created once."""
    results = {}
    lock = threading.Lock()

    def create(key, ns, name, unix):
        try:
            req = d.request_unix if unix else d.request
            status, _, _ = req('POST', PVCS % ns, body_of(name))
        except OSError as e:
            status = str(e)
        with lock:
            results[key] = status

    threads = [threading.Thread(target=create, args=(('d', i), 'conc', 'c-%02d' % i, i % 2 == 0))
               for i in range(16)]
    threads += [threading.Thread(target=create, args=(('s', i), 'conc', 'same', i % 2 == 1))
                for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    distinct = [results.get(('d', i)) for i in range(16)]
    same = sorted(str(results.get(('s', i))) for i in range(8))
    t.ok(all(s == 201 for s in distinct), '16 parallel creates of distinct claims: all 201',
         distinct)
    t.eq(same, ['201'] + ['409'] * 7, '8 parallel creates of one name: one 201, seven 409')
    status, _, raw = d.request('GET', PVCS % 'conc')
    names = [i['metadata']['name'] for i in json.loads(raw)['items']] if status == 200 else []
    t.eq(names, sorted(['c-%02d' % i for i in range(16)] + ['same']),
         'the namespace lists exactly the created claims')
    t.eq(sorted(os.listdir(os.path.join(d.mount, 'conc'))), names,
         'the namespace directory holds exactly those claims')


def run_connections(t, d):
    """Idle and stalled connections do not keep other clients waiting."""
    idle = []
    try:
        for _ in range(200):
            idle.append(socket.create_connection(('127.0.0.1', d.port), timeout=10))
        stalled = socket.create_connection(('127.0.0.1', d.port), timeout=10)
        idle.append(stalled)
        stalled.sendall(b'POST /api/v1/namespaces/default/persistentvolumeclaims HTTP/1.1\r\n'
                        b'Host: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n'
                        b'\r\n{"metadata":')
        status, _, _ = d.request('GET', '/readyz', timeout=10)
        t.eq(status, 200, '200 idle connections and a stalled upload: others are served')
        status, _, _ = d.request('POST', PVCS % 'default', body_of('while-idle'), timeout=10)
        t.eq(status, 201, 'claims are created while connections idle')
    except OSError as e:
        t.ok(False, 'idle connections are accepted', repr(e))
    finally:
        for s in idle:
            s.close()


def run_restart(t, d, first):
    """A 201 is durable: claims survive SIGKILL of the daemon."""
    status, _, raw = d.request('POST', PVCS % 'durable', body_of('after-201'))
    t.eq(status, 201, 'claim created just before SIGKILL')
    uid = json.loads(raw)['metadata']['uid'] if status == 201 else None
    d.kill()
    try:
        d.start()
    except RuntimeError as e:
        t.bail(str(e).replace('\n', ' | '))
    status, _, raw = d.request('GET', PVC % ('durable', 'after-201'))
    t.ok(status == 200 and json.loads(raw)['metadata']['uid'] == uid,
         'claim acknowledged before SIGKILL is there after restart', raw[:300])
    status, _, raw = d.request('GET', PVC % ('default', 'data-app-python-0'))
    t.ok(status == 200 and json.loads(raw) == first, 'earlier claim unchanged after restart')
    with open(os.path.join(d.mount, 'default', 'data-app-python-0', 'visits.txt'),
              encoding='ascii') as f:
        t.eq(f.read(), '1\n', 'file in the claim is still there after restart')
    t.ok(os.path.isdir(os.path.join(d.mount, 'durable', 'after-201')),
         'directory of the claim is there after restart')


def main():
    """Run every group of checks against one daemon in a fresh work directory."""
    t = Tap()
    workdir = tempfile.mkdtemp(prefix='claimfs-api-')
    try:
        with Daemon(workdir) as d:
            try:
                d.start()
            except RuntimeError as e:
                t.bail(str(e).replace('\n', ' | '))
            try:
                run_health(t, d)
                first = run_create(t, d)
                run_read(t, d, first)
                run_delete(t, d)
                run_errors(t, d)
                run_concurrency(t, d)
                run_connections(t, d)
                run_restart(t, d, first)
            except (OSError, AssertionError, ValueError, KeyError, http.client.HTTPException):
                t.ok(False, 'no unexpected error', traceback.format_exc() + '\n' + d.log_tail())
            rc = d.stop()
            t.eq(rc, 0, 'daemon exits 0 on SIGTERM')
            t.ok(not os.path.exists(d.unix_socket), 'unix socket is removed on exit')
            if rc != 0:
                t.diag(d.log_tail())
            reports = d.sanitizer_reports()
            t.ok(not reports, 'no sanitizer reports in the daemon log', '\n'.join(reports[:20]))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    t.done()


if __name__ == '__main__':
    main()
