/*
 * Health checks, one monitor per process as in phpeek-pm: tcp (a
 * non-blocking connect), http (libcurl on the event loop) and exec
 * (a command the parent runs).  Nothing here blocks.
 *
 * Timing follows Kubernetes' probes rather than phpeek-pm: the first
 * check runs initial_delay after an instance starts (not initial_delay
 * + period), and the monitor starts over, initial_delay included,
 * whenever the process is restarted, so a booting replacement is not
 * killed for being slow to boot.  A process becomes ready for its
 * dependants on its first successful check, never on a failed one.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phpeekd.h"

static void	health_tick(int, short, void *);
static void	health_run(struct eproc *);
static void	health_observe(struct health *);
static void	health_result(struct eproc *, int, const char *);
static void	health_tcp(struct eproc *);
static void	health_tcp_cb(int, short, void *);
static void	health_http_cb(void *, int, long, const char *);
static void	health_exec(struct eproc *);
static void	health_timeout_cb(int, short, void *);
static void	health_finish(struct eproc *);

static const char *const health_types[] = { "none", "tcp", "http", "exec" };

const char *
health_type_name(int type)
{
	if (type >= HC_NONE && type <= HC_EXEC)
		return (health_types[type]);
	return ("unknown");
}

/* Whether dependants of ep wait for its health. */
int
health_gates(struct eproc *ep)
{
	struct health_conf	*hc = &ep->ep_conf->pc_health;

	return (hc->hc_type != HC_NONE && hc->hc_mode != HC_MODE_LIVENESS);
}

/* An instance of ep is running: arm the monitor if it is idle. */
void
health_start(struct eproc *ep)
{
	struct health_conf	*hc = &ep->ep_conf->pc_health;
	struct health		*h = &ep->ep_health;
	struct timeval		 tv;

	if (hc->hc_type == HC_NONE || h->h_armed || engine->en_shutdown)
		return;
	h->h_armed = 1;
	h->h_fails = h->h_succ = 0;
	h->h_unhealthy = 0;
	h->h_fd = -1;
	evtimer_set(&h->h_timer, health_tick, ep);
	ms_to_tv((int64_t)hc->hc_initial_delay * 1000, &tv);
	evtimer_add(&h->h_timer, &tv);
	log_debug("%s: %s health check in %ds", ep->ep_conf->pc_name,
	    health_type_name(hc->hc_type), hc->hc_initial_delay);
}

/* Stop probing: the process stopped, restarts, or goes away. */
void
health_stop(struct eproc *ep)
{
	struct health	*h = &ep->ep_health;

	if (!h->h_armed)
		return;
	h->h_armed = 0;
	evtimer_del(&h->h_timer);
	health_finish(ep);
}

/* Drop an in-flight check without a result. */
static void
health_finish(struct eproc *ep)
{
	struct health	*h = &ep->ep_health;

	if (!h->h_running)
		return;
	h->h_running = 0;
	evtimer_del(&h->h_deadline);
	if (h->h_fd != -1) {
		event_del(&h->h_ev);
		close(h->h_fd);
		h->h_fd = -1;
	}
	if (h->h_http != NULL) {
		curlev_cancel(h->h_http);
		h->h_http = NULL;
	}
	if (h->h_pid > 0)
		health_kill_exec(ep);
}

static void
health_tick(int fd, short event, void *arg)
{
	struct eproc		*ep = arg;
	struct health_conf	*hc = &ep->ep_conf->pc_health;
	struct timeval		 tv;

	if (!ep->ep_health.h_running)
		health_run(ep);
	ms_to_tv((int64_t)hc->hc_period * 1000, &tv);
	evtimer_add(&ep->ep_health.h_timer, &tv);
}

static void
health_run(struct eproc *ep)
{
	struct health_conf	*hc = &ep->ep_conf->pc_health;
	struct health		*h = &ep->ep_health;
	struct timeval		 tv;

	h->h_running = 1;
	h->h_begun = now_ms();
	evtimer_set(&h->h_deadline, health_timeout_cb, ep);
	ms_to_tv((int64_t)hc->hc_timeout * 1000, &tv);
	evtimer_add(&h->h_deadline, &tv);
	switch (hc->hc_type) {
	case HC_TCP:
		health_tcp(ep);
		break;
	case HC_HTTP:
		/* phpeek-pm caps HTTP checks at 5 s as well */
		h->h_http = curlev_request(hc->hc_url, NULL,
		    (long)(hc->hc_timeout < 5 ? hc->hc_timeout : 5) * 1000,
		    health_http_cb, ep);
		if (h->h_http == NULL)
			health_result(ep, 0, "cannot start the request");
		break;
	case HC_EXEC:
		health_exec(ep);
		break;
	}
}

static void
health_timeout_cb(int fd, short event, void *arg)
{
	struct eproc	*ep = arg;
	char		 why[64];

	snprintf(why, sizeof(why), "timed out after %ds",
	    ep->ep_conf->pc_health.hc_timeout);
	health_result(ep, 0, why);
}

/*
 * "host:port" or "[v6]:port".  The host must be numeric or localhost:
 * a blocking name lookup has no place on the event loop.
 */
int
health_sockaddr(const char *address, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct addrinfo	 hints, *res;
	char		 host[256], *port;
	const char	*h;

	if (strlcpy(host, address, sizeof(host)) >= sizeof(host) ||
	    (port = strrchr(host, ':')) == NULL)
		return (-1);
	*port++ = '\0';
	h = host;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		h = host + 1;
	}
	if (*h == '\0' || strcmp(h, "localhost") == 0)
		h = "127.0.0.1";
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(h, port, &hints, &res) != 0)
		return (-1);
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return (0);
}

static void
health_tcp(struct eproc *ep)
{
	struct health		*h = &ep->ep_health;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 why[128];

	if (health_sockaddr(ep->ep_conf->pc_health.hc_address, &ss,
	    &len) == -1) {
		health_result(ep, 0, "address must be numeric host:port");
		return;
	}
	if ((h->h_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		health_result(ep, 0, why);
		return;
	}
	if (connect(h->h_fd, (struct sockaddr *)&ss, len) == 0) {
		health_result(ep, 1, NULL);
		return;
	}
	if (errno != EINPROGRESS) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		health_result(ep, 0, why);
		return;
	}
	event_set(&h->h_ev, h->h_fd, EV_WRITE, health_tcp_cb, ep);
	event_add(&h->h_ev, NULL);
}

static void
health_tcp_cb(int fd, short event, void *arg)
{
	struct eproc	*ep = arg;
	socklen_t	 len = sizeof(int);
	char		 why[128];
	int		 error = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
		error = errno;
	if (error == 0) {
		health_result(ep, 1, NULL);
		return;
	}
	snprintf(why, sizeof(why), "connect: %s", strerror(error));
	health_result(ep, 0, why);
}

static void
health_http_cb(void *arg, int ok, long status, const char *err)
{
	struct eproc	*ep = arg;
	char		 why[256];

	ep->ep_health.h_http = NULL;	/* curlev frees it */
	if (!ok) {
		health_result(ep, 0, err);
		return;
	}
	if (status != ep->ep_conf->pc_health.hc_expected_status) {
		snprintf(why, sizeof(why), "status %ld, expected %d", status,
		    ep->ep_conf->pc_health.hc_expected_status);
		health_result(ep, 0, why);
		return;
	}
	health_result(ep, 1, NULL);
}

/* The parent runs the command; health_exec_exited gets the status. */
static void
health_exec(struct eproc *ep)
{
	struct ibuf	*buf;

	ep->ep_health.h_token = ++engine->en_token;
	ep->ep_health.h_pid = -1;
	if ((buf = proc_create(privsep, PROC_PARENT, IMSG_SPAWN,
	    ep->ep_health.h_token, CONF_NAME_MAX + 8)) == NULL ||
	    ibuf_add_str(buf, ep->ep_conf->pc_name) == -1 ||
	    ibuf_add_u32(buf, 0) == -1 ||
	    ibuf_add_u8(buf, SPAWN_HEALTH) == -1)
		fatalx("cannot queue a health check");
	proc_close(privsep, PROC_PARENT, buf);
}

void
health_kill_exec(struct eproc *ep)
{
	uint32_t	msg[3];

	if (ep->ep_health.h_pid <= 0)
		return;
	msg[0] = (uint32_t)ep->ep_health.h_pid;
	msg[1] = SIGKILL;
	msg[2] = KILL_GROUP;
	proc_compose(privsep, PROC_PARENT, IMSG_KILL, 0, -1, msg,
	    sizeof(msg));
	ep->ep_health.h_pid = 0;
}

/* Route SPAWNED / SPAWN_FAILED / EXIT of probes; 1 if it was one. */
struct eproc *
health_by_token(uint32_t token)
{
	struct eproc	*ep;

	TAILQ_FOREACH(ep, &engine->en_procs, ep_entry)
		if (ep->ep_health.h_running && ep->ep_health.h_token == token)
			return (ep);
	return (NULL);
}

struct eproc *
health_by_pid(pid_t pid)
{
	struct eproc	*ep;

	TAILQ_FOREACH(ep, &engine->en_procs, ep_entry)
		if (ep->ep_health.h_running && ep->ep_health.h_pid == pid)
			return (ep);
	return (NULL);
}

void
health_exec_spawned(struct eproc *ep, pid_t pid)
{
	ep->ep_health.h_pid = pid;
}

void
health_exec_failed(struct eproc *ep, int error, const char *what)
{
	char	why[128];

	snprintf(why, sizeof(why), "%s: %s", what, strerror(error));
	health_result(ep, 0, why);
}

void
health_exec_exited(struct eproc *ep, int status)
{
	char	why[64];

	ep->ep_health.h_pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		health_result(ep, 1, NULL);
		return;
	}
	wait_status_str(status, why, sizeof(why));
	health_result(ep, 0, why);
}

/*
 * Count the result.  Past failure_threshold the process is unhealthy
 * and its running instances are killed, to be restarted by their
 * policy; it is healthy again after success_threshold successes.
 */
/* phpeek-pm's buckets: .001 .01 .05 .1 .5 1 5 seconds. */
static void
health_observe(struct health *h)
{
	static const int64_t	 le_us[HC_BUCKETS] = { 1000, 10000, 50000,
				    100000, 500000, 1000000, 5000000 };
	int64_t			 us = h->h_last_ms * 1000;
	int			 i;

	if (us < 0)
		us = 0;
	h->h_sum_us += (uint64_t)us;
	for (i = 0; i < HC_BUCKETS; i++)
		if (us <= le_us[i]) {
			h->h_hist[i]++;
			return;
		}
}

static void
health_result(struct eproc *ep, int ok, const char *why)
{
	struct health_conf	*hc = &ep->ep_conf->pc_health;
	struct health		*h = &ep->ep_health;
	struct instance		*in;
	int			 i;

	health_finish(ep);
	h->h_checks++;
	h->h_last_ok = ok;
	h->h_last_ms = now_ms() - h->h_begun;
	health_observe(h);
	/* the api's metrics and /readyz follow every result */
	engine_state_proc(ep);
	if (ok) {
		h->h_succ++;
		h->h_fails = 0;
		h->h_passed++;
		if (h->h_unhealthy && h->h_succ >= hc->hc_success_threshold) {
			h->h_unhealthy = 0;
			log_info("%s: healthy again", ep->ep_conf->pc_name);
		}
		if (!h->h_unhealthy)
			h->h_verdict = 1;
		if (!h->h_ready && !h->h_unhealthy) {
			h->h_ready = 1;
			log_info("%s: health check passed: ready",
			    ep->ep_conf->pc_name);
			engine_state_proc(ep);
			engine_check_done();
		}
		return;
	}
	h->h_fails++;
	h->h_succ = 0;
	h->h_failed++;
	log_warnx("%s: %s health check failed (%d/%d): %s",
	    ep->ep_conf->pc_name, health_type_name(hc->hc_type), h->h_fails,
	    hc->hc_failure_threshold, why != NULL ? why : "failed");
	if (h->h_fails < hc->hc_failure_threshold || h->h_unhealthy)
		return;
	h->h_unhealthy = 1;
	h->h_verdict = 0;
	log_warnx("%s: unhealthy: restarting its instances",
	    ep->ep_conf->pc_name);
	ep->ep_restarts_health++;
	engine_state_proc(ep);
	/* the replacement is probed afresh, initial_delay first */
	health_stop(ep);
	for (i = 0; i < ep->ep_ninst; i++)
		if ((in = ep->ep_inst[i]) != NULL &&
		    in->in_state == IST_RUNNING)
			instance_signal(in, SIGKILL);
}
