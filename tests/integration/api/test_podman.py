#!/usr/bin/env python3
"""test_podman.py - claims as volumes of real Podman containers (README
"Local containers"): Debian's podman, rootful, with runc and an image
imported from busybox-static (nothing can be pulled here).

Podman runs entirely inside this test's work directory: its own
containers.conf (CONTAINERS_CONF: the claimfs volume plugin on the test
daemon's socket, the raised-limits default_ulimits this sandbox needs,
cgroupfs, no event log), its own --root/--runroot with the vfs driver, and
its own tmp_dir. Checks:
  - podman volume create --driver claimfs -o size=1Gi makes a Bound 1Gi
    claim the HTTP API lists;
  - a container writing visits into the volume is killed (SIGKILL), the
    daemon is killed and restarted under another running container (which
    podman then removes cleanly), and a new container finds every visit;
  - podman volume ls lists the claims; a claim made through the HTTP API
    appears after podman volume reload;
  - two containers share one ReadWriteOnce volume (one node);
  - podman kube play of a PersistentVolumeClaim annotated
    volume.podman.io/driver: claimfs and a Pod using it;
  - podman volume rm deletes the claim and (reclaim policy Delete) its data.
Everything the test starts is stopped by podman rm -f / pod rm -f and the
daemon by pid; the work directory (podman's storage included) is removed.
"""

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import Daemon, force_unmount, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

PVCS = '/api/v1/namespaces/default/persistentvolumeclaims'
IMAGE = 'localhost/claimfs-busybox'
BUSYBOX = '/bin/busybox'
RUNC = '/usr/sbin/runc'
APPLETS = ('sh', 'cat', 'echo', 'sleep', 'ls', 'wc', 'test', 'true')
COMMAND_TIMEOUT = 60

CONTAINERS_CONF = """[containers]
# Raising limits is not permitted in this sandbox: keep podman's defaults
# within what the test may set.
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
tmp_dir = "{tmp}"

[engine.volume_plugins]
claimfs = "{socket}"
"""

KUBE_YAML = """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data-kube-0
  annotations:
    volume.podman.io/driver: claimfs
    volume.podman.io/mount-options: size=5Mi
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 5Mi
---
apiVersion: v1
kind: Pod
metadata:
  name: kubeapp
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: {image}
    command: ["/bin/sh", "-c", "echo played > /data/hello"]
    volumeMounts:
    - name: data
      mountPath: /data
  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: data-kube-0
"""


class Podman:
    """podman confined to WORKDIR (config, storage, runtime state)."""

    def __init__(self, workdir, socket):
        self.workdir = workdir
        for sub in ('root', 'runroot', 'tmp'):
            os.makedirs(os.path.join(workdir, sub), exist_ok=True)
        self.conf = os.path.join(workdir, 'containers.conf')
        with open(self.conf, 'w', encoding='utf-8') as f:
            f.write(CONTAINERS_CONF.format(tmp=os.path.join(workdir, 'tmp'), socket=socket))
        self.env = dict(os.environ, CONTAINERS_CONF=self.conf)
        self.argv = ['podman', '--root', os.path.join(workdir, 'root'),
                     '--runroot', os.path.join(workdir, 'runroot'),
                     '--storage-driver', 'vfs', '--runtime', RUNC]

    def run(self, *args, timeout=COMMAND_TIMEOUT):
        """(exit code, stdout, stderr) of one podman command."""
        try:
            proc = subprocess.run(self.argv + list(args), env=self.env, capture_output=True,
                                  text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as e:
            return -1, '', 'timed out: %s' % e
        return proc.returncode, proc.stdout, proc.stderr

    def clean(self):
        """Stop and remove every container and pod this podman made."""
        self.run('pod', 'rm', '-f', '-t', '0', '--all')
        self.run('rm', '-f', '-t', '0', '--all')


def make_image(t, workdir, podman):
    """A busybox-static rootfs as a tar, imported as IMAGE."""
    rootfs = os.path.join(workdir, 'rootfs')
    os.makedirs(os.path.join(rootfs, 'bin'))
    os.makedirs(os.path.join(rootfs, 'app', 'data'))
    shutil.copy2(BUSYBOX, os.path.join(rootfs, 'bin', 'busybox'))
    for applet in APPLETS:
        os.symlink('busybox', os.path.join(rootfs, 'bin', applet))
    tar_path = os.path.join(workdir, 'busybox.tar')
    with tarfile.open(tar_path, 'w') as tar:
        tar.add(rootfs, arcname='.')
    code, _, err = podman.run('import', '--change', 'ENV PATH=/bin', tar_path, IMAGE)
    return t.ok(code == 0, 'podman import of a busybox-static rootfs', err)


def claim(d, name):
    status, _, body = d.request('GET', '%s/%s' % (PVCS, name))
    return json.loads(body) if status == 200 else None


def visits(d, name):
    try:
        with open(os.path.join(d.claim_path('default', name), 'visits'), encoding='ascii') as f:
            return f.read().splitlines()
    except OSError:
        return []


def run_create_and_persist(t, d, podman):
    """Create, write visits, kill the container and the daemon, read them back."""
    vol = 'data-app-python-0'
    code, out, err = podman.run('volume', 'create', '--driver', 'claimfs', '-o', 'size=1Gi', vol)
    t.ok(code == 0 and out.strip() == vol, 'podman volume create --driver claimfs -o size=1Gi',
         out + err)
    obj = claim(d, vol) or {}
    t.ok(obj.get('status', {}).get('phase') == 'Bound'
         and obj['status'].get('capacity', {}).get('storage') == '1Gi',
         'the volume is a Bound 1Gi claim in the HTTP API', json.dumps(obj.get('status')))
    code, _, err = podman.run(
        'run', '-d', '--name', 'app-0', '--network', 'none', '-v', '%s:/app/data' % vol, IMAGE,
        'sh', '-c', 'i=0; while true; do i=$((i+1)); echo visit-$i >> /app/data/visits; '
        'sleep 0.05; done')
    t.ok(code == 0, 'podman run -v %s:/app/data writing visits' % vol, err)
    t.ok(wait_for(lambda: len(visits(d, vol)) >= 10, timeout=20),
         'the container\'s visits arrive in the claim directory')
    code, _, err = podman.run('kill', 'app-0')
    t.ok(code == 0, 'podman kill the container', err)
    podman.run('rm', '-f', '-t', '0', 'app-0')
    code, _, err = podman.run('run', '-d', '--name', 'bystander', '--network', 'none',
                              '-v', '%s:/app/data' % vol, IMAGE, 'sleep', '600')
    t.ok(code == 0, 'a second container holds the volume while the daemon dies', err)
    before = visits(d, vol)
    d.kill()
    d.start()
    after = visits(d, vol)
    code, _, err = podman.run('rm', '-f', '-t', '0', 'bystander')
    t.ok(code == 0 and 'Error' not in err,
         'podman rm of that container after the daemon restarted (its Unmount succeeds)', err)
    t.ok(len(before) >= 10 and after == before,
         'after SIGKILL of the container and the daemon every visit is there (%d)' % len(before),
         '%d before, %d after' % (len(before), len(after)))
    code, out, err = podman.run('run', '--rm', '--network', 'none', '-v', '%s:/app/data' % vol,
                                IMAGE, 'sh', '-c', 'echo again >> /app/data/visits; '
                                'wc -l < /app/data/visits')
    t.ok(code == 0 and out.strip() == str(len(before) + 1),
         'a new container sees them all and adds one', out + err)


def run_listing(t, d, podman):
    """podman volume ls shows claims; API claims appear after volume reload."""
    code, out, err = podman.run('volume', 'ls', '--format', '{{.Driver}} {{.Name}}')
    t.ok(code == 0 and 'claimfs data-app-python-0' in out.splitlines(),
         'podman volume ls shows the claimfs volume', out + err)
    d.create_claim('default', 'made-by-kubectl', storage='2Mi')
    code, out, err = podman.run('volume', 'reload')
    t.ok(code == 0 and 'made-by-kubectl' in out, 'podman volume reload adds the API\'s claim',
         out + err)
    code, out, err = podman.run('volume', 'ls', '--format', '{{.Driver}} {{.Name}}')
    t.ok('claimfs made-by-kubectl' in out.splitlines(),
         'podman volume ls then lists it', out + err)
    status, _, body = d.request('GET', PVCS)
    names = sorted(i['metadata']['name'] for i in json.loads(body)['items']) \
        if status == 200 else body
    t.eq(names, ['data-app-python-0', 'made-by-kubectl'],
         'the HTTP API lists both volumes as claims')


def run_two_containers(t, d, podman):
    """Two containers on one ReadWriteOnce volume: both run, both see the data."""
    vol = 'data-app-python-0'
    for name in ('rwo-1', 'rwo-2'):
        code, _, err = podman.run('run', '-d', '--name', name, '--network', 'none',
                                  '-v', '%s:/app/data' % vol, IMAGE, 'sleep', '600')
        t.ok(code == 0, 'container %s starts on the ReadWriteOnce volume' % name, err)
    code, _, err = podman.run('exec', 'rwo-1', 'sh', '-c', 'echo from-1 > /app/data/shared')
    t.ok(code == 0, 'rwo-1 writes a file', err)
    code, out, err = podman.run('exec', 'rwo-2', 'cat', '/app/data/shared')
    t.ok(code == 0 and out == 'from-1\n', 'rwo-2 reads it', out + err)
    code, out, _ = podman.run('ps', '--format', '{{.Names}}')
    t.ok({'rwo-1', 'rwo-2'} <= set(out.split()), 'both are running', out)
    podman.run('rm', '-f', '-t', '0', 'rwo-1', 'rwo-2')


def run_kube_play(t, d, podman):
    """podman kube play of a PVC with the claimfs driver annotation and a Pod."""
    path = os.path.join(podman.workdir, 'app.yaml')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(KUBE_YAML.format(image=IMAGE))
    code, out, err = podman.run('kube', 'play', '--network', 'none', path)
    t.ok(code == 0, 'podman kube play of a PVC (volume.podman.io/driver: claimfs) and a Pod',
         out + err)
    obj = claim(d, 'data-kube-0') or {}
    t.eq(obj.get('status', {}).get('capacity', {}).get('storage'), '5Mi',
         'the PVC became a 5Mi claim')
    hello = os.path.join(d.claim_path('default', 'data-kube-0'), 'hello')
    t.ok(wait_for(lambda: os.path.exists(hello), timeout=20), 'the pod wrote into its claim')
    code, _, err = podman.run('kube', 'down', path)
    t.ok(code == 0, 'podman kube down', err)


def run_remove(t, d, podman):
    """podman volume rm deletes the claim and its data (reclaim policy Delete)."""
    vol = 'data-app-python-0'
    path = d.claim_path('default', vol)
    code, _, err = podman.run('volume', 'rm', vol)
    t.ok(code == 0, 'podman volume rm %s' % vol, err)
    t.ok(claim(d, vol) is None and not os.path.exists(path),
         'the claim and its directory are gone')
    code, out, _ = podman.run('volume', 'ls', '--format', '{{.Name}}')
    t.ok(vol not in out.split(), 'podman volume ls no longer lists it', out)


def missing_tools():
    """What the test needs and scripts/install-deps.sh installs, if absent."""
    need = [p for p in (BUSYBOX, RUNC) if not os.access(p, os.X_OK)]
    if shutil.which('podman') is None:
        need.append('podman')
    if shutil.which('catatonit') is None:
        need.append('catatonit')
    return need


def unmount_below(path):
    """Detach whatever podman left mounted under PATH (shm of a lost container)."""
    with open('/proc/self/mounts', encoding='utf-8') as f:
        points = [line.split()[1] for line in f if line.split()[1].startswith(path + '/')]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(['umount', '-l', point], check=False, capture_output=True)


def main():
    t = Tap()
    need = missing_tools()
    if need:
        t.ok(False, 'podman, runc, catatonit and busybox-static are installed',
             'missing %s: run scripts/install-deps.sh' % ', '.join(need))
        t.done()
    workdir = tempfile.mkdtemp(prefix='claimfs-podman-')
    podman = None
    started = time.monotonic()
    try:
        with Daemon(os.path.join(workdir, 'daemon')) as d:
            d.start()
            podman = Podman(os.path.join(workdir, 'podman'), d.plugin_socket)
            try:
                if make_image(t, workdir, podman):
                    run_create_and_persist(t, d, podman)
                    run_listing(t, d, podman)
                    run_two_containers(t, d, podman)
                    run_kube_play(t, d, podman)
                    run_remove(t, d, podman)
            finally:
                podman.clean()
            t.eq(d.stop(), 0, 'daemon exits 0 on SIGTERM')
            reports = d.sanitizer_reports()
            t.ok(not reports, 'no sanitizer reports in the daemon log', '\n'.join(reports[:20]))
    finally:
        unmount_below(workdir)
        force_unmount(os.path.join(workdir, 'daemon', 'mnt'))
        shutil.rmtree(workdir, ignore_errors=True)
    t.diag('podman checks took %.1f s' % (time.monotonic() - started))
    t.done()


if __name__ == '__main__':
    main()
