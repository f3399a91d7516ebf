/*
 * dns.c — the stable per-pod names (see dns.h).
 *
 * Invariant: an ordinal's address depends on the ordinal only, so the hosts
 * file written at set-up stays true through every kill, restart, update and
 * scale cycle of the run.
 */
#include "dns.h"
#include "claims.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DNS_CLUSTER_DOMAIN "svc.cluster.local"

/* See dns.h. */
void dns_pod_address(unsigned ordinal, char ret_address[DNS_ADDRESS_MAX])
{
	snprintf(ret_address, DNS_ADDRESS_MAX, "127.0.100.%u", 10 + ordinal % OPTIONS_MAX_REPLICAS);
}

/* See dns.h. */
int dns_pod_names(const struct options *opts, const char *pod, char *ret_short, size_t short_cap,
		  char *ret_fqdn, size_t fqdn_cap)
{
	if (util_format(ret_short, short_cap, "%s.%s", pod, opts->statefulset) < 0 ||
	    util_format(ret_fqdn, fqdn_cap, "%s.%s.%s.%s", pod, opts->statefulset,
			opts->namespace_name, DNS_CLUSTER_DOMAIN) < 0)
		return -ENAMETOOLONG;
	return 0;
}

/* Call FN(address, short name, fqdn, ARG) for each ordinal. */
static int dns_each(const struct options *opts,
		    int (*fn)(const char *address, const char *name, const char *fqdn, void *arg), void *arg)
{
	char pod[128], name[256], fqdn[512], address[DNS_ADDRESS_MAX];
	for (unsigned i = 0; i < opts->replicas; i++) {
		int r = claims_pod_name(opts, i, pod, sizeof(pod));
		if (r == 0)
			r = dns_pod_names(opts, pod, name, sizeof(name), fqdn, sizeof(fqdn));
		if (r < 0)
			return r;
		dns_pod_address(i, address);
		r = fn(address, name, fqdn, arg);
		if (r < 0)
			return r;
	}
	return 0;
}

/* One hosts line. */
static int dns_hosts_line(const char *address, const char *name, const char *fqdn, void *arg)
{
	return fprintf(arg, "%s\t%s %s\n", address, fqdn, name) < 0 ? -EIO : 0;
}

/* See dns.h. */
int dns_write_hosts(const struct options *opts, const char *path)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	/* localhost as in every pod, then the set's pods. */
	int r = fprintf(f, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
			   "# %s: the StatefulSet's pods (headless Service %s)\n",
			opts->statefulset, opts->statefulset) < 0 ? -EIO : 0;
	if (r == 0)
		r = dns_each(opts, dns_hosts_line, f);
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r;
}

/* Append " NAME" to the growing string ARG. */
static int dns_add_peer(const char *address, const char *name, const char *fqdn, void *arg)
{
	char **names = arg, *longer;
	(void)address;
	(void)fqdn;
	if (asprintf(&longer, "%s%s%s", *names, **names ? " " : "", name) < 0)
		return -ENOMEM;
	free(*names);
	*names = longer;
	return 0;
}

/* See dns.h. */
int dns_peer_names(const struct options *opts, char **ret_names)
{
	char *names = strdup("");
	if (!names)
		return -ENOMEM;
	int r = dns_each(opts, dns_add_peer, &names);
	if (r < 0) {
		free(names);
		return r;
	}
	*ret_names = names;
	return 0;
}

struct dns_vector {
	char **entries;
	size_t count;
};

/* Two --add-host entries: the short and the qualified name. */
static int dns_add_entry(const char *address, const char *name, const char *fqdn, void *arg)
{
	struct dns_vector *v = arg;
	if (asprintf(&v->entries[v->count], "%s:%s", fqdn, address) < 0)
		return -ENOMEM;
	v->count++;
	if (asprintf(&v->entries[v->count], "%s:%s", name, address) < 0)
		return -ENOMEM;
	v->count++;
	return 0;
}

/* See dns.h. */
int dns_add_hosts(const struct options *opts, char ***ret_entries)
{
	struct dns_vector v = { .entries = calloc(2 * (size_t)opts->replicas + 1, sizeof(char *)) };
	if (!v.entries)
		return -ENOMEM;
	int r = dns_each(opts, dns_add_entry, &v);
	if (r < 0) {
		dns_free_add_hosts(v.entries);
		return r;
	}
	*ret_entries = v.entries;
	return 0;
}

/* See dns.h. */
void dns_free_add_hosts(char **entries)
{
	for (char **p = entries; p && *p; p++)
		free(*p);
	free(entries);
}
