/* SPDX-License-Identifier: MIT */
/*
 * paddock --version. The "built with" versions come from the headers at
 * compile time; a shared library upgraded since may report a newer one at
 * run time, and then both are shown, since a bug report needs the one that
 * actually ran.
 */
#include "cli/version_info.h"

#include <string.h>

#include <event2/event.h>
#include <idn2.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <seccomp.h>

#include "cli/revision.h"
#include "llhttp.h"
#include "util/compiler.h"

#define VERSION_INFO_STR(x)  #x
#define VERSION_INFO_XSTR(x) VERSION_INFO_STR(x)
#define VERSION_INFO_LLHTTP                                                \
	VERSION_INFO_XSTR(LLHTTP_VERSION_MAJOR)                            \
	"." VERSION_INFO_XSTR(LLHTTP_VERSION_MINOR) "." VERSION_INFO_XSTR( \
	    LLHTTP_VERSION_PATCH)

static void
version_info_library(FILE *f, const char *name, const char *built,
    const char *running)
{
	(void)fprintf(f, " %s/%s", name, running ? running : built);
	if (running && strcmp(running, built) != 0)
		(void)fprintf(f, " (built with %s)", built);
}

/* libseccomp gives its versions as numbers, at build and at run time. */
static void
version_info_seccomp(FILE *f)
{
	const struct scmp_version *v = seccomp_version();
	char built[32], running[32];

	(void)snprintf(built, sizeof(built), "%u.%u.%u", SCMP_VER_MAJOR,
	    SCMP_VER_MINOR, SCMP_VER_MICRO);
	if (v)
		(void)snprintf(running, sizeof(running), "%u.%u.%u", v->major,
		    v->minor, v->micro);
	version_info_library(f, "libseccomp", built, v ? running : NULL);
}

void
version_info_print(FILE *f)
{
	(void)fprintf(f, "paddock %s", PADDOCK_VERSION_STRING);
	if (CLI_REVISION[0])
		(void)fprintf(f, " (git %s)", CLI_REVISION);
	(void)fputs("\nlibraries:", f);
	version_info_library(f, "OpenSSL", OPENSSL_VERSION_STR,
	    OpenSSL_version(OPENSSL_VERSION_STRING));
	version_info_library(f, "libevent", LIBEVENT_VERSION,
	    event_get_version());
	version_info_library(f, "jansson", JANSSON_VERSION,
	    jansson_version_str());
	version_info_library(f, "libidn2", IDN2_VERSION,
	    idn2_check_version(NULL));
	version_info_seccomp(f);
	/* Compiled in from Debian's node-llhttp sources. */
	version_info_library(f, "llhttp", VERSION_INFO_LLHTTP, NULL);
	(void)fputc('\n', f);
}
