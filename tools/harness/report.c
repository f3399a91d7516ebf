/*
 * report.c — table, JSON and JUnit output (see report.h).
 *
 * Invariant: all three formats are rendered from the same struct report,
 * so they cannot disagree; the table's columns are those of the issue
 * (POD CLAIM ACKED "ON DISK" RESTARTS VERDICT), numbers right-aligned under
 * their headings, widths growing with the data.
 */
#include "report.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Totals over all replicas. */
static void report_totals(const struct report *rep, unsigned long *ret_acked, unsigned long *ret_unacked)
{
	unsigned long acked = 0, unacked = 0;
	for (unsigned i = 0; i < rep->count; i++) {
		const struct replica *r = &rep->replicas[i];
		acked += atomic_load(&r->acked);
		unacked += atomic_load(&r->at_kill) + atomic_load(&r->failed);
	}
	*ret_acked = acked;
	*ret_unacked = unacked;
}

/* Width of the widest string column entry (at least MIN). */
static int report_width(const struct report *rep, size_t offset, int min)
{
	int w = min;
	for (unsigned i = 0; i < rep->count; i++) {
		int len = (int)strlen((const char *)&rep->replicas[i] + offset);
		if (len > w)
			w = len;
	}
	return w;
}

/* See report.h. */
void report_table(const struct report *rep, FILE *out)
{
	unsigned long acked, unacked;
	report_totals(rep, &acked, &unacked);
	if (rep->judged) {
		int pod_w = report_width(rep, offsetof(struct replica, pod_name), 3) + 3;
		int claim_w = report_width(rep, offsetof(struct replica, claim_name), 5) + 3;
		fprintf(out, "%-*s%-*s%5s  %7s  %8s  %s\n", pod_w, "POD", claim_w, "CLAIM", "ACKED", "ON DISK",
			"RESTARTS", "VERDICT");
		for (unsigned i = 0; i < rep->count; i++) {
			const struct replica *r = &rep->replicas[i];
			char disk[32];
			if (r->on_disk < 0)
				snprintf(disk, sizeof(disk), "-");
			else
				snprintf(disk, sizeof(disk), "%ld", r->on_disk - r->baseline);
			fprintf(out, "%-*s%-*s%5lu  %7s  %8u  %s\n", pod_w, r->pod_name, claim_w, r->claim_name,
				atomic_load(&r->acked), disk, r->restarts, r->verdict);
		}
	}
	double rate = rep->load_seconds > 0 ? (double)rep->visits_done / rep->load_seconds : 0;
	const char *head = rep->result == REPORT_PASS ? "PASS" : rep->result == REPORT_FAIL ? "FAIL" : "ERROR";
	if (rep->result == REPORT_ERROR)
		fprintf(out, "%s: %s\n", head, rep->error ? rep->error : "the run did not complete");
	else if (rep->result == REPORT_FAIL && rep->inconsistent)
		fprintf(out, "%s: %u of %u replicas inconsistent\n", head, rep->inconsistent, rep->count);
	else if (rep->result == REPORT_FAIL)
		fprintf(out, "%s: claimfsd exited on its own %u times (every replica's file is consistent)\n",
			head, rep->daemon_crashes);
	else
		fprintf(out, "%s: all %u replicas consistent\n", head, rep->count);
	unsigned long probes = acked + unacked > rep->visits_done ? acked + unacked - rep->visits_done : 0;
	char extra[64] = "";
	if (probes)
		snprintf(extra, sizeof(extra), " (+%lu scale-cycle probes)", probes);
	fprintf(out, "%lu visits%s: %lu acknowledged, %lu unacknowledged, in %.1f s (%.0f/s); "
		"%u replica kills, %u daemon %skills%s; seed %llu\n",
		rep->visits_done, extra, acked, unacked, rep->load_seconds, rate, rep->replica_kills,
		rep->daemon_kills, rep->opts->supervise ? "worker " : "", rep->daemon_crashes ? " (claimfsd also died on its own!)" : "",
		(unsigned long long)rep->opts->seed);
	if (rep->opts->supervise && rep->judged)
		fprintf(out, "errors seen by replicas: %lu (%lu failed system calls, %lu visits failed)\n",
			rep->syscall_errors + rep->failed_visits, rep->syscall_errors, rep->failed_visits);
	fflush(out);
}

/* JSON for one replica. */
static json_t *report_replica_json(const struct replica *r)
{
	json_t *scale = json_null(), *obj;
	if (r->scale_checked)
		scale = json_pack("{s:I, s:I, s:I}", "left_with", (json_int_t)r->scale_left_with,
				  "came_back_with", (json_int_t)r->scale_came_back, "first_answer",
				  (json_int_t)r->scale_first_answer);
	obj = json_pack("{s:s, s:s, s:i, s:I, s:o, s:I, s:I, s:I, s:I, s:i, s:i, s:I, s:b, s:s, s:o}",
			 "pod", r->pod_name, "claim", r->claim_name, "ordinal", (int)r->ordinal,
			 "acked", (json_int_t)atomic_load(&r->acked),
			 "on_disk", r->on_disk < 0 ? json_null() : json_integer(r->on_disk - r->baseline),
			 "baseline", (json_int_t)r->baseline, "sent", (json_int_t)atomic_load(&r->sent),
			 "in_flight_at_kill", (json_int_t)atomic_load(&r->at_kill),
			 "failed", (json_int_t)atomic_load(&r->failed), "restarts", (int)r->restarts,
			 "revision", (int)r->revision, "max_answer", (json_int_t)atomic_load(&r->max_answer),
			 "ok", r->ok, "verdict", r->verdict, "scale_cycle", scale);
	if (obj && (json_object_set_new(obj, "ip", json_string(r->ip)) < 0 ||
		    json_object_set_new(obj, "syscall_errors", json_integer((json_int_t)r->syscall_errors)) < 0)) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* The options part of the JSON report. */
static json_t *report_options_json(const struct options *o)
{
	json_t *obj = json_pack("{s:i, s:I, s:i, s:i, s:i, s:s, s:s, s:b, s:i, s:b, s:s?, s:s, s:s, s:s, s:s, s:s}",
			 "replicas", (int)o->replicas, "requests", (json_int_t)o->requests,
			 "concurrency", (int)o->concurrency, "kill_replicas", (int)o->kill_replicas,
			 "kill_daemon", (int)o->kill_daemon, "balance", options_balance_name(o->balance),
			 "pod_management", options_pod_management_name(o->pod_management),
			 "rolling_update", o->rolling_update, "partition", (int)o->partition,
			 "scale_cycle", o->scale_cycle, "app", o->app, "mount_path", o->mount_path,
			 "namespace", o->namespace_name, "statefulset", o->statefulset,
			 "claim_template", o->claim_template, "broken_app", options_broken_name(o->broken));
	if (obj && (json_object_set_new(obj, "runtime", json_string(options_runtime_name(o->runtime))) < 0 ||
		    json_object_set_new(obj, "update_strategy",
					json_string(options_update_strategy_name(o->update_strategy))) < 0 ||
		    json_object_set_new(obj, "supervise", json_boolean(o->supervise)) < 0)) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* See report.h. */
int report_json(const struct report *rep, const char *path)
{
	unsigned long acked, unacked;
	report_totals(rep, &acked, &unacked);
	json_t *replicas = json_array(), *timeline = json_array();
	for (unsigned i = 0; rep->judged && i < rep->count; i++)
		json_array_append_new(replicas, report_replica_json(&rep->replicas[i]));
	for (size_t i = 0; i < rep->timeline->count; i++) {
		const struct timeline_entry *e = &rep->timeline->items[i];
		json_array_append_new(timeline, json_pack("{s:f, s:s, s:s}", "t", e->t, "kind", e->kind,
							  "text", e->text));
	}
	const char *result = rep->result == REPORT_PASS ? "pass" : rep->result == REPORT_FAIL ? "fail" : "error";
	json_t *root = json_pack(
		"{s:s, s:s?, s:I, s:o, s:s, s:b, s:{s:I, s:I, s:I, s:I, s:I, s:f, s:f}, s:{s:i, s:i}, s:i, s:i, s:o, s:o}",
		"result", result, "error", rep->error, "seed", (json_int_t)rep->opts->seed,
		"options", report_options_json(rep->opts),
		"claims_via", rep->via_statefulset ? "statefulset" : "persistentvolumeclaims",
		"namespaced", rep->namespaced,
		"visits", "requested", (json_int_t)rep->opts->requests, "completed", (json_int_t)rep->visits_done,
		"acknowledged", (json_int_t)acked, "unacknowledged", (json_int_t)unacked,
		"undelivered_retries", (json_int_t)rep->retries,
		"seconds", rep->load_seconds,
		"per_second", rep->load_seconds > 0 ? (double)rep->visits_done / rep->load_seconds : 0.0,
		"kills", "replicas", (int)rep->replica_kills, "daemon", (int)rep->daemon_kills,
		"daemon_crashes", (int)rep->daemon_crashes, "inconsistent", (int)rep->inconsistent,
		"replicas", replicas, "timeline", timeline);
	if (root && json_object_set_new(root, "errors_seen_by_replicas",
					json_pack("{s:I, s:I}", "syscalls", (json_int_t)rep->syscall_errors,
						  "visits", (json_int_t)rep->failed_visits)) < 0) {
		json_decref(root);
		root = NULL;
	}
	if (!root) {
		util_say("claimfs-harness: cannot build the JSON report");
		return -ENOMEM;
	}
	int r = json_dump_file(root, path, JSON_INDENT(2) | JSON_ENSURE_ASCII) == 0 ? 0 : -EIO;
	json_decref(root);
	if (r < 0)
		util_say("claimfs-harness: cannot write %s", path);
	return r;
}

/* Write TEXT to F with XML escaping (attribute-safe). */
static void report_xml(FILE *f, const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		switch (*p) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\n': fputs("&#10;", f); break;
		default:
			if (*p >= 0x20 || *p == '\t')
				fputc(*p, f);
		}
	}
}

/* One JUnit testcase per replica. */
static void report_junit_case(FILE *f, const struct report *rep, const struct replica *r)
{
	fprintf(f, "    <testcase classname=\"claimfs-harness.");
	report_xml(f, rep->opts->statefulset);
	fprintf(f, "\" name=\"");
	report_xml(f, r->pod_name);
	fprintf(f, "\" time=\"%.3f\">\n", rep->load_seconds);
	if (!r->ok) {
		fprintf(f, "      <failure type=\"inconsistent\" message=\"");
		report_xml(f, r->verdict);
		fprintf(f, "\">claim %s: acked %lu, on disk %ld, in flight at kill %lu, failed %lu, restarts %u</failure>\n",
			r->claim_name, atomic_load(&r->acked), r->on_disk < 0 ? -1 : r->on_disk - r->baseline,
			atomic_load(&r->at_kill), atomic_load(&r->failed), r->restarts);
	}
	fprintf(f, "    </testcase>\n");
}

/* See report.h. */
int report_junit(const struct report *rep, const char *path)
{
	FILE *f = fopen(path, "we");
	if (!f) {
		util_say("claimfs-harness: cannot write %s: %s", path, strerror(errno));
		return -errno;
	}
	unsigned tests = rep->judged ? rep->count : 0, errors = rep->result == REPORT_ERROR;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", gmtime_r(&now, &tm));
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<testsuites name=\"claimfs-harness\" tests=\"%u\" failures=\"%u\" errors=\"%u\" time=\"%.3f\">\n",
		tests + errors, rep->inconsistent, errors, rep->load_seconds);
	fprintf(f, "  <testsuite name=\"claimfs-harness.");
	report_xml(f, rep->opts->statefulset);
	fprintf(f, "\" tests=\"%u\" failures=\"%u\" errors=\"%u\" time=\"%.3f\" timestamp=\"%s\">\n",
		tests + errors, rep->inconsistent, errors, rep->load_seconds, stamp);
	fprintf(f, "    <properties>\n      <property name=\"seed\" value=\"%llu\"/>\n"
		   "      <property name=\"replica_kills\" value=\"%u\"/>\n"
		   "      <property name=\"daemon_kills\" value=\"%u\"/>\n    </properties>\n",
		(unsigned long long)rep->opts->seed, rep->replica_kills, rep->daemon_kills);
	for (unsigned i = 0; i < tests; i++)
		report_junit_case(f, rep, &rep->replicas[i]);
	if (errors) {
		fprintf(f, "    <testcase classname=\"claimfs-harness\" name=\"run\" time=\"%.3f\">\n"
			   "      <error message=\"", rep->load_seconds);
		report_xml(f, rep->error ? rep->error : "the run did not complete");
		fprintf(f, "\"/>\n    </testcase>\n");
	}
	fprintf(f, "    <system-out>");
	for (size_t i = 0; i < rep->timeline->count; i++) {
		char line[320];
		snprintf(line, sizeof(line), "[%7.3fs] %s\n", rep->timeline->items[i].t, rep->timeline->items[i].text);
		report_xml(f, line);
	}
	fprintf(f, "</system-out>\n  </testsuite>\n</testsuites>\n");
	int r = ferror(f) ? -EIO : 0;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r < 0)
		util_say("claimfs-harness: cannot write %s", path);
	return r;
}
