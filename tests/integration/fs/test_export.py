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
    test model);
  - claimfsd --export NS/CLAIM [--snapshot NAME] --to FILE|- and --import
    FILE|- --into NS/CLAIM [--size Q]: round trips through a file, a pipe
    (stdin sent chunked, over the unix socket) and of a snapshot, each equal
    to its source as above; every error exits 2 with the server's message
    and leaves nothing at FILE; a tar cut short (between entries with clean
    HTTP framing, or mid-body) fails the check, exit 1; 40 MiB more data
    does not raise the client's peak RSS; --token-file sends the token.
"""

import http.client
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import threading

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
        backup = subprocess.run([d.binary, '--store', d.store, '--backup',
                                 os.path.join(d.workdir, 'during-export.db')],
                                capture_output=True, text=True, timeout=120, check=False)
        t.ok(backup.returncode == 0, 'claimfsd --backup during a snapshot export passes its '
             '--check (the binding is no claim without its object)', backup.stdout + backup.stderr)
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


# ---- the claimfsd subcommands ---------------------------------------------------------


def cli(d, *args, api=None, stdin=None):
    """claimfsd ARGS against d's API (TCP unless API is given); (rc, stderr)."""
    api = api or ('--listen', '127.0.0.1:%d' % d.port)
    proc = subprocess.run([d.binary, *api, *args], stdin=stdin, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, timeout=120, check=False)
    return proc.returncode, proc.stderr.decode(errors='replace')


def peak_kib(proc, peak):
    """The larger of PEAK and PROC's peak RSS so far (VmHWM), in KiB."""
    try:
        with open('/proc/%d/status' % proc.pid) as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return max(peak, int(line.split()[1]))
    except OSError:
        pass
    return peak


def run_cli_round_trips(t, d, workdir):
    """--export to a file, --import of it; a pipe between the two (stdin sent
    chunked, --size creating the claim, over the unix socket); a snapshot."""
    src = d.claim_path('default', 'cli-src')
    build_tree(src)
    tar = os.path.join(workdir, 'cli-src.tar')
    rc, err = cli(d, '--export', 'default/cli-src', '--to', tar)
    t.ok(rc == 0 and 'passed its check' in err and os.path.getsize(tar) < SPARSE_SIZE,
         'claimfsd --export default/cli-src --to FILE: exit 0, the tar checked', err)
    rc, err = cli(d, '--import', tar, '--into', 'default/cli-dst')
    t.ok(rc == 0, 'claimfsd --import FILE --into default/cli-dst: exit 0', err)
    same_tree(t, '--export FILE -> --import FILE', src, d.claim_path('default', 'cli-dst'))
    unix = ('--listen', 'none', '--unix-socket', d.unix_socket)
    exporter = subprocess.Popen([d.binary, *unix, '--export', 'default/cli-src', '--to', '-'],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    rc, err = cli(d, '--import', '-', '--into', 'default/cli-pipe', '--size', '32Mi', api=unix,
                  stdin=exporter.stdout)
    exporter.stdout.close()
    export_err = exporter.stderr.read().decode(errors='replace')
    t.ok(exporter.wait(60) == 0 and rc == 0,
         'claimfsd --export ... --to - | claimfsd --import - --into ... --size 32Mi (unix '
         'socket): both exit 0', export_err + err)
    same_tree(t, '--export - | --import -', src, d.claim_path('default', 'cli-pipe'))
    take_snapshot(d, 'snap-cli', 'cli-src')
    mutate(src)
    snap_tar = os.path.join(workdir, 'snap-cli.tar')
    rc, err = cli(d, '--export', 'default/cli-src', '--snapshot', 'snap-cli', '--to', snap_tar)
    rc2, err2 = cli(d, '--import', snap_tar, '--into', 'default/cli-snap', '--size', '32Mi')
    t.ok(rc == 0 and rc2 == 0, 'claimfsd --export NS/CLAIM --snapshot NAME, then --import: '
         'exit 0', err + err2)
    same_tree(t, '--export --snapshot -> --import', d.claim_path('default', 'ref'),
              d.claim_path('default', 'cli-snap'))


def run_cli_errors(t, d, workdir):
    """Each failure: exit 2, the server's message, nothing left at FILE."""
    out = os.path.join(workdir, 'never.tar')
    cases = [
        ('an unknown claim', ('--export', 'default/nope', '--to', out),
         'persistentvolumeclaims "nope" not found (404 NotFound)'),
        ('an unknown snapshot', ('--export', 'default/cli-src', '--snapshot', 'nope', '--to', out),
         'volumesnapshots "nope" not found (404 NotFound)'),
        ('a snapshot of another claim',
         ('--export', 'default/ref', '--snapshot', 'snap-cli', '--to', out),
         'is a snapshot of claim cli-src, not of ref'),
        ('an import into a claim that is not empty',
         ('--import', os.path.join(workdir, 'cli-src.tar'), '--into', 'default/cli-dst'),
         'not empty'),
        ('an import with --size of a claim that exists',
         ('--import', os.path.join(workdir, 'cli-src.tar'), '--into', 'default/cli-dst',
          '--size', '1Mi'), 'persistentvolumeclaims "cli-dst" already exists (409 AlreadyExists)'),
        ('a bad NAMESPACE/CLAIM', ('--export', 'Default/x', '--to', out), "'Default/x'"),
    ]
    for label, args, text in cases:
        rc, err = cli(d, *args)
        t.ok(rc == 2 and text in err and not os.path.exists(out),
             'claimfsd: %s: exit 2, "%s"' % (label, err.strip()), err)
    rc, err = cli(d, '--export', 'default/cli-src', '--to', out, api=('--listen', '127.0.0.1:1'))
    t.ok(rc == 2 and 'Connection refused' in err and not os.path.exists(out),
         'claimfsd --export with no daemon there: exit 2, "%s"' % err.strip(), err)
    t.ok(not [n for n in os.listdir(workdir) if '.partial-' in n],
         'failed exports leave no partial file behind', str(os.listdir(workdir)))


class CutServer:
    """An HTTP server whose every answer is a tar cut short: between two
    entries with proper HTTP framing (a tar libarchive alone accepts), or
    inside the body with the connection closed early."""

    def __init__(self, body, declared):
        self.body, self.declared = body, declared
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.sock.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\n'
                         b'Content-Length: %d\r\nConnection: close\r\n\r\n' % self.declared
                         + self.body)

    def close(self):
        self.thread.join(10)
        self.sock.close()


def run_cli_check(t, d, workdir):
    """--export checks the tar whole before it reports it done."""
    rc, err = cli(d, '--export', 'default/cli-dst', '--to', os.path.join(workdir, 'whole.tar'))
    with open(os.path.join(workdir, 'whole.tar'), 'rb') as f:
        whole = f.read()
    entries = tarfile.open(fileobj=io.BytesIO(whole)).getmembers()
    # The offset of the last entry's header: the tar cut just before it.
    boundary = entries[-1].offset
    out = os.path.join(workdir, 'cut.tar')
    for label, body, declared, text in (
            ('cut between two entries, framed as complete', whole[:boundary], boundary,
             'without its end block'),
            ('cut inside the body, connection closed', whole[:len(whole) // 2], len(whole),
             'failed')):
        server = CutServer(body, declared)
        rc, err = cli(d, '--export', 'default/x', '--to', out,
                      api=('--listen', '127.0.0.1:%d' % server.port))
        server.close()
        t.ok(rc == 1 and text in err and not os.path.exists(out),
             'an export %s: exit 1, "%s", nothing at FILE' % (label, err.strip()), err)


def run_cli_memory(t, d, workdir):
    """A claim's tar goes through a block at a time: the client's peak RSS,
    sampled while it streams 40 MiB, stays far below that."""
    with open(os.path.join(d.claim_path('default', 'mem-src'), 'blob'), 'wb') as f:
        f.write(os.urandom(40 << 20))
    api = ('--listen', '127.0.0.1:%d' % d.port)
    exporter = subprocess.Popen([d.binary, *api, '--export', 'default/mem-src', '--to', '-'],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    importer = subprocess.Popen([d.binary, *api, '--import', '-', '--into', 'default/mem-dst'],
                                stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
    peak_out = peak_in = moved = 0
    while True:
        block = exporter.stdout.read(1 << 20)
        if not block:
            break
        importer.stdin.write(block)
        moved += len(block)
        peak_out, peak_in = peak_kib(exporter, peak_out), peak_kib(importer, peak_in)
    importer.stdin.close()
    codes = (exporter.wait(60), importer.wait(60))
    exporter.stdout.close()
    # ~9 MiB plain, ~17 MiB under ASan; a client holding the tar would pass 40.
    t.ok(codes == (0, 0) and moved > 40 << 20 and 0 < peak_out < 24 << 10
         and 0 < peak_in < 24 << 10,
         'a 40 MiB claim through --export - | --import -: the clients peak at %d and %d KiB'
         % (peak_out, peak_in), str(codes))


def run_cli_token(t, d, workdir):
    """Against a daemon that asks for a token: --token-file sends it."""
    token = os.path.join(workdir, 'token')
    with open(token, 'w') as f:
        f.write('export-token\n')
    d.stop()
    d.start(extra_args=('--token-file', token))
    out = os.path.join(workdir, 'token.tar')
    rc, err = cli(d, '--export', 'default/cli-dst', '--to', out)
    rc2, err2 = cli(d, '--token-file', token, '--export', 'default/cli-dst', '--to', out)
    t.ok(rc == 2 and '(401 Unauthorized)' in err and rc2 == 0 and os.path.getsize(out) > 0,
         'with a token required: exit 2 "%s" without --token-file, exit 0 with it'
         % err.strip(), err + err2)


def checks(t, d):
    for name, size in (('src', '32Mi'), ('ref', '32Mi'), ('from-snap', '32Mi'),
                       ('big', '16Mi'), ('cli-src', '32Mi'), ('cli-dst', '32Mi'),
                       ('mem-src', '48Mi'), ('mem-dst', '48Mi'), ('mem-small', '32Mi')):
        d.create_claim('default', name, storage=size)
    run_snapshot_round_trip(t, d)
    run_bound_read_only(t, d)
    run_errors(t, d)
    run_killed_mid_export(t, d)
    workdir = os.path.join(d.workdir, 'files')
    os.mkdir(workdir)
    run_cli_round_trips(t, d, workdir)
    run_cli_errors(t, d, workdir)
    run_cli_check(t, d, workdir)
    run_cli_memory(t, d, workdir)
    run_cli_token(t, d, workdir)


def main():
    t = Tap()
    run_daemon_checks(t, 'claimfs-export-', lambda d: checks(t, d))
    t.done()


if __name__ == '__main__':
    main()
