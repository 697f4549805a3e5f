/*
 * Log intelligence: the per-process capture pipeline of phpeek-pm
 * (reference 4.2), one framed line at a time, without an event loop.
 *
 *	multiline -> redaction -> JSON -> level detection -> filters
 *
 * Regexes are PCRE2, compiled once per configuration with the options
 * that bring it closest to Go's RE2 (UTF-8 that tolerates bad bytes,
 * '$' only at the very end), JIT when the system allows it, and a
 * match, depth and heap limit on every run: a hostile pattern or line
 * costs at most LOGINTEL_MATCH_LIMIT steps per run, never unbounded
 * time.  A run given up is counted and taken as "no match", except in
 * redaction, which fails closed: the rest of the entry is replaced.
 *
 * Where phpeek-pm's documentation promises what its code lacks, the
 * documented behaviour is built in, after the user's own patterns:
 * redaction of passwords, tokens, API keys, bearer tokens, URL
 * credentials, private keys and card numbers (brand prefix and Luhn)
 * with "***REDACTED***"; level detection of PHP, PHP-FPM, nginx,
 * Laravel/Monolog and logfmt markers; JSON "msg", "level_name", the
 * wider level names and Monolog's numeric levels; and, with multiline
 * on but no pattern, an entry start that is any line not shaped like
 * the continuation of a PHP or Java stack trace.
 *
 * Memory is bounded: an entry never exceeds LOGINTEL_ENTRY_MAX bytes
 * (longer ones are cut and end in LOGINTEL_CUT_MARK), buffers grow
 * only as far as the entries seen need, and at most
 * LOGINTEL_FIELDS_MAX JSON fields of bounded size are handed back.
 */

#include <sys/types.h>

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH	8
#include <pcre2.h>
#include <json.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "phpeekd.h"

#define LI_NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define LI_RX_OPTIONS	(PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | \
			    PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C)
#define LI_CUT_LEN	(sizeof(LOGINTEL_CUT_MARK) - 1)
#define LI_JSON_DEPTH	32
#define LI_JIT_STACK	(512 * 1024)
#define LI_ARENA_MAX	(LOGINTEL_FIELDS_MAX * \
			    (LOGINTEL_KEY_MAX + LOGINTEL_VALUE_MAX + 2))

/*
 * Byte classes for the loops that see every byte: ASCII as RE2's \d,
 * \w and \s have it, whatever the locale, and without a call per byte.
 */
#define LI_C_DIGIT	0x01
#define LI_C_UPPER	0x02
#define LI_C_ALPHA	0x04
#define LI_C_WORD	0x08		/* [0-9A-Za-z_] */
#define LI_C_SPACE	0x10
#define LI_C_HINT	0x20		/* redact_hints() looks closer */
#define LI_C_LEVEL	0x40		/* level_at() looks closer */
#define LI_C_JSTR	0x80		/* ends a run in a JSON string */
#define LI_IS(c, m)	(li_ctype[(unsigned char)(c)] & (m))

/* Does s[0..len) begin with a literal?  No call to strlen or memcmp. */
#define LI_HAS(s, len, lit)	((len) >= sizeof(lit) - 1 && \
				    memcmp((s), (lit), sizeof(lit) - 1) == 0)
static uint8_t		 li_ctype[256];

/* A buffer that grows on demand up to a fixed size. */
struct libuf {
	char	*b_buf;
	size_t	 b_len;
	size_t	 b_size;
	size_t	 b_max;		/* bytes it may hold, NUL included */
	int	 b_short;	/* an append did not fit */
};

/* A replacement template, cut into literal text and group references. */
#define LI_OP_TEXT	(-1)
#define LI_OP_NOTHING	(-2)	/* a group the pattern does not have */
struct lirepl_op {
	int	 op_group;	/* LI_OP_* or a capture group */
	size_t	 op_off;	/* into rx_repl */
	size_t	 op_len;
};

/*
 * What a pattern of the user's cannot match without, found once from
 * its text: a run of bytes, each from a set, that every match holds
 * in a row ("-" between digits for \d{3}-\d{2}-\d{4}, "@" after a
 * name character for an e-mail address), or one such run for each
 * branch of a top-level alternation.  A line without it cannot match,
 * so the interpreter, whose every run costs far more than a look for
 * a byte, is not started on it.  What the analysis does not know (\Q,
 * named classes, backreferences, recursion, (?x), verbs, bytes past
 * ASCII, "{" that is not a plain repeat) gives no run: the pattern
 * then always runs.  Without PCRE2_UCP, \d, \w and \s are ASCII; a
 * negated class, '.', \S and the like may take several bytes, so they
 * end a run.  Caseless, 'k' and 's' have a non-ASCII other case
 * (U+212A, U+017F), so a set holding them ends a run too.
 */
#define LI_RUN_MAX	32		/* positions in a run */
#define LI_NEED_ALTS	8		/* top-level branches */
#define LI_NEED_DEPTH	8		/* nested groups */

#define LI_SET_HAS(set, c)	((set)[(unsigned char)(c) >> 3] & \
				    (1U << ((unsigned char)(c) & 7)))
#define LI_SET_ADD(set, c)	((set)[(unsigned char)(c) >> 3] |= \
				    (uint8_t)(1U << ((unsigned char)(c) & 7)))

struct lirun {
	uint8_t		 r_set[LI_RUN_MAX][32];
	size_t		 r_len;
	size_t		 r_anchor;	/* the position looked for first */
	int		 r_byte;	/* its only byte, or -1 */
	int		 r_score;	/* higher: fewer lines have it */
};

struct lineed {
	struct lirun	 n_alt[LI_NEED_ALTS];	/* any one will do */
	size_t		 n_nalt;
	int		 n_none;		/* a branch needs nothing */
	int		 n_sure;		/* and the run is a match */
	uint8_t		 n_any[32];	/* bytes that are a match alone */
	int		 n_anyset;
};

/* A sequence's runs, as the sequence around it sees them. */
struct liseq {
	struct lirun	 s_head;	/* from its start */
	struct lirun	 s_cur;		/* to its end, when done */
	struct lirun	 s_best;
	int		 s_closed;	/* not one fixed run throughout */
	int		 s_alt;		/* a group with branches */
	int		 s_items;
	int		 s_any;		/* one item, taking s_anyset */
	uint8_t		 s_anyset[32];
};

struct lineedp {
	const char	*p;
	int		 ci;		/* caseless here */
	int		 bad;
	int		 depth;
	int		 zero;		/* an assertion somewhere */
};

enum { LI_A_SET, LI_A_OPAQUE, LI_A_ZERO, LI_A_GROUP };

/* One redaction pattern: the user's (template) or built in. */
struct lirx {
	pcre2_code		*rx_code;
	struct lineed		*rx_need;	/* the user's: what it needs */
	int			 rx_builtin;
	size_t			 rx_which;	/* li_builtin_redact[] */
	char			*rx_repl;	/* the user's template */
	struct lirepl_op	*rx_ops;
	size_t			 rx_nops;
};

/*
 * A member of the entry's JSON object, as json_fast() reads it or
 * json-c has it: a string decoded, anything else as the JSON text
 * json-c writes for it (from json-c itself only when needed).
 */
#define LI_J_STRING	0
#define LI_J_INT	1
#define LI_J_OTHER	2

struct lijmem {
	const char	*m_key;
	size_t		 m_klen;
	const char	*m_val;		/* NULL: m_obj's, not yet written */
	size_t		 m_vlen;
	json_object	*m_obj;		/* json-c's value, or NULL */
	int64_t		 m_int;		/* LI_J_INT */
	int		 m_type;	/* LI_J_* */
	int		 m_gone;	/* the message or level: no field */
};

/*
 * json_fast()'s place in the text and in li_jbuf, and the keys of the
 * nested objects open, to tell a key given twice (json-c keeps the
 * last value in the first place: left to it).
 */
#define LI_JR_MEMBERS	64		/* more: json-c */
#define LI_JR_DEPTH	16		/* deeper: json-c (at most 32) */
#define LI_JR_KEYS	64

struct lijread {
	const char	*p;
	const char	*end;
	char		*out;
	const char	*keys[LI_JR_KEYS];
	size_t		 klen[LI_JR_KEYS];
	size_t		 nkeys;
};

/* A pattern of the user's and what it cannot match without. */
struct lipat {
	pcre2_code		*p_code;
	struct lineed		*p_need;	/* NULL: unknown */
};

struct logintel {
	int			 li_min_level;
	int			 li_redact_enabled;
	int			 li_ml_enabled;
	int			 li_ml_max;
	int64_t			 li_ml_timeout;		/* ms */
	int			 li_json_enabled;
	int			 li_json_level;
	int			 li_json_message;
	int			 li_json_merge;
	int			 li_ld_enabled;
	int			 li_ld_default;

	struct lirx		*li_redact;	/* the user's, then built in */
	size_t			 li_nredact;
	struct lipat		 li_ml_start;	/* the user's, or none */
	struct lipat		 li_ld[LOG_LVL_DEBUG + 1];
	struct lipat		*li_exclude;
	size_t			 li_nexclude;
	struct lipat		*li_include;
	size_t			 li_ninclude;

	pcre2_match_context	*li_mctx;
	pcre2_match_data	*li_md;
	json_tokener		*li_tok;
	struct lijmem		*li_jm;		/* the JSON object's members */
	size_t			 li_njm;
	size_t			 li_jmsize;
	struct libuf		 li_jbuf;	/* their text, json_fast()'s */
	json_object		*li_jobj;	/* json-c's object, or NULL */

	struct libuf		 li_ml;		/* the pending entry */
	int			 li_ml_lines;
	int			 li_ml_flags;
	int64_t			 li_ml_since;
	struct libuf		 li_long;	/* a line cut alone */
	struct libuf		 li_red[2];	/* redaction, in turns */
	struct libuf		 li_text[LOGINTEL_OUT_MAX];
	struct libuf		 li_arena[LOGINTEL_OUT_MAX];
	struct logintel_field	 li_fields[LOGINTEL_OUT_MAX]
				    [LOGINTEL_FIELDS_MAX];
	int			 li_flags;	/* of the entry in hand */
	int			 li_decoded;	/* its JSON had escapes */
	struct logintel_stats	 li_stats;
};

/*
 * Built-in redaction.  Each pattern names the capture group whose text
 * is replaced (0: the whole match), so keys, quotes and JSON structure
 * survive and a redacted JSON line still parses.  In a quoted value,
 * runs of plain characters are possessive: the interpreter then keeps
 * one backtracking frame per escape, not one per character.
 */
#define LI_VALUE	"(?|\"((?:[^\"\\\\]++|\\\\.)*)\"" \
			"|\\\\\"((?:[^\"\\\\]++|\\\\[^\"])*)\\\\\"" \
			"|'([^']*)'" \
			"|([^\\s\"'&,;})\\]]+))"
enum li_builtin {
	LI_PRIVATE_KEY, LI_URL, LI_AUTHORIZATION, LI_BEARER, LI_JWT,
	LI_API_KEY, LI_CREDENTIAL, LI_CARD, LI_NBUILTIN
};

static const struct {
	const char	*name;
	const char	*pattern;
	int		 group;
} li_builtin_redact[LI_NBUILTIN] = {
	[LI_PRIVATE_KEY] = { "private_key", "-----BEGIN [A-Z ]*PRIVATE KEY-----"
	    "[\\s\\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|\\z)", 0 },
	[LI_URL] = { "url_credentials", "\\b[A-Za-z][A-Za-z0-9+.-]*://"
	    "[^\\s:/?#@]*:([^\\s/?#]+)@", 1 },
	[LI_AUTHORIZATION] = { "authorization", "(?i)\\bauthorization\\\\?"
	    "[\"']?\\s*[:=]\\s*\\\\?[\"']?(?:(?:bearer|basic|digest|token"
	    "|negotiate|apikey)\\s+)?([^\\s\"'\\\\,;]+)", 1 },
	[LI_BEARER] = { "bearer", "(?i)\\bbearer\\s+((?=[a-z._~+/=-]*[0-9])"
	    "[a-z0-9._~+/-]{8,}=*)", 1 },
	[LI_JWT] = { "jwt", "\\beyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}"
	    "\\.[A-Za-z0-9_-]{8,}", 0 },
	[LI_API_KEY] = { "api_key", "\\b(?:(?:sk|pk|rk)_(?:live|test)_"
	    "[0-9A-Za-z]{10,}|(?:AKIA|ASIA)[0-9A-Z]{16}"
	    "|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}"
	    "|xox[abposr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}"
	    "|glpat-[A-Za-z0-9_-]{20,})\\b", 0 },
	[LI_CREDENTIAL] = { "credential", "(?i)(?:password|passwd|passphrase"
	    "|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key"
	    "|auth[_-]?key|credentials?)[a-z0-9_.-]*\\\\?[\"']?\\s*[:=]\\s*"
	    LI_VALUE, 1 },
	[LI_CARD] = { "card", "(?<![\\w.+-])[0-9](?:[ -]?[0-9]){12,18}"
	    "(?![\\w]|[.,][0-9])", 0 },
};

/*
 * Built-in level markers, the ones PHP, PHP-FPM, nginx, Laravel,
 * Monolog and logfmt write:
 *
 *	an uppercase word	ERROR, local.ERROR:, [27-Nov-2025] WARNING:
 *	a word in brackets	[error] [warn] [crit], any case
 *	level=, lvl=, severity=	level=error, lvl="warn", any case
 *	"level"/"level_name"	"level":"error", any case
 *	phrases			PHP Fatal error, Parse error, PHP Warning:,
 *				PHP Notice:, PHP Deprecated:
 *	at the start of a line	Exception in thread, Traceback (most ...),
 *				error, fatal (any case), Warning:, Notice:,
 *				Deprecated:
 *
 * As for the user's patterns, severity decides: an entry with an ERROR
 * anywhere is an error.  A scanner, not a regex: PCRE2 has no fast way
 * to look for many words at once, and this runs on every line.
 */
struct li_word {
	const char	*w_word;
	size_t		 w_len;
	int		 w_level;
};
#define LI_W(w, l)	{ w, sizeof(w) - 1, l }

static const struct li_word li_upper_words[] = {
	LI_W("ERROR", LOG_LVL_ERROR), LI_W("FATAL", LOG_LVL_ERROR),
	LI_W("CRITICAL", LOG_LVL_ERROR), LI_W("CRIT", LOG_LVL_ERROR),
	LI_W("ALERT", LOG_LVL_ERROR), LI_W("EMERGENCY", LOG_LVL_ERROR),
	LI_W("EMERG", LOG_LVL_ERROR), LI_W("PANIC", LOG_LVL_ERROR),
	LI_W("SEVERE", LOG_LVL_ERROR),
	LI_W("WARNING", LOG_LVL_WARN), LI_W("WARN", LOG_LVL_WARN),
	LI_W("INFO", LOG_LVL_INFO), LI_W("NOTICE", LOG_LVL_INFO),
	LI_W("DEBUG", LOG_LVL_DEBUG), LI_W("TRACE", LOG_LVL_DEBUG),
};

/* In brackets, after level= and in "level": any case. */
static const struct li_word li_level_words[] = {
	LI_W("error", LOG_LVL_ERROR), LI_W("err", LOG_LVL_ERROR),
	LI_W("fatal", LOG_LVL_ERROR), LI_W("critical", LOG_LVL_ERROR),
	LI_W("crit", LOG_LVL_ERROR), LI_W("alert", LOG_LVL_ERROR),
	LI_W("emergency", LOG_LVL_ERROR), LI_W("emerg", LOG_LVL_ERROR),
	LI_W("panic", LOG_LVL_ERROR),
	LI_W("warning", LOG_LVL_WARN), LI_W("warn", LOG_LVL_WARN),
	LI_W("info", LOG_LVL_INFO), LI_W("notice", LOG_LVL_INFO),
	LI_W("debug", LOG_LVL_DEBUG), LI_W("trace", LOG_LVL_DEBUG),
};

static const struct li_word li_start_words[] = {
	LI_W("Exception in thread ", LOG_LVL_ERROR),
	LI_W("Traceback (most recent call last)", LOG_LVL_ERROR),
	LI_W("Warning:", LOG_LVL_WARN), LI_W("Deprecated:", LOG_LVL_WARN),
	LI_W("Notice:", LOG_LVL_WARN),
};

static const struct li_word li_php_words[] = {	/* after "PHP " */
	LI_W("Fatal error", LOG_LVL_ERROR), LI_W("Warning:", LOG_LVL_WARN),
	LI_W("Notice:", LOG_LVL_WARN), LI_W("Deprecated:", LOG_LVL_WARN),
	LI_W("Strict Standards:", LOG_LVL_WARN),
};

/*
 * Multiline without a pattern: a line starts an entry unless it looks
 * like the rest of a stack trace: indented (Java's "\tat", PHP's
 * "  thrown in"), PHP's "#0" frames, "Stack trace:", xdebug's
 * "PHP   1. {main}()" and "Next" for a chained exception, Java's
 * "Caused by:", "Suppressed:" and "... 3 more", Laravel's "[stacktrace]",
 * "[previous exception]" and the closing "\"}".
 */
static const char *const li_cont_words[] = {
	"Stack trace:", "PHP Stack trace:", "Caused by:", "Suppressed:",
	"[stacktrace]", "[previous exception]", "}", "\"}",
};

/*
 * What every logintel shares: the built-in patterns, compiled once.
 * Each runs on its own: PCRE2 searches one pattern with its own start
 * optimisations far faster than an alternation of them all.
 */
static struct {
	int		 refs;
	pcre2_code	*redact[LI_NITEMS(li_builtin_redact)];
	pcre2_jit_stack	*jit;
} li_lib;

static const char *const li_level_names[LOG_LVL_DEBUG + 1] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

static int	 libuf_room(struct libuf *, size_t);
static int	 libuf_add(struct libuf *, const void *, size_t);
static void	 libuf_reset(struct libuf *);
static size_t	 cut_point(const char *, size_t, size_t, int);
static void	 libuf_cut(struct libuf *, int);
static void	 libuf_free(struct libuf *);
static pcre2_code *rx_compile(const char *, const char *, char *, size_t);
static int	 pat_compile(struct lipat *, const char *, const char *,
		    char *, size_t);
static void	 pat_free(struct lipat *);
static int	 need_rarity(int);
static int	 need_count(const uint8_t *);
static void	 need_score(struct lirun *);
static void	 need_better(struct lirun *, const struct lirun *);
static void	 need_close(struct liseq *);
static void	 need_push(struct liseq *, const uint8_t *);
static void	 need_repeat(struct liseq *, const uint8_t (*)[32], size_t,
		    unsigned int, unsigned int);
static int	 need_fold(struct lineedp *, uint8_t *);
static void	 need_range(uint8_t *, int, int);
static int	 need_escape(struct lineedp *, uint8_t *, int, int *);
static int	 need_class(struct lineedp *, uint8_t *);
static int	 need_quant(struct lineedp *, unsigned int *, unsigned int *);
static int	 need_group(struct lineedp *, struct liseq **);
static int	 need_atom(struct lineedp *, uint8_t *, struct liseq **);
static void	 need_seq(struct lineedp *, struct liseq *);
static void	 need_add(struct lineed *, const struct liseq *);
static void	 need_alts(struct lineedp *, struct liseq *, struct lineed *);
static struct lineed *need_make(const char *);
static int	 need_run(const struct lirun *, const char *, size_t);
static int	 need_met(const struct lineed *, const char *, size_t);
static uint32_t	 rx_groups(pcre2_code *);
static int	 rx_match(struct logintel *, pcre2_code *, const char *,
		    size_t, size_t);
static int	 pat_match(struct logintel *, const struct lipat *,
		    const char *, size_t);
static int	 rx_any(struct logintel *, const struct lipat *, size_t,
		    const char *, size_t);
static int	 rx_name_group(pcre2_code *, const char *, size_t);
static int	 repl_parse(struct lirx *, const char *, char *, size_t);
static int	 lib_ref(char *, size_t);
static void	 lib_unref(void);
static int	 conf_compile(struct logintel *, const struct logintel_conf *,
		    char *, size_t);
static size_t	 utf8_len(const char *, size_t, size_t);
static size_t	 card_check(const char *, size_t);
static unsigned int key_hints(const char *, size_t);
static int	 url_hint(const char *, size_t, size_t);
static size_t	 li_popcount(uint64_t);
static uint64_t	 hint_mask(const char *, size_t, size_t, uint64_t *,
		    uint64_t *);
static uint64_t	 level_mask(const char *, size_t, size_t, uint64_t *);
static unsigned int redact_hints(const char *, size_t);
static void	 redact_expand(struct logintel *, struct lirx *,
		    const char *, int, struct libuf *);
static int	 redact_one(struct logintel *, struct lirx *, const char *,
		    size_t, struct libuf *);
static const char *redact(struct logintel *, const char *, size_t *);
static int	 json_level(const struct lijmem *);
static void	 jr_ws(struct lijread *);
static int	 jr_hex(const char *, unsigned int *);
static int	 jr_string(struct lijread *, int);
static int	 jr_number(struct lijread *, int64_t *);
static int	 jr_literal(struct lijread *);
static int	 jr_nested(struct lijread *, int);
static int	 json_fast(struct logintel *, const char *, size_t);
static int	 json_members(struct logintel *, json_object *);
static void	 json_fresh(struct logintel *);
static int	 json_parse(struct logintel *, const char *, size_t);
static size_t	 json_fields(struct logintel *, int);
static struct lijmem *json_member(struct logintel *, const char *, size_t);
static int	 word_level(const struct li_word *, size_t, const char *,
		    size_t, int);
static int	 prefix_level(const struct li_word *, size_t, const char *,
		    size_t);
static int	 word_at(const char *, size_t, size_t *);
static int	 has(const char *, size_t, const char *);
static int	 caseeq(const char *, const char *, size_t);
static int	 level_at(const char *, size_t);
static int	 level_builtin(const char *, size_t);
static int	 level_detect(struct logintel *, const char *, size_t);
static int	 entry_json(struct logintel *, const char **, size_t *,
		    struct lijmem **);
static size_t	 entry_fields(struct logintel *, struct lijmem *, int);
static void	 entry_emit(struct logintel *, const char *, size_t, int,
		    struct logintel_out *);
static int	 ml_continues(const char *, size_t);
static void	 ml_flush(struct logintel *, int, struct logintel_out *);
static void	 ml_add(struct logintel *, const char *, size_t, int64_t);

void
logintel_conf_init(struct logintel_conf *lc)
{
	memset(lc, 0, sizeof(*lc));
	lc->lc_min_level = LOG_LVL_INFO;
	lc->lc_ml_max_lines = 100;
	lc->lc_ml_timeout = 1;
	lc->lc_ld_default = LOG_LVL_INFO;
}

/* A configuration level name (min_level, default_level, patterns). */
int
logintel_level(const char *s)
{
	if (strcasecmp(s, "debug") == 0)
		return (LOG_LVL_DEBUG);
	if (strcasecmp(s, "info") == 0)
		return (LOG_LVL_INFO);
	if (strcasecmp(s, "warn") == 0 || strcasecmp(s, "warning") == 0)
		return (LOG_LVL_WARN);
	if (strcasecmp(s, "error") == 0)
		return (LOG_LVL_ERROR);
	return (-1);
}

const char *
logintel_level_name(int level)
{
	if (level < LOG_LVL_ERROR || level > LOG_LVL_DEBUG)
		return ("info");
	return (li_level_names[level]);
}

/*
 * Make room for len more bytes and a NUL, or as many as the buffer's
 * maximum allows.  -1 when memory is short.
 */
static int
libuf_room(struct libuf *b, size_t len)
{
	size_t	 want = b->b_len + len + 1, sz;
	char	*p;

	if (want > b->b_max)
		want = b->b_max;
	if (want <= b->b_size)
		return (0);
	for (sz = b->b_size ? b->b_size : 256; sz < want; sz *= 2)
		;
	if (sz > b->b_max)
		sz = b->b_max;
	if ((p = realloc(b->b_buf, sz)) == NULL)
		return (-1);
	/*
	 * The JIT's search loads aligned blocks that may reach past the
	 * text: let those bytes be defined.  Only on growth, so rarely.
	 */
	memset(p + b->b_size, 0, sz - b->b_size);
	b->b_buf = p;
	b->b_size = sz;
	return (0);
}

/* Append; 0 if it all fit, -1 if it was cut short. */
static int
libuf_add(struct libuf *b, const void *p, size_t len)
{
	size_t	n = len;

	(void)libuf_room(b, len);
	if (b->b_size == 0) {
		b->b_short = 1;
		return (-1);
	}
	if (n > b->b_size - 1 - b->b_len)
		n = b->b_size - 1 - b->b_len;
	memcpy(b->b_buf + b->b_len, p, n);
	b->b_len += n;
	b->b_buf[b->b_len] = '\0';
	if (n == len)
		return (0);
	b->b_short = 1;
	return (-1);
}

static void
libuf_reset(struct libuf *b)
{
	b->b_len = 0;
	b->b_short = 0;
	if (b->b_buf != NULL)
		b->b_buf[0] = '\0';
}

/*
 * Where to cut s[0..len) at most keep bytes in: never in half a UTF-8
 * character.  After redaction (redacted set) not after a digit, space
 * or dash either: a cut must not turn the head of a long number, which
 * no pattern took for a card, into one that looks like a card.
 */
static size_t
cut_point(const char *s, size_t keep, size_t len, int redacted)
{
	if (keep >= len)
		return (len);
	while (keep > 0 && ((unsigned char)s[keep] & 0xc0) == 0x80)
		keep--;
	while (redacted && keep > 0 && (LI_IS(s[keep - 1], LI_C_DIGIT) ||
	    s[keep - 1] == ' ' || s[keep - 1] == '-'))
		keep--;
	return (keep);
}

/* End the buffer in the cut mark, dropping what the mark needs. */
static void
libuf_cut(struct libuf *b, int redacted)
{
	size_t	keep;

	if (libuf_room(b, LI_CUT_LEN) == -1 || b->b_size < LI_CUT_LEN + 1)
		return;
	keep = cut_point(b->b_buf, b->b_size - 1 - LI_CUT_LEN, b->b_len,
	    redacted);
	memcpy(b->b_buf + keep, LOGINTEL_CUT_MARK, LI_CUT_LEN);
	b->b_len = keep + LI_CUT_LEN;
	b->b_buf[b->b_len] = '\0';
}

static void
libuf_free(struct libuf *b)
{
	free(b->b_buf);
	memset(b, 0, sizeof(*b));
}

int	logintel_jit;		/* 0 in the daemon: see rx_compile */

/* Compile with the RE2-like options; the JIT where it is allowed. */
static pcre2_code *
rx_compile(const char *what, const char *pattern, char *err, size_t errlen)
{
	pcre2_code	*re;
	PCRE2_UCHAR	 msg[256];
	PCRE2_SIZE	 off;
	int		 code;

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    LI_RX_OPTIONS, &code, &off, NULL);
	if (re == NULL) {
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			strlcpy((char *)msg, "unknown error", sizeof(msg));
		snprintf(err, errlen, "%s: bad pattern \"%s\": %s at offset "
		    "%zu", what, pattern, (char *)msg, (size_t)off);
		return (NULL);
	}
	/*
	 * The roles' sandboxes refuse executable memory, so the JIT is
	 * for programs outside them (the benchmark) that ask for it.
	 */
	if (logintel_jit)
		(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return (re);
}

/* How rarely a byte shows in a log line, roughly: 0 (often) to 4. */
static int
need_rarity(int c)
{
	if (c == ' ' || (c != 0 && strchr("etaoinsrhldcu", c) != NULL))
		return (0);
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return (1);
	if (c != 0 && strchr(".,:;/-_=\"'()[]", c) != NULL)
		return (2);
	if (c >= 'A' && c <= 'Z')
		return (3);
	return (4);
}

static int
need_count(const uint8_t *set)
{
	int	i, n = 0;

	for (i = 0; i < 32; i++)
		n += __builtin_popcount(set[i]);
	return (n);
}

/* Score a run and pick its anchor: the narrowest, rarest position. */
static void
need_score(struct lirun *r)
{
	size_t	i;
	int	n, c, best = 0, bn = 257, rare, w;

	r->r_score = 0;
	r->r_anchor = 0;
	r->r_byte = -1;
	for (i = 0; i < r->r_len; i++) {
		n = need_count(r->r_set[i]);
		for (w = 8; w > 0 && n > (1 << (8 - w)); w--)
			;
		r->r_score += w;
		for (c = 0; c < 256 && !LI_SET_HAS(r->r_set[i], c); c++)
			;
		rare = need_rarity(c);
		if (n < bn || (n == bn && rare > best)) {
			bn = n;
			best = rare;
			r->r_anchor = i;
			r->r_byte = n == 1 ? c : -1;
		}
	}
	if (bn <= 2)
		r->r_score += 4 * best;
}

/* Keep the better of two runs in best. */
static void
need_better(struct lirun *best, const struct lirun *r)
{
	struct lirun	tmp;

	if (r->r_len == 0)
		return;
	tmp = *r;
	need_score(&tmp);
	if (best->r_len == 0 || tmp.r_score > best->r_score)
		*best = tmp;
}

/* The run in hand stops here: what follows is not next to it. */
static void
need_close(struct liseq *q)
{
	if (!q->s_closed) {
		q->s_head = q->s_cur;
		q->s_closed = 1;
	}
	need_better(&q->s_best, &q->s_cur);
	q->s_cur.r_len = 0;
}

static void
need_push(struct liseq *q, const uint8_t *set)
{
	/* a run's every part is needed too: go on with a new one */
	if (q->s_cur.r_len == LI_RUN_MAX)
		need_close(q);
	memcpy(q->s_cur.r_set[q->s_cur.r_len++], set, 32);
}

/* A run of m times the given sets; n is the most, UINT_MAX for any. */
static void
need_repeat(struct liseq *q, const uint8_t (*sets)[32], size_t nsets,
    unsigned int m, unsigned int n)
{
	unsigned int	k, reps;
	size_t		i;

	reps = m > LI_RUN_MAX ? LI_RUN_MAX : m;
	for (k = 0; k < reps; k++)
		for (i = 0; i < nsets; i++)
			need_push(q, sets[i]);
	if (m == n && m == reps)
		return;
	/* the first m are next to what came before, the last m to what follows */
	need_close(q);
	for (k = 0; k < reps; k++)
		for (i = 0; i < nsets; i++)
			need_push(q, sets[i]);
}

/*
 * Caseless, letters match either case; a set with 'k' or 's' also
 * matches a character of several bytes.  0, or -1 for that.
 */
static int
need_fold(struct lineedp *ps, uint8_t *set)
{
	int	c;

	if (!ps->ci)
		return (0);
	if (LI_SET_HAS(set, 'k') || LI_SET_HAS(set, 'K') ||
	    LI_SET_HAS(set, 's') || LI_SET_HAS(set, 'S'))
		return (-1);
	for (c = 'a'; c <= 'z'; c++)
		if (LI_SET_HAS(set, c) || LI_SET_HAS(set, c - 'a' + 'A')) {
			LI_SET_ADD(set, c);
			LI_SET_ADD(set, c - 'a' + 'A');
		}
	return (0);
}

static void
need_range(uint8_t *set, int lo, int hi)
{
	for (; lo <= hi; lo++)
		LI_SET_ADD(set, lo);
}

/*
 * After a backslash: a byte or an ASCII class into set (LI_A_SET, *lit
 * the byte or -1), LI_A_ZERO for an assertion, LI_A_OPAQUE.
 */
static int
need_escape(struct lineedp *ps, uint8_t *set, int inclass, int *lit)
{
	static const char	 ctl[] = "t\tn\nr\rf\fe\033a\007";
	const char		*t;
	int			 c = (unsigned char)*ps->p, k;

	*lit = -1;
	if (c == '\0' || c >= 0x80) {
		ps->bad = 1;
		return (LI_A_OPAQUE);
	}
	ps->p++;
	switch (c) {
	case 'd':
		need_range(set, '0', '9');
		return (LI_A_SET);
	case 'w':
		need_range(set, '0', '9');
		need_range(set, 'A', 'Z');
		need_range(set, 'a', 'z');
		LI_SET_ADD(set, '_');
		return (LI_A_SET);
	case 's':
		need_range(set, '\t', '\r');
		LI_SET_ADD(set, ' ');
		return (LI_A_SET);
	case 'b':
		if (inclass) {
			*lit = '\b';
			LI_SET_ADD(set, '\b');
			return (LI_A_SET);
		}
		/* FALLTHROUGH */
	case 'B':
	case 'A':
	case 'z':
	case 'Z':
	case 'G':
		if (inclass)
			break;
		return (LI_A_ZERO);
	case 'D':
	case 'W':
	case 'S':
		if (inclass)
			break;
		/* the ASCII it takes: what LI_A_OPAQUE alone is sure of */
		for (k = 0; k < 128; k++)
			if (!LI_IS(k, c == 'D' ? LI_C_DIGIT : c == 'W' ?
			    LI_C_WORD : LI_C_SPACE))
				LI_SET_ADD(set, k);
		return (LI_A_OPAQUE);
	case 'h':
	case 'H':
	case 'v':
	case 'V':
	case 'N':
	case 'R':
	case 'X':
		if (inclass)
			break;
		return (LI_A_OPAQUE);
	}
	for (t = ctl; *t != '\0'; t += 2)
		if (*t == c) {
			*lit = (unsigned char)t[1];
			LI_SET_ADD(set, *lit);
			return (LI_A_SET);
		}
	if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z')) {
		ps->bad = 1;		/* \Q, \x, \p, \1, \g, \K, ... */
		return (LI_A_OPAQUE);
	}
	*lit = c;
	LI_SET_ADD(set, c);
	return (LI_A_SET);
}

/* A class, after its '['. */
static int
need_class(struct lineedp *ps, uint8_t *set)
{
	uint8_t	 tmp[32];
	int	 neg = 0, first = 1, lo, hi, c, folded;

	if (*ps->p == '^') {
		neg = 1;
		ps->p++;
	}
	for (;;) {
		c = (unsigned char)*ps->p;
		if (c == '\0' || c >= 0x80 || (c == '[' && (ps->p[1] == ':' ||
		    ps->p[1] == '.' || ps->p[1] == '='))) {
			ps->bad = 1;
			return (LI_A_OPAQUE);
		}
		ps->p++;
		if (c == ']' && !first)
			break;
		first = 0;
		lo = c;
		if (c == '\\') {
			memset(tmp, 0, sizeof(tmp));
			if (need_escape(ps, tmp, 1, &lo) != LI_A_SET ||
			    ps->bad) {
				ps->bad = 1;
				return (LI_A_OPAQUE);
			}
			if (lo == -1) {		/* \d, \w, \s */
				if (*ps->p == '-' && ps->p[1] != ']') {
					ps->bad = 1;
					return (LI_A_OPAQUE);
				}
				for (c = 0; c < 32; c++)
					set[c] |= tmp[c];
				continue;
			}
		}
		hi = lo;
		if (*ps->p == '-' && ps->p[1] != ']' && ps->p[1] != '\0') {
			ps->p++;
			hi = (unsigned char)*ps->p++;
			if (hi == '\\') {
				memset(tmp, 0, sizeof(tmp));
				if (need_escape(ps, tmp, 1, &hi) != LI_A_SET ||
				    hi == -1)
					ps->bad = 1;
			}
			if (ps->bad || hi >= 0x80 || hi == '[' || hi < lo) {
				ps->bad = 1;
				return (LI_A_OPAQUE);
			}
		}
		need_range(set, lo, hi);
	}
	folded = need_fold(ps, set);
	if (neg) {
		/* what it is sure to take: the rest of ASCII */
		for (c = 0; c < 32; c++)
			set[c] = folded == 0 && c < 16 ? (uint8_t)~set[c] : 0;
		return (LI_A_OPAQUE);
	}
	return (folded == -1 ? LI_A_OPAQUE : LI_A_SET);
}

/* A repeat after an item: 1,1 when there is none; -1 if unknown. */
static int
need_quant(struct lineedp *ps, unsigned int *m, unsigned int *n)
{
	unsigned long	a = 0, b;
	const char	*p = ps->p;

	*m = *n = 1;
	switch (*p) {
	case '*':
		*m = 0;
		*n = UINT_MAX;
		break;
	case '+':
		*n = UINT_MAX;
		break;
	case '?':
		*m = 0;
		break;
	case '{':
		if (!isdigit((unsigned char)p[1]))
			return (-1);
		for (p++; isdigit((unsigned char)*p) && a < 100000; p++)
			a = a * 10 + (unsigned long)(*p - '0');
		b = a;
		if (*p == ',') {
			b = UINT_MAX;
			if (isdigit((unsigned char)p[1]))
				for (b = 0, p++; isdigit((unsigned char)*p) &&
				    b < 100000; p++)
					b = b * 10 + (unsigned long)(*p - '0');
			else
				p++;
		}
		if (*p != '}' || a > 65535 || b < a)
			return (-1);
		*m = (unsigned int)a;
		*n = (unsigned int)b;
		break;
	default:
		return (0);
	}
	p++;
	if (*p == '?' || *p == '+')
		p++;
	ps->p = p;
	return (0);
}

/* A group, after its '(': its runs in *g, or an assertion. */
static int
need_group(struct lineedp *ps, struct liseq **g)
{
	int		 ci = ps->ci, look = 0, on = 1;
	const char	*p = ps->p;
	char		 end;

	if (*p == '?') {
		p++;
		switch (*p) {
		case ':':
		case '>':
		case '|':
			p++;
			break;
		case '=':
		case '!':
			p++;
			look = 1;
			break;
		case '<':
		case 'P':
		case '\'':
			if (p[0] == '<' && (p[1] == '=' || p[1] == '!')) {
				p += 2;
				look = 1;
				break;
			}
			if (p[0] == 'P' && p[1] == '<')
				p++;
			else if (p[0] == 'P') {
				ps->bad = 1;
				return (LI_A_OPAQUE);
			}
			end = *p == '<' ? '>' : '\'';
			for (p++; isalnum((unsigned char)*p) || *p == '_'; p++)
				;
			if (*p++ != end) {
				ps->bad = 1;
				return (LI_A_OPAQUE);
			}
			break;
		default:
			/* options: only 'i' changes what a run may hold */
			for (; *p != ')' && *p != ':'; p++) {
				if (*p == 'i')
					ps->ci = on;
				else if (*p == '-')
					on = 0;
				else if (*p == '^')
					ps->ci = 0;
				else if (*p == '\0' ||
				    strchr("mnsUJ", *p) == NULL) {
					ps->bad = 1;
					return (LI_A_OPAQUE);
				}
			}
			if (*p++ == ')') {
				/* to the end of the group around it */
				ps->p = p;
				return (LI_A_ZERO);
			}
			break;
		}
	} else if (*p == '*') {
		ps->bad = 1;
		return (LI_A_OPAQUE);
	}
	ps->p = p;
	if (ps->depth >= LI_NEED_DEPTH ||
	    (*g = calloc(1, sizeof(**g))) == NULL) {
		ps->bad = 1;
		return (LI_A_OPAQUE);
	}
	ps->depth++;
	need_alts(ps, *g, NULL);
	ps->depth--;
	if (*ps->p != ')')
		ps->bad = 1;
	else
		ps->p++;
	ps->ci = ci;
	if (look)
		ps->zero = 1;
	return (look ? LI_A_ZERO : LI_A_GROUP);
}

/* One item: a set of bytes, a group, an assertion or opaque. */
static int
need_atom(struct lineedp *ps, uint8_t *set, struct liseq **g)
{
	int	c = (unsigned char)*ps->p++, k, lit;

	memset(set, 0, 32);
	switch (c) {
	case '^':
	case '$':
		ps->zero = 1;
		return (LI_A_ZERO);
	case '.':
		/* sure of ASCII but for the newlines */
		need_range(set, 0, 127);
		set['\n' >> 3] &= (uint8_t)~(1U << ('\n' & 7));
		set['\r' >> 3] &= (uint8_t)~(1U << ('\r' & 7));
		return (LI_A_OPAQUE);
	case '[':
		return (need_class(ps, set));
	case '(':
		return (need_group(ps, g));
	case '\\':
		if ((k = need_escape(ps, set, 0, &lit)) == LI_A_SET &&
		    need_fold(ps, set) == -1)
			return (LI_A_OPAQUE);
		if (k == LI_A_ZERO)
			ps->zero = 1;
		return (k);
	case '*':
	case '+':
	case '?':
	case '{':
		ps->bad = 1;
		return (LI_A_OPAQUE);
	}
	if (c >= 0x80) {
		ps->bad = 1;
		return (LI_A_OPAQUE);
	}
	LI_SET_ADD(set, c);
	if (need_fold(ps, set) == -1)
		return (LI_A_OPAQUE);
	return (LI_A_SET);
}

/* Items up to '|', ')' or the end. */
static void
need_seq(struct lineedp *ps, struct liseq *q)
{
	uint8_t		 set[1][32];
	struct liseq	*g;
	unsigned int	 m = 0, n = 0;
	int		 k;

	memset(q, 0, sizeof(*q));
	while (!ps->bad && *ps->p != '\0' && *ps->p != '|' &&
	    *ps->p != ')') {
		g = NULL;
		k = need_atom(ps, set[0], &g);
		if (!ps->bad && need_quant(ps, &m, &n) == -1)
			ps->bad = 1;
		if (ps->bad) {
			free(g);
			break;
		}
		if (q->s_items++ == 0 && k == LI_A_OPAQUE && m > 0) {
			q->s_any = 1;
			memcpy(q->s_anyset, set[0], sizeof(q->s_anyset));
		}
		switch (k) {
		case LI_A_ZERO:
			if (m != 1 || n != 1)
				ps->bad = 1;
			break;
		case LI_A_SET:
			need_repeat(q, (const uint8_t (*)[32])set, 1, m, n);
			break;
		case LI_A_OPAQUE:
			need_close(q);
			break;
		case LI_A_GROUP:
			if (g->s_alt || m == 0) {
				need_close(q);
				break;
			}
			if (!g->s_closed) {
				need_repeat(q, (const uint8_t (*)[32])
				    g->s_cur.r_set, g->s_cur.r_len, m, n);
				break;
			}
			/* the first time round is next to what came before */
			need_repeat(q, (const uint8_t (*)[32])
			    g->s_head.r_set, g->s_head.r_len, 1, 1);
			need_close(q);
			need_better(&q->s_best, &g->s_best);
			/* and the last to what follows */
			q->s_cur = g->s_cur;
			break;
		}
		free(g);
	}
	if (!q->s_closed)
		q->s_head = q->s_cur;
	need_better(&q->s_best, &q->s_cur);
}

static void
need_add(struct lineed *need, const struct liseq *q)
{
	if (q->s_best.r_len == 0 || need->n_nalt == LI_NEED_ALTS)
		need->n_none = 1;
	else
		need->n_alt[need->n_nalt++] = q->s_best;
	/* one fixed run throughout: finding it is a match */
	if (q->s_closed)
		need->n_sure = 0;
}

/* Branches up to ')' or the end: the first's runs in q. */
static void
need_alts(struct lineedp *ps, struct liseq *q, struct lineed *top)
{
	struct liseq	*other;

	need_seq(ps, q);
	if (top != NULL)
		need_add(top, q);
	while (!ps->bad && *ps->p == '|') {
		ps->p++;
		q->s_alt = 1;
		if ((other = malloc(sizeof(*other))) == NULL) {
			ps->bad = 1;
			return;
		}
		need_seq(ps, other);
		if (top != NULL)
			need_add(top, other);
		free(other);
	}
}

/* What a compiled pattern needs, or NULL: it may match anything. */
static struct lineed *
need_make(const char *pattern)
{
	struct lineedp	 ps;
	struct lineed	*need;
	struct liseq	*q;

	memset(&ps, 0, sizeof(ps));
	ps.p = pattern;
	if ((need = calloc(1, sizeof(*need))) == NULL)
		return (NULL);
	if ((q = malloc(sizeof(*q))) == NULL) {
		free(need);
		return (NULL);
	}
	need->n_sure = 1;
	need_alts(&ps, q, need);
	if (!ps.bad && *ps.p == '\0' && !ps.zero && !q->s_alt &&
	    q->s_items == 1 && q->s_any && need_count(q->s_anyset) > 0) {
		/* one class, such as \S: any byte of it will do */
		memset(need, 0, sizeof(*need));
		memcpy(need->n_any, q->s_anyset, sizeof(need->n_any));
		need->n_anyset = 1;
		free(q);
		return (need);
	}
	free(q);
	if (ps.bad || *ps.p != '\0' || need->n_none || need->n_nalt == 0) {
		free(need);
		return (NULL);
	}
	if (ps.zero)
		need->n_sure = 0;
	return (need);
}

/* Does s[0..len) hold the run? */
static int
need_run(const struct lirun *r, const char *s, size_t len)
{
	const uint8_t	*a = r->r_set[r->r_anchor];
	const char	*p;
	size_t		 i, j, last, start;

	if (len < r->r_len)
		return (0);
	last = len - r->r_len + r->r_anchor;
	for (i = r->r_anchor; i <= last; i++) {
		if (r->r_byte != -1) {
			if ((p = memchr(s + i, r->r_byte, last - i + 1)) ==
			    NULL)
				return (0);
			i = (size_t)(p - s);
		} else if (!LI_SET_HAS(a, s[i]))
			continue;
		start = i - r->r_anchor;
		for (j = 0; j < r->r_len; j++)
			if (!LI_SET_HAS(r->r_set[j], s[start + j]))
				break;
		if (j == r->r_len)
			return (1);
	}
	return (0);
}

/*
 * Could the pattern match s[0..len)?  0: it cannot; 1: it may; 2: it
 * does (where only whether it matches counts).
 */
static int
need_met(const struct lineed *need, const char *s, size_t len)
{
	size_t	i;

	if (need == NULL)
		return (1);
	if (need->n_anyset) {
		for (i = 0; i < len; i++)
			if (LI_SET_HAS(need->n_any, s[i]))
				return (2);
		return (1);
	}
	for (i = 0; i < need->n_nalt; i++)
		if (need_run(&need->n_alt[i], s, len))
			return (need->n_sure ? 2 : 1);
	return (0);
}

/* A pattern of the user's, and what it needs. */
static int
pat_compile(struct lipat *pat, const char *what, const char *pattern,
    char *err, size_t errlen)
{
	if ((pat->p_code = rx_compile(what, pattern, err, errlen)) == NULL)
		return (-1);
	pat->p_need = need_make(pattern);
	return (0);
}

static void
pat_free(struct lipat *pat)
{
	pcre2_code_free(pat->p_code);
	free(pat->p_need);
	memset(pat, 0, sizeof(*pat));
}

static uint32_t
rx_groups(pcre2_code *re)
{
	uint32_t	n = 0;

	(void)pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &n);
	return (n);
}

/*
 * One run from off: the number of pairs set (>0), 0 for no match, -1
 * when PCRE2 gave up (a limit, or an error), which is counted.
 */
static int
rx_match(struct logintel *li, pcre2_code *re, const char *s, size_t len,
    size_t off)
{
	int	rc;

	rc = pcre2_match(re, (PCRE2_SPTR)s, len, off, 0, li->li_md,
	    li->li_mctx);
	if (rc > 0)
		return (rc);
	if (rc == 0)		/* more groups than the match data holds */
		return (1);
	if (rc == PCRE2_ERROR_NOMATCH)
		return (0);
	li->li_stats.ls_limit++;
	li->li_flags |= LOGINTEL_F_LIMIT;
	return (-1);
}

/*
 * One run of a pattern of the user's from the start, not started
 * when the text lacks what every match needs.
 */
static int
pat_match(struct logintel *li, const struct lipat *pat, const char *s,
    size_t len)
{
	switch (need_met(pat->p_need, s, len)) {
	case 0:
		return (0);
	case 2:
		return (1);
	}
	return (rx_match(li, pat->p_code, s, len, 0));
}

/* Does any of the patterns match?  A run given up is no match. */
static int
rx_any(struct logintel *li, const struct lipat *v, size_t n, const char *s,
    size_t len)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (pat_match(li, &v[i], s, len) > 0)
			return (1);
	return (0);
}

/* The lowest-numbered group of that name, as Go picks it, or -1. */
static int
rx_name_group(pcre2_code *re, const char *name, size_t len)
{
	PCRE2_SPTR	tab;
	uint32_t	count = 0, size = 0, i;
	int		best = -1, n;

	if (pcre2_pattern_info(re, PCRE2_INFO_NAMECOUNT, &count) != 0 ||
	    pcre2_pattern_info(re, PCRE2_INFO_NAMEENTRYSIZE, &size) != 0 ||
	    pcre2_pattern_info(re, PCRE2_INFO_NAMETABLE, &tab) != 0)
		return (-1);
	for (i = 0; i < count; i++, tab += size) {
		n = (tab[0] << 8) | tab[1];
		if (strncmp((const char *)tab + 2, name, len) == 0 &&
		    tab[2 + len] == '\0' && (best == -1 || n < best))
			best = n;
	}
	return (best);
}

/*
 * Cut a replacement into its parts once, with Go's Expand rules: "$$"
 * is a dollar; "$name" takes the longest run of letters, digits and
 * '_' ("$1x" is the group named "1x", which is empty); "${name}"
 * delimits it; a run of digits without a leading zero is a group
 * number; anything else after '$' leaves the '$' as text.
 */
static int
repl_parse(struct lirx *rx, const char *tmpl, char *err, size_t errlen)
{
	const char	*t = tmpl, *name;
	size_t		 n = strlen(tmpl), i, k, nlen, lit = 0;
	struct lirepl_op *op;
	long		 num;
	int		 brace;

	if ((rx->rx_repl = strdup(tmpl)) == NULL ||
	    (rx->rx_ops = calloc(n + 1, sizeof(*rx->rx_ops))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	for (i = 0; i <= n; i++) {
		if (i < n && t[i] != '$')
			continue;
		if (i > lit) {
			op = &rx->rx_ops[rx->rx_nops++];
			op->op_group = LI_OP_TEXT;
			op->op_off = lit;
			op->op_len = i - lit;
		}
		if (i == n)
			break;
		if (t[i + 1] == '$') {
			lit = i + 1;		/* the second '$' is text */
			i++;
			continue;
		}
		brace = t[i + 1] == '{';
		name = t + i + 1 + brace;
		for (nlen = 0; isalnum((unsigned char)name[nlen]) ||
		    name[nlen] == '_'; nlen++)
			;
		if (nlen == 0 || (brace && name[nlen] != '}')) {
			lit = i;		/* '$' stays as it is */
			continue;
		}
		num = name[0] == '0' && nlen > 1 ? -1 : 0;
		for (k = 0; k < nlen && num >= 0; k++)
			num = isdigit((unsigned char)name[k]) &&
			    num < 100000000 ? num * 10 + (name[k] - '0') : -1;
		op = &rx->rx_ops[rx->rx_nops++];
		op->op_group = num >= 0 ? (int)num :
		    rx_name_group(rx->rx_code, name, nlen);
		if (op->op_group < 0)
			op->op_group = LI_OP_NOTHING;
		i = (size_t)(name - t) + nlen + brace - 1;
		lit = i + 1;
	}
	return (0);
}

/* The built-in patterns: compiled with the first logintel. */
static int
lib_ref(char *err, size_t errlen)
{
	size_t	i;

	if (li_lib.refs++ > 0)
		return (0);
	for (i = 0; i < LI_NITEMS(li_ctype); i++) {
		li_ctype[i] = 0;
		if (i >= '0' && i <= '9')
			li_ctype[i] |= LI_C_DIGIT | LI_C_WORD;
		if ((i >= 'A' && i <= 'Z') || (i >= 'a' && i <= 'z'))
			li_ctype[i] |= LI_C_ALPHA | LI_C_WORD;
		if (i >= 'A' && i <= 'Z')
			li_ctype[i] |= LI_C_UPPER;
		if (i == '_')
			li_ctype[i] |= LI_C_WORD;
		if (i == ' ' || (i >= '\t' && i <= '\r'))
			li_ctype[i] |= LI_C_SPACE;
		if (strchr(":=-_AJbB", (int)i) != NULL && i != 0)
			li_ctype[i] |= LI_C_HINT;
		if ((strchr("[\"lsfp", (int)i) != NULL && i != 0) ||
		    (i >= 'A' && i <= 'Z'))
			li_ctype[i] |= LI_C_LEVEL;
		if (i < 0x20 || i == '"' || i == '\\')
			li_ctype[i] |= LI_C_JSTR;
	}
	for (i = 0; i < LI_NITEMS(li_builtin_redact); i++)
		if ((li_lib.redact[i] = rx_compile(li_builtin_redact[i].name,
		    li_builtin_redact[i].pattern, err, errlen)) == NULL)
			goto fail;
	/* the JIT's default 32 KiB stack is short for long entries */
	if (logintel_jit)
		li_lib.jit = pcre2_jit_stack_create(32 * 1024, LI_JIT_STACK,
		    NULL);
	return (0);
 fail:
	lib_unref();
	return (-1);
}

static void
lib_unref(void)
{
	size_t	i;

	if (--li_lib.refs > 0)
		return;
	for (i = 0; i < LI_NITEMS(li_lib.redact); i++)
		pcre2_code_free(li_lib.redact[i]);
	pcre2_jit_stack_free(li_lib.jit);
	memset(&li_lib, 0, sizeof(li_lib));
}

/* Compile the user's patterns: a bad one is a configuration error. */
static int
conf_compile(struct logintel *li, const struct logintel_conf *lc, char *err,
    size_t errlen)
{
	const struct logintel_redact *r;
	struct lirx	*rx;
	char		 what[CONF_NAME_MAX + 64];
	size_t		 i, n = 0;

	if (lc->lc_redact_enabled) {
		li->li_redact = calloc(lc->lc_nredact +
		    LI_NITEMS(li_builtin_redact), sizeof(*li->li_redact));
		if (li->li_redact == NULL)
			goto nomem;
		for (i = 0; i < lc->lc_nredact; i++) {
			r = &lc->lc_redact[i];
			rx = &li->li_redact[li->li_nredact];
			snprintf(what, sizeof(what), "redaction pattern '%s'",
			    r->lr_name ? r->lr_name : "");
			if (r->lr_pattern == NULL || r->lr_pattern[0] == '\0') {
				snprintf(err, errlen, "%s: empty pattern",
				    what);
				return (-1);
			}
			if ((rx->rx_code = rx_compile(what, r->lr_pattern, err,
			    errlen)) == NULL)
				return (-1);
			li->li_nredact++;
			rx->rx_need = need_make(r->lr_pattern);
			if (repl_parse(rx, r->lr_replacement != NULL &&
			    r->lr_replacement[0] != '\0' ? r->lr_replacement :
			    LOGINTEL_REPLACEMENT, err, errlen) == -1)
				return (-1);
			if (rx_groups(rx->rx_code) > n)
				n = rx_groups(rx->rx_code);
		}
		for (i = 0; i < LI_NITEMS(li_builtin_redact); i++) {
			rx = &li->li_redact[li->li_nredact++];
			rx->rx_code = li_lib.redact[i];
			rx->rx_builtin = 1;
			rx->rx_which = i;
		}
	}
	if (lc->lc_ml_enabled && lc->lc_ml_pattern != NULL &&
	    lc->lc_ml_pattern[0] != '\0' && pat_compile(&li->li_ml_start,
	    "multiline", lc->lc_ml_pattern, err, errlen) == -1)
		return (-1);
	for (i = 0; lc->lc_ld_enabled && i < LI_NITEMS(li->li_ld); i++) {
		snprintf(what, sizeof(what), "level_detection %s",
		    li_level_names[i]);
		if (lc->lc_ld_patterns[i] != NULL && pat_compile(&li->li_ld[i],
		    what, lc->lc_ld_patterns[i], err, errlen) == -1)
			return (-1);
	}
	if ((li->li_exclude = calloc(lc->lc_exclude.sl_n + 1,
	    sizeof(*li->li_exclude))) == NULL ||
	    (li->li_include = calloc(lc->lc_include.sl_n + 1,
	    sizeof(*li->li_include))) == NULL)
		goto nomem;
	for (i = 0; i < lc->lc_exclude.sl_n; i++, li->li_nexclude++)
		if (pat_compile(&li->li_exclude[i], "filters.exclude",
		    lc->lc_exclude.sl_v[i], err, errlen) == -1)
			return (-1);
	for (i = 0; i < lc->lc_include.sl_n; i++, li->li_ninclude++)
		if (pat_compile(&li->li_include[i], "filters.include",
		    lc->lc_include.sl_v[i], err, errlen) == -1)
			return (-1);
	/* room for the groups of every pattern whose groups are read */
	for (i = 0; i < LI_NITEMS(li_lib.redact); i++)
		if (rx_groups(li_lib.redact[i]) > n)
			n = rx_groups(li_lib.redact[i]);
	if ((li->li_md = pcre2_match_data_create((uint32_t)n + 1, NULL)) ==
	    NULL)
		goto nomem;
	return (0);
 nomem:
	snprintf(err, errlen, "out of memory");
	return (-1);
}

struct logintel *
logintel_new(const struct logintel_conf *lc, char *err, size_t errlen)
{
	struct logintel	*li;
	size_t		 i;

	if (lc->lc_min_level < LOG_LVL_ERROR ||
	    lc->lc_min_level > LOG_LVL_DEBUG ||
	    lc->lc_ld_default < LOG_LVL_ERROR ||
	    lc->lc_ld_default > LOG_LVL_DEBUG) {
		snprintf(err, errlen, "invalid level");
		return (NULL);
	}
	if ((li = calloc(1, sizeof(*li))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	if (lib_ref(err, errlen) == -1) {
		free(li);
		return (NULL);
	}
	li->li_min_level = lc->lc_min_level;
	li->li_redact_enabled = lc->lc_redact_enabled;
	li->li_ml_enabled = lc->lc_ml_enabled;
	/* zero is the default, as everywhere in phpeek-pm's config */
	li->li_ml_max = lc->lc_ml_max_lines > 0 ? lc->lc_ml_max_lines : 100;
	li->li_ml_timeout = (int64_t)(lc->lc_ml_timeout > 0 ?
	    lc->lc_ml_timeout : 1) * 1000;
	li->li_json_enabled = lc->lc_json_enabled;
	li->li_json_level = lc->lc_json_extract_level;
	li->li_json_message = lc->lc_json_extract_message;
	li->li_json_merge = lc->lc_json_merge_fields;
	li->li_ld_enabled = lc->lc_ld_enabled;
	li->li_ld_default = lc->lc_ld_default;
	li->li_ml.b_max = li->li_long.b_max = LOGINTEL_ENTRY_MAX + 1;
	li->li_red[0].b_max = li->li_red[1].b_max = LOGINTEL_ENTRY_MAX + 1;
	for (i = 0; i < LOGINTEL_OUT_MAX; i++) {
		li->li_text[i].b_max = LOGINTEL_ENTRY_MAX + 1;
		li->li_arena[i].b_max = LI_ARENA_MAX;
	}
	if (conf_compile(li, lc, err, errlen) == -1)
		goto fail;
	li->li_jbuf.b_max = LOGINTEL_ENTRY_MAX + 1;
	if ((li->li_mctx = pcre2_match_context_create(NULL)) == NULL ||
	    (li->li_json_enabled &&
	    ((li->li_tok = json_tokener_new_ex(LI_JSON_DEPTH)) == NULL ||
	    (li->li_jm = calloc(LI_JR_MEMBERS, sizeof(*li->li_jm))) ==
	    NULL))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	pcre2_set_match_limit(li->li_mctx, LOGINTEL_MATCH_LIMIT);
	pcre2_set_depth_limit(li->li_mctx, LOGINTEL_DEPTH_LIMIT);
	pcre2_set_heap_limit(li->li_mctx, LOGINTEL_HEAP_LIMIT);
	if (li_lib.jit != NULL)
		pcre2_jit_stack_assign(li->li_mctx, NULL, li_lib.jit);
	if (li->li_tok != NULL)
		json_tokener_set_flags(li->li_tok, JSON_TOKENER_STRICT);
	li->li_jmsize = li->li_jm != NULL ? LI_JR_MEMBERS : 0;
	return (li);
 fail:
	logintel_free(li);
	return (NULL);
}

void
logintel_free(struct logintel *li)
{
	size_t	i;

	if (li == NULL)
		return;
	for (i = 0; i < li->li_nredact; i++) {
		if (li->li_redact[i].rx_builtin)
			continue;
		pcre2_code_free(li->li_redact[i].rx_code);
		free(li->li_redact[i].rx_need);
		free(li->li_redact[i].rx_repl);
		free(li->li_redact[i].rx_ops);
	}
	free(li->li_redact);
	pat_free(&li->li_ml_start);
	for (i = 0; i < LI_NITEMS(li->li_ld); i++)
		pat_free(&li->li_ld[i]);
	for (i = 0; i < li->li_nexclude; i++)
		pat_free(&li->li_exclude[i]);
	for (i = 0; i < li->li_ninclude; i++)
		pat_free(&li->li_include[i]);
	free(li->li_exclude);
	free(li->li_include);
	pcre2_match_data_free(li->li_md);
	pcre2_match_context_free(li->li_mctx);
	if (li->li_tok != NULL)
		json_tokener_free(li->li_tok);
	free(li->li_jm);
	libuf_free(&li->li_jbuf);
	libuf_free(&li->li_ml);
	libuf_free(&li->li_long);
	for (i = 0; i < 2; i++)
		libuf_free(&li->li_red[i]);
	for (i = 0; i < LOGINTEL_OUT_MAX; i++) {
		libuf_free(&li->li_text[i]);
		libuf_free(&li->li_arena[i]);
	}
	free(li);
	lib_unref();
}

/* Bytes of the UTF-8 character at off; 1 for a stray byte. */
static size_t
utf8_len(const char *s, size_t len, size_t off)
{
	unsigned char	c = (unsigned char)s[off];
	size_t		n, i;

	if (c < 0xc2 || c > 0xf4)
		return (1);
	n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (off + n > len)
		return (1);
	for (i = 1; i < n; i++)
		if (((unsigned char)s[off + i] & 0xc0) != 0x80)
			return (1);
	return (n);
}

/*
 * A card number: 13 to 19 digits, plain or in groups of 4 (then 4 to
 * 6) with one kind of separator, a known brand prefix and a good Luhn
 * sum.  Returns the length of the longest such prefix of s[0..len), so
 * a number followed by more digits ("4111 ... 1111 22") is still found,
 * or 0.
 */
static size_t
card_check(const char *s, size_t len)
{
	char	d[20];
	size_t	i, best = 0, nd = 0, glen = 0, ngroups = 0;
	int	sep = 0, sum, k, v, p2, p4;

	for (i = 0; i <= len; i++) {
		if (i < len && isdigit((unsigned char)s[i])) {
			if (nd == 19)
				break;
			d[nd++] = s[i];
			glen++;
			continue;
		}
		/* a group ends here: is what came before a card? */
		if (nd >= 13 && (sep == 0 || (glen >= 3 && glen <= 6))) {
			p2 = (d[0] - '0') * 10 + (d[1] - '0');
			p4 = p2 * 100 + (d[2] - '0') * 10 + (d[3] - '0');
			if (d[0] == '4' || (p2 >= 51 && p2 <= 55) ||
			    (p4 >= 2221 && p4 <= 2720) || p2 == 34 ||
			    p2 == 37 || p4 == 6011 || p2 == 65 ||
			    (p4 >= 6440 && p4 <= 6499) || p2 == 62 ||
			    p2 == 35 || p2 == 30 || p2 == 36 || p2 == 38 ||
			    p2 == 39) {
				for (sum = 0, k = (int)nd - 1; k >= 0; k--) {
					v = d[k] - '0';
					if (((int)nd - 1 - k) % 2 == 1 &&
					    (v *= 2) > 9)
						v -= 9;
					sum += v;
				}
				if (sum % 10 == 0)
					best = i;
			}
		}
		if (i == len)
			break;
		if ((sep != 0 && s[i] != sep) ||
		    (ngroups == 0 && glen != 4) ||
		    (ngroups > 0 && (glen < 4 || glen > 6)))
			break;
		sep = s[i];
		ngroups++;
		glen = 0;
	}
	return (best);
}

#define LI_BIT(b)	(1U << (b))

/*
 * What the key before the separator s[i] (':' or '=') may let match:
 * the credential pattern wants one of its words in the key, the
 * authorization pattern a key that ends in "authorization".  Between
 * key and separator: maybe a backslash, a quote, spaces.
 */
static unsigned int
key_hints(const char *s, size_t i)
{
	unsigned int	 h = 0;
	size_t		 end, j, k, wl;
	const char	*w;

	for (end = i; end > 0 && LI_IS(s[end - 1], LI_C_SPACE); end--)
		;
	if (end > 0 && (s[end - 1] == '"' || s[end - 1] == '\''))
		end--;
	if (end > 0 && s[end - 1] == '\\')
		end--;
	if (end >= 13 && caseeq(s + end - 13, "authorization", 13))
		h |= LI_BIT(LI_AUTHORIZATION);
	for (j = end; j > 0 && (LI_IS(s[j - 1], LI_C_WORD) ||
	    s[j - 1] == '.' || s[j - 1] == '-'); j--)
		;
	/* the credential pattern's words, by their first two letters */
	for (k = j; k + 3 <= end; k++) {
		switch ((s[k] | 0x20) << 8 | (s[k + 1] | 0x20)) {
		case 'p' << 8 | 'a':
			w = "pass";
			wl = 4;
			break;
		case 'p' << 8 | 'w':
			w = "pwd";
			wl = 3;
			break;
		case 's' << 8 | 'e':
			w = "secret";
			wl = 6;
			break;
		case 't' << 8 | 'o':
			w = "token";
			wl = 5;
			break;
		case 'k' << 8 | 'e':
			w = "key";
			wl = 3;
			break;
		case 'c' << 8 | 'r':
			w = "credential";
			wl = 10;
			break;
		default:
			continue;
		}
		if (end - k >= wl && caseeq(s + k, w, wl))
			return (h | LI_BIT(LI_CREDENTIAL));
	}
	return (h);
}

/* Ends the user (with ':' and '@') or the password of a URL. */
#define LI_URL_STOP(c, user)	(LI_IS((c), LI_C_SPACE) || (c) == '/' || \
				    (c) == '?' || (c) == '#' || \
				    ((user) && ((c) == ':' || (c) == '@')))

/*
 * Could the URL pattern take the credentials after a "://" that ends
 * at s[i]?  Its "[^\s:/?#@]*:([^\s/?#]+)@": a user, ':', then at least
 * one byte before an '@', none of them a space, '/', '?' or '#'.
 */
static int
url_hint(const char *s, size_t i, size_t len)
{
	size_t	j;

	for (; i < len && !LI_URL_STOP(s[i], 1); i++)
		;
	if (i == len || s[i] != ':')
		return (0);
	for (j = i + 1; j < len && !LI_URL_STOP(s[j], 0); j++)
		if (s[j] == '@' && j > i + 1)
			return (1);
	return (0);
}

/*
 * The scans that see every byte of an entry (redact_hints() and
 * level_builtin()) stop at few of them.  They take the bytes to stop
 * at as masks, 64 bytes at a time: bit k for s[off + k].  With SSE2
 * (every x86-64) sixteen bytes are classed at once, without a branch;
 * elsewhere one at a time, by the byte class table.  Both class bytes
 * exactly as the table does.
 */
#define LI_BLOCK	64

#ifdef __SSE2__
/* Bytes of x in [lo, lo + n]: as unsigned, which SSE2 cannot compare. */
#define LI_V_RANGE(x, lo, n)	_mm_cmpeq_epi8(_mm_min_epu8( \
				    _mm_sub_epi8((x), _mm_set1_epi8((char)(lo))), \
				    _mm_set1_epi8((char)(n))), \
				    _mm_sub_epi8((x), _mm_set1_epi8((char)(lo))))
#define LI_V_EQ(x, c)		_mm_cmpeq_epi8((x), _mm_set1_epi8((char)(c)))

/* LI_C_HINT (":=-_AJbB"); digits into *dv, ' ' and '-' into *sv */
static unsigned int
hint_mask16(const char *p, unsigned int *dv, unsigned int *sv)
{
	__m128i	x, m, dash;

	x = _mm_loadu_si128((const __m128i *)(const void *)p);
	dash = LI_V_EQ(x, '-');
	m = _mm_or_si128(LI_V_EQ(x, ':'), LI_V_EQ(x, '='));
	m = _mm_or_si128(m, _mm_or_si128(dash, LI_V_EQ(x, '_')));
	m = _mm_or_si128(m, _mm_or_si128(LI_V_EQ(x, 'A'), LI_V_EQ(x, 'J')));
	m = _mm_or_si128(m, _mm_or_si128(LI_V_EQ(x, 'b'), LI_V_EQ(x, 'B')));
	*dv = (unsigned int)_mm_movemask_epi8(LI_V_RANGE(x, '0', 9));
	*sv = (unsigned int)_mm_movemask_epi8(_mm_or_si128(dash,
	    LI_V_EQ(x, ' ')));
	return ((unsigned int)_mm_movemask_epi8(m));
}

/* LI_C_WORD, and LI_C_LEVEL ("[\"lsfp" and uppercase) into *lv */
static unsigned int
level_mask16(const char *p, unsigned int *lv)
{
	__m128i	x, up, w, l;

	x = _mm_loadu_si128((const __m128i *)(const void *)p);
	up = LI_V_RANGE(x, 'A', 25);
	w = _mm_or_si128(_mm_or_si128(up, LI_V_RANGE(x, 'a', 25)),
	    _mm_or_si128(LI_V_RANGE(x, '0', 9), LI_V_EQ(x, '_')));
	l = _mm_or_si128(_mm_or_si128(up, LI_V_EQ(x, '[')),
	    _mm_or_si128(LI_V_EQ(x, '"'), LI_V_EQ(x, 'l')));
	l = _mm_or_si128(l, _mm_or_si128(LI_V_EQ(x, 's'), LI_V_EQ(x, 'f')));
	l = _mm_or_si128(l, LI_V_EQ(x, 'p'));
	*lv = (unsigned int)_mm_movemask_epi8(l);
	return ((unsigned int)_mm_movemask_epi8(w));
}
#endif

/* Bits set: without a POPCNT instruction, and no call for it. */
static size_t
li_popcount(uint64_t x)
{
	x -= (x >> 1) & 0x5555555555555555ULL;
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return ((size_t)((x * 0x0101010101010101ULL) >> 56));
}

/*
 * The bytes of s[off..len), at most LI_BLOCK, redact_hints() looks
 * at: LI_C_HINT; digits into *dm, spaces and dashes into *sm.
 */
static uint64_t
hint_mask(const char *s, size_t len, size_t off, uint64_t *dm, uint64_t *sm)
{
	uint64_t	m = 0, d = 0, sp = 0;
	size_t		n = len - off < LI_BLOCK ? len - off : LI_BLOCK, k = 0;

#ifdef __SSE2__
	unsigned int	hv, dv, sv, sh;

	for (; k + 16 <= n; k += 16) {
		m |= (uint64_t)hint_mask16(s + off + k, &dv, &sv) << k;
		d |= (uint64_t)dv << k;
		sp |= (uint64_t)sv << k;
	}
	/* the rest: the text's last 16 bytes, only the ones wanted */
	if (k < n && off + n >= 16) {
		hv = hint_mask16(s + off + n - 16, &dv, &sv);
		sh = 16 - (unsigned int)(n - k);
		*dm = d | (uint64_t)(dv >> sh) << k;
		*sm = sp | (uint64_t)(sv >> sh) << k;
		return (m | (uint64_t)(hv >> sh) << k);
	}
#endif
	for (; k < n; k++) {
		if (LI_IS(s[off + k], LI_C_HINT))
			m |= (uint64_t)1 << k;
		if (LI_IS(s[off + k], LI_C_DIGIT))
			d |= (uint64_t)1 << k;
		if (s[off + k] == ' ' || s[off + k] == '-')
			sp |= (uint64_t)1 << k;
	}
	*dm = d;
	*sm = sp;
	return (m);
}

/* The same for level_builtin(): LI_C_LEVEL, and LI_C_WORD into *wm. */
static uint64_t
level_mask(const char *s, size_t len, size_t off, uint64_t *wm)
{
	uint64_t	m = 0, w = 0;
	size_t		n = len - off < LI_BLOCK ? len - off : LI_BLOCK, k = 0;

#ifdef __SSE2__
	unsigned int	lv, wv;

	for (; k + 16 <= n; k += 16) {
		w |= (uint64_t)level_mask16(s + off + k, &lv) << k;
		m |= (uint64_t)lv << k;
	}
	if (k < n && off + n >= 16) {
		wv = level_mask16(s + off + n - 16, &lv);
		*wm = w | (uint64_t)(wv >> (16 - (n - k))) << k;
		return (m | (uint64_t)(lv >> (16 - (n - k))) << k);
	}
#endif
	for (; k < n; k++) {
		if (LI_IS(s[off + k], LI_C_LEVEL))
			m |= (uint64_t)1 << k;
		if (LI_IS(s[off + k], LI_C_WORD))
			w |= (uint64_t)1 << k;
	}
	*wm = w;
	return (m);
}

/*
 * Which built-in patterns could match s[0..len)?  One pass that stops
 * only at the few bytes each pattern cannot do without (':', '=',
 * '-', '_', 'A', 'J', 'b', a run of 13 digits): a pattern left out
 * cannot match, and most lines leave out all.
 */
static unsigned int
redact_hints(const char *s, size_t len)
{
	unsigned int	h = 0;
	size_t		i, base, st, rl, nd, open = 0;
	uint64_t	m, d, sp, in, c, r, prevd = 0, nextd;

	for (base = 0; base < len; base += LI_BLOCK) {
		m = hint_mask(s, len, base, &d, &sp);
		/*
		 * Runs of digits, a space or a dash between two: a card
		 * number wants 13 digits in one.  A run may go on from
		 * the block before (open of its digits).
		 */
		nextd = base + LI_BLOCK < len &&
		    LI_IS(s[base + LI_BLOCK], LI_C_DIGIT);
		in = sp & (d << 1 | prevd) & (d >> 1 | nextd << (LI_BLOCK - 1));
		prevd = d >> (LI_BLOCK - 1);
		c = d | in;
		if (open > 0 && (c & 1) == 0) {
			if (open >= 13)
				h |= LI_BIT(LI_CARD);
			open = 0;
		}
		for (; c != 0; c &= ~r) {
			st = (size_t)__builtin_ctzll(c);
			rl = ~(c >> st) == 0 ? LI_BLOCK - st :
			    (size_t)__builtin_ctzll(~(c >> st));
			r = (rl == LI_BLOCK ? ~(uint64_t)0 :
			    ((uint64_t)1 << rl) - 1) << st;
			nd = li_popcount(d & r) + open;
			open = 0;
			if (st + rl == LI_BLOCK && base + LI_BLOCK < len)
				open = nd;
			else if (nd >= 13)
				h |= LI_BIT(LI_CARD);
		}
		/*
		 * A dash in a run, between digits, can neither start
		 * "-----BEGIN " nor end "glpat-": not looked at.
		 */
		for (m &= ~in; m != 0; m &= m - 1) {
			i = base + (size_t)__builtin_ctzll(m);
			switch (s[i]) {
			case ':':
				if (LI_HAS(s + i, len - i, "://") &&
				    url_hint(s, i + 3, len))
					h |= LI_BIT(LI_URL);
				/* FALLTHROUGH */
			case '=':
				h |= key_hints(s, i);
				break;
			case '-':
				if (LI_HAS(s + i, len - i, "-----BEGIN "))
					h |= LI_BIT(LI_PRIVATE_KEY);
				if ((i >= 5 &&
				    LI_HAS(s + i - 5, 6, "glpat-")) ||
				    (i >= 4 && LI_HAS(s + i - 4, 3, "xox")))
					h |= LI_BIT(LI_API_KEY);
				break;
			case '_':
				if (LI_HAS(s + i, len - i, "_live_") ||
				    LI_HAS(s + i, len - i, "_test_") ||
				    (i >= 3 && s[i - 3] == 'g' &&
				    s[i - 2] == 'h' &&
				    strchr("pousr", s[i - 1]) != NULL) ||
				    (i >= 10 &&
				    LI_HAS(s + i - 10, 11, "github_pat_")))
					h |= LI_BIT(LI_API_KEY);
				break;
			case 'A':
				if (LI_HAS(s + i, len - i, "AKIA") ||
				    LI_HAS(s + i, len - i, "ASIA") ||
				    LI_HAS(s + i, len - i, "AIza"))
					h |= LI_BIT(LI_API_KEY);
				break;
			case 'J':
				if (i >= 3 && LI_HAS(s + i - 3, 4, ".eyJ"))
					h |= LI_BIT(LI_JWT);
				break;
			case 'b':
			case 'B':
				if (len - i > 6 &&
				    caseeq(s + i, "bearer", 6) &&
				    LI_IS(s[i + 6], LI_C_SPACE))
					h |= LI_BIT(LI_BEARER);
				break;
			}
		}
	}
	return (h);
}

/* Append a user's replacement for the match in the match data. */
static void
redact_expand(struct logintel *li, struct lirx *rx, const char *src, int rc,
    struct libuf *dst)
{
	PCRE2_SIZE		*ov = pcre2_get_ovector_pointer(li->li_md);
	const struct lirepl_op	*op;
	size_t			 i;
	int			 g;

	for (i = 0; i < rx->rx_nops; i++) {
		op = &rx->rx_ops[i];
		g = op->op_group;
		if (g == LI_OP_TEXT)
			libuf_add(dst, rx->rx_repl + op->op_off, op->op_len);
		else if (g >= 0 && g < rc && ov[2 * g] != PCRE2_UNSET)
			libuf_add(dst, src + ov[2 * g],
			    ov[2 * g + 1] - ov[2 * g]);
	}
}

/*
 * Replace every match of one pattern in src into dst, as Go's
 * ReplaceAllString does it (an empty match right after a match is
 * left alone).  Returns the number of replacements; 0 leaves dst
 * untouched.  A run given up replaces the rest of the entry.
 */
static int
redact_one(struct logintel *li, struct lirx *rx, const char *src,
    size_t len, struct libuf *dst)
{
	PCRE2_SIZE	*ov = pcre2_get_ovector_pointer(li->li_md);
	size_t		 search = 0, last = 0, a0, a1, g0, g1, w, n = 0;
	int		 rc, g = 0, card = 0;

	if (rx->rx_builtin) {
		g = li_builtin_redact[rx->rx_which].group;
		card = rx->rx_which == LI_CARD;
	} else if (!need_met(rx->rx_need, src, len))
		return (0);
	while (search <= len) {
		if ((rc = rx_match(li, rx->rx_code, src, len, search)) == 0)
			break;
		if (rc < 0) {
			/* fail closed: nothing past here is known clean */
			if (n++ == 0)
				libuf_reset(dst);
			libuf_add(dst, src + last, search - last);
			libuf_add(dst, rx->rx_builtin ? LOGINTEL_PLACEHOLDER :
			    LOGINTEL_REPLACEMENT, rx->rx_builtin ?
			    sizeof(LOGINTEL_PLACEHOLDER) - 1 :
			    sizeof(LOGINTEL_REPLACEMENT) - 1);
			return ((int)n);
		}
		a0 = ov[0];
		a1 = ov[1];
		if (card && (a1 = a0 + card_check(src + a0, a1 - a0)) == a0) {
			/* not a card: look again one character on */
			search = a0 + utf8_len(src, len, a0);
			continue;
		}
		if (n++ == 0)
			libuf_reset(dst);
		libuf_add(dst, src + last, a0 - last);
		if (!rx->rx_builtin) {
			if (a1 > last || a0 == 0)
				redact_expand(li, rx, src, rc, dst);
			else
				n--;
		} else {
			/* replace the value, keep the key and the quotes */
			g0 = a0;
			g1 = a1;
			if (g != 0) {
				g0 = g < rc ? ov[2 * g] : PCRE2_UNSET;
				g1 = g0 == PCRE2_UNSET ? a1 : ov[2 * g + 1];
				if (g0 == PCRE2_UNSET)
					g0 = a1;	/* nothing to hide */
			}
			libuf_add(dst, src + a0, g0 - a0);
			libuf_add(dst, LOGINTEL_PLACEHOLDER,
			    sizeof(LOGINTEL_PLACEHOLDER) - 1);
			libuf_add(dst, src + g1, a1 - g1);
		}
		last = a1;
		w = search < len ? utf8_len(src, len, search) : 1;
		if (search + w > a1)
			search += w;
		else if (search + 1 > a1)
			search++;
		else
			search = a1;
	}
	if (n > 0)
		libuf_add(dst, src + last, len - last);
	return ((int)n);
}

/* Every pattern in order, each over the previous one's output. */
static const char *
redact(struct logintel *li, const char *text, size_t *len)
{
	struct libuf	*dst;
	struct lirx	*rx;
	unsigned int	 hints = 0;
	size_t		 i;
	int		 turn = 0, n, stale = 1;

	for (i = 0; i < li->li_nredact; i++) {
		rx = &li->li_redact[i];
		if (rx->rx_builtin) {
			/* anew whenever a replacement changed the text */
			if (stale)
				hints = redact_hints(text, *len);
			stale = 0;
			if ((hints & LI_BIT(rx->rx_which)) == 0)
				continue;
		}
		dst = &li->li_red[turn];
		if ((n = redact_one(li, rx, text, *len, dst)) == 0)
			continue;
		if (dst->b_short) {
			/* a longer replacement hit the cap */
			libuf_cut(dst, 1);
			li->li_flags |= LOGINTEL_F_CUT;
		}
		li->li_stats.ls_redactions += (uint64_t)n;
		li->li_flags |= LOGINTEL_F_REDACTED;
		stale = 1;
		text = dst->b_buf != NULL ? dst->b_buf : "";
		*len = dst->b_len;
		turn = !turn;
	}
	return (text);
}

/*
 * A JSON level: phpeek-pm's names, the wider set its documentation
 * lists, and numeric levels (Monolog's 100..600, pino's 10..60).
 * -1 when it says nothing usable.
 */
static int
json_level(const struct lijmem *m)
{
	static const struct {
		const char	*name;
		size_t		 len;
		int		 level;
	} names[] = {
		{ "debug", 5, LOG_LVL_DEBUG }, { "trace", 5, LOG_LVL_DEBUG },
		{ "info", 4, LOG_LVL_INFO }, { "notice", 6, LOG_LVL_INFO },
		{ "information", 11, LOG_LVL_INFO },
		{ "warn", 4, LOG_LVL_WARN }, { "warning", 7, LOG_LVL_WARN },
		{ "error", 5, LOG_LVL_ERROR }, { "err", 3, LOG_LVL_ERROR },
		{ "fatal", 5, LOG_LVL_ERROR }, { "critical", 8, LOG_LVL_ERROR },
		{ "crit", 4, LOG_LVL_ERROR }, { "alert", 5, LOG_LVL_ERROR },
		{ "emergency", 9, LOG_LVL_ERROR }, { "emerg", 5, LOG_LVL_ERROR },
		{ "panic", 5, LOG_LVL_ERROR },
	};
	const char	*nul;
	int64_t		 n;
	size_t		 i, len;

	if (m->m_type == LI_J_STRING) {
		/* a decoded \u0000 ends the name, as for strcasecmp(3) */
		len = m->m_vlen;
		if ((nul = memchr(m->m_val, '\0', len)) != NULL)
			len = (size_t)(nul - m->m_val);
		for (i = 0; i < LI_NITEMS(names); i++)
			if (names[i].len == len &&
			    caseeq(m->m_val, names[i].name, len))
				return (names[i].level);
		return (-1);
	}
	if (m->m_type != LI_J_INT)
		return (-1);
	n = m->m_int;
	if (n >= 100)
		return (n < 200 ? LOG_LVL_DEBUG : n < 300 ? LOG_LVL_INFO :
		    n < 400 ? LOG_LVL_WARN : LOG_LVL_ERROR);
	if (n >= 10)
		return (n <= 20 ? LOG_LVL_DEBUG : n < 40 ? LOG_LVL_INFO :
		    n < 50 ? LOG_LVL_WARN : LOG_LVL_ERROR);
	return (-1);
}

/* Blanks between JSON tokens, as json-c takes them. */
static void
jr_ws(struct lijread *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
	    *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int
jr_hex(const char *p, unsigned int *u)
{
	int	i, c;

	*u = 0;
	for (i = 0; i < 4; i++) {
		c = (unsigned char)p[i];
		if (c >= '0' && c <= '9')
			c -= '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			c = (c | 0x20) - 'a' + 10;
		else
			return (-1);
		*u = *u << 4 | (unsigned int)c;
	}
	return (0);
}

/*
 * The string at r->p.  decode: its value, without quotes.  Otherwise
 * inside a nested value, as json-c would write it again: then any
 * escape json-c would write differently (\/, \u) is left to json-c,
 * as are, either way, control characters and \u escapes whose
 * decoding has corners (NUL, surrogates).  Never writes more bytes
 * than it reads.
 */
static int
jr_string(struct lijread *r, int decode)
{
	const char	*p = r->p + 1, *q;
	unsigned int	 u;
	char		 c;

	if (!decode)
		*r->out++ = '"';
	for (;;) {
		for (q = p; q < r->end && !LI_IS(*q, LI_C_JSTR); q++)
			;
		memcpy(r->out, p, (size_t)(q - p));
		r->out += q - p;
		if (q == r->end || *q != '\\')
			break;
		if (r->end - q < 2)
			return (-1);
		switch (q[1]) {
		case '"':
		case '\\':
			c = q[1];
			break;
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case '/':
			if (!decode)
				return (-1);
			c = '/';
			break;
		case 'u':
			if (!decode || r->end - q < 6 || jr_hex(q + 2, &u) == -1 ||
			    u == 0 || (u >= 0xd800 && u <= 0xdfff))
				return (-1);
			if (u < 0x80)
				*r->out++ = (char)u;
			else if (u < 0x800) {
				*r->out++ = (char)(0xc0 | u >> 6);
				*r->out++ = (char)(0x80 | (u & 0x3f));
			} else {
				*r->out++ = (char)(0xe0 | u >> 12);
				*r->out++ = (char)(0x80 | ((u >> 6) & 0x3f));
				*r->out++ = (char)(0x80 | (u & 0x3f));
			}
			p = q + 6;
			continue;
		default:
			return (-1);
		}
		if (decode)
			*r->out++ = c;
		else {
			*r->out++ = '\\';
			*r->out++ = q[1];
		}
		p = q + 2;
	}
	if (q == r->end || *q != '"')
		return (-1);
	if (!decode)
		*r->out++ = '"';
	r->p = q + 1;
	return (0);
}

/*
 * A number as json-c writes it again: its own text, for an integer
 * only when that is how json-c prints the int64 it holds (no "-0", no
 * more digits than fit).  LI_J_INT or LI_J_OTHER; -1: json-c decides.
 */
static int
jr_number(struct lijread *r, int64_t *iv)
{
	const char	*p = r->p, *d, *e;
	int64_t		 n = 0;
	int		 type = LI_J_INT;

	if (p < r->end && *p == '-')
		p++;
	d = p;
	if (p == r->end || !LI_IS(*p, LI_C_DIGIT))
		return (-1);
	if (*p == '0')
		p++;
	else
		while (p < r->end && LI_IS(*p, LI_C_DIGIT))
			p++;
	if (p < r->end && LI_IS(*p, LI_C_DIGIT))
		return (-1);
	e = p;
	if (p < r->end && *p == '.') {
		type = LI_J_OTHER;
		if (++p == r->end || !LI_IS(*p, LI_C_DIGIT))
			return (-1);
		while (p < r->end && LI_IS(*p, LI_C_DIGIT))
			p++;
	}
	if (p < r->end && (*p == 'e' || *p == 'E')) {
		type = LI_J_OTHER;
		if (++p < r->end && (*p == '+' || *p == '-'))
			p++;
		if (p == r->end || !LI_IS(*p, LI_C_DIGIT))
			return (-1);
		while (p < r->end && LI_IS(*p, LI_C_DIGIT))
			p++;
	}
	if (type == LI_J_INT) {
		/* json-c prints "-0" as "0"; an int64 holds 18 digits */
		if (e - d > 18 || (e - d == 1 && *d == '0' && d != r->p))
			return (-1);
		for (; d < e; d++)
			n = n * 10 + (*d - '0');
		if (iv != NULL)
			*iv = *r->p == '-' ? -n : n;
	}
	memcpy(r->out, r->p, (size_t)(p - r->p));
	r->out += p - r->p;
	r->p = p;
	return (type);
}

static int
jr_literal(struct lijread *r)
{
	size_t	n, left = (size_t)(r->end - r->p);

	if (LI_HAS(r->p, left, "true") || LI_HAS(r->p, left, "null"))
		n = 4;
	else if (LI_HAS(r->p, left, "false"))
		n = 5;
	else
		return (-1);
	memcpy(r->out, r->p, n);
	r->out += n;
	r->p += n;
	return (0);
}

/*
 * A value inside the object, written as json-c writes it (no blanks);
 * -1 for what json-c would write otherwise, or might refuse: a key
 * twice in an object, deep nesting, anything jr_string and jr_number
 * leave to it.
 */
static int
jr_nested(struct lijread *r, int depth)
{
	const char	*key;
	size_t		 k0, i, klen;
	char		 close;

	if (r->p == r->end)
		return (-1);
	switch (*r->p) {
	case '"':
		return (jr_string(r, 0));
	case 't':
	case 'f':
	case 'n':
		return (jr_literal(r));
	case '{':
	case '[':
		break;
	default:
		return (jr_number(r, NULL) == -1 ? -1 : 0);
	}
	if (depth >= LI_JR_DEPTH)
		return (-1);
	close = *r->p == '{' ? '}' : ']';
	*r->out++ = *r->p++;
	k0 = r->nkeys;
	jr_ws(r);
	if (r->p < r->end && *r->p == close) {
		*r->out++ = *r->p++;
		return (0);
	}
	for (;;) {
		if (close == '}') {
			if (r->p == r->end || *r->p != '"' ||
			    r->nkeys == LI_JR_KEYS)
				return (-1);
			key = r->out;
			if (jr_string(r, 0) == -1)
				return (-1);
			klen = (size_t)(r->out - key);
			for (i = k0; i < r->nkeys; i++)
				if (r->klen[i] == klen &&
				    memcmp(r->keys[i], key, klen) == 0)
					return (-1);
			r->keys[r->nkeys] = key;
			r->klen[r->nkeys++] = klen;
			jr_ws(r);
			if (r->p == r->end || *r->p != ':')
				return (-1);
			*r->out++ = *r->p++;
			jr_ws(r);
		}
		if (jr_nested(r, depth + 1) == -1)
			return (-1);
		jr_ws(r);
		if (r->p == r->end)
			return (-1);
		if (*r->p == ',') {
			*r->out++ = *r->p++;
			jr_ws(r);
			continue;
		}
		if (*r->p != close)
			return (-1);
		*r->out++ = *r->p++;
		r->nkeys = k0;
		return (0);
	}
}

/*
 * The object s[0..len) ('{' to '}') into li_jm without json-c, for
 * the objects log lines hold; -1 leaves the line to json-c, whose
 * answer is the reference: everything read here reads as it would.
 * Keys and values go to li_jbuf, which redaction never writes.
 */
static int
json_fast(struct logintel *li, const char *s, size_t len)
{
	struct lijread	 r;
	struct lijmem	*m;
	size_t		 i;
	int		 t;

	/* nothing read comes out longer: len bytes will do */
	if (libuf_room(&li->li_jbuf, len) == -1 ||
	    li->li_jbuf.b_size < len + 1)
		return (-1);
	r.p = s + 1;
	r.end = s + len;
	r.out = li->li_jbuf.b_buf;
	r.nkeys = 0;
	li->li_njm = 0;
	jr_ws(&r);
	if (*r.p == '}')
		return (r.p + 1 == r.end ? 0 : -1);
	for (;;) {
		if (*r.p != '"' || li->li_njm == LI_JR_MEMBERS)
			return (-1);
		m = &li->li_jm[li->li_njm];
		m->m_key = r.out;
		if (jr_string(&r, 1) == -1)
			return (-1);
		m->m_klen = (size_t)(r.out - m->m_key);
		for (i = 0; i < li->li_njm; i++)
			if (li->li_jm[i].m_klen == m->m_klen &&
			    memcmp(li->li_jm[i].m_key, m->m_key,
			    m->m_klen) == 0)
				return (-1);
		jr_ws(&r);
		if (r.p == r.end || *r.p != ':')
			return (-1);
		r.p++;
		jr_ws(&r);
		if (r.p == r.end)
			return (-1);
		m->m_val = r.out;
		switch (*r.p) {
		case '"':
			t = jr_string(&r, 1) == -1 ? -1 : LI_J_STRING;
			break;
		case '{':
		case '[':
		case 't':
		case 'f':
		case 'n':
			t = jr_nested(&r, 1) == -1 ? -1 : LI_J_OTHER;
			break;
		default:
			t = jr_number(&r, &m->m_int);
			break;
		}
		if (t == -1)
			return (-1);
		m->m_type = t;
		m->m_vlen = (size_t)(r.out - m->m_val);
		m->m_obj = NULL;
		m->m_gone = 0;
		li->li_njm++;
		jr_ws(&r);
		if (r.p == r.end)
			return (-1);
		if (*r.p == ',') {
			r.p++;
			jr_ws(&r);
			if (r.p == r.end)
				return (-1);
			continue;
		}
		return (*r.p == '}' && r.p + 1 == r.end ? 0 : -1);
	}
}

/* The object as json-c has it, into li_jm. */
static int
json_members(struct logintel *li, json_object *o)
{
	struct json_object_iterator it, end;
	struct lijmem	*m;
	json_object	*jv;
	size_t		 n;

	n = (size_t)json_object_object_length(o);
	if (n > li->li_jmsize) {
		if ((m = reallocarray(li->li_jm, n, sizeof(*m))) == NULL)
			return (-1);
		li->li_jm = m;
		li->li_jmsize = n;
	}
	li->li_njm = 0;
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end) && li->li_njm < n;
	    json_object_iter_next(&it)) {
		m = &li->li_jm[li->li_njm++];
		memset(m, 0, sizeof(*m));
		m->m_key = json_object_iter_peek_name(&it);
		m->m_klen = strlen(m->m_key);
		m->m_obj = jv = json_object_iter_peek_value(&it);
		if (json_object_is_type(jv, json_type_string)) {
			m->m_type = LI_J_STRING;
			m->m_val = json_object_get_string(jv);
			m->m_vlen = (size_t)json_object_get_string_len(jv);
		} else if (json_object_is_type(jv, json_type_int)) {
			m->m_type = LI_J_INT;
			m->m_int = json_object_get_int64(jv);
		} else
			m->m_type = LI_J_OTHER;
	}
	return (0);
}

/*
 * json_tokener_reset() keeps a \u high surrogate pending when a bad
 * escape followed it ("\ud800\u12"): the next line's first \u escape
 * then reads as U+FFFD and itself.  After a parse that did not end
 * well, a new tokener, so that no line changes how another reads.
 */
static void
json_fresh(struct logintel *li)
{
	json_tokener	*tok;

	if ((tok = json_tokener_new_ex(LI_JSON_DEPTH)) == NULL)
		return;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_tokener_free(li->li_tok);
	li->li_tok = tok;
}

/*
 * The entry as a JSON object's members in li_jm: 1 if it is one whole
 * object, else 0.
 */
static int
json_parse(struct logintel *li, const char *s, size_t len)
{
	json_object	*o;

	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	/* only an object will do, detect_auto or not: skip the parser */
	if (len < 2 || s[0] != '{' || s[len - 1] != '}' || len > INT_MAX)
		return (0);
	if (json_fast(li, s, len) == 0)
		return (1);
	json_tokener_reset(li->li_tok);
	o = json_tokener_parse_ex(li->li_tok, s, (int)len);
	if (o != NULL && (json_tokener_get_error(li->li_tok) !=
	    json_tokener_success || json_tokener_get_parse_end(li->li_tok) !=
	    len || !json_object_is_type(o, json_type_object) ||
	    json_members(li, o) == -1)) {
		json_object_put(o);
		o = NULL;
	}
	if (json_tokener_get_error(li->li_tok) != json_tokener_success)
		json_fresh(li);
	li->li_jobj = o;
	return (o != NULL);
}

/*
 * The object's remaining keys, in order, into the slot's arena: at
 * most LOGINTEL_FIELDS_MAX, each cut to its maximum.  Returns how many.
 */
static size_t
json_fields(struct logintel *li, int slot)
{
	struct libuf		*a = &li->li_arena[slot];
	struct logintel_field	*f = li->li_fields[slot];
	const struct lijmem	*m;
	size_t			 koff[LOGINTEL_FIELDS_MAX];
	size_t			 voff[LOGINTEL_FIELDS_MAX];
	const char		*k, *v;
	size_t			 n = 0, klen, vlen, i, j;
	int			 cut;

	libuf_reset(a);
	for (j = 0; j < li->li_njm; j++) {
		m = &li->li_jm[j];
		if (m->m_gone)
			continue;
		if (n == LOGINTEL_FIELDS_MAX) {
			li->li_stats.ls_fields_cut++;
			li->li_flags |= LOGINTEL_F_FIELDS_CUT;
			continue;
		}
		k = m->m_key;
		if ((v = m->m_val) != NULL)
			vlen = m->m_vlen;
		else {
			v = json_object_to_json_string_ext(m->m_obj,
			    JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE);
			vlen = strlen(v);
		}
		if (li->li_decoded)
			v = redact(li, v, &vlen);
		klen = m->m_klen;
		cut = klen > LOGINTEL_KEY_MAX || vlen > LOGINTEL_VALUE_MAX;
		if (klen > LOGINTEL_KEY_MAX)
			klen = LOGINTEL_KEY_MAX;
		if (vlen > LOGINTEL_VALUE_MAX)
			vlen = cut_point(v, LOGINTEL_VALUE_MAX - LI_CUT_LEN,
			    vlen, li->li_redact_enabled);
		koff[n] = a->b_len;
		if (libuf_add(a, k, klen) == -1 || libuf_add(a, "", 1) == -1)
			break;
		voff[n] = a->b_len;
		if (libuf_add(a, v, vlen) == -1 || (cut &&
		    libuf_add(a, LOGINTEL_CUT_MARK, LI_CUT_LEN) == -1) ||
		    libuf_add(a, "", 1) == -1)
			break;
		if (cut) {
			li->li_stats.ls_fields_cut++;
			li->li_flags |= LOGINTEL_F_FIELDS_CUT;
		}
		f[n].lf_vlen = a->b_len - 1 - voff[n];
		f[n].lf_json = m->m_type != LI_J_STRING;
		n++;
	}
	/* pointers only now: the arena may have moved while it grew */
	for (i = 0; i < n; i++) {
		f[i].lf_key = a->b_buf + koff[i];
		f[i].lf_value = a->b_buf + voff[i];
	}
	return (n);
}


/* The level of s[0..len) in a table, or -1. */
static int
word_level(const struct li_word *v, size_t n, const char *s, size_t len,
    int anycase)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (v[i].w_len == len && (anycase ?
		    strncasecmp(v[i].w_word, s, len) :
		    memcmp(v[i].w_word, s, len)) == 0)
			return (v[i].w_level);
	return (-1);
}

/* Does s[0..len) begin with one of the table's words?  Its level. */
static int
prefix_level(const struct li_word *v, size_t n, const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (v[i].w_len <= len &&
		    memcmp(v[i].w_word, s, v[i].w_len) == 0)
			return (v[i].w_level);
	return (-1);
}

/* A level word, any case, alone: what follows is no word character. */
static int
word_at(const char *s, size_t len, size_t *wl)
{
	size_t	n = 0;

	while (n < len && LI_IS(s[n], LI_C_ALPHA))
		n++;
	*wl = n;
	if (n == 0 || (n < len && LI_IS(s[n], LI_C_WORD)))
		return (-1);
	return (word_level(li_level_words, LI_NITEMS(li_level_words), s, n, 1));
}

/*
 * Is s[0..n) the lowercase word w in any case?  As strncasecmp(3) but
 * inline: a byte ORed with 0x20 is a lowercase letter only if it was
 * that letter in either case.
 */
static int
caseeq(const char *s, const char *w, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if ((s[i] | 0x20) != w[i])
			return (0);
	return (1);
}

static int
has(const char *s, size_t len, const char *p)
{
	size_t	n = strlen(p);

	return (len >= n && memcmp(s, p, n) == 0);
}

/* The markers that begin at s, a word start; -1 for none. */
static int
level_at(const char *s, size_t len)
{
	size_t	n, wl;
	int	l;

	switch (*s) {
	case '[':
		l = word_at(s + 1, len - 1, &wl);
		return (wl + 1 < len && s[wl + 1] == ']' ? l : -1);
	case '"':
		if (!LI_HAS(s, len, "\"level"))
			return (-1);
		n = LI_HAS(s + 6, len - 6, "_name\"") ? 12 :
		    LI_HAS(s + 6, len - 6, "\"") ? 7 : 0;
		if (n == 0)
			return (-1);
		while (n < len && LI_IS(s[n], LI_C_SPACE))
			n++;
		if (n == len || s[n++] != ':')
			return (-1);
		while (n < len && LI_IS(s[n], LI_C_SPACE))
			n++;
		if (n == len || s[n++] != '"')
			return (-1);
		l = word_at(s + n, len - n, &wl);
		return (n + wl < len && s[n + wl] == '"' ? l : -1);
	case 'l':
	case 's':
		n = LI_HAS(s, len, "level=") ? 6 : LI_HAS(s, len, "lvl=") ? 4 :
		    LI_HAS(s, len, "severity=") ? 9 : 0;
		if (n == 0)
			return (-1);
		if (n < len && (s[n] == '"' || s[n] == '\''))
			n++;
		return (word_at(s + n, len - n, &wl));
	case 'f':
	case 'p':
		break;
	default:
		if (!LI_IS(*s, LI_C_UPPER))
			return (-1);
		for (n = 0; n < len && LI_IS(s[n], LI_C_UPPER); n++)
			;
		if ((n == len || !LI_IS(s[n], LI_C_WORD)) && (l = word_level(
		    li_upper_words, LI_NITEMS(li_upper_words), s, n, 0)) != -1)
			return (l);
		if (LI_HAS(s, len, "PHP ") && (l = prefix_level(li_php_words,
		    LI_NITEMS(li_php_words), s + 4, len - 4)) != -1)
			return (l);
		if (*s != 'F' && *s != 'P')
			return (-1);
		break;
	}
	/* [Ff]atal error, [Pp]arse error: PHP with or without its prefix */
	if ((LI_HAS(s + 1, len - 1, "atal error") ||
	    LI_HAS(s + 1, len - 1, "arse error")) &&
	    (len == 11 || !LI_IS(s[11], LI_C_WORD)))
		return (LOG_LVL_ERROR);
	return (-1);
}

/* The built-in markers: the most severe found, or -1. */
static int
level_builtin(const char *s, size_t len)
{
	size_t		i, wl, base;
	uint64_t	m, w, prev = 0;
	int		best = -1, l;

	/* "error: ..." or "FATAL ..." opening a line */
	if ((l = prefix_level(li_start_words, LI_NITEMS(li_start_words), s,
	    len)) == -1 && (word_at(s, len, &wl) == -1 || wl != 5 ||
	    (!caseeq(s, "error", 5) && !caseeq(s, "fatal", 5))))
		l = -1;
	else if (l == -1)
		l = LOG_LVL_ERROR;
	best = l;
	for (base = 0; base < len && best != LOG_LVL_ERROR;
	    base += LI_BLOCK) {
		m = level_mask(s, len, base, &w);
		/* markers begin at a word start, '[' or '"' */
		m &= ~(w & (w << 1 | prev));
		prev = w >> (LI_BLOCK - 1);
		for (; m != 0 && best != LOG_LVL_ERROR; m &= m - 1) {
			i = base + (size_t)__builtin_ctzll(m);
			if ((l = level_at(s + i, len - i)) != -1 &&
			    (best == -1 || l < best))
				best = l;
		}
	}
	return (best);
}

/* The user's patterns in severity order, then the built-in ones. */
static int
level_detect(struct logintel *li, const char *s, size_t len)
{
	int	l;

	for (l = LOG_LVL_ERROR; l <= LOG_LVL_DEBUG; l++)
		if (li->li_ld[l].p_code != NULL &&
		    pat_match(li, &li->li_ld[l], s, len) > 0)
			return (l);
	if ((l = level_builtin(s, len)) != -1)
		return (l);
	return (li->li_ld_default);
}

/* The member of that key still in the object, or NULL. */
static struct lijmem *
json_member(struct logintel *li, const char *key, size_t klen)
{
	struct lijmem	*m;
	size_t		 i;

	for (i = 0; i < li->li_njm; i++) {
		m = &li->li_jm[i];
		if (!m->m_gone && m->m_klen == klen &&
		    memcmp(m->m_key, key, klen) == 0)
			return (m);
	}
	return (NULL);
}

/*
 * JSON, step 3: the message and level the object carries.  A level
 * the entry states outright is final: level detection is for entries
 * that state none (phpeek-pm's intent; its code also ran detection
 * over JSON that said "info").  Returns the level, or -1.
 */
static int
entry_json(struct logintel *li, const char **msg, size_t *mlen,
    struct lijmem **mkey)
{
	struct lijmem	*v;
	int		 l = -1;

	if (li->li_json_message) {
		if ((v = json_member(li, "message", 7)) != NULL &&
		    v->m_type == LI_J_STRING)
			*mkey = v;
		else if ((v = json_member(li, "msg", 3)) != NULL &&
		    v->m_type == LI_J_STRING)
			*mkey = v;
		/* an empty message is no message: the whole entry */
		if (*mkey != NULL && (*mkey)->m_vlen > 0) {
			*msg = (*mkey)->m_val;
			*mlen = (*mkey)->m_vlen;
		}
	}
	if (li->li_json_level) {
		if ((v = json_member(li, "level", 5)) != NULL)
			l = json_level(v);
		if (l == -1 && (v = json_member(li, "level_name", 10)) != NULL)
			l = json_level(v);
	}
	return (l);
}

/* Drop the keys the message and level came from, then list the rest. */
static size_t
entry_fields(struct logintel *li, struct lijmem *mkey, int slot)
{
	struct lijmem	*v;

	if (mkey != NULL)
		mkey->m_gone = 1;
	if (li->li_json_level) {
		/* phpeek-pm drops a string level even when it is unknown */
		if ((v = json_member(li, "level", 5)) != NULL &&
		    (v->m_type == LI_J_STRING || json_level(v) != -1))
			v->m_gone = 1;
		if ((v = json_member(li, "level_name", 10)) != NULL &&
		    v->m_type == LI_J_STRING)
			v->m_gone = 1;
	}
	return (json_fields(li, slot));
}

/* Steps 2 to 6 for one finished entry; it may be dropped. */
static void
entry_emit(struct logintel *li, const char *text, size_t len, int lines,
    struct logintel_out *out)
{
	struct logintel_entry	*e = &out->lo_ent[out->lo_n];
	struct libuf		*t = &li->li_text[out->lo_n];
	struct lijmem		*mkey = NULL;
	const char		*msg;
	size_t			 mlen;
	int			 level = -1, json = 0;

	if (li->li_redact_enabled)
		text = redact(li, text, &len);
	msg = text;
	mlen = len;
	if (li->li_json_enabled && (json = json_parse(li, text, len))) {
		li->li_flags |= LOGINTEL_F_JSON;
		li->li_stats.ls_json++;
		level = entry_json(li, &msg, &mlen, &mkey);
	}
	if (level == -1)
		level = li->li_ld_enabled ? level_detect(li, text, len) :
		    LOG_LVL_INFO;
	if (level > li->li_min_level) {
		li->li_stats.ls_drop_level++;
		goto drop;
	}
	if (rx_any(li, li->li_exclude, li->li_nexclude, text, len)) {
		li->li_stats.ls_drop_exclude++;
		goto drop;
	}
	if (li->li_ninclude > 0 &&
	    !rx_any(li, li->li_include, li->li_ninclude, text, len)) {
		li->li_stats.ls_drop_include++;
		goto drop;
	}
	/*
	 * Escapes hide text from the patterns ("mysql:\/\/u:pw@db" as
	 * PHP's json_encode writes it): what decoding revealed is
	 * redacted again.  The entry's own text is not needed any more.
	 */
	li->li_decoded = json && li->li_redact_enabled &&
	    memchr(text, '\\', len) != NULL;
	if (li->li_decoded && msg != text)
		msg = redact(li, msg, &mlen);
	libuf_reset(t);
	if (libuf_add(t, msg, mlen) == -1) {
		libuf_cut(t, li->li_redact_enabled);
		li->li_flags |= LOGINTEL_F_CUT;
	}
	memset(e, 0, sizeof(*e));
	e->ie_fields = li->li_fields[out->lo_n];
	if (json && li->li_json_merge)
		e->ie_nfields = entry_fields(li, mkey, out->lo_n);
	e->ie_msg = t->b_buf != NULL ? t->b_buf : "";
	e->ie_len = t->b_len;
	e->ie_level = level;
	e->ie_lines = lines;
	e->ie_flags = li->li_flags;
	if (e->ie_flags & LOGINTEL_F_CUT)
		li->li_stats.ls_cut++;
	li->li_stats.ls_entries++;
	out->lo_n++;
 drop:
	if (li->li_jobj != NULL) {
		json_object_put(li->li_jobj);
		li->li_jobj = NULL;
	}
	li->li_flags = 0;
}

/* Is the line the rest of a stack trace?  (No pattern given.) */
static int
ml_continues(const char *s, size_t len)
{
	size_t	i, n;

	if (len == 0)
		return (0);
	if (s[0] == ' ' || s[0] == '\t' ||
	    (s[0] == '#' && len > 1 && LI_IS(s[1], LI_C_DIGIT)))
		return (1);
	/* the first byte first: most lines start none of the words */
	for (i = 0; i < LI_NITEMS(li_cont_words); i++)
		if (li_cont_words[i][0] == s[0] &&
		    has(s, len, li_cont_words[i]))
			return (1);
	if (LI_HAS(s, len, "Next ") && len > 5 &&
	    (LI_IS(s[5], LI_C_ALPHA) || s[5] == '_' || s[5] == '\\'))
		return (1);
	if (LI_HAS(s, len, "PHP ")) {
		for (n = 4; n < len && s[n] == ' '; n++)
			;
		for (i = n; i < len && LI_IS(s[i], LI_C_DIGIT); i++)
			;
		if (i > n && i < len && s[i] == '.')
			return (1);
	}
	if (LI_HAS(s, len, "... ")) {
		for (i = 4; i < len && LI_IS(s[i], LI_C_DIGIT); i++)
			;
		if (i > 4 && (LI_HAS(s + i, len - i, " more") ||
		    LI_HAS(s + i, len - i, " common frames omitted")))
			return (1);
	}
	return (0);
}

/* Hand the pending multiline entry on and start afresh. */
static void
ml_flush(struct logintel *li, int flags, struct logintel_out *out)
{
	if (li->li_ml_lines == 0)
		return;
	li->li_flags = li->li_ml_flags | flags;
	entry_emit(li, li->li_ml.b_buf != NULL ? li->li_ml.b_buf : "",
	    li->li_ml.b_len, li->li_ml_lines, out);
	libuf_reset(&li->li_ml);
	li->li_ml_lines = 0;
	li->li_ml_flags = 0;
}

/* Append a line to the pending entry; past the cap, only count it. */
static void
ml_add(struct logintel *li, const char *line, size_t len, int64_t now)
{
	struct libuf	*b = &li->li_ml;

	if (li->li_ml_lines++ == 0)
		li->li_ml_since = now;
	if (li->li_ml_flags & LOGINTEL_F_CUT)
		return;
	if ((li->li_ml_lines > 1 && libuf_add(b, "\n", 1) == -1) ||
	    libuf_add(b, line, len) == -1) {
		libuf_cut(b, 0);
		li->li_ml_flags |= LOGINTEL_F_CUT;
	}
}

int
logintel_line(struct logintel *li, const char *line, size_t len,
    int64_t now, struct logintel_out *out)
{
	struct libuf	*b = &li->li_long;
	int		 start;

	out->lo_n = 0;
	li->li_stats.ls_lines++;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (!li->li_ml_enabled) {
		li->li_flags = 0;
		if (len > LOGINTEL_ENTRY_MAX) {
			libuf_reset(b);
			(void)libuf_add(b, line, len);
			libuf_cut(b, 0);
			li->li_flags = LOGINTEL_F_CUT;
			line = b->b_buf != NULL ? b->b_buf : "";
			len = b->b_len;
		}
		entry_emit(li, line, len, 1, out);
		return (out->lo_n);
	}
	/* a caller without a timer still gets the timeout applied */
	if (li->li_ml_lines > 0 && now - li->li_ml_since >= li->li_ml_timeout) {
		li->li_stats.ls_timeouts++;
		ml_flush(li, LOGINTEL_F_TIMEOUT, out);
	}
	if (li->li_ml_lines > 0) {
		/* a run given up counts as a start: never glue blindly */
		if (li->li_ml_start.p_code != NULL)
			start = pat_match(li, &li->li_ml_start, line,
			    len) != 0;
		else
			start = !ml_continues(line, len);
		if (start)
			ml_flush(li, 0, out);
	}
	ml_add(li, line, len, now);
	if (li->li_ml_lines >= li->li_ml_max)
		ml_flush(li, 0, out);
	return (out->lo_n);
}

int
logintel_flush(struct logintel *li, int64_t now, int force,
    struct logintel_out *out)
{
	out->lo_n = 0;
	if (li->li_ml_lines == 0)
		return (0);
	if (force)
		ml_flush(li, 0, out);
	else if (now - li->li_ml_since >= li->li_ml_timeout) {
		li->li_stats.ls_timeouts++;
		ml_flush(li, LOGINTEL_F_TIMEOUT, out);
	}
	return (out->lo_n);
}

/* When the pending entry falls due (unix ms as given), or -1. */
int64_t
logintel_deadline(const struct logintel *li)
{
	if (li->li_ml_lines == 0)
		return (-1);
	return (li->li_ml_since + li->li_ml_timeout);
}

const struct logintel_stats *
logintel_stats(const struct logintel *li)
{
	return (&li->li_stats);
}
