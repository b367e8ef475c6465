/* SPDX-License-Identifier: MIT */
/*
 * The subcommands of the paddock binary. Each takes the arguments after its
 * name (argv[0] is the subcommand name) and returns the process exit status:
 * 0 success, 1 failure or a refusal, 2 usage error.
 */
#pragma once

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
int cmd_config(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_env(int argc, char **argv);
int cmd_proxy(int argc, char **argv);
int cmd_policy(int argc, char **argv);
