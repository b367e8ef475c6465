/* SPDX-License-Identifier: MIT */
/*
 * The line writer: a bounded FIFO of copied lines and one thread that
 * writes them.
 *
 * Invariants (under w->lock): the queue holds n lines of bytes bytes in
 * all, n <= cap and bytes <= LIMIT_LOG_QUEUE_BYTES; pushed counts lines
 * ever queued and done those written or given up on, so a flush waits for
 * done to reach the pushed count it saw; dropped - reported drops are not
 * yet reported. The thread waits for the fd with poll() next to a wake
 * pipe, so linewriter_free() can bound the final drain even when nobody
 * reads the other end.
 */
#include "audit/linewriter.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/limits.h"
#include "util/log.h"

struct linewriter_line {
	struct linewriter_line *next;
	size_t len;
	char text[];
};

struct linewriter {
	/* Fixed once the thread runs. */
	int fd;
	int wake[2]; /* the thread polls wake[0]; free writes wake[1] */
	size_t cap;
	char what[32];
	bool report_inline;
	pthread_t thread;
	bool thread_started;
	bool gave_up;         /* the thread's own: the drain deadline passed */
	bool write_failed;    /* the thread's own: report a failure once */
	uint64_t deadline_ms; /* set with quit, before the wake byte */

	pthread_mutex_t lock;
	pthread_cond_t work; /* a line is queued, or quitting */
	pthread_cond_t idle; /* done moved */
	struct linewriter_line *head, *tail;
	size_t n, bytes;
	uint64_t pushed, done;
	uint64_t dropped, reported;
	atomic_bool quit;
};

static uint64_t
linewriter_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool
linewriter_push(struct linewriter *w, const char *line, size_t n)
{
	struct linewriter_line *it;
	bool nl = n == 0 || line[n - 1] != '\n';
	size_t len = n + (nl ? 1 : 0);

	it = len <= LIMIT_LOG_QUEUE_BYTES ? malloc(sizeof(*it) + len) : NULL;
	if (it) {
		it->next = NULL;
		it->len = len;
		memcpy(it->text, line, n);
		if (nl)
			it->text[n] = '\n';
	}
	(void)pthread_mutex_lock(&w->lock);
	if (!it || w->n >= w->cap || w->bytes + len > LIMIT_LOG_QUEUE_BYTES) {
		w->dropped++;
		(void)pthread_mutex_unlock(&w->lock);
		free(it);
		return false;
	}
	if (w->tail)
		w->tail->next = it;
	else
		w->head = it;
	w->tail = it;
	w->n++;
	w->bytes += len;
	w->pushed++;
	(void)pthread_cond_signal(&w->work);
	(void)pthread_mutex_unlock(&w->lock);
	return true;
}

/* Wait until the fd takes bytes, or the drain deadline passes. Returns 0
 * or -ETIMEDOUT. */
static int
linewriter_wait_writable(struct linewriter *w)
{
	for (;;) {
		struct pollfd pfd[2] = { { .fd = w->fd, .events = POLLOUT },
			{ .fd = w->wake[0], .events = POLLIN } };
		int timeout = -1;
		char drain[16];

		if (atomic_load(&w->quit)) {
			uint64_t now = linewriter_now_ms();

			if (now >= w->deadline_ms)
				return -ETIMEDOUT;
			timeout = (int)(w->deadline_ms - now);
		}
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			return -errno;
		if (pfd[1].revents & POLLIN)
			while (read(w->wake[0], drain, sizeof(drain)) > 0)
				;
		if (pfd[0].revents)
			return 0;
	}
}

/*
 * Write all of p. Returns 0 or -errno. XXX: poll() says a pipe has room,
 * not that it has room for the whole line; a long line to a pipe that
 * nobody reads can still block the final drain.
 */
static int
linewriter_write_all(struct linewriter *w, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k;
		int r = linewriter_wait_writable(w);

		if (r < 0)
			return r;
		k = write(w->fd, p, n);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0)
			return -errno;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void
linewriter_write_line(struct linewriter *w, const char *p, size_t n)
{
	int r;

	if (w->gave_up)
		return;
	r = linewriter_write_all(w, p, n);
	if (r == -ETIMEDOUT) {
		w->gave_up = true;
		return;
	}
	if (r < 0 && !w->write_failed && !w->report_inline)
		log_warn_errno(r, "%s: cannot write", w->what);
	w->write_failed = r < 0;
}

static void
linewriter_report(struct linewriter *w, uint64_t dropped)
{
	char line[128];
	int k;

	if (!w->report_inline) {
		log_warn("%s: the writer fell behind, %" PRIu64
			 " lines dropped",
		    w->what, dropped);
		return;
	}
	k = snprintf(line, sizeof(line),
	    "paddock: warning: %" PRIu64 " log lines dropped\n", dropped);
	if (k > 0 && (size_t)k < sizeof(line))
		linewriter_write_line(w, line, (size_t)k);
}

static void *
linewriter_main(void *arg)
{
	struct linewriter *w = arg;

	(void)pthread_mutex_lock(&w->lock);
	for (;;) {
		struct linewriter_line *batch;
		uint64_t count = 0, dropped = 0;

		while (!w->head && !atomic_load(&w->quit))
			(void)pthread_cond_wait(&w->work, &w->lock);
		if (!w->head)
			break;
		batch = w->head;
		w->head = w->tail = NULL;
		w->n = w->bytes = 0;
		(void)pthread_mutex_unlock(&w->lock);

		while (batch) {
			struct linewriter_line *next = batch->next;

			linewriter_write_line(w, batch->text, batch->len);
			free(batch);
			batch = next;
			count++;
		}

		(void)pthread_mutex_lock(&w->lock);
		w->done += count;
		if (w->gave_up)
			w->dropped += count;
		else if (!w->head) { /* caught up: say what was lost */
			dropped = w->dropped - w->reported;
			w->reported = w->dropped;
		}
		(void)pthread_cond_broadcast(&w->idle);
		if (dropped > 0) {
			(void)pthread_mutex_unlock(&w->lock);
			linewriter_report(w, dropped);
			(void)pthread_mutex_lock(&w->lock);
		}
	}
	(void)pthread_mutex_unlock(&w->lock);
	return NULL;
}

int
linewriter_flush(struct linewriter *w)
{
	uint64_t target;

	if (w->thread_started && pthread_equal(pthread_self(), w->thread))
		return -EDEADLK;
	(void)pthread_mutex_lock(&w->lock);
	target = w->pushed;
	while (w->done < target)
		(void)pthread_cond_wait(&w->idle, &w->lock);
	(void)pthread_mutex_unlock(&w->lock);
	return 0;
}

uint64_t
linewriter_get_dropped(struct linewriter *w)
{
	uint64_t d;

	(void)pthread_mutex_lock(&w->lock);
	d = w->dropped;
	(void)pthread_mutex_unlock(&w->lock);
	return d;
}

/* The thread takes no process signals: they belong to the controlling
 * thread's event loop (and a write to a closed pipe then fails with EPIPE
 * instead of killing the process). */
static int
linewriter_start(struct linewriter *w)
{
	sigset_t all, old;
	int r;

	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&w->thread, NULL, linewriter_main, w);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return -r;
	w->thread_started = true;
	return 0;
}

int
linewriter_new(const struct linewriter_settings *s, struct linewriter **ret)
{
	struct linewriter *w;
	int r;

	if (s->fd < 0 || s->queue > LIMIT_LOG_QUEUE)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = s->fd;
	w->cap = s->queue ? s->queue : LIMIT_LOG_QUEUE;
	(void)snprintf(w->what, sizeof(w->what), "%s",
	    s->what ? s->what : "log");
	w->report_inline = s->report_inline;
	atomic_init(&w->quit, false);
	if (pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		free(w);
		return r;
	}
	if (pthread_mutex_init(&w->lock, NULL) != 0 ||
	    pthread_cond_init(&w->work, NULL) != 0 ||
	    pthread_cond_init(&w->idle, NULL) != 0) {
		/* XXX: on Linux these fail only without memory, and a
		 * half-initialised one holds nothing to release. */
		(void)close(w->wake[0]);
		(void)close(w->wake[1]);
		free(w);
		return -ENOMEM;
	}
	r = linewriter_start(w);
	if (r < 0) {
		linewriter_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

struct linewriter *
linewriter_free(struct linewriter *w)
{
	uint64_t lost;

	if (!w)
		return NULL;
	if (w->thread_started) {
		(void)pthread_mutex_lock(&w->lock);
		w->deadline_ms = linewriter_now_ms() + LIMIT_LOG_DRAIN_MS;
		atomic_store(&w->quit, true);
		(void)pthread_cond_signal(&w->work);
		(void)pthread_mutex_unlock(&w->lock);
		if (write(w->wake[1], "q", 1) < 0) {
			/* full: a wake byte is already waiting */
		}
		(void)pthread_join(w->thread, NULL);
	}
	while (w->head) { /* only when the thread never ran */
		struct linewriter_line *next = w->head->next;

		free(w->head);
		w->head = next;
	}
	lost = w->dropped - w->reported;
	if (lost > 0 && !w->report_inline)
		log_warn("%s: %" PRIu64 " lines dropped", w->what, lost);
	(void)close(w->wake[0]);
	(void)close(w->wake[1]);
	(void)pthread_cond_destroy(&w->work);
	(void)pthread_cond_destroy(&w->idle);
	(void)pthread_mutex_destroy(&w->lock);
	free(w);
	return NULL;
}

/*
 * The process-wide stderr writer.
 */
static pthread_mutex_t linewriter_stderr_lock = PTHREAD_MUTEX_INITIALIZER;
static struct linewriter *linewriter_stderr;
static unsigned linewriter_stderr_refs;

static void
linewriter_stderr_write_cb(const char *line, size_t n, void *userdata)
{
	(void)linewriter_push(userdata, line, n);
}

static void
linewriter_stderr_flush_cb(void *userdata)
{
	(void)linewriter_flush(userdata);
}

int
linewriter_stderr_ref(size_t queue)
{
	struct linewriter_settings s = { .fd = STDERR_FILENO,
		.queue = queue,
		.what = "log",
		.report_inline = true };
	int r = 0;

	(void)pthread_mutex_lock(&linewriter_stderr_lock);
	if (linewriter_stderr_refs == 0) {
		r = linewriter_new(&s, &linewriter_stderr);
		if (r == 0)
			log_set_sink(&(struct log_sink){
			    .write = linewriter_stderr_write_cb,
			    .flush = linewriter_stderr_flush_cb,
			    .userdata = linewriter_stderr });
	}
	if (r == 0)
		linewriter_stderr_refs++;
	(void)pthread_mutex_unlock(&linewriter_stderr_lock);
	return r;
}

void
linewriter_stderr_unref(void)
{
	(void)pthread_mutex_lock(&linewriter_stderr_lock);
	if (linewriter_stderr_refs > 0 && --linewriter_stderr_refs == 0) {
		log_set_sink(NULL);
		linewriter_stderr = linewriter_free(linewriter_stderr);
	}
	(void)pthread_mutex_unlock(&linewriter_stderr_lock);
}
