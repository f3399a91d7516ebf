/*
 * pod.h — one replica's process tree, as a container runtime would run it.
 *
 * Namespaced (root): the pod is a clone() into a new mount and PID
 * namespace. Its first process is a tiny init (pid 1 in the pod) that sets
 * up the mounts — the claim bind-mounted at the mount path, nothing visible
 * outside — then runs the app and forwards SIGTERM to it. SIGKILLing the
 * init makes the kernel kill every process of the pod, and the init is not
 * reaped before they are all gone, so "pod reaped" means "pod gone".
 *
 * Plain (not root, or --no-namespaces): the app runs in its own session and
 * process group, which is what gets the signals.
 */
#ifndef CLAIMFS_HARNESS_POD_H
#define CLAIMFS_HARNESS_POD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct pod_spec {
	char *const *argv;      /* argv[0] is a path */
	char *const *envp;
	const char *log_path;   /* stdout and stderr of the pod, appended */
	const char *cwd;        /* working directory of the app */
	bool namespaced;
	/* namespaced only: */
	const char *claim_path;  /* host path of the claim directory */
	const char *mount_path;  /* where the app sees it */
	const char *staging_dir; /* empty host directory the pod may mount a tmpfs on */
};

struct pod {
	pid_t pid; /* 0 when not running */
	bool namespaced;
	uint64_t started_ns;
};

/* Start the pod. 0 or -errno. */
int pod_start(struct pod *pod, const struct pod_spec *spec);
/* Reap the pod if it exited: 1 (status in *ret_status), 0 if running. */
int pod_poll(struct pod *pod, int *ret_status);
/* SIGKILL the pod and reap it. */
void pod_kill(struct pod *pod);
/* SIGTERM, wait up to GRACE_MS, then SIGKILL; reaps. Returns true when it
 * exited within the grace period. */
bool pod_stop(struct pod *pod, unsigned grace_ms);

/* Child side (pod_sandbox.c): the init's entry point for clone(), and the
 * shared "become the app" step. ARG is a struct pod_sandbox. */
struct pod_sandbox;
int pod_sandbox_plan(struct pod_sandbox **ret_sandbox, const struct pod_spec *spec, int log_fd);
int pod_sandbox_main(void *arg);
void pod_sandbox_exec_app(const struct pod_sandbox *sandbox) __attribute__((noreturn));
void pod_sandbox_free(struct pod_sandbox *sandbox);

#endif
