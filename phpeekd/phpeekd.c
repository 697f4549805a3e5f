/*
 * phpeekd: main and the parent role.
 *
 * The parent is PID 1 of the container (or a subreaper when it is
 * not).  It reaps every child and orphan, turns signals into orderly
 * shutdown and reload, starts the roles and restarts them when they
 * die, opens the configuration file for the config role, and forks and
 * execs services on the engine's request from the specs the config
 * role produced.  It parses nothing a user or a service wrote.
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "phpeekd.h"

struct service {
	TAILQ_ENTRY(service)	 sv_entry;
	pid_t			 sv_pid;	/* also its process group */
	char			 sv_name[CONF_NAME_MAX];
	uint32_t		 sv_idx;
	int			 sv_out;	/* dups of the log pipes */
	int			 sv_err;
	int			 sv_exited;	/* reaped, EXIT not acked */
	int			 sv_status;
	int64_t			 sv_started;	/* unix time */
	int			 sv_kind;	/* SPAWN_* */
};
TAILQ_HEAD(services, service);

/* An instance the engine said has ended for good. */
struct final {
	TAILQ_ENTRY(final)	 fi_entry;
	char			 fi_name[CONF_NAME_MAX];
	uint32_t		 fi_idx;
	uint32_t		 fi_state;
};
TAILQ_HEAD(finals, final);

/* What the operator asked of a process at run time (IMSG_PROC_INTENT). */
struct intent {
	TAILQ_ENTRY(intent)	 it_entry;
	char			 it_name[CONF_NAME_MAX];
	uint32_t		 it_desired;
	uint8_t			 it_held;
};
TAILQ_HEAD(intents, intent);

struct parent {
	struct phpeekd_conf	*pa_conf;
	struct phpeekd_conf	*pa_pending;
	char			 pa_path[PATH_MAX];
	uint32_t		 pa_generation;
	int			 pa_loading;	/* CFG_FD sent, no answer */
	int			 pa_editing;	/* the load is an API change */
	int64_t			 pa_started;	/* unix s */
	int			 pa_saving;	/* CFG_SAVE sent, no answer */
	int			 pa_edits;	/* the config role holds changes */
	int			 pa_text;	/* the text of pa_conf: memfd */
	int			 pa_text_next;	/* the text being loaded */
	char			*pa_save;	/* the text to save, so far */
	size_t			 pa_save_len;
	uint32_t		 pa_reload_id;	/* api request waiting */
	char			 pa_reload_msg[PATH_MAX + 1024];
	struct services		 pa_services;
	struct finals		 pa_finals;
	struct intents		 pa_intents;
	int			 pa_shutdown;	/* 1: asked, 2: parent stops */
	int			 pa_draining;	/* in shutdown_delay */
	int			 pa_nodelay;	/* a process asked: no delay */
	int			 pa_api_on;	/* the api role was started */
	struct phpeekd_conf	*pa_engine_prev;	/* a replaced engine's */
	int64_t			 pa_shutdown_at;	/* monotonic ms */
	int			 pa_status;
	uint32_t		 pa_adopt_token;
	struct event		 pa_sigev[9];
	struct event		 pa_timer;
};

static struct parent	*parent;
static struct privsep	 parent_ps;
static const char	*autotune_flag;		/* --php-fpm-profile */
static const char	*autotune_threshold_flag;

static __dead void	usage(void);
static void	long_options(int, char *[]);
static int	php_fpm_autotune(const struct global_conf *, int);
static int	check_config(const char *, int, int);
static int	find_config(const char *, char *, size_t);
static void	parent_main(const char *, int);
static void	parent_watch_reload(void);
static void	parent_sig_handler(int, short, void *);
static int	parent_route_signal(int);
static void	parent_reap(void);
static void	parent_load_config(void);
static int	parent_text_copy(int);
static int	parent_text_dup(int);
static int	parent_config_up(void);
static void	parent_config_base(void);
static void	parent_config_idle(void);
static void	parent_text_drop(void);
static void	parent_install(struct phpeekd_conf *);
static void	parent_reload_reply(uint32_t, const char *);
static void	parent_reply_to(uint32_t, uint32_t, const char *);
static int	parent_edit(struct imsg *);
static int	parent_save_data(struct imsg *);
static void	parent_validate(uint32_t);
static int	parent_checked(struct imsg *);
static int	parent_save_done(struct imsg *);
static void	parent_link(void);
static int	parent_dl(struct phpeekd_conf *, enum privsep_procid);
static void	parent_api_start(const struct global_conf *);
static void	parent_adopt(void);
static void	parent_role_lost(struct privsep *, enum privsep_procid);
static void	parent_role_started(struct privsep *, enum privsep_procid);
static void	parent_shutdown(const char *);
static void	parent_shutdown_cb(int, short, void *);
static void	parent_stop_services(int);
static void	parent_timeout_cb(int, short, void *);
static void	parent_kill_all(int);
static void	parent_emergency(void);
static __dead void parent_finish(int);
static void	parent_spawn(struct imsg *);
static int	parent_spawn_hook(struct hook_conf *, struct spawn_result *);
static struct service *service_find(pid_t);
static struct final *final_find(const char *, uint32_t);
static int	parent_final(struct imsg *);
static int	parent_intent(struct imsg *);
static void	parent_intent_prune(struct phpeekd_conf *);
static void	service_free(struct service *);
static int	parent_dispatch_config(struct imsgev *, struct imsg *);
static int	parent_dispatch_engine(struct imsgev *, struct imsg *);
static int	parent_dispatch_api(struct imsgev *, struct imsg *);

static struct privsep_proc parent_procs[] = {
	{ "config",	PROC_CONFIG,	parent_dispatch_config },
	{ "engine",	PROC_ENGINE,	parent_dispatch_engine },
	{ "api",	PROC_API,	parent_dispatch_api },
};

static __dead void
usage(void)
{
	fprintf(stderr, "usage: %s [-dnsvw] [-D macro=value] [-f file] "
	    "[-M threshold] [-P profile] [-u user]\n"
	    "       %s check-config [--quiet] [--strict] [--json] "
	    "[-f file]\n", getprogname(), getprogname());
	exit(1);
}

int
main(int argc, char *argv[], char *envp[])
{
	enum privsep_procid	 role = PROC_MAX;
	const char		*file = NULL, *errstr;
	char			 path[PATH_MAX];
	int			 ch, noaction = 0, strict = 0, json = 0;
	int			 verbose = 0, quiet = 0, watch = 0;

	/*
	 * Every channel's 64 KiB read buffer and every log pipe's line
	 * buffer from mmap: untouched pages cost nothing, and a freed one
	 * goes back to the kernel instead of staying in the heap.  Only a
	 * saving: an allocator that does not take
	 * the option (AddressSanitizer's) is left to its own ways.
	 */
	(void)mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	setproctitle_init(argc, argv, envp);
	/* phpeek-pm's "serve" is what phpeekd does anyway */
	if (argc > 1 && strcmp(argv[1], "serve") == 0) {
		argv++;
		argc--;
	}
	long_options(argc, argv);
	if (argc > 1 && strcmp(argv[1], "check-config") == 0) {
		noaction = 1;
		argv++;
		argc--;
		for (ch = 1; ch < argc; ch++) {
			if (strcmp(argv[ch], "--strict") == 0)
				argv[ch] = (char *)"-s";
			else if (strcmp(argv[ch], "--json") == 0)
				argv[ch] = (char *)"-j";
			else if (strcmp(argv[ch], "--quiet") == 0) {
				quiet = 1;
				argv[ch] = (char *)"-q";
			}
		}
	}
	while ((ch = getopt(argc, argv, "D:df:jL:M:nP:qR:sT:u:vw")) != -1) {
		switch (ch) {
		case 'D':
			if (strchr(optarg, '=') == NULL)
				errx(1, "-D %s: expected macro=value", optarg);
			if (putenv(optarg) == -1)
				err(1, "-D %s", optarg);
			break;
		case 'd':
			break;	/* always in the foreground */
		case 'f':
			file = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'L':
			/* a role: the libraries to open (dl.c) */
			dl_wanted = (int)strtonum(optarg, 0, DL_CURL | DL_TLS,
			    &errstr);
			if (errstr != NULL)
				errx(1, "-L %s: %s", optarg, errstr);
			break;
		case 'M':
			autotune_threshold_flag = optarg;
			break;
		case 'n':
			noaction = 1;
			break;
		case 'P':
			autotune_flag = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'R':
			if ((role = proc_getid(optarg)) == PROC_MAX ||
			    role == PROC_PARENT)
				errx(1, "unknown role %s", optarg);
			break;
		case 's':
			strict = 1;
			break;
		case 'T':
#ifdef PHPEEKD_REGRESS
			sandbox_violate = optarg;
			break;
#else
			usage();
#endif
		case 'u':
			sandbox_api_user = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'w':
			watch = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	log_init(1, verbose);
	if (role != PROC_MAX) {
		static struct privsep	rps;

		proc_role_main(&rps, role, role == PROC_CONFIG ? config_role :
		    role == PROC_ENGINE ? engine_role : api_role);
		/* NOTREACHED */
	}
	if (find_config(file, path, sizeof(path)) == -1)
		errx(1, "no configuration file found; use -f or "
		    "PHPEEK_PM_CONFIG");
	if (noaction)
		return (check_config(path, strict, json ? 2 : quiet ? 0 : 1));
	parent_ps.ps_verbose = verbose;
	parent_main(path, watch);
	return (1);
}

/*
 * phpeek-pm's long flags: --php-fpm-profile[=]P, --autotune-memory-
 * threshold[=]F and --dry-run become -P, -M and -n; a joined value
 * is taken here and its word becomes the no-op -d.
 */
static void
long_options(int argc, char *argv[])
{
	static const struct {
		const char	*lo_name;
		const char	*lo_short;
		const char	**lo_value;
	} lo[] = {
		{ "--php-fpm-profile", "-P", &autotune_flag },
		{ "--autotune-memory-threshold", "-M",
		    &autotune_threshold_flag },
		{ "--dry-run", "-n", NULL },
	};
	size_t	i, len;
	int	a;

	for (a = 1; a < argc && strcmp(argv[a], "--") != 0; a++) {
		for (i = 0; i < sizeof(lo) / sizeof(lo[0]); i++) {
			len = strlen(lo[i].lo_name);
			if (strncmp(argv[a], lo[i].lo_name, len) != 0)
				continue;
			if (argv[a][len] == '\0')
				argv[a] = (char *)lo[i].lo_short;
			else if (argv[a][len] == '=' && lo[i].lo_value != NULL) {
				*lo[i].lo_value = argv[a] + len + 1;
				argv[a] = (char *)"-d";
			}
			break;
		}
	}
}

/*
 * PHP-FPM auto-tuning, when a profile is asked for: the flag, then
 * PHP_FPM_AUTOTUNE_PROFILE.  The threshold: the flag, the variable,
 * global.autotune_memory_threshold, then the profile's.  The result is
 * exported into phpeekd's environment, which every process inherits,
 * and printed; dry (-n) prints it on standard output.  Limits are read
 * below PHPEEKD_AUTOTUNE_ROOT when that is set, for tests.
 */
static int
php_fpm_autotune(const struct global_conf *gc, int dry)
{
	const struct autotune_profile	*prof;
	struct autotune_resources	 res;
	struct autotune_result		 r;
	const char			*name, *via, *tvia = NULL, *s, *root;
	char				 err[512], *end;
	double				 t = 0;

	via = "CLI flag";
	if ((name = autotune_flag) == NULL) {
		via = "ENV var";
		if ((name = getenv("PHP_FPM_AUTOTUNE_PROFILE")) == NULL ||
		    *name == '\0')
			return (0);
	}
	if ((s = autotune_threshold_flag) != NULL) {
		t = strtod(s, &end);
		if (end == s || *end != '\0' || !(t > 0)) {
			log_warnx("-M %s: not a number above 0", s);
			return (-1);
		}
		tvia = "CLI flag";
	} else if ((s = getenv("PHP_FPM_AUTOTUNE_MEMORY_THRESHOLD")) !=
	    NULL && *s != '\0' && (t = strtod(s, &end), end != s &&
	    *end == '\0') && t > 0)
		tvia = "ENV variable";
	else if (gc != NULL && gc->gc_autotune_threshold > 0) {
		t = gc->gc_autotune_threshold;
		tvia = "global config";
	} else
		t = 0;
	if ((root = getenv("PHPEEKD_AUTOTUNE_ROOT")) == NULL)
		root = "";
	if (autotune_profile(name, &prof, err, sizeof(err)) == -1 ||
	    autotune_detect(root, &res, err, sizeof(err)) == -1 ||
	    autotune_compute(prof, &res, t, &r, err, sizeof(err)) == -1) {
		log_warnx("PHP-FPM auto-tuning: %s", err);
		return (-1);
	}
	autotune_log(&r);
	if (!dry) {
		if (autotune_export(&r) == -1) {
			log_warn("PHP-FPM auto-tuning: setenv");
			return (-1);
		}
	}
	autotune_print(dry ? stdout : stderr, prof->ap_name, via, &r, tvia);
	return (0);
}

/* -f, then PHPEEK_PM_CONFIG, then phpeek-pm's list of paths. */
static int
find_config(const char *file, char *path, size_t len)
{
	static const char *const paths[] = {
		"/etc/phpeek/pm/config.yaml", "/etc/phpeek/pm/config.yml",
		"/etc/phpeek-pm/phpeek-pm.yaml", "/etc/phpeek-pm/phpeek-pm.yml",
		"phpeek-pm.yaml", "phpeek-pm.yml"
	};
	struct stat	 st;
	const char	*env, *home;
	size_t		 i;

	if (file == NULL)
		file = getenv("PHPEEK_PM_CONFIG");
	if (file != NULL && *file != '\0')
		return (strlcpy(path, file, len) < len ? 0 : -1);
	if ((home = getenv("HOME")) != NULL) {
		snprintf(path, len, "%s/.phpeek/pm/config.yaml", home);
		if (stat(path, &st) == 0)
			return (0);
		snprintf(path, len, "%s/.phpeek/pm/config.yml", home);
		if (stat(path, &st) == 0)
			return (0);
	}
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (stat(paths[i], &st) == 0)
			return (strlcpy(path, paths[i], len) < len ? 0 : -1);
	}
	env = "phpeek-pm.yaml";
	return (strlcpy(path, env, len) < len ? 0 : -1);
}

static const char *
diag_severity(int sev)
{
	switch (sev) {
	case DIAG_ERROR:
		return ("error");
	case DIAG_WARNING:
		return ("warning");
	default:
		return ("suggestion");
	}
}

/*
 * -n: parse and validate in this process and print the report.  This
 * is a command-line tool run by the operator, not the daemon, so it
 * needs no sandbox of its own.
 */
static int
check_config(const char *path, int strict, int mode)
{
	struct parse_result	 pr;
	struct diag		*d;
	struct stat		 st;
	char			*buf, esc[1024];
	ssize_t			 n;
	size_t			 len = 0;
	int			 fd, rv, first = 1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		err(1, "%s", path);
	if (fstat(fd, &st) == -1)
		err(1, "%s", path);
	if (!S_ISREG(st.st_mode))
		errx(1, "%s: not a regular file", path);
	if (st.st_size > CONF_FILE_MAX)
		errx(1, "%s: larger than %d bytes", path, CONF_FILE_MAX);
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		err(1, NULL);
	while ((n = read(fd, buf + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)n;
	if (n == -1)
		err(1, "%s", path);
	close(fd);
	rv = parse_config(path, buf, len, &pr);
	free(buf);
	if (mode == 2)
		printf("{\"file\":\"%s\",\"valid\":%s,\"errors\":%d,"
		    "\"warnings\":%d,\"diagnostics\":[", path,
		    rv == 0 ? "true" : "false", pr.pr_errors, pr.pr_warnings);
	TAILQ_FOREACH(d, &pr.pr_diags, d_entry) {
		if (mode == 2) {
			json_escape(esc, sizeof(esc), d->d_msg);
			printf("%s{\"severity\":\"%s\",\"line\":%d,"
			    "\"column\":%d,\"message\":\"%s\"}",
			    first ? "" : ",", diag_severity(d->d_severity),
			    d->d_line, d->d_col, esc);
			first = 0;
		} else if (mode == 1 || d->d_severity == DIAG_ERROR)
			fprintf(stderr, "%s:%d:%d: %s: %s\n", path,
			    d->d_line, d->d_col, diag_severity(d->d_severity),
			    d->d_msg);
	}
	if (mode == 2)
		printf("]}\n");
	else if (mode == 1)
		fprintf(stderr, "%s: %s (%d errors, %d warnings)\n", path,
		    rv == 0 ? "configuration OK" : "configuration invalid",
		    pr.pr_errors, pr.pr_warnings);
	if (rv == 0 && strict && pr.pr_warnings > 0)
		rv = -1;
	if (rv == 0 && mode != 2 && php_fpm_autotune(pr.pr_conf != NULL ?
	    &pr.pr_conf->cf_global : NULL, 1) == -1)
		rv = -1;
	parse_result_clear(&pr);
	return (rv == 0 ? 0 : 1);
}

static void
parent_main(const char *path, int watch)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP,
				    SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD,
				    SIGALRM };
	struct privsep		*ps = &parent_ps;
	const char		*exe = "/proc/self/exe";
	size_t			 i;
	int			 verbose = ps->ps_verbose;

	if ((parent = calloc(1, sizeof(*parent))) == NULL)
		fatal("%s", __func__);
	TAILQ_INIT(&parent->pa_services);
	TAILQ_INIT(&parent->pa_finals);
	TAILQ_INIT(&parent->pa_intents);
	parent->pa_text = parent->pa_text_next = -1;
	parent->pa_started = (int64_t)time(NULL);
	if (strlcpy(parent->pa_path, path, sizeof(parent->pa_path)) >=
	    sizeof(parent->pa_path))
		fatalx("%s: path too long", path);

	event_init();
	evtimer_set(&parent->pa_timer, parent_timeout_cb, NULL);
	/*
	 * As PID 1 the kernel drops every signal we have no handler
	 * for, so handle all that matter before anything can fail.
	 */
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		signal_set(&parent->pa_sigev[i], sigs[i], parent_sig_handler,
		    NULL);
		signal_add(&parent->pa_sigev[i], NULL);
	}
	signal(SIGPIPE, SIG_IGN);
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("prctl PR_SET_CHILD_SUBREAPER");
	if (access(exe, X_OK) == -1)
		fatal("%s: cannot re-execute myself for the roles", exe);
	/* as phpeek-pm: before the configuration, before anything runs */
	(void)framework_setup();

	proc_init_parent(ps, exe, 1, verbose);
	ps->ps_procs = parent_procs;
	ps->ps_nprocs = sizeof(parent_procs) / sizeof(parent_procs[0]);
	ps->ps_lost = parent_role_lost;
	ps->ps_started = parent_role_started;
	setproctitle("%s", "parent");
	log_info("phpeekd %s starting, pid %d, configuration %s",
	    PHPEEKD_VERSION, getpid(), path);

	/*
	 * The engine and the api start with the first configuration: it
	 * says what libraries the engine needs (dl.c) and whether the api
	 * has anything to serve.  The config role runs while it parses.
	 */
	parent_load_config();
	if (watch && watch_start(path, parent_watch_reload) == -1)
		log_warn("-w: cannot watch %s", path);
	event_dispatch();
	fatalx("event loop ended");
}

static void
parent_watch_reload(void)
{
	if (parent->pa_shutdown || parent->pa_loading)
		return;
	parent_load_config();
}

static void
parent_sig_handler(int sig, short event, void *arg)
{
	switch (sig) {
	case SIGCHLD:
		parent_reap();
		break;
	case SIGTERM:
	case SIGINT:
	case SIGQUIT:
		parent_shutdown(signal_name(sig));
		break;
	case SIGHUP:
		if (parent->pa_shutdown)
			break;
		if (parent_route_signal(sig))
			break;
		if (parent->pa_loading) {
			log_warnx("SIGHUP: a reload is already running");
			break;
		}
		log_info("SIGHUP: reloading %s", parent->pa_path);
		parent_load_config();
		break;
	default:
		/* handled so PID 1 does not drop it; sent on where routed */
		if (parent->pa_shutdown || !parent_route_signal(sig))
			log_debug("%s ignored", signal_name(sig));
		break;
	}
}

/*
 * global.signal_routes: send sig on to the main process of every
 * running instance of the processes it names (which tells its own
 * children, as php-fpm's master and nginx's do), from here, so that it
 * arrives even while the engine is restarting.  Returns whether sig
 * has a route at all.
 */
static int
parent_route_signal(int sig)
{
	struct service		*sv;
	struct proc_conf	*pc;
	int			 routed = 0, sent = 0;

	if (parent->pa_conf == NULL)
		return (0);
	TAILQ_FOREACH(pc, &parent->pa_conf->cf_procs, pc_entry)
		if (pc->pc_enabled && (pc->pc_signals & (1U << sig)) != 0)
			routed = 1;
	if (!routed)
		return (0);
	TAILQ_FOREACH(sv, &parent->pa_services, sv_entry) {
		if (sv->sv_kind != SPAWN_INSTANCE || sv->sv_exited ||
		    (pc = config_proc_find(parent->pa_conf,
		    sv->sv_name)) == NULL ||
		    (pc->pc_signals & (1U << sig)) == 0)
			continue;
		/* the main process: php-fpm's workers die of SIGUSR2 */
		if (kill(sv->sv_pid, sig) == -1) {
			log_warn("%s: %s-%u", signal_name(sig), sv->sv_name,
			    sv->sv_idx);
			continue;
		}
		log_info("%s: sent to %s-%u (pid %d)", signal_name(sig),
		    sv->sv_name, sv->sv_idx, (int)sv->sv_pid);
		sent++;
	}
	if (sent == 0)
		log_info("%s: none of the processes it goes to is running",
		    signal_name(sig));
	return (1);
}

/*
 * Open the file and hand a copy of it to the config role.  Only regular
 * files: a fifo or a device could block the parent or the config role.
 */
static void
parent_load_config(void)
{
	struct stat	st;
	char		why[128];
	int		fd, text = -1;

	if ((fd = open(parent->pa_path, O_RDONLY | O_CLOEXEC |
	    O_NONBLOCK)) == -1 || fstat(fd, &st) == -1) {
		strlcpy(why, strerror(errno), sizeof(why));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		strlcpy(why, "not a regular file", sizeof(why));
		goto fail;
	}
	if ((text = parent_text_copy(fd)) == -1) {
		snprintf(why, sizeof(why), "cannot copy: %s", strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	parent_text_drop();
	if (parent_config_up() == -1) {
		close(text);
		strlcpy(why, "cannot start the config role", sizeof(why));
		goto fail;
	}
	parent->pa_text_next = text;
	parent->pa_loading = 1;
	parent->pa_generation++;
	parent->pa_reload_msg[0] = '\0';
	if ((fd = parent_text_dup(text)) == -1 ||
	    proc_compose(&parent_ps, PROC_CONFIG, IMSG_CFG_FD,
	    parent->pa_generation, fd, parent->pa_path,
	    strlen(parent->pa_path)) == -1)
		log_warnx("config role unavailable; will retry when it is "
		    "back");
	return;
 fail:
	if (fd != -1)
		close(fd);
	log_warnx("%s: %s", parent->pa_path, why);
	if (parent->pa_conf == NULL)
		parent_finish(1);
	log_warnx("reload failed: keeping configuration generation %u",
	    parent->pa_conf->cf_generation);
	snprintf(parent->pa_reload_msg, sizeof(parent->pa_reload_msg),
	    "%s: %s", parent->pa_path, why);
	parent_reload_reply(422, parent->pa_reload_msg);
	proc_compose(&parent_ps, PROC_API, IMSG_CFG_RESULT, 0, -1,
	    &(uint8_t){ 0 }, 1);
}

/*
 * The file as read, sealed: what the config role parses is what the
 * parent keeps, so an API change later applies to the text the running
 * generation came from, even when the file has changed since.  One
 * byte past the limit is enough for the config role to refuse it.
 */
static int
parent_text_copy(int fd)
{
	size_t	left = CONF_FILE_MAX + 1;
	ssize_t	n;
	int	text, saved;

	if ((text = memfd_create("phpeekd.yaml", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return (-1);
	while (left > 0) {
		if ((n = sendfile(text, fd, NULL, left)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		left -= (size_t)n;
	}
	if (fcntl(text, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK |
	    F_SEAL_GROW | F_SEAL_WRITE) == -1)
		goto fail;
	return (text);
 fail:
	saved = errno;
	close(text);
	errno = saved;
	return (-1);
}

/* A descriptor of the text for a role, read from the start. */
static int
parent_text_dup(int text)
{
	int	fd;

	if ((fd = fcntl(text, F_DUPFD_CLOEXEC, 0)) == -1) {
		log_warn("%s", __func__);
		return (-1);
	}
	if (lseek(fd, 0, SEEK_SET) == -1) {
		log_warn("%s: lseek", __func__);
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * The config role runs only while it has something to do: a load, a
 * check, a save, or changes made through the API that the file does
 * not have.  Idle, it would hold a parser and its memory for nothing.
 * Started again, it is handed the text of the running generation.
 */
static int
parent_config_up(void)
{
	int	rv;

	if ((rv = proc_wake_role(&parent_ps, PROC_CONFIG)) == 1)
		parent_config_base();
	return (rv == -1 ? -1 : 0);
}

static void
parent_config_base(void)
{
	int	fd;

	if (parent->pa_text == -1 || (fd = parent_text_dup(parent->pa_text))
	    == -1)
		return;
	(void)proc_compose(&parent_ps, PROC_CONFIG, IMSG_CFG_BASE, 0, fd,
	    NULL, 0);
}

/* The text of a load that failed. */
static void
parent_text_drop(void)
{
	if (parent->pa_text_next != -1)
		close(parent->pa_text_next);
	parent->pa_text_next = -1;
}

static void
parent_config_idle(void)
{
	if (parent->pa_loading || parent->pa_saving || parent->pa_edits)
		return;
	proc_retire_role(&parent_ps, PROC_CONFIG);
}

/* Answer the api's reload request, if one is waiting. */
static void
parent_reload_reply(uint32_t status, const char *msg)
{
	if (parent->pa_reload_id == 0)
		return;
	parent_reply_to(parent->pa_reload_id, status, msg);
	parent->pa_reload_id = 0;
}

/* An answer to one api request, leaving the one in progress alone. */
static void
parent_reply_to(uint32_t id, uint32_t status, const char *msg)
{
	struct ibuf	*buf;

	if ((buf = proc_create(&parent_ps, PROC_API, IMSG_CTL_RELOAD_REPLY,
	    id, strlen(msg) + 8)) != NULL) {
		if (ibuf_add_u32(buf, status) == -1 ||
		    ibuf_add_str(buf, msg) == -1)
			imsg_abort(buf);
		else
			proc_close(&parent_ps, PROC_API, buf);
	}
}

static int
listen_changed(struct global_conf *a, struct global_conf *b)
{
	return (a->gc_api_enabled != b->gc_api_enabled ||
	    a->gc_api_port != b->gc_api_port ||
	    strcmp(a->gc_api_socket, b->gc_api_socket) != 0 ||
	    (a->gc_api_auth[0] == '\0') != (b->gc_api_auth[0] == '\0') ||
	    a->gc_api_acl.acl_enabled != b->gc_api_acl.acl_enabled ||
	    a->gc_metrics_enabled != b->gc_metrics_enabled ||
	    a->gc_metrics_port != b->gc_metrics_port);
}

static void
parent_install(struct phpeekd_conf *cf)
{
	struct phpeekd_conf	*old = parent->pa_conf;
	char			 why[PATH_MAX + 128];
	int			 engine_new = 0;

	parent->pa_loading = 0;
	if (listen_tls_check(&cf->cf_global, why, sizeof(why)) == -1) {
		log_warnx("%s: TLS: %s", parent->pa_path, why);
		parent->pa_editing = 0;
		parent_text_drop();
		config_free(cf);
		if (old == NULL)
			parent_finish(1);
		log_warnx("reload failed: keeping configuration generation %u",
		    old->cf_generation);
		snprintf(parent->pa_reload_msg, sizeof(parent->pa_reload_msg),
		    "TLS: %s", why);
		parent_reload_reply(422, parent->pa_reload_msg);
		proc_compose(&parent_ps, PROC_API, IMSG_CFG_RESULT, 0, -1,
		    &(uint8_t){ 0 }, 1);
		parent_config_idle();
		return;
	}
	/* the daemon's age, not a role's, for the metrics */
	cf->cf_global.gc_started = parent->pa_started;
	fpm_write_script(cf);
	/* before anything starts, so every process inherits the result */
	if (old == NULL && php_fpm_autotune(&cf->cf_global, 0) == -1) {
		config_free(cf);
		parent_finish(1);
	}
	if (!parent->pa_shutdown)
		readyfile_install(old != NULL ? &old->cf_global : NULL,
		    &cf->cf_global);
	parent_intent_prune(cf);
	parent->pa_conf = cf;
	log_setformat(cf->cf_global.gc_log_format);
	if (log_getverbose() < LOG_LVL_DEBUG)
		log_setverbose(cf->cf_global.gc_log_level);
	log_info("configuration generation %u loaded: %zu processes",
	    cf->cf_generation, cf->cf_nprocs);
	/* the first configuration says what the engine starts with */
	if (old == NULL) {
		parent_ps.ps_roles[PROC_ENGINE].rs_load = dl_needs(cf,
		    PROC_ENGINE);
		if (proc_start_role(&parent_ps, PROC_ENGINE) == -1)
			fatalx("cannot start the engine role");
	}
	/* a role that lacks a library the configuration needs is replaced */
	if (!parent->pa_shutdown) {
		(void)parent_dl(cf, PROC_API);
		engine_new = parent_dl(cf, PROC_ENGINE);
		parent_api_start(&cf->cf_global);
	}
	config_send(&parent_ps, PROC_API, cf);
	if (old == NULL || listen_changed(&old->cf_global, &cf->cf_global)) {
		listen_open(&cf->cf_global);
		listen_send(&parent_ps, &cf->cf_global);
	} else if (cf->cf_global.gc_api_tls.tls_enabled ||
	    cf->cf_global.gc_metrics_tls.tls_enabled ||
	    old->cf_global.gc_api_tls.tls_enabled ||
	    old->cf_global.gc_metrics_tls.tls_enabled)
		/* the same sockets, the certificates read again (renewal) */
		listen_send(&parent_ps, &cf->cf_global);
	parent_reload_reply(200, parent->pa_editing ? "changed" :
	    "configuration reloaded");
	/* a file replaces every change made through the API */
	if (parent->pa_editing)
		parent->pa_edits = 1;
	else {
		parent->pa_edits = 0;
		if (parent->pa_text != -1)
			close(parent->pa_text);
		parent->pa_text = parent->pa_text_next;
		parent->pa_text_next = -1;
	}
	parent->pa_editing = 0;
	parent_config_idle();
	proc_compose(&parent_ps, PROC_API, IMSG_CFG_RESULT, 0, -1,
	    &(uint8_t){ 1 }, 1);
	/*
	 * A replaced engine gets it all when it starts again: first the
	 * generation it ran, to adopt the programs under, then this one
	 * as a reload, so that what changed restarts and nothing else.
	 */
	if (engine_new && old != NULL && parent->pa_engine_prev == NULL) {
		parent->pa_engine_prev = old;
		old = NULL;
	}
	if (parent->pa_shutdown || engine_new)
		;
	else if (config_send(&parent_ps, PROC_ENGINE, cf) == 0 &&
	    old == NULL)
		proc_compose(&parent_ps, PROC_ENGINE, IMSG_ENGINE_START, 0,
		    -1, &(uint8_t){ 1 }, 1);
	config_free(old);
	/* the old generation and the messages that brought the new one */
	malloc_trim(0);
}

/*
 * Without a control socket, an API port or a metrics port the api role
 * has nothing to serve and is not started: a container that runs a
 * handful of workers and nothing else pays for three roles, not four.
 * The first configuration that opens one starts it; a crash restarts
 * it as any role's.
 */
static void
parent_api_start(const struct global_conf *gc)
{
	if (parent->pa_api_on || (gc->gc_api_socket[0] == '\0' &&
	    !(gc->gc_api_enabled && gc->gc_api_port > 0) &&
	    !(gc->gc_metrics_enabled && gc->gc_metrics_port > 0)))
		return;
	if (proc_start_role(&parent_ps, PROC_API) == -1) {
		log_warnx("cannot start the api role");
		return;
	}
	parent->pa_api_on = 1;
	parent_link();
}

/*
 * Replace role id if cf needs a library it did not open (dl.c); 1 when
 * it was killed to start again with it.
 */
static int
parent_dl(struct phpeekd_conf *cf, enum privsep_procid id)
{
	struct role_state	*rs = &parent_ps.ps_roles[id];
	int			 need = dl_needs(cf, id);

	if ((need & ~rs->rs_load) == 0)
		return (0);
	rs->rs_load |= need;
	/* a role between a crash and its restart starts with it anyway */
	if (rs->rs_pid == -1)
		return (0);
	log_info("%s: starting again with %s", proc_titles[id],
	    need & DL_CURL ? "libcurl" : "OpenSSL");
	rs->rs_replace = 1;
	if (kill(rs->rs_pid, SIGKILL) == -1) {
		rs->rs_replace = 0;
		log_warn("%s: kill", proc_titles[id]);
		return (0);
	}
	return (1);
}

/* A fresh socketpair between engine and api, one end to each. */
static void
parent_link(void)
{
	struct privsep	*ps = &parent_ps;
	int		 sp[2];

	if (ps->ps_iev[PROC_ENGINE] == NULL || ps->ps_iev[PROC_API] == NULL)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    PF_UNSPEC, sp) == -1) {
		log_warn("engine-api socketpair");
		return;
	}
	proc_compose(ps, PROC_ENGINE, IMSG_CTL_PROCFD, 0, sp[0], NULL, 0);
	proc_compose(ps, PROC_API, IMSG_CTL_PROCFD, 0, sp[1], NULL, 0);
}

/* Tell a new engine about every service that runs or ended unseen. */
static void
parent_adopt(void)
{
	struct privsep	*ps = &parent_ps;
	struct service	*sv, *next;
	struct final	*fi;
	struct intent	*it;
	struct ibuf	*buf;
	uint32_t	 token;
	int32_t		 ex[2];
	int		 fd;

	TAILQ_FOREACH(fi, &parent->pa_finals, fi_entry) {
		if ((buf = proc_create(ps, PROC_ENGINE, IMSG_INSTANCE_FINAL, 0,
		    CONF_NAME_MAX + 16)) == NULL)
			return;
		if (ibuf_add_str(buf, fi->fi_name) == -1 ||
		    ibuf_add_u32(buf, fi->fi_idx) == -1 ||
		    ibuf_add_u32(buf, fi->fi_state) == -1) {
			imsg_abort(buf);
			return;
		}
		if (proc_close(ps, PROC_ENGINE, buf) == -1)
			return;
	}
	TAILQ_FOREACH(it, &parent->pa_intents, it_entry) {
		if ((buf = proc_create(ps, PROC_ENGINE, IMSG_PROC_INTENT, 0,
		    CONF_NAME_MAX + 16)) == NULL)
			return;
		if (ibuf_add_str(buf, it->it_name) == -1 ||
		    ibuf_add_u32(buf, it->it_desired) == -1 ||
		    ibuf_add_u8(buf, it->it_held) == -1) {
			imsg_abort(buf);
			return;
		}
		if (proc_close(ps, PROC_ENGINE, buf) == -1)
			return;
	}
	TAILQ_FOREACH_SAFE(sv, &parent->pa_services, sv_entry, next) {
		/* probes are not adopted: the new engine probes afresh */
		if (sv->sv_kind != SPAWN_INSTANCE) {
			if (sv->sv_exited)
				service_free(sv);
			else
				(void)kill(-sv->sv_pid, SIGKILL);
			continue;
		}
		token = 0x80000000U | ++parent->pa_adopt_token;
		if ((buf = proc_create(ps, PROC_ENGINE, IMSG_ADOPT, token,
		    CONF_NAME_MAX + 16)) == NULL)
			return;
		if (ibuf_add_str(buf, sv->sv_name) == -1 ||
		    ibuf_add_u32(buf, sv->sv_idx) == -1 ||
		    ibuf_add_u32(buf, (uint32_t)sv->sv_pid) == -1 ||
		    ibuf_add_i64(buf, sv->sv_started) == -1) {
			imsg_abort(buf);
			return;
		}
		if (proc_close(ps, PROC_ENGINE, buf) == -1)
			return;
		if (sv->sv_out != -1 && (fd = dup(sv->sv_out)) != -1)
			proc_compose(ps, PROC_ENGINE, IMSG_LOGFD, token, fd,
			    &(uint8_t){ STREAM_STDOUT }, 1);
		if (sv->sv_err != -1 && (fd = dup(sv->sv_err)) != -1)
			proc_compose(ps, PROC_ENGINE, IMSG_LOGFD, token, fd,
			    &(uint8_t){ STREAM_STDERR }, 1);
		if (sv->sv_exited) {
			ex[0] = sv->sv_pid;
			ex[1] = sv->sv_status;
			proc_compose(ps, PROC_ENGINE, IMSG_EXIT, 0, -1, ex,
			    sizeof(ex));
		}
	}
}

static void
parent_role_lost(struct privsep *ps, enum privsep_procid id)
{
	/* an engine lost during shutdown leaves the stopping to us */
	if (id == PROC_ENGINE && parent->pa_shutdown == 1 &&
	    !parent->pa_draining) {
		log_warnx("engine lost during shutdown: stopping services "
		    "from the parent");
		parent->pa_shutdown = 2;
		/* a process's own status, when it asked for the shutdown */
		parent_stop_services(parent->pa_nodelay &&
		    parent->pa_status != 0 ? parent->pa_status : 1);
	}
}

static void
parent_role_started(struct privsep *ps, enum privsep_procid id)
{
	struct phpeekd_conf	*prev;

	switch (id) {
	case PROC_CONFIG:
		if (parent->pa_saving) {
			free(parent->pa_save);
			parent->pa_save = NULL;
			parent->pa_save_len = 0;
			parent->pa_saving = 0;
			parent_reload_reply(503, "the config role was "
			    "restarted; save again");
		}
		/* an API change in flight is answered by a reload */
		parent->pa_editing = 0;
		parent_config_base();
		if (parent->pa_loading) {
			parent->pa_generation--;
			parent_load_config();
		}
		break;
	case PROC_ENGINE:
		if (parent->pa_conf == NULL)
			break;
		prev = parent->pa_engine_prev;
		config_send(ps, PROC_ENGINE, prev != NULL ? prev :
		    parent->pa_conf);
		parent_adopt();
		/* not a fresh start: pre-start hooks do not run again */
		proc_compose(ps, PROC_ENGINE, IMSG_ENGINE_START, 0, -1,
		    &(uint8_t){ 0 }, 1);
		if (prev != NULL) {
			config_send(ps, PROC_ENGINE, parent->pa_conf);
			config_free(prev);
			parent->pa_engine_prev = NULL;
		}
		parent_link();
		break;
	case PROC_API:
		if (parent->pa_conf != NULL) {
			config_send(ps, PROC_API, parent->pa_conf);
			listen_send(ps, &parent->pa_conf->cf_global);
		}
		parent_link();
		break;
	default:
		break;
	}
}

static struct service *
service_find(pid_t pid)
{
	struct service	*sv;

	TAILQ_FOREACH(sv, &parent->pa_services, sv_entry)
		if (sv->sv_pid == pid)
			return (sv);
	return (NULL);
}

static struct final *
final_find(const char *name, uint32_t idx)
{
	struct final	*fi;

	TAILQ_FOREACH(fi, &parent->pa_finals, fi_entry)
		if (fi->fi_idx == idx && strcmp(fi->fi_name, name) == 0)
			return (fi);
	return (NULL);
}

static int
parent_final(struct imsg *imsg)
{
	struct final	*fi;
	struct ibuf	 buf;
	char		 name[CONF_NAME_MAX];
	uint32_t	 idx, st;

	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_strbuf(&buf, name, sizeof(name)) == -1 ||
	    ibuf_get_u32(&buf, &idx) == -1 || ibuf_get_u32(&buf, &st) == -1 ||
	    ibuf_left(&buf) != 0 || idx >= CONF_SCALE_MAX)
		return (-1);
	if ((fi = final_find(name, idx)) == NULL) {
		if ((fi = calloc(1, sizeof(*fi))) == NULL)
			fatal("%s", __func__);
		strlcpy(fi->fi_name, name, sizeof(fi->fi_name));
		fi->fi_idx = idx;
		TAILQ_INSERT_TAIL(&parent->pa_finals, fi, fi_entry);
	}
	fi->fi_state = st;
	return (0);
}

static int
parent_intent(struct imsg *imsg)
{
	struct intent	*it;
	struct ibuf	 buf;
	char		 name[CONF_NAME_MAX];
	uint32_t	 desired;
	uint8_t		 held;

	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_strbuf(&buf, name, sizeof(name)) == -1 ||
	    name[0] == '\0' || ibuf_get_u32(&buf, &desired) == -1 ||
	    ibuf_get_u8(&buf, &held) == -1 || ibuf_left(&buf) != 0 ||
	    desired > CONF_SCALE_MAX || held > 1)
		return (-1);
	/* only for processes of the configuration: bounded by it */
	if (parent->pa_conf == NULL ||
	    config_proc_find(parent->pa_conf, name) == NULL)
		return (0);
	TAILQ_FOREACH(it, &parent->pa_intents, it_entry)
		if (strcmp(it->it_name, name) == 0)
			break;
	if (it == NULL) {
		if ((it = calloc(1, sizeof(*it))) == NULL)
			fatal("%s", __func__);
		strlcpy(it->it_name, name, sizeof(it->it_name));
		TAILQ_INSERT_TAIL(&parent->pa_intents, it, it_entry);
	}
	it->it_desired = desired;
	it->it_held = held;
	return (0);
}

/* A process gone from the configuration takes its record with it. */
static void
parent_intent_prune(struct phpeekd_conf *cf)
{
	struct intent	*it, *next;

	TAILQ_FOREACH_SAFE(it, &parent->pa_intents, it_entry, next)
		if (config_proc_find(cf, it->it_name) == NULL) {
			TAILQ_REMOVE(&parent->pa_intents, it, it_entry);
			free(it);
		}
}

static void
service_free(struct service *sv)
{
	TAILQ_REMOVE(&parent->pa_services, sv, sv_entry);
	if (sv->sv_out != -1)
		close(sv->sv_out);
	if (sv->sv_err != -1)
		close(sv->sv_err);
	free(sv);
}

/* Reap everything: roles, services and orphans of services. */
static void
parent_reap(void)
{
	struct service	*sv;
	struct rusage	 ru;
	char		 why[64];
	int32_t		 ex[2];
	int		 status, rv;
	pid_t		 pid;

	for (;;) {
		pid = wait4(-1, &status, WNOHANG, &ru);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		if ((rv = proc_role_died(&parent_ps, pid, status,
		    &ru)) == -1) {
			parent_emergency();
			continue;
		}
		if (rv == 1)
			continue;
		if ((sv = service_find(pid)) == NULL) {
			log_debug("reaped orphan pid %d", pid);
			continue;
		}
		wait_status_str(status, why, sizeof(why));
		log_debug("%s-%u (pid %d): %s", sv->sv_name, sv->sv_idx, pid,
		    why);
		/* the engine has its own copies of the pipes */
		if (sv->sv_out != -1)
			close(sv->sv_out);
		if (sv->sv_err != -1)
			close(sv->sv_err);
		sv->sv_out = sv->sv_err = -1;
		sv->sv_exited = 1;
		sv->sv_status = status;
		if (parent->pa_shutdown == 2) {
			service_free(sv);
			continue;
		}
		ex[0] = pid;
		ex[1] = status;
		proc_compose(&parent_ps, PROC_ENGINE, IMSG_EXIT, 0, -1, ex,
		    sizeof(ex));
	}
	if (parent->pa_shutdown == 2) {
		TAILQ_FOREACH(sv, &parent->pa_services, sv_entry)
			if (!sv->sv_exited)
				return;
		evtimer_del(&parent->pa_timer);
		parent_finish(parent->pa_status);
	}
}

/*
 * A hook runs like an instance of a process made for it: its command,
 * env and directory, the daemon's user, PHPEEK_PM_HOOK_NAME set.
 */
static int
parent_spawn_hook(struct hook_conf *hk, struct spawn_result *sr)
{
	struct proc_conf	 pc;
	char			*kv;
	int			 rv;

	memset(&pc, 0, sizeof(pc));
	strlcpy(pc.pc_name, hk->hk_name, sizeof(pc.pc_name));
	pc.pc_command = hk->hk_command;
	pc.pc_workdir = hk->hk_workdir;
	pc.pc_umask = -1;
	if (strlist_copy(&pc.pc_env, &hk->hk_env) == -1 ||
	    asprintf(&kv, "PHPEEK_PM_HOOK_NAME=%s", hk->hk_name) == -1)
		fatal("%s", __func__);
	if (strlist_add(&pc.pc_env, kv) == -1)
		fatal("%s", __func__);
	free(kv);
	rv = spawn_instance(&pc, 0, SPAWN_INSTANCE, sr);
	strlist_free(&pc.pc_env);
	return (rv);
}

static void
parent_spawn(struct imsg *imsg)
{
	struct privsep		*ps = &parent_ps;
	struct spawn_result	 sr;
	struct proc_conf	*pc;
	struct service		*sv;
	struct final		*fi;
	struct hook_conf	*hk;
	struct ibuf		 buf, *reply;
	char			 name[CONF_NAME_MAX];
	uint32_t		 idx, token = imsg_get_peerid(imsg), pid;
	uint8_t			 kind;

	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_strbuf(&buf, name, sizeof(name)) == -1 ||
	    ibuf_get_u32(&buf, &idx) == -1 || ibuf_get_u8(&buf, &kind) == -1 ||
	    ibuf_left(&buf) != 0 || kind > SPAWN_HOOK ||
	    (kind != SPAWN_HOOK && idx >= CONF_SCALE_MAX)) {
		log_warnx("engine: malformed spawn request");
		kill(ps->ps_roles[PROC_ENGINE].rs_pid, SIGKILL);
		return;
	}
	memset(&sr, 0, sizeof(sr));
	if (kind == SPAWN_INSTANCE && (fi = final_find(name, idx)) != NULL) {
		TAILQ_REMOVE(&parent->pa_finals, fi, fi_entry);
		free(fi);
	}
	if (kind == SPAWN_HOOK) {
		/* hooks run at shutdown too: pre-stop and post-stop */
		if ((hk = config_hook_find(parent->pa_conf, name,
		    (int)(idx >> 16), idx & 0xffff)) == NULL)
			sr.sr_errno = ENOENT;
		else if (parent_spawn_hook(hk, &sr) == 0)
			goto spawned;
	} else if (parent->pa_shutdown && !parent->pa_draining)
		/* while draining, services still run and restart */
		sr.sr_errno = ESHUTDOWN;
	else if ((pc = config_proc_find(parent->pa_conf, name)) == NULL ||
	    !pc->pc_enabled ||
	    (kind == SPAWN_HEALTH && pc->pc_health.hc_type != HC_EXEC))
		sr.sr_errno = ENOENT;
	else if (spawn_instance(pc, (int)idx, kind, &sr) == 0) {
 spawned:
		if ((sv = calloc(1, sizeof(*sv))) == NULL)
			fatal("%s", __func__);
		sv->sv_pid = sr.sr_pid;
		strlcpy(sv->sv_name, name, sizeof(sv->sv_name));
		sv->sv_idx = idx;
		sv->sv_kind = kind;
		sv->sv_started = time(NULL);
		sv->sv_out = sr.sr_out == -1 ? -1 :
		    fcntl(sr.sr_out, F_DUPFD_CLOEXEC, 3);
		sv->sv_err = sr.sr_err == -1 ? -1 :
		    fcntl(sr.sr_err, F_DUPFD_CLOEXEC, 3);
		TAILQ_INSERT_TAIL(&parent->pa_services, sv, sv_entry);
		log_debug("%s-%u: spawned, pid %d", name, idx, sr.sr_pid);
		pid = (uint32_t)sr.sr_pid;
		proc_compose(ps, PROC_ENGINE, IMSG_SPAWNED, token, -1, &pid,
		    sizeof(pid));
		if (sr.sr_out != -1)
			proc_compose(ps, PROC_ENGINE, IMSG_LOGFD, token,
			    sr.sr_out, &(uint8_t){ STREAM_STDOUT }, 1);
		if (sr.sr_err != -1)
			proc_compose(ps, PROC_ENGINE, IMSG_LOGFD, token,
			    sr.sr_err, &(uint8_t){ STREAM_STDERR }, 1);
		if (sr.sr_notify != -1)
			proc_compose(ps, PROC_ENGINE, IMSG_NOTIFYFD, token,
			    sr.sr_notify, NULL, 0);
		return;
	}
	if (sr.sr_what[0] == '\0')
		strlcpy(sr.sr_what, "not in the configuration",
		    sizeof(sr.sr_what));
	if ((reply = proc_create(ps, PROC_ENGINE, IMSG_SPAWN_FAILED, token,
	    80)) == NULL)
		return;
	if (ibuf_add_u32(reply, (uint32_t)sr.sr_errno) == -1 ||
	    ibuf_add_str(reply, sr.sr_what) == -1) {
		imsg_abort(reply);
		return;
	}
	proc_close(ps, PROC_ENGINE, reply);
}

static int
parent_dispatch_config(struct imsgev *iev, struct imsg *imsg)
{
	struct ibuf	 buf;
	uint8_t		 sev;
	uint32_t	 line, col;
	char		*msg;
	int		 rv;

	switch (imsg_get_type(imsg)) {
	case IMSG_CFG_DIAG:
		imsg_get_ibuf(imsg, &buf);
		if (ibuf_get_u8(&buf, &sev) == -1 ||
		    ibuf_get_u32(&buf, &line) == -1 ||
		    ibuf_get_u32(&buf, &col) == -1 ||
		    ibuf_get_str(&buf, &msg) == -1 || sev > DIAG_SUGGESTION)
			return (-1);
		logit(sev == DIAG_ERROR ? LOG_LVL_ERROR : sev == DIAG_WARNING ?
		    LOG_LVL_WARN : LOG_LVL_INFO, "%s:%u:%u: %s: %s",
		    parent->pa_path, line, col, diag_severity(sev), msg);
		/* the first error is what a reload request is told */
		if (sev == DIAG_ERROR && parent->pa_reload_msg[0] == '\0' &&
		    parent->pa_editing && line == 0)
			/* about the request's own fields */
			strlcpy(parent->pa_reload_msg, msg,
			    sizeof(parent->pa_reload_msg));
		else if (sev == DIAG_ERROR && parent->pa_reload_msg[0] == '\0')
			snprintf(parent->pa_reload_msg,
			    sizeof(parent->pa_reload_msg), "%s:%u:%u: %s",
			    parent->pa_path, line, col, msg);
		free(msg);
		return (0);
	case IMSG_CFG_FAILED:
		if (imsg_get_peerid(imsg) != parent->pa_generation)
			return (-1);
		parent->pa_loading = 0;
		parent_text_drop();
		config_free(parent->pa_pending);
		parent->pa_pending = NULL;
		if (parent->pa_conf == NULL) {
			log_warnx("%s: configuration invalid", parent->pa_path);
			parent_finish(1);
		}
		log_warnx("%s failed: keeping configuration generation %u",
		    parent->pa_editing ? "change" : "reload",
		    parent->pa_conf->cf_generation);
		parent_reload_reply(parent->pa_editing ? 400 : 422,
		    parent->pa_reload_msg);
		if (!parent->pa_editing)
			proc_compose(&parent_ps, PROC_API, IMSG_CFG_RESULT, 0,
			    -1, &(uint8_t){ 0 }, 1);
		parent->pa_editing = 0;
		parent_config_idle();
		return (0);
	case IMSG_CFG_SAVE_DATA:
		return (parent_save_data(imsg));
	case IMSG_CFG_SAVE_DONE:
		return (parent_save_done(imsg));
	case IMSG_CFG_CHECKED:
		return (parent_checked(imsg));
	case IMSG_CFG_GLOBAL:
	case IMSG_CFG_PROC:
	case IMSG_CFG_HOOK:
	case IMSG_CFG_DONE:
		if (imsg_get_peerid(imsg) != parent->pa_generation)
			return (-1);
		if ((rv = config_recv(&parent->pa_pending, imsg)) == -1)
			return (-1);
		if (rv == 1) {
			parent_install(parent->pa_pending);
			parent->pa_pending = NULL;
		}
		return (0);
	}
	return (-1);
}

static int
parent_dispatch_engine(struct imsgev *iev, struct imsg *imsg)
{
	struct service	*sv;
	uint32_t	 msg[2], kmsg[3];
	int32_t		 status;
	uint8_t		 ready;

	switch (imsg_get_type(imsg)) {
	case IMSG_SPAWN:
		parent_spawn(imsg);
		return (0);
	case IMSG_KILL:
		if (imsg_get_data(imsg, kmsg, sizeof(kmsg)) == -1 ||
		    kmsg[1] < 1 || kmsg[1] >= NSIG || kmsg[2] > KILL_MAIN)
			return (-1);
		/* only services we started, never a reused pid */
		if ((sv = service_find((pid_t)kmsg[0])) == NULL ||
		    sv->sv_exited)
			return (0);
		if ((kmsg[2] == KILL_MAIN || kill(-sv->sv_pid,
		    (int)kmsg[1]) == -1) && kill(sv->sv_pid, (int)kmsg[1]) == -1)
			log_warn("kill %s-%u", sv->sv_name, sv->sv_idx);
		return (0);
	case IMSG_INSTANCE_FINAL:
		return (parent_final(imsg));
	case IMSG_PROC_INTENT:
		return (parent_intent(imsg));
	case IMSG_SHUTDOWN_REQUEST:
		if (imsg_get_data(imsg, &status, sizeof(status)) == -1 ||
		    status < 0 || status > 255)
			return (-1);
		if (!parent->pa_shutdown) {
			parent->pa_status = status;
			parent->pa_nodelay = 1;
			parent_shutdown("the engine asked");
		}
		return (0);
	case IMSG_READY_FILE:
		if (imsg_get_data(imsg, &ready, sizeof(ready)) == -1 ||
		    ready > 1)
			return (-1);
		/* once a shutdown has begun the file stays away */
		if (!parent->pa_shutdown && parent->pa_conf != NULL)
			readyfile_set(&parent->pa_conf->cf_global, ready);
		return (0);
	case IMSG_EXIT_ACK:
		if (imsg_get_data(imsg, msg, sizeof(msg[0])) == -1)
			return (-1);
		if ((sv = service_find((pid_t)msg[0])) != NULL &&
		    sv->sv_exited)
			service_free(sv);
		return (0);
	case IMSG_SHUTDOWN_DONE:
		if (imsg_get_data(imsg, &status, sizeof(status)) == -1)
			return (-1);
		if (status < 0 || status > 255)
			return (-1);
		if (!parent->pa_shutdown)
			log_info("engine finished: every process has ended");
		parent_finish(status != 0 ? status : parent->pa_status);
	}
	return (-1);
}

static int
parent_dispatch_api(struct imsgev *iev, struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_RELOAD:
		if (imsg_get_len(imsg) != 0 || imsg_get_peerid(imsg) == 0)
			return (-1);
		if (parent->pa_loading || parent->pa_saving ||
		    parent->pa_reload_id != 0 || parent->pa_shutdown) {
			/* the request in progress still gets its answer */
			parent_reply_to(imsg_get_peerid(imsg), 409,
			    parent->pa_shutdown ? "shutting down" :
			    "a reload is already running");
			return (0);
		}
		log_info("reload requested through the api");
		parent->pa_reload_id = imsg_get_peerid(imsg);
		parent_load_config();
		return (0);
	case IMSG_CTL_EDIT:
		return (parent_edit(imsg));
	}
	return (-1);
}

/*
 * A process added, changed or removed through the API: the config role
 * checks it against the file and every earlier change and, if it holds,
 * sends a new generation, installed as a reload's.  Or config/save.
 */
static int
parent_edit(struct imsg *imsg)
{
	struct ibuf	 buf, *out = NULL;
	uint32_t	 id = imsg_get_peerid(imsg);
	uint8_t		 op;
	char		 name[CONF_NAME_MAX], *json = NULL;

	imsg_get_ibuf(imsg, &buf);
	if (id == 0 || ibuf_get_u8(&buf, &op) == -1 ||
	    ibuf_get_strbuf(&buf, name, sizeof(name)) == -1 ||
	    ibuf_get_str(&buf, &json) == -1 || ibuf_left(&buf) != 0 ||
	    op < CTL_ADD || op > CTL_VALIDATE) {
		free(json);
		return (-1);
	}
	if (parent->pa_loading || parent->pa_saving ||
	    parent->pa_reload_id != 0 || parent->pa_shutdown ||
	    parent->pa_conf == NULL) {
		free(json);
		parent_reply_to(id, 409, parent->pa_shutdown ?
		    "shutting down" : "a reload or change is already running");
		return (0);
	}
	parent->pa_reload_id = id;
	parent->pa_reload_msg[0] = '\0';
	if (op == CTL_VALIDATE) {
		free(json);
		parent_validate(id);
		return (0);
	}
	if (op == CTL_SAVE) {
		free(json);
		log_info("configuration save requested through the api");
		parent->pa_saving = 1;
		if (parent_config_up() == -1 ||
		    proc_compose(&parent_ps, PROC_CONFIG, IMSG_CFG_SAVE, id,
		    -1, NULL, 0) == -1) {
			parent->pa_saving = 0;
			parent_reload_reply(503, "config role unavailable");
		}
		return (0);
	}
	log_info("%s %s requested through the api", op == CTL_ADD ? "adding" :
	    op == CTL_UPDATE ? "changing" : "removing", name);
	parent->pa_loading = parent->pa_editing = 1;
	parent->pa_generation++;
	if (parent_config_up() == -1 ||
	    (out = proc_create(&parent_ps, PROC_CONFIG, IMSG_CFG_EDIT,
	    parent->pa_generation, strlen(json) + CONF_NAME_MAX + 16)) ==
	    NULL || ibuf_add_u8(out, op) == -1 ||
	    ibuf_add_str(out, name) == -1 || ibuf_add_str(out, json) == -1) {
		if (out != NULL)
			imsg_abort(out);
		parent->pa_loading = parent->pa_editing = 0;
		parent_reload_reply(503, "config role unavailable");
	} else
		proc_close(&parent_ps, PROC_CONFIG, out);
	free(json);
	return (0);
}

/* config/validate: the file on disk, checked by the config role only. */
static void
parent_validate(uint32_t id)
{
	int	fd;

	if ((fd = open(parent->pa_path, O_RDONLY | O_CLOEXEC |
	    O_NONBLOCK)) == -1) {
		snprintf(parent->pa_reload_msg, sizeof(parent->pa_reload_msg),
		    "%s: %s", parent->pa_path, strerror(errno));
		parent_reload_reply(500, parent->pa_reload_msg);
		return;
	}
	if (parent_config_up() == -1) {
		close(fd);
		parent_reload_reply(503, "config role unavailable");
		return;
	}
	parent->pa_saving = 1;		/* busy, as with a save */
	if (proc_compose(&parent_ps, PROC_CONFIG, IMSG_CFG_CHECK, id, fd,
	    NULL, 0) == -1) {
		parent->pa_saving = 0;
		parent_reload_reply(503, "config role unavailable");
	}
}

static int
parent_checked(struct imsg *imsg)
{
	struct ibuf	 buf;
	uint32_t	 valid;
	char		*report = NULL;

	imsg_get_ibuf(imsg, &buf);
	if (!parent->pa_saving || imsg_get_peerid(imsg) !=
	    parent->pa_reload_id || ibuf_get_u32(&buf, &valid) == -1 ||
	    ibuf_get_str(&buf, &report) == -1 || ibuf_left(&buf) != 0) {
		free(report);
		return (-1);
	}
	parent->pa_saving = 0;
	/* the api hands the report on as the body */
	parent_reload_reply(valid ? 200 : 299, report);
	free(report);
	parent_config_idle();
	return (0);
}

static int
parent_save_data(struct imsg *imsg)
{
	size_t	 len = imsg_get_len(imsg);
	char	*p;

	if (!parent->pa_saving || imsg_get_peerid(imsg) !=
	    parent->pa_reload_id || parent->pa_save_len + len > CONF_FILE_MAX)
		return (-1);
	if ((p = realloc(parent->pa_save, parent->pa_save_len + len)) == NULL)
		fatal("%s", __func__);
	memcpy(p + parent->pa_save_len, imsg->data, len);
	parent->pa_save = p;
	parent->pa_save_len += len;
	return (0);
}

static int
parent_save_done(struct imsg *imsg)
{
	struct ibuf	 buf;
	uint32_t	 failed;
	char		*err = NULL, why[PATH_MAX + 128];
	int		 rv = 0;

	imsg_get_ibuf(imsg, &buf);
	if (!parent->pa_saving || imsg_get_peerid(imsg) !=
	    parent->pa_reload_id || ibuf_get_u32(&buf, &failed) == -1 ||
	    ibuf_get_str(&buf, &err) == -1 || ibuf_left(&buf) != 0)
		rv = -1;
	else if (failed) {
		log_warnx("save failed: %s", err);
		parent_reload_reply(500, err);
	} else if (file_replace(parent->pa_path, parent->pa_save,
	    parent->pa_save_len, why, sizeof(why)) == -1) {
		log_warnx("save failed: %s", why);
		parent_reload_reply(500, why);
	} else {
		log_info("configuration saved to %s", parent->pa_path);
		parent_reload_reply(200, "Configuration saved successfully");
	}
	free(err);
	free(parent->pa_save);
	parent->pa_save = NULL;
	parent->pa_save_len = 0;
	parent->pa_saving = 0;
	parent_config_idle();
	return (rv);
}

static void
parent_shutdown(const char *why)
{
	struct global_conf	*gc;
	struct timeval		 tv;

	if (parent->pa_shutdown) {
		/*
		 * timeout(1) and some runtimes signal the process and its
		 * group: one stop request arrives twice at once.  Only a
		 * second request a moment later forces the shutdown.
		 */
		if (now_ms() - parent->pa_shutdown_at < SHUTDOWN_REPEAT_MS)
			return;
		log_warnx("%s again: killing every process now", why);
		parent_kill_all(SIGKILL);
		parent_finish(1);
	}
	log_info("%s: shutting down", why);
	/* traffic stops coming before anything is stopped */
	readyfile_remove("shutting down");
	if (parent_ps.ps_iev[PROC_API] != NULL)
		(void)proc_compose(&parent_ps, PROC_API, IMSG_SHUTDOWN, 0, -1,
		    NULL, 0);
	parent->pa_shutdown = 1;
	parent->pa_shutdown_at = now_ms();
	if (parent->pa_conf == NULL)
		parent_finish(0);
	gc = &parent->pa_conf->cf_global;
	if (gc->gc_shutdown_delay_ms > 0 && !parent->pa_nodelay) {
		/* for load balancers to notice the file is gone */
		log_info("shutdown_delay: stopping in %lldms",
		    (long long)gc->gc_shutdown_delay_ms);
		parent->pa_draining = 1;
		evtimer_set(&parent->pa_timer, parent_shutdown_cb, NULL);
		ms_to_tv(gc->gc_shutdown_delay_ms, &tv);
		evtimer_add(&parent->pa_timer, &tv);
		return;
	}
	parent_shutdown_cb(-1, 0, NULL);
}

/* The stop itself: the engine stops everything, bounded from here. */
static void
parent_shutdown_cb(int fd, short event, void *arg)
{
	struct global_conf	*gc = &parent->pa_conf->cf_global;
	struct timeval		 tv;

	parent->pa_draining = 0;
	if (parent_ps.ps_iev[PROC_ENGINE] == NULL ||
	    proc_compose(&parent_ps, PROC_ENGINE, IMSG_SHUTDOWN, 0, -1,
	    NULL, 0) == -1) {
		parent->pa_shutdown = 2;
		parent_stop_services(0);
		return;
	}
	/* the engine has shutdown_timeout; this is the hard bound */
	evtimer_set(&parent->pa_timer, parent_timeout_cb, NULL);
	ms_to_tv((int64_t)gc->gc_shutdown_timeout * 1000 + SHUTDOWN_GRACE_MS,
	    &tv);
	evtimer_add(&parent->pa_timer, &tv);
}

/*
 * The parent stops services itself: when the engine is gone, or when
 * roles crash in a loop.  SIGTERM to each group, SIGKILL after
 * shutdown_timeout.
 */
static void
parent_stop_services(int status)
{
	struct timeval	tv;
	int		timeout = 30;

	parent->pa_status = status;
	readyfile_remove("stopping every service");
	if (parent->pa_conf != NULL)
		timeout = parent->pa_conf->cf_global.gc_shutdown_timeout;
	parent_kill_all(SIGTERM);
	evtimer_del(&parent->pa_timer);
	evtimer_set(&parent->pa_timer, parent_timeout_cb, NULL);
	ms_to_tv((int64_t)timeout * 1000, &tv);
	evtimer_add(&parent->pa_timer, &tv);
	parent_reap();
}

/*
 * A role keeps crashing: trust none of them any more.  Stop the roles,
 * stop every service from here, and exit non-zero.
 */
static void
parent_emergency(void)
{
	int	id;

	if (parent->pa_shutdown == 2)
		return;
	log_warnx("giving up on the roles: stopping every service");
	for (id = PROC_PARENT + 1; id < PROC_MAX; id++) {
		parent_ps.ps_roles[id].rs_stopping = 1;
		if (parent_ps.ps_roles[id].rs_pid > 0)
			kill(parent_ps.ps_roles[id].rs_pid, SIGKILL);
	}
	parent->pa_shutdown = 2;
	parent_stop_services(1);
}

static void
parent_timeout_cb(int fd, short event, void *arg)
{
	log_warnx("shutdown timeout: killing every remaining process");
	parent_kill_all(SIGKILL);
	/* a process's own status, when it asked for the shutdown */
	parent_finish(parent->pa_nodelay && parent->pa_status != 0 ?
	    parent->pa_status : 1);
}

static void
parent_kill_all(int sig)
{
	struct service	*sv;

	TAILQ_FOREACH(sv, &parent->pa_services, sv_entry)
		if (!sv->sv_exited && kill(-sv->sv_pid, sig) == -1)
			(void)kill(sv->sv_pid, sig);
}

static void
parent_alarm(int sig)
{
	(void)sig;	/* interrupts the final waitpid */
}

/*
 * Stop the roles and reap until nothing is left (bounded), then exit.
 * As PID 1 our exit also ends whatever is still in the namespace.
 */
static __dead void
parent_finish(int status)
{
	struct sigaction	 sa;
	struct service		*sv;
	int			 id, st;
	pid_t			 pid;

	for (id = PROC_PARENT + 1; id < PROC_MAX; id++) {
		parent_ps.ps_roles[id].rs_stopping = 1;
		if (parent_ps.ps_iev[id] != NULL) {
			imsgbuf_flush(&parent_ps.ps_iev[id]->ibuf);
			proc_channel_close(parent_ps.ps_iev[id]);
		}
	}
	TAILQ_FOREACH(sv, &parent->pa_services, sv_entry)
		if (!sv->sv_exited)
			(void)kill(-sv->sv_pid, SIGKILL);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = parent_alarm;
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGCHLD, SIG_DFL);
	alarm(2);
	/* ECHILD: all reaped; EINTR: the alarm, roles took too long */
	do {
		pid = waitpid(-1, &st, 0);
	} while (pid > 0);
	alarm(0);
	for (id = PROC_PARENT + 1; id < PROC_MAX; id++)
		if (parent_ps.ps_roles[id].rs_pid > 0)
			kill(parent_ps.ps_roles[id].rs_pid, SIGKILL);
	listen_close();
	readyfile_remove("exiting");
	log_info("exiting with status %d", status);
	exit(status);
}
