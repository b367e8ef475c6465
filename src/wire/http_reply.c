/* SPDX-License-Identifier: MIT */
/* Responses written by the proxy itself. */
#include "wire/http_reply.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/buf.h"

struct http_reason {
	unsigned status;
	const char *text;
};

static const struct http_reason http_reasons[] = {
	{ 200, "OK" },
	{ 400, "Bad Request" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 408, "Request Timeout" },
	{ 411, "Length Required" },
	{ 413, "Content Too Large" },
	{ 414, "URI Too Long" },
	{ 417, "Expectation Failed" },
	{ 421, "Misdirected Request" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
	{ 505, "HTTP Version Not Supported" },
	{ 508, "Loop Detected" },
};

const char *
http_reply_reason(unsigned status)
{
	for (size_t i = 0; i < sizeof(http_reasons) / sizeof(http_reasons[0]);
	     i++)
		if (http_reasons[i].status == status)
			return http_reasons[i].text;
	return status < 500 ? "Client Error" : "Server Error";
}

static int
http_reply_head(struct buf *out, unsigned status, const char *type,
    size_t length, const char *x_proxy_error, bool close)
{
	int r;

	r = buf_printf(out,
	    "HTTP/1.1 %u %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n",
	    status, http_reply_reason(status), type, length);
	if (r >= 0 && x_proxy_error)
		r = buf_printf(out, "x-proxy-error: %s\r\n", x_proxy_error);
	if (r >= 0 && close)
		r = buf_append_str(out, "Connection: close\r\n");
	if (r >= 0)
		r = buf_append_str(out, "\r\n");
	return r;
}

int
http_reply_text(struct buf *out, unsigned status, const char *body,
    const char *x_proxy_error, bool close, bool head_only)
{
	size_t len = strlen(body) + 1;
	int r;

	r = http_reply_head(out, status, "text/plain; charset=utf-8", len,
	    x_proxy_error, close);
	if (r >= 0 && !head_only)
		r = buf_printf(out, "%s\n", body);
	return r;
}

static int
http_reply_set(json_t *o, const char *key, json_t *v)
{
	if (!v || json_object_set_new(o, key, v) < 0)
		return -ENOMEM;
	return 0;
}

/* Keys in the order of spec §4.6; absent details are left out. */
static char *
http_reply_block_json(const struct http_block *b)
{
	json_t *o = json_object();
	char *text = NULL;
	int r;

	if (!o)
		return NULL;
	r = http_reply_set(o, "status", json_string("blocked"));
	if (r >= 0)
		r = http_reply_set(o, "host", json_string(b->host));
	if (r >= 0)
		r = http_reply_set(o, "reason", json_string(b->reason));
	if (r >= 0 && b->decision)
		r = http_reply_set(o, "decision", json_string(b->decision));
	if (r >= 0 && b->source)
		r = http_reply_set(o, "source", json_string(b->source));
	if (r >= 0 && b->protocol)
		r = http_reply_set(o, "protocol", json_string(b->protocol));
	if (r >= 0 && b->port >= 0)
		r = http_reply_set(o, "port", json_integer(b->port));
	if (r >= 0 && b->message)
		r = http_reply_set(o, "message", json_string(b->message));
	if (r >= 0)
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

int
http_reply_blocked(struct buf *out, const struct http_block *b, bool close,
    bool head_only)
{
	char *body = http_reply_block_json(b);
	size_t len;
	int r;

	if (!body)
		return -ENOMEM;
	len = strlen(body) + 1;
	r = http_reply_head(out, 403, "application/json", len, b->x_proxy_error,
	    close);
	if (r >= 0 && !head_only)
		r = buf_printf(out, "%s\n", body);
	free(body);
	return r;
}

int
http_reply_connect_ok(struct buf *out)
{
	return buf_append_str(out,
	    "HTTP/1.1 200 Connection established\r\n\r\n");
}
