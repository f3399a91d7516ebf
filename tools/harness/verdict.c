/*
 * verdict.c — per-replica consistency checks (see verdict.h for the rules).
 *
 * Invariant: a replica is "ok" only if every rule holds; each broken rule
 * adds one clause to its verdict text, so a failing run says exactly what
 * went wrong and on which ordinal.
 */
#include "verdict.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* See verdict.h. */
int verdict_read_visits(const char *path, long *ret_count, char *writer, size_t writer_cap)
{
	char buf[4096];
	writer[0] = '\0';
	*ret_count = 0;
	long n = util_read_small_file(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	const char *p = buf;
	while (isspace((unsigned char)*p))
		p++;
	if (!isdigit((unsigned char)*p))
		return -EBADMSG;
	char *end = NULL;
	errno = 0;
	long count = strtol(p, &end, 10);
	if (errno)
		return -EBADMSG;
	p = end;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t len = strcspn(p, " \t\r\n");
	if (len >= writer_cap)
		len = writer_cap - 1;
	memcpy(writer, p, len);
	writer[len] = '\0';
	*ret_count = count;
	return 0;
}

/* See verdict.h. */
void verdict_sample(struct replica *replicas, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		struct replica *r = &replicas[i];
		long visits;
		char writer[128];
		if (verdict_read_visits(r->visits_path, &visits, writer, sizeof(writer)) < 0)
			continue; /* missing, mid-write by a non-atomic app, or daemon down */
		unsigned long sent = atomic_load(&r->sent); /* read after the file: see load.c */
		if (writer[0] && strcmp(writer, r->pod_name) != 0 && !r->foreign_writer[0])
			snprintf(r->foreign_writer, sizeof(r->foreign_writer), "%s", writer);
		if (r->over_count < 0 && visits - r->baseline > (long)sent) {
			r->over_count = visits;
			r->over_sent = sent;
		}
	}
}

/* Append one clause to R's verdict. */
static void verdict_clause(struct replica *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void verdict_clause(struct replica *r, const char *fmt, ...)
{
	size_t len = strlen(r->verdict);
	if (len + 8 >= sizeof(r->verdict))
		return;
	if (len == 0)
		len = (size_t)snprintf(r->verdict, sizeof(r->verdict), "FAIL: ");
	else
		len += (size_t)snprintf(r->verdict + len, sizeof(r->verdict) - len, "; ");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->verdict + len, sizeof(r->verdict) - len, fmt, ap);
	va_end(ap);
}

/* The scale-cycle rule for R. */
static void verdict_scale(struct replica *r)
{
	if (!r->scale_checked)
		return;
	if (r->scale_came_back != r->scale_left_with)
		verdict_clause(r, "scale-cycle: came back with %ld visits but left %ld", r->scale_came_back,
			       r->scale_left_with);
	else if (r->scale_first_answer >= 0 && r->scale_first_answer != r->scale_left_with + 1)
		verdict_clause(r, "scale-cycle: first answer after coming back was %ld, expected %ld",
			       r->scale_first_answer, r->scale_left_with + 1);
}

/* Judge one replica. */
static void verdict_one(struct replica *r, bool scale_cycle, bool no_errors)
{
	long count;
	r->verdict[0] = '\0';
	int err = verdict_read_visits(r->visits_path, &count, r->final_writer, sizeof(r->final_writer));
	unsigned long acked = atomic_load(&r->acked);
	unsigned long at_kill = atomic_load(&r->at_kill);
	unsigned long failed = atomic_load(&r->failed);
	long max_answer = atomic_load(&r->max_answer);
	if (err < 0 && err != -ENOENT) {
		r->on_disk = -1;
		verdict_clause(r, "cannot read %s: %s", r->visits_path,
			       err == -EBADMSG ? "no count in it" : strerror(-err));
	} else {
		r->on_disk = count;
		long d = count - r->baseline;
		if (d < (long)acked)
			verdict_clause(r, "lost %ld acknowledged visits (on disk %ld < acked %lu)",
				       (long)acked - d, d, acked);
		if (d > (long)(acked + at_kill + failed))
			verdict_clause(r, "%ld visits more than were sent to it (on disk %ld > acked %lu + %lu unacknowledged): written by another replica?",
				       d - (long)(acked + at_kill + failed), d, acked, at_kill + failed);
		if (max_answer > count)
			verdict_clause(r, "the app answered count %ld but the file holds %ld", max_answer, count);
		if (r->final_writer[0] && strcmp(r->final_writer, r->pod_name) != 0)
			verdict_clause(r, "file last written by another replica (%s)", r->final_writer);
	}
	if (r->foreign_writer[0])
		verdict_clause(r, "file written by another replica (%s) during the run", r->foreign_writer);
	if (r->over_count >= 0)
		verdict_clause(r, "file changed by another replica: it held %ld visits when %lu had been sent to it",
			       r->over_count - r->baseline, r->over_sent);
	if (scale_cycle)
		verdict_scale(r);
	if (no_errors && (r->syscall_errors || failed))
		verdict_clause(r, "saw %lu errors across the daemon kills (%lu failed system calls, %lu visits failed)",
			       r->syscall_errors + failed, r->syscall_errors, failed);
	r->ok = r->verdict[0] == '\0';
	if (!r->ok)
		return;
	long extra = count - r->baseline - (long)acked;
	if (extra <= 0)
		snprintf(r->verdict, sizeof(r->verdict), "ok");
	else if ((unsigned long)extra <= at_kill)
		snprintf(r->verdict, sizeof(r->verdict), "ok (%ld unacknowledged in flight at kill)", extra);
	else
		snprintf(r->verdict, sizeof(r->verdict), "ok (%ld unacknowledged visits persisted)", extra);
}

/* See verdict.h. */
unsigned verdict_judge(struct replica *replicas, unsigned count, bool scale_cycle, bool no_errors)
{
	unsigned bad = 0;
	for (unsigned i = 0; i < count; i++) {
		verdict_one(&replicas[i], scale_cycle, no_errors);
		bad += !replicas[i].ok;
	}
	return bad;
}
