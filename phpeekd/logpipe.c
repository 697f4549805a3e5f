/*
 * Service output: the engine reads each instance's stdout and stderr,
 * cuts the bytes into lines and writes every line as one record, text
 * or JSON with phpeek-pm's field names, to the container's stdout.
 *
 * A partial line waits for the rest; a line longer than LOG_LINE_LIMIT
 * is emitted in pieces of that size, so a service that never writes a
 * newline cannot make the engine grow without bound.
 *
 * Records queue in memory until stdout can take them.  When more than
 * LOGOUT_HIGH bytes wait, the engine stops reading the services'
 * pipes: a service that writes faster than the container's stdout
 * drains blocks in write(2), as it would on a slow terminal, and no
 * line is lost.  Reading resumes below LOGOUT_LOW.  Each pause is
 * counted (logpipe_pauses).
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "phpeekd.h"

#define LOGOUT_HIGH	(1024 * 1024)
#define LOGOUT_LOW	(256 * 1024)
#define LOGOUT_CHUNK	4096		/* PIPE_BUF: never blocks once writable */

static struct evbuffer	*logout;
static struct event	 logout_ev;
static int		 logout_paused;
static int		 logout_direct;	/* a file or tty: write at once */
uint64_t		 logpipe_pauses;
uint64_t		 logpipe_api_drops;	/* api too slow to take them */

#define LOGAPI_HIGH	(1024 * 1024)

static void	logpipe_read(int, short, void *);
static int	logpipe_keep(struct logpipe *, size_t);
static void	logpipe_flush(struct logpipe *, int);
static void	logout_write(int, short, void *);
static void	logout_pause(int);
static void	logout_drain(void);
static void	logpipe_to_api(const char *, const char *, int, const char *,
		    size_t, int);
static void	logpipe_record(const char *, const char *, int, const char *,
		    size_t, int, const struct logintel_field *, size_t);
static void	logpipe_entry(struct logpipe *, const struct logintel_entry *);
static void	logpipe_li_out(struct logpipe *, int);
static void	logpipe_li_timer(int, short, void *);

struct logpipe *
logpipe_open(int fd, int stream, const char *proc, const char *inst,
    const struct proc_conf *pc)
{
	struct logpipe	*lp;
	char		 err[512];
	int		 fl;

	/*
	 * The line buffer comes with the first read: most pipes of a
	 * quiet service never need one.
	 */
	if ((lp = calloc(1, sizeof(*lp))) == NULL) {
		close(fd);
		log_warn("%s", __func__);
		return (NULL);
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		log_warn("%s: O_NONBLOCK", inst);
	lp->lp_fd = fd;
	lp->lp_stream = stream;
	strlcpy(lp->lp_proc, proc, sizeof(lp->lp_proc));
	strlcpy(lp->lp_inst, inst, sizeof(lp->lp_inst));
	/* one pipeline per stream: a multiline entry is one stream's */
	if (pc != NULL && pc->pc_li_on &&
	    (lp->lp_li = logintel_new(&pc->pc_li, err, sizeof(err))) == NULL)
		log_warnx("%s: log pipeline: %s; lines go out as they are",
		    inst, err);
	evtimer_set(&lp->lp_li_ev, logpipe_li_timer, lp);
	event_set(&lp->lp_ev, fd, EV_READ | EV_PERSIST, logpipe_read, lp);
	if (!logout_paused)
		event_add(&lp->lp_ev, NULL);
	TAILQ_INSERT_TAIL(&engine->en_logpipes, lp, lp_entry);
	return (lp);
}

void
logpipe_close(struct logpipe *lp)
{
	logpipe_flush(lp, 1);
	if (lp->lp_li != NULL) {
		logpipe_li_out(lp, 1);
		if (lp->lp_li_armed)
			evtimer_del(&lp->lp_li_ev);
		logintel_free(lp->lp_li);
	}
	event_del(&lp->lp_ev);
	close(lp->lp_fd);
	TAILQ_REMOVE(&engine->en_logpipes, lp, lp_entry);
	free(lp->lp_buf);
	free(lp);
}

void
logpipe_init(void)
{
	struct stat	st;

	if ((logout = evbuffer_new()) == NULL)
		fatal("%s", __func__);
	/*
	 * Only pipes and sockets can be full and can be polled; files,
	 * terminals and /dev/null take every write (epoll refuses them).
	 */
	logout_direct = fstat(STDOUT_FILENO, &st) == -1 ||
	    !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
	event_set(&logout_ev, STDOUT_FILENO, EV_WRITE | EV_PERSIST,
	    logout_write, NULL);
	if (atexit(logout_drain) != 0)
		fatalx("atexit");
}

/* On exit: what is still queued goes out, blocking if it must. */
static void
logout_drain(void)
{
	struct logpipe	*lp;
	size_t		 len;
	ssize_t		 n;

	TAILQ_FOREACH(lp, &engine->en_logpipes, lp_entry)
		logpipe_flush(lp, 1);
	while ((len = evbuffer_get_length(logout)) > 0) {
		n = write(STDOUT_FILENO, evbuffer_pullup(logout, -1), len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		evbuffer_drain(logout, (size_t)n);
	}
}

/* Stop or resume reading every service pipe. */
static void
logout_pause(int pause)
{
	struct logpipe	*lp;

	if (pause == logout_paused)
		return;
	logout_paused = pause;
	if (pause)
		logpipe_pauses++;
	TAILQ_FOREACH(lp, &engine->en_logpipes, lp_entry) {
		if (pause)
			event_del(&lp->lp_ev);
		else
			event_add(&lp->lp_ev, NULL);
	}
}

static void
logout_write(int fd, short event, void *arg)
{
	size_t	len = evbuffer_get_length(logout);
	ssize_t	n;

	if (len > LOGOUT_CHUNK)
		len = LOGOUT_CHUNK;
	n = write(STDOUT_FILENO, evbuffer_pullup(logout, (ssize_t)len), len);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n == -1) {
		/* stdout is gone: nobody can read these lines */
		evbuffer_drain(logout, evbuffer_get_length(logout));
	} else
		evbuffer_drain(logout, (size_t)n);
	if (evbuffer_get_length(logout) == 0)
		event_del(&logout_ev);
	if (evbuffer_get_length(logout) < LOGOUT_LOW)
		logout_pause(0);
}

/* One record per line; the whole record goes out in one write. */
void
logpipe_emit(const char *proc, const char *inst, int stream,
    const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	logpipe_record(proc, inst, stream, line, len, LOG_LVL_INFO, NULL, 0);
}

static void
logpipe_record(const char *proc, const char *inst, int stream,
    const char *line, size_t len, int level,
    const struct logintel_field *fields, size_t nfields)
{
	static char	 out[LOG_LINE_LIMIT * 4 + 512];
	static char	 esc[LOG_LINE_LIMIT * 2 + 8];
	static char	 raw[LOG_LINE_LIMIT + 1];
	char		 ts[48], fesc[LOGINTEL_VALUE_MAX * 2 + 8], lvl[8];
	char		 kesc[LOGINTEL_KEY_MAX * 2 + 8];
	const char	*sname = stream == STREAM_STDERR ? "stderr" : "stdout";
	size_t		 i, j;
	int		 n, json = log_getformat() == LOG_FMT_JSON;

	if (len > LOG_LINE_LIMIT)
		len = LOG_LINE_LIMIT;
	memcpy(raw, line, len);
	raw[len] = '\0';
	log_timestamp(ts, sizeof(ts));
	json_escape(esc, sizeof(esc), raw);
	/* phpeek-pm's level names, upper case as slog writes them */
	for (j = 0; j < sizeof(lvl) - 1 &&
	    logintel_level_name(level)[j] != '\0'; j++)
		lvl[j] = (char)toupper((unsigned char)
		    logintel_level_name(level)[j]);
	lvl[j] = '\0';
	if (json)
		n = snprintf(out, sizeof(out), "{\"time\":\"%s\","
		    "\"level\":\"%s\",\"msg\":\"%s\",\"process\":\"%s\","
		    "\"instance_id\":\"%s\",\"stream\":\"%s\"",
		    ts, lvl, esc, proc, inst, sname);
	else
		n = snprintf(out, sizeof(out), "time=%s level=%s "
		    "process=%s instance_id=%s stream=%s msg=\"%s\"",
		    ts, lvl, proc, inst, sname, esc);
	for (i = 0; i < nfields && n > 0 && (size_t)n < sizeof(out); i++) {
		/* keys come from the service's JSON too: escaped alike */
		json_escape(kesc, sizeof(kesc), fields[i].lf_key);
		json_escape(fesc, sizeof(fesc), fields[i].lf_value);
		n += snprintf(out + n, sizeof(out) - (size_t)n, json ?
		    ",\"%s\":\"%s\"" : " %s=\"%s\"", kesc, fesc);
	}
	if (n > 0 && (size_t)n < sizeof(out) - 2)
		n += snprintf(out + n, sizeof(out) - (size_t)n, json ?
		    "}\n" : "\n");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(out))
		n = sizeof(out) - 1;
	logpipe_to_api(proc, inst, stream, raw, len, level);
	if (logout_direct) {
		while (write(STDOUT_FILENO, out, (size_t)n) == -1 &&
		    errno == EINTR)
			;
		return;
	}
	if (evbuffer_get_length(logout) == 0)
		event_add(&logout_ev, NULL);
	evbuffer_add(logout, out, (size_t)n);
	if (evbuffer_get_length(logout) > LOGOUT_HIGH)
		logout_pause(1);
}

/*
 * The api keeps the last lines of each process for the logs endpoint.
 * It is fed best effort: when it falls behind, lines are dropped for
 * it (and counted), never for stdout.
 */
static void
logpipe_to_api(const char *proc, const char *inst, int stream,
    const char *line, size_t len, int level)
{
	struct imsgev	*iev = privsep->ps_iev[PROC_API];
	struct ibuf	*buf;
	const char	*dash;
	char		 msg[LOG_RING_LINE_MAX];
	const char	*errstr;
	uint32_t	 idx;

	if (iev == NULL)
		return;
	if (imsgbuf_queuelen(&iev->ibuf) > LOGAPI_HIGH) {
		logpipe_api_drops++;
		return;
	}
	if ((dash = strrchr(inst, '-')) == NULL)
		return;
	idx = (uint32_t)strtonum(dash + 1, 0, CONF_SCALE_MAX - 1, &errstr);
	if (errstr != NULL)
		return;
	if (len >= sizeof(msg))
		len = sizeof(msg) - 1;
	memcpy(msg, line, len);
	msg[len] = '\0';
	/* a NUL in the output would end the string early: keep it short */
	if ((buf = proc_create(privsep, PROC_API, IMSG_LOG_LINE, 0,
	    len + CONF_NAME_MAX + 32)) == NULL)
		return;
	if (ibuf_add_str(buf, proc) == -1 || ibuf_add_u32(buf, idx) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)stream) == -1 ||
	    ibuf_add_u8(buf, (uint8_t)level) == -1 ||
	    ibuf_add_i64(buf, wall_ms()) == -1 ||
	    ibuf_add_str(buf, msg) == -1) {
		imsg_abort(buf);
		return;
	}
	proc_close(privsep, PROC_API, buf);
}

static void
logpipe_line(void *arg, const char *line, size_t len)
{
	struct logpipe		*lp = arg;
	struct logintel_out	 out;
	int			 i, n;

	lp->lp_lines++;
	if (lp->lp_li == NULL) {
		logpipe_emit(lp->lp_proc, lp->lp_inst, lp->lp_stream, line,
		    len);
		return;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	n = logintel_line(lp->lp_li, line, len, now_ms(), &out);
	for (i = 0; i < n && i < out.lo_n; i++)
		logpipe_entry(lp, &out.lo_ent[i]);
	logpipe_li_out(lp, 0);
}

/* Entries the pipeline holds: flush what is due, and time the rest. */
static void
logpipe_li_out(struct logpipe *lp, int force)
{
	struct logintel_out	 out;
	struct timeval		 tv;
	int64_t			 due, now = now_ms();
	int			 i, n;

	while ((n = logintel_flush(lp->lp_li, now, force, &out)) > 0)
		for (i = 0; i < n && i < out.lo_n; i++)
			logpipe_entry(lp, &out.lo_ent[i]);
	if (lp->lp_li_armed) {
		evtimer_del(&lp->lp_li_ev);
		lp->lp_li_armed = 0;
	}
	if (force || (due = logintel_deadline(lp->lp_li)) <= 0)
		return;
	ms_to_tv(due > now ? due - now : 1, &tv);
	evtimer_add(&lp->lp_li_ev, &tv);
	lp->lp_li_armed = 1;
}

static void
logpipe_li_timer(int fd, short event, void *arg)
{
	struct logpipe	*lp = arg;

	lp->lp_li_armed = 0;
	logpipe_li_out(lp, 0);
}

/* One entry of the pipeline: its level, and its fields merged in. */
static void
logpipe_entry(struct logpipe *lp, const struct logintel_entry *ie)
{
	logpipe_record(lp->lp_proc, lp->lp_inst, lp->lp_stream, ie->ie_msg,
	    ie->ie_len, ie->ie_level, ie->ie_fields, ie->ie_nfields);
}

/* Emit every complete line; with force, the partial rest as well. */
static void
logpipe_flush(struct logpipe *lp, int force)
{
	if (lp->lp_buf == NULL)
		return;
	lp->lp_len = logframe(lp->lp_buf, lp->lp_len, LOG_LINE_LIMIT, force,
	    logpipe_line, lp);
}

/*
 * Every pipe reads into this one buffer; only the rest of a line not
 * yet ended waits in the pipe's own, sized to it.  A pipe whose first
 * and last read is the end of file, as when its process dies silent,
 * allocates nothing, and a quiet pipe holds no 64 KiB buffer.
 */
static char	logpipe_rbuf[LOG_LINE_LIMIT];

static void
logpipe_read(int fd, short event, void *arg)
{
	struct logpipe	*lp = arg;
	size_t		 len;
	ssize_t		 n;
	int		 reads;

	/* a bounded number of reads per wakeup keeps the loop fair */
	for (reads = 0; reads < 16; reads++) {
		if ((len = lp->lp_len) > 0)
			memcpy(logpipe_rbuf, lp->lp_buf, len);
		n = read(fd, logpipe_rbuf + len, sizeof(logpipe_rbuf) - len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			log_warn("%s: read %s", lp->lp_inst,
			    lp->lp_stream == STREAM_STDERR ? "stderr" :
			    "stdout");
			logpipe_close(lp);
			return;
		}
		if (n == 0) {
			/* every writer is gone, grandchildren included */
			logpipe_close(lp);
			return;
		}
		len = logframe(logpipe_rbuf, len + (size_t)n,
		    sizeof(logpipe_rbuf), 0, logpipe_line, lp);
		if (logpipe_keep(lp, len) == -1) {
			log_warn("%s: %s", lp->lp_inst, __func__);
			logpipe_close(lp);
			return;
		}
	}
}

/* The start of a line still to come, from logpipe_rbuf. */
static int
logpipe_keep(struct logpipe *lp, size_t len)
{
	char	*p;

	if (len == 0) {
		free(lp->lp_buf);
		lp->lp_buf = NULL;
		lp->lp_len = 0;
		return (0);
	}
	if ((p = realloc(lp->lp_buf, len)) == NULL)
		return (-1);
	memcpy(p, logpipe_rbuf, len);
	lp->lp_buf = p;
	lp->lp_len = len;
	return (0);
}
