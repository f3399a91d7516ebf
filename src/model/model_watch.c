/*
 * model_watch.c — opening a watch (?watch=true): the start version of the
 * request, the initial state, and the registration with the event hub.
 *
 * The initial list is read under the model's write lock and the watch is
 * attached to the hub before that lock is dropped, so that no change is
 * published between the list and the registration: a watcher sees every
 * version after the one it started from exactly once.
 */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "store.h"

/* Parse "" / "0" / a decimal version. */
static int model_watch_parse_version(const char *text, int64_t *ret, bool *ret_initial)
{
	char *end;
	long long value;

	*ret_initial = text == NULL || text[0] == '\0' || strcmp(text, "0") == 0;
	*ret = 0;
	if (*ret_initial)
		return 0;
	value = strtoll(text, &end, 10);
	if (*end != '\0' || value < 0)
		return -EINVAL;
	*ret = value;
	return 0;
}

/* Build the initial state: list (under the write lock, so nothing is
 * published between the list and the registration) or replay the ring. */
static int model_watch_start(struct model *model, struct model_watch *w, enum model_kind kind,
			     const char *ns, bool initial, bool bookmark_after, int64_t from,
			     struct model_error *err)
{
	int64_t start = from, floor = 0;
	int r = 0;

	pthread_mutex_lock(&model->write_lock);
	if (initial) {
		start = store_current_version(model->store);
		r = model_obj_list(model, kind, ns[0] != '\0' ? ns : NULL, model_hub_watch_initial,
				   w);
		if (r == 0 && bookmark_after)
			r = model_hub_watch_initial_end(w);
	}
	if (r == 0 && !initial && from > store_current_version(model->store))
		/* A version this server has not made yet: as the apiserver's
		 * watch cache, wait a bounded time for it (the stream starts
		 * once it is published, or ends with 504 Timeout). */
		model_hub_watch_await(w, from,
				      metrics_now_ns() + MODEL_WATCH_AWAIT_MS * 1000000ull);
	if (r == 0)
		r = model_hub_watch_attach(model->hub, w, start, !initial, &floor);
	if (r == -EKEYEXPIRED)
		model_fail(err, r, "too old resource version: %lld (%lld)", (long long)from,
			   (long long)floor + 1);
	pthread_mutex_unlock(&model->write_lock);
	return r;
}

int model_watch_open(struct model *model, enum model_kind kind, const char *ns,
		     const struct model_watch_options *opts, struct model_watch **ret_watch,
		     struct model_error *err)
{
	char watch_ns[NAMES_LABEL_MAX + 1]; /* as the hub keeps it (see model_hub_watch_new) */
	struct model_watch *w = NULL;
	bool initial;
	int64_t from;
	int r;

	model_error_init(err);
	model_error_name(err, kind, "");
	snprintf(watch_ns, sizeof(watch_ns), "%s",
		 ns != NULL && model_kind_info(kind)->namespaced ? ns : "");
	r = model_hub_watch_new(model->hub, kind, watch_ns, opts->labels, opts->fields, &w);
	if (r < 0)
		return r;
	r = model_watch_parse_version(opts->resource_version, &from, &initial);
	if (r < 0) {
		r = model_fail(err, -EBADMSG, "invalid resourceVersion: %.40s", opts->resource_version);
		goto fail;
	}
	r = model_watch_start(model, w, kind, watch_ns, initial || opts->send_initial_events,
			      opts->send_initial_events, from, err);
	if (r < 0)
		goto fail;
	*ret_watch = w;
	return 0;
fail:
	model_hub_watch_discard(w);
	return r;
}

int model_watch_failure(struct model_watch *w, struct model_error *err)
{
	enum model_kind kind;
	int64_t start, newest;

	model_hub_watch_versions(w, &kind, &start, &newest);
	model_error_init(err);
	model_error_name(err, kind, "");
	/* kube-apiserver's words (storage.NewTooLargeResourceVersionError);
	 * the version waited for is the start (the awaited version may have
	 * been cleared by a publish since model_watch_next answered). */
	return model_fail(err, -ETIMEDOUT, "Timeout: Too large resource version: %lld, current: %lld",
			  (long long)start, (long long)newest);
}
