#!/usr/bin/env python3
"""test_harness.py - claimfs-harness against the real claimfsd (TAP).

Short scenarios of every option (a few hundred visits each), the two
deliberately broken built-in apps and a broken --app (the harness must fail
them with the right verdict), a --app run with visits_app.py, JSON and JUnit
output checked against each other, and after every run - including ones
interrupted with SIGINT/SIGTERM - no claimfsd or replica process, no mount
and no temporary directory left behind.

Environment (set by meson): CLAIMFS_HARNESS (the binary), CLAIMFSD,
CLAIMFS_HARNESS_DIR (this directory), CLAIMFS_TEST_LIB (tap.py, daemon.py).
Every harness run gets its own private TMPDIR so leftovers are attributable.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

# The apps run under Debian's interpreter: a pyenv shim on PATH starts in
# hundreds of milliseconds, seconds under load, and makes readiness flaky.
PY = '/usr/bin/python3' if os.access('/usr/bin/python3', os.X_OK) else 'python3'
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import xml.etree.ElementTree as ET

sys.path.insert(0, os.environ.get('CLAIMFS_TEST_LIB', os.path.join(os.path.dirname(__file__), '..', 'integration', 'lib')))
from tap import Tap  # noqa: E402  pylint: disable=wrong-import-position
from daemon import Daemon  # noqa: E402  pylint: disable=wrong-import-position

HARNESS = os.environ.get('CLAIMFS_HARNESS', '')
HERE = os.environ.get('CLAIMFS_HARNESS_DIR', os.path.dirname(os.path.abspath(__file__)))
APP = os.path.join(HERE, 'visits_app.py')
HEADER = 'POD            CLAIM               ACKED  ON DISK  RESTARTS  VERDICT'
RUN_TIMEOUT = 120


class Result:
    """One finished harness run."""

    def __init__(self, rc, out, err, report, junit):
        self.rc, self.out, self.err, self.report, self.junit = rc, out, err, report, junit

    def replicas(self):
        return (self.report or {}).get('replicas', [])

    def rows(self):
        """Table rows of stdout as lists of fields (verdict kept whole)."""
        lines = self.out.splitlines()
        if HEADER not in lines:
            return []
        rows = []
        for line in lines[lines.index(HEADER) + 1:]:
            m = re.match(r'^(\S+)\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)  (.*)$', line)
            if not m:
                break
            rows.append(list(m.groups()))
        return rows

    def timeline(self, kind):
        return [e['text'] for e in (self.report or {}).get('timeline', []) if e['kind'] == kind]

    def diag(self):
        return 'rc %s\nstdout:\n%s\nstderr (tail):\n%s' % (
            self.rc, self.out, '\n'.join(self.err.splitlines()[-25:]))


class Suite:
    """Private directories, one harness invocation at a time, leftover checks."""

    def __init__(self, t):
        self.t = t
        self.root = tempfile.mkdtemp(prefix='claimfs-harness-test-')
        os.chmod(self.root, 0o755)
        self.tmpdir = os.path.join(self.root, 'tmp')
        os.mkdir(self.tmpdir)
        os.chmod(self.tmpdir, 0o1777)  # like /tmp: the unprivileged run needs it too
        self.count = 0

    def env(self):
        env = dict(os.environ)
        env['TMPDIR'] = self.tmpdir
        return env

    def out_paths(self):
        self.count += 1
        return (os.path.join(self.root, 'run%d.json' % self.count),
                os.path.join(self.root, 'run%d.xml' % self.count))

    def run(self, args, timeout=RUN_TIMEOUT, reports=True, raw=False):
        """Run the harness (ARGS is the whole command line when RAW) to
        completion; returns a Result (reports parsed)."""
        jpath, xpath = self.out_paths()
        cmd = list(args) if raw else [HARNESS, *args]
        if reports:
            cmd += ['--json', jpath, '--junit', xpath]
        try:
            p = subprocess.run(cmd, env=self.env(), capture_output=True, text=True,
                               timeout=timeout, check=False)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = 'timeout', e.stdout or '', e.stderr or ''
            out = out.decode() if isinstance(out, bytes) else out
            err = err.decode() if isinstance(err, bytes) else err
        report = junit = None
        if reports and os.path.exists(jpath):
            try:
                with open(jpath, encoding='utf-8') as f:
                    report = json.load(f)
            except ValueError:
                report = None
        if reports and os.path.exists(xpath):
            try:
                junit = ET.parse(xpath).getroot()
            except ET.ParseError:
                junit = None
        return Result(rc, out, err, report, junit)

    def leftovers(self):
        """What a finished run left behind: dirs, mounts, processes."""
        problems = []
        deadline = time.monotonic() + 2.0
        while True:
            problems = []
            entries = os.listdir(self.tmpdir)
            if entries:
                problems.append('temporary entries: %s' % entries)
            with open('/proc/self/mounts', encoding='utf-8') as f:
                for line in f:
                    mnt = line.split()[1].replace('\\040', ' ')
                    if mnt.startswith(self.tmpdir):
                        problems.append('mount: %s' % mnt)
            problems += ['process %s' % p for p in processes_mentioning(self.tmpdir)]
            if not problems or time.monotonic() > deadline:
                return problems
            time.sleep(0.1)

    def check_clean(self, what):
        problems = self.leftovers()
        self.t.ok(not problems, '%s: no processes, mounts or temporary files left' % what,
                  '\n'.join(problems))

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)


def processes_mentioning(text):
    """PIDs (with command lines) whose command line or environment contains TEXT."""
    found = []
    needle = text.encode()
    for pid in os.listdir('/proc'):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                cmdline = f.read()
            with open('/proc/%s/environ' % pid, 'rb') as f:
                environ = f.read()
        except OSError:
            continue
        if needle in cmdline or needle in environ:
            found.append('%s %s' % (pid, cmdline.replace(b'\0', b' ').decode('utf-8', 'replace')))
    return found


def check_consistent(t, res, what):
    """Exit 0, PASS, every replica ok in table, JSON and JUnit alike."""
    t.eq(res.rc, 0, '%s: exit status 0' % what) or t.diag(res.diag())
    t.ok(HEADER in res.out.splitlines(), '%s: table header as in the issue' % what, res.out)
    rows = res.rows()
    t.ok(rows and all(r[5].startswith('ok') for r in rows), '%s: every row says ok' % what, res.out)
    rep = res.report or {}
    t.eq(rep.get('result'), 'pass', '%s: JSON result pass' % what)
    table = [(r[0], r[1], int(r[2]), int(r[3]), int(r[4]), r[5]) for r in rows]
    from_json = [(r['pod'], r['claim'], r['acked'], r['on_disk'], r['restarts'], r['verdict'])
                 for r in res.replicas()]
    t.eq(from_json, table, '%s: JSON replicas match the table' % what)
    for r in res.replicas():
        unacked = r['in_flight_at_kill'] + r['failed']
        if not r['acked'] <= r['on_disk'] <= r['acked'] + unacked:
            t.ok(False, '%s: %s acked <= on disk <= acked + unacknowledged' % (what, r['pod']), r)
    junit = res.junit
    t.ok(junit is not None and junit.get('failures') == '0' and
         junit.get('tests') == str(len(rows)) and len(junit.findall('.*/testcase')) == len(rows),
         '%s: JUnit has one passing testcase per replica' % what,
         ET.tostring(junit).decode() if junit is not None else 'no JUnit file')


def check_fails(t, res, what, pattern, pods=None):
    """Exit 1 and FAIL verdicts matching PATTERN on exactly PODS (None: on at
    least one replica, whichever the timing of the kills exposed)."""
    t.eq(res.rc, 1, '%s: exit status 1' % what) or t.diag(res.diag())
    bad = sorted(r['pod'] for r in res.replicas() if not r['ok'])
    if pods is None:
        pods = bad
        t.ok(bad, '%s: some replica is inconsistent' % what, res.out)
    else:
        t.eq(bad, sorted(pods), '%s: inconsistent replicas' % what)
    rows = {r[0]: r[5] for r in res.rows()}
    t.ok(all(re.search(pattern, rows.get(p, '')) and rows[p].startswith('FAIL: ') for p in pods),
         '%s: table VERDICT says %r' % (what, pattern), res.out)
    t.eq((res.report or {}).get('result'), 'fail', '%s: JSON result fail' % what)
    fails = res.junit.findall('.*/testcase/failure') if res.junit is not None else []
    t.ok(len(fails) == len(pods) and all(re.search(pattern, f.get('message', '')) for f in fails),
         '%s: JUnit failures carry the verdict' % what)
    t.ok(re.search(r'^FAIL: \d+ of \d+ replicas inconsistent$', res.out, re.M), '%s: FAIL summary' % what, res.out)


def kill_victims(res):
    return [re.match(r'SIGKILL (\S+)', text).group(1) for text in res.timeline('kill-replica')]


def test_usage(t, s):
    res = s.run(['--help'], reports=False)
    t.eq(res.rc, 0, '--help exits 0')
    for opt in ('--replicas', '--requests', '--concurrency', '--kill-replicas', '--kill-daemon', '--seed',
                '--app', '--mount-path', '--pod-management', '--rolling-update', '--partition',
                '--scale-cycle', '--balance', '--api', '--mount', '--json', '--junit', '--broken-app'):
        if opt not in res.out:
            t.ok(False, '--help documents %s' % opt)
    for args, what in ((['--replicas', '0'], 'zero replicas'), (['--balance', 'nearest'], 'unknown balance'),
                       (['--pod-management', 'Serial'], 'unknown pod management'),
                       (['--api', 'http://127.0.0.1:1'], '--api without --mount'),
                       (['--api', 'http://127.0.0.1:1', '--mount', '/', '--kill-daemon', '1'],
                        '--kill-daemon with --api'),
                       (['--replicas', '2', '--weights', '1,2,3'], 'weights count'),
                       (['--broken-app', 'cross-write', '--replicas', '1'], 'cross-write with one replica'),
                       (['--supervise', '--api', 'http://127.0.0.1:1', '--mount', '/'], '--supervise with --api'),
                       (['--runtime', 'docker'], 'unknown runtime'),
                       (['--image', 'busybox', '--command', 'true'], '--image without --runtime podman'),
                       (['--runtime', 'podman', '--image', 'busybox'], '--image without --command'),
                       (['--runtime', 'podman', '--app', 'true'], '--app with --runtime podman'),
                       (['--update-strategy', 'Recreate'], 'unknown update strategy')):
        res = s.run(args, reports=False)
        t.eq(res.rc, 2, 'usage error exits 2: %s' % what)
    res = s.run(['--claimfsd', '/nonexistent/claimfsd', '--requests', '10'])
    t.eq(res.rc, 2, 'missing daemon binary: exit 2')
    t.ok('ERROR: cannot find claimfsd' in res.out and (res.report or {}).get('result') == 'error',
         'missing daemon binary: ERROR in table and JSON', res.diag())
    s.check_clean('missing daemon binary')


def test_basic(t, s, app_dir_existed):
    logs = os.path.join(s.root, 'basic-logs')
    res = s.run(['--replicas', '3', '--requests', '300', '--seed', '1', '--logs', logs])
    check_consistent(t, res, 'basic')
    check_names(t, res, logs)
    t.eq(sum(r['acked'] for r in res.replicas()), 300, 'basic: every visit acknowledged')
    t.eq([r['claim'] for r in res.replicas()], ['data-app-python-%d' % i for i in range(3)],
         'basic: claims named <template>-<sts>-<ordinal>')
    t.eq((res.report or {}).get('visits', {}).get('completed'), 300, 'basic: JSON visits completed')
    t.ok(res.report and res.report['namespaced'], 'basic: replicas ran in mount namespaces (root)')
    t.ok(os.path.exists('/app') == app_dir_existed, 'basic: /app/data was never created on the host')
    s.check_clean('basic')


def test_chaos(t, s):
    logs = os.path.join(s.root, 'chaos-logs')
    res = s.run(['--replicas', '3', '--requests', '600', '--kill-replicas', '8', '--kill-daemon', '2',
                 '--seed', '7', '--logs', logs])
    check_consistent(t, res, 'kills')
    daemon_log = open(os.path.join(logs, 'claimfsd.log'), encoding='utf-8', errors='replace').read() \
        if os.path.exists(os.path.join(logs, 'claimfsd.log')) else ''
    t.ok(daemon_log.count('=== claimfs-harness: start #') == 3 and
         sorted(os.listdir(logs)) == ['app-python-0.log', 'app-python-1.log', 'app-python-2.log', 'claimfsd.log'],
         '--logs: the daemon log (three starts) and every replica log were kept', os.listdir(logs))
    kills = (res.report or {}).get('kills', {})
    t.eq((kills.get('replicas'), kills.get('daemon')), (8, 2), 'kills: 8 replica and 2 daemon kills done')
    t.eq(len(res.timeline('kill-replica')), 8, 'kills: timeline lists each replica kill')
    t.eq(len(res.timeline('restart-daemon')), 2, 'kills: daemon restarted twice')
    t.ok(sum(r['restarts'] for r in res.replicas()) >= 8 + 2 * 3, 'kills: replicas recreated after daemon kills',
         res.replicas())
    t.ok(re.search(r'^8 replica kills|8 replica kills, 2 daemon kills', res.out, re.M), 'kills: summary line', res.out)
    s.check_clean('kills')


def test_replay(t, s):
    args = ['--replicas', '3', '--requests', '200', '--kill-replicas', '5', '--concurrency', '2', '--seed', '42']
    first, second = s.run(args), s.run(args)
    t.ok(first.rc == 0 and second.rc == 0, 'replay: both runs pass', first.diag() + second.diag())
    t.ok(len(kill_victims(first)) == 5 and kill_victims(first) == kill_victims(second),
         'replay: the same seed kills the same replicas in the same order',
         '%s\n%s' % (kill_victims(first), kill_victims(second)))
    t.ok(re.search(r'seed 42$', first.out, re.M), 'replay: the seed is printed', first.out)
    s.check_clean('replay')


def test_policies(t, s):
    rec = os.path.join(s.root, 'ordered.rec')
    app = PY + ' %s --record %s --start-delay 0.3' % (APP, rec)
    res = s.run(['--app', app, '--replicas', '3', '--requests', '60', '--pod-management', 'OrderedReady'])
    t.eq(res.rc, 0, 'OrderedReady: run passes') or t.diag(res.diag())
    starts = sorted((int(o), float(ts)) for o, ts in (line.split() for line in open(rec, encoding='ascii')))
    t.ok(len(starts) == 3 and all(starts[i + 1][1] - starts[i][1] >= 0.3 for i in range(2)),
         'OrderedReady: ordinal i starts only after i-1 is ready', starts)
    # Parallel: every ordinal starts before the first is ready. A longer
    # start-up delay than above leaves room for a loaded machine's slow
    # interpreter starts without changing what is checked.
    rec = os.path.join(s.root, 'parallel.rec')
    app = PY + ' %s --record %s --start-delay 2' % (APP, rec)
    res = s.run(['--app', app, '--replicas', '3', '--requests', '60', '--pod-management', 'Parallel',
                 '--balance', 'random'])
    t.eq(res.rc, 0, 'Parallel: run passes') or t.diag(res.diag())
    starts = [float(line.split()[1]) for line in open(rec, encoding='ascii')]
    t.ok(len(starts) == 3 and max(starts) - min(starts) < 2, 'Parallel: all ordinals start together', starts)
    t.eq(((res.report or {}).get('options', {}).get('pod_management'), res.report['options']['balance']),
         ('Parallel', 'random'), 'Parallel: options in JSON')
    s.check_clean('pod management')


def test_balance(t, s):
    res = s.run(['--replicas', '3', '--requests', '300', '--balance', 'round-robin'])
    check_consistent(t, res, 'round-robin')
    acked = [r['acked'] for r in res.replicas()]
    t.ok(all(abs(a - 100) <= 4 for a in acked), 'round-robin: visits spread evenly', acked)
    res = s.run(['--replicas', '3', '--requests', '400', '--balance', 'weighted', '--weights', '6,1,1'])
    check_consistent(t, res, 'weighted')
    acked = [r['acked'] for r in res.replicas()]
    t.ok(acked[0] > acked[1] + acked[2] and min(acked) > 0, 'weighted 6,1,1: ordinal 0 gets most visits', acked)
    s.check_clean('balance')


def test_rolling_update(t, s):
    res = s.run(['--replicas', '3', '--requests', '300', '--rolling-update', '--partition', '1'])
    check_consistent(t, res, 'rolling update')
    t.eq([r['revision'] for r in res.replicas()], [1, 2, 2], 'rolling update: ordinals >= partition updated')
    steps = [re.match(r'(\S+) updated', x).group(1) for x in res.timeline('rolling-update') if 'updated' in x]
    t.eq(steps, ['app-python-2', 'app-python-1'], 'rolling update: highest ordinal first')
    s.check_clean('rolling update')


def test_scale_cycle(t, s):
    res = s.run(['--replicas', '3', '--requests', '400', '--scale-cycle', '--pod-management', 'Parallel'])
    check_consistent(t, res, 'scale cycle')
    reps = res.replicas()
    t.ok(reps and reps[0]['scale_cycle'] is None and all(
        r['scale_cycle'] and r['scale_cycle']['left_with'] > 0 and
        r['scale_cycle']['came_back_with'] == r['scale_cycle']['left_with'] and
        r['scale_cycle']['first_answer'] == r['scale_cycle']['left_with'] + 1 for r in reps[1:]),
        'scale cycle: ordinals 1 and 2 came back to their own data', [r.get('scale_cycle') for r in reps])
    t.eq(len(res.timeline('scale')), 2, 'scale cycle: scaled down and back up')
    s.check_clean('scale cycle')


def test_app(t, s, app_dir_existed):
    app = PY + ' %s --expect-mount /app/data' % APP
    res = s.run(['--app', app, '--mount-path', '/app/data', '--replicas', '2', '--rolling-update',
                 '--requests', '200', '--kill-replicas', '2', '--kill-daemon', '1', '--seed', '3'])
    check_consistent(t, res, '--app python at /app/data')
    t.ok(os.path.exists('/app') == app_dir_existed, '--app: /app/data not left on the host')
    shadow = os.path.join(s.root, 'existing')
    os.mkdir(shadow)
    open(os.path.join(shadow, 'keep'), 'w', encoding='ascii').close()
    target = os.path.join(shadow, 'nested', 'data')
    res = s.run(['--app', PY + ' %s --expect-mount %s' % (APP, target), '--mount-path', target,
                 '--replicas', '2', '--requests', '100'])
    check_consistent(t, res, '--mount-path below an existing directory')
    t.eq(os.listdir(shadow), ['keep'], '--mount-path: the host directory is untouched')
    direct = os.path.join(s.root, 'direct')
    os.mkdir(direct)
    res = s.run(['--app', PY + ' %s --expect-mount %s' % (APP, direct), '--mount-path', direct,
                 '--replicas', '2', '--requests', '100'])
    check_consistent(t, res, '--mount-path an existing directory')
    t.eq(os.listdir(direct), [], '--mount-path: nothing written to the host directory')
    res = s.run(['--app', PY + ' %s --expect-claim-dir' % APP, '--no-namespaces', '--replicas', '2',
                 '--requests', '100'])
    check_consistent(t, res, '--no-namespaces: the app gets the claim directory')
    s.check_clean('--app')


def test_broken(t, s):
    res = s.run(['--broken-app', 'ack-before-fsync', '--replicas', '2', '--requests', '300',
                 '--kill-replicas', '3', '--seed', '5'])
    check_fails(t, res, 'ack-before-fsync', r'lost \d+ acknowledged visits')
    res = s.run(['--broken-app', 'cross-write', '--replicas', '3', '--requests', '300', '--seed', '5'])
    check_fails(t, res, 'cross-write', r'written by another replica \(app-python-0\)', ['app-python-1'])
    res = s.run(['--app', PY + ' %s --ack-first' % APP, '--replicas', '2', '--requests', '300',
                 '--kill-replicas', '4', '--seed', '5'])
    check_fails(t, res, '--app answering before fsync', r'lost \d+ acknowledged visits')
    res = s.run(['--app', PY + ' -c "import sys; sys.exit(3)"', '--replicas', '1', '--requests', '10',
                 '--ready-timeout', '5'])
    t.eq(res.rc, 2, 'an app that never becomes ready: exit 2')
    t.ok(re.search(r'^ERROR: the replicas did not start', res.out, re.M), 'never ready: ERROR line', res.diag())
    res = s.run(['--app', 'env POD_IP=127.0.0.1 ' + PY + ' ' + APP, '--replicas', '1', '--requests', '10'])
    t.eq(res.rc, 2, 'an app listening on 127.0.0.1 only: exit 2')
    t.ok(re.search(r'its app answers on 127\.0\.0\.1:\d+, but must listen on its own address POD_IP '
                   r'\(127\.0\.100\.10\) or on all addresses', res.err) and
         re.search(r' in 0\.0 s ', res.out), 'an app listening on 127.0.0.1 only: says why', res.diag())
    s.check_clean('broken apps')


def read_logs(logs):
    """{pod: log text} of a --logs directory."""
    out = {}
    for name in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
        if name.startswith('app-python-'):
            with open(os.path.join(logs, name), encoding='utf-8', errors='replace') as f:
                out[name[:-len('.log')]] = f.read()
    return out


def test_supervise(t, s):
    """Issue 16: claimfsd --supervise, its worker SIGKILLed under load, the
    replicas never restarted, holding their file open and their working
    directory in the claim; no replica sees any error."""
    logs = os.path.join(s.root, 'supervise-logs')
    res = s.run(['--supervise', '--replicas', '3', '--requests', '300', '--kill-daemon', '3',
                 '--seed', '11', '--logs', logs])
    check_consistent(t, res, '--supervise')
    t.ok(re.search(r'^errors seen by replicas: 0 \(0 failed system calls, 0 visits failed\)$', res.out, re.M),
         '--supervise: "errors seen by replicas: 0"', res.out)
    rep = res.report or {}
    t.eq(rep.get('errors_seen_by_replicas'), {'syscalls': 0, 'visits': 0}, '--supervise: no errors in JSON')
    t.eq(rep.get('kills', {}).get('daemon'), 3, '--supervise: 3 worker kills')
    kills = res.timeline('kill-daemon')
    t.ok(len(kills) == 3 and all("claimfsd's worker" in k and 'replicas not restarted' in k for k in kills),
         '--supervise: each kill hit the worker, not the supervisor', kills)
    t.eq([r['restarts'] for r in res.replicas()], [0, 0, 0], '--supervise: no replica was restarted')
    t.eq(res.timeline('restart-daemon'), [], '--supervise: the daemon was never restarted by the harness')
    apps = read_logs(logs)
    t.ok(len(apps) == 3 and all(text.count('visits app (none, file kept open)') == 1 for text in apps.values()),
         '--supervise: each app started once and kept its file open', apps)
    # The error count is real: an app that fails some visits fails the run
    # (no kills here, so every error is one the app made on purpose).
    app = PY + ' %s --fail-every 25' % APP
    res = s.run(['--supervise', '--app', app, '--replicas', '2', '--requests', '100', '--seed', '11'])
    check_fails(t, res, '--supervise with an app seeing errors', r'saw 4 errors across the daemon kills \(2 failed system calls, 2 visits failed\)',
                ['app-python-0', 'app-python-1'])
    m = re.search(r'^errors seen by replicas: (\d+) \((\d+) failed system calls, (\d+) visits failed\)$',
                  res.out, re.M)
    t.ok(m and int(m.group(2)) == 4 and int(m.group(3)) == 4,
         '--supervise: 4 logged failures and 4 failed visits counted', res.out)
    worker_crash(t, s)
    s.check_clean('--supervise')


def supervisor_child(tmpdir):
    """The pid of the worker of the claimfsd --supervise started below TMPDIR."""
    for entry in processes_mentioning(tmpdir):
        pid, cmdline = entry.split(' ', 1)
        if 'claimfsd' not in cmdline or '--supervise' not in cmdline:
            continue
        try:
            with open('/proc/%s/task/%s/children' % (pid, pid), encoding='ascii') as f:
                children = f.read().split()
        except OSError:
            continue
        if children:
            return int(children[0])
    return None


def worker_crash(t, s):
    """A worker that dies without the harness killing it fails the run, even
    though the supervisor replaced it and no replica noticed."""
    cmd = [HARNESS, '--supervise', '--replicas', '1', '--requests', '300', '--concurrency', '2']
    p = subprocess.Popen(cmd, env=s.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    worker = None
    try:
        for line in p.stderr:
            if 'replicas ready' in line:
                worker = supervisor_child(s.tmpdir)
                break
        if worker:
            os.kill(worker, signal.SIGKILL)
        out, err = p.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    t.ok(worker, '--supervise: found the worker under the supervisor')
    t.eq(p.returncode, 1, '--supervise: a worker that died on its own fails the run')
    t.ok("claimfsd's worker (pid %s) died on its own" % worker in err and
         re.search(r'^FAIL: claimfsd exited on its own 1 times', out, re.M),
         '--supervise: ... and the report says so', err[-1500:] + out)


def check_names(t, res, logs):
    """Stable pod names: from every replica, <pod>.<service> resolves to that
    replica's own address, where the harness reached it; hostname is the pod."""
    ips = {r['pod']: r['ip'] for r in res.replicas()}
    t.ok(len(set(ips.values())) == 3 and all(ip.startswith('127.') for ip in ips.values()),
         'names: each replica has its own loopback address', ips)
    t.ok(all(r['acked'] > 0 for r in res.replicas()), 'names: each was reached at its address')
    apps = read_logs(logs)
    for pod, text in sorted(apps.items()):
        seen = dict(re.findall(r'^%s: (\S+)\.app-python is (\S+)$' % pod, text, re.M))
        t.eq(seen, ips, 'names: from %s every <pod>.app-python resolves to that pod' % pod)
        t.ok('%s: hostname is %s\n' % (pod, pod) in text, 'names: %s has its own host name' % pod, text)
    t.eq(len(apps), 3, 'names: every replica logged its lookups')


def test_on_delete(t, s):
    """updateStrategy OnDelete: the template changes at 1/3 of the load and no
    pod is restarted for it; a pod killed afterwards comes back at the new
    revision, the others keep the old one; the daemon's StatefulSet says so."""
    work = tempfile.mkdtemp(prefix='claimfs-harness-ondelete-')
    try:
        with Daemon(work) as d:
            d.start()
            res = s.run(['--api', d.url, '--mount', d.mount, '--replicas', '3', '--requests', '600',
                         '--rolling-update', '--update-strategy', 'OnDelete', '--kill-replicas', '4',
                         '--seed', '2'])
            check_consistent(t, res, 'OnDelete')
            events = [(e['kind'], e['text']) for e in (res.report or {}).get('timeline', [])]
            at = [i for i, (k, x) in enumerate(events) if 'template revision 2 (OnDelete)' in x]
            t.eq(len(at), 1, 'OnDelete: the template changed once')
            t.ok(not any('updated to revision' in x for _, x in events), 'OnDelete: no pod was restarted for it')
            kills = [(i, re.match(r'SIGKILL (\S+) .* at revision (\d+)', x)) for i, (k, x) in enumerate(events)
                     if k == 'kill-replica']
            t.ok(kills and all(m and int(m.group(2)) == (2 if at and i > at[0] else 1) for i, m in kills),
                 'OnDelete: a pod killed after the change runs revision 2, before it 1', events)
            later = {m.group(1) for i, m in kills if at and i > at[0]}
            want = [2 if r['pod'] in later else 1 for r in res.replicas()]
            t.ok(0 < len(later) < 3, 'OnDelete: some but not all pods were deleted after the change', later)
            t.eq([r['revision'] for r in res.replicas()], want, 'OnDelete: only deleted pods took revision 2')
            status, _, body = d.request('GET', '/apis/apps/v1/namespaces/default/statefulsets/app-python')
            sts = json.loads(body) if status == 200 else {}
            t.ok(sts.get('spec', {}).get('updateStrategy') == {'type': 'OnDelete'} and
                 sts['spec']['template']['metadata']['annotations'] == {'claimfs-harness/revision': '2'} and
                 sts['status']['currentRevision'] != sts['status']['updateRevision'],
                 'OnDelete: the daemon\'s StatefulSet has the new template as its updateRevision only',
                 json.dumps(sts.get('status')))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    s.check_clean('OnDelete')


def test_external_daemon(t, s):
    work = tempfile.mkdtemp(prefix='claimfs-harness-api-')
    try:
        with Daemon(work) as d:
            d.start()
            args = ['--api', d.url, '--mount', d.mount, '--replicas', '2', '--requests', '150']
            res = s.run(args)
            check_consistent(t, res, '--api/--mount')
            status, _, body = d.request('GET', '/api/v1/namespaces/default/persistentvolumeclaims')
            names = sorted(i['metadata']['name'] for i in json.loads(body).get('items', [])) if status == 200 else []
            t.eq(names, ['data-app-python-0', 'data-app-python-1'], '--api: claims exist in the running daemon')
            again = s.run(args)
            check_consistent(t, again, '--api again: claims reused')
            t.ok(all(r['baseline'] > 0 for r in again.replicas()), '--api again: counts continue from disk',
                 again.replicas())
            t.ok(d.proc.poll() is None and d.mounted(), '--api: the running daemon was left alone')
            # Not root: no namespaces, each replica is told its claim directory.
            binary = os.path.join(s.root, 'claimfs-harness')
            shutil.copy(HARNESS, binary)
            os.chmod(binary, 0o755)
            app = PY + ' %s --expect-claim-dir' % APP
            res = s.run(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', binary,
                         '--app', app, *args, '--kill-replicas', '2'], reports=False, raw=True)
            t.eq(res.rc, 0, 'unprivileged --api run: exit 0') or t.diag(res.diag())
            rows = res.rows()
            t.ok(len(rows) == 2 and all(r[5].startswith('ok') for r in rows), 'unprivileged: every row ok', res.out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    s.check_clean('--api/--mount')


class StatefulSetProxy:
    """A stand-in for issue 3's StatefulSet API in front of a real daemon.

    POST .../statefulsets does what the StatefulSet controller does for
    storage (one PVC per ordinal from the volumeClaimTemplate, through the
    real daemon) and answers 201; PATCH .../statefulsets/NAME records the
    new replica count; everything else is passed to the daemon. Until the
    daemon has the API this is how the harness's StatefulSet path is tested.
    """

    def __init__(self, daemon):
        self.daemon = daemon
        self.calls = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _body(self):
                n = int(self.headers.get('Content-Length') or 0)
                return self.rfile.read(n) if n else None

            def _answer(self, status, payload):
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _handle(self):
                body = self._body()
                path = self.path
                if '/statefulsets' in path and self.command in ('POST', 'PATCH'):
                    doc = json.loads(body)
                    proxy.calls.append((self.command, path, doc, self.headers.get('Content-Type')))
                    if self.command == 'POST':
                        proxy.provision(doc, path.split('/')[5])
                        self._answer(201, json.dumps(doc).encode())
                    else:
                        self._answer(200, b'{}')
                    return
                status, headers, payload = proxy.daemon.request(
                    self.command, path, body, content_type=self.headers.get('Content-Type'))
                self._answer(status, payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def provision(self, sts, ns):
        """Create <template>-<sts>-<ordinal> for every ordinal and template."""
        for tmpl in sts['spec']['volumeClaimTemplates']:
            for i in range(sts['spec']['replicas']):
                claim = {'apiVersion': 'v1', 'kind': 'PersistentVolumeClaim',
                         'metadata': {'name': '%s-%s-%d' % (tmpl['metadata']['name'], sts['metadata']['name'], i),
                                      'labels': tmpl['metadata'].get('labels', {})},
                         'spec': tmpl['spec']}
                self.daemon.request('POST', '/api/v1/namespaces/%s/persistentvolumeclaims' % ns, claim)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_statefulset_path(t, s):
    work = tempfile.mkdtemp(prefix='claimfs-harness-sts-')
    proxy = None
    try:
        with Daemon(work) as d:
            d.start()
            proxy = StatefulSetProxy(d)
            res = s.run(['--api', proxy.url, '--mount', d.mount, '--replicas', '3', '--requests', '200',
                         '--scale-cycle', '--pod-management', 'Parallel', '--partition', '1'])
            check_consistent(t, res, 'StatefulSet API')
            t.eq((res.report or {}).get('claims_via'), 'statefulset', 'StatefulSet API: claims came from it')
            posts = [c for c in proxy.calls if c[0] == 'POST']
            sts = posts[0][2] if posts else {}
            spec = sts.get('spec', {})
            t.ok(len(posts) == 1 and posts[0][1] == '/apis/apps/v1/namespaces/default/statefulsets' and
                 sts.get('kind') == 'StatefulSet' and sts['metadata']['name'] == 'app-python' and
                 spec.get('replicas') == 3 and spec.get('podManagementPolicy') == 'Parallel' and
                 spec['updateStrategy']['rollingUpdate']['partition'] == 1 and
                 spec['volumeClaimTemplates'][0]['metadata']['name'] == 'data' and
                 spec['template']['spec']['containers'][0]['volumeMounts'][0]['mountPath'] == '/app/data',
                 'StatefulSet API: one POST of the StatefulSet manifest', proxy.calls)
            patches = [(c[1], c[2], c[3]) for c in proxy.calls if c[0] == 'PATCH']
            item = '/apis/apps/v1/namespaces/default/statefulsets/app-python'
            t.eq(patches, [(item, {'spec': {'replicas': 1}}, 'application/merge-patch+json'),
                           (item, {'spec': {'replicas': 3}}, 'application/merge-patch+json')],
                 'StatefulSet API: the scale cycle patches replicas 1 then 3')
    finally:
        if proxy:
            proxy.close()
        shutil.rmtree(work, ignore_errors=True)
    s.check_clean('StatefulSet API')


def interrupt(t, s, sig, expected_rc):
    """Start a long run, wait for progress, send SIG; the harness must clean up."""
    cmd = [HARNESS, '--replicas', '3', '--requests', '1000000', '--kill-replicas', '200', '--kill-daemon', '20']
    p = subprocess.Popen(cmd, env=s.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    deadline = time.monotonic() + 30
    try:
        for line in p.stderr:
            seen.append(line)
            if line.startswith('visits ') or time.monotonic() > deadline:
                break
        time.sleep(0.3)
        p.send_signal(sig)
        out, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    t.ok(any(x.startswith('visits ') for x in seen), '%s: live progress lines on stderr' % sig.name,
         ''.join(seen[-5:]))
    t.eq(p.returncode, expected_rc, '%s mid-run: exit status %d' % (sig.name, expected_rc))
    t.ok('interrupted by signal' in err, '%s: says it was interrupted' % sig.name, err[-500:] + out)
    s.check_clean('%s mid-run' % sig.name)


def test_tty_progress(t, s):
    master, slave = os.openpty()
    try:
        p = subprocess.Popen([HARNESS, '--replicas', '2', '--requests', '400', '--kill-replicas', '4'],
                             env=s.env(), stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        slave = -1
        out, _ = p.communicate(timeout=RUN_TIMEOUT)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        err = b''.join(chunks).decode('utf-8', 'replace')
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    t.eq(p.returncode, 0, 'tty: run passes')
    t.ok('\r\x1b[Kvisits ' in err, 'tty: progress is one line rewritten in place', repr(err[-300:]))
    t.ok(HEADER in out.decode(), 'tty: table on stdout')
    s.check_clean('tty')


def main():
    t = Tap()
    if not HARNESS or not os.access(HARNESS, os.X_OK):
        t.skip_all('CLAIMFS_HARNESS not set to the harness binary')
    s = Suite(t)
    app_dir_existed = os.path.exists('/app')
    try:
        test_usage(t, s)
        test_basic(t, s, app_dir_existed)
        test_chaos(t, s)
        test_replay(t, s)
        test_policies(t, s)
        test_balance(t, s)
        test_rolling_update(t, s)
        test_on_delete(t, s)
        test_supervise(t, s)
        test_scale_cycle(t, s)
        test_app(t, s, app_dir_existed)
        test_broken(t, s)
        test_external_daemon(t, s)
        test_statefulset_path(t, s)
        interrupt(t, s, signal.SIGINT, 130)
        interrupt(t, s, signal.SIGTERM, 143)
        test_tty_progress(t, s)
    finally:
        s.close()
    t.done()


if __name__ == '__main__':
    main()
