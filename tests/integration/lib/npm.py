"""npm.py - a pinned npm install for tests that run node programs (stdlib only).

Owns: one install directory (node_modules beside copies of the test's
package.json, package-lock.json and scripts). `npm ci` runs only when the
lock file differs from the one the last install was made from (a stamp in
node_modules), so repeated test runs do not touch the registry.
"""

import os
import shutil
import subprocess


def npm_ci(source_dir, files, npm_dir):
    """Copy FILES (package.json and package-lock.json among them) from
    SOURCE_DIR to NPM_DIR and install the lock file there. Returns
    (NPM_DIR, None), or (None, why) when npm is missing or `npm ci` fails."""
    npm = shutil.which('npm')
    if npm is None or shutil.which('node') is None:
        return None, 'node/npm are not installed'
    os.makedirs(npm_dir, exist_ok=True)
    for name in files:
        shutil.copyfile(os.path.join(source_dir, name), os.path.join(npm_dir, name))
    with open(os.path.join(source_dir, 'package-lock.json'), encoding='utf-8') as f:
        lock = f.read()
    stamp = os.path.join(npm_dir, 'node_modules', '.claimfs-lock')
    try:
        with open(stamp, encoding='utf-8') as f:
            if f.read() == lock:
                return npm_dir, None
    except OSError:
        pass
    done = subprocess.run([npm, 'ci', '--no-audit', '--no-fund', '--loglevel=error'], cwd=npm_dir,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          check=False, timeout=600)
    if done.returncode != 0:
        return None, 'npm ci failed (no registry access?):\n' + done.stdout[-3000:]
    with open(stamp, 'w', encoding='utf-8') as f:
        f.write(lock)
    return npm_dir, None
