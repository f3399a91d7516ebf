/*
 * podman.h — the Podman engine as the harness drives it (--runtime podman):
 * its configuration, the replicas' image, the claims as volumes, and one
 * place that runs a podman command.
 *
 * Podman reads the user's configuration ($CONTAINERS_CONF or its usual
 * files, $CONTAINERS_STORAGE_CONF) with one addition: a volume plugin named
 * PODMAN_PLUGIN on the socket of the claimfsd the harness started, so every
 * claim is a volume of that driver. The harness writes that configuration
 * into its work directory and points CONTAINERS_CONF at it for podman only.
 *
 * Container names carry the run's prefix so a run never touches a
 * container it did not create; podman_cleanup removes exactly those.
 */
#ifndef CLAIMFS_HARNESS_PODMAN_H
#define CLAIMFS_HARNESS_PODMAN_H

#include "options.h"

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#define PODMAN_PLUGIN "claimfs-harness"
#define PODMAN_IMAGE "localhost/claimfs-harness-busybox" /* tagged with the run's prefix */
#define PODMAN_COMMAND_TIMEOUT_MS 120000

struct podman {
	char program[PATH_MAX];
	char conf_path[PATH_MAX];
	char log_path[PATH_MAX];  /* output of the harness's own podman commands */
	char image[512];
	bool own_image;           /* imported by this run (removed by podman_cleanup) */
	char prefix[48];          /* container names: PREFIX-<pod>, our image's tag */
	char **envp;              /* ours, with CONTAINERS_CONF replaced */
};

/* Write the configuration below WORKDIR (the user's, plus the plugin on
 * PLUGIN_SOCKET) and find the program. 0 or -errno (message printed). */
int podman_init(struct podman *pm, const struct options *opts, const char *workdir,
		const char *plugin_socket);
void podman_free(struct podman *pm);

/* The replicas' image: --image, or busybox-static with the built-in app
 * imported as PODMAN_IMAGE. 0 or -errno (message printed). */
int podman_prepare_image(struct podman *pm, const struct options *opts, const char *workdir);

/* Make the daemon's claims (already Bound) podman volumes. 0 or -errno. */
int podman_adopt_volumes(struct podman *pm);

/* Run `podman ARGS...` (NULL-terminated) to completion within TIMEOUT_MS,
 * its output appended to LOG_PATH (NULL: pm->log_path). The exit status,
 * or -errno (-ETIMEDOUT: killed after the timeout). */
int podman_run_command(const struct podman *pm, const char *const *args, unsigned timeout_ms,
		       const char *log_path);

/* Start `podman ARGS...` in the background, output to LOG_PATH. The pid or
 * -errno. */
pid_t podman_spawn(const struct podman *pm, const char *const *args, const char *log_path);

/* Remove the containers named PREFIX-<name> for NAMES, then VOLUMES, then
 * the image if this run imported it. */
void podman_cleanup(struct podman *pm, const char *const *names, unsigned count,
		    const char *const *volumes, unsigned volume_count);

#endif
