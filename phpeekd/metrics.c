/*
 * Prometheus text exposition (format 0.0.4) of the api's read model,
 * with phpeek-pm's metric names and labels so its dashboards and
 * alerts keep working.  Every family has its HELP and TYPE once.
 */

#include <sys/types.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "phpeekd.h"

/* A label value: backslash, double quote and newline escaped. */
static void
metrics_label(struct evbuffer *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			evbuffer_add(b, "\\\\", 2);
		else if (*s == '"')
			evbuffer_add(b, "\\\"", 2);
		else if (*s == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, s, 1);
	}
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
	evbuffer_add_printf(b, " %.17g\n", value);
}

/* Instances present in the model, and how many run. */
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

void
metrics_render(struct evbuffer *b)
{
	struct api_proc		*ap;
	struct proc_conf	*pc;
	struct state_instance	*si;
	const struct sample	*sa;
	const char		*name;
	char			 id[CONF_NAME_MAX + 16];
	uint32_t		 i;
	size_t			 nprocs = 0;

	metrics_family(b, "phpeek_pm_process_up", "gauge",
	    "Whether the instance is running (1) or not (0).");
	TAILQ_FOREACH(ap, &api->a_procs, ap_entry)
		for (i = 0; i < ap->ap_ninst; i++) {
			if (!api_inst_present(ap, i))
				continue;
			snprintf(id, sizeof(id), "%s-%u", ap->ap_state.sp_name,
			    i);
			metrics_sample(b, "phpeek_pm_process_up", "name",
			    ap->ap_state.sp_name, "instance", id,
			    ap->ap_inst[i].sti_state == IST_RUNNING);
		}

	metrics_family(b, "phpeek_pm_process_restarts_total", "counter",
	    "Automatic restarts of the process's instances, by reason.");
	TAILQ_FOREACH(ap, &api->a_procs, ap_entry) {
		name = ap->ap_state.sp_name;
		metrics_sample(b, "phpeek_pm_process_restarts_total", "name",
		    name, "reason", "crash",
		    (double)ap->ap_state.sp_restarts_crash);
		metrics_sample(b, "phpeek_pm_process_restarts_total", "name",
		    name, "reason", "normal_exit",
		    (double)ap->ap_state.sp_restarts_normal);
		metrics_sample(b, "phpeek_pm_process_restarts_total", "name",
		    name, "reason", "health_check",
		    (double)ap->ap_state.sp_restarts_health);
	}

	metrics_family(b, "phpeek_pm_process_start_time_seconds", "gauge",
	    "Unix time the instance was started.");
	TAILQ_FOREACH(ap, &api->a_procs, ap_entry)
		for (i = 0; i < ap->ap_ninst; i++) {
			si = &ap->ap_inst[i];
			if (!api_inst_present(ap, i) || si->sti_started == 0)
				continue;
			snprintf(id, sizeof(id), "%s-%u", ap->ap_state.sp_name,
			    i);
			metrics_sample(b, "phpeek_pm_process_start_time_seconds",
			    "name", ap->ap_state.sp_name, "instance", id,
			    (double)si->sti_started);
		}

	metrics_family(b, "phpeek_pm_process_last_exit_code", "gauge",
	    "Exit code of the instance's last run; -1 for a signal.");
	TAILQ_FOREACH(ap, &api->a_procs, ap_entry)
		for (i = 0; i < ap->ap_ninst; i++) {
			si = &ap->ap_inst[i];
			if (!api_inst_present(ap, i) || !si->sti_exited)
				continue;
			snprintf(id, sizeof(id), "%s-%u", ap->ap_state.sp_name,
			    i);
			metrics_sample(b, "phpeek_pm_process_last_exit_code",
			    "name", ap->ap_state.sp_name, "instance", id,
			    si->sti_exit_code);
		}

	metrics_family(b, "phpeek_pm_process_desired_scale", "gauge",
	    "Instances wanted.");
	TAILQ_FOREACH(ap, &api->a_procs, ap_entry)
		metrics_sample(b, "phpeek_pm_process_desired_scale", "name",
		    ap->ap_state.sp_name, NULL, NULL, ap->ap_state.sp_desired);

	metrics_family(b, "phpeek_pm_process_current_scale", "gauge",
	    "Instances running.");
	TAILQ_FOREACH(ap, &api->a_procs, ap_entry) {
		metrics_sample(b, "phpeek_pm_process_current_scale", "name",
		    ap->ap_state.sp_name, NULL, NULL, metrics_running(ap));
		if ((pc = api_proc_conf(ap->ap_state.sp_name)) != NULL &&
		    pc->pc_enabled)
			nprocs++;
	}

	metrics_family(b, "phpeek_pm_process_cpu_percent", "gauge",
	    "CPU used by the instance's main process since the previous "
	    "sample, in percent of one CPU.");
	TAILQ_FOREACH(ap, &api->a_procs, ap_entry)
		for (i = 0; i < ap->ap_ninst; i++) {
			if (!api_inst_present(ap, i) ||
			    ap->ap_inst[i].sti_state != IST_RUNNING ||
			    (sa = api_sample_last(ap, i)) == NULL)
				continue;
			snprintf(id, sizeof(id), "%s-%u", ap->ap_state.sp_name,
			    i);
			metrics_sample(b, "phpeek_pm_process_cpu_percent",
			    "process", ap->ap_state.sp_name, "instance", id,
			    sa->sa_cpu);
		}

	metrics_family(b, "phpeek_pm_process_memory_bytes", "gauge",
	    "Memory of the instance's main process, by type.");
	TAILQ_FOREACH(ap, &api->a_procs, ap_entry)
		for (i = 0; i < ap->ap_ninst; i++) {
			if (!api_inst_present(ap, i) ||
			    ap->ap_inst[i].sti_state != IST_RUNNING ||
			    (sa = api_sample_last(ap, i)) == NULL)
				continue;
			snprintf(id, sizeof(id), "%s-%u", ap->ap_state.sp_name,
			    i);
			evbuffer_add_printf(b, "phpeek_pm_process_memory_bytes"
			    "{process=\"");
			metrics_label(b, ap->ap_state.sp_name);
			evbuffer_add_printf(b, "\",instance=\"");
			metrics_label(b, id);
			evbuffer_add_printf(b, "\",type=\"rss\"} %llu\n",
			    (unsigned long long)sa->sa_rss);
			evbuffer_add_printf(b, "phpeek_pm_process_memory_bytes"
			    "{process=\"");
			metrics_label(b, ap->ap_state.sp_name);
			evbuffer_add_printf(b, "\",instance=\"");
			metrics_label(b, id);
			evbuffer_add_printf(b, "\",type=\"vms\"} %llu\n",
			    (unsigned long long)sa->sa_vms);
		}

	metrics_family(b, "phpeek_pm_process_threads", "gauge",
	    "Threads of the instance's main process.");
	TAILQ_FOREACH(ap, &api->a_procs, ap_entry)
		for (i = 0; i < ap->ap_ninst; i++) {
			if (!api_inst_present(ap, i) ||
			    ap->ap_inst[i].sti_state != IST_RUNNING ||
			    (sa = api_sample_last(ap, i)) == NULL)
				continue;
			snprintf(id, sizeof(id), "%s-%u", ap->ap_state.sp_name,
			    i);
			metrics_sample(b, "phpeek_pm_process_threads", "process",
			    ap->ap_state.sp_name, "instance", id,
			    sa->sa_threads);
		}

	metrics_family(b, "phpeek_pm_manager_processes", "gauge",
	    "Enabled processes.");
	metrics_sample(b, "phpeek_pm_manager_processes", NULL, NULL, NULL,
	    NULL, (double)nprocs);
	metrics_family(b, "phpeek_pm_manager_start_time_seconds", "gauge",
	    "Unix time phpeekd's api started.");
	metrics_sample(b, "phpeek_pm_manager_start_time_seconds", NULL, NULL,
	    NULL, NULL, (double)api->a_start_time);
	metrics_family(b, "phpeek_pm_config_reloads_total", "counter",
	    "Configuration generations loaded, the first included.");
	metrics_sample(b, "phpeek_pm_config_reloads_total", NULL, NULL, NULL,
	    NULL, (double)api->a_reloads);
	metrics_family(b, "phpeek_pm_config_reload_failures_total", "counter",
	    "Configuration loads that failed and kept the running one.");
	metrics_sample(b, "phpeek_pm_config_reload_failures_total", NULL,
	    NULL, NULL, NULL, (double)api->a_reload_failures);
	metrics_family(b, "phpeek_pm_config_last_reload_successful", "gauge",
	    "Whether the last configuration load succeeded.");
	metrics_sample(b, "phpeek_pm_config_last_reload_successful", NULL,
	    NULL, NULL, NULL, api->a_last_reload_ok);
	metrics_family(b, "phpeek_pm_build_info", "gauge",
	    "Build information; always 1.");
	evbuffer_add_printf(b, "phpeek_pm_build_info{version=\"%s\","
	    "go_version=\"none\"} 1\n", PHPEEKD_VERSION);
}
