/*
 * fs_mountpoint.c — what is mounted where: reading /proc/self/mountinfo and
 * detaching the stale FUSE mount a daemon that died leaves behind.
 *
 * Owns nothing between calls. A mount is stale only when it is claimfs'
 * own type and statfs on it fails with ENOTCONN/ECONNABORTED: a live
 * claimfsd answers statfs, and any other filesystem is never touched.
 */
#include "fs.h"

#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

/* Decode the octal escapes (\040 ...) of /proc/self/mountinfo in place. */
static void fs_unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/* Is something mounted at path? Fills the filesystem type. 1 yes, 0 no. */
static int fs_mounted_at(const char *path, char *ret_type, size_t type_size)
{
	char line[4096];
	int found = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX], type[256];
		/* id parent major:minor root mountpoint opts ... - type source superopts */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		char *dash = strstr(line, " - ");
		if (!dash || sscanf(dash + 3, "%255s", type) != 1)
			continue;
		fs_unescape(mnt);
		if (strcmp(mnt, path) == 0) {
			found = 1; /* the last (topmost) mount wins */
			snprintf(ret_type, type_size, "%s", type);
		}
	}
	fclose(f);
	return found;
}

/* Absolute, normalised path of a mountpoint that may be a dead FUSE mount
 * (realpath of the mountpoint itself would fail with ENOTCONN). */
static int fs_canonical_mountpoint(const char *mountpoint, char *ret_path, size_t size)
{
	char parent[PATH_MAX], resolved[PATH_MAX];
	const char *base;
	char *copy = strdup(mountpoint);

	if (!copy)
		return -ENOMEM;
	size_t len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	char *slash = strrchr(copy, '/');
	if (!slash) {
		snprintf(parent, sizeof(parent), ".");
		base = copy;
	} else if (slash == copy) {
		snprintf(parent, sizeof(parent), "/");
		base = slash + 1;
	} else {
		*slash = '\0';
		snprintf(parent, sizeof(parent), "%s", copy);
		base = slash + 1;
	}
	if (!realpath(parent, resolved)) {
		int r = -errno;
		free(copy);
		return r;
	}
	int n = snprintf(ret_path, size, "%s%s%s", resolved, strcmp(resolved, "/") == 0 ? "" : "/", base);
	free(copy);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int fs_clear_stale_mount(const char *mountpoint)
{
	char path[PATH_MAX], type[256];
	struct statvfs sv;
	int r;

	r = fs_canonical_mountpoint(mountpoint, path, sizeof(path));
	if (r < 0)
		return r;
	for (int round = 0; round < 16; round++) {
		r = fs_mounted_at(path, type, sizeof(type));
		if (r <= 0)
			return r;
		if (strcmp(type, "fuse.claimfs") != 0) {
			log_error("fs: %s already has a %s filesystem mounted", path, type);
			return -EBUSY;
		}
		/* statfs always reaches the daemon (stat may answer from the
		 * kernel's attribute cache for a while after the daemon died). */
		if (statvfs(path, &sv) == 0) {
			log_error("fs: %s is served by a running claimfsd", path);
			return -EBUSY;
		}
		if (errno != ENOTCONN && errno != ECONNABORTED) {
			r = -errno;
			log_error("fs: cannot inspect %s: %s", path, strerror(errno));
			return r;
		}
		log_warn("fs: detaching stale claimfs mount at %s left by a daemon that died", path);
		if (umount2(path, MNT_DETACH) < 0) {
			r = -errno;
			log_error("fs: cannot detach %s: %s", path, strerror(errno));
			return r;
		}
	}
	return -EBUSY;
}
