/*
 * bench_http.h — a minimal HTTP/1.1 client for the bench: one keep-alive
 * TCP connection to 127.0.0.1:PORT, one request at a time.
 *
 * A connection that the server closed while idle is re-opened once,
 * transparently, before any byte of the response arrived; every other
 * failure is returned. Bodies are delimited by Content-Length, chunked
 * transfer coding, or (Connection: close) the end of the stream.
 */
#ifndef CLAIMFS_BENCH_HTTP_H
#define CLAIMFS_BENCH_HTTP_H

#include <stddef.h>

struct bench_http {
	char host[64];
	unsigned port;
	int fd;        /* -1 while not connected */
	char *buf;     /* response bytes (headers + body) */
	size_t len;    /* bytes in buf */
	size_t cap;
	char *body;    /* decoded body of the last response, NUL-terminated */
	size_t body_len;
	size_t body_cap;
};

/* Prepare a client for host (an IPv4 literal) and port; connects lazily. */
int bench_http_init(struct bench_http *conn, const char *host, unsigned port);
/* Send one request (body may be NULL) and read the whole response. The body
 * stays valid in conn->body until the next request. */
int bench_http_request(struct bench_http *conn, const char *method, const char *path,
		       const char *body, unsigned *ret_status);
/* Close the connection and free the buffers; accepts an unused client. */
void bench_http_free(struct bench_http *conn);

#endif
