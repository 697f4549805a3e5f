/*
 * Restrictions every role puts on itself before it reads its first
 * message: resource limits, no_new_privs, and a seccomp allow-list
 * whose default action kills the whole process.
 *
 * With -vv a role traps violations instead and logs the name of the
 * syscall before it dies, so a missing entry shows in one run.
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "phpeekd.h"

const char	*sandbox_api_user = "nobody";

/* Every role: the event loop, imsg, memory, time, exit. */
static const char *const sandbox_base[] = {
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl",
	"read", "readv", "write", "writev", "recvmsg", "sendmsg",
	"recvfrom", "sendto", "close", "fstat", "newfstatat", "lseek",
	"rt_sigreturn", "rt_sigprocmask", "restart_syscall",
	"clock_gettime", "clock_gettime64", "gettimeofday",
	"clock_nanosleep", "clock_nanosleep_time64", "nanosleep",
	"brk", "munmap", "mremap", "madvise",
	"exit_group", "exit", "getpid", "gettid", "getppid", "getuid",
	"geteuid", "getgid", "getegid", "getrandom",
	"futex", "futex_time64", "tgkill",
	"sysinfo",	/* glibc's qsort asks how much memory there is */
	"sigaltstack",	/* AddressSanitizer drops its signal stack at exit */
};

/*
 * The engine also reads /proc, sets its log pipes non-blocking, and
 * runs tcp and http health checks and heartbeats (libcurl: sockets,
 * poll, a wakeup socketpair, and threads for name lookups).
 */
static const char *const sandbox_engine[] = {
	"fcntl", "openat", "getdents64", "pipe2", "connect",
	"getsockopt", "setsockopt", "getsockname", "getpeername", "poll",
	"ppoll", "socketpair", "set_robust_list", "rseq", "uname",
	"sched_getaffinity", "sysinfo", "eventfd2",
	/* libevent's precise timers are a timerfd under epoll */
	"timerfd_settime", "timerfd_settime64", "timerfd_gettime",
	"timerfd_gettime64",
};

/* The api serves HTTP on sockets the parent bound for it. */
static const char *const sandbox_api[] = {
	"accept", "accept4", "getsockname", "getpeername", "setsockopt",
	"getsockopt", "shutdown", "fcntl",
};

static const char *const *sandbox_extra[PROC_MAX] = {
	NULL, NULL, sandbox_engine, sandbox_api
};
static const size_t sandbox_nextra[PROC_MAX] = {
	0, 0, sizeof(sandbox_engine) / sizeof(sandbox_engine[0]),
	sizeof(sandbox_api) / sizeof(sandbox_api[0])
};

static void	sandbox_rlimit(int, rlim_t);
static void	sandbox_caps(uint64_t);
static void	sandbox_bounding(uint64_t);
static void	sandbox_drop_user(const char *);
static void	sandbox_allow(scmp_filter_ctx, const char *);
static void	sandbox_sigsys(int, siginfo_t *, void *);

static void
sandbox_rlimit(int resource, rlim_t value)
{
	struct rlimit	rl;

	rl.rlim_cur = rl.rlim_max = value;
	if (setrlimit(resource, &rl) == -1)
		fatal("setrlimit %d", resource);
}

static void
sandbox_allow(scmp_filter_ctx ctx, const char *name)
{
	int	nr, rv;

	/* names unknown on this arch resolve negative and are skipped */
	if ((nr = seccomp_syscall_resolve_name(name)) == __NR_SCMP_ERROR)
		fatalx("seccomp: unknown syscall %s", name);
	if ((rv = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) < 0)
		fatalx("seccomp: %s: %s", name, strerror(-rv));
}

/* Debug only: say which syscall was refused, then die of it. */
static void
sandbox_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char	 buf[160], *name;
	int	 n;

	name = seccomp_syscall_resolve_num_arch(si->si_arch, si->si_syscall);
	n = snprintf(buf, sizeof(buf), "phpeekd: sandbox violation in %s: "
	    "syscall %d (%s)\n", proc_titles[privsep->ps_id], si->si_syscall,
	    name != NULL ? name : "?");
	if (n > 0)
		(void)write(STDERR_FILENO, buf, (size_t)n);
	signal(SIGSYS, SIG_DFL);
	raise(SIGSYS);
	_exit(128 + SIGSYS);
}

/*
 * Keep only the capabilities in keep (a bit per CAP_*), in every set,
 * the bounding set included, so nothing can get the others back.
 */
static void
sandbox_bounding(uint64_t keep)
{
	int	cap;

	for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (!(keep & (1ULL << cap)) &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1)
			fatal("PR_CAPBSET_DROP %d", cap);
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

static void
sandbox_caps(uint64_t keep)
{
	struct __user_cap_header_struct	hdr;
	struct __user_cap_data_struct	data[2];

	if (geteuid() != 0)
		return;		/* nothing to drop */
	sandbox_bounding(keep);
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &hdr, data) == -1)
		fatal("capset");
}

/*
 * The api speaks to the network: it runs as an unprivileged user in an
 * empty directory.  Without root (a rootless container) it cannot
 * switch and says so once.
 */
static void
sandbox_drop_user(const char *user)
{
	struct passwd	*pw;
	struct stat	 st;
	const char	*dir = "/run/phpeekd-empty";
	uid_t		 uid, ruid, euid, suid;
	gid_t		 gid;
	const char	*errstr;

	if (geteuid() != 0) {
		log_warnx("not root: the api keeps uid %d", (int)geteuid());
		return;
	}
	/* a numeric id needs no passwd entry: minimal images lack one */
	uid = (uid_t)strtonum(user, 1, UINT32_MAX - 1, &errstr);
	if (errstr == NULL)
		gid = (gid_t)uid;
	else if ((pw = getpwnam(user)) != NULL) {
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	} else {
		log_warnx("api user %s unknown: using 65534", user);
		uid = gid = 65534;
	}
	if (mkdir(dir, 0555) == -1 && errno != EEXIST &&
	    (dir = "/tmp/phpeekd-empty", mkdir(dir, 0555)) == -1 &&
	    errno != EEXIST)
		fatal("mkdir %s", dir);
	if (lstat(dir, &st) == -1 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 0222) != 0)
		fatalx("%s: not a root-owned read-only directory", dir);
	if (chroot(dir) == -1 || chdir("/") == -1)
		fatal("chroot %s", dir);
	/*
	 * The bounding set only limits what an exec could gain; the
	 * effective set still holds CAP_SETUID for the switch below.
	 */
	sandbox_bounding(0);
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		fatal("cannot drop privileges to %u:%u", uid, gid);
	if (getresuid(&ruid, &euid, &suid) == -1 || ruid != uid ||
	    euid != uid || suid != uid || setuid(0) != -1)
		fatalx("privileges were not dropped");
	/* a change of credentials clears the parent-death signal */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		fatal("PR_SET_PDEATHSIG");
}

#ifdef PHPEEKD_REGRESS
/*
 * Regress builds only: try what the sandbox forbids, so a test can see
 * the kill, the log line and the restart.
 */
const char	*sandbox_violate;

static void
sandbox_regress_violate(void)
{
	struct sockaddr_in	sin;
	int			fd;

	if (sandbox_violate == NULL)
		return;
	log_info("regress: attempting %s", sandbox_violate);
	if (strcmp(sandbox_violate, "execve") == 0)
		execl("/bin/true", "true", (char *)NULL);
	else if (strcmp(sandbox_violate, "fork") == 0) {
		if (fork() == 0)
			_exit(0);
	} else if (strcmp(sandbox_violate, "garbage") == 0) {
		/* a message type the parent does not take from anyone */
		proc_compose(privsep, PROC_PARENT, 0xdead, 0, -1, "junk", 4);
		return;
	}
	else if (strcmp(sandbox_violate, "open") == 0)
		(void)open("/etc/passwd", O_RDONLY);
	else if (strcmp(sandbox_violate, "connect") == 0 &&
	    (fd = socket(AF_INET, SOCK_STREAM, 0)) != -1) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(9);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		(void)connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	}
	log_warnx("regress: %s was allowed", sandbox_violate);
}
#endif

void
sandbox_role(enum privsep_procid id)
{
	struct sigaction	 sa;
	scmp_filter_ctx		 ctx;
	uint32_t		 action = SCMP_ACT_KILL_PROCESS;
	size_t			 i;
	int			 rv;

	sandbox_rlimit(RLIMIT_CORE, 0);
	/*
	 * No RLIMIT_FSIZE: stderr, where every role logs, may be a
	 * regular file, and writing past the limit would kill the role.
	 * seccomp keeps roles from opening files instead.
	 */
	if (id == PROC_CONFIG)
		sandbox_rlimit(RLIMIT_NPROC, 0);
	switch (id) {
	case PROC_API:
		sandbox_drop_user(sandbox_api_user);
		break;
	case PROC_ENGINE:
		/* only to read /proc of services that run as other users */
		sandbox_caps(1ULL << CAP_SYS_PTRACE);
		break;
	default:
		sandbox_caps(0);
		break;
	}
	/* nothing a role runs may gain privileges through exec */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl PR_SET_NO_NEW_PRIVS");

	if (log_getverbose() >= LOG_LVL_DEBUG + 1) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = sandbox_sigsys;
		sa.sa_flags = SA_SIGINFO;
		if (sigaction(SIGSYS, &sa, NULL) == -1)
			fatal("sigaction SIGSYS");
		action = SCMP_ACT_TRAP;
	}
	if ((ctx = seccomp_init(action)) == NULL)
		fatalx("seccomp_init");
	for (i = 0; i < sizeof(sandbox_base) / sizeof(sandbox_base[0]); i++)
		sandbox_allow(ctx, sandbox_base[i]);
	for (i = 0; i < sandbox_nextra[id]; i++)
		sandbox_allow(ctx, sandbox_extra[id][i]);

	/* memory may never become executable */
	if ((rv = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0 ||
	    (rv = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0)
		fatalx("seccomp: mmap: %s", strerror(-rv));
	/*
	 * Threads only (libcurl's resolver): clone with CLONE_THREAD.
	 * clone3 hides its flags in memory, so it answers ENOSYS and
	 * glibc falls back to clone.
	 */
	if (id == PROC_ENGINE &&
	    ((rv = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD))) < 0 ||
	    (rv = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
	    SCMP_SYS(clone3), 0)) < 0))
		fatalx("seccomp: clone: %s", strerror(-rv));
	/* the engine's sockets: IP for checks, Unix for libcurl's wakeup */
	if (id == PROC_ENGINE &&
	    ((rv = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_INET))) < 0 ||
	    (rv = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_INET6))) < 0 ||
	    (rv = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX))) < 0))
		fatalx("seccomp: socket: %s", strerror(-rv));
	/* stdio's first write asks whether stderr is a terminal */
	if ((rv = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, TCGETS))) < 0)
		fatalx("seccomp: ioctl: %s", strerror(-rv));
	/* libevent sizes socket reads with FIONREAD; libcurl may FIONBIO */
	if (id != PROC_CONFIG &&
	    ((rv = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, FIONREAD))) < 0 ||
	    (rv = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, FIONBIO))) < 0))
		fatalx("seccomp: ioctl: %s", strerror(-rv));
	if ((rv = seccomp_load(ctx)) < 0)
		fatalx("seccomp_load: %s", strerror(-rv));
	seccomp_release(ctx);
	log_debug("sandboxed: seccomp %s", action == SCMP_ACT_TRAP ?
	    "trap (debug)" : "kill");
#ifdef PHPEEKD_REGRESS
	sandbox_regress_violate();
#endif
}
