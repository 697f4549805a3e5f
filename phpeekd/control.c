/*
 * Control requests from the api (start, stop, restart, scale, signal)
 * and the state the engine publishes for the api's read model.
 *
 * Stop and restart are answered when they are complete, or after the
 * process's stop timeout plus a margin, so `phpeekctl stop` returns
 * when the process has stopped.
 */

#include <sys/types.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phpeekd.h"

#define CTL_MARGIN_MS	5000

static void	control_reply(uint32_t, uint32_t, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));
static void	control_defer(uint32_t, uint32_t, struct eproc *);
static void	control_timeout_cb(int, short, void *);
static int	control_done(struct ctl_pending *);
static void	control_job(uint32_t, uint32_t, struct eproc *, int64_t);

static void
control_reply(uint32_t id, uint32_t status, const char *fmt, ...)
{
	char	msg[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctl_send_reply(privsep, id, status, msg);
}

static void
control_defer(uint32_t id, uint32_t op, struct eproc *ep)
{
	struct ctl_pending	*cp;
	struct timeval		 tv;

	if ((cp = calloc(1, sizeof(*cp))) == NULL)
		fatal("%s", __func__);
	cp->cp_id = id;
	cp->cp_op = op;
	cp->cp_proc = ep;
	evtimer_set(&cp->cp_timer, control_timeout_cb, cp);
	ms_to_tv((int64_t)ep->ep_conf->pc_stop_timeout * 1000 + CTL_MARGIN_MS,
	    &tv);
	evtimer_add(&cp->cp_timer, &tv);
	TAILQ_INSERT_TAIL(&engine->en_ctl, cp, cp_entry);
}

static void
control_timeout_cb(int fd, short event, void *arg)
{
	struct ctl_pending	*cp = arg;

	control_reply(cp->cp_id, 504, "%s: timed out waiting for the %s",
	    cp->cp_proc->ep_conf->pc_name,
	    cp->cp_op == CTL_STOP ? "stop" : "restart");
	TAILQ_REMOVE(&engine->en_ctl, cp, cp_entry);
	free(cp);
}

/* Whether a deferred request has taken effect. */
static int
control_done(struct ctl_pending *cp)
{
	struct eproc	*ep = cp->cp_proc;
	struct instance	*in;
	int		 i;

	for (i = 0; i < ep->ep_ninst; i++) {
		if ((in = ep->ep_inst[i]) == NULL)
			continue;
		if (cp->cp_op == CTL_STOP && instance_alive(in))
			return (0);
		if (cp->cp_op == CTL_RESTART && i < ep->ep_desired &&
		    (in->in_respawn || in->in_state == IST_STARTING ||
		    in->in_state == IST_STOPPING))
			return (0);
	}
	return (1);
}

/* After every change: answer what is complete now. */
void
control_check(void)
{
	struct ctl_pending	*cp, *next;

	TAILQ_FOREACH_SAFE(cp, &engine->en_ctl, cp_entry, next) {
		if (!control_done(cp))
			continue;
		control_reply(cp->cp_id, 200, "%s",
		    cp->cp_op == CTL_STOP ? "stopped" : "restarted");
		evtimer_del(&cp->cp_timer);
		TAILQ_REMOVE(&engine->en_ctl, cp, cp_entry);
		free(cp);
	}
}

/* The process goes away: answer its pending requests now. */
void
control_forget(struct eproc *ep)
{
	struct ctl_pending	*cp, *next;

	TAILQ_FOREACH_SAFE(cp, &engine->en_ctl, cp_entry, next) {
		if (cp->cp_proc != ep)
			continue;
		control_reply(cp->cp_id, 409, "%s: removed",
		    ep->ep_conf->pc_name);
		evtimer_del(&cp->cp_timer);
		TAILQ_REMOVE(&engine->en_ctl, cp, cp_entry);
		free(cp);
	}
}

/* A scheduled task's own operations, with phpeek-pm's refusals. */
static void
control_job(uint32_t id, uint32_t op, struct eproc *ep, int64_t sync)
{
	const char	*name = ep->ep_conf->pc_name;
	int		 i, executing = 0;

	for (i = 0; i < ep->ep_ninst; i++)
		if (ep->ep_inst[i] != NULL && instance_alive(ep->ep_inst[i]))
			executing = 1;
	switch (op) {
	case CTL_PAUSE:
		if (executing) {
			control_reply(id, 409, "cannot pause job while "
			    "executing");
			return;
		}
		log_info("%s: schedule paused", name);
		ep->ep_paused = 1;
		sched_disarm(ep);
		control_reply(id, 200, "paused");
		break;
	case CTL_RESUME:
		if (!ep->ep_paused) {
			control_reply(id, 409, "job is not paused (current "
			    "state: %s)", executing ? "executing" : "idle");
			return;
		}
		log_info("%s: schedule resumed", name);
		ep->ep_paused = 0;
		sched_arm(ep);
		control_reply(id, 200, "resumed");
		break;
	default:
		if (ep->ep_paused) {
			control_reply(id, 409, "cannot trigger paused job");
			return;
		}
		if (executing || ep->ep_trigger_id != 0) {
			control_reply(id, 409, "job is already executing");
			return;
		}
		if (sched_run(ep, 1) == -1) {
			control_reply(id, 409, "job is already executing");
			return;
		}
		if (sync) {
			/* answered by run_end when this run is over */
			ep->ep_trigger_id = id;
			ep->ep_trigger_run = ep->ep_run_seq + 1;
		} else
			control_reply(id, 202, "triggered");
		break;
	}
	engine_state_proc(ep);
}

int
control_request(struct imsg *imsg)
{
	struct eproc	*ep;
	struct instance	*in;
	char		 name[CONF_NAME_MAX];
	uint32_t	 op, id = imsg_get_peerid(imsg);
	int64_t		 arg;
	int		 i;

	if (ctl_recv_request(imsg, &op, name, sizeof(name), &arg) == -1)
		return (-1);
	if ((ep = engine_find(name)) == NULL) {
		control_reply(id, 404, "process %s not found", name);
		return (0);
	}
	if (engine->en_shutdown) {
		control_reply(id, 503, "shutting down");
		return (0);
	}
	if (ep->ep_conf->pc_schedule != NULL && op != CTL_SIGNAL &&
	    op < CTL_PAUSE) {
		control_reply(id, 409, "%s is a scheduled task", name);
		return (0);
	}
	if (ep->ep_conf->pc_schedule == NULL && op >= CTL_PAUSE) {
		control_reply(id, 404, "job \"%s\" not found", name);
		return (0);
	}
	switch (op) {
	case CTL_PAUSE:
	case CTL_RESUME:
	case CTL_TRIGGER:
		control_job(id, op, ep, arg);
		break;
	case CTL_START:
		if (!ep->ep_conf->pc_enabled) {
			control_reply(id, 409, "process %s is disabled", name);
			break;
		}
		log_info("%s: start requested", name);
		ep->ep_held = 0;
		ep->ep_blocked = 0;
		for (i = 0; i < ep->ep_ninst; i++)
			if ((in = ep->ep_inst[i]) != NULL &&
			    !instance_alive(in) && in->in_state != IST_BACKOFF) {
				in->in_restarts = 0;
				in->in_state = IST_STOPPED;
			}
		if (ep->ep_launched)
			eproc_scale(ep, ep->ep_desired > 0 ? ep->ep_desired :
			    ep->ep_conf->pc_scale);
		else
			order_start();
		engine_state_proc(ep);
		control_reply(id, 200, "started");
		break;
	case CTL_STOP:
		log_info("%s: stop requested", name);
		ep->ep_held = 1;
		for (i = 0; i < ep->ep_ninst; i++)
			if ((in = ep->ep_inst[i]) != NULL) {
				in->in_respawn = 0;
				instance_stop(in);
			}
		engine_state_proc(ep);
		control_defer(id, op, ep);
		break;
	case CTL_RESTART:
		if (!ep->ep_conf->pc_enabled) {
			control_reply(id, 409, "process %s is disabled", name);
			break;
		}
		log_info("%s: restart requested", name);
		ep->ep_held = 0;
		if (!ep->ep_launched)
			ep->ep_launched = 1;
		for (i = 0; i < ep->ep_ninst; i++) {
			if ((in = ep->ep_inst[i]) == NULL)
				continue;
			in->in_restarts = 0;
			if (instance_alive(in)) {
				in->in_respawn = 1;
				instance_stop(in);
			} else if (in->in_state != IST_BACKOFF)
				in->in_state = IST_STOPPED;
		}
		eproc_scale(ep, ep->ep_desired > 0 ? ep->ep_desired :
		    ep->ep_conf->pc_scale);
		control_defer(id, op, ep);
		break;
	case CTL_SCALE:
		if (arg < 0 || arg > CONF_SCALE_MAX) {
			control_reply(id, 400, "scale must be 0..%d",
			    CONF_SCALE_MAX);
			break;
		}
		if (ep->ep_conf->pc_type == PTYPE_ONESHOT && arg > 1) {
			control_reply(id, 400, "a oneshot process has at "
			    "most one instance");
			break;
		}
		log_info("%s: scale %d -> %lld requested", name,
		    ep->ep_desired, (long long)arg);
		ep->ep_launched = 1;
		ep->ep_held = 0;
		eproc_scale(ep, (int)arg);
		control_reply(id, 200, "%lld", (long long)arg);
		break;
	case CTL_SIGNAL:
		if (arg < 1 || arg >= NSIG) {
			control_reply(id, 400, "invalid signal %lld",
			    (long long)arg);
			break;
		}
		log_info("%s: sending %s", name, signal_name((int)arg));
		for (i = 0; i < ep->ep_ninst; i++)
			if ((in = ep->ep_inst[i]) != NULL && in->in_pid > 0)
				instance_signal_main(in, (int)arg);
		control_reply(id, 200, "signalled");
		break;
	}
	engine_check_done();
	return (0);
}

void
engine_state_proc(struct eproc *ep)
{
	struct state_proc	sp;

	readyfile_touch();
	eproc_intent(ep);
	if (privsep->ps_iev[PROC_API] == NULL)
		return;
	memset(&sp, 0, sizeof(sp));
	strlcpy(sp.sp_name, ep->ep_conf->pc_name, sizeof(sp.sp_name));
	sp.sp_desired = (uint32_t)ep->ep_desired;
	if (ep->ep_launched)
		sp.sp_flags |= SPF_LAUNCHED;
	if (ep->ep_blocked)
		sp.sp_flags |= SPF_BLOCKED;
	if (eproc_ready(ep) && !ep->ep_health.h_unhealthy)
		sp.sp_flags |= SPF_READY;
	if (ep->ep_paused)
		sp.sp_flags |= SPF_PAUSED;
	sp.sp_hc_type = (uint32_t)ep->ep_conf->pc_health.hc_type;
	sp.sp_hc_last_ok = (uint32_t)ep->ep_health.h_last_ok;
	sp.sp_hc_fails = (uint32_t)ep->ep_health.h_fails;
	sp.sp_hc_passed = ep->ep_health.h_passed;
	sp.sp_hc_failed = ep->ep_health.h_failed;
	sp.sp_hc_sum_us = ep->ep_health.h_sum_us;
	memcpy(sp.sp_hc_hist, ep->ep_health.h_hist, sizeof(sp.sp_hc_hist));
	sp.sp_restarts_crash = ep->ep_restarts_crash;
	sp.sp_restarts_normal = ep->ep_restarts_normal;
	sp.sp_restarts_health = ep->ep_restarts_health;
	sp.sp_next_run = ep->ep_next_run;
	sp.sp_last_run = ep->ep_last_run;
	sp.sp_last_exit = ep->ep_last_exit;
	sp.sp_runs_ok = ep->ep_runs_ok;
	sp.sp_runs_failed = ep->ep_runs_failed;
	sp.sp_runs_skipped = ep->ep_runs_skipped;
	sp.sp_hb_ok = ep->ep_hb_ok;
	sp.sp_hb_failed = ep->ep_hb_failed;
	sp.sp_hb_last = ep->ep_hb_last;
	state_send_proc(privsep, &sp);
}

void
engine_state_instance(struct instance *in)
{
	struct state_instance	si;

	if (privsep->ps_iev[PROC_API] == NULL)
		return;
	memset(&si, 0, sizeof(si));
	strlcpy(si.sti_proc, in->in_proc->ep_conf->pc_name,
	    sizeof(si.sti_proc));
	si.sti_idx = (uint32_t)in->in_idx;
	si.sti_state = in->in_state;
	si.sti_pid = in->in_pid;
	si.sti_restarts = (uint32_t)in->in_restarts;
	si.sti_started = in->in_started_wall;
	si.sti_exit_code = in->in_exit_code;
	si.sti_exited = in->in_exited;
	state_send_instance(privsep, &si);
}

/* Everything, for a new api or after a new configuration. */
void
engine_state_snapshot(void)
{
	struct eproc	*ep;
	int		 i;

	if (privsep->ps_iev[PROC_API] == NULL)
		return;
	proc_compose(privsep, PROC_API, IMSG_STATE_BEGIN, 0, -1, NULL, 0);
	TAILQ_FOREACH(ep, &engine->en_procs, ep_entry) {
		if (ep->ep_removed)
			continue;
		engine_state_proc(ep);
		for (i = 0; i < ep->ep_ninst; i++)
			if (ep->ep_inst[i] != NULL)
				engine_state_instance(ep->ep_inst[i]);
		fpm_resend(ep);
	}
	hook_stats_send();
	proc_compose(privsep, PROC_API, IMSG_STATE_END, 0, -1, NULL, 0);
}
