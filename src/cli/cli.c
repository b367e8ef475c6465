/* SPDX-License-Identifier: MIT */
/*
 * Argument helpers shared by the subcommands, so every command spells
 * options, values and help the same way.
 */
#include "cli/cli.h"

#include <string.h>

#include "util/strutil.h"

bool
cli_is_help(const char *arg)
{
	return streq(arg, "-h") || streq(arg, "--help");
}

int
cli_option_value(int argc, char **argv, int *i, const char *name,
    const char **ret_value)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*ret_value = a + n + 1;
		(*i)++;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		(void)fprintf(stderr, "paddock: %s needs a value\n", name);
		return -1;
	}
	*ret_value = argv[*i + 1];
	*i += 2;
	return 1;
}

int
cli_dispatch(int argc, char **argv, const struct cli_command *subs,
    void (*usage)(FILE *f))
{
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (cli_is_help(argv[1]) || streq(argv[1], "help")) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	for (const struct cli_command *c = subs; c->name; c++)
		if (streq(c->name, argv[1]))
			return c->run(argc - 1, argv + 1);
	if (subs == cli_commands)
		(void)fprintf(stderr,
		    "paddock: unknown command '%s'\n"
		    "Run 'paddock --help' for the list of commands.\n",
		    argv[1]);
	else
		(void)fprintf(stderr,
		    "paddock: %s: unknown command '%s'\n"
		    "Run 'paddock %s --help' for the list of commands.\n",
		    argv[0], argv[1], argv[0]);
	return CLI_EXIT_USAGE;
}
