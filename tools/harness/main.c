/*
 * main.c — entry point of claimfs-harness: either the harness itself or,
 * with --internal-app as the first argument, the built-in visits app that
 * the harness runs as each replica (so no second binary is needed).
 */
#include "app.h"
#include "options.h"
#include "run.h"

#include <errno.h>
#include <string.h>

/* Dispatch to the app or the harness. */
int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--internal-app") == 0)
		return app_main(argc, argv);
	struct options opts;
	int r = options_parse(argc, argv, &opts);
	if (r == 1)
		return 0;
	if (r < 0)
		return 2;
	return run_harness(&opts);
}
