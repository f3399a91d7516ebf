/*
 * claims.h — the harness's use of the claimfsd API: make the StatefulSet's
 * claims exist (through the StatefulSet API when the daemon has it, else by
 * creating the PVCs the StatefulSet controller would create), scale, and
 * check that claims are bound.
 */
#ifndef CLAIMFS_HARNESS_CLAIMS_H
#define CLAIMFS_HARNESS_CLAIMS_H

#include "http_client.h"
#include "options.h"

#include <stdbool.h>
#include <stddef.h>

struct claims {
	const struct options *opts;
	const struct http_endpoint *api; /* the current daemon (changes on restart) */
	bool via_statefulset;          /* the daemon created the claims from our StatefulSet */
};

/* "<template>-<sts>-<ordinal>" and "<sts>-<ordinal>". 0 or -ENAMETOOLONG. */
int claims_claim_name(const struct options *opts, unsigned ordinal, char *buf, size_t cap);
int claims_pod_name(const struct options *opts, unsigned ordinal, char *buf, size_t cap);

/* Create (or adopt) the StatefulSet / claims for opts->replicas ordinals and
 * wait until each is Bound. 0 or -errno (message printed). */
int claims_ensure(struct claims *c);

/* Set the StatefulSet's replica count (no-op without the StatefulSet API;
 * claims are retained either way). 0 or -errno. */
int claims_scale(struct claims *c, unsigned replicas);

/* A new template revision of the StatefulSet (an annotation of its pod
 * template, so the daemon records a new updateRevision); no-op without the
 * StatefulSet API. 0 or -errno. */
int claims_set_revision(struct claims *c, unsigned revision);

/* Is claim ORDINAL present and Bound? 0, -ENOENT, or -errno. */
int claims_check_bound(struct claims *c, unsigned ordinal);

#endif
