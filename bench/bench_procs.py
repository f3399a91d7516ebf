"""bench_procs.py - processes and mounts of the claimfs bench (stdlib only).

Owns: passthrough_ll and claimfsd processes started for the bench, and their
FUSE mounts. Invariant: stop() of either class leaves its process reaped and
its mount point unmounted (lazily if the server hangs), whatever state it was
in; force_unmount() never blocks on a dead FUSE server.
"""

import ctypes
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time

# The mount helpers are the integration tests' (one copy of the unmount logic).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'tests',
                                'integration', 'lib'))
from daemon import force_unmount, is_mounted  # noqa: E402,F401  (force_unmount: run.py)

CLAIM_STORAGE = '8Gi'


class BenchError(Exception):
    """A workload could not run or its checks failed."""


def log(msg):
    """Progress on stderr (stdout carries the tables)."""
    print(msg, file=sys.stderr, flush=True)


# --- mounts and processes ------------------------------------------------

def stop_process(proc, timeout=30):
    """SIGTERM, wait, then SIGKILL; returns the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log('process %d ignored SIGTERM for %d s; killing it' % (proc.pid, timeout))
            proc.kill()
            proc.wait()
    return proc.returncode


def filesystem_of(path):
    """(fstype, source) of the mount holding PATH."""
    real = os.path.realpath(path)
    best = ('?', '?', '')
    with open('/proc/self/mounts', encoding='utf-8') as f:
        for line in f:
            fields = line.split()
            if len(fields) < 3:
                continue
            mnt = fields[1].replace('\\040', ' ')
            if (real == mnt or real.startswith(mnt.rstrip('/') + '/')) and len(mnt) >= len(best[2]):
                best = (fields[2], fields[0], mnt)
    return best[0], best[1]


def drop_caches():
    """Write back and drop the page, dentry and inode caches; False if not allowed."""
    os.sync()
    try:
        with open('/proc/sys/vm/drop_caches', 'w', encoding='ascii') as f:
            f.write('3\n')
        return True
    except OSError:
        return False


class Passthrough:
    """passthrough_ll -f -o source=SRC[,OPTIONS] MNT (default options unless
    given), run by root or, with USER=(uid, gid), by that user (passthrough_ll
    creates files with its own ids, so a workload that must own its files,
    PostgreSQL, needs one run by its user). /dev/fuse may be root's alone
    (mode 0600), so for another user root mounts and hands the open device
    to passthrough_ll as /dev/fd/N, which libfuse takes as mounted already;
    OPTIONS then are kernel mount options."""

    def __init__(self, binary, src, mnt, log_path, options='', user=None):
        self.binary, self.src, self.mnt, self.log_path = binary, src, mnt, log_path
        self.options = options
        self.user = user
        self.proc = None

    def start(self):
        os.makedirs(self.src, exist_ok=True)
        os.makedirs(self.mnt, exist_ok=True)
        if self.user:
            self.start_as_user()
            return
        opts = 'source=' + self.src + (',' + self.options if self.options else '')
        with open(self.log_path, 'ab') as logf:
            self.proc = subprocess.Popen([self.binary, '-f', '-o', opts, self.mnt],
                                         stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError('passthrough_ll exited with %d; see %s'
                                 % (self.proc.returncode, self.log_path))
            if is_mounted(self.mnt):
                return
            time.sleep(0.02)
        raise BenchError('passthrough_ll did not mount %s within 10 s' % self.mnt)

    def start_as_user(self):
        uid, gid = self.user
        fd = os.open('/dev/fuse', os.O_RDWR | os.O_CLOEXEC)
        try:
            opts = 'fd=%d,rootmode=40000,user_id=%d,group_id=%d%s' % (
                fd, uid, gid, ',' + self.options if self.options else '')
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.mount(b'passthrough_ll', self.mnt.encode(), b'fuse.passthrough_ll',
                          ctypes.c_ulong(0), opts.encode()) != 0:
                err = ctypes.get_errno()
                raise BenchError('mount of %s for uid %d: %s' % (self.mnt, uid, os.strerror(err)))
            with open(self.log_path, 'ab') as logf:
                self.proc = subprocess.Popen(
                    [self.binary, '-f', '-o', 'source=' + self.src, '/dev/fd/%d' % fd],
                    stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, pass_fds=(fd,),
                    user=uid, group=gid, extra_groups=[], cwd='/')
        finally:
            os.close(fd)  # passthrough_ll holds its own copy now
        time.sleep(0.1)
        if self.proc.poll() is not None:
            force_unmount(self.mnt)
            raise BenchError('passthrough_ll exited with %d; see %s'
                             % (self.proc.returncode, self.log_path))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc)
        force_unmount(self.mnt)


class Claimfsd:
    """One claimfsd on STORE mounted at MOUNT; HTTP on 127.0.0.1, port from a port file."""

    def __init__(self, binary, store, mount, workdir, tag):
        self.binary, self.store, self.mount = binary, store, mount
        self.port_file = os.path.join(workdir, tag + '.port')
        self.log_path = os.path.join(workdir, tag + '.log')
        self.proc = None
        self.port = None

    def start(self, timeout=120):
        os.makedirs(self.mount, exist_ok=True)
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.port = None  # a restart listens on a new port
        with open(self.log_path, 'ab') as logf:
            self.proc = subprocess.Popen(
                # The bench's claims are sized for its largest workload
                # (CLAIM_STORAGE each, several at once), not for the disk:
                # thin-provisioned, as local-path and hostpath volumes are,
                # so the capacity policy never keeps one Pending here.
                [self.binary, '--store', self.store, '--mount', self.mount,
                 '--listen', '127.0.0.1:0', '--port-file', self.port_file, '--log-level', 'warn',
                 '--overcommit', '1000'],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError('claimfsd exited with %d before it was ready:\n%s'
                                 % (self.proc.returncode, self.log_tail()))
            if self.port is None:
                try:
                    with open(self.port_file, encoding='ascii') as f:
                        text = f.read().strip()
                    self.port = int(text) if text else None
                except (OSError, ValueError):
                    pass
            if self.port is not None:
                try:
                    if self.request('GET', '/readyz')[0] == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.02)
        raise BenchError('claimfsd not ready within %d s:\n%s' % (timeout, self.log_tail()))

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, 'rb') as f:
                return '\n'.join(f.read().decode('utf-8', 'replace').splitlines()[-lines:])
        except OSError:
            return '(no log)'

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self):
        if not self.alive():
            raise BenchError('claimfsd is not running (exit status %s):\n%s'
                             % (self.proc.returncode if self.proc else None, self.log_tail()))

    def request(self, method, path, body=None):
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=60)
        try:
            headers = {'Content-Type': 'application/json'} if body is not None else {}
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def create_claim(self, name, storage=CLAIM_STORAGE, namespace='default'):
        """Provision a claim and return its directory on the mount."""
        self.check_alive()
        status, data = self.request(
            'POST', '/api/v1/namespaces/%s/persistentvolumeclaims' % namespace,
            {'apiVersion': 'v1', 'kind': 'PersistentVolumeClaim', 'metadata': {'name': name},
             'spec': {'accessModes': ['ReadWriteOnce'],
                      'resources': {'requests': {'storage': storage}}}})
        if status != 201:
            raise BenchError('creating claim %s: HTTP %d %s' % (name, status, data[:300]))
        path = os.path.join(self.mount, namespace, name)
        if not os.path.isdir(path):
            raise BenchError('claim %s answered 201 but %s is missing' % (name, path))
        return path

    def settle(self, timeout=120):
        """Wait until the checkpointer no longer holds back or copies a
        stream's WAL (claimfs_store_checkpoint_pending 0), so that work
        deferred past a measurement does not run inside the next one.
        Returns the seconds waited."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            status, body = self.request('GET', '/metrics')
            if status == 200 and re.search(rb'^claimfs_store_checkpoint_pending 0$', body, re.M):
                return time.monotonic() - start
            time.sleep(0.02)
        raise BenchError('claimfsd still had a checkpoint pending after %d s' % timeout)

    def memory_kib(self):
        """(VmHWM, VmRSS) in KiB from /proc/PID/status."""
        values = {}
        with open('/proc/%d/status' % self.proc.pid, encoding='ascii') as f:
            for line in f:
                key, _, rest = line.partition(':')
                if key in ('VmHWM', 'VmRSS'):
                    values[key] = int(rest.split()[0])
        return values.get('VmHWM', 0), values.get('VmRSS', 0)

    def stop(self):
        """SIGTERM (clean unmount expected); returns the exit status."""
        status = None
        if self.proc is not None:
            status = stop_process(self.proc)
        force_unmount(self.mount)
        return status

