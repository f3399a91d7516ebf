#!/usr/bin/env python3
"""test_modify.py - a claim's mutable attributes (CSI MODIFY_VOLUME) take
effect online in the mounted claim.

Through the HTTP API (the annotations claimfs.io/inode-limit and
claimfs.io/io-class, which claimfs-csi's ControllerModifyVolume sets): the
inode limit is what statvfs (df -i) reports inside the claim and creating
beyond it fails with ENOSPC, at once and without a remount; bad values get
422 and change nothing; removing the annotation gives the limit derived
from the capacity back. The durable I/O class commits a write durably before
it returns: with the batch timer out of the way (--commit-interval-ms 60000)
a write to a file that is still open survives a SIGKILL of the daemon in a
durable claim, where in a standard claim it is lost (the contract's point 3).

Owns one temporary work directory and the daemon in it (stopped by pid);
nothing stays mounted.
"""

import errno
import os
import subprocess
import sys
import time

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import run_daemon_checks  # noqa: E402
from tap import Tap  # noqa: E402

LIMIT = 'claimfs.io/inode-limit'
IO_CLASS = 'claimfs.io/io-class'
ARGS = ('--commit-interval-ms', '60000')


def annotate(d, ns, name, annotations):
    """Merge-patch the claim's annotations; (status, body)."""
    status, _, body = d.request(
        'PATCH', '/api/v1/namespaces/%s/persistentvolumeclaims/%s' % (ns, name),
        {'metadata': {'annotations': annotations}}, content_type='application/merge-patch+json')
    return status, body.decode('utf-8', 'replace')


def create_files(path, prefix, count):
    """Create up to COUNT empty files; (how many were made, errno that stopped it or 0)."""
    for i in range(count):
        try:
            os.close(os.open(os.path.join(path, '%s%d' % (prefix, i)), os.O_CREAT | os.O_WRONLY, 0o644))
        except OSError as e:
            return i, e.errno
    return count, 0


def df_inodes(path):
    """Total inodes as df -i shows them inside the claim."""
    out = subprocess.run(['df', '-P', '-i', path], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    return int(out[-1].split()[1])


def phase_inode_limit(t, d):
    d.create_claim('default', 'files', storage='16Mi')
    path = d.claim_path('default', 'files')
    derived = os.statvfs(path).f_files
    t.eq(derived, 16 * 1024 * 1024 // 4096, 'a new claim has the limit derived from its capacity (f_files)')
    status, body = annotate(d, 'default', 'files', {LIMIT: '10'})
    t.eq(status, 200, 'PATCH %s=10 is accepted' % LIMIT)
    sv = os.statvfs(path)
    t.eq((sv.f_files, sv.f_ffree), (10, 9), 'statvfs inside the claim follows at once (root counts as one)')
    t.eq(df_inodes(path), 10, 'df -i inside the claim shows the new limit')
    made, err = create_files(path, 'a', 20)
    t.eq((made, err), (9, errno.ENOSPC), 'creating beyond the limit fails with ENOSPC (9 made)')
    t.eq(os.statvfs(path).f_ffree, 0, 'f_ffree is 0 at the limit')
    status, body = annotate(d, 'default', 'files', {LIMIT: '-3'})
    t.ok(status == 422 and LIMIT in body, 'a negative limit is refused with 422 naming the annotation', body)
    status, body = annotate(d, 'default', 'files', {LIMIT: '12abc'})
    t.eq(status, 422, 'a limit that is not a number is refused with 422')
    status, body = annotate(d, 'default', 'files', {IO_CLASS: 'turbo'})
    t.ok(status == 422 and 'durable' in body, 'an unknown I/O class is refused with 422 listing the classes', body)
    t.eq(os.statvfs(path).f_files, 10, 'a refused change changes nothing')
    status, _ = annotate(d, 'default', 'files', {LIMIT: '15'})
    made, err = create_files(path, 'b', 20)
    t.eq((status, made, err), (200, 5, errno.ENOSPC), 'raising the limit online: 5 more files, then ENOSPC')
    status, _ = annotate(d, 'default', 'files', {LIMIT: '15'})
    t.eq((status, os.statvfs(path).f_files), (200, 15), 'the same change again is accepted and changes nothing')
    status, _ = annotate(d, 'default', 'files', {LIMIT: None})
    sv = os.statvfs(path)
    t.eq((status, sv.f_files), (200, derived), 'removing the annotation gives the derived limit back')
    made, err = create_files(path, 'c', 3)
    t.eq((made, err), (3, 0), 'and files can be created again')


def phase_bind_later(t, d):
    """A Pending claim's attributes reach its volume when it binds later."""
    body = d.claim_body('later')
    body['metadata']['annotations'] = {LIMIT: '7'}
    body['spec']['storageClassName'] = 'manual'
    status, _, _ = d.request('POST', '/api/v1/namespaces/default/persistentvolumeclaims', body)
    pv = {'apiVersion': 'v1', 'kind': 'PersistentVolume', 'metadata': {'name': 'pv-later'},
          'spec': {'capacity': {'storage': '1Mi'}, 'accessModes': ['ReadWriteOnce'],
                   'persistentVolumeReclaimPolicy': 'Delete', 'storageClassName': 'manual'}}
    pv_status, _, _ = d.request('POST', '/api/v1/persistentvolumes', pv)
    path = d.claim_path('default', 'later')
    files = None
    for _ in range(50):
        try:
            files = os.statvfs(path).f_files
            break
        except OSError:
            time.sleep(0.1)
    t.eq((status, pv_status, files), (201, 201, 7),
         'a claim Pending with %s=7 binds to a PV created later and its volume has the limit' % LIMIT)


def write_open(path, data):
    """Write DATA to a new file and keep it open (no close, no fsync); returns the fd."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, data)
    return fd


def kill_and_restart(t, d, fd, args=ARGS):
    d.kill()
    try:
        os.close(fd)
    except OSError:
        pass  # the daemon is gone: ENOTCONN is expected
    d.start(extra_args=args)


def read_or_none(path):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError:
        return None


def phase_io_class(t, d):
    d.create_claim('default', 'fast')
    d.create_claim('default', 'safe')
    status, body = annotate(d, 'default', 'safe', {IO_CLASS: 'durable'})
    t.eq(status, 200, 'PATCH %s=durable is accepted' % IO_CLASS)
    fast = os.path.join(d.claim_path('default', 'fast'), 'open.txt')
    fd = write_open(fast, b'standard class')
    kill_and_restart(t, d, fd)
    t.ok(read_or_none(fast) != b'standard class',
         'standard class: a write to a still-open file is lost by SIGKILL (batched, point 3)',
         repr(read_or_none(fast)))
    safe = os.path.join(d.claim_path('default', 'safe'), 'open.txt')
    fd = write_open(safe, b'durable class')
    kill_and_restart(t, d, fd)
    t.eq(read_or_none(safe), b'durable class',
         'durable class: the same write survives SIGKILL of the daemon, no fsync and no close')
    status, body = annotate(d, 'default', 'safe', {IO_CLASS: 'standard'})
    fd = write_open(os.path.join(d.claim_path('default', 'safe'), 'later.txt'), b'back to standard')
    # The last restart with the default timer: a daemon waits up to its
    # commit interval for the timer thread when it stops.
    kill_and_restart(t, d, fd, args=())
    t.ok(status == 200 and read_or_none(os.path.join(d.claim_path('default', 'safe'), 'later.txt')) is None,
         'back to standard online: the next unclosed write is batched again')


def main():
    t = Tap()

    def checks(d):
        phase_inode_limit(t, d)
        phase_bind_later(t, d)
        phase_io_class(t, d)
    run_daemon_checks(t, 'claimfs-modify-', checks, extra_args=ARGS)
    t.done()


if __name__ == '__main__':
    main()
