/*
 * unit.c — runs one Check suite with TAP output on stdout.
 *
 * Check writes TAP to the file name "-" as stdout; the ordinary report is
 * silenced so stdout holds nothing but TAP. Tests fork (CK_FORK default), so
 * a crash in one test is reported as a failure of that test only.
 */
#include "unit.h"

#include <stdlib.h>

int unit_run(Suite *s)
{
	SRunner *runner = srunner_create(s);
	int failed;

	srunner_set_tap(runner, "-");
	srunner_run_all(runner, CK_SILENT);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
