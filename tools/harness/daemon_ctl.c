/*
 * daemon_ctl.c — start, SIGKILL, restart and stop claimfsd (see daemon_ctl.h).
 *
 * Invariants:
 *  - d->pid != 0 exactly while a daemon we forked has not been reaped.
 *  - The daemon runs in its own process group (a terminal Ctrl-C reaches only
 *    the harness, which then stops things in order) and gets SIGTERM if the
 *    harness dies (PR_SET_PDEATHSIG), so it unmounts even then. Daemons are
 *    only forked from the controller thread, which lives until the end:
 *    PDEATHSIG fires when the forking *thread* exits.
 *  - Between fork() and exec the child calls only async-signal-safe functions
 *    (the harness has worker threads at that point).
 */
#include "daemon_ctl.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Is PATH an executable regular file? */
static bool daemon_ctl_executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* See daemon_ctl.h. */
int daemon_ctl_find_binary(const char *option_path, const char *self_exe, char *ret_path,
			   size_t cap)
{
	char candidate[PATH_MAX];
	const char *env = getenv("CLAIMFSD");
	if (option_path)
		return daemon_ctl_executable(option_path) ? util_copy(ret_path, cap, option_path) : -ENOENT;
	if (env && *env)
		return daemon_ctl_executable(env) ? util_copy(ret_path, cap, env) : -ENOENT;
	char dir[PATH_MAX];
	if (util_copy(dir, sizeof(dir), self_exe) == 0) {
		char *slash = strrchr(dir, '/');
		if (slash) {
			*slash = '\0';
			const char *rel[] = { "/../../daemon/claimfsd", "/claimfsd" };
			for (size_t i = 0; i < UTIL_ARRAY_SIZE(rel); i++) {
				if (util_format(candidate, sizeof(candidate), "%s%s", dir, rel[i]) == 0 &&
				    daemon_ctl_executable(candidate))
					return util_copy(ret_path, cap, candidate);
			}
		}
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		if (len && util_format(candidate, sizeof(candidate), "%.*s/claimfsd", (int)len, path) == 0 &&
		    daemon_ctl_executable(candidate))
			return util_copy(ret_path, cap, candidate);
		path += len;
		if (*path == ':')
			path++;
	}
	return -ENOENT;
}

/* See daemon_ctl.h. */
int daemon_ctl_init(struct daemon_ctl *d, const char *binary, const char *workdir, bool plugin,
		    bool supervise)
{
	memset(d, 0, sizeof(*d));
	d->supervise = supervise;
	if ((plugin ? util_format(d->plugin_socket, sizeof(d->plugin_socket), "%s/plugin.sock", workdir)
		    : util_copy(d->plugin_socket, sizeof(d->plugin_socket), "none")) < 0)
		return -ENAMETOOLONG;
	if (util_copy(d->binary, sizeof(d->binary), binary) < 0 ||
	    util_format(d->store, sizeof(d->store), "%s/store.db", workdir) < 0 ||
	    util_format(d->mount, sizeof(d->mount), "%s/mnt", workdir) < 0 ||
	    util_format(d->port_file, sizeof(d->port_file), "%s/daemon.port", workdir) < 0 ||
	    util_format(d->log_path, sizeof(d->log_path), "%s/daemon.log", workdir) < 0)
		return -ENAMETOOLONG;
	if (mkdir(d->mount, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Child side of fork(): only async-signal-safe calls, then exec. */
static void daemon_ctl_exec_child(char *const argv[], int log_fd)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	setpgid(0, 0);
	int null_fd = open("/dev/null", O_RDONLY);
	if (null_fd >= 0)
		dup2(null_fd, STDIN_FILENO);
	dup2(log_fd, STDOUT_FILENO);
	dup2(log_fd, STDERR_FILENO);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	close_range(3, ~0u, 0);
	execv(argv[0], argv);
	_exit(127);
}

/* Reap the daemon if it exited; returns true (and clears d->pid) if so. */
static bool daemon_ctl_exited(struct daemon_ctl *d, int *ret_status)
{
	int status = 0;
	pid_t r = waitpid(d->pid, &status, WNOHANG);
	if (r == d->pid) {
		d->pid = 0;
		*ret_status = status;
		return true;
	}
	return false;
}

/* Poll the port file and /readyz until ready, exit, timeout or Ctrl-C. */
static int daemon_ctl_wait_ready(struct daemon_ctl *d, unsigned timeout_ms)
{
	uint64_t deadline = util_now_ns() + (uint64_t)timeout_ms * 1000000u;
	bool have_port = false;
	while (util_now_ns() < deadline) {
		int status;
		if (util_interrupted())
			return -EINTR;
		if (daemon_ctl_exited(d, &status)) {
			util_say("claimfs-harness: claimfsd exited during start-up (%s %d)",
				 WIFSIGNALED(status) ? "signal" : "status",
				 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			return -ECHILD;
		}
		if (!have_port) {
			char text[32];
			unsigned long port;
			if (util_read_small_file(d->port_file, text, sizeof(text)) > 0) {
				text[strcspn(text, "\r\n ")] = '\0';
				if (util_parse_ulong(text, 65535, &port) == 0 && port) {
					util_endpoint_loopback((unsigned)port, &d->api);
					have_port = true;
				}
			}
		}
		if (have_port) {
			struct http_response resp = { 0 };
			const struct http_request readyz = { .method = "GET", .path = "/readyz",
							     .timeout_ms = 2000 };
			if (http_exchange(&d->api, &readyz, &resp, NULL) == 0) {
				unsigned status_code = resp.status;
				http_response_free(&resp);
				if (status_code == 200)
					return 0;
			}
		}
		util_sleep_ms(10);
	}
	return -ETIMEDOUT;
}

/* See daemon_ctl.h. */
int daemon_ctl_start(struct daemon_ctl *d, unsigned timeout_ms)
{
	/* --supervise last: replaced by the terminating NULL without it. */
	char *argv[] = { d->binary, "--store", d->store, "--mount", d->mount,
			 "--listen", "127.0.0.1:0", "--port-file", d->port_file,
			 "--log-level", "info", "--volume-plugin-socket", d->plugin_socket,
			 d->supervise ? "--supervise" : NULL, NULL };
	if (d->pid)
		return -EBUSY;
	if (unlink(d->port_file) < 0 && errno != ENOENT)
		return -errno;
	int log_fd = open(d->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0)
		return -errno;
	dprintf(log_fd, "=== claimfs-harness: start #%u: %s --store %s --mount %s\n", d->starts + 1,
		d->binary, d->store, d->mount);
	pid_t pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(log_fd);
		return r;
	}
	if (pid == 0)
		daemon_ctl_exec_child(argv, log_fd);
	close(log_fd);
	d->pid = pid;
	d->worker = 0;
	d->starts++;
	int r = daemon_ctl_wait_ready(d, timeout_ms);
	if (r < 0) {
		if (r != -EINTR) {
			util_say("claimfs-harness: claimfsd did not become ready (%s); log tail:",
				 strerror(-r));
			util_print_tail(d->log_path, 15, "  | ");
		}
		daemon_ctl_stop(d, 2000);
	}
	return r;
}

/* See daemon_ctl.h. */
int daemon_ctl_poll(struct daemon_ctl *d, int *ret_status)
{
	return d->pid && daemon_ctl_exited(d, ret_status) ? 1 : 0;
}

/* See daemon_ctl.h. */
int daemon_ctl_kill(struct daemon_ctl *d)
{
	if (!d->pid)
		return 0;
	if (kill(d->pid, SIGKILL) < 0 && errno != ESRCH)
		return -errno;
	while (waitpid(d->pid, NULL, 0) < 0 && errno == EINTR)
		;
	d->pid = 0;
	return 0;
}

/* The supervisor's one child, its worker: 0 and *ret_pid, or -ESRCH. */
static int daemon_ctl_worker_pid(const struct daemon_ctl *d, pid_t *ret_pid)
{
	char path[64], text[256];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)d->pid, (int)d->pid);
	long n = util_read_small_file(path, text, sizeof(text));
	unsigned long pid;
	if (n <= 0)
		return -ESRCH;
	text[strcspn(text, " \n")] = '\0';
	if (util_parse_ulong(text, INT_MAX, &pid) < 0 || pid == 0)
		return -ESRCH;
	*ret_pid = (pid_t)pid;
	return 0;
}

/* See daemon_ctl.h. */
int daemon_ctl_kill_worker(struct daemon_ctl *d, unsigned timeout_ms, pid_t *ret_worker)
{
	pid_t worker, next;
	int r = d->pid && d->supervise ? daemon_ctl_worker_pid(d, &worker) : -ESRCH;
	if (r < 0)
		return r;
	if (kill(worker, SIGKILL) < 0)
		return -errno;
	d->worker_kills++;
	/* The old worker's port answers until it is gone: wait for a new pid. */
	uint64_t deadline = util_now_ns() + (uint64_t)timeout_ms * 1000000u;
	while (daemon_ctl_worker_pid(d, &next) < 0 || next == worker) {
		int status;
		if (daemon_ctl_poll(d, &status))
			return -ECHILD;
		if (util_interrupted())
			return -EINTR;
		if (util_now_ns() > deadline)
			return -ETIMEDOUT;
		util_sleep_ms(5);
	}
	r = daemon_ctl_wait_ready(d, (unsigned)((deadline - util_now_ns()) / 1000000u) + 1);
	if (r == 0) {
		d->worker = next;
		*ret_worker = worker;
	}
	return r;
}

/* See daemon_ctl.h. */
int daemon_ctl_worker_replaced(struct daemon_ctl *d, pid_t *ret_worker)
{
	pid_t now = 0;
	if (!d->pid || !d->supervise)
		return 0;
	/* No child: the worker is gone and its successor not started yet. */
	if (daemon_ctl_worker_pid(d, &now) < 0 && (d->worker == 0 || kill(d->worker, 0) == 0))
		return 0;
	pid_t before = d->worker;
	d->worker = now;
	if (before == 0 || before == now)
		return 0;
	*ret_worker = before;
	return 1;
}

/* See daemon_ctl.h. */
int daemon_ctl_stop(struct daemon_ctl *d, unsigned grace_ms)
{
	int r = 0;
	if (d->pid) {
		int status;
		kill(d->pid, SIGTERM);
		uint64_t deadline = util_now_ns() + (uint64_t)grace_ms * 1000000u;
		while (d->pid && util_now_ns() < deadline) {
			if (!daemon_ctl_exited(d, &status))
				util_sleep_ms(10);
		}
		if (d->pid) {
			util_say("claimfs-harness: claimfsd ignored SIGTERM for %u ms; SIGKILL", grace_ms);
			r = daemon_ctl_kill(d);
		}
	}
	/* A SIGKILLed daemon (or one killed above) leaves its mount behind. */
	for (int i = 0; i < 50 && util_mounted_under(d->mount); i++) {
		util_detach_under(d->mount);
		if (util_mounted_under(d->mount))
			util_sleep_ms(20);
	}
	if (util_mounted_under(d->mount)) {
		util_say("claimfs-harness: %s is still mounted", d->mount);
		return -EBUSY;
	}
	return r;
}
