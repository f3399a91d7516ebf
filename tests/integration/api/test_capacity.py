#!/usr/bin/env python3
"""test_capacity.py - the capacity policy (README "Capacity") on a small disk.

Runs claimfsd with its store on a 320 MiB tmpfs this test mounts (and
unmounts, whatever happens) and checks, through the HTTP API, /metrics and
statvfs inside claims:
  - a claim larger than the space the store can take stays Pending (1Gi and
    8Ei), with the reason in the log; one that fits binds;
  - a Pending claim binds once a claim is deleted, and once the host disk
    gets room again (the periodic retry), with no API call to wake it;
  - an expansion that does not fit keeps the old capacity and happens once
    room appears;
  - df in a claim never shows more available than the store can take;
  - the promised and takeable bytes are /metrics gauges;
  - --overcommit 4 lets the 1Gi claim bind (the 8Ei one still waits);
  - bad --overcommit values are refused with a clear message.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB', os.path.join(os.path.dirname(__file__), '..', 'lib')))
from daemon import Daemon, force_unmount, is_mounted, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

MI = 1 << 20
DISK_MIB = 320
LOW_SPACE = 8 * MI  # STORE_LOW_SPACE_BYTES: the margin writes keep
PVCS = '/api/v1/namespaces/default/persistentvolumeclaims'


def claim(d, name):
    """The stored claim NAME (decoded), or None."""
    status, _, body = d.request('GET', '%s/%s' % (PVCS, name))
    return json.loads(body) if status == 200 else None


def phase(d, name):
    obj = claim(d, name)
    return obj and obj.get('status', {}).get('phase')


def events_about(d, name, reason):
    """Messages of the events named REASON about claim NAME (core/v1)."""
    status, _, body = d.request('GET', '/api/v1/namespaces/default/events?fieldSelector='
                                'involvedObject.name=%s,reason=%s' % (name, reason))
    return [e.get('message', '') for e in json.loads(body)['items']] if status == 200 else []


def capacity(d, name):
    obj = claim(d, name)
    return obj and obj.get('status', {}).get('capacity', {}).get('storage')


def host_takeable(path):
    """What the host filesystem at PATH can take, less the store's margin."""
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize - LOW_SPACE


def df_avail(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize, st.f_bfree * st.f_frsize, st.f_blocks * st.f_frsize


def fill(path, mib):
    """A file of MIB MiB on the store's disk, outside the store."""
    with open(path, 'wb') as f:
        for _ in range(mib):
            f.write(b'\0' * MI)


def expand(d, name, storage):
    status, _, body = d.request('PATCH', '%s/%s' % (PVCS, name),
                                {'spec': {'resources': {'requests': {'storage': storage}}}},
                                content_type='application/merge-patch+json')
    return status, json.loads(body)


def log_has(d, text):
    with open(d.log_path, encoding='utf-8', errors='replace') as f:
        return text in f.read()


def pending_and_binding(t, d, small):
    """Claims that do not fit wait, and bind when a claim goes or the disk frees up."""
    takeable = d.metric('claimfs_store_takeable_bytes')
    t.ok(takeable is not None and 250 * MI < takeable < DISK_MIB * MI,
         '/metrics: claimfs_store_takeable_bytes is the room on the small disk (%s)' % takeable)
    t.eq(d.metric('claimfs_store_promised_bytes'), 0, '/metrics: nothing promised yet')
    t.eq(d.metric('claimfs_store_overcommit_ratio'), 1, '/metrics: overcommit 1 by default')
    d.create_claim('default', 'huge', storage='1Gi')
    d.create_claim('default', 'exa', storage='8Ei')
    t.eq(phase(d, 'huge'), 'Pending', 'a 1Gi claim on a %d MiB disk stays Pending' % DISK_MIB)
    t.eq(phase(d, 'exa'), 'Pending', 'an 8Ei claim stays Pending')
    t.ok(log_has(d, 'claim default/huge stays Pending: failed to provision volume with StorageClass '
                    '"claimfs": not enough space'), 'the log says why the claim is Pending')
    t.ok(any('not enough space' in m for m in events_about(d, 'huge', 'ProvisioningFailed')),
         'a ProvisioningFailed event says why (kubectl describe pvc shows it)',
         repr(events_about(d, 'huge', 'ProvisioningFailed')))
    t.ok(not os.path.exists(d.claim_path('default', 'huge')), 'a Pending claim has no directory')
    d.create_claim('default', 'first', storage='200Mi')
    t.eq(phase(d, 'first'), 'Bound', 'a 200Mi claim that fits binds')
    t.eq(d.metric('claimfs_store_promised_bytes'), 200 * MI, '/metrics: 200Mi promised')
    d.create_claim('default', 'second', storage='150Mi')
    t.eq(phase(d, 'second'), 'Pending', '150Mi more than the disk can take: Pending')
    d.delete_claim('default', 'first')
    t.ok(wait_for(lambda: phase(d, 'second') == 'Bound', timeout=5),
         'deleting the 200Mi claim lets the 150Mi claim bind')
    t.eq(phase(d, 'huge'), 'Pending', 'the 1Gi claim still waits')

    # df: never more available than the host can take.
    path = d.claim_path('default', 'second')
    avail, free, size = df_avail(path)
    t.eq(size, 150 * MI, 'df in the claim: its size is the claim capacity')
    t.eq(avail, 150 * MI, 'df in the claim: all of it available while the disk has room')
    filler = os.path.join(small, 'filler')
    fill(filler, 200)
    avail, free, size = df_avail(path)
    room = host_takeable(small)
    takeable = d.metric('claimfs_store_takeable_bytes') or room
    t.ok(avail < 150 * MI and avail == free and avail <= takeable and abs(avail - room) < 4 * MI,
         'df in the claim shows what the store can take (%d MiB; host %d MiB), not the claim\'s '
         '150 MiB (%d MiB)' % (takeable // MI, room // MI, avail // MI))
    t.eq(size, 150 * MI, 'df size stays the claim capacity on a full disk')
    os.unlink(filler)

    # Expansion: refused while it does not fit, done once it does.
    d.create_claim('default', 'third', storage='100Mi')
    t.eq(phase(d, 'third'), 'Bound', 'a 100Mi claim binds beside the 150Mi one')
    status, obj = expand(d, 'second', '250Mi')
    t.eq(status, 200, 'expanding the 150Mi claim to 250Mi is accepted (the spec)')
    t.eq(obj.get('status', {}).get('capacity', {}).get('storage'), '150Mi',
         'the expansion that does not fit keeps the capacity at 150Mi')
    t.eq(df_avail(path)[2], 150 * MI, 'df still shows 150Mi')
    t.ok(log_has(d, 'claim default/second keeps 157286400 bytes: resize failed: not enough space'),
         'the log says why the claim did not grow')
    t.ok(any('not enough space' in m for m in events_about(d, 'second', 'VolumeResizeFailed')),
         'a VolumeResizeFailed event says why the claim did not grow',
         repr(events_about(d, 'second', 'VolumeResizeFailed')))
    d.delete_claim('default', 'third')
    t.ok(wait_for(lambda: capacity(d, 'second') == '250Mi', timeout=5),
         'deleting the 100Mi claim lets the expansion to 250Mi happen')
    t.eq(df_avail(path)[2], 250 * MI, 'df shows 250Mi after the expansion')
    d.delete_claim('default', 'second')

    # The periodic retry: room on the host, no API call.
    fill(filler, 250)
    d.create_claim('default', 'later', storage='120Mi')
    t.eq(phase(d, 'later'), 'Pending', 'with the disk nearly full a 120Mi claim waits')
    os.unlink(filler)
    t.ok(wait_for(lambda: phase(d, 'later') == 'Bound', timeout=10),
         'once the disk has room the waiting claim binds by itself')
    d.delete_claim('default', 'later')


def overcommit(t, d):
    """--overcommit 4: thin provisioning lets the 1Gi claim bind after a restart."""
    t.eq(d.stop(), 0, 'daemon stops cleanly')
    d.start(['--overcommit', '4'])
    t.eq(d.metric('claimfs_store_overcommit_ratio'), 4, '/metrics: overcommit 4')
    t.ok(wait_for(lambda: phase(d, 'huge') == 'Bound', timeout=10),
         'with --overcommit 4 the waiting 1Gi claim binds (after a restart)')
    t.eq(phase(d, 'exa'), 'Pending', 'the 8Ei claim still waits with --overcommit 4')
    avail, _, size = df_avail(d.claim_path('default', 'huge'))
    t.eq(size, 1 << 30, 'df in the 1Gi claim: size 1Gi')
    takeable = d.metric('claimfs_store_takeable_bytes')
    t.ok(avail <= takeable and abs(avail - host_takeable(os.path.dirname(d.store))) < 4 * MI,
         'df in the overcommitted 1Gi claim shows what the store can take (%d MiB of %d MiB)'
         % (avail // MI, takeable // MI))
    d.create_claim('default', 'thin', storage='300Mi')
    t.eq(phase(d, 'thin'), 'Pending', 'past 4x the room claims wait again')


def bad_ratios(t):
    daemon = os.environ['CLAIMFSD']
    for value in ('0.5', '0', 'abc', '', '-2', 'nan', 'inf', '1e3', '1001', '2x'):
        r = subprocess.run([daemon, '--overcommit', value, '--store', '/nonexistent/x.db'],
                           capture_output=True, text=True, timeout=10)
        t.ok(r.returncode == 2 and "--overcommit takes a ratio from 1 to 1000" in r.stderr,
             '--overcommit %r is refused with a clear message' % value, r.stderr)
    r = subprocess.run([daemon, '--help'], capture_output=True, text=True, timeout=10)
    t.ok('--overcommit RATIO' in r.stdout, '--help lists --overcommit RATIO')


def main():
    t = Tap()
    work = tempfile.mkdtemp(prefix='claimfs-capacity-')
    small = os.path.join(work, 'small')
    os.makedirs(small)
    try:
        bad_ratios(t)
        if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=%dm' % DISK_MIB, 'tmpfs', small]).returncode != 0:
            t.ok(False, 'mount a %d MiB tmpfs for the store' % DISK_MIB)
        else:
            with Daemon(os.path.join(work, 'd'), store=os.path.join(small, 'store.db')) as d:
                d.start()
                try:
                    pending_and_binding(t, d, small)
                    overcommit(t, d)
                    t.eq(d.stop(), 0, 'daemon stops cleanly')
                    t.eq(d.sanitizer_reports(), [], 'no sanitizer reports in the daemon log')
                except Exception:
                    t.diag(d.log_tail(30))
                    raise
    except Exception as e:  # report, never leave things behind
        t.ok(False, 'capacity test ran to the end', repr(e))
    finally:
        force_unmount(os.path.join(work, 'd', 'mnt'))
        if is_mounted(small):
            subprocess.run(['umount', '-l', small])
        shutil.rmtree(work, ignore_errors=True)
    t.done()


if __name__ == '__main__':
    main()
