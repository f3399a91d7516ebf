/*
 * cmdline.h — the one command-line parser of claimfsd, claimfs-csi and
 * claimfs-harness: a program describes its options in one const table
 * (one entry per option, like tmux's command table) and cmdline_parse()
 * runs getopt_long over it, stores each value at its offset in the
 * program's options struct, and prints --help from the same table, so an
 * option cannot exist without being documented or be documented without
 * existing.
 *
 * Messages: every complaint is "PROGRAM: ..." on stderr, with the entry's
 * own wording (programs keep the messages their users and tests know);
 * "%s" in a message stands for the offending argument.
 */
#ifndef CLAIMFS_LIB_CMDLINE_H
#define CLAIMFS_LIB_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum cmdline_kind {
	CMDLINE_FLAG,     /* no argument: bool = true */
	CMDLINE_STRING,   /* const char * = the argument (points into argv) */
	CMDLINE_UNSIGNED, /* unsigned, decimal in [min, max], times scale */
	CMDLINE_ULONG,    /* unsigned long, likewise */
	CMDLINE_U64,      /* uint64_t, likewise */
	CMDLINE_I64,      /* int64_t, likewise (min and max as for the others) */
	CMDLINE_CHOICE,   /* int (an enum) = index of the argument in choices */
	CMDLINE_CALL,     /* set(opts, argument) decides */
	CMDLINE_HELP,     /* print the usage to stdout, cmdline_parse() returns 1 */
	CMDLINE_VERSION,  /* print the program's version line, returns 1 */
};

struct cmdline_option {
	const char *name;   /* long name without "--" */
	char short_name;    /* 0: none */
	enum cmdline_kind kind;
	size_t offset;      /* of the field in the options struct (offsetof) */
	const char *arg;    /* argument name in the usage ("N", "FILE"); NULL: none */
	unsigned long long min, max; /* numbers: the accepted range */
	unsigned long long scale;    /* numbers: stored value = argument * scale (0: 1) */
	const char *const *choices;  /* CHOICE: the accepted words, NULL-terminated */
	/* CALL: store the argument; 0, or -EINVAL (then "invalid" is printed,
	 * or nothing if invalid is NULL and set printed its own reason). */
	int (*set)(void *opts, const char *argument);
	const char *invalid;   /* a bad argument (out of range, not a number) */
	const char *too_small; /* a number below min, if it deserves other words */
	/* Usage: the left column (NULL: "[-s, ]--name[ ARG]"), the help text
	 * (lines separated by '\n'; NULL: not listed), and a text printed
	 * verbatim before the entry (a section heading). */
	const char *usage;
	const char *help;
	const char *section;
};

struct cmdline_program {
	const char *name;    /* "claimfsd": prefix of every message */
	const char *version; /* the --version line, without newline */
	const struct cmdline_option *options;
	size_t n_options;
	const char *usage_head; /* the usage text before the options */
	const char *usage_tail; /* ... and after them */
	unsigned help_column;   /* where help texts start in the usage */
	/* After getopt's own complaint about an unknown option or a missing
	 * argument: the whole usage (true) or "Try 'PROGRAM --help'." */
	bool usage_on_error;
	const char *unexpected; /* a stray operand ("%s" is the operand) */
};

/* Parse argv into opts (defaults already set by the caller). 0 to run, 1
 * after printing --help or --version (exit 0), -EINVAL after printing why
 * (a usage error). Resets getopt, so it may be called more than once. */
int cmdline_parse(const struct cmdline_program *program, int argc, char **argv, void *opts);

/* Print the usage built from the table to out. */
void cmdline_usage(const struct cmdline_program *program, FILE *out);

/* Print "PROGRAM: " and message, "%s" replaced by argument, and a newline,
 * to stderr: for a program's own checks after parsing. */
void cmdline_complain(const struct cmdline_program *program, const char *message,
		      const char *argument);

#endif
