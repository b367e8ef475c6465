/* SPDX-License-Identifier: MIT */
/*
 * Strict number parsing for text from the network, config and argv. Every
 * parse takes an explicit maximum and the whole span must be consumed: no
 * sign, no whitespace, no leading "+" and no trailing junk are accepted
 * unless a function says so. They replace the banned ato* family (STYLE.md §8).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parse s[0..len) as unsigned decimal digits, at most max. Returns 0,
 * -EINVAL (empty, non-digit) or -ERANGE (above max). */
int strparse_u64(const char *s, size_t len, uint64_t max, uint64_t *ret_val);

/* Like strparse_u64() for a NUL-terminated string. */
int strparse_u64_str(const char *s, uint64_t max, uint64_t *ret_val);

/* Parse a TCP/UDP port "0".."65535". Returns 0, -EINVAL or -ERANGE. */
int strparse_port(const char *s, size_t len, uint16_t *ret_port);

/* Parse a NUL-terminated bool: true/false, yes/no, on/off, 1/0. */
int strparse_bool(const char *s, bool *ret_val);
