#!/usr/bin/env python3
"""test_attributes_class.py - VolumeAttributesClasses (storage.k8s.io/v1) of a
live claimfsd, and claims that name one in spec.volumeAttributesClassName.

The kind is served like the others: discovery (short name vac), OpenAPI
(kubectl explain), every verb over raw HTTP, the Table columns of
kube-apiserver (NAME, DRIVERNAME, AGE) and kubectl apply/get/delete; with the
apiserver's rules (driverName required, parameters required, both immutable).

A claim's class is applied to its volume online, as external-resizer does in
a cluster: the inode limit is what statvfs reports inside the mounted claim,
the durable I/O class makes each close a durable commit
(claimfs_store_durable_commits_total). status.currentVolumeAttributesClassName
follows; a change to a class that does not exist yet is modifyVolumeStatus
Pending until the class is created; one claimfs cannot apply is Infeasible
(with a VolumeModifyFailed event) and changes nothing; pointing the claim back
cancels it. A claim annotation still wins over the class for its key. A
Pending claim naming a missing class is not provisioned until the class
comes. Clones and restores start with their source's attributes for the
keys they do not set themselves. A class carries the kubernetes.io/vac-protection
finalizer: deleted while a claim or a PV names it, it stays Terminating and
goes (DELETED) once the last of them moves to another class or goes; an
unused class goes at once. The values survive a restart.

Owns: one temporary work directory and the daemon in it (stopped by pid).
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB', os.path.join(HERE, '..', 'lib')))
sys.path.insert(0, HERE)
from daemon import run_daemon_checks, wait_for  # noqa: E402
from tap import Tap  # noqa: E402
from test_kubectl import KUBECTL, Kubectl, rows  # noqa: E402

VACS = '/apis/storage.k8s.io/v1/volumeattributesclasses'
CLAIMS = '/api/v1/namespaces/default/persistentvolumeclaims'
DRIVER = 'claimfs.csi.claimfs.io'
DURABLE = 'claimfs_store_durable_commits_total'
MERGE = 'application/merge-patch+json'
EXAMPLE = os.path.join(HERE, '..', '..', '..', 'deploy', 'examples', 'attributes',
                       'volumeattributesclasses.yaml')


def call(d, method, path, body=None, content_type='application/json'):
    """(status, decoded answer or None)."""
    status, _, answer = d.request(method, path, body, content_type=content_type)
    try:
        return status, json.loads(answer)
    except ValueError:
        return status, None


def vac(name, driver=DRIVER, **params):
    return {'apiVersion': 'storage.k8s.io/v1', 'kind': 'VolumeAttributesClass',
            'metadata': {'name': name}, 'driverName': driver, 'parameters': params}


def causes(doc):
    """'field: reason' of each cause of a Status."""
    return ['%s: %s' % (c.get('field'), c.get('message'))
            for c in ((doc or {}).get('details') or {}).get('causes', [])]


def claim(d, name):
    return call(d, 'GET', CLAIMS + '/' + name)[1] or {}


def set_class(d, name, value):
    return call(d, 'PATCH', CLAIMS + '/' + name,
                {'spec': {'volumeAttributesClassName': value}}, MERGE)


def files(d, name):
    return os.statvfs(d.claim_path('default', name)).f_files


def closes_durably(d, name):
    """Whether writing and closing a file in the claim makes a durable commit."""
    before = d.metric(DURABLE)
    with open(os.path.join(d.claim_path('default', name), 'probe'), 'wb') as f:
        f.write(b'x' * 100)
    return d.metric(DURABLE) > before


def run_kind(t, d):
    status, doc = call(d, 'GET', '/apis/storage.k8s.io/v1')
    res = [r for r in (doc or {}).get('resources', []) if r['name'] == 'volumeattributesclasses']
    t.ok(status == 200 and res and res[0]['kind'] == 'VolumeAttributesClass' and
         not res[0]['namespaced'] and res[0].get('shortNames') == ['vac'] and
         {'create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update',
          'watch'} <= set(res[0]['verbs']),
         'discovery: volumeattributesclasses in storage.k8s.io/v1, cluster-scoped, short name vac, every verb',
         json.dumps(res))
    status, doc = call(d, 'GET', '/openapi/v3/apis/storage.k8s.io/v1')
    schemas = ((doc or {}).get('components') or {}).get('schemas', {})
    t.ok('io.k8s.api.storage.v1.VolumeAttributesClass' in schemas and
         '/apis/storage.k8s.io/v1/volumeattributesclasses/{name}' in (doc or {}).get('paths', {}),
         'OpenAPI v3 describes the kind and its paths')

    status, doc = call(d, 'POST', VACS, vac('small', inodeLimit='10'))
    t.ok(status == 201 and doc['metadata'].get('uid') and doc['driverName'] == DRIVER,
         'POST creates a class (uid, driverName kept)', json.dumps(doc))
    status, doc = call(d, 'POST', VACS, vac('small', inodeLimit='10'))
    t.eq(status, 409, 'the same name again is 409 AlreadyExists')
    status, doc = call(d, 'POST', VACS, {'apiVersion': 'storage.k8s.io/v1',
                                         'kind': 'VolumeAttributesClass',
                                         'metadata': {'name': 'bad'}})
    t.ok(status == 422 and 'driverName: Required value' in ' '.join(causes(doc)) and
         any('parameters' in c and 'at least one key/value pair' in c for c in causes(doc)),
         'no driverName and no parameters: 422 naming both', json.dumps(doc))
    status, doc = call(d, 'POST', VACS, vac('bad', driver='not a driver!', x='1'))
    t.ok(status == 422 and any(c.startswith('driverName:') for c in causes(doc)),
         'a driverName that is no qualified name: 422', json.dumps(doc))
    status, doc = call(d, 'POST', VACS, dict(vac('bad'), parameters={'': 'x'}))
    t.ok(status == 422 and 'parameters: Invalid value: "": field can not be empty.' in causes(doc),
         'an empty parameter key: 422', json.dumps(doc))

    status, doc = call(d, 'PATCH', VACS + '/small', {'parameters': {'inodeLimit': '11'}}, MERGE)
    t.ok(status == 422 and 'parameters: Forbidden: updates to parameters are forbidden.' in causes(doc),
         'parameters are immutable (422 Forbidden)', json.dumps(doc))
    status, doc = call(d, 'PATCH', VACS + '/small', {'driverName': 'other.example.com'}, MERGE)
    t.ok(status == 422 and 'driverName: Forbidden: updates to driverName are forbidden.' in causes(doc),
         'driverName is immutable (422 Forbidden)', json.dumps(doc))
    status, doc = call(d, 'PATCH', VACS + '/small', {'metadata': {'labels': {'tier': 'a'}}}, MERGE)
    t.ok(status == 200 and doc['metadata']['labels'] == {'tier': 'a'}, 'labels may change (PATCH)')
    status, cur = call(d, 'GET', VACS + '/small')
    cur['metadata']['annotations'] = {'note': 'x'}
    status, doc = call(d, 'PUT', VACS + '/small', cur)
    t.ok(status == 200 and doc['metadata']['annotations'] == {'note': 'x'}, 'PUT updates metadata')
    status, doc = call(d, 'GET', VACS + '?labelSelector=tier%3Da')
    t.ok(status == 200 and doc['kind'] == 'VolumeAttributesClassList' and
         [i['metadata']['name'] for i in doc['items']] == ['small'],
         'list with a label selector', json.dumps(doc))
    status, _, body = d.request('GET', VACS + '?watch=1&timeoutSeconds=1&resourceVersion=0')
    t.ok(status == 200 and b'"ADDED"' in body and b'"small"' in body, 'watch sends the class')
    status, doc = call(d, 'POST', VACS, vac('gone', ioClass='durable'))
    status, doc = call(d, 'DELETE', VACS + '/gone')
    t.eq((status, call(d, 'GET', VACS + '/gone')[0]), (200, 404), 'DELETE removes a class')
    call(d, 'POST', VACS, vac('gone2', ioClass='durable'))
    status, doc = call(d, 'DELETE', VACS + '?labelSelector=none%3Dnone')
    t.eq((status, call(d, 'GET', VACS + '/gone2')[0]), (200, 200),
         'deletecollection takes only what its selector matches')
    call(d, 'DELETE', VACS + '/gone2')


def run_kubectl(t, k):
    manifest = ('apiVersion: storage.k8s.io/v1\nkind: VolumeAttributesClass\nmetadata:\n'
                '  name: fast\ndriverName: %s\nparameters:\n  ioClass: durable\n'
                '  inodeLimit: "20"\n' % DRIVER)
    k.ok(t, 'kubectl apply -f of a VolumeAttributesClass', 'apply', '-f', '-', stdin=manifest,
         expect='volumeattributesclass.storage.k8s.io/fast created')
    out = k.ok(t, 'kubectl get vac', 'get', 'vac')
    t.eq([r[:2] for r in rows(out)], [['fast', DRIVER], ['small', DRIVER]],
         'kubectl get vac: NAME and DRIVERNAME columns')
    t.ok(out.split()[:3] == ['NAME', 'DRIVERNAME', 'AGE'], 'the columns of kube-apiserver', out)
    k.ok(t, 'kubectl apply again is unchanged', 'apply', '-f', '-', stdin=manifest,
         expect='unchanged')
    out = k.ok(t, 'kubectl explain volumeattributesclass.driverName', 'explain',
               'volumeattributesclass.driverName')
    t.ok('CSI driver' in out, 'kubectl explain describes the field', out)
    k.ok(t, 'kubectl apply + delete of a throwaway class', 'apply', '-f', '-',
         stdin=manifest.replace('name: fast', 'name: temp'))
    k.ok(t, 'kubectl delete vac', 'delete', 'vac', 'temp',
         expect='volumeattributesclass.storage.k8s.io "temp" deleted')
    out = k.ok(t, 'kubectl apply -f deploy/examples/attributes/volumeattributesclasses.yaml',
               'apply', '-f', EXAMPLE)
    t.ok('claimfs-durable created' in out and 'claimfs-many-files created' in out,
         'the classes of deploy/examples are served as they are', out)
    k.ok(t, 'kubectl delete -f of the example classes', 'delete', '-f', EXAMPLE)


def run_claims(t, d):
    body = d.claim_body('data', storage='16Mi')
    body['spec']['volumeAttributesClassName'] = 'small'
    status, doc = call(d, 'POST', CLAIMS, body)
    t.ok(status == 201 and doc['status'].get('phase') == 'Bound' and
         doc['status'].get('currentVolumeAttributesClassName') == 'small',
         'a claim naming class small is provisioned with it as its current class', json.dumps(doc))
    t.eq(files(d, 'data'), 10, "the class's inodeLimit is the claim's f_files inside the mount")
    pv = call(d, 'GET', '/api/v1/persistentvolumes/' + doc['spec']['volumeName'])[1] or {}
    t.eq(pv.get('spec', {}).get('volumeAttributesClassName'), 'small',
         'its PersistentVolume records the class')
    t.ok(not closes_durably(d, 'data'), 'standard I/O class: a close makes no durable commit')

    status, doc = set_class(d, 'data', 'fast')
    t.ok(status == 200 and doc['status'].get('currentVolumeAttributesClassName') == 'fast' and
         'modifyVolumeStatus' not in doc['status'],
         'switching to class fast applies it at once (current class fast)', json.dumps(doc))
    t.eq(files(d, 'data'), 20, 'the new inodeLimit shows inside the mount')
    t.ok(closes_durably(d, 'data'), 'ioClass durable: a close now makes a durable commit')

    status, doc = set_class(d, 'data', 'later')
    t.ok(status == 200 and doc['status'].get('modifyVolumeStatus') ==
         {'targetVolumeAttributesClassName': 'later', 'status': 'Pending'} and
         doc['status'].get('currentVolumeAttributesClassName') == 'fast',
         'a class that does not exist yet: modifyVolumeStatus Pending, current unchanged',
         json.dumps(doc))
    t.eq(files(d, 'data'), 20, 'and the volume keeps its attributes')
    status, _ = call(d, 'POST', VACS, vac('later', inodeLimit='30'))
    doc = claim(d, 'data')
    t.ok(status == 201 and doc['status'].get('currentVolumeAttributesClassName') == 'later' and
         'modifyVolumeStatus' not in doc['status'],
         'creating the class applies the waiting change', json.dumps(doc))
    t.eq((files(d, 'data'), closes_durably(d, 'data')), (30, False),
         "class later's inodeLimit, and its I/O class is the default (standard) again")

    call(d, 'POST', VACS, vac('foreign', driver='ebs.csi.aws.com', iops='3000'))
    call(d, 'POST', VACS, vac('odd', throughput='fast'))
    for name, why in (('foreign', 'ebs.csi.aws.com'), ('odd', 'unknown mutable parameter')):
        status, doc = set_class(d, 'data', name)
        t.ok(status == 200 and doc['status'].get('modifyVolumeStatus') ==
             {'targetVolumeAttributesClassName': name, 'status': 'Infeasible'} and
             doc['status'].get('currentVolumeAttributesClassName') == 'later',
             'class %s: modifyVolumeStatus Infeasible, current unchanged' % name, json.dumps(doc))
        events = call(d, 'GET', '/api/v1/namespaces/default/events?fieldSelector='
                      'reason%3DVolumeModifyFailed')[1] or {}
        t.ok(any(why in e.get('message', '') for e in events.get('items', [])),
             'a VolumeModifyFailed event says why (%s)' % why, json.dumps(events))
    t.eq(files(d, 'data'), 30, 'an infeasible class changes nothing')
    status, doc = set_class(d, 'data', 'later')
    t.ok(status == 200 and 'modifyVolumeStatus' not in doc['status'],
         'pointing the claim back at its current class cancels the change', json.dumps(doc))

    status, doc = call(d, 'PATCH', CLAIMS + '/data',
                       {'metadata': {'annotations': {'claimfs.io/inode-limit': '12'}}}, MERGE)
    t.eq((status, files(d, 'data')), (200, 12), 'an annotation wins over the class for its key')
    status, doc = call(d, 'PATCH', CLAIMS + '/data',
                       {'metadata': {'annotations': {'claimfs.io/inode-limit': None}}}, MERGE)
    t.eq((status, files(d, 'data')), (200, 30), "removing it gives the class's value back")

    status, doc = set_class(d, 'data', None)
    t.ok(status == 422 and any('update to nil is forbidden when status.currentVolumeAttributesClassName '
                               'is not nil' in c for c in causes(doc)),
         'unsetting the class once one was applied: 422', json.dumps(doc))
    status, doc = set_class(d, 'data', '')
    t.ok(status == 422 and any('to an empty string is forbidden' in c for c in causes(doc)),
         'setting it to "": 422', json.dumps(doc))
    status, doc = set_class(d, 'data', 'Not_A_Name')
    t.eq(status, 422, 'a class name that is no DNS subdomain: 422')
    doc = claim(d, 'data')
    doc['status']['currentVolumeAttributesClassName'] = 'small'
    status, _ = call(d, 'PUT', CLAIMS + '/data/status', doc)
    t.eq(claim(d, 'data')['status'].get('currentVolumeAttributesClassName'), 'later',
         'a status write cannot change the current class (claimfsd decides it)')


def run_pending(t, d):
    body = d.claim_body('waits')
    body['spec']['volumeAttributesClassName'] = 'tiny'
    status, doc = call(d, 'POST', CLAIMS, body)
    t.ok(status == 201 and doc['status']['phase'] == 'Pending',
         'a claim naming a class that does not exist stays Pending', json.dumps(doc))
    events = call(d, 'GET', '/api/v1/namespaces/default/events?fieldSelector='
                  'involvedObject.name%3Dwaits')[1] or {}
    t.ok(any(e.get('reason') == 'ProvisioningFailed' and 'tiny' in e.get('message', '')
             for e in events.get('items', [])), 'with a ProvisioningFailed event naming the class')
    status, doc = set_class(d, 'waits', 'small')
    t.eq(status, 422, "a Pending claim's class cannot change (spec is immutable)")
    call(d, 'POST', VACS, vac('tiny', inodeLimit='5', ioClass='durable'))
    doc = claim(d, 'waits')
    t.ok(doc['status']['phase'] == 'Bound' and
         doc['status'].get('currentVolumeAttributesClassName') == 'tiny',
         'creating the class provisions it, with that class', json.dumps(doc))
    t.eq((files(d, 'waits'), closes_durably(d, 'waits')), (5, True),
         'and its volume starts with the class: inodeLimit 5, ioClass durable')


def clone_of(d, name, kind, source, vac_name=None, annotations=None):
    body = d.claim_body(name, storage='16Mi')
    body['spec']['dataSource'] = ({'kind': 'PersistentVolumeClaim', 'name': source} if kind == 'pvc' else
                                  {'apiGroup': 'snapshot.storage.k8s.io', 'kind': 'VolumeSnapshot',
                                   'name': source})
    if vac_name:
        body['spec']['volumeAttributesClassName'] = vac_name
    if annotations:
        body['metadata']['annotations'] = annotations
    return call(d, 'POST', CLAIMS, body)


def notes(doc):
    return {k: v for k, v in (doc.get('metadata', {}).get('annotations') or {}).items()
            if k.startswith('claimfs.io/')}


def run_clones(t, d):
    """Clones and restores start with the source's attributes for the keys
    their own annotations and class leave out."""
    src = d.claim_body('src', storage='16Mi')
    src['metadata']['annotations'] = {'claimfs.io/inode-limit': '50', 'claimfs.io/io-class': 'durable'}
    status, _ = call(d, 'POST', CLAIMS, src)
    status, doc = clone_of(d, 'copy', 'pvc', 'src')
    t.ok(status == 201 and doc['status']['phase'] == 'Bound' and
         notes(doc) == {'claimfs.io/inode-limit': '50', 'claimfs.io/io-class': 'durable'},
         "a clone starts with its source's attributes, shown as its annotations", json.dumps(doc))
    t.eq((files(d, 'copy'), closes_durably(d, 'copy')), (50, True),
         "and its volume has them: the source's inode limit and durable class")
    status, snap = call(d, 'POST', '/apis/snapshot.storage.k8s.io/v1/namespaces/default/volumesnapshots',
                        {'apiVersion': 'snapshot.storage.k8s.io/v1', 'kind': 'VolumeSnapshot',
                         'metadata': {'name': 'snap'},
                         'spec': {'source': {'persistentVolumeClaimName': 'src'}}})
    t.eq(status, 201, 'a snapshot of the source')
    call(d, 'PATCH', CLAIMS + '/src', {'metadata': {'annotations': {'claimfs.io/inode-limit': '70'}}}, MERGE)
    status, doc = clone_of(d, 'restored', 'snapshot', 'snap')
    t.ok(status == 201 and notes(doc) == {'claimfs.io/inode-limit': '50', 'claimfs.io/io-class': 'durable'} and
         files(d, 'restored') == 50,
         'a restore starts with what the source had when the snapshot was taken (50, not the later 70)',
         json.dumps(doc))
    status, doc = clone_of(d, 'own-class', 'pvc', 'src', vac_name='small')
    t.ok(status == 201 and notes(doc) == {'claimfs.io/io-class': 'durable'} and
         doc['status'].get('currentVolumeAttributesClassName') == 'small' and files(d, 'own-class') == 10,
         "a clone naming its own class: the class's inodeLimit wins, the source's I/O class fills the rest",
         json.dumps(doc))
    status, doc = clone_of(d, 'own-notes', 'snapshot', 'snap', annotations={'claimfs.io/io-class': 'standard'})
    t.ok(status == 201 and notes(doc) == {'claimfs.io/io-class': 'standard', 'claimfs.io/inode-limit': '50'} and
         not closes_durably(d, 'own-notes'),
         'a restore with its own annotation keeps it (standard), the rest from the snapshot', json.dumps(doc))
    status, doc = call(d, 'PATCH', CLAIMS + '/copy',
                       {'metadata': {'annotations': {'claimfs.io/inode-limit': None,
                                                     'claimfs.io/io-class': None}}}, MERGE)
    t.eq((status, files(d, 'copy'), closes_durably(d, 'copy')), (200, 16 * 1024 * 1024 // 4096, False),
         "removing the inherited annotations gives the clone claimfs's defaults")
    plain = d.claim_body('plain-src')
    call(d, 'POST', CLAIMS, plain)
    status, doc = clone_of(d, 'plain-copy', 'pvc', 'plain-src')
    t.ok(status == 201 and notes(doc) == {}, 'a clone of a claim with default attributes gets no annotation',
         json.dumps(doc))


FINALIZER = 'kubernetes.io/vac-protection'


def watched(d, since, name):
    """[(type, deletionTimestamp set)] of the watch events on class NAME after
    resourceVersion SINCE."""
    status, _, body = d.request('GET', VACS + '?watch=1&timeoutSeconds=1&resourceVersion=' + since)
    seen = []
    for line in body.decode().splitlines() if status == 200 else []:
        event = json.loads(line)
        meta = event['object'].get('metadata', {})
        if meta.get('name') == name:
            seen.append((event['type'], 'deletionTimestamp' in meta))
    return seen


def run_protection(t, d, k):
    """kubernetes.io/vac-protection, as kube-controller-manager's vac-protection
    controller keeps it: a class a claim or PV names stays Terminating when
    deleted and goes once nothing names it."""
    status, doc = call(d, 'POST', VACS, vac('guarded', inodeLimit='40'))
    t.ok(status == 201 and doc['metadata'].get('finalizers') == [FINALIZER],
         'a new class carries the kubernetes.io/vac-protection finalizer', json.dumps(doc))
    status, doc = call(d, 'PATCH', VACS + '/guarded', {'metadata': {'finalizers': None}}, MERGE)
    t.ok(status == 200 and doc['metadata'].get('finalizers') == [FINALIZER],
         'a live class gets the finalizer back when an update drops it', json.dumps(doc))
    call(d, 'POST', VACS, vac('other', inodeLimit='45'))
    body = d.claim_body('held')
    body['spec']['volumeAttributesClassName'] = 'guarded'
    status, doc = call(d, 'POST', CLAIMS, body)
    t.ok(status == 201 and doc['status'].get('currentVolumeAttributesClassName') == 'guarded',
         'a claim provisioned with class guarded', json.dumps(doc))
    since = call(d, 'GET', VACS)[1]['metadata']['resourceVersion']

    status, doc = call(d, 'DELETE', VACS + '/guarded')
    t.ok(status == 200 and doc['metadata'].get('deletionTimestamp') and
         doc['metadata'].get('finalizers') == [FINALIZER],
         'DELETE of a class a claim uses: 200, Terminating (deletionTimestamp, finalizer kept)',
         json.dumps(doc))
    status, doc = call(d, 'GET', VACS + '/guarded')
    t.ok(status == 200 and doc['metadata'].get('deletionTimestamp'),
         'the class is still there while the claim names it', json.dumps(doc))
    status, again = call(d, 'DELETE', VACS + '/guarded')
    t.ok(status == 200 and again['metadata']['resourceVersion'] == doc['metadata']['resourceVersion'],
         'deleting it again changes nothing', json.dumps(again))
    status, doc = call(d, 'PATCH', VACS + '/guarded', {'metadata': {'labels': {'a': 'b'}}}, MERGE)
    t.ok(status == 200 and doc['metadata'].get('finalizers') == [FINALIZER] and
         call(d, 'GET', VACS + '/guarded')[0] == 200,
         'an update of a Terminating class in use keeps it', json.dumps(doc))
    t.eq(files(d, 'held'), 40, "the claim keeps the Terminating class's attributes")

    status, doc = set_class(d, 'held', 'other')
    t.ok(status == 200 and doc['status'].get('currentVolumeAttributesClassName') == 'other',
         'the claim moves to class other', json.dumps(doc))
    t.eq(call(d, 'GET', VACS + '/guarded')[0], 404,
         'once neither the claim nor its PV names it, the Terminating class is gone')
    t.eq(watched(d, since, 'guarded'), [('MODIFIED', True), ('MODIFIED', True), ('DELETED', True)],
         'watch: MODIFIED (Terminating), the label, then DELETED')

    # A PV alone holds a class too: a Retain volume keeps naming it after its claim goes.
    call(d, 'POST', '/apis/storage.k8s.io/v1/storageclasses',
         {'apiVersion': 'storage.k8s.io/v1', 'kind': 'StorageClass', 'metadata': {'name': 'keep'},
          'provisioner': DRIVER, 'reclaimPolicy': 'Retain'})
    body = d.claim_body('kept')
    body['spec'].update(storageClassName='keep', volumeAttributesClassName='other')
    status, doc = call(d, 'POST', CLAIMS, body)
    volume = doc['spec'].get('volumeName', '')
    call(d, 'DELETE', CLAIMS + '/held')
    k.ok(t, 'kubectl delete vac other --wait=false (still used)', 'delete', 'vac', 'other',
         '--wait=false', expect='volumeattributesclass.storage.k8s.io "other" deleted')
    out = k.ok(t, 'kubectl get vac other -o jsonpath', 'get', 'vac', 'other', '-o',
               'jsonpath={.metadata.deletionTimestamp} {.metadata.finalizers}')
    t.ok(out.split(' ', 1)[0] and FINALIZER in out,
         'kubectl: the class is Terminating with the finalizer', out)
    call(d, 'DELETE', CLAIMS + '/kept')
    pv = call(d, 'GET', '/api/v1/persistentvolumes/' + volume)[1] or {}
    t.ok(pv.get('status', {}).get('phase') == 'Released' and
         pv['spec'].get('volumeAttributesClassName') == 'other' and
         call(d, 'GET', VACS + '/other')[0] == 200,
         'its claim gone, the Released PV still names the class, which stays', json.dumps(pv))
    status, _ = call(d, 'DELETE', '/api/v1/persistentvolumes/' + volume)
    k.ok(t, 'kubectl wait --for=delete: the class goes with the last PV naming it', 'wait',
         '--for=delete', 'vac/other', '--timeout=10s')
    call(d, 'POST', VACS, vac('spare', inodeLimit='9'))
    since = call(d, 'GET', VACS)[1]['metadata']['resourceVersion']
    status, doc = call(d, 'DELETE', VACS + '/spare')
    t.ok(status == 200 and call(d, 'GET', VACS + '/spare')[0] == 404 and
         watched(d, since, 'spare') == [('DELETED', True)],
         'an unused class goes at once: one DELETED event', json.dumps(doc))


def run_restart(t, d):
    d.stop()
    d.start()
    doc = claim(d, 'data')
    t.ok(doc['status'].get('currentVolumeAttributesClassName') == 'later' and files(d, 'data') == 30 and
         files(d, 'waits') == 5 and closes_durably(d, 'waits'),
         'after a restart: the same classes and attributes', json.dumps(doc))


def run_check(t, d):
    """claimfsd --check of the stopped store finds every volume's attributes
    as its claim asks, whatever the classes and clones above did."""
    d.stop()
    res = subprocess.run([d.binary, '--check', '--store', d.store], capture_output=True, text=True,
                         timeout=120, check=False)
    t.ok(res.returncode == 0 and 'attributes:' not in res.stdout + res.stderr,
         'claimfsd --check: the attributes of every volume are what its claim asks for',
         res.stdout + res.stderr)
    d.start()


def run_all(t, d):
    run_kind(t, d)
    run_kubectl(t, Kubectl(d.workdir, d.url))
    run_claims(t, d)
    run_pending(t, d)
    run_clones(t, d)
    run_protection(t, d, Kubectl(d.workdir, d.url))
    run_restart(t, d)
    run_check(t, d)


def main():
    t = Tap()
    if KUBECTL is None:
        t.skip_all('kubectl is not installed')
    run_daemon_checks(t, 'claimfs-vac-', lambda d: run_all(t, d))
    t.done()


if __name__ == '__main__':
    main()
