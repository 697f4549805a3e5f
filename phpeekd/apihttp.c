/*
 * HTTP for the api role: phpeek-pm's REST API on the control socket and
 * the TCP API port, Prometheus metrics and Kubernetes probes on the
 * metrics port.  libevent's evhttp on sockets the parent bound.
 *
 * Reads are answered from the read model at once; changes go to the
 * engine or the parent and are answered when they reply, which for a
 * stop can be the process's whole stop timeout later.  The bearer
 * token is checked on every listener, as phpeek-pm does on its socket;
 * requests on TCP are rate limited per client address.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/keyvalq_struct.h>
#include <json.h>

#include "phpeekd.h"

#define RATE_PER_SEC		100	/* phpeek-pm's token bucket */
#define RATE_BURST		200
#define RATE_CLIENTS		1024	/* addresses remembered */
#define RATE_IDLE_MS		(10 * 60 * 1000)
#define RATE_LOG_MS		10000	/* one audit line per client */
#define HTTP_TIMEOUT		10	/* seconds to read or write */
#define HTTP_HEADERS_MAX	(16 * 1024)
#define HTTP_BODY_MAX		(8 * 1024 * 1024)
#define HTTP_PEER_MAX		INET6_ADDRSTRLEN
#define PROCS_PREFIX		"/api/v1/processes/"

enum http_kind {
	HK_CONTROL = 0,		/* the Unix socket */
	HK_API,			/* TCP: rate limited */
	HK_METRICS,		/* TCP: metrics and probes, no token */
	HK_MAX
};

enum probe {
	PROBE_LIVE = 0,
	PROBE_READY,
	PROBE_STARTUP
};

struct http_srv {
	struct evhttp			*hs_http;
	struct evhttp_bound_socket	*hs_bound;
	enum http_kind			 hs_kind;
	ev_ssize_t			 hs_max_body;
	void				*hs_tls;	/* SSL_CTX, or NULL */
};

/* A request waiting for the engine or the parent. */
#define HTTP_EDIT_MAX	12288	/* bytes of one process's JSON */

struct pending {
	struct evhttp_request	*pd_req;
	uint32_t		 pd_op;		/* enum ctl_op; 0: reload */
	char			 pd_name[CONF_NAME_MAX];
	int64_t			 pd_arg;	/* desired, signal */
	int64_t			 pd_delta;
	int			 pd_has_delta;
	char			 pd_audit[320];	/* who asked what */
};

/* A client address's token bucket. */
struct rate {
	char		rt_addr[HTTP_PEER_MAX];
	double		rt_tokens;
	int64_t		rt_when;	/* last refill, monotonic ms */
	uint64_t	rt_refused;	/* since the last audit line */
	int64_t		rt_logged;	/* that line, monotonic ms */
};

static struct event_base	*apihttp_base;
static struct http_srv		 apihttp_srv[HK_MAX];
static struct rate		 apihttp_rates[RATE_CLIENTS];
static struct event		 apihttp_pause;
static int			 apihttp_paused;

static void	apihttp_evlog(int, const char *);
static void	apihttp_accept_error(struct evconnlistener *, void *);
static void	apihttp_resume(int, short, void *);
static struct bufferevent *apihttp_bevcb(struct event_base *, void *);
static struct evhttp *apihttp_server(enum http_kind);
static void	apihttp_limits(struct http_srv *);
static void	apihttp_route(struct evhttp_request *, void *);
static void	apihttp_route_api(struct evhttp_request *, struct http_srv *,
		    const char *);
static void	apihttp_route_process(struct evhttp_request *, const char *);
static int	apihttp_get(struct evhttp_request *);
static const char *apihttp_metrics_path(void);
static const char *apihttp_peer(struct evhttp_request *, char *, size_t);
static int	apihttp_audit_what(struct evhttp_request *, int, char *,
		    size_t);
static void	apihttp_audit(struct evhttp_request *, int);
static int	apihttp_listen_tls(struct http_srv *, int);
static int	apihttp_acl(struct evhttp_request *, struct http_srv *);
static void	apihttp_send(struct evhttp_request *, int, const char *,
		    struct evbuffer *);
static void	apihttp_text(struct evhttp_request *, int, const char *);
static void	apihttp_json(struct evhttp_request *, int,
		    struct json_object *);
static void	apihttp_error(struct evhttp_request *, int, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));
static int	apihttp_token_ok(const char *, const char *);
static int	apihttp_authorized(struct evhttp_request *);
static int	apihttp_rate_ok(struct evhttp_request *);
static int	apihttp_query_int(struct evhttp_request *, const char *, int,
		    int, int, int *);
static const char *apihttp_proc_state(struct api_proc *,
		    struct proc_conf *);
static uint32_t	apihttp_alive(struct api_proc *);
static const char *apihttp_type_name(struct proc_conf *);
static void	apihttp_job_info(struct json_object *, struct api_proc *,
		    struct proc_conf *);
static struct json_object *apihttp_process_info(struct api_proc *);
static struct json_object *apihttp_strlist(const struct strlist *);
static struct json_object *apihttp_string(const char *);
static struct json_object *apihttp_health_conf(struct health_conf *);
static struct json_object *apihttp_config(struct proc_conf *);
static void	apihttp_processes(struct evhttp_request *);
static void	apihttp_process(struct evhttp_request *, const char *);
static struct json_object *apihttp_log_entry(struct api_proc *,
		    const struct log_entry *);
static void	apihttp_logs(struct evhttp_request *, const char *);
static void	apihttp_stack_logs(struct evhttp_request *);
static int	apihttp_since(const char *, time_t *);
static void	apihttp_history(struct evhttp_request *);
static void	apihttp_closed(struct evhttp_connection *, void *);
static void	apihttp_answer(void *, uint32_t, const char *);
static void	apihttp_forward(struct evhttp_request *, struct pending *);
static struct json_object *apihttp_body(struct evhttp_request *);
static int	apihttp_scale_body(struct evhttp_request *, struct pending *);
static int	apihttp_signal_body(struct evhttp_request *,
		    struct pending *);
static void	apihttp_action(struct evhttp_request *, const char *,
		    const char *);
static void	apihttp_probe(struct evhttp_request *, enum probe);
static void	apihttp_edit(struct evhttp_request *, uint32_t, const char *);
static void	apihttp_edit_answer(struct pending *);
static int	apihttp_query_true(struct evhttp_request *, const char *);
static void	apihttp_trigger_answer(struct pending *, uint32_t,
		    const char *);
static struct json_object *apihttp_time_ms(int64_t);
static struct json_object *apihttp_run_json(const struct state_run *, int);
static void	apihttp_schedule(struct evhttp_request *, const char *);
static void	apihttp_schedule_history(struct evhttp_request *,
		    const char *);
static void	apihttp_oneshot_history(struct evhttp_request *);
static void	apihttp_validated(struct pending *, int, const char *);
static void	apihttp_metrics(struct evhttp_request *);

/* libevent's own messages go through our log, at debug level. */
static void
apihttp_evlog(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_ERR)
		log_warnx("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}

void
apihttp_init(struct event_base *base)
{
	apihttp_base = base;
	event_set_log_callback(apihttp_evlog);
	apitls_init();
	evtimer_set(&apihttp_pause, apihttp_resume, NULL);
}

/*
 * Out of file descriptors: accept nothing for a moment instead of
 * spinning on a listener that stays readable.  Connections wait in the
 * backlog or are refused by the kernel; the api goes on.
 */
static void
apihttp_accept_error(struct evconnlistener *l, void *arg)
{
	struct timeval	tv;
	int		i;

	if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS &&
	    errno != ENOMEM)
		return;
	if (!apihttp_paused)
		log_warnx("out of file descriptors: not accepting for 100 ms");
	apihttp_paused = 1;
	for (i = 0; i < HK_MAX; i++)
		if (apihttp_srv[i].hs_bound != NULL)
			evconnlistener_disable(evhttp_bound_socket_get_listener(
			    apihttp_srv[i].hs_bound));
	ms_to_tv(100, &tv);
	evtimer_add(&apihttp_pause, &tv);
}

static void
apihttp_resume(int fd, short event, void *arg)
{
	int	i;

	apihttp_paused = 0;
	for (i = 0; i < HK_MAX; i++)
		if (apihttp_srv[i].hs_bound != NULL)
			evconnlistener_enable(evhttp_bound_socket_get_listener(
			    apihttp_srv[i].hs_bound));
}

static struct evhttp *
apihttp_server(enum http_kind kind)
{
	struct http_srv	*hs = &apihttp_srv[kind];

	if (hs->hs_http != NULL)
		return (hs->hs_http);
	if ((hs->hs_http = evhttp_new(apihttp_base)) == NULL)
		fatalx("evhttp_new");
	hs->hs_kind = kind;
	/* slow clients cannot hold a connection or grow the daemon */
	evhttp_set_timeout(hs->hs_http, HTTP_TIMEOUT);
	evhttp_set_max_headers_size(hs->hs_http, HTTP_HEADERS_MAX);
	/*
	 * PATCH and OPTIONS are let through to be refused with phpeek-pm's
	 * JSON 405; evhttp itself would answer 501 in HTML.
	 */
	evhttp_set_allowed_methods(hs->hs_http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(hs->hs_http, apihttp_route, hs);
	evhttp_set_bevcb(hs->hs_http, apihttp_bevcb, hs);
	apihttp_limits(hs);
	return (hs->hs_http);
}

/* Each connection of a TLS listener is a TLS bufferevent. */
static struct bufferevent *
apihttp_bevcb(struct event_base *base, void *arg)
{
	struct http_srv	*hs = arg;

	if (hs->hs_tls == NULL)
		return (bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE));
	return (apitls_bev(base, hs->hs_tls));
}

/* The body cap follows the configuration, reloads included. */
static void
apihttp_limits(struct http_srv *hs)
{
	ev_ssize_t	max = HTTP_BODY_MAX;

	if (api->a_conf != NULL && api->a_conf->cf_global.gc_api_max_body > 0)
		max = (ev_ssize_t)api->a_conf->cf_global.gc_api_max_body;
	if (hs->hs_http != NULL && hs->hs_max_body != max) {
		evhttp_set_max_body_size(hs->hs_http, max);
		hs->hs_max_body = max;
	}
}

/*
 * A TCP listener whose configuration wants TLS gets the context made
 * from the files that came before it; without one it is not served,
 * rather than served in clear.
 */
static int
apihttp_listen_tls(struct http_srv *hs, int kind)
{
	const struct tls_conf	*tls;
	void			*ctx = NULL;

	if (kind == LISTEN_CONTROL || api->a_conf == NULL)
		return (0);
	tls = kind == LISTEN_API ? &api->a_conf->cf_global.gc_api_tls :
	    &api->a_conf->cf_global.gc_metrics_tls;
	if (tls->tls_enabled && (ctx = apitls_ctx(kind, tls)) == NULL) {
		log_warnx("%s: not serving port without TLS", kind ==
		    LISTEN_API ? "api" : "metrics");
		return (-1);
	}
	/* connections made with the old context keep it until they end */
	apitls_ctx_free(hs->hs_tls);
	hs->hs_tls = ctx;
	return (0);
}

void
apihttp_listen(int kind, int fd)
{
	enum http_kind	 hk;
	struct http_srv	*hs;

	switch (kind) {
	case LISTEN_CONTROL:
		hk = HK_CONTROL;
		break;
	case LISTEN_API:
		hk = HK_API;
		break;
	case LISTEN_METRICS:
		hk = HK_METRICS;
		break;
	default:
		log_warnx("listener of unknown kind %d", kind);
		close(fd);
		return;
	}
	hs = &apihttp_srv[hk];
	if (apihttp_listen_tls(hs, kind) == -1) {
		close(fd);
		return;
	}
	/* a new socket of a kind replaces the old one (reload) */
	if (hs->hs_bound != NULL) {
		evhttp_del_accept_socket(hs->hs_http, hs->hs_bound);
		hs->hs_bound = NULL;
	}
	if ((hs->hs_bound = evhttp_accept_socket_with_handle(
	    apihttp_server(hk), fd)) == NULL) {
		log_warnx("cannot serve on listener %d", kind);
		close(fd);
		return;
	}
	evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(
	    hs->hs_bound), apihttp_accept_error);
	apihttp_limits(hs);
}

static const char *
apihttp_metrics_path(void)
{
	if (api->a_conf == NULL ||
	    api->a_conf->cf_global.gc_metrics_path[0] == '\0')
		return ("/metrics");
	return (api->a_conf->cf_global.gc_metrics_path);
}

/* The client's address, "unix" on the control socket. */
static const char *
apihttp_peer(struct evhttp_request *req, char *buf, size_t len)
{
	struct evhttp_connection	*evcon;
	const struct sockaddr		*sa;
	const struct in6_addr		*a6;
	const void			*a = NULL;
	char				*addr = NULL;
	ev_uint16_t			 port;
	int				 af;

	strlcpy(buf, "unix", len);
	if ((evcon = evhttp_request_get_connection(req)) == NULL ||
	    evhttp_connection_get_server(evcon) ==
	    apihttp_srv[HK_CONTROL].hs_http)
		return (buf);
	if ((sa = evhttp_connection_get_addr(evcon)) != NULL) {
		af = sa->sa_family;
		if (af == AF_INET)
			a = &((const struct sockaddr_in *)sa)->sin_addr;
		else if (af == AF_INET6) {
			a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
			a = a6;
			/* the dual-stack socket's IPv4 clients as such */
			if (IN6_IS_ADDR_V4MAPPED(a6)) {
				af = AF_INET;
				a = &a6->s6_addr[12];
			}
		}
		if (a != NULL && inet_ntop(af, a, buf, (socklen_t)len) != NULL)
			return (buf);
	}
	evhttp_connection_get_peer(evcon, &addr, &port);
	strlcpy(buf, addr != NULL && *addr != '\0' ? addr : "?", len);
	return (buf);
}

/*
 * One line per request that changes something, and per refused token:
 * who, what, and the outcome.  The path is the client's, so what is not
 * printable is masked.  Returns -1 for a request not audited.
 */
static int
apihttp_audit_what(struct evhttp_request *req, int code, char *buf,
    size_t len)
{
	enum evhttp_cmd_type	 m = evhttp_request_get_command(req);
	const char		*uri, *method;
	char			 path[256], peer[HTTP_PEER_MAX];
	size_t			 i;

	if (m == EVHTTP_REQ_POST)
		method = "POST";
	else if (m == EVHTTP_REQ_PUT)
		method = "PUT";
	else if (m == EVHTTP_REQ_DELETE)
		method = "DELETE";
	else if (m == EVHTTP_REQ_PATCH)
		method = "PATCH";
	else if (code == 401 || code == 403)
		method = m == EVHTTP_REQ_HEAD ? "HEAD" : "GET";
	else
		return (-1);
	if ((uri = evhttp_request_get_uri(req)) == NULL)
		uri = "";
	for (i = 0; uri[i] != '\0' && uri[i] != '?' &&
	    i < sizeof(path) - 1; i++)
		path[i] = isprint((unsigned char)uri[i]) ? uri[i] : '?';
	path[i] = '\0';
	snprintf(buf, len, "%s %s %s", apihttp_peer(req, peer, sizeof(peer)),
	    method, path);
	return (0);
}

static void
apihttp_audit(struct evhttp_request *req, int code)
{
	char	what[320];

	if (apihttp_audit_what(req, code, what, sizeof(what)) == 0)
		log_info("audit: %s -> %d", what, code);
}

/*
 * The TCP listeners' address lists: 1 to let the request through, 0
 * when it was answered (403, or 400 without a client address).
 */
static int
apihttp_acl(struct evhttp_request *req, struct http_srv *hs)
{
	struct global_conf		*gc = &api->a_conf->cf_global;
	const struct acl_conf		*acl;
	struct evhttp_connection	*evcon;
	const struct sockaddr		*sa;
	const char			*xff;
	uint8_t				 addr[16];
	int				 af = AF_UNSPEC;

	acl = hs->hs_kind == HK_METRICS ? &gc->gc_metrics_acl :
	    &gc->gc_api_acl;
	if (hs->hs_kind == HK_CONTROL || !acl->acl_enabled)
		return (1);
	if (acl->acl_trust_proxy && (xff = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "X-Forwarded-For")) !=
	    NULL && acl_addr_parse(xff, &af, addr) == -1)
		af = AF_UNSPEC;
	if (af == AF_UNSPEC && (evcon = evhttp_request_get_connection(req)) !=
	    NULL && (sa = evhttp_connection_get_addr(evcon)) != NULL) {
		if (sa->sa_family == AF_INET) {
			af = AF_INET;
			memcpy(addr, &((const struct sockaddr_in *)sa)->
			    sin_addr, 4);
		} else if (sa->sa_family == AF_INET6) {
			af = AF_INET6;
			memcpy(addr, &((const struct sockaddr_in6 *)sa)->
			    sin6_addr, 16);
		}
	}
	if (af == AF_UNSPEC) {
		apihttp_text(req, 400, "Unable to determine client IP");
		return (0);
	}
	if (!acl_allows(acl, af, addr)) {
		apihttp_text(req, 403, "Access denied");
		return (0);
	}
	return (1);
}

static void
apihttp_send(struct evhttp_request *req, int code, const char *type,
    struct evbuffer *body)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Cache-Control", "no-store");
	apihttp_audit(req, code);
	/* NULL: evhttp names the status, "Not Found" and so on */
	evhttp_send_reply(req, code, NULL, body);
}

static void
apihttp_text(struct evhttp_request *req, int code, const char *text)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL ||
	    evbuffer_add_printf(b, "%s\n", text) == -1)
		fatal("%s", __func__);
	apihttp_send(req, code, "text/plain; charset=utf-8", b);
	evbuffer_free(b);
}

/* Send o, and free it. */
static void
apihttp_json(struct evhttp_request *req, int code, struct json_object *o)
{
	struct evbuffer	*b;
	const char	*s;

	if ((s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL)
		fatalx("%s: cannot serialise", __func__);
	if ((b = evbuffer_new()) == NULL ||
	    evbuffer_add_printf(b, "%s\n", s) == -1)
		fatal("%s", __func__);
	apihttp_send(req, code, "application/json", b);
	evbuffer_free(b);
	json_object_put(o);
}

static void
apihttp_error(struct evhttp_request *req, int code, const char *fmt, ...)
{
	struct json_object	*o;
	char			 msg[512];
	va_list			 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(msg));
	apihttp_json(req, code, o);
}

/* Compare all of want whatever differs first: no timing oracle. */
static int
apihttp_token_ok(const char *got, const char *want)
{
	size_t		gl = strlen(got), wl = strlen(want), i;
	unsigned char	diff = gl != wl;

	for (i = 0; i < wl; i++)
		diff |= (unsigned char)want[i] ^
		    (unsigned char)(i < gl ? got[i] : 0);
	return (diff == 0);
}

static int
apihttp_authorized(struct evhttp_request *req)
{
	const char	*h, *tok;
	char		 want[sizeof(api->a_conf->cf_global.gc_api_auth) + 8];
	int		 ok;

	if (api->a_conf == NULL ||
	    (tok = api->a_conf->cf_global.gc_api_auth)[0] == '\0')
		return (1);
	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	snprintf(want, sizeof(want), "Bearer %s", tok);
	ok = h != NULL && apihttp_token_ok(h, want);
	explicit_bzero(want, sizeof(want));
	return (ok);
}

/*
 * A token bucket per client address.  The table is bounded: a new
 * address takes a free slot, else one idle for ten minutes, else the
 * least recently used, so a flood of addresses cannot grow the daemon.
 */
static int
apihttp_rate_ok(struct evhttp_request *req)
{
	struct rate	*r, *victim = NULL;
	char		 addr[HTTP_PEER_MAX];
	int64_t		 now = now_ms();
	size_t		 i;

	apihttp_peer(req, addr, sizeof(addr));
	for (i = 0; i < RATE_CLIENTS; i++) {
		r = &apihttp_rates[i];
		if (r->rt_addr[0] == '\0') {
			if (victim == NULL || victim->rt_addr[0] != '\0')
				victim = r;
			continue;
		}
		if (strcmp(r->rt_addr, addr) == 0)
			break;
		if (victim == NULL || (victim->rt_addr[0] != '\0' &&
		    (now - r->rt_when > RATE_IDLE_MS ||
		    r->rt_when < victim->rt_when)))
			victim = r;
	}
	if (i == RATE_CLIENTS) {
		r = victim;
		strlcpy(r->rt_addr, addr, sizeof(r->rt_addr));
		r->rt_tokens = RATE_BURST;
		r->rt_when = now;
		r->rt_refused = 0;
		r->rt_logged = 0;
	}
	r->rt_tokens += (double)(now - r->rt_when) * RATE_PER_SEC / 1000.0;
	if (r->rt_tokens > RATE_BURST)
		r->rt_tokens = RATE_BURST;
	r->rt_when = now;
	if (r->rt_tokens < 1) {
		/* a flood is one line per interval, not one per request */
		r->rt_refused++;
		if (r->rt_logged == 0 || now - r->rt_logged >= RATE_LOG_MS) {
			log_info("audit: %s: rate limit exceeded (%llu "
			    "refused)", addr,
			    (unsigned long long)r->rt_refused);
			r->rt_logged = now;
			r->rt_refused = 0;
		}
		return (0);
	}
	r->rt_tokens -= 1;
	return (1);
}

/*
 * An integer query parameter: def when absent; when outside [min, max]
 * def too, and *bad set if the caller wants to refuse it.
 */
static int
apihttp_query_int(struct evhttp_request *req, const char *key, int def,
    int min, int max, int *bad)
{
	struct evkeyvalq	 q;
	const char		*v, *errstr, *query;
	int			 n = def;

	if (bad != NULL)
		*bad = 0;
	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (query == NULL || evhttp_parse_query_str(query, &q) == -1)
		return (def);
	if ((v = evhttp_find_header(&q, key)) != NULL) {
		n = (int)strtonum(v, min, max, &errstr);
		if (errstr != NULL) {
			n = def;
			if (bad != NULL)
				*bad = 1;
		}
	}
	evhttp_clear_headers(&q);
	return (n);
}

/* A process's state from its instances', the liveliest first. */
static const char *
apihttp_proc_state(struct api_proc *ap, struct proc_conf *pc)
{
	uint32_t	i;
	int		n[IST_COMPLETED + 1];

	memset(n, 0, sizeof(n));
	for (i = 0; i < ap->ap_ninst; i++)
		if (api_inst_present(ap, i) &&
		    ap->ap_inst[i].sti_state <= IST_COMPLETED)
			n[ap->ap_inst[i].sti_state]++;
	if (n[IST_RUNNING] > 0)
		return ("running");
	/* between runs a job is waiting, whatever its last run did */
	if (pc != NULL && pc->pc_schedule != NULL)
		return (!pc->pc_enabled ? "disabled" :
		    (ap->ap_state.sp_flags & SPF_PAUSED) ? "paused" :
		    "scheduled");
	if (n[IST_STOPPING] > 0)
		return ("stopping");
	if (n[IST_STARTING] > 0 || n[IST_BACKOFF] > 0)
		return ("starting");
	if (n[IST_FAILED] > 0 || n[IST_EXITED] > 0)
		return ("failed");
	if (n[IST_COMPLETED] > 0)
		return ("completed");
	if (pc != NULL && !pc->pc_enabled)
		return ("disabled");
	return ("stopped");
}

/* Instances that have a process: phpeek-pm's "scale". */
static uint32_t
apihttp_alive(struct api_proc *ap)
{
	uint32_t	i, n = 0;

	for (i = 0; i < ap->ap_ninst; i++)
		if (api_inst_present(ap, i) && ap->ap_inst[i].sti_pid > 0)
			n++;
	return (n);
}

/* A process with a schedule is a job whatever its type says. */
static const char *
apihttp_type_name(struct proc_conf *pc)
{
	if (pc != NULL && pc->pc_schedule != NULL)
		return ("scheduled");
	return (pc != NULL && pc->pc_type == PTYPE_ONESHOT ? "oneshot" :
	    "longrun");
}

/* The job-only fields of ProcessInfo, omitted while zero as there. */
static void
apihttp_job_info(struct json_object *o, struct api_proc *ap,
    struct proc_conf *pc)
{
	struct state_proc	*sp = &ap->ap_state;
	uint64_t		 done = sp->sp_runs_ok + sp->sp_runs_failed;

	json_object_object_add(o, "schedule",
	    json_object_new_string(pc->pc_schedule));
	json_object_object_add(o, "schedule_state", json_object_new_string(
	    (sp->sp_flags & SPF_PAUSED) ? "paused" :
	    apihttp_alive(ap) > 0 ? "executing" : "idle"));
	if (sp->sp_next_run != 0)
		json_object_object_add(o, "next_run",
		    json_object_new_int64(sp->sp_next_run));
	if (sp->sp_last_run != 0)
		json_object_object_add(o, "last_run",
		    json_object_new_int64(sp->sp_last_run));
	if (done + sp->sp_runs_skipped == 0)
		return;
	json_object_object_add(o, "run_count",
	    json_object_new_int64((int64_t)done));
	json_object_object_add(o, "skipped_count",
	    json_object_new_int64((int64_t)sp->sp_runs_skipped));
	if (done > 0) {
		json_object_object_add(o, "success_rate",
		    json_object_new_double(100.0 * (double)sp->sp_runs_ok /
		    (double)done));
		json_object_object_add(o, "last_exit_code",
		    json_object_new_int(sp->sp_last_exit));
	}
}

static struct json_object *
apihttp_process_info(struct api_proc *ap)
{
	struct json_object	*o, *insts, *io;
	struct proc_conf	*pc = api_proc_conf(ap->ap_state.sp_name);
	struct state_instance	*si;
	const struct sample	*sa;
	char			 id[CONF_NAME_MAX + 16];
	double			 cpu = 0, mem = 0;
	uint64_t		 rss = 0;
	uint32_t		 i;

	insts = json_object_new_array();
	for (i = 0; i < ap->ap_ninst; i++) {
		if (!api_inst_present(ap, i))
			continue;
		si = &ap->ap_inst[i];
		snprintf(id, sizeof(id), "%s-%u", ap->ap_state.sp_name, i);
		/* a stopped instance's last sample is history, not load */
		sa = si->sti_pid > 0 ? api_sample_last(ap, i) : NULL;
		io = json_object_new_object();
		json_object_object_add(io, "id", json_object_new_string(id));
		json_object_object_add(io, "state",
		    json_object_new_string(inst_state_name(si->sti_state)));
		json_object_object_add(io, "pid",
		    json_object_new_int64(si->sti_pid > 0 ? si->sti_pid : 0));
		json_object_object_add(io, "started_at",
		    json_object_new_int64(si->sti_started));
		json_object_object_add(io, "restart_count",
		    json_object_new_int64(si->sti_restarts));
		json_object_object_add(io, "cpu_percent",
		    json_object_new_double(sa != NULL ? sa->sa_cpu : 0));
		json_object_object_add(io, "memory_rss_bytes",
		    json_object_new_int64(sa != NULL ? (int64_t)sa->sa_rss :
		    0));
		json_object_object_add(io, "memory_percent",
		    json_object_new_double(sa != NULL ? sa->sa_mem_percent :
		    0));
		if (si->sti_exited)
			json_object_object_add(io, "last_exit_code",
			    json_object_new_int(si->sti_exit_code));
		if (sa != NULL) {
			cpu += sa->sa_cpu;
			rss += sa->sa_rss;
			mem += sa->sa_mem_percent;
		}
		json_object_array_add(insts, io);
	}
	o = json_object_new_object();
	json_object_object_add(o, "name",
	    json_object_new_string(ap->ap_state.sp_name));
	json_object_object_add(o, "type", json_object_new_string(
	    apihttp_type_name(pc)));
	json_object_object_add(o, "state",
	    json_object_new_string(apihttp_proc_state(ap, pc)));
	json_object_object_add(o, "scale",
	    json_object_new_int64(apihttp_alive(ap)));
	if (pc != NULL && pc->pc_schedule != NULL)
		apihttp_job_info(o, ap, pc);
	json_object_object_add(o, "desired_scale",
	    json_object_new_int64(ap->ap_state.sp_desired));
	json_object_object_add(o, "max_scale",
	    json_object_new_int(CONF_SCALE_MAX));
	json_object_object_add(o, "cpu_percent", json_object_new_double(cpu));
	json_object_object_add(o, "memory_rss_bytes",
	    json_object_new_int64((int64_t)rss));
	json_object_object_add(o, "memory_percent",
	    json_object_new_double(mem));
	/* phpeekd's own: automatic restarts, which survive a start */
	json_object_object_add(o, "restarts", json_object_new_int64((int64_t)
	    (ap->ap_state.sp_restarts_crash +
	    ap->ap_state.sp_restarts_normal +
	    ap->ap_state.sp_restarts_health)));
	json_object_object_add(o, "instances", insts);
	return (o);
}

static struct json_object *
apihttp_strlist(const struct strlist *sl)
{
	struct json_object	*a = json_object_new_array();
	size_t			 i;

	for (i = 0; i < sl->sl_n; i++)
		json_object_array_add(a, json_object_new_string(sl->sl_v[i]));
	return (a);
}

/* A string, or JSON null for an unset one. */
static struct json_object *
apihttp_string(const char *s)
{
	return (s != NULL ? json_object_new_string(s) : NULL);
}

static struct json_object *
apihttp_health_conf(struct health_conf *h)
{
	struct json_object	*hc;
	const char		*mode;

	if (h->hc_type == HC_NONE)
		return (NULL);
	hc = json_object_new_object();
	json_object_object_add(hc, "type",
	    json_object_new_string(health_type_name(h->hc_type)));
	if (h->hc_type == HC_TCP)
		json_object_object_add(hc, "address",
		    apihttp_string(h->hc_address));
	else if (h->hc_type == HC_HTTP) {
		json_object_object_add(hc, "url", apihttp_string(h->hc_url));
		json_object_object_add(hc, "expected_status",
		    json_object_new_int(h->hc_expected_status));
	} else
		json_object_object_add(hc, "command",
		    apihttp_strlist(&h->hc_command));
	json_object_object_add(hc, "initial_delay",
	    json_object_new_int(h->hc_initial_delay));
	json_object_object_add(hc, "period",
	    json_object_new_int(h->hc_period));
	json_object_object_add(hc, "timeout",
	    json_object_new_int(h->hc_timeout));
	json_object_object_add(hc, "failure_threshold",
	    json_object_new_int(h->hc_failure_threshold));
	json_object_object_add(hc, "success_threshold",
	    json_object_new_int(h->hc_success_threshold));
	if (h->hc_mode == HC_MODE_LIVENESS)
		mode = "liveness";
	else if (h->hc_mode == HC_MODE_READINESS)
		mode = "readiness";
	else
		mode = "both";
	json_object_object_add(hc, "mode", json_object_new_string(mode));
	return (hc);
}

/* ProcessConfig: phpeek-pm's JSON names, which are the YAML keys. */
static struct json_object *
apihttp_config(struct proc_conf *pc)
{
	struct json_object	*o, *env, *sd;
	const char		*eq;
	char			 key[256];
	size_t			 i, klen;

	o = json_object_new_object();
	json_object_object_add(o, "enabled",
	    json_object_new_boolean(pc->pc_enabled));
	json_object_object_add(o, "type", json_object_new_string(
	    apihttp_type_name(pc)));
	json_object_object_add(o, "initial_state", json_object_new_string(
	    pc->pc_initial_stopped ? "stopped" : "running"));
	json_object_object_add(o, "command", apihttp_strlist(&pc->pc_command));
	json_object_object_add(o, "working_dir",
	    apihttp_string(pc->pc_workdir));
	json_object_object_add(o, "user", apihttp_string(pc->pc_user));
	json_object_object_add(o, "group", apihttp_string(pc->pc_group));
	json_object_object_add(o, "restart",
	    json_object_new_string(restart_name(pc->pc_restart)));
	json_object_object_add(o, "scale", json_object_new_int(pc->pc_scale));
	json_object_object_add(o, "priority",
	    json_object_new_int(pc->pc_priority));
	json_object_object_add(o, "depends_on",
	    apihttp_strlist(&pc->pc_depends));
	env = json_object_new_object();
	for (i = 0; i < pc->pc_env.sl_n; i++) {
		if ((eq = strchr(pc->pc_env.sl_v[i], '=')) == NULL)
			continue;
		klen = (size_t)(eq - pc->pc_env.sl_v[i]);
		if (klen >= sizeof(key))
			continue;
		memcpy(key, pc->pc_env.sl_v[i], klen);
		key[klen] = '\0';
		json_object_object_add(env, key,
		    json_object_new_string(eq + 1));
	}
	json_object_object_add(o, "env", env);
	json_object_object_add(o, "health_check",
	    apihttp_health_conf(&pc->pc_health));
	sd = json_object_new_object();
	json_object_object_add(sd, "signal",
	    json_object_new_string(signal_name(pc->pc_stop_signal)));
	json_object_object_add(sd, "timeout",
	    json_object_new_int(pc->pc_stop_timeout));
	json_object_object_add(o, "shutdown", sd);
	json_object_object_add(o, "schedule", apihttp_string(pc->pc_schedule));
	return (o);
}

static void
apihttp_processes(struct evhttp_request *req)
{
	struct json_object	*o, *a;
	struct api_proc		*ap;

	a = json_object_new_array();
	TAILQ_FOREACH(ap, &api->a_procs, ap_entry)
		json_object_array_add(a, apihttp_process_info(ap));
	o = json_object_new_object();
	json_object_object_add(o, "processes", a);
	apihttp_json(req, 200, o);
}

/* The configuration, and phpeekd adds the state as "info". */
static void
apihttp_process(struct evhttp_request *req, const char *name)
{
	struct json_object	*o;
	struct api_proc		*ap;
	struct proc_conf	*pc;

	if ((ap = api_proc_find(name)) == NULL ||
	    (pc = api_proc_conf(name)) == NULL) {
		apihttp_error(req, 404, "failed to get process: process %s "
		    "not found", name);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "process", json_object_new_string(name));
	json_object_object_add(o, "config", apihttp_config(pc));
	json_object_object_add(o, "info", apihttp_process_info(ap));
	apihttp_json(req, 200, o);
}

/* LogEntry, with Go's field names as phpeek-pm sends them. */
static struct json_object *
apihttp_log_entry(struct api_proc *ap, const struct log_entry *le)
{
	struct json_object	*e;
	struct tm		 tm;
	time_t			 t = (time_t)(le->le_time / 1000);
	char			 ts[64], id[CONF_NAME_MAX + 16];
	const char		*level;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		strlcpy(ts, "1970-01-01T00:00:00", sizeof(ts));
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03dZ",
	    (int)(le->le_time % 1000));
	snprintf(id, sizeof(id), "%s-%u", ap->ap_state.sp_name, le->le_idx);
	switch (le->le_level) {
	case LOG_LVL_ERROR:
		level = "error";
		break;
	case LOG_LVL_WARN:
		level = "warn";
		break;
	case LOG_LVL_DEBUG:
		level = "debug";
		break;
	default:
		level = "info";
		break;
	}
	e = json_object_new_object();
	json_object_object_add(e, "Timestamp", json_object_new_string(ts));
	json_object_object_add(e, "ProcessName",
	    json_object_new_string(ap->ap_state.sp_name));
	json_object_object_add(e, "InstanceID", json_object_new_string(id));
	json_object_object_add(e, "Stream", json_object_new_string(
	    le->le_stream == STREAM_STDERR ? "stderr" : "stdout"));
	json_object_object_add(e, "Message",
	    json_object_new_string(le->le_msg));
	json_object_object_add(e, "Level", json_object_new_string(level));
	return (e);
}

/* The newest lines of a process, newest first, as phpeek-pm orders them. */
static void
apihttp_logs(struct evhttp_request *req, const char *name)
{
	struct json_object	*o, *a;
	struct api_proc		*ap;
	int			 limit, n = 0;
	uint32_t		 i;

	if ((ap = api_proc_find(name)) == NULL) {
		apihttp_error(req, 404, "failed to get logs: process not "
		    "found: %s", name);
		return;
	}
	limit = apihttp_query_int(req, "limit", 100, 1, INT_MAX, NULL);
	a = json_object_new_array();
	for (i = ap->ap_log_len; i > 0 && n < limit; i--, n++)
		json_object_array_add(a, apihttp_log_entry(ap,
		    api_log_at(ap, i - 1)));
	o = json_object_new_object();
	json_object_object_add(o, "process", json_object_new_string(name));
	json_object_object_add(o, "limit", json_object_new_int(limit));
	json_object_object_add(o, "count", json_object_new_int(n));
	json_object_object_add(o, "logs", a);
	apihttp_json(req, 200, o);
}

/* GET /api/v1/logs: every process's ring merged, newest first. */
static void
apihttp_stack_logs(struct evhttp_request *req)
{
	struct json_object	*o, *a;
	struct api_proc		*ap, *best;
	const struct log_entry	*le, *ble;
	uint32_t		*pos;
	size_t			 np = 0, k, bk;
	int			 limit, n;

	limit = apihttp_query_int(req, "limit", 100, 1, INT_MAX, NULL);
	TAILQ_FOREACH(ap, &api->a_procs, ap_entry)
		np++;
	if ((pos = calloc(np + 1, sizeof(*pos))) == NULL)
		fatal("%s", __func__);
	k = 0;
	TAILQ_FOREACH(ap, &api->a_procs, ap_entry)
		pos[k++] = ap->ap_log_len;
	a = json_object_new_array();
	for (n = 0; n < limit; n++) {
		best = NULL;
		ble = NULL;
		bk = k = 0;
		TAILQ_FOREACH(ap, &api->a_procs, ap_entry) {
			if (pos[k] > 0 &&
			    (le = api_log_at(ap, pos[k] - 1)) != NULL &&
			    (ble == NULL || le->le_time > ble->le_time)) {
				best = ap;
				ble = le;
				bk = k;
			}
			k++;
		}
		if (best == NULL)
			break;
		pos[bk]--;
		json_object_array_add(a, apihttp_log_entry(best, ble));
	}
	free(pos);
	o = json_object_new_object();
	json_object_object_add(o, "scope", json_object_new_string("stack"));
	json_object_object_add(o, "limit", json_object_new_int(limit));
	json_object_object_add(o, "count", json_object_new_int(n));
	json_object_object_add(o, "logs", a);
	apihttp_json(req, 200, o);
}

/* since=: unix seconds, or RFC 3339 (2026-11-23T10:00:00Z, +01:00). */
static int
apihttp_since(const char *s, time_t *t)
{
	struct tm	 tm;
	const char	*errstr, *p;
	long long	 n;
	int		 off;

	n = strtonum(s, 0, INT64_MAX, &errstr);
	if (errstr == NULL) {
		*t = (time_t)n;
		return (0);
	}
	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return (-1);
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (strcmp(p, "Z") == 0)
		off = 0;
	else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && p[3] == ':' &&
	    isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5]) &&
	    p[6] == '\0') {
		off = ((p[1] - '0') * 10 + p[2] - '0') * 3600 +
		    ((p[4] - '0') * 10 + p[5] - '0') * 60;
		if (*p == '-')
			off = -off;
	} else
		return (-1);
	*t = timegm(&tm) - off;
	return (0);
}

/* GET /api/v1/metrics/history?process=P&instance=I[&since=T][&limit=K] */
static void
apihttp_history(struct evhttp_request *req)
{
	struct evkeyvalq	 q;
	struct json_object	*o, *a, *e;
	struct api_proc		*ap;
	const struct sample	*sa;
	const char		*query, *proc, *inst, *since, *errstr;
	char			 sbuf[64];
	struct tm		 tm;
	time_t			 st;
	size_t			 plen;
	uint32_t		 idx = 0, i, n, start;
	int			 limit, bad;

	if (api->a_conf != NULL &&
	    !api->a_conf->cf_global.gc_resource_enabled) {
		apihttp_error(req, 503, "Resource metrics not enabled");
		return;
	}
	TAILQ_INIT(&q);
	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (query == NULL || evhttp_parse_query_str(query, &q) == -1 ||
	    (proc = evhttp_find_header(&q, "process")) == NULL ||
	    (inst = evhttp_find_header(&q, "instance")) == NULL) {
		evhttp_clear_headers(&q);
		apihttp_error(req, 400, "process and instance parameters are "
		    "required");
		return;
	}
	st = time(NULL) - 3600;
	limit = apihttp_query_int(req, "limit", 100, 1, 10000, &bad);
	if (bad || ((since = evhttp_find_header(&q, "since")) != NULL &&
	    apihttp_since(since, &st) == -1)) {
		evhttp_clear_headers(&q);
		apihttp_error(req, 400, bad ? "limit must be 1..10000" :
		    "invalid since: RFC 3339 or unix seconds");
		return;
	}
	plen = strlen(proc);
	errstr = "invalid";
	if (strncmp(inst, proc, plen) == 0 && inst[plen] == '-')
		idx = (uint32_t)strtonum(inst + plen + 1, 0,
		    CONF_SCALE_MAX - 1, &errstr);
	if (errstr != NULL || (ap = api_proc_find(proc)) == NULL) {
		evhttp_clear_headers(&q);
		apihttp_error(req, 404, "instance %s of %s not found", inst,
		    proc);
		return;
	}
	for (n = 0; api_sample_at(ap, idx, n) != NULL; n++)
		;
	/* the newest limit samples at or after since, oldest first */
	for (start = n; start > 0 && n - start < (uint32_t)limit; start--)
		if (api_sample_at(ap, idx, start - 1)->sa_time / 1000 < st)
			break;
	a = json_object_new_array();
	for (i = start; i < n; i++) {
		sa = api_sample_at(ap, idx, i);
		e = json_object_new_object();
		json_object_object_add(e, "timestamp",
		    json_object_new_int64(sa->sa_time / 1000));
		json_object_object_add(e, "cpu_percent",
		    json_object_new_double(sa->sa_cpu));
		json_object_object_add(e, "memory_rss_bytes",
		    json_object_new_int64((int64_t)sa->sa_rss));
		json_object_object_add(e, "memory_vms_bytes",
		    json_object_new_int64((int64_t)sa->sa_vms));
		json_object_object_add(e, "memory_percent",
		    json_object_new_double(sa->sa_mem_percent));
		json_object_object_add(e, "threads",
		    json_object_new_int64(sa->sa_threads));
		json_object_object_add(e, "file_descriptors",
		    json_object_new_int64(sa->sa_fds));
		json_object_array_add(a, e);
	}
	if (gmtime_r(&st, &tm) == NULL ||
	    strftime(sbuf, sizeof(sbuf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strlcpy(sbuf, "1970-01-01T00:00:00Z", sizeof(sbuf));
	o = json_object_new_object();
	json_object_object_add(o, "process", json_object_new_string(proc));
	json_object_object_add(o, "instance", json_object_new_string(inst));
	json_object_object_add(o, "since", json_object_new_string(sbuf));
	json_object_object_add(o, "limit", json_object_new_int(limit));
	json_object_object_add(o, "samples", json_object_new_int64(n - start));
	json_object_object_add(o, "data", a);
	evhttp_clear_headers(&q);
	apihttp_json(req, 200, o);
}

/*
 * The client went away while its request waited: evhttp frees the
 * request, and the answer, when it comes, goes nowhere.
 */
static void
apihttp_closed(struct evhttp_connection *evcon, void *arg)
{
	struct pending	*pd = arg;

	log_info("audit: %s -> abandoned by the client", pd->pd_audit);
	api_request_cancel(pd);
	free(pd);
}

static void
apihttp_answer(void *arg, uint32_t status, const char *msg)
{
	struct pending			*pd = arg;
	struct evhttp_request		*req = pd->pd_req;
	struct evhttp_connection	*evcon;
	struct json_object		*o;
	const char			*st, *sig, *errstr;
	int64_t				 desired;

	if ((evcon = evhttp_request_get_connection(req)) != NULL)
		evhttp_connection_set_closecb(evcon, NULL, NULL);
	if (pd->pd_op == CTL_VALIDATE && (status == 200 || status == 299)) {
		/* the config role's report; 422 when the file is invalid */
		apihttp_validated(pd, status == 200 ? 200 : 422, msg);
		return;
	}
	if (status < 200 || status > 599)
		status = 500;
	if (status >= 300) {
		apihttp_error(req, (int)status, "%s", msg);
		free(pd);
		return;
	}
	switch (pd->pd_op) {
	case 0:
		st = "reloaded";
		break;
	case CTL_ADD:
	case CTL_UPDATE:
	case CTL_REMOVE:
	case CTL_SAVE:
		apihttp_edit_answer(pd);
		return;
	case CTL_PAUSE:
		st = "paused";
		break;
	case CTL_RESUME:
		st = "resumed";
		break;
	case CTL_TRIGGER:
		apihttp_trigger_answer(pd, status, msg);
		return;
	case CTL_START:
		st = "started";
		break;
	case CTL_STOP:
		st = "stopped";
		break;
	case CTL_RESTART:
		st = "restarted";
		break;
	case CTL_SCALE:
		st = "scaled";
		break;
	default:
		st = "signalled";
		break;
	}
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(st));
	if (pd->pd_op == 0)
		json_object_object_add(o, "message",
		    json_object_new_string(msg));
	else
		json_object_object_add(o, "process",
		    json_object_new_string(pd->pd_name));
	if (pd->pd_op == CTL_SCALE) {
		/* the engine answers with the number it settled on */
		desired = strtonum(msg, 0, CONF_SCALE_MAX, &errstr);
		json_object_object_add(o, "desired", json_object_new_int64(
		    errstr == NULL ? desired : pd->pd_arg));
		if (pd->pd_has_delta)
			json_object_object_add(o, "delta",
			    json_object_new_int64(pd->pd_delta));
	}
	if (pd->pd_op == CTL_SIGNAL) {
		sig = signal_name((int)pd->pd_arg);
		json_object_object_add(o, "signal", strcmp(sig, "SIG?") != 0 ?
		    json_object_new_string(sig) :
		    json_object_new_int64(pd->pd_arg));
	}
	apihttp_json(req, 200, o);
	free(pd);
}

/*
 * Ask the engine (or the parent, op 0) and answer when it replies.
 * Takes pd: it is freed when the answer is sent or the client leaves.
 */
static void
apihttp_forward(struct evhttp_request *req, struct pending *pd)
{
	struct evhttp_connection	*evcon;
	int				 reload = pd->pd_op == 0;

	pd->pd_req = req;
	apihttp_audit_what(req, 0, pd->pd_audit, sizeof(pd->pd_audit));
	if (api_request(pd->pd_op, pd->pd_name, pd->pd_arg, apihttp_answer,
	    pd) == -1) {
		free(pd);
		apihttp_error(req, 503, "%s unavailable", reload ?
		    "configuration reload" : "engine");
		return;
	}
	if ((evcon = evhttp_request_get_connection(req)) != NULL)
		evhttp_connection_set_closecb(evcon, apihttp_closed, pd);
}

/* The request body as a JSON object, or NULL after a 400. */
static struct json_object *
apihttp_body(struct evhttp_request *req)
{
	struct evbuffer		*b = evhttp_request_get_input_buffer(req);
	struct json_object	*o = NULL;
	size_t			 len = evbuffer_get_length(b);
	char			*s;

	if ((s = malloc(len + 1)) == NULL)
		fatal("%s", __func__);
	if (evbuffer_remove(b, s, len) == (int)len) {
		s[len] = '\0';
		/* a NUL inside would hide the rest from the parser */
		if (strlen(s) == len)
			o = json_tokener_parse(s);
	}
	free(s);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		apihttp_error(req, 400, "invalid request body");
		return (NULL);
	}
	return (o);
}

/*
 * POST /processes {"name", "process"}, PUT /processes/N {"process"},
 * DELETE /processes/N, POST /config/save.  The process travels as JSON
 * text, which the config role reads as YAML with the file's own rules.
 */
static void
apihttp_edit(struct evhttp_request *req, uint32_t op, const char *name)
{
	struct evhttp_connection	*evcon;
	struct json_object		*o = NULL, *v, *proc = NULL;
	struct pending			*pd;
	const char			*json = "";

	if (op == CTL_ADD || op == CTL_UPDATE) {
		if ((o = apihttp_body(req)) == NULL)
			return;
		if (op == CTL_ADD) {
			if (!json_object_object_get_ex(o, "name", &v) ||
			    !json_object_is_type(v, json_type_string) ||
			    *(name = json_object_get_string(v)) == '\0') {
				apihttp_error(req, 400,
				    "process name is required");
				goto done;
			}
			if (strlen(name) >= CONF_NAME_MAX) {
				apihttp_error(req, 400, "name: longer than %d "
				    "characters", CONF_NAME_MAX - 1);
				goto done;
			}
		}
		if (!json_object_object_get_ex(o, "process", &proc) ||
		    !json_object_is_type(proc, json_type_object)) {
			apihttp_error(req, 400,
			    "process configuration is required");
			goto done;
		}
		json = json_object_to_json_string_ext(proc,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (strlen(json) > HTTP_EDIT_MAX) {
			apihttp_error(req, 413, "process configuration larger "
			    "than %d bytes", HTTP_EDIT_MAX);
			goto done;
		}
	}
	if (op == CTL_ADD && api_proc_conf(name) != NULL) {
		apihttp_error(req, 409, "process %s already exists", name);
		goto done;
	}
	if ((op == CTL_UPDATE || op == CTL_REMOVE) &&
	    api_proc_conf(name) == NULL) {
		apihttp_error(req, 404, "process %s not found", name);
		goto done;
	}
	if ((pd = calloc(1, sizeof(*pd))) == NULL)
		fatal("%s", __func__);
	pd->pd_req = req;
	pd->pd_op = op;
	if (name != NULL)
		strlcpy(pd->pd_name, name, sizeof(pd->pd_name));
	apihttp_audit_what(req, 0, pd->pd_audit, sizeof(pd->pd_audit));
	if (api_request_edit(op, pd->pd_name, json, apihttp_answer, pd) ==
	    -1) {
		free(pd);
		apihttp_error(req, 503, "configuration unavailable");
		goto done;
	}
	if ((evcon = evhttp_request_get_connection(req)) != NULL)
		evhttp_connection_set_closecb(evcon, apihttp_closed, pd);
 done:
	json_object_put(o);
}

static void
apihttp_validated(struct pending *pd, int code, const char *report)
{
	struct json_object	*o;

	if ((o = json_tokener_parse(report)) == NULL)
		apihttp_error(pd->pd_req, 500, "unreadable check report");
	else
		apihttp_json(pd->pd_req, code, o);
	free(pd);
}

static void
apihttp_edit_answer(struct pending *pd)
{
	struct json_object	*o = json_object_new_object();
	const char		*st, *msg;
	int			 code = 200;

	switch (pd->pd_op) {
	case CTL_ADD:
		st = "created";
		msg = "Process added successfully";
		code = 201;
		break;
	case CTL_UPDATE:
		st = "updated";
		msg = "Process updated successfully";
		break;
	case CTL_REMOVE:
		st = "removed";
		msg = "Process removed successfully";
		break;
	default:
		st = "saved";
		msg = "Configuration saved successfully";
		break;
	}
	json_object_object_add(o, "status", json_object_new_string(st));
	if (pd->pd_op != CTL_SAVE)
		json_object_object_add(o, "process",
		    json_object_new_string(pd->pd_name));
	json_object_object_add(o, "message", json_object_new_string(msg));
	apihttp_json(pd->pd_req, code, o);
	free(pd);
}

/* ?key=true (or 1): Go's strconv.ParseBool, as phpeek-pm reads it. */
static int
apihttp_query_true(struct evhttp_request *req, const char *key)
{
	struct evkeyvalq	 q;
	const char		*v, *query;
	int			 yes = 0;

	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (query == NULL || evhttp_parse_query_str(query, &q) == -1)
		return (0);
	if ((v = evhttp_find_header(&q, key)) != NULL)
		yes = strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
		    strcmp(v, "t") == 0 || strcmp(v, "T") == 0;
	evhttp_clear_headers(&q);
	return (yes);
}

/* async: 202; sync: the run's exit, 200 for 0 and 500 otherwise. */
static void
apihttp_trigger_answer(struct pending *pd, uint32_t status, const char *msg)
{
	struct json_object	*o;
	const char		*errstr;
	int			 code;

	o = json_object_new_object();
	if (status == 202) {
		json_object_object_add(o, "status",
		    json_object_new_string("triggered"));
		json_object_object_add(o, "process",
		    json_object_new_string(pd->pd_name));
		apihttp_json(pd->pd_req, 202, o);
		free(pd);
		return;
	}
	code = (int)strtonum(msg, -1, 255, &errstr);
	if (errstr != NULL || code != 0) {
		json_object_put(o);
		apihttp_error(pd->pd_req, 500, "trigger failed: process exited "
		    "with code %d", errstr != NULL ? -1 : code);
		free(pd);
		return;
	}
	json_object_object_add(o, "status", json_object_new_string(
	    "completed"));
	json_object_object_add(o, "process",
	    json_object_new_string(pd->pd_name));
	json_object_object_add(o, "exit_code", json_object_new_int(0));
	apihttp_json(pd->pd_req, 200, o);
	free(pd);
}

/* RFC 3339 with nanoseconds, Go's zero time for 0. */
static struct json_object *
apihttp_time_ms(int64_t ms)
{
	struct tm	tm;
	time_t		t = (time_t)(ms / 1000);
	char		buf[64], out[80];

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return (json_object_new_string("0001-01-01T00:00:00Z"));
	snprintf(out, sizeof(out), "%s.%03lldZ", buf, (long long)(ms % 1000));
	return (json_object_new_string(out));
}

static struct json_object *
apihttp_run_json(const struct state_run *r, int oneshot)
{
	struct json_object	*e = json_object_new_object();
	int			 ok = r->sr_end_ms != 0 && r->sr_exit == 0;
	char			 err[64];

	json_object_object_add(e, "id", json_object_new_int64(r->sr_id));
	if (oneshot) {
		json_object_object_add(e, "process_name",
		    json_object_new_string(r->sr_proc));
		json_object_object_add(e, "instance_id",
		    json_object_new_string(r->sr_inst));
	}
	json_object_object_add(e, oneshot ? "started_at" : "start_time",
	    apihttp_time_ms(r->sr_start_ms));
	json_object_object_add(e, oneshot ? "finished_at" : "end_time",
	    apihttp_time_ms(r->sr_end_ms));
	json_object_object_add(e, "exit_code", json_object_new_int(
	    r->sr_end_ms != 0 ? r->sr_exit : 0));
	json_object_object_add(e, "success", json_object_new_boolean(ok));
	if (r->sr_end_ms != 0 && !ok) {
		snprintf(err, sizeof(err), "process exited with code %d",
		    r->sr_exit);
		json_object_object_add(e, "error", json_object_new_string(err));
	}
	if (oneshot && r->sr_end_ms != 0)
		json_object_object_add(e, "duration_ms", json_object_new_int64(
		    r->sr_end_ms - r->sr_start_ms));
	json_object_object_add(e, oneshot ? "trigger_type" : "triggered",
	    json_object_new_string(r->sr_manual ? "manual" : oneshot ?
	    "startup" : "schedule"));
	return (e);
}

/* GET .../schedule: phpeek-pm's JobStatus, stats over the ring. */
static void
apihttp_schedule(struct evhttp_request *req, const char *name)
{
	struct json_object	*o, *js, *st;
	struct api_proc		*ap;
	struct proc_conf	*pc;
	const struct state_run	*r, *cur = NULL;
	uint64_t		 ok = 0, failed = 0, running = 0, dur = 0;
	int64_t			 last = 0, last_ok = 0, last_fail = 0;
	uint32_t		 i;

	if ((ap = api_proc_find(name)) == NULL ||
	    (pc = api_proc_conf(name)) == NULL || pc->pc_schedule == NULL) {
		apihttp_error(req, 404, "job \"%s\" not found", name);
		return;
	}
	for (i = 0; (r = api_run_at(ap->ap_runs, ap->ap_runs_head,
	    ap->ap_runs_len, RUN_RING, i)) != NULL; i++) {
		if (r->sr_start_ms > last)
			last = r->sr_start_ms;
		if (r->sr_end_ms == 0) {
			running++;
			if (cur == NULL)
				cur = r;
			continue;
		}
		dur += (uint64_t)(r->sr_end_ms - r->sr_start_ms);
		if (r->sr_exit == 0) {
			ok++;
			if (r->sr_end_ms > last_ok)
				last_ok = r->sr_end_ms;
		} else {
			failed++;
			if (r->sr_end_ms > last_fail)
				last_fail = r->sr_end_ms;
		}
	}
	st = json_object_new_object();
	json_object_object_add(st, "total_executions",
	    json_object_new_int64((int64_t)(ok + failed + running)));
	json_object_object_add(st, "success_count",
	    json_object_new_int64((int64_t)ok));
	json_object_object_add(st, "failure_count",
	    json_object_new_int64((int64_t)failed));
	json_object_object_add(st, "running_count",
	    json_object_new_int64((int64_t)running));
	json_object_object_add(st, "success_rate", json_object_new_double(
	    ok + failed > 0 ? 100.0 * (double)ok / (double)(ok + failed) : 0));
	/* Go's time.Duration: nanoseconds */
	json_object_object_add(st, "average_duration", json_object_new_int64(
	    ok + failed > 0 ? (int64_t)(dur / (ok + failed)) * 1000000 : 0));
	json_object_object_add(st, "last_execution_time", apihttp_time_ms(last));
	json_object_object_add(st, "last_success_time",
	    apihttp_time_ms(last_ok));
	json_object_object_add(st, "last_failure_time",
	    apihttp_time_ms(last_fail));
	js = json_object_new_object();
	json_object_object_add(js, "name", json_object_new_string(name));
	json_object_object_add(js, "schedule",
	    json_object_new_string(pc->pc_schedule));
	json_object_object_add(js, "timezone", json_object_new_string("Local"));
	json_object_object_add(js, "state", json_object_new_string(
	    (ap->ap_state.sp_flags & SPF_PAUSED) ? "paused" :
	    apihttp_alive(ap) > 0 ? "executing" : "idle"));
	json_object_object_add(js, "last_run",
	    apihttp_time_ms(ap->ap_state.sp_last_run * 1000));
	json_object_object_add(js, "next_run",
	    apihttp_time_ms(ap->ap_state.sp_next_run * 1000));
	if (cur != NULL)
		json_object_object_add(js, "current_execution_id",
		    json_object_new_int64(cur->sr_id));
	json_object_object_add(js, "stats", st);
	o = json_object_new_object();
	json_object_object_add(o, "process", json_object_new_string(name));
	json_object_object_add(o, "schedule", js);
	apihttp_json(req, 200, o);
}

static void
apihttp_schedule_history(struct evhttp_request *req, const char *name)
{
	struct json_object	*o, *a;
	struct api_proc		*ap;
	struct proc_conf	*pc;
	const struct state_run	*r;
	uint32_t		 i;
	int			 limit;

	if ((ap = api_proc_find(name)) == NULL ||
	    (pc = api_proc_conf(name)) == NULL || pc->pc_schedule == NULL) {
		apihttp_error(req, 404, "job \"%s\" not found", name);
		return;
	}
	limit = apihttp_query_int(req, "limit", 100, 1, RUN_RING, NULL);
	a = json_object_new_array();
	for (i = 0; (int)i < limit && (r = api_run_at(ap->ap_runs,
	    ap->ap_runs_head, ap->ap_runs_len, RUN_RING, i)) != NULL; i++)
		json_object_array_add(a, apihttp_run_json(r, 0));
	o = json_object_new_object();
	json_object_object_add(o, "process", json_object_new_string(name));
	json_object_object_add(o, "limit", json_object_new_int(limit));
	json_object_object_add(o, "count",
	    json_object_new_int((int)json_object_array_length(a)));
	json_object_object_add(o, "history", a);
	apihttp_json(req, 200, o);
}

static void
apihttp_oneshot_history(struct evhttp_request *req)
{
	struct json_object	*o, *a;
	const struct state_run	*r;
	uint32_t		 i;
	int			 limit, bad;

	limit = apihttp_query_int(req, "limit", 100, 1, 10000, &bad);
	if (bad) {
		apihttp_error(req, 400, "limit must be between 1 and 10000");
		return;
	}
	a = json_object_new_array();
	for (i = 0; (int)i < limit && (r = api_run_at(api->a_oneshots,
	    api->a_oneshots_head, api->a_oneshots_len, ONESHOT_RING, i)) !=
	    NULL; i++)
		json_object_array_add(a, apihttp_run_json(r, 1));
	o = json_object_new_object();
	json_object_object_add(o, "executions", a);
	json_object_object_add(o, "count",
	    json_object_new_int((int)json_object_array_length(a)));
	json_object_object_add(o, "limit", json_object_new_int(limit));
	apihttp_json(req, 200, o);
}

/* {"desired":K} or {"delta":+-K}; delta wins, as in phpeek-pm. */
static int
apihttp_scale_body(struct evhttp_request *req, struct pending *pd)
{
	struct json_object	*o, *v;
	struct api_proc		*ap;
	int			 rv = -1;

	if ((o = apihttp_body(req)) == NULL)
		return (-1);
	if (json_object_object_get_ex(o, "delta", &v)) {
		if (!json_object_is_type(v, json_type_int)) {
			apihttp_error(req, 400, "invalid request body");
			goto done;
		}
		/* the only way to 0, as in phpeek-pm */
		pd->pd_has_delta = 1;
		pd->pd_delta = json_object_get_int64(v);
		ap = api_proc_find(pd->pd_name);
		if (pd->pd_delta < -CONF_SCALE_MAX ||
		    pd->pd_delta > CONF_SCALE_MAX) {
			apihttp_error(req, 400, "scale failed: delta must be "
			    "within -%d..%d", CONF_SCALE_MAX, CONF_SCALE_MAX);
			goto done;
		}
		pd->pd_arg = (ap != NULL ? ap->ap_state.sp_desired : 0) +
		    pd->pd_delta;
		if (pd->pd_arg < 0)
			pd->pd_arg = 0;
	} else if (json_object_object_get_ex(o, "desired", &v) &&
	    json_object_is_type(v, json_type_int)) {
		pd->pd_arg = json_object_get_int64(v);
		if (pd->pd_arg < 1) {
			apihttp_error(req, 400, "desired scale must be >= 1");
			goto done;
		}
	} else {
		apihttp_error(req, 400, "invalid request body");
		goto done;
	}
	rv = 0;
 done:
	json_object_put(o);
	return (rv);
}

/* {"signal":"SIGHUP"}, "HUP" or a number. */
static int
apihttp_signal_body(struct evhttp_request *req, struct pending *pd)
{
	struct json_object	*o, *v;
	int64_t			 sig = -1;

	if ((o = apihttp_body(req)) == NULL)
		return (-1);
	if (json_object_object_get_ex(o, "signal", &v)) {
		if (json_object_is_type(v, json_type_int))
			sig = json_object_get_int64(v);
		else if (json_object_is_type(v, json_type_string))
			sig = signal_byname(json_object_get_string(v));
	}
	json_object_put(o);
	if (sig < 1 || sig >= NSIG) {
		apihttp_error(req, 400, "unknown signal");
		return (-1);
	}
	pd->pd_arg = sig;
	return (0);
}

static void
apihttp_action(struct evhttp_request *req, const char *name,
    const char *action)
{
	struct pending	*pd;

	if ((pd = calloc(1, sizeof(*pd))) == NULL)
		fatal("%s", __func__);
	strlcpy(pd->pd_name, name, sizeof(pd->pd_name));
	if (strcmp(action, "start") == 0)
		pd->pd_op = CTL_START;
	else if (strcmp(action, "stop") == 0)
		pd->pd_op = CTL_STOP;
	else if (strcmp(action, "restart") == 0)
		pd->pd_op = CTL_RESTART;
	else if (strcmp(action, "scale") == 0) {
		pd->pd_op = CTL_SCALE;
		if (apihttp_scale_body(req, pd) == -1) {
			free(pd);
			return;
		}
	} else if (strcmp(action, "signal") == 0) {
		pd->pd_op = CTL_SIGNAL;
		if (apihttp_signal_body(req, pd) == -1) {
			free(pd);
			return;
		}
	} else if (strcmp(action, "schedule/pause") == 0)
		pd->pd_op = CTL_PAUSE;
	else if (strcmp(action, "schedule/resume") == 0)
		pd->pd_op = CTL_RESUME;
	else if (strcmp(action, "schedule/trigger") == 0) {
		pd->pd_op = CTL_TRIGGER;
		pd->pd_arg = apihttp_query_true(req, "sync");
	} else {
		free(pd);
		apihttp_error(req, 400, "unknown action: %s (valid: "
		    "start|stop|restart|scale|signal|schedule/pause|"
		    "schedule/resume|schedule/trigger)", action);
		return;
	}
	apihttp_forward(req, pd);
}

/*
 * The Kubernetes probes, with a breakdown per enabled process.  Live:
 * the api answers.  Ready: every desired instance runs (a one-shot:
 * has completed).  Started: every process has been launched and none
 * is still starting.
 */
static void
apihttp_probe(struct evhttp_request *req, enum probe which)
{
	struct json_object	*o, *procs, *po;
	struct api_proc		*ap;
	struct proc_conf	*pc;
	struct state_instance	*si;
	uint32_t		 i, good, starting;
	int			 ok = 1, pok, launched;

	procs = json_object_new_object();
	TAILQ_FOREACH(ap, &api->a_procs, ap_entry) {
		pc = api_proc_conf(ap->ap_state.sp_name);
		if (pc == NULL || !pc->pc_enabled)
			continue;
		good = starting = 0;
		for (i = 0; i < ap->ap_ninst; i++) {
			if (!api_inst_present(ap, i))
				continue;
			si = &ap->ap_inst[i];
			if (si->sti_state == IST_RUNNING ||
			    (pc->pc_type == PTYPE_ONESHOT &&
			    si->sti_state == IST_COMPLETED))
				good++;
			else if (si->sti_state == IST_STARTING)
				starting++;
		}
		launched = (ap->ap_state.sp_flags & SPF_LAUNCHED) != 0 ||
		    pc->pc_initial_stopped;
		switch (which) {
		case PROBE_LIVE:
			pok = 1;
			break;
		case PROBE_READY:
			/* running, and healthy or said ready where asked */
			pok = good >= ap->ap_state.sp_desired &&
			    (ap->ap_state.sp_flags & SPF_READY) != 0;
			break;
		default:
			pok = launched && starting == 0;
			break;
		}
		/* a scheduled task waits for its minute: nothing to probe */
		if (pc->pc_schedule != NULL && which != PROBE_LIVE)
			pok = launched;
		po = json_object_new_object();
		json_object_object_add(po, "ok", json_object_new_boolean(pok));
		json_object_object_add(po, "state", json_object_new_string(
		    apihttp_proc_state(ap, pc)));
		json_object_object_add(po, "ready",
		    json_object_new_int64(good));
		json_object_object_add(po, "desired",
		    json_object_new_int64(ap->ap_state.sp_desired));
		json_object_object_add(po, "launched",
		    json_object_new_boolean(launched));
		json_object_object_add(procs, ap->ap_state.sp_name, po);
		if (!pok)
			ok = 0;
	}
	/* before the engine's first snapshot nothing is known yet */
	if (which != PROBE_LIVE && (!api->a_synced || api->a_conf == NULL))
		ok = 0;
	o = json_object_new_object();
	/* a shutdown begins by taking the container out of service */
	if (which == PROBE_READY && api->a_stopping) {
		ok = 0;
		json_object_object_add(o, "status",
		    json_object_new_string("shutting down"));
	} else
		json_object_object_add(o, "status", json_object_new_string(ok ?
		    "ok" : which == PROBE_READY ? "not ready" : "not started"));
	json_object_object_add(o, "processes", procs);
	apihttp_json(req, ok ? 200 : 503, o);
}

static void
apihttp_metrics(struct evhttp_request *req)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL)
		fatal("%s", __func__);
	metrics_render(b);
	apihttp_send(req, 200, "text/plain; version=0.0.4; charset=utf-8", b);
	evbuffer_free(b);
}

/* GET or HEAD, which evhttp answers without the body. */
static int
apihttp_get(struct evhttp_request *req)
{
	enum evhttp_cmd_type	m = evhttp_request_get_command(req);

	return (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD);
}

static void
apihttp_route(struct evhttp_request *req, void *arg)
{
	struct http_srv	*hs = arg;
	const char	*raw, *mpath;
	char		*path;
	size_t		 len;

	apihttp_limits(hs);
	if (!apihttp_acl(req, hs))
		return;
	/* the API is limited; Prometheus and probes on the metrics port
	 * are not, as in phpeek-pm */
	if (hs->hs_kind == HK_API && !apihttp_rate_ok(req)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "1");
		apihttp_error(req, 429, "rate limit exceeded");
		return;
	}
	if ((raw = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req))) ==
	    NULL || *raw == '\0')
		raw = "/";
	/* %xx is decoded, as Go does; a NUL in a path is refused */
	if ((path = evhttp_uridecode(raw, 0, &len)) == NULL)
		fatal("%s", __func__);
	if (strlen(path) != len) {
		apihttp_error(req, 400, "invalid path");
		free(path);
		return;
	}
	mpath = apihttp_metrics_path();

	/* the probes answer everyone, as Kubernetes needs */
	if (strcmp(path, "/livez") == 0 || strcmp(path, "/healthz") == 0 ||
	    strcmp(path, "/readyz") == 0 || strcmp(path, "/startupz") == 0) {
		if (!apihttp_get(req))
			apihttp_error(req, 405, "method not allowed");
		else if (strcmp(path, "/readyz") == 0)
			apihttp_probe(req, PROBE_READY);
		else if (strcmp(path, "/startupz") == 0)
			apihttp_probe(req, PROBE_STARTUP);
		else
			apihttp_probe(req, PROBE_LIVE);
	} else if (hs->hs_kind == HK_METRICS) {
		if (strcmp(path, mpath) != 0 && strcmp(path, "/health") != 0)
			apihttp_text(req, 404, "404 page not found");
		else if (!apihttp_get(req))
			apihttp_error(req, 405, "method not allowed");
		else if (strcmp(path, mpath) == 0)
			apihttp_metrics(req);
		else
			apihttp_text(req, 200, "OK");
	} else
		apihttp_route_api(req, hs, path);
	free(path);
}

/* The REST API, on the control socket and the TCP API port. */
static void
apihttp_route_api(struct evhttp_request *req, struct http_srv *hs,
    const char *path)
{
	enum evhttp_cmd_type	 m = evhttp_request_get_command(req);
	struct json_object	*o;
	struct pending		*pd;

	if (strcmp(path, "/api/v1/health") == 0) {
		if (!apihttp_get(req)) {
			apihttp_error(req, 405, "method not allowed");
			return;
		}
		o = json_object_new_object();
		json_object_object_add(o, "status",
		    json_object_new_string("healthy"));
		apihttp_json(req, 200, o);
		return;
	}
	if (!apihttp_authorized(req)) {
		apihttp_error(req, 401, "unauthorized");
		return;
	}
	if (hs->hs_kind == HK_CONTROL && (strcmp(path, "/metrics") == 0 ||
	    strcmp(path, apihttp_metrics_path()) == 0)) {
		/* phpeekctl metrics: the socket needs no TCP port */
		if (!apihttp_get(req))
			apihttp_error(req, 405, "method not allowed");
		else
			apihttp_metrics(req);
	} else if (strcmp(path, "/api/v1/processes") == 0) {
		if (apihttp_get(req))
			apihttp_processes(req);
		else if (m == EVHTTP_REQ_POST)
			apihttp_edit(req, CTL_ADD, NULL);
		else
			apihttp_error(req, 405, "method not allowed");
	} else if (strncmp(path, PROCS_PREFIX, strlen(PROCS_PREFIX)) == 0)
		apihttp_route_process(req, path + strlen(PROCS_PREFIX));
	else if (strcmp(path, "/api/v1/logs") == 0) {
		if (apihttp_get(req))
			apihttp_stack_logs(req);
		else
			apihttp_error(req, 405, "method not allowed");
	} else if (strcmp(path, "/api/v1/oneshot/history") == 0) {
		if (apihttp_get(req))
			apihttp_oneshot_history(req);
		else
			apihttp_error(req, 405, "method not allowed");
	} else if (strcmp(path, "/api/v1/metrics/history") == 0) {
		if (apihttp_get(req))
			apihttp_history(req);
		else
			apihttp_error(req, 405, "method not allowed");
	} else if (strcmp(path, "/api/v1/config/reload") == 0) {
		if (m != EVHTTP_REQ_POST) {
			apihttp_error(req, 405, "method not allowed");
			return;
		}
		if ((pd = calloc(1, sizeof(*pd))) == NULL)
			fatal("%s", __func__);
		apihttp_forward(req, pd);
	} else if (strcmp(path, "/api/v1/config/save") == 0) {
		if (m != EVHTTP_REQ_POST)
			apihttp_error(req, 405, "method not allowed");
		else
			apihttp_edit(req, CTL_SAVE, NULL);
	} else if (strcmp(path, "/api/v1/config/validate") == 0) {
		if (m != EVHTTP_REQ_POST)
			apihttp_error(req, 405, "method not allowed");
		else
			apihttp_edit(req, CTL_VALIDATE, NULL);
	} else
		apihttp_text(req, 404, "404 page not found");
}

/* /api/v1/processes/{name}[/action]: phpeek-pm's path rules (5.3). */
static void
apihttp_route_process(struct evhttp_request *req, const char *rest)
{
	enum evhttp_cmd_type	 m = evhttp_request_get_command(req);
	char			 name[CONF_NAME_MAX];
	const char		*action, *slash;
	size_t			 nlen;

	if (*rest == '\0') {
		apihttp_error(req, 400, "invalid path");
		return;
	}
	if (*rest == '/' || rest[strlen(rest) - 1] == '/') {
		apihttp_error(req, 400, "process name required");
		return;
	}
	if ((slash = strchr(rest, '/')) != NULL) {
		nlen = (size_t)(slash - rest);
		action = slash + 1;
	} else {
		nlen = strlen(rest);
		action = "";
	}
	if (nlen >= sizeof(name)) {
		apihttp_error(req, 404, "process not found");
		return;
	}
	memcpy(name, rest, nlen);
	name[nlen] = '\0';

	if (m == EVHTTP_REQ_POST) {
		if (*action == '\0')
			apihttp_error(req, 400, "action required (start|stop|"
			    "restart|scale)");
		else
			apihttp_action(req, name, action);
	} else if (m == EVHTTP_REQ_PUT)
		apihttp_edit(req, CTL_UPDATE, name);
	else if (m == EVHTTP_REQ_DELETE)
		apihttp_edit(req, CTL_REMOVE, name);
	else if (!apihttp_get(req))
		apihttp_error(req, 405, "method not allowed");
	else if (*action == '\0')
		apihttp_process(req, name);
	else if (strcmp(action, "logs") == 0)
		apihttp_logs(req, name);
	else if (strcmp(action, "schedule") == 0)
		apihttp_schedule(req, name);
	else if (strcmp(action, "schedule/history") == 0)
		apihttp_schedule_history(req, name);
	else
		apihttp_error(req, 400, "unknown GET action");
}
