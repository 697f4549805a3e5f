/*
 * libFuzzer target: arbitrary bytes from a client of the control
 * socket, through libevent's HTTP parser into phpeekd's router and
 * body parsers.  The api must answer or close, never crash or leak.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phpeekd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct sockaddr_un	fz_sun;
static socklen_t		fz_len;
static struct event_base	*fz_base;

static void
fz_init(void)
{
	struct proc_conf	*pc;
	static struct privsep	 ps;
	int			 fd;

	privsep = &ps;
	ps.ps_id = PROC_API;
	log_setverbose(LOG_LVL_ERROR);
	if ((api = calloc(1, sizeof(*api))) == NULL)
		abort();
	TAILQ_INIT(&api->a_procs);
	TAILQ_INIT(&api->a_waits);
	if ((api->a_conf = config_new()) == NULL ||
	    (pc = config_proc_new("web")) == NULL)
		abort();
	strlist_add(&pc->pc_command, "sleep");
	TAILQ_INSERT_TAIL(&api->a_conf->cf_procs, pc, pc_entry);
	fz_base = event_init();
	apihttp_init(fz_base);
	memset(&fz_sun, 0, sizeof(fz_sun));
	fz_sun.sun_family = AF_UNIX;
	snprintf(fz_sun.sun_path + 1, sizeof(fz_sun.sun_path) - 1,
	    "phpeekd-api-fuzz-%d", (int)getpid());
	fz_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(fz_sun.sun_path + 1));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&fz_sun, fz_len) == -1 ||
	    listen(fd, 16) == -1)
		abort();
	apihttp_listen(LISTEN_CONTROL, fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char	buf[4096];
	size_t	off = 0;
	ssize_t	n;
	int	fd, i, eof = 0;

	if (fz_base == NULL)
		fz_init();
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		return (0);
	if (connect(fd, (struct sockaddr *)&fz_sun, fz_len) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return (0);
	}
	/* feed the request while the server reads it; read what it says */
	for (i = 0; i < 200 && !eof; i++) {
		if (off < len && (n = write(fd, data + off, len - off)) > 0)
			off += (size_t)n;
		if (off == len)
			shutdown(fd, SHUT_WR);
		event_base_loop(fz_base, EVLOOP_NONBLOCK);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			;
		if (n == 0)
			eof = 1;
	}
	close(fd);
	/* let the server notice the close and free the connection */
	for (i = 0; i < 5; i++)
		event_base_loop(fz_base, EVLOOP_NONBLOCK);
	return (0);
}
