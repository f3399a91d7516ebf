#!/usr/bin/env python3
"""test_export.py - a VolumeSnapshot's export as a tar stream
(GET .../volumesnapshots/NAME/export) and the claimfsd subcommands that
export and import through a running daemon's API (README "Backup"):

  - a snapshot's export is the claim as it was when the snapshot was taken
    (changes made after it are not in it); imported into a new claim it
    equals the source: diff -r, owners, modes, xattrs, hard links, and the
    sparse file is sparse (SEEK_HOLE);
  - while an export runs the snapshot is on the mount read-only (EROFS),
    and afterwards it is gone from the mount; two exports at once both
    complete; a daemon SIGKILLed mid-export unbinds it at the next start;
  - unknown snapshot: 404 NotFound; POST: 405 (not ready, 409: the unit
    test model).
"""

import http.client
import io
import json
import os
import subprocess
import sys
import tarfile

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(__file__), '..', 'lib')))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon import run_daemon_checks, wait_for  # noqa: E402
from tap import Tap  # noqa: E402
from test_tar import SPARSE_SIZE, build_tree, walk  # noqa: E402

PVCS = '/api/v1/namespaces/default/persistentvolumeclaims'
SNAPS = '/apis/snapshot.storage.k8s.io/v1/namespaces/default/volumesnapshots'
EXPORTS = '.snapshot-exports'


def status_of(body):
    try:
        return json.loads(body)
    except ValueError:
        return {}


def take_snapshot(d, name, claim):
    body = {'apiVersion': 'snapshot.storage.k8s.io/v1', 'kind': 'VolumeSnapshot',
            'metadata': {'name': name}, 'spec': {'source': {'persistentVolumeClaimName': claim}}}
    status, _, answer = d.request('POST', SNAPS, body)
    if status != 201:
        raise RuntimeError('snapshot %s: %d %s' % (name, status, answer[:300]))
    return json.loads(answer)


def mutate(root):
    """Changes made after the snapshot, which its export must not carry."""
    with open(os.path.join(root, 'after'), 'w') as f:
        f.write('written after the snapshot\n')
    with open(os.path.join(root, 'dir/plain'), 'a') as f:
        f.write('appended after the snapshot\n')
    os.chmod(os.path.join(root, 'setuid'), 0o700)
    os.unlink(os.path.join(root, 'hard1'))


def is_sparse(path):
    """The file has a hole before its end (SEEK_HOLE), and few blocks."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        hole = os.lseek(fd, 0, os.SEEK_HOLE)
        blocks = os.fstat(fd).st_blocks
    finally:
        os.close(fd)
    return hole < size and blocks * 512 < size // 4, 'hole at %d of %d, %d blocks' % (
        hole, size, blocks)


def same_tree(t, label, ref, dst, paths=13):
    """diff -r, then owners/modes/xattrs/links, hard links and sparseness."""
    proc = subprocess.run(['diff', '-r', '--no-dereference', '-x', 'fifo', ref, dst],
                          capture_output=True, text=True, timeout=60, check=False)
    t.ok(proc.returncode == 0, '%s: diff -r finds it equal to the source' % label,
         proc.stdout[-2000:] + proc.stderr)
    (rmeta, rgroups), (dmeta, dgroups) = walk(ref), walk(dst)
    diffs = ['%s: %s != %s' % (k, rmeta.get(k), dmeta.get(k))
             for k in sorted(set(rmeta) | set(dmeta)) if rmeta.get(k) != dmeta.get(k)]
    t.ok(not diffs and len(dmeta) == paths,
         '%s: owners, modes, xattrs, link counts and targets are equal (%d paths)'
         % (label, len(dmeta)), '\n'.join(diffs))
    t.ok(dgroups == rgroups == [['dir/plain', 'dir/sub/hard2', 'hard1']],
         '%s: hard links share one inode' % label, '%s vs %s' % (rgroups, dgroups))
    sparse, why = is_sparse(os.path.join(dst, 'sparse'))
    t.ok(sparse and os.path.getsize(os.path.join(dst, 'sparse')) == SPARSE_SIZE,
         '%s: the sparse file is sparse (SEEK_HOLE)' % label, why)


def run_snapshot_round_trip(t, d):
    """Export a snapshot taken before changes; import it; equal to the reference."""
    src, ref = d.claim_path('default', 'src'), d.claim_path('default', 'ref')
    build_tree(src)
    build_tree(ref)
    take_snapshot(d, 'snap-src', 'src')
    mutate(src)
    status, headers, data = d.request('GET', SNAPS + '/snap-src/export', timeout=60)
    try:
        names = tarfile.open(fileobj=io.BytesIO(data)).getnames()
    except tarfile.TarError as e:
        names = [str(e)]
    t.ok(status == 200 and headers.get('content-type') == 'application/x-tar'
         and 'sparse' in names and 'after' not in names and len(data) < SPARSE_SIZE,
         'GET .../volumesnapshots/snap-src/export answers the tar of the snapshot, not of '
         'the claim now (%d bytes)' % len(data), '%d %s' % (status, names[:20]))
    status, _, body = d.request('POST', PVCS + '/from-snap/import', data,
                                content_type='application/x-tar', timeout=60)
    t.ok(status == 200, 'the snapshot tar imports into a new claim', body[:300])
    same_tree(t, 'snapshot export -> import', ref, d.claim_path('default', 'from-snap'))
    t.ok(wait_for(lambda: EXPORTS not in os.listdir(d.mount), timeout=10),
         'after the export the snapshot is no longer on the mount', str(os.listdir(d.mount)))


class SlowExport:
    """An export whose client reads only its first bytes and then waits,
    so the daemon's export thread blocks with the snapshot bound."""

    def __init__(self, d, name):
        self.conn = http.client.HTTPConnection('127.0.0.1', d.port, timeout=60)
        self.conn.request('GET', SNAPS + '/%s/export' % name)
        self.resp = self.conn.getresponse()
        self.head = self.resp.read(1024)

    def finish(self):
        data = self.head + self.resp.read()
        self.conn.close()
        return data


def run_bound_read_only(t, d):
    """While an export runs: on the mount, read-only; two at once complete."""
    with open(os.path.join(d.claim_path('default', 'big'), 'blob'), 'wb') as f:
        f.write(os.urandom(6 << 20))
    snap = take_snapshot(d, 'snap-big', 'big')
    content = snap['status']['boundVolumeSnapshotContentName']
    where = os.path.join(d.mount, EXPORTS, content)
    slow = SlowExport(d, 'snap-big')
    try:
        bound = os.path.isfile(os.path.join(where, 'blob'))
        try:
            open(os.path.join(where, 'new'), 'w').close()
            err = 'created'
        except OSError as e:
            err = e.errno
        t.ok(bound and err == 30, 'during an export the snapshot is at %s/<content>, '
             'read-only (EROFS)' % EXPORTS, 'bound %s, create: %s' % (bound, err))
        other = d.request('GET', SNAPS + '/snap-big/export', timeout=60)
    finally:
        data = slow.finish()
    sizes = []
    for blob in (data, other[2]):
        try:
            with tarfile.open(fileobj=io.BytesIO(blob)) as tf:
                sizes.append(len(tf.extractfile('blob').read()))
        except (tarfile.TarError, KeyError, AttributeError) as e:
            sizes.append(str(e))
    t.ok(other[0] == 200 and sizes == [6 << 20, 6 << 20],
         'two exports of one snapshot at once both complete', str(sizes))
    t.ok(wait_for(lambda: EXPORTS not in os.listdir(d.mount), timeout=10),
         'after both the snapshot is no longer on the mount', str(os.listdir(d.mount)))


def run_errors(t, d):
    status, _, body = d.request('GET', SNAPS + '/nope/export')
    s = status_of(body)
    t.ok(status == 404 and s.get('kind') == 'Status' and s.get('reason') == 'NotFound'
         and s.get('message') == 'volumesnapshots "nope" not found',
         'export of an unknown snapshot: 404 NotFound "%s"' % s.get('message'), body[:300])
    status, _, body = d.request('POST', SNAPS + '/snap-src/export', b'x',
                                content_type='application/x-tar')
    t.ok(status == 405 and status_of(body).get('reason') == 'MethodNotAllowed',
         'POST .../volumesnapshots/NAME/export: 405', body[:300])
    # A snapshot that is not ready (409) cannot be made through the API: the
    # unit test model's test_snapshot_export_states writes one into the store.


def run_killed_mid_export(t, d):
    """SIGKILL while an export holds the snapshot: the next start unbinds it."""
    slow = SlowExport(d, 'snap-big')
    bound = EXPORTS in os.listdir(d.mount)
    d.kill()
    try:
        slow.finish()
    except (OSError, http.client.HTTPException):
        pass
    d.stop()  # the stale mount
    d.start()
    gone = EXPORTS not in os.listdir(d.mount)
    status, _, data = d.request('GET', SNAPS + '/snap-big/export', timeout=60)
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            size = len(tf.extractfile('blob').read())
    except (tarfile.TarError, KeyError, AttributeError):
        size = -1
    t.ok(bound and gone and status == 200 and size == 6 << 20,
         'a daemon SIGKILLed mid-export: the next start unbinds the snapshot, which '
         'exports again', 'bound %s gone %s status %d size %d' % (bound, gone, status, size))


def checks(t, d):
    for name, size in (('src', '32Mi'), ('ref', '32Mi'), ('from-snap', '32Mi'),
                       ('big', '16Mi')):
        d.create_claim('default', name, storage=size)
    run_snapshot_round_trip(t, d)
    run_bound_read_only(t, d)
    run_errors(t, d)
    run_killed_mid_export(t, d)


def main():
    t = Tap()
    run_daemon_checks(t, 'claimfs-export-', lambda d: checks(t, d))
    t.done()


if __name__ == '__main__':
    main()
