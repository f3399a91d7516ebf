"""Visit counter: GET / adds one to the count in $VISITS_FILE and shows it.

GET /healthz answers 200 while the data directory is usable (the liveness
and readiness probes). The count is updated under an flock and fsync'd, so
concurrent requests and a crash of the pod (or of claimfsd) never lose it.
"""
import fcntl
import http.server
import os
import socket

VISITS = os.environ.get('VISITS_FILE', '/app/data/visits.txt')
PORT = int(os.environ.get('PORT', '8000'))
HOST = os.environ.get('HOST', '')  # all addresses in the pod


def count_visit():
    """Increment and return the persistent visit count."""
    fd = os.open(VISITS, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        text = os.read(fd, 64).decode().strip()
        visits = int(text) + 1 if text.isdigit() else 1
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, b'%d\n' % visits)
        os.fsync(fd)
        return visits
    finally:
        os.close(fd)


class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header('Content-Type', 'text/plain; charset=utf-8')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (http.server naming)
        if self.path == '/healthz':
            ok = os.path.isdir(os.path.dirname(VISITS)) and os.access(os.path.dirname(VISITS), os.W_OK)
            self.reply(200 if ok else 503, 'ok\n' if ok else 'data directory not writable\n')
        elif self.path == '/':
            try:
                self.reply(200, 'visits: %d (%s)\n' % (count_visit(), socket.gethostname()))
            except OSError as e:
                self.reply(500, 'cannot count: %s\n' % e)
        else:
            self.reply(404, 'not found\n')

    def log_message(self, fmt, *args):
        pass


if __name__ == '__main__':
    http.server.ThreadingHTTPServer((HOST, PORT), Handler).serve_forever()
