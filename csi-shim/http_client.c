/*
 * http_client.c — blocking HTTP/1.1 requests to claimfsd (see http_client.h).
 *
 * One request = connect, send the head and body, read until the server
 * closes (we always ask `Connection: close`), then parse. Reading to EOF
 * keeps the parser small and still copes with Content-Length, chunked and
 * close-delimited bodies. Timeouts are SO_SNDTIMEO/SO_RCVTIMEO on the socket
 * (Linux applies the send timeout to connect too), so no call blocks for
 * longer than timeout_ms without progress.
 */
#include "http_client.h"

#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define HTTP_DEFAULT_TIMEOUT_MS 30000
#define HTTP_HEAD_MAX 16384

/* ---- endpoint ------------------------------------------------------------ */

/* Copy src into dst of size; -EINVAL if it does not fit. */
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
	return http_copy(ep->host_header, sizeof(ep->host_header), "localhost", 9);
}

/* Parse the http:// form: HOST, [V6], optional :PORT, optional "/". */
static int http_parse_tcp(const char *rest, struct http_endpoint *ep)
{
	const char *host = rest, *host_end, *port = "80";
	size_t port_len = 2, len = strlen(rest);

	if (len > 0 && rest[len - 1] == '/')
		len--;
	if (len == 0)
		return -EINVAL;
	if (host[0] == '[') {
		host_end = memchr(host, ']', len);
		if (host_end == NULL)
			return -EINVAL;
		if (http_copy(ep->host, sizeof(ep->host), host + 1, (size_t)(host_end - host - 1)) < 0)
			return -EINVAL;
		host_end++;
	} else {
		host_end = host;
		while ((size_t)(host_end - rest) < len && *host_end != ':' && *host_end != '/')
			host_end++;
		if (http_copy(ep->host, sizeof(ep->host), host, (size_t)(host_end - host)) < 0)
			return -EINVAL;
	}
	if ((size_t)(host_end - rest) < len) {
		if (*host_end != ':')
			return -EINVAL; /* a path prefix is not supported */
		port = host_end + 1;
		port_len = len - (size_t)(port - rest);
		if (port_len == 0 || strspn(port, "0123456789") < port_len)
			return -EINVAL;
	}
	if (ep->host[0] == '\0' || http_copy(ep->port, sizeof(ep->port), port, port_len) < 0)
		return -EINVAL;
	if (http_copy(ep->host_header, sizeof(ep->host_header), rest, len) < 0)
		return -EINVAL;
	ep->unix_socket = false;
	return 0;
}

/* Parse url into an endpoint with default timeout and no token. */
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

/* ---- transport ------------------------------------------------------------ */

/* Apply the endpoint timeout to both directions of fd. */
static int http_set_timeouts(int fd, int timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

/* Connect to a unix socket. Returns the fd or -errno. */
static int http_connect_unix(const struct http_endpoint *ep)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, r;

	memcpy(addr.sun_path, ep->unix_path, strlen(ep->unix_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = http_set_timeouts(fd, ep->timeout_ms);
	if (r == 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Connect to the first address of host:port that accepts. fd or -errno. */
static int http_connect_tcp(const struct http_endpoint *ep)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *list = NULL, *ai;
	int fd = -ECONNREFUSED, r;

	r = getaddrinfo(ep->host, ep->port, &hints, &list);
	if (r != 0)
		return r == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	for (ai = list; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			fd = -errno;
			continue;
		}
		r = http_set_timeouts(fd, ep->timeout_ms);
		if (r == 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		r = r < 0 ? r : -errno;
		close(fd);
		fd = r;
	}
	freeaddrinfo(list);
	return fd;
}

/* Send all of buf; -errno on failure (-ETIMEDOUT for a stalled peer). */
static int http_send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read until EOF into a malloc'd buffer. */
static int http_recv_all(int fd, char **ret_data, size_t *ret_len)
{
	size_t cap = 8192, len = 0;
	char *data = malloc(cap + 1), *bigger;
	int r = 0;

	if (data == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			if (cap >= HTTP_BODY_MAX + HTTP_HEAD_MAX) {
				r = -EMSGSIZE;
				goto fail;
			}
			cap *= 2;
			bigger = realloc(data, cap + 1);
			if (bigger == NULL) {
				r = -ENOMEM;
				goto fail;
			}
			data = bigger;
		}
		n = recv(fd, data + len, cap - len, 0);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
			goto fail;
		}
		len += (size_t)n;
	}
	data[len] = '\0';
	*ret_data = data;
	*ret_len = len;
	return 0;
fail:
	free(data);
	return r;
}

/* ---- parsing ---------------------------------------------------------------- */

/* Value of header name in the head (lines after the status line), copied
 * into buf; false if absent or too long. */
static bool http_header(const char *head, size_t head_len, const char *name, char *buf,
			size_t size)
{
	size_t name_len = strlen(name);
	const char *line = memchr(head, '\n', head_len), *end = head + head_len;

	while (line != NULL && ++line < end) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		const char *stop = eol != NULL ? eol : end;

		if ((size_t)(stop - line) > name_len && strncasecmp(line, name, name_len) == 0 &&
		    line[name_len] == ':') {
			const char *v = line + name_len + 1;
			size_t n;

			while (v < stop && (*v == ' ' || *v == '\t'))
				v++;
			n = (size_t)(stop - v);
			while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			return http_copy(buf, size, v, n) == 0;
		}
		line = eol;
	}
	return false;
}

/* Decode a chunked body in place; its new length, or -EPROTO. */
static int http_dechunk(char *body, size_t len, size_t *ret_len)
{
	size_t in = 0, out = 0;

	for (;;) {
		char *end;
		unsigned long long size;

		if (in >= len)
			return -EPROTO;
		errno = 0;
		size = strtoull(body + in, &end, 16);
		if (errno != 0 || end == body + in)
			return -EPROTO;
		in = (size_t)(end - body);
		while (in < len && body[in] != '\n')
			in++; /* chunk extensions and CR */
		if (in >= len)
			return -EPROTO;
		in++;
		if (size == 0)
			break;
		if (size > len - in)
			return -EPROTO;
		memmove(body + out, body + in, (size_t)size);
		out += (size_t)size;
		in += (size_t)size;
		if (in < len && body[in] == '\r')
			in++;
		if (in >= len || body[in] != '\n')
			return -EPROTO;
		in++;
	}
	body[out] = '\0';
	*ret_len = out;
	return 0;
}

/* Split raw (the whole answer, owned) into status and body. */
static int http_parse(char *raw, size_t raw_len, struct http_response *ret)
{
	char *head_end = strstr(raw, "\r\n\r\n"), value[64];
	size_t head_len, body_len;
	unsigned status;
	char *body;
	int n = 0, r;

	if (head_end == NULL || (size_t)(head_end - raw) > HTTP_HEAD_MAX)
		return -EPROTO;
	head_len = (size_t)(head_end - raw);
	if (sscanf(raw, "HTTP/1.%*1[01] %3u%n", &status, &n) != 1 || n == 0 || status < 100 ||
	    status > 599)
		return -EPROTO;
	body = head_end + 4;
	body_len = raw_len - (size_t)(body - raw);
	if (http_header(raw, head_len, "Transfer-Encoding", value, sizeof(value)) &&
	    strcasecmp(value, "chunked") == 0) {
		r = http_dechunk(body, body_len, &body_len);
		if (r < 0)
			return r;
	} else if (http_header(raw, head_len, "Content-Length", value, sizeof(value))) {
		char *end;
		unsigned long long declared;

		errno = 0;
		declared = strtoull(value, &end, 10);
		if (errno != 0 || *end != '\0' || declared > body_len)
			return -EPROTO;
		body_len = (size_t)declared;
	}
	if (body_len > HTTP_BODY_MAX)
		return -EMSGSIZE;
	memmove(raw, body, body_len);
	raw[body_len] = '\0';
	ret->status = status;
	ret->body = raw;
	ret->body_len = body_len;
	return 0;
}

/* ---- request ------------------------------------------------------------------ */

/* One request on a fresh connection (see header). */
int http_request(const struct http_endpoint *endpoint, const char *method, const char *path,
		 const char *content_type, const char *body, size_t body_len,
		 struct http_response *ret_response)
{
	char head[2048], auth[600] = "", type[160] = "";
	struct http_response res = { 0 };
	char *raw = NULL;
	size_t raw_len = 0;
	int fd, n, r;

	if (endpoint->token[0] != '\0')
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", endpoint->token);
	if (body != NULL && content_type != NULL)
		snprintf(type, sizeof(type), "Content-Type: %s\r\n", content_type);
	n = snprintf(head, sizeof(head),
		     "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: claimfs-csi\r\n"
		     "Accept: application/json\r\nConnection: close\r\n%s%sContent-Length: %zu\r\n\r\n",
		     method, path, endpoint->host_header, auth, type, body != NULL ? body_len : 0);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -ENAMETOOLONG;
	fd = endpoint->unix_socket ? http_connect_unix(endpoint) : http_connect_tcp(endpoint);
	if (fd < 0)
		return fd;
	r = http_send_all(fd, head, (size_t)n);
	if (r == 0 && body != NULL && body_len > 0)
		r = http_send_all(fd, body, body_len);
	if (r == 0)
		r = http_recv_all(fd, &raw, &raw_len);
	close(fd);
	if (r < 0)
		return r;
	r = http_parse(raw, raw_len, &res);
	if (r < 0) {
		free(raw);
		return r;
	}
	*ret_response = res;
	return 0;
}

/* Release a response body. */
void http_response_free(struct http_response *response)
{
	if (response == NULL)
		return;
	free(response->body);
	response->body = NULL;
	response->body_len = 0;
}
