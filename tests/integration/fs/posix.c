/*
 * posix.c — entry point of the syscall-level conformance program, run
 * against a live claim directory (in the spirit of pjdfstest and libfuse's
 * test_syscalls.c).  Prints TAP; exit 0 if every check passed, 1 if not,
 * 77 when it cannot run (not root).
 *
 *   posix [--plain] [--enospc | --big[=BYTES]] DIR [OTHER_CLAIM_DIR|- [CAPACITY_BYTES]]
 *
 *   default   every behaviour of a claim (files, names, rename, attributes,
 *             xattrs, permissions as nobody, top levels, statfs, EXDEV)
 *   --enospc  only the capacity-limit checks; DIR is a small claim and
 *             CAPACITY_BYTES its size
 *   --big     only the big-file checks: a 4.5 GiB sparse file and a streamed
 *             one of BYTES (default 1.5 GiB); DIR needs >= 5 GiB of capacity
 *   --plain   DIR is not claimfs (ext4, tmpfs): skip the claimfs-only checks
 *
 * All work happens in DIR/posix-work.<pid>, removed at the end; the removal
 * is itself a check, so a run leaves the claim as it found it.
 */
#include "posix.h"

#include <errno.h>
#include <linux/magic.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

struct posix_config posix_cfg;

/* Print usage to stderr. */
static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [--plain] [--enospc | --big[=BYTES]] DIR [OTHER_CLAIM_DIR|- [CAPACITY_BYTES]]\n",
		argv0);
}

/* Parse the command line into posix_cfg; 0 or -EINVAL. */
static int parse_args(int argc, char **argv)
{
	int i = 1;
	char *end;

	posix_cfg.big_stream = 3 * (int64_t)GiB / 2;

	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--plain") == 0)
			posix_cfg.plain = true;
		else if (strcmp(argv[i], "--enospc") == 0)
			posix_cfg.enospc = true;
		else if (strcmp(argv[i], "--big") == 0)
			posix_cfg.big = true;
		else if (strncmp(argv[i], "--big=", 6) == 0) {
			posix_cfg.big = true;
			errno = 0;
			posix_cfg.big_stream = strtoll(argv[i] + 6, &end, 10);
			if (errno || *end || posix_cfg.big_stream <= 0 || posix_cfg.big_stream % MiB)
				return -EINVAL;
		} else
			return -EINVAL;
	}
	if (i >= argc || argc - i > 3 || (posix_cfg.enospc && posix_cfg.big))
		return -EINVAL;
	posix_cfg.dir = argv[i++];
	if (i < argc) {
		posix_cfg.other_dir = strcmp(argv[i], "-") == 0 ? NULL : argv[i];
		i++;
	}
	if (i < argc) {
		errno = 0;
		posix_cfg.capacity = strtoll(argv[i], &end, 10);
		if (errno || *end || posix_cfg.capacity <= 0)
			return -EINVAL;
	}
	return 0;
}

/* True if PATH lives on a FUSE filesystem (claimfs is one). */
static bool posix_is_fuse(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC;
}

/* Run the default set of checks. */
static void run_default(void)
{
	posix_files();
	posix_random_io();
	posix_unlinked_open();
	posix_attrs();
	posix_xattrs();
	posix_dirs();
	posix_links();
	posix_special();
	posix_names();
	posix_readdir();
	posix_rename();
	posix_concurrency();
	posix_cache();
	posix_access();
	posix_toplevel();
	posix_setid();
	posix_chown_setid();
	posix_falloc();
	posix_exdev();
	posix_statfs();
}

/* Parse, create the work directory, run the selected group, clean up, print the plan. */
int main(int argc, char **argv)
{
	char work[PATH_MAX];
	int r;

	if (parse_args(argc, argv) < 0) {
		usage(argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("1..0 # SKIP the conformance program must run as root\n");
		return 77;
	}
	if (!posix_cfg.plain && !posix_is_fuse(posix_cfg.dir)) {
		/* The top-level checks rename and create next to DIR: never on a real disk. */
		printf("Bail out! %s is not a FUSE mount; use --plain for other filesystems\n",
		       posix_cfg.dir);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	umask(022);
	r = posix_make_workdir(posix_cfg.dir, work, sizeof(work));
	if (r < 0) {
		printf("Bail out! cannot create a work directory in %s: %s\n", posix_cfg.dir,
		       strerror(-r));
		return 1;
	}
	printf("# target %s%s, work directory %s\n", posix_cfg.dir,
	       posix_cfg.plain ? " (plain, claimfs-only checks skipped)" : "", work);
	if (posix_cfg.enospc)
		posix_enospc();
	else if (posix_cfg.big)
		posix_big();
	else
		run_default();
	tap_section("cleanup");
	expect_ok(posix_remove_tree(work), "remove the work directory");
	return tap_finish();
}
