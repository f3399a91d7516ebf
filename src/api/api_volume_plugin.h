/*
 * api_volume_plugin.h — the Docker/Podman volume plugin protocol over the
 * model (see api_volume_plugin.c), served by http.c on its own unix socket.
 */
#ifndef CLAIMFS_API_VOLUME_PLUGIN_H
#define CLAIMFS_API_VOLUME_PLUGIN_H

#include "api.h"

struct model;
struct api_volume_plugin;

/* Volumes are the claims of namespace_name; their directories are
 * <mountpoint>/<namespace>/<claim>. Both strings are copied. */
int api_volume_plugin_new(struct model *model, const char *namespace_name,
			  const char *mountpoint, struct api_volume_plugin **ret_plugin);
void api_volume_plugin_free(struct api_volume_plugin *plugin);

/* Answer one request of the protocol (POST /Plugin.Activate,
 * /VolumeDriver.*); always fills ret_response. Thread-safe. */
void api_volume_plugin_handle(struct api_volume_plugin *plugin, const struct api_request *req,
			      struct api_response *ret_response);

#endif
