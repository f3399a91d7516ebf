#!/usr/bin/env python3
"""fsx_reduce.py - shrink a failing fsx run to the few operations that matter.

Owns: one work directory with a claimfsd and a tmpfs reference directory,
removed at exit. Given the seed and the operation number of a divergence
(what fsx prints), it runs fsx again and again with --skip lists (the skipped
operations draw their random numbers but make no syscalls, so the others stay
the same) and keeps the smallest set of operations that still diverges with
the same message (delta debugging). Prints the remaining operations.

    fsx_reduce.py --seed 1 --ops 672 --match 'read returned different bytes'
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                               '..', '..', 'integration', 'lib')))
from daemon import Daemon  # noqa: E402
from fsx_reference import reference_tmpfs  # noqa: E402


class Trial:
    """Runs fsx with a skip list on fresh directories."""

    def __init__(self, args, d, refroot):
        self.args = args
        self.d = d
        self.refroot = refroot
        self.n = 0

    def fails(self, keep):
        """True if fsx still diverges at the last op with the wanted message."""
        self.n += 1
        test = os.path.join(self.d.claim_path('default', 'fsx'), 't%d' % self.n)
        ref = os.path.join(self.refroot, 't%d' % self.n)
        os.mkdir(test)
        os.mkdir(ref)
        skip = os.path.join(self.refroot, 'skip')
        kept = set(keep)
        with open(skip, 'w', encoding='ascii') as f:
            f.write(' '.join(str(i) for i in range(1, self.args.ops) if i not in kept))
        proc = subprocess.run([self.args.fsx, '--test', test, '--ref', ref, '--seed',
                               str(self.args.seed), '--ops', str(self.args.ops), '--skip', skip],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300,
                              check=False)
        shutil.rmtree(test, ignore_errors=True)
        shutil.rmtree(ref, ignore_errors=True)
        err = proc.stderr.decode('utf-8', 'replace')
        return (proc.returncode == 1 and 'at op %d ' % self.args.ops in err and
                re.search(self.args.match, err) is not None), err


def ddmin(trial, items):
    """Zeller's delta debugging: a 1-minimal failing subset of items."""
    n = 2
    while len(items) >= 2:
        size = (len(items) + n - 1) // n
        chunks = [items[i:i + size] for i in range(0, len(items), size)]
        reduced = False
        for chunk in chunks:
            rest = [x for x in items if x not in set(chunk)]
            if trial.fails(rest)[0]:
                items = rest
                n = max(n - 1, 2)
                reduced = True
                print('# %d operations left' % len(items), flush=True)
                break
        if not reduced:
            if n >= len(items):
                break
            n = min(len(items), n * 2)
    return items


def main():
    """Reduce and print."""
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seed', type=int, required=True)
    p.add_argument('--ops', type=int, required=True, help='the diverging operation')
    p.add_argument('--match', default='DIVERGENCE', help='regex the failure must match')
    p.add_argument('--fsx', default=os.environ.get('CLAIMFS_FSX'))
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix='claimfs-fsx-reduce-')
    os.chmod(work, 0o755)
    try:
        with reference_tmpfs('claimfs-fsx-reduce-ref-') as refroot, Daemon(work) as d:
            d.start()
            d.create_claim('default', 'fsx', storage='1Gi')
            trial = Trial(args, d, refroot)
            ok, err = trial.fails(list(range(1, args.ops)))
            if not ok:
                print('the full run does not fail as asked:\n' + err[-3000:])
                return 1
            keep = ddmin(trial, list(range(1, args.ops)))
            ok, err = trial.fails(keep)
            print('# %d trials; operations kept: %s' % (trial.n, ' '.join(map(str, keep))))
            print(err)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
