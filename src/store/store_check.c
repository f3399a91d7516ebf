/*
 * store_check.c — the consistency checker behind `claimfsd --check`.
 *
 * Runs with the daemon stopped (the store lock guarantees it) and verifies,
 * beyond PRAGMA integrity_check, the invariants the other store files
 * promise in their opening comments:
 *   links      every inode's nlink = names + (directories: 1 + subdirectories)
 *   orphans    no inode without a name (the kernel's references died with the daemon)
 *   blocks     no block row without its inode, none beyond the maximum file size
 *   dentries   every entry names an existing inode in an existing directory
 *   parents    a directory's parent column names the directory holding it
 *   usage      inodes.alloc = sum of its rows' usage; volumes.used_bytes and
 *              used_inodes = sums over the volume
 *   bindings   every bound volume is linked where it says; every claim object
 *              names an existing volume, every bound volume has its claim
 *              (but those bound for an export, in STORE_EXPORT_NAMESPACE)
 *   attributes the mutable attributes of schema 5 are in range (inode limit
 *              0 or 1..2^62, I/O class standard or durable), and a bound
 *              volume has what its claim asks for (annotations, else its
 *              current VolumeAttributesClass, else the defaults)
 * --repair fixes what is safe: orphans are reclaimed, counters (nlink of named
 * inodes, alloc, used_bytes, used_inodes) recomputed, attributes out of range
 * reset to the defaults and those that differ from the claim's set to it. Dangling entries,
 * blocks of missing inodes and broken bindings are reported, and the
 * dangling rows deleted, since nothing can reach them.
 */
#include "store_internal.h"

#include "log.h"
#include "volume_attrs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct store_check_ctx {
	struct store *s;
	bool repair;
	unsigned problems;
	unsigned repaired;
	unsigned notes;
	store_report_cb report;
	void *ud;
};

static void store_check_say(struct store_check_ctx *c, bool fixed, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void store_check_say(struct store_check_ctx *c, bool fixed, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->problems++;
	if (fixed)
		c->repaired++;
	if (c->report)
		c->report(c->ud, line, fixed);
}

/* Run a query and call fn for every row. Rows are first copied into a temp
 * table, so fn may change the tables the query read. */
static int store_check_rows(struct store_check_ctx *c, const char *sql,
			    int (*fn)(struct store_check_ctx *c, sqlite3_stmt *row))
{
	sqlite3_stmt *st = NULL;
	char *create = sqlite3_mprintf("CREATE TEMP TABLE check_rows AS %s", sql);
	int rc, r = 0;

	if (!create)
		return -ENOMEM;
	rc = sqlite3_exec(c->s->db, create, NULL, NULL, NULL);
	sqlite3_free(create);
	if (rc != SQLITE_OK)
		return store_errno(c->s, rc, sql);
	rc = sqlite3_prepare_v2(c->s->db, "SELECT * FROM temp.check_rows", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = store_errno(c->s, rc, sql);
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = fn(c, st);
		if (r < 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = store_errno(c->s, rc, sql);
out:
	sqlite3_finalize(st);
	rc = sqlite3_exec(c->s->db, "DROP TABLE temp.check_rows", NULL, NULL, NULL);
	if (rc != SQLITE_OK && r == 0)
		r = store_errno(c->s, rc, "drop check_rows");
	return r;
}

/* PRAGMA integrity_check of the main database (not the temp tables we make). */
static int store_check_integrity(struct store_check_ctx *c)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(c->s->db, "PRAGMA main.integrity_check", -1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 0);
		if (text && strcmp(text, "ok") != 0)
			store_check_say(c, false, "integrity_check: %s", text);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE)
		r = store_errno(c->s, rc, "integrity_check");
	sqlite3_finalize(st);
	return r;
}

static int store_check_orphan_row(struct store_check_ctx *c, sqlite3_stmt *row)
{
	int64_t ino = sqlite3_column_int64(row, 0);
	int r = 0;

	/* Expected after a crash with files open (the next start reclaims
	 * them): a note, not a problem. */
	if (c->repair)
		r = store_inode_destroy(c->s, (uint64_t)ino);
	c->notes++;
	if (c->report) {
		char line[160];
		snprintf(line, sizeof(line), "note: orphans: inode %lld was unlinked while open%s",
			 (long long)ino, c->repair && r == 0 ? " (reclaimed)" : "; the next start reclaims it");
		c->report(c->ud, line, c->repair && r == 0);
	}
	return r;
}

static int store_check_link_row(struct store_check_ctx *c, sqlite3_stmt *row)
{
	int64_t ino = sqlite3_column_int64(row, 0), nlink = sqlite3_column_int64(row, 1);
	int64_t expected = sqlite3_column_int64(row, 2);
	int r = 0;

	if (c->repair)
		r = store_exec_once(c->s, "UPDATE inodes SET nlink = ?2 WHERE ino = ?1", ino, expected);
	store_check_say(c, c->repair && r == 0, "links: inode %lld has nlink %lld, expected %lld",
			(long long)ino, (long long)nlink, (long long)expected);
	return r;
}

static int store_check_dangling_dentry_row(struct store_check_ctx *c, sqlite3_stmt *row)
{
	int64_t id = sqlite3_column_int64(row, 0);
	int r = 0;

	if (c->repair)
		r = store_exec_once(c->s, "DELETE FROM dentries WHERE id = ?1", id, 0);
	store_check_say(c, c->repair && r == 0,
			"dentries: entry %lld (\"%.*s\" in %lld) points to missing inode %lld or directory",
			(long long)id, sqlite3_column_bytes(row, 1), (const char *)sqlite3_column_blob(row, 1),
			(long long)sqlite3_column_int64(row, 2), (long long)sqlite3_column_int64(row, 3));
	return r;
}

static int store_check_block_row(struct store_check_ctx *c, sqlite3_stmt *row)
{
	int64_t ino = sqlite3_column_int64(row, 0), count = sqlite3_column_int64(row, 1);
	int r = 0;

	if (c->repair)
		r = store_exec_once(c->s, "DELETE FROM blocks WHERE id BETWEEN ?1 AND ?2",
				     store_block_id((uint64_t)ino, 0),
				     store_block_id((uint64_t)ino, STORE_BLOCK_MAX_INDEX));
	store_check_say(c, c->repair && r == 0, "blocks: %lld block(s) belong to missing inode %lld",
			(long long)count, (long long)ino);
	return r;
}

static int store_check_parent_row(struct store_check_ctx *c, sqlite3_stmt *row)
{
	int64_t ino = sqlite3_column_int64(row, 0), parent = sqlite3_column_int64(row, 1);
	int64_t actual = sqlite3_column_int64(row, 2);
	int r = 0;

	if (c->repair)
		r = store_exec_once(c->s, "UPDATE inodes SET parent = ?2 WHERE ino = ?1", ino, actual);
	store_check_say(c, c->repair && r == 0, "parents: directory %lld says parent %lld, is in %lld",
			(long long)ino, (long long)parent, (long long)actual);
	return r;
}

static int store_check_volume_of_entry_row(struct store_check_ctx *c, sqlite3_stmt *row)
{
	store_check_say(c, false, "volumes: entry \"%.*s\" in directory %lld (volume %lld) names inode %lld of volume %lld",
			sqlite3_column_bytes(row, 0), (const char *)sqlite3_column_blob(row, 0),
			(long long)sqlite3_column_int64(row, 1), (long long)sqlite3_column_int64(row, 2),
			(long long)sqlite3_column_int64(row, 3), (long long)sqlite3_column_int64(row, 4));
	return 0;
}

static int store_check_alloc_row(struct store_check_ctx *c, sqlite3_stmt *row)
{
	int64_t ino = sqlite3_column_int64(row, 0), alloc = sqlite3_column_int64(row, 1);
	int64_t actual = sqlite3_column_int64(row, 2);
	int r = 0;

	if (c->repair)
		r = store_exec_once(c->s, "UPDATE inodes SET alloc = ?2 WHERE ino = ?1", ino, actual);
	store_check_say(c, c->repair && r == 0, "usage: inode %lld records %lld bytes, its blocks use %lld",
			(long long)ino, (long long)alloc, (long long)actual);
	return r;
}

static int store_check_volume_usage_row(struct store_check_ctx *c, sqlite3_stmt *row)
{
	int64_t id = sqlite3_column_int64(row, 0);
	int64_t bytes = sqlite3_column_int64(row, 2), actual_bytes = sqlite3_column_int64(row, 3);
	int64_t inodes = sqlite3_column_int64(row, 4), actual_inodes = sqlite3_column_int64(row, 5);
	int r = 0;

	if (c->repair) {
		r = store_exec_once(c->s, "UPDATE volumes SET used_bytes = ?2 WHERE id = ?1", id, actual_bytes);
		if (r == 0)
			r = store_exec_once(c->s, "UPDATE volumes SET used_inodes = ?2 WHERE id = ?1", id,
					     actual_inodes);
	}
	store_check_say(c, c->repair && r == 0,
			"usage: volume %s records %lld bytes / %lld inodes, holds %lld bytes / %lld inodes",
			(const char *)sqlite3_column_text(row, 1), (long long)bytes, (long long)inodes,
			(long long)actual_bytes, (long long)actual_inodes);
	return r;
}

static int store_check_attrs_range_row(struct store_check_ctx *c, sqlite3_stmt *row)
{
	int64_t id = sqlite3_column_int64(row, 0);
	int r = 0;

	/* The defaults: what store_volume_from_row reads an unknown class as. */
	if (c->repair)
		r = store_exec_once(c->s, "UPDATE volumes SET inode_limit = 0, io_class = 0"
					  " WHERE id = ?1", id, 0);
	store_check_say(c, c->repair && r == 0,
			"attributes: volume %s has inode limit %lld and I/O class %lld (limits are 0"
			" or 1..2^62, classes 0 or 1)%s",
			(const char *)sqlite3_column_text(row, 1), (long long)sqlite3_column_int64(row, 2),
			(long long)sqlite3_column_int64(row, 3), c->repair ? "; reset to the defaults" : "");
	return r;
}

static int store_check_attrs_claim_row(struct store_check_ctx *c, sqlite3_stmt *row)
{
	int64_t id = sqlite3_column_int64(row, 0);
	int64_t limit = sqlite3_column_int64(row, 4), io_class = sqlite3_column_int64(row, 5);
	int r = 0;

	/* What claimfsd would apply at the claim's next change. */
	if (c->repair)
		r = store_exec_once(c->s, "UPDATE volumes SET inode_limit = ?2 WHERE id = ?1", id, limit);
	if (c->repair && r == 0)
		r = store_exec_once(c->s, "UPDATE volumes SET io_class = ?2 WHERE id = ?1", id, io_class);
	store_check_say(c, c->repair && r == 0,
			"attributes: volume %s has inode limit %lld and I/O class %lld, its claim %s"
			" asks for %lld and %lld",
			(const char *)sqlite3_column_text(row, 1), (long long)sqlite3_column_int64(row, 2),
			(long long)sqlite3_column_int64(row, 3), (const char *)sqlite3_column_text(row, 6),
			(long long)limit, (long long)io_class);
	return r;
}

static int store_check_binding_row(struct store_check_ctx *c, sqlite3_stmt *row)
{
	store_check_say(c, false, "bindings: %s", (const char *)sqlite3_column_text(row, 0));
	return 0;
}

#define S_IFMT_SQL "61440"
#define S_IFDIR_SQL "16384"
#define STORE_CHECK_LIMIT_MAX_SQL "4611686018427387904" /* VOLUME_ATTRS_INODE_LIMIT_MAX */
/* A bound claim's wanted attributes, as model_claim_attrs.c computes them:
 * its annotation, else its current VolumeAttributesClass's parameter, else
 * the default. Claims whose current class is gone are left out (the volume
 * keeps what that class gave it). */
#define STORE_CHECK_WANTED_SQL(annotation, param, fallback) \
	"coalesce(json_extract(o.body, '$.metadata.annotations.\"" annotation "\"'),"         \
	" json_extract(k.body, '$.parameters." param "'), '" fallback "')"
#define STORE_CHECK_CLAIM_ATTRS_SQL                                                              \
	"SELECT v.id, v.name, v.inode_limit, v.io_class, want_limit, want_class,"                 \
	" v.bound_namespace || '/' || v.bound_claim FROM (SELECT v.id AS vid,"                   \
	" CAST(" STORE_CHECK_WANTED_SQL(VOLUME_ATTRS_ANNOTATION_INODE_LIMIT,                     \
					 VOLUME_ATTRS_PARAM_INODE_LIMIT, "0") " AS INTEGER) AS want_limit," \
	" CASE " STORE_CHECK_WANTED_SQL(VOLUME_ATTRS_ANNOTATION_IO_CLASS,                        \
					 VOLUME_ATTRS_PARAM_IO_CLASS, "standard")                  \
	" WHEN 'durable' THEN 1 ELSE 0 END AS want_class"                                        \
	" FROM volumes v JOIN objects o ON o.kind = 'PersistentVolumeClaim'"                     \
	"  AND o.namespace = v.bound_namespace AND o.name = v.bound_claim"                       \
	" LEFT JOIN objects k ON k.kind = 'VolumeAttributesClass' AND k.namespace = ''"          \
	"  AND k.name = json_extract(o.body, '$.status.currentVolumeAttributesClassName')"       \
	" WHERE v.bound_claim <> ''"                                                             \
	"  AND (json_extract(o.body, '$.status.currentVolumeAttributesClassName') IS NULL"       \
	"   OR k.body IS NOT NULL)) JOIN volumes v ON v.id = vid"                                \
	" WHERE v.inode_limit <> want_limit OR v.io_class <> want_class"

static const struct store_check_step {
	const char *sql;
	int (*fn)(struct store_check_ctx *c, sqlite3_stmt *row);
} store_check_steps[] = {
	{ "SELECT d.id, d.name, d.parent, d.ino FROM dentries d"
	  " WHERE NOT EXISTS (SELECT 1 FROM inodes i WHERE i.ino = d.ino)"
	  " OR NOT EXISTS (SELECT 1 FROM inodes p WHERE p.ino = d.parent AND (p.mode & " S_IFMT_SQL ") = " S_IFDIR_SQL ")",
	  store_check_dangling_dentry_row },
	{ "SELECT b.id >> " STORE_BLOCK_BITS_SQL ", count(*) FROM blocks b"
	  " WHERE NOT EXISTS (SELECT 1 FROM inodes i WHERE i.ino = (b.id >> " STORE_BLOCK_BITS_SQL "))"
	  " GROUP BY b.id >> " STORE_BLOCK_BITS_SQL,
	  store_check_block_row },
	{ "SELECT i.ino FROM inodes i WHERE i.ino <> 1 AND NOT EXISTS (SELECT 1 FROM dentries d WHERE d.ino = i.ino)"
	  " AND NOT EXISTS (SELECT 1 FROM volumes v WHERE v.root_ino = i.ino)",
	  store_check_orphan_row },
	{ "SELECT i.ino, i.parent, d.parent FROM inodes i JOIN dentries d ON d.ino = i.ino"
	  " WHERE (i.mode & " S_IFMT_SQL ") = " S_IFDIR_SQL " AND i.parent <> d.parent",
	  store_check_parent_row },
	{ "SELECT d.name, d.parent, p.volume, i.ino, i.volume FROM dentries d"
	  " JOIN inodes p ON p.ino = d.parent JOIN inodes i ON i.ino = d.ino"
	  " WHERE p.volume <> i.volume AND NOT (p.volume = 0 AND p.ino <> 1"
	  "   AND EXISTS (SELECT 1 FROM volumes v WHERE v.root_ino = i.ino))",
	  store_check_volume_of_entry_row },
	{ "SELECT ino, nlink, expected FROM (SELECT i.ino, i.nlink,"
	  "  (SELECT count(*) FROM dentries d WHERE d.ino = i.ino) AS names,"
	  "  (i.ino = 1 OR EXISTS (SELECT 1 FROM volumes v WHERE v.root_ino = i.ino)) AS is_root,"
	  "  (SELECT count(*) FROM dentries d WHERE d.ino = i.ino)"
	  "  + CASE WHEN (i.mode & " S_IFMT_SQL ") = " S_IFDIR_SQL " THEN 1 + (SELECT count(*) FROM dentries d"
	  "    JOIN inodes c ON c.ino = d.ino WHERE d.parent = i.ino AND (c.mode & " S_IFMT_SQL ") = " S_IFDIR_SQL ")"
	  "    + CASE WHEN i.ino = 1 OR EXISTS (SELECT 1 FROM volumes v WHERE v.root_ino = i.ino"
	  "      AND v.bound_claim = '') THEN 1 ELSE 0 END"
	  "    ELSE 0 END AS expected FROM inodes i)"
	  " WHERE nlink <> expected AND (names > 0 OR is_root)",
	  store_check_link_row },
	{ "SELECT i.ino, i.alloc, coalesce((SELECT sum(" STORE_BLOCK_USAGE_SQL("b.data") ") FROM blocks b"
	  "   WHERE b.id BETWEEN (i.ino << " STORE_BLOCK_BITS_SQL ") AND (i.ino << " STORE_BLOCK_BITS_SQL
	  ") + " STORE_BLOCK_MASK_SQL "), 0) AS actual"
	  " FROM inodes i WHERE i.alloc <> actual",
	  store_check_alloc_row },
	{ "SELECT v.id, v.name, v.used_bytes, coalesce((SELECT sum(alloc) FROM inodes i WHERE i.volume = v.id), 0) AS b,"
	  " v.used_inodes, (SELECT count(*) FROM inodes i WHERE i.volume = v.id) AS n"
	  " FROM volumes v WHERE v.used_bytes <> b OR v.used_inodes <> n",
	  store_check_volume_usage_row },
	{ "SELECT 'volume ' || v.name || ' is bound as ' || v.bound_namespace || '/' || v.bound_claim"
	  "  || ' but not linked there' FROM volumes v WHERE v.bound_claim <> '' AND NOT EXISTS ("
	  "  SELECT 1 FROM dentries d JOIN dentries n ON n.ino = d.parent AND n.parent = 1"
	  "  WHERE d.ino = v.root_ino AND d.name = CAST(v.bound_claim AS BLOB)"
	  "  AND n.name = CAST(v.bound_namespace AS BLOB))"
	  " UNION ALL SELECT 'claim ' || o.namespace || '/' || o.name || ' names volume '"
	  "  || coalesce(json_extract(o.body, '$.spec.volumeName'), '(none)') || ', which does not exist'"
	  "  FROM objects o WHERE o.kind = 'PersistentVolumeClaim'"
	  "  AND json_extract(o.body, '$.status.phase') = 'Bound' AND NOT EXISTS ("
	  "  SELECT 1 FROM volumes v WHERE v.name = json_extract(o.body, '$.spec.volumeName'))"
	  " UNION ALL SELECT 'volume ' || v.name || ' is bound to ' || v.bound_namespace || '/'"
	  "  || v.bound_claim || ', which has no claim object' FROM volumes v WHERE v.bound_claim <> ''"
	  "  AND v.bound_namespace <> '" STORE_EXPORT_NAMESPACE "' AND NOT EXISTS (SELECT 1 FROM objects o WHERE o.kind = 'PersistentVolumeClaim'"
	  "  AND o.namespace = v.bound_namespace AND o.name = v.bound_claim)",
	  store_check_binding_row },
	{ "SELECT id, name, inode_limit, io_class FROM volumes WHERE io_class NOT IN (0, 1)"
	  " OR inode_limit < 0 OR inode_limit > " STORE_CHECK_LIMIT_MAX_SQL,
	  store_check_attrs_range_row },
	{ STORE_CHECK_CLAIM_ATTRS_SQL, store_check_attrs_claim_row },
};

int store_check(struct store *s, bool repair, store_report_cb report, void *ud,
		struct store_check_result *ret_result)
{
	struct store_check_ctx c = { .s = s, .repair = repair, .report = report, .ud = ud };
	int r;

	if (repair && s->read_only)
		return -EROFS;
	store_lock(s);
	r = store_check_integrity(&c);
	if (r < 0 || c.problems > 0)
		goto out; /* the rest would read a damaged b-tree */
	if (repair) {
		r = store_op_begin(s);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; r == 0 && i < sizeof(store_check_steps) / sizeof(store_check_steps[0]); i++)
		r = store_check_rows(&c, store_check_steps[i].sql, store_check_steps[i].fn);
	if (repair) {
		r = store_op_end(s, r);
		if (r == 0)
			r = store_sync(s, true);
	}
out:
	store_unlock(s);
	if (ret_result) {
		ret_result->problems = c.problems;
		ret_result->repaired = c.repaired;
		ret_result->notes = c.notes;
	}
	return r;
}
