/*
 * api_tar.c — the claimfs extension subresources of a claim (README
 * "Backup"): GET .../persistentvolumeclaims/NAME/export streams the claim's
 * files as a tar; POST .../persistentvolumeclaims/NAME/import extracts a tar
 * body into the claim, which must be empty; GET
 * .../volumesnapshots/NAME/export streams a VolumeSnapshot's files the same
 * way.
 *
 * Owns: only the HTTP side; the tar work and every file access is
 * model_tar.c's (the API never touches files or inodes).
 */
#include "api_internal.h"

#include <errno.h>
#include <string.h>

/* Answer with the tar stream at fd. */
static int api_tar_stream(struct api_call *call)
{
	call->status = 200;
	call->text_type = "application/x-tar";
	return 0;
}

int api_snapshot_export(struct api_call *call, const char *ns, const char *name,
			const char *method)
{
	int r;

	if (strcmp(method, "GET") != 0)
		return -EOPNOTSUPP;
	r = model_snapshot_export(call->model, ns, name, &call->file_fd, &call->err);
	return r < 0 ? r : api_tar_stream(call);
}

int api_claim_tar(struct api_call *call, const char *ns, const char *name, const char *sub,
		  const char *method)
{
	int r;

	if (strcmp(sub, "export") == 0) {
		if (strcmp(method, "GET") != 0)
			return -EOPNOTSUPP;
		r = model_claim_export(call->model, ns, name, &call->file_fd, &call->err);
		return r < 0 ? r : api_tar_stream(call);
	}
	if (strcmp(method, "POST") != 0)
		return -EOPNOTSUPP;
	r = model_claim_import(call->model, ns, name, call->req->body, call->req->body_len,
			       call->req->body_spooled ? call->req->body_fd : -1, &call->err);
	if (r < 0)
		return r;
	call->status = 200;
	call->body = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:i}", "kind", "Status", "apiVersion",
			       "v1", "metadata", "status", "Success", "message",
			       "the tar was imported into the claim", "code", 200);
	return call->body != NULL ? 0 : -ENOMEM;
}
