/* SPDX-License-Identifier: MIT */
/*
 * A growable byte buffer with an optional hard cap. The contents are always
 * NUL-terminated (the terminator is not counted in len), so text can be
 * handed to C string functions; binary contents may hold NULs of their own.
 * Allocation failure and the cap are reported, never fatal.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/compiler.h"

/* Embeddable: callers own the struct and call buf_init()/buf_done(). */
struct buf {
	char *data; /* NULL until the first append */
	size_t len;
	size_t cap;
	size_t max; /* 0 = no cap beyond SIZE_MAX */
};

/* Initialise an empty buffer that will refuse to grow beyond max bytes. */
void buf_init(struct buf *b, size_t max);

/* Release the storage; the buffer is empty and reusable afterwards. */
void buf_done(struct buf *b);

/* Forget the contents, keep the storage. */
void buf_clear(struct buf *b);

/* Make room for n more bytes. Returns 0, -ENOMEM, or -E2BIG past max. */
int buf_reserve(struct buf *b, size_t n) _warn_unused_;

/* Append bytes. Returns 0, -ENOMEM or -E2BIG; on failure b is unchanged. */
int buf_append(struct buf *b, const void *p, size_t n) _warn_unused_;

int buf_append_str(struct buf *b, const char *s) _warn_unused_;

int buf_append_char(struct buf *b, char c) _warn_unused_;

/* Append formatted text. Returns 0, -ENOMEM, -E2BIG or -EINVAL. */
int buf_printf(struct buf *b, const char *fmt, ...)
    _printf_(2, 3) _warn_unused_;

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    _printf_(2, 0) _warn_unused_;

/* Hand the contents to the caller (caller frees) and leave b empty. An empty
 * buffer yields a fresh "". Returns NULL only on allocation failure. */
char *buf_take(struct buf *b);

/* Borrowed view of the contents as a C string ("" when empty). */
const char *buf_str(const struct buf *b);
