/*
 * phpeekd: shared structures, message types and prototypes.
 */

#ifndef PHPEEKD_H
#define PHPEEKD_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <sys/resource.h>

#include <event.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "imsg.h"
#include "log.h"

#ifndef __dead
#define __dead		__attribute__((__noreturn__))
#endif

#define PHPEEKD_VERSION		"0.1.0"
#define PHPEEKD_CONF		"/etc/phpeek-pm/phpeek-pm.yaml"
#define PHPEEKD_SOCKET		"/run/phpeekd.sock"

#define PROC_PARENT_SOCK_FILENO	3	/* a role's channel to the parent */
#define ROLE_CRASH_MAX		5	/* crashes allowed ... */
#define ROLE_CRASH_WINDOW	30	/* ... within this many seconds */
#define ROLE_RESTART_DELAY_MS	100	/* pause before a role restarts */
#define SHUTDOWN_GRACE_MS	500	/* parent's margin over the engine */
#define SHUTDOWN_REPEAT_MS	200	/* a repeat sooner is the same request */

/*
 * Payload limits per channel.  Configuration travels one process per
 * message, and a process with a long environment can be large, so the
 * channels that carry it get 256 KiB; engine <-> api deltas are small.
 */
#define IMSG_CFG_MAXSIZE	(256 * 1024)
#define IMSG_LINK_MAXSIZE	(64 * 1024)

#define CONF_FILE_MAX		(16 * 1024 * 1024)
#define CONF_NAME_MAX		128
#define CONF_SCALE_MAX		1000
#define LOG_LINE_LIMIT		(64 * 1024)	/* longer lines are split */

enum privsep_procid {
	PROC_PARENT = 0,
	PROC_CONFIG,
	PROC_ENGINE,
	PROC_API,
	PROC_MAX
};

/*
 * Every message in the protocol.  The comment names sender -> receiver;
 * a receiver treats any other type, or a payload of the wrong shape,
 * as a protocol error of the sender.
 */
enum imsg_type {
	IMSG_NONE = 0,
	IMSG_CTL_PROCFD,	/* parent -> engine, api: the peer link */
	IMSG_CTL_VERBOSE,	/* parent -> roles: new log level */
	IMSG_CFG_FD,		/* parent -> config: the file to parse */
	IMSG_CFG_BASE,		/* parent -> config: the file last loaded */
	IMSG_CFG_DIAG,		/* config -> parent: one diagnostic */
	IMSG_CFG_FAILED,	/* config -> parent: generation rejected */
	IMSG_CFG_GLOBAL,	/* config -> parent -> engine, api */
	IMSG_CFG_PROC,		/* config -> parent -> engine, api */
	IMSG_CFG_HOOK,		/* config -> parent -> engine, api */
	IMSG_CFG_DONE,		/* config -> parent -> engine, api */
	IMSG_ENGINE_START,	/* parent -> engine: adoption finished */
	IMSG_ADOPT,		/* parent -> engine: a running instance */
	IMSG_LOGFD,		/* parent -> engine: a log pipe's read end */
	IMSG_NOTIFYFD,		/* parent -> engine: readiness channel */
	IMSG_SPAWN,		/* engine -> parent: start an instance */
	IMSG_SPAWNED,		/* parent -> engine: it runs */
	IMSG_SPAWN_FAILED,	/* parent -> engine: it could not start */
	IMSG_KILL,		/* engine -> parent: u32 pid, sig, KILL_* */
	IMSG_EXIT,		/* parent -> engine: an instance ended */
	IMSG_EXIT_ACK,		/* engine -> parent: EXIT handled */
	IMSG_INSTANCE_FINAL,	/* engine <-> parent: ended for good */
	IMSG_SHUTDOWN,		/* parent -> engine: stop everything; api */
	IMSG_SHUTDOWN_DONE,	/* engine -> parent: everything stopped */
	IMSG_STATE_BEGIN,	/* engine -> api: a full snapshot follows */
	IMSG_STATE_HOOK,	/* engine -> api: a hook's counts */
	IMSG_STATE_RUN,		/* engine -> api: a job's run began or ended */
	IMSG_STATE_FPM,		/* engine -> api: a php-fpm status scrape */
	IMSG_STATE_PROC,	/* engine -> api: a process changed */
	IMSG_STATE_INSTANCE,	/* engine -> api: an instance changed */
	IMSG_STATE_GONE,	/* engine -> api: an instance was removed */
	IMSG_STATE_SAMPLE,	/* engine -> api: a resource sample */
	IMSG_LOG_LINE,		/* engine -> api: one line of output */
	IMSG_STATE_END,		/* engine -> api: the snapshot is complete */
	IMSG_CTL_REQUEST,	/* api -> engine: start, stop, scale... */
	IMSG_CTL_REPLY,		/* engine -> api: the outcome */
	IMSG_API_LISTENER,	/* parent -> api: a listening socket */
	IMSG_CTL_RELOAD,	/* api -> parent: reload the config file */
	IMSG_CTL_RELOAD_REPLY,	/* parent -> api: how the reload went */
	IMSG_CFG_RESULT,	/* parent -> api: a load succeeded/failed */
	IMSG_API_TLS,		/* parent -> api: a certificate, key or CA file */
	IMSG_CTL_EDIT,		/* api -> parent: add, update, remove, save */
	IMSG_CFG_EDIT,		/* parent -> config: one change to check */
	IMSG_CFG_SAVE,		/* parent -> config: the text to save */
	IMSG_CFG_SAVE_DATA,	/* config -> parent: part of that text */
	IMSG_CFG_SAVE_DONE,	/* config -> parent: u32 failed, str why */
	IMSG_CFG_CHECK,		/* parent -> config: a file to check only */
	IMSG_CFG_CHECKED,	/* config -> parent: u32 valid, str report */
	IMSG_READY_FILE,	/* engine -> parent: u8 the container is ready */
	IMSG_PROC_INTENT,	/* engine <-> parent: desired count, held */
	IMSG_SHUTDOWN_REQUEST,	/* engine -> parent: i32 the exit status */
	IMSG_MAX
};

/* One resource sample of an instance's main process (sample.c). */
struct sample {
	int64_t		sa_time;		/* unix ms */
	double		sa_cpu;			/* percent of one CPU */
	uint64_t	sa_rss;			/* bytes */
	uint64_t	sa_vms;
	double		sa_mem_percent;		/* of MemTotal */
	uint32_t	sa_threads;
	uint32_t	sa_fds;
};

/* A line of service output as the api keeps it (logs endpoint). */
#define LOG_RING_SIZE		1000
#define LOG_RING_LINE_MAX	8192

struct log_entry {
	int64_t		 le_time;		/* unix ms */
	uint32_t	 le_idx;		/* instance */
	uint8_t		 le_stream;		/* STREAM_* */
	uint8_t		 le_level;		/* LOG_LVL_* */
	char		*le_msg;
};

/* IMSG_API_LISTENER kinds */
enum listener_kind {
	LISTEN_CONTROL = 1,	/* the Unix control socket */
	LISTEN_API,		/* the TCP REST API */
	LISTEN_METRICS		/* the TCP metrics endpoint */
};

/* IMSG_CTL_REQUEST operations */
enum ctl_op {
	CTL_START = 1,
	CTL_STOP,
	CTL_RESTART,
	CTL_SCALE,		/* arg: desired instances */
	CTL_SIGNAL,		/* arg: signal number */
	CTL_PAUSE,		/* scheduled tasks */
	CTL_RESUME,
	CTL_TRIGGER,		/* arg: 1 to answer when the run ends */
	/* to the parent and the config role, not the engine */
	CTL_ADD = 10,		/* a process, as JSON */
	CTL_UPDATE,
	CTL_REMOVE,
	CTL_SAVE,		/* write the configuration file */
	CTL_VALIDATE		/* check it, apply nothing */
};

/*
 * Engine -> api state, the api's read model.  Each is one message;
 * strings are length-prefixed, numbers host order (see state.c).
 */
struct state_proc {
	char		sp_name[CONF_NAME_MAX];
	uint32_t	sp_desired;		/* instances wanted */
	uint32_t	sp_flags;
#define SPF_LAUNCHED	0x01
#define SPF_BLOCKED	0x02
#define SPF_READY	0x04	/* what dependants wait for holds */
#define SPF_PAUSED	0x08	/* a scheduled task, paused */
#define HC_BUCKETS	7	/* health check duration histogram */
	uint64_t	sp_restarts_crash;
	uint64_t	sp_restarts_normal;
	uint64_t	sp_restarts_health;
	int64_t		sp_next_run;		/* scheduled tasks: unix s */
	int64_t		sp_last_run;
	int32_t		sp_last_exit;
	uint64_t	sp_runs_ok;
	uint64_t	sp_runs_failed;
	uint64_t	sp_runs_skipped;
	uint32_t	sp_hc_type;		/* HC_*, HC_NONE: no check */
	uint32_t	sp_hc_last_ok;
	uint32_t	sp_hc_fails;		/* consecutive */
	uint64_t	sp_hc_passed;
	uint64_t	sp_hc_failed;
	uint64_t	sp_hc_sum_us;
	uint64_t	sp_hc_hist[HC_BUCKETS];	/* per bucket, not cumulative */
	uint64_t	sp_hb_ok;		/* heartbeat pings */
	uint64_t	sp_hb_failed;
	int64_t		sp_hb_last;
};

/* The last scrape of a php-fpm pool's status page (fpm.c). */
struct state_fpm {
	char		sf_proc[CONF_NAME_MAX];
	char		sf_socket[256];
	char		sf_pool[128];
	char		sf_pm[16];
	uint32_t	sf_up;
	uint64_t	sf_failures;
	int64_t		sf_duration_us;
	int64_t		sf_start_time;
	int64_t		sf_start_since;
	uint64_t	sf_accepted;
	uint64_t	sf_listen_queue;
	uint64_t	sf_max_listen_queue;
	int64_t		sf_listen_queue_len;
	int64_t		sf_idle;
	int64_t		sf_active;
	int64_t		sf_total;
	int64_t		sf_max_active;
	uint64_t	sf_max_children_reached;
	uint64_t	sf_slow_requests;
	uint64_t	sf_memory_peak;		/* 0: not reported */
	uint32_t	sf_ping_up;
	uint32_t	sf_opcache_enabled;
	uint32_t	sf_oc_cache_full;
	uint64_t	sf_oc_used;
	uint64_t	sf_oc_free;
	uint64_t	sf_oc_wasted;
	uint64_t	sf_oc_scripts;
	uint64_t	sf_oc_hits;
	uint64_t	sf_oc_misses;
	uint64_t	sf_oc_oom;
};

/*
 * One worker of that scrape, with fpm_metrics.per_process: the figures
 * that are safe to export, never the request's uri or script.
 */
struct state_fpm_proc {
	int64_t		sfp_pid;
	uint32_t	sfp_state;		/* enum fpm_state */
	uint64_t	sfp_requests;
	uint64_t	sfp_duration;		/* us */
	double		sfp_cpu;		/* %, finite, >= 0 */
	uint64_t	sfp_memory;		/* bytes */
};

/* One run of a scheduled task or a one-shot (run.c). */
#define RUN_SCHEDULED	0
#define RUN_ONESHOT	1
struct state_run {
	char		sr_proc[CONF_NAME_MAX];
	char		sr_inst[CONF_NAME_MAX + 16];
	uint32_t	sr_id;			/* per process, from 1 */
	uint32_t	sr_kind;		/* RUN_* */
	uint32_t	sr_manual;		/* through the API */
	int64_t		sr_start_ms;		/* unix ms */
	int64_t		sr_end_ms;		/* 0 while it runs */
	int32_t		sr_exit;		/* -1: a signal */
};

/* A hook's runs, by name and type, for the metrics. */
#define HOOK_BUCKETS	8	/* .1 .5 1 5 10 30 60 120 seconds */
#define HOOK_STATS_MAX	128	/* hooks counted; more are not */
struct state_hook {
	char		sh_name[CONF_NAME_MAX];
	uint32_t	sh_type;		/* pre_start ... post_stop */
	uint64_t	sh_ok;
	uint64_t	sh_failed;
	uint64_t	sh_sum_ms;
	uint64_t	sh_hist[HOOK_BUCKETS];	/* per bucket */
};

struct state_instance {
	char		sti_proc[CONF_NAME_MAX];
	uint32_t	sti_idx;
	uint32_t	sti_state;		/* enum inst_state */
	int64_t		sti_pid;			/* -1 when not running */
	uint32_t	sti_restarts;
	int64_t		sti_started;		/* unix time, 0 if never */
	int32_t		sti_exit_code;		/* -1: signal or none yet */
	int32_t		sti_exited;		/* has ended at least once */
};

enum restart_policy {
	RESTART_ALWAYS = 0,
	RESTART_ON_FAILURE,
	RESTART_NEVER
};

enum proc_type {
	PTYPE_LONGRUN = 0,
	PTYPE_ONESHOT
};

enum log_stream {
	STREAM_STDOUT = 1,
	STREAM_STDERR = 2
};

/*
 * The configuration, as every role holds it.  Only plain values and
 * strings: it crosses role boundaries through config_send/config_recv,
 * never as memory.
 */
struct strlist {
	char		**sl_v;
	size_t		  sl_n;
};

enum health_type {
	HC_NONE = 0,
	HC_TCP,
	HC_HTTP,
	HC_EXEC
};

enum health_mode {
	HC_MODE_BOTH = 0,	/* gates dependants and restarts */
	HC_MODE_LIVENESS,	/* restarts only */
	HC_MODE_READINESS	/* gates dependants; restarts as well */
};

struct health_conf {
	int			 hc_type;
	int			 hc_mode;
	char			*hc_address;		/* tcp host:port */
	char			*hc_url;		/* http */
	struct strlist		 hc_command;		/* exec */
	int			 hc_initial_delay;	/* seconds */
	int			 hc_period;
	int			 hc_timeout;
	int			 hc_failure_threshold;
	int			 hc_success_threshold;
	int			 hc_expected_status;
};

/* logintel.c */
#define LOGINTEL_ENTRY_MAX	(64 * 1024)	/* longer entries are cut */
#define LOGINTEL_CUT_MARK	" [truncated]"	/* ends a cut entry */
#define LOGINTEL_PLACEHOLDER	"***REDACTED***" /* built-in redaction */
#define LOGINTEL_REPLACEMENT	"***"		/* a pattern's default */
#define LOGINTEL_FIELDS_MAX	32		/* merged JSON fields kept */
#define LOGINTEL_KEY_MAX	128		/* a field's key, cut past */
#define LOGINTEL_VALUE_MAX	1024		/* a field's value, cut past */
/* a flush leaves at most one line pending: one call, one entry */
#define LOGINTEL_OUT_MAX	1
#define LOGINTEL_MATCH_LIMIT	1000000		/* backtracking steps */
#define LOGINTEL_DEPTH_LIMIT	100000
#define LOGINTEL_HEAP_LIMIT	8192		/* KiB per match */

/* One redaction.patterns[] item. */
struct logintel_redact {
	char	*lr_name;
	char	*lr_pattern;		/* must not be empty */
	char	*lr_replacement;	/* NULL or "": LOGINTEL_REPLACEMENT */
};

/*
 * A process's logging: keys, defaults (logintel_conf_init) and zero
 * values as phpeek-pm has them.  Pointers stay the caller's:
 * logintel_new copies what it keeps.
 */
struct logintel_conf {
	int			 lc_min_level;		/* LOG_LVL_INFO */

	int			 lc_redact_enabled;
	struct logintel_redact	*lc_redact;
	size_t			 lc_nredact;

	int			 lc_ml_enabled;
	char			*lc_ml_pattern;		/* NULL/"": built-in */
	int			 lc_ml_max_lines;	/* 100; 0 is 100 */
	int			 lc_ml_timeout;		/* s, 1; 0 is 1 */

	int			 lc_json_enabled;
	int			 lc_json_detect_auto;
	int			 lc_json_extract_level;
	int			 lc_json_extract_message;
	int			 lc_json_merge_fields;

	int			 lc_ld_enabled;
	char			*lc_ld_patterns[LOG_LVL_DEBUG + 1]; /* by level */
	int			 lc_ld_default;		/* LOG_LVL_INFO */

	struct strlist		 lc_exclude;
	struct strlist		 lc_include;
};

/* A merged JSON field: strings as text, anything else as JSON. */
struct logintel_field {
	const char	*lf_key;
	const char	*lf_value;		/* NUL-terminated */
	size_t		 lf_vlen;		/* may hold a NUL */
	int		 lf_json;		/* a number, object, ... */
};

#define LOGINTEL_F_CUT		0x01	/* cut at LOGINTEL_ENTRY_MAX */
#define LOGINTEL_F_JSON		0x02	/* parsed as a JSON object */
#define LOGINTEL_F_REDACTED	0x04	/* something was replaced */
#define LOGINTEL_F_TIMEOUT	0x08	/* multiline: ended by the timeout */
#define LOGINTEL_F_FIELDS_CUT	0x10	/* fields dropped or cut */
#define LOGINTEL_F_LIMIT	0x20	/* a regex gave up at its limit */

/* A finished entry: valid until the next call on its logintel. */
struct logintel_entry {
	const char		*ie_msg;	/* NUL-terminated */
	size_t			 ie_len;
	int			 ie_level;	/* LOG_LVL_* */
	int			 ie_lines;	/* lines it was made of */
	int			 ie_flags;	/* LOGINTEL_F_* */
	const struct logintel_field *ie_fields;
	size_t			 ie_nfields;
};

struct logintel_out {
	struct logintel_entry	 lo_ent[LOGINTEL_OUT_MAX];
	int			 lo_n;
};

struct logintel_stats {
	uint64_t	ls_lines;		/* lines in */
	uint64_t	ls_entries;		/* entries out */
	uint64_t	ls_drop_level;		/* below min_level */
	uint64_t	ls_drop_exclude;
	uint64_t	ls_drop_include;
	uint64_t	ls_cut;			/* entries cut */
	uint64_t	ls_redactions;		/* replacements made */
	uint64_t	ls_json;		/* entries parsed as JSON */
	uint64_t	ls_fields_cut;		/* fields dropped or cut */
	uint64_t	ls_timeouts;		/* multiline flushed by age */
	uint64_t	ls_limit;		/* regex runs given up */
};

struct logintel;

extern int	 logintel_jit;
void	 logintel_conf_init(struct logintel_conf *);
int	 logintel_level(const char *);
const char *logintel_level_name(int);
struct logintel *logintel_new(const struct logintel_conf *, char *, size_t);
void	 logintel_free(struct logintel *);
int	 logintel_line(struct logintel *, const char *, size_t, int64_t,
	    struct logintel_out *);
int	 logintel_flush(struct logintel *, int64_t, int,
	    struct logintel_out *);
int64_t	 logintel_deadline(const struct logintel *);
const struct logintel_stats *logintel_stats(const struct logintel *);

/* An address or CIDR block of an ACL (acl.c); no pointers: it travels. */
#define ACL_MAX		64	/* entries per list */
struct acl_net {
	uint8_t			 an_af;		/* AF_INET, AF_INET6 */
	uint8_t			 an_bits;	/* prefix length */
	uint8_t			 an_addr[16];	/* network part only */
};

struct acl_conf {
	int			 acl_enabled;
	int			 acl_deny_mode;	/* else allow mode */
	int			 acl_trust_proxy;	/* X-Forwarded-For */
	uint32_t		 acl_nallow;
	uint32_t		 acl_ndeny;
	struct acl_net		 acl_allow[ACL_MAX];
	struct acl_net		 acl_deny[ACL_MAX];
};

/* api_tls, metrics_tls: the parent opens the files, the api reads them. */
#define TLS_FILE_MAX	(1024 * 1024)	/* bytes of PEM per file */
enum tls_file {
	TLS_CERT = 0,
	TLS_KEY,
	TLS_CA,
	TLS_NFILES
};
struct tls_conf {
	int			 tls_enabled;
	int			 tls_client_auth;	/* none request require verify */
	int			 tls_min_version;	/* 0..3: TLS 1.0..1.3 */
	char			 tls_file[TLS_NFILES][PATH_MAX];
};

/* A PHP-FPM pool's status page, scraped over FastCGI (fpm.c). */
struct fpm_conf {
	char			*fm_socket;	/* host:port or /path; NULL: off */
	char			*fm_status_path;	/* default /status */
	int			 fm_interval;	/* seconds */
	int			 fm_timeout;	/* seconds */
	char			*fm_ping_path;	/* NULL: no ping */
	int			 fm_opcache;	/* run the OPcache script */
	int			 fm_per_process;	/* phpfpm_process_* */
};
/* written by the parent, run by the pool: see fpm.c */
#define FPM_OPCACHE_DIR		"/run/phpeekd/fpm"
#define FPM_OPCACHE_SCRIPT	FPM_OPCACHE_DIR "/phpeekd-opcache.php"

/* Dead man's switch pings of a scheduled task (heartbeat.c). */
struct heartbeat_conf {
	char			*hb_url;	/* /start, itself, /fail */
	char			*hb_success_url;	/* instead of url */
	char			*hb_failure_url;	/* instead of url/fail */
	char			*hb_method;	/* NULL: POST */
	struct strlist		 hb_headers;	/* "Name=value" */
	int			 hb_timeout;	/* seconds */
	int			 hb_retry_count;
	int			 hb_retry_delay;	/* seconds */
};

/* A lifecycle hook: global (by phase) or a process's pre_stop_hook. */
enum hook_phase {
	HOOK_PRE_START = 0,
	HOOK_POST_START,
	HOOK_PRE_STOP,
	HOOK_POST_STOP,
	HOOK_PROC_PRE_STOP,	/* shutdown.pre_stop_hook of a process */
	HOOK_NPHASES
};

struct hook_conf {
	TAILQ_ENTRY(hook_conf)	 hk_entry;
	int			 hk_phase;
	uint32_t		 hk_idx;	/* position in its phase */
	char			 hk_name[CONF_NAME_MAX];
	struct strlist		 hk_command;
	struct strlist		 hk_env;	/* KEY=VALUE */
	char			*hk_workdir;
	int			 hk_timeout;	/* seconds */
	int			 hk_retry;
	int			 hk_retry_delay;	/* seconds */
	int			 hk_continue;	/* continue_on_error */
};
TAILQ_HEAD(hook_confs, hook_conf);

struct proc_conf {
	TAILQ_ENTRY(proc_conf)	 pc_entry;
	char			 pc_name[CONF_NAME_MAX];
	int			 pc_enabled;
	int			 pc_type;
	int			 pc_restart;
	int			 pc_scale;
	int			 pc_priority;
	int			 pc_stop_signal;
	int			 pc_stop_timeout;	/* seconds */
	int			 pc_umask;		/* -1: inherit */
	struct strlist		 pc_command;
	struct strlist		 pc_env;		/* KEY=VALUE */
	struct strlist		 pc_depends;
	char			*pc_workdir;
	char			*pc_user;
	char			*pc_group;
	int			 pc_initial_stopped;	/* initial_state */
	struct health_conf	 pc_health;
	struct hook_conf	*pc_pre_stop;	/* or NULL */
	char			*pc_schedule;	/* cron expression or NULL */
	int64_t			 pc_schedule_timeout_ms;	/* 0: none */
	int			 pc_schedule_max;	/* concurrent runs, 0: any */
	struct heartbeat_conf	 pc_heartbeat;
	struct fpm_conf		 pc_fpm;
	struct logintel_conf	 pc_li;		/* the log pipeline */
	int			 pc_li_on;	/* any of it enabled */
	int			 pc_ready;	/* READY_* */
	int			 pc_ready_fd;	/* READY_FD: its number */
	int			 pc_ready_tracked;	/* counts for the file */
	int			 pc_on_success;	/* ACTION_*: it ended, status 0 */
	int			 pc_on_failure;	/* ACTION_*: it failed for good */
	uint32_t		 pc_signals;	/* routed to it: 1 << signo */
};

#define READY_NONE	0	/* ready when running (and healthy) */
#define READY_NOTIFY	1	/* sd_notify READY=1 on NOTIFY_SOCKET */
#define READY_FD	2	/* s6: a newline on fd pc_ready_fd */
TAILQ_HEAD(proc_confs, proc_conf);

/* IMSG_KILL: pid, signal, and whom of the instance it goes to */
#define KILL_GROUP		0	/* its process group: a stop */
#define KILL_MAIN		1	/* its main process: a request */

/* processes.*.on_success, on_failure */
#define ACTION_CONTINUE		0
#define ACTION_SHUTDOWN		1

/* Signals global.signal_routes may send on to processes. */
#define SIGNALS_ROUTABLE	((1U << SIGHUP) | (1U << SIGUSR1) | \
				    (1U << SIGUSR2) | (1U << SIGWINCH))

/* global.readiness.mode */
#define READYFILE_ALL_HEALTHY	0
#define READYFILE_ALL_RUNNING	1
#define READYFILE_CONTENT_MAX	4096
#define READYFILE_PATH		"/tmp/phpeek-ready"

struct global_conf {
	int		 gc_shutdown_timeout;		/* seconds */
	int64_t		 gc_shutdown_delay_ms;	/* readiness gone, then stop */
	int		 gc_restart_policy;
	int		 gc_max_restart_attempts;
	int64_t		 gc_backoff_initial_ms;
	int64_t		 gc_backoff_max_ms;
	int		 gc_restart_now;	/* first restart at once */
	int		 gc_log_format;
	int		 gc_log_level;
	int		 gc_api_enabled;
	int		 gc_api_port;
	char		 gc_api_socket[PATH_MAX];	/* "" = none */
	char		 gc_api_auth[256];		/* bearer token */
	int64_t		 gc_api_max_body;
	struct acl_conf	 gc_api_acl;
	struct acl_conf	 gc_metrics_acl;
	struct tls_conf	 gc_api_tls;
	struct tls_conf	 gc_metrics_tls;
	double		 gc_autotune_threshold;		/* 0: the profile's */
	int64_t		 gc_started;	/* unix s the daemon started: parent */
	int		 gc_metrics_enabled;
	int		 gc_metrics_port;
	char		 gc_metrics_path[256];
	int		 gc_resource_enabled;
	int		 gc_resource_interval;		/* seconds */
	int		 gc_resource_max_samples;
	/* the readiness file: written by the parent, judged by the engine */
	int		 gc_ready_enabled;
	int		 gc_ready_mode;			/* READYFILE_* */
	char		 gc_ready_path[PATH_MAX];
	char		 gc_ready_content[READYFILE_CONTENT_MAX];
};

struct phpeekd_conf {
	uint32_t		 cf_generation;
	struct global_conf	 cf_global;
	struct proc_confs	 cf_procs;
	size_t			 cf_nprocs;
	struct hook_confs	 cf_hooks;	/* global hooks, in order */
};

/* One channel: an imsgbuf and its libevent event. */
struct imsgev {
	struct imsgbuf		 ibuf;
	struct event		 ev;
	struct event		 flush;		/* after this round's callbacks */
	int			 flushing;
	short			 events;
	int			 alive;
	enum privsep_procid	 peer;
	struct privsep		*ps;
};

/*
 * One row of a role's peer table.  The dispatch function returns 0
 * when it handled the message and -1 for a message it does not accept,
 * which proc.c treats as a protocol violation of the sender.
 */
struct privsep_proc {
	const char		*p_title;
	enum privsep_procid	 p_id;
	int			(*p_cb)(struct imsgev *, struct imsg *);
};

struct role_state {
	pid_t			 rs_pid;
	struct imsgev		*rs_iev;
	time_t			 rs_crashes[ROLE_CRASH_MAX + 1];
	int			 rs_ncrashes;
	struct event		 rs_restart;
	int			 rs_stopping;
	int			 rs_violated;	/* regress: -T passed once */
	int			 rs_load;	/* DL_*: -L at its next start */
	int			 rs_replace;	/* killed to load a library */
	int			 rs_retired;	/* sent away: its end is no crash */
};

struct privsep {
	enum privsep_procid	 ps_id;		/* who am I */
	struct imsgev		*ps_iev[PROC_MAX];	/* my channels */
	struct privsep_proc	*ps_procs;	/* my peers' table */
	size_t			 ps_nprocs;
	struct role_state	 ps_roles[PROC_MAX];	/* parent only */
	int			 ps_verbose;
	int			 ps_debug;
	const char		*ps_exe;
	void			(*ps_lost)(struct privsep *,
				    enum privsep_procid);
	void			(*ps_started)(struct privsep *,
				    enum privsep_procid);
};

extern struct privsep	*privsep;
extern const char	*proc_titles[PROC_MAX];

/* proc.c */
void	 proc_init_parent(struct privsep *, const char *, int, int);
int	 proc_start_role(struct privsep *, enum privsep_procid);
void	 proc_retire_role(struct privsep *, enum privsep_procid);
int	 proc_wake_role(struct privsep *, enum privsep_procid);
void	 proc_role_main(struct privsep *, enum privsep_procid, void (*)(void));
void	 proc_role_channel(struct privsep *, struct privsep_proc *, size_t);
__dead void proc_role_run(struct privsep *);
struct imsgev *proc_channel(struct privsep *, enum privsep_procid, int,
	    size_t, int);
void	 proc_channel_close(struct imsgev *);
int	 proc_compose(struct privsep *, enum privsep_procid, uint32_t,
	    uint32_t, int, const void *, size_t);
struct ibuf *proc_create(struct privsep *, enum privsep_procid, uint32_t,
	    uint32_t, size_t);
int	 proc_close(struct privsep *, enum privsep_procid, struct ibuf *);
void	 imsg_event_add(struct imsgev *);
enum privsep_procid proc_getid(const char *);
int	 proc_role_died(struct privsep *, pid_t, int,
	    const struct rusage *);
const char *imsg_type_name(uint32_t);

/* config.c */
void	 config_role(void);
struct phpeekd_conf *config_new(void);
void	 config_free(struct phpeekd_conf *);
void	 config_defaults(struct global_conf *);
void	 config_health_defaults(struct health_conf *);
struct hook_conf *config_hook_new(int, uint32_t);
void	 config_hook_free(struct hook_conf *);
struct hook_conf *config_hook_find(struct phpeekd_conf *, const char *, int,
	    uint32_t);
const char *hook_phase_name(int);
struct proc_conf *config_proc_new(const char *);
void	 config_proc_free(struct proc_conf *);
struct proc_conf *config_proc_find(struct phpeekd_conf *, const char *);
int	 config_send(struct privsep *, enum privsep_procid,
	    struct phpeekd_conf *);
int	 config_recv(struct phpeekd_conf **, struct imsg *);
int	 config_proc_equal(const struct proc_conf *, const struct proc_conf *);
struct parse_result;
void	 config_send_result(struct privsep *, uint32_t, int,
	    struct parse_result *);

/* parse.c */
struct diag {
	TAILQ_ENTRY(diag)	 d_entry;
	int			 d_severity;
#define DIAG_ERROR		 0
#define DIAG_WARNING		 1
#define DIAG_SUGGESTION		 2
	int			 d_line;
	int			 d_col;
	char			*d_msg;
};
TAILQ_HEAD(diags, diag);

/* A change made through the API, kept by the config role (edit.c). */
struct cfg_edit {
	TAILQ_ENTRY(cfg_edit)	 ce_entry;
	char			 ce_name[CONF_NAME_MAX];
	char			*ce_json;	/* the process; NULL: removed */
};
TAILQ_HEAD(cfg_edits, cfg_edit);

struct parse_result {
	struct phpeekd_conf	*pr_conf;
	struct diags		 pr_diags;
	int			 pr_errors;
	int			 pr_warnings;
};
int	 parse_config(const char *, const char *, size_t,
	    struct parse_result *);
int	 parse_config_edits(const char *, const char *, size_t,
	    const struct cfg_edits *, struct parse_result *);
int	 parse_emit(const char *, size_t, const struct cfg_edits *,
	    char **, size_t *, char *, size_t);
void	 parse_result_clear(struct parse_result *);
void	 diag_add(struct diags *, int, int, int, const char *, ...)
	    __attribute__((__format__(printf, 5, 6)));

/* autotune.c */
#define AUTOTUNE_PM_STATIC	0
#define AUTOTUNE_PM_DYNAMIC	1
#define AUTOTUNE_CPUS_MAX	65536	/* more than Linux supports */
#define AUTOTUNE_WARN_MAX	8	/* every warning can occur at once */
#define AUTOTUNE_WARN_LEN	256

struct autotune_profile {
	const char	*ap_name;		/* dev, light, ... */
	int		 ap_pm;			/* AUTOTUNE_PM_* */
	int		 ap_worker_mb;		/* average per worker */
	int		 ap_opcache_mb;		/* shared by all workers */
	int		 ap_reserved_mb;	/* web server, system */
	int		 ap_min_workers;
	int		 ap_max_workers;	/* 0: no profile cap */
	double		 ap_start_ratio;	/* of max_children */
	double		 ap_min_spare_ratio;
	double		 ap_max_spare_ratio;
	int		 ap_max_requests;
	double		 ap_max_memory;		/* default threshold */
};

struct autotune_resources {
	int64_t		 ar_memory_mb;
	int		 ar_cpus;		/* 1..AUTOTUNE_CPUS_MAX */
	int		 ar_cpu_quota;		/* cpus came from a quota */
	int		 ar_containerised;	/* a memory limit was found */
	int		 ar_cgroup;		/* 2, 1, or 0 for the host */
};

struct autotune_result {
	const struct autotune_profile *at_profile;
	int		 at_pm;
	int		 at_max_children;
	int		 at_start_servers;	/* static: max_children */
	int		 at_min_spare;		/* dynamic only */
	int		 at_max_spare;		/* dynamic only */
	int		 at_max_requests;
	double		 at_threshold;		/* the one applied */
	int		 at_override;		/* it was not the profile's */
	int64_t		 at_mem_workers;	/* max_children x worker */
	int		 at_mem_opcache;
	int		 at_mem_reserved;
	int64_t		 at_mem_total;
	int		 at_cpus;
	int		 at_nwarnings;
	char		 at_warnings[AUTOTUNE_WARN_MAX][AUTOTUNE_WARN_LEN];
};

int	 autotune_profile(const char *, const struct autotune_profile **,
	    char *, size_t);
int	 autotune_detect(const char *, struct autotune_resources *, char *,
	    size_t);
int	 autotune_compute(const struct autotune_profile *,
	    const struct autotune_resources *, double, struct autotune_result *,
	    char *, size_t);
int	 autotune_export(const struct autotune_result *);
void	 autotune_log(const struct autotune_result *);
void	 autotune_print(FILE *, const char *, const char *,
	    const struct autotune_result *, const char *);


/* fcgi.c */
#define FCGI_VERSION_1		1
#define FCGI_BEGIN_REQUEST	1
#define FCGI_ABORT_REQUEST	2
#define FCGI_END_REQUEST	3
#define FCGI_PARAMS		4
#define FCGI_STDIN		5
#define FCGI_STDOUT		6
#define FCGI_STDERR		7
#define FCGI_DATA		8
#define FCGI_GET_VALUES		9
#define FCGI_GET_VALUES_RESULT	10
#define FCGI_UNKNOWN_TYPE	11
#define FCGI_RESPONDER		1
#define FCGI_HEADER_LEN		8
#define FCGI_CONTENT_MAX	65535
#define FCGI_NV_MAX		0x7fffffffU	/* longest name or value */
#define FCGI_STATUS_MAX		(4 * 1024 * 1024)	/* status STDOUT */
#define FCGI_OPCACHE_MAX	(1024 * 1024)		/* OPcache STDOUT */
#define FCGI_STDERR_MAX		4096	/* kept; the rest is read, dropped */
#define FCGI_HEADER_MAX		8192	/* CGI header block */
#define FCGI_NHEADERS		32
#define FCGI_ERR_MAX		128

/* A growable byte buffer; all zeroes is a valid empty one. */
struct fcgi_buf {
	uint8_t		*fb_data;
	size_t		 fb_len;
	size_t		 fb_cap;
};

/* The 8-byte record header, decoded. */
struct fcgi_rec {
	uint8_t		 rc_version;
	uint8_t		 rc_type;
	uint16_t	 rc_id;
	uint16_t	 rc_clen;
	uint8_t		 rc_plen;
};

/* One name-value pair, pointing into the decoded stream. */
struct fcgi_nv {
	const uint8_t	*nv_name;
	size_t		 nv_namelen;
	const uint8_t	*nv_value;
	size_t		 nv_valuelen;
};

/*
 * The CGI response in STDOUT.  Header names and values live, NUL
 * terminated, in fr_hbuf; fr_body points into the bytes parsed.
 */
struct fcgi_response {
	int		 fr_status;		/* 200 when no Status: */
	char		 fr_reason[64];
	size_t		 fr_nheaders;
	struct {
		uint16_t	 fh_name;	/* offsets into fr_hbuf */
		uint16_t	 fh_value;
	}		 fr_headers[FCGI_NHEADERS];
	char		 fr_hbuf[FCGI_HEADER_MAX];
	const char	*fr_body;
	size_t		 fr_bodylen;
};

enum fcgi_pstate {
	FCGI_PS_HEADER = 0,
	FCGI_PS_CONTENT,
	FCGI_PS_PADDING,
	FCGI_PS_DONE,
	FCGI_PS_ERROR
};

/* Resumable at any byte: feed it whatever a read returned. */
struct fcgi_parser {
	enum fcgi_pstate	 fp_state;
	uint16_t		 fp_id;		/* our request */
	size_t			 fp_max;	/* STDOUT cap */
	uint8_t			 fp_hdr[FCGI_HEADER_LEN];
	size_t			 fp_hlen;	/* header bytes held */
	struct fcgi_rec		 fp_rec;	/* the record being read */
	size_t			 fp_left;	/* content or padding to go */
	uint8_t			 fp_body[8];	/* END_REQUEST, UNKNOWN_TYPE */
	size_t			 fp_blen;
	int			 fp_stdout_end;	/* empty STDOUT seen */
	struct fcgi_buf		 fp_stdout;
	struct fcgi_buf		 fp_stderr;	/* at most FCGI_STDERR_MAX */
	size_t			 fp_stderr_lost;
	uint32_t		 fp_app_status;
	uint8_t			 fp_proto_status;
	struct fcgi_response	 fp_resp;	/* valid once complete */
	char			 fp_err[FCGI_ERR_MAX];
};

int	 fcgi_buf_add(struct fcgi_buf *, const void *, size_t);
void	 fcgi_buf_free(struct fcgi_buf *);
void	 fcgi_rec_decode(const uint8_t [FCGI_HEADER_LEN], struct fcgi_rec *);
int	 fcgi_record(struct fcgi_buf *, uint8_t, uint16_t, const void *,
	    size_t);
size_t	 fcgi_nv_len(uint8_t [4], size_t);
int	 fcgi_nv_add(struct fcgi_buf *, const char *, const char *);
int	 fcgi_nv_next(const uint8_t *, size_t, size_t *, struct fcgi_nv *);
int	 fcgi_request_pairs(struct fcgi_buf *, uint16_t, const char *const *,
	    size_t);
int	 fcgi_request(struct fcgi_buf *, uint16_t, const char *,
	    const char *);
void	 fcgi_parser_init(struct fcgi_parser *, uint16_t, size_t);
void	 fcgi_parser_free(struct fcgi_parser *);
int	 fcgi_feed(struct fcgi_parser *, const void *, size_t);
int	 fcgi_eof(struct fcgi_parser *);
int	 fcgi_cgi_parse(const void *, size_t, struct fcgi_response *, char *,
	    size_t);
const char *fcgi_header(const struct fcgi_response *, const char *);

/* php-fpm's status page, ?json&full */
#define FPM_PROCS_MAX		128	/* per-process entries kept */

enum fpm_state {
	FPM_STATE_UNKNOWN = 0,
	FPM_STATE_IDLE,
	FPM_STATE_READING,		/* Reading headers */
	FPM_STATE_INFO,			/* Getting request information */
	FPM_STATE_RUNNING,
	FPM_STATE_FINISHING,
	FPM_STATE_ENDING,
	FPM_STATE_MAX
};

enum fpm_pm {
	FPM_PM_UNKNOWN = 0,
	FPM_PM_STATIC,
	FPM_PM_DYNAMIC,
	FPM_PM_ONDEMAND
};

/* Strings are cut to fit; request uri may hold secrets: never export. */
struct fpm_proc {
	int64_t		 ps_pid;
	enum fpm_state	 ps_state;
	char		 ps_state_name[32];	/* as the server sent it */
	int64_t		 ps_start_time;		/* unix s */
	int64_t		 ps_start_since;	/* s */
	uint64_t	 ps_requests;
	uint64_t	 ps_duration;		/* us */
	char		 ps_method[16];
	char		 ps_uri[128];
	uint64_t	 ps_content_length;
	char		 ps_user[32];
	char		 ps_script[128];
	double		 ps_cpu;		/* %, last request, 0 if busy */
	uint64_t	 ps_memory;		/* bytes, ditto */
};

struct fpm_status {
	char		 fs_pool[128];
	char		 fs_pm_name[16];
	enum fpm_pm	 fs_pm;
	int64_t		 fs_start_time;		/* unix s; changes on reload */
	int64_t		 fs_start_since;
	uint64_t	 fs_accepted_conn;
	uint64_t	 fs_listen_queue;
	uint64_t	 fs_max_listen_queue;
	int64_t		 fs_listen_queue_len;
	int64_t		 fs_idle;
	int64_t		 fs_active;		/* counts the status request */
	int64_t		 fs_total;
	int64_t		 fs_max_active;
	uint64_t	 fs_max_children_reached;	/* episodes */
	uint64_t	 fs_slow_requests;
	uint64_t	 fs_memory_peak;
	int		 fs_has_memory_peak;	/* PHP >= 8.4 */
	int		 fs_has_procs;		/* "processes" was present */
	size_t		 fs_nprocs;		/* kept in fs_procs */
	size_t		 fs_procs_more;		/* valid, beyond the cap */
	size_t		 fs_procs_bad;		/* malformed, skipped */
	size_t		 fs_states[FPM_STATE_MAX];	/* kept and more */
	char		 fs_procs_err[FCGI_ERR_MAX];	/* first skip */
	struct fpm_proc	 fs_procs[FPM_PROCS_MAX];
};

enum fpm_state fpm_state_parse(const char *);
const char *fpm_state_name(enum fpm_state);
int	 fpm_state_busy(enum fpm_state);
int	 fpm_status_parse(const char *, size_t, struct fpm_status *, char *,
	    size_t);
int	 fpm_ping_match(const char *, size_t, const char *);
int	 fpm_ping_ok(const char *, size_t);

/* acl.c */
int	 acl_net_parse(const char *, struct acl_net *);
int	 acl_match(const struct acl_net *, uint32_t, int, const void *);
int	 acl_allows(const struct acl_conf *, int, const void *);
int	 acl_addr_parse(const char *, int *, uint8_t [16]);

/* framework.c */
const char *framework_detect(const char *);
const char *framework_setup(void);

/* edit.c */
void	 edit_file(char *, size_t);
int	 edit_request(struct privsep *, struct imsg *);
int	 edit_save(struct privsep *, struct imsg *);

/* cron.c */
struct cron {
	uint64_t	 cr_bits[5];	/* minute hour dom month dow */
	int		 cr_dom_star;
	int		 cr_dow_star;
	char		 cr_tz[64];	/* CRON_TZ= prefix, "" for local */
};
int	 cron_parse(const char *, struct cron *, char *, size_t);
int	 cron_match(const struct cron *, const struct tm *);
int64_t	 cron_next(const struct cron *, int64_t);

/* engine.c, process.c, logpipe.c */
enum inst_state {
	IST_STOPPED = 0,
	IST_STARTING,
	IST_RUNNING,
	IST_STOPPING,
	IST_BACKOFF,
	IST_EXITED,
	IST_FAILED,
	IST_COMPLETED
};

struct eproc;

struct logpipe {
	struct event		 lp_ev;
	int			 lp_fd;
	int			 lp_stream;
	char			 lp_proc[CONF_NAME_MAX];
	char			 lp_inst[CONF_NAME_MAX + 16];
	char			*lp_buf;
	size_t			 lp_len;
	uint64_t		 lp_lines;
	struct logintel		*lp_li;		/* the process's pipeline */
	struct event		 lp_li_ev;	/* a multiline entry's age */
	int			 lp_li_armed;
	TAILQ_ENTRY(logpipe)	 lp_entry;
};
TAILQ_HEAD(logpipes, logpipe);

struct instance {
	RB_ENTRY(instance)	 in_node;	/* by pid */
	struct eproc		*in_proc;
	int			 in_idx;
	char			 in_id[CONF_NAME_MAX + 16];
	pid_t			 in_pid;
	enum inst_state		 in_state;
	uint32_t		 in_token;	/* SPAWN request id */
	int			 in_restarts;
	int64_t			 in_started;	/* monotonic ms */
	int			 in_status;	/* last wait status */
	int64_t			 in_started_wall; /* unix time */
	int			 in_exit_code;	/* -1: signal or none */
	int			 in_exited;	/* ended at least once */
	int			 in_respawn;	/* start again on exit */
	uint64_t		 in_cpu_ticks;	/* last sample's utime+stime */
	int64_t			 in_cpu_when;	/* and when, monotonic ms */
	int			 in_remove;	/* scaled away: free on exit */
	int			 in_hooking;	/* pre_stop_hook runs */
	int			 in_ready;	/* said so itself */
	uint32_t		 in_run_id;	/* run.c: 0 when none */
	int64_t			 in_run_start;	/* unix ms */
	int			 in_run_manual;
	struct event		 in_notify_ev;
	int			 in_notify_fd;
	char			 in_notify_status[128]; /* STATUS= */
	struct event		 in_timer;	/* backoff or stop timeout */
};
RB_HEAD(instance_pids, instance);
RB_PROTOTYPE(instance_pids, instance, in_node, instance_cmp)

struct curlev_req;
struct hb_ping;
struct fpm_scrape;

/* A process's health monitor (health.c). */
struct health {
	struct event		 h_timer;	/* next check */
	struct event		 h_deadline;	/* this check's timeout */
	struct event		 h_ev;		/* tcp connect */
	int			 h_fd;
	struct curlev_req	*h_http;
	uint32_t		 h_token;	/* exec spawn request */
	pid_t			 h_pid;		/* exec probe running */
	int			 h_armed;
	int			 h_running;
	int			 h_fails;	/* consecutive */
	int			 h_succ;	/* consecutive */
	int			 h_unhealthy;
	int			 h_ready;	/* passed once: latched */
	int			 h_verdict;	/* healthy since its last start */
	int			 h_last_ok;
	int64_t			 h_begun;
	int64_t			 h_last_ms;
	uint64_t		 h_checks;
	uint64_t		 h_passed;
	uint64_t		 h_failed;
	uint64_t		 h_sum_us;
	uint64_t		 h_hist[HC_BUCKETS];
};

struct eproc {
	TAILQ_ENTRY(eproc)	 ep_entry;
	struct health		 ep_health;
	struct proc_conf	*ep_conf;
	struct instance		**ep_inst;
	int			 ep_ninst;
	int			 ep_removed;	/* gone from the config */
	int			 ep_launched;	/* its instances were started */
	int			 ep_blocked;	/* a dependency failed */
	int			 ep_stopping;	/* shutdown reached it */
	int			 ep_held;	/* stopped on request */
	int			 ep_desired;	/* instances wanted */
	int			 ep_restored;	/* desired, held: from the parent */
	int			 ep_said_desired;	/* last told the parent */
	int			 ep_said_held;
	uint64_t		 ep_restarts_crash;
	uint64_t		 ep_restarts_normal;
	uint64_t		 ep_restarts_health;
	/* scheduled tasks (sched.c) */
	struct event		 ep_cron_ev;
	int			 ep_cron_armed;
	int64_t			 ep_next_run;	/* unix s, 0: none */
	int64_t			 ep_last_run;
	int			 ep_last_exit;
	uint64_t		 ep_runs_ok;
	uint64_t		 ep_runs_failed;
	uint64_t		 ep_runs_skipped;
	struct fpm_scrape	*ep_fpm;	/* fpm.c, or NULL */
	int			 ep_paused;	/* schedule/pause */
	uint32_t		 ep_run_seq;	/* runs so far (run.c) */
	uint32_t		 ep_trigger_id;	/* sync trigger waiting */
	uint32_t		 ep_trigger_run;
	/* heartbeat pings (heartbeat.c) */
	TAILQ_HEAD(, hb_ping)	 ep_hb_queue;
	size_t			 ep_hb_len;
	struct curlev_req	*ep_hb_req;	/* in flight, or NULL */
	struct event		 ep_hb_retry_ev;
	int			 ep_hb_waiting;	/* for a retry */
	uint64_t		 ep_hb_ok;
	uint64_t		 ep_hb_failed;
	int64_t			 ep_hb_last;	/* unix s of the last success */
};
TAILQ_HEAD(eprocs, eproc);

/* A control request that is answered when its effect is complete. */
struct ctl_pending {
	TAILQ_ENTRY(ctl_pending) cp_entry;
	uint32_t		 cp_id;
	uint32_t		 cp_op;
	struct eproc		*cp_proc;
	struct event		 cp_timer;
};
TAILQ_HEAD(ctl_pendings, ctl_pending);

struct engine {
	struct phpeekd_conf	*en_conf;
	struct ctl_pendings	 en_ctl;
	struct phpeekd_conf	*en_pending;
	struct eprocs		 en_procs;
	struct instance_pids	 en_pids;
	struct logpipes		 en_logpipes;
	uint32_t		 en_token;
	int			 en_started;
	int			 en_shutdown;
	int			 en_forced;
	int			 en_hooking;	/* a global phase runs */
	int			 en_post_started;
	int			 en_post_stopped;
	struct event		 en_shutdown_timer;
	int			 en_exit;	/* a process's status, or -1 */
};

extern struct engine	*engine;

void	 engine_role(void);
void	 engine_check_done(void);
void	 engine_critical(struct instance *, int);
struct eproc *engine_find(const char *);
const char *inst_state_name(enum inst_state);
int	 instance_cmp(struct instance *, struct instance *);
struct instance *instance_new(struct eproc *, int);
void	 instance_free(struct instance *);
void	 instance_spawn(struct instance *);
void	 instance_spawned(struct instance *, pid_t);
void	 instance_spawn_failed(struct instance *, int, const char *);
void	 instance_exited(struct instance *, int);
void	 instance_stop(struct instance *);
void	 instance_signal(struct instance *, int);
void	 instance_signal_main(struct instance *, int);
int	 instance_restore_final(struct imsg *);
int	 instance_alive(struct instance *);
struct instance *instance_by_pid(pid_t);
struct instance *instance_by_token(uint32_t);
void	 eproc_resize(struct eproc *, int);
int	 eproc_running(struct eproc *);
void	 eproc_scale(struct eproc *, int);
void	 eproc_intent(struct eproc *);
int	 eproc_intent_restore(struct imsg *);
void	 eproc_intent_apply(struct eproc *);
size_t	 logframe(char *, size_t, size_t, int,
	    void (*)(void *, const char *, size_t), void *);
extern uint64_t	 logpipe_pauses;
extern uint64_t	 logpipe_api_drops;
void	 logpipe_init(void);
struct logpipe *logpipe_open(int, int, const char *, const char *,
	    const struct proc_conf *);
void	 logpipe_close(struct logpipe *);
void	 logpipe_emit(const char *, const char *, int, const char *,
	    size_t);

/* state.c */
int	 state_send_proc(struct privsep *, const struct state_proc *);
int	 state_recv_proc(struct imsg *, struct state_proc *);
int	 state_send_instance(struct privsep *, const struct state_instance *);
int	 state_recv_instance(struct imsg *, struct state_instance *);
int	 state_send_gone(struct privsep *, const char *, uint32_t);
int	 state_recv_gone(struct imsg *, char *, size_t, uint32_t *);
int	 state_send_hook(struct privsep *, const struct state_hook *);
int	 state_send_run(struct privsep *, const struct state_run *);
int	 state_send_fpm(struct privsep *, const struct state_fpm *,
	    const struct state_fpm_proc *, uint32_t);
int	 state_recv_fpm(struct imsg *, struct state_fpm *,
	    struct state_fpm_proc *, uint32_t *);
int	 state_recv_run(struct imsg *, struct state_run *);
int	 state_recv_hook(struct imsg *, struct state_hook *);
int	 ctl_send_request(struct privsep *, uint32_t, uint32_t, const char *,
	    int64_t);
int	 ctl_recv_request(struct imsg *, uint32_t *, char *, size_t,
	    int64_t *);
int	 ctl_send_reply(struct privsep *, uint32_t, uint32_t, const char *);
int	 ctl_recv_reply(struct imsg *, uint32_t *, char *, size_t);

/* health.c */
const char *health_type_name(int);
struct sockaddr_storage;
int	 health_sockaddr(const char *, struct sockaddr_storage *,
	    socklen_t *);
int	 health_gates(struct eproc *);
void	 health_start(struct eproc *);
void	 health_stop(struct eproc *);
void	 health_kill_exec(struct eproc *);
struct eproc *health_by_token(uint32_t);
struct eproc *health_by_pid(pid_t);
void	 health_exec_spawned(struct eproc *, pid_t);
void	 health_exec_failed(struct eproc *, int, const char *);
void	 health_exec_exited(struct eproc *, int);

/* fpm.c */
void	 fpm_configure(struct eproc *);
void	 fpm_stop(struct eproc *);
void	 fpm_resend(struct eproc *);
void	 fpm_write_script(const struct phpeekd_conf *);

/* run.c */
void	 run_start(struct instance *, int);
void	 run_end(struct instance *, int);

/* heartbeat.c */
void	 heartbeat_start(struct eproc *);
void	 heartbeat_end(struct eproc *, int);
void	 heartbeat_clear(struct eproc *);

/* sched.c */
void	 sched_arm(struct eproc *);
void	 sched_disarm(struct eproc *);
void	 sched_exited(struct instance *, int);
void	 sched_started(struct instance *);
int	 sched_run(struct eproc *, int);

/* readyfile.c */
void	 readyfile_touch(void);
void	 readyfile_reset(void);
void	 readyfile_now(void);
void	 readyfile_install(const struct global_conf *,
	    const struct global_conf *);
void	 readyfile_set(const struct global_conf *, int);
void	 readyfile_remove(const char *);

/* notify.c */
void	 notify_open(struct instance *, int);
void	 notify_close(struct instance *);

/* hook.c */
struct hook_run;
void	 hook_run(const char *, int, uint32_t, void (*)(void *, int), void *);
void	 hook_phase(int, void (*)(void *, int), void *);
void	 hook_stats_send(void);
int	 hook_count(int);
void	 hook_forget(void *);
struct hook_run *hook_by_token(uint32_t);
const char *hook_label(struct hook_run *);
void	 hook_spawned(struct hook_run *, pid_t);
void	 hook_spawn_failed(struct hook_run *, int, const char *);
int	 hook_exited(pid_t, int);

/* curlev.c */
void	 curlev_init(void);
struct curlev_req *curlev_request(const char *, const char *, long,
	    void (*)(void *, int, long, const char *), void *);
struct curlev_req *curlev_send(const char *, const char *,
	    const struct strlist *, const char *, long,
	    void (*)(void *, int, long, const char *), void *);
void	 curlev_cancel(struct curlev_req *);

/* order.c */
void	 order_start(void);
int	 eproc_ready(struct eproc *);
void	 order_stop(void);

/* control.c */
int	 control_request(struct imsg *);
void	 control_check(void);
void	 control_forget(struct eproc *);
void	 engine_state_proc(struct eproc *);
void	 engine_state_instance(struct instance *);
void	 engine_state_snapshot(void);

/* sample.c */
void	 sample_init(void);
void	 sample_configure(struct global_conf *);
int	 sample_send(struct privsep *, const char *, uint32_t,
	    const struct sample *);
int	 sample_recv(struct imsg *, char *, size_t, uint32_t *,
	    struct sample *);

/* watch.c */
int	 watch_start(const char *, void (*)(void));

/* listen.c */
void	 listen_open(struct global_conf *);
void	 listen_send(struct privsep *, const struct global_conf *);
int	 listen_tls_check(const struct global_conf *, char *, size_t);
void	 listen_close(void);

/* sandbox.c */
extern const char *sandbox_api_user;
#ifdef PHPEEKD_REGRESS
extern const char *sandbox_violate;
#endif
void	 sandbox_role(enum privsep_procid);

/* api.c: the read model */
/* Resource samples of one instance, oldest first from r_head. */
struct api_ring {
	struct sample		*r_v;
	uint32_t		 r_cap;
	uint32_t		 r_len;
	uint32_t		 r_head;
};

struct api_proc {
	TAILQ_ENTRY(api_proc)	 ap_entry;
	struct state_proc	 ap_state;
	struct state_instance	*ap_inst;
	struct api_ring		*ap_rings;	/* one per instance slot */
	struct log_entry	*ap_logs;	/* LOG_RING_SIZE, at its first */
	uint32_t		 ap_log_head;
	uint32_t		 ap_log_len;
	uint64_t		 ap_log_seq;	/* lines ever received */
	uint32_t		 ap_gen;	/* last snapshot that had it */
	uint32_t		 ap_ninst;
	uint64_t		 ap_present[(CONF_SCALE_MAX + 63) / 64];
	struct state_fpm	*ap_fpm;	/* last php-fpm scrape, or NULL */
	struct state_fpm_proc	*ap_fpm_procs;	/* its workers */
	uint32_t		 ap_fpm_nprocs;
	struct state_run	*ap_runs;	/* a job's history ring */
	uint32_t		 ap_runs_head;
	uint32_t		 ap_runs_len;
};
#define RUN_RING	100	/* runs kept per job */
#define ONESHOT_RING	1000	/* one-shot runs kept in all */
TAILQ_HEAD(api_procs, api_proc);

struct api_wait {
	TAILQ_ENTRY(api_wait)	 w_entry;
	uint32_t		 w_id;
	enum privsep_procid	 w_peer;
	void			(*w_cb)(void *, uint32_t, const char *);
	void			*w_arg;
};
TAILQ_HEAD(api_waits, api_wait);

struct api {
	struct phpeekd_conf	*a_conf;
	struct phpeekd_conf	*a_pending;
	struct api_procs	 a_procs;
	struct api_waits	 a_waits;
	uint32_t		 a_next_id;
	int			 a_synced;
	int			 a_stopping;	/* the container shuts down */
	uint32_t		 a_gen;		/* snapshot counter */
	time_t			 a_start_time;
	uint64_t		 a_reloads;	/* generations received */
	uint64_t		 a_reload_failures;
	int			 a_last_reload_ok;
	time_t			 a_last_reload;
	struct state_hook	 a_hooks[HOOK_STATS_MAX];
	uint32_t		 a_nhooks;
	struct state_run	*a_oneshots;	/* ring of ONESHOT_RING */
	uint32_t		 a_oneshots_head;
	uint32_t		 a_oneshots_len;
};

extern struct api	*api;

void	 api_role(void);
struct api_proc *api_proc_find(const char *);
struct proc_conf *api_proc_conf(const char *);
int	 api_inst_present(struct api_proc *, uint32_t);
const struct sample *api_sample_last(struct api_proc *, uint32_t);
const struct log_entry *api_log_at(struct api_proc *, uint32_t);
const struct sample *api_sample_at(struct api_proc *, uint32_t, uint32_t);
const struct state_run *api_run_at(struct state_run *, uint32_t, uint32_t,
	    uint32_t, uint32_t);
int	 api_request_edit(uint32_t, const char *, const char *,
	    void (*)(void *, uint32_t, const char *), void *);
int	 api_request(uint32_t, const char *, int64_t,
	    void (*)(void *, uint32_t, const char *), void *);
void	 api_request_cancel(void *);

/* apihttp.c */
void	 apihttp_init(struct event_base *);
void	 apihttp_listen(int, int);

/* apitls.c */
void	 apitls_init(void);
int	 apitls_file(int, int, int);
void	*apitls_ctx(int, const struct tls_conf *);
void	 apitls_ctx_free(void *);
struct bufferevent *apitls_bev(struct event_base *, void *);

/* metrics.c */
struct evbuffer;
void	 metrics_render(struct evbuffer *);

/* spawn.c */
struct spawn_result {
	pid_t		 sr_pid;
	int		 sr_out;	/* read ends, -1 if none */
	int		 sr_err;
	int		 sr_notify;	/* readiness channel, -1 if none */
	int		 sr_errno;	/* 0 on success */
	char		 sr_what[64];	/* which step failed */
};
#define SPAWN_INSTANCE	0
#define SPAWN_HEALTH	1	/* an exec health check of the process */
#define SPAWN_HOOK	2	/* a hook: name is its owner, idx phase<<16|n */
int	 spawn_instance(const struct proc_conf *, int, int,
	    struct spawn_result *);

/* dl.c */
#define DL_CURL		0x1	/* the engine: HTTP checks, heartbeats */
#define DL_TLS		0x2	/* the api: api_tls, metrics_tls */
extern int	 dl_wanted;
struct dl_sym {
	const char	 *ds_name;
	void		**ds_ptr;
};
/*
 * DL_TABLE(name, LIST): a struct "name" of pointers typed as the
 * functions LIST names, X(name, function) each, and the table
 * name_syms that dl_load fills it from.
 */
#define DL_PTR(s, f)	__typeof__(f) *f;
#define DL_SYM(s, f)	{ #f, (void **)&s.f },
#define DL_TABLE(s, list)						\
	static struct { list(DL_PTR, s) } s;				\
	static const struct dl_sym s##_syms[] = { list(DL_SYM, s) }
#define DL_LOAD(file, s)						\
	dl_load(file, s##_syms, sizeof(s##_syms) / sizeof(s##_syms[0]))
void	 dl_load(const char *, const struct dl_sym *, size_t);
int	 dl_needs(const struct phpeekd_conf *, enum privsep_procid);

/* util.c */
int	 strlist_add(struct strlist *, const char *);
void	 strlist_free(struct strlist *);
int	 strlist_equal(const struct strlist *, const struct strlist *);
int	 file_replace(const char *, const char *, size_t, char *, size_t);
int	 strlist_copy(struct strlist *, const struct strlist *);
int	 signal_byname(const char *);
const char *signal_name(int);
int	 parse_duration_ms(const char *, int64_t *);
int64_t	 now_ms(void);
int64_t	 wall_ms(void);
void	 ms_to_tv(int64_t, struct timeval *);
const char *restart_name(int);
void	 wait_status_str(int, char *, size_t);

#endif /* PHPEEKD_H */
