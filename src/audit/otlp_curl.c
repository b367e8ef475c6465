/* SPDX-License-Identifier: MIT */
/*
 * libcurl through dlopen(): see otlp_curl.h for why.
 *
 * The table is filled once under pthread_once(); a failure is remembered
 * with its reason, so every later exporter gets the same answer without
 * trying again.
 */
#include "audit/otlp_curl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "util/compiler.h"

/* Debian's libcurl4, the OpenSSL flavour libcurl4-openssl-dev builds
 * against. */
#define OTLP_CURL_SONAME "libcurl.so.4"

/* Each field of struct otlp_curl is the curl_ function of its name. */
#define OTLP_CURL_SYM(field)                                      \
	{                                                         \
		"curl_" #field, offsetof(struct otlp_curl, field) \
	}

static const struct {
	const char *name;
	size_t offset;
} otlp_curl_syms[] = {
	OTLP_CURL_SYM(version_info),
	OTLP_CURL_SYM(global_init),
	OTLP_CURL_SYM(easy_init),
	OTLP_CURL_SYM(easy_setopt),
	OTLP_CURL_SYM(easy_perform),
	OTLP_CURL_SYM(easy_getinfo),
	OTLP_CURL_SYM(easy_strerror),
	OTLP_CURL_SYM(easy_cleanup),
	OTLP_CURL_SYM(slist_append),
	OTLP_CURL_SYM(slist_free_all),
};

static pthread_once_t otlp_curl_once = PTHREAD_ONCE_INIT;
static struct otlp_curl otlp_curl_table;
static const struct otlp_curl *otlp_curl_loaded;
static char otlp_curl_error[256];

static void
otlp_curl_load(void)
{
	struct otlp_curl *t = &otlp_curl_table;
	void *lib = dlopen(OTLP_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	curl_version_info_data *info;

	if (!lib) {
		(void)snprintf(otlp_curl_error, sizeof(otlp_curl_error),
		    "OTLP export needs libcurl (Debian package libcurl4): %s",
		    dlerror());
		return;
	}
	for (size_t i = 0; i < ELEMENTSOF(otlp_curl_syms); i++) {
		/* POSIX: a function's address from dlsym() converts to a
		 * function pointer of the right type. */
		void *p = dlsym(lib, otlp_curl_syms[i].name);

		if (!p) {
			(void)snprintf(otlp_curl_error, sizeof(otlp_curl_error),
			    "OTLP export: " OTLP_CURL_SONAME " has no %s",
			    otlp_curl_syms[i].name);
			(void)dlclose(lib);
			return;
		}
		memcpy((char *)t + otlp_curl_syms[i].offset, &p, sizeof(p));
	}
	info = t->version_info(CURLVERSION_NOW);
	if (!info || info->version_num < OTLP_CURL_MIN_VERSION) {
		(void)snprintf(otlp_curl_error, sizeof(otlp_curl_error),
		    "OTLP export needs libcurl 7.85 or later, not %s",
		    info && info->version ? info->version : "this one");
		(void)dlclose(lib);
		return;
	}
	/* Never cleaned up: other users in the process may share it. */
	if (t->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		(void)snprintf(otlp_curl_error, sizeof(otlp_curl_error),
		    "OTLP export: libcurl failed to initialise");
		(void)dlclose(lib);
		return;
	}
	otlp_curl_loaded = t; /* the library stays loaded for good */
}

const struct otlp_curl *
otlp_curl_get(char *reterr, size_t errsz)
{
	(void)pthread_once(&otlp_curl_once, otlp_curl_load);
	if (!otlp_curl_loaded && reterr && errsz)
		(void)snprintf(reterr, errsz, "%s", otlp_curl_error);
	return otlp_curl_loaded;
}
