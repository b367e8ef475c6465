/* SPDX-License-Identifier: MIT */
/* The subcommand table. Add a command here and in cli.h's users. */
#include "cli/cli.h"

#include <stddef.h>

const struct cli_command cli_commands[] = {
	{ "config", "check, show or describe the effective configuration",
	    cmd_config },
	{ "proxy", "run the network policy proxy in the foreground",
	    cmd_proxy },
	{ "env", "print the environment a child needs to use the proxy",
	    cmd_env },
	{ "policy", "judge a request against the network policy", cmd_policy },
	{ "connect", "relay stdin/stdout through the proxy's SOCKS5 listener",
	    cmd_connect },
	{ "run", "run a command confined to its permission profile", cmd_run },
	{ "ca", "show, locate or rotate the HTTPS interception CA", cmd_ca },
	{ "status", "summarise a running proxy from its admin API",
	    cmd_status },
	{ NULL, NULL, NULL },
};
