/*
 * app.h — the built-in visits app that replicas run when no --app is given:
 * `claimfs-harness --internal-app [--broken=MODE] [--other-data=DIR]`.
 *
 * Environment: PORT (listen on 127.0.0.1:PORT), DATA_DIR (the claim as the
 * app sees it), POD_NAME, VISITS_FILE (default visits.txt).
 *   GET /        read the count from DATA_DIR/VISITS_FILE (missing = 0), add
 *                one, write "COUNT POD_NAME\n" to a temporary file, fsync it,
 *                rename it over the visits file, fsync the directory, then
 *                answer "COUNT\n"
 *   GET /healthz "ok"
 * Broken modes, for the harness's self-test:
 *   ack-before-fsync  answer at once, write the count later (every 250 ms)
 *                     and not at all on SIGTERM
 *   cross-write       also count every visit in --other-data's visits file
 */
#ifndef CLAIMFS_HARNESS_APP_H
#define CLAIMFS_HARNESS_APP_H

/* Run the app until SIGTERM/SIGINT; returns the process exit status. */
int app_main(int argc, char **argv);

#endif
