/*
 * fsx_tree.c — whole-tree comparison of the test and reference directories,
 * and snapshots of the test tree taken around daemon restarts.
 *
 * Directory sizes, st_blocks, inode numbers and times are filesystem
 * specific and not compared between the two trees; everything else is. A
 * snapshot compares the test tree with itself across a restart and so
 * includes inode numbers, mtime and ctime (not atime: reading moves it).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fsx.h"

#define FSX_MAX_NAMES 256

/* Sorted names of a directory (without . and ..); count or -errno. */
static int fsx_list(const char *path, char names[][256], int max)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == max) {
			closedir(d);
			return -E2BIG;
		}
		fsx_format(names[n++], 256, "%s", e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, 256, (int (*)(const void *, const void *))strcmp);
	return n;
}

/* The user.* xattrs of path as "name=hexvalue;..." into out; -errno on error. */
static int fsx_xattrs(const char *path, char *out, size_t size)
{
	char list[4096], names[64][256];
	ssize_t len = llistxattr(path, list, sizeof(list));
	int n = 0;
	size_t used = 0;

	out[0] = '\0';
	if (len < 0)
		return errno == ENOTSUP ? 0 : -errno;
	for (ssize_t i = 0; i < len && n < 64; i += (ssize_t)strlen(list + i) + 1)
		if (strncmp(list + i, "user.", 5) == 0)
			fsx_format(names[n++], 256, "%s", list + i);
	qsort(names, (size_t)n, 256, (int (*)(const void *, const void *))strcmp);
	for (int i = 0; i < n; i++) {
		unsigned char value[1024];
		ssize_t vl = lgetxattr(path, names[i], value, sizeof(value));

		if (vl < 0)
			return -errno;
		used += (size_t)snprintf(out + used, size - used, "%s=", names[i]);
		for (ssize_t j = 0; j < vl && used + 3 < size; j++)
			used += (size_t)snprintf(out + used, size - used, "%02x", value[j]);
		if (used + 2 < size)
			used += (size_t)snprintf(out + used, size - used, ";");
	}
	return 0;
}

/* Read a whole file into buf (at most max bytes); length or -errno. */
static ssize_t fsx_slurp(const char *path, uint8_t *buf, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t len = 0;

	if (fd < 0)
		return -errno;
	while (len < max) {
		ssize_t n = read(fd, buf + len, max - len);

		if (n < 0) {
			int err = errno;
			close(fd);
			return -err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	return (ssize_t)len;
}

/* Compare one entry present on both sides (recursing into directories). */
static bool fsx_compare_entry(struct fsx *f, const char *rel);

/* Compare directory rel on both sides. */
static bool fsx_compare_dir(struct fsx *f, const char *rel)
{
	static char names[2][FSX_MAX_NAMES][256];
	char path[2][4400];
	int n[2];

	for (int s = 0; s < 2; s++) {
		fsx_format(path[s], sizeof(path[s]), "%s%s%s", f->root[s], *rel ? "/" : "", rel);
		n[s] = fsx_list(path[s], names[s], FSX_MAX_NAMES);
		if (n[s] < 0)
			return fsx_fail(f, "tree: cannot list %s: %s", path[s], strerror(-n[s]));
	}
	for (int i = 0; i < n[0] || i < n[1]; i++) {
		if (i >= n[0] || i >= n[1] || strcmp(names[0][i], names[1][i]) != 0)
			return fsx_fail(f, "tree: directory '%s' differs at entry %d: test '%s', reference '%s'",
					rel, i, i < n[0] ? names[0][i] : "(end)",
					i < n[1] ? names[1][i] : "(end)");
	}
	/* names[] is static: copy ours before recursing. n[0] is 0..FSX_MAX_NAMES
	 * here (negative counts returned above). */
	size_t count = (size_t)n[0];
	if (count > FSX_MAX_NAMES)
		return fsx_fail(f, "tree: too many names in %s", rel);
	char (*mine)[256] = calloc(count ? count : 1, sizeof(*mine));
	bool ok = true;

	if (!mine)
		return fsx_fail(f, "tree: out of memory");
	memcpy(mine, names[0], count * sizeof(*mine));
	for (size_t i = 0; i < count && ok; i++) {
		char sub[4400];

		fsx_format(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", mine[i]);
		ok = fsx_compare_entry(f, sub);
	}
	free(mine);
	return ok;
}

static bool fsx_compare_entry(struct fsx *f, const char *rel)
{
	char path[2][4400], x[2][4096];
	struct stat st[2];

	for (int s = 0; s < 2; s++) {
		fsx_format(path[s], sizeof(path[s]), "%s/%s", f->root[s], rel);
		if (lstat(path[s], &st[s]) < 0)
			return fsx_fail(f, "tree: lstat %s: %s", path[s], strerror(errno));
	}
	if ((st[0].st_mode & S_IFMT) != (st[1].st_mode & S_IFMT) || st[0].st_mode != st[1].st_mode)
		return fsx_fail(f, "tree: %s mode %o, reference %o", rel, (unsigned)st[0].st_mode,
				(unsigned)st[1].st_mode);
	if (st[0].st_nlink != st[1].st_nlink)
		return fsx_fail(f, "tree: %s nlink %lu, reference %lu", rel,
				(unsigned long)st[0].st_nlink, (unsigned long)st[1].st_nlink);
	if (st[0].st_uid != st[1].st_uid || st[0].st_gid != st[1].st_gid)
		return fsx_fail(f, "tree: %s owner %u:%u, reference %u:%u", rel, st[0].st_uid,
				st[0].st_gid, st[1].st_uid, st[1].st_gid);
	if (!S_ISDIR(st[0].st_mode) && st[0].st_size != st[1].st_size)
		return fsx_fail(f, "tree: %s size %lld, reference %lld", rel, (long long)st[0].st_size,
				(long long)st[1].st_size);
	if (!S_ISLNK(st[0].st_mode)) {
		for (int s = 0; s < 2; s++) {
			int r = fsx_xattrs(path[s], x[s], sizeof(x[s]));
			if (r < 0)
				return fsx_fail(f, "tree: xattrs of %s: %s", path[s], strerror(-r));
		}
		if (strcmp(x[0], x[1]) != 0)
			return fsx_fail(f, "tree: %s xattrs '%s', reference '%s'", rel, x[0], x[1]);
	}
	if (S_ISREG(st[0].st_mode)) {
		ssize_t len[2];

		for (int s = 0; s < 2; s++) {
			len[s] = fsx_slurp(path[s], f->buf[s], 4 * FSX_MAX_OFFSET);
			if (len[s] < 0)
				return fsx_fail(f, "tree: read %s: %s", path[s], strerror((int)-len[s]));
		}
		if (len[0] != len[1] || memcmp(f->buf[0], f->buf[1], (size_t)len[0]) != 0) {
			ssize_t i = 0;
			while (i < len[0] && i < len[1] && f->buf[0][i] == f->buf[1][i])
				i++;
			return fsx_fail(f, "tree: %s content differs at byte %zd (lengths %zd/%zd)", rel,
					i, len[0], len[1]);
		}
	} else if (S_ISLNK(st[0].st_mode)) {
		char t[2][4096];
		for (int s = 0; s < 2; s++) {
			ssize_t n = readlink(path[s], t[s], sizeof(t[s]) - 1);
			if (n < 0)
				return fsx_fail(f, "tree: readlink %s: %s", path[s], strerror(errno));
			t[s][n] = '\0';
		}
		if (strcmp(t[0], t[1]) != 0)
			return fsx_fail(f, "tree: symlink %s -> '%s', reference '%s'", rel, t[0], t[1]);
	} else if (S_ISDIR(st[0].st_mode)) {
		return fsx_compare_dir(f, rel);
	}
	return true;
}

/* Compare both trees from the roots. */
bool fsx_tree_compare(struct fsx *f)
{
	return fsx_compare_dir(f, "");
}

/* vsnprintf into buf. */
void fsx_format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* Append printf output to a growing string. */
static bool fsx_append(char **text, size_t *len, size_t *cap, const char *fmt, ...)
{
	char line[5000];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (*len + (size_t)n + 1 > *cap) {
		size_t ncap = (*cap ? *cap * 2 : 65536) + (size_t)n;
		char *grown = realloc(*text, ncap);
		if (!grown)
			return false;
		*text = grown;
		*cap = ncap;
	}
	memcpy(*text + *len, line, (size_t)n + 1);
	*len += (size_t)n;
	return true;
}

/* Snapshot lines of rel and below. */
static bool fsx_snap_dir(struct fsx *f, const char *rel, char **text, size_t *len, size_t *cap)
{
	char path[4400], (*names)[256] = malloc(FSX_MAX_NAMES * 256);
	int n;
	bool ok = true;

	if (!names)
		return false;
	fsx_format(path, sizeof(path), "%s%s%s", f->root[0], *rel ? "/" : "", rel);
	n = fsx_list(path, names, FSX_MAX_NAMES);
	if (n < 0)
		ok = false;
	for (int i = 0; ok && i < n; i++) {
		char sub[4400], full[4400], x[4096] = "";
		struct stat st;
		uint64_t hash = 0xcbf29ce484222325ULL;

		fsx_format(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", names[i]);
		fsx_format(full, sizeof(full), "%s/%s", f->root[0], sub);
		if (lstat(full, &st) < 0) {
			ok = false;
			break;
		}
		if (S_ISREG(st.st_mode)) {
			ssize_t l = fsx_slurp(full, f->buf[0], 4 * FSX_MAX_OFFSET);
			for (ssize_t j = 0; j < l; j++)
				hash = (hash ^ f->buf[0][j]) * 0x100000001b3ULL;
		}
		if (!S_ISLNK(st.st_mode))
			fsx_xattrs(full, x, sizeof(x));
		ok = fsx_append(text, len, cap,
				"%s ino=%llu mode=%o nlink=%lu uid=%u gid=%u size=%lld mtime=%lld.%09ld "
				"ctime=%lld.%09ld hash=%016llx xattrs=%s\n",
				sub, (unsigned long long)st.st_ino, (unsigned)st.st_mode,
				(unsigned long)st.st_nlink, st.st_uid, st.st_gid, (long long)st.st_size,
				(long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
				(long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec,
				(unsigned long long)hash, x);
		if (ok && S_ISDIR(st.st_mode))
			ok = fsx_snap_dir(f, sub, text, len, cap);
	}
	free(names);
	return ok;
}

/* Snapshot of the whole test tree. */
char *fsx_tree_snapshot(struct fsx *f)
{
	char *text = NULL;
	size_t len = 0, cap = 0;

	if (!fsx_append(&text, &len, &cap, "") || !fsx_snap_dir(f, "", &text, &len, &cap)) {
		free(text);
		return NULL;
	}
	return text;
}
