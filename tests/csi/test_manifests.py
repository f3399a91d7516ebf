#!/usr/bin/env python3
"""test_manifests.py - deploy/ is a working installation, checked without a cluster.

  1. every YAML file under deploy/ parses; every Helm template renders
     (helm template when helm is installed, else tests/csi/helm_render.py);
  2. `kubectl kustomize` renders deploy/, deploy/snapshots/ and
     deploy/examples/;
  3. the objects say what claimfs needs (driver name, topology-aware class,
     privileged claimfsd with /dev/fuse and Bidirectional propagation,
     sidecars in node-deployment mode, sockets and paths that agree, RBAC for
     the service account, the example StatefulSet on the claimfs class);
  4. the Helm chart renders the same installation as the plain manifests;
  5. every object validates against the Kubernetes API schemas
     (kubernetes-models, run by node from a project-local npm install pinned
     by tests/csi/package-lock.json); a broken object must be rejected, so the
     check cannot pass vacuously. Skipped (TAP SKIP) without node/npm;
  6. the example web app counts visits in its data file.

TAP on stdout. Skips the way meson's TAP protocol wants (1..0 # SKIP, exit 0).
"""

import copy
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB', os.path.join(HERE, '..', 'integration', 'lib')))
sys.path.insert(0, HERE)
from npm import npm_ci  # noqa: E402
from tap import Tap  # noqa: E402

ROOT = os.environ.get('CLAIMFS_SOURCE_ROOT', os.path.join(HERE, '..', '..'))
DEPLOY = os.path.join(ROOT, 'deploy')
CHART = os.path.join(DEPLOY, 'helm', 'claimfs')
DRIVER = 'claimfs.csi.claimfs.io'
SIDECARS = {'csi-provisioner', 'csi-attacher', 'csi-resizer', 'csi-snapshotter', 'node-driver-registrar',
            'liveness-probe'}


def find(objects, kind, name=None):
    """The objects of a kind (and name)."""
    return [o for o in objects if o.get('kind') == kind and (name is None or o['metadata']['name'] == name)]


def container(ds, name):
    for c in ds['spec']['template']['spec']['containers']:
        if c['name'] == name:
            return c
    return None


def arg(c, flag):
    """Value of --flag=value among a container's args (or None)."""
    for a in c.get('args', []):
        if a.startswith(flag + '='):
            return a[len(flag) + 1:]
    return None


def mount(ds, c, volume):
    """The volumeMount of volume in container c and the volume itself."""
    vols = {v['name']: v for v in ds['spec']['template']['spec']['volumes']}
    for m in c.get('volumeMounts', []):
        if m['name'] == volume:
            return m, vols.get(volume)
    return None, vols.get(volume)


class ManifestTest:
    def __init__(self, t, yaml):
        self.t = t
        self.yaml = yaml
        self.kustomized = {}

    # -- 1. parsing and rendering --

    def test_parse(self):
        templates = os.path.join(CHART, 'templates')
        for dirpath, _, files in os.walk(DEPLOY):
            if os.path.abspath(dirpath).startswith(os.path.abspath(templates)):
                continue
            for name in sorted(files):
                if not name.endswith(('.yaml', '.yml')):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, ROOT)
                try:
                    with open(path, encoding='utf-8') as f:
                        docs = [d for d in self.yaml.safe_load_all(f) if d is not None]
                    self.t.ok(docs and all(isinstance(d, dict) for d in docs), '%s parses as YAML' % rel)
                except self.yaml.YAMLError as e:
                    self.t.ok(False, '%s parses as YAML' % rel, str(e))

    def render_chart(self, sets=()):
        """Objects of the chart with these --set values (our renderer)."""
        import helm_render
        objects = []
        for _, docs in helm_render.render_chart(CHART, sets=sets):
            objects += docs
        return objects

    def test_chart_renders(self):
        import helm_render
        self.chart = {}
        variants = {'default': (), 'snapshots': ('volumeSnapshotClass.create=true',),
                    'no-class': ('storageClass.create=false', 'image.tag=v9', 'hostDir=/srv/claimfs'),
                    'no-attach': ('attach.enabled=false',),
                    'group-snapshots': ('volumeGroupSnapshotClass.create=true',)}
        for label, sets in variants.items():
            try:
                self.chart[label] = self.render_chart(sets)
                self.t.ok(self.chart[label], 'the Helm chart renders (%s values)' % label)
            except (helm_render.TemplateError, self.yaml.YAMLError, OSError) as e:
                self.chart[label] = []
                self.t.ok(False, 'the Helm chart renders (%s values)' % label, str(e))
        helm = shutil.which('helm')
        if helm is None:
            self.t.skip('helm template agrees with helm_render.py', 'helm is not installed (Debian 12 has no package)')
            return
        done = subprocess.run([helm, 'template', 'claimfs', CHART, '--namespace', 'claimfs'],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        ours = sorted(json.dumps(o, sort_keys=True) for o in self.chart['default'])
        theirs = sorted(json.dumps(o, sort_keys=True) for o in self.yaml.safe_load_all(done.stdout) if o)
        self.t.ok(done.returncode == 0 and ours == theirs, 'helm template agrees with helm_render.py', done.stdout[-2000:])

    def test_kustomize(self):
        for rel in ('deploy', 'deploy/snapshots', 'deploy/examples'):
            done = subprocess.run(['kubectl', 'kustomize', os.path.join(ROOT, rel)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, check=False)
            ok = done.returncode == 0
            self.kustomized[rel] = [o for o in self.yaml.safe_load_all(done.stdout) if o] if ok else []
            self.t.ok(ok and self.kustomized[rel], 'kubectl kustomize %s renders' % rel, done.stderr)

    # -- 3. what the objects say --

    def test_installation(self, objects, label):
        t = self.t
        driver = find(objects, 'CSIDriver', DRIVER)
        t.ok(len(driver) == 1 and driver[0]['spec']['attachRequired'] is True and
             driver[0]['spec']['volumeLifecycleModes'] == ['Persistent'],
             '%s: CSIDriver %s, attach required (ControllerPublishVolume), persistent volumes' % (label, DRIVER))
        sc = find(objects, 'StorageClass', 'claimfs')
        t.ok(len(sc) == 1 and sc[0]['provisioner'] == DRIVER and sc[0]['volumeBindingMode'] == 'WaitForFirstConsumer'
             and sc[0]['allowVolumeExpansion'] is True,
             '%s: StorageClass claimfs: WaitForFirstConsumer, expandable' % label, sc)
        ds = find(objects, 'DaemonSet', 'claimfs-node')
        if not t.ok(len(ds) == 1, '%s: one node DaemonSet' % label):
            return
        ds = ds[0]
        names = {c['name'] for c in ds['spec']['template']['spec']['containers']}
        t.eq(names, {'claimfsd', 'claimfs-csi'} | SIDECARS, '%s: claimfsd, claimfs-csi and the CSI sidecars' % label)
        fsd, csi = container(ds, 'claimfsd'), container(ds, 'claimfs-csi')
        prov, reg = container(ds, 'csi-provisioner'), container(ds, 'node-driver-registrar')
        if None in (fsd, csi, prov, reg):
            return
        fuse_mount, fuse_vol = mount(ds, fsd, 'dev-fuse')
        vol_mount, vol_vol = mount(ds, fsd, 'claimfs-volumes')
        store_mount, store_vol = mount(ds, fsd, 'claimfs-store')
        t.ok(fsd['securityContext'].get('privileged') is True and fuse_mount and fuse_mount['mountPath'] == '/dev/fuse'
             and fuse_vol['hostPath']['path'] == '/dev/fuse' and fuse_vol['hostPath']['type'] == 'CharDevice',
             '%s: claimfsd is privileged with /dev/fuse' % label)
        t.ok(vol_mount and vol_mount.get('mountPropagation') == 'Bidirectional' and
             arg(fsd, '--mount') == vol_mount['mountPath'] and 'hostPath' in vol_vol,
             '%s: the FUSE mount point propagates to the node (Bidirectional hostPath)' % label)
        t.ok(store_mount and 'hostPath' in store_vol and
             os.path.dirname(arg(fsd, '--store')) == store_mount['mountPath'],
             '%s: the store is a file on a hostPath' % label)
        csi_vol_mount, _ = mount(ds, csi, 'claimfs-volumes')
        pods_mount, pods_vol = mount(ds, csi, 'mountpoint-dir')
        t.ok(csi_vol_mount and csi_vol_mount.get('mountPropagation') in ('HostToContainer', 'Bidirectional') and
             arg(csi, '--mount') == csi_vol_mount['mountPath'] and
             pods_mount and pods_mount.get('mountPropagation') == 'Bidirectional' and
             pods_mount['mountPath'] == pods_vol['hostPath']['path'] and csi['securityContext'].get('privileged'),
             '%s: claimfs-csi sees the claims and bind-mounts into the kubelet pods directory' % label)
        api = arg(csi, '--api')
        t.ok(api is not None and api == 'unix://' + arg(fsd, '--unix-socket') and
             mount(ds, csi, 'claimfs-run')[0] and mount(ds, fsd, 'claimfs-run')[0],
             '%s: claimfs-csi reaches claimfsd on the socket in the shared emptyDir' % label, (api, arg(fsd, '--unix-socket')))
        endpoint = arg(csi, '--endpoint')
        sock_mount, sock_vol = mount(ds, csi, 'socket-dir')
        registration = arg(reg, '--kubelet-registration-path')
        t.ok(endpoint == 'unix://' + arg(reg, '--csi-address') and sock_mount and
             endpoint == 'unix://' + sock_mount['mountPath'] + '/csi.sock' and
             registration == sock_vol['hostPath']['path'] + '/csi.sock' and '/plugins/' + DRIVER + '/' in registration,
             '%s: driver socket, registrar and kubelet registration path agree' % label, (endpoint, registration))
        t.ok(arg(csi, '--node-id') == '$(NODE_NAME)' and
             any(e['name'] == 'NODE_NAME' and e['valueFrom']['fieldRef']['fieldPath'] == 'spec.nodeName' for e in csi['env']),
             '%s: the node id is the Kubernetes node name' % label)
        t.ok(arg(prov, '--node-deployment') == 'true' and arg(prov, '--extra-create-metadata') == 'true' and
             any(e['name'] == 'NODE_NAME' for e in prov['env']),
             '%s: external-provisioner in node-deployment mode with --extra-create-metadata' % label)
        resizer = container(ds, 'csi-resizer')
        t.ok(resizer and 'VolumeAttributesClass=true' in (arg(resizer, '--feature-gates') or '') and
             'VolumeAttributesClass=true' in (arg(prov, '--feature-gates') or ''),
             '%s: csi-provisioner and csi-resizer pass VolumeAttributesClass parameters (MODIFY_VOLUME)' % label)
        for c in ds['spec']['template']['spec']['containers']:
            if c['name'] in SIDECARS:
                sm, _ = mount(ds, c, 'socket-dir')
                if not t.ok(sm and arg(c, '--csi-address') == sm['mountPath'] + '/csi.sock',
                            '%s: %s talks to the driver socket' % (label, c['name'])):
                    break
        vols = {v['name'] for v in ds['spec']['template']['spec']['volumes']}
        dangling = [(c['name'], m['name']) for c in ds['spec']['template']['spec']['containers']
                    for m in c.get('volumeMounts', []) if m['name'] not in vols]
        t.eq(dangling, [], '%s: every volumeMount names a volume' % label)
        sa = ds['spec']['template']['spec']['serviceAccountName']
        ns = ds['metadata']['namespace']
        binding = find(objects, 'ClusterRoleBinding', 'claimfs-csi')
        role = find(objects, 'ClusterRole', 'claimfs-csi')
        t.ok(find(objects, 'ServiceAccount', sa) and binding and role and
             binding[0]['subjects'] == [{'kind': 'ServiceAccount', 'name': sa, 'namespace': ns}] and
             any('persistentvolumes' in r['resources'] and 'create' in r['verbs'] for r in role[0]['rules']) and
             any('volumeattachments/status' in r['resources'] and 'patch' in r['verbs'] for r in role[0]['rules']),
             '%s: the DaemonSet\'s service account may create PersistentVolumes and mark VolumeAttachments' % label)

    def test_snapshot_class(self, objects, label):
        vsc = find(objects, 'VolumeSnapshotClass', 'claimfs')
        self.t.ok(len(vsc) == 1 and vsc[0]['driver'] == DRIVER and vsc[0]['deletionPolicy'] in ('Delete', 'Retain'),
                  '%s: VolumeSnapshotClass claimfs for the driver' % label, vsc)

    def test_example(self, objects):
        t = self.t
        sts = find(objects, 'StatefulSet', 'app-python')
        svc = find(objects, 'Service', 'app-python')
        cms = find(objects, 'ConfigMap')
        if not t.ok(len(sts) == 1 and len(svc) == 1 and len(cms) == 1, 'example: StatefulSet, Service, ConfigMap'):
            return
        sts, svc = sts[0], svc[0]
        tmpl = sts['spec']['volumeClaimTemplates']
        t.ok(len(tmpl) == 1 and tmpl[0]['metadata']['name'] == 'data' and
             tmpl[0]['spec']['storageClassName'] == 'claimfs',
             'example: a volumeClaimTemplate "data" on the claimfs class (claims data-app-python-N)')
        t.ok(svc['spec']['clusterIP'] == 'None' and sts['spec']['serviceName'] == svc['metadata']['name'] and
             svc['spec']['selector'] == sts['spec']['template']['metadata']['labels'],
             'example: a headless Service governs the StatefulSet')
        app = sts['spec']['template']['spec']['containers'][0]
        env = {e['name']: e.get('value') for e in app.get('env', [])}
        data = [m for m in app['volumeMounts'] if m['name'] == 'data']
        t.ok(data and data[0]['mountPath'] == '/app/data' and env.get('VISITS_FILE') == '/app/data/visits.txt',
             'example: visits are counted in /app/data/visits.txt on the claim')
        t.ok(app.get('readinessProbe', {}).get('httpGet') and app.get('livenessProbe', {}).get('httpGet'),
             'example: readiness and liveness probes')
        code = [v for v in sts['spec']['template']['spec']['volumes'] if 'configMap' in v]
        t.ok(code and code[0]['configMap']['name'] == cms[0]['metadata']['name'] and 'app.py' in cms[0]['data'],
             'example: the app code comes from the generated ConfigMap')
        vacs = find(objects, 'VolumeAttributesClass')
        t.ok(len(vacs) >= 2 and all(v['apiVersion'] == 'storage.k8s.io/v1' and v['driverName'] == DRIVER and
                                    set(v['parameters']) <= {'inodeLimit', 'ioClass'} for v in vacs) and
             {v['parameters'].get('ioClass') for v in vacs} == {'standard', 'durable'},
             'example: VolumeAttributesClasses for the driver with only the mutable parameters it takes', vacs)

    def test_example_app(self):
        """Run the example app on loopback and count two visits."""
        t = self.t
        work = tempfile.mkdtemp(prefix='claimfs-visits.')
        proc = None
        try:
            with socket.socket() as s:
                s.bind(('127.0.0.1', 0))
                port = s.getsockname()[1]
            env = dict(os.environ, HOST='127.0.0.1', PORT=str(port), VISITS_FILE=os.path.join(work, 'visits.txt'))
            proc = subprocess.Popen([sys.executable, os.path.join(DEPLOY, 'examples', 'visits', 'app.py')], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            answers = []
            deadline = time.monotonic() + 10
            while len(answers) < 3 and time.monotonic() < deadline:
                try:
                    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=5)
                    conn.request('GET', '/healthz' if not answers else '/')
                    r = conn.getresponse()
                    answers.append((r.status, r.read().decode()))
                    conn.close()
                except OSError:
                    time.sleep(0.1)
            with open(os.path.join(work, 'visits.txt'), encoding='utf-8') as f:
                stored = f.read()
            t.ok(len(answers) == 3 and answers[0] == (200, 'ok\n') and answers[1][1].startswith('visits: 1 ') and
                 answers[2][1].startswith('visits: 2 ') and stored == '2\n',
                 'example app: /healthz is ok, each GET / counts a visit in visits.txt', (answers, stored))
        except OSError as e:
            t.ok(False, 'example app: /healthz is ok, each GET / counts a visit in visits.txt', str(e))
        finally:
            if proc is not None:
                proc.kill()
                proc.wait()
            shutil.rmtree(work, ignore_errors=True)

    # -- 4. chart == manifests --

    def test_same_installation(self):
        t = self.t
        plain = self.kustomized['deploy'] + self.kustomized['deploy/snapshots']
        chart = self.chart.get('snapshots', [])

        def key(o):
            return (o['kind'], o['metadata']['name'], o['metadata'].get('namespace', ''))
        t.eq(sorted(key(o) for o in chart),
             sorted(key(o) for o in plain if o['kind'] != 'Namespace'),
             'the Helm chart creates the objects of the plain manifests (less the Namespace)')
        for kind, name, part in (('DaemonSet', 'claimfs-node', lambda o: o['spec']['template']['spec']),
                                 ('ClusterRole', 'claimfs-csi', lambda o: o['rules']),
                                 ('Role', 'claimfs-csi-leader-election', lambda o: o['rules']),
                                 ('CSIDriver', DRIVER, lambda o: o['spec']),
                                 ('StorageClass', 'claimfs', lambda o: {k: v for k, v in o.items() if k not in ('metadata',)})):
            a, b = find(chart, kind, name), find(plain, kind, name)
            t.ok(a and b and part(a[0]) == part(b[0]), 'chart and manifests agree on %s %s' % (kind, name),
                 (a and part(a[0]), b and part(b[0])))
        other = self.chart.get('no-class', [])
        ds = find(other, 'DaemonSet', 'claimfs-node')
        paths = [v['hostPath']['path'] for v in ds[0]['spec']['template']['spec']['volumes'] if 'hostPath' in v] if ds else []
        t.ok(not find(other, 'StorageClass') and ds and container(ds[0], 'claimfsd')['image'] == 'claimfs:v9' and
             '/srv/claimfs/store' in paths, 'chart values: storageClass.create, image.tag and hostDir take effect')
        group = self.chart.get('group-snapshots', [])
        ds, vgsc = find(group, 'DaemonSet', 'claimfs-node'), find(group, 'VolumeGroupSnapshotClass', 'claimfs')
        snapper = container(ds[0], 'csi-snapshotter') if ds else None
        t.ok(vgsc and vgsc[0]['driver'] == DRIVER and snapper and
             '--feature-gates=CSIVolumeGroupSnapshot=true' in snapper['args'] and
             '--feature-gates=CSIVolumeGroupSnapshot=true' not in
             container(find(self.chart.get('default', []), 'DaemonSet', 'claimfs-node')[0], 'csi-snapshotter')['args'],
             'chart value volumeGroupSnapshotClass.create: a VolumeGroupSnapshotClass and the snapshotter\'s '
             'CSIVolumeGroupSnapshot gate (off by default)', (vgsc, snapper and snapper['args']))
        other = self.chart.get('no-attach', [])
        ds, driver = find(other, 'DaemonSet', 'claimfs-node'), find(other, 'CSIDriver', DRIVER)
        t.ok(ds and driver and driver[0]['spec']['attachRequired'] is False and container(ds[0], 'csi-attacher') is None,
             'chart value attach.enabled=false: attachRequired false and no external-attacher (multi-node clusters)')

    # -- 5. schemas --

    def npm_install(self):
        """node_modules with kubernetes-models next to a copy of validate.mjs; returns its dir or None."""
        npm_dir, why = npm_ci(HERE, ('package.json', 'package-lock.json', 'validate.mjs'),
                              os.environ.get('CLAIMFS_CSI_NPM_DIR')
                              or os.path.join(tempfile.gettempdir(), 'claimfs-csi-npm'))
        if npm_dir is None and '\n' in why:
            why, output = why.split('\n', 1)
            self.t.diag(output)
        return npm_dir, why

    @staticmethod
    def snapshot_class_errors(o):
        """The VolumeSnapshotClass (snapshot.storage.k8s.io/v1) and VolumeGroupSnapshotClass
        (groupsnapshot.storage.k8s.io/v1beta1) CRD schemas, the same fields, by hand: no model in
        kubernetes-models."""
        errors = []
        allowed = {'apiVersion', 'kind', 'metadata', 'driver', 'deletionPolicy', 'parameters'}
        errors += ['unknown field %s' % k for k in o if k not in allowed]
        if not isinstance(o.get('driver'), str) or not o['driver']:
            errors.append('driver must be a non-empty string')
        if o.get('deletionPolicy') not in ('Delete', 'Retain'):
            errors.append('deletionPolicy must be Delete or Retain')
        params = o.get('parameters', {})
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            errors.append('parameters must map strings to strings')
        if not isinstance(o.get('metadata', {}).get('name'), str):
            errors.append('metadata.name is required')
        return errors

    @staticmethod
    def attributes_class_errors(o):
        """The VolumeAttributesClass (storage.k8s.io/v1) schema by hand: no model in the
        pinned kubernetes-models. driverName is required, parameters map strings to strings."""
        errors = ['unknown field %s' % k for k in o
                  if k not in {'apiVersion', 'kind', 'metadata', 'driverName', 'parameters'}]
        if not isinstance(o.get('driverName'), str) or not o['driverName']:
            errors.append('driverName must be a non-empty string')
        params = o.get('parameters', {})
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            errors.append('parameters must map strings to strings')
        if not isinstance(o.get('metadata', {}).get('name'), str):
            errors.append('metadata.name is required')
        return errors

    def test_schemas(self):
        t = self.t
        sources = [('deploy', self.kustomized['deploy']), ('deploy/snapshots', self.kustomized['deploy/snapshots']),
                   ('deploy/examples', self.kustomized['deploy/examples'])]
        sources += [('chart(%s)' % k, v) for k, v in sorted(self.chart.items())]
        objects = [(label, o) for label, objs in sources for o in objs]
        broken_ds = copy.deepcopy(find(self.kustomized['deploy'], 'DaemonSet') or [{'apiVersion': 'apps/v1', 'kind': 'DaemonSet', 'metadata': {'name': 'x'}, 'spec': {}}])[0]
        broken_ds['spec']['template']['spec']['containers'] = 'claimfsd'
        broken_sc = {'apiVersion': 'storage.k8s.io/v1', 'kind': 'StorageClass', 'metadata': {'name': 'x'},
                     'provisioner': DRIVER, 'volumeBindingMode': 42}
        controls = [('control', broken_ds), ('control', broken_sc)]
        npm_dir, why = self.npm_install()
        if npm_dir is None:
            t.skip('objects validate against the Kubernetes API schemas', why)
            return
        everything = objects + controls
        with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as f:
            json.dump([o for _, o in everything], f)
            path = f.name
        try:
            done = subprocess.run(['node', os.path.join(npm_dir, 'validate.mjs'), path], cwd=npm_dir,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False, timeout=300)
        finally:
            os.unlink(path)
        results = {}
        for line in done.stdout.splitlines():
            fields = line.split('\t')
            if len(fields) >= 2 and fields[1].isdigit():
                results[int(fields[1])] = (fields[0], fields[2] if len(fields) > 2 else '')
        if not t.ok(done.returncode == 0 and len(results) == len(everything), 'the schema validator ran',
                    done.stderr[-2000:]):
            return
        for i, (label, o) in enumerate(objects):
            status, detail = results[i]
            desc = '%s: %s %s validates against its API schema' % (label, o.get('kind'), o['metadata'].get('name'))
            if status == 'unknown' and o.get('kind') in ('VolumeSnapshotClass', 'VolumeGroupSnapshotClass'):
                errors = self.snapshot_class_errors(o)
                t.ok(not errors, desc + ' (CRD schema)', errors)
            elif status == 'unknown' and o.get('kind') == 'VolumeAttributesClass':
                errors = self.attributes_class_errors(o)
                t.ok(not errors, desc + ' (by hand)', errors)
            else:
                t.ok(status == 'ok', desc, detail)
        broken_vac = {'apiVersion': 'storage.k8s.io/v1', 'kind': 'VolumeAttributesClass',
                      'metadata': {'name': 'x'}, 'parameters': {'inodeLimit': 1000}}
        t.ok(len(self.attributes_class_errors(broken_vac)) == 2,
             'a broken VolumeAttributesClass (no driverName, a number as parameter) is rejected',
             self.attributes_class_errors(broken_vac))
        for j, (_, o) in enumerate(controls):
            status, detail = results[len(objects) + j]
            t.ok(status == 'fail', 'a broken %s is rejected by the validator' % o['kind'], (status, detail))


def main():
    t = Tap(check_env=False)
    try:
        import yaml
    except ImportError:
        t.skip_all('python3-yaml is not installed')
    if shutil.which('kubectl') is None:
        t.skip_all('kubectl is not installed')
    test = ManifestTest(t, yaml)
    try:
        test.test_parse()
        test.test_chart_renders()
        test.test_kustomize()
        test.test_installation(test.kustomized['deploy'], 'manifests')
        test.test_snapshot_class(test.kustomized['deploy/snapshots'], 'manifests')
        for label in ('default', 'snapshots'):
            test.test_installation(test.chart.get(label, []), 'chart')
        test.test_snapshot_class(test.chart.get('snapshots', []), 'chart')
        test.test_example(test.kustomized['deploy/examples'])
        test.test_example_app()
        test.test_same_installation()
        test.test_schemas()
    except Exception:  # pylint: disable=broad-except
        import traceback
        t.ok(False, 'the manifest checks ran to completion', traceback.format_exc())
    t.done()


if __name__ == '__main__':
    main()
