/* SPDX-License-Identifier: MIT */
/*
 * UTF-8 as RFC 3629 §4 defines it: the shortest form only, no surrogates,
 * nothing above U+10FFFF. TOML documents must be valid UTF-8 throughout,
 * and config diagnostics and JSON escape whatever is not.
 */
#include "util/utf8.h"

/* The valid range of the second byte after each lead byte (RFC 3629 §4). */
static bool
utf8_second_ok(unsigned char lead, unsigned char b)
{
	switch (lead) {
	case 0xe0:
		return b >= 0xa0 && b <= 0xbf; /* no overlongs */
	case 0xed:
		return b >= 0x80 && b <= 0x9f; /* no surrogates */
	case 0xf0:
		return b >= 0x90 && b <= 0xbf; /* no overlongs */
	case 0xf4:
		return b >= 0x80 && b <= 0x8f; /* nothing above U+10FFFF */
	default:
		return b >= 0x80 && b <= 0xbf;
	}
}

size_t
utf8_decode(const char *p, const char *end, uint32_t *ret_cp)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t avail = (size_t)(end - p), n;
	uint32_t cp;

	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (avail < n || !utf8_second_ok(s[0], s[1]))
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	*ret_cp = cp;
	return n;
}

size_t
utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}
