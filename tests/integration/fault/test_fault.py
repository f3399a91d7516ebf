#!/usr/bin/env python3
"""test_fault.py - injected I/O faults and a really full disk (issue 6).

Runs claimfsd with the test-only fault VFS (CLAIMFS_FAULT_FILE) and sweeps a
fault over every I/O call a small workload makes: for each kind of call
(write, sync, read, open) and each N, the Nth call fails once with EIO or
ENOSPC while the workload runs (file writes with fsync, a mkdir/rename, a
claim created and deleted through the API).  After every fault:
  - the daemon is still up and answers /readyz;
  - every syscall either worked or failed with EIO/ENOSPC (nothing else), and
    every API answer is 2xx or a 5xx Status;
  - a file fsynced before the fault is intact (nothing committed is lost);
  - once the fault is cleared, writing, fsync and the API work again;
  - a file whose fsync returned 0 during the faulty run is intact.
The sweep for a kind stops when the workload no longer reaches the Nth call.
Then a persistent ENOSPC, and finally the store on a 32 MiB tmpfs filled for
real: writers get ENOSPC, the daemon survives, space comes back after unlink.
Every phase ends with claimfsd --check on the stopped store.
"""

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB', os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import Daemon, force_unmount, is_mounted  # noqa: E402
from tap import Tap  # noqa: E402

ALLOWED = (errno.EIO, errno.ENOSPC)
KINDS = (('write', 'EIO'), ('sync', 'EIO'), ('write', 'ENOSPC'), ('read', 'EIO'), ('open', 'EIO'))
MAX_N = int(os.environ.get('CLAIMFS_FAULT_MAX_N', '60'))


def write_file(path, data, sync=True):
    """Write DATA to PATH; returns None on success or the errno of the first failure."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    except OSError as e:
        return e.errno
    err = None
    try:
        os.write(fd, data)
        if sync:
            os.fsync(fd)
    except OSError as e:
        err = e.errno
    try:
        os.close(fd)
    except OSError as e:
        err = err or e.errno
    return err


def read_file(path):
    with open(path, 'rb') as f:
        return f.read()


def injected(d):
    """How many faults the daemon log says it injected."""
    return d.log_count(b'fault injection: failing')


def set_fault(path, spec):
    with open(path + '.tmp', 'w') as f:
        f.write(spec + '\n')
    os.rename(path + '.tmp', path)
    time.sleep(0.02)


class Workload:
    """One pass of the workload; records what it saw."""

    def __init__(self, t, d, claim_dir, tag):
        self.t, self.d, self.dir, self.tag = t, d, claim_dir, tag
        self.bad = []          # (what, errno or status) that broke the rules
        self.acked = {}        # path -> bytes whose fsync returned 0

    def syscall(self, what, fn):
        try:
            return fn()
        except OSError as e:
            if e.errno not in ALLOWED:
                self.bad.append((what, errno.errorcode.get(e.errno, e.errno)))
            return None

    def run(self):
        data = hashlib.sha256(self.tag.encode()).digest() * 4096  # 128 KiB
        path = os.path.join(self.dir, 'w-%s' % self.tag)
        err = write_file(path, data)
        if err is None:
            self.acked[path] = data
        elif err not in ALLOWED:
            self.bad.append(('write+fsync', errno.errorcode.get(err, err)))
        sub = os.path.join(self.dir, 'd-%s' % self.tag)
        self.syscall('mkdir', lambda: os.mkdir(sub))
        self.syscall('rename', lambda: os.rename(sub, sub + '.moved'))
        self.syscall('listdir', lambda: os.listdir(self.dir))
        self.syscall('read', lambda: read_file(os.path.join(self.dir, 'committed')))
        name = 'f-%s' % self.tag.lower().replace('_', '-')
        for method, path_, body in (
                ('POST', '/api/v1/namespaces/fault/persistentvolumeclaims',
                 json.dumps(Daemon.claim_body(name)) if hasattr(Daemon, 'claim_body') else None),
                ('GET', '/api/v1/namespaces/fault/persistentvolumeclaims', None),
                ('DELETE', '/api/v1/namespaces/fault/persistentvolumeclaims/' + name, None)):
            try:
                status, _, raw = self.d.request(method, path_, body=body)
            except OSError as e:
                self.bad.append(('%s %s' % (method, path_), str(e)))
                continue
            if 200 <= status < 300 or status == 404:
                continue
            if status >= 500:
                try:
                    obj = json.loads(raw)
                    if obj.get('kind') != 'Status' or obj.get('code') != status:
                        self.bad.append(('%s status body' % method, raw[:80]))
                except ValueError:
                    self.bad.append(('%s status body' % method, raw[:80]))
                continue
            if status == 409 and method == 'POST':
                continue  # left over from an earlier faulty pass
            self.bad.append(('%s %s' % (method, path_), status))


def healthy(t, d, claim_dir, committed, desc):
    """The daemon survived, old data is intact, and new work succeeds."""
    ok = d.proc.poll() is None
    try:
        status, _, _ = d.request('GET', '/readyz')
    except OSError:
        status = None
    ok = ok and status == 200
    try:
        ok = ok and read_file(os.path.join(claim_dir, 'committed')) == committed
    except OSError:
        ok = False
    probe = os.path.join(claim_dir, 'probe')
    ok = ok and write_file(probe, b'after the fault') is None
    try:
        ok = ok and read_file(probe) == b'after the fault'
    except OSError:
        ok = False
    return t.ok(ok, desc, 'daemon alive=%s readyz=%s; log:\n%s' % (d.proc.poll() is None, status, d.log_tail(15)))


def lost_create(t, d, claim_dir, fault):
    """A file created in a batch whose commit then fails (the batch timer's,
    between the create and the first write): what comes through the still
    open descriptor is EIO/ENOSPC, never ENOENT (durability point 6)."""
    before = injected(d)
    set_fault(fault, 'write:1:ENOSPC:0')
    fd = os.open(os.path.join(claim_dir, 'lost-create'), os.O_CREAT | os.O_WRONLY, 0o644)
    time.sleep(0.5)  # the timer commits the batch within 100 ms: it fails
    set_fault(fault, '')
    errs = []
    for what, fn in (('write', lambda: os.write(fd, b'x' * 4096)), ('fsync', lambda: os.fsync(fd)),
                     ('close', lambda: os.close(fd))):
        try:
            fn()
        except OSError as e:
            errs.append((what, errno.errorcode.get(e.errno, e.errno)))
    t.ok(injected(d) > before, 'lost create: the batch commit failed', d.log_tail(10))
    t.ok(errs and all(e in ('EIO', 'ENOSPC') for _, e in errs),
         'lost create: the open file answers EIO/ENOSPC, never ENOENT (%r)' % errs, d.log_tail(10))


def check_store(t, d, desc):
    res = subprocess.run([d.binary, '--check', '--store', d.store], capture_output=True, text=True)
    t.ok(res.returncode == 0, desc, res.stdout + res.stderr)


def sweep(t, work):
    fault = os.path.join(work, 'fault')
    os.environ['CLAIMFS_FAULT_FILE'] = fault
    d = Daemon(os.path.join(work, 'sweep'))
    try:
        d.start()
        d.create_claim('default', 'faulty', storage='64Mi')
        claim_dir = d.claim_path('default', 'faulty')
        committed = os.urandom(200000)
        t.ok(write_file(os.path.join(claim_dir, 'committed'), committed) is None, 'committed file fsynced before any fault')
        total = 0
        for op, err in KINDS:
            hits = 0
            for n in range(1, MAX_N + 1):
                before = injected(d)
                set_fault(fault, '%s:%d:%s:1' % (op, n, err))
                w = Workload(t, d, claim_dir, '%s_%s_%d' % (op, err, n))
                w.run()
                set_fault(fault, '')
                fired = injected(d) - before
                if not fired:
                    break  # the workload no longer reaches call N
                hits += fired
                if w.bad:
                    t.ok(False, '%s #%d %s: only EIO/ENOSPC and 5xx Status' % (op, n, err), repr(w.bad))
                if not healthy(t, d, claim_dir, committed, '%s #%d %s: daemon up, committed data intact, works again' % (op, n, err)):
                    return
                lost = [p for p, data in w.acked.items() if not os.path.exists(p) or read_file(p) != data]
                if lost:
                    t.ok(False, '%s #%d %s: fsynced files intact' % (op, n, err), repr(lost))
            t.ok(hits > 0 or op in ('read', 'open'), 'faults injected at %d %s point(s) of the workload (%s)' % (hits, op, err))
            t.diag('%s/%s: %d fault point(s) swept' % (op, err, hits))
            total += hits
        t.ok(total > 20, 'the sweep hit %d I/O points in all' % total)
        lost_create(t, d, claim_dir, fault)
        # A persistent fault: every write fails until it is cleared.
        set_fault(fault, 'write:1:ENOSPC:0')
        err = write_file(os.path.join(claim_dir, 'persistent'), b'x' * 100000)
        t.ok(err in ALLOWED, 'persistent ENOSPC: the writer gets an error (%s)' % errno.errorcode.get(err, err))
        status, _, raw = d.request('POST', '/api/v1/namespaces/fault/persistentvolumeclaims',
                                   body=json.dumps(Daemon.claim_body('during-enospc')))
        t.ok(status >= 500 and json.loads(raw).get('kind') == 'Status',
             'persistent ENOSPC: the API answers 5xx with a Status (%d)' % status)
        set_fault(fault, '')
        healthy(t, d, claim_dir, committed, 'persistent fault cleared: everything works again')
        status, _, _ = d.request('POST', '/api/v1/namespaces/fault/persistentvolumeclaims',
                                 body=json.dumps(Daemon.claim_body('after-enospc')))
        t.eq(status, 201, 'after the fault the API provisions again')
        rc = d.stop()
        t.eq(rc, 0, 'daemon stops cleanly after the sweep')
        check_store(t, d, 'store consistent after the fault sweep (claimfsd --check)')
        d.start()
        t.ok(read_file(os.path.join(claim_dir, 'committed')) == committed, 'committed file intact after restart')
    finally:
        os.environ.pop('CLAIMFS_FAULT_FILE', None)
        d.stop()


def disk_full(t, work):
    small = os.path.join(work, 'small')
    os.makedirs(small)
    if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', small]).returncode != 0:
        t.ok(False, 'mount a 32 MiB tmpfs for the store')
        return
    d = Daemon(os.path.join(work, 'full'), store=os.path.join(small, 'store.db'))
    try:
        # Thin provisioning lets the 1Gi claim bind on the 32 MiB disk, so
        # writes fill the disk, not the claim.
        d.start(['--overcommit', '100'])
        d.create_claim('default', 'big', storage='1Gi')
        claim_dir = d.claim_path('default', 'big')
        keep = os.urandom(100000)
        t.ok(write_file(os.path.join(claim_dir, 'keep'), keep) is None, 'small file fsynced on the small disk')
        errs = []
        for i in range(64):
            err = write_file(os.path.join(claim_dir, 'fill-%d' % i), os.urandom(1 << 20))
            if err is not None:
                errs.append(err)
                if len(errs) >= 3:
                    break
        t.ok(errs and all(e == errno.ENOSPC for e in errs),
             'filling the host disk gives writers ENOSPC (%s)' % [errno.errorcode.get(e, e) for e in errs])
        t.ok(d.proc.poll() is None, 'daemon survives the full disk')
        t.ok(read_file(os.path.join(claim_dir, 'keep')) == keep, 'data written before the disk filled is intact')
        for name in os.listdir(claim_dir):
            if name.startswith('fill-'):
                try:
                    os.unlink(os.path.join(claim_dir, name))
                except OSError:
                    pass
        dfd = os.open(claim_dir, os.O_RDONLY)
        try:
            os.fsync(dfd)
        except OSError:
            pass
        os.close(dfd)
        time.sleep(0.3)
        err = None
        for attempt in range(20):
            err = write_file(os.path.join(claim_dir, 'after'), b'y' * 500000)
            if err is None:
                break
            time.sleep(0.1)
        t.ok(err is None, 'space comes back after unlink: writing works again (%s)' % errno.errorcode.get(err, err),
             d.log_tail(25))
        rc = d.stop()
        t.eq(rc, 0, 'daemon stops cleanly after the full disk')
        check_store(t, d, 'store consistent after the full disk (claimfsd --check)')
    finally:
        d.stop()
        if is_mounted(small):
            subprocess.run(['umount', '-l', small])


def main():
    t = Tap()
    work = tempfile.mkdtemp(prefix='claimfs-fault-')
    try:
        only = os.environ.get('CLAIMFS_FAULT_ONLY')
        if only in (None, '', 'sweep'):
            sweep(t, work)
        if only in (None, '', 'disk'):
            disk_full(t, work)
    except Exception as e:  # report, never leave things behind
        t.ok(False, 'fault test ran to the end', repr(e))
    finally:
        for root, dirs, _ in os.walk(work):
            for name in dirs:
                p = os.path.join(root, name)
                if is_mounted(p):
                    force_unmount(p)
        shutil.rmtree(work, ignore_errors=True)
    t.done()


if __name__ == '__main__':
    main()
