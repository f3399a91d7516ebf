#!/usr/bin/env python3
"""holder.py DIR - a process that uses a claim the way a database does, for
test_restart.py: its working directory is DIR, it holds a file open, a file
mmap'd (MAP_SHARED) and a file unlinked while open, and keeps using all of
them: pwrite/pread, mmap stores, stat, readdir, and every iteration creates
files, a symlink and a directory, sets an xattr, renames over older names
and unlinks and removes the previous ones -- never calling fsync or msync,
so a worker killed at any point leaves acknowledged changes uncommitted,
which the next worker must replay (no EIO, nothing missing).

Prints "ok N" after iteration N is done and verified; "eio N WHAT" when a
durability point (close) reported EIO, claimfs' report of acknowledged
changes a dead worker never committed, after which it redoes the
iteration; on any other failure (or a second EIO) "err ERRNO WHAT", exit 1.
Stops at SIGTERM after the iteration in progress (msync-ing its mapping),
printing "done N".
"""

import errno
import mmap
import os
import signal
import stat
import sys

SIZE = 16384
stop = False


def on_term(signum, frame):
    global stop
    stop = True


def stamp(i):
    return b'%08d' % i


def main():
    signal.signal(signal.SIGTERM, on_term)
    os.chdir(sys.argv[1])
    held = os.open('held', os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.pwrite(held, b'\0' * SIZE, 0)
    os.fsync(held)
    mapped_fd = os.open('mapped', os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.pwrite(mapped_fd, b'\0' * SIZE, 0)
    os.fsync(mapped_fd)
    m = mmap.mmap(mapped_fd, SIZE)
    orphan = os.open('orphan', os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.pwrite(orphan, b'orphan data', 0)
    os.fsync(orphan)
    os.unlink('orphan')
    i = 0
    try:
        while not stop:
            i += 1
            # EIO at a durability point (fsync, msync, close) is how claimfs
            # reports acknowledged changes a dead worker did not commit
            # (README, Restart model): said, then the iteration is redone.
            # Anything else, or a second EIO, is a failure.
            for attempt in (1, 2):
                try:
                    iteration(i, held, mapped_fd, m, orphan)
                    break
                except Reported as e:
                    if attempt == 2:
                        raise e.error
                    print('eio %d %s' % (i, e.what), flush=True)
            print('ok %d' % i, flush=True)
    except OSError as e:
        print('err %d %s: %s' % (e.errno or 0, getattr(e, 'what', '?'), e.strerror), flush=True)
        return 1
    m.flush()
    print('done %d' % i, flush=True)
    return 0


class Reported(Exception):
    """EIO from a durability point."""

    def __init__(self, what, error):
        super().__init__(what)
        self.what = what
        self.error = error


def step(what, call, durable=False):
    """CALL(); an OSError says WHAT failed; EIO at a durability point is Reported."""
    try:
        return call()
    except OSError as e:
        if durable and e.errno == errno.EIO:
            raise Reported(what, e)
        e.what = what
        raise


def check(what, cond, detail):
    if not cond:
        e = OSError(0, detail)
        e.what = what
        raise e


def names_change(i):
    """Creations, an xattr, renames over older names, unlinks, a rmdir."""
    step('mknod', lambda: os.mknod('f%d' % i, 0o644 | stat.S_IFREG))
    step('setxattr', lambda: os.setxattr('f%d' % i, 'user.stamp', stamp(i)))
    step('rename over', lambda: os.rename('f%d' % i, 'cur'))
    step('symlink', lambda: os.symlink(stamp(i).decode(), 'ln.new'))
    step('rename symlink over', lambda: os.rename('ln.new', 'ln'))
    step('mkdir', lambda: os.mkdir('d%d' % i))
    step('mknod in dir', lambda: os.mknod('d%d/x' % i, 0o600 | stat.S_IFREG))
    if i > 1:
        step('unlink', lambda: os.unlink('d%d/x' % (i - 1)))
        step('rmdir', lambda: os.rmdir('d%d' % (i - 1)))


def iteration(i, held, mapped_fd, m, orphan):
    """One round over every kind of use; raises OSError (with .what) or Reported."""
    off = (i % 16) * 1024
    step('pwrite held', lambda: os.pwrite(held, stamp(i), off))
    check('pread held', step('pread held', lambda: os.pread(held, 8, off)) == stamp(i),
          'held: read back something else')
    moff = (i % 4) * 4096
    m[moff:moff + 8] = stamp(i)
    check('read mapped', step('read mapped', lambda: os.pread(mapped_fd, 8, moff)) == stamp(i),
          'mapped: the file does not hold what the mapping stored')
    check('stat relative', step('stat relative', lambda: os.stat('held')).st_size == SIZE, 'held: wrong size')
    names_change(i)
    names = set(step('readdir cwd', lambda: os.listdir('.')))
    want = {'held', 'mapped', 'cur', 'ln', 'd%d' % i}
    gone = {'orphan', 'f%d' % i, 'ln.new', 'd%d' % (i - 1)}
    check('readdir cwd', want <= names and not gone & names, 'readdir: %s' % sorted(names))
    check('xattr', step('getxattr', lambda: os.getxattr('cur', 'user.stamp')) == stamp(i),
          'cur: another stamp')
    check('readlink', step('readlink', lambda: os.readlink('ln')) == stamp(i).decode(), 'ln: another target')
    check('read orphan', step('read orphan', lambda: os.pread(orphan, 11, 0)) == b'orphan data',
          'orphan: read back something else')


if __name__ == '__main__':
    sys.exit(main())
