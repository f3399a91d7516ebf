/*
 * http_client.h — the one blocking HTTP/1.1 client of claimfs: claimfs-csi
 * and claimfs-harness talk to claimfsd's API with it, the harness probes its
 * replicas with it, the bench drives the API with it.
 *
 * An endpoint is TCP (http://HOST[:PORT]) or a unix socket (unix:///PATH).
 * http_exchange() is one request on a fresh connection (`Connection:
 * close`), so "could the server have seen this request" has a crisp answer
 * (*ret_delivered: once the connection was established). An http_connection
 * keeps one connection open across requests (keep-alive) and re-opens it
 * once, transparently, when the server closed it while idle.
 *
 * Thread safety: an endpoint is read-only once set up and may be shared;
 * http_exchange() owns its socket, so any number of threads may call it at
 * once; an http_connection belongs to one thread at a time.
 *
 * Timeouts are per request (0: the endpoint's; the endpoint's 0: none) and
 * bound the connect, each send and each receive without progress.
 */
#ifndef CLAIMFS_LIB_HTTP_CLIENT_H
#define CLAIMFS_LIB_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "http_parse.h"

#define HTTP_DEFAULT_TIMEOUT_MS 30000

struct http_endpoint {
	bool unix_socket;
	char unix_path[108]; /* sockaddr_un.sun_path */
	char host[256];      /* TCP host, brackets of an IPv6 literal removed */
	char port[8];
	char host_header[280];
	char url[320];   /* "http://HOST:PORT" or "unix:PATH", for messages */
	char token[512]; /* bearer token, "" for none */
	const char *user_agent; /* a string literal; NULL sends none */
	const char *accept;     /* a string literal; NULL is application/json */
	int timeout_ms;         /* 0: no timeout */
	/* http_endpoint_resolve()'s answer; addr_len 0 resolves host at each
	 * connect and tries every address. */
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

struct http_request {
	const char *method;
	const char *path;
	const char *content_type; /* NULL: no Content-Type */
	const char *body;         /* NULL: no body (and no Content-Length) */
	size_t body_len;
	int timeout_ms; /* 0: the endpoint's */
	/* http_stream_open only: the body is read from body_fd to its end
	 * instead of from body: body_len bytes, or as many as come, sent chunked,
	 * when body_chunked (a pipe). */
	bool body_from_fd;
	bool body_chunked;
	int body_fd;
};

/* Parse "http://HOST[:PORT][/]" (HOST may be a [V6] literal) or
 * "unix:///PATH" / "unix:/PATH" into ret_endpoint: timeout
 * HTTP_DEFAULT_TIMEOUT_MS, no token, nothing resolved. -EINVAL otherwise. */
int http_endpoint_parse(const char *url, struct http_endpoint *ret_endpoint);

/* http://127.0.0.1:PORT, resolved, timeout HTTP_DEFAULT_TIMEOUT_MS. */
void http_endpoint_loopback(unsigned port, struct http_endpoint *ret_endpoint);

/* Resolve a TCP endpoint's host now and keep its first address, so that a
 * bad name fails here (-EHOSTUNREACH) and requests skip the lookup. A unix
 * endpoint is left as it is. */
int http_endpoint_resolve(struct http_endpoint *endpoint);

/* One request on a fresh connection and the whole answer (any status) into
 * ret_response. 0, or a negative errno for transport failures:
 * -ECONNREFUSED, -ENOENT (missing socket), -ETIMEDOUT, -ECONNRESET (closed
 * before answering), -EPROTO (malformed answer), -EMSGSIZE, -ENOMEM.
 * ret_response is untouched on failure. ret_delivered (may be NULL) is set
 * either way: false means the server cannot have seen the request. */
int http_exchange(const struct http_endpoint *endpoint, const struct http_request *request,
		  struct http_response *ret_response, bool *ret_delivered);

/* A keep-alive connection to one endpoint. Invariant between requests: fd
 * is -1 or a connected socket with no unread response bytes (answers are
 * read completely, requests never pipelined). */
struct http_connection {
	const struct http_endpoint *endpoint; /* not owned; outlives the connection */
	int fd;                               /* -1 while not connected */
	int fd_timeout_ms;                    /* the timeout set on fd */
	char *buf;                            /* received bytes of the current answer */
	size_t len, cap;
};

/* Prepare conn for endpoint; connects lazily. */
void http_connection_init(struct http_connection *conn, const struct http_endpoint *endpoint);
/* http_exchange() on conn's connection, opening it if needed. */
int http_connection_exchange(struct http_connection *conn, const struct http_request *request,
			     struct http_response *ret_response);
/* Close the connection and free its buffer; an unused or closed one is fine. */
void http_connection_close(struct http_connection *conn);

/* A request whose body and answer are streamed: an export or import of a
 * claim's tar, of any size, never held whole in memory (a block of
 * HTTP_STREAM_BLOCK at a time). The answer's head is read by
 * http_stream_open, its body by http_stream_read as it arrives. */
#define HTTP_STREAM_BLOCK (64 * 1024)
struct http_stream {
	struct http_connection conn; /* conn.buf[pos..len): received, not yet decoded */
	size_t pos;
	bool eof; /* the server closed the connection after conn.buf's bytes */
	struct http_body_decoder body;
};

/* Send request on a fresh connection (its body from body_fd when
 * body_from_fd) and read the answer's head: 0 with *ret_status (any status)
 * and ret_stream ready to read the body, or a negative errno as
 * http_exchange's (-EIO: body_fd ended before body_len bytes, or could not be
 * read). A server that answers and closes before taking the whole body (an
 * early error) still has its answer read. ret_stream is untouched on
 * failure; on success http_stream_close it. */
int http_stream_open(const struct http_endpoint *endpoint, const struct http_request *request,
		     struct http_stream *ret_stream, unsigned *ret_status);
/* Up to size (> 0) bytes of the answer's body into buf: how many, 0 once the body
 * has ended as its framing says, or a negative errno: -EPROTO if the
 * connection ended before the body did (a truncated answer) or the framing
 * is malformed, -ETIMEDOUT, -ECONNRESET. */
ssize_t http_stream_read(struct http_stream *stream, void *buf, size_t size);
/* Close the connection and free the buffer. */
void http_stream_close(struct http_stream *stream);

#endif
