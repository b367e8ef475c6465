/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.1 message heads: an incremental, strict parser built on llhttp
 * (compiled in strict mode, no lenient flags), the parsed head, and the
 * framing decision for the body that follows (RFC 9112 §6).
 *
 * The parser is pure: no I/O, no libevent. It consumes bytes, says how many
 * it consumed, and stops exactly at the end of a head so that bytes after
 * it (a body, a pipelined request, a TLS ClientHello after CONNECT) stay
 * with the caller. llhttp callbacks only copy spans into the head's bounded
 * text buffer; every decision is taken after llhttp_execute() returns.
 *
 * Beyond llhttp's own checks the parser refuses, as request smuggling
 * vectors: obsolete line folding, a Transfer-Encoding other than a lone
 * "chunked", more than LIMIT_HTTP_HEADERS fields, and HTTP versions other
 * than 1.0 and 1.1. Content-Length together with Transfer-Encoding,
 * repeated Content-Length, malformed chunk sizes and NUL/CR/LF inside
 * values are refused by llhttp itself.
 *
 * Thread rules: a parser and its head belong to one thread at a time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "llhttp.h"

#include "util/buf.h"
#include "wire/parse.h"

enum http_kind {
	HTTP_KIND_REQUEST,
	HTTP_KIND_RESPONSE,
	_HTTP_KIND_MAX,
};

/* How the body after a head is delimited. */
enum http_body {
	HTTP_BODY_NONE,      /* no body at all */
	HTTP_BODY_LENGTH,    /* exactly content_length bytes */
	HTTP_BODY_CHUNKED,   /* chunked; feed it to http_parser_feed_body() */
	HTTP_BODY_UNTIL_EOF, /* responses only: everything until the peer closes
			      */
	HTTP_BODY_TUNNEL,    /* CONNECT request, or a 2xx answer to one */
	_HTTP_BODY_MAX,
};

/* A byte range inside http_head.text. Each span is followed by a NUL. */
struct http_span {
	uint32_t off;
	uint32_t len;
};

/* The fields the proxy itself reads or filters. The parser names each
 * field once, so lookups and hop-by-hop filtering compare numbers. */
enum http_field_id {
	HTTP_FIELD_OTHER,
	HTTP_FIELD_CONNECTION,
	HTTP_FIELD_CONTENT_LENGTH,
	HTTP_FIELD_HOST,
	HTTP_FIELD_KEEP_ALIVE,
	HTTP_FIELD_PROXY_AUTHENTICATE,
	HTTP_FIELD_PROXY_AUTHORIZATION,
	HTTP_FIELD_PROXY_CONNECTION,
	HTTP_FIELD_TE,
	HTTP_FIELD_TRAILER,
	HTTP_FIELD_TRANSFER_ENCODING,
	HTTP_FIELD_UPGRADE,
	HTTP_FIELD_X_UNIX_SOCKET,
	_HTTP_FIELD_ID_MAX,
};

/* The id of a field name of len bytes (ASCII case-insensitive);
 * HTTP_FIELD_OTHER for every name not listed above. */
enum http_field_id http_field_id_of(const char *name, size_t len);

struct http_field {
	struct http_span name;
	struct http_span value; /* leading and trailing whitespace removed */
	enum http_field_id id;
};

/*
 * A parsed head. Embeddable (the session keeps one per direction); use
 * http_head_init()/http_head_done(). Strings are views into text.
 */
struct http_head {
	struct buf text;
	struct http_field *fields;
	size_t n_fields;
	size_t fields_cap;
	enum http_kind kind;
	uint8_t method;          /* requests: an llhttp_method_t */
	struct http_span target; /* requests: the request target as sent */
	uint16_t status;         /* responses */
	struct http_span
	    reason; /* responses: the reason phrase, may be empty */
	uint8_t major;
	uint8_t minor;
	enum http_body body;
	uint64_t content_length; /* HTTP_BODY_LENGTH */
	bool keep_alive; /* the sender allows another message after it */
};

void http_head_init(struct http_head *h, enum http_kind kind);

/* Release the storage. The head is empty and reusable afterwards. */
void http_head_done(struct http_head *h);

/* Forget the contents, keep the storage for the next message. */
void http_head_clear(struct http_head *h);

/* A span as a NUL-terminated string (borrowed from h). */
static inline const char *
http_head_str(const struct http_head *h, struct http_span s)
{
	return buf_str(&h->text) + s.off;
}

/* The method name, e.g. "GET" (static storage). */
const char *http_head_method(const struct http_head *h);

/* Index of the first field named name (ASCII case-insensitive) at or after
 * index from, or -1. */
ssize_t http_head_find(const struct http_head *h, const char *name,
    size_t from);

/* Number of fields named name. */
size_t http_head_count(const struct http_head *h, const char *name);

/* True when a field named name has token among its comma-separated values
 * (case-insensitive), e.g. Connection: keep-alive, Upgrade. */
bool http_head_has_token(const struct http_head *h, const char *name,
    const char *token);

/*
 * The incremental parser. Embeddable; it refers to the head it fills
 * (borrowed, must outlive it).
 */
struct http_parser {
	llhttp_t ll;
	llhttp_settings_t settings;
	struct http_head *head;
	size_t head_bytes;   /* bytes of the current head seen so far */
	size_t head_max;     /* LIMIT_HTTP_HEAD_BYTES or the response cap */
	bool in_value;       /* the last span was a header value */
	bool head_done;      /* the head is complete */
	bool message_done;   /* the body completed too (chunked) */
	bool paused;         /* llhttp paused itself; resume before feeding */
	const char *feed;    /* the bytes being fed right now */
	char prev;           /* the last byte of the previous feed */
	bool answering_head; /* responses: the request was HEAD */
	bool answering_connect; /* responses: the request was CONNECT */
	uint16_t error_status;  /* the HTTP status that reports the error */
	const char *error;      /* static text; NULL while all is well */
	void (*sink)(void *userdata, const char *p, size_t n);
	void *sink_userdata;
};

/* Prepare p to parse a head of the given kind into head. */
void http_parser_init(struct http_parser *p, enum http_kind kind,
    struct http_head *head);

/* Responses: tell the parser which request this response answers, so that
 * a HEAD answer has no body and a 2xx CONNECT answer starts a tunnel.
 * Call before the response head is fed. */
void http_parser_set_request(struct http_parser *p, bool head, bool connect);

/*
 * Feed bytes of a head. Consumes at most up to the end of the head and
 * stores how many bytes in *ret_consumed. PARSE_DONE: the head is in
 * p->head and its framing in head->body; PARSE_AGAIN: all bytes consumed,
 * more needed; PARSE_ERROR: p->error_status and p->error say why (requests:
 * 400, 414, 431, 501 or 505; responses: 502).
 */
enum parse_result http_parser_feed_head(struct http_parser *p, const char *data,
    size_t len, size_t *ret_consumed);

/*
 * Feed bytes of a chunked body (head->body == HTTP_BODY_CHUNKED). Each run
 * of decoded body bytes is passed to sink (which may only copy them);
 * chunk extensions and trailers are checked and dropped. PARSE_DONE once
 * the last chunk and trailers were consumed (*ret_consumed stops there).
 */
enum parse_result http_parser_feed_body(struct http_parser *p, const char *data,
    size_t len, size_t *ret_consumed,
    void (*sink)(void *userdata, const char *p, size_t n), void *userdata);

/* Start over for the next message on the same connection: clears the head
 * and the error. */
void http_parser_next(struct http_parser *p);
