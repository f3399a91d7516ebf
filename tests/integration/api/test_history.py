#!/usr/bin/env python3
"""test_history.py - StatefulSet history (apps/v1 ControllerRevisions) of a live claimfsd.

What a user of `kubectl rollout history` and `rollout undo` sees, with stock
kubectl and raw HTTP: one revision per distinct pod template, named
<set>-<hash> after the hash in status.updateRevision, labelled and owned as
the StatefulSet controller does, its data the template as a replacing
strategic patch; revisions numbered upwards, a template that comes back
renumbered to the newest; the history cut to spec.revisionHistoryLimit; a
dry run makes none; the set's deletion (and its namespace's) takes them
along; the kind's own rules (data required and immutable), discovery,
OpenAPI (kubectl explain), strict field validation, Table columns and watch.

Owns: one temporary work directory and the daemon in it.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB', os.path.join(HERE, '..', 'lib')))
sys.path.insert(0, HERE)
from daemon import run_daemon_checks  # noqa: E402
from tap import Tap  # noqa: E402
from test_kubectl import KUBECTL, Kubectl, rows  # noqa: E402

SETS = '/apis/apps/v1/namespaces/%s/statefulsets'
REVISIONS = '/apis/apps/v1/namespaces/%s/controllerrevisions'
HASH_LABEL = 'controller.kubernetes.io/hash'


def stateful_set(name, image, **spec):
    body = {
        'apiVersion': 'apps/v1', 'kind': 'StatefulSet',
        'metadata': {'name': name, 'annotations': {'kubernetes.io/change-cause': 'first'}},
        'spec': {
            'replicas': 1, 'selector': {'matchLabels': {'app': name}},
            'template': {'metadata': {'labels': {'app': name}},
                         'spec': {'containers': [{'name': 'app', 'image': image}]}},
            'volumeClaimTemplates': [{'metadata': {'name': 'data'}, 'spec': {
                'accessModes': ['ReadWriteOnce'],
                'resources': {'requests': {'storage': '1Mi'}}}}],
        },
    }
    body['spec'].update(spec)
    return body


def call(d, method, path, body=None, content_type='application/json'):
    """(status, decoded answer or None)."""
    status, _, answer = d.request(method, path, body, content_type=content_type)
    try:
        return status, json.loads(answer)
    except ValueError:
        return status, None


def revisions(d, ns, selector=None):
    """The revisions of ns by revision number, as {number: object}."""
    path = REVISIONS % ns + ('?labelSelector=' + selector if selector else '')
    status, doc = call(d, 'GET', path)
    if status != 200:
        return None
    return {item['revision']: item for item in doc['items']}


def set_image(d, ns, name, image, query=''):
    patch = {'spec': {'template': {'spec': {'containers': [{'name': 'app', 'image': image}]}}}}
    return call(d, 'PATCH', SETS % ns + '/' + name + query, patch,
                'application/strategic-merge-patch+json')


def run_shape(t, d):
    status, sts = call(d, 'POST', SETS % 'default', stateful_set('web', 'nginx:1.25'))
    t.eq(status, 201, 'a StatefulSet is created')
    history = revisions(d, 'default') or {}
    t.eq(sorted(history), [1], 'it has one revision, number 1')
    rev = history.get(1, {})
    meta = rev.get('metadata', {})
    t.eq(meta.get('name'), sts['status']['updateRevision'],
         'named as status.updateRevision (<set>-<hash>)')
    t.eq(sts['status']['currentRevision'], sts['status']['updateRevision'],
         'the current revision is the update revision')
    want_hash = sts['status']['updateRevision'][len('web-'):]
    t.eq(meta.get('labels'), {'app': 'web', HASH_LABEL: want_hash},
         'labelled with the template labels and the hash')
    t.eq(meta.get('ownerReferences'),
         [{'apiVersion': 'apps/v1', 'kind': 'StatefulSet', 'name': 'web',
           'uid': sts['metadata']['uid'], 'controller': True, 'blockOwnerDeletion': True}],
         'owned by the set (controller, blockOwnerDeletion)')
    t.eq(meta.get('annotations', {}).get('kubernetes.io/change-cause'), 'first',
         'the set\'s annotations are copied (change-cause)')
    template = dict(sts['spec']['template'], **{'$patch': 'replace'})
    t.eq(rev.get('data'), {'spec': {'template': template}},
         'data is the template as a replacing patch')
    status, one = call(d, 'GET', REVISIONS % 'default' + '/' + meta.get('name', 'x'))
    t.ok(status == 200 and one.get('kind') == 'ControllerRevision'
         and one.get('apiVersion') == 'apps/v1', 'GET of one revision', one)

    status, doc = call(d, 'GET', REVISIONS % 'default')
    version = doc['metadata']['resourceVersion']
    status, _ = set_image(d, 'default', 'web', 'nginx:1.26', '?dryRun=All')
    t.eq(status, 200, 'a dry-run template change is answered')
    status, doc = call(d, 'GET', REVISIONS % 'default')
    t.ok(len(doc['items']) == 1 and doc['metadata']['resourceVersion'] == version,
         'a dry run makes no revision and spends no version', doc)
    status, _ = call(d, 'PATCH', SETS % 'default' + '/web', {'spec': {'replicas': 2}},
                     'application/merge-patch+json')
    t.ok(status == 200 and sorted(revisions(d, 'default')) == [1],
         'scaling keeps the template: no new revision')


def run_kubectl(t, k, d):
    k.ok(t, 'kubectl set image', 'set', 'image', 'sts/web', 'app=nginx:1.26')
    history = revisions(d, 'default', 'app%3Dweb') or {}
    t.eq(sorted(history), [1, 2], 'a new template is revision 2')
    out = k.ok(t, 'kubectl rollout history', 'rollout', 'history', 'statefulset/web')
    t.eq(rows(out.split('\n', 1)[1] if '\n' in out else ''), [['1', 'first'], ['2', 'first']],
         'rollout history lists both revisions with their change-cause')
    out = k.ok(t, 'kubectl rollout history --revision=1', 'rollout', 'history',
               'statefulset/web', '--revision=1')
    t.ok('nginx:1.25' in out and 'nginx:1.26' not in out,
         'rollout history --revision=1 shows the first template', out)
    k.ok(t, 'kubectl rollout undo', 'rollout', 'undo', 'statefulset/web')
    sts = k.json('get', 'sts', 'web') or {}
    image = sts.get('spec', {}).get('template', {}).get('spec', {}).get('containers', [{}])[0]
    t.eq(image.get('image'), 'nginx:1.25', 'undo brings the first template back')
    history = revisions(d, 'default') or {}
    t.eq(sorted(history), [2, 3], 'the template that came back is renumbered 3')
    t.eq(history.get(3, {}).get('metadata', {}).get('name'), sts.get('status', {}).get(
        'updateRevision'), 'revision 3 is the set\'s update revision')
    out = k.ok(t, 'kubectl get controllerrevisions', 'get', 'controllerrevisions')
    t.eq(out.splitlines()[0].split() if out else [], ['NAME', 'CONTROLLER', 'REVISION', 'AGE'],
         'the columns kube-apiserver prints')
    t.ok(sorted(r[1:3] for r in rows(out)) == [['statefulset.apps/web', '2'],
                                              ['statefulset.apps/web', '3']],
         'controller and revision cells', out)
    out = k.ok(t, 'kubectl api-resources --api-group=apps', 'api-resources', '--api-group=apps')
    t.ok(any(r[0] == 'controllerrevisions' for r in rows(out)), 'discovery lists them', out)
    out = k.ok(t, 'kubectl explain controllerrevision.revision', 'explain',
               'controllerrevision.revision')
    t.ok('Revision indicates the revision of the state represented by Data.' in out,
         'OpenAPI v3 describes the kind (kubectl explain)', out)


def run_limit(t, d):
    status, _ = call(d, 'POST', SETS % 'default',
                     stateful_set('lim', 'busybox:1', revisionHistoryLimit=2))
    t.eq(status, 201, 'a set with revisionHistoryLimit 2')
    status, doc = call(d, 'GET', REVISIONS % 'default')
    start = doc['metadata']['resourceVersion']
    for i in range(2, 6):
        set_image(d, 'default', 'lim', 'busybox:%d' % i)
    history = revisions(d, 'default', 'app%3Dlim') or {}
    t.eq(sorted(history), [3, 4, 5], 'the live revision and the 2 newest others stay')
    status, _, body = d.request('GET', REVISIONS % 'default' + '?watch=1&timeoutSeconds=1'
                                '&labelSelector=app%3Dlim&resourceVersion=' + start)
    events = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
    kinds = [(e['type'], e['object']['revision']) for e in events]
    t.ok(('ADDED', 5) in kinds and ('DELETED', 1) in kinds and ('DELETED', 2) in kinds,
         'a watch sees revisions added and pruned', kinds)


def run_rules(t, d):
    body = {'apiVersion': 'apps/v1', 'kind': 'ControllerRevision',
            'metadata': {'name': 'by-hand'}, 'revision': 1}
    status, answer = call(d, 'POST', REVISIONS % 'default', body)
    t.ok(status == 422 and 'data: Required value: data is mandatory' in answer.get('message', ''),
         'a revision without data is 422', answer)
    body['data'] = {'x': 1}
    status, answer = call(d, 'POST', REVISIONS % 'default' + '?fieldValidation=Strict',
                          dict(body, bogus=1))
    t.ok(status == 400 and 'strict decoding error: unknown field "bogus"'
         in answer.get('message', ''), 'fieldValidation=Strict knows the kind\'s fields', answer)
    status, made = call(d, 'POST', REVISIONS % 'default', body)
    t.eq(status, 201, 'a client may create a revision')
    made['data'] = {'x': 2}
    status, answer = call(d, 'PUT', REVISIONS % 'default' + '/by-hand', made)
    t.ok(status == 422 and 'data: Invalid value' in answer.get('message', '')
         and 'field is immutable' in answer.get('message', ''),
         'data is immutable', answer)
    status, _ = call(d, 'DELETE', REVISIONS % 'default' + '/by-hand')
    t.eq(status, 200, 'a revision can be deleted')

    status, _ = call(d, 'DELETE', SETS % 'default' + '/web')
    t.eq(status, 200, 'the set is deleted')
    t.eq(sorted(revisions(d, 'default', 'app%3Dweb') or {}), [],
         'its revisions went with it')
    t.eq(sorted(revisions(d, 'default', 'app%3Dlim') or {}), [3, 4, 5],
         'another set\'s history stays')

    status, _ = call(d, 'POST', SETS % 'hist', stateful_set('ns', 'busybox:1'))
    t.eq(status, 201, 'a set in namespace hist')
    status, _ = call(d, 'DELETE', '/api/v1/namespaces/hist')
    t.eq(status, 200, 'namespace hist is deleted')
    t.eq(revisions(d, 'hist'), {}, 'its revisions are gone with it')


def run_all(t, d):
    k = Kubectl(d.workdir, d.url)
    run_shape(t, d)
    run_kubectl(t, k, d)
    run_limit(t, d)
    run_rules(t, d)


def main():
    t = Tap()
    if KUBECTL is None:
        t.skip_all('kubectl is not installed')
    run_daemon_checks(t, 'claimfs-history-', lambda d: run_all(t, d))
    t.done()


if __name__ == '__main__':
    main()
