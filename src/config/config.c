/* SPDX-License-Identifier: MIT */
/*
 * config_load(): the steps in order, and the accessors of the result.
 *
 *   layers    find and parse every layer (config_layers.c)
 *   check     each enabled layer against the schema (config_keys.c)
 *   merge     the enabled layers into one tree (config_merge.c)
 *   select    permissions: profile or legacy path (config_select.c)
 *   network   the effective network settings (config_network.c)
 *   require   the administrator's requirements (config_requirements.c)
 *
 * A step never stops at the first problem: each one works with what the
 * earlier steps could make of the input, so a single run reports every
 * problem. The load fails at the end if any error was recorded.
 */
#include "config/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "toml/toml.h"
#include "util/buf.h"
#include "util/strutil.h"

static const char *const config_layer_source_names[_CONFIG_LAYER_SOURCE_MAX] = {
	[CONFIG_LAYER_SYSTEM] = "system",
	[CONFIG_LAYER_USER] = "user",
	[CONFIG_LAYER_PROJECT] = "project",
	[CONFIG_LAYER_OVERRIDES] = "overrides",
};

static const char *const config_syntax_names[_CONFIG_SYNTAX_MAX] = {
	[CONFIG_SYNTAX_LEGACY] = "legacy",
	[CONFIG_SYNTAX_PROFILES] = "profiles",
};

const char *
config_layer_source_name(enum config_layer_source s)
{
	return s < _CONFIG_LAYER_SOURCE_MAX ? config_layer_source_names[s] :
					      NULL;
}

const char *
config_syntax_name(enum config_syntax s)
{
	return s < _CONFIG_SYNTAX_MAX ? config_syntax_names[s] : NULL;
}

struct config *
config_free(struct config *cfg)
{
	if (!cfg)
		return NULL;
	for (size_t i = 0; cfg->layers && i < cfg->n_layers; i++) {
		struct config_layer_state *l = &cfg->layers[i];

		toml_value_free(l->tree);
		config_strv_free(l->sources, l->n_sources);
		free(l->path);
		free(l->dir);
		free(l->disabled_reason);
	}
	free(cfg->layers);
	toml_value_free(cfg->tree);
	config_network_done(&cfg->net);
	config_shellenv_done(&cfg->shell_env);
	config_otel_done(&cfg->otel);
	free(cfg->rule_specs);
	config_requirements_done(&cfg->req);
	config_writable_roots_free(cfg->roots, cfg->n_roots);
	config_sandbox_policy_free(cfg->sandbox);
	config_fs_policy_free(cfg->fs);
	free(cfg->default_permissions);
	config_strv_free(cfg->add_dirs, cfg->n_add_dirs);
	free(cfg->cli_profile_source);
	free(cfg->cli_sandbox_source);
	free(cfg->cwd);
	free(cfg->home);
	free(cfg->user_home);
	free(cfg->user_file);
	free(cfg->system_file);
	free(cfg->git_root);
	free(cfg->project_root);
	free(cfg);
	return NULL;
}

/* The command-line options that are not layers: --profile, --sandbox,
 * --add-dir. */
static int
config_load_flags(struct config *cfg, const struct config_options *opts,
    struct config_diags *d)
{
	if (opts->profile) {
		cfg->cli_profile_source =
		    config_flag_source("--profile", opts->profile);
		if (!cfg->cli_profile_source)
			return -ENOMEM;
	}
	if (opts->sandbox) {
		cfg->cli_sandbox_source =
		    config_flag_source("--sandbox", opts->sandbox);
		if (!cfg->cli_sandbox_source)
			return -ENOMEM;
		if (!config_sandbox_mode_is_valid(opts->sandbox)) {
			struct config_origin o = { cfg->cli_sandbox_source, 1,
				(uint32_t)strlen("--sandbox ") + 1 };

			config_diags_add(d, CONFIG_SEVERITY_ERROR,
			    "invalid_value", &o, NULL,
			    "not a sandbox mode; expected \"read-only\", "
			    "\"workspace-write\" or \"danger-full-access\"");
		}
	}
	for (size_t i = 0; i < opts->n_add_dirs; i++) {
		char *dir;
		int r = config_path_resolve(opts->add_dirs[i], cfg->cwd,
		    cfg->user_home, &dir);

		if (r == -ENOENT) {
			config_diags_add(d, CONFIG_SEVERITY_ERROR,
			    "home_unavailable", NULL, NULL,
			    "cannot expand ~ in --add-dir: HOME is not set");
			continue;
		}
		if (r >= 0)
			r = config_strv_add_unique(&cfg->add_dirs,
			    &cfg->n_add_dirs, dir);
		free(dir);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Check every enabled layer on its own, then merge them in order. */
static int
config_load_merge(struct config *cfg, struct config_diags *d)
{
	int r = 0;

	cfg->tree = toml_table_new();
	if (!cfg->tree)
		return -ENOMEM;
	for (size_t i = 0; r >= 0 && i < cfg->n_layers; i++) {
		const struct config_layer_state *l = &cfg->layers[i];

		if (!l->pub.enabled || !l->tree)
			continue;
		config_keys_check(l->tree, d);
		r = config_merge(cfg->tree, l->tree);
	}
	return r;
}

int
config_load(const struct config_options *opts, struct config_diags *d,
    struct config **ret_cfg)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	int r;

	if (!cfg)
		return -ENOMEM;
	r = config_layers_load(cfg, opts, d);
	if (r >= 0)
		r = config_requirements_load(cfg, opts, d);
	if (r >= 0)
		r = config_load_flags(cfg, opts, d);
	if (r >= 0)
		r = config_load_merge(cfg, d);
	if (r >= 0)
		r = config_select(cfg, opts, d);
	if (r >= 0)
		r = config_network_load(cfg, d);
	if (r >= 0)
		r = config_shellenv_load(cfg);
	if (r >= 0)
		r = config_otel_load(cfg, d);
	if (r >= 0)
		r = config_requirements_check(cfg, d);
	if (r >= 0 && config_diags_oom(d))
		r = -ENOMEM;
	if (r >= 0 && config_diags_count_severity(d, CONFIG_SEVERITY_ERROR) > 0)
		r = -EINVAL;
	if (r < 0) {
		config_free(cfg);
		return r;
	}
	*ret_cfg = cfg;
	return 0;
}

const char *
config_get_default_permissions(const struct config *cfg)
{
	return cfg->syntax == CONFIG_SYNTAX_PROFILES ?
	    cfg->default_permissions :
	    NULL;
}

const char *
config_get_name(const struct config *cfg, enum config_names kind, size_t i,
    size_t *ret_len)
{
	const struct toml_value *t = config_get_table(cfg->tree,
	    kind == CONFIG_NAMES_PERMISSIONS ? "permissions" : "profiles");

	if (!t || i >= toml_table_size(t))
		return NULL;
	return toml_table_key(t, i, ret_len);
}

const char *
config_get_codex_home(const struct config *cfg)
{
	return cfg->home;
}

bool
config_intercepts(const struct config *cfg)
{
	return cfg->net.enabled && cfg->net.mitm &&
	    cfg->net.mode == POLICY_MODE_LIMITED;
}

int
config_mitm_dir(const struct config *cfg, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s/proxy", cfg->home);

	return n < 0 || (size_t)n >= outsz ? -ENAMETOOLONG : 0;
}

const struct config_sandbox_policy *
config_get_sandbox_policy(const struct config *cfg)
{
	return cfg->sandbox;
}

const struct config_fs_policy *
config_get_fs_policy(const struct config *cfg)
{
	return cfg->fs;
}

bool
config_get_network_sandbox_enabled(const struct config *cfg)
{
	return cfg->network_sandbox_enabled;
}

const char *
config_get_cwd(const struct config *cfg)
{
	return cfg->cwd;
}

const struct config_shell_env *
config_get_shell_env(const struct config *cfg)
{
	return &cfg->shell_env;
}
