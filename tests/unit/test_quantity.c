/*
 * test_quantity.c — quantity parsing (every suffix family, rounding, the
 * malformed spellings Kubernetes rejects) and canonical formatting.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "quantity.h"
#include "unit.h"

struct quantity_case {
	const char *text;
	uint64_t bytes;
	enum quantity_format format;
	const char *canonical;
};

static const struct quantity_case valid_cases[] = {
	{ "0", 0, QUANTITY_DECIMAL_SI, "0" },
	{ "1", 1, QUANTITY_DECIMAL_SI, "1" },
	{ "1024", 1024, QUANTITY_DECIMAL_SI, "1024" },
	{ "1048576", 1048576, QUANTITY_DECIMAL_SI, "1048576" },
	{ "1k", 1000, QUANTITY_DECIMAL_SI, "1k" },
	{ "100k", 100000, QUANTITY_DECIMAL_SI, "100k" },
	{ "500M", 500000000, QUANTITY_DECIMAL_SI, "500M" },
	{ "1500000000", 1500000000, QUANTITY_DECIMAL_SI, "1500M" },
	{ "2G", 2000000000, QUANTITY_DECIMAL_SI, "2G" },
	{ "3T", 3000000000000ULL, QUANTITY_DECIMAL_SI, "3T" },
	{ "4P", 4000000000000000ULL, QUANTITY_DECIMAL_SI, "4P" },
	{ "1E", 1000000000000000000ULL, QUANTITY_DECIMAL_SI, "1E" },
	{ "1Ki", 1024, QUANTITY_BINARY_SI, "1Ki" },
	{ "1Mi", 1048576, QUANTITY_BINARY_SI, "1Mi" },
	{ "1Gi", 1073741824, QUANTITY_BINARY_SI, "1Gi" },
	{ "2Ti", 2199023255552ULL, QUANTITY_BINARY_SI, "2Ti" },
	{ "1Pi", 1125899906842624ULL, QUANTITY_BINARY_SI, "1Pi" },
	{ "1Ei", 1152921504606846976ULL, QUANTITY_BINARY_SI, "1Ei" },
	{ "15Ei", 17293822569102704640ULL, QUANTITY_BINARY_SI, "15Ei" },
	{ "1024Mi", 1073741824, QUANTITY_BINARY_SI, "1Gi" },
	{ "1.5Gi", 1610612736, QUANTITY_BINARY_SI, "1536Mi" },
	{ "0.5Mi", 524288, QUANTITY_BINARY_SI, "512Ki" },
	{ ".5Ki", 512, QUANTITY_BINARY_SI, "512" },
	{ "1.1k", 1100, QUANTITY_DECIMAL_SI, "1100" },
	{ "1.", 1, QUANTITY_DECIMAL_SI, "1" },
	{ "+1Mi", 1048576, QUANTITY_BINARY_SI, "1Mi" },
	{ "-0", 0, QUANTITY_DECIMAL_SI, "0" },
	{ "007", 7, QUANTITY_DECIMAL_SI, "7" },
	/* Fractions of a byte round up, as Quantity.Value() does. */
	{ "0.1", 1, QUANTITY_DECIMAL_SI, "1" },
	{ "1m", 1, QUANTITY_DECIMAL_SI, "1" },
	{ "1500m", 2, QUANTITY_DECIMAL_SI, "2" },
	{ "1u", 1, QUANTITY_DECIMAL_SI, "1" },
	{ "1n", 1, QUANTITY_DECIMAL_SI, "1" },
	{ "0.0001Ki", 1, QUANTITY_BINARY_SI, "1" },
	{ "1.0000000001Ki", 1025, QUANTITY_BINARY_SI, "1025" },
	{ "0.000000000000000000000000000000000000000000000000001", 1, QUANTITY_DECIMAL_SI, "1" },
	/* Exponents. */
	{ "1e3", 1000, QUANTITY_DECIMAL_EXPONENT, "1e3" },
	{ "1E6", 1000000, QUANTITY_DECIMAL_EXPONENT, "1e6" },
	{ "1e+6", 1000000, QUANTITY_DECIMAL_EXPONENT, "1e6" },
	{ "1.5e3", 1500, QUANTITY_DECIMAL_EXPONENT, "1500" },
	{ "15e8", 1500000000, QUANTITY_DECIMAL_EXPONENT, "1500e6" },
	{ "1e-3", 1, QUANTITY_DECIMAL_EXPONENT, "1" },
	{ "0e400", 0, QUANTITY_DECIMAL_EXPONENT, "0" },
	{ "18446744073709551615", UINT64_MAX, QUANTITY_DECIMAL_SI, "18446744073709551615" },
};

static const char *const malformed[] = {
	"", "Mi", "1 Mi", " 1Mi", "1Mi ", "1mi", "1MI", "1K", "1Kib", "1.2.3", "1..2", ".", "+", "-",
	"--1", "+-1", "1e", "1e3.5", "1ee3", "1e+", "1e-", "0x10", "abc", "1Mi1", "1ki", "1b", "1B",
	"1,5Gi", "1_000", "1\n", "Infinity", "NaN",
	/* 129 characters: longer than QUANTITY_INPUT_MAX */
	"111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
	"111111111111111111111111111111111111111111",
};

static const char *const out_of_range[] = {
	"-1", "-1Mi", "-0.5", "16Ei", "18446744073709551616", "1e20", "1e400", "20E",
	"99999999999999999999999999999999Ki",
};

START_TEST(test_parse_valid)
{
	const struct quantity_case *c = &valid_cases[_i];
	enum quantity_format format = QUANTITY_AUTO;
	uint64_t bytes = 12345;

	ck_assert_msg(quantity_parse(c->text, &bytes, &format) == 0, "parse \"%s\"", c->text);
	ck_assert_msg(bytes == c->bytes, "\"%s\": got %llu want %llu", c->text,
		      (unsigned long long)bytes, (unsigned long long)c->bytes);
	ck_assert_msg(format == c->format, "\"%s\": format %d want %d", c->text, format, c->format);
}
END_TEST

START_TEST(test_format_canonical)
{
	const struct quantity_case *c = &valid_cases[_i];
	char text[QUANTITY_TEXT_MAX];
	enum quantity_format format;
	uint64_t bytes, again;
	int n;

	ck_assert_int_eq(quantity_parse(c->text, &bytes, &format), 0);
	n = quantity_format(bytes, format, text, sizeof(text));
	ck_assert_int_eq(n, (int)strlen(c->canonical));
	ck_assert_str_eq(text, c->canonical);
	/* The canonical form parses back to the same bytes. */
	ck_assert_int_eq(quantity_parse(text, &again, NULL), 0);
	ck_assert_uint_eq(again, bytes);
}
END_TEST

START_TEST(test_parse_malformed)
{
	uint64_t bytes = 42;

	ck_assert_msg(quantity_parse(malformed[_i], &bytes, NULL) == -EINVAL, "\"%s\" accepted",
		      malformed[_i]);
	ck_assert_uint_eq(bytes, 42); /* untouched on failure */
}
END_TEST

START_TEST(test_parse_out_of_range)
{
	uint64_t bytes = 42;

	ck_assert_msg(quantity_parse(out_of_range[_i], &bytes, NULL) == -ERANGE,
		      "\"%s\" not -ERANGE", out_of_range[_i]);
	ck_assert_uint_eq(bytes, 42);
}
END_TEST

START_TEST(test_parse_null)
{
	uint64_t bytes;

	ck_assert_int_eq(quantity_parse(NULL, &bytes, NULL), -EINVAL);
}
END_TEST

START_TEST(test_format_families)
{
	static const struct {
		uint64_t bytes;
		enum quantity_format format;
		const char *text;
	} cases[] = {
		{ 1048576, QUANTITY_AUTO, "1Mi" },
		{ 1000, QUANTITY_AUTO, "1k" },
		{ 1500000000, QUANTITY_AUTO, "1500M" },
		{ 123, QUANTITY_AUTO, "123" },
		{ 0, QUANTITY_AUTO, "0" },
		{ 2048000, QUANTITY_AUTO, "2000Ki" },
		{ 1048576, QUANTITY_DECIMAL_SI, "1048576" },
		{ 1048576, QUANTITY_BINARY_SI, "1Mi" },
		{ 512, QUANTITY_BINARY_SI, "512" },
		{ 1000, QUANTITY_BINARY_SI, "1k" },
		{ 1025, QUANTITY_BINARY_SI, "1025" },
		{ 1500000000, QUANTITY_DECIMAL_EXPONENT, "1500e6" },
		{ 7, QUANTITY_DECIMAL_EXPONENT, "7" },
		{ UINT64_MAX, QUANTITY_AUTO, "18446744073709551615" },
		{ 8ULL << 60, QUANTITY_BINARY_SI, "8Ei" },
	};
	char text[QUANTITY_TEXT_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_gt(quantity_format(cases[i].bytes, cases[i].format, text, sizeof(text)), 0);
		ck_assert_str_eq(text, cases[i].text);
	}
}
END_TEST

START_TEST(test_format_small_buffer)
{
	char text[4];

	ck_assert_int_eq(quantity_format(1048576, QUANTITY_BINARY_SI, text, sizeof(text)), 3);
	ck_assert_str_eq(text, "1Mi");
	ck_assert_int_eq(quantity_format(1536ULL << 20, QUANTITY_BINARY_SI, text, sizeof(text)),
			 -ERANGE);
}
END_TEST

/* Check suite of the quantity module. */
static Suite *quantity_suite(void)
{
	Suite *s = suite_create("quantity");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_parse_valid, 0, sizeof(valid_cases) / sizeof(valid_cases[0]));
	tcase_add_loop_test(tc, test_parse_malformed, 0, sizeof(malformed) / sizeof(malformed[0]));
	tcase_add_loop_test(tc, test_parse_out_of_range, 0,
			    sizeof(out_of_range) / sizeof(out_of_range[0]));
	tcase_add_test(tc, test_parse_null);
	suite_add_tcase(s, tc);
	tc = tcase_create("format");
	tcase_add_loop_test(tc, test_format_canonical, 0,
			    sizeof(valid_cases) / sizeof(valid_cases[0]));
	tcase_add_test(tc, test_format_families);
	tcase_add_test(tc, test_format_small_buffer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(quantity_suite());
}
