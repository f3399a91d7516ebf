"""real_tree.py - the generated trees of the bench's `real` group (stdlib only).

Owns: the description of a file tree derived from (seed, entries, bytes)
alone, the tar archive written from it, and the manifest that says what an
extraction of it must look like. Invariants: the same arguments give the
same archive byte for byte and the same manifest on every machine (Python's
random.Random is specified to be reproducible for a given seed); an
extracted tree matches the manifest only when every path, type, mode,
owner, mtime, size, content, symlink target and hard-link group is right.

The tree stands in for /usr/share (issue 18: 94,385 entries, 1.09 GB, so
about 11.5 KiB a file): mostly small files with a long tail, directories
up to eight deep, symlinks (some dangling), hard links, a few names with
spaces and non-ASCII letters, three owners and several modes.
"""

import hashlib
import json
import os
import random
import stat
import tarfile

MTIME_BASE = 1700000000
CHUNK = 1 << 20
FILE_MODES = [0o644] * 6 + [0o755, 0o600, 0o640, 0o444]
DIR_MODES = [0o755] * 8 + [0o700, 0o750]
OWNERS = [(0, 0)] * 3 + [(1000, 1000), (33, 33)]
MAX_FILE = 8 << 20
MAX_DEPTH = 8


class TreeSpec:
    """Entries in creation order: (path, kind, fields); kind d, f, l (symlink), h (hard link)."""

    def __init__(self, seed, entries, total_bytes):
        self.seed, self.entries_wanted, self.total_bytes = seed, entries, total_bytes
        self.entries = []
        self.file_bytes = 0
        self._build()

    def _name(self, rng, prefix, i):
        roll = rng.random()
        if roll < 0.01:
            return '%s with space %d' % (prefix, i)
        if roll < 0.02:
            return 'ünïcode-%s-%d' % (prefix, i)
        return '%s%06d' % (prefix, i)

    def _sizes(self, rng, count):
        """File sizes: log-normal (median ~2.7 KiB, long tail) scaled to total_bytes."""
        raw = [0 if rng.random() < 0.03 else min(rng.lognormvariate(8.0, 1.8), MAX_FILE)
               for _ in range(count)]
        scale = self.total_bytes / max(sum(raw), 1.0)
        return [min(int(s * scale), MAX_FILE) for s in raw]

    def _build(self):
        rng = random.Random(self.seed)
        n = self.entries_wanted
        n_dirs, n_links, n_hard = max(n * 8 // 100, 1), n * 4 // 100, n * 2 // 100
        n_files = max(n - n_dirs - n_links - n_hard, 1)
        dirs, files = [('', 0)], []  # (path, depth); '' is the archive root
        sizes = self._sizes(rng, n_files)
        plan = ['d'] * (n_dirs - 1) + ['f'] * n_files + ['l'] * n_links + ['h'] * n_hard
        rng.shuffle(plan)
        plan = ['d'] + plan  # a directory first, so files have somewhere to go
        for i, kind in enumerate(plan):
            # New entries go mostly into recent directories: deep, bushy paths.
            parent, depth = dirs[-1 - min(int(rng.expovariate(0.05)), len(dirs) - 1)]
            uid, gid = rng.choice(OWNERS)
            mtime = MTIME_BASE + rng.randrange(10_000_000)
            if kind == 'd' and depth >= MAX_DEPTH:
                parent, depth = '', 0
            if kind == 'h' and not files:
                kind = 'f'
            if kind == 'l' and not files:
                kind = 'd'
            name = self._name(rng, {'d': 'dir', 'f': 'file', 'l': 'link', 'h': 'hard'}[kind], i)
            path = os.path.join(parent, name) if parent else name
            if kind == 'd':
                dirs.append((path, depth + 1))
                self.entries.append((path, 'd', {'mode': rng.choice(DIR_MODES), 'uid': uid,
                                                 'gid': gid, 'mtime': mtime}))
            elif kind == 'f':
                size = sizes.pop() if sizes else 0
                self.file_bytes += size
                files.append((path, mtime))
                self.entries.append((path, 'f', {'mode': rng.choice(FILE_MODES), 'uid': uid,
                                                 'gid': gid, 'mtime': mtime, 'size': size,
                                                 'seed': rng.getrandbits(64)}))
            elif kind == 'l':
                target = rng.choice(files)[0] if rng.random() < 0.9 else 'missing-%d' % i
                rel = os.path.relpath(target, parent or '.') if rng.random() < 0.8 else target
                self.entries.append((path, 'l', {'target': rel}))
            else:
                target, tmtime = rng.choice(files)
                self.entries.append((path, 'h', {'target': target, 'mtime': tmtime}))

    # -- contents --

    @staticmethod
    def content_chunks(fields):
        """The bytes of a regular file, in chunks of at most CHUNK."""
        rng = random.Random(fields['seed'])
        left = fields['size']
        while left > 0:
            n = min(left, CHUNK)
            yield rng.randbytes(n)
            left -= n

    # -- the archive --

    def write_archive(self, path):
        """Write the tree as an uncompressed GNU tar archive at PATH; returns
        the manifest digest (see manifest_of_spec)."""
        with tarfile.open(path, 'w', format=tarfile.GNU_FORMAT) as tar:
            for p, kind, f in self.archive_order():
                info = tarfile.TarInfo(p)
                info.uname = info.gname = ''
                if kind == 'd':
                    info.type, info.mode = tarfile.DIRTYPE, f['mode']
                    info.uid, info.gid, info.mtime = f['uid'], f['gid'], f['mtime']
                    tar.addfile(info)
                elif kind == 'f':
                    info.mode, info.uid, info.gid = f['mode'], f['uid'], f['gid']
                    info.mtime, info.size = f['mtime'], f['size']
                    tar.addfile(info, _ChunkReader(self.content_chunks(f)))
                elif kind == 'l':
                    info.type, info.linkname, info.mode = tarfile.SYMTYPE, f['target'], 0o777
                    info.mtime = MTIME_BASE
                    tar.addfile(info)
                else:
                    info.type, info.linkname, info.mode = tarfile.LNKTYPE, f['target'], 0o644
                    info.mtime = f['mtime']
                    tar.addfile(info)
        return manifest_digest(self.manifest())

    def archive_order(self):
        """The entries in the order `tar -c` walks a tree (each directory
        followed by everything below it, so tar can set its mtime once it
        has moved past it); of each hard-link group the first path in that
        order carries the data and the others link to it."""
        entries = sorted(self.entries, key=lambda e: e[0].split('/'))
        data = {p: (kind, f) for p, kind, f in self.entries if kind == 'f'}
        leader = {}
        for p, kind, f in self.entries:
            if kind in ('f', 'h'):
                leader[p] = p if kind == 'f' else leader[f['target']]
        first = {}
        out = []
        for p, kind, f in entries:
            if kind not in ('f', 'h'):
                out.append((p, kind, f))
                continue
            lead = leader[p]
            if lead not in first:
                first[lead] = p
                out.append((p, 'f', data[lead][1]))
            else:
                out.append((p, 'h', {'target': first[lead], 'mtime': data[lead][1]['mtime']}))
        return out

    def manifest(self):
        """What an extraction must hold: one line per path (see manifest_of_tree)."""
        by_path = {}
        leader = {}  # file path -> smallest path sharing its inode
        for p, kind, f in self.entries:
            if kind == 'd':
                by_path[p] = ['d', f['mode'], f['uid'], f['gid'], f['mtime']]
            elif kind == 'f':
                digest = hashlib.sha256()
                for chunk in self.content_chunks(f):
                    digest.update(chunk)
                by_path[p] = ['f', f['mode'], f['uid'], f['gid'], f['mtime'], f['size'],
                              digest.hexdigest()]
                leader[p] = p
            elif kind == 'l':
                by_path[p] = ['l', f['target']]
            else:
                by_path[p] = list(by_path[f['target']])
                leader[p] = leader[f['target']]
        groups = {}
        for p, lead in leader.items():
            groups.setdefault(lead, []).append(p)
        for members in groups.values():
            first = min(members)
            for p in members:
                by_path[p] = by_path[p][:7] + [first, len(members)]
        return sorted([p] + v for p, v in by_path.items())


class _ChunkReader:
    """A file-like read() over a generator of byte chunks (for tarfile.addfile)."""

    def __init__(self, chunks):
        self.chunks, self.buf = chunks, b''

    def read(self, n=-1):
        while n < 0 or len(self.buf) < n:
            nxt = next(self.chunks, None)
            if nxt is None:
                break
            self.buf += nxt
        if n < 0:
            out, self.buf = self.buf, b''
        else:
            out, self.buf = self.buf[:n], self.buf[n:]
        return out


def manifest_of_tree(root):
    """The manifest of the tree under ROOT, in TreeSpec.manifest's form."""
    by_path, inodes = {}, {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                by_path[rel] = ['l', os.readlink(full)]
            elif stat.S_ISDIR(st.st_mode):
                by_path[rel] = ['d', stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
                                int(st.st_mtime)]
            elif stat.S_ISREG(st.st_mode):
                digest = hashlib.sha256()
                with open(full, 'rb') as f:
                    for chunk in iter(lambda f=f: f.read(CHUNK), b''):
                        digest.update(chunk)
                by_path[rel] = ['f', stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
                                int(st.st_mtime), st.st_size, digest.hexdigest()]
                inodes.setdefault(st.st_ino, []).append(rel)
            else:
                by_path[rel] = ['?', stat.S_IFMT(st.st_mode)]
    for members in inodes.values():
        first = min(members)
        for p in members:
            by_path[p] += [first, len(members)]
    return sorted([p] + v for p, v in by_path.items())


def manifest_digest(manifest):
    return hashlib.sha256(json.dumps(manifest, ensure_ascii=False).encode()).hexdigest()


def first_difference(expected, actual):
    """A short text naming the first entry where two manifests differ."""
    exp = {m[0]: m for m in expected}
    act = {m[0]: m for m in actual}
    for path in sorted(set(exp) | set(act)):
        if exp.get(path) != act.get(path):
            return '%s: expected %s, found %s' % (path, exp.get(path), act.get(path))
    return 'none'
