#!/usr/bin/env python3
"""test_metadata.py - labels and annotations are checked as the API server checks them.

For every kind (claims, volumes, classes, StatefulSets, snapshots) and every
write verb (create, update, merge/JSON/strategic patch, server-side apply), a
bad label key, a bad label value, an over-long label value, a bad annotation
key and more than 256 KiB of annotations are answered 422 Invalid with the
apiserver's field messages and causes, and nothing is stored (the object and
the store's resourceVersion are unchanged). Then stock kubectl: `kubectl
label` and `kubectl create` with bad labels fail with the same message, and
good ones still work.
"""

import json
import os
import sys

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(__file__), '..', 'lib')))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon import Daemon, run_daemon_checks  # noqa: E402
from tap import Tap  # noqa: E402
from test_kubectl import KUBECTL, Kubectl  # noqa: E402

NAME_PART = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must "
             "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
             "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
VALUE_RULE = ("a valid label must be an empty string or consist of alphanumeric characters, "
              "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
              "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
              "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
LONG_VALUE = 'v' * 81

# (what, metadata members, the field error message, the cause's field)
BAD_METADATA = [
    ('label key "bad key"', {'labels': {'bad key': '1'}},
     'metadata.labels: Invalid value: "bad key": ' + NAME_PART, 'metadata.labels'),
    ('label value "-bad value-"', {'labels': {'ok': '-bad value-'}},
     'metadata.labels: Invalid value: "-bad value-": ' + VALUE_RULE, 'metadata.labels'),
    ('an 81-character label value', {'labels': {'ok': LONG_VALUE}},
     'metadata.labels: Invalid value: "%s": must be no more than 63 characters' % LONG_VALUE,
     'metadata.labels'),
    ('annotation key "bad annotation key!"', {'annotations': {'bad annotation key!': 'x'}},
     'metadata.annotations: Invalid value: "bad annotation key!": ' + NAME_PART,
     'metadata.annotations'),
    ('256 KiB + 1 byte of annotations', {'annotations': {'a': 'x' * (256 * 1024)}},
     'metadata.annotations: Too long: must have at most 262144 bytes', 'metadata.annotations'),
]


def pvc(name):
    return Daemon.claim_body(name)


def pv(name):
    return {'apiVersion': 'v1', 'kind': 'PersistentVolume', 'metadata': {'name': name},
            'spec': {'capacity': {'storage': '1Mi'}, 'accessModes': ['ReadWriteOnce'],
                     'csi': {'driver': 'claimfs.csi.claimfs.io', 'volumeHandle': name}}}


def sc(name):
    return {'apiVersion': 'storage.k8s.io/v1', 'kind': 'StorageClass', 'metadata': {'name': name},
            'provisioner': 'claimfs.csi.claimfs.io'}


def sts(name):
    labels = {'app': name}
    return {'apiVersion': 'apps/v1', 'kind': 'StatefulSet', 'metadata': {'name': name},
            'spec': {'serviceName': name, 'replicas': 0, 'selector': {'matchLabels': labels},
                     'template': {'metadata': {'labels': labels},
                                  'spec': {'containers': [{'name': 'c', 'image': 'busybox'}]}}}}


def vs(name):
    return {'apiVersion': 'snapshot.storage.k8s.io/v1', 'kind': 'VolumeSnapshot',
            'metadata': {'name': name},
            'spec': {'source': {'persistentVolumeClaimName': 'meta-source'}}}


# (kind, collection URL, manifest maker)
KINDS = [
    ('PersistentVolumeClaim', '/api/v1/namespaces/default/persistentvolumeclaims', pvc),
    ('PersistentVolume', '/api/v1/persistentvolumes', pv),
    ('StorageClass', '/apis/storage.k8s.io/v1/storageclasses', sc),
    ('StatefulSet', '/apis/apps/v1/namespaces/default/statefulsets', sts),
    ('VolumeSnapshot', '/apis/snapshot.storage.k8s.io/v1/namespaces/default/volumesnapshots', vs),
]


def with_metadata(body, extra):
    body = json.loads(json.dumps(body))
    body['metadata'].update(extra)
    return body


def check_invalid(t, resp, kind, name, message, field, desc):
    """RESP is 422 Invalid naming KIND/NAME, with MESSAGE and a cause at FIELD."""
    status, _, raw = resp
    try:
        obj = json.loads(raw)
    except ValueError:
        obj = {}
    causes = obj.get('details', {}).get('causes', [])
    good = (status == 422 and obj.get('kind') == 'Status' and obj.get('reason') == 'Invalid'
            and obj.get('message') == '%s "%s" is invalid: %s' % (kind, name, message)
            and any(c.get('field') == field and c.get('reason', '').startswith('FieldValue')
                    for c in causes))
    t.ok(good, desc, 'HTTP %d %s' % (status, raw[:1200].decode('utf-8', 'replace')))


def store_state(d, url, name):
    """(the object's JSON or None, the collection's resourceVersion)."""
    status, _, raw = d.request('GET', '%s/%s' % (url, name))
    obj = json.loads(raw) if status == 200 else None
    _, _, raw = d.request('GET', url)
    return obj, json.loads(raw).get('metadata', {}).get('resourceVersion')


def write_verbs(url, make, name, extra):
    """(verb, method, path, body, content type) sending EXTRA metadata to NAME."""
    bad = with_metadata(make(name), extra)
    merge = {'metadata': extra}
    ops = [{'op': 'add', 'path': '/metadata/%s' % member, 'value': value}
           for member, value in extra.items()]
    return [
        ('update', 'PUT', '%s/%s' % (url, name), bad, 'application/json'),
        ('merge patch', 'PATCH', '%s/%s' % (url, name), merge, 'application/merge-patch+json'),
        ('JSON patch', 'PATCH', '%s/%s' % (url, name), ops, 'application/json-patch+json'),
        ('strategic merge patch', 'PATCH', '%s/%s' % (url, name), merge,
         'application/strategic-merge-patch+json'),
        ('apply', 'PATCH', '%s/%s?fieldManager=test&force=true' % (url, name), bad,
         'application/apply-patch+yaml'),
        ('apply of a new object', 'PATCH', '%s/%s-new?fieldManager=test' % (url, name),
         with_metadata(make(name + '-new'), extra), 'application/apply-patch+yaml'),
    ]


def run_kind(t, d, kind, url, make):
    name = 'meta-%s' % kind.lower()
    status, _, raw = d.request('POST', url, make(name))
    if not t.eq(status, 201, '%s: a good object is created' % kind):
        t.diag(raw.decode('utf-8', 'replace')[:600])
        return
    for what, extra, message, field in BAD_METADATA:
        before = store_state(d, url, name)
        check_invalid(t, d.request('POST', url, with_metadata(make(name + '-bad'), extra)), kind,
                      name + '-bad', message, field, '%s create with %s: 422' % (kind, what))
        for verb, method, path, body, ctype in write_verbs(url, make, name, extra):
            shown = name + '-new' if verb == 'apply of a new object' else name
            check_invalid(t, d.request(method, path, body, content_type=ctype), kind, shown,
                          message, field, '%s %s with %s: 422' % (kind, verb, what))
        after = store_state(d, url, name)
        gone = [d.request('GET', '%s/%s' % (url, n))[0] for n in (name + '-bad', name + '-new')]
        t.ok(after == before and gone == [404, 404],
             '%s with %s: nothing stored, resourceVersion unchanged' % (kind, what),
             'before %r\nafter  %r\nGETs %r' % (before[1], after[1], gone))
    good = {'labels': {'example.com/Tier': 'Gold_1', 'app': ''},
            'annotations': {'Example.COM/Note': 'x' * 1000}}
    status, _, raw = d.request('PATCH', '%s/%s' % (url, name), {'metadata': good},
                               content_type='application/merge-patch+json')
    obj = json.loads(raw) if status == 200 else {}
    t.ok(status == 200 and obj['metadata'].get('labels', {}).get('example.com/Tier') == 'Gold_1',
         '%s: prefixed keys, mixed case names and empty values are still accepted' % kind,
         'HTTP %d %s' % (status, raw[:600]))


def run_many_errors(t, d):
    """Every broken rule is reported, as the apiserver lists them."""
    url = KINDS[0][1]
    body = with_metadata(pvc('meta-many'), {'labels': {'bad key': '-bad value-'}})
    status, _, raw = d.request('POST', url, body)
    obj = json.loads(raw)
    t.ok(status == 422 and obj['message'] ==
         'PersistentVolumeClaim "meta-many" is invalid: [metadata.labels: Invalid value: '
         '"bad key": %s, metadata.labels: Invalid value: "-bad value-": %s]'
         % (NAME_PART, VALUE_RULE) and len(obj['details']['causes']) == 2,
         'a bad key and a bad value: two causes in one Invalid', raw[:1500])


def run_kubectl(t, workdir, d):
    k = Kubectl(workdir, d.url)
    k.ok(t, 'kubectl create pvc', 'apply', '-f', '-', stdin=json.dumps(pvc('meta-kubectl')))
    before = k.json('get', 'pvc', 'meta-kubectl')
    err = k.fails(t, "kubectl label pvc meta-kubectl 'bad key=1' fails",
                  'label', 'pvc', 'meta-kubectl', 'bad key=1')
    t.ok('The PersistentVolumeClaim "meta-kubectl" is invalid: metadata.labels: Invalid value: '
         '"bad key": ' + NAME_PART in err, 'kubectl label shows the apiserver message', err)
    err = k.fails(t, "kubectl annotate pvc meta-kubectl 'bad annotation key!=x' fails",
                  'annotate', 'pvc', 'meta-kubectl', 'bad annotation key!=x')
    t.ok('metadata.annotations: Invalid value: "bad annotation key!": ' + NAME_PART in err,
         'kubectl annotate shows the apiserver message', err)
    t.eq(k.json('get', 'pvc', 'meta-kubectl'), before,
         'after the failed label and annotate the claim is unchanged')
    bad = with_metadata(pvc('meta-created'), {'labels': {'bad key': '1'}})
    err = k.fails(t, 'kubectl create with a bad label key fails', 'create', '-f', '-',
                  stdin=json.dumps(bad))
    t.ok('The PersistentVolumeClaim "meta-created" is invalid: metadata.labels: Invalid value: '
         '"bad key": ' + NAME_PART in err, 'kubectl create shows the apiserver message', err)
    rc, _, _ = k('get', 'pvc', 'meta-created')
    t.ok(rc != 0 and not os.path.exists(d.claim_path('default', 'meta-created')),
         'the claim with the bad label was not created')
    k.ok(t, 'kubectl label with a good label works', 'label', 'pvc', 'meta-kubectl',
         'example.com/tier=gold')
    out = k.ok(t, 'kubectl get pvc -l selects it', 'get', 'pvc', '-l', 'example.com/tier=gold',
               '-o', 'name')
    t.eq(out.split(), ['persistentvolumeclaim/meta-kubectl'], 'the selector finds the claim')


def main():
    t = Tap()

    def checks(d):
        d.create_claim('default', 'meta-source')
        for kind, url, make in KINDS:
            run_kind(t, d, kind, url, make)
        run_many_errors(t, d)
        if KUBECTL is not None:
            run_kubectl(t, d.workdir, d)
        else:
            t.ok(False, 'kubectl is installed (the kubectl checks need it)')

    run_daemon_checks(t, 'claimfs-metadata-', checks)
    t.done()


if __name__ == '__main__':
    main()
