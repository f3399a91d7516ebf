#!/usr/bin/env python3
"""test_pgbench.py - PostgreSQL in a claim survives SIGKILLs of claimfsd's
worker (issue 16).

claimfsd --supervise serves a claim; PostgreSQL 15 (Debian's binaries in
/usr/lib/postgresql/15/bin) runs its own cluster in it, as an unprivileged
user (postgres refuses root), listening only on a unix socket in a
directory outside the mount. `pgbench -i` loads it, then `pgbench -c 4 -T S`
runs while the worker is SIGKILLed 3 times, spread over the run. Verdict:
  - pgbench exits 0 and reports 0 failed transactions;
  - the server log has no PANIC, FATAL or ERROR line (a storage error shows
    as one of them: an fsync EIO is a PANIC, ENOTCONN an ERROR or FATAL);
  - `pg_amcheck --all` (heap and B-tree indexes, every database) is clean;
  - after the server and claimfsd stopped, `claimfsd --check` is clean.

    test_pgbench.py [--seconds S]    (default 20; `make crash-soak` runs 60)

Skips (TAP plan 1..0) only where PostgreSQL 15 is not installed.
"""

import argparse
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB', os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import Daemon, wait_for  # noqa: E402
from supervised import kill_worker  # noqa: E402
from tap import Tap  # noqa: E402

PG_BIN = '/usr/lib/postgresql/15/bin'
PG_USER = 'nobody'   # any user but root; nobody exists on every Debian machine
PG_PORT = 5432       # names the socket file in our own directory: no TCP port is taken
KILLS = 3
STEP_TIMEOUT = 120   # initdb, pgbench -i, pg_amcheck, pg_ctl each
# A server log line that says something went wrong. PostgreSQL prefixes each
# message with its severity; storage trouble is reported as ERROR (a failed
# read or write), FATAL (a backend that cannot go on) or PANIC (a failed fsync).
PG_BAD_LINE = re.compile(r'\b(PANIC|FATAL|ERROR):')


def pg(tool):
    return os.path.join(PG_BIN, tool)


def as_user(argv):
    """ARGV run as PG_USER (runuser keeps our environment but for HOME etc.)."""
    return ['runuser', '-u', PG_USER, '--'] + argv


def run(argv, timeout=STEP_TIMEOUT):
    """Run ARGV; (exit status, stdout + stderr)."""
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                           timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        return None, '%s: no answer in %d s\n%s' % (argv[0], timeout, (e.output or b'').decode('utf-8', 'replace'))
    return p.returncode, p.stdout.decode('utf-8', 'replace')


class Cluster:
    """One PostgreSQL cluster: data in the claim, socket and log outside it."""

    def __init__(self, data, rundir):
        self.data = data
        self.sockdir = os.path.join(rundir, 'pgsock')
        self.log = os.path.join(rundir, 'postgres.log')
        self.started = False
        user = pwd.getpwnam(PG_USER)
        for path in (self.sockdir, os.path.dirname(data)):
            os.makedirs(path, exist_ok=True)
            os.chown(path, user.pw_uid, user.pw_gid)
        with open(self.log, 'w'):
            pass
        os.chown(self.log, user.pw_uid, user.pw_gid)

    def client(self, tool, *args):
        return as_user([pg(tool), '-h', self.sockdir, '-p', str(PG_PORT), *args])

    def initdb(self):
        # --no-sync: the cluster's files reach the store within the commit
        # interval anyway; initdb's fsync of every file is only start-up time.
        return run(as_user([pg('initdb'), '-D', self.data, '--auth=trust', '--no-instructions', '--no-sync', '-E', 'UTF8',
                            '--locale=C']))

    def start(self):
        # shared_buffers far below the data (pgbench -i -s 1: 16 MB): the
        # backends and the background writer write pages out all the time, so
        # the worker is killed with acknowledged writes not yet fsynced, not
        # only between a commit's WAL write and its fsync.
        options = ("-c listen_addresses='' -k %s -p %d -c max_connections=10 -c shared_buffers=1MB "
                   "-c fsync=on -c synchronous_commit=on -c full_page_writes=on" % (self.sockdir, PG_PORT))
        rc, out = run(as_user([pg('pg_ctl'), '-D', self.data, '-l', self.log, '-w', '-t', str(STEP_TIMEOUT),
                               '-o', options, 'start']))
        self.started = rc == 0
        return rc, out

    def stop(self, mode='fast'):
        if not self.started:
            return 0, 'not started'
        rc, out = run(as_user([pg('pg_ctl'), '-D', self.data, '-w', '-t', str(STEP_TIMEOUT), '-m', mode, 'stop']))
        if rc == 0:
            self.started = False
        return rc, out

    def kill(self):
        """The cleanup path: the postmaster's pid from its pid file, SIGKILL."""
        try:
            with open(os.path.join(self.data, 'postmaster.pid')) as f:
                os.kill(int(f.readline()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
        self.started = False

    def bad_log_lines(self):
        with open(self.log, encoding='utf-8', errors='replace') as f:
            return [line.rstrip() for line in f if PG_BAD_LINE.search(line)]

    def log_tail(self, lines=30):
        with open(self.log, encoding='utf-8', errors='replace') as f:
            return ''.join(f.readlines()[-lines:])


def pgbench_run(t, d, cluster, seconds):
    """pgbench -c 4 -T SECONDS with KILLS worker SIGKILLs spread over it."""
    proc = subprocess.Popen(cluster.client('pgbench', '-c', '4', '-T', str(seconds), '-n', 'postgres'),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    started = time.monotonic()
    killed = 0
    try:
        for n in range(1, KILLS + 1):
            # At 1/4, 2/4, 3/4 of the run: the worker dies with clients busy.
            delay = started + seconds * n / (KILLS + 1) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if proc.poll() is not None:
                break
            killed += t.ok(kill_worker(d, signal.SIGKILL), 'worker SIGKILL %d at %.1f s: a new worker serves'
                           % (n, time.monotonic() - started), d.log_tail())
        out, _ = proc.communicate(timeout=seconds + STEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    text = out.decode('utf-8', 'replace')
    t.eq(killed, KILLS, 'the worker was SIGKILLed %d times while pgbench ran' % KILLS)
    t.ok(proc.returncode == 0, 'pgbench -c 4 -T %d exits 0' % seconds,
         'status %s\n%s\n--- server log ---\n%s' % (proc.returncode, text[-3000:], cluster.log_tail()))
    failed = re.search(r'number of failed transactions: (\d+)', text)
    done = re.search(r'number of transactions actually processed: (\d+)', text)
    t.ok(failed is not None and int(failed.group(1)) == 0, 'pgbench: 0 failed transactions',
         failed.group(0) if failed else text[-2000:])
    tps = re.search(r'tps = ([\d.]+)', text)
    t.diag('pgbench: %s transactions, %s tps, %d worker kills' %
           (done.group(1) if done else '?', tps.group(1) if tps else '?', killed))


def run_pgbench(t, d, rundir, seconds):
    claim = d.claim_path('default', 'pg')
    cluster = Cluster(os.path.join(claim, 'pgdata'), rundir)
    times = [time.monotonic()]
    try:
        rc, out = cluster.initdb()
        if not t.ok(rc == 0, 'initdb in the claim', out[-3000:]):
            return
        rc, out = cluster.start()
        if not t.ok(rc == 0, 'postgres starts on the claim', out[-2000:] + cluster.log_tail()):
            return
        rc, out = run(cluster.client('pgbench', '-i', '-s', '1', '-q', 'postgres'))
        if not t.ok(rc == 0, 'pgbench -i', out[-3000:]):
            return
        times.append(time.monotonic())
        pgbench_run(t, d, cluster, seconds)
        times.append(time.monotonic())
        rc, out = run(cluster.client('pg_amcheck', '--all', '--install-missing'))
        t.ok(rc == 0, 'pg_amcheck --all is clean', out[-3000:])
        rc, out = cluster.stop()
        t.ok(rc == 0, 'postgres stops cleanly', out[-2000:] + cluster.log_tail())
        bad = cluster.bad_log_lines()
        t.ok(not bad, 'the server log has no PANIC, FATAL or ERROR', '\n'.join(bad[:40]))
        times.append(time.monotonic())
        t.diag('seconds: initdb + start + pgbench -i %.1f, run %.1f, pg_amcheck + stop %.1f' %
               tuple(b - a for a, b in zip(times, times[1:])))
    finally:
        if cluster.started and cluster.stop('immediate')[0] != 0:
            cluster.kill()


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seconds', type=int, default=20, help='pgbench -T (default 20)')
    args = p.parse_args()
    t = Tap()
    missing = [tool for tool in ('initdb', 'pg_ctl', 'pgbench', 'pg_amcheck') if not os.access(pg(tool), os.X_OK)]
    if missing:
        t.skip_all('PostgreSQL 15 is not installed (no %s; Debian package postgresql-15)' % pg(missing[0]))
    root = tempfile.mkdtemp(prefix='claimfs-pgbench-')
    try:
        os.chmod(root, 0o755)
        with Daemon(os.path.join(root, 'claimfs')) as d:
            try:
                d.start(['--supervise'])
                d.create_claim('default', 'pg', storage='1Gi')
            except (RuntimeError, AssertionError) as e:
                t.bail(str(e).replace('\n', ' | '))
            wait_for(lambda: os.path.isdir(d.claim_path('default', 'pg')))
            run_pgbench(t, d, root, args.seconds)
            t.eq(d.log_count(b'lost changes that were acknowledged'), 0,
                 'claimfsd reported no acknowledged change lost (each kill replayed exactly)')
            t.eq(d.stop(), 0, 'SIGTERM to the supervisor: exit 0')
            reports = d.sanitizer_reports()
            t.ok(not reports, 'no sanitizer report in the daemon log', '\n'.join(reports))
            rc, out = run([d.binary, '--check', '--store', d.store])
            t.ok(rc == 0, 'claimfsd --check is clean after the stop', out[-3000:])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    t.done()


if __name__ == '__main__':
    main()
