/*
 * main_options.c — claimfsd's option table, its setters and the checks of
 * options that only make sense together. Fills struct main_options; opens
 * nothing (the secrets are read by main.c at start-up).
 */
#include "main_options.h"

#include "cmdline.h"
#include "http.h"
#include "log.h"
#include "names.h"
#include "store.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	  .help = "(the default) keep the mount in a small supervisor process and\n"
		  "serve it from a worker that is restarted on the same connection\n"
		  "when it dies; SIGHUP starts a new worker from the installed binary\n"
		  "(upgrade); open files survive both (Linux 6.9+; see README.md,\n"
		  "Restart model)" },
	{ .name = "no-supervise", .kind = CMDLINE_FLAG, .offset = MAIN_OPT(no_supervise),
	  .help = "one process mounts and serves: its death ends the mount\n"
		  "(processes using it get ENOTCONN)" },
	{ .name = "check", .kind = CMDLINE_FLAG, .offset = MAIN_OPT(check),
	  .help = "verify the store (daemon stopped) and exit: 0 consistent,\n"
		  "1 problems found (each reported), 2 could not check" },
	{ .name = "backup", .kind = CMDLINE_STRING, .offset = MAIN_OPT(backup), .arg = "FILE",
	  .help = "write a consistent copy of the store to FILE ('-': stdout) and\n"
		  "exit, while a daemon may serve it: writes fsynced or closed\n"
		  "before it are in the copy, which passes --check before it is\n"
		  "reported done (exit 0; 1 the copy failed the check; 2 error)" },
	{ .name = "export", .kind = CMDLINE_STRING, .offset = MAIN_OPT(export_claim),
	  .arg = "NS/CLAIM",
	  .help = "write the claim's files as a tar (--to FILE, '-': stdout) and\n"
		  "exit; a client of the daemon serving the API at --listen or\n"
		  "--unix-socket (with --token-file's token); the tar is checked\n"
		  "whole before it is reported done (exit 0; 1 it failed the check,\n"
		  "and FILE is not written; 2 error, the server's message printed)" },
	{ .name = "snapshot", .kind = CMDLINE_STRING, .offset = MAIN_OPT(snapshot), .arg = "NAME",
	  .help = "with --export: the VolumeSnapshot NAME of the claim instead" },
	{ .name = "to", .kind = CMDLINE_STRING, .offset = MAIN_OPT(export_to), .arg = "FILE",
	  .help = "where --export writes the tar ('-': stdout)" },
	{ .name = "import", .kind = CMDLINE_STRING, .offset = MAIN_OPT(import_from), .arg = "FILE",
	  .help = "extract the tar FILE ('-': stdin) into the empty claim --into\n"
		  "and exit, through the daemon's API as --export (exit 0 done;\n"
		  "2 error, the claim left empty)" },
	{ .name = "into", .kind = CMDLINE_STRING, .offset = MAIN_OPT(import_into),
	  .arg = "NS/CLAIM", .help = "the claim --import fills" },
	{ .name = "size", .kind = CMDLINE_STRING, .offset = MAIN_OPT(import_size),
	  .arg = "QUANTITY",
	  .help = "with --import: create the claim first, with this storage\n"
		  "request (e.g. 1Gi) and the default class" },
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

/* The options of --export and --import; 0 or -EINVAL (said why). */
static int main_check_transfer_options(const struct main_options *o)
{
	const char *problem = NULL;

	if ((o->export_claim || o->import_from) && (o->check || o->backup || o->compact))
		problem = "--export and --import go alone (not with --check, --backup or --compact)";
	else if (o->export_claim && o->import_from)
		problem = "--export and --import go one at a time";
	else if (o->export_claim && !o->export_to)
		problem = "--export needs --to FILE (or '-' for stdout)";
	else if (!o->export_claim && (o->export_to || o->snapshot))
		problem = "--to and --snapshot go with --export";
	else if (o->import_from && !o->import_into)
		problem = "--import needs --into NAMESPACE/CLAIM";
	else if (!o->import_from && (o->import_into || o->import_size))
		problem = "--into and --size go with --import";
	else if ((o->export_claim || o->import_from) && o->tls_cert_file)
		problem = "--export and --import talk plain HTTP: give --unix-socket instead of TLS";
	if (problem == NULL)
		return 0;
	fprintf(stderr, "claimfsd: %s\n", problem);
	return -EINVAL;
}

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
	if (o->supervise && o->no_supervise) {
		fprintf(stderr, "claimfsd: --supervise and --no-supervise contradict each other\n");
		return -EINVAL;
	}
	if (main_check_transfer_options(o) < 0)
		return -EINVAL;
	if (!o->listen && !o->unix_socket) {
		fprintf(stderr, "claimfsd: --listen none needs --unix-socket, or the API is unreachable\n");
		return -EINVAL;
	}
	if (!o->tls_cert_file != !o->tls_key_file) {
		fprintf(stderr, "claimfsd: --tls-cert-file and --tls-key-file go together\n");
		return -EINVAL;
	}
	if (o->listen && !o->token_file && !o->check && !o->compact && !o->export_claim &&
	    !o->import_from && !http_listen_is_loopback(o->listen)) {
		fprintf(stderr,
			"claimfsd: refusing to serve the API on %s without authentication: that address "
			"is not loopback-only; give --token-file FILE (clients then send "
			"\"Authorization: Bearer <token>\") or listen on 127.0.0.1\n",
			o->listen);
		return -EINVAL;
	}
	return 0;
}

/* See main_options.h. */
int main_parse(int argc, char **argv, struct main_options *o)
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
	if (r == 0)
		r = main_check_options(o);
	if (r == 0)
		o->supervise = !o->no_supervise;
	return r;
}
