/*
 * Roles: starting them, their channels, the dispatch loop and their
 * restart after a crash.
 *
 * The parent starts each role by fork + execve of its own binary with
 * "-R role", the role's end of a socketpair on fd 3.  Each role then
 * has a fresh image and fresh ASLR and holds nothing of the parent's
 * memory.
 */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "phpeekd.h"

struct privsep	*privsep;

const char *proc_titles[PROC_MAX] = {
	"parent", "config", "engine", "api"
};

static const char *const imsg_names[IMSG_MAX] = {
	"NONE", "CTL_PROCFD", "CTL_VERBOSE", "CFG_FD", "CFG_BASE",
	"CFG_DIAG", "CFG_FAILED", "CFG_GLOBAL", "CFG_PROC", "CFG_HOOK",
	"CFG_DONE", "ENGINE_START", "ADOPT", "LOGFD", "NOTIFYFD",
	"SPAWN", "SPAWNED", "SPAWN_FAILED", "KILL", "EXIT", "EXIT_ACK",
	"INSTANCE_FINAL", "SHUTDOWN", "SHUTDOWN_DONE", "STATE_BEGIN",
	"STATE_HOOK", "STATE_RUN", "STATE_FPM", "STATE_PROC",
	"STATE_INSTANCE", "STATE_GONE", "STATE_SAMPLE", "LOG_LINE",
	"STATE_END", "CTL_REQUEST", "CTL_REPLY", "API_LISTENER",
	"CTL_RELOAD", "CTL_RELOAD_REPLY", "CFG_RESULT", "API_TLS",
	"CTL_EDIT", "CFG_EDIT", "CFG_SAVE", "CFG_SAVE_DATA",
	"CFG_SAVE_DONE", "CFG_CHECK", "CFG_CHECKED", "READY_FILE",
	"PROC_INTENT", "SHUTDOWN_REQUEST"
};

static void	proc_dispatch(int, short, void *);
static void	proc_flush(int, short, void *);
static int	proc_write(struct imsgev *);
static void	proc_lose(struct imsgev *);
static void	proc_event_set(struct imsgev *, short);
static void	proc_violation(struct imsgev *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
static void	proc_restart_cb(int, short, void *);

const char *
imsg_type_name(uint32_t type)
{
	if (type < IMSG_MAX)
		return (imsg_names[type]);
	return ("unknown");
}

enum privsep_procid
proc_getid(const char *title)
{
	int	i;

	for (i = 0; i < PROC_MAX; i++)
		if (strcmp(title, proc_titles[i]) == 0)
			return (i);
	return (PROC_MAX);
}

/* Set up a channel to peer on fd; the caller owns nothing afterwards. */
struct imsgev *
proc_channel(struct privsep *ps, enum privsep_procid peer, int fd,
    size_t maxsize, int fdpass)
{
	struct imsgev	*iev;

	if ((iev = calloc(1, sizeof(*iev))) == NULL)
		fatal("%s", __func__);
	imsgbuf_init(&iev->ibuf, fd);
	if (imsgbuf_set_maxsize(&iev->ibuf, maxsize) == -1)
		fatal("%s: maxsize", __func__);
	if (fdpass)
		imsgbuf_allow_fdpass(&iev->ibuf);
	iev->peer = peer;
	iev->ps = ps;
	iev->alive = 1;
	iev->events = EV_READ;
	event_set(&iev->ev, fd, iev->events, proc_dispatch, iev);
	event_add(&iev->ev, NULL);
	evtimer_set(&iev->flush, proc_flush, iev);
	ps->ps_iev[peer] = iev;
	return (iev);
}

void
proc_channel_close(struct imsgev *iev)
{
	struct privsep	*ps;

	if (iev == NULL)
		return;
	ps = iev->ps;
	event_del(&iev->ev);
	event_del(&iev->flush);
	imsgbuf_clear(&iev->ibuf);
	close(iev->ibuf.fd);
	if (ps->ps_iev[iev->peer] == iev)
		ps->ps_iev[iev->peer] = NULL;
	free(iev);
}

/*
 * Called after every message queued.  What is queued goes out at the
 * end of this round of callbacks, not after another epoll_wait: all a
 * message costs is its share of one sendmsg, and what one callback
 * queued still leaves together.  Only a full socket waits for EV_WRITE.
 * That is two system calls and a wakeup fewer on every hop of a
 * restart (EXIT to the engine, SPAWN back).
 */
void
imsg_event_add(struct imsgev *iev)
{
	if (!iev->alive)
		return;
	if (imsgbuf_queuelen(&iev->ibuf) > 0 && (iev->events & EV_WRITE)) {
		/* the socket was full: EV_WRITE says when it is not */
		proc_event_set(iev, EV_READ | EV_WRITE);
		return;
	}
	proc_event_set(iev, EV_READ);
	if (imsgbuf_queuelen(&iev->ibuf) > 0 && !iev->flushing) {
		iev->flushing = 1;
		event_active(&iev->flush, EV_TIMEOUT, 1);
	}
}

/* Events fire once: re-arm, but leave the kernel alone otherwise. */
static void
proc_event_set(struct imsgev *iev, short events)
{
	if (events == iev->events && event_initialized(&iev->ev) &&
	    event_pending(&iev->ev, EV_READ | EV_WRITE, NULL))
		return;
	iev->events = events;
	event_del(&iev->ev);
	event_set(&iev->ev, iev->ibuf.fd, iev->events, proc_dispatch, iev);
	event_add(&iev->ev, NULL);
}

static void
proc_flush(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;

	iev->flushing = 0;
	if (!iev->alive || proc_write(iev) == -1)
		return;
	if (imsgbuf_queuelen(&iev->ibuf) > 0)
		proc_event_set(iev, EV_READ | EV_WRITE);
}

/* -1 when the peer is gone and the channel with it. */
static int
proc_write(struct imsgev *iev)
{
	struct privsep	*ps = iev->ps;

	if (imsgbuf_write(&iev->ibuf) == 0)
		return (0);
	if (errno == EPIPE && ps->ps_id != PROC_PARENT &&
	    iev->peer == PROC_PARENT)
		_exit(0);
	proc_lose(iev);
	return (-1);
}

/*
 * The channel is gone: close it, then tell the role.  In that order,
 * because what the role does about it may reap the peer, which closes
 * the peer's channel too (the parent stopping services when the engine
 * is lost during a shutdown).
 */
static void
proc_lose(struct imsgev *iev)
{
	struct privsep		*ps = iev->ps;
	enum privsep_procid	 peer = iev->peer;

	iev->alive = 0;
	proc_channel_close(iev);
	if (ps->ps_lost != NULL)
		ps->ps_lost(ps, peer);
}

/*
 * A peer broke the protocol or stopped reading.  The parent kills the
 * role, which is then reaped and restarted; a role cannot trust a
 * parent that does this and exits.
 */
static void
proc_violation(struct imsgev *iev, const char *fmt, ...)
{
	struct privsep	*ps = iev->ps;
	char		 msg[256];
	va_list		 ap;
	pid_t		 pid;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->ps_id != PROC_PARENT && iev->peer == PROC_PARENT)
		fatalx("parent: %s", msg);
	log_warnx("%s: %s", proc_titles[iev->peer], msg);
	if (ps->ps_id == PROC_PARENT) {
		pid = ps->ps_roles[iev->peer].rs_pid;
		if (pid > 0)
			kill(pid, SIGKILL);
	}
	proc_lose(iev);
}

static void
proc_dispatch(int fd, short event, void *arg)
{
	struct imsgev		*iev = arg;
	struct privsep		*ps = iev->ps;
	struct privsep_proc	*p = NULL;
	struct imsg		 imsg;
	enum privsep_procid	 peer = iev->peer;
	size_t			 i;
	int			 n;

	for (i = 0; i < ps->ps_nprocs; i++)
		if (ps->ps_procs[i].p_id == iev->peer)
			p = &ps->ps_procs[i];

	if (event & EV_READ) {
		if ((n = imsgbuf_read(&iev->ibuf)) == -1) {
			proc_violation(iev, "read: %s",
			    imsgbuf_error(&iev->ibuf));
			return;
		}
		if (n == 0) {
			/*
			 * Peer gone: a role whose parent is gone exits, and
			 * skips atexit handlers and destructors, which
			 * could make system calls its filter refuses
			 * (AddressSanitizer's do); it has nothing to save.
			 */
			if (ps->ps_id != PROC_PARENT &&
			    iev->peer == PROC_PARENT) {
				log_debug("parent closed the channel");
				_exit(0);
			}
			proc_lose(iev);
			return;
		}
	}
	if ((event & EV_WRITE) && proc_write(iev) == -1)
		return;
	for (;;) {
		if (imsgbuf_get(&iev->ibuf, &imsg) == 0)
			break;
		if (imsg_get_type(&imsg) == IMSG_CTL_VERBOSE &&
		    iev->peer == PROC_PARENT) {
			if (imsg_get_data(&imsg, &n, sizeof(n)) == 0)
				log_setverbose(n);
			imsg_free(&imsg);
			continue;
		}
		if (p == NULL || p->p_cb(iev, &imsg) == -1) {
			proc_violation(iev, "unexpected message %s (%u), "
			    "%zu bytes", imsg_type_name(imsg_get_type(&imsg)),
			    imsg_get_type(&imsg), imsg_get_len(&imsg));
			imsg_free(&imsg);
			return;
		}
		imsg_free(&imsg);
		/* the callback may have closed, and freed, this channel */
		if (ps->ps_iev[peer] != iev)
			return;
	}
	imsg_event_add(iev);
}

int
proc_compose(struct privsep *ps, enum privsep_procid dst, uint32_t type,
    uint32_t peerid, int fd, const void *data, size_t len)
{
	struct imsgev	*iev = ps->ps_iev[dst];

	if (iev == NULL || !iev->alive) {
		if (fd != -1)
			close(fd);
		errno = EPIPE;
		return (-1);
	}
	if (imsg_compose(&iev->ibuf, type, peerid, 0, fd, data, len) == -1) {
		proc_violation(iev, "cannot queue %s: %s",
		    imsg_type_name(type), imsgbuf_error(&iev->ibuf));
		return (-1);
	}
	imsg_event_add(iev);
	return (0);
}

struct ibuf *
proc_create(struct privsep *ps, enum privsep_procid dst, uint32_t type,
    uint32_t peerid, size_t len)
{
	struct imsgev	*iev = ps->ps_iev[dst];
	struct ibuf	*buf;

	if (iev == NULL || !iev->alive) {
		errno = EPIPE;
		return (NULL);
	}
	if ((buf = imsg_create(&iev->ibuf, type, peerid, 0, len)) == NULL)
		log_warnx("%s: %s", __func__, imsgbuf_error(&iev->ibuf));
	return (buf);
}

int
proc_close(struct privsep *ps, enum privsep_procid dst, struct ibuf *buf)
{
	struct imsgev	*iev = ps->ps_iev[dst];

	if (iev == NULL || !iev->alive) {
		imsg_abort(buf);
		errno = EPIPE;
		return (-1);
	}
	if (imsg_close(&iev->ibuf, buf) == -1) {
		proc_violation(iev, "cannot queue: %s",
		    imsgbuf_error(&iev->ibuf));
		return (-1);
	}
	imsg_event_add(iev);
	return (0);
}

void
proc_init_parent(struct privsep *ps, const char *exe, int debug, int verbose)
{
	int	i;

	memset(ps, 0, sizeof(*ps));
	ps->ps_id = PROC_PARENT;
	ps->ps_exe = exe;
	ps->ps_debug = debug;
	ps->ps_verbose = verbose;
	for (i = 0; i < PROC_MAX; i++)
		ps->ps_roles[i].rs_pid = -1;
	privsep = ps;
}

/*
 * Fork and exec one role.  The child keeps only fds 0-2 and its
 * channel on fd 3, dies with the parent, and runs our own binary.
 */
int
proc_start_role(struct privsep *ps, enum privsep_procid id)
{
	char		*argv[12];
#ifdef PHPEEKD_REGRESS
	const char	*violate;
#endif
	char		 vflag[8], lflag[8];
	int		 sp[2], argc = 0, i;
	pid_t		 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    PF_UNSPEC, sp) == -1) {
		log_warn("%s: socketpair", proc_titles[id]);
		return (-1);
	}
	argv[argc++] = (char *)"phpeekd";
	argv[argc++] = (char *)"-R";
	argv[argc++] = (char *)proc_titles[id];
	if (id == PROC_API) {
		argv[argc++] = (char *)"-u";
		argv[argc++] = (char *)sandbox_api_user;
	}
	if (ps->ps_roles[id].rs_load != 0) {
		snprintf(lflag, sizeof(lflag), "%d", ps->ps_roles[id].rs_load);
		argv[argc++] = (char *)"-L";
		argv[argc++] = lflag;
	}
#ifdef PHPEEKD_REGRESS
	/* PHPEEKD_REGRESS_VIOLATE=role:syscall, on the role's first start */
	if ((violate = getenv("PHPEEKD_REGRESS_VIOLATE")) != NULL &&
	    ps->ps_roles[id].rs_ncrashes == 0 && !ps->ps_roles[id].rs_violated &&
	    strncmp(violate, proc_titles[id], strlen(proc_titles[id])) == 0 &&
	    violate[strlen(proc_titles[id])] == ':') {
		ps->ps_roles[id].rs_violated = 1;
		argv[argc++] = (char *)"-T";
		argv[argc++] = (char *)violate + strlen(proc_titles[id]) + 1;
	}
#endif
	if (ps->ps_verbose > 0) {
		vflag[0] = '-';
		for (i = 0; i < ps->ps_verbose && i < 5; i++)
			vflag[i + 1] = 'v';
		vflag[i + 1] = '\0';
		argv[argc++] = vflag;
	}
	argv[argc] = NULL;

	switch (pid = fork()) {
	case -1:
		log_warn("%s: fork", proc_titles[id]);
		close(sp[0]);
		close(sp[1]);
		return (-1);
	case 0:
		/* die with the parent; its end closing is the fallback */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (sp[1] == PROC_PARENT_SOCK_FILENO) {
			if (fcntl(sp[1], F_SETFD, 0) == -1)
				_exit(1);
		} else if (dup2(sp[1], PROC_PARENT_SOCK_FILENO) == -1)
			_exit(1);
		if (close_range(PROC_PARENT_SOCK_FILENO + 1, ~0U, 0) == -1)
			for (i = PROC_PARENT_SOCK_FILENO + 1; i < 1024; i++)
				close(i);
		execv(ps->ps_exe, argv);
		dprintf(STDERR_FILENO, "phpeekd: exec %s: %s\n", ps->ps_exe,
		    strerror(errno));
		_exit(1);
	}
	close(sp[1]);
	ps->ps_roles[id].rs_pid = pid;
	ps->ps_roles[id].rs_retired = 0;
	/* roles never send fds to the parent: no fd passing inbound */
	ps->ps_roles[id].rs_iev = proc_channel(ps, id, sp[0],
	    IMSG_CFG_MAXSIZE, 0);
	log_debug("started %s, pid %d", proc_titles[id], pid);
	return (0);
}

/*
 * The parent reaped pid.  If it was a role, say why it died and
 * restart it after a short pause.  Returns 1 for a role, 0 otherwise,
 * and -1 when roles crash so often that the parent must give up.
 */
int
proc_role_died(struct privsep *ps, pid_t pid, int status,
    const struct rusage *ru)
{
	struct role_state	*rs;
	struct timeval		 tv;
	char			 why[64];
	time_t			 now;
	int			 id;

	for (id = PROC_PARENT + 1; id < PROC_MAX; id++)
		if (ps->ps_roles[id].rs_pid == pid)
			break;
	if (id == PROC_MAX)
		return (0);
	rs = &ps->ps_roles[id];
	rs->rs_pid = -1;
	if (ps->ps_iev[id] != NULL) {
		ps->ps_iev[id]->alive = 0;
		proc_channel_close(ps->ps_iev[id]);
	}
	rs->rs_iev = NULL;
	wait_status_str(status, why, sizeof(why));
	if (rs->rs_stopping || rs->rs_retired) {
		log_debug("%s ended, pid %d: %s, peak %ld kB",
		    proc_titles[id], pid, why, ru->ru_maxrss);
		rs->rs_retired = 0;
		return (1);
	}
	/* killed on purpose, to start again with a library: no crash */
	if (rs->rs_replace) {
		rs->rs_replace = 0;
		proc_restart_cb(-1, 0, (void *)(intptr_t)id);
		return (1);
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		log_warnx("%s (pid %d) died: sandbox violation (%s)",
		    proc_titles[id], pid, why);
	else
		log_warnx("%s (pid %d) died: %s", proc_titles[id], pid, why);
	if (ps->ps_lost != NULL)
		ps->ps_lost(ps, id);

	/* keep the last ROLE_CRASH_MAX + 1 crash times */
	now = time(NULL);
	if (rs->rs_ncrashes == ROLE_CRASH_MAX + 1) {
		memmove(rs->rs_crashes, rs->rs_crashes + 1,
		    ROLE_CRASH_MAX * sizeof(time_t));
		rs->rs_ncrashes--;
	}
	rs->rs_crashes[rs->rs_ncrashes++] = now;
	if (rs->rs_ncrashes == ROLE_CRASH_MAX + 1 &&
	    now - rs->rs_crashes[0] <= ROLE_CRASH_WINDOW) {
		log_warnx("%s crashed more than %d times in %d seconds",
		    proc_titles[id], ROLE_CRASH_MAX, ROLE_CRASH_WINDOW);
		return (-1);
	}
	evtimer_set(&rs->rs_restart, proc_restart_cb,
	    (void *)(intptr_t)id);
	ms_to_tv(ROLE_RESTART_DELAY_MS, &tv);
	evtimer_add(&rs->rs_restart, &tv);
	return (1);
}

/*
 * A role with nothing left to do: closing its channel ends it (it
 * exits on end of file), and its end is not a crash.
 */
void
proc_retire_role(struct privsep *ps, enum privsep_procid id)
{
	struct imsgev	*iev = ps->ps_iev[id];

	if (iev == NULL || !iev->alive)
		return;
	ps->ps_roles[id].rs_retired = 1;
	ps->ps_roles[id].rs_iev = NULL;
	iev->alive = 0;
	proc_channel_close(iev);
}

/*
 * Start a retired role again.  One that runs, or that crashed and
 * waits for its restart, is left alone.  1: started, 0: nothing to do.
 */
int
proc_wake_role(struct privsep *ps, enum privsep_procid id)
{
	struct role_state	*rs = &ps->ps_roles[id];

	if ((ps->ps_iev[id] != NULL && ps->ps_iev[id]->alive) ||
	    (event_initialized(&rs->rs_restart) &&
	    evtimer_pending(&rs->rs_restart, NULL)))
		return (0);
	return (proc_start_role(ps, id) == -1 ? -1 : 1);
}

static void
proc_restart_cb(int fd, short event, void *arg)
{
	enum privsep_procid	 id = (enum privsep_procid)(intptr_t)arg;
	struct privsep		*ps = privsep;

	if (ps->ps_roles[id].rs_stopping)
		return;
	if (proc_start_role(ps, id) == -1) {
		log_warnx("cannot restart %s", proc_titles[id]);
		return;
	}
	log_info("%s restarted, pid %d", proc_titles[id],
	    ps->ps_roles[id].rs_pid);
	if (ps->ps_started != NULL)
		ps->ps_started(ps, id);
}

/* A role's peers, and its channel to the parent on fd 3. */
void
proc_role_channel(struct privsep *ps, struct privsep_proc *procs, size_t n)
{
	ps->ps_procs = procs;
	ps->ps_nprocs = n;
	proc_channel(ps, PROC_PARENT, PROC_PARENT_SOCK_FILENO,
	    IMSG_CFG_MAXSIZE, 1);
}

/* The privileged work is done: sandbox, then serve until the end. */
__dead void
proc_role_run(struct privsep *ps)
{
	sandbox_role(ps->ps_id);
	event_dispatch();
	exit(0);
}

/*
 * Common start of every role: name it, make sure it dies with the
 * parent, take the channel on fd 3, and hand over to the role.
 */
void
proc_role_main(struct privsep *ps, enum privsep_procid id, void (*run)(void))
{
	struct sigaction	sa;

	memset(ps, 0, sizeof(*ps));
	ps->ps_id = id;
	privsep = ps;
	log_procinit(proc_titles[id]);
	setproctitle("%s", proc_titles[id]);
	prctl(PR_SET_NAME, "phpeekd");
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		fatal("prctl PR_SET_PDEATHSIG");
	if (fcntl(PROC_PARENT_SOCK_FILENO, F_GETFD) == -1)
		fatalx("no channel to the parent on fd %d",
		    PROC_PARENT_SOCK_FILENO);
	if (fcntl(PROC_PARENT_SOCK_FILENO, F_SETFD, FD_CLOEXEC) == -1)
		fatal("fcntl");
	/*
	 * The parent decides when roles stop: a terminal's ^C, or
	 * timeout(1), signals the whole process group, and a role that
	 * died of it would leave the parent's orderly shutdown without
	 * an engine.  Roles end when the parent closes their channel.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGTSTP, &sa, NULL);
	run();
}
