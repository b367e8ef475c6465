/* SPDX-License-Identifier: MIT */
/*
 * splice(2) relaying: socket -> pipe -> socket, so tunnel and body bytes
 * never enter user space. A direction borrows a pipe only while bytes are
 * in flight; when none can be had it bounces through a small buffer.
 *
 * Invariant: at most one of pipe and bounce holds bytes, and the source is
 * read only while the destination is not known to be full (the read event
 * and the write event are never both pending).
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

struct splice_pipes {
	int fds[LIMIT_SPLICE_PIPES_IDLE][2];
	unsigned n;
};

struct splice_dir {
	struct splice_pipes *pipes;
	int from;
	int to;
	uint64_t left; /* bytes the limit still lets us read */
	int pipe[2];
	size_t in_pipe;
	char *bounce;
	size_t bounce_off;
	size_t bounce_len;
	bool from_eof;
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
		(void)close(p->fds[i][0]);
		(void)close(p->fds[i][1]);
	}
	free(p);
	return NULL;
}

static int
splice_pipes_get(struct splice_pipes *p, int fds[2])
{
	if (p->n > 0) {
		p->n--;
		fds[0] = p->fds[p->n][0];
		fds[1] = p->fds[p->n][1];
		return 0;
	}
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	/* Bigger pipes mean fewer splices for bulk transfers; the kernel may
	 * refuse (pipe-user-pages-soft) and that is fine. */
	(void)fcntl(fds[0], F_SETPIPE_SZ, (int)SPLICE_PIPE_BYTES);
	return 0;
}

/* An empty pipe goes back to the spares; one with bytes in it is closed. */
static void
splice_pipes_put(struct splice_pipes *p, int fds[2], bool empty)
{
	if (empty && p->n < LIMIT_SPLICE_PIPES_IDLE) {
		p->fds[p->n][0] = fds[0];
		p->fds[p->n][1] = fds[1];
		p->n++;
	} else {
		(void)close(fds[0]);
		(void)close(fds[1]);
	}
	fds[0] = fds[1] = -1;
}

static void
splice_dir_release(struct splice_dir *d)
{
	if (d->pipe[0] >= 0)
		splice_pipes_put(d->pipes, d->pipe, d->in_pipe == 0);
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

/* Read from the source into the pipe (or bounce buffer). Returns bytes
 * read, 0 at EOF, or a negative errno (-EAGAIN: nothing to read now). */
static ssize_t
splice_dir_fill(struct splice_dir *d)
{
	size_t want =
	    d->left < SPLICE_PIPE_BYTES ? (size_t)d->left : SPLICE_PIPE_BYTES;
	ssize_t n;

	if (d->pipe[0] < 0 && !d->bounce &&
	    splice_pipes_get(d->pipes, d->pipe) < 0) {
		d->bounce = malloc(SPLICE_BOUNCE_BYTES);
		if (!d->bounce)
			return -ENOMEM;
	}
	if (d->pipe[0] >= 0) {
		n = splice(d->from, NULL, d->pipe[1], NULL, want,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0)
			d->in_pipe += (size_t)n;
	} else {
		if (want > SPLICE_BOUNCE_BYTES)
			want = SPLICE_BOUNCE_BYTES;
		n = read(d->from, d->bounce, want);
		if (n > 0) {
			d->bounce_off = 0;
			d->bounce_len = (size_t)n;
		}
	}
	if (n < 0)
		return errno == EINTR ? -EAGAIN : -errno;
	d->left -= (uint64_t)n;
	return n;
}

/* Write what is in flight to the destination. Returns bytes written so
 * far (>= 0) once everything is out or the destination is full; then
 * *ret_blocked tells which. A negative errno on failure. */
static ssize_t
splice_dir_drain(struct splice_dir *d, bool *ret_blocked)
{
	size_t total = 0;

	*ret_blocked = false;
	while (splice_dir_in_flight(d) > 0) {
		ssize_t n;

		if (d->in_pipe > 0)
			n = splice(d->pipe[0], NULL, d->to, NULL, d->in_pipe,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		else
			n = send(d->to, d->bounce + d->bounce_off,
			    d->bounce_len - d->bounce_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				*ret_blocked = true;
				break;
			}
			return -errno;
		}
		if (d->in_pipe > 0)
			d->in_pipe -= (size_t)n;
		else
			d->bounce_off += (size_t)n;
		total += (size_t)n;
	}
	return (ssize_t)total;
}

/* Deliver what is in flight and decide what to wait for next. The
 * callback may free d on DONE, EOF and ERROR: return right after those. */
static void
splice_dir_flush(struct splice_dir *d)
{
	bool blocked;
	ssize_t n = splice_dir_drain(d, &blocked);

	if (n > 0)
		d->cb(d->arg, SPLICE_PROGRESS, (uint64_t)n, 0, true);
	if (n < 0) {
		d->cb(d->arg, SPLICE_ERROR, 0, (int)n, true);
		return;
	}
	if (blocked) {
		(void)event_del(d->rd);
		(void)event_add(d->wr, NULL);
		return;
	}
	splice_dir_release(d);
	(void)event_del(d->wr);
	if (d->left == 0) {
		d->cb(d->arg, SPLICE_DONE, 0, 0, true);
		return;
	}
	if (d->from_eof) {
		d->cb(d->arg, SPLICE_EOF, 0, 0, true);
		return;
	}
	(void)event_add(d->rd, NULL);
}

static void
splice_dir_readable_cb(evutil_socket_t fd, short what, void *arg)
{
	struct splice_dir *d = arg;
	ssize_t n;

	(void)fd;
	(void)what;
	n = splice_dir_fill(d);
	if (n == -EAGAIN) {
		/* Spurious wakeup: give an unused pipe back. */
		if (splice_dir_in_flight(d) == 0)
			splice_dir_release(d);
		return;
	}
	if (n < 0) {
		d->cb(d->arg, SPLICE_ERROR, 0, (int)n, false);
		return;
	}
	if (n == 0) {
		d->from_eof = true;
		(void)event_del(d->rd);
	}
	splice_dir_flush(d);
}

static void
splice_dir_writable_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	splice_dir_flush(arg);
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
		.pipe = { -1, -1 },
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
