#!/usr/bin/env python3
"""seed-corpus.py - (re)write the seed corpora in tests/fuzz/corpus/<target>/.

Owns the hand-written seeds only: files named by this script are rewritten,
others (inputs libFuzzer found and someone added) are left alone. Seeds cover
the documented grammar and the hostile inputs of issue 6 (path-like,
oversized, NUL-carrying names, deeply nested JSON, unknown routes).
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    """Write one seed."""
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def claim(name='data-app-python-0', storage='1Mi', modes=('ReadWriteOnce',), meta=None, **spec):
    """A PersistentVolumeClaim body."""
    b = {'apiVersion': 'v1', 'kind': 'PersistentVolumeClaim', 'metadata': {'name': name},
         'spec': {'accessModes': list(modes), 'resources': {'requests': {'storage': storage}}}}
    b['metadata'].update(meta or {})
    b['spec'].update(spec)
    return b


QUANTITIES = ['1Mi', '1Gi', '500M', '1.5Gi', '100k', '1024', '1e3', '1E-2', '+1Ki', '-1', '0', '0.1',
              '18446744073709551615', '18446744073709551616', '1.5', '1m', '1n', '1u', '1Ei', '16Ei',
              '15Ei', '1.000000001Gi', '', 'Mi', '1MiB', '1 Mi', '.5Ki', '5.', '1e', '1e+6',
              '12345678901234567890e-10', '0.000001Ki', '1P', '1T', '3.75Ti', '1e18', '1e19',
              '9999999999999999999999k', '1K', '1ki', '0x10', '1_000']
NAMES = ['data-app-python-0', 'a', 'a.b.c', '../x', 'a/b', 'x\0y', 'a' * 10240, 'a' * 63, 'a' * 64,
         'a' * 253, 'a' * 254, '-a', 'a-', 'A', 'a..b', 'a.-b', '1.2.3.4', 'xn--80ak6aa92e', 'default',
         'kube-system', 'a_b', 'a b', '\u00e9t\u00e9', 'a.', '', '0']
BODIES = [
    claim(), claim(storage='1Gi', modes=('ReadWriteMany', 'ReadOnlyMany')),
    claim(name='', meta={'generateName': 'data-'}),
    claim(meta={'labels': {'app': 'web', 'tier': 'db'}, 'annotations': {'a': 'b'},
                'namespace': 'default'}),
    claim(storageClassName='claimfs', volumeMode='Filesystem'),
    claim(storageClassName='fast', volumeName='pvc-0000'),
    claim(name='../x'), claim(name='a/b'), claim(name='A' * 300), claim(storage='1.5Gi'),
    claim(storage='-1'), claim(storage='abc'), claim(storage=1024), claim(modes=()),
    claim(modes=('Bogus',)), claim(meta={'namespace': 'other'}),
    claim(selector={'matchLabels': {'a': 'b'}}),
    claim(dataSource={'kind': 'PersistentVolumeClaim', 'name': 'src'}),
    claim(dataSource={'apiGroup': 'snapshot.storage.k8s.io', 'kind': 'VolumeSnapshot',
                      'name': 'snap'}),
    {'apiVersion': 'v1', 'kind': 'Pod'}, {'kind': 'PersistentVolumeClaim'}, [], 'x', 1, None,
    {'apiVersion': 'v1', 'kind': 'PersistentVolumeClaim', 'metadata': [], 'spec': 'x'},
    claim(name='x', modes=('ReadWriteOncePod',), resources={'requests': {'storage': '1Mi'},
                                                             'limits': {'storage': '2Mi'}}),
]
BASE = '/api/v1/namespaces/default/persistentvolumeclaims'
YAML_CLAIM = ('apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: yaml-claim\nspec:\n'
              '  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Mi\n')
API = [
    ('POST', BASE, 'application/json', json.dumps(claim())),
    ('POST', BASE, 'application/json', json.dumps(claim(name='second', storage='1Gi'))),
    ('POST', BASE, 'application/json; charset=utf-8',
     json.dumps(claim(name='', meta={'generateName': 'gen-'}))),
    ('POST', BASE, 'text/plain', 'hello'),
    ('POST', BASE, 'application/json', '{bad json'),
    ('POST', BASE, 'application/json', json.dumps(claim(name='../x'))),
    ('POST', BASE, 'application/yaml', YAML_CLAIM),
    ('POST', '/api/v1/namespaces/Bad_NS/persistentvolumeclaims', 'application/json',
     json.dumps(claim())),
    ('GET', BASE, '', ''), ('GET', BASE + '/data-app-python-0', '', ''),
    ('GET', BASE + '/missing', '', ''), ('GET', '/api/v1/persistentvolumeclaims', '', ''),
    ('GET', '/api/v1/persistentvolumeclaims?labelSelector=app%3Dweb', '', ''),
    ('GET', BASE + '?fieldSelector=metadata.name%3Ddata-app-python-0', '', ''),
    ('DELETE', BASE + '/data-app-python-0', '', ''), ('DELETE', BASE + '/missing', '', ''),
    ('PUT', BASE + '/second', 'application/json', json.dumps(claim(name='second', storage='2Gi'))),
    ('PATCH', BASE + '/second', 'application/merge-patch+json',
     '{"spec":{"resources":{"requests":{"storage":"3Gi"}}}}'),
    ('PATCH', BASE + '/second', 'application/strategic-merge-patch+json',
     '{"metadata":{"labels":{"x":"y"}}}'),
    ('PATCH', BASE + '/second', 'application/apply-patch+yaml',
     'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: second\n'),
    ('GET', '/healthz', '', ''), ('GET', '/livez', '', ''), ('GET', '/readyz', '', ''),
    ('GET', '/version', '', ''), ('GET', '/api', '', ''), ('GET', '/api/v1', '', ''),
    ('GET', '/apis', '', ''), ('GET', '/apis/apps/v1', '', ''),
    ('GET', '/apis/storage.k8s.io/v1/storageclasses', '', ''),
    ('GET', '/api/v1/persistentvolumes', '', ''),
    ('GET', '/apis/apps/v1/namespaces/default/statefulsets', '', ''), ('GET', '/metrics', '', ''),
    ('GET', '//api//v1', '', ''), ('GET', BASE + '/a/b/c/d/e/f/g', '', ''), ('BREW', '/', '', ''),
    ('GET', '/' + 'a/' * 200, '', ''), ('GET', BASE + '/%2e%2e%2fx', '', ''),
    ('POST', BASE, 'application/json', '[' * 5000 + ']' * 5000),
    ('POST', BASE, 'application/json', json.dumps(claim(name='x' * 10000))),
]

# Answers as claimfsd and others send them; the first byte picks how the
# fuzz target cuts and reads the stream.
HTTP = [
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
    'HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n'
    '5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n',
    'HTTP/1.0 404 Not Found\r\n\r\n{"kind":"Status","code":404}',
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    'HTTP/1.1 204 No Content\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort',
]


def main():
    """Write every seed."""
    for i, v in enumerate(QUANTITIES):
        put('quantity', 'seed-%02d' % i, v)
    for i, v in enumerate(NAMES):
        put('names', 'seed-%02d' % i, v)
    for i, b in enumerate(BODIES):
        put('claim', 'seed-%02d.json' % i, json.dumps(b))
    put('claim', 'seed-deep.json', '[' * 1000 + ']' * 1000)
    put('claim', 'seed-dupkeys.json', '{"metadata":{"name":"a","name":"b"},"spec":{"accessModes":'
        '["ReadWriteOnce"],"resources":{"requests":{"storage":"1Mi"}}}}')
    put('claim', 'seed-nul.json', json.dumps(claim(name='x\0y')))
    for i, (method, path, ctype, body) in enumerate(API):
        put('api', 'seed-%02d' % i, '%s\n%s\n%s\n%s' % (method, path, ctype, body))
    for i, answer in enumerate(HTTP):
        put('http', 'seed-%02d' % i, bytes([(i * 37) & 0xff]) + answer.encode())
    put('yaml', 'seed-claim.yaml', YAML_CLAIM)
    put('yaml', 'seed-anchors.yaml', 'a: &x [1, 2]\nb: *x\nc: !!binary aGVsbG8=\n')
    put('yaml', 'seed-flow.yaml', '{metadata: {name: x}, spec: [a, b, {c: d}]}\n')
    put('yaml', 'seed-multi.yaml', '---\na: 1\n---\nb: 2\n')
    put('yaml', 'seed-deep.yaml', '[' * 500 + ']' * 500)


if __name__ == '__main__':
    main()
