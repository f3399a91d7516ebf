/*
 * api_internal.h — what the API's files share (not for use outside
 * src/api/api*.c): the call being handled, query parameters, and the
 * renderers of discovery documents, OpenAPI documents and Tables.
 *
 * Files call only downwards, in this order (a file may call any file below
 * it, none above):
 *
 *   http.c            the libmicrohttpd server (http_guard.c: head
 *                     deadlines; http_listen.c: its listening sockets;
 *                     http_spool.c: large bodies spooled to a file)
 *   api_volume_plugin.c  the Docker/Podman volume plugin protocol on its
 *                     own socket (api_volume_create.c: a Create's options
 *                     into a claim)
 *   api.c             the router: fixed routes table, api_handle, responses
 *   api_auth.c        SelfSubjectReview, SelfSubjectAccessReview and
 *                     SelfSubjectRulesReview: who the caller is, what it may do
 *   api_resource.c    every served kind: list, watch, create, get, replace,
 *                     patch, delete, scale
 *   api_fields.c      fieldValidation: checked bodies, Warning headers
 *   api_watch.c       watch streams
 *   api_table.c  api_discovery.c  api_openapi.c
 *   api_request.c     query parameters, request bodies, errno -> Status
 *   api_schema.c      unknown and duplicate fields (api_schema_table.c)
 *   api_protobuf.c    protobuf request bodies (kubectl create namespace)
 *
 * and all of them call the model (src/model) below the layer.
 */
#ifndef CLAIMFS_API_INTERNAL_H
#define CLAIMFS_API_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "api.h"
#include "api_schema.h"
#include "model.h"

#define API_SEGMENTS_MAX 10
#define API_QUERY_MAX 24
#define API_JSON_TYPE "application/json"

/* One request being handled: inputs, captured path parameters, outputs. */
struct api_call {
	struct model *model;
	const struct api_request *req;
	const char *param[API_SEGMENTS_MAX]; /* the "{}" segments, in order */
	unsigned query_count;
	char *query_key[API_QUERY_MAX]; /* decoded; owned */
	char *query_value[API_QUERY_MAX];
	unsigned status;        /* success: HTTP status */
	json_t *body;           /* success: JSON answer (owned) */
	const char *text;       /* success: plain-text answer instead */
	char *owned_text;       /* success: malloc'd answer instead (text or binary) */
	size_t owned_len;       /* its length when binary (0: a C string) */
	const char *text_type;  /* Content-Type of a text answer */
	struct api_watch *watch; /* success: a stream instead */
	int file_fd;            /* success: a file to send instead (>= 0; owned) */
	struct model_error err; /* failure: what went wrong */
	/* Unknown and duplicate fields met so far (fieldValidation; owned). */
	struct api_schema_problems problems;
	char warnings[API_WARNINGS_MAX]; /* Warning header values, '\n'-ended */
};

/* ---- requests and failures (api_request.c) ---------------------------------------- */

/* Split the raw query string into decoded key/value pairs (call->query_*;
 * the caller frees them, also on failure). -EBADMSG: too many. */
int api_parse_query(struct api_call *call);
/* The decoded value of query parameter key, or NULL. */
const char *api_query(const struct api_call *call, const char *key);
/* A boolean query parameter ("true"/"1"). */
bool api_query_true(const struct api_call *call, const char *key);

/* Is the media type of a Content-Type header type (case-insensitive)? */
bool api_media_is(const char *content_type, const char *type);
/* The body of a POST or PUT (JSON or YAML) into *ret_body. */
int api_decode_body(struct api_call *call, json_t **ret_body);
/* The body and type of a PATCH. */
int api_decode_patch(struct api_call *call, enum model_patch_type *ret_type, json_t **ret_body);

/* One row of the errno -> HTTP status and Status.reason mapping. */
struct api_errno_status {
	int errnum;
	unsigned code;
	const char *reason;
};

/* The row for errnum; unknown errors are 500 InternalError. */
struct api_errno_status api_status_for(int errnum);
/* The Kubernetes Status object for a failure (NULL: out of memory). */
json_t *api_error_body(int errnum, const struct model_error *err);

/* ---- fieldValidation (api_fields.c) ---------------------------------------------------- */

enum api_field_validation { API_FIELDS_IGNORE, API_FIELDS_WARN, API_FIELDS_STRICT };

/* The request's ?fieldValidation (absent: Warn, the API server's default).
 * options_kind names the options type in the error ("CreateOptions"). */
int api_fields_directive(struct api_call *call, const char *options_kind,
			 enum api_field_validation *ret);
/* The schema table index of kind's type, or -1 (then nothing is checked). */
int api_fields_type(enum model_kind kind);
/* The body of a create or update, checked against type and pruned as the
 * directive asks. */
int api_fields_body(struct api_call *call, int type, enum api_field_validation directive,
		    json_t **ret_body);
/* The checks of api_fields_body for one object already decoded (an item of
 * a list body): unknown and duplicate fields by directive, pruning. */
int api_fields_object(struct api_call *call, int type, enum api_field_validation directive,
		      json_t *obj);

/* What the model's check of a patched object needs; lives as long as the
 * call to the model. */
struct api_fields_patch {
	struct api_call *call;
	int type;
	enum api_field_validation directive;
	bool strategic;
};
/* The body of a PATCH of kind/name, checked as the directive asks (a
 * server-side apply entirely; other patches in part, setting
 * options->check_patched so the model lets this file check the result). */
int api_fields_patch(struct api_call *call, enum model_kind kind, int type,
		     enum api_field_validation directive, const char *ns, const char *name,
		     struct api_fields_patch *ctx, enum model_patch_type *ret_type,
		     json_t **ret_body, struct model_write_options *options);
/* Add a Warning header value for text. */
void api_fields_warn(struct api_call *call, const char *text);
/* A protobuf body (application/vnd.kubernetes.protobuf) of a kind we can
 * read (Namespace) into JSON; -EMEDIUMTYPE for other kinds, -EBADMSG if
 * malformed; msg says why. */
/* A claim's export/import subresources (api_tar.c): sub "export" or "import". */
int api_claim_tar(struct api_call *call, const char *ns, const char *name, const char *sub,
		  const char *method);
/* GET .../volumesnapshots/NAME/export: the snapshot's files as a tar. */
int api_snapshot_export(struct api_call *call, const char *ns, const char *name,
			const char *method);
int api_protobuf_decode(const char *data, size_t len, json_t **ret_body, char *msg, size_t size);

/* ---- resources (api_resource.c) ------------------------------------------------------ */

/* Every request under /api/v1 and /apis/<g>/<v> that is not discovery
 * (api_resource.c); segment: the path's segments. */
int api_resource(struct api_call *call, char *const segment[], unsigned count,
		 const char *method);

/* ---- the volume plugin's Create (api_volume_create.c) ------------------------------------ */

/* Make claim ns/name from a volume plugin Create's Opts (an object of
 * strings, or NULL): size, storageClass, accessMode, uid, gid, mode,
 * snapshot, clone. The root of the volume, <mountpoint>/<ns>/<name>, gets
 * uid/gid/mode; all or nothing. */
int api_volume_create_claim(struct model *model, const char *ns, const char *mountpoint,
			    const char *name, const json_t *opts, struct model_error *err);

/* ---- self reviews (api_auth.c) ------------------------------------------------------ */

/* POST of a review (routes of api.c): answered from the token configuration. */
int api_auth_access_review(struct api_call *call);
int api_auth_rules_review(struct api_call *call);
int api_auth_self_review(struct api_call *call);

/* ---- discovery (api_discovery.c) ------------------------------------------------ */

/* A review kind served besides the model's kinds: create only, never stored. */
struct api_discovery_review {
	const char *group; /* "authorization.k8s.io" (version v1) */
	const char *kind;  /* "SelfSubjectAccessReview" */
	const char *resource;
};

#define API_DISCOVERY_REVIEW_COUNT 3
/* SelfSubjectAccessReview, SelfSubjectRulesReview, SelfSubjectReview, in that order. */
extern const struct api_discovery_review api_discovery_reviews[API_DISCOVERY_REVIEW_COUNT];

json_t *api_discovery_version(void);
json_t *api_discovery_core_versions(void);
json_t *api_discovery_groups(void);
/* APIGroup of group, or NULL if not served. */
json_t *api_discovery_group(const char *group);
/* APIResourceList of group/version ("" = core), or NULL if not served. */
json_t *api_discovery_resources(const char *group, const char *version);
/* Is group/version served? */
bool api_discovery_served(const char *group, const char *version);

/* ---- OpenAPI (api_openapi.c) --------------------------------------------------------- */

/* /openapi/v3: the index of group-version documents. */
json_t *api_openapi_index(void);
/* /openapi/v3/<path> ("api/v1", "apis/apps/v1", ...), or NULL. */
json_t *api_openapi_document(const char *path);

/* ---- tables (api_table.c) -------------------------------------------------------------- */

enum api_include_object { API_INCLUDE_NONE, API_INCLUDE_METADATA, API_INCLUDE_OBJECT };

/* A meta.k8s.io Table of one object or of a list's items (list: a <Kind>List). */
json_t *api_table(enum model_kind kind, const json_t *obj, bool is_list,
		  enum api_include_object include, const char *api_version, long long now);
/* A table of an empty list of an unserved kind (pods). */
json_t *api_table_empty(const char *api_version, const char *resource_version);
/* kubectl's age text of a duration in seconds ("3m", "2d4h"). */
void api_table_age(long long seconds, char *buf, size_t size);

/* ---- watch (api_watch.c) ------------------------------------------------------------------ */

struct api_watch_options {
	enum model_kind kind;       /* or -1: nothing is ever sent (pods) */
	bool table;                 /* objects as Tables */
	const char *table_version;  /* "meta.k8s.io/v1" */
	enum api_include_object include;
	bool bookmarks;             /* allowWatchBookmarks */
	unsigned timeout_s;         /* end of stream */
	json_t *error;              /* or a Status: one ERROR event, then the end (owned) */
};

int api_watch_new(struct model_watch *mw, const struct api_watch_options *opts,
		  struct api_watch **ret);

#endif
