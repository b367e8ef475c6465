/* SPDX-License-Identifier: MIT */
/*
 * paddock: the command-line front door. It only dispatches; every
 * subcommand lives in its own cmd_*.c and all logic in libpaddock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/version_info.h"
#include "util/log.h"
#include "util/strutil.h"

static void
main_usage(FILE *f)
{
	(void)fprintf(f,
	    "Usage: paddock [--log-level LEVEL] COMMAND [ARGS...]\n"
	    "\n"
	    "paddock gives a process exactly the filesystem and network "
	    "access its\npermission profile grants, and nothing more.\n"
	    "\nCommands:\n");
	for (const struct cli_command *c = cli_commands; c->name; c++)
		(void)fprintf(f, "  %-10s %s\n", c->name, c->summary);
	(void)fprintf(f,
	    "\nOptions:\n"
	    "  --log-level LEVEL  error, warn, info (default) or debug\n"
	    "  -h, --help         show this help\n"
	    "  --version          show the version and the libraries\n"
	    "\nRun 'paddock COMMAND --help' for the options of a command.\n");
}

int
main(int argc, char **argv)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];
		const char *v;
		int m;

		if (cli_is_help(a)) {
			main_usage(stdout);
			return CLI_EXIT_OK;
		}
		if (streq(a, "--version")) {
			version_info_print(stdout);
			return CLI_EXIT_OK;
		}
		m = cli_option_value(argc, argv, &i, "--log-level", &v);
		if (m < 0)
			return CLI_EXIT_USAGE;
		if (m > 0) {
			enum log_level level;

			if (log_level_from_string(v, &level) < 0) {
				(void)fprintf(stderr,
				    "paddock: --log-level takes error, warn, "
				    "info or debug, not '%s'\n",
				    v);
				return CLI_EXIT_USAGE;
			}
			log_set_level(level);
			continue;
		}
		(void)fprintf(stderr,
		    "paddock: unknown option '%s'\n"
		    "Run 'paddock --help' for usage.\n",
		    a);
		return CLI_EXIT_USAGE;
	}
	/* argv[i - 1] stands in for the command name cli_dispatch() skips. */
	return cli_dispatch(argc - i + 1, argv + i - 1, cli_commands,
	    main_usage);
}
