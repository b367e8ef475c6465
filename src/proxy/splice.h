/* SPDX-License-Identifier: MIT */
/*
 * Zero-copy byte moving between two sockets: one direction, fd to fd,
 * through a pipe and splice(2) (splice_linux.c). Linux only: there is no
 * implementation for other systems yet, and Meson refuses to configure
 * for them rather than fail at link time.
 *
 * A direction borrows a pipe from its worker's spare pipes only while
 * bytes are in flight and gives it back once the pipe is empty, so an idle
 * tunnel holds no pipe and no buffer. When no pipe can be had (EMFILE), the
 * direction falls back to a small bounce buffer instead of failing.
 *
 * Thread rules: a direction and its pipes belong to one worker thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct splice_dir;
struct splice_pipes;

/* Spare pipes of one worker. Returns NULL on allocation failure. */
struct splice_pipes *splice_pipes_new(void);

/* Close every spare pipe. Accepts NULL; returns NULL. */
struct splice_pipes *splice_pipes_free(struct splice_pipes *p);

enum splice_event {
	SPLICE_PROGRESS, /* n bytes reached the destination */
	SPLICE_DONE,     /* the byte limit was reached and delivered */
	SPLICE_EOF,      /* the source ended and everything was delivered */
	SPLICE_ERROR,    /* err says why; "from" or "to" failed */
	_SPLICE_EVENT_MAX,
};

/*
 * Called on the worker thread. For SPLICE_PROGRESS, n is the byte count;
 * for SPLICE_ERROR, err is a negative errno and to_side tells whether the
 * destination (true) or the source failed. The callback may free the
 * direction unless ev is SPLICE_PROGRESS.
 */
typedef void (*splice_fn)(void *arg, enum splice_event ev, uint64_t n, int err,
    bool to_side);

/*
 * Start moving bytes from fd "from" to fd "to" (both non-blocking, both
 * borrowed) until limit bytes were moved (UINT64_MAX: until the source
 * ends). Returns NULL on allocation failure.
 */
struct splice_dir *splice_dir_new(struct event_base *base,
    struct splice_pipes *pipes, int from, int to, uint64_t limit, splice_fn cb,
    void *arg);

/* Stop and free. Bytes still in flight are dropped. Accepts NULL; returns
 * NULL. */
struct splice_dir *splice_dir_free(struct splice_dir *d);
