/*
 * csi_log.c — leveled logging to stderr for claimfs-csi (see csi_log.h).
 * Invariant: errno is preserved across every call, so a caller may log and
 * then still report errno.
 */
#include "csi_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static enum csi_log_level csi_log_threshold = CSI_LOG_INFO;

static const char *const csi_log_names[] = { "error", "warn", "info", "debug" };

/* Level named by text, or -EINVAL. */
int csi_log_level_parse(const char *text)
{
	for (unsigned i = 0; i < sizeof(csi_log_names) / sizeof(csi_log_names[0]); i++)
		if (strcasecmp(text, csi_log_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

/* Set the threshold (before threads start). */
void csi_log_set_level(enum csi_log_level level)
{
	csi_log_threshold = level;
}

/* Format and write one line with a UTC timestamp. */
void csi_log(enum csi_log_level level, const char *fmt, ...)
{
	char line[1024];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n, saved_errno = errno;

	if (level > csi_log_threshold)
		goto out;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ claimfs-csi[%d]: %s: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     now.tv_nsec / 1000000, (int)getpid(), csi_log_names[level]);
	if (n < 0)
		goto out;
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* stderr is gone: nowhere left to say so */
	}
out:
	errno = saved_errno;
}
