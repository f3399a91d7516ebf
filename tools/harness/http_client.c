/*
 * http_client.c — see http_client.h.
 *
 * Invariants: every socket is SOCK_CLOEXEC (replicas are forked while
 * requests run) and is closed before http_exchange() returns; send() uses
 * MSG_NOSIGNAL; answers are capped at HTTP_MAX_RESPONSE bytes; a response is
 * complete at Content-Length, at the end of a chunked body, or at EOF.
 */
#include "http_client.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#define HTTP_MAX_RESPONSE (8u << 20)

/* See http_client.h. */
int http_target_parse(const char *url, struct http_target *ret_target)
{
	struct http_target t;
	memset(&t, 0, sizeof(t));
	if (strncmp(url, "http://", 7) != 0)
		return -EINVAL;
	const char *host = url + 7;
	size_t host_len = strcspn(host, ":/");
	char host_buf[256], port_buf[16] = "80";
	if (host_len == 0 || host_len >= sizeof(host_buf))
		return -EINVAL;
	memcpy(host_buf, host, host_len);
	host_buf[host_len] = '\0';
	const char *rest = host + host_len;
	if (*rest == ':') {
		size_t port_len = strcspn(rest + 1, "/");
		if (port_len == 0 || port_len >= sizeof(port_buf))
			return -EINVAL;
		memcpy(port_buf, rest + 1, port_len);
		port_buf[port_len] = '\0';
		rest += 1 + port_len;
	}
	if (*rest && strcmp(rest, "/") != 0)
		return -EINVAL;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
	struct addrinfo *res = NULL;
	if (getaddrinfo(host_buf, port_buf, &hints, &res) != 0 || !res)
		return -EHOSTUNREACH;
	memcpy(&t.addr, res->ai_addr, res->ai_addrlen);
	t.addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	if (util_format(t.host_header, sizeof(t.host_header), "%s:%s", host_buf, port_buf) < 0 ||
	    util_format(t.url, sizeof(t.url), "http://%s:%s", host_buf, port_buf) < 0)
		return -EINVAL;
	*ret_target = t;
	return 0;
}

/* See http_client.h. */
void http_target_loopback(unsigned port, struct http_target *ret_target)
{
	memset(ret_target, 0, sizeof(*ret_target));
	struct sockaddr_in *sin = (struct sockaddr_in *)&ret_target->addr;
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ret_target->addr_len = sizeof(*sin);
	snprintf(ret_target->host_header, sizeof(ret_target->host_header), "127.0.0.1:%u", port);
	snprintf(ret_target->url, sizeof(ret_target->url), "http://127.0.0.1:%u", port);
}

/* Write all of BUF. 0 or -errno. */
static int http_send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A growable receive buffer. */
struct http_buffer {
	char *data;
	size_t len, cap;
};

/* Read more bytes; returns bytes read (0 = EOF) or -errno. */
static long http_recv_some(int fd, struct http_buffer *b)
{
	if (b->cap - b->len < 4096) {
		size_t cap = b->cap ? b->cap * 2 : 8192;
		if (cap > HTTP_MAX_RESPONSE + 8192)
			return -EFBIG;
		char *grown = realloc(b->data, cap);
		if (!grown)
			return -ENOMEM;
		b->data = grown;
		b->cap = cap;
	}
	for (;;) {
		ssize_t n = recv(fd, b->data + b->len, b->cap - b->len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		b->len += (size_t)n;
		b->data[b->len] = '\0';
		return n;
	}
}

/* Decode a chunked body in place. Returns the decoded length, -EAGAIN when
 * incomplete, -EPROTO when malformed. */
static long http_dechunk(char *body, size_t len)
{
	size_t in = 0, out = 0;
	for (;;) {
		char *eol = memmem(body + in, len - in, "\r\n", 2);
		if (!eol)
			return -EAGAIN;
		char *end = NULL;
		unsigned long size = strtoul(body + in, &end, 16);
		if (end == body + in)
			return -EPROTO;
		size_t data = (size_t)(eol - body) + 2;
		if (size == 0)
			return (long)out;
		if (len < data + size + 2)
			return -EAGAIN;
		memmove(body + out, body + data, size);
		out += size;
		in = data + size + 2;
	}
}

/* Find header NAME in the header block HEAD (NUL-terminated); returns a
 * pointer to its value or NULL. */
static const char *http_header(const char *head, const char *name)
{
	size_t n = strlen(name);
	for (const char *line = strstr(head, "\r\n"); line; line = strstr(line, "\r\n")) {
		line += 2;
		if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
			const char *v = line + n + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			return v;
		}
	}
	return NULL;
}

/* Read and parse one response on FD into *ret. */
static int http_read_response(int fd, struct http_response *ret)
{
	struct http_buffer b = { 0 };
	size_t head_len = 0;
	long content_length = -1;
	bool chunked = false;
	int r;
	for (;;) {
		long n = http_recv_some(fd, &b);
		if (n < 0) {
			r = (int)n;
			goto fail;
		}
		if (head_len == 0) {
			char *sep = b.data ? strstr(b.data, "\r\n\r\n") : NULL;
			if (sep) {
				head_len = (size_t)(sep - b.data) + 4;
				sep[2] = '\0'; /* terminate the header block for http_header() */
				unsigned status = 0;
				if (sscanf(b.data, "HTTP/1.%*d %u", &status) != 1 || status < 100 || status > 999) {
					r = -EPROTO;
					goto fail;
				}
				ret->status = status;
				const char *cl = http_header(b.data, "Content-Length");
				const char *te = http_header(b.data, "Transfer-Encoding");
				if (cl)
					content_length = strtol(cl, NULL, 10);
				chunked = te && strncasecmp(te, "chunked", 7) == 0;
			}
		}
		if (head_len) {
			size_t have = b.len - head_len;
			if (chunked) {
				long d = http_dechunk(b.data + head_len, have);
				if (d >= 0) {
					b.len = head_len + (size_t)d;
					break;
				}
				if (d != -EAGAIN) {
					r = (int)d;
					goto fail;
				}
			} else if (content_length >= 0 && have >= (size_t)content_length) {
				b.len = head_len + (size_t)content_length;
				break;
			}
		}
		if (n == 0) {
			if (head_len && !chunked && content_length < 0)
				break; /* body delimited by EOF */
			r = head_len ? -EPROTO : -ECONNRESET;
			goto fail;
		}
	}
	ret->body_len = b.len - head_len;
	ret->body = malloc(ret->body_len + 1);
	if (!ret->body) {
		r = -ENOMEM;
		goto fail;
	}
	memcpy(ret->body, b.data + head_len, ret->body_len);
	ret->body[ret->body_len] = '\0';
	free(b.data);
	return 0;
fail:
	free(b.data);
	return r;
}

/* See http_client.h. */
int http_exchange(const struct http_target *target, const char *method, const char *path,
		  const char *content_type, const char *body, unsigned timeout_ms,
		  struct http_response *ret_response, bool *ret_delivered)
{
	struct http_response resp = { 0 };
	char *request = NULL;
	int r;
	*ret_delivered = false;
	int fd = socket(target->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (long)(timeout_ms % 1000) * 1000 };
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		r = -errno;
		goto out;
	}
	if (connect(fd, (const struct sockaddr *)&target->addr, target->addr_len) < 0) {
		r = errno == EINPROGRESS || errno == EAGAIN ? -ETIMEDOUT : -errno;
		goto out;
	}
	*ret_delivered = true;
	size_t body_len = body ? strlen(body) : 0;
	char length_header[64] = "";
	if (body)
		snprintf(length_header, sizeof(length_header), "Content-Length: %zu\r\n", body_len);
	int n = asprintf(&request,
			 "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: claimfs-harness\r\n"
			 "Accept: application/json, */*\r\nConnection: close\r\n%s%s%s%s\r\n",
			 method, path, target->host_header, content_type ? "Content-Type: " : "",
			 content_type ? content_type : "", content_type ? "\r\n" : "", length_header);
	if (n < 0) {
		request = NULL;
		r = -ENOMEM;
		goto out;
	}
	r = http_send_all(fd, request, (size_t)n);
	if (r == 0 && body_len)
		r = http_send_all(fd, body, body_len);
	if (r == 0)
		r = http_read_response(fd, &resp);
	if (r == 0)
		*ret_response = resp;
out:
	free(request);
	close(fd);
	return r;
}

/* See http_client.h. */
int http_request(const struct http_target *target, const char *method, const char *path,
		 const char *content_type, const char *body, unsigned timeout_ms,
		 struct http_response *ret_response)
{
	bool delivered;
	return http_exchange(target, method, path, content_type, body, timeout_ms, ret_response,
			     &delivered);
}

/* See http_client.h. */
void http_response_free(struct http_response *response)
{
	if (!response)
		return;
	free(response->body);
	response->body = NULL;
	response->body_len = 0;
}
