/*
 * app.h — the built-in visits app that replicas run when no --app is given:
 * `claimfs-harness --internal-app [--broken=MODE] [--other-data=DIR]`.
 *
 * Environment: PORT (listen on POD_IP:PORT, POD_IP default 127.0.0.1),
 * DATA_DIR (the claim as the app sees it), POD_NAME, VISITS_FILE (default
 * visits.txt), PEER_NAMES (the set's stable pod names: at start the app logs
 * "POD: NAME is ADDRESS" for each, as it resolves them).
 *   GET /        read the count from DATA_DIR/VISITS_FILE (missing = 0), add
 *                one, write "COUNT POD_NAME\n" to a temporary file, fsync it,
 *                rename it over the visits file, fsync the directory, then
 *                answer "COUNT\n"
 *   GET /healthz "ok"
 * --keep-open (the harness passes it with --supervise): the visits
 * app, which holds its file across a daemon restart. At start it changes
 * into DATA_DIR and opens the visits file once (created if missing, made
 * durable before it listens); each visit looks the file up again relative
 * to its working directory, reads the count through the open descriptor,
 * writes the new one over it at offset 0 (the text never gets shorter) and
 * fsyncs. Every failed system call is logged as a line holding
 * APP_SYSCALL_FAILED, which the harness counts.
 * Broken modes, for the harness's self-test:
 *   ack-before-fsync  answer at once, write the count later (every 250 ms)
 *                     and not at all on SIGTERM
 *   cross-write       also count every visit in --other-data's visits file
 */
#ifndef CLAIMFS_HARNESS_APP_H
#define CLAIMFS_HARNESS_APP_H

/* The marker of a failed system call in a replica's log. */
#define APP_SYSCALL_FAILED "syscall failed:"

/* Run the app until SIGTERM/SIGINT; returns the process exit status. */
int app_main(int argc, char **argv);

#endif
