/*
 * libFuzzer target: arbitrary bytes, and at times an fd, arrive on an
 * imsg channel.  The reader must return messages or -1, never crash,
 * never leak, and never allocate more than the channel's maximum.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
drain(struct imsgbuf *ib)
{
	struct imsg	 imsg;
	struct ibuf	 buf;
	char		*s;
	uint32_t	 v;

	while (imsgbuf_get(ib, &imsg) == 1) {
		/* decode the payload as phpeekd's readers would */
		imsg_get_ibuf(&imsg, &buf);
		while (ibuf_get_str(&buf, &s) == 0)
			free(s);
		(void)ibuf_get_u32(&buf, &v);
		imsg_free(&imsg);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct imsgbuf	 ib;
	size_t		 off = 0, chunk;
	int		 sp[2], p[2], fdpass;

	if (len < 1)
		return (0);
	fdpass = data[0] & 1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) == -1)
		return (0);
	imsgbuf_init(&ib, sp[0]);
	if (fdpass)
		imsgbuf_allow_fdpass(&ib);
	/* the first byte also picks the fragment size */
	chunk = 1 + (data[0] >> 1);
	off = 1;
	while (off < len) {
		size_t	n = len - off < chunk ? len - off : chunk;

		if (write(sp[1], data + off, n) != (ssize_t)n)
			break;
		off += n;
		if (data[0] & 0x80 && pipe(p) == 0) {
			struct msghdr	 msg;
			struct iovec	 iov;
			union {
				struct cmsghdr	hdr;
				char		buf[CMSG_SPACE(sizeof(int))];
			}		 cm;
			char		 z = 0;

			memset(&msg, 0, sizeof(msg));
			iov.iov_base = &z;
			iov.iov_len = 0;
			msg.msg_iov = &iov;
			msg.msg_iovlen = 1;
			msg.msg_control = cm.buf;
			msg.msg_controllen = sizeof(cm.buf);
			CMSG_FIRSTHDR(&msg)->cmsg_len = CMSG_LEN(sizeof(int));
			CMSG_FIRSTHDR(&msg)->cmsg_level = SOL_SOCKET;
			CMSG_FIRSTHDR(&msg)->cmsg_type = SCM_RIGHTS;
			memcpy(CMSG_DATA(CMSG_FIRSTHDR(&msg)), &p[0],
			    sizeof(int));
			(void)sendmsg(sp[1], &msg, 0);
			close(p[0]);
			close(p[1]);
		}
		if (imsgbuf_read(&ib) != 1)
			break;
		drain(&ib);
	}
	close(sp[1]);
	while (imsgbuf_read(&ib) == 1)
		drain(&ib);
	drain(&ib);
	imsgbuf_clear(&ib);
	close(sp[0]);
	return (0);
}
