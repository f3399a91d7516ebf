/*
 * http_parse.h — the pure half of the HTTP/1.1 client (http_client.h): it
 * reads a response out of the bytes received so far and never touches a
 * socket, so the unit tests feed it byte strings.
 *
 * A response is complete at its Content-Length, at the end of a chunked
 * body (trailers included), at EOF when neither is given, or right after
 * the head for 1xx, 204 and 304. Anything else is -EAGAIN (read more) or
 * -EPROTO (the peer does not speak HTTP/1.x as we expect).
 */
#ifndef CLAIMFS_LIB_HTTP_PARSE_H
#define CLAIMFS_LIB_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Heads above this are -EPROTO; bodies above HTTP_BODY_MAX -EMSGSIZE
 * (claimfsd's largest lists are far smaller). */
#define HTTP_HEAD_MAX 16384u
#define HTTP_BODY_MAX (64u << 20)

struct http_response {
	unsigned status;
	char *body; /* malloc'd, never NULL, NUL-terminated (the NUL is not in body_len) */
	size_t body_len;
};

/* What the status line and headers say about the body. */
struct http_head {
	unsigned status;      /* 100..599 */
	size_t head_len;      /* bytes up to and including the empty line */
	bool has_length;      /* Content-Length was given ... */
	uint64_t content_length; /* ... with this value */
	bool chunked;         /* Transfer-Encoding: chunked */
	bool close;           /* Connection: close (the server ends the stream) */
};

/* Parse the head at the start of buf[0..len). 0 with ret_head filled,
 * -EAGAIN if the empty line has not arrived yet, -EPROTO if malformed or
 * longer than HTTP_HEAD_MAX. */
int http_head_parse(const char *buf, size_t len, struct http_head *ret_head);

/* Header name's value in the head (the lines after the status line), blanks
 * around it removed, copied into buf of size. false if absent or too long. */
bool http_head_value(const char *head, size_t head_len, const char *name, char *buf, size_t size);

/* Where a chunked body starting at buf ends: 0 with ret_raw_len (bytes of
 * chunk framing and data, trailers included) and ret_body_len (decoded
 * bytes), -EAGAIN if incomplete, -EPROTO if malformed. Lines may end in
 * CRLF or a bare LF. */
int http_chunked_scan(const char *buf, size_t len, size_t *ret_raw_len, size_t *ret_body_len);

/* One whole response out of buf[0..len); eof says the peer closed the
 * stream after these bytes. 0 with ret_response (a new body) and
 * ret_message_len (bytes it used) and ret_close (the connection cannot be
 * reused); -EAGAIN, -EPROTO, -EMSGSIZE, -ENOMEM. Outputs untouched on
 * failure. */
int http_response_parse(const char *buf, size_t len, bool eof, struct http_response *ret_response,
			size_t *ret_message_len, bool *ret_close);

/* Decoding a body as it arrives, for bodies too large to hold
 * (http_stream_read): framed by Content-Length, chunked, or ending with the
 * stream. Chunk sizes above HTTP_BODY_MAX are -EMSGSIZE (claimfsd's chunks
 * are a few KiB; the body itself has no limit). */
struct http_body_decoder {
	enum { HTTP_BODY_LENGTH, HTTP_BODY_CHUNKED, HTTP_BODY_TO_EOF } framing;
	enum { HTTP_CHUNK_SIZE, HTTP_CHUNK_DATA, HTTP_CHUNK_DATA_END, HTTP_CHUNK_TRAILER } chunk;
	uint64_t remaining; /* of the body (LENGTH) or of the current chunk's data */
	bool done;          /* the whole body has been decoded */
};

/* Start decoding the body of the response whose head is head. */
void http_body_decoder_init(struct http_body_decoder *dec, const struct http_head *head);

/* Decode from the bytes buf[0..len) that follow what was used before; eof:
 * the peer closed after them. 0: *ret_used bytes of buf are used up and
 * *ret_data (into buf) holds *ret_data_len <= want bytes of body (maybe 0:
 * framing only; dec->done once the body is complete). -EAGAIN: nothing can
 * be decoded until more bytes come (a chunk line is incomplete). -EPROTO:
 * malformed, or the stream ended before the body did (truncated). */
int http_body_decode(struct http_body_decoder *dec, const char *buf, size_t len, bool eof,
		     size_t want, size_t *ret_used, const char **ret_data, size_t *ret_data_len);

/* Free the body; NULL is a no-op. */
void http_response_free(struct http_response *response);

#endif
