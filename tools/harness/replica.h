/*
 * replica.h — one ordinal of the StatefulSet: its names and paths, its pod,
 * its service endpoint and the counters the verdict is computed from.
 *
 * Threads: fields under "controller" are touched only by the controller
 * (main) thread. Fields under "shared" are atomics read by the load workers.
 *
 * Kill protocol (controller), which the in-flight accounting relies on:
 *   dying = true; epoch++; endpoint = 0;  → signal the pod, reap it
 *   ... start a new pod, wait for readiness ...
 *   epoch++; dying = false; endpoint = new port
 * A worker that read epoch E before sending and sees dying or epoch != E
 * when its request fails counts it as "in flight at kill".
 */
#ifndef CLAIMFS_HARNESS_REPLICA_H
#define CLAIMFS_HARNESS_REPLICA_H

#include "pod.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>

struct replica {
	unsigned ordinal;
	char pod_name[128];
	char claim_name[300];
	char claim_path[PATH_MAX];  /* host path <mount>/<ns>/<claim> */
	char visits_path[PATH_MAX]; /* host path of the visits file */
	char log_path[PATH_MAX];
	char staging_dir[PATH_MAX];
	char ip[16];             /* its own loopback address for the run (dns.h) */
	char container[160];     /* --runtime podman: the container's name */

	/* controller */
	struct pod pod;
	unsigned port;
	bool scaled_down;  /* not part of the StatefulSet right now */
	unsigned restarts; /* times the ordinal was started again after the first */
	unsigned revision; /* the template revision its pod runs (1 at first) */
	unsigned crash_streak;
	long baseline;     /* count on disk before the run */
	long on_disk;      /* count on disk after the run (-1: unreadable) */
	char final_writer[128];
	char foreign_writer[128]; /* first other writer seen while sampling */
	long over_count;           /* first sample above what was sent (-1: none) */
	unsigned long over_sent;
	/* scale cycle */
	bool scale_checked;
	long scale_left_with, scale_came_back, scale_first_answer;
	/* verdict */
	unsigned long syscall_errors; /* failed system calls its app logged */
	bool ok;
	char verdict[512];

	/* shared with the load workers */
	atomic_uint endpoint; /* port while in the service, 0 otherwise */
	atomic_bool dying;
	atomic_uint epoch;
	atomic_ulong sent;     /* requests that may have reached the app */
	atomic_ulong acked;    /* 200 answers */
	atomic_ulong at_kill;  /* unacknowledged, in flight when killed */
	atomic_ulong failed;   /* unacknowledged otherwise (error answers, timeouts) */
	atomic_long max_answer; /* highest count the app answered (-1: none) */
};

#endif
