/*
 * chaos.h — the seeded fault schedule and its execution.
 *
 * The plan is a list of events, each due when a given number of visits has
 * been issued: --kill-replicas replica kills and --kill-daemon daemon kills
 * at seeded random points between 5% and 95% of the load, the rolling
 * update at 1/3, the scale cycle at 1/2 (down) and 3/4 (up). The same
 * options and seed give the same plan, victims included, so a failing run
 * can be replayed.
 */
#ifndef CLAIMFS_HARNESS_CHAOS_H
#define CLAIMFS_HARNESS_CHAOS_H

#include "claims.h"
#include "daemon_ctl.h"
#include "fleet.h"
#include "options.h"
#include "timeline.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum chaos_kind { CHAOS_KILL_REPLICA, CHAOS_KILL_DAEMON, CHAOS_ROLLING_UPDATE, CHAOS_SCALE_DOWN, CHAOS_SCALE_UP };

struct chaos_event {
	enum chaos_kind kind;
	unsigned long at; /* due once this many visits were issued */
	uint64_t pick;    /* seeded choice of victim */
	unsigned seq;     /* tie-break: generation order */
};

struct chaos_plan {
	struct chaos_event *events;
	size_t count;
	size_t next;
};

/* Everything an event acts on. daemon is NULL with --api (no daemon kills). */
struct chaos_ctx {
	const struct options *opts;
	struct fleet *fleet;
	struct daemon_ctl *daemon;
	struct claims *claims;
	struct timeline *timeline;
	atomic_uint replica_kills; /* performed so far (read by the progress thread) */
	atomic_uint daemon_kills;
};

int chaos_plan_make(const struct options *opts, struct chaos_plan *ret_plan);
void chaos_plan_free(struct chaos_plan *plan);
/* The next due event, or NULL when all were performed. */
const struct chaos_event *chaos_peek(const struct chaos_plan *plan);
/* How many visits may be issued before the next event (requests if none). */
unsigned long chaos_gate(const struct chaos_plan *plan, unsigned long requests);
const char *chaos_kind_name(enum chaos_kind kind);

/* Perform event E. 0 or -errno (fatal for the run). */
int chaos_execute(struct chaos_ctx *ctx, const struct chaos_event *e);

/* Restart the daemon after it died (also used by chaos kills). */
int chaos_recover_daemon(struct chaos_ctx *ctx);

#endif
