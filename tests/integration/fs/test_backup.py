#!/usr/bin/env python3
"""test_backup.py - claimfsd --backup and GET /backup (README "Backup") while
the daemon serves four writers:

  - the backup exits 0, reports progress, and says its copy passed --check;
  - GET /backup answers such a copy, leaving no file beside the store;
  - claimfsd --check of each copy finds nothing;
  - a daemon started on the copy serves every claim, Bound;
  - every visit a writer had fsynced before the backup began is in the copy,
    in order, with no torn line (and the copy holds nothing that was not
    written);
  - --backup - writes the same kind of copy to stdout;
  - bad uses (--backup with --check, a missing store) are clear errors.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import Daemon  # noqa: E402
from tap import Tap  # noqa: E402

WRITERS = 4
PVCS = '/api/v1/namespaces/default/persistentvolumeclaims'


class Writer(threading.Thread):
    """Appends numbered visits to its claim's file, fsyncing each one."""

    def __init__(self, path, index):
        super().__init__(daemon=True)
        self.path = path
        self.index = index
        self.acked = 0  # visits fsynced so far
        self.stop = threading.Event()
        self.error = None

    def run(self):
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                while not self.stop.is_set():
                    os.write(fd, ('w%d visit %d %s\n' % (self.index, self.acked + 1,
                                                        'x' * 200)).encode())
                    os.fsync(fd)
                    self.acked += 1
            finally:
                os.close(fd)
        except OSError as e:
            self.error = e


def check_visits(t, path, index, acked_before, label):
    """The copy's file: visits 1..n in order, n >= acked_before. Only a
    visit not yet fsynced when the backup began may be cut short (the
    kernel may send one write(2) as two page-sized requests, and the
    snapshot may fall between them), and only as the last line."""
    try:
        with open(path, encoding='ascii') as f:
            lines = f.read().split('\n')
    except OSError as e:
        return t.ok(False, '%s: writer %d: file readable in the copy' % (label, index), str(e))
    expected = ['w%d visit %d %s' % (index, i + 1, 'x' * 200) for i in range(len(lines))]
    last = lines.pop()  # '' after a complete last line
    whole = lines == expected[:len(lines)]
    torn_ok = last == '' or (len(lines) >= acked_before and expected[len(lines)].startswith(last))
    t.ok(whole and torn_ok and len(lines) >= acked_before,
         '%s: writer %d: the %d visits fsynced before the backup are in the copy (%d in all), '
         'in order, none torn' % (label, index, acked_before, len(lines)),
         'first difference at %s; last %r' % (next((i for i, (a, b) in
                                                    enumerate(zip(lines, expected)) if a != b),
                                                   len(lines)), last[:40]))
    return True


def run_backup_under_load(t, workdir):
    claimfsd = os.environ['CLAIMFSD']
    copy = os.path.join(workdir, 'copy.db')
    http_copy = os.path.join(workdir, 'http-copy.db')
    writers = []
    with Daemon(os.path.join(workdir, 'live')) as d:
        d.start()
        for i in range(WRITERS):
            d.create_claim('default', 'data-%d' % i, storage='64Mi')
        # Some bulk, so that the copy takes several steps.
        with open(os.path.join(d.claim_path('default', 'data-0'), 'bulk'), 'wb') as f:
            f.write(os.urandom(16 << 20))
            f.flush()
            os.fsync(f.fileno())
        writers = [Writer(os.path.join(d.claim_path('default', 'data-%d' % i), 'visits'), i)
                   for i in range(WRITERS)]
        for w in writers:
            w.start()
        time.sleep(0.5)
        acked_before = [w.acked for w in writers]
        started = time.monotonic()
        proc = subprocess.run([claimfsd, '--store', d.store, '--backup', copy],
                              capture_output=True, text=True, timeout=120, check=False)
        took = time.monotonic() - started
        # The same through the HTTP API (kubectl get --raw /backup), writers still going.
        status, headers, payload = d.request('GET', '/backup', timeout=120)
        with open(http_copy, 'wb') as f:
            f.write(payload)
        t.ok(status == 200 and headers.get('content-type') == 'application/vnd.sqlite3'
             and payload[:16] == b'SQLite format 3\x00'
             and not [n for n in os.listdir(os.path.dirname(d.store)) if '.backup-' in n],
             'GET /backup answers a database (%d bytes) and leaves no file beside the store'
             % len(payload), '%d %s' % (status, payload[:200]))
        acked_after = [w.acked for w in writers]
        for w in writers:
            w.stop.set()
        for w in writers:
            w.join(10)
        t.ok(all(w.error is None for w in writers), 'the writers never failed',
             [str(w.error) for w in writers])
        t.ok(all(b > a for a, b in zip(acked_before, acked_after)),
             'the writers went on during the backup (%s -> %s)' % (acked_before, acked_after))
        t.ok(proc.returncode == 0 and '--check of the copy: 0 problem(s)' in proc.stderr
             and '(100%)' in proc.stderr and proc.stderr.count('claimfsd: backup: ') >= 3,
             'claimfsd --backup exits 0 with progress and a passed check (%.2f s)' % took,
             proc.stderr)
        t.eq(d.stop(), 0, 'the live daemon exits 0')
    for label, path in (('--backup', copy), ('GET /backup', http_copy)):
        verify_copy(t, workdir, label, path, acked_before)


def verify_copy(t, workdir, label, copy, acked_before):
    """The copy passes --check and a daemon on it has every claim and visit."""
    claimfsd = os.environ['CLAIMFSD']
    proc = subprocess.run([claimfsd, '--store', copy, '--check'], capture_output=True,
                          text=True, timeout=120, check=False)
    t.ok(proc.returncode == 0, '%s: claimfsd --check of the copy: consistent' % label,
         proc.stdout + proc.stderr)
    with Daemon(os.path.join(workdir, 'restored-%s' % os.path.basename(copy)),
                store=copy) as d:
        d.start()
        status, _, body = d.request('GET', PVCS)
        items = json.loads(body)['items'] if status == 200 else []
        t.eq(sorted((i['metadata']['name'], i['status']['phase']) for i in items),
             [('data-%d' % i, 'Bound') for i in range(WRITERS)],
             '%s: a daemon on the copy serves every claim, Bound' % label)
        for i in range(WRITERS):
            check_visits(t, os.path.join(d.claim_path('default', 'data-%d' % i), 'visits'), i,
                         acked_before[i], label)
        t.eq(d.stop(), 0, '%s: the daemon on the copy exits 0' % label)
        reports = d.sanitizer_reports()
        t.ok(not reports, 'no sanitizer reports', '\n'.join(reports[:20]))


def run_stdout_and_errors(t, workdir):
    claimfsd = os.environ['CLAIMFSD']
    store = os.path.join(workdir, 'live', 'store.db')
    out = os.path.join(workdir, 'stdout.db')
    with open(out, 'wb') as f:
        proc = subprocess.run([claimfsd, '--store', store, '--backup', '-'], stdout=f,
                              stderr=subprocess.PIPE, text=False, timeout=120, check=False)
    proc2 = subprocess.run([claimfsd, '--store', out, '--check'], capture_output=True,
                           text=True, timeout=120, check=False)
    t.ok(proc.returncode == 0 and proc2.returncode == 0
         and not [n for n in os.listdir(os.path.join(workdir, 'live')) if '.backup-' in n],
         '--backup - writes a copy to stdout that passes --check, and leaves no temporary file',
         proc.stderr.decode() + proc2.stdout + proc2.stderr)
    proc = subprocess.run([claimfsd, '--store', store, '--backup', out, '--check'],
                          capture_output=True, text=True, timeout=30, check=False)
    t.ok(proc.returncode == 2 and 'not with --check' in proc.stderr,
         '--backup with --check is a usage error', proc.stderr)
    missing = os.path.join(workdir, 'missing.db')
    proc = subprocess.run([claimfsd, '--store', missing, '--backup', out + '2'],
                          capture_output=True, text=True, timeout=30, check=False)
    t.ok(proc.returncode == 2 and 'backup of %s failed' % missing in proc.stderr
         and not os.path.exists(out + '2') and not os.path.exists(out + '2.partial'),
         'a backup of a missing store fails clearly and leaves nothing', proc.stderr)


def main():
    t = Tap()
    workdir = tempfile.mkdtemp(prefix='claimfs-backup-')
    try:
        run_backup_under_load(t, workdir)
        run_stdout_and_errors(t, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    t.done()


if __name__ == '__main__':
    main()
