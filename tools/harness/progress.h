/*
 * progress.h — live progress on stderr while the load runs: one line
 * rewritten in place when stderr is a terminal, a line every two seconds
 * otherwise. Runs in its own thread and only reads atomics.
 */
#ifndef CLAIMFS_HARNESS_PROGRESS_H
#define CLAIMFS_HARNESS_PROGRESS_H

#include "chaos.h"
#include "fleet.h"
#include "load.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct progress {
	const struct options *opts;
	struct load *load;
	struct fleet *fleet;
	struct chaos_ctx *chaos;
	pthread_t thread;
	bool running;
	bool tty;
	atomic_bool stop;
	uint64_t t0_ns;
};

/* Start reporting (no-op with --quiet). 0 or -errno. */
int progress_start(struct progress *p, const struct options *opts, struct load *load,
		   struct fleet *fleet, struct chaos_ctx *chaos);
/* Stop and erase the live line. Safe to call twice or before start. */
void progress_stop(struct progress *p);

#endif
