/* SPDX-License-Identifier: MIT */
/*
 * paddock env: print the environment a child process needs to use the
 * proxy, quoted for a shell or as JSON:
 *
 *	eval "$(paddock env --config examples/config.toml)"
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/cfgopts.h"
#include "cli/cli.h"
#include "config/config.h"
#include "proxy/childenv.h"
#include "proxy/proxy_settings.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/strutil.h"

static void
cmd_env_usage(FILE *f)
{
	(void)fprintf(f,
	    "Usage: paddock env [OPTIONS]\n"
	    "\n"
	    "Print the variables a child process needs to use the proxy "
	    "that\n'paddock proxy' runs with the same config: HTTP_PROXY and "
	    "its\nfamily, NO_PROXY, ALL_PROXY and the PADDOCK_NETWORK_* "
	    "markers; with\nSOCKS5 on, GIT_SSH_COMMAND through 'paddock "
	    "connect' (unless it is\nalready set).\n"
	    "  eval \"$(paddock env)\"               (sh, bash, zsh)\n"
	    "  paddock env --format fish | source  (fish)\n"
	    "\nOptions:\n"
	    "  --format sh|fish|json  output format (default sh)\n"
	    "  -h, --help             show this help\n"
	    "\n%s",
	    cfgopts_help);
}

/* git over ssh goes through paddock connect, unless the user already
 * chose an ssh command. */
static int
cmd_env_git_ssh(struct childenv *e, const char *socks)
{
	char self[PATH_MAX];
	ssize_t n;

	if (!socks || secure_getenv("GIT_SSH_COMMAND"))
		return 0;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	return childenv_add_git_ssh(e, self, socks);
}

static int
cmd_env_run(const struct cfgopts *o, enum childenv_format format)
{
	const struct config_network *net;
	struct config_diags *diags = NULL;
	struct config *cfg;
	struct childenv e;
	char http[CONFIG_ADDR_TEXT_MAX + 8], socks[CONFIG_ADDR_TEXT_MAX + 8];
	bool socks_on;
	struct buf out;
	int rc = CLI_EXIT_FAILURE;

	cfg = cfgopts_load(o, true, &diags);
	config_diags_free(diags);
	if (!cfg)
		return CLI_EXIT_FAILURE;
	net = config_get_network(cfg);
	if (!net->enabled) {
		log_info("the network proxy is disabled (network.enabled = "
			 "false); nothing to export");
		config_free(cfg);
		return CLI_EXIT_OK;
	}
	socks_on = net->enable_socks5 &&
	    proxy_frontend_available(PROXY_FRONTEND_SOCKS5);
	if (net->http_addr.port == 0 ||
	    (socks_on && net->socks_addr.port == 0)) {
		log_err("the proxy listens on port 0, so its port is only "
			"known once it runs; set a fixed port in "
			"network.proxy_url (and socks_url)");
		config_free(cfg);
		return CLI_EXIT_FAILURE;
	}
	(void)config_listen_addr_format(&net->http_addr, http, sizeof(http));
	(void)config_listen_addr_format(&net->socks_addr, socks, sizeof(socks));
	buf_init(&out, 0);
	if (childenv_build(&e, http, socks_on ? socks : NULL,
		net->allow_local_binding) < 0 ||
	    cmd_env_git_ssh(&e, socks_on ? socks : NULL) < 0 ||
	    childenv_format(&e, format, &out) < 0) {
		log_err("out of memory");
	} else {
		(void)fputs(buf_str(&out), stdout);
		rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
	}
	buf_done(&out);
	config_free(cfg);
	return rc;
}

int
cmd_env(int argc, char **argv)
{
	enum childenv_format format = CHILDENV_FORMAT_SH;
	struct cfgopts o;
	int rc = -1;

	cfgopts_init(&o);
	for (int i = 1; i < argc && rc < 0;) {
		const char *a = argv[i];

		switch (cfgopts_parse(&o, argc, argv, &i)) {
		case CFGOPTS_TAKEN:
			continue;
		case CFGOPTS_USAGE:
			rc = CLI_EXIT_USAGE;
			continue;
		case CFGOPTS_NOMEM:
			(void)fputs("paddock: out of memory\n", stderr);
			rc = CLI_EXIT_FAILURE;
			continue;
		case CFGOPTS_NOT_MINE:
			break;
		}
		if (streq(a, "-h") || streq(a, "--help")) {
			cmd_env_usage(stdout);
			rc = CLI_EXIT_OK;
		} else if (streq(a, "--format") && i + 1 < argc &&
		    childenv_format_from_name(argv[i + 1], &format) == 0) {
			i += 2;
		} else if (streq(a, "--format")) {
			(void)
			    fputs("paddock: --format takes sh, fish or json\n",
				stderr);
			rc = CLI_EXIT_USAGE;
		} else {
			(void)fprintf(stderr,
			    "paddock: unknown option '%s'\n"
			    "Run 'paddock env --help' for usage.\n",
			    a);
			rc = CLI_EXIT_USAGE;
		}
	}
	if (rc < 0)
		rc = cmd_env_run(&o, format);
	cfgopts_done(&o);
	return rc;
}
