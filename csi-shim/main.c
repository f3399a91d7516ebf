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
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdline.h"
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
	const char *peer_nodes;
	const char *api;
	const char *token_file;
	const char *mount;
	const char *state_dir;
	uint64_t default_capacity;
	int64_t max_volumes;
	unsigned workers;
	enum log_level log_level;
};

/* --default-capacity: a positive quantity such as 1Gi. */
static int main_set_capacity(void *opts, const char *argument)
{
	struct main_options *o = opts;
	uint64_t bytes;

	if (quantity_parse(argument, &bytes, NULL) < 0 || bytes == 0 || bytes > INT64_MAX)
		return -EINVAL;
	o->default_capacity = bytes;
	return 0;
}

/* --log-level: applied once the options are all read. */
static int main_set_log_level(void *opts, const char *argument)
{
	struct main_options *o = opts;
	int level = log_level_parse(argument);

	if (level < 0)
		return -EINVAL;
	o->log_level = (enum log_level)level;
	return 0;
}

#define MAIN_OPT(field) offsetof(struct main_options, field)
#define MAIN_STRINGIFY(x) #x
#define MAIN_STRING(x) MAIN_STRINGIFY(x)

/* The command line, in --help order. */
static const struct cmdline_option main_options_table[] = {
	{ .name = "endpoint", .kind = CMDLINE_STRING, .offset = MAIN_OPT(endpoint),
	  .arg = "unix:///PATH.sock", .help = "socket to serve (default: $CSI_ENDPOINT)" },
	{ .name = "node-id", .kind = CMDLINE_STRING, .offset = MAIN_OPT(node_id), .arg = "ID",
	  .help = "this node's id and topology value\n(default: $NODE_ID, else the host name)" },
	{ .name = "peer-nodes", .kind = CMDLINE_STRING, .offset = MAIN_OPT(peer_nodes),
	  .arg = "ID,ID...",
	  .help = "other nodes that reach this claimfsd's volumes (ControllerPublishVolume\n"
		  "accepts them besides --node-id; default: none)" },
	{ .name = "api", .kind = CMDLINE_STRING, .offset = MAIN_OPT(api), .arg = "URL",
	  .help = "claimfsd API: http://HOST:PORT or unix:///PATH\n(default " MAIN_DEFAULT_API ")" },
	{ .name = "token-file", .kind = CMDLINE_STRING, .offset = MAIN_OPT(token_file), .arg = "FILE",
	  .help = "bearer token for the API (claimfsd --token-file)" },
	{ .name = "mount", .kind = CMDLINE_STRING, .offset = MAIN_OPT(mount), .arg = "DIR",
	  .help = "claimfsd's --mount as seen here (default " MAIN_DEFAULT_MOUNT ")" },
	{ .name = "state-dir", .kind = CMDLINE_STRING, .offset = MAIN_OPT(state_dir), .arg = "DIR",
	  .help = "where publications are recorded (default " MAIN_DEFAULT_STATE_DIR ")" },
	{ .name = "default-capacity", .kind = CMDLINE_CALL, .set = main_set_capacity,
	  .arg = "QUANTITY", .invalid = "--default-capacity %s: not a positive quantity such as 1Gi",
	  .help = "size of volumes the CO gives no size (default 1Gi)" },
	{ .name = "max-volumes-per-node", .kind = CMDLINE_I64, .offset = MAIN_OPT(max_volumes),
	  .arg = "N", .max = INT64_MAX, .invalid = "--max-volumes-per-node %s: not a number >= 0",
	  .help = "reported by NodeGetInfo; 0 = no limit (default 0)" },
	{ .name = "workers", .kind = CMDLINE_UNSIGNED, .offset = MAIN_OPT(workers), .arg = "N",
	  .min = 1, .max = MAIN_WORKERS_MAX,
	  .invalid = "--workers %s: not a number in 1.." MAIN_STRING(MAIN_WORKERS_MAX),
	  .help = "calls served at once (default " MAIN_STRING(MAIN_DEFAULT_WORKERS) ")" },
	{ .name = "log-level", .kind = CMDLINE_CALL, .set = main_set_log_level, .arg = "LEVEL",
	  .invalid = "--log-level %s: expected error, warn, info or debug",
	  .help = "error, warn, info (default) or debug" },
	{ .name = "help", .kind = CMDLINE_HELP, .help = "show this text" },
	{ .name = "version", .kind = CMDLINE_VERSION, .help = "show the version" },
};

static const struct cmdline_program main_program = {
	.name = "claimfs-csi",
	.version = "claimfs-csi " CLAIMFS_VERSION,
	.options = main_options_table,
	.n_options = sizeof(main_options_table) / sizeof(main_options_table[0]),
	.usage_head =
		"Usage: claimfs-csi [OPTIONS]\n"
		"CSI v1 driver \"" CSI_DRIVER_NAME "\" for claimfs: Identity, Controller and Node services on a\n"
		"unix socket, provisioning through claimfsd's HTTP API and publishing claims by\n"
		"bind-mounting directories of claimfsd's mount.\n"
		"\n",
	.usage_tail =
		"\n"
		"Volumes are claims <namespace>/<name> of claimfsd, named after the\n"
		"Kubernetes PVC when external-provisioner runs with --extra-create-metadata,\n"
		"else csi/<CSI volume name>. SIGTERM or SIGINT stops the driver and removes\n"
		"the socket.\n",
	.help_column = 32,
	.unexpected = "unexpected argument \"%s\"",
};

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

/* --peer-nodes: comma-separated valid node ids. */
static int main_check_peers(const char *list)
{
	char id[64];
	const char *p = list;

	while (p != NULL && *p != '\0') {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

		if (len >= sizeof(id)) {
			fprintf(stderr, "claimfs-csi: --peer-nodes: a node id is too long\n");
			return -EINVAL;
		}
		memcpy(id, p, len);
		id[len] = '\0';
		if (!main_node_id_ok(id)) {
			fprintf(stderr, "claimfs-csi: --peer-nodes: \"%s\" is not a valid node id\n",
				id);
			return -EINVAL;
		}
		p = comma != NULL ? comma + 1 : NULL;
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

	r = cmdline_parse(&main_program, argc, argv, &o);
	if (r > 0)
		return 0; /* --help, --version */
	if (r < 0 || main_check(&o, hostname, sizeof(hostname)) < 0 ||
	    main_check_peers(o.peer_nodes) < 0)
		return 2;
	log_set_program("claimfs-csi");
	log_set_level(o.log_level);
	driver.node_id = o.node_id;
	driver.peer_nodes = o.peer_nodes;
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
