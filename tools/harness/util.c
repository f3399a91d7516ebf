/*
 * util.c — clocks, random numbers, the interrupt flag, stderr output, and
 * file/mount helpers shared by every part of claimfs-harness.
 *
 * Invariants:
 *  - util_stderr_lock serialises every write to stderr made through util_say()
 *    and util_progress_line(); util_progress_active says whether the cursor
 *    sits at the end of an unterminated progress line (tty mode) that must be
 *    erased before anything else is printed.
 *  - The signal handler only stores to lock-free atomics.
 *  - util_remove_tree() never crosses a mount point (FTW_MOUNT), so a mount
 *    that could not be detached is never emptied by accident.
 */
#include "util.h"
#include "http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static atomic_int util_signal_seen;
static pthread_mutex_t util_stderr_lock = PTHREAD_MUTEX_INITIALIZER;
static bool util_progress_active; /* protected by util_stderr_lock */

/* Monotonic time in ns. */
uint64_t util_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Monotonic time in seconds. */
double util_now_s(void)
{
	return (double)util_now_ns() / 1e9;
}

/* Sleep, resuming after signals. */
void util_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
		if (util_interrupted())
			return;
	}
}

/* Seed the generator; every seed (0 included) gives a distinct stream. */
void util_rng_seed(struct util_rng *rng, uint64_t seed)
{
	rng->state = seed ^ 0x6a09e667f3bcc909ull;
}

/* splitmix64 step. */
uint64_t util_rng_next(struct util_rng *rng)
{
	uint64_t z = (rng->state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform value below BOUND by rejection (no modulo bias). */
uint64_t util_rng_below(struct util_rng *rng, uint64_t bound)
{
	if (bound <= 1)
		return 0;
	uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
	uint64_t v;
	do {
		v = util_rng_next(rng);
	} while (v >= limit);
	return v % bound;
}

/* Async-signal-safe: remember the first interrupting signal. */
static void util_on_signal(int sig)
{
	int expected = 0;
	atomic_compare_exchange_strong(&util_signal_seen, &expected, sig);
}

/* See util.h. */
int util_signals_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = util_on_signal;
	sigemptyset(&sa.sa_mask);
	const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(sigs); i++) {
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	}
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;
	return 0;
}

/* See util.h. */
bool util_interrupted(void)
{
	return atomic_load(&util_signal_seen) != 0;
}

/* See util.h. */
int util_interrupt_signal(void)
{
	return atomic_load(&util_signal_seen);
}

/* See util.h. */
void util_signals_block_in_thread(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* Erase the tty progress line; caller holds util_stderr_lock. */
static void util_clear_progress_locked(void)
{
	if (util_progress_active) {
		fputs("\r\033[K", stderr);
		util_progress_active = false;
	}
}

/* See util.h. */
void util_vsay(const char *fmt, va_list ap)
{
	pthread_mutex_lock(&util_stderr_lock);
	util_clear_progress_locked();
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
	pthread_mutex_unlock(&util_stderr_lock);
}

/* See util.h. */
void util_say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	util_vsay(fmt, ap);
	va_end(ap);
}

/* See util.h. */
void util_progress_line(const char *text, bool tty)
{
	pthread_mutex_lock(&util_stderr_lock);
	if (tty) {
		fprintf(stderr, "\r\033[K%s", text);
		util_progress_active = true;
	} else {
		fprintf(stderr, "%s\n", text);
	}
	fflush(stderr);
	pthread_mutex_unlock(&util_stderr_lock);
}

/* See util.h. */
void util_progress_end(void)
{
	pthread_mutex_lock(&util_stderr_lock);
	util_clear_progress_locked();
	fflush(stderr);
	pthread_mutex_unlock(&util_stderr_lock);
}

/* See util.h. */
long util_read_small_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = 0;
	long r = 0;
	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	r = (long)len;
out:
	close(fd);
	return r;
}

/* See util.h. */
void util_print_tail(const char *path, unsigned lines, const char *prefix)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	char **ring = calloc(lines, sizeof(*ring));
	size_t count = 0;
	char *line = NULL;
	size_t cap = 0;
	if (!ring)
		goto out;
	while (getline(&line, &cap, f) > 0) {
		size_t slot = count % lines;
		free(ring[slot]);
		ring[slot] = strdup(line);
		count++;
	}
	size_t first = count > lines ? count - lines : 0;
	for (size_t i = first; i < count; i++) {
		const char *text = ring[i % lines];
		if (text)
			util_say("%s%.*s", prefix, (int)strcspn(text, "\n"), text);
	}
	for (size_t i = 0; i < lines; i++)
		free(ring[i]);
out:
	free(ring);
	free(line);
	fclose(f);
}

/* See util.h. */
int util_parse_ulong(const char *text, unsigned long max, unsigned long *ret_value)
{
	if (!text || !*text || *text == '-' || *text == '+')
		return -EINVAL;
	char *end = NULL;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret_value = v;
	return 0;
}

/* Undo the octal escapes (\040 etc.) of a /proc/self/mounts field in place. */
static void util_unescape_mount_field(char *s)
{
	char *out = s;
	for (char *in = s; *in; in++) {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' &&
		    in[3] >= '0' && in[3] <= '7') {
			*out++ = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
			in += 3;
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';
}

/* Does mount point MNT equal PATH or lie below it? */
static bool util_path_at_or_below(const char *mnt, const char *path)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	return strncmp(mnt, path, n) == 0 && (mnt[n] == '\0' || mnt[n] == '/');
}

/* Collect the mount points at or below PATH, in /proc/self/mounts order.
 * Returns the count (entries malloc'd in *ret_list) or -errno. */
static int util_mounts_under(const char *path, char ***ret_list)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	if (!f)
		return -errno;
	char **list = NULL;
	int count = 0, r = 0;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL;
		if (!strtok_r(line, " ", &save))
			continue;
		char *mnt = strtok_r(NULL, " ", &save);
		if (!mnt)
			continue;
		util_unescape_mount_field(mnt);
		if (!util_path_at_or_below(mnt, path))
			continue;
		char **grown = realloc(list, (size_t)(count + 1) * sizeof(*list));
		if (!grown) {
			r = -ENOMEM;
			break;
		}
		list = grown;
		list[count] = strdup(mnt);
		if (!list[count]) {
			r = -ENOMEM;
			break;
		}
		count++;
	}
	free(line);
	fclose(f);
	if (r < 0) {
		for (int i = 0; i < count; i++)
			free(list[i]);
		free(list);
		return r;
	}
	*ret_list = list;
	return count;
}

/* See util.h. */
bool util_mounted_under(const char *path)
{
	char **list = NULL;
	int n = util_mounts_under(path, &list);
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return n != 0; /* an error reading the table counts as "maybe" */
}

/* See util.h. */
int util_detach_under(const char *path)
{
	char **list = NULL;
	int n = util_mounts_under(path, &list);
	if (n < 0)
		return n;
	int detached = 0;
	/* Later entries were mounted later and may sit on top of earlier ones. */
	for (int i = n - 1; i >= 0; i--) {
		if (umount2(list[i], MNT_DETACH) == 0)
			detached++;
		free(list[i]);
	}
	free(list);
	return detached;
}

static int util_remove_error; /* first error of the current util_remove_tree (single caller) */

/* nftw callback: remove one entry, depth first. */
static int util_remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	int r = (type == FTW_DP || type == FTW_D) ? rmdir(path) : unlink(path);
	if (r < 0 && errno != ENOENT && util_remove_error == 0)
		util_remove_error = -errno;
	return 0;
}

/* See util.h. */
int util_remove_tree(const char *path)
{
	util_remove_error = 0;
	if (nftw(path, util_remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 && errno != ENOENT)
		return -errno;
	return util_remove_error;
}

/* See util.h. */
int util_copy_file(const char *src, const char *dst)
{
	char buf[65536];
	int r = 0;
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		r = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		if (write(out, buf, (size_t)n) != n) {
			r = errno ? -errno : -EIO;
			break;
		}
	}
	if (close(out) < 0 && r == 0)
		r = -errno;
out:
	close(in);
	return r;
}

/* See util.h. */
int util_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, src, n + 1);
	return 0;
}

/* See util.h. */
int util_format(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	return (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* See util.h. */
void util_endpoint_harness(struct http_endpoint *endpoint)
{
	endpoint->user_agent = "claimfs-harness";
	endpoint->accept = "application/json, */*";
}

/* See util.h. */
void util_endpoint_loopback(unsigned port, struct http_endpoint *ret_endpoint)
{
	http_endpoint_loopback(port, ret_endpoint);
	util_endpoint_harness(ret_endpoint);
}

/* See util.h. */
void util_endpoint_ip(const char *ip, unsigned port, struct http_endpoint *ret_endpoint)
{
	struct http_endpoint *ep = ret_endpoint;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ep->addr;
	util_endpoint_loopback(port, ep);
	if (inet_pton(AF_INET, ip, &sin->sin_addr) != 1)
		return; /* the fleet only makes valid ones; stay on loopback */
	snprintf(ep->host, sizeof(ep->host), "%s", ip);
	snprintf(ep->host_header, sizeof(ep->host_header), "%s:%u", ip, port & 0xffff);
	snprintf(ep->url, sizeof(ep->url), "http://%s:%u", ip, port & 0xffff);
}
