/*
 * Start and stop order.  A process starts once every process it
 * depends on is ready (running; a one-shot: completed) and every
 * process of a lower priority has been started; it stops, at shutdown,
 * once every process that depends on it and every process of a higher
 * priority has stopped.  Ties go by name, so the order is stable.
 */

#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "phpeekd.h"

static int	eproc_alive(struct eproc *);
static int	eproc_started(struct eproc *);
static int	eproc_failed(struct eproc *);
static int	eproc_depends_on(struct eproc *, const char *);

static int
eproc_alive(struct eproc *ep)
{
	int	i;

	for (i = 0; i < ep->ep_ninst; i++)
		if (ep->ep_inst[i] != NULL &&
		    (instance_alive(ep->ep_inst[i]) ||
		    ep->ep_inst[i]->in_state == IST_BACKOFF))
			return (1);
	return (0);
}

/* What a dependent waits for; /readyz asks the same. */
int
eproc_ready(struct eproc *ep)
{
	struct proc_conf	*pc = ep->ep_conf;
	struct instance		*in;
	int			 i;

	if (!ep->ep_launched)
		return (0);
	/* a scheduled task is never something to wait for */
	if (pc->pc_schedule != NULL)
		return (1);
	if (ep->ep_held || pc->pc_initial_stopped)
		return (pc->pc_type == PTYPE_LONGRUN);
	if (pc->pc_type == PTYPE_LONGRUN && health_gates(ep) &&
	    !ep->ep_health.h_ready)
		return (0);
	for (i = 0; i < ep->ep_desired && i < ep->ep_ninst; i++) {
		if ((in = ep->ep_inst[i]) == NULL)
			return (0);
		if (pc->pc_type == PTYPE_ONESHOT ?
		    in->in_state != IST_COMPLETED :
		    in->in_state != IST_RUNNING)
			return (0);
		/* a service that reports readiness is waited for */
		if (pc->pc_type == PTYPE_LONGRUN &&
		    pc->pc_ready != READY_NONE && !in->in_ready)
			return (0);
	}
	return (1);
}

/* What a process of a higher priority waits for. */
static int
eproc_started(struct eproc *ep)
{
	int	i;

	if (!ep->ep_conf->pc_enabled)
		return (1);
	if (!ep->ep_launched)
		return (0);
	for (i = 0; i < ep->ep_ninst; i++)
		if (ep->ep_inst[i] != NULL &&
		    ep->ep_inst[i]->in_state == IST_STARTING)
			return (0);
	return (1);
}

/* A dependency that will not become ready by itself. */
static int
eproc_failed(struct eproc *ep)
{
	int	i;

	if (!ep->ep_launched)
		return (ep->ep_blocked);
	for (i = 0; i < ep->ep_ninst; i++)
		if (ep->ep_inst[i] != NULL &&
		    (ep->ep_inst[i]->in_state == IST_FAILED ||
		    (ep->ep_conf->pc_type == PTYPE_LONGRUN &&
		    ep->ep_inst[i]->in_state == IST_EXITED)))
			return (1);
	return (0);
}

static int
eproc_depends_on(struct eproc *ep, const char *name)
{
	size_t	i;

	for (i = 0; i < ep->ep_conf->pc_depends.sl_n; i++)
		if (strcmp(ep->ep_conf->pc_depends.sl_v[i], name) == 0)
			return (1);
	return (0);
}

/* Start whatever may start now. */
void
order_start(void)
{
	struct eproc	*ep, *dep, *o;
	size_t		 i;
	int		 wait, progress;

	do {
		progress = 0;
		TAILQ_FOREACH(ep, &engine->en_procs, ep_entry) {
			if (ep->ep_launched || ep->ep_removed ||
			    ep->ep_blocked || ep->ep_held ||
			    !ep->ep_conf->pc_enabled)
				continue;
			wait = 0;
			for (i = 0; i < ep->ep_conf->pc_depends.sl_n; i++) {
				dep = engine_find(ep->ep_conf->pc_depends.sl_v[i]);
				if (dep == NULL)
					continue;
				if (eproc_failed(dep)) {
					log_warnx("%s: not started: it depends "
					    "on %s, which failed",
					    ep->ep_conf->pc_name,
					    dep->ep_conf->pc_name);
					ep->ep_blocked = 1;
					engine_state_proc(ep);
					progress = 1;
					break;
				}
				if (!eproc_ready(dep))
					wait = 1;
			}
			if (ep->ep_blocked || wait)
				continue;
			TAILQ_FOREACH(o, &engine->en_procs, ep_entry)
				if (!o->ep_removed && o->ep_conf->pc_priority <
				    ep->ep_conf->pc_priority && !eproc_started(o))
					wait = 1;
			if (wait)
				continue;
			ep->ep_launched = 1;
			if (ep->ep_conf->pc_schedule != NULL)
				sched_arm(ep);
			else
				eproc_scale(ep, ep->ep_conf->pc_scale);
			progress = 1;
		}
	} while (progress);
}

/* At shutdown: stop whatever nothing still running depends on. */
void
order_stop(void)
{
	struct eproc	*ep, *o;
	int		 i, wait;

	TAILQ_FOREACH(ep, &engine->en_procs, ep_entry) {
		if (ep->ep_stopping || !eproc_alive(ep))
			continue;
		wait = 0;
		TAILQ_FOREACH(o, &engine->en_procs, ep_entry) {
			if (o == ep || !eproc_alive(o))
				continue;
			if (eproc_depends_on(o, ep->ep_conf->pc_name) ||
			    o->ep_conf->pc_priority > ep->ep_conf->pc_priority)
				wait = 1;
		}
		if (wait)
			continue;
		ep->ep_stopping = 1;
		for (i = 0; i < ep->ep_ninst; i++)
			if (ep->ep_inst[i] != NULL)
				instance_stop(ep->ep_inst[i]);
	}
}
