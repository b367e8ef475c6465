/* SPDX-License-Identifier: MIT */
/*
 * libcurl, loaded when the first OTLP exporter starts.
 *
 * Linking libcurl pulls about 25 shared libraries (GnuTLS, Kerberos,
 * LDAP, SSH, RTMP...) into every paddock process, and mapping them costs
 * about 10 ms of every start-up, `paddock run -- true` included, although
 * only a proxy with an [otel] exporter ever sends a byte through curl.
 * So libpaddock links none of it: the exporter dlopen()s libcurl.so.4
 * once and calls it through this table.
 *
 * Thread rules: otlp_curl_get() may be called from any thread; the table
 * it returns is immutable and lives until the process ends.
 */
#pragma once

#include <stddef.h>

#include <curl/curl.h>

struct otlp_curl {
	curl_version_info_data *(*version_info)(CURLversion stamp);
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode rc);
	void (*easy_cleanup)(CURL *c);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/* The oldest libcurl the exporter works with (CURLOPT_PROTOCOLS_STR). */
#define OTLP_CURL_MIN_VERSION 0x075500 /* 7.85.0 */

/* The loaded and initialised libcurl, or NULL with the reason in reterr
 * (the library missing or too old, named with the Debian package that
 * provides it). */
const struct otlp_curl *otlp_curl_get(char *reterr, size_t errsz);
