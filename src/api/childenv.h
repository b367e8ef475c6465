/* SPDX-License-Identifier: MIT */
/*
 * The environment a child process needs to use the proxy (spec §8.6, with
 * our own marker names): the HTTP proxy URL for every tool family that
 * reads one, the NO_PROXY family, ALL_PROXY/FTP_PROXY (socks5h:// when
 * SOCKS5 is on), NODE_USE_ENV_PROXY, ELECTRON_GET_USE_PROXY and
 * CARGO_HTTP_PROXY. YARN_NO_PROXY is deliberately absent: it breaks Yarn
 * Berry. Pure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct buf;

#define CHILDENV_URL_MAX     96
#define CHILDENV_GIT_SSH_MAX 4200
#define CHILDENV_VARS        64
#define CHILDENV_CA_VARS     11
#define CHILDENV_CA_PATH_MAX 1024

struct childenv_var {
	const char *name;
	const char *value;  /* borrowed from the struct childenv */
	bool keep_existing; /* a value the environment has wins */
};

/* Embeddable; filled by childenv_build(). */
struct childenv {
	char http_url[CHILDENV_URL_MAX];
	char all_url[CHILDENV_URL_MAX];
	char git_ssh[CHILDENV_GIT_SSH_MAX];
	char ca_paths[CHILDENV_CA_VARS][CHILDENV_CA_PATH_MAX];
	struct childenv_var vars[CHILDENV_VARS];
	size_t n_vars;
};

enum childenv_format {
	CHILDENV_FORMAT_SH,
	CHILDENV_FORMAT_FISH,
	CHILDENV_FORMAT_JSON,
	_CHILDENV_FORMAT_MAX,
};

/* The NO_PROXY value children get. */
#define CHILDENV_NO_PROXY \
	"localhost,127.0.0.1,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"

/*
 * Fill e for a proxy whose HTTP listener is http_hostport ("127.0.0.1:3128"
 * or "[::1]:3128") and whose SOCKS5 listener is socks_hostport (NULL when
 * SOCKS5 is off). Returns 0 or -EINVAL for an address that does not fit.
 */
int childenv_build(struct childenv *e, const char *http_hostport,
    const char *socks_hostport, bool allow_local_binding);

/*
 * Add GIT_SSH_COMMAND so that git's ssh goes through 'paddock connect'
 * (the binary at paddock_path, which must be an absolute path of plain
 * characters; else "paddock" from PATH) to the SOCKS5 listener at
 * socks_hostport. A GIT_SSH_COMMAND already in the environment is kept
 * (childenv_apply(); callers that print e check for it themselves).
 * Returns 0 or -EINVAL.
 */
int childenv_add_git_ssh(struct childenv *e, const char *paddock_path,
    const char *socks_hostport);

/* The variables that tell TLS clients which CA file to trust (spec §6.5,
 * plus CARGO_HTTP_CAINFO), in the order childenv_add_ca() takes paths. */
extern const char *const childenv_ca_names[CHILDENV_CA_VARS];

/*
 * With interception on: point childenv_ca_names[i] at paths[i] (a bundle
 * holding the interception CA). These replace what the environment has:
 * a custom bundle of the parent's is honoured by the caller, which passes
 * a bundle made of it plus the CA. Returns 0 or -EINVAL for a path longer
 * than CHILDENV_CA_PATH_MAX.
 */
int childenv_add_ca(struct childenv *e,
    const char *const paths[CHILDENV_CA_VARS]);

/*
 * childenv_ca.c (not pure: reads and writes files): load or make the
 * interception CA in dir (CODEX_HOME/proxy), make the bundles and add the
 * CA variables to e. A parent's own bundle in one of the variables, as
 * lookup(userdata, name) tells, is honoured with a bundle of its own
 * (size-capped, regular files only). Errors are logged; returns 0 or -errno.
 */
int childenv_ca_setup(struct childenv *e, const char *dir,
    const char *(*lookup)(void *userdata, const char *name), void *userdata);

/* The variable's value in e, or NULL. */
const char *childenv_get(const struct childenv *e, const char *name);

/* "sh", "fish", "json". Returns 0 or -EINVAL. */
int childenv_format_from_name(const char *name, enum childenv_format *ret);

/* Append e as shell commands (sh: export NAME='v'; fish: set -gx NAME 'v')
 * or as one JSON object, quoted correctly for each. Returns 0 or -ENOMEM. */
int childenv_format(const struct childenv *e, enum childenv_format f,
    struct buf *out);

/*
 * A new environment array: envp (may be NULL) with every variable of e set,
 * replacing existing entries of the same name (except keep_existing ones).
 * NULL-terminated; free with childenv_strv_free(). Returns NULL on allocation
 * failure.
 */
char **childenv_apply(const struct childenv *e, char *const *envp);

/* Free an array from childenv_apply(). Accepts NULL; returns NULL. */
char **childenv_strv_free(char **strv);
