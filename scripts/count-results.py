#!/usr/bin/env python3
"""count-results.py — add up the results of every `meson test` run of `make check`.

Usage: count-results.py LABEL=LOGFILE.json [LABEL=LOGFILE.json ...]

Each LOGFILE is a meson test log (one JSON object per line, written by
`meson test --logbase NAME` as meson-logs/NAME.json). Counting is per
individual check, not per meson test:

  * a TAP test counts each top-level `ok` / `not ok` line (`# SKIP` is a skip,
    `not ok ... # TODO` an expected failure, counted as skipped);
  * a Check test (exit-code protocol) counts the checks of every
    "NN%: Checks: C, Failures: F, Errors: E" summary line it printed;
  * anything else counts as one result, from meson's verdict.

When meson judged a test failed (crash, timeout, plan mismatch, exit status
from a valgrind wrapper, sanitizer report) but its output shows no failed
check, one extra failure is counted so no failure is ever lost. A test that
exits 77 is a skip (plus whatever checks it ran before), TAP ones included. A log file
that is missing or unreadable (its build failed, so no test ran) is one
failure as well.

Prints one line per phase, the failures, and last exactly one line
"N passed, N failed". Exits 1 if anything failed, else 0.
"""

import json
import re
import sys

TAP_LINE = re.compile(r'^(not ok|ok)\b\s*(\d+)?\s*-?\s*([^#]*)(#\s*(\w+).*)?$')
CHECK_SUMMARY = re.compile(r'\d+%: Checks: (\d+), Failures: (\d+), Errors: (\d+)')
FAILING = {'FAIL', 'ERROR', 'TIMEOUT', 'INTERRUPT', 'UNEXPECTEDPASS'}


class Tally:
    """Counts of one phase or of the whole run, and the names of failures."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures = []

    def add(self, other):
        """Add another tally into this one."""
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped
        self.failures += other.failures

    def fail(self, what):
        """Count one failure described by what."""
        self.failed += 1
        self.failures.append(what)


def count_tap(stdout, name, tally):
    """Count TAP results in stdout; return True if it held any."""
    seen = False
    for line in stdout.splitlines():
        if line.startswith('Bail out!'):
            tally.fail(f'{name}: {line.strip()}')
            seen = True
            continue
        match = TAP_LINE.match(line)
        if not match:
            continue
        seen = True
        ok = match.group(1) == 'ok'
        directive = (match.group(5) or '').upper()
        desc = f'{name}: {line.strip()}'
        if directive.startswith('SKIP'):
            tally.skipped += 1
        elif directive.startswith('TODO'):
            if ok:
                tally.fail(desc + ' (unexpected pass)')
            else:
                tally.skipped += 1
        elif ok:
            tally.passed += 1
        else:
            tally.fail(desc)
    return seen


def count_check(stdout, name, tally):
    """Count Check summary lines in stdout; return True if it held any."""
    seen = False
    for match in CHECK_SUMMARY.finditer(stdout):
        seen = True
        checks, failures, errors = (int(g) for g in match.groups())
        tally.passed += checks - failures - errors
        for _ in range(failures + errors):
            tally.fail(f'{name}: a Check test failed (see its log)')
    return seen


def count_test(entry):
    """Return the Tally of one meson test entry of a JSON test log."""
    tally = Tally()
    name = entry.get('name', '?')
    result = entry.get('result', 'ERROR')
    stdout = entry.get('stdout') or ''
    if entry.get('returncode') == 77 and result in ('ERROR', 'SKIP'):
        # The project's tests exit 77 to skip; meson 1.0 honours that only
        # for exit-code tests and calls a TAP test that does it an ERROR.
        # Count the checks it ran before skipping, and one skip.
        count_tap(stdout, name, tally)
        tally.skipped += 1
        return tally
    if count_tap(stdout, name, tally) or count_check(stdout, name, tally):
        if result in FAILING and tally.failed == 0:
            tally.fail(f'{name}: meson says {result} '
                       f'(exit status {entry.get("returncode")})')
        elif result == 'SKIP' and tally.passed + tally.failed == 0:
            tally.skipped = max(tally.skipped, 1)
        return tally
    if result in ('OK', 'EXPECTEDFAIL'):
        tally.passed += 1
    elif result == 'SKIP':
        tally.skipped += 1
    else:
        tally.fail(f'{name}: meson says {result} '
                   f'(exit status {entry.get("returncode")})')
    return tally


def count_log(path, label):
    """Return the Tally of one meson JSON test log (missing = one failure)."""
    tally = Tally()
    try:
        with open(path, encoding='utf-8', errors='replace') as log:
            for line in log:
                if line.strip():
                    tally.add(count_test(json.loads(line)))
    except (OSError, ValueError) as err:
        tally.fail(f'{label}: no test results ({err}); did the build fail?')
    return tally


def main(argv):
    """Count every LABEL=LOG argument, print the totals, return the exit status."""
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    total = Tally()
    print('Test results by phase:')
    for arg in argv[1:]:
        label, _, path = arg.partition('=')
        if not path:
            path = arg
        tally = count_log(path, label)
        print(f'  {label:<10} {tally.passed:5} passed, {tally.failed:3} failed, '
              f'{tally.skipped:3} skipped   ({path})')
        total.add(tally)
    if total.failures:
        print('Failures:')
        for what in total.failures:
            print(f'  {what}')
    if total.skipped:
        print(f'({total.skipped} skipped)')
    print(f'{total.passed} passed, {total.failed} failed')
    return 1 if total.failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
