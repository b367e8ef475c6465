/* SPDX-License-Identifier: MIT */
/*
 * paddock run: run a command inside its permission profile (docs/sandbox.md).
 *
 *	paddock run -- make test
 *	paddock run --explain --format json -- sh
 *	paddock run --ask --landlock-only -- curl https://example.org
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "api/run.h"
#include "api/run_ask.h"
#include "cli/cfgopts.h"
#include "cli/cli.h"
#include "config/config.h"
#include "util/log.h"
#include "util/strutil.h"

struct cmd_run_args {
	int cmd_index; /* first argument of COMMAND, 0 until found */
	enum run_explain explain;
	bool json;
	bool quiet;
	const char *audit_arg; /* --audit FILE|- */
	bool landlock_only;
	bool ask;
};

static void
cmd_run_usage(FILE *f)
{
	(void)fprintf(f,
	    "Usage: paddock run [OPTIONS] [--] COMMAND [ARG...]\n"
	    "\n"
	    "Run COMMAND with exactly the filesystem and network access of "
	    "the\neffective permissions (the profile of default_permissions "
	    "or\n--permissions, or the legacy sandbox_mode), the current "
	    "directory as\nproject root. COMMAND gets its own user, mount, "
	    "pid and network\nnamespaces, Landlock and seccomp; its network "
	    "goes through paddock's\nproxy, whose listeners live inside its "
	    "namespace. paddock exits with\nCOMMAND's status (128+N when "
	    "signal N killed it) and never runs it\nunconfined: when a "
	    "mechanism is missing it says which and exits 1.\n"
	    "\nOptions:\n"
	    "  --audit FILE|-     write one JSON audit event per line to "
	    "FILE\n"
	    "                     (appending, created 0600), or to stderr "
	    "for '-';\n"
	    "                     each carries the run's execution.id\n"
	    "  --explain          print the plan (mounts, Landlock rules, "
	    "seccomp,\n"
	    "                     network, environment) instead of running\n"
	    "  --format text|json the --explain format (default text)\n"
	    "  --quiet            no notes on stderr (withheld variables, "
	    "the\n"
	    "                     summary of blocked requests at exit)\n"
	    "  --ask              ask on the terminal about each request "
	    "outside the\n"
	    "                     allowlist: allow once, for this run, or "
	    "deny\n"
	    "                     (no answer in 30 s, or "
	    "PADDOCK_ASK_TIMEOUT, denies)\n"
	    "  --landlock-only    the weaker fallback without user "
	    "namespaces:\n"
	    "                     Landlock and seccomp on the host as it is, "
	    "the\n"
	    "                     proxy on host loopback (docs/sandbox.md)\n"
	    "  -h, --help         show this help\n"
	    "\n%s",
	    cfgopts_help);
}

static int
cmd_run_arg(void *userdata, int argc, char **argv, int *i)
{
	struct cmd_run_args *a = userdata;
	const char *arg = argv[*i];
	const char *v;
	int m;

	if (streq(arg, "--") || arg[0] != '-' || streq(arg, "-")) {
		a->cmd_index = *i + streq(arg, "--");
		*i = argc;
		return -1;
	}
	if (cli_is_help(arg)) {
		cmd_run_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (streq(arg, "--explain")) {
		a->explain = RUN_EXPLAIN_TEXT;
		(*i)++;
		return -1;
	}
	if (streq(arg, "--quiet")) {
		a->quiet = true;
		(*i)++;
		return -1;
	}
	m = cli_option_value(argc, argv, i, "--audit", &v);
	if (m > 0) {
		if (!v[0]) {
			(void)fputs("paddock: --audit takes a file or '-' "
				    "(stderr)\n",
			    stderr);
			return CLI_EXIT_USAGE;
		}
		a->audit_arg = v;
		return -1;
	}
	if (m < 0)
		return CLI_EXIT_USAGE;
	if (streq(arg, "--ask")) {
		a->ask = true;
		(*i)++;
		return -1;
	}
	if (streq(arg, "--landlock-only")) {
		a->landlock_only = true;
		(*i)++;
		return -1;
	}
	m = cli_option_value(argc, argv, i, "--format", &v);
	if (m > 0 && (streq(v, "text") || streq(v, "json"))) {
		a->json = streq(v, "json");
		return -1;
	}
	if (m > 0)
		(void)fputs("paddock: --format takes text or json\n", stderr);
	else if (m == 0)
		(void)fprintf(stderr,
		    "paddock: unknown option '%s'\n"
		    "Run 'paddock run --help' for usage.\n",
		    arg);
	return CLI_EXIT_USAGE;
}

int
cmd_run(int argc, char **argv)
{
	struct cmd_run_args a = { 0 };
	struct config_diags *diags = NULL;
	struct run_options ro = { 0 };
	struct config *cfg;
	struct cfgopts o;
	char self[PATH_MAX];
	ssize_t n;
	int rc;

	cfgopts_init(&o);
	rc = cfgopts_parse_args(&o, argc, argv, cmd_run_arg, &a);
	if (rc >= 0)
		goto out;
	if (a.json && a.explain == RUN_EXPLAIN_NONE) {
		(void)fputs("paddock: --format only goes with --explain\n",
		    stderr);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (a.cmd_index == 0 || a.cmd_index >= argc) {
		(void)fputs("paddock: run needs a COMMAND\n"
			    "Run 'paddock run --help' for usage.\n",
		    stderr);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (a.json)
		a.explain = RUN_EXPLAIN_JSON;
	if (run_ask_timeout_from_env(&ro.ask_timeout_ms) < 0) {
		(void)fputs("paddock: PADDOCK_ASK_TIMEOUT takes a duration "
			    "such as 500ms, 10s or 2m\n",
		    stderr);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	/* The access log and per-request lines would mix with the
	 * command's own stderr; warnings and errors remain. An explicit
	 * --log-level still wins. */
	log_set_default_level(a.quiet ? LOG_LEVEL_ERR : LOG_LEVEL_WARN);
	cfg = cfgopts_load(&o, !a.quiet, &diags);
	config_diags_free(diags);
	if (!cfg) {
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	ro.argv = argv + a.cmd_index;
	ro.argc = (size_t)(argc - a.cmd_index);
	ro.explain = a.explain;
	ro.quiet = a.quiet;
	ro.ask = a.ask;
	ro.landlock_only = a.landlock_only;
	ro.self_exe = n > 0 ? self : NULL;
	ro.audit_arg = a.audit_arg;
	rc = run_main(cfg, &ro);
	config_free(cfg);
out:
	cfgopts_done(&o);
	return rc;
}
