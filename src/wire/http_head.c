/* SPDX-License-Identifier: MIT */
/*
 * Strict incremental HTTP/1.1 head parser over llhttp. The callbacks below
 * only copy spans into the head (bounded by head_max) or record an error
 * and return -1; http_parser_feed_head() decides after llhttp returns.
 * llhttp is paused at the end of every head so that the caller keeps the
 * bytes that follow it.
 */
#include "wire/http_head.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/limits.h"
#include "util/size.h"
#include "util/strutil.h"

void
http_head_init(struct http_head *h, enum http_kind kind)
{
	*h = (struct http_head){ .kind = kind };
	buf_init(&h->text, 0);
}

void
http_head_done(struct http_head *h)
{
	enum http_kind kind = h->kind;

	buf_done(&h->text);
	free(h->fields);
	http_head_init(h, kind);
}

void
http_head_clear(struct http_head *h)
{
	struct buf text = h->text;
	struct http_field *fields = h->fields;
	size_t cap = h->fields_cap;
	enum http_kind kind = h->kind;

	buf_clear(&text);
	*h = (struct http_head){
		.text = text,
		.fields = fields,
		.fields_cap = cap,
		.kind = kind,
	};
}

const char *
http_head_method(const struct http_head *h)
{
	return llhttp_method_name((llhttp_method_t)h->method);
}

#define HTTP_FIELD_NAME(id, text) [id] = { text, sizeof(text) - 1 }

static const struct {
	const char *name; /* lower case */
	size_t len;
} http_field_names[_HTTP_FIELD_ID_MAX] = {
	HTTP_FIELD_NAME(HTTP_FIELD_CONNECTION, "connection"),
	HTTP_FIELD_NAME(HTTP_FIELD_CONTENT_LENGTH, "content-length"),
	HTTP_FIELD_NAME(HTTP_FIELD_HOST, "host"),
	HTTP_FIELD_NAME(HTTP_FIELD_KEEP_ALIVE, "keep-alive"),
	HTTP_FIELD_NAME(HTTP_FIELD_PROXY_AUTHENTICATE, "proxy-authenticate"),
	HTTP_FIELD_NAME(HTTP_FIELD_PROXY_AUTHORIZATION, "proxy-authorization"),
	HTTP_FIELD_NAME(HTTP_FIELD_PROXY_CONNECTION, "proxy-connection"),
	HTTP_FIELD_NAME(HTTP_FIELD_TE, "te"),
	HTTP_FIELD_NAME(HTTP_FIELD_TRAILER, "trailer"),
	HTTP_FIELD_NAME(HTTP_FIELD_TRANSFER_ENCODING, "transfer-encoding"),
	HTTP_FIELD_NAME(HTTP_FIELD_UPGRADE, "upgrade"),
	HTTP_FIELD_NAME(HTTP_FIELD_X_UNIX_SOCKET, "x-unix-socket"),
};

enum http_field_id
http_field_id_of(const char *name, size_t len)
{
	/* Few names, and most fields of a real head are none of them: the
	 * length and the first letter settle nearly every field without a
	 * string comparison. */
	if (len == 0)
		return HTTP_FIELD_OTHER;
	for (int id = HTTP_FIELD_OTHER + 1; id < _HTTP_FIELD_ID_MAX; id++) {
		const char *known = http_field_names[id].name;

		if (http_field_names[id].len == len &&
		    ascii_tolower(name[0]) == known[0] &&
		    strncasecmp(name, known, len) == 0)
			return (enum http_field_id)id;
	}
	return HTTP_FIELD_OTHER;
}

ssize_t
http_head_find(const struct http_head *h, const char *name, size_t from)
{
	enum http_field_id id = http_field_id_of(name, strlen(name));

	for (size_t i = from; i < h->n_fields; i++) {
		const struct http_field *f = &h->fields[i];

		if (id != HTTP_FIELD_OTHER ?
			f->id == id :
			strcasecmp(http_head_str(h, f->name), name) == 0)
			return (ssize_t)i;
	}
	return -1;
}

size_t
http_head_count(const struct http_head *h, const char *name)
{
	size_t n = 0;

	for (ssize_t i = http_head_find(h, name, 0); i >= 0;
	     i = http_head_find(h, name, (size_t)i + 1))
		n++;
	return n;
}

static bool
http_list_has_token(const char *v, const char *token)
{
	size_t tlen = strlen(token);

	while (*v) {
		size_t n;

		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		n = strcspn(v, ",");
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n == tlen && strncasecmp(v, token, n) == 0)
			return true;
		v += strcspn(v, ",");
	}
	return false;
}

bool
http_head_has_token(const struct http_head *h, const char *name,
    const char *token)
{
	for (ssize_t i = http_head_find(h, name, 0); i >= 0;
	     i = http_head_find(h, name, (size_t)i + 1))
		if (http_list_has_token(http_head_str(h, h->fields[i].value),
			token))
			return true;
	return false;
}

static struct http_parser *
http_parser_of(llhttp_t *ll)
{
	return ll->data;
}

static int
http_parser_fail(struct http_parser *p, uint16_t status, const char *why)
{
	if (!p->error) {
		p->error_status = status;
		p->error = why;
	}
	return -1;
}

/* Append a span to the text; the current string grows in place. */
static int
http_parser_append(struct http_parser *p, const char *at, size_t n)
{
	if (buf_append(&p->head->text, at, n) < 0)
		return http_parser_fail(p,
		    p->head->kind == HTTP_KIND_REQUEST ? 431 : 502,
		    "head too large");
	return 0;
}

/* Close the current string with a NUL (spans never include it). */
static int
http_parser_terminate(struct http_parser *p)
{
	return http_parser_append(p, "", 1);
}

static uint32_t
http_parser_offset(const struct http_parser *p)
{
	return (uint32_t)p->head->text.len;
}

/*
 * Limits on counts and lengths are checked when an element is complete,
 * not while its spans arrive: how the input was split must not decide
 * whether a message is too long or malformed (llhttp reports a span only
 * at its end or at the end of a feed). The head byte limit bounds what
 * the spans can take meanwhile.
 */
static int
http_on_url(llhttp_t *ll, const char *at, size_t n)
{
	struct http_parser *p = http_parser_of(ll);
	struct http_span *s = &p->head->target;

	if (s->len == 0)
		s->off = http_parser_offset(p);
	s->len += (uint32_t)n;
	return http_parser_append(p, at, n);
}

static int
http_on_url_complete(llhttp_t *ll)
{
	struct http_parser *p = http_parser_of(ll);

	if (p->head->target.len == 0)
		p->head->target.off = http_parser_offset(p);
	if (p->head->target.len > LIMIT_HTTP_URL_BYTES)
		return http_parser_fail(p, 414, "request target too long");
	return http_parser_terminate(p);
}

static int
http_on_status(llhttp_t *ll, const char *at, size_t n)
{
	struct http_parser *p = http_parser_of(ll);
	struct http_span *s = &p->head->reason;

	if (s->len == 0)
		s->off = http_parser_offset(p);
	s->len += (uint32_t)n;
	return http_parser_append(p, at, n);
}

static int
http_on_status_complete(llhttp_t *ll)
{
	struct http_parser *p = http_parser_of(ll);

	if (p->head->reason.len == 0)
		p->head->reason.off = http_parser_offset(p);
	return http_parser_terminate(p);
}

static struct http_field *
http_parser_new_field(struct http_parser *p)
{
	struct http_head *h = p->head;

	/* One beyond the limit may exist until its name is complete. */
	if (h->n_fields > LIMIT_HTTP_HEADERS) {
		(void)http_parser_fail(p, 500, "field table overflow");
		return NULL;
	}
	if (h->n_fields == h->fields_cap) {
		size_t cap = h->fields_cap ? h->fields_cap * 2 : 16;
		struct http_field *f;

		f = reallocarray(h->fields, cap, sizeof(*f));
		if (!f) {
			(void)http_parser_fail(p, 500, "out of memory");
			return NULL;
		}
		h->fields = f;
		h->fields_cap = cap;
	}
	h->fields[h->n_fields] = (struct http_field){
		.name.off = http_parser_offset(p),
	};
	return &h->fields[h->n_fields++];
}

/* Trailers arrive through the same callbacks after the head; they are
 * dropped (the Trailer field itself is hop-by-hop). */
static int
http_on_header_field(llhttp_t *ll, const char *at, size_t n)
{
	struct http_parser *p = http_parser_of(ll);
	struct http_field *f;

	if (p->head_done)
		return 0;
	if (p->in_value || p->head->n_fields == 0) {
		p->in_value = false;
		if (!http_parser_new_field(p))
			return -1;
	}
	f = &p->head->fields[p->head->n_fields - 1];
	f->name.len += (uint32_t)n;
	return http_parser_append(p, at, n);
}

static int
http_on_header_field_complete(llhttp_t *ll)
{
	struct http_parser *p = http_parser_of(ll);
	struct http_field *f;

	if (p->head_done)
		return 0;
	if (p->head->n_fields == 0 && !http_parser_new_field(p))
		return -1;
	if (p->head->n_fields > LIMIT_HTTP_HEADERS)
		return http_parser_fail(p,
		    p->head->kind == HTTP_KIND_REQUEST ? 431 : 502,
		    "too many header fields");
	p->in_value = true;
	if (http_parser_terminate(p) < 0)
		return -1;
	f = &p->head->fields[p->head->n_fields - 1];
	f->id = http_field_id_of(buf_str(&p->head->text) + f->name.off,
	    f->name.len);
	f->value.off = http_parser_offset(p);
	return 0;
}

/* RFC 9112 §5.2: obsolete line folding is refused. llhttp accepts it and
 * hands the continuation over as a value span starting with SP or HTAB
 * right after a line end; its own values never start with whitespace
 * unless a feed boundary split them there. */
static bool
http_parser_is_fold(const struct http_parser *p, const char *at, size_t n)
{
	char before;

	if (n == 0 || (at[0] != ' ' && at[0] != '\t'))
		return false;
	before = at > p->feed ? at[-1] : p->prev;
	return before == '\n';
}

static int
http_on_header_value(llhttp_t *ll, const char *at, size_t n)
{
	struct http_parser *p = http_parser_of(ll);
	struct http_field *f;

	if (http_parser_is_fold(p, at, n))
		return http_parser_fail(p,
		    p->head->kind == HTTP_KIND_REQUEST ? 400 : 502,
		    "obsolete line folding");
	if (p->head_done)
		return 0;
	f = &p->head->fields[p->head->n_fields - 1];
	f->value.len += (uint32_t)n;
	return http_parser_append(p, at, n);
}

static int
http_on_header_value_complete(llhttp_t *ll)
{
	struct http_parser *p = http_parser_of(ll);
	struct http_field *f;
	const char *v;

	if (p->head_done)
		return 0;
	p->in_value = true;
	f = &p->head->fields[p->head->n_fields - 1];
	/* llhttp strips leading whitespace; trailing OWS is ours to drop
	 * (RFC 9110 §5.5). The bytes stay in the text, the span shrinks. */
	v = buf_str(&p->head->text) + f->value.off;
	while (f->value.len > 0 &&
	    (v[f->value.len - 1] == ' ' || v[f->value.len - 1] == '\t'))
		f->value.len--;
	if (http_parser_terminate(p) < 0)
		return -1;
	p->head->text.data[f->value.off + f->value.len] = '\0';
	return 0;
}

static int
http_on_headers_complete(llhttp_t *ll)
{
	struct http_parser *p = http_parser_of(ll);

	p->head_done = true;
	/* Stop right after the head: the caller owns what follows. */
	return HPE_PAUSED;
}

static int
http_on_body(llhttp_t *ll, const char *at, size_t n)
{
	struct http_parser *p = http_parser_of(ll);

	if (p->sink && n > 0)
		p->sink(p->sink_userdata, at, n);
	return 0;
}

static int
http_on_message_complete(llhttp_t *ll)
{
	struct http_parser *p = http_parser_of(ll);

	p->message_done = true;
	return HPE_PAUSED;
}

void
http_parser_init(struct http_parser *p, enum http_kind kind,
    struct http_head *head)
{
	*p = (struct http_parser){
		.head = head,
		.head_max = kind == HTTP_KIND_REQUEST ?
		    LIMIT_HTTP_HEAD_BYTES :
		    LIMIT_HTTP_RESPONSE_HEAD_BYTES,
	};
	llhttp_settings_init(&p->settings);
	p->settings.on_url = http_on_url;
	p->settings.on_url_complete = http_on_url_complete;
	p->settings.on_status = http_on_status;
	p->settings.on_status_complete = http_on_status_complete;
	p->settings.on_header_field = http_on_header_field;
	p->settings.on_header_field_complete = http_on_header_field_complete;
	p->settings.on_header_value = http_on_header_value;
	p->settings.on_header_value_complete = http_on_header_value_complete;
	p->settings.on_headers_complete = http_on_headers_complete;
	p->settings.on_body = http_on_body;
	p->settings.on_message_complete = http_on_message_complete;
	llhttp_init(&p->ll,
	    kind == HTTP_KIND_REQUEST ? HTTP_REQUEST : HTTP_RESPONSE,
	    &p->settings);
	p->ll.data = p;
	head->kind = kind;
	/* The text can never outgrow the head it was copied from. */
	head->text.max = p->head_max;
}

void
http_parser_set_request(struct http_parser *p, bool head, bool connect)
{
	p->answering_head = head;
	p->answering_connect = connect;
}

void
http_parser_next(struct http_parser *p)
{
	http_head_clear(p->head);
	llhttp_reset(&p->ll);
	p->head_bytes = 0;
	p->in_value = false;
	p->head_done = false;
	p->message_done = false;
	p->paused = false;
	p->prev = '\0';
	p->answering_head = false;
	p->answering_connect = false;
	p->error_status = 0;
	p->error = NULL;
	p->sink = NULL;
	p->sink_userdata = NULL;
}

/* A lone "chunked" is the only transfer coding we can re-frame. */
static int
http_parser_check_transfer_coding(struct http_parser *p)
{
	const struct http_head *h = p->head;
	ssize_t i = http_head_find(h, "transfer-encoding", 0);
	const char *v;

	if (i < 0)
		return 0;
	v = http_head_str(h, h->fields[i].value);
	if (strcasecmp(v, "chunked") == 0 &&
	    http_head_find(h, "transfer-encoding", (size_t)i + 1) < 0)
		return 0;
	if (h->kind == HTTP_KIND_RESPONSE)
		return http_parser_fail(p, 502,
		    "unsupported transfer coding from upstream");
	/* RFC 9112 §6.3: chunked not last means the length is unknowable. */
	if (!(p->ll.flags & F_CHUNKED))
		return http_parser_fail(p, 400,
		    "transfer coding without final chunked");
	return http_parser_fail(p, 501, "unsupported transfer coding");
}

static void
http_parser_frame_request(struct http_parser *p)
{
	struct http_head *h = p->head;

	if (h->method == HTTP_CONNECT)
		h->body = HTTP_BODY_TUNNEL;
	else if (p->ll.flags & F_CHUNKED)
		h->body = HTTP_BODY_CHUNKED;
	else if ((p->ll.flags & F_CONTENT_LENGTH) && p->ll.content_length > 0)
		h->body = HTTP_BODY_LENGTH;
	else
		h->body = HTTP_BODY_NONE;
}

/* RFC 9112 §6.3, in order. */
static void
http_parser_frame_response(struct http_parser *p)
{
	struct http_head *h = p->head;

	if (p->answering_connect && h->status >= 200 && h->status < 300)
		h->body = HTTP_BODY_TUNNEL;
	else if (p->answering_head || h->status < 200 || h->status == 204 ||
	    h->status == 304)
		h->body = HTTP_BODY_NONE;
	else if (p->ll.flags & F_CHUNKED)
		h->body = HTTP_BODY_CHUNKED;
	else if (p->ll.flags & F_CONTENT_LENGTH)
		h->body = p->ll.content_length > 0 ? HTTP_BODY_LENGTH :
						     HTTP_BODY_NONE;
	else
		h->body = HTTP_BODY_UNTIL_EOF;
}

static enum parse_result
http_parser_head_complete(struct http_parser *p)
{
	struct http_head *h = p->head;

	h->major = llhttp_get_http_major(&p->ll);
	h->minor = llhttp_get_http_minor(&p->ll);
	if (h->major != 1 || h->minor > 1) {
		(void)http_parser_fail(p,
		    h->kind == HTTP_KIND_REQUEST ? 505 : 502,
		    "unsupported HTTP version");
		return PARSE_ERROR;
	}
	if (http_parser_check_transfer_coding(p) < 0)
		return PARSE_ERROR;
	if (h->kind == HTTP_KIND_REQUEST) {
		h->method = llhttp_get_method(&p->ll);
		http_parser_frame_request(p);
	} else {
		h->status = (uint16_t)llhttp_get_status_code(&p->ll);
		http_parser_frame_response(p);
	}
	h->content_length =
	    h->body == HTTP_BODY_LENGTH ? p->ll.content_length : 0;
	/* llhttp reads Connection tokens and the version; a message whose
	 * end is the connection's end never allows another one. */
	h->keep_alive =
	    llhttp_should_keep_alive(&p->ll) && h->body != HTTP_BODY_UNTIL_EOF;
	return PARSE_DONE;
}

static uint16_t
http_parser_errno_status(const struct http_parser *p, llhttp_errno_t e)
{
	if (p->head->kind == HTTP_KIND_RESPONSE)
		return 502;
	switch (e) {
	case HPE_PAUSED_H2_UPGRADE:
	case HPE_INVALID_VERSION:
		return 505;
	default:
		return 400;
	}
}

enum parse_result
http_parser_feed_head(struct http_parser *p, const char *data, size_t len,
    size_t *ret_consumed)
{
	size_t room = p->head_max - p->head_bytes, n = len < room ? len : room;
	llhttp_errno_t e;
	size_t used;

	*ret_consumed = 0;
	if (p->error)
		return PARSE_ERROR;
	p->feed = data;
	e = llhttp_execute(&p->ll, data, n);
	if (e == HPE_PAUSED && p->head_done) {
		used = (size_t)(llhttp_get_error_pos(&p->ll) - data);
		p->paused = true;
	} else if (e == HPE_OK) {
		used = n;
	} else {
		if (!p->error)
			(void)http_parser_fail(p,
			    http_parser_errno_status(p, e),
			    llhttp_get_error_reason(&p->ll) ?
				llhttp_get_error_reason(&p->ll) :
				llhttp_errno_name(e));
		return PARSE_ERROR;
	}
	if (used > 0)
		p->prev = data[used - 1];
	p->head_bytes += used;
	*ret_consumed = used;
	if (p->head_done)
		return http_parser_head_complete(p);
	if (p->head_bytes >= p->head_max) {
		(void)http_parser_fail(p,
		    p->head->kind == HTTP_KIND_REQUEST ? 431 : 502,
		    "head too large");
		return PARSE_ERROR;
	}
	return PARSE_AGAIN;
}

enum parse_result
http_parser_feed_body(struct http_parser *p, const char *data, size_t len,
    size_t *ret_consumed, void (*sink)(void *userdata, const char *p, size_t n),
    void *userdata)
{
	llhttp_errno_t e;

	*ret_consumed = 0;
	if (p->error)
		return PARSE_ERROR;
	if (p->message_done)
		return PARSE_DONE;
	if (p->paused) {
		llhttp_resume(&p->ll);
		p->paused = false;
	}
	p->sink = sink;
	p->sink_userdata = userdata;
	p->feed = data;
	e = llhttp_execute(&p->ll, data, len);
	if (len > 0)
		p->prev = data[len - 1];
	p->sink = NULL;
	p->sink_userdata = NULL;
	if (e == HPE_PAUSED && p->message_done) {
		*ret_consumed = (size_t)(llhttp_get_error_pos(&p->ll) - data);
		p->paused = true;
		return PARSE_DONE;
	}
	if (e == HPE_OK) {
		*ret_consumed = len;
		return PARSE_AGAIN;
	}
	(void)http_parser_fail(p,
	    p->head->kind == HTTP_KIND_REQUEST ? 400 : 502,
	    llhttp_get_error_reason(&p->ll) ? llhttp_get_error_reason(&p->ll) :
					      llhttp_errno_name(e));
	return PARSE_ERROR;
}
