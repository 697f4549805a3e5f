/*
 * The engine role: the supervision state machine.  It decides what
 * runs; the parent does the forking, signalling and reaping on its
 * behalf, so the engine itself can never start a program.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phpeekd.h"

struct engine	*engine;

static int	engine_dispatch_parent(struct imsgev *, struct imsg *);
static int	engine_dispatch_api(struct imsgev *, struct imsg *);
static void	engine_configure(struct phpeekd_conf *);
static void	engine_reload(struct phpeekd_conf *);
static struct eproc *eproc_new(struct proc_conf *);
static void	eproc_free(struct eproc *);
static void	engine_start(void);
static void	engine_prestart_done(void *, int);
static void	engine_poststart_done(void *, int);
static void	engine_prestop_done(void *, int);
static void	engine_poststop_done(void *, int);
static int	engine_all_launched(void);
static void	engine_shutdown(void);
static void	engine_shutdown_cb(int, short, void *);
static void	engine_sweep(void);
static void	engine_count(int *, int *);
static int	engine_adopt(struct imsg *);
static int	engine_logfd(struct imsg *);
static int	engine_exit(struct imsg *);

static struct privsep_proc engine_procs[] = {
	{ "parent",	PROC_PARENT,	engine_dispatch_parent },
	{ "api",	PROC_API,	engine_dispatch_api },
};

void
engine_role(void)
{
	struct privsep	*ps = privsep;

	if ((engine = calloc(1, sizeof(*engine))) == NULL)
		fatal("%s", __func__);
	TAILQ_INIT(&engine->en_procs);
	RB_INIT(&engine->en_pids);
	TAILQ_INIT(&engine->en_logpipes);
	TAILQ_INIT(&engine->en_ctl);
	engine->en_exit = -1;
	/*
	 * libevent's default monotonic clock is the coarse one (4 ms on
	 * a 250 Hz kernel): a 1 ms backoff would take 4.
	 */
	setenv("EVENT_PRECISE_TIMER", "1", 1);
	event_init();
	proc_role_channel(ps, engine_procs, sizeof(engine_procs) /
	    sizeof(engine_procs[0]));
	sample_init();
	logpipe_init();
	curlev_init();
	proc_role_run(ps);
}

struct eproc *
engine_find(const char *name)
{
	struct eproc	*ep;

	TAILQ_FOREACH(ep, &engine->en_procs, ep_entry)
		if (!ep->ep_removed &&
		    strcmp(ep->ep_conf->pc_name, name) == 0)
			return (ep);
	return (NULL);
}

static struct eproc *
eproc_new(struct proc_conf *pc)
{
	struct eproc	*ep;

	if ((ep = calloc(1, sizeof(*ep))) == NULL)
		fatal("%s", __func__);
	ep->ep_conf = pc;
	ep->ep_said_desired = ep->ep_said_held = -1;
	TAILQ_INIT(&ep->ep_hb_queue);
	TAILQ_INSERT_TAIL(&engine->en_procs, ep, ep_entry);
	return (ep);
}

static void
eproc_free(struct eproc *ep)
{
	int	i;

	for (i = 0; i < ep->ep_ninst; i++)
		if (ep->ep_inst[i] != NULL)
			instance_free(ep->ep_inst[i]);
	free(ep->ep_inst);
	health_stop(ep);
	sched_disarm(ep);
	heartbeat_clear(ep);
	fpm_stop(ep);
	control_forget(ep);
	state_send_gone(privsep, ep->ep_conf->pc_name, UINT32_MAX);
	TAILQ_REMOVE(&engine->en_procs, ep, ep_entry);
	/* a removed process owns the spec it was detached with */
	if (ep->ep_removed)
		config_proc_free(ep->ep_conf);
	free(ep);
}

static void
engine_apply_global(struct global_conf *gc)
{
	sample_configure(gc);
	log_setformat(gc->gc_log_format);
	if (log_getverbose() < LOG_LVL_DEBUG)
		log_setverbose(gc->gc_log_level);
}

static void
engine_configure(struct phpeekd_conf *cf)
{
	struct proc_conf	*pc;

	engine_apply_global(&cf->cf_global);
	if (engine->en_conf != NULL) {
		engine_reload(cf);
		return;
	}
	engine->en_conf = cf;
	TAILQ_FOREACH(pc, &cf->cf_procs, pc_entry)
		if (pc->pc_enabled)
			fpm_configure(eproc_new(pc));
		else
			(void)eproc_new(pc);
	log_debug("configuration generation %u: %zu processes",
	    cf->cf_generation, cf->cf_nprocs);
}

/*
 * A new generation: processes whose spec is unchanged keep running
 * (only their scale is applied), changed ones are restarted, removed
 * ones stopped, added ones started.
 */
static void
engine_reload(struct phpeekd_conf *cf)
{
	struct phpeekd_conf	*old = engine->en_conf;
	struct proc_conf	*pc, *opc;
	struct eproc		*ep, *next;
	int			 i, changed;

	TAILQ_FOREACH_SAFE(ep, &engine->en_procs, ep_entry, next) {
		if (ep->ep_removed)
			continue;
		opc = ep->ep_conf;
		if ((pc = config_proc_find(cf, opc->pc_name)) == NULL) {
			log_info("%s: removed from the configuration",
			    opc->pc_name);
			TAILQ_REMOVE(&old->cf_procs, opc, pc_entry);
			ep->ep_removed = 1;
			for (i = 0; i < ep->ep_ninst; i++)
				if (ep->ep_inst[i] != NULL) {
					ep->ep_inst[i]->in_remove = 1;
					instance_stop(ep->ep_inst[i]);
				}
			continue;
		}
		changed = !config_proc_equal(opc, pc);
		ep->ep_conf = pc;
		/* probe with the new settings, from the start */
		health_stop(ep);
		if (eproc_running(ep))
			health_start(ep);
		if (changed && pc->pc_schedule != NULL) {
			/* runs in progress finish; the next follows the new */
			log_info("%s: changed, rescheduled", pc->pc_name);
			if (ep->ep_launched)
				sched_arm(ep);
		} else if (changed) {
			log_info("%s: changed, restarting", pc->pc_name);
			for (i = 0; i < ep->ep_ninst; i++) {
				if (ep->ep_inst[i] == NULL)
					continue;
				if (instance_alive(ep->ep_inst[i]) ||
				    ep->ep_inst[i]->in_state == IST_BACKOFF) {
					ep->ep_inst[i]->in_respawn = 1;
					instance_stop(ep->ep_inst[i]);
				}
			}
		}
		if (engine->en_started && ep->ep_launched &&
		    (opc->pc_scale != pc->pc_scale || !pc->pc_enabled))
			eproc_scale(ep, pc->pc_enabled ? pc->pc_scale : 0);
		if (!pc->pc_enabled)
			ep->ep_launched = 0;
	}
	TAILQ_FOREACH(pc, &cf->cf_procs, pc_entry) {
		if (engine_find(pc->pc_name) != NULL)
			continue;
		log_info("%s: added to the configuration", pc->pc_name);
		eproc_new(pc);
	}
	engine->en_conf = cf;
	config_free(old);
	/* pool scrapes follow the configuration, the socket included */
	TAILQ_FOREACH(ep, &engine->en_procs, ep_entry) {
		if (ep->ep_removed)
			continue;
		fpm_stop(ep);
		if (ep->ep_conf->pc_enabled)
			fpm_configure(ep);
	}
	if (engine->en_started)
		order_start();
	engine_state_snapshot();
	readyfile_reset();
	log_info("configuration generation %u applied", cf->cf_generation);
}

static void
engine_prestart_done(void *arg, int ok)
{
	engine->en_hooking = 0;
	if (ok) {
		engine_start();
		return;
	}
	log_warnx("a pre-start hook failed: not starting any process");
	engine->en_forced = 1;
	engine->en_started = 1;
	engine_shutdown();
}

static void
engine_poststart_done(void *arg, int ok)
{
	engine->en_hooking = 0;
	engine_check_done();
}

static void
engine_prestop_done(void *arg, int ok)
{
	engine->en_hooking = 0;
	engine_check_done();
}

static void
engine_poststop_done(void *arg, int ok)
{
	engine->en_hooking = 0;
	engine->en_post_stopped = 1;
	engine_check_done();
}

/* Every enabled process has been started, or cannot be. */
static int
engine_all_launched(void)
{
	struct eproc	*ep;

	TAILQ_FOREACH(ep, &engine->en_procs, ep_entry)
		if (ep->ep_conf->pc_enabled && !ep->ep_launched &&
		    !ep->ep_blocked && !ep->ep_held &&
		    !ep->ep_conf->pc_initial_stopped)
			return (0);
	return (1);
}

static void
engine_start(void)
{
	struct eproc	*ep;
	int		 i, adopted = 0;

	engine->en_started = 1;
	TAILQ_FOREACH(ep, &engine->en_procs, ep_entry) {
		/* instances adopted from a previous engine count as launched */
		for (i = 0; i < ep->ep_ninst; i++)
			if (ep->ep_inst[i] != NULL) {
				ep->ep_launched = 1;
				if (instance_alive(ep->ep_inst[i]))
					adopted++;
			}
		/* one the last engine said nothing of runs as configured */
		if (!ep->ep_restored && ep->ep_launched &&
		    ep->ep_conf->pc_enabled)
			ep->ep_desired = ep->ep_conf->pc_scale;
		eproc_intent_apply(ep);
		eproc_intent(ep);
	}
	if (adopted > 0)
		log_info("engine started: %d running instances adopted",
		    adopted);
	readyfile_reset();
	engine_check_done();
}

/* Free what was scaled or configured away once it has ended. */
static void
engine_sweep(void)
{
	struct eproc	*ep, *next;
	struct instance	*in;
	int		 i, alive;

	TAILQ_FOREACH_SAFE(ep, &engine->en_procs, ep_entry, next) {
		alive = 0;
		for (i = 0; i < ep->ep_ninst; i++) {
			if ((in = ep->ep_inst[i]) == NULL)
				continue;
			if (in->in_remove && !instance_alive(in)) {
				state_send_gone(privsep, ep->ep_conf->pc_name,
				    (uint32_t)i);
				instance_free(in);
				ep->ep_inst[i] = NULL;
			} else
				alive++;
		}
		while (ep->ep_ninst > 0 && ep->ep_inst[ep->ep_ninst - 1] ==
		    NULL)
			ep->ep_ninst--;
		if (ep->ep_removed && alive == 0)
			eproc_free(ep);
	}
}

/*
 * After every exit: during shutdown, report when nothing is left; at
 * other times, shut down when nothing runs or will run again, as
 * phpeek-pm does.
 */
/* Instances running or about to run again, and instances failed. */
static void
engine_count(int *live, int *failed)
{
	struct eproc	*ep;
	struct instance	*in;
	int		 i;

	*live = *failed = 0;
	TAILQ_FOREACH(ep, &engine->en_procs, ep_entry)
		for (i = 0; i < ep->ep_ninst; i++) {
			if ((in = ep->ep_inst[i]) == NULL)
				continue;
			if (instance_alive(in) || in->in_state == IST_BACKOFF)
				(*live)++;
			if (in->in_state == IST_FAILED)
				(*failed)++;
		}
}

void
engine_check_done(void)
{
	struct eproc	*ep;
	int		 live, failed;
	int32_t		 status;

	engine_sweep();
	control_check();
	if (engine->en_shutdown) {
		/* pre-stop hooks first, then the processes, then post-stop */
		if (engine->en_hooking)
			return;
		order_stop();
		engine_count(&live, &failed);
		if (live > 0 || engine->en_shutdown == 2)
			return;
		if (!engine->en_post_stopped &&
		    hook_count(HOOK_POST_STOP) > 0) {
			engine->en_hooking = 1;
			hook_phase(HOOK_POST_STOP, engine_poststop_done, NULL);
			return;
		}
		engine->en_shutdown = 2;
		evtimer_del(&engine->en_shutdown_timer);
		/* the cause of a shutdown a process asked for comes first */
		if (engine->en_exit > 0)
			status = engine->en_exit;
		else
			status = engine->en_forced ? 1 : 0;
		log_info("all processes stopped%s",
		    engine->en_forced ? " (some needed SIGKILL)" : "");
		proc_compose(privsep, PROC_PARENT, IMSG_SHUTDOWN_DONE, 0, -1,
		    &status, sizeof(status));
		return;
	}
	if (!engine->en_started || engine->en_hooking)
		return;
	order_start();
	if (!engine->en_post_started && engine_all_launched()) {
		engine->en_post_started = 1;
		if (hook_count(HOOK_POST_START) > 0) {
			engine->en_hooking = 1;
			hook_phase(HOOK_POST_START, engine_poststart_done, NULL);
		}
	}
	engine_count(&live, &failed);
	TAILQ_FOREACH(ep, &engine->en_procs, ep_entry)
		if (ep->ep_held || ep->ep_cron_armed)
			live++;	/* stopped on request, or due again later */
	if (live == 0 && engine->en_exit < 0) {
		log_info("no process is running or will restart: "
		    "shutting down");
		if (failed > 0)
			engine->en_forced = 1;
		/* the parent runs the shutdown, as for a critical process */
		engine->en_exit = failed > 0 ? 1 : 0;
		(void)proc_compose(privsep, PROC_PARENT, IMSG_SHUTDOWN_REQUEST,
		    0, -1, &(int32_t){ engine->en_exit }, sizeof(int32_t));
	}
}

/*
 * A process whose end shuts the container down (on_success, on_failure:
 * shutdown) has ended for good: the parent is asked to shut down as for
 * SIGTERM, without shutdown_delay, and to exit with its status.  The
 * parent owns the shutdown, so that it survives a crash of this role;
 * its IMSG_SHUTDOWN comes back in a later round of callbacks, not in
 * the middle of handling this very instance.
 */
void
engine_critical(struct instance *in, int code)
{
	struct proc_conf	*pc = in->in_proc->ep_conf;
	int			 action;

	if (engine->en_shutdown || engine->en_exit >= 0 ||
	    pc->pc_schedule != NULL)
		return;
	action = code == 0 ? pc->pc_on_success : pc->pc_on_failure;
	if (action != ACTION_SHUTDOWN)
		return;
	log_warnx("%s: %s is shutdown: stopping the container, exit status "
	    "%d", in->in_id, code == 0 ? "on_success" : "on_failure", code);
	engine->en_exit = code;
	(void)proc_compose(privsep, PROC_PARENT, IMSG_SHUTDOWN_REQUEST, 0, -1,
	    &(int32_t){ code }, sizeof(int32_t));
}

static void
engine_shutdown(void)
{
	struct global_conf	*gc = &engine->en_conf->cf_global;
	struct eproc		*ep;
	struct timeval		 tv;
	int			 i;

	if (engine->en_shutdown)
		return;
	engine->en_shutdown = 1;
	/* the readiness file goes before any process hears of it */
	readyfile_now();
	log_info("stopping all processes (shutdown_timeout %ds)",
	    gc->gc_shutdown_timeout);
	/* nothing waits to restart during shutdown, nothing is probed */
	TAILQ_FOREACH(ep, &engine->en_procs, ep_entry) {
		health_stop(ep);
		sched_disarm(ep);
		fpm_stop(ep);
		for (i = 0; i < ep->ep_ninst; i++)
			if (ep->ep_inst[i] != NULL &&
			    ep->ep_inst[i]->in_state == IST_BACKOFF)
				instance_stop(ep->ep_inst[i]);
	}
	evtimer_set(&engine->en_shutdown_timer, engine_shutdown_cb, NULL);
	ms_to_tv((int64_t)gc->gc_shutdown_timeout * 1000, &tv);
	evtimer_add(&engine->en_shutdown_timer, &tv);
	if (!engine->en_hooking && hook_count(HOOK_PRE_STOP) > 0) {
		engine->en_hooking = 1;
		hook_phase(HOOK_PRE_STOP, engine_prestop_done, NULL);
	}
	engine_check_done();
}

/* The global bound: whatever still runs now is killed. */
static void
engine_shutdown_cb(int fd, short event, void *arg)
{
	struct eproc	*ep;
	struct instance	*in;
	int		 i;

	TAILQ_FOREACH(ep, &engine->en_procs, ep_entry)
		for (i = 0; i < ep->ep_ninst; i++) {
			in = ep->ep_inst[i];
			if (in == NULL || !instance_alive(in))
				continue;
			log_warnx("%s: shutdown_timeout reached, sending "
			    "SIGKILL", in->in_id);
			engine->en_forced = 1;
			instance_signal(in, SIGKILL);
		}
}

static int
engine_adopt(struct imsg *imsg)
{
	struct ibuf	 buf;
	struct eproc	*ep;
	struct instance	*in;
	char		 name[CONF_NAME_MAX];
	uint32_t	 idx, pid;
	int64_t		 started;

	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_strbuf(&buf, name, sizeof(name)) == -1 ||
	    ibuf_get_u32(&buf, &idx) == -1 || ibuf_get_u32(&buf, &pid) == -1 ||
	    ibuf_get_i64(&buf, &started) == -1 || ibuf_left(&buf) != 0 || idx >= CONF_SCALE_MAX || pid < 2)
		return (-1);
	if ((ep = engine_find(name)) == NULL) {
		log_warnx("%s-%u (pid %u): not in the configuration, "
		    "stopping it", name, idx, pid);
		return (0);
	}
	eproc_resize(ep, (int)idx + 1);
	if (ep->ep_inst[idx] == NULL)
		ep->ep_inst[idx] = instance_new(ep, (int)idx);
	in = ep->ep_inst[idx];
	if (instance_alive(in))
		return (-1);	/* adopted twice */
	in->in_token = imsg_get_peerid(imsg);
	in->in_pid = (pid_t)pid;
	in->in_started = now_ms();
	if (RB_INSERT(instance_pids, &engine->en_pids, in) != NULL)
		return (-1);
	in->in_state = IST_RUNNING;
	in->in_ready = 1;	/* it ran before the engine did */
	/* and passed its checks as far as anyone knows: a check says */
	ep->ep_health.h_verdict = 1;
	in->in_started_wall = started;
	log_info("%s: adopted running instance, pid %u", in->in_id, pid);
	/* a restarted engine watches it as the last one did */
	if (ep->ep_conf->pc_schedule == NULL)
		health_start(ep);
	return (0);
}

static int
engine_logfd(struct imsg *imsg)
{
	struct instance	*in;
	struct hook_run	*hr;
	uint8_t		 stream;
	int		 fd;

	if (imsg_get_data(imsg, &stream, sizeof(stream)) == -1 ||
	    (stream != STREAM_STDOUT && stream != STREAM_STDERR))
		return (-1);
	if ((fd = imsg_get_fd(imsg)) == -1)
		return (-1);
	if ((hr = hook_by_token(imsg_get_peerid(imsg))) != NULL) {
		logpipe_open(fd, stream, hook_label(hr), "hook", NULL);
		return (0);
	}
	if ((in = instance_by_token(imsg_get_peerid(imsg))) == NULL) {
		close(fd);
		return (0);
	}
	logpipe_open(fd, stream, in->in_proc->ep_conf->pc_name, in->in_id,
	    in->in_proc->ep_conf);
	return (0);
}

static int
engine_exit(struct imsg *imsg)
{
	struct eproc	*ep;
	struct instance	*in;
	int32_t		 msg[2];

	if (imsg_get_data(imsg, msg, sizeof(msg)) == -1)
		return (-1);
	if (hook_exited((pid_t)msg[0], msg[1]))
		;
	else if ((ep = health_by_pid((pid_t)msg[0])) != NULL)
		health_exec_exited(ep, msg[1]);
	else if ((in = instance_by_pid((pid_t)msg[0])) != NULL)
		instance_exited(in, msg[1]);
	proc_compose(privsep, PROC_PARENT, IMSG_EXIT_ACK, 0, -1, &msg[0],
	    sizeof(msg[0]));
	return (0);
}

static int
engine_dispatch_parent(struct imsgev *iev, struct imsg *imsg)
{
	struct privsep	*ps = iev->ps;
	struct eproc	*ep;
	struct instance	*in;
	struct hook_run	*hr;
	struct ibuf	 buf;
	char		 what[64];
	uint32_t	 pid, error;
	uint8_t		 fresh;
	int		 rv, fd;

	switch (imsg_get_type(imsg)) {
	case IMSG_CFG_GLOBAL:
	case IMSG_CFG_PROC:
	case IMSG_CFG_HOOK:
	case IMSG_CFG_DONE:
		if ((rv = config_recv(&engine->en_pending, imsg)) == -1)
			return (-1);
		if (rv == 1) {
			engine_configure(engine->en_pending);
			engine->en_pending = NULL;
			malloc_trim(0);
		}
		return (0);
	case IMSG_ADOPT:
		if (engine->en_conf == NULL || engine->en_started)
			return (-1);
		return (engine_adopt(imsg));
	case IMSG_LOGFD:
		return (engine_logfd(imsg));
	case IMSG_NOTIFYFD:
		if (imsg_get_len(imsg) != 0 || (fd = imsg_get_fd(imsg)) == -1)
			return (-1);
		if ((in = instance_by_token(imsg_get_peerid(imsg))) == NULL)
			close(fd);
		else
			notify_open(in, fd);
		return (0);
	case IMSG_INSTANCE_FINAL:
		if (engine->en_conf == NULL || engine->en_started)
			return (-1);
		return (instance_restore_final(imsg));
	case IMSG_PROC_INTENT:
		if (engine->en_conf == NULL || engine->en_started)
			return (-1);
		return (eproc_intent_restore(imsg));
	case IMSG_ENGINE_START:
		if (engine->en_conf == NULL || engine->en_started ||
		    imsg_get_data(imsg, &fresh, sizeof(fresh)) == -1 ||
		    fresh > 1)
			return (-1);
		if (fresh && hook_count(HOOK_PRE_START) > 0) {
			engine->en_hooking = 1;
			hook_phase(HOOK_PRE_START, engine_prestart_done, NULL);
		} else
			engine_start();
		return (0);
	case IMSG_SPAWNED:
		if (imsg_get_data(imsg, &pid, sizeof(pid)) == -1 || pid < 2)
			return (-1);
		if ((ep = health_by_token(imsg_get_peerid(imsg))) != NULL) {
			health_exec_spawned(ep, (pid_t)pid);
			return (0);
		}
		if ((hr = hook_by_token(imsg_get_peerid(imsg))) != NULL) {
			hook_spawned(hr, (pid_t)pid);
			return (0);
		}
		if ((in = instance_by_token(imsg_get_peerid(imsg))) == NULL ||
		    in->in_state != IST_STARTING)
			return (-1);
		instance_spawned(in, (pid_t)pid);
		return (0);
	case IMSG_SPAWN_FAILED:
		imsg_get_ibuf(imsg, &buf);
		if (ibuf_get_u32(&buf, &error) == -1 ||
		    ibuf_get_strbuf(&buf, what, sizeof(what)) == -1)
			return (-1);
		if ((ep = health_by_token(imsg_get_peerid(imsg))) != NULL) {
			health_exec_failed(ep, (int)error, what);
			return (0);
		}
		if ((hr = hook_by_token(imsg_get_peerid(imsg))) != NULL) {
			hook_spawn_failed(hr, (int)error, what);
			return (0);
		}
		if ((in = instance_by_token(imsg_get_peerid(imsg))) == NULL ||
		    in->in_state != IST_STARTING)
			return (-1);
		instance_spawn_failed(in, (int)error, what);
		return (0);
	case IMSG_EXIT:
		return (engine_exit(imsg));
	case IMSG_SHUTDOWN:
		if (engine->en_conf == NULL)
			exit(0);
		engine_shutdown();
		return (0);
	case IMSG_CTL_PROCFD:
		if ((fd = imsg_get_fd(imsg)) == -1)
			return (-1);
		if (ps->ps_iev[PROC_API] != NULL)
			proc_channel_close(ps->ps_iev[PROC_API]);
		proc_channel(ps, PROC_API, fd, IMSG_LINK_MAXSIZE, 0);
		engine_state_snapshot();
		return (0);
	}
	return (-1);
}

static int
engine_dispatch_api(struct imsgev *iev, struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_REQUEST:
		return (control_request(imsg));
	}
	return (-1);
}
