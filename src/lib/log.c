/*
 * log.c — leveled logging to stderr. One write(2) per message so lines from
 * different threads never interleave.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_threshold = LOG_LEVEL_INFO;
static const char *log_program = "claimfsd";
static atomic_uint log_errors;

static const char *const log_level_names[] = { "error", "warn", "info", "debug" };

int log_level_parse(const char *text)
{
	for (unsigned i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]); i++)
		if (strcasecmp(text, log_level_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

void log_set_level(enum log_level level) { log_threshold = level; }
void log_set_program(const char *name) { log_program = name; }
enum log_level log_get_level(void) { return log_threshold; }
unsigned log_error_count(void) { return atomic_load(&log_errors); }

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n, saved_errno = errno;

	if (level == LOG_LEVEL_ERROR)
		atomic_fetch_add(&log_errors, 1);
	if (level > log_threshold)
		goto out;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d]: %s: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     now.tv_nsec / 1000000, log_program, (int)getpid(), log_level_names[level]);
	if (n < 0)
		goto out;
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
out:
	errno = saved_errno;
}
