/* SPDX-License-Identifier: MIT */
/*
 * OTLP/HTTP log export bodies from audit events (docs/observability.md):
 * one ExportLogsServiceRequest with one resource (service.name,
 * service.version, env), one scope and one log record per event, in the
 * JSON encoding (OTLP/JSON: lowerCamelCase names, 64-bit integers as
 * strings) or the protobuf encoding. Pure: no I/O, no locks, no logging.
 *
 * A record's body is the event name, its severity INFO (9), its
 * attributes the event's fields with their natural types: server.port an
 * int, network.policy.override a bool, the rest strings. timeUnixNano is
 * the event's own time; observedTimeUnixNano the export's.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "audit/audit_event.h"

struct buf;

#define OTLP_SCOPE_NAME    "codex_otel.network_proxy"
#define OTLP_SEVERITY_INFO 9
#define OTLP_ATTRS_MAX     17 /* all otlp_encode_attrs() may emit */

/* The resource every record of a request shares. Borrowed. */
struct otlp_resource {
	const char *service_name; /* "paddock" */
	const char *service_version;
	const char *environment;       /* the env attribute */
	const struct audit_meta *meta; /* optional; NULL fields absent */
};

enum otlp_attr_type {
	OTLP_ATTR_STRING,
	OTLP_ATTR_INT,
	OTLP_ATTR_BOOL,
	_OTLP_ATTR_MAX,
};

struct otlp_attr {
	const char *key;
	enum otlp_attr_type type;
	const char *s; /* borrowed from the event, meta or ts */
	int64_t i;
	bool b;
};

/* The attributes of ev, in the order of the JSON-lines audit stream, into
 * out (OTLP_ATTRS_MAX entries); ts receives the event's timestamp text.
 * Returns how many. */
size_t otlp_encode_attrs(const struct audit_event *ev,
    const struct audit_meta *meta, char ts[AUDIT_TIMESTAMP_BYTES],
    struct otlp_attr *out);

/* Append the body for n events (n >= 1) to out. observed_ns is the export
 * time in Unix nanoseconds. Return 0, -ENOMEM or -E2BIG (out's cap). */
int otlp_encode_json(const struct audit_event *evs, size_t n,
    const struct otlp_resource *res, uint64_t observed_ns, struct buf *out);
int otlp_encode_proto(const struct audit_event *evs, size_t n,
    const struct otlp_resource *res, uint64_t observed_ns, struct buf *out);
