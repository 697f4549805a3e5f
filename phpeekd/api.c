/*
 * The api role: it will serve the REST API, the control socket and the
 * metrics on listeners the parent hands it.  Here it keeps the current
 * configuration and its link to the engine.
 */

#include <sys/types.h>

#include <stdlib.h>
#include <unistd.h>

#include "phpeekd.h"

static int	api_dispatch_parent(struct imsgev *, struct imsg *);
static int	api_dispatch_engine(struct imsgev *, struct imsg *);

static struct phpeekd_conf	*api_conf, *api_pending;

static struct privsep_proc api_procs[] = {
	{ "parent",	PROC_PARENT,	api_dispatch_parent },
	{ "engine",	PROC_ENGINE,	api_dispatch_engine },
};

void
api_role(void)
{
	struct privsep	*ps = privsep;

	event_init();
	ps->ps_procs = api_procs;
	ps->ps_nprocs = sizeof(api_procs) / sizeof(api_procs[0]);
	proc_channel(ps, PROC_PARENT, PROC_PARENT_SOCK_FILENO,
	    IMSG_CFG_MAXSIZE, 1);
	sandbox_role(PROC_API);
	event_dispatch();
	exit(0);
}

static int
api_dispatch_parent(struct imsgev *iev, struct imsg *imsg)
{
	struct privsep	*ps = iev->ps;
	int		 rv, fd;

	switch (imsg_get_type(imsg)) {
	case IMSG_CFG_GLOBAL:
	case IMSG_CFG_PROC:
	case IMSG_CFG_DONE:
		if ((rv = config_recv(&api_pending, imsg)) == -1)
			return (-1);
		if (rv == 1) {
			config_free(api_conf);
			api_conf = api_pending;
			api_pending = NULL;
			log_setformat(api_conf->cf_global.gc_log_format);
		}
		return (0);
	case IMSG_CTL_PROCFD:
		if ((fd = imsg_get_fd(imsg)) == -1)
			return (-1);
		if (ps->ps_iev[PROC_ENGINE] != NULL)
			proc_channel_close(ps->ps_iev[PROC_ENGINE]);
		proc_channel(ps, PROC_ENGINE, fd, IMSG_LINK_MAXSIZE, 0);
		return (0);
	}
	return (-1);
}

static int
api_dispatch_engine(struct imsgev *iev, struct imsg *imsg)
{
	/* state deltas arrive with the api issue's IMSG_STATE_* */
	return (-1);
}
