"""tap.py - a tiny TAP (Test Anything Protocol) producer for integration tests.

Owns: the test counter and the failure count of one test program.
Invariants: every result gets exactly one "ok N" / "not ok N" line with a
unique, increasing N; the plan "1..N" is printed once, at the end, by done();
done() exits 1 if any check failed, 0 otherwise.  require_root_and_fuse()
skips the whole program when it cannot run (not root, no /dev/fuse, no
daemon): it prints the TAP plan "1..0 # SKIP reason" and exits 0.  That is
how a skip is spelled under meson's `protocol : 'tap'`; there any non-zero
exit status, 77 included, is reported as ERROR.

    t = Tap()
    t.ok(cond, 'desc'); t.eq(a, b, 'desc'); t.errno(lambda: os.rmdir(p), errno.ENOTEMPTY, 'desc')
    t.done()
"""

import errno as errno_mod
import os
import sys
import traceback

# Under protocol 'tap' meson reads the skip from the "1..0 # SKIP" plan; a
# non-zero status (even 77) would turn it into an ERROR.
SKIP_EXIT = 0


def require_root_and_fuse():
    """Skip the program (plan 1..0 # SKIP, exit 0) unless root, /dev/fuse and $CLAIMFSD exist."""
    if os.geteuid() != 0:
        print('1..0 # SKIP integration tests need root')
        sys.exit(SKIP_EXIT)
    if not os.path.exists('/dev/fuse'):
        print('1..0 # SKIP no /dev/fuse')
        sys.exit(SKIP_EXIT)
    if not os.environ.get('CLAIMFSD') or not os.access(os.environ['CLAIMFSD'], os.X_OK):
        print('1..0 # SKIP CLAIMFSD not set to an executable daemon')
        sys.exit(SKIP_EXIT)


class Tap:
    """Results of one test program."""

    def __init__(self, check_env=True):
        if check_env:
            require_root_and_fuse()
        self.count = 0
        self.failed = 0
        sys.stdout.reconfigure(line_buffering=True)

    @staticmethod
    def _clean(desc):
        return ' '.join(str(desc).replace('#', '\\#').split())

    def diag(self, text):
        """Print TEXT as TAP diagnostics (one '# ' line per line)."""
        for line in str(text).splitlines() or ['']:
            print('# ' + line)

    def ok(self, cond, desc, diag=None):
        """Record one result; print DIAG on failure.  Returns bool(cond)."""
        self.count += 1
        if cond:
            print('ok %d - %s' % (self.count, self._clean(desc)))
        else:
            self.failed += 1
            print('not ok %d - %s' % (self.count, self._clean(desc)))
            if diag is not None:
                self.diag(diag)
        return bool(cond)

    def eq(self, got, expected, desc):
        """Pass if GOT == EXPECTED."""
        return self.ok(got == expected, desc,
                       'expected %r\ngot      %r' % (expected, got))

    def errno(self, fn, expected, desc):
        """Pass if calling FN raises OSError with errno EXPECTED (or one of a tuple)."""
        wanted = expected if isinstance(expected, (tuple, list, set)) else (expected,)
        names = '/'.join(_errname(e) for e in wanted)
        try:
            fn()
        except OSError as e:
            return self.ok(e.errno in wanted, desc,
                           'expected %s got errno %s (%s)' % (names, _errname(e.errno), e))
        except Exception as e:  # pylint: disable=broad-except
            return self.ok(False, desc, 'expected %s got exception %r' % (names, e))
        return self.ok(False, desc, 'expected %s got success' % names)

    def run(self, fn, desc):
        """Pass if FN() returns without raising (and returns a true value or None)."""
        try:
            r = fn()
        except Exception:  # pylint: disable=broad-except
            return self.ok(False, desc, traceback.format_exc())
        return self.ok(r is None or bool(r), desc, 'returned %r' % (r,))

    def skip(self, desc, reason):
        """Record a skipped check."""
        self.count += 1
        print('ok %d - %s # SKIP %s' % (self.count, self._clean(desc), self._clean(reason)))

    def todo_fail(self, desc, reason):
        """Record a known failure (TODO), counted neither as pass nor failure."""
        self.count += 1
        print('not ok %d - %s # TODO %s' % (self.count, self._clean(desc), self._clean(reason)))

    def skip_all(self, reason):
        """Skip the whole program; only valid before any result was printed."""
        assert self.count == 0, 'skip_all after results'
        print('1..0 # SKIP %s' % self._clean(reason))
        sys.stdout.flush()
        sys.exit(SKIP_EXIT)

    def bail(self, reason):
        """Abort the whole program (Bail out!), exit 1."""
        print('Bail out! %s' % self._clean(reason))
        sys.stdout.flush()
        sys.exit(1)

    def done(self):
        """Print the plan and exit (1 if anything failed)."""
        print('1..%d' % self.count)
        if self.failed:
            self.diag('%d of %d checks failed' % (self.failed, self.count))
        sys.stdout.flush()
        sys.exit(1 if self.failed else 0)


def _errname(num):
    """'ENOENT' for 2, etc."""
    return errno_mod.errorcode.get(num, str(num))
