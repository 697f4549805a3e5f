/*
 * The container's readiness file (global.readiness): present while
 * every tracked process is running, or healthy, and gone otherwise, so
 * that a Kubernetes exec probe or a load balancer's script can test one
 * path.  The engine judges, on every change of state and at no other
 * time; the parent, which may write files, writes or removes it.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <event.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "phpeekd.h"
#include "log.h"

/* engine */
static struct event	readyfile_ev;
static int		readyfile_armed;	/* readyfile_ev is set up */
static int		readyfile_sent = -1;	/* last verdict sent */

/* parent */
static char		readyfile_at[PATH_MAX];	/* written there, or "" */
static time_t		readyfile_since;	/* unix s it became ready */

static void	readyfile_judge(int, short, void *);
static int	readyfile_proc(struct eproc *, int);
static int	readyfile_mkdirs(const char *);

/*
 * Something changed: judge once the current round of callbacks is
 * done, so a burst of transitions (a reload, 200 instances starting)
 * costs one pass and sends at most one message.
 */
void
readyfile_touch(void)
{
	if (engine == NULL || engine->en_conf == NULL ||
	    !engine->en_conf->cf_global.gc_ready_enabled)
		return;
	if (!readyfile_armed) {
		evtimer_set(&readyfile_ev, readyfile_judge, NULL);
		readyfile_armed = 1;
	}
	if (!evtimer_pending(&readyfile_ev, NULL))
		event_active(&readyfile_ev, EV_TIMEOUT, 1);
}

/* Judge at once, before what the caller does next (a shutdown). */
void
readyfile_now(void)
{
	if (engine->en_conf == NULL ||
	    !engine->en_conf->cf_global.gc_ready_enabled)
		return;
	if (readyfile_armed)
		event_del(&readyfile_ev);
	readyfile_judge(-1, 0, NULL);
}

/* A new generation: say the verdict again, the path may be new. */
void
readyfile_reset(void)
{
	readyfile_sent = -1;
	readyfile_touch();
}

/*
 * Whether one process counts as ready; healthy: all_healthy mode.  An
 * instance coming up (a scale-up, or one that has not yet said it is
 * ready) does not count against it while another serves; one stopped,
 * stopping, failed or waiting to restart does.
 */
static int
readyfile_proc(struct eproc *ep, int healthy)
{
	struct proc_conf	*pc = ep->ep_conf;
	struct instance		*in;
	int			 i, up = 0;

	if (!ep->ep_launched || ep->ep_held || ep->ep_desired < 1)
		return (0);
	if (pc->pc_schedule != NULL)
		return (1);
	for (i = 0; i < ep->ep_desired; i++) {
		if (i >= ep->ep_ninst || (in = ep->ep_inst[i]) == NULL)
			return (0);
		if (pc->pc_type == PTYPE_ONESHOT) {
			if (in->in_state != IST_COMPLETED)
				return (0);
			up++;
		} else if (in->in_state == IST_RUNNING) {
			if (!healthy || pc->pc_ready == READY_NONE ||
			    in->in_ready)
				up++;
		} else if (in->in_state != IST_STARTING)
			return (0);
	}
	if (up == 0)
		return (0);
	if (healthy && pc->pc_type == PTYPE_LONGRUN &&
	    pc->pc_health.hc_type != HC_NONE &&
	    (!ep->ep_health.h_verdict || ep->ep_health.h_unhealthy))
		return (0);
	return (1);
}

static void
readyfile_judge(int fd, short event, void *arg)
{
	struct global_conf	*gc;
	struct eproc		*ep;
	uint8_t			 ready = 0;
	int			 tracked = 0;

	if (engine->en_conf == NULL || !engine->en_started)
		return;
	gc = &engine->en_conf->cf_global;
	if (!gc->gc_ready_enabled)
		return;
	if (!engine->en_shutdown) {
		ready = 1;
		TAILQ_FOREACH(ep, &engine->en_procs, ep_entry) {
			if (ep->ep_removed || !ep->ep_conf->pc_ready_tracked)
				continue;
			tracked++;
			if (!readyfile_proc(ep, gc->gc_ready_mode ==
			    READYFILE_ALL_HEALTHY)) {
				ready = 0;
				break;
			}
		}
		if (tracked == 0)
			ready = 0;
	}
	if (readyfile_sent == ready)
		return;
	log_debug("readiness: the container is %sready", ready ? "" : "not ");
	if (proc_compose(privsep, PROC_PARENT, IMSG_READY_FILE, 0, -1, &ready,
	    sizeof(ready)) == 0)
		readyfile_sent = ready;
}

/* mkdir -p of the file's directory, 0755 as phpeek-pm documents. */
static int
readyfile_mkdirs(const char *path)
{
	char	 dir[PATH_MAX], *p;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		return (-1);
	if ((p = strrchr(dir, '/')) == NULL || p == dir)
		return (0);
	*p = '\0';
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			return (-1);
		*p = '/';
	}
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return (-1);
	return (0);
}

/*
 * Parent: a generation is installed.  Prepare the new path and remove
 * a file left by an earlier run, or by this one under the old path:
 * whatever is there was not written for this configuration.  The
 * engine says the verdict again after every generation.
 */
void
readyfile_install(const struct global_conf *old, const struct global_conf *gc)
{
	if (old != NULL && old->gc_ready_enabled && (!gc->gc_ready_enabled ||
	    strcmp(old->gc_ready_path, gc->gc_ready_path) != 0))
		readyfile_remove("readiness moved or turned off");
	if (!gc->gc_ready_enabled)
		return;
	if (old != NULL && old->gc_ready_enabled &&
	    strcmp(old->gc_ready_path, gc->gc_ready_path) == 0)
		return;
	if (readyfile_mkdirs(gc->gc_ready_path) == -1)
		log_warn("readiness: cannot create the directory of %s",
		    gc->gc_ready_path);
	if (unlink(gc->gc_ready_path) == 0)
		log_info("readiness: removed a stale %s", gc->gc_ready_path);
	else if (errno != ENOENT)
		log_warn("readiness: %s", gc->gc_ready_path);
}

/*
 * Parent: the engine's verdict.  Ready writes the file whole (a
 * temporary file renamed over it, so a probe never reads half of it);
 * not ready removes it.
 */
void
readyfile_set(const struct global_conf *gc, int ready)
{
	char	 text[READYFILE_CONTENT_MAX + 64], why[PATH_MAX + 128];
	int	 len;

	if (!gc->gc_ready_enabled)
		return;
	if (!ready) {
		readyfile_remove("not ready");
		return;
	}
	if (readyfile_at[0] == '\0')
		readyfile_since = time(NULL);
	if (gc->gc_ready_content[0] != '\0')
		len = snprintf(text, sizeof(text), "%s",
		    gc->gc_ready_content);
	else
		len = snprintf(text, sizeof(text), "ready\ntimestamp=%lld\n",
		    (long long)readyfile_since);
	if (len < 0 || (size_t)len >= sizeof(text))
		return;
	if (file_replace(gc->gc_ready_path, text, (size_t)len, why,
	    sizeof(why)) == -1) {
		log_warnx("readiness: cannot write %s", why);
		return;
	}
	if (readyfile_at[0] == '\0')
		log_info("readiness: ready, wrote %s", gc->gc_ready_path);
	(void)strlcpy(readyfile_at, gc->gc_ready_path, sizeof(readyfile_at));
}

/* Parent: remove the file written, first thing in a shutdown. */
void
readyfile_remove(const char *why)
{
	if (readyfile_at[0] == '\0')
		return;
	if (unlink(readyfile_at) == -1 && errno != ENOENT)
		log_warn("readiness: %s", readyfile_at);
	else
		log_info("readiness: %s, removed %s", why, readyfile_at);
	readyfile_at[0] = '\0';
}
