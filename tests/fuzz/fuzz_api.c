/*
 * fuzz_api.c — libFuzzer target for every API handler, in process: the
 * route table, the handlers and the model on a real (temporary) store.
 *
 * Input: "METHOD\nPATH[?QUERY]\nCONTENT-TYPE\nBODY" (missing lines are
 * empty). Properties: api_handle always answers a status in 200..599 with a
 * body; JSON answers parse as JSON; every 4xx/5xx JSON answer is a
 * Kubernetes Status (kind Status, status Failure, code = the HTTP status).
 * The store is created on first use in a temporary directory (removed at
 * exit); claims accumulate across inputs, so GET/DELETE find things.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "fuzz.h"
#include "log.h"
#include "model.h"
#include "store.h"

static struct store *fuzz_store;
static struct model *fuzz_model;
static char fuzz_dir[PATH_MAX];

/* Close the model and store, remove the temporary files. */
static void fuzz_api_cleanup(void)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	char path[PATH_MAX + 32];

	model_close(fuzz_model);
	store_close(fuzz_store);
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s/store.db%s", fuzz_dir, suffixes[i]);
		unlink(path);
	}
	rmdir(fuzz_dir);
}

/* Open the store and the model once. */
static void fuzz_api_init(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX + 32];
	int r;

	log_set_level(LOG_LEVEL_ERROR);
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/claimfs-fuzz-api-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fuzz_dir))
		fuzz_fail("mkdtemp %s failed", fuzz_dir);
	snprintf(path, sizeof(path), "%s/store.db", fuzz_dir);
	r = store_open(path, 0, &fuzz_store);
	if (r < 0)
		fuzz_fail("store_open: %s", strerror(-r));
	r = model_open(fuzz_store, &fuzz_model);
	if (r < 0)
		fuzz_fail("model_open: %s", strerror(-r));
	atexit(fuzz_api_cleanup);
}

/* Cut the next '\n'-terminated line off *cursor (the rest if no newline). */
static char *fuzz_line(char **cursor, char *end)
{
	char *line = *cursor, *nl = memchr(line, '\n', (size_t)(end - line));

	if (nl) {
		*nl = '\0';
		*cursor = nl + 1;
	} else {
		*cursor = end;
	}
	return line;
}

/* The answer must be well formed. */
static void fuzz_api_check(const struct api_request *req, const struct api_response *resp)
{
	json_error_t jerr;
	json_t *doc;

	if (resp->status < 200 || resp->status > 599)
		fuzz_fail("%s %.200s: status %u", req->method, req->path, resp->status);
	if (!resp->body)
		fuzz_fail("%s %.200s: no body", req->method, req->path);
	if (!resp->content_type || !strstr(resp->content_type, "json"))
		return;
	doc = json_loads(resp->body, JSON_DECODE_ANY, &jerr);
	if (!doc)
		fuzz_fail("%s %.200s: answer is not JSON (%s): %.200s", req->method, req->path, jerr.text,
			  resp->body);
	if (resp->status >= 400) {
		const char *kind = json_string_value(json_object_get(doc, "kind"));
		const char *status = json_string_value(json_object_get(doc, "status"));
		json_int_t code = json_integer_value(json_object_get(doc, "code"));

		if (!kind || strcmp(kind, "Status") != 0 || !status || strcmp(status, "Failure") != 0 ||
		    code != (json_int_t)resp->status)
			fuzz_fail("%s %.200s: %u answer is not a Status: %.300s", req->method, req->path,
				  resp->status, resp->body);
	}
	json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_request req = { 0 };
	struct api_response resp = { 0 };
	char *copy, *cursor, *end, *query;

	if (!fuzz_model)
		fuzz_api_init();
	copy = fuzz_strndup(data, size);
	if (!copy)
		return 0;
	cursor = copy;
	end = copy + size;
	req.method = fuzz_line(&cursor, end);
	req.path = fuzz_line(&cursor, end);
	req.content_type = fuzz_line(&cursor, end);
	if (!*req.content_type)
		req.content_type = NULL;
	query = strchr(req.path, '?');
	if (query)
		*query++ = '\0';
	req.query = query;
	req.body = cursor;
	req.body_len = (size_t)(end - cursor);
	req.ready = size & 1;
	api_handle(fuzz_model, &req, &resp);
	if (resp.has_file) {
		/* GET /backup: a file, not a body; only its status is checked. */
		close(resp.file_fd);
		if (resp.status != 200)
			fuzz_fail("%s %.200s: a file answer with status %u", req.method, req.path,
				  resp.status);
		free(copy);
		return 0;
	}
	fuzz_api_check(&req, &resp);
	free(resp.body);
	free(copy);
	return 0;
}
