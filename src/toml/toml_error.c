/* SPDX-License-Identifier: MIT */
/*
 * Error messages. Input text reaches a message only through the quoting
 * helpers here, which escape everything a terminal could act on (C0 and
 * C1 controls, DEL, invisible format and bidi characters) and cap the
 * length, so a message is always short, printable, valid UTF-8.
 */
#include "toml/toml_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/strutil.h"
#include "util/utf8.h"

/* Characters that are valid but would hide or reorder text on a screen. */
static bool
toml_error_is_invisible(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0xad ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff;
}

/* Cut the string s[0..len) so that it does not end in the middle of a
 * UTF-8 sequence (snprintf() may have cut it anywhere). */
static void
toml_error_trim_utf8(char *s, size_t len)
{
	size_t i = len, need;
	unsigned char lead;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return;
	lead = (unsigned char)s[i - 1];
	if (lead < 0x80)
		return;
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
	if (len - (i - 1) < need)
		s[i - 1] = '\0';
}

int
toml_error_vset(struct toml_error *err, struct toml_pos pos, const char *fmt,
    va_list ap)
{
	int n;

	err->line = pos.line;
	err->column = pos.column;
	n = vsnprintf(err->message, sizeof(err->message), fmt, ap);
	if (n < 0)
		err->message[0] = '\0';
	else if ((size_t)n >= sizeof(err->message))
		toml_error_trim_utf8(err->message, sizeof(err->message) - 1);
	return -EINVAL;
}

int
toml_error_set(struct toml_error *err, struct toml_pos pos, const char *fmt,
    ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = toml_error_vset(err, pos, fmt, ap);
	va_end(ap);
	return r;
}

/* Write the escaped form of one character into piece; returns its length. */
static size_t
toml_error_escape_char(char piece[16], const char *p, const char *end,
    size_t *ret_used)
{
	static const char short_esc[] = "b\bt\tn\nf\fr\r\"\"\\\\";
	unsigned char c = (unsigned char)*p;
	uint32_t cp;
	size_t n;
	int r;

	*ret_used = 1;
	for (size_t i = 0; short_esc[i]; i += 2)
		if (c == (unsigned char)short_esc[i + 1]) {
			piece[0] = '\\';
			piece[1] = short_esc[i];
			return 2;
		}
	if (c >= 0x20 && c < 0x7f) {
		piece[0] = (char)c;
		return 1;
	}
	n = utf8_decode(p, end, &cp);
	if (n == 0) {
		r = snprintf(piece, 16, "\\x%02x", c);
		return (size_t)r;
	}
	*ret_used = n;
	if (cp < 0x20 || cp == 0x7f || toml_error_is_invisible(cp)) {
		r = snprintf(piece, 16, "\\u%04x", (unsigned)cp);
		return (size_t)r;
	}
	memcpy(piece, p, n);
	return n;
}

const char *
toml_error_quote(char *out, size_t size, const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	size_t o = 0;

	if (size < 8) {
		if (size)
			out[0] = '\0';
		return out;
	}
	out[o++] = '"';
	while (p < end) {
		char piece[16];
		size_t used, n = toml_error_escape_char(piece, p, end, &used);

		/* Keep room for the piece, then for `..."` and the NUL. */
		if (o + n + 5 > size) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(out + o, piece, n);
		o += n;
		p += used;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

static bool
toml_error_is_bare(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!toml_lex_is_bare_key_char((unsigned char)s[i]))
			return false;
	return true;
}

const char *
toml_error_quote_path(char *out, size_t size, const char *const *keys,
    const size_t *lens, size_t n)
{
	size_t o = 0;

	if (size == 0)
		return out;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char q[TOML_QUOTE_BYTES];
		const char *piece = q;
		size_t plen;

		if (toml_error_is_bare(keys[i], lens[i]) &&
		    lens[i] < sizeof(q)) {
			memcpy(q, keys[i], lens[i]);
			q[lens[i]] = '\0';
		} else {
			toml_error_quote(q, sizeof(q), keys[i], lens[i]);
		}
		plen = strlen(piece) + (i > 0);
		if (o + plen + 4 > size) {
			(void)strlcpy(out + o, "...", size - o);
			break;
		}
		(void)snprintf(out + o, size - o, "%s%s", i > 0 ? "." : "",
		    piece);
		o += plen;
	}
	return out;
}

static const char *
toml_error_describe_utf8(char *out, size_t size, const char *p, const char *end)
{
	uint32_t cp;
	size_t n = utf8_decode(p, end, &cp);

	if (n == 0)
		(void)snprintf(out, size, "invalid UTF-8 byte 0x%02x",
		    (unsigned char)*p);
	else if (toml_error_is_invisible(cp))
		(void)snprintf(out, size, "character U+%04X", (unsigned)cp);
	else
		(void)snprintf(out, size, "'%.*s'", (int)n, p);
	return out;
}

const char *
toml_error_describe(char *out, size_t size, const char *p, const char *end)
{
	unsigned char c;

	if (p >= end) {
		(void)snprintf(out, size, "end of file");
		return out;
	}
	c = (unsigned char)*p;
	if (c >= 0x80)
		return toml_error_describe_utf8(out, size, p, end);
	if (c == '\n' || (c == '\r' && end - p > 1 && p[1] == '\n'))
		(void)snprintf(out, size, "newline");
	else if (c == '\r')
		(void)snprintf(out, size,
		    "a carriage return without a newline");
	else if (c == '\t')
		(void)snprintf(out, size, "tab");
	else if (c == ' ')
		(void)snprintf(out, size, "space");
	else if (c == '\'')
		(void)snprintf(out, size, "\"'\"");
	else if (c > 0x20 && c < 0x7f)
		(void)snprintf(out, size, "'%c'", c);
	else
		(void)snprintf(out, size, "control character U+%04X", c);
	return out;
}
