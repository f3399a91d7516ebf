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
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
	OPT_REPLICAS = 1000, OPT_REQUESTS, OPT_CONCURRENCY, OPT_KILL_REPLICAS, OPT_KILL_DAEMON,
	OPT_SEED, OPT_APP, OPT_MOUNT_PATH, OPT_POD_MANAGEMENT, OPT_ROLLING_UPDATE, OPT_PARTITION,
	OPT_SCALE_CYCLE, OPT_BALANCE, OPT_WEIGHTS, OPT_API, OPT_MOUNT, OPT_CLAIMFSD,
	OPT_NAMESPACE, OPT_STATEFULSET, OPT_CLAIM_TEMPLATE, OPT_STORAGE, OPT_VISITS_FILE,
	OPT_PROBE_PATH, OPT_JSON, OPT_JUNIT, OPT_LOGS, OPT_READY_TIMEOUT, OPT_GRACE, OPT_BROKEN_APP,
	OPT_NO_NAMESPACES, OPT_HELP, OPT_VERSION,
};

static const struct option options_long[] = {
	{ "replicas", required_argument, NULL, OPT_REPLICAS },
	{ "requests", required_argument, NULL, OPT_REQUESTS },
	{ "concurrency", required_argument, NULL, OPT_CONCURRENCY },
	{ "kill-replicas", required_argument, NULL, OPT_KILL_REPLICAS },
	{ "kill-daemon", required_argument, NULL, OPT_KILL_DAEMON },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "app", required_argument, NULL, OPT_APP },
	{ "mount-path", required_argument, NULL, OPT_MOUNT_PATH },
	{ "pod-management", required_argument, NULL, OPT_POD_MANAGEMENT },
	{ "rolling-update", no_argument, NULL, OPT_ROLLING_UPDATE },
	{ "partition", required_argument, NULL, OPT_PARTITION },
	{ "scale-cycle", no_argument, NULL, OPT_SCALE_CYCLE },
	{ "balance", required_argument, NULL, OPT_BALANCE },
	{ "weights", required_argument, NULL, OPT_WEIGHTS },
	{ "api", required_argument, NULL, OPT_API },
	{ "mount", required_argument, NULL, OPT_MOUNT },
	{ "claimfsd", required_argument, NULL, OPT_CLAIMFSD },
	{ "namespace", required_argument, NULL, OPT_NAMESPACE },
	{ "statefulset", required_argument, NULL, OPT_STATEFULSET },
	{ "claim-template", required_argument, NULL, OPT_CLAIM_TEMPLATE },
	{ "storage", required_argument, NULL, OPT_STORAGE },
	{ "visits-file", required_argument, NULL, OPT_VISITS_FILE },
	{ "probe-path", required_argument, NULL, OPT_PROBE_PATH },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "junit", required_argument, NULL, OPT_JUNIT },
	{ "logs", required_argument, NULL, OPT_LOGS },
	{ "ready-timeout", required_argument, NULL, OPT_READY_TIMEOUT },
	{ "grace-period", required_argument, NULL, OPT_GRACE },
	{ "broken-app", required_argument, NULL, OPT_BROKEN_APP },
	{ "no-namespaces", no_argument, NULL, OPT_NO_NAMESPACES },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* Print the usage text to F. */
static void options_usage(FILE *f)
{
	fputs("Usage: claimfs-harness [OPTIONS]\n"
	      "Play Kubernetes for a StatefulSet on this machine: start replicas of a visits app,\n"
	      "each with its own claimfs claim, send load through a service, kill replicas and the\n"
	      "daemon at random moments, and prove that every acknowledged visit persisted.\n"
	      "\n"
	      "Workload:\n"
	      "  --replicas N             replicas of the StatefulSet (1..64, default 3)\n"
	      "  --requests N             visits to send through the service (default 1000)\n"
	      "  --concurrency N          concurrent clients (1..256, default 4)\n"
	      "  --balance MODE           round-robin | random | weighted (default round-robin)\n"
	      "  --weights W0,W1,...      weights per ordinal for --balance weighted\n"
	      "                           (default: N for ordinal 0 down to 1 for the last)\n"
	      "  --app CMD                run CMD (via /bin/sh -c) as each replica instead of the\n"
	      "                           built-in visits app; it gets POD_NAME, ORDINAL, PORT,\n"
	      "                           DATA_DIR, CLAIM_NAME, CLAIM_PATH, REVISION in its environment,\n"
	      "                           must serve GET / (count a visit durably in\n"
	      "                           DATA_DIR/visits.txt, answer the new count) and the probe\n"
	      "  --mount-path PATH        where replicas see their claim (default /app/data); as root\n"
	      "                           each replica runs in its own mount and PID namespace with\n"
	      "                           its claim bind-mounted there, otherwise DATA_DIR is the\n"
	      "                           claim's own directory\n"
	      "  --no-namespaces          never use namespaces (DATA_DIR is the claim directory)\n"
	      "  --probe-path PATH        readiness probe (default /healthz)\n"
	      "  --visits-file NAME       file holding the count in each claim (default visits.txt)\n"
	      "\n"
	      "StatefulSet behaviour:\n"
	      "  --pod-management POLICY  OrderedReady | Parallel (default OrderedReady)\n"
	      "  --rolling-update         mid-run, restart replicas one at a time from the highest\n"
	      "                           ordinal down, waiting for readiness\n"
	      "  --partition P            with --rolling-update, leave ordinals below P alone\n"
	      "  --scale-cycle            mid-run, scale to 1 and back; every ordinal must get its\n"
	      "                           own old data back\n"
	      "  --namespace NS           namespace of the claims (default default)\n"
	      "  --statefulset NAME       StatefulSet name (default app-python)\n"
	      "  --claim-template NAME    volumeClaimTemplate name (default data)\n"
	      "  --storage QUANTITY       requested storage per claim (default 1Mi)\n"
	      "  --ready-timeout SEC      readiness deadline per replica start (default 20)\n"
	      "  --grace-period SEC       SIGTERM grace before SIGKILL on graceful stops (default 5)\n"
	      "\n"
	      "Faults:\n"
	      "  --kill-replicas N        SIGKILL N random replicas at random moments (restarted on\n"
	      "                           the same ordinal and claim)\n"
	      "  --kill-daemon N          SIGKILL claimfsd N times, restart it, recreate the replicas\n"
	      "  --seed N                 seed for every random choice (printed; replays a run)\n"
	      "  --broken-app MODE        self-test: run the built-in app deliberately broken,\n"
	      "                           ack-before-fsync | cross-write; the run must fail\n"
	      "\n"
	      "Daemon:\n"
	      "  --claimfsd PATH          daemon binary (default: $CLAIMFSD, next to the harness, PATH)\n"
	      "  --api URL --mount DIR    use a running daemon (http://HOST:PORT) mounted at DIR\n"
	      "                           instead of starting one on a private temporary store\n"
	      "\n"
	      "Output:\n"
	      "  --json FILE              write the results as JSON\n"
	      "  --junit FILE             write the results as JUnit XML\n"
	      "  --logs DIR               at the end, copy claimfsd's and every replica's log to DIR\n"
	      "                           (the private work directory itself is always removed)\n"
	      "  -q, --quiet              no progress or event lines, only the final table\n"
	      "  --help, --version\n"
	      "\n"
	      "The table's ACKED and ON DISK count this run's visits (a reused claim's earlier\n"
	      "count is subtracted); a replica is consistent when ACKED <= ON DISK <= ACKED +\n"
	      "visits unacknowledged because they were in flight when something was killed,\n"
	      "and no other replica ever wrote its file.\n"
	      "\n"
	      "Exit status: 0 when every replica's file is consistent, 1 when one is not,\n"
	      "2 on a usage or set-up error, 128+N when interrupted by signal N.\n",
	      f);
}

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

/* Parse an unsigned option value or complain. */
static int options_number(const char *name, const char *text, unsigned long max, unsigned long *ret)
{
	if (util_parse_ulong(text, max, ret) < 0) {
		fprintf(stderr, "claimfs-harness: --%s: expected a number from 0 to %lu, got '%s'\n",
			name, max, text);
		return -EINVAL;
	}
	return 0;
}

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
}

/* Handle one option; returns 0, 1 (stop, exit 0) or -EINVAL. */
static int options_one(int c, const char *arg, struct options *o, unsigned *weights_given)
{
	unsigned long v;
	int r = 0;
	switch (c) {
	case OPT_REPLICAS:
		r = options_number("replicas", arg, OPTIONS_MAX_REPLICAS, &v);
		if (r == 0 && v == 0) {
			fprintf(stderr, "claimfs-harness: --replicas must be at least 1\n");
			r = -EINVAL;
		}
		o->replicas = (unsigned)v;
		break;
	case OPT_REQUESTS:
		r = options_number("requests", arg, 100000000, &v);
		o->requests = v;
		break;
	case OPT_CONCURRENCY:
		r = options_number("concurrency", arg, 256, &v);
		if (r == 0 && v == 0) {
			fprintf(stderr, "claimfs-harness: --concurrency must be at least 1\n");
			r = -EINVAL;
		}
		o->concurrency = (unsigned)v;
		break;
	case OPT_KILL_REPLICAS:
		r = options_number("kill-replicas", arg, 100000, &v);
		o->kill_replicas = (unsigned)v;
		break;
	case OPT_KILL_DAEMON:
		r = options_number("kill-daemon", arg, 10000, &v);
		o->kill_daemon = (unsigned)v;
		break;
	case OPT_SEED:
		r = options_number("seed", arg, ULONG_MAX, &v);
		o->seed = v;
		break;
	case OPT_APP: o->app = arg; break;
	case OPT_MOUNT_PATH: o->mount_path = arg; break;
	case OPT_POD_MANAGEMENT:
		if (strcmp(arg, "OrderedReady") == 0) {
			o->pod_management = POD_MANAGEMENT_ORDERED_READY;
		} else if (strcmp(arg, "Parallel") == 0) {
			o->pod_management = POD_MANAGEMENT_PARALLEL;
		} else {
			fprintf(stderr, "claimfs-harness: --pod-management: OrderedReady or Parallel, not '%s'\n", arg);
			r = -EINVAL;
		}
		break;
	case OPT_ROLLING_UPDATE: o->rolling_update = true; break;
	case OPT_PARTITION:
		r = options_number("partition", arg, OPTIONS_MAX_REPLICAS, &v);
		o->partition = (unsigned)v;
		break;
	case OPT_SCALE_CYCLE: o->scale_cycle = true; break;
	case OPT_BALANCE:
		if (strcmp(arg, "round-robin") == 0) {
			o->balance = BALANCE_ROUND_ROBIN;
		} else if (strcmp(arg, "random") == 0) {
			o->balance = BALANCE_RANDOM;
		} else if (strcmp(arg, "weighted") == 0) {
			o->balance = BALANCE_WEIGHTED;
		} else {
			fprintf(stderr, "claimfs-harness: --balance: round-robin, random or weighted, not '%s'\n", arg);
			r = -EINVAL;
		}
		break;
	case OPT_WEIGHTS:
		r = options_parse_weights(arg, o, weights_given);
		if (r < 0)
			fprintf(stderr, "claimfs-harness: --weights: expected positive numbers separated by commas\n");
		break;
	case OPT_API: o->api_url = arg; break;
	case OPT_MOUNT: o->mount_dir = arg; break;
	case OPT_CLAIMFSD: o->claimfsd = arg; break;
	case OPT_NAMESPACE: o->namespace_name = arg; break;
	case OPT_STATEFULSET: o->statefulset = arg; break;
	case OPT_CLAIM_TEMPLATE: o->claim_template = arg; break;
	case OPT_STORAGE: o->storage = arg; break;
	case OPT_VISITS_FILE: o->visits_file = arg; break;
	case OPT_PROBE_PATH: o->probe_path = arg; break;
	case OPT_JSON: o->json_path = arg; break;
	case OPT_JUNIT: o->junit_path = arg; break;
	case OPT_LOGS: o->logs_dir = arg; break;
	case OPT_READY_TIMEOUT:
		r = options_number("ready-timeout", arg, 3600, &v);
		o->ready_timeout_ms = (unsigned)v * 1000u;
		break;
	case OPT_GRACE:
		r = options_number("grace-period", arg, 3600, &v);
		o->grace_ms = (unsigned)v * 1000u;
		break;
	case OPT_BROKEN_APP:
		if (strcmp(arg, "ack-before-fsync") == 0) {
			o->broken = BROKEN_ACK_BEFORE_FSYNC;
		} else if (strcmp(arg, "cross-write") == 0) {
			o->broken = BROKEN_CROSS_WRITE;
		} else {
			fprintf(stderr, "claimfs-harness: --broken-app: ack-before-fsync or cross-write, not '%s'\n", arg);
			r = -EINVAL;
		}
		break;
	case OPT_NO_NAMESPACES: o->no_namespaces = true; break;
	case 'q': o->quiet = true; break;
	case OPT_HELP:
		options_usage(stdout);
		return 1;
	case OPT_VERSION:
		printf("claimfs-harness %s\n", CLAIMFS_VERSION);
		return 1;
	default:
		fputs("Try 'claimfs-harness --help'.\n", stderr);
		return -EINVAL;
	}
	return r;
}

/* Cross-option checks and derived defaults. */
static int options_check(struct options *o, unsigned weights_given)
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
	else if (weights_given && weights_given != o->replicas)
		why = "--weights needs exactly one weight per replica";
	if (why) {
		fprintf(stderr, "claimfs-harness: %s\n", why);
		return -EINVAL;
	}
	if (!weights_given) {
		for (unsigned i = 0; i < o->replicas; i++)
			o->weights[i] = o->balance == BALANCE_WEIGHTED ? o->replicas - i : 1;
	}
	return 0;
}

/* See options.h. */
int options_parse(int argc, char **argv, struct options *ret)
{
	struct options o;
	unsigned weights_given = 0;
	options_defaults(&o);
	optind = 1;
	for (;;) {
		int c = getopt_long(argc, argv, "q", options_long, NULL);
		if (c == -1)
			break;
		int r = options_one(c, optarg, &o, &weights_given);
		if (r != 0)
			return r;
	}
	if (optind < argc) {
		fprintf(stderr, "claimfs-harness: unexpected argument '%s'\nTry 'claimfs-harness --help'.\n",
			argv[optind]);
		return -EINVAL;
	}
	int r = options_check(&o, weights_given);
	if (r < 0)
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
const char *options_broken_name(enum options_broken broken)
{
	switch (broken) {
	case BROKEN_ACK_BEFORE_FSYNC: return "ack-before-fsync";
	case BROKEN_CROSS_WRITE: return "cross-write";
	case BROKEN_NONE: break;
	}
	return "none";
}
