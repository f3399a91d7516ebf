#!/usr/bin/env python3
"""test_writer.py - the crashwriter's own verifier, on a plain directory (no daemon).

Owns: one temporary directory per case, removed at the end.
Each case puts a writer log and a directory in the state a daemon kill can
leave them in, runs the writer's start-up (verify, resolve, a run that stops
at once: --seconds 0, i.e. a kill before its first operation), and then a
--verify-only pass, which must find exactly what is expected: no loss where
the durability contract promised nothing, a loss where it promised something.
"""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                               '..', 'integration', 'lib')))
from tap import Tap  # noqa: E402

WRITER = os.environ.get('CLAIMFS_CRASHWRITER')


def run(args):
    """crashwriter with args: (exit code, stdout + stderr)."""
    proc = subprocess.run([WRITER] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=60, check=False)
    return proc.returncode, proc.stdout.decode('utf-8', 'replace')


def case(t, work, name, kind, log, files, resolve, lost):
    """Set up dir and log, optionally run a start-up that stops at once, then verify."""
    base = os.path.join(work, name)
    wdir = os.path.join(base, 'w')
    os.makedirs(wdir)
    for fname, data in files.items():
        with open(os.path.join(wdir, fname), 'wb') as f:
            f.write(data)
    logpath = os.path.join(base, 'log')
    with open(logpath, 'w') as f:
        f.write(''.join(l + '\n' for l in log))
    common = ['--kind', kind, '--dir', wdir, '--log', logpath, '--seed', '1']
    out = ''
    if resolve:
        rc, out = run(common + ['--seconds', '0'])
        if not t.ok(rc == 0, '%s: start-up with a run killed before its first operation' % name, out):
            return
    rc, text = run(common + ['--verify-only'])
    want = 'lost=%d' % lost
    t.ok(want in text and rc == (1 if lost else 0),
         '%s: verification finds %s' % (name, want), out + text)


def main():
    t = Tap(check_env=False)
    if not WRITER or not os.access(WRITER, os.X_OK):
        print('1..0 # SKIP CLAIMFS_CRASHWRITER not set')
        return
    work = tempfile.mkdtemp(prefix='claimfs-writer-')
    value1 = b'%020d\n' % 1
    try:
        # counter:1 (open O_TRUNC, write, fsync): a kill between the truncate
        # and the write leaves the file empty; the next start-up must undo
        # that, or a kill before its first operation is taken for a loss.
        case(t, work, 'counter:1 empty after an in-flight O_TRUNC', 'counter:1',
             ['run', 'try 1', 'ack 1', 'run', 'try 2'], {'visits.txt': b''}, True, 0)
        # counter:0 created the file, nothing acknowledged yet.
        case(t, work, 'counter:0 empty before the first acknowledgement', 'counter:0',
             ['run', 'try 1'], {'visits.txt': b''}, True, 0)
        # The verifier still fails where a promise was broken.
        case(t, work, 'counter:1 empty with value 1 acknowledged', 'counter:1',
             ['run', 'try 1', 'ack 1'], {'visits.txt': b''}, False, 1)
        case(t, work, 'counter:0 holding an older value', 'counter:0',
             ['run', 'try 1', 'ack 1', 'try 2', 'ack 2'], {'visits.txt': value1}, False, 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    t.done()


if __name__ == '__main__':
    main()
