/*
 * server.h — the gRPC side of claimfs-csi: a gRPC core (C API) server on a
 * unix socket whose worker threads take unary calls, decode the request with
 * protobuf-c, run the handler from the method table and send the answer.
 */
#ifndef CLAIMFS_CSI_SERVER_H
#define CLAIMFS_CSI_SERVER_H

#include <stddef.h>

struct csi_driver;
struct csi_server;

/* Bind socket_path (a stale socket file there is replaced), start workers
 * threads serving driver. 0, or -errno with a message. */
int csi_server_start(struct csi_driver *driver, const char *socket_path, unsigned workers,
		     struct csi_server **ret_server, char *msg, size_t msg_size);

/* Stop accepting, cancel calls in flight, join the workers, remove the
 * socket file and free everything. NULL is a no-op. */
void csi_server_stop(struct csi_server *server);

#endif
