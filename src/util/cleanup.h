/* SPDX-License-Identifier: MIT */
/*
 * Scope-bound cleanup for locals in synchronous code (config loading,
 * certificate minting, sandbox setup). Never use these on anything that
 * outlives a callback (STYLE.md §5.6). Hand ownership out with TAKE_PTR()
 * and TAKE_FD().
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/compiler.h"

static inline void
cleanup_freep(void *p)
{
	free(*(void **)p);
}

static inline void
cleanup_closep(const int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
}

static inline void
cleanup_fclosep(FILE **f)
{
	if (*f)
		(void)fclose(*f);
}

#define _cleanup_free_   _cleanup_(cleanup_freep)
#define _cleanup_close_  _cleanup_(cleanup_closep)
#define _cleanup_fclose_ _cleanup_(cleanup_fclosep)

/* Return the pointer and forget it, so the cleanup does not free it. */
#define TAKE_PTR(p)                                \
	({                                         \
		__typeof__(p) take_ptr_tmp_ = (p); \
		(p) = NULL;                        \
		take_ptr_tmp_;                     \
	})

#define TAKE_FD(fd)                      \
	({                               \
		int take_fd_tmp_ = (fd); \
		(fd) = -1;               \
		take_fd_tmp_;            \
	})
