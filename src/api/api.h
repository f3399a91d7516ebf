/*
 * api.h — the HTTP API, independent of any HTTP library: a route table of
 * handlers that take a parsed request and produce a status code and a JSON
 * body (or a stream of watch events). src/api/http.c adapts libmicrohttpd to
 * it; fuzzers and unit tests call it directly.
 */
#ifndef CLAIMFS_API_H
#define CLAIMFS_API_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct model;
struct model_watch_notify;

struct api_request {
	const char *method;       /* "GET", "POST", ... */
	const char *path;         /* "/api/v1/namespaces/default/persistentvolumeclaims" */
	const char *query;        /* raw query string without '?', or NULL */
	const char *content_type; /* header value or NULL */
	const char *accept;       /* header value or NULL */
	const char *body;
	size_t body_len;
	/* body_spooled: the body (body_len bytes) is the file open at body_fd
	 * instead (a claim's import tar, see http_spool.h); body is NULL. */
	bool body_spooled;
	int body_fd;
	bool ready; /* the mount is live (for /readyz) */
	/* The request carried the --token-file bearer token (false: no token is
	 * configured, the caller is anonymous); the reviews of api_auth.c. */
	bool authenticated;
};

#define API_WARNINGS_MAX 4096

/* A watch being streamed (?watch=true). */
struct api_watch;

struct api_response {
	unsigned status;
	char *body; /* malloc'd; the caller frees it */
	size_t body_len; /* 0: body is a C string (strlen) */
	const char *content_type;
	/* Non-NULL: status 200 and a stream of newline-separated WatchEvents
	 * instead of body; the caller drives and frees it (api_watch_*). */
	struct api_watch *watch;
	/* has_file: the body is the file open at file_fd (an unlinked copy,
	 * GET /backup) instead of body; the caller sends and closes it. */
	bool has_file;
	int file_fd;
	/* HTTP Warning header values ("299 - \"unknown field ...\""), each
	 * ending in '\n'; empty: none. */
	char warnings[API_WARNINGS_MAX];
};

/* Handle one request; always fills ret_response (errors become a
 * Kubernetes Status body). */
void api_handle(struct model *model, const struct api_request *req,
		struct api_response *ret_response);

/* The Status response for a request refused before any handler ran (the
 * HTTP layer's -EMSGSIZE for an oversized body, -EACCES for a missing or
 * wrong bearer token), mapped like every other error. message NULL: the
 * default text for errnum. */
void api_error_response(int errnum, const char *message, struct api_response *ret_response);

/* ---- watch streams ------------------------------------------------------------ */

/* Copy up to size bytes of the stream into buf. Returns the count (> 0);
 * 0 when nothing is ready (with notify: notify->suspend was called and
 * notify->resume will be when there is); -1 at the end of the stream
 * (timeoutSeconds reached, the client fell behind, or api_watch_stop). */
ssize_t api_watch_read(struct api_watch *w, char *buf, size_t size,
		       const struct model_watch_notify *notify);
/* Timers: wake the stream if its timeout or next bookmark is due at
 * now_ns (monotonic). Returns true if it was woken. */
bool api_watch_tick(struct api_watch *w, unsigned long long now_ns);
/* End the stream at the next read (shutdown) and wake it. */
void api_watch_stop(struct api_watch *w);
void api_watch_free(struct api_watch *w);

#endif
