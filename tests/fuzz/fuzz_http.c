/*
 * fuzz_http.c — libFuzzer target for the HTTP client's response parsing:
 * the whole-answer parser (http_response_parse) and the body decoder of
 * streamed answers (http_body_decode), against each other.
 *
 * Input: one byte choosing how the stream is cut and read, then the bytes
 * a server sent before closing the connection.
 * Properties: whenever the whole parser takes the answer, the decoder fed
 * the same bytes in pieces (any piece size, any read size) yields exactly
 * the same body; whenever the decoder completes a body the whole parser
 * refuses, the refusal is its size cap (-EMSGSIZE); the decoder never
 * hands out more than was asked or bytes it was not given.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http_parse.h"

/* Decode the body after the head as it would arrive: piece bytes at a
 * time, want at a time. 0 with the body in a new allocation, or the error. */
static int fuzz_http_stream(const char *buf, size_t len, size_t piece, size_t want,
			    char **ret_body, size_t *ret_len)
{
	struct http_body_decoder dec;
	struct http_head head;
	size_t avail, pos, out_len = 0;
	char *out;
	int r = http_head_parse(buf, len, &head);

	if (r < 0)
		return r;
	out = malloc(len + 1);
	if (out == NULL)
		return -ENOMEM;
	http_body_decoder_init(&dec, &head);
	pos = avail = head.head_len;
	while (!dec.done) {
		const char *data;
		size_t used, n;

		r = http_body_decode(&dec, buf + pos, avail - pos, avail == len, want, &used, &data, &n);
		if (r == -EAGAIN || (r == 0 && used == 0 && n == 0 && !dec.done)) {
			if (avail == len)
				fuzz_fail("the decoder asks for more after the end (r %d)", r);
			avail = len - avail < piece ? len : avail + piece;
			continue;
		}
		if (r < 0)
			break;
		if (n > want || used > avail - pos || data < buf + pos || data + n > buf + avail)
			fuzz_fail("the decoder handed out %zu bytes (asked %zu) outside its input", n,
				  want);
		memcpy(out + out_len, data, n);
		out_len += n;
		pos += used;
	}
	if (r < 0) {
		free(out);
		return r;
	}
	*ret_body = out;
	*ret_len = out_len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_response whole;
	size_t used, stream_len = 0;
	char *stream = NULL;
	bool close;
	int r_whole, r_stream;

	if (size < 1)
		return 0;
	const char *buf = (const char *)data + 1;
	size_t len = size - 1, piece = (size_t)(data[0] & 15) + 1, want = (size_t)(data[0] >> 4) + 1;

	r_whole = http_response_parse(buf, len, true, &whole, &used, &close);
	r_stream = fuzz_http_stream(buf, len, piece, want, &stream, &stream_len);
	if (r_whole == 0 && r_stream != 0)
		fuzz_fail("the whole parser took the answer, the decoder failed with %d", r_stream);
	if (r_whole == 0 && (stream_len != whole.body_len || memcmp(stream, whole.body, stream_len)))
		fuzz_fail("the decoded body (%zu bytes) differs from the whole one (%zu)", stream_len,
			  whole.body_len);
	if (r_whole != 0 && r_stream == 0 && r_whole != -EMSGSIZE)
		fuzz_fail("the decoder took a body the whole parser refused with %d", r_whole);
	if (r_whole == 0)
		http_response_free(&whole);
	free(stream);
	return 0;
}
