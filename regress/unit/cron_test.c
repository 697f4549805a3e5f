/*
 * Unit tests of cron expressions: next run times against a table
 * worked out independently (month ends, leap days, the DST changes of
 * Berlin and New York), the container's TZ, expressions that never
 * come due, and a simulated day of runs computed in well under a
 * second without any clock.
 */

#include <sys/types.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phpeekd.h"

struct next_case {
	const char	*expr;
	int64_t		 after;
	int64_t		 next;
};

/* Expected values: Python's zoneinfo, from the local times shown. */
static const struct next_case next_cases[] = {
	/* 2026-11-23 10:00:30 -> 10:01:00 */
	{ "* * * * *", 1795428030, 1795428060 },
	/* 2026-04-15 -> 05-31: April has no 31st */
	{ "0 0 31 * *", 1776211200, 1780185600 },
	/* 2026-03-01 -> 2028-02-29, the next leap day */
	{ "0 0 29 2 *", 1772323200, 1835395200 },
	/* 2026-11-27 (Fri) 10:00 -> Mon 11-30 09:00 */
	{ "0 9 * * mon-fri", 1795773600, 1796029200 },
	/* 2026-11-23 17:50 -> 11-24 09:00 */
	{ "*/15 9-17 * * *", 1795456200, 1795510800 },
	/* exactly on a due minute: the next one, not this one */
	{ "0 0 1 jan,jul *", 1782864000, 1798761600 },
	/* both day fields restricted: either may match (Fri 11-27) */
	{ "0 12 13 * 5", 1795392000, 1795780800 },
	/* a step on the day of month is not a star: 1, 11, 21, 31 */
	{ "0 12 */10 * *", 1772236800, 1772366400 },
	/* spring forward in Berlin, 2026-03-29: 02:30 does not exist */
	{ "CRON_TZ=Europe/Berlin 30 2 * * *", 1774695600, 1774830600 },
	/* fall back, 2026-10-25: 02:30 CEST, then 02:30 CET */
	{ "CRON_TZ=Europe/Berlin 30 2 * * *", 1792836000, 1792888200 },
	{ "CRON_TZ=Europe/Berlin 30 2 * * *", 1792888200, 1792891800 },
	/* New York: a year later at the same wall-clock minute */
	{ "TZ=America/New_York 59 23 31 12 *", 1798779540, 1830315540 },
	/* 03:00 exists on the morning clocks jump from 02:00 */
	{ "TZ=America/New_York 0 3 * * 0", 1772859600, 1772953200 },
	{ "CRON_TZ=UTC 0 0 29 2 *", 1772323200, 1835395200 },
};

static int64_t
next_of(const char *expr, int64_t after)
{
	struct cron	c;
	char		err[128];

	ck_assert_msg(cron_parse(expr, &c, err, sizeof(err)) == 0,
	    "%s: %s", expr, err);
	return (cron_next(&c, after));
}

START_TEST(test_table)
{
	const struct next_case	*nc = &next_cases[_i];

	ck_assert_int_eq(setenv("TZ", "UTC", 1), 0);
	tzset();
	ck_assert_msg(next_of(nc->expr, nc->after) == nc->next,
	    "%s after %lld: got %lld, want %lld", nc->expr,
	    (long long)nc->after, (long long)next_of(nc->expr, nc->after),
	    (long long)nc->next);
	/* the prefix must not leak into the process's zone */
	ck_assert_str_eq(getenv("TZ"), "UTC");
}
END_TEST

/* Without a prefix the container's TZ applies. */
START_TEST(test_container_tz)
{
	ck_assert_int_eq(setenv("TZ", "Europe/Berlin", 1), 0);
	tzset();
	/* 2026-10-24 12:00 Berlin -> 10-25 02:30 CEST */
	ck_assert_int_eq(next_of("30 2 * * *", 1792836000), 1792888200);
	ck_assert_int_eq(setenv("TZ", "UTC", 1), 0);
	tzset();
	/* the same expression in UTC: 2026-10-25 02:30 UTC */
	ck_assert_int_eq(next_of("30 2 * * *", 1792836000), 1792895400);
}
END_TEST

START_TEST(test_never)
{
	ck_assert_int_eq(next_of("0 0 30 2 *", 1795428030), 0);
	ck_assert_int_eq(next_of("0 0 31 4,6,9,11 *", 1795428030), 0);
	/* not never: the 29th or a Monday, so Mon 2027-02-01 */
	ck_assert_int_eq(next_of("0 0 29 2 mon", 1795428030), 1801440000);
}
END_TEST

/* A day of schedule, every run checked against the expression. */
START_TEST(test_day)
{
	static const struct {
		const char	*expr;
		int		 runs;
	} days[] = {
		{ "*/5 * * * *", 288 },
		{ "0 */2 * * *", 12 },
		{ "15,45 9-17 * * *", 18 },
		{ "* * * * *", 1440 },
		{ "0 0 * * sun", 0 },		/* 2026-11-23 is a Monday */
		{ "CRON_TZ=Europe/Berlin 0 0 * * *", 1 },
	};
	struct cron	 c;
	struct tm	 tm;
	char		 err[128];
	int64_t		 day = 1795392000, t;	/* 2026-11-23 00:00 UTC */
	time_t		 tt;
	size_t		 i;
	int		 n;

	ck_assert_int_eq(setenv("TZ", "UTC", 1), 0);
	tzset();
	for (i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
		ck_assert(cron_parse(days[i].expr, &c, err, sizeof(err)) == 0);
		n = 0;
		for (t = cron_next(&c, day - 1); t != 0 && t < day + 86400;
		    t = cron_next(&c, t)) {
			ck_assert_int_eq(t % 60, 0);
			tt = (time_t)t;
			if (c.cr_tz[0] == '\0') {
				ck_assert_ptr_nonnull(gmtime_r(&tt, &tm));
				ck_assert(cron_match(&c, &tm));
			}
			n++;
		}
		ck_assert_msg(n == days[i].runs, "%s: %d runs, want %d",
		    days[i].expr, n, days[i].runs);
	}
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("cron");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_table, 0,
	    sizeof(next_cases) / sizeof(next_cases[0]));
	tcase_add_test(tc, test_container_tz);
	tcase_add_test(tc, test_never);
	tcase_add_test(tc, test_day);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
