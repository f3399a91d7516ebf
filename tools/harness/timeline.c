/*
 * timeline.c — the run's event log (see timeline.h).
 * Invariant: items[0..count) are in the order they happened, times ascending.
 */
#include "timeline.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* See timeline.h. */
void timeline_init(struct timeline *tl, bool quiet)
{
	memset(tl, 0, sizeof(*tl));
	tl->t0_ns = util_now_ns();
	tl->quiet = quiet;
}

/* See timeline.h. */
double timeline_now(const struct timeline *tl)
{
	return (double)(util_now_ns() - tl->t0_ns) / 1e9;
}

/* See timeline.h. */
void timeline_add(struct timeline *tl, const char *kind, const char *fmt, ...)
{
	struct timeline_entry e;
	memset(&e, 0, sizeof(e));
	e.t = timeline_now(tl);
	snprintf(e.kind, sizeof(e.kind), "%s", kind);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.text, sizeof(e.text), fmt, ap);
	va_end(ap);
	if (!tl->quiet)
		util_say("[%7.3fs] %s", e.t, e.text);
	if (tl->count == tl->cap) {
		size_t cap = tl->cap ? tl->cap * 2 : 64;
		struct timeline_entry *grown = realloc(tl->items, cap * sizeof(*grown));
		if (!grown)
			return;
		tl->items = grown;
		tl->cap = cap;
	}
	tl->items[tl->count++] = e;
}

/* See timeline.h. */
void timeline_free(struct timeline *tl)
{
	free(tl->items);
	tl->items = NULL;
	tl->count = tl->cap = 0;
}
