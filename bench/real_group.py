"""real_group.py - the `real` group of the claimfs bench (issue 18): tar,
dd, PostgreSQL, SQLite, git and cold reads, as a user runs them.

Owns: the passthrough_ll mounts of this group (one run by root and one run
by the postgres user, both -o default_permissions so the kernel checks
permissions as it does for claimfs, which changes the number of requests a
create or an unlink costs), the PostgreSQL servers it starts, and the
generated inputs (tar archives, the dd source, the git source repository),
cached under <build>/bench-cache/real/ in full mode and in the work
directory in quick mode.

Invariants:
  - every run of every workload checks its result (tar: the extracted
    tree's manifest, dd: the SHA-256 of the file, pgbench: no failed
    transaction and agreeing balances, SQLite: rows, their sum and
    integrity_check, git: fsck, HEAD and a clean status, cold reads: every
    block's magic, index and generation) and a wrong result is a bench
    error, never a figure;
  - the targets run in alternation (round 1: native, passthrough, claimfs;
    round 2: ...), and before a run ends the bench has written back dirty
    pages (sync) and waited for claimfs' deferred checkpoint, so no target
    pays for another's leftovers;
  - daemon CPU (utime + stime of /proc/PID/stat) covers the timed step plus
    that sync and checkpoint: the work the daemon did for the step;
  - stop() leaves no process of this group running and no mount mounted.

The issue's targets, per row, are in REAL_RULES; the table with its verdict
column is written by real_report.py. Helpers: real_tree.py (the generated
tree), real_git.py (the generated repository), real_pg.py (PostgreSQL),
real_child.py (timed loops in a child process); real_selftest.py proves the
checks reject wrong results (meson test bench-real-checks).
"""

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time

from bench_procs import BenchError, Passthrough, drop_caches, log
import real_git
import real_pg
from real_tree import TreeSpec, first_difference, manifest_digest, manifest_of_tree

REAL_WORKLOADS = ('tar', 'dd', 'postgres', 'sqlite', 'git', 'cold-read')
REAL_FULL = {
    'tar_trees': [(12000, 130 << 20, ('native', 'passthrough', 'claimfs')),
                  (90000, 1040 << 20, ('native', 'claimfs'))],
    'dd_mib': [256, 512],
    'pg_scale': 20, 'pg_seconds': 30, 'pg_clients': 4, 'pg_threads': 2,
    'sqlite_transactions': 20000,
    'git_files': 2400, 'git_commits': 440,
    'cold_mib': 256, 'cold_reads': 4000,
}
REAL_QUICK = {
    'tar_trees': [(300, 2 << 20, ('native', 'passthrough', 'claimfs')),
                  (900, 4 << 20, ('native', 'claimfs'))],
    'dd_mib': [8],
    'pg_scale': 1, 'pg_seconds': 2, 'pg_clients': 4, 'pg_threads': 2,
    'sqlite_transactions': 300,
    'git_files': 100, 'git_commits': 20,
    'cold_mib': 8, 'cold_reads': 100,
}
SEED = 18
DD_BLOCK = 8192
MIB = 1 << 20
CPU = ('cpu_ms_per_mib', 'daemon CPU ms/MiB written', 'lower')

# The targets: metric -> [(reference, bound)], reference 'passthrough'
# or 'native' (a ratio of claimfs' median to the reference's) or 'abs' (a
# bound on claimfs' median). For a 'lower' metric the ratio must be <= the
# bound, for a 'higher' one >= it.
CPU_RULE = [('abs', 2.5)]
REAL_RULES = {
    'tar': {'seconds': [('passthrough', 1.0), ('native', 2.0)], 'cpu_ms_per_mib': CPU_RULE},
    'dd': {'seconds': [('passthrough', 1.0), ('native', 2.0)], 'cpu_ms_per_mib': CPU_RULE},
    'pgbench-init': {'seconds': [('passthrough', 1.0)], 'cpu_ms_per_mib': CPU_RULE},
    'pgbench-run': {'tps': [('passthrough', 1.0), ('native', 0.9)], 'cpu_ms_per_mib': CPU_RULE},
    'sqlite': {'tx_per_s': [('passthrough', 1.0), ('native', 0.8)], 'cpu_ms_per_mib': CPU_RULE},
    'git': {'seconds': [('passthrough', 1.0), ('native', 2.0)], 'cpu_ms_per_mib': CPU_RULE},
    'cold-read': {'reads_per_s': [('passthrough', 1.0)]},
}
TICK_MS = 1000.0 / os.sysconf('SC_CLK_TCK')


def cpu_ms(pid):
    """utime + stime of process PID (all its threads), in ms."""
    with open('/proc/%d/stat' % pid, encoding='ascii') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_MS


def tree_bytes(root):
    """Bytes of the regular files and symlinks under ROOT (hard links once)."""
    seen, total = set(), 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            st = os.lstat(os.path.join(dirpath, name))
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_size
    return total


def sha256_file(path, limit=None):
    digest, left = hashlib.sha256(), limit
    with open(path, 'rb') as f:
        while left is None or left > 0:
            chunk = f.read(MIB if left is None else min(MIB, left))
            if not chunk:
                break
            digest.update(chunk)
            if left is not None:
                left -= len(chunk)
    return digest.hexdigest()


class RealGroup:
    """The real group's workloads over a Bench's targets (see the file comment)."""

    def __init__(self, bench):
        self.b = bench
        self.sizes = bench.sizes
        self.here = os.path.dirname(os.path.abspath(__file__))
        self.cache = (os.path.join(bench.workdir, 'real-cache') if bench.args.quick
                      else os.path.join(bench.build_dir, 'bench-cache', 'real'))
        os.makedirs(self.cache, exist_ok=True)
        self.passthrough = None     # root, -o default_permissions
        self.pg_passthrough = None  # the postgres user, -o default_permissions,allow_other
        self.rules = {}             # case -> REAL_RULES entry

    # -- targets --

    def start(self):
        if 'passthrough' in self.b.targets:
            self.passthrough = Passthrough(
                os.path.join(self.b.bin_dir, 'passthrough_ll'),
                os.path.join(self.b.workdir, 'real-passthrough-src'),
                os.path.join(self.b.workdir, 'real-passthrough-mnt'),
                os.path.join(self.b.workdir, 'real-passthrough.log'), 'default_permissions')
            self.passthrough.start()

    def stop(self):
        for p in (self.pg_passthrough, self.passthrough):
            if p is not None:
                p.stop()

    def dir(self, target, name):
        """Directory NAME on TARGET: a claim on claimfs, a directory elsewhere."""
        if target == 'passthrough':
            path = os.path.join(self.passthrough.mnt, name)
            os.makedirs(path, exist_ok=True)
            return path
        return self.b.target_dir(target, name)

    def daemon_pid(self, target, pg=False):
        if target == 'claimfs':
            self.b.claimfsd.check_alive()
            return self.b.claimfsd.proc.pid
        if target == 'passthrough':
            p = self.pg_passthrough if pg else self.passthrough
            if not p.alive():
                raise BenchError('passthrough_ll is not running')
            return p.proc.pid
        return None

    def settle(self, target):
        """Write back dirty pages and let claimfs finish its deferred checkpoint."""
        os.sync()
        if target == 'claimfs':
            self.b.claimfsd.settle()

    # -- recording --

    def declare(self, case, workload, rule, metrics):
        self.b.declare(case, workload, metrics)
        self.rules[case] = REAL_RULES[rule]

    def record(self, case, target, res, cpu0, pid, written):
        """Record RES with the daemon CPU since CPU0 per MiB WRITTEN."""
        if pid is not None:
            res['cpu_ms'] = cpu_ms(pid) - cpu0
            res['written_mib'] = written / MIB
            if written > 0:
                res['cpu_ms_per_mib'] = res['cpu_ms'] / res['written_mib']
        self.b.record(case, target, res)
        cpu = ('  daemon CPU %.0f ms, %.2f ms/MiB of %.1f MiB'
               % (res['cpu_ms'], res.get('cpu_ms_per_mib', 0), res['written_mib'])
               if pid is not None else '')
        main = ', '.join('%s %.2f' % (k, res[k]) for k in ('seconds', 'tps', 'tx_per_s',
                                                            'reads_per_s') if k in res)
        log('%-46s %-11s %s%s' % (case, target, main, cpu))

    def each_round(self, what, targets, one):
        for r in self.b.rounds():
            for t in targets:
                if t in self.b.targets:
                    self.b.attempt('%s round %d on %s' % (what, r + 1, t),
                                   lambda t=t, r=r: one(t, r))

    def run_timed(self, cmd, timeout=3600):
        t0 = time.monotonic()
        try:
            res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                 timeout=timeout, check=False)
        except subprocess.TimeoutExpired as e:
            raise BenchError('%s timed out after %s s' % (' '.join(cmd), e.timeout)) from e
        seconds = time.monotonic() - t0
        if res.returncode != 0:
            raise BenchError('%s exited with %d:\n%s' % (' '.join(cmd), res.returncode,
                                                          res.stderr.strip()[-2000:]))
        return seconds, res.stdout

    def child(self, *argv):
        _secs, out = self.run_timed([sys.executable, os.path.join(self.here, 'real_child.py')]
                                    + [str(a) for a in argv])
        return json.loads(out.strip().splitlines()[-1])

    # -- generated inputs (cached) --

    def cached(self, name, build):
        """CACHE/NAME built by BUILD(path) -> json-able info, once; returns (path, info)."""
        path, stamp = os.path.join(self.cache, name), os.path.join(self.cache, name + '.json')
        if os.path.exists(stamp) and os.path.exists(path):
            with open(stamp, encoding='utf-8') as f:
                return path, json.load(f)
        log('generating %s (cached for later runs)' % path)
        for old in (path, path + '.partial'):
            if os.path.isdir(old):
                shutil.rmtree(old)
            elif os.path.exists(old):
                os.unlink(old)
        info = build(path + '.partial')
        os.rename(path + '.partial', path)
        with open(stamp, 'w', encoding='utf-8') as f:
            json.dump(info, f)
        return path, info

    def tree_archive(self, entries, nbytes):
        spec = TreeSpec(SEED, entries, nbytes)

        name = 'tree-%d-%d-%d.tar' % (SEED, entries, nbytes)

        def build(path):
            digest = spec.write_archive(path)
            # What an extraction must hold, for naming the first difference.
            with open(os.path.join(self.cache, name + '.manifest'), 'w', encoding='utf-8') as f:
                json.dump(spec.manifest(), f, ensure_ascii=False)
            return {'digest': digest, 'entries': len(spec.entries), 'file_bytes': spec.file_bytes}
        return self.cached(name, build)

    # -- workloads --

    def run_tar(self):
        for entries, nbytes, targets in self.sizes['tar_trees']:
            archive, info = self.tree_archive(entries, nbytes)
            case = 'tar -xf, %d entries, %.0f MiB%s' % (
                info['entries'], info['file_bytes'] / MIB,
                '' if 'passthrough' in targets else ' (claimfs, native)')
            self.declare(case, 'tar', 'tar', [('seconds', 's', 'lower'), CPU])
            expected = None

            def one(t, r, archive=archive, info=info, case=case):
                nonlocal expected
                dest = os.path.join(self.dir(t, 'tar'), 'r%d' % r)
                os.mkdir(dest)
                self.settle(t)
                pid = self.daemon_pid(t)
                cpu0 = cpu_ms(pid) if pid else 0
                secs, _ = self.run_timed(['tar', '-xf', archive, '-C', dest])
                self.settle(t)
                self.record(case, t, {'seconds': secs}, cpu0, pid, info['file_bytes'])
                if expected is None:
                    with open(archive + '.manifest', encoding='utf-8') as f:
                        expected = json.load(f)
                have = manifest_of_tree(dest)
                if manifest_digest(have) != info['digest']:
                    raise BenchError('tar -xf on %s: the tree differs from the archive; first '
                                     'difference: %s' % (t, first_difference(expected, have)))
                shutil.rmtree(dest)
                self.settle(t)
            self.each_round(case, targets, one)

    def dd_source(self, mib):
        def build(path):
            rng = random.Random(SEED)
            digests = {}
            with open(path, 'wb') as f:
                for i in range(mib):
                    f.write(rng.randbytes(MIB))
                    if i + 1 in self.sizes['dd_mib']:
                        f.flush()
                        digests[str(i + 1)] = sha256_file(path, (i + 1) * MIB)
            return {'sha256': digests}
        return self.cached('dd-%d-%s.bin' % (SEED, '-'.join(map(str, self.sizes['dd_mib']))),
                           build)

    def run_dd(self):
        source, info = self.dd_source(max(self.sizes['dd_mib']))
        for mib in self.sizes['dd_mib']:
            case = 'dd bs=8k conv=fsync, %d MiB' % mib
            self.declare(case, 'dd', 'dd', [('seconds', 's', 'lower'), CPU])

            def one(t, r, mib=mib, case=case):
                del r
                dest = os.path.join(self.dir(t, 'dd'), 'dd.bin')
                sha256_file(source, mib * MIB)  # the source in the page cache, untimed
                self.settle(t)
                pid = self.daemon_pid(t)
                cpu0 = cpu_ms(pid) if pid else 0
                secs, _ = self.run_timed(['dd', 'if=' + source, 'of=' + dest, 'bs=%d' % DD_BLOCK,
                                          'count=%d' % (mib * MIB // DD_BLOCK), 'conv=fsync',
                                          'status=none'])
                self.settle(t)
                self.record(case, t, {'seconds': secs, 'mib_per_s': mib / secs}, cpu0, pid,
                            mib * MIB)
                size = os.path.getsize(dest)
                if size != mib * MIB or sha256_file(dest) != info['sha256'][str(mib)]:
                    raise BenchError('dd on %s: %s holds %d bytes that differ from the source'
                                     % (t, dest, size))
                os.unlink(dest)
                self.settle(t)
            self.each_round(case, ('native', 'passthrough', 'claimfs'), one)

    def pg_data_dir(self, target):
        if target != 'passthrough':
            return os.path.join(self.dir(target, 'pg'), 'data')
        if self.pg_passthrough is None:
            uid, gid = real_pg.pg_ids()
            src = os.path.join(self.b.workdir, 'real-pg-passthrough-src')
            mnt = os.path.join(self.b.workdir, 'real-pg-passthrough-mnt')
            for d in (src, mnt):
                os.makedirs(d, exist_ok=True)
                os.chown(d, uid, gid)
            self.pg_passthrough = Passthrough(
                os.path.join(self.b.bin_dir, 'passthrough_ll'), src, mnt,
                os.path.join(self.b.workdir, 'real-pg-passthrough.log'),
                'default_permissions,allow_other', user=(uid, gid))
            self.pg_passthrough.start()
        return os.path.join(self.pg_passthrough.mnt, 'data')

    def run_postgres(self):
        reason = real_pg.missing_reason()
        scale, secs = self.sizes['pg_scale'], self.sizes['pg_seconds']
        clients, threads = self.sizes['pg_clients'], self.sizes['pg_threads']
        init_case = 'pgbench -i -s %d (MiB = WAL written)' % scale
        run_case = 'pgbench -c%d -j%d -T%d (MiB = WAL written)' % (clients, threads, secs)
        if reason:
            self.b.notes.append('PostgreSQL rows skipped: %s' % reason)
            log('SKIP postgres: %s' % reason)
            return
        self.declare(init_case, 'postgres', 'pgbench-init', [('seconds', 's', 'lower'), CPU])
        self.declare(run_case, 'postgres', 'pgbench-run', [('tps', 'tps', 'higher'), CPU])
        servers = {}

        def one(t, r):
            del r
            if t not in servers:
                servers[t] = real_pg.Postgres(self.pg_data_dir(t),
                                              os.path.join(self.b.workdir, 'real-pg-%s.log' % t))
                servers[t].initdb()
            pg = servers[t]
            pg.start()
            try:
                self.settle(t)
                pid = self.daemon_pid(t, pg=True)
                lsn = pg.wal_lsn()
                cpu0 = cpu_ms(pid) if pid else 0
                seconds = pg.pgbench_init(scale)
                self.settle(t)
                self.record(init_case, t, {'seconds': seconds}, cpu0, pid, pg.wal_bytes_since(lsn))
                lsn = pg.wal_lsn()
                cpu0 = cpu_ms(pid) if pid else 0
                tps, done = pg.pgbench_run(clients, threads, secs)
                self.settle(t)
                self.record(run_case, t, {'tps': tps, 'transactions': done}, cpu0, pid,
                            pg.wal_bytes_since(lsn))
            finally:
                pg.stop()
            self.settle(t)
        try:
            self.each_round('postgres', ('native', 'passthrough', 'claimfs'), one)
        finally:
            for pg in servers.values():
                pg.stop()

    def run_sqlite(self):
        n = self.sizes['sqlite_transactions']
        case = 'SQLite WAL synchronous=FULL, %d one-row transactions' % n
        self.declare(case, 'sqlite', 'sqlite', [('tx_per_s', 'transactions/s', 'higher'), CPU])

        def one(t, r):
            del r
            path = os.path.join(self.dir(t, 'sqlite'), 'bench.db')
            self.settle(t)
            pid = self.daemon_pid(t)
            cpu0 = cpu_ms(pid) if pid else 0
            res = self.child('sqlite', path, '--transactions', n)
            self.settle(t)
            self.record(case, t, res, cpu0, pid, res['written_bytes'])
            for suffix in ('', '-wal', '-shm'):
                if os.path.exists(path + suffix):
                    os.unlink(path + suffix)
        self.each_round(case, ('native', 'passthrough', 'claimfs'), one)

    def run_git(self):
        files, commits = self.sizes['git_files'], self.sizes['git_commits']
        source, info = self.cached('git-%d-%d-%d.git' % (SEED, files, commits), lambda p: {
            'objects': real_git.make_source(p, SEED, files, commits)})
        case = 'git clone --no-local, %d objects' % info['objects']
        self.declare(case, 'git', 'git', [('seconds', 's', 'lower'), CPU])

        def one(t, r):
            dest = os.path.join(self.dir(t, 'git'), 'clone-%d' % r)
            self.settle(t)
            pid = self.daemon_pid(t)
            cpu0 = cpu_ms(pid) if pid else 0
            secs, _ = self.run_timed(['git', 'clone', '-q', '--no-local', source, dest])
            self.settle(t)
            self.record(case, t, {'seconds': secs}, cpu0, pid, tree_bytes(dest))
            real_git.clone_check(source, dest)
            shutil.rmtree(dest)
            self.settle(t)
        self.each_round(case, ('native', 'passthrough', 'claimfs'), one)

    def run_cold_read(self):
        size, reads = self.sizes['cold_mib'] * MIB, self.sizes['cold_reads']
        case = 'cold 8 KiB random reads, %d MiB file, %d reads' % (size // MIB, reads)
        self.b.declare(case, 'cold-read', [('reads_per_s', 'reads/s', 'higher'),
                                           ('latency_p99_us', 'p99 µs', 'lower')])
        self.rules[case] = REAL_RULES['cold-read']
        prepared = set()

        def one(t, r):
            path = os.path.join(self.dir(t, 'cold'), 'cold.bin')
            if t not in prepared:
                self.b.prog('bench-randio', 'prepare', path, '--size', size)
                prepared.add(t)
            self.settle(t)
            if t == 'claimfs':
                # claimfsd's own page cache (SQLite's) would serve re-read
                # blocks without a disk read: a fresh claimfsd starts empty.
                status = self.b.claimfsd.stop()
                if status != 0:
                    raise BenchError('claimfsd exited with %s on SIGTERM before a cold read:\n%s'
                                     % (status, self.b.claimfsd.log_tail()))
                self.b.claimfsd.start()
            if not drop_caches():
                raise BenchError('could not drop the page cache: cold reads would be warm')
            res = self.child('coldread', path, '--size', size, '--reads', reads,
                             '--seed', SEED + r)
            self.record(case, t, res, 0, None, 0)
        self.each_round(case, ('native', 'passthrough', 'claimfs'), one)

    def run(self, workload):
        {'tar': self.run_tar, 'dd': self.run_dd, 'postgres': self.run_postgres,
         'sqlite': self.run_sqlite, 'git': self.run_git,
         'cold-read': self.run_cold_read}[workload]()
