/*
 * app.c — the built-in visits app (see app.h), on libmicrohttpd.
 *
 * Invariants:
 *  - One MHD polling thread handles every request, so visits are
 *    serialised and read-modify-write of the count needs no file lock; the
 *    mutex only orders the handler against the ack-before-fsync flusher.
 *  - In the correct mode a visit is answered only after the new count is
 *    durable: file fsync, rename, directory fsync.
 *  - Each request counts at most one visit (*req_cls marks it answered).
 *  - Signals are blocked in every thread; main() alone takes them with
 *    sigwait(), so MHD threads never run signal handlers.
 */
#include "app.h"
#include "options.h"
#include "util.h"
#include "verdict.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define APP_FLUSH_PERIOD_MS 250

/* One visits file: where it is and the temporary name used to replace it. */
struct app_file {
	char dir[PATH_MAX];
	char path[PATH_MAX];
	char tmp[PATH_MAX];
};

struct app {
	struct app_file own;
	int held_fd;           /* --keep-open: the visits file, open for the app's life (else -1) */
	char name[NAME_MAX + 1]; /* --keep-open: its name, relative to the working directory */
	struct app_file other; /* cross-write victim (broken mode) */
	char pod[128];
	enum options_broken broken;
	pthread_mutex_t lock;   /* protects count and dirty */
	long count;             /* ack-before-fsync: the count not yet written */
	bool dirty;
	atomic_bool stopping;
};

/* Fill F for directory DIR, file NAME; the temporary file carries POD so two
 * writers never share one. */
static int app_file_init(struct app_file *f, const char *dir, const char *name, const char *pod)
{
	if (util_copy(f->dir, sizeof(f->dir), dir) < 0 ||
	    util_format(f->path, sizeof(f->path), "%s/%s", dir, name) < 0 ||
	    util_format(f->tmp, sizeof(f->tmp), "%s/.%s.%s.tmp", dir, name, pod) < 0)
		return -ENAMETOOLONG;
	return 0;
}

/* Read the count of F (missing file = 0). */
static int app_load(const struct app_file *f, long *ret_count)
{
	char writer[128];
	int r = verdict_read_visits(f->path, ret_count, writer, sizeof(writer));
	return r == -ENOENT ? 0 : r;
}

/* Durably replace F with "COUNT SIGNER\n". */
static int app_store(const struct app_file *f, long count, const char *signer)
{
	char text[192];
	int len = snprintf(text, sizeof(text), "%ld %s\n", count, signer);
	int r = 0;
	int fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)len) != len)
		r = errno ? -errno : -EIO;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(f->tmp, f->path) < 0)
		r = -errno;
	if (r < 0)
		return r;
	int dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd) < 0)
		r = -errno;
	close(dfd);
	return r;
}

/* Log a failed system call (the harness counts these lines); returns -ERR. */
static int app_syscall_failed(const struct app *app, const char *call, const char *what, int err)
{
	fprintf(stderr, "%s: " APP_SYSCALL_FAILED " %s %s: %s\n", app->pod, call, what, strerror(err));
	return -err;
}

/* --keep-open: one visit through the held descriptor (see app.h). */
static int app_count_held(struct app *app, long *ret_count)
{
	char text[192];
	struct stat by_name, held;
	if (stat(app->name, &by_name) < 0)
		return app_syscall_failed(app, "stat", app->name, errno);
	if (fstat(app->held_fd, &held) < 0)
		return app_syscall_failed(app, "fstat", app->name, errno);
	if (by_name.st_ino != held.st_ino)
		return app_syscall_failed(app, "stat", "(the file by name is not the open one)", ESTALE);
	ssize_t n = pread(app->held_fd, text, sizeof(text) - 1, 0);
	if (n < 0)
		return app_syscall_failed(app, "pread", app->name, errno);
	text[n] = '\0';
	char *end = NULL;
	long count = strtol(text, &end, 10);
	if (n > 0 && (end == text || count < 0)) {
		fprintf(stderr, "%s: %s holds no count: '%.40s'\n", app->pod, app->name, text);
		return -EBADMSG;
	}
	int len = snprintf(text, sizeof(text), "%ld %s\n", count + 1, app->pod);
	n = pwrite(app->held_fd, text, (size_t)len, 0);
	if (n != len)
		return app_syscall_failed(app, "pwrite", app->name, n < 0 ? errno : EIO);
	if (fsync(app->held_fd) < 0)
		return app_syscall_failed(app, "fsync", app->name, errno);
	*ret_count = count + 1;
	return 0;
}

/* --keep-open: change into DIR, open NAME for good and make it durable. */
static int app_hold(struct app *app, const char *dir, const char *name)
{
	if (util_copy(app->name, sizeof(app->name), name) < 0)
		return -ENAMETOOLONG;
	if (chdir(dir) < 0)
		return app_syscall_failed(app, "chdir", dir, errno);
	app->held_fd = open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (app->held_fd < 0)
		return app_syscall_failed(app, "open", name, errno);
	if (fsync(app->held_fd) < 0)
		return app_syscall_failed(app, "fsync", name, errno);
	int dfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return app_syscall_failed(app, "open", dir, errno);
	int r = fsync(dfd) < 0 ? app_syscall_failed(app, "fsync", dir, errno) : 0;
	close(dfd);
	return r;
}

/* Count one visit in F, signed by SIGNER; the new count in *ret_count. */
static int app_count_visit(const struct app_file *f, const char *signer, long *ret_count)
{
	long count;
	int r = app_load(f, &count);
	if (r < 0)
		return r;
	r = app_store(f, count + 1, signer);
	if (r == 0)
		*ret_count = count + 1;
	return r;
}

/* Queue a text/plain answer. */
static enum MHD_Result app_reply(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), (void *)text,
								    MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	enum MHD_Result r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return r;
}

/* GET /: one visit, by the app's mode. */
static enum MHD_Result app_visit(struct app *app, struct MHD_Connection *c)
{
	char text[256];
	long count = 0;
	int r = 0;
	pthread_mutex_lock(&app->lock);
	if (app->broken == BROKEN_ACK_BEFORE_FSYNC) {
		count = ++app->count; /* acknowledged now, written by the flusher later */
		app->dirty = true;
	} else if (app->held_fd >= 0) {
		r = app_count_held(app, &count);
	} else {
		r = app_count_visit(&app->own, app->pod, &count);
		if (r == 0 && app->broken == BROKEN_CROSS_WRITE) {
			long ignored;
			app_count_visit(&app->other, app->pod, &ignored);
		}
	}
	pthread_mutex_unlock(&app->lock);
	if (r < 0) {
		snprintf(text, sizeof(text), "visit not recorded: %s\n", strerror(-r));
		fprintf(stderr, "%s: %s", app->pod, text);
		return app_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, text);
	}
	snprintf(text, sizeof(text), "%ld\n", count);
	return app_reply(c, MHD_HTTP_OK, text);
}

/* MHD access handler. */
static enum MHD_Result app_handler(void *cls, struct MHD_Connection *c, const char *url,
				   const char *method, const char *version, const char *upload_data,
				   size_t *upload_data_size, void **req_cls)
{
	static int app_answered; /* address used as "this request already got its answer" */
	(void)version;
	(void)upload_data;
	*upload_data_size = 0;
	/* libmicrohttpd 0.9.75 may call the handler again for a request whose
	 * answer was already queued (seen during MHD_stop_daemon); counting the
	 * visit twice would be exactly the bug this harness hunts. */
	if (*req_cls == &app_answered)
		return MHD_NO;
	*req_cls = &app_answered;
	if (strcmp(method, "GET") != 0)
		return app_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n");
	if (strcmp(url, "/healthz") == 0)
		return app_reply(c, MHD_HTTP_OK, "ok\n");
	if (strcmp(url, "/") == 0)
		return app_visit(cls, c);
	return app_reply(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* ack-before-fsync: write the acknowledged count some time later. */
static void *app_flusher(void *arg)
{
	struct app *app = arg;
	while (!atomic_load(&app->stopping)) {
		util_sleep_ms(APP_FLUSH_PERIOD_MS);
		pthread_mutex_lock(&app->lock);
		if (app->dirty && !atomic_load(&app->stopping)) {
			if (app_store(&app->own, app->count, app->pod) == 0)
				app->dirty = false;
		}
		pthread_mutex_unlock(&app->lock);
	}
	return NULL;
}

/* Parse the app's arguments and environment into APP; returns the port
 * (*ret_keep_open: --keep-open was given). */
static int app_configure(struct app *app, int argc, char **argv, bool *ret_keep_open)
{
	const char *port_text = getenv("PORT"), *data = getenv("DATA_DIR");
	const char *pod = getenv("POD_NAME"), *name = getenv("VISITS_FILE");
	const char *other = NULL;
	unsigned long port;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--internal-app") == 0)
			continue;
		if (strcmp(argv[i], "--broken=ack-before-fsync") == 0)
			app->broken = BROKEN_ACK_BEFORE_FSYNC;
		else if (strcmp(argv[i], "--broken=cross-write") == 0)
			app->broken = BROKEN_CROSS_WRITE;
		else if (strncmp(argv[i], "--other-data=", 13) == 0)
			other = argv[i] + 13;
		else if (strcmp(argv[i], "--keep-open") == 0)
			*ret_keep_open = true;
		else
			return -EINVAL;
	}
	if (!port_text || util_parse_ulong(port_text, 65535, &port) < 0 || !port || !data || !*data)
		return -EINVAL;
	if (!name || !*name)
		name = "visits.txt";
	if (util_copy(app->pod, sizeof(app->pod), pod && *pod ? pod : "visits-app") < 0 ||
	    app_file_init(&app->own, data, name, app->pod) < 0)
		return -EINVAL;
	if (app->broken == BROKEN_CROSS_WRITE && (!other || app_file_init(&app->other, other, name, app->pod) < 0))
		return -EINVAL;
	return (int)port;
}

/* Log what each of PEER_NAMES resolves to from here (see app.h). */
static void app_log_peers(const struct app *app)
{
	const char *env = getenv("PEER_NAMES");
	char *names = env ? strdup(env) : NULL, *save = NULL;
	char host[HOST_NAME_MAX + 1];
	if (gethostname(host, sizeof(host)) == 0)
		fprintf(stderr, "%s: hostname is %s\n", app->pod, host);
	for (char *name = names ? strtok_r(names, " ", &save) : NULL; name; name = strtok_r(NULL, " ", &save)) {
		struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *list = NULL;
		char address[INET_ADDRSTRLEN] = "unresolved";
		int r = getaddrinfo(name, NULL, &hints, &list);
		if (r == 0)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)list->ai_addr)->sin_addr, address,
				  sizeof(address));
		fprintf(stderr, "%s: %s is %s%s%s\n", app->pod, name, address, r ? ": " : "",
			r ? gai_strerror(r) : "");
		if (list)
			freeaddrinfo(list);
	}
	free(names);
}

/* See app.h. */
int app_main(int argc, char **argv)
{
	struct app app;
	bool keep_open = false;
	memset(&app, 0, sizeof(app));
	app.held_fd = -1;
	pthread_mutex_init(&app.lock, NULL);
	int port = app_configure(&app, argc, argv, &keep_open);
	if (port < 0) {
		fprintf(stderr, "usage: PORT=N DATA_DIR=DIR [POD_NAME=NAME] [POD_IP=ADDR] claimfs-harness"
				" --internal-app [--keep-open] [--broken=ack-before-fsync|cross-write"
				" --other-data=DIR]\n");
		return 2;
	}
	const char *name = getenv("VISITS_FILE");
	if (keep_open && app_hold(&app, app.own.dir, name && *name ? name : "visits.txt") < 0)
		return 1;
	app_log_peers(&app);
	if (app.broken == BROKEN_ACK_BEFORE_FSYNC && app_load(&app.own, &app.count) < 0) {
		fprintf(stderr, "%s: cannot read %s\n", app.pod, app.own.path);
		return 1;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* POD_IP: the replica's own loopback address, which its stable name
	 * resolves to (fleet.h); 127.0.0.1 when run by hand. */
	const char *ip = getenv("POD_IP");
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (ip && *ip && inet_pton(AF_INET, ip, &sin.sin_addr) != 1) {
		fprintf(stderr, "%s: POD_IP '%s' is not an IPv4 address\n", app.pod, ip);
		return 2;
	}
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG,
						(uint16_t)port, NULL, NULL, app_handler, &app,
						MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
						MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "%s: cannot listen on %s:%d\n", app.pod, ip && *ip ? ip : "127.0.0.1", port);
		return 1;
	}
	pthread_t flusher;
	bool have_flusher = app.broken == BROKEN_ACK_BEFORE_FSYNC &&
			    pthread_create(&flusher, NULL, app_flusher, &app) == 0;
	char where[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sin.sin_addr, where, sizeof(where));
	fprintf(stderr, "%s: visits app (%s%s) on %s:%d, data %s\n", app.pod,
		options_broken_name(app.broken), keep_open ? ", file kept open" : "", where, port,
		app.own.path);
	int sig = 0;
	sigwait(&set, &sig);
	/* ack-before-fsync loses what it has not flushed: "writes later or never". */
	atomic_store(&app.stopping, true);
	if (have_flusher)
		pthread_join(flusher, NULL);
	MHD_stop_daemon(d);
	if (app.held_fd >= 0)
		close(app.held_fd);
	pthread_mutex_destroy(&app.lock);
	return 0;
}
