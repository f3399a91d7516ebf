#!/usr/bin/env python3
"""load.py - claimfsd under load and hostile input, with its memory watched.

Owns: one work directory with a claimfsd (Daemon fixture), its writer
processes, client threads and sockets; all are stopped, closed and removed at
exit, even on failure or SIGINT/SIGTERM. Everything talks to 127.0.0.1 only.

For --duration seconds, at once:
  - 16 writer processes, each on its own claim: visit counters (read, add one,
    O_TRUNC rewrite, fsync, close; the value read must be the one written) and
    256 KiB files written, fsynced and unlinked;
  - 200 HTTP client threads creating, reading, listing and deleting claims
    (every answer must be the expected 201/200 with the right object);
  - a probe that GETs /healthz every 0.25 s: a normal client must be served
    (within --probe-limit, default 5 s) the whole time;
  - hostile input (after 10% of the run): path-like and oversized claim names
    (`../x`, `a/b`, NUL, 10 kB), a 2 MiB body, JSON nested 100,000 deep, raw
    requests with NUL and '..' in the path: each must get a 4xx Kubernetes
    Status, nothing else (a NUL must not cut a path short);
  - 2000 idle connections and 50 slow-loris connections (one header byte per
    second) opened after 20% of the run and held to the end;
  - VmRSS/VmHWM of the daemon sampled from /proc/PID/status every 0.25 s:
    the peak must stay under --rss-limit-mib (default 256).
Afterwards: no claim of the run is left, the daemon answers and stops
cleanly (exit 0). Idle connections must have been closed by the server when
the run outlasts its idle timeout (30 s); slow-loris connections still open
at the end are checked once the run held them past the server's 30 s limit
(--strict-slowloris checks them in a shorter run too).

    load.py --duration 60            # make load: prints the figures
    load.py --duration 10 --tap      # the meson test
"""

import argparse
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB',
                                  os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                               '..', 'integration', 'lib')))
from daemon import Daemon  # noqa: E402
from tap import Tap  # noqa: E402

BASE = '/api/v1/namespaces/%s/persistentvolumeclaims'
IDLE_TIMEOUT_S = 30  # src/api/http.c HTTP_IDLE_TIMEOUT_S

# One writer process: real syscalls through the mount, its own counters.
WRITER = r'''
import json, os, sys, time
d, deadline = sys.argv[1], float(sys.argv[2])
ops = errors = 0
first_error = None
value = 0
blob = os.urandom(256 * 1024)
visits = os.path.join(d, 'visits.txt')
while time.time() < deadline:
    try:
        try:
            with open(visits, 'rb') as f:
                text = f.read()
            got = int(text) if text else 0
        except FileNotFoundError:
            got = 0
        if got != value:
            errors += 1
            first_error = first_error or 'visits.txt holds %r, wrote %d' % (got, value)
        value = got + 1
        fd = os.open(visits, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, b'%d\n' % value)
        os.fsync(fd)
        os.close(fd)
        ops += 1
        if ops % 10 == 0:
            path = os.path.join(d, 'blob')
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, blob)
            os.fsync(fd)
            os.close(fd)
            os.unlink(path)
            ops += 1
    except OSError as e:
        errors += 1
        first_error = first_error or repr(e)
        time.sleep(0.05)
print(json.dumps({'ops': ops, 'errors': errors, 'first_error': first_error}))
'''


class Stats:
    """Counters shared by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ok = {}
        self.unexpected = []
        self.latencies = []

    def record(self, op, ok, latency, detail=None):
        """One request's outcome."""
        with self.lock:
            if ok:
                self.ok[op] = self.ok.get(op, 0) + 1
                self.latencies.append(latency)
            else:
                self.unexpected.append('%s: %s' % (op, detail))

    def total(self):
        """Successful requests."""
        return sum(self.ok.values())


def request(port, method, path, body=None, ctype='application/json', timeout=30):
    """One HTTP request on a new connection: (status, body bytes, seconds)."""
    started = time.monotonic()
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        headers = {}
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers['Content-Type'] = ctype
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        payload = resp.read()
        return resp.status, payload, time.monotonic() - started
    finally:
        conn.close()


def claim_body(name, storage='1Mi'):
    """A PersistentVolumeClaim."""
    return {'apiVersion': 'v1', 'kind': 'PersistentVolumeClaim', 'metadata': {'name': name},
            'spec': {'accessModes': ['ReadWriteOnce'],
                     'resources': {'requests': {'storage': storage}}}}


def client_thread(port, tid, deadline, stats, stop):
    """Create, read, sometimes list, delete claims until the deadline."""
    n = 0
    while time.monotonic() < deadline and not stop.is_set():
        name = 'load-%03d-%d' % (tid, n)
        n += 1
        steps = [('create', 'POST', BASE % 'default', claim_body(name), 201),
                 ('get', 'GET', BASE % 'default' + '/' + name, None, 200)]
        if n % 10 == 0:
            steps.append(('list', 'GET', BASE % 'default', None, 200))
        steps.append(('delete', 'DELETE', BASE % 'default' + '/' + name, None, 200))
        for op, method, path, body, want in steps:
            try:
                status, payload, latency = request(port, method, path, body)
            except OSError as e:
                stats.record(op, False, 0, '%s %s: %r' % (method, path, e))
                break
            ok = status == want
            if ok and op in ('create', 'get', 'delete'):
                try:
                    ok = json.loads(payload)['metadata']['name'] == name
                except (ValueError, KeyError, TypeError):
                    ok = False
            stats.record(op, ok, latency, '%s %s: HTTP %d %s' %
                         (method, path, status, payload[:200].decode('utf-8', 'replace')))
            if not ok:
                break


def probe_thread(port, stop, result):
    """GET /healthz every 0.25 s; remember the worst latency and any failure."""
    while not stop.is_set():
        try:
            status, _, latency = request(port, 'GET', '/healthz', timeout=10)
            result['count'] += 1
            result['worst'] = max(result['worst'], latency)
            if status != 200:
                result['failures'].append('HTTP %d' % status)
        except OSError as e:
            result['failures'].append(repr(e))
        stop.wait(0.25)


def rss_thread(pid, stop, result):
    """Sample VmRSS/VmHWM of the daemon."""
    while not stop.is_set():
        try:
            with open('/proc/%d/status' % pid, encoding='ascii') as f:
                for line in f:
                    if line.startswith(('VmRSS:', 'VmHWM:')):
                        key, value = line.split(':')
                        key += ':'
                        kib = int(value.split()[0])
                        result[key] = max(result.get(key, 0), kib)
                        if key == 'VmRSS:':
                            result.setdefault('first', kib)
                            result['last'] = kib
        except OSError:
            pass
        stop.wait(0.25)


def is_status(payload, code):
    """Is payload a Kubernetes Status with this code?"""
    try:
        doc = json.loads(payload)
    except ValueError:
        return False
    return (doc.get('kind') == 'Status' and doc.get('status') == 'Failure' and
            doc.get('code') == code)


def raw_request(port, data, timeout=10):
    """Send raw bytes, read the answer's status line (None if the server closed)."""
    with socket.create_connection(('127.0.0.1', port), timeout=timeout) as s:
        s.sendall(data)
        answer = b''
        try:
            while b'\r\n\r\n' not in answer:
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except socket.timeout:
            return 'timeout'
    line = answer.split(b'\r\n', 1)[0].decode('latin-1')
    return line or None


def hostile(port):
    """Every hostile request and what it got: list of (description, ok, detail)."""
    out = []
    ns = BASE % 'default'
    for desc, name in (('name ../x', '../x'), ('name a/b', 'a/b'), ('name with NUL', 'x\0y'),
                       ('10 kB name', 'a' * 10240), ('name with uppercase', 'Data')):
        status, payload, _ = request(port, 'POST', ns, claim_body(name))
        out.append(('POST %s' % desc, status in (400, 422) and is_status(payload, status),
                    'HTTP %d' % status))
    status, payload, _ = request(port, 'POST', BASE % '..', claim_body('x'))
    out.append(('POST into namespace ..', 400 <= status < 500 and is_status(payload, status),
                'HTTP %d' % status))
    big = json.dumps(claim_body('big')).encode()[:-1] + b',"pad":"' + b'x' * (2 << 20) + b'"}'
    try:
        status, payload, _ = request(port, 'POST', ns, big)
        out.append(('2 MiB body', status == 413 and is_status(payload, 413), 'HTTP %d' % status))
    except OSError as e:
        out.append(('2 MiB body', False, repr(e)))
    deep = b'[' * 100000 + b']' * 100000
    status, payload, _ = request(port, 'POST', ns, deep)
    out.append(('JSON nested 100,000 deep', status in (400, 413, 422) and is_status(payload, status),
                'HTTP %d' % status))
    deep_obj = b'{"a":' * 100000 + b'1' + b'}' * 100000
    status, payload, _ = request(port, 'POST', ns, deep_obj)
    out.append(('JSON object nested 100,000 deep', status in (400, 413, 422) and
                is_status(payload, status), 'HTTP %d' % status))
    status, payload, _ = request(port, 'POST', ns, b'{"apiVersion": "v1", "kind": ',)
    out.append(('truncated JSON', status == 400 and is_status(payload, 400), 'HTTP %d' % status))
    for desc, path in (('GET ../ in the name', ns + '/..%2Fx'), ('GET ..', ns + '/..'),
                       ('GET NUL in the name', ns + '/a%00b'), ('GET 10 kB name', ns + '/' + 'a' * 10240)):
        line = raw_request(port, b'GET ' + path.encode() + b' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        ok = line is not None and line.split(' ')[1:2] and line.split(' ')[1].startswith('4')
        out.append((desc, bool(ok), line))
    # A NUL in the request line must not cut the path short: DELETE .../victim<NUL>junk
    # must not delete "victim".
    status, _, _ = request(port, 'POST', ns, claim_body('nul-victim'))
    line = raw_request(port, b'DELETE ' + ns.encode() + b'/nul-victim\x00junk HTTP/1.1\r\n'
                       b'Host: x\r\nConnection: close\r\n\r\n')
    after, _, _ = request(port, 'GET', ns + '/nul-victim')
    request(port, 'DELETE', ns + '/nul-victim')
    out.append(('DELETE .../nul-victim<NUL>junk', status == 201 and after == 200 and
                (line is None or ' 4' in line), '%s; nul-victim afterwards: HTTP %d' % (line, after)))
    line = raw_request(port, b'GET /' + b'a' * 100000 + b' HTTP/1.1\r\nHost: x\r\n\r\n')
    out.append(('100 kB request line', line is None or ' 4' in (line or ''), str(line)))
    return out


def open_idle(port, count):
    """count connected sockets that never send anything."""
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(('127.0.0.1', port))
        except OSError:
            s.close()
            break
        s.setblocking(False)
        socks.append(s)
    return socks


def slowloris_thread(socks, stop):
    """Send one byte of a never-ending header per connection per second."""
    header = b'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + b'a' * 100000
    pos = 0
    while not stop.is_set():
        for s in socks:
            try:
                s.send(header[pos:pos + 1])
            except OSError:
                pass
        pos += 1
        stop.wait(1.0)


def closed_by_server(s):
    """Has the peer closed (or reset) this non-blocking socket?"""
    try:
        data = s.recv(4096)
        return data == b'' or data.startswith(b'HTTP/1.1 4')
    except BlockingIOError:
        return False
    except OSError:
        return True


def raise_nofile(want):
    """Raise RLIMIT_NOFILE of this process towards want (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(want, hard) if hard != resource.RLIM_INFINITY else want
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def percentile(values, p):
    """p-th percentile (nearest rank)."""
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100.0))]


def main(argv):
    """Run the load and judge it."""
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--duration', type=float, default=60)
    p.add_argument('--writers', type=int, default=16)
    p.add_argument('--clients', type=int, default=200)
    p.add_argument('--idle', type=int, default=2000)
    p.add_argument('--slowloris', type=int, default=50)
    p.add_argument('--rss-limit-mib', type=float, default=256)
    p.add_argument('--probe-limit', type=float, default=5.0,
                   help='slowest acceptable /healthz answer during the load, seconds')
    p.add_argument('--strict-slowloris', action='store_true',
                   help='fail if slow-loris connections are still open at the end')
    p.add_argument('--tap', action='store_true', help='(output is TAP in any case)')
    args = p.parse_args(argv)
    t = Tap()

    def on_signal(signum, frame):
        raise SystemExit('interrupted by signal %d' % signum)
    signal.signal(signal.SIGTERM, on_signal)

    nofile = raise_nofile(args.idle + args.slowloris + args.clients + 512)
    if nofile < args.idle + args.slowloris + args.clients + 64:
        args.idle = max(0, nofile - args.slowloris - args.clients - 256)
        t.diag('RLIMIT_NOFILE %d: only %d idle connections' % (nofile, args.idle))

    work = tempfile.mkdtemp(prefix='claimfs-load-')
    stop = threading.Event()
    writers, threads, idle, slow = [], [], [], []
    try:
        with Daemon(work) as d:
            d.start(extra_args=['--log-level', 'warn'])
            port, pid = d.port, d.serving_pid()  # the worker: it holds the memory
            for i in range(args.writers):
                d.create_claim('default', 'writer-%02d' % i, storage='16Mi')
            started = time.monotonic()
            deadline = started + args.duration
            wall_deadline = time.time() + args.duration
            rss = {}
            probe = {'count': 0, 'worst': 0.0, 'failures': []}
            stats = Stats()
            for i in range(args.writers):
                writers.append(subprocess.Popen(
                    [sys.executable, '-c', WRITER, d.claim_path('default', 'writer-%02d' % i),
                     str(wall_deadline)], stdout=subprocess.PIPE, stderr=subprocess.PIPE))
            threads.append(threading.Thread(target=rss_thread, args=(pid, stop, rss), daemon=True))
            threads.append(threading.Thread(target=probe_thread, args=(port, stop, probe), daemon=True))
            for tid in range(args.clients):
                threads.append(threading.Thread(target=client_thread,
                                                args=(port, tid, deadline, stats, stop), daemon=True))
            for th in threads:
                th.start()

            time.sleep(args.duration * 0.1)
            hostile_results = []
            hostile_thread = threading.Thread(target=lambda: hostile_results.extend(hostile(port)),
                                              daemon=True)
            hostile_thread.start()
            hostile_at = time.monotonic()
            time.sleep(max(0.0, started + args.duration * 0.2 - time.monotonic()))
            idle = open_idle(port, args.idle)
            slow = open_idle(port, args.slowloris)
            idle_opened_at = time.monotonic()
            idle_count, slow_count = len(idle), len(slow)
            slow_thread = threading.Thread(target=slowloris_thread, args=(slow, stop), daemon=True)
            slow_thread.start()
            t.diag('hostile input sent at %.1f s; %d idle + %d slow-loris connections open at %.1f s' %
                   (hostile_at - started, len(idle), len(slow), idle_opened_at - started))

            hostile_thread.join(timeout=max(1.0, deadline - time.monotonic() + 120))
            writer_results = []
            for w in writers:
                try:
                    out, err = w.communicate(timeout=args.duration + 120)
                    writer_results.append(json.loads(out) if w.returncode == 0 else
                                          {'ops': 0, 'errors': 1, 'first_error': err.decode()[-300:]})
                except (subprocess.TimeoutExpired, ValueError) as e:
                    writer_results.append({'ops': 0, 'errors': 1, 'first_error': repr(e)})
            for th in threads[2:]:
                th.join(timeout=max(1.0, deadline - time.monotonic() + 60))
            hung_clients = sum(1 for th in threads[2:] if th.is_alive())
            elapsed = time.monotonic() - started
            held = time.monotonic() - idle_opened_at
            idle_closed = sum(1 for s in idle if closed_by_server(s))
            slow_closed = sum(1 for s in slow if closed_by_server(s))
            stop.set()
            for s in idle + slow:
                s.close()
            idle, slow = [], []

            # --- verdicts ---------------------------------------------------------------
            wops = sum(r['ops'] for r in writer_results)
            werr = [r['first_error'] for r in writer_results if r['errors']]
            t.ok(not werr, '%d writers: %d file operations (%.0f/s), no errors' %
                 (args.writers, wops, wops / elapsed), '\n'.join(str(e) for e in werr[:5]))
            lat = stats.latencies
            t.ok(not stats.unexpected and hung_clients == 0,
                 '%d HTTP clients: %d requests (%.0f/s; %s), p50 %.1f ms, p99 %.1f ms, '
                 '0 unexpected answers, no client hung' %
                 (args.clients, stats.total(), stats.total() / elapsed,
                  ', '.join('%s %d' % kv for kv in sorted(stats.ok.items())),
                  percentile(lat, 50) * 1000, percentile(lat, 99) * 1000),
                 '%d unexpected, %d hung:\n%s' % (len(stats.unexpected), hung_clients,
                                                 '\n'.join(stats.unexpected[:10])))
            t.ok(stats.total() > 0 and wops > 0, 'load actually ran (requests and file operations)')
            t.ok(not hostile_thread.is_alive() and hostile_results,
                 'hostile requests all answered (%d)' % len(hostile_results))
            for desc, ok, detail in hostile_results:
                t.ok(ok, 'hostile: %s -> clean 4xx Status or refusal (%s)' % (desc, detail))
            t.ok(not probe['failures'] and probe['worst'] < args.probe_limit,
                 'a normal client was served throughout: %d probes, worst %.0f ms' %
                 (probe['count'], probe['worst'] * 1000), '\n'.join(probe['failures'][:5]))
            peak = max(rss.get('VmRSS:', 0), rss.get('VmHWM:', 0)) / 1024.0
            t.ok(0 < peak < args.rss_limit_mib,
                 'daemon memory bounded: VmRSS %.1f MiB at start, %.1f MiB at end, '
                 'peak VmHWM %.1f MiB (limit %.0f MiB)' %
                 (rss.get('first', 0) / 1024.0, rss.get('last', 0) / 1024.0,
                  rss.get('VmHWM:', 0) / 1024.0, args.rss_limit_mib))
            if held > IDLE_TIMEOUT_S + 5:
                t.ok(idle_closed == idle_count,
                     '%d of %d idle connections closed by the server after its %d s idle timeout '
                     '(held %.0f s)' % (idle_closed, idle_count, IDLE_TIMEOUT_S, held))
            else:
                t.diag('%d of %d idle connections closed by the server after %.0f s '
                       '(its idle timeout is %d s)' % (idle_closed, idle_count, held, IDLE_TIMEOUT_S))
            slow_msg = ('%d of %d slow-loris connections closed by the server after %.0f s' %
                        (slow_closed, slow_count, held))
            # claimfsd gives every request head 30 s in all (http_guard.c).
            if args.strict_slowloris or held > IDLE_TIMEOUT_S + 5:
                t.ok(slow_closed == slow_count, slow_msg)
            else:
                t.diag(slow_msg + ('' if slow_closed == slow_count else
                                   ' (the rest still open: no total request-header time limit)'))
            status, payload, _ = request(port, 'GET', BASE % 'default')
            left = [c['metadata']['name'] for c in json.loads(payload).get('items', [])
                    if c['metadata']['name'].startswith('load-')] if status == 200 else ['?']
            t.ok(status == 200 and not left, 'no claim of the run is left (%d)' % len(left),
                 ' '.join(left[:10]))
            rc = d.stop()
            t.ok(rc == 0, 'daemon stops cleanly after the load (exit %s)' % rc, d.log_tail(20))
            t.diag('load: %.0f s, writers %.0f ops/s, API %.0f req/s, peak RSS %.1f MiB' %
                   (elapsed, wops / elapsed, stats.total() / elapsed, peak))
    finally:
        stop.set()
        for s in idle + slow:
            s.close()
        for w in writers:
            if w.poll() is None:
                w.kill()
                w.wait()
        shutil.rmtree(work, ignore_errors=True)
    t.done()


if __name__ == '__main__':
    main(sys.argv[1:])
