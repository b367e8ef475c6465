/* SPDX-License-Identifier: MIT */
/*
 * The options every config-reading subcommand takes (config, proxy, env,
 * policy, connect): where the layers are, -c overrides and the permission
 * selectors. A command parses its arguments with cfgopts_parse_args(),
 * which hands it every argument that is not a config option; then it
 * passes cfgopts.opts to config_load() (or uses cfgopts_load()).
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

void cfgopts_init(struct cfgopts *o);
void cfgopts_done(struct cfgopts *o);

/*
 * Parse argv[1..argc): the config options go into o, every other argument
 * is offered to own(), which takes it (moving *i past it and its value)
 * and returns -1 to go on, or an exit status to stop. Returns -1 once all
 * arguments are taken, else that exit status (usage errors and running
 * out of memory are already said on stderr).
 */
int cfgopts_parse_args(struct cfgopts *o, int argc, char **argv,
    int (*own)(void *userdata, int argc, char **argv, int *i), void *userdata);

/* The options block of a command's --help. */
extern const char cfgopts_help[];

/* Print every diagnostic as "severity: file:line:col: key: message
 * [code]". */
void cfgopts_print_diags(FILE *f, const struct config_diags *d);

/*
 * Load the config with the parsed options. On failure print the problems
 * to stderr (and "out of memory" for -ENOMEM) and return NULL; on success
 * print the warnings to stderr when print_warnings. *ret_diags is the
 * diagnostics list (caller frees) either way, or NULL on ENOMEM.
 */
struct config *cfgopts_load(const struct cfgopts *o, bool print_warnings,
    struct config_diags **ret_diags);
