/*
 * Prometheus text exposition (format 0.0.4) of the api's read model,
 * with phpeek-pm's metric names and labels so its dashboards and
 * alerts keep working.  Every family has its HELP and TYPE once, and
 * its samples follow together, as the format requires.
 *
 * What the read model does not hold is not exported: the health check
 * and hook families of phpeek-pm are missing, not zero.
 */

#include <sys/types.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "phpeekd.h"

/* Which per-instance series an instance has. */
enum inst_series {
	IS_UP = 0,
	IS_START_TIME,
	IS_EXIT_CODE,
	IS_CPU,
	IS_MEMORY,
	IS_MEMORY_PERCENT,
	IS_THREADS,
	IS_FDS
};

static void	metrics_label(struct evbuffer *, const char *);
static void	metrics_value(struct evbuffer *, double);
static void	metrics_family(struct evbuffer *, const char *, const char *,
		    const char *);
static void	metrics_sample(struct evbuffer *, const char *, const char *,
		    const char *, const char *, const char *, double);
static uint32_t	metrics_running(struct api_proc *);
static void	metrics_scheduled(struct evbuffer *);
static void	metrics_heartbeat(struct evbuffer *);
static void	metrics_health(struct evbuffer *);
static void	metrics_hooks(struct evbuffer *);
static void	metrics_fpm(struct evbuffer *);
static void	metrics_fpm_labels(struct evbuffer *, const char *,
		    const struct state_fpm *);
static void	metrics_fpm_sample(struct evbuffer *, const char *,
		    const struct state_fpm *, double);
static double	metrics_opcache_value(const struct state_fpm *, size_t);
static void	metrics_fpm_procs(struct evbuffer *);
static void	metrics_fpm_proc_sample(struct evbuffer *, const char *,
		    const struct state_fpm *, const struct state_fpm_proc *,
		    const char *, double);
static void	metrics_instances(struct evbuffer *, const char *,
		    const char *, const char *, const char *, enum inst_series);

/* A label value: backslash, double quote and newline escaped. */
static void
metrics_label(struct evbuffer *b, const char *s)
{
	size_t	n;

	while (*s != '\0') {
		n = strcspn(s, "\\\"\n");
		evbuffer_add(b, s, n);
		s += n;
		if (*s == '\0')
			break;
		if (*s == '\\')
			evbuffer_add(b, "\\\\", 2);
		else if (*s == '"')
			evbuffer_add(b, "\\\"", 2);
		else
			evbuffer_add(b, "\\n", 2);
		s++;
	}
}

/* Integers as integers (unix times too); others as exactly as needed. */
static void
metrics_value(struct evbuffer *b, double v)
{
	if (v != v)
		evbuffer_add_printf(b, " NaN\n");
	else if (v > -9007199254740992.0 && v < 9007199254740992.0 &&
	    (double)(long long)v == v)
		evbuffer_add_printf(b, " %lld\n", (long long)v);
	else
		evbuffer_add_printf(b, " %.17g\n", v);
}

static void
metrics_family(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* name{k1="v1"[,k2="v2"]} value */
static void
metrics_sample(struct evbuffer *b, const char *name, const char *k1,
    const char *v1, const char *k2, const char *v2, double value)
{
	evbuffer_add_printf(b, "%s", name);
	if (k1 != NULL) {
		evbuffer_add_printf(b, "{%s=\"", k1);
		metrics_label(b, v1);
		if (k2 != NULL) {
			evbuffer_add_printf(b, "\",%s=\"", k2);
			metrics_label(b, v2);
		}
		evbuffer_add(b, "\"}", 2);
	}
	metrics_value(b, value);
}

static uint32_t
metrics_running(struct api_proc *ap)
{
	uint32_t	i, n = 0;

	for (i = 0; i < ap->ap_ninst; i++)
		if (api_inst_present(ap, i) &&
		    ap->ap_inst[i].sti_state == IST_RUNNING)
			n++;
	return (n);
}

/*
 * One family with a series per instance.  Lifecycle families label
 * the process "name", resource families "process": phpeek-pm's names,
 * inconsistency included, so its queries work unchanged.
 */
static void
metrics_instances(struct evbuffer *b, const char *name, const char *type,
    const char *help, const char *label, enum inst_series what)
{
	struct api_proc		*ap;
	struct state_instance	*si;
	const struct sample	*sa;
	char			 id[CONF_NAME_MAX + 16];
	const char		*pname;
	uint32_t		 i;

	metrics_family(b, name, type, help);
	TAILQ_FOREACH(ap, &api->a_procs, ap_entry) {
		pname = ap->ap_state.sp_name;
		for (i = 0; i < ap->ap_ninst; i++) {
			if (!api_inst_present(ap, i))
				continue;
			si = &ap->ap_inst[i];
			/* samples of a dead process would be stale */
			sa = si->sti_state == IST_RUNNING ?
			    api_sample_last(ap, i) : NULL;
			snprintf(id, sizeof(id), "%s-%u", pname, i);
			switch (what) {
			case IS_UP:
				metrics_sample(b, name, label, pname,
				    "instance", id,
				    si->sti_state == IST_RUNNING);
				break;
			case IS_START_TIME:
				if (si->sti_started != 0)
					metrics_sample(b, name, label, pname,
					    "instance", id,
					    (double)si->sti_started);
				break;
			case IS_EXIT_CODE:
				if (si->sti_exited)
					metrics_sample(b, name, label, pname,
					    "instance", id,
					    si->sti_exit_code);
				break;
			case IS_CPU:
				if (sa != NULL)
					metrics_sample(b, name, label, pname,
					    "instance", id, sa->sa_cpu);
				break;
			case IS_MEMORY:
				if (sa == NULL)
					break;
				evbuffer_add_printf(b, "%s{%s=\"", name,
				    label);
				metrics_label(b, pname);
				evbuffer_add_printf(b, "\",instance=\"");
				metrics_label(b, id);
				evbuffer_add_printf(b, "\",type=\"rss\"}");
				metrics_value(b, (double)sa->sa_rss);
				evbuffer_add_printf(b, "%s{%s=\"", name,
				    label);
				metrics_label(b, pname);
				evbuffer_add_printf(b, "\",instance=\"");
				metrics_label(b, id);
				evbuffer_add_printf(b, "\",type=\"vms\"}");
				metrics_value(b, (double)sa->sa_vms);
				break;
			case IS_MEMORY_PERCENT:
				if (sa != NULL)
					metrics_sample(b, name, label, pname,
					    "instance", id,
					    sa->sa_mem_percent);
				break;
			case IS_THREADS:
				if (sa != NULL)
					metrics_sample(b, name, label, pname,
					    "instance", id, sa->sa_threads);
				break;
			case IS_FDS:
				if (sa != NULL)
					metrics_sample(b, name, label, pname,
					    "instance", id, sa->sa_fds);
				break;
			}
		}
	}
}

/*
 * The scheduled-task families phpeek-pm documents (and its alert rules
 * use) but never exports; only tasks with a schedule have series.
 */
static void
metrics_scheduled(struct evbuffer *b)
{
	struct api_proc		*ap;
	struct proc_conf	*pc;
	struct state_proc	*sp;
	static const struct {
		const char	*name, *type, *help;
	} fam[] = {
		{ "phpeek_pm_scheduled_task_last_run_timestamp", "gauge",
		  "Unix time the task's last run began; 0 before the first." },
		{ "phpeek_pm_scheduled_task_next_run_timestamp", "gauge",
		  "Unix time the task is next due; 0 when it is not armed." },
		{ "phpeek_pm_scheduled_task_last_exit_code", "gauge",
		  "Exit status of the task's last run; -1 for a signal." },
		{ "phpeek_pm_scheduled_task_total", "counter",
		  "Runs of the task, by outcome (success, failure, skipped)." },
	};
	size_t			 i;

	for (i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		metrics_family(b, fam[i].name, fam[i].type, fam[i].help);
		TAILQ_FOREACH(ap, &api->a_procs, ap_entry) {
			sp = &ap->ap_state;
			if ((pc = api_proc_conf(sp->sp_name)) == NULL ||
			    pc->pc_schedule == NULL)
				continue;
			switch (i) {
			case 0:
				metrics_sample(b, fam[i].name, "task",
				    sp->sp_name, NULL, NULL,
				    (double)sp->sp_last_run);
				break;
			case 1:
				metrics_sample(b, fam[i].name, "task",
				    sp->sp_name, NULL, NULL,
				    (double)sp->sp_next_run);
				break;
			case 2:
				metrics_sample(b, fam[i].name, "task",
				    sp->sp_name, NULL, NULL,
				    (double)sp->sp_last_exit);
				break;
			default:
				metrics_sample(b, fam[i].name, "task",
				    sp->sp_name, "status", "success",
				    (double)sp->sp_runs_ok);
				metrics_sample(b, fam[i].name, "task",
				    sp->sp_name, "status", "failure",
				    (double)sp->sp_runs_failed);
				metrics_sample(b, fam[i].name, "task",
				    sp->sp_name, "status", "skipped",
				    (double)sp->sp_runs_skipped);
				break;
			}
		}
	}
}

/*
 * phpeek-pm's health check families, for processes with a check that
 * has run at least once; the histogram has its buckets.
 */
static void
metrics_health(struct evbuffer *b)
{
	static const char	*le[HC_BUCKETS] = { "0.001", "0.01", "0.05",
				    "0.1", "0.5", "1", "5" };
	struct api_proc		*ap;
	struct state_proc	*sp;
	const char		*type;
	uint64_t		 cum;
	int			 pass, i;

	for (pass = 0; pass < 4; pass++) {
		switch (pass) {
		case 0:
			metrics_family(b, "phpeek_pm_health_check_status",
			    "gauge", "Whether the last check passed (1) or "
			    "not (0).");
			break;
		case 1:
			metrics_family(b, "phpeek_pm_health_check_total",
			    "counter", "Checks run, by outcome.");
			break;
		case 2:
			metrics_family(b,
			    "phpeek_pm_health_check_consecutive_fails",
			    "gauge", "Checks failed in a row.");
			break;
		default:
			metrics_family(b,
			    "phpeek_pm_health_check_duration_seconds",
			    "histogram", "How long checks took.");
			break;
		}
		TAILQ_FOREACH(ap, &api->a_procs, ap_entry) {
			sp = &ap->ap_state;
			if (sp->sp_hc_type == HC_NONE ||
			    sp->sp_hc_passed + sp->sp_hc_failed == 0)
				continue;
			type = health_type_name((int)sp->sp_hc_type);
			switch (pass) {
			case 0:
				metrics_sample(b,
				    "phpeek_pm_health_check_status", "name",
				    sp->sp_name, "type", type,
				    sp->sp_hc_last_ok);
				break;
			case 1:
				evbuffer_add_printf(b,
				    "phpeek_pm_health_check_total{name=\"");
				metrics_label(b, sp->sp_name);
				evbuffer_add_printf(b, "\",type=\"%s\","
				    "status=\"success\"} %llu\n", type,
				    (unsigned long long)sp->sp_hc_passed);
				evbuffer_add_printf(b,
				    "phpeek_pm_health_check_total{name=\"");
				metrics_label(b, sp->sp_name);
				evbuffer_add_printf(b, "\",type=\"%s\","
				    "status=\"failure\"} %llu\n", type,
				    (unsigned long long)sp->sp_hc_failed);
				break;
			case 2:
				metrics_sample(b,
				    "phpeek_pm_health_check_consecutive_fails",
				    "name", sp->sp_name, NULL, NULL,
				    sp->sp_hc_fails);
				break;
			default:
				cum = 0;
				for (i = 0; i <= HC_BUCKETS; i++) {
					if (i < HC_BUCKETS)
						cum += sp->sp_hc_hist[i];
					evbuffer_add_printf(b,
					    "phpeek_pm_health_check_duration_"
					    "seconds_bucket{name=\"");
					metrics_label(b, sp->sp_name);
					evbuffer_add_printf(b, "\",type=\"%s\","
					    "le=\"%s\"} %llu\n", type,
					    i < HC_BUCKETS ? le[i] : "+Inf",
					    (unsigned long long)(i < HC_BUCKETS ?
					    cum : sp->sp_hc_passed +
					    sp->sp_hc_failed));
				}
				metrics_sample(b, "phpeek_pm_health_check_"
				    "duration_seconds_sum", "name",
				    sp->sp_name, "type", type,
				    (double)sp->sp_hc_sum_us / 1e6);
				metrics_sample(b, "phpeek_pm_health_check_"
				    "duration_seconds_count", "name",
				    sp->sp_name, "type", type,
				    (double)(sp->sp_hc_passed +
				    sp->sp_hc_failed));
				break;
			}
		}
	}
}

/* The OPcache families, in the order of metrics_fpm's table. */
static double
metrics_opcache_value(const struct state_fpm *sf, size_t i)
{
	uint64_t	lookups = sf->sf_oc_hits + sf->sf_oc_misses;

	switch (i) {
	case 17: return ((double)sf->sf_oc_used);
	case 18: return ((double)sf->sf_oc_free);
	case 19: return ((double)sf->sf_oc_wasted);
	case 20: return ((double)sf->sf_oc_scripts);
	case 21: return ((double)sf->sf_oc_hits);
	case 22: return ((double)sf->sf_oc_misses);
	case 23: return ((double)sf->sf_oc_oom);
	case 24: return (lookups > 0 ? 100.0 * (double)sf->sf_oc_hits /
		    (double)lookups : 0);
	default: return (sf->sf_oc_cache_full);
	}
}

/* name{pool="...",socket="..." with the closing quote, not the brace */
static void
metrics_fpm_labels(struct evbuffer *b, const char *name,
    const struct state_fpm *sf)
{
	evbuffer_add_printf(b, "%s{pool=\"", name);
	/* the pool's last known name: a series keeps it while down */
	metrics_label(b, sf->sf_pool[0] != '\0' ? sf->sf_pool : sf->sf_proc);
	evbuffer_add_printf(b, "\",socket=\"");
	metrics_label(b, sf->sf_socket);
	evbuffer_add(b, "\"", 1);
}

static void
metrics_fpm_sample(struct evbuffer *b, const char *name,
    const struct state_fpm *sf, double v)
{
	metrics_fpm_labels(b, name, sf);
	evbuffer_add(b, "}", 1);
	metrics_value(b, v);
}

/*
 * php-fpm pools (hipages/php-fpm_exporter's names, so dashboards work):
 * up, failures and duration for every pool scraped; the pool's own
 * figures only while it answers, so a dead pool's series go stale.
 * The exporter's counters have no _total; they are untyped here, which
 * promtool accepts and PromQL's rate() treats the same.  Until a pool
 * has answered once its label is the process's name.
 */
static void
metrics_fpm(struct evbuffer *b)
{
	static const struct {
		const char	*name, *type, *help;
	} fam[] = {
		{ "phpfpm_up", "gauge",
		  "Whether the pool's status page answered the last scrape." },
		{ "phpfpm_scrape_failures_total", "counter",
		  "Scrapes of the status page that failed." },
		{ "phpfpm_scrape_duration_seconds", "gauge",
		  "How long the last scrape took." },
		{ "phpfpm_start_since", "gauge",
		  "Seconds since the pool started." },
		{ "phpfpm_accepted_connections", "untyped",
		  "Requests the pool accepted (a counter)." },
		{ "phpfpm_listen_queue", "gauge",
		  "Requests waiting for a free worker." },
		{ "phpfpm_max_listen_queue", "gauge",
		  "The longest the queue has been." },
		{ "phpfpm_listen_queue_length", "gauge",
		  "The size of the socket's queue." },
		{ "phpfpm_idle_processes", "gauge", "Idle workers." },
		{ "phpfpm_active_processes", "gauge",
		  "Busy workers, the status request included." },
		{ "phpfpm_total_processes", "gauge", "Workers." },
		{ "phpfpm_max_active_processes", "gauge",
		  "The most workers busy at once." },
		{ "phpfpm_max_children_reached", "untyped",
		  "Times pm.max_children stopped a spawn (a counter)." },
		{ "phpfpm_slow_requests", "untyped",
		  "Requests past request_slowlog_timeout (a counter)." },
		{ "phpfpm_memory_peak", "gauge",
		  "The pool's peak memory, where php-fpm reports it." },
		{ "phpfpm_ping_up", "gauge",
		  "Whether ping.path answered pong (with ping_path)." },
		{ "phpfpm_opcache_enabled", "gauge",
		  "Whether OPcache is on in the pool's workers." },
		{ "phpfpm_opcache_used_memory_bytes", "gauge",
		  "OPcache shared memory in use." },
		{ "phpfpm_opcache_free_memory_bytes", "gauge",
		  "OPcache shared memory free." },
		{ "phpfpm_opcache_wasted_memory_bytes", "gauge",
		  "OPcache shared memory wasted." },
		{ "phpfpm_opcache_cached_scripts", "gauge",
		  "Scripts in the cache." },
		{ "phpfpm_opcache_hits_total", "counter",
		  "Cache hits since OPcache's last restart." },
		{ "phpfpm_opcache_misses_total", "counter",
		  "Cache misses since OPcache's last restart." },
		{ "phpfpm_opcache_oom_restarts_total", "counter",
		  "Restarts because the memory was full." },
		{ "phpfpm_opcache_hit_rate", "gauge",
		  "Hits in percent of lookups." },
		{ "phpfpm_opcache_cache_full", "gauge",
		  "Whether no more scripts fit." },
	};
	struct proc_conf	*pc;
	struct api_proc		*ap;
	struct state_fpm	*sf;
	double			 v;
	size_t			 i;
	int			 any = 0;

	TAILQ_FOREACH(ap, &api->a_procs, ap_entry)
		if (ap->ap_fpm != NULL)
			any = 1;
	if (!any)
		return;
	for (i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		metrics_family(b, fam[i].name, fam[i].type, fam[i].help);
		TAILQ_FOREACH(ap, &api->a_procs, ap_entry) {
			if ((sf = ap->ap_fpm) == NULL)
				continue;
			if (i >= 3 && !sf->sf_up)
				continue;
			switch (i) {
			case 0: v = sf->sf_up; break;
			case 1: v = (double)sf->sf_failures; break;
			case 2: v = (double)sf->sf_duration_us / 1e6; break;
			case 3: v = (double)sf->sf_start_since; break;
			case 4: v = (double)sf->sf_accepted; break;
			case 5: v = (double)sf->sf_listen_queue; break;
			case 6: v = (double)sf->sf_max_listen_queue; break;
			case 7: v = (double)sf->sf_listen_queue_len; break;
			case 8: v = (double)sf->sf_idle; break;
			case 9: v = (double)sf->sf_active; break;
			case 10: v = (double)sf->sf_total; break;
			case 11: v = (double)sf->sf_max_active; break;
			case 12: v = (double)sf->sf_max_children_reached; break;
			case 13: v = (double)sf->sf_slow_requests; break;
			case 14:
				if (sf->sf_memory_peak == 0)
					continue;
				v = (double)sf->sf_memory_peak;
				break;
			case 15:
				if ((pc = api_proc_conf(sf->sf_proc)) == NULL ||
				    pc->pc_fpm.fm_ping_path == NULL)
					continue;
				v = sf->sf_ping_up;
				break;
			case 16:
				if ((pc = api_proc_conf(sf->sf_proc)) == NULL ||
				    !pc->pc_fpm.fm_opcache)
					continue;
				v = sf->sf_opcache_enabled;
				break;
			default:
				if (!sf->sf_opcache_enabled)
					continue;
				v = metrics_opcache_value(sf, i);
				break;
			}
			metrics_fpm_sample(b, fam[i].name, sf, v);
		}
	}
}

/* name{pool,socket,pid[,state]} value */
static void
metrics_fpm_proc_sample(struct evbuffer *b, const char *name,
    const struct state_fpm *sf, const struct state_fpm_proc *p,
    const char *state, double v)
{
	metrics_fpm_labels(b, name, sf);
	evbuffer_add_printf(b, ",pid=\"%lld\"", (long long)p->sfp_pid);
	if (state != NULL)
		evbuffer_add_printf(b, ",state=\"%s\"", state);
	evbuffer_add(b, "}", 1);
	metrics_value(b, v);
}

/*
 * The exporter's per-process families, for pools with per_process and
 * only while they answer, like the pool's own figures.  Off by
 * default: every pid is a series, and pids churn.
 */
static void
metrics_fpm_procs(struct evbuffer *b)
{
	static const struct {
		const char	*name, *type, *help;
	} fam[] = {
		{ "phpfpm_process_state", "gauge",
		  "The worker's request stage, as label state; always 1." },
		{ "phpfpm_process_requests", "untyped",
		  "Requests the worker has served (a counter)." },
		{ "phpfpm_process_request_duration", "gauge",
		  "Microseconds of the last request, or of the current one "
		  "so far." },
		{ "phpfpm_process_last_request_cpu", "gauge",
		  "CPU of the last finished request in percent; 0 while "
		  "busy." },
		{ "phpfpm_process_last_request_memory", "gauge",
		  "Peak memory of the last finished request in bytes; 0 while "
		  "busy." },
	};
	struct proc_conf		*pc;
	struct api_proc			*ap;
	const struct state_fpm_proc	*p;
	const char			*state;
	double				 v;
	size_t				 i;
	uint32_t			 j;
	int				 any = 0;

	TAILQ_FOREACH(ap, &api->a_procs, ap_entry)
		if (ap->ap_fpm != NULL &&
		    (pc = api_proc_conf(ap->ap_fpm->sf_proc)) != NULL &&
		    pc->pc_fpm.fm_per_process)
			any = 1;
	if (!any)
		return;
	for (i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		metrics_family(b, fam[i].name, fam[i].type, fam[i].help);
		TAILQ_FOREACH(ap, &api->a_procs, ap_entry) {
			/* turned off by a reload: gone before the next scrape */
			if (ap->ap_fpm == NULL || !ap->ap_fpm->sf_up ||
			    (pc = api_proc_conf(ap->ap_fpm->sf_proc)) == NULL ||
			    !pc->pc_fpm.fm_per_process)
				continue;
			for (j = 0; j < ap->ap_fpm_nprocs; j++) {
				p = &ap->ap_fpm_procs[j];
				state = NULL;
				switch (i) {
				case 0:
					/* php-fpm's six names, or "unknown" */
					state = fpm_state_name(
					    (enum fpm_state)p->sfp_state);
					v = 1;
					break;
				case 1: v = (double)p->sfp_requests; break;
				case 2: v = (double)p->sfp_duration; break;
				case 3: v = p->sfp_cpu; break;
				default: v = (double)p->sfp_memory; break;
				}
				metrics_fpm_proc_sample(b, fam[i].name,
				    ap->ap_fpm, p, state, v);
			}
		}
	}
}

/* phpeek-pm's hook families, for each hook that has run. */
static void
metrics_hooks(struct evbuffer *b)
{
	static const char	*le[HOOK_BUCKETS] = { "0.1", "0.5", "1", "5",
				    "10", "30", "60", "120" };
	static const char	*types[] = { "pre_start", "post_start",
				    "pre_stop", "post_stop" };
	struct state_hook	*sh;
	uint64_t		 cum;
	uint32_t		 i;
	int			 j;

	metrics_family(b, "phpeek_pm_hook_executions_total", "counter",
	    "Hook runs, all attempts of one counted once, by outcome.");
	for (i = 0; i < api->a_nhooks; i++) {
		sh = &api->a_hooks[i];
		for (j = 0; j < 2; j++) {
			evbuffer_add_printf(b,
			    "phpeek_pm_hook_executions_total{name=\"");
			metrics_label(b, sh->sh_name);
			evbuffer_add_printf(b, "\",type=\"%s\",status=\"%s\"} "
			    "%llu\n", types[sh->sh_type & 3], j == 0 ?
			    "success" : "failure", (unsigned long long)(j == 0 ?
			    sh->sh_ok : sh->sh_failed));
		}
	}
	metrics_family(b, "phpeek_pm_hook_duration_seconds", "histogram",
	    "How long hooks took, every attempt included.");
	for (i = 0; i < api->a_nhooks; i++) {
		sh = &api->a_hooks[i];
		cum = 0;
		for (j = 0; j <= HOOK_BUCKETS; j++) {
			if (j < HOOK_BUCKETS)
				cum += sh->sh_hist[j];
			evbuffer_add_printf(b,
			    "phpeek_pm_hook_duration_seconds_bucket{name=\"");
			metrics_label(b, sh->sh_name);
			evbuffer_add_printf(b, "\",type=\"%s\",le=\"%s\"} "
			    "%llu\n", types[sh->sh_type & 3], j < HOOK_BUCKETS ?
			    le[j] : "+Inf", (unsigned long long)(j <
			    HOOK_BUCKETS ? cum : sh->sh_ok + sh->sh_failed));
		}
		metrics_sample(b, "phpeek_pm_hook_duration_seconds_sum",
		    "name", sh->sh_name, "type", types[sh->sh_type & 3],
		    (double)sh->sh_sum_ms / 1000);
		metrics_sample(b, "phpeek_pm_hook_duration_seconds_count",
		    "name", sh->sh_name, "type", types[sh->sh_type & 3],
		    (double)(sh->sh_ok + sh->sh_failed));
	}
}

/* phpeek-pm's documented heartbeat families, for tasks that ping. */
static void
metrics_heartbeat(struct evbuffer *b)
{
	struct api_proc		*ap;
	struct proc_conf	*pc;
	struct heartbeat_conf	*hb;
	int			 pass;

	for (pass = 0; pass < 2; pass++) {
		if (pass == 0)
			metrics_family(b, "phpeek_pm_heartbeat_pings_total",
			    "counter", "Heartbeat pings sent, by outcome "
			    "(success, failure after every retry).");
		else
			metrics_family(b,
			    "phpeek_pm_heartbeat_last_ping_timestamp", "gauge",
			    "Unix time of the task's last successful ping; 0 "
			    "before the first.");
		TAILQ_FOREACH(ap, &api->a_procs, ap_entry) {
			if ((pc = api_proc_conf(ap->ap_state.sp_name)) == NULL)
				continue;
			hb = &pc->pc_heartbeat;
			if (pc->pc_schedule == NULL || (hb->hb_url == NULL &&
			    hb->hb_success_url == NULL &&
			    hb->hb_failure_url == NULL))
				continue;
			if (pass == 0) {
				metrics_sample(b,
				    "phpeek_pm_heartbeat_pings_total", "task",
				    pc->pc_name, "status", "success",
				    (double)ap->ap_state.sp_hb_ok);
				metrics_sample(b,
				    "phpeek_pm_heartbeat_pings_total", "task",
				    pc->pc_name, "status", "failure",
				    (double)ap->ap_state.sp_hb_failed);
			} else
				metrics_sample(b,
				    "phpeek_pm_heartbeat_last_ping_timestamp",
				    "task", pc->pc_name, NULL, NULL,
				    (double)ap->ap_state.sp_hb_last);
		}
	}
}

void
metrics_render(struct evbuffer *b)
{
	struct api_proc		*ap;
	struct proc_conf	*pc;
	const char		*name;
	static const char	*reasons[] = {
		"crash", "normal_exit", "health_check"
	};
	uint64_t		 n[3];
	size_t			 nprocs = 0, i;

	metrics_instances(b, "phpeek_pm_process_up", "gauge",
	    "Whether the instance is running (1) or not (0).", "name", IS_UP);

	metrics_family(b, "phpeek_pm_process_restarts_total", "counter",
	    "Automatic restarts of the process's instances, by reason.");
	TAILQ_FOREACH(ap, &api->a_procs, ap_entry) {
		n[0] = ap->ap_state.sp_restarts_crash;
		n[1] = ap->ap_state.sp_restarts_normal;
		n[2] = ap->ap_state.sp_restarts_health;
		for (i = 0; i < 3; i++)
			metrics_sample(b, "phpeek_pm_process_restarts_total",
			    "name", ap->ap_state.sp_name, "reason",
			    reasons[i], (double)n[i]);
	}

	metrics_instances(b, "phpeek_pm_process_start_time_seconds", "gauge",
	    "Unix time the instance was last started.", "name",
	    IS_START_TIME);
	metrics_instances(b, "phpeek_pm_process_last_exit_code", "gauge",
	    "Exit status of the instance's last run; -1 for a signal.",
	    "name", IS_EXIT_CODE);

	metrics_family(b, "phpeek_pm_process_desired_scale", "gauge",
	    "Instances wanted.");
	TAILQ_FOREACH(ap, &api->a_procs, ap_entry)
		metrics_sample(b, "phpeek_pm_process_desired_scale", "name",
		    ap->ap_state.sp_name, NULL, NULL, ap->ap_state.sp_desired);
	metrics_family(b, "phpeek_pm_process_current_scale", "gauge",
	    "Instances running.");
	TAILQ_FOREACH(ap, &api->a_procs, ap_entry) {
		name = ap->ap_state.sp_name;
		metrics_sample(b, "phpeek_pm_process_current_scale", "name",
		    name, NULL, NULL, metrics_running(ap));
		if ((pc = api_proc_conf(name)) != NULL && pc->pc_enabled)
			nprocs++;
	}

	metrics_instances(b, "phpeek_pm_process_cpu_percent", "gauge",
	    "CPU used by the instance's main process between the last two "
	    "samples, in percent of one CPU.", "process", IS_CPU);
	metrics_instances(b, "phpeek_pm_process_memory_bytes", "gauge",
	    "Memory of the instance's main process, by type (rss, vms).",
	    "process", IS_MEMORY);
	metrics_instances(b, "phpeek_pm_process_memory_percent", "gauge",
	    "Resident memory of the instance's main process, in percent of "
	    "the host's.", "process", IS_MEMORY_PERCENT);
	metrics_instances(b, "phpeek_pm_process_threads", "gauge",
	    "Threads of the instance's main process.", "process", IS_THREADS);
	metrics_instances(b, "phpeek_pm_process_file_descriptors", "gauge",
	    "Open file descriptors of the instance's main process.",
	    "process", IS_FDS);

	metrics_health(b);
	metrics_hooks(b);
	metrics_fpm(b);
	metrics_fpm_procs(b);
	metrics_scheduled(b);
	metrics_heartbeat(b);

	/*
	 * phpeek-pm's gauge, typed untyped: promtool's lint refuses a
	 * gauge whose name ends in _count, and the name is what its
	 * dashboards query.
	 */
	metrics_family(b, "phpeek_pm_manager_process_count", "untyped",
	    "Enabled processes.");
	metrics_sample(b, "phpeek_pm_manager_process_count", NULL, NULL, NULL,
	    NULL, (double)nprocs);
	metrics_family(b, "phpeek_pm_manager_start_time_seconds", "gauge",
	    "Unix time phpeekd started.");
	metrics_sample(b, "phpeek_pm_manager_start_time_seconds", NULL, NULL,
	    NULL, NULL, (double)(api->a_conf != NULL &&
	    api->a_conf->cf_global.gc_started > 0 ?
	    api->a_conf->cf_global.gc_started : api->a_start_time));
	metrics_family(b, "phpeek_pm_config_reloads_total", "counter",
	    "Configuration generations loaded, the first one included.");
	metrics_sample(b, "phpeek_pm_config_reloads_total", NULL, NULL, NULL,
	    NULL, (double)api->a_reloads);
	metrics_family(b, "phpeek_pm_config_reload_failures_total", "counter",
	    "Configuration loads that failed and kept the running one.");
	metrics_sample(b, "phpeek_pm_config_reload_failures_total", NULL,
	    NULL, NULL, NULL, (double)api->a_reload_failures);
	metrics_family(b, "phpeek_pm_config_last_reload_successful", "gauge",
	    "Whether the last configuration load succeeded (1) or not (0).");
	metrics_sample(b, "phpeek_pm_config_last_reload_successful", NULL,
	    NULL, NULL, NULL, api->a_last_reload_ok);
	metrics_family(b, "phpeek_pm_build_info", "gauge",
	    "Build information; always 1.");
	evbuffer_add_printf(b, "phpeek_pm_build_info{version=\"%s\","
	    "go_version=\"none\"} 1\n", PHPEEKD_VERSION);
}
