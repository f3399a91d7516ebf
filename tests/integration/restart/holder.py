#!/usr/bin/env python3
"""holder.py DIR - a process that uses a claim the way a database does, for
test_restart.py: its working directory is DIR, it holds a file open, a file
mmap'd (MAP_SHARED) and a file unlinked while open, and keeps using all of
them: pwrite/fsync/pread, mmap stores + msync, stat, readdir, relative opens.

Prints "ok N" after iteration N is done and verified (its writes fsynced);
on the first failing call prints "err ERRNO WHAT" and exits 1. Stops at
SIGTERM after the iteration in progress, printing "done N".
"""

import mmap
import os
import signal
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
    mapped_fd = os.open('mapped', os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.pwrite(mapped_fd, b'\0' * SIZE, 0)
    os.fsync(mapped_fd)
    m = mmap.mmap(mapped_fd, SIZE)
    orphan = os.open('orphan', os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.pwrite(orphan, b'orphan data', 0)
    os.unlink('orphan')
    i = 0
    what = 'start'
    try:
        while not stop:
            i += 1
            what = 'pwrite held'
            os.pwrite(held, stamp(i), (i % 16) * 1024)
            what = 'fsync held'
            os.fsync(held)
            what = 'pread held'
            if os.pread(held, 8, (i % 16) * 1024) != stamp(i):
                raise OSError(0, 'held: read back something else')
            what = 'mmap store'
            m[(i % 4) * 4096:(i % 4) * 4096 + 8] = stamp(i)
            what = 'msync'
            m.flush()
            what = 'read mapped through a descriptor'
            if os.pread(mapped_fd, 8, (i % 4) * 4096) != stamp(i):
                raise OSError(0, 'mapped: the file does not hold what the mapping stored')
            what = 'stat relative'
            if os.stat('held').st_size != SIZE:
                raise OSError(0, 'held: wrong size')
            what = 'readdir cwd'
            names = set(os.listdir('.'))
            if not {'held', 'mapped'} <= names or 'orphan' in names:
                raise OSError(0, 'readdir: %s' % sorted(names))
            what = 'relative open'
            with open('rel%d' % (i % 3), 'w') as f:
                f.write(str(i))
            with open('rel%d' % (i % 3)) as f:
                if f.read() != str(i):
                    raise OSError(0, 'rel: read back something else')
            what = 'read orphan'
            if os.pread(orphan, 11, 0) != b'orphan data':
                raise OSError(0, 'orphan: read back something else')
            print('ok %d' % i, flush=True)
    except OSError as e:
        print('err %d %s: %s' % (e.errno or 0, what, e.strerror), flush=True)
        return 1
    print('done %d' % i, flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
