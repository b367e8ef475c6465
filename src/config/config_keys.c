/* SPDX-License-Identifier: MIT */
/*
 * The schema of config.toml as paddock reads it, and the structural check
 * every layer goes through before anything is merged.
 *
 * Unlike the reference, which ignores unknown keys silently, every key
 * paddock does not know gets an "unknown_key" warning, with the nearest
 * known key when one is close. A real codex config carries many keys that
 * only matter to the reference (model, approval_policy, [mcp_servers],
 * [tui], ...). Those are listed below as "ignored": accepted without a
 * word and not looked into. Inside the tables paddock interprets
 * (permission profiles, filesystem, network, sandbox_workspace_write,
 * projects, config profiles) every other key warns.
 *
 * Type errors are errors, reported in the layer that has them, even when
 * a higher layer overrides the value: every file must be valid on its own.
 */
#include "config/config_internal.h"

#include <string.h>

#include "toml/toml.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/strutil.h"

/* The reference's top-level keys that paddock does not use. The list is
 * the union over the releases around the permission-profile change, so
 * older and newer codex configs load quietly. Keep it sorted. */
static const char *const config_root_ignored[] = {
	"agents",
	"allow_login_shell",
	"analytics",
	"approval_policy",
	"approvals_reviewer",
	"apps",
	"apps_mcp_product_sku",
	"audio",
	"auto_review",
	"background_terminal_max_timeout",
	"chatgpt_base_url",
	"check_for_update_on_startup",
	"cli_auth_credentials_store",
	"compact_prompt",
	"debug",
	"desktop",
	"developer_instructions",
	"disable_paste_burst",
	"disable_response_storage",
	"experimental_compact_prompt_file",
	"experimental_instructions_file",
	"experimental_realtime_start_instructions",
	"experimental_realtime_ws_backend_prompt",
	"experimental_realtime_ws_base_url",
	"experimental_realtime_ws_model",
	"experimental_realtime_ws_startup_context",
	"experimental_thread_config_endpoint",
	"experimental_thread_store",
	"experimental_use_exec_command_tool",
	"experimental_use_freeform_apply_patch",
	"experimental_use_rmcp_client",
	"experimental_use_unified_exec_tool",
	"features",
	"feedback",
	"file_opener",
	"forced_chatgpt_workspace_id",
	"forced_login_method",
	"ghost_snapshot",
	"hide_agent_reasoning",
	"history",
	"hooks",
	"include_apply_patch_tool",
	"include_apps_instructions",
	"include_collaboration_mode_instructions",
	"include_environment_context",
	"include_permissions_instructions",
	"include_plan_tool",
	"include_view_image_tool",
	"instructions",
	"log_dir",
	"marketplaces",
	"mcp_oauth_callback_port",
	"mcp_oauth_callback_url",
	"mcp_oauth_credentials_store",
	"mcp_servers",
	"memories",
	"model",
	"model_auto_compact_token_limit",
	"model_auto_compact_token_limit_scope",
	"model_catalog_json",
	"model_context_window",
	"model_instructions_file",
	"model_max_output_tokens",
	"model_provider",
	"model_providers",
	"model_reasoning_effort",
	"model_reasoning_summary",
	"model_reasoning_summary_format",
	"model_supports_reasoning_summaries",
	"model_verbosity",
	"notice",
	"notify",
	"openai_base_url",
	"oss_provider",
	"personality",
	"plan_mode_reasoning_effort",
	"plugins",
	"project_doc_fallback_filenames",
	"project_doc_max_bytes",
	"realtime",
	"responses_originator_header_internal_override",
	"review_model",
	"service_tier",
	"show_raw_agent_reasoning",
	"skills",
	"sqlite_home",
	"suppress_unstable_features_warning",
	"tool_output_token_limit",
	"tool_suggest",
	"tools",
	"tools_web_search_request",
	"tui",
	"use_experimental_streamable_shell_tool",
	"use_experimental_unified_exec_tool",
	"web_search",
	"windows",
	"windows_wsl_setup_acknowledged",
	"zsh_path",
	NULL,
};

/* The reference's config-profile keys ([profiles.<name>]) other than
 * sandbox_mode. Keep it sorted. */
static const char *const config_profile_ignored[] = {
	"analytics",
	"approval_policy",
	"approvals_reviewer",
	"chatgpt_base_url",
	"experimental_compact_prompt_file",
	"experimental_instructions_file",
	"experimental_use_exec_command_tool",
	"experimental_use_freeform_apply_patch",
	"experimental_use_rmcp_client",
	"experimental_use_unified_exec_tool",
	"features",
	"include_apply_patch_tool",
	"include_apps_instructions",
	"include_collaboration_mode_instructions",
	"include_environment_context",
	"include_permissions_instructions",
	"include_plan_tool",
	"include_view_image_tool",
	"model",
	"model_catalog_json",
	"model_instructions_file",
	"model_provider",
	"model_reasoning_effort",
	"model_reasoning_summary",
	"model_reasoning_summary_format",
	"model_supports_reasoning_summaries",
	"model_verbosity",
	"oss_provider",
	"personality",
	"plan_mode_reasoning_effort",
	"service_tier",
	"tools",
	"tools_view_image",
	"tools_web_search",
	"tui",
	"web_search",
	"windows",
	NULL,
};

const char *const config_access_words[] = { "read", "write", "none", NULL };

static const char *const config_sandbox_modes[] = { "read-only",
	"workspace-write", "danger-full-access", NULL };

static const char *const config_trust_levels[] = { "trusted", "untrusted",
	NULL };

static const char *const config_network_modes[] = { "full", "limited", NULL };

static const char *const config_domain_words[] = { "allow", "deny", NULL };

static const char *const config_socket_words[] = { "allow", "none", NULL };

static const struct config_node config_bool = { .kind = CONFIG_KIND_BOOL };

static const struct config_node config_string = { .kind = CONFIG_KIND_STRING };

static const struct config_node config_strings = { .kind =
						       CONFIG_KIND_STRINGS };

static const struct config_node config_sandbox_mode = {
	.kind = CONFIG_KIND_ENUM,
	.defname = "SandboxMode",
	.noun = "sandbox mode",
	.doc = "The legacy sandbox mode: read-only (read everything, write "
	       "nothing), workspace-write (also write the cwd and the "
	       "writable roots) or danger-full-access (no sandbox).",
	.words = config_sandbox_modes,
};

static const struct config_key config_sww_fields[] = {
	{ "writable_roots", &config_strings, "[]",
	    "Extra writable directories. Relative paths resolve against the "
	    "directory of the file that sets them (the cwd for -c); ~ expands "
	    "to $HOME." },
	{ "network_access", &config_bool, "false",
	    "Allow outbound network access in workspace-write mode." },
	{ "exclude_tmpdir_env_var", &config_bool, "false",
	    "Do not make $TMPDIR writable." },
	{ "exclude_slash_tmp", &config_bool, "false",
	    "Do not make /tmp writable." },
	{ 0 },
};

static const struct config_node config_sww = {
	.kind = CONFIG_KIND_TABLE,
	.defname = "SandboxWorkspaceWrite",
	.fields = config_sww_fields,
};

static const struct config_node config_network_mode = {
	.kind = CONFIG_KIND_ENUM,
	.defname = "NetworkMode",
	.noun = "network mode",
	.doc = "full allows every method; limited allows only GET, HEAD and "
	       "OPTIONS.",
	.words = config_network_modes,
};

static const struct config_node config_domain_word = {
	.kind = CONFIG_KIND_ENUM,
	.noun = "domain rule",
	.words = config_domain_words,
};

static const struct config_node config_domains = {
	.kind = CONFIG_KIND_MAP,
	.doc = "Domain pattern -> allow or deny. A deny always wins.",
	.value = &config_domain_word,
};

static const struct config_node config_socket_word = {
	.kind = CONFIG_KIND_ENUM,
	.noun = "unix socket rule",
	.words = config_socket_words,
};

static const struct config_node config_sockets = {
	.kind = CONFIG_KIND_MAP,
	.doc = "Absolute unix socket path -> allow or none.",
	.value = &config_socket_word,
};

static const struct config_key config_network_fields[] = {
	{ "enabled", &config_bool, "false",
	    "Run the network proxy. In the selected permission profile it "
	    "also sets the sandbox network policy to enabled." },
	{ "proxy_url", &config_string, "\"http://127.0.0.1:3128\"",
	    "HTTP proxy listen address (URL or host:port), clamped to "
	    "loopback." },
	{ "enable_socks5", &config_bool, "true", "Run the SOCKS5 listener." },
	{ "socks_url", &config_string, "\"http://127.0.0.1:8081\"",
	    "SOCKS5 listen address (URL or host:port), clamped to loopback." },
	{ "enable_socks5_udp", &config_bool, "true",
	    "Allow SOCKS5 UDP ASSOCIATE." },
	{ "allow_upstream_proxy", &config_bool, "true",
	    "Send outgoing traffic through the HTTP(S)_PROXY of the proxy "
	    "process." },
	{ "dangerously_allow_non_loopback_proxy", &config_bool, "false",
	    "Keep listen addresses that are not loopback." },
	{ "admin_url", &config_string, "\"\"",
	    "Admin API listen address (URL or host:port), clamped to "
	    "loopback; unset or empty: no admin listener." },
	{ "dangerously_allow_non_loopback_admin", &config_bool, "false",
	    "Keep an admin listen address that is not loopback." },
	{ "mode", &config_network_mode, "\"full\"", NULL },
	{ "mitm", &config_bool, "false",
	    "TLS interception; accepted but not implemented yet." },
	{ "allowed_domains", &config_strings, "[]",
	    "Domain patterns to allow (exact, *.example.com, "
	    "**.example.com)." },
	{ "denied_domains", &config_strings, "[]",
	    "Domain patterns to deny; a deny always wins." },
	{ "allow_local_binding", &config_bool, "false",
	    "Allow connections to loopback and private addresses." },
	{ "allow_unix_sockets", &config_strings, "[]",
	    "Absolute unix socket paths to allow." },
	{ "dangerously_allow_all_unix_sockets", &config_bool, "false",
	    "Allow every unix socket." },
	{ "domains", &config_domains, NULL,
	    "The map form of the domain lists." },
	{ "unix_sockets", &config_sockets, NULL,
	    "The map form of allow_unix_sockets." },
	{ 0 },
};

static const struct config_node config_network = {
	.kind = CONFIG_KIND_TABLE,
	.defname = "Network",
	.doc = "Network proxy settings.",
	.fields = config_network_fields,
};

static const char *const config_env_inherits[] = { "all", "core", "none",
	NULL };

static const struct config_node config_env_inherit = {
	.kind = CONFIG_KIND_ENUM,
	.noun = "inherit mode",
	.doc = "all: the whole environment; core: HOME, LOGNAME, PATH, "
	       "SHELL, USER, USERNAME, TMPDIR, TEMP and TMP; none: nothing.",
	.words = config_env_inherits,
};

static const struct config_node config_env_set = {
	.kind = CONFIG_KIND_MAP,
	.doc = "Variables to set, name -> value.",
	.value = &config_string,
};

static const struct config_key config_shell_env_fields[] = {
	{ "inherit", &config_env_inherit, "\"all\"",
	    "Which variables of paddock's environment the command starts "
	    "from." },
	{ "ignore_default_excludes", &config_bool, "false",
	    "Keep variables whose names contain KEY, SECRET or TOKEN "
	    "(paddock run withholds them by default)." },
	{ "exclude", &config_strings, "[]",
	    "Name patterns (case-insensitive globs) to remove." },
	{ "set", &config_env_set, NULL, "Variables to set or replace." },
	{ "include_only", &config_strings, "[]",
	    "When not empty, keep only names matching one of these "
	    "patterns (applied last)." },
	{ "experimental_use_profile", &config_bool, "false",
	    "Read by the reference; paddock ignores it." },
	{ 0 },
};

static const struct config_node config_shell_env = {
	.kind = CONFIG_KIND_TABLE,
	.defname = "ShellEnvironmentPolicy",
	.doc = "The environment paddock run gives the command.",
	.fields = config_shell_env_fields,
};

static const struct config_node config_filesystem = {
	.kind = CONFIG_KIND_FS_TABLE,
	.defname = "Filesystem",
	.doc = "Path spec -> access. Keys: :root, :minimal, :project_roots, "
	       ":tmpdir, an absolute path, ~ or ~/...; values: read, write, "
	       "none, or (under :project_roots and absolute paths) a table "
	       "of relative subpath -> access.",
};

static const struct config_key config_profile_fields[] = {
	{ "filesystem", &config_filesystem, NULL, NULL },
	{ "network", &config_network, NULL, NULL },
	{ 0 },
};

static const struct config_node config_profile = {
	.kind = CONFIG_KIND_TABLE,
	.defname = "PermissionProfile",
	.doc = "One permission profile.",
	.fields = config_profile_fields,
};

static const struct config_node config_permissions = {
	.kind = CONFIG_KIND_MAP,
	.value = &config_profile,
};

static const struct config_key config_cprofile_fields[] = {
	{ "sandbox_mode", &config_sandbox_mode, NULL,
	    "Legacy sandbox mode while this config profile is selected." },
	{ 0 },
};

static const struct config_node config_cprofile = {
	.kind = CONFIG_KIND_TABLE,
	.defname = "ConfigProfile",
	.doc = "A config profile, selected with profile or --profile.",
	.fields = config_cprofile_fields,
	.ignored = config_profile_ignored,
};

static const struct config_node config_cprofiles = {
	.kind = CONFIG_KIND_MAP,
	.value = &config_cprofile,
};

static const struct config_node config_trust_level = {
	.kind = CONFIG_KIND_ENUM,
	.noun = "trust level",
	.words = config_trust_levels,
};

static const struct config_key config_project_fields[] = {
	{ "trust_level", &config_trust_level, NULL,
	    "trusted loads the project's .codex/config.toml layers." },
	{ 0 },
};

static const struct config_node config_project = {
	.kind = CONFIG_KIND_TABLE,
	.defname = "Project",
	.fields = config_project_fields,
};

static const struct config_node config_projects = {
	.kind = CONFIG_KIND_MAP,
	.value = &config_project,
	.absolute_keys = true,
};

/* The reference's [otel] keys for its own telemetry, which paddock does
 * not produce. Keep it sorted. */
static const char *const config_otel_ignored[] = {
	"log_user_prompt",
	"metrics_exporter",
	"trace_exporter",
	NULL,
};

/* exporter is "none" or a one-key table; config_otel.c checks its shape
 * (the schema has no "either a word or a table"). */
static const struct config_node config_otel_exporter = {
	.kind = CONFIG_KIND_ANY,
};

static const struct config_key config_otel_fields[] = {
	{ "environment", &config_string, "\"dev\"",
	    "The env resource attribute of exported records." },
	{ "exporter", &config_otel_exporter, "\"none\"",
	    "\"none\", or { otlp-http = { endpoint, protocol = \"binary\" | "
	    "\"json\", headers = { name = value }, tls = { ca-certificate, "
	    "client-certificate, client-private-key } } }; otlp-grpc is not "
	    "supported." },
	{ 0 },
};

static const struct config_node config_otel = {
	.kind = CONFIG_KIND_TABLE,
	.defname = "Otel",
	.doc = "OpenTelemetry export of the audit events "
	       "(docs/observability.md).",
	.fields = config_otel_fields,
	.ignored = config_otel_ignored,
};

static const struct config_key config_root_fields[] = {
	{ "sandbox_mode", &config_sandbox_mode, NULL,
	    "Legacy sandbox mode; without it and without default_permissions "
	    "a trusted project defaults to workspace-write, others to "
	    "read-only." },
	{ "sandbox_workspace_write", &config_sww, NULL,
	    "Settings of the workspace-write mode." },
	{ "default_permissions", &config_string, NULL,
	    "The permission profile to use from [permissions]." },
	{ "permissions", &config_permissions, NULL,
	    "Named permission profiles." },
	{ "profile", &config_string, NULL,
	    "The config profile to use from [profiles]." },
	{ "profiles", &config_cprofiles, NULL, "Named config profiles." },
	{ "projects", &config_projects, NULL,
	    "Per-project settings, keyed by absolute path." },
	{ "project_root_markers", &config_strings, "[\".git\"]",
	    "Entries that mark the project root; [] makes the cwd the "
	    "root." },
	{ "network", &config_network, NULL,
	    "Network proxy settings; the selected profile's network table "
	    "overrides them key by key." },
	{ "shell_environment_policy", &config_shell_env, NULL,
	    "The environment of commands paddock run starts." },
	{ "otel", &config_otel, NULL,
	    "OpenTelemetry export of the audit events." },
	{ 0 },
};

const struct config_node config_schema_root = {
	.kind = CONFIG_KIND_TABLE,
	.doc = "paddock's view of the codex config.toml.",
	.fields = config_root_fields,
	.ignored = config_root_ignored,
};

struct config_keys_ctx {
	struct config_diags *d;
	struct config_keypath kp;
};

static bool
config_word_in(const char *const *words, const char *s, size_t len)
{
	for (; *words; words++)
		if (strlen(*words) == len && memcmp(*words, s, len) == 0)
			return true;
	return false;
}

/* Optimal string alignment distance (edits plus adjacent swaps), or
 * SIZE_MAX for inputs too long to be worth comparing. */
static size_t
config_edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
	enum {
		MAXLEN = 64
	};

	size_t d[MAXLEN + 1][MAXLEN + 1];

	if (na > MAXLEN || nb > MAXLEN)
		return SIZE_MAX;
	for (size_t i = 0; i <= na; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= nb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= na; i++)
		for (size_t j = 1; j <= nb; j++) {
			size_t cost =
			    ascii_tolower(a[i - 1]) == ascii_tolower(b[j - 1]) ?
			    0 :
			    1;
			size_t v = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[na][nb];
}

/* The known key of node nearest to key, or NULL when none is close. */
static const char *
config_keys_suggest(const struct config_node *node, const char *key, size_t len)
{
	size_t limit = len / 3, best_d = SIZE_MAX;
	const char *best = NULL;

	if (limit < 1)
		limit = 1;
	if (limit > LIMIT_CONFIG_SUGGEST_DIST)
		limit = LIMIT_CONFIG_SUGGEST_DIST;
	for (const struct config_key *f = node->fields; f && f->name; f++) {
		size_t dist =
		    config_edit_distance(key, len, f->name, strlen(f->name));

		if (dist <= limit && dist < best_d)
			best_d = dist, best = f->name;
	}
	for (const char *const *w = node->ignored; w && *w; w++) {
		size_t dist = config_edit_distance(key, len, *w, strlen(*w));

		if (dist <= limit && dist < best_d)
			best_d = dist, best = *w;
	}
	return best;
}

static void config_keys_check_value(struct config_keys_ctx *c,
    const struct config_node *node, const struct toml_value *v);

static void
config_keys_mismatch(struct config_keys_ctx *c, const struct toml_value *v,
    const char *expected)
{
	struct config_origin o = config_origin_of(v);

	config_diags_add(c->d, CONFIG_SEVERITY_ERROR, "type_mismatch", &o,
	    &c->kp, "expected %s, found %s", expected, toml_value_phrase(v));
}

/* "a", "b" or "c" */
static int
config_keys_words(struct buf *b, const char *const *words)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && words[i]; i++) {
		if (i > 0)
			r = buf_append_str(b, words[i + 1] ? ", " : " or ");
		if (r >= 0)
			r = buf_printf(b, "\"%s\"", words[i]);
	}
	return r;
}

/* A string from a fixed set; noun names what the value is. */
static void
config_keys_check_word(struct config_keys_ctx *c, const char *const *words,
    const struct toml_value *v, const char *noun)
{
	struct config_origin o = config_origin_of(v);
	struct buf b;
	const char *s;
	size_t len;
	int r = 0;

	buf_init(&b, 0);
	if (toml_value_type(v) != TOML_STRING) {
		r = buf_printf(&b, "%s %s (",
		    strchr("aeiou", noun[0]) ? "an" : "a", noun);
		if (r >= 0)
			r = config_keys_words(&b, words);
		if (r >= 0)
			r = buf_append_char(&b, ')');
		if (r >= 0)
			config_keys_mismatch(c, v, buf_str(&b));
		goto out;
	}
	s = toml_value_string(v, &len);
	if (config_word_in(words, s, len))
		goto out;
	r = config_quote(&b, s, len);
	if (r >= 0)
		r = buf_printf(&b, " is not a valid %s; expected ", noun);
	if (r >= 0)
		r = config_keys_words(&b, words);
	if (r >= 0)
		config_diags_add(c->d, CONFIG_SEVERITY_ERROR, "invalid_value",
		    &o, &c->kp, "%s", buf_str(&b));
out:
	if (r < 0)
		config_diags_set_oom(c->d);
	buf_done(&b);
}

/* Names, modes and addresses are C strings: a NUL cannot be used. */
static void
config_keys_check_nul(struct config_keys_ctx *c, const struct toml_value *v)
{
	struct config_origin o = config_origin_of(v);
	size_t len;
	const char *s = toml_value_string(v, &len);

	if (memchr(s, '\0', len))
		config_diags_add(c->d, CONFIG_SEVERITY_ERROR, "invalid_value",
		    &o, &c->kp, "the value contains a NUL character");
}

static void
config_keys_check_strings(struct config_keys_ctx *c, const struct toml_value *v)
{
	if (toml_value_type(v) != TOML_ARRAY) {
		config_keys_mismatch(c, v, "an array of strings");
		return;
	}
	for (size_t i = 0; i < toml_array_size(v); i++) {
		const struct toml_value *e = toml_array_get(v, i);
		struct config_origin o = config_origin_of(e);

		if (toml_value_type(e) != TOML_STRING)
			config_diags_add(c->d, CONFIG_SEVERITY_ERROR,
			    "type_mismatch", &o, &c->kp,
			    "element %zu is %s; expected a string", i + 1,
			    toml_value_phrase(e));
	}
}

static void
config_keys_unknown(struct config_keys_ctx *c, const struct config_node *node,
    const struct toml_value *t, size_t i)
{
	struct config_origin o = config_origin_of_key(t, i);
	size_t len;
	const char *key = toml_table_key(t, i, &len);
	/* The edit distances cost a few hundred microseconds per key: not
	 * for a message that will not be listed. */
	const char *near = config_diags_full(c->d) ?
	    NULL :
	    config_keys_suggest(node, key, len);

	if (near)
		config_diags_add(c->d, CONFIG_SEVERITY_WARNING, "unknown_key",
		    &o, &c->kp, "unknown key, ignored; did you mean \"%s\"?",
		    near);
	else
		config_diags_add(c->d, CONFIG_SEVERITY_WARNING, "unknown_key",
		    &o, &c->kp, "unknown key, ignored");
}

static void
config_keys_check_table(struct config_keys_ctx *c,
    const struct config_node *node, const struct toml_value *t)
{
	for (size_t i = 0; i < toml_table_size(t); i++) {
		size_t len;
		const char *key = toml_table_key(t, i, &len);
		const struct config_key *f = node->fields;

		while (f && f->name &&
		    !(strlen(f->name) == len && memcmp(f->name, key, len) == 0))
			f++;
		config_keypath_push(&c->kp, key, len);
		if (f && f->name)
			config_keys_check_value(c, f->node,
			    toml_table_value(t, i));
		else if (!node->ignored ||
		    !config_word_in(node->ignored, key, len))
			config_keys_unknown(c, node, t, i);
		config_keypath_pop(&c->kp);
	}
}

static void
config_keys_check_map(struct config_keys_ctx *c, const struct config_node *node,
    const struct toml_value *t)
{
	for (size_t i = 0; i < toml_table_size(t); i++) {
		size_t len;
		const char *key = toml_table_key(t, i, &len);

		config_keypath_push(&c->kp, key, len);
		if (node->absolute_keys && (len == 0 || key[0] != '/')) {
			struct config_origin o = config_origin_of_key(t, i);

			config_diags_add(c->d, CONFIG_SEVERITY_WARNING,
			    "project_path_not_absolute", &o, &c->kp,
			    "project paths are absolute; this entry never "
			    "matches a directory");
		}
		config_keys_check_value(c, node->value, toml_table_value(t, i));
		config_keypath_pop(&c->kp);
	}
}

/* A filesystem table: values are an access word or one level of
 * subpath -> access word. The key grammar is checked when compiling. */
static void
config_keys_check_fs(struct config_keys_ctx *c, const struct toml_value *t)
{
	for (size_t i = 0; i < toml_table_size(t); i++) {
		size_t len;
		const char *key = toml_table_key(t, i, &len);
		const struct toml_value *v = toml_table_value(t, i);

		config_keypath_push(&c->kp, key, len);
		if (toml_value_type(v) == TOML_TABLE) {
			for (size_t j = 0; j < toml_table_size(v); j++) {
				size_t slen;
				const char *sub = toml_table_key(v, j, &slen);
				const struct toml_value *a =
				    toml_table_value(v, j);

				config_keypath_push(&c->kp, sub, slen);
				config_keys_check_word(c, config_access_words,
				    a, "access");
				config_keypath_pop(&c->kp);
			}
		} else if (toml_value_type(v) == TOML_STRING) {
			config_keys_check_word(c, config_access_words, v,
			    "access");
		} else {
			config_keys_mismatch(c, v,
			    "an access (\"read\", \"write\" or \"none\") or a "
			    "table of subpath = access");
		}
		config_keypath_pop(&c->kp);
	}
}

static void
config_keys_check_value(struct config_keys_ctx *c,
    const struct config_node *node, const struct toml_value *v)
{
	enum toml_type t = toml_value_type(v);

	switch (node->kind) {
	case CONFIG_KIND_ANY:
		break;
	case CONFIG_KIND_BOOL:
		if (t != TOML_BOOL)
			config_keys_mismatch(c, v, "a boolean");
		break;
	case CONFIG_KIND_STRING:
		if (t != TOML_STRING)
			config_keys_mismatch(c, v, "a string");
		else
			config_keys_check_nul(c, v);
		break;
	case CONFIG_KIND_ENUM:
		config_keys_check_word(c, node->words, v, node->noun);
		break;
	case CONFIG_KIND_STRINGS:
		config_keys_check_strings(c, v);
		break;
	case CONFIG_KIND_TABLE:
	case CONFIG_KIND_MAP:
	case CONFIG_KIND_FS_TABLE:
		if (t != TOML_TABLE)
			config_keys_mismatch(c, v, "a table");
		else if (node->kind == CONFIG_KIND_TABLE)
			config_keys_check_table(c, node, v);
		else if (node->kind == CONFIG_KIND_MAP)
			config_keys_check_map(c, node, v);
		else
			config_keys_check_fs(c, v);
		break;
	case _CONFIG_KIND_MAX:
		break;
	}
}

void
config_keys_check(const struct toml_value *root, struct config_diags *d)
{
	struct config_keys_ctx c = { .d = d };

	config_keys_check_value(&c, &config_schema_root, root);
}

static const struct toml_value *
config_get_value(const struct toml_value *t, const char *key)
{
	if (!t || toml_value_type(t) != TOML_TABLE)
		return NULL;
	return toml_table_get_str(t, key);
}

const struct toml_value *
config_get_table(const struct toml_value *t, const char *key)
{
	const struct toml_value *v = config_get_value(t, key);

	return v && toml_value_type(v) == TOML_TABLE ? v : NULL;
}

const char *
config_get_string(const struct toml_value *t, const char *key,
    const struct toml_value **ret_value)
{
	const struct toml_value *v = config_get_value(t, key);
	const char *s;
	size_t len;

	if (!v || toml_value_type(v) != TOML_STRING)
		return NULL;
	s = toml_value_string(v, &len);
	if (memchr(s, '\0', len))
		return NULL; /* reported by the structural check */
	if (ret_value)
		*ret_value = v;
	return s;
}

bool
config_get_bool(const struct toml_value *t, const char *key, bool *ret)
{
	const struct toml_value *v = config_get_value(t, key);

	if (!v || toml_value_type(v) != TOML_BOOL)
		return false;
	*ret = toml_value_bool(v);
	return true;
}
