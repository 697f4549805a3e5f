/*
 * phpeek-pm's YAML configuration: ${VAR} substitution, a bounded node
 * tree from libyaml's events (with line and column of every node), and
 * the typed decode into struct phpeekd_conf with every error, warning
 * and suggestion a user can act on.
 *
 * The input is untrusted: nesting depth, node count (aliases
 * included), size and the number of diagnostics are bounded before
 * anything grows, nothing recurses deeper than MAX_DEPTH, and no step
 * is worse than n log n in the size of the file.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include <json.h>

#include "phpeekd.h"

#define MAX_DEPTH	64
#define MAX_NODES	100000
#define MAX_DIAGS	1000	/* kept; the rest are counted in a summary */
#define MAX_SUGGEST	100	/* did-you-mean searches over process names */

enum node_type {
	N_SCALAR,
	N_MAP,
	N_SEQ
};

struct node {
	enum node_type	  n_type;
	int		  n_line;
	int		  n_col;
	int		  n_quoted;	/* quoted, block or !!str: a string */
	int		  n_open;	/* a collection not yet ended */
	char		 *n_value;	/* scalars */
	struct node	**n_kids;	/* maps: key, value, key, value... */
	size_t		  n_nkids;
	size_t		  n_capkids;
	size_t		  n_size;	/* nodes in this subtree, expanded */
	size_t		  n_start;	/* scalars: characters, as libyaml */
	size_t		  n_end;	/* counts them (mark.index) */
	char		 *n_env;	/* set by this environment variable */
};

/* Characters of the substituted text that came from ${...}. */
struct span {
	size_t		 s_start;
	size_t		 s_end;
};

struct anchor {
	char		*a_name;
	struct node	*a_node;
	size_t		 a_next;	/* hash chain, SIZE_MAX ends it */
};

/* A decoded process with the nodes its later diagnostics point at. */
struct pent {
	struct proc_conf	 *e_pc;
	struct node		 *e_key;
	struct node		 *e_body;
	struct node		**e_deps;	/* one per pc_depends entry */
};

struct parser {
	struct parse_result	*p_pr;
	struct node		**p_all;	/* every node, for freeing */
	size_t			  p_nall;
	size_t			  p_capall;
	size_t			  p_expanded;	/* nodes aliases stand for */
	struct anchor		 *p_anchors;
	size_t			  p_nanchors;
	size_t			  p_capanchors;
	size_t			 *p_buckets;	/* first anchor of a chain */
	size_t			  p_nbuckets;
	struct phpeekd_conf	 *p_conf;
	struct pent		 *p_ents;	/* sorted by name */
	size_t			  p_nents;
	int			  p_have_initial;
	int			  p_have_max;
	int			  p_legacy_backoff;
	int			  p_nerrors;	/* kept or not */
	int			  p_ndiags;	/* kept */
	int			  p_dropped[3];	/* not kept, by severity */
	int			  p_nsuggest;
	struct node		 *p_routes;	/* global.signal_routes */
	struct span		 *p_spans;	/* in text order */
	size_t			  p_nspans;
	size_t			  p_capspans;
};

/* A key of a mapping phpeekd knows; decode NULL: accepted, unused. */
struct key {
	const char	*k_name;
	void		(*k_decode)(struct parser *, struct node *,
			    struct node *, void *);
};

static void	 perr(struct parser *, struct node *, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));
static void	 pwarn(struct parser *, struct node *, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));
static void	 perr_mark(struct parser *, yaml_mark_t, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));
static struct node *node_new(struct parser *, enum node_type, yaml_mark_t);
static void	 node_add(struct node *, struct node *);
static struct node *tree_build(struct parser *, const char *, size_t);
static char	*substitute(struct parser *, const char *, size_t,
		    size_t *);
static void	 decode_map(struct parser *, struct node *, const char *,
		    const struct key *, void *);
static const char *node_kind(struct node *);
static int	 want_scalar(struct parser *, struct node *, const char *,
		    const char *);
static int	 get_int(struct parser *, struct node *, const char *,
		    long long, long long, int *);
static int	 get_bool(struct parser *, struct node *, const char *, int *);
static int	 get_duration(struct parser *, struct node *, const char *,
		    int64_t *);
static int	 get_strlist(struct parser *, struct node *, const char *,
		    struct strlist *);
static int	 get_str(struct parser *, struct node *, const char *,
		    char **);
static int	 levenshtein(const char *, const char *);
static const char *suggest(const char *, const struct key *);
static void	 validate(struct parser *, struct node *);
static void	 decode_env(struct parser *, struct node *, const char *,
		    struct strlist *);
static int	 secret_name(const char *);
static void	 validate_global(struct parser *, struct node *);
static void	 validate_routes(struct parser *);
static void	 validate_actions(struct parser *);
static void	 validate_users(struct parser *);
static struct node *map_get(struct node *, const char *);
static struct pent *ent_find(struct parser *, const char *);

void
diag_add(struct diags *dl, int sev, int line, int col, const char *fmt, ...)
{
	struct diag	*d;
	va_list		 ap;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		fatal("%s", __func__);
	va_start(ap, fmt);
	if (vasprintf(&d->d_msg, fmt, ap) == -1)
		fatal("%s", __func__);
	va_end(ap);
	d->d_severity = sev;
	d->d_line = line;
	d->d_col = col;
	TAILQ_INSERT_TAIL(dl, d, d_entry);
}

/* Whether one more diagnostic would be kept: gates costly messages. */
static int
diag_room(struct parser *p)
{
	return (p->p_ndiags < MAX_DIAGS);
}

static void
pdiag(struct parser *p, int sev, struct node *n, const char *fmt, va_list ap)
{
	char	*msg, *env;

	if (sev == DIAG_ERROR)
		p->p_nerrors++;
	/*
	 * A hostile file can ask for a diagnostic per node; each crosses
	 * to the parent as a message, so only the first ones are kept.
	 */
	if (!diag_room(p)) {
		if (sev >= DIAG_ERROR && sev <= DIAG_SUGGESTION)
			p->p_dropped[sev]++;
		return;
	}
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("%s", __func__);
	env = n != NULL ? n->n_env : NULL;
	diag_add(&p->p_pr->pr_diags, sev, n != NULL ? n->n_line : 0,
	    n != NULL ? n->n_col : 0, "%s%s%s%s", msg, env != NULL ?
	    " (from the environment variable " : "", env != NULL ? env : "",
	    env != NULL ? ")" : "");
	free(msg);
	p->p_ndiags++;
}

static void
perr(struct parser *p, struct node *n, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	pdiag(p, DIAG_ERROR, n, fmt, ap);
	va_end(ap);
}

static void
pwarn(struct parser *p, struct node *n, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	pdiag(p, DIAG_WARNING, n, fmt, ap);
	va_end(ap);
}

static void
psuggest(struct parser *p, struct node *n, const char *fmt, ...)
    __attribute__((__format__(printf, 3, 4)));

static void
psuggest(struct parser *p, struct node *n, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	pdiag(p, DIAG_SUGGESTION, n, fmt, ap);
	va_end(ap);
}

/* An error at a libyaml mark, for problems found before any node. */
static void
perr_mark(struct parser *p, yaml_mark_t mark, const char *fmt, ...)
{
	struct node	m;
	va_list		ap;

	memset(&m, 0, sizeof(m));
	m.n_line = (int)mark.line + 1;
	m.n_col = (int)mark.column + 1;
	va_start(ap, fmt);
	pdiag(p, DIAG_ERROR, &m, fmt, ap);
	va_end(ap);
}

void
parse_result_clear(struct parse_result *pr)
{
	struct diag	*d;

	while ((d = TAILQ_FIRST(&pr->pr_diags)) != NULL) {
		TAILQ_REMOVE(&pr->pr_diags, d, d_entry);
		free(d->d_msg);
		free(d);
	}
	config_free(pr->pr_conf);
	pr->pr_conf = NULL;
	pr->pr_errors = pr->pr_warnings = 0;
}

/* Room for n more bytes in out, which never exceeds CONF_FILE_MAX. */
static int
grow(char **out, size_t *cap, size_t used, size_t n)
{
	size_t	 ncap = *cap;
	char	*np;

	if (n > CONF_FILE_MAX || used + n > CONF_FILE_MAX)
		return (-1);
	if (used + n + 1 <= ncap)
		return (0);
	while (used + n + 1 > ncap)
		ncap = ncap < 4096 ? 4096 : ncap * 2;
	if (ncap > CONF_FILE_MAX + 1)
		ncap = CONF_FILE_MAX + 1;
	if ((np = realloc(*out, ncap)) == NULL)
		fatal("%s", __func__);
	*out = np;
	*cap = ncap;
	return (0);
}

/* Characters in s[0..n), as libyaml counts them: UTF-8 lead bytes. */
static size_t
utf8_chars(const char *s, size_t n)
{
	size_t	i, c = 0;

	for (i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return (c);
}

static void
span_add(struct parser *p, size_t start, size_t end)
{
	struct span	*v;
	size_t		 ncap;

	if (start == end)
		return;
	if (p->p_nspans == p->p_capspans) {
		ncap = p->p_capspans == 0 ? 16 : p->p_capspans * 2;
		if ((v = reallocarray(p->p_spans, ncap, sizeof(*v))) == NULL)
			fatal("%s", __func__);
		p->p_spans = v;
		p->p_capspans = ncap;
	}
	p->p_spans[p->p_nspans].s_start = start;
	p->p_spans[p->p_nspans++].s_end = end;
}

/* Whether any of scalar n's text came from a ${...} substitution. */
static int
substituted(struct parser *p, struct node *n)
{
	size_t	lo = 0, hi = p->p_nspans, mid;

	if (n->n_type != N_SCALAR || n->n_end == 0)
		return (0);
	/* the first span that ends after n starts */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (p->p_spans[mid].s_end <= n->n_start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo < p->p_nspans && p->p_spans[lo].s_start < n->n_end);
}

/* The first c at or after from, or end; *memo caches the last answer. */
static const char *
next_char(const char *from, const char *end, int c, const char **memo)
{
	const char	*q;

	if (*memo != NULL && *memo >= from)
		return (*memo);
	q = memchr(from, c, (size_t)(end - from));
	*memo = q != NULL ? q : end;
	return (*memo);
}

/* getenv of the name in [name, end); a NUL in it names no variable. */
static const char *
env_lookup(const char *name, const char *end)
{
	const char	*val;
	char		*key;

	if (memchr(name, '\0', (size_t)(end - name)) != NULL)
		return (NULL);
	if ((key = strndup(name, (size_t)(end - name))) == NULL)
		fatal("%s", __func__);
	val = getenv(key);
	free(key);
	return (val);
}

/*
 * ${NAME} and ${NAME:-default} on the raw text, as phpeek-pm's regular
 * expression \$\{([^}:]+)(?::-([^}]*))?\} finds them: an empty variable
 * counts as unset for :-, anything else is left as it is.  The next '}'
 * and ':' are remembered rather than searched for again from every
 * '$', so a file of "${${${..." costs one pass, not one per '$'.
 * NULL when the result would exceed CONF_FILE_MAX.
 */
static char *
substitute(struct parser *ps, const char *in, size_t len, size_t *outlen)
{
	const char	*p = in, *end = in + len, *name, *close, *colon;
	const char	*nend, *val, *def, *dollar;
	const char	*mclose = NULL, *mcolon = NULL;
	char		*out = NULL;
	size_t		 o = 0, cap = 0, vlen, dlen, chars = 0, c;

	if (grow(&out, &cap, 0, 0) == -1)
		return (NULL);
	while (p < end) {
		if ((dollar = memchr(p, '$', (size_t)(end - p))) == NULL)
			dollar = end;
		if (dollar > p) {
			if (grow(&out, &cap, o, (size_t)(dollar - p)) == -1)
				goto big;
			memcpy(out + o, p, (size_t)(dollar - p));
			o += (size_t)(dollar - p);
			chars += utf8_chars(p, (size_t)(dollar - p));
			p = dollar;
			continue;
		}
		/* p is at a '$' */
		val = NULL;
		name = p + 2;
		if (p + 1 < end && p[1] == '{' && name < end) {
			close = next_char(name, end, '}', &mclose);
			colon = next_char(name, end, ':', &mcolon);
			nend = colon < close ? colon : close;
			def = NULL;
			dlen = 0;
			/* a name, then "}" or ":-...}" */
			if (nend == name || close == end)
				nend = NULL;
			else if (nend == colon) {
				if (colon + 1 < close && colon[1] == '-') {
					def = colon + 2;
					dlen = (size_t)(close - def);
				} else
					nend = NULL;	/* ${A:b}: not ours */
			}
			if (nend != NULL) {
				val = env_lookup(name, nend);
				if (def != NULL && (val == NULL ||
				    *val == '\0')) {
					val = def;
					vlen = dlen;
				} else {
					if (val == NULL)
						val = "";
					vlen = strlen(val);
				}
				if (grow(&out, &cap, o, vlen) == -1)
					goto big;
				memcpy(out + o, val, vlen);
				o += vlen;
				c = utf8_chars(val, vlen);
				span_add(ps, chars, chars + c);
				chars += c;
				p = close + 1;
				continue;
			}
		}
		if (grow(&out, &cap, o, 1) == -1)
			goto big;
		out[o++] = *p++;
		chars++;	/* a '$' */
	}
	out[o] = '\0';
	*outlen = o;
	return (out);
 big:
	free(out);
	return (NULL);
}

static struct node *
node_new(struct parser *p, enum node_type type, yaml_mark_t mark)
{
	struct node	*n, **v;
	size_t		 ncap;

	if (p->p_nall >= MAX_NODES)
		return (NULL);
	if (p->p_nall == p->p_capall) {
		ncap = p->p_capall == 0 ? 64 : p->p_capall * 2;
		if ((v = reallocarray(p->p_all, ncap, sizeof(*v))) == NULL)
			fatal("%s", __func__);
		p->p_all = v;
		p->p_capall = ncap;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL)
		fatal("%s", __func__);
	n->n_type = type;
	n->n_line = (int)mark.line + 1;
	n->n_col = (int)mark.column + 1;
	n->n_size = 1;
	p->p_all[p->p_nall++] = n;
	return (n);
}

/* Append a kid; the array doubles, so a long list stays linear. */
static void
node_add(struct node *parent, struct node *kid)
{
	struct node	**v;
	size_t		  ncap;

	if (parent->n_nkids == parent->n_capkids) {
		ncap = parent->n_capkids == 0 ? 8 : parent->n_capkids * 2;
		if ((v = reallocarray(parent->n_kids, ncap,
		    sizeof(*v))) == NULL)
			fatal("%s", __func__);
		parent->n_kids = v;
		parent->n_capkids = ncap;
	}
	parent->n_kids[parent->n_nkids++] = kid;
	parent->n_size += kid->n_size;
}

static void
parser_free(struct parser *p)
{
	size_t	i;

	for (i = 0; i < p->p_nall; i++) {
		free(p->p_all[i]->n_env);
		free(p->p_all[i]->n_value);
		free(p->p_all[i]->n_kids);
		free(p->p_all[i]);
	}
	free(p->p_all);
	for (i = 0; i < p->p_nanchors; i++)
		free(p->p_anchors[i].a_name);
	free(p->p_anchors);
	free(p->p_buckets);
	free(p->p_spans);
	for (i = 0; i < p->p_nents; i++)
		free(p->p_ents[i].e_deps);
	free(p->p_ents);
}

static size_t
anchor_hash(const char *s)
{
	size_t	h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h);
}

static struct anchor *
anchor_lookup(struct parser *p, const char *name)
{
	size_t	i;

	if (p->p_nbuckets == 0)
		return (NULL);
	for (i = p->p_buckets[anchor_hash(name) & (p->p_nbuckets - 1)];
	    i != SIZE_MAX; i = p->p_anchors[i].a_next)
		if (strcmp(p->p_anchors[i].a_name, name) == 0)
			return (&p->p_anchors[i]);
	return (NULL);
}

/*
 * Anchors in a hash table: a file can hold tens of thousands of
 * anchors and aliases, and a list would make that quadratic.
 */
static void
anchor_add(struct parser *p, const char *name, struct node *n)
{
	struct anchor	*a, *v;
	size_t		 ncap, i, h, *b;

	/* the latest definition of a name wins */
	if ((a = anchor_lookup(p, name)) != NULL) {
		a->a_node = n;
		return;
	}
	if (p->p_nanchors == p->p_capanchors) {
		ncap = p->p_capanchors == 0 ? 16 : p->p_capanchors * 2;
		if ((v = reallocarray(p->p_anchors, ncap,
		    sizeof(*v))) == NULL ||
		    (b = reallocarray(p->p_buckets, ncap,
		    sizeof(*b))) == NULL)
			fatal("%s", __func__);
		p->p_anchors = v;
		p->p_buckets = b;
		p->p_capanchors = p->p_nbuckets = ncap;
		for (i = 0; i < ncap; i++)
			b[i] = SIZE_MAX;
		for (i = 0; i < p->p_nanchors; i++) {
			h = anchor_hash(v[i].a_name) & (ncap - 1);
			v[i].a_next = b[h];
			b[h] = i;
		}
	}
	a = &p->p_anchors[p->p_nanchors];
	if ((a->a_name = strdup(name)) == NULL)
		fatal("%s", __func__);
	a->a_node = n;
	h = anchor_hash(name) & (p->p_nbuckets - 1);
	a->a_next = p->p_buckets[h];
	p->p_buckets[h] = p->p_nanchors++;
}

static struct node *
anchor_find(struct parser *p, const char *name)
{
	struct anchor	*a;

	return ((a = anchor_lookup(p, name)) != NULL ? a->a_node : NULL);
}

/* Keys by name, then by position, so the first of equals leads. */
static int
key_cmp(const void *a, const void *b)
{
	const struct node	*x = *(struct node * const *)a;
	const struct node	*y = *(struct node * const *)b;
	int			 c;

	if ((c = strcmp(x->n_value, y->n_value)) != 0)
		return (c);
	if (x->n_line != y->n_line)
		return (x->n_line < y->n_line ? -1 : 1);
	if (x->n_col != y->n_col)
		return (x->n_col < y->n_col ? -1 : 1);
	return (x < y ? -1 : x > y);
}

static int
is_merge_key(struct node *k)
{
	return (k->n_type == N_SCALAR && !k->n_quoted &&
	    strcmp(k->n_value, "<<") == 0);
}

static int
key_in(struct node **sorted, size_t n, const char *name)
{
	size_t	lo = 0, hi = n, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(name, sorted[mid]->n_value)) == 0)
			return (1);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (0);
}

struct mpair {
	struct node	*m_key;
	struct node	*m_value;
	size_t		 m_order;
};

static int
mpair_cmp(const void *a, const void *b)
{
	const struct mpair	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->m_key->n_value, y->m_key->n_value)) != 0)
		return (c);
	return (x->m_order < y->m_order ? -1 : x->m_order > y->m_order);
}

static int
mpair_order(const void *a, const void *b)
{
	const struct mpair	*x = a, *y = b;

	return (x->m_order < y->m_order ? -1 : x->m_order > y->m_order);
}

/*
 * yaml.v3's merge key: "<<: *base" (or a list of bases) adds each key
 * of the bases the mapping does not set itself, the first base first.
 * The merged pairs take the place of the "<<" pair.
 */
static void
map_merge(struct parser *p, struct node *map, size_t at,
    struct node **keys, size_t nkeys)
{
	struct node	 *v = map->n_kids[at + 1], **src, **kids;
	struct mpair	 *mp;
	size_t		  nsrc, i, j, n = 0, cap = 0, nk = 0;

	if (v->n_type == N_MAP) {
		src = &map->n_kids[at + 1];
		nsrc = 1;
	} else if (v->n_type == N_SEQ) {
		src = v->n_kids;
		nsrc = v->n_nkids;
	} else {
		perr(p, v, "'<<' merges a mapping or a list of mappings, not "
		    "%s", node_kind(v));
		return;
	}
	for (i = 0; i < nsrc; i++) {
		if (src[i]->n_type != N_MAP) {
			perr(p, src[i], "'<<' merges a mapping or a list of "
			    "mappings, not %s", node_kind(src[i]));
			return;
		}
		cap += src[i]->n_nkids / 2;
	}
	if ((mp = calloc(cap + 1, sizeof(*mp))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < nsrc; i++)
		for (j = 0; j + 1 < src[i]->n_nkids; j += 2) {
			if (src[i]->n_kids[j]->n_type != N_SCALAR ||
			    key_in(keys, nkeys, src[i]->n_kids[j]->n_value))
				continue;
			mp[n].m_key = src[i]->n_kids[j];
			mp[n].m_value = src[i]->n_kids[j + 1];
			mp[n].m_order = n;
			n++;
		}
	/* of equal keys, the earliest base wins */
	qsort(mp, n, sizeof(*mp), mpair_cmp);
	for (i = 0, j = 0; i < n; i++)
		if (j == 0 || strcmp(mp[j - 1].m_key->n_value,
		    mp[i].m_key->n_value) != 0)
			mp[j++] = mp[i];
	n = j;
	qsort(mp, n, sizeof(*mp), mpair_order);
	if ((kids = reallocarray(NULL, map->n_nkids - 2 + 2 * n + 1,
	    sizeof(*kids))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i + 1 < map->n_nkids; i += 2) {
		if (i != at) {
			kids[nk++] = map->n_kids[i];
			kids[nk++] = map->n_kids[i + 1];
			continue;
		}
		for (j = 0; j < n; j++) {
			kids[nk++] = mp[j].m_key;
			kids[nk++] = mp[j].m_value;
		}
	}
	free(mp);
	free(map->n_kids);
	map->n_kids = kids;
	map->n_nkids = nk;
	map->n_capkids = nk + 1;
	map->n_size = 1;
	for (i = 0; i < nk; i++)
		map->n_size += kids[i]->n_size;
}

/*
 * A mapping is complete: duplicate keys are errors naming both lines
 * (yaml.v3 refuses them too), then a merge key is resolved.
 */
static void
map_finish(struct parser *p, struct node *map)
{
	struct node	**keys, *a;
	size_t		  i, n = 0, merge = SIZE_MAX;

	if (map->n_nkids < 2)
		return;
	if ((keys = calloc(map->n_nkids / 2, sizeof(*keys))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i + 1 < map->n_nkids; i += 2) {
		if (map->n_kids[i]->n_type != N_SCALAR)
			continue;
		if (is_merge_key(map->n_kids[i]))
			merge = i;
		keys[n++] = map->n_kids[i];
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (i = 1, a = n > 0 ? keys[0] : NULL; i < n; i++) {
		if (strcmp(a->n_value, keys[i]->n_value) != 0) {
			a = keys[i];
			continue;
		}
		perr(p, keys[i], "duplicate key '%s' (first at line %d)",
		    keys[i]->n_value, a->n_line);
	}
	/* after any error the tree is thrown away: do not merge into it */
	if (merge != SIZE_MAX && p->p_nerrors == 0)
		map_merge(p, map, merge, keys, n);
	free(keys);
}

/* The line and column of a byte offset, as libyaml would count them. */
static yaml_mark_t
offset_mark(const char *buf, size_t len, size_t off)
{
	yaml_mark_t	m;
	size_t		i;

	memset(&m, 0, sizeof(m));
	if (off > len)
		off = len;
	for (i = 0; i < off; i++) {
		if (buf[i] == '\n' || (buf[i] == '\r' &&
		    (i + 1 >= len || buf[i + 1] != '\n'))) {
			m.line++;
			m.column = 0;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80)
			m.column++;	/* characters, not bytes */
	}
	return (m);
}

static void
yaml_problem(struct parser *p, yaml_parser_t *yp, const char *buf,
    size_t len)
{
	yaml_mark_t	m = yp->problem_mark;
	char		val[32] = "";

	/* the reader has an offset, not a mark */
	if (yp->error == YAML_READER_ERROR) {
		m = offset_mark(buf, len, yp->problem_offset);
		if (yp->problem_value != -1)
			snprintf(val, sizeof(val), " (#x%X)",
			    (unsigned int)yp->problem_value);
	}
	perr_mark(p, m, "YAML: %s%s%s%s", yp->problem != NULL ? yp->problem :
	    "syntax error", val, yp->context != NULL ? " " : "",
	    yp->context != NULL ? yp->context : "");
}

/* A scalar is a string, whatever it looks like, when quoted or !!str. */
static int
scalar_quoted(yaml_event_t *ev)
{
	const char	*tag = (const char *)ev->data.scalar.tag;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return (1);
	return (tag != NULL && (strcmp(tag, YAML_STR_TAG) == 0 ||
	    strcmp(tag, "!") == 0));
}

/*
 * libyaml's events into the node tree; NULL after an error.  Aliases
 * are references, but the nodes they stand for are counted, so an
 * alias bomb stops at MAX_NODES however few bytes it has.
 */
static struct node *
tree_build(struct parser *p, const char *buf, size_t len)
{
	yaml_parser_t	 yp;
	yaml_event_t	 ev;
	struct node	*stack[MAX_DEPTH], *root = NULL, *n, *a;
	const char	*anchor;
	int		 depth = 0, done = 0, failed = 0;

	if (!yaml_parser_initialize(&yp))
		fatalx("yaml_parser_initialize");
	yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&yp, YAML_UTF8_ENCODING);
	while (!done && !failed) {
		if (!yaml_parser_parse(&yp, &ev)) {
			yaml_problem(p, &yp, buf, len);
			failed = 1;
			break;
		}
		n = NULL;
		anchor = NULL;
		switch (ev.type) {
		case YAML_DOCUMENT_END_EVENT:
			/* only the first document counts, as in phpeek-pm */
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_SCALAR_EVENT:
			if ((n = node_new(p, N_SCALAR, ev.start_mark)) == NULL)
				break;
			if ((n->n_value = malloc(ev.data.scalar.length +
			    1)) == NULL)
				fatal("%s", __func__);
			memcpy(n->n_value, ev.data.scalar.value,
			    ev.data.scalar.length);
			n->n_value[ev.data.scalar.length] = '\0';
			if (strlen(n->n_value) != ev.data.scalar.length) {
				perr(p, n, "NUL character in a value");
				failed = 1;
			}
			n->n_quoted = scalar_quoted(&ev);
			n->n_start = ev.start_mark.index;
			n->n_end = ev.end_mark.index;
			anchor = (const char *)ev.data.scalar.anchor;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth >= MAX_DEPTH) {
				perr_mark(p, ev.start_mark, "nesting deeper "
				    "than %d levels", MAX_DEPTH);
				failed = 1;
				break;
			}
			if ((n = node_new(p, ev.type ==
			    YAML_SEQUENCE_START_EVENT ? N_SEQ : N_MAP,
			    ev.start_mark)) == NULL)
				break;
			n->n_open = 1;
			anchor = (const char *)(ev.type ==
			    YAML_SEQUENCE_START_EVENT ?
			    ev.data.sequence_start.anchor :
			    ev.data.mapping_start.anchor);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth == 0)
				break;
			a = stack[--depth];
			a->n_open = 0;
			if (a->n_type == N_MAP)
				map_finish(p, a);
			/* the parent counted the child before it grew */
			if (depth > 0)
				stack[depth - 1]->n_size += a->n_size - 1;
			break;
		case YAML_ALIAS_EVENT:
			a = anchor_find(p, (const char *)ev.data.alias.anchor);
			if (a == NULL) {
				perr_mark(p, ev.start_mark, "unknown alias "
				    "*%s", ev.data.alias.anchor);
				failed = 1;
				break;
			}
			if (a->n_open) {
				perr_mark(p, ev.start_mark, "alias *%s is "
				    "inside the node it names",
				    ev.data.alias.anchor);
				failed = 1;
				break;
			}
			p->p_expanded += a->n_size;
			if (p->p_nall + p->p_expanded > MAX_NODES) {
				perr_mark(p, ev.start_mark, "aliases expand "
				    "to more than %d nodes", MAX_NODES);
				failed = 1;
				break;
			}
			n = a;
			break;
		default:
			break;
		}
		if (!failed && (ev.type == YAML_SCALAR_EVENT ||
		    ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_MAPPING_START_EVENT) && (n == NULL ||
		    p->p_nall + p->p_expanded > MAX_NODES)) {
			perr_mark(p, ev.start_mark, "more than %d nodes",
			    MAX_NODES);
			failed = 1;
		}
		if (!failed && n != NULL) {
			if (anchor != NULL)
				anchor_add(p, anchor, n);
			if (depth > 0)
				node_add(stack[depth - 1], n);
			else if (root == NULL)
				root = n;
			if (n->n_open)
				stack[depth++] = n;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&yp);
	return (failed ? NULL : root);
}

static const char *
node_kind(struct node *n)
{
	switch (n->n_type) {
	case N_MAP:
		return ("a mapping");
	case N_SEQ:
		return ("a list");
	default:
		return ("a scalar");
	}
}

/*
 * Whether s is one of YAML's case forms of a word: all lower, all
 * upper or capitalised ("true", "True", "TRUE", never "tRUE").
 */
static int
case_form(const char *s)
{
	const char	*t;
	int		 lower = 1, upper = 1;

	for (t = s + (*s != '\0'); *t != '\0'; t++) {
		if (!islower((unsigned char)*t))
			lower = 0;
		if (!isupper((unsigned char)*t))
			upper = 0;
	}
	return (lower || (upper && isupper((unsigned char)*s)));
}

/* YAML null: ~, null, or nothing. */
static int
is_null(struct node *n)
{
	return (n->n_type == N_SCALAR && !n->n_quoted &&
	    (n->n_value[0] == '\0' || strcmp(n->n_value, "~") == 0 ||
	    (strcasecmp(n->n_value, "null") == 0 && case_form(n->n_value))));
}

/* A scalar is wanted; what names the type for the error. */
static int
want_scalar(struct parser *p, struct node *n, const char *path,
    const char *what)
{
	if (n->n_type == N_SCALAR)
		return (0);
	perr(p, n, "%s: expected %s, got %s", path, what, node_kind(n));
	return (-1);
}

/* YAML's float syntax, [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int
yaml_float_syntax(const char *s)
{
	size_t	n;

	if (*s == '-' || *s == '+')
		s++;
	if (*s == '.') {
		if ((n = strspn(s + 1, "0123456789")) == 0)
			return (0);
		s += 1 + n;
	} else {
		if ((n = strspn(s, "0123456789")) == 0)
			return (0);
		s += n;
		if (*s == '.')
			s += 1 + strspn(s + 1, "0123456789");
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if ((n = strspn(s, "0123456789")) == 0)
			return (0);
		s += n;
	}
	return (*s == '\0');
}

/*
 * A plain scalar as yaml.v3 turns it into a Go int: underscores
 * dropped, then Go's ParseInt with base 0 (0x, 0o, 0b, and a leading 0
 * for octal), else a YAML float truncated toward zero.  0 with the
 * value, -1 for no number at all, 1 for a number out of range.
 */
static int
yaml_int(const char *in, long long *out)
{
	static const char *const inf[] = { ".inf", "+.inf", "-.inf", ".nan" };
	unsigned long long	 v = 0, lim;
	char			*s, *t, *end;
	const char		*d;
	double			 f;
	size_t			 i;
	int			 neg = 0, base = 10, digit, rv = -1;

	for (i = 0; i < sizeof(inf) / sizeof(inf[0]); i++)
		if (strcasecmp(in, inf[i]) == 0)
			return (1);
	if (strchr("+-.0123456789", in[0]) == NULL || in[0] == '\0')
		return (-1);
	if ((s = strdup(in)) == NULL)
		fatal("%s", __func__);
	for (d = in, t = s; *d != '\0'; d++)
		if (*d != '_')
			*t++ = *d;
	*t = '\0';
	t = s;
	if (*t == '+' || *t == '-')
		neg = *t++ == '-';
	if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
		base = 16;
		t += 2;
	} else if (t[0] == '0' && (t[1] == 'o' || t[1] == 'O')) {
		base = 8;
		t += 2;
	} else if (t[0] == '0' && (t[1] == 'b' || t[1] == 'B')) {
		base = 2;
		t += 2;
	} else if (t[0] == '0' && t[1] != '\0')
		base = 8;
	lim = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
	for (end = t; *end != '\0'; end++) {
		if (isdigit((unsigned char)*end))
			digit = *end - '0';
		else if (isxdigit((unsigned char)*end))
			digit = tolower((unsigned char)*end) - 'a' + 10;
		else
			break;
		if (digit >= base)
			break;
		if (v > (lim - (unsigned long long)digit) /
		    (unsigned long long)base)
			rv = 1;		/* keep scanning: is it a number? */
		else
			v = v * (unsigned long long)base +
			    (unsigned long long)digit;
	}
	if (end > t && *end == '\0') {
		if (rv != 1) {
			*out = neg ? (long long)(0 - v) : (long long)v;
			rv = 0;
		}
	} else if (yaml_float_syntax(s)) {
		errno = 0;
		f = strtod(s, NULL);
		if (errno == ERANGE || !isfinite(f) || f >= 0x1p63 ||
		    f < -0x1p63)
			rv = 1;
		else {
			*out = (long long)f;
			rv = 0;
		}
	} else
		rv = -1;
	free(s);
	return (rv);
}

/*
 * yaml.v3 into a Go int: YAML integers (decimal, 0x, 0o, 0b) and
 * floats, which are truncated toward zero; quoted text is a string.
 */
static int
get_int(struct parser *p, struct node *n, const char *path, long long min,
    long long max, int *out)
{
	long long	v;
	int		rv;

	if (want_scalar(p, n, path, "an integer") == -1)
		return (-1);
	if (n->n_quoted || (rv = yaml_int(n->n_value, &v)) == -1) {
		perr(p, n, "%s: expected an integer, got \"%s\"", path,
		    n->n_value);
		return (-1);
	}
	if (rv == 1 || v < min || v > max) {
		perr(p, n, "%s: %s is out of range %lld..%lld", path,
		    n->n_value, min, max);
		return (-1);
	}
	*out = (int)v;
	return (0);
}

/*
 * yaml.v3 into a Go bool: true and false, and YAML 1.1's yes, no, on,
 * off, y and n, each in its lower, capitalised or upper case form.
 */
static int
bool_value(const char *s)
{
	static const char *const yes[] = { "true", "yes", "y", "on" };
	static const char *const no[] = { "false", "no", "n", "off" };
	size_t	i;

	for (i = 0; i < 4 && case_form(s); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return (1);
		if (strcasecmp(s, no[i]) == 0)
			return (0);
	}
	return (-1);
}

static int
get_bool(struct parser *p, struct node *n, const char *path, int *out)
{
	int	b;

	if (want_scalar(p, n, path, "true or false") == -1)
		return (-1);
	if ((b = bool_value(n->n_value)) != -1) {
		*out = b;
		return (0);
	}
	perr(p, n, "%s: expected true or false, got \"%s\"", path,
	    n->n_value);
	return (-1);
}

/* A Go duration string: "500ms", "5s", "1m30s"; "0" alone needs none. */
static int
get_duration(struct parser *p, struct node *n, const char *path,
    int64_t *out)
{
	const char	*s;

	if (want_scalar(p, n, path, "a duration such as \"5s\"") == -1)
		return (-1);
	s = n->n_value;
	if (parse_duration_ms(s, out) == 0)
		return (0);
	if (yaml_float_syntax(s) && s[0] != '-')
		perr(p, n, "%s: \"%s\" needs a unit, e.g. \"%ss\"", path, s,
		    s[0] == '+' ? s + 1 : s);
	else if (s[0] == '-')
		perr(p, n, "%s: \"%s\" is negative", path, s);
	else
		perr(p, n, "%s: \"%s\" is not a duration (e.g. 500ms, 5s, "
		    "1m30s)", path, s);
	return (-1);
}

static int
get_str(struct parser *p, struct node *n, const char *path, char **out)
{
	if (want_scalar(p, n, path, "a string") == -1)
		return (-1);
	free(*out);
	if ((*out = strdup(n->n_value)) == NULL)
		fatal("%s", __func__);
	return (0);
}

/*
 * Room for n more entries of sl at once: strlist_add grows by one, which
 * a list of 100,000 entries would make quadratic.
 */
static void
strlist_reserve(struct strlist *sl, size_t n)
{
	char	**v;

	if ((v = reallocarray(sl->sl_v, sl->sl_n + n + 1,
	    sizeof(*v))) == NULL)
		fatal("%s", __func__);
	v[sl->sl_n] = NULL;
	sl->sl_v = v;
}

/* Append s to sl, room for it reserved. */
static void
strlist_put(struct strlist *sl, const char *s)
{
	if ((sl->sl_v[sl->sl_n] = strdup(s)) == NULL)
		fatal("%s", __func__);
	sl->sl_v[++sl->sl_n] = NULL;
}

/* A list of scalars; null entries are empty strings, as in yaml.v3. */
static int
get_strlist(struct parser *p, struct node *n, const char *path,
    struct strlist *sl)
{
	size_t	i;

	if (n->n_type != N_SEQ) {
		perr(p, n, "%s: expected a list, got %s", path, node_kind(n));
		return (-1);
	}
	for (i = 0; i < n->n_nkids; i++)
		if (want_scalar(p, n->n_kids[i], path,
		    "a list of strings") == -1)
			return (-1);
	strlist_free(sl);
	strlist_reserve(sl, n->n_nkids);
	for (i = 0; i < n->n_nkids; i++)
		strlist_put(sl, is_null(n->n_kids[i]) ? "" :
		    n->n_kids[i]->n_value);
	return (0);
}

/* Edit distance, or 3 for "more than 2" when that is plain early. */
static int
levenshtein(const char *a, const char *b)
{
	int	row[64], i, j, prev, tmp, la = (int)strlen(a);
	int	lb = (int)strlen(b);

	if (la >= 63 || lb >= 63)
		return (99);
	if (la - lb > 2 || lb - la > 2)
		return (3);
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = prev + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return (row[lb]);
}

/*
 * The known key closest to name, if it is close enough to be a typo:
 * at most two edits away, or one a prefix of the other (3 or more
 * characters), which counts as two.
 */
static const char *
suggest(const char *name, const struct key *keys)
{
	const char	*best = NULL;
	int		 d, bestd = 3;
	size_t		 nl = strlen(name), kl;

	for (; keys->k_name != NULL; keys++) {
		d = levenshtein(name, keys->k_name);
		kl = strlen(keys->k_name);
		if (d > 2 && nl >= 3 && kl >= 3 &&
		    (strncmp(name, keys->k_name, nl < kl ? nl : kl) == 0))
			d = 2;
		if (d < bestd) {
			bestd = d;
			best = keys->k_name;
		}
	}
	return (best);
}

static void
unknown_key(struct parser *p, struct node *kn, const char *path,
    const struct key *keys)
{
	const char	*s = NULL;

	if (diag_room(p))
		s = suggest(kn->n_value, keys);
	if (s != NULL)
		pwarn(p, kn, "unknown key '%s' in %s; did you mean '%s'?",
		    kn->n_value, path, s);
	else
		pwarn(p, kn, "unknown key '%s' in %s", kn->n_value, path);
}

static void
decode_map(struct parser *p, struct node *map, const char *path,
    const struct key *keys, void *arg)
{
	const struct key	*k;
	struct node		*kn;
	size_t			 i;

	if (map->n_type != N_MAP) {
		perr(p, map, "%s: expected a mapping, got %s", path,
		    node_kind(map));
		return;
	}
	for (i = 0; i + 1 < map->n_nkids; i += 2) {
		kn = map->n_kids[i];
		if (kn->n_type != N_SCALAR) {
			perr(p, kn, "%s: keys must be plain names", path);
			continue;
		}
		for (k = keys; k->k_name != NULL; k++)
			if (strcmp(k->k_name, kn->n_value) == 0)
				break;
		if (k->k_name == NULL) {
			unknown_key(p, kn, path, keys);
			continue;
		}
		if (k->k_decode != NULL && !is_null(map->n_kids[i + 1]))
			k->k_decode(p, kn, map->n_kids[i + 1], arg);
	}
}

/* global */

#define GC(arg)	(&((struct phpeekd_conf *)(arg))->cf_global)

static void
g_shutdown_timeout(struct parser *p, struct node *k, struct node *v, void *a)
{
	int	n;

	if (get_int(p, v, "global.shutdown_timeout", INT_MIN, INT_MAX,
	    &n) == -1)
		return;
	if (n < 0)
		perr(p, v, "global.shutdown_timeout must be positive");
	else if (n > 3600)
		perr(p, v, "global.shutdown_timeout: %ds exceeds the maximum "
		    "of 3600s", n);
	else {
		GC(a)->gc_shutdown_timeout = n == 0 ? 30 : n;
		if (n > 0 && n < 10)
			pwarn(p, v, "global.shutdown_timeout: a very short "
			    "timeout (%ds) may kill processes abruptly", n);
		else if (n > 300)
			psuggest(p, v, "global.shutdown_timeout: a long "
			    "timeout (%ds) delays container restarts", n);
	}
}

static int
policy_byname(const char *s)
{
	if (strcmp(s, "always") == 0)
		return (RESTART_ALWAYS);
	if (strcmp(s, "on-failure") == 0)
		return (RESTART_ON_FAILURE);
	if (strcmp(s, "never") == 0)
		return (RESTART_NEVER);
	return (-1);
}

static void
g_restart_policy(struct parser *p, struct node *k, struct node *v, void *a)
{
	int	pol;

	if (want_scalar(p, v, "global.restart_policy", "a string") == -1)
		return;
	if ((pol = policy_byname(v->n_value)) == -1)
		perr(p, v, "global.restart_policy: invalid policy \"%s\" "
		    "(always, on-failure or never)", v->n_value);
	else
		GC(a)->gc_restart_policy = pol;
}

static void
g_max_restart_attempts(struct parser *p, struct node *k, struct node *v,
    void *a)
{
	int	n;

	if (get_int(p, v, "global.max_restart_attempts", INT_MIN, INT_MAX,
	    &n) == -1)
		return;
	if (n > 100)
		perr(p, v, "global.max_restart_attempts: %d exceeds the "
		    "maximum of 100", n);
	else if (n < 0) {
		pwarn(p, v, "global.max_restart_attempts: unlimited restarts "
		    "may mask persistent failures");
		GC(a)->gc_max_restart_attempts = n;
	} else {
		if (n > 10)
			psuggest(p, v, "global.max_restart_attempts: %d "
			    "attempts may delay failure detection", n);
		GC(a)->gc_max_restart_attempts = n == 0 ? 3 : n;
	}
}

static void
g_restart_backoff(struct parser *p, struct node *k, struct node *v, void *a)
{
	int	n;

	if (get_int(p, v, "global.restart_backoff", 0, 86400, &n) == -1)
		return;
	if (n < 1)
		n = 5;
	p->p_legacy_backoff = n;
}

/* phpeekd: time between the readiness file going and the first stop */
static void
g_shutdown_delay(struct parser *p, struct node *k, struct node *v, void *a)
{
	int64_t	ms;

	if (get_duration(p, v, "global.shutdown_delay", &ms) == -1)
		return;
	if (ms > 300000)
		perr(p, v, "global.shutdown_delay: %s exceeds the maximum of "
		    "5m", v->n_value);
	else
		GC(a)->gc_shutdown_delay_ms = ms;
}

static void
g_backoff_initial(struct parser *p, struct node *k, struct node *v, void *a)
{
	if (get_duration(p, v, "global.restart_backoff_initial",
	    &GC(a)->gc_backoff_initial_ms) == 0)
		p->p_have_initial = 1;
}

static void
g_backoff_max(struct parser *p, struct node *k, struct node *v, void *a)
{
	if (get_duration(p, v, "global.restart_backoff_max",
	    &GC(a)->gc_backoff_max_ms) == 0)
		p->p_have_max = 1;
}

static void
g_restart_now(struct parser *p, struct node *k, struct node *v, void *a)
{
	get_bool(p, v, "global.restart_immediately", &GC(a)->gc_restart_now);
}

static void
g_log_format(struct parser *p, struct node *k, struct node *v, void *a)
{
	if (want_scalar(p, v, "global.log_format", "a string") == -1)
		return;
	if (strcmp(v->n_value, "json") == 0)
		GC(a)->gc_log_format = LOG_FMT_JSON;
	else if (strcmp(v->n_value, "text") == 0)
		GC(a)->gc_log_format = LOG_FMT_TEXT;
	else
		perr(p, v, "global.log_format: invalid format \"%s\" (json "
		    "or text)", v->n_value);
}

static void
g_log_level(struct parser *p, struct node *k, struct node *v, void *a)
{
	static const char *const lv[] = { "error", "warn", "info", "debug" };
	int	i;

	if (want_scalar(p, v, "global.log_level", "a string") == -1)
		return;
	for (i = 0; i < 4; i++)
		if (strcmp(v->n_value, lv[i]) == 0) {
			GC(a)->gc_log_level = i;
			return;
		}
	perr(p, v, "global.log_level: invalid level \"%s\" (debug, info, "
	    "warn or error)", v->n_value);
}

static void
g_api_enabled(struct parser *p, struct node *k, struct node *v, void *a)
{
	get_bool(p, v, "global.api_enabled", &GC(a)->gc_api_enabled);
}

static void
g_metrics_enabled(struct parser *p, struct node *k, struct node *v, void *a)
{
	get_bool(p, v, "global.metrics_enabled", &GC(a)->gc_metrics_enabled);
}

static void
g_api_port(struct parser *p, struct node *k, struct node *v, void *a)
{
	get_int(p, v, "global.api_port", 0, 65535, &GC(a)->gc_api_port);
}

static void
g_metrics_port(struct parser *p, struct node *k, struct node *v, void *a)
{
	get_int(p, v, "global.metrics_port", 0, 65535,
	    &GC(a)->gc_metrics_port);
}

static void
g_strbuf(struct parser *p, struct node *v, const char *path, char *dst,
    size_t len)
{
	if (want_scalar(p, v, path, "a string") == -1)
		return;
	if (strlcpy(dst, v->n_value, len) >= len)
		perr(p, v, "%s: longer than %zu characters", path, len - 1);
}

static void
g_api_socket(struct parser *p, struct node *k, struct node *v, void *a)
{
	g_strbuf(p, v, "global.api_socket", GC(a)->gc_api_socket,
	    sizeof(GC(a)->gc_api_socket));
}

static void
g_api_auth(struct parser *p, struct node *k, struct node *v, void *a)
{
	g_strbuf(p, v, "global.api_auth", GC(a)->gc_api_auth,
	    sizeof(GC(a)->gc_api_auth));
}

static void
g_metrics_path(struct parser *p, struct node *k, struct node *v, void *a)
{
	g_strbuf(p, v, "global.metrics_path", GC(a)->gc_metrics_path,
	    sizeof(GC(a)->gc_metrics_path));
	if (GC(a)->gc_metrics_path[0] != '/')
		perr(p, v, "global.metrics_path must start with /");
}

static void
g_api_max_body(struct parser *p, struct node *k, struct node *v, void *a)
{
	int	n;

	if (get_int(p, v, "global.api_max_request_body", INT_MIN, INT_MAX,
	    &n) == -1)
		return;
	if (n > 104857600)
		perr(p, v, "global.api_max_request_body: %d exceeds the "
		    "maximum of 104857600 bytes", n);
	else
		GC(a)->gc_api_max_body = n <= 0 ? 8388608 : n;
}

static void
g_resource_enabled(struct parser *p, struct node *k, struct node *v, void *a)
{
	get_bool(p, v, "global.resource_metrics_enabled",
	    &GC(a)->gc_resource_enabled);
}

static void
g_resource_interval(struct parser *p, struct node *k, struct node *v,
    void *a)
{
	int	n;

	if (get_int(p, v, "global.resource_metrics_interval", 0, INT_MAX,
	    &n) == -1)
		return;
	if (n > 3600)
		perr(p, v, "global.resource_metrics_interval: %ds exceeds the "
		    "maximum of 3600s", n);
	else {
		if (n > 0 && n < 2)
			pwarn(p, v, "global.resource_metrics_interval: "
			    "sampling every %ds adds overhead", n);
		GC(a)->gc_resource_interval = n == 0 ? 5 : n;
	}
}

static void
g_resource_samples(struct parser *p, struct node *k, struct node *v,
    void *a)
{
	int	n;

	if (get_int(p, v, "global.resource_metrics_max_samples", 0, INT_MAX,
	    &n) == -1)
		return;
	if (n > 100000)
		perr(p, v, "global.resource_metrics_max_samples: %d exceeds "
		    "the maximum of 100000", n);
	else
		GC(a)->gc_resource_max_samples = n == 0 ? 720 : n;
}


/*
 * Keys phpeekd reads but whose feature lives elsewhere (TLS, ACLs,
 * tracing, logging, heartbeats...): typed and range-checked here from
 * tables, so a mistake is reported now and not when it would matter.
 */
enum vtype {
	VT_BOOL,
	VT_INT,
	VT_FLOAT,
	VT_DURATION,
	VT_STR,
	VT_STRLIST,
	VT_STRMAP,
	VT_ENUM,
	VT_CIDRS,
	VT_SIGNAL,
	VT_MAP
};

struct vkey {
	const char		*v_name;
	enum vtype		 v_type;
	long long		 v_min;
	long long		 v_max;
	const char *const	*v_enum;	/* VT_ENUM: NULL terminated */
	const struct vkey	*v_sub;		/* VT_MAP */
};

static void	vdecode(struct parser *, struct node *, const char *,
		    const struct vkey *);

static int
cidr_valid(const char *s)
{
	return (acl_net_parse(s, NULL) == 0);
}

static void
vcheck(struct parser *p, struct node *v, const char *path,
    const struct vkey *k)
{
	const char *const	*e;
	int64_t			 ms;
	long long		 ll;
	double			 d;
	int			 n;
	size_t			 i;

	switch (k->v_type) {
	case VT_BOOL:
		(void)get_bool(p, v, path, &n);
		break;
	case VT_INT:
		(void)get_int(p, v, path, k->v_min, k->v_max, &n);
		break;
	case VT_FLOAT:
		if (want_scalar(p, v, path, "a number") == -1)
			break;
		/* what yaml.v3 takes for a Go float64: a float or an int */
		if (!v->n_quoted && yaml_float_syntax(v->n_value))
			d = strtod(v->n_value, NULL);
		else if (!v->n_quoted && yaml_int(v->n_value, &ll) == 0)
			d = (double)ll;
		else {
			perr(p, v, "%s: expected a number, got \"%s\"", path,
			    v->n_value);
			break;
		}
		if (d < (double)k->v_min || d > (double)k->v_max)
			perr(p, v, "%s: %s is out of range %lld..%lld", path,
			    v->n_value, k->v_min, k->v_max);
		break;
	case VT_DURATION:
		if (get_duration(p, v, path, &ms) == 0 &&
		    (ms < k->v_min || ms > k->v_max))
			perr(p, v, "%s: %s is out of range %lldms..%lldms",
			    path, v->n_value, k->v_min, k->v_max);
		break;
	case VT_STR:
		(void)want_scalar(p, v, path, "a string");
		break;
	case VT_SIGNAL:
		if (want_scalar(p, v, path, "a signal name") == 0 &&
		    signal_byname(v->n_value) == -1)
			perr(p, v, "%s: unknown signal \"%s\"", path,
			    v->n_value);
		break;
	case VT_STRLIST:
	case VT_CIDRS:
		if (v->n_type != N_SEQ) {
			perr(p, v, "%s: expected a list, got %s", path,
			    node_kind(v));
			break;
		}
		for (i = 0; i < v->n_nkids; i++) {
			if (want_scalar(p, v->n_kids[i], path,
			    "a list of strings") == -1)
				continue;
			if (k->v_type == VT_CIDRS &&
			    v->n_kids[i]->n_value[0] != '\0' &&
			    !cidr_valid(v->n_kids[i]->n_value))
				perr(p, v->n_kids[i], "%s: \"%s\" is not an "
				    "IPv4 or IPv6 address or CIDR", path,
				    v->n_kids[i]->n_value);
		}
		break;
	case VT_STRMAP:
		if (v->n_type != N_MAP) {
			perr(p, v, "%s: expected a mapping, got %s", path,
			    node_kind(v));
			break;
		}
		for (i = 0; i < v->n_nkids; i++)
			(void)want_scalar(p, v->n_kids[i], path,
			    "a mapping of strings");
		break;
	case VT_ENUM:
		if (want_scalar(p, v, path, "a string") == -1)
			break;
		for (e = k->v_enum; *e != NULL; e++)
			if (strcmp(*e, v->n_value) == 0)
				break;
		if (*e == NULL) {
			char	choices[256] = "";

			for (e = k->v_enum; *e != NULL; e++) {
				strlcat(choices, e == k->v_enum ? "" : ", ",
				    sizeof(choices));
				strlcat(choices, *e, sizeof(choices));
			}
			perr(p, v, "%s: invalid value \"%s\" (%s)", path,
			    v->n_value, choices);
		}
		break;
	case VT_MAP:
		/* without a table, the caller checks the keys itself */
		if (k->v_sub != NULL)
			vdecode(p, v, path, k->v_sub);
		else if (v->n_type != N_MAP)
			perr(p, v, "%s: expected a mapping, got %s", path,
			    node_kind(v));
		break;
	}
}

static void
vdecode(struct parser *p, struct node *map, const char *path,
    const struct vkey *keys)
{
	const struct vkey	*k;
	struct key		 names[48];
	struct node		*kn;
	char			 sub[CONF_NAME_MAX + 128];
	const char		*sg;
	size_t			 i, n;

	if (map->n_type != N_MAP) {
		perr(p, map, "%s: expected a mapping, got %s", path,
		    node_kind(map));
		return;
	}
	for (n = 0; keys[n].v_name != NULL && n < 47; n++) {
		names[n].k_name = keys[n].v_name;
		names[n].k_decode = NULL;
	}
	names[n].k_name = NULL;
	for (i = 0; i + 1 < map->n_nkids; i += 2) {
		kn = map->n_kids[i];
		if (kn->n_type != N_SCALAR)
			continue;
		for (k = keys; k->v_name != NULL; k++)
			if (strcmp(k->v_name, kn->n_value) == 0)
				break;
		if (k->v_name == NULL) {
			if ((sg = suggest(kn->n_value, names)) != NULL)
				pwarn(p, kn, "unknown key '%s' in %s; did you "
				    "mean '%s'?", kn->n_value, path, sg);
			else
				pwarn(p, kn, "unknown key '%s' in %s",
				    kn->n_value, path);
			continue;
		}
		if (is_null(map->n_kids[i + 1]))
			continue;
		snprintf(sub, sizeof(sub), "%s.%s", path, k->v_name);
		vcheck(p, map->n_kids[i + 1], sub, k);
	}
}

static const char *const tls_client_auth[] = { "none", "request", "require",
	"verify", NULL };
static const char *const tls_versions[] = { "TLS 1.0", "TLS 1.1", "TLS 1.2",
	"TLS 1.3", NULL };
static const char *const acl_modes[] = { "allow", "deny", NULL };
static const char *const readiness_modes[] = { "all_healthy",
	"all_running", NULL };
static const char *const levels[] = { "debug", "info", "warn", "warning",
	"error", NULL };
static const char *const exporters[] = { "stdout", "otlp-grpc",
	"otlp-http", "jaeger", "zipkin", NULL };
static const char *const timezones[] = { "UTC", "Local", NULL };

static const struct vkey tls_vkeys[] = {
	{ "enabled", VT_BOOL, 0, 0, NULL, NULL },
	{ "cert_file", VT_STR, 0, 0, NULL, NULL },
	{ "key_file", VT_STR, 0, 0, NULL, NULL },
	{ "ca_file", VT_STR, 0, 0, NULL, NULL },
	{ "client_auth", VT_ENUM, 0, 0, tls_client_auth, NULL },
	{ "min_version", VT_ENUM, 0, 0, tls_versions, NULL },
	{ "cipher_suites", VT_STRLIST, 0, 0, NULL, NULL },
	{ "auto_reload", VT_BOOL, 0, 0, NULL, NULL },
	{ "auto_reload_interval", VT_INT, 0, 86400, NULL, NULL },
	{ NULL, 0, 0, 0, NULL, NULL }
};

static const struct vkey acl_vkeys[] = {
	{ "enabled", VT_BOOL, 0, 0, NULL, NULL },
	{ "mode", VT_ENUM, 0, 0, acl_modes, NULL },
	{ "allow_list", VT_CIDRS, 0, 0, NULL, NULL },
	{ "deny_list", VT_CIDRS, 0, 0, NULL, NULL },
	{ "trust_proxy", VT_BOOL, 0, 0, NULL, NULL },
	{ NULL, 0, 0, 0, NULL, NULL }
};

static const struct vkey readiness_vkeys[] = {
	{ "enabled", VT_BOOL, 0, 0, NULL, NULL },
	{ "path", VT_STR, 0, 0, NULL, NULL },
	{ "mode", VT_ENUM, 0, 0, readiness_modes, NULL },
	{ "content", VT_STR, 0, 0, NULL, NULL },
	{ "processes", VT_STRLIST, 0, 0, NULL, NULL },
	{ NULL, 0, 0, 0, NULL, NULL }
};

static const struct vkey redact_pattern_vkeys[] = {
	{ "name", VT_STR, 0, 0, NULL, NULL },
	{ "pattern", VT_STR, 0, 0, NULL, NULL },
	{ "replacement", VT_STR, 0, 0, NULL, NULL },
	{ NULL, 0, 0, 0, NULL, NULL }
};

static const struct vkey multiline_vkeys[] = {
	{ "enabled", VT_BOOL, 0, 0, NULL, NULL },
	{ "pattern", VT_STR, 0, 0, NULL, NULL },
	{ "max_lines", VT_INT, 0, 100000, NULL, NULL },
	{ "timeout", VT_INT, 0, 3600, NULL, NULL },
	{ NULL, 0, 0, 0, NULL, NULL }
};

static const struct vkey json_vkeys[] = {
	{ "enabled", VT_BOOL, 0, 0, NULL, NULL },
	{ "detect_auto", VT_BOOL, 0, 0, NULL, NULL },
	{ "extract_level", VT_BOOL, 0, 0, NULL, NULL },
	{ "extract_message", VT_BOOL, 0, 0, NULL, NULL },
	{ "merge_fields", VT_BOOL, 0, 0, NULL, NULL },
	{ NULL, 0, 0, 0, NULL, NULL }
};

static const struct vkey level_detection_vkeys[] = {
	{ "enabled", VT_BOOL, 0, 0, NULL, NULL },
	{ "patterns", VT_STRMAP, 0, 0, NULL, NULL },
	{ "default_level", VT_ENUM, 0, 0, levels, NULL },
	{ NULL, 0, 0, 0, NULL, NULL }
};

static const struct vkey filters_vkeys[] = {
	{ "exclude", VT_STRLIST, 0, 0, NULL, NULL },
	{ "include", VT_STRLIST, 0, 0, NULL, NULL },
	{ NULL, 0, 0, 0, NULL, NULL }
};

static const struct vkey logging_vkeys[] = {
	{ "stdout", VT_BOOL, 0, 0, NULL, NULL },
	{ "stderr", VT_BOOL, 0, 0, NULL, NULL },
	{ "labels", VT_STRMAP, 0, 0, NULL, NULL },
	{ "min_level", VT_ENUM, 0, 0, levels, NULL },
	{ "redaction", VT_MAP, 0, 0, NULL, NULL },	/* see below */
	{ "multiline", VT_MAP, 0, 0, NULL, multiline_vkeys },
	{ "json", VT_MAP, 0, 0, NULL, json_vkeys },
	{ "level_detection", VT_MAP, 0, 0, NULL, level_detection_vkeys },
	{ "filters", VT_MAP, 0, 0, NULL, filters_vkeys },
	{ NULL, 0, 0, 0, NULL, NULL }
};

/* global keys validated from a table */
static const struct vkey global_vkeys[] = {
	{ "health_check_interval", VT_INT, 0, 86400, NULL, NULL },
	{ "autotune_memory_threshold", VT_FLOAT, 0, 10, NULL, NULL },
	{ "log_timestamps", VT_BOOL, 0, 0, NULL, NULL },
	{ "metrics_tls", VT_MAP, 0, 0, NULL, tls_vkeys },
	{ "metrics_acl", VT_MAP, 0, 0, NULL, acl_vkeys },
	{ "api_tls", VT_MAP, 0, 0, NULL, tls_vkeys },
	{ "api_acl", VT_MAP, 0, 0, NULL, acl_vkeys },
	{ "audit_enabled", VT_BOOL, 0, 0, NULL, NULL },
	{ "tracing_enabled", VT_BOOL, 0, 0, NULL, NULL },
	{ "tracing_exporter", VT_ENUM, 0, 0, exporters, NULL },
	{ "tracing_endpoint", VT_STR, 0, 0, NULL, NULL },
	{ "tracing_sample_rate", VT_FLOAT, -1000, 1000, NULL, NULL },
	{ "tracing_service_name", VT_STR, 0, 0, NULL, NULL },
	{ "tracing_use_tls", VT_BOOL, 0, 0, NULL, NULL },
	{ "schedule_history_size", VT_INT, 0, 10000, NULL, NULL },
	{ "oneshot_history_max_entries", VT_INT, 0, 100000, NULL, NULL },
	{ "oneshot_history_max_age", VT_DURATION, 0,
	    (long long)365 * 86400 * 1000, NULL, NULL },
	{ "readiness", VT_MAP, 0, 0, NULL, readiness_vkeys },
	{ "health_check_strict", VT_BOOL, 0, 0, NULL, NULL },
	{ "dependency_timeout", VT_DURATION, 0, (long long)86400 * 1000,
	    NULL, NULL },
	{ "process_start_timeout", VT_DURATION, 0, (long long)86400 * 1000,
	    NULL, NULL },
	{ "process_stop_timeout", VT_DURATION, 0, (long long)86400 * 1000,
	    NULL, NULL },
	{ "max_process_scale", VT_INT, 0, 1000, NULL, NULL },
	{ "zombie_reap_interval", VT_DURATION, 100, 60000, NULL, NULL },
	{ NULL, 0, 0, 0, NULL, NULL }
};

/* One handler for every table-validated global key. */
static void
g_vkey(struct parser *p, struct node *k, struct node *v, void *a)
{
	const struct vkey	*vk;
	char			 path[CONF_NAME_MAX + 64];

	for (vk = global_vkeys; vk->v_name != NULL; vk++)
		if (strcmp(vk->v_name, k->n_value) == 0) {
			snprintf(path, sizeof(path), "global.%s", vk->v_name);
			vcheck(p, v, path, vk);
			return;
		}
}

/*
 * api_acl and metrics_acl: checked by the table, then kept.  An entry
 * that is not an address is an error, where phpeek-pm logs it and
 * turns the whole ACL off (it fails open).
 */
static void
g_acl_list(struct parser *p, struct node *v, const char *path,
    const char *list, struct acl_net *nets, uint32_t *n)
{
	size_t	i;

	if (v == NULL || v->n_type != N_SEQ)
		return;
	for (i = 0; i < v->n_nkids; i++) {
		if (v->n_kids[i]->n_type != N_SCALAR ||
		    v->n_kids[i]->n_value[0] == '\0')
			continue;
		if (*n == ACL_MAX) {
			perr(p, v->n_kids[i], "%s.%s: more than %d entries",
			    path, list, ACL_MAX);
			return;
		}
		if (acl_net_parse(v->n_kids[i]->n_value, &nets[*n]) == 0)
			(*n)++;
	}
}

static void
g_acl(struct parser *p, struct node *k, struct node *v, void *a)
{
	struct acl_conf	*acl;
	struct node	*n;
	char		 path[64];

	g_vkey(p, k, v, a);
	if (v->n_type != N_MAP)
		return;
	acl = strcmp(k->n_value, "api_acl") == 0 ? &GC(a)->gc_api_acl :
	    &GC(a)->gc_metrics_acl;
	memset(acl, 0, sizeof(*acl));
	snprintf(path, sizeof(path), "global.%s", k->n_value);
	if ((n = map_get(v, "enabled")) != NULL && n->n_type == N_SCALAR)
		acl->acl_enabled = bool_value(n->n_value) == 1;
	if ((n = map_get(v, "trust_proxy")) != NULL && n->n_type == N_SCALAR)
		acl->acl_trust_proxy = bool_value(n->n_value) == 1;
	/* phpeek-pm: any mode but "allow" denies by list */
	if ((n = map_get(v, "mode")) != NULL && n->n_type == N_SCALAR)
		acl->acl_deny_mode = strcmp(n->n_value, "allow") != 0;
	g_acl_list(p, map_get(v, "allow_list"), path, "allow_list",
	    acl->acl_allow, &acl->acl_nallow);
	g_acl_list(p, map_get(v, "deny_list"), path, "deny_list",
	    acl->acl_deny, &acl->acl_ndeny);
	if (acl->acl_enabled && !acl->acl_deny_mode && acl->acl_nallow == 0)
		pwarn(p, k, "%s: allow mode with an empty allow_list refuses "
		    "every TCP client", path);
}

/*
 * api_tls and metrics_tls: checked by the table, then kept.  The files
 * are opened by the parent when the listener is made, not here.
 */
static void
g_tls(struct parser *p, struct node *k, struct node *v, void *a)
{
	static const char *const files[TLS_NFILES] = { "cert_file",
		"key_file", "ca_file" };
	struct tls_conf	*tls;
	struct node	*n;
	int		 i;

	g_vkey(p, k, v, a);
	if (v->n_type != N_MAP)
		return;
	tls = strcmp(k->n_value, "api_tls") == 0 ? &GC(a)->gc_api_tls :
	    &GC(a)->gc_metrics_tls;
	memset(tls, 0, sizeof(*tls));
	tls->tls_min_version = 2;	/* TLS 1.2, as phpeek-pm */
	if ((n = map_get(v, "enabled")) != NULL && n->n_type == N_SCALAR)
		tls->tls_enabled = bool_value(n->n_value) == 1;
	for (i = 0; i < TLS_NFILES; i++)
		if ((n = map_get(v, files[i])) != NULL &&
		    n->n_type == N_SCALAR && strlcpy(tls->tls_file[i],
		    n->n_value, sizeof(tls->tls_file[i])) >=
		    sizeof(tls->tls_file[i]))
			perr(p, n, "global.%s.%s: path too long", k->n_value,
			    files[i]);
	if ((n = map_get(v, "client_auth")) != NULL && n->n_type == N_SCALAR)
		for (i = 0; tls_client_auth[i] != NULL; i++)
			if (strcmp(n->n_value, tls_client_auth[i]) == 0)
				tls->tls_client_auth = i;
	if ((n = map_get(v, "min_version")) != NULL && n->n_type == N_SCALAR)
		for (i = 0; tls_versions[i] != NULL; i++)
			if (strcmp(n->n_value, tls_versions[i]) == 0)
				tls->tls_min_version = i;
	if (!tls->tls_enabled)
		return;
	if (tls->tls_file[TLS_CERT][0] == '\0' ||
	    tls->tls_file[TLS_KEY][0] == '\0')
		perr(p, v, "global.%s: enabled needs cert_file and key_file",
		    k->n_value);
	if (tls->tls_client_auth == 3 && tls->tls_file[TLS_CA][0] == '\0')
		perr(p, v, "global.%s: client_auth %s needs ca_file",
		    k->n_value, tls_client_auth[tls->tls_client_auth]);
}

/*
 * global.readiness: checked by the table, then kept.  The processes it
 * names are resolved once every process is known (validate_global).
 */
static void
g_readiness(struct parser *p, struct node *k, struct node *v, void *a)
{
	struct global_conf	*gc = GC(a);
	struct node		*n;
	int			 i;

	g_vkey(p, k, v, a);
	if (v->n_type != N_MAP)
		return;
	if ((n = map_get(v, "enabled")) != NULL && n->n_type == N_SCALAR)
		gc->gc_ready_enabled = bool_value(n->n_value) == 1;
	if ((n = map_get(v, "mode")) != NULL && n->n_type == N_SCALAR)
		for (i = 0; readiness_modes[i] != NULL; i++)
			if (strcmp(n->n_value, readiness_modes[i]) == 0)
				gc->gc_ready_mode = i;
	if ((n = map_get(v, "path")) != NULL && n->n_type == N_SCALAR &&
	    strlcpy(gc->gc_ready_path, n->n_value, sizeof(gc->gc_ready_path))
	    >= sizeof(gc->gc_ready_path))
		perr(p, n, "global.readiness.path: too long");
	if ((n = map_get(v, "content")) != NULL && n->n_type == N_SCALAR &&
	    strlcpy(gc->gc_ready_content, n->n_value,
	    sizeof(gc->gc_ready_content)) >= sizeof(gc->gc_ready_content))
		perr(p, n, "global.readiness.content: longer than %d bytes",
		    READYFILE_CONTENT_MAX - 1);
}

/*
 * global.signal_routes: SIGNAL: [process, ...].  The shape is checked
 * here, the names once every process is known (validate_routes).
 */
static void
g_signal_routes(struct parser *p, struct node *k, struct node *v, void *a)
{
	struct node	*kn, *vn;
	size_t		 i, j;
	int		 sig;

	if (v->n_type != N_MAP) {
		perr(p, v, "global.signal_routes: expected a mapping of signals "
		    "to lists of processes, got %s", node_kind(v));
		return;
	}
	p->p_routes = v;
	for (i = 0; i + 1 < v->n_nkids; i += 2) {
		kn = v->n_kids[i];
		vn = v->n_kids[i + 1];
		if (kn->n_type != N_SCALAR)
			continue;
		sig = signal_byname(kn->n_value);
		if (sig == -1)
			perr(p, kn, "global.signal_routes: unknown signal "
			    "\"%s\"", kn->n_value);
		else if (sig >= 32 || ((1U << sig) & SIGNALS_ROUTABLE) == 0)
			perr(p, kn, "global.signal_routes: %s cannot be routed "
			    "(only SIGHUP, SIGUSR1, SIGUSR2 and SIGWINCH)",
			    signal_name(sig));
		if (vn->n_type == N_SCALAR && !is_null(vn))
			continue;
		if (vn->n_type != N_SEQ) {
			perr(p, vn, "global.signal_routes.%s: expected a list of "
			    "processes, got %s", kn->n_value, node_kind(vn));
			continue;
		}
		for (j = 0; j < vn->n_nkids; j++)
			if (vn->n_kids[j]->n_type != N_SCALAR)
				perr(p, vn->n_kids[j], "global.signal_routes.%s: "
				    "expected a process name, got %s",
				    kn->n_value, node_kind(vn->n_kids[j]));
	}
}

/* Checked by the table; a valid one is kept (0 means the profile's). */
static void
g_autotune_threshold(struct parser *p, struct node *k, struct node *v,
    void *a)
{
	long long	ll;
	double		d = 0;

	g_vkey(p, k, v, a);
	if (v->n_type != N_SCALAR || v->n_quoted)
		return;
	if (yaml_float_syntax(v->n_value))
		d = strtod(v->n_value, NULL);
	else if (yaml_int(v->n_value, &ll) == 0)
		d = (double)ll;
	if (d >= 0 && d <= 10)
		GC(a)->gc_autotune_threshold = d;
}

static const struct key global_keys[] = {
	{ "shutdown_timeout", g_shutdown_timeout },
	{ "shutdown_delay", g_shutdown_delay },
	{ "health_check_interval", g_vkey },
	{ "restart_policy", g_restart_policy },
	{ "max_restart_attempts", g_max_restart_attempts },
	{ "restart_backoff", g_restart_backoff },
	{ "restart_backoff_initial", g_backoff_initial },
	{ "restart_backoff_max", g_backoff_max },
	{ "restart_immediately", g_restart_now },
	{ "autotune_memory_threshold", g_autotune_threshold },
	{ "log_format", g_log_format },
	{ "log_level", g_log_level },
	{ "log_timestamps", g_vkey },
	{ "metrics_enabled", g_metrics_enabled },
	{ "metrics_port", g_metrics_port },
	{ "metrics_path", g_metrics_path },
	{ "metrics_tls", g_tls },
	{ "metrics_acl", g_acl },
	{ "api_enabled", g_api_enabled },
	{ "api_port", g_api_port },
	{ "api_socket", g_api_socket },
	{ "api_auth", g_api_auth },
	{ "api_tls", g_tls },
	{ "api_acl", g_acl },
	{ "api_max_request_body", g_api_max_body },
	{ "resource_metrics_enabled", g_resource_enabled },
	{ "resource_metrics_interval", g_resource_interval },
	{ "resource_metrics_max_samples", g_resource_samples },
	{ "audit_enabled", g_vkey },
	{ "tracing_enabled", g_vkey },
	{ "tracing_exporter", g_vkey },
	{ "tracing_endpoint", g_vkey },
	{ "tracing_sample_rate", g_vkey },
	{ "tracing_service_name", g_vkey },
	{ "tracing_use_tls", g_vkey },
	{ "schedule_history_size", g_vkey },
	{ "oneshot_history_max_entries", g_vkey },
	{ "oneshot_history_max_age", g_vkey },
	{ "readiness", g_readiness },
	{ "signal_routes", g_signal_routes },
	{ "health_check_strict", g_vkey },
	{ "dependency_timeout", g_vkey },
	{ "process_start_timeout", g_vkey },
	{ "process_stop_timeout", g_vkey },
	{ "max_process_scale", g_vkey },
	{ "zombie_reap_interval", g_vkey },
	{ NULL, NULL }
};

/* processes.<name> */

struct pctx {
	struct proc_conf	 *c_pc;
	char			  c_path[CONF_NAME_MAX + 32];
	char			  c_buf[CONF_NAME_MAX + 96];
	int			  c_have_enabled;
	int			  c_have_restart;
	int			  c_cmd_bad;	/* command had an error */
	struct node		 *c_node;
	struct node		 *c_type_node;
	struct node		 *c_scale_node;
	struct node		 *c_cmd_node;
	struct node		**c_deps;	/* one per pc_depends entry */
};

#define PC(arg)		(((struct pctx *)(arg))->c_pc)

static const char *
ppath(void *arg, const char *key)
{
	struct pctx	*c = arg;

	snprintf(c->c_buf, sizeof(c->c_buf), "%s.%s", c->c_path, key);
	return (c->c_buf);
}

static void
p_enabled(struct parser *p, struct node *k, struct node *v, void *a)
{
	if (get_bool(p, v, ppath(a, "enabled"), &PC(a)->pc_enabled) == 0)
		((struct pctx *)a)->c_have_enabled = 1;
}

static void
p_type(struct parser *p, struct node *k, struct node *v, void *a)
{
	if (want_scalar(p, v, ppath(a, "type"), "a string") == -1)
		return;
	((struct pctx *)a)->c_type_node = v;
	if (strcmp(v->n_value, "longrun") == 0)
		PC(a)->pc_type = PTYPE_LONGRUN;
	else if (strcmp(v->n_value, "oneshot") == 0)
		PC(a)->pc_type = PTYPE_ONESHOT;
	else
		perr(p, v, "%s: invalid type \"%s\" (longrun or oneshot)",
		    ppath(a, "type"), v->n_value);
}

static void
p_initial_state(struct parser *p, struct node *k, struct node *v, void *a)
{
	if (want_scalar(p, v, ppath(a, "initial_state"),
	    "a string") == -1)
		return;
	if (strcmp(v->n_value, "running") == 0)
		PC(a)->pc_initial_stopped = 0;
	else if (strcmp(v->n_value, "stopped") == 0)
		PC(a)->pc_initial_stopped = 1;
	else
		perr(p, v, "%s: invalid initial state \"%s\" (running or "
		    "stopped)", ppath(a, "initial_state"), v->n_value);
}

static void
p_command(struct parser *p, struct node *k, struct node *v, void *a)
{
	struct pctx	*c = a;

	c->c_cmd_node = v;
	if (v->n_type == N_SCALAR) {
		perr(p, v, "%s must be a list, e.g. [\"php-fpm\", \"-F\"]",
		    ppath(a, "command"));
		c->c_cmd_bad = 1;
		return;
	}
	if (get_strlist(p, v, ppath(a, "command"), &PC(a)->pc_command) == -1)
		c->c_cmd_bad = 1;
}

static void
p_working_dir(struct parser *p, struct node *k, struct node *v, void *a)
{
	get_str(p, v, ppath(a, "working_dir"), &PC(a)->pc_workdir);
}

static void
p_user(struct parser *p, struct node *k, struct node *v, void *a)
{
	get_str(p, v, ppath(a, "user"), &PC(a)->pc_user);
}

static void
p_group(struct parser *p, struct node *k, struct node *v, void *a)
{
	get_str(p, v, ppath(a, "group"), &PC(a)->pc_group);
}

static void
p_restart(struct parser *p, struct node *k, struct node *v, void *a)
{
	int	pol;

	if (want_scalar(p, v, ppath(a, "restart"), "a string") == -1)
		return;
	if ((pol = policy_byname(v->n_value)) == -1) {
		perr(p, v, "%s: invalid restart policy \"%s\" (always, "
		    "on-failure or never)", ppath(a, "restart"), v->n_value);
		return;
	}
	PC(a)->pc_restart = pol;
	((struct pctx *)a)->c_have_restart = 1;
}

static void
p_scale(struct parser *p, struct node *k, struct node *v, void *a)
{
	int	n;

	((struct pctx *)a)->c_scale_node = v;
	if (get_int(p, v, ppath(a, "scale"), INT_MIN, INT_MAX, &n) == -1)
		return;
	if (n < 0)
		perr(p, v, "%s: invalid scale %d (at least 1)",
		    ppath(a, "scale"), n);
	else if (n > CONF_SCALE_MAX)
		perr(p, v, "%s: %d exceeds the maximum of %d",
		    ppath(a, "scale"), n, CONF_SCALE_MAX);
	else {
		if (n > 20)
			pwarn(p, v, "%s: %d instances may use a lot of "
			    "memory", ppath(a, "scale"), n);
		PC(a)->pc_scale = n == 0 ? 1 : n;
	}
}

static void
p_priority(struct parser *p, struct node *k, struct node *v, void *a)
{
	get_int(p, v, ppath(a, "priority"), -1000000, 1000000,
	    &PC(a)->pc_priority);
}

static void
p_umask(struct parser *p, struct node *k, struct node *v, void *a)
{
	char	*end;
	long	 m;

	if (want_scalar(p, v, ppath(a, "umask"), "a string") == -1)
		return;
	m = strtol(v->n_value, &end, 8);
	if (*end != '\0' || end == v->n_value || m < 0 || m > 0777)
		perr(p, v, "%s: \"%s\" is not an octal mode such as 0022",
		    ppath(a, "umask"), v->n_value);
	else
		PC(a)->pc_umask = (int)m;
}

/* depends_on entries by name, then by position in the list */
struct dep_ent {
	const char	*d_name;
	size_t		 d_idx;
};

static int
dep_ent_cmp(const void *a, const void *b)
{
	const struct dep_ent	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->d_name, y->d_name)) != 0)
		return (c);
	return (x->d_idx < y->d_idx ? -1 : x->d_idx > y->d_idx);
}

/*
 * The names a process waits for, each once: a name listed twice is
 * dropped with a warning, found by sorting rather than by comparing
 * every pair.  The entries' nodes are kept for later errors.
 */
static void
p_depends_on(struct parser *p, struct node *k, struct node *v, void *a)
{
	struct pctx	*c = a;
	struct dep_ent	*ents;
	char		*drop;
	size_t		 i, n, nd = 0;

	if (get_strlist(p, v, ppath(a, "depends_on"),
	    &PC(a)->pc_depends) == -1)
		return;
	n = PC(a)->pc_depends.sl_n;
	free(c->c_deps);
	if ((ents = calloc(n + 1, sizeof(*ents))) == NULL ||
	    (drop = calloc(n + 1, 1)) == NULL ||
	    (c->c_deps = calloc(n + 1, sizeof(*c->c_deps))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < n; i++) {
		ents[i].d_name = PC(a)->pc_depends.sl_v[i];
		ents[i].d_idx = i;
	}
	qsort(ents, n, sizeof(*ents), dep_ent_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(ents[i - 1].d_name, ents[i].d_name) == 0) {
			pwarn(p, v->n_kids[ents[i].d_idx], "%s: '%s' is "
			    "listed twice", ppath(a, "depends_on"),
			    ents[i].d_name);
			drop[ents[i].d_idx] = 1;
		}
	/* compact the list in place, keeping the file's order */
	for (i = 0; i < n; i++) {
		if (drop[i]) {
			free(PC(a)->pc_depends.sl_v[i]);
			continue;
		}
		PC(a)->pc_depends.sl_v[nd] = PC(a)->pc_depends.sl_v[i];
		c->c_deps[nd++] = v->n_kids[i];
	}
	PC(a)->pc_depends.sl_v[nd] = NULL;
	PC(a)->pc_depends.sl_n = nd;
	free(ents);
	free(drop);
}

static int
secret_name(const char *key)
{
	return (strcasestr(key, "password") != NULL ||
	    strcasestr(key, "secret") != NULL ||
	    strcasestr(key, "token") != NULL);
}

/*
 * An env mapping into KEY=VALUE entries, in file order.  A variable
 * named like a secret whose value is written out gets a warning.
 */
static void
decode_env(struct parser *p, struct node *v, const char *path,
    struct strlist *sl)
{
	struct node	*kn, *vn;
	char		*kv;
	size_t		 i;

	if (v->n_type != N_MAP) {
		perr(p, v, "%s: expected a mapping of names to values, got %s",
		    path, node_kind(v));
		return;
	}
	strlist_reserve(sl, v->n_nkids / 2);
	for (i = 0; i + 1 < v->n_nkids; i += 2) {
		kn = v->n_kids[i];
		vn = v->n_kids[i + 1];
		if (want_scalar(p, kn, path, "a variable name") == -1 ||
		    want_scalar(p, vn, path, "a string") == -1)
			continue;
		if (kn->n_value[0] == '\0' || strchr(kn->n_value, '=') !=
		    NULL) {
			perr(p, kn, "%s: invalid variable name \"%s\"", path,
			    kn->n_value);
			continue;
		}
		/* ${VAR} was substituted already: no '$' is left to see */
		if (secret_name(kn->n_value) && strchr(vn->n_value, '$') ==
		    NULL && strchr(vn->n_value, '{') == NULL &&
		    vn->n_value[0] != '\0' && !substituted(p, vn))
			pwarn(p, vn, "%s.%s: a secret written into the file; "
			    "use ${VARIABLE} instead", path, kn->n_value);
		if (asprintf(&kv, "%s=%s", kn->n_value,
		    is_null(vn) ? "" : vn->n_value) == -1)
			fatal("%s", __func__);
		strlist_put(sl, kv);
		free(kv);
	}
}

static void
p_env(struct parser *p, struct node *k, struct node *v, void *a)
{
	decode_env(p, v, ppath(a, "env"), &PC(a)->pc_env);
}

static void
s_signal(struct parser *p, struct node *k, struct node *v, void *a)
{
	int	sig;

	if (want_scalar(p, v, ppath(a, "shutdown.signal"),
	    "a signal name") == -1)
		return;
	if ((sig = signal_byname(v->n_value)) == -1)
		perr(p, v, "%s: unknown signal \"%s\"",
		    ppath(a, "shutdown.signal"), v->n_value);
	else
		PC(a)->pc_stop_signal = sig;
}

static void
s_timeout(struct parser *p, struct node *k, struct node *v, void *a)
{
	int	n;

	if (get_int(p, v, ppath(a, "shutdown.timeout"), 0, 86400, &n) == 0)
		PC(a)->pc_stop_timeout = n == 0 ? 30 : n;
}


/* hooks: the global lists and a process's shutdown.pre_stop_hook */

struct hctx {
	struct hook_conf	*h_hk;
	char			 h_path[CONF_NAME_MAX + 64];
	char			 h_buf[CONF_NAME_MAX + 128];
};

#define HK(arg)		(((struct hctx *)(arg))->h_hk)

static const char *
hpath(void *arg, const char *key)
{
	struct hctx	*c = arg;

	snprintf(c->h_buf, sizeof(c->h_buf), "%s.%s", c->h_path, key);
	return (c->h_buf);
}

static void
k_name(struct parser *p, struct node *k, struct node *v, void *a)
{
	if (want_scalar(p, v, hpath(a, "name"), "a string") == 0 &&
	    strlcpy(HK(a)->hk_name, v->n_value, sizeof(HK(a)->hk_name)) >=
	    sizeof(HK(a)->hk_name))
		perr(p, v, "%s: too long", hpath(a, "name"));
}

static void
k_command(struct parser *p, struct node *k, struct node *v, void *a)
{
	get_strlist(p, v, hpath(a, "command"), &HK(a)->hk_command);
}

static void
k_timeout(struct parser *p, struct node *k, struct node *v, void *a)
{
	int	n;

	if (get_int(p, v, hpath(a, "timeout"), 0, 86400, &n) == 0)
		HK(a)->hk_timeout = n == 0 ? 30 : n;
}

static void
k_retry(struct parser *p, struct node *k, struct node *v, void *a)
{
	get_int(p, v, hpath(a, "retry"), 0, 100, &HK(a)->hk_retry);
}

static void
k_retry_delay(struct parser *p, struct node *k, struct node *v, void *a)
{
	get_int(p, v, hpath(a, "retry_delay"), 0, 86400,
	    &HK(a)->hk_retry_delay);
}

static void
k_continue(struct parser *p, struct node *k, struct node *v, void *a)
{
	get_bool(p, v, hpath(a, "continue_on_error"), &HK(a)->hk_continue);
}

static void
k_working_dir(struct parser *p, struct node *k, struct node *v, void *a)
{
	get_str(p, v, hpath(a, "working_dir"), &HK(a)->hk_workdir);
}

static void
k_env(struct parser *p, struct node *k, struct node *v, void *a)
{
	decode_env(p, v, hpath(a, "env"), &HK(a)->hk_env);
}

static const struct key hook_keys[] = {
	{ "name", k_name },
	{ "command", k_command },
	{ "timeout", k_timeout },
	{ "retry", k_retry },
	{ "retry_delay", k_retry_delay },
	{ "continue_on_error", k_continue },
	{ "env", k_env },
	{ "working_dir", k_working_dir },
	{ NULL, NULL }
};

/* One hook object; NULL after an error. */
static struct hook_conf *
decode_hook(struct parser *p, struct node *v, const char *path, int phase,
    uint32_t idx)
{
	struct hctx	c;

	memset(&c, 0, sizeof(c));
	if ((c.h_hk = config_hook_new(phase, idx)) == NULL)
		fatal("%s", __func__);
	strlcpy(c.h_path, path, sizeof(c.h_path));
	decode_map(p, v, path, hook_keys, &c);
	if (v->n_type == N_MAP && c.h_hk->hk_command.sl_n == 0)
		perr(p, v, "%s: a hook needs a command", path);
	if (c.h_hk->hk_name[0] == '\0')
		snprintf(c.h_hk->hk_name, sizeof(c.h_hk->hk_name), "%s-%u",
		    hook_phase_name(phase), idx);
	if (c.h_hk->hk_command.sl_n == 0) {
		config_hook_free(c.h_hk);
		return (NULL);
	}
	return (c.h_hk);
}

static void
decode_hook_list(struct parser *p, struct node *v, int phase, void *a)
{
	struct phpeekd_conf	*cf = a;
	struct hook_conf	*hk;
	char			 path[64];
	size_t			 i;

	if (v->n_type != N_SEQ) {
		perr(p, v, "hooks.%s: expected a list of hooks, got %s",
		    hook_phase_name(phase), node_kind(v));
		return;
	}
	for (i = 0; i < v->n_nkids; i++) {
		snprintf(path, sizeof(path), "hooks.%s[%zu]",
		    hook_phase_name(phase), i);
		if ((hk = decode_hook(p, v->n_kids[i], path, phase,
		    (uint32_t)i)) != NULL)
			TAILQ_INSERT_TAIL(&cf->cf_hooks, hk, hk_entry);
	}
}

static void
t_pre_start(struct parser *p, struct node *k, struct node *v, void *a)
{
	decode_hook_list(p, v, HOOK_PRE_START, a);
}

static void
t_post_start(struct parser *p, struct node *k, struct node *v, void *a)
{
	decode_hook_list(p, v, HOOK_POST_START, a);
}

static void
t_pre_stop(struct parser *p, struct node *k, struct node *v, void *a)
{
	decode_hook_list(p, v, HOOK_PRE_STOP, a);
}

static void
t_post_stop(struct parser *p, struct node *k, struct node *v, void *a)
{
	decode_hook_list(p, v, HOOK_POST_STOP, a);
}

static const struct key hooks_keys[] = {
	{ "pre-start", t_pre_start },
	{ "post-start", t_post_start },
	{ "pre-stop", t_pre_stop },
	{ "post-stop", t_post_stop },
	{ NULL, NULL }
};

static void
t_hooks(struct parser *p, struct node *k, struct node *v, void *a)
{
	decode_map(p, v, "hooks", hooks_keys, a);
}

static void
s_pre_stop_hook(struct parser *p, struct node *k, struct node *v, void *a)
{
	struct proc_conf	*pc = PC(a);

	config_hook_free(pc->pc_pre_stop);
	pc->pc_pre_stop = decode_hook(p, v, ppath(a, "shutdown.pre_stop_hook"),
	    HOOK_PROC_PRE_STOP, 0);
}

/*
 * The log pipeline's settings, once the table has checked them: kept in
 * the process's configuration and compiled here once, so a pattern
 * that does not compile is an error at its place in the file.
 */
static int
li_bool(struct node *m, const char *key)
{
	struct node	*n;

	return ((n = map_get(m, key)) != NULL && n->n_type == N_SCALAR &&
	    bool_value(n->n_value) == 1);
}

static int
li_int(struct node *m, const char *key, int def)
{
	struct node	*n;
	long long	 v;

	if ((n = map_get(m, key)) == NULL || n->n_type != N_SCALAR ||
	    yaml_int(n->n_value, &v) != 0)
		return (def);
	return ((int)v);
}

static char *
li_str(struct node *m, const char *key)
{
	struct node	*n;
	char		*s;

	if ((n = map_get(m, key)) == NULL || n->n_type != N_SCALAR ||
	    is_null(n) || n->n_value[0] == '\0')
		return (NULL);
	if ((s = strdup(n->n_value)) == NULL)
		fatal("%s", __func__);
	return (s);
}

static void
li_list(struct node *m, const char *key, struct strlist *sl)
{
	struct node	*n;
	size_t		 i;

	if ((n = map_get(m, key)) == NULL || n->n_type != N_SEQ)
		return;
	for (i = 0; i < n->n_nkids; i++)
		if (n->n_kids[i]->n_type == N_SCALAR &&
		    strlist_add(sl, n->n_kids[i]->n_value) == -1)
			fatal("%s", __func__);
}

static void
li_extract(struct parser *p, struct node *v, const char *path,
    struct proc_conf *pc)
{
	struct logintel_conf	*lc = &pc->pc_li;
	struct logintel		*li;
	struct node		*m, *pats, *pn;
	size_t			 i;
	int			 lvl;
	char			 err[512];

	if ((m = map_get(v, "min_level")) != NULL && m->n_type == N_SCALAR &&
	    (lvl = logintel_level(m->n_value)) != -1)
		lc->lc_min_level = lvl;
	if ((m = map_get(v, "redaction")) != NULL && m->n_type == N_MAP) {
		lc->lc_redact_enabled = li_bool(m, "enabled");
		if ((pats = map_get(m, "patterns")) != NULL &&
		    pats->n_type == N_SEQ && pats->n_nkids > 0) {
			if ((lc->lc_redact = calloc(pats->n_nkids,
			    sizeof(*lc->lc_redact))) == NULL)
				fatal("%s", __func__);
			for (i = 0; i < pats->n_nkids; i++) {
				pn = pats->n_kids[i];
				if (pn->n_type != N_MAP)
					continue;
				lc->lc_redact[lc->lc_nredact].lr_name =
				    li_str(pn, "name");
				lc->lc_redact[lc->lc_nredact].lr_pattern =
				    li_str(pn, "pattern");
				lc->lc_redact[lc->lc_nredact].lr_replacement =
				    li_str(pn, "replacement");
				if (lc->lc_redact[lc->lc_nredact].lr_pattern !=
				    NULL)
					lc->lc_nredact++;
			}
		}
	}
	if ((m = map_get(v, "multiline")) != NULL && m->n_type == N_MAP) {
		lc->lc_ml_enabled = li_bool(m, "enabled");
		lc->lc_ml_pattern = li_str(m, "pattern");
		lc->lc_ml_max_lines = li_int(m, "max_lines", 100);
		lc->lc_ml_timeout = li_int(m, "timeout", 1);
	}
	if ((m = map_get(v, "json")) != NULL && m->n_type == N_MAP) {
		lc->lc_json_enabled = li_bool(m, "enabled");
		lc->lc_json_detect_auto = li_bool(m, "detect_auto");
		lc->lc_json_extract_level = li_bool(m, "extract_level");
		lc->lc_json_extract_message = li_bool(m, "extract_message");
		lc->lc_json_merge_fields = li_bool(m, "merge_fields");
	}
	if ((m = map_get(v, "level_detection")) != NULL &&
	    m->n_type == N_MAP) {
		lc->lc_ld_enabled = li_bool(m, "enabled");
		if ((pn = map_get(m, "default_level")) != NULL &&
		    pn->n_type == N_SCALAR &&
		    (lvl = logintel_level(pn->n_value)) != -1)
			lc->lc_ld_default = lvl;
		if ((pats = map_get(m, "patterns")) != NULL &&
		    pats->n_type == N_MAP)
			for (i = 0; i + 1 < pats->n_nkids; i += 2) {
				lvl = logintel_level(pats->n_kids[i]->n_value);
				if (lvl == -1) {
					perr(p, pats->n_kids[i], "%s.level_"
					    "detection.patterns: unknown level "
					    "\"%s\"", path,
					    pats->n_kids[i]->n_value);
					continue;
				}
				free(lc->lc_ld_patterns[lvl]);
				lc->lc_ld_patterns[lvl] =
				    li_str(pats, pats->n_kids[i]->n_value);
			}
	}
	if ((m = map_get(v, "filters")) != NULL && m->n_type == N_MAP) {
		li_list(m, "exclude", &lc->lc_exclude);
		li_list(m, "include", &lc->lc_include);
	}
	pc->pc_li_on = lc->lc_redact_enabled || lc->lc_ml_enabled ||
	    lc->lc_json_enabled || lc->lc_ld_enabled ||
	    lc->lc_exclude.sl_n > 0 || lc->lc_include.sl_n > 0 ||
	    lc->lc_min_level != LOG_LVL_INFO;
	if (!pc->pc_li_on)
		return;
	/* every pattern compiles, or the file is wrong where it says so */
	if ((li = logintel_new(lc, err, sizeof(err))) == NULL)
		perr(p, v, "%s: %s", path, err);
	else
		logintel_free(li);
}

static void
v_redaction(struct parser *p, struct node *v, const char *path)
{
	struct node	*pats;
	char		 sub[CONF_NAME_MAX + 256];
	size_t		 i;
	static const struct vkey redaction_vkeys[] = {
		{ "enabled", VT_BOOL, 0, 0, NULL, NULL },
		{ "patterns", VT_STRLIST, 0, 0, NULL, NULL },
		{ NULL, 0, 0, 0, NULL, NULL }
	};

	if (v->n_type != N_MAP) {
		perr(p, v, "%s: expected a mapping, got %s", path,
		    node_kind(v));
		return;
	}
	/* patterns is a list of {name, pattern, replacement} */
	if ((pats = map_get(v, "patterns")) != NULL && pats->n_type == N_SEQ) {
		for (i = 0; i < pats->n_nkids; i++) {
			snprintf(sub, sizeof(sub), "%s.patterns[%zu]", path,
			    i);
			vdecode(p, pats->n_kids[i], sub, redact_pattern_vkeys);
			if (pats->n_kids[i]->n_type == N_MAP &&
			    map_get(pats->n_kids[i], "pattern") == NULL)
				perr(p, pats->n_kids[i], "%s: a pattern is "
				    "required", sub);
		}
		return;
	}
	vdecode(p, v, path, redaction_vkeys);
}

static void
p_logging(struct parser *p, struct node *k, struct node *v, void *a)
{
	struct node	*r, *o, *e;
	char		 path[CONF_NAME_MAX + 128], rp[CONF_NAME_MAX + 160];
	size_t		 i;
	int		 errors;

	snprintf(path, sizeof(path), "%s", ppath(a, "logging"));
	errors = p->p_nerrors;
	vdecode(p, v, path, logging_vkeys);
	if (v->n_type != N_MAP)
		return;
	if ((r = map_get(v, "redaction")) != NULL && !is_null(r)) {
		snprintf(rp, sizeof(rp), "%s.redaction", path);
		/* vdecode above saw only its type: check its keys here */
		for (i = 0; r->n_type == N_MAP && i + 1 < r->n_nkids; i += 2)
			if (strcmp(r->n_kids[i]->n_value, "enabled") != 0 &&
			    strcmp(r->n_kids[i]->n_value, "patterns") != 0)
				pwarn(p, r->n_kids[i], "unknown key '%s' in "
				    "%s", r->n_kids[i]->n_value, rp);
		v_redaction(p, r, rp);
	}
	o = map_get(v, "stdout");
	e = map_get(v, "stderr");
	if (o != NULL && e != NULL && o->n_type == N_SCALAR &&
	    e->n_type == N_SCALAR && strcasecmp(o->n_value, "false") == 0 &&
	    strcasecmp(e->n_value, "false") == 0)
		pwarn(p, v, "%s: both stdout and stderr are disabled", path);
	if (p->p_nerrors == errors)
		li_extract(p, v, path, PC(a));
}

/*
 * heartbeat: phpeek-pm's own keys (enabled, interval, grace) are
 * checked and, as there, have no effect; the documented ping keys do.
 */
#define HB(arg)	(&PC(arg)->pc_heartbeat)

static void
hb_flag(struct parser *p, struct node *k, struct node *v, void *a)
{
	int	b;

	(void)get_bool(p, v, ppath(a, "heartbeat.enabled"), &b);
}

static void
hb_seconds(struct parser *p, struct node *k, struct node *v, void *a)
{
	char	key[32], path[CONF_NAME_MAX + 128];
	int	n, *dst = NULL, max = 86400;

	/* only the table's names get here: they fit */
	snprintf(key, sizeof(key), "heartbeat.%s", k->n_value);
	snprintf(path, sizeof(path), "%s", ppath(a, key));
	if (strcmp(k->n_value, "timeout") == 0) {
		dst = &HB(a)->hb_timeout;
		max = 3600;
	} else if (strcmp(k->n_value, "retry_count") == 0) {
		dst = &HB(a)->hb_retry_count;
		max = 100;
	} else if (strcmp(k->n_value, "retry_delay") == 0) {
		dst = &HB(a)->hb_retry_delay;
		max = 3600;
	}
	if (get_int(p, v, path, 0, max, &n) == 0 && dst != NULL)
		*dst = n;
}

static void
hb_url(struct parser *p, struct node *k, struct node *v, void *a)
{
	char	key[32], path[CONF_NAME_MAX + 128], **dst;

	snprintf(key, sizeof(key), "heartbeat.%s", k->n_value);
	snprintf(path, sizeof(path), "%s", ppath(a, key));
	if (strcmp(k->n_value, "url") == 0)
		dst = &HB(a)->hb_url;
	else if (strcmp(k->n_value, "success_url") == 0)
		dst = &HB(a)->hb_success_url;
	else
		dst = &HB(a)->hb_failure_url;
	if (get_str(p, v, path, dst) == -1 || *dst == NULL)
		return;
	if (strncmp(*dst, "http://", 7) != 0 &&
	    strncmp(*dst, "https://", 8) != 0)
		perr(p, v, "%s: \"%s\" is not an http or https URL", path,
		    *dst);
}

static void
hb_method(struct parser *p, struct node *k, struct node *v, void *a)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "HEAD" };
	size_t	i;
	char	**dst = &HB(a)->hb_method;

	if (get_str(p, v, ppath(a, "heartbeat.method"), dst) == -1 ||
	    *dst == NULL)
		return;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcasecmp(*dst, methods[i]) == 0) {
			strlcpy(*dst, methods[i], strlen(*dst) + 1);
			return;
		}
	perr(p, v, "%s: \"%s\" is not GET, POST, PUT or HEAD",
	    ppath(a, "heartbeat.method"), *dst);
}

static void
hb_headers(struct parser *p, struct node *k, struct node *v, void *a)
{
	char	path[CONF_NAME_MAX + 128];

	snprintf(path, sizeof(path), "%s", ppath(a, "heartbeat.headers"));
	decode_env(p, v, path, &HB(a)->hb_headers);
}

static const struct key heartbeat_keys[] = {
	{ "enabled", hb_flag },
	{ "interval", hb_seconds },
	{ "grace", hb_seconds },
	{ "url", hb_url },
	{ "success_url", hb_url },
	{ "failure_url", hb_url },
	{ "timeout", hb_seconds },
	{ "retry_count", hb_seconds },
	{ "retry_delay", hb_seconds },
	{ "method", hb_method },
	{ "headers", hb_headers },
	{ NULL, NULL }
};

/* fpm_metrics: phpeekd's, the pool whose status page to scrape */
#define FM(arg)	(&PC(arg)->pc_fpm)

static void
fm_socket(struct parser *p, struct node *k, struct node *v, void *a)
{
	char	**dst = &FM(a)->fm_socket;

	if (get_str(p, v, ppath(a, "fpm_metrics.socket"), dst) == -1 ||
	    *dst == NULL)
		return;
	if (**dst != '/' && strrchr(*dst, ':') == NULL)
		perr(p, v, "%s: \"%s\" is neither /path nor host:port",
		    ppath(a, "fpm_metrics.socket"), *dst);
}

static void
fm_status_path(struct parser *p, struct node *k, struct node *v, void *a)
{
	char	**dst = &FM(a)->fm_status_path;

	if (get_str(p, v, ppath(a, "fpm_metrics.status_path"), dst) == 0 &&
	    *dst != NULL && **dst != '/')
		perr(p, v, "%s: must start with /",
		    ppath(a, "fpm_metrics.status_path"));
}

static void
fm_seconds(struct parser *p, struct node *k, struct node *v, void *a)
{
	char	key[32], path[CONF_NAME_MAX + 128];
	int	n, interval = strcmp(k->n_value, "interval") == 0;

	snprintf(key, sizeof(key), "fpm_metrics.%s", k->n_value);
	snprintf(path, sizeof(path), "%s", ppath(a, key));
	if (get_int(p, v, path, 1, interval ? 3600 : 60, &n) == 0) {
		if (interval)
			FM(a)->fm_interval = n;
		else
			FM(a)->fm_timeout = n;
	}
}

static void
fm_ping_path(struct parser *p, struct node *k, struct node *v, void *a)
{
	char	**dst = &FM(a)->fm_ping_path;

	if (get_str(p, v, ppath(a, "fpm_metrics.ping_path"), dst) == 0 &&
	    *dst != NULL && **dst != '/')
		perr(p, v, "%s: must start with /",
		    ppath(a, "fpm_metrics.ping_path"));
}

static void
fm_opcache(struct parser *p, struct node *k, struct node *v, void *a)
{
	(void)get_bool(p, v, ppath(a, "fpm_metrics.opcache"),
	    &FM(a)->fm_opcache);
}

static void
fm_per_process(struct parser *p, struct node *k, struct node *v, void *a)
{
	(void)get_bool(p, v, ppath(a, "fpm_metrics.per_process"),
	    &FM(a)->fm_per_process);
}

static const struct key fpm_keys[] = {
	{ "socket", fm_socket },
	{ "ping_path", fm_ping_path },
	{ "opcache", fm_opcache },
	{ "per_process", fm_per_process },
	{ "status_path", fm_status_path },
	{ "interval", fm_seconds },
	{ "timeout", fm_seconds },
	{ NULL, NULL }
};

static void
p_fpm_metrics(struct parser *p, struct node *k, struct node *v, void *a)
{
	char	path[CONF_NAME_MAX + 128];

	snprintf(path, sizeof(path), "%s", ppath(a, "fpm_metrics"));
	decode_map(p, v, path, fpm_keys, a);
	if (v->n_type == N_MAP && FM(a)->fm_socket == NULL)
		perr(p, v, "%s: socket is required", path);
	if (FM(a)->fm_timeout >= FM(a)->fm_interval)
		perr(p, v, "%s: timeout (%ds) must be shorter than interval "
		    "(%ds)", path, FM(a)->fm_timeout, FM(a)->fm_interval);
}

static void
p_heartbeat(struct parser *p, struct node *k, struct node *v, void *a)
{
	char	path[CONF_NAME_MAX + 128];

	snprintf(path, sizeof(path), "%s", ppath(a, "heartbeat"));
	decode_map(p, v, path, heartbeat_keys, a);
}

static void
p_schedule(struct parser *p, struct node *k, struct node *v, void *a)
{
	struct cron	c;
	char		err[256];

	if (want_scalar(p, v, ppath(a, "schedule"), "a string") == -1 ||
	    v->n_value[0] == '\0')
		return;
	if (cron_parse(v->n_value, &c, err, sizeof(err)) == -1) {
		perr(p, v, "%s: invalid schedule expression \"%s\": %s",
		    ppath(a, "schedule"), v->n_value, err);
		return;
	}
	get_str(p, v, ppath(a, "schedule"), &PC(a)->pc_schedule);
}

static void
p_vkey(struct parser *p, struct node *v, void *a, const char *name,
    enum vtype type, long long min, long long max, const char *const *e)
{
	struct vkey	k;
	char		path[CONF_NAME_MAX + 128];

	memset(&k, 0, sizeof(k));
	k.v_name = name;
	k.v_type = type;
	k.v_min = min;
	k.v_max = max;
	k.v_enum = e;
	snprintf(path, sizeof(path), "%s", ppath(a, name));
	vcheck(p, v, path, &k);
}

static void
p_stdout(struct parser *p, struct node *k, struct node *v, void *a)
{
	p_vkey(p, v, a, "stdout", VT_BOOL, 0, 0, NULL);
}

static void
p_stderr(struct parser *p, struct node *k, struct node *v, void *a)
{
	p_vkey(p, v, a, "stderr", VT_BOOL, 0, 0, NULL);
}

static void
p_max_scale(struct parser *p, struct node *k, struct node *v, void *a)
{
	int	n;

	if (get_int(p, v, ppath(a, "max_scale"), 0, CONF_SCALE_MAX,
	    &n) == 0 && n > 0 && PC(a)->pc_scale > n)
		perr(p, v, "%s: scale (%d) exceeds max_scale (%d)",
		    ppath(a, "max_scale"), PC(a)->pc_scale, n);
}

static void
p_schedule_timezone(struct parser *p, struct node *k, struct node *v,
    void *a)
{
	p_vkey(p, v, a, "schedule_timezone", VT_ENUM, 0, 0, timezones);
}

static void
p_schedule_timeout(struct parser *p, struct node *k, struct node *v, void *a)
{
	int64_t	ms = -1;

	if (get_duration(p, v, ppath(a, "schedule_timeout"), &ms) == 0 &&
	    ms > (int64_t)86400 * 1000)
		perr(p, v, "%s: at most 24h", ppath(a, "schedule_timeout"));
	else if (ms >= 0)
		PC(a)->pc_schedule_timeout_ms = ms;
}

static void
p_schedule_max_concurrent(struct parser *p, struct node *k, struct node *v,
    void *a)
{
	get_int(p, v, ppath(a, "schedule_max_concurrent"), 0, 1000,
	    &PC(a)->pc_schedule_max);
}

static void
s_kill_signal(struct parser *p, struct node *k, struct node *v, void *a)
{
	p_vkey(p, v, a, "shutdown.kill_signal", VT_SIGNAL, 0, 0, NULL);
}

static void
s_graceful(struct parser *p, struct node *k, struct node *v, void *a)
{
	p_vkey(p, v, a, "shutdown.graceful", VT_BOOL, 0, 0, NULL);
}


static const struct key shutdown_keys[] = {
	{ "signal", s_signal },
	{ "timeout", s_timeout },
	{ "kill_signal", s_kill_signal },
	{ "graceful", s_graceful },
	{ "pre_stop_hook", s_pre_stop_hook },
	{ NULL, NULL }
};

static void
p_shutdown(struct parser *p, struct node *k, struct node *v, void *a)
{
	decode_map(p, v, ppath(a, "shutdown"), shutdown_keys, a);
}

#define HC(arg)	(&PC(arg)->pc_health)

static void
h_type(struct parser *p, struct node *k, struct node *v, void *a)
{
	if (want_scalar(p, v, ppath(a, "health_check.type"),
	    "a string") == -1)
		return;
	if (strcmp(v->n_value, "tcp") == 0)
		HC(a)->hc_type = HC_TCP;
	else if (strcmp(v->n_value, "http") == 0)
		HC(a)->hc_type = HC_HTTP;
	else if (strcmp(v->n_value, "exec") == 0)
		HC(a)->hc_type = HC_EXEC;
	else
		perr(p, v, "%s: invalid health check type \"%s\" (tcp, http "
		    "or exec)", ppath(a, "health_check.type"), v->n_value);
}

static void
h_address(struct parser *p, struct node *k, struct node *v, void *a)
{
	get_str(p, v, ppath(a, "health_check.address"), &HC(a)->hc_address);
}

static void
h_url(struct parser *p, struct node *k, struct node *v, void *a)
{
	get_str(p, v, ppath(a, "health_check.url"), &HC(a)->hc_url);
}

static void
h_command(struct parser *p, struct node *k, struct node *v, void *a)
{
	get_strlist(p, v, ppath(a, "health_check.command"),
	    &HC(a)->hc_command);
}

static void
h_mode(struct parser *p, struct node *k, struct node *v, void *a)
{
	if (want_scalar(p, v, ppath(a, "health_check.mode"),
	    "a string") == -1)
		return;
	if (strcmp(v->n_value, "both") == 0 || v->n_value[0] == '\0')
		HC(a)->hc_mode = HC_MODE_BOTH;
	else if (strcmp(v->n_value, "liveness") == 0)
		HC(a)->hc_mode = HC_MODE_LIVENESS;
	else if (strcmp(v->n_value, "readiness") == 0)
		HC(a)->hc_mode = HC_MODE_READINESS;
	else
		perr(p, v, "%s: invalid mode \"%s\" (liveness, readiness or "
		    "both)", ppath(a, "health_check.mode"), v->n_value);
}

/* An int key of health_check whose zero means phpeek-pm's default. */
static void
h_int(struct parser *p, struct node *v, void *a, const char *key, int *dst,
    int def)
{
	char	path[CONF_NAME_MAX + 128];
	int	n;

	snprintf(path, sizeof(path), "%s", ppath(a, key));
	if (get_int(p, v, path, 0, 86400, &n) == 0)
		*dst = n == 0 ? def : n;
}

static void
h_initial_delay(struct parser *p, struct node *k, struct node *v, void *a)
{
	h_int(p, v, a, "health_check.initial_delay",
	    &HC(a)->hc_initial_delay, 5);
}

static void
h_period(struct parser *p, struct node *k, struct node *v, void *a)
{
	h_int(p, v, a, "health_check.period", &HC(a)->hc_period, 10);
}

static void
h_timeout(struct parser *p, struct node *k, struct node *v, void *a)
{
	h_int(p, v, a, "health_check.timeout", &HC(a)->hc_timeout, 3);
}

static void
h_failure_threshold(struct parser *p, struct node *k, struct node *v, void *a)
{
	h_int(p, v, a, "health_check.failure_threshold",
	    &HC(a)->hc_failure_threshold, 3);
}

static void
h_success_threshold(struct parser *p, struct node *k, struct node *v, void *a)
{
	h_int(p, v, a, "health_check.success_threshold",
	    &HC(a)->hc_success_threshold, 1);
}

static void
h_expected_status(struct parser *p, struct node *k, struct node *v, void *a)
{
	int	n;

	if (get_int(p, v, ppath(a, "health_check.expected_status"), 0, 599,
	    &n) == 0)
		HC(a)->hc_expected_status = n == 0 ? 200 : n;
}

static const struct key health_keys[] = {
	{ "type", h_type },
	{ "address", h_address },
	{ "url", h_url },
	{ "command", h_command },
	{ "initial_delay", h_initial_delay },
	{ "period", h_period },
	{ "timeout", h_timeout },
	{ "failure_threshold", h_failure_threshold },
	{ "success_threshold", h_success_threshold },
	{ "expected_status", h_expected_status },
	{ "mode", h_mode },
	{ NULL, NULL }
};

static void
p_health_check(struct parser *p, struct node *k, struct node *v, void *a)
{
	struct health_conf	*hc = HC(a);

	decode_map(p, v, ppath(a, "health_check"), health_keys, a);
	if (v->n_type != N_MAP)
		return;
	if (hc->hc_type == HC_NONE)
		perr(p, v, "%s: type is required (tcp, http or exec)",
		    ppath(a, "health_check"));
	else if (hc->hc_type == HC_TCP && hc->hc_address == NULL)
		perr(p, v, "%s: a tcp health check needs an address",
		    ppath(a, "health_check"));
	else if (hc->hc_type == HC_HTTP && hc->hc_url == NULL)
		perr(p, v, "%s: an http health check needs a url",
		    ppath(a, "health_check"));
	else if (hc->hc_type == HC_EXEC && hc->hc_command.sl_n == 0)
		perr(p, v, "%s: an exec health check needs a command",
		    ppath(a, "health_check"));
	if (hc->hc_type != HC_NONE && hc->hc_timeout >= hc->hc_period)
		pwarn(p, v, "%s: timeout (%ds) >= period (%ds) may make "
		    "checks overlap", ppath(a, "health_check"),
		    hc->hc_timeout, hc->hc_period);
}

/* phpeekd: how a service says it is ready, "notify" or "fd N" */
static void
p_readiness(struct parser *p, struct node *k, struct node *v, void *a)
{
	const char	*errstr;
	int		 n;

	if (want_scalar(p, v, ppath(a, "readiness"), "a string") == -1)
		return;
	if (strcmp(v->n_value, "notify") == 0) {
		PC(a)->pc_ready = READY_NOTIFY;
		return;
	}
	if (strncmp(v->n_value, "fd ", 3) == 0) {
		n = (int)strtonum(v->n_value + 3, 3, 1023, &errstr);
		if (errstr == NULL) {
			PC(a)->pc_ready = READY_FD;
			PC(a)->pc_ready_fd = n;
			return;
		}
	}
	perr(p, v, "%s: \"%s\" is neither notify nor fd N (3 to 1023)",
	    ppath(a, "readiness"), v->n_value);
}

/* phpeekd: on_success, on_failure: what its end means to the container */
static void
p_on_action(struct parser *p, struct node *k, struct node *v, void *a)
{
	int	*dst;

	dst = strcmp(k->n_value, "on_success") == 0 ? &PC(a)->pc_on_success :
	    &PC(a)->pc_on_failure;
	if (want_scalar(p, v, ppath(a, k->n_value), "a string") == -1)
		return;
	if (strcmp(v->n_value, "continue") == 0)
		*dst = ACTION_CONTINUE;
	else if (strcmp(v->n_value, "shutdown") == 0)
		*dst = ACTION_SHUTDOWN;
	else
		perr(p, v, "%s: \"%s\" is neither continue nor shutdown",
		    ppath(a, k->n_value), v->n_value);
}

static const struct key process_keys[] = {
	{ "enabled", p_enabled },
	{ "type", p_type },
	{ "initial_state", p_initial_state },
	{ "command", p_command },
	{ "working_dir", p_working_dir },
	{ "user", p_user },
	{ "group", p_group },
	{ "stdout", p_stdout },
	{ "stderr", p_stderr },
	{ "restart", p_restart },
	{ "scale", p_scale },
	{ "max_scale", p_max_scale },
	{ "priority", p_priority },
	{ "umask", p_umask },
	{ "depends_on", p_depends_on },
	{ "env", p_env },
	{ "health_check", p_health_check },
	{ "shutdown", p_shutdown },
	{ "logging", p_logging },
	{ "schedule", p_schedule },
	{ "schedule_timezone", p_schedule_timezone },
	{ "schedule_timeout", p_schedule_timeout },
	{ "schedule_max_concurrent", p_schedule_max_concurrent },
	{ "heartbeat", p_heartbeat },
	{ "on_success", p_on_action },
	{ "on_failure", p_on_action },
	{ "fpm_metrics", p_fpm_metrics },
	{ "readiness", p_readiness },
	{ NULL, NULL }
};

static int
name_valid(const char *s)
{
	size_t	len = strlen(s);

	return (len > 0 && len < CONF_NAME_MAX &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == len);
}

static int
ent_cmp(const void *a, const void *b)
{
	const struct pent	*x = a, *y = b;

	return (strcmp(x->e_pc->pc_name, y->e_pc->pc_name));
}

/* A process by name, by binary search: names are looked up per edge. */
static struct pent *
ent_find(struct parser *p, const char *name)
{
	size_t	lo = 0, hi = p->p_nents, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(name, p->p_ents[mid].e_pc->pc_name)) == 0)
			return (&p->p_ents[mid]);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (NULL);
}

/* The checks of one process that need all of its keys. */
static void
process_checks(struct parser *p, struct pctx *c, struct node *kn,
    struct node *body)
{
	struct proc_conf	*pc = c->c_pc;

	if (!c->c_have_enabled)
		pwarn(p, kn, "processes.%s: 'enabled' is not set: phpeekd "
		    "runs it (phpeek-pm would skip it); set enabled: true or "
		    "false", pc->pc_name);
	else if (!pc->pc_enabled)
		psuggest(p, kn, "processes.%s is defined but disabled",
		    pc->pc_name);
	if (body->n_type != N_MAP || c->c_cmd_bad)
		;	/* reported already */
	else if (pc->pc_command.sl_n == 0 && (c->c_cmd_node == NULL ||
	    is_null(c->c_cmd_node)))
		perr(p, kn, "processes.%s: no command", pc->pc_name);
	else if (pc->pc_command.sl_n == 0)
		perr(p, c->c_cmd_node, "processes.%s.command is empty",
		    pc->pc_name);
	else if (pc->pc_command.sl_v[0][0] == '\0')
		perr(p, c->c_cmd_node->n_kids[0], "processes.%s.command: the "
		    "program name is empty", pc->pc_name);
	else if (strcmp(pc->pc_command.sl_v[0], "sh") == 0 ||
	    strcmp(pc->pc_command.sl_v[0], "bash") == 0)
		psuggest(p, kn, "processes.%s: the command runs through a "
		    "shell; exec the program directly so it gets signals",
		    pc->pc_name);
	if (pc->pc_type == PTYPE_ONESHOT && pc->pc_restart == RESTART_ALWAYS)
		perr(p, c->c_type_node != NULL ? c->c_type_node : kn,
		    "processes.%s: oneshot processes cannot use restart: "
		    "always (inherited from global.restart_policy unless "
		    "set); set restart: never or on-failure", pc->pc_name);
	if (pc->pc_type == PTYPE_ONESHOT && pc->pc_scale > 1)
		perr(p, c->c_scale_node != NULL ? c->c_scale_node : kn,
		    "processes.%s: a oneshot process cannot have scale > 1 "
		    "(got %d)", pc->pc_name, pc->pc_scale);
}

static void
decode_processes(struct parser *p, struct node *map)
{
	struct phpeekd_conf	*cf = p->p_conf;
	struct proc_conf	*pc;
	struct pctx		 c;
	struct node		*kn;
	size_t			 i, n = 0;

	if (map->n_type != N_MAP) {
		perr(p, map, "processes: expected a mapping of names to "
		    "processes, got %s", node_kind(map));
		return;
	}
	if ((p->p_ents = calloc(map->n_nkids / 2 + 1,
	    sizeof(*p->p_ents))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i + 1 < map->n_nkids; i += 2) {
		kn = map->n_kids[i];
		if (kn->n_type != N_SCALAR || !name_valid(kn->n_value)) {
			perr(p, kn, "processes: invalid name \"%s\" (1 to %d "
			    "of A-Z a-z 0-9 . _ -)", kn->n_type == N_SCALAR ?
			    kn->n_value : "?", CONF_NAME_MAX - 1);
			continue;
		}
		if ((pc = config_proc_new(kn->n_value)) == NULL)
			fatal("%s", __func__);
		pc->pc_restart = cf->cf_global.gc_restart_policy;
		memset(&c, 0, sizeof(c));
		c.c_pc = pc;
		c.c_node = kn;
		snprintf(c.c_path, sizeof(c.c_path), "processes.%s",
		    pc->pc_name);
		decode_map(p, map->n_kids[i + 1], c.c_path, process_keys, &c);
		process_checks(p, &c, kn, map->n_kids[i + 1]);
		p->p_ents[n].e_pc = pc;
		p->p_ents[n].e_key = kn;
		p->p_ents[n].e_body = map->n_kids[i + 1];
		p->p_ents[n].e_deps = c.c_deps;
		n++;
	}
	/* processes in name order, as every role lists them */
	qsort(p->p_ents, n, sizeof(*p->p_ents), ent_cmp);
	p->p_nents = n;
	for (i = 0; i < n; i++) {
		TAILQ_INSERT_TAIL(&cf->cf_procs, p->p_ents[i].e_pc, pc_entry);
		cf->cf_nprocs++;
	}
}

static void
t_global(struct parser *p, struct node *k, struct node *v, void *a)
{
	decode_map(p, v, "global", global_keys, a);
}

static void
t_processes(struct parser *p, struct node *k, struct node *v, void *a)
{
	/* decoded after global, whose restart_policy is the default */
}

static const struct key top_keys[] = {
	{ "version", NULL },
	{ "global", t_global },
	{ "hooks", t_hooks },
	{ "processes", t_processes },
	{ NULL, NULL }
};

static struct node *
map_get(struct node *map, const char *key)
{
	size_t	i;

	if (map == NULL || map->n_type != N_MAP)
		return (NULL);
	for (i = 0; i + 1 < map->n_nkids; i += 2)
		if (map->n_kids[i]->n_type == N_SCALAR &&
		    strcmp(map->n_kids[i]->n_value, key) == 0)
			return (map->n_kids[i + 1]);
	return (NULL);
}

/* A depends_on entry's node, for errors that point at it. */
static struct node *
dep_node(struct pent *e, size_t i)
{
	return (e->e_deps != NULL && e->e_deps[i] != NULL ? e->e_deps[i] :
	    e->e_key);
}

/*
 * The defined process a mistyped name most likely means.  Each search
 * compares against every process, so only the first few are made.
 */
static struct proc_conf *
find_suggest(struct parser *p, const char *name)
{
	struct proc_conf	*best = NULL;
	size_t			 i;
	int			 d, bestd = 3;

	if (p->p_nsuggest++ >= MAX_SUGGEST || !diag_room(p))
		return (NULL);
	for (i = 0; i < p->p_nents; i++)
		if ((d = levenshtein(name, p->p_ents[i].e_pc->pc_name)) <
		    bestd) {
			bestd = d;
			best = p->p_ents[i].e_pc;
		}
	return (best);
}

/*
 * Report the cycle on the DFS path from stack[from] to the top, which
 * has an edge back to stack[from], named from its smallest name so
 * that the same cycle always reads the same: "a -> b -> a".
 */
static void
cycle_report(struct parser *p, size_t *stack, size_t from, size_t depth,
    struct node *at)
{
	size_t	 len = depth - from, i, k, min = 0, mlen = 32;
	char	*msg;

	for (i = 0; i < len; i++) {
		mlen += strlen(p->p_ents[stack[from + i]].e_pc->pc_name) + 4;
		if (stack[from + i] < stack[from + min])
			min = i;	/* p_ents is in name order */
	}
	mlen += strlen(p->p_ents[stack[from + min]].e_pc->pc_name);
	if ((msg = malloc(mlen)) == NULL)
		fatal("%s", __func__);
	strlcpy(msg, "dependency cycle: ", mlen);
	for (i = 0; i <= len; i++) {
		k = stack[from + (min + i) % len];
		strlcat(msg, p->p_ents[k].e_pc->pc_name, mlen);
		if (i < len)
			strlcat(msg, " -> ", mlen);
	}
	perr(p, at, "%s", msg);
	free(msg);
}

/*
 * Dependency cycles, each named in full: an iterative DFS from every
 * process in name order, with the path on a stack.  Every edge is
 * followed once, so each back edge, and with it each cycle, is
 * reported once.  A process depending on itself is reported apart.
 */
static void
cycles(struct parser *p)
{
	struct pent	*e, *dep;
	size_t		 n = p->p_nents, i, j, k, depth;
	size_t		*stack, *next;
	int		*color;		/* 0 new, 1 on the path, 2 done */

	if (n == 0)
		return;
	if ((stack = calloc(n, sizeof(*stack))) == NULL ||
	    (next = calloc(n, sizeof(*next))) == NULL ||
	    (color = calloc(n, sizeof(*color))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < n; i++) {
		if (color[i] != 0)
			continue;
		depth = 0;
		stack[depth++] = i;
		color[i] = 1;
		while (depth > 0) {
			k = stack[depth - 1];
			e = &p->p_ents[k];
			if (next[k] >= e->e_pc->pc_depends.sl_n) {
				color[k] = 2;
				depth--;
				continue;
			}
			j = next[k]++;
			dep = ent_find(p, e->e_pc->pc_depends.sl_v[j]);
			if (dep == NULL || dep == e)
				continue;
			if (color[dep - p->p_ents] == 0) {
				color[dep - p->p_ents] = 1;
				stack[depth++] = (size_t)(dep - p->p_ents);
			} else if (color[dep - p->p_ents] == 1) {
				for (j = 0; stack[j] !=
				    (size_t)(dep - p->p_ents); j++)
					;
				cycle_report(p, stack, j, depth,
				    dep_node(e, next[k] - 1));
			}
		}
	}
	free(stack);
	free(next);
	free(color);
}

/*
 * The checks phpeek-pm's check-config adds, with phpeekd's own word
 * where phpeekd behaves differently (the API without a token listens on
 * loopback only).
 */
static void
validate_global(struct parser *p, struct node *root)
{
	struct global_conf	*gc = &p->p_conf->cf_global;
	struct node		*g = map_get(root, "global"), *n, *r, *l;
	struct node		*at = g != NULL ? g : root;
	struct proc_conf	*pc;
	struct pent		*e;
	const char		*s;
	size_t			 i;

	/*
	 * phpeek-pm's "restart_backoff < 1" warning cannot fire: 0 means
	 * 5 and a negative value is an error here.
	 */
	if (geteuid() != 0) {
		if (gc->gc_api_enabled && gc->gc_api_port > 0 &&
		    gc->gc_api_port < 1024)
			perr(p, (n = map_get(g, "api_port")) != NULL ? n : at,
			    "global.api_port: privileged port %d requires "
			    "root", gc->gc_api_port);
		if (gc->gc_metrics_enabled && gc->gc_metrics_port > 0 &&
		    gc->gc_metrics_port < 1024)
			perr(p, (n = map_get(g, "metrics_port")) != NULL ? n :
			    at, "global.metrics_port: privileged port %d "
			    "requires root", gc->gc_metrics_port);
	}
	if (gc->gc_api_enabled) {
		if (gc->gc_api_auth[0] == '\0' &&
		    map_get(g, "api_acl") == NULL)
			pwarn(p, at, "global.api_auth: the API has neither a "
			    "token nor an ACL; phpeekd serves it on 127.0.0.1 "
			    "only");
		if (map_get(g, "api_tls") == NULL)
			psuggest(p, at, "global.api_tls: the API runs without "
			    "TLS");
		if ((n = map_get(g, "audit_enabled")) == NULL ||
		    (n->n_type == N_SCALAR && strcasecmp(n->n_value,
		    "true") != 0))
			psuggest(p, n != NULL ? n : at,
			    "global.audit_enabled: the API is on but audit "
			    "logging is off");
	}
	if (gc->gc_metrics_enabled && map_get(g, "metrics_acl") == NULL)
		psuggest(p, at, "global.metrics_acl: the metrics endpoint has "
		    "no ACL and exposes monitoring data");
	if (!gc->gc_api_enabled && !gc->gc_metrics_enabled)
		psuggest(p, at, "global: neither the API nor metrics are "
		    "enabled");
	if (gc->gc_resource_enabled && !gc->gc_metrics_enabled)
		pwarn(p, at, "global.metrics_enabled: resource metrics are "
		    "collected but the Prometheus endpoint is off");
	/* readiness file: checked only when it is enabled */
	r = map_get(g, "readiness");
	if (!gc->gc_ready_enabled)
		return;
	n = r != NULL && r->n_type == N_MAP ? map_get(r, "path") : NULL;
	if (n == NULL)
		n = r != NULL ? r : at;
	s = gc->gc_ready_path;
	if (*s == '\0')
		perr(p, n, "global.readiness.path must not be empty");
	else if (*s != '/')
		perr(p, n, "global.readiness.path: %s is not an absolute path",
		    s);
	else if (strncmp(s, "/tmp/", 5) != 0 &&
	    strncmp(s, "/var/run/", 9) != 0 && strncmp(s, "/run/", 5) != 0)
		psuggest(p, n, "global.readiness.path: %s is not under /tmp "
		    "or /run", s);
	l = r != NULL && r->n_type == N_MAP ? map_get(r, "processes") : NULL;
	if (l != NULL && l->n_type == N_SEQ && l->n_nkids > 0) {
		for (i = 0; i < l->n_nkids; i++) {
			if (l->n_kids[i]->n_type != N_SCALAR)
				continue;
			if ((e = ent_find(p, l->n_kids[i]->n_value)) == NULL)
				pwarn(p, l->n_kids[i], "global.readiness."
				    "processes: '%s' is not defined",
				    l->n_kids[i]->n_value);
			else if (!e->e_pc->pc_enabled)
				pwarn(p, l->n_kids[i], "global.readiness."
				    "processes: '%s' is not enabled and never "
				    "counts", l->n_kids[i]->n_value);
			else
				e->e_pc->pc_ready_tracked = 1;
		}
		return;
	}
	/* by default every service meant to run: not tasks, not held */
	for (i = 0; i < p->p_nents; i++) {
		pc = p->p_ents[i].e_pc;
		pc->pc_ready_tracked = pc->pc_enabled &&
		    pc->pc_type == PTYPE_LONGRUN && pc->pc_schedule == NULL &&
		    !pc->pc_initial_stopped;
	}
}

/* global.signal_routes: each name a defined process, enabled. */
static void
validate_routes(struct parser *p)
{
	struct node		*v = p->p_routes, *kn, *vn, *n;
	struct proc_conf	*s;
	struct pent		*e;
	size_t			 i, j, nn;
	int			 sig;

	if (v == NULL)
		return;
	for (i = 0; i + 1 < v->n_nkids; i += 2) {
		kn = v->n_kids[i];
		vn = v->n_kids[i + 1];
		if (kn->n_type != N_SCALAR ||
		    (sig = signal_byname(kn->n_value)) == -1 || sig >= 32 ||
		    ((1U << sig) & SIGNALS_ROUTABLE) == 0 || is_null(vn))
			continue;
		nn = vn->n_type == N_SEQ ? vn->n_nkids : 1;
		for (j = 0; j < nn; j++) {
			n = vn->n_type == N_SEQ ? vn->n_kids[j] : vn;
			if (n->n_type != N_SCALAR)
				continue;
			if ((e = ent_find(p, n->n_value)) == NULL) {
				s = find_suggest(p, n->n_value);
				perr(p, n, "global.signal_routes.%s: '%s' is not "
				    "defined%s%s%s", kn->n_value, n->n_value,
				    s != NULL ? "; did you mean '" : "",
				    s != NULL ? s->pc_name : "",
				    s != NULL ? "'?" : "");
			} else if (!e->e_pc->pc_enabled)
				pwarn(p, n, "global.signal_routes.%s: '%s' is "
				    "not enabled", kn->n_value, n->n_value);
			else
				e->e_pc->pc_signals |= 1U << sig;
		}
		if (sig == SIGHUP && nn > 0)
			psuggest(p, kn, "global.signal_routes: SIGHUP goes to "
			    "processes and no longer reloads the configuration; "
			    "reload with phpeekctl reload or --watch");
	}
}

/* on_success and on_failure where they cannot happen. */
static void
validate_actions(struct parser *p)
{
	struct proc_conf	*pc;
	struct node		*n;
	size_t			 i;

	for (i = 0; i < p->p_nents; i++) {
		pc = p->p_ents[i].e_pc;
		if (pc->pc_schedule != NULL && (pc->pc_on_success !=
		    ACTION_CONTINUE || pc->pc_on_failure != ACTION_CONTINUE)) {
			n = map_get(p->p_ents[i].e_body, pc->pc_on_success !=
			    ACTION_CONTINUE ? "on_success" : "on_failure");
			pwarn(p, n != NULL ? n : p->p_ents[i].e_key,
			    "processes.%s: on_success and on_failure have no "
			    "effect on a scheduled task", pc->pc_name);
		} else if (pc->pc_on_success == ACTION_SHUTDOWN &&
		    pc->pc_type == PTYPE_LONGRUN &&
		    pc->pc_restart == RESTART_ALWAYS) {
			n = map_get(p->p_ents[i].e_body, "on_success");
			pwarn(p, n != NULL ? n : p->p_ents[i].e_key,
			    "processes.%s.on_success: with restart: always it "
			    "never ends successfully", pc->pc_name);
		}
	}
}

/* phpeek-pm's notes on users: switching needs root. */
static void
validate_users(struct parser *p)
{
	struct proc_conf	*pc;
	size_t			 i;

	for (i = 0; i < p->p_nents; i++) {
		pc = p->p_ents[i].e_pc;
		if (pc->pc_user == NULL && pc->pc_group == NULL)
			continue;
		if (geteuid() != 0)
			pwarn(p, p->p_ents[i].e_body, "processes.%s: user "
			    "switching (user=%s, group=%s) needs root, and "
			    "phpeekd does not run as root", pc->pc_name,
			    pc->pc_user != NULL ? pc->pc_user : "-",
			    pc->pc_group != NULL ? pc->pc_group : "-");
	}
}

static void
validate(struct parser *p, struct node *root)
{
	struct phpeekd_conf	*cf = p->p_conf;
	struct proc_conf	*pc, *s;
	struct pent		*e, *dep;
	struct node		*procs = map_get(root, "processes");
	const char		*name;
	size_t			 i, k;

	if (cf->cf_nprocs == 0 && p->p_nerrors == 0)
		perr(p, procs != NULL ? procs : root, "no processes defined");
	for (k = 0; k < p->p_nents; k++) {
		e = &p->p_ents[k];
		pc = e->e_pc;
		for (i = 0; i < pc->pc_depends.sl_n; i++) {
			name = pc->pc_depends.sl_v[i];
			if (strcmp(name, pc->pc_name) == 0) {
				perr(p, dep_node(e, i), "processes.%s depends "
				    "on itself", pc->pc_name);
				continue;
			}
			if ((dep = ent_find(p, name)) == NULL) {
				s = find_suggest(p, name);
				perr(p, dep_node(e, i), "processes.%s depends "
				    "on '%s', which is not defined%s%s%s",
				    pc->pc_name, name,
				    s != NULL ? "; did you mean '" : "",
				    s != NULL ? s->pc_name : "",
				    s != NULL ? "'?" : "");
			} else if (!dep->e_pc->pc_enabled && pc->pc_enabled)
				perr(p, dep_node(e, i), "processes.%s depends "
				    "on '%s', which is disabled", pc->pc_name,
				    name);
		}
	}
	cycles(p);
	validate_global(p, root);
	validate_routes(p);
	validate_actions(p);
	validate_users(p);
}


/*
 * Environment overrides, applied to the tree after the file is parsed
 * and before it is decoded, so they are typed and validated like the
 * file.  PHPEEK_PM_GLOBAL_<KEY> sets global.<key>;
 * PHPEEK_PM_PROCESS_<NAME>_<FIELD> sets processes.<name>.<field>, and
 * PHPEEK_PM_PROCESS_<NAME>_ENV_<VAR> one variable of its env.
 *
 * A value that starts with [ or { and is JSON becomes a list or a
 * mapping; anything else stays text for the key's own type, so "1" is
 * a fine scale (phpeek-pm makes it a boolean and fails).  Where a name
 * could split two ways the split that names an existing process wins,
 * then the longer field: ..._MAX_SCALE is max_scale, not the scale of
 * a process called "x-max" (phpeek-pm routes it there).
 */

extern char	**environ;

static struct node *
env_scalar(struct parser *p, const char *var, const char *value,
    int quoted)
{
	yaml_mark_t	 m;
	struct node	*n;

	memset(&m, 0, sizeof(m));
	m.line = (size_t)-1;	/* line 0: not from the file */
	m.column = (size_t)-1;
	if ((n = node_new(p, N_SCALAR, m)) == NULL)
		return (NULL);
	if ((n->n_value = strdup(value)) == NULL ||
	    (n->n_env = strdup(var)) == NULL)
		fatal("%s", __func__);
	n->n_quoted = quoted;
	return (n);
}

static struct node *
env_json(struct parser *p, const char *var, struct json_object *o,
    int depth)
{
	struct json_object_iterator	 it, end;
	struct node			*n, *k;
	yaml_mark_t			 m;
	size_t				 i, len;

	if (depth > MAX_DEPTH)
		return (NULL);
	memset(&m, 0, sizeof(m));
	m.line = m.column = (size_t)-1;
	switch (json_object_get_type(o)) {
	case json_type_array:
		if ((n = node_new(p, N_SEQ, m)) == NULL)
			return (NULL);
		len = json_object_array_length(o);
		for (i = 0; i < len; i++) {
			if ((k = env_json(p, var, json_object_array_get_idx(o,
			    i), depth + 1)) == NULL)
				return (NULL);
			node_add(n, k);
		}
		break;
	case json_type_object:
		if ((n = node_new(p, N_MAP, m)) == NULL)
			return (NULL);
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it)) {
			if ((k = env_scalar(p, var, json_object_iter_peek_name(
			    &it), 1)) == NULL)
				return (NULL);
			node_add(n, k);
			if ((k = env_json(p, var, json_object_iter_peek_value(
			    &it), depth + 1)) == NULL)
				return (NULL);
			node_add(n, k);
		}
		break;
	case json_type_null:
		return (env_scalar(p, var, "", 0));
	default:
		return (env_scalar(p, var, json_object_get_string(o),
		    json_object_get_type(o) == json_type_string));
	}
	if ((n->n_env = strdup(var)) == NULL)
		fatal("%s", __func__);
	return (n);
}

static struct node *
env_value(struct parser *p, const char *var, const char *raw)
{
	struct json_object	*o;
	struct node		*n;
	char			*v, *e;

	if ((v = strdup(raw)) == NULL)
		fatal("%s", __func__);
	while (*v != '\0' && isspace((unsigned char)v[strlen(v) - 1]))
		v[strlen(v) - 1] = '\0';
	e = v;
	while (isspace((unsigned char)*e))
		e++;
	if ((*e == '[' || *e == '{') &&
	    (o = json_tokener_parse(e)) != NULL) {
		n = env_json(p, var, o, 0);
		json_object_put(o);
	} else
		n = env_scalar(p, var, e, 0);
	free(v);
	return (n);
}

/* map[key] = value, replacing what the file had. */
static struct node *
map_set(struct parser *p, struct node *map, const char *key,
    struct node *value, const char *var)
{
	struct node	*k;
	size_t		 i;

	for (i = 0; i + 1 < map->n_nkids; i += 2)
		if (map->n_kids[i]->n_type == N_SCALAR &&
		    strcmp(map->n_kids[i]->n_value, key) == 0) {
			if (value != NULL)
				map->n_kids[i + 1] = value;
			return (map->n_kids[i + 1]);
		}
	if (value == NULL) {
		yaml_mark_t	m;

		memset(&m, 0, sizeof(m));
		m.line = m.column = (size_t)-1;
		if ((value = node_new(p, N_MAP, m)) == NULL)
			return (NULL);
	}
	if ((k = env_scalar(p, var, key, 0)) == NULL)
		return (NULL);
	node_add(map, k);
	node_add(map, value);
	return (value);
}

static const struct key *
key_find(const struct key *keys, const char *name)
{
	for (; keys->k_name != NULL; keys++)
		if (strcmp(keys->k_name, name) == 0)
			return (keys);
	return (NULL);
}

/*
 * A lower-case field such as "health_check_type" as a path into the
 * process schema: "health_check" then "type".  Returns the number of
 * parts (1 or 2) or 0 when it names nothing.
 */
static int
env_field(const char *field, char *a, size_t alen, char *b, size_t blen)
{
	static const struct {
		const char		*prefix;
		const struct key	*keys;
	} nested[] = {
		{ "health_check_", health_keys },
		{ "shutdown_", shutdown_keys },
	};
	size_t	i, pl;

	/* the caller keeps b whether or not there is a second part */
	a[0] = b[0] = '\0';
	for (i = 0; i < sizeof(nested) / sizeof(nested[0]); i++) {
		pl = strlen(nested[i].prefix);
		if (strncmp(field, nested[i].prefix, pl) == 0 &&
		    key_find(nested[i].keys, field + pl) != NULL) {
			strlcpy(a, nested[i].prefix, alen);
			a[pl - 1] = '\0';
			strlcpy(b, field + pl, blen);
			return (2);
		}
	}
	if (key_find(process_keys, field) != NULL &&
	    strcmp(field, "env") != 0) {
		strlcpy(a, field, alen);
		return (1);
	}
	return (0);
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* The existing process an encoded name means, or a new name. */
static void
env_procname(struct node *procs, const char *enc, char *out, size_t len)
{
	char	cand[CONF_NAME_MAX];
	size_t	i, j;

	for (i = 0; procs != NULL && i + 1 < procs->n_nkids; i += 2) {
		if (procs->n_kids[i]->n_type != N_SCALAR)
			continue;
		strlcpy(cand, procs->n_kids[i]->n_value, sizeof(cand));
		for (j = 0; cand[j] != '\0'; j++)
			cand[j] = cand[j] == '-' ? '_' :
			    (char)toupper((unsigned char)cand[j]);
		if (strcmp(cand, enc) == 0) {
			strlcpy(out, procs->n_kids[i]->n_value, len);
			return;
		}
	}
	strlcpy(out, enc, len);
	for (j = 0; out[j] != '\0'; j++)
		out[j] = out[j] == '_' ? '-' : (char)tolower((unsigned char)
		    out[j]);
}

static int
env_known(struct node *procs, const char *enc)
{
	char	name[CONF_NAME_MAX];

	env_procname(procs, enc, name, sizeof(name));
	return (procs != NULL && map_get(procs, name) != NULL);
}

static void
env_process(struct parser *p, struct node **rootp, const char *var,
    const char *rest, const char *value)
{
	struct node	*root = *rootp, *procs, *proc, *v, *sub;
	char		 enc[CONF_NAME_MAX * 2], name[CONF_NAME_MAX];
	char		 field[128], a[64], b[64], best_a[64], best_b[64];
	const char	*envp;
	size_t		 i, len = strlen(rest);
	int		 parts, best = 0, best_known = -1;
	size_t		 best_split = 0;

	procs = map_get(root, "processes");
	if ((envp = strstr(rest, "_ENV_")) != NULL && envp > rest &&
	    envp[5] != '\0') {
		if ((size_t)(envp - rest) >= CONF_NAME_MAX)
			return;
		memcpy(enc, rest, (size_t)(envp - rest));
		enc[envp - rest] = '\0';
		env_procname(procs, enc, name, sizeof(name));
		if ((procs = map_set(p, root, "processes", NULL, var)) ==
		    NULL ||
		    (proc = map_set(p, procs, name, NULL, var)) == NULL ||
		    (sub = map_set(p, proc, "env", NULL, var)) == NULL ||
		    (v = env_scalar(p, var, value, 1)) == NULL)
			return;
		map_set(p, sub, envp + 5, v, var);
		return;
	}
	/* every split point: NAME _ FIELD */
	for (i = 1; i < len; i++) {
		if (rest[i] != '_' || i >= sizeof(enc) ||
		    len - i - 1 >= sizeof(field))
			continue;
		memcpy(enc, rest, i);
		enc[i] = '\0';
		strlcpy(field, rest + i + 1, sizeof(field));
		lower(field);
		if ((parts = env_field(field, a, sizeof(a), b,
		    sizeof(b))) == 0)
			continue;
		if (env_known(procs, enc) > best_known ||
		    (env_known(procs, enc) == best_known &&
		    strlen(field) > strlen(rest) - best_split - 1)) {
			best_known = env_known(procs, enc);
			best_split = i;
			best = parts;
			strlcpy(best_a, a, sizeof(best_a));
			strlcpy(best_b, b, sizeof(best_b));
		}
	}
	if (best == 0) {
		struct node m;

		memset(&m, 0, sizeof(m));
		m.n_env = (char *)var;
		pwarn(p, &m, "%s names no process field; ignored", var);
		return;
	}
	memcpy(enc, rest, best_split);
	enc[best_split] = '\0';
	env_procname(procs, enc, name, sizeof(name));
	if ((v = env_value(p, var, value)) == NULL ||
	    (procs = map_set(p, root, "processes", NULL, var)) == NULL ||
	    (proc = map_set(p, procs, name, NULL, var)) == NULL)
		return;
	if (best == 2) {
		if ((sub = map_set(p, proc, best_a, NULL, var)) != NULL)
			map_set(p, sub, best_b, v, var);
	} else
		map_set(p, proc, best_a, v, var);
}

static void
env_overrides(struct parser *p, struct node **rootp)
{
	struct node	*g, *v;
	char		**e, var[256], key[256];
	const char	*eq;
	size_t		 klen;
	yaml_mark_t	 m;

	for (e = environ; e != NULL && *e != NULL; e++) {
		if (strncmp(*e, "PHPEEK_PM_GLOBAL_", 17) != 0 &&
		    strncmp(*e, "PHPEEK_PM_PROCESS_", 18) != 0)
			continue;
		if ((eq = strchr(*e, '=')) == NULL ||
		    (klen = (size_t)(eq - *e)) >= sizeof(var))
			continue;
		memcpy(var, *e, klen);
		var[klen] = '\0';
		if (*rootp == NULL || (*rootp)->n_type != N_MAP) {
			if (*rootp != NULL && !is_null(*rootp))
				return;	/* decode reports the real problem */
			memset(&m, 0, sizeof(m));
			if ((*rootp = node_new(p, N_MAP, m)) == NULL)
				return;
		}
		if (var[10] == 'G') {
			strlcpy(key, var + 17, sizeof(key));
			lower(key);
			if (key_find(global_keys, key) == NULL) {
				struct node n;

				memset(&n, 0, sizeof(n));
				n.n_env = var;
				pwarn(p, &n, "%s names no global key; ignored",
				    var);
				continue;
			}
			if ((v = env_value(p, var, eq + 1)) == NULL ||
			    (g = map_set(p, *rootp, "global", NULL, var)) ==
			    NULL)
				continue;
			map_set(p, g, key, v, var);
		} else if (var[18] != '\0')
			env_process(p, rootp, var, var + 18, eq + 1);
	}
}

/* Count what was kept, after a summary of what was not. */
static void
parse_finish(struct parser *p)
{
	struct parse_result	*pr = p->p_pr;
	struct diag		*d;
	int			 n;

	n = p->p_dropped[DIAG_ERROR] + p->p_dropped[DIAG_WARNING] +
	    p->p_dropped[DIAG_SUGGESTION];
	if (n > 0)
		diag_add(&pr->pr_diags, p->p_dropped[DIAG_ERROR] > 0 ?
		    DIAG_ERROR : DIAG_WARNING, 0, 0, "%d more diagnostics not "
		    "shown (%d errors, %d warnings, %d suggestions)", n,
		    p->p_dropped[DIAG_ERROR], p->p_dropped[DIAG_WARNING],
		    p->p_dropped[DIAG_SUGGESTION]);
	pr->pr_errors = pr->pr_warnings = 0;
	TAILQ_FOREACH(d, &pr->pr_diags, d_entry) {
		if (d->d_severity == DIAG_ERROR)
			pr->pr_errors++;
		else if (d->d_severity == DIAG_WARNING)
			pr->pr_warnings++;
	}
}

int
parse_config(const char *path, const char *buf, size_t len,
    struct parse_result *pr)
{
	return (parse_config_edits(path, buf, len, NULL, pr));
}

/*
 * The file with the API's changes on top: each edit replaces, adds or
 * removes one entry of processes before anything is decoded, so an
 * edited process is checked exactly as one written in the file, its
 * dependencies and cycles included.  Its nodes have no position; a
 * diagnostic about one names its field.
 */
static void
edits_apply(struct parser *p, struct node *root, const struct cfg_edits *edits)
{
	const struct cfg_edit	*ce;
	struct node		*procs, *val, *key;
	yaml_mark_t		 mark;
	size_t			 i, first;

	if (edits == NULL || TAILQ_EMPTY(edits) || root == NULL ||
	    root->n_type != N_MAP)
		return;
	memset(&mark, 0, sizeof(mark));
	if ((procs = map_get(root, "processes")) == NULL ||
	    procs->n_type != N_MAP) {
		if (procs != NULL)
			return;		/* the file's own error stands */
		if ((key = node_new(p, N_SCALAR, mark)) == NULL ||
		    (procs = node_new(p, N_MAP, mark)) == NULL ||
		    (key->n_value = strdup("processes")) == NULL)
			fatal("%s", __func__);
		node_add(root, key);
		node_add(root, procs);
	}
	TAILQ_FOREACH(ce, edits, ce_entry) {
		for (i = 0; i + 1 < procs->n_nkids; i += 2)
			if (procs->n_kids[i]->n_type == N_SCALAR &&
			    strcmp(procs->n_kids[i]->n_value, ce->ce_name) == 0)
				break;
		if (ce->ce_json == NULL) {
			if (i + 1 >= procs->n_nkids)
				continue;
			memmove(&procs->n_kids[i], &procs->n_kids[i + 2],
			    (procs->n_nkids - i - 2) * sizeof(struct node *));
			procs->n_nkids -= 2;
			continue;
		}
		first = p->p_nall;
		if ((val = tree_build(p, ce->ce_json, strlen(ce->ce_json))) ==
		    NULL)
			continue;
		for (; first < p->p_nall; first++) {
			p->p_all[first]->n_line = p->p_all[first]->n_col = 0;
			p->p_all[first]->n_start = p->p_all[first]->n_end = 0;
		}
		if (i + 1 < procs->n_nkids) {
			procs->n_kids[i + 1] = val;
			continue;
		}
		if ((key = node_new(p, N_SCALAR, mark)) == NULL ||
		    (key->n_value = strdup(ce->ce_name)) == NULL)
			fatal("%s", __func__);
		key->n_line = key->n_col = 0;
		node_add(procs, key);
		node_add(procs, val);
	}
}

/*
 * Writing the configuration back (config/save): the tree of the file as
 * written, ${VARIABLES} unexpanded and PHPEEK_PM_* overrides not
 * applied, with the API's changes on top, in block style.  Comments and
 * anchors are not in the tree and are lost; a value that was quoted,
 * or a block scalar, is written double-quoted, so every value keeps its
 * type.
 */
static void
emit_scalar(FILE *f, const struct node *n)
{
	const unsigned char	*c;

	if (!n->n_quoted) {
		fputs(n->n_value[0] == '\0' ? "~" : n->n_value, f);
		return;
	}
	fputc('"', f);
	for (c = (const unsigned char *)n->n_value; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(f, "\\%c", *c);
		else if (*c == '\n')
			fputs("\\n", f);
		else if (*c == '\t')
			fputs("\\t", f);
		else if (*c < 0x20 || *c == 0x7f)
			fprintf(f, "\\x%02x", *c);
		else
			fputc(*c, f);
	}
	fputc('"', f);
}

static void	emit_node(FILE *, const struct node *, int, int);

/* A key written plain where YAML reads it back as the same string. */
static void
emit_key(FILE *f, const struct node *k)
{
	static const char *const words[] = { "true", "false", "yes", "no",
		"on", "off", "y", "n", "null" };
	const char	*c = k->n_value;
	size_t		 i;

	if (k->n_type != N_SCALAR) {
		fputs("\"\"", f);
		return;
	}
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(c, words[i]) == 0) {
			emit_scalar(f, k);
			return;
		}
	if (!isalpha((unsigned char)*c) && *c != '_') {
		emit_scalar(f, k);
		return;
	}
	for (; *c != '\0'; c++)
		if (!isalnum((unsigned char)*c) && strchr("_.-", *c) == NULL) {
			emit_scalar(f, k);
			return;
		}
	fputs(k->n_value, f);
}

/* inline: the first line goes where the cursor is (after "- ") */
static void
emit_node(FILE *f, const struct node *n, int indent, int inline_first)
{
	const struct node	*k, *v;
	size_t			 i;
	int			 pad;

	for (i = 0; i < n->n_nkids; i += n->n_type == N_MAP ? 2 : 1) {
		pad = i == 0 && inline_first ? 0 : indent;
		fprintf(f, "%*s", pad, "");
		if (n->n_type == N_MAP) {
			k = n->n_kids[i];
			v = i + 1 < n->n_nkids ? n->n_kids[i + 1] : NULL;
			emit_key(f, k);
			fputc(':', f);
		} else {
			v = n->n_kids[i];
			fputc('-', f);
		}
		if (v == NULL || v->n_type == N_SCALAR) {
			fputc(' ', f);
			if (v != NULL)
				emit_scalar(f, v);
			fputc('\n', f);
		} else if (v->n_nkids == 0)
			fputs(v->n_type == N_MAP ? " {}\n" : " []\n", f);
		else if (n->n_type == N_SEQ && v->n_type == N_MAP) {
			fputc(' ', f);
			emit_node(f, v, indent + 2, 1);
		} else {
			fputc('\n', f);
			emit_node(f, v, indent + 2, 0);
		}
	}
}

int
parse_emit(const char *buf, size_t len, const struct cfg_edits *edits,
    char **out, size_t *outlen, char *err, size_t errlen)
{
	struct parser		 p;
	struct parse_result	 pr;
	struct node		*root;
	FILE			*f;
	int			 rv = -1;

	memset(&pr, 0, sizeof(pr));
	TAILQ_INIT(&pr.pr_diags);
	memset(&p, 0, sizeof(p));
	p.p_pr = &pr;
	*out = NULL;
	*outlen = 0;
	root = tree_build(&p, buf, len);
	if (p.p_nerrors == 0)
		edits_apply(&p, root, edits);
	if (p.p_nerrors > 0 || root == NULL || root->n_type != N_MAP) {
		snprintf(err, errlen, "the file no longer parses");
		goto done;
	}
	if ((f = open_memstream(out, outlen)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	fputs("# Written by phpeekd (POST /api/v1/config/save); the\n"
	    "# comments of the file it replaced are not kept.\n", f);
	emit_node(f, root, 0, 0);
	if (fclose(f) == 0)
		rv = 0;
	else {
		snprintf(err, errlen, "out of memory");
		free(*out);
		*out = NULL;
	}
 done:
	parser_free(&p);
	parse_finish(&p);
	parse_result_clear(&pr);
	return (rv);
}

int
parse_config_edits(const char *path, const char *buf, size_t len,
    const struct cfg_edits *edits, struct parse_result *pr)
{
	struct parser		 p;
	struct node		*root = NULL, *procs, empty;
	struct global_conf	*gc;
	char			*text;
	size_t			 tlen;

	memset(pr, 0, sizeof(*pr));
	TAILQ_INIT(&pr->pr_diags);
	memset(&p, 0, sizeof(p));
	p.p_pr = pr;
	(void)path;	/* the caller prefixes it */

	if (len > CONF_FILE_MAX)
		perr(&p, NULL, "file larger than %d bytes", CONF_FILE_MAX);
	else if ((text = substitute(&p, buf, len, &tlen)) == NULL)
		perr(&p, NULL, "${...} substitution makes the file larger "
		    "than %d bytes", CONF_FILE_MAX);
	else {
		root = tree_build(&p, text, tlen);
		free(text);
		if (p.p_nerrors == 0)
			edits_apply(&p, root, edits);
		if (p.p_nerrors == 0)
			env_overrides(&p, &root);
	}
	if (p.p_nerrors > 0) {
		parser_free(&p);
		parse_finish(&p);
		return (-1);
	}
	if ((p.p_conf = config_new()) == NULL)
		fatal("%s", __func__);
	if (root == NULL || is_null(root)) {
		memset(&empty, 0, sizeof(empty));
		empty.n_line = empty.n_col = 1;
		perr(&p, &empty, "the file is empty: no processes defined");
	} else if (root->n_type != N_MAP)
		perr(&p, root, "expected a mapping at the top, got %s",
		    node_kind(root));
	else {
		decode_map(&p, root, "the top level", top_keys, p.p_conf);
		gc = &p.p_conf->cf_global;
		/* the legacy key seeds what the new ones leave unset */
		if (p.p_legacy_backoff > 0) {
			if (!p.p_have_initial)
				gc->gc_backoff_initial_ms =
				    (int64_t)p.p_legacy_backoff * 1000;
			if (!p.p_have_max)
				gc->gc_backoff_max_ms =
				    (int64_t)p.p_legacy_backoff * 12000;
		}
		if ((procs = map_get(root, "processes")) != NULL &&
		    !is_null(procs))
			decode_processes(&p, procs);
		validate(&p, root);
	}
	parser_free(&p);
	parse_finish(&p);
	if (p.p_nerrors > 0) {
		config_free(p.p_conf);
		return (-1);
	}
	pr->pr_conf = p.p_conf;
	return (0);
}
