/*
 * http.c — libmicrohttpd front end of the API.
 *
 * Owns: one MHD daemon per listening socket (TCP on the --listen address,
 * every address it resolves to; a unix socket when configured; the volume
 * plugin's unix socket when configured; the sockets themselves come from
 * http_listen.c), and the per-request buffers. Each daemon has a listener
 * (struct http_listener) saying which protocol it serves: the Kubernetes
 * API (api_handle) or the volume plugin (api_volume_plugin_handle).
 *
 * Threading: each MHD daemon runs a small pool of epoll threads
 * (HTTP_THREADS); api_handle runs on them concurrently and is thread-safe.
 * Idle connections cost a descriptor and a little memory, no thread, and are
 * closed after HTTP_IDLE_TIMEOUT_S; the number of connections is capped by
 * what RLIMIT_NOFILE allows.
 *
 * Request life cycle (struct http_request):
 *   http_uri_log        allocates it (once per request) and keeps the raw
 *                       query string;
 *   http_access (1st)   checks Content-Length against max_body. A larger
 *                       body is answered 413 at once when the client waits
 *                       for "100 Continue" or declares more than
 *                       HTTP_DISCARD_FACTOR * max_body; otherwise it is read
 *                       and discarded first, because a client still sending
 *                       when the connection closes may never see the answer;
 *   http_access (more)  appends body bytes; past max_body it discards them
 *                       (413 at the end), past the discard limit it drops
 *                       the connection;
 *   http_access (last)  calls api_handle and queues the answer — or, for
 *                       ?watch=true, a callback response that streams the
 *                       api_watch (chunked) until it ends;
 *   http_completed      frees it and records the request's metrics.
 *
 * Authentication: with a token configured, every request but the health
 * probes must carry "Authorization: Bearer <token>" (checked on the first
 * call, before any body is read); otherwise 401 with a Status.
 *
 * Watch streams (struct http_watch): the content reader asks api_watch_read
 * for bytes; when there are none it suspends the connection (from inside
 * the reader, the only place MHD allows) through the model's notify hooks,
 * and the publisher resumes it. A ticker thread wakes streams whose timeout
 * or bookmark is due. Shutdown stops every stream and waits (bounded) until
 * MHD has freed them, because MHD must not be stopped with a connection
 * suspended.
 */
#include "http.h"
#include "http_guard.h"
#include "http_spool.h"
#include "http_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "api_volume_plugin.h"
#include "log.h"
#include "metrics.h"
#include "model.h"

#define HTTP_THREADS 4
#define HTTP_IDLE_TIMEOUT_S 30
/* A request head (request line and headers) must arrive within this. */
#define HTTP_HEAD_TIMEOUT_S 30
#define HTTP_LISTENERS_MAX 6
/* Oversized bodies up to this many times max_body are read and thrown away. */
#define HTTP_DISCARD_FACTOR 16
#define HTTP_WATCH_BLOCK 16384
#define HTTP_STOP_WAIT_MS 3000

struct http_watch;
struct http_server;

/* What one MHD daemon serves (its access handler's closure). */
struct http_listener {
	struct http_server *server;
	struct api_volume_plugin *plugin; /* NULL: the Kubernetes API */
};

struct http_server {
	struct model *model;
	size_t max_body;
	const atomic_bool *ready;
	char *token; /* NULL: no authentication */
	unsigned port;
	char *unix_path; /* unlinked at stop; NULL if none */
	char *plugin_path; /* the volume plugin's socket: likewise */
	struct api_volume_plugin *plugin; /* NULL if none */
	unsigned count;
	struct MHD_Daemon *daemon[HTTP_LISTENERS_MAX];
	struct http_listener listener[HTTP_LISTENERS_MAX];
	/* Watch streams: the list is protected by watch_lock. */
	pthread_mutex_t watch_lock;
	pthread_cond_t watch_gone;
	struct http_watch *watches;
	unsigned watch_count;
	pthread_t ticker;
	bool ticker_started;
	atomic_bool stopping;
	struct http_guard guard; /* request-head deadlines (slow-loris) */
	bool guard_ready;
};

/* One streaming watch response. */
struct http_watch {
	struct http_server *server;
	struct MHD_Connection *connection;
	struct api_watch *watch;
	struct http_watch *prev, *next;
};

struct http_request {
	char *query; /* raw query string without '?', or NULL */
	char *body;
	size_t len;
	size_t cap;
	size_t discarded; /* bytes thrown away after too_large */
	int spool_fd;     /* >= 0: the body goes to this file (http_spool.h), len counts it */
	size_t limit;     /* the largest body: max_body, or HTTP_SPOOL_MAX when spooled */
	bool started;     /* the first call (headers only) is done */
	bool answered;    /* a response was queued: never handle the request again */
	bool malformed;   /* the request line holds a NUL byte */
	bool too_large;   /* the body passed max_body: discard it, answer 413 */
	uint64_t start_ns;  /* for the API latency histogram */
	int method;         /* METRICS_API_* */
	unsigned status;    /* what was answered */
};

/* ---- requests ---------------------------------------------------------------- */

/* MHD_OPTION_URI_LOG_CALLBACK: runs once per request, before the headers. */
static void *http_uri_log(void *cls, const char *uri, struct MHD_Connection *connection)
{
	struct http_request *hr = calloc(1, sizeof(*hr));
	const char *query = strchr(uri, '?');

	if (hr != NULL)
		hr->spool_fd = -1;
	if (hr != NULL && query != NULL)
		hr->query = strdup(query + 1); /* NULL on ENOMEM: the query is dropped */
	/* libmicrohttpd hands us the raw request-target inside its line buffer,
	 * where the space before the version was replaced by a NUL: the version
	 * follows it directly. Anything else means a NUL byte inside the target
	 * ("DELETE /x\0junk HTTP/1.1"), which every later string would cut
	 * short: refuse the request rather than act on a truncated path. */
	if (hr != NULL && strncmp(uri + strlen(uri) + 1, "HTTP/", 5) != 0)
		hr->malformed = true;
	return hr;
}

/* MHD_OPTION_NOTIFY_COMPLETED: the request is over, whatever happened. */
static void http_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
			   enum MHD_RequestTerminationCode code)
{
	struct http_request *hr = *con_cls;

	http_guard_request_done(connection);
	if (hr != NULL) {
		metrics_record(&metrics_api[hr->method], hr->start_ns,
			       hr->status >= 400 || code != MHD_REQUEST_TERMINATED_COMPLETED_OK);
		free(hr->query);
		free(hr->body);
		if (hr->spool_fd >= 0)
			close(hr->spool_fd);
		free(hr);
	}
	*con_cls = NULL;
}

/* One Warning header per '\n'-ended value of warnings (clients print each). */
static void http_warnings(struct MHD_Response *response, char *warnings)
{
	for (char *line = warnings, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		if (MHD_add_response_header(response, "Warning", line) != MHD_YES)
			log_warn("cannot set a Warning header of a response");
	}
}

/* A response sending the file open at fd (MHD closes it); NULL on failure
 * (fd closed too). */
static struct MHD_Response *http_file_response(int fd)
{
	struct MHD_Response *response = NULL;
	struct stat st;

	/* A pipe (a claim's export) is streamed to its end, of unknown length. */
	if (fstat(fd, &st) == 0)
		response = S_ISFIFO(st.st_mode) ? MHD_create_response_from_pipe(fd)
						: MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
	if (response == NULL)
		close(fd);
	return response;
}

/* Queue an api_response (its body or file is handed to MHD). */
static enum MHD_Result http_reply(struct MHD_Connection *connection, struct http_request *hr,
				   struct api_response *res)
{
	struct MHD_Response *response;
	enum MHD_Result ret;

	if (hr != NULL)
		hr->status = res->status;
	if (res->has_file)
		response = http_file_response(res->file_fd);
	else if (res->body != NULL)
		response = MHD_create_response_from_buffer(res->body_len > 0 ? res->body_len
									     : strlen(res->body),
							   res->body, MHD_RESPMEM_MUST_FREE);
	else
		response = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (response == NULL) {
		free(res->body);
		return MHD_NO; /* out of memory: drop the connection */
	}
	res->body = NULL; /* now owned by the response */
	if (res->content_type != NULL &&
	    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type) != MHD_YES)
		log_warn("cannot set the Content-Type of a response");
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache, private");
	http_warnings(response, res->warnings);
	ret = MHD_queue_response(connection, res->status, response);
	MHD_destroy_response(response);
	return ret;
}

/* Answer 413 with a Status body. */
static enum MHD_Result http_too_large(struct http_server *server, struct MHD_Connection *connection,
				      struct http_request *hr)
{
	struct api_response res;
	char message[128];

	snprintf(message, sizeof(message), "the request body is larger than the limit of %zu bytes",
		 hr->limit);
	api_error_response(EMSGSIZE, message, &res);
	return http_reply(connection, hr, &res);
}

/* Start discarding: the body will not be used. */
static void http_discard(struct http_request *hr)
{
	hr->too_large = true;
	free(hr->body);
	hr->body = NULL;
	hr->len = hr->cap = 0;
}

/* Append body bytes, or discard them once past max_body. false: the
 * discard limit is passed too; drop the connection. */
static bool http_append(struct http_server *server, struct http_request *hr, const char *data,
			size_t size)
{
	size_t need;

	if (!hr->too_large && size > hr->limit - hr->len)
		http_discard(hr);
	if (!hr->too_large && hr->spool_fd >= 0) {
		if (http_spool_write(hr->spool_fd, data, size) < 0)
			http_discard(hr); /* the host's disk is full: 413 */
		else
			hr->len += size;
	}
	if (hr->too_large) {
		hr->discarded += size;
		return hr->discarded / HTTP_DISCARD_FACTOR <= hr->limit;
	}
	if (hr->spool_fd >= 0)
		return true;
	need = hr->len + size + 1; /* keep a NUL after the body */
	if (need > hr->cap) {
		size_t cap = hr->cap ? hr->cap : 4096;
		char *body;

		while (cap < need)
			cap *= 2;
		body = realloc(hr->body, cap);
		if (body == NULL) {
			/* Treat like an oversized body: the request cannot be held. */
			http_discard(hr);
			return true;
		}
		hr->body = body;
		hr->cap = cap;
	}
	memcpy(hr->body + hr->len, data, size);
	hr->len += size;
	hr->body[hr->len] = '\0';
	return true;
}

/* How a declared Content-Length compares with max_body. */
enum http_declared { HTTP_BODY_FITS, HTTP_BODY_DISCARD, HTTP_BODY_REFUSE_NOW };

/* First call of a request: judge the declared body size before reading any of it. */
static enum http_declared http_check_declared(const struct http_request *hr,
					      struct MHD_Connection *connection)
{
	const char *length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *expect = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_EXPECT);
	unsigned long long value;
	char *end;

	if (length == NULL)
		return HTTP_BODY_FITS;
	errno = 0;
	value = strtoull(length, &end, 10);
	if (errno != ERANGE && (end == length || value <= hr->limit))
		return HTTP_BODY_FITS;
	/* A client waiting for "100 Continue" has sent nothing yet. */
	if ((expect != NULL && strcasecmp(expect, "100-continue") == 0) || errno == ERANGE ||
	    value / HTTP_DISCARD_FACTOR > hr->limit)
		return HTTP_BODY_REFUSE_NOW;
	return HTTP_BODY_DISCARD;
}

/* The METRICS_API_* index of a method. */
static int http_method_index(const char *method)
{
	for (int i = 0; i < METRICS_API_OTHER; i++)
		if (strcmp(method, metrics_api_method_names[i]) == 0)
			return i;
	return METRICS_API_OTHER;
}

/* Probes answer without a token (kubelet and load balancers do not send one). */
static bool http_is_probe(const char *url)
{
	return strcmp(url, "/healthz") == 0 || strcmp(url, "/livez") == 0 ||
	       strcmp(url, "/readyz") == 0;
}

/* Does the request carry "Authorization: Bearer <token>"? Constant time in the token. */
static bool http_authorized(const struct http_server *server, struct MHD_Connection *connection)
{
	const char *value = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
							MHD_HTTP_HEADER_AUTHORIZATION);
	size_t want = strlen(server->token), got;
	unsigned char diff = 0;

	if (value == NULL || strncasecmp(value, "Bearer ", 7) != 0)
		return false;
	value += 7;
	while (*value == ' ')
		value++;
	got = strlen(value);
	while (got > 0 && (value[got - 1] == ' ' || value[got - 1] == '\t'))
		got--;
	for (size_t i = 0; i < want; i++)
		diff |= (unsigned char)server->token[i] ^ (unsigned char)(i < got ? value[i] : 0);
	return diff == 0 && got == want;
}

/* ---- watch streams ---------------------------------------------------------------- */

/* model_watch_notify hooks: called under the hub's lock. */
static void http_watch_suspend(void *ud)
{
	struct http_watch *hw = ud;

	MHD_suspend_connection(hw->connection);
}

static void http_watch_resume(void *ud)
{
	struct http_watch *hw = ud;

	MHD_resume_connection(hw->connection);
}

/* MHD content reader of a watch response. */
static ssize_t http_watch_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_watch *hw = cls;
	struct model_watch_notify notify = { http_watch_suspend, http_watch_resume, hw };
	ssize_t n;

	if (atomic_load(&hw->server->stopping))
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = api_watch_read(hw->watch, buf, max, &notify);
	if (n < 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	return n;
}

/* MHD frees the response: the stream is over. */
static void http_watch_free(void *cls)
{
	struct http_watch *hw = cls;
	struct http_server *server = hw->server;

	pthread_mutex_lock(&server->watch_lock);
	if (hw->prev != NULL)
		hw->prev->next = hw->next;
	else
		server->watches = hw->next;
	if (hw->next != NULL)
		hw->next->prev = hw->prev;
	server->watch_count--;
	pthread_cond_broadcast(&server->watch_gone);
	pthread_mutex_unlock(&server->watch_lock);
	api_watch_free(hw->watch);
	free(hw);
}

/* Queue a streaming response for a watch (takes res->watch). */
static enum MHD_Result http_stream(struct http_server *server, struct MHD_Connection *connection,
				   struct http_request *hr, struct api_response *res)
{
	struct http_watch *hw = calloc(1, sizeof(*hw));
	struct MHD_Response *response;
	enum MHD_Result ret;

	if (hw == NULL) {
		api_watch_free(res->watch);
		return MHD_NO;
	}
	hw->server = server;
	hw->connection = connection;
	hw->watch = res->watch;
	response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, HTTP_WATCH_BLOCK,
						     http_watch_read, hw, http_watch_free);
	if (response == NULL) {
		api_watch_free(hw->watch);
		free(hw);
		return MHD_NO;
	}
	pthread_mutex_lock(&server->watch_lock);
	hw->next = server->watches;
	if (server->watches != NULL)
		server->watches->prev = hw;
	server->watches = hw;
	server->watch_count++;
	pthread_mutex_unlock(&server->watch_lock);
	/* A watch may be quiet for a long time: no idle timeout. */
	MHD_set_connection_option(connection, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache, private");
	hr->status = 200;
	ret = MHD_queue_response(connection, 200, response);
	MHD_destroy_response(response);
	return ret;
}

/* Ticker: wake streams whose timeout or bookmark is due. */
static void *http_ticker(void *arg)
{
	struct http_server *server = arg;
	/* Short naps so that stopping the server never waits long for this thread. */
	struct timespec pause = { 0, 100 * 1000 * 1000 };

	while (!atomic_load(&server->stopping)) {
		unsigned long long now = metrics_now_ns();

		pthread_mutex_lock(&server->watch_lock);
		for (struct http_watch *hw = server->watches; hw != NULL; hw = hw->next)
			api_watch_tick(hw->watch, now);
		pthread_mutex_unlock(&server->watch_lock);
		http_guard_sweep(&server->guard);
		nanosleep(&pause, NULL);
	}
	return NULL;
}

/* MHD access handler: accumulate the body, then hand the request to the API. */
static enum MHD_Result http_access(void *cls, struct MHD_Connection *connection, const char *url,
				   const char *method, const char *version,
				   const char *upload_data, size_t *upload_data_size,
				   void **con_cls)
{
	struct http_listener *listener = cls;
	struct http_server *server = listener->server;
	struct http_request *hr = *con_cls;
	struct api_request req;
	struct api_response res;

	if (hr == NULL)
		return MHD_NO; /* http_uri_log ran out of memory */
	/* libmicrohttpd 0.9.75 may call again for an answered request while it
	 * stops; a POST or DELETE must not run twice. */
	if (hr->answered)
		return MHD_YES;
	if (!hr->started) {
		hr->started = true;
		http_guard_head_done(connection);
		hr->start_ns = metrics_now_ns();
		hr->method = http_method_index(method);
		/* Never act on a path cut short by a NUL byte (see http_uri_log). */
		if (hr->malformed || version == NULL || strncmp(version, "HTTP/1.", 7) != 0) {
			api_error_response(EBADMSG, "malformed request line", &res);
			hr->answered = true;
			return http_reply(connection, hr, &res);
		}
		if (server->token != NULL && listener->plugin == NULL && !http_is_probe(url) &&
		    !http_authorized(server, connection)) {
			api_error_response(EACCES, "Unauthorized", &res);
			hr->answered = true;
			return http_reply(connection, hr, &res);
		}
		hr->limit = server->max_body;
		/* A claim's import tar: spooled to a file, not held in memory. */
		if (listener->plugin == NULL && http_spool_wanted(method, url)) {
			hr->spool_fd = http_spool_open();
			if (hr->spool_fd < 0)
				log_warn("cannot spool an import body: %s", strerror(-hr->spool_fd));
			else
				hr->limit = HTTP_SPOOL_MAX;
		}
		switch (http_check_declared(hr, connection)) {
		case HTTP_BODY_REFUSE_NOW:
			hr->answered = true;
			return http_too_large(server, connection, hr);
		case HTTP_BODY_DISCARD:
			http_discard(hr);
			break;
		case HTTP_BODY_FITS:
			break;
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!http_append(server, hr, upload_data, *upload_data_size))
			return MHD_NO; /* endless oversized upload: drop the connection */
		*upload_data_size = 0;
		return MHD_YES;
	}
	hr->answered = true;
	if (hr->too_large)
		return http_too_large(server, connection, hr);
	req = (struct api_request){
		.method = method,
		.path = url,
		.query = hr->query,
		.content_type = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
							    MHD_HTTP_HEADER_CONTENT_TYPE),
		.accept = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_ACCEPT),
		.body = hr->body,
		.body_len = hr->len,
		.body_spooled = hr->spool_fd >= 0,
		.body_fd = hr->spool_fd,
		.ready = server->ready == NULL || atomic_load(server->ready),
		/* With a token configured, only its bearers get this far. */
		.authenticated = server->token != NULL,
	};
	if (listener->plugin != NULL)
		api_volume_plugin_handle(listener->plugin, &req, &res);
	else
		api_handle(server->model, &req, &res);
	if (res.watch != NULL)
		return http_stream(server, connection, hr, &res);
	return http_reply(connection, hr, &res);
}

/* MHD_OPTION_EXTERNAL_LOGGER: MHD's own messages (mostly client mishaps).
 * A client that goes away (every kubectl -w or informer that stops) is
 * routine, not news: those are debug-level. */
static void http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	static const char *const client_gone[] = { "closed by remote peer", "Connection reset",
						   "Broken pipe", "Failed to send" };
	enum log_level level = LOG_LEVEL_INFO;
	char line[512];
	size_t len;

	vsnprintf(line, sizeof(line), fmt, ap);
	len = strlen(line);
	while (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	for (size_t i = 0; i < sizeof(client_gone) / sizeof(client_gone[0]); i++)
		if (strstr(line, client_gone[i]) != NULL)
			level = LOG_LEVEL_DEBUG;
	log_msg(level, "http: %s", line);
}

/* ---- MHD daemons ------------------------------------------------------------------ */

/* Start one MHD daemon on a listening socket (taken over even on failure);
 * with HTTPS when tls is given; serving the volume plugin protocol when
 * plugin is given. */
static int http_start_daemon(struct http_server *server, int fd, unsigned connection_limit,
			     const struct http_config *tls, struct api_volume_plugin *plugin)
{
	struct http_listener *listener;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	struct MHD_OptionItem tls_options[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)(tls != NULL ? tls->tls_cert_pem : NULL) },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)(tls != NULL ? tls->tls_key_pem : NULL) },
		{ MHD_OPTION_END, 0, NULL },
	};
	struct MHD_Daemon *daemon;

	if (server->count == HTTP_LISTENERS_MAX) {
		close(fd);
		return -EMFILE;
	}
	listener = &server->listener[server->count];
	*listener = (struct http_listener){ server, plugin };
	if (tls != NULL)
		flags |= MHD_USE_TLS;
	else
		tls_options[0].option = MHD_OPTION_END;
	daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, http_access, listener,
		MHD_OPTION_ARRAY, tls_options,
		MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)HTTP_THREADS,
		MHD_OPTION_CONNECTION_LIMIT, connection_limit,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_IDLE_TIMEOUT_S,
		MHD_OPTION_URI_LOG_CALLBACK, http_uri_log, NULL,
		MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL,
		MHD_OPTION_NOTIFY_CONNECTION, http_guard_notify, &server->guard,
		MHD_OPTION_END);
	if (daemon == NULL) {
		close(fd);
		return -EIO;
	}
	server->daemon[server->count++] = daemon;
	return 0;
}

/* Bind every address host:port resolves to and start a daemon on each. */
static int http_start_tcp(struct http_server *server, const char *listen_addr,
			  unsigned connection_limit, const struct http_config *tls)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *list = NULL;
	char host[256], port[8];
	int r, fd, first_error = -EADDRNOTAVAIL;
	unsigned bound = 0;

	r = http_listen_parse(listen_addr, host, sizeof(host), port, sizeof(port));
	if (r < 0) {
		log_error("--listen %s: expected HOST:PORT or [IPV6]:PORT", listen_addr);
		return r;
	}
	r = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &list);
	if (r != 0) {
		log_error("--listen %s: %s", listen_addr, gai_strerror(r));
		return r == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
	}
	for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
		fd = http_listen_tcp(ai, server->port);
		if (fd < 0) {
			if (bound == 0)
				first_error = fd;
			log_debug("--listen %s: one address failed: %s", listen_addr, strerror(-fd));
			continue;
		}
		if (server->port == 0 && (r = http_listen_port(fd, &server->port)) < 0) {
			close(fd);
			goto out;
		}
		r = http_start_daemon(server, fd, connection_limit, tls, NULL);
		if (r < 0)
			goto out;
		bound++;
	}
	r = bound > 0 ? 0 : first_error;
	if (r < 0)
		log_error("--listen %s: %s", listen_addr, strerror(-r));
out:
	freeaddrinfo(list);
	return r;
}

/* The volume plugin protocol on its own unix socket. */
static int http_start_volume_plugin(struct http_server *server, const struct http_config *config,
				    struct model *model, unsigned connection_limit)
{
	const char *path = config->volume_plugin_socket;
	int r = api_volume_plugin_new(model, config->volume_namespace, config->mountpoint,
				      &server->plugin);
	int fd;

	if (r < 0)
		return r;
	fd = http_listen_unix(path);
	if (fd < 0 && config->volume_plugin_optional) {
		log_warn("not serving the volume plugin on %s: %s (give --volume-plugin-socket)",
			 path, strerror(-fd));
		api_volume_plugin_free(server->plugin);
		server->plugin = NULL;
		return 0;
	}
	if (fd < 0) {
		log_error("--volume-plugin-socket %s: %s", path, strerror(-fd));
		return fd;
	}
	server->plugin_path = strdup(path);
	if (server->plugin_path == NULL) {
		close(fd);
		unlink(path);
		return -ENOMEM;
	}
	log_info("volume plugin on %s: volumes are the claims of namespace %s", path,
		 config->volume_namespace);
	return http_start_daemon(server, fd, connection_limit, NULL, server->plugin);
}

int http_server_start(const struct http_config *config, struct model *model,
		      struct http_server **ret_server)
{
	struct http_server *server = calloc(1, sizeof(*server));
	unsigned connection_limit;
	int r, fd;

	if (server == NULL)
		return -ENOMEM;
	if (pthread_mutex_init(&server->watch_lock, NULL) != 0) {
		free(server);
		return -ENOMEM;
	}
	if (pthread_cond_init(&server->watch_gone, NULL) != 0) {
		pthread_mutex_destroy(&server->watch_lock);
		free(server);
		return -ENOMEM;
	}
	if (http_guard_init(&server->guard, HTTP_HEAD_TIMEOUT_S) != 0) {
		pthread_cond_destroy(&server->watch_gone);
		pthread_mutex_destroy(&server->watch_lock);
		free(server);
		return -ENOMEM;
	}
	server->guard_ready = true;
	server->model = model;
	server->max_body = config->max_body;
	server->ready = config->ready;
	if (config->token != NULL && (server->token = strdup(config->token)) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	connection_limit = http_listen_connection_limit((config->listen != NULL ? 2 : 0) +
						 (config->unix_socket != NULL ? 1 : 0) +
						 (config->volume_plugin_socket != NULL ? 1 : 0));
	if (config->listen != NULL) {
		r = http_start_tcp(server, config->listen, connection_limit,
				   config->tls_cert_pem != NULL ? config : NULL);
		if (r < 0)
			goto fail;
	}
	if (config->unix_socket != NULL) {
		fd = http_listen_unix(config->unix_socket);
		if (fd < 0) {
			r = fd;
			log_error("--unix-socket %s: %s", config->unix_socket, strerror(-r));
			goto fail;
		}
		server->unix_path = strdup(config->unix_socket);
		if (server->unix_path == NULL) {
			close(fd);
			unlink(config->unix_socket);
			r = -ENOMEM;
			goto fail;
		}
		r = http_start_daemon(server, fd, connection_limit, NULL, NULL);
		if (r < 0)
			goto fail;
	}
	if (config->volume_plugin_socket != NULL) {
		r = http_start_volume_plugin(server, config, model, connection_limit);
		if (r < 0)
			goto fail;
	}
	if (server->count == 0) {
		r = -EINVAL;
		goto fail;
	}
	r = -pthread_create(&server->ticker, NULL, http_ticker, server);
	if (r < 0)
		goto fail;
	server->ticker_started = true;
	*ret_server = server;
	return 0;
fail:
	http_server_stop(server);
	return r;
}

unsigned http_server_port(const struct http_server *server)
{
	return server != NULL ? server->port : 0;
}

/* End every watch stream and wait (bounded) until MHD has freed them all. */
static void http_stop_watches(struct http_server *server)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += HTTP_STOP_WAIT_MS / 1000;
	pthread_mutex_lock(&server->watch_lock);
	for (struct http_watch *hw = server->watches; hw != NULL; hw = hw->next)
		api_watch_stop(hw->watch);
	while (server->watch_count > 0) {
		if (pthread_cond_timedwait(&server->watch_gone, &server->watch_lock, &deadline) != 0) {
			log_warn("%u watch stream(s) did not end in time", server->watch_count);
			break;
		}
	}
	pthread_mutex_unlock(&server->watch_lock);
}

void http_server_stop(struct http_server *server)
{
	if (server == NULL)
		return;
	atomic_store(&server->stopping, true);
	if (server->ticker_started)
		pthread_join(server->ticker, NULL);
	http_stop_watches(server);
	for (unsigned i = 0; i < server->count; i++)
		MHD_stop_daemon(server->daemon[i]); /* closes its listening socket */
	if (server->unix_path != NULL)
		unlink(server->unix_path);
	if (server->plugin_path != NULL)
		unlink(server->plugin_path);
	free(server->unix_path);
	free(server->plugin_path);
	api_volume_plugin_free(server->plugin);
	free(server->token);
	pthread_cond_destroy(&server->watch_gone);
	pthread_mutex_destroy(&server->watch_lock);
	if (server->guard_ready)
		http_guard_destroy(&server->guard);
	free(server);
}
