/*
 * run.h — one harness run from set-up to verdict and clean-up.
 */
#ifndef CLAIMFS_HARNESS_RUN_H
#define CLAIMFS_HARNESS_RUN_H

#include "options.h"

/* Run the harness; returns the process exit status (0 consistent,
 * 1 inconsistent, 2 error, 128+N interrupted by signal N). */
int run_harness(const struct options *opts);

#endif
