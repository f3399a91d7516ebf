#!/usr/bin/env python3
"""test_space.py - deleted data gives the disk back (issue 18).

Background vacuum: 200 MiB written into a claim, 16 MiB of live data
written after it (so the vacuum must move pages, not only cut the end
off), the 200 MiB deleted. The store file plus its WAL must come within
10% + 64 MiB of the live data within a minute, while a writer keeps
writing 4 KiB blocks (fsync every 16th) into the same claim: its longest
and 99th-percentile latencies are printed, and writes must keep completing.
The live data must survive. The same again with the daemon SIGKILLed in
the middle of the vacuum: `claimfsd --check` passes, nothing closed before
the kill is lost, and the restarted daemon finishes shrinking.

--compact: refused (exit 2) while the daemon holds the store; on a store
made before the vacuum existed (auto_vacuum turned off with Python's
sqlite3, as an old claimfsd left it) the daemon says it cannot shrink and
does not, and `claimfsd --compact` shrinks it, keeps every byte and turns
the background vacuum on.

Owns: one temporary work directory and the daemon in it; both are gone when
the program ends, whatever happened.
"""

import hashlib
import os
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import run_daemon_checks, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

MiB = 1024 * 1024
BIG = 200 * MiB
LIVE = 16 * MiB
SHRINK_TIMEOUT = 60.0
# The longest a single write may wait while space is given back, and the
# 99th percentile. The slices hold the store lock for 2 ms; on a busy 2-core
# machine a single fsync has taken 0.5 s with no vacuum at all and 1.9 s
# with it, so the longest write only catches gross stalls (vacuuming 200 MiB
# under one hold of the lock takes seconds), the percentile catches slices
# that grow long (it was 3-8 ms here).
WRITE_LATENCY_MAX = 5.0
WRITE_LATENCY_P99 = 0.05


def store_bytes(d):
    """Bytes of the store file and its WAL."""
    total = 0
    for path in (d.store, d.store + '-wal'):
        try:
            total += os.stat(path).st_size
        except FileNotFoundError:
            pass
    return total


def bound(live):
    """What the store may hold for LIVE bytes of data: 10% + 64 MiB over it."""
    return live * 11 // 10 + 64 * MiB


def write_file(path, size, seed):
    """Write SIZE bytes of a repeatable pattern to PATH; return its sha256."""
    block = hashlib.sha256(str(seed).encode()).digest() * (MiB // 32)
    digest = hashlib.sha256()
    with open(path, 'wb') as f:
        for _ in range(size // MiB):
            f.write(block)
            digest.update(block)
    return digest.hexdigest()


def sha256_of(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


class Writer(threading.Thread):
    """Writes 4 KiB blocks (fsync every 16th) round a 4 MiB file, timing each call."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.latencies = []
        self.error = None
        self.stop = threading.Event()

    def run(self):
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                block, i = b'w' * 4096, 0
                while not self.stop.is_set():
                    start = time.monotonic()
                    os.pwrite(fd, block, (i % 1024) * 4096)
                    if i % 16 == 15:
                        os.fsync(fd)
                    self.latencies.append(time.monotonic() - start)
                    i += 1
            finally:
                os.close(fd)
        except OSError as e:
            self.error = e


def claimfsd(*args):
    return subprocess.run([os.environ.get('CLAIMFSD', 'claimfsd'), *args], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=120, check=False)


def check_background(t, d):
    """Delete 200 MiB under a writer; the store shrinks within the bound in time."""
    d.create_claim('default', 'space', storage='1Gi')
    claim = d.claim_path('default', 'space')
    t.eq(d.metric('claimfs_store_incremental_vacuum'), 1, 'a new store gives space back')
    write_file(os.path.join(claim, 'big'), BIG, 1)
    live_sum = write_file(os.path.join(claim, 'live'), LIVE, 2)
    grown = store_bytes(d)
    t.ok(grown >= BIG, 'the store grew with the data (%d MiB)' % (grown // MiB))
    writer = Writer(os.path.join(claim, 'writer'))
    writer.start()
    started = time.monotonic()
    os.unlink(os.path.join(claim, 'big'))
    live = LIVE + 4 * MiB  # the writer's file
    shrunk = wait_for(lambda: store_bytes(d) <= bound(live), timeout=SHRINK_TIMEOUT, interval=0.2)
    elapsed = time.monotonic() - started
    during = len(writer.latencies)
    writer.stop.set()
    writer.join(30)
    t.ok(shrunk, 'store and WAL within 10%% + 64 MiB of the live data within %ds (%d MiB, '
         'bound %d MiB)' % (SHRINK_TIMEOUT, store_bytes(d) // MiB, bound(live) // MiB))
    t.diag('shrank from %d MiB to %d MiB in %.1f s' % (grown // MiB, store_bytes(d) // MiB, elapsed))
    lat = sorted(writer.latencies[:during])
    t.ok(writer.error is None and during > 0, 'the writer kept writing while space was given back '
         '(%d writes)' % during, repr(writer.error))
    if lat:
        p99 = lat[min(len(lat) - 1, len(lat) * 99 // 100)]
        t.diag('writes during reclamation: %d, longest %.1f ms, p99 %.2f ms' %
               (len(lat), lat[-1] * 1000, p99 * 1000))
        t.ok(lat[-1] < WRITE_LATENCY_MAX, 'no write waited %.0f s or more (longest %.1f ms)' %
             (WRITE_LATENCY_MAX, lat[-1] * 1000))
        t.ok(p99 < WRITE_LATENCY_P99, '99%% of the writes took less than %.0f ms (%.2f ms)' %
             (WRITE_LATENCY_P99 * 1000, p99 * 1000))
    vacuumed = d.metric('claimfs_store_vacuumed_bytes_total') or 0
    t.ok(vacuumed >= BIG // 2, '/metrics counts the bytes given back (%d MiB)' % (vacuumed // MiB))
    t.eq(sha256_of(os.path.join(claim, 'live')), live_sum, 'the live data is intact')
    return live_sum


def check_kill_mid_vacuum(t, d, live_sum):
    """SIGKILL while the vacuum is halfway: nothing committed is lost, and the
    restarted daemon finishes the job."""
    claim = d.claim_path('default', 'space')
    write_file(os.path.join(claim, 'big3'), BIG, 3)
    kept_sum = write_file(os.path.join(claim, 'kept'), MiB, 4)
    os.sync()
    base = d.metric('claimfs_store_vacuumed_bytes_total') or 0
    os.unlink(os.path.join(claim, 'big3'))
    halfway = wait_for(lambda: (d.metric('claimfs_store_vacuumed_bytes_total') or 0) > base,
                       timeout=SHRINK_TIMEOUT, interval=0.05)
    free = (d.metric('claimfs_store_free_pages') or 0) * d.metric('claimfs_store_page_size_bytes')
    d.kill()
    t.ok(halfway and free > 16 * MiB,
         'the daemon was killed while the vacuum was under way (%d MiB still free)' % (free // MiB))
    out = claimfsd('--check', '--store', d.store)
    t.eq(out.returncode, 0, 'claimfsd --check passes after a kill in the middle of a vacuum')
    d.start()
    t.eq(sha256_of(os.path.join(claim, 'live')), live_sum, 'the live data is intact after the kill')
    t.eq(sha256_of(os.path.join(claim, 'kept')), kept_sum, 'data closed before the kill is intact')
    live = LIVE + 5 * MiB
    t.ok(wait_for(lambda: store_bytes(d) <= bound(live), timeout=SHRINK_TIMEOUT, interval=0.2),
         'after the restart the store shrinks within the bound (%d MiB)' % (store_bytes(d) // MiB))


def make_old_store(t, d, claim):
    """Turn the stopped store into one an old claimfsd made (auto_vacuum off)."""
    db = sqlite3.connect(d.store, isolation_level=None)
    try:
        db.execute('PRAGMA auto_vacuum = NONE')
        db.execute('VACUUM')
        t.eq(db.execute('PRAGMA auto_vacuum').fetchone()[0], 0, 'the store is now one made without vacuum')
    finally:
        db.close()


def check_compact(t, d, live_sum):
    """--compact: refused while running; shrinks an old store and turns the vacuum on."""
    claim = d.claim_path('default', 'space')
    out = claimfsd('--compact', '--store', d.store)
    t.ok(out.returncode == 2 and b'stop the daemon first' in out.stdout,
         '--compact refuses a store the daemon holds', out.stdout.decode(errors='replace'))
    t.eq(d.stop(), 0, 'daemon exits 0 on SIGTERM')
    make_old_store(t, d, claim)
    d.start()
    t.eq(d.metric('claimfs_store_incremental_vacuum'), 0, '/metrics says an old store keeps its space')
    t.ok('claimfsd --compact' in d.log_tail(80), 'the log says how to give the space back')
    write_file(os.path.join(claim, 'big2'), 64 * MiB, 3)
    os.unlink(os.path.join(claim, 'big2'))
    time.sleep(1.5)  # past the vacuum's sampling interval: it must stay idle
    t.eq(d.metric('claimfs_store_vacuumed_bytes_total'), 0, 'an old store is not vacuumed in the background')
    t.eq(d.stop(), 0, 'daemon exits 0 on SIGTERM')
    before = store_bytes(d)
    out = claimfsd('--compact', '--store', d.store)
    t.eq(out.returncode, 0, 'claimfsd --compact exits 0: %s' % out.stdout.decode(errors='replace').strip())
    after = store_bytes(d)
    t.ok(after < before and after <= bound(LIVE + 5 * MiB),
         '--compact shrinks the store (%d MiB -> %d MiB)' % (before // MiB, after // MiB))
    out = claimfsd('--check', '--store', d.store)
    t.eq(out.returncode, 0, 'claimfsd --check passes after --compact',)
    d.start()
    t.eq(d.metric('claimfs_store_incremental_vacuum'), 1, 'after --compact the store gives space back')
    t.eq(sha256_of(os.path.join(claim, 'live')), live_sum, 'the live data is intact after --compact')


def main():
    t = Tap()

    def checks(d):
        live_sum = check_background(t, d)
        check_kill_mid_vacuum(t, d, live_sum)
        check_compact(t, d, live_sum)

    run_daemon_checks(t, 'claimfs-space-', checks)
    t.done()


if __name__ == '__main__':
    main()
