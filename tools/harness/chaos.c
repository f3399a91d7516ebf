/*
 * chaos.c — build the seeded fault plan and perform its events (see chaos.h).
 *
 * Invariant: events run strictly in plan order on the controller thread;
 * the load gate (load.h) keeps visits from running past an event that is
 * not yet performed, so every planned fault hits a loaded system.
 */
#include "chaos.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHAOS_DAEMON_READY_MS 20000

/* qsort order: by due point, then generation order (stable). */
static int chaos_compare(const void *a, const void *b)
{
	const struct chaos_event *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Append one event (room was reserved). */
static void chaos_add(struct chaos_plan *plan, enum chaos_kind kind, unsigned long at, uint64_t pick)
{
	plan->events[plan->count] = (struct chaos_event){ .kind = kind, .at = at, .pick = pick,
							  .seq = (unsigned)plan->count };
	plan->count++;
}

/* See chaos.h. */
int chaos_plan_make(const struct options *opts, struct chaos_plan *ret_plan)
{
	size_t total = (size_t)opts->kill_replicas + opts->kill_daemon + (opts->rolling_update ? 1 : 0) +
		       (opts->scale_cycle ? 2 : 0);
	struct chaos_plan plan = { 0 };
	struct util_rng rng;
	util_rng_seed(&rng, opts->seed);
	plan.events = calloc(total ? total : 1, sizeof(*plan.events));
	if (!plan.events)
		return -ENOMEM;
	unsigned long n = opts->requests;
	unsigned long lo = n / 20, hi = n - n / 20;
	if (hi <= lo)
		hi = lo + 1;
	for (unsigned i = 0; i < opts->kill_replicas + opts->kill_daemon; i++) {
		unsigned long at = n ? lo + util_rng_below(&rng, hi - lo) : 0;
		chaos_add(&plan, i < opts->kill_replicas ? CHAOS_KILL_REPLICA : CHAOS_KILL_DAEMON, at,
			  util_rng_next(&rng));
	}
	if (opts->rolling_update)
		chaos_add(&plan, CHAOS_ROLLING_UPDATE, n / 3, 0);
	if (opts->scale_cycle) {
		chaos_add(&plan, CHAOS_SCALE_DOWN, n / 2, 0);
		chaos_add(&plan, CHAOS_SCALE_UP, n * 3 / 4, 0);
	}
	qsort(plan.events, plan.count, sizeof(*plan.events), chaos_compare);
	*ret_plan = plan;
	return 0;
}

/* See chaos.h. */
void chaos_plan_free(struct chaos_plan *plan)
{
	free(plan->events);
	memset(plan, 0, sizeof(*plan));
}

/* See chaos.h. */
const struct chaos_event *chaos_peek(const struct chaos_plan *plan)
{
	return plan->next < plan->count ? &plan->events[plan->next] : NULL;
}

/* See chaos.h. */
unsigned long chaos_gate(const struct chaos_plan *plan, unsigned long requests)
{
	const struct chaos_event *e = chaos_peek(plan);
	return e && e->at < requests ? e->at : requests;
}

/* See chaos.h. */
const char *chaos_kind_name(enum chaos_kind kind)
{
	switch (kind) {
	case CHAOS_KILL_REPLICA: return "kill-replica";
	case CHAOS_KILL_DAEMON: return "kill-daemon";
	case CHAOS_ROLLING_UPDATE: return "rolling-update";
	case CHAOS_SCALE_DOWN: return "scale-down";
	case CHAOS_SCALE_UP: return "scale-up";
	}
	return "?";
}

/* Kill the running replica chosen by PICK and restart it. */
static int chaos_kill_replica(struct chaos_ctx *ctx, uint64_t pick)
{
	struct fleet *f = ctx->fleet;
	unsigned running[OPTIONS_MAX_REPLICAS], n = 0;
	for (unsigned i = 0; i < f->scale; i++) {
		if (f->replicas[i].pod.pid)
			running[n++] = i;
	}
	if (n == 0)
		return 0;
	ctx->replica_kills++;
	return fleet_kill_and_restart(f, &f->replicas[running[pick % n]]);
}

/* See chaos.h: daemon up again, claims checked, every pod recreated. */
int chaos_recover_daemon(struct chaos_ctx *ctx)
{
	struct fleet *f = ctx->fleet;
	uint64_t t0 = util_now_ns();
	fleet_kill_all(f); /* their mounts point at the dead FUSE connection */
	int r = daemon_ctl_start(ctx->daemon, CHAOS_DAEMON_READY_MS);
	if (r < 0)
		return r;
	double daemon_ms = (double)(util_now_ns() - t0) / 1e6;
	for (unsigned i = 0; i < f->count; i++) {
		r = claims_check_bound(ctx->claims, i);
		if (r < 0) {
			util_say("claimfs-harness: after the restart claim %s is %s", f->replicas[i].claim_name,
				 r == -ENOENT ? "gone" : "not Bound");
			return r;
		}
	}
	r = fleet_start_all(f, true);
	if (r < 0)
		return r;
	timeline_add(ctx->timeline, "restart-daemon",
		     "claimfsd ready again in %.0f ms; %u replicas recreated in %.0f ms", daemon_ms,
		     f->scale, (double)(util_now_ns() - t0) / 1e6 - daemon_ms);
	return 0;
}

/* --supervise: SIGKILL the worker under load; the supervisor starts the
 * next one on the same FUSE connection and the replicas are left alone:
 * their calls in flight must complete, so nothing is marked dying. */
static int chaos_kill_worker(struct chaos_ctx *ctx)
{
	uint64_t t0 = util_now_ns();
	pid_t worker = 0;
	int r = daemon_ctl_kill_worker(ctx->daemon, CHAOS_DAEMON_READY_MS, &worker);
	if (r < 0) {
		util_say("claimfs-harness: killing claimfsd's worker: %s",
			 r == -ECHILD ? "the supervisor died" : strerror(-r));
		return r;
	}
	ctx->daemon_kills++;
	timeline_add(ctx->timeline, "kill-daemon",
		     "SIGKILL claimfsd's worker (pid %d) under load; the next worker served in %.0f ms; "
		     "replicas not restarted", (int)worker, (double)(util_now_ns() - t0) / 1e6);
	return 0;
}

/* SIGKILL claimfsd under load, restart it, recreate the pods. */
static int chaos_kill_daemon(struct chaos_ctx *ctx)
{
	struct fleet *f = ctx->fleet;
	if (ctx->daemon->supervise)
		return chaos_kill_worker(ctx);
	/* Requests reaching a replica from now on may die with the daemon; keep
	 * the endpoints so some are really in flight when it goes. */
	for (unsigned i = 0; i < f->count; i++) {
		atomic_store(&f->replicas[i].dying, true);
		atomic_fetch_add(&f->replicas[i].epoch, 1);
	}
	pid_t pid = ctx->daemon->pid;
	int r = daemon_ctl_kill(ctx->daemon);
	if (r < 0)
		return r;
	ctx->daemon_kills++;
	timeline_add(ctx->timeline, "kill-daemon", "SIGKILL claimfsd (pid %d) under load", (int)pid);
	fleet_mark_all_dying(f);
	return chaos_recover_daemon(ctx);
}

/* See chaos.h. */
int chaos_execute(struct chaos_ctx *ctx, const struct chaos_event *e)
{
	switch (e->kind) {
	case CHAOS_KILL_REPLICA:
		return chaos_kill_replica(ctx, e->pick);
	case CHAOS_KILL_DAEMON:
		return ctx->daemon ? chaos_kill_daemon(ctx) : 0;
	case CHAOS_ROLLING_UPDATE:
		if (claims_set_revision(ctx->claims, ctx->fleet->update_revision + 1) < 0)
			return -EPROTO;
		return fleet_rolling_update(ctx->fleet);
	case CHAOS_SCALE_DOWN:
		if (claims_scale(ctx->claims, 1) < 0)
			return -EPROTO;
		return fleet_scale_down(ctx->fleet);
	case CHAOS_SCALE_UP:
		if (claims_scale(ctx->claims, ctx->opts->replicas) < 0)
			return -EPROTO;
		return fleet_scale_up(ctx->fleet);
	}
	return -EINVAL;
}
