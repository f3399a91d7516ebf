/*
 * fleet.c — the StatefulSet controller (see fleet.h).
 *
 * Invariants:
 *  - A replica's endpoint is non-zero only while its current pod is running
 *    and has passed the readiness probe (fleet_publish), and is cleared
 *    before its pod is signalled (fleet_take_down): the service never routes
 *    to a pod known to be going away.
 *  - Ordinals >= scale have no pod; scaled_down marks them during a scale cycle.
 *  - Every pod gets a port never used before in this run, so a client that
 *    read a stale endpoint reaches nobody rather than the wrong replica.
 *  - A pod runs the template revision it was created with: r->revision
 *    changes only when its pod is replaced (rolling update, or with
 *    OnDelete any re-creation after the template changed).
 */
#include "fleet.h"
#include "app.h"
#include "claims.h"
#include "dns.h"
#include "http_client.h"
#include "load.h"
#include "util.h"
#include "verdict.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FLEET_START_ATTEMPTS 3
#define FLEET_MAX_CRASH_STREAK 5

extern char **environ;

/* See fleet.h. */
int fleet_init(struct fleet *f, const struct options *opts, struct timeline *timeline,
	       const char *workdir, const char *mount_dir, const struct podman *podman)
{
	memset(f, 0, sizeof(*f));
	f->opts = opts;
	f->timeline = timeline;
	f->count = opts->replicas;
	f->scale = opts->replicas;
	f->update_revision = 1;
	f->podman = podman;
	f->namespaced = !podman && geteuid() == 0 && !opts->no_namespaces;
	ssize_t n = readlink("/proc/self/exe", f->self_exe, sizeof(f->self_exe) - 1);
	if (n < 0)
		return -errno;
	f->self_exe[n] = '\0';
	if (!getcwd(f->cwd, sizeof(f->cwd)))
		return -errno;
	char pods[PATH_MAX];
	if (util_format(pods, sizeof(pods), "%s/pods", workdir) < 0)
		return -ENAMETOOLONG;
	if (mkdir(pods, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (util_format(f->hosts_path, sizeof(f->hosts_path), "%s/hosts", workdir) < 0)
		return -ENAMETOOLONG;
	int err = dns_write_hosts(opts, f->hosts_path);
	if (err == 0 && podman)
		err = dns_add_hosts(opts, &f->add_hosts);
	if (err == 0)
		err = dns_peer_names(opts, &f->peer_names);
	if (err < 0)
		return err;
	f->replicas = calloc(f->count, sizeof(*f->replicas));
	if (!f->replicas)
		return -ENOMEM;
	for (unsigned i = 0; i < f->count; i++) {
		struct replica *r = &f->replicas[i];
		r->ordinal = i;
		r->revision = 1;
		r->on_disk = -1;
		r->over_count = -1;
		atomic_init(&r->max_answer, -1);
		dns_pod_address(i, r->ip);
		if (claims_pod_name(opts, i, r->pod_name, sizeof(r->pod_name)) < 0 ||
		    claims_claim_name(opts, i, r->claim_name, sizeof(r->claim_name)) < 0 ||
		    util_format(r->claim_path, sizeof(r->claim_path), "%s/%s/%s", mount_dir,
				opts->namespace_name, r->claim_name) < 0 ||
		    util_format(r->visits_path, sizeof(r->visits_path), "%s/%s", r->claim_path,
				opts->visits_file) < 0 ||
		    util_format(r->log_path, sizeof(r->log_path), "%s/%s.log", pods, r->pod_name) < 0 ||
		    util_format(r->staging_dir, sizeof(r->staging_dir), "%s/%s.root", pods, r->pod_name) < 0 ||
		    (podman && util_format(r->container, sizeof(r->container), "%s-%s", podman->prefix,
					   r->pod_name) < 0))
			return -ENAMETOOLONG;
		if (f->namespaced && mkdir(r->staging_dir, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	return 0;
}

/* See fleet.h. */
void fleet_free(struct fleet *f)
{
	free(f->replicas);
	f->replicas = NULL;
	dns_free_add_hosts(f->add_hosts);
	f->add_hosts = NULL;
	free(f->peer_names);
	f->peer_names = NULL;
}

/* Bind a TCP socket to IP:PORT (PORT 0: the kernel picks) and close it;
 * the port it got in *ret_port. 0 or -errno. */
static int fleet_try_bind(const char *ip, unsigned port, unsigned *ret_port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t len = sizeof(sin);
	if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1)
		return -EINVAL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int r = 0;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		r = -errno;
	close(fd);
	if (r == 0)
		*ret_port = ntohs(sin.sin_port);
	return r;
}

/* A port the kernel considers free on IP and on 127.0.0.1 (so an answer
 * there is this pod's, see fleet_misplaced) and this run never used. */
static int fleet_alloc_port(struct fleet *f, const char *ip, unsigned *ret_port)
{
	for (int attempt = 0; attempt < 200; attempt++) {
		unsigned port, same;
		int r = fleet_try_bind(ip, 0, &port);
		if (r < 0)
			return r;
		if (fleet_try_bind("127.0.0.1", port, &same) < 0)
			continue;
		if (!(f->used_ports[port / 8] & (1u << (port % 8)))) {
			f->used_ports[port / 8] |= (uint8_t)(1u << (port % 8));
			*ret_port = port;
			return 0;
		}
	}
	return -EADDRINUSE;
}

/* Free a NULL-terminated malloc'd string vector. */
static void fleet_free_strv(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* Append a formatted string to V (room was reserved by the caller). */
static int fleet_strv_addf(char **v, size_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fleet_strv_addf(char **v, size_t *n, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int len = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (len < 0)
		return -ENOMEM;
	v[(*n)++] = s;
	v[*n] = NULL;
	return 0;
}

/* The pod's environment: ours minus the names we set (INHERIT; a
 * container gets only the pod's own), plus the pod's. */
static char **fleet_env(const struct fleet *f, const struct replica *r, const char *data_dir,
			bool inherit)
{
	static const char *const ours[] = { "POD_NAME=", "ORDINAL=", "PORT=", "DATA_DIR=", "CLAIM_NAME=",
					    "CLAIM_PATH=", "REVISION=", "POD_NAMESPACE=", "HOSTNAME=",
					    "VISITS_FILE=", "POD_IP=", "PEER_NAMES=" };
	size_t total = 0, n = 0;
	while (inherit && environ[total])
		total++;
	char **v = calloc(total + UTIL_ARRAY_SIZE(ours) + 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < total; i++) {
		bool skip = false;
		for (size_t k = 0; k < UTIL_ARRAY_SIZE(ours); k++)
			skip |= strncmp(environ[i], ours[k], strlen(ours[k])) == 0;
		if (skip)
			continue;
		if (!(v[n] = strdup(environ[i])))
			goto fail;
		n++;
	}
	if (fleet_strv_addf(v, &n, "POD_NAME=%s", r->pod_name) < 0 ||
	    fleet_strv_addf(v, &n, "HOSTNAME=%s", r->pod_name) < 0 ||
	    fleet_strv_addf(v, &n, "ORDINAL=%u", r->ordinal) < 0 ||
	    fleet_strv_addf(v, &n, "PORT=%u", r->port) < 0 ||
	    fleet_strv_addf(v, &n, "POD_IP=%s", r->ip) < 0 ||
	    fleet_strv_addf(v, &n, "DATA_DIR=%s", data_dir) < 0 ||
	    fleet_strv_addf(v, &n, "CLAIM_NAME=%s", r->claim_name) < 0 ||
	    fleet_strv_addf(v, &n, "CLAIM_PATH=%s", r->claim_path) < 0 ||
	    fleet_strv_addf(v, &n, "REVISION=%u", r->revision) < 0 ||
	    fleet_strv_addf(v, &n, "POD_NAMESPACE=%s", f->opts->namespace_name) < 0 ||
	    fleet_strv_addf(v, &n, "VISITS_FILE=%s", f->opts->visits_file) < 0 ||
	    fleet_strv_addf(v, &n, "PEER_NAMES=%s", f->peer_names) < 0)
		goto fail;
	return v;
fail:
	fleet_free_strv(v);
	return NULL;
}

/* The pod's command line: --app through /bin/sh, or ourselves as the app. */
static char **fleet_argv(const struct fleet *f, const struct replica *r)
{
	char **v = calloc(6, sizeof(*v));
	size_t n = 0;
	if (!v)
		return NULL;
	if (f->opts->app) {
		if (fleet_strv_addf(v, &n, "%s", "/bin/sh") < 0 || fleet_strv_addf(v, &n, "%s", "-c") < 0 ||
		    fleet_strv_addf(v, &n, "%s", f->opts->app) < 0)
			goto fail;
		return v;
	}
	if (fleet_strv_addf(v, &n, "%s", f->self_exe) < 0 ||
	    fleet_strv_addf(v, &n, "%s", "--internal-app") < 0)
		goto fail;
	/* --supervise: the app holds its file and working directory across
	 * the daemon's restarts (app.h). */
	if (f->opts->supervise && !f->opts->broken && fleet_strv_addf(v, &n, "%s", "--keep-open") < 0)
		goto fail;
	/* ack-before-fsync: every replica; cross-write: ordinal 0 into ordinal 1's claim. */
	if (f->opts->broken == BROKEN_ACK_BEFORE_FSYNC &&
	    fleet_strv_addf(v, &n, "%s", "--broken=ack-before-fsync") < 0)
		goto fail;
	if (f->opts->broken == BROKEN_CROSS_WRITE && r->ordinal == 0 &&
	    (fleet_strv_addf(v, &n, "%s", "--broken=cross-write") < 0 ||
	     fleet_strv_addf(v, &n, "--other-data=%s", f->replicas[1].claim_path) < 0))
		goto fail;
	return v;
fail:
	fleet_free_strv(v);
	return NULL;
}

/* Start R's pod on a fresh port (not yet in the service). */
static int fleet_start_pod(struct fleet *f, struct replica *r)
{
	int r_ = fleet_alloc_port(f, r->ip, &r->port);
	if (r_ < 0)
		return r_;
	/* OnDelete: a pod made after the template changed runs the new one. */
	if (f->opts->update_strategy == UPDATE_ON_DELETE)
		r->revision = f->update_revision;
	const char *data_dir = f->namespaced || f->podman ? f->opts->mount_path : r->claim_path;
	char **env = fleet_env(f, r, data_dir, !f->podman);
	char **argv = f->podman ? NULL : fleet_argv(f, r);
	struct pod_spec spec = {
		.argv = argv, .envp = env, .log_path = r->log_path, .cwd = f->cwd,
		.namespaced = f->namespaced, .claim_path = r->claim_path,
		.mount_path = f->opts->mount_path, .staging_dir = r->staging_dir,
		.hostname = r->pod_name, .hosts_file = f->namespaced ? f->hosts_path : NULL,
		.podman = f->podman, .container = r->container, .volume = r->claim_name,
		.pod_env = env, .add_hosts = f->add_hosts, .command = f->opts->command,
	};
	r_ = env && (argv || f->podman) ? pod_start(&r->pod, &spec) : -ENOMEM;
	fleet_free_strv(env);
	fleet_free_strv(argv);
	return r_;
}

/* Does R's app answer the probe on 127.0.0.1 instead of its own address?
 * (An app written before pods had addresses: say so rather than time out.) */
static bool fleet_misplaced(const struct fleet *f, const struct replica *r)
{
	struct http_endpoint target;
	const struct http_request probe = { .method = "GET", .path = f->opts->probe_path,
					    .timeout_ms = 1000 };
	struct http_response resp = { 0 };
	util_endpoint_loopback(r->port, &target);
	if (http_exchange(&target, &probe, &resp, NULL) < 0)
		return false;
	http_response_free(&resp);
	return true;
}

/* Probe R's pod until ready, exited, timed out or interrupted. */
static int fleet_wait_ready(struct fleet *f, struct replica *r)
{
	struct http_endpoint target;
	const struct http_request probe = { .method = "GET", .path = f->opts->probe_path,
					    .timeout_ms = 1000 };
	util_endpoint_ip(r->ip, r->port, &target);
	uint64_t deadline = util_now_ns() + (uint64_t)f->opts->ready_timeout_ms * 1000000u;
	while (!util_interrupted()) {
		int status;
		if (pod_poll(&r->pod, &status))
			return -ECHILD;
		struct http_response resp = { 0 };
		int err = http_exchange(&target, &probe, &resp, NULL);
		if (err == 0) {
			unsigned code = resp.status;
			http_response_free(&resp);
			if (code >= 200 && code < 400)
				return 0;
		} else if (err == -ECONNREFUSED && fleet_misplaced(f, r)) {
			return -EADDRNOTAVAIL;
		}
		if (util_now_ns() > deadline)
			return -ETIMEDOUT;
		util_sleep_ms(5);
	}
	return -EINTR;
}

/* Put R's ready pod into the service. */
static void fleet_publish(struct replica *r)
{
	atomic_fetch_add(&r->epoch, 1);
	atomic_store(&r->dying, false);
	atomic_store(&r->endpoint, r->port);
}

/* Take R out of the service and stop its pod (SIGKILL unless GRACEFUL). */
static void fleet_take_down(struct fleet *f, struct replica *r, bool graceful)
{
	atomic_store(&r->dying, true);
	atomic_fetch_add(&r->epoch, 1);
	atomic_store(&r->endpoint, 0);
	if (graceful)
		pod_stop(&r->pod, f->opts->grace_ms);
	else
		pod_kill(&r->pod);
}

/* Report a pod that would not come up, with its log. */
static void fleet_start_failed(struct replica *r, int err)
{
	if (err == -EADDRNOTAVAIL)
		util_say("claimfs-harness: %s did not become ready: its app answers on 127.0.0.1:%u, "
			 "but must listen on its own address POD_IP (%s) or on all addresses; its log:",
			 r->pod_name, r->port, r->ip);
	else
		util_say("claimfs-harness: %s did not become ready: %s; its log:", r->pod_name,
			 err == -ECHILD ? "the app exited" : strerror(-err));
	util_print_tail(r->log_path, 15, "  | ");
}

/* Start R and wait for readiness (retrying an app that exits at once, e.g.
 * because another process took its port), without publishing. */
static int fleet_boot(struct fleet *f, struct replica *r)
{
	int err = 0;
	for (int attempt = 0; attempt < FLEET_START_ATTEMPTS; attempt++) {
		err = fleet_start_pod(f, r);
		if (err == 0)
			err = fleet_wait_ready(f, r);
		if (err == 0)
			return 0;
		pod_kill(&r->pod);
		if (err != -ECHILD)
			break;
	}
	if (err != -EINTR)
		fleet_start_failed(r, err);
	return err;
}

/* Boot and publish R; COUNT_RESTART bumps its restart count. */
static int fleet_bring_up(struct fleet *f, struct replica *r, bool count_restart)
{
	int err = fleet_boot(f, r);
	if (err < 0)
		return err;
	if (count_restart)
		r->restarts++;
	fleet_publish(r);
	return 0;
}

/* See fleet.h. */
int fleet_start_all(struct fleet *f, bool count_restart)
{
	if (f->opts->pod_management == POD_MANAGEMENT_ORDERED_READY) {
		for (unsigned i = 0; i < f->scale; i++) {
			struct replica *r = &f->replicas[i];
			if (r->pod.pid)
				continue;
			int err = fleet_bring_up(f, r, count_restart);
			if (err < 0)
				return err;
		}
		return 0;
	}
	bool started[OPTIONS_MAX_REPLICAS] = { false };
	for (unsigned i = 0; i < f->scale; i++) {
		if (!f->replicas[i].pod.pid)
			started[i] = fleet_start_pod(f, &f->replicas[i]) == 0;
	}
	for (unsigned i = 0; i < f->scale; i++) {
		struct replica *r = &f->replicas[i];
		if (!started[i] && r->pod.pid)
			continue; /* was already running */
		int err = started[i] ? fleet_wait_ready(f, r) : -ECHILD;
		if (err == 0) {
			if (count_restart)
				r->restarts++;
			fleet_publish(r);
			continue;
		}
		if (err == -EINTR)
			return err;
		pod_kill(&r->pod);
		err = fleet_bring_up(f, r, count_restart); /* one more, by itself */
		if (err < 0)
			return err;
	}
	return 0;
}

/* See fleet.h. */
void fleet_mark_all_dying(struct fleet *f)
{
	for (unsigned i = 0; i < f->count; i++) {
		struct replica *r = &f->replicas[i];
		atomic_store(&r->dying, true);
		atomic_fetch_add(&r->epoch, 1);
		atomic_store(&r->endpoint, 0);
	}
}

/* See fleet.h. */
void fleet_kill_all(struct fleet *f)
{
	for (unsigned i = 0; i < f->count; i++) {
		if (f->replicas[i].pod.pid)
			fleet_take_down(f, &f->replicas[i], false);
	}
}

/* See fleet.h. */
void fleet_stop_all(struct fleet *f)
{
	for (unsigned i = f->count; i-- > 0;) {
		if (f->replicas[i].pod.pid)
			fleet_take_down(f, &f->replicas[i], true);
	}
}

/* See fleet.h. */
int fleet_kill_and_restart(struct fleet *f, struct replica *r)
{
	pid_t pid = r->pod.pid;
	fleet_take_down(f, r, false);
	uint64_t t0 = util_now_ns();
	int err = fleet_bring_up(f, r, true);
	if (err == 0)
		timeline_add(f->timeline, "kill-replica",
			     "%s %s (pid %d); restarted on %s at revision %u, ready in %.0f ms",
			     f->podman ? "podman kill" : "SIGKILL", r->pod_name, (int)pid, r->claim_name,
			     r->revision, (double)(util_now_ns() - t0) / 1e6);
	return err;
}

/* See fleet.h. */
int fleet_supervise(struct fleet *f)
{
	for (unsigned i = 0; i < f->scale; i++) {
		struct replica *r = &f->replicas[i];
		int status;
		if (!r->pod.pid || !pod_poll(&r->pod, &status))
			continue;
		fleet_take_down(f, r, false);
		timeline_add(f->timeline, "crash", "%s exited on its own (%s %d); restarting", r->pod_name,
			     WIFSIGNALED(status) ? "signal" : "status",
			     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		if (++r->crash_streak > FLEET_MAX_CRASH_STREAK) {
			util_say("claimfs-harness: %s keeps crashing; its log:", r->pod_name);
			util_print_tail(r->log_path, 15, "  | ");
			return -ECHILD;
		}
		int err = fleet_bring_up(f, r, true);
		if (err < 0)
			return err;
	}
	return 0;
}

/* See fleet.h. */
int fleet_rolling_update(struct fleet *f)
{
	unsigned low = f->opts->partition;
	f->update_revision++;
	if (f->opts->update_strategy == UPDATE_ON_DELETE) {
		timeline_add(f->timeline, "rolling-update",
			     "template revision %u (OnDelete): no pod restarted; each takes it when deleted",
			     f->update_revision);
		return 0;
	}
	timeline_add(f->timeline, "rolling-update", "rolling update: ordinals %u..%u, highest first",
		     f->count - 1, low);
	for (unsigned i = f->count; i-- > low;) {
		struct replica *r = &f->replicas[i];
		if (i >= f->scale)
			continue;
		uint64_t t0 = util_now_ns();
		fleet_take_down(f, r, true);
		r->revision = f->update_revision;
		int err = fleet_bring_up(f, r, true);
		if (err < 0)
			return err;
		timeline_add(f->timeline, "rolling-update", "%s updated to revision %u, ready in %.0f ms",
			     r->pod_name, r->revision, (double)(util_now_ns() - t0) / 1e6);
	}
	return 0;
}

/* See fleet.h. */
int fleet_scale_down(struct fleet *f)
{
	for (unsigned i = f->scale; i-- > 1;) {
		struct replica *r = &f->replicas[i];
		fleet_take_down(f, r, true);
		r->scaled_down = true;
		char writer[128];
		int err = verdict_read_visits(r->visits_path, &r->scale_left_with, writer, sizeof(writer));
		if (err < 0 && err != -ENOENT)
			r->scale_left_with = -1;
	}
	f->scale = 1;
	timeline_add(f->timeline, "scale", "scaled %s to 1 replica (claims retained)", f->opts->statefulset);
	return 0;
}

/* Probe a scaled-up ordinal before it joins the service: its first visit
 * must continue from the count it left behind. */
static void fleet_scale_probe(struct replica *r)
{
	char writer[128];
	int err = verdict_read_visits(r->visits_path, &r->scale_came_back, writer, sizeof(writer));
	if (err < 0 && err != -ENOENT)
		r->scale_came_back = -1;
	long answer = -1;
	if (load_visit_port(r, r->port, &answer) != LOAD_ACKED)
		answer = -1;
	r->scale_first_answer = answer;
	r->scale_checked = true;
}

/* See fleet.h. */
int fleet_scale_up(struct fleet *f)
{
	unsigned from = f->scale;
	f->scale = f->count;
	bool parallel = f->opts->pod_management == POD_MANAGEMENT_PARALLEL;
	for (unsigned i = from; i < f->count && parallel; i++) {
		if (fleet_start_pod(f, &f->replicas[i]) < 0)
			pod_kill(&f->replicas[i].pod);
	}
	for (unsigned i = from; i < f->count; i++) {
		struct replica *r = &f->replicas[i];
		int err;
		if (r->pod.pid) {
			err = fleet_wait_ready(f, r);
			if (err < 0 && err != -EINTR) {
				pod_kill(&r->pod);
				err = fleet_boot(f, r); /* one more, by itself */
			}
		} else {
			err = fleet_boot(f, r);
		}
		if (err < 0)
			return err;
		fleet_scale_probe(r);
		r->scaled_down = false;
		r->restarts++;
		fleet_publish(r);
	}
	timeline_add(f->timeline, "scale", "scaled %s back to %u replicas", f->opts->statefulset, f->count);
	return 0;
}

/* See fleet.h. */
unsigned long fleet_count_syscall_errors(struct fleet *f)
{
	unsigned long total = 0;
	for (unsigned i = 0; i < f->count; i++) {
		struct replica *r = &f->replicas[i];
		char line[1024];
		FILE *log = fopen(r->log_path, "re");
		r->syscall_errors = 0;
		while (log && fgets(line, sizeof(line), log))
			r->syscall_errors += strstr(line, APP_SYSCALL_FAILED) != NULL;
		if (log)
			fclose(log);
		total += r->syscall_errors;
	}
	return total;
}

/* See fleet.h. */
unsigned fleet_running(const struct fleet *f)
{
	unsigned n = 0;
	for (unsigned i = 0; i < f->count; i++)
		n += f->replicas[i].pod.pid != 0;
	return n;
}

/* See fleet.h. */
unsigned fleet_ready(struct fleet *f)
{
	unsigned n = 0;
	for (unsigned i = 0; i < f->count; i++)
		n += atomic_load(&f->replicas[i].endpoint) != 0;
	return n;
}
