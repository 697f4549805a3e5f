/*
 * Unit tests of imsg.c on real socketpairs: framing across any split
 * of the stream, fd passing, bounds, peer close, and fd accounting.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

static int
count_fds(void)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		ck_abort_msg("opendir /proc/self/fd");
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n - 1);		/* the directory itself */
}

static void
pair(int sp[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK,
	    0, sp), 0);
}

/* The raw bytes a writer produces for the queued messages. */
static unsigned char *
serialize(struct imsgbuf *w, int rd, size_t *len)
{
	unsigned char	*buf = NULL;
	size_t		 cap = 0;
	ssize_t		 n;

	*len = 0;
	while (imsgbuf_queuelen(w) > 0) {
		ck_assert_int_eq(imsgbuf_write(w), 0);
		for (;;) {
			if (*len + 65536 > cap) {
				cap = cap * 2 + 65536;
				buf = realloc(buf, cap);
				ck_assert_ptr_nonnull(buf);
			}
			n = read(rd, buf + *len, cap - *len);
			if (n <= 0)
				break;
			*len += (size_t)n;
		}
	}
	return (buf);
}

START_TEST(test_roundtrip)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	int		 sp[2];

	pair(sp);
	imsgbuf_init(&w, sp[0]);
	imsgbuf_init(&r, sp[1]);
	ck_assert_int_eq(imsg_compose(&w, 7, 42, 0, -1, "hello", 5), 0);
	ck_assert_int_eq(imsg_compose(&w, 8, 43, 1234, -1, NULL, 0), 0);
	ck_assert_int_eq(imsgbuf_write(&w), 0);
	ck_assert_int_eq(imsgbuf_read(&r), 1);
	ck_assert_int_eq(imsgbuf_get(&r, &imsg), 1);
	ck_assert_uint_eq(imsg_get_type(&imsg), 7);
	ck_assert_uint_eq(imsg_get_peerid(&imsg), 42);
	ck_assert_int_eq(imsg_get_pid(&imsg), getpid());
	ck_assert_uint_eq(imsg_get_len(&imsg), 5);
	ck_assert_mem_eq(imsg.data, "hello", 5);
	ck_assert_int_eq(imsg_get_fd(&imsg), -1);
	imsg_free(&imsg);
	ck_assert_int_eq(imsgbuf_get(&r, &imsg), 1);
	ck_assert_uint_eq(imsg_get_len(&imsg), 0);
	ck_assert_ptr_null(imsg.data);
	ck_assert_int_eq(imsg_get_pid(&imsg), 1234);
	imsg_free(&imsg);
	ck_assert_int_eq(imsgbuf_get(&r, &imsg), 0);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sp[0]);
	close(sp[1]);
}
END_TEST

/*
 * A stream of messages fed to the reader one byte per write, then in
 * random chunks: each message comes out once, in order, when complete.
 */
static void
fragmented(int random_chunks)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	unsigned char	*stream, payload[MAX_IMSGSIZE];
	size_t		 len, off, chunk, i;
	uint32_t	 seen = 0, sizes[64];
	int		 sp[2], rp[2];

	pair(sp);
	pair(rp);
	imsgbuf_init(&w, sp[0]);
	srandom(1);
	for (i = 0; i < 64; i++) {
		sizes[i] = i == 63 ? MAX_IMSGSIZE - IMSG_HEADER_SIZE :
		    (uint32_t)(random() % 300);
		memset(payload, (int)i, sizes[i]);
		ck_assert_int_eq(imsg_compose(&w, (uint32_t)i, 0, 0, -1,
		    payload, sizes[i]), 0);
	}
	stream = serialize(&w, sp[1], &len);
	imsgbuf_init(&r, rp[1]);
	for (off = 0; off < len; off += chunk) {
		chunk = random_chunks ? 1 + (size_t)(random() % 97) : 1;
		if (chunk > len - off)
			chunk = len - off;
		ck_assert_int_eq(write(rp[0], stream + off, chunk),
		    (ssize_t)chunk);
		ck_assert_int_eq(imsgbuf_read(&r), 1);
		while (imsgbuf_get(&r, &imsg) == 1) {
			ck_assert_uint_eq(imsg_get_type(&imsg), seen);
			ck_assert_uint_eq(imsg_get_len(&imsg), sizes[seen]);
			memset(payload, (int)seen, sizes[seen]);
			if (sizes[seen] > 0)
				ck_assert_mem_eq(imsg.data, payload,
				    sizes[seen]);
			imsg_free(&imsg);
			seen++;
		}
	}
	ck_assert_uint_eq(seen, 64);
	free(stream);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sp[0]);
	close(sp[1]);
	close(rp[0]);
	close(rp[1]);
}

START_TEST(test_fragmented_bytes)
{
	fragmented(0);
}
END_TEST

START_TEST(test_fragmented_random)
{
	fragmented(1);
}
END_TEST

START_TEST(test_many_in_one_read)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	uint32_t	 i, n = 0;
	int		 sp[2];

	pair(sp);
	imsgbuf_init(&w, sp[0]);
	imsgbuf_init(&r, sp[1]);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(imsg_compose(&w, 1, i, 0, -1, &i,
		    sizeof(i)), 0);
	ck_assert_int_eq(imsgbuf_write(&w), 0);
	ck_assert_uint_eq(imsgbuf_queuelen(&w), 0);
	while (n < 1000) {
		ck_assert_int_eq(imsgbuf_read(&r), 1);
		while (imsgbuf_get(&r, &imsg) == 1) {
			ck_assert_int_eq(imsg_get_data(&imsg, &i, sizeof(i)),
			    0);
			ck_assert_uint_eq(i, n);
			n++;
			imsg_free(&imsg);
		}
	}
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sp[0]);
	close(sp[1]);
}
END_TEST

START_TEST(test_maxsize)
{
	struct imsgbuf	 w;
	static char	 big[256 * 1024 + 1];
	int		 sp[2];

	pair(sp);
	imsgbuf_init(&w, sp[0]);
	ck_assert_int_eq(imsg_compose(&w, 1, 0, 0, -1, big,
	    MAX_IMSGSIZE - IMSG_HEADER_SIZE), 0);
	errno = 0;
	ck_assert_int_eq(imsg_compose(&w, 1, 0, 0, -1, big,
	    MAX_IMSGSIZE - IMSG_HEADER_SIZE + 1), -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_ptr_nonnull(strstr(imsgbuf_error(&w), "exceeds"));
	ck_assert_int_eq(imsgbuf_set_maxsize(&w, 256 * 1024), 0);
	ck_assert_int_eq(imsg_compose(&w, 1, 0, 0, -1, big, 256 * 1024), 0);
	ck_assert_int_eq(imsg_compose(&w, 1, 0, 0, -1, big,
	    256 * 1024 + 1), -1);
	imsgbuf_clear(&w);
	close(sp[0]);
	close(sp[1]);
}
END_TEST

/* Headers with an impossible length are refused before any allocation. */
START_TEST(test_bad_headers)
{
	static const uint32_t	 lens[] = { 0, 15, MAX_IMSGSIZE + 1,
				    0xFFFFFFFFU, 0x7FFFFFFFU };
	struct imsgbuf		 r;
	struct imsg_hdr		 hdr;
	struct rlimit		 rl;
	size_t			 i;
	int			 sp[2];

	/*
	 * A 2 GiB allocation would fail with ENOMEM, not ERANGE.
	 * AddressSanitizer needs far more address space: no limit there.
	 */
#ifndef __SANITIZE_ADDRESS__
	rl.rlim_cur = rl.rlim_max = 512 * 1024 * 1024;
	setrlimit(RLIMIT_AS, &rl);
#else
	(void)rl;
#endif
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		pair(sp);
		imsgbuf_init(&r, sp[1]);
		memset(&hdr, 0, sizeof(hdr));
		hdr.type = 3;
		hdr.len = lens[i];
		ck_assert_int_eq(write(sp[0], &hdr, sizeof(hdr)),
		    (ssize_t)sizeof(hdr));
		errno = 0;
		ck_assert_int_eq(imsgbuf_read(&r), -1);
		ck_assert_int_eq(errno, ERANGE);
		ck_assert_ptr_nonnull(strstr(imsgbuf_error(&r), "length"));
		imsgbuf_clear(&r);
		close(sp[0]);
		close(sp[1]);
	}
}
END_TEST

START_TEST(test_peer_close)
{
	struct imsgbuf	 w, r;
	struct imsg_hdr	 hdr;
	int		 sp[2], before = count_fds();

	pair(sp);
	imsgbuf_init(&r, sp[1]);
	/* half a message, then the peer goes away */
	memset(&hdr, 0, sizeof(hdr));
	hdr.len = IMSG_HEADER_SIZE + 100;
	ck_assert_int_eq(write(sp[0], &hdr, sizeof(hdr)),
	    (ssize_t)sizeof(hdr));
	ck_assert_int_eq(write(sp[0], "abc", 3), 3);
	close(sp[0]);
	ck_assert_int_eq(imsgbuf_read(&r), 1);
	ck_assert_int_eq(imsgbuf_read(&r), 0);
	imsgbuf_clear(&r);

	/* writing to a closed peer: EPIPE, no SIGPIPE (default action) */
	signal(SIGPIPE, SIG_DFL);
	imsgbuf_init(&w, sp[1]);
	ck_assert_int_eq(imsg_compose(&w, 1, 0, 0, -1, "x", 1), 0);
	ck_assert_int_eq(imsgbuf_write(&w), -1);
	ck_assert_int_eq(errno, EPIPE);
	imsgbuf_clear(&w);
	close(sp[1]);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

START_TEST(test_eagain)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	char		 payload[1000];
	uint32_t	 i, n = 0;
	int		 sp[2], size = 4096;

	pair(sp);
	setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(sp[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	imsgbuf_init(&w, sp[0]);
	imsgbuf_init(&r, sp[1]);
	for (i = 0; i < 2000; i++) {
		memset(payload, 0, sizeof(payload));
		memcpy(payload, &i, sizeof(i));
		ck_assert_int_eq(imsg_compose(&w, 1, 0, 0, -1, payload,
		    sizeof(payload)), 0);
	}
	ck_assert_int_eq(imsgbuf_write(&w), 0);
	ck_assert_uint_gt(imsgbuf_queuelen(&w), 0);
	while (n < 2000) {
		ck_assert_int_eq(imsgbuf_write(&w), 0);
		ck_assert_int_eq(imsgbuf_read(&r), 1);
		while (imsgbuf_get(&r, &imsg) == 1) {
			memcpy(&i, imsg.data, sizeof(i));
			ck_assert_uint_eq(i, n);
			n++;
			imsg_free(&imsg);
		}
	}
	ck_assert_uint_eq(imsgbuf_queuelen(&w), 0);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sp[0]);
	close(sp[1]);
}
END_TEST

START_TEST(test_fd_passing)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	char		 c;
	int		 sp[2], p[2], sent, fd;

	pair(sp);
	ck_assert_int_eq(pipe(p), 0);
	imsgbuf_init(&w, sp[0]);
	imsgbuf_init(&r, sp[1]);
	imsgbuf_allow_fdpass(&r);
	sent = dup(p[1]);
	ck_assert_int_eq(imsg_compose(&w, 1, 0, 0, sent, "f", 1), 0);
	ck_assert_int_eq(imsgbuf_write(&w), 0);
	/* the sender's copy is closed once sent */
	ck_assert_int_eq(fcntl(sent, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(imsgbuf_read(&r), 1);
	ck_assert_int_eq(imsgbuf_get(&r, &imsg), 1);
	ck_assert_int_ne((fd = imsg_get_fd(&imsg)), -1);
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(write(fd, "z", 1), 1);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(c, 'z');
	close(fd);
	imsg_free(&imsg);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sp[0]);
	close(sp[1]);
	close(p[0]);
	close(p[1]);
}
END_TEST

/*
 * 200 messages with fds interleaved with 200 without: each fd arrives
 * on its own message.  Queued all at once, then written one by one.
 */
static void
many_fds(int one_by_one)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	int		 sp[2], rd[200], p[2], i, n = 0, fd, before;
	uint32_t	 idx;
	char		 c;

	before = count_fds();
	pair(sp);
	imsgbuf_init(&w, sp[0]);
	imsgbuf_init(&r, sp[1]);
	imsgbuf_allow_fdpass(&r);
	for (i = 0; i < 200; i++) {
		ck_assert_int_eq(pipe(p), 0);
		rd[i] = p[0];
		idx = (uint32_t)i;
		ck_assert_int_eq(imsg_compose(&w, 1, idx, 0, p[1], &idx,
		    sizeof(idx)), 0);
		ck_assert_int_eq(imsg_compose(&w, 2, idx, 0, -1, NULL, 0), 0);
		if (one_by_one) {
			ck_assert_int_eq(imsgbuf_write(&w), 0);
			ck_assert_int_eq(imsgbuf_read(&r), 1);
		}
	}
	while (imsgbuf_queuelen(&w) > 0)
		ck_assert_int_eq(imsgbuf_write(&w), 0);
	while (n < 400) {
		ck_assert_int_eq(imsgbuf_read(&r), 1);
		while (imsgbuf_get(&r, &imsg) == 1) {
			fd = imsg_get_fd(&imsg);
			idx = imsg_get_peerid(&imsg);
			if (imsg_get_type(&imsg) == 2)
				ck_assert_int_eq(fd, -1);
			else {
				ck_assert_int_ne(fd, -1);
				c = (char)idx;
				ck_assert_int_eq(write(fd, &c, 1), 1);
				close(fd);
				ck_assert_int_eq(read(rd[idx], &c, 1), 1);
				ck_assert_int_eq((unsigned char)c,
				    (unsigned char)idx);
			}
			imsg_free(&imsg);
			n++;
		}
	}
	for (i = 0; i < 200; i++)
		close(rd[i]);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sp[0]);
	close(sp[1]);
	ck_assert_int_eq(count_fds(), before);
}

START_TEST(test_many_fds)
{
	many_fds(0);
}
END_TEST

START_TEST(test_many_fds_consecutive)
{
	many_fds(1);
}
END_TEST

START_TEST(test_fd_without_fdpass)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	int		 sp[2], p[2], before = count_fds();

	pair(sp);
	ck_assert_int_eq(pipe(p), 0);
	imsgbuf_init(&w, sp[0]);
	imsgbuf_init(&r, sp[1]);	/* no fd passing here */
	ck_assert_int_eq(imsg_compose(&w, 1, 0, 0, p[1], "x", 1), 0);
	ck_assert_int_eq(imsgbuf_write(&w), 0);
	ck_assert_int_eq(imsgbuf_read(&r), 1);
	ck_assert_int_eq(imsgbuf_get(&r, &imsg), 1);
	ck_assert_int_eq(imsg_get_fd(&imsg), -1);
	imsg_free(&imsg);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sp[0]);
	close(sp[1]);
	close(p[0]);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

START_TEST(test_fd_leaks)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	int		 sp[2], p[2], i, before = count_fds();

	/* (a) received with fds, freed without taking them */
	pair(sp);
	imsgbuf_init(&w, sp[0]);
	imsgbuf_init(&r, sp[1]);
	imsgbuf_allow_fdpass(&r);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(pipe(p), 0);
		close(p[0]);
		ck_assert_int_eq(imsg_compose(&w, 1, 0, 0, p[1], NULL, 0), 0);
	}
	while (imsgbuf_queuelen(&w) > 0)
		ck_assert_int_eq(imsgbuf_write(&w), 0);
	for (i = 0; i < 10;) {
		ck_assert_int_eq(imsgbuf_read(&r), 1);
		while (imsgbuf_get(&r, &imsg) == 1) {
			imsg_free(&imsg);
			i++;
		}
	}
	/* (b) queued with fds and cleared unsent */
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(pipe(p), 0);
		close(p[0]);
		ck_assert_int_eq(imsg_compose(&w, 1, 0, 0, p[1], NULL, 0), 0);
	}
	imsgbuf_clear(&w);
	/* (c) fds in flight when the peer closes */
	imsgbuf_init(&w, sp[0]);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(pipe(p), 0);
		close(p[0]);
		ck_assert_int_eq(imsg_compose(&w, 1, 0, 0, p[1], "abc", 3), 0);
	}
	while (imsgbuf_queuelen(&w) > 0)
		ck_assert_int_eq(imsgbuf_write(&w), 0);
	close(sp[0]);
	ck_assert_int_eq(imsgbuf_read(&r), 1);
	imsgbuf_clear(&r);
	close(sp[1]);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

/* A hand-made sendmsg with two fds: one is kept, the other closed. */
START_TEST(test_extra_fds)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	}		 cm;
	struct imsgbuf	 r;
	struct imsg	 imsg;
	struct imsg_hdr	 hdr;
	struct msghdr	 msg;
	struct iovec	 iov;
	char		 c;
	int		 sp[2], p1[2], p2[2], fds[2], before = count_fds();

	pair(sp);
	ck_assert_int_eq(pipe(p1), 0);
	ck_assert_int_eq(pipe(p2), 0);
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = 9;
	hdr.len = IMSG_HEADER_SIZE | IMSG_FD_MARK;
	iov.iov_base = &hdr;
	iov.iov_len = sizeof(hdr);
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	CMSG_FIRSTHDR(&msg)->cmsg_len = CMSG_LEN(2 * sizeof(int));
	CMSG_FIRSTHDR(&msg)->cmsg_level = SOL_SOCKET;
	CMSG_FIRSTHDR(&msg)->cmsg_type = SCM_RIGHTS;
	fds[0] = p1[1];
	fds[1] = p2[1];
	memcpy(CMSG_DATA(CMSG_FIRSTHDR(&msg)), fds, sizeof(fds));
	ck_assert_int_eq(sendmsg(sp[0], &msg, 0), (ssize_t)sizeof(hdr));
	close(p1[1]);
	close(p2[1]);
	imsgbuf_init(&r, sp[1]);
	imsgbuf_allow_fdpass(&r);
	ck_assert_int_eq(imsgbuf_read(&r), 1);
	ck_assert_int_eq(imsgbuf_get(&r, &imsg), 1);
	ck_assert_int_ne(imsg.fd, -1);
	imsg_free(&imsg);
	imsgbuf_clear(&r);
	close(sp[0]);
	close(sp[1]);
	/* both write ends are gone: the read ends see EOF */
	ck_assert_int_eq(read(p1[0], &c, 1), 0);
	ck_assert_int_eq(read(p2[0], &c, 1), 0);
	close(p1[0]);
	close(p2[0]);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

/*
 * 10 MB of mixed messages, some with fds, written and read in turns:
 * the payloads come out byte for byte.
 */
START_TEST(test_10mb_stream)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	static unsigned char payload[16000];
	uint64_t	 sent_sum = 0, recv_sum = 0;
	size_t		 total = 0, i, n;
	uint32_t	 msgs = 0, got = 0, seed = 7, s2 = 7;
	int		 sp[2], p[2], fd, before = count_fds();

	pair(sp);
	imsgbuf_init(&w, sp[0]);
	imsgbuf_init(&r, sp[1]);
	imsgbuf_allow_fdpass(&r);
	while (total < 10 * 1024 * 1024 || got < msgs) {
		if (total < 10 * 1024 * 1024 &&
		    imsgbuf_queuelen(&w) < 1024 * 1024) {
			seed = seed * 1103515245 + 12345;
			n = seed % sizeof(payload);
			for (i = 0; i < n; i++) {
				s2 = s2 * 1103515245 + 12345;
				payload[i] = (unsigned char)(s2 >> 16);
				sent_sum = sent_sum * 31 + payload[i];
			}
			fd = -1;
			if (msgs % 50 == 0) {
				ck_assert_int_eq(pipe(p), 0);
				close(p[0]);
				fd = p[1];
			}
			ck_assert_int_eq(imsg_compose(&w, seed % 100, msgs,
			    0, fd, payload, n), 0);
			msgs++;
			total += n;
		}
		ck_assert_int_eq(imsgbuf_write(&w), 0);
		ck_assert_int_eq(imsgbuf_read(&r), 1);
		while (imsgbuf_get(&r, &imsg) == 1) {
			ck_assert_uint_eq(imsg_get_peerid(&imsg), got);
			ck_assert_int_eq(imsg.fd != -1, got % 50 == 0);
			for (i = 0; i < imsg_get_len(&imsg); i++)
				recv_sum = recv_sum * 31 +
				    ((unsigned char *)imsg.data)[i];
			imsg_free(&imsg);
			got++;
		}
	}
	ck_assert_uint_eq(got, msgs);
	ck_assert(sent_sum == recv_sum);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sp[0]);
	close(sp[1]);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

START_TEST(test_strings)
{
	struct ibuf	*b, rb;
	char		*s, small[4];

	b = ibuf_dynamic(0, 1024);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(ibuf_add_str(b, "phpeekd"), 0);
	ck_assert_int_eq(ibuf_add_u32(b, 3), 0);
	ck_assert_int_eq(ibuf_add(b, "a\0b", 3), 0);
	ck_assert_int_eq(ibuf_add_u32(b, 99), 0);
	ibuf_from_buffer(&rb, ibuf_data(b), ibuf_size(b));
	ck_assert_int_eq(ibuf_get_str(&rb, &s), 0);
	ck_assert_str_eq(s, "phpeekd");
	free(s);
	/* a NUL inside the length is refused */
	ck_assert_int_eq(ibuf_get_str(&rb, &s), -1);
	ck_assert_int_eq(errno, EBADMSG);
	ibuf_from_buffer(&rb, ibuf_data(b), ibuf_size(b));
	ck_assert_int_eq(ibuf_get_strbuf(&rb, small, sizeof(small)), -1);
	ibuf_free(b);
	/* a length past the end is refused */
	b = ibuf_dynamic(0, 1024);
	ck_assert_int_eq(ibuf_add_u32(b, 1000), 0);
	ibuf_from_buffer(&rb, ibuf_data(b), ibuf_size(b));
	ck_assert_int_eq(ibuf_get_str(&rb, &s), -1);
	ibuf_free(b);
}
END_TEST

START_TEST(test_queue_bound)
{
	struct imsgbuf	 w;
	static char	 big[MAX_IMSGSIZE];
	int		 sp[2], i, rv = 0;

	pair(sp);
	imsgbuf_init(&w, sp[0]);
	for (i = 0; i < 1000 && rv == 0; i++)
		rv = imsg_compose(&w, 1, 0, 0, -1, big,
		    sizeof(big) - IMSG_HEADER_SIZE);
	ck_assert_int_eq(rv, -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_ptr_nonnull(strstr(imsgbuf_error(&w), "not reading"));
	ck_assert_uint_le(imsgbuf_queuelen(&w), IMSG_MAX_QUEUED);
	imsgbuf_clear(&w);
	close(sp[0]);
	close(sp[1]);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("imsg");
	TCase	*tc = tcase_create("imsg");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_fragmented_bytes);
	tcase_add_test(tc, test_fragmented_random);
	tcase_add_test(tc, test_many_in_one_read);
	tcase_add_test(tc, test_maxsize);
	tcase_add_test(tc, test_bad_headers);
	tcase_add_test(tc, test_peer_close);
	tcase_add_test(tc, test_eagain);
	tcase_add_test(tc, test_fd_passing);
	tcase_add_test(tc, test_many_fds);
	tcase_add_test(tc, test_many_fds_consecutive);
	tcase_add_test(tc, test_fd_without_fdpass);
	tcase_add_test(tc, test_fd_leaks);
	tcase_add_test(tc, test_extra_fds);
	tcase_add_test(tc, test_10mb_stream);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_queue_bound);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
