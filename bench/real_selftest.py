#!/usr/bin/env python3
"""real_selftest.py - proves that the `real` group's checks reject wrong
results (a meson test, suite bench; no FUSE, no root, a few seconds).

  real_selftest.py BENCH_RANDIO

Each check is first shown to accept a right result, then to reject the
same result spoiled in one way (a mode, a byte, a broken hard link, a
symlink target, a directory mtime; a misplaced block; a truncated git
pack); and the verdict logic is checked on made-up medians. Exit 0 when
all hold, 1 naming the first that does not.

Owns: one temporary directory, removed at exit.
"""

import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# pylint: disable=wrong-import-position
from bench_procs import BenchError  # noqa: E402
import real_git  # noqa: E402
from real_report import judge  # noqa: E402
from real_tree import TreeSpec, first_difference, manifest_of_tree  # noqa: E402

FAILURES = []


def expect(what, cond):
    print('%s - %s' % ('ok' if cond else 'FAIL', what), flush=True)
    if not cond:
        FAILURES.append(what)


def tree_checks(tmp):
    spec = TreeSpec(7, 300, 512 << 10)
    archive = os.path.join(tmp, 't.tar')
    spec.write_archive(archive)
    expected = spec.manifest()
    spoilers = [
        ('a mode', lambda p, f: os.chmod(f, 0o611)),
        ('a byte', lambda p, f: _flip_byte(f)),
        ('a hard link', lambda p, f: _break_link(p, expected)),
        ('a symlink target', lambda p, f: _retarget(p, expected)),
        ('a directory mtime', lambda p, f: os.utime(_first(p, expected, 'd'), (1, 1))),
    ]
    for name, spoil in [('nothing', None)] + spoilers:
        dest = os.path.join(tmp, 'x-' + name.replace(' ', '-'))
        os.mkdir(dest)
        subprocess.run(['tar', '-xf', archive, '-C', dest], check=True)
        if spoil:
            # Put back the times the spoiling changed (except the one
            # spoiled on purpose): each check must catch its own fault.
            target = _first(dest, expected, 'f')
            keep = [(p, os.lstat(p)) for p in _parents(dest, expected)]
            spoil(dest, target)
            for p, st in keep:
                if name != 'a directory mtime':
                    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
        same = manifest_of_tree(dest) == expected
        expect('tree check %s %s' % ('accepts' if spoil is None else 'rejects', name),
               same if spoil is None else not same)
        if spoil:
            print('  # %s' % first_difference(expected, manifest_of_tree(dest)))


def _first(root, manifest, kind):
    for m in manifest:
        if m[1] == kind and (kind != 'f' or m[6] > 0):
            return os.path.join(root, m[0])
    raise AssertionError('no %s entry in the tree' % kind)


def _parents(root, manifest):
    """Every path whose times a spoiler may change: all regular files and directories."""
    return [os.path.join(root, m[0]) for m in manifest if m[1] in ('f', 'd')]


def _flip_byte(path):
    with open(path, 'r+b') as f:
        b = f.read(1)
        f.seek(0)
        f.write(bytes([b[0] ^ 1]))


def _break_link(root, manifest):
    linked = next(m for m in manifest if m[1] == 'f' and m[9] > 1)
    path = os.path.join(root, linked[0])
    shutil.copy2(path, path + '.copy')
    os.replace(path + '.copy', path)


def _retarget(root, manifest):
    link = next(m for m in manifest if m[1] == 'l')
    os.unlink(os.path.join(root, link[0]))
    os.symlink(link[2] + '.other', os.path.join(root, link[0]))


def child(*argv):
    return subprocess.run([sys.executable, os.path.join(HERE, 'real_child.py')] + list(argv),
                          capture_output=True, text=True, check=False)


def child_checks(tmp, randio):
    path = os.path.join(tmp, 'cold.bin')
    subprocess.run([randio, 'prepare', path, '--size', str(4 << 20)], check=True,
                   capture_output=True)
    ok = child('coldread', path, '--size', str(4 << 20), '--reads', '64', '--seed', '3')
    expect('cold-read check accepts the prepared file', ok.returncode == 0)
    with open(path, 'r+b') as f:  # every 64 KiB region's blocks swapped with the next one's
        data = bytearray(f.read())
        for off in range(0, len(data) - 65536, 131072):
            data[off:off + 65536], data[off + 65536:off + 131072] = \
                data[off + 65536:off + 131072], data[off:off + 65536]
        f.seek(0)
        f.write(data)
    bad = child('coldread', path, '--size', str(4 << 20), '--reads', '64', '--seed', '3')
    expect('cold-read check rejects misplaced blocks', bad.returncode != 0)
    db = child('sqlite', os.path.join(tmp, 's.db'), '--transactions', '30')
    expect('SQLite run counts its rows', db.returncode == 0 and '"tx_per_s"' in db.stdout)


def git_checks(tmp):
    src, dst = os.path.join(tmp, 'src.git'), os.path.join(tmp, 'clone')
    objects = real_git.make_source(src, 5, 40, 5)
    expect('git source has its objects counted (%d)' % objects, objects > 40)
    subprocess.run(['git', 'clone', '-q', '--no-local', src, dst], check=True,
                   env=real_git.GIT_ENV)
    try:
        real_git.clone_check(src, dst)
        expect('git check accepts a clone', True)
    except BenchError as e:
        expect('git check accepts a clone (%s)' % e, False)
    packs = os.path.join(dst, '.git', 'objects', 'pack')
    pack = next(os.path.join(packs, p) for p in os.listdir(packs) if p.endswith('.pack'))
    os.chmod(pack, 0o644)
    with open(pack, 'r+b') as f:
        f.truncate(os.path.getsize(pack) // 2)
    try:
        real_git.clone_check(src, dst)
        expect('git check rejects a truncated pack', False)
    except BenchError:
        expect('git check rejects a truncated pack', True)


def verdict_checks():
    med = {'native': 10.0, 'passthrough': 20.0, 'claimfs': 19.0}
    time_rule = [('passthrough', 1.0), ('native', 2.0)]
    expect('time 19 s vs passthrough 20 s, native 10 s: PASS',
           judge(time_rule, 'lower', med) == 'PASS')
    expect('time 21 s: FAIL', judge(time_rule, 'lower', dict(med, claimfs=21.0)) == 'FAIL')
    expect('time 20.5 s vs native 10 s: FAIL (> 2x native)',
           judge([('native', 2.0)], 'lower', dict(med, claimfs=20.5)) == 'FAIL')
    rate = [('passthrough', 1.0), ('native', 0.9)]
    expect('tps 19 vs native 20: PASS at 0.95x',
           judge(rate, 'higher', {'native': 20.0, 'passthrough': 15.0, 'claimfs': 19.0}) == 'PASS')
    expect('tps 17 vs native 20: FAIL at 0.85x',
           judge(rate, 'higher', {'native': 20.0, 'passthrough': 15.0, 'claimfs': 17.0}) == 'FAIL')
    expect('no passthrough: judged on native alone',
           judge(time_rule, 'lower', {'native': 10.0, 'passthrough': None, 'claimfs': 15.0})
           == 'PASS')
    expect('no claimfs: n/a', judge(time_rule, 'lower', {'native': 1.0, 'claimfs': None}) == 'n/a')
    expect('CPU 2.6 ms/MiB: FAIL', judge([('abs', 2.5)], 'lower', {'claimfs': 2.6}) == 'FAIL')


def main(argv):
    if len(argv) != 1:
        print('usage: real_selftest.py BENCH_RANDIO', file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix='bench-real-selftest-')
    try:
        tree_checks(tmp)
        child_checks(tmp, argv[0])
        git_checks(tmp)
        verdict_checks()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILURES:
        print('%d check(s) failed: %s' % (len(FAILURES), '; '.join(FAILURES)))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
