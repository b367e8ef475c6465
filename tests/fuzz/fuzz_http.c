/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the HTTP head parser, the chunked body decoder, request targets,
 * Host parsing and forwarded-head serialisation. The first input byte
 * picks request or response mode and how the rest is split into feeds, so
 * every split point is exercised. Checks, for any input:
 *  - the parser never consumes more than it was given, stops at the end
 *    of a head, and is deterministic: one feed or many give the same
 *    result and status, and for a complete head the same head and length;
 *  - an error carries a status and a reason; a parsed head's spans lie
 *    inside its text and its framing is consistent;
 *  - a forwarded request head never contains a hop-by-hop field, and
 *    parses again;
 *  - the same bytes as an upstream proxy URL or a NO_PROXY list parse
 *    without harm.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "proxy/upstream.h"
#include "util/buf.h"
#include "wire/http_head.h"
#include "wire/http_target.h"
#include "wire/http_write.h"

struct outcome {
	enum parse_result r;
	size_t consumed;
	unsigned status;
};

static struct outcome
parse(struct http_head *h, struct http_parser *p, enum http_kind kind,
    const uint8_t *data, size_t size, size_t step)
{
	struct outcome o = { .r = PARSE_AGAIN };

	http_head_init(h, kind);
	http_parser_init(p, kind, h);
	while (o.r == PARSE_AGAIN && o.consumed < size) {
		size_t n = size - o.consumed < step ? size - o.consumed : step,
		       used = 0;

		o.r = http_parser_feed_head(p, (const char *)data + o.consumed,
		    n, &used);
		if (used > n)
			abort();
		o.consumed += used;
		if (o.r == PARSE_AGAIN && used != n)
			abort();
	}
	if (o.r == PARSE_ERROR) {
		o.status = p->error_status;
		if (!p->error || p->error_status < 400)
			abort();
	}
	return o;
}

static void
check_head(const struct http_head *h)
{
	const size_t len = h->text.len;

	for (size_t i = 0; i < h->n_fields; i++) {
		const struct http_field *f = &h->fields[i];

		if ((size_t)f->name.off + f->name.len > len ||
		    (size_t)f->value.off + f->value.len > len)
			abort();
		if (strlen(http_head_str(h, f->value)) != f->value.len)
			abort();
		/* A field is named exactly when its name is a known one. */
		if (f->id !=
			http_field_id_of(http_head_str(h, f->name),
			    f->name.len) ||
		    (f->id != HTTP_FIELD_OTHER &&
			http_head_find(h, http_head_str(h, f->name), 0) >
			    (ssize_t)i))
			abort();
	}
	if (h->body == HTTP_BODY_LENGTH && h->content_length == 0)
		abort();
	if (h->body != HTTP_BODY_LENGTH && h->content_length != 0)
		abort();
}

static void
sink(void *userdata, const char *p, size_t n)
{
	(void)p;
	*(size_t *)userdata += n;
}

static void
check_forward(const struct http_head *h)
{
	struct http_target t;
	struct buf out;
	struct http_head again;
	struct http_parser p;
	struct outcome o;

	if (http_target_parse(http_head_str(h, h->target), h->target.len,
		h->method == HTTP_CONNECT, &t) != HTTP_TARGET_OK ||
	    t.form != HTTP_TARGET_ABSOLUTE)
		return;
	buf_init(&out, 0);
	if (http_write_request(h, &t, &t.authority, false, NULL, &out) < 0) {
		buf_done(&out);
		return;
	}
	o = parse(&again, &p, HTTP_KIND_REQUEST, (const uint8_t *)buf_str(&out),
	    out.len, out.len);
	/* What we send must parse, with our own framing; only a Host we
	 * added may push it past our own head limits. */
	if (o.r == PARSE_ERROR && o.status == 431 &&
	    http_head_find(h, "host", 0) < 0) {
		http_head_done(&again);
		buf_done(&out);
		return;
	}
	if (o.r != PARSE_DONE || o.consumed != out.len)
		abort();
	for (size_t i = 0; i < again.n_fields; i++) {
		const char *name = http_head_str(&again, again.fields[i].name);

		if (strcasecmp(name, "connection") == 0 ||
		    strcasecmp(name, "keep-alive") == 0 ||
		    strcasecmp(name, "proxy-authorization") == 0 ||
		    strcasecmp(name, "upgrade") == 0 ||
		    strcasecmp(name, "te") == 0)
			abort();
	}
	if (again.body != h->body || again.content_length != h->content_length)
		abort();
	http_head_done(&again);
	buf_done(&out);
}

static char *fuzz_env_text;

static const char *
fuzz_getenv(const char *name)
{
	if (strcmp(name, "NO_PROXY") == 0 || strcmp(name, "HTTP_PROXY") == 0)
		return fuzz_env_text;
	return NULL;
}

/* The environment parsers: a proxy URL and a NO_PROXY list. */
static void
check_upstream(const uint8_t *data, size_t size)
{
	struct upstream_proxy proxy;
	struct upstream *u;

	/* Not strndup(): the input need not hold a NUL anywhere. */
	fuzz_env_text = malloc(size + 1);
	if (!fuzz_env_text)
		return;
	memcpy(fuzz_env_text, data, size);
	fuzz_env_text[size] = '\0';
	if (upstream_parse_url(fuzz_env_text, &proxy) == 0)
		free(proxy.authorization);
	u = upstream_new(fuzz_getenv, NULL, NULL);
	if (u) {
		(void)upstream_select(u, "example.com", true);
		(void)upstream_bypassed(u, "10.1.2.3");
		(void)upstream_bypassed(u, "::1");
		upstream_free(u);
	}
	free(fuzz_env_text);
	fuzz_env_text = NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_head h1, h2;
	struct http_parser p1, p2;
	struct outcome a, b;
	enum http_kind kind;
	size_t step;

	if (size < 1)
		return 0;
	kind = data[0] & 1 ? HTTP_KIND_RESPONSE : HTTP_KIND_REQUEST;
	step = (size_t)(data[0] >> 1) + 1;
	data++;
	size--;
	a = parse(&h1, &p1, kind, data, size, size ? size : 1);
	b = parse(&h2, &p2, kind, data, size, step);
	if (a.r != b.r || a.status != b.status)
		abort();
	if (a.r == PARSE_DONE && a.consumed != b.consumed)
		abort();
	if (a.r == PARSE_DONE) {
		if (h1.n_fields != h2.n_fields || h1.body != h2.body ||
		    h1.content_length != h2.content_length ||
		    h1.keep_alive != h2.keep_alive)
			abort();
		check_head(&h1);
		if (kind == HTTP_KIND_REQUEST)
			check_forward(&h1);
		if (h1.body == HTTP_BODY_CHUNKED) {
			size_t decoded = 0, used = 0;
			enum parse_result r;

			r = http_parser_feed_body(&p1,
			    (const char *)data + a.consumed, size - a.consumed,
			    &used, sink, &decoded);
			/* Decoded bytes come out of consumed ones. */
			if (used > size - a.consumed ||
			    (r != PARSE_ERROR && decoded > used))
				abort();
		}
	}
	if (size > 0) {
		struct http_authority auth;
		struct http_target t;

		(void)http_authority_parse((const char *)data, size, 80, false,
		    &auth);
		(void)http_target_parse((const char *)data, size, data[0] & 1,
		    &t);
		check_upstream(data, size);
	}
	http_head_done(&h1);
	http_head_done(&h2);
	return 0;
}
