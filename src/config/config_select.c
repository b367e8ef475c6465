/* SPDX-License-Identifier: MIT */
/*
 * Which permissions apply: a named permission profile or the legacy
 * sandbox_mode settings (spec §2.2), then everything that follows from the
 * choice: compiling and projecting the profile (§4.4, §4.5) or deriving
 * the legacy policy (§2.3), the extra writable roots (§2.4), the split
 * policies of a legacy policy (§4.3) and the writable roots (§4.2.1).
 *
 * Profiles that are not in use are compiled too, so their problems show
 * up as warnings; like the reference, they never fail the load.
 */
#include "config/config_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "toml/toml.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/strutil.h"

enum config_select_syntax {
	CONFIG_SELECT_NONE,
	CONFIG_SELECT_LEGACY,
	CONFIG_SELECT_PROFILES,
};

struct config_select_ctx {
	struct config *cfg;
	const struct config_options *opts;
	struct config_diags *d;
	const char *psm; /* sandbox_mode of the selected config profile */
	const char *cprofile;
	enum config_select_syntax syntax;
	/* What chose the legacy path, for the "profiles ignored" warning. */
	char *legacy_reason;
};

/* "a", "b" and "c" as a quoted list of the keys of t (for messages). */
static int
config_select_names(struct buf *b, const struct toml_value *t)
{
	size_t n = t ? toml_table_size(t) : 0;
	int r = 0;

	if (n == 0)
		return buf_append_str(b, "none is defined");
	r = buf_append_str(b, "defined: ");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		size_t len;
		const char *k = toml_table_key(t, i, &len);

		if (i > 0)
			r = buf_append_str(b, ", ");
		if (r >= 0)
			r = config_quote(b, k, len);
	}
	return r;
}

/* The config profile of --profile or profile, and its sandbox_mode. */
static int
config_select_config_profile(struct config_select_ctx *c)
{
	const struct toml_value *tree = c->cfg->tree;
	const struct toml_value *pv = NULL;
	const struct toml_value *cp;
	const struct toml_value *profiles = config_get_table(tree, "profiles");
	struct config_origin o = { 0 };
	struct config_keypath kp = { .n = 0 };
	const char *name = c->opts->profile;
	struct buf b;
	int r;

	if (name) {
		o = (struct config_origin){ c->cfg->cli_profile_source, 1,
			(uint32_t)strlen("--profile ") + 1 };
	} else {
		name = config_get_string(tree, "profile", &pv);
		if (!name)
			return 0;
		o = config_origin_of(pv);
		config_keypath_push(&kp, "profile", strlen("profile"));
	}
	c->cprofile = name;
	cp = profiles ? toml_table_get(profiles, name, strlen(name)) : NULL;
	if (cp && toml_value_type(cp) == TOML_TABLE) {
		const char *mode = config_get_string(cp, "sandbox_mode", NULL);

		if (config_sandbox_mode_is_valid(mode))
			c->psm = mode;
		return 0;
	}
	if (cp)
		return 0; /* not a table: reported by the structural check */
	buf_init(&b, 0);
	r = config_quote(&b, name, strlen(name));
	if (r >= 0)
		r = buf_append_str(&b, " is not defined under [profiles]; ");
	if (r >= 0)
		r = config_select_names(&b, profiles);
	if (r >= 0)
		config_diags_add(c->d, CONFIG_SEVERITY_ERROR,
		    "undefined_config_profile", &o, &kp, "config profile %s",
		    buf_str(&b));
	buf_done(&b);
	return r < 0 ? -ENOMEM : 0;
}

/* Remember what chose the legacy path: the parts joined. */
static int
config_select_set_reason(struct config_select_ctx *c, const char *a,
    const char *b, const char *z)
{
	struct buf buf;

	free(c->legacy_reason);
	buf_init(&buf, 0);
	if (buf_printf(&buf, "%s%s%s", a, b, z) < 0) {
		buf_done(&buf);
		c->legacy_reason = NULL;
		return -ENOMEM;
	}
	c->legacy_reason = buf_take(&buf);
	return c->legacy_reason ? 0 : -ENOMEM;
}

/* Step 1 of spec §2.2: which syntax the config speaks. */
static int
config_select_syntax(struct config_select_ctx *c)
{
	const struct config *cfg = c->cfg;
	int r = 0;

	if (c->opts->sandbox &&
	    config_sandbox_mode_is_valid(c->opts->sandbox)) {
		c->syntax = CONFIG_SELECT_LEGACY;
		return config_select_set_reason(c, "--sandbox", "", "");
	}
	if (c->psm) {
		struct buf q;

		c->syntax = CONFIG_SELECT_LEGACY;
		buf_init(&q, 0);
		r = config_quote(&q, c->cprofile, strlen(c->cprofile));
		if (r >= 0)
			r = config_select_set_reason(c,
			    "sandbox_mode of config profile ", buf_str(&q), "");
		buf_done(&q);
		return r < 0 ? -ENOMEM : 0;
	}
	/* Each enabled layer decides on its own keys, the higher one last;
	 * within a layer default_permissions wins. */
	for (size_t i = 0; r >= 0 && i < cfg->n_layers; i++) {
		const struct config_layer_state *l = &cfg->layers[i];

		if (!l->pub.enabled || !l->tree)
			continue;
		if (config_get_string(l->tree, "sandbox_mode", NULL)) {
			c->syntax = CONFIG_SELECT_LEGACY;
			r = config_select_set_reason(c, "sandbox_mode in ",
			    l->path ? l->path : "the command line", "");
		}
		if (config_get_string(l->tree, "default_permissions", NULL))
			c->syntax = CONFIG_SELECT_PROFILES;
	}
	if (r < 0 || c->syntax != CONFIG_SELECT_NONE)
		return r;
	if (config_get_string(cfg->tree, "default_permissions", NULL))
		c->syntax = CONFIG_SELECT_PROFILES;
	else if (config_get_string(cfg->tree, "sandbox_mode", NULL))
		c->syntax = CONFIG_SELECT_LEGACY;
	return 0;
}

/* The trust-based default of sandbox_mode (spec §2.3 step 1). */
static const char *
config_select_default_mode(const struct config *cfg)
{
	const struct toml_value *projects =
	    config_get_table(cfg->tree, "projects");
	const char *t = config_layers_trust(projects, cfg->cwd);

	if (!t && cfg->git_root)
		t = config_layers_trust(projects, cfg->git_root);
	return t ? "workspace-write" : "read-only";
}

/* --add-dir on the legacy path: more writable roots (spec §2.4). */
static int
config_select_legacy_extra(struct config_select_ctx *c)
{
	struct config *cfg = c->cfg;
	int r = 0;

	if (cfg->sandbox->type != CONFIG_SANDBOX_WORKSPACE_WRITE)
		return 0;
	for (size_t i = 0; r >= 0 && i < cfg->n_add_dirs; i++)
		r = config_strv_add(&cfg->sandbox->writable_roots,
		    &cfg->sandbox->n_writable_roots, cfg->add_dirs[i]);
	if (r >= 0)
		r = config_strv_dedup(cfg->sandbox->writable_roots,
		    &cfg->sandbox->n_writable_roots);
	return r;
}

static int
config_select_legacy(struct config_select_ctx *c)
{
	struct config *cfg = c->cfg;
	const char *mode = NULL;
	int r;

	if (config_sandbox_mode_is_valid(c->opts->sandbox))
		mode = c->opts->sandbox;
	else if (c->psm)
		mode = c->psm;
	else
		mode = config_get_string(cfg->tree, "sandbox_mode", NULL);
	if (!config_sandbox_mode_is_valid(mode))
		mode = config_select_default_mode(cfg);
	r = config_sandbox_from_mode(cfg, mode,
	    config_get_table(cfg->tree, "sandbox_workspace_write"), c->d,
	    &cfg->sandbox);
	if (r >= 0)
		r = config_select_legacy_extra(c);
	if (r >= 0)
		r = config_fs_policy_from_sandbox_policy(cfg->sandbox,
		    &cfg->fs);
	if (r >= 0)
		cfg->network_sandbox_enabled =
		    config_sandbox_policy_has_full_network(cfg->sandbox);
	return r;
}

/* --add-dir on the profile path: a write entry per new root, then project
 * again, only when the projection is workspace-write (spec §2.4). */
static int
config_select_profile_extra(struct config_select_ctx *c)
{
	struct config *cfg = c->cfg;
	bool added = false;
	int r = 0;

	if (cfg->sandbox->type != CONFIG_SANDBOX_WORKSPACE_WRITE)
		return 0;
	for (size_t i = 0; r >= 0 && i < cfg->n_add_dirs; i++) {
		const char *dir = cfg->add_dirs[i];
		bool present = false;

		for (size_t j = 0; j < cfg->fs->n_entries; j++) {
			const struct config_fs_entry *e = &cfg->fs->entries[j];

			if (!e->is_special &&
			    e->access == CONFIG_FS_ACCESS_WRITE &&
			    streq(e->path, dir))
				present = true;
		}
		if (present)
			continue;
		r = config_fs_policy_append(cfg->fs, false, 0, dir, NULL,
		    CONFIG_FS_ACCESS_WRITE, NULL);
		added = true;
	}
	if (r < 0 || !added)
		return r;
	cfg->sandbox = config_sandbox_policy_free(cfg->sandbox);
	return config_fs_policy_project(cfg->fs, cfg->network_sandbox_enabled,
	    cfg->cwd, &cfg->sandbox, NULL);
}

/* Steps 3-5 of spec §2.2. Returns 0 with cfg->profile set, or 0 after
 * reporting E1-E4, or -ENOMEM. */
static int
config_select_find_profile(struct config_select_ctx *c, bool has_profiles)
{
	struct config *cfg = c->cfg;
	const struct toml_value *perms =
	    config_get_table(cfg->tree, "permissions");
	const struct toml_value *dpv = NULL;
	const struct toml_value *p;
	const char *dp =
	    config_get_string(cfg->tree, "default_permissions", &dpv);
	struct config_keypath kp = { .n = 0 };
	struct config_origin o;
	struct buf b;
	int r;

	if (!dp) {
		o = config_origin_of(perms);
		config_keypath_push(&kp, "permissions", strlen("permissions"));
		if (has_profiles)
			config_diags_add(c->d, CONFIG_SEVERITY_ERROR,
			    "profiles_without_default", &o, &kp,
			    "permission profiles are defined but "
			    "default_permissions does not name the one to use; "
			    "set default_permissions (or pass --permissions)");
		else
			config_diags_add(c->d, CONFIG_SEVERITY_ERROR,
			    "missing_default_permissions", &o, &kp,
			    "no permission profile is named; set "
			    "default_permissions");
		return 0;
	}
	o = config_origin_of(dpv);
	config_keypath_push(&kp, "default_permissions",
	    strlen("default_permissions"));
	if (!perms) {
		config_diags_add(c->d, CONFIG_SEVERITY_ERROR,
		    "missing_permissions_table", &o, &kp,
		    "names a permission profile but there is no [permissions] "
		    "table to find it in");
		return 0;
	}
	p = toml_table_get(perms, dp, strlen(dp));
	if (p && toml_value_type(p) == TOML_TABLE) {
		cfg->profile = p;
		cfg->default_permissions = strdup(dp);
		return cfg->default_permissions ? 0 : -ENOMEM;
	}
	if (p)
		return 0; /* not a table: reported by the structural check */
	buf_init(&b, 0);
	r = config_quote(&b, dp, strlen(dp));
	if (r >= 0)
		r = buf_append_str(&b, " is not defined under [permissions]; ");
	if (r >= 0)
		r = config_select_names(&b, perms);
	if (r >= 0)
		config_diags_add(c->d, CONFIG_SEVERITY_ERROR,
		    "undefined_profile", &o, &kp, "permission profile %s",
		    buf_str(&b));
	buf_done(&b);
	return r < 0 ? -ENOMEM : 0;
}

static int
config_select_profiles(struct config_select_ctx *c, bool has_profiles)
{
	struct config *cfg = c->cfg;
	bool enabled = false;
	int r;

	r = config_select_find_profile(c, has_profiles);
	if (r < 0 || !cfg->profile)
		return r;
	r = config_fs_compile(cfg, cfg->default_permissions, cfg->profile,
	    CONFIG_SEVERITY_ERROR, c->d, &cfg->fs);
	if (r < 0)
		return r;
	(void)config_get_bool(config_get_table(cfg->profile, "network"),
	    "enabled", &enabled);
	cfg->network_sandbox_enabled = enabled;
	r = config_fs_policy_project(cfg->fs, enabled, cfg->cwd, &cfg->sandbox,
	    NULL);
	if (r == -EINVAL)
		return 0; /* E8, reported by config_fs_compile() */
	if (r >= 0)
		r = config_select_profile_extra(c);
	return r;
}

/* Problems of the profiles that are not in use, as warnings. */
static int
config_select_others(struct config_select_ctx *c)
{
	const struct toml_value *perms =
	    config_get_table(c->cfg->tree, "permissions");

	for (size_t i = 0; perms && i < toml_table_size(perms); i++) {
		const struct toml_value *p = toml_table_value(perms, i);
		_cleanup_free_ char *name = NULL;
		struct config_fs_policy *fs = NULL;
		int r;

		if (p == c->cfg->profile || toml_value_type(p) != TOML_TABLE)
			continue;
		name = strdup(toml_table_key(perms, i, NULL));
		if (!name)
			return -ENOMEM;
		r = config_fs_compile(c->cfg, name, p, CONFIG_SEVERITY_WARNING,
		    c->d, &fs);
		config_fs_policy_free(fs);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Settings that the chosen path ignores, said out loud. */
static void
config_select_ignored(struct config_select_ctx *c, bool has_profiles)
{
	const struct config *cfg = c->cfg;
	const struct toml_value *perms =
	    config_get_table(cfg->tree, "permissions");
	const struct toml_value *sww =
	    config_get_table(cfg->tree, "sandbox_workspace_write");
	const struct toml_value *mode = NULL;
	struct config_keypath kp = { .n = 0 };
	struct config_origin o;

	if (cfg->syntax == CONFIG_SYNTAX_LEGACY && has_profiles &&
	    c->legacy_reason) {
		o = config_origin_of(perms);
		config_keypath_push(&kp, "permissions", strlen("permissions"));
		config_diags_add(c->d, CONFIG_SEVERITY_WARNING,
		    "profiles_ignored", &o, &kp,
		    "the permission profiles are ignored: %s selects the "
		    "legacy sandbox settings",
		    c->legacy_reason);
		return;
	}
	if (cfg->syntax != CONFIG_SYNTAX_PROFILES || !cfg->profile)
		return;
	if (sww) {
		o = config_origin_of(sww);
		config_keypath_push(&kp, "sandbox_workspace_write",
		    strlen("sandbox_workspace_write"));
		config_diags_add(c->d, CONFIG_SEVERITY_WARNING,
		    "legacy_settings_ignored", &o, &kp,
		    "ignored: permission profile \"%s\" is in use",
		    cfg->default_permissions);
		config_keypath_pop(&kp);
	}
	if (config_get_string(cfg->tree, "sandbox_mode", &mode)) {
		o = config_origin_of(mode);
		config_keypath_push(&kp, "sandbox_mode",
		    strlen("sandbox_mode"));
		config_diags_add(c->d, CONFIG_SEVERITY_WARNING,
		    "legacy_settings_ignored", &o, &kp,
		    "ignored: permission profile \"%s\" is in use",
		    cfg->default_permissions);
	}
}

static void
config_select_add_dirs_ignored(struct config_select_ctx *c)
{
	const struct config *cfg = c->cfg;

	if (!cfg->sandbox ||
	    cfg->sandbox->type == CONFIG_SANDBOX_WORKSPACE_WRITE)
		return;
	for (size_t i = 0; i < cfg->n_add_dirs; i++)
		config_diags_add(c->d, CONFIG_SEVERITY_WARNING,
		    "add_dir_ignored", NULL, NULL,
		    "--add-dir %s has no effect: the sandbox policy is %s, not "
		    "workspace-write",
		    cfg->add_dirs[i],
		    config_sandbox_type_name(cfg->sandbox->type));
}

int
config_select(struct config *cfg, const struct config_options *opts,
    struct config_diags *d)
{
	struct config_select_ctx c = { .cfg = cfg, .opts = opts, .d = d };
	const struct toml_value *perms =
	    config_get_table(cfg->tree, "permissions");
	bool has_profiles = perms && toml_table_size(perms) > 0;
	bool profiles_active;
	int r;

	r = config_select_config_profile(&c);
	if (r >= 0)
		r = config_select_syntax(&c);
	if (r < 0)
		goto out;
	profiles_active = c.syntax == CONFIG_SELECT_PROFILES ||
	    (c.syntax == CONFIG_SELECT_NONE && has_profiles);
	cfg->syntax =
	    profiles_active ? CONFIG_SYNTAX_PROFILES : CONFIG_SYNTAX_LEGACY;
	r = profiles_active ? config_select_profiles(&c, has_profiles) :
			      config_select_legacy(&c);
	if (r >= 0 && !cfg->sandbox) {
		/* The profile could not be used (reported): fall back to
		 * read-only so the rest of the load can still be checked. */
		cfg->fs = config_fs_policy_free(cfg->fs);
		r = config_sandbox_from_mode(cfg, "read-only", NULL, d,
		    &cfg->sandbox);
		if (r >= 0)
			r = config_fs_policy_from_sandbox_policy(cfg->sandbox,
			    &cfg->fs);
	}
	if (r >= 0)
		r = config_select_others(&c);
	if (r < 0)
		goto out;
	config_select_ignored(&c, has_profiles);
	config_select_add_dirs_ignored(&c);
	r = config_sandbox_policy_writable_roots(cfg->sandbox, cfg->cwd,
	    &cfg->roots, &cfg->n_roots);
out:
	free(c.legacy_reason);
	return r;
}
