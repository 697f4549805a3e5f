/*
 * HTTP for the api role: phpeek-pm's REST API on the control socket and
 * the TCP API port, Prometheus metrics and Kubernetes probes on the
 * metrics port.  libevent's evhttp on sockets the parent bound.
 *
 * Reads are answered from the read model at once; changes go to the
 * engine or the parent and are answered when they reply.  Requests on
 * TCP carry a bearer token when one is configured and are rate limited
 * per client address.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/keyvalq_struct.h>
#include <json.h>

#include "phpeekd.h"

#define RATE_PER_SEC	100
#define RATE_BURST	200
#define RATE_CLIENTS	1024

enum http_kind {
	HK_CONTROL = 0,		/* the Unix socket */
	HK_API,			/* TCP: token, rate limit */
	HK_METRICS,
	HK_MAX
};

struct http_srv {
	struct evhttp		*hs_http;
	struct evhttp_bound_socket *hs_bound;
	enum http_kind		 hs_kind;
};

/* A request waiting for the engine or the parent. */
struct pending {
	struct evhttp_request	*pd_req;
	char			 pd_name[CONF_NAME_MAX];
	uint32_t		 pd_op;
	int64_t			 pd_arg;
	char			 pd_action[16];
};

struct rate {
	char		rt_addr[64];
	double		rt_tokens;
	int64_t		rt_when;
};

static struct event_base	*apihttp_base;
static struct http_srv		 apihttp_srv[HK_MAX];
static struct rate		 apihttp_rates[RATE_CLIENTS];

static void	apihttp_route(struct evhttp_request *, void *);
static void	apihttp_resume(int, short, void *);
static void	apihttp_accept_error(struct evconnlistener *, void *);
static void	apihttp_json(struct evhttp_request *, int,
		    struct json_object *);
static void	apihttp_error(struct evhttp_request *, int, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));

static struct event	 apihttp_pause;
static int		 apihttp_paused;

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
	struct global_conf *gc = api->a_conf != NULL ?
			    &api->a_conf->cf_global : NULL;

	if (hs->hs_http != NULL)
		return (hs->hs_http);
	if ((hs->hs_http = evhttp_new(apihttp_base)) == NULL)
		fatalx("evhttp_new");
	hs->hs_kind = kind;
	/* slow clients cannot hold a connection or grow the daemon */
	evhttp_set_timeout(hs->hs_http, 10);
	evhttp_set_max_headers_size(hs->hs_http, 16384);
	evhttp_set_max_body_size(hs->hs_http, gc != NULL ?
	    (ev_ssize_t)gc->gc_api_max_body : 8388608);
	evhttp_set_allowed_methods(hs->hs_http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_HEAD);
	evhttp_set_gencb(hs->hs_http, apihttp_route, hs);
	return (hs->hs_http);
}

void
apihttp_listen(int kind, int fd)
{
	enum http_kind	 hk;
	struct http_srv	*hs;

	hk = kind == LISTEN_CONTROL ? HK_CONTROL : kind == LISTEN_API ?
	    HK_API : HK_METRICS;
	hs = &apihttp_srv[hk];
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
}

static void
apihttp_send(struct evhttp_request *req, int code, const char *type,
    struct evbuffer *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", type);
	evhttp_send_reply(req, code, code < 300 ? "OK" : code == 404 ?
	    "Not Found" : code == 429 ? "Too Many Requests" : "Error", body);
}

static void
apihttp_json(struct evhttp_request *req, int code, struct json_object *o)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL)
		fatal("%s", __func__);
	evbuffer_add_printf(b, "%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
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

static const char *
apihttp_peer(struct evhttp_request *req, struct http_srv *hs)
{
	struct evhttp_connection	*evcon;
	const char			*addr = "unix";
	ev_uint16_t			 port;

	if (hs->hs_kind != HK_CONTROL &&
	    (evcon = evhttp_request_get_connection(req)) != NULL)
		evhttp_connection_get_peer(evcon, (char **)&addr, &port);
	return (addr != NULL ? addr : "?");
}

/* Compare all of both, whatever differs first: no timing oracle. */
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

	if (api->a_conf == NULL || (tok = api->a_conf->cf_global.gc_api_auth)
	    [0] == '\0')
		return (1);
	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	snprintf(want, sizeof(want), "Bearer %s", tok);
	return (h != NULL && apihttp_token_ok(h, want));
}

/* A token bucket per client address; the table is bounded. */
static int
apihttp_rate_ok(const char *addr)
{
	struct rate	*r, *oldest = &apihttp_rates[0];
	int64_t		 now = now_ms();
	size_t		 i;

	for (i = 0; i < RATE_CLIENTS; i++) {
		r = &apihttp_rates[i];
		if (strcmp(r->rt_addr, addr) == 0)
			break;
		if (r->rt_when < oldest->rt_when)
			oldest = r;
	}
	if (i == RATE_CLIENTS) {
		r = oldest;
		strlcpy(r->rt_addr, addr, sizeof(r->rt_addr));
		r->rt_tokens = RATE_BURST;
		r->rt_when = now;
	}
	r->rt_tokens += (double)(now - r->rt_when) * RATE_PER_SEC / 1000.0;
	if (r->rt_tokens > RATE_BURST)
		r->rt_tokens = RATE_BURST;
	r->rt_when = now;
	if (r->rt_tokens < 1)
		return (0);
	r->rt_tokens -= 1;
	return (1);
}

static const char *
apihttp_proc_state(struct api_proc *ap, struct proc_conf *pc)
{
	uint32_t	i;
	int		running = 0, starting = 0, failed = 0, completed = 0;

	for (i = 0; i < ap->ap_ninst; i++) {
		if (!api_inst_present(ap, i))
			continue;
		switch (ap->ap_inst[i].sti_state) {
		case IST_RUNNING:
			running++;
			break;
		case IST_STARTING:
		case IST_BACKOFF:
			starting++;
			break;
		case IST_FAILED:
			failed++;
			break;
		case IST_COMPLETED:
			completed++;
			break;
		default:
			break;
		}
	}
	if (running > 0)
		return ("running");
	if (starting > 0)
		return ("starting");
	if (failed > 0)
		return ("failed");
	if (completed > 0)
		return ("completed");
	if (pc != NULL && !pc->pc_enabled)
		return ("disabled");
	return ("stopped");
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
	uint32_t		 i, scale = 0;

	o = json_object_new_object();
	insts = json_object_new_array();
	for (i = 0; i < ap->ap_ninst; i++) {
		if (!api_inst_present(ap, i))
			continue;
		si = &ap->ap_inst[i];
		if (si->sti_state == IST_RUNNING)
			scale++;
		snprintf(id, sizeof(id), "%s-%u", ap->ap_state.sp_name, i);
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
		sa = si->sti_state == IST_RUNNING ? api_sample_last(ap, i) :
		    NULL;
		json_object_object_add(io, "cpu_percent",
		    json_object_new_double(sa != NULL ? sa->sa_cpu : 0));
		json_object_object_add(io, "memory_rss_bytes",
		    json_object_new_int64(sa != NULL ? (int64_t)sa->sa_rss :
		    0));
		json_object_object_add(io, "memory_percent",
		    json_object_new_double(sa != NULL ? sa->sa_mem_percent :
		    0));
		if (sa != NULL) {
			cpu += sa->sa_cpu;
			rss += sa->sa_rss;
			mem += sa->sa_mem_percent;
		}
		json_object_array_add(insts, io);
	}
	json_object_object_add(o, "name",
	    json_object_new_string(ap->ap_state.sp_name));
	json_object_object_add(o, "type", json_object_new_string(pc != NULL &&
	    pc->pc_type == PTYPE_ONESHOT ? "oneshot" : "longrun"));
	json_object_object_add(o, "state",
	    json_object_new_string(apihttp_proc_state(ap, pc)));
	json_object_object_add(o, "scale", json_object_new_int(scale));
	json_object_object_add(o, "desired_scale",
	    json_object_new_int(ap->ap_state.sp_desired));
	json_object_object_add(o, "max_scale",
	    json_object_new_int(CONF_SCALE_MAX));
	json_object_object_add(o, "cpu_percent", json_object_new_double(cpu));
	json_object_object_add(o, "memory_rss_bytes",
	    json_object_new_int64((int64_t)rss));
	json_object_object_add(o, "memory_percent",
	    json_object_new_double(mem));
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

static struct json_object *
apihttp_config(struct proc_conf *pc)
{
	struct json_object	*o, *env, *sd;
	const char		*eq;
	size_t			 i;

	o = json_object_new_object();
	json_object_object_add(o, "enabled",
	    json_object_new_boolean(pc->pc_enabled));
	json_object_object_add(o, "type", json_object_new_string(
	    pc->pc_type == PTYPE_ONESHOT ? "oneshot" : "longrun"));
	json_object_object_add(o, "command", apihttp_strlist(&pc->pc_command));
	json_object_object_add(o, "working_dir", pc->pc_workdir != NULL ?
	    json_object_new_string(pc->pc_workdir) : NULL);
	json_object_object_add(o, "user", pc->pc_user != NULL ?
	    json_object_new_string(pc->pc_user) : NULL);
	json_object_object_add(o, "group", pc->pc_group != NULL ?
	    json_object_new_string(pc->pc_group) : NULL);
	json_object_object_add(o, "restart",
	    json_object_new_string(restart_name(pc->pc_restart)));
	json_object_object_add(o, "scale", json_object_new_int(pc->pc_scale));
	json_object_object_add(o, "depends_on",
	    apihttp_strlist(&pc->pc_depends));
	env = json_object_new_object();
	for (i = 0; i < pc->pc_env.sl_n; i++) {
		char	key[256];

		if ((eq = strchr(pc->pc_env.sl_v[i], '=')) == NULL ||
		    (size_t)(eq - pc->pc_env.sl_v[i]) >= sizeof(key))
			continue;
		memcpy(key, pc->pc_env.sl_v[i], (size_t)(eq -
		    pc->pc_env.sl_v[i]));
		key[eq - pc->pc_env.sl_v[i]] = '\0';
		json_object_object_add(env, key, json_object_new_string(eq + 1));
	}
	json_object_object_add(o, "env", env);
	sd = json_object_new_object();
	json_object_object_add(sd, "signal",
	    json_object_new_string(signal_name(pc->pc_stop_signal)));
	json_object_object_add(sd, "timeout",
	    json_object_new_int(pc->pc_stop_timeout));
	json_object_object_add(o, "shutdown", sd);
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

static int
apihttp_query_int(struct evhttp_request *req, const char *key, int def,
    int min, int max)
{
	struct evkeyvalq	 q;
	const char		*v, *errstr, *query;
	int			 n = def;

	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (query == NULL || evhttp_parse_query_str(query, &q) == -1)
		return (def);
	if ((v = evhttp_find_header(&q, key)) != NULL) {
		n = (int)strtonum(v, min, max, &errstr);
		if (errstr != NULL)
			n = def;
	}
	evhttp_clear_headers(&q);
	return (n);
}

/* The newest lines of a process, newest first, as phpeek-pm orders them. */
static void
apihttp_logs(struct evhttp_request *req, struct api_proc *ap)
{
	struct json_object	*o, *a, *e;
	const struct log_entry	*le;
	char			 ts[64], id[CONF_NAME_MAX + 16];
	struct tm		 tm;
	time_t			 t;
	int			 limit, n = 0;
	uint32_t		 i;

	limit = apihttp_query_int(req, "limit", 100, 1, LOG_RING_SIZE);
	a = json_object_new_array();
	for (i = ap->ap_log_len; i > 0 && n < limit; i--, n++) {
		le = api_log_at(ap, i - 1);
		t = (time_t)(le->le_time / 1000);
		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03dZ",
		    (int)(le->le_time % 1000));
		snprintf(id, sizeof(id), "%s-%u", ap->ap_state.sp_name,
		    le->le_idx);
		e = json_object_new_object();
		json_object_object_add(e, "Timestamp",
		    json_object_new_string(ts));
		json_object_object_add(e, "ProcessName",
		    json_object_new_string(ap->ap_state.sp_name));
		json_object_object_add(e, "InstanceID",
		    json_object_new_string(id));
		json_object_object_add(e, "Stream", json_object_new_string(
		    le->le_stream == STREAM_STDERR ? "stderr" : "stdout"));
		json_object_object_add(e, "Message",
		    json_object_new_string(le->le_msg));
		json_object_object_add(e, "Level", json_object_new_string(
		    le->le_level == LOG_LVL_ERROR ? "error" :
		    le->le_level == LOG_LVL_WARN ? "warn" :
		    le->le_level == LOG_LVL_DEBUG ? "debug" : "info"));
		json_object_array_add(a, e);
	}
	o = json_object_new_object();
	json_object_object_add(o, "process",
	    json_object_new_string(ap->ap_state.sp_name));
	json_object_object_add(o, "limit", json_object_new_int(limit));
	json_object_object_add(o, "count", json_object_new_int(n));
	json_object_object_add(o, "logs", a);
	apihttp_json(req, 200, o);
}

static void
apihttp_closed(struct evhttp_connection *evcon, void *arg)
{
	struct pending	*pd = arg;

	/* the reply will find nobody to answer */
	pd->pd_req = NULL;
}

static void
apihttp_answer(void *arg, uint32_t status, const char *msg)
{
	struct pending		*pd = arg;
	struct json_object	*o;
	const char		*st;

	if (pd->pd_req == NULL) {
		free(pd);
		return;
	}
	evhttp_connection_set_closecb(evhttp_request_get_connection(
	    pd->pd_req), NULL, NULL);
	log_info("audit: %s %s -> %u %s", pd->pd_action, pd->pd_name, status,
	    msg);
	if (status >= 300) {
		apihttp_error(pd->pd_req, (int)status, "%s", msg);
		free(pd);
		return;
	}
	o = json_object_new_object();
	if (pd->pd_op == 0) {
		json_object_object_add(o, "status",
		    json_object_new_string("reloaded"));
		json_object_object_add(o, "message",
		    json_object_new_string(msg));
		apihttp_json(pd->pd_req, 200, o);
		free(pd);
		return;
	}
	st = pd->pd_op == CTL_START ? "started" : pd->pd_op == CTL_STOP ?
	    "stopped" : pd->pd_op == CTL_RESTART ? "restarted" :
	    pd->pd_op == CTL_SCALE ? "scaled" : "signalled";
	json_object_object_add(o, "status", json_object_new_string(st));
	json_object_object_add(o, "process",
	    json_object_new_string(pd->pd_name));
	if (pd->pd_op == CTL_SCALE)
		json_object_object_add(o, "desired",
		    json_object_new_int((int)pd->pd_arg));
	if (pd->pd_op == CTL_SIGNAL)
		json_object_object_add(o, "signal",
		    json_object_new_string(signal_name((int)pd->pd_arg)));
	apihttp_json(pd->pd_req, 200, o);
	free(pd);
}

static void
apihttp_forward(struct evhttp_request *req, uint32_t op, const char *name,
    int64_t arg, const char *action)
{
	struct pending	*pd;

	if ((pd = calloc(1, sizeof(*pd))) == NULL)
		fatal("%s", __func__);
	pd->pd_req = req;
	pd->pd_op = op;
	pd->pd_arg = arg;
	strlcpy(pd->pd_name, name, sizeof(pd->pd_name));
	strlcpy(pd->pd_action, action, sizeof(pd->pd_action));
	if (api_request(op, name, arg, apihttp_answer, pd) == -1) {
		free(pd);
		apihttp_error(req, 503, "%s unavailable", op == 0 ? "parent" :
		    "engine");
		return;
	}
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
	    apihttp_closed, pd);
}

/* The request body as a JSON object, or NULL after a 400. */
static struct json_object *
apihttp_body(struct evhttp_request *req)
{
	struct evbuffer		*b = evhttp_request_get_input_buffer(req);
	struct json_object	*o;
	size_t			 len = evbuffer_get_length(b);
	char			*s;

	if ((s = malloc(len + 1)) == NULL)
		fatal("%s", __func__);
	evbuffer_remove(b, s, len);
	s[len] = '\0';
	o = json_tokener_parse(s);
	free(s);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		apihttp_error(req, 400, "invalid request body");
		return (NULL);
	}
	return (o);
}

static void
apihttp_action(struct evhttp_request *req, const char *name,
    const char *action)
{
	struct api_proc		*ap = api_proc_find(name);
	struct json_object	*o, *v;
	int64_t			 arg = 0;
	int			 sig;

	if (strcmp(action, "start") == 0)
		apihttp_forward(req, CTL_START, name, 0, action);
	else if (strcmp(action, "stop") == 0)
		apihttp_forward(req, CTL_STOP, name, 0, action);
	else if (strcmp(action, "restart") == 0)
		apihttp_forward(req, CTL_RESTART, name, 0, action);
	else if (strcmp(action, "scale") == 0) {
		if ((o = apihttp_body(req)) == NULL)
			return;
		if (json_object_object_get_ex(o, "delta", &v))
			arg = (ap != NULL ? ap->ap_state.sp_desired : 0) +
			    json_object_get_int64(v);
		else if (json_object_object_get_ex(o, "desired", &v)) {
			arg = json_object_get_int64(v);
			if (arg < 1) {
				json_object_put(o);
				apihttp_error(req, 400,
				    "desired scale must be >= 1");
				return;
			}
		} else {
			json_object_put(o);
			apihttp_error(req, 400, "invalid request body");
			return;
		}
		json_object_put(o);
		apihttp_forward(req, CTL_SCALE, name, arg, action);
	} else if (strcmp(action, "signal") == 0) {
		if ((o = apihttp_body(req)) == NULL)
			return;
		sig = -1;
		if (json_object_object_get_ex(o, "signal", &v))
			sig = json_object_is_type(v, json_type_int) ?
			    json_object_get_int(v) :
			    signal_byname(json_object_get_string(v));
		json_object_put(o);
		if (sig < 1 || sig >= NSIG) {
			apihttp_error(req, 400, "unknown signal");
			return;
		}
		apihttp_forward(req, CTL_SIGNAL, name, sig, action);
	} else
		apihttp_error(req, 400, "unknown action: %s (valid: start|stop|"
		    "restart|scale|signal)", action);
}

/* /livez, /readyz, /startupz with a per-process breakdown. */
static void
apihttp_probe(struct evhttp_request *req, const char *which)
{
	struct json_object	*o, *procs, *po;
	struct api_proc		*ap;
	struct proc_conf	*pc;
	uint32_t		 i, good;
	int			 ok = 1, pok;

	procs = json_object_new_object();
	TAILQ_FOREACH(ap, &api->a_procs, ap_entry) {
		pc = api_proc_conf(ap->ap_state.sp_name);
		if (pc == NULL || !pc->pc_enabled)
			continue;
		good = 0;
		for (i = 0; i < ap->ap_ninst; i++)
			if (api_inst_present(ap, i) &&
			    (ap->ap_inst[i].sti_state == IST_RUNNING ||
			    ap->ap_inst[i].sti_state == IST_COMPLETED))
				good++;
		if (strcmp(which, "startupz") == 0)
			pok = (ap->ap_state.sp_flags & SPF_LAUNCHED) != 0 ||
			    pc->pc_initial_stopped;
		else
			pok = good >= ap->ap_state.sp_desired;
		if (strcmp(which, "livez") == 0)
			pok = 1;
		po = json_object_new_object();
		json_object_object_add(po, "ok", json_object_new_boolean(pok));
		json_object_object_add(po, "state", json_object_new_string(
		    apihttp_proc_state(ap, pc)));
		json_object_object_add(po, "running",
		    json_object_new_int((int)good));
		json_object_object_add(po, "desired",
		    json_object_new_int((int)ap->ap_state.sp_desired));
		json_object_object_add(procs, ap->ap_state.sp_name, po);
		if (!pok)
			ok = 0;
	}
	if (!api->a_synced && strcmp(which, "livez") != 0)
		ok = 0;
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(ok ?
	    "ok" : "not ready"));
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

/* GET /api/v1/metrics/history?process=P&instance=I&limit=K */
static void
apihttp_history(struct evhttp_request *req)
{
	struct evkeyvalq	 q;
	struct json_object	*o, *a, *e;
	struct api_proc		*ap;
	const struct sample	*sa;
	const char		*query, *proc, *inst, *dash;
	const char		*errstr;
	uint32_t		 idx, i, n, start;
	int			 limit;

	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (query == NULL || evhttp_parse_query_str(query, &q) == -1) {
		apihttp_error(req, 400, "process and instance are required");
		return;
	}
	proc = evhttp_find_header(&q, "process");
	inst = evhttp_find_header(&q, "instance");
	if (proc == NULL || inst == NULL || (ap = api_proc_find(proc)) ==
	    NULL || (dash = strrchr(inst, '-')) == NULL) {
		evhttp_clear_headers(&q);
		apihttp_error(req, 400, "process and instance are required");
		return;
	}
	idx = (uint32_t)strtonum(dash + 1, 0, CONF_SCALE_MAX - 1, &errstr);
	limit = apihttp_query_int(req, "limit", 100, 1, 10000);
	a = json_object_new_array();
	for (n = 0; errstr == NULL && api_sample_at(ap, idx, n) != NULL; n++)
		;
	start = n > (uint32_t)limit ? n - (uint32_t)limit : 0;
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
		    json_object_new_int((int)sa->sa_threads));
		json_object_object_add(e, "file_descriptors",
		    json_object_new_int((int)sa->sa_fds));
		json_object_array_add(a, e);
	}
	o = json_object_new_object();
	json_object_object_add(o, "process", json_object_new_string(proc));
	json_object_object_add(o, "instance", json_object_new_string(inst));
	json_object_object_add(o, "limit", json_object_new_int(limit));
	json_object_object_add(o, "samples",
	    json_object_new_int((int)(n - start)));
	json_object_object_add(o, "data", a);
	evhttp_clear_headers(&q);
	apihttp_json(req, 200, o);
}

static void
apihttp_route(struct evhttp_request *req, void *arg)
{
	struct http_srv		*hs = arg;
	struct json_object	*o;
	struct api_proc		*ap;
	struct proc_conf	*pc;
	enum evhttp_cmd_type	 m = evhttp_request_get_command(req);
	const char		*path, *mpath;
	char			 name[CONF_NAME_MAX], *slash;
	const char		*action;

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL)
		path = "/";
	mpath = api->a_conf != NULL ?
	    api->a_conf->cf_global.gc_metrics_path : "/metrics";

	/* probes and health answer everyone, as Kubernetes needs */
	if (strcmp(path, "/livez") == 0 || strcmp(path, "/healthz") == 0) {
		apihttp_probe(req, "livez");
		return;
	}
	if (strcmp(path, "/readyz") == 0 || strcmp(path, "/startupz") == 0) {
		apihttp_probe(req, path + 1);
		return;
	}
	if (hs->hs_kind == HK_METRICS) {
		if (strcmp(path, mpath) == 0)
			apihttp_metrics(req);
		else if (strcmp(path, "/health") == 0) {
			struct evbuffer *b = evbuffer_new();

			evbuffer_add_printf(b, "OK\n");
			apihttp_send(req, 200, "text/plain", b);
			evbuffer_free(b);
		} else
			evhttp_send_error(req, 404, "404 page not found");
		return;
	}
	if (hs->hs_kind == HK_API &&
	    !apihttp_rate_ok(apihttp_peer(req, hs))) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "1");
		apihttp_error(req, 429, "rate limit exceeded");
		return;
	}
	if (strcmp(path, "/api/v1/health") == 0) {
		if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
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
		log_warnx("audit: %s: unauthorized request for %s",
		    apihttp_peer(req, hs), path);
		apihttp_error(req, 401, "unauthorized");
		return;
	}
	if (strcmp(path, mpath) == 0 && hs->hs_kind == HK_CONTROL) {
		apihttp_metrics(req);
		return;
	}
	if (strcmp(path, "/api/v1/metrics/history") == 0) {
		apihttp_history(req);
		return;
	}
	if (strcmp(path, "/api/v1/config/reload") == 0) {
		if (m != EVHTTP_REQ_POST) {
			apihttp_error(req, 405, "method not allowed");
			return;
		}
		apihttp_forward(req, 0, "", 0, "reload");
		return;
	}
	if (strcmp(path, "/api/v1/config/validate") == 0 ||
	    strcmp(path, "/api/v1/config/save") == 0) {
		apihttp_error(req, 501, "not implemented: use phpeekd -n and "
		    "edit the file");
		return;
	}
	if (strcmp(path, "/api/v1/processes") == 0) {
		if (m != EVHTTP_REQ_GET) {
			apihttp_error(req, 405, "method not allowed");
			return;
		}
		apihttp_processes(req);
		return;
	}
	if (strncmp(path, "/api/v1/processes/", 18) != 0) {
		evhttp_send_error(req, 404, "404 page not found");
		return;
	}
	path += 18;
	if (*path == '\0') {
		apihttp_error(req, 400, "invalid path");
		return;
	}
	if (strlcpy(name, path, sizeof(name)) >= sizeof(name)) {
		apihttp_error(req, 404, "process not found");
		return;
	}
	action = "";
	if ((slash = strchr(name, '/')) != NULL) {
		*slash = '\0';
		action = path + (slash - name) + 1;
	}
	if (name[0] == '\0') {
		apihttp_error(req, 400, "process name required");
		return;
	}
	if (m == EVHTTP_REQ_POST) {
		if (*action == '\0') {
			apihttp_error(req, 400, "action required (start|stop|"
			    "restart|scale)");
			return;
		}
		apihttp_action(req, name, action);
		return;
	}
	if (m != EVHTTP_REQ_GET) {
		apihttp_error(req, 405, "method not allowed");
		return;
	}
	if ((ap = api_proc_find(name)) == NULL ||
	    (pc = api_proc_conf(name)) == NULL) {
		apihttp_error(req, 404, "failed to get process: process %s not "
		    "found", name);
		return;
	}
	if (strcmp(action, "logs") == 0) {
		apihttp_logs(req, ap);
		return;
	}
	if (*action != '\0') {
		apihttp_error(req, 400, "unknown GET action");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "process", json_object_new_string(name));
	json_object_object_add(o, "config", apihttp_config(pc));
	json_object_object_add(o, "info", apihttp_process_info(ap));
	apihttp_json(req, 200, o);
}
