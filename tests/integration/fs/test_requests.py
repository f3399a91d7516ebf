#!/usr/bin/env python3
"""test_requests.py - FUSE requests per write, and what /metrics calls an error.

The kernel asks for security.capability (GETXATTR) before the first write
after each attribute refresh of a file (fs_op_getxattr in src/fs/fs.c says
why). Checked here through /metrics, which counts that probe under
op="getxattr", apart from the other xattr requests:
  - a stream of writes costs one probe, not one per write;
  - writes with an fstat(2) between them: printed (requests per write), as
    the kernel decides that one;
  - "no such attribute" answers (the probe, a missing user.* name) are not
    errors in /metrics, while a real failure (ERANGE) still is, and the
    caller still gets ENODATA.
The killpriv behaviour itself (set-id bits and capabilities dropped on
write) is fs-posix's.
"""

import ctypes
import errno
import os
import re
import sys
import time

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import run_daemon_checks  # noqa: E402
from tap import Tap  # noqa: E402

WRITES = 256
SERIES = re.compile(r'^claimfs_fuse_request_(duration_seconds_count|errors_total)\{op="(\w+)"\} (\d+)$', re.M)


def fuse_counts(d):
    """{('count'|'errors', op): value} from /metrics."""
    body = d.request('GET', '/metrics')[2].decode()
    return {('count' if m.group(1).startswith('duration') else 'errors', m.group(2)): int(m.group(3))
            for m in SERIES.finditer(body)}


def settled_counts(d):
    """fuse_counts once two reads 50 ms apart agree (at most 5 s): the daemon
    counts a request just after its reply, so the last request of an action
    may land in /metrics a moment after the syscall returned."""
    counts = fuse_counts(d)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        time.sleep(0.05)
        again = fuse_counts(d)
        if again == counts:
            break
        counts = again
    return counts


def requests_during(d, action):
    """Run ACTION; return the FUSE requests (and errors) it caused, by op."""
    before = settled_counts(d)
    action()
    after = settled_counts(d)
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


def write_blocks(path, fstat_between):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for i in range(WRITES):
            os.pwrite(fd, b'r' * 4096, i * 4096)
            if fstat_between:
                os.fstat(fd)
    finally:
        os.close(fd)


def per_write(delta):
    total = sum(v for (kind, _), v in delta.items() if kind == 'count')
    return '%.2f requests per write (%s)' % (total / WRITES, ', '.join(
        '%s %d' % (op, v) for (kind, op), v in sorted(delta.items()) if kind == 'count'))


def check_requests(t, d):
    d.create_claim('default', 'req', storage='64Mi')
    claim = d.claim_path('default', 'req')
    plain = requests_during(d, lambda: write_blocks(os.path.join(claim, 'plain'), False))
    t.eq(plain.get(('count', 'write')), WRITES, 'every write(2) is one WRITE request')
    t.ok(plain.get(('count', 'getxattr'), 0) <= 2,
         'a stream of writes costs one security.capability probe, not one per write (%d)' %
         plain.get(('count', 'getxattr'), 0))
    t.diag('plain writes: ' + per_write(plain))
    stat = requests_during(d, lambda: write_blocks(os.path.join(claim, 'stat'), True))
    t.diag('writes with fstat(2) between: ' + per_write(stat))
    t.ok(stat.get(('count', 'getxattr'), 0) > 0, 'the probe after a refresh is counted under getxattr')
    t.eq(plain.get(('errors', 'getxattr'), 0) + stat.get(('errors', 'getxattr'), 0), 0,
         'the probes\' "no such attribute" answers are not errors in /metrics')
    path = os.path.join(claim, 'plain')
    missing = requests_during(d, lambda: t.errno(lambda: os.getxattr(path, 'user.missing'),
                                                  errno.ENODATA, 'a missing user.* name is ENODATA'))
    t.eq(missing.get(('errors', 'getxattr'), 0), 0, '... and not an error in /metrics')
    os.setxattr(path, 'user.present', b'0123456789')
    t.eq(os.getxattr(path, 'user.present'), b'0123456789', 'a present name reads back')

    def too_small():
        # os.getxattr sizes its buffer itself: ask through the C call.
        libc = ctypes.CDLL(None, use_errno=True)
        buf = ctypes.create_string_buffer(4)
        r = libc.getxattr(path.encode(), b'user.present', buf, ctypes.c_size_t(4))
        t.ok(r < 0 and ctypes.get_errno() == errno.ERANGE, 'a buffer too small is ERANGE')
    failed = requests_during(d, too_small)
    t.eq(failed.get(('errors', 'getxattr'), 0), 1, 'a real getxattr failure is still an error in /metrics')


def main():
    t = Tap()
    run_daemon_checks(t, 'claimfs-requests-', lambda d: check_requests(t, d))
    t.done()


if __name__ == '__main__':
    main()
