/*
 * http_guard.c — a total deadline for every request head.
 *
 * Each connection gets a struct http_guard_conn (its MHD socket context)
 * from http_guard_notify(STARTED) until (CLOSED). `waiting` is true while a
 * request head is being received: from the connection's start, and again
 * after each request completes (keep-alive), until the access handler sees
 * the head. http_guard_sweep shuts down the socket of a connection that has
 * been waiting longer than head_timeout_s; libmicrohttpd then sees the error
 * and closes it itself. Nothing else touches the socket.
 *
 * Locking: guard->lock protects the list and every field of the entries.
 */
#include "http_guard.h"

#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

struct http_guard_conn {
	struct http_guard *guard;
	int fd;
	bool waiting;
	struct timespec since;
	struct http_guard_conn *prev, *next;
};

int http_guard_init(struct http_guard *guard, unsigned head_timeout_s)
{
	guard->conns = NULL;
	guard->head_timeout_s = head_timeout_s;
	return -pthread_mutex_init(&guard->lock, NULL);
}

void http_guard_destroy(struct http_guard *guard)
{
	pthread_mutex_destroy(&guard->lock);
}

static struct http_guard_conn *http_guard_of(struct MHD_Connection *connection)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

void http_guard_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
		       enum MHD_ConnectionNotificationCode code)
{
	struct http_guard *guard = cls;
	struct http_guard_conn *c;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info =
			MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
		c = calloc(1, sizeof(*c));
		if (!c || !info) {
			free(c); /* unguarded: the idle timeout still applies */
			*socket_context = NULL;
			return;
		}
		c->guard = guard;
		c->fd = info->connect_fd;
		c->waiting = true;
		clock_gettime(CLOCK_MONOTONIC, &c->since);
		pthread_mutex_lock(&guard->lock);
		c->next = guard->conns;
		if (c->next)
			c->next->prev = c;
		guard->conns = c;
		pthread_mutex_unlock(&guard->lock);
		*socket_context = c;
		return;
	}
	c = *socket_context;
	if (!c)
		return;
	pthread_mutex_lock(&guard->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		guard->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&guard->lock);
	free(c);
	*socket_context = NULL;
}

static void http_guard_set(struct MHD_Connection *connection, bool waiting)
{
	struct http_guard_conn *c = http_guard_of(connection);

	if (!c)
		return;
	pthread_mutex_lock(&c->guard->lock);
	c->waiting = waiting;
	clock_gettime(CLOCK_MONOTONIC, &c->since);
	pthread_mutex_unlock(&c->guard->lock);
}

void http_guard_head_done(struct MHD_Connection *connection)
{
	http_guard_set(connection, false);
}

void http_guard_request_done(struct MHD_Connection *connection)
{
	http_guard_set(connection, true);
}

void http_guard_sweep(struct http_guard *guard)
{
	struct timespec now;
	unsigned closed = 0;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&guard->lock);
	for (struct http_guard_conn *c = guard->conns; c; c = c->next) {
		if (!c->waiting || now.tv_sec - c->since.tv_sec < (time_t)guard->head_timeout_s)
			continue;
		/* MHD owns the descriptor: shutdown (not close) makes its next
		 * read fail, and MHD closes the connection. */
		if (shutdown(c->fd, SHUT_RDWR) == 0)
			closed++;
		c->waiting = false;
	}
	pthread_mutex_unlock(&guard->lock);
	if (closed)
		log_info("http: closed %u connection(s) that sent no complete request head within %u s",
			 closed, guard->head_timeout_s);
}
