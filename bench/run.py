#!/usr/bin/env python3
"""run.py - the claimfs bench driver (`make bench`; quick mode is a meson test).

Measures claimfs side by side with two references on the same filesystem:
  native       a plain directory next to the claimfs store;
  passthrough  libfuse's passthrough_ll example (built here from
               /usr/share/doc/libfuse3-dev/examples) mounted over a plain
               directory with its default options: the cost of FUSE itself;
  claimfs      build/daemon/claimfsd on a fresh store, one claim per workload
               directory, created through the HTTP API.
Every workload runs on each target in alternation (A B C A B C ...) for
--rounds rounds; the tables show medians with min-max and the claimfs/native
and claimfs/passthrough ratios, then the issue's targets as PASS/FAIL.

Groups (--group, default all): `micro` (issue 7: bench/*.c programs) and
`real` (issue 18: tar, dd, pgbench, SQLite, git, cold reads; real_group.py).

The workload programs (bench-*, bench/*.c) check their own results (final
counter values, read-back data, entry counts, HTTP statuses) and exit 1 when
anything is wrong; any such failure makes this driver exit 1, in every mode.
A missed performance target does not, unless --enforce-targets.

Files: run.py (this: workloads, rounds, set-up, main), bench_procs.py
(passthrough_ll and claimfsd processes, mounts), bench_report.py (tables,
ratios, target checks); real_*.py (the real group, see real_group.py).

Owns: one temporary work directory (under the build directory unless
--workdir-parent), the processes it starts (passthrough_ll, claimfsd) and
their mounts. Invariant: when it exits, for whatever reason, every process it
started has been stopped and reaped, every mount it made is gone and the work
directory is removed (unless --keep-workdir). The only files written outside
the work directory are build products in the build directory: the release
build itself, passthrough_ll, and the cached start-up store
(<build>/bench-cache/, reused across runs because it takes minutes to build).

Exit status: 0 ok, 1 a check failed or a workload could not run, 2 bad
usage, 77 skipped (not root, or no /dev/fuse).
"""

import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # nothing written next to the sources
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from bench_procs import (BenchError, Claimfsd, Passthrough, drop_caches,  # noqa: E402
                         filesystem_of, force_unmount, log)
from bench_report import REPO, TARGETS, WORKLOADS, Report, machine_info  # noqa: E402
from real_group import REAL_FULL, REAL_QUICK, REAL_WORKLOADS, RealGroup  # noqa: E402
from real_report import real_table, real_verdicts  # noqa: E402

PASSTHROUGH_SRC = '/usr/share/doc/libfuse3-dev/examples/passthrough_ll.c'
SKIP = 77
GROUPS = {'micro': WORKLOADS, 'real': REAL_WORKLOADS, 'all': WORKLOADS + REAL_WORKLOADS}

# Sizes. Full mode follows the issue; quick mode runs everything tiny.
FULL = {
    'rounds': 3,
    'visits_procs': [1, 2, 4, 8],
    'visits_seconds': 2.0,
    'seq_size': 1 << 30,
    'seq_block': 1 << 20,
    'rand_size': 256 << 20,
    'rand_seconds': 3.0,
    'meta_files': 15000,
    'mkdirp_fanout': 8,
    'mkdirp_depth': 4,
    'rename_entries': 10000,
    'prov_claims': 1000,
    'prov_concurrency': 16,
    'startup_claims': 10000,
    'startup_files': 64,
    'startup_bytes': 2 << 30,
    'program_timeout': 900,
}
QUICK = {
    'rounds': 1,
    'visits_procs': [1, 8],
    'visits_seconds': 0.2,
    'seq_size': 8 << 20,
    'seq_block': 1 << 20,
    'rand_size': 4 << 20,
    'rand_seconds': 0.2,
    'meta_files': 200,
    'mkdirp_fanout': 3,
    'mkdirp_depth': 3,
    'rename_entries': 100,
    'prov_claims': 20,
    'prov_concurrency': 4,
    'startup_claims': 30,
    'startup_files': 2,
    'startup_bytes': 4 << 20,
    'program_timeout': 120,
}


# --- the bench -----------------------------------------------------------

class Bench:
    """Targets, workloads, results."""

    def __init__(self, args, sizes, build_dir, workdir):
        self.args, self.sizes, self.build_dir, self.workdir = args, sizes, build_dir, workdir
        self.bin_dir = os.path.join(build_dir, 'bench')
        self.claimfsd_bin = os.path.join(build_dir, 'daemon', 'claimfsd')
        self.targets = [t for t in TARGETS if t in args.targets]
        self.passthrough = None
        self.claimfsd = None
        self.claim_dirs = {}
        self.results = {}    # case -> target -> [run dict]
        self.case_order = []
        self.case_info = {}  # case -> (workload, [(metric, label, better)])
        self.errors = []
        self.notes = []
        self.memory = []     # (after workload, hwm KiB, rss KiB)
        self.real = None     # RealGroup, when a real workload is selected

    # -- programs --

    def prog(self, name, *argv, timeout=None):
        """Run bench/NAME with ARGV; its JSON result, or BenchError with its stderr."""
        cmd = [os.path.join(self.bin_dir, name)] + [str(a) for a in argv]
        try:
            res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                 timeout=timeout or self.sizes['program_timeout'], check=False)
        except subprocess.TimeoutExpired as e:
            raise BenchError('%s timed out after %s s' % (' '.join(cmd), e.timeout)) from e
        if res.returncode != 0:
            raise BenchError('%s exited with %d:\n%s' % (' '.join(cmd), res.returncode,
                                                          res.stderr.strip()))
        lines = [ln for ln in res.stdout.splitlines() if ln.startswith('{')]
        if not lines:
            raise BenchError('%s printed no result' % ' '.join(cmd))
        return json.loads(lines[-1])

    # -- targets --

    def setup_targets(self):
        for t in self.targets:
            if t == 'passthrough' and any(w in WORKLOADS for w in self.args.workloads):
                self.passthrough = Passthrough(
                    os.path.join(self.bin_dir, 'passthrough_ll'),
                    os.path.join(self.workdir, 'passthrough-src'),
                    os.path.join(self.workdir, 'passthrough-mnt'),
                    os.path.join(self.workdir, 'passthrough.log'))
                self.passthrough.start()
            elif t == 'claimfs':
                os.makedirs(os.path.join(self.workdir, 'claimfs'), exist_ok=True)
                self.claimfsd = Claimfsd(self.claimfsd_bin,
                                         os.path.join(self.workdir, 'claimfs', 'store.db'),
                                         os.path.join(self.workdir, 'claimfs-mnt'),
                                         self.workdir, 'claimfsd')
                self.claimfsd.start()
            elif t == 'native':
                os.makedirs(os.path.join(self.workdir, 'native'), exist_ok=True)
        if any(w in REAL_WORKLOADS for w in self.args.workloads):
            self.real = RealGroup(self)
            self.real.start()

    def teardown(self):
        if self.real is not None:
            try:
                self.real.stop()
            except Exception as e:  # noqa: BLE001 - teardown must go on
                log('teardown: %s' % e)
        for what in (self.claimfsd, self.passthrough):
            if what is None:
                continue
            try:
                status = what.stop()
            except Exception as e:  # noqa: BLE001 - teardown must go on
                log('teardown: %s' % e)
                continue
            if what is self.claimfsd and status != 0:
                self.errors.append('claimfsd exited with %s on SIGTERM:\n%s'
                                   % (status, what.log_tail()))

    def target_dir(self, target, name):
        """Directory NAME on TARGET (a claim on claimfs), created on first use."""
        key = (target, name)
        if key not in self.claim_dirs:
            if target == 'claimfs':
                path = self.claimfsd.create_claim(name)
            else:
                root = (os.path.join(self.workdir, 'native') if target == 'native'
                        else self.passthrough.mnt)
                path = os.path.join(root, name)
                os.makedirs(path, exist_ok=True)
            self.claim_dirs[key] = path
        return self.claim_dirs[key]

    def check_target(self, target):
        if target == 'claimfs':
            self.claimfsd.check_alive()
        elif target == 'passthrough' and not self.passthrough.alive():
            raise BenchError('passthrough_ll is not running')

    # -- recording --

    def declare(self, case, workload, metrics):
        if case not in self.case_info:
            self.case_order.append(case)
            self.case_info[case] = (workload, metrics)
            self.results[case] = {}

    def record(self, case, target, result):
        self.results[case].setdefault(target, []).append(result)

    def attempt(self, what, fn):
        """Run fn(); a BenchError is recorded (the run will fail) and the bench goes on."""
        try:
            fn()
            return True
        except BenchError as e:
            self.errors.append('%s: %s' % (what, e))
            log('ERROR %s: %s' % (what, e))
            return False

    def note_memory(self, after):
        if self.claimfsd is not None and self.claimfsd.alive():
            hwm, rss = self.claimfsd.memory_kib()
            self.memory.append((after, hwm, rss))

    def rounds(self):
        return range(self.sizes['rounds'])

    # -- workloads --

    def run_visits(self):
        variants = [('trunc', True), ('pwrite', True), ('trunc', False), ('pwrite', False)]
        metrics = [('increments_per_s', 'increments/s', 'higher'),
                   ('latency_p50_us', 'p50 µs', 'lower'),
                   ('latency_p99_us', 'p99 µs', 'lower')]
        for mode, fsync in variants:
            for procs in self.sizes['visits_procs']:
                case = 'visits %s%s N=%d' % ('O_TRUNC' if mode == 'trunc' else 'pwrite',
                                            '+fsync' if fsync else ' no-fsync', procs)
                self.declare(case, 'visits', metrics)
                for r in self.rounds():
                    for t in self.targets:
                        def one(t=t):
                            self.check_target(t)
                            dirs = [self.target_dir(t, 'visits-%d' % i) for i in range(procs)]
                            argv = ['--mode', mode, '--seconds', self.sizes['visits_seconds']]
                            if not fsync:
                                argv.append('--no-fsync')
                            res = self.prog('bench-visits', *argv, *dirs)
                            self.record(case, t, res)
                            log('%-32s round %d %-11s %10.0f inc/s  p99 %8.1f µs'
                                % (case, r + 1, t, res['increments_per_s'], res['latency_p99_us']))
                        self.attempt('%s round %d on %s' % (case, r + 1, t), one)

    def run_sequential(self):
        size, block = self.sizes['seq_size'], self.sizes['seq_block']
        mib = [('mib_per_s', 'MiB/s', 'higher')]
        cases = {'write': 'sequential write+fsync', 'cold': 'sequential read cold',
                 'warm': 'sequential read warm'}
        for c in cases.values():
            self.declare(c, 'sequential', mib)
        # FUSE's own page-cache ceiling for warm reads: passthrough_ll with
        # -o cache=always keeps the page cache across opens as claimfs does.
        # Its column holds that figure, claimfs' column the same run's
        # claimfs warm read.
        ceiling = 'sequential read warm vs FUSE ceiling (passthrough -o cache=always)'
        if 'passthrough' in self.targets:
            self.declare(ceiling, 'sequential', mib)
        # claimfs copies a stream's WAL into its database after the stream
        # (README, "WAL and checkpoints"). The bench waits for that copy
        # before the cold read, and this row counts it in: bytes over write
        # + fsync + the wait (other targets: the write figure unchanged).
        settled = 'sequential write+fsync, then claimfs checkpoint'
        settle_case = 'sequential: claimfs checkpoint after the write'
        if 'claimfs' in self.targets:
            self.declare(settled, 'sequential', mib)
            self.declare(settle_case, 'sequential', [('settle_s', 's', 'lower')])
        for r in self.rounds():
            for t in self.targets:
                def one(t=t, r=r):
                    self.check_target(t)
                    path = os.path.join(self.target_dir(t, 'seq'), 'seq.bin')
                    seed = 1000 + r
                    res = self.prog('bench-seqio', 'write', path, '--size', size, '--block', block,
                                    '--seed', seed)
                    self.record(cases['write'], t, res)
                    settle = self.claimfsd.settle() if t == 'claimfs' else 0.0
                    if 'claimfs' in self.targets:
                        total = res['seconds'] + settle
                        self.record(settled, t, {'mib_per_s': res['mib_per_s'] * res['seconds'] / total})
                    if t == 'claimfs':
                        self.record(settle_case, t, {'settle_s': settle})
                    if not drop_caches():
                        self.notes.append('cold reads are not cold: could not drop caches')
                    cold = self.prog('bench-seqio', 'read', path, '--size', size, '--block', block,
                                     '--seed', seed)
                    self.record(cases['cold'], t, cold)
                    warm = self.prog('bench-seqio', 'read', path, '--size', size, '--block', block,
                                     '--seed', seed)
                    self.record(cases['warm'], t, warm)
                    if t == 'claimfs' and 'passthrough' in self.targets:
                        self.record(ceiling, t, warm)
                    if t == 'passthrough':
                        self.record(ceiling, t,
                                    self.cached_passthrough_read(path, size, block, seed))
                    os.unlink(path)
                    log('sequential round %d %-11s write %7.0f  cold %7.0f  warm %7.0f MiB/s%s'
                        % (r + 1, t, res['mib_per_s'], cold['mib_per_s'], warm['mib_per_s'],
                           '  (then checkpoint %.2f s)' % settle if t == 'claimfs' else ''))
                self.attempt('sequential round %d on %s' % (r + 1, t), one)

    def cached_passthrough_read(self, path, size, block, seed):
        """A warm read of passthrough's file PATH through a second
        passthrough_ll, -o cache=always, over the same source directory."""
        cached = Passthrough(os.path.join(self.bin_dir, 'passthrough_ll'), self.passthrough.src,
                             os.path.join(self.workdir, 'passthrough-cached-mnt'),
                             os.path.join(self.workdir, 'passthrough-cached.log'), 'cache=always')
        cached.start()
        try:
            other = os.path.join(cached.mnt, os.path.relpath(path, self.passthrough.mnt))
            self.prog('bench-seqio', 'read', other, '--size', size, '--block', block,
                      '--seed', seed)
            return self.prog('bench-seqio', 'read', other, '--size', size, '--block', block,
                             '--seed', seed)
        finally:
            cached.stop()

    def run_random(self):
        size, secs = self.sizes['rand_size'], self.sizes['rand_seconds']
        cases = {'w64': 'random 4k write, fsync/64', 'w0': 'random 4k write, no fsync',
                 'read': 'random 4k read'}
        self.declare(cases['w64'], 'random', [('iops', 'IOPS', 'higher'),
                                              ('write_p99_us', 'write p99 µs', 'lower'),
                                              ('fsync_p99_us', 'fsync p99 µs', 'lower')])
        self.declare(cases['w0'], 'random', [('iops', 'IOPS', 'higher'),
                                             ('write_p99_us', 'write p99 µs', 'lower')])
        self.declare(cases['read'], 'random', [('iops', 'IOPS', 'higher'),
                                               ('read_p99_us', 'read p99 µs', 'lower')])
        prepared = set()
        for r in self.rounds():
            for t in self.targets:
                def one(t=t, r=r):
                    self.check_target(t)
                    path = os.path.join(self.target_dir(t, 'rand'), 'rand.bin')
                    if t not in prepared:
                        self.prog('bench-randio', 'prepare', path, '--size', size)
                        prepared.add(t)
                        if t == 'claimfs':
                            self.claimfsd.settle()
                    w64 = self.prog('bench-randio', 'write', path, '--size', size,
                                    '--seconds', secs, '--fsync-every', 64, '--seed', 2 * r + 1)
                    self.record(cases['w64'], t, w64)
                    w0 = self.prog('bench-randio', 'write', path, '--size', size, '--seconds', secs,
                                   '--seed', 2 * r + 2)
                    self.record(cases['w0'], t, w0)
                    rd = self.prog('bench-randio', 'read', path, '--size', size, '--seconds', secs,
                                   '--seed', r + 1)
                    self.record(cases['read'], t, rd)
                    log('random round %d %-11s w/fsync64 %8.0f  w %8.0f  r %8.0f IOPS'
                        % (r + 1, t, w64['iops'], w0['iops'], rd['iops']))
                self.attempt('random round %d on %s' % (r + 1, t), one)

    def run_metadata(self):
        n = self.sizes['meta_files']
        ops = [('ops_per_s', 'ops/s', 'higher'), ('latency_p99_us', 'p99 µs', 'lower')]
        cases = {'create': 'metadata create %d files' % n, 'stat': 'metadata stat %d files' % n,
                 'unlink': 'metadata unlink %d files' % n}
        for c in cases.values():
            self.declare(c, 'metadata', ops)
        fanout, depth = self.sizes['mkdirp_fanout'], self.sizes['mkdirp_depth']
        mk_case = 'metadata mkdir -p (fanout %d, depth %d)' % (fanout, depth)
        self.declare(mk_case, 'metadata', [('ops_per_s', 'dirs/s', 'higher')])
        rn_case = 'metadata rename dir of %d entries' % self.sizes['rename_entries']
        self.declare(rn_case, 'metadata', [('rename_ms', 'ms', 'lower')])
        # claimfs mounts with default_permissions (the kernel checks POSIX
        # permissions, so it refreshes a directory's attributes after each
        # change to it: one GETATTR per create or unlink); passthrough_ll by
        # default checks nothing. These rows hold, in the passthrough column,
        # a passthrough_ll mounted -o default_permissions, and in claimfs'
        # column the same round's claimfs figure.
        perm = {}
        if 'passthrough' in self.targets and 'claimfs' in self.targets:
            for step in ('create', 'stat', 'unlink'):
                perm[step] = '%s vs passthrough -o default_permissions' % cases[step]
                self.declare(perm[step], 'metadata', ops)
        for r in self.rounds():
            for t in self.targets:
                def one(t=t, r=r):
                    self.check_target(t)
                    base = self.target_dir(t, 'meta')
                    d = os.path.join(base, 'files-%d' % r)
                    os.mkdir(d)
                    line = []
                    for step in ('create', 'stat', 'unlink'):
                        res = self.prog('bench-meta', step, d, '--count', n)
                        self.record(cases[step], t, res)
                        if t == 'claimfs' and perm:
                            self.record(perm[step], t, res)
                        line.append('%s %.0f/s' % (step, res['ops_per_s']))
                    os.rmdir(d)
                    if t == 'passthrough' and perm:
                        line.append('(default_permissions: %s)' % self.permission_checked_meta(r, n, perm))
                    res = self.prog('bench-meta', 'mkdirp', base, '--fanout', fanout,
                                    '--depth', depth)
                    self.record(mk_case, t, res)
                    line.append('mkdir-p %.0f/s' % res['ops_per_s'])
                    res = self.prog('bench-meta', 'rename', base, '--count',
                                    self.sizes['rename_entries'])
                    self.record(rn_case, t, res)
                    line.append('rename %.3f ms' % res['rename_ms'])
                    log('metadata round %d %-11s %s' % (r + 1, t, '  '.join(line)))
                self.attempt('metadata round %d on %s' % (r + 1, t), one)

    def permission_checked_meta(self, r, n, perm):
        """create/stat/unlink through a second passthrough_ll, -o
        default_permissions, over passthrough's source directory; records
        into perm's cases and returns a log text."""
        checked = Passthrough(os.path.join(self.bin_dir, 'passthrough_ll'), self.passthrough.src,
                              os.path.join(self.workdir, 'passthrough-perm-mnt'),
                              os.path.join(self.workdir, 'passthrough-perm.log'),
                              'default_permissions')
        checked.start()
        try:
            d = os.path.join(checked.mnt, 'meta-perm-%d' % r)
            os.mkdir(d)
            line = []
            for step in ('create', 'stat', 'unlink'):
                res = self.prog('bench-meta', step, d, '--count', n)
                self.record(perm[step], 'passthrough', res)
                line.append('%s %.0f/s' % (step, res['ops_per_s']))
            os.rmdir(d)
            return '  '.join(line)
        finally:
            checked.stop()

    def run_provisioning(self):
        if 'claimfs' not in self.targets:
            return
        metrics = [('create_per_s', 'claims/s', 'higher'),
                   ('create_p50_ms', 'create p50 ms', 'lower'),
                   ('create_p99_ms', 'create p99 ms', 'lower'),
                   ('delete_per_s', 'deletes/s', 'higher'),
                   ('delete_p99_ms', 'delete p99 ms', 'lower')]
        n = self.sizes['prov_claims']
        for conc in (1, self.sizes['prov_concurrency']):
            case = 'provisioning %d claims, %s' % (
                n, 'sequential' if conc == 1 else '%d clients' % conc)
            self.declare(case, 'provisioning', metrics)
            for r in self.rounds():
                def one(conc=conc, r=r, case=case):
                    self.claimfsd.check_alive()
                    res = self.prog('bench-prov', '--port', self.claimfsd.port, '--count', n,
                                    '--concurrency', conc, '--prefix', 'prov-r%d-c%d' % (r, conc),
                                    '--mount', self.claimfsd.mount)
                    for k in ('create_p50', 'create_p99', 'delete_p50', 'delete_p99'):
                        res[k + '_ms'] = res[k + '_us'] / 1000.0
                    self.record(case, 'claimfs', res)
                    log('%-32s round %d claimfs %7.0f claims/s  p99 %.2f ms  delete %7.0f/s'
                        % (case, r + 1, res['create_per_s'], res['create_p99_ms'],
                           res['delete_per_s']))
                self.attempt('%s round %d' % (case, r + 1), one)

    def startup_store(self):
        """Path of a store with the start-up claims and data; built once, cached."""
        claims, files, nbytes = (self.sizes['startup_claims'], self.sizes['startup_files'],
                                 self.sizes['startup_bytes'])
        if self.args.quick:
            cache = os.path.join(self.workdir, 'startup-cache')
        else:
            cache = os.path.join(self.build_dir, 'bench-cache',
                                 'startup-%dclaims-%dfiles-%dbytes' % (claims, files, nbytes))
        store = os.path.join(cache, 'store.db')
        stamp = os.path.join(cache, 'complete.json')
        if os.path.exists(stamp) and os.path.exists(store) and not self.args.rebuild_startup_store:
            self.migrate_cached_store(store)
            return store, cache
        log('building the start-up store (%d claims, %d MiB in %d files) in %s; cached for '
            'later runs' % (claims, nbytes >> 20, files, cache))
        shutil.rmtree(cache, ignore_errors=True)
        os.makedirs(cache)
        partial = os.path.join(cache, 'building.db')
        d = Claimfsd(self.claimfsd_bin, partial, os.path.join(self.workdir, 'startup-build-mnt'),
                     self.workdir, 'startup-build')
        per_file = nbytes // files // 8 * 8
        try:
            d.start()
            t0 = time.monotonic()
            self.prog('bench-prov', '--port', d.port, '--count', claims, '--concurrency', 16,
                      '--prefix', 's', '--storage', '64Mi' if per_file < (60 << 20) else '8Gi',
                      '--keep', timeout=3600)
            log('  %d claims in %.1f s' % (claims, time.monotonic() - t0))
            for i in range(claims):
                with open(os.path.join(d.mount, 'default', 's-%06d' % i, 'visits.txt'), 'w',
                          encoding='ascii') as f:
                    f.write('%d\n' % i)
            for i in range(files):
                self.prog('bench-seqio', 'write',
                          os.path.join(d.mount, 'default', 's-%06d' % i, 'data.bin'),
                          '--size', per_file, '--seed', i + 1, timeout=3600)
            log('  claims and data in %.1f s' % (time.monotonic() - t0))
        finally:
            status = d.stop()
        if status != 0:
            raise BenchError('claimfsd building the start-up store exited with %s:\n%s'
                             % (status, d.log_tail()))
        for suffix in ('', '-wal', '-shm'):
            if os.path.exists(partial + suffix):
                os.rename(partial + suffix, store + suffix)
        with open(stamp, 'w', encoding='ascii') as f:
            json.dump({'claims': claims, 'files': files, 'bytes_per_file': per_file,
                       'built': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, f)
        return store, cache

    def migrate_cached_store(self, store):
        """A store cached by an older claimfsd gets its one-time schema
        migration here, untimed, and stays migrated: the start-up rounds
        measure starting claimfsd, not upgrading a store."""
        out = subprocess.run([self.claimfsd_bin, '--version'], capture_output=True, text=True,
                             check=False).stdout
        m = re.search(r'store schema (\d+)', out)
        with sqlite3.connect('file:%s?mode=ro' % store, uri=True) as db:
            have = db.execute('PRAGMA user_version').fetchone()[0]
        if not m or have >= int(m.group(1)):
            return
        log('migrating the cached start-up store from schema %d to %s (once, untimed)'
            % (have, m.group(1)))
        t0 = time.monotonic()
        res = subprocess.run([self.claimfsd_bin, '--check', '--store', store], capture_output=True,
                             text=True, check=False)
        if res.returncode != 0:
            raise BenchError('claimfsd --check (migration) of %s exited with %d:\n%s'
                             % (store, res.returncode, res.stderr.strip()))
        log('  migrated in %.1f s' % (time.monotonic() - t0))

    def run_startup(self):
        if 'claimfs' not in self.targets:
            return
        metrics = [('ready_ms', 'ms to /readyz 200', 'lower'),
                   ('rss_hwm_mib', 'peak RSS MiB', 'lower'),
                   ('stop_ms', 'ms SIGTERM to exit', 'lower')]
        claims = self.sizes['startup_claims']
        cases = {'cold': 'start-up %d claims, %d MiB, cold cache' % (
                     claims, self.sizes['startup_bytes'] >> 20),
                 'warm': 'start-up %d claims, %d MiB, warm cache' % (
                     claims, self.sizes['startup_bytes'] >> 20)}
        for c in cases.values():
            self.declare(c, 'startup', metrics)
        state = {}

        def prepare():
            cached, cache_dir = self.startup_store()
            sdir = os.path.join(self.workdir, 'startup')
            os.makedirs(sdir, exist_ok=True)
            state['store'] = os.path.join(sdir, 'store.db')
            for suffix in ('', '-wal'):
                if os.path.exists(cached + suffix):
                    shutil.copyfile(cached + suffix, state['store'] + suffix)
            state['sdir'] = sdir
            state['cache_dir'] = cache_dir
        if not self.attempt('start-up store', prepare):
            return
        sdir = state['sdir']
        for r in self.rounds():
            for kind in ('cold', 'warm'):
                def one(kind=kind):
                    if kind == 'cold' and not drop_caches():
                        self.notes.append('cold start-up is not cold: could not drop caches')
                    res = self.prog('bench-startup', '--claimfsd', self.claimfsd_bin,
                                    '--store', state['store'], '--mount',
                                    os.path.join(sdir, 'mnt'), '--port-file',
                                    os.path.join(sdir, 'port'), '--log',
                                    os.path.join(sdir, 'claimfsd.log'), '--expect-claims', claims)
                    force_unmount(os.path.join(sdir, 'mnt'))
                    res['rss_hwm_mib'] = res['rss_hwm_kib'] / 1024.0
                    self.record(cases[kind], 'claimfs', res)
                    log('start-up round %d %s: ready in %.1f ms, RSS %.1f MiB, stop %.1f ms'
                        % (r + 1, kind, res['ready_ms'], res['rss_hwm_mib'], res['stop_ms']))
                self.attempt('start-up %s round %d' % (kind, r + 1), one)

        def verify_data():
            d = Claimfsd(self.claimfsd_bin, state['store'], os.path.join(sdir, 'mnt'), sdir,
                         'verify')
            files = self.sizes['startup_files']
            per_file = self.sizes['startup_bytes'] // files // 8 * 8
            try:
                d.start()
                for i in sorted({0, files - 1}):
                    self.prog('bench-seqio', 'read',
                              os.path.join(d.mount, 'default', 's-%06d' % i, 'data.bin'),
                              '--size', per_file, '--seed', i + 1)
                with open(os.path.join(d.mount, 'default', 's-%06d' % (claims - 1), 'visits.txt'),
                          encoding='ascii') as f:
                    if f.read() != '%d\n' % (claims - 1):
                        raise BenchError('start-up store: visits.txt of the last claim is wrong')
            finally:
                status = d.stop()
            if status != 0:
                raise BenchError('claimfsd exited with %s after verifying the start-up store'
                                 % status)
        self.attempt('start-up store contents', verify_data)

    # -- driver --

    def run(self):
        steps = {'visits': self.run_visits, 'sequential': self.run_sequential,
                 'random': self.run_random, 'metadata': self.run_metadata,
                 'provisioning': self.run_provisioning, 'startup': self.run_startup}
        for w in GROUPS['all']:
            if w in self.args.workloads:
                log('== %s' % w)
                perf = self.perf_start(w)
                try:
                    if w in REAL_WORKLOADS:
                        self.real.run(w)
                    else:
                        steps[w]()
                finally:
                    self.perf_stop(perf)
                self.note_memory(w)

    def perf_start(self, workload):
        """With --perf-dir, `perf record -g` the main claimfsd during one workload."""
        if not self.args.perf_dir or self.claimfsd is None or not self.claimfsd.alive():
            return None
        os.makedirs(self.args.perf_dir, exist_ok=True)
        out = os.path.join(os.path.abspath(self.args.perf_dir), workload + '.perf.data')
        try:
            return subprocess.Popen(['perf', 'record', '-g', '-q', '-o', out, '-p',
                                     str(self.claimfsd.proc.pid)],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        except OSError as e:
            self.notes.append('perf record failed: %s' % e)
            return None

    def perf_stop(self, proc):
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- setup -----------------------------------------------------------------

def build_release(build_dir):
    """meson setup (release) + ninja; the bench measures optimised code."""
    if not os.path.exists(os.path.join(build_dir, 'build.ninja')):
        subprocess.run(['meson', 'setup', '--buildtype=release', '-Dtests=false', build_dir],
                       cwd=REPO, check=True)
    subprocess.run(['ninja', '-C', build_dir], check=True)


def build_passthrough(build_dir):
    """passthrough_ll from libfuse3-dev's examples into <build>/bench/."""
    out = os.path.join(build_dir, 'bench', 'passthrough_ll')
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(PASSTHROUGH_SRC):
        return out
    flags = subprocess.run(['pkg-config', '--cflags', '--libs', 'fuse3'], capture_output=True,
                           text=True, check=True).stdout.split()
    os.makedirs(os.path.dirname(out), exist_ok=True)
    subprocess.run(['gcc', '-O2', '-Wall', '-o', out, PASSTHROUGH_SRC] + flags, check=True)
    return out


def parse_args(argv):
    p = argparse.ArgumentParser(description='claimfs bench: claimfs vs native vs passthrough')
    p.add_argument('--quick', action='store_true',
                   help='every workload tiny: a smoke test of the bench, not a measurement')
    p.add_argument('--rounds', type=int, help='rounds per workload (default 3, quick 1)')
    p.add_argument('--json', metavar='FILE', help='also write every result as JSON to FILE')
    p.add_argument('--build-dir', help='use this already-built meson build directory '
                   '(default: build and use a release build in build-release/)')
    p.add_argument('--workdir-parent', help='where the temporary work directory goes '
                   '(default: the build directory; must be on the disk being measured)')
    p.add_argument('--group', choices=sorted(GROUPS), default='all',
                   help='micro (issue 7), real (issue 18) or all (default)')
    p.add_argument('--workloads',
                   help='comma-separated subset of the group: ' + ','.join(GROUPS['all']))
    p.add_argument('--targets', default=','.join(TARGETS),
                   help='comma-separated subset of ' + ','.join(TARGETS))
    p.add_argument('--visits-seconds', type=float, help='length of each visits run')
    p.add_argument('--keep-workdir', action='store_true', help='leave the work directory')
    p.add_argument('--rebuild-startup-store', action='store_true',
                   help='rebuild the cached start-up store')
    p.add_argument('--enforce-targets', action='store_true',
                   help='exit 1 when a target is missed (FAIL)')
    p.add_argument('--perf-dir', help='record `perf record -g` profiles of the main claimfsd, '
                   'one WORKLOAD.perf.data per workload, in this directory')
    args = p.parse_args(argv)
    args.workloads = ([w for w in args.workloads.split(',') if w] if args.workloads
                      else list(GROUPS[args.group]))
    args.targets = [t for t in args.targets.split(',') if t]
    bad = [w for w in args.workloads if w not in GROUPS[args.group]] + \
          [t for t in args.targets if t not in TARGETS]
    if bad:
        p.error('unknown workload or target: %s' % ', '.join(bad))
    return args


def main(argv):
    args = parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    sizes.update(REAL_QUICK if args.quick else REAL_FULL)
    if args.rounds:
        sizes['rounds'] = args.rounds
    if args.visits_seconds:
        sizes['visits_seconds'] = args.visits_seconds
    if os.geteuid() != 0:
        print('SKIP: the bench mounts FUSE file systems and drops caches: run it as root')
        return SKIP
    if not os.path.exists('/dev/fuse'):
        print('SKIP: no /dev/fuse')
        return SKIP
    if 'passthrough' in args.targets and not os.path.exists(PASSTHROUGH_SRC):
        if not args.quick:
            print('%s is missing: install libfuse3-dev (or pass --targets native,claimfs)'
                  % PASSTHROUGH_SRC, file=sys.stderr)
            return 1
        args.targets.remove('passthrough')
        log('note: %s missing; quick mode runs without the passthrough target' % PASSTHROUGH_SRC)

    if args.build_dir:
        build_dir = os.path.abspath(args.build_dir)
    else:
        build_dir = os.path.join(REPO, 'build-release')
        build_release(build_dir)
    if 'passthrough' in args.targets:
        build_passthrough(build_dir)

    # SIGTERM/SIGHUP unwind like Ctrl-C so the finally below cleans up.
    def interrupted(signum, frame):
        raise KeyboardInterrupt('signal %d' % signum)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    parent = os.path.abspath(args.workdir_parent or build_dir)
    workdir = tempfile.mkdtemp(prefix='bench-', dir=parent)
    os.chmod(workdir, 0o755)
    bench = Bench(args, sizes, build_dir, workdir)
    started = time.monotonic()
    try:
        log('work directory %s (%s)' % (workdir, filesystem_of(workdir)[0]))
        bench.setup_targets()
        bench.run()
        machine = machine_info(workdir)
    except BenchError as e:
        bench.errors.append('setup: %s' % e)
        log('ERROR %s' % e)
        machine = machine_info(workdir)
    finally:
        bench.teardown()
        if args.keep_workdir:
            log('work directory kept: %s' % workdir)
        else:
            for mnt in ('passthrough-mnt', 'passthrough-cached-mnt', 'claimfs-mnt', 'startup/mnt',
                        'startup-build-mnt', 'real-passthrough-mnt', 'real-pg-passthrough-mnt'):
                force_unmount(os.path.join(workdir, mnt))
            shutil.rmtree(workdir, ignore_errors=True)

    report = Report(bench)
    checks = report.checks()
    elapsed = time.monotonic() - started
    print('## claimfs bench (%s, %d round%s, %.0f s)' % (
        'quick: sizes are tiny, timings mean nothing' if args.quick else 'full',
        sizes['rounds'], '' if sizes['rounds'] == 1 else 's', elapsed))
    print('')
    print('Machine: %(nproc)s × %(cpu)s, %(memory_gib)s GiB, kernel %(kernel)s, work directory '
          'on %(filesystem)s (%(device)s); claimfs %(commit)s; load average at the end '
          '%(loadavg)s' % machine)
    print('Cells: median [min–max] over rounds; ratios are of medians; ↑ higher is better, '
          '↓ lower is better.')
    print('')
    print(report.tables())
    if any(w in WORKLOADS for w in args.workloads):
        print(report.checks_table(checks, args.quick))
    rules = bench.real.rules if bench.real else {}
    print(real_table(report, rules))
    for note in sorted(set(bench.notes)):
        print('Note: %s' % note)
    if bench.errors:
        print('ERRORS (%d):' % len(bench.errors))
        for e in bench.errors:
            print('  - ' + e.replace('\n', '\n    '))
    if args.json:
        with open(args.json, 'w', encoding='utf-8') as f:
            json.dump({'mode': 'quick' if args.quick else 'full', 'sizes': sizes,
                       'machine': machine, 'elapsed_s': elapsed, 'results': bench.results,
                       'summary': report.summary, 'memory': bench.memory, 'targets': checks,
                       'real_targets': real_verdicts(report, rules),
                       'notes': sorted(set(bench.notes)), 'errors': bench.errors}, f, indent=1)
    if bench.errors:
        return 1
    if args.enforce_targets and any(c['verdict'] == 'FAIL' for c in
                                    checks + real_verdicts(report, rules)):
        return 1
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        log('interrupted')
        sys.exit(130)
