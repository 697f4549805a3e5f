/*
 * libFuzzer target: arbitrary bytes as a FastCGI reply, fed whole and
 * in pieces whose sizes come from the input, as the status page's JSON,
 * and as a stream of name-value pairs.  The parsers must finish or fail
 * with a message, never read out of bounds, never keep more than their
 * caps, and a reply must come out the same however it is cut.
 *
 * The first byte picks what the rest is: its top two bits the mode
 * (0 reply, 1 reply with a 64-byte cap, 2 status JSON, 3 pairs), the
 * other six the seed of the piece sizes.
 */

#include <sys/types.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "phpeekd.h"


int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct fpm_status	status;

static void
check_status(const char *json, size_t len)
{
	char	err[FCGI_ERR_MAX];
	size_t	i, n = 0;

	err[0] = '\0';
	if (fpm_status_parse(json, len, &status, err, sizeof(err)) == -1) {
		if (err[0] == '\0')
			abort();
		return;
	}
	if (status.fs_nprocs > FPM_PROCS_MAX || status.fs_pool[0] == '\0' ||
	    strlen(status.fs_pool) >= sizeof(status.fs_pool))
		abort();
	for (i = 0; i < FPM_STATE_MAX; i++)
		n += status.fs_states[i];
	if (n != status.fs_nprocs + status.fs_procs_more)
		abort();
	for (i = 0; i < status.fs_nprocs; i++)
		if (status.fs_procs[i].ps_pid <= 0 ||
		    strlen(status.fs_procs[i].ps_uri) >=
		    sizeof(status.fs_procs[i].ps_uri) ||
		    fpm_state_parse(status.fs_procs[i].ps_state_name) !=
		    status.fs_procs[i].ps_state ||
		    !isfinite(status.fs_procs[i].ps_cpu) ||
		    status.fs_procs[i].ps_cpu < 0)
			abort();
}

static void
check_bounds(const struct fcgi_parser *p, int rv)
{
	const struct fcgi_response	*r = &p->fp_resp;
	const char			*s;

	if (p->fp_stdout.fb_len > p->fp_max ||
	    p->fp_stdout.fb_cap > p->fp_max ||
	    p->fp_stderr.fb_len > FCGI_STDERR_MAX ||
	    p->fp_stderr.fb_cap > FCGI_STDERR_MAX)
		abort();
	if (rv == -1 && p->fp_err[0] == '\0')
		abort();
	if (rv != 1)
		return;
	s = (const char *)p->fp_stdout.fb_data;
	if (r->fr_status < 100 || r->fr_status > 999 ||
	    r->fr_nheaders > FCGI_NHEADERS || r->fr_body < s ||
	    r->fr_body + r->fr_bodylen != s + p->fp_stdout.fb_len)
		abort();
}

/* Whole, then in pieces: the same outcome, byte for byte. */
static void
check_reply(uint8_t ctl, const uint8_t *data, size_t len, size_t max)
{
	struct fcgi_parser	 whole, cut;
	uint32_t		 seed = 0x2545f491U ^ ctl;
	size_t			 off = 0, n, span = 1 + (ctl & 0x3f) * 4;
	int			 a, b = 0;

	fcgi_parser_init(&whole, 1, max);
	if ((a = fcgi_feed(&whole, data, len)) == 0)
		a = fcgi_eof(&whole);
	check_bounds(&whole, a);

	fcgi_parser_init(&cut, 1, max);
	while (off < len && b == 0) {
		seed = seed * 1103515245U + 12345U;
		n = 1 + (seed >> 16) % span;
		if (n > len - off)
			n = len - off;
		b = fcgi_feed(&cut, data + off, n);
		off += n;
	}
	if (b == 0)
		b = fcgi_eof(&cut);
	check_bounds(&cut, b);

	if (a != b || strcmp(whole.fp_err, cut.fp_err) != 0)
		abort();
	if (a == 1) {
		if (whole.fp_resp.fr_status != cut.fp_resp.fr_status ||
		    whole.fp_resp.fr_bodylen != cut.fp_resp.fr_bodylen ||
		    memcmp(whole.fp_resp.fr_body, cut.fp_resp.fr_body,
		    cut.fp_resp.fr_bodylen) != 0 ||
		    whole.fp_stderr.fb_len != cut.fp_stderr.fb_len ||
		    whole.fp_stderr_lost != cut.fp_stderr_lost)
			abort();
		(void)fcgi_header(&cut.fp_resp, "Content-Type");
		(void)fpm_ping_ok(cut.fp_resp.fr_body, cut.fp_resp.fr_bodylen);
		check_status(cut.fp_resp.fr_body, cut.fp_resp.fr_bodylen);
	}
	fcgi_parser_free(&whole);
	fcgi_parser_free(&cut);
}

/* Decode, and where the pairs are C strings, encode them back. */
static void
check_pairs(const uint8_t *data, size_t len)
{
	struct fcgi_buf	 b = { NULL, 0, 0 };
	struct fcgi_nv	 nv;
	char		*name, *value;
	size_t		 off = 0, prev = 0, start = 0;
	int		 rv;

	while ((rv = fcgi_nv_next(data, len, &off, &nv)) == 1) {
		if (off <= prev || off > len ||
		    nv.nv_name < data || nv.nv_value + nv.nv_valuelen >
		    data + len)
			abort();
		if (memchr(nv.nv_name, '\0', nv.nv_namelen) == NULL &&
		    memchr(nv.nv_value, '\0', nv.nv_valuelen) == NULL) {
			name = strndup((const char *)nv.nv_name,
			    nv.nv_namelen);
			value = strndup((const char *)nv.nv_value,
			    nv.nv_valuelen);
			if (name == NULL || value == NULL ||
			    fcgi_nv_add(&b, name, value) == -1)
				abort();
			free(name);
			free(value);
			/* the shortest form is at most as long */
			if (b.fb_len - start > off - prev)
				abort();
			start = b.fb_len;
		}
		prev = off;
	}
	if (rv == 0 && off != len)
		abort();
	fcgi_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t	ctl;

	if (len < 1)
		return (0);
	ctl = data[0];
	data++;
	len--;
	switch (ctl >> 6) {
	case 0:
		check_reply(ctl, data, len, FCGI_STATUS_MAX);
		break;
	case 1:
		check_reply(ctl, data, len, 64);
		break;
	case 2:
		check_status((const char *)data, len);
		break;
	default:
		check_pairs(data, len);
		break;
	}
	return (0);
}
