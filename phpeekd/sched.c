/*
 * Scheduled tasks: processes with a schedule run on their cron
 * expression in the container's time zone (or CRON_TZ=), one timer per
 * task set for exactly the next due minute, so nothing wakes up in
 * between.  schedule_max_concurrent is applied as phpeek-pm documents
 * it (0 any number, N at most N at once, later ticks skipped and
 * counted) rather than queued as its code does; schedule_timeout kills
 * a run that takes too long.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phpeekd.h"

#define SCHED_MAX_RUNS	100		/* concurrent runs when "any" */

static void	sched_fire(int, short, void *);
static void	sched_timeout_cb(int, short, void *);
static void	sched_timer(struct eproc *, int64_t);

/* Set the task's timer for its next due minute. */
void
sched_arm(struct eproc *ep)
{
	struct cron	c;
	char		err[128];
	int64_t		wms = wall_ms(), now = wms / 1000, next;

	sched_disarm(ep);
	if (ep->ep_conf->pc_schedule == NULL || engine->en_shutdown ||
	    ep->ep_paused ||
	    cron_parse(ep->ep_conf->pc_schedule, &c, err, sizeof(err)) == -1)
		return;
	if ((next = cron_next(&c, now)) == 0) {
		log_warnx("%s: \"%s\" never comes due", ep->ep_conf->pc_name,
		    ep->ep_conf->pc_schedule);
		return;
	}
	ep->ep_next_run = next;
	sched_timer(ep, wms);
	engine_state_proc(ep);
}

/* The timer for ep_next_run, seen at wall clock wms. */
static void
sched_timer(struct eproc *ep, int64_t wms)
{
	struct timeval	tv;

	evtimer_set(&ep->ep_cron_ev, sched_fire, ep);
	/* a few ms past the boundary, so the minute has begun */
	ms_to_tv(ep->ep_next_run * 1000 - wms + 5, &tv);
	evtimer_add(&ep->ep_cron_ev, &tv);
	ep->ep_cron_armed = 1;
}

void
sched_disarm(struct eproc *ep)
{
	if (!ep->ep_cron_armed)
		return;
	evtimer_del(&ep->ep_cron_ev);
	ep->ep_cron_armed = 0;
	ep->ep_next_run = 0;
}

/*
 * Start a run now, on the schedule or through the API; -1 when as
 * many runs as allowed are going already.
 */
int
sched_run(struct eproc *ep, int manual)
{
	struct instance	*in;
	int		 i, running = 0, limit, slot = -1;

	limit = ep->ep_conf->pc_schedule_max > 0 ?
	    ep->ep_conf->pc_schedule_max : SCHED_MAX_RUNS;
	for (i = 0; i < ep->ep_ninst; i++) {
		in = ep->ep_inst[i];
		if (in != NULL && instance_alive(in))
			running++;
		else if (slot == -1)
			slot = i;
	}
	if (running >= limit)
		return (-1);
	if (slot == -1) {
		slot = ep->ep_ninst;
		eproc_resize(ep, slot + 1);
	}
	if (ep->ep_inst[slot] == NULL)
		ep->ep_inst[slot] = instance_new(ep, slot);
	in = ep->ep_inst[slot];
	in->in_state = IST_STOPPED;
	in->in_remove = 0;
	in->in_run_manual = manual;
	ep->ep_last_run = (int64_t)time(NULL);
	log_info("%s: %s run", in->in_id, manual ? "triggered" : "scheduled");
	instance_spawn(in);
	return (0);
}

static void
sched_fire(int fd, short event, void *arg)
{
	struct eproc	*ep = arg;
	struct instance	*in;
	int64_t		 wms;
	int		 i, running = 0;

	ep->ep_cron_armed = 0;
	/*
	 * The loop's clock may lag the wall clock: a timer that came
	 * before the due second waits out the rest of it.
	 */
	if ((wms = wall_ms()) < ep->ep_next_run * 1000) {
		sched_timer(ep, wms);
		return;
	}
	if (ep->ep_held || ep->ep_paused || sched_run(ep, 0) == -1) {
		for (i = 0; i < ep->ep_ninst; i++)
			if ((in = ep->ep_inst[i]) != NULL &&
			    instance_alive(in))
				running++;
		ep->ep_runs_skipped++;
		log_warnx("%s: run skipped: %d still running", ep->ep_conf->
		    pc_name, running);
	}
	sched_arm(ep);
}

/* A run of a scheduled task has started: bound it if asked to. */
void
sched_started(struct instance *in)
{
	struct timeval	tv;
	int64_t		ms = in->in_proc->ep_conf->pc_schedule_timeout_ms;

	run_start(in, in->in_run_manual);
	heartbeat_start(in->in_proc);
	if (ms <= 0)
		return;
	evtimer_set(&in->in_timer, sched_timeout_cb, in);
	ms_to_tv(ms, &tv);
	evtimer_add(&in->in_timer, &tv);
}

static void
sched_timeout_cb(int fd, short event, void *arg)
{
	struct instance	*in = arg;

	if (in->in_state != IST_RUNNING)
		return;
	log_warnx("%s: timed out after %lldms, killing it", in->in_id,
	    (long long)in->in_proc->ep_conf->pc_schedule_timeout_ms);
	instance_signal(in, SIGKILL);
}

/* A run ended: count it; the task itself stays scheduled. */
void
sched_exited(struct instance *in, int status)
{
	struct eproc	*ep = in->in_proc;

	ep->ep_last_exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	heartbeat_end(ep, ep->ep_last_exit);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		ep->ep_runs_ok++;
	else
		ep->ep_runs_failed++;
	engine_state_proc(ep);
}
