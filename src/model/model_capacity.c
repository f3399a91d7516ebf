/*
 * model_capacity.c — the capacity policy (README "Capacity"): a claim is
 * provisioned, and a bound claim grown, only while what the store has
 * promised still fits what it can take:
 *
 *     promised + request <= overcommit x takeable
 *
 * promised: what bound, writable volumes may still write (the sum of
 * capacity - used); takeable: free space of the host filesystem under the
 * store plus the database's free pages, less the low-space margin that
 * writes keep (store_capacity_get); overcommit: --overcommit (default 1,
 * thin provisioning above). Data already written is out of both sides: it
 * is no longer free on the host and no longer owed to its claim.
 *
 * A refused claim stays Pending and an expansion keeps the old capacity
 * (model_claim.c reports why). Both are retried the way an external
 * provisioner and resizer retry: by every reconcile (a class or volume
 * appears, a claim is deleted), and by model_tick, which looks every
 * MODEL_CAPACITY_CHECK_MS while something waits and runs a reconcile only
 * once the smallest waiting request fits, so a claim that cannot fit costs
 * one statvfs and one sum per look, never a write transaction.
 *
 * Binding a claim to an existing PersistentVolume is never refused: the
 * volume exists already (an administrator made it); its room counts in
 * promised from then on.
 */
#include "model_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store.h"

#define MODEL_CAPACITY_CHECK_MS 500

bool model_capacity_fits(uint64_t promised, uint64_t takeable, double overcommit,
			 uint64_t request)
{
	/* The sum in 128 bits cannot wrap (8Ei claims), and ratio 1, the
	 * default, compares bytes exactly in integers. Only a thin ratio
	 * multiplies in floating point, where an error of a few bytes in
	 * exabytes does not matter (and valgrind's long double, which is only
	 * a double, cannot change the answer at ratio 1). */
	unsigned __int128 need = (unsigned __int128)promised + request;

	if (need <= takeable)
		return true;
	if (overcommit <= 1.0)
		return false;
	return (long double)need <= (long double)takeable * overcommit;
}

/* Note a refused request of bytes: the tick waits for the smallest. */
static void model_capacity_note(atomic_uint_fast64_t *wait, uint64_t bytes)
{
	uint_fast64_t old = atomic_load(wait);

	while ((old == 0 || bytes < old) && !atomic_compare_exchange_weak(wait, &old, bytes))
		;
}

int model_capacity_check(struct model_txn *t, uint64_t bytes, bool resize, char *message,
			 size_t size)
{
	struct model_capacity *policy = &t->model->capacity;
	struct store_capacity now;
	int r = store_capacity_get(t->model->store, &now);

	if (r < 0)
		return r;
	if (model_capacity_fits(now.promised, now.takeable, policy->overcommit, bytes))
		return 0;
	snprintf(message, size,
		 "not enough space on the store: %llu bytes requested, %llu promised to bound "
		 "claims, and the store can take %llu bytes more (--overcommit %g); waiting for "
		 "space",
		 (unsigned long long)bytes, (unsigned long long)now.promised,
		 (unsigned long long)now.takeable, policy->overcommit);
	if (!t->dry_run)
		model_capacity_note(resize ? &policy->resize_wait : &policy->provision_wait, bytes);
	return -ENOSPC;
}

void model_capacity_wait_reset(struct model *model, bool resize)
{
	atomic_store(resize ? &model->capacity.resize_wait : &model->capacity.provision_wait, 0);
}

bool model_capacity_waiting(struct model *model, bool resize)
{
	return atomic_load(resize ? &model->capacity.resize_wait : &model->capacity.provision_wait) != 0;
}

int model_set_overcommit(struct model *model, double ratio)
{
	if (!isfinite(ratio) || ratio < 1.0)
		return -EINVAL;
	model->capacity.overcommit = ratio;
	return 0;
}

int model_capacity_get(struct model *model, uint64_t *ret_promised, uint64_t *ret_takeable,
		       double *ret_overcommit)
{
	struct store_capacity now;
	int r = store_capacity_get(model->store, &now);

	if (r < 0)
		return r;
	*ret_promised = now.promised;
	*ret_takeable = now.takeable;
	*ret_overcommit = model->capacity.overcommit;
	return 0;
}

/* The smaller of two noted requests (0: none). */
static uint64_t model_capacity_smallest(uint64_t a, uint64_t b)
{
	if (a == 0 || b == 0)
		return a | b;
	return a < b ? a : b;
}

void model_tick(struct model *model)
{
	struct model_capacity *policy = &model->capacity;
	uint64_t smallest = model_capacity_smallest(atomic_load(&policy->provision_wait),
						     atomic_load(&policy->resize_wait));
	struct store_capacity now;
	struct model_error err;
	struct model_txn t;
	struct timespec clock;
	int64_t now_ms;
	int r;

	if (smallest == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &clock);
	now_ms = (int64_t)clock.tv_sec * 1000 + clock.tv_nsec / 1000000;
	if (now_ms < policy->next_check_ms)
		return;
	policy->next_check_ms = now_ms + MODEL_CAPACITY_CHECK_MS;
	if (store_capacity_get(model->store, &now) < 0 ||
	    !model_capacity_fits(now.promised, now.takeable, policy->overcommit, smallest))
		return;
	model_error_init(&err);
	r = model_txn_begin(model, false, &t);
	if (r < 0)
		goto out;
	r = model_txn_end(&t, model_reconcile(&t), &err);
out:
	if (r < 0)
		log_warn("retrying claims that wait for space failed: %s",
			 err.message[0] ? err.message : strerror(-r));
}
