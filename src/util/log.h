/* SPDX-License-Identifier: MIT */
/*
 * Process log on stderr. One call writes one whole line, so lines from
 * several threads never interleave. Library modules log at debug only and
 * return errors as data (STYLE.md §5.4); the CLI and the proxy runtime log.
 *
 * By default a line is written to stderr by the calling thread. A running
 * proxy installs a sink (log_set_sink()) that queues lines for a writer
 * thread instead, so no event loop ever waits for stderr; util/ itself
 * knows nothing of that writer.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "util/compiler.h"

enum log_level {
	LOG_LEVEL_ERR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	_LOG_LEVEL_MAX,
};

/* Messages above this level are dropped. Default LOG_LEVEL_INFO. */
void log_set_level(enum log_level level);

/* A command's own default: applied unless log_set_level() chose a level
 * (an explicit --log-level wins). */
void log_set_default_level(enum log_level level);

enum log_level log_get_level(void);

/* Parse "error", "warn", "info" or "debug". Returns 0 or -EINVAL. */
int log_level_from_string(const char *s, enum log_level *ret_level);

/* Write one line at level; err > 0 appends ": strerror(err)". */
void log_write(enum log_level level, int err, const char *fmt, ...)
    _printf_(3, 4);

void log_vwrite(enum log_level level, int err, const char *fmt, va_list ap)
    _printf_(3, 0);

#define log_err(...)   log_write(LOG_LEVEL_ERR, 0, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_LEVEL_WARN, 0, __VA_ARGS__)
#define log_info(...)  log_write(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_write(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_err_errno(e, ...) \
	log_write(LOG_LEVEL_ERR, (e) < 0 ? -(e) : (e), __VA_ARGS__)
#define log_warn_errno(e, ...) \
	log_write(LOG_LEVEL_WARN, (e) < 0 ? -(e) : (e), __VA_ARGS__)
#define log_info_errno(e, ...) \
	log_write(LOG_LEVEL_INFO, (e) < 0 ? -(e) : (e), __VA_ARGS__)
#define log_debug_errno(e, ...) \
	log_write(LOG_LEVEL_DEBUG, (e) < 0 ? -(e) : (e), __VA_ARGS__)

/*
 * Where finished lines go instead of stderr. write() receives one whole
 * line, '\n' included, and must not block or log; flush() waits until
 * the lines written so far are out (may be NULL). Both may run on any
 * thread.
 */
typedef void (*log_sink_write_fn)(const char *line, size_t n, void *userdata);
typedef void (*log_sink_flush_fn)(void *userdata);

struct log_sink {
	log_sink_write_fn write;
	log_sink_flush_fn flush;
	void *userdata;
};

/* Install sink (copied), or NULL to write to stderr directly again. Waits
 * for calls into the previous sink to return, so after this returns the
 * previous sink's userdata may be freed. Not from inside a sink. */
void log_set_sink(const struct log_sink *sink);

/* Write text (n bytes, no newline) as one line of its own, unformatted
 * and at any level: the audit events that share stderr with the log. */
void log_write_line(const char *text, size_t n);

/* Wait until the lines logged so far have reached stderr (a no-op
 * without a sink). */
void log_flush(void);

/* Print "paddock: fatal: ..." and exit(1). For start-up and broken
 * invariants only (STYLE.md §5.7). */
_noreturn_ void fatal(const char *fmt, ...) _printf_(1, 2);

/*
 * Escape untrusted bytes for a log line: printable ASCII is kept, '\\' and
 * '\'' are backslash-escaped, everything else becomes \xNN. At most
 * LIMIT_LOG_UNTRUSTED_BYTES input bytes are shown; a longer input ends in
 * "...". out is always NUL-terminated. Returns out.
 */
const char *log_escape(char *out, size_t outsz, const void *p, size_t n);

/* Size of an out buffer that always holds a full log_escape() result. */
#define LOG_ESCAPE_BYTES (4 * 256 + 4)

/* log_escape() between single quotes: 'text'. NULL p gives (null). */
const char *log_quote(char *out, size_t outsz, const void *p, size_t n);

const char *log_quote_str(char *out, size_t outsz, const char *s);

/* log_escape() of a NUL-terminated string, for text that is not quoted:
 * '\'' stays as it is. NULL gives (null). */
const char *log_escape_str(char *out, size_t outsz, const char *s);

#define LOG_QUOTE_BYTES (LOG_ESCAPE_BYTES + 2)

/*
 * The only way text a peer chose reaches a log line: LOG_U(p, n) (n
 * bytes) and LOG_US(str) (NUL-terminated) escape it with log_quote() into
 * a buffer that lives until the end of the enclosing block, for a "%s":
 *
 *	slog_info(s, "SOCKS5 %s refused", LOG_US(s->target));
 *
 * LOG_ES(str) escapes without quotes, for text that ends a sentence of
 * ours where quotes would read badly (a SOCKS5 server's reason string).
 *
 * tools/check-log-args fails lint on a session-owned string given to a
 * log function any other way (docs/hacking.md, "Logging peer text").
 */
#define LOG_U(p, n) \
	log_quote((char[LOG_QUOTE_BYTES]){ 0 }, LOG_QUOTE_BYTES, (p), (n))
#define LOG_US(str) \
	log_quote_str((char[LOG_QUOTE_BYTES]){ 0 }, LOG_QUOTE_BYTES, (str))
#define LOG_ES(str) \
	log_escape_str((char[LOG_ESCAPE_BYTES]){ 0 }, LOG_ESCAPE_BYTES, (str))
