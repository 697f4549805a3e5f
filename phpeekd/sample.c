/*
 * Resource sampling: every resource_metrics_interval seconds the engine
 * reads each running instance's main process from /proc (CPU, memory,
 * threads, open files) and sends the sample to the api, which keeps the
 * history.  When sampling is off there is no timer at all.
 *
 * CPU is the share of one CPU used since the previous sample, not the
 * lifetime average phpeek-pm reports, so a spike shows when it happens.
 */

#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "phpeekd.h"

static struct event	 sample_timer;
static int		 sample_interval;	/* 0: off */
static long		 sample_hz;
static long		 sample_pagesize;
static uint64_t		 sample_memtotal;	/* bytes */

static void	sample_tick(int, short, void *);
static int	sample_read(struct instance *, struct sample *);
static ssize_t	sample_file(const char *, char *, size_t);
static uint32_t	sample_fds(pid_t);

/* Before the sandbox: constants and MemTotal. */
void
sample_init(void)
{
	char		 buf[4096], *p;

	sample_hz = sysconf(_SC_CLK_TCK);
	sample_pagesize = sysconf(_SC_PAGESIZE);
	if (sample_hz <= 0)
		sample_hz = 100;
	if (sample_pagesize <= 0)
		sample_pagesize = 4096;
	if (sample_file("/proc/meminfo", buf, sizeof(buf)) > 0 &&
	    (p = strstr(buf, "MemTotal:")) != NULL)
		sample_memtotal = strtoull(p + 9, NULL, 10) * 1024;
	evtimer_set(&sample_timer, sample_tick, NULL);
}

void
sample_configure(struct global_conf *gc)
{
	struct timeval	tv;
	int		interval = gc->gc_resource_enabled ?
			    gc->gc_resource_interval : 0;

	if (interval == sample_interval)
		return;
	sample_interval = interval;
	evtimer_del(&sample_timer);
	if (interval == 0)
		return;
	ms_to_tv((int64_t)interval * 1000, &tv);
	evtimer_add(&sample_timer, &tv);
}

static ssize_t
sample_file(const char *path, char *buf, size_t len)
{
	ssize_t	n, total = 0;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	while ((size_t)total < len - 1 &&
	    (n = read(fd, buf + total, len - 1 - (size_t)total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	return (total);
}

static uint32_t
sample_fds(pid_t pid)
{
	struct dirent	*de;
	char		 path[64];
	DIR		*dir;
	uint32_t	 n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return (0);
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return (n);
}

static int
sample_read(struct instance *in, struct sample *sa)
{
	unsigned long long	 utime, stime, vsize;
	long long		 rss, threads;
	char			 buf[1024], path[64], *p;
	uint64_t		 ticks;
	int64_t			 now = now_ms();

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)in->in_pid);
	if (sample_file(path, buf, sizeof(buf)) <= 0)
		return (-1);
	/* the command name may hold spaces and parentheses: skip it */
	if ((p = strrchr(buf, ')')) == NULL)
		return (-1);
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %*d %*d %*d %*d %lld %*d %*u %llu %lld",
	    &utime, &stime, &threads, &vsize, &rss) != 5)
		return (-1);
	memset(sa, 0, sizeof(*sa));
	sa->sa_time = (int64_t)time(NULL) * 1000;
	ticks = utime + stime;
	if (in->in_cpu_when > 0 && now > in->in_cpu_when &&
	    ticks >= in->in_cpu_ticks)
		sa->sa_cpu = (double)(ticks - in->in_cpu_ticks) * 1000.0 /
		    (double)sample_hz / (double)(now - in->in_cpu_when) *
		    100.0;
	in->in_cpu_ticks = ticks;
	in->in_cpu_when = now;
	sa->sa_rss = (uint64_t)(rss > 0 ? rss : 0) * (uint64_t)sample_pagesize;
	sa->sa_vms = vsize;
	if (sample_memtotal > 0)
		sa->sa_mem_percent = (double)sa->sa_rss * 100.0 /
		    (double)sample_memtotal;
	sa->sa_threads = threads > 0 ? (uint32_t)threads : 0;
	sa->sa_fds = sample_fds(in->in_pid);
	return (0);
}

static void
sample_tick(int fd, short event, void *arg)
{
	struct eproc	*ep;
	struct instance	*in;
	struct sample	 sa;
	struct timeval	 tv;
	int		 i;

	TAILQ_FOREACH(ep, &engine->en_procs, ep_entry)
		for (i = 0; i < ep->ep_ninst; i++) {
			in = ep->ep_inst[i];
			if (in == NULL || in->in_pid <= 0 ||
			    in->in_state != IST_RUNNING)
				continue;
			if (sample_read(in, &sa) == -1)
				continue;	/* it just exited */
			log_debug("%s: cpu %.1f%% rss %llu vms %llu threads %u "
			    "fds %u", in->in_id, sa.sa_cpu,
			    (unsigned long long)sa.sa_rss,
			    (unsigned long long)sa.sa_vms, sa.sa_threads,
			    sa.sa_fds);
			if (privsep->ps_iev[PROC_API] != NULL)
				sample_send(privsep, ep->ep_conf->pc_name,
				    (uint32_t)in->in_idx, &sa);
		}
	if (sample_interval > 0) {
		ms_to_tv((int64_t)sample_interval * 1000, &tv);
		evtimer_add(&sample_timer, &tv);
	}
}

int
sample_send(struct privsep *ps, const char *proc, uint32_t idx,
    const struct sample *sa)
{
	struct ibuf	*buf;

	if ((buf = proc_create(ps, PROC_API, IMSG_STATE_SAMPLE, 0,
	    CONF_NAME_MAX + sizeof(*sa))) == NULL)
		return (-1);
	if (ibuf_add_str(buf, proc) == -1 || ibuf_add_u32(buf, idx) == -1 ||
	    ibuf_add_i64(buf, sa->sa_time) == -1 ||
	    ibuf_add(buf, &sa->sa_cpu, sizeof(sa->sa_cpu)) == -1 ||
	    ibuf_add_u64(buf, sa->sa_rss) == -1 ||
	    ibuf_add_u64(buf, sa->sa_vms) == -1 ||
	    ibuf_add(buf, &sa->sa_mem_percent,
	    sizeof(sa->sa_mem_percent)) == -1 ||
	    ibuf_add_u32(buf, sa->sa_threads) == -1 ||
	    ibuf_add_u32(buf, sa->sa_fds) == -1) {
		imsg_abort(buf);
		return (-1);
	}
	return (proc_close(ps, PROC_API, buf));
}

int
sample_recv(struct imsg *imsg, char *proc, size_t len, uint32_t *idx,
    struct sample *sa)
{
	struct ibuf	buf;

	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_strbuf(&buf, proc, len) == -1 ||
	    ibuf_get_u32(&buf, idx) == -1 ||
	    ibuf_get_i64(&buf, &sa->sa_time) == -1 ||
	    ibuf_get(&buf, &sa->sa_cpu, sizeof(sa->sa_cpu)) == -1 ||
	    ibuf_get_u64(&buf, &sa->sa_rss) == -1 ||
	    ibuf_get_u64(&buf, &sa->sa_vms) == -1 ||
	    ibuf_get(&buf, &sa->sa_mem_percent,
	    sizeof(sa->sa_mem_percent)) == -1 ||
	    ibuf_get_u32(&buf, &sa->sa_threads) == -1 ||
	    ibuf_get_u32(&buf, &sa->sa_fds) == -1 || ibuf_left(&buf) != 0 ||
	    *idx >= CONF_SCALE_MAX || !(sa->sa_cpu >= 0 && sa->sa_cpu < 1e6) ||
	    !(sa->sa_mem_percent >= 0 && sa->sa_mem_percent <= 100.0)) {
		errno = EBADMSG;
		return (-1);
	}
	return (0);
}
