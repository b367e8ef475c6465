/* SPDX-License-Identifier: MIT */
/*
 * `paddock config show` as text: the merged config written back as TOML,
 * each value followed by a comment naming where it was written, then the
 * compiled permissions and network settings as comments. The output is
 * itself valid TOML that loads to the same values; every piece of text
 * that lands in a comment has its control characters escaped so no value
 * can end a comment line early.
 */
#include "config/config_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml/toml.h"
#include "util/buf.h"
#include "util/strutil.h"

struct config_show_ctx {
	struct buf *out;
	const struct config *cfg;
	struct config_keypath kp;
	int r;
};

/* Text for a comment: printable as is, control bytes as \xNN. */
static void
config_show_text(struct config_show_ctx *c, const char *s)
{
	if (c->r >= 0 && s)
		c->r = config_escape_text(c->out, s);
}

static void config_show_printf(struct config_show_ctx *c, const char *fmt, ...)
    _printf_(2, 3);

static void
config_show_printf(struct config_show_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->r < 0)
		return;
	va_start(ap, fmt);
	c->r = buf_vprintf(c->out, fmt, ap);
	va_end(ap);
}

/* "  # file:line" (for command-line values, just the argument). */
static void
config_show_origin(struct config_show_ctx *c, const struct toml_value *v)
{
	struct config_origin o = config_origin_of(v);

	if (!o.file)
		return;
	config_show_printf(c, "  # ");
	config_show_text(c, o.file);
	if (o.file[0] == '/' && o.line > 0)
		config_show_printf(c, ":%u", o.line);
}

static void
config_show_header(struct config_show_ctx *c)
{
	char *key = config_keypath_format(&c->kp);

	if (!key) {
		c->r = -ENOMEM;
		return;
	}
	config_show_printf(c, "\n[%s]\n", key);
	free(key);
}

static bool
config_show_seg_is(const struct config_show_ctx *c, size_t i, const char *s)
{
	return strlen(s) == c->kp.len[i] &&
	    memcmp(c->kp.seg[i], s, c->kp.len[i]) == 0;
}

/* Values of otel.exporter.<kind>.headers: usually credentials, so never
 * printed (docs/observability.md). */
static bool
config_show_is_secret(const struct config_show_ctx *c)
{
	return c->kp.n == 4 && config_show_seg_is(c, 0, "otel") &&
	    config_show_seg_is(c, 1, "exporter") &&
	    config_show_seg_is(c, 3, "headers");
}

/* The values of t, then its tables under their own headers. */
static void
config_show_table(struct config_show_ctx *c, const struct toml_value *t)
{
	size_t n = toml_table_size(t), scalars = 0;

	for (size_t i = 0; i < n; i++)
		if (toml_value_type(toml_table_value(t, i)) != TOML_TABLE)
			scalars++;
	if (c->kp.n > 0 && (scalars > 0 || n == 0))
		config_show_header(c);
	for (size_t i = 0; c->r >= 0 && i < n; i++) {
		size_t len;
		const char *key = toml_table_key(t, i, &len);
		const struct toml_value *v = toml_table_value(t, i);

		if (toml_value_type(v) == TOML_TABLE)
			continue;
		c->r = toml_format_key(c->out, key, len);
		config_show_printf(c, " = ");
		if (config_show_is_secret(c))
			config_show_printf(c, "\"(redacted)\"");
		else if (c->r >= 0)
			c->r = toml_format_value(c->out, v);
		config_show_origin(c, v);
		config_show_printf(c, "\n");
	}
	for (size_t i = 0; c->r >= 0 && i < n; i++) {
		size_t len;
		const char *key = toml_table_key(t, i, &len);
		const struct toml_value *v = toml_table_value(t, i);

		if (toml_value_type(v) != TOML_TABLE)
			continue;
		config_keypath_push(&c->kp, key, len);
		config_show_table(c, v);
		config_keypath_pop(&c->kp);
	}
}

static void
config_show_layers(struct config_show_ctx *c)
{
	const struct config *cfg = c->cfg;

	config_show_printf(c, "# Layers, lowest precedence first:\n");
	if (cfg->n_layers == 0)
		config_show_printf(c,
		    "#   (none: every setting is a default)\n");
	for (size_t i = 0; i < cfg->n_layers; i++) {
		const struct config_layer *l = &cfg->layers[i].pub;

		config_show_printf(c, "#   %-9s ",
		    config_layer_source_name(l->source));
		config_show_text(c, l->path ? l->path : "(command line)");
		if (!l->enabled) {
			config_show_printf(c, "  [disabled: ");
			config_show_text(c, l->disabled_reason);
			config_show_printf(c, "]");
		}
		config_show_printf(c, "\n");
	}
}

static void
config_show_list(struct config_show_ctx *c, const char *label, char **v,
    size_t n)
{
	config_show_printf(c, "#   %s:", label);
	if (n == 0)
		config_show_printf(c, " none");
	for (size_t i = 0; i < n; i++) {
		config_show_printf(c, "%s", i ? ", " : " ");
		config_show_text(c, v[i]);
	}
	config_show_printf(c, "\n");
}

static void
config_show_sandbox(struct config_show_ctx *c)
{
	const struct config_sandbox_policy *sp = c->cfg->sandbox;

	config_show_printf(c, "# sandbox policy: %s\n",
	    config_sandbox_type_name(sp->type));
	if (sp->type == CONFIG_SANDBOX_EXTERNAL_SANDBOX)
		config_show_printf(c, "#   network access: %s\n",
		    sp->network_access ? "enabled" : "restricted");
	if (sp->type != CONFIG_SANDBOX_READ_ONLY &&
	    sp->type != CONFIG_SANDBOX_WORKSPACE_WRITE)
		return;
	if (sp->read.full) {
		config_show_printf(c, "#   read access: everything\n");
	} else {
		config_show_printf(c,
		    "#   read access: restricted, platform defaults %s\n",
		    sp->read.include_platform_defaults ? "included" :
							 "excluded");
		config_show_list(c, "readable roots", sp->read.readable_roots,
		    sp->read.n_readable_roots);
	}
	config_show_printf(c, "#   network access: %s\n",
	    sp->network_access ? "yes" : "no");
	if (sp->type == CONFIG_SANDBOX_WORKSPACE_WRITE) {
		config_show_list(c, "extra writable roots", sp->writable_roots,
		    sp->n_writable_roots);
		config_show_printf(c,
		    "#   /tmp writable: %s; $TMPDIR writable: %s\n",
		    sp->exclude_slash_tmp ? "no" : "yes",
		    sp->exclude_tmpdir_env_var ? "no" : "yes");
	}
}

static void
config_show_fs(struct config_show_ctx *c)
{
	const struct config_fs_policy *fs = c->cfg->fs;

	config_show_printf(c, "# filesystem policy: %s\n",
	    config_fs_kind_name(fs->kind));
	for (size_t i = 0; i < fs->n_entries; i++) {
		const struct config_fs_entry *e = &fs->entries[i];

		config_show_printf(c, "#   %-5s ",
		    config_fs_access_name(e->access));
		if (!e->is_special)
			config_show_text(c, e->path);
		else if (e->special == CONFIG_FS_SPECIAL_UNKNOWN)
			config_show_text(c, e->path);
		else
			config_show_printf(c, ":%s",
			    config_fs_special_name(e->special));
		if (e->subpath) {
			config_show_printf(c, " / ");
			config_show_text(c, e->subpath);
		}
		if (e->origin.file) {
			config_show_printf(c, "  (");
			config_show_text(c, e->origin.file);
			if (e->origin.file[0] == '/')
				config_show_printf(c, ":%u", e->origin.line);
			config_show_printf(c, ")");
		}
		config_show_printf(c, "\n");
	}
	config_show_printf(c, "# network sandbox policy: %s\n",
	    c->cfg->network_sandbox_enabled ? "enabled" : "restricted");
}

static void
config_show_roots(struct config_show_ctx *c)
{
	config_show_printf(c, "# writable roots:%s\n",
	    c->cfg->n_roots ? "" : " none");
	for (size_t i = 0; i < c->cfg->n_roots; i++) {
		const struct config_writable_root *wr = &c->cfg->roots[i];

		config_show_printf(c, "#   ");
		config_show_text(c, wr->root);
		for (size_t j = 0; j < wr->n_read_only_subpaths; j++) {
			config_show_printf(c, j ? ", " : " (read-only: ");
			config_show_text(c, wr->read_only_subpaths[j]);
		}
		config_show_printf(c, "%s\n",
		    wr->n_read_only_subpaths ? ")" : "");
	}
}

static void
config_show_network(struct config_show_ctx *c)
{
	const struct config_network *net = &c->cfg->net;
	char a[CONFIG_ADDR_TEXT_MAX + 8];

	config_show_printf(c, "# network proxy: %s, mode %s\n",
	    net->enabled ? "enabled" : "disabled", policy_mode_name(net->mode));
	config_show_printf(c, "#   http listener: %s%s\n",
	    config_listen_addr_format(&net->http_addr, a, sizeof(a)),
	    net->http_addr.clamped ? " (clamped to loopback)" : "");
	config_show_printf(c, "#   socks5 listener: %s%s%s\n",
	    config_listen_addr_format(&net->socks_addr, a, sizeof(a)),
	    net->socks_addr.clamped ? " (clamped to loopback)" : "",
	    !net->enable_socks5        ? " (disabled)" :
		net->enable_socks5_udp ? ", udp on" :
					 ", udp off");
	if (net->admin_url)
		config_show_printf(c, "#   admin listener: %s%s\n",
		    config_listen_addr_format(&net->admin_addr, a, sizeof(a)),
		    net->admin_addr.clamped ? " (clamped to loopback)" : "");
	else
		config_show_printf(c, "#   admin listener: off\n");
	for (size_t i = 0; i < net->n_rules; i++) {
		const struct config_domain_rule *r = &net->rules[i];

		config_show_printf(c, "#   %-5s ", policy_list_name(r->list));
		config_show_text(c, r->pattern);
		if (r->origin.file) {
			config_show_printf(c, "  (");
			config_show_text(c, r->origin.file);
			if (r->origin.file[0] == '/')
				config_show_printf(c, ":%u", r->origin.line);
			config_show_printf(c, ")");
		}
		if (r->key && startswith(r->key, "experimental_network."))
			config_show_printf(c, "  [required]");
		config_show_printf(c, "\n");
	}
	if (net->n_rules == 0)
		config_show_printf(c,
		    "#   no domain rules: every host is "
		    "blocked\n");
}

/* What the administrator's requirements fixed, with where. */
static void
config_show_otel(struct config_show_ctx *c)
{
	const struct config_otel *o = &c->cfg->otel;

	config_show_printf(c, "# otel export: %s",
	    config_otel_exporter_name(o->exporter));
	if (o->exporter == CONFIG_OTEL_EXPORTER_OTLP_HTTP) {
		config_show_printf(c, " (%s) to ",
		    config_otel_protocol_name(o->protocol));
		config_show_text(c, o->endpoint);
		config_show_printf(c, ", %zu header%s (values redacted)",
		    o->n_headers, o->n_headers == 1 ? "" : "s");
	}
	config_show_printf(c, ", environment ");
	config_show_text(c, o->environment);
	config_show_printf(c, "\n");
}

static void
config_show_requirements(struct config_show_ctx *c)
{
	size_t n = config_requirements_count(c->cfg);

	if (n == 0)
		return;
	config_show_printf(c,
	    "# requirements (the administrator's; user layers cannot "
	    "widen them):\n");
	for (size_t i = 0; i < n; i++) {
		const struct config_requirement *r =
		    config_requirements_get(c->cfg, i);

		config_show_printf(c, "#   %s = ", r->key);
		config_show_text(c, r->value);
		config_show_printf(c, "  (");
		config_show_text(c, r->origin.file ? r->origin.file : "?");
		config_show_printf(c, ":%u)\n", r->origin.line);
	}
}

int
config_format_toml(const struct config *cfg, struct buf *out)
{
	struct config_show_ctx c = { .out = out, .cfg = cfg };

	config_show_printf(&c,
	    "# The effective configuration; each value names where it was "
	    "written.\n");
	config_show_layers(&c);
	if (toml_table_size(cfg->tree) > 0)
		config_show_printf(&c, "\n");
	config_show_table(&c, cfg->tree);
	config_show_printf(&c, "\n# Compiled permissions\n");
	if (cfg->syntax == CONFIG_SYNTAX_PROFILES && cfg->default_permissions) {
		config_show_printf(&c,
		    "# syntax: profiles (permission profile \"");
		config_show_text(&c, cfg->default_permissions);
		config_show_printf(&c, "\")\n");
	} else
		config_show_printf(&c, "# syntax: legacy (sandbox_mode)\n");
	config_show_sandbox(&c);
	config_show_fs(&c);
	config_show_roots(&c);
	config_show_network(&c);
	config_show_otel(&c);
	config_show_requirements(&c);
	return c.r;
}
