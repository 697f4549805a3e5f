/*
 * Message framing and fd passing over AF_UNIX stream sockets.
 *
 * Writers queue complete messages and drain them with writev/sendmsg
 * whenever the socket is writable; readers accumulate bytes and cut
 * them into messages, so a message may arrive in any number of pieces
 * and one read may hold many messages.  A message carrying an fd is
 * sent with its own sendmsg so the fd travels with its first bytes;
 * the reader keeps received fds in a FIFO and hands one to each header
 * that carries the fd mark.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#define IMSG_MAX_FDQ	64	/* received fds waiting for their header */
#define IMSG_CMSG_FDS	8	/* room for a misbehaving sender's extras */

static int	ibuf_grow(struct ibuf *, size_t);
static void	imsgbuf_seterr(struct imsgbuf *, int, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));
static int	imsgbuf_parse(struct imsgbuf *);
static int	fdq_push(struct imsg_fdq *, int);
static int	fdq_pop(struct imsg_fdq *);
static void	fdq_clear(struct imsg_fdq *);
static void	wq_drain(struct imsgbuf *, size_t);

struct ibuf *
ibuf_open(size_t len)
{
	struct ibuf	*buf;

	if (len == 0) {
		errno = EINVAL;
		return (NULL);
	}
	if ((buf = calloc(1, sizeof(*buf))) == NULL)
		return (NULL);
	if ((buf->buf = malloc(len)) == NULL) {
		free(buf);
		return (NULL);
	}
	buf->size = buf->max = len;
	buf->fd = -1;
	return (buf);
}

struct ibuf *
ibuf_dynamic(size_t len, size_t max)
{
	struct ibuf	*buf;

	if (max == 0 || max < len) {
		errno = EINVAL;
		return (NULL);
	}
	if ((buf = calloc(1, sizeof(*buf))) == NULL)
		return (NULL);
	if (len > 0 && (buf->buf = malloc(len)) == NULL) {
		free(buf);
		return (NULL);
	}
	buf->size = len;
	buf->max = max;
	buf->fd = -1;
	return (buf);
}

static int
ibuf_grow(struct ibuf *buf, size_t need)
{
	unsigned char	*p;
	size_t		 nsize;

	if (buf->flags & IBUF_STATIC) {
		errno = EINVAL;
		return (-1);
	}
	if (need > buf->max - buf->wpos) {
		errno = ERANGE;
		return (-1);
	}
	if (buf->wpos + need <= buf->size)
		return (0);
	nsize = buf->size < 64 ? 64 : buf->size;
	while (nsize < buf->wpos + need)
		nsize = nsize > buf->max / 2 ? buf->max : nsize * 2;
	if ((p = realloc(buf->buf, nsize)) == NULL)
		return (-1);
	buf->buf = p;
	buf->size = nsize;
	return (0);
}

void *
ibuf_reserve(struct ibuf *buf, size_t len)
{
	void	*p;

	if (ibuf_grow(buf, len) == -1)
		return (NULL);
	p = buf->buf + buf->wpos;
	buf->wpos += len;
	return (p);
}

int
ibuf_add(struct ibuf *buf, const void *data, size_t len)
{
	void	*p;

	if (len == 0)
		return (0);
	if ((p = ibuf_reserve(buf, len)) == NULL)
		return (-1);
	memcpy(p, data, len);
	return (0);
}

int
ibuf_add_u8(struct ibuf *buf, uint8_t v)
{
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_u32(struct ibuf *buf, uint32_t v)
{
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_u64(struct ibuf *buf, uint64_t v)
{
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_i64(struct ibuf *buf, int64_t v)
{
	return (ibuf_add(buf, &v, sizeof(v)));
}

/* Strings travel as a 32 bit length and the bytes, without a NUL. */
int
ibuf_add_str(struct ibuf *buf, const char *s)
{
	size_t	len;

	if (s == NULL)
		s = "";
	len = strlen(s);
	if (len > UINT32_MAX) {
		errno = ERANGE;
		return (-1);
	}
	if (ibuf_add_u32(buf, (uint32_t)len) == -1)
		return (-1);
	return (ibuf_add(buf, s, len));
}

size_t
ibuf_size(const struct ibuf *buf)
{
	return (buf->wpos);
}

size_t
ibuf_left(const struct ibuf *buf)
{
	return (buf->wpos - buf->rpos);
}

void *
ibuf_data(const struct ibuf *buf)
{
	return (buf->buf + buf->rpos);
}

void
ibuf_from_buffer(struct ibuf *buf, void *data, size_t len)
{
	memset(buf, 0, sizeof(*buf));
	buf->buf = data;
	buf->size = buf->max = buf->wpos = len;
	buf->fd = -1;
	buf->flags = IBUF_STATIC;
}

int
ibuf_get(struct ibuf *buf, void *data, size_t len)
{
	if (ibuf_left(buf) < len) {
		errno = EBADMSG;
		return (-1);
	}
	if (len > 0)
		memcpy(data, buf->buf + buf->rpos, len);
	buf->rpos += len;
	return (0);
}

int
ibuf_get_u8(struct ibuf *buf, uint8_t *v)
{
	return (ibuf_get(buf, v, sizeof(*v)));
}

int
ibuf_get_u32(struct ibuf *buf, uint32_t *v)
{
	return (ibuf_get(buf, v, sizeof(*v)));
}

int
ibuf_get_u64(struct ibuf *buf, uint64_t *v)
{
	return (ibuf_get(buf, v, sizeof(*v)));
}

int
ibuf_get_i64(struct ibuf *buf, int64_t *v)
{
	return (ibuf_get(buf, v, sizeof(*v)));
}

/*
 * Read a length-prefixed string into a new allocation.  The peer's
 * bytes may not contain a NUL: a string that would be cut short on
 * the receiving side is a malformed message.
 */
int
ibuf_get_str(struct ibuf *buf, char **out)
{
	uint32_t	 len;
	char		*s;

	*out = NULL;
	if (ibuf_get_u32(buf, &len) == -1)
		return (-1);
	if (ibuf_left(buf) < len ||
	    memchr(buf->buf + buf->rpos, '\0', len) != NULL) {
		errno = EBADMSG;
		return (-1);
	}
	if ((s = malloc((size_t)len + 1)) == NULL)
		return (-1);
	memcpy(s, buf->buf + buf->rpos, len);
	s[len] = '\0';
	buf->rpos += len;
	*out = s;
	return (0);
}

int
ibuf_get_strbuf(struct ibuf *buf, char *dst, size_t dstlen)
{
	uint32_t	 len;

	if (ibuf_get_u32(buf, &len) == -1)
		return (-1);
	if (ibuf_left(buf) < len || len >= dstlen ||
	    memchr(buf->buf + buf->rpos, '\0', len) != NULL) {
		errno = EBADMSG;
		return (-1);
	}
	memcpy(dst, buf->buf + buf->rpos, len);
	dst[len] = '\0';
	buf->rpos += len;
	return (0);
}

void
ibuf_fd_set(struct ibuf *buf, int fd)
{
	if (buf->fd != -1)
		close(buf->fd);
	buf->fd = fd;
}

void
ibuf_free(struct ibuf *buf)
{
	int	saved;

	if (buf == NULL)
		return;
	if (buf->flags & IBUF_STATIC)
		abort();
	saved = errno;
	if (buf->fd != -1)
		close(buf->fd);
	if (buf->buf != NULL) {
		explicit_bzero(buf->buf, buf->size);
		free(buf->buf);
	}
	free(buf);
	errno = saved;
}

void
imsgbuf_init(struct imsgbuf *ib, int fd)
{
	/*
	 * All but the read buffer, which is never read past rbuf_len:
	 * zeroing it would make 64 KiB per channel resident for nothing.
	 */
	memset(ib, 0, offsetof(struct imsgbuf, rbuf));
	memset(&ib->rbuf_len, 0, sizeof(*ib) - offsetof(struct imsgbuf,
	    rbuf_len));
	TAILQ_INIT(&ib->wq);
	TAILQ_INIT(&ib->rq);
	ib->fd = fd;
	ib->pid = getpid();
	ib->maxsize = MAX_IMSGSIZE;
}

void
imsgbuf_allow_fdpass(struct imsgbuf *ib)
{
	ib->fdpass = 1;
}

/* The limit is for the payload; the header comes on top. */
int
imsgbuf_set_maxsize(struct imsgbuf *ib, size_t max)
{
	if (max > (IMSG_FD_MARK - 1) - IMSG_HEADER_SIZE ||
	    max > IMSG_MAX_QUEUED - IMSG_HEADER_SIZE) {
		errno = ERANGE;
		return (-1);
	}
	ib->maxsize = max + IMSG_HEADER_SIZE;
	return (0);
}

const char *
imsgbuf_error(const struct imsgbuf *ib)
{
	return (ib->err[0] != '\0' ? ib->err : "no error");
}

static void
imsgbuf_seterr(struct imsgbuf *ib, int error, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(ib->err, sizeof(ib->err), fmt, ap);
	va_end(ap);
	errno = error;
}

size_t
imsgbuf_queuelen(const struct imsgbuf *ib)
{
	return (ib->wq_len);
}

void
imsgbuf_clear(struct imsgbuf *ib)
{
	struct ibuf	*buf;

	while ((buf = TAILQ_FIRST(&ib->wq)) != NULL) {
		TAILQ_REMOVE(&ib->wq, buf, entry);
		ibuf_free(buf);
	}
	ib->wq_len = 0;
	while ((buf = TAILQ_FIRST(&ib->rq)) != NULL) {
		TAILQ_REMOVE(&ib->rq, buf, entry);
		ibuf_free(buf);
	}
	ibuf_free(ib->rpart);
	ib->rpart = NULL;
	ib->rbuf_len = 0;
	fdq_clear(&ib->rfds);
}

static int
fdq_push(struct imsg_fdq *q, int fd)
{
	int	*p;
	size_t	 ncap;

	if (q->n >= IMSG_MAX_FDQ) {
		errno = EMFILE;
		return (-1);
	}
	if (q->n == q->cap) {
		ncap = q->cap == 0 ? 4 : q->cap * 2;
		if ((p = reallocarray(q->fds, ncap, sizeof(*p))) == NULL)
			return (-1);
		q->fds = p;
		q->cap = ncap;
	}
	q->fds[q->n++] = fd;
	return (0);
}

static int
fdq_pop(struct imsg_fdq *q)
{
	int	fd;

	if (q->n == 0)
		return (-1);
	fd = q->fds[0];
	memmove(q->fds, q->fds + 1, (q->n - 1) * sizeof(*q->fds));
	q->n--;
	return (fd);
}

static void
fdq_clear(struct imsg_fdq *q)
{
	size_t	i;

	for (i = 0; i < q->n; i++)
		close(q->fds[i]);
	free(q->fds);
	memset(q, 0, sizeof(*q));
}

struct ibuf *
imsg_create(struct imsgbuf *ib, uint32_t type, uint32_t peerid, pid_t pid,
    size_t datalen)
{
	struct imsg_hdr	 hdr;
	struct ibuf	*buf;

	if (datalen > ib->maxsize - IMSG_HEADER_SIZE) {
		imsgbuf_seterr(ib, ERANGE,
		    "message type %u: payload of %zu bytes exceeds %zu",
		    type, datalen, ib->maxsize - IMSG_HEADER_SIZE);
		return (NULL);
	}
	if ((buf = ibuf_dynamic(IMSG_HEADER_SIZE + datalen,
	    ib->maxsize)) == NULL)
		return (NULL);
	hdr.type = type;
	hdr.len = 0;		/* set by imsg_close */
	hdr.peerid = peerid;
	hdr.pid = pid == 0 ? (uint32_t)ib->pid : (uint32_t)pid;
	if (ibuf_add(buf, &hdr, sizeof(hdr)) == -1) {
		ibuf_free(buf);
		return (NULL);
	}
	return (buf);
}

int
imsg_close(struct imsgbuf *ib, struct ibuf *buf)
{
	struct imsg_hdr	*hdr;
	uint32_t	 len;

	if (buf->wpos < IMSG_HEADER_SIZE || buf->wpos > ib->maxsize) {
		imsgbuf_seterr(ib, ERANGE, "message of %zu bytes outside "
		    "%zu..%zu", buf->wpos, IMSG_HEADER_SIZE, ib->maxsize);
		ibuf_free(buf);
		return (-1);
	}
	if (ib->wq_len + buf->wpos > IMSG_MAX_QUEUED) {
		imsgbuf_seterr(ib, ENOBUFS, "peer not reading: %zu bytes "
		    "already queued", ib->wq_len);
		ibuf_free(buf);
		return (-1);
	}
	len = (uint32_t)buf->wpos;
	if (buf->fd != -1)
		len |= IMSG_FD_MARK;
	hdr = (struct imsg_hdr *)(void *)buf->buf;
	memcpy(&hdr->len, &len, sizeof(len));
	buf->rpos = 0;
	TAILQ_INSERT_TAIL(&ib->wq, buf, entry);
	ib->wq_len += buf->wpos;
	return (0);
}

/* Drop a message that was created but will not be sent. */
void
imsg_abort(struct ibuf *buf)
{
	ibuf_free(buf);
}

int
imsg_compose(struct imsgbuf *ib, uint32_t type, uint32_t peerid, pid_t pid,
    int fd, const void *data, size_t datalen)
{
	struct ibuf	*buf;

	if ((buf = imsg_create(ib, type, peerid, pid, datalen)) == NULL) {
		if (fd != -1)
			close(fd);
		return (-1);
	}
	if (ibuf_add(buf, data, datalen) == -1) {
		if (fd != -1)
			close(fd);
		ibuf_free(buf);
		return (-1);
	}
	buf->fd = fd;
	return (imsg_close(ib, buf));
}

static void
wq_drain(struct imsgbuf *ib, size_t n)
{
	struct ibuf	*buf;
	size_t		 left;

	while (n > 0 && (buf = TAILQ_FIRST(&ib->wq)) != NULL) {
		left = buf->wpos - buf->rpos;
		if (n < left) {
			buf->rpos += n;
			ib->wq_len -= n;
			return;
		}
		n -= left;
		ib->wq_len -= left;
		TAILQ_REMOVE(&ib->wq, buf, entry);
		ibuf_free(buf);
	}
}

/*
 * Write as much of the queue as the socket takes.  Returns 0 when done
 * or when the socket is full (try again when writable), -1 on error;
 * EPIPE means the peer is gone.
 */
int
imsgbuf_write(struct imsgbuf *ib)
{
	struct iovec	 iov[IOV_MAX];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cmsgbuf;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct ibuf	*buf, *first;
	ssize_t		 n;
	int		 i = 0;

	while ((first = TAILQ_FIRST(&ib->wq)) != NULL) {
		i = 0;
		TAILQ_FOREACH(buf, &ib->wq, entry) {
			if (i >= IOV_MAX)
				break;
			if (i > 0 && buf->fd != -1)
				break;	/* an fd travels in its own sendmsg */
			iov[i].iov_base = buf->buf + buf->rpos;
			iov[i].iov_len = buf->wpos - buf->rpos;
			i++;
		}
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = i;
		if (first->fd != -1) {
			memset(&cmsgbuf, 0, sizeof(cmsgbuf));
			msg.msg_control = cmsgbuf.buf;
			msg.msg_controllen = sizeof(cmsgbuf.buf);
			cmsg = CMSG_FIRSTHDR(&msg);
			cmsg->cmsg_len = CMSG_LEN(sizeof(int));
			cmsg->cmsg_level = SOL_SOCKET;
			cmsg->cmsg_type = SCM_RIGHTS;
			memcpy(CMSG_DATA(cmsg), &first->fd, sizeof(int));
		}
		n = sendmsg(ib->fd, &msg, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS)
				return (0);
			imsgbuf_seterr(ib, errno, "sendmsg: %s",
			    strerror(errno));
			return (-1);
		}
		/* the fd went with the first byte sent */
		if (first->fd != -1 && n > 0) {
			close(first->fd);
			first->fd = -1;
		}
		wq_drain(ib, (size_t)n);
	}
	return (0);
}

/*
 * Write until the queue is empty.  On a non-blocking socket this spins
 * while the peer is slow: use only at start-up and shutdown.
 */
int
imsgbuf_flush(struct imsgbuf *ib)
{
	while (imsgbuf_queuelen(ib) > 0)
		if (imsgbuf_write(ib) == -1)
			return (-1);
	return (0);
}

/*
 * Read once from the socket and cut complete messages out of what has
 * arrived.  Returns 1 when the channel is still open (including
 * nothing to read), 0 when the peer closed it, -1 on error (a read
 * error or a malformed header; imsgbuf_error says which).
 */
int
imsgbuf_read(struct imsgbuf *ib)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * IMSG_CMSG_FDS)];
	}		 cmsgbuf;
	struct iovec	 iov;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	ssize_t		 n;
	size_t		 i, nfds;
	int		 fd, kept;

	iov.iov_base = ib->rbuf + ib->rbuf_len;
	iov.iov_len = sizeof(ib->rbuf) - ib->rbuf_len;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (ib->fdpass) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
	}
again:
	if ((n = recvmsg(ib->fd, &msg, MSG_CMSG_CLOEXEC)) == -1) {
		if (errno == EINTR)
			goto again;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return (1);
		imsgbuf_seterr(ib, errno, "recvmsg: %s", strerror(errno));
		return (-1);
	}

	/*
	 * A sender puts at most one fd in a sendmsg; keep the first of
	 * any extras and close the rest so nothing leaks.
	 */
	kept = 0;
	for (cmsg = CMSG_FIRSTHDR(&msg); ib->fdpass && cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			if (kept++ == 0 && fdq_push(&ib->rfds, fd) == 0)
				continue;
			close(fd);
		}
	}
	if (ib->fdpass && (msg.msg_flags & MSG_CTRUNC)) {
		imsgbuf_seterr(ib, EPROTO, "file descriptors truncated "
		    "by the kernel (peer sent too many, or RLIMIT_NOFILE)");
		return (-1);
	}
	if (n == 0)
		return (0);
	ib->rbuf_len += (size_t)n;
	if (imsgbuf_parse(ib) == -1)
		return (-1);
	return (1);
}

/* Cut the read buffer into messages; leftovers stay for the next read. */
static int
imsgbuf_parse(struct imsgbuf *ib)
{
	struct imsg_hdr	 hdr;
	struct ibuf	*m;
	size_t		 off = 0, avail, need, len;

	for (;;) {
		avail = ib->rbuf_len - off;
		if (ib->rpart == NULL) {
			if (avail < IMSG_HEADER_SIZE)
				break;
			memcpy(&hdr, ib->rbuf + off, sizeof(hdr));
			len = hdr.len & ~IMSG_FD_MARK;
			/* check before allocating anything */
			if (len < IMSG_HEADER_SIZE || len > ib->maxsize) {
				imsgbuf_seterr(ib, ERANGE, "message type %u: "
				    "length %zu outside %zu..%zu", hdr.type,
				    len, IMSG_HEADER_SIZE, ib->maxsize);
				return (-1);
			}
			if ((m = ibuf_open(len)) == NULL) {
				imsgbuf_seterr(ib, errno, "ibuf_open: %s",
				    strerror(errno));
				return (-1);
			}
			if (hdr.len & IMSG_FD_MARK)
				m->fd = fdq_pop(&ib->rfds);
			ib->rpart = m;
		}
		m = ib->rpart;
		need = m->size - m->wpos;
		if (need > avail)
			need = avail;
		memcpy(m->buf + m->wpos, ib->rbuf + off, need);
		m->wpos += need;
		off += need;
		if (m->wpos < m->size)
			break;
		TAILQ_INSERT_TAIL(&ib->rq, m, entry);
		ib->rpart = NULL;
	}
	if (off > 0) {
		memmove(ib->rbuf, ib->rbuf + off, ib->rbuf_len - off);
		ib->rbuf_len -= off;
	}
	return (0);
}

/* Returns 1 and fills imsg when a message is ready, 0 when none is. */
int
imsgbuf_get(struct imsgbuf *ib, struct imsg *imsg)
{
	struct ibuf	*buf;

	if ((buf = TAILQ_FIRST(&ib->rq)) == NULL)
		return (0);
	TAILQ_REMOVE(&ib->rq, buf, entry);
	memcpy(&imsg->hdr, buf->buf, sizeof(imsg->hdr));
	imsg->hdr.len &= ~IMSG_FD_MARK;
	imsg->buf = buf;
	imsg->fd = buf->fd;
	buf->fd = -1;
	buf->rpos = IMSG_HEADER_SIZE;
	imsg->data = buf->wpos > IMSG_HEADER_SIZE ?
	    buf->buf + IMSG_HEADER_SIZE : NULL;
	return (1);
}

uint32_t
imsg_get_type(const struct imsg *imsg)
{
	return (imsg->hdr.type);
}

uint32_t
imsg_get_peerid(const struct imsg *imsg)
{
	return (imsg->hdr.peerid);
}

pid_t
imsg_get_pid(const struct imsg *imsg)
{
	return ((pid_t)imsg->hdr.pid);
}

size_t
imsg_get_len(const struct imsg *imsg)
{
	return (imsg->hdr.len - IMSG_HEADER_SIZE);
}

/* Copy the payload out, only if it has exactly the expected size. */
int
imsg_get_data(const struct imsg *imsg, void *data, size_t len)
{
	if (imsg_get_len(imsg) != len) {
		errno = EBADMSG;
		return (-1);
	}
	if (len > 0)
		memcpy(data, imsg->data, len);
	return (0);
}

int
imsg_get_ibuf(const struct imsg *imsg, struct ibuf *buf)
{
	ibuf_from_buffer(buf, imsg->data, imsg_get_len(imsg));
	return (0);
}

/* The caller owns the fd afterwards. */
int
imsg_get_fd(struct imsg *imsg)
{
	int	fd = imsg->fd;

	imsg->fd = -1;
	return (fd);
}

void
imsg_free(struct imsg *imsg)
{
	if (imsg->fd != -1) {
		close(imsg->fd);
		imsg->fd = -1;
	}
	ibuf_free(imsg->buf);
	imsg->buf = NULL;
	imsg->data = NULL;
}
