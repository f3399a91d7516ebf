/*
 * model_backup.c — the store's online backup for the API (GET /backup):
 * the model only passes it through, so that the API layer never calls the
 * store. Takes no model lock: the backup reads its own snapshot of the
 * store and changes nothing (see store_backup.c).
 */
#include "model_internal.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "store.h"

/* A problem the check of the copy found: the log says which. */
static void model_backup_problem(void *ud, const char *problem, bool repaired)
{
	(void)ud;
	(void)repaired;
	log_error("backup: the copy fails its check: %s", problem);
}

int model_backup(struct model *model, int *ret_fd, struct model_error *err)
{
	struct store_backup_options opts = { .report = model_backup_problem };
	struct store_check_result check = { 0 };
	int r;

	model_error_init(err);
	r = store_backup_to_fd(model->store, &opts, &check, ret_fd);
	if (r == -EUCLEAN)
		return model_fail(err, -EIO,
				  "the backup failed its check: %u problem(s); see the daemon log "
				  "and run claimfsd --check",
				  check.problems);
	if (r < 0)
		return model_fail(err, r, "backup failed: %s", strerror(-r));
	log_info("backup: a checked copy of the store is ready for the API (%u note(s))",
		 check.notes);
	return 0;
}
