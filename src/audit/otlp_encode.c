/* SPDX-License-Identifier: MIT */
/*
 * OTLP log bodies: see otlp_encode.h. Both encodings walk the same
 * attribute list (otlp_encode_attrs()), so they cannot disagree on a name
 * or a type. The protobuf messages are our own minimal otlp.proto,
 * compiled by protoc-c; everything a request points to lives in arrays
 * allocated per call, so packing needs no per-field allocation.
 */
#include "audit/otlp_encode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit/otlp.pb-c.h"
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
 * JSON (OTLP/JSON: int64 and fixed64 values are decimal strings).
 */
static json_t *
otlp_encode_json_value(const struct otlp_attr *a)
{
	char num[24];

	switch (a->type) {
	case OTLP_ATTR_INT:
		(void)snprintf(num, sizeof(num), "%lld", (long long)a->i);
		return json_pack("{s:s}", "intValue", num);
	case OTLP_ATTR_BOOL:
		return json_pack("{s:b}", "boolValue", a->b);
	case OTLP_ATTR_STRING:
	case _OTLP_ATTR_MAX:
		break;
	}
	return json_pack("{s:s}", "stringValue", a->s);
}

static json_t *
otlp_encode_json_attrs(const struct otlp_attr *attrs, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++)
		if (json_array_append_new(arr,
			json_pack("{s:s,s:o}", "key", attrs[i].key, "value",
			    otlp_encode_json_value(&attrs[i]))) < 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

static json_t *
otlp_encode_json_resource(const struct otlp_resource *res)
{
	const struct otlp_attr attrs[] = {
		{ .key = "service.name", .s = res->service_name },
		{ .key = "service.version", .s = res->service_version },
		{ .key = "env", .s = res->environment },
	};

	return json_pack("{s:o}", "attributes",
	    otlp_encode_json_attrs(attrs, sizeof(attrs) / sizeof(attrs[0])));
}

static json_t *
otlp_encode_json_record(const struct audit_event *ev,
    const struct otlp_resource *res, uint64_t observed_ns)
{
	struct otlp_attr attrs[OTLP_ATTRS_MAX];
	char ts[AUDIT_TIMESTAMP_BYTES], t[24], o[24];
	size_t n = otlp_encode_attrs(ev, res->meta, ts, attrs);

	(void)snprintf(t, sizeof(t), "%llu",
	    (unsigned long long)otlp_encode_ns(ev->timestamp_ms));
	(void)snprintf(o, sizeof(o), "%llu", (unsigned long long)observed_ns);
	return json_pack("{s:s,s:s,s:i,s:s,s:{s:s},s:o}", "timeUnixNano", t,
	    "observedTimeUnixNano", o, "severityNumber", OTLP_SEVERITY_INFO,
	    "severityText", "INFO", "body", "stringValue", AUDIT_EVENT_NAME,
	    "attributes", otlp_encode_json_attrs(attrs, n));
}

int
otlp_encode_json(const struct audit_event *evs, size_t n,
    const struct otlp_resource *res, uint64_t observed_ns, struct buf *out)
{
	json_t *records = json_array();
	json_t *req;
	char *text;
	int r;

	for (size_t i = 0; records && i < n; i++)
		if (json_array_append_new(records,
			otlp_encode_json_record(&evs[i], res, observed_ns)) <
		    0) {
			json_decref(records);
			records = NULL;
		}
	if (!records)
		return -ENOMEM;
	req = json_pack("{s:[{s:o,s:[{s:{s:s,s:s},s:o}]}]}", "resourceLogs",
	    "resource", otlp_encode_json_resource(res), "scopeLogs", "scope",
	    "name", OTLP_SCOPE_NAME, "version", res->service_version,
	    "logRecords", records);
	if (!req)
		return -ENOMEM;
	text = json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(req);
	if (!text)
		return -ENOMEM;
	r = buf_append_str(out, text);
	free(text);
	return r;
}

/*
 * Protobuf.
 */
struct otlp_pb {
	Paddock__Otlp__LogRecord *records;
	Paddock__Otlp__LogRecord **record_ptrs;
	Paddock__Otlp__KeyValue *kvs;
	Paddock__Otlp__KeyValue **kv_ptrs;
	Paddock__Otlp__AnyValue *values;
	char (*ts)[AUDIT_TIMESTAMP_BYTES];
};

static void
otlp_pb_free(struct otlp_pb *pb)
{
	free(pb->records);
	free(pb->record_ptrs);
	free(pb->kvs);
	free(pb->kv_ptrs);
	free(pb->values);
	free(pb->ts);
}

/* Fill one KeyValue and its AnyValue from a; the strings stay borrowed
 * (protobuf-c only reads them while packing). */
static void
otlp_pb_kv(const struct otlp_attr *a, Paddock__Otlp__KeyValue *kv,
    Paddock__Otlp__AnyValue *v)
{
	paddock__otlp__any_value__init(v);
	switch (a->type) {
	case OTLP_ATTR_INT:
		v->value_case = PADDOCK__OTLP__ANY_VALUE__VALUE_INT_VALUE;
		v->int_value = a->i;
		break;
	case OTLP_ATTR_BOOL:
		v->value_case = PADDOCK__OTLP__ANY_VALUE__VALUE_BOOL_VALUE;
		v->bool_value = a->b;
		break;
	case OTLP_ATTR_STRING:
	case _OTLP_ATTR_MAX:
		v->value_case = PADDOCK__OTLP__ANY_VALUE__VALUE_STRING_VALUE;
		v->string_value = (char *)(uintptr_t)a->s;
		break;
	}
	paddock__otlp__key_value__init(kv);
	kv->key = (char *)(uintptr_t)a->key;
	kv->value = v;
}

static int
otlp_pb_alloc(struct otlp_pb *pb, size_t n)
{
	size_t nkv = n * OTLP_ATTRS_MAX;

	pb->records = calloc(n, sizeof(*pb->records));
	pb->record_ptrs = calloc(n, sizeof(*pb->record_ptrs));
	pb->kvs = calloc(nkv, sizeof(*pb->kvs));
	pb->kv_ptrs = calloc(nkv, sizeof(*pb->kv_ptrs));
	/* One body per record besides the attribute values. */
	pb->values = calloc(nkv + n, sizeof(*pb->values));
	pb->ts = calloc(n, sizeof(*pb->ts));
	if (!pb->records || !pb->record_ptrs || !pb->kvs || !pb->kv_ptrs ||
	    !pb->values || !pb->ts)
		return -ENOMEM;
	return 0;
}

int
otlp_encode_proto(const struct audit_event *evs, size_t n,
    const struct otlp_resource *res, uint64_t observed_ns, struct buf *out)
{
	const struct otlp_attr rattrs[] = {
		{ .key = "service.name", .s = res->service_name },
		{ .key = "service.version", .s = res->service_version },
		{ .key = "env", .s = res->environment },
	};
	Paddock__Otlp__KeyValue rkv[3], *rkv_ptrs[3];
	Paddock__Otlp__AnyValue rval[3];
	Paddock__Otlp__Resource resource;
	Paddock__Otlp__InstrumentationScope scope;
	Paddock__Otlp__ScopeLogs sl, *sl_ptr = &sl;
	Paddock__Otlp__ResourceLogs rl, *rl_ptr = &rl;
	Paddock__Otlp__ExportLogsServiceRequest req;
	struct otlp_pb pb = { 0 };
	size_t size;
	int r;

	r = otlp_pb_alloc(&pb, n);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct otlp_attr attrs[OTLP_ATTRS_MAX];
		Paddock__Otlp__LogRecord *lr = &pb.records[i];
		Paddock__Otlp__AnyValue *body =
		    &pb.values[n * OTLP_ATTRS_MAX + i];
		size_t base = i * OTLP_ATTRS_MAX;
		size_t na =
		    otlp_encode_attrs(&evs[i], res->meta, pb.ts[i], attrs);

		for (size_t j = 0; j < na; j++) {
			otlp_pb_kv(&attrs[j], &pb.kvs[base + j],
			    &pb.values[base + j]);
			pb.kv_ptrs[base + j] = &pb.kvs[base + j];
		}
		paddock__otlp__any_value__init(body);
		body->value_case = PADDOCK__OTLP__ANY_VALUE__VALUE_STRING_VALUE;
		body->string_value = (char *)(uintptr_t)AUDIT_EVENT_NAME;
		paddock__otlp__log_record__init(lr);
		lr->time_unix_nano = otlp_encode_ns(evs[i].timestamp_ms);
		lr->observed_time_unix_nano = observed_ns;
		lr->severity_number = OTLP_SEVERITY_INFO;
		lr->severity_text = (char *)(uintptr_t) "INFO";
		lr->body = body;
		lr->n_attributes = na;
		lr->attributes = &pb.kv_ptrs[base];
		pb.record_ptrs[i] = lr;
	}
	for (size_t j = 0; j < 3; j++) {
		otlp_pb_kv(&rattrs[j], &rkv[j], &rval[j]);
		rkv_ptrs[j] = &rkv[j];
	}
	paddock__otlp__resource__init(&resource);
	resource.n_attributes = 3;
	resource.attributes = rkv_ptrs;
	paddock__otlp__instrumentation_scope__init(&scope);
	scope.name = (char *)(uintptr_t)OTLP_SCOPE_NAME;
	scope.version = (char *)(uintptr_t)res->service_version;
	paddock__otlp__scope_logs__init(&sl);
	sl.scope = &scope;
	sl.n_log_records = n;
	sl.log_records = pb.record_ptrs;
	paddock__otlp__resource_logs__init(&rl);
	rl.resource = &resource;
	rl.n_scope_logs = 1;
	rl.scope_logs = &sl_ptr;
	paddock__otlp__export_logs_service_request__init(&req);
	req.n_resource_logs = 1;
	req.resource_logs = &rl_ptr;

	size =
	    paddock__otlp__export_logs_service_request__get_packed_size(&req);
	r = buf_reserve(out, size);
	if (r < 0)
		goto out;
	out->len += paddock__otlp__export_logs_service_request__pack(&req,
	    (uint8_t *)out->data + out->len);
out:
	otlp_pb_free(&pb);
	return r;
}
