/*
 * -w: reload when the configuration file changes.
 *
 * The directory is watched, not the file: editors save by writing a
 * new file and renaming it over the old one, and Kubernetes swaps a
 * ConfigMap by re-pointing the "..data" symlink, and both replace the
 * inode a file watch would hold.  Bursts of events are debounced.
 */

#include <sys/types.h>
#include <sys/inotify.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phpeekd.h"

#define WATCH_DEBOUNCE_MS	500

static struct event	 watch_ev, watch_timer;
static int		 watch_fd = -1;
static char		 watch_name[NAME_MAX + 1];
static void		(*watch_cb)(void);

static void	watch_read(int, short, void *);
static void	watch_fire(int, short, void *);

int
watch_start(const char *path, void (*cb)(void))
{
	char	dir[PATH_MAX], base[PATH_MAX];

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir) ||
	    strlcpy(base, path, sizeof(base)) >= sizeof(base)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	strlcpy(watch_name, basename(base), sizeof(watch_name));
	if ((watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return (-1);
	if (inotify_add_watch(watch_fd, dirname(dir), IN_CLOSE_WRITE |
	    IN_MOVED_TO | IN_CREATE | IN_ATTRIB) == -1) {
		close(watch_fd);
		watch_fd = -1;
		return (-1);
	}
	watch_cb = cb;
	event_set(&watch_ev, watch_fd, EV_READ | EV_PERSIST, watch_read, NULL);
	event_add(&watch_ev, NULL);
	evtimer_set(&watch_timer, watch_fire, NULL);
	return (0);
}

static void
watch_read(int fd, short event, void *arg)
{
	union {
		struct inotify_event	ev;
		char			buf[8192];
	}			 u;
	struct inotify_event	*ie;
	struct timeval		 tv;
	ssize_t			 n;
	char			*p;
	int			 hit = 0;

	while ((n = read(fd, u.buf, sizeof(u.buf))) > 0) {
		for (p = u.buf; p < u.buf + n;
		    p += sizeof(*ie) + ie->len) {
			ie = (struct inotify_event *)(void *)p;
			if (ie->len > 0 &&
			    (strcmp(ie->name, watch_name) == 0 ||
			    strcmp(ie->name, "..data") == 0))
				hit = 1;
		}
	}
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		log_warn("inotify read");
	if (!hit)
		return;
	/* restart the quiet period on every change */
	ms_to_tv(WATCH_DEBOUNCE_MS, &tv);
	evtimer_add(&watch_timer, &tv);
}

static void
watch_fire(int fd, short event, void *arg)
{
	log_info("configuration file changed");
	watch_cb();
}
