/*
 * The client side of FastCGI 1.0 as php-fpm speaks it, and its status
 * and ping pages.  Nothing here touches a socket: a request is built
 * into a buffer, and the reply is fed to a parser in whatever pieces
 * the reads return, so the engine loop can drive both.  Every length
 * that arrives from the server is checked before it is used.
 */

#include <sys/types.h>

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "phpeekd.h"

#define FPM_JSON_DEPTH	8	/* the page nests three deep */

static int	fcgi_buf_grow(struct fcgi_buf *, size_t, size_t);
static int	fcgi_fail(struct fcgi_parser *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));

/* Room for n more bytes without ever holding more than limit. */
static int
fcgi_buf_grow(struct fcgi_buf *b, size_t n, size_t limit)
{
	uint8_t	*p;
	size_t	 need, cap;

	if (n > limit || b->fb_len > limit - n)
		return (-1);
	need = b->fb_len + n;
	if (need <= b->fb_cap)
		return (0);
	cap = b->fb_cap == 0 ? 256 : b->fb_cap;
	while (cap < need)
		cap = cap > limit / 2 ? limit : cap * 2;
	if (cap > limit)
		cap = limit;
	if ((p = realloc(b->fb_data, cap)) == NULL)
		return (-1);
	b->fb_data = p;
	b->fb_cap = cap;
	return (0);
}

int
fcgi_buf_add(struct fcgi_buf *b, const void *data, size_t len)
{
	if (len == 0)
		return (0);
	if (fcgi_buf_grow(b, len, SIZE_MAX) == -1)
		return (-1);
	memcpy(b->fb_data + b->fb_len, data, len);
	b->fb_len += len;
	return (0);
}

void
fcgi_buf_free(struct fcgi_buf *b)
{
	free(b->fb_data);
	b->fb_data = NULL;
	b->fb_len = b->fb_cap = 0;
}

void
fcgi_rec_decode(const uint8_t h[FCGI_HEADER_LEN], struct fcgi_rec *r)
{
	r->rc_version = h[0];
	r->rc_type = h[1];
	r->rc_id = (uint16_t)(h[2] << 8 | h[3]);
	r->rc_clen = (uint16_t)(h[4] << 8 | h[5]);
	r->rc_plen = h[6];
}

/* One record, padded to a multiple of 8 as the specification advises. */
int
fcgi_record(struct fcgi_buf *b, uint8_t type, uint16_t id, const void *data,
    size_t len)
{
	uint8_t	*p;
	size_t	 pad;

	if (len > FCGI_CONTENT_MAX)
		return (-1);
	pad = (8 - len % 8) % 8;
	if (fcgi_buf_grow(b, FCGI_HEADER_LEN + len + pad, SIZE_MAX) == -1)
		return (-1);
	p = b->fb_data + b->fb_len;
	p[0] = FCGI_VERSION_1;
	p[1] = type;
	p[2] = id >> 8;
	p[3] = id & 0xff;
	p[4] = (uint8_t)(len >> 8);
	p[5] = len & 0xff;
	p[6] = (uint8_t)pad;
	p[7] = 0;
	if (len > 0)
		memcpy(p + FCGI_HEADER_LEN, data, len);
	memset(p + FCGI_HEADER_LEN + len, 0, pad);
	b->fb_len += FCGI_HEADER_LEN + len + pad;
	return (0);
}

/* A pair's length, always in the shortest form; 0 if it cannot be. */
size_t
fcgi_nv_len(uint8_t out[4], size_t len)
{
	if (len <= 127) {
		out[0] = (uint8_t)len;
		return (1);
	}
	if (len > FCGI_NV_MAX)
		return (0);
	out[0] = (uint8_t)(len >> 24) | 0x80;
	out[1] = (len >> 16) & 0xff;
	out[2] = (len >> 8) & 0xff;
	out[3] = len & 0xff;
	return (4);
}

int
fcgi_nv_add(struct fcgi_buf *b, const char *name, const char *value)
{
	uint8_t	 nl[4], vl[4];
	size_t	 nlen = strlen(name), vlen = strlen(value), nn, vn;
	size_t	 old = b->fb_len;

	if ((nn = fcgi_nv_len(nl, nlen)) == 0 ||
	    (vn = fcgi_nv_len(vl, vlen)) == 0)
		return (-1);
	if (fcgi_buf_add(b, nl, nn) == -1 || fcgi_buf_add(b, vl, vn) == -1 ||
	    fcgi_buf_add(b, name, nlen) == -1 ||
	    fcgi_buf_add(b, value, vlen) == -1) {
		b->fb_len = old;
		return (-1);
	}
	return (0);
}

static int
fcgi_nv_getlen(const uint8_t *p, size_t len, size_t *off, size_t *out)
{
	size_t	o = *off;

	if (o >= len)
		return (-1);
	if ((p[o] & 0x80) == 0) {
		*out = p[o];
		*off = o + 1;
		return (0);
	}
	/* the long form is legal even for a length that fits in 7 bits */
	if (len - o < 4)
		return (-1);
	*out = (size_t)(p[o] & 0x7f) << 24 | (size_t)p[o + 1] << 16 |
	    (size_t)p[o + 2] << 8 | p[o + 3];
	*off = o + 4;
	return (0);
}

/*
 * The pair at *off in a whole (concatenated) stream: 1 and *off moved
 * past it, 0 at the end, -1 if it is cut short.  The declared lengths
 * are checked against what is there; nothing is allocated from them.
 */
int
fcgi_nv_next(const uint8_t *p, size_t len, size_t *off, struct fcgi_nv *nv)
{
	size_t	o = *off, nlen, vlen;

	if (o == len)
		return (0);
	if (o > len || fcgi_nv_getlen(p, len, &o, &nlen) == -1 ||
	    fcgi_nv_getlen(p, len, &o, &vlen) == -1)
		return (-1);
	if (nlen > len - o || vlen > len - o - nlen)
		return (-1);
	nv->nv_name = p + o;
	nv->nv_namelen = nlen;
	nv->nv_value = p + o + nlen;
	nv->nv_valuelen = vlen;
	*off = o + nlen + vlen;
	return (1);
}

/*
 * BEGIN_REQUEST, the pairs (name, value, name, value...) in as many
 * PARAMS records as they need, and the empty PARAMS and STDIN that end
 * both streams.  Appended to out; on failure out is as it was.
 */
int
fcgi_request_pairs(struct fcgi_buf *out, uint16_t id,
    const char *const *pairs, size_t npairs)
{
	/* role RESPONDER, flags 0: php-fpm closes after END_REQUEST */
	static const uint8_t	 begin[8] = { 0, FCGI_RESPONDER, 0 };
	struct fcgi_buf		 params = { NULL, 0, 0 };
	size_t			 old = out->fb_len, i, off, n;
	int			 rv = -1;

	if (id == 0)		/* reserved for management records */
		return (-1);
	for (i = 0; i < npairs; i++)
		if (pairs[2 * i] == NULL || pairs[2 * i + 1] == NULL ||
		    fcgi_nv_add(&params, pairs[2 * i], pairs[2 * i + 1]) == -1)
			goto done;
	if (fcgi_record(out, FCGI_BEGIN_REQUEST, id, begin,
	    sizeof(begin)) == -1)
		goto done;
	/* a pair may straddle two records; the server joins the stream */
	for (off = 0; off < params.fb_len; off += n) {
		n = params.fb_len - off;
		if (n > FCGI_CONTENT_MAX)
			n = FCGI_CONTENT_MAX;
		if (fcgi_record(out, FCGI_PARAMS, id, params.fb_data + off,
		    n) == -1)
			goto done;
	}
	if (fcgi_record(out, FCGI_PARAMS, id, NULL, 0) == -1 ||
	    fcgi_record(out, FCGI_STDIN, id, NULL, 0) == -1)
		goto done;
	rv = 0;
 done:
	if (rv == -1)
		out->fb_len = old;
	fcgi_buf_free(&params);
	return (rv);
}

/*
 * A GET of a pool's status or ping page.  php-fpm matches the page by
 * SCRIPT_NAME, so it and SCRIPT_FILENAME are both the page's path; a
 * NULL or empty query sends an empty QUERY_STRING.
 */
int
fcgi_request(struct fcgi_buf *out, uint16_t id, const char *script,
    const char *query)
{
	char	*uri;
	int	 rv;

	if (script == NULL || script[0] != '/')
		return (-1);
	if (query == NULL)
		query = "";
	if (asprintf(&uri, "%s%s%s", script, query[0] != '\0' ? "?" : "",
	    query) == -1)
		return (-1);
	{
		const char *const pairs[] = {
			"SCRIPT_FILENAME", script,
			"SCRIPT_NAME", script,
			"QUERY_STRING", query,
			"REQUEST_METHOD", "GET",
			"REQUEST_URI", uri,
			"SERVER_SOFTWARE", "phpeekd",
			"REMOTE_ADDR", "127.0.0.1",
			"CONTENT_LENGTH", "0",
			"SERVER_PROTOCOL", "HTTP/1.1",
			"GATEWAY_INTERFACE", "CGI/1.1",
		};

		rv = fcgi_request_pairs(out, id, pairs,
		    sizeof(pairs) / sizeof(pairs[0]) / 2);
	}
	free(uri);
	return (rv);
}

/*
 * max caps the STDOUT bytes kept (FCGI_STATUS_MAX, FCGI_OPCACHE_MAX):
 * a reply that would pass it is an error before its content is read.
 */
void
fcgi_parser_init(struct fcgi_parser *p, uint16_t id, size_t max)
{
	memset(p, 0, sizeof(*p));
	p->fp_state = FCGI_PS_HEADER;
	p->fp_id = id;
	p->fp_max = max;
}

void
fcgi_parser_free(struct fcgi_parser *p)
{
	fcgi_buf_free(&p->fp_stdout);
	fcgi_buf_free(&p->fp_stderr);
}

static int
fcgi_fail(struct fcgi_parser *p, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(p->fp_err, sizeof(p->fp_err), fmt, ap);
	va_end(ap);
	p->fp_state = FCGI_PS_ERROR;
	return (-1);
}

/* A header is complete: check it before any of its content is taken. */
static int
fcgi_begin_record(struct fcgi_parser *p)
{
	struct fcgi_rec	*r = &p->fp_rec;
	int		 mgmt;

	fcgi_rec_decode(p->fp_hdr, r);
	p->fp_hlen = 0;
	if (r->rc_version != FCGI_VERSION_1)
		return (fcgi_fail(p, "protocol error: version %u",
		    r->rc_version));
	/* skipping it would be legal, but php-fpm never sends one */
	if (r->rc_type == 0 || r->rc_type > FCGI_UNKNOWN_TYPE)
		return (fcgi_fail(p, "protocol error: unknown record type %u",
		    r->rc_type));
	mgmt = r->rc_type == FCGI_GET_VALUES_RESULT ||
	    r->rc_type == FCGI_UNKNOWN_TYPE;
	if (r->rc_id != p->fp_id && !(mgmt && r->rc_id == 0))
		return (fcgi_fail(p, "protocol error: request id %u, "
		    "expected %u", r->rc_id, p->fp_id));
	switch (r->rc_type) {
	case FCGI_STDOUT:
		if (p->fp_stdout_end && r->rc_clen > 0)
			return (fcgi_fail(p, "protocol error: STDOUT after "
			    "the end of the stream"));
		if (r->rc_clen > p->fp_max - p->fp_stdout.fb_len)
			return (fcgi_fail(p, "response too large (over %zu "
			    "bytes)", p->fp_max));
		if (r->rc_clen == 0)
			p->fp_stdout_end = 1;
		break;
	case FCGI_STDERR:
	case FCGI_GET_VALUES_RESULT:	/* never asked for: skipped */
		break;
	case FCGI_END_REQUEST:
	case FCGI_UNKNOWN_TYPE:
		if (r->rc_clen < sizeof(p->fp_body))
			return (fcgi_fail(p, "protocol error: %s of %u bytes",
			    r->rc_type == FCGI_END_REQUEST ? "END_REQUEST" :
			    "UNKNOWN_TYPE", r->rc_clen));
		p->fp_blen = 0;
		break;
	default:
		return (fcgi_fail(p, "protocol error: unexpected record "
		    "type %u", r->rc_type));
	}
	p->fp_left = r->rc_clen;
	p->fp_state = FCGI_PS_CONTENT;
	return (0);
}

static int
fcgi_content(struct fcgi_parser *p, const uint8_t *d, size_t n)
{
	struct fcgi_buf	*e = &p->fp_stderr;
	size_t		 keep;

	switch (p->fp_rec.rc_type) {
	case FCGI_STDOUT:
		if (fcgi_buf_grow(&p->fp_stdout, n, p->fp_max) == -1)
			return (fcgi_fail(p, "out of memory"));
		memcpy(p->fp_stdout.fb_data + p->fp_stdout.fb_len, d, n);
		p->fp_stdout.fb_len += n;
		break;
	case FCGI_STDERR:
		/* a separate stream: mixed into STDOUT it would break JSON */
		keep = FCGI_STDERR_MAX - e->fb_len;
		if (keep > n)
			keep = n;
		if (keep > 0 && fcgi_buf_grow(e, keep, FCGI_STDERR_MAX) == 0) {
			memcpy(e->fb_data + e->fb_len, d, keep);
			e->fb_len += keep;
		} else
			keep = 0;
		p->fp_stderr_lost += n - keep;
		break;
	case FCGI_END_REQUEST:
	case FCGI_UNKNOWN_TYPE:
		/* bytes past the eighth are ignored */
		keep = sizeof(p->fp_body) - p->fp_blen;
		if (keep > n)
			keep = n;
		memcpy(p->fp_body + p->fp_blen, d, keep);
		p->fp_blen += keep;
		break;
	}
	return (0);
}

static int
fcgi_content_done(struct fcgi_parser *p)
{
	const uint8_t	*b = p->fp_body;

	p->fp_state = FCGI_PS_PADDING;
	p->fp_left = p->fp_rec.rc_plen;
	switch (p->fp_rec.rc_type) {
	case FCGI_UNKNOWN_TYPE:
		return (fcgi_fail(p, "unknown type %u rejected by the server",
		    b[0]));
	case FCGI_END_REQUEST:
		p->fp_app_status = (uint32_t)b[0] << 24 |
		    (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		p->fp_proto_status = b[4];
		switch (b[4]) {
		case 0:
			break;
		case 1:
			return (fcgi_fail(p, "request refused: cannot "
			    "multiplex (CANT_MPX_CONN)"));
		case 2:
			return (fcgi_fail(p, "request refused: pool "
			    "overloaded (OVERLOADED)"));
		case 3:
			return (fcgi_fail(p, "request refused: unknown role "
			    "(UNKNOWN_ROLE)"));
		default:
			return (fcgi_fail(p, "request refused: protocol "
			    "status %u", b[4]));
		}
		break;
	}
	return (0);
}

/* Padding read too.  Only END_REQUEST for our id completes a reply. */
static int
fcgi_record_done(struct fcgi_parser *p)
{
	if (p->fp_rec.rc_type != FCGI_END_REQUEST) {
		p->fp_state = FCGI_PS_HEADER;
		return (0);
	}
	if (fcgi_cgi_parse(p->fp_stdout.fb_data, p->fp_stdout.fb_len,
	    &p->fp_resp, p->fp_err, sizeof(p->fp_err)) == -1) {
		p->fp_state = FCGI_PS_ERROR;
		return (-1);
	}
	p->fp_state = FCGI_PS_DONE;
	return (0);
}

/*
 * 0: more is needed; 1: END_REQUEST arrived and fp_resp holds the
 * reply; -1: fp_err says why.  Bytes after END_REQUEST are ignored,
 * and a parser that finished or failed stays that way.
 */
int
fcgi_feed(struct fcgi_parser *p, const void *data, size_t len)
{
	const uint8_t	*d = data;
	size_t		 n;

	for (;;) {
		switch (p->fp_state) {
		case FCGI_PS_DONE:
			return (1);
		case FCGI_PS_ERROR:
			return (-1);
		case FCGI_PS_HEADER:
			if (len == 0)
				return (0);
			n = FCGI_HEADER_LEN - p->fp_hlen;
			if (n > len)
				n = len;
			memcpy(p->fp_hdr + p->fp_hlen, d, n);
			p->fp_hlen += n;
			d += n;
			len -= n;
			if (p->fp_hlen == FCGI_HEADER_LEN)
				(void)fcgi_begin_record(p);
			break;
		case FCGI_PS_CONTENT:
		case FCGI_PS_PADDING:
			if (p->fp_left > 0) {
				if (len == 0)
					return (0);
				n = p->fp_left < len ? p->fp_left : len;
				if (p->fp_state == FCGI_PS_CONTENT &&
				    fcgi_content(p, d, n) == -1)
					break;
				d += n;
				len -= n;
				p->fp_left -= n;
			}
			if (p->fp_left > 0)
				break;
			if (p->fp_state == FCGI_PS_CONTENT)
				(void)fcgi_content_done(p);
			else
				(void)fcgi_record_done(p);
			break;
		}
	}
}

/* The server closed the connection: anything short of END_REQUEST. */
int
fcgi_eof(struct fcgi_parser *p)
{
	switch (p->fp_state) {
	case FCGI_PS_DONE:
		return (1);
	case FCGI_PS_ERROR:
		return (-1);
	case FCGI_PS_HEADER:
		if (p->fp_hlen > 0)
			return (fcgi_fail(p, "truncated header"));
		return (fcgi_fail(p, "no END_REQUEST"));
	default:
		return (fcgi_fail(p, "truncated record"));
	}
}

static int
fcgi_cgi_fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "malformed CGI response: %s", why);
	return (-1);
}

static int
fcgi_cgi_status(struct fcgi_response *r, const char *v, char *err,
    size_t errlen)
{
	if (r->fr_status != 0)
		return (fcgi_cgi_fail(err, errlen, "Status given twice"));
	if (v[0] < '1' || v[0] > '9' || !isdigit((unsigned char)v[1]) ||
	    !isdigit((unsigned char)v[2]) ||
	    (v[3] != '\0' && v[3] != ' ' && v[3] != '\t'))
		return (fcgi_cgi_fail(err, errlen, "Status is not a 3-digit "
		    "code"));
	r->fr_status = (v[0] - '0') * 100 + (v[1] - '0') * 10 + v[2] - '0';
	for (v += 3; *v == ' ' || *v == '\t'; v++)
		;
	strlcpy(r->fr_reason, v, sizeof(r->fr_reason));
	return (0);
}

/* "Name: value" without its line end; stored, NUL terminated. */
static int
fcgi_cgi_line(struct fcgi_response *r, const char *s, size_t len,
    size_t *used, char *err, size_t errlen)
{
	const char	*colon, *v;
	size_t		 nlen, vlen, i;
	char		*h;

	if ((colon = memchr(s, ':', len)) == NULL || colon == s)
		return (fcgi_cgi_fail(err, errlen, "header line without a "
		    "name"));
	nlen = (size_t)(colon - s);
	for (i = 0; i < nlen; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return (fcgi_cgi_fail(err, errlen, "bad header "
			    "name"));
	v = colon + 1;
	vlen = len - nlen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	for (i = 0; i < vlen; i++)
		if (((unsigned char)v[i] < ' ' && v[i] != '\t') ||
		    v[i] == 0x7f)
			return (fcgi_cgi_fail(err, errlen, "control character "
			    "in a header"));
	if (r->fr_nheaders == FCGI_NHEADERS)
		return (fcgi_cgi_fail(err, errlen, "too many headers"));
	/* name, colon, value and newline took at least this much */
	if (nlen + vlen + 2 > sizeof(r->fr_hbuf) - *used)
		return (fcgi_cgi_fail(err, errlen, "header block too large"));
	h = r->fr_hbuf + *used;
	memcpy(h, s, nlen);
	h[nlen] = '\0';
	memcpy(h + nlen + 1, v, vlen);
	h[nlen + 1 + vlen] = '\0';
	r->fr_headers[r->fr_nheaders].fh_name = (uint16_t)*used;
	r->fr_headers[r->fr_nheaders].fh_value = (uint16_t)(*used + nlen + 1);
	r->fr_nheaders++;
	*used += nlen + vlen + 2;
	if (strcasecmp(h, "Status") == 0)
		return (fcgi_cgi_status(r, h + nlen + 1, err, errlen));
	return (0);
}

/*
 * STDOUT as CGI: header lines ending in CRLF or a bare LF, an empty
 * line, then the body.  php sends no Status for a 200.  fr_body points
 * into data.
 */
int
fcgi_cgi_parse(const void *data, size_t len, struct fcgi_response *r,
    char *err, size_t errlen)
{
	const char	*s = data, *nl;
	size_t		 lim, pos = 0, eol, llen, used = 0;

	memset(r, 0, sizeof(*r));
	if (len == 0)
		return (fcgi_cgi_fail(err, errlen, "no headers"));
	/* a block of FCGI_HEADER_MAX, then at most "\r\n" */
	lim = len < FCGI_HEADER_MAX + 2 ? len : FCGI_HEADER_MAX + 2;
	for (;;) {
		if ((nl = memchr(s + pos, '\n', lim - pos)) == NULL) {
			if (lim < len)
				return (fcgi_cgi_fail(err, errlen, "header "
				    "block too large"));
			return (fcgi_cgi_fail(err, errlen, "no blank line "
			    "after the headers"));
		}
		eol = (size_t)(nl - s);
		llen = eol - pos;
		if (llen > 0 && s[eol - 1] == '\r')
			llen--;
		if (llen == 0)
			break;
		if (eol + 1 > FCGI_HEADER_MAX)
			return (fcgi_cgi_fail(err, errlen, "header block too "
			    "large"));
		if (fcgi_cgi_line(r, s + pos, llen, &used, err, errlen) == -1)
			return (-1);
		pos = eol + 1;
	}
	if (r->fr_status == 0) {
		r->fr_status = 200;
		strlcpy(r->fr_reason, "OK", sizeof(r->fr_reason));
	}
	r->fr_body = s + eol + 1;
	r->fr_bodylen = len - eol - 1;
	return (0);
}

/* The first header of that name, case-insensitively, or NULL. */
const char *
fcgi_header(const struct fcgi_response *r, const char *name)
{
	size_t	i;

	for (i = 0; i < r->fr_nheaders && i < FCGI_NHEADERS; i++)
		if (strcasecmp(r->fr_hbuf + r->fr_headers[i].fh_name,
		    name) == 0)
			return (r->fr_hbuf + r->fr_headers[i].fh_value);
	return (NULL);
}

/* php-fpm's status page in JSON, field by field. */
enum fpm_ftype {
	FT_STR,
	FT_INT,			/* int64_t */
	FT_UINT,		/* uint64_t, negative refused */
	FT_NUM			/* double, from an integer too */
};

struct fpm_field {
	const char	*fd_key;
	enum fpm_ftype	 fd_type;
	size_t		 fd_off;
	size_t		 fd_size;
	int		 fd_flags;
#define FD_OPTIONAL	0x01	/* absent is fine */
#define FD_CUT		0x02	/* FT_STR: cut to fit, not refused */
};

#define FPM_FIELD(st, key, type, m, flags)				\
	{ key, type, offsetof(struct st, m),				\
	    sizeof(((struct st *)NULL)->m), flags }

static const struct fpm_field fpm_pool_fields[] = {
	FPM_FIELD(fpm_status, "pool", FT_STR, fs_pool, 0),
	FPM_FIELD(fpm_status, "process manager", FT_STR, fs_pm_name, 0),
	FPM_FIELD(fpm_status, "start time", FT_INT, fs_start_time, 0),
	FPM_FIELD(fpm_status, "start since", FT_INT, fs_start_since, 0),
	FPM_FIELD(fpm_status, "accepted conn", FT_UINT, fs_accepted_conn, 0),
	FPM_FIELD(fpm_status, "listen queue", FT_UINT, fs_listen_queue, 0),
	FPM_FIELD(fpm_status, "max listen queue", FT_UINT,
	    fs_max_listen_queue, 0),
	FPM_FIELD(fpm_status, "listen queue len", FT_INT,
	    fs_listen_queue_len, 0),
	FPM_FIELD(fpm_status, "idle processes", FT_INT, fs_idle, 0),
	FPM_FIELD(fpm_status, "active processes", FT_INT, fs_active, 0),
	FPM_FIELD(fpm_status, "total processes", FT_INT, fs_total, 0),
	FPM_FIELD(fpm_status, "max active processes", FT_INT,
	    fs_max_active, 0),
	FPM_FIELD(fpm_status, "max children reached", FT_UINT,
	    fs_max_children_reached, 0),
	FPM_FIELD(fpm_status, "slow requests", FT_UINT, fs_slow_requests, 0),
	/* PHP 8.4 and later */
	FPM_FIELD(fpm_status, "memory peak", FT_UINT, fs_memory_peak,
	    FD_OPTIONAL),
};

/* The strings are informational: cut, never a reason to skip. */
static const struct fpm_field fpm_proc_fields[] = {
	FPM_FIELD(fpm_proc, "pid", FT_INT, ps_pid, 0),
	FPM_FIELD(fpm_proc, "state", FT_STR, ps_state_name, FD_CUT),
	FPM_FIELD(fpm_proc, "start time", FT_INT, ps_start_time, 0),
	FPM_FIELD(fpm_proc, "start since", FT_INT, ps_start_since, 0),
	FPM_FIELD(fpm_proc, "requests", FT_UINT, ps_requests, 0),
	FPM_FIELD(fpm_proc, "request duration", FT_UINT, ps_duration, 0),
	FPM_FIELD(fpm_proc, "request method", FT_STR, ps_method, FD_CUT),
	FPM_FIELD(fpm_proc, "request uri", FT_STR, ps_uri, FD_CUT),
	FPM_FIELD(fpm_proc, "content length", FT_UINT, ps_content_length, 0),
	FPM_FIELD(fpm_proc, "user", FT_STR, ps_user, FD_CUT),
	FPM_FIELD(fpm_proc, "script", FT_STR, ps_script, FD_CUT),
	FPM_FIELD(fpm_proc, "last request cpu", FT_NUM, ps_cpu, 0),
	FPM_FIELD(fpm_proc, "last request memory", FT_UINT, ps_memory, 0),
};

static const char *const fpm_states[FPM_STATE_MAX] = {
	"unknown", "Idle", "Reading headers", "Getting request information",
	"Running", "Finishing", "Ending"
};

/* Unknown states are kept as busy: only Idle is idle. */
enum fpm_state
fpm_state_parse(const char *s)
{
	int	i;

	for (i = FPM_STATE_IDLE; i < FPM_STATE_MAX; i++)
		if (strcasecmp(s, fpm_states[i]) == 0)
			return ((enum fpm_state)i);
	return (FPM_STATE_UNKNOWN);
}

const char *
fpm_state_name(enum fpm_state st)
{
	if ((unsigned int)st >= FPM_STATE_MAX)
		return (fpm_states[FPM_STATE_UNKNOWN]);
	return (fpm_states[st]);
}

int
fpm_state_busy(enum fpm_state st)
{
	return (st != FPM_STATE_IDLE);
}

static int
fpm_str(struct json_object *v, const struct fpm_field *fd, char *dst,
    char *err, size_t errlen)
{
	const char	*s;
	size_t		 n;

	if (!json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "field \"%s\": not a string",
		    fd->fd_key);
		return (-1);
	}
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (!(fd->fd_flags & FD_CUT) && (n == 0 || n >= fd->fd_size ||
	    memchr(s, '\0', n) != NULL)) {
		snprintf(err, errlen, "field \"%s\": empty, longer than %zu "
		    "bytes or holding a NUL", fd->fd_key, fd->fd_size - 1);
		return (-1);
	}
	if (n >= fd->fd_size)
		n = fd->fd_size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return (0);
}

static int
fpm_num(struct json_object *v, const struct fpm_field *fd, char *dst,
    char *err, size_t errlen)
{
	int64_t		i;
	uint64_t	u;
	double		d;

	if (fd->fd_type == FT_NUM) {
		if (!json_object_is_type(v, json_type_double) &&
		    !json_object_is_type(v, json_type_int)) {
			snprintf(err, errlen, "field \"%s\": not a number",
			    fd->fd_key);
			return (-1);
		}
		d = json_object_get_double(v);
		memcpy(dst, &d, sizeof(d));
		return (0);
	}
	if (!json_object_is_type(v, json_type_int)) {
		snprintf(err, errlen, "field \"%s\": not an integer",
		    fd->fd_key);
		return (-1);
	}
	/* json-c keeps values above INT64_MAX as unsigned */
	i = json_object_get_int64(v);
	u = json_object_get_uint64(v);
	if (fd->fd_type == FT_UINT) {
		if (i < 0) {
			snprintf(err, errlen, "field \"%s\": negative",
			    fd->fd_key);
			return (-1);
		}
		memcpy(dst, &u, sizeof(u));
	} else {
		if (i == INT64_MAX && u > INT64_MAX) {
			snprintf(err, errlen, "field \"%s\": out of range",
			    fd->fd_key);
			return (-1);
		}
		memcpy(dst, &i, sizeof(i));
	}
	return (0);
}

/* 0 set, 1 absent and optional, -1 with err naming the field. */
static int
fpm_field(struct json_object *o, const struct fpm_field *fd, void *base,
    char *err, size_t errlen)
{
	struct json_object	*v;
	char			*dst = (char *)base + fd->fd_off;

	if (!json_object_object_get_ex(o, fd->fd_key, &v)) {
		if (fd->fd_flags & FD_OPTIONAL)
			return (1);
		snprintf(err, errlen, "missing field \"%s\"", fd->fd_key);
		return (-1);
	}
	if (fd->fd_type == FT_STR)
		return (fpm_str(v, fd, dst, err, errlen));
	return (fpm_num(v, fd, dst, err, errlen));
}

/*
 * One entry of "processes".  A malformed one is skipped and counted,
 * so that one odd worker does not cost the whole pool its metrics.
 */
static void
fpm_proc_add(struct fpm_status *st, struct json_object *o, size_t idx)
{
	struct fpm_proc	 pr;
	char		 why[96];
	size_t		 i;

	memset(&pr, 0, sizeof(pr));
	why[0] = '\0';
	if (!json_object_is_type(o, json_type_object))
		strlcpy(why, "not an object", sizeof(why));
	for (i = 0; why[0] == '\0' &&
	    i < sizeof(fpm_proc_fields) / sizeof(fpm_proc_fields[0]); i++)
		(void)fpm_field(o, &fpm_proc_fields[i], &pr, why,
		    sizeof(why));
	if (why[0] == '\0' && pr.ps_pid <= 0)
		strlcpy(why, "field \"pid\": not positive", sizeof(why));
	/* a percentage of CPU time: exported as it is */
	if (why[0] == '\0' && (!isfinite(pr.ps_cpu) || pr.ps_cpu < 0))
		strlcpy(why, "field \"last request cpu\": negative or not "
		    "finite", sizeof(why));
	if (why[0] != '\0') {
		if (st->fs_procs_bad++ == 0)
			snprintf(st->fs_procs_err, sizeof(st->fs_procs_err),
			    "process %zu: %s", idx, why);
		return;
	}
	pr.ps_state = fpm_state_parse(pr.ps_state_name);
	st->fs_states[pr.ps_state]++;
	if (st->fs_nprocs < FPM_PROCS_MAX)
		st->fs_procs[st->fs_nprocs++] = pr;
	else
		st->fs_procs_more++;
}

static int
fpm_status_fields(struct json_object *root, struct fpm_status *st,
    char *err, size_t errlen)
{
	struct json_object	*procs;
	size_t			 i, n;
	int			 rv;

	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "status page: not a JSON object");
		return (-1);
	}
	for (i = 0; i < sizeof(fpm_pool_fields) / sizeof(fpm_pool_fields[0]);
	    i++) {
		if ((rv = fpm_field(root, &fpm_pool_fields[i], st, err,
		    errlen)) == -1)
			return (-1);
		if (fpm_pool_fields[i].fd_off ==
		    offsetof(struct fpm_status, fs_memory_peak))
			st->fs_has_memory_peak = rv == 0;
	}
	if (strcmp(st->fs_pm_name, "static") == 0)
		st->fs_pm = FPM_PM_STATIC;
	else if (strcmp(st->fs_pm_name, "dynamic") == 0)
		st->fs_pm = FPM_PM_DYNAMIC;
	else if (strcmp(st->fs_pm_name, "ondemand") == 0)
		st->fs_pm = FPM_PM_ONDEMAND;
	/* present with "full" only */
	if (!json_object_object_get_ex(root, "processes", &procs))
		return (0);
	if (!json_object_is_type(procs, json_type_array)) {
		snprintf(err, errlen, "field \"processes\": not an array");
		return (-1);
	}
	st->fs_has_procs = 1;
	n = json_object_array_length(procs);
	for (i = 0; i < n; i++)
		fpm_proc_add(st, json_object_array_get_idx(procs, i), i);
	return (0);
}

/*
 * The body of ?json&full.  Pool fields are required (memory peak only
 * from PHP 8.4); unknown keys are ignored.  0, or -1 with err.
 */
int
fpm_status_parse(const char *json, size_t len, struct fpm_status *st,
    char *err, size_t errlen)
{
	struct json_tokener	*tok;
	struct json_object	*root;
	enum json_tokener_error	 jerr;
	size_t			 end;
	int			 rv = -1;

	memset(st, 0, sizeof(*st));
	if (len == 0 || len > INT_MAX || memchr(json, '\0', len) != NULL) {
		snprintf(err, errlen, "status page: empty, too large or "
		    "holding a NUL");
		return (-1);
	}
	if ((tok = json_tokener_new_ex(FPM_JSON_DEPTH)) == NULL) {
		snprintf(err, errlen, "status page: out of memory");
		return (-1);
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_ALLOW_TRAILING_CHARS);
	root = json_tokener_parse_ex(tok, json, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (json_tokener_get_error(tok) == json_tokener_continue) {
		/* a bare scalar ends only at the byte after it */
		root = json_tokener_parse_ex(tok, " ", 1);
		end = len;
	}
	if ((jerr = json_tokener_get_error(tok)) != json_tokener_success) {
		snprintf(err, errlen, "status page: invalid JSON: %s",
		    jerr == json_tokener_continue ? "truncated" :
		    json_tokener_error_desc(jerr));
		goto done;
	}
	while (end < len && strchr(" \t\r\n", json[end]) != NULL)
		end++;
	if (end != len) {
		snprintf(err, errlen, "status page: invalid JSON: bytes after "
		    "the object");
		goto done;
	}
	rv = fpm_status_fields(root, st, err, errlen);
 done:
	json_object_put(root);
	json_tokener_free(tok);
	return (rv);
}

/*
 * The ping page's body is ping.response exactly; a line end after it
 * is tolerated.
 */
int
fpm_ping_match(const char *body, size_t len, const char *expect)
{
	size_t	n = strlen(expect);

	if (len >= 2 && body[len - 2] == '\r' && body[len - 1] == '\n')
		len -= 2;
	else if (len >= 1 && body[len - 1] == '\n')
		len--;
	return (len == n && (n == 0 || memcmp(body, expect, n) == 0));
}

/* With ping.response left at its default. */
int
fpm_ping_ok(const char *body, size_t len)
{
	return (fpm_ping_match(body, len, "pong"));
}
