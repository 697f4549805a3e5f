/*
 * Starting one service instance: the parent's fork and exec.
 *
 * The child gets a clean slate: its own session and process group,
 * default signal dispositions and an empty mask, stdin on /dev/null,
 * stdout and stderr on pipes the engine reads, and no other fd.  A
 * failure before or at exec travels back on a close-on-exec pipe, so
 * the engine learns "no such file" instead of seeing exit 127.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "phpeekd.h"

extern char	**environ;

struct spawn_err {
	int	se_errno;
	char	se_what[64];
};

/*
 * Everything the child needs, worked out by the parent: between clone
 * and exec the child shares the parent's memory and may only make
 * system calls, never allocate or read files.
 */
struct spawn_plan {
	const struct proc_conf	*sp_pc;
	const struct strlist	*sp_argv;
	char			**sp_env;
	uid_t			 sp_uid;
	gid_t			 sp_gid;
	gid_t			*sp_groups;
	int			 sp_ngroups;
	int			 sp_out;
	int			 sp_err;
	int			 sp_errpipe;
	int			 sp_ready;
	int			 sp_null;
};

static int	spawn_child(void *);
static void	spawn_fail(int, const char *) __attribute__((__noreturn__));
static pid_t	spawn_clone(struct spawn_plan *);
static void	spawn_plan_free(struct spawn_plan *);
static int	spawn_plan(const struct proc_conf *, int, int, const char *,
		    struct spawn_plan *, const char **);
static void	spawn_sigdfl(int);
static void	spawn_sigs_scan(void);
static int	spawn_devnull(void);
static int	spawn_ready_channel(const struct proc_conf *, int, int [2],
		    char *, size_t);
static char	**spawn_env(const struct proc_conf *, int, const char *);
static int	 spawn_env_sched(struct strlist *, const struct proc_conf *);
static int	spawn_creds(const struct proc_conf *, uid_t *, gid_t *,
		    const char **);

/*
 * The kernel's struct sigaction: glibc keeps signals 32 and 33 for
 * itself and refuses to touch them, but an ignored one would still be
 * inherited, so those are asked of the kernel directly.
 */
struct ksigaction {
	void		*handler;
	unsigned long	 flags;
	void		*restorer;
	uint64_t	 mask;
};

static void
spawn_sigdfl(int sig)
{
	struct ksigaction	ksa;

	if (sig == SIGKILL || sig == SIGSTOP)
		return;
	memset(&ksa, 0, sizeof(ksa));
	ksa.handler = SIG_DFL;
	(void)syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof(ksa.mask));
}

/*
 * The signals the parent does not leave at their default: libevent's
 * handlers, SIGPIPE ignored, and anything ignored when phpeekd itself
 * was started.  Only these need resetting in the child, where asking
 * about all 64 would cost every spawn 64 system calls.  The parent
 * sets its dispositions once, before it starts anything.
 */
static uint64_t	spawn_sigs;	/* bit n - 1: signal n (not a sigset_t:
				 * glibc's refuses 32 and 33) */
static int	spawn_sigs_known;
static int	spawn_null = -1;	/* kept open for every child */

static void
spawn_sigs_scan(void)
{
	struct ksigaction	ksa;
	int			i;

	spawn_sigs = 0;
	for (i = 1; i < NSIG && i <= 64; i++) {
		/* the kernel's view: glibc hides 32 and 33 */
		if (syscall(SYS_rt_sigaction, i, NULL, &ksa,
		    sizeof(ksa.mask)) == 0 && ksa.handler != SIG_DFL)
			spawn_sigs |= 1ULL << (i - 1);
	}
	spawn_sigs_known = 1;
}

/* Above 2, so that dup2 onto 0, 1 and 2 always makes a copy. */
static int
spawn_devnull(void)
{
	int	fd, hi;

	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    fd > STDERR_FILENO)
		return (fd);
	hi = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
	close(fd);
	return (hi);
}

static void
spawn_fail(int errfd, const char *what)
{
	struct spawn_err	se;

	memset(&se, 0, sizeof(se));
	se.se_errno = errno;
	strlcpy(se.se_what, what, sizeof(se.se_what));
	(void)write(errfd, &se, sizeof(se));
	_exit(127);
}

/* Later entries win: daemon env, then env:, then phpeek-pm's own. */
/*
 * A scheduled run's own variables.  The start time from the precise
 * clock: time(3) reads one that lags by up to a tick, and a run due at
 * a minute's first millisecond would claim the minute before.
 */
static int
spawn_env_sched(struct strlist *sl, const struct proc_conf *pc)
{
	char	*v[3];
	int	 i, rv = 0;

	memset(v, 0, sizeof(v));
	if (asprintf(&v[0], "PHPEEK_PM_PROCESS=%s", pc->pc_name) == -1)
		v[0] = NULL;
	if (asprintf(&v[1], "PHPEEK_PM_SCHEDULE=%s", pc->pc_schedule) == -1)
		v[1] = NULL;
	if (asprintf(&v[2], "PHPEEK_PM_START_TIME=%lld",
	    (long long)(wall_ms() / 1000)) == -1)
		v[2] = NULL;
	if (strlist_add(sl, "PHPEEK_PM_SCHEDULED=true") == -1)
		rv = -1;
	for (i = 0; i < 3; i++) {
		if (v[i] == NULL || strlist_add(sl, v[i]) == -1)
			rv = -1;
		free(v[i]);
	}
	return (rv);
}

static char **
spawn_env(const struct proc_conf *pc, int idx, const char *notify)
{
	struct strlist	 sl;
	char		 buf[CONF_NAME_MAX + 64], inst[CONF_NAME_MAX + 16];
	char		**e;
	size_t		 i, j, klen;
	const char	*extra[5];

	memset(&sl, 0, sizeof(sl));
	snprintf(inst, sizeof(inst), "%s-%d", pc->pc_name, idx);
	extra[0] = "PHPEEK_PM_PROCESS_NAME";
	extra[1] = "PHPEEK_PM_INSTANCE_ID";
	extra[2] = "PHPEEK_SERVICE";
	extra[3] = "PHPEEK_INSTANCE";
	extra[4] = "PHPEEK_PROCESS";
	for (e = environ; e != NULL && *e != NULL; e++) {
		klen = strcspn(*e, "=");
		for (i = 0; i < pc->pc_env.sl_n; i++)
			if (strncmp(pc->pc_env.sl_v[i], *e, klen + 1) == 0)
				break;
		if (i < pc->pc_env.sl_n)
			continue;
		for (j = 0; j < 5; j++)
			if (strlen(extra[j]) == klen &&
			    strncmp(extra[j], *e, klen) == 0)
				break;
		if (j < 5)
			continue;
		if (strlist_add(&sl, *e) == -1)
			goto fail;
	}
	if (strlist_copy(&sl, &pc->pc_env) == -1)
		goto fail;
	for (j = 0; j < 5; j++) {
		snprintf(buf, sizeof(buf), "%s=%s", extra[j],
		    j == 1 || j == 3 ? inst : pc->pc_name);
		if (strlist_add(&sl, buf) == -1)
			goto fail;
	}
	if (notify != NULL) {
		snprintf(buf, sizeof(buf), "NOTIFY_SOCKET=%s", notify);
		if (strlist_add(&sl, buf) == -1)
			goto fail;
	}
	/* what phpeek-pm documents for scheduled runs */
	if (pc->pc_schedule != NULL && spawn_env_sched(&sl, pc) == -1)
		goto fail;
	if (sl.sl_v == NULL)
		goto fail;
	return (sl.sl_v);
 fail:
	strlist_free(&sl);
	return (NULL);
}

/* Resolve user and group in the parent, where errors can be reported. */
static int
spawn_creds(const struct proc_conf *pc, uid_t *uid, gid_t *gid,
    const char **what)
{
	struct passwd	*pw;
	struct group	*gr;
	const char	*errstr;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (pc->pc_user != NULL) {
		*uid = (uid_t)strtonum(pc->pc_user, 0, UINT32_MAX - 1,
		    &errstr);
		if (errstr != NULL) {
			errno = 0;
			if ((pw = getpwnam(pc->pc_user)) == NULL) {
				*what = "unknown user";
				if (errno == 0)
					errno = ENOENT;
				return (-1);
			}
			*uid = pw->pw_uid;
			*gid = pw->pw_gid;
		} else if ((pw = getpwuid(*uid)) != NULL)
			*gid = pw->pw_gid;
		else
			*gid = (gid_t)*uid;
	}
	if (pc->pc_group != NULL) {
		*gid = (gid_t)strtonum(pc->pc_group, 0, UINT32_MAX - 1,
		    &errstr);
		if (errstr != NULL) {
			errno = 0;
			if ((gr = getgrnam(pc->pc_group)) == NULL) {
				*what = "unknown group";
				if (errno == 0)
					errno = ENOENT;
				return (-1);
			}
			*gid = gr->gr_gid;
		}
	}
	return (0);
}

/*
 * The user and group a service runs as, its supplementary groups and
 * its environment: resolved here, in the parent, where a lookup may
 * allocate and an error can be reported.
 */
static int
spawn_plan(const struct proc_conf *pc, int idx, int kind, const char *notify,
    struct spawn_plan *sp, const char **what)
{
	int	n;

	sp->sp_pc = pc;
	sp->sp_argv = kind == SPAWN_HEALTH ? &pc->pc_health.hc_command :
	    &pc->pc_command;
	sp->sp_uid = (uid_t)-1;
	sp->sp_gid = (gid_t)-1;
	/* probes run as the daemon's user, as phpeek-pm's do */
	if (kind != SPAWN_HEALTH && spawn_creds(pc, &sp->sp_uid, &sp->sp_gid,
	    what) == -1)
		return (-1);
	if (sp->sp_gid != (gid_t)-1) {
		/* a named user gets its supplementary groups, else none */
		if (pc->pc_user != NULL && getpwnam(pc->pc_user) != NULL) {
			n = 0;
			(void)getgrouplist(pc->pc_user, sp->sp_gid, NULL, &n);
			if (n < 1)
				n = 1;
			if ((sp->sp_groups = calloc((size_t)n,
			    sizeof(gid_t))) == NULL ||
			    getgrouplist(pc->pc_user, sp->sp_gid,
			    sp->sp_groups, &n) == -1) {
				*what = "initgroups";
				return (-1);
			}
			sp->sp_ngroups = n;
		} else {
			if ((sp->sp_groups = calloc(1, sizeof(gid_t))) == NULL) {
				*what = "setgroups";
				return (-1);
			}
			sp->sp_groups[0] = sp->sp_gid;
			sp->sp_ngroups = 1;
		}
	}
	if ((sp->sp_env = spawn_env(pc, idx, notify)) == NULL) {
		*what = "environment";
		return (-1);
	}
	return (0);
}

static void
spawn_plan_free(struct spawn_plan *sp)
{
	char	**e;

	if (sp->sp_env != NULL) {
		for (e = sp->sp_env; *e != NULL; e++)
			free(*e);
		free(sp->sp_env);
	}
	free(sp->sp_groups);
	sp->sp_env = NULL;
	sp->sp_groups = NULL;
}

/*
 * The child, between clone and exec.  System calls only, and the raw
 * ones for credentials: glibc's wrappers would coordinate threads of a
 * process whose memory this child shares.
 */
static int
spawn_child(void *arg)
{
	struct spawn_plan	*sp = arg;
	const struct proc_conf	*pc = sp->sp_pc;
	struct sigaction	 sa;
	sigset_t		 set;
	int			 i, nullfd, keep, errpipe = sp->sp_errpipe;
	int			 readyfd = sp->sp_ready;

	if (setsid() == -1)
		spawn_fail(errpipe, "setsid");

	/*
	 * Ignored signals and the mask survive exec: reset both, the
	 * handlers first, as they are the parent's and the memory is too.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 1; i < NSIG; i++)
		if ((spawn_sigs & (1ULL << (i - 1))) != 0 &&
		    sigaction(i, &sa, NULL) == -1 && errno == EINVAL)
			spawn_sigdfl(i);
	sigemptyset(&set);
	if (sigprocmask(SIG_SETMASK, &set, NULL) == -1)
		spawn_fail(errpipe, "sigprocmask");

	if ((nullfd = sp->sp_null) == -1)
		spawn_fail(errpipe, "open /dev/null");
	if (dup2(nullfd, STDIN_FILENO) == -1 ||
	    dup2(sp->sp_out != -1 ? sp->sp_out : nullfd, STDOUT_FILENO) ==
	    -1 ||
	    dup2(sp->sp_err != -1 ? sp->sp_err : nullfd, STDERR_FILENO) == -1)
		spawn_fail(errpipe, "dup2");

	if (pc->pc_workdir != NULL && chdir(pc->pc_workdir) == -1)
		spawn_fail(errpipe, "working_dir");
	if (pc->pc_umask != -1)
		umask((mode_t)pc->pc_umask);
	if (sp->sp_gid != (gid_t)-1) {
		if (syscall(SYS_setgroups, sp->sp_ngroups, sp->sp_groups) ==
		    -1)
			spawn_fail(errpipe, "setgroups");
		if (syscall(SYS_setresgid, sp->sp_gid, sp->sp_gid,
		    sp->sp_gid) == -1)
			spawn_fail(errpipe, "setgid");
	}
	if (sp->sp_uid != (uid_t)-1 && syscall(SYS_setresuid, sp->sp_uid,
	    sp->sp_uid, sp->sp_uid) == -1)
		spawn_fail(errpipe, "setuid");
	/* s6-style readiness: the write end on the fd it asked for */
	if (readyfd != -1 && pc->pc_ready == READY_FD) {
		if (readyfd == pc->pc_ready_fd) {
			if (fcntl(readyfd, F_SETFD, 0) == -1)
				spawn_fail(errpipe, "readiness fd");
		} else if (dup2(readyfd, pc->pc_ready_fd) == -1)
			spawn_fail(errpipe, "readiness fd");
	}

	/*
	 * Nothing but 0, 1, 2 (and a readiness fd) may reach the service;
	 * the error pipe closes at exec, which is what tells the parent
	 * the exec worked.
	 */
	keep = readyfd != -1 && pc->pc_ready == READY_FD ? pc->pc_ready_fd :
	    -1;
	if ((keep > STDERR_FILENO + 1 && close_range(STDERR_FILENO + 1,
	    (unsigned)keep - 1, CLOSE_RANGE_CLOEXEC) == -1) ||
	    close_range(keep == -1 ? STDERR_FILENO + 1 : (unsigned)keep + 1,
	    ~0U, CLOSE_RANGE_CLOEXEC) == -1)
		for (i = STDERR_FILENO + 1; i < 4096; i++)
			if (i != keep)
				(void)fcntl(i, F_SETFD, FD_CLOEXEC);
	(void)fcntl(errpipe, F_SETFD, FD_CLOEXEC);
	execvpe(sp->sp_argv->sl_v[0], sp->sp_argv->sl_v, sp->sp_env);
	spawn_fail(errpipe, "exec");
}

/*
 * As posix_spawn does: the child borrows the parent's memory until it
 * execs, so no page tables are copied and no page is copied on write
 * afterwards, which is what made a fork of the parent cost more than
 * the exec.  The parent waits meanwhile, with every signal blocked so
 * that no handler of its runs in the child.  AddressSanitizer cannot
 * follow a child on a borrowed stack: there, a plain fork.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SPAWN_FORK	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPAWN_FORK	1
#endif
#endif

static pid_t
spawn_clone(struct spawn_plan *sp)
{
#ifdef SPAWN_FORK
	pid_t		 pid;

	if ((pid = fork()) == 0)
		spawn_child(sp);
	return (pid);
#else
	static char	 stack[64 * 1024] __attribute__((aligned(16)));
	sigset_t	 all, old;
	pid_t		 pid;
	int		 saved;

	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, &old) == -1)
		return (-1);
	pid = clone(spawn_child, stack + sizeof(stack),
	    CLONE_VM | CLONE_VFORK | SIGCHLD, sp);
	saved = errno;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return (pid);
#endif
}

/*
 * The channel on which a service says it is ready: an abstract
 * datagram socket named in NOTIFY_SOCKET for sd_notify, or a pipe whose
 * write end the service gets on the fd it asked for (s6).  rd[0] is
 * the engine's end; rd[1] the service's (-1 for sd_notify, which
 * connects by name).
 */
static int
spawn_ready_channel(const struct proc_conf *pc, int idx, int rd[2],
    char *notify, size_t len)
{
	static uint32_t		 seq;
	struct sockaddr_un	 sun;
	socklen_t		 slen;
	int			 n;

	if (pc->pc_ready == READY_FD)
		return (pipe2(rd, O_CLOEXEC));
	if ((rd[0] = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return (-1);
	n = snprintf(notify, len, "@phpeekd/%d/%s-%d/%u", (int)getpid(),
	    pc->pc_name, idx, ++seq);
	if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(sun.sun_path)) {
		close(rd[0]);
		rd[0] = -1;
		errno = ENAMETOOLONG;
		return (-1);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	/* abstract: a leading NUL, no file to clean up */
	memcpy(sun.sun_path + 1, notify + 1, (size_t)n - 1);
	slen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (bind(rd[0], (struct sockaddr *)&sun, slen) == -1) {
		close(rd[0]);
		rd[0] = -1;
		return (-1);
	}
	return (0);
}

/*
 * Start instance idx of pc.  On success sr has the pid and the read
 * ends of the output pipes (close-on-exec); on failure sr_errno and
 * sr_what say what went wrong and no child is left behind.
 */
int
spawn_instance(const struct proc_conf *pc, int idx, int kind,
    struct spawn_result *sr)
{
	const struct strlist	*argv = kind == SPAWN_HEALTH ?
				    &pc->pc_health.hc_command : &pc->pc_command;
	struct spawn_err	 se;
	int			 out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int			 ep[2] = { -1, -1 }, rd[2] = { -1, -1 }, status;
	char			 notify[108] = "";
	struct spawn_plan	 plan;
	const char		*what = "credentials";
	ssize_t			 n;
	pid_t			 pid;

	memset(&plan, 0, sizeof(plan));
	memset(sr, 0, sizeof(*sr));
	sr->sr_out = sr->sr_err = sr->sr_notify = -1;
	if (argv->sl_n == 0) {
		sr->sr_errno = EINVAL;
		strlcpy(sr->sr_what, "empty command", sizeof(sr->sr_what));
		return (-1);
	}
	/* a probe's output is discarded */
	if ((kind == SPAWN_INSTANCE && (pipe2(out, O_CLOEXEC) == -1 ||
	    pipe2(err, O_CLOEXEC) == -1)) || pipe2(ep, O_CLOEXEC) == -1) {
		sr->sr_errno = errno;
		strlcpy(sr->sr_what, "pipe", sizeof(sr->sr_what));
		goto fail;
	}
	if (kind == SPAWN_INSTANCE && pc->pc_ready != READY_NONE &&
	    spawn_ready_channel(pc, idx, rd, notify, sizeof(notify)) == -1) {
		sr->sr_errno = errno;
		strlcpy(sr->sr_what, "readiness channel", sizeof(sr->sr_what));
		goto fail;
	}
	if (spawn_plan(pc, idx, kind, notify[0] != '\0' ? notify : NULL,
	    &plan, &what) == -1) {
		sr->sr_errno = errno != 0 ? errno : EINVAL;
		strlcpy(sr->sr_what, what, sizeof(sr->sr_what));
		goto fail;
	}
	/* once: the dispositions are set, /dev/null stays where it is */
	if (!spawn_sigs_known)
		spawn_sigs_scan();
	if (spawn_null == -1)
		spawn_null = spawn_devnull();
	plan.sp_null = spawn_null;
	plan.sp_out = out[1];
	plan.sp_err = err[1];
	plan.sp_errpipe = ep[1];
	plan.sp_ready = rd[1];
	if ((pid = spawn_clone(&plan)) == -1) {
		sr->sr_errno = errno;
		strlcpy(sr->sr_what, "fork", sizeof(sr->sr_what));
		goto fail;
	}
	spawn_plan_free(&plan);
	if (out[1] != -1)
		close(out[1]);
	if (err[1] != -1)
		close(err[1]);
	if (rd[1] != -1)
		close(rd[1]);
	close(ep[1]);
	out[1] = err[1] = ep[1] = rd[1] = -1;

	/* EOF: exec happened and closed the pipe; data: it failed */
	do {
		n = read(ep[0], &se, sizeof(se));
	} while (n == -1 && errno == EINTR);
	close(ep[0]);
	ep[0] = -1;
	if (n == (ssize_t)sizeof(se)) {
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		sr->sr_errno = se.se_errno;
		se.se_what[sizeof(se.se_what) - 1] = '\0';
		strlcpy(sr->sr_what, se.se_what, sizeof(sr->sr_what));
		goto fail;
	}
	sr->sr_pid = pid;
	sr->sr_out = out[0];
	sr->sr_err = err[0];
	sr->sr_notify = rd[0];
	return (0);
 fail:
	spawn_plan_free(&plan);
	if (rd[0] != -1)
		close(rd[0]);
	if (rd[1] != -1)
		close(rd[1]);
	if (out[0] != -1)
		close(out[0]);
	if (out[1] != -1)
		close(out[1]);
	if (err[0] != -1)
		close(err[0]);
	if (err[1] != -1)
		close(err[1]);
	if (ep[0] != -1)
		close(ep[0]);
	if (ep[1] != -1)
		close(ep[1]);
	return (-1);
}
