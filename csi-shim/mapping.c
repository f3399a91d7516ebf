/*
 * mapping.c — CSI <-> claimfsd mapping rules (see mapping.h for the table).
 * Pure functions: no I/O, no allocation except what jansson already owns.
 */
#include "mapping.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "names.h"
#include "quantity.h"

/* ---- access modes ------------------------------------------------------------ */

static const struct {
	unsigned bit;
	const char *name;
} mapping_k8s_modes[] = {
	{ MAPPING_RWO, "ReadWriteOnce" },
	{ MAPPING_ROX, "ReadOnlyMany" },
	{ MAPPING_RWX, "ReadWriteMany" },
	{ MAPPING_RWOP, "ReadWriteOncePod" },
};

/* CSI mode -> Kubernetes mode bit. */
unsigned mapping_k8s_mode(int csi_mode)
{
	switch (csi_mode) {
	case MAPPING_CSI_SINGLE_NODE_WRITER:
	case MAPPING_CSI_SINGLE_NODE_MULTI_WRITER:
		return MAPPING_RWO;
	case MAPPING_CSI_SINGLE_NODE_SINGLE_WRITER:
		return MAPPING_RWOP;
	case MAPPING_CSI_SINGLE_NODE_READER_ONLY:
	case MAPPING_CSI_MULTI_NODE_READER_ONLY:
		return MAPPING_ROX;
	case MAPPING_CSI_MULTI_NODE_SINGLE_WRITER:
	case MAPPING_CSI_MULTI_NODE_MULTI_WRITER:
		return MAPPING_RWX;
	default:
		return 0;
	}
}

/* Name of one Kubernetes mode bit. */
const char *mapping_k8s_mode_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(mapping_k8s_modes) / sizeof(mapping_k8s_modes[0]); i++)
		if (mapping_k8s_modes[i].bit == bit)
			return mapping_k8s_modes[i].name;
	return NULL;
}

/* Bit of a Kubernetes mode name. */
unsigned mapping_k8s_mode_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(mapping_k8s_modes) / sizeof(mapping_k8s_modes[0]); i++)
		if (strcmp(mapping_k8s_modes[i].name, name) == 0)
			return mapping_k8s_modes[i].bit;
	return 0;
}

/* Reader-only modes get a read-only bind mount whatever `readonly` says. */
bool mapping_mode_read_only(int csi_mode)
{
	return csi_mode == MAPPING_CSI_SINGLE_NODE_READER_ONLY ||
	       csi_mode == MAPPING_CSI_MULTI_NODE_READER_ONLY;
}

/* Second target path allowed: MULTI_NODE_* and SINGLE_NODE_MULTI_WRITER. */
bool mapping_mode_multi_target(int csi_mode)
{
	return csi_mode == MAPPING_CSI_MULTI_NODE_READER_ONLY ||
	       csi_mode == MAPPING_CSI_MULTI_NODE_SINGLE_WRITER ||
	       csi_mode == MAPPING_CSI_MULTI_NODE_MULTI_WRITER ||
	       csi_mode == MAPPING_CSI_SINGLE_NODE_MULTI_WRITER;
}

/* ---- capacity ------------------------------------------------------------------ */

/* Pick the size to provision (see mapping.h). */
int mapping_capacity(int64_t required, int64_t limit, uint64_t default_bytes,
		     uint64_t source_bytes, uint64_t *ret_bytes)
{
	uint64_t bytes;

	if (required < 0 || limit < 0 || (limit > 0 && required > limit))
		return -EINVAL;
	if (required > 0)
		bytes = (uint64_t)required;
	else if (source_bytes > 0)
		bytes = source_bytes;
	else if (limit > 0 && (uint64_t)limit < default_bytes)
		bytes = (uint64_t)limit;
	else
		bytes = default_bytes;
	/* A copy needs room for all of the source: smaller is OUT_OF_RANGE. */
	if (bytes < source_bytes || (limit > 0 && bytes > (uint64_t)limit))
		return -ERANGE;
	*ret_bytes = bytes;
	return 0;
}

/* Within [required, limit] (each bound only when given)? */
bool mapping_capacity_fits(uint64_t bytes, int64_t required, int64_t limit)
{
	if (required > 0 && bytes < (uint64_t)required)
		return false;
	if (limit > 0 && bytes > (uint64_t)limit)
		return false;
	return true;
}

/* ---- names --------------------------------------------------------------------- */

/* FNV-1a: a stable short fingerprint of a name. */
static uint32_t mapping_hash(const char *text)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	return h;
}

/* Sanitise a CSI name into a DNS-1123 label-shaped object name. */
int mapping_object_name(const char *csi_name, char *buf, size_t size)
{
	/* room for "-" + 8 hex digits after the cut */
	const size_t keep_max = NAMES_SUBDOMAIN_MAX - 9;
	size_t len = strlen(csi_name), n = 0, i;
	bool changed = false;
	char msg[256];

	if (size < NAMES_SUBDOMAIN_MAX + 1)
		return -ENAMETOOLONG;
	for (i = 0; i < len && n < keep_max; i++) {
		char c = csi_name[i];

		if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
			changed = true;
		} else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
			c = '-';
			changed = true;
		}
		if (n == 0 && c == '-') {
			changed = true; /* names start with an alphanumeric */
			continue;
		}
		buf[n++] = c;
	}
	if (i < len)
		changed = true; /* cut short */
	while (n > 0 && buf[n - 1] == '-') {
		n--;
		changed = true;
	}
	buf[n] = '\0';
	if (changed || n == 0)
		snprintf(buf + n, size - n, "%s%08x", n > 0 ? "-" : "vol-", mapping_hash(csi_name));
	return names_check_subdomain(buf, msg, sizeof(msg)) < 0 ? -EINVAL : 0;
}

/* ---- claims ---------------------------------------------------------------------- */

/* The string at obj.key, or NULL. */
static const char *mapping_string(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* Parse a quantity string member into bytes; false if absent or bad. */
static bool mapping_quantity(const json_t *obj, const char *key, uint64_t *ret_bytes)
{
	const char *text = mapping_string(obj, key);

	return text != NULL && quantity_parse(text, ret_bytes, NULL) == 0;
}

/* Read the fields of a claim we rely on. */
int mapping_claim_parse(const json_t *claim, struct mapping_claim *ret_claim, char *msg,
			size_t msg_size)
{
	const json_t *meta = json_object_get(claim, "metadata");
	const json_t *spec = json_object_get(claim, "spec");
	const json_t *status = json_object_get(claim, "status");
	const json_t *annotations = json_object_get(meta, "annotations");
	const json_t *modes = json_object_get(spec, "accessModes");
	struct mapping_claim c = { 0 };
	const json_t *mode;
	size_t i;

	c.namespace_name = mapping_string(meta, "namespace");
	c.name = mapping_string(meta, "name");
	c.volume_id = mapping_string(spec, "volumeName");
	if (c.namespace_name == NULL || c.name == NULL) {
		snprintf(msg, msg_size, "claimfsd answered a claim without metadata.name/namespace");
		return -EINVAL;
	}
	if (c.volume_id == NULL || c.volume_id[0] == '\0') {
		snprintf(msg, msg_size, "claim %s/%s is not bound to a volume", c.namespace_name,
			 c.name);
		return -EINVAL;
	}
	if (!mapping_quantity(json_object_get(status, "capacity"), "storage", &c.capacity) &&
	    !mapping_quantity(json_object_get(json_object_get(spec, "resources"), "requests"),
			      "storage", &c.capacity)) {
		snprintf(msg, msg_size, "claim %s/%s reports no capacity", c.namespace_name, c.name);
		return -EINVAL;
	}
	json_array_foreach(modes, i, mode)
		if (json_is_string(mode))
			c.modes |= mapping_k8s_mode_parse(json_string_value(mode));
	c.csi_name = mapping_string(annotations, MAPPING_ANNOTATION_VOLUME_NAME);
	c.content_source = mapping_string(annotations, MAPPING_ANNOTATION_CONTENT_SOURCE);
	c.attachments = mapping_string(annotations, MAPPING_ANNOTATION_ATTACHMENTS);
	c.resource_version = mapping_string(meta, "resourceVersion");
	*ret_claim = c;
	return 0;
}

/* ---- snapshots ---------------------------------------------------------------------- */

/* Read the fields of a VolumeSnapshot we rely on. */
int mapping_snapshot_parse(const json_t *snapshot, struct mapping_snapshot *ret_snapshot,
			   char *msg, size_t msg_size)
{
	const json_t *meta = json_object_get(snapshot, "metadata");
	const json_t *spec = json_object_get(snapshot, "spec");
	const json_t *status = json_object_get(snapshot, "status");
	const json_t *annotations = json_object_get(meta, "annotations");
	struct mapping_snapshot s = { 0 };
	const char *created;

	s.namespace_name = mapping_string(meta, "namespace");
	s.name = mapping_string(meta, "name");
	if (s.namespace_name == NULL || s.name == NULL) {
		snprintf(msg, msg_size, "claimfsd answered a snapshot without metadata.name/namespace");
		return -EINVAL;
	}
	s.source_claim = mapping_string(json_object_get(spec, "source"), "persistentVolumeClaimName");
	s.source_volume_id = mapping_string(annotations, MAPPING_ANNOTATION_SOURCE_VOLUME);
	s.csi_name = mapping_string(annotations, MAPPING_ANNOTATION_SNAPSHOT_NAME);
	if (!mapping_quantity(status, "restoreSize", &s.size))
		s.size = 0;
	s.ready = json_is_true(json_object_get(status, "readyToUse"));
	s.group = mapping_string(status, "volumeGroupSnapshotName");
	created = mapping_string(status, "creationTime");
	if (created == NULL)
		created = mapping_string(meta, "creationTimestamp");
	if (created == NULL || mapping_time_parse(created, &s.created_seconds) < 0)
		s.created_seconds = 0;
	*ret_snapshot = s;
	return 0;
}

/* "<ns>/<name>" -> parts, both validated. */
int mapping_snapshot_id_split(const char *snapshot_id, char *ns, size_t ns_size, char *name,
			      size_t name_size)
{
	const char *slash = strchr(snapshot_id, '/');
	size_t ns_len;
	char msg[256];

	if (slash == NULL)
		return -EINVAL;
	ns_len = (size_t)(slash - snapshot_id);
	if (ns_len == 0 || ns_len >= ns_size || strlen(slash + 1) >= name_size)
		return -EINVAL;
	memcpy(ns, snapshot_id, ns_len);
	ns[ns_len] = '\0';
	strcpy(name, slash + 1);
	if (names_check_label(ns, msg, sizeof(msg)) < 0 ||
	    names_check_subdomain(name, msg, sizeof(msg)) < 0)
		return -EINVAL;
	return 0;
}

/* ---- pagination -------------------------------------------------------------------- */

/* Volume ids are claimfsd volume names: DNS-1123 subdomains. */
bool mapping_volume_id_valid(const char *id)
{
	char msg[256];

	return names_check_subdomain(id, msg, sizeof(msg)) == 0;
}

/* Snapshot ids are "<ns>/<name>". */
bool mapping_snapshot_id_valid(const char *id)
{
	char ns[NAMES_LABEL_MAX + 1], name[NAMES_SUBDOMAIN_MAX + 1];

	return mapping_snapshot_id_split(id, ns, sizeof(ns), name, sizeof(name)) == 0;
}

/* "" -> start; "after:<id>" -> id; anything else -EINVAL. */
int mapping_token_parse(const char *token, bool (*id_valid)(const char *id),
			const char **ret_after)
{
	size_t prefix = strlen(MAPPING_TOKEN_PREFIX);

	if (token == NULL || token[0] == '\0') {
		*ret_after = NULL;
		return 0;
	}
	if (strncmp(token, MAPPING_TOKEN_PREFIX, prefix) != 0 || !id_valid(token + prefix))
		return -EINVAL;
	*ret_after = token + prefix;
	return 0;
}

/* ---- time ----------------------------------------------------------------------------- */

/* RFC 3339 in UTC ("Z") -> epoch seconds. */
int mapping_time_parse(const char *text, int64_t *ret_seconds)
{
	struct tm tm = { 0 };
	const char *rest;
	time_t t;

	rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest == NULL)
		return -EINVAL;
	if (*rest == '.') {
		rest++;
		if (*rest < '0' || *rest > '9')
			return -EINVAL;
		while (*rest >= '0' && *rest <= '9')
			rest++;
	}
	if (strcmp(rest, "Z") != 0)
		return -EINVAL;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*ret_seconds = (int64_t)t;
	return 0;
}
