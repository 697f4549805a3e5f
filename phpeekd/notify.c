/*
 * Readiness from the service itself: sd_notify datagrams on the
 * socket named in NOTIFY_SOCKET (READY=1, STATUS=..., STOPPING=1; what
 * Debian's php-fpm sends), or s6's notification fd, where a newline
 * means ready.  Dependants start the moment a service is ready.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phpeekd.h"

static void	notify_read(int, short, void *);
static void	notify_ready(struct instance *);

void
notify_open(struct instance *in, int fd)
{
	int	fl;

	notify_close(in);
	/* read until EAGAIN: it must never block the engine */
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		log_warn("%s: readiness channel", in->in_id);
	in->in_notify_fd = fd;
	event_set(&in->in_notify_ev, fd, EV_READ | EV_PERSIST, notify_read,
	    in);
	event_add(&in->in_notify_ev, NULL);
}

void
notify_close(struct instance *in)
{
	if (in->in_notify_fd <= 0)
		return;
	event_del(&in->in_notify_ev);
	close(in->in_notify_fd);
	in->in_notify_fd = -1;
}

static void
notify_ready(struct instance *in)
{
	if (in->in_ready)
		return;
	in->in_ready = 1;
	log_info("%s: ready (it says so)", in->in_id);
	engine_state_instance(in);
	engine_state_proc(in->in_proc);
	engine_check_done();
}

/* One sd_notify datagram: newline-separated KEY=VALUE assignments. */
static void
notify_datagram(struct instance *in, char *buf)
{
	char	*line, *next;

	for (line = buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strcmp(line, "READY=1") == 0)
			notify_ready(in);
		else if (strncmp(line, "STATUS=", 7) == 0) {
			strlcpy(in->in_notify_status, line + 7,
			    sizeof(in->in_notify_status));
			log_debug("%s: status: %s", in->in_id,
			    in->in_notify_status);
		} else if (strcmp(line, "STOPPING=1") == 0)
			log_info("%s: says it is stopping", in->in_id);
	}
}

static void
notify_read(int fd, short event, void *arg)
{
	struct instance	*in = arg;
	char		 buf[4096];
	ssize_t		 n;

	for (;;) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* s6: the service closed its end */
			notify_close(in);
			return;
		}
		buf[n] = '\0';
		if (in->in_proc->ep_conf->pc_ready == READY_FD) {
			if (memchr(buf, '\n', (size_t)n) != NULL)
				notify_ready(in);
		} else
			notify_datagram(in, buf);
	}
}
