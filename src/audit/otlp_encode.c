/* SPDX-License-Identifier: MIT */
/*
 * OTLP log bodies: see otlp_encode.h. Both encodings walk the same
 * attribute list (otlp_encode_attrs()), so they cannot disagree on a name
 * or a type.
 *
 * Both are written by hand, straight into the output buffer: this runs for
 * every request the proxy serves, and the generic encoders cost too much
 * (measured per event on the bench machine: jansson's json_pack() and
 * json_dumps() about 49 us, protobuf-c's packer about 6 us, since it sizes
 * every nested message again at each level; these take well under 1 us).
 * The protobuf layout is the one otlp.proto declares; the unit tests parse
 * what we write with the code protoc-c generates from it, and with a wire
 * reader of their own that checks the field numbers against the OTLP
 * specification.
 */
#include "audit/otlp_encode.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

static void
otlp_encode_str(struct otlp_attr *a, const char *key, const char *s)
{
	*a = (struct otlp_attr){ .key = key, .type = OTLP_ATTR_STRING, .s = s };
}

size_t
otlp_encode_attrs(const struct audit_event *ev, const struct audit_meta *meta,
    char ts[AUDIT_TIMESTAMP_BYTES], struct otlp_attr *out)
{
	size_t n = 0;

	audit_event_timestamp(ev->timestamp_ms, ts);
	otlp_encode_str(&out[n++], "event.name", AUDIT_EVENT_NAME);
	otlp_encode_str(&out[n++], "event.timestamp", ts);
	if (meta && meta->conversation_id)
		otlp_encode_str(&out[n++], "conversation.id",
		    meta->conversation_id);
	if (meta && meta->app_version)
		otlp_encode_str(&out[n++], "app.version", meta->app_version);
	if (meta && meta->user_account_id)
		otlp_encode_str(&out[n++], "user.account_id",
		    meta->user_account_id);
	if (meta && meta->execution_id)
		otlp_encode_str(&out[n++], "execution.id", meta->execution_id);
	otlp_encode_str(&out[n++], "network.policy.scope",
	    policy_scope_name(ev->scope));
	otlp_encode_str(&out[n++], "network.policy.decision",
	    policy_decision_name(ev->decision));
	otlp_encode_str(&out[n++], "network.policy.source",
	    policy_source_name(ev->source));
	otlp_encode_str(&out[n++], "network.policy.reason", ev->reason);
	otlp_encode_str(&out[n++], "network.policy.message",
	    ev->message ? ev->message : "");
	otlp_encode_str(&out[n++], "network.transport.protocol",
	    policy_protocol_name(ev->protocol));
	otlp_encode_str(&out[n++], "server.address", ev->host);
	out[n++] = (struct otlp_attr){ .key = "server.port",
		.type = OTLP_ATTR_INT,
		.i = ev->port };
	otlp_encode_str(&out[n++], "http.request.method",
	    ev->method[0] ? ev->method : "none");
	otlp_encode_str(&out[n++], "client.address",
	    ev->client[0] ? ev->client : "unknown");
	out[n++] = (struct otlp_attr){ .key = "network.policy.override",
		.type = OTLP_ATTR_BOOL,
		.b = ev->override };
	return n;
}

static uint64_t
otlp_encode_ns(int64_t ms)
{
	return ms > 0 ? (uint64_t)ms * 1000000u : 0;
}

/*
 * OTLP/JSON: lowerCamelCase names; int64 and fixed64 values are decimal
 * strings; severityNumber is the enum's number.
 */

/* A JSON string: '"', '\\' and control bytes escaped, the rest as is (the
 * event's text is printable ASCII, metadata checked UTF-8). */
static int
otlp_json_str(struct buf *b, const char *s)
{
	int r = buf_append_char(b, '"');

	while (r >= 0 && *s) {
		size_t n = strcspn(s,
		    "\"\\\x01\x02\x03\x04\x05\x06\x07\x08\t\n"
		    "\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14"
		    "\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d"
		    "\x1e\x1f");

		r = buf_append(b, s, n);
		s += n;
		if (r >= 0 && *s) {
			if (*s == '"' || *s == '\\')
				r = buf_printf(b, "\\%c", *s);
			else
				r = buf_printf(b, "\\u%04x", (unsigned char)*s);
			s++;
		}
	}
	return r < 0 ? r : buf_append_char(b, '"');
}

static int
otlp_json_attrs(struct buf *b, const struct otlp_attr *a, size_t n)
{
	int r = buf_append_char(b, '[');

	for (size_t i = 0; r >= 0 && i < n; i++) {
		r = buf_append_str(b, i ? ",{\"key\":" : "{\"key\":");
		if (r >= 0)
			r = otlp_json_str(b, a[i].key);
		if (r < 0)
			break;
		switch (a[i].type) {
		case OTLP_ATTR_INT:
			r = buf_printf(b,
			    ",\"value\":{\"intValue\":\"%" PRId64 "\"}}",
			    a[i].i);
			break;
		case OTLP_ATTR_BOOL:
			r = buf_printf(b, ",\"value\":{\"boolValue\":%s}}",
			    a[i].b ? "true" : "false");
			break;
		case OTLP_ATTR_STRING:
		case _OTLP_ATTR_MAX:
			r = buf_append_str(b, ",\"value\":{\"stringValue\":");
			if (r >= 0)
				r = otlp_json_str(b, a[i].s);
			if (r >= 0)
				r = buf_append_str(b, "}}");
			break;
		}
	}
	return r < 0 ? r : buf_append_char(b, ']');
}

static void
otlp_encode_resource_attrs(const struct otlp_resource *res,
    struct otlp_attr out[3])
{
	otlp_encode_str(&out[0], "service.name", res->service_name);
	otlp_encode_str(&out[1], "service.version", res->service_version);
	otlp_encode_str(&out[2], "env", res->environment);
}

static int
otlp_json_record(struct buf *b, const struct audit_event *ev,
    const struct otlp_resource *res, uint64_t observed_ns)
{
	struct otlp_attr attrs[OTLP_ATTRS_MAX];
	char ts[AUDIT_TIMESTAMP_BYTES];
	size_t n = otlp_encode_attrs(ev, res->meta, ts, attrs);
	int r;

	r = buf_printf(b,
	    "{\"timeUnixNano\":\"%" PRIu64
	    "\",\"observedTimeUnixNano\":\"%" PRIu64
	    "\",\"severityNumber\":%d,\"severityText\":\"INFO\","
	    "\"body\":{\"stringValue\":",
	    otlp_encode_ns(ev->timestamp_ms), observed_ns, OTLP_SEVERITY_INFO);
	if (r >= 0)
		r = otlp_json_str(b, AUDIT_EVENT_NAME);
	if (r >= 0)
		r = buf_append_str(b, "},\"attributes\":");
	if (r >= 0)
		r = otlp_json_attrs(b, attrs, n);
	return r < 0 ? r : buf_append_char(b, '}');
}

int
otlp_encode_json(const struct audit_event *evs, size_t n,
    const struct otlp_resource *res, uint64_t observed_ns, struct buf *out)
{
	struct otlp_attr rattrs[3];
	int r;

	otlp_encode_resource_attrs(res, rattrs);
	r = buf_append_str(out,
	    "{\"resourceLogs\":[{\"resource\":{"
	    "\"attributes\":");
	if (r >= 0)
		r = otlp_json_attrs(out, rattrs, 3);
	if (r >= 0)
		r = buf_append_str(out,
		    "},\"scopeLogs\":[{\"scope\":{\"name\":");
	if (r >= 0)
		r = otlp_json_str(out, OTLP_SCOPE_NAME);
	if (r >= 0)
		r = buf_append_str(out, ",\"version\":");
	if (r >= 0)
		r = otlp_json_str(out, res->service_version);
	if (r >= 0)
		r = buf_append_str(out, "},\"logRecords\":[");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (i)
			r = buf_append_char(out, ',');
		if (r >= 0)
			r = otlp_json_record(out, &evs[i], res, observed_ns);
	}
	return r < 0 ? r : buf_append_str(out, "]}]}]}");
}

/*
 * Protobuf (https://protobuf.dev/programming-guides/encoding/): sizes are
 * computed bottom-up first, then everything is written in one pass into
 * a buffer of exactly that size. Every field number here is below 16, so
 * every tag is one byte. Fields are written in field-number order, and a
 * zero scalar is left out, as proto3 encoders do.
 */
enum {
	PB_VARINT = 0,
	PB_FIXED64 = 1,
	PB_LEN = 2,
};

#define PB_TAG(num, wt) ((uint8_t)((num) << 3 | (wt)))

static size_t
pb_varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* A length-delimited field of n bytes, tag included. */
static size_t
pb_len_size(size_t n)
{
	return 1 + pb_varint_size(n) + n;
}

static uint8_t *
pb_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static uint8_t *
pb_put_len(uint8_t *p, uint32_t num, size_t n)
{
	*p++ = PB_TAG(num, PB_LEN);
	return pb_put_varint(p, n);
}

static uint8_t *
pb_put_str(uint8_t *p, uint32_t num, const char *s, size_t n)
{
	p = pb_put_len(p, num, n);
	memcpy(p, s, n);
	return p + n;
}

static uint8_t *
pb_put_fixed64(uint8_t *p, uint32_t num, uint64_t v)
{
	*p++ = PB_TAG(num, PB_FIXED64);
	for (int i = 0; i < 8; i++)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

/* AnyValue: string_value = 1, bool_value = 2, int_value = 3 (a oneof: a
 * false or a 0 is still written). */
static size_t
pb_any_size(const struct otlp_attr *a)
{
	switch (a->type) {
	case OTLP_ATTR_INT:
		return 1 + pb_varint_size((uint64_t)a->i);
	case OTLP_ATTR_BOOL:
		return 2;
	case OTLP_ATTR_STRING:
	case _OTLP_ATTR_MAX:
		break;
	}
	return pb_len_size(strlen(a->s));
}

static uint8_t *
pb_put_any(uint8_t *p, const struct otlp_attr *a)
{
	switch (a->type) {
	case OTLP_ATTR_INT:
		*p++ = PB_TAG(3, PB_VARINT);
		return pb_put_varint(p, (uint64_t)a->i);
	case OTLP_ATTR_BOOL:
		*p++ = PB_TAG(2, PB_VARINT);
		*p++ = a->b ? 1 : 0;
		return p;
	case OTLP_ATTR_STRING:
	case _OTLP_ATTR_MAX:
		break;
	}
	return pb_put_str(p, 1, a->s, strlen(a->s));
}

/* KeyValue: key = 1, value = 2. */
static size_t
pb_kv_size(const struct otlp_attr *a)
{
	return pb_len_size(strlen(a->key)) + pb_len_size(pb_any_size(a));
}

static uint8_t *
pb_put_kv(uint8_t *p, uint32_t num, const struct otlp_attr *a)
{
	p = pb_put_len(p, num, pb_kv_size(a));
	p = pb_put_str(p, 1, a->key, strlen(a->key));
	p = pb_put_len(p, 2, pb_any_size(a));
	return pb_put_any(p, a);
}

static size_t
pb_kvs_size(const struct otlp_attr *a, size_t n)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += pb_len_size(pb_kv_size(&a[i]));
	return total;
}

static const struct otlp_attr pb_body = { .key = "",
	.type = OTLP_ATTR_STRING,
	.s = AUDIT_EVENT_NAME };

/* LogRecord: time_unix_nano = 1 (fixed64), severity_number = 2,
 * severity_text = 3, body = 5, attributes = 6, observed_time_unix_nano =
 * 11 (fixed64). */
static size_t
pb_record_size(uint64_t t, uint64_t observed, const struct otlp_attr *a,
    size_t n)
{
	return (t ? 9 : 0) + 1 + pb_varint_size(OTLP_SEVERITY_INFO) +
	    pb_len_size(4) + pb_len_size(pb_any_size(&pb_body)) +
	    pb_kvs_size(a, n) + (observed ? 9 : 0);
}

static uint8_t *
pb_put_record(uint8_t *p, size_t size, uint64_t t, uint64_t observed,
    const struct otlp_attr *a, size_t n)
{
	p = pb_put_len(p, 2, size); /* ScopeLogs.log_records = 2 */
	if (t)
		p = pb_put_fixed64(p, 1, t);
	*p++ = PB_TAG(2, PB_VARINT);
	p = pb_put_varint(p, OTLP_SEVERITY_INFO);
	p = pb_put_str(p, 3, "INFO", 4);
	p = pb_put_len(p, 5, pb_any_size(&pb_body));
	p = pb_put_any(p, &pb_body);
	for (size_t i = 0; i < n; i++)
		p = pb_put_kv(p, 6, &a[i]);
	if (observed)
		p = pb_put_fixed64(p, 11, observed);
	return p;
}

int
otlp_encode_proto(const struct audit_event *evs, size_t n,
    const struct otlp_resource *res, uint64_t observed_ns, struct buf *out)
{
	struct otlp_attr rattrs[3], attrs[OTLP_ATTRS_MAX];
	char ts[AUDIT_TIMESTAMP_BYTES];
	size_t *sizes, resource, scope, sl, rl, total, na, ns, nv;
	uint8_t *p, *start;
	int r;

	sizes = calloc(n ? n : 1, sizeof(*sizes));
	if (!sizes)
		return -ENOMEM;
	/* Sizes, bottom-up. */
	otlp_encode_resource_attrs(res, rattrs);
	resource = pb_kvs_size(rattrs, 3); /* Resource.attributes = 1 */
	ns = strlen(OTLP_SCOPE_NAME);
	nv = strlen(res->service_version);
	scope = pb_len_size(ns) + (nv ? pb_len_size(nv) : 0);
	sl = pb_len_size(scope); /* ScopeLogs.scope = 1 */
	for (size_t i = 0; i < n; i++) {
		na = otlp_encode_attrs(&evs[i], res->meta, ts, attrs);
		sizes[i] = pb_record_size(otlp_encode_ns(evs[i].timestamp_ms),
		    observed_ns, attrs, na);
		sl += pb_len_size(sizes[i]);
	}
	/* ResourceLogs: resource = 1, scope_logs = 2. */
	rl = pb_len_size(resource) + pb_len_size(sl);
	total = pb_len_size(rl); /* resource_logs = 1 */
	r = buf_reserve(out, total);
	if (r < 0)
		goto out;
	/* Then everything, in one pass. */
	start = p = (uint8_t *)out->data + out->len;
	p = pb_put_len(p, 1, rl);
	p = pb_put_len(p, 1, resource);
	for (size_t j = 0; j < 3; j++)
		p = pb_put_kv(p, 1, &rattrs[j]);
	p = pb_put_len(p, 2, sl);
	p = pb_put_len(p, 1, scope);
	p = pb_put_str(p, 1, OTLP_SCOPE_NAME, ns);
	if (nv)
		p = pb_put_str(p, 2, res->service_version, nv);
	for (size_t i = 0; i < n; i++) {
		na = otlp_encode_attrs(&evs[i], res->meta, ts, attrs);
		p = pb_put_record(p, sizes[i],
		    otlp_encode_ns(evs[i].timestamp_ms), observed_ns, attrs,
		    na);
	}
	/* The sizes and the writes walk the same data. */
	assert((size_t)(p - start) == total);
	out->len += total;
	out->data[out->len] = '\0';
out:
	free(sizes);
	return r;
}
