/* SPDX-License-Identifier: MIT */
/*
 * Process log. The level is an atomic so any thread may read it; a line is
 * formatted into a local buffer and handed whole to the sink, or written
 * with one write(2) call when there is none. The sink is read under a
 * read lock, so replacing it waits for the calls in progress.
 */
#include "util/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/limits.h"

_Static_assert(LOG_ESCAPE_BYTES >= 4 * LIMIT_LOG_UNTRUSTED_BYTES + 4,
    "LOG_ESCAPE_BYTES too small");

static _Atomic int log_level = LOG_LEVEL_INFO;
static atomic_bool log_level_chosen; /* by log_set_level() */

static pthread_rwlock_t log_sink_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct log_sink log_sink; /* under log_sink_lock; write NULL: none */

static const char *const log_level_names[_LOG_LEVEL_MAX] = {
	[LOG_LEVEL_ERR] = "error",
	[LOG_LEVEL_WARN] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void
log_set_level(enum log_level level)
{
	atomic_store(&log_level_chosen, true);
	atomic_store(&log_level, (int)level);
}

void
log_set_default_level(enum log_level level)
{
	if (!atomic_load(&log_level_chosen))
		atomic_store(&log_level, (int)level);
}

enum log_level
log_get_level(void)
{
	return (enum log_level)atomic_load(&log_level);
}

int
log_level_from_string(const char *s, enum log_level *ret_level)
{
	for (int i = 0; i < _LOG_LEVEL_MAX; i++)
		if (strcmp(s, log_level_names[i]) == 0) {
			*ret_level = (enum log_level)i;
			return 0;
		}
	if (strcmp(s, "warn") == 0) {
		*ret_level = LOG_LEVEL_WARN;
		return 0;
	}
	return -EINVAL;
}

void
log_set_sink(const struct log_sink *sink)
{
	(void)pthread_rwlock_wrlock(&log_sink_lock);
	log_sink = sink ? *sink : (struct log_sink){ 0 };
	(void)pthread_rwlock_unlock(&log_sink_lock);
}

/* Write all of p to stderr, retrying short writes and EINTR; a failure
 * loses the line (there is nowhere to report it). */
static void
log_write_stderr(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Hand one whole line ('\n' included) to the sink or to stderr. */
static void
log_emit(const char *line, size_t n)
{
	int saved = errno;

	(void)pthread_rwlock_rdlock(&log_sink_lock);
	if (log_sink.write)
		log_sink.write(line, n, log_sink.userdata);
	else
		log_write_stderr(line, n);
	(void)pthread_rwlock_unlock(&log_sink_lock);
	errno = saved;
}

void
log_write_line(const char *text, size_t n)
{
	char *line = malloc(n + 1);

	if (!line)
		return;
	memcpy(line, text, n);
	line[n] = '\n';
	log_emit(line, n + 1);
	free(line);
}

void
log_flush(void)
{
	(void)pthread_rwlock_rdlock(&log_sink_lock);
	if (log_sink.flush)
		log_sink.flush(log_sink.userdata);
	(void)pthread_rwlock_unlock(&log_sink_lock);
}

void
log_vwrite(enum log_level level, int err, const char *fmt, va_list ap)
{
	char line[2048];
	size_t n;
	int r;

	if ((int)level > atomic_load(&log_level))
		return;
	r = snprintf(line, sizeof(line),
	    "paddock: %s: ", log_level_names[level]);
	n = r < 0 ? 0 : (size_t)r;
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n += (size_t)r;
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	if (err > 0) {
		r = snprintf(line + n, sizeof(line) - n, ": %s", strerror(err));
		if (r > 0)
			n += (size_t)r;
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
	}
	if (n + 1 < sizeof(line)) {
		line[n++] = '\n';
		line[n] = '\0';
	} else {
		line[sizeof(line) - 2] = '\n';
		n = sizeof(line) - 1;
	}
	log_emit(line, n);
}

void
log_write(enum log_level level, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, err, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	(void)fprintf(stderr, "paddock: fatal: %s\n", line);
	exit(EXIT_FAILURE);
}

/* in_quotes: also escape '\'', which would end the quoted text. */
static const char *
log_escape_bytes(char *out, size_t outsz, const void *p, size_t n,
    bool in_quotes)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = p;
	size_t o = 0,
	       shown = n < LIMIT_LOG_UNTRUSTED_BYTES ?
	    n :
	    LIMIT_LOG_UNTRUSTED_BYTES;

	if (outsz == 0)
		return out;
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = s[i];

		if (o + 5 > outsz)
			break;
		if (c == '\\' || (c == '\'' && in_quotes)) {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (shown < n && o + 4 <= outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

const char *
log_escape(char *out, size_t outsz, const void *p, size_t n)
{
	return log_escape_bytes(out, outsz, p, n, true);
}

const char *
log_quote(char *out, size_t outsz, const void *p, size_t n)
{
	size_t len;

	if (outsz < 3) {
		if (outsz > 0)
			out[0] = '\0';
		return out;
	}
	if (!p) {
		(void)snprintf(out, outsz, "(null)");
		return out;
	}
	out[0] = '\'';
	log_escape(out + 1, outsz - 2, p, n);
	len = strlen(out);
	out[len] = '\'';
	out[len + 1] = '\0';
	return out;
}

const char *
log_quote_str(char *out, size_t outsz, const char *s)
{
	return log_quote(out, outsz, s, s ? strlen(s) : 0);
}

const char *
log_escape_str(char *out, size_t outsz, const char *s)
{
	if (!s) {
		(void)snprintf(out, outsz, "(null)");
		return out;
	}
	return log_escape_bytes(out, outsz, s, strlen(s), false);
}
