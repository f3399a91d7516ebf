/*
 * dns.h — stable per-pod names, as a StatefulSet's headless Service gives
 * them: `<pod>.<service>` (and `<pod>.<service>.<ns>.svc.cluster.local`)
 * resolves to that pod from every pod.
 *
 * Each ordinal has its own loopback address, 127.0.100.(10 + ordinal), for
 * the whole run (pods of an ordinal come and go, the name stays, as a
 * Service's name does); the pod listens there (POD_IP). The names are lines
 * of a hosts file that every pod sees as /etc/hosts: a file, not a resolver,
 * because glibc and busybox both read /etc/hosts before any DNS and the
 * kubelet manages a pod's /etc/hosts the same way; no daemon to run or kill.
 */
#ifndef CLAIMFS_HARNESS_DNS_H
#define CLAIMFS_HARNESS_DNS_H

#include "options.h"

#include <stddef.h>

#define DNS_ADDRESS_MAX 16 /* "127.0.100.255" and its NUL */

/* The address of ORDINAL (< OPTIONS_MAX_REPLICAS). */
void dns_pod_address(unsigned ordinal, char ret_address[DNS_ADDRESS_MAX]);

/* The stable names of the pod POD of the set (service = the set's name):
 * "<pod>.<service>", and the fully qualified one. 0 or -ENAMETOOLONG. */
int dns_pod_names(const struct options *opts, const char *pod, char *ret_short, size_t short_cap,
		  char *ret_fqdn, size_t fqdn_cap);

/* Write PATH: the host's /etc/hosts (localhost entries) and one line per
 * ordinal 0..replicas-1. 0 or -errno. */
int dns_write_hosts(const struct options *opts, const char *path);

/* The short names of every ordinal, separated by spaces (PEER_NAMES in
 * each pod's environment), malloc'd into *ret_names. 0 or -errno. */
int dns_peer_names(const struct options *opts, char **ret_names);

/* "NAME:ADDRESS" for every name of every ordinal (podman --add-host), a
 * NULL-terminated vector to free with dns_free_add_hosts. 0 or -errno. */
int dns_add_hosts(const struct options *opts, char ***ret_entries);
void dns_free_add_hosts(char **entries);

#endif
