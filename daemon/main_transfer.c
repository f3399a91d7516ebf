/*
 * main_transfer.c — the claimfsd commands that are clients of a running
 * daemon's API (README "Backup"): --export writes a claim's or a snapshot's
 * tar to a file or stdout, --import sends a tar into an empty claim. The
 * export and import themselves run inside the daemon (they need its mount);
 * these only move the stream, a block at a time (http_stream_*), so a claim
 * of any size never sits in this process's memory.
 *
 * Invariants: an export is reported done only once tar_check_stream found
 * the whole tar, end block included; an export to FILE is written to a
 * temporary name beside it and renamed into place only then, so a failed
 * export leaves nothing at FILE. Exit codes as --backup's: 0 done, 1 the
 * tar failed its check, 2 any other error (the server's Status message is
 * printed).
 */
#include "main_options.h"

#include "files.h"
#include "http_client.h"
#include "names.h"
#include "tar_check.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* No progress for this long is a dead daemon; an import's answer comes
 * after the whole tar is extracted, so it is generous. */
#define MAIN_TRANSFER_TIMEOUT_MS (10 * 60 * 1000)
/* A Status body and a claim are far smaller. */
#define MAIN_TRANSFER_ANSWER_MAX (64 * 1024)

/* NS/NAME of a claim into ns and name; false (said why) if malformed. */
static bool main_transfer_target(const char *option, const char *arg,
				 char ns[NAMES_LABEL_MAX + 1], char name[NAMES_SUBDOMAIN_MAX + 1])
{
	const char *slash = strchr(arg, '/');
	char msg[NAMES_FIELD_DETAIL_MAX];

	if (slash == NULL || (size_t)(slash - arg) > NAMES_LABEL_MAX ||
	    strlen(slash + 1) > NAMES_SUBDOMAIN_MAX) {
		fprintf(stderr, "claimfsd: %s takes NAMESPACE/CLAIM, not '%s'\n", option, arg);
		return false;
	}
	snprintf(ns, NAMES_LABEL_MAX + 1, "%.*s", (int)(slash - arg), arg);
	snprintf(name, NAMES_SUBDOMAIN_MAX + 1, "%s", slash + 1);
	if (names_check_label(ns, msg, sizeof(msg)) < 0 ||
	    names_check_subdomain(name, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "claimfsd: %s '%s': %s\n", option, arg, msg);
		return false;
	}
	return true;
}

/* The daemon's API: --unix-socket if given, else --listen; --token-file's token. */
static bool main_transfer_endpoint(const struct main_options *o, struct http_endpoint *ep)
{
	const char *port = o->listen != NULL ? strrchr(o->listen, ':') : NULL;
	char url[PATH_MAX + 16];
	int r;

	if (o->unix_socket == NULL && (port == NULL || strcmp(port, ":0") == 0)) {
		fprintf(stderr, "claimfsd: give the daemon's API: --listen HOST:PORT (its port, "
				"not 0) or --unix-socket PATH\n");
		return false;
	}
	snprintf(url, sizeof(url), o->unix_socket ? "unix:%s" : "http://%s",
		 o->unix_socket ? o->unix_socket : o->listen);
	if (http_endpoint_parse(url, ep) < 0) {
		fprintf(stderr, "claimfsd: cannot reach the API at '%s': not HOST:PORT or a path\n",
			url);
		return false;
	}
	ep->timeout_ms = MAIN_TRANSFER_TIMEOUT_MS;
	ep->user_agent = "claimfsd";
	ep->accept = "application/x-tar, application/json";
	if (o->token_file != NULL &&
	    (r = files_read_token(o->token_file, ep->token, sizeof(ep->token))) < 0) {
		fprintf(stderr, "claimfsd: cannot read a token from %s: %s\n", o->token_file,
			r == -ENODATA ? "the file holds no token" : strerror(-r));
		return false;
	}
	return true;
}

/* Say why a request failed: the Status message of an answer, or the errno. */
static void main_transfer_failed(const char *what, int r, unsigned status, const char *body,
				 const struct http_endpoint *ep)
{
	json_t *answer = r == 0 ? json_loads(body, 0, NULL) : NULL;
	const char *message = json_string_value(json_object_get(answer, "message"));
	const char *reason = json_string_value(json_object_get(answer, "reason"));

	if (r < 0)
		fprintf(stderr, "claimfsd: %s failed: cannot talk to the daemon at %s: %s\n", what,
			ep->url, strerror(-r));
	else if (message != NULL)
		fprintf(stderr, "claimfsd: %s failed: %s (%u %s)\n", what, message, status,
			reason != NULL ? reason : "");
	else
		fprintf(stderr, "claimfsd: %s failed: the daemon answered %u: %.200s\n", what,
			status, body);
	json_decref(answer);
}

/* The rest of a stream's body (an answer or a Status) into buf, cut at size. */
static int main_transfer_answer(struct http_stream *stream, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while ((n = http_stream_read(stream, buf + len, size - 1 - len)) > 0)
		if ((len += (size_t)n) == size - 1)
			break;
	buf[len] = '\0';
	return n < 0 ? (int)n : 0;
}

/* One request with a small JSON body and answer; -errno for the transport. */
static int main_transfer_json(const struct http_endpoint *ep, const char *method,
			      const char *path, const char *body, unsigned *ret_status,
			      json_t **ret_answer, char *raw, size_t raw_size)
{
	struct http_request req = { .method = method, .path = path, .body = body,
				    .body_len = body != NULL ? strlen(body) : 0,
				    .content_type = "application/json" };
	struct http_response res;
	int r = http_exchange(ep, &req, &res, NULL);

	if (r < 0)
		return r;
	*ret_status = res.status;
	*ret_answer = json_loads(res.body, 0, NULL);
	snprintf(raw, raw_size, "%s", res.body);
	http_response_free(&res);
	return 0;
}

/* ---- export --------------------------------------------------------------------------- */

/* The snapshot must be one of claim; false (said why) if not. */
static bool main_export_snapshot_of(const struct http_endpoint *ep, const char *ns,
				    const char *claim, const char *snapshot, const char *what)
{
	char path[1024], raw[MAIN_TRANSFER_ANSWER_MAX];
	json_t *answer = NULL;
	unsigned status = 0;
	const char *source;
	int r;

	snprintf(path, sizeof(path),
		 "/apis/snapshot.storage.k8s.io/v1/namespaces/%s/volumesnapshots/%s", ns, snapshot);
	r = main_transfer_json(ep, "GET", path, NULL, &status, &answer, raw, sizeof(raw));
	if (r < 0 || status != 200) {
		main_transfer_failed(what, r, status, raw, ep);
		json_decref(answer);
		return false;
	}
	source = json_string_value(json_object_get(
		json_object_get(json_object_get(answer, "spec"), "source"), "persistentVolumeClaimName"));
	if (source == NULL || strcmp(source, claim) != 0)
		fprintf(stderr, "claimfsd: %s failed: the VolumeSnapshot %s/%s is a snapshot of "
				"claim %s, not of %s\n",
			what, ns, snapshot, source != NULL ? source : "(none)", claim);
	r = source != NULL && strcmp(source, claim) == 0;
	json_decref(answer);
	return r;
}

/* Where the tar goes: each block read from the stream is written to fd. */
struct main_export_copy {
	struct http_stream *stream;
	int fd;
};

static ssize_t main_export_read(void *ud, void *buf, size_t size)
{
	struct main_export_copy *copy = ud;
	ssize_t n = http_stream_read(copy->stream, buf, size);

	int r = n > 0 ? files_write_all(copy->fd, buf, (size_t)n) : 0;

	return r < 0 ? r : n;
}

/* Stream the export at path into fd, checked. 0, or an exit code (said why). */
static int main_export_stream(const struct http_endpoint *ep, const char *path, int fd,
			      const char *what, struct tar_check_result *ret_result)
{
	struct http_request req = { .method = "GET", .path = path };
	struct main_export_copy copy = { .fd = fd };
	struct http_stream stream;
	char why[512], answer[MAIN_TRANSFER_ANSWER_MAX];
	unsigned status = 0;
	int r = http_stream_open(ep, &req, &stream, &status);

	if (r < 0 || status != 200) {
		if (r == 0) {
			r = main_transfer_answer(&stream, answer, sizeof(answer));
			http_stream_close(&stream);
		}
		main_transfer_failed(what, r, status, answer, ep);
		return 2;
	}
	copy.stream = &stream;
	r = tar_check_stream(main_export_read, &copy, ret_result, why, sizeof(why));
	http_stream_close(&stream);
	if (r == -EPROTO)
		fprintf(stderr, "claimfsd: %s failed its check: the daemon's answer ended before "
				"its end (%s)\n",
			what, why);
	else if (r < 0)
		fprintf(stderr, "claimfsd: %s failed its check: %s\n", what, why);
	return r == 0 ? 0 : r == -EBADMSG || r == -EPROTO ? 1 : 2;
}

/* See main_options.h. */
int main_export(const struct main_options *o)
{
	char ns[NAMES_LABEL_MAX + 1], name[NAMES_SUBDOMAIN_MAX + 1], what[600], path[1024];
	char partial[PATH_MAX];
	struct tar_check_result result = { 0 };
	struct http_endpoint ep;
	bool to_stdout = strcmp(o->export_to, "-") == 0;
	int fd = STDOUT_FILENO, code;

	if (!main_transfer_target("--export", o->export_claim, ns, name) ||
	    !main_transfer_endpoint(o, &ep))
		return 2;
	if (o->snapshot != NULL) {
		snprintf(what, sizeof(what), "export of snapshot %s/%s", ns, o->snapshot);
		snprintf(path, sizeof(path),
			 "/apis/snapshot.storage.k8s.io/v1/namespaces/%s/volumesnapshots/%s/export",
			 ns, o->snapshot);
		if (!main_export_snapshot_of(&ep, ns, name, o->snapshot, what))
			return 2;
	} else {
		snprintf(what, sizeof(what), "export of claim %s/%s", ns, name);
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/persistentvolumeclaims/%s/export",
			 ns, name);
	}
	if (!to_stdout) {
		if (snprintf(partial, sizeof(partial), "%s.partial-%ld", o->export_to,
			     (long)getpid()) >= (int)sizeof(partial) ||
		    (fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
			fprintf(stderr, "claimfsd: cannot write %s: %s\n", o->export_to,
				strerror(errno ?: ENAMETOOLONG));
			return 2;
		}
	}
	code = main_export_stream(&ep, path, fd, what, &result);
	if (!to_stdout) {
		if (code == 0 && (fsync(fd) < 0 || rename(partial, o->export_to) < 0 ||
				  files_sync_parent_dir(o->export_to) < 0)) {
			fprintf(stderr, "claimfsd: cannot write %s: %s\n", o->export_to,
				strerror(errno));
			code = 2;
		}
		close(fd);
		if (code != 0)
			unlink(partial);
	}
	if (code == 0)
		fprintf(stderr, "claimfsd: %s written to %s: %llu entries, %llu bytes; the tar "
				"passed its check\n",
			what, to_stdout ? "stdout" : o->export_to,
			(unsigned long long)result.entries, (unsigned long long)result.bytes);
	return code;
}

/* ---- import --------------------------------------------------------------------------- */

/* --size: create the claim, which must come back Bound. */
static bool main_import_create(const struct http_endpoint *ep, const char *ns, const char *name,
			       const char *size, const char *what)
{
	char path[512], raw[MAIN_TRANSFER_ANSWER_MAX], *body;
	json_t *claim = json_pack("{s:s, s:s, s:{s:s}, s:{s:[s], s:{s:{s:s}}}}", "apiVersion", "v1",
				  "kind", "PersistentVolumeClaim", "metadata", "name", name, "spec",
				  "accessModes", "ReadWriteOnce", "resources", "requests",
				  "storage", size);
	json_t *answer = NULL;
	unsigned status = 0;
	const char *phase;
	int r = -ENOMEM;

	body = claim != NULL ? json_dumps(claim, JSON_COMPACT) : NULL;
	json_decref(claim);
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/persistentvolumeclaims", ns);
	if (body != NULL)
		r = main_transfer_json(ep, "POST", path, body, &status, &answer, raw, sizeof(raw));
	free(body);
	if (r < 0 || status != 201) {
		main_transfer_failed(what, r, status, raw, ep);
		json_decref(answer);
		return false;
	}
	phase = json_string_value(json_object_get(json_object_get(answer, "status"), "phase"));
	if (phase == NULL || strcmp(phase, "Bound") != 0)
		fprintf(stderr, "claimfsd: %s failed: the claim %s/%s was created but is %s, not "
				"Bound (see kubectl describe pvc); import once it is bound\n",
			what, ns, name, phase != NULL ? phase : "without a phase");
	r = phase != NULL && strcmp(phase, "Bound") == 0;
	json_decref(answer);
	return r;
}

/* See main_options.h. */
int main_import(const struct main_options *o)
{
	char ns[NAMES_LABEL_MAX + 1], name[NAMES_SUBDOMAIN_MAX + 1], what[600], path[1024];
	char answer[MAIN_TRANSFER_ANSWER_MAX] = "";
	bool from_stdin = strcmp(o->import_from, "-") == 0;
	struct http_request req = { .method = "POST", .path = path, .body_from_fd = true,
				    .content_type = "application/x-tar" };
	struct http_endpoint ep;
	struct http_stream stream;
	unsigned status = 0;
	struct stat st;
	int r;

	if (!main_transfer_target("--into", o->import_into, ns, name) ||
	    !main_transfer_endpoint(o, &ep))
		return 2;
	snprintf(what, sizeof(what), "import of %s into claim %s/%s",
		 from_stdin ? "stdin" : o->import_from, ns, name);
	req.body_fd = from_stdin ? STDIN_FILENO : open(o->import_from, O_RDONLY | O_CLOEXEC);
	if (req.body_fd < 0 || fstat(req.body_fd, &st) < 0) {
		fprintf(stderr, "claimfsd: cannot read %s: %s\n", o->import_from, strerror(errno));
		return 2;
	}
	/* A file's length is known; a pipe's body goes chunked. */
	req.body_chunked = !S_ISREG(st.st_mode);
	req.body_len = S_ISREG(st.st_mode) ? (size_t)st.st_size : 0;
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/persistentvolumeclaims/%s/import", ns,
		 name);
	r = o->import_size == NULL || main_import_create(&ep, ns, name, o->import_size, what)
		    ? http_stream_open(&ep, &req, &stream, &status)
		    : 1;
	if (r == 0) {
		r = main_transfer_answer(&stream, answer, sizeof(answer));
		http_stream_close(&stream);
	}
	if (!from_stdin)
		close(req.body_fd);
	if (r == 1)
		return 2; /* the claim could not be created (said why) */
	if (r < 0 || status != 200) {
		main_transfer_failed(what, r, status, answer, &ep);
		return 2;
	}
	fprintf(stderr, "claimfsd: %s done\n", what);
	return 0;
}
