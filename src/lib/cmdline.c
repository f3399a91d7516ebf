/*
 * cmdline.c — table-driven command lines (see cmdline.h).
 *
 * Owns: the translation of a cmdline_option table into getopt_long's
 * arrays, the value conversions, and the usage layout. Invariants: a value
 * is stored only once it is valid (a failed parse may leave earlier
 * options stored, never a half-converted one); the getopt "val" of entry i
 * is CMDLINE_VAL_BASE + i, so dispatch is an index into the table, not a
 * switch; short names map to the same entry.
 */
#include "cmdline.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* getopt values above every possible short option character. */
#define CMDLINE_VAL_BASE 1000
/* Tables are small; this bounds the arrays built on the stack. */
#define CMDLINE_MAX_OPTIONS 64

/* See cmdline.h. */
void cmdline_complain(const struct cmdline_program *program, const char *message,
		      const char *argument)
{
	const char *mark = strstr(message, "%s");

	/* Not printf: the messages are table data, never format strings. */
	if (mark == NULL || argument == NULL)
		fprintf(stderr, "%s: %s\n", program->name, message);
	else
		fprintf(stderr, "%s: %.*s%s%s\n", program->name, (int)(mark - message), message,
			argument, mark + 2);
}

/* The default complaint about a bad argument. */
static void cmdline_invalid(const struct cmdline_program *program, const struct cmdline_option *opt,
			    const char *message, const char *argument)
{
	if (message != NULL) {
		cmdline_complain(program, message, argument);
		return;
	}
	fprintf(stderr, "%s: --%s: invalid argument '%s'\n", program->name, opt->name, argument);
}

/* A decimal number in [min, max] times scale; -EINVAL or -ERANGE (below min). */
static int cmdline_number(const struct cmdline_option *opt, const char *text,
			  unsigned long long *ret_value)
{
	unsigned long long value, scale = opt->scale != 0 ? opt->scale : 1;
	char *end;

	text += strspn(text, " \t");
	if (*text == '-' || *text == '\0')
		return -EINVAL;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || value > opt->max || value > ULLONG_MAX / scale)
		return -EINVAL;
	if (value < opt->min)
		return -ERANGE;
	*ret_value = value * scale;
	return 0;
}

/* Store a checked number in the field's own type. */
static void cmdline_store_number(const struct cmdline_option *opt, char *field,
				 unsigned long long value)
{
	switch (opt->kind) {
	case CMDLINE_UNSIGNED:
		*(unsigned *)(void *)field = (unsigned)value;
		break;
	case CMDLINE_ULONG:
		*(unsigned long *)(void *)field = (unsigned long)value;
		break;
	case CMDLINE_U64:
		*(uint64_t *)(void *)field = (uint64_t)value;
		break;
	default: /* CMDLINE_I64: max is at most INT64_MAX in every table */
		*(int64_t *)(void *)field = (int64_t)value;
		break;
	}
}

/* The index of argument in choices, or -EINVAL. */
static int cmdline_choice(const char *const *choices, const char *argument)
{
	for (int i = 0; choices[i] != NULL; i++)
		if (strcmp(choices[i], argument) == 0)
			return i;
	return -EINVAL;
}

/* Apply one option: 0, 1 (help/version printed) or -EINVAL (complained). */
static int cmdline_apply(const struct cmdline_program *program, const struct cmdline_option *opt,
			 const char *argument, void *opts)
{
	char *field = (char *)opts + opt->offset;
	unsigned long long value;
	int r;

	switch (opt->kind) {
	case CMDLINE_FLAG:
		*(bool *)(void *)field = true;
		return 0;
	case CMDLINE_STRING:
		*(const char **)(void *)field = argument;
		return 0;
	case CMDLINE_CHOICE:
		r = cmdline_choice(opt->choices, argument);
		if (r >= 0)
			*(int *)(void *)field = r;
		break;
	case CMDLINE_CALL:
		r = opt->set(opts, argument);
		if (r < 0 && opt->invalid == NULL)
			return r; /* set() said why */
		break;
	case CMDLINE_HELP:
		cmdline_usage(program, stdout);
		return 1;
	case CMDLINE_VERSION:
		printf("%s\n", program->version);
		return 1;
	default:
		r = cmdline_number(opt, argument, &value);
		if (r == -ERANGE && opt->too_small != NULL) {
			cmdline_complain(program, opt->too_small, argument);
			return -EINVAL;
		}
		if (r == 0)
			cmdline_store_number(opt, field, value);
		break;
	}
	if (r >= 0)
		return 0;
	cmdline_invalid(program, opt, opt->invalid, argument);
	return -EINVAL;
}

/* getopt_long's arrays for the table. */
static int cmdline_getopt_tables(const struct cmdline_program *program, struct option *longopts,
				 char *shortopts)
{
	size_t n_short = 0;

	if (program->n_options > CMDLINE_MAX_OPTIONS)
		return -E2BIG;
	for (size_t i = 0; i < program->n_options; i++) {
		const struct cmdline_option *opt = &program->options[i];
		bool has_arg = opt->kind != CMDLINE_FLAG && opt->kind != CMDLINE_HELP &&
			       opt->kind != CMDLINE_VERSION;

		longopts[i] = (struct option){ opt->name, has_arg ? required_argument : no_argument,
					       NULL, CMDLINE_VAL_BASE + (int)i };
		if (opt->short_name != 0) {
			shortopts[n_short++] = opt->short_name;
			if (has_arg)
				shortopts[n_short++] = ':';
		}
	}
	longopts[program->n_options] = (struct option){ 0 };
	shortopts[n_short] = '\0';
	return 0;
}

/* The table entry getopt returned c for, or NULL for '?' and ':'. */
static const struct cmdline_option *cmdline_entry(const struct cmdline_program *program, int c)
{
	if (c >= CMDLINE_VAL_BASE && (size_t)(c - CMDLINE_VAL_BASE) < program->n_options)
		return &program->options[c - CMDLINE_VAL_BASE];
	for (size_t i = 0; i < program->n_options && c > 0; i++)
		if (program->options[i].short_name == c)
			return &program->options[i];
	return NULL;
}

/* See cmdline.h. */
int cmdline_parse(const struct cmdline_program *program, int argc, char **argv, void *opts)
{
	struct option longopts[CMDLINE_MAX_OPTIONS + 1];
	char shortopts[2 * CMDLINE_MAX_OPTIONS + 1];
	int c, r;

	r = cmdline_getopt_tables(program, longopts, shortopts);
	if (r < 0)
		return r;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct cmdline_option *opt = cmdline_entry(program, c);

		if (opt == NULL) { /* getopt has complained */
			if (program->usage_on_error)
				cmdline_usage(program, stderr);
			else
				fprintf(stderr, "Try '%s --help'.\n", program->name);
			return -EINVAL;
		}
		r = cmdline_apply(program, opt, optarg, opts);
		if (r != 0)
			return r;
	}
	if (optind < argc) {
		cmdline_complain(program, program->unexpected, argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* Print the left column of opt's usage line; returns its width. */
static int cmdline_usage_left(const struct cmdline_option *opt, FILE *out)
{
	int n;

	if (opt->usage != NULL)
		n = fprintf(out, "  %s", opt->usage);
	else if (opt->short_name != 0)
		n = fprintf(out, "  -%c, --%s%s%s", opt->short_name, opt->name, opt->arg ? " " : "",
			    opt->arg ? opt->arg : "");
	else
		n = fprintf(out, "  --%s%s%s", opt->name, opt->arg ? " " : "", opt->arg ? opt->arg : "");
	return n < 0 ? 0 : n;
}

/* See cmdline.h. */
void cmdline_usage(const struct cmdline_program *program, FILE *out)
{
	int column = (int)program->help_column;

	fputs(program->usage_head, out);
	for (size_t i = 0; i < program->n_options; i++) {
		const struct cmdline_option *opt = &program->options[i];
		const char *line = opt->help;
		int width;

		if (opt->section != NULL)
			fputs(opt->section, out);
		if (line == NULL)
			continue;
		width = cmdline_usage_left(opt, out);
		if (*line == '\0') {
			fputc('\n', out);
			continue;
		}
		fprintf(out, "%*s", width < column ? column - width : 1, "");
		for (;;) {
			size_t len = strcspn(line, "\n");

			fprintf(out, "%.*s\n", (int)len, line);
			if (line[len] == '\0')
				break;
			line += len + 1;
			fprintf(out, "%*s", column, "");
		}
	}
	fputs(program->usage_tail, out);
}
