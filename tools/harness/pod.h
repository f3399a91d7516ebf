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
 *
 * Podman (--runtime podman, pod_podman.c): the pod is a container run by an
 * attached `podman run --rm`, whose process is the pod's pid (it exits when
 * the container does); signals are `podman kill`.
 *
 * Names (namespaced and Podman): the pod's hostname is its name and
 * /etc/hosts is HOSTS_FILE, which maps every pod's stable name to its
 * address, as a headless Service's DNS does.
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
	const char *hostname;    /* namespaced and Podman: the pod's host name */
	const char *hosts_file;  /* namespaced: bound onto /etc/hosts (NULL: not) */
	/* Podman only (podman non-NULL): */
	const struct podman *podman;
	const char *container;   /* the container's name */
	const char *volume;      /* the claim's volume, mounted at mount_path */
	char *const *pod_env;    /* the pod's own variables (NAME=VALUE) */
	char *const *add_hosts;  /* NAME:ADDRESS, each a line of its /etc/hosts */
	const char *command;     /* run by /bin/sh -c; NULL: the image's built-in app */
};

struct pod {
	pid_t pid; /* 0 when not running */
	bool namespaced;
	uint64_t started_ns;
	const struct podman *podman; /* non-NULL: a container named container */
	char container[160];
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
/* Podman side (pod_podman.c), with the meanings above. */
int pod_podman_start(struct pod *pod, const struct pod_spec *spec);
void pod_podman_signal(const struct pod *pod, int sig);
void pod_podman_kill(struct pod *pod);

struct pod_sandbox;
int pod_sandbox_plan(struct pod_sandbox **ret_sandbox, const struct pod_spec *spec, int log_fd);
int pod_sandbox_main(void *arg);
void pod_sandbox_exec_app(const struct pod_sandbox *sandbox) __attribute__((noreturn));
void pod_sandbox_free(struct pod_sandbox *sandbox);

#endif
