/*
 * One instance's life in the engine: spawn requests, exits, the
 * restart policy with exponential backoff, and stopping.
 *
 * Every state change is logged once, here, by instance_set_state.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phpeekd.h"

static void	instance_set_state(struct instance *, enum inst_state,
		    const char *);
static void	instance_backoff_cb(int, short, void *);
static void	instance_kill_cb(int, short, void *);
static int	instance_should_restart(struct instance *, int);
static int	instance_exit_code(struct instance *, int);
static void	instance_kill(struct instance *, int, uint32_t);
static int64_t	instance_backoff_ms(struct instance *);
static void	instance_report_final(struct instance *);
static void	instance_stop_signal(struct instance *);
static void	instance_prestop_done(void *, int);

static const char *const state_names[] = {
	"stopped", "starting", "running", "stopping", "backoff", "exited",
	"failed", "completed"
};

RB_GENERATE(instance_pids, instance, in_node, instance_cmp)

int
instance_cmp(struct instance *a, struct instance *b)
{
	return (a->in_pid < b->in_pid ? -1 : a->in_pid > b->in_pid);
}

const char *
inst_state_name(enum inst_state st)
{
	if ((size_t)st < sizeof(state_names) / sizeof(state_names[0]))
		return (state_names[st]);
	return ("unknown");
}

struct instance *
instance_new(struct eproc *ep, int idx)
{
	struct instance	*in;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		fatal("%s", __func__);
	in->in_proc = ep;
	in->in_idx = idx;
	in->in_pid = -1;
	in->in_notify_fd = -1;
	in->in_exit_code = -1;
	in->in_state = IST_STOPPED;
	snprintf(in->in_id, sizeof(in->in_id), "%s-%d", ep->ep_conf->pc_name,
	    idx);
	evtimer_set(&in->in_timer, instance_backoff_cb, in);
	return (in);
}

void
instance_free(struct instance *in)
{
	hook_forget(in);
	notify_close(in);
	evtimer_del(&in->in_timer);
	if (in->in_pid > 0)
		RB_REMOVE(instance_pids, &engine->en_pids, in);
	free(in);
}

struct instance *
instance_by_pid(pid_t pid)
{
	struct instance	key;

	key.in_pid = pid;
	return (RB_FIND(instance_pids, &engine->en_pids, &key));
}

struct instance *
instance_by_token(uint32_t token)
{
	struct eproc	*ep;
	int		 i;

	TAILQ_FOREACH(ep, &engine->en_procs, ep_entry)
		for (i = 0; i < ep->ep_ninst; i++)
			if (ep->ep_inst[i] != NULL &&
			    ep->ep_inst[i]->in_token == token)
				return (ep->ep_inst[i]);
	return (NULL);
}

int
instance_alive(struct instance *in)
{
	return (in->in_state == IST_STARTING ||
	    in->in_state == IST_RUNNING || in->in_state == IST_STOPPING);
}

static void
instance_set_state(struct instance *in, enum inst_state st, const char *why)
{
	if (in->in_state == st)
		return;
	if (why != NULL)
		log_info("%s: %s -> %s (%s)", in->in_id,
		    inst_state_name(in->in_state), inst_state_name(st), why);
	else
		log_info("%s: %s -> %s", in->in_id,
		    inst_state_name(in->in_state), inst_state_name(st));
	in->in_state = st;
	instance_report_final(in);
	engine_state_instance(in);
	/* the process's readiness may have changed with it */
	engine_state_proc(in->in_proc);
}

/*
 * Tell the parent which instances ended for good, so that an engine
 * started after a crash leaves them alone instead of starting them.
 */
static void
instance_report_final(struct instance *in)
{
	struct ibuf	*buf;

	if ((in->in_state != IST_FAILED && in->in_state != IST_EXITED &&
	    in->in_state != IST_COMPLETED) ||
	    in->in_proc->ep_conf->pc_schedule != NULL)
		return;
	if ((buf = proc_create(privsep, PROC_PARENT, IMSG_INSTANCE_FINAL, 0,
	    CONF_NAME_MAX + 8)) == NULL)
		return;
	if (ibuf_add_str(buf, in->in_proc->ep_conf->pc_name) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)in->in_idx) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)in->in_state) == -1) {
		imsg_abort(buf);
		return;
	}
	proc_close(privsep, PROC_PARENT, buf);
}

/* The parent's record of an instance that ended before we started. */
int
instance_restore_final(struct imsg *imsg)
{
	struct ibuf	 buf;
	struct eproc	*ep;
	struct instance	*in;
	char		 name[CONF_NAME_MAX];
	uint32_t	 idx, st;

	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_strbuf(&buf, name, sizeof(name)) == -1 ||
	    ibuf_get_u32(&buf, &idx) == -1 || ibuf_get_u32(&buf, &st) == -1 ||
	    ibuf_left(&buf) != 0 || idx >= CONF_SCALE_MAX ||
	    (st != IST_FAILED && st != IST_EXITED && st != IST_COMPLETED))
		return (-1);
	if ((ep = engine_find(name)) == NULL)
		return (0);
	eproc_resize(ep, (int)idx + 1);
	if (ep->ep_inst[idx] == NULL)
		ep->ep_inst[idx] = instance_new(ep, (int)idx);
	in = ep->ep_inst[idx];
	if (in->in_state == IST_STOPPED) {
		in->in_state = st;
		log_info("%s: %s before the engine restarted", in->in_id,
		    inst_state_name(in->in_state));
	}
	return (0);
}

/* Ask the parent to start the instance; SPAWNED or SPAWN_FAILED follow. */
void
instance_spawn(struct instance *in)
{
	struct ibuf	*buf;

	if (engine->en_shutdown)
		return;
	in->in_token = ++engine->en_token;
	if ((buf = proc_create(privsep, PROC_PARENT, IMSG_SPAWN, in->in_token,
	    CONF_NAME_MAX + 8)) == NULL ||
	    ibuf_add_str(buf, in->in_proc->ep_conf->pc_name) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)in->in_idx) == -1 ||
	    ibuf_add_u8(buf, SPAWN_INSTANCE) == -1)
		fatalx("cannot queue a spawn request");
	proc_close(privsep, PROC_PARENT, buf);
	instance_set_state(in, IST_STARTING, NULL);
}

void
instance_spawned(struct instance *in, pid_t pid)
{
	char	why[32];

	in->in_pid = pid;
	in->in_ready = 0;
	in->in_started = now_ms();
	in->in_started_wall = time(NULL);
	if (RB_INSERT(instance_pids, &engine->en_pids, in) != NULL)
		fatalx("%s: pid %d already known", in->in_id, pid);
	snprintf(why, sizeof(why), "pid %d", pid);
	instance_set_state(in, IST_RUNNING, why);
	if (in->in_proc->ep_conf->pc_schedule != NULL)
		sched_started(in);
	else {
		if (in->in_proc->ep_conf->pc_type == PTYPE_ONESHOT)
			/* the first run is the start-up one */
			run_start(in, in->in_proc->ep_run_seq > 0);
		health_start(in->in_proc);
	}
	/* a stop that came while it was starting applies now */
	if ((engine->en_shutdown && in->in_proc->ep_stopping) ||
	    in->in_remove || in->in_respawn)
		instance_stop(in);
	engine_check_done();
}

/*
 * The parent could not start it.  Exec failures do not go away by
 * retrying quickly, so the instance is marked failed and says why,
 * once, instead of looping.
 */
void
instance_spawn_failed(struct instance *in, int error, const char *what)
{
	char	why[PATH_MAX + 128];

	snprintf(why, sizeof(why), "cannot start %s: %s: %s",
	    in->in_proc->ep_conf->pc_command.sl_v[0], what, strerror(error));
	log_warnx("%s: %s", in->in_id, why);
	if (in->in_proc->ep_trigger_id != 0 && in->in_run_manual) {
		ctl_send_reply(privsep, in->in_proc->ep_trigger_id, 500, why);
		in->in_proc->ep_trigger_id = 0;
	}
	instance_set_state(in, IST_FAILED, "spawn failed");
	/* as a shell says of a command it cannot run */
	engine_critical(in, 127);
	engine_check_done();
}

static int64_t
instance_backoff_ms(struct instance *in)
{
	struct global_conf	*gc = &engine->en_conf->cf_global;
	int64_t			 d = gc->gc_backoff_initial_ms;
	int			 k, n = in->in_restarts;

	/* as runit does: the first restart after a stable run is at once */
	if (gc->gc_restart_now && n-- == 0)
		return (0);
	if (d <= 0)
		d = 1000;
	for (k = 0; k < n && d < gc->gc_backoff_max_ms; k++)
		d *= 2;
	if (gc->gc_backoff_max_ms > 0 && d > gc->gc_backoff_max_ms)
		d = gc->gc_backoff_max_ms;
	return (d);
}

/*
 * The container's exit status for an instance that ended for good: its
 * own, 128 + the signal that killed it, as a shell reports it, and 1
 * for a failure that exited 0 (a start limit reached by clean exits).
 */
static int
instance_exit_code(struct instance *in, int status)
{
	if (WIFSIGNALED(status))
		return (128 + WTERMSIG(status));
	if (!WIFEXITED(status))
		return (1);
	if (WEXITSTATUS(status) == 0 && in->in_state == IST_FAILED)
		return (1);
	return (WEXITSTATUS(status));
}

static int
instance_should_restart(struct instance *in, int status)
{
	struct proc_conf	*pc = in->in_proc->ep_conf;
	struct global_conf	*gc = &engine->en_conf->cf_global;
	int			 failed;

	if (pc->pc_type == PTYPE_ONESHOT)
		return (0);
	failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	switch (pc->pc_restart) {
	case RESTART_ALWAYS:
		break;
	case RESTART_ON_FAILURE:
		if (!failed)
			return (0);
		break;
	default:
		return (0);
	}
	if (gc->gc_max_restart_attempts > 0 &&
	    in->in_restarts >= gc->gc_max_restart_attempts)
		return (-1);
	return (1);
}

void
instance_exited(struct instance *in, int status)
{
	struct global_conf	*gc = &engine->en_conf->cf_global;
	struct timeval		 tv;
	char			 why[96];
	int64_t			 delay, ran;
	int			 rv;

	evtimer_del(&in->in_timer);
	RB_REMOVE(instance_pids, &engine->en_pids, in);
	in->in_pid = -1;
	in->in_status = status;
	in->in_exited = 1;
	in->in_ready = 0;
	/* a replacement is healthy once it has passed; a scale-down is not */
	if (!in->in_remove)
		in->in_proc->ep_health.h_verdict = 0;
	notify_close(in);
	in->in_exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	wait_status_str(status, why, sizeof(why));
	run_end(in, status);
	if (!eproc_running(in->in_proc))
		health_stop(in->in_proc);
	ran = now_ms() - in->in_started;

	if (in->in_state == IST_STOPPING || engine->en_shutdown) {
		instance_set_state(in, IST_STOPPED, why);
		if (in->in_respawn && !engine->en_shutdown) {
			in->in_respawn = 0;
			in->in_restarts = 0;
			instance_spawn(in);
		}
		engine_check_done();
		return;
	}
	/* a scheduled task's run ends: the schedule starts the next */
	if (in->in_proc->ep_conf->pc_schedule != NULL) {
		sched_exited(in, status);
		instance_set_state(in, WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0 ? IST_EXITED : IST_FAILED, why);
		engine_check_done();
		return;
	}
	/* a run longer than the longest backoff counts as stable */
	if (gc->gc_backoff_max_ms > 0 && ran >= gc->gc_backoff_max_ms)
		in->in_restarts = 0;

	rv = instance_should_restart(in, status);
	if (rv == 1) {
		delay = instance_backoff_ms(in);
		in->in_restarts++;
		if (in->in_exit_code == 0)
			in->in_proc->ep_restarts_normal++;
		else
			in->in_proc->ep_restarts_crash++;
		engine_state_proc(in->in_proc);
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
		    "; restart %d in %lldms", in->in_restarts,
		    (long long)delay);
		instance_set_state(in, IST_BACKOFF, why);
		if (delay == 0) {
			instance_spawn(in);
			return;
		}
		evtimer_set(&in->in_timer, instance_backoff_cb, in);
		ms_to_tv(delay, &tv);
		evtimer_add(&in->in_timer, &tv);
		return;
	}
	if (rv == -1) {
		log_warnx("%s: gave up after %d restarts", in->in_id,
		    in->in_restarts);
		instance_set_state(in, IST_FAILED, why);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		instance_set_state(in, in->in_proc->ep_conf->pc_type ==
		    PTYPE_ONESHOT ? IST_COMPLETED : IST_EXITED, why);
	else
		instance_set_state(in, IST_FAILED, why);
	engine_critical(in, instance_exit_code(in, status));
	engine_check_done();
}

static void
instance_backoff_cb(int fd, short event, void *arg)
{
	struct instance	*in = arg;

	if (in->in_state == IST_BACKOFF)
		instance_spawn(in);
}

void
instance_signal(struct instance *in, int sig)
{
	instance_kill(in, sig, KILL_GROUP);
}

/*
 * A signal someone asked for (the API, phpeekctl signal): to the main
 * process, which tells its own children as it sees fit; php-fpm's
 * workers die of SIGUSR1 and SIGUSR2, which tell its master to reopen
 * the logs and to reload.
 */
void
instance_signal_main(struct instance *in, int sig)
{
	instance_kill(in, sig, KILL_MAIN);
}

static void
instance_kill(struct instance *in, int sig, uint32_t whom)
{
	uint32_t	msg[3];

	if (in->in_pid <= 0)
		return;
	msg[0] = (uint32_t)in->in_pid;
	msg[1] = (uint32_t)sig;
	msg[2] = whom;
	proc_compose(privsep, PROC_PARENT, IMSG_KILL, 0, -1, msg,
	    sizeof(msg));
}

static void
instance_kill_cb(int fd, short event, void *arg)
{
	struct instance	*in = arg;

	if (in->in_state != IST_STOPPING)
		return;
	log_warnx("%s: still running %ds after %s, sending SIGKILL",
	    in->in_id, in->in_proc->ep_conf->pc_stop_timeout,
	    signal_name(in->in_proc->ep_conf->pc_stop_signal));
	engine->en_forced = 1;
	instance_signal(in, SIGKILL);
}

/*
 * Send the stop signal to the instance's process group and SIGKILL
 * after its stop timeout.  An instance waiting to restart just stops.
 */
void
instance_stop(struct instance *in)
{
	struct proc_conf	*pc = in->in_proc->ep_conf;

	switch (in->in_state) {
	case IST_BACKOFF:
		evtimer_del(&in->in_timer);
		instance_set_state(in, IST_STOPPED, "stop during backoff");
		if (in->in_respawn && !engine->en_shutdown) {
			in->in_respawn = 0;
			in->in_restarts = 0;
			instance_spawn(in);
		}
		return;
	case IST_RUNNING:
		break;
	default:
		/* starting: instance_spawned stops it; others: done */
		return;
	}
	if (pc->pc_pre_stop != NULL) {
		/* the hook first (horizon:terminate), then the signal */
		instance_set_state(in, IST_STOPPING, "pre_stop_hook");
		in->in_hooking = 1;
		hook_run(pc->pc_name, HOOK_PROC_PRE_STOP, 0,
		    instance_prestop_done, in);
		return;
	}
	instance_set_state(in, IST_STOPPING, signal_name(pc->pc_stop_signal));
	instance_stop_signal(in);
}

static void
instance_stop_signal(struct instance *in)
{
	struct proc_conf	*pc = in->in_proc->ep_conf;
	struct timeval		 tv;

	instance_signal(in, pc->pc_stop_signal);
	evtimer_set(&in->in_timer, instance_kill_cb, in);
	ms_to_tv((int64_t)pc->pc_stop_timeout * 1000, &tv);
	evtimer_add(&in->in_timer, &tv);
}

static void
instance_prestop_done(void *arg, int ok)
{
	struct instance	*in = arg;

	in->in_hooking = 0;
	if (in->in_state != IST_STOPPING || in->in_pid <= 0)
		return;
	log_info("%s: stopping with %s", in->in_id,
	    signal_name(in->in_proc->ep_conf->pc_stop_signal));
	instance_stop_signal(in);
}

int
eproc_running(struct eproc *ep)
{
	int	i;

	for (i = 0; i < ep->ep_ninst; i++)
		if (ep->ep_inst[i] != NULL &&
		    ep->ep_inst[i]->in_state == IST_RUNNING)
			return (1);
	return (0);
}

/* Make room for instance slots 0 .. n-1 without starting any. */
void
eproc_resize(struct eproc *ep, int n)
{
	struct instance	**v;
	int		  i;

	if (n <= ep->ep_ninst)
		return;
	if ((v = reallocarray(ep->ep_inst, (size_t)n, sizeof(*v))) == NULL)
		fatal("%s", __func__);
	for (i = ep->ep_ninst; i < n; i++)
		v[i] = NULL;
	ep->ep_inst = v;
	ep->ep_ninst = n;
}

/* Grow or shrink to n instances, name-0 .. name-(n-1). */
void
eproc_scale(struct eproc *ep, int n)
{
	int	i;

	ep->ep_desired = n;
	engine_state_proc(ep);
	eproc_resize(ep, n);
	for (i = 0; i < ep->ep_ninst; i++) {
		if (i < n) {
			if (ep->ep_inst[i] == NULL)
				ep->ep_inst[i] = instance_new(ep, i);
			ep->ep_inst[i]->in_remove = 0;
			if (ep->ep_inst[i]->in_state == IST_STOPPED)
				instance_spawn(ep->ep_inst[i]);
		} else if (ep->ep_inst[i] != NULL) {
			ep->ep_inst[i]->in_remove = 1;
			ep->ep_inst[i]->in_respawn = 0;
			instance_stop(ep->ep_inst[i]);
		}
	}
}

/*
 * What the operator asked of a process at run time (a scale, a stop)
 * is not in the configuration file.  The parent keeps it, as it keeps
 * the instances that ended for good, so that an engine started after
 * a crash runs what was asked, not what the file says.
 */
void
eproc_intent(struct eproc *ep)
{
	struct ibuf	*buf;

	/* one never started has nothing to say but a stop */
	if (!engine->en_started || ep->ep_removed ||
	    (!ep->ep_launched && !ep->ep_held) ||
	    (ep->ep_said_desired == ep->ep_desired &&
	    ep->ep_said_held == ep->ep_held))
		return;
	if ((buf = proc_create(privsep, PROC_PARENT, IMSG_PROC_INTENT, 0,
	    CONF_NAME_MAX + 8)) == NULL)
		return;
	if (ibuf_add_str(buf, ep->ep_conf->pc_name) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)ep->ep_desired) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)ep->ep_held) == -1) {
		imsg_abort(buf);
		return;
	}
	if (proc_close(privsep, PROC_PARENT, buf) == 0) {
		ep->ep_said_desired = ep->ep_desired;
		ep->ep_said_held = ep->ep_held;
	}
}

/* The parent's record, before ENGINE_START. */
int
eproc_intent_restore(struct imsg *imsg)
{
	struct ibuf	 buf;
	struct eproc	*ep;
	char		 name[CONF_NAME_MAX];
	uint32_t	 desired;
	uint8_t		 held;

	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_strbuf(&buf, name, sizeof(name)) == -1 ||
	    ibuf_get_u32(&buf, &desired) == -1 ||
	    ibuf_get_u8(&buf, &held) == -1 || ibuf_left(&buf) != 0 ||
	    desired > CONF_SCALE_MAX || held > 1)
		return (-1);
	if ((ep = engine_find(name)) == NULL || !ep->ep_conf->pc_enabled)
		return (0);
	ep->ep_restored = 1;
	ep->ep_desired = (int)desired;
	ep->ep_held = held;
	return (0);
}

/*
 * At the start of an engine that replaced one: a process the last one
 * had started runs as many instances as it was asked to (a slot left
 * in backoff starts now), and a process stopped on request stays
 * stopped, instances caught stopping included.
 */
void
eproc_intent_apply(struct eproc *ep)
{
	int	i;

	if (!ep->ep_restored)
		return;
	ep->ep_restored = 0;
	if (ep->ep_held) {
		ep->ep_launched = 1;
		for (i = 0; i < ep->ep_ninst; i++)
			if (ep->ep_inst[i] != NULL &&
			    instance_alive(ep->ep_inst[i]))
				instance_stop(ep->ep_inst[i]);
		return;
	}
	if (ep->ep_conf->pc_schedule != NULL)
		return;
	ep->ep_launched = 1;
	eproc_scale(ep, ep->ep_desired);
}
