#!/usr/bin/env python3
"""visits_app.py - a small visits app for `claimfs-harness --app 'python3 visits_app.py'`.

What a user's StatefulSet app would do: serve HTTP on $PORT, count each
`GET /` in $DATA_DIR/visits.txt durably (write a temporary file, fsync,
rename, fsync the directory) and answer the new count; `GET /healthz` is the
readiness probe. The file holds "COUNT POD_NAME" so the harness can tell who
wrote it.

Options (for the harness's own tests):
  --expect-mount PATH  refuse to start unless DATA_DIR is PATH and a mount
                       point there (proves the pod's mount namespace works)
  --expect-claim-dir   refuse to start unless DATA_DIR is the claim's own
                       directory (CLAIM_PATH), as without namespaces
  --ack-first          deliberately broken: answer at once and write the
                       count only every 0.3 s (and never on SIGTERM)
  --fail-every N       deliberately broken: every Nth visit fails as if its
                       write had failed (logged with the harness's marker
                       "syscall failed:", answered 500, nothing written)
  --record FILE        append "ORDINAL START_TIME" to FILE at start-up
  --start-delay SEC    wait SEC seconds before listening (slow start-up)
"""

import http.server
import os
import signal
import sys
import threading
import time

DATA_DIR = os.environ['DATA_DIR']  # listens on POD_IP (default 127.0.0.1):PORT
POD = os.environ.get('POD_NAME', 'visits-app')
NAME = os.environ.get('VISITS_FILE', 'visits.txt')
PATH = os.path.join(DATA_DIR, NAME)
TMP = os.path.join(DATA_DIR, '.%s.%s.py.tmp' % (NAME, POD))


def load():
    """The count on disk (0 when there is no file yet)."""
    try:
        with open(PATH, encoding='ascii') as f:
            return int(f.read().split()[0])
    except FileNotFoundError:
        return 0


def store(count):
    """Durably replace the visits file with COUNT."""
    fd = os.open(TMP, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, b'%d %s\n' % (count, POD.encode()))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(TMP, PATH)
    dfd = os.open(DATA_DIR, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


class State:
    """ack-first mode: the count answered but not yet written."""
    lock = threading.Lock()
    count = None
    dirty = False


def flusher():
    """ack-first mode: write the acknowledged count some time later."""
    while True:
        threading.Event().wait(0.3)
        with State.lock:
            if State.dirty:
                store(State.count)
                State.dirty = False


class Handler(http.server.BaseHTTPRequestHandler):
    """GET / counts a visit; GET /healthz is the probe."""

    ack_first = False
    fail_every = 0
    visits = 0

    def reply(self, code, text):
        body = text.encode()
        self.send_response(code)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # pylint: disable=invalid-name
        if self.path == '/healthz':
            self.reply(200, 'ok\n')
        elif self.path == '/':
            if self.ack_first:
                with State.lock:
                    State.count += 1
                    State.dirty = True
                    count = State.count
            else:
                Handler.visits += 1
                try:
                    if self.fail_every and Handler.visits % self.fail_every == 0:
                        raise OSError(5, 'injected by --fail-every')
                    count = load() + 1
                    store(count)
                except OSError as e:
                    print('%s: syscall failed: write %s: %s' % (POD, PATH, e), file=sys.stderr,
                          flush=True)
                    self.reply(500, 'visit not recorded: %s\n' % e)
                    return
            self.reply(200, '%d\n' % count)
        else:
            self.reply(404, 'not found\n')

    def log_message(self, *args):  # quiet: the pod log would fill up
        pass


def main():
    args = sys.argv[1:]
    if '--expect-mount' in args:
        want = args[args.index('--expect-mount') + 1]
        if DATA_DIR != want or not os.path.ismount(DATA_DIR):
            sys.exit('DATA_DIR %s is not a mount point at %s' % (DATA_DIR, want))
    if '--expect-claim-dir' in args and DATA_DIR != os.environ.get('CLAIM_PATH'):
        sys.exit('DATA_DIR %s is not the claim directory %s' % (DATA_DIR, os.environ.get('CLAIM_PATH')))
    if '--record' in args:
        with open(args[args.index('--record') + 1], 'a', encoding='ascii') as f:
            f.write('%s %.6f\n' % (os.environ.get('ORDINAL'), time.time()))
    if '--start-delay' in args:
        time.sleep(float(args[args.index('--start-delay') + 1]))
    Handler.ack_first = '--ack-first' in args
    if '--fail-every' in args:
        Handler.fail_every = int(args[args.index('--fail-every') + 1])
    if Handler.ack_first:
        State.count = load()
        threading.Thread(target=flusher, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    http.server.HTTPServer.allow_reuse_address = True
    server = http.server.HTTPServer((os.environ.get('POD_IP', '127.0.0.1'), int(os.environ['PORT'])), Handler)
    print('%s: python visits app on port %s, data %s' % (POD, os.environ['PORT'], PATH), flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()
