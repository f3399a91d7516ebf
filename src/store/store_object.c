/*
 * store_object.c — the API object table: opaque JSON text per (kind,
 * namespace, name), each put or delete spending the next store-wide
 * resourceVersion, and the phase the model files it under (an index key
 * the caller passes). Only the model layer interprets the text. Calls only the
 * transaction layer (store_txn.c).
 *
 * Invariant: objects.version values are unique and increase with every put
 * (meta.resource_version holds the last one handed out; a delete spends one
 * too).
 */
#include "store_internal.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void store_bind_key(struct store *s, sqlite3_stmt *st, const char *kind, const char *namespace_name,
			   const char *name)
{
	assert(store_lock_held(s));
	store_bind_text(s, st, 1, kind);
	store_bind_text(s, st, 2, namespace_name ? namespace_name : "");
	store_bind_text(s, st, 3, name);
}

static int store_next_version(struct store *s, int64_t *ret_version)
{
	sqlite3_stmt *st = store_stmt(s, STMT_META_GET);
	int64_t version = 0;
	int rc, r;

	assert(store_lock_held(s));
	store_bind_text(s, st, 1, "resource_version");
	rc = store_step(s, st);
	if (rc == SQLITE_ROW)
		version = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_errno(s, rc, "resource version");
	version++;
	st = store_stmt(s, STMT_META_SET);
	store_bind_text(s, st, 1, "resource_version");
	store_bind_int64(s, st, 2, version);
	r = store_step_done(s, st, "resource version");
	if (r == 0)
		*ret_version = version;
	return r;
}

static int store_do_object_put(struct store *s, const char *kind, const char *namespace_name,
			       const char *name, const char *body, const char *phase, bool create_only,
			       int64_t expected_version, int64_t *ret_version)
{
	sqlite3_stmt *st = store_stmt(s, STMT_OBJECT_GET);
	int64_t current = 0, version;
	int rc, r;

	assert(store_lock_held(s));
	store_bind_key(s, st, kind, namespace_name, name);
	rc = store_step(s, st);
	if (rc == SQLITE_ROW)
		current = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_errno(s, rc, "get object");
	if (create_only && rc == SQLITE_ROW)
		return -EEXIST;
	if (expected_version > 0) {
		if (rc == SQLITE_DONE)
			return -ENOENT;
		if (current != expected_version)
			return -ESTALE;
	}
	r = store_next_version(s, &version);
	if (r < 0)
		return r;
	st = store_stmt(s, STMT_OBJECT_PUT);
	store_bind_key(s, st, kind, namespace_name, name);
	store_bind_int64(s, st, 4, version);
	store_bind_text(s, st, 5, body);
	if (phase)
		store_bind_text(s, st, 6, phase);
	else
		store_bind_null(s, st, 6);
	r = store_step_done(s, st, "put object");
	sqlite3_clear_bindings(st);
	if (r == 0 && ret_version)
		*ret_version = version;
	return r;
}

int store_object_put(struct store *s, const char *kind, const char *namespace_name,
		     const char *name, const char *body, const char *phase, bool create_only,
		     int64_t expected_version, int64_t *ret_version)
{
	int r = store_op_begin(s);

	if (r < 0)
		return r;
	r = store_do_object_put(s, kind, namespace_name, name, body, phase, create_only,
				expected_version, ret_version);
	return store_op_end(s, r);
}

int store_object_get(struct store *s, const char *kind, const char *namespace_name,
		     const char *name, char **ret_body, int64_t *ret_version)
{
	sqlite3_stmt *st;
	int rc, r = 0;

	store_lock_read(s);
	st = store_stmt(s, STMT_OBJECT_GET);
	store_bind_key(s, st, kind, namespace_name, name);
	rc = store_step(s, st);
	if (rc == SQLITE_ROW) {
		char *body = strdup((const char *)sqlite3_column_text(st, 0) ?: "");
		if (!body) {
			r = -ENOMEM;
		} else {
			if (ret_version)
				*ret_version = sqlite3_column_int64(st, 1);
			if (ret_body)
				*ret_body = body;
			else
				free(body);
		}
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(s, rc, "get object");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	store_unlock(s);
	return r;
}

int store_object_delete(struct store *s, const char *kind, const char *namespace_name,
			const char *name)
{
	sqlite3_stmt *st;
	int r = store_op_begin(s);

	if (r < 0)
		return r;
	st = store_stmt(s, STMT_OBJECT_DELETE);
	store_bind_key(s, st, kind, namespace_name, name);
	r = store_step_done(s, st, "delete object");
	sqlite3_clear_bindings(st);
	if (r == 0 && sqlite3_changes(s->db) == 0)
		r = -ENOENT;
	if (r == 0) {
		/* A deletion is a change too: the next version is spent on it. */
		int64_t version;
		r = store_next_version(s, &version);
	}
	return store_op_end(s, r);
}

/* Hand every row of a bound object query (namespace, name, body, version)
 * to cb, then reset the statement and release the lock taken by the caller. */
static int store_object_rows(struct store *s, sqlite3_stmt *st, store_object_cb cb, void *ud)
{
	int rc, r = 0;

	assert(store_lock_held(s));
	while ((rc = store_step(s, st)) == SQLITE_ROW) {
		r = cb(ud, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
		       (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3));
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_errno(s, rc, "list objects");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	store_unlock(s);
	return r < 0 ? r : 0;
}

int store_object_list(struct store *s, const char *kind, const char *namespace_name,
		      store_object_cb cb, void *ud)
{
	sqlite3_stmt *st;

	store_lock_read(s);
	st = store_stmt(s, namespace_name ? STMT_OBJECT_LIST_NS : STMT_OBJECT_LIST_ALL);
	store_bind_text(s, st, 1, kind);
	if (namespace_name)
		store_bind_text(s, st, 2, namespace_name);
	return store_object_rows(s, st, cb, ud);
}

int store_object_list_phase(struct store *s, const char *kind, const char *phase,
			    store_object_cb cb, void *ud)
{
	sqlite3_stmt *st;

	store_lock_read(s);
	st = store_stmt(s, STMT_OBJECT_LIST_PHASE);
	store_bind_text(s, st, 1, kind);
	store_bind_text(s, st, 2, phase);
	return store_object_rows(s, st, cb, ud);
}

int64_t store_current_version(struct store *s)
{
	sqlite3_stmt *st;
	int64_t version = 0;

	store_lock_read(s);
	st = store_stmt(s, STMT_META_GET);
	store_bind_text(s, st, 1, "resource_version");
	if (store_step(s, st) == SQLITE_ROW)
		version = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	store_unlock(s);
	return version;
}
