/*
 * The parent's listening sockets: the Unix control socket, the TCP API
 * and the metrics endpoint.  Binding needs privilege (and a path on
 * the filesystem), so the parent does it and hands the api role a
 * copy of each; the parent keeps the originals so a restarted api gets
 * them again.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "phpeekd.h"

#define LISTEN_BACKLOG	128

static int	listen_fds[LISTEN_METRICS + 1] = { -1, -1, -1, -1 };
static char	listen_path[PATH_MAX];

static int	listen_unix(const char *);
static int	listen_tcp(int, int);
static int	listen_tls_open(const struct tls_conf *, int [TLS_NFILES],
		    const char **);
static int	listen_tls_send(struct privsep *, uint8_t,
		    const struct tls_conf *);

/*
 * A stale socket file is replaced; one that a live phpeekd answers on
 * is left alone, and this daemon runs without a control socket.
 */
static int
listen_unix(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd, probe;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		log_warnx("control socket %s: path too long", path);
		return (-1);
	}
	if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("control socket");
		return (-1);
	}
	if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(probe);
		log_warnx("control socket %s: another phpeekd is listening "
		    "on it; not replacing it", path);
		return (-1);
	}
	close(probe);
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("control socket %s: unlink", path);
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		log_warn("control socket");
		return (-1);
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0660) == -1 || listen(fd, LISTEN_BACKLOG) == -1) {
		log_warn("control socket %s", path);
		close(fd);
		return (-1);
	}
	strlcpy(listen_path, path, sizeof(listen_path));
	return (fd);
}

/* any: all addresses (v4 and v6), else loopback only */
static int
listen_tcp(int port, int any)
{
	struct sockaddr_in6	 sin6;
	struct sockaddr_in	 sin;
	int			 fd, on = 1, off = 0;

	if (any && (fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) != -1) {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)port);
		sin6.sin6_addr = in6addr_any;
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)) == 0 &&
		    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on)) == 0 &&
		    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
		    sizeof(off)) == 0 &&
		    bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0 &&
		    listen(fd, LISTEN_BACKLOG) == 0)
			return (fd);
		close(fd);	/* no IPv6: fall back to IPv4 */
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return (-1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(any ? INADDR_ANY : INADDR_LOOPBACK);
	/* accepted sockets inherit it: a kept-alive scrape is not held
	 * back by Nagle waiting for a delayed ACK */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * Open what the configuration asks for.  A listener that cannot be
 * opened is logged and left out; the services matter more.  The TCP
 * API listens on loopback only unless a token or an ACL protects it.
 */
void
listen_open(struct global_conf *gc)
{
	listen_close();
	if (gc->gc_api_socket[0] != '\0')
		listen_fds[LISTEN_CONTROL] = listen_unix(gc->gc_api_socket);
	if (gc->gc_api_enabled && gc->gc_api_port > 0 &&
	    (listen_fds[LISTEN_API] = listen_tcp(gc->gc_api_port,
	    gc->gc_api_auth[0] != '\0' || gc->gc_api_acl.acl_enabled)) == -1)
		log_warn("api port %d", gc->gc_api_port);
	if (gc->gc_metrics_enabled && gc->gc_metrics_port > 0 &&
	    (listen_fds[LISTEN_METRICS] = listen_tcp(gc->gc_metrics_port,
	    1)) == -1)
		log_warn("metrics port %d", gc->gc_metrics_port);
}

/* The TLS files of a listener kind, opened; -1 and errno if one fails. */
static int
listen_tls_open(const struct tls_conf *tls, int fds[TLS_NFILES],
    const char **failed)
{
	int	i;

	for (i = 0; i < TLS_NFILES; i++)
		fds[i] = -1;
	for (i = 0; i < TLS_NFILES; i++) {
		if (tls->tls_file[i][0] == '\0' ||
		    (i == TLS_CA && tls->tls_client_auth != 3))
			continue;
		if ((fds[i] = open(tls->tls_file[i], O_RDONLY | O_CLOEXEC |
		    O_NONBLOCK)) == -1) {
			*failed = tls->tls_file[i];
			while (--i >= 0)
				if (fds[i] != -1)
					close(fds[i]);
			return (-1);
		}
	}
	return (0);
}

/*
 * Whether the TLS files a configuration names can be opened: checked
 * before it is installed, so that a reload naming a missing key fails
 * and keeps the running configuration.
 */
int
listen_tls_check(const struct global_conf *gc, char *why, size_t len)
{
	const struct tls_conf	*tls[2] = { &gc->gc_api_tls,
				    &gc->gc_metrics_tls };
	const char		*failed = "";
	int			 fds[TLS_NFILES], i, j;

	for (i = 0; i < 2; i++) {
		if (!tls[i]->tls_enabled)
			continue;
		if (listen_tls_open(tls[i], fds, &failed) == -1) {
			snprintf(why, len, "%s: %s", failed, strerror(errno));
			return (-1);
		}
		for (j = 0; j < TLS_NFILES; j++)
			if (fds[j] != -1)
				close(fds[j]);
	}
	return (0);
}

/* The certificate, key and CA of a TLS listener, before the listener. */
static int
listen_tls_send(struct privsep *ps, uint8_t kind, const struct tls_conf *tls)
{
	const char	*failed = "";
	uint8_t		 msg[2];
	int		 fds[TLS_NFILES], i, rv = 0;

	if (listen_tls_open(tls, fds, &failed) == -1) {
		log_warn("%s: %s", kind == LISTEN_API ? "api_tls" :
		    "metrics_tls", failed);
		return (-1);
	}
	for (i = 0; i < TLS_NFILES; i++) {
		if (fds[i] == -1)
			continue;
		msg[0] = kind;
		msg[1] = (uint8_t)i;
		if (proc_compose(ps, PROC_API, IMSG_API_TLS, 0, fds[i], msg,
		    sizeof(msg)) == -1)
			rv = -1;
	}
	return (rv);
}

/*
 * Hand a copy of each listener to the api role; a TLS listener whose
 * files cannot be read is not served at all rather than in clear.
 */
void
listen_send(struct privsep *ps, const struct global_conf *gc)
{
	const struct tls_conf	*tls;
	uint8_t			 kind;
	int			 fd;

	for (kind = LISTEN_CONTROL; kind <= LISTEN_METRICS; kind++) {
		if (listen_fds[kind] == -1)
			continue;
		tls = kind == LISTEN_API ? &gc->gc_api_tls :
		    kind == LISTEN_METRICS ? &gc->gc_metrics_tls : NULL;
		if (tls != NULL && tls->tls_enabled &&
		    listen_tls_send(ps, kind, tls) == -1)
			continue;
		if ((fd = fcntl(listen_fds[kind], F_DUPFD_CLOEXEC, 3)) == -1) {
			log_warn("dup listener");
			continue;
		}
		proc_compose(ps, PROC_API, IMSG_API_LISTENER, 0, fd, &kind,
		    sizeof(kind));
	}
}

void
listen_close(void)
{
	int	i;

	for (i = 0; i <= LISTEN_METRICS; i++) {
		if (listen_fds[i] != -1)
			close(listen_fds[i]);
		listen_fds[i] = -1;
	}
	if (listen_path[0] != '\0') {
		(void)unlink(listen_path);
		listen_path[0] = '\0';
	}
}
