/* SPDX-License-Identifier: MIT */
/*
 * Administrator requirements (spec permissions §5.4, network §1.5-§1.6):
 * what /etc/codex/requirements.toml and the legacy managed_config.toml
 * fix, whatever the user layers say.
 *
 * The sources are read in order and the first one to set a field wins;
 * the legacy managed config contributes one field, sandbox_mode, mapped
 * to allowed_sandbox_modes = ["read-only", <mode>]. A requirements file
 * that exists but cannot be read or parsed is an error: requirements fail
 * closed. Then:
 *
 *   allowed_sandbox_modes      must include "read-only"; the effective
 *                              legacy projection's mode must be listed
 *   allowed_approval_policies  approval_policy, when set, must be listed
 *   [experimental_network]     enabled, allow_upstream_proxy,
 *                              dangerously_allow_non_loopback_proxy,
 *                              dangerously_allow_non_loopback_admin,
 *                              allow_local_binding: false forbids true;
 *                              mode: "limited" forbids "full";
 *                              dangerously_allow_all_unix_sockets: only
 *                              when true here, or unset with no managed
 *                              allow_unix_sockets; denied_domains are
 *                              added to the user's (denylist_expansion_
 *                              enabled = false: the user may deny no
 *                              more); allowed_domains bound the user's by
 *                              coverage (allowlist_expansion_enabled: true
 *                              = the user's must include them, false =
 *                              equal them); allow_unix_sockets bound the
 *                              user's as a subset.
 *
 * A violation is an error at the user's entry, naming the requirement and
 * its file:line:col (the diagnostic also carries them as data). Paddock
 * never silently lowers a user value: the administrator sees the conflict
 * at config check, not a policy that differs from the file.
 */
#include "config/config_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "toml/toml.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/limits.h"
#include "util/strutil.h"

#define CONFIG_REQ_DEFAULT_FILE    "/etc/codex/requirements.toml"
#define CONFIG_REQ_DEFAULT_MANAGED "/etc/codex/managed_config.toml"
#define CONFIG_REQ_NET             "experimental_network"
#define CONFIG_KEY_TEXT_MAX        (LIMIT_POLICY_PATTERN_BYTES + 64)

struct config_req_ctx {
	struct config *cfg;
	struct config_diags *d;
	int r;
};

static void
config_req_keep(struct config_req_ctx *c, int r)
{
	if (r < 0 && c->r >= 0)
		c->r = r;
}

/* Record a requirement in force; returns its entry or NULL. */
static const struct config_requirement *
config_req_add(struct config_req_ctx *c, const char *key,
    const struct toml_value *v, const char *value_text)
{
	struct config_req_set *rs = &c->cfg->req;
	struct config_requirement *e;
	struct buf b;
	void *p;

	p = reallocarray(rs->v, rs->n + 1, sizeof(*rs->v));
	if (!p) {
		config_req_keep(c, -ENOMEM);
		return NULL;
	}
	rs->v = p;
	e = &rs->v[rs->n];
	buf_init(&b, 0);
	if (value_text ? buf_append_str(&b, value_text) :
			 toml_format_value(&b, v)) {
		buf_done(&b);
		config_req_keep(c, -ENOMEM);
		return NULL;
	}
	*e = (struct config_requirement){ .key = strdup(key),
		.value = buf_take(&b),
		.origin = config_origin_of(v) };
	buf_done(&b);
	if (!e->key || !e->value) {
		free((char *)e->key);
		free((char *)e->value);
		config_req_keep(c, -ENOMEM);
		return NULL;
	}
	rs->n++;
	return e;
}

/* An error at the user's value (origin, key), about requirement e. */
static void config_req_violation(struct config_req_ctx *c,
    const struct config_origin *origin, const char *key,
    const struct config_requirement *e, const char *fmt, ...) _printf_(5, 6);

static void
config_req_violation(struct config_req_ctx *c,
    const struct config_origin *origin, const char *key,
    const struct config_requirement *e, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	int r;

	buf_init(&b, 0);
	va_start(ap, fmt);
	r = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r >= 0)
		r = buf_printf(&b, "; required by %s = %s at %s:%u:%u", e->key,
		    e->value, e->origin.file ? e->origin.file : "?",
		    e->origin.line, e->origin.column);
	if (r < 0) {
		config_req_keep(c, r);
	} else {
		config_diags_add_at(c->d, CONFIG_SEVERITY_ERROR,
		    "requirement_violated", origin, key, "%s", buf_str(&b));
		config_req_keep(c,
		    config_diags_set_requirement(c->d, &e->origin, e->key));
	}
	buf_done(&b);
}

/* The first source's value of [table.]key, or NULL. */
static const struct toml_value *
config_req_find(const struct config *cfg, const char *table, const char *key)
{
	for (size_t i = 0; i < ELEMENTSOF(cfg->req.trees); i++) {
		const struct toml_value *t = cfg->req.trees[i];

		if (t && table)
			t = config_get_table(t, table);
		if (t && toml_table_get_str(t, key))
			return toml_table_get_str(t, key);
	}
	return NULL;
}

static int
config_req_read(struct config *cfg, size_t i, const char *path,
    struct config_diags *d)
{
	struct config_origin o = { .file = NULL };
	_cleanup_free_ char *text = NULL;
	struct toml_error err = { 0 };
	struct toml_options opts = { .max_bytes = LIMIT_CONFIG_FILE_BYTES };
	size_t len = 0;
	int r;

	cfg->req.paths[i] = strdup(path);
	if (!cfg->req.paths[i])
		return -ENOMEM;
	o.file = opts.source = cfg->req.paths[i];
	r = config_layers_read(path, LIMIT_CONFIG_FILE_BYTES, false, &text,
	    &len);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		config_diags_add(d, CONFIG_SEVERITY_ERROR,
		    "requirements_unreadable", &o, NULL,
		    "cannot read the administrator's requirements: %s",
		    r == -EINVAL    ? "not a regular file" :
			r == -E2BIG ? "the file is too large" :
				      strerror(-r));
		return 0;
	}
	if (!text)
		return 0; /* no such file: no requirements from it */
	r = toml_parse(text, len, &opts, &cfg->req.trees[i], &err);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		o.line = err.line;
		o.column = err.column;
		config_diags_add(d, CONFIG_SEVERITY_ERROR, "toml_syntax", &o,
		    NULL, "%s", err.message);
	}
	return 0;
}

int
config_requirements_load(struct config *cfg, const struct config_options *opts,
    struct config_diags *d)
{
	const char *paths[2] = { opts->requirements_file, opts->managed_file };
	const char *defaults[2] = { CONFIG_REQ_DEFAULT_FILE,
		CONFIG_REQ_DEFAULT_MANAGED };
	int r = 0;

	for (size_t i = 0; r >= 0 && i < 2; i++) {
		const char *p = paths[i] ? paths[i] : defaults[i];

		if (p[0])
			r = config_req_read(cfg, i, p, d);
	}
	return r;
}

void
config_requirements_done(struct config_req_set *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free((char *)rs->v[i].key);
		free((char *)rs->v[i].value);
	}
	free(rs->v);
	for (size_t i = 0; i < ELEMENTSOF(rs->trees); i++) {
		toml_value_free(rs->trees[i]);
		free(rs->paths[i]);
	}
	*rs = (struct config_req_set){ 0 };
}

size_t
config_requirements_count(const struct config *cfg)
{
	return cfg->req.n;
}

const struct config_requirement *
config_requirements_get(const struct config *cfg, size_t i)
{
	return i < cfg->req.n ? &cfg->req.v[i] : NULL;
}

/* A string array requirement; false when absent or not one (reported). */
static bool
config_req_strings(struct config_req_ctx *c, const struct toml_value *v,
    const char *key)
{
	struct config_origin o;

	if (!v)
		return false;
	o = config_origin_of(v);
	if (toml_value_type(v) == TOML_ARRAY) {
		bool ok = true;

		for (size_t i = 0; i < toml_array_size(v); i++)
			ok &= toml_value_type(toml_array_get(v, i)) ==
			    TOML_STRING;
		if (ok)
			return true;
	}
	config_diags_add_at(c->d, CONFIG_SEVERITY_ERROR, "invalid_type", &o,
	    key, "a requirement here must be an array of strings");
	return false;
}

static bool
config_req_has(const struct toml_value *arr, const char *s, bool fold)
{
	for (size_t i = 0; i < toml_array_size(arr); i++) {
		const char *t = toml_value_string(toml_array_get(arr, i), NULL);

		if (fold ? strcasecmp(t, s) == 0 : streq(t, s))
			return true;
	}
	return false;
}

/* Where the effective sandbox mode was chosen: --sandbox, sandbox_mode,
 * or default_permissions. */
static void
config_req_mode_origin(const struct config *cfg, struct config_origin *ret,
    const char **ret_key)
{
	const struct toml_value *v = NULL;

	*ret = (struct config_origin){ 0 };
	*ret_key = NULL;
	if (cfg->syntax == CONFIG_SYNTAX_PROFILES) {
		(void)config_get_string(cfg->tree, "default_permissions", &v);
		*ret_key = "default_permissions";
	} else if (cfg->cli_sandbox_source) {
		ret->file = cfg->cli_sandbox_source;
		ret->line = 1;
		return;
	} else {
		(void)config_get_string(cfg->tree, "sandbox_mode", &v);
		*ret_key = "sandbox_mode";
	}
	if (v)
		*ret = config_origin_of(v);
}

static void
config_req_sandbox_modes(struct config_req_ctx *c)
{
	static const char *const words[] = { "read-only", "workspace-write",
		"danger-full-access", "external-sandbox" };
	struct config *cfg = c->cfg;
	const struct toml_value *v =
	    config_req_find(cfg, NULL, "allowed_sandbox_modes");
	const struct toml_value *managed = cfg->req.trees[1] ?
	    toml_table_get_str(cfg->req.trees[1], "sandbox_mode") :
	    NULL;
	const struct config_requirement *e;
	const char *mode = config_sandbox_type_name(cfg->sandbox->type);
	struct config_origin o;
	const char *key;
	char text[96];

	if (v && !config_req_strings(c, v, "allowed_sandbox_modes"))
		return;
	if (v) {
		struct config_origin vo = config_origin_of(v);
		bool ok = true;

		for (size_t i = 0; i < toml_array_size(v); i++) {
			const char *w =
			    toml_value_string(toml_array_get(v, i), NULL);
			bool known = false;

			for (size_t k = 0; k < ELEMENTSOF(words); k++)
				known |= streq(w, words[k]);
			if (!known) {
				config_diags_add_at(c->d, CONFIG_SEVERITY_ERROR,
				    "invalid_value", &vo,
				    "allowed_sandbox_modes",
				    "unknown sandbox mode in requirements; "
				    "expected read-only, workspace-write, "
				    "danger-full-access or external-sandbox");
				ok = false;
			}
		}
		if (!config_req_has(v, "read-only", false)) {
			config_diags_add_at(c->d, CONFIG_SEVERITY_ERROR,
			    "invalid_requirements", &vo,
			    "allowed_sandbox_modes",
			    "allowed_sandbox_modes must include \"read-only\"");
			ok = false;
		}
		if (!ok)
			return;
		e = config_req_add(c, "allowed_sandbox_modes", v, NULL);
		if (!e || config_req_has(v, mode, false))
			return;
	} else if (managed && toml_value_type(managed) == TOML_STRING) {
		const char *m = toml_value_string(managed, NULL);

		if (!config_sandbox_mode_is_valid(m)) {
			struct config_origin mo = config_origin_of(managed);

			config_diags_add_at(c->d, CONFIG_SEVERITY_ERROR,
			    "invalid_value", &mo, "sandbox_mode",
			    "not a sandbox mode");
			return;
		}
		(void)snprintf(text, sizeof(text), "[\"read-only\", \"%s\"]",
		    m);
		e = config_req_add(c, "allowed_sandbox_modes", managed, text);
		if (!e || streq(mode, "read-only") || streq(mode, m))
			return;
	} else {
		return;
	}
	config_req_mode_origin(cfg, &o, &key);
	config_req_violation(c, &o, key, e,
	    "the effective sandbox mode is \"%s\", which the administrator "
	    "does not allow",
	    mode);
}

static void
config_req_approvals(struct config_req_ctx *c)
{
	const struct toml_value *v =
	    config_req_find(c->cfg, NULL, "allowed_approval_policies");
	const struct toml_value *user = NULL;
	const struct config_requirement *e;
	const char *policy;

	if (!config_req_strings(c, v, "allowed_approval_policies"))
		return;
	e = config_req_add(c, "allowed_approval_policies", v, NULL);
	policy = config_get_string(c->cfg->tree, "approval_policy", &user);
	if (e && policy && !config_req_has(v, policy, false)) {
		struct config_origin o = config_origin_of(user);

		config_req_violation(c, &o, "approval_policy", e,
		    "approval_policy \"%s\" is not allowed", policy);
	}
}

/* Where the effective network key was written: the profile's network
 * table wins over the top-level one. NULL when it was not written. */
static const struct toml_value *
config_req_user_value(const struct config *cfg, const char *key, char *keybuf,
    size_t keysz)
{
	const struct toml_value *t = config_get_table(cfg->profile, "network");
	const struct toml_value *v = t ? toml_table_get_str(t, key) : NULL;

	if (v) {
		(void)snprintf(keybuf, keysz, "permissions.%s.network.%s",
		    cfg->default_permissions, key);
		return v;
	}
	t = config_get_table(cfg->tree, "network");
	v = t ? toml_table_get_str(t, key) : NULL;
	(void)snprintf(keybuf, keysz, "network.%s", key);
	return v;
}

static const struct config_requirement *
config_req_net_bool(struct config_req_ctx *c, const char *key, bool *ret)
{
	const struct toml_value *v =
	    config_req_find(c->cfg, CONFIG_REQ_NET, key);
	char full[96];

	if (!v)
		return NULL;
	(void)snprintf(full, sizeof(full), CONFIG_REQ_NET ".%s", key);
	if (toml_value_type(v) != TOML_BOOL) {
		struct config_origin o = config_origin_of(v);

		config_diags_add_at(c->d, CONFIG_SEVERITY_ERROR, "invalid_type",
		    &o, full, "a requirement here must be true or false");
		return NULL;
	}
	*ret = toml_value_bool(v);
	return config_req_add(c, full, v, NULL);
}

/* A boolean maximum: the constraint false forbids a user true. */
static void
config_req_net_max(struct config_req_ctx *c, const char *key, bool user)
{
	const struct config_requirement *e;
	bool max = true;
	char ukey[CONFIG_KEY_TEXT_MAX];

	e = config_req_net_bool(c, key, &max);
	if (e && !max && user) {
		const struct toml_value *v =
		    config_req_user_value(c->cfg, key, ukey, sizeof(ukey));
		struct config_origin o = config_origin_of(v);

		config_req_violation(c, v ? &o : NULL, v ? ukey : NULL, e,
		    "%s = true is not allowed", key);
	}
}

static void
config_req_net_mode(struct config_req_ctx *c)
{
	const struct toml_value *v =
	    config_req_find(c->cfg, CONFIG_REQ_NET, "mode");
	const struct config_requirement *e;
	const char *m;
	char ukey[CONFIG_KEY_TEXT_MAX];

	if (!v)
		return;
	m = toml_value_type(v) == TOML_STRING ? toml_value_string(v, NULL) :
						NULL;
	if (!m || (!streq(m, "limited") && !streq(m, "full"))) {
		struct config_origin o = config_origin_of(v);

		config_diags_add_at(c->d, CONFIG_SEVERITY_ERROR,
		    "invalid_value", &o, CONFIG_REQ_NET ".mode",
		    "expected \"limited\" or \"full\"");
		return;
	}
	e = config_req_add(c, CONFIG_REQ_NET ".mode", v, NULL);
	if (e && streq(m, "limited") && c->cfg->net.mode == POLICY_MODE_FULL &&
	    c->cfg->net.enabled) {
		const struct toml_value *u =
		    config_req_user_value(c->cfg, "mode", ukey, sizeof(ukey));
		struct config_origin o = config_origin_of(u);

		config_req_violation(c, u ? &o : NULL, u ? ukey : NULL, e,
		    "mode \"full\" is more permissive than the administrator "
		    "allows");
	}
}

static const struct toml_value *
config_req_net_list(struct config_req_ctx *c, const char *key)
{
	const struct toml_value *v =
	    config_req_find(c->cfg, CONFIG_REQ_NET, key);
	char full[96];

	(void)snprintf(full, sizeof(full), CONFIG_REQ_NET ".%s", key);
	if (!config_req_strings(c, v, full))
		return NULL;
	if (!config_req_add(c, full, v, NULL))
		return NULL;
	return v;
}

static const struct config_requirement *
config_req_last(const struct config_req_ctx *c)
{
	return c->cfg->req.n ? &c->cfg->req.v[c->cfg->req.n - 1] : NULL;
}

/* Is pattern in the user's rules of list (case-insensitive)? */
static bool
config_req_user_has(const struct config_network *net, enum policy_list list,
    const char *pattern)
{
	for (size_t i = 0; i < net->n_rules; i++)
		if (net->rules[i].list == list &&
		    strcasecmp(net->rules[i].pattern, pattern) == 0)
			return true;
	return false;
}

static int
config_req_append_deny(struct config *cfg, const char *pattern,
    const struct config_origin *o, struct config_diags *d)
{
	struct config_network *net = &cfg->net;
	struct config_domain_rule *rule;
	void *p;

	/* Deny wins: a user allow of the very same pattern goes. */
	for (size_t i = 0; i < net->n_rules; i++) {
		if (net->rules[i].list != POLICY_LIST_ALLOW ||
		    strcasecmp(net->rules[i].pattern, pattern) != 0)
			continue;
		config_diags_add_at(d, CONFIG_SEVERITY_WARNING,
		    "allow_overridden_by_deny", &net->rules[i].origin,
		    net->rules[i].key,
		    "\"%s\" is allowed here but the administrator denies it "
		    "at %s:%u:%u; the deny wins",
		    pattern, o->file ? o->file : "?", o->line, o->column);
		free(net->rules[i].pattern);
		free(net->rules[i].key);
		memmove(&net->rules[i], &net->rules[i + 1],
		    (net->n_rules - i - 1) * sizeof(*net->rules));
		net->n_rules--;
		i--;
	}
	p = reallocarray(net->rules, net->n_rules + 1, sizeof(*net->rules));
	if (!p)
		return -ENOMEM;
	net->rules = p;
	rule = &net->rules[net->n_rules];
	*rule = (struct config_domain_rule){ .list = POLICY_LIST_DENY,
		.origin = *o };
	rule->pattern = strdup(pattern);
	rule->key = strdup(CONFIG_REQ_NET ".denied_domains");
	if (!rule->pattern || !rule->key) {
		free(rule->pattern);
		free(rule->key);
		return -ENOMEM;
	}
	net->n_rules++;
	return 0;
}

static void
config_req_denied(struct config_req_ctx *c)
{
	struct config_network *net = &c->cfg->net;
	const struct config_requirement *e;
	const struct toml_value *v;
	bool expand = true;
	bool changed = false;

	/* Entries move when more are added: take e last. */
	if (config_req_find(c->cfg, CONFIG_REQ_NET, "denied_domains"))
		(void)config_req_net_bool(c, "denylist_expansion_enabled",
		    &expand);
	v = config_req_net_list(c, "denied_domains");
	e = config_req_last(c);
	if (!v)
		return;
	for (size_t i = 0; i < toml_array_size(v); i++) {
		const struct toml_value *it = toml_array_get(v, i);
		const char *pat = toml_value_string(it, NULL);
		struct config_origin o = config_origin_of(it);

		if (config_req_user_has(net, POLICY_LIST_DENY, pat))
			continue;
		config_req_keep(c,
		    config_req_append_deny(c->cfg, pat, &o, c->d));
		changed = true;
	}
	if (!expand)
		for (size_t i = 0; i < net->n_rules; i++) {
			const struct config_domain_rule *r = &net->rules[i];

			if (r->list == POLICY_LIST_DENY &&
			    !config_req_has(v, r->pattern, true))
				config_req_violation(c, &r->origin, r->key, e,
				    "denying \"%s\" goes beyond the managed "
				    "deny list, which may not be extended",
				    r->pattern);
		}
	if (changed)
		config_req_keep(c, config_network_specs(c->cfg));
}

static void
config_req_allowed(struct config_req_ctx *c)
{
	const struct config_network *net = &c->cfg->net;
	const struct config_requirement *e;
	const struct toml_value *v;
	bool expand = false, have_flag = false;

	/* Entries move when more are added: take e last. */
	if (config_req_find(c->cfg, CONFIG_REQ_NET, "allowed_domains"))
		have_flag = config_req_net_bool(c,
				"allowlist_expansion_enabled", &expand) != NULL;
	v = config_req_net_list(c, "allowed_domains");
	e = config_req_last(c);
	if (!v)
		return;
	for (size_t i = 0; i < toml_array_size(v); i++) {
		const struct toml_value *it = toml_array_get(v, i);

		if (streq(toml_value_string(it, NULL), "*")) {
			struct config_origin o = config_origin_of(it);

			config_diags_add_at(c->d, CONFIG_SEVERITY_ERROR,
			    "invalid_requirements", &o,
			    CONFIG_REQ_NET ".allowed_domains",
			    "the global wildcard \"*\" cannot be a managed "
			    "allowed domain");
			return;
		}
	}
	for (size_t i = 0; i < net->n_rules; i++) {
		const struct config_domain_rule *r = &net->rules[i];
		bool ok = false;

		if (r->list != POLICY_LIST_ALLOW)
			continue;
		if (have_flag) {
			ok = expand || config_req_has(v, r->pattern, true);
		} else {
			for (size_t k = 0; k < toml_array_size(v) && !ok; k++)
				ok = policy_covers(
				    toml_value_string(toml_array_get(v, k),
					NULL),
				    r->pattern);
		}
		if (!ok)
			config_req_violation(c, &r->origin, r->key, e,
			    "allowing \"%s\" is not %s the managed allowed "
			    "domains",
			    r->pattern, have_flag ? "among" : "covered by");
	}
	if (!have_flag)
		return;
	/* With the flag set, every managed entry must be allowed, unless
	 * the user denies it. */
	for (size_t k = 0; k < toml_array_size(v); k++) {
		const char *m = toml_value_string(toml_array_get(v, k), NULL);

		if (!config_req_user_has(net, POLICY_LIST_ALLOW, m) &&
		    !config_req_user_has(net, POLICY_LIST_DENY, m))
			config_req_violation(c, NULL, "network.allowed_domains",
			    e, "the managed allowed domain \"%s\" is missing",
			    m);
	}
}

static void
config_req_sockets(struct config_req_ctx *c)
{
	const struct config_network *net = &c->cfg->net;
	const struct config_requirement *e, *all;
	const struct toml_value *v;
	bool all_ok = true, have_all;

	/* Entries move when more are added: index, then pointers. */
	have_all = config_req_net_bool(c, "dangerously_allow_all_unix_sockets",
		       &all_ok) != NULL;
	v = config_req_net_list(c, "allow_unix_sockets");
	e = config_req_last(c);
	all = have_all ? &c->cfg->req.v[c->cfg->req.n - (v ? 2 : 1)] : NULL;
	if (!have_all && v)
		all_ok = false; /* a managed list implies no "all" */
	if (!all_ok && net->dangerously_allow_all_unix_sockets) {
		char ukey[CONFIG_KEY_TEXT_MAX];
		const struct toml_value *u = config_req_user_value(c->cfg,
		    "dangerously_allow_all_unix_sockets", ukey, sizeof(ukey));
		struct config_origin o = config_origin_of(u);

		config_req_violation(c, u ? &o : NULL, u ? ukey : NULL,
		    all ? all : e,
		    "dangerously_allow_all_unix_sockets = true is not "
		    "allowed");
	}
	if (!v)
		return;
	for (size_t i = 0; i < net->n_unix_sockets; i++) {
		const struct config_unix_socket *s = &net->unix_sockets[i];

		if (!config_req_has(v, s->path, true))
			config_req_violation(c, &s->origin,
			    "network.allow_unix_sockets", e,
			    "the unix socket %s is not among the managed ones",
			    s->path);
	}
}

int
config_requirements_check(struct config *cfg, struct config_diags *d)
{
	struct config_req_ctx c = { .cfg = cfg, .d = d };
	const struct config_network *net = &cfg->net;

	if (!cfg->req.trees[0] && !cfg->req.trees[1])
		return 0;
	config_req_sandbox_modes(&c);
	config_req_approvals(&c);
	config_req_net_max(&c, "enabled", net->enabled);
	config_req_net_mode(&c);
	config_req_net_max(&c, "allow_upstream_proxy",
	    net->enabled && net->allow_upstream_proxy);
	config_req_net_max(&c, "dangerously_allow_non_loopback_proxy",
	    net->dangerously_allow_non_loopback_proxy);
	config_req_net_max(&c, "dangerously_allow_non_loopback_admin",
	    net->dangerously_allow_non_loopback_admin);
	config_req_net_max(&c, "allow_local_binding", net->allow_local_binding);
	config_req_denied(&c);
	config_req_allowed(&c);
	config_req_sockets(&c);
	return c.r;
}

int
config_requirements_check_mode(const struct config *cfg, enum policy_mode mode,
    char *err, size_t errsz)
{
	for (size_t i = 0; i < cfg->req.n; i++) {
		const struct config_requirement *e = &cfg->req.v[i];

		if (!streq(e->key, CONFIG_REQ_NET ".mode") ||
		    mode != POLICY_MODE_FULL || !streq(e->value, "\"limited\""))
			continue;
		(void)snprintf(err, errsz,
		    "mode \"full\" is more permissive than the administrator "
		    "allows (%s = %s in %s:%u:%u)",
		    e->key, e->value, e->origin.file ? e->origin.file : "?",
		    e->origin.line, e->origin.column);
		return -EPERM;
	}
	return 0;
}
