/* SPDX-License-Identifier: MIT */
/*
 * splice(2) relaying: socket -> pipe -> socket, so tunnel and body bytes
 * never enter user space. A direction borrows a pipe only while bytes are
 * in flight; when none can be had it bounces through a small buffer.
 *
 * Invariant: at most one of pipe and bounce holds bytes, and the source is
 * read only when both are empty.
 */
#include "proxy/splice.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "util/limits.h"

#define SPLICE_PIPE_BYTES   (1024u * 1024)
#define SPLICE_BOUNCE_BYTES (16u * 1024)

struct splice_pipe {
	int fds[2];
	size_t size; /* its capacity */
};

struct splice_pipes {
	struct splice_pipe spare[LIMIT_SPLICE_PIPES_IDLE];
	unsigned n;
};

struct splice_dir {
	struct splice_pipes *pipes;
	int from;
	int to;
	uint64_t left;           /* bytes the limit still lets us read */
	struct splice_pipe pipe; /* fds -1 while none is borrowed */
	size_t in_pipe;
	char *bounce;
	size_t bounce_off;
	size_t bounce_len;
	bool from_eof;
	bool from_empty; /* the source had nothing the last time we asked */
	bool to_full;    /* the destination took nothing the last time */
	struct event *rd;
	struct event *wr;
	splice_fn cb;
	void *arg;
};

struct splice_pipes *
splice_pipes_new(void)
{
	return calloc(1, sizeof(struct splice_pipes));
}

struct splice_pipes *
splice_pipes_free(struct splice_pipes *p)
{
	if (!p)
		return NULL;
	for (unsigned i = 0; i < p->n; i++) {
		(void)close(p->spare[i].fds[0]);
		(void)close(p->spare[i].fds[1]);
	}
	free(p);
	return NULL;
}

static int
splice_pipes_get(struct splice_pipes *p, struct splice_pipe *ret)
{
	int size;

	if (p->n > 0) {
		*ret = p->spare[--p->n];
		return 0;
	}
	if (pipe2(ret->fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	/* Bigger pipes mean fewer splices for bulk transfers; the kernel may
	 * refuse (pipe-user-pages-soft) and that is fine. */
	(void)fcntl(ret->fds[0], F_SETPIPE_SZ, (int)SPLICE_PIPE_BYTES);
	size = fcntl(ret->fds[0], F_GETPIPE_SZ);
	ret->size = size > 0 ? (size_t)size : 4096;
	return 0;
}

/* An empty pipe goes back to the spares; one with bytes in it is closed. */
static void
splice_pipes_put(struct splice_pipes *p, struct splice_pipe *pipe, bool empty)
{
	if (empty && p->n < LIMIT_SPLICE_PIPES_IDLE) {
		p->spare[p->n++] = *pipe;
	} else {
		(void)close(pipe->fds[0]);
		(void)close(pipe->fds[1]);
	}
	pipe->fds[0] = pipe->fds[1] = -1;
}

static bool
splice_dir_has_pipe(const struct splice_dir *d)
{
	return d->pipe.fds[0] >= 0;
}

static void
splice_dir_release(struct splice_dir *d)
{
	if (splice_dir_has_pipe(d))
		splice_pipes_put(d->pipes, &d->pipe, d->in_pipe == 0);
	d->in_pipe = 0;
	free(d->bounce);
	d->bounce = NULL;
	d->bounce_off = d->bounce_len = 0;
}

static size_t
splice_dir_in_flight(const struct splice_dir *d)
{
	return d->in_pipe + (d->bounce_len - d->bounce_off);
}

/* How much to ask the source for. Only an empty pipe is refilled: bytes
 * then pile up in the socket meanwhile and come in few large splices,
 * where refilling a partly full pipe meant several times the system calls
 * and wake-ups for the same throughput (measured with bench_http.py). */
static size_t
splice_dir_room(const struct splice_dir *d)
{
	size_t room;

	if (d->from_eof || d->left == 0 || splice_dir_in_flight(d) > 0)
		return 0;
	room = splice_dir_has_pipe(d) ? d->pipe.size :
	    d->bounce                 ? SPLICE_BOUNCE_BYTES :
					SPLICE_PIPE_BYTES;
	return d->left < room ? (size_t)d->left : room;
}

/* Read from the source into the pipe (or bounce buffer). Returns bytes
 * read, 0 at EOF, or a negative errno (-EAGAIN: nothing to read now). */
static ssize_t
splice_dir_fill(struct splice_dir *d)
{
	size_t want;
	ssize_t n;

	if (!splice_dir_has_pipe(d) && !d->bounce &&
	    splice_pipes_get(d->pipes, &d->pipe) < 0) {
		d->bounce = malloc(SPLICE_BOUNCE_BYTES);
		if (!d->bounce)
			return -ENOMEM;
	}
	want = splice_dir_room(d);
	if (splice_dir_has_pipe(d)) {
		n = splice(d->from, NULL, d->pipe.fds[1], NULL, want,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0)
			d->in_pipe += (size_t)n;
	} else {
		n = read(d->from, d->bounce, want);
		if (n > 0) {
			d->bounce_off = 0;
			d->bounce_len = (size_t)n;
		}
	}
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? -EAGAIN : -errno;
	d->left -= (uint64_t)n;
	return n;
}

/* Write what is in flight to the destination. Returns bytes written
 * (0: the destination is full), or a negative errno. */
static ssize_t
splice_dir_drain(struct splice_dir *d)
{
	ssize_t n;

	for (;;) {
		if (d->in_pipe > 0)
			/* No SPLICE_F_MORE: it corks, and a tunnel may carry
			 * an interactive protocol. */
			n = splice(d->pipe.fds[0], NULL, d->to, NULL,
			    d->in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		else
			n = send(d->to, d->bounce + d->bounce_off,
			    d->bounce_len - d->bounce_off, MSG_NOSIGNAL);
		if (n >= 0 || errno != EINTR)
			break;
	}
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	if (d->in_pipe > 0)
		d->in_pipe -= (size_t)n;
	else
		d->bounce_off += (size_t)n;
	return n;
}

/*
 * Move what can be moved now: drain, fill, drain, ... until neither side
 * takes more (bounded, so one busy direction cannot starve the loop),
 * then wait for whichever side can unblock us. The callback may free d on
 * DONE, EOF and ERROR: return right after those.
 */
static void
splice_dir_run(struct splice_dir *d)
{
	uint64_t moved = 0;
	bool progress = true;

	for (int round = 0; progress && round < 16; round++) {
		ssize_t n;

		progress = false;
		if (splice_dir_in_flight(d) > 0 && !d->to_full) {
			n = splice_dir_drain(d);
			if (n < 0) {
				d->cb(d->arg, SPLICE_ERROR, 0, (int)n, true);
				return;
			}
			d->to_full = n == 0;
			moved += (uint64_t)n;
			progress = n > 0;
		}
		if (splice_dir_room(d) > 0 && !d->from_empty) {
			n = splice_dir_fill(d);
			if (n == -EAGAIN) {
				d->from_empty = true;
			} else if (n < 0) {
				d->cb(d->arg, SPLICE_ERROR, 0, (int)n, false);
				return;
			} else if (n == 0) {
				d->from_eof = true;
			} else {
				progress = true;
			}
		}
	}
	if (moved > 0)
		d->cb(d->arg, SPLICE_PROGRESS, moved, 0, true);
	if (splice_dir_in_flight(d) == 0) {
		/* An empty pipe goes back: idle directions hold none. */
		splice_dir_release(d);
		if (d->left == 0) {
			d->cb(d->arg, SPLICE_DONE, 0, 0, true);
			return;
		}
		if (d->from_eof) {
			d->cb(d->arg, SPLICE_EOF, 0, 0, true);
			return;
		}
	}
	if (splice_dir_room(d) > 0)
		(void)event_add(d->rd, NULL);
	else
		(void)event_del(d->rd);
	/* Bytes still in flight wait for the destination, whether it was
	 * full or the round limit stopped us. */
	if (splice_dir_in_flight(d) > 0)
		(void)event_add(d->wr, NULL);
	else
		(void)event_del(d->wr);
}

static void
splice_dir_readable_cb(evutil_socket_t fd, short what, void *arg)
{
	struct splice_dir *d = arg;

	(void)fd;
	(void)what;
	d->from_empty = false;
	splice_dir_run(d);
}

static void
splice_dir_writable_cb(evutil_socket_t fd, short what, void *arg)
{
	struct splice_dir *d = arg;

	(void)fd;
	(void)what;
	d->to_full = false;
	splice_dir_run(d);
}

struct splice_dir *
splice_dir_new(struct event_base *base, struct splice_pipes *pipes, int from,
    int to, uint64_t limit, splice_fn cb, void *arg)
{
	struct splice_dir *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	*d = (struct splice_dir){
		.pipes = pipes,
		.from = from,
		.to = to,
		.left = limit,
		.pipe = { .fds = { -1, -1 } },
		.cb = cb,
		.arg = arg,
	};
	d->rd = event_new(base, from, EV_READ | EV_PERSIST,
	    splice_dir_readable_cb, d);
	d->wr = event_new(base, to, EV_WRITE | EV_PERSIST,
	    splice_dir_writable_cb, d);
	if (!d->rd || !d->wr || event_add(d->rd, NULL) < 0)
		return splice_dir_free(d);
	return d;
}

struct splice_dir *
splice_dir_free(struct splice_dir *d)
{
	if (!d)
		return NULL;
	if (d->rd)
		event_free(d->rd);
	if (d->wr)
		event_free(d->wr);
	splice_dir_release(d);
	free(d);
	return NULL;
}
