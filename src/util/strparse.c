/* SPDX-License-Identifier: MIT */
/* Strict, bounded number parsing. Locale-free: only ASCII digits count. */
#include "util/strparse.h"

#include <errno.h>
#include <string.h>

int
strparse_u64(const char *s, size_t len, uint64_t max, uint64_t *ret_val)
{
	uint64_t v = 0;

	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (d > max || v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret_val = v;
	return 0;
}

int
strparse_u64_str(const char *s, uint64_t max, uint64_t *ret_val)
{
	return strparse_u64(s, strlen(s), max, ret_val);
}

int
strparse_port(const char *s, size_t len, uint16_t *ret_port)
{
	uint64_t v;
	int r;

	r = strparse_u64(s, len, UINT16_MAX, &v);
	if (r < 0)
		return r;
	*ret_port = (uint16_t)v;
	return 0;
}

int
strparse_bool(const char *s, bool *ret_val)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*ret_val = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*ret_val = false;
			return 0;
		}
	}
	return -EINVAL;
}
