/* SPDX-License-Identifier: MIT */
/* Hop-by-hop filtering and serialisation of forwarded heads. */
#include "wire/http_write.h"

#include <errno.h>
#include <string.h>

#include "util/buf.h"
#include "util/strutil.h"
#include "wire/http_head.h"
#include "wire/http_target.h"

/* True when field i of h must not be forwarded; has_connection says
 * whether h has a Connection field that could name it. */
static bool
http_write_is_hop_by_hop(const struct http_head *h, size_t i,
    bool has_connection)
{
	switch (h->fields[i].id) {
	/* Spec §4.5 plus Proxy-Authenticate (RFC 9110 §11.7.1), which is
	 * meant for the client's proxy, never for the next hop. */
	case HTTP_FIELD_CONNECTION:
	case HTTP_FIELD_KEEP_ALIVE:
	case HTTP_FIELD_PROXY_AUTHENTICATE:
	case HTTP_FIELD_PROXY_AUTHORIZATION:
	case HTTP_FIELD_PROXY_CONNECTION:
	case HTTP_FIELD_TE:
	case HTTP_FIELD_TRAILER:
	case HTTP_FIELD_TRANSFER_ENCODING:
	case HTTP_FIELD_UPGRADE:
		return true;
	/* Framing and routing are ours: a Connection option can't drop them. */
	case HTTP_FIELD_CONTENT_LENGTH:
	case HTTP_FIELD_HOST:
		return false;
	case HTTP_FIELD_OTHER:
	case HTTP_FIELD_X_UNIX_SOCKET:
	case _HTTP_FIELD_ID_MAX:
	default:
		return has_connection &&
		    http_head_has_token(h, "connection",
			http_head_str(h, h->fields[i].name));
	}
}

static int
http_write_fields(const struct http_head *h, struct buf *out)
{
	bool has_connection = http_head_find(h, "connection", 0) >= 0;
	int r = 0;

	for (size_t i = 0; i < h->n_fields && r >= 0; i++) {
		const struct http_field *f = &h->fields[i];

		if (http_write_is_hop_by_hop(h, i, has_connection))
			continue;
		r = buf_append(out, http_head_str(h, f->name), f->name.len);
		if (r >= 0)
			r = buf_append(out, ": ", 2);
		if (r >= 0)
			r = buf_append(out, http_head_str(h, f->value),
			    f->value.len);
		if (r >= 0)
			r = buf_append(out, "\r\n", 2);
	}
	return r;
}

static int
http_write_authority(const struct http_authority *a, struct buf *out)
{
	char text[HTTP_HOST_MAX + 8];

	if (http_authority_format(a, 80, text, sizeof(text)) < 0)
		return -E2BIG;
	return buf_append_str(out, text);
}

int
http_write_request(const struct http_head *h, const struct http_target *target,
    const struct http_authority *authority, bool absolute,
    const char *proxy_auth, struct buf *out)
{
	int r;

	r = buf_append_str(out, http_head_method(h));
	if (r >= 0)
		r = buf_append_char(out, ' ');
	if (r >= 0 && absolute && target->form != HTTP_TARGET_ASTERISK) {
		r = buf_append_str(out, "http://");
		if (r >= 0)
			r = http_write_authority(authority, out);
	}
	if (r >= 0 && target->form != HTTP_TARGET_ASTERISK &&
	    (target->path_len == 0 || target->path[0] != '/'))
		r = buf_append_char(out, '/');
	if (r >= 0)
		r = buf_append(out, target->path, target->path_len);
	if (r >= 0)
		r = buf_append_str(out, " HTTP/1.1\r\n");
	/* HTTP/1.0 clients may omit Host; HTTP/1.1 requires it upstream. */
	if (r >= 0 && http_head_find(h, "host", 0) < 0) {
		r = buf_append_str(out, "Host: ");
		if (r >= 0)
			r = http_write_authority(authority, out);
		if (r >= 0)
			r = buf_append_str(out, "\r\n");
	}
	if (r >= 0)
		r = http_write_fields(h, out);
	if (r >= 0 && h->body == HTTP_BODY_CHUNKED)
		r = buf_append_str(out, "Transfer-Encoding: chunked\r\n");
	if (r >= 0 && proxy_auth)
		r = buf_printf(out, "Proxy-Authorization: %s\r\n", proxy_auth);
	if (r >= 0)
		r = buf_append_str(out, "\r\n");
	return r;
}

int
http_write_response(const struct http_head *h, bool close,
    unsigned client_minor, struct buf *out)
{
	int r;

	r = buf_printf(out, "HTTP/1.1 %u ", (unsigned)h->status);
	if (r >= 0)
		r = buf_append(out, http_head_str(h, h->reason), h->reason.len);
	if (r >= 0)
		r = buf_append_str(out, "\r\n");
	if (r >= 0)
		r = http_write_fields(h, out);
	if (r >= 0 && h->body == HTTP_BODY_CHUNKED && client_minor >= 1)
		r = buf_append_str(out, "Transfer-Encoding: chunked\r\n");
	if (r >= 0 && h->status >= 200) {
		if (close)
			r = buf_append_str(out, "Connection: close\r\n");
		else if (client_minor == 0)
			r = buf_append_str(out, "Connection: keep-alive\r\n");
	}
	if (r >= 0)
		r = buf_append_str(out, "\r\n");
	return r;
}

int
http_write_connect(const struct http_authority *authority,
    const char *proxy_auth, struct buf *out)
{
	char text[HTTP_HOST_MAX + 8];
	int r;

	/* Authority-form always carries the port (RFC 9110 §9.3.6). */
	if (http_authority_format(authority, 0, text, sizeof(text)) < 0)
		return -E2BIG;
	r = buf_printf(out, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", text, text);
	if (r >= 0 && proxy_auth)
		r = buf_printf(out, "Proxy-Authorization: %s\r\n", proxy_auth);
	if (r >= 0)
		r = buf_append_str(out, "\r\n");
	return r;
}
