/* SPDX-License-Identifier: MIT */
/*
 * [shell_environment_policy]: read from the merged tree into a plain
 * struct config_shell_env. config_keys_check() already reported every
 * value of the wrong type or an unknown inherit word; such values are
 * skipped here, so a loaded config only holds valid ones.
 */
#include "config/config_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "toml/toml.h"
#include "util/strutil.h"

static int
config_shellenv_strings(const struct toml_value *t, const char *key, char ***v,
    size_t *n)
{
	const struct toml_value *a = toml_table_get_str(t, key);
	int r = 0;

	if (!a || toml_value_type(a) != TOML_ARRAY)
		return 0;
	for (size_t i = 0; i < toml_array_size(a) && r >= 0; i++) {
		const struct toml_value *s = toml_array_get(a, i);
		size_t len;
		const char *text;

		if (toml_value_type(s) != TOML_STRING)
			continue;
		text = toml_value_string(s, &len);
		if (strlen(text) != len)
			continue;
		r = config_strv_add(v, n, text);
	}
	return r;
}

static int
config_shellenv_set(const struct toml_value *t, struct config_shell_env *e)
{
	const struct toml_value *set = config_get_table(t, "set");
	size_t n_values = 0;
	int r = 0;

	for (size_t i = 0; set && i < toml_table_size(set) && r >= 0; i++) {
		const struct toml_value *v = toml_table_value(set, i);
		size_t klen, vlen;
		const char *k = toml_table_key(set, i, &klen);
		const char *s;

		if (toml_value_type(v) != TOML_STRING)
			continue;
		s = toml_value_string(v, &vlen);
		/* A name with '=' or a NUL could never reach execve(). */
		if (strlen(k) != klen || klen == 0 || strchr(k, '=') ||
		    strlen(s) != vlen)
			continue;
		r = config_strv_add(&e->set_names, &e->n_set, k);
		if (r >= 0)
			r = config_strv_add(&e->set_values, &n_values, s);
		if (r < 0 && n_values < e->n_set)
			free(e->set_names[--e->n_set]);
	}
	return r;
}

int
config_shellenv_load(struct config *cfg)
{
	const struct toml_value *t =
	    config_get_table(cfg->tree, "shell_environment_policy");
	struct config_shell_env *e = &cfg->shell_env;
	const char *inherit;
	int r;

	*e = (struct config_shell_env){ 0 };
	if (!t)
		return 0;
	inherit = config_get_string(t, "inherit", NULL);
	if (inherit && streq(inherit, "core"))
		e->inherit = CONFIG_ENV_INHERIT_CORE;
	else if (inherit && streq(inherit, "none"))
		e->inherit = CONFIG_ENV_INHERIT_NONE;
	(void)config_get_bool(t, "ignore_default_excludes",
	    &e->ignore_default_excludes);
	r = config_shellenv_strings(t, "exclude", &e->exclude, &e->n_exclude);
	if (r >= 0)
		r = config_shellenv_strings(t, "include_only", &e->include_only,
		    &e->n_include_only);
	if (r >= 0)
		r = config_shellenv_set(t, e);
	return r < 0 ? -ENOMEM : 0;
}

void
config_shellenv_done(struct config_shell_env *e)
{
	config_strv_free(e->exclude, e->n_exclude);
	config_strv_free(e->include_only, e->n_include_only);
	config_strv_free(e->set_names, e->n_set);
	config_strv_free(e->set_values, e->n_set);
	*e = (struct config_shell_env){ 0 };
}
