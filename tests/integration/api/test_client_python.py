#!/usr/bin/env python3
"""test_client_python.py - the official Python client (python3-kubernetes) drives claimfsd.

Through a kubeconfig of the shape README gives (plain HTTP with
insecure-skip-tls-verify): create, read, list with label selectors, replace,
patch and delete every served kind (claims, volumes, classes, StatefulSets
with their scale subresource, VolumeSnapshots through the custom objects
API); dry-run create, patch, replace and delete change nothing; errors are
ApiExceptions with the apiserver's status (404, 409, 422); a watch sees
ADDED, MODIFIED and DELETED; fieldValidation Strict and Warn, Events in
both groups and Namespaces (a claim inside goes with its namespace) work
through the client; and an informer built on kubernetes.watch.Watch
(list, then watch from the list's resourceVersion, relist on error) keeps
working across a daemon restart on the same store and sees a change made
after it.
"""

import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import SamePortDaemon, run_daemon_checks, wait_for, write_kubeconfig  # noqa: E402
from tap import Tap  # noqa: E402

try:
    from kubernetes import client, config, watch
    from kubernetes.client.rest import ApiException
except ImportError:  # the Debian package python3-kubernetes (scripts/install-deps.sh)
    client = None

NS = 'default'
DRIVER = 'claimfs.csi.claimfs.io'
SNAPSHOTS = ('snapshot.storage.k8s.io', 'v1')

def claim(name, labels=None, storage='1Mi'):
    return {'apiVersion': 'v1', 'kind': 'PersistentVolumeClaim',
            'metadata': {'name': name, 'labels': labels or {}},
            'spec': {'accessModes': ['ReadWriteOnce'],
                     'resources': {'requests': {'storage': storage}}}}


def volume(name, labels=None):
    return {'apiVersion': 'v1', 'kind': 'PersistentVolume',
            'metadata': {'name': name, 'labels': labels or {}},
            'spec': {'capacity': {'storage': '1Mi'}, 'accessModes': ['ReadWriteOnce'],
                     'persistentVolumeReclaimPolicy': 'Delete',
                     'csi': {'driver': DRIVER, 'volumeHandle': name}}}


def storage_class(name, labels=None):
    return {'apiVersion': 'storage.k8s.io/v1', 'kind': 'StorageClass',
            'metadata': {'name': name, 'labels': labels or {}}, 'provisioner': DRIVER,
            'reclaimPolicy': 'Delete', 'allowVolumeExpansion': True}


def stateful_set(name, labels=None, replicas=1):
    pod = {'app': name}
    return {'apiVersion': 'apps/v1', 'kind': 'StatefulSet',
            'metadata': {'name': name, 'labels': labels or {}},
            'spec': {'serviceName': name, 'replicas': replicas, 'selector': {'matchLabels': pod},
                     'template': {'metadata': {'labels': pod},
                                  'spec': {'containers': [{'name': 'c', 'image': 'busybox'}]}},
                     'volumeClaimTemplates': [{'metadata': {'name': 'data'},
                                               'spec': {'accessModes': ['ReadWriteOnce'],
                                                        'resources': {'requests':
                                                                      {'storage': '1Mi'}}}}]}}


def snapshot(name, labels=None, source='py-source'):
    return {'apiVersion': 'snapshot.storage.k8s.io/v1', 'kind': 'VolumeSnapshot',
            'metadata': {'name': name, 'labels': labels or {}},
            'spec': {'source': {'persistentVolumeClaimName': source}}}


def meta(obj, key):
    """metadata.KEY of a model object or a dict (custom objects)."""
    if isinstance(obj, dict):
        return obj['metadata'].get({'resource_version': 'resourceVersion'}.get(key, key))
    return getattr(obj.metadata, key)


class Kind:
    """One served kind through the typed client's calls (or the custom
    objects API), so every check runs the same way on each."""

    def __init__(self, name, make, create, read, list_, replace, patch, delete):
        self.name, self.make = name, make
        self.create, self.read, self.list = create, read, list_
        self.replace, self.patch, self.delete = replace, patch, delete

    def names(self, **kw):
        got = self.list(**kw)
        items = got['items'] if isinstance(got, dict) else got.items
        return sorted(meta(i, 'name') for i in items)

    def version(self):
        """The collection's resourceVersion (the store's)."""
        got = self.list()
        return got['metadata']['resourceVersion'] if isinstance(got, dict) \
            else got.metadata.resource_version


def kinds(api):
    core, storage, apps = client.CoreV1Api(api), client.StorageV1Api(api), client.AppsV1Api(api)
    custom = client.CustomObjectsApi(api)
    group, version = SNAPSHOTS
    return [
        Kind('PersistentVolumeClaim', claim,
             lambda b, **kw: core.create_namespaced_persistent_volume_claim(NS, b, **kw),
             lambda n: core.read_namespaced_persistent_volume_claim(n, NS),
             lambda **kw: core.list_namespaced_persistent_volume_claim(NS, **kw),
             lambda n, b, **kw: core.replace_namespaced_persistent_volume_claim(n, NS, b, **kw),
             lambda n, b, **kw: core.patch_namespaced_persistent_volume_claim(n, NS, b, **kw),
             lambda n, **kw: core.delete_namespaced_persistent_volume_claim(n, NS, **kw)),
        Kind('PersistentVolume', volume, core.create_persistent_volume,
             core.read_persistent_volume, core.list_persistent_volume,
             core.replace_persistent_volume, core.patch_persistent_volume,
             core.delete_persistent_volume),
        Kind('StorageClass', storage_class, storage.create_storage_class,
             storage.read_storage_class, storage.list_storage_class,
             storage.replace_storage_class, storage.patch_storage_class,
             storage.delete_storage_class),
        Kind('StatefulSet', stateful_set,
             lambda b, **kw: apps.create_namespaced_stateful_set(NS, b, **kw),
             lambda n: apps.read_namespaced_stateful_set(n, NS),
             lambda **kw: apps.list_namespaced_stateful_set(NS, **kw),
             lambda n, b, **kw: apps.replace_namespaced_stateful_set(n, NS, b, **kw),
             lambda n, b, **kw: apps.patch_namespaced_stateful_set(n, NS, b, **kw),
             lambda n, **kw: apps.delete_namespaced_stateful_set(n, NS, **kw)),
        Kind('VolumeSnapshot', snapshot,
             lambda b, **kw: custom.create_namespaced_custom_object(
                 group, version, NS, 'volumesnapshots', b, **kw),
             lambda n: custom.get_namespaced_custom_object(group, version, NS, 'volumesnapshots', n),
             lambda **kw: custom.list_namespaced_custom_object(
                 group, version, NS, 'volumesnapshots', **kw),
             lambda n, b, **kw: custom.replace_namespaced_custom_object(
                 group, version, NS, 'volumesnapshots', n, b, **kw),
             lambda n, b, **kw: custom.patch_namespaced_custom_object(
                 group, version, NS, 'volumesnapshots', n, b, **kw),
             lambda n, **kw: custom.delete_namespaced_custom_object(
                 group, version, NS, 'volumesnapshots', n, **kw)),
    ]


def api_error(fn):
    """The ApiException FN raises, or None."""
    try:
        fn()
    except ApiException as e:
        return e
    return None


def error_status(e, key):
    """KEY of the Status in E's body (None if there is none)."""
    try:
        return json.loads(e.body).get(key)
    except (TypeError, ValueError):
        return None


def error_reason(e):
    return error_status(e, 'reason')


def as_dict(obj):
    return obj if isinstance(obj, dict) else client.ApiClient().sanitize_for_serialization(obj)


def run_crud(t, k):
    """Create, read, list with selectors, replace, patch and delete one object of kind K."""
    name = 'py-%s' % k.name.lower()
    labels = {'suite': 'python', 'kind': k.name.lower()}
    created = k.create(k.make(name, labels))
    t.eq(meta(created, 'name'), name, '%s: create answers the object' % k.name)
    got = k.read(name)
    t.eq(meta(got, 'uid'), meta(created, 'uid'), '%s: read answers the created object' % k.name)
    t.eq(k.names(label_selector='suite=python,kind=%s' % k.name.lower()), [name],
         '%s: list with an equality selector finds it' % k.name)
    t.eq(k.names(label_selector='kind in (%s),!absent' % k.name.lower()), [name],
         '%s: list with a set-based selector finds it' % k.name)
    t.eq(k.names(label_selector='suite=other'), [], '%s: a selector that matches nothing' % k.name)
    body = as_dict(k.read(name))
    body['metadata']['labels']['replaced'] = 'yes'
    replaced = k.replace(name, body)
    t.eq(meta(replaced, 'labels').get('replaced'), 'yes', '%s: replace (PUT)' % k.name)
    patched = k.patch(name, {'metadata': {'labels': {'patched': 'yes'}}})
    t.ok(meta(patched, 'labels').get('patched') == 'yes'
         and meta(patched, 'labels').get('replaced') == 'yes', '%s: patch' % k.name,
         meta(patched, 'labels'))
    t.ok(int(meta(patched, 'resource_version')) > int(meta(created, 'resource_version')),
         '%s: every write moves the resourceVersion on' % k.name)
    return name


def run_errors(t, k, name):
    """Errors are ApiExceptions with the apiserver's codes and reasons."""
    e = api_error(lambda: k.read('py-missing'))
    t.ok(e is not None and e.status == 404 and error_reason(e) == 'NotFound',
         '%s: read of a missing object raises ApiException 404 NotFound' % k.name, e)
    e = api_error(lambda: k.create(k.make(name)))
    t.ok(e is not None and e.status == 409 and error_reason(e) == 'AlreadyExists',
         '%s: create of an existing name raises 409 AlreadyExists' % k.name, e)
    stale = as_dict(k.read(name))
    k.patch(name, {'metadata': {'labels': {'bump': '1'}}})
    e = api_error(lambda: k.replace(name, stale))
    t.ok(e is not None and e.status == 409 and error_reason(e) == 'Conflict',
         '%s: replace with a stale resourceVersion raises 409 Conflict' % k.name, e)
    e = api_error(lambda: k.create(k.make('py-bad-label', {'bad key': '1'})))
    t.ok(e is not None and e.status == 422 and error_reason(e) == 'Invalid'
         and 'metadata.labels: Invalid value: "bad key": name part must consist of'
         in error_status(e, 'message'),
         '%s: create with a bad label key raises 422 Invalid with the field error' % k.name, e)
    e = api_error(lambda: k.patch(name, {'metadata': {'labels': {'ok': '-bad value-'}}}))
    t.ok(e is not None and e.status == 422 and error_reason(e) == 'Invalid',
         '%s: patch with a bad label value raises 422 Invalid' % k.name, e)


def run_dry_run(t, k, name):
    """Dry-run create, replace, patch and delete answer like the real call and change nothing."""
    before_version, before = k.version(), as_dict(k.read(name))
    made = k.create(k.make('py-dry'), dry_run='All')
    t.eq(meta(made, 'name'), 'py-dry', '%s: dry-run create answers the object' % k.name)
    t.ok(api_error(lambda: k.read('py-dry')) is not None,
         '%s: ... and the object does not exist' % k.name)
    patched = k.patch(name, {'metadata': {'labels': {'dry': 'run'}}}, dry_run='All')
    t.eq(meta(patched, 'labels').get('dry'), 'run', '%s: dry-run patch answers the change' % k.name)
    body = as_dict(k.read(name))
    body['metadata']['labels']['dry'] = 'replace'
    k.replace(name, body, dry_run='All')
    k.delete(name, dry_run='All')
    k.delete(name, body=client.V1DeleteOptions(dry_run=['All']))
    t.eq(as_dict(k.read(name)), before,
         '%s: after dry-run patch, replace and delete (query and body) the object is unchanged'
         % k.name)
    t.eq(k.version(), before_version, '%s: no dry run moved the resourceVersion' % k.name)


def run_scale(t, api):
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    name = 'py-statefulset'
    scale = apps.read_namespaced_stateful_set_scale(name, NS)
    t.eq(scale.spec.replicas, 1, 'StatefulSet: read the scale subresource')
    scale = apps.patch_namespaced_stateful_set_scale(name, NS, {'spec': {'replicas': 3}})
    t.eq(scale.spec.replicas, 3, 'StatefulSet: patch the scale subresource to 3')
    claims = [c for c in core.list_namespaced_persistent_volume_claim(NS).items
              if c.metadata.name.startswith('data-%s-' % name)]
    t.eq(sorted(c.metadata.name for c in claims), ['data-%s-%d' % (name, i) for i in range(3)],
         'StatefulSet: scaling to 3 made the three claims')
    t.ok(all(c.status.phase == 'Bound' for c in claims), 'StatefulSet: ... all Bound')
    scale.spec.replicas = 2
    t.eq(apps.replace_namespaced_stateful_set_scale(name, NS, scale).spec.replicas, 2,
         'StatefulSet: replace the scale subresource')
    t.eq(apps.read_namespaced_stateful_set(name, NS).spec.replicas, 2,
         'StatefulSet: the scale is the object\'s spec.replicas')


def run_delete(t, k, name):
    k.delete(name)
    gone = wait_for(lambda: api_error(lambda: k.read(name)) is not None, timeout=10)
    t.ok(gone, '%s: delete removes the object' % k.name)


def run_watch(t, api):
    """A watch from a list's resourceVersion sees ADDED, MODIFIED and DELETED in order."""
    core = client.CoreV1Api(api)
    version = core.list_namespaced_persistent_volume_claim(NS).metadata.resource_version
    seen = []

    def reader():
        w = watch.Watch()
        for ev in w.stream(core.list_namespaced_persistent_volume_claim, NS,
                           resource_version=version, timeout_seconds=10,
                           field_selector='metadata.name=py-watched'):
            seen.append((ev['type'], ev['object'].metadata.name))
            if ev['type'] == 'DELETED':
                w.stop()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    core.create_namespaced_persistent_volume_claim(NS, claim('py-watched'))
    core.patch_namespaced_persistent_volume_claim('py-watched', NS,
                                                  {'metadata': {'labels': {'w': '1'}}})
    core.delete_namespaced_persistent_volume_claim('py-watched', NS)
    thread.join(15)
    types = [kind for kind, _ in seen]
    t.ok(types and types[0] == 'ADDED' and 'MODIFIED' in types and types[-1] == 'DELETED'
         and all(n == 'py-watched' for _, n in seen),
         'watch.Watch().stream sees ADDED, MODIFIED, DELETED of one claim', seen)


class Informer:
    """List, then watch from the list's resourceVersion, keeping a cache of
    claims by name; on any error (the daemon going away included) wait and
    relist, as client-go's reflector does."""

    def __init__(self, core):
        self.core = core
        self.cache = {}
        self.lists = 0
        self.events = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.watcher = None
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stopping.is_set():
            try:
                got = self.core.list_namespaced_persistent_volume_claim(NS, _request_timeout=5)
                with self.lock:
                    self.cache = {c.metadata.name: c for c in got.items}
                    self.lists += 1
                version = got.metadata.resource_version
                while not self.stopping.is_set():
                    self.watcher = watch.Watch()
                    for ev in self.watcher.stream(self.core.list_namespaced_persistent_volume_claim,
                                                  NS, resource_version=version, timeout_seconds=5):
                        obj = ev['object']
                        if ev['type'] == 'ERROR':
                            raise RuntimeError('watch error %r' % (ev['raw_object'],))
                        with self.lock:
                            self.events += 1
                            if ev['type'] == 'DELETED':
                                self.cache.pop(obj.metadata.name, None)
                            else:
                                self.cache[obj.metadata.name] = obj
                        version = obj.metadata.resource_version
            except Exception:  # pylint: disable=broad-except
                # Connection refused or reset while the daemon restarts: relist.
                self.stopping.wait(0.2)

    def has(self, name):
        with self.lock:
            return name in self.cache

    def stop(self):
        self.stopping.set()
        if self.watcher is not None:
            self.watcher.stop()
        self.thread.join(10)


def run_informer_restart(t, d, api):
    core = client.CoreV1Api(api)
    informer = Informer(core)
    informer.thread.start()
    try:
        # Created only once the informer has listed: otherwise the list may
        # already hold it and the watch has nothing to show.
        t.ok(wait_for(lambda: informer.lists > 0, timeout=10), 'informer: lists first')
        core.create_namespaced_persistent_volume_claim(NS, claim('py-before'))
        t.ok(wait_for(lambda: informer.has('py-before'), timeout=10),
             'informer: sees a claim created while it runs')
        t.ok(informer.events > 0, 'informer: ... through its watch, not by relisting',
             'lists %d events %d' % (informer.lists, informer.events))
        lists = informer.lists
        t.eq(d.stop(signal.SIGTERM), 0, 'informer: the daemon stops on SIGTERM')
        d.start()
        core.create_namespaced_persistent_volume_claim(NS, claim('py-after-restart'))
        t.ok(wait_for(lambda: informer.has('py-after-restart'), timeout=15),
             'informer: sees a claim created after the daemon restarted on the same store',
             d.log_tail())
        t.ok(informer.lists > lists, 'informer: it relisted after the restart',
             'lists %d -> %d' % (lists, informer.lists))
        core.delete_namespaced_persistent_volume_claim('py-before', NS)
        t.ok(wait_for(lambda: not informer.has('py-before'), timeout=10),
             'informer: sees a deletion after the restart')
    finally:
        informer.stop()


def run_fields_events_namespaces(t, api):
    """fieldValidation through the client's generic call, Events in both
    groups, and Namespaces with a claim inside, as the client sees them."""
    core = client.CoreV1Api(api)
    path = '/api/v1/namespaces/%s/persistentvolumeclaims' % NS
    bogus = claim('py-bogus')
    bogus['spec']['bogusField'] = 1

    def post(query):
        return api.call_api(path, 'POST', query_params=query, body=bogus,
                            header_params={'Content-Type': 'application/json'},
                            response_type='object', auth_settings=['BearerToken'],
                            _return_http_data_only=True)
    e = api_error(lambda: post([('fieldValidation', 'Strict')]))
    t.ok(e is not None and e.status == 400 and 'unknown field "spec.bogusField"' in
         (error_status(e, 'message') or ''), 'fieldValidation=Strict: ApiException 400 names '
         'the unknown field', e and e.body)
    t.ok(api_error(lambda: core.read_namespaced_persistent_volume_claim('py-bogus', NS))
         is not None, 'the refused claim was not made')
    post([('fieldValidation', 'Warn')])
    stored = as_dict(core.read_namespaced_persistent_volume_claim('py-bogus', NS))
    t.ok('bogusField' not in stored.get('spec', {}),
         'fieldValidation=Warn: created, without the unknown field', json.dumps(stored)[:300])
    core.delete_namespaced_persistent_volume_claim('py-bogus', NS)

    sel = 'involvedObject.name=py-source,reason=ProvisioningSucceeded'
    events = core.list_namespaced_event(NS, field_selector=sel).items
    t.ok(len(events) == 1 and events[0].type == 'Normal' and
         events[0].involved_object.kind == 'PersistentVolumeClaim',
         'core/v1 events: ProvisioningSucceeded about the claim', repr(events)[:400])
    # Read raw: like the controllers' core/v1 recorder on a cluster, these
    # events have no eventTime, which this client's events.k8s.io model
    # refuses to deserialize (it does the same against kube-apiserver).
    raw = client.EventsV1Api(api).list_namespaced_event(
        NS, field_selector='regarding.name=py-source,reason=ProvisioningSucceeded',
        _preload_content=False)
    v1 = json.loads(raw.data)['items']
    t.ok(len(v1) == 1 and v1[0]['regarding']['kind'] == 'PersistentVolumeClaim' and
         v1[0]['deprecatedCount'] >= 1, 'events.k8s.io/v1: the same event in its shape',
         repr(v1)[:400])

    core.create_namespace({'apiVersion': 'v1', 'kind': 'Namespace',
                           'metadata': {'name': 'py-ns'}})
    names = [n.metadata.name for n in core.list_namespace().items]
    t.ok('default' in names and 'py-ns' in names, 'namespaces: default and the new one listed',
         repr(names))
    t.eq(core.read_namespace('py-ns').status.phase, 'Active', 'a new namespace is Active')
    core.create_namespaced_persistent_volume_claim('py-ns', claim('inside'))
    core.delete_namespace('py-ns')
    gone = wait_for(lambda: api_error(lambda: core.read_namespace('py-ns')) is not None,
                    timeout=10)
    e = api_error(lambda: core.read_namespace('py-ns'))
    t.ok(gone and e.status == 404, 'delete_namespace: the namespace goes (404)', e and e.body)
    e = api_error(lambda: core.read_namespaced_persistent_volume_claim('inside', 'py-ns'))
    t.ok(e is not None and e.status == 404, 'and the claim inside it with it', e and e.body)


def run_all(t, d, workdir):
    api = config.new_client_from_config(config_file=write_kubeconfig(workdir, d.url))
    client.CoreV1Api(api).create_namespaced_persistent_volume_claim(NS, claim('py-source'))
    served = kinds(api)
    names = {}
    for k in served:
        names[k.name] = run_crud(t, k)
    run_scale(t, api)
    for k in served:
        run_errors(t, k, names[k.name])
        run_dry_run(t, k, names[k.name])
    run_watch(t, api)
    run_fields_events_namespaces(t, api)
    for k in reversed(served):
        run_delete(t, k, names[k.name])
    run_informer_restart(t, d, api)


def main():
    t = Tap()
    if client is None:
        t.bail('the kubernetes Python module is missing: apt-get install python3-kubernetes '
               '(scripts/install-deps.sh); run this with /usr/bin/python3')
    run_daemon_checks(t, 'claimfs-client-python-', lambda d: run_all(t, d, d.workdir),
                      daemon_class=SamePortDaemon)
    t.done()


if __name__ == '__main__':
    main()
