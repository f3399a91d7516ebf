/*
 * api.h — the HTTP API, independent of any HTTP library: a route table of
 * handlers that take a parsed request and produce a status code and a JSON
 * body. daemon/http.c adapts libmicrohttpd to it; fuzzers call it directly.
 */
#ifndef CLAIMFS_API_H
#define CLAIMFS_API_H

#include <stdbool.h>
#include <stddef.h>

struct model;

struct api_request {
	const char *method;       /* "GET", "POST", ... */
	const char *path;         /* "/api/v1/namespaces/default/persistentvolumeclaims" */
	const char *query;        /* raw query string without '?', or NULL */
	const char *content_type; /* header value or NULL */
	const char *body;
	size_t body_len;
	bool ready; /* the mount is live (for /readyz) */
};

struct api_response {
	unsigned status;
	char *body; /* malloc'd; the caller frees it */
	const char *content_type;
};

/* Handle one request; always fills ret_response (errors become a
 * Kubernetes Status body). */
void api_handle(struct model *model, const struct api_request *req,
		struct api_response *ret_response);

/* The Status response for a request refused before any handler ran (the
 * HTTP layer's -EMSGSIZE for an oversized body), mapped like every other
 * error. message NULL: the default text for errnum. */
void api_error_response(int errnum, const char *message, struct api_response *ret_response);

#endif
