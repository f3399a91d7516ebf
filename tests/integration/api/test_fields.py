#!/usr/bin/env python3
"""test_fields.py - fieldValidation and the OpenAPI documents of a live claimfsd.

Raw HTTP, so every byte of the answers is checked: Strict answers 400 with
the API server's exact "strict decoding error" message (JSON bodies in
document order, YAML bodies' repeated keys as "yaml: unmarshal errors",
patches checked on the patched object), Warn (the default) answers with
one Warning header per problem and stores the object without the unknown
fields, Ignore drops them silently; server-side apply refuses undeclared
fields; objects the daemon stores pass Strict themselves; the OpenAPI v3
documents carry field descriptions and /openapi/v2 is 404.

Owns: one temporary work directory and the daemon in it.
"""

import http.client
import json
import os
import sys

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import run_daemon_checks  # noqa: E402
from tap import Tap  # noqa: E402

PVCS = '/api/v1/namespaces/default/persistentvolumeclaims'
STS = '/apis/apps/v1/namespaces/default/statefulsets'
CANNOT = '%s in version "v1" cannot be handled as a %s: strict decoding error: '


def call(d, method, path, body=None, content_type='application/json'):
    """(status, [Warning header values], decoded body or raw text)."""
    conn = http.client.HTTPConnection('127.0.0.1', d.port, timeout=30)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        headers = {'Content-Type': content_type} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        raw = resp.read().decode()
        try:
            decoded = json.loads(raw)
        except ValueError:
            decoded = raw
        return resp.status, resp.headers.get_all('Warning') or [], decoded
    finally:
        conn.close()


def claim_json(name, extra=''):
    """A claim as JSON text, extra spliced into spec (to hold duplicates)."""
    return ('{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"%s"},'
            '"spec":{%s"accessModes":["ReadWriteOnce"],"resources":{"requests":'
            '{"storage":"1Mi"}}}}' % (name, extra))


def refused(t, answer, code, reason, message, desc):
    """ANSWER is a Status CODE/REASON with exactly MESSAGE."""
    status, _, body = answer
    good = (status == code and isinstance(body, dict) and body.get('kind') == 'Status'
            and body.get('reason') == reason and body.get('code') == code
            and body.get('message') == message)
    t.ok(good, desc, 'want %d %s %r\ngot %d %s' % (code, reason, message, status,
                                                    json.dumps(body)[:800]))


def warned(t, answer, code, warnings, desc):
    """ANSWER succeeded with CODE and exactly the Warning headers WARNINGS."""
    status, got, body = answer
    want = ['299 - "%s"' % w.replace('\\', '\\\\').replace('"', '\\"') for w in warnings]
    t.ok(status == code and got == want, desc,
         'want %d %r\ngot %d %r\n%s' % (code, want, status, got, json.dumps(body)[:400]))


def run_strict(t, d):
    q = '?fieldValidation=Strict'
    refused(t, call(d, 'POST', PVCS + q, claim_json('bogus', '"bogusField":1,')), 400,
            'BadRequest', CANNOT % ('PersistentVolumeClaim', 'PersistentVolumeClaim')
            + 'unknown field "spec.bogusField"', 'Strict: spec.bogusField refused')
    refused(t, call(d, 'POST', PVCS + q, claim_json('typo', '"storageClass":"fast",')), 400,
            'BadRequest', CANNOT % ('PersistentVolumeClaim', 'PersistentVolumeClaim')
            + 'unknown field "spec.storageClass"', 'Strict: a storageClass: typo refused')
    t.eq(call(d, 'GET', PVCS + '/typo')[0], 404, 'the refused claim was not made')
    sts = {'apiVersion': 'apps/v1', 'kind': 'StatefulSet', 'metadata': {'name': 'web'},
           'spec': {'replicas': 1, 'selector': {'matchLabels': {'app': 'web'}},
                    'template': {'metadata': {'labels': {'app': 'web'}},
                                 'spec': {'containers': [{'name': 'c', 'image': 'x'}]}},
                    'volumeClaimTemplate': [{'metadata': {'name': 'data'}}]}}
    refused(t, call(d, 'POST', STS + q, sts), 400, 'BadRequest',
            CANNOT % ('StatefulSet', 'StatefulSet') + 'unknown field "spec.volumeClaimTemplate"',
            'Strict: a StatefulSet with volumeClaimTemplate: refused')
    t.eq(call(d, 'GET', STS + '/web')[0], 404, 'the refused StatefulSet was not made')
    sts['spec']['template']['spec']['containers'][0]['imagePulPolicy'] = 'Always'
    del sts['spec']['volumeClaimTemplate']
    refused(t, call(d, 'POST', STS + q, sts), 400, 'BadRequest',
            CANNOT % ('StatefulSet', 'StatefulSet')
            + 'unknown field "spec.template.spec.containers[0].imagePulPolicy"',
            'Strict: a typo deep in the pod template is named by its path')
    body = ('{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"a",'
            '"name":"dup","unknownMeta":1},"spec":{"zz":1,"volumeMode":"Filesystem",'
            '"volumeMode":"Filesystem","accessModes":["ReadWriteOnce"],'
            '"resources":{"requests":{"storage":"1Mi"}}}}')
    refused(t, call(d, 'POST', PVCS + q, body), 400, 'BadRequest',
            CANNOT % ('PersistentVolumeClaim', 'PersistentVolumeClaim')
            + 'duplicate field "metadata.name", unknown field "metadata.unknownMeta", '
            'unknown field "spec.zz", duplicate field "spec.volumeMode"',
            'Strict JSON: duplicates and unknown fields, in document order')
    yaml = ('apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: y\n  name: y\n'
            'spec:\n  zz: 1\n  accessModes: [ReadWriteOnce]\n  accessModes: [ReadWriteOnce]\n'
            '  resources: {requests: {storage: 1Mi}}\n  aa: 2\n')
    refused(t, call(d, 'POST', PVCS + q, yaml, 'application/yaml'), 400, 'BadRequest',
            CANNOT % ('PersistentVolumeClaim', 'PersistentVolumeClaim')
            + 'yaml: unmarshal errors:\n  line 5: key "name" already set in map\n'
            '  line 9: key "accessModes" already set in map, unknown field "spec.aa", '
            'unknown field "spec.zz"',
            'Strict YAML: repeated keys with their lines, then unknown fields sorted')
    refused(t, call(d, 'POST', PVCS + '?fieldValidation=Loose', claim_json('l')), 422, 'Invalid',
            'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: '
            '"Loose": supported values: "", "Ignore", "Strict", "Warn"',
            'an unknown fieldValidation value is refused')
    status, warnings, _ = call(d, 'POST', PVCS + q, claim_json('clean'))
    t.ok(status == 201 and warnings == [], 'Strict: a clean claim is created without warnings',
         '%d %r' % (status, warnings))


def run_warn_ignore(t, d):
    warned(t, call(d, 'POST', PVCS, claim_json('w1', '"bogusField":1,"storageClass":"x",')), 201,
           ['unknown field "spec.bogusField"', 'unknown field "spec.storageClass"'],
           'no fieldValidation (Warn): created with one Warning per unknown field')
    spec = call(d, 'GET', PVCS + '/w1')[2]['spec']
    t.ok('bogusField' not in spec and 'storageClass' not in spec,
         'Warn: the stored claim has no unknown fields', json.dumps(spec))
    yaml = ('apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: w2}\nspec:\n'
            '  bogus: 1\n  accessModes: [ReadWriteOnce]\n  accessModes: [ReadWriteOnce]\n'
            '  resources: {requests: {storage: 1Mi}}\n')
    warned(t, call(d, 'POST', PVCS + '?fieldValidation=Warn', yaml, 'application/yaml'), 201,
           ['line 7: key "accessModes" already set in map', 'unknown field "spec.bogus"'],
           'Warn YAML: a Warning per repeated key and per unknown field')
    warned(t, call(d, 'POST', PVCS + '?fieldValidation=Ignore',
                   claim_json('i1', '"bogusField":1,"bogusField":2,')), 201, [],
           'Ignore: created, no warnings')
    t.ok('bogusField' not in call(d, 'GET', PVCS + '/i1')[2]['spec'],
         'Ignore: the unknown field is dropped')
    put = call(d, 'GET', PVCS + '/i1')[2]
    put['spec']['bogusField'] = 3
    refused(t, call(d, 'PUT', PVCS + '/i1?fieldValidation=Strict', put), 400, 'BadRequest',
            CANNOT % ('PersistentVolumeClaim', 'PersistentVolumeClaim')
            + 'unknown field "spec.bogusField"', 'Strict: an update with an unknown field')


def run_patches(t, d):
    q = '?fieldValidation=Strict'
    before = call(d, 'GET', PVCS + '/clean')[2]['metadata']['resourceVersion']
    for kind in ('merge-patch+json', 'strategic-merge-patch+json'):
        refused(t, call(d, 'PATCH', PVCS + '/clean' + q,
                        '{"metadata":{"labels":{"a":"1","a":"2"}},"spec":{"bogusField":1}}',
                        'application/' + kind), 400, 'BadRequest',
                'strict decoding error: duplicate field "metadata.labels.a", '
                'unknown field "spec.bogusField"', 'Strict %s: unknown and duplicate field'
                % kind.split('+')[0])
    refused(t, call(d, 'PATCH', PVCS + '/clean' + q,
                    [{'op': 'add', 'path': '/spec/bogus', 'value': 1, 'foo': 2}],
                    'application/json-patch+json'), 400, 'BadRequest',
            'strict decoding error: json patch unknown field "[0].foo", unknown field '
            '"spec.bogus"', 'Strict JSON patch: the patched object is checked')
    t.eq(call(d, 'GET', PVCS + '/clean')[2]['metadata']['resourceVersion'], before,
         'refused patches changed nothing')
    warned(t, call(d, 'PATCH', PVCS + '/clean', {'spec': {'bogusField': 1}},
                   'application/merge-patch+json'), 200, ['unknown field "spec.bogusField"'],
           'merge patch without fieldValidation: Warning, accepted')
    t.ok('bogusField' not in call(d, 'GET', PVCS + '/clean')[2]['spec'],
         'the warned patch stored no unknown field')
    apply = {'apiVersion': 'v1', 'kind': 'PersistentVolumeClaim', 'metadata': {'name': 'clean'},
             'spec': {'bogusField': 1}}
    for fv in ('Strict', 'Ignore'):
        refused(t, call(d, 'PATCH', PVCS + '/clean?fieldManager=t&fieldValidation=' + fv, apply,
                        'application/apply-patch+yaml'), 500, 'InternalError',
                'failed to create typed patch object (default/clean; /v1, '
                'Kind=PersistentVolumeClaim): .spec.bogusField: field not declared in schema',
                'server-side apply (%s): an undeclared field is refused' % fv)
    refused(t, call(d, 'PATCH', PVCS + '/clean?fieldManager=t&fieldValidation=Strict',
                    '{"apiVersion":"v1","kind":"PersistentVolumeClaim",\n'
                    '"metadata":{"name":"clean","name":"clean"}}', 'application/apply-patch+yaml'),
            400, 'BadRequest', 'error strict decoding YAML: error converting YAML to JSON: yaml: '
            'unmarshal errors:\n  line 2: key "name" already set in map',
            'server-side apply (Strict): a repeated key is refused')
    sts = {'apiVersion': 'apps/v1', 'kind': 'StatefulSet', 'metadata': {'name': 'ok'},
           'spec': {'replicas': 1, 'selector': {'matchLabels': {'app': 'ok'}},
                    'template': {'metadata': {'labels': {'app': 'ok'}},
                                 'spec': {'containers': [{'name': 'c', 'image': 'x'}]}},
                    'volumeClaimTemplates': [{'metadata': {'name': 'data'}, 'spec': {
                        'accessModes': ['ReadWriteOnce'],
                        'resources': {'requests': {'storage': '1Mi'}}}}]}}
    t.eq(call(d, 'POST', STS + q, sts)[0], 201, 'Strict: a correct StatefulSet is created')
    refused(t, call(d, 'PATCH', STS + '/ok/scale' + q, {'spec': {'replicas': 2, 'replica': 3}},
                    'application/merge-patch+json'), 400, 'BadRequest',
            'strict decoding error: unknown field "spec.replica"',
            'Strict patch of the scale subresource')
    before = call(d, 'GET', PVCS + '/clean')[2]['metadata']['resourceVersion']
    refused(t, call(d, 'PATCH', PVCS + '/clean/status' + q,
                    {'status': {'conditions': [{'type': 'Resizing', 'status': 'True',
                                                'bogus': 1}]}},
                    'application/merge-patch+json'), 400, 'BadRequest',
            'strict decoding error: unknown field "status.conditions[0].bogus"',
            'Strict patch of the status subresource')
    obj = call(d, 'GET', PVCS + '/clean')[2]
    obj['status']['bogusStatus'] = 1
    refused(t, call(d, 'PUT', PVCS + '/clean/status' + q, obj), 400, 'BadRequest',
            'PersistentVolumeClaim in version "v1" cannot be handled as a '
            'PersistentVolumeClaim: strict decoding error: unknown field "status.bogusStatus"',
            'Strict PUT of the status subresource')
    t.eq(call(d, 'GET', PVCS + '/clean')[2]['metadata']['resourceVersion'], before,
         'refused status writes changed nothing')


def run_stored_objects_are_clean(t, d):
    """Every object the daemon writes passes Strict: an empty patch of each."""
    pv = call(d, 'GET', '/api/v1/persistentvolumes')[2]['items'][0]['metadata']['name']
    status, _, _ = call(d, 'POST', '/apis/snapshot.storage.k8s.io/v1/namespaces/default/'
                        'volumesnapshots', {'apiVersion': 'snapshot.storage.k8s.io/v1',
                                            'kind': 'VolumeSnapshot', 'metadata': {'name': 's'},
                                            'spec': {'source': {
                                                'persistentVolumeClaimName': 'clean'}}})
    t.eq(status, 201, 'a snapshot is created')
    for path in (PVCS + '/clean', PVCS + '/data-ok-0', '/api/v1/persistentvolumes/' + pv,
                 '/apis/storage.k8s.io/v1/storageclasses/claimfs', STS + '/ok', STS + '/ok/scale',
                 '/apis/snapshot.storage.k8s.io/v1/namespaces/default/volumesnapshots/s'):
        status, warnings, body = call(d, 'PATCH', path + '?fieldValidation=Strict', {},
                                      'application/merge-patch+json')
        t.ok(status == 200 and warnings == [], 'a stored object passes Strict: ' + path,
             '%d %r %s' % (status, warnings, json.dumps(body)[:400]))


def run_openapi(t, d):
    status, _, doc = call(d, 'GET', '/openapi/v3/api/v1')
    schemas = doc.get('components', {}).get('schemas', {}) if status == 200 else {}
    spec = schemas.get('io.k8s.api.core.v1.PersistentVolumeClaimSpec', {})
    modes = spec.get('properties', {}).get('accessModes', {})
    t.ok(modes.get('description', '').startswith('AccessModes contains the desired access modes'),
         'OpenAPI v3: PersistentVolumeClaimSpec.accessModes has its description',
         json.dumps(modes))
    claim = schemas.get('io.k8s.api.core.v1.PersistentVolumeClaim', {})
    t.ok(claim.get('x-kubernetes-group-version-kind') == [
        {'group': '', 'kind': 'PersistentVolumeClaim', 'version': 'v1'}]
         and 'description' in claim.get('properties', {}).get('spec', {}),
         'OpenAPI v3: the kind keeps its group-version-kind, its fields are described',
         json.dumps(claim)[:600])
    status, _, doc = call(d, 'GET', '/openapi/v3/apis/apps/v1')
    containers = doc['components']['schemas'].get('io.k8s.api.core.v1.PodSpec', {}).get(
        'properties', {}).get('containers', {})
    t.ok(status == 200 and containers.get('type') == 'array',
         'OpenAPI v3 apps/v1 describes the pod template', json.dumps(containers)[:300])
    status, _, body = call(d, 'GET', '/openapi/v2')
    t.ok(status == 404 and isinstance(body, dict) and body.get('reason') == 'NotFound',
         '/openapi/v2 is 404 NotFound (v3 only)', '%d %s' % (status, str(body)[:200]))


def run_all(t, d):
    """Every group of checks, in order, against one daemon."""
    run_strict(t, d)
    run_warn_ignore(t, d)
    run_patches(t, d)
    run_stored_objects_are_clean(t, d)
    run_openapi(t, d)


def main():
    t = Tap()
    run_daemon_checks(t, 'claimfs-fields-', lambda d: run_all(t, d))
    t.done()


if __name__ == '__main__':
    main()
