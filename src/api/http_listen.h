/*
 * http_listen.h — listening sockets for the HTTP server (see http_listen.c).
 */
#ifndef CLAIMFS_HTTP_LISTEN_H
#define CLAIMFS_HTTP_LISTEN_H

#include <stddef.h>

struct addrinfo;

/* Split "HOST:PORT" / "[V6]:PORT" / ":PORT" into host (empty: any) and
 * port. -EINVAL if malformed or too long for the buffers. */
int http_listen_parse(const char *listen_addr, char *host, size_t host_size, char *port,
		      size_t port_size);
/* A bound, listening, non-blocking TCP socket for one resolved address;
 * port 0 keeps the address's own port. Returns the descriptor or -errno. */
int http_listen_tcp(const struct addrinfo *ai, unsigned port);
/* The port a listening socket is bound to. */
int http_listen_port(int fd, unsigned *ret_port);
/* A listening unix socket at path (mode 0660), replacing a stale socket;
 * -EADDRINUSE when a live server answers there, -EEXIST when path is not a
 * socket. Returns the descriptor or -errno. */
int http_listen_unix(const char *path);
/* How many connections each of daemons listeners may hold: what
 * RLIMIT_NOFILE allows (raised to its hard limit) less a reserve, shared. */
unsigned http_listen_connection_limit(unsigned daemons);

#endif
