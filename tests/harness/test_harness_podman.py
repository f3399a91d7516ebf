#!/usr/bin/env python3
"""test_harness_podman.py - claimfs-harness --runtime podman (TAP): replicas
are real Podman containers (Debian's podman, rootful, runc) of the
busybox-static image the harness imports, each with its claim mounted as a
volume of the claimfsd the harness starts (its volume plugin), killed with
`podman kill`.

Podman runs confined to this test's directory through its two usual
variables: CONTAINERS_CONF (runc, cgroupfs, no event log, the limits this
sandbox allows, a private tmp_dir; the harness adds its plugin to a copy)
and CONTAINERS_STORAGE_CONF (vfs storage below the test directory).

Runs:
  1. --supervise: two replicas, two `podman kill`s and two kills of the
     daemon's worker under load, the template changed (OnDelete): every
     acknowledged visit on disk, "errors seen by replicas: 0", a pod killed
     after the change runs the new revision, every pod resolves every
     <pod>.app-python to that pod's address.
  2. the user's own image and command (--image/--command: a busybox image
     this test imports, with its own visit CGI), a plain daemon SIGKILLed
     once: the container is recreated on its volume, nothing acknowledged
     is lost.
After each: no container, volume or image of the run left in podman's
storage, no mount and no process left. Skips (with the reason) only where
podman itself is not installed; scripts/install-deps.sh installs it.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB', os.path.join(os.path.dirname(__file__), '..', 'integration', 'lib')))
from tap import Tap  # noqa: E402  pylint: disable=wrong-import-position

HARNESS = os.environ.get('CLAIMFS_HARNESS', '')
RUN_TIMEOUT = 180

CONTAINERS_CONF = """[containers]
# Raising limits is not permitted in this sandbox: keep podman's defaults
# within what the test may set.
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "none"
tmp_dir = "{tmp}"
"""

# The user's app of run 2: its own visit (write a temporary file, sync it,
# rename it over the count, sync the directory), one request at a time.
USER_IMAGE = 'localhost/claimfs-harness-test-app'
USER_CGI = """#!/bin/sh
f="$DATA_DIR/$VISITS_FILE"
n=0
[ -s "$f" ] && read -r n w < "$f"
n=$((n + 1))
if echo "$n $POD_NAME" > "$f.tmp" && sync "$f.tmp" && mv "$f.tmp" "$f" && sync "$DATA_DIR"; then
    printf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' "$n"
else
    printf 'Status: 500 Internal Server Error\\r\\n\\r\\nnot recorded\\n'
fi
"""
USER_COMMAND = 'exec httpd -f -p "$POD_IP:$PORT" -h /srv'

STORAGE_CONF = """[storage]
driver = "vfs"
graphroot = "{root}"
runroot = "{runroot}"
"""


class Env:
    """The test's directory: podman's configuration and storage, TMPDIR."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix='claimfs-harness-podman-')
        os.chmod(self.root, 0o755)
        for sub in ('tmp', 'podman-tmp', 'storage', 'run', 'out'):
            os.mkdir(os.path.join(self.root, sub))
        os.chmod(os.path.join(self.root, 'tmp'), 0o1777)
        conf = os.path.join(self.root, 'containers.conf')
        with open(conf, 'w', encoding='utf-8') as f:
            f.write(CONTAINERS_CONF.format(tmp=os.path.join(self.root, 'podman-tmp')))
        storage = os.path.join(self.root, 'storage.conf')
        with open(storage, 'w', encoding='utf-8') as f:
            f.write(STORAGE_CONF.format(root=os.path.join(self.root, 'storage'),
                                        runroot=os.path.join(self.root, 'run')))
        self.env = dict(os.environ, CONTAINERS_CONF=conf, CONTAINERS_STORAGE_CONF=storage,
                        TMPDIR=os.path.join(self.root, 'tmp'))
        self.runs = 0

    def harness(self, args):
        """(rc, stdout, stderr, report, logs dir) of one harness run."""
        self.runs += 1
        out = os.path.join(self.root, 'out', str(self.runs))
        cmd = [HARNESS, '--runtime', 'podman', *args, '--json', out + '.json', '--logs', out]
        try:
            p = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                               check=False)
            rc, stdout, stderr = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, stdout, stderr = 'timeout', str(e.stdout), str(e.stderr)
        report = None
        if os.path.exists(out + '.json'):
            with open(out + '.json', encoding='utf-8') as f:
                report = json.load(f)
        return rc, stdout, stderr, report or {}, out

    def import_user_image(self):
        """USER_IMAGE: busybox-static with USER_CGI as GET / of httpd in /srv."""
        rootfs = os.path.join(self.root, 'user-rootfs')
        for sub in ('bin', 'srv/cgi-bin', 'tmp', 'app/data'):
            os.makedirs(os.path.join(rootfs, sub))
        shutil.copy2('/bin/busybox', os.path.join(rootfs, 'bin', 'busybox'))
        for applet in ('sh', 'httpd', 'sync', 'mv', 'printf'):
            os.symlink('busybox', os.path.join(rootfs, 'bin', applet))
        with open(os.path.join(rootfs, 'srv', 'healthz'), 'w', encoding='ascii') as f:
            f.write('ok\n')
        cgi = os.path.join(rootfs, 'srv', 'cgi-bin', 'index.cgi')
        with open(cgi, 'w', encoding='ascii') as f:
            f.write(USER_CGI)
        os.chmod(cgi, 0o755)
        tar_path = os.path.join(self.root, 'user-image.tar')
        with tarfile.open(tar_path, 'w') as tar:
            tar.add(rootfs, arcname='.')
        p = subprocess.run(['podman', 'import', '--change', 'ENV PATH=/bin', tar_path, USER_IMAGE],
                           env=self.env, capture_output=True, text=True, timeout=120, check=False)
        return p.returncode == 0, p.stderr

    def podman(self, *args):
        p = subprocess.run(['podman', *args], env=self.env, capture_output=True, text=True, timeout=60,
                           check=False)
        return p.stdout

    def check_clean(self, t, what):
        """Nothing of the run left in podman's storage, mounted or running."""
        left = [x for x in (self.podman('ps', '-a', '--format', '{{.Names}}').split() +
                            self.podman('volume', 'ls', '--format', '{{.Name}}').split() +
                            [i for i in self.podman('images', '--format', '{{.Repository}}').split()
                             if 'claimfs-harness' in i and i != USER_IMAGE])]
        t.eq(left, [], '%s: no container, volume or image of the run left' % what)
        tmp = os.path.join(self.root, 'tmp')
        with open('/proc/self/mounts', encoding='utf-8') as f:
            mounts = [line.split()[1] for line in f if line.split()[1].startswith(tmp)]
        t.ok(not os.listdir(tmp) and not mounts, '%s: the work directory is gone, nothing mounted' % what,
             '%s %s' % (os.listdir(tmp), mounts))

    def close(self):
        self.podman('rm', '--all', '--force', '--time', '0')
        self.podman('volume', 'rm', '--all', '--force')
        with open('/proc/self/mounts', encoding='utf-8') as f:
            mounts = [line.split()[1] for line in f if line.split()[1].startswith(self.root)]
        for point in sorted(mounts, key=len, reverse=True):
            subprocess.run(['umount', '-l', point], check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def app_logs(logs):
    out = {}
    for name in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
        if name.startswith('app-python-'):
            with open(os.path.join(logs, name), encoding='utf-8', errors='replace') as f:
                out[name[:-4]] = f.read()
    return out


def check_pass(t, rc, out, err, report, what):
    t.eq(rc, 0, '%s: exit status 0' % what) or t.diag('stdout:\n%s\nstderr:\n%s' % (out, err[-3000:]))
    reps = report.get('replicas', [])
    t.ok(report.get('result') == 'pass' and reps and all(r['ok'] for r in reps) and
         all(r['acked'] <= r['on_disk'] <= r['acked'] + r['in_flight_at_kill'] + r['failed'] for r in reps),
         '%s: acknowledged <= on disk <= acknowledged + in flight, for every replica' % what, out)


def run_supervised(t, env):
    rc, out, err, report, logs = env.harness(
        ['--supervise', '--replicas', '2', '--requests', '40', '--concurrency', '2', '--kill-replicas', '2',
         '--kill-daemon', '2', '--rolling-update', '--update-strategy', 'OnDelete', '--pod-management',
         'Parallel', '--seed', '4'])
    what = 'podman --supervise'
    check_pass(t, rc, out, err, report, what)
    t.ok(re.search(r'^errors seen by replicas: 0 ', out, re.M), '%s: errors seen by replicas: 0' % what, out)
    events = [(e['kind'], e['text']) for e in report.get('timeline', [])]
    kills = [(i, x) for i, (k, x) in enumerate(events) if k == 'kill-replica']
    t.ok(len(kills) == 2 and all(x.startswith('podman kill app-python-') for _, x in kills),
         '%s: two replicas killed with podman kill' % what, kills)
    t.eq(len([x for k, x in events if k == 'kill-daemon' and "claimfsd's worker" in x]), 2,
         '%s: two kills of the worker' % what)
    t.ok('their claims volumes at /app/data (volume plugin)' in events[0][1] if events else False,
         '%s: claims are volumes of the plugin' % what, events[:1])
    change = [i for i, (_, x) in enumerate(events) if 'template revision 2 (OnDelete)' in x]
    revisions = [(re.search(r'at revision (\d+)', x).group(1), i > change[0]) for i, x in kills] if change else []
    t.ok(change and all(rev == ('2' if after else '1') for rev, after in revisions),
         '%s: OnDelete: a pod killed after the change runs revision 2, before it 1' % what, events)
    ips = {r['pod']: r['ip'] for r in report.get('replicas', [])}
    for pod, text in app_logs(logs).items():
        seen = dict(re.findall(r'^%s: (\S+)\.app-python is (\S+)$' % pod, text, re.M))
        t.eq(seen, ips, '%s: in %s every <pod>.app-python resolves to that pod' % (what, pod))
    env.check_clean(t, what)


def run_daemon_kill(t, env):
    imported, why = env.import_user_image()
    if not t.ok(imported, 'podman import of the user\'s image', why):
        return
    rc, out, err, report, _ = env.harness(['--image', USER_IMAGE, '--command', USER_COMMAND,
                                           '--replicas', '1', '--requests', '20', '--concurrency', '1',
                                           '--kill-daemon', '1', '--seed', '6'])
    what = 'podman --image/--command, daemon SIGKILLed'
    check_pass(t, rc, out, err, report, what)
    reps = report.get('replicas') or [{}]
    t.ok(reps[0].get('acked', 0) > 0 and
         reps[0]['acked'] + reps[0]['in_flight_at_kill'] + reps[0]['failed'] == 20,
         '%s: the user\'s app answered the visits' % what, reps)
    t.ok(len([e for e in report.get('timeline', []) if e['kind'] == 'restart-daemon']) == 1 and
         all(r['restarts'] >= 1 for r in report.get('replicas', [])),
         '%s: the container was recreated on its volume' % what, report.get('timeline'))
    env.check_clean(t, what)


def main():
    t = Tap()
    if not HARNESS or not os.access(HARNESS, os.X_OK):
        t.skip_all('CLAIMFS_HARNESS not set to the harness binary')
    if shutil.which('podman') is None:
        t.skip_all('podman is not installed (scripts/install-deps.sh installs it)')
    need = [p for p in ('/usr/sbin/runc', '/bin/busybox') if not os.access(p, os.X_OK)]
    need += [p for p in ('catatonit', 'tar') if shutil.which(p) is None and
             not os.access('/usr/libexec/podman/' + p, os.X_OK)]
    if need:
        t.ok(False, 'runc, busybox-static, catatonit and tar are installed',
             'missing %s: run scripts/install-deps.sh' % ', '.join(need))
        t.done()
    env = Env()
    try:
        run_supervised(t, env)
        run_daemon_kill(t, env)
    finally:
        env.close()
    t.done()


if __name__ == '__main__':
    main()
