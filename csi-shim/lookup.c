/*
 * lookup.c — finding the claim behind a CSI volume id through claimfsd's API.
 *
 * A volume id is the claim's spec.volumeName, which claimfsd never reuses;
 * the claim name is not enough (a claim deleted and created again under the
 * same name is a different volume). The volume_context the CO passes back
 * names the claim, which makes the common case one GET; the id is still
 * checked against the claim, and without a (matching) hint we search the
 * cluster-wide claim list.
 *
 * Invariant: every JSON value whose strings a returned mapping_claim points
 * into is owned by the call's arena (csi_keep_json), so results stay valid
 * until the call ends and are never freed twice.
 */
#include "csi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* arena cleanup for a JSON reference */
static void csi_json_release(void *json)
{
	json_decref(json);
}

/* Hand a reference to the arena. */
int csi_keep_json(struct csi_call *call, json_t *json)
{
	if (json == NULL)
		return 0;
	if (arena_defer(call->arena, csi_json_release, json) < 0) {
		json_decref(json);
		return csi_fail_oom(call);
	}
	return 0;
}

/* Try the claim the context names; *ret_found only if it is the volume. */
static int csi_lookup_hint(struct csi_call *call, const char *volume_id, const char *ns,
			   const char *name, struct mapping_claim *ret_claim, bool *ret_found)
{
	struct daemon_client_error err;
	struct mapping_claim claim;
	json_t *json = NULL;
	char msg[256];
	int r;

	*ret_found = false;
	r = daemon_client_claim_get(&call->driver->api, ns, name, &json, &err);
	if (r == -ENOENT || r == -EINVAL)
		return 0; /* stale or bogus hint: search instead */
	if (r < 0)
		return csi_fail_api(call, r, &err, "looking up the volume's claim");
	if (csi_keep_json(call, json) < 0)
		return -1;
	if (mapping_claim_parse(json, &claim, msg, sizeof(msg)) == 0 &&
	    strcmp(claim.volume_id, volume_id) == 0) {
		*ret_claim = claim;
		*ret_found = true;
	}
	return 0;
}

/* qsort order: by volume id. */
static int csi_claim_compare(const void *a, const void *b)
{
	const struct mapping_claim *x = a, *y = b;

	return strcmp(x->volume_id, y->volume_id);
}

/* Every bound claim, sorted by volume id. */
int csi_lookup_all_volumes(struct csi_call *call, struct mapping_claim **ret_claims,
			   size_t *ret_count)
{
	struct daemon_client_error err;
	struct mapping_claim *claims;
	json_t *items = NULL, *item;
	size_t i, count = 0;
	char msg[256];
	int r;

	r = daemon_client_claim_list(&call->driver->api, &items, &err);
	if (r < 0)
		return csi_fail_api(call, r, &err, "listing claims");
	if (csi_keep_json(call, items) < 0)
		return -1;
	claims = arena_alloc(call->arena, (json_array_size(items) + 1) * sizeof(*claims));
	if (claims == NULL)
		return csi_fail_oom(call);
	json_array_foreach(items, i, item)
		/* Claims that are not bound have no volume: not listed. */
		if (mapping_claim_parse(item, &claims[count], msg, sizeof(msg)) == 0)
			count++;
	if (count > 1)
		qsort(claims, count, sizeof(*claims), csi_claim_compare);
	*ret_claims = claims;
	*ret_count = count;
	return 0;
}

/* Find a volume, absent is not an error. */
int csi_lookup_volume_maybe(struct csi_call *call, const char *volume_id, size_t n_context,
			    const void *const *context,
			    struct mapping_claim *ret_claim, bool *ret_found)
{
	const char *ns = CSI_MAP_GET(n_context, context, CSI_CONTEXT_NAMESPACE);
	const char *name = CSI_MAP_GET(n_context, context, CSI_CONTEXT_CLAIM);
	struct mapping_claim *claims;
	size_t count;

	*ret_found = false;
	if (!mapping_volume_id_valid(volume_id))
		return 0; /* we never hand out such an id */
	if (ns != NULL && name != NULL) {
		if (csi_lookup_hint(call, volume_id, ns, name, ret_claim, ret_found) < 0)
			return -1;
		if (*ret_found)
			return 0;
	}
	if (csi_lookup_all_volumes(call, &claims, &count) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		if (strcmp(claims[i].volume_id, volume_id) == 0) {
			*ret_claim = claims[i];
			*ret_found = true;
			break;
		}
	}
	return 0;
}

/* Find a volume; NOT_FOUND when it does not exist. */
int csi_lookup_volume(struct csi_call *call, const char *volume_id, size_t n_context,
		      const void *const *context,
		      struct mapping_claim *ret_claim)
{
	bool found;

	if (csi_lookup_volume_maybe(call, volume_id, n_context, context, ret_claim, &found) < 0)
		return -1;
	if (!found)
		return csi_fail(call, GRPC_STATUS_NOT_FOUND, "volume %s does not exist", volume_id);
	return 0;
}
