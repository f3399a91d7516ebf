/*
 * options.c — command-line parsing and validation for claimfs-harness.
 *
 * Owns: the help text and every default. Invariant: a struct options that
 * options_parse() returned 0 for is internally consistent (replica count in
 * range, weights filled for every ordinal, --api and --mount given together,
 * no daemon kills against a daemon we did not start), so the rest of the
 * harness never re-validates it.
 */
#include "options.h"
#include "cmdline.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Parse a comma-separated weight list into o->weights. */
static int options_parse_weights(const char *text, struct options *o, unsigned *ret_count)
{
	unsigned count = 0;
	const char *p = text;
	while (*p) {
		char part[32];
		size_t len = strcspn(p, ",");
		if (len == 0 || len >= sizeof(part) || count >= OPTIONS_MAX_REPLICAS)
			return -EINVAL;
		memcpy(part, p, len);
		part[len] = '\0';
		unsigned long w;
		if (util_parse_ulong(part, 1000000, &w) < 0 || w == 0)
			return -EINVAL;
		o->weights[count++] = (unsigned)w;
		p += len;
		if (*p == ',')
			p++;
	}
	*ret_count = count;
	return count ? 0 : -EINVAL;
}

/* --weights W0,W1,...: how many were given is checked against --replicas. */
static int options_set_weights(void *opts, const char *argument)
{
	struct options *o = opts;

	return options_parse_weights(argument, o, &o->weights_given);
}

/* --broken-app: one of the self-test breakages ("none" is not a choice). */
static int options_set_broken(void *opts, const char *argument)
{
	struct options *o = opts;

	if (strcmp(argument, "ack-before-fsync") == 0)
		o->broken = BROKEN_ACK_BEFORE_FSYNC;
	else if (strcmp(argument, "cross-write") == 0)
		o->broken = BROKEN_CROSS_WRITE;
	else
		return -EINVAL;
	return 0;
}

/* CMDLINE_CHOICE stores an int: the enums must be ints. */
_Static_assert(sizeof(enum options_balance) == sizeof(int), "balance is an int");
_Static_assert(sizeof(enum options_pod_management) == sizeof(int), "pod management is an int");
_Static_assert(sizeof(enum options_runtime) == sizeof(int), "runtime is an int");
_Static_assert(sizeof(enum options_update_strategy) == sizeof(int), "update strategy is an int");

static const char *const options_balance_choices[] = { "round-robin", "random", "weighted", NULL };
static const char *const options_pod_management_choices[] = { "OrderedReady", "Parallel", NULL };
/* In enum order: the index is the value. */
static const char *const options_runtime_choices[] = { "native", "podman", NULL };
static const char *const options_update_strategy_choices[] = { "RollingUpdate", "OnDelete", NULL };

#define OPT(field) offsetof(struct options, field)
/* A number option whose complaint names the option and its range. */
#define OPT_NUMBER(long_name, kind_, field, arg_, lo, hi, hi_text)                                  \
	.name = long_name, .kind = kind_, .offset = OPT(field), .arg = arg_, .min = lo, .max = hi,   \
	.invalid = "--" long_name ": expected a number from 0 to " hi_text ", got '%s'"

/* The command line, in --help order. */
static const struct cmdline_option options_table[] = {
	{ OPT_NUMBER("replicas", CMDLINE_UNSIGNED, replicas, "N", 1, OPTIONS_MAX_REPLICAS, "64"),
	  .too_small = "--replicas must be at least 1", .section = "Workload:\n",
	  .help = "replicas of the StatefulSet (1..64, default 3)" },
	{ OPT_NUMBER("requests", CMDLINE_ULONG, requests, "N", 0, 100000000, "100000000"),
	  .help = "visits to send through the service (default 1000)" },
	{ OPT_NUMBER("concurrency", CMDLINE_UNSIGNED, concurrency, "N", 1, 256, "256"),
	  .too_small = "--concurrency must be at least 1",
	  .help = "concurrent clients (1..256, default 4)" },
	{ .name = "balance", .kind = CMDLINE_CHOICE, .offset = OPT(balance), .arg = "MODE",
	  .choices = options_balance_choices,
	  .invalid = "--balance: round-robin, random or weighted, not '%s'",
	  .help = "round-robin | random | weighted (default round-robin)" },
	{ .name = "weights", .kind = CMDLINE_CALL, .set = options_set_weights, .usage = "--weights W0,W1,...",
	  .invalid = "--weights: expected positive numbers separated by commas",
	  .help = "weights per ordinal for --balance weighted\n"
		  "(default: N for ordinal 0 down to 1 for the last)" },
	{ .name = "app", .kind = CMDLINE_STRING, .offset = OPT(app), .arg = "CMD",
	  .help = "run CMD (via /bin/sh -c) as each replica instead of the\n"
		  "built-in visits app; it gets POD_NAME, ORDINAL, PORT, POD_IP,\n"
		  "DATA_DIR, CLAIM_NAME, CLAIM_PATH, REVISION, PEER_NAMES in its\n"
		  "environment, must listen on POD_IP:PORT (or all addresses),\n"
		  "serve GET / (count a visit durably in DATA_DIR/visits.txt,\n"
		  "answer the new count) and the probe" },
	{ .name = "mount-path", .kind = CMDLINE_STRING, .offset = OPT(mount_path), .arg = "PATH",
	  .help = "where replicas see their claim (default /app/data); as root\n"
		  "each replica runs in its own mount and PID namespace with\n"
		  "its claim bind-mounted there, otherwise DATA_DIR is the\n"
		  "claim's own directory" },
	{ .name = "no-namespaces", .kind = CMDLINE_FLAG, .offset = OPT(no_namespaces),
	  .help = "never use namespaces (DATA_DIR is the claim directory)" },
	{ .name = "runtime", .kind = CMDLINE_CHOICE, .offset = OPT(runtime), .arg = "NAME",
	  .choices = options_runtime_choices,
	  .invalid = "--runtime: native or podman, not '%s'",
	  .help = "native (default: the harness's own namespaces) | podman:\n"
		  "each replica is a Podman container whose claim is a\n"
		  "claimfs volume (claimfsd's volume plugin); kills are\n"
		  "podman kill. Podman reads its usual configuration\n"
		  "($CONTAINERS_CONF, $CONTAINERS_STORAGE_CONF)" },
	{ .name = "image", .kind = CMDLINE_STRING, .offset = OPT(image), .arg = "IMAGE",
	  .help = "--runtime podman: run IMAGE (with --command) instead of\n"
		  "busybox-static imported as an image with the built-in app" },
	{ .name = "command", .kind = CMDLINE_STRING, .offset = OPT(command), .arg = "CMD",
	  .help = "--runtime podman: the replica's shell command in --image\n"
		  "(run by /bin/sh -c; environment as for --app)" },
	{ .name = "podman", .kind = CMDLINE_STRING, .offset = OPT(podman), .arg = "PATH",
	  .help = "the podman program (default podman)" },
	{ .name = "probe-path", .kind = CMDLINE_STRING, .offset = OPT(probe_path), .arg = "PATH",
	  .help = "readiness probe (default /healthz)" },
	{ .name = "visits-file", .kind = CMDLINE_STRING, .offset = OPT(visits_file), .arg = "NAME",
	  .help = "file holding the count in each claim (default visits.txt)" },
	{ .name = "pod-management", .kind = CMDLINE_CHOICE, .offset = OPT(pod_management),
	  .arg = "POLICY", .choices = options_pod_management_choices,
	  .invalid = "--pod-management: OrderedReady or Parallel, not '%s'",
	  .section = "\nStatefulSet behaviour:\n",
	  .help = "OrderedReady | Parallel (default OrderedReady)" },
	{ .name = "rolling-update", .kind = CMDLINE_FLAG, .offset = OPT(rolling_update),
	  .help = "mid-run, change the pod template (a new revision); with\n"
		  "RollingUpdate, restart replicas one at a time from the\n"
		  "highest ordinal down, waiting for readiness" },
	{ .name = "update-strategy", .kind = CMDLINE_CHOICE, .offset = OPT(update_strategy),
	  .arg = "TYPE", .choices = options_update_strategy_choices,
	  .invalid = "--update-strategy: RollingUpdate or OnDelete, not '%s'",
	  .help = "RollingUpdate (default) | OnDelete: a replica takes the\n"
		  "new revision only when it is deleted (killed, crashed)" },
	{ OPT_NUMBER("partition", CMDLINE_UNSIGNED, partition, "P", 0, OPTIONS_MAX_REPLICAS, "64"),
	  .help = "with --rolling-update, leave ordinals below P alone" },
	{ .name = "scale-cycle", .kind = CMDLINE_FLAG, .offset = OPT(scale_cycle),
	  .help = "mid-run, scale to 1 and back; every ordinal must get its\n"
		  "own old data back" },
	{ .name = "namespace", .kind = CMDLINE_STRING, .offset = OPT(namespace_name), .arg = "NS",
	  .help = "namespace of the claims (default default)" },
	{ .name = "statefulset", .kind = CMDLINE_STRING, .offset = OPT(statefulset), .arg = "NAME",
	  .help = "StatefulSet name (default app-python)" },
	{ .name = "claim-template", .kind = CMDLINE_STRING, .offset = OPT(claim_template),
	  .arg = "NAME", .help = "volumeClaimTemplate name (default data)" },
	{ .name = "storage", .kind = CMDLINE_STRING, .offset = OPT(storage), .arg = "QUANTITY",
	  .help = "requested storage per claim (default 1Mi)" },
	{ OPT_NUMBER("ready-timeout", CMDLINE_UNSIGNED, ready_timeout_ms, "SEC", 0, 3600, "3600"),
	  .scale = 1000, .help = "readiness deadline per replica start (default 20)" },
	{ OPT_NUMBER("grace-period", CMDLINE_UNSIGNED, grace_ms, "SEC", 0, 3600, "3600"),
	  .scale = 1000, .help = "SIGTERM grace before SIGKILL on graceful stops (default 5)" },
	{ OPT_NUMBER("kill-replicas", CMDLINE_UNSIGNED, kill_replicas, "N", 0, 100000, "100000"),
	  .section = "\nFaults:\n",
	  .help = "SIGKILL N random replicas at random moments (restarted on\n"
		  "the same ordinal and claim)" },
	{ OPT_NUMBER("kill-daemon", CMDLINE_UNSIGNED, kill_daemon, "N", 0, 10000, "10000"),
	  .help = "SIGKILL claimfsd N times, restart it, recreate the replicas\n"
		  "(with --supervise: SIGKILL its worker, replicas untouched)" },
	{ OPT_NUMBER("seed", CMDLINE_U64, seed, "N", 0, ULONG_MAX, "18446744073709551615"),
	  .help = "seed for every random choice (printed; replays a run)" },
	{ .name = "broken-app", .kind = CMDLINE_CALL, .set = options_set_broken, .arg = "MODE",
	  .invalid = "--broken-app: ack-before-fsync or cross-write, not '%s'",
	  .help = "self-test: run the built-in app deliberately broken,\n"
		  "ack-before-fsync | cross-write; the run must fail" },
	{ .name = "claimfsd", .kind = CMDLINE_STRING, .offset = OPT(claimfsd), .arg = "PATH",
	  .section = "\nDaemon:\n",
	  .help = "daemon binary (default: $CLAIMFSD, next to the harness, PATH)" },
	{ .name = "supervise", .kind = CMDLINE_FLAG, .offset = OPT(supervise),
	  .help = "run claimfsd --supervise; --kill-daemon then SIGKILLs its\n"
		  "worker and the replicas keep running, their open files\n"
		  "and working directories in the claim; any error a\n"
		  "replica sees fails the run" },
	{ .name = "api", .kind = CMDLINE_STRING, .offset = OPT(api_url), .usage = "--api URL --mount DIR",
	  .help = "use a running daemon (http://HOST:PORT) mounted at DIR\n"
		  "instead of starting one on a private temporary store" },
	{ .name = "mount", .kind = CMDLINE_STRING, .offset = OPT(mount_dir) /* listed with --api */ },
	{ .name = "json", .kind = CMDLINE_STRING, .offset = OPT(json_path), .arg = "FILE",
	  .section = "\nOutput:\n", .help = "write the results as JSON" },
	{ .name = "junit", .kind = CMDLINE_STRING, .offset = OPT(junit_path), .arg = "FILE",
	  .help = "write the results as JUnit XML" },
	{ .name = "logs", .kind = CMDLINE_STRING, .offset = OPT(logs_dir), .arg = "DIR",
	  .help = "at the end, copy claimfsd's and every replica's log to DIR\n"
		  "(the private work directory itself is always removed)" },
	{ .name = "quiet", .short_name = 'q', .kind = CMDLINE_FLAG, .offset = OPT(quiet),
	  .help = "no progress or event lines, only the final table" },
	{ .name = "help", .kind = CMDLINE_HELP, .usage = "--help, --version", .help = "" },
	{ .name = "version", .kind = CMDLINE_VERSION /* listed with --help */ },
};

static const struct cmdline_program options_program = {
	.name = "claimfs-harness",
	.version = "claimfs-harness " CLAIMFS_VERSION,
	.options = options_table,
	.n_options = sizeof(options_table) / sizeof(options_table[0]),
	.usage_head =
		"Usage: claimfs-harness [OPTIONS]\n"
		"Play Kubernetes for a StatefulSet on this machine: start replicas of a visits app,\n"
		"each with its own claimfs claim, send load through a service, kill replicas and the\n"
		"daemon at random moments, and prove that every acknowledged visit persisted.\n"
		"\n",
	.usage_tail =
		"\n"
		"The table's ACKED and ON DISK count this run's visits (a reused claim's earlier\n"
		"count is subtracted); a replica is consistent when ACKED <= ON DISK <= ACKED +\n"
		"visits unacknowledged because they were in flight when something was killed,\n"
		"and no other replica ever wrote its file.\n"
		"\n"
		"Exit status: 0 when every replica's file is consistent, 1 when one is not,\n"
		"2 on a usage or set-up error, 128+N when interrupted by signal N.\n",
	.help_column = 27,
	.unexpected = "unexpected argument '%s'\nTry 'claimfs-harness --help'.",
};

/* Set defaults. */
static void options_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->replicas = 3;
	o->requests = 1000;
	o->concurrency = 4;
	o->seed = (uint64_t)time(NULL) % 100000u * 10u + (uint64_t)getpid() % 10u;
	o->mount_path = "/app/data";
	o->namespace_name = "default";
	o->statefulset = "app-python";
	o->claim_template = "data";
	o->storage = "1Mi";
	o->visits_file = "visits.txt";
	o->probe_path = "/healthz";
	o->ready_timeout_ms = 20000;
	o->grace_ms = 5000;
	o->podman = "podman";
}

/* Cross-option checks and derived defaults. */
static int options_check(struct options *o)
{
	const char *why = NULL;
	if ((o->api_url == NULL) != (o->mount_dir == NULL))
		why = "--api and --mount go together";
	else if (o->api_url && o->kill_daemon)
		why = "--kill-daemon needs a daemon the harness starts itself (drop --api/--mount)";
	else if (o->mount_path[0] != '/')
		why = "--mount-path must be absolute";
	else if (o->probe_path[0] != '/')
		why = "--probe-path must start with /";
	else if (strchr(o->visits_file, '/') || !o->visits_file[0])
		why = "--visits-file must be a plain file name";
	else if (o->partition > o->replicas)
		why = "--partition cannot exceed --replicas";
	else if (o->broken && o->app)
		why = "--broken-app applies to the built-in app only (not with --app)";
	else if (o->broken == BROKEN_CROSS_WRITE && o->replicas < 2)
		why = "--broken-app cross-write needs at least 2 replicas";
	else if (o->weights_given && o->weights_given != o->replicas)
		why = "--weights needs exactly one weight per replica";
	else if (o->supervise && o->api_url)
		why = "--supervise needs a daemon the harness starts itself (drop --api/--mount)";
	else if (o->runtime == RUNTIME_PODMAN && o->api_url)
		why = "--runtime podman mounts claims through the volume plugin of a daemon the "
		      "harness starts itself (drop --api/--mount)";
	else if (o->runtime == RUNTIME_PODMAN && (o->app || o->broken))
		why = "--runtime podman runs --image/--command, not --app or --broken-app";
	else if (o->runtime != RUNTIME_PODMAN && (o->image || o->command))
		why = "--image and --command need --runtime podman";
	else if ((o->image == NULL) != (o->command == NULL))
		why = "--image and --command go together";
	if (why) {
		fprintf(stderr, "claimfs-harness: %s\n", why);
		return -EINVAL;
	}
	if (!o->weights_given) {
		for (unsigned i = 0; i < o->replicas; i++)
			o->weights[i] = o->balance == BALANCE_WEIGHTED ? o->replicas - i : 1;
	}
	return 0;
}

/* See options.h. */
int options_parse(int argc, char **argv, struct options *ret)
{
	struct options o;
	int r;

	options_defaults(&o);
	r = cmdline_parse(&options_program, argc, argv, &o);
	if (r == 0)
		r = options_check(&o);
	if (r != 0)
		return r;
	*ret = o;
	return 0;
}

/* See options.h. */
const char *options_balance_name(enum options_balance balance)
{
	switch (balance) {
	case BALANCE_RANDOM: return "random";
	case BALANCE_WEIGHTED: return "weighted";
	case BALANCE_ROUND_ROBIN: break;
	}
	return "round-robin";
}

/* See options.h. */
const char *options_pod_management_name(enum options_pod_management policy)
{
	return policy == POD_MANAGEMENT_PARALLEL ? "Parallel" : "OrderedReady";
}

/* See options.h. */
const char *options_runtime_name(enum options_runtime runtime)
{
	return options_runtime_choices[runtime];
}

/* See options.h. */
const char *options_update_strategy_name(enum options_update_strategy strategy)
{
	return options_update_strategy_choices[strategy];
}

/* See options.h. */
const char *options_broken_name(enum options_broken broken)
{
	switch (broken) {
	case BROKEN_ACK_BEFORE_FSYNC: return "ack-before-fsync";
	case BROKEN_CROSS_WRITE: return "cross-write";
	case BROKEN_NONE: break;
	}
	return "none";
}
