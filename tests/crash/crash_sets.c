/*
 * crash_sets.c — the crashwriter kinds that keep sets of objects:
 *
 *   seq   big-<k>: a file written sequentially in chunks of random size,
 *         then (variant 0) fsync + close or (variant 1) close alone — the
 *         contract makes both durability points; old files are unlinked
 *         with the directory fsynced. Acknowledged files exact, deleted ones
 *         gone, the in-flight one absent or a prefix (bytes right or zero).
 *   link  f-<n> written and fsynced, hard-linked as h-<n>, directory fsynced;
 *         later f-<n> unlinked (h-<n> keeps nlink 1), later h-<n> dropped.
 *         Names, shared inode, nlink and content are all checked.
 *   tree  tree-<n>/...: a directory tree of seeded shape, every file and
 *         directory fsynced; later renamed to moved-<n>, later removed with
 *         rm -r. Each tree is compared entry by entry, extra entries fail.
 *
 * Every object has one state (the last acknowledged operation on it); the
 * in-flight operation, if any, widens what its object may look like. On
 * start-up the in-flight operation is redone (unlink, rename, remove) or
 * undone (a half-written file or tree is removed), logged as an operation
 * of its own. Any name in the directory that no state explains is a loss
 * (a deleted object came back).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash.h"

enum set_state { SET_NONE = 0, SET_LIVE, SET_HALF, SET_MOVED, SET_GONE };

/* One object per index; the pending operation's name and index. */
struct set_state_table {
	unsigned char *state;
	unsigned long long *size;
	size_t cap;
	unsigned long long next; /* first index never used */
	char pending_op[16];     /* "" when nothing is in flight */
	unsigned long long pending_n;
	unsigned long long pending_size;
	int fd_unused;
};

/* Make room for index n. */
static int set_reserve(struct set_state_table *t, unsigned long long n)
{
	if (n < t->cap)
		return 0;
	size_t cap = t->cap ? t->cap : 64;
	while (cap <= n)
		cap *= 2;
	unsigned char *s = realloc(t->state, cap);
	if (!s)
		return -ENOMEM;
	t->state = s;
	unsigned long long *z = realloc(t->size, cap * sizeof(*z));
	if (!z)
		return -ENOMEM;
	t->size = z;
	memset(t->state + t->cap, 0, cap - t->cap);
	memset(t->size + t->cap, 0, (cap - t->cap) * sizeof(*z));
	t->cap = cap;
	return 0;
}

/* Free a table. */
static void set_table_free(struct crash_writer *w)
{
	struct set_state_table *t = w->state;

	if (t) {
		free(t->state);
		free(t->size);
		free(t);
	}
	w->state = NULL;
}

/* Read the log: "try <op> <n> [size]", "ack <op> <n>", "run". ops maps an
 * op name to the state its ack sets. */
static int set_scan(struct crash_writer *w, const char *const *ops, const unsigned char *states,
		    size_t nops)
{
	struct set_state_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	w->state = t;
	for (size_t i = 0; i < w->nlines; i++) {
		const char *l = w->lines[i];
		char op[16];
		unsigned long long n, size = 0;
		size_t k;

		if (strcmp(l, "run") == 0)
			continue;
		if (strcmp(l, "abandon") == 0) { /* the resolution that follows decides */
			t->pending_op[0] = '\0';
			continue;
		}
		if (sscanf(l, "try %15s %llu %llu", op, &n, &size) >= 2) {
			if (t->pending_op[0])
				return crash_log_corrupt(w, i);
			snprintf(t->pending_op, sizeof(t->pending_op), "%s", op);
			t->pending_n = n;
			t->pending_size = size;
			if (set_reserve(t, n) < 0)
				return -ENOMEM;
			if (n >= t->next)
				t->next = n + 1;
			continue;
		}
		if (sscanf(l, "ack %15s %llu", op, &n) != 2 || strcmp(op, t->pending_op) != 0 ||
		    n != t->pending_n)
			return crash_log_corrupt(w, i);
		for (k = 0; k < nops && strcmp(ops[k], op) != 0; k++)
			;
		if (k == nops)
			return crash_log_corrupt(w, i);
		t->state[n] = states[k];
		if (t->pending_size)
			t->size[n] = t->pending_size;
		t->pending_op[0] = '\0';
	}
	return 0;
}

/* Is (op, n) the operation in flight? */
static bool set_pending_is(const struct set_state_table *t, const char *op, unsigned long long n)
{
	return strcmp(t->pending_op, op) == 0 && t->pending_n == n;
}

/* Close the in-flight operation in the log: the resolution that follows
 * (its own try/ack) decides the object's state. */
static int set_abandon(struct crash_writer *w)
{
	struct set_state_table *t = w->state;
	int r = crash_log_put(w, true, "abandon");

	t->pending_op[0] = '\0';
	if (r < 0) {
		errno = -r;
		return crash_failed(w, "log");
	}
	return 0;
}

/* Log "try", run nothing: callers do the syscalls, then set_ack(). */
static int set_try(struct crash_writer *w, const char *op, unsigned long long n,
		   unsigned long long size)
{
	int r = size ? crash_log_put(w, false, "try %s %llu %llu", op, n, size)
		     : crash_log_put(w, false, "try %s %llu", op, n);

	if (r < 0) {
		errno = -r;
		return crash_failed(w, "log");
	}
	return 0;
}

/* Log "ack" durably and record the new state. */
static int set_ack(struct crash_writer *w, const char *op, unsigned long long n, unsigned char state)
{
	struct set_state_table *t = w->state;
	int r = crash_log_put(w, true, "ack %s %llu", op, n);

	if (r < 0) {
		errno = -r;
		return crash_failed(w, "log");
	}
	t->state[n] = state;
	return 0;
}

/* Every directory entry must parse as "<prefix><n>" for a prefix of the list
 * and be allowed by allowed(); otherwise it is a loss. */
static int set_check_names(struct crash_writer *w, const char *const *prefixes, size_t nprefixes,
			   bool (*allowed)(struct crash_writer *w, size_t prefix, unsigned long long n))
{
	DIR *d = opendir(w->dir);
	struct dirent *e;

	if (!d)
		return errno == ENOENT ? 0 : crash_failed(w, "opendir");
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		unsigned long long n;
		bool ok = false;
		char rest;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		for (size_t p = 0; p < nprefixes && !ok; p++) {
			size_t len = strlen(prefixes[p]);

			if (strncmp(e->d_name, prefixes[p], len) == 0 &&
			    sscanf(e->d_name + len, "%llu%c", &n, &rest) == 1)
				ok = allowed(w, p, n);
		}
		if (!ok)
			crash_lost(w, "unexpected entry '%s' (deleted object came back?)", e->d_name);
		errno = 0;
	}
	int err = errno;
	closedir(d);
	if (err) {
		errno = err;
		return crash_failed(w, "readdir");
	}
	return 0;
}

/* ---- seq --------------------------------------------------------------------------- */

static const char *const seq_ops[] = { "put", "del" };
static const unsigned char seq_states[] = { SET_LIVE, SET_GONE };

/* Content key of big-<k>. */
static uint64_t seq_key(const struct crash_writer *w, unsigned long long k)
{
	return crash_key(w, k);
}

/* Names allowed in a seq directory: big-<k> of a live or in-flight file. */
static bool seq_name_allowed(struct crash_writer *w, size_t prefix, unsigned long long n)
{
	struct set_state_table *t = w->state;

	(void)prefix;
	return (n < t->cap && t->state[n] == SET_LIVE) || (t->pending_op[0] && t->pending_n == n);
}

/* Unlink big-<k>, fsync the directory, acknowledge "del k". */
static int seq_delete(struct crash_writer *w, unsigned long long k)
{
	char name[64], path[4200];
	int r = set_try(w, "del", k, 0);

	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "big-%llu", k);
	crash_path(w, name, path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		return crash_failed(w, "unlink big");
	if (crash_fsync_dir(w->dir) < 0)
		return crash_failed(w, "fsync dir");
	return set_ack(w, "del", k, SET_GONE);
}

/* Verify every big-<k>; undo a half-written one, redo an in-flight delete. */
static int seq_verify(struct crash_writer *w, bool resolve)
{
	struct set_state_table *t;
	char name[64], path[4200], why[256];
	struct stat sb;
	int r = set_scan(w, seq_ops, seq_states, 2);

	if (r < 0)
		return r;
	t = w->state;
	r = set_check_names(w, (const char *const[]){ "big-" }, 1, seq_name_allowed);
	if (r < 0)
		return r;
	for (unsigned long long k = 0; k < t->next; k++) {
		bool put = set_pending_is(t, "put", k), del = set_pending_is(t, "del", k);

		if (t->state[k] != SET_LIVE && !put && !del)
			continue;
		snprintf(name, sizeof(name), "big-%llu", k);
		crash_path(w, name, path, sizeof(path));
		w->objects++;
		r = crash_file_compare(path, seq_key(w, k), put ? t->pending_size : t->size[k], &sb,
				       why, sizeof(why));
		if (r == -ENOENT) {
			if (!put && !del)
				crash_lost(w, "%s missing (acknowledged, %llu bytes)", name, t->size[k]);
		} else if (r < 0) {
			errno = -r;
			return crash_failed(w, "read big");
		} else if (r == CRASH_MISMATCH || (r == CRASH_PARTIAL && !put)) {
			crash_lost(w, "%s: %s", name, why);
		}
	}
	if (!resolve || !t->pending_op[0])
		return 0;
	unsigned long long k = t->pending_n;
	r = set_abandon(w);
	return r < 0 ? r : seq_delete(w, k);
}

/* Delete the oldest file when enough are live, else write the next one. */
static int seq_step(struct crash_writer *w)
{
	struct set_state_table *t = w->state;
	unsigned max_live = w->variant == 0 ? 3 : 16;
	unsigned long long oldest = t->next, live = 0;
	char name[64], path[4200];
	int fd = -1, r;

	for (unsigned long long k = 0; k < t->next; k++) {
		if (t->state[k] == SET_LIVE) {
			live++;
			if (oldest == t->next)
				oldest = k;
		}
	}
	if (live >= max_live)
		return seq_delete(w, oldest);

	unsigned long long k = t->next++;
	unsigned long long size = w->variant == 0 ? crash_rand(w, 64 * 1024, 4 * 1024 * 1024)
						   : crash_rand(w, 1, 256 * 1024);
	if (set_reserve(t, k) < 0)
		return -ENOMEM;
	t->size[k] = size;
	r = set_try(w, "put", k, size);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "big-%llu", k);
	crash_path(w, name, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return crash_failed(w, "create big");
	if (crash_write_content(w, fd, seq_key(w, k), size, w->variant == 0 ? 256 * 1024 : 65536) < 0) {
		r = crash_failed(w, "write big");
		goto out;
	}
	if (w->variant == 0 && fsync(fd) < 0) {
		r = crash_failed(w, "fsync big");
		goto out;
	}
	r = close(fd);
	fd = -1;
	if (r < 0) {
		r = crash_failed(w, "close big");
		goto out;
	}
	r = set_ack(w, "put", k, SET_LIVE);
out:
	if (fd >= 0)
		close(fd);
	return r;
}

const struct crash_kind crash_kind_seq = {
	.name = "seq",
	.verify = seq_verify,
	.step = seq_step,
	.destroy = set_table_free,
};

/* ---- link -------------------------------------------------------------------------- */

static const char *const link_ops[] = { "link", "unlink", "drop" };
static const unsigned char link_states[] = { SET_LIVE, SET_HALF, SET_GONE };
#define LINK_MAX_SIZE 16384

/* Names allowed in a link directory. */
static bool link_name_allowed(struct crash_writer *w, size_t prefix, unsigned long long n)
{
	struct set_state_table *t = w->state;
	unsigned char s = n < t->cap ? t->state[n] : SET_NONE;

	if (t->pending_op[0] && t->pending_n == n)
		return true;
	return prefix == 0 ? s == SET_LIVE : (s == SET_LIVE || s == SET_HALF);
}

/* Content key and size of f-<n>. */
static uint64_t link_key(const struct crash_writer *w, unsigned long long n, uint64_t *ret_size)
{
	uint64_t key = crash_key(w, n);

	*ret_size = 1 + crash_mix(key ^ 1) % LINK_MAX_SIZE;
	return key;
}

/* Compare name with content n; returns match/-errno, fills sb. */
static int link_compare(struct crash_writer *w, const char *prefix, unsigned long long n,
			struct stat *sb, char *why, size_t why_size)
{
	char name[64], path[4200];
	uint64_t size, key = link_key(w, n, &size);

	snprintf(name, sizeof(name), "%s%llu", prefix, n);
	crash_path(w, name, path, sizeof(path));
	return crash_file_compare(path, key, size, sb, why, why_size);
}

/* Verify one index: names, shared inode, link count, content. */
static int link_verify_one(struct crash_writer *w, unsigned long long n)
{
	struct set_state_table *t = w->state;
	struct stat fs, hs;
	char fwhy[256] = "", hwhy[256] = "";
	unsigned char s = t->state[n];
	int f = link_compare(w, "f-", n, &fs, fwhy, sizeof(fwhy));
	int h = link_compare(w, "h-", n, &hs, hwhy, sizeof(hwhy));

	if ((f < 0 && f != -ENOENT) || (h < 0 && h != -ENOENT)) {
		errno = f < 0 && f != -ENOENT ? -f : -h;
		return crash_failed(w, "read link file");
	}
	w->objects++;
	if (f >= 0 && h >= 0 && (fs.st_ino != hs.st_ino || fs.st_nlink != 2))
		crash_lost(w, "f-%llu/h-%llu: inodes %llu/%llu, nlink %llu (want one inode, nlink 2)", n,
			   n, (unsigned long long)fs.st_ino, (unsigned long long)hs.st_ino,
			   (unsigned long long)fs.st_nlink);
	if (set_pending_is(t, "link", n)) {
		/* In flight: f may be partial while alone; once linked it was fsynced. */
		if (f < 0 && h >= 0)
			crash_lost(w, "h-%llu exists without f-%llu during link", n, n);
		if (h >= 0 && f != CRASH_MATCH)
			crash_lost(w, "f-%llu linked but content wrong: %s", n, fwhy);
		if (f == CRASH_MISMATCH)
			crash_lost(w, "f-%llu: %s", n, fwhy);
		return 0;
	}
	if (set_pending_is(t, "drop", n)) {
		/* In flight: either name may be gone already; what is left is exact. */
		if ((f >= 0 && f != CRASH_MATCH) || (h >= 0 && h != CRASH_MATCH))
			crash_lost(w, "f-%llu/h-%llu during drop: %s / %s", n, n, fwhy, hwhy);
		return 0;
	}
	bool unlinking = set_pending_is(t, "unlink", n);

	if ((s == SET_LIVE && !unlinking) || (unlinking && f >= 0)) {
		if (f != CRASH_MATCH || h != CRASH_MATCH)
			crash_lost(w, "f-%llu/h-%llu should both exist exact: %s / %s", n, n,
				   f == -ENOENT ? "missing" : fwhy, h == -ENOENT ? "missing" : hwhy);
	} else if (s == SET_HALF || unlinking) {
		if (f != -ENOENT)
			crash_lost(w, "f-%llu still exists after its unlink was acknowledged", n);
		if (h != CRASH_MATCH)
			crash_lost(w, "h-%llu: %s", n, h == -ENOENT ? "missing" : hwhy);
		else if (hs.st_nlink != 1)
			crash_lost(w, "h-%llu has nlink %llu, want 1", n, (unsigned long long)hs.st_nlink);
	} else if (f != -ENOENT || h != -ENOENT) {
		crash_lost(w, "f-%llu/h-%llu exist after drop was acknowledged", n, n);
	}
	return 0;
}

/* Unlink name (ENOENT fine), fsync the directory. */
static int link_unlink_fsync(struct crash_writer *w, const char *prefix, unsigned long long n)
{
	char name[64], path[4200];

	snprintf(name, sizeof(name), "%s%llu", prefix, n);
	crash_path(w, name, path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		return crash_failed(w, "unlink");
	if (crash_fsync_dir(w->dir) < 0)
		return crash_failed(w, "fsync dir");
	return 0;
}

/* Drop both names of n (undo of a half-done link, or the last step). */
static int link_drop(struct crash_writer *w, unsigned long long n)
{
	int r = set_try(w, "drop", n, 0);

	if (r == 0)
		r = link_unlink_fsync(w, "f-", n);
	if (r == 0)
		r = link_unlink_fsync(w, "h-", n);
	return r < 0 ? r : set_ack(w, "drop", n, SET_GONE);
}

/* Unlink f-<n>, keeping h-<n>. */
static int link_unlink(struct crash_writer *w, unsigned long long n)
{
	int r = set_try(w, "unlink", n, 0);

	if (r == 0)
		r = link_unlink_fsync(w, "f-", n);
	return r < 0 ? r : set_ack(w, "unlink", n, SET_HALF);
}

/* Verify every index; resolve the in-flight operation. */
static int link_verify(struct crash_writer *w, bool resolve)
{
	struct set_state_table *t;
	int r = set_scan(w, link_ops, link_states, 3);

	if (r < 0)
		return r;
	t = w->state;
	r = set_check_names(w, (const char *const[]){ "f-", "h-" }, 2, link_name_allowed);
	for (unsigned long long n = 0; r == 0 && n < t->next; n++) {
		if (t->state[n] != SET_NONE || (t->pending_op[0] && t->pending_n == n))
			r = link_verify_one(w, n);
	}
	if (r < 0 || !resolve || !t->pending_op[0])
		return r;
	unsigned long long n = t->pending_n;
	bool unlink_op = strcmp(t->pending_op, "unlink") == 0;
	r = set_abandon(w);
	if (r < 0)
		return r;
	return unlink_op ? link_unlink(w, n) : link_drop(w, n);
}

/* Create, fsync and hard-link f-<n>; or unlink/drop older ones. */
static int link_step(struct crash_writer *w)
{
	struct set_state_table *t = w->state;
	char fname[64], hname[64], fpath[4200], hpath[4200];
	uint64_t size, key;
	int fd = -1, r;

	for (unsigned long long n = 0; n + 4 < t->next; n++)
		if (t->state[n] == SET_LIVE)
			return link_unlink(w, n);
	for (unsigned long long n = 0; n + 8 < t->next; n++)
		if (t->state[n] == SET_HALF)
			return link_drop(w, n);

	unsigned long long n = t->next++;
	if (set_reserve(t, n) < 0)
		return -ENOMEM;
	key = link_key(w, n, &size);
	r = set_try(w, "link", n, 0);
	if (r < 0)
		return r;
	snprintf(fname, sizeof(fname), "f-%llu", n);
	snprintf(hname, sizeof(hname), "h-%llu", n);
	crash_path(w, fname, fpath, sizeof(fpath));
	crash_path(w, hname, hpath, sizeof(hpath));
	fd = open(fpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return crash_failed(w, "create f");
	if (crash_write_content(w, fd, key, size, 4096) < 0) {
		r = crash_failed(w, "write f");
		goto out;
	}
	if (fsync(fd) < 0) {
		r = crash_failed(w, "fsync f");
		goto out;
	}
	r = close(fd);
	fd = -1;
	if (r < 0) {
		r = crash_failed(w, "close f");
		goto out;
	}
	if (link(fpath, hpath) < 0) {
		r = crash_failed(w, "link f h");
		goto out;
	}
	if (crash_fsync_dir(w->dir) < 0) {
		r = crash_failed(w, "fsync dir");
		goto out;
	}
	r = set_ack(w, "link", n, SET_LIVE);
out:
	if (fd >= 0)
		close(fd);
	return r;
}

const struct crash_kind crash_kind_link = {
	.name = "link",
	.verify = link_verify,
	.step = link_step,
	.destroy = set_table_free,
};

/* ---- tree -------------------------------------------------------------------------- */

static const char *const tree_ops[] = { "build", "move", "rm" };
static const unsigned char tree_states[] = { SET_LIVE, SET_MOVED, SET_GONE };
#define TREE_MAX_ENTRIES 64

struct tree_entry {
	char rel[128]; /* "d0/d1/f2", relative to the tree's root */
	bool is_dir;
	uint64_t key;
	uint64_t size;
};

/* Append the entries of one directory level (parents before children). */
static void tree_shape_level(uint64_t *rng, uint64_t key, const char *prefix, int level, int depth,
			     struct tree_entry *out, size_t *n)
{
	unsigned files = 1 + (unsigned)((*rng = crash_mix(*rng)) % 3);
	unsigned dirs = level < depth ? 1 + (unsigned)((*rng = crash_mix(*rng)) % 2) : 0;

	for (unsigned i = 0; i < files && *n < TREE_MAX_ENTRIES; i++) {
		struct tree_entry *e = &out[(*n)++];

		snprintf(e->rel, sizeof(e->rel), "%s%sf%u", prefix, *prefix ? "/" : "", i);
		e->is_dir = false;
		e->key = crash_mix(key ^ crash_fnv(CRASH_FNV_INIT, e->rel, strlen(e->rel)));
		e->size = (*rng = crash_mix(*rng)) % 8193;
	}
	for (unsigned i = 0; i < dirs && *n < TREE_MAX_ENTRIES; i++) {
		struct tree_entry *e = &out[(*n)++];
		char sub[128];

		snprintf(e->rel, sizeof(e->rel), "%s%sd%u", prefix, *prefix ? "/" : "", i);
		e->is_dir = true;
		snprintf(sub, sizeof(sub), "%s", e->rel);
		tree_shape_level(rng, key, sub, level + 1, depth, out, n);
	}
}

/* The seeded shape of tree n. */
static size_t tree_shape(const struct crash_writer *w, unsigned long long n, struct tree_entry *out)
{
	uint64_t key = crash_key(w, n), rng = key;
	int depth = 1 + (int)(crash_mix(key ^ 7) % 3);
	size_t count = 0;

	tree_shape_level(&rng, key, "", 1, depth, out, &count);
	return count;
}

/* Count entries under path (recursively); -1 on error. */
static long tree_count(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	long count = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char sub[4400];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		count++;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		struct stat sb;
		bool is_dir = e->d_type == DT_DIR ||
			      (e->d_type == DT_UNKNOWN && lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode));
		if (is_dir) {
			long c = tree_count(sub);
			if (c < 0) {
				closedir(d);
				return -1;
			}
			count += c;
		}
	}
	closedir(d);
	return count;
}

/* Does root hold exactly tree n? Reports each difference when report. */
static bool tree_matches(struct crash_writer *w, const char *root, unsigned long long n, bool report)
{
	struct tree_entry shape[TREE_MAX_ENTRIES];
	size_t count = tree_shape(w, n, shape);
	bool ok = true;

	for (size_t i = 0; i < count; i++) {
		char path[4400], why[256] = "";
		struct stat sb;

		crash_join(path, sizeof(path), root, shape[i].rel);
		if (shape[i].is_dir) {
			if (lstat(path, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
				if (report)
					crash_lost(w, "%s: directory missing", path);
				ok = false;
			}
			continue;
		}
		int r = crash_file_compare(path, shape[i].key, shape[i].size, &sb, why, sizeof(why));
		if (r != CRASH_MATCH) {
			if (report)
				crash_lost(w, "%s: %s", path, r == -ENOENT ? "missing" : why);
			ok = false;
		}
	}
	long actual = tree_count(root);
	if (actual != (long)count) {
		if (report)
			crash_lost(w, "%s holds %ld entries, want %zu", root, actual, count);
		ok = false;
	}
	return ok;
}

/* Names allowed in a tree directory. */
static bool tree_name_allowed(struct crash_writer *w, size_t prefix, unsigned long long n)
{
	struct set_state_table *t = w->state;
	unsigned char s = n < t->cap ? t->state[n] : SET_NONE;

	if (t->pending_op[0] && t->pending_n == n)
		return true;
	return prefix == 0 ? s == SET_LIVE : s == SET_MOVED;
}

/* Verify one tree by its state and the operation in flight. */
static void tree_verify_one(struct crash_writer *w, unsigned long long n)
{
	struct set_state_table *t = w->state;
	char name[64], built[4200], moved[4200];
	struct stat sb;

	snprintf(name, sizeof(name), "tree-%llu", n);
	crash_path(w, name, built, sizeof(built));
	snprintf(name, sizeof(name), "moved-%llu", n);
	crash_path(w, name, moved, sizeof(moved));
	bool b = lstat(built, &sb) == 0, m = lstat(moved, &sb) == 0;

	w->objects++;
	if (set_pending_is(t, "build", n) || set_pending_is(t, "rm", n))
		return; /* anything from nothing to complete */
	if (set_pending_is(t, "move", n)) {
		if (b == m)
			crash_lost(w, "tree %llu: %s during its rename", n, b ? "both names" : "no name");
		else
			tree_matches(w, b ? built : moved, n, true);
		return;
	}
	switch (t->state[n]) {
	case SET_LIVE:
		if (m)
			crash_lost(w, "moved-%llu exists before its rename", n);
		if (!b)
			crash_lost(w, "tree-%llu missing", n);
		else
			tree_matches(w, built, n, true);
		break;
	case SET_MOVED:
		if (b)
			crash_lost(w, "tree-%llu still exists after its rename", n);
		if (!m)
			crash_lost(w, "moved-%llu missing", n);
		else
			tree_matches(w, moved, n, true);
		break;
	default:
		if (b || m)
			crash_lost(w, "tree %llu exists after its removal was acknowledged", n);
	}
}

/* rm -r both names of tree n, fsync, acknowledge. */
static int tree_remove(struct crash_writer *w, unsigned long long n)
{
	char name[64], path[4200];
	int r = set_try(w, "rm", n, 0);

	if (r < 0)
		return r;
	for (int i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), i ? "moved-%llu" : "tree-%llu", n);
		crash_path(w, name, path, sizeof(path));
		if (crash_remove_tree(path) < 0)
			return crash_failed(w, "rm -r tree");
	}
	if (crash_fsync_dir(w->dir) < 0)
		return crash_failed(w, "fsync dir");
	return set_ack(w, "rm", n, SET_GONE);
}

/* Rename tree-<n> to moved-<n> (if not done yet), fsync, acknowledge. */
static int tree_move(struct crash_writer *w, unsigned long long n)
{
	char name[64], from[4200], to[4200];
	int r = set_try(w, "move", n, 0);

	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "tree-%llu", n);
	crash_path(w, name, from, sizeof(from));
	snprintf(name, sizeof(name), "moved-%llu", n);
	crash_path(w, name, to, sizeof(to));
	if (rename(from, to) < 0 && errno != ENOENT)
		return crash_failed(w, "rename tree");
	if (crash_fsync_dir(w->dir) < 0)
		return crash_failed(w, "fsync dir");
	return set_ack(w, "move", n, SET_MOVED);
}

/* Verify every tree; resolve the in-flight operation. */
static int tree_verify(struct crash_writer *w, bool resolve)
{
	struct set_state_table *t;
	int r = set_scan(w, tree_ops, tree_states, 3);

	if (r < 0)
		return r;
	t = w->state;
	r = set_check_names(w, (const char *const[]){ "tree-", "moved-" }, 2, tree_name_allowed);
	if (r < 0)
		return r;
	for (unsigned long long n = 0; n < t->next; n++)
		if (t->state[n] != SET_NONE || (t->pending_op[0] && t->pending_n == n))
			tree_verify_one(w, n);
	if (!resolve || !t->pending_op[0])
		return 0;
	unsigned long long n = t->pending_n;
	bool move = strcmp(t->pending_op, "move") == 0;
	r = set_abandon(w);
	if (r < 0)
		return r;
	return move ? tree_move(w, n) : tree_remove(w, n);
}

/* Build tree n: directories and fsynced files, then every directory fsynced bottom-up. */
static int tree_build(struct crash_writer *w, unsigned long long n)
{
	struct tree_entry shape[TREE_MAX_ENTRIES];
	size_t count = tree_shape(w, n, shape);
	char name[64], root[4200], path[4400];
	int r = set_try(w, "build", n, 0);

	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "tree-%llu", n);
	crash_path(w, name, root, sizeof(root));
	if (mkdir(root, 0755) < 0)
		return crash_failed(w, "mkdir tree");
	for (size_t i = 0; i < count; i++) {
		crash_join(path, sizeof(path), root, shape[i].rel);
		if (shape[i].is_dir) {
			if (mkdir(path, 0755) < 0)
				return crash_failed(w, "mkdir tree dir");
			continue;
		}
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			return crash_failed(w, "create tree file");
		if (crash_write_content(w, fd, shape[i].key, shape[i].size, 4096) < 0 || fsync(fd) < 0) {
			r = crash_failed(w, "write+fsync tree file");
			close(fd);
			return r;
		}
		if (close(fd) < 0)
			return crash_failed(w, "close tree file");
	}
	for (size_t i = count; i-- > 0;) {
		if (!shape[i].is_dir)
			continue;
		crash_join(path, sizeof(path), root, shape[i].rel);
		if (crash_fsync_dir(path) < 0)
			return crash_failed(w, "fsync tree dir");
	}
	if (crash_fsync_dir(root) < 0 || crash_fsync_dir(w->dir) < 0)
		return crash_failed(w, "fsync tree root");
	return set_ack(w, "build", n, SET_LIVE);
}

/* Remove old moved trees, move older built ones, else build a new one. */
static int tree_step(struct crash_writer *w)
{
	struct set_state_table *t = w->state;

	for (unsigned long long n = 0; n + 5 < t->next; n++)
		if (t->state[n] == SET_MOVED)
			return tree_remove(w, n);
	for (unsigned long long n = 0; n + 3 < t->next; n++)
		if (t->state[n] == SET_LIVE)
			return tree_move(w, n);
	unsigned long long n = t->next++;
	if (set_reserve(t, n) < 0)
		return -ENOMEM;
	return tree_build(w, n);
}

const struct crash_kind crash_kind_tree = {
	.name = "tree",
	.verify = tree_verify,
	.step = tree_step,
	.destroy = set_table_free,
};
