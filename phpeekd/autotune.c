/*
 * PHP-FPM auto-tuning, as phpeek-pm does it: find the memory and CPUs
 * the container may use, size a pool for a workload profile, and hand
 * the result to php-fpm through PHP_FPM_* environment variables that
 * its pool file expands.
 *
 * Everything here is pure apart from reading a few small files below
 * a root directory ("" in production, a fixture tree in the tests)
 * and, in autotune_export, setenv.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phpeekd.h"

#define CG_DIR		"/sys/fs/cgroup"
#define CG2_PROBE	CG_DIR "/cgroup.controllers"
#define CG2_MEMORY	CG_DIR "/memory.max"
#define CG2_CPU		CG_DIR "/cpu.max"
#define CG1_MEMORY	CG_DIR "/memory/memory.limit_in_bytes"
#define CG1_QUOTA	CG_DIR "/cpu/cpu.cfs_quota_us"
#define CG1_PERIOD	CG_DIR "/cpu/cpu.cfs_period_us"
#define MEMINFO		"/proc/meminfo"

#define CG1_UNLIMITED	(UINT64_C(1) << 50)	/* v1's "none" is above */
#define SMALL_FILE	128	/* a cgroup file holds one short line */
#define MEMINFO_MAX	8192	/* MemTotal is the first line anyway */
#define AVAILABLE_MAX	(INT64_C(1) << 62)

#define READ_ABSENT	0
#define READ_WHOLE	1
#define READ_PARTIAL	2	/* the buffer filled before end of file */

static const struct autotune_profile profiles[] = {
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

static int	 seterr(char *, size_t, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));
static void	 warn_add(struct autotune_result *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));

static int
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

int
autotune_profile(const char *name, const struct autotune_profile **pp,
    char *err, size_t errlen)
{
	size_t	i;

	for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		if (strcmp(name, profiles[i].ap_name) == 0) {
			*pp = &profiles[i];
			return (0);
		}
	}
	return (seterr(err, errlen, "invalid profile: %s (valid: dev, light, "
	    "medium, heavy, bursty)", name));
}

/*
 * Resource detection.
 */

static int
mkpath(char *buf, size_t len, const char *root, const char *rel,
    char *err, size_t errlen)
{
	int	n;

	n = snprintf(buf, len, "%s%s", root, rel);
	if (n < 0 || (size_t)n >= len)
		return (seterr(err, errlen, "%s%s: path too long", root, rel));
	return (0);
}

/* Whether a file is there; like phpeek-pm, any stat failure is "no". */
static int
present(const char *path)
{
	struct stat	st;

	return (stat(path, &st) == 0);
}

/*
 * Reads path into buf, terminated.  Files under /proc and /sys report
 * a size of 0 and may arrive in pieces, so this reads until end of
 * file or a full buffer, and then tries one byte more to tell the two
 * apart.  A missing file is READ_ABSENT, not an error: the root cgroup
 * of a host has no memory.max, for one.
 */
static int
read_file(const char *path, char *buf, size_t len, size_t *outlen,
    char *err, size_t errlen)
{
	ssize_t	n;
	size_t	off = 0;
	char	extra;
	int	fd, ret = READ_WHOLE;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return (READ_ABSENT);
		return (seterr(err, errlen, "%s: %s", path, strerror(errno)));
	}
	for (;;) {
		if (off < len - 1)
			n = read(fd, buf + off, len - 1 - off);
		else
			n = read(fd, &extra, 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			seterr(err, errlen, "%s: %s", path, strerror(errno));
			(void)close(fd);
			return (-1);
		}
		if (n == 0)
			break;
		if (off == len - 1) {
			ret = READ_PARTIAL;
			break;
		}
		off += (size_t)n;
	}
	(void)close(fd);
	buf[off] = '\0';
	*outlen = off;
	return (ret);
}

/*
 * A small cgroup file, surrounding white space removed.  NUL bytes
 * would hide the rest of the file from the parsers, so they make it
 * garbage as much as an overlong line does.
 */
static int
read_small(const char *path, char *buf, size_t len, char *err,
    size_t errlen)
{
	size_t	 n, start;
	int	 r;

	if ((r = read_file(path, buf, len, &n, err, errlen)) != READ_WHOLE) {
		if (r == READ_PARTIAL)
			return (seterr(err, errlen, "%s: too long for a "
			    "cgroup value", path));
		return (r);
	}
	if (memchr(buf, '\0', n) != NULL)
		return (seterr(err, errlen, "%s: contains a NUL byte", path));
	while (n > 0 && strchr(" \t\r\n", buf[n - 1]) != NULL)
		buf[--n] = '\0';
	for (start = 0; start < n && strchr(" \t\r\n", buf[start]) != NULL;
	    start++)
		;
	memmove(buf, buf + start, n - start + 1);
	return (READ_WHOLE);
}

/*
 * A decimal the kernel wrote: digits only.  Returns NULL or why not,
 * so the caller can name the file.
 */
static const char *
parse_u64(const char *s, uint64_t *out)
{
	uint64_t	v = 0;
	unsigned int	d;

	if (*s == '-')
		return ("negative value");
	if (*s == '\0')
		return ("empty value");
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return ("not a number");
		d = (unsigned int)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return ("number out of range");
		v = v * 10 + d;
	}
	*out = v;
	return (NULL);
}

/* The same with a sign, for cfs_quota_us, whose "no quota" is -1. */
static const char *
parse_i64(const char *s, int64_t *out)
{
	const char	*why;
	uint64_t	 v;

	if (*s == '-') {
		if ((why = parse_u64(s + 1, &v)) != NULL)
			return (why);
		if (v > (uint64_t)INT64_MAX + 1)
			return ("number out of range");
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
		return (NULL);
	}
	if ((why = parse_u64(s, &v)) != NULL)
		return (why);
	if (v > INT64_MAX)
		return ("number out of range");
	*out = (int64_t)v;
	return (NULL);
}

/* ceil(quota / period) without the overflow of quota + period - 1. */
static int
quota_cpus(uint64_t quota, uint64_t period)
{
	uint64_t	n;

	n = quota / period + (quota % period != 0);
	return (n > AUTOTUNE_CPUS_MAX ? AUTOTUNE_CPUS_MAX : (int)n);
}

static int
affinity_cpus(void)
{
	cpu_set_t	set;
	long		n;

	/* more CPUs than a cpu_set_t holds: fall back to the online count */
	if (sched_getaffinity(0, sizeof(set), &set) == 0 &&
	    CPU_COUNT(&set) > 0)
		return (CPU_COUNT(&set));
	if ((n = sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		return (1);
	return (n > AUTOTUNE_CPUS_MAX ? AUTOTUNE_CPUS_MAX : (int)n);
}

/* memory.max: bytes, or "max" for no limit. */
static int
cg2_memory(const char *root, uint64_t *bytes, char *err, size_t errlen)
{
	char		 path[PATH_MAX], buf[SMALL_FILE];
	const char	*why;
	int		 r;

	*bytes = 0;
	if (mkpath(path, sizeof(path), root, CG2_MEMORY, err, errlen) == -1)
		return (-1);
	if ((r = read_small(path, buf, sizeof(buf), err, errlen)) != READ_WHOLE)
		return (r);
	if (strcmp(buf, "max") == 0)
		return (0);
	if ((why = parse_u64(buf, bytes)) != NULL)
		return (seterr(err, errlen, "%s: %s", path, why));
	return (0);
}

/* cpu.max: "<quota> <period>" in microseconds, quota "max" for none. */
static int
cg2_cpu(const char *root, struct autotune_resources *ar, char *err,
    size_t errlen)
{
	char		 path[PATH_MAX], buf[SMALL_FILE];
	char		*quota, *period, *rest;
	const char	*why;
	uint64_t	 q = 0, p;
	int		 r;

	if (mkpath(path, sizeof(path), root, CG2_CPU, err, errlen) == -1)
		return (-1);
	if ((r = read_small(path, buf, sizeof(buf), err, errlen)) != READ_WHOLE)
		return (r);
	rest = buf;
	quota = strsep(&rest, " \t");
	while (rest != NULL && (*rest == ' ' || *rest == '\t'))
		rest++;
	period = strsep(&rest, " \t");
	if (*quota == '\0' || period == NULL || *period == '\0' ||
	    rest != NULL)
		return (seterr(err, errlen, "%s: expected \"<quota> "
		    "<period>\"", path));
	if (strcmp(quota, "max") != 0 && (why = parse_u64(quota, &q)) != NULL)
		return (seterr(err, errlen, "%s: quota: %s", path, why));
	if ((why = parse_u64(period, &p)) != NULL)
		return (seterr(err, errlen, "%s: period: %s", path, why));
	if (p == 0)
		return (seterr(err, errlen, "%s: period is 0", path));
	if (q > 0) {
		ar->ar_cpus = quota_cpus(q, p);
		ar->ar_cpu_quota = 1;
	}
	return (0);
}

static int
cg1_memory(const char *root, uint64_t *bytes, char *err, size_t errlen)
{
	char		 path[PATH_MAX], buf[SMALL_FILE];
	const char	*why;
	int		 r;

	*bytes = 0;
	if (mkpath(path, sizeof(path), root, CG1_MEMORY, err, errlen) == -1)
		return (-1);
	if ((r = read_small(path, buf, sizeof(buf), err, errlen)) != READ_WHOLE)
		return (r);
	if ((why = parse_u64(buf, bytes)) != NULL)
		return (seterr(err, errlen, "%s: %s", path, why));
	/* "unlimited" reads as a number near 2^63 */
	if (*bytes >= CG1_UNLIMITED)
		*bytes = 0;
	return (0);
}

/* cfs_quota_us is -1 without a quota; the period only matters with one. */
static int
cg1_cpu(const char *root, struct autotune_resources *ar, char *err,
    size_t errlen)
{
	char		 path[PATH_MAX], buf[SMALL_FILE];
	const char	*why;
	int64_t		 q;
	uint64_t	 p;
	int		 r;

	if (mkpath(path, sizeof(path), root, CG1_QUOTA, err, errlen) == -1)
		return (-1);
	if ((r = read_small(path, buf, sizeof(buf), err, errlen)) != READ_WHOLE)
		return (r);
	if ((why = parse_i64(buf, &q)) != NULL)
		return (seterr(err, errlen, "%s: %s", path, why));
	if (q <= 0)
		return (0);

	if (mkpath(path, sizeof(path), root, CG1_PERIOD, err, errlen) == -1)
		return (-1);
	if ((r = read_small(path, buf, sizeof(buf), err, errlen)) != READ_WHOLE)
		return (r);
	if ((why = parse_u64(buf, &p)) != NULL)
		return (seterr(err, errlen, "%s: %s", path, why));
	if (p == 0)
		return (seterr(err, errlen, "%s: period is 0", path));
	ar->ar_cpus = quota_cpus((uint64_t)q, p);
	ar->ar_cpu_quota = 1;
	return (0);
}

/* MemTotal of /proc/meminfo, in MB: floor(kB * 1024 / 2^20). */
static int
host_memory(const char *root, int64_t *mb, char *err, size_t errlen)
{
	char		 path[PATH_MAX], buf[MEMINFO_MAX];
	char		*line, *next, *p, *num;
	const char	*why;
	uint64_t	 kb;
	size_t		 n;
	int		 r;

	if (mkpath(path, sizeof(path), root, MEMINFO, err, errlen) == -1)
		return (-1);
	r = read_file(path, buf, sizeof(buf), &n, err, errlen);
	if (r == -1)
		return (-1);
	if (r == READ_ABSENT)
		return (seterr(err, errlen, "%s: %s", path, strerror(ENOENT)));
	/* a line cut by the end of the buffer is not trusted */
	if (r == READ_PARTIAL && (p = strrchr(buf, '\n')) != NULL)
		p[1] = '\0';
	for (line = buf; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strncmp(line, "MemTotal:", 9) != 0)
			continue;
		p = line + 9;
		p += strspn(p, " \t");
		num = p;
		p += strcspn(p, " \t");
		if (*p != '\0')
			*p++ = '\0';
		p += strspn(p, " \t");
		if (*p != '\0' && strcmp(p, "kB") != 0)
			return (seterr(err, errlen, "%s: MemTotal: unit is "
			    "not kB", path));
		if ((why = parse_u64(num, &kb)) != NULL)
			return (seterr(err, errlen, "%s: MemTotal: %s", path,
			    why));
		*mb = (int64_t)(kb / 1024);
		return (0);
	}
	return (seterr(err, errlen, "%s: no MemTotal line", path));
}

/*
 * cgroup v2, then v1, then the host.  A cgroup version counts only if
 * it has a memory limit; a CPU quota found on the way is kept either
 * way.  Values the kernel would never write are errors that name the
 * file, so a broken mount does not size a pool silently.
 */
int
autotune_detect(const char *root, struct autotune_resources *ar,
    char *err, size_t errlen)
{
	char		path[PATH_MAX];
	uint64_t	bytes;

	if (root == NULL)
		root = "";
	memset(ar, 0, sizeof(*ar));
	ar->ar_cpus = affinity_cpus();

	if (mkpath(path, sizeof(path), root, CG2_PROBE, err, errlen) == -1)
		return (-1);
	if (present(path)) {
		if (cg2_memory(root, &bytes, err, errlen) == -1 ||
		    cg2_cpu(root, ar, err, errlen) == -1)
			return (-1);
		if (bytes > 0) {
			ar->ar_memory_mb = (int64_t)(bytes / 1048576);
			ar->ar_containerised = 1;
			ar->ar_cgroup = 2;
			return (0);
		}
	}

	if (mkpath(path, sizeof(path), root, CG1_MEMORY, err, errlen) == -1)
		return (-1);
	if (present(path)) {
		if (cg1_memory(root, &bytes, err, errlen) == -1 ||
		    cg1_cpu(root, ar, err, errlen) == -1)
			return (-1);
		if (bytes > 0) {
			ar->ar_memory_mb = (int64_t)(bytes / 1048576);
			ar->ar_containerised = 1;
			ar->ar_cgroup = 1;
			return (0);
		}
	}

	return (host_memory(root, &ar->ar_memory_mb, err, errlen));
}

/*
 * The calculation.
 */

static void
warn_add(struct autotune_result *res, const char *fmt, ...)
{
	va_list	ap;

	/* AUTOTUNE_WARN_MAX is every warning there is; this is a fuse */
	if (res->at_nwarnings >= AUTOTUNE_WARN_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(res->at_warnings[res->at_nwarnings++], AUTOTUNE_WARN_LEN,
	    fmt, ap);
	va_end(ap);
}

/* ceil(n x ratio) as Go's int(math.Ceil(float64(n) * ratio)). */
static int
ceil_part(int n, double ratio)
{
	double	x = (double)n * ratio;
	int	i;

	if (isnan(x))
		return (0);
	if (x >= (double)INT_MAX)
		return (INT_MAX);
	if (x <= (double)INT_MIN)
		return (INT_MIN);
	i = (int)x;			/* truncates towards zero */
	return ((double)i < x ? i + 1 : i);
}

static void
compute_spares(const struct autotune_profile *p, struct autotune_result *res)
{
	int	mc = res->at_max_children;

	if (p->ap_pm != AUTOTUNE_PM_DYNAMIC) {
		res->at_start_servers = mc;
		return;
	}
	res->at_start_servers = ceil_part(mc, p->ap_start_ratio);
	res->at_min_spare = ceil_part(mc, p->ap_min_spare_ratio);
	res->at_max_spare = ceil_part(mc, p->ap_max_spare_ratio);
	if (res->at_min_spare < 1)
		res->at_min_spare = 1;
	if (res->at_start_servers < res->at_min_spare)
		res->at_start_servers = res->at_min_spare;
	if (res->at_max_spare < res->at_start_servers)
		res->at_max_spare = res->at_start_servers;
	if (res->at_max_spare > mc)
		res->at_max_spare = mc;
}

static int
validate(const struct autotune_result *res, char *err, size_t errlen)
{
	int64_t	used;

	used = res->at_mem_workers + res->at_mem_opcache + res->at_mem_reserved;
	if (used > res->at_mem_total)
		return (seterr(err, errlen, "configuration validation failed: "
		    "configuration would use %lldMB (workers: %lldMB + "
		    "OPcache: %dMB + reserved: %dMB) but only %lldMB available",
		    (long long)used, (long long)res->at_mem_workers,
		    res->at_mem_opcache, res->at_mem_reserved,
		    (long long)res->at_mem_total));
	if (res->at_pm != AUTOTUNE_PM_DYNAMIC)
		return (0);
	if (res->at_min_spare > res->at_max_children)
		return (seterr(err, errlen, "configuration validation failed: "
		    "min_spare_servers (%d) > max_children (%d)",
		    res->at_min_spare, res->at_max_children));
	if (res->at_max_spare > res->at_max_children)
		return (seterr(err, errlen, "configuration validation failed: "
		    "max_spare_servers (%d) > max_children (%d)",
		    res->at_max_spare, res->at_max_children));
	if (res->at_start_servers > res->at_max_children)
		return (seterr(err, errlen, "configuration validation failed: "
		    "start_servers (%d) > max_children (%d)",
		    res->at_start_servers, res->at_max_children));
	if (res->at_min_spare > res->at_max_spare)
		return (seterr(err, errlen, "configuration validation failed: "
		    "min_spare_servers (%d) > max_spare_servers (%d)",
		    res->at_min_spare, res->at_max_spare));
	return (0);
}

static void
threshold_warnings(struct autotune_result *res)
{
	long long	total = (long long)res->at_mem_total;
	double		pct = res->at_threshold * 100;

	if (res->at_threshold > 1.0) {
		warn_add(res, "Memory threshold %.1f%% is above 100%%: "
		    "OVERSUBSCRIPTION of the %lldMB limit", pct, total);
		warn_add(res, "Workers may be OOM-killed if they all reach "
		    "their average size at once; watch memory closely");
	} else if (res->at_threshold < 0.3)
		warn_add(res, "Memory threshold %.1f%% is very conservative: "
		    "most of the %lldMB stays unused", pct, total);
}

/*
 * Section 7.4 of the reference, step by step: MB are integers, the
 * threshold product truncates, spare counts round up.  A threshold
 * override counts when it is > 0; NaN and anything else mean the
 * profile's own.
 */
int
autotune_compute(const struct autotune_profile *p,
    const struct autotune_resources *ar, double override,
    struct autotune_result *res, char *err, size_t errlen)
{
	int64_t	total = ar->ar_memory_mb, minreq, available, pool;
	int64_t	mc, cap;
	double	x;
	int	cpus = ar->ar_cpus;

	memset(res, 0, sizeof(*res));
	if (p->ap_worker_mb < 1 || p->ap_opcache_mb < 0 ||
	    p->ap_reserved_mb < 0)
		return (seterr(err, errlen, "profile %s: invalid memory sizes",
		    p->ap_name));
	if (cpus > AUTOTUNE_CPUS_MAX)
		cpus = AUTOTUNE_CPUS_MAX;
	res->at_profile = p;
	res->at_pm = p->ap_pm;
	res->at_max_requests = p->ap_max_requests;
	res->at_mem_opcache = p->ap_opcache_mb;
	res->at_mem_reserved = p->ap_reserved_mb;
	res->at_mem_total = total;
	res->at_cpus = cpus;

	/* 1 */
	minreq = (int64_t)p->ap_reserved_mb + p->ap_opcache_mb +
	    p->ap_worker_mb;
	if (total < minreq)
		return (seterr(err, errlen, "insufficient memory: %lldMB "
		    "(minimum %lldMB required: %dMB reserved + %dMB OPcache + "
		    "%dMB per worker)", (long long)total, (long long)minreq,
		    p->ap_reserved_mb, p->ap_opcache_mb, p->ap_worker_mb));

	/* 2 */
	res->at_threshold = p->ap_max_memory;
	if (override > 0) {
		res->at_threshold = override;
		res->at_override = 1;
		threshold_warnings(res);
	}

	/* 3: an infinite or huge threshold saturates instead of wrapping */
	x = (double)total * res->at_threshold;
	available = x < (double)AVAILABLE_MAX ? (int64_t)x : AVAILABLE_MAX;
	pool = available - p->ap_reserved_mb - p->ap_opcache_mb;
	if (pool < p->ap_worker_mb)
		return (seterr(err, errlen, "insufficient memory for workers: "
		    "%lldMB available after reserving %dMB (system: %dMB + "
		    "OPcache: %dMB), need at least %dMB per worker",
		    (long long)pool, p->ap_reserved_mb + p->ap_opcache_mb,
		    p->ap_reserved_mb, p->ap_opcache_mb, p->ap_worker_mb));

	/* 4 */
	mc = pool / p->ap_worker_mb;

	/* 5 */
	cap = (int64_t)cpus * 4;
	if (mc > cap) {
		warn_add(res, "Memory allows %lld workers, but limiting to "
		    "%lld based on %d CPUs (max 4 per core)", (long long)mc,
		    (long long)cap, cpus);
		mc = cap;
	}

	/* 6 */
	if (p->ap_max_workers > 0 && mc > p->ap_max_workers) {
		warn_add(res, "Calculated %lld workers, but profile limits "
		    "to %d", (long long)mc, p->ap_max_workers);
		mc = p->ap_max_workers;
	}

	/* 7: now mc <= max(4 x AUTOTUNE_CPUS_MAX, min workers, 1) */
	if (mc < p->ap_min_workers) {
		mc = p->ap_min_workers;
		warn_add(res, "Increasing to profile minimum: %d workers",
		    p->ap_min_workers);
	}
	if (mc < 1) {
		mc = 1;
		warn_add(res, "Using absolute minimum: 1 worker");
	}
	res->at_max_children = (int)mc;

	/* 8, 9 */
	res->at_mem_workers = mc * p->ap_worker_mb;
	compute_spares(p, res);

	/* 10 */
	if (validate(res, err, errlen) == -1)
		return (-1);

	/* 11 */
	if (!ar->ar_containerised) {
		warn_add(res, "No container memory limit found: sizing for "
		    "the host's %lldMB", (long long)total);
		warn_add(res, "Set container limits (docker run --memory and "
		    "--cpus, Kubernetes resources.limits) so the pool fits "
		    "the container");
	}
	return (0);
}

static const char *
pm_name(int pm)
{
	return (pm == AUTOTUNE_PM_DYNAMIC ? "dynamic" : "static");
}

static int
setenv_int(const char *name, int v)
{
	char	buf[16];

	snprintf(buf, sizeof(buf), "%d", v);
	return (setenv(name, buf, 1));
}

/*
 * Into the daemon's own environment, which every child inherits.  A
 * value set before is overwritten, as phpeek-pm does; the dynamic-only
 * names are left alone for a static pool.
 */
int
autotune_export(const struct autotune_result *res)
{
	if (setenv("PHP_FPM_PM", pm_name(res->at_pm), 1) == -1 ||
	    setenv_int("PHP_FPM_MAX_CHILDREN", res->at_max_children) == -1 ||
	    setenv_int("PHP_FPM_MAX_REQUESTS", res->at_max_requests) == -1)
		return (-1);
	if (res->at_pm != AUTOTUNE_PM_DYNAMIC)
		return (0);
	if (setenv_int("PHP_FPM_START_SERVERS", res->at_start_servers) == -1 ||
	    setenv_int("PHP_FPM_MIN_SPARE", res->at_min_spare) == -1 ||
	    setenv_int("PHP_FPM_MAX_SPARE", res->at_max_spare) == -1)
		return (-1);
	return (0);
}

/* The calculator's log records: one summary, one per warning. */
void
autotune_log(const struct autotune_result *res)
{
	int	i;

	log_info("PHP-FPM auto-tuning calculated profile=%s pm=%s "
	    "max_children=%d start_servers=%d min_spare=%d max_spare=%d "
	    "max_requests=%d memory_workers=%lldMB memory_opcache=%dMB "
	    "(shared) memory_reserved=%dMB memory_total=%lldMB cpus=%d "
	    "avg_memory_per_worker=%dMB warnings=%d",
	    res->at_profile->ap_name, pm_name(res->at_pm),
	    res->at_max_children, res->at_start_servers, res->at_min_spare,
	    res->at_max_spare, res->at_max_requests,
	    (long long)res->at_mem_workers, res->at_mem_opcache,
	    res->at_mem_reserved, (long long)res->at_mem_total, res->at_cpus,
	    res->at_profile->ap_worker_mb, res->at_nwarnings);
	for (i = 0; i < res->at_nwarnings; i++)
		log_warnx("Auto-tuning warning: %s", res->at_warnings[i]);
}

/*
 * The summary on stderr.  via says where the profile came from ("CLI
 * flag", "ENV var"); threshold_via where an override came from ("CLI
 * flag", "ENV variable", "global config"), its line shown only when
 * one was applied.
 */
void
autotune_print(FILE *fp, const char *profile, const char *via,
    const struct autotune_result *res, const char *threshold_via)
{
	int64_t	used;

	used = res->at_mem_workers + res->at_mem_opcache + res->at_mem_reserved;
	fprintf(fp, "PHP-FPM auto-tuned (%s profile via %s):\n", profile, via);
	if (res->at_override)
		fprintf(fp, "   Memory threshold: %.1f%% (via %s)\n",
		    res->at_threshold * 100,
		    threshold_via != NULL ? threshold_via : "override");
	fprintf(fp, "   pm = %s\n", pm_name(res->at_pm));
	fprintf(fp, "   pm.max_children = %d\n", res->at_max_children);
	if (res->at_pm == AUTOTUNE_PM_DYNAMIC) {
		fprintf(fp, "   pm.start_servers = %d\n",
		    res->at_start_servers);
		fprintf(fp, "   pm.min_spare_servers = %d\n",
		    res->at_min_spare);
		fprintf(fp, "   pm.max_spare_servers = %d\n",
		    res->at_max_spare);
	}
	fprintf(fp, "   pm.max_requests = %d\n", res->at_max_requests);
	fprintf(fp, "   Memory: %lldMB allocated / %lldMB total "
	    "(%.1f%% used)\n",
	    (long long)used, (long long)res->at_mem_total,
	    res->at_mem_total > 0 ?
	    (double)used / (double)res->at_mem_total * 100 : 0.0);
	if (res->at_nwarnings > 0)
		fprintf(fp, "   Warnings: %d (see logs for details)\n",
		    res->at_nwarnings);
}
