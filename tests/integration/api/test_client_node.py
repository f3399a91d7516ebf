#!/usr/bin/env python3
"""test_client_node.py - the official JavaScript client drives claimfsd.

Installs the pinned @kubernetes/client-node and the Node it needs (npm's
`node` package: client-node 2.x wants Node >= 22.19) with `npm ci` from
client-node/package-lock.json into $CLAIMFS_CLIENT_NODE_DIR (the build
directory), starts a daemon, and runs client-node/client.mjs against it
through a kubeconfig of README's shape. client.mjs prints "ok - desc" /
"not ok - desc" lines that become this program's TAP checks, and "RESTART"
when it wants the daemon restarted (SIGTERM, then a start on the same store
and port), which this program does before answering "restarted".

Skipped (1..0 # SKIP) only when node or npm is not installed; a failing
`npm ci` is a failure.
"""

import os
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import SamePortDaemon, run_daemon_checks, write_kubeconfig  # noqa: E402
from npm import npm_ci  # noqa: E402
from tap import Tap  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'client-node')
FILES = ('package.json', 'package-lock.json', 'client.mjs')
RUN_TIMEOUT = 240


def relay(t, d, proc):
    """Turn client.mjs's lines into checks; restart the daemon when it asks."""
    for line in proc.stdout:
        line = line.rstrip('\n')
        if line.startswith('ok - '):
            t.ok(True, 'client-node: ' + line[5:])
        elif line.startswith('not ok - '):
            t.ok(False, 'client-node: ' + line[9:])
        elif line == 'RESTART':
            rc = d.stop()
            d.start()
            t.eq(rc, 0, 'the daemon exits 0 on SIGTERM under client-node watches')
            proc.stdin.write('restarted\n')
            proc.stdin.flush()
        else:
            t.diag(line)


def run_client(t, d, npm_dir):
    node = os.path.join(npm_dir, 'node_modules', '.bin', 'node')
    version = subprocess.run([node, '--version'], capture_output=True, text=True, check=False)
    t.diag('node %s' % version.stdout.strip())
    env = dict(os.environ, KUBECONFIG=write_kubeconfig(d.workdir, d.url))
    proc = subprocess.Popen([node, 'client.mjs'], cwd=npm_dir, env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    watchdog = threading.Timer(RUN_TIMEOUT, proc.kill)
    watchdog.start()
    try:
        relay(t, d, proc)
        rc = proc.wait()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    t.eq(rc, 0, 'client.mjs ran to its end and every check passed (killed after %ds)'
         % RUN_TIMEOUT)


def main():
    t = Tap()
    npm_dir, why = npm_ci(HERE, FILES, os.environ.get('CLAIMFS_CLIENT_NODE_DIR') or os.path.join(
        tempfile.gettempdir(), 'claimfs-client-node'))
    if why == 'node/npm are not installed':
        t.skip_all(why)
    if t.ok(npm_dir is not None, 'npm ci installs @kubernetes/client-node and its Node', why):
        run_daemon_checks(t, 'claimfs-client-node-', lambda d: run_client(t, d, npm_dir),
                          daemon_class=SamePortDaemon)
    t.done()


if __name__ == '__main__':
    main()
