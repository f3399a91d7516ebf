/*
 * pod_sandbox.c — the inside of a pod: mount namespace set-up and the pod's
 * init (see pod.h).
 *
 * The plan (which mounts to make) is computed in the harness with ordinary
 * library calls; everything that runs in the cloned child uses only system
 * calls and the string helpers below — no malloc, no stdio — because the
 * harness is multi-threaded when it clones.
 *
 * Mount plan, all inside the pod's private (MS_REC|MS_PRIVATE) namespace, so
 * nothing ever appears on the host:
 *  DIRECT       the mount path exists: bind the claim onto it.
 *  SHADOW_MOVE  it does not; its deepest existing ancestor A is not "/":
 *               mount a tmpfs on the staging dir, mirror A's entries into it
 *               (directories rbind-mounted, symlinks copied, files bound),
 *               create the missing components, bind the claim there, and
 *               MS_MOVE the tmpfs onto A.
 *  SHADOW_ROOT  as above with A = "/": chroot into the mirror instead.
 * Before any of these: the pod's hosts file is bound onto /etc/hosts (so
 * the mirrors above carry it too) and its UTS namespace gets the pod's
 * name as host name.
 */
#include "pod.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Code that runs in the cloned child lives on a stack ASan does not know
 * (and exits through _exit/execve): keep the instrumentation out of it. */
#define POD_CHILD __attribute__((no_sanitize("address")))

enum pod_mount_mode { POD_MOUNT_DIRECT, POD_MOUNT_SHADOW_MOVE, POD_MOUNT_SHADOW_ROOT };

struct pod_sandbox {
	enum pod_mount_mode mode;
	char claim[PATH_MAX];
	char target[PATH_MAX];
	char anchor[PATH_MAX];  /* deepest existing ancestor (shadow modes) */
	char missing[PATH_MAX]; /* target relative to anchor (shadow modes) */
	char staging[PATH_MAX];
	char cwd[PATH_MAX];
	char hostname[HOST_NAME_MAX + 1]; /* "" : keep */
	char hosts[PATH_MAX];             /* "" : keep /etc/hosts */
	char *const *argv;
	char *const *envp;
	int log_fd;
	/* scratch space for the child */
	char src[PATH_MAX], dst[PATH_MAX], link[PATH_MAX];
	char dents[16384] __attribute__((aligned(8)));
};

/* strlen-bounded concatenation A + "/" + B into DST (no malloc). */
POD_CHILD static int pod_join(char *dst, size_t cap, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la == 1 && a[0] == '/')
		la = 0;
	if (la + 1 + lb + 1 > cap)
		return -ENAMETOOLONG;
	memcpy(dst, a, la);
	dst[la] = '/';
	memcpy(dst + la + 1, b, lb + 1);
	return 0;
}

/* Write "pod: WHAT PATH: ERRNAME" to the pod log (async-signal-safe). */
POD_CHILD static void pod_complain(const struct pod_sandbox *sb, const char *what, const char *path, int err)
{
	const char *name = strerrorname_np(err);
	const char *parts[] = { "claimfs-harness pod: ", what, " ", path ? path : "", ": ",
				name ? name : "error", "\n" };
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (write(sb->log_fd, parts[i], strlen(parts[i])) < 0)
			return;
	}
}

/* Plan the mounts for SPEC (harness side, may allocate). */
int pod_sandbox_plan(struct pod_sandbox **ret_sandbox, const struct pod_spec *spec, int log_fd)
{
	struct pod_sandbox *sb = calloc(1, sizeof(*sb));
	struct stat st;
	int r = -ENAMETOOLONG;
	if (!sb)
		return -ENOMEM;
	sb->argv = spec->argv;
	sb->envp = spec->envp;
	sb->log_fd = log_fd;
	if (!spec->namespaced) {
		*ret_sandbox = sb;
		return 0;
	}
	if (strlen(spec->cwd) >= PATH_MAX || strlen(spec->claim_path) >= PATH_MAX ||
	    strlen(spec->mount_path) >= PATH_MAX || strlen(spec->staging_dir) >= PATH_MAX ||
	    (spec->hostname && strlen(spec->hostname) > HOST_NAME_MAX) ||
	    (spec->hosts_file && strlen(spec->hosts_file) >= PATH_MAX))
		goto fail;
	if (spec->hostname)
		strcpy(sb->hostname, spec->hostname);
	if (spec->hosts_file)
		strcpy(sb->hosts, spec->hosts_file);
	strcpy(sb->cwd, spec->cwd);
	strcpy(sb->claim, spec->claim_path);
	strcpy(sb->target, spec->mount_path);
	strcpy(sb->staging, spec->staging_dir);
	if (stat(sb->target, &st) == 0) {
		r = -ENOTDIR;
		if (!S_ISDIR(st.st_mode))
			goto fail;
		sb->mode = POD_MOUNT_DIRECT;
		*ret_sandbox = sb;
		return 0;
	}
	/* Walk up to the deepest existing ancestor. */
	strcpy(sb->anchor, sb->target);
	for (;;) {
		char *slash = strrchr(sb->anchor, '/');
		if (slash == sb->anchor) {
			sb->anchor[1] = '\0';
			break;
		}
		*slash = '\0';
		if (stat(sb->anchor, &st) == 0) {
			r = -ENOTDIR;
			if (!S_ISDIR(st.st_mode))
				goto fail;
			break;
		}
	}
	size_t skip = strcmp(sb->anchor, "/") == 0 ? 1 : strlen(sb->anchor) + 1;
	strcpy(sb->missing, sb->target + skip);
	sb->mode = strcmp(sb->anchor, "/") == 0 ? POD_MOUNT_SHADOW_ROOT : POD_MOUNT_SHADOW_MOVE;
	*ret_sandbox = sb;
	return 0;
fail:
	free(sb);
	return r;
}

/* Free a plan (harness side). */
void pod_sandbox_free(struct pod_sandbox *sandbox)
{
	free(sandbox);
}

/* Mirror ANCHOR/NAME into STAGING/NAME. Failures of individual entries are
 * logged and tolerated (the app rarely needs every top-level entry). */
POD_CHILD static void pod_sandbox_mirror(struct pod_sandbox *sb, const char *name, unsigned char type)
{
	if (pod_join(sb->src, sizeof(sb->src), sb->anchor, name) < 0 ||
	    pod_join(sb->dst, sizeof(sb->dst), sb->staging, name) < 0)
		return;
	if (type == DT_UNKNOWN) {
		struct stat st;
		if (lstat(sb->src, &st) < 0)
			return;
		type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : DT_REG;
	}
	if (type == DT_LNK) {
		ssize_t n = readlink(sb->src, sb->link, sizeof(sb->link) - 1);
		if (n < 0)
			return;
		sb->link[n] = '\0';
		if (symlink(sb->link, sb->dst) < 0)
			pod_complain(sb, "symlink", sb->dst, errno);
		return;
	}
	if (type == DT_DIR) {
		if (mkdir(sb->dst, 0755) < 0)
			return;
	} else {
		int fd = open(sb->dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return;
		close(fd);
	}
	if (mount(sb->src, sb->dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		pod_complain(sb, "bind", sb->src, errno);
}

/* mkdir -p STAGING/MISSING into sb->dst. */
POD_CHILD static int pod_sandbox_make_missing(struct pod_sandbox *sb)
{
	if (pod_join(sb->dst, sizeof(sb->dst), sb->staging, sb->missing) < 0)
		return -ENAMETOOLONG;
	size_t start = strlen(sb->staging) + 1;
	for (size_t i = start;; i++) {
		char c = sb->dst[i];
		if (c == '/' || c == '\0') {
			sb->dst[i] = '\0';
			if (mkdir(sb->dst, 0755) < 0 && errno != EEXIST)
				return -errno;
			sb->dst[i] = c;
			if (c == '\0')
				return 0;
		}
	}
}

/* Build the shadow of the anchor with the claim at the mount path. */
POD_CHILD static int pod_sandbox_shadow(struct pod_sandbox *sb)
{
	if (mount("tmpfs", sb->staging, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=4m") < 0) {
		pod_complain(sb, "tmpfs on", sb->staging, errno);
		return -1;
	}
	int dfd = open(sb->anchor, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		pod_complain(sb, "open", sb->anchor, errno);
		return -1;
	}
	for (;;) {
		ssize_t n = getdents64(dfd, sb->dents, sizeof(sb->dents));
		if (n <= 0)
			break;
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(void *)(sb->dents + off);
			off += d->d_reclen;
			if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
				continue;
			pod_sandbox_mirror(sb, d->d_name, d->d_type);
		}
	}
	close(dfd);
	int r = pod_sandbox_make_missing(sb);
	if (r < 0) {
		pod_complain(sb, "mkdir", sb->dst, -r);
		return -1;
	}
	if (mount(sb->claim, sb->dst, NULL, MS_BIND, NULL) < 0) {
		pod_complain(sb, "bind claim", sb->claim, errno);
		return -1;
	}
	if (sb->mode == POD_MOUNT_SHADOW_ROOT) {
		if (chdir(sb->staging) < 0 || chroot(".") < 0) {
			pod_complain(sb, "chroot", sb->staging, errno);
			return -1;
		}
	} else if (mount(sb->staging, sb->anchor, NULL, MS_MOVE, NULL) < 0) {
		pod_complain(sb, "move mirror onto", sb->anchor, errno);
		return -1;
	}
	return 0;
}

/* See pod.h: stdio, signals, fds, then exec. Runs in the app's process. */
POD_CHILD void pod_sandbox_exec_app(const struct pod_sandbox *sb)
{
	int null_fd = open("/dev/null", O_RDONLY);
	if (null_fd >= 0)
		dup2(null_fd, STDIN_FILENO);
	dup2(sb->log_fd, STDOUT_FILENO);
	dup2(sb->log_fd, STDERR_FILENO);
	const int sigs[] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	close_range(3, ~0u, 0);
	execve(sb->argv[0], sb->argv, sb->envp);
	int err = errno;
	const char msg[] = "claimfs-harness pod: cannot execute the app: ";
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) >= 0) {
		const char *name = strerrorname_np(err);
		if (write(STDERR_FILENO, name ? name : "?", strlen(name ? name : "?")) >= 0 &&
		    write(STDERR_FILENO, "\n", 1) >= 0)
			_exit(127);
	}
	_exit(127);
}

/* Exit code that mirrors a wait status. */
POD_CHILD static int pod_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* Be the pod's init: run the app, forward termination signals to its
 * process group, reap orphans, exit with the app's status. */
POD_CHILD static int pod_sandbox_init(struct pod_sandbox *sb)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* Not fork(): glibc's fork takes its malloc and stdio locks first, and
	 * a lock another harness thread held at clone() time stays locked in
	 * this copy forever (seen: the pod hung in futex_wait). The raw system
	 * call takes no lock; the child only calls system calls until execve. */
	pid_t app = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, 0UL);
	if (app < 0) {
		pod_complain(sb, "fork", NULL, errno);
		return 126;
	}
	if (app == 0) {
		setpgid(0, 0);
		pod_sandbox_exec_app(sb);
	}
	for (;;) {
		siginfo_t info;
		int sig = sigwaitinfo(&set, &info);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(-app, sig);
			continue;
		}
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid == app)
				return pod_exit_code(status);
		}
	}
}

/* See pod.h: the clone() entry point of a namespaced pod. */
POD_CHILD int pod_sandbox_main(void *arg)
{
	struct pod_sandbox *sb = arg;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setsid();
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		pod_complain(sb, "make / private", NULL, errno);
		_exit(125);
	}
	if (sb->hosts[0] && mount(sb->hosts, "/etc/hosts", NULL, MS_BIND, NULL) < 0) {
		pod_complain(sb, "bind onto /etc/hosts", sb->hosts, errno);
		_exit(125);
	}
	if (sb->hostname[0] && sethostname(sb->hostname, strlen(sb->hostname)) < 0) {
		pod_complain(sb, "sethostname", sb->hostname, errno);
		_exit(125);
	}
	if (sb->mode == POD_MOUNT_DIRECT) {
		if (mount(sb->claim, sb->target, NULL, MS_BIND, NULL) < 0) {
			pod_complain(sb, "bind claim", sb->claim, errno);
			_exit(125);
		}
	} else if (pod_sandbox_shadow(sb) < 0) {
		_exit(125);
	}
	if (chdir(sb->cwd) < 0 && chdir("/") < 0)
		_exit(125);
	_exit(pod_sandbox_init(sb));
}
