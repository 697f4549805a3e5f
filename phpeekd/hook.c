/*
 * Lifecycle hooks: the global pre-start, post-start, pre-stop and
 * post-stop lists, run one after the other, and a process's
 * shutdown.pre_stop_hook, run for each instance before its stop
 * signal.  The parent runs each attempt; the engine times it, retries
 * it and decides what its failure means:
 *
 *	pre-start	startup is abandoned (unless continue_on_error)
 *	others		a warning; what follows goes on
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phpeekd.h"

struct hook_run {
	TAILQ_ENTRY(hook_run)	 hr_entry;
	char			 hr_owner[CONF_NAME_MAX];
	char			 hr_name[CONF_NAME_MAX];
	int			 hr_phase;
	uint32_t		 hr_idx;
	uint32_t		 hr_token;
	pid_t			 hr_pid;
	int			 hr_attempt;
	int64_t			 hr_started;	/* monotonic ms */
	int			 hr_timed_out;
	struct event		 hr_timer;
	void			(*hr_done)(void *, int);
	void			*hr_arg;
};
TAILQ_HEAD(hook_runs, hook_run);

/* A phase's list, run in order. */
struct hook_seq {
	int			 hs_phase;
	uint32_t		 hs_next;
	int			 hs_ok;
	void			(*hs_done)(void *, int);
	void			*hs_arg;
};

static struct hook_runs	hook_running = TAILQ_HEAD_INITIALIZER(hook_running);

static void	hook_attempt(struct hook_run *);
static void	hook_count_run(struct hook_run *, int);
static void	hook_timeout_cb(int, short, void *);
static void	hook_retry_cb(int, short, void *);
static void	hook_result(struct hook_run *, int, const char *);
static void	hook_seq_next(void *, int);

static struct hook_conf *
hook_conf(struct hook_run *hr)
{
	return (config_hook_find(engine->en_conf, hr->hr_owner, hr->hr_phase,
	    hr->hr_idx));
}

/* Run one hook; done(arg, ok) follows, exactly once. */
void
hook_run(const char *owner, int phase, uint32_t idx,
    void (*done)(void *, int), void *arg)
{
	struct hook_conf	*hk;
	struct hook_run		*hr;

	if ((hr = calloc(1, sizeof(*hr))) == NULL)
		fatal("%s", __func__);
	strlcpy(hr->hr_owner, owner, sizeof(hr->hr_owner));
	hr->hr_phase = phase;
	hr->hr_idx = idx;
	hr->hr_done = done;
	hr->hr_arg = arg;
	if ((hk = hook_conf(hr)) == NULL) {
		free(hr);
		done(arg, 1);
		return;
	}
	strlcpy(hr->hr_name, hk->hk_name, sizeof(hr->hr_name));
	hr->hr_started = now_ms();
	TAILQ_INSERT_TAIL(&hook_running, hr, hr_entry);
	log_info("hook %s (%s%s%s): running", hr->hr_name,
	    hook_phase_name(phase), *owner != '\0' ? " of " : "", owner);
	hook_attempt(hr);
}

static void
hook_attempt(struct hook_run *hr)
{
	struct hook_conf	*hk;
	struct ibuf		*buf;
	struct timeval		 tv;

	if ((hk = hook_conf(hr)) == NULL) {
		hook_result(hr, 0, "removed from the configuration");
		return;
	}
	hr->hr_attempt++;
	hr->hr_pid = -1;
	hr->hr_timed_out = 0;
	hr->hr_token = ++engine->en_token;
	if ((buf = proc_create(privsep, PROC_PARENT, IMSG_SPAWN, hr->hr_token,
	    CONF_NAME_MAX + 16)) == NULL ||
	    ibuf_add_str(buf, hr->hr_owner) == -1 ||
	    ibuf_add_u32(buf, (uint32_t)hr->hr_phase << 16 | hr->hr_idx) == -1 ||
	    ibuf_add_u8(buf, SPAWN_HOOK) == -1)
		fatalx("cannot queue a hook");
	proc_close(privsep, PROC_PARENT, buf);
	evtimer_set(&hr->hr_timer, hook_timeout_cb, hr);
	ms_to_tv((int64_t)hk->hk_timeout * 1000, &tv);
	evtimer_add(&hr->hr_timer, &tv);
}

static void
hook_timeout_cb(int fd, short event, void *arg)
{
	struct hook_run	*hr = arg;
	uint32_t	 msg[3];

	log_warnx("hook %s: timed out, killing it", hr->hr_name);
	hr->hr_timed_out = 1;
	if (hr->hr_pid > 0) {
		msg[0] = (uint32_t)hr->hr_pid;
		msg[1] = SIGKILL;
		msg[2] = KILL_GROUP;
		proc_compose(privsep, PROC_PARENT, IMSG_KILL, 0, -1, msg,
		    sizeof(msg));
	} else
		hook_result(hr, 0, "did not start in time");
}

static void
hook_retry_cb(int fd, short event, void *arg)
{
	hook_attempt(arg);
}

/*
 * Counts for phpeek_pm_hook_*: by name and type (a process's
 * pre_stop_hook is a pre_stop), all attempts in one duration.
 */
static struct state_hook	hook_stats[HOOK_STATS_MAX];
static uint32_t			hook_nstats;

static void
hook_count_run(struct hook_run *hr, int ok)
{
	static const int64_t	 le_ms[HOOK_BUCKETS] = { 100, 500, 1000,
				    5000, 10000, 30000, 60000, 120000 };
	struct state_hook	*sh = NULL;
	uint32_t		 type, i;
	int64_t			 ms = now_ms() - hr->hr_started;

	type = hr->hr_phase == HOOK_PROC_PRE_STOP ? HOOK_PRE_STOP :
	    (uint32_t)hr->hr_phase;
	for (i = 0; i < hook_nstats; i++)
		if (hook_stats[i].sh_type == type &&
		    strcmp(hook_stats[i].sh_name, hr->hr_name) == 0)
			sh = &hook_stats[i];
	if (sh == NULL) {
		if (hook_nstats == HOOK_STATS_MAX)
			return;
		sh = &hook_stats[hook_nstats++];
		strlcpy(sh->sh_name, hr->hr_name, sizeof(sh->sh_name));
		sh->sh_type = type;
	}
	if (ok)
		sh->sh_ok++;
	else
		sh->sh_failed++;
	sh->sh_sum_ms += (uint64_t)(ms > 0 ? ms : 0);
	for (i = 0; i < HOOK_BUCKETS; i++)
		if (ms <= le_ms[i]) {
			sh->sh_hist[i]++;
			break;
		}
	if (privsep->ps_iev[PROC_API] != NULL)
		(void)state_send_hook(privsep, sh);
}

/* All of them, for the api's snapshot. */
void
hook_stats_send(void)
{
	uint32_t	i;

	for (i = 0; i < hook_nstats; i++)
		(void)state_send_hook(privsep, &hook_stats[i]);
}

/* One attempt ended: retry, or report the outcome. */
static void
hook_result(struct hook_run *hr, int ok, const char *why)
{
	struct hook_conf	*hk = hook_conf(hr);
	struct timeval		 tv;

	evtimer_del(&hr->hr_timer);
	hr->hr_pid = 0;
	if (!ok && hk != NULL && hr->hr_attempt <= hk->hk_retry &&
	    !engine->en_shutdown) {
		log_warnx("hook %s: attempt %d failed: %s; retrying in %ds",
		    hr->hr_name, hr->hr_attempt, why, hk->hk_retry_delay);
		evtimer_set(&hr->hr_timer, hook_retry_cb, hr);
		ms_to_tv((int64_t)hk->hk_retry_delay * 1000, &tv);
		evtimer_add(&hr->hr_timer, &tv);
		return;
	}
	/* what happened, continue_on_error or not */
	hook_count_run(hr, ok);
	if (ok)
		log_info("hook %s: succeeded", hr->hr_name);
	else if (hk != NULL && hk->hk_continue) {
		log_warnx("hook %s: failed: %s (continue_on_error)",
		    hr->hr_name, why);
		ok = 1;
	} else
		log_warnx("hook %s: failed: %s", hr->hr_name, why);
	TAILQ_REMOVE(&hook_running, hr, hr_entry);
	hr->hr_done(hr->hr_arg, ok);
	free(hr);
}

static void
hook_nop(void *arg, int ok)
{
}

/* arg is going away: its runs finish without telling it. */
void
hook_forget(void *arg)
{
	struct hook_run	*hr;

	TAILQ_FOREACH(hr, &hook_running, hr_entry)
		if (hr->hr_arg == arg) {
			hr->hr_done = hook_nop;
			hr->hr_arg = NULL;
		}
}

struct hook_run *
hook_by_token(uint32_t token)
{
	struct hook_run	*hr;

	TAILQ_FOREACH(hr, &hook_running, hr_entry)
		if (hr->hr_token == token)
			return (hr);
	return (NULL);
}

const char *
hook_label(struct hook_run *hr)
{
	return (hr->hr_name);
}

void
hook_spawned(struct hook_run *hr, pid_t pid)
{
	hr->hr_pid = pid;
}

void
hook_spawn_failed(struct hook_run *hr, int error, const char *what)
{
	char	why[128];

	snprintf(why, sizeof(why), "%s: %s", what, strerror(error));
	hook_result(hr, 0, why);
}

/* Route an EXIT: 1 if it was a hook's. */
int
hook_exited(pid_t pid, int status)
{
	struct hook_run	*hr;
	char		 why[64];

	TAILQ_FOREACH(hr, &hook_running, hr_entry)
		if (hr->hr_pid == pid)
			break;
	if (hr == NULL)
		return (0);
	if (hr->hr_timed_out)
		hook_result(hr, 0, "timed out");
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		hook_result(hr, 1, NULL);
	else {
		wait_status_str(status, why, sizeof(why));
		hook_result(hr, 0, why);
	}
	return (1);
}

int
hook_count(int phase)
{
	struct hook_conf	*hk;
	int			 n = 0;

	TAILQ_FOREACH(hk, &engine->en_conf->cf_hooks, hk_entry)
		if (hk->hk_phase == phase)
			n++;
	return (n);
}

static void
hook_seq_next(void *arg, int ok)
{
	struct hook_seq	*hs = arg;
	void		(*done)(void *, int);
	void		*darg;

	if (!ok)
		hs->hs_ok = 0;
	/* a failed pre-start hook ends the sequence */
	if ((ok || hs->hs_phase != HOOK_PRE_START) &&
	    config_hook_find(engine->en_conf, "", hs->hs_phase,
	    hs->hs_next) != NULL) {
		hook_run("", hs->hs_phase, hs->hs_next++, hook_seq_next, hs);
		return;
	}
	done = hs->hs_done;
	darg = hs->hs_arg;
	ok = hs->hs_ok;
	free(hs);
	done(darg, ok);
}

/* Run a phase's global hooks in order, then done(arg, all ok). */
void
hook_phase(int phase, void (*done)(void *, int), void *arg)
{
	struct hook_seq	*hs;

	if ((hs = calloc(1, sizeof(*hs))) == NULL)
		fatal("%s", __func__);
	hs->hs_phase = phase;
	hs->hs_ok = 1;
	hs->hs_done = done;
	hs->hs_arg = arg;
	hook_seq_next(hs, 1);
}
