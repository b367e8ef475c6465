/* SPDX-License-Identifier: MIT */
/*
 * [shell_environment_policy] applied to an environment: inherit (all,
 * core or none), the default excludes unless ignore_default_excludes,
 * exclude, set, then include_only. Names are matched by case-insensitive
 * globs, as the reference does.
 */
#include "api/run_env.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "util/strutil.h"

static const char *const run_env_core[] = { "HOME", "LOGNAME", "PATH", "SHELL",
	"USER", "USERNAME", "TMPDIR", "TEMP", "TMP", NULL };

static const char *const run_env_default_excludes[] = { "*KEY*", "*SECRET*",
	"*TOKEN*", NULL };

/* name is the text before '=' (len bytes) of an entry. */
static bool
run_env_match(const char *name, size_t len, const char *pattern)
{
	char buf[256];

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return fnmatch(pattern, buf, FNM_CASEFOLD) == 0;
}

static bool
run_env_match_any(const char *name, size_t len, const char *const *patterns,
    size_t n)
{
	for (size_t i = 0; i < n && patterns[i]; i++)
		if (run_env_match(name, len, patterns[i]))
			return true;
	return false;
}

static bool
run_env_is_core(const char *name, size_t len)
{
	for (size_t i = 0; run_env_core[i]; i++)
		if (strlen(run_env_core[i]) == len &&
		    memcmp(run_env_core[i], name, len) == 0)
			return true;
	return false;
}

static int
run_env_push(char ***v, size_t *n, char *s)
{
	char **nv;

	if (!s)
		return -ENOMEM;
	nv = reallocarray(*v, *n + 2, sizeof(char *));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

static char *
run_env_join(const char *name, const char *value)
{
	size_t a = strlen(name), b = strlen(value);
	char *s = malloc(a + b + 2);

	if (!s)
		return NULL;
	memcpy(s, name, a);
	s[a] = '=';
	memcpy(s + a + 1, value, b + 1);
	return s;
}

/* Remove the entries of v[0..*n) for which keep() is false. */
static void
run_env_filter(char **v, size_t *n, const struct config_shell_env *p)
{
	size_t k = 0;

	for (size_t i = 0; i < *n; i++) {
		size_t len = strcspn(v[i], "=");

		if (run_env_match_any(v[i], len,
			(const char *const *)p->include_only,
			p->n_include_only))
			v[k++] = v[i];
		else
			free(v[i]);
	}
	*n = k;
	v[k] = NULL;
}

int
run_env_build(const struct config_shell_env *p, char *const *envp, char ***ret,
    size_t *ret_withheld)
{
	char **v = calloc(1, sizeof(char *));
	size_t n = 0, withheld = 0;
	int r = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; envp && envp[i] && r >= 0; i++) {
		const char *eq = strchr(envp[i], '=');
		size_t len = eq ? (size_t)(eq - envp[i]) : 0;

		if (!eq || len == 0 || p->inherit == CONFIG_ENV_INHERIT_NONE)
			continue;
		if (p->inherit == CONFIG_ENV_INHERIT_CORE &&
		    !run_env_is_core(envp[i], len))
			continue;
		if (!p->ignore_default_excludes &&
		    run_env_match_any(envp[i], len, run_env_default_excludes,
			SIZE_MAX)) {
			withheld++;
			continue;
		}
		if (run_env_match_any(envp[i], len,
			(const char *const *)p->exclude, p->n_exclude))
			continue;
		r = run_env_push(&v, &n, strdup(envp[i]));
	}
	for (size_t i = 0; i < p->n_set && r >= 0; i++) {
		size_t len = strlen(p->set_names[i]);

		for (size_t k = 0; k < n; k++)
			if (strncmp(v[k], p->set_names[i], len) == 0 &&
			    v[k][len] == '=') {
				free(v[k]);
				memmove(&v[k], &v[k + 1],
				    (n - k) * sizeof(char *));
				n--;
				break;
			}
		r = run_env_push(&v, &n,
		    run_env_join(p->set_names[i], p->set_values[i]));
	}
	if (r >= 0 && p->n_include_only > 0)
		run_env_filter(v, &n, p);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return r;
	}
	*ret = v;
	*ret_withheld = withheld;
	return 0;
}
