/*
 * http_listen.c — the API's listening sockets: "HOST:PORT" parsing, TCP
 * sockets per resolved address, the unix sockets, whether an address is
 * loopback-only, and how many connections the descriptor limit allows.
 *
 * Owns nothing after a call returns: every function hands a listening,
 * non-blocking, close-on-exec descriptor to the caller or fails with
 * -errno and leaves nothing open. A unix socket path is only ever replaced
 * when it is a socket that no live server answers on.
 */
#include "http_listen.h"
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define HTTP_BACKLOG 1024
/* Descriptors kept back from the connection budget for the store, FUSE, logs. */
#define HTTP_RESERVED_FDS 128
#define HTTP_CONNECTIONS_MAX 16384

/* Split "HOST:PORT" / "[V6]:PORT" / ":PORT" into host (empty: any) and port. */
int http_listen_parse(const char *listen_addr, char *host, size_t host_size, char *port,
			     size_t port_size)
{
	const char *colon, *host_start = listen_addr, *host_end;
	unsigned long value;
	char *end;

	if (listen_addr[0] == '[') {
		host_start = listen_addr + 1;
		host_end = strchr(host_start, ']');
		if (host_end == NULL || host_end[1] != ':')
			return -EINVAL;
		colon = host_end + 1;
	} else {
		colon = strrchr(listen_addr, ':');
		if (colon == NULL)
			return -EINVAL;
		host_end = colon;
	}
	if ((size_t)(host_end - host_start) >= host_size || strlen(colon + 1) >= port_size ||
	    colon[1] == '\0')
		return -EINVAL;
	errno = 0;
	value = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || value > 65535 || colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	memcpy(host, host_start, (size_t)(host_end - host_start));
	host[host_end - host_start] = '\0';
	snprintf(port, port_size, "%lu", value);
	return 0;
}

/* A bound, listening, non-blocking TCP socket for one resolved address. */
int http_listen_tcp(const struct addrinfo *ai, unsigned port)
{
	struct sockaddr_storage addr;
	int fd, one = 1;

	if (ai->ai_addrlen > sizeof(addr))
		return -EINVAL;
	memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
	/* With port 0 every address shares the port the first one got. */
	if (port != 0 && addr.ss_family == AF_INET)
		((struct sockaddr_in *)&addr)->sin_port = htons((uint16_t)port);
	else if (port != 0 && addr.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&addr)->sin6_port = htons((uint16_t)port);
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (ai->ai_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&addr, ai->ai_addrlen) < 0 || listen(fd, HTTP_BACKLOG) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* The port a listening socket is bound to. */
int http_listen_port(int fd, unsigned *ret_port)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);

	if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0)
		return -errno;
	if (addr.ss_family == AF_INET)
		*ret_port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
	else if (addr.ss_family == AF_INET6)
		*ret_port = ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
	else
		return -EAFNOSUPPORT;
	return 0;
}

/* Is a live server answering on the unix socket at path? */
static bool http_unix_in_use(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0;
	close(fd);
	return live;
}

/* A listening unix socket at path, replacing a stale one; mode 0660. */
int http_listen_unix(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST; /* never remove something that is not ours */
		if (http_unix_in_use(&addr))
			return -EADDRINUSE;
		if (unlink(path) < 0)
			return -errno;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || chmod(path, 0660) < 0 ||
	    listen(fd, HTTP_BACKLOG) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Declared in http.h: main checks --listen with it before serving. */
bool http_listen_is_loopback(const char *listen_addr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *list = NULL;
	char host[256], port[8];
	bool loopback;

	if (http_listen_parse(listen_addr, host, sizeof(host), port, sizeof(port)) < 0 ||
	    host[0] == '\0' || getaddrinfo(host, port, &hints, &list) != 0)
		return false;
	loopback = list != NULL;
	for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET)
			loopback = loopback &&
				   (ntohl(((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr) >> 24) == 127;
		else if (ai->ai_family == AF_INET6)
			loopback = loopback &&
				   IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);
		else
			loopback = false;
	}
	freeaddrinfo(list);
	return loopback;
}

/* How many connections each daemon may hold, from RLIMIT_NOFILE (raised to its hard limit). */
unsigned http_listen_connection_limit(unsigned daemons)
{
	struct rlimit limit;
	rlim_t budget;

	if (getrlimit(RLIMIT_NOFILE, &limit) < 0)
		return 256;
	if (limit.rlim_cur < limit.rlim_max) {
		/* Every connection is a descriptor: take what we are allowed. */
		rlim_t soft = limit.rlim_cur;

		limit.rlim_cur = limit.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &limit) < 0)
			limit.rlim_cur = soft;
	}
	budget = limit.rlim_cur > 2 * HTTP_RESERVED_FDS ? limit.rlim_cur - HTTP_RESERVED_FDS
						       : HTTP_RESERVED_FDS;
	budget /= daemons > 0 ? daemons : 1;
	return budget > HTTP_CONNECTIONS_MAX ? HTTP_CONNECTIONS_MAX : (unsigned)budget;
}
