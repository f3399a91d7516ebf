/*
 * log.h — the one logging module of claimfs.
 *
 * Messages go to stderr as "TIMESTAMP program[pid]: level: text" (program:
 * claimfsd, or what log_set_program says, e.g. claimfs-csi). The level threshold is
 * process-wide and set once at start-up (log_set_level); reading it races with
 * nothing because it is written before any thread starts.
 */
#ifndef CLAIMFS_LOG_H
#define CLAIMFS_LOG_H

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Parse "error", "warn", "info", "debug"; returns the level or -EINVAL. */
int log_level_parse(const char *text);
void log_set_level(enum log_level level);
/* The name in front of every line (default "claimfsd"); set before threads start. */
void log_set_program(const char *name);
enum log_level log_get_level(void);
/* Count of error-level messages since start; tests use it to fail on any error. */
unsigned log_error_count(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
