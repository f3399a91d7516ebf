/*
 * http_client.h — a minimal blocking HTTP/1.1 client over TCP or a unix
 * socket: just enough to talk to claimfsd's API (one request per connection,
 * `Connection: close`, Content-Length or chunked answers).
 *
 * Every function is safe to call from several threads at once: an endpoint
 * is read-only after http_endpoint_parse, each request owns its socket.
 */
#ifndef CLAIMFS_CSI_HTTP_CLIENT_H
#define CLAIMFS_CSI_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

/* Bodies above this are refused (-EMSGSIZE): claimfsd lists are far smaller. */
#define HTTP_BODY_MAX (64u << 20)

struct http_endpoint {
	bool unix_socket;
	char unix_path[108]; /* sockaddr_un.sun_path */
	char host[256];      /* TCP host, brackets of an IPv6 literal removed */
	char port[8];
	char host_header[280];
	char token[512]; /* bearer token, "" for none */
	int timeout_ms;  /* connect, each send and each receive */
};

/* Parse "http://HOST[:PORT][/]" or "unix:///PATH" / "unix:/PATH" into
 * ret_endpoint (timeout 30 s, no token). -EINVAL for anything else. */
int http_endpoint_parse(const char *url, struct http_endpoint *ret_endpoint);

struct http_response {
	unsigned status;
	char *body; /* malloc'd, NUL-terminated (the NUL is not in body_len) */
	size_t body_len;
};

/* Send one request and read the whole answer. body may be NULL (no body).
 * 0 with ret_response filled (any HTTP status), or a negative errno for
 * transport failures (-ECONNREFUSED, -ENOENT for a missing socket,
 * -ETIMEDOUT, -EPROTO for a malformed answer, -EMSGSIZE, -ENOMEM).
 * ret_response is untouched on failure. */
int http_request(const struct http_endpoint *endpoint, const char *method, const char *path,
		 const char *content_type, const char *body, size_t body_len,
		 struct http_response *ret_response);

/* Free the body; NULL is a no-op. */
void http_response_free(struct http_response *response);

#endif
