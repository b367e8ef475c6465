/* SPDX-License-Identifier: MIT */
/*
 * paddock config check|show|schema: look at the effective configuration.
 * All the work happens in libpaddock (config/); this file parses argv and
 * chooses the output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cli/cfgopts.h"
#include "cli/cli.h"
#include "config/config.h"
#include "util/buf.h"
#include "util/strutil.h"

static void
cmd_config_usage(FILE *f)
{
	(void)fprintf(f,
	    "Usage: paddock config COMMAND [OPTIONS]\n"
	    "\n"
	    "Read the layered config.toml (system, user, trusted project "
	    "files,\n-c overrides) the way every paddock command does.\n"
	    "\nCommands:\n"
	    "  check     report every error and warning\n"
	    "  show      print the effective config and the compiled "
	    "permissions\n"
	    "  schema    print the JSON Schema of everything paddock reads\n"
	    "  profiles  list the permission and config profiles defined\n"
	    "\nRun 'paddock config COMMAND --help' for its options.\n");
}

static void
cmd_config_check_usage(FILE *f)
{
	(void)fprintf(f,
	    "Usage: paddock config check [OPTIONS]\n"
	    "\n"
	    "Load the config and print every error and warning with the "
	    "file:line:col\nand the key it concerns. Exits 0 when the config "
	    "loads (warnings are\nallowed), 1 when it does not, 2 on a usage "
	    "error.\n"
	    "\nOptions:\n"
	    "  --json              print {\"ok\",\"errors\",\"warnings\"}\n"
	    "  -h, --help          show this help\n"
	    "\n%s",
	    cfgopts_help);
}

static void
cmd_config_show_usage(FILE *f)
{
	(void)fprintf(f,
	    "Usage: paddock config show [OPTIONS]\n"
	    "\n"
	    "Print the effective config as TOML, each value followed by the "
	    "file:line\nit came from, then the compiled permissions. Exits 1 "
	    "when the config\ndoes not load.\n"
	    "\nOptions:\n"
	    "  --json              print one JSON object: layers, "
	    "permissions,\n"
	    "                      policies, writable roots, network, "
	    "warnings\n"
	    "  -h, --help          show this help\n"
	    "\n%s",
	    cfgopts_help);
}

static void
cmd_config_schema_usage(FILE *f)
{
	(void)fprintf(f,
	    "Usage: paddock config schema\n"
	    "\n"
	    "Print the JSON Schema (draft 2020-12) of every key paddock "
	    "reads.\n"
	    "\nOptions:\n"
	    "  -h, --help          show this help\n");
}

static void
cmd_config_profiles_usage(FILE *f)
{
	(void)fprintf(f,
	    "Usage: paddock config profiles [OPTIONS]\n"
	    "\n"
	    "List the names the effective config defines, one per line: "
	    "\"permissions\",\na tab and NAME for each [permissions.NAME] "
	    "(what --permissions takes),\n\"profile\", a tab and NAME for "
	    "each [profiles.NAME] (what --profile\ntakes). Names holding "
	    "control characters are left out. The shell\ncompletions use "
	    "this. Exits 1 when the config does not load.\n"
	    "\nOptions:\n"
	    "  -h, --help          show this help\n"
	    "\n%s",
	    cfgopts_help);
}

/* What `config check` and `config show` take besides the config options. */
struct cmd_config_args {
	const char *name; /* "check", "show" */
	void (*usage)(FILE *f);
	bool takes_json;
	bool json;
};

/* One argument that is not a config option: --json (when the command
 * takes it) or --help. */
static int
cmd_config_arg(void *userdata, int argc, char **argv, int *i)
{
	struct cmd_config_args *a = userdata;

	(void)argc;
	if (cli_is_help(argv[*i])) {
		a->usage(stdout);
		return CLI_EXIT_OK;
	}
	if (a->takes_json && streq(argv[*i], "--json")) {
		a->json = true;
		(*i)++;
		return -1;
	}
	(void)fprintf(stderr,
	    "paddock: config %s: unknown argument '%s'\n"
	    "Run 'paddock config %s --help' for usage.\n",
	    a->name, argv[*i], a->name);
	return CLI_EXIT_USAGE;
}

static int
cmd_config_print_json(json_t *j)
{
	char *text;

	if (!j) {
		(void)fputs("paddock: out of memory\n", stderr);
		return CLI_EXIT_FAILURE;
	}
	text = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	if (!text) {
		(void)fputs("paddock: out of memory\n", stderr);
		return CLI_EXIT_FAILURE;
	}
	(void)printf("%s\n", text);
	free(text);
	return CLI_EXIT_OK;
}

static json_t *
cmd_config_check_json(const struct config_diags *d, bool ok)
{
	json_t *o =
	    json_pack("{s:b,s:[],s:[]}", "ok", ok, "errors", "warnings");
	json_t *errors = json_object_get(o, "errors");
	json_t *warnings = json_object_get(o, "warnings");

	for (size_t i = 0; o && i < config_diags_count(d); i++) {
		const struct config_diag *diag = config_diags_get(d, i);
		json_t *list =
		    diag->severity == CONFIG_SEVERITY_ERROR ? errors : warnings;

		if (json_array_append_new(list, config_diag_to_json(diag)) <
		    0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static int
cmd_config_check(int argc, char **argv)
{
	struct cfgopts o;
	struct config_diags *d = config_diags_new();
	struct config *cfg = NULL;
	struct cmd_config_args a = { "check", cmd_config_check_usage, true,
		false };
	size_t n_err, n_warn;
	int r;

	cfgopts_init(&o);
	r = cfgopts_parse_args(&o, argc, argv, cmd_config_arg, &a);
	if (r >= 0)
		goto out;
	if (!d) {
		r = CLI_EXIT_FAILURE;
		(void)fputs("paddock: out of memory\n", stderr);
		goto out;
	}
	if (config_load(&o.opts, d, &cfg) == -ENOMEM) {
		r = CLI_EXIT_FAILURE;
		(void)fputs("paddock: out of memory\n", stderr);
		goto out;
	}
	if (a.json) {
		r = cmd_config_print_json(
		    cmd_config_check_json(d, cfg != NULL));
		if (r == CLI_EXIT_OK && !cfg)
			r = CLI_EXIT_FAILURE;
		goto out;
	}
	cfgopts_print_diags(stdout, d);
	n_err = config_diags_count_severity(d, CONFIG_SEVERITY_ERROR);
	n_warn = config_diags_count_severity(d, CONFIG_SEVERITY_WARNING);
	if (cfg)
		(void)printf("config loads: %zu warning%s\n", n_warn,
		    n_warn == 1 ? "" : "s");
	else
		(void)printf("config does not load: %zu error%s, %zu "
			     "warning%s\n",
		    n_err, n_err == 1 ? "" : "s", n_warn,
		    n_warn == 1 ? "" : "s");
	r = cfg ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
out:
	config_free(cfg);
	config_diags_free(d);
	cfgopts_done(&o);
	return r;
}

static int
cmd_config_show(int argc, char **argv)
{
	struct config_diags *d = NULL;
	struct config *cfg = NULL;
	struct cmd_config_args a = { "show", cmd_config_show_usage, true,
		false };
	struct cfgopts o;
	struct buf b;
	int r;

	cfgopts_init(&o);
	buf_init(&b, 0);
	r = cfgopts_parse_args(&o, argc, argv, cmd_config_arg, &a);
	if (r >= 0)
		goto out;
	cfg = cfgopts_load(&o, !a.json, &d);
	if (!cfg) {
		r = CLI_EXIT_FAILURE;
		goto out;
	}
	if (a.json) {
		r = cmd_config_print_json(config_to_json(cfg, d));
		goto out;
	}
	if (config_format_toml(cfg, &b) < 0) {
		(void)fputs("paddock: out of memory\n", stderr);
		r = CLI_EXIT_FAILURE;
		goto out;
	}
	(void)fputs(buf_str(&b), stdout);
	r = CLI_EXIT_OK;
out:
	buf_done(&b);
	config_free(cfg);
	config_diags_free(d);
	cfgopts_done(&o);
	return r;
}

/* Shells split completion candidates on whitespace and lines. */
static bool
cmd_config_name_is_printable(const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return len > 0;
}

static int
cmd_config_profiles(int argc, char **argv)
{
	static const char *const labels[_CONFIG_NAMES_MAX] = {
		[CONFIG_NAMES_PERMISSIONS] = "permissions",
		[CONFIG_NAMES_PROFILES] = "profile",
	};
	struct config_diags *d = NULL;
	struct config *cfg = NULL;
	struct cmd_config_args a = { "profiles", cmd_config_profiles_usage,
		false, false };
	struct cfgopts o;
	int r;

	cfgopts_init(&o);
	r = cfgopts_parse_args(&o, argc, argv, cmd_config_arg, &a);
	if (r >= 0)
		goto out;
	cfg = cfgopts_load(&o, false, &d);
	if (!cfg) {
		r = CLI_EXIT_FAILURE;
		goto out;
	}
	for (int k = 0; k < _CONFIG_NAMES_MAX; k++) {
		for (size_t i = 0;; i++) {
			size_t len;
			const char *name = config_get_name(cfg, k, i, &len);

			if (!name)
				break;
			if (cmd_config_name_is_printable(name, len))
				(void)printf("%s\t%.*s\n", labels[k], (int)len,
				    name);
		}
	}
	r = CLI_EXIT_OK;
out:
	config_free(cfg);
	config_diags_free(d);
	cfgopts_done(&o);
	return r;
}

static int
cmd_config_schema(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			cmd_config_schema_usage(stdout);
			return CLI_EXIT_OK;
		}
		(void)fprintf(stderr,
		    "paddock: config schema: unknown argument '%s'\n"
		    "Run 'paddock config schema --help' for usage.\n",
		    argv[i]);
		return CLI_EXIT_USAGE;
	}
	return cmd_config_print_json(config_schema());
}

int
cmd_config(int argc, char **argv)
{
	static const struct cli_command subs[] = {
		{ "check", "check the config", cmd_config_check },
		{ "show", "show the effective config", cmd_config_show },
		{ "schema", "print the JSON Schema", cmd_config_schema },
		{ "profiles", "list the profiles", cmd_config_profiles },
		{ NULL, NULL, NULL },
	};

	return cli_dispatch(argc, argv, subs, cmd_config_usage);
}
