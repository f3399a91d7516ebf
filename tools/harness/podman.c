/*
 * podman.c — the Podman engine for --runtime podman (see podman.h).
 *
 * Owns: the configuration file and the image directory below the work
 * directory, and every podman process the harness starts (posix_spawn: the
 * harness has threads, and nothing runs between fork and exec).
 *
 * Invariant: podman always runs with pm->envp, so it always sees the
 * plugin; a command that outlives its timeout is SIGKILLed and reaped, so
 * no podman process outlives the call that started it (podman_spawn's
 * caller owns the pid it returns).
 */
#include "podman.h"
#include "files.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define PODMAN_CONF_MAX (1u << 20)
#define PODMAN_BUSYBOX "/bin/busybox"

/* The applets the built-in app and a user's --command commonly need. */
static const char *const podman_applets[] = {
	"sh", "httpd", "mkdir", "rmdir", "sync", "printf", "cat", "echo", "usleep", "sleep",
	"hostname", "ping", "head", "wget", "env", "ls", "test", "true", "false", "kill",
};

/* GET / of the built-in app in a busybox container: one CGI per request,
 * ordered by a lock directory; the visit is the visits app: read
 * the file, write the new count over it (the text never gets shorter, so
 * no truncation), fsync. A failed step is logged with the marker the
 * harness counts (app.h) and answered 500. */
static const char podman_visit_cgi[] =
	"#!/bin/sh\n"
	"fail() {\n"
	"\techo \"$POD_NAME: syscall failed: $1\" >&2\n"
	"\trmdir /tmp/visit.lock\n"
	"\tprintf 'Status: 500 Internal Server Error\\r\\nContent-Type: text/plain\\r\\n\\r\\n"
	"visit not recorded: %s\\n' \"$1\"\n"
	"\texit 0\n"
	"}\n"
	"until mkdir /tmp/visit.lock 2>/dev/null; do usleep 1000; done\n"
	"file=\"$DATA_DIR/${VISITS_FILE:-visits.txt}\"\n"
	"count=0\n"
	"if [ -s \"$file\" ]; then read -r count writer < \"$file\" || fail \"read $file\"; fi\n"
	"count=$((count + 1))\n"
	"printf '%s %s\\n' \"$count\" \"$POD_NAME\" 1<> \"$file\" || fail \"write $file\"\n"
	"sync \"$file\" || fail \"fsync $file\"\n"
	"rmdir /tmp/visit.lock\n"
	"printf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' \"$count\"\n";

/* Spawn PROGRAM ARGS with ENVP, stdin /dev/null, output appended to LOG. */
static pid_t podman_spawn_program(const char *program, const char *const *args, char **envp,
				  const char *log)
{
	posix_spawn_file_actions_t actions;
	pid_t pid;
	int r = posix_spawn_file_actions_init(&actions);
	if (r != 0)
		return -r;
	r = posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (r == 0)
		r = posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log,
						     O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (r == 0)
		r = posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
	if (r == 0)
		r = posix_spawnp(&pid, program, &actions, NULL, (char *const *)args, envp);
	posix_spawn_file_actions_destroy(&actions);
	return r == 0 ? pid : -r;
}

/* Wait for PID at most TIMEOUT_MS; the exit status (128+N for signal N). */
static int podman_wait(pid_t pid, unsigned timeout_ms)
{
	uint64_t deadline = util_now_ns() + (uint64_t)timeout_ms * 1000000u;
	int status;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (util_now_ns() > deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
			return -ETIMEDOUT;
		}
		util_sleep_ms(10);
	}
}

/* argv = { program, args... } for posix_spawn. */
static int podman_argv(const char *program, const char *const *args, const char ***ret_argv)
{
	size_t n = 0;
	while (args[n])
		n++;
	const char **argv = calloc(n + 2, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	argv[0] = program;
	memcpy(argv + 1, args, n * sizeof(*argv));
	*ret_argv = argv;
	return 0;
}

/* See podman.h. */
pid_t podman_spawn(const struct podman *pm, const char *const *args, const char *log_path)
{
	const char **argv;
	int r = podman_argv(pm->program, args, &argv);
	if (r < 0)
		return r;
	pid_t pid = podman_spawn_program(pm->program, argv, pm->envp, log_path ? log_path : pm->log_path);
	free(argv);
	return pid;
}

/* See podman.h. */
int podman_run_command(const struct podman *pm, const char *const *args, unsigned timeout_ms,
		       const char *log_path)
{
	pid_t pid = podman_spawn(pm, args, log_path);
	return pid < 0 ? pid : podman_wait(pid, timeout_ms);
}

/* The configuration podman would read without us: $CONTAINERS_CONF, else
 * the system file (NULL text: none). */
static int podman_base_config(char **ret_text)
{
	const char *env = getenv("CONTAINERS_CONF");
	const char *const paths[] = { env && *env ? env : NULL, "/etc/containers/containers.conf",
				      "/usr/share/containers/containers.conf" };
	*ret_text = NULL;
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(paths); i++) {
		if (!paths[i] || access(paths[i], F_OK) < 0)
			continue;
		int r = files_read(paths[i], PODMAN_CONF_MAX, ret_text);
		if (r < 0)
			util_say("claimfs-harness: cannot read %s: %s", paths[i], strerror(-r));
		return r;
	}
	return 0;
}

/* Write BASE with our plugin added to its [engine.volume_plugins] table
 * (appended when it has none: TOML allows a table once). */
static int podman_write_config(struct podman *pm, const char *base, const char *socket)
{
	const char *table = "[engine.volume_plugins]";
	const char *at = base ? strstr(base, table) : NULL;
	while (at && at != base && at[-1] != '\n')
		at = strstr(at + 1, table); /* a header starts its line ("#[...]" is a comment) */
	FILE *f = fopen(pm->conf_path, "we");
	if (!f)
		return -errno;
	if (at) {
		at += strlen(table);
		fprintf(f, "%.*s\n%s = \"%s\"%s", (int)(at - base), base, PODMAN_PLUGIN, socket, at);
	} else {
		fprintf(f, "%s\n\n%s\n%s = \"%s\"\n", base ? base : "", table, PODMAN_PLUGIN, socket);
	}
	return fclose(f) == 0 ? 0 : -errno;
}

/* pm->envp: environ without CONTAINERS_CONF, then ours. */
static int podman_make_env(struct podman *pm)
{
	size_t n = 0, k = 0;
	while (environ[n])
		n++;
	pm->envp = calloc(n + 2, sizeof(*pm->envp));
	if (!pm->envp)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(environ[i], "CONTAINERS_CONF=", 16) == 0)
			continue;
		if (!(pm->envp[k++] = strdup(environ[i])))
			return -ENOMEM;
	}
	return asprintf(&pm->envp[k], "CONTAINERS_CONF=%s", pm->conf_path) < 0 ? -ENOMEM : 0;
}

/* See podman.h. */
int podman_init(struct podman *pm, const struct options *opts, const char *workdir,
		const char *plugin_socket)
{
	char *base = NULL;
	memset(pm, 0, sizeof(*pm));
	if (util_copy(pm->program, sizeof(pm->program), opts->podman) < 0 ||
	    util_format(pm->conf_path, sizeof(pm->conf_path), "%s/containers.conf", workdir) < 0 ||
	    util_format(pm->log_path, sizeof(pm->log_path), "%s/podman.log", workdir) < 0 ||
	    util_copy(pm->image, sizeof(pm->image), opts->image ? opts->image : "") < 0)
		return -ENAMETOOLONG;
	const char *slash = strrchr(workdir, '/');
	snprintf(pm->prefix, sizeof(pm->prefix), "claimfs-harness-%s", slash ? slash + 1 : workdir);
	for (char *p = pm->prefix; *p; p++) {
		if (*p == '.')
			*p = '-';
	}
	/* Our own tag: a concurrent run's containers never lose their image. */
	if (!opts->image && util_format(pm->image, sizeof(pm->image), "%s:%s", PODMAN_IMAGE, pm->prefix) < 0)
		return -ENAMETOOLONG;
	int r = podman_base_config(&base);
	if (r == 0)
		r = podman_write_config(pm, base, plugin_socket);
	free(base);
	if (r == 0)
		r = podman_make_env(pm);
	if (r < 0) {
		util_say("claimfs-harness: cannot configure podman: %s", strerror(-r));
		return r;
	}
	const char *const version[] = { "--version", NULL };
	r = podman_run_command(pm, version, 30000, NULL);
	if (r != 0) {
		util_say("claimfs-harness: %s does not run (%s); install podman or give --podman PATH",
			 pm->program, r < 0 ? strerror(-r) : "exit status not 0");
		return r < 0 ? r : -ENOENT;
	}
	return 0;
}

/* See podman.h. */
void podman_free(struct podman *pm)
{
	for (char **p = pm->envp; p && *p; p++)
		free(*p);
	free(pm->envp);
	pm->envp = NULL;
}

/* Write TEXT to ROOT/NAME with MODE. */
static int podman_write_file(const char *root, const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX];
	if (util_format(path, sizeof(path), "%s/%s", root, name) < 0)
		return -ENAMETOOLONG;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	int r = write(fd, text, len) == (ssize_t)len ? 0 : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r == 0 && chmod(path, mode) < 0 ? -errno : r;
}

/* The busybox root file system of the built-in image, in ROOT. */
static int podman_make_rootfs(const char *root)
{
	static const char *const dirs[] = { "", "/bin", "/www", "/www/cgi-bin", "/tmp", "/etc",
					    "/app", "/app/data" };
	char path[PATH_MAX];
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(dirs); i++) {
		if (util_format(path, sizeof(path), "%s%s", root, dirs[i]) < 0)
			return -ENAMETOOLONG;
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	if (util_format(path, sizeof(path), "%s/tmp", root) < 0 || chmod(path, 01777) < 0)
		return -errno;
	if (util_format(path, sizeof(path), "%s/bin/busybox", root) < 0)
		return -ENAMETOOLONG;
	int r = util_copy_file(PODMAN_BUSYBOX, path);
	if (r == 0 && chmod(path, 0755) < 0)
		r = -errno;
	for (size_t i = 0; r == 0 && i < UTIL_ARRAY_SIZE(podman_applets); i++) {
		if (util_format(path, sizeof(path), "%s/bin/%s", root, podman_applets[i]) < 0)
			return -ENAMETOOLONG;
		if (symlink("busybox", path) < 0 && errno != EEXIST)
			r = -errno;
	}
	if (r == 0)
		r = podman_write_file(root, "www/cgi-bin/index.cgi", podman_visit_cgi, 0755);
	if (r == 0)
		r = podman_write_file(root, "www/healthz", "ok\n", 0644);
	if (r == 0)
		r = podman_write_file(root, "etc/passwd", "root:x:0:0:root:/:/bin/sh\n", 0644);
	return r;
}

/* See podman.h. */
int podman_prepare_image(struct podman *pm, const struct options *opts, const char *workdir)
{
	char root[PATH_MAX], tar_path[PATH_MAX];
	if (opts->image)
		return 0; /* the user's, from podman's own storage */
	if (access(PODMAN_BUSYBOX, X_OK) < 0) {
		util_say("claimfs-harness: %s is missing (Debian's busybox-static); the built-in "
			 "image is made from it", PODMAN_BUSYBOX);
		return -ENOENT;
	}
	if (util_format(root, sizeof(root), "%s/image", workdir) < 0 ||
	    util_format(tar_path, sizeof(tar_path), "%s/image.tar", workdir) < 0)
		return -ENAMETOOLONG;
	int r = podman_make_rootfs(root);
	if (r < 0) {
		util_say("claimfs-harness: cannot build the image's files in %s: %s", root, strerror(-r));
		return r;
	}
	const char *const tar[] = { "tar", "-C", root, "-cf", tar_path, ".", NULL };
	pid_t pid = podman_spawn_program("tar", tar, environ, pm->log_path);
	r = pid < 0 ? pid : podman_wait(pid, PODMAN_COMMAND_TIMEOUT_MS);
	const char *const import[] = { "import", "--change", "ENV PATH=/bin", tar_path, pm->image, NULL };
	if (r == 0)
		r = podman_run_command(pm, import, PODMAN_COMMAND_TIMEOUT_MS, NULL);
	pm->own_image = r == 0;
	if (r != 0) {
		util_say("claimfs-harness: cannot import the busybox image (%s); podman said:",
			 r < 0 ? strerror(-r) : "podman import failed");
		util_print_tail(pm->log_path, 10, "  | ");
		return r < 0 ? r : -EPROTO;
	}
	return 0;
}

/* See podman.h. */
int podman_adopt_volumes(struct podman *pm)
{
	const char *const reload[] = { "volume", "reload", NULL };
	int r = podman_run_command(pm, reload, PODMAN_COMMAND_TIMEOUT_MS, NULL);
	if (r != 0) {
		util_say("claimfs-harness: podman volume reload failed; podman said:");
		util_print_tail(pm->log_path, 10, "  | ");
		return r < 0 ? r : -EPROTO;
	}
	return 0;
}

/* Run `podman VERB FLAGS... ITEMS...` (prefixing each item with PREFIX- when
 * PREFIXED); a failure is only reported: cleanup goes on. */
static void podman_remove(struct podman *pm, const char *const *verb, size_t verb_len,
			  const char *const *items, unsigned count, bool prefixed)
{
	const char **args = calloc(verb_len + count + 1, sizeof(*args));
	char **names = calloc(count ? count : 1, sizeof(*names));
	if (!args || !names)
		goto out;
	memcpy(args, verb, verb_len * sizeof(*args));
	for (unsigned i = 0; i < count; i++) {
		if (prefixed ? asprintf(&names[i], "%s-%s", pm->prefix, items[i]) < 0
			     : !(names[i] = strdup(items[i])))
			goto out;
		args[verb_len + i] = names[i];
	}
	int r = podman_run_command(pm, args, PODMAN_COMMAND_TIMEOUT_MS, NULL);
	if (r != 0)
		util_say("claimfs-harness: podman %s %s failed (%s); see %s", verb[0],
			 verb_len > 1 && verb[1][0] != '-' ? verb[1] : "", r < 0 ? strerror(-r) : "exit status",
			 pm->log_path);
out:
	for (unsigned i = 0; names && i < count; i++)
		free(names[i]);
	free(names);
	free(args);
}

/* See podman.h. */
void podman_cleanup(struct podman *pm, const char *const *names, unsigned count,
		    const char *const *volumes, unsigned volume_count)
{
	static const char *const rm[] = { "rm", "--force", "--ignore", "--time", "0" };
	static const char *const volume_rm[] = { "volume", "rm", "--force" };
	if (!pm->envp)
		return;
	if (count)
		podman_remove(pm, rm, UTIL_ARRAY_SIZE(rm), names, count, true);
	if (volume_count)
		podman_remove(pm, volume_rm, UTIL_ARRAY_SIZE(volume_rm), volumes, volume_count, false);
	if (pm->own_image) {
		const char *const rmi[] = { "rmi", "--ignore", pm->image, NULL };
		podman_run_command(pm, rmi, PODMAN_COMMAND_TIMEOUT_MS, NULL);
	}
}
