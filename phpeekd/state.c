/*
 * The engine's state as the api sees it: typed messages, written and
 * read field by field so that nothing with a pointer crosses roles.
 */

#include <sys/types.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "phpeekd.h"

int
state_send_proc(struct privsep *ps, const struct state_proc *sp)
{
	struct ibuf	*buf;

	if ((buf = proc_create(ps, PROC_API, IMSG_STATE_PROC, 0,
	    sizeof(*sp))) == NULL)
		return (-1);
	if (ibuf_add_str(buf, sp->sp_name) == -1 ||
	    ibuf_add_u32(buf, sp->sp_desired) == -1 ||
	    ibuf_add_u32(buf, sp->sp_flags) == -1 ||
	    ibuf_add_u64(buf, sp->sp_restarts_crash) == -1 ||
	    ibuf_add_u64(buf, sp->sp_restarts_normal) == -1 ||
	    ibuf_add_u64(buf, sp->sp_restarts_health) == -1 ||
	    ibuf_add_i64(buf, sp->sp_next_run) == -1 ||
	    ibuf_add_i64(buf, sp->sp_last_run) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)sp->sp_last_exit) == -1 ||
	    ibuf_add_u64(buf, sp->sp_runs_ok) == -1 ||
	    ibuf_add_u64(buf, sp->sp_runs_failed) == -1 ||
	    ibuf_add_u64(buf, sp->sp_runs_skipped) == -1 ||
	    ibuf_add_u32(buf, sp->sp_hc_type) == -1 ||
	    ibuf_add_u32(buf, sp->sp_hc_last_ok) == -1 ||
	    ibuf_add_u32(buf, sp->sp_hc_fails) == -1 ||
	    ibuf_add_u64(buf, sp->sp_hc_passed) == -1 ||
	    ibuf_add_u64(buf, sp->sp_hc_failed) == -1 ||
	    ibuf_add_u64(buf, sp->sp_hc_sum_us) == -1 ||
	    ibuf_add(buf, sp->sp_hc_hist, sizeof(sp->sp_hc_hist)) == -1 ||
	    ibuf_add_u64(buf, sp->sp_hb_ok) == -1 ||
	    ibuf_add_u64(buf, sp->sp_hb_failed) == -1 ||
	    ibuf_add_i64(buf, sp->sp_hb_last) == -1) {
		imsg_abort(buf);
		return (-1);
	}
	return (proc_close(ps, PROC_API, buf));
}

int
state_recv_proc(struct imsg *imsg, struct state_proc *sp)
{
	struct ibuf	buf;
	uint32_t	lastexit;

	memset(sp, 0, sizeof(*sp));
	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_strbuf(&buf, sp->sp_name, sizeof(sp->sp_name)) == -1 ||
	    ibuf_get_u32(&buf, &sp->sp_desired) == -1 ||
	    ibuf_get_u32(&buf, &sp->sp_flags) == -1 ||
	    ibuf_get_u64(&buf, &sp->sp_restarts_crash) == -1 ||
	    ibuf_get_u64(&buf, &sp->sp_restarts_normal) == -1 ||
	    ibuf_get_u64(&buf, &sp->sp_restarts_health) == -1 ||
	    ibuf_get_i64(&buf, &sp->sp_next_run) == -1 ||
	    ibuf_get_i64(&buf, &sp->sp_last_run) == -1 ||
	    ibuf_get_u32(&buf, &lastexit) == -1 ||
	    ibuf_get_u64(&buf, &sp->sp_runs_ok) == -1 ||
	    ibuf_get_u64(&buf, &sp->sp_runs_failed) == -1 ||
	    ibuf_get_u64(&buf, &sp->sp_runs_skipped) == -1 ||
	    ibuf_get_u32(&buf, &sp->sp_hc_type) == -1 ||
	    ibuf_get_u32(&buf, &sp->sp_hc_last_ok) == -1 ||
	    ibuf_get_u32(&buf, &sp->sp_hc_fails) == -1 ||
	    ibuf_get_u64(&buf, &sp->sp_hc_passed) == -1 ||
	    ibuf_get_u64(&buf, &sp->sp_hc_failed) == -1 ||
	    ibuf_get_u64(&buf, &sp->sp_hc_sum_us) == -1 ||
	    ibuf_get(&buf, sp->sp_hc_hist, sizeof(sp->sp_hc_hist)) == -1 ||
	    sp->sp_hc_type > HC_EXEC || sp->sp_hc_last_ok > 1 ||
	    ibuf_get_u64(&buf, &sp->sp_hb_ok) == -1 ||
	    ibuf_get_u64(&buf, &sp->sp_hb_failed) == -1 ||
	    ibuf_get_i64(&buf, &sp->sp_hb_last) == -1 ||
	    ibuf_left(&buf) != 0 || sp->sp_desired > CONF_SCALE_MAX) {
		errno = EBADMSG;
		return (-1);
	}
	sp->sp_last_exit = (int32_t)lastexit;
	return (0);
}

int
state_send_instance(struct privsep *ps, const struct state_instance *sti)
{
	struct ibuf	*buf;

	if ((buf = proc_create(ps, PROC_API, IMSG_STATE_INSTANCE, 0,
	    sizeof(*sti))) == NULL)
		return (-1);
	if (ibuf_add_str(buf, sti->sti_proc) == -1 ||
	    ibuf_add_u32(buf, sti->sti_idx) == -1 ||
	    ibuf_add_u32(buf, sti->sti_state) == -1 ||
	    ibuf_add_i64(buf, sti->sti_pid) == -1 ||
	    ibuf_add_u32(buf, sti->sti_restarts) == -1 ||
	    ibuf_add_i64(buf, sti->sti_started) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)sti->sti_exit_code) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)sti->sti_exited) == -1) {
		imsg_abort(buf);
		return (-1);
	}
	return (proc_close(ps, PROC_API, buf));
}

int
state_recv_instance(struct imsg *imsg, struct state_instance *sti)
{
	struct ibuf	buf;
	uint32_t	code, exited;

	memset(sti, 0, sizeof(*sti));
	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_strbuf(&buf, sti->sti_proc, sizeof(sti->sti_proc)) == -1 ||
	    ibuf_get_u32(&buf, &sti->sti_idx) == -1 ||
	    ibuf_get_u32(&buf, &sti->sti_state) == -1 ||
	    ibuf_get_i64(&buf, &sti->sti_pid) == -1 ||
	    ibuf_get_u32(&buf, &sti->sti_restarts) == -1 ||
	    ibuf_get_i64(&buf, &sti->sti_started) == -1 ||
	    ibuf_get_u32(&buf, &code) == -1 ||
	    ibuf_get_u32(&buf, &exited) == -1 ||
	    ibuf_left(&buf) != 0 || sti->sti_idx >= CONF_SCALE_MAX ||
	    sti->sti_state > IST_COMPLETED || exited > 1) {
		errno = EBADMSG;
		return (-1);
	}
	sti->sti_exit_code = (int32_t)code;
	sti->sti_exited = (int32_t)exited;
	return (0);
}

/* An instance slot is gone; idx UINT32_MAX means the whole process. */
int
state_send_hook(struct privsep *ps, const struct state_hook *sh)
{
	struct ibuf	*buf;

	if ((buf = proc_create(ps, PROC_API, IMSG_STATE_HOOK, 0,
	    sizeof(*sh))) == NULL)
		return (-1);
	if (ibuf_add_str(buf, sh->sh_name) == -1 ||
	    ibuf_add_u32(buf, sh->sh_type) == -1 ||
	    ibuf_add_u64(buf, sh->sh_ok) == -1 ||
	    ibuf_add_u64(buf, sh->sh_failed) == -1 ||
	    ibuf_add_u64(buf, sh->sh_sum_ms) == -1 ||
	    ibuf_add(buf, sh->sh_hist, sizeof(sh->sh_hist)) == -1) {
		imsg_abort(buf);
		return (-1);
	}
	return (proc_close(ps, PROC_API, buf));
}

int
state_send_run(struct privsep *ps, const struct state_run *sr)
{
	struct ibuf	*buf;

	if ((buf = proc_create(ps, PROC_API, IMSG_STATE_RUN, 0,
	    sizeof(*sr))) == NULL)
		return (-1);
	if (ibuf_add_str(buf, sr->sr_proc) == -1 ||
	    ibuf_add_str(buf, sr->sr_inst) == -1 ||
	    ibuf_add_u32(buf, sr->sr_id) == -1 ||
	    ibuf_add_u32(buf, sr->sr_kind) == -1 ||
	    ibuf_add_u32(buf, sr->sr_manual) == -1 ||
	    ibuf_add_i64(buf, sr->sr_start_ms) == -1 ||
	    ibuf_add_i64(buf, sr->sr_end_ms) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)sr->sr_exit) == -1) {
		imsg_abort(buf);
		return (-1);
	}
	return (proc_close(ps, PROC_API, buf));
}

int
state_recv_run(struct imsg *imsg, struct state_run *sr)
{
	struct ibuf	buf;
	uint32_t	code;

	memset(sr, 0, sizeof(*sr));
	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_strbuf(&buf, sr->sr_proc, sizeof(sr->sr_proc)) == -1 ||
	    ibuf_get_strbuf(&buf, sr->sr_inst, sizeof(sr->sr_inst)) == -1 ||
	    ibuf_get_u32(&buf, &sr->sr_id) == -1 ||
	    ibuf_get_u32(&buf, &sr->sr_kind) == -1 ||
	    ibuf_get_u32(&buf, &sr->sr_manual) == -1 ||
	    ibuf_get_i64(&buf, &sr->sr_start_ms) == -1 ||
	    ibuf_get_i64(&buf, &sr->sr_end_ms) == -1 ||
	    ibuf_get_u32(&buf, &code) == -1 || ibuf_left(&buf) != 0 ||
	    sr->sr_kind > RUN_ONESHOT || sr->sr_manual > 1 ||
	    sr->sr_id == 0 || sr->sr_proc[0] == '\0') {
		errno = EBADMSG;
		return (-1);
	}
	sr->sr_exit = (int32_t)code;
	return (0);
}

/*
 * The pool's figures are fixed-size and without pointers: they travel
 * as their bytes.  Its workers follow field by field, as many as the
 * status parser keeps, which the message always has room for.
 */
#define STATE_FPM_PROC_LEN	(8 + 4 + 8 + 8 + 8 + 8)
_Static_assert(sizeof(struct state_fpm) + 4 + FPM_PROCS_MAX *
    STATE_FPM_PROC_LEN <= MAX_IMSGSIZE - IMSG_HEADER_SIZE,
    "a pool's workers do not fit in one message");

int
state_send_fpm(struct privsep *ps, const struct state_fpm *sf,
    const struct state_fpm_proc *procs, uint32_t n)
{
	struct ibuf	*buf;
	uint32_t	 i;

	if (n > FPM_PROCS_MAX) {
		errno = EMSGSIZE;
		return (-1);
	}
	if ((buf = proc_create(ps, PROC_API, IMSG_STATE_FPM, 0,
	    sizeof(*sf) + 4 + n * STATE_FPM_PROC_LEN)) == NULL)
		return (-1);
	if (ibuf_add(buf, sf, sizeof(*sf)) == -1 ||
	    ibuf_add_u32(buf, n) == -1)
		goto fail;
	for (i = 0; i < n; i++)
		if (ibuf_add_i64(buf, procs[i].sfp_pid) == -1 ||
		    ibuf_add_u32(buf, procs[i].sfp_state) == -1 ||
		    ibuf_add_u64(buf, procs[i].sfp_requests) == -1 ||
		    ibuf_add_u64(buf, procs[i].sfp_duration) == -1 ||
		    ibuf_add(buf, &procs[i].sfp_cpu,
		    sizeof(procs[i].sfp_cpu)) == -1 ||
		    ibuf_add_u64(buf, procs[i].sfp_memory) == -1)
			goto fail;
	return (proc_close(ps, PROC_API, buf));
 fail:
	imsg_abort(buf);
	return (-1);
}

/* procs has room for FPM_PROCS_MAX. */
int
state_recv_fpm(struct imsg *imsg, struct state_fpm *sf,
    struct state_fpm_proc *procs, uint32_t *np)
{
	struct ibuf		 buf;
	struct state_fpm_proc	*p;
	uint32_t		 i, n;

	*np = 0;
	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get(&buf, sf, sizeof(*sf)) == -1 ||
	    ibuf_get_u32(&buf, &n) == -1 || n > FPM_PROCS_MAX)
		goto bad;
	/* every string NUL-terminated within its field */
	if (memchr(sf->sf_proc, '\0', sizeof(sf->sf_proc)) == NULL ||
	    memchr(sf->sf_socket, '\0', sizeof(sf->sf_socket)) == NULL ||
	    memchr(sf->sf_pool, '\0', sizeof(sf->sf_pool)) == NULL ||
	    memchr(sf->sf_pm, '\0', sizeof(sf->sf_pm)) == NULL ||
	    sf->sf_proc[0] == '\0' || sf->sf_up > 1 || (n > 0 && !sf->sf_up))
		goto bad;
	for (i = 0; i < n; i++) {
		p = &procs[i];
		if (ibuf_get_i64(&buf, &p->sfp_pid) == -1 ||
		    ibuf_get_u32(&buf, &p->sfp_state) == -1 ||
		    ibuf_get_u64(&buf, &p->sfp_requests) == -1 ||
		    ibuf_get_u64(&buf, &p->sfp_duration) == -1 ||
		    ibuf_get(&buf, &p->sfp_cpu, sizeof(p->sfp_cpu)) == -1 ||
		    ibuf_get_u64(&buf, &p->sfp_memory) == -1 ||
		    p->sfp_pid <= 0 || p->sfp_state >= FPM_STATE_MAX ||
		    !isfinite(p->sfp_cpu) || p->sfp_cpu < 0)
			goto bad;
	}
	if (ibuf_left(&buf) != 0)
		goto bad;
	*np = n;
	return (0);
 bad:
	errno = EBADMSG;
	return (-1);
}

int
state_recv_hook(struct imsg *imsg, struct state_hook *sh)
{
	struct ibuf	buf;

	memset(sh, 0, sizeof(*sh));
	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_strbuf(&buf, sh->sh_name, sizeof(sh->sh_name)) == -1 ||
	    ibuf_get_u32(&buf, &sh->sh_type) == -1 ||
	    ibuf_get_u64(&buf, &sh->sh_ok) == -1 ||
	    ibuf_get_u64(&buf, &sh->sh_failed) == -1 ||
	    ibuf_get_u64(&buf, &sh->sh_sum_ms) == -1 ||
	    ibuf_get(&buf, sh->sh_hist, sizeof(sh->sh_hist)) == -1 ||
	    ibuf_left(&buf) != 0 || sh->sh_type >= HOOK_PROC_PRE_STOP ||
	    sh->sh_name[0] == '\0') {
		errno = EBADMSG;
		return (-1);
	}
	return (0);
}

int
state_send_gone(struct privsep *ps, const char *proc, uint32_t idx)
{
	struct ibuf	*buf;

	if ((buf = proc_create(ps, PROC_API, IMSG_STATE_GONE, 0,
	    CONF_NAME_MAX + 8)) == NULL)
		return (-1);
	if (ibuf_add_str(buf, proc) == -1 || ibuf_add_u32(buf, idx) == -1) {
		imsg_abort(buf);
		return (-1);
	}
	return (proc_close(ps, PROC_API, buf));
}

int
state_recv_gone(struct imsg *imsg, char *proc, size_t len, uint32_t *idx)
{
	struct ibuf	buf;

	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_strbuf(&buf, proc, len) == -1 ||
	    ibuf_get_u32(&buf, idx) == -1 || ibuf_left(&buf) != 0 ||
	    (*idx >= CONF_SCALE_MAX && *idx != UINT32_MAX)) {
		errno = EBADMSG;
		return (-1);
	}
	return (0);
}

/* api -> engine: a control request, answered by IMSG_CTL_REPLY. */
int
ctl_send_request(struct privsep *ps, uint32_t id, uint32_t op,
    const char *name, int64_t arg)
{
	struct ibuf	*buf;

	if ((buf = proc_create(ps, PROC_ENGINE, IMSG_CTL_REQUEST, id,
	    CONF_NAME_MAX + 16)) == NULL)
		return (-1);
	if (ibuf_add_u32(buf, op) == -1 || ibuf_add_str(buf, name) == -1 ||
	    ibuf_add_i64(buf, arg) == -1) {
		imsg_abort(buf);
		return (-1);
	}
	return (proc_close(ps, PROC_ENGINE, buf));
}

int
ctl_recv_request(struct imsg *imsg, uint32_t *op, char *name, size_t len,
    int64_t *arg)
{
	struct ibuf	buf;

	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_u32(&buf, op) == -1 ||
	    ibuf_get_strbuf(&buf, name, len) == -1 ||
	    ibuf_get_i64(&buf, arg) == -1 || ibuf_left(&buf) != 0 ||
	    *op < CTL_START || *op > CTL_TRIGGER) {
		errno = EBADMSG;
		return (-1);
	}
	return (0);
}

int
ctl_send_reply(struct privsep *ps, uint32_t id, uint32_t status,
    const char *msg)
{
	struct ibuf	*buf;

	if ((buf = proc_create(ps, PROC_API, IMSG_CTL_REPLY, id,
	    strlen(msg) + 8)) == NULL)
		return (-1);
	if (ibuf_add_u32(buf, status) == -1 || ibuf_add_str(buf, msg) == -1) {
		imsg_abort(buf);
		return (-1);
	}
	return (proc_close(ps, PROC_API, buf));
}

int
ctl_recv_reply(struct imsg *imsg, uint32_t *status, char *msg, size_t len)
{
	struct ibuf	buf;

	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_u32(&buf, status) == -1 ||
	    ibuf_get_strbuf(&buf, msg, len) == -1 || ibuf_left(&buf) != 0 ||
	    *status < 100 || *status > 599) {
		errno = EBADMSG;
		return (-1);
	}
	return (0);
}
