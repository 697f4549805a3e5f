/*
 * Unit tests of the configuration parser: values and defaults as
 * phpeek-pm gives them, and each diagnostic at its line and column.
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

static int
parse(const char *text)
{
	return (parse_config("t.yaml", text, strlen(text), &pr));
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

static void
expect_at(const char *s, int sev, int line, int col)
{
	struct diag	*d;

	d = find(s);
	ck_assert_msg(d != NULL, "no diagnostic containing \"%s\"", s);
	ck_assert_int_eq(d->d_severity, sev);
	ck_assert_int_eq(d->d_line, line);
	ck_assert_int_eq(d->d_col, col);
}

static void
teardown(void)
{
	parse_result_clear(&pr);
}

START_TEST(test_full)
{
	struct phpeekd_conf	*cf;
	struct proc_conf	*pc;

	ck_assert_int_eq(parse(
	    "version: \"1.0\"\n"
	    "global:\n"
	    "  restart_backoff: 2\n"
	    "  log_format: text\n"
	    "processes:\n"
	    "  worker:\n"
	    "    enabled: yes\n"
	    "    scale: 3.9\n"
	    "    command: [\"php\", \"artisan\", \"queue:work\"]\n"
	    "    depends_on: [fpm]\n"
	    "    env:\n"
	    "      B: two\n"
	    "      A: one\n"
	    "  fpm:\n"
	    "    enabled: On\n"
	    "    command: [php-fpm, -F]\n"
	    "    shutdown:\n"
	    "      signal: SIGQUIT\n"
	    "      timeout: 0\n"), 0);
	cf = pr.pr_conf;
	ck_assert_ptr_nonnull(cf);
	ck_assert_int_eq(cf->cf_global.gc_shutdown_timeout, 30);
	ck_assert_int_eq(cf->cf_global.gc_max_restart_attempts, 3);
	ck_assert_int_eq(cf->cf_global.gc_backoff_initial_ms, 2000);
	ck_assert_int_eq(cf->cf_global.gc_backoff_max_ms, 24000);
	ck_assert_int_eq(cf->cf_global.gc_log_format, LOG_FMT_TEXT);
	ck_assert_int_eq(cf->cf_global.gc_log_level, LOG_LVL_INFO);
	ck_assert_uint_eq(cf->cf_nprocs, 2);
	/* sorted by name */
	pc = TAILQ_FIRST(&cf->cf_procs);
	ck_assert_str_eq(pc->pc_name, "fpm");
	ck_assert_int_eq(pc->pc_stop_signal, SIGQUIT);
	ck_assert_int_eq(pc->pc_stop_timeout, 30);
	pc = TAILQ_NEXT(pc, pc_entry);
	ck_assert_str_eq(pc->pc_name, "worker");
	ck_assert_int_eq(pc->pc_scale, 3);
	ck_assert_uint_eq(pc->pc_command.sl_n, 3);
	ck_assert_str_eq(pc->pc_command.sl_v[2], "queue:work");
	ck_assert_uint_eq(pc->pc_env.sl_n, 2);
	ck_assert_str_eq(pc->pc_env.sl_v[0], "B=two");
	ck_assert_str_eq(pc->pc_env.sl_v[1], "A=one");
	ck_assert_str_eq(pc->pc_depends.sl_v[0], "fpm");
	ck_assert_int_eq(pc->pc_restart, RESTART_ALWAYS);
}
END_TEST

START_TEST(test_durations)
{
	ck_assert_int_eq(parse(
	    "global:\n"
	    "  restart_backoff: 2\n"
	    "  restart_backoff_initial: 1m30s\n"
	    "  restart_backoff_max: 500ms\n"
	    "processes:\n"
	    "  a: {enabled: true, command: [x]}\n"), 0);
	ck_assert_int_eq(pr.pr_conf->cf_global.gc_backoff_initial_ms, 90000);
	ck_assert_int_eq(pr.pr_conf->cf_global.gc_backoff_max_ms, 500);
	parse_result_clear(&pr);
	ck_assert_int_eq(parse(
	    "global:\n"
	    "  restart_backoff_initial: 30\n"
	    "processes:\n"
	    "  a: {enabled: true, command: [x]}\n"), -1);
	expect_at("needs a unit, e.g. \"30s\"", DIAG_ERROR, 2, 28);
}
END_TEST

START_TEST(test_substitution)
{
	setenv("PT_SET", "from-env", 1);
	setenv("PT_EMPTY", "", 1);
	unsetenv("PT_UNSET");
	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  a:\n"
	    "    enabled: true\n"
	    "    command: [\"${PT_SET}\", \"${PT_UNSET}\", "
	    "\"${PT_EMPTY:-dflt}\", \"${PT_UNSET:-x y}\", \"$${PT_SET}\"]\n"),
	    0);
	struct proc_conf *pc = TAILQ_FIRST(&pr.pr_conf->cf_procs);
	ck_assert_str_eq(pc->pc_command.sl_v[0], "from-env");
	ck_assert_str_eq(pc->pc_command.sl_v[1], "");
	ck_assert_str_eq(pc->pc_command.sl_v[2], "dflt");
	ck_assert_str_eq(pc->pc_command.sl_v[3], "x y");
	/* no escaping, as in phpeek-pm */
	ck_assert_str_eq(pc->pc_command.sl_v[4], "$from-env");
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
}
END_TEST

START_TEST(test_enabled_default)
{
	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  a:\n"
	    "    command: [x]\n"), 0);
	expect_at("'enabled' is not set", DIAG_WARNING, 2, 3);
	ck_assert_int_eq(TAILQ_FIRST(&pr.pr_conf->cf_procs)->pc_enabled, 1);
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
	ck_assert_ptr_nonnull(find("dependency cycle: a -> b -> a"));
	ck_assert_ptr_nonnull(find("dependency cycle: c -> d -> e -> c"));
	ck_assert_int_eq(pr.pr_errors, 2);
}
END_TEST

START_TEST(test_dependencies)
{
	ck_assert_int_eq(parse(
	    "processes:\n"
	    "  web: {enabled: true, command: [x], depends_on: [wrker]}\n"
	    "  worker: {enabled: false, command: [x]}\n"
	    "  api: {enabled: true, command: [x], depends_on: [worker]}\n"),
	    -1);
	expect_at("depends on 'wrker', which is not defined; did you mean "
	    "'worker'?", DIAG_ERROR, 2, 51);
	ck_assert_ptr_nonnull(find("depends on 'worker', which is disabled"));
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
	expect_at("oneshot processes cannot use restart: always", DIAG_ERROR,
	    4, 11);
	expect_at("cannot have scale > 1", DIAG_ERROR, 5, 12);
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
}
END_TEST

START_TEST(test_hostile)
{
	char	*deep;
	size_t	 i;

	if ((deep = malloc(10001)) == NULL)
		ck_abort();
	for (i = 0; i < 10000; i++)
		deep[i] = '[';
	deep[10000] = '\0';
	ck_assert_int_eq(parse(deep), -1);
	expect_at("nesting deeper than 64 levels", DIAG_ERROR, 1, 65);
	free(deep);
	parse_result_clear(&pr);

	ck_assert_int_eq(parse(
	    "a: &a [x,x,x,x,x,x,x,x,x]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"), -1);
	ck_assert_ptr_nonnull(find("aliases expand to more than"));
	parse_result_clear(&pr);

	ck_assert_int_eq(parse("processes:\n  a:\n\tcommand: [x]\n"), -1);
	expect_at("YAML: found character that cannot start any token",
	    DIAG_ERROR, 3, 1);
	parse_result_clear(&pr);

	ck_assert_int_eq(parse("processes:\n  a: {command: [\"\xff\"]}\n"),
	    -1);
	ck_assert_ptr_nonnull(find("UTF-8"));
	parse_result_clear(&pr);

	ck_assert_int_eq(parse(""), -1);
	ck_assert_ptr_nonnull(find("the file is empty"));
	parse_result_clear(&pr);

	/* NUL inside a quoted value would cut it short in C */
	ck_assert_int_eq(parse_config("t.yaml",
	    "processes: {a: {command: [\"x\\0y\"]}}\n", 35, &pr), -1);
	ck_assert_ptr_nonnull(find("NUL"));
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
	expect_at("processes.a.schedule: invalid schedule expression",
	    DIAG_ERROR, 9, 15);
	ck_assert_ptr_nonnull(find("processes.a.logging.min_level: invalid "
	    "value \"loud\""));
	ck_assert_ptr_nonnull(find("both stdout and stderr are disabled"));
	ck_assert_ptr_nonnull(find("unknown key 'retry_cont' in "
	    "processes.a.heartbeat; did you mean 'retry_count'?"));
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
	    "  readiness: {enabled: true, path: /srv/ready, processes: [nope]}\n"
	    "processes:\n"
	    "  a: {enabled: true, command: [x]}\n"), 0);
	ck_assert_ptr_null(find("global.api_auth"));
	ck_assert_ptr_null(find("global.api_tls"));
	ck_assert_ptr_null(find("global.audit_enabled"));
	ck_assert_ptr_nonnull(find("resource metrics are collected but the "
	    "Prometheus endpoint is off"));
	expect_at("global.readiness.path: /srv/ready is not under /tmp or /run",
	    DIAG_SUGGESTION, 6, 36);
	expect_at("global.readiness.processes: 'nope' is not defined",
	    DIAG_WARNING, 6, 60);
}
END_TEST

/* Run under valgrind or ASan, this shows any leak on either path. */
START_TEST(test_repeat)
{
	int	i;

	for (i = 0; i < 1000; i++) {
		ck_assert_int_eq(parse("processes:\n  a: {enabled: true, "
		    "command: [x], env: {A: b}, depends_on: []}\n"), 0);
		parse_result_clear(&pr);
		ck_assert_int_eq(parse("processes:\n  a: {command: 1, x: "
		    "[}\n"), -1);
		parse_result_clear(&pr);
	}
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
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_substitution);
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_enabled_default);
	tcase_add_test(tc, test_cycles);
	tcase_add_test(tc, test_dependencies);
	tcase_add_test(tc, test_oneshot);
	tcase_add_test(tc, test_types);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_health);
	tcase_add_test(tc, test_overrides);
	tcase_add_test(tc, test_cron);
	tcase_add_test(tc, test_check_config);
	tcase_add_test(tc, test_tables);
	tcase_add_test(tc, test_repeat);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
