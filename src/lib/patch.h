/*
 * patch.h — the three patch formats the API server takes, on JSON trees:
 *
 *   - JSON merge patch (RFC 7386, application/merge-patch+json): objects
 *     merge recursively, null deletes a member, anything else replaces.
 *   - strategic merge patch (application/strategic-merge-patch+json, what
 *     client-side `kubectl apply` and `kubectl patch` send): like a merge
 *     patch, except lists that Kubernetes declares mergeable are merged
 *     element by element on a key (containers by name, ports by
 *     containerPort, ...) or as sets (finalizers), and the directives
 *     $patch (replace/merge/delete), $retainKeys, $setElementOrder/<list>
 *     and $deleteFromPrimitiveList/<list> are honoured. Which lists merge is
 *     given by a table of field paths (patch_strategy_for); every other list
 *     is replaced, as Kubernetes does for lists without a patch strategy.
 *   - JSON patch (RFC 6902, application/json-patch+json): add, remove,
 *     replace, move, copy, test.
 *
 * Everything here is pure: inputs are never modified; results are new trees.
 */
#ifndef CLAIMFS_PATCH_H
#define CLAIMFS_PATCH_H

#include <jansson.h>
#include <stddef.h>

/* RFC 7386. Returns a new tree (NULL: out of memory). */
json_t *patch_merge(const json_t *target, const json_t *patch);

/* How a list at a field path merges under a strategic merge patch. */
struct patch_list_rule {
	const char *path;      /* dotted path, list elements not named: "spec.template.spec.containers" */
	const char *merge_key; /* element key for lists of objects; NULL: a set of primitives */
};

/* The rule for the list at path (dotted, from the object root), or NULL (replace). */
const struct patch_list_rule *patch_strategy_for(const char *path);

/* Strategic merge patch. 0 and a new tree in *ret; -EINVAL with a message
 * (bad directive, list element without its merge key) for a 422/400. */
int patch_strategic(const json_t *target, const json_t *patch, json_t **ret, char *msg,
		    size_t msg_size);

/* RFC 6902. 0 and a new tree; -EINVAL (malformed operation, path not found,
 * failed test) with a message. */
int patch_json(const json_t *target, const json_t *ops, json_t **ret, char *msg, size_t msg_size);

#endif
