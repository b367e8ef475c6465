/* SPDX-License-Identifier: MIT */
/*
 * The options every config-reading subcommand takes (config, proxy, env,
 * policy, connect): where the layers are, -c overrides and the permission
 * selectors. A command offers each argument to cfgopts_parse() first and
 * handles the rest itself; then it passes cfgopts.opts to config_load().
 *
 * Values point into argv, which must outlive the struct.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"

struct cfgopts {
	struct config_options opts; /* ready for config_load() */
	const char **overrides;     /* -c, in order (opts points here) */
	const char **add_dirs;      /* --add-dir (opts points here) */
};

enum cfgopts_result {
	CFGOPTS_NOT_MINE, /* argv[*i] is not a config option */
	CFGOPTS_TAKEN,    /* consumed; *i moved past it */
	CFGOPTS_USAGE,    /* a usage error, already printed to stderr */
	CFGOPTS_NOMEM,
};

void cfgopts_init(struct cfgopts *o);
void cfgopts_done(struct cfgopts *o);

/* Look at argv[*i] (and its value, "--opt VALUE" or "--opt=VALUE"). */
enum cfgopts_result cfgopts_parse(struct cfgopts *o, int argc, char **argv,
    int *i);

/* The options block of a command's --help. */
extern const char cfgopts_help[];

/* Print every diagnostic as "severity: file:line:col: key: message [code]",
 * warnings only when with_warnings. */
void cfgopts_print_diags(FILE *f, const struct config_diags *d,
    bool with_warnings);

/*
 * Load the config with the parsed options. On failure print the problems
 * to stderr (and "out of memory" for -ENOMEM) and return NULL; on success
 * print the warnings to stderr when print_warnings. *ret_diags is the
 * diagnostics list (caller frees) either way, or NULL on ENOMEM.
 */
struct config *cfgopts_load(const struct cfgopts *o, bool print_warnings,
    struct config_diags **ret_diags);
