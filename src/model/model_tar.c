/*
 * model_tar.c — export of one claim as a tar stream and import of a tar
 * into a new, empty claim (README "Backup"), with libarchive.
 *
 * Owns: the walk of a claim's directory on the daemon's own FUSE mount
 * (<mountpoint>/<namespace>/<claim>) into a pax tar, and the extraction of
 * one into it. Working through the mount keeps the layer rules: the files go
 * through the FUSE layer like any client's, so no SQL and no inode here.
 *
 * Invariants:
 *   - Export streams: a detached thread writes the tar into a pipe whose read
 *     end the caller sends; nothing holds the whole archive. The thread owns
 *     the write end and its own copy of the path.
 *   - Import writes nothing outside the claim: every entry name is checked
 *     (no absolute path, no "..", no device node) before libarchive's own
 *     SECURE_* checks run on the prefixed path; symlinks are never followed.
 *   - A refused or failed import leaves the claim as empty as it was.
 *   - Imports run one at a time (model_tar_import_lock): two imports into the
 *     same empty claim would both pass the emptiness check, and the one that
 *     failed would then empty the claim under the other.
 */
#include "model_internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define MODEL_TAR_BLOCK (64 * 1024)

/* Imports are rare and bounded by one disk: one lock for the process. */
static pthread_mutex_t model_tar_import_lock = PTHREAD_MUTEX_INITIALIZER;

int model_set_mountpoint(struct model *model, const char *mountpoint)
{
	char *copy = strdup(mountpoint);

	if (copy == NULL)
		return -ENOMEM;
	free(model->mountpoint);
	model->mountpoint = copy;
	return 0;
}

/* The claim must exist; its directory on the mount into path. */
static int model_tar_claim_dir(struct model *model, const char *ns, const char *name,
			       char path[PATH_MAX], struct model_error *err)
{
	json_t *claim = NULL;
	int r = model_get(model, MODEL_PVC, ns, name, &claim, err);

	if (r < 0)
		return r;
	json_decref(claim);
	if (model->mountpoint == NULL)
		return model_fail(err, -EOPNOTSUPP, "this server has no mount to read claims from");
	if (snprintf(path, PATH_MAX, "%s/%s/%s", model->mountpoint, ns, name) >= PATH_MAX)
		return model_fail(err, -ENAMETOOLONG, "the claim's path is too long");
	if (access(path, F_OK) < 0)
		return model_fail(err, -ENOENT, "the claim %s/%s has no volume yet (not bound)", ns,
				  name);
	return 0;
}

/* ---- export ----------------------------------------------------------------------- */

struct model_tar_export {
	char root[PATH_MAX];
	int fd; /* the pipe's write end */
	model_tar_done_cb done; /* NULL: nobody waits for the end */
	void *done_ud;
};

/* Write n bytes of a hole: the pax writer drops what falls in a hole of the
 * entry's sparse map (set by read_disk), so the hole costs nothing. */
static int model_tar_hole(struct archive *tar, int64_t n)
{
	static const char zeros[MODEL_TAR_BLOCK];

	while (n > 0) {
		size_t chunk = n > (int64_t)sizeof(zeros) ? sizeof(zeros) : (size_t)n;
		la_ssize_t w = archive_write_data(tar, zeros, chunk);

		if (w <= 0)
			return -EIO;
		n -= w;
	}
	return 0;
}

/* Copy one regular file's data in order, holes as holes. */
static int model_tar_copy_data(struct archive *disk, struct archive *tar,
			       struct archive_entry *entry)
{
	const void *buf;
	size_t size;
	la_int64_t offset, done = 0;
	int r;
	const la_int64_t limit = archive_entry_size(entry);

	while ((r = archive_read_data_block(disk, &buf, &size, &offset)) == ARCHIVE_OK) {
		/* A file that grows while read: the header's size stands. */
		if (offset >= limit)
			continue;
		if (offset + (la_int64_t)size > limit)
			size = (size_t)(limit - offset);
		if (offset > done && model_tar_hole(tar, offset - done) < 0)
			return -EIO;
		if (size > 0 && archive_write_data(tar, buf, size) != (la_ssize_t)size)
			return -EIO;
		done = offset + (la_int64_t)size;
	}
	if (r != ARCHIVE_EOF)
		return -EIO;
	/* A file that shrank while read (or ends in a hole): pad to the header's size. */
	return done < limit ? model_tar_hole(tar, limit - done) : 0;
}

/* Name entries relative to the claim: "<root>/a/b" -> "a/b"; the root is ".". */
static void model_tar_relative(struct archive_entry *entry, size_t root_len)
{
	const char *name = archive_entry_pathname(entry);
	char rel[PATH_MAX];

	if (strlen(name) <= root_len)
		snprintf(rel, sizeof(rel), ".");
	else
		snprintf(rel, sizeof(rel), "%s", name + root_len + 1);
	archive_entry_copy_pathname(entry, rel);
}

/* Write one entry (and those the link resolver held back). */
static int model_tar_write(struct archive *disk, struct archive *tar,
			   struct archive_entry_linkresolver *links, struct archive_entry *entry)
{
	struct archive_entry *sparse = NULL;
	struct archive_entry *e = entry;

	archive_entry_linkify(links, &e, &sparse);
	if (e != NULL) {
		if (archive_write_header(tar, e) < ARCHIVE_OK)
			return -EIO;
		if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0 &&
		    model_tar_copy_data(disk, tar, e) < 0)
			return -EIO;
	}
	return 0;
}

static int model_tar_walk(struct model_tar_export *x, struct archive *disk, struct archive *tar)
{
	struct archive_entry_linkresolver *links = archive_entry_linkresolver_new();
	struct archive_entry *entry = archive_entry_new();
	size_t root_len = strlen(x->root);
	int r = -ENOMEM;

	if (links == NULL || entry == NULL)
		goto out;
	archive_entry_linkresolver_set_strategy(links, archive_format(tar));
	r = -EIO;
	if (archive_read_disk_open(disk, x->root) != ARCHIVE_OK)
		goto out;
	for (;;) {
		int s = archive_read_next_header2(disk, entry);

		if (s == ARCHIVE_EOF)
			break;
		if (s < ARCHIVE_WARN)
			goto out;
		archive_read_disk_descend(disk);
		model_tar_relative(entry, root_len);
		if (model_tar_write(disk, tar, links, entry) < 0)
			goto out;
	}
	r = 0;
out:
	if (r < 0)
		log_warn("export of %s: %s", x->root,
			 archive_error_string(disk) ?: archive_error_string(tar) ?: "failed");
	archive_entry_free(entry);
	archive_entry_linkresolver_free(links);
	return r;
}

static void *model_tar_export_thread(void *arg)
{
	struct model_tar_export *x = arg;
	struct archive *disk = archive_read_disk_new();
	struct archive *tar = archive_write_new();
	int r = -EIO;

	if (disk == NULL || tar == NULL ||
	    archive_read_disk_set_standard_lookup(disk) != ARCHIVE_OK ||
	    archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS |
						     ARCHIVE_READDISK_NO_ACL |
						     ARCHIVE_READDISK_NO_FFLAGS) != ARCHIVE_OK ||
	    archive_write_set_format_pax_restricted(tar) != ARCHIVE_OK ||
	    archive_write_open_fd(tar, x->fd) != ARCHIVE_OK) {
		log_warn("export of %s: cannot start libarchive", x->root);
	} else if (model_tar_walk(x, disk, tar) == 0 && archive_write_close(tar) == ARCHIVE_OK) {
		log_info("export of %s done", x->root);
		r = 0;
	}
	/* A failed export ends the stream short: the client sees a truncated tar. */
	archive_read_free(disk);
	archive_write_free(tar);
	close(x->fd);
	if (x->done != NULL)
		x->done(x->done_ud, r);
	free(x);
	return NULL;
}

/* See model_internal.h. */
int model_tar_export_dir(const char *root, model_tar_done_cb done, void *done_ud, int *ret_fd,
			 struct model_error *err)
{
	struct model_tar_export *x = calloc(1, sizeof(*x));
	int fds[2] = { -1, -1 };
	pthread_t thread;
	int r;

	if (x == NULL)
		return -ENOMEM;
	x->done = done;
	x->done_ud = done_ud;
	if (snprintf(x->root, sizeof(x->root), "%s", root) >= (int)sizeof(x->root)) {
		r = model_fail(err, -ENAMETOOLONG, "the path to export is too long");
		goto fail;
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		r = model_fail(err, -errno, "cannot export: %s", strerror(errno));
		goto fail;
	}
	x->fd = fds[1];
	r = -pthread_create(&thread, NULL, model_tar_export_thread, x);
	if (r < 0) {
		model_fail(err, r, "cannot start the export: %s", strerror(-r));
		goto fail;
	}
	pthread_detach(thread);
	*ret_fd = fds[0];
	return 0;
fail:
	if (fds[0] >= 0) {
		close(fds[0]);
		close(fds[1]);
	}
	free(x);
	return r;
}

int model_claim_export(struct model *model, const char *ns, const char *name, int *ret_fd,
		       struct model_error *err)
{
	char root[PATH_MAX];
	int r;

	model_error_init(err);
	r = model_tar_claim_dir(model, ns, name, root, err);
	return r < 0 ? r : model_tar_export_dir(root, NULL, NULL, ret_fd, err);
}

/* ---- import ------------------------------------------------------------------------- */

/* Remove one thing under the claim (nftw, depth first). */
static int model_tar_remove(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	if (ftw->level == 0)
		return 0; /* the claim's root stays */
	if ((type == FTW_DP ? rmdir(path) : unlink(path)) < 0)
		log_warn("import: cannot remove %s: %s", path, strerror(errno));
	return 0;
}

/* Is the directory empty? 1 yes, 0 no, negative errno. */
static int model_tar_empty(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *d;
	int empty = 1;

	if (dir == NULL)
		return -errno;
	while ((d = readdir(dir)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			empty = 0;
	closedir(dir);
	return empty;
}

/* Refuse a name that would leave the claim; a message in why. */
static const char *model_tar_bad_name(const char *name)
{
	const char *p = name;

	if (name == NULL || name[0] == '\0')
		return "an empty name";
	if (name[0] == '/')
		return "an absolute path";
	while (*p != '\0') {
		size_t len = strcspn(p, "/");

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return "a '..' component";
		p += len;
		p += strspn(p, "/");
	}
	return NULL;
}

/* Check an entry and point it (and its hard link target) into root. */
static int model_tar_place(struct archive_entry *entry, const char *root,
			   struct model_error *err)
{
	const char *name = archive_entry_pathname(entry);
	const char *link = archive_entry_hardlink(entry);
	const char *why = model_tar_bad_name(name);
	mode_t type = archive_entry_filetype(entry);
	char path[PATH_MAX];

	if (why == NULL && link != NULL)
		why = model_tar_bad_name(link);
	if (why != NULL)
		return model_fail(err, -EBADMSG, "the tar is refused: entry \"%s\" has %s",
				  name ?: "", why);
	if (type == AE_IFCHR || type == AE_IFBLK)
		return model_fail(err, -EBADMSG,
				  "the tar is refused: entry \"%s\" is a device node", name);
	if (snprintf(path, sizeof(path), "%s/%s", root, name) >= (int)sizeof(path))
		return model_fail(err, -EBADMSG, "the tar is refused: entry \"%s\" is too long",
				  name);
	archive_entry_copy_pathname(entry, path);
	if (link != NULL) {
		if (snprintf(path, sizeof(path), "%s/%s", root, link) >= (int)sizeof(path))
			return model_fail(err, -EBADMSG, "the tar is refused: a link is too long");
		archive_entry_copy_hardlink(entry, path);
	}
	return 0;
}

/* The failure of a write: ENOSPC is the tar being larger than the claim. */
static int model_tar_write_error(struct archive *out, const char *name, struct model_error *err)
{
	int e = archive_errno(out);

	if (e == ENOSPC || e == EDQUOT)
		return model_fail(err, -EMSGSIZE,
				  "the tar does not fit in the claim (at \"%s\"); nothing was kept",
				  name);
	return model_fail(err, -EBADMSG, "the tar is refused at \"%s\": %s", name,
			  archive_error_string(out) ?: strerror(e));
}

static int model_tar_copy_entry(struct archive *in, struct archive *out,
				struct archive_entry *entry, const char *shown,
				struct model_error *err)
{
	const void *buf;
	size_t size;
	la_int64_t offset;
	int r;

	if (archive_write_header(out, entry) != ARCHIVE_OK)
		return model_tar_write_error(out, shown, err);
	while ((r = archive_read_data_block(in, &buf, &size, &offset)) == ARCHIVE_OK)
		if (archive_write_data_block(out, buf, size, offset) != ARCHIVE_OK)
			return model_tar_write_error(out, shown, err);
	if (r != ARCHIVE_EOF)
		return model_fail(err, -EBADMSG, "the tar is damaged at \"%s\": %s", shown,
				  archive_error_string(in) ?: "read error");
	if (archive_write_finish_entry(out) != ARCHIVE_OK)
		return model_tar_write_error(out, shown, err);
	return 0;
}

static int model_tar_extract(struct archive *in, struct archive *out, const char *root,
			     struct model_error *err)
{
	struct archive_entry *entry;
	char shown[PATH_MAX];
	int s;

	while ((s = archive_read_next_header(in, &entry)) == ARCHIVE_OK || s == ARCHIVE_WARN) {
		int r;

		snprintf(shown, sizeof(shown), "%s", archive_entry_pathname(entry) ?: "");
		if (strcmp(shown, ".") == 0 || strcmp(shown, "./") == 0)
			archive_entry_copy_pathname(entry, "."); /* the claim's root itself */
		r = model_tar_place(entry, root, err);
		if (r == 0)
			r = model_tar_copy_entry(in, out, entry, shown, err);
		if (r < 0)
			return r;
	}
	if (s != ARCHIVE_EOF)
		return model_fail(err, -EBADMSG, "the body is not a readable tar: %s",
				  archive_error_string(in) ?: "read error");
	if (archive_write_close(out) != ARCHIVE_OK)
		return model_tar_write_error(out, "the end", err);
	return 0;
}

/* Open the tar: from the start of fd if it is >= 0, else from memory. */
static int model_tar_open_in(struct archive *in, const void *body, size_t len, int fd)
{
	if (archive_read_support_format_tar(in) != ARCHIVE_OK)
		return -EIO;
	if (fd >= 0) {
		if (lseek(fd, 0, SEEK_SET) < 0)
			return -errno;
		return archive_read_open_fd(in, fd, MODEL_TAR_BLOCK) == ARCHIVE_OK ? 0 : -EBADMSG;
	}
	return archive_read_open_memory(in, body, len) == ARCHIVE_OK ? 0 : -EBADMSG;
}

/* The import proper, under model_tar_import_lock: root must be empty. */
static int model_tar_import_into(struct archive *in, struct archive **out, const char *root,
				 const void *body, size_t len, int fd, struct model_error *err)
{
	const int flags = ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_XATTR |
			  ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SPARSE |
			  ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
			  ARCHIVE_EXTRACT_NO_OVERWRITE;
	int r = model_tar_empty(root);

	if (r == 0)
		return model_fail(err, -EEXIST, "the claim is not empty: import goes into a new, "
				  "empty claim");
	if (r < 0)
		return model_fail(err, r, "cannot read the claim: %s", strerror(-r));
	r = model_tar_open_in(in, body, len, fd);
	if (r < 0)
		return model_fail(err, r == -EBADMSG ? r : -EIO, "the body is not a tar: %s",
				  archive_error_string(in) ?: strerror(-r));
	if (archive_write_disk_set_options(*out, flags) != ARCHIVE_OK ||
	    archive_write_disk_set_standard_lookup(*out) != ARCHIVE_OK)
		return -EIO;
	r = model_tar_extract(in, *out, root, err);
	if (r < 0) {
		archive_write_free(*out);
		*out = NULL; /* closed before the claim is emptied again */
		nftw(root, model_tar_remove, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	}
	return r;
}

int model_claim_import(struct model *model, const char *ns, const char *name, const void *body,
		       size_t len, int fd, struct model_error *err)
{
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	char root[PATH_MAX];
	int r;

	model_error_init(err);
	r = -ENOMEM;
	if (in == NULL || out == NULL)
		goto out;
	r = model_tar_claim_dir(model, ns, name, root, err);
	if (r < 0)
		goto out;
	pthread_mutex_lock(&model_tar_import_lock);
	r = model_tar_import_into(in, &out, root, body, len, fd, err);
	pthread_mutex_unlock(&model_tar_import_lock);
	if (r == 0)
		log_info("import into claim %s/%s done", ns, name);
out:
	archive_read_free(in);
	archive_write_free(out);
	return r;
}
