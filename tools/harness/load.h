/*
 * load.h — the Service in front of the replicas and the clients that load
 * it: --concurrency worker threads send --requests visits, each to a ready
 * replica chosen by --balance, and account every visit on that replica.
 *
 * Tickets: each visit takes a ticket 0..requests-1. A ticket is only issued
 * below the gate; the controller raises the gate as it performs each chaos
 * event, so every scheduled event happens while load is still flowing.
 * A visit that could not be delivered (no ready replica, connection refused)
 * keeps its ticket and is retried; a delivered one is complete whatever its
 * outcome.
 */
#ifndef CLAIMFS_HARNESS_LOAD_H
#define CLAIMFS_HARNESS_LOAD_H

#include "options.h"
#include "replica.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define LOAD_REQUEST_TIMEOUT_MS 15000

struct load {
	const struct options *opts;
	struct replica *replicas;
	unsigned count;
	pthread_t *threads;
	unsigned started_threads;
	atomic_ulong next_ticket;
	atomic_ulong completed;
	atomic_ulong gate;
	atomic_ulong retries; /* undelivered attempts */
	atomic_uint round_robin;
	atomic_bool stop;
};

enum load_outcome { LOAD_ACKED, LOAD_UNACKED, LOAD_UNDELIVERED };

/* Start the workers with the gate at GATE. 0 or -errno. */
int load_start(struct load *load, const struct options *opts, struct replica *replicas,
	       unsigned count, unsigned long gate);
/* Allow tickets below GATE. */
void load_set_gate(struct load *load, unsigned long gate);
unsigned long load_issued(struct load *load);
unsigned long load_completed(struct load *load);
/* Stop issuing tickets and join the workers (in-flight visits finish). */
void load_stop(struct load *load);

/* One accounted visit (GET /) to R through its service endpoint;
 * *ret_count is the answered count or -1. */
enum load_outcome load_visit(struct replica *r, long *ret_count);
/* The same, straight to PORT (a pod not yet in the service). */
enum load_outcome load_visit_port(struct replica *r, unsigned port, long *ret_count);

#endif
