/*
 * Unit tests of the FastCGI client core and the php-fpm status parser:
 * the reference's test vectors byte for byte, a whole request against
 * a hand-written image, every decoder case fed whole, a byte at a time
 * and in random pieces with the same outcome, every parser error case,
 * and the status sample parsed into its exact values.
 */

#include <sys/types.h>

#include <check.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "phpeekd.h"

#define BUF_INIT	{ NULL, 0, 0 }

/* Hex as the reference writes it: pairs of digits, blanks ignored. */
static void
unhex(struct fcgi_buf *b, const char *s)
{
	uint8_t	 c;
	int	 hi;

	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		ck_assert(isxdigit((unsigned char)s[0]) &&
		    isxdigit((unsigned char)s[1]));
		hi = isdigit((unsigned char)s[0]) ? s[0] - '0' :
		    tolower((unsigned char)s[0]) - 'a' + 10;
		c = (uint8_t)(hi << 4 | (isdigit((unsigned char)s[1]) ?
		    s[1] - '0' : tolower((unsigned char)s[1]) - 'a' + 10));
		ck_assert_int_eq(fcgi_buf_add(b, &c, 1), 0);
		s += 2;
	}
}

static void
assert_hex(const struct fcgi_buf *got, const char *want)
{
	struct fcgi_buf	w = BUF_INIT;

	unhex(&w, want);
	ck_assert_uint_eq(got->fb_len, w.fb_len);
	ck_assert_mem_eq(got->fb_data, w.fb_data, w.fb_len);
	fcgi_buf_free(&w);
}

/* A record as a server might send it, with any version and padding. */
static void
rec(struct fcgi_buf *b, uint8_t ver, uint8_t type, uint16_t id,
    const void *data, size_t len, uint8_t pad)
{
	uint8_t	h[8], zero[255];

	h[0] = ver;
	h[1] = type;
	h[2] = id >> 8;
	h[3] = id & 0xff;
	h[4] = (uint8_t)(len >> 8);
	h[5] = len & 0xff;
	h[6] = pad;
	h[7] = 0;
	memset(zero, 0, sizeof(zero));
	ck_assert_int_eq(fcgi_buf_add(b, h, sizeof(h)), 0);
	ck_assert_int_eq(fcgi_buf_add(b, data, len), 0);
	ck_assert_int_eq(fcgi_buf_add(b, zero, pad), 0);
}

static void
out(struct fcgi_buf *b, uint8_t type, const char *s, uint8_t pad)
{
	rec(b, 1, type, 1, s, strlen(s), pad);
}

/* END_REQUEST for id 1 with the given statuses. */
static void
end(struct fcgi_buf *b, uint32_t app, uint8_t proto, uint8_t pad)
{
	uint8_t	c[8] = { app >> 24, (app >> 16) & 0xff, (app >> 8) & 0xff,
	    app & 0xff, proto, 0, 0, 0 };

	rec(b, 1, FCGI_END_REQUEST, 1, c, sizeof(c), pad);
}

static const char v10_body[] =
    "Content-Type: application/json\r\n\r\n{\"pool\":\"www\"}";
#define V10		"01 06 00 01 00 30 00 00"
#define V11		"01 03 00 01 00 08 00 00  00 00 00 00 00 00 00 00"
#define V12		"01 03 00 01 00 08 00 00  00 00 00 00 02 00 00 00"

static void
d1(struct fcgi_buf *b)
{
	unhex(b, V10);
	ck_assert_int_eq(fcgi_buf_add(b, v10_body, 48), 0);
	unhex(b, "01 06 00 01 00 00 00 00");
	unhex(b, V11);
}

/* 1, 7 and 40 bytes, as the reference lists them */
static void
d2(struct fcgi_buf *b)
{
	rec(b, 1, FCGI_STDOUT, 1, v10_body, 1, 0);
	rec(b, 1, FCGI_STDOUT, 1, v10_body + 1, 7, 1);
	rec(b, 1, FCGI_STDOUT, 1, v10_body + 8, 40, 0);
	out(b, FCGI_STDOUT, "", 0);
	unhex(b, V11);
}

/* cuts after "\r" and after "\r\n\r" of the blank line */
static void
d2b(struct fcgi_buf *b)
{
	rec(b, 1, FCGI_STDOUT, 1, v10_body, 31, 1);
	rec(b, 1, FCGI_STDOUT, 1, v10_body + 31, 2, 6);
	rec(b, 1, FCGI_STDOUT, 1, v10_body + 33, 15, 1);
	unhex(b, V11);
}

static void
d3(struct fcgi_buf *b)
{
	out(b, FCGI_STDOUT, v10_body, 255);
	out(b, FCGI_STDOUT, "", 255);
	end(b, 0, 0, 255);
}

static void
d4(struct fcgi_buf *b)
{
	rec(b, 1, FCGI_STDOUT, 1, v10_body, 20, 4);
	out(b, FCGI_STDERR, "PHP Warning: x\n", 1);
	rec(b, 1, FCGI_STDOUT, 1, v10_body + 20, 28, 4);
	out(b, FCGI_STDOUT, "", 0);
	out(b, FCGI_STDERR, "", 0);
	end(b, 0, 0, 0);
}

static void
d5(struct fcgi_buf *b)
{
	out(b, FCGI_STDOUT, "Status: 404 Not Found\r\nContent-type: text/html; "
	    "charset=UTF-8\r\n\r\nFile not found.\n", 0);
	out(b, FCGI_STDERR, "Primary script unknown", 0);
	out(b, FCGI_STDOUT, "", 0);
	end(b, 0, 0, 0);
}

static void
d6(struct fcgi_buf *b)
{
	unhex(b, V10);
	ck_assert_int_eq(fcgi_buf_add(b, v10_body, 48), 0);
}

static void
d7(struct fcgi_buf *b)
{
	unhex(b, "01 06 00 01 00");
}

static void
d8(struct fcgi_buf *b)
{
	unhex(b, V10);
	ck_assert_int_eq(fcgi_buf_add(b, v10_body, 20), 0);
}

static void
d9(struct fcgi_buf *b)
{
	unhex(b, "02 06 00 01 00 30 00 00");
	ck_assert_int_eq(fcgi_buf_add(b, v10_body, 48), 0);
	unhex(b, V11);
}

static void
d10(struct fcgi_buf *b)
{
	unhex(b, "01 0b 00 00 00 08 00 00  09 00 00 00 00 00 00 00");
}

static void
d11(struct fcgi_buf *b)
{
	d6(b);
	unhex(b, V12);
}

static void
d12(struct fcgi_buf *b)
{
	d6(b);
	unhex(b, "01 03 00 01 00 04 00 00  00 00 00 00");
}

static void
d16(struct fcgi_buf *b)
{
	out(b, FCGI_STDOUT, "Content-Type: a\n\n{}", 0);
	end(b, 0, 0, 0);
}

/* the other error cases of section 1.7 */
static void
e_eof_content(struct fcgi_buf *b)
{
	unhex(b, "01 06 00 01 00 02 00 00  41");
}

static void
e_eof_padding(struct fcgi_buf *b)
{
	unhex(b, "01 06 00 01 00 02 05 00  41 42 00 00");
}

static void
e_eof_end_padding(struct fcgi_buf *b)
{
	d6(b);
	unhex(b, "01 03 00 01 00 08 02 00  00 00 00 00 00 00 00 00  00");
}

static void
e_other_id(struct fcgi_buf *b)
{
	rec(b, 1, FCGI_STDOUT, 2, v10_body, 48, 0);
	end(b, 0, 0, 0);
}

static void
e_zero_id(struct fcgi_buf *b)
{
	rec(b, 1, FCGI_STDOUT, 0, v10_body, 48, 0);
	end(b, 0, 0, 0);
}

static void
e_type0(struct fcgi_buf *b)
{
	unhex(b, "01 00 00 01 00 00 00 00");
	d1(b);
}

static void
e_type12(struct fcgi_buf *b)
{
	unhex(b, "01 0c 00 01 00 01 07 00  ff 00 00 00 00 00 00 00");
	d1(b);
}

static void
e_type255(struct fcgi_buf *b)
{
	unhex(b, "01 ff 00 00 00 00 00 00");
}

/* a server has no business sending PARAMS */
static void
e_params(struct fcgi_buf *b)
{
	unhex(b, "01 04 00 01 00 00 00 00");
}

static void
e_mgmt_ignored(struct fcgi_buf *b)
{
	struct fcgi_buf	 nv = BUF_INIT;

	ck_assert_int_eq(fcgi_nv_add(&nv, "FCGI_MPXS_CONNS", "0"), 0);
	rec(b, 1, FCGI_GET_VALUES_RESULT, 0, nv.fb_data, nv.fb_len, 3);
	d1(b);
	fcgi_buf_free(&nv);
}

static void
e_end_long(struct fcgi_buf *b)
{
	uint8_t	c[16];

	memset(c, 0xee, sizeof(c));
	memset(c, 0, 8);
	c[3] = 7;
	out(b, FCGI_STDOUT, v10_body, 0);
	rec(b, 1, FCGI_END_REQUEST, 1, c, sizeof(c), 200);
	/* after END_REQUEST: ignored */
	unhex(b, "07 07 07 07");
}

static void
e_cant_mpx(struct fcgi_buf *b)
{
	end(b, 0, 1, 0);
}

static void
e_unknown_role(struct fcgi_buf *b)
{
	end(b, 0, 3, 0);
}

static void
e_proto_9(struct fcgi_buf *b)
{
	end(b, 0, 9, 0);
}

static void
e_unknown_short(struct fcgi_buf *b)
{
	unhex(b, "01 0b 00 00 00 01 00 00  09");
}

static void
e_stdout_after_end(struct fcgi_buf *b)
{
	out(b, FCGI_STDOUT, v10_body, 0);
	out(b, FCGI_STDOUT, "", 0);
	out(b, FCGI_STDOUT, "more", 0);
	end(b, 0, 0, 0);
}

static void
e_no_blank(struct fcgi_buf *b)
{
	out(b, FCGI_STDOUT, "Content-Type: text/plain\r\n", 0);
	end(b, 0, 0, 0);
}

static void
e_no_stdout(struct fcgi_buf *b)
{
	end(b, 0, 0, 0);
}

static void
e_status_2(struct fcgi_buf *b)
{
	out(b, FCGI_STDOUT, "Status: 20 OK\r\n\r\n", 0);
	end(b, 0, 0, 0);
}

static void
e_status_4(struct fcgi_buf *b)
{
	out(b, FCGI_STDOUT, "Status: 2000\r\n\r\n", 0);
	end(b, 0, 0, 0);
}

static void
e_status_alpha(struct fcgi_buf *b)
{
	out(b, FCGI_STDOUT, "Status: abc\r\n\r\n", 0);
	end(b, 0, 0, 0);
}

static void
e_status_bare(struct fcgi_buf *b)
{
	out(b, FCGI_STDOUT, "Status: 503\n\nServer busy.", 0);
	end(b, 0, 0, 0);
}

static void
e_empty_body(struct fcgi_buf *b)
{
	out(b, FCGI_STDOUT, "X-Powered-By: PHP/8.2\r\n"
	    "Content-type: text/plain\r\n\r\n", 0);
	end(b, 0, 0, 0);
}

static void
e_app_status(struct fcgi_buf *b)
{
	out(b, FCGI_STDOUT, "Content-type: text/plain\r\n\r\npong", 0);
	end(b, 255, 0, 0);
}

struct dcase {
	const char	*name;
	void		(*build)(struct fcgi_buf *);
	int		 rv;		/* of fcgi_feed, then fcgi_eof */
	const char	*err;		/* a substring when rv is -1 */
	int		 status;
	const char	*body;
	const char	*stderr_text;
	const char	*ctype;		/* Content-Type, if checked */
};

static const struct dcase dcases[] = {
	{ "D1", d1, 1, NULL, 200, "{\"pool\":\"www\"}", "",
	    "application/json" },
	{ "D2", d2, 1, NULL, 200, "{\"pool\":\"www\"}", "",
	    "application/json" },
	{ "D2 inside the blank line", d2b, 1, NULL, 200,
	    "{\"pool\":\"www\"}", "", "application/json" },
	{ "D3", d3, 1, NULL, 200, "{\"pool\":\"www\"}", "",
	    "application/json" },
	{ "D4", d4, 1, NULL, 200, "{\"pool\":\"www\"}", "PHP Warning: x\n",
	    "application/json" },
	{ "D5", d5, 1, NULL, 404, "File not found.\n",
	    "Primary script unknown", "text/html; charset=UTF-8" },
	{ "D6", d6, -1, "no END_REQUEST", 0, NULL, NULL, NULL },
	{ "D7", d7, -1, "truncated header", 0, NULL, NULL, NULL },
	{ "D8", d8, -1, "truncated record", 0, NULL, NULL, NULL },
	{ "D9", d9, -1, "protocol error", 0, NULL, NULL, NULL },
	{ "D10", d10, -1, "unknown type 9 rejected", 0, NULL, NULL, NULL },
	{ "D11", d11, -1, "overloaded", 0, NULL, NULL, NULL },
	{ "D12", d12, -1, "protocol error", 0, NULL, NULL, NULL },
	{ "D16", d16, 1, NULL, 200, "{}", "", "a" },
	{ "EOF in content", e_eof_content, -1, "truncated record", 0,
	    NULL, NULL, NULL },
	{ "EOF in padding", e_eof_padding, -1, "truncated record", 0,
	    NULL, NULL, NULL },
	{ "EOF in END_REQUEST padding", e_eof_end_padding, -1,
	    "truncated record", 0, NULL, NULL, NULL },
	{ "another request id", e_other_id, -1, "request id 2", 0, NULL,
	    NULL, NULL },
	{ "id 0 on STDOUT", e_zero_id, -1, "request id 0", 0, NULL, NULL,
	    NULL },
	{ "type 0", e_type0, -1, "unknown record type 0", 0, NULL, NULL,
	    NULL },
	{ "type 12", e_type12, -1, "unknown record type 12", 0, NULL, NULL,
	    NULL },
	{ "type 255", e_type255, -1, "unknown record type 255", 0, NULL,
	    NULL, NULL },
	{ "PARAMS from the server", e_params, -1, "unexpected record type 4",
	    0, NULL, NULL, NULL },
	{ "GET_VALUES_RESULT skipped", e_mgmt_ignored, 1, NULL, 200,
	    "{\"pool\":\"www\"}", "", "application/json" },
	{ "END_REQUEST of 16 bytes, padded, then data", e_end_long, 1, NULL,
	    200, "{\"pool\":\"www\"}", "", "application/json" },
	{ "CANT_MPX_CONN", e_cant_mpx, -1, "CANT_MPX_CONN", 0, NULL, NULL,
	    NULL },
	{ "UNKNOWN_ROLE", e_unknown_role, -1, "UNKNOWN_ROLE", 0, NULL, NULL,
	    NULL },
	{ "protocol status 9", e_proto_9, -1, "protocol status 9", 0, NULL,
	    NULL, NULL },
	{ "short UNKNOWN_TYPE", e_unknown_short, -1, "protocol error", 0,
	    NULL, NULL, NULL },
	{ "STDOUT after its end", e_stdout_after_end, -1, "after the end", 0,
	    NULL, NULL, NULL },
	{ "no blank line", e_no_blank, -1, "malformed CGI response", 0, NULL,
	    NULL, NULL },
	{ "no STDOUT at all", e_no_stdout, -1, "malformed CGI response", 0,
	    NULL, NULL, NULL },
	{ "Status of 2 digits", e_status_2, -1, "3-digit", 0, NULL, NULL,
	    NULL },
	{ "Status of 4 digits", e_status_4, -1, "3-digit", 0, NULL, NULL,
	    NULL },
	{ "Status not a number", e_status_alpha, -1, "3-digit", 0, NULL,
	    NULL, NULL },
	{ "Status without a reason", e_status_bare, 1, NULL, 503,
	    "Server busy.", "", NULL },
	{ "empty body", e_empty_body, 1, NULL, 200, "", "", "text/plain" },
	{ "appStatus not 0", e_app_status, 1, NULL, 200, "pong", "",
	    "text/plain" },
};
#define NDCASES		(sizeof(dcases) / sizeof(dcases[0]))
#define NMODES		5	/* whole, byte by byte, three random */

static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return (*s);
}

/* Feed in pieces as mode says, then EOF; the parser is left to look at. */
static int
run(struct fcgi_parser *p, const struct fcgi_buf *in, int mode)
{
	uint32_t	 seed = 0x9e3779b9U * (uint32_t)mode;
	size_t		 off = 0, n;
	int		 rv = 0;

	fcgi_parser_init(p, 1, FCGI_STATUS_MAX);
	while (off < in->fb_len && rv == 0) {
		if (mode == 0)
			n = in->fb_len;
		else if (mode == 1)
			n = 1;
		else
			n = 1 + xorshift(&seed) % 300;
		if (n > in->fb_len - off)
			n = in->fb_len - off;
		rv = fcgi_feed(p, in->fb_data + off, n);
		off += n;
	}
	if (rv == 0) {
		/* nothing left to feed: a read of 0 is still no progress */
		ck_assert_int_eq(fcgi_feed(p, NULL, 0), 0);
		rv = fcgi_eof(p);
	}
	/* the outcome sticks */
	ck_assert_int_eq(fcgi_feed(p, "x", 1), rv);
	ck_assert_int_eq(fcgi_eof(p), rv);
	return (rv);
}

START_TEST(test_decoder)
{
	const struct dcase	*dc = &dcases[_i / NMODES];
	struct fcgi_buf		 in = BUF_INIT;
	struct fcgi_parser	 whole, p;
	int			 rv;

	dc->build(&in);
	rv = run(&p, &in, _i % NMODES);
	ck_assert_msg(rv == dc->rv, "%s, mode %d: %d (%s), want %d",
	    dc->name, _i % NMODES, rv, p.fp_err, dc->rv);
	ck_assert_int_eq(run(&whole, &in, 0), rv);
	if (rv == -1) {
		ck_assert_msg(strstr(p.fp_err, dc->err) != NULL,
		    "%s: \"%s\" lacks \"%s\"", dc->name, p.fp_err, dc->err);
		ck_assert_str_eq(p.fp_err, whole.fp_err);
	} else {
		ck_assert_int_eq(p.fp_resp.fr_status, dc->status);
		ck_assert_uint_eq(p.fp_resp.fr_bodylen, strlen(dc->body));
		ck_assert_mem_eq(p.fp_resp.fr_body, dc->body,
		    p.fp_resp.fr_bodylen);
		ck_assert_uint_eq(p.fp_stderr.fb_len, strlen(dc->stderr_text));
		if (p.fp_stderr.fb_len > 0)
			ck_assert_mem_eq(p.fp_stderr.fb_data, dc->stderr_text,
			    p.fp_stderr.fb_len);
		if (dc->ctype != NULL) {
			ck_assert_ptr_nonnull(fcgi_header(&p.fp_resp,
			    "content-type"));
			ck_assert_str_eq(fcgi_header(&p.fp_resp,
			    "Content-Type"), dc->ctype);
		}
		/* the same reply, however it arrived */
		ck_assert_uint_eq(p.fp_stdout.fb_len, whole.fp_stdout.fb_len);
		ck_assert_mem_eq(p.fp_stdout.fb_data, whole.fp_stdout.fb_data,
		    p.fp_stdout.fb_len);
		ck_assert_str_eq(p.fp_resp.fr_reason, whole.fp_resp.fr_reason);
	}
	fcgi_parser_free(&whole);
	fcgi_parser_free(&p);
	fcgi_buf_free(&in);
}
END_TEST

/* The details that the table does not show. */
START_TEST(test_decoder_details)
{
	struct fcgi_buf		 in = BUF_INIT;
	struct fcgi_parser	 p;

	d5(&in);
	ck_assert_int_eq(run(&p, &in, 0), 1);
	ck_assert_str_eq(p.fp_resp.fr_reason, "Not Found");
	ck_assert_str_eq(fcgi_header(&p.fp_resp, "status"), "404 Not Found");
	ck_assert_uint_eq(p.fp_resp.fr_nheaders, 2);
	ck_assert_ptr_null(fcgi_header(&p.fp_resp, "Content-Length"));
	fcgi_parser_free(&p);
	fcgi_buf_free(&in);

	d1(&in);
	ck_assert_int_eq(run(&p, &in, 0), 1);
	ck_assert_str_eq(p.fp_resp.fr_reason, "OK");
	ck_assert_int_eq(p.fp_app_status, 0);
	ck_assert_int_eq(p.fp_proto_status, 0);
	fcgi_parser_free(&p);
	fcgi_buf_free(&in);

	e_app_status(&in);
	ck_assert_int_eq(run(&p, &in, 1), 1);
	ck_assert_int_eq(p.fp_app_status, 255);
	fcgi_parser_free(&p);
	fcgi_buf_free(&in);

	e_end_long(&in);
	ck_assert_int_eq(run(&p, &in, 1), 1);
	ck_assert_int_eq(p.fp_app_status, 7);
	fcgi_parser_free(&p);
	fcgi_buf_free(&in);

	d11(&in);
	ck_assert_int_eq(run(&p, &in, 0), -1);
	ck_assert_int_eq(p.fp_proto_status, 2);
	fcgi_parser_free(&p);
	fcgi_buf_free(&in);
}
END_TEST

/* D13: the cap holds, in memory as in bytes. */
START_TEST(test_too_large)
{
	static uint8_t		 chunk[65535];
	struct fcgi_buf		 in = BUF_INIT;
	struct fcgi_parser	 p;
	size_t			 i, n, fed = 0;
	int			 rv = 0;

	memset(chunk, 'a', sizeof(chunk));
	out(&in, FCGI_STDOUT, "Content-Type: application/json\r\n\r\n", 0);
	for (i = 0; i < 65; i++)
		rec(&in, 1, FCGI_STDOUT, 1, chunk, sizeof(chunk), 1);
	end(&in, 0, 0, 0);
	fcgi_parser_init(&p, 1, FCGI_STATUS_MAX);
	while (rv == 0 && fed < in.fb_len) {
		n = in.fb_len - fed < 4096 ? in.fb_len - fed : 4096;
		rv = fcgi_feed(&p, in.fb_data + fed, n);
		fed += n;
	}
	ck_assert_int_eq(rv, -1);
	ck_assert_ptr_nonnull(strstr(p.fp_err, "too large"));
	ck_assert_uint_le(p.fp_stdout.fb_cap, FCGI_STATUS_MAX);
	/* it stops at the header that would pass the cap */
	ck_assert_uint_eq(p.fp_stdout.fb_len, 34 + 64 * 65535);
	fcgi_parser_free(&p);

	/* a small cap, and a reply exactly at it */
	fcgi_parser_init(&p, 1, 48);
	ck_assert_int_eq(fcgi_feed(&p, in.fb_data, 0), 0);
	fcgi_parser_free(&p);
	fcgi_buf_free(&in);
	d1(&in);
	fcgi_parser_init(&p, 1, 48);
	ck_assert_int_eq(fcgi_feed(&p, in.fb_data, in.fb_len), 1);
	ck_assert_uint_le(p.fp_stdout.fb_cap, 48);
	fcgi_parser_free(&p);
	fcgi_parser_init(&p, 1, 47);
	ck_assert_int_eq(fcgi_feed(&p, in.fb_data, in.fb_len), -1);
	ck_assert_ptr_nonnull(strstr(p.fp_err, "too large"));
	fcgi_parser_free(&p);
	fcgi_buf_free(&in);
}
END_TEST

/* Kept up to the cap, the rest read and counted. */
START_TEST(test_stderr_cap)
{
	static char		 noise[10000];
	struct fcgi_buf		 in = BUF_INIT;
	struct fcgi_parser	 p;

	memset(noise, 'w', sizeof(noise) - 1);
	out(&in, FCGI_STDERR, noise, 3);
	out(&in, FCGI_STDOUT, v10_body, 0);
	out(&in, FCGI_STDERR, "tail", 0);
	end(&in, 0, 0, 0);
	ck_assert_int_eq(run(&p, &in, 2), 1);
	ck_assert_uint_eq(p.fp_stderr.fb_len, FCGI_STDERR_MAX);
	ck_assert_uint_le(p.fp_stderr.fb_cap, FCGI_STDERR_MAX);
	ck_assert_uint_eq(p.fp_stderr_lost, sizeof(noise) - 1 + 4 -
	    FCGI_STDERR_MAX);
	ck_assert_uint_eq(p.fp_resp.fr_bodylen, 14);
	fcgi_parser_free(&p);
	fcgi_buf_free(&in);
}
END_TEST

/* V1, V3-V9: the four required pairs, built and compared. */
START_TEST(test_vectors_request)
{
	static const char *const pairs[] = {
		"SCRIPT_FILENAME", "/status",
		"SCRIPT_NAME", "/status",
		"QUERY_STRING", "json&full",
		"REQUEST_METHOD", "GET",
	};
	static const char v9[] = "0101000100080000000100000000000001040001"
	    "005602000f075343524950545f46494c454e414d452f7374617475730b0753"
	    "43524950545f4e414d452f7374617475730c0951554552595f535452494e47"
	    "6a736f6e2666756c6c0e03524551554553545f4d4554484f44474554000001"
	    "040001000000000105000100000000";
	static const char v9sha[] = "3546276071dc66942aaebb4eee183bccece503"
	    "4e320ea5b6e4200f3b7fb0545e";
	struct fcgi_buf	 b = BUF_INIT, part = BUF_INIT;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen, i;
	char		 hex[2 * EVP_MAX_MD_SIZE + 1];

	ck_assert_int_eq(fcgi_request_pairs(&b, 1, pairs, 4), 0);
	assert_hex(&b, v9);
	ck_assert_uint_eq(b.fb_len, 128);
	ck_assert_int_eq(EVP_Digest(b.fb_data, b.fb_len, md, &mdlen,
	    EVP_sha256(), NULL), 1);
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	ck_assert_str_eq(hex, v9sha);

	/* V1 */
	part.fb_data = b.fb_data;
	part.fb_len = 16;
	assert_hex(&part, "01 01 00 01 00 08 00 00  00 01 00 00 00 00 00 00");
	/* V6 */
	part.fb_data = b.fb_data + 16;
	part.fb_len = 8 + 86 + 2;
	assert_hex(&part, "01 04 00 01 00 56 02 00"
	    "0f07 5343524950545f46494c454e414d45 2f737461747573 "
	    "0b07 5343524950545f4e414d45 2f737461747573 "
	    "0c09 51554552595f535452494e47 6a736f6e2666756c6c "
	    "0e03 524551554553545f4d4554484f44 474554"
	    "00 00");
	/* V7, V8 */
	part.fb_data = b.fb_data + 112;
	part.fb_len = 16;
	assert_hex(&part, "01 04 00 01 00 00 00 00 01 05 00 01 00 00 00 00");
	fcgi_buf_free(&b);

	/* V3 */
	ck_assert_int_eq(fcgi_nv_add(&b, "SCRIPT_FILENAME", "/status"), 0);
	ck_assert_uint_eq(b.fb_len, 2 + 15 + 7);
	ck_assert_mem_eq(b.fb_data, "\x0f\x07" "SCRIPT_FILENAME/status", 24);
	fcgi_buf_free(&b);

	/* V7 and V8 alone */
	ck_assert_int_eq(fcgi_record(&b, FCGI_PARAMS, 1, NULL, 0), 0);
	ck_assert_int_eq(fcgi_record(&b, FCGI_STDIN, 1, NULL, 0), 0);
	assert_hex(&b, "01 04 00 01 00 00 00 00 01 05 00 01 00 00 00 00");
	fcgi_buf_free(&b);
}
END_TEST

/* V2 is parse-only: decoded, and refused from a server. */
START_TEST(test_vector_v2)
{
	struct fcgi_buf		 b = BUF_INIT;
	struct fcgi_parser	 p;
	struct fcgi_rec		 r;

	unhex(&b, "01 01 00 01 00 08 00 00  00 01 01 00 00 00 00 00");
	fcgi_rec_decode(b.fb_data, &r);
	ck_assert_int_eq(r.rc_version, 1);
	ck_assert_int_eq(r.rc_type, FCGI_BEGIN_REQUEST);
	ck_assert_int_eq(r.rc_id, 1);
	ck_assert_int_eq(r.rc_clen, 8);
	ck_assert_int_eq(r.rc_plen, 0);
	ck_assert_int_eq(b.fb_data[8] << 8 | b.fb_data[9], FCGI_RESPONDER);
	ck_assert_int_eq(b.fb_data[10] & 0x01, 1);	/* KEEP_CONN */
	fcgi_parser_init(&p, 1, FCGI_STATUS_MAX);
	ck_assert_int_eq(fcgi_feed(&p, b.fb_data, b.fb_len), -1);
	ck_assert_ptr_nonnull(strstr(p.fp_err, "unexpected record type 1"));
	fcgi_parser_free(&p);
	fcgi_buf_free(&b);
}
END_TEST

/* V4, V5: the two length forms. */
START_TEST(test_vectors_lengths)
{
	struct fcgi_buf	 b = BUF_INIT, want = BUF_INIT;
	uint8_t		 l[4];
	char		 v[201];

	ck_assert_uint_eq(fcgi_nv_len(l, 127), 1);
	ck_assert_mem_eq(l, "\x7f", 1);
	ck_assert_uint_eq(fcgi_nv_len(l, 128), 4);
	ck_assert_mem_eq(l, "\x80\x00\x00\x80", 4);
	ck_assert_uint_eq(fcgi_nv_len(l, 200), 4);
	ck_assert_mem_eq(l, "\x80\x00\x00\xc8", 4);
	ck_assert_uint_eq(fcgi_nv_len(l, 0x7fffffff), 4);
	ck_assert_mem_eq(l, "\xff\xff\xff\xff", 4);
	ck_assert_uint_eq(fcgi_nv_len(l, 0), 1);
	ck_assert_mem_eq(l, "\x00", 1);
	ck_assert_uint_eq(fcgi_nv_len(l, 0x80000000UL), 0);

	memset(v, 'a', 200);
	v[200] = '\0';
	ck_assert_int_eq(fcgi_nv_add(&b, "X", v), 0);
	unhex(&want, "01 80 00 00 c8 58");
	ck_assert_int_eq(fcgi_buf_add(&want, v, 200), 0);
	ck_assert_uint_eq(b.fb_len, 206);
	ck_assert_mem_eq(b.fb_data, want.fb_data, 206);
	fcgi_buf_free(&b);
	fcgi_buf_free(&want);
}
END_TEST

/* Every mix of the two forms decodes; D14 and D15 are refused. */
START_TEST(test_nv_decode)
{
	static const struct {
		const char	*hex;
		int		 rv;
		const char	*name;
		const char	*value;
	} cases[] = {
		{ "01 01 41 42", 1, "A", "B" },
		{ "01 80 00 00 01 41 42", 1, "A", "B" },	/* 1+4 */
		{ "80 00 00 01 01 41 42", 1, "A", "B" },	/* 4+1 */
		{ "80 00 00 01 80 00 00 01 41 42", 1, "A", "B" }, /* 4+4 */
		{ "00 00", 1, "", "" },
		{ "", 0, NULL, NULL },
		{ "80 00 00 05 01 41", -1, NULL, NULL },	/* D14 */
		{ "ff ff ff ff 00", -1, NULL, NULL },		/* D15 */
		{ "01", -1, NULL, NULL },
		{ "80 00 00", -1, NULL, NULL },
		{ "01 80 00", -1, NULL, NULL },
		{ "02 00 41", -1, NULL, NULL },
		{ "01 02 41 42", -1, NULL, NULL },
		{ "ff ff ff ff ff ff ff ff 41", -1, NULL, NULL },
	};
	struct fcgi_buf	 b = BUF_INIT;
	struct fcgi_nv	 nv;
	size_t		 i, off;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unhex(&b, cases[i].hex);
		off = 0;
		/* an exact-size copy, so that any over-read is caught */
		{
			uint8_t	*exact = malloc(b.fb_len + 1);

			ck_assert_ptr_nonnull(exact);
			if (b.fb_len > 0)
				memcpy(exact, b.fb_data, b.fb_len);
			ck_assert_msg(fcgi_nv_next(exact, b.fb_len, &off,
			    &nv) == cases[i].rv, "case %zu", i);
			if (cases[i].rv == 1) {
				ck_assert_uint_eq(off, b.fb_len);
				ck_assert_uint_eq(nv.nv_namelen,
				    strlen(cases[i].name));
				ck_assert_mem_eq(nv.nv_name, cases[i].name,
				    nv.nv_namelen);
				ck_assert_uint_eq(nv.nv_valuelen,
				    strlen(cases[i].value));
				ck_assert_mem_eq(nv.nv_value, cases[i].value,
				    nv.nv_valuelen);
				ck_assert_int_eq(fcgi_nv_next(exact, b.fb_len,
				    &off, &nv), 0);
			} else if (cases[i].rv == -1)
				ck_assert_uint_eq(off, 0);
			free(exact);
		}
		fcgi_buf_free(&b);
	}
	/* an offset past the end is refused, not read */
	off = 5;
	ck_assert_int_eq(fcgi_nv_next((const uint8_t *)"", 0, &off, &nv), -1);
}
END_TEST

/* Collect the PARAMS stream of a request, checking its framing. */
static void
params_of(const struct fcgi_buf *req, struct fcgi_buf *params,
    size_t *nrec)
{
	struct fcgi_rec	 r;
	size_t		 off = 16;
	int		 ended = 0;

	*nrec = 0;
	ck_assert_uint_ge(req->fb_len, 16 + 16);
	while (!ended) {
		ck_assert_uint_le(off + 8, req->fb_len);
		fcgi_rec_decode(req->fb_data + off, &r);
		ck_assert_int_eq(r.rc_version, 1);
		ck_assert_int_eq(r.rc_type, FCGI_PARAMS);
		ck_assert_int_eq(r.rc_id, 1);
		ck_assert_int_eq((r.rc_clen + r.rc_plen) % 8, 0);
		ck_assert_uint_le(off + 8 + r.rc_clen + r.rc_plen, req->fb_len);
		ck_assert_int_eq(fcgi_buf_add(params, req->fb_data + off + 8,
		    r.rc_clen), 0);
		off += 8 + r.rc_clen + r.rc_plen;
		if (r.rc_clen == 0)
			ended = 1;
		else
			(*nrec)++;
	}
	/* then the empty STDIN, and nothing more */
	ck_assert_uint_eq(off + 8, req->fb_len);
	ck_assert_mem_eq(req->fb_data + off, "\x01\x05\x00\x01\0\0\0\0", 8);
}

/* Long pairs take the 4-byte form and span PARAMS records. */
START_TEST(test_long_pairs)
{
	struct fcgi_buf	 req = BUF_INIT, params = BUF_INIT;
	struct fcgi_nv	 nv;
	char		*name, *value;
	const char	*pairs[6];
	size_t		 nrec, off = 0;

	name = malloc(301);
	value = malloc(70001);
	ck_assert(name != NULL && value != NULL);
	memset(name, 'N', 300);
	name[300] = '\0';
	memset(value, 'v', 70000);
	value[70000] = '\0';
	pairs[0] = "X";
	pairs[1] = value;
	pairs[2] = name;
	pairs[3] = "short";
	pairs[4] = name;
	pairs[5] = value;
	ck_assert_int_eq(fcgi_request_pairs(&req, 1, pairs, 3), 0);
	params_of(&req, &params, &nrec);
	/* 1+4+1+70000, 4+1+300+5, 4+4+300+70000 */
	ck_assert_uint_eq(params.fb_len, 70006 + 310 + 70308);
	ck_assert_uint_eq(nrec, 3);
	ck_assert_mem_eq(params.fb_data, "\x01\x80\x01\x11\x70X", 6);

	ck_assert_int_eq(fcgi_nv_next(params.fb_data, params.fb_len, &off,
	    &nv), 1);
	ck_assert_uint_eq(nv.nv_namelen, 1);
	ck_assert_uint_eq(nv.nv_valuelen, 70000);
	ck_assert_mem_eq(nv.nv_value, value, 70000);
	ck_assert_int_eq(fcgi_nv_next(params.fb_data, params.fb_len, &off,
	    &nv), 1);
	ck_assert_uint_eq(nv.nv_namelen, 300);
	ck_assert_mem_eq(nv.nv_name, name, 300);
	ck_assert_uint_eq(nv.nv_valuelen, 5);
	ck_assert_int_eq(fcgi_nv_next(params.fb_data, params.fb_len, &off,
	    &nv), 1);
	ck_assert_uint_eq(nv.nv_namelen, 300);
	ck_assert_uint_eq(nv.nv_valuelen, 70000);
	ck_assert_int_eq(fcgi_nv_next(params.fb_data, params.fb_len, &off,
	    &nv), 0);
	fcgi_buf_free(&req);
	fcgi_buf_free(&params);
	free(name);
	free(value);
}
END_TEST

/* The status request, as written out by hand. */
START_TEST(test_request_status)
{
	static const char want[] =
	    /* BEGIN_REQUEST: RESPONDER, no KEEP_CONN */
	    "\x01\x01\x00\x01\x00\x08\x00\x00"
	    "\x00\x01\x00\x00\x00\x00\x00\x00"
	    /* PARAMS: 230 bytes, 2 of padding */
	    "\x01\x04\x00\x01\x00\xe6\x02\x00"
	    "\x0f\x07" "SCRIPT_FILENAME" "/status"
	    "\x0b\x07" "SCRIPT_NAME" "/status"
	    "\x0c\x09" "QUERY_STRING" "json&full"
	    "\x0e\x03" "REQUEST_METHOD" "GET"
	    "\x0b\x11" "REQUEST_URI" "/status?json&full"
	    "\x0f\x07" "SERVER_SOFTWARE" "phpeekd"
	    "\x0b\x09" "REMOTE_ADDR" "127.0.0.1"
	    "\x0e\x01" "CONTENT_LENGTH" "0"
	    "\x0f\x08" "SERVER_PROTOCOL" "HTTP/1.1"
	    "\x11\x07" "GATEWAY_INTERFACE" "CGI/1.1"
	    "\x00\x00"
	    /* end of PARAMS, end of STDIN */
	    "\x01\x04\x00\x01\x00\x00\x00\x00"
	    "\x01\x05\x00\x01\x00\x00\x00\x00";
	struct fcgi_buf	 b = BUF_INIT;

	ck_assert_int_eq(fcgi_request(&b, 1, "/status", "json&full"), 0);
	ck_assert_uint_eq(b.fb_len, sizeof(want) - 1);
	ck_assert_uint_eq(b.fb_len, 16 + 8 + 230 + 2 + 16);
	ck_assert_mem_eq(b.fb_data, want, sizeof(want) - 1);
	fcgi_buf_free(&b);
}
END_TEST

/* Ping: no query string, and another request id. */
START_TEST(test_request_ping)
{
	struct fcgi_buf	 b = BUF_INIT, params = BUF_INIT;
	struct fcgi_nv	 nv;
	size_t		 nrec, off = 0;
	int		 n = 0, seen = 0;

	ck_assert_int_eq(fcgi_request(&b, 0x1234, "/ping", NULL), 0);
	ck_assert_mem_eq(b.fb_data, "\x01\x01\x12\x34", 4);
	/* rewrite the ids to 1 for params_of() */
	b.fb_data[2] = b.fb_data[3] = 0;
	b.fb_data[3] = 1;
	for (off = 16; off < b.fb_len; ) {
		struct fcgi_rec	r;

		fcgi_rec_decode(b.fb_data + off, &r);
		ck_assert_int_eq(r.rc_id, 0x1234);
		b.fb_data[off + 2] = 0;
		b.fb_data[off + 3] = 1;
		off += 8 + r.rc_clen + r.rc_plen;
	}
	params_of(&b, &params, &nrec);
	ck_assert_uint_eq(nrec, 1);
	off = 0;
	while (fcgi_nv_next(params.fb_data, params.fb_len, &off, &nv) == 1) {
		n++;
		if (nv.nv_namelen == 11 &&
		    memcmp(nv.nv_name, "REQUEST_URI", 11) == 0) {
			ck_assert_uint_eq(nv.nv_valuelen, 5);
			ck_assert_mem_eq(nv.nv_value, "/ping", 5);
			seen |= 1;
		}
		if (nv.nv_namelen == 12 &&
		    memcmp(nv.nv_name, "QUERY_STRING", 12) == 0) {
			ck_assert_uint_eq(nv.nv_valuelen, 0);
			seen |= 2;
		}
	}
	ck_assert_uint_eq(off, params.fb_len);
	ck_assert_int_eq(n, 10);
	ck_assert_int_eq(seen, 3);
	fcgi_buf_free(&b);
	fcgi_buf_free(&params);

	/* an empty query is no query */
	ck_assert_int_eq(fcgi_request(&b, 1, "/ping", ""), 0);
	ck_assert_ptr_nonnull(memmem(b.fb_data, b.fb_len, "\x0b\x05"
	    "REQUEST_URI/ping", 18));
	fcgi_buf_free(&b);
}
END_TEST

/* Refused requests leave the buffer as it was. */
START_TEST(test_request_refused)
{
	static const char *const bad[] = { "A", NULL };
	struct fcgi_buf	 b = BUF_INIT;

	ck_assert_int_eq(fcgi_buf_add(&b, "keep", 4), 0);
	ck_assert_int_eq(fcgi_request(&b, 0, "/status", "json"), -1);
	ck_assert_int_eq(fcgi_request(&b, 1, NULL, "json"), -1);
	ck_assert_int_eq(fcgi_request(&b, 1, "status", "json"), -1);
	ck_assert_int_eq(fcgi_request(&b, 1, "", NULL), -1);
	ck_assert_int_eq(fcgi_request_pairs(&b, 1, bad, 1), -1);
	ck_assert_int_eq(fcgi_record(&b, FCGI_STDIN, 1, "x", 65536), -1);
	ck_assert_uint_eq(b.fb_len, 4);
	ck_assert_mem_eq(b.fb_data, "keep", 4);
	/* and a request is appended after what is there */
	ck_assert_int_eq(fcgi_request(&b, 1, "/status", "json&full"), 0);
	ck_assert_mem_eq(b.fb_data, "keep\x01\x01\x00\x01", 8);
	fcgi_buf_free(&b);
}
END_TEST

/* CGI splitting, alone. */
START_TEST(test_cgi)
{
	struct fcgi_response	 r;
	char			 err[FCGI_ERR_MAX], *big;
	const char		*s;
	size_t			 i, n;

	s = "X-Powered-By:PHP/8.2 \r\nContent-type: \t text/plain \t\r\n"
	    "Expires: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\nbody\r\n\r\nmore";
	ck_assert_int_eq(fcgi_cgi_parse(s, strlen(s), &r, err, sizeof(err)),
	    0);
	ck_assert_int_eq(r.fr_status, 200);
	ck_assert_str_eq(fcgi_header(&r, "x-powered-by"), "PHP/8.2");
	ck_assert_str_eq(fcgi_header(&r, "CONTENT-TYPE"), "text/plain");
	ck_assert_str_eq(fcgi_header(&r, "Expires"),
	    "Thu, 01 Jan 1970 00:00:00 GMT");
	ck_assert_uint_eq(r.fr_bodylen, 12);
	ck_assert_mem_eq(r.fr_body, "body\r\n\r\nmore", 12);

	/* a blank line first: no headers, all body */
	ck_assert_int_eq(fcgi_cgi_parse("\r\nx", 3, &r, err, sizeof(err)), 0);
	ck_assert_uint_eq(r.fr_nheaders, 0);
	ck_assert_uint_eq(r.fr_bodylen, 1);

	/* an empty value is still a header */
	s = "X-Empty:\r\n\r\n";
	ck_assert_int_eq(fcgi_cgi_parse(s, strlen(s), &r, err, sizeof(err)),
	    0);
	ck_assert_str_eq(fcgi_header(&r, "X-Empty"), "");

	/* refused */
	static const char *const bad[] = {
		"no colon\r\n\r\n",
		": no name\r\n\r\n",
		"Bad name: x\r\n\r\n",
		" Folded: x\r\n\r\n",
		"Status: 200\r\nStatus: 404\r\n\r\n",
		"Status: 099 Low\r\n\r\n",
		"Status: 20x\r\n\r\n",
		"Status:\r\n\r\n",
		"A: b\rc\r\n\r\n",
		"A: b\0c\r\n\r\n",
		"A: b\r\n",
		"A: b",
	};
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = strlen(bad[i]);
		if (i == 9)
			n = 10;
		err[0] = '\0';
		ck_assert_msg(fcgi_cgi_parse(bad[i], n, &r, err,
		    sizeof(err)) == -1, "bad %zu accepted", i);
		ck_assert_msg(strstr(err, "malformed CGI response") != NULL,
		    "bad %zu: %s", i, err);
	}
	ck_assert_int_eq(fcgi_cgi_parse(NULL, 0, &r, err, sizeof(err)), -1);

	/* the header block: 8 KiB passes, a byte more does not */
	big = malloc(FCGI_HEADER_MAX + 64);
	ck_assert_ptr_nonnull(big);
	memcpy(big, "X-Big: ", 7);
	memset(big + 7, 'b', FCGI_HEADER_MAX - 7 - 2);
	memcpy(big + FCGI_HEADER_MAX - 2, "\r\n\r\n{}", 6);
	ck_assert_int_eq(fcgi_cgi_parse(big, FCGI_HEADER_MAX + 4, &r, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(strlen(fcgi_header(&r, "x-big")),
	    FCGI_HEADER_MAX - 9);
	ck_assert_uint_eq(r.fr_bodylen, 2);
	memset(big + 7, 'b', FCGI_HEADER_MAX - 7 - 1);
	memcpy(big + FCGI_HEADER_MAX - 1, "\r\n\r\n{}", 6);
	ck_assert_int_eq(fcgi_cgi_parse(big, FCGI_HEADER_MAX + 5, &r, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "too large"));
	/* no line end at all within the limit */
	memset(big, 'b', FCGI_HEADER_MAX + 64);
	ck_assert_int_eq(fcgi_cgi_parse(big, FCGI_HEADER_MAX + 64, &r, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "too large"));
	free(big);

	/* too many headers */
	big = malloc(64 * 8 + 2);
	ck_assert_ptr_nonnull(big);
	for (i = 0; i < 33; i++)
		memcpy(big + i * 6, "H: x\r\n", 6);
	memcpy(big + 33 * 6, "\r\n", 2);
	ck_assert_int_eq(fcgi_cgi_parse(big, 33 * 6 + 2, &r, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(fcgi_cgi_parse(big + 6, 32 * 6 + 2, &r, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(r.fr_nheaders, 32);
	free(big);
}
END_TEST

#define SAMPLE								\
	"{\"pool\":\"www\",\"process manager\":\"dynamic\"," \
	"\"start time\":1732280000,\"start since\":120,\n" \
	" \"accepted conn\":57,\"listen queue\":0,\"max listen queue\":0," \
	"\"listen queue len\":4096,\n" \
	" \"idle processes\":1,\"active processes\":1,\"total processes\":2," \
	"\"max active processes\":2,\n" \
	" \"max children reached\":0,\"slow requests\":0,\n" \
	" \"processes\":[{\"pid\":31,\"state\":\"Idle\"," \
	"\"start time\":1732280000,\"start since\":120,\"requests\":29,\n" \
	"   \"request duration\":1843,\"request method\":\"GET\"," \
	"\"request uri\":\"/index.php\",\"content length\":0,\n" \
	"   \"user\":\"-\",\"script\":\"/var/www/public/index.php\"," \
	"\"last request cpu\":0.00,\"last request memory\":2097152},\n" \
	"  {\"pid\":32,\"state\":\"Running\",\"start time\":1732280000," \
	"\"start since\":120,\"requests\":28,\n" \
	"   \"request duration\":190,\"request method\":\"GET\"," \
	"\"request uri\":\"/status?json&full\",\"content length\":0,\n" \
	"   \"user\":\"-\",\"script\":\"-\",\"last request cpu\":0.00," \
	"\"last request memory\":0}]}\n"

static struct fpm_status *
status_of(const char *json, int want, const char *errsub)
{
	static struct fpm_status	 st;
	char				 err[FCGI_ERR_MAX];

	err[0] = '\0';
	ck_assert_msg(fpm_status_parse(json, strlen(json), &st, err,
	    sizeof(err)) == want, "%s: %s", json, err);
	if (errsub != NULL)
		ck_assert_msg(strstr(err, errsub) != NULL, "\"%s\" lacks "
		    "\"%s\"", err, errsub);
	return (&st);
}

START_TEST(test_status_sample)
{
	struct fpm_status	*st = status_of(SAMPLE, 0, NULL);
	const struct fpm_proc	*p;

	ck_assert_str_eq(st->fs_pool, "www");
	ck_assert_str_eq(st->fs_pm_name, "dynamic");
	ck_assert_int_eq(st->fs_pm, FPM_PM_DYNAMIC);
	ck_assert_int_eq(st->fs_start_time, 1732280000);
	ck_assert_int_eq(st->fs_start_since, 120);
	ck_assert_uint_eq(st->fs_accepted_conn, 57);
	ck_assert_uint_eq(st->fs_listen_queue, 0);
	ck_assert_uint_eq(st->fs_max_listen_queue, 0);
	ck_assert_int_eq(st->fs_listen_queue_len, 4096);
	ck_assert_int_eq(st->fs_idle, 1);
	ck_assert_int_eq(st->fs_active, 1);
	ck_assert_int_eq(st->fs_total, 2);
	ck_assert_int_eq(st->fs_max_active, 2);
	ck_assert_uint_eq(st->fs_max_children_reached, 0);
	ck_assert_uint_eq(st->fs_slow_requests, 0);
	ck_assert_int_eq(st->fs_has_memory_peak, 0);
	ck_assert_uint_eq(st->fs_memory_peak, 0);
	ck_assert_int_eq(st->fs_has_procs, 1);
	ck_assert_uint_eq(st->fs_nprocs, 2);
	ck_assert_uint_eq(st->fs_procs_more, 0);
	ck_assert_uint_eq(st->fs_procs_bad, 0);
	ck_assert_str_eq(st->fs_procs_err, "");
	ck_assert_uint_eq(st->fs_states[FPM_STATE_IDLE], 1);
	ck_assert_uint_eq(st->fs_states[FPM_STATE_RUNNING], 1);
	ck_assert_uint_eq(st->fs_states[FPM_STATE_UNKNOWN], 0);

	p = &st->fs_procs[0];
	ck_assert_int_eq(p->ps_pid, 31);
	ck_assert_int_eq(p->ps_state, FPM_STATE_IDLE);
	ck_assert_str_eq(p->ps_state_name, "Idle");
	ck_assert_int_eq(p->ps_start_time, 1732280000);
	ck_assert_int_eq(p->ps_start_since, 120);
	ck_assert_uint_eq(p->ps_requests, 29);
	ck_assert_uint_eq(p->ps_duration, 1843);
	ck_assert_str_eq(p->ps_method, "GET");
	ck_assert_str_eq(p->ps_uri, "/index.php");
	ck_assert_uint_eq(p->ps_content_length, 0);
	ck_assert_str_eq(p->ps_user, "-");
	ck_assert_str_eq(p->ps_script, "/var/www/public/index.php");
	ck_assert(p->ps_cpu == 0.0);
	ck_assert_uint_eq(p->ps_memory, 2097152);
	ck_assert(!fpm_state_busy(p->ps_state));

	p = &st->fs_procs[1];
	ck_assert_int_eq(p->ps_pid, 32);
	ck_assert_int_eq(p->ps_state, FPM_STATE_RUNNING);
	ck_assert_str_eq(p->ps_state_name, "Running");
	ck_assert_int_eq(p->ps_start_time, 1732280000);
	ck_assert_int_eq(p->ps_start_since, 120);
	ck_assert_uint_eq(p->ps_requests, 28);
	ck_assert_uint_eq(p->ps_duration, 190);
	ck_assert_str_eq(p->ps_method, "GET");
	ck_assert_str_eq(p->ps_uri, "/status?json&full");
	ck_assert_uint_eq(p->ps_content_length, 0);
	ck_assert_str_eq(p->ps_user, "-");
	ck_assert_str_eq(p->ps_script, "-");
	ck_assert(p->ps_cpu == 0.0);
	ck_assert_uint_eq(p->ps_memory, 0);
	ck_assert(fpm_state_busy(p->ps_state));
}
END_TEST

/* The sample as it comes over the wire, through every layer. */
START_TEST(test_status_end_to_end)
{
	struct fcgi_buf		 in = BUF_INIT;
	struct fcgi_parser	 p;
	struct fpm_status	*st;
	char			 err[FCGI_ERR_MAX];
	const char		*hdr = "X-Powered-By: PHP/8.2.26\r\n"
	    "Expires: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
	    "Cache-Control: no-cache, no-store, must-revalidate, max-age=0\r\n"
	    "Content-type: application/json\r\n\r\n";

	st = malloc(sizeof(*st));
	ck_assert_ptr_nonnull(st);
	out(&in, FCGI_STDOUT, hdr, 0);
	out(&in, FCGI_STDOUT, SAMPLE, 3);
	out(&in, FCGI_STDOUT, "", 0);
	end(&in, 0, 0, 0);
	ck_assert_int_eq(run(&p, &in, 3), 1);
	ck_assert_str_eq(fcgi_header(&p.fp_resp, "content-type"),
	    "application/json");
	ck_assert_int_eq(fpm_status_parse(p.fp_resp.fr_body,
	    p.fp_resp.fr_bodylen, st, err, sizeof(err)), 0);
	ck_assert_uint_eq(st->fs_accepted_conn, 57);
	ck_assert_uint_eq(st->fs_nprocs, 2);
	ck_assert_uint_eq(st->fs_procs[1].ps_pid, 32);
	fcgi_parser_free(&p);
	fcgi_buf_free(&in);
	free(st);
}
END_TEST

static const struct {
	const char	*json;
	const char	*err;
} status_bad[] = {
	{ "", "empty" },
	{ "{", "truncated" },
	{ "[]", "not a JSON object" },
	{ "null", "not a JSON object" },
	{ "\"www\"", "not a JSON object" },
	{ "{} x", "bytes after" },
	{ "{\"pool\":'www'}", "invalid JSON" },
	{ "{\"a\":1,}", "invalid JSON" },
	{ "{}", "missing field \"pool\"" },
	{ "{\"pool\":5}", "field \"pool\": not a string" },
	{ "{\"pool\":\"\"}", "field \"pool\": empty" },
	{ "{\"pool\":\"www\"}", "missing field \"process manager\"" },
	{ "{\"pool\":\"www\",\"process manager\":\"dynamic\"}",
	    "missing field \"start time\"" },
	{ "{\"pool\":\"www\",\"process manager\":\"dynamic\","
	    "\"start time\":\"1732280000\"}",
	    "field \"start time\": not an integer" },
	{ "{\"pool\":\"www\",\"process manager\":\"dynamic\","
	    "\"start time\":1.5}", "field \"start time\": not an integer" },
	{ "{\"pool\":\"www\",\"process manager\":\"dynamic\","
	    "\"start time\":9223372036854775808}",
	    "field \"start time\": out of range" },
	{ "{\"pool\":\"www\",\"process manager\":\"dynamic\","
	    "\"start time\":1,\"start since\":1,\"accepted conn\":-1}",
	    "field \"accepted conn\": negative" },
	{ "{\"pool\":\"www\",\"process manager\":\"dynamic\","
	    "\"start time\":1,\"start since\":1,\"accepted conn\":null}",
	    "field \"accepted conn\": not an integer" },
	{ "{\"pool\":\"www\",\"process manager\":\"dynamic\","
	    "\"start time\":1,\"start since\":1,\"accepted conn\":1,"
	    "\"listen queue\":0,\"max listen queue\":0,\"listen queue len\":0,"
	    "\"idle processes\":1,\"active processes\":1,"
	    "\"total processes\":2,\"max active processes\":2,"
	    "\"max children reached\":0}",
	    "missing field \"slow requests\"" },
};

START_TEST(test_status_refused)
{
	status_of(status_bad[_i].json, -1, status_bad[_i].err);
}
END_TEST

#define POOL_HEAD							\
	"{\"pool\":\"www\",\"process manager\":\"static\","		\
	"\"start time\":1,\"start since\":2,"				\
	"\"accepted conn\":18446744073709551615,\"listen queue\":3,"	\
	"\"max listen queue\":4,\"listen queue len\":-1,"		\
	"\"idle processes\":5,\"active processes\":6,"			\
	"\"total processes\":11,\"max active processes\":7,"		\
	"\"max children reached\":8,\"slow requests\":9"

#define PROC(pid, state)						\
	"{\"pid\":" pid ",\"state\":\"" state "\",\"start time\":1,"	\
	"\"start since\":2,\"requests\":3,\"request duration\":4,"	\
	"\"request method\":\"-\",\"request uri\":\"-\","		\
	"\"content length\":0,\"user\":\"-\",\"script\":\"-\","		\
	"\"last request cpu\":12.5,\"last request memory\":6}"

START_TEST(test_status_fields)
{
	struct fpm_status	*st;
	char			*s, *w;
	size_t			 i;

	/* without processes, with memory peak; extremes */
	st = status_of(POOL_HEAD ",\"memory peak\":2097152}", 0, NULL);
	ck_assert_int_eq(st->fs_pm, FPM_PM_STATIC);
	ck_assert_uint_eq(st->fs_accepted_conn, UINT64_MAX);
	ck_assert_int_eq(st->fs_listen_queue_len, -1);
	ck_assert_int_eq(st->fs_has_memory_peak, 1);
	ck_assert_uint_eq(st->fs_memory_peak, 2097152);
	ck_assert_int_eq(st->fs_has_procs, 0);
	ck_assert_uint_eq(st->fs_nprocs, 0);
	ck_assert_uint_eq(st->fs_slow_requests, 9);

	status_of(POOL_HEAD ",\"memory peak\":-1}", -1,
	    "field \"memory peak\": negative");
	status_of(POOL_HEAD ",\"processes\":{}}", -1,
	    "field \"processes\": not an array");
	st = status_of(POOL_HEAD ",\"process manager\":\"ondemand\"}", 0,
	    NULL);
	ck_assert_int_eq(st->fs_pm, FPM_PM_ONDEMAND);
	st = status_of(POOL_HEAD ",\"process manager\":\"other\"}", 0, NULL);
	ck_assert_int_eq(st->fs_pm, FPM_PM_UNKNOWN);
	ck_assert_str_eq(st->fs_pm_name, "other");

	/* unknown keys are ignored; an integer cpu is a number too */
	st = status_of(POOL_HEAD ",\"client\":\"x\",\"processes\":["
	    "{\"pid\":9,\"state\":\"Finishing\",\"start time\":1,"
	    "\"start since\":2,\"requests\":3,\"request duration\":4,"
	    "\"request method\":\"POST\",\"request uri\":\"/a?b=c\","
	    "\"content length\":10,\"user\":\"bob\",\"script\":\"/x.php\","
	    "\"last request cpu\":105,\"last request memory\":6,"
	    "\"current_rss\":1}]}", 0, NULL);
	ck_assert_uint_eq(st->fs_nprocs, 1);
	ck_assert(st->fs_procs[0].ps_cpu == 105.0);
	ck_assert_uint_eq(st->fs_procs[0].ps_content_length, 10);
	ck_assert_str_eq(st->fs_procs[0].ps_user, "bob");

	/* bad processes are skipped and counted, the first one named */
	st = status_of(POOL_HEAD ",\"processes\":[" PROC("1", "Idle") ","
	    "5,{\"pid\":2}," PROC("0", "Idle") ","
	    "{\"pid\":3,\"state\":\"Idle\",\"start time\":1,"
	    "\"start since\":2,\"requests\":3,\"request duration\":4,"
	    "\"request method\":\"-\",\"request uri\":\"-\","
	    "\"content length\":0,\"user\":\"-\",\"script\":\"-\","
	    "\"last request cpu\":\"0.00\",\"last request memory\":6},"
	    PROC("4", "Ending") "]}", 0, NULL);
	ck_assert_uint_eq(st->fs_nprocs, 2);
	ck_assert_uint_eq(st->fs_procs_bad, 4);
	ck_assert_str_eq(st->fs_procs_err, "process 1: not an object");
	ck_assert_int_eq(st->fs_procs[0].ps_pid, 1);
	ck_assert_int_eq(st->fs_procs[1].ps_pid, 4);
	ck_assert(st->fs_procs[0].ps_cpu == 12.5);
	st = status_of(POOL_HEAD ",\"processes\":[{\"pid\":2}]}", 0, NULL);
	ck_assert_str_eq(st->fs_procs_err,
	    "process 0: missing field \"state\"");

	/* a cpu that is no percentage is a bad process, not an export */
	st = status_of(POOL_HEAD ",\"processes\":["
	    "{\"pid\":5,\"state\":\"Idle\",\"start time\":1,"
	    "\"start since\":2,\"requests\":3,\"request duration\":4,"
	    "\"request method\":\"-\",\"request uri\":\"-\","
	    "\"content length\":0,\"user\":\"-\",\"script\":\"-\","
	    "\"last request cpu\":-0.5,\"last request memory\":6},"
	    "{\"pid\":6,\"state\":\"Idle\",\"start time\":1,"
	    "\"start since\":2,\"requests\":3,\"request duration\":4,"
	    "\"request method\":\"-\",\"request uri\":\"-\","
	    "\"content length\":0,\"user\":\"-\",\"script\":\"-\","
	    "\"last request cpu\":1e999,\"last request memory\":6},"
	    PROC("7", "Idle") "]}", 0, NULL);
	ck_assert_uint_eq(st->fs_nprocs, 1);
	ck_assert_int_eq(st->fs_procs[0].ps_pid, 7);
	ck_assert_uint_eq(st->fs_procs_bad, 2);
	ck_assert_str_eq(st->fs_procs_err, "process 0: field \"last request "
	    "cpu\": negative or not finite");

	/* past the cap: counted, states included */
	s = malloc(200 * (sizeof(PROC("100", "Running")) + 1) + 512);
	ck_assert_ptr_nonnull(s);
	w = s + sprintf(s, "%s", POOL_HEAD ",\"processes\":[");
	for (i = 0; i < 200; i++)
		w += sprintf(w, "%s" PROC("%zu", "%s"), i ? "," : "", i + 1,
		    i % 2 ? "Running" : "Idle");
	strcpy(w, "]}");
	st = status_of(s, 0, NULL);
	ck_assert_uint_eq(st->fs_nprocs, FPM_PROCS_MAX);
	ck_assert_uint_eq(st->fs_procs_more, 200 - FPM_PROCS_MAX);
	ck_assert_uint_eq(st->fs_states[FPM_STATE_IDLE], 100);
	ck_assert_uint_eq(st->fs_states[FPM_STATE_RUNNING], 100);
	ck_assert_int_eq(st->fs_procs[FPM_PROCS_MAX - 1].ps_pid,
	    FPM_PROCS_MAX);
	free(s);

	/* long strings are cut, not refused */
	s = malloc(4096);
	ck_assert_ptr_nonnull(s);
	w = s + sprintf(s, "%s", POOL_HEAD ",\"processes\":[{\"pid\":1,"
	    "\"state\":\"Idle\",\"start time\":1,\"start since\":2,"
	    "\"requests\":3,\"request duration\":4,\"request method\":\"-\","
	    "\"request uri\":\"/");
	memset(w, 'u', 1000);
	w += 1000;
	strcpy(w, "\",\"content length\":0,\"user\":\"-\",\"script\":\"-\","
	    "\"last request cpu\":0,\"last request memory\":0}]}");
	st = status_of(s, 0, NULL);
	ck_assert_uint_eq(strlen(st->fs_procs[0].ps_uri),
	    sizeof(st->fs_procs[0].ps_uri) - 1);
	free(s);

	/* but the pool's name is not cut */
	s = malloc(4096);
	ck_assert_ptr_nonnull(s);
	w = s + sprintf(s, "{\"pool\":\"");
	memset(w, 'p', 200);
	strcpy(w + 200, "\"}");
	status_of(s, -1, "field \"pool\": empty, longer than 127");
	free(s);
	status_of(POOL_HEAD ",\"pool\":\"a\\u0000b\"}", -1, "NUL");

	/* a NUL in the text */
	{
		struct fpm_status	tmp;
		char			err[FCGI_ERR_MAX];

		ck_assert_int_eq(fpm_status_parse("{}\0", 3, &tmp, err,
		    sizeof(err)), -1);
		ck_assert_int_eq(fpm_status_parse(NULL, 0, &tmp, err,
		    sizeof(err)), -1);
	}
}
END_TEST

START_TEST(test_states)
{
	static const struct {
		const char	*s;
		enum fpm_state	 st;
		int		 busy;
	} cases[] = {
		{ "Idle", FPM_STATE_IDLE, 0 },
		{ "Reading headers", FPM_STATE_READING, 1 },
		{ "Getting request information", FPM_STATE_INFO, 1 },
		{ "Running", FPM_STATE_RUNNING, 1 },
		{ "Finishing", FPM_STATE_FINISHING, 1 },
		{ "Ending", FPM_STATE_ENDING, 1 },
		{ "idle", FPM_STATE_IDLE, 0 },
		{ "RUNNING", FPM_STATE_RUNNING, 1 },
		{ "Info", FPM_STATE_UNKNOWN, 1 },
		{ "Getting", FPM_STATE_UNKNOWN, 1 },
		{ "Idle ", FPM_STATE_UNKNOWN, 1 },
		{ "", FPM_STATE_UNKNOWN, 1 },
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(fpm_state_parse(cases[i].s) == cases[i].st,
		    "\"%s\"", cases[i].s);
		ck_assert_int_eq(fpm_state_busy(cases[i].st), cases[i].busy);
	}
	for (i = FPM_STATE_IDLE; i < FPM_STATE_MAX; i++)
		ck_assert_int_eq(fpm_state_parse(fpm_state_name(i)), i);
	ck_assert_str_eq(fpm_state_name(FPM_STATE_INFO),
	    "Getting request information");
	ck_assert_str_eq(fpm_state_name(FPM_STATE_UNKNOWN), "unknown");
	ck_assert_str_eq(fpm_state_name(FPM_STATE_MAX), "unknown");
}
END_TEST

START_TEST(test_ping)
{
	struct fcgi_buf		 in = BUF_INIT;
	struct fcgi_parser	 p;

	ck_assert(fpm_ping_ok("pong", 4));
	ck_assert(fpm_ping_ok("pong\n", 5));
	ck_assert(fpm_ping_ok("pong\r\n", 6));
	ck_assert(!fpm_ping_ok("pon", 3));
	ck_assert(!fpm_ping_ok("pongg", 5));
	ck_assert(!fpm_ping_ok("Pong", 4));
	ck_assert(!fpm_ping_ok("pong\n\n", 6));
	ck_assert(!fpm_ping_ok(" pong", 5));
	ck_assert(!fpm_ping_ok("", 0));
	ck_assert(!fpm_ping_ok(NULL, 0));
	ck_assert(fpm_ping_match("alive", 5, "alive"));
	ck_assert(!fpm_ping_match("pong", 4, "alive"));

	/* a real ping reply */
	out(&in, FCGI_STDOUT, "X-Powered-By: PHP/8.2.26\r\n"
	    "Content-type: text/plain;charset=UTF-8\r\n"
	    "Expires: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
	    "Cache-Control: no-cache, no-store, must-revalidate, max-age=0\r\n"
	    "\r\npong", 0);
	out(&in, FCGI_STDOUT, "", 0);
	end(&in, 0, 0, 0);
	ck_assert_int_eq(run(&p, &in, 1), 1);
	ck_assert_int_eq(p.fp_resp.fr_status, 200);
	ck_assert(fpm_ping_ok(p.fp_resp.fr_body, p.fp_resp.fr_bodylen));
	fcgi_parser_free(&p);
	fcgi_buf_free(&in);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("fcgi");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 failed;

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_decoder, 0, NDCASES * NMODES);
	tcase_add_test(tc, test_decoder_details);
	tcase_add_test(tc, test_too_large);
	tcase_add_test(tc, test_stderr_cap);
	tcase_add_test(tc, test_vectors_request);
	tcase_add_test(tc, test_vector_v2);
	tcase_add_test(tc, test_vectors_lengths);
	tcase_add_test(tc, test_nv_decode);
	tcase_add_test(tc, test_long_pairs);
	tcase_add_test(tc, test_request_status);
	tcase_add_test(tc, test_request_ping);
	tcase_add_test(tc, test_request_refused);
	tcase_add_test(tc, test_cgi);
	tcase_add_test(tc, test_status_sample);
	tcase_add_test(tc, test_status_end_to_end);
	tcase_add_loop_test(tc, test_status_refused, 0,
	    sizeof(status_bad) / sizeof(status_bad[0]));
	tcase_add_test(tc, test_status_fields);
	tcase_add_test(tc, test_states);
	tcase_add_test(tc, test_ping);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
