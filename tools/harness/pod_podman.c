/*
 * pod_podman.c — a pod as a Podman container (see pod.h, podman.h).
 *
 * The container runs attached: `podman run --rm` stays in the foreground
 * for the container's life, its output is the pod's log and its exit is the
 * pod's exit, so pod.c polls and reaps it like any pod. The network is the
 * host's (the pod listens on its own loopback address, POD_IP), the claim
 * is the volume of the same name from claimfsd's plugin, --init gives the
 * app an init that passes SIGTERM on, and --add-host writes each pod's
 * stable name into the container's /etc/hosts.
 *
 * Invariant: pod->pid is the attached podman process; pod_podman_kill
 * returns only after it was reaped, and `--rm` has removed the container by
 * then, so the name is free for the next pod of the ordinal.
 */
#include "pod.h"
#include "podman.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define POD_PODMAN_KILL_MS 30000
#define POD_PODMAN_FIXED_ARGS 24

/* Free what pod_podman_args allocated. */
static void pod_podman_free_args(const char **args, char **owned)
{
	for (char **p = owned; p && *p; p++)
		free(*p);
	free(owned);
	free(args);
}

/* `run --rm --init ... IMAGE CMD` for SPEC (OWNED: the strings we made). */
static int pod_podman_args(const struct pod_spec *spec, const char ***ret_args, char ***ret_owned)
{
	size_t env = 0, hosts = 0, n = 0, k = 0;
	while (spec->pod_env[env])
		env++;
	while (spec->add_hosts[hosts])
		hosts++;
	const char **args = calloc(POD_PODMAN_FIXED_ARGS + 2 * (env + hosts), sizeof(*args));
	char **owned = calloc(2, sizeof(*owned));
	if (!args || !owned)
		goto fail;
	if (asprintf(&owned[k++], "%s:%s", spec->volume, spec->mount_path) < 0)
		goto fail;
	const char *fixed[] = { "run", "--rm", "--init", "--name", spec->container, "--hostname",
				spec->hostname, "--network", "host", "--volume", owned[0] };
	memcpy(args, fixed, sizeof(fixed));
	n = UTIL_ARRAY_SIZE(fixed);
	for (size_t i = 0; i < env; i++) {
		args[n++] = "--env";
		args[n++] = spec->pod_env[i];
	}
	for (size_t i = 0; i < hosts; i++) {
		args[n++] = "--add-host";
		args[n++] = spec->add_hosts[i];
	}
	args[n++] = spec->podman->image;
	args[n++] = "/bin/sh";
	args[n++] = "-c";
	/* The built-in app: log what each peer's name resolves to (app.h),
	 * then busybox httpd on the pod's address, GET / being the visit CGI
	 * (podman.c). */
	args[n++] = spec->command ? spec->command
				  : "for name in $PEER_NAMES; do\n"
				    "\tline=$(ping -c 1 -W 1 \"$name\" 2>&1 | head -n 1)\n"
				    "\tip=${line#*(}; ip=${ip%%)*}\n"
				    "\t[ \"$ip\" = \"$line\" ] && ip=unresolved\n"
				    "\techo \"$POD_NAME: $name is $ip\" >&2\n"
				    "done\n"
				    "exec httpd -f -p \"$POD_IP:$PORT\" -h /www";
	*ret_args = args;
	*ret_owned = owned;
	return 0;
fail:
	pod_podman_free_args(args, owned);
	return -ENOMEM;
}

/* See pod.h. */
int pod_podman_start(struct pod *pod, const struct pod_spec *spec)
{
	const char **args = NULL;
	char **owned = NULL;
	if (util_copy(pod->container, sizeof(pod->container), spec->container) < 0)
		return -ENAMETOOLONG;
	int r = pod_podman_args(spec, &args, &owned);
	if (r < 0)
		return r;
	pid_t pid = podman_spawn(spec->podman, args, spec->log_path);
	pod_podman_free_args(args, owned);
	if (pid < 0)
		return pid;
	pod->pid = pid;
	pod->podman = spec->podman;
	pod->namespaced = false;
	pod->started_ns = util_now_ns();
	return 0;
}

/* See pod.h. */
void pod_podman_signal(const struct pod *pod, int sig)
{
	char signal_name[16];
	snprintf(signal_name, sizeof(signal_name), "%d", sig);
	const char *const kill_args[] = { "kill", "--signal", signal_name, pod->container, NULL };
	/* Not checked: a container that already exited cannot be signalled, and
	 * the caller learns the pod's end by reaping its podman process. */
	(void)podman_run_command(pod->podman, kill_args, POD_PODMAN_KILL_MS, NULL);
}

/* See pod.h: `podman kill`, then reap the attached podman (which removes
 * the container); if it will not go, SIGKILL it and remove the container. */
void pod_podman_kill(struct pod *pod)
{
	pod_podman_signal(pod, SIGKILL);
	uint64_t deadline = util_now_ns() + (uint64_t)POD_PODMAN_KILL_MS * 1000000u;
	while (waitpid(pod->pid, NULL, WNOHANG) == 0) {
		if (util_now_ns() > deadline) {
			kill(pod->pid, SIGKILL);
			while (waitpid(pod->pid, NULL, 0) < 0 && errno == EINTR)
				;
			const char *const rm[] = { "rm", "--force", "--ignore", "--time", "0",
						   pod->container, NULL };
			/* Best effort: the run's cleanup removes it by name again. */
			(void)podman_run_command(pod->podman, rm, POD_PODMAN_KILL_MS, NULL);
			break;
		}
		util_sleep_ms(10);
	}
	pod->pid = 0;
}
