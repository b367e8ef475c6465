/* SPDX-License-Identifier: MIT */
/*
 * Which subjectAltName a tunnel's host gets. The host reached us already
 * canonicalised by the policy engine; this is a second, independent check
 * so that nothing but a plain DNS name or an address literal is ever
 * written into a certificate, and never a wildcard.
 */
#include "tls/certgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tls/certgen_internal.h"
#include "util/log.h"

void
certgen_err_set(struct certgen_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
}

static bool
certgen_san_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	    c == '_';
}

static int
certgen_san_dns(const char *host, size_t len, struct certgen_err *reterr)
{
	char esc[LOG_ESCAPE_BYTES];
	size_t label = 0;

	if (len > 253)
		goto bad;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? host[i] : '.';

		if (c == '.') {
			if (label == 0 || label > 63 || host[i - 1] == '-' ||
			    host[i - label] == '-')
				goto bad;
			label = 0;
			continue;
		}
		if (!certgen_san_label_char(c))
			goto bad;
		label++;
	}
	return 0;
bad:
	certgen_err_set(reterr,
	    "'%s' is not a host name a certificate can name",
	    log_escape(esc, sizeof(esc), host, len));
	return -EINVAL;
}

int
certgen_san_parse(const char *host, size_t len, struct certgen_san *ret,
    struct certgen_err *reterr)
{
	struct certgen_san san = { 0 };
	int r;

	if (len == 0 || len >= sizeof(san.text) || memchr(host, '\0', len)) {
		certgen_err_set(reterr,
		    "a certificate needs a host name of "
		    "1 to 253 bytes");
		return -EINVAL;
	}
	memcpy(san.text, host, len);
	if (inet_pton(AF_INET, san.text, san.addr) == 1) {
		san.kind = CERTGEN_SAN_IPV4;
	} else if (inet_pton(AF_INET6, san.text, san.addr) == 1) {
		san.kind = CERTGEN_SAN_IPV6;
	} else {
		r = certgen_san_dns(host, len, reterr);
		if (r < 0)
			return r;
		san.kind = CERTGEN_SAN_DNS;
	}
	*ret = san;
	return 0;
}
