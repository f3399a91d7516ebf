/*
 * http_client.c — blocking HTTP/1.1 requests over TCP or a unix socket (see
 * http_client.h); http_parse.c reads the answers.
 *
 * Invariants: every socket is SOCK_CLOEXEC (the harness forks replicas while
 * requests run) and TCP ones TCP_NODELAY (a request is one small write; the
 * bench measures latency); send() uses MSG_NOSIGNAL so a closed peer is an
 * error, not SIGPIPE; received bytes are capped (HTTP_RAW_MAX); timeouts are
 * SO_SNDTIMEO/SO_RCVTIMEO (Linux applies the send timeout to connect too), so
 * no call blocks longer than the timeout without progress.
 *
 * One code path serves both modes: http_exchange() is a connection used
 * once and closed, asking `Connection: close`; http_connection_exchange()
 * keeps it and leaves the header out. http_stream_open() sends the same
 * head, then streams its body from a descriptor, and leaves the answer's
 * body on the socket for http_stream_read(), which decodes it a block at a
 * time (http_body_decode): nothing of a streamed body is held beyond one
 * block.
 */
#include "http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

/* Request heads are a line, a path and a token: far below this. */
#define HTTP_REQUEST_HEAD_MAX 4096
/* Raw answer bytes: head, body and chunk framing. */
#define HTTP_RAW_MAX ((size_t)HTTP_HEAD_MAX + HTTP_BODY_MAX + (HTTP_BODY_MAX >> 3))

/* ---- endpoint ------------------------------------------------------------------------- */

/* Copy src[0..len) into dst of size; -EINVAL if it does not fit. */
static int http_copy(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		return -EINVAL;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

/* Parse the unix: form. */
static int http_parse_unix(const char *rest, struct http_endpoint *ep)
{
	/* "unix:///p" and "unix:/p" both name /p; "unix://host/p" is not ours. */
	if (strncmp(rest, "//", 2) == 0) {
		rest += 2;
		if (*rest != '/')
			return -EINVAL;
	}
	if (*rest != '/' || http_copy(ep->unix_path, sizeof(ep->unix_path), rest, strlen(rest)) < 0)
		return -EINVAL;
	ep->unix_socket = true;
	snprintf(ep->url, sizeof(ep->url), "unix:%s", ep->unix_path);
	return http_copy(ep->host_header, sizeof(ep->host_header), "localhost", 9);
}

/* The host of an http:// authority: HOST or [V6]; end points past it. */
static int http_parse_host(const char *rest, size_t len, struct http_endpoint *ep,
			   const char **ret_end)
{
	const char *end;

	if (rest[0] == '[') {
		end = memchr(rest, ']', len);
		if (end == NULL || http_copy(ep->host, sizeof(ep->host), rest + 1,
					     (size_t)(end - rest - 1)) < 0)
			return -EINVAL;
		*ret_end = end + 1;
		return 0;
	}
	end = rest;
	while ((size_t)(end - rest) < len && *end != ':' && *end != '/')
		end++;
	*ret_end = end;
	return http_copy(ep->host, sizeof(ep->host), rest, (size_t)(end - rest));
}

/* Parse the http:// form: HOST, [V6], optional :PORT, optional "/". */
static int http_parse_tcp(const char *rest, struct http_endpoint *ep)
{
	const char *host_end, *port = "80";
	size_t port_len = 2, len = strlen(rest);
	int n;

	if (len > 0 && rest[len - 1] == '/')
		len--;
	if (len == 0 || http_parse_host(rest, len, ep, &host_end) < 0)
		return -EINVAL;
	if ((size_t)(host_end - rest) < len) {
		if (*host_end != ':')
			return -EINVAL; /* a path prefix is not supported */
		port = host_end + 1;
		port_len = len - (size_t)(port - rest);
		if (port_len == 0 || strspn(port, "0123456789") < port_len)
			return -EINVAL;
	}
	if (ep->host[0] == '\0' || http_copy(ep->port, sizeof(ep->port), port, port_len) < 0 ||
	    http_copy(ep->host_header, sizeof(ep->host_header), rest, len) < 0)
		return -EINVAL;
	n = snprintf(ep->url, sizeof(ep->url), strchr(ep->host, ':') ? "http://[%s]:%s" : "http://%s:%s",
		     ep->host, ep->port);
	if (n < 0 || (size_t)n >= sizeof(ep->url))
		return -EINVAL;
	ep->unix_socket = false;
	return 0;
}

/* See http_client.h. */
int http_endpoint_parse(const char *url, struct http_endpoint *ret_endpoint)
{
	struct http_endpoint ep;
	int r;

	memset(&ep, 0, sizeof(ep));
	ep.timeout_ms = HTTP_DEFAULT_TIMEOUT_MS;
	if (strncmp(url, "unix:", 5) == 0)
		r = http_parse_unix(url + 5, &ep);
	else if (strncmp(url, "http://", 7) == 0)
		r = http_parse_tcp(url + 7, &ep);
	else
		r = -EINVAL;
	if (r < 0)
		return r;
	*ret_endpoint = ep;
	return 0;
}

/* See http_client.h. */
void http_endpoint_loopback(unsigned port, struct http_endpoint *ret_endpoint)
{
	struct http_endpoint *ep = ret_endpoint;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ep->addr;

	memset(ep, 0, sizeof(*ep));
	ep->timeout_ms = HTTP_DEFAULT_TIMEOUT_MS;
	snprintf(ep->host, sizeof(ep->host), "127.0.0.1");
	snprintf(ep->port, sizeof(ep->port), "%u", port & 0xffff);
	snprintf(ep->host_header, sizeof(ep->host_header), "127.0.0.1:%u", port & 0xffff);
	snprintf(ep->url, sizeof(ep->url), "http://127.0.0.1:%u", port & 0xffff);
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ep->addr_len = sizeof(*sin);
}

/* See http_client.h. */
int http_endpoint_resolve(struct http_endpoint *endpoint)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *list = NULL;

	if (endpoint->unix_socket)
		return 0;
	if (getaddrinfo(endpoint->host, endpoint->port, &hints, &list) != 0 || list == NULL)
		return -EHOSTUNREACH;
	if (list->ai_addrlen > sizeof(endpoint->addr)) {
		freeaddrinfo(list);
		return -EHOSTUNREACH;
	}
	memcpy(&endpoint->addr, list->ai_addr, list->ai_addrlen);
	endpoint->addr_len = list->ai_addrlen;
	freeaddrinfo(list);
	return 0;
}

/* ---- transport ------------------------------------------------------------------------ */

/* Apply timeout_ms (0: none) to both directions of fd. */
static int http_set_timeouts(int fd, int timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

/* A socket for addr connected within timeout_ms: the fd or -errno. */
static int http_connect_addr(const struct sockaddr *addr, socklen_t addr_len, int timeout_ms)
{
	int one = 1, fd, r;

	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = http_set_timeouts(fd, timeout_ms);
	if (r == 0 && addr->sa_family != AF_UNIX &&
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		r = -errno;
	if (r == 0 && connect(fd, addr, addr_len) < 0)
		r = (errno == EINPROGRESS || errno == EAGAIN) ? -ETIMEDOUT : -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Connect to the endpoint: its unix socket, its resolved address, or the
 * first address of host:port that accepts. The fd or -errno. */
static int http_connect(const struct http_endpoint *ep, int timeout_ms)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *list = NULL, *ai;
	int fd = -ECONNREFUSED, r;

	if (ep->unix_socket) {
		struct sockaddr_un addr = { .sun_family = AF_UNIX };

		memcpy(addr.sun_path, ep->unix_path, strlen(ep->unix_path) + 1);
		return http_connect_addr((struct sockaddr *)&addr, sizeof(addr), timeout_ms);
	}
	if (ep->addr_len > 0)
		return http_connect_addr((const struct sockaddr *)&ep->addr, ep->addr_len, timeout_ms);
	r = getaddrinfo(ep->host, ep->port, &hints, &list);
	if (r != 0)
		return r == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	for (ai = list; ai != NULL; ai = ai->ai_next) {
		fd = http_connect_addr(ai->ai_addr, ai->ai_addrlen, timeout_ms);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(list);
	return fd;
}

/* Append printf output to buf[*len..size); -ENAMETOOLONG if it does not fit. */
__attribute__((format(printf, 4, 5))) static int http_append(char *buf, size_t size, size_t *len,
							     const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *len)
		return -ENAMETOOLONG;
	*len += (size_t)n;
	return 0;
}

/* The request line and headers, ending with the empty line. */
static int http_format_head(const struct http_endpoint *ep, const struct http_request *req,
			    bool keep_alive, char *buf, size_t size, size_t *ret_len)
{
	size_t len = 0;
	int r;

	r = http_append(buf, size, &len, "%s %s HTTP/1.1\r\nHost: %s\r\nAccept: %s\r\n", req->method,
			req->path, ep->host_header, ep->accept != NULL ? ep->accept : "application/json");
	if (r == 0 && ep->user_agent != NULL)
		r = http_append(buf, size, &len, "User-Agent: %s\r\n", ep->user_agent);
	if (r == 0 && !keep_alive)
		r = http_append(buf, size, &len, "Connection: close\r\n");
	if (r == 0 && ep->token[0] != '\0')
		r = http_append(buf, size, &len, "Authorization: Bearer %s\r\n", ep->token);
	if (r == 0 && (req->body != NULL || req->body_from_fd) && req->content_type != NULL)
		r = http_append(buf, size, &len, "Content-Type: %s\r\n", req->content_type);
	if (r == 0 && req->body_from_fd && req->body_chunked)
		r = http_append(buf, size, &len, "Transfer-Encoding: chunked\r\n");
	else if (r == 0 && (req->body != NULL || req->body_from_fd))
		r = http_append(buf, size, &len, "Content-Length: %zu\r\n", req->body_len);
	if (r == 0)
		r = http_append(buf, size, &len, "\r\n");
	if (r < 0)
		return r;
	*ret_len = len;
	return 0;
}

/* Send head and body in one go; -errno (-ETIMEDOUT for a stalled peer). */
static int http_send(int fd, const char *head, size_t head_len, const char *body, size_t body_len)
{
	struct iovec iov[2] = { { .iov_base = (void *)head, .iov_len = head_len },
				{ .iov_base = (void *)body, .iov_len = body != NULL ? body_len : 0 } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	while (iov[0].iov_len + iov[1].iov_len > 0) {
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
		size_t sent;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
		}
		sent = (size_t)n;
		for (int i = 0; i < 2; i++) {
			size_t used = sent < iov[i].iov_len ? sent : iov[i].iov_len;

			iov[i].iov_base = (char *)iov[i].iov_base + used;
			iov[i].iov_len -= used;
			sent -= used;
		}
	}
	return 0;
}

/* Room for at least 4 KiB more in conn's buffer; -EMSGSIZE past HTTP_RAW_MAX. */
static int http_reserve(struct http_connection *conn)
{
	size_t cap = conn->cap != 0 ? conn->cap : 8192;
	char *bigger;

	if (conn->cap - conn->len >= 4096)
		return 0;
	while (cap - conn->len < 4096)
		cap *= 2;
	if (cap > HTTP_RAW_MAX)
		return -EMSGSIZE;
	bigger = realloc(conn->buf, cap);
	if (bigger == NULL)
		return -ENOMEM;
	conn->buf = bigger;
	conn->cap = cap;
	return 0;
}

/* Is the answer in conn's buffer certainly incomplete? Saves re-parsing a
 * long Content-Length body after every read. */
static bool http_surely_short(const struct http_connection *conn)
{
	struct http_head head;

	return http_head_parse(conn->buf, conn->len, &head) == 0 && head.has_length &&
	       !head.chunked && conn->len - head.head_len < head.content_length;
}

/* Receive one whole answer. *ret_got_bytes says whether any byte came. */
static int http_receive(struct http_connection *conn, struct http_response *ret_response,
			bool *ret_close, bool *ret_got_bytes)
{
	size_t used;
	int r;

	conn->len = 0;
	*ret_got_bytes = false;
	for (;;) {
		ssize_t n;

		r = http_reserve(conn);
		if (r < 0)
			return r;
		n = recv(conn->fd, conn->buf + conn->len, conn->cap - conn->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
		if (n == 0 && conn->len == 0)
			return -ECONNRESET;
		conn->len += (size_t)n;
		*ret_got_bytes = true;
		if (n > 0 && http_surely_short(conn))
			continue;
		r = http_response_parse(conn->buf, conn->len, n == 0, ret_response, &used, ret_close);
		if (r != -EAGAIN)
			return r;
	}
}

/* Open conn's connection; -errno. */
static int http_open(struct http_connection *conn, int timeout_ms)
{
	int fd = http_connect(conn->endpoint, timeout_ms);

	if (fd < 0)
		return fd;
	conn->fd = fd;
	conn->fd_timeout_ms = timeout_ms;
	return 0;
}

/* Drop conn's socket (the buffer stays for reuse). */
static void http_disconnect(struct http_connection *conn)
{
	if (conn->fd >= 0)
		close(conn->fd);
	conn->fd = -1;
}

/* Send request on conn's open connection and read the answer. */
static int http_roundtrip(struct http_connection *conn, const struct http_request *req,
			  int timeout_ms, bool keep_alive, struct http_response *ret_response,
			  bool *ret_got_bytes)
{
	char head[HTTP_REQUEST_HEAD_MAX];
	size_t head_len;
	bool close_after = true;
	int r;

	*ret_got_bytes = false;
	r = http_format_head(conn->endpoint, req, keep_alive, head, sizeof(head), &head_len);
	if (r == 0 && conn->fd_timeout_ms != timeout_ms) {
		r = http_set_timeouts(conn->fd, timeout_ms);
		conn->fd_timeout_ms = r == 0 ? timeout_ms : -1;
	}
	if (r == 0)
		r = http_send(conn->fd, head, head_len, req->body, req->body_len);
	if (r == 0)
		r = http_receive(conn, ret_response, &close_after, ret_got_bytes);
	if (r < 0 || close_after || !keep_alive)
		http_disconnect(conn);
	return r;
}

/* The timeout a request runs with. */
static int http_timeout(const struct http_endpoint *ep, const struct http_request *req)
{
	return req->timeout_ms != 0 ? req->timeout_ms : ep->timeout_ms;
}

/* ---- requests ------------------------------------------------------------------------- */

/* See http_client.h. */
int http_exchange(const struct http_endpoint *endpoint, const struct http_request *request,
		  struct http_response *ret_response, bool *ret_delivered)
{
	struct http_connection conn;
	int timeout_ms = http_timeout(endpoint, request), r;
	bool got_bytes;

	http_connection_init(&conn, endpoint);
	r = http_open(&conn, timeout_ms);
	if (ret_delivered != NULL)
		*ret_delivered = r == 0;
	if (r == 0)
		r = http_roundtrip(&conn, request, timeout_ms, false, ret_response, &got_bytes);
	http_connection_close(&conn);
	return r;
}

/* See http_client.h. */
void http_connection_init(struct http_connection *conn, const struct http_endpoint *endpoint)
{
	memset(conn, 0, sizeof(*conn));
	conn->endpoint = endpoint;
	conn->fd = -1;
	conn->fd_timeout_ms = -1;
}

/* See http_client.h. A connection the server closed while idle shows as
 * EOF or a reset before any answer byte: then, and only then, retry once. */
int http_connection_exchange(struct http_connection *conn, const struct http_request *request,
			     struct http_response *ret_response)
{
	int timeout_ms = http_timeout(conn->endpoint, request), r = -EIO;

	for (int attempt = 0; attempt < 2; attempt++) {
		bool reused = conn->fd >= 0, got_bytes = false;

		if (!reused) {
			r = http_open(conn, timeout_ms);
			if (r < 0)
				return r;
		}
		r = http_roundtrip(conn, request, timeout_ms, true, ret_response, &got_bytes);
		if (r == 0 || !reused || got_bytes)
			break;
	}
	return r;
}

/* See http_client.h. */
void http_connection_close(struct http_connection *conn)
{
	http_disconnect(conn);
	free(conn->buf);
	conn->buf = NULL;
	conn->len = conn->cap = 0;
}

/* ---- streams ---------------------------------------------------------------------------- */

/* Send the body read from req->body_fd to its end: body_len bytes, or in
 * chunks (each read is one chunk; the empty read sends the last one). */
static int http_send_body_fd(int sock, const struct http_request *req)
{
	/* Room for a chunk's size line before the data and its CRLF after. */
	const size_t before = 24;
	char *buf = malloc(before + HTTP_STREAM_BLOCK + 2), line[24];
	size_t sent = 0;
	int r = 0;

	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		size_t want = req->body_chunked ? HTTP_STREAM_BLOCK
				: req->body_len - sent < HTTP_STREAM_BLOCK ? req->body_len - sent
									  : HTTP_STREAM_BLOCK;
		ssize_t n = want > 0 ? read(req->body_fd, buf + before, want) : 0;
		int h;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -EIO;
			break;
		}
		if (!req->body_chunked) {
			if (n == 0) {
				r = sent == req->body_len ? 0 : -EIO; /* the file shrank */
				break;
			}
			r = http_send(sock, buf + before, (size_t)n, NULL, 0);
			sent += (size_t)n;
			if (r < 0)
				break;
			continue;
		}
		h = snprintf(line, sizeof(line), "%zx\r\n", (size_t)n);
		memcpy(buf + before - (size_t)h, line, (size_t)h);
		memcpy(buf + before + n, "\r\n", 2);
		r = http_send(sock, buf + before - (size_t)h, (size_t)h + (size_t)n + 2, NULL, 0);
		if (r < 0 || n == 0)
			break;
	}
	free(buf);
	return r;
}

/* Receive more bytes after stream's undecoded ones (moved to the front). */
static int http_stream_fill(struct http_stream *s)
{
	struct http_connection *conn = &s->conn;
	ssize_t n;

	if (s->eof)
		return -EPROTO;
	memmove(conn->buf, conn->buf + s->pos, conn->len - s->pos);
	conn->len -= s->pos;
	s->pos = 0;
	if (conn->len == conn->cap)
		return -EPROTO; /* no framing line is that long */
	do
		n = recv(conn->fd, conn->buf + conn->len, conn->cap - conn->len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
	conn->len += (size_t)n;
	s->eof = n == 0;
	return 0;
}

/* Read the answer's head (skipping 1xx ones); the body decoder set up. */
static int http_stream_head(struct http_stream *s, unsigned *ret_status)
{
	struct http_head head;
	int r;

	for (;;) {
		r = http_head_parse(s->conn.buf + s->pos, s->conn.len - s->pos, &head);
		if (r == 0 && head.status >= 200)
			break;
		if (r == 0) {
			s->pos += head.head_len; /* 100 Continue */
			continue;
		}
		if (r != -EAGAIN)
			return r;
		r = http_stream_fill(s);
		if (r == 0 && s->eof && s->conn.len == 0)
			r = -ECONNRESET;
		if (r < 0)
			return r;
	}
	s->pos += head.head_len;
	http_body_decoder_init(&s->body, &head);
	*ret_status = head.status;
	return 0;
}

/* See http_client.h. */
int http_stream_open(const struct http_endpoint *endpoint, const struct http_request *request,
		     struct http_stream *ret_stream, unsigned *ret_status)
{
	struct http_stream s = { .pos = 0 };
	int timeout_ms = http_timeout(endpoint, request), r, sent;
	char head[HTTP_REQUEST_HEAD_MAX];
	size_t head_len;

	http_connection_init(&s.conn, endpoint);
	r = http_format_head(endpoint, request, false, head, sizeof(head), &head_len);
	if (r == 0)
		r = http_open(&s.conn, timeout_ms);
	if (r == 0 && (s.conn.buf = malloc(HTTP_STREAM_BLOCK)) == NULL)
		r = -ENOMEM;
	if (r < 0)
		goto fail;
	s.conn.cap = HTTP_STREAM_BLOCK;
	sent = http_send(s.conn.fd, head, head_len, request->body, request->body_len);
	if (sent == 0 && request->body_from_fd)
		sent = http_send_body_fd(s.conn.fd, request);
	/* A server refusing early answers and closes: its answer says why. */
	r = sent == 0 || sent == -EPIPE || sent == -ECONNRESET ? http_stream_head(&s, ret_status)
							       : sent;
	if (r < 0 && sent < 0)
		r = sent;
	if (r < 0)
		goto fail;
	*ret_stream = s;
	return 0;
fail:
	http_connection_close(&s.conn);
	return r;
}

/* See http_client.h. */
ssize_t http_stream_read(struct http_stream *s, void *buf, size_t size)
{
	if (size == 0)
		return 0;
	for (;;) {
		const char *data;
		size_t used, n;
		int r = http_body_decode(&s->body, s->conn.buf + s->pos, s->conn.len - s->pos,
					 s->eof, size, &used, &data, &n);

		if (r == 0) {
			s->pos += used;
			if (n > 0) {
				memcpy(buf, data, n);
				return (ssize_t)n;
			}
			if (s->body.done)
				return 0;
			if (used > 0)
				continue;
		} else if (r != -EAGAIN) {
			return r;
		}
		r = http_stream_fill(s);
		if (r < 0)
			return r;
	}
}

/* See http_client.h. */
void http_stream_close(struct http_stream *stream)
{
	http_connection_close(&stream->conn);
}
