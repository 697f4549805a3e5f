/*
 * The configuration: its in-memory form, shared by every role, its
 * transfer between roles as IMSG_CFG_* messages, and the config role,
 * which turns the bytes of a file it is handed into those messages.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json.h>

#include "phpeekd.h"

static int	config_dispatch_parent(struct imsgev *, struct imsg *);
static void	config_check_fd(struct privsep *, uint32_t, int);
static void	config_base_fd(int);
static void	config_parse_fd(struct imsgev *, uint32_t, int, const char *);
static int	config_add_strlist(struct ibuf *, const struct strlist *);
static int	config_get_strlist(struct ibuf *, struct strlist *);
static int	config_add_optstr(struct ibuf *, const char *);
static int	config_get_optstr(struct ibuf *, char **);
static int	config_add_health(struct ibuf *, const struct health_conf *);
static int	config_get_health(struct ibuf *, struct health_conf *);
static int	config_add_acl(struct ibuf *, const struct acl_conf *);
static void	config_li_clear(struct logintel_conf *);
static int	config_add_li(struct ibuf *, const struct logintel_conf *);
static int	config_get_li(struct ibuf *, struct logintel_conf *);
static int	config_add_tls(struct ibuf *, const struct tls_conf *);
static int	config_get_tls(struct ibuf *, struct tls_conf *);
static int	config_get_acl(struct ibuf *, struct acl_conf *);
static int	config_get_nets(struct ibuf *, struct acl_net *, uint32_t *);
static int	config_add_heartbeat(struct ibuf *,
		    const struct heartbeat_conf *);
static int	config_get_heartbeat(struct ibuf *, struct heartbeat_conf *);
static int	config_send_hook(struct privsep *, enum privsep_procid,
		    uint32_t, const char *, struct hook_conf *);
static int	config_recv_hook(struct phpeekd_conf *, struct imsg *);
static int	config_send_proc(struct privsep *, enum privsep_procid,
		    uint32_t, struct proc_conf *);
static int	config_recv_proc(struct phpeekd_conf *, struct imsg *);

static struct privsep_proc config_procs[] = {
	{ "parent",	PROC_PARENT,	config_dispatch_parent },
};

void
config_defaults(struct global_conf *gc)
{
	memset(gc, 0, sizeof(*gc));
	gc->gc_shutdown_timeout = 30;
	gc->gc_restart_policy = RESTART_ALWAYS;
	gc->gc_max_restart_attempts = 3;
	gc->gc_backoff_initial_ms = 5000;
	gc->gc_backoff_max_ms = 60000;
	gc->gc_log_format = LOG_FMT_JSON;
	gc->gc_log_level = LOG_LVL_INFO;
	gc->gc_api_enabled = 1;
	gc->gc_api_port = 9180;
	strlcpy(gc->gc_api_socket, PHPEEKD_SOCKET, sizeof(gc->gc_api_socket));
	gc->gc_api_max_body = 8 * 1024 * 1024;
	gc->gc_metrics_enabled = 1;
	gc->gc_metrics_port = 9090;
	strlcpy(gc->gc_metrics_path, "/metrics", sizeof(gc->gc_metrics_path));
	strlcpy(gc->gc_ready_path, READYFILE_PATH, sizeof(gc->gc_ready_path));
	gc->gc_ready_mode = READYFILE_ALL_HEALTHY;
	gc->gc_resource_enabled = 1;
	gc->gc_resource_interval = 5;
	gc->gc_resource_max_samples = 720;
}

struct phpeekd_conf *
config_new(void)
{
	struct phpeekd_conf	*cf;

	if ((cf = calloc(1, sizeof(*cf))) == NULL)
		return (NULL);
	config_defaults(&cf->cf_global);
	TAILQ_INIT(&cf->cf_procs);
	TAILQ_INIT(&cf->cf_hooks);
	return (cf);
}

void
config_free(struct phpeekd_conf *cf)
{
	struct proc_conf	*pc;

	if (cf == NULL)
		return;
	struct hook_conf	*hk;

	while ((pc = TAILQ_FIRST(&cf->cf_procs)) != NULL) {
		TAILQ_REMOVE(&cf->cf_procs, pc, pc_entry);
		config_proc_free(pc);
	}
	while ((hk = TAILQ_FIRST(&cf->cf_hooks)) != NULL) {
		TAILQ_REMOVE(&cf->cf_hooks, hk, hk_entry);
		config_hook_free(hk);
	}
	free(cf);
}

struct proc_conf *
config_proc_new(const char *name)
{
	struct proc_conf	*pc;

	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		return (NULL);
	if (strlcpy(pc->pc_name, name, sizeof(pc->pc_name)) >=
	    sizeof(pc->pc_name)) {
		free(pc);
		errno = ENAMETOOLONG;
		return (NULL);
	}
	pc->pc_enabled = 1;
	pc->pc_type = PTYPE_LONGRUN;
	pc->pc_restart = RESTART_ALWAYS;
	pc->pc_scale = 1;
	pc->pc_stop_signal = SIGTERM;
	pc->pc_stop_timeout = 30;
	pc->pc_umask = -1;
	config_health_defaults(&pc->pc_health);
	logintel_conf_init(&pc->pc_li);
	pc->pc_fpm.fm_interval = 10;
	pc->pc_fpm.fm_opcache = 1;
	pc->pc_fpm.fm_timeout = 2;
	pc->pc_heartbeat.hb_timeout = 30;
	pc->pc_heartbeat.hb_retry_count = 3;
	pc->pc_heartbeat.hb_retry_delay = 5;
	return (pc);
}

/* phpeek-pm's defaults, applied when a health_check block exists. */
void
config_health_defaults(struct health_conf *hc)
{
	memset(hc, 0, sizeof(*hc));
	hc->hc_initial_delay = 5;
	hc->hc_period = 10;
	hc->hc_timeout = 3;
	hc->hc_failure_threshold = 3;
	hc->hc_success_threshold = 1;
	hc->hc_expected_status = 200;
}

static const char *const hook_phases[HOOK_NPHASES] = {
	"pre-start", "post-start", "pre-stop", "post-stop", "pre_stop_hook"
};

const char *
hook_phase_name(int phase)
{
	if (phase >= 0 && phase < HOOK_NPHASES)
		return (hook_phases[phase]);
	return ("unknown");
}

struct hook_conf *
config_hook_new(int phase, uint32_t idx)
{
	struct hook_conf	*hk;

	if ((hk = calloc(1, sizeof(*hk))) == NULL)
		return (NULL);
	hk->hk_phase = phase;
	hk->hk_idx = idx;
	hk->hk_timeout = 30;
	return (hk);
}

void
config_hook_free(struct hook_conf *hk)
{
	if (hk == NULL)
		return;
	strlist_free(&hk->hk_command);
	strlist_free(&hk->hk_env);
	free(hk->hk_workdir);
	free(hk);
}

/* A global hook by phase and index, or a process's pre_stop_hook. */
struct hook_conf *
config_hook_find(struct phpeekd_conf *cf, const char *proc, int phase,
    uint32_t idx)
{
	struct hook_conf	*hk;
	struct proc_conf	*pc;

	if (phase == HOOK_PROC_PRE_STOP) {
		if ((pc = config_proc_find(cf, proc)) == NULL)
			return (NULL);
		return (pc->pc_pre_stop);
	}
	TAILQ_FOREACH(hk, &cf->cf_hooks, hk_entry)
		if (hk->hk_phase == phase && hk->hk_idx == idx)
			return (hk);
	return (NULL);
}

void
config_proc_free(struct proc_conf *pc)
{
	if (pc == NULL)
		return;
	config_hook_free(pc->pc_pre_stop);
	free(pc->pc_schedule);
	free(pc->pc_health.hc_address);
	free(pc->pc_health.hc_url);
	strlist_free(&pc->pc_health.hc_command);
	config_li_clear(&pc->pc_li);
	free(pc->pc_fpm.fm_socket);
	free(pc->pc_fpm.fm_status_path);
	free(pc->pc_fpm.fm_ping_path);
	free(pc->pc_heartbeat.hb_url);
	free(pc->pc_heartbeat.hb_success_url);
	free(pc->pc_heartbeat.hb_failure_url);
	free(pc->pc_heartbeat.hb_method);
	strlist_free(&pc->pc_heartbeat.hb_headers);
	strlist_free(&pc->pc_command);
	strlist_free(&pc->pc_env);
	strlist_free(&pc->pc_depends);
	free(pc->pc_workdir);
	free(pc->pc_user);
	free(pc->pc_group);
	free(pc);
}

struct proc_conf *
config_proc_find(struct phpeekd_conf *cf, const char *name)
{
	struct proc_conf	*pc;

	TAILQ_FOREACH(pc, &cf->cf_procs, pc_entry)
		if (strcmp(pc->pc_name, name) == 0)
			return (pc);
	return (NULL);
}

static int
streq_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/*
 * Whether running instances of a must be restarted to become b.  The
 * scale is left out: a scale change adds or removes instances only.
 */
int
config_proc_equal(const struct proc_conf *a, const struct proc_conf *b)
{
	return (a->pc_enabled == b->pc_enabled &&
	    a->pc_priority == b->pc_priority &&
	    a->pc_ready == b->pc_ready && a->pc_ready_fd == b->pc_ready_fd &&
	    streq_null(a->pc_schedule, b->pc_schedule) &&
	    a->pc_schedule_timeout_ms == b->pc_schedule_timeout_ms &&
	    a->pc_schedule_max == b->pc_schedule_max &&
	    a->pc_type == b->pc_type &&
	    a->pc_umask == b->pc_umask &&
	    strlist_equal(&a->pc_command, &b->pc_command) &&
	    strlist_equal(&a->pc_env, &b->pc_env) &&
	    streq_null(a->pc_workdir, b->pc_workdir) &&
	    streq_null(a->pc_user, b->pc_user) &&
	    streq_null(a->pc_group, b->pc_group));
}

static int
config_add_strlist(struct ibuf *buf, const struct strlist *sl)
{
	size_t	i;

	if (ibuf_add_u32(buf, (uint32_t)sl->sl_n) == -1)
		return (-1);
	for (i = 0; i < sl->sl_n; i++)
		if (ibuf_add_str(buf, sl->sl_v[i]) == -1)
			return (-1);
	return (0);
}

static int
config_get_strlist(struct ibuf *buf, struct strlist *sl)
{
	uint32_t	 n, i;
	char		*s;

	if (ibuf_get_u32(buf, &n) == -1)
		return (-1);
	/* each entry takes at least its 4 byte length */
	if (n > ibuf_left(buf) / 4) {
		errno = EBADMSG;
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (ibuf_get_str(buf, &s) == -1)
			return (-1);
		if (strlist_add(sl, s) == -1) {
			free(s);
			return (-1);
		}
		free(s);
	}
	return (0);
}

static int
config_add_optstr(struct ibuf *buf, const char *s)
{
	if (ibuf_add_u8(buf, s != NULL) == -1)
		return (-1);
	return (s != NULL ? ibuf_add_str(buf, s) : 0);
}

static int
config_get_optstr(struct ibuf *buf, char **s)
{
	uint8_t	present;

	*s = NULL;
	if (ibuf_get_u8(buf, &present) == -1 || present > 1) {
		errno = EBADMSG;
		return (-1);
	}
	return (present ? ibuf_get_str(buf, s) : 0);
}

static int
config_add_health(struct ibuf *buf, const struct health_conf *hc)
{
	if (ibuf_add_u8(buf, (uint8_t)hc->hc_type) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)hc->hc_mode) == -1 ||
	    config_add_optstr(buf, hc->hc_address) == -1 ||
	    config_add_optstr(buf, hc->hc_url) == -1 ||
	    config_add_strlist(buf, &hc->hc_command) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)hc->hc_initial_delay) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)hc->hc_period) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)hc->hc_timeout) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)hc->hc_failure_threshold) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)hc->hc_success_threshold) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)hc->hc_expected_status) == -1)
		return (-1);
	return (0);
}

static int
config_get_health(struct ibuf *buf, struct health_conf *hc)
{
	uint32_t	v[6];
	uint8_t		type, mode;
	int		i;

	if (ibuf_get_u8(buf, &type) == -1 || ibuf_get_u8(buf, &mode) == -1 ||
	    config_get_optstr(buf, &hc->hc_address) == -1 ||
	    config_get_optstr(buf, &hc->hc_url) == -1 ||
	    config_get_strlist(buf, &hc->hc_command) == -1)
		return (-1);
	for (i = 0; i < 6; i++)
		if (ibuf_get_u32(buf, &v[i]) == -1 || v[i] > 86400)
			return (-1);
	if (type > HC_EXEC || mode > HC_MODE_READINESS ||
	    (type == HC_TCP && hc->hc_address == NULL) ||
	    (type == HC_HTTP && hc->hc_url == NULL) ||
	    (type == HC_EXEC && hc->hc_command.sl_n == 0) ||
	    (type != HC_NONE && (v[1] < 1 || v[2] < 1)))
		return (-1);
	hc->hc_type = type;
	hc->hc_mode = mode;
	hc->hc_initial_delay = (int)v[0];
	hc->hc_period = (int)v[1];
	hc->hc_timeout = (int)v[2];
	hc->hc_failure_threshold = (int)v[3];
	hc->hc_success_threshold = (int)v[4];
	hc->hc_expected_status = (int)v[5];
	return (0);
}

static int
config_add_heartbeat(struct ibuf *buf, const struct heartbeat_conf *hb)
{
	if (config_add_optstr(buf, hb->hb_url) == -1 ||
	    config_add_optstr(buf, hb->hb_success_url) == -1 ||
	    config_add_optstr(buf, hb->hb_failure_url) == -1 ||
	    config_add_optstr(buf, hb->hb_method) == -1 ||
	    config_add_strlist(buf, &hb->hb_headers) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)hb->hb_timeout) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)hb->hb_retry_count) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)hb->hb_retry_delay) == -1)
		return (-1);
	return (0);
}

static int
config_get_heartbeat(struct ibuf *buf, struct heartbeat_conf *hb)
{
	uint32_t	v[3];
	int		i;

	if (config_get_optstr(buf, &hb->hb_url) == -1 ||
	    config_get_optstr(buf, &hb->hb_success_url) == -1 ||
	    config_get_optstr(buf, &hb->hb_failure_url) == -1 ||
	    config_get_optstr(buf, &hb->hb_method) == -1 ||
	    config_get_strlist(buf, &hb->hb_headers) == -1)
		return (-1);
	for (i = 0; i < 3; i++)
		if (ibuf_get_u32(buf, &v[i]) == -1 || v[i] > 3600)
			return (-1);
	hb->hb_timeout = (int)v[0];
	hb->hb_retry_count = (int)v[1];
	hb->hb_retry_delay = (int)v[2];
	return (0);
}

static int
config_send_proc(struct privsep *ps, enum privsep_procid dst, uint32_t gen,
    struct proc_conf *pc)
{
	struct ibuf	*buf;

	if ((buf = proc_create(ps, dst, IMSG_CFG_PROC, gen, 256)) == NULL)
		return (-1);
	if (ibuf_add_str(buf, pc->pc_name) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)pc->pc_enabled) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)pc->pc_type) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)pc->pc_restart) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)pc->pc_scale) == -1 ||
	    ibuf_add_i64(buf, pc->pc_priority) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)pc->pc_stop_signal) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)pc->pc_stop_timeout) == -1 ||
	    ibuf_add_i64(buf, pc->pc_umask) == -1 ||
	    config_add_strlist(buf, &pc->pc_command) == -1 ||
	    config_add_strlist(buf, &pc->pc_env) == -1 ||
	    config_add_strlist(buf, &pc->pc_depends) == -1 ||
	    config_add_optstr(buf, pc->pc_workdir) == -1 ||
	    config_add_optstr(buf, pc->pc_user) == -1 ||
	    config_add_optstr(buf, pc->pc_group) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)pc->pc_initial_stopped) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)pc->pc_ready) == -1 ||
	    config_add_optstr(buf, pc->pc_schedule) == -1 ||
	    ibuf_add_i64(buf, pc->pc_schedule_timeout_ms) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)pc->pc_schedule_max) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)pc->pc_ready_fd) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)pc->pc_ready_tracked) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)pc->pc_on_success) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)pc->pc_on_failure) == -1 ||
	    ibuf_add_u32(buf, pc->pc_signals) == -1 ||
	    config_add_health(buf, &pc->pc_health) == -1 ||
	    config_add_heartbeat(buf, &pc->pc_heartbeat) == -1 ||
	    config_add_optstr(buf, pc->pc_fpm.fm_socket) == -1 ||
	    config_add_optstr(buf, pc->pc_fpm.fm_status_path) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)pc->pc_fpm.fm_interval) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)pc->pc_fpm.fm_timeout) == -1 ||
	    config_add_optstr(buf, pc->pc_fpm.fm_ping_path) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)pc->pc_fpm.fm_opcache) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)pc->pc_fpm.fm_per_process) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)pc->pc_li_on) == -1 ||
	    config_add_li(buf, &pc->pc_li) == -1) {
		log_warn("process %s does not fit in one message",
		    pc->pc_name);
		imsg_abort(buf);
		return (-1);
	}
	return (proc_close(ps, dst, buf));
}

static int
config_send_hook(struct privsep *ps, enum privsep_procid dst, uint32_t gen,
    const char *owner, struct hook_conf *hk)
{
	struct ibuf	*buf;

	if ((buf = proc_create(ps, dst, IMSG_CFG_HOOK, gen, 256)) == NULL)
		return (-1);
	if (ibuf_add_str(buf, owner) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)hk->hk_phase) == -1 ||
	    ibuf_add_u32(buf, hk->hk_idx) == -1 ||
	    ibuf_add_str(buf, hk->hk_name) == -1 ||
	    config_add_strlist(buf, &hk->hk_command) == -1 ||
	    config_add_strlist(buf, &hk->hk_env) == -1 ||
	    config_add_optstr(buf, hk->hk_workdir) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)hk->hk_timeout) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)hk->hk_retry) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)hk->hk_retry_delay) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)hk->hk_continue) == -1) {
		imsg_abort(buf);
		return (-1);
	}
	return (proc_close(ps, dst, buf));
}

static int
config_recv_hook(struct phpeekd_conf *cf, struct imsg *imsg)
{
	struct hook_conf	*hk;
	struct proc_conf	*pc = NULL;
	struct ibuf		 buf;
	char			 owner[CONF_NAME_MAX];
	uint32_t		 idx, tmo, retry, delay;
	uint8_t			 phase, cont;

	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_strbuf(&buf, owner, sizeof(owner)) == -1 ||
	    ibuf_get_u8(&buf, &phase) == -1 || phase >= HOOK_NPHASES ||
	    ibuf_get_u32(&buf, &idx) == -1)
		return (-1);
	if (phase == HOOK_PROC_PRE_STOP &&
	    ((pc = config_proc_find(cf, owner)) == NULL ||
	    pc->pc_pre_stop != NULL))
		return (-1);
	if ((hk = config_hook_new(phase, idx)) == NULL)
		return (-1);
	if (ibuf_get_strbuf(&buf, hk->hk_name, sizeof(hk->hk_name)) == -1 ||
	    config_get_strlist(&buf, &hk->hk_command) == -1 ||
	    config_get_strlist(&buf, &hk->hk_env) == -1 ||
	    config_get_optstr(&buf, &hk->hk_workdir) == -1 ||
	    ibuf_get_u32(&buf, &tmo) == -1 ||
	    ibuf_get_u32(&buf, &retry) == -1 ||
	    ibuf_get_u32(&buf, &delay) == -1 ||
	    ibuf_get_u8(&buf, &cont) == -1 || ibuf_left(&buf) != 0 ||
	    hk->hk_command.sl_n == 0 || tmo < 1 || tmo > 86400 ||
	    retry > 100 || delay > 86400 || cont > 1 ||
	    config_hook_find(cf, owner, phase, idx) != NULL) {
		config_hook_free(hk);
		return (-1);
	}
	hk->hk_timeout = (int)tmo;
	hk->hk_retry = (int)retry;
	hk->hk_retry_delay = (int)delay;
	hk->hk_continue = cont;
	if (pc != NULL)
		pc->pc_pre_stop = hk;
	else
		TAILQ_INSERT_TAIL(&cf->cf_hooks, hk, hk_entry);
	return (0);
}

static int
config_add_acl(struct ibuf *buf, const struct acl_conf *acl)
{
	uint32_t	i;

	if (ibuf_add_u8(buf, (uint8_t)acl->acl_enabled) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)acl->acl_deny_mode) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)acl->acl_trust_proxy) == -1 ||
	    ibuf_add_u32(buf, acl->acl_nallow) == -1)
		return (-1);
	for (i = 0; i < acl->acl_nallow; i++)
		if (ibuf_add(buf, &acl->acl_allow[i],
		    sizeof(acl->acl_allow[i])) == -1)
			return (-1);
	if (ibuf_add_u32(buf, acl->acl_ndeny) == -1)
		return (-1);
	for (i = 0; i < acl->acl_ndeny; i++)
		if (ibuf_add(buf, &acl->acl_deny[i],
		    sizeof(acl->acl_deny[i])) == -1)
			return (-1);
	return (0);
}

static int
config_add_tls(struct ibuf *buf, const struct tls_conf *tls)
{
	int	i;

	if (ibuf_add_u8(buf, (uint8_t)tls->tls_enabled) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)tls->tls_client_auth) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)tls->tls_min_version) == -1)
		return (-1);
	for (i = 0; i < TLS_NFILES; i++)
		if (ibuf_add_str(buf, tls->tls_file[i]) == -1)
			return (-1);
	return (0);
}

static int
config_get_tls(struct ibuf *buf, struct tls_conf *tls)
{
	uint8_t	en, ca, mv;
	int	i;

	if (ibuf_get_u8(buf, &en) == -1 || ibuf_get_u8(buf, &ca) == -1 ||
	    ibuf_get_u8(buf, &mv) == -1 || en > 1 || ca > 3 || mv > 3)
		return (-1);
	for (i = 0; i < TLS_NFILES; i++)
		if (ibuf_get_strbuf(buf, tls->tls_file[i],
		    sizeof(tls->tls_file[i])) == -1)
			return (-1);
	if (en && (tls->tls_file[TLS_CERT][0] == '\0' ||
	    tls->tls_file[TLS_KEY][0] == '\0'))
		return (-1);
	tls->tls_enabled = en;
	tls->tls_client_auth = ca;
	tls->tls_min_version = mv;
	return (0);
}

static void
config_li_clear(struct logintel_conf *lc)
{
	size_t	i;

	for (i = 0; i < lc->lc_nredact; i++) {
		free(lc->lc_redact[i].lr_name);
		free(lc->lc_redact[i].lr_pattern);
		free(lc->lc_redact[i].lr_replacement);
	}
	free(lc->lc_redact);
	free(lc->lc_ml_pattern);
	for (i = 0; i <= LOG_LVL_DEBUG; i++)
		free(lc->lc_ld_patterns[i]);
	strlist_free(&lc->lc_exclude);
	strlist_free(&lc->lc_include);
	logintel_conf_init(lc);
}

/* The log pipeline's settings; patterns as strings, compiled on arrival. */
static int
config_add_li(struct ibuf *buf, const struct logintel_conf *lc)
{
	const uint32_t	 v[12] = { (uint32_t)lc->lc_min_level,
			    (uint32_t)lc->lc_redact_enabled,
			    (uint32_t)lc->lc_ml_enabled,
			    (uint32_t)lc->lc_ml_max_lines,
			    (uint32_t)lc->lc_ml_timeout,
			    (uint32_t)lc->lc_json_enabled,
			    (uint32_t)lc->lc_json_detect_auto,
			    (uint32_t)lc->lc_json_extract_level,
			    (uint32_t)lc->lc_json_extract_message,
			    (uint32_t)lc->lc_json_merge_fields,
			    (uint32_t)lc->lc_ld_enabled,
			    (uint32_t)lc->lc_ld_default };
	size_t		 i;

	for (i = 0; i < 12; i++)
		if (ibuf_add_u32(buf, v[i]) == -1)
			return (-1);
	if (ibuf_add_u32(buf, (uint32_t)lc->lc_nredact) == -1)
		return (-1);
	for (i = 0; i < lc->lc_nredact; i++)
		if (config_add_optstr(buf, lc->lc_redact[i].lr_name) == -1 ||
		    config_add_optstr(buf, lc->lc_redact[i].lr_pattern) ==
		    -1 || config_add_optstr(buf,
		    lc->lc_redact[i].lr_replacement) == -1)
			return (-1);
	if (config_add_optstr(buf, lc->lc_ml_pattern) == -1)
		return (-1);
	for (i = 0; i <= LOG_LVL_DEBUG; i++)
		if (config_add_optstr(buf, lc->lc_ld_patterns[i]) == -1)
			return (-1);
	if (config_add_strlist(buf, &lc->lc_exclude) == -1 ||
	    config_add_strlist(buf, &lc->lc_include) == -1)
		return (-1);
	return (0);
}

static int
config_get_li(struct ibuf *buf, struct logintel_conf *lc)
{
	uint32_t	v[12], n;
	size_t		i;

	for (i = 0; i < 12; i++)
		if (ibuf_get_u32(buf, &v[i]) == -1)
			return (-1);
	if (v[0] > LOG_LVL_DEBUG || v[11] > LOG_LVL_DEBUG ||
	    v[3] > 100000 || v[4] > 3600 || ibuf_get_u32(buf, &n) == -1 ||
	    n > 1000)
		return (-1);
	lc->lc_min_level = (int)v[0];
	lc->lc_redact_enabled = v[1] != 0;
	lc->lc_ml_enabled = v[2] != 0;
	lc->lc_ml_max_lines = (int)v[3];
	lc->lc_ml_timeout = (int)v[4];
	lc->lc_json_enabled = v[5] != 0;
	lc->lc_json_detect_auto = v[6] != 0;
	lc->lc_json_extract_level = v[7] != 0;
	lc->lc_json_extract_message = v[8] != 0;
	lc->lc_json_merge_fields = v[9] != 0;
	lc->lc_ld_enabled = v[10] != 0;
	lc->lc_ld_default = (int)v[11];
	if (n > 0 && (lc->lc_redact = calloc(n, sizeof(*lc->lc_redact))) ==
	    NULL)
		return (-1);
	for (i = 0; i < n; i++) {
		lc->lc_nredact++;
		if (config_get_optstr(buf, &lc->lc_redact[i].lr_name) == -1 ||
		    config_get_optstr(buf, &lc->lc_redact[i].lr_pattern) ==
		    -1 || config_get_optstr(buf,
		    &lc->lc_redact[i].lr_replacement) == -1 ||
		    lc->lc_redact[i].lr_pattern == NULL)
			return (-1);
	}
	if (config_get_optstr(buf, &lc->lc_ml_pattern) == -1)
		return (-1);
	for (i = 0; i <= LOG_LVL_DEBUG; i++)
		if (config_get_optstr(buf, &lc->lc_ld_patterns[i]) == -1)
			return (-1);
	if (config_get_strlist(buf, &lc->lc_exclude) == -1 ||
	    config_get_strlist(buf, &lc->lc_include) == -1)
		return (-1);
	return (0);
}

/* A list of nets, each checked as the parser would have made it. */
static int
config_get_nets(struct ibuf *buf, struct acl_net *nets, uint32_t *n)
{
	uint32_t	i;

	if (ibuf_get_u32(buf, n) == -1 || *n > ACL_MAX)
		return (-1);
	for (i = 0; i < *n; i++) {
		if (ibuf_get(buf, &nets[i], sizeof(nets[i])) == -1)
			return (-1);
		if (!(nets[i].an_af == AF_INET && nets[i].an_bits <= 32) &&
		    !(nets[i].an_af == AF_INET6 && nets[i].an_bits <= 128))
			return (-1);
	}
	return (0);
}

static int
config_get_acl(struct ibuf *buf, struct acl_conf *acl)
{
	uint8_t	en, deny, proxy;

	memset(acl, 0, sizeof(*acl));
	if (ibuf_get_u8(buf, &en) == -1 || ibuf_get_u8(buf, &deny) == -1 ||
	    ibuf_get_u8(buf, &proxy) == -1 || en > 1 || deny > 1 ||
	    proxy > 1 ||
	    config_get_nets(buf, acl->acl_allow, &acl->acl_nallow) == -1 ||
	    config_get_nets(buf, acl->acl_deny, &acl->acl_ndeny) == -1)
		return (-1);
	acl->acl_enabled = en;
	acl->acl_deny_mode = deny;
	acl->acl_trust_proxy = proxy;
	return (0);
}

/* Send one generation: the global block, each process, then DONE. */
int
config_send(struct privsep *ps, enum privsep_procid dst,
    struct phpeekd_conf *cf)
{
	struct global_conf	*gc = &cf->cf_global;
	struct proc_conf	*pc;
	struct hook_conf	*hk;
	struct ibuf		*buf;
	uint32_t		 gen = cf->cf_generation;

	if ((buf = proc_create(ps, dst, IMSG_CFG_GLOBAL, gen, 4096)) == NULL)
		return (-1);
	if (ibuf_add_u32(buf, (uint32_t)gc->gc_shutdown_timeout) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)gc->gc_restart_policy) == -1 ||
	    ibuf_add_i64(buf, gc->gc_max_restart_attempts) == -1 ||
	    ibuf_add_i64(buf, gc->gc_backoff_initial_ms) == -1 ||
	    ibuf_add_i64(buf, gc->gc_backoff_max_ms) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)gc->gc_restart_now) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)gc->gc_log_format) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)gc->gc_log_level) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)gc->gc_api_enabled) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)gc->gc_api_port) == -1 ||
	    ibuf_add_str(buf, gc->gc_api_socket) == -1 ||
	    /* the engine has no use for the API's token */
	    ibuf_add_str(buf, dst == PROC_ENGINE ? "" : gc->gc_api_auth) ==
	    -1 ||
	    ibuf_add_i64(buf, gc->gc_api_max_body) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)gc->gc_metrics_enabled) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)gc->gc_metrics_port) == -1 ||
	    ibuf_add_str(buf, gc->gc_metrics_path) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)gc->gc_resource_enabled) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)gc->gc_resource_interval) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)gc->gc_resource_max_samples) == -1 ||
	    config_add_acl(buf, &gc->gc_api_acl) == -1 ||
	    config_add_acl(buf, &gc->gc_metrics_acl) == -1 ||
	    config_add_tls(buf, &gc->gc_api_tls) == -1 ||
	    config_add_tls(buf, &gc->gc_metrics_tls) == -1 ||
	    /* in millionths: doubles do not cross a role boundary */
	    ibuf_add_i64(buf, (int64_t)(gc->gc_autotune_threshold * 1e6)) ==
	    -1 || ibuf_add_i64(buf, gc->gc_started) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)gc->gc_ready_enabled) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)gc->gc_ready_mode) == -1 ||
	    ibuf_add_str(buf, gc->gc_ready_path) == -1 ||
	    ibuf_add_str(buf, gc->gc_ready_content) == -1 ||
	    ibuf_add_i64(buf, gc->gc_shutdown_delay_ms) == -1) {
		imsg_abort(buf);
		return (-1);
	}
	if (proc_close(ps, dst, buf) == -1)
		return (-1);
	TAILQ_FOREACH(pc, &cf->cf_procs, pc_entry) {
		if (config_send_proc(ps, dst, gen, pc) == -1)
			return (-1);
		if (pc->pc_pre_stop != NULL && config_send_hook(ps, dst, gen,
		    pc->pc_name, pc->pc_pre_stop) == -1)
			return (-1);
	}
	TAILQ_FOREACH(hk, &cf->cf_hooks, hk_entry)
		if (config_send_hook(ps, dst, gen, "", hk) == -1)
			return (-1);
	return (proc_compose(ps, dst, IMSG_CFG_DONE, gen, -1, NULL, 0));
}

static int
config_recv_global(struct phpeekd_conf *cf, struct imsg *imsg)
{
	struct global_conf	*gc = &cf->cf_global;
	struct ibuf		 buf;
	uint32_t		 st, rp, fmt, lvl, aport, mport, rint, rmax;
	uint8_t			 aen, men, ren, now, rden, rdmode;
	int64_t			 maxr, att;

	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_u32(&buf, &st) == -1 ||
	    ibuf_get_u32(&buf, &rp) == -1 ||
	    ibuf_get_i64(&buf, &maxr) == -1 ||
	    ibuf_get_i64(&buf, &gc->gc_backoff_initial_ms) == -1 ||
	    ibuf_get_i64(&buf, &gc->gc_backoff_max_ms) == -1 ||
	    ibuf_get_u8(&buf, &now) == -1 || now > 1 ||
	    ibuf_get_u32(&buf, &fmt) == -1 ||
	    ibuf_get_u32(&buf, &lvl) == -1 ||
	    ibuf_get_u8(&buf, &aen) == -1 ||
	    ibuf_get_u32(&buf, &aport) == -1 ||
	    ibuf_get_strbuf(&buf, gc->gc_api_socket,
	    sizeof(gc->gc_api_socket)) == -1 ||
	    ibuf_get_strbuf(&buf, gc->gc_api_auth,
	    sizeof(gc->gc_api_auth)) == -1 ||
	    ibuf_get_i64(&buf, &gc->gc_api_max_body) == -1 ||
	    ibuf_get_u8(&buf, &men) == -1 ||
	    ibuf_get_u32(&buf, &mport) == -1 ||
	    ibuf_get_strbuf(&buf, gc->gc_metrics_path,
	    sizeof(gc->gc_metrics_path)) == -1 ||
	    ibuf_get_u8(&buf, &ren) == -1 ||
	    ibuf_get_u32(&buf, &rint) == -1 ||
	    ibuf_get_u32(&buf, &rmax) == -1 ||
	    config_get_acl(&buf, &gc->gc_api_acl) == -1 ||
	    config_get_acl(&buf, &gc->gc_metrics_acl) == -1 ||
	    config_get_tls(&buf, &gc->gc_api_tls) == -1 ||
	    config_get_tls(&buf, &gc->gc_metrics_tls) == -1 ||
	    ibuf_get_i64(&buf, &att) == -1 || att < 0 || att > 10000000 ||
	    ibuf_get_i64(&buf, &gc->gc_started) == -1 ||
	    ibuf_get_u8(&buf, &rden) == -1 || rden > 1 ||
	    ibuf_get_u8(&buf, &rdmode) == -1 ||
	    rdmode > READYFILE_ALL_RUNNING ||
	    ibuf_get_strbuf(&buf, gc->gc_ready_path,
	    sizeof(gc->gc_ready_path)) == -1 ||
	    (rden && gc->gc_ready_path[0] != '/') ||
	    ibuf_get_strbuf(&buf, gc->gc_ready_content,
	    sizeof(gc->gc_ready_content)) == -1 ||
	    ibuf_get_i64(&buf, &gc->gc_shutdown_delay_ms) == -1 ||
	    gc->gc_shutdown_delay_ms < 0 || gc->gc_shutdown_delay_ms > 300000 ||
	    ibuf_left(&buf) != 0)
		return (-1);
	gc->gc_ready_enabled = rden;
	gc->gc_ready_mode = rdmode;
	gc->gc_autotune_threshold = (double)att / 1e6;
	if (ren > 1 || rint < 1 || rint > 3600 || rmax < 1 || rmax > 100000)
		return (-1);
	gc->gc_resource_enabled = ren;
	gc->gc_resource_interval = (int)rint;
	gc->gc_resource_max_samples = (int)rmax;
	if (aen > 1 || men > 1 || aport > 65535 || mport > 65535 ||
	    gc->gc_api_max_body < 0)
		return (-1);
	gc->gc_api_enabled = aen;
	gc->gc_api_port = (int)aport;
	gc->gc_metrics_enabled = men;
	gc->gc_metrics_port = (int)mport;
	if (st > 86400 || rp > RESTART_NEVER || fmt > LOG_FMT_JSON ||
	    lvl > LOG_LVL_DEBUG || maxr < INT_MIN || maxr > INT_MAX ||
	    gc->gc_backoff_initial_ms < 0 || gc->gc_backoff_max_ms < 0)
		return (-1);
	gc->gc_shutdown_timeout = (int)st;
	gc->gc_restart_now = now;
	gc->gc_restart_policy = (int)rp;
	gc->gc_max_restart_attempts = (int)maxr;
	gc->gc_log_format = (int)fmt;
	gc->gc_log_level = (int)lvl;
	return (0);
}

static int
config_recv_proc(struct phpeekd_conf *cf, struct imsg *imsg)
{
	struct proc_conf	*pc = NULL;
	struct ibuf		 buf;
	char			 name[CONF_NAME_MAX];
	uint8_t			 en, type, rs, istop, ready, lion, fmo, fmp;
	uint8_t			 tracked, onok, onfail;
	uint32_t		 readyfd, smax, fmi, fmt;
	struct cron		 cr;
	char			 cerr[128];
	uint32_t		 scale, sig, tmo;
	int64_t			 um, prio;

	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_strbuf(&buf, name, sizeof(name)) == -1 ||
	    name[0] == '\0' || config_proc_find(cf, name) != NULL)
		return (-1);
	if ((pc = config_proc_new(name)) == NULL)
		return (-1);
	if (ibuf_get_u8(&buf, &en) == -1 || ibuf_get_u8(&buf, &type) == -1 ||
	    ibuf_get_u8(&buf, &rs) == -1 ||
	    ibuf_get_u32(&buf, &scale) == -1 ||
	    ibuf_get_i64(&buf, &prio) == -1 ||
	    ibuf_get_u32(&buf, &sig) == -1 ||
	    ibuf_get_u32(&buf, &tmo) == -1 ||
	    ibuf_get_i64(&buf, &um) == -1 ||
	    config_get_strlist(&buf, &pc->pc_command) == -1 ||
	    config_get_strlist(&buf, &pc->pc_env) == -1 ||
	    config_get_strlist(&buf, &pc->pc_depends) == -1 ||
	    config_get_optstr(&buf, &pc->pc_workdir) == -1 ||
	    config_get_optstr(&buf, &pc->pc_user) == -1 ||
	    config_get_optstr(&buf, &pc->pc_group) == -1 ||
	    ibuf_get_u8(&buf, &istop) == -1 ||
	    ibuf_get_u8(&buf, &ready) == -1 ||
	    config_get_optstr(&buf, &pc->pc_schedule) == -1 ||
	    ibuf_get_i64(&buf, &pc->pc_schedule_timeout_ms) == -1 ||
	    ibuf_get_u32(&buf, &smax) == -1 ||
	    ibuf_get_u32(&buf, &readyfd) == -1 ||
	    ibuf_get_u8(&buf, &tracked) == -1 || tracked > 1 ||
	    ibuf_get_u8(&buf, &onok) == -1 || onok > ACTION_SHUTDOWN ||
	    ibuf_get_u8(&buf, &onfail) == -1 || onfail > ACTION_SHUTDOWN ||
	    ibuf_get_u32(&buf, &pc->pc_signals) == -1 ||
	    (pc->pc_signals & ~SIGNALS_ROUTABLE) != 0 ||
	    config_get_health(&buf, &pc->pc_health) == -1 ||
	    config_get_heartbeat(&buf, &pc->pc_heartbeat) == -1 ||
	    config_get_optstr(&buf, &pc->pc_fpm.fm_socket) == -1 ||
	    config_get_optstr(&buf, &pc->pc_fpm.fm_status_path) == -1 ||
	    ibuf_get_u32(&buf, &fmi) == -1 || ibuf_get_u32(&buf, &fmt) == -1 ||
	    config_get_optstr(&buf, &pc->pc_fpm.fm_ping_path) == -1 ||
	    ibuf_get_u8(&buf, &fmo) == -1 || fmo > 1 ||
	    ibuf_get_u8(&buf, &fmp) == -1 || fmp > 1 ||
	    fmi < 1 || fmi > 3600 || fmt < 1 || fmt >= fmi ||
	    ibuf_get_u8(&buf, &lion) == -1 || lion > 1 ||
	    config_get_li(&buf, &pc->pc_li) == -1 ||
	    ibuf_left(&buf) != 0 || istop > 1 || ready > READY_FD ||
	    (ready == READY_FD && (readyfd < 3 || readyfd > 1023)) ||
	    smax > 1000 || pc->pc_schedule_timeout_ms < 0 ||
	    (pc->pc_schedule != NULL && cron_parse(pc->pc_schedule, &cr,
	    cerr, sizeof(cerr)) == -1))
		goto bad;
	pc->pc_schedule_max = (int)smax;
	pc->pc_li_on = lion;
	pc->pc_fpm.fm_opcache = fmo;
	pc->pc_fpm.fm_per_process = fmp;
	pc->pc_fpm.fm_interval = (int)fmi;
	pc->pc_fpm.fm_timeout = (int)fmt;
	pc->pc_initial_stopped = istop;
	pc->pc_ready = ready;
	pc->pc_ready_fd = (int)readyfd;
	pc->pc_ready_tracked = tracked;
	pc->pc_on_success = onok;
	pc->pc_on_failure = onfail;
	if (en > 1 || type > PTYPE_ONESHOT || rs > RESTART_NEVER ||
	    scale < 1 || scale > CONF_SCALE_MAX || sig < 1 || sig >= NSIG ||
	    tmo > 86400 || um < -1 || um > 0777 || pc->pc_command.sl_n == 0 ||
	    prio < INT_MIN || prio > INT_MAX)
		goto bad;
	pc->pc_priority = (int)prio;
	pc->pc_enabled = en;
	pc->pc_type = type;
	pc->pc_restart = rs;
	pc->pc_scale = (int)scale;
	pc->pc_stop_signal = (int)sig;
	pc->pc_stop_timeout = (int)tmo;
	pc->pc_umask = (int)um;
	TAILQ_INSERT_TAIL(&cf->cf_procs, pc, pc_entry);
	cf->cf_nprocs++;
	return (0);
 bad:
	config_proc_free(pc);
	errno = EBADMSG;
	return (-1);
}

/*
 * Collect one generation from a stream of IMSG_CFG_* messages into
 * *pending.  Returns 1 when DONE completed it, 0 while it is still
 * arriving and -1 for a malformed or out-of-order message.
 */
int
config_recv(struct phpeekd_conf **pending, struct imsg *imsg)
{
	uint32_t	gen = imsg_get_peerid(imsg);

	switch (imsg_get_type(imsg)) {
	case IMSG_CFG_GLOBAL:
		config_free(*pending);
		if ((*pending = config_new()) == NULL)
			fatal("%s", __func__);
		(*pending)->cf_generation = gen;
		return (config_recv_global(*pending, imsg));
	case IMSG_CFG_PROC:
		if (*pending == NULL || (*pending)->cf_generation != gen)
			return (-1);
		return (config_recv_proc(*pending, imsg));
	case IMSG_CFG_HOOK:
		if (*pending == NULL || (*pending)->cf_generation != gen)
			return (-1);
		return (config_recv_hook(*pending, imsg));
	case IMSG_CFG_DONE:
		if (*pending == NULL || (*pending)->cf_generation != gen ||
		    imsg_get_len(imsg) != 0)
			return (-1);
		return (1);
	}
	return (-1);
}

/*
 * The config role: it never opens a file.  The parent hands it an fd;
 * it reads the bytes, parses and validates them, and answers with the
 * diagnostics and either the new generation or CFG_FAILED.
 */
void
config_role(void)
{
	struct privsep	*ps = privsep;

	event_init();
	proc_role_channel(ps, config_procs, sizeof(config_procs) /
	    sizeof(config_procs[0]));
	proc_role_run(ps);
}

static int
config_dispatch_parent(struct imsgev *iev, struct imsg *imsg)
{
	char	path[PATH_MAX];
	int	fd;

	switch (imsg_get_type(imsg)) {
	case IMSG_CFG_FD:
		if ((fd = imsg_get_fd(imsg)) == -1)
			return (-1);
		if (imsg_get_len(imsg) >= sizeof(path)) {
			close(fd);
			return (-1);
		}
		memcpy(path, imsg->data, imsg_get_len(imsg));
		path[imsg_get_len(imsg)] = '\0';
		config_parse_fd(iev, imsg_get_peerid(imsg), fd, path);
		close(fd);
		return (0);
	case IMSG_CFG_BASE:
		if ((fd = imsg_get_fd(imsg)) == -1)
			return (-1);
		config_base_fd(fd);
		close(fd);
		return (0);
	case IMSG_CFG_CHECK:
		if ((fd = imsg_get_fd(imsg)) == -1)
			return (-1);
		config_check_fd(iev->ps, imsg_get_peerid(imsg), fd);
		close(fd);
		return (0);
	case IMSG_CFG_EDIT:
		return (edit_request(iev->ps, imsg));
	case IMSG_CFG_SAVE:
		return (edit_save(iev->ps, imsg));
	}
	return (-1);
}

static int
config_read_fd(int fd, char **out, size_t *outlen, char *err, size_t errlen)
{
	struct stat	 st;
	char		*buf = NULL, *p;
	size_t		 len = 0, cap = 0;
	ssize_t		 n;

	/* refuse a huge file before reading any of it */
	if (fstat(fd, &st) == 0 && st.st_size > CONF_FILE_MAX) {
		snprintf(err, errlen, "file larger than %d bytes",
		    CONF_FILE_MAX);
		return (-1);
	}
	for (;;) {
		if (len == cap) {
			if (cap > CONF_FILE_MAX) {
				snprintf(err, errlen, "file larger than %d "
				    "bytes", CONF_FILE_MAX);
				free(buf);
				return (-1);
			}
			cap = cap == 0 ? 65536 : cap * 2;
			if ((p = realloc(buf, cap + 1)) == NULL) {
				snprintf(err, errlen, "out of memory");
				free(buf);
				return (-1);
			}
			buf = p;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "read: %s", strerror(errno));
			free(buf);
			return (-1);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return (0);
}

static void
config_parse_fd(struct imsgev *iev, uint32_t gen, int fd, const char *path)
{
	struct parse_result	 pr;
	char			*text, err[128];
	size_t			 len;
	int			 rv;

	memset(&pr, 0, sizeof(pr));
	TAILQ_INIT(&pr.pr_diags);
	if (config_read_fd(fd, &text, &len, err, sizeof(err)) == -1) {
		diag_add(&pr.pr_diags, DIAG_ERROR, 0, 0, "%s", err);
		rv = -1;
	} else {
		rv = parse_config(path, text, len, &pr);
		/* the file as read is what API changes apply to from now */
		if (rv == 0)
			edit_file(text, len);
		else
			free(text);
	}
	config_send_result(iev->ps, gen, rv, &pr);
}

/*
 * A new config role is handed the text the running generation came
 * from, parsed then and not again: API changes apply on top of it.
 */
static void
config_base_fd(int fd)
{
	char	*text, err[128];
	size_t	 len;

	if (config_read_fd(fd, &text, &len, err, sizeof(err)) == -1) {
		log_warnx("the configuration last loaded: %s", err);
		return;
	}
	edit_file(text, len);
}

/*
 * config/validate: the file on disk checked, nothing applied; the
 * report is phpeekd -n -j's, with at most CHECK_DIAGS diagnostics.
 */
#define CHECK_DIAGS	40
static void
config_check_fd(struct privsep *ps, uint32_t id, int fd)
{
	struct parse_result	 pr;
	struct json_object	*o, *a, *d1;
	struct diag		*d;
	struct ibuf		*buf;
	const char		*sev[] = { "error", "warning", "suggestion" };
	const char		*json;
	char			*text, err[128];
	size_t			 len;
	int			 rv, n = 0;

	memset(&pr, 0, sizeof(pr));
	TAILQ_INIT(&pr.pr_diags);
	if (config_read_fd(fd, &text, &len, err, sizeof(err)) == -1) {
		diag_add(&pr.pr_diags, DIAG_ERROR, 0, 0, "%s", err);
		pr.pr_errors = 1;
		rv = -1;
	} else {
		rv = parse_config("", text, len, &pr);
		free(text);
	}
	o = json_object_new_object();
	a = json_object_new_array();
	json_object_object_add(o, "valid", json_object_new_boolean(rv == 0));
	json_object_object_add(o, "errors", json_object_new_int(pr.pr_errors));
	json_object_object_add(o, "warnings",
	    json_object_new_int(pr.pr_warnings));
	TAILQ_FOREACH(d, &pr.pr_diags, d_entry) {
		if (n++ == CHECK_DIAGS)
			break;
		d1 = json_object_new_object();
		json_object_object_add(d1, "severity", json_object_new_string(
		    sev[d->d_severity]));
		json_object_object_add(d1, "line", json_object_new_int(
		    d->d_line));
		json_object_object_add(d1, "column", json_object_new_int(
		    d->d_col));
		json_object_object_add(d1, "message", json_object_new_string(
		    d->d_msg));
		json_object_array_add(a, d1);
	}
	json_object_object_add(o, "diagnostics", a);
	json = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if ((buf = proc_create(ps, PROC_PARENT, IMSG_CFG_CHECKED, id,
	    strlen(json) + 16)) == NULL ||
	    ibuf_add_u32(buf, rv == 0) == -1 || ibuf_add_str(buf, json) == -1)
		fatalx("cannot send a check report");
	proc_close(ps, PROC_PARENT, buf);
	json_object_put(o);
	parse_result_clear(&pr);
}

/* The diagnostics, then the configuration or IMSG_CFG_FAILED. */
void
config_send_result(struct privsep *ps, uint32_t gen, int rv,
    struct parse_result *pr)
{
	struct diag		*d;
	struct ibuf		*buf;

	TAILQ_FOREACH(d, &pr->pr_diags, d_entry) {
		if ((buf = proc_create(ps, PROC_PARENT, IMSG_CFG_DIAG, gen,
		    64)) == NULL)
			fatalx("cannot send a diagnostic");
		if (ibuf_add_u8(buf, (uint8_t)d->d_severity) == -1 ||
		    ibuf_add_u32(buf, (uint32_t)d->d_line) == -1 ||
		    ibuf_add_u32(buf, (uint32_t)d->d_col) == -1 ||
		    ibuf_add_str(buf, d->d_msg) == -1)
			fatalx("cannot build a diagnostic");
		proc_close(ps, PROC_PARENT, buf);
	}
	if (rv == 0 && pr->pr_conf != NULL) {
		pr->pr_conf->cf_generation = gen;
		if (config_send(ps, PROC_PARENT, pr->pr_conf) == -1)
			fatalx("cannot send the configuration");
	} else
		proc_compose(ps, PROC_PARENT, IMSG_CFG_FAILED, gen, -1,
		    NULL, 0);
	parse_result_clear(pr);
	/* the parse tree is gone until the next reload: give it back */
	malloc_trim(0);
}
