/* SPDX-License-Identifier: MIT */
/*
 * The session access log, off the hot path: workers hand over one JSON
 * line per closed session and move on; one background thread writes them
 * to the process log (stderr) in order, so a slow terminal or pipe never
 * stalls a worker. The queue is bounded (LIMIT_ACCESSLOG_QUEUE); when it
 * is full, lines are dropped and the count is reported, never waited for.
 *
 * Thread rules: accesslog_push() from any thread; accesslog_new() and
 * accesslog_free() from the controlling thread. accesslog_free() writes
 * everything queued before it returns.
 */
#pragma once

struct accesslog;

/* Start the writer thread. Returns NULL on failure. */
struct accesslog *accesslog_new(void);

/* Write what is queued, stop the thread, free. Accepts NULL; returns
 * NULL. */
struct accesslog *accesslog_free(struct accesslog *l);

/* Queue one line (takes ownership of line, a heap string). Lines are
 * dropped at once when the log level hides them. */
void accesslog_push(struct accesslog *l, char *line);
