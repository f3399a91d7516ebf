/*
 * timeline.h — what happened during a run, in order: every kill, restart,
 * rolling-update step and scale change, with its time since the start.
 * Each entry is also printed as an event line unless --quiet; the JSON
 * report carries the whole list so a failing run can be read afterwards.
 * Controller thread only.
 */
#ifndef CLAIMFS_HARNESS_TIMELINE_H
#define CLAIMFS_HARNESS_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct timeline_entry {
	double t;      /* seconds since the run started */
	char kind[24]; /* "kill-replica", "kill-daemon", "restart", ... */
	char text[240];
};

struct timeline {
	struct timeline_entry *items;
	size_t count, cap;
	uint64_t t0_ns;
	bool quiet;
};

void timeline_init(struct timeline *tl, bool quiet);
/* Record (and print) one entry; allocation failure drops the entry only. */
void timeline_add(struct timeline *tl, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Seconds since timeline_init(). */
double timeline_now(const struct timeline *tl);
void timeline_free(struct timeline *tl);

#endif
