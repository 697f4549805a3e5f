/*
 * libFuzzer target: arbitrary lines, at arbitrary times, through the
 * whole log pipeline with every feature on (the user's redaction
 * patterns, hostile and empty-matching ones among them, multiline
 * with and without a pattern, JSON with every key, level detection,
 * both filters).  Entries stay within their caps and NUL-terminated,
 * every line is counted, one call completes at most one entry, a
 * forced flush leaves nothing pending, and no password or card number
 * the patterns should catch comes out in the clear, whether in the
 * text, in a JSON escape or split over lines.  PCRE2 runs its
 * interpreter, as in the daemon; LOGINTEL_JIT=1 in the environment
 * fuzzes the JIT instead.
 */

#include <sys/types.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phpeekd.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define NCONF	4

static struct logintel	*lis[NCONF];

static struct logintel_redact fuzz_redact[] = {
	{ "ssn", "\\b(\\d{3})-(\\d{2})-(\\d{4})\\b", "XXX-XX-$3" },
	{ "email", "(?i)(?P<user>[a-z0-9._%+-]+)@(?P<dom>[a-z0-9.-]+)",
	    "${user}@*" },
	{ "hostile", "(x+x+)+y", "Z" },
	{ "empty", "Q*", "$0" },
	{ "dollar", "\\$(\\w+)", "$$${1}x$9" },
};

static char *fuzz_exclude[] = { "^DROP", "(a|aa)+$", NULL };
static char *fuzz_include[] = { "(?s).", "^$", NULL };

static void
strlist_set(struct strlist *sl, char **v)
{
	for (sl->sl_n = 0; v[sl->sl_n] != NULL; sl->sl_n++)
		;
	sl->sl_v = v;
}

static struct logintel *
fuzz_new(int i)
{
	struct logintel_conf	 c;
	struct logintel		*li;
	char			 err[512];

	logintel_conf_init(&c);
	c.lc_redact_enabled = 1;
	c.lc_redact = fuzz_redact;
	c.lc_nredact = sizeof(fuzz_redact) / sizeof(fuzz_redact[0]);
	c.lc_ml_enabled = i != 3;
	c.lc_ml_pattern = i == 0 ? "^\\S" : i == 2 ? "^(?:\\[|\\{|PHP )" :
	    NULL;
	c.lc_ml_max_lines = i == 0 ? 5 : i == 2 ? 1 : 0;
	c.lc_ml_timeout = 1;
	c.lc_json_enabled = 1;
	c.lc_json_detect_auto = i & 1;
	c.lc_json_extract_level = 1;
	c.lc_json_extract_message = 1;
	c.lc_json_merge_fields = 1;
	c.lc_ld_enabled = 1;
	c.lc_ld_patterns[LOG_LVL_ERROR] = "(?i)boom";
	c.lc_ld_patterns[LOG_LVL_DEBUG] = "^dbg";
	c.lc_ld_default = i == 1 ? LOG_LVL_WARN : LOG_LVL_INFO;
	c.lc_min_level = i == 3 ? LOG_LVL_INFO : LOG_LVL_DEBUG;
	strlist_set(&c.lc_exclude, fuzz_exclude);
	strlist_set(&c.lc_include, fuzz_include);
	if ((li = logintel_new(&c, err, sizeof(err))) == NULL) {
		fprintf(stderr, "logintel_new: %s\n", err);
		abort();
	}
	return (li);
}

/* Does s hold needle where the patterns would have seen it alone? */
static int
leaked(const char *s, size_t len, const char *needle, int card)
{
	size_t		 n = strlen(needle), i;
	unsigned char	 b, a;

	for (i = 0; i + n <= len; i++) {
		if (memcmp(s + i, needle, n) != 0)
			continue;
		if (!card)
			return (1);
		b = i > 0 ? (unsigned char)s[i - 1] : ' ';
		a = i + n < len ? (unsigned char)s[i + n] : ' ';
		/* the card pattern's own bounds */
		if (isalnum(b) || b == '_' || b == '.' || b == '+' ||
		    b == '-' || isalnum(a) || a == '_' || a == '.' ||
		    a == ',')
			continue;
		return (1);
	}
	return (0);
}

static void
check(const struct logintel_out *out, int n)
{
	const struct logintel_entry	*e;
	const struct logintel_field	*f;
	size_t				 i;

	if (n != out->lo_n || n < 0 || n > LOGINTEL_OUT_MAX)
		abort();
	if (n == 0)
		return;
	e = &out->lo_ent[0];
	if (e->ie_len > LOGINTEL_ENTRY_MAX || e->ie_msg[e->ie_len] != '\0' ||
	    e->ie_level < LOG_LVL_ERROR || e->ie_level > LOG_LVL_DEBUG ||
	    e->ie_lines < 1 || e->ie_nfields > LOGINTEL_FIELDS_MAX)
		abort();
	if (leaked(e->ie_msg, e->ie_len, "password=hunter2", 0) ||
	    leaked(e->ie_msg, e->ie_len, "4111111111111111", 1))
		abort();
	for (i = 0; i < e->ie_nfields; i++) {
		f = &e->ie_fields[i];
		if (f->lf_key == NULL || f->lf_value == NULL ||
		    strlen(f->lf_key) > LOGINTEL_KEY_MAX ||
		    f->lf_vlen > LOGINTEL_VALUE_MAX ||
		    f->lf_value[f->lf_vlen] != '\0')
			abort();
		if (leaked(f->lf_value, f->lf_vlen, "password=hunter2", 0) ||
		    leaked(f->lf_value, f->lf_vlen, "4111111111111111", 1))
			abort();
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*jit = getenv("LOGINTEL_JIT");

	logintel_jit = jit != NULL && strcmp(jit, "1") == 0;
	return (0);
}

/*
 * The first byte picks the configuration, the second how far the
 * clock moves per line; the rest are lines.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct logintel_out	 out;
	struct logintel		*li;
	const char		*p, *nl, *end;
	uint64_t		 before;
	int64_t			 now = 1000000;
	int			 step, lines = 0;

	if (len < 2)
		return (0);
	if (lis[data[0] % NCONF] == NULL)
		lis[data[0] % NCONF] = fuzz_new(data[0] % NCONF);
	li = lis[data[0] % NCONF];
	step = data[1];
	before = logintel_stats(li)->ls_lines;
	p = (const char *)data + 2;
	end = (const char *)data + len;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		check(&out, logintel_line(li, p, (size_t)(nl - p), now, &out));
		lines++;
		now += step * 8;
		check(&out, logintel_flush(li, now, 0, &out));
		if (logintel_deadline(li) != -1 &&
		    logintel_deadline(li) > now + 1000)
			abort();
		p = nl + 1;
	}
	check(&out, logintel_flush(li, now, 1, &out));
	if (logintel_deadline(li) != -1 ||
	    logintel_stats(li)->ls_lines - before != (uint64_t)lines)
		abort();
	return (0);
}
