/* SPDX-License-Identifier: MIT */
/*
 * paddock env: print the environment a child process needs to use the
 * proxy, quoted for a shell or as JSON:
 *
 *	eval "$(paddock env --config examples/config.toml)"
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "api/childenv.h"
#include "cli/cfgopts.h"
#include "cli/cli.h"
#include "config/config.h"
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

static const char *
cmd_env_lookup(void *userdata, const char *name)
{
	(void)userdata;
	return secure_getenv(name);
}

/* With interception in use, children must trust its CA (spec §6.5). */
static int
cmd_env_ca(struct childenv *e, const struct config *cfg)
{
	char dir[4096];

	if (!config_intercepts(cfg))
		return 0;
	if (config_mitm_dir(cfg, dir, sizeof(dir)) < 0) {
		log_err("CODEX_HOME is too long");
		return -ENAMETOOLONG;
	}
	return childenv_ca_setup(e, dir, cmd_env_lookup, NULL);
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
	socks_on = net->enable_socks5;
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
	    cmd_env_git_ssh(&e, socks_on ? socks : NULL) < 0) {
		log_err("out of memory");
	} else if (cmd_env_ca(&e, cfg) < 0) {
		/* said by childenv_ca_setup() */
	} else if (childenv_format(&e, format, &out) < 0) {
		log_err("out of memory");
	} else {
		(void)fputs(buf_str(&out), stdout);
		rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
	}
	buf_done(&out);
	config_free(cfg);
	return rc;
}

/* One argument that is not a config option: --format or --help. Returns
 * -1 to go on, or an exit status. */
static int
cmd_env_arg(void *userdata, int argc, char **argv, int *i)
{
	enum childenv_format *format = userdata;
	const char *a = argv[*i];
	const char *v;
	int m;

	if (cli_is_help(a)) {
		cmd_env_usage(stdout);
		return CLI_EXIT_OK;
	}
	m = cli_option_value(argc, argv, i, "--format", &v);
	if (m > 0 && childenv_format_from_name(v, format) == 0)
		return -1;
	if (m > 0)
		(void)fputs("paddock: --format takes sh, fish or json\n",
		    stderr);
	else if (m == 0)
		(void)fprintf(stderr,
		    "paddock: unknown option '%s'\n"
		    "Run 'paddock env --help' for usage.\n",
		    a);
	return CLI_EXIT_USAGE;
}

int
cmd_env(int argc, char **argv)
{
	enum childenv_format format = CHILDENV_FORMAT_SH;
	struct cfgopts o;
	int rc;

	cfgopts_init(&o);
	rc = cfgopts_parse_args(&o, argc, argv, cmd_env_arg, &format);
	if (rc < 0)
		rc = cmd_env_run(&o, format);
	cfgopts_done(&o);
	return rc;
}
