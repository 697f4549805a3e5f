/*
 * Unit tests of the configuration parser: values and defaults as
 * phpeek-pm gives them, each diagnostic at its line and column, and
 * hostile input that must fail cleanly, fast and without leaks (run
 * under valgrind or ASan: CK_FORK=no valgrind --leak-check=full).
 */

#include <sys/types.h>

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phpeekd.h"

static struct parse_result	pr;

/*
 * Every input is copied to a buffer of exactly its length, with no
 * NUL after it, so a parser that reads past len is caught by ASan or
 * valgrind.
 */
static int
parse_len(const char *text, size_t len)
{
	char	*buf;
	int	 rv;

	if ((buf = malloc(len == 0 ? 1 : len)) == NULL)
		ck_abort_msg("malloc");
	memcpy(buf, text, len);
	rv = parse_config("t.yaml", buf, len, &pr);
	free(buf);
	return (rv);
}

static int
parse(const char *text)
{
	return (parse_len(text, strlen(text)));
}

/* The diagnostic whose message contains s, or NULL. */
static struct diag *
find(const char *s)
{
	struct diag	*d;

	TAILQ_FOREACH(d, &pr.pr_diags, d_entry)
		if (strstr(d->d_msg, s) != NULL)
			return (d);
	return (NULL);
}

static int
count(const char *s)
{
	struct diag	*d;
	int		 n = 0;

	TAILQ_FOREACH(d, &pr.pr_diags, d_entry)
		if (strstr(d->d_msg, s) != NULL)
			n++;
	return (n);
}

static void
expect_at(const char *s, int sev, int line, int col)
{
	struct diag	*d;

	d = find(s);
	ck_assert_msg(d != NULL, "no diagnostic containing \"%s\"", s);
	ck_assert_msg(d->d_severity == sev && d->d_line == line &&
	    d->d_col == col, "\"%s\": severity %d at %d:%d, expected %d at "
	    "%d:%d", d->d_msg, d->d_severity, d->d_line, d->d_col, sev, line,
	    col);
}

/* The parse fails with exactly one error, s at line:col. */
static void
expect_error(const char *text, const char *s, int line, int col)
{
	ck_assert_msg(parse(text) == -1, "accepted: %s", text);
	ck_assert_ptr_null(pr.pr_conf);
	expect_at(s, DIAG_ERROR, line, col);
	ck_assert_int_eq(pr.pr_errors, 1);
	parse_result_clear(&pr);
}

/* pr_errors and pr_warnings are what the list holds. */
static void
check_counts(void)
{
	struct diag	*d;
	int		 e = 0, w = 0;

	TAILQ_FOREACH(d, &pr.pr_diags, d_entry) {
		ck_assert_int_ge(d->d_severity, DIAG_ERROR);
		ck_assert_int_le(d->d_severity, DIAG_SUGGESTION);
		if (d->d_severity == DIAG_ERROR)
			e++;
		else if (d->d_severity == DIAG_WARNING)
			w++;
	}
	ck_assert_int_eq(pr.pr_errors, e);
	ck_assert_int_eq(pr.pr_warnings, w);
}

static double
seconds(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

static struct proc_conf *
proc(const char *name)
{
	struct proc_conf	*pc;

	ck_assert_ptr_nonnull(pr.pr_conf);
	pc = config_proc_find(pr.pr_conf, name);
	ck_assert_msg(pc != NULL, "no process %s", name);
	return (pc);
}

static void
teardown(void)
{
	parse_result_clear(&pr);
}

#define ONE_PROC	"processes:\n  a: {enabled: true, command: [x]}\n"

/* A phpeek-pm configuration as its documentation writes them. */
START_TEST(test_full)
{
	struct phpeekd_conf	*cf;
	struct proc_conf	*pc;
	const char		*names[] = { "horizon", "migrate", "nginx",
				    "php-fpm", "worker" };
	size_t			 i;

	ck_assert_int_eq(parse(
	    "version: \"1.0\"\n"
	    "global:\n"
	    "  shutdown_timeout: 25\n"
	    "  restart_policy: on-failure\n"
	    "  max_restart_attempts: 10\n"
	    "  restart_backoff: 2\n"
	    "  restart_backoff_max: 1m30s\n"
	    "  log_format: text\n"
	    "  log_level: debug\n"
	    "  api_port: 9180\n"
	    "  api_auth: token\n"
	    "  api_tls: {enabled: false}\n"
	    "  metrics_acl: {enabled: true, allow_list: [10.0.0.0/8]}\n"
	    "  readiness: {enabled: false, path: /tmp/ready}\n"
	    "  dependency_timeout: 5m\n"
	    "  zombie_reap_interval: 1s\n"
	    "  audit_enabled: true\n"
	    "hooks:\n"
	    "  pre-start:\n"
	    "    - name: warm\n"
	    "      command: [php, artisan, config:cache]\n"
	    "processes:\n"
	    "  worker:\n"
	    "    enabled: yes\n"
	    "    scale: 3.9\n"
	    "    command: [\"php\", \"artisan\", \"queue:work\"]\n"
	    "    depends_on: [php-fpm, migrate]\n"
	    "    user: 33\n"
	    "    group: www-data\n"
	    "    working_dir: /var/www/html\n"
	    "    env:\n"
	    "      QUEUE: high\n"
	    "      APP_ENV: production\n"
	    "      RETRIES: 3\n"
	    "      EMPTY:\n"
	    "    logging: {stdout: true, min_level: info}\n"
	    "  php-fpm:\n"
	    "    enabled: On\n"
	    "    restart: always\n"
	    "    command: [php-fpm, -F]\n"
	    "    stdout: true\n"
	    "    health_check: {type: tcp, address: \"127.0.0.1:9000\"}\n"
	    "    shutdown:\n"
	    "      signal: SIGQUIT\n"
	    "      timeout: 20\n"
	    "      kill_signal: SIGKILL\n"
	    "      graceful: true\n"
	    "  nginx:\n"
	    "    enabled: true\n"
	    "    command: [nginx, -g, \"daemon off;\"]\n"
	    "    depends_on: [php-fpm]\n"
	    "    shutdown: {timeout: 0}\n"
	    "  migrate:\n"
	    "    enabled: true\n"
	    "    type: oneshot\n"
	    "    restart: never\n"
	    "    command: [php, artisan, migrate, --force]\n"
	    "  horizon:\n"
	    "    enabled: false\n"
	    "    command: [php, artisan, horizon]\n"
	    "    initial_state: stopped\n"
	    "    max_scale: 4\n"
	    "    heartbeat: {url: \"https://hc.example/1\"}\n"), 0);
	check_counts();
	ck_assert_int_eq(pr.pr_errors, 0);
	ck_assert_ptr_null(find("unknown key"));
	cf = pr.pr_conf;
	ck_assert_ptr_nonnull(cf);
	ck_assert_int_eq(cf->cf_global.gc_shutdown_timeout, 25);
	ck_assert_int_eq(cf->cf_global.gc_restart_policy, RESTART_ON_FAILURE);
	ck_assert_int_eq(cf->cf_global.gc_max_restart_attempts, 10);
	/* restart_backoff seeds the initial delay, the max is set */
	ck_assert_int_eq(cf->cf_global.gc_backoff_initial_ms, 2000);
	ck_assert_int_eq(cf->cf_global.gc_backoff_max_ms, 90000);
	ck_assert_int_eq(cf->cf_global.gc_log_format, LOG_FMT_TEXT);
	ck_assert_int_eq(cf->cf_global.gc_log_level, LOG_LVL_DEBUG);

	/* sorted by name, and counted */
	ck_assert_uint_eq(cf->cf_nprocs, 5);
	i = 0;
	TAILQ_FOREACH(pc, &cf->cf_procs, pc_entry)
		ck_assert_str_eq(pc->pc_name, names[i++]);
	ck_assert_uint_eq(i, 5);

	pc = proc("worker");
	ck_assert_int_eq(pc->pc_enabled, 1);
	ck_assert_int_eq(pc->pc_scale, 3);
	ck_assert_int_eq(pc->pc_type, PTYPE_LONGRUN);
	/* the global policy is the default */
	ck_assert_int_eq(pc->pc_restart, RESTART_ON_FAILURE);
	ck_assert_uint_eq(pc->pc_command.sl_n, 3);
	ck_assert_str_eq(pc->pc_command.sl_v[2], "queue:work");
	ck_assert_ptr_null(pc->pc_command.sl_v[3]);
	/* env in file order */
	ck_assert_uint_eq(pc->pc_env.sl_n, 4);
	ck_assert_str_eq(pc->pc_env.sl_v[0], "QUEUE=high");
	ck_assert_str_eq(pc->pc_env.sl_v[1], "APP_ENV=production");
	ck_assert_str_eq(pc->pc_env.sl_v[2], "RETRIES=3");
	ck_assert_str_eq(pc->pc_env.sl_v[3], "EMPTY=");
	ck_assert_uint_eq(pc->pc_depends.sl_n, 2);
	ck_assert_str_eq(pc->pc_depends.sl_v[0], "php-fpm");
	ck_assert_str_eq(pc->pc_depends.sl_v[1], "migrate");
	ck_assert_str_eq(pc->pc_user, "33");
	ck_assert_str_eq(pc->pc_group, "www-data");
	ck_assert_str_eq(pc->pc_workdir, "/var/www/html");
	ck_assert_int_eq(pc->pc_stop_signal, SIGTERM);
	ck_assert_int_eq(pc->pc_stop_timeout, 30);

	pc = proc("php-fpm");
	ck_assert_int_eq(pc->pc_restart, RESTART_ALWAYS);
	ck_assert_int_eq(pc->pc_stop_signal, SIGQUIT);
	ck_assert_int_eq(pc->pc_stop_timeout, 20);
	ck_assert_int_eq(pc->pc_scale, 1);
	ck_assert_ptr_null(pc->pc_user);

	pc = proc("nginx");
	ck_assert_str_eq(pc->pc_command.sl_v[2], "daemon off;");
	ck_assert_int_eq(pc->pc_stop_timeout, 30);	/* 0 -> 30 */

	pc = proc("migrate");
	ck_assert_int_eq(pc->pc_type, PTYPE_ONESHOT);
	ck_assert_int_eq(pc->pc_restart, RESTART_NEVER);

	pc = proc("horizon");
	ck_assert_int_eq(pc->pc_enabled, 0);
	ck_assert_ptr_nonnull(find("processes.horizon is defined but "
	    "disabled"));
}
END_TEST

START_TEST(test_defaults)
{
	struct global_conf	*gc;
	struct proc_conf	*pc;

	ck_assert_int_eq(parse(ONE_PROC), 0);
	check_counts();
	gc = &pr.pr_conf->cf_global;
	ck_assert_int_eq(gc->gc_shutdown_timeout, 30);
	ck_assert_int_eq(gc->gc_restart_policy, RESTART_ALWAYS);
	ck_assert_int_eq(gc->gc_max_restart_attempts, 3);
	ck_assert_int_eq(gc->gc_backoff_initial_ms, 5000);
	ck_assert_int_eq(gc->gc_backoff_max_ms, 60000);
	ck_assert_int_eq(gc->gc_log_format, LOG_FMT_JSON);
	ck_assert_int_eq(gc->gc_log_level, LOG_LVL_INFO);
	pc = proc("a");
	ck_assert_int_eq(pc->pc_enabled, 1);
	ck_assert_int_eq(pc->pc_type, PTYPE_LONGRUN);
	ck_assert_int_eq(pc->pc_restart, RESTART_ALWAYS);
	ck_assert_int_eq(pc->pc_scale, 1);
	ck_assert_int_eq(pc->pc_stop_signal, SIGTERM);
	ck_assert_int_eq(pc->pc_stop_timeout, 30);
	ck_assert_uint_eq(pc->pc_env.sl_n, 0);
	ck_assert_uint_eq(pc->pc_depends.sl_n, 0);
	parse_result_clear(&pr);

	/* zero means the default (phpeek-pm's zero-value rule) */
	ck_assert_int_eq(parse(
	    "global:\n"
	    "  shutdown_timeout: 0\n"
	    "  max_restart_attempts: 0\n"
	    "  restart_backoff: 0\n"
	    "processes:\n"
	    "  a: {enabled: true, command: [x], scale: 0}\n"), 0);
	gc = &pr.pr_conf->cf_global;
	ck_assert_int_eq(gc->gc_shutdown_timeout, 30);
	ck_assert_int_eq(gc->gc_max_restart_attempts, 3);
	ck_assert_int_eq(gc->gc_backoff_initial_ms, 5000);
	ck_assert_int_eq(gc->gc_backoff_max_ms, 60000);
	ck_assert_int_eq(proc("a")->pc_scale, 1);
	parse_result_clear(&pr);

	/* null is absent */
	ck_assert_int_eq(parse(
	    "global:\n"
	    "  shutdown_timeout: ~\n"
	    "  log_level:\n"
	    "processes:\n"
	    "  a: {enabled: true, command: [x], scale: null}\n"), 0);
	ck_assert_int_eq(pr.pr_conf->cf_global.gc_shutdown_timeout, 30);
	ck_assert_int_eq(pr.pr_conf->cf_global.gc_log_level, LOG_LVL_INFO);
	ck_assert_int_eq(proc("a")->pc_scale, 1);
}
END_TEST

START_TEST(test_durations)
{
	struct global_conf	*gc;

	/* the legacy key seeds both: initial B s, max 12 B s */
	ck_assert_int_eq(parse("global:\n  restart_backoff: 2\n" ONE_PROC),
	    0);
	gc = &pr.pr_conf->cf_global;
	ck_assert_int_eq(gc->gc_backoff_initial_ms, 2000);
	ck_assert_int_eq(gc->gc_backoff_max_ms, 24000);
	parse_result_clear(&pr);

	/* the duration keys win over it */
	ck_assert_int_eq(parse(
	    "global:\n"
	    "  restart_backoff: 2\n"
	    "  restart_backoff_initial: 1m30s\n"
	    "  restart_backoff_max: 500ms\n" ONE_PROC), 0);
	gc = &pr.pr_conf->cf_global;
	ck_assert_int_eq(gc->gc_backoff_initial_ms, 90000);
	ck_assert_int_eq(gc->gc_backoff_max_ms, 500);
	parse_result_clear(&pr);

	ck_assert_int_eq(parse(
	    "global:\n"
	    "  restart_backoff_initial: \"1.5s\"\n"
	    "  restart_backoff_max: 0\n" ONE_PROC), 0);
	gc = &pr.pr_conf->cf_global;
	ck_assert_int_eq(gc->gc_backoff_initial_ms, 1500);
	ck_assert_int_eq(gc->gc_backoff_max_ms, 0);
	parse_result_clear(&pr);

	/* a bare number needs a unit */
	expect_error("global:\n  restart_backoff_initial: 30\n" ONE_PROC,
	    "global.restart_backoff_initial: \"30\" needs a unit, e.g. "
	    "\"30s\"", 2, 28);
	expect_error("global:\n  restart_backoff_max: 2.5\n" ONE_PROC,
	    "needs a unit, e.g. \"2.5s\"", 2, 24);
	expect_error("global:\n  restart_backoff_max: 5 s\n" ONE_PROC,
	    "global.restart_backoff_max: \"5 s\" is not a duration", 2, 24);
	expect_error("global:\n  restart_backoff_max: -5s\n" ONE_PROC,
	    "global.restart_backoff_max: \"-5s\" is negative", 2, 24);
	expect_error("global:\n  restart_backoff_max: [5s]\n" ONE_PROC,
	    "global.restart_backoff_max: expected a duration such as \"5s\", "
	    "got a list", 2, 24);
}
END_TEST

START_TEST(test_substitution)
{
	struct proc_conf	*pc;

	setenv("PT_SET", "from-env", 1);
	setenv("PT_EMPTY", "", 1);
	setenv("PT_SCALE", "4", 1);
	unsetenv("PT_UNSET");
	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  a:\n"
	    "    enabled: true\n"
	    "    scale: ${PT_SCALE}\n"
	    "    command: [\"${PT_SET}\", \"${PT_UNSET}\", "
	    "\"${PT_EMPTY:-dflt}\", \"${PT_UNSET:-x y}\", \"$${PT_SET}\",\n"
	    "      \"${PT_SET:-unused}\", \"${PT_EMPTY}\", \"${PT_SET:x}\",\n"
	    "      \"${}\", \"$PT_SET\", \"${PT_UNSET:-}\", \"a${PT_SET}b\"]\n"
	    "    # a comment is substituted too: ${PT_SET}\n"), 0);
	pc = proc("a");
	ck_assert_int_eq(pc->pc_scale, 4);
	ck_assert_uint_eq(pc->pc_command.sl_n, 12);
	ck_assert_str_eq(pc->pc_command.sl_v[0], "from-env");
	ck_assert_str_eq(pc->pc_command.sl_v[1], "");
	/* set but empty counts as unset for :- */
	ck_assert_str_eq(pc->pc_command.sl_v[2], "dflt");
	ck_assert_str_eq(pc->pc_command.sl_v[3], "x y");
	/* no escaping, as in phpeek-pm */
	ck_assert_str_eq(pc->pc_command.sl_v[4], "$from-env");
	ck_assert_str_eq(pc->pc_command.sl_v[5], "from-env");
	ck_assert_str_eq(pc->pc_command.sl_v[6], "");
	/* forms that are not phpeek-pm's are left as they are */
	ck_assert_str_eq(pc->pc_command.sl_v[7], "${PT_SET:x}");
	ck_assert_str_eq(pc->pc_command.sl_v[8], "${}");
	ck_assert_str_eq(pc->pc_command.sl_v[9], "$PT_SET");
	ck_assert_str_eq(pc->pc_command.sl_v[10], "");
	ck_assert_str_eq(pc->pc_command.sl_v[11], "afrom-envb");
	parse_result_clear(&pr);

	/* an unterminated ${ is text; the file ends inside it */
	ck_assert_int_eq(parse(ONE_PROC "# ${PT_SET:-x"), 0);
	parse_result_clear(&pr);

	/* the text is substituted raw: a value can change the structure */
	setenv("PT_CMD", "[sleep, \"1\"]", 1);
	ck_assert_int_eq(parse("processes:\n  a: {enabled: true, "
	    "command: ${PT_CMD}}\n"), 0);
	ck_assert_uint_eq(proc("a")->pc_command.sl_n, 2);
	parse_result_clear(&pr);

	/* an error in a substituted value is found where it lands */
	setenv("PT_SCALE", "many", 1);
	expect_error("processes:\n  a:\n    enabled: true\n    command: [x]\n"
	    "    scale: ${PT_SCALE}\n", "processes.a.scale: expected an "
	    "integer, got \"many\"", 5, 12);
	unsetenv("PT_SET");
	unsetenv("PT_EMPTY");
	unsetenv("PT_SCALE");
	unsetenv("PT_CMD");
}
END_TEST

/* The result of substitution is bounded by CONF_FILE_MAX. */
START_TEST(test_substitution_bound)
{
	char	*big, *text;
	size_t	 i, len;

	if ((big = malloc(1024 * 1024 + 1)) == NULL)
		ck_abort();
	memset(big, 'x', 1024 * 1024);
	big[1024 * 1024] = '\0';
	setenv("PT_BIG", big, 1);
	free(big);
	len = 17 * 9 + 64;
	if ((text = calloc(1, len)) == NULL)
		ck_abort();
	strlcpy(text, "# ", len);
	for (i = 0; i < 17; i++)
		strlcat(text, "${PT_BIG}", len);
	strlcat(text, "\n" ONE_PROC, len);
	ck_assert_int_eq(parse(text), -1);
	ck_assert_ptr_nonnull(find("substitution makes the file larger than "
	    "16777216 bytes"));
	check_counts();
	parse_result_clear(&pr);
	/* 15 MiB is fine */
	strlcpy(text, "# ", len);
	for (i = 0; i < 15; i++)
		strlcat(text, "${PT_BIG}", len);
	strlcat(text, "\n" ONE_PROC, len);
	ck_assert_int_eq(parse(text), 0);
	free(text);
	unsetenv("PT_BIG");
}
END_TEST

START_TEST(test_unknown_key)
{
	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  a:\n"
	    "    enabled: true\n"
	    "    command: [x]\n"
	    "    scael: 2\n"
	    "    frobnicate: 1\n"), 0);
	expect_at("unknown key 'scael' in processes.a; did you mean 'scale'?",
	    DIAG_WARNING, 5, 5);
	ck_assert_ptr_nonnull(find("unknown key 'frobnicate' in processes.a"));
	ck_assert_ptr_null(strstr(find("frobnicate")->d_msg, "did you mean"));
	/* and the API's, which has no token */
	ck_assert_int_eq(pr.pr_warnings, 3);
	ck_assert_ptr_nonnull(find("global.api_auth: the API has neither"));
	check_counts();
	parse_result_clear(&pr);

	/* at every level; a prefix counts as a likely typo */
	ck_assert_int_eq(parse(
	    "verison: 1\n"
	    "global:\n"
	    "  log_lvl: info\n"
	    "  shutdown: 3\n"
	    "  zzz: 1\n"
	    "processes:\n"
	    "  a:\n"
	    "    enabled: true\n"
	    "    command: [x]\n"
	    "    depends: []\n"
	    "    shutdown: {signl: SIGTERM, timeout: 3}\n"
	    "hook: {}\n"), 0);
	expect_at("unknown key 'verison' in the top level; did you mean "
	    "'version'?", DIAG_WARNING, 1, 1);
	expect_at("unknown key 'log_lvl' in global; did you mean "
	    "'log_level'?", DIAG_WARNING, 3, 3);
	expect_at("unknown key 'shutdown' in global; did you mean "
	    "'shutdown_timeout'?", DIAG_WARNING, 4, 3);
	expect_at("unknown key 'zzz' in global", DIAG_WARNING, 5, 3);
	ck_assert_ptr_null(strstr(find("'zzz'")->d_msg, "did you mean"));
	expect_at("unknown key 'depends' in processes.a; did you mean "
	    "'depends_on'?", DIAG_WARNING, 10, 5);
	expect_at("unknown key 'signl' in processes.a.shutdown; did you mean "
	    "'signal'?", DIAG_WARNING, 11, 16);
	expect_at("unknown key 'hook' in the top level; did you mean "
	    "'hooks'?", DIAG_WARNING, 12, 1);
	ck_assert_int_eq(proc("a")->pc_stop_timeout, 3);
	check_counts();
}
END_TEST

START_TEST(test_enabled_default)
{
	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  a:\n"
	    "    command: [x]\n"), 0);
	expect_at("processes.a: 'enabled' is not set: phpeekd runs it "
	    "(phpeek-pm would skip it); set enabled: true or false",
	    DIAG_WARNING, 2, 3);
	ck_assert_int_eq(proc("a")->pc_enabled, 1);
	parse_result_clear(&pr);
	ck_assert_int_eq(parse(ONE_PROC), 0);
	ck_assert_ptr_null(find("'enabled' is not set"));
}
END_TEST

START_TEST(test_bools)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes",
	    "Yes", "YES", "on", "On", "ON", "y", "Y", "\"true\"" };
	static const char *const no[] = { "false", "False", "FALSE", "no",
	    "No", "NO", "off", "Off", "OFF", "n", "N" };
	static const char *const bad[] = { "tRUE", "yEs", "1", "0", "enable",
	    "[true]" };
	char	 text[256];
	size_t	 i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(text, sizeof(text), "processes:\n  a: {enabled: %s, "
		    "command: [x]}\n", yes[i]);
		ck_assert_msg(parse(text) == 0, "%s refused", yes[i]);
		ck_assert_int_eq(proc("a")->pc_enabled, 1);
		parse_result_clear(&pr);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		snprintf(text, sizeof(text), "processes:\n  a: {enabled: %s, "
		    "command: [x]}\n  b: {enabled: true, command: [x]}\n",
		    no[i]);
		ck_assert_msg(parse(text) == 0, "%s refused", no[i]);
		ck_assert_int_eq(proc("a")->pc_enabled, 0);
		parse_result_clear(&pr);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "processes:\n  a: {enabled: %s, "
		    "command: [x]}\n", bad[i]);
		ck_assert_msg(parse(text) == -1, "%s accepted", bad[i]);
		expect_at("processes.a.enabled: expected true or false",
		    DIAG_ERROR, 2, 16);
		parse_result_clear(&pr);
	}
}
END_TEST

/* yaml.v3 into a Go int, then phpeekd's range. */
START_TEST(test_ints)
{
	static const struct {
		const char	*in;
		int		 out;
	} good[] = {
		{ "7", 7 }, { "+7", 7 }, { "2.9", 2 }, { "2.1", 2 },
		{ "0.5", 1 },	/* truncated to 0, then the default */
		{ "1e1", 10 }, { ".5e1", 5 }, { "0x1F", 31 }, { "0X1f", 31 },
		{ "0o17", 15 }, { "017", 15 }, { "08", 8 }, { "0b101", 5 },
		{ "1_000", 1000 }, { "999.99", 999 },
	};
	static const char *const bad[] = { "\"5\"", "'5'", "five", "5x",
	    "0x", "true", "1.2.3", "0b12", ".inf2" };
	char	 text[256];
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "processes:\n  a: {enabled: "
		    "true, command: [x], scale: %s}\n", good[i].in);
		ck_assert_msg(parse(text) == 0, "%s refused: %s", good[i].in,
		    TAILQ_FIRST(&pr.pr_diags)->d_msg);
		ck_assert_msg(proc("a")->pc_scale == good[i].out,
		    "%s: %d, expected %d", good[i].in, proc("a")->pc_scale,
		    good[i].out);
		parse_result_clear(&pr);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "processes:\n  a: {enabled: "
		    "true, command: [x], scale: %s}\n", bad[i]);
		ck_assert_msg(parse(text) == -1, "%s accepted", bad[i]);
		expect_at("processes.a.scale: expected an integer, got",
		    DIAG_ERROR, 2, 43);
		parse_result_clear(&pr);
	}
	/* beyond int, and beyond int64 */
	expect_error("processes:\n  a:\n    command: [x]\n    enabled: true\n"
	    "    scale: 99999999999999999999\n", "processes.a.scale: "
	    "99999999999999999999 is out of range -2147483648..2147483647",
	    5, 12);
	expect_error(ONE_PROC "global: {shutdown_timeout: 2147483648}\n",
	    "global.shutdown_timeout: 2147483648 is out of range", 3, 28);
	expect_error(ONE_PROC "global: {shutdown_timeout: -1e300}\n",
	    "global.shutdown_timeout: -1e300 is out of range", 3, 28);
	expect_error(ONE_PROC "global: {shutdown_timeout: .inf}\n",
	    "global.shutdown_timeout: .inf is out of range", 3, 28);
	/* a float truncated: 45.7 is 45 */
	ck_assert_int_eq(parse(ONE_PROC "global: {shutdown_timeout: 45.7, "
	    "max_restart_attempts: 4.99}\n"), 0);
	ck_assert_int_eq(pr.pr_conf->cf_global.gc_shutdown_timeout, 45);
	ck_assert_int_eq(pr.pr_conf->cf_global.gc_max_restart_attempts, 4);
}
END_TEST

/* Each error of the global block, at its value. */
START_TEST(test_global_errors)
{
	expect_error(ONE_PROC "global:\n  shutdown_timeout: -1\n",
	    "global.shutdown_timeout must be positive", 4, 21);
	expect_error(ONE_PROC "global:\n  restart_policy: sometimes\n",
	    "global.restart_policy: invalid policy \"sometimes\" (always, "
	    "on-failure or never)", 4, 19);
	expect_error(ONE_PROC "global:\n  log_format: xml\n",
	    "global.log_format: invalid format \"xml\" (json or text)", 4, 15);
	expect_error(ONE_PROC "global:\n  log_level: loud\n",
	    "global.log_level: invalid level \"loud\" (debug, info, warn or "
	    "error)", 4, 14);
	expect_error(ONE_PROC "global:\n  log_level: {a: 1}\n",
	    "global.log_level: expected a string, got a mapping", 4, 14);
	expect_error(ONE_PROC "global: [1]\n",
	    "global: expected a mapping, got a list", 3, 9);
	expect_error(ONE_PROC "global:\n  restart_backoff: [1]\n",
	    "global.restart_backoff: expected an integer, got a list", 4, 20);
	/* the known keys not interpreted here are typed all the same */
	expect_error(ONE_PROC "global:\n  api_tls: {enabled: maybe}\n",
	    "global.api_tls.enabled: expected true or false, got \"maybe\"",
	    4, 22);
}
END_TEST

/* Each error of a process, at the node it is about. */
START_TEST(test_process_errors)
{
	expect_error("processes:\n  web:\n    enabled: true\n"
	    "    command: [x]\n    scale: {a: 1}\n",
	    "processes.web.scale: expected an integer, got a mapping", 5, 12);
	expect_error("processes:\n  web:\n    enabled: true\n"
	    "    command: \"php-fpm -F\"\n",
	    "processes.web.command must be a list, e.g. [\"php-fpm\", "
	    "\"-F\"]", 4, 14);
	expect_error("processes:\n  web:\n    enabled: true\n",
	    "processes.web: no command", 2, 3);
	expect_error("processes:\n  web:\n    enabled: true\n    command: ~\n",
	    "processes.web: no command", 2, 3);
	expect_error("processes:\n  web:\n    enabled: true\n"
	    "    command: []\n", "processes.web.command is empty", 4, 14);
	expect_error("processes:\n  web:\n    enabled: true\n"
	    "    command: [\"\", x]\n",
	    "processes.web.command: the program name is empty", 4, 15);
	expect_error("processes:\n  web:\n    enabled: true\n"
	    "    command: [php, [a]]\n",
	    "processes.web.command: expected a list of strings, got a list",
	    4, 20);
	expect_error("processes:\n  web:\n    enabled: true\n"
	    "    command: [x]\n    scale: -1\n",
	    "processes.web.scale: invalid scale -1 (at least 1)", 5, 12);
	expect_error("processes:\n  web:\n    enabled: true\n"
	    "    command: [x]\n    scale: 1001\n",
	    "processes.web.scale: 1001 exceeds the maximum of 1000", 5, 12);
	expect_error("processes:\n  web:\n    enabled: true\n"
	    "    command: [x]\n    type: daemon\n",
	    "processes.web.type: invalid type \"daemon\" (longrun or oneshot)",
	    5, 11);
	expect_error("processes:\n  web:\n    enabled: true\n"
	    "    command: [x]\n    restart: sometimes\n",
	    "processes.web.restart: invalid restart policy \"sometimes\"",
	    5, 14);
	expect_error("processes:\n  web:\n    enabled: true\n"
	    "    command: [x]\n    env: [A=b]\n",
	    "processes.web.env: expected a mapping of names to values, got a "
	    "list", 5, 10);
	expect_error("processes:\n  web:\n    enabled: true\n"
	    "    command: [x]\n    env: {A: [b]}\n",
	    "processes.web.env: expected a string, got a list", 5, 14);
	expect_error("processes:\n  web:\n    enabled: true\n"
	    "    command: [x]\n    depends_on: web2\n",
	    "processes.web.depends_on: expected a list, got a scalar", 5, 17);
	expect_error("processes:\n  web:\n    enabled: true\n"
	    "    command: [x]\n    shutdown:\n      signal: SIGFOO\n",
	    "processes.web.shutdown.signal: unknown signal \"SIGFOO\"", 6, 15);
	expect_error("processes:\n  web:\n    enabled: true\n"
	    "    command: [x]\n    shutdown:\n      timeout: -3\n",
	    "processes.web.shutdown.timeout: -3 is out of range 0..86400",
	    6, 16);
	expect_error("processes:\n  web:\n    enabled: true\n"
	    "    command: [x]\n    shutdown: SIGTERM\n",
	    "processes.web.shutdown: expected a mapping, got a scalar", 5, 15);
	expect_error("processes:\n  web:\n    enabled: true\n"
	    "    command: [x]\n    user: [a]\n",
	    "processes.web.user: expected a string, got a list", 5, 11);
	expect_error("processes:\n  web: php-fpm\n",
	    "processes.web: expected a mapping, got a scalar", 2, 8);
	expect_error("processes: [web]\n",
	    "processes: expected a mapping of names to processes, got a list",
	    1, 12);
	expect_error("processes:\n  \"we b\": {enabled: true, command: [x]}\n",
	    "processes: invalid name \"we b\" (1 to 127 of A-Z a-z 0-9 . _ -)",
	    2, 3);
}
END_TEST

START_TEST(test_names)
{
	char	text[512], name[200];

	/* 127 characters is the longest name */
	memset(name, 'n', 127);
	name[127] = '\0';
	snprintf(text, sizeof(text), "processes:\n  %s: {enabled: true, "
	    "command: [x]}\n  A.b_c-9: {enabled: true, command: [x]}\n", name);
	ck_assert_int_eq(parse(text), 0);
	ck_assert_uint_eq(pr.pr_conf->cf_nprocs, 2);
	/* upper case sorts first */
	ck_assert_str_eq(TAILQ_FIRST(&pr.pr_conf->cf_procs)->pc_name,
	    "A.b_c-9");
	parse_result_clear(&pr);
	memset(name, 'n', 128);
	name[128] = '\0';
	snprintf(text, sizeof(text), "processes:\n  %s: {enabled: true, "
	    "command: [x]}\n", name);
	ck_assert_int_eq(parse(text), -1);
	expect_at("processes: invalid name", DIAG_ERROR, 2, 3);
	parse_result_clear(&pr);
	expect_error("processes:\n  \"\": {enabled: true, command: [x]}\n",
	    "processes: invalid name \"\"", 2, 3);
	expect_error("processes:\n  ü: {enabled: true, command: [x]}\n",
	    "processes: invalid name", 2, 3);
	expect_error("processes:\n  [a]: {enabled: true, command: [x]}\n",
	    "processes: invalid name \"?\"", 2, 3);
}
END_TEST

START_TEST(test_signals)
{
	static const struct {
		const char	*in;
		int		 sig;
	} sigs[] = {
		{ "SIGTERM", SIGTERM }, { "SIGQUIT", SIGQUIT },
		{ "SIGINT", SIGINT }, { "SIGKILL", SIGKILL },
		/* phpeek-pm would send SIGTERM for these; phpeekd obeys */
		{ "SIGUSR1", SIGUSR1 }, { "SIGWINCH", SIGWINCH },
		{ "HUP", SIGHUP }, { "sigquit", SIGQUIT }, { "15", SIGTERM },
	};
	char	text[256];
	size_t	i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		snprintf(text, sizeof(text), "processes:\n  a: {enabled: "
		    "true, command: [x], shutdown: {signal: %s}}\n",
		    sigs[i].in);
		ck_assert_msg(parse(text) == 0, "%s refused", sigs[i].in);
		ck_assert_int_eq(proc("a")->pc_stop_signal, sigs[i].sig);
		parse_result_clear(&pr);
	}
}
END_TEST

START_TEST(test_cycles)
{
	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  a: {enabled: true, command: [x], depends_on: [b]}\n"
	    "  b: {enabled: true, command: [x], depends_on: [a]}\n"
	    "  c: {enabled: true, command: [x], depends_on: [d]}\n"
	    "  d: {enabled: true, command: [x], depends_on: [e]}\n"
	    "  e: {enabled: true, command: [x], depends_on: [c]}\n"), -1);
	expect_at("dependency cycle: a -> b -> a", DIAG_ERROR, 3, 49);
	expect_at("dependency cycle: c -> d -> e -> c", DIAG_ERROR, 6, 49);
	ck_assert_int_eq(pr.pr_errors, 2);
	check_counts();
	parse_result_clear(&pr);

	/*
	 * Entered from a, found as c -> b -> c, named from its smallest
	 * name; reached again from d, still reported once.
	 */
	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  a: {enabled: true, command: [x], depends_on: [c]}\n"
	    "  b: {enabled: true, command: [x], depends_on: [c]}\n"
	    "  c: {enabled: true, command: [x], depends_on: [b]}\n"
	    "  d: {enabled: true, command: [x], depends_on: [b, c]}\n"), -1);
	expect_at("dependency cycle: b -> c -> b", DIAG_ERROR, 3, 49);
	ck_assert_int_eq(count("dependency cycle"), 1);
	ck_assert_int_eq(pr.pr_errors, 1);
	parse_result_clear(&pr);

	/* a process depending on itself is one error, not a cycle too */
	expect_error("processes:\n  a: {enabled: true, command: [x], "
	    "depends_on: [a]}\n", "processes.a depends on itself", 2, 49);
	/* a name listed twice is a warning, and one edge */
	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  a: {enabled: true, command: [x], depends_on: [b, b]}\n"
	    "  b: {enabled: true, command: [x]}\n"), 0);
	expect_at("processes.a.depends_on: 'b' is listed twice", DIAG_WARNING,
	    2, 52);
	ck_assert_uint_eq(proc("a")->pc_depends.sl_n, 1);
	parse_result_clear(&pr);
	/* the same node twice, through an alias, is still one entry */
	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  a: {enabled: true, command: [x],\n"
	    "      depends_on: [&b b, *b, c, b]}\n"
	    "  b: {enabled: true, command: [x]}\n"
	    "  c: {enabled: true, command: [x]}\n"), 0);
	ck_assert_int_eq(count("is listed twice"), 2);
	ck_assert_uint_eq(proc("a")->pc_depends.sl_n, 2);
	ck_assert_str_eq(proc("a")->pc_depends.sl_v[0], "b");
	ck_assert_str_eq(proc("a")->pc_depends.sl_v[1], "c");
	ck_assert_ptr_null(proc("a")->pc_depends.sl_v[2]);
	parse_result_clear(&pr);
	/* and a diamond is no cycle */
	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  a: {enabled: true, command: [x], depends_on: [b, c]}\n"
	    "  b: {enabled: true, command: [x], depends_on: [d]}\n"
	    "  c: {enabled: true, command: [x], depends_on: [d]}\n"
	    "  d: {enabled: true, command: [x]}\n"), 0);
}
END_TEST

START_TEST(test_dependencies)
{
	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  web: {enabled: true, command: [x], depends_on: [wrker]}\n"
	    "  worker: {enabled: false, command: [x]}\n"
	    "  api: {enabled: true, command: [x], depends_on: [worker]}\n"
	    "  cron: {enabled: true, command: [x], depends_on: [zzzzzz]}\n"
	    "  off: {enabled: false, command: [x], depends_on: [worker]}\n"),
	    -1);
	expect_at("processes.web depends on 'wrker', which is not defined; "
	    "did you mean 'worker'?", DIAG_ERROR, 2, 51);
	expect_at("processes.api depends on 'worker', which is disabled",
	    DIAG_ERROR, 4, 51);
	expect_at("processes.cron depends on 'zzzzzz', which is not defined",
	    DIAG_ERROR, 5, 52);
	ck_assert_ptr_null(strstr(find("zzzzzz")->d_msg, "did you mean"));
	/* a disabled process may depend on a disabled one */
	ck_assert_ptr_null(find("processes.off depends"));
	ck_assert_int_eq(pr.pr_errors, 3);
	check_counts();
}
END_TEST

START_TEST(test_oneshot)
{
	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  migrate:\n"
	    "    enabled: true\n"
	    "    type: oneshot\n"
	    "    scale: 2\n"
	    "    command: [php, artisan, migrate]\n"), -1);
	expect_at("processes.migrate: oneshot processes cannot use restart: "
	    "always (inherited from global.restart_policy unless set); set "
	    "restart: never or on-failure", DIAG_ERROR, 4, 11);
	expect_at("processes.migrate: a oneshot process cannot have scale > 1 "
	    "(got 2)", DIAG_ERROR, 5, 12);
	ck_assert_int_eq(pr.pr_errors, 2);
	parse_result_clear(&pr);
	/* the quirk holds with an explicit always too */
	expect_error("processes:\n  m: {enabled: true, type: oneshot, "
	    "restart: always, command: [x]}\n",
	    "oneshot processes cannot use restart: always", 2, 28);
	/* and not when the global policy says otherwise */
	ck_assert_int_eq(parse("global: {restart_policy: never}\n"
	    "processes:\n  m: {enabled: true, type: oneshot, command: [x]}\n"),
	    0);
	ck_assert_int_eq(proc("m")->pc_restart, RESTART_NEVER);
	ck_assert_int_eq(proc("m")->pc_type, PTYPE_ONESHOT);
	parse_result_clear(&pr);
	ck_assert_int_eq(parse("processes:\n  m: {enabled: true, type: "
	    "oneshot, restart: on-failure, command: [x]}\n"), 0);
	ck_assert_int_eq(proc("m")->pc_restart, RESTART_ON_FAILURE);
}
END_TEST

START_TEST(test_types)
{
	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  a:\n"
	    "    enabled: maybe\n"
	    "    command: \"php-fpm -F\"\n"
	    "    scale: 99999999999999999999\n"
	    "    env: [A]\n"), -1);
	expect_at("processes.a.enabled: expected true or false", DIAG_ERROR,
	    3, 14);
	expect_at("processes.a.command must be a list", DIAG_ERROR, 4, 14);
	expect_at("processes.a.scale: 99999999999999999999 is out of range",
	    DIAG_ERROR, 5, 12);
	expect_at("processes.a.env: expected a mapping", DIAG_ERROR, 6, 10);
	/* every error is reported, not the first only */
	ck_assert_int_eq(pr.pr_errors, 4);
	check_counts();
}
END_TEST

START_TEST(test_no_processes)
{
	expect_error("", "the file is empty: no processes defined", 1, 1);
	expect_error("# only a comment\n\n", "the file is empty", 1, 1);
	expect_error("---\n...\n", "the file is empty", 1, 1);
	expect_error("~\n", "the file is empty", 1, 1);
	expect_error("version: \"1.0\"\n", "no processes defined", 1, 1);
	expect_error("version: \"1.0\"\nprocesses: {}\n",
	    "no processes defined", 2, 12);
	expect_error("processes:\n", "no processes defined", 1, 11);
	expect_error("- a\n- b\n", "expected a mapping at the top, got a list",
	    1, 1);
	expect_error("hello\n", "expected a mapping at the top, got a scalar",
	    1, 1);
}
END_TEST

START_TEST(test_duplicates)
{
	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  a: {enabled: true, command: [x]}\n"
	    "  b: {enabled: true, command: [x]}\n"
	    "  a: {enabled: true, command: [y]}\n"), -1);
	expect_at("duplicate key 'a' (first at line 2)", DIAG_ERROR, 4, 3);
	ck_assert_int_eq(pr.pr_errors, 1);
	parse_result_clear(&pr);
	/* each repeat names the first */
	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  a:\n"
	    "    enabled: true\n"
	    "    command: [x]\n"
	    "    enabled: false\n"
	    "    enabled: true\n"), -1);
	expect_at("duplicate key 'enabled' (first at line 3)", DIAG_ERROR,
	    5, 5);
	ck_assert_int_eq(count("duplicate key 'enabled' (first at line 3)"),
	    2);
	ck_assert_int_eq(pr.pr_errors, 2);
	parse_result_clear(&pr);
	expect_error("global: {log_level: info, log_level: warn}\n" ONE_PROC,
	    "duplicate key 'log_level' (first at line 1)", 1, 27);
}
END_TEST

/* yaml.v3's anchors, aliases and merge keys. */
START_TEST(test_aliases)
{
	struct proc_conf	*pc;

	ck_assert_int_eq(parse(
	    "x-common: &common\n"
	    "  enabled: true\n"
	    "  restart: on-failure\n"
	    "  env: &env {A: one, B: two}\n"
	    "x-more: &more {scale: 2, restart: never}\n"
	    "processes:\n"
	    "  a:\n"
	    "    <<: *common\n"
	    "    command: [x]\n"
	    "    restart: always\n"
	    "  b:\n"
	    "    command: &cmd [sleep, \"1\"]\n"
	    "    <<: [*more, *common]\n"
	    "  c: {<<: *common, command: *cmd, env: {<<: *env, B: three}}\n"),
	    0);
	/* the x- keys are unknown to phpeek-pm too */
	ck_assert_int_eq(count("unknown key 'x-"), 2);
	ck_assert_ptr_null(find("'<<'"));
	pc = proc("a");
	ck_assert_int_eq(pc->pc_enabled, 1);
	/* the mapping's own key wins over a merged one */
	ck_assert_int_eq(pc->pc_restart, RESTART_ALWAYS);
	ck_assert_str_eq(pc->pc_env.sl_v[1], "B=two");
	pc = proc("b");
	/* of several bases, the first wins */
	ck_assert_int_eq(pc->pc_restart, RESTART_NEVER);
	ck_assert_int_eq(pc->pc_scale, 2);
	ck_assert_int_eq(pc->pc_enabled, 1);
	ck_assert_str_eq(pc->pc_command.sl_v[0], "sleep");
	pc = proc("c");
	ck_assert_str_eq(pc->pc_command.sl_v[1], "1");
	ck_assert_uint_eq(pc->pc_env.sl_n, 2);
	ck_assert_str_eq(pc->pc_env.sl_v[0], "A=one");
	ck_assert_str_eq(pc->pc_env.sl_v[1], "B=three");
	ck_assert_ptr_null(find("duplicate"));
	parse_result_clear(&pr);

	expect_error("a: &x [1, *x]\n" ONE_PROC,
	    "alias *x is inside the node it names", 1, 11);
	expect_error("a: *nope\n" ONE_PROC, "unknown alias *nope", 1, 4);
	expect_error("processes:\n  a:\n    <<: [1]\n    command: [x]\n",
	    "'<<' merges a mapping or a list of mappings, not a scalar",
	    3, 10);
	/* two merge keys are duplicates, as in yaml.v3 */
	expect_error("b: &b {enabled: true}\nprocesses:\n  a: {<<: *b, "
	    "<<: *b, command: [x]}\n", "duplicate key '<<'", 3, 15);
}
END_TEST

/* Billion laughs, nesting, bad bytes: clean errors, fast. */
START_TEST(test_hostile)
{
	char	*deep;
	double	 t0;
	size_t	 i;

	if ((deep = malloc(10000)) == NULL)
		ck_abort();
	memset(deep, '[', 10000);
	t0 = seconds();
	ck_assert_int_eq(parse_len(deep, 10000), -1);
	ck_assert_double_lt(seconds() - t0, 2.0);
	expect_at("nesting deeper than 64 levels", DIAG_ERROR, 1, 65);
	ck_assert_int_eq(pr.pr_errors, 1);
	parse_result_clear(&pr);
	/* block style is bounded the same way */
	for (i = 0; i < 70 * 2; i += 2) {
		deep[i] = '-';
		deep[i + 1] = ' ';
	}
	deep[i] = 'x';
	ck_assert_int_eq(parse_len(deep, i + 1), -1);
	expect_at("nesting deeper than 64 levels", DIAG_ERROR, 1, 129);
	parse_result_clear(&pr);
	free(deep);

	t0 = seconds();
	ck_assert_int_eq(parse(
	    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\","
	    "\"lol\",\"lol\"]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
	    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
	    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
	    ONE_PROC), -1);
	ck_assert_double_lt(seconds() - t0, 2.0);
	expect_at("aliases expand to more than 100000 nodes", DIAG_ERROR, 6,
	    8);
	ck_assert_int_eq(pr.pr_errors, 1);
	parse_result_clear(&pr);

	expect_error("processes:\n  a:\n\tcommand: [x]\n",
	    "YAML: found character that cannot start any token while "
	    "scanning for the next token", 3, 1);
	/* the reader's errors are placed by their offset */
	expect_error("processes:\n  a:\n    command: [\"\xff\xfe\"]\n",
	    "YAML: invalid leading UTF-8 octet (#xFF)", 3, 16);
	expect_error("processes:\n  a: {command: [\"\xc3\xa9\xc3\"]}\n",
	    "YAML: invalid trailing UTF-8 octet (#x22)", 2, 20);
	expect_error("processes: x\xc3", "YAML: incomplete UTF-8 octet "
	    "sequence", 1, 13);
	expect_error("processes:\n  a: {command: [x]\n",
	    "YAML: did not find expected ',' or '}' while parsing a flow "
	    "mapping", 3, 1);
	expect_error("a: b: c\n", "YAML: mapping values are not allowed in "
	    "this context", 1, 5);
	/* a control character, and a NUL in the raw bytes */
	expect_error("processes:\n  a: \x01\n", "YAML: control characters "
	    "are not allowed (#x1)", 2, 6);
	ck_assert_int_eq(parse_len("processes:\n  a: x\0y\n", 20), -1);
	ck_assert_ptr_nonnull(find("control characters are not allowed"));
	parse_result_clear(&pr);
	/* NUL inside a quoted value would cut it short in C */
	ck_assert_int_eq(parse(
	    "processes: {a: {command: [\"x\\0y\"]}}\n"), -1);
	expect_at("NUL character in a value", DIAG_ERROR, 1, 27);
	parse_result_clear(&pr);
	/* only the first document counts, as in phpeek-pm */
	ck_assert_int_eq(parse(ONE_PROC "---\nnot: [valid\n"), 0);
}
END_TEST

/* Inputs built to make a naive parser quadratic: all stay fast. */
START_TEST(test_hostile_size)
{
	char	*big;
	double	 t0;
	size_t	 i, n, len;

	/* 8 MiB of "${" */
	len = 8 * 1024 * 1024;
	if ((big = malloc(len + 1024 * 1024)) == NULL)
		ck_abort();
	for (i = 0; i < len; i += 2)
		memcpy(big + i, "${", 2);
	t0 = seconds();
	ck_assert_int_eq(parse_len(big, len), -1);
	ck_assert_double_lt(seconds() - t0, 10.0);
	parse_result_clear(&pr);

	/* a 90,000 entry command */
	n = strlcpy(big, "processes: {a: {enabled: true, command: [", len);
	for (i = 0; i < 90000; i++)
		n += strlcpy(big + n, "x,", len - n);
	n += strlcpy(big + n, "x]}}\n", len - n);
	t0 = seconds();
	ck_assert_int_eq(parse_len(big, n), 0);
	ck_assert_double_lt(seconds() - t0, 10.0);
	ck_assert_uint_eq(proc("a")->pc_command.sl_n, 90001);
	parse_result_clear(&pr);

	/* 30,000 anchors and as many aliases */
	n = strlcpy(big, "x: [", len);
	for (i = 0; i < 30000; i++)
		n += snprintf(big + n, len - n, "&a%zu %zu,", i, i);
	n += strlcpy(big + n, "0]\ny: [", len - n);
	for (i = 0; i < 30000; i++)
		n += snprintf(big + n, len - n, "*a%zu,", i);
	n += strlcpy(big + n, "0]\n" ONE_PROC, len - n);
	t0 = seconds();
	ck_assert_int_eq(parse_len(big, n), 0);
	ck_assert_double_lt(seconds() - t0, 10.0);
	parse_result_clear(&pr);

	/* 10,000 processes, each depending on an unknown one */
	n = strlcpy(big, "processes:\n", len);
	for (i = 0; i < 10000; i++)
		n += snprintf(big + n, len - n, " p%zu: {command: [x], "
		    "depends_on: [q%zu]}\n", i, i);
	t0 = seconds();
	ck_assert_int_eq(parse_len(big, n), -1);
	ck_assert_double_lt(seconds() - t0, 10.0);
	/* the diagnostics are bounded, and the rest summed up */
	ck_assert_ptr_nonnull(find("more diagnostics not shown"));
	ck_assert_int_le(pr.pr_errors + pr.pr_warnings, 1001);
	check_counts();
	parse_result_clear(&pr);

	/* a long cycle through 9,000 processes */
	n = strlcpy(big, "processes:\n", len);
	for (i = 0; i < 9000; i++)
		n += snprintf(big + n, len - n, " p%05zu: {enabled: true, "
		    "command: [x], depends_on: [p%05zu]}\n", i,
		    (i + 1) % 9000);
	t0 = seconds();
	ck_assert_int_eq(parse_len(big, n), -1);
	ck_assert_double_lt(seconds() - t0, 10.0);
	ck_assert_ptr_nonnull(find("dependency cycle: p00000 -> p00001 -> "));
	ck_assert_int_eq(pr.pr_errors, 1);
	parse_result_clear(&pr);

	/* more nodes than allowed, no alias needed */
	n = strlcpy(big, "x: [", len);
	for (i = 0; i < 100001; i++)
		n += strlcpy(big + n, "1,", len - n);
	n += strlcpy(big + n, "1]\n" ONE_PROC, len - n);
	ck_assert_int_eq(parse_len(big, n), -1);
	ck_assert_ptr_nonnull(find("more than 100000 nodes"));
	free(big);
}
END_TEST

/* A secret's warning is for values written out, not substituted. */
START_TEST(test_secrets)
{
	setenv("PT_SECRET", "hunter2", 1);
	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  a:\n"
	    "    enabled: true\n"
	    "    command: [x]\n"
	    "    env:\n"
	    "      DB_PASSWORD: ${PT_SECRET}\n"
	    "      API_TOKEN: \"${PT_SECRET:-x}\"\n"
	    "      NOTE: \xc3\xa9\xc3\xa9 ${PT_SECRET}\n"
	    "      MY_SECRET: literal\n"), 0);
	expect_at("processes.a.env.MY_SECRET: a secret written into the file",
	    DIAG_WARNING, 9, 18);
	ck_assert_int_eq(count("a secret written into the file"), 1);
	ck_assert_str_eq(proc("a")->pc_env.sl_v[0], "DB_PASSWORD=hunter2");
	unsetenv("PT_SECRET");
}
END_TEST

START_TEST(test_health)
{
	struct health_conf	*hc;

	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  a:\n"
	    "    enabled: true\n"
	    "    command: [x]\n"
	    "    health_check:\n"
	    "      type: http\n"
	    "      url: http://127.0.0.1/health\n"
	    "      mode: liveness\n"), 0);
	hc = &TAILQ_FIRST(&pr.pr_conf->cf_procs)->pc_health;
	ck_assert_int_eq(hc->hc_type, HC_HTTP);
	ck_assert_int_eq(hc->hc_mode, HC_MODE_LIVENESS);
	ck_assert_int_eq(hc->hc_initial_delay, 5);
	ck_assert_int_eq(hc->hc_period, 10);
	ck_assert_int_eq(hc->hc_timeout, 3);
	ck_assert_int_eq(hc->hc_failure_threshold, 3);
	ck_assert_int_eq(hc->hc_expected_status, 200);
	parse_result_clear(&pr);
	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  a:\n"
	    "    enabled: true\n"
	    "    command: [x]\n"
	    "    health_check:\n"
	    "      type: tcp\n"), -1);
	expect_at("a tcp health check needs an address", DIAG_ERROR, 6, 7);
}
END_TEST

/* fpm_metrics: per-worker series only when asked for. */
START_TEST(test_fpm_metrics)
{
	struct fpm_conf	*fm;

	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  a:\n"
	    "    enabled: true\n"
	    "    command: [x]\n"
	    "    fpm_metrics: {socket: 127.0.0.1:9000}\n"
	    "  b:\n"
	    "    enabled: true\n"
	    "    command: [x]\n"
	    "    fpm_metrics:\n"
	    "      socket: /run/php/fpm.sock\n"
	    "      per_process: yes\n"), 0);
	fm = &proc("a")->pc_fpm;
	ck_assert_str_eq(fm->fm_socket, "127.0.0.1:9000");
	ck_assert_int_eq(fm->fm_opcache, 1);
	ck_assert_int_eq(fm->fm_per_process, 0);
	ck_assert_int_eq(proc("b")->pc_fpm.fm_per_process, 1);
	parse_result_clear(&pr);
	expect_error("processes:\n"
	    "  a:\n"
	    "    enabled: true\n"
	    "    command: [x]\n"
	    "    fpm_metrics:\n"
	    "      socket: /run/php/fpm.sock\n"
	    "      per_process: 1\n",
	    "processes.a.fpm_metrics.per_process: expected true or false, "
	    "got \"1\"", 7, 20);
	expect_error("processes:\n"
	    "  a:\n"
	    "    enabled: true\n"
	    "    command: [x]\n"
	    "    fpm_metrics: {socket: /s, per_process: [true]}\n",
	    "processes.a.fpm_metrics.per_process", 5, 44);
}
END_TEST

START_TEST(test_overrides)
{
	struct phpeekd_conf	*cf;
	struct proc_conf	*pc;

	setenv("PHPEEK_PM_GLOBAL_SHUTDOWN_TIMEOUT", "45", 1);
	setenv("PHPEEK_PM_GLOBAL_LOG_LEVEL", " debug ", 1);
	/* "1" is a fine scale: phpeek-pm would make it a boolean */
	setenv("PHPEEK_PM_PROCESS_QUEUE_DEFAULT_SCALE", "1", 1);
	setenv("PHPEEK_PM_PROCESS_QUEUE_DEFAULT_ENV_App_Key", "k=v", 1);
	setenv("PHPEEK_PM_PROCESS_QUEUE_DEFAULT_SHUTDOWN_SIGNAL", "SIGINT",
	    1);
	setenv("PHPEEK_PM_PROCESS_QUEUE_DEFAULT_DEPENDS_ON", "[\"web\"]", 1);
	setenv("PHPEEK_PM_PROCESS_NEW_ONE_COMMAND", "[\"sleep\", \"1\"]", 1);
	setenv("PHPEEK_PM_PROCESS_NEW_ONE_ENABLED", "false", 1);
	ck_assert_int_eq(parse(
	    "global:\n"
	    "  shutdown_timeout: 10\n"
	    "processes:\n"
	    "  queue-default: {enabled: true, command: [x], scale: 4}\n"
	    "  web: {enabled: true, command: [x]}\n"), 0);
	unsetenv("PHPEEK_PM_GLOBAL_SHUTDOWN_TIMEOUT");
	unsetenv("PHPEEK_PM_GLOBAL_LOG_LEVEL");
	unsetenv("PHPEEK_PM_PROCESS_QUEUE_DEFAULT_SCALE");
	unsetenv("PHPEEK_PM_PROCESS_QUEUE_DEFAULT_ENV_App_Key");
	unsetenv("PHPEEK_PM_PROCESS_QUEUE_DEFAULT_SHUTDOWN_SIGNAL");
	unsetenv("PHPEEK_PM_PROCESS_QUEUE_DEFAULT_DEPENDS_ON");
	unsetenv("PHPEEK_PM_PROCESS_NEW_ONE_COMMAND");
	unsetenv("PHPEEK_PM_PROCESS_NEW_ONE_ENABLED");
	cf = pr.pr_conf;
	ck_assert_int_eq(cf->cf_global.gc_shutdown_timeout, 45);
	ck_assert_int_eq(cf->cf_global.gc_log_level, LOG_LVL_DEBUG);
	ck_assert_uint_eq(cf->cf_nprocs, 3);
	pc = config_proc_find(cf, "queue-default");
	ck_assert_ptr_nonnull(pc);
	ck_assert_int_eq(pc->pc_scale, 1);
	ck_assert_int_eq(pc->pc_stop_signal, SIGINT);
	ck_assert_str_eq(pc->pc_env.sl_v[0], "App_Key=k=v");
	ck_assert_str_eq(pc->pc_depends.sl_v[0], "web");
	pc = config_proc_find(cf, "new-one");
	ck_assert_ptr_nonnull(pc);
	ck_assert_int_eq(pc->pc_enabled, 0);
	ck_assert_str_eq(pc->pc_command.sl_v[0], "sleep");
	parse_result_clear(&pr);

	/* a bad override is reported with its variable's name */
	setenv("PHPEEK_PM_PROCESS_WEB_SCALE", "many", 1);
	setenv("PHPEEK_PM_GLOBAL_NO_SUCH_KEY", "1", 1);
	ck_assert_int_eq(parse("processes:\n  web: {enabled: true, "
	    "command: [x]}\n"), -1);
	unsetenv("PHPEEK_PM_PROCESS_WEB_SCALE");
	unsetenv("PHPEEK_PM_GLOBAL_NO_SUCH_KEY");
	ck_assert_ptr_nonnull(find("processes.web.scale: expected an integer, "
	    "got \"many\" (from the environment variable "
	    "PHPEEK_PM_PROCESS_WEB_SCALE)"));
	ck_assert_ptr_nonnull(find("PHPEEK_PM_GLOBAL_NO_SUCH_KEY names no "
	    "global key"));
}
END_TEST

START_TEST(test_cron)
{
	struct cron	 c;
	struct tm	 tm;
	char		 err[256];

	ck_assert_int_eq(cron_parse("*/15 9-17 * jan-mar MON-FRI", &c, err,
	    sizeof(err)), 0);
	memset(&tm, 0, sizeof(tm));
	tm.tm_min = 30;
	tm.tm_hour = 10;
	tm.tm_mday = 6;
	tm.tm_mon = 1;		/* February */
	tm.tm_wday = 3;		/* Wednesday */
	ck_assert_int_eq(cron_match(&c, &tm), 1);
	tm.tm_min = 31;
	ck_assert_int_eq(cron_match(&c, &tm), 0);
	tm.tm_min = 30;
	tm.tm_wday = 0;		/* Sunday */
	ck_assert_int_eq(cron_match(&c, &tm), 0);
	/* both day fields restricted: either matches */
	ck_assert_int_eq(cron_parse("0 0 1 * 1", &c, err, sizeof(err)), 0);
	tm.tm_min = tm.tm_hour = 0;
	tm.tm_mday = 1;
	tm.tm_wday = 4;
	ck_assert_int_eq(cron_match(&c, &tm), 1);
	tm.tm_mday = 2;
	tm.tm_wday = 1;
	ck_assert_int_eq(cron_match(&c, &tm), 1);
	tm.tm_wday = 2;
	ck_assert_int_eq(cron_match(&c, &tm), 0);
	ck_assert_int_eq(cron_parse("5/20 * * * *", &c, err, sizeof(err)), 0);
	ck_assert(c.cr_bits[0] == ((1ULL << 5) | (1ULL << 25) | (1ULL << 45)));
	ck_assert_int_eq(cron_parse("CRON_TZ=Europe/Paris 0 2 * * *", &c,
	    err, sizeof(err)), 0);
	ck_assert_str_eq(c.cr_tz, "Europe/Paris");
	ck_assert_int_eq(cron_parse("* * * * 7", &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "end of range (7) above maximum (6): 7");
	ck_assert_int_eq(cron_parse("* * * *", &c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "expected exactly 5 fields"));
	ck_assert_int_eq(cron_parse("@daily", &c, err, sizeof(err)), -1);
	ck_assert_int_eq(cron_parse("x * * * *", &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "failed to parse int from x");
	ck_assert_int_eq(cron_parse("5-2 * * * *", &c, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_tables)
{
	ck_assert_int_eq(parse(
	    "global:\n"
	    "  api_acl: {enabled: true, allow_list: [\"10.0.0.0/8\", "
	    "\"::1/129\"]}\n"
	    "  zombie_reap_interval: 10ms\n"
	    "  tracing_exporter: pigeon\n"
	    "  tracing_sample_rate: nan\n"
	    "processes:\n"
	    "  a:\n"
	    "    enabled: true\n"
	    "    command: [x]\n"
	    "    schedule: \"61 * * * *\"\n"
	    "    logging: {min_level: loud, stdout: false, stderr: false}\n"
	    "    heartbeat: {url: http://x, retry_cont: 3}\n"), -1);
	expect_at("\"::1/129\" is not an IPv4 or IPv6 address", DIAG_ERROR,
	    2, 55);
	ck_assert_ptr_nonnull(find("global.zombie_reap_interval: 10ms is out "
	    "of range 100ms..60000ms"));
	ck_assert_ptr_nonnull(find("global.tracing_exporter: invalid value "
	    "\"pigeon\" (stdout, otlp-grpc"));
	expect_at("global.tracing_sample_rate: expected a number, got \"nan\"",
	    DIAG_ERROR, 5, 24);
	expect_at("processes.a.schedule: invalid schedule expression",
	    DIAG_ERROR, 10, 15);
	ck_assert_ptr_nonnull(find("processes.a.logging.min_level: invalid "
	    "value \"loud\""));
	ck_assert_ptr_nonnull(find("both stdout and stderr are disabled"));
	ck_assert_ptr_nonnull(find("unknown key 'retry_cont' in "
	    "processes.a.heartbeat; did you mean 'retry_count'?"));
	parse_result_clear(&pr);
	ck_assert_int_eq(parse(ONE_PROC "global: {tracing_sample_rate: 0.5, "
	    "autotune_memory_threshold: 1}\n"), 0);
}
END_TEST

START_TEST(test_check_config)
{
	ck_assert_int_eq(parse(
	    "global:\n"
	    "  api_auth: secret\n"
	    "  api_tls: {enabled: false}\n"
	    "  audit_enabled: true\n"
	    "  metrics_enabled: false\n"
	    "  readiness: {enabled: true, path: /srv/ready, "
	    "processes: [nope]}\n"
	    "processes:\n"
	    "  a: {enabled: true, command: [x]}\n"), 0);
	ck_assert_ptr_null(find("global.api_auth"));
	ck_assert_ptr_null(find("global.api_tls"));
	ck_assert_ptr_null(find("global.audit_enabled"));
	ck_assert_ptr_nonnull(find("resource metrics are collected but the "
	    "Prometheus endpoint is off"));
	expect_at("global.readiness.path: /srv/ready is not under /tmp or "
	    "/run", DIAG_SUGGESTION, 6, 36);
	expect_at("global.readiness.processes: 'nope' is not defined",
	    DIAG_WARNING, 6, 60);
}
END_TEST

/* The readiness file's settings and the processes it tracks. */
START_TEST(test_readiness)
{
	struct global_conf	*gc;

	ck_assert_int_eq(parse(
	    "global:\n"
	    "  readiness: {enabled: yes, mode: all_running, content: up}\n"
	    "processes:\n"
	    "  web: {enabled: true, command: [x]}\n"
	    "  held: {enabled: true, initial_state: stopped, command: [x]}\n"
	    "  cron: {enabled: true, schedule: '* * * * *', command: [x]}\n"
	    "  once: {enabled: true, type: oneshot, restart: never, "
	    "command: [x]}\n"
	    "  off: {enabled: false, command: [x]}\n"), 0);
	gc = &pr.pr_conf->cf_global;
	ck_assert_int_eq(gc->gc_ready_enabled, 1);
	ck_assert_int_eq(gc->gc_ready_mode, READYFILE_ALL_RUNNING);
	ck_assert_str_eq(gc->gc_ready_path, READYFILE_PATH);
	ck_assert_str_eq(gc->gc_ready_content, "up");
	ck_assert_int_eq(proc("web")->pc_ready_tracked, 1);
	ck_assert_int_eq(proc("held")->pc_ready_tracked, 0);
	ck_assert_int_eq(proc("cron")->pc_ready_tracked, 0);
	ck_assert_int_eq(proc("once")->pc_ready_tracked, 0);
	ck_assert_int_eq(proc("off")->pc_ready_tracked, 0);
	teardown();

	/* a list names exactly what counts */
	ck_assert_int_eq(parse(
	    "global:\n"
	    "  readiness:\n"
	    "    enabled: true\n"
	    "    path: /run/x/ready\n"
	    "    processes: [once, off]\n"
	    "processes:\n"
	    "  web: {enabled: true, command: [x]}\n"
	    "  once: {enabled: true, type: oneshot, restart: never, "
	    "command: [x]}\n"
	    "  off: {enabled: false, command: [x]}\n"), 0);
	ck_assert_str_eq(pr.pr_conf->cf_global.gc_ready_path, "/run/x/ready");
	ck_assert_int_eq(pr.pr_conf->cf_global.gc_ready_mode,
	    READYFILE_ALL_HEALTHY);
	ck_assert_int_eq(proc("web")->pc_ready_tracked, 0);
	ck_assert_int_eq(proc("once")->pc_ready_tracked, 1);
	ck_assert_int_eq(proc("off")->pc_ready_tracked, 0);
	expect_at("global.readiness.processes: 'off' is not enabled and "
	    "never counts", DIAG_WARNING, 5, 23);
	teardown();

	/* off: nothing is tracked and nothing is checked */
	ck_assert_int_eq(parse(ONE_PROC
	    "global: {readiness: {path: relative}}\n"), 0);
	ck_assert_int_eq(pr.pr_conf->cf_global.gc_ready_enabled, 0);
	teardown();

	expect_error(ONE_PROC "global: {readiness: {enabled: true, "
	    "path: relative}}\n", "global.readiness.path: relative is not an "
	    "absolute path", 3, 43);
	teardown();
	expect_error(ONE_PROC "global: {readiness: {enabled: true, "
	    "path: ''}}\n", "global.readiness.path must not be empty", 3, 43);
	teardown();
	expect_error(ONE_PROC "global: {readiness: {enabled: true, "
	    "mode: all_ready}}\n", "all_ready", 3, 43);

	ck_assert_int_eq(parse(ONE_PROC "global: {shutdown_delay: 2500ms}\n"),
	    0);
	ck_assert_int_eq(pr.pr_conf->cf_global.gc_shutdown_delay_ms, 2500);
	teardown();
	expect_error(ONE_PROC "global: {shutdown_delay: 6m}\n",
	    "global.shutdown_delay: 6m exceeds the maximum of 5m", 3, 26);
	expect_error(ONE_PROC "global: {shutdown_delay: 5}\n",
	    "global.shutdown_delay: \"5\" needs a unit", 3, 26);
}
END_TEST

/* on_success, on_failure and the signal routes they come with. */
START_TEST(test_critical_routes)
{
	ck_assert_int_eq(parse(
	    "global:\n"
	    "  signal_routes:\n"
	    "    SIGUSR2: [fpm]\n"
	    "    usr1: [web, fpm]\n"
	    "    WINCH: web\n"
	    "processes:\n"
	    "  fpm: {enabled: true, command: [x], on_failure: shutdown}\n"
	    "  web: {enabled: true, command: [x], on_success: shutdown,\n"
	    "    restart: never}\n"
	    "  job: {enabled: true, command: [x], on_success: shutdown}\n"
	    "  cron: {enabled: true, command: [x], schedule: '0 3 * * *',\n"
	    "    on_failure: shutdown}\n"), 0);
	ck_assert_int_eq(proc("fpm")->pc_on_failure, ACTION_SHUTDOWN);
	ck_assert_int_eq(proc("fpm")->pc_on_success, ACTION_CONTINUE);
	ck_assert_int_eq(proc("web")->pc_on_success, ACTION_SHUTDOWN);
	ck_assert_uint_eq(proc("fpm")->pc_signals,
	    (1U << SIGUSR2) | (1U << SIGUSR1));
	ck_assert_uint_eq(proc("web")->pc_signals,
	    (1U << SIGUSR1) | (1U << SIGWINCH));
	ck_assert_uint_eq(proc("job")->pc_signals, 0);
	expect_at("processes.job.on_success: with restart: always it never "
	    "ends successfully", DIAG_WARNING, 10, 50);
	expect_at("processes.cron: on_success and on_failure have no effect "
	    "on a scheduled task", DIAG_WARNING, 12, 17);
	ck_assert_ptr_null(find("SIGHUP goes to processes"));
	teardown();

	ck_assert_int_eq(parse(ONE_PROC
	    "global: {signal_routes: {HUP: [a]}}\n"), 0);
	ck_assert_uint_eq(proc("a")->pc_signals, 1U << SIGHUP);
	expect_at("SIGHUP goes to processes and no longer reloads",
	    DIAG_SUGGESTION, 3, 26);
	teardown();

	expect_error(ONE_PROC "global: {signal_routes: {SIGTERM: [a]}}\n",
	    "global.signal_routes: SIGTERM cannot be routed", 3, 26);
	expect_error(ONE_PROC "global: {signal_routes: {SIGFOO: [a]}}\n",
	    "global.signal_routes: unknown signal \"SIGFOO\"", 3, 26);
	expect_error(ONE_PROC "global: {signal_routes: {USR1: [b]}}\n",
	    "global.signal_routes.USR1: 'b' is not defined", 3, 33);
	expect_error(ONE_PROC "global: {signal_routes: [a]}\n",
	    "global.signal_routes: expected a mapping", 3, 25);
	expect_error("processes:\n  a: {enabled: true, command: [x], "
	    "on_failure: restart}\n", "processes.a.on_failure: \"restart\" "
	    "is neither continue nor shutdown", 2, 48);
}
END_TEST

/* Run under valgrind or ASan, this shows any leak on either path. */
START_TEST(test_repeat)
{
	int	i;

	for (i = 0; i < 1000; i++) {
		ck_assert_int_eq(parse(
		    "x: &d {enabled: true}\n"
		    "global: {restart_backoff: 1, log_level: warn}\n"
		    "hooks: {pre-start: [{command: [x]}]}\n"
		    "processes:\n"
		    "  a: {<<: *d, command: [x], env: {A: b},\n"
		    "    depends_on: [b],\n"
		    "    shutdown: {pre_stop_hook: {command: [y]}}}\n"
		    "  b: {enabled: true, command: [x],\n"
		    "    schedule: \"* * * * *\",\n"
		    "    health_check: {type: exec, command: [t]}}\n"), 0);
		ck_assert_int_eq(pr.pr_conf->cf_nprocs, 2);
		parse_result_clear(&pr);
		ck_assert_int_eq(parse("processes:\n  a: {command: 1, x: "
		    "[}\n"), -1);
		ck_assert_ptr_null(pr.pr_conf);
		parse_result_clear(&pr);
		ck_assert_int_eq(parse("processes:\n  a: {command: [x], "
		    "depends_on: [c]}\n  c: {command: [], depends_on: [a], "
		    "scale: 0x}\n  a: {}\n"), -1);
		parse_result_clear(&pr);
		ck_assert_int_eq(parse("processes:\n  a: {command: [x], "
		    "depends_on: [c]}\n  c: {command: [], depends_on: [a], "
		    "scale: 0x}\n"), -1);
		parse_result_clear(&pr);
	}
}
END_TEST

/* parse_result_clear leaves a result that can be cleared again. */
START_TEST(test_clear)
{
	ck_assert_int_eq(parse(ONE_PROC), 0);
	parse_result_clear(&pr);
	ck_assert_ptr_null(pr.pr_conf);
	ck_assert(TAILQ_EMPTY(&pr.pr_diags));
	ck_assert_int_eq(pr.pr_errors, 0);
	ck_assert_int_eq(pr.pr_warnings, 0);
	parse_result_clear(&pr);
}
END_TEST

/* Read a whole file into a fresh buffer; NULL if it is not there. */
static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf;
	long	 n;

	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	ck_assert_int_ge(n = ftell(f), 0);
	rewind(f);
	ck_assert_ptr_nonnull(buf = malloc((size_t)n + 1));
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return (buf);
}

/* What the parser made of a file and of its saved form is the same. */
static void
same_conf(struct phpeekd_conf *a, struct phpeekd_conf *b, const char *what)
{
	struct proc_conf	*pa, *pb;

	ck_assert_msg(a->cf_nprocs == b->cf_nprocs, "%s: process count",
	    what);
	ck_assert_msg(memcmp(&a->cf_global, &b->cf_global,
	    sizeof(a->cf_global)) == 0, "%s: global block differs", what);
	TAILQ_FOREACH(pa, &a->cf_procs, pc_entry) {
		pb = config_proc_find(b, pa->pc_name);
		ck_assert_msg(pb != NULL, "%s: %s lost", what, pa->pc_name);
		ck_assert_msg(config_proc_equal(pa, pb) &&
		    pa->pc_scale == pb->pc_scale &&
		    pa->pc_restart == pb->pc_restart &&
		    pa->pc_stop_signal == pb->pc_stop_signal &&
		    pa->pc_stop_timeout == pb->pc_stop_timeout &&
		    strlist_equal(&pa->pc_depends, &pb->pc_depends),
		    "%s: %s differs", what, pa->pc_name);
	}
}

/*
 * config/save: every shipped configuration written back loads to the
 * same thing; ${VARIABLES} stay unexpanded; API changes are in it.
 */
START_TEST(test_emit)
{
	static const char *const files[] = {
		"etc/phpeekd.yaml", "share/examples/minimal.yaml",
		"share/examples/laravel.yaml", "share/examples/symfony.yaml",
		"share/examples/generic.yaml", "share/examples/production.yaml",
		"regress/config/good-1.yaml",
	};
	struct parse_result	 a, b;
	struct cfg_edits	 edits;
	struct cfg_edit		 add, del;
	char			*text, *out, err[128];
	size_t			 i, len, olen;
	int			 tried = 0;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if ((text = slurp(files[i], &len)) == NULL)
			continue;
		tried++;
		ck_assert_msg(parse_emit(text, len, NULL, &out, &olen, err,
		    sizeof(err)) == 0, "%s: %s", files[i], err);
		ck_assert_msg(parse_config("a", text, len, &a) == 0, "%s",
		    files[i]);
		ck_assert_msg(parse_config("b", out, olen, &b) == 0,
		    "%s saved does not parse:\n%s", files[i], out);
		same_conf(a.pr_conf, b.pr_conf, files[i]);
		parse_result_clear(&a);
		parse_result_clear(&b);
		free(out);
		free(text);
	}
	ck_assert_int_ge(tried, 6);

	text = "global:\n  api_socket: ${SOCK:-/tmp/x.sock}\n"
	    "processes:\n  web:\n    enabled: true\n"
	    "    command: [sleep, \"10\"]\n  old:\n    enabled: true\n"
	    "    command: [sleep, \"20\"]\n";
	TAILQ_INIT(&edits);
	memset(&add, 0, sizeof(add));
	memset(&del, 0, sizeof(del));
	strlcpy(add.ce_name, "new", sizeof(add.ce_name));
	add.ce_json = "{\"enabled\":true,\"command\":[\"true\"],"
	    "\"scale\":3,\"env\":{\"A\":\"x\\\"y\\nz\"}}";
	strlcpy(del.ce_name, "old", sizeof(del.ce_name));
	TAILQ_INSERT_TAIL(&edits, &add, ce_entry);
	TAILQ_INSERT_TAIL(&edits, &del, ce_entry);
	ck_assert_int_eq(parse_emit(text, strlen(text), &edits, &out, &olen,
	    err, sizeof(err)), 0);
	ck_assert_msg(strstr(out, "api_socket: ${SOCK:-/tmp/x.sock}") !=
	    NULL, "%s", out);
	ck_assert_int_eq(parse_config("b", out, olen, &b), 0);
	ck_assert_int_eq(b.pr_conf->cf_nprocs, 2);
	ck_assert_ptr_null(config_proc_find(b.pr_conf, "old"));
	ck_assert_ptr_nonnull(config_proc_find(b.pr_conf, "new"));
	ck_assert_int_eq(config_proc_find(b.pr_conf, "new")->pc_scale, 3);
	ck_assert_str_eq(config_proc_find(b.pr_conf, "new")->pc_env.sl_v[0],
	    "A=x\"y\nz");
	parse_result_clear(&b);
	free(out);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("parse");
	TCase	*tc = tcase_create("parse");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_substitution);
	tcase_add_test(tc, test_substitution_bound);
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_enabled_default);
	tcase_add_test(tc, test_bools);
	tcase_add_test(tc, test_ints);
	tcase_add_test(tc, test_global_errors);
	tcase_add_test(tc, test_process_errors);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_signals);
	tcase_add_test(tc, test_cycles);
	tcase_add_test(tc, test_dependencies);
	tcase_add_test(tc, test_oneshot);
	tcase_add_test(tc, test_types);
	tcase_add_test(tc, test_no_processes);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_aliases);
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_hostile_size);
	tcase_add_test(tc, test_secrets);
	tcase_add_test(tc, test_health);
	tcase_add_test(tc, test_fpm_metrics);
	tcase_add_test(tc, test_overrides);
	tcase_add_test(tc, test_cron);
	tcase_add_test(tc, test_check_config);
	tcase_add_test(tc, test_readiness);
	tcase_add_test(tc, test_critical_routes);
	tcase_add_test(tc, test_tables);
	tcase_add_test(tc, test_repeat);
	tcase_add_test(tc, test_clear);
	tcase_add_test(tc, test_emit);
	/* valgrind is ten to fifty times slower */
	tcase_set_timeout(tc, 600);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
