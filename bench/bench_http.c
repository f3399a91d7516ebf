/*
 * bench_http.c — minimal keep-alive HTTP/1.1 client (see bench_http.h).
 *
 * Invariant between requests: conn->fd is -1 or a connected socket with no
 * unread response bytes (responses are read completely, and requests are
 * never pipelined).
 */
#include "bench_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define BENCH_HTTP_HEAD_MAX 1024
#define BENCH_HTTP_RESPONSE_MAX (64u << 20)

/* Record host and port; nothing is connected yet. */
int bench_http_init(struct bench_http *conn, const char *host, unsigned port)
{
	memset(conn, 0, sizeof(*conn));
	conn->fd = -1;
	if (strlen(host) >= sizeof(conn->host) || port == 0 || port > 65535)
		return -EINVAL;
	strcpy(conn->host, host);
	conn->port = port;
	return 0;
}

/* Drop the connection (buffers stay for reuse). */
static void bench_http_disconnect(struct bench_http *conn)
{
	if (conn->fd >= 0)
		close(conn->fd);
	conn->fd = -1;
}

/* Open the TCP connection. */
static int bench_http_connect(struct bench_http *conn)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)conn->port) };
	int one = 1, fd, r;

	if (inet_pton(AF_INET, conn->host, &addr.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	conn->fd = fd;
	return 0;
}

/* Grow a buffer to hold at least need bytes. */
static int bench_http_reserve(char **buf, size_t *cap, size_t need)
{
	size_t new_cap = *cap ? *cap : 4096;
	char *p;

	if (need <= *cap)
		return 0;
	if (need > BENCH_HTTP_RESPONSE_MAX)
		return -EMSGSIZE;
	while (new_cap < need)
		new_cap *= 2;
	p = realloc(*buf, new_cap);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = new_cap;
	return 0;
}

/* Read more bytes until conn->len >= need; -ECONNRESET at end of stream. */
static int bench_http_fill(struct bench_http *conn, size_t need)
{
	while (conn->len < need) {
		ssize_t n;
		int r = bench_http_reserve(&conn->buf, &conn->cap, conn->len + 4096);

		if (r < 0)
			return r;
		n = recv(conn->fd, conn->buf + conn->len, conn->cap - conn->len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		conn->len += (size_t)n;
	}
	return 0;
}

/* Append bytes to the decoded body. */
static int bench_http_body_append(struct bench_http *conn, const char *data, size_t len)
{
	int r = bench_http_reserve(&conn->body, &conn->body_cap, conn->body_len + len + 1);

	if (r < 0)
		return r;
	memcpy(conn->body + conn->body_len, data, len);
	conn->body_len += len;
	conn->body[conn->body_len] = '\0';
	return 0;
}

/* Offset just past the next CRLF at or after pos, reading more as needed. */
static int bench_http_line_end(struct bench_http *conn, size_t pos, size_t *ret_end)
{
	for (;;) {
		for (size_t i = pos; i + 1 < conn->len; i++) {
			if (conn->buf[i] == '\r' && conn->buf[i + 1] == '\n') {
				*ret_end = i + 2;
				return 0;
			}
		}
		if (conn->len - pos > BENCH_HTTP_HEAD_MAX)
			return -EPROTO;
		int r = bench_http_fill(conn, conn->len + 1);

		if (r < 0)
			return r;
	}
}

/* Decode a chunked body starting at pos. */
static int bench_http_read_chunked(struct bench_http *conn, size_t pos)
{
	for (;;) {
		size_t end, size;
		char *stop;
		int r;

		r = bench_http_line_end(conn, pos, &end);
		if (r < 0)
			return r;
		errno = 0;
		size = strtoul(conn->buf + pos, &stop, 16);
		if (errno || stop == conn->buf + pos)
			return -EPROTO;
		pos = end;
		if (size == 0)
			break;
		r = bench_http_fill(conn, pos + size + 2);
		if (r < 0)
			return r;
		r = bench_http_body_append(conn, conn->buf + pos, size);
		if (r < 0)
			return r;
		pos += size + 2;
	}
	/* Trailers (none expected) up to the empty line. */
	for (;;) {
		size_t end;
		int r = bench_http_line_end(conn, pos, &end);

		if (r < 0)
			return r;
		if (end == pos + 2)
			return 0;
		pos = end;
	}
}

/* Whether header line [line, line_end) is "name: ..." containing token. */
static bool bench_http_header_has(const char *line, size_t line_len, const char *name,
				  const char *token)
{
	size_t name_len = strlen(name), token_len = strlen(token);

	if (line_len < name_len + 1 || strncasecmp(line, name, name_len) != 0 ||
	    line[name_len] != ':')
		return false;
	for (size_t i = name_len + 1; i + token_len <= line_len; i++)
		if (strncasecmp(line + i, token, token_len) == 0)
			return true;
	return false;
}

/* Read one whole response; *ret_got_bytes tells whether anything arrived. */
static int bench_http_read_response(struct bench_http *conn, unsigned *ret_status,
				    bool *ret_got_bytes)
{
	size_t head_end = 0, pos, content_length = 0;
	bool has_length = false, chunked = false, close_after = false;
	unsigned status;
	int r;

	conn->len = 0;
	conn->body_len = 0;
	*ret_got_bytes = false;
	for (;;) {
		char *end = conn->len >= 4 ? memmem(conn->buf, conn->len, "\r\n\r\n", 4) : NULL;

		if (end) {
			head_end = (size_t)(end - conn->buf) + 4;
			break;
		}
		if (conn->len > 64 * 1024)
			return -EPROTO;
		r = bench_http_fill(conn, conn->len + 1);
		if (r < 0)
			return r;
		*ret_got_bytes = true;
	}
	if (sscanf(conn->buf, "HTTP/1.%*1[01] %3u", &status) != 1)
		return -EPROTO;
	pos = (size_t)((char *)memchr(conn->buf, '\n', head_end) - conn->buf) + 1;
	while (pos < head_end - 2) {
		const char *nl = memchr(conn->buf + pos, '\n', head_end - pos);
		size_t line_len = (size_t)(nl - (conn->buf + pos));
		const char *line = conn->buf + pos;

		if (line_len >= 15 && strncasecmp(line, "content-length:", 15) == 0) {
			content_length = strtoul(line + 15, NULL, 10);
			has_length = true;
		}
		if (bench_http_header_has(line, line_len, "transfer-encoding", "chunked"))
			chunked = true;
		if (bench_http_header_has(line, line_len, "connection", "close"))
			close_after = true;
		pos += line_len + 1;
	}
	if (status == 204 || status == 304 || (status >= 100 && status < 200)) {
		r = 0;
	} else if (chunked) {
		r = bench_http_read_chunked(conn, head_end);
	} else if (has_length) {
		r = bench_http_fill(conn, head_end + content_length);
		if (r == 0)
			r = bench_http_body_append(conn, conn->buf + head_end, content_length);
	} else {
		/* Delimited by the end of the stream. */
		for (;;) {
			r = bench_http_fill(conn, conn->len + 1);
			if (r == -ECONNRESET) {
				r = 0;
				break;
			}
			if (r < 0)
				break;
		}
		if (r == 0)
			r = bench_http_body_append(conn, conn->buf + head_end, conn->len - head_end);
		close_after = true;
	}
	if (r == 0 && conn->body == NULL)
		r = bench_http_body_append(conn, "", 0);
	if (close_after)
		bench_http_disconnect(conn);
	if (r == 0)
		*ret_status = status;
	return r;
}

/* Send all bytes; MSG_NOSIGNAL so a closed peer is an error, not SIGPIPE. */
static int bench_http_send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One request/response exchange, re-opening a stale keep-alive connection once. */
int bench_http_request(struct bench_http *conn, const char *method, const char *path,
		       const char *body, unsigned *ret_status)
{
	char head[BENCH_HTTP_HEAD_MAX];
	size_t body_len = body ? strlen(body) : 0;
	int head_len, r = -EIO;

	if (body)
		head_len = snprintf(head, sizeof(head),
				    "%s %s HTTP/1.1\r\nHost: %s:%u\r\nAccept: application/json\r\n"
				    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
				    method, path, conn->host, conn->port, body_len);
	else
		head_len = snprintf(head, sizeof(head),
				    "%s %s HTTP/1.1\r\nHost: %s:%u\r\nAccept: application/json\r\n\r\n",
				    method, path, conn->host, conn->port);
	if (head_len < 0 || (size_t)head_len >= sizeof(head))
		return -ENAMETOOLONG;
	for (int attempt = 0; attempt < 2; attempt++) {
		bool reused = conn->fd >= 0, got_bytes = false;

		if (!reused) {
			r = bench_http_connect(conn);
			if (r < 0)
				return r;
		}
		r = bench_http_send_all(conn->fd, head, (size_t)head_len);
		if (r == 0 && body_len)
			r = bench_http_send_all(conn->fd, body, body_len);
		if (r == 0)
			r = bench_http_read_response(conn, ret_status, &got_bytes);
		if (r == 0)
			return 0;
		bench_http_disconnect(conn);
		if (!reused || got_bytes)
			break;
	}
	return r;
}

/* Release everything the client holds. */
void bench_http_free(struct bench_http *conn)
{
	bench_http_disconnect(conn);
	free(conn->buf);
	free(conn->body);
	conn->buf = NULL;
	conn->body = NULL;
	conn->len = conn->cap = conn->body_len = conn->body_cap = 0;
}
