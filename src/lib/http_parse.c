/*
 * http_parse.c — reading an HTTP/1.1 response out of received bytes (see
 * http_parse.h).
 *
 * Invariants: the input is never assumed NUL-terminated and never
 * modified, so the caller can keep receiving into the same buffer and parse
 * again after each read (every function is a pure function of its input);
 * a response is only returned once complete, with a body decoded into its
 * own allocation.
 */
#include "http_parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A chunk-size line longer than this is not one (sizes are a few digits). */
#define HTTP_CHUNK_LINE_MAX 1024u

/* Copy src[0..len) into dst of size; false if it does not fit. */
static bool http_copy(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		return false;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return true;
}

/* See http_parse.h. */
bool http_head_value(const char *head, size_t head_len, const char *name, char *buf, size_t size)
{
	size_t name_len = strlen(name);
	const char *end = head + head_len, *line = memchr(head, '\n', head_len);

	while (line != NULL && ++line < end) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		const char *stop = eol != NULL ? eol : end, *value;
		size_t n;

		if ((size_t)(stop - line) <= name_len || strncasecmp(line, name, name_len) != 0 ||
		    line[name_len] != ':') {
			line = eol;
			continue;
		}
		value = line + name_len + 1;
		while (value < stop && (*value == ' ' || *value == '\t'))
			value++;
		n = (size_t)(stop - value);
		while (n > 0 && (value[n - 1] == '\r' || value[n - 1] == ' ' || value[n - 1] == '\t'))
			n--;
		return http_copy(buf, size, value, n);
	}
	return false;
}

/* Does a comma-separated header value list token (case-insensitively)? */
static bool http_value_has_token(const char *value, const char *token)
{
	size_t token_len = strlen(token);

	for (const char *p = value; *p != '\0'; p += strcspn(p, ",")) {
		size_t n;

		p += strspn(p, ", \t");
		n = strcspn(p, ", \t;");
		if (n == token_len && strncasecmp(p, token, n) == 0)
			return true;
	}
	return false;
}

/* "HTTP/1.x NNN" at the start of the head: the status, or -EPROTO. */
static int http_status_line(const char *buf, size_t head_len, unsigned *ret_status, bool *ret_v10)
{
	unsigned status = 0;

	if (head_len < 13 || memcmp(buf, "HTTP/1.", 7) != 0 || (buf[7] != '0' && buf[7] != '1') ||
	    buf[8] != ' ')
		return -EPROTO;
	for (size_t i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -EPROTO;
		status = status * 10 + (unsigned)(buf[i] - '0');
	}
	if ((buf[12] != ' ' && buf[12] != '\r') || status < 100 || status > 599)
		return -EPROTO;
	*ret_status = status;
	*ret_v10 = buf[7] == '0';
	return 0;
}

/* A decimal Content-Length, all digits; -EPROTO otherwise. */
static int http_parse_length(const char *value, uint64_t *ret_length)
{
	uint64_t length = 0;

	if (*value == '\0')
		return -EPROTO;
	for (const char *p = value; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || length > (UINT64_MAX - 9) / 10)
			return -EPROTO;
		length = length * 10 + (uint64_t)(*p - '0');
	}
	*ret_length = length;
	return 0;
}

/* See http_parse.h. */
int http_head_parse(const char *buf, size_t len, struct http_head *ret_head)
{
	size_t scan = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
	const char *sep = scan >= 4 ? memmem(buf, scan, "\r\n\r\n", 4) : NULL;
	struct http_head head = { 0 };
	char value[128];
	bool v10;
	int r;

	if (sep == NULL)
		return len >= HTTP_HEAD_MAX ? -EPROTO : -EAGAIN;
	head.head_len = (size_t)(sep - buf) + 4;
	r = http_status_line(buf, head.head_len, &head.status, &v10);
	if (r < 0)
		return r;
	if (http_head_value(buf, head.head_len, "Content-Length", value, sizeof(value))) {
		r = http_parse_length(value, &head.content_length);
		if (r < 0)
			return r;
		head.has_length = true;
	}
	if (http_head_value(buf, head.head_len, "Transfer-Encoding", value, sizeof(value)))
		head.chunked = http_value_has_token(value, "chunked");
	if (http_head_value(buf, head.head_len, "Connection", value, sizeof(value)))
		head.close = http_value_has_token(value, "close") ||
			     (v10 && !http_value_has_token(value, "keep-alive"));
	else
		head.close = v10; /* HTTP/1.0 closes unless asked to keep alive */
	*ret_head = head;
	return 0;
}

/* Offset just past the '\n' ending the line at pos; -EAGAIN or -EPROTO. */
static int http_line_end(const char *buf, size_t len, size_t pos, size_t *ret_end)
{
	const char *eol = memchr(buf + pos, '\n', len - pos);

	if (eol == NULL)
		return len - pos > HTTP_CHUNK_LINE_MAX ? -EPROTO : -EAGAIN;
	*ret_end = (size_t)(eol - buf) + 1;
	return 0;
}

/* The hex size at the start of a chunk line [pos, end); -EPROTO if none. */
static int http_chunk_size(const char *buf, size_t pos, size_t end, uint64_t *ret_size)
{
	uint64_t size = 0;
	size_t i = pos;

	for (; i < end; i++) {
		int digit = (buf[i] >= '0' && buf[i] <= '9')	 ? buf[i] - '0'
			    : (buf[i] >= 'a' && buf[i] <= 'f') ? buf[i] - 'a' + 10
			    : (buf[i] >= 'A' && buf[i] <= 'F') ? buf[i] - 'A' + 10
							       : -1;
		if (digit < 0)
			break;
		if (size > HTTP_BODY_MAX)
			return -EMSGSIZE;
		size = size * 16 + (uint64_t)digit;
	}
	/* after the digits: chunk extensions (";..."), blanks, CRLF */
	if (i == pos || (buf[i] != ';' && buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' &&
			 buf[i] != '\n'))
		return -EPROTO;
	*ret_size = size;
	return 0;
}

/* See http_parse.h. */
int http_chunked_scan(const char *buf, size_t len, size_t *ret_raw_len, size_t *ret_body_len)
{
	size_t pos = 0, end, body_len = 0;
	uint64_t size;
	int r;

	for (;;) {
		r = http_line_end(buf, len, pos, &end);
		if (r == 0)
			r = http_chunk_size(buf, pos, end, &size);
		if (r < 0)
			return r;
		pos = end;
		if (size == 0)
			break;
		if (size > HTTP_BODY_MAX - body_len)
			return -EMSGSIZE;
		if (len - pos < size + 1)
			return -EAGAIN;
		pos += (size_t)size;
		body_len += (size_t)size;
		if (buf[pos] == '\r') {
			if (len - pos < 2)
				return -EAGAIN;
			pos++;
		}
		if (buf[pos] != '\n')
			return -EPROTO;
		pos++;
	}
	/* Trailer lines (claimfsd sends none) up to the empty line. */
	for (;;) {
		r = http_line_end(buf, len, pos, &end);
		if (r < 0)
			return r;
		if (end - pos == 1 || (end - pos == 2 && buf[pos] == '\r'))
			break;
		pos = end;
	}
	*ret_raw_len = end;
	*ret_body_len = body_len;
	return 0;
}

/* Copy the data of a complete chunked body (checked by http_chunked_scan). */
static void http_chunked_copy(const char *buf, size_t raw_len, char *out)
{
	size_t pos = 0;

	for (;;) {
		size_t end = (size_t)((const char *)memchr(buf + pos, '\n', raw_len - pos) - buf) + 1;
		uint64_t size = 0;

		(void)http_chunk_size(buf, pos, end, &size); /* cannot fail: scanned */
		if (size == 0)
			return;
		memcpy(out, buf + end, (size_t)size);
		out += size;
		pos = end + (size_t)size;
		pos += buf[pos] == '\r' ? 2 : 1;
	}
}

/* How many raw bytes after the head belong to the body, and how long it is
 * decoded; -EAGAIN, -EPROTO, -EMSGSIZE. */
static int http_body_extent(const struct http_head *head, const char *body, size_t avail, bool eof,
			    size_t *ret_raw_len, size_t *ret_body_len, bool *ret_close)
{
	int r;

	*ret_close = head->close;
	if (head->status < 200 || head->status == 204 || head->status == 304) {
		*ret_raw_len = *ret_body_len = 0;
		return 0;
	}
	if (head->chunked) {
		r = http_chunked_scan(body, avail, ret_raw_len, ret_body_len);
		return r == -EAGAIN && eof ? -EPROTO : r;
	}
	if (head->has_length) {
		if (head->content_length > HTTP_BODY_MAX)
			return -EMSGSIZE;
		if (avail < head->content_length)
			return eof ? -EPROTO : -EAGAIN;
		*ret_raw_len = *ret_body_len = (size_t)head->content_length;
		return 0;
	}
	/* Neither: the body ends with the stream. */
	if (avail > HTTP_BODY_MAX)
		return -EMSGSIZE;
	if (!eof)
		return -EAGAIN;
	*ret_raw_len = *ret_body_len = avail;
	*ret_close = true;
	return 0;
}

/* See http_parse.h. */
int http_response_parse(const char *buf, size_t len, bool eof, struct http_response *ret_response,
			size_t *ret_message_len, bool *ret_close)
{
	struct http_head head;
	size_t raw_len = 0, body_len = 0;
	bool close = true;
	char *body;
	int r;

	r = http_head_parse(buf, len, &head);
	if (r == -EAGAIN && eof)
		r = -EPROTO;
	if (r == 0)
		r = http_body_extent(&head, buf + head.head_len, len - head.head_len, eof, &raw_len,
				     &body_len, &close);
	if (r < 0)
		return r;
	body = malloc(body_len + 1);
	if (body == NULL)
		return -ENOMEM;
	if (head.chunked && raw_len > 0)
		http_chunked_copy(buf + head.head_len, raw_len, body);
	else
		memcpy(body, buf + head.head_len, body_len);
	body[body_len] = '\0';
	ret_response->status = head.status;
	ret_response->body = body;
	ret_response->body_len = body_len;
	*ret_message_len = head.head_len + raw_len;
	*ret_close = close;
	return 0;
}

/* ---- bodies decoded as they arrive -------------------------------------------------- */

/* See http_parse.h. */
void http_body_decoder_init(struct http_body_decoder *dec, const struct http_head *head)
{
	*dec = (struct http_body_decoder){ .framing = HTTP_BODY_TO_EOF, .chunk = HTTP_CHUNK_SIZE };
	if (head->status < 200 || head->status == 204 || head->status == 304) {
		dec->done = true;
	} else if (head->chunked) {
		dec->framing = HTTP_BODY_CHUNKED;
	} else if (head->has_length) {
		dec->framing = HTTP_BODY_LENGTH;
		dec->remaining = head->content_length;
		dec->done = dec->remaining == 0;
	}
}

/* One step of a chunked body: a size line, data, the CRLF after the data,
 * or a trailer line (the empty one ends the body). */
static int http_chunk_step(struct http_body_decoder *dec, const char *buf, size_t len,
			   size_t want, size_t *ret_used, size_t *ret_data_len)
{
	size_t end;
	uint64_t size;
	int r;

	switch (dec->chunk) {
	case HTTP_CHUNK_DATA:
		*ret_data_len = (size_t)(dec->remaining < want ? dec->remaining : want);
		*ret_data_len = *ret_data_len < len ? *ret_data_len : len;
		*ret_used = *ret_data_len;
		dec->remaining -= *ret_data_len;
		if (dec->remaining == 0)
			dec->chunk = HTTP_CHUNK_DATA_END;
		return 0;
	case HTTP_CHUNK_DATA_END:
		if (len < (buf[0] == '\r' ? 2u : 1u))
			return -EAGAIN;
		if (buf[buf[0] == '\r' ? 1 : 0] != '\n')
			return -EPROTO;
		*ret_used = buf[0] == '\r' ? 2 : 1;
		dec->chunk = HTTP_CHUNK_SIZE;
		return 0;
	case HTTP_CHUNK_SIZE:
		r = http_line_end(buf, len, 0, &end);
		if (r == 0)
			r = http_chunk_size(buf, 0, end, &size);
		if (r < 0)
			return r;
		*ret_used = end;
		dec->remaining = size;
		dec->chunk = size > 0 ? HTTP_CHUNK_DATA : HTTP_CHUNK_TRAILER;
		return 0;
	case HTTP_CHUNK_TRAILER:
		r = http_line_end(buf, len, 0, &end);
		if (r < 0)
			return r;
		*ret_used = end;
		dec->done = end == 1 || (end == 2 && buf[0] == '\r');
		return 0;
	}
	return -EPROTO;
}

/* See http_parse.h. */
int http_body_decode(struct http_body_decoder *dec, const char *buf, size_t len, bool eof,
		     size_t want, size_t *ret_used, const char **ret_data, size_t *ret_data_len)
{
	size_t used = 0, data_len = 0;
	int r = 0;

	if (dec->done) {
		/* nothing more belongs to the body */
	} else if (dec->framing == HTTP_BODY_CHUNKED) {
		r = len > 0 ? http_chunk_step(dec, buf, len, want, &used, &data_len) : -EAGAIN;
	} else {
		data_len = len < want ? len : want;
		if (dec->framing == HTTP_BODY_LENGTH && data_len > dec->remaining)
			data_len = (size_t)dec->remaining;
		used = data_len;
		dec->remaining -= dec->framing == HTTP_BODY_LENGTH ? data_len : 0;
		dec->done = dec->framing == HTTP_BODY_LENGTH ? dec->remaining == 0 : eof && len == 0;
		r = len == 0 && !dec->done ? -EAGAIN : 0;
	}
	if (r == -EAGAIN && eof)
		r = -EPROTO; /* the stream ended inside the body: truncated */
	if (r < 0)
		return r;
	*ret_used = used;
	*ret_data = buf;
	*ret_data_len = data_len;
	return 0;
}

/* See http_parse.h. */
void http_response_free(struct http_response *response)
{
	if (response == NULL)
		return;
	free(response->body);
	response->body = NULL;
	response->body_len = 0;
}
