/*
 * server.c — gRPC core server for claimfs-csi (see server.h).
 *
 * Threading: N workers, each with its own completion queue. A worker asks
 * the server for the next call on its queue, serves it start to finish
 * (receive message -> handler -> send answer and status), then asks again;
 * so a worker has at most one operation pending on its queue at any time,
 * and grpc_completion_queue_next on it always returns that operation. All
 * CSI RPCs are unary, which is what makes this simple loop sufficient.
 *
 * Shutdown (csi_server_stop): shutdown_and_notify + cancel_all_calls; every
 * worker's pending request then completes unsuccessfully and the worker
 * leaves its loop; once the shutdown tag arrives and the workers are joined,
 * the queues are shut down, drained and destroyed, then the server.
 *
 * Per call, every allocation is in one arena (arena.h); the gRPC objects
 * (call, byte buffers, slices, details) are released in csi_serve's single
 * exit path.
 */
#include "server.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>

#include "csi.h"
#include "log.h"

#define CSI_METHOD_MAX 256

struct csi_worker {
	struct csi_server *server;
	grpc_completion_queue *cq;
	pthread_t thread;
	bool started;
	char tag_new, tag_batch; /* their addresses are the tags */
};

struct csi_server {
	struct csi_driver *driver;
	grpc_server *grpc;
	grpc_completion_queue *shutdown_cq;
	char *socket_path;
	unsigned n_workers;
	struct csi_worker *workers;
	bool grpc_ready; /* grpc_init was called */
	char tag_shutdown;
};

/* Wait for the one operation pending on the worker's queue. */
static bool csi_wait(struct csi_worker *w, void *tag)
{
	grpc_event ev = grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);

	return ev.type == GRPC_OP_COMPLETE && ev.tag == tag && ev.success;
}

/* Run a batch on the call and wait for it. */
static bool csi_batch(struct csi_worker *w, grpc_call *call, const grpc_op *ops, size_t n)
{
	if (grpc_call_start_batch(call, ops, n, &w->tag_batch, NULL) != GRPC_CALL_OK)
		return false;
	return csi_wait(w, &w->tag_batch);
}

/* Decode the request and run the handler; the outcome is in ctx. */
static void csi_dispatch(struct csi_call *ctx, grpc_byte_buffer *payload,
			 ProtobufCMessage **ret_response)
{
	const struct csi_method *method = csi_method_find(ctx->method);
	grpc_byte_buffer_reader reader;
	ProtobufCAllocator allocator;
	ProtobufCMessage *request;
	grpc_slice slice;

	*ret_response = NULL;
	if (method == NULL) {
		csi_fail(ctx, GRPC_STATUS_UNIMPLEMENTED, "claimfs-csi does not implement %s",
			 ctx->method);
		return;
	}
	if (payload == NULL) {
		csi_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "request message missing");
		return;
	}
	if (!grpc_byte_buffer_reader_init(&reader, payload)) {
		csi_fail(ctx, GRPC_STATUS_INTERNAL, "cannot read the request message");
		return;
	}
	slice = grpc_byte_buffer_reader_readall(&reader);
	grpc_byte_buffer_reader_destroy(&reader);
	arena_protobuf_allocator(ctx->arena, &allocator);
	request = protobuf_c_message_unpack(method->request, &allocator, GRPC_SLICE_LENGTH(slice),
					    GRPC_SLICE_START_PTR(slice));
	grpc_slice_unref(slice);
	if (request == NULL) {
		csi_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "request is not a valid %s",
			 method->request->name);
		return;
	}
	if (method->handler(ctx, request, ret_response) == 0 && *ret_response == NULL)
		csi_fail(ctx, GRPC_STATUS_INTERNAL, "handler of %s answered nothing", ctx->method);
	if (ctx->code != GRPC_STATUS_OK)
		*ret_response = NULL;
}

/* Pack a response into a byte buffer (NULL when out of memory). */
static grpc_byte_buffer *csi_pack(const ProtobufCMessage *response)
{
	size_t size = protobuf_c_message_get_packed_size(response);
	grpc_slice slice = grpc_slice_malloc(size);
	grpc_byte_buffer *buffer;

	protobuf_c_message_pack(response, GRPC_SLICE_START_PTR(slice));
	buffer = grpc_raw_byte_buffer_create(&slice, 1);
	grpc_slice_unref(slice);
	return buffer;
}

/* Serve one unary call from start to finish. */
static void csi_serve(struct csi_worker *w, grpc_call *call, const grpc_call_details *details)
{
	struct csi_call ctx = { .driver = w->server->driver, .code = GRPC_STATUS_OK };
	grpc_byte_buffer *payload = NULL, *answer = NULL;
	grpc_slice status_details = grpc_empty_slice();
	char method[CSI_METHOD_MAX];
	ProtobufCMessage *response = NULL;
	size_t len = GRPC_SLICE_LENGTH(details->method);
	int cancelled = 0;
	grpc_op ops[4];
	size_t n = 0;

	if (len >= sizeof(method))
		len = sizeof(method) - 1;
	memcpy(method, GRPC_SLICE_START_PTR(details->method), len);
	method[len] = '\0';
	ctx.method = method;

	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_MESSAGE;
	ops[0].data.recv_message.recv_message = &payload;
	if (!csi_batch(w, call, ops, 1)) {
		log_debug("%s: cancelled before its request arrived", method);
		goto out;
	}
	ctx.arena = arena_create();
	if (ctx.arena == NULL)
		csi_fail_oom(&ctx);
	else
		csi_dispatch(&ctx, payload, &response);
	if (ctx.code == GRPC_STATUS_OK) {
		answer = csi_pack(response);
		if (answer == NULL)
			csi_fail_oom(&ctx);
	}

	memset(ops, 0, sizeof(ops));
	ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
	if (answer != NULL) {
		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n++].data.send_message.send_message = answer;
	}
	ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	ops[n].data.send_status_from_server.status = ctx.code;
	if (ctx.code != GRPC_STATUS_OK) {
		status_details = grpc_slice_from_copied_string(ctx.message);
		ops[n].data.send_status_from_server.status_details = &status_details;
	}
	n++;
	ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	ops[n++].data.recv_close_on_server.cancelled = &cancelled;
	if (!csi_batch(w, call, ops, n) || cancelled)
		log_debug("%s: the client went away before the answer", method);
	if (ctx.code == GRPC_STATUS_OK)
		log_debug("%s: OK", method);
	else
		log_info("%s: status %d: %s", method, (int)ctx.code, ctx.message);
out:
	grpc_slice_unref(status_details);
	if (answer != NULL)
		grpc_byte_buffer_destroy(answer);
	if (payload != NULL)
		grpc_byte_buffer_destroy(payload);
	arena_destroy(ctx.arena);
}

/* Worker loop: take a call, serve it, repeat until the server shuts down. */
static void *csi_worker_main(void *arg)
{
	struct csi_worker *w = arg;

	for (;;) {
		grpc_call *call = NULL;
		grpc_call_details details;
		grpc_metadata_array metadata;
		bool ok;

		grpc_call_details_init(&details);
		grpc_metadata_array_init(&metadata);
		ok = grpc_server_request_call(w->server->grpc, &call, &details, &metadata, w->cq,
					      w->cq, &w->tag_new) == GRPC_CALL_OK &&
		     csi_wait(w, &w->tag_new);
		if (ok)
			csi_serve(w, call, &details);
		if (call != NULL)
			grpc_call_unref(call);
		grpc_call_details_destroy(&details);
		grpc_metadata_array_destroy(&metadata);
		if (!ok)
			break; /* the server is shutting down */
	}
	return NULL;
}

/* Shut a queue down and drain it, then destroy it. */
static void csi_queue_destroy(grpc_completion_queue *cq)
{
	if (cq == NULL)
		return;
	grpc_completion_queue_shutdown(cq);
	while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
	       GRPC_QUEUE_SHUTDOWN) {
	}
	grpc_completion_queue_destroy(cq);
}

/* Replace a stale socket file; refuse to delete anything else. */
static int csi_socket_prepare(const char *path, char *msg, size_t msg_size)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(msg, msg_size, "%s exists and is not a socket", path);
		return -EEXIST;
	}
	if (unlink(path) < 0) {
		snprintf(msg, msg_size, "removing stale socket %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Create the server, bind, start the workers. */
int csi_server_start(struct csi_driver *driver, const char *socket_path, unsigned workers,
		     struct csi_server **ret_server, char *msg, size_t msg_size)
{
	struct csi_server *s = calloc(1, sizeof(*s));
	grpc_server_credentials *creds;
	char *address = NULL;
	int r;

	if (s == NULL)
		return -ENOMEM;
	s->driver = driver;
	s->n_workers = workers;
	s->socket_path = strdup(socket_path);
	s->workers = calloc(workers, sizeof(*s->workers));
	if (s->socket_path == NULL || s->workers == NULL ||
	    asprintf(&address, "unix:%s", socket_path) < 0) {
		address = NULL;
		r = -ENOMEM;
		goto fail;
	}
	r = csi_socket_prepare(socket_path, msg, msg_size);
	if (r < 0)
		goto fail;
	grpc_init();
	s->grpc_ready = true;
	s->grpc = grpc_server_create(NULL, NULL);
	s->shutdown_cq = grpc_completion_queue_create_for_next(NULL);
	grpc_server_register_completion_queue(s->grpc, s->shutdown_cq, NULL);
	for (unsigned i = 0; i < workers; i++) {
		s->workers[i].server = s;
		s->workers[i].cq = grpc_completion_queue_create_for_next(NULL);
		grpc_server_register_completion_queue(s->grpc, s->workers[i].cq, NULL);
	}
	creds = grpc_insecure_server_credentials_create();
	r = grpc_server_add_http2_port(s->grpc, address, creds);
	grpc_server_credentials_release(creds);
	if (r == 0) {
		snprintf(msg, msg_size, "cannot listen on %s (see the gRPC message above)", address);
		r = -EADDRNOTAVAIL;
		goto fail;
	}
	grpc_server_start(s->grpc);
	for (unsigned i = 0; i < workers; i++) {
		r = -pthread_create(&s->workers[i].thread, NULL, csi_worker_main, &s->workers[i]);
		if (r < 0) {
			snprintf(msg, msg_size, "starting worker threads: %s", strerror(-r));
			goto fail;
		}
		s->workers[i].started = true;
	}
	free(address);
	*ret_server = s;
	return 0;
fail:
	free(address);
	csi_server_stop(s);
	return r;
}

/* Stop, join, destroy, remove the socket. */
void csi_server_stop(struct csi_server *server)
{
	if (server == NULL)
		return;
	if (server->grpc != NULL) {
		grpc_server_shutdown_and_notify(server->grpc, server->shutdown_cq,
						&server->tag_shutdown);
		grpc_server_cancel_all_calls(server->grpc);
		/* Worker queues are not read here: the workers drain them until they quit. */
		while (grpc_completion_queue_next(server->shutdown_cq,
						  gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
			       .tag != &server->tag_shutdown) {
		}
	}
	for (unsigned i = 0; i < server->n_workers && server->workers != NULL; i++)
		if (server->workers[i].started)
			pthread_join(server->workers[i].thread, NULL);
	for (unsigned i = 0; i < server->n_workers && server->workers != NULL; i++)
		csi_queue_destroy(server->workers[i].cq);
	if (server->grpc != NULL)
		grpc_server_destroy(server->grpc);
	csi_queue_destroy(server->shutdown_cq);
	if (server->grpc != NULL && server->socket_path != NULL && unlink(server->socket_path) < 0 &&
	    errno != ENOENT)
		log_warn("removing %s: %s", server->socket_path, strerror(errno));
	if (server->grpc_ready)
		grpc_shutdown();
	free(server->workers);
	free(server->socket_path);
	free(server);
}
