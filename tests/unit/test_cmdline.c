/*
 * test_cmdline.c — the table-driven command-line parser: every kind of
 * entry, ranges and scales, the complaints (stderr captured to a file),
 * --help built from the table, and the 0 / 1 / -EINVAL contract.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdline.h"
#include "unit.h"

struct test_options {
	bool flag;
	const char *text;
	unsigned count;
	unsigned long big;
	uint64_t seed;
	int64_t limit;
	unsigned ms;
	int color;
	const char *called;
};

static int test_set_called(void *opts, const char *argument)
{
	struct test_options *o = opts;

	if (strcmp(argument, "bad") == 0)
		return -EINVAL;
	o->called = argument;
	return 0;
}

static const char *const test_colors[] = { "red", "green", NULL };

#define T(field) offsetof(struct test_options, field)

static const struct cmdline_option test_table[] = {
	{ .name = "flag", .short_name = 'f', .kind = CMDLINE_FLAG, .offset = T(flag),
	  .help = "a flag", .section = "Things:\n" },
	{ .name = "text", .kind = CMDLINE_STRING, .offset = T(text), .arg = "WORD",
	  .help = "some text\nover two lines" },
	{ .name = "count", .short_name = 'c', .kind = CMDLINE_UNSIGNED, .offset = T(count),
	  .arg = "N", .min = 1, .max = 10, .invalid = "--count takes 1 to 10, not '%s'",
	  .too_small = "--count must be at least 1", .help = "how many" },
	{ .name = "big", .kind = CMDLINE_ULONG, .offset = T(big), .arg = "N", .max = 1000000 },
	{ .name = "seed", .kind = CMDLINE_U64, .offset = T(seed), .arg = "N", .max = UINT64_MAX },
	{ .name = "limit", .kind = CMDLINE_I64, .offset = T(limit), .arg = "N", .max = INT64_MAX },
	{ .name = "seconds", .kind = CMDLINE_UNSIGNED, .offset = T(ms), .arg = "SEC", .max = 60,
	  .scale = 1000, .usage = "--seconds S", .help = "" },
	{ .name = "color", .kind = CMDLINE_CHOICE, .offset = T(color), .arg = "C",
	  .choices = test_colors, .invalid = "--color: red or green, not '%s'", .help = "hue" },
	{ .name = "call", .kind = CMDLINE_CALL, .set = test_set_called, .arg = "X",
	  .invalid = "--call %s: refused" },
	{ .name = "help", .short_name = 'h', .kind = CMDLINE_HELP, .help = "show this" },
	{ .name = "version", .kind = CMDLINE_VERSION },
};

static const struct cmdline_program test_program = {
	.name = "prog",
	.version = "prog 1.0",
	.options = test_table,
	.n_options = sizeof(test_table) / sizeof(test_table[0]),
	.usage_head = "Usage: prog\n",
	.usage_tail = "End.\n",
	.help_column = 16,
	.unexpected = "unexpected '%s'",
};

static char test_stderr[4096];

/* Parse a NULL-terminated argument list (after "prog"), capturing stderr. */
static int test_parse(struct test_options *o, const char *const *args)
{
	char *argv[32] = { (char *)"prog" };
	int argc = 1, saved = dup(STDERR_FILENO), saved_out = dup(STDOUT_FILENO), r;
	FILE *capture = tmpfile(), *null = fopen("/dev/null", "w");
	size_t n;

	ck_assert(saved >= 0 && saved_out >= 0 && capture != NULL && null != NULL);
	for (; args[argc - 1] != NULL; argc++)
		argv[argc] = (char *)args[argc - 1];
	/* stdout (--help, --version) must not reach the TAP stream */
	fflush(stdout);
	fflush(stderr);
	ck_assert_int_ge(dup2(fileno(capture), STDERR_FILENO), 0);
	ck_assert_int_ge(dup2(fileno(null), STDOUT_FILENO), 0);
	r = cmdline_parse(&test_program, argc, argv, o);
	fflush(stdout);
	fflush(stderr);
	ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
	ck_assert_int_ge(dup2(saved_out, STDOUT_FILENO), 0);
	close(saved);
	close(saved_out);
	fclose(null);
	rewind(capture);
	n = fread(test_stderr, 1, sizeof(test_stderr) - 1, capture);
	test_stderr[n] = '\0';
	fclose(capture);
	return r;
}

#define PARSE(o, ...) test_parse(o, (const char *const[]){ __VA_ARGS__, NULL })

START_TEST(test_every_kind)
{
	struct test_options o = { .count = 5 };

	ck_assert_int_eq(PARSE(&o, "-f", "--text", "hello", "--count=7", "--big", "1000000",
			       "--seed", "18446744073709551615", "--limit", "9223372036854775807",
			       "--seconds", "3", "--color", "green", "--call", "x"),
			 0);
	ck_assert(o.flag);
	ck_assert_str_eq(o.text, "hello");
	ck_assert_uint_eq(o.count, 7);
	ck_assert_uint_eq(o.big, 1000000);
	ck_assert(o.seed == UINT64_MAX);
	ck_assert(o.limit == INT64_MAX);
	ck_assert_uint_eq(o.ms, 3000);
	ck_assert_int_eq(o.color, 1);
	ck_assert_str_eq(o.called, "x");
	ck_assert_str_eq(test_stderr, "");
}
END_TEST

START_TEST(test_defaults_kept)
{
	struct test_options o = { .count = 5, .text = "default" };

	ck_assert_int_eq(PARSE(&o, "-c", "2"), 0);
	ck_assert_uint_eq(o.count, 2);
	ck_assert_str_eq(o.text, "default");
	ck_assert(!o.flag);
}
END_TEST

struct refusal {
	const char *args[3];
	const char *message;
};

static const struct refusal refusals[] = {
	{ { "--count", "11" }, "prog: --count takes 1 to 10, not '11'\n" },
	{ { "--count", "x" }, "prog: --count takes 1 to 10, not 'x'\n" },
	{ { "--count", "-1" }, "prog: --count takes 1 to 10, not '-1'\n" },
	{ { "--count", "" }, "prog: --count takes 1 to 10, not ''\n" },
	{ { "--count", "0" }, "prog: --count must be at least 1\n" },
	{ { "--big", "1000001" }, "prog: --big: invalid argument '1000001'\n" },
	{ { "--seed", "18446744073709551616" }, "prog: --seed: invalid argument '18446744073709551616'\n" },
	{ { "--seconds", "61" }, "prog: --seconds: invalid argument '61'\n" },
	{ { "--color", "blue" }, "prog: --color: red or green, not 'blue'\n" },
	{ { "--call", "bad" }, "prog: --call bad: refused\n" },
	{ { "stray" }, "prog: unexpected 'stray'\n" },
	{ { "--bogus" }, "prog: unrecognized option '--bogus'\nTry 'prog --help'.\n" },
	{ { "--text" }, "prog: option '--text' requires an argument\nTry 'prog --help'.\n" },
};

START_TEST(test_refusals)
{
	const struct refusal *c = &refusals[_i];
	struct test_options o = { .count = 5 };

	ck_assert_int_eq(test_parse(&o, c->args), -EINVAL);
	ck_assert_str_eq(test_stderr, c->message);
	ck_assert_uint_eq(o.count, 5); /* nothing half-stored */
}
END_TEST

START_TEST(test_help_and_version)
{
	struct test_options o = { 0 };
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	ck_assert_ptr_nonnull(out);
	cmdline_usage(&test_program, out);
	ck_assert_int_eq(fclose(out), 0);
	ck_assert_str_eq(text, "Usage: prog\n"
			       "Things:\n"
			       "  -f, --flag    a flag\n"
			       "  --text WORD   some text\n"
			       "                over two lines\n"
			       "  -c, --count N how many\n"
			       "  --seconds S\n"
			       "  --color C     hue\n"
			       "  -h, --help    show this\n"
			       "End.\n");
	free(text);
	/* --help and --version stop parsing with 1, whatever follows */
	ck_assert_int_eq(PARSE(&o, "--version", "--bogus"), 1);
	ck_assert_int_eq(PARSE(&o, "-h"), 1);
}
END_TEST

/* Check suite of the cmdline module. */
static Suite *cmdline_suite(void)
{
	Suite *s = suite_create("cmdline");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_every_kind);
	tcase_add_test(tc, test_defaults_kept);
	tcase_add_loop_test(tc, test_refusals, 0, sizeof(refusals) / sizeof(refusals[0]));
	tcase_add_test(tc, test_help_and_version);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(cmdline_suite());
}
