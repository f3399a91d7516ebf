#!/usr/bin/env python3
"""test_persistence.py - what survives the daemon: SIGKILL, SIGTERM, SIGINT.

The durability contract (README): after fsync returns, data and metadata
survive SIGKILL; after close returns, they survive SIGKILL; a SIGKILL never
corrupts the store (PRAGMA integrity_check is ok) and never loses a committed
file; a restart detaches the stale mount; orphans (unlinked but open at the
kill) are reclaimed on restart; a second daemon on the same store refuses to
start ("locked") while the first keeps serving; SIGTERM and SIGINT unmount.

Every step that touches files runs in this process or in a child process,
with real syscalls through the mount.  Owns one temporary work directory and
the daemons in it; nothing is left mounted or running at exit.
"""

import errno
import hashlib
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import Daemon, force_unmount, is_mounted, wait_for  # noqa: E402
from falloc import FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE, fallocate  # noqa: E402
from tap import Tap  # noqa: E402

MiB = 1024 * 1024
CLAIMS = [('default', 'app-0', '1Mi'), ('default', 'app-1', '1Mi'),
          ('default', 'data', '64Mi'), ('web', 'app-0', '1Mi')]

# The writer of the kill-during-writes rounds.  Mode 'fsync' publishes files
# atomically (write tmp, fsync, rename, fsync dir); mode 'close' only writes
# and closes (the contract: closed files survive SIGKILL).  It prints each
# name once that durability point returned.
STRESS_WRITER = r'''
import os, sys
d, mode = sys.argv[1], sys.argv[2]
os.makedirs(d, exist_ok=True)
print('ready 0', flush=True)
i = 0
while i < 3000:
    name = 'f%05d' % i
    data = (name.encode() * (1 + (i * 7919) % 4000))[: 1 + (i * 104729) % 300000]
    try:
        if mode == 'close':
            fd = os.open(os.path.join(d, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, data)
            os.close(fd)
        else:
            tmp = os.path.join(d, name + '.tmp')
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, data)
            os.fsync(fd)
            os.close(fd)
            os.rename(tmp, os.path.join(d, name))
            dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
            os.fsync(dfd)
            os.close(dfd)
    except OSError as e:
        print('stopped', e.errno, flush=True)
        sys.exit(0)
    print(name, len(data), flush=True)
    i += 1
print('stopped 0', flush=True)
'''


def stress_content(name, length):
    """The bytes STRESS_WRITER wrote for NAME (must match its formula)."""
    i = int(name[1:])
    return (name.encode() * (1 + (i * 7919) % 4000))[:length]


def fsync_path(path):
    """fsync a file or directory by path."""
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if os.path.isdir(path) else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_fsync(path, data, mode=0o644):
    """Create PATH with DATA and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
    finally:
        os.close(fd)


def snapshot(root):
    """Everything observable about the tree under ROOT (atime aside), keyed by relative path."""
    snap = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            entry = {'mode': oct(st.st_mode), 'uid': st.st_uid, 'gid': st.st_gid,
                     'nlink': st.st_nlink, 'size': st.st_size, 'ino': st.st_ino,
                     'mtime_ns': st.st_mtime_ns, 'ctime_ns': st.st_ctime_ns}
            if stat.S_ISLNK(st.st_mode):
                entry['target'] = os.readlink(path)
            else:
                entry['xattrs'] = {k: os.getxattr(path, k, follow_symlinks=False)
                                   for k in sorted(os.listxattr(path, follow_symlinks=False))
                                   if k.startswith('user.')}
            if stat.S_ISREG(st.st_mode):
                with open(path, 'rb') as f:
                    entry['sha256'] = hashlib.sha256(f.read()).hexdigest()
            snap[os.path.relpath(path, root)] = entry
    return snap


def snapshot_all(d):
    """snapshot() of every claim of CLAIMS."""
    return {'%s/%s' % (ns, name): snapshot(d.claim_path(ns, name)) for ns, name, _ in CLAIMS}


def diff_snapshots(before, after):
    """Human-readable differences, or '' if equal."""
    lines = []
    for claim in sorted(set(before) | set(after)):
        b, a = before.get(claim, {}), after.get(claim, {})
        for path in sorted(set(b) | set(a)):
            if path not in a:
                lines.append('%s/%s: missing after restart' % (claim, path))
            elif path not in b:
                lines.append('%s/%s: appeared after restart' % (claim, path))
            else:
                for key in sorted(set(b[path]) | set(a[path])):
                    if b[path].get(key) != a[path].get(key):
                        lines.append('%s/%s: %s was %r now %r' %
                                     (claim, path, key, b[path].get(key), a[path].get(key)))
    return '\n'.join(lines[:40])


def used_bytes(path):
    """Allocated bytes of the claim holding PATH, per statfs."""
    sv = os.statvfs(path)
    return (sv.f_blocks - sv.f_bfree) * sv.f_frsize


def integrity_check(store):
    """Output of sqlite3 STORE 'PRAGMA integrity_check'."""
    proc = subprocess.run(['sqlite3', store, 'PRAGMA integrity_check'], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=60, check=False)
    return proc.stdout.decode('utf-8', 'replace').strip()


def populate(d):
    """Write the tree the restarts must bring back; return the 5 MiB blob's sha256."""
    for ns, name, _ in CLAIMS:
        write_fsync(os.path.join(d.claim_path(ns, name), 'visits.txt'), b'1\n')
    data = d.claim_path('default', 'data')
    blob = random.Random(42).randbytes(5 * MiB)
    write_fsync(os.path.join(data, 'blob'), blob)
    os.makedirs(os.path.join(data, 'a', 'b', 'c'))
    write_fsync(os.path.join(data, 'a', 'b', 'c', 'deep.txt'), b'deep\n')
    os.symlink('a/b/c/deep.txt', os.path.join(data, 'link'))
    os.symlink('does/not/exist', os.path.join(data, 'dangling'))
    write_fsync(os.path.join(data, 'h1'), b'hard link\n')
    os.link(os.path.join(data, 'h1'), os.path.join(data, 'a', 'h2'))
    os.chmod(os.path.join(data, 'h1'), 0o640)
    os.chown(os.path.join(data, 'a', 'b'), 1000, 1000)
    os.setxattr(os.path.join(data, 'blob'), 'user.color', b'blue')
    os.setxattr(os.path.join(data, 'blob'), 'user.empty', b'')
    os.setxattr(os.path.join(data, 'a'), 'user.dir', b'\x00\x01binary')
    os.mkfifo(os.path.join(data, 'fifo'), 0o600)
    os.mkdir(os.path.join(data, 'sg'))
    os.chown(os.path.join(data, 'sg'), 0, 4242)
    os.chmod(os.path.join(data, 'sg'), 0o2775)
    write_fsync(os.path.join(data, 'sg', 'inherits'), b'group 4242\n')
    os.utime(os.path.join(data, 'blob'), ns=(1_000_000_000_123_456_789, 1_111_111_111_987_654_321))
    with open(os.path.join(data, 'sparse'), 'wb') as f:
        f.seek(10 * MiB)
        f.write(b'end')
        f.flush()
        os.fsync(f.fileno())
    # Holes punched and a range zeroed, then fsync: both durable like writes.
    write_fsync(os.path.join(data, 'punched'), random.Random(9).randbytes(3 * MiB))
    fd = os.open(os.path.join(data, 'punched'), os.O_RDWR)
    try:
        fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 5000, 2 * MiB)
        fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 2 * MiB + 100000, 300000)
        os.fsync(fd)
    finally:
        os.close(fd)
    for dirpath, _, _ in os.walk(data):
        fsync_path(dirpath)
    for ns, name, _ in CLAIMS:
        fsync_path(d.claim_path(ns, name))
    # Durable by close alone (no fsync anywhere).
    with open(os.path.join(data, 'closed.txt'), 'wb') as f:
        f.write(random.Random(7).randbytes(200 * 1024))
    with open(os.path.join(d.claim_path('web', 'app-0'), 'closed-small.txt'), 'w',
              encoding='ascii') as f:
        f.write('closed, never fsynced\n')
    return hashlib.sha256(blob).hexdigest()


def read_visits(d):
    """visits.txt of every claim, stripped."""
    out = {}
    for ns, name, _ in CLAIMS:
        with open(os.path.join(d.claim_path(ns, name), 'visits.txt'), encoding='ascii') as f:
            out['%s/%s' % (ns, name)] = f.read().strip()
    return out


def bump_visits(d):
    """Increment every visits.txt the way the demo app does (read, +1, write, fsync)."""
    for ns, name, _ in CLAIMS:
        path = os.path.join(d.claim_path(ns, name), 'visits.txt')
        with open(path, 'r+', encoding='ascii') as f:
            n = int(f.read().strip()) + 1
            f.seek(0)
            f.truncate()
            f.write('%d\n' % n)
            f.flush()
            os.fsync(f.fileno())


def sha_of(path):
    """sha256 hex of a file's content."""
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def start_or_bail(t, d, what):
    """Start D; a failure ends the program (everything after depends on it)."""
    try:
        d.start()
        t.ok(True, what)
    except RuntimeError as e:
        t.ok(False, what, str(e))
        t.bail('daemon did not start')


def phase_sigkill(t, d, blob_sha):
    """SIGKILL with an orphan open; the store is intact and everything comes back."""
    data = d.claim_path('default', 'data')
    before = snapshot_all(d)
    used_before = used_bytes(data)
    fd = os.open(os.path.join(data, 'orphan'), os.O_RDWR | os.O_CREAT, 0o644)
    os.write(fd, b'o' * (4 * MiB))
    os.fsync(fd)
    os.unlink(os.path.join(data, 'orphan'))
    fsync_path(data)  # make the unlink durable: only the open file keeps the inode now
    t.ok(used_bytes(data) >= used_before + 4 * MiB, 'an unlinked but open file still uses space',
         'before %d, with the orphan %d' % (used_before, used_bytes(data)))

    punched_blocks = os.stat(os.path.join(data, 'punched')).st_blocks
    t.ok(punched_blocks * 512 <= 3 * MiB - 2 * MiB + 64 * 1024, 'the punched file holds 2 MiB less',
         'st_blocks %d' % punched_blocks)

    rc = d.kill()
    t.eq(rc, -signal.SIGKILL, 'daemon died of SIGKILL')
    t.ok(d.mounted(), 'the dead daemon left a stale mount behind')
    try:
        os.close(fd)
    except OSError:
        pass
    t.errno(lambda: os.listdir(d.mount), (errno.ENOTCONN, errno.ECONNABORTED),
            'the stale mount answers ENOTCONN')
    t.eq(integrity_check(d.store), 'ok', 'PRAGMA integrity_check is ok after SIGKILL')

    start_or_bail(t, d, 'restart on the same store and the stale mount point')
    t.ok(d.mounted(), 'mounted again')
    t.eq(listing_ok(d.mount), ['default', 'web'], 'namespaces are back')
    after = snapshot_all(d)
    t.ok(after == before, 'every file, dir, link, fifo, mode, owner, time and xattr is back after SIGKILL',
         diff_snapshots(before, after))
    t.eq(sha_of(os.path.join(data, 'blob')), blob_sha, '5 MiB blob checksum after SIGKILL')
    t.eq(os.stat(os.path.join(data, 'punched')).st_blocks, punched_blocks,
         'the punched hole is still a hole after SIGKILL (st_blocks)')
    t.eq(read_visits(d), {'%s/%s' % (ns, n): '1' for ns, n, _ in CLAIMS},
         'visits.txt of every claim after SIGKILL')
    t.ok(os.path.getsize(os.path.join(data, 'closed.txt')) == 200 * 1024,
         'a file that was only closed (never fsynced) survived SIGKILL')
    t.ok(not os.path.exists(os.path.join(data, 'orphan')), 'the orphan has no name after restart')
    used_after = used_bytes(data)
    t.ok(used_after <= used_before + 64 * 1024, 'the orphan was reclaimed on restart (statfs used)',
         'used before the orphan %d, after restart %d' % (used_before, used_after))


def listing_ok(path):
    """Sorted listing or the error text."""
    try:
        return sorted(os.listdir(path))
    except OSError as e:
        return 'error: %s' % e


def phase_sigterm(t, d):
    """A clean restart brings back the same state, including new writes."""
    bump_visits(d)
    before = snapshot_all(d)
    used = {c: used_bytes(d.claim_path(*c.split('/'))) for c in before}
    rc = d.stop()
    t.eq(rc, 0, 'SIGTERM: daemon exits 0')
    t.ok(not d.mounted(), 'SIGTERM: the mount is gone')
    t.eq(integrity_check(d.store), 'ok', 'PRAGMA integrity_check is ok after SIGTERM')
    start_or_bail(t, d, 'restart after SIGTERM')
    after = snapshot_all(d)
    t.ok(after == before, 'everything is back after a clean restart', diff_snapshots(before, after))
    used_after = {c: used_bytes(d.claim_path(*c.split('/'))) for c in before}
    t.eq(used_after, used, 'statfs used bytes of every claim unchanged by a clean restart')
    t.eq(read_visits(d), {'%s/%s' % (ns, n): '2' for ns, n, _ in CLAIMS},
         'visits.txt incremented before the clean restart reads 2')


def phase_second_daemon(t, d, workdir):
    """A second daemon on the same store refuses to start; the first keeps serving."""
    mnt2 = os.path.join(workdir, 'mnt2')
    os.makedirs(mnt2, exist_ok=True)
    cmd = [d.binary, '--store', d.store, '--mount', mnt2, '--listen', '127.0.0.1:0',
           '--port-file', os.path.join(workdir, 'port2'), '--log-level', 'info']
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=15)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        rc = None
    finally:
        force_unmount(mnt2)
    text = out.decode('utf-8', 'replace')
    t.ok(rc is not None and rc != 0, 'a second daemon on the same store exits non-zero',
         'exit status %r; output:\n%s' % (rc, text[-2000:]))
    t.ok('locked' in text.lower(), 'its message says the store is locked', text[-2000:])
    t.ok(not is_mounted(mnt2), 'the second daemon left nothing mounted')
    status, _, _ = d.request('GET', '/readyz')
    t.eq(status, 200, 'the first daemon is still ready')
    data = d.claim_path('default', 'data')
    write_fsync(os.path.join(data, 'after-second'), b'still serving\n')
    with open(os.path.join(data, 'after-second'), 'rb') as f:
        t.eq(f.read(), b'still serving\n', 'the first daemon still reads and writes')
    os.unlink(os.path.join(data, 'after-second'))


def phase_kill_during_writes(t, d, modes=('fsync', 'fsync', 'close', 'close')):
    """SIGKILL while a child process writes files; nothing past a durability point is lost."""
    confirmed = {}
    rng = random.Random(1234)
    d.create_claim('default', 'stress', storage='256Mi')
    for r, mode in enumerate(modes):
        target = os.path.join(d.claim_path('default', 'stress'), 'stress%d' % r)
        writer = subprocess.Popen([sys.executable, '-c', STRESS_WRITER, target, mode],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        # The kill must land while it writes, not while python starts (slow
        # under load or behind a pyenv shim): wait for its first line.
        first = writer.stdout.readline()
        time.sleep(0.3 + rng.random() * 0.7)
        d.kill()
        try:
            out, _ = writer.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            writer.kill()
            out, _ = writer.communicate()
        stopped = None
        t.ok(first == b'ready 0\n', 'round %d: the writer was running before the kill' % r, first)
        for line in out.decode().splitlines():
            name, value = line.split()
            if name == 'stopped':
                stopped = int(value)
            else:
                confirmed[os.path.join('stress%d' % r, name)] = int(value)
        t.ok(stopped in (errno.ENOTCONN, errno.ECONNABORTED, 0),
             'round %d: the writer stopped because the daemon died (or finished)' % r,
             'writer stopped with errno %r' % stopped)
        t.eq(integrity_check(d.store), 'ok', 'round %d: integrity_check ok after SIGKILL mid-write' % r)
        start_or_bail(t, d, 'round %d: restart after SIGKILL mid-write' % r)
        bad = []
        data = d.claim_path('default', 'stress')
        for rel, length in sorted(confirmed.items()):
            try:
                with open(os.path.join(data, rel), 'rb') as f:
                    if f.read() != stress_content(os.path.basename(rel), length):
                        bad.append('%s: content differs' % rel)
            except OSError as e:
                bad.append('%s: %s' % (rel, e))
        t.ok(not bad and confirmed, 'round %d (%s): all %d confirmed files so far are intact' %
             (r, mode, len(confirmed)), '\n'.join(bad[:20]) or 'no file was confirmed')


def phase_sigint(t, d):
    """SIGINT unmounts cleanly."""
    d.send_signal(signal.SIGINT)
    rc = d.wait(10)
    t.eq(rc, 0, 'SIGINT: daemon exits 0')
    with open('/proc/mounts', encoding='utf-8') as f:
        mounts = f.read()
    t.ok(os.path.realpath(d.mount) not in [line.split()[1] for line in mounts.splitlines()],
         'SIGINT: no entry left in /proc/mounts')
    t.eq(integrity_check(d.store), 'ok', 'PRAGMA integrity_check is ok after SIGINT')


def stream_file(path, mib):
    """Write MIB MiB in 1 MiB writes, fsync; returns the sha256."""
    h = hashlib.sha256()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for i in range(mib):
            chunk = hashlib.sha256(b'%d' % i).digest() * (MiB // 32)
            h.update(chunk)
            os.write(fd, chunk)
        os.fsync(fd)
    finally:
        os.close(fd)
    return h.hexdigest()


def stream_longest_wal(d, path, mib):
    """stream_file; returns (sha, the longest WAL in frames since the daemon
    started). The daemon records the length after every commit
    (claimfs_store_wal_frames_max), so no commit is missed however slowly a
    sampler would run on a busy machine."""
    sha = stream_file(path, mib)
    return sha, d.metric('claimfs_store_wal_frames_max') or 0


# What store_checkpoint_defer asks of the disk before it holds back: room for
# the longest deferred WAL (1.5 GiB) and its copy, plus the low-space margin.
STREAM_DEFER_ROOM = 2 * 1536 * MiB + 8 * MiB
# The WAL restarts past this many bytes of frames (STORE_WAL_RESTART_BYTES).
WAL_RESTART_BYTES = 32 * MiB


def wal_restart_frames(store):
    """STORE_WAL_RESTART_BYTES in frames of STORE's page size (8 KiB for a
    new store, 4 KiB for one made before)."""
    proc = subprocess.run(['sqlite3', store, 'PRAGMA page_size'], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=60, check=True)
    return WAL_RESTART_BYTES // int(proc.stdout.decode('ascii').strip())


def phase_stream_deferred(t, d):
    """A stream of writes is not checkpointed while it lasts: its bytes stay
    in the WAL (which grows past its usual restart length), and a SIGKILL
    right after its fsync loses none of them."""
    sv = os.statvfs(os.path.dirname(d.store))
    room = sv.f_bavail * sv.f_frsize >= STREAM_DEFER_ROOM
    d.start(['--stream-mib-per-s', '0'])
    d.create_claim('default', 'stream', storage='256Mi')
    path = os.path.join(d.claim_path('default', 'stream'), 'big')
    _, longest_off = stream_longest_wal(d, path, 160)
    restart_frames = wal_restart_frames(d.store)
    t.eq(d.metric('claimfs_store_checkpoint_deferred_total'), 0,
         '--stream-mib-per-s 0: the checkpointer never held back')
    t.ok(longest_off < 3 * restart_frames, '--stream-mib-per-s 0: the WAL kept restarting',
         'longest WAL seen: %d frames' % longest_off)
    d.stop()
    d.start(['--stream-mib-per-s', '1'])
    sha, longest = stream_longest_wal(d, path, 160)
    deferred = d.metric('claimfs_store_checkpoint_deferred_total')
    t.diag('first stream: longest WAL %d frames, %s deferred passes' % (longest, deferred))
    rc = d.kill()
    t.eq(rc, -signal.SIGKILL, 'SIGKILL right after the fsync of a 160 MiB stream')
    if room:
        t.ok(deferred and deferred > 0, 'the checkpointer held back while the stream lasted',
             'deferred passes: %r' % deferred)
        t.ok(longest >= 3 * restart_frames, 'the stream stayed in the WAL (no restart under it)',
             'longest WAL seen: %d frames' % longest)
    else:
        for what in ('the checkpointer held back while the stream lasted',
                     'the stream stayed in the WAL (no restart under it)'):
            t.skip(what, 'less than %d MiB free next to the store' % (STREAM_DEFER_ROOM // MiB))
    t.eq(integrity_check(d.store), 'ok', 'PRAGMA integrity_check is ok after SIGKILL mid-stream-WAL')
    start_or_bail(t, d, 'restart after SIGKILL with the stream in the WAL')
    t.eq(sha_of(path), sha, 'every byte of the stream is back')
    wait_for(lambda: d.metric('claimfs_store_checkpoint_pending') == 0, timeout=60, interval=0.05)
    t.eq(d.metric('claimfs_store_checkpoint_pending'), 0, 'no checkpoint is held back once writes stop')
    d.stop()
    # Once copied, a stream's WAL starts over from an empty file: its pages
    # are cold by then, and frames written over cold pages of the file make
    # the kernel read each page first. SQLite alone would keep 64 MiB of it
    # (journal_size_limit).
    d.start(['--stream-mib-per-s', '1'])
    _, longest = stream_longest_wal(d, path, 160)
    t.diag('second stream: longest WAL %d frames' % longest)
    wal = d.store + '-wal'
    wait_for(lambda: d.metric('claimfs_store_checkpoint_pending') == 0 and os.path.getsize(wal) < 64 * MiB,
             timeout=60, interval=0.05)
    if room:
        t.ok(longest >= 3 * restart_frames, 'a second stream stayed in the WAL',
             'longest WAL seen: %d frames' % longest)
        t.ok(os.path.getsize(wal) < 64 * MiB, "the stream's WAL was truncated once copied",
             'WAL file: %d bytes' % os.path.getsize(wal))
    else:
        for what in ('a second stream stayed in the WAL', "the stream's WAL was truncated once copied"):
            t.skip(what, 'less than %d MiB free next to the store' % (STREAM_DEFER_ROOM // MiB))
    d.stop()


def main():
    """Run the phases in order on one store."""
    t = Tap()
    if not shutil.which('sqlite3'):
        # It checks the store's integrity; scripts/install-deps.sh installs it.
        t.bail('the sqlite3 command-line shell is not installed (Debian: sqlite3)')
    workdir = tempfile.mkdtemp(prefix='claimfs-persist-')
    try:
        with Daemon(workdir) as d:
            start_or_bail(t, d, 'start the daemon')
            for ns, name, size in CLAIMS:
                d.create_claim(ns, name, storage=size)
            try:
                blob_sha = populate(d)
                t.ok(True, 'populate claims (fsynced files, dirs, links, xattrs, a closed-only file)')
                phase_sigkill(t, d, blob_sha)
                phase_sigterm(t, d)
                phase_second_daemon(t, d, workdir)
                phase_kill_during_writes(t, d)
                phase_sigint(t, d)
                phase_stream_deferred(t, d)
            except (OSError, AssertionError, ValueError, subprocess.SubprocessError):
                t.ok(False, 'no unexpected error', traceback.format_exc() + '\n' + d.log_tail())
            d.stop()
            reports = d.sanitizer_reports()
            t.ok(not reports, 'no sanitizer reports in the daemon log', '\n'.join(reports))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    t.done()


if __name__ == '__main__':
    main()
