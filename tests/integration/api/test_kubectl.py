#!/usr/bin/env python3
"""test_kubectl.py - the real kubectl binary drives a real claimfsd.

Every check runs `kubectl --server URL ...` (with a throwaway HOME, cache
directory and KUBECONFIG) against a daemon started by lib/daemon.py and
asserts on kubectl's output and exit status, and, where it matters, on the
claim directories under the mount: get/describe/apply (client- and
server-side)/create/replace/patch/delete/scale/wait/watch for claims,
volumes, classes and StatefulSets; the Retain -> Released -> Available ->
rebound story with the data intact; expansion seen by statvfs (what df
shows); ReadOnlyMany through the mount; snapshots and clones with their
data; --validate (strict, warn, false) and explain; bearer tokens; /metrics.

Owns: one temporary work directory and the daemons in it; both are gone
when the program ends, whatever happened.
"""

import errno
import http.client
import json
import os
import queue
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import Daemon, serve_checks  # noqa: E402
from tap import Tap  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')
KUBECTL = shutil.which('kubectl')
MI = 1024 * 1024


class Kubectl:
    """Runs kubectl against one daemon with a private HOME and KUBECONFIG."""

    def __init__(self, workdir, url, token=None):
        self.home = os.path.join(workdir, 'home')
        os.makedirs(self.home, exist_ok=True)
        self.kubeconfig = os.path.join(self.home, 'kubeconfig')
        with open(self.kubeconfig, 'w', encoding='ascii') as f:
            f.write('apiVersion: v1\nkind: Config\nclusters:\n- name: claimfs\n  cluster:\n'
                    '    server: %s\ncontexts:\n- name: claimfs\n  context:\n'
                    '    cluster: claimfs\n    namespace: default\ncurrent-context: claimfs\n'
                    'users: []\n' % url)
        self.url = url
        self.token = token
        self.env = dict(os.environ, HOME=self.home, KUBECONFIG=self.kubeconfig)

    def argv(self, args):
        base = [KUBECTL, '--server', self.url, '--cache-dir', os.path.join(self.home, 'cache'),
                '--request-timeout', '20s']
        if self.token is not None:
            base += ['--token', self.token]
        return base + list(args)

    def __call__(self, *args, stdin=None, timeout=60):
        """Run kubectl; returns (exit status, stdout, stderr)."""
        proc = subprocess.run(self.argv(args), input=stdin, capture_output=True, text=True,
                              env=self.env, timeout=timeout, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def ok(self, t, desc, *args, stdin=None, expect=None):
        """Run; record that it exits 0 (and prints EXPECT); return stdout."""
        rc, out, err = self(*args, stdin=stdin)
        good = rc == 0 and (expect is None or expect in out)
        t.ok(good, desc, 'kubectl %s\nrc=%d\nstdout:\n%s\nstderr:\n%s'
             % (' '.join(args), rc, out, err))
        return out

    def fails(self, t, desc, *args, stdin=None, expect=None):
        """Run; record that it exits non-zero (and says EXPECT on stderr); return stderr."""
        rc, out, err = self(*args, stdin=stdin)
        good = rc != 0 and (expect is None or expect in err)
        t.ok(good, desc, 'kubectl %s\nrc=%d\nstdout:\n%s\nstderr:\n%s'
             % (' '.join(args), rc, out, err))
        return err

    def json(self, *args):
        """kubectl get ... -o json, decoded (None on failure)."""
        rc, out, _ = self(*args, '-o', 'json')
        if rc != 0:
            return None
        return json.loads(out)


def rows(out):
    """The table rows of kubectl output, split on whitespace runs of 2+."""
    return [re.split(r'\s{2,}', line.strip()) for line in out.strip().splitlines()[1:]
            if line.strip()]


def fixture(name):
    return os.path.join(FIXTURES, name)


def run_discovery(t, k):
    out = k.ok(t, 'kubectl api-resources', 'api-resources')
    for name, short in (('persistentvolumeclaims', 'pvc'), ('persistentvolumes', 'pv'),
                        ('storageclasses', 'sc'), ('statefulsets', 'sts'),
                        ('volumesnapshots', 'vs'), ('namespaces', 'ns'), ('events', 'ev')):
        t.ok(re.search(r'^%s\s+%s\s' % (name, short), out, re.M) is not None,
             'api-resources lists %s (%s)' % (name, short), out)
    out = k.ok(t, 'kubectl version', 'version')
    t.ok('Server Version: v1.32' in out, 'kubectl version shows the server version', out)
    k.ok(t, 'kubectl get pvc on an empty store', 'get', 'pvc')
    rc, _, err = k('get', 'pvc')
    t.ok(rc == 0 and 'No resources found in default namespace.' in err,
         'empty namespace: "No resources found"', err)
    out = k.ok(t, 'kubectl get sc', 'get', 'sc')
    t.eq(rows(out), [['claimfs (default)', 'claimfs.csi.claimfs.io', 'Delete', 'Immediate',
                      'true', rows(out)[0][-1] if rows(out) else '']],
         'the default class claimfs exists on an empty store')
    t.ok(out.splitlines()[0].split() == ['NAME', 'PROVISIONER', 'RECLAIMPOLICY',
                                         'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE'],
         'storage class columns', out)


def run_statefulset(t, k, d):
    out = k.ok(t, 'kubectl apply -f statefulset.yaml (client-side, validated)', 'apply', '-f',
               fixture('statefulset.yaml'), expect='statefulset.apps/app-python created')
    out = k.ok(t, 'kubectl get pvc', 'get', 'pvc')
    header = out.splitlines()[0] if out else ''
    t.ok(header.split() == ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS', 'MODES',
                            'STORAGECLASS', 'AGE'], 'claim columns as a cluster prints them',
         header)
    got = rows(out)
    t.eq([r[0] for r in got], ['data-app-python-%d' % i for i in range(3)],
         'claims data-app-python-0..2 from the volumeClaimTemplate')
    t.ok(all(r[1] == 'Bound' and r[2].startswith('pvc-') and r[3] == '1Mi' and r[4] == 'RWO'
             and r[5] == 'claimfs' for r in got), 'every claim Bound, 1Mi, RWO, claimfs', out)
    t.ok(all(os.path.isdir(d.claim_path('default', 'data-app-python-%d' % i)) for i in range(3)),
         'claim directories exist under the mount')
    out = k.ok(t, 'kubectl get sts', 'get', 'sts')
    t.ok(rows(out) and rows(out)[0][:2] == ['app-python', '3/3'], 'READY 3/3', out)
    out = k.ok(t, 'kubectl get sts -o wide', 'get', 'sts', '-o', 'wide')
    t.ok('CONTAINERS' in out and 'python:3.12-slim' in out, '-o wide adds containers, images',
         out)
    out = k.ok(t, 'kubectl get pvc -o wide', 'get', 'pvc', '-o', 'wide')
    t.ok('VOLUMEMODE' in out and 'Filesystem' in out, '-o wide adds VOLUMEMODE', out)
    obj = k.json('get', 'pvc', 'data-app-python-1')
    t.ok(obj is not None and obj['metadata']['labels'] == {'app': 'app-python'},
         'claims carry the selector labels', json.dumps(obj)[:300])

    # client-side apply of a change: a strategic merge patch
    with open(fixture('statefulset.yaml'), encoding='utf-8') as f:
        text = f.read()
    k.ok(t, 'kubectl apply (replicas 4) patches', 'apply', '-f', '-',
         stdin=text.replace('replicas: 3', 'replicas: 4'),
         expect='statefulset.apps/app-python configured')
    t.eq(len(rows(k('get', 'pvc')[1])), 4, 'apply with 4 replicas provisions claim 3')
    k.ok(t, 'kubectl scale sts --replicas=5', 'scale', 'statefulset', 'app-python',
         '--replicas=5', expect='statefulset.apps/app-python scaled')
    t.eq(len(rows(k('get', 'pvc', '-l', 'app=app-python')[1])), 5,
         'scale up provisions the missing claims')
    out = k.ok(t, 'kubectl apply --server-side', 'apply', '--server-side', '-f',
               fixture('statefulset.yaml'), expect='serverside-applied')
    obj = k.json('get', 'sts', 'app-python')
    t.ok(obj is not None and obj['spec']['replicas'] == 3 and obj['metadata']['generation'] >= 4
         and obj['spec']['serviceName'] == 'app-python'
         and obj['spec']['podManagementPolicy'] == 'Parallel',
         'server-side apply sets replicas 3; generation counts spec changes; fields kept',
         json.dumps(obj)[:400] if obj else '')
    t.eq(len(rows(k('get', 'pvc')[1])), 5, 'scale down with whenScaled Retain keeps claims')
    out = k.ok(t, 'kubectl describe sts', 'describe', 'sts', 'app-python')
    t.ok('Replicas:' in out and 'data' in out, 'describe shows the set', out[:500])


def run_output_and_selectors(t, k):
    out = k.ok(t, 'kubectl get pvc -o yaml', 'get', 'pvc', 'data-app-python-0', '-o', 'yaml')
    t.ok('kind: PersistentVolumeClaim' in out and 'phase: Bound' in out, '-o yaml', out[:300])
    obj = k.json('get', 'pvc')
    t.ok(obj is not None and obj.get('kind') == 'List' and len(obj['items']) == 5, '-o json list',
         json.dumps(obj)[:200] if obj else '')
    k.ok(t, 'create a claim in another namespace', 'create', '-n', 'team-b', '-f',
         fixture('claim.yaml'), expect='persistentvolumeclaim/visits-app-python-0 created')
    out = k.ok(t, 'kubectl get pvc -A', 'get', 'pvc', '-A')
    t.ok(out.splitlines()[0].startswith('NAMESPACE') and
         any(r[:2] == ['team-b', 'visits-app-python-0'] for r in rows(out)),
         '-A adds the NAMESPACE column from the row metadata', out)
    out = k.ok(t, 'kubectl get pvc -n team-b', 'get', 'pvc', '-n', 'team-b')
    t.eq([r[0] for r in rows(out)], ['visits-app-python-0'], '-n lists one namespace')
    out = k.ok(t, 'kubectl get pvc --field-selector', 'get', 'pvc', '--field-selector',
               'metadata.name=data-app-python-2')
    t.eq([r[0] for r in rows(out)], ['data-app-python-2'], '--field-selector metadata.name=')
    out = k.ok(t, 'kubectl get pvc -l with no match', 'get', 'pvc', '-l', 'app=none')
    t.eq(rows(out), [], '-l selects nothing when nothing matches')
    out = k.ok(t, 'kubectl get pvc --show-labels', 'get', 'pvc', 'data-app-python-0',
               '--show-labels')
    t.ok('app=app-python' in out, '--show-labels reads labels from the rows', out)
    out = k.ok(t, 'kubectl get pv', 'get', 'pv')
    t.ok(out.splitlines()[0].split() == ['NAME', 'CAPACITY', 'ACCESS', 'MODES', 'RECLAIM',
                                         'POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'AGE'],
         'volume columns as a cluster prints them', out.splitlines()[0] if out else '')
    t.ok(any(r[5] == 'default/data-app-python-0' and r[4] == 'Bound' for r in rows(out)),
         'every bound claim has its PV with the claim', out)
    out = k.ok(t, 'kubectl describe pvc', 'describe', 'pvc', 'data-app-python-0')
    t.ok(re.search(r'Status:\s+Bound', out) and re.search(r'StorageClass:\s+claimfs', out),
         'describe pvc', out[:400])
    k.ok(t, 'kubectl get pods (claimfs runs none)', 'get', 'pods')
    k.ok(t, 'kubectl label', 'label', 'pvc', 'data-app-python-0', 'tier=db',
         expect='labeled')
    t.eq([r[0] for r in rows(k('get', 'pvc', '-l', 'tier=db')[1])], ['data-app-python-0'],
         'label selectors see new labels')
    k.ok(t, 'kubectl annotate', 'annotate', 'pvc', 'data-app-python-0', 'note=kept',
         expect='annotated')


def run_dry_run_deletes(t, k, d):
    """kubectl sends dryRun in the DeleteOptions body: every server dry run
    of a delete must leave every object, its volume and its files as they
    were, and the store's resourceVersion unbumped."""
    visits = os.path.join(d.claim_path('default', 'data-app-python-0'), 'visits.txt')
    with open(visits, 'w', encoding='utf-8') as f:
        f.write('41')
    kinds = ('pvc', 'pv', 'sts', 'sc')

    def state():
        return {kind: k.json('get', kind, '-o', 'json') for kind in kinds}

    before = state()
    pv = before['pv']['items'][0]['metadata']['name'] if before['pv'] else None
    k.ok(t, 'kubectl delete pvc --dry-run=server', 'delete', 'pvc', 'data-app-python-0',
         '--dry-run=server', expect='deleted (server dry run)')
    k.ok(t, 'kubectl delete pvc -l --dry-run=server', 'delete', 'pvc', '-l', 'app=app-python',
         '--dry-run=server', expect='deleted (server dry run)')
    k.ok(t, 'kubectl delete sts --dry-run=server', 'delete', 'sts', 'app-python',
         '--dry-run=server', expect='deleted (server dry run)')
    k.ok(t, 'kubectl delete sc --dry-run=server', 'delete', 'sc', 'claimfs', '--dry-run=server',
         expect='deleted (server dry run)')
    k.ok(t, 'kubectl delete pv --dry-run=server', 'delete', 'pv', str(pv), '--dry-run=server',
         expect='deleted (server dry run)')
    after = state()
    for kind in kinds:
        t.ok(before[kind] is not None and after[kind] == before[kind],
             'server dry-run deletes leave every %s and the resourceVersion as they were' % kind,
             json.dumps(after[kind])[:400] if after[kind] else '')
    with open(visits, encoding='utf-8') as f:
        t.eq(f.read(), '41', 'the claim\'s files are still there after dry-run deletes')

    path = '/api/v1/namespaces/default/persistentvolumeclaims/data-app-python-0'
    status, _, body = d.request('DELETE', path, json.dumps({'dryRun': ['Bogus']}))
    message = json.loads(body).get('message', '') if status == 422 else body.decode()
    t.ok(status == 422 and message == 'DeleteOptions.meta.k8s.io "" is invalid: dryRun: '
         'Unsupported value: []string{"Bogus"}: supported values: "All"',
         'an unknown dryRun directive in DeleteOptions is refused (422)', message)
    status, _, body = d.request('DELETE', path, '{"dryRun": ["All"')
    t.ok(status == 400, 'an unreadable DeleteOptions body is refused (400), not ignored',
         '%s %s' % (status, body))
    status, _, body = d.request('DELETE', path + '?dryRun=Bogus')
    t.ok(status == 422, 'an unknown ?dryRun directive is refused (422)', '%s %s' % (status, body))
    status, _, body = d.request('POST', '/api/v1/namespaces/default/persistentvolumeclaims'
                                '?dryRun=Bogus', d.claim_body('dry-bogus'))
    t.ok(status == 422, 'create with an unknown ?dryRun directive is refused (422)',
         '%s %s' % (status, body))
    t.eq(state(), before, 'refused dry runs change nothing')
    with open(visits, encoding='utf-8') as f:
        t.eq(f.read(), '41', 'the claim\'s files are still there after refused dry runs')


def run_write_verbs(t, k, d):
    k.ok(t, 'kubectl create -f claim.yaml', 'create', '-f', fixture('claim.yaml'),
         expect='created')
    k.fails(t, 'creating it again is AlreadyExists', 'create', '-f', fixture('claim.yaml'),
            expect='AlreadyExists')
    obj = k.json('get', 'pvc', 'visits-app-python-0')
    old = dict(obj)
    obj['metadata']['labels']['replaced'] = 'yes'
    out = k.ok(t, 'kubectl replace', 'replace', '-f', '-', stdin=json.dumps(obj),
               expect='replaced')
    old['metadata']['labels']['stale'] = 'yes'
    k.fails(t, 'replace with a stale resourceVersion is a Conflict', 'replace', '-f', '-',
            stdin=json.dumps(old), expect='the object has been modified')
    k.ok(t, 'kubectl patch --type merge', 'patch', 'pvc', 'visits-app-python-0', '--type',
         'merge', '-p', '{"metadata":{"labels":{"merged":"yes"}}}', expect='patched')
    k.ok(t, 'kubectl patch --type json', 'patch', 'pvc', 'visits-app-python-0', '--type',
         'json', '-p', '[{"op":"remove","path":"/metadata/labels/replaced"}]',
         expect='patched')
    obj = k.json('get', 'pvc', 'visits-app-python-0')
    t.eq(obj['metadata']['labels'] if obj else None, {'app': 'app-python', 'merged': 'yes'},
         'labels after replace, merge patch and JSON patch')
    k.fails(t, 'changing access modes is refused', 'patch', 'pvc', 'visits-app-python-0', '-p',
            '{"spec":{"accessModes":["ReadWriteMany"]}}', expect='spec is immutable')
    k.ok(t, 'kubectl create --dry-run=server', 'create', '--dry-run=server', '-f', '-',
         stdin=open(fixture('claim.yaml'), encoding='utf-8').read()
         .replace('visits-app-python-0', 'dry-run'), expect='created (server dry run)')
    k.fails(t, 'a server dry run creates nothing', 'get', 'pvc', 'dry-run', expect='NotFound')
    k.fails(t, 'a bad quantity is Invalid', 'create', '-f', '-',
            stdin=open(fixture('claim.yaml'), encoding='utf-8').read()
            .replace('1Mi', '1 Mi').replace('visits-app-python-0', 'badq'),
            expect='quantities must match')
    k.ok(t, 'kubectl delete pvc', 'delete', 'pvc', 'visits-app-python-0',
         expect='persistentvolumeclaim "visits-app-python-0" deleted')
    t.ok(not os.path.exists(d.claim_path('default', 'visits-app-python-0')),
         'the deleted claim\'s directory is gone')
    k.fails(t, 'kubectl get of a deleted claim is NotFound', 'get', 'pvc', 'visits-app-python-0',
            expect='NotFound')


def run_status_and_diff(t, k, d):
    """kubectl patch --subresource=status, a failing JSON-patch test op, and
    kubectl diff (a server dry run) of an unchanged and of a changed object."""
    k.ok(t, 'kubectl patch --subresource=status', 'patch', 'pvc', 'data-app-python-0',
         '--subresource=status', '--type=merge', '-p',
         '{"status":{"conditions":[{"type":"Checked","status":"True"}]}}', expect='patched')
    obj = k.json('get', 'pvc', 'data-app-python-0')
    t.eq((obj or {}).get('status', {}).get('conditions'), [{'type': 'Checked', 'status': 'True'}],
         'the status patch set status.conditions')
    k.ok(t, 'kubectl get --subresource=status', 'get', 'pvc', 'data-app-python-0',
         '--subresource=status', expect='data-app-python-0')
    k.fails(t, 'a failed JSON-patch test op names the op', 'patch', 'pvc', 'data-app-python-0',
            '--type=json', '-p', '[{"op":"test","path":"/spec/volumeName","value":"x"}]',
            expect='testing value /spec/volumeName failed')
    manifest = open(fixture('claim.yaml'), encoding='utf-8').read().replace(
        'visits-app-python-0', 'diffed')
    k.ok(t, 'kubectl apply of the claim to diff', 'apply', '-f', '-', stdin=manifest)
    rc, out, err = k('diff', '-f', '-', stdin=manifest)
    t.ok(rc == 0 and out == '', 'kubectl diff of an unchanged object prints nothing, exits 0',
         'rc=%d\n%s%s' % (rc, out, err))
    rc, out, err = k('diff', '-f', '-', stdin=manifest.replace('app: app-python',
                                                                'app: app-python\n    diff: changed'))
    changed = [line for line in out.splitlines() if line[:1] in '+-' and line[:3] not in '+++---']
    t.ok(rc == 1 and '+    diff: changed' in changed
         and not any('resourceVersion' in line for line in changed),
         'kubectl diff of a changed object shows the change and no resourceVersion line',
         'rc=%d\n%s%s' % (rc, out, err))
    k.ok(t, 'delete the diffed claim', 'delete', 'pvc', 'diffed')


def statvfs_bytes(path):
    st = os.statvfs(path)
    return st.f_blocks * st.f_frsize


def run_expansion(t, k, d):
    path = d.claim_path('default', 'data-app-python-0')
    t.eq(statvfs_bytes(path), MI, 'df shows 1Mi before expansion')
    k.ok(t, 'kubectl patch to 3Mi', 'patch', 'pvc', 'data-app-python-0', '-p',
         '{"spec":{"resources":{"requests":{"storage":"3Mi"}}}}', expect='patched')
    t.eq(statvfs_bytes(path), 3 * MI, 'df shows 3Mi at once')
    out = k('get', 'pvc', 'data-app-python-0')[1]
    t.ok(rows(out) and rows(out)[0][3] == '3Mi', 'CAPACITY 3Mi', out)
    with open(os.path.join(path, 'big'), 'wb') as f:
        f.write(b'x' * (2 * MI))
    t.ok(os.path.getsize(os.path.join(path, 'big')) == 2 * MI, 'the grown volume takes 2Mi')
    os.unlink(os.path.join(path, 'big'))
    k.fails(t, 'shrinking is refused as Kubernetes refuses it', 'patch', 'pvc',
            'data-app-python-0', '-p', '{"spec":{"resources":{"requests":{"storage":"1Mi"}}}}',
            expect='field can not be less than previous value')
    t.eq(statvfs_bytes(path), 3 * MI, 'still 3Mi after the refused shrink')


def run_retain(t, k, d):
    k.ok(t, 'kubectl apply retain-class.yaml', 'apply', '-f', fixture('retain-class.yaml'),
         expect='persistentvolumeclaim/keep-me created')
    path = d.claim_path('default', 'keep-me')
    with open(os.path.join(path, 'visits.txt'), 'w', encoding='ascii') as f:
        f.write('41\n')
    pv = (k.json('get', 'pvc', 'keep-me') or {}).get('spec', {}).get('volumeName', '')
    t.ok(pv.startswith('pvc-'), 'the Retain claim is bound', pv)
    out = k('get', 'pv', pv)[1]
    t.ok(rows(out) and rows(out)[0][3] == 'Retain', 'its PV has reclaim policy Retain', out)
    k.ok(t, 'delete the Retain claim', 'delete', 'pvc', 'keep-me')
    out = k('get', 'pv', pv)[1]
    t.ok(rows(out) and rows(out)[0][4] == 'Released' and rows(out)[0][5] == 'default/keep-me',
         'the PV is Released and still names its claim', out)
    t.ok(not os.path.exists(path), 'the released volume is not mounted as a claim')
    k.ok(t, 'remove spec.claimRef', 'patch', 'pv', pv, '--type', 'json', '-p',
         '[{"op":"remove","path":"/spec/claimRef"}]', expect='patched')
    out = k('get', 'pv', pv)[1]
    t.ok(rows(out) and rows(out)[0][4] == 'Available', 'the PV is Available', out)
    claim = ('apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: keep-me-again\n'
             'spec:\n  storageClassName: claimfs-retain\n  volumeName: %s\n'
             '  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n'
             '      storage: 1Mi\n' % pv)
    k.ok(t, 'a new claim names the volume', 'apply', '-f', '-', stdin=claim)
    k.ok(t, 'kubectl wait for Bound', 'wait', '--for=jsonpath={.status.phase}=Bound',
         'pvc/keep-me-again', '--timeout=20s')
    try:
        with open(os.path.join(d.claim_path('default', 'keep-me-again'), 'visits.txt'),
                  encoding='ascii') as f:
            data = f.read()
    except OSError as e:
        data = repr(e)
    t.eq(data, '41\n', 'the rebound claim sees the old data')
    k.ok(t, 'delete the rebound claim', 'delete', 'pvc', 'keep-me-again')
    k.ok(t, 'delete the PV', 'delete', 'pv', pv, expect='deleted')
    k.fails(t, 'the PV is gone', 'get', 'pv', pv, expect='NotFound')
    metrics = d.request('GET', '/metrics')[2].decode()
    t.ok(pv not in metrics, 'deleting the PV deleted its volume (no longer in /metrics)')


def run_access_modes(t, k, d):
    claim = ('apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: %s\nspec:\n'
             '  accessModes: [%s]\n  resources:\n    requests:\n      storage: 1Mi\n')
    k.ok(t, 'ReadOnlyMany claim', 'create', '-f', '-', stdin=claim % ('ro', 'ReadOnlyMany'))
    t.errno(lambda: open(os.path.join(d.claim_path('default', 'ro'), 'f'), 'w',
                         encoding='ascii'), errno.EROFS, 'a ReadOnlyMany claim is read-only')
    for name, mode, short in (('rwx', 'ReadWriteMany', 'RWX'), ('rwop', 'ReadWriteOncePod', 'RWOP')):
        k.ok(t, '%s claim' % mode, 'create', '-f', '-', stdin=claim % (name, mode))
        out = k('get', 'pvc', name)[1]
        t.ok(rows(out) and rows(out)[0][4] == short, '%s reported as %s' % (mode, short), out)
        with open(os.path.join(d.claim_path('default', name), 'f'), 'w', encoding='ascii') as f:
            f.write('ok')
    k.ok(t, 'delete the access-mode claims', 'delete', 'pvc', 'ro', 'rwx', 'rwop')


def run_snapshots(t, k, d):
    with open(os.path.join(d.claim_path('default', 'data-app-python-0'), 'visits.txt'), 'w',
              encoding='ascii') as f:
        f.write('7\n')
    k.ok(t, 'kubectl apply snapshot.yaml', 'apply', '-f', fixture('snapshot.yaml'))
    out = k.ok(t, 'kubectl get volumesnapshot', 'get', 'volumesnapshot')
    t.ok(rows(out) and rows(out)[0][:3] == ['data-app-python-0-snap', 'true', 'data-app-python-0'],
         'the snapshot is ready to use', out)
    with open(os.path.join(d.claim_path('default', 'data-app-python-0'), 'visits.txt'), 'w',
              encoding='ascii') as f:
        f.write('8\n')
    for name, want in (('data-restored', '7\n'), ('data-clone', '7\n')):
        try:
            with open(os.path.join(d.claim_path('default', name), 'visits.txt'),
                      encoding='ascii') as f:
                got = f.read()
        except OSError as e:
            got = repr(e)
        t.eq(got, want, '%s holds the data of the source at its point in time' % name)
    out = k('get', 'pvc', 'data-clone')[1]
    t.ok(rows(out) and rows(out)[0][3] == '2Mi', 'the clone has the size it asked for', out)
    k.fails(t, 'a clone smaller than its source is Invalid', 'create', '-f', '-',
            stdin='apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: tiny\n'
            'spec:\n  accessModes: [ReadWriteOnce]\n  dataSource:\n'
            '    kind: PersistentVolumeClaim\n    name: data-clone\n'
            '  resources:\n    requests:\n      storage: 1Mi\n',
            expect='smaller than the size of the data source')
    k.ok(t, 'delete the snapshot', 'delete', 'volumesnapshot', 'data-app-python-0-snap')
    k.ok(t, 'delete the restored claims', 'delete', 'pvc', 'data-restored', 'data-clone')


def run_watch(t, k, d):
    lines = queue.Queue()
    proc = subprocess.Popen(k.argv(['get', 'pvc', '-w']), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=k.env)

    def reader():
        for line in proc.stdout:
            lines.put(line.rstrip('\n'))

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    seen = []

    def expect(pred, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            seen.append(line)
            if pred(line):
                return True
        return False

    try:
        t.ok(expect(lambda l: l.startswith('data-app-python-0')), 'kubectl get pvc -w lists first',
             '\n'.join(seen))
        k.ok(t, 'create while watching', 'create', '-f', '-',
             stdin='apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: watched\n'
             'spec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n'
             '      storage: 1Mi\n')
        t.ok(expect(lambda l: l.startswith('watched') and 'Bound' in l),
             'the watch shows the new claim Bound', '\n'.join(seen))
        k.ok(t, 'expand while watching', 'patch', 'pvc', 'watched', '-p',
             '{"spec":{"resources":{"requests":{"storage":"2Mi"}}}}')
        t.ok(expect(lambda l: l.startswith('watched') and '2Mi' in l),
             'the watch shows the new capacity', '\n'.join(seen))
        k.ok(t, 'delete while watching', 'delete', 'pvc', 'watched')
        t.ok(expect(lambda l: l.startswith('watched') and 'Terminating' in l),
             'the watch shows the deletion', '\n'.join(seen))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        thread.join(5)
    # the raw stream: ADDED for what exists, then the end at timeoutSeconds
    start = time.monotonic()
    status, headers, body = d.request(
        'GET', '/api/v1/namespaces/default/persistentvolumeclaims?watch=true&timeoutSeconds=2'
        '&fieldSelector=metadata.name%3Ddata-app-python-0&allowWatchBookmarks=true')
    events = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
    t.ok(status == 200 and 1.5 < time.monotonic() - start < 6
         and headers.get('transfer-encoding') == 'chunked'
         and [e['type'] for e in events] == ['ADDED']
         and events[0]['object']['metadata']['name'] == 'data-app-python-0',
         'a raw watch streams WatchEvents (chunked) and ends at timeoutSeconds',
         '%s %r %s' % (status, headers, body[:300]))


def run_wait_and_delete(t, k, d):
    k.ok(t, 'kubectl wait --for=delete after delete', 'delete', 'pvc', 'data-app-python-4',
         '--wait=true', expect='deleted')
    k.ok(t, 'kubectl wait --for=delete of a missing claim', 'wait', '--for=delete',
         'pvc/data-app-python-4', '--timeout=10s')
    k.ok(t, 'kubectl apply web-statefulset.yaml', 'apply', '-f', fixture('web-statefulset.yaml'))
    names = [r[0] for r in rows(k('get', 'pvc', '-l', 'app=nginx')[1])]
    t.eq(sorted(names), ['visits-web-0', 'visits-web-1', 'www-web-0', 'www-web-1'],
         'two templates (www 1Gi, visits 1Mi) x two ordinals')
    out = k('get', 'pvc', 'www-web-0')[1]
    t.ok(rows(out) and rows(out)[0][3] == '1Gi', 'www claims are 1Gi', out)
    obj = k.json('get', 'pvc', 'www-web-0') or {}
    t.eq(obj.get('metadata', {}).get('labels'), {'app': 'nginx', 'tier': 'content'},
         'template labels and selector labels on the claim')
    refs = obj.get('metadata', {}).get('ownerReferences', [])
    t.ok(len(refs) == 1 and refs[0].get('kind') == 'StatefulSet' and refs[0].get('name') == 'web',
         'whenDeleted Delete: the claim is owned by the set', json.dumps(refs))
    k.ok(t, 'scale web to 1', 'scale', 'sts', 'web', '--replicas=1')
    names = [r[0] for r in rows(k('get', 'pvc', '-l', 'app=nginx')[1])]
    t.eq(sorted(names), ['visits-web-0', 'www-web-0'], 'whenScaled Delete removes claims of ordinal 1')
    k.ok(t, 'kubectl delete sts web', 'delete', 'sts', 'web', expect='deleted')
    t.eq(rows(k('get', 'pvc', '-l', 'app=nginx')[1]), [],
         'whenDeleted Delete removes the remaining claims')
    k.ok(t, 'kubectl delete sts app-python', 'delete', 'sts', 'app-python')
    t.eq(len(rows(k('get', 'pvc', '-l', 'app=app-python')[1])), 4,
         'whenDeleted Retain keeps the claims')
    t.ok(os.path.isdir(d.claim_path('default', 'data-app-python-0')), 'and their directories')


def run_validation(t, k):
    """--validate (kubectl sends fieldValidation) and kubectl explain."""
    claim = ('apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: %s}\nspec:\n  %s\n'
             '  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Mi}}\n')
    cannot = 'cannot be handled as a %s: strict decoding error: unknown field "%s"'
    k.fails(t, 'apply (strict by default) refuses spec.bogusField', 'apply', '-f', '-',
            stdin=claim % ('v-bogus', 'bogusField: 1'),
            expect=cannot % ('PersistentVolumeClaim', 'spec.bogusField'))
    k.fails(t, 'create refuses a storageClass: typo', 'create', '-f', '-',
            stdin=claim % ('v-typo', 'storageClass: fast'),
            expect=cannot % ('PersistentVolumeClaim', 'spec.storageClass'))
    rc, _, _ = k('get', 'pvc', 'v-typo')
    t.ok(rc != 0, 'the refused claim does not exist (it did not get class claimfs)')
    sts = ('apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: v-sts}\nspec:\n'
           '  replicas: 1\n  selector: {matchLabels: {app: v}}\n  template:\n'
           '    metadata: {labels: {app: v}}\n    spec: {containers: [{name: c, image: x}]}\n'
           '  volumeClaimTemplate:\n  - metadata: {name: data}\n')
    k.fails(t, 'apply refuses a StatefulSet with volumeClaimTemplate: (singular)',
            'apply', '-f', '-', stdin=sts,
            expect=cannot % ('StatefulSet', 'spec.volumeClaimTemplate'))
    rc, out, err = k('apply', '--validate=warn', '-f', '-', stdin=claim % ('v-warn', 'bogusField: 1'))
    t.ok(rc == 0 and 'Warning: unknown field "spec.bogusField"' in err,
         'apply --validate=warn prints the warning and applies', 'rc=%d\n%s\n%s' % (rc, out, err))
    got = k.json('get', 'pvc', 'v-warn') or {}
    t.ok('bogusField' not in got.get('spec', {'bogusField': 0}),
         '--validate=warn stored the claim without the unknown field', json.dumps(got)[:400])
    rc, out, err = k('apply', '--validate=false', '-f', '-', stdin=claim % ('v-off', 'bogusField: 1'))
    t.ok(rc == 0 and 'Warning' not in err and 'created' in out,
         'apply --validate=false accepts silently', 'rc=%d\n%s\n%s' % (rc, out, err))
    k.fails(t, 'server-side apply refuses an undeclared field', 'apply', '--server-side', '-f',
            '-', stdin=claim % ('v-off', 'bogusField: 1'),
            expect='.spec.bogusField: field not declared in schema')
    rc, _, err = k('patch', 'pvc', 'v-off', '-p', '{"spec":{"bogusField":1}}')
    t.ok(rc == 0 and 'Warning: unknown field "spec.bogusField"' in err,
         'kubectl patch with an unknown field warns (the default is Warn)', err)
    out = k.ok(t, 'kubectl explain persistentvolumeclaim.spec.accessModes', 'explain',
               'persistentvolumeclaim.spec.accessModes')
    t.ok('AccessModes contains the desired access modes' in out and '<empty>' not in out,
         'kubectl explain prints the real description', out)
    out = k.ok(t, 'kubectl explain pvc.spec', 'explain', 'pvc.spec')
    t.ok('<empty>' not in out and 'storageClassName' in out and 'desired characteristics' in out,
         'kubectl explain pvc.spec describes the field and its fields', out)
    out = k.ok(t, 'kubectl explain sts.spec.template.spec.containers.image', 'explain',
               'sts.spec.template.spec.containers.image')
    t.ok('Container image name' in out or 'image name' in out,
         'kubectl explain reaches into the pod template', out)
    k('delete', 'pvc', 'v-warn', 'v-off', '--wait=false')


def run_metrics(t, d):
    status, headers, body = d.request('GET', '/metrics')
    text = body.decode()
    t.ok(status == 200 and headers.get('content-type', '').startswith('text/plain'),
         '/metrics answers text', status)
    t.ok(re.search(r'^claimfs_volume_capacity_bytes\{volume="pvc-[^"]+",namespace="default",'
                   r'claim="data-app-python-0"\} 3145728$', text, re.M) is not None,
         'per-claim capacity', text[:400])
    for name in ('claimfs_volume_used_bytes', 'claimfs_volume_used_inodes',
                 'claimfs_fuse_request_duration_seconds_bucket',
                 'claimfs_api_request_duration_seconds_count{method="GET"}',
                 'claimfs_store_commit_duration_seconds_bucket', 'claimfs_store_commits_total'):
        t.ok(name in text, '/metrics has %s' % name)
    buckets = [int(m.group(1)) for m in re.finditer(
        r'^claimfs_fuse_request_duration_seconds_bucket\{op="write",le="[^"]+"\} (\d+)$', text,
        re.M)]
    count = re.search(r'^claimfs_fuse_request_duration_seconds_count\{op="write"\} (\d+)$', text,
                      re.M)
    t.ok(buckets and buckets == sorted(buckets) and count and buckets[-1] == int(count.group(1))
         and buckets[-1] > 0, 'histogram buckets are cumulative and end at the count',
         '%r %r' % (buckets, count and count.group(0)))


class TlsDaemon(Daemon):
    """A daemon serving HTTPS on TCP: requests (and the readiness poll) use TLS."""

    ca = None

    def request(self, method, path, body=None, content_type='application/json',
                headers=None, timeout=30):
        if self.port is None:
            raise RuntimeError('daemon not started')
        context = ssl.create_default_context(cafile=self.ca)
        conn = http.client.HTTPSConnection('127.0.0.1', self.port, timeout=timeout,
                                           context=context)
        self.url = 'https://127.0.0.1:%d' % self.port
        return self._do(conn, method, path, body, content_type, headers)


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1; returns (cert, key) paths or None."""
    cert, key = os.path.join(directory, 'tls.crt'), os.path.join(directory, 'tls.key')
    try:
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
                        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
                        '-keyout', key, '-out', cert], capture_output=True, check=True,
                       timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return cert, key


def token_setup(t, workdir, token):
    """workdir/tok with a file holding token and a certificate for a
    TlsDaemon: (directory, the daemon's extra arguments, certificate path),
    or None (recorded as a failure) when openssl cannot make one."""
    tokdir = os.path.join(workdir, 'tok')
    os.makedirs(tokdir, exist_ok=True)
    token_file = os.path.join(tokdir, 'token')
    with open(token_file, 'w', encoding='ascii') as f:
        f.write(token + '\n')
    pair = make_certificate(tokdir)
    if pair is None:
        # scripts/install-deps.sh installs openssl for exactly this.
        t.ok(False, 'bearer tokens over HTTPS', 'openssl cannot make a certificate')
        return None
    return tokdir, ['--token-file', token_file, '--tls-cert-file', pair[0],
                    '--tls-key-file', pair[1]], pair[0]


def run_token(t, workdir):
    setup = token_setup(t, workdir, 's3cret-token')
    if setup is None:
        return
    tokdir, args, cert = setup
    with TlsDaemon(tokdir) as d:
        d.ca = cert
        d.start(extra_args=args)
        status, _, body = d.request('GET', '/api/v1/persistentvolumeclaims')
        obj = json.loads(body) if body else {}
        t.ok(status == 401 and obj.get('reason') == 'Unauthorized' and obj.get('kind') == 'Status',
             'no token: 401 Unauthorized Status', body[:200])
        status, _, _ = d.request('GET', '/readyz')
        t.eq(status, 200, 'the probes need no token')
        status, _, _ = d.request('GET', '/metrics', headers={'Authorization': 'Bearer wrong'})
        t.eq(status, 401, 'a wrong token: 401')
        status, _, _ = d.request('GET', '/metrics', headers={'Authorization': 'Bearer s3cret-token'})
        t.eq(status, 200, 'the right token: 200')
        status, _, _ = d.request_unix('GET', '/api/v1/persistentvolumeclaims')
        t.eq(status, 401, 'the unix socket needs the token too')
        k = Kubectl(tokdir, d.url)
        # (kubectl then asks for a user name on the terminal; stdin is empty)
        k.fails(t, 'kubectl without --token is refused', 'get', 'pvc',
                '--certificate-authority', cert)
        k.ok(t, 'kubectl --token over HTTPS works', 'get', 'pvc', '--certificate-authority',
             cert, '--token', 's3cret-token')
        k.ok(t, 'kubectl --token creates', 'create', '-f', fixture('claim.yaml'),
             '--certificate-authority', cert, '--token', 's3cret-token', expect='created')
        d.stop()
    proc = subprocess.run([os.environ['CLAIMFSD'], '--store', os.path.join(tokdir, 's2.db'),
                           '--mount', os.path.join(tokdir, 'm2'), '--listen', '0.0.0.0:0'],
                          capture_output=True, text=True, timeout=30, check=False)
    t.ok(proc.returncode != 0 and 'without authentication' in proc.stderr
         and not os.path.exists(os.path.join(tokdir, 's2.db')),
         'binding a non-loopback address without a token file is refused at start-up',
         proc.stderr)


def main():
    t = Tap()
    if KUBECTL is None:
        t.skip_all('kubectl is not installed')
    workdir = tempfile.mkdtemp(prefix='claimfs-kubectl-')
    try:
        with Daemon(workdir) as d:
            def checks():
                k = Kubectl(workdir, d.url)
                run_discovery(t, k)
                run_statefulset(t, k, d)
                run_output_and_selectors(t, k)
                run_dry_run_deletes(t, k, d)
                run_write_verbs(t, k, d)
                run_status_and_diff(t, k, d)
                run_snapshots(t, k, d)
                run_expansion(t, k, d)
                run_retain(t, k, d)
                run_access_modes(t, k, d)
                run_watch(t, k, d)
                run_wait_and_delete(t, k, d)
                run_validation(t, k)
                run_metrics(t, d)
            serve_checks(t, d, checks, stop_label='daemon exits 0 on SIGTERM (with watches served)')
        try:
            run_token(t, workdir)
        except Exception:  # pylint: disable=broad-except
            t.ok(False, 'token checks ran', traceback.format_exc())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    t.done()


if __name__ == '__main__':
    main()
