// client.mjs - the official JavaScript client (@kubernetes/client-node) drives claimfsd.
//
// Run by test_client_node.py, which owns the daemon: KUBECONFIG names a
// kubeconfig of the shape README gives (plain HTTP with
// insecure-skip-tls-verify). Prints one "ok - desc" / "not ok - desc" line
// per check (with "# " diagnostics) for the driver to number; to have the
// daemon restarted it prints "RESTART" and waits for a line on stdin.
//
// Checks: create, read, list with label selectors, replace, patch and delete
// on every served kind (claims, volumes, classes, StatefulSets with their
// scale subresource, VolumeSnapshots through the custom objects API); dry-run
// create, patch, replace and delete change nothing; errors are ApiExceptions
// with the apiserver's codes (404, 409, 422); a Watch sees ADDED, MODIFIED
// and DELETED; Events in both groups and Namespaces (a claim inside goes
// with its namespace) work; makeInformer keeps working across a daemon restart on the
// same store (it reconnects and sees a change made after the restart).
import * as k8s from '@kubernetes/client-node';
import { createInterface } from 'node:readline';

const NS = 'default';
const DRIVER = 'claimfs.csi.claimfs.io';
const SNAPSHOTS = { group: 'snapshot.storage.k8s.io', version: 'v1', plural: 'volumesnapshots' };
const MERGE = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

let failed = 0;
function ok(cond, desc, diag) {
  console.log(`${cond ? 'ok' : 'not ok'} - ${desc}`);
  if (!cond) {
    failed++;
    if (diag !== undefined) {
      for (const line of String(typeof diag === 'string' ? diag : JSON.stringify(diag)).split('\n'))
        console.log(`# ${line}`);
    }
  }
  return cond;
}
const eq = (got, want, desc) =>
  ok(JSON.stringify(got) === JSON.stringify(want), desc,
     `expected ${JSON.stringify(want)}\ngot      ${JSON.stringify(got)}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function waitFor(cond, ms = 10000) {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(100);
  return cond();
}

// The ApiException fn throws (undefined if it succeeds).
async function apiError(fn) {
  try {
    await fn();
  } catch (e) {
    if (e instanceof k8s.ApiException) return e;
    throw e;
  }
  return undefined;
}
function statusOf(e) {
  try {
    return typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
  } catch {
    return {};
  }
}

const claim = (name, labels = {}) => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, labels },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } },
});
const volume = (name, labels = {}) => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name, labels },
  spec: { capacity: { storage: '1Mi' }, accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Delete', csi: { driver: DRIVER, volumeHandle: name } },
});
const storageClass = (name, labels = {}) => ({
  apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name, labels },
  provisioner: DRIVER, reclaimPolicy: 'Delete', allowVolumeExpansion: true,
});
const statefulSet = (name, labels = {}) => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, labels },
  spec: {
    serviceName: name, replicas: 1, selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } },
                spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    volumeClaimTemplates: [{ metadata: { name: 'data' },
                             spec: { accessModes: ['ReadWriteOnce'],
                                     resources: { requests: { storage: '1Mi' } } } }],
  },
});
const snapshot = (name, labels = {}) => ({
  apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: { name, labels },
  spec: { source: { persistentVolumeClaimName: 'js-source' } },
});

// Every served kind through the same six calls (a = extra arguments such as dryRun).
function kinds(kc) {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const storage = kc.makeApiClient(k8s.StorageV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const ns = { namespace: NS };
  const typed = (name, make, api, suffix, where) => ({
    name, make,
    create: (body, a = {}) => api[`create${suffix}`]({ ...where, body, ...a }),
    read: (n) => api[`read${suffix}`]({ ...where, name: n }),
    list: (a = {}) => api[`list${suffix}`]({ ...where, ...a }),
    replace: (n, body, a = {}) => api[`replace${suffix}`]({ ...where, name: n, body, ...a }),
    patch: (n, body, a = {}) => api[`patch${suffix}`]({ ...where, name: n, body, ...a }, MERGE),
    delete: (n, a = {}) => api[`delete${suffix}`]({ ...where, name: n, ...a }),
  });
  return [
    typed('PersistentVolumeClaim', claim, core, 'NamespacedPersistentVolumeClaim', ns),
    typed('PersistentVolume', volume, core, 'PersistentVolume', {}),
    typed('StorageClass', storageClass, storage, 'StorageClass', {}),
    typed('StatefulSet', statefulSet, apps, 'NamespacedStatefulSet', ns),
    {
      name: 'VolumeSnapshot', make: snapshot,
      create: (body, a = {}) => custom.createNamespacedCustomObject({ ...SNAPSHOTS, ...ns, body, ...a }),
      read: (n) => custom.getNamespacedCustomObject({ ...SNAPSHOTS, ...ns, name: n }),
      list: (a = {}) => custom.listNamespacedCustomObject({ ...SNAPSHOTS, ...ns, ...a }),
      replace: (n, body, a = {}) =>
        custom.replaceNamespacedCustomObject({ ...SNAPSHOTS, ...ns, name: n, body, ...a }),
      patch: (n, body, a = {}) =>
        custom.patchNamespacedCustomObject({ ...SNAPSHOTS, ...ns, name: n, body, ...a }, MERGE),
      delete: (n, a = {}) => custom.deleteNamespacedCustomObject({ ...SNAPSHOTS, ...ns, name: n, ...a }),
    },
  ];
}

const names = async (k, a) => (await k.list(a)).items.map((i) => i.metadata.name).sort();
const plain = (obj) => JSON.parse(JSON.stringify(obj));

async function runCrud(k) {
  const name = `js-${k.name.toLowerCase()}`;
  const lower = k.name.toLowerCase();
  const created = await k.create(k.make(name, { suite: 'javascript', kind: lower }));
  eq(created.metadata.name, name, `${k.name}: create answers the object`);
  eq((await k.read(name)).metadata.uid, created.metadata.uid, `${k.name}: read answers the created object`);
  eq(await names(k, { labelSelector: `suite=javascript,kind=${lower}` }), [name],
     `${k.name}: list with an equality selector finds it`);
  eq(await names(k, { labelSelector: `kind in (${lower}),!absent` }), [name],
     `${k.name}: list with a set-based selector finds it`);
  eq(await names(k, { labelSelector: 'suite=other' }), [], `${k.name}: a selector that matches nothing`);
  const body = plain(await k.read(name));
  body.metadata.labels.replaced = 'yes';
  eq((await k.replace(name, body)).metadata.labels.replaced, 'yes', `${k.name}: replace (PUT)`);
  const patched = await k.patch(name, { metadata: { labels: { patched: 'yes' } } });
  ok(patched.metadata.labels.patched === 'yes' && patched.metadata.labels.replaced === 'yes',
     `${k.name}: merge patch`, patched.metadata.labels);
  ok(Number(patched.metadata.resourceVersion) > Number(created.metadata.resourceVersion),
     `${k.name}: every write moves the resourceVersion on`);
  return name;
}

async function runErrors(k, name) {
  let e = await apiError(() => k.read('js-missing'));
  ok(e?.code === 404 && statusOf(e).reason === 'NotFound',
     `${k.name}: read of a missing object throws ApiException 404 NotFound`, e?.message);
  e = await apiError(() => k.create(k.make(name)));
  ok(e?.code === 409 && statusOf(e).reason === 'AlreadyExists',
     `${k.name}: create of an existing name throws 409 AlreadyExists`, e?.message);
  const stale = plain(await k.read(name));
  await k.patch(name, { metadata: { labels: { bump: '1' } } });
  e = await apiError(() => k.replace(name, stale));
  ok(e?.code === 409 && statusOf(e).reason === 'Conflict',
     `${k.name}: replace with a stale resourceVersion throws 409 Conflict`, e?.message);
  e = await apiError(() => k.create(k.make('js-bad-label', { 'bad key': '1' })));
  ok(e?.code === 422 && statusOf(e).reason === 'Invalid' &&
     statusOf(e).message.includes('metadata.labels: Invalid value: "bad key": name part must consist of'),
     `${k.name}: create with a bad label key throws 422 Invalid with the field error`, e?.message);
  e = await apiError(() => k.patch(name, { metadata: { annotations: { 'bad annotation key!': 'x' } } }));
  ok(e?.code === 422 && statusOf(e).details?.causes?.[0]?.field === 'metadata.annotations',
     `${k.name}: patch with a bad annotation key throws 422 with a cause at metadata.annotations`,
     e?.message);
}

async function runDryRun(k, name) {
  const version = async () => (await k.list()).metadata.resourceVersion;
  const beforeVersion = await version();
  const before = plain(await k.read(name));
  const made = await k.create(k.make('js-dry'), { dryRun: 'All' });
  eq(made.metadata.name, 'js-dry', `${k.name}: dry-run create answers the object`);
  eq((await apiError(() => k.read('js-dry')))?.code, 404, `${k.name}: ... and the object does not exist`);
  const patched = await k.patch(name, { metadata: { labels: { dry: 'run' } } }, { dryRun: 'All' });
  eq(patched.metadata.labels.dry, 'run', `${k.name}: dry-run patch answers the change`);
  const body = plain(await k.read(name));
  body.metadata.labels.dry = 'replace';
  await k.replace(name, body, { dryRun: 'All' });
  await k.delete(name, { dryRun: 'All' });
  await k.delete(name, { body: { dryRun: ['All'] } });
  eq(plain(await k.read(name)), before,
     `${k.name}: after dry-run patch, replace and delete (query and body) the object is unchanged`);
  eq(await version(), beforeVersion, `${k.name}: no dry run moved the resourceVersion`);
}

async function runScale(kc) {
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const where = { name: 'js-statefulset', namespace: NS };
  eq((await apps.readNamespacedStatefulSetScale(where)).spec.replicas, 1, 'StatefulSet: read the scale subresource');
  const scale = await apps.patchNamespacedStatefulSetScale({ ...where, body: { spec: { replicas: 3 } } }, MERGE);
  eq(scale.spec.replicas, 3, 'StatefulSet: patch the scale subresource to 3');
  const claims = (await core.listNamespacedPersistentVolumeClaim({ namespace: NS })).items
    .filter((c) => c.metadata.name.startsWith('data-js-statefulset-'));
  eq(claims.map((c) => c.metadata.name).sort(), [0, 1, 2].map((i) => `data-js-statefulset-${i}`),
     'StatefulSet: scaling to 3 made the three claims');
  ok(claims.every((c) => c.status.phase === 'Bound'), 'StatefulSet: ... all Bound');
  scale.spec.replicas = 2;
  eq((await apps.replaceNamespacedStatefulSetScale({ ...where, body: scale })).spec.replicas, 2,
     'StatefulSet: replace the scale subresource');
  eq((await apps.readNamespacedStatefulSet(where)).spec.replicas, 2, "StatefulSet: the scale is the object's spec.replicas");
}

async function waitForAsync(cond, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(100);
  }
  return cond();
}

async function runDelete(k, name) {
  await k.delete(name);
  ok(await waitForAsync(async () => (await apiError(() => k.read(name)))?.code === 404),
     `${k.name}: delete removes the object`);
}

async function runWatch(kc) {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const path = `/api/v1/namespaces/${NS}/persistentvolumeclaims`;
  const resourceVersion = (await core.listNamespacedPersistentVolumeClaim({ namespace: NS })).metadata.resourceVersion;
  const seen = [];
  const req = await new k8s.Watch(kc).watch(path, { resourceVersion, fieldSelector: 'metadata.name=js-watched' },
    (type, obj) => seen.push([type, obj.metadata.name]), () => {});
  await core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: claim('js-watched') });
  await core.patchNamespacedPersistentVolumeClaim(
    { name: 'js-watched', namespace: NS, body: { metadata: { labels: { w: '1' } } } }, MERGE);
  await core.deleteNamespacedPersistentVolumeClaim({ name: 'js-watched', namespace: NS });
  await waitFor(() => seen.some(([type]) => type === 'DELETED'));
  req.abort();
  const types = seen.map(([type]) => type);
  ok(types[0] === 'ADDED' && types.includes('MODIFIED') && types.at(-1) === 'DELETED' &&
     seen.every(([, n]) => n === 'js-watched'), 'Watch sees ADDED, MODIFIED, DELETED of one claim', seen);
}

// Ask the driver to restart the daemon (SIGTERM, then start on the same store and port).
const stdin = createInterface({ input: process.stdin });
const lines = stdin[Symbol.asyncIterator]();
async function restartDaemon() {
  console.log('RESTART');
  const { value } = await lines.next();
  return value === 'restarted';
}

async function runInformer(kc) {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const path = `/api/v1/namespaces/${NS}/persistentvolumeclaims`;
  let lists = 0;
  const informer = k8s.makeInformer(kc, path, () => {
    lists++;
    return core.listNamespacedPersistentVolumeClaim({ namespace: NS });
  });
  const added = new Set();
  const deleted = new Set();
  let errors = 0;
  let connects = 0;
  informer.on('connect', () => connects++);
  informer.on('add', (obj) => added.add(obj.metadata.name));
  informer.on('delete', (obj) => deleted.add(obj.metadata.name));
  // As the client's documentation does: restart the informer after an error.
  informer.on('error', () => {
    errors++;
    setTimeout(() => informer.start().catch(() => {}), 200);
  });
  await informer.start();
  try {
    await core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: claim('js-before') });
    ok(await waitFor(() => added.has('js-before')), 'makeInformer: sees a claim created while it runs');
    const before = { lists, connects, errors };
    ok(await restartDaemon(), 'makeInformer: the daemon restarted');
    await core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: claim('js-after-restart') });
    ok(await waitFor(() => added.has('js-after-restart'), 20000),
       'makeInformer: sees a claim created after the daemon restarted on the same store',
       { lists, connects, errors, added: [...added] });
    // Like client-go's reflector it watches again from its last
    // resourceVersion (claimfsd keeps them across restarts) and lists again
    // only when that is answered 410 Gone.
    ok(errors > before.errors && connects > before.connects,
       'makeInformer: it saw the connection drop and reconnected', { before, lists, connects, errors });
    await core.deleteNamespacedPersistentVolumeClaim({ name: 'js-before', namespace: NS });
    ok(await waitFor(() => deleted.has('js-before')), 'makeInformer: sees a deletion after the restart');
    ok(informer.list(NS).some((c) => c.metadata.name === 'js-after-restart') &&
       !informer.list(NS).some((c) => c.metadata.name === 'js-before'),
       "makeInformer: its cache is the store's state");
  } finally {
    await informer.stop();
  }
}

// Events in both groups and Namespaces through the client.
async function runEventsNamespaces(kc) {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  // No fieldValidation here: the client's typed serializer drops fields its
  // models do not know before sending, so unknown fields never reach the
  // server (kubectl, raw HTTP and the Python client cover them).
  const events = (await core.listNamespacedEvent({ namespace: NS,
    fieldSelector: 'involvedObject.name=js-source,reason=ProvisioningSucceeded' })).items;
  ok(events.length === 1 && events[0].type === 'Normal' &&
    events[0].involvedObject.kind === 'PersistentVolumeClaim',
    'core/v1 events: ProvisioningSucceeded about the claim', JSON.stringify(events).slice(0, 400));
  const v1 = (await kc.makeApiClient(k8s.EventsV1Api).listNamespacedEvent({ namespace: NS,
    fieldSelector: 'regarding.name=js-source,reason=ProvisioningSucceeded' })).items;
  ok(v1.length === 1 && v1[0].regarding.kind === 'PersistentVolumeClaim',
    'events.k8s.io/v1: the same event in its shape', JSON.stringify(v1).slice(0, 400));

  await core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'js-ns' } } });
  const names = (await core.listNamespace()).items.map((n) => n.metadata.name);
  ok(names.includes('default') && names.includes('js-ns'), 'namespaces: default and the new one listed',
    JSON.stringify(names));
  ok((await core.readNamespace({ name: 'js-ns' })).status.phase === 'Active', 'a new namespace is Active');
  await core.createNamespacedPersistentVolumeClaim({ namespace: 'js-ns', body: claim('inside') });
  await core.deleteNamespace({ name: 'js-ns' });
  ok(await waitForAsync(async () => (await apiError(() => core.readNamespace({ name: 'js-ns' })))?.code === 404),
    'deleteNamespace: the namespace goes (404)');
  const e = await apiError(() => core.readNamespacedPersistentVolumeClaim({ name: 'inside', namespace: 'js-ns' }));
  ok(e?.code === 404, 'and the claim inside it with it');
}

async function main() {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(process.env.KUBECONFIG);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: claim('js-source') });
  const served = kinds(kc);
  const made = {};
  for (const k of served) made[k.name] = await runCrud(k);
  await runScale(kc);
  for (const k of served) {
    await runErrors(k, made[k.name]);
    await runDryRun(k, made[k.name]);
  }
  await runWatch(kc);
  await runEventsNamespaces(kc);
  for (const k of [...served].reverse()) await runDelete(k, made[k.name]);
  await runInformer(kc);
}

main().then(() => process.exit(failed ? 1 : 0), (e) => {
  ok(false, 'no unexpected error', e?.stack ?? String(e));
  process.exit(1);
});
