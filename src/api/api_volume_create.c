/*
 * api_volume_create.c — a volume plugin Create (`podman volume create
 * --driver claimfs -o size=1Gi NAME`) as a PersistentVolumeClaim.
 *
 * Owns: the option table (api_volume_options: one row per -o key, matched
 * case-insensitively, each filling part of the claim body; "o" holds a
 * KEY=VALUE,... list of the others, as podman kube play passes a PVC's
 * volume.podman.io/mount-options annotation), the size a class gives by
 * default, and the owner and mode of the new volume's root.
 *
 * Invariants: the claim body is built and every option checked before
 * anything is created; a claim whose root could not be given the asked
 * owner or mode (not bound at once, or chown/chmod failing) is deleted
 * again, so a Create either makes the whole volume or nothing.
 */
#include "api_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* The StorageClass parameter that gives volumes created without -o size their size. */
#define API_VOLUME_DEFAULT_SIZE "defaultVolumeSize"

/* A Create being translated. */
struct api_volume_create {
	json_t *claim;       /* the PersistentVolumeClaim body */
	json_t *spec;        /* its spec (borrowed) */
	const char *size;    /* -o size, or NULL */
	const char *class;   /* -o storageClass, or NULL */
	long long uid, gid;  /* -1: not asked */
	long long mode;      /* -1: not asked */
	char *o;             /* a copy of -o o=..., which size may point into */
	struct model_error *err;
};

/* A whole decimal (base 10) or octal (base 8) number in [0, max], or -1. */
static long long api_volume_number(const char *text, int base, long long max)
{
	char *end;
	long long value;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	value = strtoll(text, &end, base);
	if (errno != 0 || *end != '\0' || value > max)
		return -1;
	return value;
}

/* Set spec.key of the claim to value (consumed). */
static int api_volume_spec_set(struct api_volume_create *c, const char *key, json_t *value)
{
	return value != NULL && json_object_set_new(c->spec, key, value) == 0 ? 0 : -ENOMEM;
}

static int api_volume_opt_size(struct api_volume_create *c, const char *value)
{
	c->size = value; /* the model checks the quantity, with the API's message */
	return 0;
}

static int api_volume_opt_class(struct api_volume_create *c, const char *value)
{
	c->class = value;
	return api_volume_spec_set(c, "storageClassName", json_string(value));
}

/* accessMode: the Kubernetes name or its kubectl abbreviation. */
static int api_volume_opt_access(struct api_volume_create *c, const char *value)
{
	static const char *const modes[][2] = {
		{ "RWO", "ReadWriteOnce" },
		{ "ROX", "ReadOnlyMany" },
		{ "RWX", "ReadWriteMany" },
		{ "RWOP", "ReadWriteOncePod" },
	};
	const char *mode = value; /* anything else: the model names the valid values */

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcasecmp(value, modes[i][0]) == 0)
			mode = modes[i][1];
	return api_volume_spec_set(c, "accessModes", json_pack("[s]", mode));
}

static int api_volume_opt_uid(struct api_volume_create *c, const char *value)
{
	c->uid = api_volume_number(value, 10, 4294967294LL);
	return c->uid >= 0 ? 0
			   : model_fail(c->err, -EINVAL, "option uid: '%.64s' is not a user ID "
					"(a number from 0 to 4294967294)", value);
}

static int api_volume_opt_gid(struct api_volume_create *c, const char *value)
{
	c->gid = api_volume_number(value, 10, 4294967294LL);
	return c->gid >= 0 ? 0
			   : model_fail(c->err, -EINVAL, "option gid: '%.64s' is not a group ID "
					"(a number from 0 to 4294967294)", value);
}

static int api_volume_opt_mode(struct api_volume_create *c, const char *value)
{
	c->mode = api_volume_number(value, 8, 07777);
	return c->mode >= 0 ? 0
			    : model_fail(c->err, -EINVAL, "option mode: '%.64s' is not an octal "
					 "file mode (0 to 7777, such as 0750)", value);
}

/* snapshot: a point-in-time copy of a VolumeSnapshot of this namespace. */
static int api_volume_opt_snapshot(struct api_volume_create *c, const char *value)
{
	return api_volume_spec_set(c, "dataSource",
				   json_pack("{s:s, s:s, s:s}", "apiGroup", "snapshot.storage.k8s.io",
					     "kind", "VolumeSnapshot", "name", value));
}

/* clone: a copy of another volume (claim) of this namespace. */
static int api_volume_opt_clone(struct api_volume_create *c, const char *value)
{
	return api_volume_spec_set(c, "dataSource",
				   json_pack("{s:s, s:s}", "kind", "PersistentVolumeClaim", "name",
					     value));
}

static int api_volume_opt_list(struct api_volume_create *c, const char *value);

/* The -o options of a Create. */
static const struct api_volume_option {
	const char *key;
	int (*apply)(struct api_volume_create *c, const char *value);
} api_volume_options[] = {
	{ "o", api_volume_opt_list },
	{ "size", api_volume_opt_size },
	{ "storageClass", api_volume_opt_class },
	{ "accessMode", api_volume_opt_access },
	{ "uid", api_volume_opt_uid },
	{ "gid", api_volume_opt_gid },
	{ "mode", api_volume_opt_mode },
	{ "snapshot", api_volume_opt_snapshot },
	{ "clone", api_volume_opt_clone },
};

/* Apply the option key (matched case-insensitively: podman kube play
 * sends UID and GID) with value. */
static int api_volume_apply(struct api_volume_create *c, const char *key, const char *value)
{
	for (size_t i = 0; i < sizeof(api_volume_options) / sizeof(api_volume_options[0]); i++)
		if (strcasecmp(key, api_volume_options[i].key) == 0)
			return api_volume_options[i].apply(c, value);
	return model_fail(c->err, -EINVAL,
			  "unknown option '%.64s': claimfs volumes take size, storageClass, "
			  "accessMode, uid, gid, mode, snapshot and clone (also as o=KEY=VALUE,...)",
			  key);
}

/* o: "KEY=VALUE,KEY=VALUE" — the local driver's mount-option list, which is
 * also what podman kube play passes (annotation volume.podman.io/mount-options). */
static int api_volume_opt_list(struct api_volume_create *c, const char *value)
{
	char *item, *next, *eq;
	int r;

	if (c->o != NULL)
		return model_fail(c->err, -EINVAL, "option o is given twice");
	c->o = strdup(value);
	if (c->o == NULL)
		return -ENOMEM;
	for (item = strtok_r(c->o, ",", &next); item != NULL; item = strtok_r(NULL, ",", &next)) {
		eq = strchr(item, '=');
		if (eq == NULL)
			return model_fail(c->err, -EINVAL, "option o: '%.64s' is not KEY=VALUE", item);
		*eq = '\0';
		if (strcasecmp(item, "o") == 0)
			return model_fail(c->err, -EINVAL, "option o cannot hold another o");
		r = api_volume_apply(c, item, eq + 1);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Apply every option of opts (an object of strings, or NULL). */
static int api_volume_apply_options(struct api_volume_create *c, const json_t *opts)
{
	const char *key;
	json_t *value;
	int r;

	if (opts != NULL && !json_is_null(opts) && !json_is_object(opts))
		return model_fail(c->err, -EBADMSG, "Opts must be an object of strings");
	json_object_foreach((json_t *)opts, key, value) {
		if (!json_is_string(value))
			return model_fail(c->err, -EBADMSG, "option %.64s must be a string", key);
		r = api_volume_apply(c, key, json_string_value(value));
		if (r < 0)
			return r;
	}
	return 0;
}

/* Without -o size: the class's defaultVolumeSize parameter. */
static int api_volume_default_size(struct model *model, struct api_volume_create *c,
				   json_t **ret_class)
{
	struct model_error class_err;
	int r = model_storage_class_get(model, c->class, ret_class, &class_err);

	if (r == 0)
		c->size = model_path_string(*ret_class, "parameters." API_VOLUME_DEFAULT_SIZE);
	if (r < 0 && r != -ENOENT) {
		*c->err = class_err;
		return r;
	}
	if (c->size == NULL)
		return model_fail(c->err, -EINVAL,
				  "no size given: create the volume with -o size=QUANTITY (such as "
				  "1Gi), or set parameters." API_VOLUME_DEFAULT_SIZE
				  " on the StorageClass %s",
				  r == 0 ? model_path_string(*ret_class, "metadata.name")
					 : c->class != NULL ? c->class : "(there is no default class)");
	return 0;
}

/* Give the new claim's root directory the asked owner and mode. */
static int api_volume_set_root(const char *mountpoint, const char *ns, const char *name,
			       const json_t *claim, const struct api_volume_create *c)
{
	char path[PATH_MAX];
	const char *phase = model_path_string(claim, "status.phase");
	int n = snprintf(path, sizeof(path), "%s/%s/%s", mountpoint, ns, name);

	if (phase == NULL || strcmp(phase, "Bound") != 0)
		return model_fail(c->err, -EAGAIN,
				  "volume \"%s\" has no storage yet (its claim is %s), so its owner "
				  "and mode cannot be set: create it again once there is room",
				  name, phase != NULL ? phase : "not bound");
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	/* Through the mount like any client: the store and its accounting
	 * see an ordinary chown and chmod. */
	if ((c->uid >= 0 || c->gid >= 0) &&
	    chown(path, c->uid >= 0 ? (uid_t)c->uid : (uid_t)-1,
		  c->gid >= 0 ? (gid_t)c->gid : (gid_t)-1) < 0)
		return model_fail(c->err, -errno, "cannot set the owner of volume \"%s\": %s", name,
				  strerror(errno));
	if (c->mode >= 0 && chmod(path, (mode_t)c->mode) < 0)
		return model_fail(c->err, -errno, "cannot set the mode of volume \"%s\": %s", name,
				  strerror(errno));
	return 0;
}

int api_volume_create_claim(struct model *model, const char *ns, const char *mountpoint,
			    const char *name, const json_t *opts, struct model_error *err)
{
	struct api_volume_create c = { .uid = -1, .gid = -1, .mode = -1, .err = err };
	json_t *class = NULL, *created = NULL, *gone = NULL;
	struct model_error undo_err;
	int r;

	c.claim = json_pack("{s:s, s:s, s:{s:s}, s:{s:[s]}}", "apiVersion", "v1", "kind",
			    "PersistentVolumeClaim", "metadata", "name", name, "spec",
			    "accessModes", "ReadWriteOnce");
	if (c.claim == NULL)
		return -ENOMEM;
	c.spec = json_object_get(c.claim, "spec");
	r = api_volume_apply_options(&c, opts);
	if (r == 0 && c.size == NULL)
		r = api_volume_default_size(model, &c, &class);
	if (r == 0)
		r = api_volume_spec_set(&c, "resources",
					json_pack("{s:{s:s}}", "requests", "storage", c.size));
	if (r < 0)
		goto out;
	r = model_create(model, MODEL_PVC, ns, c.claim, NULL, &created, err);
	if (r < 0 || (c.uid < 0 && c.gid < 0 && c.mode < 0))
		goto out;
	r = api_volume_set_root(mountpoint, ns, name, created, &c);
	if (r < 0 && model_delete(model, MODEL_PVC, ns, name, NULL, NULL, &gone, &undo_err) < 0)
		log_warn("volume plugin: cannot remove the half-made volume %s: %s",
			name, undo_err.message);
out:
	json_decref(gone);
	json_decref(created);
	json_decref(class);
	json_decref(c.claim);
	free(c.o);
	return r;
}
