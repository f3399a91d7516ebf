/*
 * supervisor.c — claimfsd --supervise: the small process that mounts, keeps
 * the /dev/fuse descriptor, and runs the daemon proper as a worker process,
 * restarted on the same connection whenever it ends.
 *
 * The supervisor opens no store, serves no HTTP and reads no FUSE request:
 * it mounts (fs_conn_mount), creates four memfds it holds for the workers —
 * the connection record (the INIT exchange, fs_resume.c), the worker record
 * (struct supervisor_record: the API port, whether the worker got ready) and
 * the record of acknowledged but uncommitted changes (uncommitted.c), and
 * the redo log of those changes themselves (redo_log.c, written by the
 * store, replayed by the next worker) — and
 * waits for signals:
 *   SIGCHLD  the worker ended: start the next one on the same descriptor;
 *            its INIT is replayed and the kernel resends what the dead one
 *            had read. Where the kernel cannot resend (before Linux 6.9) and
 *            the worker did not end cleanly, the connection is aborted and
 *            mounted afresh (processes using it get ENOTCONN, as without a
 *            supervisor). A first worker that never got ready ends the
 *            supervisor with its exit status (bad options, locked store).
 *   SIGHUP   upgrade: stop the worker (SIGTERM: it commits), then start the
 *            binary installed at the path this one was started from.
 *   SIGTERM, SIGINT  stop the worker, unmount, exit 0.
 * Workers get the descriptors by inheritance (SUPERVISOR_ENV names them;
 * worker.c is their side)
 * and die with the supervisor (PR_SET_PDEATHSIG). A worker that ends before
 * it got ready is restarted after a growing pause (at most
 * SUPERVISOR_PAUSE_MAX_MS), one that served at once.
 */
#include "supervisor.h"

#include "fs.h"
#include "files.h"
#include "log.h"
#include "redo_log.h"
#include "uncommitted.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SUPERVISOR_PAUSE_MAX_MS 5000

struct supervisor {
	const struct supervisor_config *config;
	char **argv;
	char exe[PATH_MAX]; /* the installed binary, re-read at every start */
	struct fs_conn *conn;
	int record_fd, worker_fd, uncommitted_fd, redo_fd;
	pid_t worker;
	unsigned quick_exits;
	unsigned generation;
	bool stopping, upgrading;
};

void supervisor_record_read(int fd, struct supervisor_record *ret_record)
{
	struct supervisor_record rec = { 0 };
	ssize_t n = pread(fd, &rec, sizeof(rec), 0);

	if (n != (ssize_t)sizeof(rec) || rec.magic != SUPERVISOR_RECORD_MAGIC)
		rec = (struct supervisor_record){ .magic = SUPERVISOR_RECORD_MAGIC };
	*ret_record = rec;
}

/* Mount with a fresh connection record. */
static int supervisor_mount(struct supervisor *sv)
{
	const struct supervisor_config *c = sv->config;
	struct fs_config config = { .mountpoint = c->mountpoint, .fsname = c->fsname, .debug = c->debug };
	int r;

	if (sv->record_fd >= 0)
		close(sv->record_fd);
	sv->record_fd = fs_conn_record_create();
	if (sv->record_fd < 0)
		return sv->record_fd;
	r = fs_conn_mount(&config, &sv->conn);
	if (r < 0)
		fprintf(stderr, "claimfsd: cannot mount %s: %s\n", c->mountpoint, strerror(-r));
	return r;
}

/* The child side of supervisor_start: inherit the descriptors, exec. */
static void supervisor_exec_worker(struct supervisor *sv, pid_t parent)
{
	int fds[5] = { fs_conn_fd(sv->conn), sv->record_fd, sv->worker_fd, sv->uncommitted_fd, sv->redo_fd };
	char env[80];
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	for (int i = 0; i < 5; i++)
		if (fcntl(fds[i], F_SETFD, 0) < 0)
			_exit(127);
	snprintf(env, sizeof(env), "%d,%d,%d,%d,%d", fds[0], fds[1], fds[2], fds[3], fds[4]);
	sigemptyset(&none);
	if (setenv(SUPERVISOR_ENV, env, 1) < 0 || sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		_exit(127);
	execv(sv->exe, sv->argv);
	fprintf(stderr, "claimfsd: cannot start the worker %s: %s\n", sv->exe, strerror(errno));
	_exit(127);
}

static int supervisor_start(struct supervisor *sv)
{
	struct supervisor_record rec;
	pid_t parent = getpid();

	supervisor_record_read(sv->worker_fd, &rec);
	rec.ready = 0;
	if (pwrite(sv->worker_fd, &rec, sizeof(rec), 0) != (ssize_t)sizeof(rec))
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		supervisor_exec_worker(sv, parent);
	sv->worker = pid;
	sv->generation++;
	log_info("supervisor: worker %u started (pid %d)", sv->generation, (int)pid);
	return 0;
}

/* How long to wait before the next start: none after a worker that got
 * ready, a growing pause while workers keep failing their start-up. */
static unsigned supervisor_pause_ms(struct supervisor *sv, bool was_ready)
{
	if (was_ready) {
		sv->quick_exits = 0;
		return 0;
	}
	sv->quick_exits++;
	unsigned pause = 100u << (sv->quick_exits < 6 ? sv->quick_exits : 6);
	return pause < SUPERVISOR_PAUSE_MAX_MS ? pause : SUPERVISOR_PAUSE_MAX_MS;
}

/* The worker ended with wait status `status`: decide what comes next.
 * Returns 1 to start another worker (*ret_ready: the one that ended got
 * ready), 0 to stop with *ret_exit. */
static int supervisor_worker_ended(struct supervisor *sv, int status, bool *ret_ready, int *ret_exit)
{
	struct supervisor_record rec;
	bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;

	sv->worker = 0;
	supervisor_record_read(sv->worker_fd, &rec);
	*ret_ready = rec.ready != 0;
	if (WIFSIGNALED(status))
		log_warn("supervisor: worker %u killed by %s", sv->generation, strsignal(WTERMSIG(status)));
	else
		log_info("supervisor: worker %u exited with status %d", sv->generation, WEXITSTATUS(status));
	if (sv->stopping) {
		*ret_exit = clean ? EXIT_SUCCESS : EXIT_FAILURE;
		return 0;
	}
	if (!rec.ready && sv->generation == 1) {
		/* Start-up failed (it said why): as without a supervisor. */
		*ret_exit = WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAILURE;
		return 0;
	}
	if (!clean && fs_conn_record_can_resend(sv->record_fd) != 1) {
		log_error("supervisor: the worker died and this kernel cannot resend the requests it had "
			  "read (FUSE_NOTIFY_RESEND needs Linux 6.9): aborting the connection; processes "
			  "using %s get ENOTCONN and must reopen their files",
			  sv->config->mountpoint);
		fs_conn_unmount(sv->conn);
		sv->conn = NULL;
		if (supervisor_mount(sv) < 0)
			return *ret_exit = EXIT_FAILURE, 0;
	}
	return 1;
}

/* Wait for the next signal, at most pause_ms (0: forever); 0 on timeout. */
static int supervisor_wait(const sigset_t *set, unsigned pause_ms)
{
	struct timespec timeout = { pause_ms / 1000, (long)(pause_ms % 1000) * 1000000 };
	int sig = pause_ms ? sigtimedwait(set, NULL, &timeout) : sigwaitinfo(set, NULL);

	return sig < 0 ? 0 : sig;
}

/* Signals until the supervisor stops; its exit status. */
static int supervisor_loop(struct supervisor *sv, const sigset_t *set)
{
	unsigned pause_ms = 0;
	int exit_code = EXIT_SUCCESS, status;

	for (;;) {
		if (!sv->worker && !sv->stopping && supervisor_start(sv) < 0) {
			log_error("supervisor: cannot start a worker: %s", strerror(errno));
			return EXIT_FAILURE;
		}
		int sig = supervisor_wait(set, pause_ms);
		pause_ms = 0;
		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
			sv->stopping = sig != SIGHUP;
			sv->upgrading = sig == SIGHUP;
			log_info("supervisor: %s: %s", strsignal(sig),
				 sv->stopping ? "stopping" : "starting a new worker from the installed binary");
			if (sv->worker)
				kill(sv->worker, SIGTERM);
			else if (sv->stopping)
				return exit_code;
			continue;
		}
		if (sig != SIGCHLD || !sv->worker)
			continue;
		pid_t pid = waitpid(sv->worker, &status, WNOHANG);
		if (pid <= 0)
			continue;
		bool was_ready;
		if (!supervisor_worker_ended(sv, status, &was_ready, &exit_code))
			return exit_code;
		pause_ms = supervisor_pause_ms(sv, was_ready);
		sv->upgrading = false;
		if (pause_ms) {
			log_warn("supervisor: the worker failed to start; next start in %u ms", pause_ms);
			/* Wait out the pause, but take a stop signal at once. */
			sig = supervisor_wait(set, pause_ms);
			if (sig == SIGTERM || sig == SIGINT)
				return exit_code;
			pause_ms = 0;
		}
	}
}

int supervisor_run(const struct supervisor_config *config, char **argv)
{
	struct supervisor sv = { .config = config, .argv = argv, .record_fd = -1, .worker_fd = -1,
				 .uncommitted_fd = -1, .redo_fd = -1 };
	struct supervisor_record rec = { .magic = SUPERVISOR_RECORD_MAGIC };
	sigset_t set;
	int r, exit_code = EXIT_FAILURE;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	ssize_t n = readlink("/proc/self/exe", sv.exe, sizeof(sv.exe) - 1);
	if (n <= 0 || (size_t)n >= sizeof(sv.exe) - 1) {
		fprintf(stderr, "claimfsd: cannot find my own binary: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	sv.exe[n] = '\0';
	if ((r = fs_clear_stale_mount(config->mountpoint)) < 0 ||
	    ((r = files_mkdirs(config->mountpoint, 0755)) < 0 && r != -ENOTCONN) ||
	    (r = fs_check_mountpoint_empty(config->mountpoint)) < 0) {
		fprintf(stderr, "claimfsd: cannot use %s as the mount point: %s\n", config->mountpoint,
			strerror(-r));
		return EXIT_FAILURE;
	}
	sv.worker_fd = memfd_create("claimfs-worker", MFD_CLOEXEC);
	if (sv.worker_fd < 0 || pwrite(sv.worker_fd, &rec, sizeof(rec), 0) != (ssize_t)sizeof(rec)) {
		fprintf(stderr, "claimfsd: cannot create the worker record: %s\n", strerror(errno));
		goto out;
	}
	sv.uncommitted_fd = uncommitted_create();
	if (sv.uncommitted_fd < 0) {
		fprintf(stderr, "claimfsd: cannot create the record of uncommitted changes: %s\n",
			strerror(-sv.uncommitted_fd));
		goto out;
	}
	sv.redo_fd = redo_log_create();
	if (sv.redo_fd < 0) {
		fprintf(stderr, "claimfsd: cannot create the redo log: %s\n", strerror(-sv.redo_fd));
		goto out;
	}
	if (supervisor_mount(&sv) < 0)
		goto out;
	exit_code = supervisor_loop(&sv, &set);
	if (sv.worker) {
		/* Stopped during a pause or a failed start: nothing to wait for but this one. */
		kill(sv.worker, SIGTERM);
		waitpid(sv.worker, NULL, 0);
	}
	fs_conn_unmount(sv.conn);
	if (exit_code == EXIT_SUCCESS)
		log_info("supervisor: unmounted %s, stopped cleanly", config->mountpoint);
out:
	if (sv.record_fd >= 0)
		close(sv.record_fd);
	if (sv.worker_fd >= 0)
		close(sv.worker_fd);
	if (sv.uncommitted_fd >= 0)
		close(sv.uncommitted_fd);
	if (sv.redo_fd >= 0)
		close(sv.redo_fd);
	return exit_code;
}
