#!/usr/bin/env python3
"""real_child.py - the timed loops of the `real` group that are not programs
of their own, each in a fresh process so the driver's state stays out of
the clock (stdlib only). Prints one JSON line; exits 1 when its check fails.

  real_child.py sqlite DB --transactions N
      SQLite in WAL mode with synchronous=FULL: N one-row INSERT
      transactions (autocommit), timed; then the database is re-opened and
      checked (row count, sum of the rows, integrity_check). Reports the
      bytes this process wrote (wchar of /proc/self/io: the WAL frames and
      checkpoints, it writes nothing else).
  real_child.py coldread FILE --size S --reads N --seed K
      N random 8 KiB preads of FILE (written by `bench-randio prepare`,
      whose 4 KiB blocks carry a magic word, their index and generation 0),
      each in a different 64 KiB region of the file, POSIX_FADV_RANDOM: no
      read finds its data brought in by an earlier one, whatever block size
      a target stores (claimfs keeps 64 KiB blocks, ext4 4 KiB pages), so
      every read costs a disk read on every target. Every block read is
      checked, outside the clock.

Owns: nothing beyond the files named on its command line.
"""

import argparse
import json
import os
import random
import sqlite3
import struct
import sys
import time

RANDIO_MAGIC = 0x636c61696d667342  # bench/randio.c: "claimfsB"
RANDIO_BLOCK = 4096
READ_SIZE = 8192
REGION = 65536


def wchar():
    with open('/proc/self/io', encoding='ascii') as f:
        for line in f:
            if line.startswith('wchar:'):
                return int(line.split()[1])
    return 0


def run_sqlite(args):
    for suffix in ('', '-wal', '-shm'):
        if os.path.exists(args.path + suffix):
            os.unlink(args.path + suffix)
    written0 = wchar()
    db = sqlite3.connect(args.path, isolation_level=None)
    mode = db.execute('PRAGMA journal_mode=WAL').fetchone()[0]
    db.execute('PRAGMA synchronous=FULL')
    sync = db.execute('PRAGMA synchronous').fetchone()[0]
    if mode != 'wal' or sync != 2:
        sys.exit('sqlite: journal_mode %s, synchronous %s (wanted wal, 2)' % (mode, sync))
    db.execute('CREATE TABLE visit (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, note TEXT)')
    n = args.transactions
    t0 = time.monotonic()
    for i in range(n):
        db.execute('INSERT INTO visit (n, note) VALUES (?, ?)', (i, 'visit %d' % i))
    seconds = time.monotonic() - t0
    db.close()
    written = wchar() - written0
    db = sqlite3.connect(args.path)
    count, total = db.execute('SELECT count(*), sum(n) FROM visit').fetchone()
    check = db.execute('PRAGMA integrity_check').fetchone()[0]
    db.close()
    if count != n or total != n * (n - 1) // 2 or check != 'ok':
        sys.exit('sqlite: %s rows (wanted %d), sum %s (wanted %d), integrity_check %s'
                 % (count, n, total, n * (n - 1) // 2, check))
    print(json.dumps({'seconds': seconds, 'tx_per_s': n / seconds, 'written_bytes': written}))


def check_block(buf, offset, path):
    for half in range(READ_SIZE // RANDIO_BLOCK):
        magic, index, generation = struct.unpack_from('<QQQ', buf, half * RANDIO_BLOCK)
        want = offset // RANDIO_BLOCK + half
        if magic != RANDIO_MAGIC or index != want or generation != 0:
            sys.exit('coldread %s: block %d holds magic %#x index %d generation %d'
                     % (path, want, magic, index, generation))


def run_coldread(args):
    regions = args.size // REGION
    if args.reads > regions:
        sys.exit('coldread: %d reads need %d 64 KiB regions; the file has %d'
                 % (args.reads, args.reads, regions))
    rng = random.Random(args.seed)
    offsets = [region * REGION + rng.randrange(REGION // READ_SIZE) * READ_SIZE
               for region in rng.sample(range(regions), args.reads)]
    fd = os.open(args.path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
        latencies, bufs = [], []
        for off in offsets:
            t0 = time.perf_counter_ns()
            buf = os.pread(fd, READ_SIZE, off)
            latencies.append(time.perf_counter_ns() - t0)
            bufs.append(buf)
    finally:
        os.close(fd)
    for off, buf in zip(offsets, bufs):
        if len(buf) != READ_SIZE:
            sys.exit('coldread %s: short read of %d bytes at %d' % (args.path, len(buf), off))
        check_block(buf, off, args.path)
    seconds = sum(latencies) / 1e9
    latencies.sort()
    print(json.dumps({'seconds': seconds, 'reads_per_s': args.reads / seconds,
                      'latency_p50_us': latencies[len(latencies) // 2] / 1000.0,
                      'latency_p99_us': latencies[len(latencies) * 99 // 100] / 1000.0}))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    sub = p.add_subparsers(dest='command', required=True)
    s = sub.add_parser('sqlite')
    s.add_argument('path')
    s.add_argument('--transactions', type=int, required=True)
    c = sub.add_parser('coldread')
    c.add_argument('path')
    c.add_argument('--size', type=int, required=True)
    c.add_argument('--reads', type=int, required=True)
    c.add_argument('--seed', type=int, default=1)
    args = p.parse_args(argv)
    {'sqlite': run_sqlite, 'coldread': run_coldread}[args.command](args)
    return 0


if __name__ == '__main__':
    sys.dont_write_bytecode = True
    sys.exit(main(sys.argv[1:]))
