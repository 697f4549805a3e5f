/*
 * Heartbeats: the dead man's switch pings of a scheduled task, as
 * healthchecks.io, Cronitor and Better Uptime take them: URL/start when
 * a run begins, URL (or success_url) when it ends well, URL/fail (or
 * failure_url) with the exit status in the body when it does not.
 *
 * A task's pings go out one at a time and in order, so a monitor never
 * sees the end of a run before its start; each is retried retry_count
 * times, retry_delay apart.  Nothing here waits: libcurl runs on the
 * engine's loop, and a ping that fails for good is logged and counted,
 * never held against the task.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phpeekd.h"

#define HB_QUEUE_MAX	16	/* pings waiting per task; more are dropped */

struct hb_ping {
	TAILQ_ENTRY(hb_ping)	 hp_entry;
	char			*hp_url;
	char			*hp_body;	/* or NULL */
	const char		*hp_kind;	/* start, success, failure */
	int			 hp_tries;
};

static void	heartbeat_queue(struct eproc *, const char *, const char *,
		    const char *, const char *);
static void	heartbeat_next(struct eproc *);
static void	heartbeat_done(void *, int, long, const char *);
static void	heartbeat_retry(int, short, void *);
static void	heartbeat_free(struct hb_ping *);

static void
heartbeat_free(struct hb_ping *hp)
{
	free(hp->hp_url);
	free(hp->hp_body);
	free(hp);
}

/* Queue base+suffix; send it now if nothing is in flight. */
static void
heartbeat_queue(struct eproc *ep, const char *base, const char *suffix,
    const char *body, const char *kind)
{
	struct hb_ping	*hp;

	if (ep->ep_hb_len >= HB_QUEUE_MAX) {
		log_warnx("%s: heartbeat %s ping dropped: %d still queued",
		    ep->ep_conf->pc_name, kind, HB_QUEUE_MAX);
		ep->ep_hb_failed++;
		return;
	}
	if ((hp = calloc(1, sizeof(*hp))) == NULL ||
	    asprintf(&hp->hp_url, "%s%s", base, suffix) == -1 ||
	    (body != NULL && (hp->hp_body = strdup(body)) == NULL)) {
		log_warn("%s: heartbeat", ep->ep_conf->pc_name);
		if (hp != NULL) {
			free(hp->hp_url);
			free(hp);
		}
		return;
	}
	hp->hp_kind = kind;
	TAILQ_INSERT_TAIL(&ep->ep_hb_queue, hp, hp_entry);
	ep->ep_hb_len++;
	if (ep->ep_hb_req == NULL && !ep->ep_hb_waiting)
		heartbeat_next(ep);
}

static void
heartbeat_next(struct eproc *ep)
{
	struct heartbeat_conf	*hb = &ep->ep_conf->pc_heartbeat;
	struct hb_ping		*hp;
	const char		*method;

	if ((hp = TAILQ_FIRST(&ep->ep_hb_queue)) == NULL)
		return;
	method = hb->hb_method != NULL ? hb->hb_method : "POST";
	hp->hp_tries++;
	ep->ep_hb_req = curlev_send(hp->hp_url, method, &hb->hb_headers,
	    strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ?
	    NULL : hp->hp_body != NULL ? hp->hp_body : "",
	    (long)(hb->hb_timeout > 0 ? hb->hb_timeout : 30) * 1000,
	    heartbeat_done, ep);
	if (ep->ep_hb_req == NULL)
		heartbeat_done(ep, 0, 0, "cannot start the request");
}

static void
heartbeat_done(void *arg, int ok, long status, const char *err)
{
	struct eproc		*ep = arg;
	struct heartbeat_conf	*hb = &ep->ep_conf->pc_heartbeat;
	struct hb_ping		*hp = TAILQ_FIRST(&ep->ep_hb_queue);
	struct timeval		 tv;
	char			 why[128];

	ep->ep_hb_req = NULL;
	if (hp == NULL)
		return;
	if (ok && status >= 200 && status < 300) {
		log_debug("%s: heartbeat %s ping: HTTP %ld",
		    ep->ep_conf->pc_name, hp->hp_kind, status);
		ep->ep_hb_ok++;
		ep->ep_hb_last = (int64_t)time(NULL);
	} else {
		if (ok)
			snprintf(why, sizeof(why), "HTTP %ld", status);
		else
			snprintf(why, sizeof(why), "%s", err);
		if (hp->hp_tries <= hb->hb_retry_count) {
			log_warnx("%s: heartbeat %s ping to %s: %s; retrying "
			    "in %ds", ep->ep_conf->pc_name, hp->hp_kind,
			    hp->hp_url, why, hb->hb_retry_delay);
			evtimer_set(&ep->ep_hb_retry_ev, heartbeat_retry, ep);
			tv.tv_sec = hb->hb_retry_delay;
			tv.tv_usec = 0;
			evtimer_add(&ep->ep_hb_retry_ev, &tv);
			ep->ep_hb_waiting = 1;
			engine_state_proc(ep);
			return;
		}
		log_warnx("%s: heartbeat %s ping to %s failed after %d "
		    "tries: %s", ep->ep_conf->pc_name, hp->hp_kind,
		    hp->hp_url, hp->hp_tries, why);
		ep->ep_hb_failed++;
	}
	TAILQ_REMOVE(&ep->ep_hb_queue, hp, hp_entry);
	ep->ep_hb_len--;
	heartbeat_free(hp);
	engine_state_proc(ep);
	heartbeat_next(ep);
}

static void
heartbeat_retry(int fd, short event, void *arg)
{
	struct eproc	*ep = arg;

	ep->ep_hb_waiting = 0;
	heartbeat_next(ep);
}

/* A run began. */
void
heartbeat_start(struct eproc *ep)
{
	struct heartbeat_conf	*hb = &ep->ep_conf->pc_heartbeat;

	if (hb->hb_url != NULL)
		heartbeat_queue(ep, hb->hb_url, "/start", NULL, "start");
}

/* A run ended with this exit status (-1: killed by a signal). */
void
heartbeat_end(struct eproc *ep, int code)
{
	struct heartbeat_conf	*hb = &ep->ep_conf->pc_heartbeat;
	char			 body[32];

	if (code == 0) {
		if (hb->hb_success_url != NULL)
			heartbeat_queue(ep, hb->hb_success_url, "", NULL,
			    "success");
		else if (hb->hb_url != NULL)
			heartbeat_queue(ep, hb->hb_url, "", NULL, "success");
		return;
	}
	snprintf(body, sizeof(body), "exit code %d\n", code);
	if (hb->hb_failure_url != NULL)
		heartbeat_queue(ep, hb->hb_failure_url, "", body, "failure");
	else if (hb->hb_url != NULL)
		heartbeat_queue(ep, hb->hb_url, "/fail", body, "failure");
}

/* The task is gone: drop what is queued or in flight. */
void
heartbeat_clear(struct eproc *ep)
{
	struct hb_ping	*hp;

	curlev_cancel(ep->ep_hb_req);
	ep->ep_hb_req = NULL;
	if (ep->ep_hb_waiting) {
		evtimer_del(&ep->ep_hb_retry_ev);
		ep->ep_hb_waiting = 0;
	}
	while ((hp = TAILQ_FIRST(&ep->ep_hb_queue)) != NULL) {
		TAILQ_REMOVE(&ep->ep_hb_queue, hp, hp_entry);
		heartbeat_free(hp);
	}
	ep->ep_hb_len = 0;
}
