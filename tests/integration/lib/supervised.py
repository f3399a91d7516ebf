"""supervised.py - the worker of a `claimfsd --supervise` run by the Daemon
fixture (daemon.py): find it, and wait until a new one serves after it was
killed or replaced.

A supervisor has exactly one child, the worker (nothing else forks from it);
each worker that gets ready logs one "info: serving " line.
"""

import os

from daemon import wait_for

READY_S = 15.0  # a new worker must be serving within this


def worker_pid(d):
    """The supervisor's one child, or None (between two workers)."""
    pids = d.children()
    return pids[0] if len(pids) == 1 else None


def serving_count(d):
    """How many workers have announced ready so far (log lines)."""
    return d.log_count(b'info: serving ')


def wait_new_worker(d, old_pid, served_before, timeout=READY_S):
    """Until a worker other than OLD_PID has announced ready (SERVED_BEFORE:
    serving_count before OLD_PID was killed); whether one did in TIMEOUT."""
    return wait_for(lambda: serving_count(d) > served_before and worker_pid(d) not in (None, old_pid),
                    timeout=timeout, interval=0.02)


def kill_worker(d, signum, timeout=READY_S):
    """Send SIGNUM to D's worker and wait for its successor; whether one
    serves within TIMEOUT (False too when there was no worker)."""
    served = serving_count(d)
    old = worker_pid(d)
    if old is None:
        return False
    os.kill(old, signum)
    return wait_new_worker(d, old, served, timeout)
