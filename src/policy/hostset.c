/* SPDX-License-Identifier: MIT */
/*
 * The compiled pattern set: a reversed-label trie with globs hanging off
 * its nodes. See hostset.h for the shape.
 *
 * Why the results are the glob semantics of spec network §2.2: "*.d" is the
 * glob "?*.d", i.e. the host is X + "." + d with X at least one byte. For a
 * host whose labels are not empty, that is exactly "the trie path of d is a
 * proper suffix of the host's labels, with at least one byte left before
 * the dot". A glob whose literal tail (the text after its last wildcard)
 * contains a dot can only match hosts ending in the whole labels after that
 * dot, so trying it only at that node loses nothing.
 *
 * The edge table uses open addressing (linear probing, load at most 1/2).
 * Its keys come from the config, never from requests; a request can only
 * probe the table, not shape it, so no keyed hash is needed.
 */
#include "policy/hostset.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/size.h"

struct hostset_node {
	uint32_t whole[HOSTSET_LISTS]; /* exact host or "**." apex */
	uint32_t sub[HOSTSET_LISTS];   /* "*." or "**.": proper subdomains */
	uint32_t explicit_allow;
	uint32_t glob_head, glob_tail; /* globs tried at this node */
};

struct hostset_edge {
	uint32_t hash;
	uint32_t parent;
	uint32_t child; /* HOSTSET_NONE: an empty slot */
	uint32_t off;   /* label text in s->text */
	uint32_t len;
};

struct hostset_glob {
	uint32_t off, len; /* glob text in s->text */
	uint32_t rule;
	uint32_t next;
	unsigned list;
};

struct hostset {
	struct hostset_node *nodes;
	size_t n_nodes, cap_nodes;
	struct hostset_edge *edges;
	size_t n_edges, cap_edges; /* cap_edges is a power of two */
	struct hostset_glob *globs;
	size_t n_globs, cap_globs;
	struct buf text; /* every label and glob, back to back */
	uint32_t last_rule;
};

/* Text of n bytes has at most n + 1 labels; longer text never matches (no
 * canonical host or pattern body is that long). */
#define HOSTSET_TEXT_MAX  PATTERN_BODY_MAX
#define HOSTSET_DEPTH_MAX (HOSTSET_TEXT_MAX + 2)

static uint32_t
hostset_hash(uint32_t parent, const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, 64 bits */

	for (unsigned i = 0; i < 4; i++) {
		h ^= (parent >> (8 * i)) & 0xff;
		h *= 0x100000001b3ull;
	}
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static void
hostset_set_min(uint32_t *slot, uint32_t rule)
{
	if (*slot == HOSTSET_NONE || rule < *slot)
		*slot = rule;
}

/* Grow an array of elements of size sz to hold one more. */
static int
hostset_grow(void **p, size_t *cap, size_t n, size_t sz)
{
	size_t ncap;
	void *np;

	if (n < *cap)
		return 0;
	if (!size_mul(*cap ? *cap : 8, 2, &ncap) || ncap > UINT32_MAX)
		return -ENOMEM;
	np = reallocarray(*p, ncap, sz);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static int
hostset_node_new(struct hostset *s, uint32_t *ret)
{
	int r;

	r = hostset_grow((void **)&s->nodes, &s->cap_nodes, s->n_nodes,
	    sizeof(*s->nodes));
	if (r < 0)
		return r;
	s->nodes[s->n_nodes] = (struct hostset_node){
		.whole = { HOSTSET_NONE, HOSTSET_NONE },
		.sub = { HOSTSET_NONE, HOSTSET_NONE },
		.explicit_allow = HOSTSET_NONE,
		.glob_head = HOSTSET_NONE,
		.glob_tail = HOSTSET_NONE,
	};
	*ret = (uint32_t)s->n_nodes++;
	return 0;
}

static int
hostset_text_add(struct hostset *s, const char *p, size_t n, uint32_t *ret)
{
	size_t off = s->text.len;
	int r;

	r = buf_append(&s->text, p, n);
	if (r < 0)
		return -ENOMEM;
	*ret = (uint32_t)off;
	return 0;
}

static uint32_t
hostset_child(const struct hostset *s, uint32_t parent, const char *label,
    size_t len, uint32_t hash)
{
	size_t mask = s->cap_edges - 1;

	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		const struct hostset_edge *e = &s->edges[i];

		if (e->child == HOSTSET_NONE)
			return HOSTSET_NONE;
		if (e->hash == hash && e->parent == parent && e->len == len &&
		    memcmp(s->text.data + e->off, label, len) == 0)
			return e->child;
	}
}

static void
hostset_edge_put(struct hostset_edge *edges, size_t cap,
    const struct hostset_edge *e)
{
	size_t i = e->hash & (cap - 1);

	while (edges[i].child != HOSTSET_NONE)
		i = (i + 1) & (cap - 1);
	edges[i] = *e;
}

static int
hostset_edges_grow(struct hostset *s)
{
	struct hostset_edge *edges;
	size_t cap;

	if (s->n_edges + 1 <= s->cap_edges / 2)
		return 0;
	if (!size_mul(s->cap_edges, 2, &cap))
		return -ENOMEM;
	edges = calloc(cap, sizeof(*edges));
	if (!edges)
		return -ENOMEM;
	for (size_t i = 0; i < cap; i++)
		edges[i].child = HOSTSET_NONE;
	for (size_t i = 0; i < s->cap_edges; i++)
		if (s->edges[i].child != HOSTSET_NONE)
			hostset_edge_put(edges, cap, &s->edges[i]);
	free(s->edges);
	s->edges = edges;
	s->cap_edges = cap;
	return 0;
}

/* The child of parent along label, created when missing. */
static int
hostset_descend(struct hostset *s, uint32_t parent, const char *label,
    size_t len, uint32_t *ret)
{
	uint32_t hash = hostset_hash(parent, label, len);
	struct hostset_edge e = { .hash = hash,
		.parent = parent,
		.len = (uint32_t)len };
	int r;

	*ret = hostset_child(s, parent, label, len, hash);
	if (*ret != HOSTSET_NONE)
		return 0;
	r = hostset_edges_grow(s);
	if (r < 0)
		return r;
	r = hostset_text_add(s, label, len, &e.off);
	if (r < 0)
		return r;
	r = hostset_node_new(s, &e.child);
	if (r < 0)
		return r;
	hostset_edge_put(s->edges, s->cap_edges, &e);
	s->n_edges++;
	*ret = e.child;
	return 0;
}

/* The node of name[0..len), walking its labels right to left. */
static int
hostset_path(struct hostset *s, const char *name, size_t len, uint32_t *ret)
{
	uint32_t node = 0;
	size_t end = len;
	int r;

	for (;;) {
		size_t start = end;

		while (start > 0 && name[start - 1] != '.')
			start--;
		r = hostset_descend(s, node, name + start, end - start, &node);
		if (r < 0)
			return r;
		if (start == 0)
			break;
		end = start - 1;
	}
	*ret = node;
	return 0;
}

static int
hostset_glob_add(struct hostset *s, const char *prefix, const char *body,
    size_t len, unsigned list, uint32_t rule)
{
	size_t plen = strlen(prefix), glen = plen + len, last = 0, tail;
	struct hostset_glob *g;
	const char *text;
	const char *dot;
	uint32_t node = 0, off;
	int r;

	r = hostset_text_add(s, prefix, plen, &off);
	if (r < 0)
		return r;
	r = buf_append(&s->text, body, len);
	if (r < 0)
		return -ENOMEM;
	/* The literal tail: everything after the last '*', '?' or ']'. */
	text = s->text.data + off;
	for (size_t i = 0; i < glen; i++)
		if (text[i] == '*' || text[i] == '?' || text[i] == ']')
			last = i + 1;
	tail = glen - last;
	dot = memchr(text + last, '.', tail);
	if (dot && dot + 1 < text + glen) {
		size_t lo = (size_t)(dot + 1 - text);
		char labels[PATTERN_BODY_MAX + 3];

		/* Copy: creating nodes may move s->text. */
		memcpy(labels, text + lo, glen - lo);
		r = hostset_path(s, labels, glen - lo, &node);
		if (r < 0)
			return r;
	}

	r = hostset_grow((void **)&s->globs, &s->cap_globs, s->n_globs,
	    sizeof(*s->globs));
	if (r < 0)
		return r;
	g = &s->globs[s->n_globs];
	*g = (struct hostset_glob){ .off = off,
		.len = (uint32_t)glen,
		.rule = rule,
		.next = HOSTSET_NONE,
		.list = list };
	if (s->nodes[node].glob_tail == HOSTSET_NONE)
		s->nodes[node].glob_head = (uint32_t)s->n_globs;
	else
		s->globs[s->nodes[node].glob_tail].next = (uint32_t)s->n_globs;
	s->nodes[node].glob_tail = (uint32_t)s->n_globs;
	s->n_globs++;
	return 0;
}

struct hostset *
hostset_new(void)
{
	struct hostset *s = calloc(1, sizeof(*s));
	uint32_t root;

	if (!s)
		return NULL;
	buf_init(&s->text, UINT32_MAX);
	s->cap_edges = 16;
	s->edges = calloc(s->cap_edges, sizeof(*s->edges));
	if (!s->edges || hostset_node_new(s, &root) < 0)
		return hostset_free(s);
	for (size_t i = 0; i < s->cap_edges; i++)
		s->edges[i].child = HOSTSET_NONE;
	return s;
}

struct hostset *
hostset_free(struct hostset *s)
{
	if (!s)
		return NULL;
	free(s->nodes);
	free(s->edges);
	free(s->globs);
	buf_done(&s->text);
	free(s);
	return NULL;
}

int
hostset_add(struct hostset *s, enum pattern_kind kind, const char *body,
    size_t len, unsigned list, uint32_t rule, bool explicit)
{
	struct hostset_node *n;
	uint32_t node;
	int r;

	assert(list < HOSTSET_LISTS);
	assert(rule >= s->last_rule);
	s->last_rule = rule;
	if (pattern_is_glob(body, len)) {
		if (kind != PATTERN_SUBDOMAINS) {
			r = hostset_glob_add(s, "", body, len, list, rule);
			if (r < 0)
				return r;
		}
		if (kind != PATTERN_EXACT)
			return hostset_glob_add(s, "?*.", body, len, list,
			    rule);
		return 0;
	}
	r = hostset_path(s, body, len, &node);
	if (r < 0)
		return r;
	n = &s->nodes[node];
	if (kind != PATTERN_SUBDOMAINS)
		hostset_set_min(&n->whole[list], rule);
	if (kind != PATTERN_EXACT)
		hostset_set_min(&n->sub[list], rule);
	if (kind == PATTERN_EXACT && explicit)
		hostset_set_min(&n->explicit_allow, rule);
	return 0;
}

struct hostset_add_ctx {
	struct hostset *set;
	enum pattern_kind kind;
	unsigned list;
	uint32_t rule;
	bool explicit;
};

static int
hostset_add_cb(void *userdata, const char *alt, size_t len)
{
	const struct hostset_add_ctx *a = userdata;

	return hostset_add(a->set, a->kind, alt, len, a->list, a->rule,
	    a->explicit);
}

int
hostset_add_pattern(struct hostset *s, const struct pattern *p, unsigned list,
    uint32_t rule, bool explicit)
{
	struct hostset_add_ctx a = { .set = s,
		.kind = p->kind,
		.list = list,
		.rule = rule,
		.explicit = explicit };

	return pattern_expand(p, hostset_add_cb, &a) < 0 ? -ENOMEM : 0;
}

static void
hostset_match_globs(const struct hostset *s, const uint32_t *path, size_t depth,
    const char *host, size_t len, struct hostset_result *ret)
{
	/* Deepest node first: longer literal tails are more specific. */
	while (depth-- > 0) {
		uint32_t gi = s->nodes[path[depth]].glob_head;

		for (; gi != HOSTSET_NONE; gi = s->globs[gi].next) {
			const struct hostset_glob *g = &s->globs[gi];

			if (ret->rule[g->list] != HOSTSET_NONE)
				continue;
			if (pattern_glob_match(s->text.data + g->off, g->len,
				host, len))
				ret->rule[g->list] = g->rule;
		}
		if (ret->rule[0] != HOSTSET_NONE &&
		    ret->rule[1] != HOSTSET_NONE)
			return;
	}
}

void
hostset_match(const struct hostset *s, const char *host, size_t len,
    struct hostset_result *ret)
{
	uint32_t path[HOSTSET_DEPTH_MAX];
	uint32_t suffix[HOSTSET_LISTS] = { HOSTSET_NONE, HOSTSET_NONE };
	size_t depth = 0, end = len;
	uint32_t node = 0;

	*ret = (struct hostset_result){
		.rule = { HOSTSET_NONE, HOSTSET_NONE },
		.explicit_allow = HOSTSET_NONE,
	};
	if (len == 0 || len > HOSTSET_TEXT_MAX)
		return;
	path[depth++] = 0;
	for (;;) {
		const struct hostset_node *n;
		size_t start = end;

		while (start > 0 && host[start - 1] != '.')
			start--;
		node = hostset_child(s, node, host + start, end - start,
		    hostset_hash(node, host + start, end - start));
		if (node == HOSTSET_NONE)
			break;
		path[depth++] = node;
		n = &s->nodes[node];
		if (start == 0) {
			for (unsigned l = 0; l < HOSTSET_LISTS; l++)
				ret->rule[l] = n->whole[l];
			ret->explicit_allow = n->explicit_allow;
			break;
		}
		/* "?*.d" needs at least one byte before the dot. */
		for (unsigned l = 0; start >= 2 && l < HOSTSET_LISTS; l++)
			if (n->sub[l] != HOSTSET_NONE)
				suffix[l] = n->sub[l];
		end = start - 1;
	}
	for (unsigned l = 0; l < HOSTSET_LISTS; l++)
		if (ret->rule[l] == HOSTSET_NONE)
			ret->rule[l] = suffix[l];
	if (ret->rule[0] == HOSTSET_NONE || ret->rule[1] == HOSTSET_NONE)
		hostset_match_globs(s, path, depth, host, len, ret);
}
