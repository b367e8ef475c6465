/* SPDX-License-Identifier: MIT */
/* Child-process proxy environment and its shell quoting. */
#include "api/childenv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/buf.h"
#include "util/compiler.h"
#include "util/strutil.h"

/* Every name that takes the plain HTTP proxy URL. */
static const char *const childenv_http_names[] = {
	"HTTP_PROXY",
	"HTTPS_PROXY",
	"http_proxy",
	"https_proxy",
	"WS_PROXY",
	"WSS_PROXY",
	"ws_proxy",
	"wss_proxy",
	"YARN_HTTP_PROXY",
	"YARN_HTTPS_PROXY",
	"npm_config_http_proxy",
	"npm_config_https_proxy",
	"npm_config_proxy",
	"NPM_CONFIG_HTTP_PROXY",
	"NPM_CONFIG_HTTPS_PROXY",
	"NPM_CONFIG_PROXY",
	"BUNDLE_HTTP_PROXY",
	"BUNDLE_HTTPS_PROXY",
	"PIP_PROXY",
	"DOCKER_HTTP_PROXY",
	"DOCKER_HTTPS_PROXY",
	"CARGO_HTTP_PROXY",
};

/* YARN_NO_PROXY is left out on purpose: Yarn Berry rejects it. */
static const char *const childenv_no_proxy_names[] = {
	"NO_PROXY",
	"no_proxy",
	"npm_config_noproxy",
	"NPM_CONFIG_NOPROXY",
	"BUNDLE_NO_PROXY",
};

static const char *const childenv_all_names[] = {
	"ALL_PROXY",
	"all_proxy",
	"FTP_PROXY",
	"ftp_proxy",
};

_Static_assert(2 + ELEMENTSOF(childenv_http_names) +
	    ELEMENTSOF(childenv_no_proxy_names) +
	    ELEMENTSOF(childenv_all_names) + 2 + 1 /* GIT_SSH_COMMAND */ +
	    CHILDENV_CA_VARS <=
	CHILDENV_VARS,
    "CHILDENV_VARS is too small");

const char *const childenv_ca_names[CHILDENV_CA_VARS] = {
	"SSL_CERT_FILE",
	"REQUESTS_CA_BUNDLE",
	"CURL_CA_BUNDLE",
	"NODE_EXTRA_CA_CERTS",
	"GIT_SSL_CAINFO",
	"PIP_CERT",
	"BUNDLE_SSL_CA_CERT",
	"npm_config_cafile",
	"NPM_CONFIG_CAFILE",
	"CODEX_CA_CERTIFICATE",
	"CARGO_HTTP_CAINFO",
};

static void
childenv_add(struct childenv *e, const char *name, const char *value)
{
	if (e->n_vars < CHILDENV_VARS)
		e->vars[e->n_vars++] =
		    (struct childenv_var){ name, value, false };
}

int
childenv_build(struct childenv *e, const char *http_hostport,
    const char *socks_hostport, bool allow_local_binding)
{
	int n;

	*e = (struct childenv){ 0 };
	n = snprintf(e->http_url, sizeof(e->http_url), "http://%s",
	    http_hostport);
	if (n < 0 || (size_t)n >= sizeof(e->http_url))
		return -EINVAL;
	if (socks_hostport)
		n = snprintf(e->all_url, sizeof(e->all_url), "socks5h://%s",
		    socks_hostport);
	else
		n = snprintf(e->all_url, sizeof(e->all_url), "%s", e->http_url);
	if (n < 0 || (size_t)n >= sizeof(e->all_url))
		return -EINVAL;
	childenv_add(e, "PADDOCK_NETWORK_PROXY_ACTIVE", "1");
	childenv_add(e, "PADDOCK_NETWORK_ALLOW_LOCAL_BINDING",
	    allow_local_binding ? "1" : "0");
	for (size_t i = 0; i < ELEMENTSOF(childenv_http_names); i++)
		childenv_add(e, childenv_http_names[i], e->http_url);
	for (size_t i = 0; i < ELEMENTSOF(childenv_all_names); i++)
		childenv_add(e, childenv_all_names[i], e->all_url);
	for (size_t i = 0; i < ELEMENTSOF(childenv_no_proxy_names); i++)
		childenv_add(e, childenv_no_proxy_names[i], CHILDENV_NO_PROXY);
	childenv_add(e, "NODE_USE_ENV_PROXY", "1");
	childenv_add(e, "ELECTRON_GET_USE_PROXY", "true");
	return 0;
}

int
childenv_add_ca(struct childenv *e, const char *const paths[CHILDENV_CA_VARS])
{
	for (size_t i = 0; i < CHILDENV_CA_VARS; i++) {
		int n = snprintf(e->ca_paths[i], sizeof(e->ca_paths[i]), "%s",
		    paths[i]);

		if (n < 0 || (size_t)n >= sizeof(e->ca_paths[i]))
			return -EINVAL;
		childenv_add(e, childenv_ca_names[i], e->ca_paths[i]);
	}
	return 0;
}

/* Characters that mean nothing to sh, so a path made of them needs no
 * quoting inside ssh's ProxyCommand (which sh runs). */
static bool
childenv_shell_plain(const char *s)
{
	for (; *s; s++)
		if (!ascii_isalpha(*s) && !ascii_isdigit(*s) &&
		    !strchr("/._+-,:=@%", *s))
			return false;
	return true;
}

int
childenv_add_git_ssh(struct childenv *e, const char *paddock_path,
    const char *socks_hostport)
{
	const char *exe = paddock_path && paddock_path[0] == '/' &&
		childenv_shell_plain(paddock_path) ?
	    paddock_path :
	    "paddock";
	char addr[CHILDENV_URL_MAX];
	size_t n = 0;
	int r;

	/* "[::1]:8081": brackets are a glob to sh; escape them. */
	for (const char *p = socks_hostport; *p; p++) {
		if (n + 3 > sizeof(addr))
			return -EINVAL;
		if (*p == '[' || *p == ']')
			addr[n++] = '\\';
		addr[n++] = *p;
	}
	addr[n] = '\0';
	r = snprintf(e->git_ssh, sizeof(e->git_ssh),
	    "ssh -o ProxyCommand='%s connect --socks %s %%h %%p'", exe, addr);
	if (r < 0 || (size_t)r >= sizeof(e->git_ssh))
		return -EINVAL;
	if (e->n_vars < CHILDENV_VARS)
		e->vars[e->n_vars++] = (struct childenv_var){ "GIT_SSH_COMMAND",
			e->git_ssh, true };
	return 0;
}

const char *
childenv_get(const struct childenv *e, const char *name)
{
	for (size_t i = 0; i < e->n_vars; i++)
		if (streq(e->vars[i].name, name))
			return e->vars[i].value;
	return NULL;
}

int
childenv_format_from_name(const char *name, enum childenv_format *ret)
{
	static const char *const names[_CHILDENV_FORMAT_MAX] = {
		[CHILDENV_FORMAT_SH] = "sh",
		[CHILDENV_FORMAT_FISH] = "fish",
		[CHILDENV_FORMAT_JSON] = "json",
	};

	for (int i = 0; i < _CHILDENV_FORMAT_MAX; i++)
		if (streq(name, names[i])) {
			*ret = (enum childenv_format)i;
			return 0;
		}
	return -EINVAL;
}

/* POSIX sh: inside '...' nothing is special except the closing quote,
 * which is written as '\''. */
static int
childenv_quote_sh(const char *v, struct buf *out)
{
	int r = buf_append_char(out, '\'');

	for (; *v && r >= 0; v++)
		r = *v == '\'' ? buf_append_str(out, "'\\''") :
				 buf_append_char(out, *v);
	if (r >= 0)
		r = buf_append_char(out, '\'');
	return r;
}

/* fish: inside '...' only \' and \\ are escapes. */
static int
childenv_quote_fish(const char *v, struct buf *out)
{
	int r = buf_append_char(out, '\'');

	for (; *v && r >= 0; v++) {
		if (*v == '\'' || *v == '\\')
			r = buf_append_char(out, '\\');
		if (r >= 0)
			r = buf_append_char(out, *v);
	}
	if (r >= 0)
		r = buf_append_char(out, '\'');
	return r;
}

static int
childenv_format_json(const struct childenv *e, struct buf *out)
{
	json_t *o = json_object();
	char *text = NULL;
	int r = 0;

	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < e->n_vars && r == 0; i++)
		r = json_object_set_new(o, e->vars[i].name,
		    json_string(e->vars[i].value));
	if (r == 0)
		text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	r = buf_printf(out, "%s\n", text);
	free(text);
	return r;
}

int
childenv_format(const struct childenv *e, enum childenv_format f,
    struct buf *out)
{
	int r = 0;

	if (f == CHILDENV_FORMAT_JSON)
		return childenv_format_json(e, out);
	for (size_t i = 0; i < e->n_vars && r >= 0; i++) {
		const struct childenv_var *v = &e->vars[i];

		if (f == CHILDENV_FORMAT_FISH) {
			r = buf_printf(out, "set -gx %s ", v->name);
			if (r >= 0)
				r = childenv_quote_fish(v->value, out);
			if (r >= 0)
				r = buf_append_str(out, ";\n");
		} else {
			r = buf_printf(out, "export %s=", v->name);
			if (r >= 0)
				r = childenv_quote_sh(v->value, out);
			if (r >= 0)
				r = buf_append_str(out, ";\n");
		}
	}
	return r;
}

static bool
childenv_entry_is(const char *entry, const char *name)
{
	size_t n = strlen(name);

	return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

char **
childenv_apply(const struct childenv *e, char *const *envp)
{
	size_t n_in = 0, n = 0;
	char **out;

	while (envp && envp[n_in])
		n_in++;
	out = calloc(n_in + e->n_vars + 1, sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n_in; i++) {
		bool replaced = false;

		for (size_t k = 0; k < e->n_vars && !replaced; k++)
			replaced = !e->vars[k].keep_existing &&
			    childenv_entry_is(envp[i], e->vars[k].name);
		if (replaced)
			continue;
		out[n] = strdup(envp[i]);
		if (!out[n++])
			return childenv_strv_free(out);
	}
	for (size_t k = 0; k < e->n_vars; k++) {
		struct buf b;
		bool kept = false;

		for (size_t i = 0; i < n_in && e->vars[k].keep_existing; i++)
			kept =
			    kept || childenv_entry_is(envp[i], e->vars[k].name);
		if (kept)
			continue;
		buf_init(&b, 0);
		if (buf_printf(&b, "%s=%s", e->vars[k].name, e->vars[k].value) <
		    0) {
			buf_done(&b);
			return childenv_strv_free(out);
		}
		out[n] = buf_take(&b);
		if (!out[n++])
			return childenv_strv_free(out);
	}
	return out;
}

char **
childenv_strv_free(char **strv)
{
	if (!strv)
		return NULL;
	for (size_t i = 0; strv[i]; i++)
		free(strv[i]);
	free(strv);
	return NULL;
}
