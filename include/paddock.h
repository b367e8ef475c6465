/* SPDX-License-Identifier: MIT */
/*
 * libpaddock: the public C API for embedders.
 *
 * This is the only installed header. Types are opaque; every function
 * documents who owns what and which threads may call it. The API grows with
 * the proxy (policy decider hook, blocked-request observer, audit sink).
 */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

#define PADDOCK_VERSION_MAJOR 0
#define PADDOCK_VERSION_MINOR 1
#define PADDOCK_VERSION_PATCH 0

#if defined(__GNUC__)
#define PADDOCK_API __attribute__((visibility("default")))
#else
#define PADDOCK_API
#endif

/* The library's version as "MAJOR.MINOR.PATCH" (static storage). Compare
 * with the PADDOCK_VERSION_* macros to detect a header/library mismatch. */
PADDOCK_API const char *paddock_version(void);

#ifdef __cplusplus
}
#endif
