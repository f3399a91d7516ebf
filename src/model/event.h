/*
 * event.h — the two shapes of one Event: core/v1 (how claimfs stores
 * events) and events.k8s.io/v1 (the same object as that group serves it).
 * Pure JSON conversions, below the model's core.
 */
#ifndef CLAIMFS_EVENT_H
#define CLAIMFS_EVENT_H

#include <jansson.h>

/* A new events.k8s.io/v1 Event from a core/v1 one (NULL: out of memory). */
json_t *event_to_v1(const json_t *core);
/* A new core/v1 Event from an events.k8s.io/v1 one (NULL: out of memory). */
json_t *event_from_v1(const json_t *v1);

#endif
