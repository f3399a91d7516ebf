/*
 * test_http_parse.c — the pure parts of the HTTP/1.1 client: reading a
 * response out of received bytes (status line, headers, Content-Length,
 * chunked, close-delimited, every prefix incomplete) and endpoint URLs.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "http_parse.h"
#include "unit.h"

struct response_case {
	const char *raw;
	bool eof;       /* the peer closed after raw */
	int rc;         /* what http_response_parse returns */
	unsigned status;
	const char *body;
	size_t extra;   /* bytes of raw after the message */
	bool close;
};

#define OK_HEAD "HTTP/1.1 200 OK\r\n"

static const struct response_case response_cases[] = {
	/* Content-Length */
	{ OK_HEAD "Content-Length: 5\r\n\r\nhello", false, 0, 200, "hello", 0, false },
	{ OK_HEAD "content-length:   5  \r\n\r\nhello", false, 0, 200, "hello", 0, false },
	{ OK_HEAD "Content-Length: 0\r\n\r\n", false, 0, 200, "", 0, false },
	{ OK_HEAD "Content-Length: 2\r\n\r\nhiEXTRA", false, 0, 200, "hi", 5, false },
	{ OK_HEAD "Content-Length: 9\r\n\r\nhello", false, -EAGAIN, 0, NULL, 0, false },
	{ OK_HEAD "Content-Length: 9\r\n\r\nhello", true, -EPROTO, 0, NULL, 0, false },
	{ OK_HEAD "Content-Length: 5x\r\n\r\nhello", false, -EPROTO, 0, NULL, 0, false },
	{ OK_HEAD "Content-Length: \r\n\r\n", false, -EPROTO, 0, NULL, 0, false },
	{ OK_HEAD "Content-Length: 99999999999\r\n\r\n", false, -EMSGSIZE, 0, NULL, 0, false },
	/* status lines */
	{ "HTTP/1.0 404 Not Found\r\nContent-Length: 2\r\n\r\nno", false, 0, 404, "no", 0, true },
	{ "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", false, 0, 200,
	  "", 0, false },
	{ "HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n", false, 0, 503, "", 0, false },
	{ "HTTP/1.1 204 No Content\r\n\r\n", false, 0, 204, "", 0, false },
	{ "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false, 0, 304, "", 0, false },
	{ "HTTP/2 200 OK\r\n\r\n", false, -EPROTO, 0, NULL, 0, false },
	{ "HTTP/1.1 20 OK\r\n\r\n", false, -EPROTO, 0, NULL, 0, false },
	{ "HTTP/1.1 2000 OK\r\n\r\n", false, -EPROTO, 0, NULL, 0, false },
	{ "HTTP/1.1 600 Odd\r\n\r\n", false, -EPROTO, 0, NULL, 0, false },
	{ "SSH-2.0-OpenSSH\r\n\r\n", false, -EPROTO, 0, NULL, 0, false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n", false, -EAGAIN, 0, NULL, 0, false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n", true, -EPROTO, 0, NULL, 0, false },
	{ "", true, -EPROTO, 0, NULL, 0, false },
	/* chunked */
	{ OK_HEAD "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", false, 0,
	  200, "hello world", 0, false },
	{ OK_HEAD "Transfer-Encoding: gzip, Chunked\r\n\r\nA;ext=1\r\n0123456789\r\n0\r\n\r\n", false,
	  0, 200, "0123456789", 0, false },
	{ OK_HEAD "Transfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n", false, 0, 200, "abc", 0, false },
	{ OK_HEAD "Transfer-Encoding: chunked\r\n\r\n0\r\nX-Trailer: 1\r\n\r\n", false, 0, 200, "",
	  0, false },
	{ OK_HEAD "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", false, -EAGAIN, 0, NULL, 0,
	  false },
	{ OK_HEAD "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", true, -EPROTO, 0, NULL, 0,
	  false },
	{ OK_HEAD "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", false, -EPROTO, 0,
	  NULL, 0, false },
	{ OK_HEAD "Transfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n", false, -EPROTO, 0,
	  NULL, 0, false },
	/* chunked wins over Content-Length */
	{ OK_HEAD "Content-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", false,
	  0, 200, "x", 0, false },
	/* neither: the body ends with the stream */
	{ OK_HEAD "Connection: close\r\n\r\nuntil eof", false, -EAGAIN, 0, NULL, 0, true },
	{ OK_HEAD "Connection: close\r\n\r\nuntil eof", true, 0, 200, "until eof", 0, true },
	{ OK_HEAD "\r\nno length", true, 0, 200, "no length", 0, true },
	{ OK_HEAD "Connection: Keep-Alive, Close\r\nContent-Length: 0\r\n\r\n", false, 0, 200, "", 0,
	  true },
};

START_TEST(test_response_parse)
{
	const struct response_case *c = &response_cases[_i];
	struct http_response resp = { .status = 7, .body = NULL };
	size_t used = 1234, len = strlen(c->raw);
	bool close = false;
	int r = http_response_parse(c->raw, len, c->eof, &resp, &used, &close);

	ck_assert_msg(r == c->rc, "case %d: %d, expected %d", _i, r, c->rc);
	if (r < 0) {
		/* outputs untouched on failure */
		ck_assert_uint_eq(resp.status, 7);
		ck_assert_ptr_null(resp.body);
		ck_assert_uint_eq(used, 1234);
		return;
	}
	ck_assert_uint_eq(resp.status, c->status);
	ck_assert_uint_eq(resp.body_len, strlen(c->body));
	ck_assert_mem_eq(resp.body, c->body, resp.body_len + 1);
	ck_assert_uint_eq(used, len - c->extra);
	ck_assert_int_eq(close, c->close);
	http_response_free(&resp);
	ck_assert_ptr_null(resp.body);
}
END_TEST

/* Bytes arrive in pieces: every proper prefix of a complete answer is
 * -EAGAIN, never a wrong answer, and the input is never modified. */
START_TEST(test_response_every_prefix)
{
	static const char *const complete[] = {
		OK_HEAD "Content-Length: 5\r\n\r\nhello",
		OK_HEAD "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
		"HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(complete) / sizeof(complete[0]); i++) {
		size_t len = strlen(complete[i]);
		char *copy = strdup(complete[i]);
		struct http_response resp;
		size_t used;
		bool close;

		ck_assert_ptr_nonnull(copy);
		for (size_t n = 0; n < len; n++)
			ck_assert_int_eq(http_response_parse(copy, n, false, &resp, &used, &close),
					 -EAGAIN);
		ck_assert_int_eq(http_response_parse(copy, len, false, &resp, &used, &close), 0);
		ck_assert_uint_eq(used, len);
		ck_assert_str_eq(copy, complete[i]);
		http_response_free(&resp);
		free(copy);
	}
}
END_TEST

START_TEST(test_head_too_long)
{
	size_t len = HTTP_HEAD_MAX + 64;
	char *raw = malloc(len);
	struct http_head head;

	ck_assert_ptr_nonnull(raw);
	memset(raw, 'x', len);
	memcpy(raw, OK_HEAD "X-Long: ", strlen(OK_HEAD "X-Long: "));
	ck_assert_int_eq(http_head_parse(raw, HTTP_HEAD_MAX - 1, &head), -EAGAIN);
	ck_assert_int_eq(http_head_parse(raw, len, &head), -EPROTO);
	free(raw);
}
END_TEST

START_TEST(test_head_value)
{
	static const char head[] = OK_HEAD "X-One: 1\r\nx-two:\t two words \r\nX-Empty:\r\n\r\n";
	char value[16], tiny[4];

	ck_assert(http_head_value(head, strlen(head), "X-One", value, sizeof(value)));
	ck_assert_str_eq(value, "1");
	ck_assert(http_head_value(head, strlen(head), "X-TWO", value, sizeof(value)));
	ck_assert_str_eq(value, "two words");
	ck_assert(http_head_value(head, strlen(head), "X-Empty", value, sizeof(value)));
	ck_assert_str_eq(value, "");
	ck_assert(!http_head_value(head, strlen(head), "X-On", value, sizeof(value)));
	ck_assert(!http_head_value(head, strlen(head), "HTTP/1.1 200 OK", value, sizeof(value)));
	ck_assert(!http_head_value(head, strlen(head), "X-Two", tiny, sizeof(tiny)));
}
END_TEST

START_TEST(test_chunked_scan)
{
	static const char body[] = "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\nNEXT";
	size_t raw_len = 0, body_len = 0;

	ck_assert_int_eq(http_chunked_scan(body, strlen(body), &raw_len, &body_len), 0);
	ck_assert_uint_eq(raw_len, strlen(body) - 4);
	ck_assert_uint_eq(body_len, 9);
	ck_assert_int_eq(http_chunked_scan("ffffffffffffffff\r\n", 18, &raw_len, &body_len),
			 -EMSGSIZE);
}
END_TEST

struct endpoint_case {
	const char *url;
	int rc;
	bool unix_socket;
	const char *host_or_path;
	const char *port;
	const char *url_out;
};

static const struct endpoint_case endpoint_cases[] = {
	{ "http://127.0.0.1:8080", 0, false, "127.0.0.1", "8080", "http://127.0.0.1:8080" },
	{ "http://localhost/", 0, false, "localhost", "80", "http://localhost:80" },
	{ "http://[::1]:9000/", 0, false, "::1", "9000", "http://[::1]:9000" },
	{ "unix:///run/claimfs/api.sock", 0, true, "/run/claimfs/api.sock", "",
	  "unix:/run/claimfs/api.sock" },
	{ "unix:/run/api.sock", 0, true, "/run/api.sock", "", "unix:/run/api.sock" },
	{ "unix://host/run/api.sock", -EINVAL, false, NULL, NULL, NULL },
	{ "unix:relative", -EINVAL, false, NULL, NULL, NULL },
	{ "http://", -EINVAL, false, NULL, NULL, NULL },
	{ "http://:80", -EINVAL, false, NULL, NULL, NULL },
	{ "http://host:", -EINVAL, false, NULL, NULL, NULL },
	{ "http://host:8x", -EINVAL, false, NULL, NULL, NULL },
	{ "http://host/api", -EINVAL, false, NULL, NULL, NULL },
	{ "http://[::1", -EINVAL, false, NULL, NULL, NULL },
	{ "https://host", -EINVAL, false, NULL, NULL, NULL },
	{ "host:80", -EINVAL, false, NULL, NULL, NULL },
};

START_TEST(test_endpoint_parse)
{
	const struct endpoint_case *c = &endpoint_cases[_i];
	struct http_endpoint ep = { .timeout_ms = -5 };

	ck_assert_int_eq(http_endpoint_parse(c->url, &ep), c->rc);
	if (c->rc < 0) {
		ck_assert_int_eq(ep.timeout_ms, -5);
		return;
	}
	ck_assert_int_eq(ep.unix_socket, c->unix_socket);
	ck_assert_str_eq(c->unix_socket ? ep.unix_path : ep.host, c->host_or_path);
	ck_assert_str_eq(ep.port, c->port);
	ck_assert_str_eq(ep.url, c->url_out);
	ck_assert_int_eq(ep.timeout_ms, HTTP_DEFAULT_TIMEOUT_MS);
	ck_assert_str_eq(ep.token, "");
	ck_assert_uint_eq(ep.addr_len, 0);
}
END_TEST

START_TEST(test_endpoint_loopback)
{
	struct http_endpoint ep;

	http_endpoint_loopback(8123, &ep);
	ck_assert_str_eq(ep.host_header, "127.0.0.1:8123");
	ck_assert_str_eq(ep.url, "http://127.0.0.1:8123");
	ck_assert_uint_gt(ep.addr_len, 0);
	ck_assert(!ep.unix_socket);
}
END_TEST

/* ---- bodies decoded as they arrive (http_body_decode) ---------------------------------- */

struct body_case {
	const char *head; /* the answer's head */
	const char *raw;  /* the bytes after it, all received before the peer closes */
	bool eof;         /* the peer closes after raw */
	int rc;           /* 0, or the error decoding ends with */
	const char *body; /* the decoded body when rc is 0 */
};

static const struct body_case body_cases[] = {
	{ OK_HEAD "Content-Length: 5\r\n\r\n", "hello", false, 0, "hello" },
	{ OK_HEAD "Content-Length: 5\r\n\r\n", "hel", true, -EPROTO, NULL },
	{ OK_HEAD "Content-Length: 0\r\n\r\n", "", false, 0, "" },
	{ OK_HEAD "Transfer-Encoding: chunked\r\n\r\n", "5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n",
	  false, 0, "hello world" },
	{ OK_HEAD "Transfer-Encoding: chunked\r\n\r\n", "3\nabc\n0\nTrailer: x\n\n", false, 0, "abc" },
	/* a stream cut short: inside data, before the last chunk, inside the trailers */
	{ OK_HEAD "Transfer-Encoding: chunked\r\n\r\n", "5\r\nhel", true, -EPROTO, NULL },
	{ OK_HEAD "Transfer-Encoding: chunked\r\n\r\n", "5\r\nhello\r\n", true, -EPROTO, NULL },
	{ OK_HEAD "Transfer-Encoding: chunked\r\n\r\n", "0\r\n", true, -EPROTO, NULL },
	{ OK_HEAD "Transfer-Encoding: chunked\r\n\r\n", "zz\r\n", false, -EPROTO, NULL },
	{ OK_HEAD "Transfer-Encoding: chunked\r\n\r\n", "2\r\nhiX\r\n0\r\n\r\n", false, -EPROTO, NULL },
	{ OK_HEAD "\r\n", "to the end", true, 0, "to the end" },
	{ "HTTP/1.1 204 No Content\r\n\r\n", "", false, 0, "" },
};

/* Decode c's bytes as if they came `step` at a time and were asked for
 * `want` at a time; the body into out (NUL-terminated). 0 or the error. */
static int body_decode_all(const struct body_case *c, size_t step, size_t want, char *out,
			   size_t out_size)
{
	struct http_body_decoder dec;
	struct http_head head;
	size_t raw_len = strlen(c->raw), avail = 0, pos = 0, out_len = 0;

	ck_assert_int_eq(http_head_parse(c->head, strlen(c->head), &head), 0);
	http_body_decoder_init(&dec, &head);
	while (!dec.done) {
		const char *data;
		size_t used, n;
		bool eof = avail == raw_len && c->eof;
		int r = http_body_decode(&dec, c->raw + pos, avail - pos, eof, want, &used, &data, &n);

		if (r == -EAGAIN) {
			ck_assert_uint_lt(avail, raw_len); /* more was promised */
			avail = avail + step < raw_len ? avail + step : raw_len;
			continue;
		}
		if (r < 0)
			return r;
		ck_assert_uint_le(n, want);
		ck_assert_uint_lt(out_len + n, out_size);
		memcpy(out + out_len, data, n);
		out_len += n;
		pos += used;
		if (used == 0 && n == 0 && !dec.done)
			avail = avail + step < raw_len ? avail + step : raw_len;
	}
	out[out_len] = '\0';
	return 0;
}

/* Every case, split every way (one test: each Check test is a fork, and
 * the unit tests also run under valgrind). */
START_TEST(test_body_decode)
{
	static const size_t steps[] = { 1, 2, 7, 1000 }, wants[] = { 1, 3, 4096 };
	char out[256];

	for (size_t i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++)
		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++)
			for (size_t w = 0; w < sizeof(wants) / sizeof(wants[0]); w++) {
				const struct body_case *c = &body_cases[i];
				int r = body_decode_all(c, steps[s], wants[w], out, sizeof(out));

				ck_assert_msg(r == c->rc, "case %zu step %zu want %zu: %d, not %d",
					      i, steps[s], wants[w], r, c->rc);
				if (r == 0)
					ck_assert_str_eq(out, c->body);
			}
}
END_TEST

/* Check suite of the HTTP client's pure parts. */
static Suite *http_parse_suite(void)
{
	Suite *s = suite_create("http_parse");
	TCase *tc = tcase_create("response");

	tcase_add_loop_test(tc, test_response_parse, 0,
			    sizeof(response_cases) / sizeof(response_cases[0]));
	tcase_add_test(tc, test_response_every_prefix);
	tcase_add_test(tc, test_head_too_long);
	tcase_add_test(tc, test_head_value);
	tcase_add_test(tc, test_chunked_scan);
	tcase_add_test(tc, test_body_decode);
	suite_add_tcase(s, tc);
	tc = tcase_create("endpoint");
	tcase_add_loop_test(tc, test_endpoint_parse, 0,
			    sizeof(endpoint_cases) / sizeof(endpoint_cases[0]));
	tcase_add_test(tc, test_endpoint_loopback);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(http_parse_suite());
}
