/*
 * fleet.h — the StatefulSet controller the harness plays: pods for ordinals
 * 0..scale-1, each on its own claim, started in order or in parallel, put
 * into the service once ready, restarted when killed or crashed, rolled
 * from the highest ordinal down, scaled to 1 and back. Controller thread only.
 */
#ifndef CLAIMFS_HARNESS_FLEET_H
#define CLAIMFS_HARNESS_FLEET_H

#include "options.h"
#include "podman.h"
#include "replica.h"
#include "timeline.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

struct fleet {
	const struct options *opts;
	struct timeline *timeline;
	struct replica *replicas; /* opts->replicas entries */
	unsigned count;
	unsigned scale;           /* ordinals 0..scale-1 should run */
	unsigned update_revision; /* the template's revision: 1, +1 per --rolling-update */
	bool namespaced;
	const struct podman *podman; /* --runtime podman, else NULL */
	char hosts_path[PATH_MAX];   /* the pods' /etc/hosts (dns.h) */
	char **add_hosts;            /* podman: the same, as --add-host entries */
	char *peer_names;            /* every pod's stable name (PEER_NAMES) */
	char self_exe[PATH_MAX];
	char cwd[PATH_MAX];
	uint8_t used_ports[65536 / 8]; /* never reuse a port within a run */
};

/* Names and paths for every ordinal: claims live in MOUNT_DIR/<ns>/, pod
 * logs, staging directories and the hosts file in WORKDIR; PODMAN (NULL:
 * native) runs the pods. 0 or -errno. */
int fleet_init(struct fleet *f, const struct options *opts, struct timeline *timeline,
	       const char *workdir, const char *mount_dir, const struct podman *podman);
void fleet_free(struct fleet *f);

/* Start every missing pod of ordinals < scale by the pod management policy,
 * each put into the service once ready. COUNT_RESTART: these are restarts.
 * 0 or -errno (a pod that cannot become ready is fatal). */
int fleet_start_all(struct fleet *f, bool count_restart);
/* Remove every pod from the service and mark it dying (first step of a
 * daemon kill: requests in flight now count as in flight at kill). */
void fleet_mark_all_dying(struct fleet *f);
/* SIGKILL every pod and reap it. */
void fleet_kill_all(struct fleet *f);
/* Graceful stop of every pod (SIGTERM, grace, SIGKILL). */
void fleet_stop_all(struct fleet *f);
/* SIGKILL ordinal R's pod and start it again on the same claim. */
int fleet_kill_and_restart(struct fleet *f, struct replica *r);
/* Restart pods that exited on their own. 0 or -errno (crash loop). */
int fleet_supervise(struct fleet *f);
/* A new template revision. RollingUpdate: restart from the highest ordinal
 * down to --partition, one at a time. OnDelete: restart nothing; each pod
 * created from now on (after a kill or crash) runs the new revision. */
int fleet_rolling_update(struct fleet *f);
/* Scale to 1 (remembering what each stopped ordinal left on disk) ... */
int fleet_scale_down(struct fleet *f);
/* ... and back, checking each ordinal's data came back. */
int fleet_scale_up(struct fleet *f);
/* Count the failed system calls each replica's app logged (app.h) into
 * its syscall_errors; returns the total. */
unsigned long fleet_count_syscall_errors(struct fleet *f);
/* Number of running pods / of pods in the service. */
unsigned fleet_running(const struct fleet *f);
unsigned fleet_ready(struct fleet *f);

#endif
