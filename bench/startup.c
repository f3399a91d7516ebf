/*
 * startup.c — bench-startup: how long claimfsd takes from exec to ready.
 *
 *   bench-startup --claimfsd BIN --store FILE --mount DIR --port-file FILE
 *                 --log FILE [--timeout S] [--expect-claims N] [--namespace NS]
 *
 * Starts BIN on an existing store (TCP port 0, the port file tells which),
 * polls every millisecond until GET /readyz answers 200, and reports the
 * time from fork to that answer; then checks the mount shows the expected
 * number of claims in NS, reads the daemon's peak RSS, stops it with
 * SIGTERM and reports the time to a clean exit (status 0 required).
 *
 * Invariant: when this program exits, the daemon it started has exited
 * (SIGTERM, then SIGKILL after the timeout) and has been reaped.
 */
#include "bench_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct startup_options {
	const char *claimfsd;
	const char *store;
	const char *mount;
	const char *port_file;
	const char *log;
	const char *namespace_name;
	double timeout;
	uint64_t expect_claims;
	bool check_claims;
};

/* Sleep for ns nanoseconds. */
static void startup_sleep(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Fork and exec the daemon with its output going to the log. */
static int startup_spawn(const struct startup_options *o, pid_t *ret_pid)
{
	char *argv[] = { (char *)o->claimfsd, "--store", (char *)o->store, "--mount",
			 (char *)o->mount, "--listen", "127.0.0.1:0", "--port-file",
			 (char *)o->port_file, "--log-level", "warn", NULL };
	int log_fd, null_fd, r;
	pid_t pid = -1;

	log_fd = open(o->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0)
		return -errno;
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0) {
		r = -errno;
		close(log_fd);
		return r;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(log_fd);
		close(null_fd);
		return r;
	}
	if (pid == 0) {
		if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
			_exit(127);
		execv(o->claimfsd, argv);
		_exit(127);
	}
	close(log_fd);
	close(null_fd);
	*ret_pid = pid;
	return 0;
}

/* The port from the port file, or 0 while it is missing or incomplete. */
static unsigned startup_read_port(const char *path)
{
	char buf[32];
	ssize_t n;
	uint64_t port;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (bench_parse_u64(buf, &port) < 0 || port == 0 || port > 65535)
		return 0;
	return (unsigned)port;
}

/* Peak RSS (VmHWM) of pid in KiB. */
static int startup_read_hwm(pid_t pid, uint64_t *ret_kib)
{
	char path[64], line[256];
	FILE *f;
	int r = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long kib;

		if (sscanf(line, "VmHWM: %llu kB", &kib) == 1) {
			*ret_kib = kib;
			r = 0;
			break;
		}
	}
	fclose(f);
	return r;
}

/* Number of entries in dir (without . and ..). */
static int startup_count_entries(const char *path, uint64_t *ret_count)
{
	struct dirent *entry;
	uint64_t count = 0;
	DIR *dir;
	int r = 0;

	dir = opendir(path);
	if (!dir)
		return -errno;
	errno = 0;
	while ((entry = readdir(dir)) != NULL) {
		if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
			count++;
		errno = 0;
	}
	if (errno)
		r = -errno;
	closedir(dir);
	if (r == 0)
		*ret_count = count;
	return r;
}

/* Reap pid within timeout_ns; *ret_status its wait status. -ETIMEDOUT if not. */
static int startup_reap(pid_t pid, uint64_t timeout_ns, int *ret_status)
{
	uint64_t deadline = bench_now_ns() + timeout_ns;

	for (;;) {
		pid_t got = waitpid(pid, ret_status, WNOHANG);

		if (got == pid)
			return 0;
		if (got < 0 && errno != EINTR)
			return -errno;
		if (bench_now_ns() > deadline)
			return -ETIMEDOUT;
		startup_sleep(1000000);
	}
}

/* One /readyz on conn: its status in *ret_status. */
static int startup_readyz(struct http_connection *conn, const struct http_request *readyz,
			  unsigned *ret_status)
{
	struct http_response resp;
	int r = http_connection_exchange(conn, readyz, &resp);

	if (r < 0)
		return r;
	*ret_status = resp.status;
	http_response_free(&resp);
	return 0;
}

/* Poll until /readyz is 200; *ret_port_ns when the port file appeared. */
static int startup_wait_ready(const struct startup_options *o, pid_t pid, uint64_t t0,
			      uint64_t *ret_port_ns, uint64_t *ret_ready_ns)
{
	uint64_t deadline = t0 + (uint64_t)(o->timeout * 1e9);
	const struct http_request readyz = { .method = "GET", .path = "/readyz" };
	struct http_endpoint endpoint;
	struct http_connection http;
	unsigned port = 0, status = 0;
	int wait_status, r = -ETIMEDOUT;

	http_connection_init(&http, &endpoint);
	while (bench_now_ns() < deadline) {
		pid_t got = waitpid(pid, &wait_status, WNOHANG);

		if (got == pid) {
			bench_error("claimfsd exited (status 0x%x) before it was ready; see %s",
				    (unsigned)wait_status, o->log);
			r = -ECHILD;
			goto out;
		}
		if (port == 0) {
			port = startup_read_port(o->port_file);
			if (port != 0) {
				*ret_port_ns = bench_now_ns() - t0;
				r = bench_endpoint("127.0.0.1", port, &endpoint);
				if (r < 0)
					goto out;
			}
		}
		if (port != 0 && startup_readyz(&http, &readyz, &status) == 0 && status == 200) {
			*ret_ready_ns = bench_now_ns() - t0;
			r = 0;
			goto out;
		}
		startup_sleep(1000000);
	}
	bench_error("claimfsd not ready after %.1f s (port %u, last /readyz %u); see %s", o->timeout,
		    port, status, o->log);
	r = -ETIMEDOUT;
out:
	http_connection_close(&http);
	return r;
}

/* Parse the options. */
static int startup_parse_args(int argc, char **argv, struct startup_options *o)
{
	static const struct option longopts[] = {
		{ "claimfsd", required_argument, NULL, 'b' },
		{ "store", required_argument, NULL, 's' },
		{ "mount", required_argument, NULL, 'm' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "log", required_argument, NULL, 'l' },
		{ "timeout", required_argument, NULL, 't' },
		{ "expect-claims", required_argument, NULL, 'e' },
		{ "namespace", required_argument, NULL, 'n' },
		{ 0 },
	};
	int c;

	*o = (struct startup_options){ .timeout = 60.0, .namespace_name = "default" };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->claimfsd = optarg;
			break;
		case 's':
			o->store = optarg;
			break;
		case 'm':
			o->mount = optarg;
			break;
		case 'p':
			o->port_file = optarg;
			break;
		case 'l':
			o->log = optarg;
			break;
		case 't':
			if (bench_parse_seconds(optarg, &o->timeout) < 0)
				return -EINVAL;
			break;
		case 'e':
			if (bench_parse_u64(optarg, &o->expect_claims) < 0)
				return -EINVAL;
			o->check_claims = true;
			break;
		case 'n':
			o->namespace_name = optarg;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind != argc || !o->claimfsd || !o->store || !o->mount || !o->port_file || !o->log)
		return -EINVAL;
	return 0;
}

/* Start, time, check, stop; print the JSON line. */
int main(int argc, char **argv)
{
	struct startup_options o;
	uint64_t t0, port_ns = 0, ready_ns = 0, stop_ns = 0, hwm_kib = 0, claims = 0;
	char ns_path[PATH_MAX];
	struct bench_json json;
	int wait_status = 0, r;
	pid_t pid = -1;

	bench_set_program("bench-startup");
	if (startup_parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: bench-startup --claimfsd BIN --store FILE --mount DIR "
				"--port-file FILE --log FILE [--timeout S] [--expect-claims N] "
				"[--namespace NS]\n");
		return 2;
	}
	if (unlink(o.port_file) < 0 && errno != ENOENT) {
		bench_error("unlink %s: %s", o.port_file, strerror(errno));
		return 1;
	}
	t0 = bench_now_ns();
	r = startup_spawn(&o, &pid);
	if (r < 0) {
		bench_error("start %s: %s", o.claimfsd, strerror(-r));
		return 1;
	}
	r = startup_wait_ready(&o, pid, t0, &port_ns, &ready_ns);
	if (r == -ECHILD)
		return 1; /* already reaped */
	if (r == 0) {
		r = startup_read_hwm(pid, &hwm_kib);
		if (r < 0)
			bench_error("VmHWM of %d: %s", (int)pid, strerror(-r));
	}
	if (r == 0 && o.check_claims) {
		snprintf(ns_path, sizeof(ns_path), "%s/%s", o.mount, o.namespace_name);
		r = startup_count_entries(ns_path, &claims);
		if (r < 0)
			bench_error("readdir %s: %s", ns_path, strerror(-r));
		else if (claims != o.expect_claims) {
			bench_error("%s holds %" PRIu64 " claims, expected %" PRIu64, ns_path, claims,
				    o.expect_claims);
			r = -EIO;
		}
	}
	stop_ns = bench_now_ns();
	kill(pid, SIGTERM);
	if (startup_reap(pid, 30000000000u, &wait_status) < 0) {
		bench_error("claimfsd did not stop within 30 s of SIGTERM; killing it");
		kill(pid, SIGKILL);
		waitpid(pid, &wait_status, 0);
		return 1;
	}
	stop_ns = bench_now_ns() - stop_ns;
	if (r < 0)
		return 1;
	if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
		bench_error("claimfsd exited with status 0x%x after SIGTERM; see %s",
			    (unsigned)wait_status, o.log);
		return 1;
	}
	bench_json_begin(&json, stdout);
	bench_json_string(&json, "workload", "startup");
	bench_json_double(&json, "port_file_ms", (double)port_ns / 1e6);
	bench_json_double(&json, "ready_ms", (double)ready_ns / 1e6);
	bench_json_double(&json, "stop_ms", (double)stop_ns / 1e6);
	bench_json_int(&json, "rss_hwm_kib", (int64_t)hwm_kib);
	if (o.check_claims)
		bench_json_int(&json, "claims", (int64_t)claims);
	return bench_json_end(&json) < 0 ? 1 : 0;
}
