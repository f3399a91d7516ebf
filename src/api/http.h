/*
 * http.h — libmicrohttpd front end of the API (daemon only).
 */
#ifndef CLAIMFS_HTTP_H
#define CLAIMFS_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct model;
struct http_server;

struct http_config {
	const char *listen;      /* "HOST:PORT" (port 0 = any free port), or NULL for none */
	const char *unix_socket; /* path, or NULL */
	size_t max_body;         /* larger request bodies get 413 */
	const atomic_bool *ready; /* /readyz answers 200 only while *ready */
	const char *token;        /* bearer token every request but the probes needs, or NULL */
	/* HTTPS on the TCP listener (PEM text, both or neither); the unix
	 * socket stays plain HTTP. kubectl sends --token only over TLS. */
	const char *tls_cert_pem;
	const char *tls_key_pem;
	/* The Docker/Podman volume plugin protocol on its own unix socket
	 * (NULL: none; no token, the socket's mode guards it): volumes are
	 * the claims of volume_namespace, under mountpoint. */
	const char *volume_plugin_socket;
	const char *volume_namespace;
	const char *mountpoint;
	/* The socket is the default one, not asked for: when it cannot be
	 * served (another daemon has it), warn and go on without it. */
	bool volume_plugin_optional;
};

/* Does every address "HOST:PORT" resolves to belong to the loopback
 * interface? (An empty host or 0.0.0.0 binds every interface: false.) */
bool http_listen_is_loopback(const char *listen_addr);

int http_server_start(const struct http_config *config, struct model *model,
		      struct http_server **ret_server);
/* The TCP port actually bound (after port 0), or 0 if no TCP listener. */
unsigned http_server_port(const struct http_server *server);
void http_server_stop(struct http_server *server);

#endif
