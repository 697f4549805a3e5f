/*
 * probe: the measuring end of regress/bench/bench.sh, and the service
 * it has every supervisor run.
 *
 * A service started by the supervisor under test sends one datagram to
 * the probe's socket the moment its main() runs: its CLOCK_MONOTONIC
 * time.  The probe's socket asks for SO_PASSCRED, so the kernel adds
 * the sender's pid as seen from the probe's PID namespace, which is
 * what the probe needs to kill it from outside.  Every figure is
 * therefore taken from events, not from polling /proc.
 *
 *	probe svc SOCK [noterm]		the service; noterm ignores SIGTERM
 *	probe orphans SOCK N		make N orphans, release them at
 *					once, report how long reaping took
 *	probe start SOCK N -- cmd...	ms until N services have started
 *	probe restart SOCK K -- cmd...	median ms from SIGKILL of the
 *					service until its replacement runs
 *	probe reap SOCK -- cmd...	the orphans' report
 *	probe stop SOCK T -- cmd...	ms past the stop timeout T (ms)
 *					until a service ignoring SIGTERM
 *					is gone, after SIGTERM to the init
 *	probe floor SOCK -- cmd...	the least a supervisor can do: run
 *					cmd with posix_spawn and, the moment
 *					it ends, again; the restart figure
 *					under it is the machine's floor
 *
 * The measuring modes run cmd (an unshare of the supervisor) and print
 * their figure and cmd's pid, which the script uses to clean up.
 */

#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <spawn.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char	**environ;

#define __dead	__attribute__((__noreturn__))

struct report {
	pid_t		 pid;
	int64_t		 ns;
	char		 text[128];
};

static int64_t
now_ns(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(1, "clock_gettime");
	return ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

static void
sock_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		errx(1, "%s: path too long", path);
	memcpy(sun->sun_path, path, strlen(path) + 1);
}

/* Send text to the probe; a probe that is gone is not the service's
 * problem. */
static void
tell(const char *path, const char *text)
{
	struct sockaddr_un	sun;
	int			s;

	sock_addr(path, &sun);
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	(void)sendto(s, text, strlen(text), 0, (struct sockaddr *)&sun,
	    sizeof(sun));
	close(s);
}

static __dead void
svc(const char *path, int noterm)
{
	char	buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, now_ns());
	tell(path, buf);
	if (noterm)
		signal(SIGTERM, SIG_IGN);
	for (;;)
		pause();
}

/*
 * N grandchildren block on a pipe; their parents exit at once, so they
 * are orphans of the namespace's init.  Closing the pipe releases them
 * together.  A pidfd of each, in epoll, tells the moment it has exited
 * and is a zombie, without a busy loop competing with the init for the
 * CPU; after the last, kill(pid, 0) finds each gone (a zombie still
 * answers) when the init has reaped them all.
 */
static __dead void
orphans(const char *path, int n)
{
	struct epoll_event	 ev, evs[64];
	struct rlimit		 rl;
	volatile pid_t		*pids;
	char			 buf[128], c;
	int64_t			 t0, tgone, last = 0;
	int			 p[2], i, k, st, ep, fd, left = n;
	pid_t			 pid;

	if ((pids = mmap(NULL, sizeof(*pids) * (size_t)n, PROT_READ |
	    PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		err(1, "mmap");
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (pipe(p) == -1 || (ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "pipe");
	for (i = 0; i < n; i++) {
		switch (pid = fork()) {
		case -1:
			err(1, "fork");
		case 0:
			if (fork() == 0) {
				close(p[1]);
				pids[i] = getpid();
				while (read(p[0], &c, 1) == -1 &&
				    errno == EINTR)
					;
				_exit(0);
			}
			_exit(0);
		}
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
	}
	close(p[0]);
	for (i = 0; i < n; i++) {
		while (pids[i] == 0)
			sched_yield();
		if ((fd = (int)syscall(SYS_pidfd_open, pids[i], 0)) == -1)
			err(1, "pidfd_open");
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
			err(1, "epoll_ctl");
	}
	t0 = now_ns();
	close(p[1]);
	while (left > 0) {
		if ((k = epoll_wait(ep, evs, 64, -1)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "epoll_wait");
		}
		last = now_ns();
		for (i = 0; i < k; i++) {
			(void)epoll_ctl(ep, EPOLL_CTL_DEL, evs[i].data.fd, NULL);
			close(evs[i].data.fd);
			left--;
		}
	}
	for (i = 0; i < n; i++)
		while (kill(pids[i], 0) == 0)
			;
	tgone = now_ns();
	snprintf(buf, sizeof(buf), "%.2f %.3f", (tgone - t0) / 1e6,
	    (tgone - last) / 1e6);
	tell(path, buf);
	_exit(0);
}

static int
bind_probe(const char *path)
{
	struct sockaddr_un	sun;
	int			s, on = 1;

	sock_addr(path, &sun);
	(void)unlink(path);
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (setsockopt(s, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == -1)
		err(1, "SO_PASSCRED");
	if (bind(s, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(1, "bind %s", path);
	/* everyone in every namespace may send */
	(void)chmod(path, 0666);
	return (s);
}

/* The next report, or -1 after ms milliseconds. */
static int
next_report(int s, int ms, struct report *r)
{
	struct pollfd	 pfd = { s, POLLIN, 0 };
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	struct ucred	 uc;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(struct ucred))];
	} cmsgbuf;
	ssize_t		 n;

	for (;;) {
		switch (poll(&pfd, 1, ms)) {
		case -1:
			if (errno == EINTR)
				continue;
			err(1, "poll");
		case 0:
			return (-1);
		}
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = r->text;
		iov.iov_len = sizeof(r->text) - 1;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		if ((n = recvmsg(s, &msg, 0)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "recvmsg");
		}
		r->text[n] = '\0';
		r->pid = -1;
		for (cm = CMSG_FIRSTHDR(&msg); cm != NULL;
		    cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_CREDENTIALS) {
				memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
				r->pid = uc.pid;
			}
		r->ns = strtoll(r->text, NULL, 10);
		return (0);
	}
}

static pid_t
run(char **argv)
{
	pid_t	pid;

	switch (pid = fork()) {
	case -1:
		err(1, "fork");
	case 0:
		/* the figures alone on stdout, for $(...) to end */
		if (dup2(STDERR_FILENO, STDOUT_FILENO) == -1)
			err(127, "dup2");
		execvp(argv[0], argv);
		err(127, "%s", argv[0]);
	}
	return (pid);
}

/* The namespace's init: the only child of unshare --fork. */
static pid_t
init_of(pid_t unshare)
{
	char	path[64];
	FILE	*f;
	long	pid = -1;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
	    (int)unshare, (int)unshare);
	for (;;) {
		if ((f = fopen(path, "r")) != NULL) {
			if (fscanf(f, "%ld", &pid) != 1)
				pid = -1;
			fclose(f);
		}
		if (pid > 0)
			return ((pid_t)pid);
		sched_yield();
	}
}

static int
cmp64(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x < y ? -1 : x > y);
}

static void
m_start(int s, int n, char **cmd)
{
	struct report	 r;
	pid_t		*seen;
	int64_t		 t0, last = 0;
	int		 k = 0, i;
	pid_t		 pid;

	if ((seen = calloc((size_t)n, sizeof(*seen))) == NULL)
		err(1, NULL);
	t0 = now_ns();
	pid = run(cmd);
	while (k < n) {
		if (next_report(s, 60000, &r) == -1) {
			printf("? %d\n", (int)pid);
			return;
		}
		for (i = 0; i < k && seen[i] != r.pid; i++)
			;
		if (i < k)
			continue;
		seen[k++] = r.pid;
		if (r.ns > last)
			last = r.ns;
	}
	printf("%.1f %d\n", (last - t0) / 1e6, (int)pid);
	free(seen);
}

static void
m_restart(int s, int kills, char **cmd)
{
	struct report	 r;
	struct timespec	 hold = { 1, 100000000 };
	int64_t		*lat, t0;
	pid_t		 pid, victim;
	int		 k;

	if ((lat = calloc((size_t)kills, sizeof(*lat))) == NULL)
		err(1, NULL);
	pid = run(cmd);
	if (next_report(s, 60000, &r) == -1) {
		printf("? %d\n", (int)pid);
		return;
	}
	victim = r.pid;
	for (k = 0; k < kills; k++) {
		/* runsv and s6-supervise hold back a service that ran
		 * less than a second: let every run be longer */
		while (nanosleep(&hold, &hold) == -1 && errno == EINTR)
			;
		hold.tv_sec = 1;
		hold.tv_nsec = 100000000;
		t0 = now_ns();
		if (kill(victim, SIGKILL) == -1)
			err(1, "kill %d", (int)victim);
		do {
			if (next_report(s, 10000, &r) == -1) {
				printf("? %d\n", (int)pid);
				return;
			}
		} while (r.pid == victim);
		lat[k] = r.ns - t0;
		victim = r.pid;
	}
	qsort(lat, (size_t)kills, sizeof(*lat), cmp64);
	printf("%.2f %d\n", lat[(kills - 1) / 2] / 1e6, (int)pid);
	free(lat);
}

static void
m_reap(int s, char **cmd)
{
	struct report	r;
	pid_t		pid;

	pid = run(cmd);
	if (next_report(s, 120000, &r) == -1)
		printf("? ? %d\n", (int)pid);
	else
		printf("%s %d\n", r.text, (int)pid);
}

static void
m_stop(int s, int timeout, char **cmd)
{
	struct report	 r;
	struct pollfd	 pfd;
	int64_t		 t0;
	pid_t		 pid;
	int		 fd;

	pid = run(cmd);
	if (next_report(s, 60000, &r) == -1) {
		printf("? %d\n", (int)pid);
		return;
	}
	if ((fd = (int)syscall(SYS_pidfd_open, r.pid, 0)) == -1)
		err(1, "pidfd_open");
	t0 = now_ns();
	if (kill(init_of(pid), SIGTERM) == -1)
		err(1, "kill");
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, -1) == -1)
		if (errno != EINTR)
			err(1, "poll");
	printf("%.2f %d\n", (now_ns() - t0) / 1e6 - timeout, (int)pid);
}

static __dead void
m_floor(char **cmd)
{
	pid_t	pid;
	int	rv, st;

	for (;;) {
		if ((rv = posix_spawn(&pid, cmd[0], NULL, NULL, cmd,
		    environ)) != 0)
			errx(1, "posix_spawn %s: %s", cmd[0], strerror(rv));
		while (waitpid(pid, &st, 0) == -1)
			if (errno != EINTR)
				err(1, "waitpid");
	}
}

static __dead void
usage(void)
{
	fprintf(stderr, "usage: probe svc|orphans|start|restart|reap|stop|"
	    "floor sock [arg] [-- cmd ...]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char	*mode, *path;
	char		**cmd = NULL;
	int		  i, s, arg = 0;

	if (argc < 3)
		usage();
	mode = argv[1];
	path = argv[2];
	if (strcmp(mode, "svc") == 0)
		svc(path, argc > 3 && strcmp(argv[3], "noterm") == 0);
	if (argc > 3 && strcmp(argv[3], "--") != 0)
		arg = atoi(argv[3]);
	if (strcmp(mode, "orphans") == 0)
		orphans(path, arg > 0 ? arg : 1000);
	for (i = 3; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			cmd = argv + i + 1;
			break;
		}
	if (cmd == NULL || cmd[0] == NULL)
		usage();
	if (strcmp(mode, "floor") == 0)
		m_floor(cmd);
	s = bind_probe(path);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(mode, "start") == 0 && arg > 0)
		m_start(s, arg, cmd);
	else if (strcmp(mode, "restart") == 0 && arg > 0)
		m_restart(s, arg, cmd);
	else if (strcmp(mode, "reap") == 0)
		m_reap(s, cmd);
	else if (strcmp(mode, "stop") == 0 && arg > 0)
		m_stop(s, arg, cmd);
	else
		usage();
	return (0);
}
