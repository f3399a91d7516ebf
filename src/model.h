/*
 * model.h — the provisioning model: Kubernetes-shaped objects (claims, and
 * later volumes, classes, stateful sets) mapped onto store volumes.
 *
 * The model validates and renders JSON (jansson); it calls store_* for state
 * and never touches inodes or FUSE. HTTP handlers (api.c) call the model.
 */
#ifndef CLAIMFS_MODEL_H
#define CLAIMFS_MODEL_H

struct store;
struct model;

int model_open(struct store *store, struct model **ret_model);
void model_close(struct model *model);

/* The rest of the model API is declared below by the API module's owner. */

#endif
