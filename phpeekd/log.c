/*
 * Logging for every role.  Records go to stderr with one write(2) each,
 * so lines from different roles never interleave and no stdio state is
 * needed inside the sandbox.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	8192

static int		 log_verbose = LOG_LVL_INFO;
static int		 log_format = LOG_FMT_TEXT;
static const char	*log_role = "parent";

static const char *const log_levels[] = { "ERROR", "WARN", "INFO", "DEBUG" };

/*
 * verbose counts -v flags: 0 is info, 1 or more adds debug.  The
 * configuration may lower or raise the threshold later.
 */
void
log_init(int debug, int verbose)
{
	(void)debug;		/* always stderr: a container has no syslog */
	/* -v shows debug records, -vv also makes roles trap violations */
	log_verbose = LOG_LVL_INFO + (verbose > 2 ? 2 : verbose);
	tzset();		/* reads the zone file before any sandbox */
}

void
log_procinit(const char *role)
{
	if (role != NULL)
		log_role = role;
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return (log_verbose);
}

void
log_setformat(int fmt)
{
	log_format = fmt;
}

int
log_getformat(void)
{
	return (log_format);
}

/* RFC 3339 local time with milliseconds, as phpeek-pm writes it. */
size_t
log_timestamp(char *buf, size_t len)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 date[32], zone[24];
	long		 off;
	int		 n;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	off = tm.tm_gmtoff / 60;
	if (off == 0)
		strlcpy(zone, "Z", sizeof(zone));
	else
		snprintf(zone, sizeof(zone), "%c%02ld:%02ld",
		    off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
	n = snprintf(buf, len, "%s.%03ld%s", date, ts.tv_nsec / 1000000,
	    zone);
	return (n < 0 ? 0 : (size_t)n);
}

/* Escape s for a JSON string body; the result is always terminated. */
size_t
json_escape(char *dst, size_t len, const char *s)
{
	size_t		 o = 0;
	unsigned char	 c;
	char		 esc[8];
	const char	*e;

	if (len == 0)
		return (0);
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		e = NULL;
		switch (c) {
		case '"':
			e = "\\\"";
			break;
		case '\\':
			e = "\\\\";
			break;
		case '\n':
			e = "\\n";
			break;
		case '\r':
			e = "\\r";
			break;
		case '\t':
			e = "\\t";
			break;
		default:
			if (c < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				e = esc;
			}
			break;
		}
		if (e != NULL) {
			if (o + strlen(e) >= len)
				break;
			memcpy(dst + o, e, strlen(e));
			o += strlen(e);
		} else {
			if (o + 1 >= len)
				break;
			dst[o++] = (char)c;
		}
	}
	dst[o] = '\0';
	return (o);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	msg[LOG_LINE_MAX / 2], emsg[LOG_LINE_MAX / 2];
	char	line[LOG_LINE_MAX], ts[48];
	int	n, saved = errno;

	if (pri > log_verbose)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_timestamp(ts, sizeof(ts));
	json_escape(emsg, sizeof(emsg), msg);
	if (log_format == LOG_FMT_JSON)
		n = snprintf(line, sizeof(line), "{\"time\":\"%s\","
		    "\"level\":\"%s\",\"msg\":\"%s\",\"role\":\"%s\"}\n",
		    ts, log_levels[pri], emsg, log_role);
	else
		n = snprintf(line, sizeof(line),
		    "time=%s level=%s role=%s msg=\"%s\"\n",
		    ts, log_levels[pri], log_role, emsg);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	(void)write(STDERR_FILENO, line, (size_t)n);
	errno = saved;
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *emsg, ...)
{
	char	buf[LOG_LINE_MAX / 4];
	va_list	ap;
	int	saved = errno;

	va_start(ap, emsg);
	vsnprintf(buf, sizeof(buf), emsg, ap);
	va_end(ap);
	logit(LOG_LVL_WARN, "%s: %s", buf, strerror(saved));
	errno = saved;
}

void
log_warnx(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vlog(LOG_LVL_WARN, emsg, ap);
	va_end(ap);
}

void
log_info(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vlog(LOG_LVL_INFO, emsg, ap);
	va_end(ap);
}

void
log_debug(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vlog(LOG_LVL_DEBUG, emsg, ap);
	va_end(ap);
}

static void
vfatalc(int code, const char *emsg, va_list ap)
{
	char	buf[LOG_LINE_MAX / 4];

	vsnprintf(buf, sizeof(buf), emsg, ap);
	if (code != 0)
		logit(LOG_LVL_ERROR, "fatal in %s: %s: %s", log_role, buf,
		    strerror(code));
	else
		logit(LOG_LVL_ERROR, "fatal in %s: %s", log_role, buf);
}

void
fatal(const char *emsg, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, emsg);
	vfatalc(saved, emsg, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vfatalc(0, emsg, ap);
	va_end(ap);
	exit(1);
}
