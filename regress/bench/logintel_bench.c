/*
 * Lines through the log pipeline, for regress/bench/logintel.sh: read
 * a file as the engine reads a service's pipe (LOG_LINE_LIMIT at a
 * time), cut it into lines with logframe() and hand every line to
 * logintel_line(), every feature on ("all", "all-jit"), every feature
 * with only the built-in patterns ("builtin": no patterns of the
 * user's, no filters) or none ("none").  "all" and "builtin" run the
 * PCRE2 interpreter as the sandboxed daemon does, "all-jit" the JIT.
 * Prints "lines entries dropped": the timing is the script's.
 *
 *	logintel_bench all|all-jit|builtin|none FILE
 */

#include <sys/types.h>

#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "phpeekd.h"

struct bench {
	struct logintel		*b_li;
	struct logintel_out	 b_out;
	int64_t			 b_now;
	uint64_t		 b_entries;
};

static void
bench_line(void *arg, const char *line, size_t len)
{
	struct bench	*b = arg;

	b->b_entries += (uint64_t)logintel_line(b->b_li, line, len, b->b_now,
	    &b->b_out);
}

static int64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int
main(int argc, char *argv[])
{
	static struct logintel_redact redact[] = {
		{ "ssn", "\\b(\\d{3})-(\\d{2})-(\\d{4})\\b", "XXX-XX-$3" },
		{ "email", "([A-Za-z0-9._%+-]+)@([A-Za-z0-9-]+\\.[A-Za-z.]+)",
		    "***@$2" },
	};
	static char		*exclude[] = { "GET /health", "kube-probe" };
	static char		*include[] = { "\\S" };
	struct logintel_conf	 c;
	const struct logintel_stats *st;
	struct bench		 b;
	char			*buf, ebuf[512];
	size_t			 have = 0;
	ssize_t			 n;
	int			 fd;

	if (argc != 3)
		errx(1, "usage: logintel_bench all|all-jit|builtin|none file");
	logintel_conf_init(&c);
	logintel_jit = strcmp(argv[1], "all-jit") == 0;
	if (strncmp(argv[1], "all", 3) == 0 ||
	    strcmp(argv[1], "builtin") == 0) {
		c.lc_redact_enabled = 1;
		c.lc_redact = redact;
		c.lc_nredact = sizeof(redact) / sizeof(redact[0]);
		c.lc_ml_enabled = 1;		/* built-in trace shapes */
		c.lc_json_enabled = 1;
		c.lc_json_detect_auto = 1;
		c.lc_json_extract_level = 1;
		c.lc_json_extract_message = 1;
		c.lc_json_merge_fields = 1;
		c.lc_ld_enabled = 1;
		c.lc_ld_patterns[LOG_LVL_ERROR] = "Uncaught|SQLSTATE";
		c.lc_exclude.sl_v = exclude;
		c.lc_exclude.sl_n = 2;
		c.lc_include.sl_v = include;
		c.lc_include.sl_n = 1;
		if (strcmp(argv[1], "builtin") == 0) {
			c.lc_nredact = 0;
			c.lc_ld_patterns[LOG_LVL_ERROR] = NULL;
			c.lc_exclude.sl_n = c.lc_include.sl_n = 0;
		}
	} else if (strcmp(argv[1], "none") != 0)
		errx(1, "%s: all, all-jit, builtin or none", argv[1]);
	memset(&b, 0, sizeof(b));
	if ((b.b_li = logintel_new(&c, ebuf, sizeof(ebuf))) == NULL)
		errx(1, "logintel_new: %s", ebuf);
	if ((fd = open(argv[2], O_RDONLY)) == -1)
		err(1, "%s", argv[2]);
	if ((buf = malloc(LOG_LINE_LIMIT)) == NULL)
		err(1, NULL);
	while ((n = read(fd, buf + have, LOG_LINE_LIMIT - have)) > 0) {
		b.b_now = mono_ms();
		have = logframe(buf, have + (size_t)n, LOG_LINE_LIMIT, 0,
		    bench_line, &b);
	}
	if (n == -1)
		err(1, "read");
	have = logframe(buf, have, LOG_LINE_LIMIT, 1, bench_line, &b);
	b.b_entries += (uint64_t)logintel_flush(b.b_li, mono_ms(), 1,
	    &b.b_out);
	st = logintel_stats(b.b_li);
	printf("%llu %llu %llu\n", (unsigned long long)st->ls_lines,
	    (unsigned long long)b.b_entries, (unsigned long long)(
	    st->ls_drop_level + st->ls_drop_exclude + st->ls_drop_include));
	logintel_free(b.b_li);
	free(buf);
	close(fd);
	return (0);
}
