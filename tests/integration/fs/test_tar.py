#!/usr/bin/env python3
"""test_tar.py - a claim's export (GET .../persistentvolumeclaims/NAME/export)
and import (POST .../import) as a tar stream (README "Backup"):

  - round trip of a tree with set-id modes, non-root owners, user.* xattrs,
    hard links, a sparse file, symlinks, a FIFO and empty directories: after
    the import, `diff -r` finds nothing and a walk finds the same owners,
    modes, xattrs, link counts and inode sharing; the sparse file stays sparse;
  - an export while a writer appends is still a valid tar;
  - import into a claim that is not empty: 409 AlreadyExists, nothing changed;
    two imports into one empty claim at once: one wins whole, the other 409;
  - malicious tars (../, absolute paths, a symlink escape, a hard link out,
    a device node, garbage): 400 with a clear Status, nothing written outside
    the claim, the claim left empty;
  - a tar larger than the claim: 413, the claim left empty;
  - a tar far past the 1 MiB limit of other request bodies is imported whole;
  - kubectl get --raw exports and kubectl create --raw -f imports;
  - export/import of a claim that does not exist: 404.
"""

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import threading

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import Daemon, write_kubeconfig  # noqa: E402
from tap import Tap  # noqa: E402

PVCS = '/api/v1/namespaces/default/persistentvolumeclaims'
SPARSE_SIZE = 4 << 20


def build_tree(root):
    """The source tree: every kind of thing the tar must carry."""
    os.makedirs(os.path.join(root, 'dir/sub'))
    os.makedirs(os.path.join(root, 'empty'))
    os.makedirs(os.path.join(root, 'sticky'))
    os.chmod(os.path.join(root, 'sticky'), 0o1777)
    with open(os.path.join(root, 'dir/plain'), 'w') as f:
        f.write('hello\n' * 100)
    with open(os.path.join(root, 'setuid'), 'wb') as f:
        f.write(b'\x7fELF not really')
    os.chown(os.path.join(root, 'setuid'), 1000, 1000)
    os.chmod(os.path.join(root, 'setuid'), 0o4755)
    with open(os.path.join(root, 'dir/setgid'), 'w') as f:
        f.write('group')
    os.chown(os.path.join(root, 'dir/setgid'), 2001, 3002)
    os.chmod(os.path.join(root, 'dir/setgid'), 0o2750)
    os.chown(os.path.join(root, 'dir/sub'), 4242, 4243)
    os.setxattr(os.path.join(root, 'dir/plain'), 'user.colour', b'blue')
    os.setxattr(os.path.join(root, 'dir/plain'), 'user.empty', b'')
    os.setxattr(os.path.join(root, 'dir'), 'user.dir', b'\x00\x01binary')
    os.link(os.path.join(root, 'dir/plain'), os.path.join(root, 'hard1'))
    os.link(os.path.join(root, 'dir/plain'), os.path.join(root, 'dir/sub/hard2'))
    with open(os.path.join(root, 'sparse'), 'wb') as f:
        f.write(b'start')
        f.seek(SPARSE_SIZE - 3)
        f.write(b'end')
    os.symlink('dir/plain', os.path.join(root, 'link-rel'))
    os.symlink('/etc/passwd', os.path.join(root, 'link-abs'))
    os.lchown(os.path.join(root, 'link-rel'), 1234, 1234)
    os.mkfifo(os.path.join(root, 'fifo'), 0o640)


def xattrs(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    return {n: os.getxattr(path, n, follow_symlinks=False) for n in sorted(names)
            if n.startswith('user.')}


def walk(root):
    """Each path: (type+mode, uid, gid, nlink, size, xattrs, link target), and
    the groups of paths that share an inode."""
    meta, inodes = {}, {}
    for base, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(base, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            meta[rel] = (oct(st.st_mode), st.st_uid, st.st_gid, st.st_nlink,
                         st.st_size if not stat.S_ISDIR(st.st_mode) else 0, xattrs(path),
                         os.readlink(path) if stat.S_ISLNK(st.st_mode) else None)
            if not stat.S_ISDIR(st.st_mode):
                inodes.setdefault(st.st_ino, []).append(rel)
    return meta, sorted(sorted(g) for g in inodes.values() if len(g) > 1)


def export(d, name):
    return d.request('GET', '%s/%s/export' % (PVCS, name), timeout=60)


def import_tar(d, name, data):
    return d.request('POST', '%s/%s/import' % (PVCS, name), data,
                     content_type='application/x-tar', timeout=60)


def status_of(body):
    try:
        return json.loads(body)
    except ValueError:
        return {}


def run_round_trip(t, d):
    src, dst = d.claim_path('default', 'src'), d.claim_path('default', 'dst')
    build_tree(src)
    status, headers, data = export(d, 'src')
    t.ok(status == 200 and headers.get('content-type') == 'application/x-tar'
         and tarfile.open(fileobj=io.BytesIO(data)).getnames(),
         'GET .../src/export answers a tar (%d bytes)' % len(data), data[:200])
    try:
        names = tarfile.open(fileobj=io.BytesIO(data)).getnames()
    except tarfile.TarError:
        names = []
    t.ok('sparse' in names and len(data) < SPARSE_SIZE,
         'the sparse file travels as a sparse entry (tar %d bytes)' % len(data))
    status, _, body = import_tar(d, 'dst', data)
    t.ok(status == 200, 'POST .../dst/import of it answers 200', body.decode(errors='replace'))
    # diff cannot compare FIFOs (it says so and fails); the walk below does.
    proc = subprocess.run(['diff', '-r', '--no-dereference', '-x', 'fifo', src, dst], capture_output=True,
                          text=True, timeout=60, check=False)
    t.ok(proc.returncode == 0, 'diff -r finds the imported tree equal to the source',
         proc.stdout[-2000:] + proc.stderr)
    (smeta, sgroups), (dmeta, dgroups) = walk(src), walk(dst)
    diffs = ['%s: %s != %s' % (k, smeta.get(k), dmeta.get(k))
             for k in sorted(set(smeta) | set(dmeta)) if smeta.get(k) != dmeta.get(k)]
    t.ok(not diffs and len(smeta) == 13,
         'owners, modes (set-id, sticky), xattrs, link counts and link targets are equal '
         '(%d paths)' % len(smeta), '\n'.join(diffs))
    t.ok(sgroups == dgroups and dgroups == [['dir/plain', 'dir/sub/hard2', 'hard1']],
         'hard links share one inode after the import', '%s vs %s' % (sgroups, dgroups))
    st = os.stat(os.path.join(dst, 'sparse'))
    t.ok(st.st_size == SPARSE_SIZE and st.st_blocks * 512 < SPARSE_SIZE // 4,
         'the sparse file is sparse after the import (%d blocks for %d bytes)'
         % (st.st_blocks, st.st_size))
    run_concurrent_imports(t, d, data, dmeta, dgroups)
    status, _, body = import_tar(d, 'dst', data)
    s = status_of(body)
    t.ok(status == 409 and s.get('reason') == 'AlreadyExists' and 'not empty' in
         s.get('message', '') and walk(dst) == (dmeta, dgroups),
         'import into a claim that is not empty: 409 AlreadyExists, nothing changed', body)


def run_concurrent_imports(t, d, data, meta, groups):
    """Two imports of one tar into one empty claim at once: one wins, the
    other is 409, and the winner's files are whole."""
    results = []
    threads = [threading.Thread(target=lambda: results.append(import_tar(d, 'dst2', data)[0]))
               for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    t.ok(sorted(results) == [200, 409] and walk(d.claim_path('default', 'dst2')) == (meta, groups),
         'two imports into one empty claim at once: one 200, one 409, the tree whole',
         str(results))


def run_export_under_writer(t, d):
    path = os.path.join(d.claim_path('default', 'busy'), 'log')
    stop = threading.Event()

    def writer():
        with open(path, 'ab') as f:
            while not stop.is_set():
                f.write(b'x' * 4000 + b'\n')
                f.flush()

    w = threading.Thread(target=writer, daemon=True)
    w.start()
    try:
        results = [export(d, 'busy') for _ in range(3)]
    finally:
        stop.set()
        w.join(10)
    ok, why = True, ''
    for status, _, data in results:
        try:
            with tarfile.open(fileobj=io.BytesIO(data)) as tf:
                for m in tf.getmembers():
                    if m.isfile():
                        tf.extractfile(m).read()
        except (tarfile.TarError, OSError, EOFError) as e:
            ok, why = False, str(e)
        ok = ok and status == 200
    t.ok(ok, 'three exports while a writer appends are each a complete, readable tar', why)


def tar_of(*members):
    """A tar from (TarInfo, data or None) pairs."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as tf:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def entry(name, kind=tarfile.REGTYPE, linkname='', mode=0o644):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, linkname, mode
    return info


def run_malicious(t, d, outside):
    victim = d.claim_path('default', 'victim')
    esc_dir = os.path.join(outside, 'escape')
    os.makedirs(esc_dir)
    rel_out = os.path.relpath(esc_dir, victim)
    cases = [
        ('a ../ path', tar_of((entry('ok'), b'1'), (entry('../evil'), b'x')), '..'),
        ('a ../ path deep inside', tar_of((entry('a/../../' + rel_out + '/evil'), b'x')), '..'),
        ('an absolute path', tar_of((entry(esc_dir + '/evil'), b'x')), 'absolute'),
        ('a symlink escape', tar_of((entry('esc', tarfile.SYMTYPE, esc_dir), None),
                                    (entry('esc/evil'), b'x')), 'esc'),
        ('a relative symlink escape',
         tar_of((entry('up', tarfile.SYMTYPE, '../../../../../../' + esc_dir.lstrip('/')), None),
                (entry('up/evil'), b'x')), 'up'),
        ('a hard link out', tar_of((entry('hl', tarfile.LNKTYPE, '../../etc/passwd'), None)),
         '..'),
        ('a device node', tar_of((entry('null', tarfile.CHRTYPE), None)), 'device'),
        ('garbage', b'this is not a tar at all' * 100, 'tar'),
    ]
    for label, data, word in cases:
        status, _, body = import_tar(d, 'victim', data)
        s = status_of(body)
        left = sorted(os.listdir(victim))
        t.ok(status == 400 and s.get('kind') == 'Status' and s.get('reason') == 'BadRequest'
             and word in s.get('message', '') and os.listdir(esc_dir) == [] and not left
             and not os.path.exists(os.path.join(d.mount, 'default', 'evil')),
             'malicious tar (%s): 400 BadRequest "%s", nothing outside, claim left empty'
             % (label, s.get('message', '')), '%d %s; left %s; outside %s'
             % (status, body[:300], left, os.listdir(esc_dir)))


def run_capacity(t, d):
    small = d.claim_path('default', 'small')
    data = tar_of((entry('a'), b'a' * 4096), (entry('big'), os.urandom(900 << 10)),
                  (entry('big2'), os.urandom(900 << 10)))
    status, _, body = import_tar(d, 'small', data)
    s = status_of(body)
    t.ok(status == 413 and 'does not fit' in s.get('message', '') and os.listdir(small) == [],
         'a tar larger than the claim: 413 "%s", the claim left empty' % s.get('message', ''),
         '%d %s; left %s' % (status, body[:300], os.listdir(small)))


def run_large(t, d):
    """A tar far past the 1 MiB body limit of other requests goes through."""
    with open(os.path.join(d.claim_path('default', 'large-src'), 'blob'), 'wb') as f:
        f.write(os.urandom(6 << 20))
    status, _, data = export(d, 'large-src')
    status2, _, body = import_tar(d, 'large-dst', data)
    proc = subprocess.run(['cmp', os.path.join(d.claim_path('default', 'large-src'), 'blob'),
                           os.path.join(d.claim_path('default', 'large-dst'), 'blob')],
                          capture_output=True, text=True, timeout=60, check=False)
    t.ok(status == 200 and status2 == 200 and len(data) > (6 << 20) and proc.returncode == 0,
         'a %d-byte tar exports and imports whole' % len(data),
         '%d %d %s %s' % (status, status2, body[:300], proc.stdout + proc.stderr))


def run_kubectl(t, d, workdir):
    """kubectl get --raw exports, kubectl create --raw -f imports."""
    if shutil.which('kubectl') is None:  # as the kubectl tests: not a Debian 12 package
        t.skip('kubectl get --raw .../export and kubectl create --raw .../import -f',
               'kubectl is not installed')
        return
    env = dict(os.environ, KUBECONFIG=write_kubeconfig(workdir, 'http://127.0.0.1:%d' % d.port))
    path = '%s/%%s/%%s' % PVCS
    tar_path = os.path.join(workdir, 'kubectl.tar')
    with open(os.path.join(d.claim_path('default', 'kube-src'), 'note'), 'w') as f:
        f.write('through kubectl\n')
    with open(tar_path, 'wb') as f:
        out = subprocess.run(['kubectl', 'get', '--raw', path % ('kube-src', 'export')], env=env,
                             stdout=f, stderr=subprocess.PIPE, timeout=60, check=False)
    imp = subprocess.run(['kubectl', 'create', '--raw', path % ('kube-dst', 'import'), '-f',
                          tar_path], env=env, capture_output=True, timeout=60, check=False)
    try:
        with open(os.path.join(d.claim_path('default', 'kube-dst'), 'note')) as f:
            note = f.read()
    except OSError as e:
        note = str(e)
    t.ok(out.returncode == 0 and imp.returncode == 0 and note == 'through kubectl\n',
         'kubectl get --raw .../export and kubectl create --raw .../import -f carry a claim',
         '%s %s %r' % (out.stderr, imp.stdout + imp.stderr, note))


def run_missing(t, d):
    s1 = export(d, 'nope')[0]
    s2 = import_tar(d, 'nope', tar_of((entry('a'), b'a')))[0]
    t.ok(s1 == 404 and s2 == 404, 'export and import of a missing claim: 404 (%d, %d)'
         % (s1, s2))


def main():
    t = Tap()
    workdir = tempfile.mkdtemp(prefix='claimfs-tar-')
    try:
        with Daemon(os.path.join(workdir, 'd')) as d:
            d.start()
            for name, size in (('src', '32Mi'), ('dst', '32Mi'), ('dst2', '32Mi'), ('busy', '64Mi'),
                               ('victim', '8Mi'), ('small', '1Mi'), ('large-src', '16Mi'),
                               ('large-dst', '16Mi'), ('kube-src', '1Mi'), ('kube-dst', '1Mi')):
                d.create_claim('default', name, storage=size)
            run_round_trip(t, d)
            run_export_under_writer(t, d)
            run_malicious(t, d, workdir)
            run_capacity(t, d)
            run_large(t, d)
            run_kubectl(t, d, workdir)
            run_missing(t, d)
            t.eq(d.stop(), 0, 'the daemon exits 0')
            reports = d.sanitizer_reports()
            t.ok(not reports, 'no sanitizer reports', '\n'.join(reports[:20]))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    t.done()


if __name__ == '__main__':
    main()
