"""fsx_reference.py - the reference side of fsx runs: a tmpfs of its own,
mounted nosuid,nodev as the claims' FUSE mount is, so that opening a device
node is refused alike on both sides (a shared /dev/shm allows it).

Owns: the mount point it creates; unmounted (lazily if busy) and removed when
the `with` block ends, whatever happened.
"""

import contextlib
import os
import shutil
import subprocess
import tempfile


@contextlib.contextmanager
def reference_tmpfs(prefix):
    """Yield the path of a fresh nosuid,nodev tmpfs open to every user (fsx
    runs operations as users too)."""
    path = tempfile.mkdtemp(prefix=prefix)
    mounted = False
    try:
        mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'nosuid,nodev,mode=0755,size=4g',
                                  'tmpfs', path]).returncode == 0
        if not mounted:
            raise RuntimeError('cannot mount the reference tmpfs on %s' % path)
        yield path
    finally:
        if mounted and subprocess.run(['umount', path]).returncode != 0:
            subprocess.run(['umount', '-l', path])
        shutil.rmtree(path, ignore_errors=True)
