"""real_git.py - the generated git repository of the bench's `real` group.

Owns: a bare repository built with `git fast-import` from a seed alone (the
same commits, trees and blobs, so the same object ids, on every machine)
and packed once with `git repack -ad`, as a served repository would be.
Invariant: its object count is measured after packing and reported, not
assumed; clone_check() accepts a clone only when `git fsck --full` is clean,
HEAD names the source's commit and the checkout matches the index.
"""

import random
import subprocess

from bench_procs import BenchError

GIT_ENV = {'PATH': '/usr/bin:/bin', 'HOME': '/nonexistent', 'GIT_CONFIG_NOSYSTEM': '1',
           'GIT_CONFIG_GLOBAL': '/dev/null', 'LC_ALL': 'C'}
WORDS = ['claim', 'volume', 'store', 'inode', 'commit', 'block', 'watch', 'event', 'mount',
         'fsync', 'quota', 'label', 'selector', 'patch', 'snapshot', 'replica', 'daemon']


def git(*argv, cwd=None, stdin=None, timeout=900):
    try:
        res = subprocess.run(['git'] + [str(a) for a in argv], cwd=cwd, input=stdin,
                             capture_output=True, env=GIT_ENV, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        raise BenchError('git %s timed out after %s s' % (' '.join(argv), e.timeout)) from e
    if res.returncode != 0:
        raise BenchError('git %s exited with %d:\n%s' % (' '.join(str(a) for a in argv),
                                                       res.returncode,
                                                       res.stderr.decode('utf-8', 'replace')))
    return res.stdout.decode('utf-8', 'replace')


def _text(rng, lines):
    return ''.join('%s %d %s\n' % (' '.join(rng.choice(WORDS) for _ in range(rng.randrange(3, 12))),
                                   rng.randrange(1 << 30), rng.randbytes(8).hex())
                   for _ in range(lines)).encode()


def _stream(seed, files, dirs, commits, per_commit):
    """A fast-import stream: one commit adding FILES files in DIRS
    directories (two levels), then COMMITS commits changing PER_COMMIT each."""
    rng = random.Random(seed)
    paths = ['d%02d/s%02d/f%05d.txt' % (i % max(dirs // 8, 1), i % dirs, i) for i in range(files)]
    out, mark = [], 0
    for c in range(commits + 1):
        changed = paths if c == 0 else rng.sample(paths, min(per_commit, files))
        marks = []
        for _p in changed:
            mark += 1
            body = _text(rng, rng.randrange(5, 60))
            out.append(b'blob\nmark :%d\ndata %d\n%s\n' % (mark, len(body), body))
            marks.append(mark)
        msg = b'change %d\n' % c
        when = 1700000000 + 3600 * c
        head = (b'commit refs/heads/main\nauthor Bench <bench@example.org> %d +0000\n'
                b'committer Bench <bench@example.org> %d +0000\ndata %d\n%s'
                % (when, when, len(msg), msg))
        out.append(head)
        out.extend(b'M 100644 :%d %s\n' % (m, p.encode()) for m, p in zip(marks, changed))
        out.append(b'\n')
    return b''.join(out)


def make_source(path, seed, files, commits, per_commit=20):
    """Build the bare source repository at PATH; returns its object count."""
    git('init', '-q', '--bare', '-b', 'main', path)
    git('fast-import', '--quiet', cwd=path,
        stdin=_stream(seed, files, max(files // 40, 8), commits, per_commit))
    git('repack', '-adq', cwd=path)
    counts = dict(line.split(': ', 1) for line in git('count-objects', '-v', cwd=path).splitlines())
    return int(counts['count']) + int(counts['in-pack'])


def head_of(repo):
    return git('rev-parse', 'HEAD', cwd=repo).strip()


def clone_check(source, clone):
    """Raise BenchError unless CLONE is a complete, clean clone of SOURCE."""
    git('fsck', '--full', '--no-progress', cwd=clone)
    want, have = head_of(source), head_of(clone)
    if want != have:
        raise BenchError('git clone: HEAD %s, the source has %s' % (have, want))
    dirty = git('status', '--porcelain', cwd=clone)
    if dirty.strip():
        raise BenchError('git clone: checkout differs from its index:\n%s' % dirty[:2000])
