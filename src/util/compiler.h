/* SPDX-License-Identifier: MIT */
/*
 * Compiler extensions, in one place. Nothing outside this header spells
 * __attribute__ directly, so a port to another compiler touches one file.
 */
#pragma once

#define _printf_(a, b)   __attribute__((format(printf, a, b)))
#define _warn_unused_    __attribute__((warn_unused_result))
#define _unused_         __attribute__((unused))
#define _noreturn_       __attribute__((noreturn))
#define _cleanup_(f)     __attribute__((cleanup(f)))
#define _likely_(x)      __builtin_expect(!!(x), 1)
#define _unlikely_(x)    __builtin_expect(!!(x), 0)
#define FALLTHROUGH      __attribute__((fallthrough))
#define ELEMENTSOF(a)    (sizeof(a) / sizeof((a)[0]))
#define STRINGIFY_ARG(x) #x
#define STRINGIFY(x)     STRINGIFY_ARG(x)
