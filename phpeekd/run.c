/*
 * Runs of scheduled tasks and one-shot processes, for their histories
 * (GET .../schedule/history, /api/v1/oneshot/history): each start and
 * each end goes to the api, which keeps the rings.  A run triggered
 * through the API with sync=true is answered when it ends.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "phpeekd.h"

static void	run_send(struct instance *, int64_t, int32_t);

static void
run_send(struct instance *in, int64_t end, int32_t code)
{
	struct state_run	sr;

	if (privsep->ps_iev[PROC_API] == NULL)
		return;
	memset(&sr, 0, sizeof(sr));
	strlcpy(sr.sr_proc, in->in_proc->ep_conf->pc_name, sizeof(sr.sr_proc));
	strlcpy(sr.sr_inst, in->in_id, sizeof(sr.sr_inst));
	sr.sr_id = in->in_run_id;
	sr.sr_kind = in->in_proc->ep_conf->pc_schedule != NULL ? RUN_SCHEDULED :
	    RUN_ONESHOT;
	sr.sr_manual = (uint32_t)in->in_run_manual;
	sr.sr_start_ms = in->in_run_start;
	sr.sr_end_ms = end;
	sr.sr_exit = code;
	(void)state_send_run(privsep, &sr);
}

/* An instance of a job or a one-shot began to run. */
void
run_start(struct instance *in, int manual)
{
	struct eproc	*ep = in->in_proc;

	in->in_run_id = ++ep->ep_run_seq;
	in->in_run_start = wall_ms();
	in->in_run_manual = manual;
	run_send(in, 0, 0);
}

/* It ended: the record is closed, a sync trigger answered. */
void
run_end(struct instance *in, int status)
{
	struct eproc	*ep = in->in_proc;
	int32_t		 code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	char		 msg[16];

	if (in->in_run_id == 0)
		return;
	run_send(in, wall_ms(), code);
	if (ep->ep_trigger_id != 0 && ep->ep_trigger_run == in->in_run_id) {
		snprintf(msg, sizeof(msg), "%d", code);
		ctl_send_reply(privsep, ep->ep_trigger_id, 200, msg);
		ep->ep_trigger_id = 0;
	}
	in->in_run_id = 0;
}
