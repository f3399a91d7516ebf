/*
 * main_options.h — claimfsd's options (main_options.c parses and checks
 * them), the commands that work on a stopped store (main_offline.c:
 * --check, --backup, --compact) and those that are clients of a running
 * daemon's API (main_transfer.c: --export, --import). Shared by main.c only.
 */
#ifndef CLAIMFSD_MAIN_OPTIONS_H
#define CLAIMFSD_MAIN_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#define MAIN_DEFAULT_STORE "/var/lib/claimfs/claimfs.db"
#define MAIN_DEFAULT_MOUNT "/var/lib/claimfs/volumes"
#define MAIN_DEFAULT_LISTEN "127.0.0.1:8080"
/* Where Docker looks for plugin sockets (Podman is told in containers.conf). */
#define MAIN_DEFAULT_PLUGIN_SOCKET "/run/docker/plugins/claimfs.sock"
#define MAIN_DEFAULT_VOLUME_NAMESPACE "default"
#define MAIN_OVERCOMMIT_MAX 1000.0

struct main_options {
	const char *store_path;
	const char *mountpoint;
	const char *listen;
	const char *unix_socket;
	const char *volume_plugin_socket; /* NULL: none */
	const char *volume_namespace;
	bool volume_plugin_default;       /* not given: the default path, when root */
	const char *port_file;
	const char *token_file;
	const char *tls_cert_file;
	const char *tls_key_file;
	unsigned commit_interval_ms;
	unsigned stream_mib_per_s;
	unsigned threads;
	int64_t event_ttl_s;
	double overcommit;
	bool fuse_debug;
	bool check;
	bool repair;
	const char *backup; /* --backup FILE, "-": stdout */
	bool supervise;    /* the default; --supervise says it again */
	bool no_supervise; /* --no-supervise: one process mounts and serves */
	bool compact;
	/* Clients of a running daemon's API (main_transfer.c). */
	const char *export_claim;  /* --export NAMESPACE/CLAIM */
	const char *snapshot;      /* --snapshot NAME: export that snapshot of the claim */
	const char *export_to;     /* --to FILE, "-": stdout */
	const char *import_from;   /* --import FILE, "-": stdin */
	const char *import_into;   /* --into NAMESPACE/CLAIM */
	const char *import_size;   /* --size QUANTITY: create the claim first */
};

/* Returns 0 to run, 1 to exit successfully (help/version), -EINVAL on bad use. */
int main_parse(int argc, char **argv, struct main_options *o);

/* claimfsd --check: exit 0 consistent, 1 problems, 2 could not check. */
int main_check(const struct main_options *o);
/* claimfsd --backup FILE|-: exit 0 done, 1 the copy failed its check, 2 error. */
int main_backup(const struct main_options *o);
/* claimfsd --compact: exit 0 compacted, 1 failed (the store is as it was), 2 could not open it. */
int main_compact(const struct main_options *o);
/* claimfsd --export NS/CLAIM [--snapshot NAME] --to FILE|-: exit 0 done (the
 * tar passed its check), 1 the tar failed its check, 2 error. */
int main_export(const struct main_options *o);
/* claimfsd --import FILE|- --into NS/CLAIM [--size Q]: exit 0 done, 2 error. */
int main_import(const struct main_options *o);

#endif
