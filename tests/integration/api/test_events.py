#!/usr/bin/env python3
"""test_events.py - Events and Namespaces of a live claimfsd, with stock kubectl and raw HTTP.

Checks what a user asking "why is my claim Pending?" sees: the events the
model records (ProvisioningSucceeded, ProvisioningFailed with the cause,
ExternalProvisioning, Resizing / VolumeResizeSuccessful, the StatefulSet
controller's SuccessfulCreate) in `kubectl get events`, `kubectl events` and
`kubectl describe pvc`, their field selectors, the events.k8s.io/v1 view,
aggregation of repeats, none for a dry run, client-posted events, watch,
and expiry (a daemon started with --event-ttl 2s). Then namespaces:
create/get/list/delete with kubectl, implicit namespaces of claims, deletion
honouring each claim's reclaim policy, and Terminating refusing new content
with the apiserver's 403.

Owns: one temporary work directory and the daemons in it.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB', os.path.join(HERE, '..', 'lib')))
sys.path.insert(0, HERE)
from daemon import Daemon, serve_checks  # noqa: E402
from tap import Tap  # noqa: E402
from test_kubectl import KUBECTL, Kubectl, rows  # noqa: E402

EVENTS = '/api/v1/namespaces/%s/events'
EVENTS_V1 = '/apis/events.k8s.io/v1/namespaces/%s/events'
PVCS = '/api/v1/namespaces/%s/persistentvolumeclaims'


def get_json(d, path):
    """(status, decoded body or None) of a GET."""
    status, _, body = d.request('GET', path)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None


def events_of(d, ns, selector, group_path=EVENTS):
    """The items of an event list with fieldSelector SELECTOR (None on failure)."""
    status, doc = get_json(d, group_path % ns + '?fieldSelector=' +
                           urllib.parse.quote(selector))
    return doc.get('items') if status == 200 and doc else None


def claim(d, ns, name, query='', **spec):
    """POST a claim; (status, decoded answer)."""
    body = Daemon.claim_body(name)
    body['spec'].update(spec)
    status, _, answer = d.request('POST', PVCS % ns + query, body)
    return status, json.loads(answer)


def run_recorded(t, k, d):
    status, ok = claim(d, 'default', 'ev-ok')
    t.eq(status, 201, 'a claim of the default class is created')
    out = k.ok(t, 'kubectl get events', 'get', 'events')
    t.eq(out.splitlines()[0].split() if out else [],
         ['LAST', 'SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'], 'event columns as kubectl prints them')
    want = ['Normal', 'ProvisioningSucceeded', 'persistentvolumeclaim/ev-ok',
            'Successfully provisioned volume pvc-%s' % ok['metadata']['uid']]
    t.ok(any(r[1:] == want for r in rows(out)), 'kubectl get events shows ProvisioningSucceeded',
         out)

    status, _ = claim(d, 'default', 'ev-nope', storageClassName='nope')
    t.eq(status, 201, 'a claim of a class that does not exist is created (Pending)')
    out = k.ok(t, 'kubectl describe pvc ev-nope', 'describe', 'pvc', 'ev-nope')
    t.ok('ProvisioningFailed' in out and 'storageclass.storage.k8s.io "nope" not found' in out
         and 'persistentvolume-controller' in out,
         'describe pvc shows ProvisioningFailed with the cause', out)
    out = k.ok(t, 'kubectl events --for pvc/ev-nope', 'events', '--for', 'pvc/ev-nope')
    t.ok('ProvisioningFailed' in out and 'Successfully' not in out,
         'kubectl events --for lists only that claim\'s events', out)

    k.ok(t, 'a class of another provisioner', 'apply', '-f', '-',
         stdin='apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: elsewhere\n'
               'provisioner: example.com/other\n')
    status, _ = claim(d, 'default', 'ev-ext', storageClassName='elsewhere')
    items = events_of(d, 'default', 'involvedObject.name=ev-ext') or []
    t.ok(status == 201 and [e['reason'] for e in items] == ['ExternalProvisioning']
         and "external provisioner 'example.com/other'" in items[0]['message'],
         'a class that is not ours: ExternalProvisioning names its provisioner', items)
    failed = events_of(d, 'default', 'involvedObject.name=ev-nope') or []
    t.ok(len(failed) == 1 and failed[0]['count'] == 2,
         'a repeat (the new class made the controller look again) counts up one event',
         failed)
    out = k.ok(t, 'kubectl get events (aggregated)', 'get', 'events',
               '--field-selector', 'involvedObject.name=ev-nope')
    t.ok(rows(out) and '(x2 over' in rows(out)[0][0], 'LAST SEEN says (x2 over ...)', out)
    micro = r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$'
    series = failed[0].get('series', {}) if failed else {}
    t.ok(series.get('count') == 2 and re.match(micro, series.get('lastObservedTime', '')),
         'the repeat starts a series (count 2, lastObservedTime a MicroTime)', failed)
    v1 = events_of(d, 'default', 'regarding.name=ev-nope', EVENTS_V1) or [{}]
    t.ok(v1[0].get('series') == series and v1[0].get('deprecatedCount') == 2,
         'events.k8s.io/v1 reads the same series', v1)
    k.ok(t, 'another class', 'apply', '-f', '-',
         stdin='apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: elsewhere2\n'
               'provisioner: example.com/other\n')
    v1 = events_of(d, 'default', 'regarding.name=ev-nope', EVENTS_V1) or [{}]
    t.ok(len(v1) == 1 and v1[0].get('series', {}).get('count') == 3
         and v1[0].get('deprecatedCount') == 3
         and re.match(micro, v1[0].get('series', {}).get('lastObservedTime', '')),
         'another repeat counts the series up with the core count', v1)

    status, _ = claim(d, 'default', 'ev-dry', query='?dryRun=All')
    t.eq(status, 201, 'a dry-run create answers 201')
    t.eq(events_of(d, 'default', 'involvedObject.name=ev-dry'), [],
         'a dry-run create records no event')

    k.ok(t, 'expand ev-ok', 'patch', 'pvc', 'ev-ok', '-p',
         '{"spec":{"resources":{"requests":{"storage":"2Mi"}}}}', expect='patched')
    reasons = [e['reason'] for e in events_of(d, 'default', 'involvedObject.name=ev-ok') or []]
    t.ok('Resizing' in reasons and 'VolumeResizeSuccessful' in reasons,
         'expansion records Resizing and VolumeResizeSuccessful', reasons)
    pvc = k.json('get', 'pvc', 'ev-ok') or {}
    t.eq([c.get('type') for c in pvc.get('status', {}).get('conditions', [])], [],
         'a completed expansion leaves no Resizing/FileSystemResizePending condition')

    k.ok(t, 'a StatefulSet with a claim template', 'apply', '-f', '-',
         stdin='apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\nspec:\n'
               '  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n'
               '    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n'
               '      - {name: c, image: busybox}\n  volumeClaimTemplates:\n'
               '  - metadata:\n      name: data\n    spec:\n      accessModes: [ReadWriteOnce]\n'
               '      resources:\n        requests:\n          storage: 1Mi\n')
    items = events_of(d, 'default', 'involvedObject.kind=StatefulSet,involvedObject.name=web')
    t.ok(items and items[0]['reason'] == 'SuccessfulCreate'
         and items[0]['message'] == 'create Claim data-web-0 Pod web-0 in StatefulSet web success'
         and items[0]['source']['component'] == 'statefulset-controller',
         'the StatefulSet controller\'s SuccessfulCreate for the claim it made', items)


def run_selectors(t, d):
    uid = get_json(d, PVCS % 'default' + '/ev-ok')[1]['metadata']['uid']
    items = events_of(d, 'default', 'involvedObject.uid=%s,reason=ProvisioningSucceeded' % uid)
    t.ok(items is not None and len(items) == 1, 'fieldSelector involvedObject.uid + reason', items)
    items = events_of(d, 'default', 'type=Warning') or []
    t.ok(items and all(e['type'] == 'Warning' for e in items), 'fieldSelector type=Warning', items)
    items = events_of(d, 'default', 'involvedObject.namespace=default,'
                      'involvedObject.kind=PersistentVolumeClaim') or []
    t.ok(items and all(e['involvedObject']['kind'] == 'PersistentVolumeClaim' for e in items),
         'fieldSelector involvedObject.namespace + kind', len(items))
    status, _, body = d.request('GET', EVENTS % 'default' + '?fieldSelector=spec.volumeName%3Dx')
    t.ok(status == 400 and b'field label not supported: spec.volumeName' in body,
         'an unsupported field label on events is 400', body)
    status, _, body = d.request('GET', PVCS % 'default' +
                                '?fieldSelector=involvedObject.name%3Dx')
    t.eq(status, 400, 'involvedObject.name is no field of claims (400)')

    items = events_of(d, 'default', 'regarding.name=ev-ok,reason=ProvisioningSucceeded',
                      EVENTS_V1) or []
    t.ok(len(items) == 1 and items[0]['apiVersion'] == 'events.k8s.io/v1'
         and items[0]['regarding']['kind'] == 'PersistentVolumeClaim'
         and items[0]['note'].startswith('Successfully provisioned volume')
         and items[0]['deprecatedCount'] == 1,
         'events.k8s.io/v1 lists the same event in its shape (regarding.* selectors)', items)
    status, doc = get_json(d, '/apis/events.k8s.io/v1')
    t.ok(status == 200 and [r['name'] for r in doc['resources']] == ['events'],
         'discovery serves events.k8s.io/v1', doc)
    status, doc = get_json(d, '/api/v1')
    names = {r['name']: r for r in doc['resources']} if doc else {}
    t.ok('namespaces' in names and 'create' in names.get('events', {}).get('verbs', []),
         'core discovery lists namespaces and writable events', sorted(names))
    status, doc = get_json(d, '/openapi/v3/apis/events.k8s.io/v1')
    t.ok(status == 200 and 'io.k8s.api.events.v1.Event' in doc['components']['schemas'],
         'OpenAPI v3 document of events.k8s.io/v1', status)


def run_client_events(t, d):
    body = {'apiVersion': 'v1', 'kind': 'Event', 'metadata': {'name': 'mine.1'},
            'involvedObject': {'kind': 'PersistentVolumeClaim', 'namespace': 'default',
                               'name': 'ev-ok'},
            'reason': 'Checked', 'message': 'a client reports', 'type': 'Normal', 'count': 1}
    status, rv_doc = get_json(d, EVENTS % 'default')
    rv = rv_doc['metadata']['resourceVersion'] if rv_doc else '0'
    status, _, answer = d.request('POST', EVENTS % 'default', body)
    t.eq(status, 201, 'a client posts a core/v1 event')
    status, got = get_json(d, EVENTS % 'default' + '/mine.1')
    t.ok(status == 200 and got['message'] == 'a client reports', 'and gets it back', got)
    status, got = get_json(d, EVENTS_V1 % 'default' + '/mine.1')
    t.ok(status == 200 and got['note'] == 'a client reports', 'also from events.k8s.io/v1', got)
    bad = dict(body, metadata={'name': 'mine.2'},
               involvedObject={'kind': 'PersistentVolumeClaim', 'namespace': 'other', 'name': 'x'})
    status, _, answer = d.request('POST', EVENTS % 'default', bad)
    t.ok(status == 422 and b'does not match event.namespace' in answer,
         'an event about another namespace\'s object is 422', answer)
    v1 = {'apiVersion': 'events.k8s.io/v1', 'kind': 'Event', 'metadata': {'name': 'mine.3'},
          'eventTime': '2026-01-01T00:00:00.000000Z', 'reportingController': 'me',
          'reportingInstance': 'me-1', 'action': 'Check', 'reason': 'Checked', 'type': 'Normal',
          'regarding': {'kind': 'PersistentVolumeClaim', 'namespace': 'default', 'name': 'ev-ok'},
          'note': 'v1 post'}
    status, _, answer = d.request('POST', EVENTS_V1 % 'default', v1)
    status2, got = get_json(d, EVENTS % 'default' + '/mine.3')
    t.ok(status == 201 and status2 == 200 and got['message'] == 'v1 post'
         and got['involvedObject']['name'] == 'ev-ok',
         'an events.k8s.io/v1 post is a core event too', (status, answer[:300], got))
    status, _, answer = d.request('GET', EVENTS % 'default' + '?watch=true&timeoutSeconds=1&'
                                  'resourceVersion=%s' % rv)
    lines = [json.loads(x) for x in answer.decode().splitlines() if x.strip()]
    t.ok(status == 200 and [(e['type'], e['object']['metadata']['name']) for e in lines]
         == [('ADDED', 'mine.1'), ('ADDED', 'mine.3')],
         'a watch of events sees them added', lines)
    status, _, answer = d.request('DELETE', EVENTS % 'default' + '/mine.1')
    t.eq((status, get_json(d, EVENTS % 'default' + '/mine.1')[0]), (200, 404),
         'a client deletes an event')

    # Events are the kind whose PUT may create (AllowCreateOnUpdate), as
    # client-go's event recorder relies on.
    put = dict(body, metadata={'name': 'mine.4'})
    status, _, answer = d.request('PUT', EVENTS % 'default' + '/mine.4?dryRun=All', put)
    t.ok(status == 201 and get_json(d, EVENTS % 'default' + '/mine.4')[0] == 404,
         'a dry-run PUT of a missing event answers 201 and stores nothing', answer[:300])
    status, _, answer = d.request('PUT', EVENTS % 'default' + '/mine.4', put)
    status2, got = get_json(d, EVENTS % 'default' + '/mine.4')
    t.ok(status == 201 and status2 == 200 and got['message'] == 'a client reports',
         'a PUT of a missing event creates it (201)', (status, answer[:300]))
    status, _, answer = d.request('PUT', EVENTS % 'default' + '/mine.5', put)
    t.ok(status == 400 and b'does not match the name on the URL' in answer,
         'a PUT-create whose body names another event is 400', answer[:300])
    v1_put = dict(v1, metadata={'name': 'mine.6'})
    status, _, answer = d.request('PUT', EVENTS_V1 % 'default' + '/mine.6', v1_put)
    t.ok(status == 201 and get_json(d, EVENTS % 'default' + '/mine.6')[0] == 200,
         'an events.k8s.io/v1 PUT of a missing event creates it too', answer[:300])
    status, _, answer = d.request('PUT', PVCS % 'default' + '/not-there',
                                  Daemon.claim_body('not-there'))
    t.eq(status, 404, 'a PUT of a missing claim stays NotFound (claims are not created so)')


def run_expiry(t, workdir):
    with Daemon(os.path.join(workdir, 'ttl')) as d:
        d.start(extra_args=('--event-ttl', '2s'))
        claim(d, 'default', 'short')
        t.eq(len(events_of(d, 'default', 'involvedObject.name=short') or []), 1,
             'with --event-ttl 2s the event is there at first')
        deadline = time.time() + 10
        while time.time() < deadline and events_of(d, 'default', 'involvedObject.name=short'):
            time.sleep(0.25)
        t.eq(events_of(d, 'default', 'involvedObject.name=short'), [],
             'and gone a few seconds later')
        t.eq(d.stop(), 0, 'the daemon with an expiry thread exits 0')
    proc = subprocess.run([os.environ.get('CLAIMFSD', 'claimfsd'), '--event-ttl', '1x'],
                          capture_output=True, text=True, timeout=30, check=False)
    t.ok(proc.returncode != 0 and '--event-ttl takes a positive duration' in proc.stderr,
         'a malformed --event-ttl is refused', proc.stderr)


def run_namespaces(t, k, d):
    out = k.ok(t, 'kubectl get ns', 'get', 'ns')
    t.eq(out.splitlines()[0].split() if out else [], ['NAME', 'STATUS', 'AGE'], 'namespace columns')
    t.ok(['default', 'Active'] == (rows(out) or [[]])[0][:2], 'default is Active', out)
    k.ok(t, 'kubectl create ns team', 'create', 'ns', 'team', expect='namespace/team created')
    k.fails(t, 'creating it again is AlreadyExists', 'create', 'ns', 'team',
            expect='AlreadyExists')
    k.fails(t, 'a namespace name must be a DNS label', 'create', 'ns', 'a.b', expect='Invalid')
    got = k.json('get', 'ns', 'team') or {}
    t.ok(got.get('status', {}).get('phase') == 'Active'
         and got.get('spec', {}).get('finalizers') == ['kubernetes']
         and got['metadata']['labels'].get('kubernetes.io/metadata.name') == 'team',
         'kubectl get ns team: Active, finalizer kubernetes, name label', got)
    claim(d, 'implied', 'x')
    out = k.ok(t, 'kubectl get ns after a claim in a new namespace', 'get', 'ns')
    t.ok(['implied', 'Active'] in [r[:2] for r in rows(out)],
         'a namespace used by a claim is listed Active', out)

    k.ok(t, 'a Retain class', 'apply', '-f', '-',
         stdin='apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n'
               '  name: keep\nprovisioner: claimfs.csi.claimfs.io\nreclaimPolicy: Retain\n')
    claim(d, 'team', 'kept', storageClassName='keep')
    claim(d, 'team', 'dropped')
    kept = get_json(d, PVCS % 'team' + '/kept')[1]['spec']['volumeName']
    dropped = get_json(d, PVCS % 'team' + '/dropped')[1]['spec']['volumeName']
    with open(os.path.join(d.claim_path('team', 'kept'), 'f'), 'w', encoding='ascii') as f:
        f.write('data\n')
    k.ok(t, 'kubectl delete ns team', 'delete', 'ns', 'team', expect='namespace "team" deleted')
    k.fails(t, 'the namespace is gone', 'get', 'ns', 'team', expect='NotFound')
    t.eq(get_json(d, PVCS % 'team')[1]['items'], [], 'its claims are gone')
    pv = k.json('get', 'pv', kept) or {}
    t.eq(pv.get('status', {}).get('phase'), 'Released', 'the Retain claim\'s volume is Released')
    k.fails(t, 'the Delete claim\'s volume is gone', 'get', 'pv', dropped, expect='NotFound')
    t.eq(events_of(d, 'team', 'metadata.namespace=team'), [], 'its events are gone')

    k.ok(t, 'create ns hold', 'create', 'ns', 'hold')
    k.ok(t, 'a client finalizer', 'patch', 'ns', 'hold', '--type=merge', '-p',
         '{"metadata":{"finalizers":["example.com/hold"]}}')
    k.ok(t, 'delete ns hold', 'delete', 'ns', 'hold', '--wait=false')
    out = k.ok(t, 'kubectl get ns hold', 'get', 'ns', 'hold')
    t.ok(rows(out) and rows(out)[0][1] == 'Terminating', 'held by its finalizer: Terminating', out)
    status, answer = claim(d, 'hold', 'late')
    t.ok(status == 403 and answer.get('reason') == 'Forbidden'
         and answer.get('message') == 'persistentvolumeclaims "late" is forbidden: unable to '
         'create new content in namespace hold because it is being terminated',
         'creating in a Terminating namespace is 403 Forbidden', answer)
    forbidden = ('%s "late" is forbidden: unable to create new content in namespace hold '
                 'because it is being terminated')
    event = {'apiVersion': 'v1', 'kind': 'Event', 'metadata': {'name': 'late'},
             'involvedObject': {'kind': 'Namespace', 'name': 'hold'}, 'reason': 'Late',
             'message': 'm', 'type': 'Normal'}
    v1 = {'apiVersion': 'events.k8s.io/v1', 'kind': 'Event', 'metadata': {'name': 'late'},
          'eventTime': '2026-01-01T00:00:00.000000Z', 'reportingController': 'me',
          'reportingInstance': 'me-1', 'action': 'Check', 'reason': 'Late', 'type': 'Normal'}
    apply = json.dumps(dict(Daemon.claim_body('late'), apiVersion='v1',
                            kind='PersistentVolumeClaim'))
    for desc, method, path, body, ctype, resource in (
            ('a PUT that creates an event', 'PUT', EVENTS % 'hold' + '/late', event,
             'application/json', 'events'),
            ('an events.k8s.io PUT that creates', 'PUT', EVENTS_V1 % 'hold' + '/late', v1,
             'application/json', 'events.events.k8s.io'),
            ('a POST of an events.k8s.io event', 'POST', EVENTS_V1 % 'hold', v1,
             'application/json', 'events.events.k8s.io'),
            ('a server-side apply that creates', 'PATCH',
             PVCS % 'hold' + '/late?fieldManager=test', apply, 'application/apply-patch+yaml',
             'persistentvolumeclaims')):
        status, _, answer = d.request(method, path, body, content_type=ctype)
        doc = json.loads(answer) if answer.startswith(b'{') else {}
        t.ok(status == 403 and doc.get('reason') == 'Forbidden'
             and doc.get('message') == forbidden % resource,
             '%s in a Terminating namespace is 403 Forbidden' % desc, (status, answer[:400]))
    k.ok(t, 'the finalizer removed', 'patch', 'ns', 'hold', '--type=merge', '-p',
         '{"metadata":{"finalizers":null}}')
    k.fails(t, 'then the namespace is gone', 'get', 'ns', 'hold', expect='NotFound')


def main():
    t = Tap()
    if KUBECTL is None:
        t.skip_all('kubectl is not installed')
    workdir = tempfile.mkdtemp(prefix='claimfs-events-')
    try:
        with Daemon(os.path.join(workdir, 'main')) as d:
            def checks():
                k = Kubectl(os.path.join(workdir, 'main'), d.url)
                run_recorded(t, k, d)
                run_selectors(t, d)
                run_client_events(t, d)
                run_namespaces(t, k, d)
            serve_checks(t, d, checks)
        try:
            run_expiry(t, workdir)
        except Exception:  # pylint: disable=broad-except
            t.ok(False, 'expiry checks ran', traceback.format_exc())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    t.done()


if __name__ == '__main__':
    main()
