#!/usr/bin/env python3
"""crashloop.py - SIGKILL claimfsd under concurrent writers, N times, and prove nothing was lost.

Owns: one work directory (store, mount, writer logs), one claimfsd (through
the Daemon fixture) and the crashwriter processes; all are gone when the
program exits, whatever happened (exceptions, SIGINT, SIGTERM).

Each cycle:
  1. start every writer: it first verifies its directory against its log
     (every write whose fsync - or close, per the durability contract -
     returned 0 must be present and exact) and prints "verified ...";
  2. let them run for a seeded random time, then SIGKILL the daemon;
  3. wait for the writers: each must stop on ENOTCONN/ECONNABORTED, nothing else;
  4. run `claimfsd --check --store` on the stopped store: it must exit 0, or 1
     with nothing but orphans (files unlinked while open at the kill, which
     the next start reclaims);
  5. restart the daemon on the same store and mount (it detaches the stale mount).
After the last cycle every writer verifies once more, the daemon is stopped
cleanly and the check must find no problem at all.

With --supervise (issue 16) the daemon runs as `claimfsd --supervise` and
each cycle SIGKILLs its worker instead, while the writers keep running:
  1. the writers run for a seeded random time; the worker is SIGKILLed and
     a new one must serve within a bound;
  2. every writer must still be running: any error a writer saw (ENOTCONN,
     EIO, anything) ends it, and that fails the run;
  3. `claimfsd --backup` writes a copy of the store while the new worker
     serves it, and the copy must pass the check (the store itself is locked
     by the worker; the copy holds everything committed before it began);
  4. every --verify-every kills, each writer must have acknowledged new
     operations since the last time (none hung), is SIGKILLed (its operation
     in flight is then resolved like one the daemon's death interrupted) and
     restarted, and verifies every write it had acknowledged.
The end is the same: every writer verifies, the supervisor is stopped
cleanly and the check of the store must find no problem at all.

    crashloop.py --cycles 1000 --seed 7            # prints the totals
    crashloop.py --cycles 30 --seed 1 --tap        # the meson test
    crashloop.py --supervise --cycles 1000         # make crash-soak, worker kills

Exit status: 0 when every check passed, 1 otherwise.
"""

import argparse
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                               '..', 'integration', 'lib')))
from daemon import Daemon  # noqa: E402
from supervised import READY_S, kill_worker  # noqa: E402

NAMESPACE = 'default'
CLAIM_SIZE = '256Mi'
# (claim, writer kind[:variant]): several writers share a claim, every kind runs.
WRITERS = [
    ('crash-0', 'counter:0'), ('crash-0', 'append'), ('crash-0', 'tree'),
    ('crash-1', 'counter:1'), ('crash-1', 'seq:0'),
    ('crash-2', 'rename'), ('crash-2', 'link'), ('crash-2', 'seq:1'),
    ('crash-3', 'trunc'), ('crash-3', 'counter:0'),
]
# How long writers run before the kill: mostly short, sometimes right at start-up.
RUN_TIMES = [(0.0, 0.05), (0.05, 0.4), (0.2, 1.2)]
WRITER_START_TIMEOUT = 120.0
WRITER_STOP_TIMEOUT = 30.0
CHECK_TIMEOUT = 300.0


class Failure(Exception):
    """A check of the crash loop failed."""


class Reporter:
    """Prints progress, or TAP when asked; counts failures."""

    def __init__(self, tap):
        self.tap = tap
        self.count = 0
        self.failed = 0

    def result(self, ok, desc, diag=''):
        """One checked step."""
        self.count += 1
        if not ok:
            self.failed += 1
        if self.tap:
            print('%s %d - %s' % ('ok' if ok else 'not ok', self.count, desc.replace('#', '')))
        elif not ok:
            print('FAIL: %s' % desc)
        if diag and not ok:
            self.diag(diag)
        sys.stdout.flush()

    def diag(self, text):
        """Diagnostics (TAP comments)."""
        for line in str(text).splitlines():
            print(('# ' if self.tap else '  ') + line)
        sys.stdout.flush()

    def info(self, text):
        """Progress line (a TAP comment under --tap)."""
        print(('# ' if self.tap else '') + text)
        sys.stdout.flush()


class Writer:
    """One crashwriter: kind, directory inside a claim, log outside the mount."""

    def __init__(self, index, claim, kind, daemon, logdir, seed, binary):
        self.index = index
        self.claim = claim
        self.kind = kind
        self.dir = os.path.join(daemon.claim_path(NAMESPACE, claim),
                                'w%02d-%s' % (index, kind.replace(':', '-')))
        self.log = os.path.join(logdir, 'w%02d-%s.log' % (index, kind.replace(':', '-')))
        self.seed = seed * 1000 + index
        self.binary = binary
        self.proc = None
        self.out = b''
        self.err_path = self.log + '.stderr'
        self.acks_seen = 0

    def argv(self, verify_only=False):
        """crashwriter command line."""
        args = [self.binary, '--kind', self.kind, '--dir', self.dir, '--log', self.log,
                '--seed', str(self.seed), '--seconds', '300']
        return args + (['--verify-only'] if verify_only else [])

    def start(self, verify_only=False):
        """Spawn the process (stdout piped, stderr to a file next to the log)."""
        self.out = b''
        with open(self.err_path, 'wb') as err:
            self.proc = subprocess.Popen(self.argv(verify_only), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=err)
        os.set_blocking(self.proc.stdout.fileno(), False)

    def pump(self):
        """Read what the process printed so far."""
        try:
            chunk = self.proc.stdout.read()
        except (BlockingIOError, ValueError):
            chunk = None
        if chunk:
            self.out += chunk

    def has_line(self, prefix):
        """Did the process print a line starting with prefix?"""
        return any(l.startswith(prefix) for l in self.out.decode('utf-8', 'replace').splitlines())

    def verified(self):
        """(acks, objects, lost) from the 'verified' line, or None."""
        m = re.search(rb'verified acks=(\d+) objects=(\d+) lost=(\d+)', self.out)
        return tuple(int(x) for x in m.groups()) if m else None

    def stderr_text(self):
        """What the process wrote to stderr."""
        try:
            with open(self.err_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def kill(self):
        """SIGKILL and reap (cleanup path)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()
            self.pump()
            self.proc.stdout.close()

    def name(self):
        """Human name."""
        return '%s/%s' % (self.claim, os.path.basename(self.dir))


def wait_for(writers, predicate, timeout):
    """Pump every writer until predicate(w) holds for each or timeout; returns laggards."""
    deadline = time.monotonic() + timeout
    waiting = list(writers)
    while waiting and time.monotonic() < deadline:
        fds = [w.proc.stdout for w in waiting if w.proc.poll() is None]
        if fds:
            select.select(fds, [], [], 0.05)
        else:
            time.sleep(0.01)
        for w in waiting:
            w.pump()
        waiting = [w for w in waiting if not predicate(w)]
    return waiting


def run_check(daemon, repair=False):
    """claimfsd --check on the stopped store: (exit code, output)."""
    argv = [daemon.binary, '--check', '--store', daemon.store] + (['--repair'] if repair else [])
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=CHECK_TIMEOUT, check=False)
    return proc.returncode, proc.stdout.decode('utf-8', 'replace')


def check_after_kill(daemon):
    """The check between kill and restart: consistent but for orphans. Returns (ok, orphans, text)."""
    rc, text = run_check(daemon)
    problems = [l for l in text.splitlines()
                if l.strip() and not l.startswith(daemon.store + ':')]
    others = [l for l in problems if not l.startswith('orphans:')]
    ok = rc == 0 or (rc == 1 and problems and not others)
    return ok, len(problems) - len(others), text


class CrashLoop:
    """The whole run: one daemon, the writers, the totals."""

    def __init__(self, args, rep):
        self.args = args
        self.rep = rep
        self.rng = random.Random(args.seed)
        self.workdir = args.workdir or tempfile.mkdtemp(prefix='claimfs-crash-')
        os.makedirs(self.workdir, exist_ok=True)
        self.logdir = os.path.join(self.workdir, 'logs')
        os.makedirs(self.logdir, exist_ok=True)
        self.daemon = Daemon(self.workdir)
        if args.daemon:
            self.daemon.binary = args.daemon
        self.writers = [Writer(i, claim, kind, self.daemon, self.logdir, args.seed, args.writer)
                        for i, (claim, kind) in enumerate(WRITERS)
                        if not args.only or kind.split(':')[0] in args.only.split(',')]
        self.kills = 0
        self.verified_acks = 0
        self.objects = 0
        self.lost = 0
        self.orphans = 0
        self.checks = 0
        self.stopped_ops = 0

    def cleanup(self):
        """Stop writers and daemon, unmount, remove the work directory (unless kept)."""
        for w in self.writers:
            w.kill()
        self.daemon.stop()
        if self.args.keep or (self.rep.failed and self.args.keep_on_failure):
            self.rep.info('work directory kept: %s' % self.workdir)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def start_writers(self, verify_only):
        """Start every writer and wait for its verification; record the figures."""
        for w in self.writers:
            w.start(verify_only)
        late = wait_for(self.writers, lambda w: w.verified() is not None or w.proc.poll() is not None,
                        WRITER_START_TIMEOUT)
        if late:
            raise Failure('writers never verified: %s' % ', '.join(w.name() for w in late))
        for w in self.writers:
            v = w.verified()
            if v is None:
                # A writer that could not verify (a syscall failed) has not
                # found a loss: say what happened, do not count it as one.
                w.proc.wait()
                raise Failure('%s: exit %s before verifying:\n%s%s' %
                              (w.name(), w.proc.returncode, w.out.decode('utf-8', 'replace'),
                               w.stderr_text()[-3000:]))
            if v[2] != 0:
                w.proc.wait()
                self.lost += v[2]
                raise Failure('%s: verification failed (exit %s):\n%s' %
                              (w.name(), w.proc.returncode, w.stderr_text()[-3000:]))
            acks, objects, _ = v
            self.verified_acks += acks - w.acks_seen
            w.acks_seen = acks
            self.objects += objects

    def stop_writers(self):
        """After the kill: every writer must stop on the daemon's death, and nothing else."""
        late = wait_for(self.writers, lambda w: w.proc.poll() is not None, WRITER_STOP_TIMEOUT)
        for w in late:
            w.kill()
        if late:
            raise Failure('writers hung after the kill: %s' % ', '.join(w.name() for w in late))
        for w in self.writers:
            w.pump()
            w.proc.stdout.close()
            m = re.search(rb'stopped \w+ ops=(\d+)', w.out)
            if m:
                self.stopped_ops += int(m.group(1))
            if w.proc.returncode != 0:
                raise Failure('%s: exit %d after the kill:\n%s%s' %
                              (w.name(), w.proc.returncode, w.out.decode('utf-8', 'replace'),
                               w.stderr_text()[-3000:]))

    def setup(self):
        """First start: the claims."""
        self.daemon.start()
        for claim in sorted({w.claim for w in self.writers}):
            self.daemon.create_claim(NAMESPACE, claim, storage=CLAIM_SIZE)

    def cycle(self, n):
        """One kill/check/restart cycle."""
        self.start_writers(verify_only=False)
        late = wait_for(self.writers, lambda w: w.has_line('running') or w.proc.poll() is not None,
                        WRITER_START_TIMEOUT)
        if late:
            raise Failure('writers never started running: %s' % ', '.join(w.name() for w in late))
        for w in self.writers:
            if w.proc.poll() is not None:
                w.proc.wait()
                raise Failure('%s exited before the kill (exit %d):\n%s%s' %
                              (w.name(), w.proc.returncode, w.out.decode('utf-8', 'replace'),
                               w.stderr_text()[-3000:]))
        lo, hi = self.rng.choice(RUN_TIMES)
        time.sleep(self.rng.uniform(lo, hi))
        self.daemon.kill()
        self.kills += 1
        self.stop_writers()
        ok, orphans, text = check_after_kill(self.daemon)
        self.checks += 1
        self.orphans += orphans
        if not ok:
            raise Failure('claimfsd --check after kill %d:\n%s' % (n, text[-3000:]))
        self.daemon.start()

    def final(self):
        """Verify everything once more, stop cleanly, and the check must be spotless."""
        for w in self.writers:
            w.kill()
        self.start_writers(verify_only=True)
        for w in self.writers:
            w.proc.wait()
            w.pump()
            w.proc.stdout.close()
        self.daemon.stop()
        rc, text = run_check(self.daemon)
        self.checks += 1
        return rc, text

    def tamper_self_test(self):
        """The verifier must be able to fail: corrupt acknowledged data through the
        mount and expect LOST from the writers that own it."""
        self.daemon.start()
        counter = next((w for w in self.writers if w.kind == 'counter:0'), None)
        append = next((w for w in self.writers if w.kind == 'append'), None)
        if counter is None or append is None:
            raise Failure('--self-test needs the counter:0 and append writers')
        with open(os.path.join(counter.dir, 'visits.txt'), 'r+b') as f:
            f.write(b'00000000000000000000\n'[:21])
        with open(os.path.join(append.dir, 'journal'), 'r+b') as f:
            # Half the records: far more than any operation in flight at the kill.
            f.truncate(os.fstat(f.fileno()).st_size // 128 * 64)
        results = []
        for w in (counter, append):
            w.start(verify_only=True)
            w.proc.wait()
            w.pump()
            w.proc.stdout.close()
            results.append((w, w.proc.returncode, w.stderr_text()))
        self.daemon.stop()
        return results


class SupervisedCrashLoop(CrashLoop):
    """--supervise: the worker dies, the writers and their files live on."""

    def __init__(self, args, rep):
        super().__init__(args, rep)
        self.copy = os.path.join(self.workdir, 'check-copy.db')
        self.log_sizes = {}

    def setup(self):
        """First start (supervised), the claims, the writers."""
        self.daemon.start(['--supervise'])
        for claim in sorted({w.claim for w in self.writers}):
            self.daemon.create_claim(NAMESPACE, claim, storage=CLAIM_SIZE)
        self.start_running()

    def start_running(self):
        """(Re)start the writers: each verifies its log, then runs."""
        self.start_writers(verify_only=False)
        late = wait_for(self.writers, lambda w: w.has_line('running') or w.proc.poll() is not None,
                        WRITER_START_TIMEOUT)
        if late:
            raise Failure('writers never started running: %s' % ', '.join(w.name() for w in late))
        self.check_running('at start')
        self.log_sizes = {w.log: os.path.getsize(w.log) for w in self.writers}

    def check_running(self, when):
        """Every writer is still at work: one that ended saw an error."""
        for w in self.writers:
            w.pump()
            if w.proc.poll() is not None:
                w.proc.wait()
                w.pump()
                raise Failure('%s ended %s (exit %d): the writer saw an error:\n%s%s' %
                              (w.name(), when, w.proc.returncode, w.out.decode('utf-8', 'replace'),
                               w.stderr_text()[-3000:]))

    def check_copy(self, n):
        """claimfsd --backup beside the serving worker: the copy passes the check."""
        argv = [self.daemon.binary, '--store', self.daemon.store, '--backup', self.copy]
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=CHECK_TIMEOUT, check=False)
        self.checks += 1
        try:
            os.unlink(self.copy)
        except FileNotFoundError:
            pass
        if proc.returncode != 0:
            raise Failure('claimfsd --backup (checked copy) after kill %d: exit %d\n%s' %
                          (n, proc.returncode, proc.stdout.decode('utf-8', 'replace')[-3000:]))

    def restart_writers(self):
        """Each writer made progress (no call hung), then is killed and
        restarted: its verification proves no acknowledged write was lost."""
        idle = [w.name() for w in self.writers if os.path.getsize(w.log) <= self.log_sizes[w.log]]
        if idle:
            raise Failure('writers acknowledged nothing across %d worker kills (hung?): %s' %
                          (self.args.verify_every, ', '.join(idle)))
        for w in self.writers:
            w.kill()
        self.start_running()

    def cycle(self, n):
        """One worker kill under the running writers."""
        lo, hi = self.rng.choice(RUN_TIMES)
        time.sleep(self.rng.uniform(lo, hi))
        if not kill_worker(self.daemon, signal.SIGKILL):
            raise Failure('no new worker served within %.0f s after kill %d' % (READY_S, n))
        self.kills += 1
        self.check_running('after worker kill %d' % n)
        self.check_copy(n)
        if n % self.args.verify_every == 0:
            self.restart_writers()


def parse_args(argv):
    """Command line."""
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--cycles', type=int, default=50, help='daemon kills (default 50)')
    p.add_argument('--seed', type=int, default=1, help='seed of kill moments and writers')
    p.add_argument('--tap', action='store_true', help='print TAP (for meson)')
    p.add_argument('--self-test', action='store_true',
                   help='finally corrupt acknowledged data and expect the verifier to catch it')
    p.add_argument('--only', help='run only these writer kinds (comma-separated, e.g. trunc,link)')
    p.add_argument('--workdir', help='use this directory (default: a new temporary one)')
    p.add_argument('--keep', action='store_true', help='keep the work directory')
    p.add_argument('--keep-on-failure', action='store_true', help='keep it when a check fails')
    p.add_argument('--time-limit', type=float, default=0,
                   help='stop starting new cycles after this many seconds (0: none)')
    p.add_argument('--supervise', action='store_true',
                   help='run claimfsd --supervise and kill its worker; writers must see no error')
    p.add_argument('--verify-every', type=int, default=20,
                   help='with --supervise: restart and verify the writers every N kills (default 20)')
    p.add_argument('--daemon', default=os.environ.get('CLAIMFSD'), help='claimfsd binary')
    p.add_argument('--writer', default=os.environ.get('CLAIMFS_CRASHWRITER'),
                   help='crashwriter binary')
    return p.parse_args(argv)


def skip(rep, reason):
    """Skip the whole run (TAP plan 1..0)."""
    if rep.tap:
        print('1..0 # SKIP %s' % reason)
    else:
        print('skipped: %s' % reason)
    sys.exit(0)


def main(argv):
    """Run the loop; return the exit status."""
    args = parse_args(argv)
    rep = Reporter(args.tap)
    if os.geteuid() != 0 or not os.path.exists('/dev/fuse'):
        skip(rep, 'needs root and /dev/fuse')
    if not args.daemon or not os.access(args.daemon, os.X_OK):
        skip(rep, 'no claimfsd (set CLAIMFSD or --daemon)')
    if not args.writer or not os.access(args.writer, os.X_OK):
        skip(rep, 'no crashwriter (set CLAIMFS_CRASHWRITER or --writer)')

    def on_signal(signum, frame):
        raise SystemExit('interrupted by signal %d' % signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    loop = (SupervisedCrashLoop if args.supervise else CrashLoop)(args, rep)
    started = time.monotonic()
    try:
        loop.setup()
        rep.info('crash loop: %d %s, seed %d, %d writers on %d claims, work dir %s' %
                 (args.cycles, 'worker kills (--supervise)' if args.supervise else 'daemon kills', args.seed,
                  len(loop.writers), len({w.claim for w in loop.writers}), loop.workdir))
        for n in range(1, args.cycles + 1):
            if args.time_limit and time.monotonic() - started > args.time_limit:
                rep.info('time limit reached after %d cycles' % (n - 1))
                break
            try:
                loop.cycle(n)
                if args.tap:
                    rep.result(True, ('worker kill %d: a new worker serves, every writer runs on, checked copy'
                                      if args.supervise else
                                      'kill %d: writers stopped cleanly, check passed, restarted') % n)
                elif n % 50 == 0:
                    rep.info('%d kills, %d acknowledged writes verified, %.0f s' %
                             (loop.kills, loop.verified_acks, time.monotonic() - started))
            except Failure as e:
                rep.result(False, 'kill %d' % n, str(e) + '\n--- daemon log ---\n' +
                           loop.daemon.log_tail(30))
                break
        if not rep.failed:
            try:
                rc, text = loop.final()
                rep.result(True, 'final verification of every writer')
                rep.result(rc == 0, 'claimfsd --check after a clean stop exits 0', text[-3000:])
            except Failure as e:
                rep.result(False, 'final verification', str(e))
        if args.self_test and not rep.failed:
            for w, rc, err in loop.tamper_self_test():
                rep.result(rc == 1 and 'LOST' in err,
                           'self-test: %s catches corrupted acknowledged data' % w.kind,
                           'exit %s, stderr: %s' % (rc, err[-500:]))
    except Exception as e:  # pylint: disable=broad-except
        rep.result(False, 'crash loop aborted: %r' % (e,), loop.daemon.log_tail(30))
    finally:
        loop.cleanup()
    elapsed = time.monotonic() - started
    summary = ('kills: %d, acknowledged writes verified: %d, objects compared: %d, '
               'writer ops: %d, store checks: %d (orphans after kill: %d), lost: %d, %.1f s' %
               (loop.kills, loop.verified_acks, loop.objects, loop.stopped_ops, loop.checks,
                loop.orphans, loop.lost, elapsed))
    rep.info(summary)
    if args.tap:
        print('1..%d' % rep.count)
    else:
        print('%s' % ('FAILED' if rep.failed else 'ok'))
    return 1 if rep.failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
