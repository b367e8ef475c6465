/* SPDX-License-Identifier: MIT */
/*
 * The document grammar (TOML 1.0.0 and 1.1.0 ABNF) and the rules on which
 * tables may be defined or extended where.
 *
 * Every table and array records how it came to be (enum toml_def):
 *  - IMPLICIT: a parent created by a header, e.g. a in [a.b]. A later
 *    [a] header may still define it, once; so may dotted keys passing
 *    through it, after which [a] is refused (toml-lang/toml#771: a table
 *    block defines its own table and every table left of a dot).
 *  - HEADER: defined by [a] or [[a]]; never defined again, and dotted
 *    keys from another section may not reach into it.
 *  - DOTTED: defined by a dotted key such as a.b = 1. A [a] header may not
 *    redefine it, but [a.c] may add sub-tables to it.
 *  - INLINE and STATIC: inline tables and array values are complete as
 *    written; nothing may be added to them later.
 *  - AOT: an array of tables, the only array [[a]] may append to.
 *
 * Cost: every key segment is one hash lookup and every byte is looked at a
 * bounded number of times, so parsing is linear in the input. Nesting (tables,
 * arrays, dotted keys) is limited to LIMIT_TOML_DEPTH levels, which also bounds
 * the recursion here and in every function that walks a tree.
 */
#include "toml/toml_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct toml_parser {
	struct toml_lexer lx;
	const char *source;
	struct toml_value *root;
	struct toml_value *section; /* receives key/value lines */
	size_t section_depth;
	struct toml_key key;
	struct buf str; /* scratch for string values */
};

static struct toml_value *
toml_parse_new(struct toml_parser *ps, enum toml_type type, enum toml_def def,
    struct toml_pos pos)
{
	return toml_value_new(type, def, pos, ps->source);
}

static int
toml_parse_too_deep(struct toml_parser *ps, struct toml_pos pos)
{
	return toml_error_set(ps->lx.err, pos,
	    "nesting is deeper than %d levels", LIMIT_TOML_DEPTH);
}

/* A heap copy of key segment i, for a table entry to own. */
static char *
toml_parse_seg_dup(const struct toml_key *k, size_t i)
{
	char *s = malloc(k->seg[i].len + 1);

	if (s)
		memcpy(s, toml_key_seg_str(k, i), k->seg[i].len + 1);
	return s;
}

/* Add a new table for key segment i to t; returns it via *ret. */
static int
toml_parse_add_table(struct toml_parser *ps, struct toml_value *t, size_t i,
    enum toml_def def, struct toml_pos pos, struct toml_value **ret)
{
	const struct toml_key *k = &ps->key;
	struct toml_value *v = toml_parse_new(ps, TOML_TABLE, def, pos);
	char *key = toml_parse_seg_dup(k, i);
	int r;

	if (!v || !key) {
		free(key);
		toml_value_free(v);
		return -ENOMEM;
	}
	r = toml_table_append_take(t, key, k->seg[i].len, k->seg[i].pos, v);
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

/* "an integer", "an inline table", "an array of tables", ... */
static const char *
toml_parse_kind(const struct toml_value *v)
{
	static const char *const kinds[_TOML_TYPE_MAX] = {
		[TOML_TABLE] = "a table",
		[TOML_ARRAY] = "an array",
		[TOML_STRING] = "a string",
		[TOML_INTEGER] = "an integer",
		[TOML_FLOAT] = "a float",
		[TOML_BOOL] = "a boolean",
		[TOML_DATETIME] = "an offset date-time",
		[TOML_DATETIME_LOCAL] = "a local date-time",
		[TOML_DATE_LOCAL] = "a local date",
		[TOML_TIME_LOCAL] = "a local time",
	};

	if (v->type == TOML_TABLE && v->def == TOML_DEF_INLINE)
		return "an inline table";
	if (v->type == TOML_ARRAY && v->def == TOML_DEF_AOT)
		return "an array of tables";
	return kinds[v->type];
}

/* Where a value was defined, for "(defined at L:C)": tables and arrays of
 * tables at their header, brace or first dotted key, others at their key. */
static struct toml_pos
toml_parse_defined_at(const struct toml_entry *en)
{
	const struct toml_value *v = en->value;

	if (v->type == TOML_TABLE ||
	    (v->type == TOML_ARRAY && v->def == TOML_DEF_AOT))
		return v->pos;
	return en->pos;
}

/*
 * Headers: [a.b.c] and [[a.b.c]].
 */

/* Why the existing value at key segments [0, i] cannot be a parent of,
 * or be, the table the header defines. */
static int
toml_parse_header_conflict(struct toml_parser *ps, const struct toml_entry *en,
    size_t i, bool aot)
{
	const struct toml_key *k = &ps->key;
	char hdr[TOML_QUOTE_BYTES * 2], at[TOML_QUOTE_BYTES * 2];
	struct toml_pos where = toml_parse_defined_at(en);

	(void)toml_key_path(k, k->n, hdr, sizeof(hdr));
	(void)toml_key_path(k, i + 1, at, sizeof(at));
	return toml_error_set(ps->lx.err, k->seg[i].pos,
	    "cannot define table %s%s%s: %s is already %s (defined at %u:%u)",
	    aot ? "[[" : "[", hdr, aot ? "]]" : "]", at,
	    toml_parse_kind(en->value), where.line, where.column);
}

/* Walk the parents of the header key from the root, creating implicit
 * tables, stepping into the last element of arrays of tables. */
static int
toml_parse_header_parents(struct toml_parser *ps, struct toml_pos hdr, bool aot,
    struct toml_value **ret_t, size_t *ret_depth)
{
	const struct toml_key *k = &ps->key;
	struct toml_value *t = ps->root;
	size_t depth = 0;

	for (size_t i = 0; i + 1 < k->n; i++) {
		struct toml_entry *en =
		    toml_table_lookup(t, toml_key_seg_str(k, i), k->seg[i].len);
		struct toml_value *v;
		int r;

		if (!en) {
			r = toml_parse_add_table(ps, t, i, TOML_DEF_IMPLICIT,
			    hdr, &v);
			if (r < 0)
				return r;
		} else {
			v = en->value;
		}
		if (v->type == TOML_ARRAY && v->def == TOML_DEF_AOT) {
			v = v->arr.items[v->arr.n - 1];
			depth++;
		} else if (v->type != TOML_TABLE || v->def == TOML_DEF_INLINE) {
			return toml_parse_header_conflict(ps, en, i, aot);
		}
		t = v;
		if (++depth >= LIMIT_TOML_DEPTH)
			return toml_parse_too_deep(ps, k->seg[i].pos);
	}
	*ret_t = t;
	*ret_depth = depth;
	return 0;
}

static int
toml_parse_redefined(struct toml_parser *ps, const struct toml_entry *en,
    struct toml_pos hdr_pos, bool aot)
{
	const struct toml_key *k = &ps->key;
	const struct toml_value *v = en->value;
	struct toml_pos where = toml_parse_defined_at(en);
	char hdr[TOML_QUOTE_BYTES * 2];
	const char *how = "";

	if (v->type != TOML_TABLE || aot)
		return toml_parse_header_conflict(ps, en, k->n - 1, aot);
	if (v->def == TOML_DEF_DOTTED)
		how = " by dotted keys";
	else if (v->def == TOML_DEF_INLINE)
		how = " as an inline table";
	return toml_error_set(ps->lx.err, hdr_pos,
	    "table [%s] is already defined%s at %u:%u",
	    toml_key_path(k, k->n, hdr, sizeof(hdr)), how, where.line,
	    where.column);
}

static int
toml_parse_define_table(struct toml_parser *ps, struct toml_pos hdr)
{
	const struct toml_key *k = &ps->key;
	size_t last = k->n - 1, depth;
	struct toml_entry *en;
	struct toml_value *t;
	int r;

	r = toml_parse_header_parents(ps, hdr, false, &t, &depth);
	if (r < 0)
		return r;
	en = toml_table_lookup(t, toml_key_seg_str(k, last), k->seg[last].len);
	if (!en) {
		r = toml_parse_add_table(ps, t, last, TOML_DEF_HEADER, hdr,
		    &ps->section);
		if (r < 0)
			return r;
	} else if (en->value->type == TOML_TABLE &&
	    en->value->def == TOML_DEF_IMPLICIT) {
		en->value->def = TOML_DEF_HEADER;
		en->value->pos = hdr;
		ps->section = en->value;
	} else {
		return toml_parse_redefined(ps, en, hdr, false);
	}
	ps->section_depth = depth + 1;
	return 0;
}

static int
toml_parse_define_aot(struct toml_parser *ps, struct toml_pos hdr)
{
	const struct toml_key *k = &ps->key;
	size_t last = k->n - 1, depth;
	struct toml_value *t, *arr, *elem;
	struct toml_entry *en;
	char *key;
	int r;

	r = toml_parse_header_parents(ps, hdr, true, &t, &depth);
	if (r < 0)
		return r;
	if (depth + 2 > LIMIT_TOML_DEPTH)
		return toml_parse_too_deep(ps, k->seg[last].pos);
	en = toml_table_lookup(t, toml_key_seg_str(k, last), k->seg[last].len);
	if (en &&
	    (en->value->type != TOML_ARRAY || en->value->def != TOML_DEF_AOT))
		return toml_parse_redefined(ps, en, hdr, true);
	elem = toml_parse_new(ps, TOML_TABLE, TOML_DEF_HEADER, hdr);
	if (!elem)
		return -ENOMEM;
	if (en) {
		arr = en->value;
	} else {
		arr = toml_parse_new(ps, TOML_ARRAY, TOML_DEF_AOT, hdr);
		key = toml_parse_seg_dup(k, last);
		if (!arr || !key) {
			free(key);
			toml_value_free(arr);
			toml_value_free(elem);
			return -ENOMEM;
		}
		r = toml_table_append_take(t, key, k->seg[last].len,
		    k->seg[last].pos, arr);
		if (r < 0) {
			toml_value_free(elem);
			return r;
		}
	}
	r = toml_array_append(arr, elem);
	if (r < 0)
		return r;
	ps->section = elem;
	ps->section_depth = depth + 2;
	return 0;
}

static int
toml_parse_header(struct toml_parser *ps)
{
	struct toml_lexer *lx = &ps->lx;
	struct toml_pos hdr = toml_lex_pos(lx, lx->p);
	bool aot = toml_lex_peek_at(lx, 1) == '[';
	int r;

	lx->p += aot ? 2 : 1;
	toml_lex_skip_ws(lx);
	r = toml_key_read(lx, &ps->key);
	if (r < 0)
		return r;
	toml_lex_skip_ws(lx);
	if (toml_lex_peek(lx) != ']' || (aot && toml_lex_peek_at(lx, 1) != ']'))
		return toml_lex_fail_expected(lx,
		    lx->p + (aot && toml_lex_peek(lx) == ']'),
		    aot ? "']]' to close the array of tables header" :
			  "']' to close the table header");
	lx->p += aot ? 2 : 1;
	if (aot)
		return toml_parse_define_aot(ps, hdr);
	return toml_parse_define_table(ps, hdr);
}

/*
 * Key/value pairs and values.
 */

static int toml_parse_value(struct toml_parser *ps, size_t depth,
    struct toml_value **ret);

/* The existing value at segment i blocks a dotted key going through it. */
static int
toml_parse_dotted_conflict(struct toml_parser *ps, const struct toml_entry *en,
    size_t i)
{
	const struct toml_key *k = &ps->key;
	struct toml_pos where = toml_parse_defined_at(en);
	char key[TOML_QUOTE_BYTES * 2];
	const char *v = toml_key_path(k, i + 1, key, sizeof(key));

	if (en->value->type == TOML_TABLE && en->value->def == TOML_DEF_HEADER)
		return toml_error_set(ps->lx.err, k->seg[i].pos,
		    "cannot add to table %s with dotted keys: it is defined "
		    "by a [table] header at %u:%u",
		    v, where.line, where.column);
	return toml_error_set(ps->lx.err, k->seg[i].pos,
	    "cannot add keys to %s: it is already %s (defined at %u:%u)", v,
	    toml_parse_kind(en->value), where.line, where.column);
}

/* Walk (creating) the tables of a dotted key below t; *t and *depth move
 * to the table that receives the last segment. */
static int
toml_parse_dotted_parents(struct toml_parser *ps, struct toml_value **t,
    size_t *depth)
{
	const struct toml_key *k = &ps->key;

	for (size_t i = 0; i + 1 < k->n; i++) {
		struct toml_entry *en = toml_table_lookup(*t,
		    toml_key_seg_str(k, i), k->seg[i].len);
		struct toml_value *v;
		int r;

		if (++*depth > LIMIT_TOML_DEPTH)
			return toml_parse_too_deep(ps, k->seg[i].pos);
		if (!en) {
			r = toml_parse_add_table(ps, *t, i, TOML_DEF_DOTTED,
			    k->seg[i].pos, &v);
			if (r < 0)
				return r;
		} else if (en->value->type == TOML_TABLE &&
		    en->value->def == TOML_DEF_DOTTED) {
			v = en->value;
		} else if (en->value->type == TOML_TABLE &&
		    en->value->def == TOML_DEF_IMPLICIT) {
			/* Defined here, so it is placed here. */
			v = en->value;
			v->def = TOML_DEF_DOTTED;
			v->pos = k->seg[i].pos;
		} else {
			return toml_parse_dotted_conflict(ps, en, i);
		}
		*t = v;
	}
	return 0;
}

/* key = value, adding to table t at depth. */
static int
toml_parse_keyval(struct toml_parser *ps, struct toml_value *t, size_t depth)
{
	struct toml_lexer *lx = &ps->lx;
	const struct toml_key *k = &ps->key;
	char q[TOML_QUOTE_BYTES * 2], what[TOML_QUOTE_BYTES * 2 + 32];
	struct toml_entry *en;
	struct toml_value *v;
	struct toml_pos pos;
	size_t last, len;
	char *key;
	int r;

	r = toml_key_read(lx, &ps->key);
	if (r == 0)
		r = toml_parse_dotted_parents(ps, &t, &depth);
	if (r < 0)
		return r;
	last = k->n - 1;
	pos = k->seg[last].pos;
	len = k->seg[last].len;
	en = toml_table_lookup(t, toml_key_seg_str(k, last), len);
	if (en) {
		struct toml_pos first = en->pos;

		return toml_error_set(lx->err, pos,
		    "duplicate key %s (first defined at %u:%u)",
		    toml_key_quote(k, k->n, q, sizeof(q)), first.line,
		    first.column);
	}
	toml_lex_skip_ws(lx);
	if (toml_lex_peek(lx) != '=') {
		(void)snprintf(what, sizeof(what), "'=' after key %s",
		    toml_key_quote(k, k->n, q, sizeof(q)));
		return toml_lex_fail_expected(lx, lx->p, what);
	}
	lx->p++;
	toml_lex_skip_ws(lx);
	key = toml_parse_seg_dup(k, last);
	if (!key)
		return -ENOMEM;
	r = toml_parse_value(ps, depth + 1, &v);
	if (r < 0) {
		free(key);
		return r;
	}
	return toml_table_append_take(t, key, len, pos, v);
}

static int
toml_parse_array(struct toml_parser *ps, size_t depth, struct toml_value *arr)
{
	struct toml_lexer *lx = &ps->lx;

	lx->p++;
	for (;;) {
		struct toml_value *v;
		int r = toml_lex_skip_ws_comment_newline(lx);

		if (r < 0)
			return r;
		if (toml_lex_peek(lx) == ']')
			break;
		r = toml_parse_value(ps, depth + 1, &v);
		if (r == 0)
			r = toml_array_append(arr, v);
		if (r == 0)
			r = toml_lex_skip_ws_comment_newline(lx);
		if (r < 0)
			return r;
		if (toml_lex_peek(lx) == ']')
			break;
		if (toml_lex_peek(lx) != ',')
			return toml_lex_fail_expected(lx, lx->p,
			    "',' or ']' after an array element");
		lx->p++;
	}
	lx->p++;
	return 0;
}

/* Between the parts of an inline table: TOML 1.1 allows newlines and
 * comments there, 1.0 only spaces and tabs. */
static int
toml_parse_inline_gap(struct toml_parser *ps)
{
	struct toml_lexer *lx = &ps->lx;

	if (lx->version == TOML_VERSION_1_1)
		return toml_lex_skip_ws_comment_newline(lx);
	toml_lex_skip_ws(lx);
	if (toml_lex_at_newline(lx) || toml_lex_peek(lx) == '#')
		return toml_lex_fail(lx, lx->p,
		    "newlines and comments inside an inline table need "
		    "TOML 1.1 (this document is read as 1.0)");
	return 0;
}

/* The comma after a key/value pair in an inline table, and the gap after
 * it; TOML 1.0 allows no closing brace right after the comma. */
static int
toml_parse_inline_comma(struct toml_parser *ps)
{
	struct toml_lexer *lx = &ps->lx;
	int r;

	if (toml_lex_peek(lx) != ',')
		return toml_lex_fail_expected(lx, lx->p,
		    "',' or '}' after a key/value pair in an inline table");
	lx->p++;
	r = toml_parse_inline_gap(ps);
	if (r == 0 && lx->version == TOML_VERSION_1_0 &&
	    toml_lex_peek(lx) == '}')
		return toml_lex_fail(lx, lx->p,
		    "a trailing comma in an inline table needs TOML 1.1 "
		    "(this document is read as 1.0)");
	return r;
}

static int
toml_parse_inline_table(struct toml_parser *ps, size_t depth,
    struct toml_value *t)
{
	struct toml_lexer *lx = &ps->lx;
	int r;

	lx->p++;
	r = toml_parse_inline_gap(ps);
	while (r == 0 && toml_lex_peek(lx) != '}') {
		r = toml_parse_keyval(ps, t, depth);
		if (r == 0)
			r = toml_parse_inline_gap(ps);
		if (r == 0 && toml_lex_peek(lx) != '}')
			r = toml_parse_inline_comma(ps);
	}
	if (r == 0)
		lx->p++;
	return r;
}

static int
toml_parse_string(struct toml_parser *ps, struct toml_value **ret)
{
	char *s;
	int r;

	buf_clear(&ps->str);
	r = toml_lex_string(&ps->lx, &ps->str, true);
	if (r < 0)
		return r;
	s = malloc(ps->str.len + 1);
	if (!s)
		return -ENOMEM;
	memcpy(s, buf_str(&ps->str), ps->str.len + 1);
	*ret = toml_value_new_string_take(s, ps->str.len);
	return *ret ? 0 : -ENOMEM;
}

static int
toml_parse_value(struct toml_parser *ps, size_t depth, struct toml_value **ret)
{
	struct toml_lexer *lx = &ps->lx;
	struct toml_pos pos = toml_lex_pos(lx, lx->p);
	int c = toml_lex_peek(lx), r;

	if (depth > LIMIT_TOML_DEPTH)
		return toml_parse_too_deep(ps, pos);
	if (c == '[' || c == '{') {
		bool arr = c == '[';

		*ret = toml_parse_new(ps, arr ? TOML_ARRAY : TOML_TABLE,
		    arr ? TOML_DEF_STATIC : TOML_DEF_INLINE, pos);
		if (!*ret)
			return -ENOMEM;
		r = arr ? toml_parse_array(ps, depth, *ret) :
			  toml_parse_inline_table(ps, depth, *ret);
		if (r < 0)
			*ret = toml_value_free(*ret);
		return r;
	}
	if (c == '"' || c == '\'')
		r = toml_parse_string(ps, ret);
	else
		r = toml_scalar_parse(lx, ret);
	if (r < 0)
		return r;
	(*ret)->pos = pos;
	(*ret)->source = ps->source;
	return 0;
}

/*
 * The document.
 */

static int
toml_parse_document(struct toml_parser *ps)
{
	struct toml_lexer *lx = &ps->lx;

	/* A byte order mark is allowed at the very start; columns start
	 * after it. */
	if (lx->end - lx->p >= 3 && memcmp(lx->p, "\xef\xbb\xbf", 3) == 0) {
		lx->p += 3;
		lx->line_start = lx->p;
	}
	for (;;) {
		const char *after = "a comment";
		int r = 0;

		toml_lex_skip_ws(lx);
		if (toml_lex_at_eof(lx))
			return 0;
		if (toml_lex_peek(lx) == '[') {
			r = toml_parse_header(ps);
			after = "a table header";
		} else if (toml_lex_peek(lx) != '#' &&
		    !toml_lex_at_newline(lx)) {
			r = toml_parse_keyval(ps, ps->section,
			    ps->section_depth);
			after = "a value";
		}
		if (r == 0)
			r = toml_lex_end_of_line(lx, after);
		if (r < 0)
			return r;
	}
}

int
toml_parse(const char *text, size_t len, const struct toml_options *opts,
    struct toml_value **ret_root, struct toml_error *reterr)
{
	struct toml_options o = opts ? *opts : (struct toml_options){ 0 };
	size_t max = o.max_bytes ? o.max_bytes : LIMIT_TOML_INPUT_BYTES;
	struct toml_parser ps = { .source = o.source };
	struct toml_error dummy;
	int r;

	if (!reterr)
		reterr = &dummy;
	*reterr = (struct toml_error){ 0 };
	if (len > max) {
		(void)toml_error_set(reterr, (struct toml_pos){ 0 },
		    "the input is %zu bytes, more than the limit of %zu", len,
		    max);
		return -E2BIG;
	}
	if ((unsigned)o.version >= _TOML_VERSION_MAX)
		return toml_error_set(reterr, (struct toml_pos){ 0 },
		    "unknown TOML version %d", (int)o.version);
	toml_lex_init(&ps.lx, text, len, o.version, reterr);
	toml_key_init(&ps.key);
	buf_init(&ps.str, 0);
	ps.root = toml_parse_new(&ps, TOML_TABLE, TOML_DEF_HEADER,
	    (struct toml_pos){ .line = 1, .column = 1 });
	ps.section = ps.root;
	r = ps.root ? toml_parse_document(&ps) : -ENOMEM;
	toml_key_done(&ps.key);
	buf_done(&ps.str);
	if (r < 0) {
		if (r != -EINVAL)
			(void)toml_error_set(reterr, (struct toml_pos){ 0 },
			    "out of memory");
		toml_value_free(ps.root);
		return r == -EINVAL ? r : -ENOMEM;
	}
	*ret_root = ps.root;
	return 0;
}
