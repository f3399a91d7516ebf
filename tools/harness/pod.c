/*
 * pod.c — start, poll, kill and stop one pod (see pod.h); the inside of a
 * namespaced pod is in pod_sandbox.c.
 *
 * Invariants: pod->pid != 0 exactly while the pod's top process is unreaped;
 * pods are only started from the controller thread (PR_SET_PDEATHSIG is tied
 * to the thread that forks); the child's copy of the plan and stack belong to
 * the child, the harness frees its own copies right after clone().
 */
#include "pod.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define POD_STACK_SIZE (256u * 1024u)

/* Clone a namespaced pod running SB. Returns the pid or -errno. */
static pid_t pod_clone(struct pod_sandbox *sb)
{
	void *stack = mmap(NULL, POD_STACK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -errno;
	pid_t pid = clone(pod_sandbox_main, (char *)stack + POD_STACK_SIZE,
			  CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | SIGCHLD, sb);
	int err = errno;
	munmap(stack, POD_STACK_SIZE);
	return pid < 0 ? -err : pid;
}

/* Fork a plain pod (own session and process group). */
static pid_t pod_fork_plain(const struct pod_sandbox *sb)
{
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setsid();
		pod_sandbox_exec_app(sb);
	}
	return pid;
}

/* See pod.h. */
int pod_start(struct pod *pod, const struct pod_spec *spec)
{
	struct pod_sandbox *sb = NULL;
	if (pod->pid)
		return -EBUSY;
	if (spec->podman)
		return pod_podman_start(pod, spec);
	int log_fd = open(spec->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0)
		return -errno;
	int r = pod_sandbox_plan(&sb, spec, log_fd);
	if (r < 0)
		goto out;
	pid_t pid = spec->namespaced ? pod_clone(sb) : pod_fork_plain(sb);
	if (pid < 0) {
		r = pid;
		goto out;
	}
	pod->pid = pid;
	pod->podman = NULL;
	pod->namespaced = spec->namespaced;
	pod->started_ns = util_now_ns();
	r = 0;
out:
	pod_sandbox_free(sb);
	close(log_fd);
	return r;
}

/* See pod.h. */
int pod_poll(struct pod *pod, int *ret_status)
{
	if (!pod->pid)
		return 0;
	int status = 0;
	pid_t r = waitpid(pod->pid, &status, WNOHANG);
	if (r != pod->pid)
		return 0;
	if (!pod->namespaced && !pod->podman)
		kill(-pod->pid, SIGKILL); /* leftovers of the app's process group */
	pod->pid = 0;
	*ret_status = status;
	return 1;
}

/* Signal the pod: its init (which owns the PID namespace) or its group. */
static void pod_signal(const struct pod *pod, int sig)
{
	if (pod->podman)
		pod_podman_signal(pod, sig);
	else if (pod->namespaced)
		kill(pod->pid, sig);
	else
		kill(-pod->pid, sig);
}

/* See pod.h. */
void pod_kill(struct pod *pod)
{
	if (!pod->pid)
		return;
	if (pod->podman) {
		pod_podman_kill(pod);
		return;
	}
	pod_signal(pod, SIGKILL);
	while (waitpid(pod->pid, NULL, 0) < 0 && errno == EINTR)
		;
	pod->pid = 0;
}

/* See pod.h. */
bool pod_stop(struct pod *pod, unsigned grace_ms)
{
	if (!pod->pid)
		return true;
	pod_signal(pod, SIGTERM);
	uint64_t deadline = util_now_ns() + (uint64_t)grace_ms * 1000000u;
	int status;
	while (util_now_ns() < deadline && !util_interrupted()) {
		if (pod_poll(pod, &status))
			return true;
		util_sleep_ms(5);
	}
	pod_kill(pod);
	return false;
}
