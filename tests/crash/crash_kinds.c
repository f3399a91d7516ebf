/*
 * crash_kinds.c — the single-file crashwriter kinds:
 *
 *   counter  visits.txt holds a 20-digit counter; each operation adds one and
 *            fsyncs. variant 0 rewrites in place with pwrite, variant 1 the
 *            way most apps do it (open O_TRUNC, write). After a kill the file
 *            holds the acknowledged value or the one in flight (variant 1:
 *            or is empty, the truncate of the in-flight operation, which
 *            the resolution undoes by writing the acknowledged value back).
 *   append   journal: 64-byte records appended with O_APPEND, 1..8 per
 *            operation, then fdatasync. After a kill: every acknowledged
 *            record exact, at most the in-flight records beyond them.
 *   rename   current: replaced atomically (write current.tmp, fsync, rename,
 *            fsync the directory). After a kill: the acknowledged version or
 *            the in-flight one, complete — never missing, never torn.
 *   trunc    t: ftruncate to a random size (shrink or grow), pwrite a block,
 *            fsync. After a kill: the acknowledged (size, hash) or one of the
 *            in-flight operation's intermediate states, which its "try" line
 *            lists — or the pwrite cut at a page boundary: the kernel sends a
 *            write that starts in a page it does not cache as one request per
 *            such piece, so an unsynced write may be torn there (as on ext4).
 *
 * Each verify() adopts what it found (a "base" line) so the next run goes on
 * from the disk's state.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash.h"

#define COUNTER_LEN 21 /* 20 digits and a newline */
#define APPEND_RECORD 64
#define APPEND_MAX_BATCH 8
#define RENAME_MAX_SIZE 65536
#define TRUNC_MAX_SIZE (1024 * 1024)
#define TRUNC_MAX_WRITE 4096

/* The protocol state every single-file kind reads from the log. */
struct crash_pending {
	bool pending;
	unsigned long long tried; /* "try N" of the pending operation */
	unsigned long long acked;
};

/* Scan "try N" / "ack N" / "base N" / "run" lines; -EPROTO on a broken protocol. */
static int crash_scan_numbers(struct crash_writer *w, struct crash_pending *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < w->nlines; i++) {
		const char *l = w->lines[i];
		unsigned long long v;

		if (sscanf(l, "try %llu", &v) == 1) {
			if (p->pending)
				return crash_log_corrupt(w, i);
			p->pending = true;
			p->tried = v;
		} else if (sscanf(l, "ack %llu", &v) == 1) {
			if (!p->pending || v != p->tried)
				return crash_log_corrupt(w, i);
			p->pending = false;
			p->acked = v;
		} else if (sscanf(l, "base %llu", &v) == 1) {
			p->pending = false;
			p->acked = v;
		} else if (strcmp(l, "run") != 0) {
			return crash_log_corrupt(w, i);
		}
	}
	return 0;
}

/* ---- counter ------------------------------------------------------------------ */

struct counter_state {
	unsigned long long value;
};

/* Write value to visits.txt and fsync it (the resolution of an empty file). */
static int counter_restore(struct crash_writer *w, const char *path, unsigned long long value)
{
	char text[COUNTER_LEN + 1];
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return crash_failed(w, "open visits.txt to restore it");
	snprintf(text, sizeof(text), "%020llu\n", value);
	if (crash_pwrite_all(fd, text, COUNTER_LEN, 0) < 0 || fsync(fd) < 0)
		r = crash_failed(w, "restore visits.txt");
	if (close(fd) < 0 && r == 0)
		r = crash_failed(w, "close visits.txt");
	return r;
}

/* Verify visits.txt against the log; adopt its value (restoring it if the
 * in-flight operation left the file empty). */
static int counter_verify(struct crash_writer *w, bool resolve)
{
	struct counter_state *st = calloc(1, sizeof(*st));
	struct crash_pending p;
	char path[4200];
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if (!st)
		return -ENOMEM;
	w->state = st;
	r = crash_scan_numbers(w, &p);
	if (r < 0)
		return r;
	crash_path(w, "visits.txt", path, sizeof(path));
	r = crash_read_file(path, &data, &len);
	w->objects++;
	if (r == -ENOENT) {
		if (p.acked != 0)
			crash_lost(w, "visits.txt missing, acknowledged %llu", p.acked);
		st->value = p.acked;
	} else if (r < 0) {
		errno = -r;
		return crash_failed(w, "read visits.txt");
	} else if (len == 0) {
		/* Empty: nothing acknowledged yet, or (variant 1) the in-flight
		 * operation's O_TRUNC without its write. */
		if (p.acked != 0 && !(p.pending && w->variant == 1))
			crash_lost(w, "visits.txt empty, acknowledged %llu", p.acked);
		st->value = p.acked;
	} else {
		char text[COUNTER_LEN + 1] = "";
		char *end = NULL;
		unsigned long long v = 0;

		if (len == COUNTER_LEN && data[COUNTER_LEN - 1] == '\n') {
			memcpy(text, data, COUNTER_LEN - 1);
			v = strtoull(text, &end, 10);
		}
		if (!end || *end != '\0' || end == text)
			crash_lost(w, "visits.txt holds %zu bytes of garbage, acknowledged %llu", len,
				   p.acked);
		else if (v != p.acked && !(p.pending && v == p.tried))
			crash_lost(w, "visits.txt holds %llu, acknowledged %llu%s", v, p.acked,
				   p.pending ? " (one in flight)" : "");
		st->value = v >= p.acked ? v : p.acked;
	}
	free(data);
	if (!resolve)
		return 0;
	/* Undo an in-flight O_TRUNC that left the file empty: the directory
	 * must hold what "base" says before the run goes on, or a kill before
	 * the run's first operation would find an empty file that the log no
	 * longer explains. */
	if (r == 0 && len == 0 && st->value > 0) {
		r = counter_restore(w, path, st->value);
		if (r < 0)
			return r;
	}
	r = crash_log_put(w, true, "base %llu", st->value);
	return r < 0 ? (errno = -r, crash_failed(w, "log")) : 0;
}

/* Add one to the counter, fsync, acknowledge. */
static int counter_step(struct crash_writer *w)
{
	struct counter_state *st = w->state;
	unsigned long long next = st->value + 1;
	char path[4200], text[COUNTER_LEN + 1], old[COUNTER_LEN + 1];
	int flags = O_RDWR | O_CREAT | O_CLOEXEC | (w->variant == 1 ? O_TRUNC : 0);
	int fd = -1, r;

	crash_path(w, "visits.txt", path, sizeof(path));
	r = crash_log_put(w, false, "try %llu", next);
	if (r < 0) {
		errno = -r;
		return crash_failed(w, "log");
	}
	fd = open(path, flags, 0644);
	if (fd < 0)
		return crash_failed(w, "open visits.txt");
	if (w->variant == 0 && st->value > 0) {
		/* The daemon is alive here: what we read must be what we wrote. */
		ssize_t n = pread(fd, old, COUNTER_LEN, 0);

		if (n < 0) {
			r = crash_failed(w, "pread visits.txt");
			goto out;
		}
		snprintf(text, sizeof(text), "%020llu\n", st->value);
		if (n != COUNTER_LEN || memcmp(old, text, COUNTER_LEN) != 0) {
			fprintf(stderr, "crashwriter counter %s: read back %zd bytes, not %llu\n",
				w->dir, n, st->value);
			errno = EILSEQ;
			r = crash_failed(w, "read-back of visits.txt");
			goto out;
		}
	}
	snprintf(text, sizeof(text), "%020llu\n", next);
	if (crash_pwrite_all(fd, text, COUNTER_LEN, 0) < 0) {
		r = crash_failed(w, "pwrite visits.txt");
		goto out;
	}
	if (fsync(fd) < 0) {
		r = crash_failed(w, "fsync visits.txt");
		goto out;
	}
	r = close(fd);
	fd = -1;
	if (r < 0) {
		r = crash_failed(w, "close visits.txt");
		goto out;
	}
	r = crash_log_put(w, true, "ack %llu", next);
	if (r < 0) {
		errno = -r;
		r = crash_failed(w, "log");
		goto out;
	}
	st->value = next;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/* Free the counter state. */
static void crash_state_free(struct crash_writer *w)
{
	free(w->state);
	w->state = NULL;
}

const struct crash_kind crash_kind_counter = {
	.name = "counter",
	.verify = counter_verify,
	.step = counter_step,
	.destroy = crash_state_free,
};

/* ---- append ------------------------------------------------------------------------ */

struct append_state {
	unsigned long long count;
	int fd;
};

/* Record i of the journal: "%08llu " then letters then '\n'. */
static void append_record(const struct crash_writer *w, unsigned long long i,
			  char rec[APPEND_RECORD])
{
	uint64_t key = crash_key(w, i);

	snprintf(rec, 10, "%08llu ", i % 100000000ULL);
	for (unsigned j = 9; j < APPEND_RECORD - 1; j++)
		rec[j] = (char)('a' + crash_mix(key + j) % 26);
	rec[APPEND_RECORD - 1] = '\n';
}

/* Verify the journal: acknowledged records exact, at most the in-flight ones more. */
static int append_verify(struct crash_writer *w, bool resolve)
{
	struct append_state *st = calloc(1, sizeof(*st));
	struct crash_pending p;
	char path[4200], rec[APPEND_RECORD];
	uint8_t *data = NULL;
	size_t len = 0;
	unsigned long long m;
	int r;

	if (!st)
		return -ENOMEM;
	st->fd = -1;
	w->state = st;
	r = crash_scan_numbers(w, &p);
	if (r < 0)
		return r;
	crash_path(w, "journal", path, sizeof(path));
	r = crash_read_file(path, &data, &len);
	if (r < 0 && r != -ENOENT) {
		errno = -r;
		return crash_failed(w, "read journal");
	}
	m = len / APPEND_RECORD;
	if (len % APPEND_RECORD)
		crash_lost(w, "journal is %zu bytes: a torn record", len);
	for (unsigned long long i = 0; i < m; i++) {
		append_record(w, i, rec);
		w->objects++;
		if (memcmp(data + i * APPEND_RECORD, rec, APPEND_RECORD) != 0) {
			crash_lost(w, "journal record %llu (of %llu) is wrong", i, m);
			break;
		}
	}
	if (m < p.acked)
		crash_lost(w, "journal holds %llu records, %llu acknowledged", m, p.acked);
	else if (m > (p.pending ? p.tried : p.acked))
		crash_lost(w, "journal holds %llu records, only %llu acknowledged + in flight", m,
			   p.pending ? p.tried : p.acked);
	st->count = m;
	free(data);
	if (!resolve)
		return 0;
	if (len % APPEND_RECORD) {
		/* Cut the torn tail so the run can go on (the loss is already reported). */
		if (truncate(path, (off_t)(m * APPEND_RECORD)) < 0)
			return crash_failed(w, "truncate journal");
	}
	r = crash_log_put(w, true, "base %llu", st->count);
	return r < 0 ? (errno = -r, crash_failed(w, "log")) : 0;
}

/* Append 1..8 records, fdatasync, acknowledge. */
static int append_step(struct crash_writer *w)
{
	struct append_state *st = w->state;
	unsigned long long target = st->count + crash_rand(w, 1, APPEND_MAX_BATCH);
	char path[4200], rec[APPEND_RECORD];
	int r;

	r = crash_log_put(w, false, "try %llu", target);
	if (r < 0) {
		errno = -r;
		return crash_failed(w, "log");
	}
	if (st->fd < 0) {
		crash_path(w, "journal", path, sizeof(path));
		st->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (st->fd < 0)
			return crash_failed(w, "open journal");
	}
	for (unsigned long long i = st->count; i < target; i++) {
		append_record(w, i, rec);
		if (crash_write_all(st->fd, rec, APPEND_RECORD) < 0)
			return crash_failed(w, "write journal");
	}
	if (fdatasync(st->fd) < 0)
		return crash_failed(w, "fdatasync journal");
	r = crash_log_put(w, true, "ack %llu", target);
	if (r < 0) {
		errno = -r;
		return crash_failed(w, "log");
	}
	st->count = target;
	return 0;
}

/* Close the journal and free the state. */
static void append_destroy(struct crash_writer *w)
{
	struct append_state *st = w->state;

	if (st && st->fd >= 0)
		close(st->fd);
	crash_state_free(w);
}

const struct crash_kind crash_kind_append = {
	.name = "append",
	.verify = append_verify,
	.step = append_step,
	.destroy = append_destroy,
};

/* ---- rename ------------------------------------------------------------------------ */

struct rename_state {
	unsigned long long version;
};

/* Content key and size of version v of `current`. */
static uint64_t rename_key(const struct crash_writer *w, unsigned long long v, uint64_t *ret_size)
{
	uint64_t key = crash_key(w, v);

	*ret_size = 1 + crash_mix(key) % RENAME_MAX_SIZE;
	return key;
}

/* Verify `current`: the acknowledged version or the in-flight one, complete. */
static int rename_verify(struct crash_writer *w, bool resolve)
{
	struct rename_state *st = calloc(1, sizeof(*st));
	struct crash_pending p;
	char path[4200], tmp[4200], why[256] = "";
	struct stat sb;
	uint64_t key, size;
	int r;

	if (!st)
		return -ENOMEM;
	w->state = st;
	r = crash_scan_numbers(w, &p);
	if (r < 0)
		return r;
	crash_path(w, "current", path, sizeof(path));
	crash_path(w, "current.tmp", tmp, sizeof(tmp));
	w->objects++;
	st->version = p.acked;
	key = rename_key(w, p.acked, &size);
	r = crash_file_compare(path, key, size, &sb, why, sizeof(why));
	if (r == -ENOENT) {
		if (p.acked != 0)
			crash_lost(w, "current missing, version %llu acknowledged", p.acked);
	} else if (r < 0) {
		errno = -r;
		return crash_failed(w, "read current");
	} else if (p.acked == 0 || r != CRASH_MATCH) {
		char why2[256] = "";
		int r2 = -ENOENT;

		if (p.pending) {
			key = rename_key(w, p.tried, &size);
			r2 = crash_file_compare(path, key, size, &sb, why2, sizeof(why2));
		}
		if (r2 == CRASH_MATCH)
			st->version = p.tried;
		else
			crash_lost(w, "current is neither acknowledged version %llu (%s) nor in-flight %llu (%s)",
				   p.acked, p.acked ? why : "none", p.tried, p.pending ? why2 : "none");
	}
	if (!resolve)
		return 0;
	if (unlink(tmp) < 0 && errno != ENOENT)
		return crash_failed(w, "unlink current.tmp");
	if (crash_fsync_dir(w->dir) < 0)
		return crash_failed(w, "fsync dir");
	r = crash_log_put(w, true, "base %llu", st->version);
	return r < 0 ? (errno = -r, crash_failed(w, "log")) : 0;
}

/* Write the next version to current.tmp, fsync, rename over current, fsync the dir. */
static int rename_step(struct crash_writer *w)
{
	struct rename_state *st = w->state;
	unsigned long long next = st->version + 1;
	char path[4200], tmp[4200];
	uint64_t key, size;
	int fd = -1, r;

	crash_path(w, "current", path, sizeof(path));
	crash_path(w, "current.tmp", tmp, sizeof(tmp));
	key = rename_key(w, next, &size);
	r = crash_log_put(w, false, "try %llu", next);
	if (r < 0) {
		errno = -r;
		return crash_failed(w, "log");
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return crash_failed(w, "open current.tmp");
	if (crash_write_content(w, fd, key, size, 16384) < 0) {
		r = crash_failed(w, "write current.tmp");
		goto out;
	}
	if (fsync(fd) < 0) {
		r = crash_failed(w, "fsync current.tmp");
		goto out;
	}
	r = close(fd);
	fd = -1;
	if (r < 0) {
		r = crash_failed(w, "close current.tmp");
		goto out;
	}
	if (rename(tmp, path) < 0) {
		r = crash_failed(w, "rename current.tmp current");
		goto out;
	}
	if (crash_fsync_dir(w->dir) < 0) {
		r = crash_failed(w, "fsync dir");
		goto out;
	}
	r = crash_log_put(w, true, "ack %llu", next);
	if (r < 0) {
		errno = -r;
		r = crash_failed(w, "log");
		goto out;
	}
	st->version = next;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

const struct crash_kind crash_kind_rename = {
	.name = "rename",
	.verify = rename_verify,
	.step = rename_step,
	.destroy = crash_state_free,
};

/* ---- trunc ------------------------------------------------------------------------- */

#define TRUNC_STATES 3

struct trunc_state {
	uint8_t *data; /* the model: what t holds */
	size_t size;
	bool exists;
	unsigned long long ops; /* try lines so far: names the content of each write */
	int fd;
	uint8_t *replay[2]; /* verification's replay buffers */
};

struct trunc_digest {
	bool exists;
	unsigned long long size;
	uint64_t hash;
};

/* Digest of the first size bytes of data. */
static struct trunc_digest trunc_digest_of(const uint8_t *data, size_t size)
{
	struct trunc_digest d = { true, size, crash_fnv(CRASH_FNV_INIT, data, size) };

	return d;
}

/* Parse "S H" pairs from text into out (up to max); returns how many. */
static int trunc_parse_states(const char *text, struct trunc_digest *out, int max)
{
	int n = 0, used = 0;
	unsigned long long s;
	uint64_t h;

	while (n < max && sscanf(text, " %llu %" SCNx64 "%n", &s, &h, &used) == 2) {
		out[n].exists = true;
		out[n].size = s;
		out[n].hash = h;
		n++;
		text += used;
	}
	return n;
}

/* The parameters of one trunc operation, as its "try" line records them. */
struct trunc_params {
	unsigned long long n;
	size_t newsize, off, len;
};

/* Apply operation p to (data, size): the ftruncate, and the pwrite if full. */
static void trunc_apply(const struct crash_writer *w, const struct trunc_params *p, uint8_t *data,
			size_t *size, bool full)
{
	if (p->newsize > *size)
		memset(data + *size, 0, p->newsize - *size);
	*size = p->newsize;
	if (!full)
		return;
	if (p->off > *size)
		memset(data + *size, 0, p->off - *size);
	crash_fill(crash_key(w, p->n), 0, data + p->off, p->len);
	if (p->off + p->len > *size)
		*size = p->off + p->len;
}

/* Replays the log to rebuild every state, for a precise report on a mismatch. */
struct trunc_replay {
	bool valid;
	uint8_t *data, *tmp;
	size_t size;
	bool pending;
	struct trunc_params p;
};

static bool trunc_split_matches(const struct crash_writer *w, struct trunc_replay *rp,
				const struct trunc_digest *found);

/* Follow one log line; base lines pick the state the disk was found in. */
static void trunc_replay_line(const struct crash_writer *w, struct trunc_replay *rp, const char *l)
{
	const char *params = strstr(l, " p ");
	unsigned long long s = 0;
	uint64_t h = 0;

	if (!rp->valid)
		return;
	if (strncmp(l, "try ", 4) == 0) {
		rp->pending = params && sscanf(l, "try %llu", &rp->p.n) == 1 &&
			      sscanf(params, " p %zu %zu %zu", &rp->p.newsize, &rp->p.off, &rp->p.len) == 3;
		rp->valid = rp->pending;
	} else if (strncmp(l, "ack ", 4) == 0 && rp->pending) {
		trunc_apply(w, &rp->p, rp->data, &rp->size, true);
		rp->pending = false;
	} else if (strcmp(l, "base absent") == 0) {
		rp->size = 0;
		rp->pending = false;
	} else if (sscanf(l, "base %llu %" SCNx64, &s, &h) == 2) {
		bool full = false;
		int k;

		for (k = 0; k < 3; k++) {
			size_t size = rp->size;

			memcpy(rp->tmp, rp->data, TRUNC_MAX_SIZE + 2 * TRUNC_MAX_WRITE);
			if (k > 0 && !rp->pending)
				break;
			if (k > 0)
				trunc_apply(w, &rp->p, rp->tmp, &size, full = k == 2);
			if (size == s && crash_fnv(CRASH_FNV_INIT, rp->tmp, size) == h) {
				memcpy(rp->data, rp->tmp, TRUNC_MAX_SIZE + 2 * TRUNC_MAX_WRITE);
				rp->size = size;
				break;
			}
		}
		if (k == 3 && rp->pending) {
			/* A torn in-flight pwrite that verification accepted: keep
			 * replaying from that state (trunc_split_matches leaves it
			 * in tmp when it matches). */
			struct trunc_digest found = { true, (size_t)s, h };
			if (trunc_split_matches(w, rp, &found)) {
				memcpy(rp->data, rp->tmp, TRUNC_MAX_SIZE + 2 * TRUNC_MAX_WRITE);
				rp->size = (size_t)s;
				k = 1;
			}
		}
		rp->valid = k < 3 && (k == 0 || rp->pending);
		rp->pending = false;
	}
}

/* The kernel splits a write that starts inside a page it does not hold at
 * that page's end (fuse_fill_write_pages), so the in-flight pwrite may have
 * reached the store as several requests and a commit may have landed between
 * them: does found equal the state after ftruncate plus the pwrite up to one
 * of the page boundaries inside it? */
static bool trunc_split_matches(const struct crash_writer *w, struct trunc_replay *rp,
				const struct trunc_digest *found)
{
	const size_t page = 4096;

	if (!rp->valid || !rp->pending)
		return false;
	for (size_t cut = (rp->p.off / page + 1) * page; cut < rp->p.off + rp->p.len; cut += page) {
		struct trunc_params part = rp->p;
		size_t size = rp->size;

		part.len = cut - rp->p.off;
		memcpy(rp->tmp, rp->data, TRUNC_MAX_SIZE + 2 * TRUNC_MAX_WRITE);
		trunc_apply(w, &part, rp->tmp, &size, true);
		if (size == found->size && crash_fnv(CRASH_FNV_INIT, rp->tmp, size) == found->hash)
			return true;
	}
	return false;
}

/* Where found differs from want: "bytes [a, b] differ (n of them)". */
static void trunc_describe_diff(const uint8_t *found, size_t flen, const uint8_t *want, size_t wlen,
				char *out, size_t size)
{
	size_t first = SIZE_MAX, last = 0, count = 0, common = flen < wlen ? flen : wlen;

	for (size_t i = 0; i < common; i++) {
		if (found[i] != want[i]) {
			if (first == SIZE_MAX)
				first = i;
			last = i;
			count++;
		}
	}
	if (first == SIZE_MAX)
		snprintf(out, size, "same first %zu bytes, sizes %zu/%zu", common, flen, wlen);
	else
		snprintf(out, size, "bytes [%zu, %zu] differ (%zu of them; found byte %02x, wanted %02x), sizes %zu/%zu",
			 first, last, count, found[first], want[first], flen, wlen);
}

/* On a mismatch, say how the file differs from each state it could be in. */
static void trunc_report(struct crash_writer *w, struct trunc_replay *rp, const uint8_t *found,
			 size_t flen)
{
	static const char *const names[] = { "acknowledged state", "in-flight after ftruncate",
					      "in-flight after pwrite" };
	char text[256];

	if (!rp->valid) {
		fprintf(stderr, "  (log too old to replay the states)\n");
		return;
	}
	for (int k = 0; k < 3 && (k == 0 || rp->pending); k++) {
		size_t size = rp->size;

		memcpy(rp->tmp, rp->data, TRUNC_MAX_SIZE + 2 * TRUNC_MAX_WRITE);
		if (k > 0)
			trunc_apply(w, &rp->p, rp->tmp, &size, k == 2);
		trunc_describe_diff(found, flen, rp->tmp, size, text, sizeof(text));
		fprintf(stderr, "  vs %s: %s\n", names[k], text);
	}
	if (rp->pending)
		fprintf(stderr, "  in-flight op %llu: ftruncate %zu, pwrite %zu bytes at %zu\n", rp->p.n,
			rp->p.newsize, rp->p.len, rp->p.off);
}

/* Verify t: the acknowledged digest or one the in-flight operation passes through. */
static int trunc_verify(struct crash_writer *w, bool resolve)
{
	struct trunc_state *st = calloc(1, sizeof(*st));
	struct trunc_digest acked = { false, 0, 0 }, tried[TRUNC_STATES], found;
	int ntried = 0;
	bool pending = false;
	char path[4200];
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if (!st)
		return -ENOMEM;
	st->fd = -1;
	w->state = st;
	st->data = calloc(1, TRUNC_MAX_SIZE + 2 * TRUNC_MAX_WRITE);
	struct trunc_replay rp = { .valid = true };
	/* Owned by the state (freed by trunc_destroy on every path). */
	rp.data = st->replay[0] = calloc(1, TRUNC_MAX_SIZE + 2 * TRUNC_MAX_WRITE);
	rp.tmp = st->replay[1] = calloc(1, TRUNC_MAX_SIZE + 2 * TRUNC_MAX_WRITE);
	if (!st->data || !rp.data || !rp.tmp)
		return -ENOMEM;
	for (size_t i = 0; i < w->nlines; i++) {
		const char *l = w->lines[i];
		unsigned long long n;
		int used = 0;

		trunc_replay_line(w, &rp, l);
		if (sscanf(l, "try %llu%n", &n, &used) == 1) {
			if (pending)
				return crash_log_corrupt(w, i);
			pending = true;
			ntried = trunc_parse_states(l + used, tried, TRUNC_STATES);
			st->ops = n + 1;
		} else if (strncmp(l, "ack ", 4) == 0) {
			if (!pending || trunc_parse_states(l + 3, &acked, 1) != 1)
				return crash_log_corrupt(w, i);
			pending = false;
		} else if (strcmp(l, "base absent") == 0) {
			acked.exists = false;
			pending = false;
		} else if (strncmp(l, "base ", 5) == 0) {
			if (trunc_parse_states(l + 4, &acked, 1) != 1)
				return crash_log_corrupt(w, i);
			pending = false;
		} else if (strcmp(l, "run") != 0) {
			return crash_log_corrupt(w, i);
		}
	}
	crash_path(w, "t", path, sizeof(path));
	r = crash_read_file(path, &data, &len);
	w->objects++;
	if (r == -ENOENT) {
		found.exists = false;
		if (acked.exists)
			crash_lost(w, "t missing, %llu bytes acknowledged", acked.size);
	} else if (r < 0) {
		errno = -r;
		return crash_failed(w, "read t");
	} else {
		bool ok = false;

		found = trunc_digest_of(data, len);
		ok = acked.exists && acked.size == found.size && acked.hash == found.hash;
		for (int i = 0; pending && i < ntried && !ok; i++)
			ok = tried[i].size == found.size && tried[i].hash == found.hash;
		if (!ok && pending)
			ok = trunc_split_matches(w, &rp, &found);
		if (!ok) {
			crash_lost(w, "t is %llu bytes (hash %016" PRIx64 "), acknowledged %s%llu bytes "
				   "(hash %016" PRIx64 ")%s", found.size, found.hash,
				   acked.exists ? "" : "nothing, ", acked.size, acked.hash,
				   pending ? " or an in-flight state" : "");
			trunc_report(w, &rp, data, len);
		}
		if (len > TRUNC_MAX_SIZE + TRUNC_MAX_WRITE)
			len = TRUNC_MAX_SIZE + TRUNC_MAX_WRITE; /* reported above; keep the model bounded */
		memcpy(st->data, data, len);
		st->size = len;
		found = trunc_digest_of(st->data, st->size);
	}
	st->exists = found.exists;
	free(data);
	if (!resolve)
		return 0;
	if (st->exists)
		r = crash_log_put(w, true, "base %llu %016" PRIx64, found.size, found.hash);
	else
		r = crash_log_put(w, true, "base absent");
	return r < 0 ? (errno = -r, crash_failed(w, "log")) : 0;
}

/* ftruncate to a random size, pwrite a block, fsync, acknowledge. */
static int trunc_step(struct crash_writer *w)
{
	struct trunc_state *st = w->state;
	struct trunc_digest s0, s1, s2;
	size_t newsize = (size_t)crash_rand(w, 0, TRUNC_MAX_SIZE);
	size_t off = (size_t)crash_rand(w, 0, newsize + TRUNC_MAX_WRITE);
	size_t len = (size_t)crash_rand(w, 1, TRUNC_MAX_WRITE);
	uint64_t key = crash_key(w, st->ops);
	size_t old = st->size;
	char path[4200];
	int r;

	s0 = trunc_digest_of(st->data, st->exists ? st->size : 0);
	/* The model after ftruncate, then after pwrite. */
	if (newsize > old)
		memset(st->data + old, 0, newsize - old);
	s1 = trunc_digest_of(st->data, newsize);
	if (off > newsize)
		memset(st->data + newsize, 0, off - newsize);
	crash_fill(key, 0, st->data + off, len);
	st->size = off + len > newsize ? off + len : newsize;
	s2 = trunc_digest_of(st->data, st->size);
	r = crash_log_put(w, false, "try %llu %llu %016" PRIx64 " %llu %016" PRIx64 " %llu %016" PRIx64
			  " p %zu %zu %zu", st->ops, s0.size, s0.hash, s1.size, s1.hash, s2.size, s2.hash,
			  newsize, off, len);
	if (r < 0) {
		errno = -r;
		return crash_failed(w, "log");
	}
	st->ops++;
	if (st->fd < 0) {
		crash_path(w, "t", path, sizeof(path));
		st->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (st->fd < 0)
			return crash_failed(w, "open t");
		st->exists = true;
	}
	if (ftruncate(st->fd, (off_t)newsize) < 0)
		return crash_failed(w, "ftruncate t");
	if (crash_pwrite_all(st->fd, st->data + off, len, (off_t)off) < 0)
		return crash_failed(w, "pwrite t");
	if (fsync(st->fd) < 0)
		return crash_failed(w, "fsync t");
	r = crash_log_put(w, true, "ack %llu %016" PRIx64, s2.size, s2.hash);
	if (r < 0) {
		errno = -r;
		return crash_failed(w, "log");
	}
	return 0;
}

/* Close t and free the model. */
static void trunc_destroy(struct crash_writer *w)
{
	struct trunc_state *st = w->state;

	if (st) {
		if (st->fd >= 0)
			close(st->fd);
		free(st->data);
		free(st->replay[0]);
		free(st->replay[1]);
	}
	crash_state_free(w);
}

const struct crash_kind crash_kind_trunc = {
	.name = "trunc",
	.verify = trunc_verify,
	.step = trunc_step,
	.destroy = trunc_destroy,
};
