/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics: the errors and warnings of one load, in the order found.
 *
 * Each diagnostic owns copies of its strings, so the list outlives the
 * config (a failed load frees the config and returns only the list). The
 * list keeps at most LIMIT_CONFIG_DIAGS entries; the last slot then says
 * how many more there were, and the error count stays exact so a dropped
 * error still fails the load. Allocation failures are remembered rather
 * than returned, which keeps the many reporting sites free of checks.
 */
#include "config/config_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "toml/toml.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/utf8.h"

struct config_diags {
	struct config_diag *v;
	size_t n;
	size_t n_errors;  /* including dropped ones */
	size_t n_dropped; /* beyond LIMIT_CONFIG_DIAGS */
	bool dropped_error;
	bool oom;
	char note[128]; /* the message of the "too_many_problems" note */
};

static const char *const config_severity_names[_CONFIG_SEVERITY_MAX] = {
	[CONFIG_SEVERITY_ERROR] = "error",
	[CONFIG_SEVERITY_WARNING] = "warning",
};

const char *
config_severity_name(enum config_severity s)
{
	return s < _CONFIG_SEVERITY_MAX ? config_severity_names[s] : NULL;
}

struct config_diags *
config_diags_new(void)
{
	return calloc(1, sizeof(struct config_diags));
}

static void
config_diag_done(struct config_diag *diag)
{
	/* The note's message is not allocated; see below. */
	if (strcmp(diag->code, "too_many_problems") != 0)
		free((char *)diag->message);
	free((char *)diag->origin.file);
	free((char *)diag->key);
	free((char *)diag->requirement.file);
	free((char *)diag->requirement_key);
}

struct config_diags *
config_diags_free(struct config_diags *d)
{
	if (!d)
		return NULL;
	for (size_t i = 0; i < d->n; i++)
		config_diag_done(&d->v[i]);
	free(d->v);
	free(d);
	return NULL;
}

size_t
config_diags_count(const struct config_diags *d)
{
	return d->n;
}

size_t
config_diags_count_severity(const struct config_diags *d,
    enum config_severity severity)
{
	size_t n = 0;

	if (severity == CONFIG_SEVERITY_ERROR)
		return d->n_errors;
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].severity == severity)
			n++;
	return n;
}

const struct config_diag *
config_diags_get(const struct config_diags *d, size_t i)
{
	return i < d->n ? &d->v[i] : NULL;
}

bool
config_diags_full(const struct config_diags *d)
{
	return d->n >= LIMIT_CONFIG_DIAGS;
}

bool
config_diags_oom(const struct config_diags *d)
{
	return d->oom;
}

void
config_diags_set_oom(struct config_diags *d)
{
	d->oom = true;
}

/*
 * The last slot becomes a note that counts what did not fit. Its message
 * lives in the list itself, so the note never fails to allocate.
 */
static void
config_diags_note_dropped(struct config_diags *d, enum config_severity sev)
{
	struct config_diag *last = &d->v[d->n - 1];

	if (last->message != d->note) {
		if (last->severity == CONFIG_SEVERITY_ERROR)
			d->dropped_error = true;
		config_diag_done(last);
		*last = (struct config_diag){ .code = "too_many_problems",
			.message = d->note };
		d->n_dropped++;
	}
	if (sev == CONFIG_SEVERITY_ERROR)
		d->dropped_error = true;
	d->n_dropped++;
	last->severity =
	    d->dropped_error ? CONFIG_SEVERITY_ERROR : CONFIG_SEVERITY_WARNING;
	(void)snprintf(d->note, sizeof(d->note),
	    "%zu more problems were found and not listed; fix the ones above "
	    "and check again",
	    d->n_dropped);
}

void
config_diags_addv(struct config_diags *d, enum config_severity sev,
    const char *code, const struct config_origin *origin, const char *key,
    const char *fmt, va_list ap)
{
	struct config_diag *diag;
	struct buf msg;

	if (sev == CONFIG_SEVERITY_ERROR)
		d->n_errors++;
	if (d->n >= LIMIT_CONFIG_DIAGS) {
		config_diags_note_dropped(d, sev);
		return;
	}
	if (!d->v) {
		d->v = calloc(LIMIT_CONFIG_DIAGS, sizeof(*d->v));
		if (!d->v) {
			d->oom = true;
			return;
		}
	}
	diag = &d->v[d->n];
	*diag = (struct config_diag){ .severity = sev, .code = code };

	buf_init(&msg, 0);
	diag->message = buf_vprintf(&msg, fmt, ap) < 0 ? NULL : buf_take(&msg);
	buf_done(&msg);
	if (origin) {
		diag->origin.line = origin->line;
		diag->origin.column = origin->column;
		if (origin->file)
			diag->origin.file = strdup(origin->file);
	}
	if (key)
		diag->key = strdup(key);
	if (!diag->message || (origin && origin->file && !diag->origin.file) ||
	    (key && !diag->key)) {
		config_diag_done(diag);
		d->oom = true;
		return;
	}
	d->n++;
}

void
config_diags_add_at(struct config_diags *d, enum config_severity sev,
    const char *code, const struct config_origin *origin, const char *key,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_diags_addv(d, sev, code, origin, key, fmt, ap);
	va_end(ap);
}

void
config_diags_add(struct config_diags *d, enum config_severity sev,
    const char *code, const struct config_origin *origin,
    const struct config_keypath *key, const char *fmt, ...)
{
	char *k = NULL;
	va_list ap;

	if (key && key->n > 0) {
		k = config_keypath_format(key);
		if (!k) {
			d->oom = true;
			return;
		}
	}
	va_start(ap, fmt);
	config_diags_addv(d, sev, code, origin, k, fmt, ap);
	va_end(ap);
	free(k);
}

struct config_origin
config_origin_of(const struct toml_value *v)
{
	struct toml_pos pos;

	if (!v)
		return (struct config_origin){ .file = NULL };
	pos = toml_value_pos(v);
	return (struct config_origin){ .file = toml_value_source(v),
		.line = pos.line,
		.column = pos.column };
}

struct config_origin
config_origin_of_key(const struct toml_value *t, size_t i)
{
	struct toml_pos pos = toml_table_key_pos(t, i);

	return (struct config_origin){
		.file = toml_value_source(toml_table_value(t, i)),
		.line = pos.line,
		.column = pos.column,
	};
}

void
config_keypath_push(struct config_keypath *kp, const char *seg, size_t len)
{
	if (kp->n < CONFIG_KEYPATH_MAX) {
		kp->seg[kp->n] = seg;
		kp->len[kp->n] = len;
	}
	kp->n++;
}

void
config_keypath_pop(struct config_keypath *kp)
{
	if (kp->n > 0)
		kp->n--;
}

char *
config_keypath_format(const struct config_keypath *kp)
{
	struct buf b;
	size_t n = kp->n < CONFIG_KEYPATH_MAX ? kp->n : CONFIG_KEYPATH_MAX;

	buf_init(&b, 0);
	for (size_t i = 0; i < n; i++)
		if ((i > 0 && buf_append_char(&b, '.') < 0) ||
		    toml_format_key(&b, kp->seg[i], kp->len[i]) < 0) {
			buf_done(&b);
			return NULL;
		}
	return buf_take(&b);
}

int
config_quote(struct buf *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	int r;

	r = buf_append_char(out, '"');
	while (r >= 0 && i < len && i < LIMIT_CONFIG_QUOTE_BYTES) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, s + len, &cp);

		if (n > 1 && i + n > LIMIT_CONFIG_QUOTE_BYTES)
			break; /* never cut a character in half */
		if (n > 1)
			r = buf_append(out, s + i, n);
		else if (n == 0 || u[i] < 0x20 || u[i] == 0x7f)
			r = buf_printf(out, "\\x%02x", u[i]);
		else if (u[i] == '"' || u[i] == '\\')
			r = buf_printf(out, "\\%c", u[i]);
		else
			r = buf_append_char(out, s[i]);
		i += n ? n : 1;
	}
	if (r >= 0 && i < len)
		r = buf_append_str(out, "...");
	if (r >= 0)
		r = buf_append_char(out, '"');
	return r;
}

char *
config_flag_source(const char *flag, const char *value)
{
	struct buf b;

	buf_init(&b, 0);
	if (buf_printf(&b, "%s %s", flag, value) < 0) {
		buf_done(&b);
		return NULL;
	}
	return buf_take(&b);
}

int
config_escape_text(struct buf *out, const char *text)
{
	int r = 0;

	for (const char *p = text; r >= 0 && *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f)
			r = buf_printf(out, "\\x%02x", c);
		else
			r = buf_append_char(out, (char)c);
	}
	return r;
}

int
config_diag_format(const struct config_diag *diag, struct buf *out)
{
	int r = 0;

	if (diag->origin.file) {
		r = config_escape_text(out, diag->origin.file);
		if (r >= 0 && diag->origin.line > 0)
			r = buf_printf(out, ":%u:%u", diag->origin.line,
			    diag->origin.column);
		if (r >= 0)
			r = buf_append_str(out, ": ");
	}
	if (r >= 0 && diag->key)
		r = buf_printf(out, "%s: ", diag->key);
	if (r >= 0)
		r = config_escape_text(out, diag->message);
	return r;
}

static json_t *
config_json_position(uint32_t v)
{
	return v > 0 ? json_integer(v) : json_null();
}

int
config_diags_set_requirement(struct config_diags *d,
    const struct config_origin *origin, const char *key)
{
	struct config_diag *diag;

	if (d->n == 0 || d->oom)
		return 0; /* the violation itself was dropped */
	diag = &d->v[d->n - 1];
	diag->requirement = *origin;
	diag->requirement.file = origin->file ? strdup(origin->file) : NULL;
	diag->requirement_key = strdup(key);
	if ((origin->file && !diag->requirement.file) ||
	    !diag->requirement_key) {
		d->oom = true;
		return -ENOMEM;
	}
	return 0;
}

static json_t *
config_diag_requirement_json(const struct config_diag *diag)
{
	if (!diag->requirement_key)
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o}", "file",
	    config_json_text(diag->requirement.file), "line",
	    config_json_position(diag->requirement.line), "column",
	    config_json_position(diag->requirement.column), "key",
	    config_json_text(diag->requirement_key));
}

json_t *
config_diag_to_json(const struct config_diag *diag)
{
	json_t *o = json_object();

	if (!o)
		return NULL;

	if (json_object_set_new(o, "code", json_string(diag->code)) < 0 ||
	    json_object_set_new(o, "message", config_json_text(diag->message)) <
		0 ||
	    json_object_set_new(o, "file",
		config_json_text(diag->origin.file)) < 0 ||
	    json_object_set_new(o, "line",
		config_json_position(diag->origin.line)) < 0 ||
	    json_object_set_new(o, "column",
		config_json_position(diag->origin.column)) < 0 ||
	    json_object_set_new(o, "key", config_json_text(diag->key)) < 0 ||
	    json_object_set_new(o, "requirement",
		config_diag_requirement_json(diag)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}
