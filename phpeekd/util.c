/*
 * Small helpers shared by every role.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "phpeekd.h"

static const struct {
	const char	*name;
	int		 sig;
} signames[] = {
	{ "SIGHUP", SIGHUP },	{ "SIGINT", SIGINT },	{ "SIGQUIT", SIGQUIT },
	{ "SIGILL", SIGILL },	{ "SIGTRAP", SIGTRAP },	{ "SIGABRT", SIGABRT },
	{ "SIGBUS", SIGBUS },	{ "SIGFPE", SIGFPE },	{ "SIGKILL", SIGKILL },
	{ "SIGUSR1", SIGUSR1 },	{ "SIGSEGV", SIGSEGV },	{ "SIGUSR2", SIGUSR2 },
	{ "SIGPIPE", SIGPIPE },	{ "SIGALRM", SIGALRM },	{ "SIGTERM", SIGTERM },
	{ "SIGCHLD", SIGCHLD },	{ "SIGCONT", SIGCONT },	{ "SIGSTOP", SIGSTOP },
	{ "SIGTSTP", SIGTSTP },	{ "SIGTTIN", SIGTTIN },	{ "SIGTTOU", SIGTTOU },
	{ "SIGURG", SIGURG },	{ "SIGXCPU", SIGXCPU },	{ "SIGXFSZ", SIGXFSZ },
	{ "SIGVTALRM", SIGVTALRM }, { "SIGPROF", SIGPROF },
	{ "SIGWINCH", SIGWINCH }, { "SIGIO", SIGIO },	{ "SIGPWR", SIGPWR },
	{ "SIGSYS", SIGSYS },
};

int
strlist_add(struct strlist *sl, const char *s)
{
	char	**v, *d;

	if ((d = strdup(s)) == NULL)
		return (-1);
	if ((v = reallocarray(sl->sl_v, sl->sl_n + 2, sizeof(*v))) == NULL) {
		free(d);
		return (-1);
	}
	v[sl->sl_n++] = d;
	v[sl->sl_n] = NULL;
	sl->sl_v = v;
	return (0);
}

void
strlist_free(struct strlist *sl)
{
	size_t	i;

	for (i = 0; i < sl->sl_n; i++)
		free(sl->sl_v[i]);
	free(sl->sl_v);
	sl->sl_v = NULL;
	sl->sl_n = 0;
}

int
strlist_equal(const struct strlist *a, const struct strlist *b)
{
	size_t	i;

	if (a->sl_n != b->sl_n)
		return (0);
	for (i = 0; i < a->sl_n; i++)
		if (strcmp(a->sl_v[i], b->sl_v[i]) != 0)
			return (0);
	return (1);
}

int
strlist_copy(struct strlist *dst, const struct strlist *src)
{
	size_t	i;

	for (i = 0; i < src->sl_n; i++)
		if (strlist_add(dst, src->sl_v[i]) == -1)
			return (-1);
	return (0);
}

/* Accepts "SIGTERM", "TERM", "sigterm" and a number. */
int
signal_byname(const char *name)
{
	const char	*errstr;
	size_t		 i;
	int		 n;

	if (isdigit((unsigned char)name[0])) {
		n = (int)strtonum(name, 1, NSIG - 1, &errstr);
		return (errstr == NULL ? n : -1);
	}
	for (i = 0; i < sizeof(signames) / sizeof(signames[0]); i++) {
		if (strcasecmp(name, signames[i].name) == 0 ||
		    strcasecmp(name, signames[i].name + 3) == 0)
			return (signames[i].sig);
	}
	return (-1);
}

const char *
signal_name(int sig)
{
	size_t	i;

	for (i = 0; i < sizeof(signames) / sizeof(signames[0]); i++)
		if (signames[i].sig == sig)
			return (signames[i].name);
	return ("SIG?");
}

/*
 * Go's time.ParseDuration, which phpeek-pm's duration keys use: a
 * sequence of decimal numbers with units ns, us, µs, ms, s, m, h, an
 * optional sign, "0" alone.  Negative durations are refused here.
 */
int
parse_duration_ms(const char *s, int64_t *out)
{
	static const struct {
		const char	*unit;
		double		 ms;
	} units[] = {
		{ "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 },
		{ "\xce\xbcs", 1e-3 }, { "ms", 1 }, { "s", 1000 },
		{ "m", 60000 }, { "h", 3600000 }
	};
	double		 total = 0, v;
	char		*end;
	size_t		 i, ulen, best;
	int		 found;

	if (*s == '+')
		s++;
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return (0);
	}
	if (*s == '\0')
		return (-1);
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s) && *s != '.')
			return (-1);
		errno = 0;
		v = strtod(s, &end);
		if (end == s || errno != 0)
			return (-1);
		s = end;
		found = -1;
		best = 0;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			ulen = strlen(units[i].unit);
			if (strncmp(s, units[i].unit, ulen) == 0 &&
			    ulen > best) {
				found = (int)i;
				best = ulen;
			}
		}
		if (found == -1)
			return (-1);
		s += best;
		total += v * units[found].ms;
		if (total > 9.2e15)
			return (-1);
	}
	*out = (int64_t)total;
	return (0);
}

int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
wall_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void
ms_to_tv(int64_t ms, struct timeval *tv)
{
	if (ms < 0)
		ms = 0;
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

const char *
restart_name(int policy)
{
	switch (policy) {
	case RESTART_ALWAYS:
		return ("always");
	case RESTART_ON_FAILURE:
		return ("on-failure");
	default:
		return ("never");
	}
}

void
wait_status_str(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by %s%s",
		    signal_name(WTERMSIG(status)),
		    WCOREDUMP(status) ? " (core dumped)" : "");
	else
		snprintf(buf, len, "wait status 0x%x", status);
}

/*
 * Replace the file whole or not at all: a temporary file beside it,
 * written, synced and renamed over it, with the old file's mode.
 */
int
file_replace(const char *path, const char *text, size_t len,
    char *why, size_t whylen)
{
	struct stat	 st;
	char		 tmp[PATH_MAX];
	ssize_t		 n;
	size_t		 off = 0;
	int		 fd;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    (int)sizeof(tmp)) {
		snprintf(why, whylen, "%s: path too long", path);
		return (-1);
	}
	if ((fd = mkstemp(tmp)) == -1) {
		snprintf(why, whylen, "%s: %s", tmp, strerror(errno));
		return (-1);
	}
	if (fchmod(fd, stat(path, &st) == 0 ? st.st_mode & 07777 : 0644) ==
	    -1)
		goto fail;
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		(void)unlink(tmp);
		return (-1);
	}
	return (0);
 fail:
	snprintf(why, whylen, "%s: %s", tmp, strerror(errno));
	if (fd != -1)
		close(fd);
	(void)unlink(tmp);
	return (-1);
}
