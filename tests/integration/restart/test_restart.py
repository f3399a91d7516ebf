#!/usr/bin/env python3
"""test_restart.py - claimfsd --supervise: a worker's death, restart or
upgrade is invisible to the processes using a claim (issue 16).

- A process (holder.py) with its working directory in a claim, a file held
  open, a file mmap'd and a file unlinked while open keeps using all of them,
  and creates, renames, unlinks and writes without ever calling fsync,
  across 20 SIGKILLs of the worker, 5 SIGTERM-restarts of the worker and 2
  upgrades (SIGHUP to the supervisor): 0 errors (no ENOTCONN, no EIO), no call
  hung (each iteration must finish within HANG_S), contents verified while it
  runs and again after a restart of the whole daemon: the next worker
  replays what a killed one acknowledged and had not committed.
- A request the worker is in the middle of serving when it is killed (held
  by the test-only CLAIMFS_TEST_STALL_OPCODE hook) completes after the new
  worker asks the kernel to resend it; one that had changed the store (and
  been committed) before the death succeeds again, not EEXIST.
- The API keeps its port (and --port-file) across workers.
- SIGTERM to the supervisor unmounts and exits 0; start-up refuses a
  mount point that is not empty, naming it.
- Acknowledged changes the next worker cannot replay (a damaged record in
  the redo log) make the files' next fsync return EIO once (never a silent
  loss); a clean worker restart loses nothing.
- A create logged, replayed and then resent by the kernel answers as the
  first one would have: the file it made, with its inode number and times.
- A file opened before a worker's death and unlinked after it stays usable
  through its descriptor (the new worker cannot know the kernel holds it).
- An upgrade to a binary that would answer FUSE_INIT differently (the
  test-only CLAIMFS_TEST_OTHER_INIT) refuses; a matching one serves after.
- Without FUSE_NOTIFY_RESEND (pretended with CLAIMFS_TEST_NO_RESEND) a dead
  worker's connection is aborted cleanly and the mount served afresh.
- Supervision is the default; --no-supervise serves in one process.
"""

import ctypes
import errno
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB', os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import Daemon, wait_for  # noqa: E402
from supervised import READY_S, kill_worker, serving_count, wait_new_worker, worker_pid  # noqa: E402
from tap import Tap  # noqa: E402

HOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'holder.py')
HANG_S = 10.0       # no iteration of the holder may take longer
FUSE_MKDIR = 9


class Holder:
    """holder.py in a claim, read line by line with a hang timeout."""

    def __init__(self, directory):
        self.proc = subprocess.Popen([sys.executable, HOLDER, directory], stdout=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL)
        self.last = 0
        self.error = None
        self.eio = 0  # losses reported at a durability point (EIO, then redone)

    def advance(self, iterations):
        """Wait until ITERATIONS more iterations are done; False on error/hang (said why)."""
        target = self.last + iterations
        while self.last < target:
            ready, _, _ = select.select([self.proc.stdout], [], [], HANG_S)
            if not ready:
                self.error = 'no progress for %.0f s after iteration %d (a hung call)' % (HANG_S, self.last)
                return False
            line = self.proc.stdout.readline().decode().strip()
            if line.startswith('ok '):
                self.last = int(line.split()[1])
            elif line.startswith('eio '):
                self.eio += 1
            else:
                self.error = line or 'holder exited (status %s)' % self.proc.poll()
                return False
        return True

    def stop(self):
        """SIGTERM, collect the final line; the holder's exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=HANG_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
            self.error = self.error or 'holder hung at stop'
        for line in out.decode().splitlines():
            if line.startswith('ok '):
                self.last = int(line.split()[1])
            elif line.startswith('eio '):
                self.eio += 1
            elif line.startswith('err'):
                self.error = self.error or line
        return self.proc.returncode


def start_with_claim(d, args, env=None):
    """Start D with ARGS (and ENV added to the environment for it), create
    the claim default/data; its directory."""
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        d.start(args)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    d.create_claim('default', 'data', storage='64Mi')
    claim = d.claim_path('default', 'data')
    wait_for(lambda: os.path.isdir(claim))
    return claim


def restart_worker(t, d, holder, how, label):
    """Kill/stop the worker (HOW: a signal to it, or 'upgrade'), then check the holder goes on."""
    served = serving_count(d)
    old = worker_pid(d)
    if old is None:
        return t.ok(False, '%s: the supervisor has a worker' % label, d.log_tail())
    if how == 'upgrade':
        os.kill(d.proc.pid, signal.SIGHUP)
    else:
        os.kill(old, how)
    if not wait_new_worker(d, old, served):
        return t.ok(False, '%s: a new worker serves within %.0f s' % (label, READY_S), d.log_tail())
    return holder.advance(3)


def check_survival(t, d):
    """The holder across 20 SIGKILLs, 5 SIGTERMs of the worker and 2 upgrades."""
    claim = d.claim_path('default', 'data')
    holder = Holder(claim)
    ok = holder.advance(5)
    kills = [(signal.SIGKILL, 'SIGKILL')] * 20
    clean = [(signal.SIGTERM, 'SIGTERM')] * 5 + [('upgrade', 'SIGHUP')] * 2
    done = 0
    replayed = 0
    for how, label in kills + clean:
        if not ok:
            break
        before = d.log_count(b'info: replayed ')
        ok = restart_worker(t, d, holder, how, '%s #%d' % (label, done + 1)) is not False and not holder.error
        replayed += d.log_count(b'info: replayed ') > before
        done += ok
    rc = holder.stop()
    t.ok(done == len(kills) + len(clean), 'holder served through %d worker SIGKILLs, %d SIGTERMs and %d upgrades'
         % (20, 5, 2), 'after %d: %s\n%s' % (done, holder.error, d.log_tail()))
    t.ok(holder.error is None and rc == 0, 'holder saw no failure (no ENOTCONN, no hung call, nothing missing)',
         '%s (status %s)' % (holder.error, rc))
    # Nothing acknowledged is lost: a killed worker's uncommitted changes
    # (creations, renames, unlinks, writes) are replayed by the next one.
    t.eq(holder.eio, 0, 'SIGKILLs, SIGTERMs and upgrades: 0 EIO (nothing reported lost)')
    t.eq(d.log_count(b'lost changes that were acknowledged'), 0, 'no worker reported lost changes')
    t.ok(replayed > 0, 'the kills found uncommitted changes to replay: %d of %d' % (replayed, len(kills)))
    t.ok(holder.last > 5 + 3 * done - 1, 'holder made progress: %d iterations' % holder.last)
    t.diag('worker starts that replayed acknowledged changes: %d of %d kills' % (replayed, len(kills)))
    return holder.last


def attempt(call, *args):
    """CALL(*ARGS), or the name of the errno it failed with."""
    try:
        return call(*args)
    except OSError as e:
        return errno.errorcode.get(e.errno, e.errno)


def check_contents(t, d, last):
    """What the holder acknowledged (fsync/msync returned) is in the files."""
    claim = d.claim_path('default', 'data')
    with open(os.path.join(claim, 'held'), 'rb') as f:
        held = f.read()
    with open(os.path.join(claim, 'mapped'), 'rb') as f:
        mapped = f.read()
    # Iteration i wrote its stamp at (i % 16) KiB of held and (i % 4) * 4 KiB
    # of mapped; the last 16 (4) iterations' stamps are all still there.
    held_ok = all(held[(i % 16) * 1024:(i % 16) * 1024 + 8] in (b'%08d' % i, b'%08d' % (i + 16))
                  for i in range(max(1, last - 15), last + 1))
    mapped_ok = all(mapped[(i % 4) * 4096:(i % 4) * 4096 + 8] in (b'%08d' % i, b'%08d' % (i + 4))
                    for i in range(max(1, last - 3), last + 1))
    t.ok(held_ok, 'held: the stamps of the last 16 iterations are on disk', held[:64])
    t.ok(mapped_ok, 'mapped: the stamps the mapping stored are on disk')
    names = set(os.listdir(claim))
    t.ok('orphan' not in names, 'the unlinked file has no name')
    t.eq(sorted(n for n in names if n[0] in 'dfu' or n.startswith('ln.')), ['d%d' % last],
         'created, renamed and removed names: exactly the last iteration\'s directory')
    t.eq(attempt(os.listdir, os.path.join(claim, 'd%d' % last)), ['x'], '... holding its file')
    t.eq(attempt(os.getxattr, os.path.join(claim, 'cur'), 'user.stamp'), b'%08d' % last,
         'cur: the file the last iteration renamed there')
    t.eq(attempt(os.readlink, os.path.join(claim, 'ln')), '%08d' % last,
         'ln: the symlink the last iteration renamed there')


def check_in_flight(t, d, label='in flight', pause=0.0):
    """A mkdir held in the worker while the worker is killed (PAUSE seconds
    after the hold began) completes."""
    claim = d.claim_path('default', 'data')
    result = {}

    def do_mkdir():
        try:
            os.mkdir(os.path.join(claim, 'in-flight'))
            result['r'] = 0
        except OSError as e:
            result['r'] = e.errno

    served = serving_count(d)
    old = worker_pid(d)
    th = threading.Thread(target=do_mkdir, daemon=True)
    th.start()
    t.ok(wait_for(lambda: b'holding request' in open(d.log_path, 'rb').read(), timeout=5),
         label + ': the worker is serving the mkdir')
    time.sleep(pause)
    os.kill(old, signal.SIGKILL)
    t.ok(wait_new_worker(d, old, served), label + ': a new worker serves', d.log_tail())
    th.join(HANG_S)
    t.ok(not th.is_alive(), label + ': the mkdir returned (resent, not hung)')
    t.ok(result.get('r') == 0, label + ': the mkdir succeeded after the resend',
         errno.errorcode.get(result.get('r'), result.get('r')))
    t.ok(os.path.isdir(os.path.join(claim, 'in-flight')), label + ': the directory exists')


def stop_cleanly(t, d, label):
    """SIGTERM to the supervisor: exit 0, and no sanitizer report in the log."""
    t.eq(d.stop(), 0, '%s: SIGTERM to the supervisor, exit 0' % label)
    reports = d.sanitizer_reports()
    t.ok(not reports, '%s: no sanitizer report' % label, '\n'.join(reports))


def check_api_port(t, d):
    with open(d.port_file) as f:
        port = int(f.read())
    t.eq(port, d.port, 'the API kept its port and --port-file across workers')
    t.eq(d.request('GET', '/readyz')[0], 200, 'the API answers on it')


def run_survival(t, root):
    with Daemon(os.path.join(root, 'survive')) as d:
        # Commits every second: most kills find changes never committed.
        t.ok(os.path.isdir(start_with_claim(d, ['--supervise', '--commit-interval-ms', '1000'])),
             'the claim is mounted')
        last = check_survival(t, d)
        check_contents(t, d, last)
        check_api_port(t, d)
        stop_cleanly(t, d, 'survival')
        t.ok(not d.mounted(), 'SIGTERM to the supervisor: unmounted')
        d.start()
        check_contents(t, d, last)
        d.stop()
        r = subprocess.run([d.binary, '--check', '--store', d.store], capture_output=True, timeout=60)
        t.ok(r.returncode == 0, 'claimfsd --check is clean', r.stdout.decode() + r.stderr.decode())
    with Daemon(os.path.join(root, 'inflight')) as d:
        start_with_claim(d, ['--supervise'], {'CLAIMFS_TEST_STALL_OPCODE': str(FUSE_MKDIR)})
        check_in_flight(t, d)
        stop_cleanly(t, d, 'in flight')
    # Held after the mkdir changed the store; the commit timer commits it,
    # then the worker dies before the reply: the resent mkdir must not say
    # EEXIST about the directory it made itself.
    with Daemon(os.path.join(root, 'applied')) as d:
        start_with_claim(d, ['--supervise'], {'CLAIMFS_TEST_STALL_OPCODE': str(FUSE_MKDIR),
                                              'CLAIMFS_TEST_STALL_AT': 'applied'})
        # 1 s: ten periods of the commit timer.
        check_in_flight(t, d, 'applied and committed, then resent', pause=1.0)
        stop_cleanly(t, d, 'applied')


def fsync_errno(fd):
    try:
        os.fsync(fd)
        return 0
    except OSError as e:
        return e.errno


def damage_redo_log(d, needle):
    """Flip a bit of NEEDLE in the redo log the supervisor holds (a memfd,
    reached through /proc): its record's checksum no longer matches."""
    fds = '/proc/%d/fd' % d.proc.pid
    for name in os.listdir(fds):
        try:
            if 'claimfs-redo' not in os.readlink(os.path.join(fds, name)):
                continue
        except OSError:
            continue
        with open(os.path.join(fds, name), 'r+b') as f:
            data = f.read(1 << 20)
            at = data.find(needle)
            if at < 0:
                return False
            f.seek(at)
            f.write(bytes([data[at] ^ 0x20]))
            return True
    return False


def run_lost(t, root):
    """Acknowledged changes the next worker cannot replay exactly (here a
    damaged record of the redo log) are never lost silently: the files'
    next fsync says EIO (once); a file whose changes were committed is not
    disturbed."""
    with Daemon(os.path.join(root, 'lost')) as d:
        claim = start_with_claim(d, ['--supervise', '--commit-interval-ms', '60000'])
        safe = os.open(os.path.join(claim, 'safe'), os.O_RDWR | os.O_CREAT, 0o644)
        os.write(safe, b'committed')
        os.fsync(safe)
        lost = os.open(os.path.join(claim, 'lost'), os.O_RDWR | os.O_CREAT, 0o644)
        os.fsync(lost)
        os.write(lost, b'acknowledged, never committed')
        created = os.open(os.path.join(claim, 'created'), os.O_RDWR | os.O_CREAT, 0o644)
        created_ino = os.fstat(created).st_ino
        t.ok(damage_redo_log(d, b'acknowledged, never committed'), 'lost: a record of the redo log damaged')
        t.ok(kill_worker(d, signal.SIGKILL), 'lost: a new worker serves', d.log_tail())
        t.ok(d.log_count(b'could not be replayed exactly') == 1, 'lost: the replay was declined, saying why')
        got = fsync_errno(lost)
        t.ok(got == errno.EIO, 'lost: fsync of the file whose acknowledged write was lost says EIO',
             errno.errorcode.get(got, got))
        t.eq(fsync_errno(lost), 0, 'lost: once (the next fsync succeeds)')
        # The kernel still knows the lost file by its inode number: a new file
        # must never get that number, or the old descriptor (and a cached
        # name) would reach the new file, in this claim or another one.
        newer = os.open(os.path.join(claim, 'newer'), os.O_RDWR | os.O_CREAT, 0o644)
        t.ok(os.fstat(newer).st_ino != created_ino,
             'lost: a file created after the take-over does not reuse the lost file\'s inode number',
             '%d and %d' % (os.fstat(newer).st_ino, created_ino))
        got = fsync_errno(created)
        t.ok(got == errno.EIO, 'lost: fsync of a file whose acknowledged creation was lost says EIO',
             errno.errorcode.get(got, got))
        try:
            os.pwrite(created, b'through the lost descriptor', 0)
        except OSError:
            pass
        t.eq(os.pread(newer, 64, 0), b'', 'lost: a write through the lost file\'s descriptor does not reach the new file')
        os.close(newer)
        os.close(created)
        t.ok('created' not in os.listdir(claim), 'lost: ... and the file is not there')
        os.unlink(os.path.join(claim, 'newer'))
        t.eq(fsync_errno(safe), 0, 'lost: a file whose changes were committed fsyncs without error')
        t.ok(d.log_count(b'lost changes that were acknowledged') == 1, 'lost: the log says so')
        os.pwrite(lost, b'again', 0)
        t.eq(fsync_errno(lost), 0, 'lost: the file takes new writes')
        os.close(lost)
        os.close(safe)
        # A clean restart (SIGTERM to the worker) commits: nothing is lost.
        fd = os.open(os.path.join(claim, 'clean'), os.O_RDWR | os.O_CREAT, 0o644)
        os.write(fd, b'committed at the clean stop')
        t.ok(kill_worker(d, signal.SIGTERM), 'lost: a new worker after SIGTERM', d.log_tail())
        t.eq(fsync_errno(fd), 0, 'lost: nothing lost across a clean worker restart')
        os.close(fd)
        with open(os.path.join(claim, 'clean'), 'rb') as f:
            t.eq(f.read(), b'committed at the clean stop', 'lost: its contents are there')
        stop_cleanly(t, d, 'lost')


def store_read(fd, size):
    """SIZE bytes of FD from the worker, not the page cache (keep_cache)."""
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    return os.pread(fd, size, 0)


def run_redo(t, root):
    """Writes acknowledged but not committed when the worker dies are
    replayed by the next worker from the redo log the supervisor holds: no
    EIO, the bytes and the mtime the processes saw, across two deaths in a
    row; a batch that also holds a change the log does not describe (a
    create) is reported lost instead (run_lost)."""
    with Daemon(os.path.join(root, 'redo')) as d:
        claim = start_with_claim(d, ['--supervise', '--commit-interval-ms', '60000'])
        path = os.path.join(claim, 'data')
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        os.write(fd, b'committed ')
        os.fsync(fd)
        want = bytearray(b'committed ')
        for i in range(50):  # appends, an overwrite and a write past the end
            chunk = b'acknowledged %02d ' % i
            os.write(fd, chunk)
            want += chunk
        os.pwrite(fd, b'COMMITTED', 0)
        want[0:9] = b'COMMITTED'
        big = os.urandom(300000)
        os.pwrite(fd, big, 100000)
        want += bytes(100000 - len(want)) + big
        before = os.fstat(fd)
        # A committed file truncated on open and rewritten, then chmod: setattrs.
        tpath = os.path.join(claim, 'counter')
        with open(tpath, 'w') as f:
            f.write('41 and more')
        tfd = os.open(tpath, os.O_WRONLY | os.O_TRUNC)
        os.write(tfd, b'42')
        os.fchmod(tfd, 0o600)
        tbefore = os.fstat(tfd)
        t.ok(kill_worker(d, signal.SIGKILL), 'redo: a new worker serves', d.log_tail())
        t.eq(fsync_errno(fd), 0, 'redo: fsync after the kill reports no loss')
        t.eq(store_read(fd, len(want) + 10) == bytes(want), True, 'redo: every acknowledged byte is there')
        time.sleep(1.1)  # past the kernel's attribute cache
        after = os.fstat(fd)
        t.eq((after.st_size, after.st_mtime_ns), (before.st_size, before.st_mtime_ns),
             'redo: size and mtime are what the process saw')
        t.ok(d.log_count(b'replayed ') == 1, 'redo: the log says it replayed')
        t.eq(fsync_errno(tfd), 0, 'redo: truncated file: fsync reports no loss')
        tafter = os.fstat(tfd)
        t.eq((tafter.st_size, tafter.st_mode & 0o7777, tafter.st_mtime_ns, tafter.st_ctime_ns),
             (2, 0o600, tbefore.st_mtime_ns, tbefore.st_ctime_ns),
             'redo: truncated file: size, mode, mtime and ctime as acknowledged')
        os.close(tfd)
        with open(tpath, 'rb') as f:
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            t.eq(f.read(), b'42', 'redo: truncated file: its contents')
        # Killed again before anything committed: both deaths' writes survive.
        os.pwrite(fd, b'second death', 5)
        want[5:17] = b'second death'
        t.ok(kill_worker(d, signal.SIGKILL), 'redo: a new worker after a second kill', d.log_tail())
        os.pwrite(fd, b'third', 20)
        want[20:25] = b'third'
        t.ok(kill_worker(d, signal.SIGKILL), 'redo: a new worker after a third kill', d.log_tail())
        t.eq(fsync_errno(fd), 0, 'redo: no loss after two kills in a row')
        t.eq(store_read(fd, len(want) + 10) == bytes(want), True, 'redo: all of it is there')
        t.eq(d.log_count(b'lost changes that were acknowledged'), 0, 'redo: nothing reported lost')
        os.close(fd)
        stop_cleanly(t, d, 'redo')


FUSE_CREATE = 35


def run_resent_create(t, root):
    run_resent_create_at(t, root, 'applied', 'resent create')
    # Killed after the store logged the create, before the FUSE layer noted
    # the request as applied: the note taken before the record counts (the
    # supervised crash soak once hit EEXIST here at kill 100).
    run_resent_create_at(t, root, 'stored', 'resent create (stored)')


def run_resent_create_at(t, root, at, label):
    """A create the worker applied and logged, killed before its reply: the
    next worker replays it, the kernel resends it, and it answers as the
    first one would have (O_EXCL: not EEXIST; the inode and ctime the first
    application gave, not a second creation after the kill)."""
    with Daemon(os.path.join(root, 'resent-' + at)) as d:
        claim = start_with_claim(d, ['--supervise', '--commit-interval-ms', '60000'],
                                 {'CLAIMFS_TEST_STALL_OPCODE': str(FUSE_CREATE), 'CLAIMFS_TEST_STALL_AT': at})
        other = os.open(os.path.join(claim, 'other'), os.O_RDWR | os.O_CREAT, 0o644)
        os.fsync(other)
        os.write(other, b'uncommitted too')
        result = {}

        def create():
            try:
                result['fd'] = os.open(os.path.join(claim, 'made'), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o640)
            except OSError as e:
                result['errno'] = e.errno

        served = serving_count(d)
        old = worker_pid(d)
        held = d.log_count(b'holding request')  # the create of "other" was held too
        th = threading.Thread(target=create, daemon=True)
        th.start()
        t.ok(wait_for(lambda: d.log_count(b'holding request') > held, timeout=5),
             label + ': the worker applied it and holds the reply')
        killed_ns = time.time_ns()
        os.kill(old, signal.SIGKILL)
        t.ok(wait_new_worker(d, old, served), label + ': a new worker serves', d.log_tail())
        th.join(HANG_S)
        t.ok(not th.is_alive(), label + ': the create returned (resent, not hung)')
        t.ok('fd' in result, label + ': O_EXCL create succeeded, not EEXIST',
             errno.errorcode.get(result.get('errno'), result.get('errno')))
        t.ok(d.log_count(b'info: replayed ') == 1, label + ': the new worker replayed the log first')
        if 'fd' not in result:
            return stop_cleanly(t, d, label)
        fd = result['fd']
        st = os.fstat(fd)
        t.eq(st.st_ino, os.stat(os.path.join(claim, 'made')).st_ino, label + ': its descriptor is the file')
        t.ok(st.st_ctime_ns < killed_ns, label + ': made before the kill (the first application, replayed)',
             '%d >= %d' % (st.st_ctime_ns, killed_ns))
        t.eq(st.st_mode & 0o7777, 0o640, label + ': its mode')
        t.eq(sorted(os.listdir(claim)), ['made', 'other'], label + ': one file made')
        t.eq(fsync_errno(fd), 0, label + ': fsync reports no loss')
        t.eq(fsync_errno(other), 0, label + ': nor for the other uncommitted file')
        t.eq(store_read(other, 64), b'uncommitted too', label + ': whose write was replayed')
        os.close(fd)
        os.close(other)
        ino = st.st_ino
        stop_cleanly(t, d, label)
        d.start()
        t.eq(os.stat(os.path.join(claim, 'made')).st_ino, ino, label + ': the same inode after a restart')
        d.stop()


FUSE_RENAME2 = 45
RENAME_EXCHANGE = 2
AT_FDCWD = -100


def exchange(a, b):
    """renameat2(a, b, RENAME_EXCHANGE): 0 or the errno."""
    libc = ctypes.CDLL(None, use_errno=True)
    r = libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), RENAME_EXCHANGE)
    return 0 if r == 0 else ctypes.get_errno()


def run_resent_exchange(t, root):
    """A RENAME_EXCHANGE the worker applied, killed before its reply, then
    resent: the names are swapped once, whether the exchange had committed
    (the commit timer ran during the hold) or was replayed from the log."""
    for label, interval in (('committed', '100'), ('replayed', '60000')):
        label = 'resent exchange, %s' % label
        with Daemon(os.path.join(root, 'exchange-' + interval)) as d:
            claim = start_with_claim(d, ['--supervise', '--commit-interval-ms', interval],
                                     {'CLAIMFS_TEST_STALL_OPCODE': str(FUSE_RENAME2),
                                      'CLAIMFS_TEST_STALL_AT': 'applied'})
            for name in ('a', 'b'):
                os.symlink(name, os.path.join(claim, name))
            result = {}
            served = serving_count(d)
            old = worker_pid(d)
            th = threading.Thread(target=lambda: result.update(r=exchange(os.path.join(claim, 'a'),
                                                                          os.path.join(claim, 'b'))),
                                  daemon=True)
            th.start()
            t.ok(wait_for(lambda: b'holding request' in open(d.log_path, 'rb').read(), timeout=5),
                 label + ': the worker applied it and holds the reply')
            time.sleep(1.0)  # ten periods of a 100 ms commit timer
            os.kill(old, signal.SIGKILL)
            t.ok(wait_new_worker(d, old, served), label + ': a new worker serves', d.log_tail())
            th.join(HANG_S)
            t.ok(not th.is_alive() and result.get('r') == 0, label + ': the exchange returned 0',
                 errno.errorcode.get(result.get('r'), result.get('r')))
            t.eq((os.readlink(os.path.join(claim, 'a')), os.readlink(os.path.join(claim, 'b'))), ('b', 'a'),
                 label + ': the names are swapped once')
            t.eq(d.log_count(b'lost changes that were acknowledged'), 0, label + ': nothing reported lost')
            stop_cleanly(t, d, label)


def run_open_unlinked(t, root):
    """A file held open across a worker's death and unlinked after it: the
    new worker never handed it to the kernel, yet must keep it (an orphan
    until the kernel forgets it), not delete it under the descriptor."""
    with Daemon(os.path.join(root, 'openunlinked')) as d:
        claim = start_with_claim(d, ['--supervise'])
        path = os.path.join(claim, 'f')
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        os.write(fd, b'data of an open file')
        os.fsync(fd)
        t.ok(kill_worker(d, signal.SIGKILL), 'open, unlinked: a new worker serves', d.log_tail())
        os.unlink(path)
        t.ok('f' not in os.listdir(claim), 'open, unlinked: the name is gone')
        t.eq(attempt(store_read, fd, 64), b'data of an open file', 'open, unlinked: its data through the descriptor')
        t.eq(attempt(os.pwrite, fd, b'DATA', 0), 4, 'open, unlinked: it takes writes')
        t.eq(fsync_errno(fd), 0, 'open, unlinked: and fsync')
        t.eq(attempt(store_read, fd, 64), b'DATA of an open file', 'open, unlinked: what was written')
        os.close(fd)
        stop_cleanly(t, d, 'open, unlinked')
        r = subprocess.run([d.binary, '--check', '--store', d.store], capture_output=True, timeout=60)
        t.ok(r.returncode == 0, 'open, unlinked: claimfsd --check is clean after the stop',
             r.stdout.decode() + r.stderr.decode())


def run_other_init(t, root):
    """An upgrade to a binary that would answer FUSE_INIT differently
    refuses to serve; the connection waits, and the next matching worker
    serves it with the holder's files still open."""
    with Daemon(os.path.join(root, 'otherinit')) as d:
        trigger = os.path.join(d.workdir, 'other-init')
        claim = start_with_claim(d, ['--supervise'], {'CLAIMFS_TEST_OTHER_INIT': trigger})
        holder = Holder(claim)
        t.ok(holder.advance(3), 'other INIT: the holder runs', holder.error)
        with open(trigger, 'w'):
            pass
        refusals = d.log_count(b'answers the kernel\'s FUSE_INIT differently')
        os.kill(d.proc.pid, signal.SIGHUP)
        t.ok(wait_for(lambda: d.log_count(b'answers the kernel\'s FUSE_INIT differently') > refusals,
                      timeout=READY_S), 'other INIT: the new binary refuses, saying why', d.log_tail())
        served = serving_count(d)
        os.unlink(trigger)
        t.ok(wait_for(lambda: serving_count(d) > served, timeout=READY_S),
             'other INIT: a matching worker serves the same connection', d.log_tail())
        t.ok(holder.advance(3), 'other INIT: the holder goes on', holder.error)
        rc = holder.stop()
        t.ok(holder.error is None and rc == 0 and holder.eio == 0, 'other INIT: the holder saw no error',
             '%s (status %s, EIO %d)' % (holder.error, rc, holder.eio))
        stop_cleanly(t, d, 'other INIT')


def run_refusals(t, root):
    with Daemon(os.path.join(root, 'notempty')) as d:
        os.makedirs(d.mount, exist_ok=True)
        with open(os.path.join(d.mount, 'hidden'), 'w') as f:
            f.write('written while nothing was mounted')
        proc = subprocess.run(d.command(['--supervise']), capture_output=True, timeout=30)
        err = proc.stderr.decode()
        t.ok(proc.returncode != 0 and d.mount in err and 'not empty' in err,
             'start-up refuses a mount point that is not empty, naming it', err)
        t.ok(not d.mounted(), '... and mounts nothing')


def run_no_resend(t, root):
    with Daemon(os.path.join(root, 'noresend')) as d:
        claim = start_with_claim(d, ['--supervise'], {'CLAIMFS_TEST_NO_RESEND': '1'})
        fd = os.open(os.path.join(claim, 'f'), os.O_RDWR | os.O_CREAT, 0o644)
        os.write(fd, b'x')
        os.fsync(fd)
        t.ok(kill_worker(d, signal.SIGKILL), 'no resend: a new worker serves a fresh mount', d.log_tail())
        try:
            os.pread(fd, 1, 0)
            got = 0
        except OSError as e:
            got = e.errno
        t.ok(got in (errno.ENOTCONN, errno.ECONNABORTED), 'no resend: the old descriptor says ENOTCONN',
             errno.errorcode.get(got, got))
        try:
            os.close(fd)
        except OSError:
            pass  # the flush of a dead connection's descriptor fails too
        t.ok(b'cannot resend' in open(d.log_path, 'rb').read(), 'no resend: the log says why')
        t.ok(wait_for(lambda: os.path.exists(os.path.join(claim, 'f')), timeout=READY_S),
             'no resend: the file is there through the new mount')
        with open(os.path.join(claim, 'f'), 'rb') as f:
            t.eq(f.read(), b'x', 'no resend: its fsynced contents too')
        stop_cleanly(t, d, 'no resend')


def run_default(t, root):
    """Supervision is the default: claimfsd with no option runs a worker
    whose death an open file survives; --no-supervise serves in one process."""
    with Daemon(os.path.join(root, 'default')) as d:
        claim = start_with_claim(d, [])
        t.ok(worker_pid(d) is not None, 'default: claimfsd runs a worker under its supervisor', d.log_tail())
        fd = os.open(os.path.join(claim, 'kept'), os.O_RDWR | os.O_CREAT, 0o644)
        os.write(fd, b'before')
        os.fsync(fd)
        t.ok(kill_worker(d, signal.SIGKILL), 'default: a new worker serves after a SIGKILL', d.log_tail())
        os.pwrite(fd, b'after!', 0)
        t.eq(fsync_errno(fd), 0, 'default: the file opened before the kill takes a write and an fsync')
        os.close(fd)
        stop_cleanly(t, d, 'default')
    with Daemon(os.path.join(root, 'unsupervised')) as d:
        start_with_claim(d, ['--no-supervise'])
        t.eq((d.children(), d.serving_pid()), ([], d.proc.pid), '--no-supervise: one process serves')
        stop_cleanly(t, d, '--no-supervise')
        proc = subprocess.run(d.command(['--supervise', '--no-supervise']), capture_output=True, timeout=30)
        t.ok(proc.returncode == 2 and b'contradict' in proc.stderr,
             '--supervise with --no-supervise: usage error (exit 2) saying why', proc.stderr)


def main():
    t = Tap()
    with tempfile.TemporaryDirectory(prefix='claimfs-restart-') as root:
        os.chmod(root, 0o755)
        run_survival(t, root)
        run_lost(t, root)
        run_redo(t, root)
        run_resent_create(t, root)
        run_resent_exchange(t, root)
        run_open_unlinked(t, root)
        run_other_init(t, root)
        run_refusals(t, root)
        run_no_resend(t, root)
        run_default(t, root)
    t.done()


if __name__ == '__main__':
    main()
