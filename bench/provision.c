/*
 * provision.c — bench-prov: provision and delete claims through the HTTP API.
 *
 *   bench-prov --port P --count N [--concurrency C] [--prefix NAME]
 *              [--namespace NS] [--storage Q] [--mount DIR] [--first I] [--keep]
 *
 * C threads, each with its own keep-alive connection, take claim numbers
 * I..I+N-1 from a shared counter and POST claims PREFIX-NNNNNN to
 * /api/v1/namespaces/NS/persistentvolumeclaims (201 expected); then, unless
 * --keep, DELETE them all the same way (200 or 202 expected). Each phase is
 * timed from its first request to its last answer; latency is per request.
 *
 * Checks (untimed): with --mount, every claim's directory MOUNT/NS/NAME exists
 * after the create phase (the API promises it exists once answered) and is
 * gone after the delete phase; any unexpected status fails the run.
 */
#include "bench_common.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PROV_MAX_THREADS 256
#define PROV_NAME_MAX 200

struct prov_options {
	const char *host;
	unsigned port;
	uint64_t count;
	uint64_t first;
	uint64_t concurrency;
	const char *prefix;
	const char *namespace_name;
	const char *storage;
	const char *mount;
	bool keep;
};

enum prov_phase { PROV_CREATE, PROV_DELETE };

/* Shared by the worker threads of one phase. */
struct prov_run {
	const struct prov_options *o;
	enum prov_phase phase;
	atomic_uint_fast64_t next; /* next claim offset to take */
	atomic_bool failed;        /* any worker failed: the others stop */
};

struct prov_worker {
	struct prov_run *run;
	pthread_t thread;
	struct http_endpoint endpoint;
	struct http_connection http; /* to endpoint, kept alive */
	struct bench_hist hist;
	int status; /* 0 or a negative errno */
};

/* Claim name of offset i. */
static void prov_name(const struct prov_options *o, uint64_t i, char *buf, size_t size)
{
	snprintf(buf, size, "%s-%06" PRIu64, o->prefix, o->first + i);
}

/* One POST or DELETE; checks the status code. */
static int prov_one(struct prov_worker *w, uint64_t i)
{
	const struct prov_options *o = w->run->o;
	char name[PROV_NAME_MAX], path[PROV_NAME_MAX + 128], body[PROV_NAME_MAX + 256];
	struct http_request request = { .path = path };
	struct http_response resp;
	int r;

	prov_name(o, i, name, sizeof(name));
	if (w->run->phase == PROV_CREATE) {
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/persistentvolumeclaims",
			 o->namespace_name);
		snprintf(body, sizeof(body),
			 "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\","
			 "\"metadata\":{\"name\":\"%s\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"
			 "\"resources\":{\"requests\":{\"storage\":\"%s\"}}}}",
			 name, o->storage);
		request.method = "POST";
		request.content_type = "application/json";
		request.body = body;
		request.body_len = strlen(body);
	} else {
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/persistentvolumeclaims/%s",
			 o->namespace_name, name);
		request.method = "DELETE";
	}
	r = http_connection_exchange(&w->http, &request, &resp);
	if (r < 0) {
		bench_error("%s %s: %s", w->run->phase == PROV_CREATE ? "POST" : "DELETE", name,
			    strerror(-r));
		return r;
	}
	if ((w->run->phase == PROV_CREATE && resp.status != 201) ||
	    (w->run->phase == PROV_DELETE && resp.status != 200 && resp.status != 202)) {
		bench_error("%s %s: HTTP %u: %.300s", request.method, name, resp.status, resp.body);
		r = -EPROTO;
	}
	http_response_free(&resp);
	return r;
}

/* Worker: take claim numbers until none are left or someone failed. */
static void *prov_worker_main(void *arg)
{
	struct prov_worker *w = arg;

	while (!atomic_load(&w->run->failed)) {
		uint64_t i = atomic_fetch_add(&w->run->next, 1), t0;

		if (i >= w->run->o->count)
			break;
		t0 = bench_now_ns();
		w->status = prov_one(w, i);
		if (w->status < 0) {
			atomic_store(&w->run->failed, true);
			break;
		}
		bench_hist_record(&w->hist, bench_now_ns() - t0);
	}
	return NULL;
}

/* Run one phase on all threads; merged latency in *hist, wall time in *ret_ns. */
static int prov_phase_run(const struct prov_options *o, enum prov_phase phase,
			  struct bench_hist *hist, uint64_t *ret_ns)
{
	struct prov_worker *workers;
	struct prov_run run = { .o = o, .phase = phase };
	uint64_t started = 0, t0;
	int r = 0;

	workers = calloc((size_t)o->concurrency, sizeof(*workers));
	if (!workers)
		return -ENOMEM;
	for (uint64_t t = 0; t < o->concurrency; t++) /* all closable at out */
		http_connection_init(&workers[t].http, &workers[t].endpoint);
	for (uint64_t t = 0; t < o->concurrency; t++) {
		workers[t].run = &run;
		bench_hist_init(&workers[t].hist);
		r = bench_endpoint(o->host, o->port, &workers[t].endpoint);
		if (r < 0) {
			bench_error("bad address %s:%u", o->host, o->port);
			goto out;
		}
	}
	atomic_init(&run.next, 0);
	atomic_init(&run.failed, false);
	t0 = bench_now_ns();
	for (; started < o->concurrency; started++) {
		r = -pthread_create(&workers[started].thread, NULL, prov_worker_main,
				    &workers[started]);
		if (r < 0) {
			bench_error("pthread_create: %s", strerror(-r));
			atomic_store(&run.failed, true);
			break;
		}
	}
	for (uint64_t t = 0; t < started; t++) {
		pthread_join(workers[t].thread, NULL);
		if (workers[t].status < 0 && r == 0)
			r = workers[t].status;
		bench_hist_merge(hist, &workers[t].hist);
	}
	*ret_ns = bench_now_ns() - t0;
out:
	for (uint64_t t = 0; t < o->concurrency; t++)
		http_connection_close(&workers[t].http);
	free(workers);
	return r;
}

/* Every claim directory exists (want_present) or is gone. */
static int prov_check_mount(const struct prov_options *o, bool want_present)
{
	char name[PROV_NAME_MAX], path[PATH_MAX];

	for (uint64_t i = 0; i < o->count; i++) {
		struct stat st;
		int present;

		prov_name(o, i, name, sizeof(name));
		snprintf(path, sizeof(path), "%s/%s/%s", o->mount, o->namespace_name, name);
		if (stat(path, &st) == 0) {
			present = S_ISDIR(st.st_mode);
		} else if (errno == ENOENT) {
			present = 0;
		} else {
			bench_error("stat %s: %s", path, strerror(errno));
			return -EIO;
		}
		if (present != want_present) {
			bench_error("%s is %s after %s", path, present ? "still there" : "missing",
				    want_present ? "create" : "delete");
			return -EIO;
		}
	}
	return 0;
}

/* Parse the options. */
static int prov_parse_args(int argc, char **argv, struct prov_options *o)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'h' },
		{ "port", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'c' },
		{ "first", required_argument, NULL, 'f' },
		{ "concurrency", required_argument, NULL, 'C' },
		{ "prefix", required_argument, NULL, 'P' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "storage", required_argument, NULL, 's' },
		{ "mount", required_argument, NULL, 'm' },
		{ "keep", no_argument, NULL, 'k' },
		{ 0 },
	};
	uint64_t port = 0;
	int c;

	*o = (struct prov_options){ .host = "127.0.0.1", .count = 100, .concurrency = 1,
				    .prefix = "bench", .namespace_name = "default",
				    .storage = "1Mi" };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			o->host = optarg;
			break;
		case 'p':
			if (bench_parse_u64(optarg, &port) < 0 || port == 0 || port > 65535)
				return -EINVAL;
			o->port = (unsigned)port;
			break;
		case 'c':
			if (bench_parse_u64(optarg, &o->count) < 0)
				return -EINVAL;
			break;
		case 'f':
			if (bench_parse_u64(optarg, &o->first) < 0)
				return -EINVAL;
			break;
		case 'C':
			if (bench_parse_u64(optarg, &o->concurrency) < 0)
				return -EINVAL;
			break;
		case 'P':
			o->prefix = optarg;
			break;
		case 'n':
			o->namespace_name = optarg;
			break;
		case 's':
			o->storage = optarg;
			break;
		case 'm':
			o->mount = optarg;
			break;
		case 'k':
			o->keep = true;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind != argc || o->port == 0 || o->count == 0 || o->concurrency == 0 ||
	    o->concurrency > PROV_MAX_THREADS || strlen(o->prefix) > 60 ||
	    strlen(o->namespace_name) > 63 || strlen(o->storage) > 32)
		return -EINVAL;
	return 0;
}

/* Create (and delete) the claims and print the JSON line. */
int main(int argc, char **argv)
{
	struct prov_options o;
	struct bench_hist create_hist, delete_hist;
	uint64_t create_ns = 0, delete_ns = 0;
	struct bench_json json;
	int r;

	bench_set_program("bench-prov");
	if (prov_parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: bench-prov --port P --count N [--concurrency C] "
				"[--prefix NAME] [--namespace NS] [--storage Q] [--mount DIR] "
				"[--first I] [--keep] [--host IPV4]\n");
		return 2;
	}
	bench_hist_init(&create_hist);
	bench_hist_init(&delete_hist);
	r = prov_phase_run(&o, PROV_CREATE, &create_hist, &create_ns);
	if (r == 0 && o.mount)
		r = prov_check_mount(&o, true);
	if (r == 0 && !o.keep) {
		r = prov_phase_run(&o, PROV_DELETE, &delete_hist, &delete_ns);
		if (r == 0 && o.mount)
			r = prov_check_mount(&o, false);
	}
	if (r < 0)
		return 1;
	bench_json_begin(&json, stdout);
	bench_json_string(&json, "workload", "provision");
	bench_json_int(&json, "claims", (int64_t)o.count);
	bench_json_int(&json, "concurrency", (int64_t)o.concurrency);
	bench_json_double(&json, "create_seconds", (double)create_ns / 1e9);
	bench_json_double(&json, "create_per_s", (double)o.count / ((double)create_ns / 1e9));
	bench_json_hist(&json, "create", &create_hist);
	if (!o.keep) {
		bench_json_double(&json, "delete_seconds", (double)delete_ns / 1e9);
		bench_json_double(&json, "delete_per_s",
				  (double)o.count / ((double)delete_ns / 1e9));
		bench_json_hist(&json, "delete", &delete_hist);
	}
	return bench_json_end(&json) < 0 ? 1 : 0;
}
