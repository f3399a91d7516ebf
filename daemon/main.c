/*
 * main.c — claimfsd: option parsing, start-up and shutdown order, signals.
 *
 * Start-up is one step per function, in this order: main_parse ->
 * main_read_secrets -> main_start_signals -> main_open_store (lock,
 * migrate, reclaim) -> main_mount (detach a stale mount, mount) ->
 * main_serve_api (model, HTTP API) -> main_start_timers ->
 * main_announce_ready -> main_serve_fuse until a signal. main_stop runs the
 * same steps backwards, from wherever start-up got to; the store's final
 * commit comes last, after nothing can change it any more.
 *
 * With --supervise, main hands over to supervisor_run (supervisor.c), which
 * mounts and runs this binary again as a worker: a worker (worker.c) skips
 * the mount steps, serves the supervisor's /dev/fuse descriptor, reports
 * its uncommitted changes to the supervisor's record and opens the store
 * without reclaiming files the kernel may still use.
 *
 * Signals: SIGTERM/SIGINT/SIGHUP are blocked in every thread and taken by
 * one signal thread (sigwait), which ends the FUSE loop and wakes the main
 * thread with SIGUSR1 (its handler does nothing; the interruption is the point).
 */
#include "cmdline.h"
#include "files.h"
#include "fs.h"
#include "http.h"
#include "http_listen.h"
#include "log.h"
#include "model.h"
#include "names.h"
#include "store.h"
#include "supervisor.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAIN_DEFAULT_STORE "/var/lib/claimfs/claimfs.db"
#define MAIN_DEFAULT_MOUNT "/var/lib/claimfs/volumes"
#define MAIN_DEFAULT_LISTEN "127.0.0.1:8080"
/* Where Docker looks for plugin sockets (Podman is told in containers.conf). */
#define MAIN_DEFAULT_PLUGIN_SOCKET "/run/docker/plugins/claimfs.sock"
#define MAIN_DEFAULT_VOLUME_NAMESPACE "default"
#define MAIN_MAX_BODY (1024 * 1024)
#define MAIN_MAX_PEM (1024 * 1024) /* a certificate chain or key file */
#define MAIN_OVERCOMMIT_MAX 1000.0

struct main_options {
	const char *store_path;
	const char *mountpoint;
	const char *listen;
	const char *unix_socket;
	const char *volume_plugin_socket; /* NULL: none */
	const char *volume_namespace;
	bool volume_plugin_default;       /* not given: the default path, when root */
	const char *port_file;
	const char *token_file;
	const char *tls_cert_file;
	const char *tls_key_file;
	unsigned commit_interval_ms;
	unsigned stream_mib_per_s;
	unsigned threads;
	int64_t event_ttl_s;
	double overcommit;
	bool fuse_debug;
	bool check;
	bool repair;
	const char *backup; /* --backup FILE, "-": stdout */
	bool supervise;
	bool compact;
};

/* Shared between the main, signal and timer threads. */
static atomic_bool main_stopping;
static atomic_bool main_serving; /* main thread is inside fs_run */
static atomic_bool main_ready;
static struct fs *main_fs;        /* set before main_serving, cleared after */
static pthread_t main_thread;

/* --listen: "none" disables TCP. */
static int main_set_listen(void *opts, const char *argument)
{
	struct main_options *o = opts;

	o->listen = strcmp(argument, "none") == 0 ? NULL : argument;
	return 0;
}

/* --volume-plugin-socket: "none" disables the volume plugin. */
static int main_set_volume_plugin_socket(void *opts, const char *argument)
{
	struct main_options *o = opts;

	if (argument[0] == '\0')
		return -EINVAL;
	o->volume_plugin_socket = strcmp(argument, "none") == 0 ? NULL : argument;
	o->volume_plugin_default = false;
	return 0;
}

/* --volume-namespace: a namespace name (DNS-1123 label). */
static int main_set_volume_namespace(void *opts, const char *argument)
{
	struct main_options *o = opts;
	char msg[NAMES_FIELD_DETAIL_MAX];

	if (names_check_label(argument, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "claimfsd: --volume-namespace '%s': %s\n", argument, msg);
		return -EINVAL;
	}
	o->volume_namespace = argument;
	return 0;
}

/* --log-level applies at once, so that start-up is logged at that level. */
static int main_set_log_level(void *opts, const char *argument)
{
	int level = log_level_parse(argument);

	(void)opts;
	if (level < 0)
		return -EINVAL;
	log_set_level((enum log_level)level);
	return 0;
}

/* A Go duration ("1h0m0s", "90s", "1.5h", "500ms") in whole seconds, rounded
 * up; as the apiserver's --event-ttl takes it. */
static int main_parse_duration(const char *text, int64_t *ret_seconds)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = { { "ns", 1 }, { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "ms", 1e6 },
		      { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 } };
	const char *p = text;
	double total = 0;

	if (strcmp(text, "0") == 0) {
		*ret_seconds = 0;
		return 0;
	}
	while (*p != '\0') {
		char *end;
		size_t best = 0, best_len = 0;
		double value;

		if ((*p < '0' || *p > '9') && *p != '.')
			return -EINVAL;
		errno = 0;
		value = strtod(p, &end);
		if (errno != 0 || end == p)
			return -EINVAL;
		p = end;
		/* The longest unit that matches ("ms" before "m"). */
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strncmp(p, units[i].unit, strlen(units[i].unit)) == 0 &&
			    strlen(units[i].unit) > best_len) {
				best = i;
				best_len = strlen(units[i].unit);
			}
		if (best_len == 0)
			return -EINVAL;
		p += best_len;
		total += value * units[best].ns;
	}
	if (p == text || total > 1e9 * 3600 * 24 * 365 * 100)
		return -EINVAL;
	*ret_seconds = (int64_t)((total + 1e9 - 1) / 1e9);
	return 0;
}

/* --event-ttl: a positive Go duration. */
static int main_set_event_ttl(void *opts, const char *argument)
{
	struct main_options *o = opts;
	int64_t seconds;

	if (main_parse_duration(argument, &seconds) < 0 || seconds == 0)
		return -EINVAL;
	o->event_ttl_s = seconds;
	return 0;
}

/* --overcommit: a decimal ratio, 1 to MAIN_OVERCOMMIT_MAX (no signs,
 * exponents, hex or "inf" that strtod would take). */
static int main_set_overcommit(void *opts, const char *argument)
{
	struct main_options *o = opts;
	char *end;
	double ratio;

	if (argument[0] == '\0' || strspn(argument, "0123456789.") != strlen(argument))
		return -EINVAL;
	errno = 0;
	ratio = strtod(argument, &end);
	if (errno != 0 || *end != '\0' || !(ratio >= 1.0 && ratio <= MAIN_OVERCOMMIT_MAX))
		return -EINVAL;
	o->overcommit = ratio;
	return 0;
}

#define MAIN_OPT(field) offsetof(struct main_options, field)

/* The command line, in --help order. */
static const struct cmdline_option main_options_table[] = {
	{ .name = "store", .kind = CMDLINE_STRING, .offset = MAIN_OPT(store_path), .arg = "FILE",
	  .help = "SQLite store (default " MAIN_DEFAULT_STORE ");\n"
		  "created if missing, locked while the daemon runs" },
	{ .name = "mount", .kind = CMDLINE_STRING, .offset = MAIN_OPT(mountpoint), .arg = "DIR",
	  .help = "mount point (default " MAIN_DEFAULT_MOUNT ");\n"
		  "a stale claimfs mount left there by a crash is detached" },
	{ .name = "listen", .kind = CMDLINE_CALL, .set = main_set_listen, .arg = "HOST:PORT",
	  .help = "HTTP API address (default " MAIN_DEFAULT_LISTEN "); port 0 picks a\n"
		  "free port; 'none' disables TCP" },
	{ .name = "unix-socket", .kind = CMDLINE_STRING, .offset = MAIN_OPT(unix_socket),
	  .arg = "PATH", .help = "also serve the API on a unix socket" },
	{ .name = "volume-plugin-socket", .kind = CMDLINE_CALL, .set = main_set_volume_plugin_socket,
	  .arg = "PATH", .invalid = "--volume-plugin-socket takes a path or 'none', not '%s'",
	  .help = "serve the Docker/Podman volume plugin protocol there (default\n"
		  MAIN_DEFAULT_PLUGIN_SOCKET " when run as root; 'none'\n"
		  "disables it); see README.md, Local containers" },
	{ .name = "volume-namespace", .kind = CMDLINE_CALL, .set = main_set_volume_namespace,
	  .arg = "NS", .help = "the namespace whose claims are the plugin's volumes\n"
			       "(default " MAIN_DEFAULT_VOLUME_NAMESPACE ")" },
	{ .name = "port-file", .kind = CMDLINE_STRING, .offset = MAIN_OPT(port_file), .arg = "FILE",
	  .help = "write the bound TCP port to FILE once the API and mount are up" },
	{ .name = "token-file", .kind = CMDLINE_STRING, .offset = MAIN_OPT(token_file), .arg = "FILE",
	  .help = "require \"Authorization: Bearer <token>\" (the token is the\n"
		  "file's first line) on every request but the health probes;\n"
		  "needed to listen on a non-loopback address" },
	{ .name = "tls-cert-file", .kind = CMDLINE_STRING, .offset = MAIN_OPT(tls_cert_file),
	  .arg = "FILE", .help = "serve the TCP API over HTTPS with this PEM certificate" },
	{ .name = "tls-key-file", .kind = CMDLINE_STRING, .offset = MAIN_OPT(tls_key_file),
	  .arg = "FILE", .help = "... and this PEM key (kubectl sends --token only over TLS)" },
	{ .name = "commit-interval-ms", .kind = CMDLINE_UNSIGNED,
	  .offset = MAIN_OPT(commit_interval_ms), .arg = "N", .min = 1, .max = 60000,
	  .invalid = "--commit-interval-ms takes 1 to 60000, not '%s'",
	  .help = "commit batched changes at least every N ms (default 100)" },
	{ .name = "stream-mib-per-s", .kind = CMDLINE_UNSIGNED, .offset = MAIN_OPT(stream_mib_per_s),
	  .arg = "N", .max = 1000000, .invalid = "--stream-mib-per-s takes 0 to 1000000, not '%s'",
	  .help = "large writes (128 KiB+) coming faster than N MiB/s are a stream:\n"
		  "its WAL is copied into the database after it, not during it\n"
		  "(default 32; 0: never; see README.md)" },
	{ .name = "threads", .kind = CMDLINE_UNSIGNED, .offset = MAIN_OPT(threads), .arg = "N",
	  .min = 1, .max = 1024, .invalid = "--threads takes 1 to 1024, not '%s'",
	  .help = "maximum FUSE worker threads (default: libfuse's)" },
	{ .name = "event-ttl", .kind = CMDLINE_CALL, .set = main_set_event_ttl, .arg = "DURATION",
	  .invalid = "--event-ttl takes a positive duration such as 1h0m0s, 90s or 1.5h, not '%s'",
	  .help = "keep Events this long after they were last recorded\n"
		  "(default 1h0m0s; Go duration syntax: 90s, 30m, 1h30m);\n"
		  "at most 4096 are kept, the oldest go first" },
	{ .name = "overcommit", .kind = CMDLINE_CALL, .set = main_set_overcommit, .arg = "RATIO",
	  .invalid = "--overcommit takes a ratio from 1 to 1000 such as 1.5 (1: claims are never "
		     "promised more than the disk can take), not '%s'",
	  .help = "thin provisioning: claims may be promised up to RATIO times the\n"
		  "space the store can take (default 1: a claim that does not fit\n"
		  "stays Pending until space appears; see README.md, Capacity)" },
	{ .name = "log-level", .kind = CMDLINE_CALL, .set = main_set_log_level, .arg = "LEVEL",
	  .invalid = "--log-level takes error, warn, info or debug, not '%s'",
	  .help = "error, warn, info (default) or debug" },
	{ .name = "fuse-debug", .kind = CMDLINE_FLAG, .offset = MAIN_OPT(fuse_debug),
	  .help = "trace every FUSE request (very verbose)" },
	{ .name = "supervise", .kind = CMDLINE_FLAG, .offset = MAIN_OPT(supervise),
	  .help = "keep the mount in a small supervisor process and serve it from a\n"
		  "worker that is restarted on the same connection when it dies;\n"
		  "SIGHUP starts a new worker from the installed binary (upgrade);\n"
		  "open files survive both (Linux 6.9+; see README.md, Restart model)" },
	{ .name = "check", .kind = CMDLINE_FLAG, .offset = MAIN_OPT(check),
	  .help = "verify the store (daemon stopped) and exit: 0 consistent,\n"
		  "1 problems found (each reported), 2 could not check" },
	{ .name = "backup", .kind = CMDLINE_STRING, .offset = MAIN_OPT(backup), .arg = "FILE",
	  .help = "write a consistent copy of the store to FILE ('-': stdout) and\n"
		  "exit, while a daemon may serve it: writes fsynced or closed\n"
		  "before it are in the copy, which passes --check before it is\n"
		  "reported done (exit 0; 1 the copy failed the check; 2 error)" },
	{ .name = "repair", .kind = CMDLINE_FLAG, .offset = MAIN_OPT(repair),
	  .help = "with --check: also fix what is safe to fix (orphans, counters)" },
	{ .name = "compact", .kind = CMDLINE_FLAG, .offset = MAIN_OPT(compact),
	  .help = "rewrite the store (daemon stopped) without its free space and\n"
		  "exit: 0 done, 1 failed (store unchanged), 2 could not open;\n"
		  "needs free disk space about the store's size; a store made\n"
		  "before claimfs gave space back does so from then on" },
	{ .name = "help", .short_name = 'h', .kind = CMDLINE_HELP, .help = "show this help" },
	{ .name = "version", .short_name = 'V', .kind = CMDLINE_VERSION, .help = "show the version" },
};

/* Options that only make sense together; 0 or -EINVAL (said why). */
static int main_check_options(const struct main_options *o)
{
	if (o->backup != NULL && (o->check || o->backup[0] == '\0')) {
		fprintf(stderr, "claimfsd: --backup takes a file name or '-', and goes alone "
				"(not with --check)\n");
		return -EINVAL;
	}
	if (o->repair && !o->check) {
		fprintf(stderr, "claimfsd: --repair goes with --check\n");
		return -EINVAL;
	}
	if (o->compact && (o->check || o->backup != NULL)) {
		fprintf(stderr, "claimfsd: --compact goes alone (not with --check or --backup)\n");
		return -EINVAL;
	}
	if (!o->listen && !o->unix_socket) {
		fprintf(stderr, "claimfsd: --listen none needs --unix-socket, or the API is unreachable\n");
		return -EINVAL;
	}
	if (!o->tls_cert_file != !o->tls_key_file) {
		fprintf(stderr, "claimfsd: --tls-cert-file and --tls-key-file go together\n");
		return -EINVAL;
	}
	if (o->listen && !o->token_file && !o->check && !o->compact && !http_listen_is_loopback(o->listen)) {
		fprintf(stderr,
			"claimfsd: refusing to serve the API on %s without authentication: that address "
			"is not loopback-only; give --token-file FILE (clients then send "
			"\"Authorization: Bearer <token>\") or listen on 127.0.0.1\n",
			o->listen);
		return -EINVAL;
	}
	return 0;
}

/* Returns 0 to run, 1 to exit successfully (help/version), -EINVAL on bad use. */
static int main_parse(int argc, char **argv, struct main_options *o)
{
	char version[64];
	const struct cmdline_program program = {
		.name = "claimfsd",
		.version = version,
		.options = main_options_table,
		.n_options = sizeof(main_options_table) / sizeof(main_options_table[0]),
		.usage_head =
			"Usage: claimfsd [OPTIONS]\n"
			"\n"
			"Serve claimfs volumes: one FUSE mount whose directories <mount>/<namespace>/<claim>/\n"
			"are volumes stored in one SQLite file, provisioned through a Kubernetes-shaped HTTP API.\n"
			"\n"
			"Options:\n",
		.usage_tail =
			"\n"
			"Durability: fsync(2) makes data survive power loss; close(2) makes it survive a crash\n"
			"of the daemon; see README.md. SIGTERM or SIGINT unmount cleanly.\n",
		.help_column = 27,
		.usage_on_error = true,
		.unexpected = "unexpected argument '%s' (see --help)",
	};
	int r;

	snprintf(version, sizeof(version), "claimfsd %s (store schema %d)", CLAIMFS_VERSION,
		 store_schema_version());
	*o = (struct main_options){ .store_path = MAIN_DEFAULT_STORE, .mountpoint = MAIN_DEFAULT_MOUNT,
				    .listen = MAIN_DEFAULT_LISTEN, .commit_interval_ms = 100,
				    .stream_mib_per_s = STORE_STREAM_DEFAULT_MIB_PER_S,
				    .event_ttl_s = 3600, .overcommit = 1.0,
				    .volume_namespace = MAIN_DEFAULT_VOLUME_NAMESPACE };
	/* Docker and Podman run as root; a daemon run by a user serves no
	 * plugin unless asked. */
	if (geteuid() == 0) {
		o->volume_plugin_socket = MAIN_DEFAULT_PLUGIN_SOCKET;
		o->volume_plugin_default = true;
	}
	r = cmdline_parse(&program, argc, argv, o);
	return r != 0 ? r : main_check_options(o);
}

static void main_wake_handler(int sig)
{
	(void)sig;
}

static void *main_signal_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	if (sigwait(set, &sig) != 0)
		return NULL;
	log_info("received %s, shutting down", strsignal(sig));
	atomic_store(&main_stopping, true);
	/* Keep nudging until the main thread has left the FUSE loop. */
	while (atomic_load(&main_serving)) {
		fs_exit(main_fs);
		pthread_kill(main_thread, SIGUSR1);
		struct timespec pause = { 0, 100 * 1000 * 1000 };
		nanosleep(&pause, NULL);
	}
	return NULL;
}

struct main_timer {
	struct store *store;
	struct model *model; /* the commit timer's periodic model work (model_tick) */
	unsigned interval_ms;
	bool checkpointer; /* the WAL checkpointer, not the commit timer */
	atomic_bool stop;
};

/* Commits batched changes that are older than the interval and lets
 * claims waiting for space bind (model_tick); or, for the checkpointer,
 * copies the WAL into the database every 50 ms and gives free pages back
 * to the host (store_vacuum_tick). Two threads,
 * so that copying a long WAL never holds up the periodic commit. */
static void *main_timer_thread(void *arg)
{
	struct main_timer *t = arg;
	unsigned tick_ms = t->checkpointer ? 50 : t->interval_ms / 2 ? t->interval_ms / 2 : 1;
	struct timespec pause = { tick_ms / 1000, (long)(tick_ms % 1000) * 1000000 };

	while (!atomic_load(&t->stop)) {
		nanosleep(&pause, NULL);
		if (t->checkpointer) {
			store_checkpoint_tick(t->store);
			store_vacuum_tick(t->store);
			continue;
		}
		int r = store_sync_if_older(t->store, t->interval_ms);
		if (r < 0)
			log_warn("periodic commit failed: %s", strerror(-r));
		model_tick(t->model);
	}
	return NULL;
}

static void main_check_report(void *ud, const char *problem, bool repaired)
{
	(void)ud;
	printf("%s%s\n", problem, repaired ? " [repaired]" : "");
}

/* claimfsd --check: exit 0 consistent, 1 problems, 2 could not check. */
static int main_check(const struct main_options *o)
{
	struct store_check_result result = { 0 };
	struct store *store = NULL;
	struct stat st;
	int r;

	if (stat(o->store_path, &st) < 0) {
		fprintf(stderr, "claimfsd: cannot check %s: %s\n", o->store_path, strerror(errno));
		return 2;
	}
	r = store_open(o->store_path, STORE_OPEN_NO_RECLAIM, &store);
	if (r < 0) {
		fprintf(stderr, "claimfsd: cannot check %s: %s\n", o->store_path,
			r == -EBUSY ? "the store is locked: stop the daemon first" : strerror(-r));
		return 2;
	}
	r = store_check(store, o->repair, main_check_report, NULL, &result);
	store_close(store);
	if (r < 0) {
		fprintf(stderr, "claimfsd: check of %s failed: %s\n", o->store_path, strerror(-r));
		return 2;
	}
	printf("%s: %u problem(s) found, %u repaired, %u note(s)\n", o->store_path, result.problems,
	       result.repaired, result.notes);
	return result.problems > result.repaired ? 1 : 0;
}

/* --backup progress on stderr: a line per tenth of the pages, and the last. */
static void main_backup_progress(void *ud, uint64_t done, uint64_t total)
{
	unsigned *last_tenth = ud;
	unsigned tenth = total > 0 ? (unsigned)(done * 10 / total) : 10;

	if (tenth == *last_tenth)
		return;
	*last_tenth = tenth;
	fprintf(stderr, "claimfsd: backup: %" PRIu64 " of %" PRIu64 " pages (%u%%)\n", done, total,
		tenth * 10);
}

/* Send the file at path to stdout. */
static int main_copy_to_stdout(const char *path)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
			r = -EIO;
			break;
		}
	if (n < 0)
		r = -errno;
	close(fd);
	if (fflush(stdout) != 0 && r == 0)
		r = -EIO;
	return r;
}

/* claimfsd --backup FILE|-: exit 0 done, 1 the copy failed its check, 2 error. */
static int main_backup(const struct main_options *o)
{
	struct store_check_result check = { 0 };
	unsigned last_tenth = UINT_MAX;
	struct store_backup_options opts = { .progress = main_backup_progress,
					     .report = main_check_report, .ud = &last_tenth };
	bool to_stdout = strcmp(o->backup, "-") == 0;
	char dest[PATH_MAX];
	int r;

	/* stdout needs a whole checked file first: SQLite writes pages out of order. */
	if (snprintf(dest, sizeof(dest), to_stdout ? "%s.backup-%ld" : "%s",
		     to_stdout ? o->store_path : o->backup, (long)getpid()) >= (int)sizeof(dest)) {
		fprintf(stderr, "claimfsd: --backup: the path is too long\n");
		return 2;
	}
	r = store_backup(o->store_path, dest, &opts, &check);
	if (r == 0 && to_stdout) {
		r = main_copy_to_stdout(dest);
		unlink(dest);
	}
	if (r < 0) {
		fprintf(stderr, "claimfsd: backup of %s failed: %s\n", o->store_path,
			r == -EUCLEAN ? "the copy did not pass --check (problems above)" : strerror(-r));
		return r == -EUCLEAN ? 1 : 2;
	}
	fprintf(stderr, "claimfsd: backup of %s written to %s; --check of the copy: %u problem(s), "
			"%u note(s)\n",
		o->store_path, to_stdout ? "stdout" : o->backup, check.problems, check.notes);
	return 0;
}

/* claimfsd --compact: exit 0 compacted, 1 failed (the store is as it
 * was: VACUUM is one transaction), 2 could not open it. */
static int main_compact(const struct main_options *o)
{
	uint64_t before = 0, after = 0;
	int r = store_compact_file(o->store_path, &before, &after);

	if (r == 0) {
		printf("%s: %llu bytes before, %llu after (store file and WAL)\n", o->store_path,
		       (unsigned long long)before, (unsigned long long)after);
		return 0;
	}
	fprintf(stderr, "claimfsd: cannot compact %s: %s\n", o->store_path,
		r == -EBUSY    ? "the store is locked: stop the daemon first"
		: r == -ENOSPC ? "not enough free disk space for a copy of the store (it is unchanged)"
			       : strerror(-r));
	return r == -EBUSY || r == -ENOENT ? 2 : 1;
}

/* Everything the daemon holds while it runs; main_stop() releases it in
 * the reverse order of the main_* steps that fill it, whatever step failed. */
struct main_daemon {
	struct main_options o;
	char token[4096];
	char *tls_cert, *tls_key;
	sigset_t stop_signals, wake_signal;
	pthread_t signal_thread, timer_thread, checkpoint_thread;
	bool signal_started, timer_started, checkpointer_started;
	struct store *store;
	struct fs *fs;
	struct model *model;
	struct http_server *http;
	struct main_timer timer, checkpointer;
	bool is_worker; /* started by a supervisor (--supervise) */
	struct worker worker;
	char listen[320]; /* --listen with the port an earlier worker bound */
};

/* The token and TLS files, read before anything starts. */
static int main_read_secrets(struct main_daemon *d)
{
	const struct main_options *o = &d->o;
	int r;

	if (o->token_file) {
		r = files_read_token(o->token_file, d->token, sizeof(d->token));
		if (r < 0) {
			fprintf(stderr, "claimfsd: cannot read a token from %s: %s\n", o->token_file,
				r == -ENODATA ? "the file holds no token" : strerror(-r));
			return r;
		}
	}
	if (o->tls_cert_file &&
	    ((r = files_read(o->tls_cert_file, MAIN_MAX_PEM, &d->tls_cert)) < 0 ||
	     (r = files_read(o->tls_key_file, MAIN_MAX_PEM, &d->tls_key)) < 0)) {
		fprintf(stderr, "claimfsd: cannot read %s: %s\n",
			d->tls_cert == NULL ? o->tls_cert_file : o->tls_key_file, strerror(-r));
		return r;
	}
	return 0;
}

/* Block the stop signals (before any thread exists, so every thread
 * inherits the mask) and start the thread that takes them. */
static int main_start_signals(struct main_daemon *d)
{
	struct sigaction sa = { .sa_handler = main_wake_handler };

	sigemptyset(&d->stop_signals);
	sigaddset(&d->stop_signals, SIGTERM);
	sigaddset(&d->stop_signals, SIGINT);
	sigaddset(&d->stop_signals, SIGHUP);
	sigemptyset(&d->wake_signal);
	sigaddset(&d->wake_signal, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &d->stop_signals, NULL);
	pthread_sigmask(SIG_BLOCK, &d->wake_signal, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	main_thread = pthread_self();
	if (pthread_create(&d->signal_thread, NULL, main_signal_thread, &d->stop_signals) != 0) {
		log_error("cannot start the signal thread");
		return -EAGAIN;
	}
	d->signal_started = true;
	return 0;
}

/* Open (lock, migrate, reclaim) the store, creating its directory. */
static int main_open_store(struct main_daemon *d)
{
	const char *path = d->o.store_path;
	int r = files_make_parent_dirs(path, 0755);

	if (r < 0) {
		log_error("cannot create the directory of %s: %s", path, strerror(-r));
		return r;
	}
	unsigned flags = 0;
	if (d->is_worker) {
		/* The kernel may use files unlinked while open for as long as the
		 * connection lives, which is longer than this worker. */
		flags |= STORE_OPEN_KEEP_ORPHANS;
		if (fs_conn_record_present(d->worker.record_fd) == 1)
			flags |= STORE_OPEN_ADOPT_ORPHANS;
	}
	r = store_open(path, flags, &d->store);
	if (r == 0 && d->is_worker)
		r = worker_watch_store(&d->worker, d->store);
	if (r == -EBUSY)
		fprintf(stderr, "claimfsd: the store %s is locked: another claimfsd is using it\n", path);
	else if (r < 0)
		fprintf(stderr, "claimfsd: cannot open the store %s: %s\n", path, strerror(-r));
	if (r < 0)
		return r;
	struct store_space_stats space;
	store_get_space_stats(d->store, &space);
	if (!space.incremental_vacuum)
		log_warn("the store %s was made before claimfs gave deleted space back to the host: "
			 "deleted data is reused inside it, but the file does not shrink until "
			 "`claimfsd --compact --store %s` runs once with the daemon stopped",
			 path, path);
	return 0;
}

/* Detach a stale mount, create the mount point and mount the store. */
static int main_mount(struct main_daemon *d)
{
	const struct main_options *o = &d->o;
	char fsname[PATH_MAX + 16];
	struct fs_config config = { .mountpoint = o->mountpoint, .fsname = fsname,
				    .max_threads = o->threads, .debug = o->fuse_debug,
				    .attach = d->is_worker, .fuse_fd = d->worker.fuse_fd,
				    .record_fd = d->worker.record_fd };
	int r = d->is_worker ? 0 : fs_clear_stale_mount(o->mountpoint);

	if (d->is_worker)
		goto mount; /* the supervisor mounted */
	if (r < 0) {
		fprintf(stderr, "claimfsd: cannot use %s as the mount point: %s\n", o->mountpoint,
			strerror(-r));
		return r;
	}
	r = files_mkdirs(o->mountpoint, 0755);
	if (r < 0 && r != -ENOTCONN) { /* a dead FUSE mount fs_mount() can take over */
		fprintf(stderr, "claimfsd: cannot create %s: %s\n", o->mountpoint, strerror(-r));
		return r;
	}
mount:
	snprintf(fsname, sizeof(fsname), "claimfs:%s", o->store_path);
	r = fs_mount(d->store, &config, &d->fs);
	if (r < 0)
		fprintf(stderr, "claimfsd: cannot mount %s: %s\n", o->mountpoint, strerror(-r));
	return r;
}

/* --listen, except that a worker whose predecessor bound "HOST:0" to some
 * port binds that port again, so that clients and --port-file keep it. */
static const char *main_worker_listen(struct main_daemon *d)
{
	char host[256], port[8];
	unsigned earlier = d->is_worker && d->o.listen ? worker_earlier_port(&d->worker) : 0;

	if (earlier == 0 || http_listen_parse(d->o.listen, host, sizeof(host), port, sizeof(port)) < 0 ||
	    strcmp(port, "0") != 0)
		return d->o.listen;
	snprintf(d->listen, sizeof(d->listen), strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, earlier);
	return d->listen;
}

/* The provisioning model and the HTTP API on top of it. */
static int main_serve_api(struct main_daemon *d)
{
	const struct main_options *o = &d->o;
	struct http_config config = { .listen = main_worker_listen(d), .unix_socket = o->unix_socket,
				      .max_body = MAIN_MAX_BODY, .ready = &main_ready,
				      .token = o->token_file ? d->token : NULL,
				      .tls_cert_pem = d->tls_cert, .tls_key_pem = d->tls_key,
				      .volume_plugin_socket = o->volume_plugin_socket,
				      .volume_namespace = o->volume_namespace,
				      .volume_plugin_optional = o->volume_plugin_default };
	char mountpoint[PATH_MAX];
	int r = model_open(d->store, &d->model);

	if (r == 0)
		r = model_set_overcommit(d->model, o->overcommit);
	if (r < 0) {
		log_error("cannot start the provisioning model: %s", strerror(-r));
		return r;
	}
	r = model_events_expire(d->model, o->event_ttl_s);
	if (r < 0) {
		log_error("cannot start the expiry of events: %s", strerror(-r));
		return r;
	}
	/* Engines bind-mount the paths the plugin answers: absolute ones. */
	if (realpath(o->mountpoint, mountpoint) == NULL) {
		log_error("cannot resolve the mount point %s: %s", o->mountpoint, strerror(errno));
		return -errno;
	}
	config.mountpoint = mountpoint;
	if (o->volume_plugin_default && (r = files_make_parent_dirs(o->volume_plugin_socket, 0755)) < 0)
		log_debug("cannot create the directory of %s: %s", o->volume_plugin_socket,
			  strerror(-r)); /* the bind below says what it means */
	r = http_server_start(&config, d->model, &d->http);
	if (r < 0)
		fprintf(stderr, "claimfsd: cannot serve the API on %s: %s\n",
			o->listen ? o->listen : o->unix_socket, strerror(-r));
	return r;
}

/* The commit timer and the WAL checkpointer. */
static int main_start_timers(struct main_daemon *d)
{
	d->timer.store = d->store;
	d->timer.model = d->model;
	d->timer.interval_ms = d->o.commit_interval_ms;
	if (pthread_create(&d->timer_thread, NULL, main_timer_thread, &d->timer) != 0) {
		log_error("cannot start the commit timer");
		return -EAGAIN;
	}
	d->timer_started = true;
	d->checkpointer.store = d->store;
	d->checkpointer.checkpointer = true;
	store_set_stream_rate(d->store, (uint64_t)d->o.stream_mib_per_s << 20);
	if (pthread_create(&d->checkpoint_thread, NULL, main_timer_thread, &d->checkpointer) != 0) {
		log_error("cannot start the WAL checkpointer");
		return -EAGAIN;
	}
	d->checkpointer_started = true;
	return 0;
}

/* Ready: /readyz answers 200, the port file appears, the log says so. */
static int main_announce_ready(struct main_daemon *d)
{
	const struct main_options *o = &d->o;
	char port[16];
	int r;

	main_fs = d->fs;
	atomic_store(&main_serving, true);
	atomic_store(&main_ready, true);
	if (o->port_file) {
		snprintf(port, sizeof(port), "%u\n", http_server_port(d->http));
		r = files_write_atomic(o->port_file, port);
		if (r < 0) {
			log_error("cannot write %s: %s", o->port_file, strerror(-r));
			atomic_store(&main_serving, false);
			return r;
		}
	}
	if (d->is_worker && (r = worker_announce_ready(&d->worker, http_server_port(d->http))) < 0)
		log_warn("cannot tell the supervisor that this worker is ready: %s", strerror(-r));
	log_info("serving %s on %s (API %s%s%s)", o->store_path, o->mountpoint, o->listen ? o->listen : "",
		 o->listen && o->unix_socket ? " and " : "", o->unix_socket ? o->unix_socket : "");
	return 0;
}

/* Serve FUSE until a stop signal ends the loop (an error ending it early
 * is logged, not fatal: shutdown is the same). */
static void main_serve_fuse(struct main_daemon *d)
{
	int r = 0;

	pthread_sigmask(SIG_UNBLOCK, &d->wake_signal, NULL);
	if (!atomic_load(&main_stopping))
		r = fs_run(d->fs);
	pthread_sigmask(SIG_BLOCK, &d->wake_signal, NULL);
	atomic_store(&main_serving, false);
	atomic_store(&main_ready, false);
	if (r < 0 && r != -EINTR)
		log_warn("FUSE loop ended: %s", strerror(-r));
}

/* Undo every step that ran, last first; the store's final commit comes
 * after nothing can change it any more. */
static void main_stop(struct main_daemon *d)
{
	atomic_store(&main_ready, false);
	http_server_stop(d->http);
	if (d->timer_started) {
		atomic_store(&d->timer.stop, true);
		pthread_join(d->timer_thread, NULL);
	}
	if (d->checkpointer_started) {
		atomic_store(&d->checkpointer.stop, true);
		pthread_join(d->checkpoint_thread, NULL);
	}
	fs_unmount(d->fs);
	main_fs = NULL;
	model_close(d->model);
	/* The final commit empties the record of uncommitted changes. */
	store_close(d->store);
	if (d->is_worker)
		worker_unwatch_store(&d->worker);
	if (d->signal_started) {
		/* Wake the signal thread if no signal came, then collect it. */
		atomic_store(&main_serving, false);
		pthread_kill(d->signal_thread, SIGTERM);
		pthread_join(d->signal_thread, NULL);
	}
	free(d->tls_cert);
	free(d->tls_key);
}

/* Parse, check or start, serve until a signal, stop: exit 0 on a clean
 * stop (and after --help/--version), 1 when a step failed, 2 on usage
 * errors and unreadable secrets; --check has its own codes. */
int main(int argc, char **argv)
{
	static struct main_daemon d; /* large (token); zeroed */
	int r;

	/* glibc gives every thread that allocates its own arena; with the FUSE
	 * workers and one HTTP thread per connection that is dozens of mostly
	 * idle heaps (bench: peak RSS 52 -> 74 MiB during 16-client
	 * provisioning). Two arenas keep the threads' allocations in common. */
	if (mallopt(M_ARENA_MAX, 2) != 1)
		fprintf(stderr, "claimfsd: mallopt(M_ARENA_MAX) failed; continuing\n");
	r = main_parse(argc, argv, &d.o);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : 2;
	if (d.o.check)
		return main_check(&d.o);
	if (d.o.backup != NULL)
		return main_backup(&d.o);
	if (d.o.compact)
		return main_compact(&d.o);
	d.is_worker = worker_from_environment(&d.worker);
	if (d.o.supervise && !d.is_worker) {
		char fsname[PATH_MAX + 16];
		snprintf(fsname, sizeof(fsname), "claimfs:%s", d.o.store_path);
		const struct supervisor_config config = { .mountpoint = d.o.mountpoint, .fsname = fsname,
							  .debug = d.o.fuse_debug };
		return supervisor_run(&config, argv);
	}
	r = main_read_secrets(&d);
	if (r < 0) {
		main_stop(&d);
		return 2;
	}
	r = main_start_signals(&d);
	if (r == 0)
		r = main_open_store(&d);
	if (r == 0)
		r = main_mount(&d);
	if (r == 0)
		r = main_serve_api(&d);
	if (r == 0)
		r = main_start_timers(&d);
	if (r == 0)
		r = main_announce_ready(&d);
	if (r == 0)
		main_serve_fuse(&d);
	main_stop(&d);
	if (r < 0)
		return EXIT_FAILURE;
	log_info("stopped cleanly");
	return EXIT_SUCCESS;
}
