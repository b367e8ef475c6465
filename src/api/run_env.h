/* SPDX-License-Identifier: MIT */
/*
 * The environment of the command `paddock run` starts, from
 * [shell_environment_policy] (config.h describes the steps). Pure.
 */
#pragma once

#include <stddef.h>

struct config_shell_env;

/*
 * Apply policy to envp (NULL-terminated "NAME=value" strings; entries
 * without '=' are dropped). *ret is a new NULL-terminated array (free with
 * childenv_strv_free()); *ret_withheld counts the variables the default
 * excludes removed. Returns 0 or -ENOMEM.
 */
int run_env_build(const struct config_shell_env *policy, char *const *envp,
    char ***ret, size_t *ret_withheld);
