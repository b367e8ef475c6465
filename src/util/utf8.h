/* SPDX-License-Identifier: MIT */
/* UTF-8 (RFC 3629 §4): decoding with every validity rule, and encoding. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decode one UTF-8 scalar value at p (p < end). Returns its length in
 * bytes (1..4), or 0 when the bytes at p are not valid UTF-8 (overlong,
 * surrogate, above U+10FFFF, truncated). */
size_t utf8_decode(const char *p, const char *end, uint32_t *ret_cp);

/* Encode a scalar value (caller checked it) into out[4]; returns 1..4. */
size_t utf8_encode(uint32_t cp, char *out);

static inline bool
utf8_is_scalar(uint32_t cp)
{
	return cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
}
