/* SPDX-License-Identifier: MIT */
/*
 * Small string helpers, locale-free. strlcpy() is provided here when libc
 * lacks it (glibc before 2.38).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#ifndef HAVE_STRLCPY
/* Copy src into dst (size bytes), always NUL-terminating when size > 0.
 * Returns strlen(src); a result >= size means truncation. */
size_t strlcpy(char *dst, const char *src, size_t size);
#endif

static inline bool
streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* True when s begins with prefix. */
static inline bool
startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* True when s ends with suffix. */
static inline bool
endswith(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static inline char
ascii_tolower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The C locale's isspace(): SP, HT, LF, VT, FF, CR. */
static inline bool
ascii_isspace(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline bool
ascii_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool
ascii_isalpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
