/*
 * run.c — one harness run (see run.h): set-up, the controller loop, the
 * verdict, the reports, and the clean-up that runs on every exit path.
 *
 * The controller (this thread) owns every process: the daemon, the pods.
 * Worker threads (load.c) and the progress thread only read atomics.
 *
 * States: SETUP (work dir, daemon, claims, baselines, pods) → LOAD (events
 * interleaved with visits) → DRAIN (workers joined, pods stopped gracefully)
 * → JUDGE → REPORT; any state may end in CLEANUP directly (error, Ctrl-C).
 * CLEANUP order: stop issuing visits, SIGKILL pods (unblocks clients), join
 * clients, stop the daemon (unmount), detach anything left below the work
 * directory, remove it.
 */
#include "run.h"
#include "chaos.h"
#include "claims.h"
#include "daemon_ctl.h"
#include "files.h"
#include "fleet.h"
#include "load.h"
#include "podman.h"
#include "progress.h"
#include "report.h"
#include "timeline.h"
#include "util.h"
#include "verdict.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RUN_DAEMON_READY_MS 20000
#define RUN_SAMPLE_PERIOD_NS 100000000ull

struct run {
	const struct options *opts;
	char workdir[PATH_MAX];
	bool have_workdir;
	struct daemon_ctl daemon;
	bool own_daemon;
	struct http_endpoint external_api;
	char mount_dir[PATH_MAX];
	struct claims claims;
	struct fleet fleet;
	bool have_fleet;
	struct podman podman;
	bool have_podman;
	struct load load;
	struct chaos_plan plan;
	struct chaos_ctx chaos;
	struct timeline timeline;
	struct progress progress;
	char self_exe[PATH_MAX];
	uint64_t load_t0, load_t1;
	unsigned daemon_crashes;
	char error[320];
};

/* Remember the first fatal error. */
static void run_error(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void run_error(struct run *run, const char *fmt, ...)
{
	if (run->error[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(run->error, sizeof(run->error), fmt, ap);
	va_end(ap);
}

/* mkdtemp below $TMPDIR (or /tmp), traversable by the pods' users. */
static int run_make_workdir(struct run *run)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (util_format(run->workdir, sizeof(run->workdir), "%s/claimfs-harness.XXXXXX", tmp) < 0)
		return -ENAMETOOLONG;
	if (!mkdtemp(run->workdir))
		return -errno;
	run->have_workdir = true;
	return chmod(run->workdir, 0755) < 0 ? -errno : 0;
}

/* Start our own daemon, or connect to --api / --mount. */
static int run_setup_daemon(struct run *run)
{
	const struct options *o = run->opts;
	int r;
	if (o->api_url) {
		r = http_endpoint_parse(o->api_url, &run->external_api);
		if (r == 0 && run->external_api.unix_socket)
			r = -EINVAL; /* claimfsd's TCP API only, as before */
		if (r == 0)
			r = http_endpoint_resolve(&run->external_api);
		if (r < 0) {
			run_error(run, "--api %s: expected http://HOST:PORT (%s)", o->api_url, strerror(-r));
			return r;
		}
		if (!realpath(o->mount_dir, run->mount_dir)) {
			run_error(run, "--mount %s: %s", o->mount_dir, strerror(errno));
			return -errno;
		}
		util_endpoint_harness(&run->external_api);
		run->claims.api = &run->external_api;
		return 0;
	}
	char binary[PATH_MAX];
	r = daemon_ctl_find_binary(o->claimfsd, run->self_exe, binary, sizeof(binary));
	if (r < 0) {
		run_error(run, "cannot find claimfsd (give --claimfsd PATH or set $CLAIMFSD)");
		return r;
	}
	r = daemon_ctl_init(&run->daemon, binary, run->workdir, o->runtime == RUNTIME_PODMAN, o->supervise);
	if (r < 0) {
		run_error(run, "preparing the daemon's directory: %s", strerror(-r));
		return r;
	}
	run->own_daemon = true;
	r = daemon_ctl_start(&run->daemon, RUN_DAEMON_READY_MS);
	if (r < 0) {
		run_error(run, "claimfsd did not start: %s", strerror(-r));
		return r;
	}
	run->claims.api = &run->daemon.api;
	return util_copy(run->mount_dir, sizeof(run->mount_dir), run->daemon.mount);
}

/* Wait for every claim directory, then record what each file holds now. */
static int run_read_baselines(struct run *run)
{
	for (unsigned i = 0; i < run->fleet.count; i++) {
		struct replica *r = &run->fleet.replicas[i];
		struct stat st;
		uint64_t deadline = util_now_ns() + 5000000000ull;
		while (stat(r->claim_path, &st) < 0 || !S_ISDIR(st.st_mode)) {
			if (util_interrupted())
				return -EINTR;
			if (util_now_ns() > deadline) {
				run_error(run, "claim %s is Bound but %s is not a directory", r->claim_name, r->claim_path);
				return -ENOENT;
			}
			util_sleep_ms(20);
		}
		char writer[128];
		int err = verdict_read_visits(r->visits_path, &r->baseline, writer, sizeof(writer));
		if (err < 0 && err != -ENOENT) {
			run_error(run, "cannot read %s: %s", r->visits_path, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* --runtime podman: configuration, image, the claims as volumes. */
static int run_setup_podman(struct run *run)
{
	const struct options *o = run->opts;
	int r = podman_init(&run->podman, o, run->workdir, run->daemon.plugin_socket);
	run->have_podman = r == 0;
	if (r == 0)
		r = podman_prepare_image(&run->podman, o, run->workdir);
	if (r == 0)
		r = podman_adopt_volumes(&run->podman);
	if (r < 0)
		run_error(run, "cannot prepare podman: %s", strerror(-r));
	return r;
}

/* Everything before the load starts. */
static int run_setup(struct run *run)
{
	const struct options *o = run->opts;
	int r = run_make_workdir(run);
	if (r < 0) {
		run_error(run, "cannot create a temporary directory: %s", strerror(-r));
		return r;
	}
	ssize_t n = readlink("/proc/self/exe", run->self_exe, sizeof(run->self_exe) - 1);
	run->self_exe[n > 0 ? n : 0] = '\0';
	r = run_setup_daemon(run);
	if (r < 0)
		return r;
	run->claims.opts = o;
	r = claims_ensure(&run->claims);
	if (r < 0) {
		run_error(run, "cannot provision the claims: %s", strerror(-r));
		return r;
	}
	if (o->runtime == RUNTIME_PODMAN) {
		r = run_setup_podman(run);
		if (r < 0)
			return r;
	}
	r = fleet_init(&run->fleet, o, &run->timeline, run->workdir, run->mount_dir,
		       run->have_podman ? &run->podman : NULL);
	run->have_fleet = run->fleet.replicas != NULL;
	if (r < 0) {
		run_error(run, "cannot prepare the replicas: %s", strerror(-r));
		return r;
	}
	r = run_read_baselines(run);
	if (r < 0)
		return r;
	timeline_add(&run->timeline, "setup", "%s%s; claims %s-%s-0..%u %s; replicas %s%s%s",
		     run->own_daemon ? "claimfsd started on a private store" : "using the running claimfsd",
		     o->supervise ? " (--supervise)" : "",
		     o->claim_template, o->statefulset, o->replicas - 1,
		     run->claims.via_statefulset ? "from the StatefulSet API" : "created as PVCs",
		     run->have_podman ? "are podman containers, their claims volumes at "
		     : run->fleet.namespaced ? "see them at " : "see them in their own directories",
		     run->fleet.namespaced || run->have_podman ? o->mount_path : "",
		     run->have_podman ? " (volume plugin)" : "");
	r = fleet_start_all(&run->fleet, false);
	if (r < 0) {
		run_error(run, "the replicas did not start: %s", strerror(-r));
		return r;
	}
	timeline_add(&run->timeline, "ready", "%u replicas ready (%s)", o->replicas,
		     options_pod_management_name(o->pod_management));
	r = chaos_plan_make(o, &run->plan);
	if (r < 0)
		return r;
	run->chaos = (struct chaos_ctx){ .opts = o, .fleet = &run->fleet,
					 .daemon = run->own_daemon ? &run->daemon : NULL,
					 .claims = &run->claims, .timeline = &run->timeline };
	run->load_t0 = util_now_ns();
	r = load_start(&run->load, o, run->fleet.replicas, run->fleet.count, chaos_gate(&run->plan, o->requests));
	if (r < 0) {
		run_error(run, "cannot start the clients: %s", strerror(-r));
		return r;
	}
	return progress_start(&run->progress, o, &run->load, &run->fleet, &run->chaos);
}

/* The daemon died without being told to: a bug worth failing for. */
static int run_daemon_crashed(struct run *run, int status)
{
	run->daemon_crashes++;
	timeline_add(&run->timeline, "daemon-crash", "claimfsd exited on its own (%s %d); restarting it",
		     WIFSIGNALED(status) ? "signal" : "status",
		     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	util_print_tail(run->daemon.log_path, 10, "  claimfsd | ");
	fleet_mark_all_dying(&run->fleet);
	return chaos_recover_daemon(&run->chaos);
}

/* --supervise: a worker that died without being killed is a crash too
 * (the supervisor replaced it; the replicas may not even notice). */
static void run_check_worker(struct run *run)
{
	pid_t worker;
	if (!run->own_daemon || !daemon_ctl_worker_replaced(&run->daemon, &worker))
		return;
	run->daemon_crashes++;
	timeline_add(&run->timeline, "daemon-crash",
		     "claimfsd's worker (pid %d) died on its own; the supervisor replaced it", (int)worker);
	util_print_tail(run->daemon.log_path, 10, "  claimfsd | ");
}

/* The controller loop: supervise, perform due events, sample files. */
static int run_loop(struct run *run)
{
	const struct options *o = run->opts;
	uint64_t last_sample = 0;
	for (;;) {
		int status, r;
		if (util_interrupted())
			return -EINTR;
		if (run->own_daemon && daemon_ctl_poll(&run->daemon, &status)) {
			r = run_daemon_crashed(run, status);
			if (r < 0) {
				run_error(run, "claimfsd could not be brought back: %s", strerror(-r));
				return r;
			}
		}
		r = fleet_supervise(&run->fleet);
		if (r < 0) {
			run_error(run, "a replica could not be kept running: %s", strerror(-r));
			return r;
		}
		const struct chaos_event *due = chaos_peek(&run->plan);
		if (due && load_issued(&run->load) >= due->at) {
			struct chaos_event e = *due;
			run->plan.next++;
			load_set_gate(&run->load, chaos_gate(&run->plan, o->requests));
			r = chaos_execute(&run->chaos, &e);
			if (r < 0) {
				run_error(run, "%s failed: %s", chaos_kind_name(e.kind), strerror(-r));
				return r;
			}
			continue;
		}
		if (!due && load_completed(&run->load) >= o->requests) {
			/* A worker that died since the last sample counts too. */
			run_check_worker(run);
			return 0;
		}
		uint64_t now = util_now_ns();
		if (now - last_sample >= RUN_SAMPLE_PERIOD_NS && (!run->own_daemon || run->daemon.pid)) {
			verdict_sample(run->fleet.replicas, run->fleet.count);
			run_check_worker(run);
			last_sample = now;
		}
		util_sleep_ms(1);
	}
}

/* --logs: keep copies of the logs before the work directory goes. */
static void run_save_logs(struct run *run)
{
	const char *dir = run->opts->logs_dir;
	char dst[PATH_MAX];
	int r = files_mkdirs(dir, 0755);
	if (r == 0 && run->own_daemon && util_format(dst, sizeof(dst), "%s/claimfsd.log", dir) == 0)
		r = util_copy_file(run->daemon.log_path, dst);
	for (unsigned i = 0; r >= 0 && run->have_fleet && i < run->fleet.count; i++) {
		const struct replica *rep = &run->fleet.replicas[i];
		if (util_format(dst, sizeof(dst), "%s/%s.log", dir, rep->pod_name) < 0)
			r = -ENAMETOOLONG;
		else if (access(rep->log_path, F_OK) == 0)
			r = util_copy_file(rep->log_path, dst);
	}
	if (r < 0)
		util_say("claimfs-harness: cannot save the logs to %s: %s", dir, strerror(-r));
}

/* Remove our containers and volumes while the plugin still answers. */
static void run_cleanup_podman(struct run *run)
{
	const char *pods[OPTIONS_MAX_REPLICAS], *claims[OPTIONS_MAX_REPLICAS];
	unsigned n = run->have_fleet ? run->fleet.count : 0;
	for (unsigned i = 0; i < n; i++) {
		pods[i] = run->fleet.replicas[i].pod_name;
		claims[i] = run->fleet.replicas[i].claim_name;
	}
	podman_cleanup(&run->podman, pods, n, claims, n);
	podman_free(&run->podman);
	run->have_podman = false;
}

/* Stop everything we started and remove the work directory. */
static void run_cleanup(struct run *run)
{
	atomic_store(&run->load.stop, true);
	if (run->have_fleet)
		fleet_kill_all(&run->fleet);
	load_stop(&run->load);
	progress_stop(&run->progress);
	if (run->have_podman)
		run_cleanup_podman(run);
	if (run->own_daemon)
		daemon_ctl_stop(&run->daemon, 10000);
	if (run->have_workdir && run->opts->logs_dir)
		run_save_logs(run);
	if (run->have_workdir) {
		util_detach_under(run->workdir);
		int r = util_remove_tree(run->workdir);
		if (r < 0)
			util_say("claimfs-harness: could not remove %s: %s", run->workdir, strerror(-r));
	}
	fleet_free(&run->fleet);
	chaos_plan_free(&run->plan);
}

/* Print what the run is going to do. */
static void run_banner(const struct run *run)
{
	const struct options *o = run->opts;
	if (o->quiet)
		return;
	const char *app = o->app ? o->app : o->command;
	util_say("claimfs-harness: StatefulSet %s, %u replicas of %s%s%s%s, %lu visits by %u clients (%s), "
		 "%u replica kills, %u %s kills%s%s%s%s; seed %llu",
		 o->statefulset, o->replicas, app ? "'" : "the built-in visits app", app ? app : "",
		 app ? "'" : "", o->runtime == RUNTIME_PODMAN ? " in podman containers" : "", o->requests,
		 o->concurrency, options_balance_name(o->balance), o->kill_replicas, o->kill_daemon,
		 o->supervise ? "daemon worker" : "daemon",
		 o->rolling_update ? ", template update (" : "",
		 o->rolling_update ? options_update_strategy_name(o->update_strategy) : "",
		 o->rolling_update ? ")" : "", o->scale_cycle ? ", scale cycle" : "",
		 (unsigned long long)o->seed);
	if (o->broken)
		util_say("claimfs-harness: self-test: the app is deliberately broken (%s); this run must FAIL",
			 options_broken_name(o->broken));
}

/* Fill the report, print it, write the files. */
static void run_report(struct run *run, enum report_result result, unsigned inconsistent, bool judged)
{
	const struct options *o = run->opts;
	struct report rep = {
		.opts = o, .replicas = run->fleet.replicas, .count = run->fleet.count,
		.timeline = &run->timeline, .result = result, .error = run->error[0] ? run->error : NULL,
		.inconsistent = inconsistent, .visits_done = load_completed(&run->load),
		.retries = atomic_load(&run->load.retries),
		.load_seconds = run->load_t0 && run->load_t1 > run->load_t0
					? (double)(run->load_t1 - run->load_t0) / 1e9 : 0,
		.replica_kills = atomic_load(&run->chaos.replica_kills),
		.daemon_kills = atomic_load(&run->chaos.daemon_kills), .daemon_crashes = run->daemon_crashes,
		.via_statefulset = run->claims.via_statefulset, .namespaced = run->fleet.namespaced,
		.judged = judged && run->fleet.replicas,
	};
	for (unsigned i = 0; rep.judged && i < run->fleet.count; i++) {
		rep.syscall_errors += run->fleet.replicas[i].syscall_errors;
		rep.failed_visits += atomic_load(&run->fleet.replicas[i].failed);
	}
	report_table(&rep, stdout);
	if (o->json_path)
		report_json(&rep, o->json_path);
	if (o->junit_path)
		report_junit(&rep, o->junit_path);
}

/* See run.h. */
int run_harness(const struct options *opts)
{
	struct run *run = calloc(1, sizeof(*run));
	if (!run) {
		fprintf(stderr, "claimfs-harness: out of memory\n");
		return 2;
	}
	run->opts = opts;
	timeline_init(&run->timeline, opts->quiet);
	int r = util_signals_install();
	if (r == 0) {
		run_banner(run);
		r = run_setup(run);
	}
	if (r == 0)
		r = run_loop(run);
	run->load_t1 = util_now_ns();
	if (r == 0) {
		load_stop(&run->load);
		progress_stop(&run->progress);
		fleet_stop_all(&run->fleet);
	}
	int exit_code;
	if (util_interrupted()) {
		progress_stop(&run->progress);
		util_say("claimfs-harness: interrupted by signal %d; stopping replicas and the daemon",
			 util_interrupt_signal());
		exit_code = 128 + util_interrupt_signal();
	} else if (r < 0) {
		progress_stop(&run->progress);
		run_error(run, "%s", strerror(-r));
		run_report(run, REPORT_ERROR, 0, false);
		exit_code = 2;
	} else {
		fleet_count_syscall_errors(&run->fleet);
		unsigned bad = verdict_judge(run->fleet.replicas, run->fleet.count, opts->scale_cycle,
					     opts->supervise);
		/* A daemon that died by itself is a failure even if no data was lost. */
		run_report(run, bad || run->daemon_crashes ? REPORT_FAIL : REPORT_PASS, bad, true);
		exit_code = bad || run->daemon_crashes ? 1 : 0;
	}
	run_cleanup(run);
	timeline_free(&run->timeline);
	free(run);
	return exit_code;
}
