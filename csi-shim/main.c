/*
 * main.c — claimfs-csi: options, start-up and shutdown of the CSI driver.
 *
 * Start-up order: parse options -> claimfsd client -> node state (publication
 * record) -> gRPC server. Signals: SIGTERM/SIGINT are blocked in every thread
 * and taken by sigwait() in the main thread, which then stops the server
 * (that removes the socket) and exits 0. SIGPIPE is ignored (sockets to a
 * vanished claimfsd must fail, not kill us).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csi.h"
#include "log.h"
#include "node_state.h"
#include "quantity.h"
#include "server.h"

#define MAIN_DEFAULT_API "http://127.0.0.1:8080"
#define MAIN_DEFAULT_MOUNT "/var/lib/claimfs/volumes"
#define MAIN_DEFAULT_STATE_DIR "/var/lib/claimfs-csi"
#define MAIN_DEFAULT_WORKERS 4
#define MAIN_WORKERS_MAX 64

struct main_options {
	const char *endpoint;
	const char *node_id;
	const char *api;
	const char *token_file;
	const char *mount;
	const char *state_dir;
	uint64_t default_capacity;
	int64_t max_volumes;
	unsigned workers;
	enum log_level log_level;
};

/* --help text. */
static void main_usage(FILE *out)
{
	fprintf(out,
		"Usage: claimfs-csi [OPTIONS]\n"
		"CSI v1 driver \"%s\" for claimfs: Identity, Controller and Node services on a\n"
		"unix socket, provisioning through claimfsd's HTTP API and publishing claims by\n"
		"bind-mounting directories of claimfsd's mount.\n"
		"\n"
		"  --endpoint unix:///PATH.sock  socket to serve (default: $CSI_ENDPOINT)\n"
		"  --node-id ID                  this node's id and topology value\n"
		"                                (default: $NODE_ID, else the host name)\n"
		"  --api URL                     claimfsd API: http://HOST:PORT or unix:///PATH\n"
		"                                (default %s)\n"
		"  --token-file FILE             bearer token for the API (claimfsd --token-file)\n"
		"  --mount DIR                   claimfsd's --mount as seen here (default %s)\n"
		"  --state-dir DIR               where publications are recorded (default %s)\n"
		"  --default-capacity QUANTITY   size of volumes the CO gives no size (default 1Gi)\n"
		"  --max-volumes-per-node N      reported by NodeGetInfo; 0 = no limit (default 0)\n"
		"  --workers N                   calls served at once (default %d)\n"
		"  --log-level LEVEL             error, warn, info (default) or debug\n"
		"  --help                        show this text\n"
		"  --version                     show the version\n"
		"\n"
		"Volumes are claims <namespace>/<name> of claimfsd, named after the\n"
		"Kubernetes PVC when external-provisioner runs with --extra-create-metadata,\n"
		"else csi/<CSI volume name>. SIGTERM or SIGINT stops the driver and removes\n"
		"the socket.\n",
		CSI_DRIVER_NAME, MAIN_DEFAULT_API, MAIN_DEFAULT_MOUNT, MAIN_DEFAULT_STATE_DIR,
		MAIN_DEFAULT_WORKERS);
}

/* Parse a decimal number in [min, max]. */
static bool main_number(const char *text, long long min, long long max, long long *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
		return false;
	*ret = v;
	return true;
}

/* A topology label value: at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends. */
static bool main_node_id_ok(const char *id)
{
	size_t len = strlen(id);

	if (len == 0 || len > 63)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = id[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && ((i == 0 || i == len - 1) || (c != '-' && c != '_' && c != '.')))
			return false;
	}
	return true;
}

/* Parse argv; exits for --help/--version; returns 0 or -EINVAL. */
static int main_parse(int argc, char **argv, struct main_options *o)
{
	enum { OPT_ENDPOINT = 256, OPT_NODE_ID, OPT_API, OPT_TOKEN, OPT_MOUNT, OPT_STATE,
	       OPT_CAPACITY, OPT_MAX_VOLUMES, OPT_WORKERS, OPT_LOG, OPT_HELP, OPT_VERSION };
	static const struct option longopts[] = {
		{ "endpoint", required_argument, NULL, OPT_ENDPOINT },
		{ "node-id", required_argument, NULL, OPT_NODE_ID },
		{ "api", required_argument, NULL, OPT_API },
		{ "token-file", required_argument, NULL, OPT_TOKEN },
		{ "mount", required_argument, NULL, OPT_MOUNT },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		{ "default-capacity", required_argument, NULL, OPT_CAPACITY },
		{ "max-volumes-per-node", required_argument, NULL, OPT_MAX_VOLUMES },
		{ "workers", required_argument, NULL, OPT_WORKERS },
		{ "log-level", required_argument, NULL, OPT_LOG },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	long long n;
	int c, level;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ENDPOINT: o->endpoint = optarg; break;
		case OPT_NODE_ID: o->node_id = optarg; break;
		case OPT_API: o->api = optarg; break;
		case OPT_TOKEN: o->token_file = optarg; break;
		case OPT_MOUNT: o->mount = optarg; break;
		case OPT_STATE: o->state_dir = optarg; break;
		case OPT_CAPACITY:
			if (quantity_parse(optarg, &o->default_capacity, NULL) < 0 ||
			    o->default_capacity == 0 || o->default_capacity > INT64_MAX) {
				fprintf(stderr, "claimfs-csi: --default-capacity %s: not a positive "
						"quantity such as 1Gi\n", optarg);
				return -EINVAL;
			}
			break;
		case OPT_MAX_VOLUMES:
			if (!main_number(optarg, 0, INT64_MAX, &n)) {
				fprintf(stderr, "claimfs-csi: --max-volumes-per-node %s: not a "
						"number >= 0\n", optarg);
				return -EINVAL;
			}
			o->max_volumes = n;
			break;
		case OPT_WORKERS:
			if (!main_number(optarg, 1, MAIN_WORKERS_MAX, &n)) {
				fprintf(stderr, "claimfs-csi: --workers %s: not a number in 1..%d\n",
					optarg, MAIN_WORKERS_MAX);
				return -EINVAL;
			}
			o->workers = (unsigned)n;
			break;
		case OPT_LOG:
			level = log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr, "claimfs-csi: --log-level %s: expected error, warn, "
						"info or debug\n", optarg);
				return -EINVAL;
			}
			o->log_level = (enum log_level)level;
			break;
		case OPT_HELP:
			main_usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("claimfs-csi %s\n", CLAIMFS_VERSION);
			exit(0);
		default:
			fprintf(stderr, "Try 'claimfs-csi --help'.\n");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "claimfs-csi: unexpected argument \"%s\"\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* "unix:///p", "unix:/p" or "/p" -> "/p"; NULL for anything else. */
static const char *main_socket_path(const char *endpoint)
{
	if (strncmp(endpoint, "unix://", 7) == 0)
		endpoint += 7;
	else if (strncmp(endpoint, "unix:", 5) == 0)
		endpoint += 5;
	return endpoint[0] == '/' ? endpoint : NULL;
}

/* Fill defaults from the environment and check what options cannot. */
static int main_check(struct main_options *o, char *hostname, size_t hostname_size)
{
	const char *path;
	char parent[PATH_MAX], *slash;
	struct stat st;

	if (o->endpoint == NULL)
		o->endpoint = getenv("CSI_ENDPOINT");
	if (o->endpoint == NULL) {
		fprintf(stderr, "claimfs-csi: --endpoint (or $CSI_ENDPOINT) is required\n");
		return -EINVAL;
	}
	path = main_socket_path(o->endpoint);
	if (path == NULL || strlen(path) >= 108) {
		fprintf(stderr, "claimfs-csi: --endpoint %s: expected unix:///ABSOLUTE/PATH.sock "
				"(CSI serves on unix sockets only)\n", o->endpoint);
		return -EINVAL;
	}
	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (slash != NULL && slash != parent)
		*slash = '\0';
	if (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "claimfs-csi: --endpoint %s: directory %s does not exist\n",
			o->endpoint, parent);
		return -ENOENT;
	}
	if (o->node_id == NULL)
		o->node_id = getenv("NODE_ID");
	if (o->node_id == NULL) {
		if (gethostname(hostname, hostname_size) < 0) {
			fprintf(stderr, "claimfs-csi: no --node-id and no host name: %s\n",
				strerror(errno));
			return -errno;
		}
		hostname[hostname_size - 1] = '\0';
		o->node_id = hostname;
	}
	if (!main_node_id_ok(o->node_id)) {
		fprintf(stderr, "claimfs-csi: node id \"%s\" is not a valid topology value (at "
				"most 63 of letters, digits, '-', '_', '.', alphanumeric at both ends)\n",
			o->node_id);
		return -EINVAL;
	}
	return 0;
}

/* Block the signals we wait for (before any thread exists). */
static int main_signals(sigset_t *ret_set)
{
	sigemptyset(ret_set);
	sigaddset(ret_set, SIGTERM);
	sigaddset(ret_set, SIGINT);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -errno;
	return -pthread_sigmask(SIG_BLOCK, ret_set, NULL);
}

/* Start, serve until SIGTERM/SIGINT, stop; exit 0 on a clean stop, 2 on usage errors. */
int main(int argc, char **argv)
{
	struct main_options o = {
		.api = MAIN_DEFAULT_API,
		.mount = MAIN_DEFAULT_MOUNT,
		.state_dir = MAIN_DEFAULT_STATE_DIR,
		.default_capacity = MAPPING_DEFAULT_CAPACITY,
		.workers = MAIN_DEFAULT_WORKERS,
		.log_level = LOG_LEVEL_INFO,
	};
	struct csi_driver driver = { 0 };
	struct csi_server *server = NULL;
	char hostname[256], msg[512] = "";
	sigset_t signals;
	int r, sig = 0;

	if (main_parse(argc, argv, &o) < 0 || main_check(&o, hostname, sizeof(hostname)) < 0)
		return 2;
	log_set_program("claimfs-csi");
	log_set_level(o.log_level);
	driver.node_id = o.node_id;
	driver.mount_dir = o.mount;
	driver.default_capacity = o.default_capacity;
	driver.max_volumes_per_node = o.max_volumes;
	r = daemon_client_init(&driver.api, o.api, o.token_file, msg, sizeof(msg));
	if (r < 0) {
		log_error("%s", msg);
		return 2;
	}
	r = main_signals(&signals);
	if (r < 0) {
		log_error("blocking signals: %s", strerror(-r));
		return 1;
	}
	r = node_state_open(o.state_dir, &driver.node, msg, sizeof(msg));
	if (r < 0) {
		log_error("%s", msg[0] ? msg : strerror(-r));
		return 1;
	}
	r = csi_server_start(&driver, main_socket_path(o.endpoint), o.workers, &server, msg,
			     sizeof(msg));
	if (r < 0) {
		log_error("%s", msg[0] ? msg : strerror(-r));
		goto out;
	}
	log_info("%s %s serving %s (node %s, api %s, mount %s)", CSI_DRIVER_NAME,
		     CLAIMFS_VERSION, o.endpoint, o.node_id, o.api, o.mount);
	while (sig == 0) {
		r = sigwait(&signals, &sig);
		if (r != 0 && r != EINTR) {
			log_error("sigwait: %s", strerror(r));
			r = -r;
			break;
		}
	}
	if (sig != 0) {
		log_info("signal %d: shutting down", sig);
		r = 0;
	}
out:
	csi_server_stop(server);
	node_state_close(driver.node);
	return r < 0 ? 1 : 0;
}
