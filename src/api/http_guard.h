/*
 * http_guard.h — closes connections that take too long to send a request
 * head (slow-loris). libmicrohttpd's idle timeout restarts with every byte,
 * so a client sending one header byte a second would hold its connection
 * forever; the guard gives every request head a total deadline.
 */
#ifndef CLAIMFS_HTTP_GUARD_H
#define CLAIMFS_HTTP_GUARD_H

#include <microhttpd.h>
#include <pthread.h>

struct http_guard_conn;

struct http_guard {
	pthread_mutex_t lock;
	struct http_guard_conn *conns; /* protected by lock */
	unsigned head_timeout_s;
};

int http_guard_init(struct http_guard *guard, unsigned head_timeout_s);
void http_guard_destroy(struct http_guard *guard);
/* MHD_OPTION_NOTIFY_CONNECTION callback (cls = the guard). */
void http_guard_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
		       enum MHD_ConnectionNotificationCode code);
/* The head of the connection's current request is complete. */
void http_guard_head_done(struct MHD_Connection *connection);
/* The connection's request is over: the next head's deadline starts now. */
void http_guard_request_done(struct MHD_Connection *connection);
/* Shut down connections whose head is overdue (from a periodic thread). */
void http_guard_sweep(struct http_guard *guard);

#endif
