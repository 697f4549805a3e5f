/*
 * Message framing and file descriptor passing between phpeekd's roles.
 *
 * Wire format: a 16 byte header in host byte order (type, length with
 * the fd mark in its top bit, peer id, pid) followed by the payload.
 * See imsg(3) on OpenBSD for the model; this is an independent
 * implementation for Linux.
 */

#ifndef PHPEEKD_IMSG_H
#define PHPEEKD_IMSG_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#define IMSG_HEADER_SIZE	sizeof(struct imsg_hdr)
#define IMSG_FD_MARK		0x80000000U
#define MAX_IMSGSIZE		16384		/* default, header included */
#define IMSG_READ_SIZE		65535
#define IMSG_MAX_QUEUED		(4 * 1024 * 1024)	/* bytes per channel */

struct ibuf {
	TAILQ_ENTRY(ibuf)	 entry;
	unsigned char		*buf;
	size_t			 size;		/* allocated */
	size_t			 max;		/* growth limit */
	size_t			 wpos;		/* bytes written into buf */
	size_t			 rpos;		/* bytes consumed */
	int			 fd;
	int			 flags;
#define IBUF_STATIC		0x01		/* not ours to free */
};

struct imsg_hdr {
	uint32_t	 type;
	uint32_t	 len;
	uint32_t	 peerid;
	uint32_t	 pid;
};

struct imsg_fdq {
	int		*fds;
	size_t		 n;
	size_t		 cap;
};

struct imsgbuf {
	TAILQ_HEAD(, ibuf)	 wq;		/* write queue */
	size_t			 wq_len;	/* bytes queued */
	TAILQ_HEAD(, ibuf)	 rq;		/* complete messages */
	struct ibuf		*rpart;		/* message being received */
	unsigned char		 rbuf[IMSG_READ_SIZE];
	size_t			 rbuf_len;
	struct imsg_fdq		 rfds;		/* received, not yet attached */
	size_t			 maxsize;
	pid_t			 pid;
	int			 fd;
	int			 fdpass;
	char			 err[128];	/* why the last call failed */
};

struct imsg {
	struct imsg_hdr	 hdr;
	void		*data;		/* NULL for an empty payload */
	struct ibuf	*buf;
	int		 fd;
};

/* buffers */
struct ibuf	*ibuf_open(size_t);
struct ibuf	*ibuf_dynamic(size_t, size_t);
int		 ibuf_add(struct ibuf *, const void *, size_t);
int		 ibuf_add_u8(struct ibuf *, uint8_t);
int		 ibuf_add_u32(struct ibuf *, uint32_t);
int		 ibuf_add_u64(struct ibuf *, uint64_t);
int		 ibuf_add_i64(struct ibuf *, int64_t);
int		 ibuf_add_str(struct ibuf *, const char *);
void		*ibuf_reserve(struct ibuf *, size_t);
size_t		 ibuf_size(const struct ibuf *);
size_t		 ibuf_left(const struct ibuf *);
void		*ibuf_data(const struct ibuf *);
void		 ibuf_from_buffer(struct ibuf *, void *, size_t);
int		 ibuf_get(struct ibuf *, void *, size_t);
int		 ibuf_get_u8(struct ibuf *, uint8_t *);
int		 ibuf_get_u32(struct ibuf *, uint32_t *);
int		 ibuf_get_u64(struct ibuf *, uint64_t *);
int		 ibuf_get_i64(struct ibuf *, int64_t *);
int		 ibuf_get_str(struct ibuf *, char **);
int		 ibuf_get_strbuf(struct ibuf *, char *, size_t);
void		 ibuf_fd_set(struct ibuf *, int);
void		 ibuf_free(struct ibuf *);

/* channels */
void		 imsgbuf_init(struct imsgbuf *, int);
void		 imsgbuf_allow_fdpass(struct imsgbuf *);
int		 imsgbuf_set_maxsize(struct imsgbuf *, size_t);
int		 imsgbuf_read(struct imsgbuf *);
int		 imsgbuf_write(struct imsgbuf *);
int		 imsgbuf_flush(struct imsgbuf *);
int		 imsgbuf_get(struct imsgbuf *, struct imsg *);
size_t		 imsgbuf_queuelen(const struct imsgbuf *);
void		 imsgbuf_clear(struct imsgbuf *);

/* messages */
int		 imsg_compose(struct imsgbuf *, uint32_t, uint32_t, pid_t,
		    int, const void *, size_t);
struct ibuf	*imsg_create(struct imsgbuf *, uint32_t, uint32_t, pid_t,
		    size_t);
int		 imsg_close(struct imsgbuf *, struct ibuf *);
void		 imsg_abort(struct ibuf *);
uint32_t	 imsg_get_type(const struct imsg *);
uint32_t	 imsg_get_peerid(const struct imsg *);
pid_t		 imsg_get_pid(const struct imsg *);
size_t		 imsg_get_len(const struct imsg *);
int		 imsg_get_data(const struct imsg *, void *, size_t);
int		 imsg_get_ibuf(const struct imsg *, struct ibuf *);
int		 imsg_get_fd(struct imsg *);
void		 imsg_free(struct imsg *);
const char	*imsgbuf_error(const struct imsgbuf *);

#endif /* PHPEEKD_IMSG_H */
