/*
 * http_client.h — a tiny blocking HTTP/1.1 client over plain sockets, used
 * for the claimfsd API, the replicas' probes and the load itself.
 *
 * One connection per request ("Connection: close"), so "was this request
 * possibly seen by the server" has a crisp answer: it was once the TCP
 * connection was established (*ret_delivered). That is what the verdict's
 * in-flight accounting relies on.
 */
#ifndef CLAIMFS_HARNESS_HTTP_CLIENT_H
#define CLAIMFS_HARNESS_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct http_target {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char host_header[300]; /* "host:port" */
	char url[320];         /* "http://host:port" for messages */
};

struct http_response {
	unsigned status;
	char *body; /* NUL-terminated, malloc'd; NULL when empty */
	size_t body_len;
};

/* Resolve "http://HOST[:PORT]" (trailing '/' allowed). 0 or -errno. */
int http_target_parse(const char *url, struct http_target *ret_target);
/* 127.0.0.1:PORT. */
void http_target_loopback(unsigned port, struct http_target *ret_target);

/* Send one request and read the whole answer (any status) into
 * *ret_response. Returns 0 or -errno (-ETIMEDOUT, -ECONNREFUSED, -EPROTO for
 * a malformed answer...). *ret_delivered is set whether or not it fails:
 * false means the server cannot have seen the request. */
int http_exchange(const struct http_target *target, const char *method, const char *path,
		  const char *content_type, const char *body, unsigned timeout_ms,
		  struct http_response *ret_response, bool *ret_delivered);

/* http_exchange() without the delivery flag. */
int http_request(const struct http_target *target, const char *method, const char *path,
		 const char *content_type, const char *body, unsigned timeout_ms,
		 struct http_response *ret_response);

void http_response_free(struct http_response *response);

#endif
