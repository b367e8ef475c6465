/* SPDX-License-Identifier: MIT */
/*
 * The lexer: a cursor over the input that knows its line, computes columns
 * (in code points) on demand, and reads the context-free pieces of TOML:
 * whitespace, comments, newlines and the four kinds of string.
 *
 * Columns are counted lazily from a memo that only moves forward along the
 * current line, so asking for positions in input order costs O(1)
 * amortised and a whole parse stays linear however long the lines are.
 *
 * The control-character rules are those of the TOML 1.0 and 1.1 ABNF: tab
 * is the only control character allowed raw in strings and comments;
 * newlines are LF or CR LF, and a CR on its own is an error everywhere.
 */
#include "toml/toml_internal.h"

#include "util/utf8.h"
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

void
toml_lex_init(struct toml_lexer *lx, const char *text, size_t len,
    enum toml_version version, struct toml_error *err)
{
	if (!text)
		text = ""; /* no arithmetic on NULL, even + 0 */
	*lx = (struct toml_lexer){
		.p = text,
		.end = text + len,
		.line_start = text,
		.line = 1,
		.col_p = text,
		.col_n = 1,
		.version = version,
		.err = err,
	};
}

struct toml_pos
toml_lex_pos(struct toml_lexer *lx, const char *p)
{
	assert(p >= lx->line_start && p <= lx->end);
	if (lx->col_p < lx->line_start || lx->col_p > p) {
		lx->col_p = lx->line_start;
		lx->col_n = 1;
	}
	/* Every byte that does not continue a UTF-8 sequence starts a
	 * character (invalid bytes count as one character each). */
	for (; lx->col_p < p; lx->col_p++)
		if (((unsigned char)*lx->col_p & 0xc0) != 0x80 &&
		    lx->col_n < UINT32_MAX)
			lx->col_n++;
	return (struct toml_pos){ .line = lx->line, .column = lx->col_n };
}

int
toml_lex_fail(struct toml_lexer *lx, const char *p, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = toml_error_vset(lx->err, toml_lex_pos(lx, p), fmt, ap);
	va_end(ap);
	return r;
}

int
toml_lex_fail_expected(struct toml_lexer *lx, const char *p, const char *what)
{
	char found[TOML_QUOTE_BYTES];

	toml_error_describe(found, sizeof(found), p, lx->end);
	return toml_lex_fail(lx, p, "expected %s, found %s", what, found);
}

bool
toml_lex_at_newline(const struct toml_lexer *lx)
{
	int c = toml_lex_peek(lx);

	return c == '\n' || (c == '\r' && toml_lex_peek_at(lx, 1) == '\n');
}

void
toml_lex_skip_ws(struct toml_lexer *lx)
{
	while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t'))
		lx->p++;
}

void
toml_lex_newline(struct toml_lexer *lx)
{
	lx->p += *lx->p == '\r' ? 2 : 1;
	if (lx->line < UINT32_MAX)
		lx->line++;
	lx->line_start = lx->p;
}

/* Check the non-ASCII or control character at p inside a string or
 * comment (what); returns its length, or sets the error and returns 0. */
static size_t
toml_lex_check_char(struct toml_lexer *lx, const char *p, const char *what)
{
	unsigned char c = (unsigned char)*p;
	uint32_t cp;
	size_t n;

	if (c == '\r') {
		(void)toml_lex_fail(lx, p,
		    "a carriage return must be followed by a newline (in %s)",
		    what);
		return 0;
	}
	if (c < 0x80) {
		(void)toml_lex_fail(lx, p,
		    "control character U+%04X is not allowed in %s", c, what);
		return 0;
	}
	n = utf8_decode(p, lx->end, &cp);
	if (n == 0)
		(void)toml_lex_fail(lx, p, "invalid UTF-8 byte 0x%02x in %s", c,
		    what);
	return n;
}

static inline bool
toml_lex_is_plain_ascii(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c < 0x7f);
}

int
toml_lex_skip_comment(struct toml_lexer *lx)
{
	if (toml_lex_peek(lx) != '#')
		return 0;
	lx->p++;
	while (lx->p < lx->end && *lx->p != '\n') {
		size_t n = 1;

		if (*lx->p == '\r' && toml_lex_at_newline(lx))
			break;
		if (!toml_lex_is_plain_ascii((unsigned char)*lx->p)) {
			n = toml_lex_check_char(lx, lx->p, "a comment");
			if (n == 0)
				return -EINVAL;
		}
		lx->p += n;
	}
	return 0;
}

int
toml_lex_skip_ws_comment_newline(struct toml_lexer *lx)
{
	for (;;) {
		int r;

		toml_lex_skip_ws(lx);
		r = toml_lex_skip_comment(lx);
		if (r < 0)
			return r;
		if (!toml_lex_at_newline(lx))
			return 0;
		toml_lex_newline(lx);
	}
}

int
toml_lex_end_of_line(struct toml_lexer *lx, const char *after)
{
	char what[TOML_QUOTE_BYTES + 32];
	int r;

	toml_lex_skip_ws(lx);
	r = toml_lex_skip_comment(lx);
	if (r < 0)
		return r;
	if (toml_lex_at_eof(lx))
		return 0;
	if (toml_lex_at_newline(lx)) {
		toml_lex_newline(lx);
		return 0;
	}
	(void)snprintf(what, sizeof(what), "newline after %s", after);
	return toml_lex_fail_expected(lx, lx->p, what);
}

/*
 * Strings. The body of every kind is read in runs of characters that need
 * no special handling, appended in one go; the loops around the runs deal
 * with quotes, escapes, newlines and the end of input.
 */

/* Advance over ordinary content up to a quote, a backslash (when escapes
 * is set), a newline, a CR or the end; append it to out. */
static int
toml_lex_plain_run(struct toml_lexer *lx, struct buf *out, char quote,
    bool escapes)
{
	const char *what = escapes ? "a string" : "a literal string";
	const char *run = lx->p;

	while (lx->p < lx->end) {
		unsigned char c = (unsigned char)*lx->p;
		size_t n = 1;

		if (c == (unsigned char)quote || (escapes && c == '\\') ||
		    c == '\n' || c == '\r')
			break;
		if (!toml_lex_is_plain_ascii(c)) {
			n = toml_lex_check_char(lx, lx->p, what);
			if (n == 0)
				return -EINVAL;
		}
		lx->p += n;
	}
	return buf_append(out, run, (size_t)(lx->p - run));
}

static int
toml_lex_unterminated(struct toml_lexer *lx, struct toml_pos start,
    const char *delim)
{
	char what[64];

	(void)snprintf(what, sizeof(what),
	    "'%s' to close the string started at %u:%u", delim, start.line,
	    start.column);
	return toml_lex_fail_expected(lx, lx->p, what);
}

static bool
toml_lex_is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static uint32_t
toml_lex_hex_value(int c)
{
	if (c <= '9')
		return (uint32_t)(c - '0');
	return (uint32_t)((c | 0x20) - 'a' + 10);
}

/* \xHH, \uHHHH or \UHHHHHHHH at lx->p (the backslash): exactly ndigits
 * hex digits naming a Unicode scalar value. */
static int
toml_lex_hex_escape(struct toml_lexer *lx, struct buf *out, size_t ndigits)
{
	const char *at = lx->p;
	char letter = at[1], utf8[4];
	uint32_t cp = 0;

	for (size_t i = 0; i < ndigits; i++) {
		int c = toml_lex_peek_at(lx, 2 + i);

		if (!toml_lex_is_hex(c)) {
			char what[48];

			(void)snprintf(what, sizeof(what),
			    "%zu hex digits after '\\%c'", ndigits, letter);
			return toml_lex_fail_expected(lx, at + 2 + i, what);
		}
		cp = cp << 4 | toml_lex_hex_value(c);
	}
	if (!utf8_is_scalar(cp))
		return toml_lex_fail(lx, at,
		    "escape '\\%c%.*s' is not a Unicode scalar value", letter,
		    (int)ndigits, at + 2);
	lx->p += 2 + ndigits;
	return buf_append(out, utf8, utf8_encode(cp, utf8));
}

static int
toml_lex_bad_escape(struct toml_lexer *lx)
{
	const char *at = lx->p;
	int c = toml_lex_peek_at(lx, 1);
	char found[TOML_QUOTE_BYTES];

	if (c > 0x20 && c < 0x7f && c != '\'')
		return toml_lex_fail(lx, at, "invalid escape '\\%c' in string",
		    c);
	toml_error_describe(found, sizeof(found), at + 1, lx->end);
	return toml_lex_fail(lx, at,
	    "invalid escape in string: '\\' followed by %s", found);
}

/* One escape sequence at lx->p (the backslash), TOML 1.1 §String. */
static int
toml_lex_escape(struct toml_lexer *lx, struct buf *out)
{
	static const char simple[] = "b\bt\tn\nf\fr\r\"\"\\\\";
	int c = toml_lex_peek_at(lx, 1);
	bool v11 = lx->version == TOML_VERSION_1_1;

	for (size_t i = 0; c > 0 && simple[i]; i += 2)
		if (c == simple[i]) {
			lx->p += 2;
			return buf_append_char(out, simple[i + 1]);
		}
	switch (c) {
	case 'e':
		if (!v11)
			break;
		lx->p += 2;
		return buf_append_char(out, '\x1b');
	case 'x':
		if (!v11)
			break;
		return toml_lex_hex_escape(lx, out, 2);
	case 'u':
		return toml_lex_hex_escape(lx, out, 4);
	case 'U':
		return toml_lex_hex_escape(lx, out, 8);
	default:
		return toml_lex_bad_escape(lx);
	}
	return toml_lex_fail(lx, lx->p,
	    "escape '\\%c' needs TOML 1.1 (this document is read as 1.0)", c);
}

static int
toml_lex_basic(struct toml_lexer *lx, struct buf *out, struct toml_pos start)
{
	for (;;) {
		int r = toml_lex_plain_run(lx, out, '"', true);

		if (r < 0)
			return r;
		if (toml_lex_peek(lx) == '"') {
			lx->p++;
			return 0;
		}
		if (toml_lex_peek(lx) != '\\')
			return toml_lex_unterminated(lx, start, "\"");
		r = toml_lex_escape(lx, out);
		if (r < 0)
			return r;
	}
}

static int
toml_lex_literal(struct toml_lexer *lx, struct buf *out, struct toml_pos start)
{
	int r = toml_lex_plain_run(lx, out, '\'', false);

	if (r < 0)
		return r;
	if (toml_lex_peek(lx) != '\'')
		return toml_lex_unterminated(lx, start, "'");
	lx->p++;
	return 0;
}

/*
 * At a run of quotes inside a multi-line string: fewer than three are
 * content; three to five close the string, the extra one or two being
 * content. Returns 1 when closed, 0 to go on, or a negative errno.
 */
static int
toml_lex_ml_quotes(struct toml_lexer *lx, struct buf *out, char quote)
{
	size_t k = 0;
	int r;

	while (toml_lex_peek_at(lx, k) == (unsigned char)quote)
		k++;
	if (k > 5)
		return toml_lex_fail(lx, lx->p + 5,
		    "unexpected %c after the closing %c%c%c of a multi-line "
		    "string",
		    quote, quote, quote, quote);
	r = buf_append(out, lx->p, k < 3 ? k : k - 3);
	if (r < 0)
		return r;
	lx->p += k;
	return k >= 3;
}

/* At a backslash in a multi-line basic string: true when only whitespace
 * follows it up to the end of the line (a line-ending backslash). */
static bool
toml_lex_at_line_ending_backslash(const struct toml_lexer *lx)
{
	size_t k = 1;
	int c;

	for (;;) {
		c = toml_lex_peek_at(lx, k);
		if (c != ' ' && c != '\t')
			break;
		k++;
	}
	return c == '\n' || (c == '\r' && toml_lex_peek_at(lx, k + 1) == '\n');
}

/* Skip a line-ending backslash and all whitespace and newlines after it. */
static void
toml_lex_skip_line_ending_backslash(struct toml_lexer *lx)
{
	lx->p++;
	for (;;) {
		toml_lex_skip_ws(lx);
		if (!toml_lex_at_newline(lx))
			return;
		toml_lex_newline(lx);
	}
}

/* The body of a multi-line string after the opening delimiter. Newlines
 * are kept as LF whatever the file uses. */
static int
toml_lex_multiline(struct toml_lexer *lx, struct buf *out, char quote,
    struct toml_pos start)
{
	bool escapes = quote == '"';
	const char *delim = escapes ? "\"\"\"" : "'''";

	for (;;) {
		int r = toml_lex_plain_run(lx, out, quote, escapes);

		if (r < 0)
			return r;
		if (toml_lex_peek(lx) == quote) {
			r = toml_lex_ml_quotes(lx, out, quote);
			if (r != 0)
				return r < 0 ? r : 0;
		} else if (toml_lex_at_newline(lx)) {
			toml_lex_newline(lx);
			r = buf_append_char(out, '\n');
		} else if (toml_lex_peek(lx) == '\\') {
			if (toml_lex_at_line_ending_backslash(lx))
				toml_lex_skip_line_ending_backslash(lx);
			else
				r = toml_lex_escape(lx, out);
		} else if (toml_lex_peek(lx) == '\r') {
			return toml_lex_fail(lx, lx->p,
			    "a carriage return must be followed by a newline "
			    "(in a string)");
		} else {
			return toml_lex_unterminated(lx, start, delim);
		}
		if (r < 0)
			return r;
	}
}

int
toml_lex_string(struct toml_lexer *lx, struct buf *out, bool multiline_ok)
{
	char quote = *lx->p;
	struct toml_pos start = toml_lex_pos(lx, lx->p);
	bool multi = toml_lex_peek_at(lx, 1) == (unsigned char)quote &&
	    toml_lex_peek_at(lx, 2) == (unsigned char)quote;

	assert(quote == '"' || quote == '\'');
	if (!multi) {
		lx->p++;
		return quote == '"' ? toml_lex_basic(lx, out, start) :
				      toml_lex_literal(lx, out, start);
	}
	if (!multiline_ok)
		return toml_lex_fail(lx, lx->p,
		    "a key cannot be a multi-line string");
	lx->p += 3;
	/* A newline right after the opening delimiter is trimmed. */
	if (toml_lex_at_newline(lx))
		toml_lex_newline(lx);
	return toml_lex_multiline(lx, out, quote, start);
}
