/* SPDX-License-Identifier: MIT */
/*
 * Dotted keys: bare, basic-quoted and literal-quoted segments joined by
 * dots, with optional whitespace around each dot (TOML 1.1 §Keys). The
 * same reader serves documents and toml_key_parse() (the -c KEY=VALUE
 * overrides), so both accept exactly the same keys.
 *
 * A key has at most LIMIT_TOML_DEPTH segments: each segment is one level
 * of nesting, and the tree as a whole may not be deeper than that.
 */
#include "toml/toml_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
toml_key_init(struct toml_key *k)
{
	buf_init(&k->bytes, 0);
	k->n = 0;
}

void
toml_key_done(struct toml_key *k)
{
	buf_done(&k->bytes);
	k->n = 0;
}

static int
toml_key_segment(struct toml_lexer *lx, struct toml_key *k, const char *what)
{
	const char *b = lx->p;
	size_t off = k->bytes.len;
	struct toml_pos pos;
	int c = toml_lex_peek(lx), r;

	if (c == '"' || c == '\'') {
		pos = toml_lex_pos(lx, b);
		r = toml_lex_string(lx, &k->bytes, false);
	} else if (toml_lex_is_bare_key_char(c)) {
		pos = toml_lex_pos(lx, b);
		while (toml_lex_is_bare_key_char(toml_lex_peek(lx)))
			lx->p++;
		r = buf_append(&k->bytes, b, (size_t)(lx->p - b));
	} else {
		return toml_lex_fail_expected(lx, b, what);
	}
	if (r < 0)
		return r;
	if (k->n == LIMIT_TOML_DEPTH)
		return toml_lex_fail(lx, b, "a key may have at most %d parts",
		    LIMIT_TOML_DEPTH);
	k->seg[k->n++] = (struct toml_key_seg){
		.off = off,
		.len = k->bytes.len - off,
		.pos = pos,
	};
	/* Segments are stored NUL-terminated, back to back. */
	return buf_append_char(&k->bytes, '\0');
}

int
toml_key_read(struct toml_lexer *lx, struct toml_key *k)
{
	const char *what = "a key";

	buf_clear(&k->bytes);
	k->n = 0;
	for (;;) {
		const char *after;
		int r = toml_key_segment(lx, k, what);

		if (r < 0)
			return r;
		after = lx->p;
		toml_lex_skip_ws(lx);
		if (toml_lex_peek(lx) != '.') {
			lx->p = after;
			return 0;
		}
		lx->p++;
		toml_lex_skip_ws(lx);
		what = "a key after '.'";
	}
}

const char *
toml_key_path(const struct toml_key *k, size_t n, char *out, size_t size)
{
	const char *keys[LIMIT_TOML_DEPTH];
	size_t lens[LIMIT_TOML_DEPTH];

	for (size_t i = 0; i < n; i++) {
		keys[i] = toml_key_seg_str(k, i);
		lens[i] = k->seg[i].len;
	}
	return toml_error_quote_path(out, size, keys, lens, n);
}

const char *
toml_key_quote(const struct toml_key *k, size_t n, char *out, size_t size)
{
	if (n == 1)
		return toml_error_quote(out, size, toml_key_seg_str(k, 0),
		    k->seg[0].len);
	return toml_key_path(k, n, out, size);
}

void
toml_key_free(char **keys, size_t *lens, size_t n)
{
	if (keys)
		for (size_t i = 0; i < n; i++)
			free(keys[i]);
	free(keys);
	free(lens);
}

/* Copy the segments of k out into the caller's arrays. */
static int
toml_key_export(const struct toml_key *k, char ***ret_keys, size_t **ret_lens)
{
	char **keys = calloc(k->n, sizeof(*keys));
	size_t *lens = calloc(k->n, sizeof(*lens));

	if (!keys || !lens) {
		toml_key_free(keys, lens, 0);
		return -ENOMEM;
	}
	for (size_t i = 0; i < k->n; i++) {
		keys[i] = malloc(k->seg[i].len + 1);
		if (!keys[i]) {
			toml_key_free(keys, lens, i);
			return -ENOMEM;
		}
		memcpy(keys[i], toml_key_seg_str(k, i), k->seg[i].len + 1);
		lens[i] = k->seg[i].len;
	}
	*ret_keys = keys;
	*ret_lens = lens;
	return 0;
}

int
toml_key_parse(const char *text, size_t len, enum toml_version version,
    char ***ret_keys, size_t **ret_lens, size_t *ret_n,
    struct toml_error *reterr)
{
	struct toml_error dummy;
	struct toml_lexer lx;
	struct toml_key k;
	int r;

	if (!reterr)
		reterr = &dummy;
	*reterr = (struct toml_error){ 0 };
	toml_lex_init(&lx, text, len, version, reterr);
	toml_key_init(&k);
	toml_lex_skip_ws(&lx);
	r = toml_key_read(&lx, &k);
	if (r == 0) {
		toml_lex_skip_ws(&lx);
		if (!toml_lex_at_eof(&lx))
			r = toml_lex_fail_expected(&lx, lx.p,
			    "'.' or the end of the key");
	}
	if (r == 0)
		r = toml_key_export(&k, ret_keys, ret_lens);
	if (r == 0)
		*ret_n = k.n;
	else if (r == -ENOMEM)
		(void)toml_error_set(reterr, (struct toml_pos){ 0 },
		    "out of memory");
	toml_key_done(&k);
	return r;
}
