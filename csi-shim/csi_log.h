/*
 * csi_log.h — leveled logging of claimfs-csi to stderr (the CSI spec asks
 * plugins to log to stdout/stderr only and to keep secrets out of the log:
 * no request message is ever logged whole, only ids and paths).
 *
 * Lines read "TIMESTAMP claimfs-csi[pid]: level: text", one write(2) each so
 * worker threads never interleave. The threshold is set once before any
 * thread starts and only read afterwards.
 */
#ifndef CLAIMFS_CSI_LOG_H
#define CLAIMFS_CSI_LOG_H

enum csi_log_level { CSI_LOG_ERROR = 0, CSI_LOG_WARN, CSI_LOG_INFO, CSI_LOG_DEBUG };

/* Parse "error", "warn", "info", "debug": the level, or -EINVAL. */
int csi_log_level_parse(const char *text);
/* Set the threshold; call before starting threads. */
void csi_log_set_level(enum csi_log_level level);

/* Write one line at level (dropped when above the threshold). */
void csi_log(enum csi_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define csi_log_error(...) csi_log(CSI_LOG_ERROR, __VA_ARGS__)
#define csi_log_warn(...) csi_log(CSI_LOG_WARN, __VA_ARGS__)
#define csi_log_info(...) csi_log(CSI_LOG_INFO, __VA_ARGS__)
#define csi_log_debug(...) csi_log(CSI_LOG_DEBUG, __VA_ARGS__)

#endif
