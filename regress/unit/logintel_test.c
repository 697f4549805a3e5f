/*
 * Unit tests of the log pipeline (logintel.c): level detection on
 * lines as PHP, PHP-FPM, nginx, Laravel and Symfony write them, every
 * built-in redaction with a line it must catch and one it must leave,
 * the user's patterns with Go's group expansion, PHP and Java stack
 * traces reassembled, max_lines and the timeout, the filters, JSON
 * with merged fields, a catastrophic pattern held to its limit, and
 * the errors a bad pattern gives.
 */

#include <sys/types.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phpeekd.h"

static struct logintel_out	out;

static struct logintel *
mk(const struct logintel_conf *lc)
{
	struct logintel	*li;
	char		 err[512];

	li = logintel_new(lc, err, sizeof(err));
	ck_assert_msg(li != NULL, "logintel_new: %s", err);
	return (li);
}

/* One line in, exactly one entry out; returns it. */
static const struct logintel_entry *
one(struct logintel *li, const char *line)
{
	int	n;

	n = logintel_line(li, line, strlen(line), 0, &out);
	ck_assert_msg(n == 1, "%s: %d entries", line, n);
	return (&out.lo_ent[0]);
}

static int
feed(struct logintel *li, const char *line, int64_t now)
{
	return (logintel_line(li, line, strlen(line), now, &out));
}

static void
strlist_set(struct strlist *sl, char **v)
{
	for (sl->sl_n = 0; v[sl->sl_n] != NULL; sl->sl_n++)
		;
	sl->sl_v = v;
}

static const char *
field(const struct logintel_entry *e, const char *key)
{
	size_t	i;

	for (i = 0; i < e->ie_nfields; i++)
		if (strcmp(e->ie_fields[i].lf_key, key) == 0)
			return (e->ie_fields[i].lf_value);
	return (NULL);
}

struct level_case {
	const char	*line;
	int		 level;
};

static const struct level_case level_cases[] = {
	/* PHP-FPM's own log */
	{ "[27-Nov-2025 08:33:09] WARNING: [pool www] child 12 exited on "
	    "signal 9 (SIGKILL) after 1.203 seconds from start", LOG_LVL_WARN },
	{ "[27-Nov-2025 08:33:09] NOTICE: fpm is running, pid 1",
	    LOG_LVL_INFO },
	{ "[27-Nov-2025 08:33:09] NOTICE: ready to handle connections",
	    LOG_LVL_INFO },
	{ "[27-Nov-2025 08:33:09] ERROR: unable to bind listening socket "
	    "for address '9000': Address in use (98)", LOG_LVL_ERROR },
	{ "[27-Nov-2025 08:33:09] ALERT: [pool www] unable to set "
	    "max_children", LOG_LVL_ERROR },
	{ "[27-Nov-2025 08:33:09] WARNING: [pool www] child 7 said into "
	    "stderr: \"PHP Fatal error:  Allowed memory size exhausted\"",
	    LOG_LVL_ERROR },
	/* PHP itself (CLI, error_log to stderr) */
	{ "PHP Fatal error:  Uncaught Exception: boom in /app/index.php:3",
	    LOG_LVL_ERROR },
	{ "PHP Parse error:  syntax error, unexpected '}' in /app/a.php on "
	    "line 9", LOG_LVL_ERROR },
	{ "PHP Warning:  Undefined variable $user in /app/a.php on line 4",
	    LOG_LVL_WARN },
	{ "PHP Notice:  Undefined index: id in /app/a.php on line 5",
	    LOG_LVL_WARN },
	{ "PHP Deprecated:  strftime() is deprecated in /app/a.php",
	    LOG_LVL_WARN },
	{ "Fatal error: Uncaught TypeError: strlen(): Argument #1",
	    LOG_LVL_ERROR },
	/* nginx error log, then an access log line (no level) */
	{ "2025/11/27 08:33:09 [error] 7#7: *1 connect() failed (111: "
	    "Connection refused) while connecting to upstream", LOG_LVL_ERROR },
	{ "2025/11/27 08:33:09 [crit] 7#7: *3 open() failed (13: Permission "
	    "denied)", LOG_LVL_ERROR },
	{ "2025/11/27 08:33:09 [emerg] 1#1: bind() to 0.0.0.0:80 failed",
	    LOG_LVL_ERROR },
	{ "2025/11/27 08:33:09 [warn] 7#7: *9 an upstream response is "
	    "buffered to a temporary file", LOG_LVL_WARN },
	{ "2025/11/27 08:33:09 [notice] 1#1: signal process started",
	    LOG_LVL_INFO },
	{ "2025/11/27 08:33:09 [debug] 7#7: *1 http cleanup add",
	    LOG_LVL_DEBUG },
	{ "172.17.0.1 - - [27/Nov/2025:08:33:09 +0000] \"GET /health "
	    "HTTP/1.1\" 200 2 \"-\" \"kube-probe/1.29\"", LOG_LVL_INFO },
	/* Laravel */
	{ "[2025-11-27 08:33:09] local.ERROR: SQLSTATE[HY000] [2002] "
	    "Connection refused {\"exception\":\"[object] (PDOException)\"}",
	    LOG_LVL_ERROR },
	{ "[2025-11-27 08:33:09] production.WARNING: Slow query 2.3s",
	    LOG_LVL_WARN },
	{ "[2025-11-27 08:33:09] production.INFO: User 42 logged in",
	    LOG_LVL_INFO },
	{ "[2025-11-27 08:33:09] local.DEBUG: cache hit users:42",
	    LOG_LVL_DEBUG },
	{ "[2025-11-27 08:33:09] production.CRITICAL: Payment gateway down",
	    LOG_LVL_ERROR },
	{ "[2025-11-27 08:33:09] production.EMERGENCY: Disk full",
	    LOG_LVL_ERROR },
	{ "[2025-11-27 08:33:09] production.NOTICE: Queue restarted",
	    LOG_LVL_INFO },
	/* Symfony / Monolog line formatter */
	{ "[2025-11-27T08:33:09.123456+00:00] request.CRITICAL: Uncaught PHP "
	    "Exception RuntimeException: \"boom\" at src/Kernel.php line 12 "
	    "[] []", LOG_LVL_ERROR },
	{ "[2025-11-27T08:33:09.123456+00:00] php.INFO: User Deprecated: "
	    "Method is deprecated [] []", LOG_LVL_INFO },
	{ "[2025-11-27T08:33:09.123456+00:00] doctrine.DEBUG: SELECT 1 [] []",
	    LOG_LVL_DEBUG },
	/* the documentation's examples, logfmt, Java */
	{ "[ERROR] Database connection failed", LOG_LVL_ERROR },
	{ "2024-11-20 ERROR: Query timeout", LOG_LVL_ERROR },
	{ "php artisan: INFO - Cache cleared", LOG_LVL_INFO },
	{ "{\"level\":\"warn\",\"msg\":\"Slow query\"}", LOG_LVL_WARN },
	{ "time=2025-11-27T08:33:09Z level=error msg=\"queue failed\"",
	    LOG_LVL_ERROR },
	{ "time=2025-11-27T08:33:09Z level=debug msg=\"tick\"",
	    LOG_LVL_DEBUG },
	{ "Exception in thread \"main\" java.lang.IllegalStateException: x",
	    LOG_LVL_ERROR },
	/* words that only look like markers */
	{ "ERROR_LOG=/dev/stderr errors=0 terror", LOG_LVL_INFO },
	{ "Processed 120 jobs, 0 Errors", LOG_LVL_INFO },
};

START_TEST(test_level_builtin)
{
	const struct level_case	*lc = &level_cases[_i];
	struct logintel_conf	 c;
	struct logintel		*li;
	const struct logintel_entry *e;

	logintel_conf_init(&c);
	c.lc_ld_enabled = 1;
	c.lc_min_level = LOG_LVL_DEBUG;
	li = mk(&c);
	e = one(li, lc->line);
	ck_assert_msg(e->ie_level == lc->level, "%s: %s, want %s", lc->line,
	    logintel_level_name(e->ie_level), logintel_level_name(lc->level));
	ck_assert_str_eq(e->ie_msg, lc->line);
	logintel_free(li);
}
END_TEST

/* The user's patterns first, in severity order; default_level last. */
START_TEST(test_level_custom)
{
	struct logintel_conf	 c;
	struct logintel		*li;

	logintel_conf_init(&c);
	c.lc_ld_enabled = 1;
	c.lc_min_level = LOG_LVL_DEBUG;
	c.lc_ld_default = LOG_LVL_WARN;
	c.lc_ld_patterns[LOG_LVL_DEBUG] = "health";
	c.lc_ld_patterns[LOG_LVL_ERROR] = "(?i)exploded";
	c.lc_ld_patterns[LOG_LVL_INFO] = "^GET ";
	li = mk(&c);
	/* a custom match beats a built-in marker */
	ck_assert_int_eq(one(li, "ERROR health probe")->ie_level,
	    LOG_LVL_DEBUG);
	/* severity order among the user's own */
	ck_assert_int_eq(one(li, "health: Boiler EXPLODED")->ie_level,
	    LOG_LVL_ERROR);
	ck_assert_int_eq(one(li, "GET /health")->ie_level, LOG_LVL_INFO);
	ck_assert_int_eq(one(li, "POST /health")->ie_level, LOG_LVL_DEBUG);
	/* no custom match: the built-ins, then default_level */
	ck_assert_int_eq(one(li, "[warn] disk 91%")->ie_level, LOG_LVL_WARN);
	ck_assert_int_eq(one(li, "[error] disk 99%")->ie_level,
	    LOG_LVL_ERROR);
	ck_assert_int_eq(one(li, "plain text")->ie_level, LOG_LVL_WARN);
	logintel_free(li);

	/* detection off: everything is info */
	logintel_conf_init(&c);
	li = mk(&c);
	ck_assert_int_eq(one(li, "PHP Fatal error: x")->ie_level,
	    LOG_LVL_INFO);
	logintel_free(li);

	ck_assert_int_eq(logintel_level("WARNING"), LOG_LVL_WARN);
	ck_assert_int_eq(logintel_level("warn"), LOG_LVL_WARN);
	ck_assert_int_eq(logintel_level("Error"), LOG_LVL_ERROR);
	ck_assert_int_eq(logintel_level("critical"), -1);
}
END_TEST

struct redact_case {
	const char	*name;
	const char	*in;
	const char	*want;		/* NULL: unchanged */
};

static const struct redact_case redact_cases[] = {
	/* credential: key=value, JSON, YAML-ish, escaped JSON, env */
	{ "credential", "login user=bob password=hunter2 from 10.0.0.1",
	    "login user=bob password=***REDACTED*** from 10.0.0.1" },
	{ "credential", "{\"user\":\"bob\",\"password\":\"se\\\"cr et\"}",
	    "{\"user\":\"bob\",\"password\":\"***REDACTED***\"}" },
	{ "credential", "DB_PASSWORD=s3cr3t DB_HOST=db",
	    "DB_PASSWORD=***REDACTED*** DB_HOST=db" },
	{ "credential", "api_key: 'abc123def' client_secret=xyz&x=1",
	    "api_key: '***REDACTED***' client_secret=***REDACTED***&x=1" },
	{ "credential", "{\"ctx\":\"{\\\"token\\\":\\\"t0k3n\\\"}\"}",
	    "{\"ctx\":\"{\\\"token\\\":\\\"***REDACTED***\\\"}\"}" },
	{ "credential", "user bob changed his password successfully", NULL },
	/* at the bounds of redact_hints(): upper case, at the line's end */
	{ "credential", "TOKEN:abc", "TOKEN:***REDACTED***" },
	{ "credential", "export DB_PASSWORD=x", "export DB_PASSWORD=***REDACTED***" },
	{ "card", "card 4222222222222", "card ***REDACTED***" },
	{ "card", "4111-1111-1111-1111 ok", "***REDACTED*** ok" },
	{ "card", "id 422222222222", NULL },
	{ "url_credentials", "redis://:pw@cache", "redis://:***REDACTED***@cache" },
	{ "url_credentials", "mysql://u:p@ss:w@db",
	    "mysql://u:***REDACTED***@db" },
	{ "url_credentials", "amqp://u:p@", "amqp://u:***REDACTED***@" },
	{ "url_credentials", "https://u:@host", NULL },
	{ "url_credentials", "https://u@h:p@x https://a/b:c@d", NULL },
	{ "bearer", "sent BEARER abc123def456", "sent BEARER ***REDACTED***" },
	/* authorization headers */
	{ "authorization", "Authorization: Basic dXNlcjpwYXNz",
	    "Authorization: Basic ***REDACTED***" },
	{ "authorization", "\"authorization\":\"Digest username=x\"",
	    "\"authorization\":\"Digest ***REDACTED***\"" },
	{ "authorization", "authorization required for /admin", NULL },
	/* bearer tokens */
	{ "bearer", "curl -H 'Bearer 8f14e45fceea167a5a36dedd4bea2543'",
	    "curl -H 'Bearer ***REDACTED***'" },
	{ "bearer", "uses bearer authentication", NULL },
	/* credentials in URLs and DSNs */
	{ "url_credentials", "connecting to mysql://root:p@ss@db:3306/app",
	    "connecting to mysql://root:***REDACTED***@db:3306/app" },
	{ "url_credentials", "REDIS_URL=redis://:s3cret@redis:6379/0",
	    "REDIS_URL=redis://:***REDACTED***@redis:6379/0" },
	{ "url_credentials", "GET http://localhost:8080/a@b mailto:x@y.z",
	    NULL },
	/* API keys by their shape */
	{ "api_key", "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc charged",
	    "stripe ***REDACTED*** charged" },
	{ "api_key", "aws AKIAIOSFODNN7EXAMPLE", "aws ***REDACTED***" },
	{ "api_key", "gh ghp_0123456789abcdefghijklmnopqrstuvwxyz",
	    "gh ***REDACTED***" },
	{ "api_key", "slack xoxb-1234567890-abcdefghij",
	    "slack ***REDACTED***" },
	{ "api_key", "sk_live_ is a prefix; AKIA alone is not a key", NULL },
	/* JSON web tokens */
	{ "jwt", "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
	    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok",
	    "jwt ***REDACTED*** ok" },
	{ "jwt", "eyJhbGci alone, not three parts", NULL },
	/* private keys */
	{ "private_key", "key -----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAA"
	    "\n-----END RSA PRIVATE KEY----- loaded",
	    "key ***REDACTED*** loaded" },
	{ "private_key", "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END "
	    "PUBLIC KEY-----", NULL },
	/* card numbers: brand, Luhn, grouping */
	{ "card", "paid with 4111 1111 1111 1111 today",
	    "paid with ***REDACTED*** today" },
	{ "card", "amex 378282246310005, mc 5555-5555-5555-4444.",
	    "amex ***REDACTED***, mc ***REDACTED***." },
	{ "card", "card 4111111111111111 22 seats",
	    "card ***REDACTED*** 22 seats" },
	{ "card", "luhn fails: 4111 1111 1111 1112", NULL },
	{ "card", "no brand: 1234567890123452, ms 1764232389123", NULL },
	{ "card", "float 0.4111111111111111 and sha a4111111111111111", NULL },
	{ "card", "odd groups 41 1111 1111 1111 11", NULL },
};

START_TEST(test_redact_builtin)
{
	const struct redact_case *rc = &redact_cases[_i];
	struct logintel_conf	 c;
	struct logintel		*li;
	const struct logintel_entry *e;
	const char		*want = rc->want ? rc->want : rc->in;

	logintel_conf_init(&c);
	c.lc_redact_enabled = 1;
	li = mk(&c);
	e = one(li, rc->in);
	ck_assert_msg(strcmp(e->ie_msg, want) == 0, "%s: \"%s\": got \"%s\"",
	    rc->name, rc->in, e->ie_msg);
	ck_assert_int_eq(!!(e->ie_flags & LOGINTEL_F_REDACTED),
	    rc->want != NULL);
	logintel_free(li);
}
END_TEST

struct custom_case {
	const char	*pattern;
	const char	*repl;
	const char	*in;
	const char	*want;
};

static const struct custom_case custom_cases[] = {
	/* every match, the default replacement */
	{ "\\bip=[0-9.]+", NULL, "ip=10.0.0.1 ok ip=10.0.0.2",
	    "*** ok ***" },
	{ "(\\w+)@(\\w+)\\.com", "$1 at $2", "mail bob@example.com now",
	    "mail bob at example now" },
	{ "(?P<user>\\w+)@(?P<dom>[\\w.]+)", "${user}@[${dom}]",
	    "to ann@corp.io", "to ann@[corp.io]" },
	{ "(\\w+)@", "$1x", "bob@x", "x" },		/* group "1x": empty */
	{ "(\\w+)@", "${1}x@", "bob@x", "bobx@x" },
	{ "(\\w+)@", "$$1 $9 $nope $", "bob@x", "$1   $x" },
	{ "(?<n>\\d)(?<n2>\\d)", "${n2}${n}", "ab 12 34", "ab 21 43" },
	{ "a*", "-", "baaac", "-b-c-" },	/* Go's empty-match rule */
	{ "x*", "-", "abc", "-a-b-c-" },
	{ "\\d{3}-\\d{2}-\\d{4}", "[ssn]", "ssn 123-45-6789.",
	    "ssn [ssn]." },
	/*
	 * What a pattern needs (logintel.c, need_make) at its bounds:
	 * the whole line, its first and last bytes, other cases, the
	 * non-ASCII other case of k and s, every branch, repeats.
	 */
	{ "\\b(\\d{3})-(\\d{2})-(\\d{4})\\b", "XXX-XX-$3", "123-45-6789",
	    "XXX-XX-6789" },
	{ "\\b(\\d{3})-(\\d{2})-(\\d{4})\\b", "XXX-XX-$3", "12-345-6789",
	    "12-345-6789" },
	{ "([A-Za-z0-9._%+-]+)@([A-Za-z0-9-]+\\.[A-Za-z.]+)", "***@$2",
	    "a@b.c", "***@b.c" },
	{ "([A-Za-z0-9._%+-]+)@([A-Za-z0-9-]+\\.[A-Za-z.]+)", "***@$2",
	    "mail @b.c a@b. a@.c", "mail @b.c a@b. a@.c" },
	{ "(?i)secret", NULL, "the SECRET", "the ***" },
	{ "(?i)token", NULL, "TOKEN to\xe2\x84\xaa" "en", "*** ***" },
	{ "(?i)pass", NULL, "pa\xc5\xbf\xc5\xbf PASS", "*** ***" },
	{ "foo|bar", NULL, "xbar", "x***" },
	{ "(ab){2}c", NULL, "zababc abc", "z*** abc" },
	{ "(?<=@)x+", NULL, "@xx x", "@*** x" },
	{ "[^a]b", NULL, "\xc3\xa9" "b", "***" },
	{ "a.b", NULL, "a\xc3\xa9" "b", "***" },
};

START_TEST(test_redact_custom)
{
	const struct custom_case *cc = &custom_cases[_i];
	struct logintel_redact	 r = { "custom", (char *)cc->pattern,
				    (char *)cc->repl };
	struct logintel_conf	 c;
	struct logintel		*li;

	logintel_conf_init(&c);
	c.lc_redact_enabled = 1;
	c.lc_redact = &r;
	c.lc_nredact = 1;
	li = mk(&c);
	ck_assert_str_eq(one(li, cc->in)->ie_msg, cc->want);
	logintel_free(li);
}
END_TEST

/* The user's patterns run first, in order; the built-ins after. */
START_TEST(test_redact_order)
{
	struct logintel_redact	 r[2] = {
		{ "a", "secret-(\\d+)", "S$1" },
		{ "b", "S(\\d)", "T$1" },
	};
	struct logintel_conf	 c;
	struct logintel		*li;
	char			 err[256];

	logintel_conf_init(&c);
	c.lc_redact_enabled = 1;
	c.lc_redact = r;
	c.lc_nredact = 2;
	li = mk(&c);
	ck_assert_str_eq(one(li, "secret-42 password=x")->ie_msg,
	    "T42 password=***REDACTED***");
	ck_assert_uint_eq(logintel_stats(li)->ls_redactions, 3);
	logintel_free(li);

	/* an empty pattern is a configuration error */
	r[1].lr_pattern = "";
	c.lc_nredact = 2;
	ck_assert_ptr_null(logintel_new(&c, err, sizeof(err)));
	ck_assert_str_eq(err, "redaction pattern 'b': empty pattern");
}
END_TEST

static const char *php_trace[] = {
	"PHP Fatal error:  Uncaught Exception: boom in /app/index.php:3",
	"Stack trace:",
	"#0 /app/index.php(7): fail()",
	"#1 {main}",
	"  thrown in /app/index.php on line 3",
	NULL
};

static const char *java_trace[] = {
	"Exception in thread \"main\" java.lang.IllegalStateException: boom",
	"\tat com.example.App.run(App.java:12)",
	"\tat com.example.App.main(App.java:5)",
	"Caused by: java.lang.NullPointerException: null",
	"\tat com.example.Dao.load(Dao.java:40)",
	"\t... 2 more",
	NULL
};

static const char *laravel_trace[] = {
	"[2025-11-27 08:33:09] local.ERROR: boom {\"exception\":\"[object] "
	    "(Exception(code: 0): boom at /app/x.php:3)",
	"[stacktrace]",
	"#0 /app/vendor/laravel/framework/src/Pipeline.php(180): run()",
	"#1 {main}",
	"\"}",
	NULL
};

static void
joined(char *buf, size_t sz, const char **v)
{
	buf[0] = '\0';
	for (; *v != NULL; v++) {
		if (buf[0] != '\0')
			strlcat(buf, "\n", sz);
		strlcat(buf, *v, sz);
	}
}

/* Feed a trace then a new entry: the trace must come out whole. */
static void
trace_whole(struct logintel *li, const char **trace, int level)
{
	const struct logintel_entry *e;
	char	 want[2048];
	int	 i, n;

	for (i = 0; trace[i] != NULL; i++)
		ck_assert_int_eq(feed(li, trace[i], 1000), 0);
	n = feed(li, "[27-Nov-2025 08:33:10] NOTICE: next entry", 1000);
	ck_assert_int_eq(n, 1);
	e = &out.lo_ent[0];
	joined(want, sizeof(want), trace);
	ck_assert_str_eq(e->ie_msg, want);
	ck_assert_int_eq(e->ie_lines, i);
	ck_assert_int_eq(e->ie_level, level);
	/* the new entry waits; a forced flush hands it over */
	ck_assert_int_eq(logintel_flush(li, 1000, 1, &out), 1);
	ck_assert_str_eq(out.lo_ent[0].ie_msg,
	    "[27-Nov-2025 08:33:10] NOTICE: next entry");
}

START_TEST(test_multiline_traces)
{
	struct logintel_conf	 c;
	struct logintel		*li;

	logintel_conf_init(&c);
	c.lc_ml_enabled = 1;
	c.lc_ld_enabled = 1;
	/* a user's start pattern */
	c.lc_ml_pattern = "^(?:PHP |\\[[0-9]|Exception |[a-z]+\\.[A-Za-z.]+:)";
	li = mk(&c);
	trace_whole(li, php_trace, LOG_LVL_ERROR);
	trace_whole(li, java_trace, LOG_LVL_ERROR);
	trace_whole(li, laravel_trace, LOG_LVL_ERROR);
	logintel_free(li);

	/* no pattern: the built-in continuation shapes */
	c.lc_ml_pattern = NULL;
	li = mk(&c);
	trace_whole(li, php_trace, LOG_LVL_ERROR);
	trace_whole(li, java_trace, LOG_LVL_ERROR);
	trace_whole(li, laravel_trace, LOG_LVL_ERROR);
	/* ordinary lines stay one entry each */
	ck_assert_int_eq(feed(li, "one", 0), 0);
	ck_assert_int_eq(feed(li, "two", 0), 1);
	ck_assert_str_eq(out.lo_ent[0].ie_msg, "one");
	logintel_free(li);
}
END_TEST

START_TEST(test_multiline_max_lines)
{
	struct logintel_conf	 c;
	struct logintel		*li;
	int			 i;

	logintel_conf_init(&c);
	c.lc_ml_enabled = 1;
	c.lc_ml_pattern = "^START";
	c.lc_ml_max_lines = 3;
	li = mk(&c);
	ck_assert_int_eq(feed(li, "START a", 0), 0);
	ck_assert_int_eq(feed(li, " b", 0), 0);
	ck_assert_int_eq(feed(li, " c", 0), 1);		/* third line */
	ck_assert_str_eq(out.lo_ent[0].ie_msg, "START a\n b\n c");
	ck_assert_int_eq(out.lo_ent[0].ie_lines, 3);
	/* an orphan continuation starts an entry of its own */
	ck_assert_int_eq(feed(li, " d", 0), 0);
	ck_assert_int_eq(feed(li, "START e", 0), 1);
	ck_assert_str_eq(out.lo_ent[0].ie_msg, " d");
	logintel_free(li);

	/* zero is the default, 100 */
	c.lc_ml_max_lines = 0;
	li = mk(&c);
	for (i = 0; i < 99; i++)
		ck_assert_int_eq(feed(li, i == 0 ? "START" : " x", 0), 0);
	ck_assert_int_eq(feed(li, " x", 0), 1);
	ck_assert_int_eq(out.lo_ent[0].ie_lines, 100);
	logintel_free(li);

	/* max_lines 1: every line alone, at once */
	c.lc_ml_max_lines = 1;
	li = mk(&c);
	ck_assert_int_eq(feed(li, " x", 0), 1);
	ck_assert_int_eq(feed(li, " y", 0), 1);
	logintel_free(li);
}
END_TEST

START_TEST(test_multiline_timeout)
{
	struct logintel_conf	 c;
	struct logintel		*li;

	logintel_conf_init(&c);
	c.lc_ml_enabled = 1;
	c.lc_ml_pattern = "^\\S";
	c.lc_ml_timeout = 2;
	li = mk(&c);
	ck_assert_int_eq(logintel_deadline(li), -1);
	ck_assert_int_eq(feed(li, "first", 10000), 0);
	ck_assert_int_eq(feed(li, "  more", 11000), 0);
	/* the age counts from the first line */
	ck_assert_int_eq(logintel_deadline(li), 12000);
	ck_assert_int_eq(logintel_flush(li, 11999, 0, &out), 0);
	ck_assert_int_eq(logintel_flush(li, 12000, 0, &out), 1);
	ck_assert_str_eq(out.lo_ent[0].ie_msg, "first\n  more");
	ck_assert(out.lo_ent[0].ie_flags & LOGINTEL_F_TIMEOUT);
	ck_assert_int_eq(logintel_deadline(li), -1);
	ck_assert_int_eq(logintel_flush(li, 99999, 1, &out), 0);

	/* without a timer: the next line finds the entry overdue */
	ck_assert_int_eq(feed(li, "second", 20000), 0);
	ck_assert_int_eq(feed(li, "  late", 23000), 1);
	ck_assert_str_eq(out.lo_ent[0].ie_msg, "second");
	ck_assert_int_eq(logintel_flush(li, 23000, 1, &out), 1);
	ck_assert_str_eq(out.lo_ent[0].ie_msg, "  late");
	ck_assert_uint_eq(logintel_stats(li)->ls_timeouts, 2);

	logintel_free(li);

	/* overdue, then full: one entry per call all the same */
	c.lc_ml_max_lines = 2;
	li = mk(&c);
	ck_assert_int_eq(feed(li, "a", 0), 0);
	ck_assert_int_eq(feed(li, " b", 5000), 1);	/* a, by age */
	ck_assert_int_eq(feed(li, " c", 5000), 1);	/* b+c, max */
	ck_assert_str_eq(out.lo_ent[0].ie_msg, " b\n c");
	logintel_free(li);
}
END_TEST

START_TEST(test_filters)
{
	char			*ex[] = { "GET /health", "^\\s*$", NULL };
	char			*in[] = { "app\\.", "^PHP ", NULL };
	struct logintel_conf	 c;
	struct logintel		*li;
	const struct logintel_stats *st;

	logintel_conf_init(&c);
	c.lc_ld_enabled = 1;
	strlist_set(&c.lc_exclude, ex);
	strlist_set(&c.lc_include, in);
	li = mk(&c);
	ck_assert_int_eq(feed(li, "[x] app.INFO: GET /health 200", 0), 0);
	ck_assert_int_eq(feed(li, "[x] app.INFO: GET /users 200", 0), 1);
	ck_assert_int_eq(feed(li, "PHP Warning:  x", 0), 1);
	ck_assert_int_eq(feed(li, "   ", 0), 0);
	ck_assert_int_eq(feed(li, "nginx: GET / 200", 0), 0);
	/* min_level info (the default) drops what is detected as debug */
	ck_assert_int_eq(feed(li, "[x] app.DEBUG: cache hit", 0), 0);
	st = logintel_stats(li);
	ck_assert_uint_eq(st->ls_drop_exclude, 2);
	ck_assert_uint_eq(st->ls_drop_include, 1);
	ck_assert_uint_eq(st->ls_drop_level, 1);
	ck_assert_uint_eq(st->ls_entries, 2);
	ck_assert_uint_eq(st->ls_lines, 6);
	logintel_free(li);

	/* min_level error; filters see the redacted text */
	logintel_conf_init(&c);
	c.lc_ld_enabled = 1;
	c.lc_redact_enabled = 1;
	c.lc_min_level = LOG_LVL_ERROR;
	ex[0] = "hunter2";
	ex[1] = NULL;
	strlist_set(&c.lc_exclude, ex);
	li = mk(&c);
	ck_assert_int_eq(feed(li, "[warn] disk", 0), 0);
	ck_assert_int_eq(feed(li, "[error] login password=hunter2", 0), 1);
	ck_assert_str_eq(out.lo_ent[0].ie_msg,
	    "[error] login password=***REDACTED***");
	ck_assert_int_eq(feed(li, "[error] hunter2 was here", 0), 0);
	logintel_free(li);

	/* min_level debug keeps everything */
	logintel_conf_init(&c);
	c.lc_ld_enabled = 1;
	c.lc_min_level = LOG_LVL_DEBUG;
	li = mk(&c);
	ck_assert_int_eq(feed(li, "[debug] x", 0), 1);
	ck_assert_int_eq(out.lo_ent[0].ie_level, LOG_LVL_DEBUG);
	logintel_free(li);
}
END_TEST

START_TEST(test_json)
{
	struct logintel_conf	 c;
	struct logintel		*li;
	const struct logintel_entry *e;

	logintel_conf_init(&c);
	c.lc_json_enabled = 1;
	c.lc_json_detect_auto = 1;
	c.lc_json_extract_level = 1;
	c.lc_json_extract_message = 1;
	c.lc_json_merge_fields = 1;
	c.lc_min_level = LOG_LVL_DEBUG;
	c.lc_ld_enabled = 1;
	li = mk(&c);

	/* Monolog's JsonFormatter: numeric level and level_name */
	e = one(li, "{\"message\":\"Matched route \\\"home\\\".\",\"context\":"
	    "{\"route\":\"home\",\"id\":7},\"level\":200,\"level_name\":"
	    "\"INFO\",\"channel\":\"request\",\"datetime\":\"2025-11-27T08:"
	    "33:09.123456+00:00\",\"extra\":{}}");
	ck_assert_str_eq(e->ie_msg, "Matched route \"home\".");
	ck_assert_int_eq(e->ie_level, LOG_LVL_INFO);
	ck_assert(e->ie_flags & LOGINTEL_F_JSON);
	ck_assert_uint_eq(e->ie_nfields, 4);
	ck_assert_str_eq(e->ie_fields[0].lf_key, "context");
	ck_assert_str_eq(e->ie_fields[0].lf_value,
	    "{\"route\":\"home\",\"id\":7}");
	ck_assert_int_eq(e->ie_fields[0].lf_json, 1);
	ck_assert_str_eq(e->ie_fields[1].lf_key, "channel");
	ck_assert_str_eq(e->ie_fields[1].lf_value, "request");
	ck_assert_int_eq(e->ie_fields[1].lf_json, 0);
	ck_assert_str_eq(field(e, "extra"), "{}");
	ck_assert_ptr_null(field(e, "level"));
	ck_assert_ptr_null(field(e, "message"));

	e = one(li, "{\"message\":\"Uncaught PHP Exception\",\"level\":500,"
	    "\"level_name\":\"CRITICAL\",\"channel\":\"request\"}");
	ck_assert_int_eq(e->ie_level, LOG_LVL_ERROR);
	ck_assert_uint_eq(e->ie_nfields, 1);

	/* "msg", string levels, numbers, booleans, null */
	e = one(li, "  {\"level\":\"WARNING\",\"msg\":\"slow\",\"ms\":5000,"
	    "\"ok\":false,\"x\":null,\"q\":\"SELECT *\"}  ");
	ck_assert_str_eq(e->ie_msg, "slow");
	ck_assert_int_eq(e->ie_level, LOG_LVL_WARN);
	ck_assert_str_eq(field(e, "ms"), "5000");
	ck_assert_str_eq(field(e, "ok"), "false");
	ck_assert_str_eq(field(e, "x"), "null");
	ck_assert_str_eq(field(e, "q"), "SELECT *");

	/* a level it cannot read: dropped as a key, detection decides */
	e = one(li, "{\"level\":\"verbose\",\"message\":\"hello\"}");
	ck_assert_int_eq(e->ie_level, LOG_LVL_INFO);
	ck_assert_uint_eq(e->ie_nfields, 0);
	e = one(li, "{\"level\":\"verbose\",\"message\":\"ERROR 500\"}");
	ck_assert_int_eq(e->ie_level, LOG_LVL_ERROR);
	/* a level the object states is final: no detection over it */
	e = one(li, "{\"level\":\"info\",\"message\":\"0 ERROR\"}");
	ck_assert_int_eq(e->ie_level, LOG_LVL_INFO);

	/* no level in the object: detection reads the whole entry */
	e = one(li, "{\"message\":\"x\",\"tag\":\"[error]\"}");
	ck_assert_int_eq(e->ie_level, LOG_LVL_ERROR);

	/* no message: the whole entry, fields still merged */
	e = one(li, "{\"event\":\"login\",\"user\":\"bob\"}");
	ck_assert_str_eq(e->ie_msg, "{\"event\":\"login\",\"user\":\"bob\"}");
	ck_assert_str_eq(field(e, "user"), "bob");

	/* not an object, or not only one: plain text */
	e = one(li, "[1,2,3]");
	ck_assert_int_eq(e->ie_flags & LOGINTEL_F_JSON, 0);
	e = one(li, "{\"a\":1} trailing");
	ck_assert_int_eq(e->ie_flags & LOGINTEL_F_JSON, 0);
	ck_assert_uint_eq(e->ie_nfields, 0);
	e = one(li, "{\"a\":1,}");
	ck_assert_int_eq(e->ie_flags & LOGINTEL_F_JSON, 0);
	e = one(li, "{\"a\":'x'}");
	ck_assert_int_eq(e->ie_flags & LOGINTEL_F_JSON, 0);
	logintel_free(li);

	/* extraction off: the keys stay fields, the entry is the message */
	c.lc_json_extract_level = 0;
	c.lc_json_extract_message = 0;
	li = mk(&c);
	e = one(li, "{\"level\":\"error\",\"message\":\"m\"}");
	ck_assert_str_eq(e->ie_msg, "{\"level\":\"error\",\"message\":\"m\"}");
	ck_assert_str_eq(field(e, "level"), "error");
	ck_assert_str_eq(field(e, "message"), "m");
	/* the built-in detector still sees "level":"error" */
	ck_assert_int_eq(e->ie_level, LOG_LVL_ERROR);
	logintel_free(li);
}
END_TEST

/* Redaction runs before JSON, and keeps the JSON whole. */
START_TEST(test_json_redacted)
{
	struct logintel_conf	 c;
	struct logintel		*li;
	const struct logintel_entry *e;

	logintel_conf_init(&c);
	c.lc_redact_enabled = 1;
	c.lc_json_enabled = 1;
	c.lc_json_extract_message = 1;
	c.lc_json_merge_fields = 1;
	li = mk(&c);
	e = one(li, "{\"message\":\"login Bearer abcdef0123456789\","
	    "\"password\":\"hunter2\",\"card\":\"4111111111111111\"}");
	ck_assert(e->ie_flags & LOGINTEL_F_JSON);
	ck_assert_str_eq(e->ie_msg, "login Bearer ***REDACTED***");
	ck_assert_str_eq(field(e, "password"), "***REDACTED***");
	ck_assert_str_eq(field(e, "card"), "***REDACTED***");

	/* what escapes hid from the patterns is redacted once decoded */
	e = one(li, "{\"message\":\"db mysql:\\/\\/root:pw@db\\/app\","
	    "\"dsn\":\"pgsql:\\/\\/u:p4ss@h\",\"ctx\":{\"k\":"
	    "\"pass\\u0077ord=hunter2\"}}");
	ck_assert(e->ie_flags & LOGINTEL_F_JSON);
	ck_assert_str_eq(e->ie_msg, "db mysql://root:***REDACTED***@db/app");
	ck_assert_str_eq(field(e, "dsn"), "pgsql://u:***REDACTED***@h");
	ck_assert_str_eq(field(e, "ctx"),
	    "{\"k\":\"password=***REDACTED***\"}");
	logintel_free(li);
}
END_TEST

/*
 * What the reader of log lines' JSON takes itself and what it leaves
 * to json-c come out alike: json-c's answers, whichever read it.
 */
START_TEST(test_json_reader)
{
	struct logintel_conf	 c;
	struct logintel		*li;
	const struct logintel_entry *e;
	char			 line[512], *p;
	int			 i;

	logintel_conf_init(&c);
	c.lc_json_enabled = 1;
	c.lc_json_extract_level = 1;
	c.lc_json_extract_message = 1;
	c.lc_json_merge_fields = 1;
	c.lc_min_level = LOG_LVL_DEBUG;
	li = mk(&c);

	/* a key twice: its first place, its last value */
	e = one(li, "{\"a\":1,\"b\":2,\"a\":\"x\",\"c\":{\"k\":1,\"k\":2}}");
	ck_assert(e->ie_flags & LOGINTEL_F_JSON);
	ck_assert_uint_eq(e->ie_nfields, 3);
	ck_assert_str_eq(e->ie_fields[0].lf_key, "a");
	ck_assert_str_eq(e->ie_fields[0].lf_value, "x");
	ck_assert_int_eq(e->ie_fields[0].lf_json, 0);
	ck_assert_str_eq(field(e, "c"), "{\"k\":2}");

	/* nested values as json-c writes them: no blanks, its escapes */
	e = one(li, "{ \"c\" : { \"x\" : [ 1 , 2 ] , "
	    "\"u\" : \"a\\/b\\u0001\" } ,\"s\":\"a\\/b\" }");
	ck_assert_str_eq(field(e, "c"), "{\"x\":[1,2],\"u\":\"a/b\\u0001\"}");
	ck_assert_str_eq(field(e, "s"), "a/b");

	/* numbers: "-0" is the integer 0, the text of a double is kept */
	e = one(li, "{\"n\":-0,\"m\":[-0,-0.0],\"f\":1.50,\"e\":1E+5,"
	    "\"big\":99999999999999999999,\"t\":true}");
	ck_assert_str_eq(field(e, "n"), "0");
	ck_assert_str_eq(field(e, "m"), "[0,-0.0]");
	ck_assert_str_eq(field(e, "f"), "1.50");
	ck_assert_str_eq(field(e, "e"), "1E+5");
	ck_assert_str_eq(field(e, "big"), "18446744073709551615");
	ck_assert_str_eq(field(e, "t"), "true");

	/* \u escapes, surrogate pairs, a NUL kept in the value */
	e = one(li, "{\"s\":\"\\u00e9\\ud83d\\ude00\",\"z\":\"a\\u0000b\","
	    "\"level\":\"\\u0045RROR\",\"message\":\"m\\u00e9\"}");
	ck_assert_str_eq(field(e, "s"), "\xc3\xa9\xf0\x9f\x98\x80");
	ck_assert_uint_eq(e->ie_fields[1].lf_vlen, 3);
	ck_assert_int_eq(e->ie_level, LOG_LVL_ERROR);
	ck_assert_str_eq(e->ie_msg, "m\xc3\xa9");
	ck_assert_uint_eq(e->ie_nfields, 2);

	/* a level name ends at a NUL, as a C string does */
	e = one(li, "{\"level\":\"warn\\u0000x\",\"message\":\"m\"}");
	ck_assert_int_eq(e->ie_level, LOG_LVL_WARN);

	/* deeper than the reader goes, within json-c's limit */
	p = line;
	p += sprintf(p, "{\"message\":\"deep\",\"d\":");
	for (i = 0; i < 20; i++)
		*p++ = '[';
	*p++ = '1';
	for (i = 0; i < 20; i++)
		*p++ = ']';
	strcpy(p, "}");
	e = one(li, line);
	ck_assert(e->ie_flags & LOGINTEL_F_JSON);
	ck_assert_str_eq(e->ie_msg, "deep");
	ck_assert_str_eq(field(e, "d"),
	    "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]");

	/*
	 * A bad escape after a high surrogate leaves nothing for the next
	 * line: as json-c has it, either reader, and without U+FFFD.
	 */
	e = one(li, "{\"a\":\"\\ud800\\u12}");
	ck_assert_int_eq(e->ie_flags & LOGINTEL_F_JSON, 0);
	e = one(li, "{\"\\u00e9\":1}");
	ck_assert_str_eq(e->ie_fields[0].lf_key, "\xc3\xa9");
	e = one(li, "{\"a\":\"\\ud800\\u}");
	e = one(li, "{\"k\":\"\\u00e9\",\"k\":\"\\u00e9\"}");
	ck_assert_str_eq(field(e, "k"), "\xc3\xa9");

	/* not JSON, whichever reader says so */
	e = one(li, "{\"a\":1 \"b\":2}");
	ck_assert_int_eq(e->ie_flags & LOGINTEL_F_JSON, 0);
	e = one(li, "{\"a\":\"unterminated}");
	ck_assert_int_eq(e->ie_flags & LOGINTEL_F_JSON, 0);
	e = one(li, "{\"a\":tru}");
	ck_assert_int_eq(e->ie_flags & LOGINTEL_F_JSON, 0);
	logintel_free(li);
}
END_TEST

START_TEST(test_json_bounds)
{
	struct logintel_conf	 c;
	struct logintel		*li;
	const struct logintel_entry *e;
	char			 line[8192], *p;
	int			 i;

	logintel_conf_init(&c);
	c.lc_json_enabled = 1;
	c.lc_json_merge_fields = 1;
	li = mk(&c);
	p = line;
	*p++ = '{';
	for (i = 0; i < 40; i++)
		p += sprintf(p, "%s\"k%02d\":%d", i ? "," : "", i, i);
	p += sprintf(p, ",\"long\":\"");
	memset(p, 'v', 2000);
	p += 2000;
	strcpy(p, "\"}");
	e = one(li, line);
	ck_assert_uint_eq(e->ie_nfields, LOGINTEL_FIELDS_MAX);
	ck_assert_str_eq(e->ie_fields[31].lf_key, "k31");
	ck_assert(e->ie_flags & LOGINTEL_F_FIELDS_CUT);
	ck_assert_uint_eq(logintel_stats(li)->ls_fields_cut, 9);
	logintel_free(li);

	/* a long value is cut and marked */
	strcpy(line, "{\"v\":\"");
	p = line + strlen(line);
	memset(p, 'x', 3000);
	strcpy(p + 3000, "\"}");
	li = mk(&c);
	e = one(li, line);
	ck_assert_uint_eq(e->ie_nfields, 1);
	ck_assert_uint_eq(e->ie_fields[0].lf_vlen, LOGINTEL_VALUE_MAX);
	ck_assert_uint_eq(strlen(e->ie_fields[0].lf_value), LOGINTEL_VALUE_MAX);
	ck_assert(strstr(e->ie_fields[0].lf_value, LOGINTEL_CUT_MARK) != NULL);
	logintel_free(li);
}
END_TEST

static int64_t
ms_since(const struct timespec *t0)
{
	struct timespec	t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((int64_t)(t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

/* (a+)+$ against a's and a b: exponential without the limit. */
START_TEST(test_hostile)
{
	struct logintel_redact	 r = { "evil", "(a+)+$", "X" };
	char			*ex[] = { "(a+)+$", NULL };
	struct logintel_conf	 c;
	struct logintel		*li;
	struct timespec		 t0;
	char			 line[128];
	const struct logintel_entry *e;

	memset(line, 'a', 60);
	strcpy(line + 60, "b");

	logintel_conf_init(&c);
	strlist_set(&c.lc_exclude, ex);
	c.lc_ld_enabled = 1;
	c.lc_ld_patterns[LOG_LVL_ERROR] = "(a+)+$";
	li = mk(&c);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	e = one(li, line);		/* given up = no match: kept */
	ck_assert_msg(ms_since(&t0) < 2000, "took %lld ms",
	    (long long)ms_since(&t0));
	ck_assert_int_eq(e->ie_level, LOG_LVL_INFO);
	ck_assert(e->ie_flags & LOGINTEL_F_LIMIT);
	ck_assert_uint_ge(logintel_stats(li)->ls_limit, 2);
	logintel_free(li);

	/* in redaction, a run given up fails closed */
	logintel_conf_init(&c);
	c.lc_redact_enabled = 1;
	c.lc_redact = &r;
	c.lc_nredact = 1;
	li = mk(&c);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	e = one(li, line);
	ck_assert_msg(ms_since(&t0) < 2000, "took %lld ms",
	    (long long)ms_since(&t0));
	ck_assert_str_eq(e->ie_msg, "***");
	ck_assert(e->ie_flags & LOGINTEL_F_REDACTED);
	/* the same pattern still works where it is cheap */
	ck_assert_str_eq(one(li, "baaa")->ie_msg, "bX");
	logintel_free(li);
}
END_TEST

START_TEST(test_bad_pattern)
{
	struct logintel_redact	 r = { "ssn", "(\\d{3}", NULL };
	char			*bad[] = { "ok", "a{2,1}", NULL };
	struct logintel_conf	 c;
	char			 err[512];

	logintel_conf_init(&c);
	c.lc_redact_enabled = 1;
	c.lc_redact = &r;
	c.lc_nredact = 1;
	ck_assert_ptr_null(logintel_new(&c, err, sizeof(err)));
	ck_assert_str_eq(err, "redaction pattern 'ssn': bad pattern "
	    "\"(\\d{3}\": missing closing parenthesis at offset 6");

	logintel_conf_init(&c);
	c.lc_ml_enabled = 1;
	c.lc_ml_pattern = "^[";
	ck_assert_ptr_null(logintel_new(&c, err, sizeof(err)));
	ck_assert_str_eq(err, "multiline: bad pattern \"^[\": missing "
	    "terminating ] for character class at offset 2");

	logintel_conf_init(&c);
	c.lc_ld_enabled = 1;
	c.lc_ld_patterns[LOG_LVL_WARN] = "*warn";
	ck_assert_ptr_null(logintel_new(&c, err, sizeof(err)));
	ck_assert_str_eq(err, "level_detection warn: bad pattern \"*warn\": "
	    "quantifier does not follow a repeatable item at offset 0");

	logintel_conf_init(&c);
	strlist_set(&c.lc_include, bad);
	ck_assert_ptr_null(logintel_new(&c, err, sizeof(err)));
	ck_assert_str_eq(err, "filters.include: bad pattern \"a{2,1}\": "
	    "numbers out of order in {} quantifier at offset 5");

	/* a pattern only compiled when its feature is on */
	logintel_conf_init(&c);
	c.lc_ml_pattern = "(";
	c.lc_ld_patterns[LOG_LVL_WARN] = "(";
	logintel_free(mk(&c));

	logintel_conf_init(&c);
	c.lc_min_level = 7;
	ck_assert_ptr_null(logintel_new(&c, err, sizeof(err)));
}
END_TEST

/* Over-long lines and entries are cut, marked and counted. */
START_TEST(test_cut)
{
	struct logintel_redact	 r = { "x", "x", "ab 0123456789" };
	struct logintel_conf	 c;
	struct logintel		*li;
	const struct logintel_entry *e;
	char			*big;
	size_t			 n = LOGINTEL_ENTRY_MAX + 5000, i;

	ck_assert_ptr_nonnull(big = malloc(n + 1));
	/* "é" is two bytes: the cut must not split one */
	for (i = 0; i + 1 < n; i += 2) {
		big[i] = (char)0xc3;
		big[i + 1] = (char)0xa9;
	}
	big[n] = '\0';
	logintel_conf_init(&c);
	c.lc_redact_enabled = 1;
	li = mk(&c);
	ck_assert_int_eq(logintel_line(li, big, n, 0, &out), 1);
	e = &out.lo_ent[0];
	ck_assert_uint_le(e->ie_len, LOGINTEL_ENTRY_MAX);
	ck_assert(e->ie_flags & LOGINTEL_F_CUT);
	ck_assert_str_eq(e->ie_msg + e->ie_len - strlen(LOGINTEL_CUT_MARK),
	    LOGINTEL_CUT_MARK);
	ck_assert_int_eq((e->ie_len - strlen(LOGINTEL_CUT_MARK)) % 2, 0);
	ck_assert_uint_eq(logintel_stats(li)->ls_cut, 1);
	logintel_free(li);

	/* a multiline entry stops growing at the cap */
	logintel_conf_init(&c);
	c.lc_ml_enabled = 1;
	c.lc_ml_pattern = "^START";
	c.lc_ml_max_lines = 1000;
	li = mk(&c);
	memset(big, ' ', 1000);
	big[1000] = '\0';
	ck_assert_int_eq(feed(li, "START", 0), 0);
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(feed(li, big, 0), 0);
	ck_assert_int_eq(feed(li, "START", 0), 1);
	e = &out.lo_ent[0];
	ck_assert_uint_eq(e->ie_len, LOGINTEL_ENTRY_MAX);
	ck_assert_int_eq(e->ie_lines, 201);
	ck_assert(e->ie_flags & LOGINTEL_F_CUT);
	logintel_free(li);

	/* redaction that grows the text past the cap */
	logintel_conf_init(&c);
	c.lc_redact_enabled = 1;
	c.lc_redact = &r;
	c.lc_nredact = 1;
	li = mk(&c);
	memset(big, 'x', 10000);
	ck_assert_int_eq(logintel_line(li, big, 10000, 0, &out), 1);
	e = &out.lo_ent[0];
	ck_assert(e->ie_flags & LOGINTEL_F_CUT);
	ck_assert_uint_le(e->ie_len, LOGINTEL_ENTRY_MAX);
	ck_assert_uint_gt(e->ie_len, LOGINTEL_ENTRY_MAX - 20);
	/* not in a number: its head might pass for a card */
	ck_assert_str_eq(e->ie_msg + e->ie_len - strlen(LOGINTEL_CUT_MARK) - 2,
	    "ab" LOGINTEL_CUT_MARK);
	logintel_free(li);
	free(big);
}
END_TEST

/* A trailing CR goes; empty lines are entries; NUL bytes survive. */
START_TEST(test_plain)
{
	struct logintel_conf	 c;
	struct logintel		*li;

	logintel_conf_init(&c);
	li = mk(&c);
	ck_assert_str_eq(one(li, "dos line\r")->ie_msg, "dos line");
	ck_assert_uint_eq(one(li, "")->ie_len, 0);
	ck_assert_int_eq(logintel_line(li, "a\0b", 3, 0, &out), 1);
	ck_assert_uint_eq(out.lo_ent[0].ie_len, 3);
	ck_assert_int_eq(memcmp(out.lo_ent[0].ie_msg, "a\0b", 3), 0);
	ck_assert_int_eq(out.lo_ent[0].ie_level, LOG_LVL_INFO);
	ck_assert_int_eq(logintel_flush(li, 0, 1, &out), 0);
	ck_assert_int_eq(logintel_deadline(li), -1);
	logintel_free(li);
}
END_TEST

/*
 * The shortcuts around the user's patterns in filters and level
 * detection (a fixed run found is a match, one class alone such as \S
 * matches on any ASCII byte of it, and a line without what a pattern
 * needs is no match) and the word skipping of the built-in markers,
 * at their bounds.
 */
START_TEST(test_prefilter_bounds)
{
	char			*ex[] = { "GET /health", "(?i)kube", NULL };
	char			*in[] = { "\\S", NULL };
	struct logintel_conf	 c;
	struct logintel		*li;

	logintel_conf_init(&c);
	c.lc_ld_enabled = 1;
	c.lc_min_level = LOG_LVL_DEBUG;
	c.lc_ld_patterns[LOG_LVL_ERROR] = "Uncaught|SQLSTATE";
	c.lc_ld_patterns[LOG_LVL_WARN] = "^slow\\b";
	strlist_set(&c.lc_exclude, ex);
	strlist_set(&c.lc_include, in);
	li = mk(&c);
	ck_assert_int_eq(feed(li, "GET /health", 0), 0);
	ck_assert_int_eq(feed(li, "x GET /health", 0), 0);
	ck_assert_int_eq(feed(li, "GET /healt", 0), 1);
	ck_assert_int_eq(feed(li, "get /health", 0), 1);
	ck_assert_int_eq(feed(li, "KUBE", 0), 0);
	ck_assert_int_eq(feed(li, "\xe2\x84\xaa" "ube", 0), 0);
	/* \S: spaces only, invalid UTF-8 only: no match; one byte will do */
	ck_assert_int_eq(feed(li, " \t ", 0), 0);
	ck_assert_int_eq(feed(li, "\xff\xfe", 0), 0);
	/* (PCRE2 10.42's JIT takes no \S in a line of one "é") */
	if (!logintel_jit)
		ck_assert_int_eq(feed(li, "\xc3\xa9", 0), 1);
	ck_assert_int_eq(feed(li, "   x", 0), 1);
	ck_assert_int_eq(one(li, "SQLSTATE")->ie_level, LOG_LVL_ERROR);
	ck_assert_int_eq(one(li, "at the end: Uncaught")->ie_level,
	    LOG_LVL_ERROR);
	ck_assert_int_eq(one(li, "Uncaugh SQLSTAT")->ie_level, LOG_LVL_INFO);
	ck_assert_int_eq(one(li, "slow query")->ie_level, LOG_LVL_WARN);
	ck_assert_int_eq(one(li, "slowly")->ie_level, LOG_LVL_INFO);
	ck_assert_int_eq(one(li, "a slow one")->ie_level, LOG_LVL_INFO);
	/* built-in markers: a word start, the line's end, not in a word */
	ck_assert_int_eq(one(li, "disk full ERROR")->ie_level,
	    LOG_LVL_ERROR);
	ck_assert_int_eq(one(li, "xERROR here")->ie_level, LOG_LVL_INFO);
	ck_assert_int_eq(one(li, "a_WARNING b")->ie_level, LOG_LVL_INFO);
	ck_assert_int_eq(one(li, "9WARNING b")->ie_level, LOG_LVL_INFO);
	ck_assert_int_eq(one(li, "x.WARNING b")->ie_level, LOG_LVL_WARN);
	ck_assert_int_eq(one(li, "ok level=debug")->ie_level, LOG_LVL_DEBUG);
	ck_assert_int_eq(one(li, "ok [crit]")->ie_level, LOG_LVL_ERROR);
	ck_assert_int_eq(one(li, "x Fatal error")->ie_level, LOG_LVL_ERROR);
	logintel_free(li);
}
END_TEST

static int
suite_run(void)
{
	Suite	*s = suite_create(logintel_jit ? "logintel (JIT)" :
		    "logintel (interpreter)");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 failed;

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_level_builtin, 0,
	    sizeof(level_cases) / sizeof(level_cases[0]));
	tcase_add_test(tc, test_level_custom);
	tcase_add_loop_test(tc, test_redact_builtin, 0,
	    sizeof(redact_cases) / sizeof(redact_cases[0]));
	tcase_add_loop_test(tc, test_redact_custom, 0,
	    sizeof(custom_cases) / sizeof(custom_cases[0]));
	tcase_add_test(tc, test_redact_order);
	tcase_add_test(tc, test_multiline_traces);
	tcase_add_test(tc, test_multiline_max_lines);
	tcase_add_test(tc, test_multiline_timeout);
	tcase_add_test(tc, test_filters);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_json_redacted);
	tcase_add_test(tc, test_json_bounds);
	tcase_add_test(tc, test_json_reader);
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_bad_pattern);
	tcase_add_test(tc, test_cut);
	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_prefilter_bounds);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed);
}

/* As the sandboxed daemon runs it (no JIT), then with the JIT. */
int
main(void)
{
	int	failed = 0;

	for (logintel_jit = 0; logintel_jit <= 1; logintel_jit++)
		failed += suite_run();
	return (failed == 0 ? 0 : 1);
}
