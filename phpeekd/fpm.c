/*
 * PHP-FPM pool metrics: the engine asks a pool for its status page
 * (?json&full) over FastCGI every fpm_metrics.interval, on its own event
 * loop, with a deadline.  The result goes to the api as one message; a
 * pool that does not answer is "down" and its counters are left out
 * until it answers again, so they go stale rather than freeze.  No
 * timer exists for a process without fpm_metrics.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phpeekd.h"

#define FPM_REQ_ID	1

struct fpm_scrape {
	struct event		 fs_timer;	/* the next scrape */
	struct event		 fs_ev;		/* the socket */
	struct event		 fs_deadline;
	int			 fs_fd;
	struct fcgi_buf		 fs_out;
	size_t			 fs_sent;
	struct fcgi_parser	 fs_parser;
	int64_t			 fs_began;
	uint64_t		 fs_failures;
	struct state_fpm	 fs_state;
};

static void	fpm_tick(int, short, void *);
static void	fpm_io(int, short, void *);
static void	fpm_timeout(int, short, void *);
static void	fpm_done(struct eproc *, const char *);
static int	fpm_connect(struct eproc *);
static void	fpm_schedule(struct eproc *);

/* Start or stop scraping as the configuration says. */
void
fpm_configure(struct eproc *ep)
{
	struct fpm_scrape	*fs;

	if (ep->ep_conf->pc_fpm.fm_socket == NULL) {
		fpm_stop(ep);
		return;
	}
	if ((fs = ep->ep_fpm) == NULL) {
		if ((fs = calloc(1, sizeof(*fs))) == NULL)
			fatal("%s", __func__);
		fs->fs_fd = -1;
		evtimer_set(&fs->fs_timer, fpm_tick, ep);
		evtimer_set(&fs->fs_deadline, fpm_timeout, ep);
		ep->ep_fpm = fs;
	}
	if (fs->fs_fd == -1)
		fpm_schedule(ep);
}

void
fpm_stop(struct eproc *ep)
{
	struct fpm_scrape	*fs = ep->ep_fpm;

	if (fs == NULL)
		return;
	evtimer_del(&fs->fs_timer);
	evtimer_del(&fs->fs_deadline);
	if (fs->fs_fd != -1) {
		event_del(&fs->fs_ev);
		close(fs->fs_fd);
	}
	fcgi_buf_free(&fs->fs_out);
	fcgi_parser_free(&fs->fs_parser);
	free(fs);
	ep->ep_fpm = NULL;
}

static void
fpm_schedule(struct eproc *ep)
{
	struct timeval	tv;

	ms_to_tv((int64_t)ep->ep_conf->pc_fpm.fm_interval * 1000, &tv);
	evtimer_add(&ep->ep_fpm->fs_timer, &tv);
}

/* A socket from "/path", "unix:///path", "host:port", "tcp://...". */
static int
fpm_connect(struct eproc *ep)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_un	 sun;
	socklen_t		 len;
	const char		*s = ep->ep_conf->pc_fpm.fm_socket;
	char			 host[300];
	int			 fd;

	if (strncmp(s, "unix://", 7) == 0)
		s += 7;
	else if (strncmp(s, "tcp://", 6) == 0)
		s += 6;
	if (*s == '/') {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlcpy(sun.sun_path, s, sizeof(sun.sun_path)) >=
		    sizeof(sun.sun_path)) {
			errno = ENAMETOOLONG;
			return (-1);
		}
		memcpy(&ss, &sun, sizeof(sun));
		len = sizeof(sun);
	} else {
		/* a pool listening on every address answers on loopback */
		if (strncmp(s, "0.0.0.0:", 8) == 0)
			snprintf(host, sizeof(host), "127.0.0.1:%s", s + 8);
		else if (strncmp(s, "[::]:", 5) == 0)
			snprintf(host, sizeof(host), "[::1]:%s", s + 5);
		else
			strlcpy(host, s, sizeof(host));
		if (health_sockaddr(host, &ss, &len) == -1) {
			errno = EINVAL;
			return (-1);
		}
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&ss, len) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return (-1);
	}
	return (fd);
}

static void
fpm_tick(int fd, short event, void *arg)
{
	struct eproc		*ep = arg;
	struct fpm_scrape	*fs = ep->ep_fpm;
	struct fpm_conf		*fm = &ep->ep_conf->pc_fpm;
	struct timeval		 tv;
	char			 why[128];

	fs->fs_began = now_ms();
	fs->fs_sent = 0;
	fcgi_buf_free(&fs->fs_out);
	fcgi_parser_free(&fs->fs_parser);
	fcgi_parser_init(&fs->fs_parser, FPM_REQ_ID, FCGI_STATUS_MAX);
	if (fcgi_request(&fs->fs_out, FPM_REQ_ID, fm->fm_status_path != NULL ?
	    fm->fm_status_path : "/status", "json&full") == -1) {
		fpm_done(ep, "cannot build the request");
		return;
	}
	if ((fs->fs_fd = fpm_connect(ep)) == -1) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		fpm_done(ep, why);
		return;
	}
	event_set(&fs->fs_ev, fs->fs_fd, EV_WRITE | EV_PERSIST, fpm_io, ep);
	event_add(&fs->fs_ev, NULL);
	ms_to_tv((int64_t)fm->fm_timeout * 1000, &tv);
	evtimer_add(&fs->fs_deadline, &tv);
}

/* Write the request, then read until the reply is complete. */
static void
fpm_io(int fd, short event, void *arg)
{
	struct eproc		*ep = arg;
	struct fpm_scrape	*fs = ep->ep_fpm;
	uint8_t			 buf[16384];
	ssize_t			 n;
	char			 why[160];
	int			 rv;

	if (fs->fs_sent < fs->fs_out.fb_len) {
		n = send(fd, fs->fs_out.fb_data + fs->fs_sent,
		    fs->fs_out.fb_len - fs->fs_sent, MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == -1) {
			snprintf(why, sizeof(why), "connect: %s",
			    strerror(errno));
			fpm_done(ep, why);
			return;
		}
		fs->fs_sent += (size_t)n;
		if (fs->fs_sent == fs->fs_out.fb_len) {
			event_del(&fs->fs_ev);
			event_set(&fs->fs_ev, fd, EV_READ | EV_PERSIST, fpm_io,
			    ep);
			event_add(&fs->fs_ev, NULL);
		}
		return;
	}
	n = read(fd, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1) {
		snprintf(why, sizeof(why), "read: %s", strerror(errno));
		fpm_done(ep, why);
		return;
	}
	rv = n == 0 ? fcgi_eof(&fs->fs_parser) :
	    fcgi_feed(&fs->fs_parser, buf, (size_t)n);
	if (rv == 0)
		return;
	if (rv == -1) {
		snprintf(why, sizeof(why), "FastCGI: %s",
		    fs->fs_parser.fp_err);
		fpm_done(ep, why);
		return;
	}
	fpm_done(ep, NULL);
}

static void
fpm_timeout(int fd, short event, void *arg)
{
	fpm_done(arg, "no answer in time");
}

/* The scrape is over: parse, report, and set the next one. */
static void
fpm_done(struct eproc *ep, const char *fail)
{
	struct fpm_scrape	*fs = ep->ep_fpm;
	struct fcgi_response	*fr = &fs->fs_parser.fp_resp;
	struct state_fpm	*sf = &fs->fs_state;
	struct fpm_status	*st;
	char			 why[FCGI_ERR_MAX + 64];

	evtimer_del(&fs->fs_deadline);
	if (fs->fs_fd != -1) {
		event_del(&fs->fs_ev);
		close(fs->fs_fd);
		fs->fs_fd = -1;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		fatal("%s", __func__);
	if (fail == NULL && fr->fr_status != 200) {
		snprintf(why, sizeof(why), "status page: HTTP %d %s",
		    fr->fr_status, fr->fr_reason);
		fail = why;
	}
	if (fail == NULL && fpm_status_parse(fr->fr_body, fr->fr_bodylen,
	    st, why, sizeof(why)) == -1)
		fail = why;
	strlcpy(sf->sf_proc, ep->ep_conf->pc_name, sizeof(sf->sf_proc));
	strlcpy(sf->sf_socket, ep->ep_conf->pc_fpm.fm_socket,
	    sizeof(sf->sf_socket));
	sf->sf_duration_us = (now_ms() - fs->fs_began) * 1000;
	if (fail != NULL) {
		/* once per outage, not once per scrape */
		if (sf->sf_up || fs->fs_failures == 0)
			log_warnx("%s: php-fpm status: %s",
			    ep->ep_conf->pc_name, fail);
		sf->sf_up = 0;
		sf->sf_failures = ++fs->fs_failures;
	} else {
		if (!sf->sf_up && fs->fs_failures > 0)
			log_info("%s: php-fpm status answers again",
			    ep->ep_conf->pc_name);
		sf->sf_up = 1;
		strlcpy(sf->sf_pool, st->fs_pool, sizeof(sf->sf_pool));
		strlcpy(sf->sf_pm, st->fs_pm_name, sizeof(sf->sf_pm));
		sf->sf_start_time = st->fs_start_time;
		sf->sf_start_since = st->fs_start_since;
		sf->sf_accepted = st->fs_accepted_conn;
		sf->sf_listen_queue = st->fs_listen_queue;
		sf->sf_max_listen_queue = st->fs_max_listen_queue;
		sf->sf_listen_queue_len = st->fs_listen_queue_len;
		sf->sf_idle = st->fs_idle;
		sf->sf_active = st->fs_active;
		sf->sf_total = st->fs_total;
		sf->sf_max_active = st->fs_max_active;
		sf->sf_max_children_reached = st->fs_max_children_reached;
		sf->sf_slow_requests = st->fs_slow_requests;
		sf->sf_memory_peak = st->fs_has_memory_peak ?
		    st->fs_memory_peak : 0;
	}
	free(st);
	if (privsep->ps_iev[PROC_API] != NULL)
		(void)state_send_fpm(privsep, sf);
	fpm_schedule(ep);
}

/* The last result again, for the api's snapshot. */
void
fpm_resend(struct eproc *ep)
{
	if (ep->ep_fpm != NULL && ep->ep_fpm->fs_state.sf_proc[0] != '\0')
		(void)state_send_fpm(privsep, &ep->ep_fpm->fs_state);
}
