/*
 * The api role: it serves the control socket, the REST API and the
 * metrics on listeners the parent hands it (apihttp.c, metrics.c).
 *
 * Everything it answers comes from a read model kept here and fed by
 * the engine's state messages, so a status call or a scrape never
 * waits on the engine.  Requests that change something go to the
 * engine (start, stop, ...) or the parent (reload) and are answered
 * when the reply arrives.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "phpeekd.h"

static int	api_dispatch_parent(struct imsgev *, struct imsg *);
static int	api_dispatch_engine(struct imsgev *, struct imsg *);
static int	api_state(struct imsg *);
static int	api_hook(struct imsg *);
static int	api_run(struct imsg *);
static int	api_fpm(struct imsg *);
static void	api_run_put(struct state_run *, uint32_t *, uint32_t *,
		    uint32_t, const struct state_run *);
static int	api_reply(struct imsg *);
static struct api_proc *api_proc_get(const char *, int);
static void	api_proc_free(struct api_proc *);
static void	api_model_sweep(void);
static void	api_proc_grow(struct api_proc *, uint32_t);
static int	api_log_add(struct imsg *);
static void	api_sample_add(struct api_proc *, uint32_t,
		    const struct sample *);
static void	api_fail_waits(enum privsep_procid);
static void	api_lost(struct privsep *, enum privsep_procid);

struct api	*api;

static struct privsep_proc api_procs[] = {
	{ "parent",	PROC_PARENT,	api_dispatch_parent },
	{ "engine",	PROC_ENGINE,	api_dispatch_engine },
};

/* The n-th newest entry of a ring of size cap, or NULL. */
const struct state_run *
api_run_at(struct state_run *ring, uint32_t head, uint32_t len,
    uint32_t cap, uint32_t n)
{
	if (ring == NULL || n >= len)
		return (NULL);
	return (&ring[(head + len - 1 - n) % cap]);
}

/*
 * A start is a new entry, an end completes its start's (the newest
 * with its process and id); an end whose start was never seen, after
 * an api restart, is an entry of its own.  The oldest goes first.
 */
static void
api_run_put(struct state_run *ring, uint32_t *head, uint32_t *len,
    uint32_t cap, const struct state_run *sr)
{
	struct state_run	*r;
	uint32_t		 i;

	if (sr->sr_end_ms != 0)
		for (i = 0; i < *len; i++) {
			r = &ring[(*head + *len - 1 - i) % cap];
			if (r->sr_id == sr->sr_id &&
			    strcmp(r->sr_proc, sr->sr_proc) == 0) {
				*r = *sr;
				return;
			}
		}
	if (*len < cap)
		ring[(*head + (*len)++) % cap] = *sr;
	else {
		ring[*head] = *sr;
		*head = (*head + 1) % cap;
	}
}

static int
api_run(struct imsg *imsg)
{
	struct state_run	 sr;
	struct api_proc		*ap;

	if (state_recv_run(imsg, &sr) == -1)
		return (-1);
	if (sr.sr_kind == RUN_ONESHOT) {
		if (api->a_oneshots == NULL && (api->a_oneshots = calloc(
		    ONESHOT_RING, sizeof(*api->a_oneshots))) == NULL)
			fatal("%s", __func__);
		api_run_put(api->a_oneshots, &api->a_oneshots_head,
		    &api->a_oneshots_len, ONESHOT_RING, &sr);
		return (0);
	}
	ap = api_proc_get(sr.sr_proc, 1);
	if (ap->ap_runs == NULL && (ap->ap_runs = calloc(RUN_RING,
	    sizeof(*ap->ap_runs))) == NULL)
		fatal("%s", __func__);
	api_run_put(ap->ap_runs, &ap->ap_runs_head, &ap->ap_runs_len,
	    RUN_RING, &sr);
	return (0);
}

static int
api_fpm(struct imsg *imsg)
{
	struct state_fpm	 sf;
	struct state_fpm_proc	*procs;
	struct api_proc		*ap;
	uint32_t		 n;

	if ((procs = calloc(FPM_PROCS_MAX, sizeof(*procs))) == NULL)
		fatal("%s", __func__);
	if (state_recv_fpm(imsg, &sf, procs, &n) == -1) {
		free(procs);
		return (-1);
	}
	ap = api_proc_get(sf.sf_proc, 1);
	if (ap->ap_fpm == NULL && (ap->ap_fpm = calloc(1,
	    sizeof(*ap->ap_fpm))) == NULL)
		fatal("%s", __func__);
	*ap->ap_fpm = sf;
	/* the workers of this scrape replace those of the last */
	free(ap->ap_fpm_procs);
	ap->ap_fpm_procs = NULL;
	ap->ap_fpm_nprocs = 0;
	if (n > 0) {
		if ((ap->ap_fpm_procs = reallocarray(procs, n,
		    sizeof(*procs))) == NULL)
			fatal("%s", __func__);
		ap->ap_fpm_nprocs = n;
	} else
		free(procs);
	return (0);
}

/* A hook's counts replace what the api had for it. */
static int
api_hook(struct imsg *imsg)
{
	struct state_hook	sh;
	uint32_t		i;

	if (state_recv_hook(imsg, &sh) == -1)
		return (-1);
	for (i = 0; i < api->a_nhooks; i++)
		if (api->a_hooks[i].sh_type == sh.sh_type &&
		    strcmp(api->a_hooks[i].sh_name, sh.sh_name) == 0) {
			api->a_hooks[i] = sh;
			return (0);
		}
	if (api->a_nhooks < HOOK_STATS_MAX)
		api->a_hooks[api->a_nhooks++] = sh;
	return (0);
}

void
api_role(void)
{
	struct privsep	*ps = privsep;

	if ((api = calloc(1, sizeof(*api))) == NULL)
		fatal("%s", __func__);
	TAILQ_INIT(&api->a_procs);
	TAILQ_INIT(&api->a_waits);
	api->a_start_time = time(NULL);
	api->a_last_reload_ok = 1;
	apihttp_init(event_init());
	ps->ps_lost = api_lost;
	proc_role_channel(ps, api_procs, sizeof(api_procs) /
	    sizeof(api_procs[0]));
	proc_role_run(ps);
}

struct api_proc *
api_proc_find(const char *name)
{
	struct api_proc	*ap;

	TAILQ_FOREACH(ap, &api->a_procs, ap_entry)
		if (strcmp(ap->ap_state.sp_name, name) == 0)
			return (ap);
	return (NULL);
}

static struct api_proc *
api_proc_get(const char *name, int create)
{
	struct api_proc	*ap, *at;

	if ((ap = api_proc_find(name)) != NULL || !create)
		return (ap);
	if ((ap = calloc(1, sizeof(*ap))) == NULL)
		fatal("%s", __func__);
	strlcpy(ap->ap_state.sp_name, name, sizeof(ap->ap_state.sp_name));
	/* keep the list sorted by name: listings are stable */
	TAILQ_FOREACH(at, &api->a_procs, ap_entry)
		if (strcmp(at->ap_state.sp_name, name) > 0)
			break;
	if (at != NULL)
		TAILQ_INSERT_BEFORE(at, ap, ap_entry);
	else
		TAILQ_INSERT_TAIL(&api->a_procs, ap, ap_entry);
	return (ap);
}

static void
api_proc_free(struct api_proc *ap)
{
	uint32_t	i;

	TAILQ_REMOVE(&api->a_procs, ap, ap_entry);
	for (i = 0; ap->ap_logs != NULL && i < LOG_RING_SIZE; i++)
		free(ap->ap_logs[i].le_msg);
	free(ap->ap_logs);
	for (i = 0; i < ap->ap_ninst; i++)
		free(ap->ap_rings[i].r_v);
	free(ap->ap_rings);
	free(ap->ap_runs);
	free(ap->ap_fpm);
	free(ap->ap_fpm_procs);
	free(ap->ap_inst);
	free(ap);
}

/* Make room for instance slot idx. */
static void
api_proc_grow(struct api_proc *ap, uint32_t idx)
{
	struct state_instance	*v;
	struct api_ring		*r;

	if (idx < ap->ap_ninst)
		return;
	if ((v = reallocarray(ap->ap_inst, idx + 1, sizeof(*v))) == NULL)
		fatal("%s", __func__);
	memset(v + ap->ap_ninst, 0, (idx + 1 - ap->ap_ninst) * sizeof(*v));
	ap->ap_inst = v;
	if ((r = reallocarray(ap->ap_rings, idx + 1, sizeof(*r))) == NULL)
		fatal("%s", __func__);
	memset(r + ap->ap_ninst, 0, (idx + 1 - ap->ap_ninst) * sizeof(*r));
	ap->ap_rings = r;
	ap->ap_ninst = idx + 1;
}

static void
api_sample_add(struct api_proc *ap, uint32_t idx, const struct sample *sa)
{
	struct api_ring	*r;
	uint32_t	 cap = 720;

	if (api->a_conf != NULL)
		cap = (uint32_t)api->a_conf->cf_global.gc_resource_max_samples;
	api_proc_grow(ap, idx);
	r = &ap->ap_rings[idx];
	if (r->r_cap != cap) {
		free(r->r_v);
		if ((r->r_v = calloc(cap, sizeof(*r->r_v))) == NULL)
			fatal("%s", __func__);
		r->r_cap = cap;
		r->r_len = r->r_head = 0;
	}
	r->r_v[(r->r_head + r->r_len) % r->r_cap] = *sa;
	if (r->r_len < r->r_cap)
		r->r_len++;
	else
		r->r_head = (r->r_head + 1) % r->r_cap;
}

static int
api_log_add(struct imsg *imsg)
{
	struct api_proc		*ap;
	struct log_entry	*le;
	struct ibuf		 buf;
	char			 name[CONF_NAME_MAX], *msg;
	uint32_t		 idx;
	uint8_t			 stream, level;
	int64_t			 when;

	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_strbuf(&buf, name, sizeof(name)) == -1 ||
	    ibuf_get_u32(&buf, &idx) == -1 ||
	    ibuf_get_u8(&buf, &stream) == -1 ||
	    ibuf_get_u8(&buf, &level) == -1 ||
	    ibuf_get_i64(&buf, &when) == -1 ||
	    ibuf_get_str(&buf, &msg) == -1)
		return (-1);
	if (ibuf_left(&buf) != 0 || idx >= CONF_SCALE_MAX ||
	    (stream != STREAM_STDOUT && stream != STREAM_STDERR) ||
	    level > LOG_LVL_DEBUG || strlen(msg) >= LOG_RING_LINE_MAX) {
		free(msg);
		return (-1);
	}
	if ((ap = api_proc_find(name)) == NULL) {
		free(msg);
		return (0);
	}
	/* a process that never writes a line costs no ring */
	if (ap->ap_logs == NULL && (ap->ap_logs = calloc(LOG_RING_SIZE,
	    sizeof(*ap->ap_logs))) == NULL) {
		log_warn("%s", __func__);
		free(msg);
		return (0);
	}
	if (ap->ap_log_len == LOG_RING_SIZE) {
		le = &ap->ap_logs[ap->ap_log_head];
		ap->ap_log_head = (ap->ap_log_head + 1) % LOG_RING_SIZE;
	} else
		le = &ap->ap_logs[(ap->ap_log_head + ap->ap_log_len++) %
		    LOG_RING_SIZE];
	free(le->le_msg);
	le->le_time = when;
	le->le_idx = idx;
	le->le_stream = stream;
	le->le_level = level;
	le->le_msg = msg;
	ap->ap_log_seq++;
	return (0);
}

/* Line i of a process's ring, 0 = oldest; NULL past the end. */
const struct log_entry *
api_log_at(struct api_proc *ap, uint32_t i)
{
	if (i >= ap->ap_log_len)
		return (NULL);
	return (&ap->ap_logs[(ap->ap_log_head + i) % LOG_RING_SIZE]);
}

/* Sample i (0 = oldest) of an instance, NULL past the end. */
const struct sample *
api_sample_at(struct api_proc *ap, uint32_t idx, uint32_t i)
{
	struct api_ring	*r;

	if (idx >= ap->ap_ninst)
		return (NULL);
	r = &ap->ap_rings[idx];
	if (i >= r->r_len)
		return (NULL);
	return (&r->r_v[(r->r_head + i) % r->r_cap]);
}

const struct sample *
api_sample_last(struct api_proc *ap, uint32_t idx)
{
	if (idx >= ap->ap_ninst || ap->ap_rings[idx].r_len == 0)
		return (NULL);
	return (api_sample_at(ap, idx, ap->ap_rings[idx].r_len - 1));
}

/* After a snapshot: forget processes it did not mention. */
static void
api_model_sweep(void)
{
	struct api_proc	*ap, *next;

	TAILQ_FOREACH_SAFE(ap, &api->a_procs, ap_entry, next)
		if (ap->ap_gen != api->a_gen)
			api_proc_free(ap);
}

/* The configuration entry of a process, NULL if unknown. */
struct proc_conf *
api_proc_conf(const char *name)
{
	if (api->a_conf == NULL)
		return (NULL);
	return (config_proc_find(api->a_conf, name));
}

static int
api_state(struct imsg *imsg)
{
	struct state_proc	 sp;
	struct state_instance	 sti;
	struct api_proc		*ap;
	struct sample		 sa;
	char			 name[CONF_NAME_MAX];
	uint32_t		 idx;

	switch (imsg_get_type(imsg)) {
	case IMSG_STATE_BEGIN:
		/* keep what survives (log rings, samples), drop the rest */
		api->a_gen++;
		api->a_synced = 0;
		TAILQ_FOREACH(ap, &api->a_procs, ap_entry)
			memset(ap->ap_present, 0, sizeof(ap->ap_present));
		return (0);
	case IMSG_STATE_END:
		api_model_sweep();
		api->a_synced = 1;
		return (0);
	case IMSG_STATE_HOOK:
		return (api_hook(imsg));
	case IMSG_STATE_RUN:
		return (api_run(imsg));
	case IMSG_STATE_FPM:
		return (api_fpm(imsg));
	case IMSG_STATE_PROC:
		if (state_recv_proc(imsg, &sp) == -1)
			return (-1);
		ap = api_proc_get(sp.sp_name, 1);
		ap->ap_state = sp;
		ap->ap_gen = api->a_gen;
		return (0);
	case IMSG_STATE_INSTANCE:
		if (state_recv_instance(imsg, &sti) == -1)
			return (-1);
		ap = api_proc_get(sti.sti_proc, 1);
		api_proc_grow(ap, sti.sti_idx);
		/* a new run of the instance starts a new history */
		if (ap->ap_inst[sti.sti_idx].sti_pid != sti.sti_pid &&
		    sti.sti_pid > 0)
			ap->ap_rings[sti.sti_idx].r_len = 0;
		ap->ap_inst[sti.sti_idx] = sti;
		ap->ap_present[sti.sti_idx / 64] |= 1ULL << (sti.sti_idx % 64);
		return (0);
	case IMSG_STATE_GONE:
		if (state_recv_gone(imsg, name, sizeof(name), &idx) == -1)
			return (-1);
		if ((ap = api_proc_find(name)) == NULL)
			return (0);
		if (idx == UINT32_MAX) {
			api_proc_free(ap);
			return (0);
		}
		ap->ap_present[idx / 64] &= ~(1ULL << (idx % 64));
		if (idx < ap->ap_ninst) {
			free(ap->ap_rings[idx].r_v);
			memset(&ap->ap_rings[idx], 0, sizeof(ap->ap_rings[idx]));
		}
		return (0);
	case IMSG_STATE_SAMPLE:
		if (sample_recv(imsg, name, sizeof(name), &idx, &sa) == -1)
			return (-1);
		if ((ap = api_proc_find(name)) != NULL)
			api_sample_add(ap, idx, &sa);
		return (0);
	case IMSG_LOG_LINE:
		return (api_log_add(imsg));
	}
	return (-1);
}

int
api_inst_present(struct api_proc *ap, uint32_t idx)
{
	return (idx < ap->ap_ninst &&
	    (ap->ap_present[idx / 64] & (1ULL << (idx % 64))) != 0);
}

/*
 * Send a request to the engine (op) or the parent (reload) and call cb
 * with the answer.  Returns -1 when the peer is not there to ask.
 */
int
api_request(uint32_t op, const char *name, int64_t arg,
    void (*cb)(void *, uint32_t, const char *), void *cbarg)
{
	struct api_wait	*w;
	int		 rv;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return (-1);
	if (++api->a_next_id == 0)
		++api->a_next_id;
	w->w_id = api->a_next_id;
	w->w_cb = cb;
	w->w_arg = cbarg;
	if (op == 0)
		rv = proc_compose(privsep, PROC_PARENT, IMSG_CTL_RELOAD,
		    w->w_id, -1, NULL, 0);
	else
		rv = ctl_send_request(privsep, w->w_id, op, name, arg);
	if (rv == -1) {
		free(w);
		return (-1);
	}
	w->w_peer = op == 0 ? PROC_PARENT : PROC_ENGINE;
	TAILQ_INSERT_TAIL(&api->a_waits, w, w_entry);
	return (0);
}

/*
 * A process added, changed or removed, or config/save: to the parent,
 * which has the config role check it; the answer comes as a reload's.
 */
int
api_request_edit(uint32_t op, const char *name, const char *json,
    void (*cb)(void *, uint32_t, const char *), void *cbarg)
{
	struct api_wait	*w;
	struct ibuf	*buf;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return (-1);
	if (++api->a_next_id == 0)
		++api->a_next_id;
	w->w_id = api->a_next_id;
	w->w_cb = cb;
	w->w_arg = cbarg;
	w->w_peer = PROC_PARENT;
	if ((buf = proc_create(privsep, PROC_PARENT, IMSG_CTL_EDIT, w->w_id,
	    strlen(json) + CONF_NAME_MAX + 16)) == NULL) {
		free(w);
		return (-1);
	}
	if (ibuf_add_u8(buf, (uint8_t)op) == -1 ||
	    ibuf_add_str(buf, name) == -1 || ibuf_add_str(buf, json) == -1 ||
	    proc_close(privsep, PROC_PARENT, buf) == -1) {
		free(w);
		return (-1);
	}
	TAILQ_INSERT_TAIL(&api->a_waits, w, w_entry);
	return (0);
}

/* The caller's connection went away: its answer goes nowhere. */
void
api_request_cancel(void *cbarg)
{
	struct api_wait	*w;

	TAILQ_FOREACH(w, &api->a_waits, w_entry)
		if (w->w_arg == cbarg)
			w->w_cb = NULL;
}

static int
api_reply(struct imsg *imsg)
{
	struct api_wait	*w;
	char		 msg[1024];
	uint32_t	 status;

	if (ctl_recv_reply(imsg, &status, msg, sizeof(msg)) == -1)
		return (-1);
	TAILQ_FOREACH(w, &api->a_waits, w_entry)
		if (w->w_id == imsg_get_peerid(imsg))
			break;
	if (w == NULL)
		return (0);	/* answered after a timeout: drop */
	TAILQ_REMOVE(&api->a_waits, w, w_entry);
	if (w->w_cb != NULL)
		w->w_cb(w->w_arg, status, msg);
	free(w);
	return (0);
}

/* A peer is gone: fail what waits on it. */
static void
api_fail_waits(enum privsep_procid peer)
{
	struct api_wait	*w, *next;

	TAILQ_FOREACH_SAFE(w, &api->a_waits, w_entry, next) {
		if (w->w_peer != peer)
			continue;
		TAILQ_REMOVE(&api->a_waits, w, w_entry);
		if (w->w_cb != NULL)
			w->w_cb(w->w_arg, 503, "the engine restarted; "
			    "try again");
		free(w);
	}
}

static void
api_lost(struct privsep *ps, enum privsep_procid peer)
{
	api_fail_waits(peer);
}

static int
api_dispatch_parent(struct imsgev *iev, struct imsg *imsg)
{
	struct privsep	*ps = iev->ps;
	uint8_t		 kind, tlsmsg[2];
	int		 rv, fd;

	switch (imsg_get_type(imsg)) {
	case IMSG_CFG_GLOBAL:
	case IMSG_CFG_PROC:
	case IMSG_CFG_HOOK:
	case IMSG_CFG_DONE:
		if ((rv = config_recv(&api->a_pending, imsg)) == -1)
			return (-1);
		if (rv == 1) {
			config_free(api->a_conf);
			api->a_conf = api->a_pending;
			api->a_pending = NULL;
			log_setformat(api->a_conf->cf_global.gc_log_format);
			if (log_getverbose() < LOG_LVL_DEBUG)
				log_setverbose(api->a_conf->cf_global.
				    gc_log_level);
			api->a_reloads++;
		}
		return (0);
	case IMSG_CTL_PROCFD:
		if ((fd = imsg_get_fd(imsg)) == -1)
			return (-1);
		if (ps->ps_iev[PROC_ENGINE] != NULL) {
			proc_channel_close(ps->ps_iev[PROC_ENGINE]);
			api_fail_waits(PROC_ENGINE);
		}
		proc_channel(ps, PROC_ENGINE, fd, IMSG_LINK_MAXSIZE, 0);
		return (0);
	case IMSG_API_LISTENER:
		if (imsg_get_data(imsg, &kind, sizeof(kind)) == -1 ||
		    kind < LISTEN_CONTROL || kind > LISTEN_METRICS ||
		    (fd = imsg_get_fd(imsg)) == -1)
			return (-1);
		apihttp_listen(kind, fd);
		return (0);
	case IMSG_API_TLS:
		if (imsg_get_data(imsg, tlsmsg, sizeof(tlsmsg)) == -1 ||
		    tlsmsg[0] < LISTEN_API || tlsmsg[0] > LISTEN_METRICS ||
		    tlsmsg[1] >= TLS_NFILES || (fd = imsg_get_fd(imsg)) == -1)
			return (-1);
		return (apitls_file(tlsmsg[0], tlsmsg[1], fd));
	case IMSG_CTL_RELOAD_REPLY:
		return (api_reply(imsg));
	case IMSG_SHUTDOWN:
		if (imsg_get_len(imsg) != 0)
			return (-1);
		api->a_stopping = 1;
		return (0);
	case IMSG_CFG_RESULT:
		if (imsg_get_data(imsg, &kind, sizeof(kind)) == -1 || kind > 1)
			return (-1);
		api->a_last_reload_ok = kind;
		if (!kind)
			api->a_reload_failures++;
		api->a_last_reload = time(NULL);
		return (0);
	}
	return (-1);
}

static int
api_dispatch_engine(struct imsgev *iev, struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_STATE_BEGIN:
	case IMSG_STATE_END:
	case IMSG_STATE_PROC:
	case IMSG_STATE_HOOK:
	case IMSG_STATE_RUN:
	case IMSG_STATE_FPM:
	case IMSG_STATE_INSTANCE:
	case IMSG_STATE_GONE:
	case IMSG_STATE_SAMPLE:
	case IMSG_LOG_LINE:
		return (api_state(imsg));
	case IMSG_CTL_REPLY:
		return (api_reply(imsg));
	}
	return (-1);
}
