/*
 * crashwriter.c — one writer process of the crash loop (see crash.h for the
 * log protocol, crash_kinds.c and crash_sets.c for the workloads).
 *
 *   crashwriter --kind KIND[:VARIANT] --dir DIR --log FILE --seed N
 *               [--verify-only] [--seconds S]
 *
 * Start-up: read the log, verify DIR against it and print
 *   verified acks=<ack lines in the log> objects=<objects compared> lost=<n>
 * (exit 1 if anything was lost). Then, unless --verify-only, resolve the
 * in-flight operation, print "running", and loop over operations until a
 * syscall fails or S seconds pass; print "stopped <reason>" and exit 0 when
 * the failure is the daemon's death (ENOTCONN/ECONNABORTED) or the deadline,
 * 2 for any other failure (a bug in the filesystem or the writer).
 *
 * The process dies with its parent (PR_SET_PDEATHSIG) so an orchestrator
 * that is killed leaves no writer behind.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crash.h"

static const struct crash_kind *const crash_kinds[] = {
	&crash_kind_counter, &crash_kind_append, &crash_kind_rename, &crash_kind_trunc,
	&crash_kind_seq,     &crash_kind_link,   &crash_kind_tree,
};

struct crash_options {
	const char *kind;
	const char *dir;
	const char *log;
	unsigned long long seed;
	bool verify_only;
	double seconds;
};

/* Print usage to f. */
static void crash_usage(FILE *f)
{
	fprintf(f, "usage: crashwriter --kind KIND[:VARIANT] --dir DIR --log FILE --seed N "
		   "[--verify-only] [--seconds S]\n"
		   "kinds: counter:0|1 append rename trunc seq:0|1 link tree\n");
}

/* Parse argv; 0, or CRASH_EXIT_USAGE. */
static int crash_parse(int argc, char **argv, struct crash_options *o)
{
	static const struct option longopts[] = {
		{ "kind", required_argument, NULL, 'k' },   { "dir", required_argument, NULL, 'd' },
		{ "log", required_argument, NULL, 'l' },    { "seed", required_argument, NULL, 's' },
		{ "verify-only", no_argument, NULL, 'v' },  { "seconds", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->seconds = 600;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o->kind = optarg; break;
		case 'd': o->dir = optarg; break;
		case 'l': o->log = optarg; break;
		case 's': o->seed = strtoull(optarg, NULL, 0); break;
		case 'v': o->verify_only = true; break;
		case 't': o->seconds = strtod(optarg, NULL); break;
		case 'h': crash_usage(stdout); exit(0);
		default: crash_usage(stderr); return CRASH_EXIT_USAGE;
		}
	}
	if (!o->kind || !o->dir || !o->log || optind != argc) {
		crash_usage(stderr);
		return CRASH_EXIT_USAGE;
	}
	return 0;
}

/* Find KIND[:VARIANT]; NULL if unknown. */
static const struct crash_kind *crash_find_kind(const char *spec, int *ret_variant)
{
	const char *colon = strchr(spec, ':');
	size_t len = colon ? (size_t)(colon - spec) : strlen(spec);

	*ret_variant = colon ? atoi(colon + 1) : 0;
	for (size_t i = 0; i < sizeof(crash_kinds) / sizeof(crash_kinds[0]); i++)
		if (strlen(crash_kinds[i]->name) == len && strncmp(crash_kinds[i]->name, spec, len) == 0)
			return crash_kinds[i];
	return NULL;
}

/* Seconds on the monotonic clock. */
static double crash_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run one writer; returns the exit status. */
static int crash_run(const struct crash_options *o, struct crash_writer *w)
{
	unsigned long long ops = 0;
	double deadline;
	int r;

	r = crash_log_open(w, o->log);
	if (r < 0) {
		fprintf(stderr, "crashwriter: log %s: %s\n", o->log, strerror(-r));
		return CRASH_EXIT_USAGE;
	}
	if (!o->verify_only && mkdir(w->dir, 0755) < 0 && errno != EEXIST) {
		r = crash_failed(w, "mkdir writer dir");
		goto failed;
	}
	/* Operation choices are seeded by (seed, run number): a run can be replayed. */
	unsigned long long runs = 0;
	for (size_t i = 0; i < w->nlines; i++)
		runs += strcmp(w->lines[i], "run") == 0;
	w->rng = crash_mix(w->seed ^ crash_mix(runs));
	r = w->kind->verify(w, !o->verify_only);
	if (r < 0)
		goto failed;
	printf("verified acks=%lu objects=%lu lost=%lu\n", w->acks, w->objects, w->lost);
	fflush(stdout);
	if (w->lost)
		return CRASH_EXIT_LOST;
	if (o->verify_only)
		return CRASH_EXIT_OK;
	r = crash_log_put(w, true, "run");
	if (r < 0) {
		errno = -r;
		r = crash_failed(w, "log");
		goto failed;
	}
	printf("running\n");
	fflush(stdout);
	deadline = crash_now() + o->seconds;
	while (crash_now() < deadline) {
		r = w->kind->step(w);
		if (r < 0)
			goto failed;
		ops++;
	}
	printf("stopped deadline ops=%llu\n", ops);
	return CRASH_EXIT_OK;
failed:
	/* A write(2) in flight when the daemon dies can also end in EIO (the
	 * kernel's page-write path); it counts as the daemon's death only if
	 * the mount is in fact gone, so a real EIO from a live daemon fails. */
	if (crash_errno_is_transport(-r) || (r == -EIO && crash_mount_is_dead(w->dir))) {
		printf("stopped transport ops=%llu (%s: %s)\n", ops, w->failed_call, strerror(-r));
		return CRASH_EXIT_OK;
	}
	printf("stopped unexpected ops=%llu\n", ops);
	fprintf(stderr, "UNEXPECTED %s %s: %s: %s\n", w->kind->name, w->dir,
		w->failed_call ? w->failed_call : "?", strerror(-r));
	return CRASH_EXIT_UNEXPECTED;
}

int main(int argc, char **argv)
{
	struct crash_options o;
	struct crash_writer w;
	int rc;

	rc = crash_parse(argc, argv, &o);
	if (rc != 0)
		return rc;
	memset(&w, 0, sizeof(w));
	w.log_fd = -1;
	w.kind = crash_find_kind(o.kind, &w.variant);
	if (!w.kind) {
		fprintf(stderr, "crashwriter: unknown kind '%s'\n", o.kind);
		return CRASH_EXIT_USAGE;
	}
	if (snprintf(w.dir, sizeof(w.dir), "%s", o.dir) >= (int)sizeof(w.dir))
		return CRASH_EXIT_USAGE;
	w.seed = o.seed;
	/* Die with the orchestrator; never outlive the test. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
		return CRASH_EXIT_USAGE;
	rc = crash_run(&o, &w);
	if (w.kind->destroy)
		w.kind->destroy(&w);
	crash_log_close(&w);
	return rc;
}
