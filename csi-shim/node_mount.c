/*
 * node_mount.c — mountinfo parsing and bind mounts (see node_mount.h).
 *
 * Paths in mountinfo are canonical (symlinks resolved) and octal-escaped;
 * a target path is compared after resolving its parent directory (the
 * target itself may be a dead FUSE mount that realpath() cannot enter).
 */
#include "node_mount.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

/* Undo mountinfo's octal escapes (\040 for space etc.) in place. */
static void node_mount_unescape(char *text)
{
	char *in = text, *out = text;

	while (*in != '\0') {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' &&
		    in[3] >= '0' && in[3] <= '7') {
			*out++ = (char)(((in[1] - '0') << 6) | ((in[2] - '0') << 3) | (in[3] - '0'));
			in += 4;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
}

/* Canonical form of path: realpath of the parent + "/" + last component. */
static int node_mount_canonical(const char *path, char *buf, size_t size)
{
	char parent[PATH_MAX], resolved[PATH_MAX], copy[PATH_MAX];
	const char *base;
	char *slash;
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(copy) || path[0] != '/')
		return -EINVAL;
	memcpy(copy, path, len + 1);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	if (len == 1) {
		snprintf(buf, size, "/");
		return 0;
	}
	slash = strrchr(copy, '/');
	base = slash + 1;
	if (slash == copy) {
		snprintf(parent, sizeof(parent), "/");
	} else {
		*slash = '\0';
		snprintf(parent, sizeof(parent), "%s", copy);
	}
	if (realpath(parent, resolved) == NULL)
		return -errno;
	if ((size_t)snprintf(buf, size, "%s/%s", strcmp(resolved, "/") == 0 ? "" : resolved,
			     base) >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* Split one mountinfo line into the fields we need (in place). */
static bool node_mount_parse_line(char *line, char **ret_root, char **ret_point,
				  char **ret_options, char **ret_fstype)
{
	char *save = NULL, *field, *fields[6];
	int n = 0;

	/* id parent major:minor root mount-point options [optional...] - fstype source super */
	for (field = strtok_r(line, " \n", &save); field != NULL && n < 6;
	     field = strtok_r(NULL, " \n", &save))
		fields[n++] = field;
	if (n < 6)
		return false;
	while (field != NULL && strcmp(field, "-") != 0)
		field = strtok_r(NULL, " \n", &save);
	if (field == NULL)
		return false;
	*ret_fstype = strtok_r(NULL, " \n", &save);
	if (*ret_fstype == NULL)
		return false;
	*ret_root = fields[3];
	*ret_point = fields[4];
	*ret_options = fields[5];
	return true;
}

/* Is "ro" one of the comma-separated options? */
static bool node_mount_has_ro(const char *options)
{
	size_t len = strlen(options);

	return (len >= 2 && strncmp(options, "ro", 2) == 0 && (len == 2 || options[2] == ',')) ||
	       strstr(options, ",ro,") != NULL || (len >= 3 && strcmp(options + len - 3, ",ro") == 0);
}

/* Find the topmost mount at path. */
int node_mount_find(const char *path, struct node_mount *ret_mount)
{
	char want[PATH_MAX], *line = NULL;
	size_t cap = 0;
	bool found = false;
	FILE *f;
	int r;

	r = node_mount_canonical(path, want, sizeof(want));
	if (r < 0)
		return r;
	f = fopen("/proc/self/mountinfo", "re");
	if (f == NULL)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char *root, *point, *options, *fstype;

		if (!node_mount_parse_line(line, &root, &point, &options, &fstype))
			continue;
		node_mount_unescape(point);
		if (strcmp(point, want) != 0)
			continue;
		/* Later lines are mounted on top of earlier ones: keep the last. */
		node_mount_unescape(root);
		snprintf(ret_mount->root, sizeof(ret_mount->root), "%s", root);
		snprintf(ret_mount->fstype, sizeof(ret_mount->fstype), "%s", fstype);
		ret_mount->read_only = node_mount_has_ro(options);
		found = true;
	}
	r = ferror(f) ? -EIO : (found ? 1 : 0);
	free(line);
	fclose(f);
	return r;
}

static const struct {
	const char *name;
	unsigned long set; /* MS_* bits it adds; 0 for accepted no-ops */
} node_mount_flag_table[] = {
	{ "ro", MS_RDONLY },	  { "rw", 0 },		   { "nosuid", MS_NOSUID },
	{ "nodev", MS_NODEV },	  { "noexec", MS_NOEXEC }, { "noatime", MS_NOATIME },
	{ "nodiratime", MS_NODIRATIME }, { "relatime", MS_RELATIME },
	{ "strictatime", MS_STRICTATIME }, { "bind", 0 },  { "defaults", 0 },
};

/* CSI mount_flags -> MS_* bits. */
int node_mount_flags_parse(size_t count, char *const *flags, unsigned long *ret_flags,
			   char *bad, size_t bad_size)
{
	unsigned long result = 0;

	for (size_t i = 0; i < count; i++) {
		size_t j, n = sizeof(node_mount_flag_table) / sizeof(node_mount_flag_table[0]);

		for (j = 0; j < n; j++)
			if (strcmp(flags[i], node_mount_flag_table[j].name) == 0)
				break;
		if (j == n) {
			snprintf(bad, bad_size, "%s", flags[i]);
			return -EINVAL;
		}
		result |= node_mount_flag_table[j].set;
	}
	*ret_flags = result;
	return 0;
}

/* The per-mount flags of the mount holding path, as MS_* bits to keep. */
static unsigned long node_mount_inherited(const char *path)
{
	struct statvfs st;
	unsigned long flags = 0;

	if (statvfs(path, &st) < 0)
		return 0;
	if (st.f_flag & ST_NOSUID)
		flags |= MS_NOSUID;
	if (st.f_flag & ST_NODEV)
		flags |= MS_NODEV;
	if (st.f_flag & ST_NOEXEC)
		flags |= MS_NOEXEC;
	return flags;
}

/* Bind (and maybe remount) source onto target. */
int node_mount_bind(const char *source, const char *target, bool read_only, unsigned long flags)
{
	unsigned long remount;
	int r;

	if (read_only)
		flags |= MS_RDONLY;
	if (mount(source, target, NULL, MS_BIND, NULL) < 0)
		return -errno;
	if (flags == 0)
		return 0;
	/* Bind mounts take per-mount flags only through a second, remounting call. */
	remount = MS_REMOUNT | MS_BIND | flags | node_mount_inherited(source);
	if (mount(NULL, target, NULL, remount, NULL) < 0) {
		r = -errno;
		if (umount2(target, 0) < 0)
			umount2(target, MNT_DETACH);
		return r;
	}
	return 0;
}

/* Is the FUSE connection behind path gone? statfs, not stat: the kernel
 * may answer stat of the mount's root from its attribute cache for a while
 * after the daemon died, statfs always asks the daemon. */
bool node_mount_dead(const char *path)
{
	struct statvfs st;

	return statvfs(path, &st) < 0 && errno == ENOTCONN;
}

/* Unmount target; detach when busy or dead. */
int node_mount_unbind(const char *target)
{
	if (umount2(target, UMOUNT_NOFOLLOW) == 0)
		return 0;
	if (errno == EBUSY || errno == ENOTCONN || node_mount_dead(target)) {
		if (umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
			return 0;
	}
	return -errno;
}
