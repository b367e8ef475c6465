/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the files of src/toml; nothing outside src/toml
 * includes this header.
 *
 *   toml_error.c   error messages: positions, safe quoting of input
 *   toml_lex.c     the cursor: positions, whitespace, comments, strings
 *   toml_scalar.c  numbers, booleans, dates and times
 *   toml_key.c     dotted keys (documents and toml_key_parse())
 *   toml_parse.c   the document grammar and the table definition rules
 *   toml_value.c   values, arrays, constructors, accessors, clone, free
 *   toml_table.c   tables: insertion order plus a keyed hash index
 *   toml_format.c  writing keys and values back as TOML
 *
 * Invariants: the lexer never reads past its end pointer; every byte it
 * accepts into a string or comment has been checked as UTF-8 and against
 * the control-character rules; a function that returns -EINVAL has set
 * the error (position and message), one that returns -ENOMEM has not.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "toml/toml.h"
#include "util/buf.h"
#include "util/compiler.h"
#include "util/limits.h"

/*
 * How a table or array came to be. The parser needs this to apply TOML's
 * redefinition rules; after parsing it carries no meaning.
 */
enum toml_def {
	TOML_DEF_API,      /* built through the edit API */
	TOML_DEF_IMPLICIT, /* table created as a parent by a [header] */
	TOML_DEF_HEADER,   /* table defined by [header] or [[header]] */
	TOML_DEF_DOTTED,   /* table defined by dotted keys */
	TOML_DEF_INLINE,   /* inline table: sealed */
	TOML_DEF_STATIC,   /* array value: sealed */
	TOML_DEF_AOT,      /* array of tables: grows by [[header]] */
	_TOML_DEF_MAX,
};

struct toml_entry {
	char *key; /* owned, NUL-terminated, may hold NULs */
	size_t len;
	uint64_t hash;
	struct toml_pos pos;
	struct toml_value *value; /* owned */
};

struct toml_table {
	struct toml_entry *entries; /* insertion order */
	size_t n, cap;
	size_t *slots; /* open addressing: entry index + 1, 0 = free */
	size_t nslots; /* 0 (linear search) or a power of two */
};

struct toml_array {
	struct toml_value **items;
	size_t n, cap;
};

struct toml_value {
	enum toml_type type;
	enum toml_def def;
	struct toml_pos pos;
	const char *source; /* borrowed */

	union {
		struct {
			char *s; /* owned, NUL-terminated, may hold NULs */
			size_t len;
		} str;

		int64_t integer;
		double flt;
		bool boolean;
		struct toml_datetime dt;
		struct toml_array arr;
		struct toml_table tab;
	};
};

/* toml_error.c */

/* Room for one quoted fragment of untrusted text inside a message. */
#define TOML_QUOTE_BYTES 96

/* Fill *err with pos and a formatted message; returns -EINVAL. The message
 * is cut at a UTF-8 character boundary if it does not fit. */
int toml_error_set(struct toml_error *err, struct toml_pos pos, const char *fmt,
    ...) _printf_(3, 4);

int toml_error_vset(struct toml_error *err, struct toml_pos pos,
    const char *fmt, va_list ap) _printf_(3, 0);

/* Quote s[0..len) as a TOML basic string ("a\tb"), escaping controls,
 * quotes, backslashes and invisible format characters; invalid UTF-8
 * shows as \xNN. Long input is cut and ends in "...". Returns out. */
const char *toml_error_quote(char *out, size_t size, const char *s, size_t len);

/* Describe the character at p for "found ..." (p == end: end of file). */
const char *toml_error_describe(char *out, size_t size, const char *p,
    const char *end);

/* Quote a dotted key path of n segments the way TOML writes it: a."b c".d */
const char *toml_error_quote_path(char *out, size_t size,
    const char *const *keys, const size_t *lens, size_t n);

/* toml_lex.c */

struct toml_lexer {
	const char *p; /* next byte */
	const char *end;
	const char *line_start;
	uint32_t line;
	const char *col_p; /* memo: col_p is at column col_n of line */
	uint32_t col_n;
	enum toml_version version;
	struct toml_error *err;
};

void toml_lex_init(struct toml_lexer *lx, const char *text, size_t len,
    enum toml_version version, struct toml_error *err);

/* The position of p, which must lie on the current line. Amortised O(1)
 * when positions are asked for in increasing order. */
struct toml_pos toml_lex_pos(struct toml_lexer *lx, const char *p);

/* Set the error at p (on the current line); returns -EINVAL. */
int toml_lex_fail(struct toml_lexer *lx, const char *p, const char *fmt, ...)
    _printf_(3, 4);

/* Set the error "expected <what>, found <char at p>"; returns -EINVAL. */
int toml_lex_fail_expected(struct toml_lexer *lx, const char *p,
    const char *what);

static inline int
toml_lex_peek(const struct toml_lexer *lx)
{
	return lx->p < lx->end ? (unsigned char)*lx->p : -1;
}

static inline int
toml_lex_peek_at(const struct toml_lexer *lx, size_t k)
{
	return (size_t)(lx->end - lx->p) > k ? (unsigned char)lx->p[k] : -1;
}

static inline bool
toml_lex_at_eof(const struct toml_lexer *lx)
{
	return lx->p >= lx->end;
}

/* True at LF or CR LF. */
bool toml_lex_at_newline(const struct toml_lexer *lx);

/* Skip spaces and tabs. */
void toml_lex_skip_ws(struct toml_lexer *lx);

/* Consume one LF or CR LF (the caller checked toml_lex_at_newline()). */
void toml_lex_newline(struct toml_lexer *lx);

/* At '#': consume the comment up to (not including) the newline, checking
 * UTF-8 and control characters. Elsewhere: do nothing. */
int toml_lex_skip_comment(struct toml_lexer *lx);

/* Skip any run of whitespace, comments and newlines. */
int toml_lex_skip_ws_comment_newline(struct toml_lexer *lx);

/* Whitespace, an optional comment, then a newline or the end of input;
 * after names what came before for the error message. */
int toml_lex_end_of_line(struct toml_lexer *lx, const char *after);

static inline bool
toml_lex_is_bare_key_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/*
 * Read a string at a quote and append its value to out. Multi-line forms
 * are refused when !multiline_ok (keys). Returns 0, -EINVAL or -ENOMEM.
 */
int toml_lex_string(struct toml_lexer *lx, struct buf *out, bool multiline_ok);

/* toml_scalar.c */

/*
 * Read a boolean, number, date or time at lx->p into a new value (without
 * position or source). It ends at the first character that cannot belong
 * to one; what may follow is for the caller to check. Returns 0, -EINVAL
 * or -ENOMEM.
 */
int toml_scalar_parse(struct toml_lexer *lx, struct toml_value **ret);

/* Parse an ASCII float literal the way strtod() would, independent of the
 * locale, in time linear in len. The literal must be plain: optional sign,
 * digits, optional '.' and digits, optional exponent; no underscores. */
double toml_scalar_strtod(const char *s, size_t len);

/* toml_key.c */

struct toml_key_seg {
	size_t off; /* into toml_key.bytes */
	size_t len;
	struct toml_pos pos;
};

/* A dotted key being read: up to LIMIT_TOML_DEPTH segments. */
struct toml_key {
	struct buf bytes; /* the segments, each NUL-terminated */
	struct toml_key_seg seg[LIMIT_TOML_DEPTH];
	size_t n;
};

void toml_key_init(struct toml_key *k);
void toml_key_done(struct toml_key *k);

/* Read a dotted key at lx->p (whitespace around dots allowed, none
 * skipped before or after). Returns 0, -EINVAL or -ENOMEM. */
int toml_key_read(struct toml_lexer *lx, struct toml_key *k);

static inline const char *
toml_key_seg_str(const struct toml_key *k, size_t i)
{
	return k->bytes.data + k->seg[i].off;
}

/* Segments [0, n) of k as TOML writes a dotted key: a."b c".d */
const char *toml_key_path(const struct toml_key *k, size_t n, char *out,
    size_t size);

/* Like toml_key_path(), but a single segment is always quoted: "a". */
const char *toml_key_quote(const struct toml_key *k, size_t n, char *out,
    size_t size);

/* toml_value.c */

/* A new value of type t with def, pos and source set; NULL on ENOMEM. */
struct toml_value *toml_value_new(enum toml_type t, enum toml_def def,
    struct toml_pos pos, const char *source);

/* A new string value owning s (freed on failure too). */
struct toml_value *toml_value_new_string_take(char *s, size_t len);

/* toml_table.c */

/* The entry for key, or NULL; valid until the table changes. */
struct toml_entry *toml_table_lookup(const struct toml_value *t,
    const char *key, size_t len);

/* Append a key known to be absent. Takes ownership of key (a NUL-terminated
 * heap copy) and of v, also on failure. Returns 0 or -ENOMEM. */
int toml_table_append_take(struct toml_value *t, char *key, size_t len,
    struct toml_pos pos, struct toml_value *v);

/* Release entries and index of t (values included). */
void toml_table_done(struct toml_value *t);

/* Deep-copy src's entries into the empty table dst. Returns 0 or -ENOMEM. */
int toml_table_copy(struct toml_value *dst, const struct toml_value *src);
