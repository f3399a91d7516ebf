"""daemon.py - test fixture that runs one real claimfsd (stdlib only).

Owns: one claimfsd process (by default a supervisor and the worker it runs;
serving_pid() is the one that serves), its store file (workdir/store.db),
its FUSE mount (workdir/mnt), its unix socket (workdir/api.sock), its volume
plugin socket (workdir/plugin.sock, never the host's default), its port file
and its log (workdir/daemon.log).

Invariants:
  - After stop() or leaving the `with` block, no claimfsd started by this
    object is running (a supervisor's worker included) and workdir/mnt is not
    a mount point, whatever happened in between (exceptions included). After
    kill() none is running either; the dead mount stays, as after a crash.
  - start() returns only once the port file exists and GET /readyz answers
    200; otherwise it raises RuntimeError carrying the tail of the log.

Usage:
    sys.path.insert(0, os.environ['CLAIMFS_TEST_LIB'])
    from daemon import Daemon
    with Daemon(workdir) as d:
        d.start()
        d.create_claim('default', 'data', storage='1Mi')
        open(os.path.join(d.claim_path('default', 'data'), 'f'), 'w').write('x')
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time

READY_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client connection over an AF_UNIX stream socket."""

    def __init__(self, path, timeout=30):
        super().__init__('localhost', timeout=timeout)
        self.unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


def wait_for(cond, timeout=10.0, interval=0.1):
    """Poll COND every INTERVAL seconds until true or TIMEOUT; returns its last value."""
    deadline = time.monotonic() + timeout
    value = cond()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = cond()
    return value


def is_mounted(path):
    """True if PATH is a mount point according to /proc/self/mounts."""
    real = os.path.realpath(path)
    try:
        with open('/proc/self/mounts', encoding='utf-8') as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 2:
                    mnt = fields[1].replace('\\040', ' ')
                    if mnt == real:
                        return True
    except OSError:
        pass
    return False


def force_unmount(path):
    """Detach PATH if it is still mounted (lazy, so a hung FUSE can't block us)."""
    for _ in range(5):
        if not is_mounted(path):
            return True
        for cmd in (['fusermount3', '-u', '-z', path], ['umount', '-l', path]):
            try:
                subprocess.run(cmd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=10, check=False)
            except (OSError, subprocess.TimeoutExpired):
                continue
            if not is_mounted(path):
                return True
        time.sleep(0.2)
    return not is_mounted(path)


class Daemon:
    """One claimfsd instance rooted in WORKDIR."""

    def __init__(self, workdir, store=None, mount=None):
        self.workdir = os.path.abspath(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        # mkdtemp() makes 0700 directories; other users (tests run steps as
        # nobody) must be able to reach the mount below.
        os.chmod(self.workdir, 0o755)
        self.store = store or os.path.join(self.workdir, 'store.db')
        self.mount = mount or os.path.join(self.workdir, 'mnt')
        self.unix_socket = os.path.join(self.workdir, 'api.sock')
        self.plugin_socket = os.path.join(self.workdir, 'plugin.sock')
        self.port_file = os.path.join(self.workdir, 'port')
        self.log_path = os.path.join(self.workdir, 'daemon.log')
        self.binary = os.environ.get('CLAIMFSD', 'claimfsd')
        self.proc = None
        self.port = None
        self.url = None
        self._log = None

    # --- lifecycle -------------------------------------------------------

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.stop()
        return False

    def command(self, extra_args=()):
        """The argv start() runs."""
        return [self.binary, '--store', self.store, '--mount', self.mount,
                '--listen', '127.0.0.1:0', '--port-file', self.port_file,
                '--unix-socket', self.unix_socket, '--log-level', 'info',
                '--volume-plugin-socket', self.plugin_socket,
                *extra_args]

    def log_tail(self, lines=40):
        """Last LINES lines of the daemon log (for diagnostics)."""
        try:
            with open(self.log_path, 'rb') as f:
                data = f.read()
        except OSError:
            return '(no log)'
        text = data.decode('utf-8', 'replace').splitlines()
        return '\n'.join(text[-lines:])

    def log_count(self, text):
        """How many times the daemon log holds TEXT (bytes); 0 without a log."""
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().count(text)
        except OSError:
            return 0

    def sanitizer_reports(self):
        """Lines of the daemon log that report ASan/UBSan/LSan findings."""
        try:
            with open(self.log_path, 'rb') as f:
                text = f.read().decode('utf-8', 'replace')
        except OSError:
            return []
        markers = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:',
                   'ERROR: ThreadSanitizer', 'WARNING: ThreadSanitizer')
        lines = text.splitlines()
        first = next((i for i, line in enumerate(lines) if any(m in line for m in markers)), None)
        # The whole report from its first line on (stack traces included), bounded.
        return [] if first is None else lines[first:first + 120]

    def start(self, extra_args=(), timeout=READY_TIMEOUT):
        """Run the daemon and wait until it is ready; raise RuntimeError if not."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError('daemon already running')
        try:
            # Not makedirs(exist_ok=True): a stale FUSE mount left by a killed
            # daemon fails stat() with ENOTCONN, which makedirs turns into an error.
            os.mkdir(self.mount)
        except FileExistsError:
            pass
        for stale in (self.port_file,):
            try:
                os.unlink(stale)
            except FileNotFoundError:
                pass
        self.port = None
        self.url = None
        self._log = open(self.log_path, 'ab')
        self._log.write(('=== start: %s\n' % ' '.join(self.command(extra_args))).encode())
        self._log.flush()
        self.proc = subprocess.Popen(self.command(extra_args), stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log)
        deadline = time.monotonic() + timeout
        last_err = 'port file never appeared'
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                last_err = 'daemon exited with status %d' % self.proc.returncode
                break
            if self.port is None:
                try:
                    with open(self.port_file, encoding='ascii') as f:
                        text = f.read().strip()
                    if text:
                        self.port = int(text)
                        self.url = 'http://127.0.0.1:%d' % self.port
                except (OSError, ValueError):
                    pass
            if self.port is not None:
                try:
                    status, _, _ = self.request('GET', '/readyz', timeout=2)
                    if status == 200:
                        return self
                    last_err = '/readyz answered %d' % status
                except OSError as e:
                    last_err = '/readyz: %s' % e
            time.sleep(0.05)
        tail = self.log_tail()
        self.stop()
        raise RuntimeError('claimfsd did not become ready (%s); log tail:\n%s' % (last_err, tail))

    def _reap(self, timeout):
        """Wait for the process; return its exit code or None on timeout."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def _close_log(self):
        if self._log is not None:
            self._log.close()
            self._log = None

    def children(self):
        """The pids of the daemon's child processes (a supervisor's: its
        worker, while one runs); [] when nothing runs."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        try:
            with open('/proc/%d/task/%d/children' % (self.proc.pid, self.proc.pid)) as f:
                return [int(pid) for pid in f.read().split()]
        except OSError:
            return []

    def serving_pid(self):
        """The process that serves the mount and the API: the worker of a
        supervisor (claimfsd's default: the supervisor's one child), or the
        daemon itself under --no-supervise. None when nothing runs."""
        if self.proc is None or self.proc.poll() is not None:
            return None
        children = self.children()
        return children[0] if len(children) == 1 else self.proc.pid

    def _reap_killed(self, worker):
        """After the daemon's SIGKILL: wait until WORKER (not our child: its
        supervisor is gone) has died too. The supervisor's death kills it
        (PR_SET_PDEATHSIG) a moment later; until then it still holds the
        store and the mount, so a restart or a look at the store must wait."""
        if worker is None or worker == self.proc.pid:
            return True
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline:
            try:
                with open('/proc/%d/stat' % worker, 'rb') as f:
                    state = f.read().split(b') ', 1)[-1][:1]
                # A zombie leader whose other threads are gone too holds
                # nothing: the last thread closed the descriptors (and
                # released /dev/fuse) before it exited. A leader can be a
                # zombie while other threads still run their exit.
                if state in (b'Z', b'X') and os.listdir('/proc/%d/task' % worker) == [str(worker)]:
                    return True
            except OSError:
                return True  # gone (reaped)
            time.sleep(0.01)
        return False

    def kill(self):
        """SIGKILL the daemon (the supervisor, by default) and reap it, and
        wait for its worker's death; the (stale) mount stays behind on
        purpose. Returns the daemon's exit code (-9)."""
        if self.proc is None:
            return None
        worker = self.serving_pid()
        if self.proc.poll() is None:
            self.proc.kill()
        rc = self.proc.wait()
        self._close_log()
        if not self._reap_killed(worker):
            raise RuntimeError('worker %d outlived its SIGKILLed supervisor by %.0f s' % (worker, STOP_TIMEOUT))
        return rc

    def send_signal(self, signum):
        """Send SIGNUM to the daemon."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signum)

    def wait(self, timeout=STOP_TIMEOUT):
        """Wait for the daemon to exit on its own; return exit code or None."""
        if self.proc is None:
            return None
        return self._reap(timeout)

    def stop(self, signum=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Stop with SIGNUM (SIGKILL after TIMEOUT), reap, make sure nothing stays mounted.

        Returns the daemon's exit code (negative signal number if killed by a
        signal), or None if no daemon was started."""
        rc = None
        if self.proc is not None:
            if self.proc.poll() is None:
                worker = self.serving_pid()
                self.proc.send_signal(signum)
                rc = self._reap(timeout)
                if rc is None:
                    self.proc.kill()
                    rc = self.proc.wait()
                self._reap_killed(worker)
            else:
                rc = self.proc.returncode
        self._close_log()
        force_unmount(self.mount)
        return rc

    def mounted(self):
        """True if the mount point is currently mounted."""
        return is_mounted(self.mount)

    # --- HTTP ----------------------------------------------------------------

    @staticmethod
    def _do(conn, method, path, body, content_type, headers):
        hdrs = dict(headers or {})
        data = None
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
            elif isinstance(body, str):
                data = body.encode()
            else:
                data = bytes(body)
            if content_type is not None and 'Content-Type' not in hdrs:
                hdrs['Content-Type'] = content_type
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload
        finally:
            conn.close()

    def request(self, method, path, body=None, content_type='application/json',
                headers=None, timeout=30):
        """HTTP over TCP; returns (status, headers_dict with lowercase keys, body_bytes)."""
        if self.port is None:
            raise RuntimeError('daemon not started')
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=timeout)
        return self._do(conn, method, path, body, content_type, headers)

    def request_unix(self, method, path, body=None, content_type='application/json',
                     headers=None, timeout=30):
        """HTTP over the unix socket; same result as request()."""
        conn = UnixHTTPConnection(self.unix_socket, timeout=timeout)
        return self._do(conn, method, path, body, content_type, headers)

    def metric(self, series):
        """The value of one /metrics series, named exactly as printed
        (labels included), as an int; None if the daemon does not print it."""
        body = self.request('GET', '/metrics')[2].decode()
        m = re.search(r'^%s (\d+)' % re.escape(series), body, re.M)
        return int(m.group(1)) if m else None

    # --- claims ----------------------------------------------------------------

    @staticmethod
    def claim_body(name, storage='1Mi', access_modes=('ReadWriteOnce',)):
        """A PersistentVolumeClaim manifest as a dict."""
        return {
            'apiVersion': 'v1',
            'kind': 'PersistentVolumeClaim',
            'metadata': {'name': name},
            'spec': {
                'accessModes': list(access_modes),
                'resources': {'requests': {'storage': storage}},
            },
        }

    def create_claim(self, ns, name, storage='1Mi', access_modes=('ReadWriteOnce',)):
        """POST a claim; assert 201; return the decoded answer."""
        status, _, body = self.request(
            'POST', '/api/v1/namespaces/%s/persistentvolumeclaims' % ns,
            self.claim_body(name, storage, access_modes))
        if status != 201:
            raise AssertionError('create claim %s/%s: HTTP %d %s' %
                                 (ns, name, status, body.decode('utf-8', 'replace')))
        return json.loads(body)

    def delete_claim(self, ns, name):
        """DELETE a claim; assert 200 (or 202); return the decoded answer."""
        status, _, body = self.request(
            'DELETE', '/api/v1/namespaces/%s/persistentvolumeclaims/%s' % (ns, name))
        if status not in (200, 202):
            raise AssertionError('delete claim %s/%s: HTTP %d %s' %
                                 (ns, name, status, body.decode('utf-8', 'replace')))
        return json.loads(body) if body else {}

    def claim_path(self, ns, name):
        """Directory of claim NS/NAME inside the mount."""
        return os.path.join(self.mount, ns, name)


def serve_checks(t, d, checks, extra_args=(), stop_label='daemon exits 0 on SIGTERM'):
    """Start D (bail out if it does not come up), run CHECKS(), then record
    that D exits 0 on SIGTERM (STOP_LABEL) with no sanitizer report. An
    exception out of CHECKS is one failed check carrying the traceback and
    the log tail."""
    import traceback
    try:
        d.start(extra_args=extra_args)
    except RuntimeError as e:
        t.bail(str(e).replace('\n', ' | '))
    try:
        checks()
    except Exception:  # pylint: disable=broad-except
        t.ok(False, 'no unexpected error', traceback.format_exc() + '\n' + d.log_tail())
    t.eq(d.stop(), 0, stop_label)
    reports = d.sanitizer_reports()
    t.ok(not reports, 'no sanitizer reports in the daemon log', '\n'.join(reports[:20]))


def run_daemon_checks(t, prefix, checks, daemon_class=Daemon, extra_args=()):
    """serve_checks of CHECKS(d) against one fresh daemon (a DAEMON_CLASS,
    started with EXTRA_ARGS) in a new work directory (PREFIX names it); the
    work directory is removed whatever happened."""
    import shutil
    import tempfile
    workdir = tempfile.mkdtemp(prefix=prefix)
    try:
        with daemon_class(workdir) as d:
            serve_checks(t, d, lambda: checks(d), extra_args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


class SamePortDaemon(Daemon):
    """A daemon that comes back on the port it first got, as a restarted
    apiserver does, so clients keep their configuration across restart()."""

    def __init__(self, workdir, store=None, mount=None):
        super().__init__(workdir, store, mount)
        self.fixed_port = None

    def command(self, extra_args=()):
        argv = super().command(extra_args)
        if self.fixed_port is not None:
            argv[argv.index('127.0.0.1:0')] = '127.0.0.1:%d' % self.fixed_port
        return argv

    def start(self, extra_args=(), timeout=READY_TIMEOUT):
        super().start(extra_args, timeout)
        self.fixed_port = self.port
        return self


# The kubeconfig README gives for kubectl, client-node and the Python client
# over plain HTTP: client-node refuses http:// without insecure-skip-tls-verify.
KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: claimfs
  cluster:
    server: {url}
    insecure-skip-tls-verify: true
contexts:
- name: claimfs
  context:
    cluster: claimfs
    user: claimfs
    namespace: default
current-context: claimfs
users:
- name: claimfs
  user: {{}}
"""


def write_kubeconfig(directory, url):
    """Write DIRECTORY/kubeconfig for the daemon at URL; returns its path."""
    path = os.path.join(directory, 'kubeconfig')
    with open(path, 'w', encoding='ascii') as f:
        f.write(KUBECONFIG.format(url=url))
    return path
