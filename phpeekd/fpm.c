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
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json.h>

#include "phpeekd.h"

#define FPM_REQ_ID	1

/* One scrape is up to three requests, one after the other. */
enum fpm_phase {
	FPM_STATUS = 0,
	FPM_OPCACHE,		/* the script the parent wrote */
	FPM_PING
};

struct fpm_scrape {
	struct event		 fs_timer;	/* the next scrape */
	struct event		 fs_ev;		/* the socket */
	struct event		 fs_deadline;
	int			 fs_fd;
	struct fcgi_buf		 fs_out;
	size_t			 fs_sent;
	struct fcgi_parser	 fs_parser;
	int64_t			 fs_began;
	enum fpm_phase		 fs_phase;
	uint64_t		 fs_failures;
	struct state_fpm	 fs_state;
	struct state_fpm_proc	 fs_procs[FPM_PROCS_MAX];
	uint32_t		 fs_nprocs;	/* per_process, while up */
};

static void	fpm_tick(int, short, void *);
static void	fpm_io(int, short, void *);
static void	fpm_timeout(int, short, void *);
static void	fpm_done(struct eproc *, const char *);
static void	fpm_send(struct eproc *);
static void	fpm_opcache(struct state_fpm *, const char *, size_t);
static void	fpm_procs(struct fpm_scrape *, const struct fpm_status *);
static void	fpm_finish(struct eproc *);
static uint64_t	fpm_json_u64(struct json_object *, const char *,
		    const char *);
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

	ep->ep_fpm->fs_began = now_ms();
	ep->ep_fpm->fs_phase = FPM_STATUS;
	fpm_send(ep);
}

/* The request of the current phase, on a new connection. */
static void
fpm_send(struct eproc *ep)
{
	struct fpm_scrape	*fs = ep->ep_fpm;
	struct fpm_conf		*fm = &ep->ep_conf->pc_fpm;
	struct timeval		 tv;
	char			 why[128];
	int			 rv;

	fs->fs_sent = 0;
	fcgi_buf_free(&fs->fs_out);
	fcgi_parser_free(&fs->fs_parser);
	fcgi_parser_init(&fs->fs_parser, FPM_REQ_ID,
	    fs->fs_phase == FPM_OPCACHE ? FCGI_OPCACHE_MAX : FCGI_STATUS_MAX);
	switch (fs->fs_phase) {
	case FPM_STATUS:
		rv = fcgi_request(&fs->fs_out, FPM_REQ_ID,
		    fm->fm_status_path != NULL ? fm->fm_status_path :
		    "/status", "json&full");
		break;
	case FPM_OPCACHE:
		rv = fcgi_request(&fs->fs_out, FPM_REQ_ID, FPM_OPCACHE_SCRIPT,
		    NULL);
		break;
	default:
		rv = fcgi_request(&fs->fs_out, FPM_REQ_ID, fm->fm_ping_path,
		    NULL);
		break;
	}
	if (rv == -1) {
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

/* A request is over: parse it, and go on to the next or report. */
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
	if (fs->fs_phase == FPM_OPCACHE) {
		/* a pool without OPcache, or that refuses the script */
		sf->sf_opcache_enabled = 0;
		if (fail == NULL && fr->fr_status == 200)
			fpm_opcache(sf, fr->fr_body, fr->fr_bodylen);
		if (ep->ep_conf->pc_fpm.fm_ping_path != NULL) {
			fs->fs_phase = FPM_PING;
			fpm_send(ep);
			return;
		}
		fpm_finish(ep);
		return;
	}
	if (fs->fs_phase == FPM_PING) {
		sf->sf_ping_up = fail == NULL && fr->fr_status == 200 &&
		    fpm_ping_ok(fr->fr_body, fr->fr_bodylen);
		fpm_finish(ep);
		return;
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
	if (fail != NULL) {
		/* once per outage, not once per scrape */
		if (sf->sf_up || fs->fs_failures == 0)
			log_warnx("%s: php-fpm status: %s",
			    ep->ep_conf->pc_name, fail);
		sf->sf_up = 0;
		sf->sf_ping_up = 0;
		sf->sf_failures = ++fs->fs_failures;
		fs->fs_nprocs = 0;
		free(st);
		fpm_finish(ep);
		return;
	}
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
	sf->sf_memory_peak = st->fs_has_memory_peak ? st->fs_memory_peak : 0;
	fs->fs_nprocs = 0;
	if (ep->ep_conf->pc_fpm.fm_per_process)
		fpm_procs(fs, st);
	free(st);
	if (ep->ep_conf->pc_fpm.fm_opcache) {
		fs->fs_phase = FPM_OPCACHE;
		fpm_send(ep);
	} else if (ep->ep_conf->pc_fpm.fm_ping_path != NULL) {
		fs->fs_phase = FPM_PING;
		fpm_send(ep);
	} else
		fpm_finish(ep);
}

/*
 * The workers the parser kept, as the status page listed them; the
 * uri, script and user stay behind in the engine.  A pid listed twice
 * is kept once: two series with the same labels are not exposition.
 */
static void
fpm_procs(struct fpm_scrape *fs, const struct fpm_status *st)
{
	const struct fpm_proc	*pr;
	struct state_fpm_proc	*p;
	size_t			 i;
	uint32_t		 j;

	for (i = 0; i < st->fs_nprocs && i < FPM_PROCS_MAX; i++) {
		pr = &st->fs_procs[i];
		for (j = 0; j < fs->fs_nprocs; j++)
			if (fs->fs_procs[j].sfp_pid == pr->ps_pid)
				break;
		if (j < fs->fs_nprocs)
			continue;
		p = &fs->fs_procs[fs->fs_nprocs++];
		p->sfp_pid = pr->ps_pid;
		p->sfp_state = pr->ps_state;
		p->sfp_requests = pr->ps_requests;
		p->sfp_duration = pr->ps_duration;
		p->sfp_cpu = pr->ps_cpu;
		p->sfp_memory = pr->ps_memory;
	}
}

static void
fpm_finish(struct eproc *ep)
{
	struct fpm_scrape	*fs = ep->ep_fpm;

	fs->fs_state.sf_duration_us = (now_ms() - fs->fs_began) * 1000;
	if (privsep->ps_iev[PROC_API] != NULL)
		(void)state_send_fpm(privsep, &fs->fs_state, fs->fs_procs,
		    fs->fs_nprocs);
	fpm_schedule(ep);
}

static uint64_t
fpm_json_u64(struct json_object *o, const char *a, const char *b)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, a, &v) ||
	    (b != NULL && !json_object_object_get_ex(v, b, &v)))
		return (0);
	if (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double))
		return (0);
	return (json_object_get_double(v) > 0 ?
	    (uint64_t)json_object_get_double(v) : 0);
}

/* opcache_get_status(false) as the script printed it. */
static void
fpm_opcache(struct state_fpm *sf, const char *body, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*o, *v;

	if ((tok = json_tokener_new()) == NULL)
		return;
	o = json_tokener_parse_ex(tok, body, (int)len);
	json_tokener_free(tok);
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "opcache_enabled", &v) ||
	    !json_object_get_boolean(v)) {
		json_object_put(o);
		return;
	}
	sf->sf_opcache_enabled = 1;
	sf->sf_oc_used = fpm_json_u64(o, "memory_usage", "used_memory");
	sf->sf_oc_free = fpm_json_u64(o, "memory_usage", "free_memory");
	sf->sf_oc_wasted = fpm_json_u64(o, "memory_usage", "wasted_memory");
	sf->sf_oc_scripts = fpm_json_u64(o, "opcache_statistics",
	    "num_cached_scripts");
	sf->sf_oc_hits = fpm_json_u64(o, "opcache_statistics", "hits");
	sf->sf_oc_misses = fpm_json_u64(o, "opcache_statistics", "misses");
	sf->sf_oc_oom = fpm_json_u64(o, "opcache_statistics",
	    "oom_restarts");
	sf->sf_oc_cache_full = json_object_object_get_ex(o, "cache_full", &v) &&
	    json_object_get_boolean(v);
	json_object_put(o);
}

/* The last result again, for the api's snapshot. */
void
fpm_resend(struct eproc *ep)
{
	struct fpm_scrape	*fs = ep->ep_fpm;

	if (fs != NULL && fs->fs_state.sf_proc[0] != '\0')
		(void)state_send_fpm(privsep, &fs->fs_state, fs->fs_procs,
		    fs->fs_nprocs);
}

/*
 * The script a pool runs to report its OPcache, which only a worker
 * can see: written by the parent, as root, into a root-owned 0755
 * directory, 0644, replaced whole; nothing another user made is ever
 * run.  The path must be visible to the pool (chroot, open_basedir).
 */
void
fpm_write_script(const struct phpeekd_conf *cf)
{
	static const char	 body[] =
	    "<?php\n"
	    "// written by phpeekd for its OPcache metrics\n"
	    "header('Content-Type: application/json');\n"
	    "$s = function_exists('opcache_get_status') ?\n"
	    "    @opcache_get_status(false) : false;\n"
	    "echo json_encode($s === false ?\n"
	    "    array('opcache_enabled' => false) : $s), \"\\n\";\n";
	const struct proc_conf	*pc;
	char			 tmp[] = FPM_OPCACHE_DIR "/.script.XXXXXX";
	int			 fd, ok, need = 0;

	TAILQ_FOREACH(pc, &cf->cf_procs, pc_entry)
		if (pc->pc_fpm.fm_socket != NULL && pc->pc_fpm.fm_opcache)
			need = 1;
	if (!need)
		return;
	if ((mkdir("/run/phpeekd", 0755) == -1 && errno != EEXIST) ||
	    (mkdir(FPM_OPCACHE_DIR, 0755) == -1 && errno != EEXIST) ||
	    chown(FPM_OPCACHE_DIR, 0, 0) == -1 ||
	    chmod(FPM_OPCACHE_DIR, 0755) == -1) {
		log_warn("%s", FPM_OPCACHE_DIR);
		return;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		log_warn("%s", tmp);
		return;
	}
	ok = write(fd, body, sizeof(body) - 1) == (ssize_t)(sizeof(body) - 1) &&
	    fchmod(fd, 0644) == 0;
	if (close(fd) == -1)
		ok = 0;
	if (!ok || rename(tmp, FPM_OPCACHE_SCRIPT) == -1) {
		log_warn("%s", FPM_OPCACHE_SCRIPT);
		(void)unlink(tmp);
	}
}
