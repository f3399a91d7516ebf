/*
 * progress.c — the live progress line (see progress.h).
 * Invariant: the thread reads only atomics of load, replicas and chaos
 * counters; stderr access goes through util's lock.
 */
#include "progress.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Format one progress line into BUF. */
static void progress_format(struct progress *p, char *buf, size_t cap)
{
	unsigned long done = load_completed(p->load), acked = 0, unacked = 0;
	for (unsigned i = 0; i < p->fleet->count; i++) {
		struct replica *r = &p->fleet->replicas[i];
		acked += atomic_load(&r->acked);
		unacked += atomic_load(&r->at_kill) + atomic_load(&r->failed);
	}
	double secs = (double)(util_now_ns() - p->t0_ns) / 1e9;
	unsigned long total = p->opts->requests;
	snprintf(buf, cap,
		 "visits %lu/%lu (%3.0f%%)  %5.0f/s  acked %lu  unacked %lu  ready %u/%u  "
		 "kills: replicas %u/%u, daemon %u/%u",
		 done, total, total ? 100.0 * (double)done / (double)total : 100.0,
		 secs > 0 ? (double)done / secs : 0.0, acked, unacked, fleet_ready(p->fleet), p->fleet->count,
		 atomic_load(&p->chaos->replica_kills), p->opts->kill_replicas,
		 atomic_load(&p->chaos->daemon_kills), p->opts->kill_daemon);
}

/* Thread body: print every 200 ms (tty) or 2 s (log). */
static void *progress_thread(void *arg)
{
	struct progress *p = arg;
	util_signals_block_in_thread();
	unsigned period_ms = p->tty ? 200 : 2000, waited = 0;
	while (!atomic_load(&p->stop)) {
		util_sleep_ms(50);
		waited += 50;
		if (waited < period_ms)
			continue;
		waited = 0;
		char line[256];
		progress_format(p, line, sizeof(line));
		util_progress_line(line, p->tty);
	}
	return NULL;
}

/* See progress.h. */
int progress_start(struct progress *p, const struct options *opts, struct load *load,
		   struct fleet *fleet, struct chaos_ctx *chaos)
{
	memset(p, 0, sizeof(*p));
	if (opts->quiet)
		return 0;
	p->opts = opts;
	p->load = load;
	p->fleet = fleet;
	p->chaos = chaos;
	p->tty = isatty(STDERR_FILENO) == 1;
	p->t0_ns = util_now_ns();
	int r = pthread_create(&p->thread, NULL, progress_thread, p);
	if (r != 0)
		return -r;
	p->running = true;
	return 0;
}

/* See progress.h. */
void progress_stop(struct progress *p)
{
	if (!p->running)
		return;
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
	p->running = false;
	util_progress_end();
}
