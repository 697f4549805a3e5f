/*
 * libcurl's multi interface on the engine's libevent loop: HTTP health
 * checks (and heartbeat pings) run without a blocking call and without
 * threads of our own.  curl tells us which sockets to watch and when
 * its next timeout is; libevent tells curl when they are ready.
 */

#include <sys/types.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phpeekd.h"

/*
 * libcurl is opened by curlev_init(), in the engine only (dl.c): every
 * call below goes through these pointers.
 */
#define CURL_SYMS(X, s) \
	X(s, curl_easy_cleanup) \
	X(s, curl_easy_getinfo) \
	X(s, curl_easy_init) \
	X(s, curl_easy_setopt) \
	X(s, curl_easy_strerror) \
	X(s, curl_global_init) \
	X(s, curl_multi_add_handle) \
	X(s, curl_multi_assign) \
	X(s, curl_multi_info_read) \
	X(s, curl_multi_init) \
	X(s, curl_multi_remove_handle) \
	X(s, curl_multi_setopt) \
	X(s, curl_multi_socket_action) \
	X(s, curl_slist_append) \
	X(s, curl_slist_free_all)
DL_TABLE(dl_curl, CURL_SYMS);

/* curl.h wraps these three in macros of its own */
#undef curl_easy_getinfo
#undef curl_easy_setopt
#undef curl_multi_setopt
#define curl_easy_cleanup	(*dl_curl.curl_easy_cleanup)
#define curl_easy_getinfo	(*dl_curl.curl_easy_getinfo)
#define curl_easy_init	(*dl_curl.curl_easy_init)
#define curl_easy_setopt	(*dl_curl.curl_easy_setopt)
#define curl_easy_strerror	(*dl_curl.curl_easy_strerror)
#define curl_global_init	(*dl_curl.curl_global_init)
#define curl_multi_add_handle	(*dl_curl.curl_multi_add_handle)
#define curl_multi_assign	(*dl_curl.curl_multi_assign)
#define curl_multi_info_read	(*dl_curl.curl_multi_info_read)
#define curl_multi_init	(*dl_curl.curl_multi_init)
#define curl_multi_remove_handle	(*dl_curl.curl_multi_remove_handle)
#define curl_multi_setopt	(*dl_curl.curl_multi_setopt)
#define curl_multi_socket_action	(*dl_curl.curl_multi_socket_action)
#define curl_slist_append	(*dl_curl.curl_slist_append)
#define curl_slist_free_all	(*dl_curl.curl_slist_free_all)

struct curlev_sock {
	struct event	 cs_ev;
	curl_socket_t	 cs_fd;
};

struct curlev_req {
	CURL		*cr_easy;
	struct curl_slist *cr_headers;
	char		*cr_body;
	void		(*cr_cb)(void *, int, long, const char *);
	void		*cr_arg;
	char		 cr_err[CURL_ERROR_SIZE];
};

static CURLM		*curlev_multi;
static struct event	 curlev_timer;

static int	curlev_sock_cb(CURL *, curl_socket_t, int, void *, void *);
static int	curlev_timer_cb(CURLM *, long, void *);
static void	curlev_event(int, short, void *);
static void	curlev_timeout(int, short, void *);
static void	curlev_done(void);
static size_t	curlev_discard(char *, size_t, size_t, void *);
static void	curlev_free(struct curlev_req *);
static int	curlev_add_headers(struct curlev_req *,
		    const struct strlist *);

/* Before the sandbox: curl may read its configuration and TLS files. */
void
curlev_init(void)
{
	/* no HTTP check or heartbeat: libcurl is not even mapped */
	if ((dl_wanted & DL_CURL) == 0)
		return;
	DL_LOAD(CURL_SONAME, dl_curl);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		fatalx("curl_global_init");
	if ((curlev_multi = curl_multi_init()) == NULL)
		fatalx("curl_multi_init");
	curl_multi_setopt(curlev_multi, CURLMOPT_SOCKETFUNCTION,
	    curlev_sock_cb);
	curl_multi_setopt(curlev_multi, CURLMOPT_TIMERFUNCTION,
	    curlev_timer_cb);
	evtimer_set(&curlev_timer, curlev_timeout, NULL);
}

static int
curlev_sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *sockp)
{
	struct curlev_sock	*cs = sockp;
	short			 events = EV_PERSIST;

	if (what == CURL_POLL_REMOVE) {
		if (cs != NULL) {
			event_del(&cs->cs_ev);
			free(cs);
			curl_multi_assign(curlev_multi, fd, NULL);
		}
		return (0);
	}
	if (cs == NULL) {
		if ((cs = calloc(1, sizeof(*cs))) == NULL)
			return (-1);
		cs->cs_fd = fd;
		curl_multi_assign(curlev_multi, fd, cs);
	} else
		event_del(&cs->cs_ev);
	if (what & CURL_POLL_IN)
		events |= EV_READ;
	if (what & CURL_POLL_OUT)
		events |= EV_WRITE;
	event_set(&cs->cs_ev, fd, events, curlev_event, cs);
	event_add(&cs->cs_ev, NULL);
	return (0);
}

static int
curlev_timer_cb(CURLM *multi, long ms, void *userp)
{
	struct timeval	tv;

	evtimer_del(&curlev_timer);
	if (ms >= 0) {
		ms_to_tv(ms, &tv);
		evtimer_add(&curlev_timer, &tv);
	}
	return (0);
}

static void
curlev_event(int fd, short event, void *arg)
{
	int	flags = 0, running;

	if (event & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (event & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(curlev_multi, fd, flags, &running);
	curlev_done();
}

static void
curlev_timeout(int fd, short event, void *arg)
{
	int	running;

	curl_multi_socket_action(curlev_multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	curlev_done();
}

/* Hand finished transfers to their callers. */
static void
curlev_done(void)
{
	struct curlev_req	*cr;
	CURLMsg			*msg;
	CURL			*easy;
	long			 code = 0;
	int			 left, ok;

	while ((msg = curl_multi_info_read(curlev_multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		ok = msg->data.result == CURLE_OK;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&cr);
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
		if (!ok && cr->cr_err[0] == '\0')
			strlcpy(cr->cr_err, curl_easy_strerror(msg->data.result),
			    sizeof(cr->cr_err));
		curl_multi_remove_handle(curlev_multi, easy);
		cr->cr_cb(cr->cr_arg, ok, code, ok ? NULL : cr->cr_err);
		curlev_free(cr);
	}
}

static size_t
curlev_discard(char *ptr, size_t size, size_t n, void *arg)
{
	return (size * n);
}

/*
 * Start a request; cb(arg, ok, status, error) is called exactly once,
 * unless the request is cancelled first.  method NULL means GET.
 */
struct curlev_req *
curlev_request(const char *url, const char *method, long timeout_ms,
    void (*cb)(void *, int, long, const char *), void *arg)
{
	return (curlev_send(url, method, NULL, NULL, timeout_ms, cb, arg));
}

/* Headers come as "Name=value", as the configuration holds them. */
static int
curlev_add_headers(struct curlev_req *cr, const struct strlist *headers)
{
	struct curl_slist	*l;
	char			*h, *eq;
	size_t			 i;

	for (i = 0; headers != NULL && i < headers->sl_n; i++) {
		if ((h = strdup(headers->sl_v[i])) == NULL)
			return (-1);
		if ((eq = strchr(h, '=')) == NULL) {
			free(h);
			continue;
		}
		*eq = '\0';
		if (asprintf(&eq, "%s: %s", h, eq + 1) == -1) {
			free(h);
			return (-1);
		}
		free(h);
		l = curl_slist_append(cr->cr_headers, eq);
		free(eq);
		if (l == NULL)
			return (-1);
		cr->cr_headers = l;
	}
	return (0);
}

/* The same with request headers and, when body is not NULL, a body. */
struct curlev_req *
curlev_send(const char *url, const char *method,
    const struct strlist *headers, const char *body, long timeout_ms,
    void (*cb)(void *, int, long, const char *), void *arg)
{
	struct curlev_req	*cr;
	CURL			*easy;

	/* the parent replaces an engine without libcurl before this */
	if (curlev_multi == NULL)
		return (NULL);
	if ((cr = calloc(1, sizeof(*cr))) == NULL)
		return (NULL);
	if ((easy = curl_easy_init()) == NULL) {
		free(cr);
		return (NULL);
	}
	cr->cr_easy = easy;
	cr->cr_cb = cb;
	cr->cr_arg = arg;
	if (curlev_add_headers(cr, headers) == -1 ||
	    (body != NULL && (cr->cr_body = strdup(body)) == NULL)) {
		curlev_free(cr);
		return (NULL);
	}
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, cr);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, cr->cr_err);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, curlev_discard);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "phpeekd/" PHPEEKD_VERSION);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (cr->cr_headers != NULL)
		curl_easy_setopt(easy, CURLOPT_HTTPHEADER, cr->cr_headers);
	if (cr->cr_body != NULL)
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, cr->cr_body);
	if (method != NULL && strcmp(method, "HEAD") == 0)
		curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
	else if (method != NULL)
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
	if (curl_multi_add_handle(curlev_multi, easy) != CURLM_OK) {
		curlev_free(cr);
		return (NULL);
	}
	return (cr);
}

void
curlev_cancel(struct curlev_req *cr)
{
	if (cr == NULL || curlev_multi == NULL)
		return;
	curl_multi_remove_handle(curlev_multi, cr->cr_easy);
	curlev_free(cr);
}

static void
curlev_free(struct curlev_req *cr)
{
	curl_easy_cleanup(cr->cr_easy);
	curl_slist_free_all(cr->cr_headers);
	free(cr->cr_body);
	free(cr);
}
