/*
 * main_offline.c — the claimfsd commands that work on a store no daemon
 * serves (--check, --compact) or next to a serving one (--backup): each
 * opens what it needs, reports on stdout/stderr and returns an exit code.
 */
#include "main_options.h"

#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void main_check_report(void *ud, const char *problem, bool repaired)
{
	(void)ud;
	printf("%s%s\n", problem, repaired ? " [repaired]" : "");
}

/* claimfsd --check: exit 0 consistent, 1 problems, 2 could not check. */
int main_check(const struct main_options *o)
{
	struct store_check_result result = { 0 };
	struct store *store = NULL;
	struct stat st;
	int r;

	if (stat(o->store_path, &st) < 0) {
		fprintf(stderr, "claimfsd: cannot check %s: %s\n", o->store_path, strerror(errno));
		return 2;
	}
	r = store_open(o->store_path, STORE_OPEN_NO_RECLAIM, &store);
	if (r < 0) {
		fprintf(stderr, "claimfsd: cannot check %s: %s\n", o->store_path,
			r == -EBUSY ? "the store is locked: stop the daemon first" : strerror(-r));
		return 2;
	}
	r = store_check(store, o->repair, main_check_report, NULL, &result);
	store_close(store);
	if (r < 0) {
		fprintf(stderr, "claimfsd: check of %s failed: %s\n", o->store_path, strerror(-r));
		return 2;
	}
	printf("%s: %u problem(s) found, %u repaired, %u note(s)\n", o->store_path, result.problems,
	       result.repaired, result.notes);
	return result.problems > result.repaired ? 1 : 0;
}

/* --backup progress on stderr: a line per tenth of the pages, and the last. */
static void main_backup_progress(void *ud, uint64_t done, uint64_t total)
{
	unsigned *last_tenth = ud;
	unsigned tenth = total > 0 ? (unsigned)(done * 10 / total) : 10;

	if (tenth == *last_tenth)
		return;
	*last_tenth = tenth;
	fprintf(stderr, "claimfsd: backup: %" PRIu64 " of %" PRIu64 " pages (%u%%)\n", done, total,
		tenth * 10);
}

/* Send the file at path to stdout. */
static int main_copy_to_stdout(const char *path)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
			r = -EIO;
			break;
		}
	if (n < 0)
		r = -errno;
	close(fd);
	if (fflush(stdout) != 0 && r == 0)
		r = -EIO;
	return r;
}

/* claimfsd --backup FILE|-: exit 0 done, 1 the copy failed its check, 2 error. */
int main_backup(const struct main_options *o)
{
	struct store_check_result check = { 0 };
	unsigned last_tenth = UINT_MAX;
	struct store_backup_options opts = { .progress = main_backup_progress,
					     .report = main_check_report, .ud = &last_tenth };
	bool to_stdout = strcmp(o->backup, "-") == 0;
	char dest[PATH_MAX];
	int r;

	/* stdout needs a whole checked file first: SQLite writes pages out of order. */
	if (snprintf(dest, sizeof(dest), to_stdout ? "%s.backup-%ld" : "%s",
		     to_stdout ? o->store_path : o->backup, (long)getpid()) >= (int)sizeof(dest)) {
		fprintf(stderr, "claimfsd: --backup: the path is too long\n");
		return 2;
	}
	r = store_backup(o->store_path, dest, &opts, &check);
	if (r == 0 && to_stdout) {
		r = main_copy_to_stdout(dest);
		unlink(dest);
	}
	if (r < 0) {
		fprintf(stderr, "claimfsd: backup of %s failed: %s\n", o->store_path,
			r == -EUCLEAN ? "the copy did not pass --check (problems above)" : strerror(-r));
		return r == -EUCLEAN ? 1 : 2;
	}
	fprintf(stderr, "claimfsd: backup of %s written to %s; --check of the copy: %u problem(s), "
			"%u note(s)\n",
		o->store_path, to_stdout ? "stdout" : o->backup, check.problems, check.notes);
	return 0;
}

/* claimfsd --compact: exit 0 compacted, 1 failed (the store is as it
 * was: VACUUM is one transaction), 2 could not open it. */
int main_compact(const struct main_options *o)
{
	uint64_t before = 0, after = 0;
	int r = store_compact_file(o->store_path, &before, &after);

	if (r == 0) {
		printf("%s: %llu bytes before, %llu after (store file and WAL)\n", o->store_path,
		       (unsigned long long)before, (unsigned long long)after);
		return 0;
	}
	fprintf(stderr, "claimfsd: cannot compact %s: %s\n", o->store_path,
		r == -EBUSY    ? "the store is locked: stop the daemon first"
		: r == -ENOSPC ? "not enough free disk space for a copy of the store (it is unchanged)"
			       : strerror(-r));
	return r == -EBUSY || r == -ENOENT ? 2 : 1;
}
