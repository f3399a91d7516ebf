#!/usr/bin/env python3
"""test_fs.py - the filesystem of a live claimfsd, checked with real syscalls.

Starts the daemon (lib/daemon.py), provisions claims over the HTTP API and
runs the `posix` conformance program ($CLAIMFS_POSIX) against them, relaying
each of its results as one of ours ("posix: ..."), then checks what the
namespace levels look like from outside: listings of the mount root and the
namespace directories, df and stat -f on claims, EXDEV across namespaces,
and claim deletion.

    test_fs.py          the default run (meson test fs-posix)
    test_fs.py --big    only the big-file run (meson test fs-big): files past
                        4 GiB, with a 256 MiB streamed file; CLAIMFS_TEST_BIG=1
                        streams 1.5 GiB instead (the long run)

Owns: one temporary work directory and the daemon in it; both are gone when
the program ends, whatever happened.
"""

import errno
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import Daemon, wait_for  # noqa: E402
from falloc import FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE, fallocate  # noqa: E402
from tap import Tap  # noqa: E402

MiB = 1024 * 1024
GiB = 1024 * MiB
POSIX_TIMEOUT = 240
BIG_TIMEOUT = 1500
# Bytes `posix --big` streams: the reduced run of every `make check`, and the
# long one behind CLAIMFS_TEST_BIG=1 (the sparse file is the same in both).
BIG_STREAM = 256 * MiB
BIG_STREAM_LONG = 3 * GiB // 2

RESULT_RE = re.compile(r'^(not )?ok \d+(?: - (.*?))?(?: # (SKIP|TODO)\b ?(.*))?$')


def relay_posix(t, args, label, timeout=POSIX_TIMEOUT):
    """Run posix ARGS and record each of its results as one of ours."""
    binary = os.environ.get('CLAIMFS_POSIX')
    if not binary or not os.access(binary, os.X_OK):
        t.ok(False, '%s: posix program available' % label,
             'CLAIMFS_POSIX=%r is not executable' % binary)
        return
    t.diag('running %s %s' % (binary, ' '.join(args)))
    try:
        proc = subprocess.run([binary, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b'').decode('utf-8', 'replace')
        t.ok(False, '%s: finished within %ds' % (label, timeout),
             'last output:\n' + '\n'.join(out.splitlines()[-20:]))
        return
    out = proc.stdout.decode('utf-8', 'replace')
    seen = failed = 0
    plan = None
    pending = None  # (good, desc) waiting for its diagnostics
    diags = []

    def flush():
        if pending is not None:
            t.ok(pending[0], '%s: %s' % (label, pending[1]), '\n'.join(diags) if diags else None)

    for line in out.splitlines():
        m = RESULT_RE.match(line)
        if m:
            flush()
            pending, diags = None, []
            seen += 1
            good = m.group(1) is None
            desc = m.group(2) or '(no description)'
            if m.group(3) == 'SKIP':
                t.skip('%s: %s' % (label, desc), m.group(4) or '')
            elif m.group(3) == 'TODO':
                t.todo_fail('%s: %s' % (label, desc), m.group(4) or '')
            else:
                failed += 0 if good else 1
                pending = (good, desc)
        elif line.startswith('# '):
            if pending is not None and not pending[0]:
                diags.append(line[2:])
            else:
                t.diag('%s %s' % (label, line[2:]))
        elif line.startswith('1..'):
            plan = int(line[3:].split()[0])
        elif line.startswith('Bail out!'):
            flush()
            pending = None
            t.ok(False, '%s: did not bail out' % label, line)
        elif line.strip():
            t.diag('%s: %s' % (label, line))
    flush()
    t.ok(plan == seen, '%s: plan matches the results' % label,
         'plan %r, %d results' % (plan, seen))
    t.ok(proc.returncode == (1 if failed else 0), '%s: exit status agrees with the results' % label,
         'exit status %d with %d failures' % (proc.returncode, failed))


def listing(path):
    """Sorted directory listing, or the OSError text."""
    try:
        return sorted(os.listdir(path))
    except OSError as e:
        return 'error: %s' % e


def df_line(path, *opts):
    """The data line of `df OPTS PATH` split in fields, or None."""
    df = shutil.which('df') or '/bin/df'
    proc = subprocess.run([df, *opts, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=30, check=False)
    lines = proc.stdout.decode().splitlines()
    if proc.returncode != 0 or len(lines) < 2:
        return None, proc.stderr.decode()
    return lines[1].split(), lines


def check_layout(t, d):
    """Mount root lists namespaces, namespace dirs list claims, df and stat -f show claims."""
    t.eq(listing(d.mount), ['default', 'team-b'], 'mount root lists one directory per namespace')
    t.eq(listing(os.path.join(d.mount, 'default')), ['general', 'other', 'small'],
         'namespace directory lists its claims')
    t.eq(listing(os.path.join(d.mount, 'team-b')), ['data'], 'second namespace lists its claim')
    t.eq(listing(d.claim_path('team-b', 'data')), [], 'a new claim is an empty directory')
    t.errno(lambda: os.rmdir(d.claim_path('team-b', 'data')), errno.EPERM,
            'root: rmdir of an empty claim dir -> EPERM')
    t.errno(lambda: os.rmdir(os.path.join(d.mount, 'team-b')), (errno.EPERM, errno.ENOTEMPTY),
            'root: rmdir of a namespace dir is refused')
    t.errno(lambda: os.rename(d.claim_path('team-b', 'data'), os.path.join(d.mount, 'team-b', 'x')),
            errno.EPERM, 'root: rename of an empty claim dir -> EPERM')
    t.ok(os.path.isdir(d.claim_path('team-b', 'data')), 'the claim dir is still there')

    fields, raw = df_line(d.claim_path('default', 'small'), '-h')
    t.ok(fields is not None and fields[1] == '1.0M', 'df -h on the 1Mi claim shows Size 1.0M', raw)
    fields, raw = df_line(d.claim_path('default', 'general'), '-B1')
    t.ok(fields is not None and fields[1] == str(64 * MiB),
         'df -B1 on the 64Mi claim shows 67108864 bytes', raw)
    fields, raw = df_line(d.claim_path('team-b', 'data'), '-B1')
    t.ok(fields is not None and fields[1] == str(16 * MiB),
         'df -B1 on the 16Mi claim shows 16777216', raw)
    fields, raw = df_line(d.claim_path('team-b', 'data'), '-i')
    t.ok(fields is not None and fields[1].isdigit() and int(fields[1]) > 0,
         'df -i on a claim shows an inode total', raw)

    proc = subprocess.run(['stat', '-f', '-c', '%b %S %f %a %c %d %l',
                           d.claim_path('default', 'small')],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, check=False)
    vals = proc.stdout.decode().split()
    ok = proc.returncode == 0 and len(vals) == 7
    t.ok(ok and int(vals[0]) * int(vals[1]) == MiB,
         'stat -f: blocks * fundamental block size = 1 MiB', proc.stdout.decode() + proc.stderr.decode())
    t.ok(ok and int(vals[2]) <= int(vals[0]) and int(vals[3]) <= int(vals[2]),
         'stat -f: available <= free <= total', proc.stdout.decode())
    t.ok(ok and int(vals[5]) <= int(vals[4]) and int(vals[4]) > 0,
         'stat -f: free inodes <= total inodes', proc.stdout.decode())
    t.ok(ok and vals[6] == '255', 'stat -f: maximum name length 255', proc.stdout.decode())


def check_long_claim_name(t, d):
    """A claim with the longest legal name (253 chars) is a working volume."""
    name = ('a' * 62 + '.') * 4 + 'b'
    name = name[:252] + 'z'
    t.eq(len(name), 253, 'the long claim name has 253 characters')
    try:
        d.create_claim('default', name, storage='2Mi')
    except AssertionError as e:
        t.ok(False, 'provision a claim with a 253-character name', str(e))
        return
    path = d.claim_path('default', name)
    data = os.urandom(100000)
    with open(os.path.join(path, 'f'), 'wb') as f:
        f.write(data)
    with open(os.path.join(path, 'f'), 'rb') as f:
        t.ok(f.read() == data, 'write and read back in the 253-character claim')
    fields, raw = df_line(path, '-B1')
    t.ok(fields is not None and fields[1] == str(2 * MiB), 'df on the 253-character claim shows 2 MiB',
         raw)
    os.unlink(os.path.join(path, 'f'))
    d.delete_claim('default', name)
    t.ok(not os.path.exists(path), 'the 253-character claim is gone after DELETE')


def check_top_statfs(t, d):
    """df and statvfs also answer at the mount root and namespace levels."""
    for path, what in ((d.mount, 'mount root'), (os.path.join(d.mount, 'default'), 'namespace dir')):
        fields, raw = df_line(path, '-B1')
        t.ok(fields is not None and fields[1].isdigit() and int(fields[1]) > 0,
             'df on the %s answers with a size' % what, raw)


def check_cross_namespace(t, d):
    """Links and renames between claims of different namespaces fail with EXDEV."""
    src = os.path.join(d.claim_path('default', 'other'), 'xns')
    dst = os.path.join(d.claim_path('team-b', 'data'), 'xns')
    with open(src, 'w', encoding='ascii') as f:
        f.write('cross')
    t.errno(lambda: os.link(src, dst), errno.EXDEV, 'link across namespaces -> EXDEV')
    t.errno(lambda: os.rename(src, dst), errno.EXDEV, 'rename across namespaces -> EXDEV')
    t.ok(os.path.exists(src) and not os.path.exists(dst), 'nothing moved after EXDEV')
    os.unlink(src)


def check_delete(t, d):
    """Deleting a claim removes its directory, even while it is in use."""
    path = d.claim_path('team-b', 'data')
    with open(os.path.join(path, 'gone'), 'w', encoding='ascii') as f:
        f.write('x' * 10000)
    os.mkdir(os.path.join(path, 'sub'))
    held = open(os.path.join(path, 'gone'), 'r+b')  # pylint: disable=consider-using-with
    # A child process sits in the claim (cwd) while it is deleted.
    sitter = subprocess.Popen(['sleep', '30'], cwd=os.path.join(path, 'sub'))
    try:
        d.delete_claim('team-b', 'data')
        t.ok(True, 'DELETE the claim team-b/data while a file is open and a cwd is inside')
    except AssertionError as e:
        t.ok(False, 'DELETE the claim team-b/data while a file is open and a cwd is inside', str(e))
    t.ok(not os.path.exists(path), 'claim directory is gone after DELETE')
    try:
        held.seek(0)
        held.read()
        held.write(b'y')
        held.flush()
    except OSError:
        pass  # either outcome is fine: the claim is gone; the daemon must survive it
    try:
        held.close()
    except OSError:
        pass
    sitter.kill()
    sitter.wait()
    try:
        os.listdir('/proc/self/cwd')
    except OSError:
        pass
    status, _, _ = d.request('GET', '/readyz')
    t.eq(status, 200, 'daemon still serving after deleting a claim in use')
    t.ok(d.proc.poll() is None, 'daemon process still running')
    ns = listing(os.path.join(d.mount, 'team-b'))
    t.ok(ns == [] or 'No such file' in str(ns),
         'namespace no longer lists the claim (empty or removed)', repr(ns))
    d.create_claim('team-b', 'data', storage='16Mi')
    t.eq(listing(path), [], 'a claim re-created under the same name starts empty')


def fuse_op_count(d, op):
    """How many FUSE requests of kind op the daemon has served (/metrics),
    once two reads 50 ms apart agree (at most 5 s): the daemon counts a
    request just after its reply, so the last request of a syscall that
    just returned may reach /metrics a moment later."""
    def read():
        return d.metric('claimfs_fuse_request_duration_seconds_count{op="%s"}' % op) or 0
    count = read()
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        time.sleep(0.05)
        again = read()
        if again == count:
            break
        count = again
    return count


def check_killpriv(t, d):
    """FUSE_HANDLE_KILLPRIV_V2 is in effect: writes to a file without set-id
    bits or capabilities do not each cost a security.capability lookup, and
    the daemon itself clears the set-id bits an unprivileged write drops."""
    path = os.path.join(d.claim_path('default', 'other'), 'killpriv')
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.pwrite(fd, b'x', 0)
        before = fuse_op_count(d, 'xattr'), fuse_op_count(d, 'write')
        for i in range(200):
            os.pwrite(fd, b'y', i)
        # A request is counted just after its reply: the last write's count
        # may land a moment after pwrite returned.
        wait_for(lambda: fuse_op_count(d, 'write') - before[1] >= 200, timeout=5.0, interval=0.05)
        after = fuse_op_count(d, 'xattr'), fuse_op_count(d, 'write')
    finally:
        os.close(fd)
    t.ok(after[1] - before[1] >= 200, '200 writes reached the daemon', repr((before, after)))
    t.ok(after[0] - before[0] <= 2, 'no getxattr(security.capability) per write (KILLPRIV_V2)',
         'xattr requests: %d' % (after[0] - before[0]))
    os.chmod(path, 0o6777)
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            wfd = os.open(path, os.O_WRONLY)
            os.pwrite(wfd, b'z', 0)
            os.close(wfd)
            os._exit(0)
        except OSError:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    t.eq(status, 0, 'nobody writes the 06777 file')
    t.eq(os.stat(path).st_mode & 0o7777, 0o777, 'its set-id bits are gone')
    os.unlink(path)


def claim_used_bytes(d, ns, name):
    """claimfs_volume_used_bytes of the claim ns/name (/metrics), or None."""
    body = d.request('GET', '/metrics')[2].decode()
    m = re.search(r'^claimfs_volume_used_bytes\{[^}]*namespace="%s",claim="%s"\} (\d+)$'
                  % (re.escape(ns), re.escape(name)), body, re.M)
    return int(m.group(1)) if m else None


def os_error(fn):
    """None if fn() returns, the text of the OSError it raises otherwise."""
    try:
        fn()
        return None
    except OSError as e:
        return str(e)


def check_punch_frees_claim(t, d):
    """fallocate(PUNCH_HOLE) gives the space back to the claim: its used
    bytes (/metrics) and df's Used go down, the size stays; ZERO_RANGE
    takes it again."""
    path = os.path.join(d.claim_path('default', 'other'), 'punched')
    size = 4 * MiB
    with open(path, 'wb') as f:
        f.write(b'p' * size)
    used = [claim_used_bytes(d, 'default', 'other')]
    df_used = [os.statvfs(path)]
    fd = os.open(path, os.O_RDWR)
    try:
        err = os_error(lambda: fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, size - 8192))
        t.ok(err is None, 'fallocate(PUNCH_HOLE | KEEP_SIZE) of all but the first and last 4 KiB', err)
        used.append(claim_used_bytes(d, 'default', 'other'))
        df_used.append(os.statvfs(path))
        t.eq(os.fstat(fd).st_size, size, 'the punch keeps the size')
        t.eq(os.pread(fd, 4096, size - 4096), b'p' * 4096, 'bytes past the hole are kept')
        t.eq(os.pread(fd, 4096, size // 2), bytes(4096), 'the hole reads zeros')
        err = os_error(lambda: fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, size))
        t.ok(err is None, 'fallocate(ZERO_RANGE | KEEP_SIZE) of the whole file', err)
        used.append(claim_used_bytes(d, 'default', 'other'))
        t.eq(os.pread(fd, 4096, size - 4096), bytes(4096), 'the zeroed range reads zeros')
    finally:
        os.close(fd)
    t.ok(None not in used and used[0] - used[1] >= size - 64 * 1024,
         "the punch lowers the claim's used bytes by about 4 MiB", repr(used))
    freed = (df_used[1].f_bfree - df_used[0].f_bfree) * df_used[1].f_frsize
    t.ok(freed >= size - 64 * 1024, "df shows the punched space free in the claim", 'freed %d' % freed)
    t.ok(None not in used and used[2] - used[1] >= size - 64 * 1024,
         'ZERO_RANGE allocates the range again', repr(used))
    os.unlink(path)
    # A big file is freed in chunks after the unlink returns.
    freed_all = wait_for(lambda: claim_used_bytes(d, 'default', 'other') == used[0] - size, timeout=10.0)
    t.ok(freed_all, 'unlinking the file frees what is left',
         repr((used, claim_used_bytes(d, 'default', 'other'))))


SEEK_BLOCK = 16 * 1024  # claimfs answers SEEK_DATA/SEEK_HOLE per 16 KiB block


def seek_answers(path):
    """lseek(SEEK_DATA) and lseek(SEEK_HOLE) from every 4 KiB offset up to
    past the end of PATH: a list of (whence, offset, position or errno name)."""
    answers = []
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        for whence, name in ((os.SEEK_DATA, 'SEEK_DATA'), (os.SEEK_HOLE, 'SEEK_HOLE')):
            for off in range(0, size + 8192, 4096):
                try:
                    answers.append((name, off, os.lseek(fd, off, whence)))
                except OSError as e:
                    answers.append((name, off, errno.errorcode.get(e.errno, e.errno)))
    finally:
        os.close(fd)
    return answers


def seek_layout(path):
    """Data in blocks 0-1, 5, 9 and 11, a punched block 10, a hole to the
    end of 20 blocks: whole blocks, so tmpfs's 4 KiB pages give the same
    answers as claimfs's 16 KiB blocks."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.pwrite(fd, b'a' * 2 * SEEK_BLOCK, 0)
        os.pwrite(fd, b'b' * SEEK_BLOCK, 5 * SEEK_BLOCK)
        os.pwrite(fd, b'c' * 3 * SEEK_BLOCK, 9 * SEEK_BLOCK)
        fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 10 * SEEK_BLOCK, SEEK_BLOCK)
        os.ftruncate(fd, 20 * SEEK_BLOCK)
        os.fsync(fd)
    finally:
        os.close(fd)


def check_seek_data_hole(t, d):
    """lseek(SEEK_DATA/SEEK_HOLE) finds the holes a file has (written
    blocks, a punched block, a hole to the end) with the answers tmpfs
    gives for the same file, ENXIO at the end included."""
    ref = tempfile.mkdtemp(prefix='claimfs-seek-ref-')
    mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', ref]).returncode == 0
    try:
        if not mounted:
            t.ok(False, 'mount a tmpfs as the SEEK_DATA/SEEK_HOLE reference')
            return
        ours = os.path.join(d.claim_path('default', 'other'), 'seek')
        theirs = os.path.join(ref, 'seek')
        seek_layout(ours)
        seek_layout(theirs)
        got, want = seek_answers(ours), seek_answers(theirs)
        diff = [(g, w) for g, w in zip(got, want) if g != w]
        t.ok(len(got) == len(want) and not diff,
             'SEEK_DATA and SEEK_HOLE from every 4 KiB offset answer as on tmpfs',
             repr(diff[:6]))
        fd = os.open(ours, os.O_RDONLY)
        try:
            t.eq(os.lseek(fd, 2 * SEEK_BLOCK, os.SEEK_DATA), 5 * SEEK_BLOCK,
                 'SEEK_DATA skips the hole after the first two blocks')
            t.eq(os.lseek(fd, 9 * SEEK_BLOCK, os.SEEK_HOLE), 10 * SEEK_BLOCK,
                 'SEEK_HOLE finds the punched block')
            t.eq(os.lseek(fd, 11 * SEEK_BLOCK, os.SEEK_HOLE), 12 * SEEK_BLOCK,
                 'SEEK_HOLE finds the hole that runs to the end')
        finally:
            os.close(fd)
        os.unlink(ours)
    finally:
        if mounted:
            subprocess.run(['umount', ref])
        os.rmdir(ref)


def check_page_cache_kept(t, d):
    """A file's pages stay cached across writes and reopens: the kernel does
    not drop them because the mtime it refreshes changed (the daemon turns
    AUTO_INVAL_DATA off), and what is read back is what was written."""
    path = os.path.join(d.claim_path('default', 'other'), 'cached')
    with open(path, 'wb') as f:
        f.write(b'a' * 4096)
    with open(path, 'rb') as f:
        f.read()
    before = fuse_op_count(d, 'read')
    seen = []
    for i in range(20):
        fd = os.open(path, os.O_RDWR)
        try:
            seen.append(os.pread(fd, 8192, 0))
            os.pwrite(fd, b'%d' % (i % 10), i)
        finally:
            os.close(fd)
    after = fuse_op_count(d, 'read')
    expect = [b''.join(b'%d' % (j % 10) for j in range(i)) + b'a' * (4096 - i) for i in range(20)]
    t.ok(seen == expect, 'every read sees the writes before it')
    t.ok(after - before == 0, 'reads after writes come from the page cache',
         'read requests: %d' % (after - before))
    os.unlink(path)


def check_readonly_close(t, d):
    """Closing a read-only handle costs no FLUSH request (nothing to commit);
    closing a handle that wrote does, and its data is there."""
    path = os.path.join(d.claim_path('default', 'other'), 'ro-close')
    with open(path, 'wb') as f:
        f.write(b'kept')
    before = fuse_op_count(d, 'flush')
    for _ in range(10):
        with open(path, 'rb') as f:
            data = f.read()
    middle = fuse_op_count(d, 'flush')
    with open(path, 'r+b') as f:
        f.write(b'K')
    after = fuse_op_count(d, 'flush')
    t.eq(data, b'kept', 'read-only opens read the file')
    t.eq(middle - before, 0, 'closing read-only handles sends no FLUSH')
    t.ok(after - middle >= 1, 'closing a handle that wrote sends FLUSH')
    with open(path, 'rb') as f:
        t.eq(f.read(), b'Kept', 'the write is there')
    os.unlink(path)


def run_default(t, d):
    """The default run: provision, posix on each claim kind, layout checks."""
    claims = [('default', 'general', '64Mi'), ('default', 'small', '1Mi'),
              ('default', 'other', '16Mi'), ('team-b', 'data', '16Mi')]
    for ns, name, size in claims:
        try:
            body = d.create_claim(ns, name, storage=size)
            t.ok(body.get('status', {}).get('phase') == 'Bound',
                 'claim %s/%s (%s) is Bound' % (ns, name, size), repr(body.get('status')))
        except AssertionError as e:
            t.bail(str(e))
        t.ok(os.path.isdir(d.claim_path(ns, name)), 'claim directory %s/%s exists' % (ns, name))

    check_layout(t, d)
    relay_posix(t, [d.claim_path('default', 'general'), d.claim_path('default', 'other'),
                    str(64 * MiB)], 'posix general')
    relay_posix(t, ['--enospc', d.claim_path('default', 'small'), '-', str(MiB)], 'posix enospc')
    relay_posix(t, [d.claim_path('team-b', 'data'), d.claim_path('default', 'general'),
                    str(16 * MiB)], 'posix second namespace')
    check_cross_namespace(t, d)
    check_long_claim_name(t, d)
    check_top_statfs(t, d)
    check_killpriv(t, d)
    check_punch_frees_claim(t, d)
    check_seek_data_hole(t, d)
    check_page_cache_kept(t, d)
    check_readonly_close(t, d)
    check_delete(t, d)
    status, _, _ = d.request('GET', '/readyz')
    t.eq(status, 200, 'daemon still ready after the conformance runs')
    for ns, name, _ in claims:
        t.eq(listing(d.claim_path(ns, name)), [], 'posix left claim %s/%s empty' % (ns, name))


def run_big(t, d):
    """Files past 4 GiB in a 5Gi claim; the long run streams 1.5 GiB into it."""
    stream = BIG_STREAM_LONG if os.environ.get('CLAIMFS_TEST_BIG') == '1' else BIG_STREAM
    t.diag('streaming %d MiB%s' % (stream // MiB, '' if stream == BIG_STREAM_LONG
                                   else '; CLAIMFS_TEST_BIG=1 streams %d MiB' % (BIG_STREAM_LONG // MiB)))
    d.create_claim('default', 'huge', storage='5Gi')
    relay_posix(t, ['--big=%d' % stream, d.claim_path('default', 'huge'), '-', str(5 * GiB)], 'posix big',
                timeout=BIG_TIMEOUT)
    status, _, _ = d.request('GET', '/readyz')
    t.eq(status, 200, 'daemon still ready after the big-file run')


def main():
    """Run the selected checks inside a fresh work directory."""
    big = '--big' in sys.argv[1:]
    t = Tap()
    workdir = tempfile.mkdtemp(prefix='claimfs-fs-')
    try:
        with Daemon(workdir) as d:
            try:
                d.start()
            except RuntimeError as e:
                t.bail(str(e).replace('\n', ' | '))
            t.ok(d.mounted(), 'the mount is live once /readyz answers 200')
            try:
                if big:
                    run_big(t, d)
                else:
                    run_default(t, d)
            except (OSError, AssertionError, ValueError, subprocess.SubprocessError):
                t.ok(False, 'no unexpected error', traceback.format_exc() + '\n' + d.log_tail())
            rc = d.stop()
            t.eq(rc, 0, 'daemon exits 0 on SIGTERM')
            t.ok(not d.mounted(), 'mount is gone after SIGTERM')
            if rc != 0:
                t.diag(d.log_tail())
            reports = d.sanitizer_reports()
            t.ok(not reports, 'no sanitizer reports in the daemon log', '\n'.join(reports))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    t.done()


if __name__ == '__main__':
    main()
