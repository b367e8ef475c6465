/* SPDX-License-Identifier: MIT */
/*
 * The one off-loop writer of paddock's text output: operator log lines,
 * access-log lines and audit events (JSON lines) are queued here by any
 * thread and written to a file descriptor by one background thread, in
 * order, one write per line. Pushing never waits for I/O or for room: the
 * queue is bounded (lines and bytes), a line that does not fit is dropped
 * and counted, and once the writer has caught up (its queue is empty) it
 * reports the drops, so a slow disk, terminal or unread pipe never stalls
 * an event loop.
 *
 * Thread rules: linewriter_push() and linewriter_flush() from any thread
 * but the writer's own; linewriter_new() and linewriter_free() from the
 * controlling thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct linewriter;

struct linewriter_settings {
	int fd;           /* borrowed; stays open until linewriter_free() */
	size_t queue;     /* lines waiting; 0: LIMIT_LOG_QUEUE */
	const char *what; /* names the output in drop reports ("audit") */
	/* true: drops are reported by a line of the writer's own output,
	 * "paddock: warning: N log lines dropped"; false: by log_warn() (an
	 * output of JSON lines must not get a text line). */
	bool report_inline;
};

/* Start the writer thread (with every signal blocked). Returns 0 with
 * *ret, -EINVAL or another -errno. */
int linewriter_new(const struct linewriter_settings *s,
    struct linewriter **ret);

/* Write what is queued, giving up after LIMIT_LOG_DRAIN_MS when the fd
 * takes nothing; stop the thread; report drops; free. Accepts NULL;
 * returns NULL. The fd is not closed. */
struct linewriter *linewriter_free(struct linewriter *w);

/* Queue a copy of line (n bytes; a '\n' is added when it does not end in
 * one). Never blocks. Returns false when the line was dropped. */
bool linewriter_push(struct linewriter *w, const char *line, size_t n);

/* Wait until every line pushed before the call has been written (or given
 * up on). Returns 0, or -EDEADLK on the writer thread. */
int linewriter_flush(struct linewriter *w);

/* Lines dropped since linewriter_new(). */
uint64_t linewriter_get_dropped(struct linewriter *w);

/*
 * The process-wide writer for stderr, installed as the process log's sink
 * (log_set_sink()) while at least one holder has a reference: a running
 * proxy takes one so that none of its threads writes to stderr itself.
 * queue applies when this call creates the writer (0: the default).
 * Returns 0 or -errno. Controlling threads only.
 */
int linewriter_stderr_ref(size_t queue);

/* Drop a reference; the last one removes the sink and frees the writer
 * (writing what is queued first). */
void linewriter_stderr_unref(void);
