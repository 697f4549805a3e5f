/*
 * Unit tests of PHP-FPM auto-tuning: resource detection against fixture
 * trees under regress/unit/autotune (cgroup v2, v1, the host, absurd
 * and garbage values), the calculation for every profile with values
 * worked out by hand from the formulas of the reference, the error
 * texts, threshold overrides, the exported environment and the
 * printed summary.  Run from the top of the tree, as `make unit` does.
 */

#include <sys/types.h>

#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phpeekd.h"

#define FIXTURES	"regress/unit/autotune"

static const char *const env_names[] = {
	"PHP_FPM_PM", "PHP_FPM_MAX_CHILDREN", "PHP_FPM_MAX_REQUESTS",
	"PHP_FPM_START_SERVERS", "PHP_FPM_MIN_SPARE", "PHP_FPM_MAX_SPARE"
};

/* What autotune_detect falls back to without a quota. */
static int
host_cpus(void)
{
	cpu_set_t	set;

	ck_assert_int_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	return (CPU_COUNT(&set));
}

static void
detect(const char *dir, struct autotune_resources *ar)
{
	char	root[256], err[512];

	snprintf(root, sizeof(root), FIXTURES "/%s", dir);
	ck_assert_msg(access(root, F_OK) == 0,
	    "%s missing: run from the top of the tree", root);
	ck_assert_msg(autotune_detect(root, ar, err, sizeof(err)) == 0,
	    "%s: %s", dir, err);
}

static const struct autotune_profile *
profile(const char *name)
{
	const struct autotune_profile	*p;
	char				 err[256];

	ck_assert_msg(autotune_profile(name, &p, err, sizeof(err)) == 0,
	    "%s", err);
	return (p);
}

/* Computes name on fixture dir, which must succeed. */
static void
compute(const char *name, const char *dir, double t,
    struct autotune_result *res)
{
	struct autotune_resources	ar;
	char				err[512];

	detect(dir, &ar);
	ck_assert_msg(autotune_compute(profile(name), &ar, t, res, err,
	    sizeof(err)) == 0, "%s on %s: %s", name, dir, err);
}

/* Computes name on hand-made resources, which must fail with want. */
static void
compute_fails(const char *name, int64_t mb, int cpus, double t,
    const char *want)
{
	struct autotune_resources	ar;
	struct autotune_result		res;
	char				err[512];

	memset(&ar, 0, sizeof(ar));
	ar.ar_memory_mb = mb;
	ar.ar_cpus = cpus;
	ar.ar_containerised = 1;
	ck_assert_int_eq(autotune_compute(profile(name), &ar, t, &res, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, want);
}

static void
check_pool(const struct autotune_result *res, int pm, int mc, int start,
    int min, int max, int reqs, int64_t used, int nwarn)
{
	ck_assert_int_eq(res->at_pm, pm);
	ck_assert_int_eq(res->at_max_children, mc);
	ck_assert_int_eq(res->at_start_servers, start);
	ck_assert_int_eq(res->at_min_spare, min);
	ck_assert_int_eq(res->at_max_spare, max);
	ck_assert_int_eq(res->at_max_requests, reqs);
	ck_assert_int_eq(res->at_mem_workers + res->at_mem_opcache +
	    res->at_mem_reserved, used);
	ck_assert_msg(res->at_nwarnings == nwarn, "%d warnings, want %d%s%s",
	    res->at_nwarnings, nwarn, res->at_nwarnings > 0 ? ": " : "",
	    res->at_nwarnings > 0 ? res->at_warnings[0] : "");
}

START_TEST(test_profiles)
{
	static const struct {
		const char	*name;
		int		 pm, worker, opcache, reserved, min, max;
		double		 start, minr, maxr;
		int		 reqs;
		double		 mem;
	} table[] = {
		{ "dev", AUTOTUNE_PM_STATIC, 32, 64, 64, 2, 2,
		    1.0, 0, 0, 100, 0.50 },
		{ "light", AUTOTUNE_PM_DYNAMIC, 36, 96, 128, 2, 0,
		    0.25, 0.25, 0.50, 500, 0.70 },
		{ "medium", AUTOTUNE_PM_DYNAMIC, 42, 128, 192, 4, 0,
		    0.33, 0.25, 0.50, 1000, 0.75 },
		{ "heavy", AUTOTUNE_PM_DYNAMIC, 52, 256, 384, 8, 0,
		    0.50, 0.20, 0.40, 2000, 0.80 },
		{ "bursty", AUTOTUNE_PM_DYNAMIC, 44, 128, 192, 4, 0,
		    0.50, 0.40, 0.70, 1000, 0.75 },
	};
	static const char *const bad[] = { "extreme", "", "Medium", "dev " };
	const struct autotune_profile	*p;
	char				 err[256], want[256];
	size_t				 i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		p = profile(table[i].name);
		ck_assert_str_eq(p->ap_name, table[i].name);
		ck_assert_int_eq(p->ap_pm, table[i].pm);
		ck_assert_int_eq(p->ap_worker_mb, table[i].worker);
		ck_assert_int_eq(p->ap_opcache_mb, table[i].opcache);
		ck_assert_int_eq(p->ap_reserved_mb, table[i].reserved);
		ck_assert_int_eq(p->ap_min_workers, table[i].min);
		ck_assert_int_eq(p->ap_max_workers, table[i].max);
		ck_assert(p->ap_start_ratio == table[i].start);
		ck_assert(p->ap_min_spare_ratio == table[i].minr);
		ck_assert(p->ap_max_spare_ratio == table[i].maxr);
		ck_assert_int_eq(p->ap_max_requests, table[i].reqs);
		ck_assert(p->ap_max_memory == table[i].mem);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = NULL;
		ck_assert_int_eq(autotune_profile(bad[i], &p, err,
		    sizeof(err)), -1);
		ck_assert_ptr_null(p);
		snprintf(want, sizeof(want), "invalid profile: %s (valid: "
		    "dev, light, medium, heavy, bursty)", bad[i]);
		ck_assert_str_eq(err, want);
	}
}
END_TEST

static const struct detect_case {
	const char	*dir;
	int64_t		 mb;
	int		 cpus;		/* -1: the host's */
	int		 quota;
	int		 containerised;
	int		 cgroup;
} detect_cases[] = {
	/* 2147483648 / 2^20 = 2048; ceil(400000 / 100000) = 4 */
	{ "v2-2g-4cpu", 2048, 4, 1, 1, 2 },
	/* memory.max "max": host 4194304 kB / 1024; ceil(1.5) = 2 kept */
	{ "v2-nolimit", 4096, 2, 1, 0, 0 },
	/* 1073741824 / 2^20 = 1024; ceil(250000 / 100000) = 3 */
	{ "v1-1g", 1024, 3, 1, 1, 1 },
	/* 9223372036854771712 >= 2^50 is no limit: host 524288 kB */
	{ "v1-cpuonly", 512, 1, 1, 0, 0 },
	/* quota -1: no quota, 536870912 / 2^20 = 512 */
	{ "v1-noquota", 512, -1, 0, 1, 1 },
	/* 16384000 kB / 1024 = 16000 */
	{ "host", 16000, -1, 0, 0, 0 },
	/* 2^63 / 2^20 = 2^43; ceil(1 / 1000000) = 1 */
	{ "absurd-huge", 8796093022208LL, 1, 1, 1, 2 },
	/* 1048575 bytes is a limit of 0 MB; (2^64-1)/1000 CPUs clamps */
	{ "absurd-tiny", 0, AUTOTUNE_CPUS_MAX, 1, 1, 2 },
	/* memory.max 0 is no limit, quota "max" none: host MemTotal 0 */
	{ "absurd-zero", 0, -1, 0, 0, 0 },
};

START_TEST(test_detect)
{
	const struct detect_case	*dc = &detect_cases[_i];
	struct autotune_resources	 ar;

	memset(&ar, 0xa5, sizeof(ar));
	detect(dc->dir, &ar);
	ck_assert_msg(ar.ar_memory_mb == dc->mb, "%s: %lld MB, want %lld",
	    dc->dir, (long long)ar.ar_memory_mb, (long long)dc->mb);
	ck_assert_int_eq(ar.ar_cpus, dc->cpus == -1 ? host_cpus() : dc->cpus);
	ck_assert_int_eq(ar.ar_cpu_quota, dc->quota);
	ck_assert_int_eq(ar.ar_containerised, dc->containerised);
	ck_assert_int_eq(ar.ar_cgroup, dc->cgroup);
}
END_TEST

static const struct bad_case {
	const char	*dir;
	const char	*msg;		/* after the fixture directory */
} bad_cases[] = {
	{ "bad-v2-memory", "/sys/fs/cgroup/memory.max: not a number" },
	{ "bad-v2-negative", "/sys/fs/cgroup/memory.max: negative value" },
	{ "bad-v2-empty", "/sys/fs/cgroup/memory.max: empty value" },
	{ "bad-v2-long",
	    "/sys/fs/cgroup/memory.max: too long for a cgroup value" },
	{ "bad-v2-cpu",
	    "/sys/fs/cgroup/cpu.max: expected \"<quota> <period>\"" },
	{ "bad-v2-period", "/sys/fs/cgroup/cpu.max: period is 0" },
	{ "bad-v1-overflow",
	    "/sys/fs/cgroup/memory/memory.limit_in_bytes: number out of "
	    "range" },
	{ "bad-v1-quota", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us: not a number" },
	{ "bad-v1-period",
	    "/sys/fs/cgroup/cpu/cpu.cfs_period_us: negative value" },
	{ "bad-meminfo", "/proc/meminfo: MemTotal: not a number" },
	{ "bad-meminfo-none", "/proc/meminfo: no MemTotal line" },
	{ "empty", "/proc/meminfo: No such file or directory" },
};

START_TEST(test_detect_bad)
{
	const struct bad_case		*bc = &bad_cases[_i];
	struct autotune_resources	 ar;
	char				 root[256], err[512], want[512];

	snprintf(root, sizeof(root), FIXTURES "/%s", bc->dir);
	ck_assert_msg(access(root, F_OK) == 0, "%s missing", root);
	ck_assert_int_eq(autotune_detect(root, &ar, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s%s", root, bc->msg);
	ck_assert_str_eq(err, want);
}
END_TEST

/*
 * The first worked example: medium, 2048 MB, 4 CPUs.
 * available (int)(2048 x 0.75) = 1536; pool 1536 - 192 - 128 = 1216;
 * 1216 / 42 = 28 > 4 x 4 -> 16 (warning); start ceil(16 x 0.33 = 5.28)
 * = 6, min ceil(16 x 0.25) = 4, max ceil(16 x 0.5) = 8;
 * used 16 x 42 + 128 + 192 = 672 + 320 = 992.
 */
START_TEST(test_example_medium)
{
	struct autotune_result	res;

	compute("medium", "v2-2g-4cpu", 0, &res);
	check_pool(&res, AUTOTUNE_PM_DYNAMIC, 16, 6, 4, 8, 1000, 992, 1);
	ck_assert_int_eq(res.at_mem_workers, 672);
	ck_assert_int_eq(res.at_mem_total, 2048);
	ck_assert_int_eq(res.at_cpus, 4);
	ck_assert(res.at_threshold == 0.75);
	ck_assert_int_eq(res.at_override, 0);
	ck_assert_str_eq(res.at_warnings[0], "Memory allows 28 workers, but "
	    "limiting to 16 based on 4 CPUs (max 4 per core)");
}
END_TEST

/*
 * The second: dev, 512 MB, 1 CPU (the host's memory, a v1 quota).
 * available 512 x 0.5 = 256; pool 256 - 64 - 64 = 128; 128 / 32 = 4,
 * not > 1 x 4; profile max 2 -> 2 (warning); static, start = 2;
 * used 2 x 32 + 64 + 64 = 192; not containerised: two more warnings.
 */
START_TEST(test_example_dev)
{
	struct autotune_result	res;

	compute("dev", "v1-cpuonly", 0, &res);
	check_pool(&res, AUTOTUNE_PM_STATIC, 2, 2, 0, 0, 100, 192, 3);
	ck_assert_str_eq(res.at_warnings[0],
	    "Calculated 4 workers, but profile limits to 2");
	ck_assert_str_eq(res.at_warnings[1], "No container memory limit "
	    "found: sizing for the host's 512MB");
	ck_assert(strstr(res.at_warnings[2], "container limits") != NULL);
}
END_TEST

/*
 * light, host 4096 MB, 2 CPUs from a v2 quota:
 * available (int)(4096 x 0.7 = 2867.2) = 2867; pool 2867 - 128 - 96 =
 * 2643; 2643 / 36 = 73 > 2 x 4 -> 8 (warning); start ceil(8 x 0.25) =
 * 2, min ceil(2) = 2, max ceil(8 x 0.5) = 4; used 8 x 36 + 96 + 128 =
 * 288 + 224 = 512; not containerised: 2 warnings, 3 in all.
 */
START_TEST(test_light)
{
	struct autotune_result	res;

	compute("light", "v2-nolimit", 0, &res);
	check_pool(&res, AUTOTUNE_PM_DYNAMIC, 8, 2, 2, 4, 500, 512, 3);
	ck_assert_str_eq(res.at_warnings[0], "Memory allows 73 workers, but "
	    "limiting to 8 based on 2 CPUs (max 4 per core)");
}
END_TEST

/*
 * heavy, 2048 MB, 4 CPUs:
 * available (int)(2048 x 0.8 = 1638.4) = 1638; pool 1638 - 384 - 256 =
 * 998; 998 / 52 = 19 > 16 -> 16 (warning); start ceil(16 x 0.5) = 8,
 * min ceil(16 x 0.2 = 3.2) = 4, max ceil(16 x 0.4 = 6.4) = 7 -> raised
 * to start, 8; used 16 x 52 + 256 + 384 = 832 + 640 = 1472.
 */
START_TEST(test_heavy)
{
	struct autotune_result	res;

	compute("heavy", "v2-2g-4cpu", 0, &res);
	check_pool(&res, AUTOTUNE_PM_DYNAMIC, 16, 8, 4, 8, 2000, 1472, 1);
	ck_assert_str_eq(res.at_warnings[0], "Memory allows 19 workers, but "
	    "limiting to 16 based on 4 CPUs (max 4 per core)");
}
END_TEST

/*
 * heavy, 1024 MB, 3 CPUs:
 * available (int)(1024 x 0.8 = 819.2) = 819; pool 819 - 640 = 179;
 * 179 / 52 = 3 < 8 -> 8; 8 x 52 + 256 + 384 = 416 + 640 = 1056 > 1024.
 */
START_TEST(test_heavy_too_big)
{
	struct autotune_resources	ar;
	struct autotune_result		res;
	char				err[512];

	detect("v1-1g", &ar);
	ck_assert_int_eq(autotune_compute(profile("heavy"), &ar, 0, &res,
	    err, sizeof(err)), -1);
	ck_assert_str_eq(err, "configuration validation failed: "
	    "configuration would use 1056MB (workers: 416MB + OPcache: "
	    "256MB + reserved: 384MB) but only 1024MB available");
}
END_TEST

/*
 * bursty, 1024 MB, 3 CPUs:
 * available 1024 x 0.75 = 768; pool 768 - 192 - 128 = 448; 448 / 44 =
 * 10, not > 12, not < 4; start ceil(10 x 0.5) = 5, min ceil(10 x 0.4)
 * = 4, max ceil(10 x 0.7) = 7; used 10 x 44 + 128 + 192 = 440 + 320 =
 * 760; containerised, nothing to warn about.
 */
START_TEST(test_bursty)
{
	struct autotune_result	res;

	compute("bursty", "v1-1g", 0, &res);
	check_pool(&res, AUTOTUNE_PM_DYNAMIC, 10, 5, 4, 7, 1000, 760, 0);
	ck_assert_int_eq(res.at_cpus, 3);
}
END_TEST

/*
 * medium, 2^43 MB, 1 CPU: available (int)(2^43 x 0.75) = 6597069766656;
 * pool - 320 = 6597069766336; / 42 = 157073089674 > 4 -> 4 (warning);
 * start ceil(4 x 0.33 = 1.32) = 2, min ceil(1) = 1, max ceil(2) = 2;
 * used 4 x 42 + 320 = 488.
 */
START_TEST(test_absurd_huge)
{
	struct autotune_result	res;

	compute("medium", "absurd-huge", 0, &res);
	check_pool(&res, AUTOTUNE_PM_DYNAMIC, 4, 2, 1, 2, 1000, 488, 1);
	ck_assert_str_eq(res.at_warnings[0], "Memory allows 157073089674 "
	    "workers, but limiting to 4 based on 1 CPUs (max 4 per core)");
}
END_TEST

START_TEST(test_insufficient)
{
	struct autotune_resources	ar;
	struct autotune_result		res;
	char				err[512];
	const char			*want = "insufficient memory: 0MB "
	    "(minimum 362MB required: 192MB reserved + 128MB OPcache + "
	    "42MB per worker)";

	/* a v2 limit under 1 MB, and a host that reports none */
	detect("absurd-tiny", &ar);
	ck_assert_int_eq(autotune_compute(profile("medium"), &ar, 0, &res,
	    err, sizeof(err)), -1);
	ck_assert_str_eq(err, want);
	detect("absurd-zero", &ar);
	ck_assert_int_eq(autotune_compute(profile("medium"), &ar, 0, &res,
	    err, sizeof(err)), -1);
	ck_assert_str_eq(err, want);

	/* 64 + 64 + 32 = 160 is the minimum: 159 fails, 160 passes step 1 */
	compute_fails("dev", 159, 1, 0, "insufficient memory: 159MB "
	    "(minimum 160MB required: 64MB reserved + 64MB OPcache + 32MB "
	    "per worker)");
	/* 300 x 0.5 = 150; 150 - 64 - 64 = 22 < 32 */
	compute_fails("dev", 300, 1, 0, "insufficient memory for workers: "
	    "22MB available after reserving 128MB (system: 64MB + OPcache: "
	    "64MB), need at least 32MB per worker");
	/* 400 >= 362, but 400 x 0.75 = 300; 300 - 320 = -20 < 42 */
	compute_fails("medium", 400, 2, 0, "insufficient memory for "
	    "workers: -20MB available after reserving 320MB (system: 192MB "
	    "+ OPcache: 128MB), need at least 42MB per worker");
	/* heavy needs 384 + 256 + 52 = 692 */
	compute_fails("heavy", 691, 8, 0, "insufficient memory: 691MB "
	    "(minimum 692MB required: 384MB reserved + 256MB OPcache + 52MB "
	    "per worker)");
}
END_TEST

/*
 * medium, 2048 MB, 4 CPUs, threshold 1.2: (int)(2457.6) = 2457; pool
 * 2137; 50 -> 16; the pool is the first example's, plus two warnings
 * about oversubscription before the CPU one.
 */
START_TEST(test_threshold_over)
{
	struct autotune_result	res;

	compute("medium", "v2-2g-4cpu", 1.2, &res);
	check_pool(&res, AUTOTUNE_PM_DYNAMIC, 16, 6, 4, 8, 1000, 992, 3);
	ck_assert(res.at_threshold == 1.2);
	ck_assert_int_eq(res.at_override, 1);
	ck_assert_str_eq(res.at_warnings[0], "Memory threshold 120.0% is "
	    "above 100%: OVERSUBSCRIPTION of the 2048MB limit");
	ck_assert(strstr(res.at_warnings[1], "OOM") != NULL);
	ck_assert_str_eq(res.at_warnings[2], "Memory allows 50 workers, but "
	    "limiting to 16 based on 4 CPUs (max 4 per core)");

	/* an infinite threshold saturates: the CPU cap still holds */
	compute("medium", "v2-2g-4cpu", INFINITY, &res);
	check_pool(&res, AUTOTUNE_PM_DYNAMIC, 16, 6, 4, 8, 1000, 992, 3);

	/*
	 * With 16 CPUs nothing stops it: 1.5 x 2048 = 3072; 3072 - 320 =
	 * 2752; 2752 / 42 = 65 -> 64; 64 x 42 + 320 = 2688 + 320 = 3008.
	 */
	compute_fails("medium", 2048, 16, 1.5, "configuration validation "
	    "failed: configuration would use 3008MB (workers: 2688MB + "
	    "OPcache: 128MB + reserved: 192MB) but only 2048MB available");
}
END_TEST

/*
 * medium, 2048 MB, 4 CPUs, threshold 0.25: 512; 512 - 320 = 192;
 * 192 / 42 = 4, the profile minimum; start ceil(1.32) = 2, min ceil(1)
 * = 1, max ceil(2) = 2; used 168 + 320 = 488; one warning.
 */
START_TEST(test_threshold_under)
{
	struct autotune_result	res;

	compute("medium", "v2-2g-4cpu", 0.25, &res);
	check_pool(&res, AUTOTUNE_PM_DYNAMIC, 4, 2, 1, 2, 1000, 488, 1);
	ck_assert_str_eq(res.at_warnings[0], "Memory threshold 25.0% is "
	    "very conservative: most of the 2048MB stays unused");

	/* 0.3 itself and 1.0 itself warn about nothing but the CPUs */
	compute("medium", "v2-2g-4cpu", 0.3, &res);
	ck_assert_int_eq(res.at_nwarnings, 0);
	compute("medium", "v2-2g-4cpu", 1.0, &res);
	ck_assert_int_eq(res.at_nwarnings, 1);
}
END_TEST

/* Only a threshold > 0 overrides: these are the first example. */
START_TEST(test_threshold_ignored)
{
	static const double	 ts[] = { 0, -0.5, -INFINITY };
	struct autotune_result	 res;
	size_t			 i;

	for (i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		compute("medium", "v2-2g-4cpu", ts[i], &res);
		check_pool(&res, AUTOTUNE_PM_DYNAMIC, 16, 6, 4, 8, 1000, 992,
		    1);
		ck_assert_int_eq(res.at_override, 0);
	}
	compute("medium", "v2-2g-4cpu", NAN, &res);
	check_pool(&res, AUTOTUNE_PM_DYNAMIC, 16, 6, 4, 8, 1000, 992, 1);
	ck_assert(res.at_threshold == 0.75);
}
END_TEST

/* Profiles no table has, for the checks the real ones never reach. */
START_TEST(test_custom)
{
	struct autotune_profile		p = {
		"custom", AUTOTUNE_PM_DYNAMIC, 100, 0, 0, 1, 0,
		1.5, 0.25, 0.5, 10, 1.0
	};
	struct autotune_resources	ar;
	struct autotune_result		res;
	char				err[512];

	memset(&ar, 0, sizeof(ar));
	ar.ar_memory_mb = 1000;
	ar.ar_cpus = 1;
	ar.ar_containerised = 1;

	/* 1000 / 100 = 10 -> 4; start ceil(6) = 6 > 4 */
	ck_assert_int_eq(autotune_compute(&p, &ar, 0, &res, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "configuration validation failed: "
	    "start_servers (6) > max_children (4)");

	/* min ceil(4 x 2) = 8 > 4 */
	p.ap_start_ratio = 0.5;
	p.ap_min_spare_ratio = 2.0;
	ck_assert_int_eq(autotune_compute(&p, &ar, 0, &res, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "configuration validation failed: "
	    "min_spare_servers (8) > max_children (4)");

	/* no CPUs and no minimum: capped to 0, then the absolute 1 */
	p.ap_pm = AUTOTUNE_PM_STATIC;
	p.ap_min_workers = 0;
	ar.ar_cpus = 0;
	ck_assert_msg(autotune_compute(&p, &ar, 0, &res, err,
	    sizeof(err)) == 0, "%s", err);
	check_pool(&res, AUTOTUNE_PM_STATIC, 1, 1, 0, 0, 10, 100, 2);
	ck_assert_str_eq(res.at_warnings[0], "Memory allows 10 workers, but "
	    "limiting to 0 based on 0 CPUs (max 4 per core)");
	ck_assert_str_eq(res.at_warnings[1],
	    "Using absolute minimum: 1 worker");

	/* a worker of 0 MB would divide by zero */
	p.ap_worker_mb = 0;
	ck_assert_int_eq(autotune_compute(&p, &ar, 0, &res, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "profile custom: invalid memory sizes");
}
END_TEST

static void
env_clear(void)
{
	size_t	i;

	for (i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
		ck_assert_int_eq(unsetenv(env_names[i]), 0);
}

static void
env_is(const char *name, const char *want)
{
	const char	*v = getenv(name);

	if (want == NULL)
		ck_assert_msg(v == NULL, "%s=%s, want unset", name, v);
	else {
		ck_assert_msg(v != NULL, "%s unset, want %s", name, want);
		ck_assert_str_eq(v, want);
	}
}

START_TEST(test_export)
{
	struct autotune_result	res;

	env_clear();
	compute("medium", "v2-2g-4cpu", 0, &res);
	ck_assert_int_eq(autotune_export(&res), 0);
	env_is("PHP_FPM_PM", "dynamic");
	env_is("PHP_FPM_MAX_CHILDREN", "16");
	env_is("PHP_FPM_MAX_REQUESTS", "1000");
	env_is("PHP_FPM_START_SERVERS", "6");
	env_is("PHP_FPM_MIN_SPARE", "4");
	env_is("PHP_FPM_MAX_SPARE", "8");

	/* values set before are overwritten */
	ck_assert_int_eq(setenv("PHP_FPM_MAX_CHILDREN", "99", 1), 0);
	ck_assert_int_eq(setenv("PHP_FPM_PM", "ondemand", 1), 0);
	ck_assert_int_eq(autotune_export(&res), 0);
	env_is("PHP_FPM_MAX_CHILDREN", "16");
	env_is("PHP_FPM_PM", "dynamic");

	/* static: the dynamic-only names stay absent */
	env_clear();
	compute("dev", "v1-cpuonly", 0, &res);
	ck_assert_int_eq(autotune_export(&res), 0);
	env_is("PHP_FPM_PM", "static");
	env_is("PHP_FPM_MAX_CHILDREN", "2");
	env_is("PHP_FPM_MAX_REQUESTS", "100");
	env_is("PHP_FPM_START_SERVERS", NULL);
	env_is("PHP_FPM_MIN_SPARE", NULL);
	env_is("PHP_FPM_MAX_SPARE", NULL);
	env_clear();
}
END_TEST

static void
print_is(const char *via, const struct autotune_result *res,
    const char *threshold_via, const char *want)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = open_memstream(&buf, &len));
	autotune_print(fp, res->at_profile->ap_name, via, res, threshold_via);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_str_eq(buf, want);
	free(buf);
}

START_TEST(test_print)
{
	struct autotune_result	res;

	compute("medium", "v2-2g-4cpu", 0, &res);
	/* 992 / 2048 = 48.4375 % */
	print_is("CLI flag", &res, NULL,
	    "PHP-FPM auto-tuned (medium profile via CLI flag):\n"
	    "   pm = dynamic\n"
	    "   pm.max_children = 16\n"
	    "   pm.start_servers = 6\n"
	    "   pm.min_spare_servers = 4\n"
	    "   pm.max_spare_servers = 8\n"
	    "   pm.max_requests = 1000\n"
	    "   Memory: 992MB allocated / 2048MB total (48.4% used)\n"
	    "   Warnings: 1 (see logs for details)\n");

	compute("medium", "v2-2g-4cpu", 1.2, &res);
	print_is("ENV var", &res, "ENV variable",
	    "PHP-FPM auto-tuned (medium profile via ENV var):\n"
	    "   Memory threshold: 120.0% (via ENV variable)\n"
	    "   pm = dynamic\n"
	    "   pm.max_children = 16\n"
	    "   pm.start_servers = 6\n"
	    "   pm.min_spare_servers = 4\n"
	    "   pm.max_spare_servers = 8\n"
	    "   pm.max_requests = 1000\n"
	    "   Memory: 992MB allocated / 2048MB total (48.4% used)\n"
	    "   Warnings: 3 (see logs for details)\n");

	/* bursty on 1 GB: 760 / 1024 = 74.21875 %, no warnings line */
	compute("bursty", "v1-1g", 0, &res);
	print_is("ENV var", &res, NULL,
	    "PHP-FPM auto-tuned (bursty profile via ENV var):\n"
	    "   pm = dynamic\n"
	    "   pm.max_children = 10\n"
	    "   pm.start_servers = 5\n"
	    "   pm.min_spare_servers = 4\n"
	    "   pm.max_spare_servers = 7\n"
	    "   pm.max_requests = 1000\n"
	    "   Memory: 760MB allocated / 1024MB total (74.2% used)\n");

	/* static: no spare lines; 192 / 512 = 37.5 % */
	compute("dev", "v1-cpuonly", 0, &res);
	print_is("CLI flag", &res, "global config",
	    "PHP-FPM auto-tuned (dev profile via CLI flag):\n"
	    "   pm = static\n"
	    "   pm.max_children = 2\n"
	    "   pm.max_requests = 100\n"
	    "   Memory: 192MB allocated / 512MB total (37.5% used)\n"
	    "   Warnings: 3 (see logs for details)\n");
}
END_TEST

/* The log records go to stderr: catch them in a file. */
START_TEST(test_log)
{
	struct autotune_result	 res;
	char			 path[] = "/tmp/autotune_test.XXXXXX";
	char			 buf[4096];
	ssize_t			 n;
	int			 fd, saved;

	compute("medium", "v2-2g-4cpu", 0, &res);
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_int_ne(saved = dup(STDERR_FILENO), -1);
	ck_assert_int_ne(dup2(fd, STDERR_FILENO), -1);
	autotune_log(&res);
	ck_assert_int_ne(dup2(saved, STDERR_FILENO), -1);
	ck_assert_int_eq(close(saved), 0);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_msg(strstr(buf, "level=INFO") != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, "msg=\"PHP-FPM auto-tuning calculated "
	    "profile=medium pm=dynamic max_children=16 start_servers=6 "
	    "min_spare=4 max_spare=8 max_requests=1000 memory_workers=672MB "
	    "memory_opcache=128MB (shared) memory_reserved=192MB "
	    "memory_total=2048MB cpus=4 avg_memory_per_worker=42MB "
	    "warnings=1\"") != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, "level=WARN") != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, "msg=\"Auto-tuning warning: Memory allows "
	    "28 workers, but limiting to 16 based on 4 CPUs (max 4 per "
	    "core)\"") != NULL, "%s", buf);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("autotune");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_profiles);
	tcase_add_loop_test(tc, test_detect, 0,
	    sizeof(detect_cases) / sizeof(detect_cases[0]));
	tcase_add_loop_test(tc, test_detect_bad, 0,
	    sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, test_example_medium);
	tcase_add_test(tc, test_example_dev);
	tcase_add_test(tc, test_light);
	tcase_add_test(tc, test_heavy);
	tcase_add_test(tc, test_heavy_too_big);
	tcase_add_test(tc, test_bursty);
	tcase_add_test(tc, test_absurd_huge);
	tcase_add_test(tc, test_insufficient);
	tcase_add_test(tc, test_threshold_over);
	tcase_add_test(tc, test_threshold_under);
	tcase_add_test(tc, test_threshold_ignored);
	tcase_add_test(tc, test_custom);
	tcase_add_test(tc, test_export);
	tcase_add_test(tc, test_print);
	tcase_add_test(tc, test_log);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
