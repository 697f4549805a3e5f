/*
 * Five-field cron expressions as phpeek-pm reads them (robfig/cron v3's
 * standard parser): minute hour day-of-month month day-of-week, with
 * lists, ranges, steps, month and weekday names, and an optional
 * CRON_TZ= or TZ= prefix.  Descriptors such as @daily are refused, as
 * phpeek-pm refuses them.
 */

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phpeekd.h"

static const char *const cron_months[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
	"nov", "dec"
};
static const char *const cron_days[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat"
};

/* Feb 29 on a Monday comes round every 28 years */
#define CRON_HORIZON	((int64_t)29 * 366 * 24 * 3600)	/* seconds ahead */

struct cron_zone {
	int	 cz_utc;
	int	 cz_switched;
	char	*cz_saved;	/* TZ before the switch, or NULL */
};

static void	cron_zone_enter(const struct cron *, struct cron_zone *);
static void	cron_zone_leave(struct cron_zone *);
static time_t	cron_mktime(const struct cron_zone *, struct tm *);

struct cron_field {
	const char		*cf_name;
	int			 cf_min;
	int			 cf_max;
	const char *const	*cf_names;	/* NULL: numbers only */
	int			 cf_nnames;
	int			 cf_base;	/* value of the first name */
};

static const struct cron_field cron_fields[5] = {
	{ "minute", 0, 59, NULL, 0, 0 },
	{ "hour", 0, 23, NULL, 0, 0 },
	{ "day of month", 1, 31, NULL, 0, 0 },
	{ "month", 1, 12, cron_months, 12, 1 },
	{ "day of week", 0, 6, cron_days, 7, 0 },
};

static int
cron_value(const struct cron_field *f, const char *s, size_t len, int *v,
    char *err, size_t errlen)
{
	char		 buf[16];
	const char	*errstr;
	int		 i;

	if (len == 0 || len >= sizeof(buf)) {
		snprintf(err, errlen, "empty or overlong value in %s",
		    f->cf_name);
		return (-1);
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	for (i = 0; i < f->cf_nnames; i++)
		if (strcasecmp(buf, f->cf_names[i]) == 0) {
			*v = f->cf_base + i;
			return (0);
		}
	*v = (int)strtonum(buf, 0, INT_MAX, &errstr);
	if (errstr != NULL) {
		snprintf(err, errlen, "failed to parse int from %s", buf);
		return (-1);
	}
	if (*v < f->cf_min) {
		snprintf(err, errlen, "beginning of range (%d) below minimum "
		    "(%d): %s", *v, f->cf_min, buf);
		return (-1);
	}
	if (*v > f->cf_max) {
		snprintf(err, errlen, "end of range (%d) above maximum (%d): "
		    "%s", *v, f->cf_max, buf);
		return (-1);
	}
	return (0);
}

/* One comma-separated term: *, ?, a, a-b, with an optional /step. */
static int
cron_term(const struct cron_field *f, const char *s, size_t len,
    uint64_t *bits, int *star, char *err, size_t errlen)
{
	const char	*slash, *dash;
	const char	*errstr;
	char		 buf[16];
	int		 lo, hi, step = 1, v;

	slash = memchr(s, '/', len);
	if (slash != NULL) {
		if ((size_t)(s + len - slash - 1) >= sizeof(buf) ||
		    s + len - slash - 1 == 0) {
			snprintf(err, errlen, "bad step in %s", f->cf_name);
			return (-1);
		}
		memcpy(buf, slash + 1, (size_t)(s + len - slash - 1));
		buf[s + len - slash - 1] = '\0';
		step = (int)strtonum(buf, 1, f->cf_max + 1, &errstr);
		if (errstr != NULL) {
			snprintf(err, errlen, "failed to parse step %s in %s",
			    buf, f->cf_name);
			return (-1);
		}
		len = (size_t)(slash - s);
	}
	if (len == 1 && (*s == '*' || *s == '?')) {
		lo = f->cf_min;
		hi = f->cf_max;
		if (step == 1)
			*star = 1;
	} else if ((dash = memchr(s, '-', len)) != NULL) {
		if (cron_value(f, s, (size_t)(dash - s), &lo, err,
		    errlen) == -1 || cron_value(f, dash + 1,
		    (size_t)(s + len - dash - 1), &hi, err, errlen) == -1)
			return (-1);
		if (hi < lo) {
			snprintf(err, errlen, "beginning of range (%d) beyond "
			    "end of range (%d) in %s", lo, hi, f->cf_name);
			return (-1);
		}
	} else {
		if (cron_value(f, s, len, &lo, err, errlen) == -1)
			return (-1);
		/* a/n means a-max/n */
		hi = slash != NULL ? f->cf_max : lo;
	}
	for (v = lo; v <= hi; v += step)
		*bits |= 1ULL << v;
	return (0);
}

int
cron_parse(const char *expr, struct cron *c, char *err, size_t errlen)
{
	const char	*p = expr, *end, *t;
	char		*tzend;
	size_t		 n;
	int		 field = 0, star;

	memset(c, 0, sizeof(*c));
	while (isspace((unsigned char)*p))
		p++;
	if (strncmp(p, "CRON_TZ=", 8) == 0 || strncmp(p, "TZ=", 3) == 0) {
		p = strchr(p, '=') + 1;
		n = strcspn(p, " \t");
		if (n == 0 || n >= sizeof(c->cr_tz)) {
			snprintf(err, errlen, "bad time zone prefix");
			return (-1);
		}
		memcpy(c->cr_tz, p, n);
		c->cr_tz[n] = '\0';
		if ((tzend = strpbrk(c->cr_tz, "\n")) != NULL)
			*tzend = '\0';
		p += n;
	}
	if (*p == '@' || (isspace((unsigned char)*p) &&
	    *(p + strspn(p, " \t")) == '@')) {
		snprintf(err, errlen, "descriptors such as @daily are not "
		    "accepted; write the five fields");
		return (-1);
	}
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (field == 5) {
			snprintf(err, errlen, "expected exactly 5 fields, found "
			    "more: %s", expr);
			return (-1);
		}
		end = p + strcspn(p, " \t");
		star = 0;
		for (t = p; t < end; ) {
			n = strcspn(t, ", \t");
			if (t + n > end)
				n = (size_t)(end - t);
			if (cron_term(&cron_fields[field], t, n,
			    &c->cr_bits[field], &star, err, errlen) == -1)
				return (-1);
			t += n;
			if (t < end && *t == ',')
				t++;
		}
		if (field == 2)
			c->cr_dom_star = star;
		if (field == 4)
			c->cr_dow_star = star;
		field++;
		p = end;
	}
	if (field != 5) {
		snprintf(err, errlen, "expected exactly 5 fields, found %d: %s",
		    field, expr);
		return (-1);
	}
	return (0);
}

/* Whether the broken-down local time matches, to the minute. */
int
cron_match(const struct cron *c, const struct tm *tm)
{
	int	dom, dow;

	if (!(c->cr_bits[0] & (1ULL << tm->tm_min)) ||
	    !(c->cr_bits[1] & (1ULL << tm->tm_hour)) ||
	    !(c->cr_bits[3] & (1ULL << (tm->tm_mon + 1))))
		return (0);
	dom = (c->cr_bits[2] & (1ULL << tm->tm_mday)) != 0;
	dow = (c->cr_bits[4] & (1ULL << tm->tm_wday)) != 0;
	/* classic cron: either day field may match unless one is a star */
	if (c->cr_dom_star || c->cr_dow_star)
		return (dom && dow);
	return (dom || dow);
}

/*
 * CRON_TZ=UTC needs no zone file; another named zone is applied by
 * switching TZ for the computation, which is safe in the one-threaded
 * engine and costs a zone file read only when the zone changes.
 */
static void
cron_zone_enter(const struct cron *c, struct cron_zone *z)
{
	const char	*old;

	memset(z, 0, sizeof(*z));
	if (strcmp(c->cr_tz, "UTC") == 0 || strcmp(c->cr_tz, "Etc/UTC") == 0) {
		z->cz_utc = 1;
		return;
	}
	if (c->cr_tz[0] == '\0' || strcmp(c->cr_tz, "Local") == 0)
		return;
	if ((old = getenv("TZ")) != NULL && (z->cz_saved = strdup(old)) ==
	    NULL)
		return;
	if (setenv("TZ", c->cr_tz, 1) == -1) {
		free(z->cz_saved);
		z->cz_saved = NULL;
		return;
	}
	z->cz_switched = 1;
	tzset();
}

static void
cron_zone_leave(struct cron_zone *z)
{
	if (!z->cz_switched)
		return;
	if (z->cz_saved != NULL)
		(void)setenv("TZ", z->cz_saved, 1);
	else
		(void)unsetenv("TZ");
	free(z->cz_saved);
	tzset();
}

static time_t
cron_mktime(const struct cron_zone *z, struct tm *tm)
{
	tm->tm_isdst = -1;
	return (z->cz_utc ? timegm(tm) : mktime(tm));
}

/*
 * The first whole minute after `after` (unix seconds) that the
 * expression matches, or 0 when none does within 29 years (Feb 30).
 * Months, days and hours that cannot match are skipped whole.  A local
 * time that does not exist (spring forward) is skipped; one that
 * happens twice (fall back) runs twice, as classic cron does.
 */
int64_t
cron_next(const struct cron *c, int64_t after)
{
	struct cron_zone	 z;
	struct tm		 tm;
	time_t			 t, nt;
	int64_t			 found = 0;
	int			 dom, dow;

	if (after < 0)
		after = 0;
	t = (time_t)(after / 60 + 1) * 60;
	cron_zone_enter(c, &z);
	while ((int64_t)t - after < CRON_HORIZON) {
		if ((z.cz_utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)) ==
		    NULL)
			break;
		if (!(c->cr_bits[3] & (1ULL << (tm.tm_mon + 1)))) {
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		} else {
			dom = (c->cr_bits[2] & (1ULL << tm.tm_mday)) != 0;
			dow = (c->cr_bits[4] & (1ULL << tm.tm_wday)) != 0;
			if (c->cr_dom_star || c->cr_dow_star ? !(dom && dow) :
			    !(dom || dow)) {
				tm.tm_mday++;
				tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
			} else if (!(c->cr_bits[1] & (1ULL << tm.tm_hour))) {
				tm.tm_hour++;
				tm.tm_min = tm.tm_sec = 0;
			} else if (!(c->cr_bits[0] & (1ULL << tm.tm_min))) {
				t += 60;
				continue;
			} else {
				found = (int64_t)t;
				break;
			}
		}
		/* always forward, even where a zone's clock goes back */
		if ((nt = cron_mktime(&z, &tm)) == (time_t)-1 || nt <= t)
			nt = t + 60;
		t = nt;
	}
	cron_zone_leave(&z);
	return (found);
}
