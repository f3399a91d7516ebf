/*
 * meta.c — bench-meta: metadata operations on many names.
 *
 *   bench-meta create DIR --count N    create N empty files DIR/fNNNNNN
 *   bench-meta stat   DIR --count N    stat them (run in a fresh process)
 *   bench-meta unlink DIR --count N    unlink them
 *   bench-meta mkdirp DIR --fanout F --depth D
 *                                      `mkdir -p` every leaf of a tree of
 *                                      fanout F and depth D under DIR/tree
 *   bench-meta rename DIR --count N    time one rename(2) of a directory
 *                                      holding N entries
 *
 * Names are relative to an O_PATH descriptor of DIR (openat/fstatat/...), as
 * a program working in its current directory would do, so the path walk to
 * DIR is not part of any figure.
 *
 * Checks: create finds exactly N entries afterwards; stat requires each to
 * be an empty regular file; unlink leaves DIR without any fNNNNNN entry;
 * mkdirp creates exactly the expected number of directories and finds them
 * all by walking the tree (then removes it, untimed); rename finds the old
 * name gone and all N entries under the new name (then removes them,
 * untimed). Setup and clean-up are never inside the clock.
 */
#include "bench_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define META_NAME_MAX 32
#define META_MAX_DEPTH 16

enum meta_command { META_CREATE, META_STAT, META_UNLINK, META_MKDIRP, META_RENAME };

struct meta_options {
	enum meta_command command;
	const char *dir;
	uint64_t count;
	uint64_t fanout;
	uint64_t depth;
};

/* The i-th file name. */
static void meta_name(char *buf, uint64_t i)
{
	snprintf(buf, META_NAME_MAX, "f%06" PRIu64, i);
}

/* Count the entries of dirfd/name (without . and ..); those named f* in
 * *ret_files when ret_files is not NULL. */
static int meta_count_entries(int dirfd, const char *name, uint64_t *ret_total, uint64_t *ret_files)
{
	uint64_t total = 0, files = 0;
	struct dirent *entry;
	DIR *dir;
	int fd, r = 0;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		close(fd);
		return r;
	}
	errno = 0;
	while ((entry = readdir(dir)) != NULL) {
		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		total++;
		if (entry->d_name[0] == 'f')
			files++;
		errno = 0;
	}
	if (errno)
		r = -errno;
	closedir(dir);
	if (r == 0) {
		*ret_total = total;
		if (ret_files)
			*ret_files = files;
	}
	return r;
}

/* Create count empty files f000000.. in dirfd. */
static int meta_create_files(int dirfd, uint64_t count, struct bench_hist *hist)
{
	char name[META_NAME_MAX];

	for (uint64_t i = 0; i < count; i++) {
		uint64_t t0 = hist ? bench_now_ns() : 0;
		int fd;

		meta_name(name, i);
		fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 || close(fd) < 0) {
			int r = -errno;

			bench_error("create %s: %s", name, strerror(-r));
			return r;
		}
		if (hist)
			bench_hist_record(hist, bench_now_ns() - t0);
	}
	return 0;
}

/* Unlink fNNNNNN for i < count from dirfd. */
static int meta_unlink_files(int dirfd, uint64_t count, struct bench_hist *hist)
{
	char name[META_NAME_MAX];

	for (uint64_t i = 0; i < count; i++) {
		uint64_t t0 = hist ? bench_now_ns() : 0;

		meta_name(name, i);
		if (unlinkat(dirfd, name, 0) < 0) {
			int r = -errno;

			bench_error("unlink %s: %s", name, strerror(-r));
			return r;
		}
		if (hist)
			bench_hist_record(hist, bench_now_ns() - t0);
	}
	return 0;
}

/* stat every file; each must be an empty regular file. */
static int meta_stat_files(int dirfd, uint64_t count, struct bench_hist *hist)
{
	char name[META_NAME_MAX];

	for (uint64_t i = 0; i < count; i++) {
		uint64_t t0 = bench_now_ns();
		struct stat st;

		meta_name(name, i);
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			int r = -errno;

			bench_error("stat %s: %s", name, strerror(-r));
			return r;
		}
		bench_hist_record(hist, bench_now_ns() - t0);
		if (!S_ISREG(st.st_mode) || st.st_size != 0) {
			bench_error("%s: mode %o size %jd, expected an empty file", name,
				    (unsigned)st.st_mode, (intmax_t)st.st_size);
			return -EIO;
		}
	}
	return 0;
}

/* Whether an entry of the directory fd is a directory (d_type may be DT_UNKNOWN). */
static bool meta_entry_is_dir(int fd, const struct dirent *entry)
{
	struct stat st;

	if (entry->d_type != DT_UNKNOWN)
		return entry->d_type == DT_DIR;
	return fstatat(fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* Remove dirfd/name and everything below it (untimed clean-up). */
static int meta_remove_tree(int dirfd, const char *name)
{
	struct dirent *entry;
	DIR *dir;
	int fd, r = 0;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		close(fd);
		return r;
	}
	errno = 0;
	while (r == 0 && (entry = readdir(dir)) != NULL) {
		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		if (meta_entry_is_dir(fd, entry))
			r = meta_remove_tree(fd, entry->d_name);
		else if (unlinkat(fd, entry->d_name, 0) < 0)
			r = -errno;
		errno = 0;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(dir);
	if (r == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		r = -errno;
	return r;
}

/* Count directories below dirfd/name (not counting name itself). */
static int meta_count_dirs(int dirfd, const char *name, uint64_t *ret_count)
{
	struct dirent *entry;
	uint64_t count = 0;
	DIR *dir;
	int fd, r = 0;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		close(fd);
		return r;
	}
	errno = 0;
	while (r == 0 && (entry = readdir(dir)) != NULL) {
		uint64_t below = 0;

		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		if (!meta_entry_is_dir(fd, entry)) {
			r = -EIO;
			break;
		}
		r = meta_count_dirs(fd, entry->d_name, &below);
		count += 1 + below;
		errno = 0;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(dir);
	if (r == 0)
		*ret_count = count;
	return r;
}

/* mkdir -p tree/dA/dB/... for every leaf; counts the directories made. */
static int meta_mkdirp(int dirfd, const struct meta_options *o, struct bench_json *json)
{
	uint64_t leaves = 1, expected = 0, level = 1, created = 0, calls = 0, found = 0, t0, elapsed;
	char path[META_MAX_DEPTH * META_NAME_MAX + 8];
	int r;

	for (uint64_t d = 0; d < o->depth; d++) {
		level *= o->fanout;
		expected += level;
	}
	leaves = level;
	if (mkdirat(dirfd, "tree", 0755) < 0) {
		r = -errno;
		bench_error("mkdir tree: %s", strerror(-r));
		return r;
	}
	t0 = bench_now_ns();
	for (uint64_t leaf = 0; leaf < leaves; leaf++) {
		uint64_t digits[META_MAX_DEPTH], rest = leaf;
		size_t len = (size_t)snprintf(path, sizeof(path), "tree");

		for (uint64_t d = o->depth; d-- > 0;) {
			digits[d] = rest % o->fanout;
			rest /= o->fanout;
		}
		for (uint64_t d = 0; d < o->depth; d++) {
			len += (size_t)snprintf(path + len, sizeof(path) - len, "/d%" PRIu64, digits[d]);
			calls++;
			if (mkdirat(dirfd, path, 0755) == 0)
				created++;
			else if (errno != EEXIST) {
				r = -errno;
				bench_error("mkdir %s: %s", path, strerror(-r));
				return r;
			}
		}
	}
	elapsed = bench_now_ns() - t0;
	if (created != expected) {
		bench_error("mkdir -p created %" PRIu64 " directories, expected %" PRIu64, created,
			    expected);
		return -EIO;
	}
	r = meta_count_dirs(dirfd, "tree", &found);
	if (r < 0 || found != expected) {
		bench_error("tree holds %" PRIu64 " directories, expected %" PRIu64 " (%s)", found,
			    expected, r < 0 ? strerror(-r) : "walk ok");
		return r < 0 ? r : -EIO;
	}
	r = meta_remove_tree(dirfd, "tree");
	if (r < 0) {
		bench_error("remove tree: %s", strerror(-r));
		return r;
	}
	bench_json_string(json, "workload", "meta-mkdirp");
	bench_json_int(json, "dirs", (int64_t)created);
	bench_json_int(json, "mkdir_calls", (int64_t)calls);
	bench_json_double(json, "seconds", (double)elapsed / 1e9);
	bench_json_double(json, "ops_per_s", (double)created / ((double)elapsed / 1e9));
	return 0;
}

/* One rename of a directory holding count entries, then clean up. */
static int meta_rename(int dirfd, const struct meta_options *o, struct bench_json *json)
{
	uint64_t total = 0, t0, elapsed;
	struct stat st;
	int subfd, r;

	if (mkdirat(dirfd, "rename-src", 0755) < 0) {
		r = -errno;
		bench_error("mkdir rename-src: %s", strerror(-r));
		return r;
	}
	subfd = openat(dirfd, "rename-src", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (subfd < 0) {
		r = -errno;
		bench_error("open rename-src: %s", strerror(-r));
		return r;
	}
	r = meta_create_files(subfd, o->count, NULL);
	close(subfd);
	if (r < 0)
		return r;
	t0 = bench_now_ns();
	if (renameat(dirfd, "rename-src", dirfd, "rename-dst") < 0) {
		r = -errno;
		bench_error("rename: %s", strerror(-r));
		return r;
	}
	elapsed = bench_now_ns() - t0;
	if (fstatat(dirfd, "rename-src", &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT) {
		bench_error("rename-src still exists after rename");
		return -EIO;
	}
	r = meta_count_entries(dirfd, "rename-dst", &total, NULL);
	if (r < 0 || total != o->count) {
		bench_error("rename-dst holds %" PRIu64 " entries, expected %" PRIu64 " (%s)", total,
			    o->count, r < 0 ? strerror(-r) : "readdir ok");
		return r < 0 ? r : -EIO;
	}
	r = meta_remove_tree(dirfd, "rename-dst");
	if (r < 0) {
		bench_error("remove rename-dst: %s", strerror(-r));
		return r;
	}
	bench_json_string(json, "workload", "meta-rename");
	bench_json_int(json, "entries", (int64_t)o->count);
	bench_json_double(json, "seconds", (double)elapsed / 1e9);
	bench_json_double(json, "rename_ms", (double)elapsed / 1e6);
	return 0;
}

/* create / stat / unlink with their checks. */
static int meta_files(int dirfd, const struct meta_options *o, struct bench_json *json)
{
	static const char *const names[] = { "meta-create", "meta-stat", "meta-unlink" };
	uint64_t t0, elapsed, total = 0, files = 0;
	struct bench_hist hist;
	int r;

	bench_hist_init(&hist);
	t0 = bench_now_ns();
	if (o->command == META_CREATE)
		r = meta_create_files(dirfd, o->count, &hist);
	else if (o->command == META_STAT)
		r = meta_stat_files(dirfd, o->count, &hist);
	else
		r = meta_unlink_files(dirfd, o->count, &hist);
	elapsed = bench_now_ns() - t0;
	if (r < 0)
		return r;
	r = meta_count_entries(dirfd, ".", &total, &files);
	if (r < 0) {
		bench_error("readdir %s: %s", o->dir, strerror(-r));
		return r;
	}
	if (files != (o->command == META_UNLINK ? 0 : o->count)) {
		bench_error("%s holds %" PRIu64 " files after %s", o->dir, files,
			    names[o->command]);
		return -EIO;
	}
	bench_json_string(json, "workload", names[o->command]);
	bench_json_int(json, "files", (int64_t)o->count);
	bench_json_double(json, "seconds", (double)elapsed / 1e9);
	bench_json_double(json, "ops_per_s", (double)o->count / ((double)elapsed / 1e9));
	bench_json_hist(json, "latency", &hist);
	return 0;
}

/* Parse "command DIR options". */
static int meta_parse_args(int argc, char **argv, struct meta_options *o)
{
	static const char *const commands[] = { "create", "stat", "unlink", "mkdirp", "rename" };
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "fanout", required_argument, NULL, 'f' },
		{ "depth", required_argument, NULL, 'd' },
		{ 0 },
	};
	int c;
	bool known = false;

	*o = (struct meta_options){ .count = 1000, .fanout = 8, .depth = 4 };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		uint64_t *target = c == 'c' ? &o->count : c == 'f' ? &o->fanout : &o->depth;

		if ((c != 'c' && c != 'f' && c != 'd') || bench_parse_u64(optarg, target) < 0)
			return -EINVAL;
	}
	if (argc - optind != 2 || o->count == 0 || o->count > 999999 || o->fanout == 0 ||
	    o->fanout > 1000 || o->depth == 0 || o->depth > META_MAX_DEPTH)
		return -EINVAL;
	for (unsigned i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i]) == 0) {
			o->command = (enum meta_command)i;
			known = true;
		}
	}
	o->dir = argv[optind + 1];
	return known ? 0 : -EINVAL;
}

/* Run one command and print its JSON line. */
int main(int argc, char **argv)
{
	struct meta_options o;
	struct bench_json json;
	int dirfd, r;

	bench_set_program("bench-meta");
	if (meta_parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: bench-meta create|stat|unlink|rename DIR [--count N]\n"
				"       bench-meta mkdirp DIR [--fanout F] [--depth D]\n");
		return 2;
	}
	dirfd = open(o.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		bench_error("open %s: %s", o.dir, strerror(errno));
		return 1;
	}
	bench_json_begin(&json, stdout);
	if (o.command == META_MKDIRP)
		r = meta_mkdirp(dirfd, &o, &json);
	else if (o.command == META_RENAME)
		r = meta_rename(dirfd, &o, &json);
	else
		r = meta_files(dirfd, &o, &json);
	close(dirfd);
	if (r < 0)
		return 1;
	return bench_json_end(&json) < 0 ? 1 : 0;
}
