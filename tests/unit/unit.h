/*
 * unit.h — shared runner of the Check unit tests: every test program builds
 * one Suite and hands it to unit_run(), which prints TAP on stdout (for
 * meson's protocol 'tap') and fails if any test failed.
 */
#ifndef CLAIMFS_TEST_UNIT_H
#define CLAIMFS_TEST_UNIT_H

#include <check.h>

/* Run suite s (consumed); returns the process exit status. */
int unit_run(Suite *s);

#endif
