/*
 * report.h — the results of a run: the table on stdout, --json and --junit.
 */
#ifndef CLAIMFS_HARNESS_REPORT_H
#define CLAIMFS_HARNESS_REPORT_H

#include "options.h"
#include "replica.h"
#include "timeline.h"

#include <stdbool.h>
#include <stdio.h>

enum report_result { REPORT_PASS, REPORT_FAIL, REPORT_ERROR };

struct report {
	const struct options *opts;
	const struct replica *replicas;
	unsigned count;
	const struct timeline *timeline;
	enum report_result result;
	const char *error;          /* REPORT_ERROR: what stopped the run */
	unsigned inconsistent;      /* replicas whose verdict failed */
	unsigned long visits_done;
	unsigned long retries;      /* visits re-sent because no replica took them */
	double load_seconds;
	unsigned replica_kills, daemon_kills, daemon_crashes;
	bool via_statefulset;
	bool namespaced;
	bool judged;                /* the replicas' verdicts are filled */
	/* --supervise: errors the replicas saw (failed system calls their apps
	 * logged + visits answered with an error or not at all); must be 0 */
	unsigned long syscall_errors, failed_visits;
};

/* The table (when judged) and the summary line. */
void report_table(const struct report *rep, FILE *out);
/* Write the JSON / JUnit XML file. 0 or -errno (message printed). */
int report_json(const struct report *rep, const char *path);
int report_junit(const struct report *rep, const char *path);

#endif
