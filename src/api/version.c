/* SPDX-License-Identifier: MIT */
/* The library version, checked against the header at build time. */
#include "paddock.h"

#include "util/compiler.h"

_Static_assert(PADDOCK_VERSION_MAJOR == 0 && PADDOCK_VERSION_MINOR == 1 &&
	PADDOCK_VERSION_PATCH == 0,
    "include/paddock.h and meson.build disagree on the version");

const char *
paddock_version(void)
{
	return PADDOCK_VERSION_STRING;
}
