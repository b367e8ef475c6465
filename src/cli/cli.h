/* SPDX-License-Identifier: MIT */
/*
 * The subcommands of the paddock binary. Each takes the arguments after its
 * name (argv[0] is the subcommand name) and returns the process exit status:
 * 0 success, 1 failure or a refusal, 2 usage error.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#define CLI_EXIT_OK      0
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE   2

struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

/* The table of subcommands, terminated by an entry with name NULL. */
extern const struct cli_command cli_commands[];

/* The subcommands (cmd_<name>.c). */
int cmd_ca(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_env(int argc, char **argv);
int cmd_proxy(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);

/* True for "-h" and "--help". */
bool cli_is_help(const char *arg);

/*
 * Match argv[*i] against the option name ("--format"), taking its value
 * from "--format=VALUE" or from the next argument. Returns 1 with
 * *ret_value set and *i moved past the option, 0 when argv[*i] is another
 * argument, or -1 when the value is missing (said on stderr).
 */
int cli_option_value(int argc, char **argv, int *i, const char *name,
    const char **ret_value);

/*
 * Run the subcommand argv[1] of the command argv[0] from subs (terminated
 * by an entry with name NULL), passing it argc - 1, argv + 1. "-h",
 * "--help" and "help" print usage to stdout; a missing or unknown
 * subcommand is a usage error, said on stderr. With subs = cli_commands it
 * is the top level, and argv[0] is not named. Returns the exit status.
 */
int cli_dispatch(int argc, char **argv, const struct cli_command *subs,
    void (*usage)(FILE *f));
