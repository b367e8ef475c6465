/* SPDX-License-Identifier: MIT */
/*
 * JSON output. The policies use the reference's shapes exactly (spec
 * §4.1-§4.2), omitted fields included, so tools that read the reference's
 * JSON read ours:
 *
 *   SandboxPolicy   {"type":"read-only"} (+ "access" unless full access,
 *                   + "network_access" only when true),
 *                   {"type":"workspace-write","writable_roots" (omitted
 *                   when empty),"read_only_access" (omitted when full),
 *                   "network_access","exclude_tmpdir_env_var",
 *                   "exclude_slash_tmp"}, {"type":"danger-full-access"},
 *                   {"type":"external-sandbox","network_access":
 *                   "restricted"|"enabled"}
 *   ReadOnlyAccess  {"type":"restricted","include_platform_defaults":b,
 *                   "readable_roots" (omitted when empty)}
 *   FileSystemSandboxPolicy {"kind":...,"entries" (omitted when empty)}
 *   entry           {"path":{"type":"path","path":...} |
 *                    {"type":"special","value":{"kind":...,
 *                    "subpath" (omitted when none)}},"access":...}
 *   NetworkSandboxPolicy "restricted" | "enabled"
 *
 * Strings from config or the filesystem may hold bytes that are not UTF-8;
 * they are written with U+FFFD in place of each bad byte.
 */
#include "config/config_internal.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/buf.h"
#include "util/utf8.h"

/* Objects are built with one helper that owns the value it is given. */
static bool
config_json_set(json_t *o, const char *key, json_t *v)
{
	return v && json_object_set_new(o, key, v) == 0;
}

json_t *
config_json_text(const char *s)
{
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	size_t len;
	struct buf b;
	json_t *j;

	if (!s)
		return json_null();
	len = strlen(s);
	buf_init(&b, 0);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, s + len, &cp);
		int r = n ? buf_append(&b, s + i, n) :
			    buf_append_str(&b, replacement);

		if (r < 0) {
			buf_done(&b);
			return NULL;
		}
		i += n ? n : 1;
	}
	j = json_stringn(buf_str(&b), b.len);
	buf_done(&b);
	return j;
}

json_t *
config_json_strv(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, config_json_text(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
config_json_read_access(const struct config_read_access *ra)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (!config_json_set(o, "type", json_string("restricted")) ||
	    !config_json_set(o, "include_platform_defaults",
		json_boolean(ra->include_platform_defaults)) ||
	    (ra->n_readable_roots > 0 &&
		!config_json_set(o, "readable_roots",
		    config_json_strv(ra->readable_roots,
			ra->n_readable_roots)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
config_sandbox_policy_to_json(const struct config_sandbox_policy *p)
{
	json_t *o = json_object();
	bool ok;

	if (!o)
		return NULL;
	ok = config_json_set(o, "type",
	    json_string(config_sandbox_type_name(p->type)));
	switch (p->type) {
	case CONFIG_SANDBOX_DANGER_FULL_ACCESS:
		break;
	case CONFIG_SANDBOX_READ_ONLY:
		if (ok && !p->read.full)
			ok = config_json_set(o, "access",
			    config_json_read_access(&p->read));
		if (ok && p->network_access)
			ok = config_json_set(o, "network_access", json_true());
		break;
	case CONFIG_SANDBOX_EXTERNAL_SANDBOX:
		ok = ok &&
		    config_json_set(o, "network_access",
			json_string(
			    p->network_access ? "enabled" : "restricted"));
		break;
	case CONFIG_SANDBOX_WORKSPACE_WRITE:
		if (ok && p->n_writable_roots > 0)
			ok = config_json_set(o, "writable_roots",
			    config_json_strv(p->writable_roots,
				p->n_writable_roots));
		if (ok && !p->read.full)
			ok = config_json_set(o, "read_only_access",
			    config_json_read_access(&p->read));
		ok = ok &&
		    config_json_set(o, "network_access",
			json_boolean(p->network_access)) &&
		    config_json_set(o, "exclude_tmpdir_env_var",
			json_boolean(p->exclude_tmpdir_env_var)) &&
		    config_json_set(o, "exclude_slash_tmp",
			json_boolean(p->exclude_slash_tmp));
		break;
	case _CONFIG_SANDBOX_TYPE_MAX:
		break;
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
config_json_fs_path(const struct config_fs_entry *e)
{
	json_t *o = json_object();
	json_t *v;
	bool ok;

	if (!o)
		return NULL;
	if (!e->is_special) {
		ok = config_json_set(o, "type", json_string("path")) &&
		    config_json_set(o, "path", config_json_text(e->path));
		goto out;
	}
	v = json_object();
	ok = config_json_set(o, "type", json_string("special")) &&
	    config_json_set(o, "value", v);
	ok = ok &&
	    config_json_set(v, "kind",
		json_string(config_fs_special_name(e->special)));
	if (ok && e->special == CONFIG_FS_SPECIAL_UNKNOWN)
		ok = config_json_set(v, "path", config_json_text(e->path));
	if (ok && e->subpath)
		ok =
		    config_json_set(v, "subpath", config_json_text(e->subpath));
out:
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
config_fs_policy_to_json(const struct config_fs_policy *p)
{
	json_t *o = json_object();
	json_t *entries = NULL;
	bool ok;

	if (!o)
		return NULL;
	ok = config_json_set(o, "kind",
	    json_string(config_fs_kind_name(p->kind)));
	if (ok && p->n_entries > 0) {
		entries = json_array();
		ok = config_json_set(o, "entries", entries);
	}
	for (size_t i = 0; ok && i < p->n_entries; i++) {
		json_t *e = json_object();

		ok = e && json_array_append_new(entries, e) == 0 &&
		    config_json_set(e, "path",
			config_json_fs_path(&p->entries[i])) &&
		    config_json_set(e, "access",
			json_string(
			    config_fs_access_name(p->entries[i].access)));
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
config_json_layers(const struct config *cfg)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < cfg->n_layers; i++) {
		const struct config_layer *l = &cfg->layers[i].pub;
		json_t *o = json_object();

		if (!o || json_array_append_new(a, o) < 0 ||
		    !config_json_set(o, "source",
			json_string(config_layer_source_name(l->source))) ||
		    !config_json_set(o, "path", config_json_text(l->path)) ||
		    !config_json_set(o, "enabled", json_boolean(l->enabled)) ||
		    !config_json_set(o, "disabled_reason",
			config_json_text(l->disabled_reason))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *
config_json_writable_roots(const struct config *cfg)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < cfg->n_roots; i++) {
		const struct config_writable_root *wr = &cfg->roots[i];
		json_t *o = json_object();

		if (!o || json_array_append_new(a, o) < 0 ||
		    !config_json_set(o, "root", config_json_text(wr->root)) ||
		    !config_json_set(o, "read_only_subpaths",
			config_json_strv(wr->read_only_subpaths,
			    wr->n_read_only_subpaths))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *
config_json_patterns(const struct config_network *net, enum policy_list list)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < net->n_rules; i++)
		if (net->rules[i].list == list &&
		    json_array_append_new(a,
			config_json_text(net->rules[i].pattern)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
config_json_network(const struct config_network *net)
{
	char http[CONFIG_ADDR_TEXT_MAX + 8], socks[CONFIG_ADDR_TEXT_MAX + 8];
	char admin[CONFIG_ADDR_TEXT_MAX + 8];
	json_t *o = json_object();
	json_t *sockets = json_array();
	bool ok = o && sockets;

	for (size_t i = 0; ok && i < net->n_unix_sockets; i++)
		ok = json_array_append_new(sockets,
			 config_json_text(net->unix_sockets[i].path)) == 0;
	if (!ok) {
		json_decref(sockets);
		json_decref(o);
		return NULL;
	}
	ok = config_json_set(o, "enabled", json_boolean(net->enabled)) &&
	    config_json_set(o, "proxy_url", config_json_text(net->proxy_url)) &&
	    config_json_set(o, "enable_socks5",
		json_boolean(net->enable_socks5)) &&
	    config_json_set(o, "socks_url", config_json_text(net->socks_url)) &&
	    config_json_set(o, "enable_socks5_udp",
		json_boolean(net->enable_socks5_udp)) &&
	    config_json_set(o, "allow_upstream_proxy",
		json_boolean(net->allow_upstream_proxy)) &&
	    config_json_set(o, "dangerously_allow_non_loopback_proxy",
		json_boolean(net->dangerously_allow_non_loopback_proxy)) &&
	    config_json_set(o, "admin_url",
		net->admin_url ? config_json_text(net->admin_url) :
				 json_null()) &&
	    config_json_set(o, "dangerously_allow_non_loopback_admin",
		json_boolean(net->dangerously_allow_non_loopback_admin)) &&
	    config_json_set(o, "mode",
		json_string(policy_mode_name(net->mode))) &&
	    config_json_set(o, "mitm", json_boolean(net->mitm)) &&
	    config_json_set(o, "allowed_domains",
		config_json_patterns(net, POLICY_LIST_ALLOW)) &&
	    config_json_set(o, "denied_domains",
		config_json_patterns(net, POLICY_LIST_DENY)) &&
	    config_json_set(o, "allow_local_binding",
		json_boolean(net->allow_local_binding)) &&
	    config_json_set(o, "allow_unix_sockets", json_incref(sockets)) &&
	    config_json_set(o, "dangerously_allow_all_unix_sockets",
		json_boolean(net->dangerously_allow_all_unix_sockets)) &&
	    config_json_set(o, "http_addr",
		json_string(config_listen_addr_format(&net->http_addr, http,
		    sizeof(http)))) &&
	    config_json_set(o, "socks_addr",
		json_string(config_listen_addr_format(&net->socks_addr, socks,
		    sizeof(socks)))) &&
	    config_json_set(o, "admin_addr",
		net->admin_url ?
		    json_string(config_listen_addr_format(&net->admin_addr,
			admin, sizeof(admin))) :
		    json_null());
	json_decref(sockets);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
config_json_warnings(const struct config_diags *d)
{
	json_t *a = json_array();

	for (size_t i = 0; a && d && i < config_diags_count(d); i++) {
		const struct config_diag *diag = config_diags_get(d, i);

		if (diag->severity != CONFIG_SEVERITY_WARNING)
			continue;
		if (json_array_append_new(a, config_diag_to_json(diag)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *
config_json_requirements(const struct config *cfg)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < config_requirements_count(cfg); i++) {
		const struct config_requirement *r =
		    config_requirements_get(cfg, i);
		json_t *o = json_pack("{s:s, s:s, s:o, s:I}", "key", r->key,
		    "value", r->value, "file", config_json_text(r->origin.file),
		    "line", (json_int_t)r->origin.line);

		if (!o || json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* Rules carry "required": true when a requirement added them. */
static int
config_json_mark_required(json_t *net, const struct config_network *n)
{
	json_t *req = json_array();

	if (!req)
		return -1;
	for (size_t i = 0; i < n->n_rules; i++)
		if (n->rules[i].key &&
		    strncmp(n->rules[i].key, "experimental_network.", 21) ==
			0 &&
		    json_array_append_new(req,
			config_json_text(n->rules[i].pattern)) < 0) {
			json_decref(req);
			return -1;
		}
	return json_object_set_new(net, "required_denied_domains", req);
}

/* [otel] with header names only: values are usually credentials. */
static json_t *
config_json_otel(const struct config_otel *o)
{
	json_t *names = json_array();
	json_t *j;

	for (size_t i = 0; names && i < o->n_headers; i++)
		if (json_array_append_new(names,
			config_json_text(o->headers[i].name)) < 0) {
			json_decref(names);
			return NULL;
		}
	j = json_pack("{s:o,s:s,s:o,s:s,s:o,s:o,s:o,s:o}", "environment",
	    config_json_text(o->environment), "exporter",
	    config_otel_exporter_name(o->exporter), "endpoint",
	    config_json_text(o->endpoint), "protocol",
	    config_otel_protocol_name(o->protocol), "header_names", names,
	    "ca_certificate", config_json_text(o->ca_certificate),
	    "client_certificate", config_json_text(o->client_certificate),
	    "client_private_key", config_json_text(o->client_private_key));
	return j;
}

json_t *
config_to_json(const struct config *cfg, const struct config_diags *diags)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (!config_json_set(o, "layers", config_json_layers(cfg)) ||
	    !config_json_set(o, "permissions_syntax",
		json_string(config_syntax_name(cfg->syntax))) ||
	    !config_json_set(o, "default_permissions",
		config_json_text(config_get_default_permissions(cfg))) ||
	    !config_json_set(o, "sandbox_policy",
		config_sandbox_policy_to_json(cfg->sandbox)) ||
	    !config_json_set(o, "file_system_sandbox_policy",
		config_fs_policy_to_json(cfg->fs)) ||
	    !config_json_set(o, "network_sandbox_policy",
		json_string(
		    cfg->network_sandbox_enabled ? "enabled" : "restricted")) ||
	    !config_json_set(o, "writable_roots",
		config_json_writable_roots(cfg)) ||
	    !config_json_set(o, "network", config_json_network(&cfg->net)) ||
	    config_json_mark_required(json_object_get(o, "network"),
		&cfg->net) < 0 ||
	    !config_json_set(o, "otel", config_json_otel(&cfg->otel)) ||
	    !config_json_set(o, "requirements",
		config_json_requirements(cfg)) ||
	    !config_json_set(o, "warnings", config_json_warnings(diags))) {
		json_decref(o);
		return NULL;
	}
	return o;
}
