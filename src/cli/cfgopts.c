/* SPDX-License-Identifier: MIT */
/* The common config options of the subcommands; see cfgopts.h. */
#include "cli/cfgopts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/buf.h"
#include "util/compiler.h"
#include "util/strutil.h"

const char cfgopts_help[] =
    "Config options:\n"
    "  --home DIR          CODEX_HOME (default $CODEX_HOME, else ~/.codex)\n"
    "  --config FILE       use FILE as the user layer instead of\n"
    "                      CODEX_HOME/config.toml\n"
    "  --system-config FILE\n"
    "                      use FILE as the system layer instead of\n"
    "                      /etc/codex/config.toml ('' for none)\n"
    "  --requirements FILE read the administrator's requirements from "
    "FILE\n"
    "                      instead of /etc/codex/requirements.toml\n"
    "                      ('' for none)\n"
    "  --managed-config FILE\n"
    "                      the legacy managed config instead of\n"
    "                      /etc/codex/managed_config.toml ('' for none)\n"
    "  --cwd DIR           the session directory (default: the current "
    "one)\n"
    "  -c KEY=VALUE        override a setting; KEY is a TOML dotted key,\n"
    "                      VALUE a TOML value or else a plain string\n"
    "                      (repeatable)\n"
    "  --profile NAME      use the config profile [profiles.NAME]\n"
    "  --permissions NAME  use the permission profile NAME\n"
    "                      (same as -c default_permissions=\"NAME\")\n"
    "  --sandbox MODE      legacy sandbox mode: read-only, "
    "workspace-write\n"
    "                      or danger-full-access\n"
    "  --add-dir DIR       another writable root (workspace-write only;\n"
    "                      repeatable)\n";

void
cfgopts_init(struct cfgopts *o)
{
	*o = (struct cfgopts){ 0 };
}

void
cfgopts_done(struct cfgopts *o)
{
	free(o->overrides);
	free(o->add_dirs);
	*o = (struct cfgopts){ 0 };
}

static int
cfgopts_push(const char ***v, size_t *n, const char *s)
{
	const char **nv = reallocarray(*v, *n + 1, sizeof(char *));

	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

enum cfgopts_option {
	CFGOPTS_HOME,
	CFGOPTS_CONFIG,
	CFGOPTS_SYSTEM_CONFIG,
	CFGOPTS_REQUIREMENTS,
	CFGOPTS_MANAGED_CONFIG,
	CFGOPTS_CWD,
	CFGOPTS_OVERRIDE,
	CFGOPTS_PROFILE,
	CFGOPTS_PERMISSIONS,
	CFGOPTS_SANDBOX,
	CFGOPTS_ADD_DIR,
};

enum cfgopts_result {
	CFGOPTS_NOT_MINE, /* argv[*i] is not a config option */
	CFGOPTS_TAKEN,    /* consumed; *i moved past it */
	CFGOPTS_USAGE,    /* a usage error, already printed to stderr */
	CFGOPTS_NOMEM,
};

static const struct {
	const char *name;
	enum cfgopts_option option;
} cfgopts_table[] = {
	{ "--home", CFGOPTS_HOME },
	{ "--config", CFGOPTS_CONFIG },
	{ "--system-config", CFGOPTS_SYSTEM_CONFIG },
	{ "--requirements", CFGOPTS_REQUIREMENTS },
	{ "--managed-config", CFGOPTS_MANAGED_CONFIG },
	{ "--cwd", CFGOPTS_CWD },
	{ "-c", CFGOPTS_OVERRIDE },
	{ "--profile", CFGOPTS_PROFILE },
	{ "--permissions", CFGOPTS_PERMISSIONS },
	{ "--sandbox", CFGOPTS_SANDBOX },
	{ "--add-dir", CFGOPTS_ADD_DIR },
};

static enum cfgopts_result
cfgopts_parse(struct cfgopts *o, int argc, char **argv, int *i)
{
	struct config_options *c = &o->opts;
	const char *v = NULL;
	size_t k;
	int m = 0, r = 0;

	for (k = 0; k < ELEMENTSOF(cfgopts_table) && m == 0; k++)
		m = cli_option_value(argc, argv, i, cfgopts_table[k].name, &v);
	if (m < 0)
		return CFGOPTS_USAGE;
	if (m == 0)
		return CFGOPTS_NOT_MINE;
	switch (cfgopts_table[k - 1].option) {
	case CFGOPTS_HOME:
		c->home = v;
		break;
	case CFGOPTS_CONFIG:
		c->config_file = v;
		break;
	case CFGOPTS_SYSTEM_CONFIG:
		c->system_file = v;
		break;
	case CFGOPTS_REQUIREMENTS:
		c->requirements_file = v;
		break;
	case CFGOPTS_MANAGED_CONFIG:
		c->managed_file = v;
		break;
	case CFGOPTS_CWD:
		c->cwd = v;
		break;
	case CFGOPTS_OVERRIDE:
		r = cfgopts_push(&o->overrides, &c->n_overrides, v);
		break;
	case CFGOPTS_PROFILE:
		c->profile = v;
		break;
	case CFGOPTS_PERMISSIONS:
		c->permissions = v;
		break;
	case CFGOPTS_SANDBOX:
		if (!config_sandbox_mode_is_valid(v)) {
			(void)fprintf(stderr,
			    "paddock: --sandbox takes read-only, "
			    "workspace-write or danger-full-access, not "
			    "'%s'\n",
			    v);
			return CFGOPTS_USAGE;
		}
		c->sandbox = v;
		break;
	case CFGOPTS_ADD_DIR:
		r = cfgopts_push(&o->add_dirs, &c->n_add_dirs, v);
		break;
	}
	if (r < 0)
		return CFGOPTS_NOMEM;
	c->overrides = o->overrides;
	c->add_dirs = o->add_dirs;
	return CFGOPTS_TAKEN;
}

int
cfgopts_parse_args(struct cfgopts *o, int argc, char **argv,
    int (*own)(void *userdata, int argc, char **argv, int *i), void *userdata)
{
	for (int i = 1; i < argc;) {
		int rc;

		switch (cfgopts_parse(o, argc, argv, &i)) {
		case CFGOPTS_TAKEN:
			continue;
		case CFGOPTS_USAGE:
			return CLI_EXIT_USAGE;
		case CFGOPTS_NOMEM:
			(void)fputs("paddock: out of memory\n", stderr);
			return CLI_EXIT_FAILURE;
		case CFGOPTS_NOT_MINE:
			break;
		}
		rc = own(userdata, argc, argv, &i);
		if (rc >= 0)
			return rc;
	}
	return -1;
}

void
cfgopts_print_diags(FILE *f, const struct config_diags *d)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < config_diags_count(d); i++) {
		const struct config_diag *diag = config_diags_get(d, i);

		buf_clear(&b);
		if (buf_printf(&b,
			"%s: ", config_severity_name(diag->severity)) < 0 ||
		    config_diag_format(diag, &b) < 0 ||
		    buf_printf(&b, " [%s]\n", diag->code) < 0) {
			(void)fputs("paddock: out of memory\n", stderr);
			break;
		}
		(void)fputs(buf_str(&b), f);
	}
	buf_done(&b);
}

struct config *
cfgopts_load(const struct cfgopts *o, bool print_warnings,
    struct config_diags **ret_diags)
{
	struct config_diags *d = config_diags_new();
	struct config *cfg = NULL;
	int r;

	*ret_diags = d;
	if (!d) {
		(void)fputs("paddock: out of memory\n", stderr);
		return NULL;
	}
	r = config_load(&o->opts, d, &cfg);
	if (r == -ENOMEM) {
		(void)fputs("paddock: out of memory\n", stderr);
		return NULL;
	}
	if (r < 0 || print_warnings)
		cfgopts_print_diags(stderr, d);
	return r < 0 ? NULL : cfg;
}
