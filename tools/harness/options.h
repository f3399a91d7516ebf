/*
 * options.h — the command line of claimfs-harness, parsed once into a
 * read-only struct options that every other part receives.
 */
#ifndef CLAIMFS_HARNESS_OPTIONS_H
#define CLAIMFS_HARNESS_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#define OPTIONS_MAX_REPLICAS 64

enum options_balance { BALANCE_ROUND_ROBIN, BALANCE_RANDOM, BALANCE_WEIGHTED };
enum options_pod_management { POD_MANAGEMENT_ORDERED_READY, POD_MANAGEMENT_PARALLEL };
/* Deliberately broken built-in apps: the harness's own self-test. */
enum options_broken { BROKEN_NONE, BROKEN_ACK_BEFORE_FSYNC, BROKEN_CROSS_WRITE };
/* Who runs the replicas: the harness's own namespaces, or Podman containers. */
enum options_runtime { RUNTIME_NATIVE, RUNTIME_PODMAN };
/* The StatefulSet's spec.updateStrategy.type. */
enum options_update_strategy { UPDATE_ROLLING, UPDATE_ON_DELETE };

struct options {
	unsigned replicas;
	unsigned long requests;
	unsigned concurrency;
	unsigned kill_replicas;
	unsigned kill_daemon;
	uint64_t seed;
	const char *app;        /* shell command, or NULL for the built-in visits app */
	const char *mount_path; /* where a replica sees its claim (namespaced mode) */
	enum options_pod_management pod_management;
	bool rolling_update;    /* mid-run template change (a new revision) */
	enum options_update_strategy update_strategy;
	unsigned partition;
	bool scale_cycle;
	enum options_balance balance;
	unsigned weights[OPTIONS_MAX_REPLICAS];
	unsigned weights_given; /* how many --weights listed (0: derived from --balance) */
	const char *api_url;   /* use a running daemon ... */
	const char *mount_dir; /* ... mounted here */
	const char *claimfsd;  /* daemon binary, or NULL to search */
	const char *namespace_name;
	const char *statefulset;
	const char *claim_template;
	const char *storage;
	const char *visits_file;
	const char *probe_path;
	const char *json_path;
	const char *junit_path;
	const char *logs_dir;  /* copy the daemon's and replicas' logs here at the end */
	unsigned ready_timeout_ms;
	unsigned grace_ms;
	enum options_broken broken;
	bool no_namespaces;
	bool quiet;
	/* claimfsd --supervise: daemon kills kill its worker, replicas keep running */
	bool supervise;
	enum options_runtime runtime;
	const char *image;   /* --runtime podman: the user's image (NULL: busybox + built-in app) */
	const char *command; /* --runtime podman: shell command run in --image */
	const char *podman;  /* the podman binary */
};

/* Parse ARGV into *RET. Returns 0 to run, 1 when --help/--version was
 * printed (exit 0), or -EINVAL after printing the reason (exit 2). */
int options_parse(int argc, char **argv, struct options *ret);

const char *options_balance_name(enum options_balance balance);
const char *options_pod_management_name(enum options_pod_management policy);
const char *options_broken_name(enum options_broken broken);
const char *options_runtime_name(enum options_runtime runtime);
const char *options_update_strategy_name(enum options_update_strategy strategy);

#endif
