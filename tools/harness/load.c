/*
 * load.c — the service and its clients (see load.h).
 *
 * Invariants:
 *  - A replica's sent counter is raised before its request can reach the app
 *    and lowered again only if the connection was never established, so at
 *    any moment sent ≥ visits the app can have counted (the verdict's sampler
 *    relies on it).
 *  - Every delivered visit ends in exactly one of acked / at_kill / failed.
 *  - Workers only read replica endpoints; the controller owns pods.
 */
#include "load.h"
#include "http_client.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct load_worker_arg {
	struct load *load;
	unsigned index;
};

/* Record ANSWER as the highest count R has answered. */
static void load_note_answer(struct replica *r, long answer)
{
	long seen = atomic_load(&r->max_answer);
	while (answer > seen && !atomic_compare_exchange_weak(&r->max_answer, &seen, answer))
		;
}

/* See load.h. */
enum load_outcome load_visit(struct replica *r, long *ret_count)
{
	*ret_count = -1;
	unsigned port = atomic_load(&r->endpoint);
	if (!port)
		return LOAD_UNDELIVERED;
	return load_visit_port(r, port, ret_count);
}

/* See load.h. */
enum load_outcome load_visit_port(struct replica *r, unsigned port, long *ret_count)
{
	*ret_count = -1;
	unsigned epoch = atomic_load(&r->epoch);
	atomic_fetch_add(&r->sent, 1);
	struct http_endpoint target;
	const struct http_request visit = { .method = "GET", .path = "/",
					    .timeout_ms = LOAD_REQUEST_TIMEOUT_MS };
	struct http_response resp = { 0 };
	bool delivered = false;
	util_endpoint_ip(r->ip, port, &target);
	int rc = http_exchange(&target, &visit, &resp, &delivered);
	if (!delivered) {
		atomic_fetch_sub(&r->sent, 1);
		return LOAD_UNDELIVERED;
	}
	if (rc == 0 && resp.status == 200) {
		char *end = NULL;
		long count = resp.body ? strtol(resp.body, &end, 10) : -1;
		if (resp.body && end != resp.body && count >= 0) {
			*ret_count = count;
			load_note_answer(r, count);
		}
		http_response_free(&resp);
		atomic_fetch_add(&r->acked, 1);
		return LOAD_ACKED;
	}
	http_response_free(&resp);
	if (atomic_load(&r->dying) || atomic_load(&r->epoch) != epoch)
		atomic_fetch_add(&r->at_kill, 1);
	else
		atomic_fetch_add(&r->failed, 1);
	return LOAD_UNACKED;
}

/* Choose a ready replica by the balance policy, or NULL if none is ready. */
static struct replica *load_pick(struct load *load, struct util_rng *rng)
{
	struct replica *ready[OPTIONS_MAX_REPLICAS];
	unsigned weight[OPTIONS_MAX_REPLICAS];
	unsigned n = 0;
	uint64_t total = 0;
	for (unsigned i = 0; i < load->count; i++) {
		if (atomic_load(&load->replicas[i].endpoint)) {
			ready[n] = &load->replicas[i];
			weight[n] = load->opts->weights[i];
			total += weight[n];
			n++;
		}
	}
	if (n == 0)
		return NULL;
	switch (load->opts->balance) {
	case BALANCE_RANDOM:
		return ready[util_rng_below(rng, n)];
	case BALANCE_WEIGHTED: {
		uint64_t x = util_rng_below(rng, total);
		for (unsigned i = 0; i < n; i++) {
			if (x < weight[i])
				return ready[i];
			x -= weight[i];
		}
		return ready[n - 1];
	}
	case BALANCE_ROUND_ROBIN:
		break;
	}
	return ready[atomic_fetch_add(&load->round_robin, 1) % n];
}

/* Take the next ticket: 0, or -1 when there are none left or we stop. */
static int load_take_ticket(struct load *load)
{
	for (;;) {
		if (atomic_load(&load->stop))
			return -1;
		unsigned long t = atomic_load(&load->next_ticket);
		if (t >= load->opts->requests)
			return -1;
		if (t >= atomic_load(&load->gate)) {
			util_sleep_ms(1);
			continue;
		}
		if (atomic_compare_exchange_weak(&load->next_ticket, &t, t + 1))
			return 0;
	}
}

/* Worker thread: visit until the tickets run out. */
static void *load_worker(void *arg)
{
	struct load_worker_arg *wa = arg;
	struct load *load = wa->load;
	struct util_rng rng;
	util_rng_seed(&rng, load->opts->seed * 1000003u + wa->index);
	free(wa);
	util_signals_block_in_thread();
	while (load_take_ticket(load) == 0) {
		for (;;) {
			if (atomic_load(&load->stop))
				return NULL;
			struct replica *r = load_pick(load, &rng);
			long count;
			if (r && load_visit(r, &count) != LOAD_UNDELIVERED)
				break;
			atomic_fetch_add(&load->retries, 1);
			util_sleep_ms(r ? 1 : 2);
		}
		atomic_fetch_add(&load->completed, 1);
	}
	return NULL;
}

/* See load.h. */
int load_start(struct load *load, const struct options *opts, struct replica *replicas,
	       unsigned count, unsigned long gate)
{
	memset(load, 0, sizeof(*load));
	load->opts = opts;
	load->replicas = replicas;
	load->count = count;
	atomic_store(&load->gate, gate);
	load->threads = calloc(opts->concurrency, sizeof(*load->threads));
	if (!load->threads)
		return -ENOMEM;
	for (unsigned i = 0; i < opts->concurrency; i++) {
		struct load_worker_arg *wa = malloc(sizeof(*wa));
		if (!wa)
			return -ENOMEM;
		wa->load = load;
		wa->index = i;
		int r = pthread_create(&load->threads[i], NULL, load_worker, wa);
		if (r != 0) {
			free(wa);
			return -r;
		}
		load->started_threads++;
	}
	return 0;
}

/* See load.h. */
void load_set_gate(struct load *load, unsigned long gate)
{
	atomic_store(&load->gate, gate);
}

/* See load.h. */
unsigned long load_issued(struct load *load)
{
	return atomic_load(&load->next_ticket);
}

/* See load.h. */
unsigned long load_completed(struct load *load)
{
	return atomic_load(&load->completed);
}

/* See load.h. */
void load_stop(struct load *load)
{
	atomic_store(&load->stop, true);
	for (unsigned i = 0; i < load->started_threads; i++)
		pthread_join(load->threads[i], NULL);
	load->started_threads = 0;
	free(load->threads);
	load->threads = NULL;
}
