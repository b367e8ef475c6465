/* SPDX-License-Identifier: MIT */
/*
 * Every amount a peer or a config file controls is bounded here, in one
 * place (STYLE.md §3, §7). Include as "util/limits.h"; the project never
 * puts src/util on the include path, so <limits.h> stays the system one.
 */
#pragma once

/* TOML parser. */
#define LIMIT_TOML_INPUT_BYTES (16u * 1024 * 1024) /* default maximum input */
#define LIMIT_TOML_DEPTH       128 /* nested arrays and inline tables */
#define LIMIT_TOML_ERROR_BYTES 256 /* one error message */

/* Config files. */
#define LIMIT_CONFIG_FILE_BYTES LIMIT_TOML_INPUT_BYTES

/* Logging: untrusted bytes are escaped and capped at this many input bytes. */
#define LIMIT_LOG_UNTRUSTED_BYTES 256
