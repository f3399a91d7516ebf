"""real_pg.py - one PostgreSQL server of the bench's `real` group (stdlib only).

Owns: a data directory made by Debian's initdb, the postmaster started on it
as the `postgres` user (PostgreSQL refuses to run as root) listening only on
a loopback port the kernel picked, and the pgbench and psql runs against it.
Invariants: stop() leaves no process of the server's session running,
whatever state it was in (SIGINT = fast shutdown, then SIGKILL of its
process group, by pid); every pgbench result is checked (exit status 0, no
failed transaction, the balances of accounts, tellers, branches and history
agree) before it is returned, so a fast wrong run fails the bench.
"""

import os
import pwd
import re
import signal
import socket
import subprocess
import time

from bench_procs import BenchError, log, stop_process

PG_BIN = '/usr/lib/postgresql/15/bin'
PG_PROGRAMS = ('initdb', 'postgres', 'pgbench', 'psql', 'pg_isready')
PG_USER = 'postgres'


def missing_reason():
    """Why the PostgreSQL rows cannot run here, or None."""
    missing = [p for p in PG_PROGRAMS if not os.access(os.path.join(PG_BIN, p), os.X_OK)]
    if missing:
        return ('%s missing from %s (Debian package postgresql-15; scripts/install-deps.sh '
                'installs it)' % (', '.join(missing), PG_BIN))
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        return 'no "%s" user (the postgresql-15 package creates it)' % PG_USER
    return None


def pg_ids():
    entry = pwd.getpwnam(PG_USER)
    return entry.pw_uid, entry.pw_gid


def free_loopback_port():
    """A TCP port on 127.0.0.1 the kernel reports free (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def as_postgres():
    """Popen keyword arguments that run a program as the postgres user."""
    uid, gid = pg_ids()
    return {'user': uid, 'group': gid, 'extra_groups': [], 'cwd': '/',
            'env': {'PATH': '/usr/bin:/bin', 'LC_ALL': 'C', 'HOME': '/'}}


class Postgres:
    """initdb once, then start/stop a postmaster on DATA; pgbench against it."""

    def __init__(self, data, log_path):
        self.data, self.log_path = data, log_path
        self.proc = None
        self.port = None

    def initdb(self):
        """A new cluster in DATA (created, owned by postgres); untimed."""
        uid, gid = pg_ids()
        os.makedirs(self.data)
        os.chown(self.data, uid, gid)
        with open(self.log_path, 'ab') as logf:
            res = subprocess.run([os.path.join(PG_BIN, 'initdb'), '-D', self.data, '-U', PG_USER,
                                  '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
                                 stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, check=False,
                                 timeout=600, **as_postgres())
        if res.returncode != 0:
            raise BenchError('initdb of %s exited with %d; see %s'
                             % (self.data, res.returncode, self.log_path))

    def start(self, timeout=120):
        for _attempt in range(3):
            self.port = free_loopback_port()
            with open(self.log_path, 'ab') as logf:
                self.proc = subprocess.Popen(
                    [os.path.join(PG_BIN, 'postgres'), '-D', self.data, '-p', str(self.port),
                     '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=',
                     '-c', 'logging_collector=off'],
                    stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True,
                    **as_postgres())
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                ready = subprocess.run([os.path.join(PG_BIN, 'pg_isready'), '-q', '-h',
                                        '127.0.0.1', '-p', str(self.port)], check=False)
                if ready.returncode == 0:
                    return
                time.sleep(0.1)
            if self.proc.poll() is None:
                self.stop()
                raise BenchError('postgres on %s not ready within %d s; see %s'
                                 % (self.data, timeout, self.log_path))
            # Exited: most likely another process took the port in between.
            log('postgres exited with %d on port %d; trying another port'
                % (self.proc.returncode, self.port))
        raise BenchError('postgres on %s would not start; see %s' % (self.data, self.log_path))

    def stop(self):
        """Fast shutdown (a checkpoint), then SIGKILL of its session if it hangs."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                log('postgres %d ignored a fast shutdown for 120 s; killing it' % self.proc.pid)
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            stop_process(self.proc, timeout=10)
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def client(self, program, *argv, timeout=600):
        cmd = [os.path.join(PG_BIN, program), '-h', '127.0.0.1', '-p', str(self.port),
               '-U', PG_USER] + [str(a) for a in argv]
        try:
            res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                 timeout=timeout, check=False)
        except subprocess.TimeoutExpired as e:
            raise BenchError('%s timed out after %s s' % (' '.join(cmd), e.timeout)) from e
        if res.returncode != 0:
            raise BenchError('%s exited with %d:\n%s' % (' '.join(cmd), res.returncode,
                                                          (res.stderr + res.stdout).strip()[-2000:]))
        return res.stdout + res.stderr

    def query(self, sql):
        return self.client('psql', '-d', 'postgres', '-Atq', '-v', 'ON_ERROR_STOP=1',
                           '-c', sql).strip()

    def wal_lsn(self):
        return self.query('SELECT pg_current_wal_lsn()')

    def wal_bytes_since(self, lsn):
        return int(float(self.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '%s')" % lsn)))

    def pgbench_init(self, scale):
        """pgbench -i -s SCALE; returns seconds (checked: row counts)."""
        t0 = time.monotonic()
        self.client('pgbench', '-i', '-q', '-s', scale, 'postgres')
        seconds = time.monotonic() - t0
        counts = self.query('SELECT (SELECT count(*) FROM pgbench_accounts) || \',\' || '
                            '(SELECT count(*) FROM pgbench_branches)')
        if counts != '%d,%d' % (100000 * scale, scale):
            raise BenchError('pgbench -i -s %d left accounts,branches = %s' % (scale, counts))
        return seconds

    def pgbench_run(self, clients, threads, seconds):
        """pgbench -cC -jJ -TS; returns (tps, transactions), checked."""
        out = self.client('pgbench', '-c', clients, '-j', threads, '-T', seconds, 'postgres',
                          timeout=seconds + 600)
        tps = re.search(r'^tps = ([0-9.]+) \(without initial connection time\)', out, re.M)
        done = re.search(r'^number of transactions actually processed: (\d+)', out, re.M)
        failed = re.search(r'^number of failed transactions: (\d+)', out, re.M)
        if not tps or not done or not failed:
            raise BenchError('pgbench printed no tps/transactions/failures line:\n%s' % out)
        if int(failed.group(1)) != 0 or int(done.group(1)) == 0:
            raise BenchError('pgbench: %s transactions, %s failed:\n%s'
                             % (done.group(1), failed.group(1), out))
        sums = self.query('SELECT (SELECT sum(abalance) FROM pgbench_accounts) || \',\' || '
                          '(SELECT sum(tbalance) FROM pgbench_tellers) || \',\' || '
                          '(SELECT sum(bbalance) FROM pgbench_branches) || \',\' || '
                          '(SELECT sum(delta) FROM pgbench_history) || \',\' || '
                          '(SELECT count(*) FROM pgbench_history)')
        parts = sums.split(',')
        if len(set(parts[:4])) != 1 or parts[4] != done.group(1):
            raise BenchError('pgbench tables disagree after %s transactions: accounts, tellers, '
                             'branches, history sums and history rows = %s'
                             % (done.group(1), sums))
        return float(tps.group(1)), int(done.group(1))
