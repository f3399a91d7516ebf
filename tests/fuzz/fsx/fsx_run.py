#!/usr/bin/env python3
"""fsx_run.py - run the differential filesystem tester against a live claim.

Owns: one work directory with a claimfsd (store, mount) and a reference
directory on a tmpfs of its own (fsx_reference.py, nosuid,nodev like the
claims); everything is stopped, unmounted and removed
at exit, even on failure or SIGINT/SIGTERM.

For each seed, fsx gets a fresh directory inside the claim and a fresh
reference directory and runs --ops operations; every --restart-every
operations it pauses ("RESTART n"), this program stops the daemon cleanly
(SIGTERM), starts it again on the same store and mount, and answers "GO";
fsx then checks the test tree is unchanged (inode numbers and times
included) and goes on.

    fsx_run.py --seeds 1-3 --ops 3000 --restart-every 1000 --tap     # meson
    fsx_run.py --seeds 1-100000 --ops 20000 --restart-every 2500 --duration 1800

Exit 0 when every seed agreed, 1 otherwise (the failing seed and operation
are printed: `fsx --seed S --ops N --verbose` replays it).
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                               '..', '..', 'integration', 'lib')))
from daemon import Daemon  # noqa: E402
from tap import Tap  # noqa: E402
from fsx_reference import reference_tmpfs  # noqa: E402


def parse_seeds(text):
    """'5' or '1-100' -> range."""
    if '-' in text:
        lo, hi = text.split('-', 1)
        return range(int(lo), int(hi) + 1)
    return range(int(text), int(text) + 1)


def run_seed(args, d, seed, refroot):
    """One fsx run; returns (ok, restarts, output)."""
    test = os.path.join(d.claim_path('default', 'fsx'), 'seed-%d' % seed)
    ref = os.path.join(refroot, 'seed-%d' % seed)
    os.mkdir(test)
    os.mkdir(ref)
    argv = [args.fsx, '--test', test, '--ref', ref, '--seed', str(seed), '--ops', str(args.ops)]
    if args.restart_every:
        argv += ['--restart-every', str(args.restart_every)]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    restarts = 0
    out = []
    try:
        for line in proc.stdout:
            text = line.decode('utf-8', 'replace')
            out.append(text)
            if text.startswith('RESTART'):
                d.stop()
                d.start()
                restarts += 1
                proc.stdin.write(b'GO\n')
                proc.stdin.flush()
        err = proc.stderr.read().decode('utf-8', 'replace')
        rc = proc.wait(timeout=args.timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    ok = rc == 0
    if ok:
        shutil.rmtree(test, ignore_errors=True)
        shutil.rmtree(ref, ignore_errors=True)
    return ok, restarts, ''.join(out) + err


def main(argv):
    """Run every seed; TAP (one line per seed) or a summary."""
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seeds', default='1-3', help='seed or range (default 1-3)')
    p.add_argument('--ops', type=int, default=3000, help='operations per seed')
    p.add_argument('--restart-every', type=int, default=1000,
                   help='clean daemon restart every K operations (0: never)')
    p.add_argument('--duration', type=float, default=0,
                   help='stop starting new seeds after this many seconds (0: run all)')
    p.add_argument('--timeout', type=float, default=600, help='per seed, seconds')
    p.add_argument('--tap', action='store_true', help='print TAP (for meson)')
    p.add_argument('--fsx', default=os.environ.get('CLAIMFS_FSX'), help='fsx binary')
    args = p.parse_args(argv)

    t = Tap()  # skips unless root, /dev/fuse and $CLAIMFSD
    if not args.fsx or not os.access(args.fsx, os.X_OK):
        t.skip_all('no fsx binary (set CLAIMFS_FSX or --fsx)')

    def on_signal(signum, frame):
        raise SystemExit('interrupted by signal %d' % signum)
    signal.signal(signal.SIGTERM, on_signal)

    work = tempfile.mkdtemp(prefix='claimfs-fsx-')
    # fsx runs operations as users too: the claims must be reachable by them.
    os.chmod(work, 0o755)
    started = time.monotonic()
    total_ops = total_restarts = seeds_run = 0
    try:
        with reference_tmpfs('claimfs-fsx-ref-') as refroot, Daemon(work) as d:
            d.start()
            d.create_claim('default', 'fsx', storage='1Gi')
            for seed in parse_seeds(args.seeds):
                if args.duration and time.monotonic() - started > args.duration:
                    break
                ok, restarts, output = run_seed(args, d, seed, refroot)
                seeds_run += 1
                total_restarts += restarts
                if ok:
                    total_ops += args.ops
                summary = [l for l in output.splitlines() if l.startswith('fsx: seed')]
                t.ok(ok, 'fsx seed %d: %d ops, %d daemon restarts, same results as tmpfs' %
                     (seed, args.ops, restarts),
                     output[-6000:] + '\n--- daemon log ---\n' + d.log_tail(20))
                if ok and summary and not args.tap:
                    t.diag(summary[0][:200])
                if not ok:
                    break
    finally:
        shutil.rmtree(work, ignore_errors=True)
    t.diag('fsx: %d seeds, %d operations agreed, %d clean restarts, %.0f s' %
           (seeds_run, total_ops, total_restarts, time.monotonic() - started))
    t.done()


if __name__ == '__main__':
    main(sys.argv[1:])
