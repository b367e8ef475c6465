/* SPDX-License-Identifier: MIT */
/*
 * The config loader: layered config.toml in, effective permissions out.
 *
 * paddock reads the same layered config.toml as the reference system
 * (docs/config.md): the system file, the user file under CODEX_HOME, the
 * trusted project files .codex/config.toml from the project root down to
 * the session cwd, then the -c overrides. The layers are merged, the
 * permissions are selected (a named permission profile or the legacy
 * sandbox_mode), compiled and projected, and the network settings are
 * resolved and validated. Nothing is re-parsed or rejected later: a loaded
 * config is complete and consistent.
 *
 * Problems come back as data. Every error and warning carries a stable
 * code, a message, the file:line:col where the offending value was written
 * and its dotted key path; all problems are reported, not just the first.
 *
 * Result records (policies, network settings, diagnostics) have public
 * layouts because the JSON writers, the proxy and the sandbox runner read
 * every field. Treat them as read-only; they live as long as the object
 * they were borrowed from. Strings in them are NUL-terminated.
 *
 * Thread rules: a loaded config is immutable and may be read from any
 * thread. Loading reads files and the environment (HOME, CODEX_HOME,
 * TMPDIR, through secure_getenv) and must not race with setenv().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

struct buf;
struct config;
struct config_diags;
struct json_t;
struct toml_value;

/*
 * Where a value was written. file is a layer's path, or for command-line
 * values the argument itself ("-c sandbox_mode=read-only"), with the
 * column counted in that text. file is NULL for derived values; line and
 * column are 0 when unknown. Borrowed from the config or diagnostics list.
 */
struct config_origin {
	const char *file;
	uint32_t line, column;
};

/*
 * Diagnostics.
 */
enum config_severity {
	CONFIG_SEVERITY_ERROR,
	CONFIG_SEVERITY_WARNING,
	_CONFIG_SEVERITY_MAX,
};

struct config_diag {
	enum config_severity severity;
	const char *code;    /* stable, e.g. "undefined_profile" */
	const char *message; /* one line, our own words */
	struct config_origin origin;
	const char *key; /* dotted key path, e.g. permissions.dev.filesystem,
			    or NULL */
	/* For "requirement_violated": the administrator's requirement that
	 * the entry above breaks (file NULL otherwise). */
	struct config_origin requirement;
	const char *requirement_key;
};

struct config_diags *config_diags_new(void);

/* Accepts NULL; returns NULL. */
struct config_diags *config_diags_free(struct config_diags *d);

size_t config_diags_count(const struct config_diags *d);

size_t config_diags_count_severity(const struct config_diags *d,
    enum config_severity severity);

/* The i-th diagnostic, in the order found (borrowed). */
const struct config_diag *config_diags_get(const struct config_diags *d,
    size_t i);

/* "error" or "warning". */
const char *config_severity_name(enum config_severity s);

/*
 * Append "file:line:col: key: message" (parts that are unknown are left
 * out) to out. Returns 0 or a negative errno from buf.
 */
int config_diag_format(const struct config_diag *diag, struct buf *out);

/* {"code","message","file","line","column","key"} (absent parts are null).
 * Returns a new reference or NULL on ENOMEM. */
struct json_t *config_diag_to_json(const struct config_diag *diag);

/*
 * Loading.
 */
/* Relative paths here resolve against the process cwd, except add_dirs
 * (against the session cwd). A file named here must exist. */
struct config_options {
	const char *home;        /* --home: CODEX_HOME; NULL = $CODEX_HOME or
				    ~/.codex */
	const char *config_file; /* --config: the user layer; NULL =
				    <home>/config.toml (may be missing) */
	const char *system_file; /* NULL = /etc/codex/config.toml (may be
				    missing); "" = none */
	const char *requirements_file; /* NULL = /etc/codex/requirements.toml
					  (may be missing); "" = none */
	const char *managed_file;      /* NULL = /etc/codex/managed_config.toml
					  (may be missing); "" = none */
	const char *cwd; /* --cwd: session cwd; NULL = process cwd */
	const char *const *overrides; /* -c KEY=VALUE, in order */
	size_t n_overrides;
	const char *profile;     /* --profile: config profile */
	const char *permissions; /* --permissions: as -c default_permissions */
	const char *sandbox;     /* --sandbox: legacy mode override */
	const char *const *add_dirs; /* --add-dir: extra writable roots */
	size_t n_add_dirs;
	/* Embedders, tests and fuzzing: use this text as the user layer
	 * instead of reading config_file (which still names it). */
	const char *user_text;
	size_t user_text_len;
	/* Read regular files only, even those named explicitly (a FIFO or a
	 * device is an error, never waited on): a reload runs on the thread
	 * that handles signals, which must never block. */
	bool regular_files_only;
};

/*
 * Load, merge, select, compile and validate. Every problem is appended to
 * diags (warnings too, so check diags on success). Returns 0 with *ret_cfg
 * (caller frees with config_free()) when no error was found, -EINVAL when
 * at least one error was recorded (*ret_cfg untouched), or -ENOMEM.
 */
int config_load(const struct config_options *opts, struct config_diags *diags,
    struct config **ret_cfg);

/* Accepts NULL; returns NULL. */
struct config *config_free(struct config *cfg);

/* True for "read-only", "workspace-write" and "danger-full-access". */
bool config_sandbox_mode_is_valid(const char *mode);

/*
 * Layers, lowest precedence first, including disabled project layers.
 * A missing system or user file is no layer.
 */
enum config_layer_source {
	CONFIG_LAYER_SYSTEM,
	CONFIG_LAYER_USER,
	CONFIG_LAYER_PROJECT,
	CONFIG_LAYER_OVERRIDES,
	_CONFIG_LAYER_SOURCE_MAX,
};

/* A layer whose file exists (or the overrides, when there are any). */
struct config_layer {
	enum config_layer_source source;
	const char *path;            /* the file; NULL for the overrides */
	bool enabled;                /* takes part in the merge */
	const char *disabled_reason; /* NULL when enabled */
};

/* "system", "user", "project", "overrides". */
const char *config_layer_source_name(enum config_layer_source s);

/*
 * Permissions: the split policies (spec §4.1) and the legacy projection
 * (§4.2) that paddock enforces.
 */
enum config_syntax {
	CONFIG_SYNTAX_LEGACY,   /* sandbox_mode and [sandbox_workspace_write] */
	CONFIG_SYNTAX_PROFILES, /* default_permissions and [permissions] */
	_CONFIG_SYNTAX_MAX,
};

/* "legacy", "profiles". */
const char *config_syntax_name(enum config_syntax s);

/* The selected permission profile, or NULL on the legacy path. */
const char *config_get_default_permissions(const struct config *cfg);

/* The tables whose keys name what --permissions and --profile select. */
enum config_names {
	CONFIG_NAMES_PERMISSIONS, /* [permissions.NAME] */
	CONFIG_NAMES_PROFILES,    /* [profiles.NAME], config profiles */
	_CONFIG_NAMES_MAX,
};

/*
 * The i-th name (file order) defined in the merged config under the table
 * of kind, with its length in *ret_len (a quoted TOML key may hold any
 * byte, even NUL); NULL past the end. Borrowed from cfg.
 */
const char *config_get_name(const struct config *cfg, enum config_names kind,
    size_t i, size_t *ret_len);

/*
 * Administrator requirements (docs/config.md "Requirements"): what
 * /etc/codex/requirements.toml and the legacy managed_config.toml fixed,
 * one entry per constraint in force, in file order. Borrowed.
 */
struct config_requirement {
	const char *key;   /* e.g. experimental_network.allow_local_binding */
	const char *value; /* the value as TOML text */
	struct config_origin origin;
};

size_t config_requirements_count(const struct config *cfg);

/*
 * Whether the requirements allow switching the running proxy to mode
 * (spec network §1.6: checked on every runtime mutation). Returns 0, or
 * -EPERM with the reason, naming the requirement and its file, in err.
 */
int config_requirements_check_mode(const struct config *cfg,
    enum policy_mode mode, char *err, size_t errsz);
const struct config_requirement *config_requirements_get(const struct config
							     *cfg,
    size_t i);

/*
 * Every file the config is made of, whether it exists or not, as absolute
 * paths: the system layer, the user layer (or --config), the requirements
 * and the legacy managed config, and .codex/config.toml in each directory
 * from the project root down to the cwd (CODEX_HOME excepted). Writing,
 * creating, replacing or removing any of them may change the config; a
 * watcher reloads on them. *ret is the caller's, freed with
 * config_layers_files_free(). Returns 0 or -ENOMEM.
 */
int config_layers_files(const struct config *cfg, char ***ret, size_t *ret_n);

/* Accepts NULL. */
void config_layers_files_free(char **v, size_t n);

/* CODEX_HOME as resolved at load (--home, $CODEX_HOME or ~/.codex);
 * borrowed. Never NULL on a loaded config. */
const char *config_get_codex_home(const struct config *cfg);

/* HTTPS interception is in use: the network on, limited mode and
 * mitm = true (docs/mitm.md). */
bool config_intercepts(const struct config *cfg);

/* Where the interception CA and bundles live, CODEX_HOME/proxy, into out.
 * Returns 0 or -ENAMETOOLONG. */
int config_mitm_dir(const struct config *cfg, char *out, size_t outsz);

enum config_fs_access {
	CONFIG_FS_ACCESS_NONE,
	CONFIG_FS_ACCESS_READ,
	CONFIG_FS_ACCESS_WRITE,
	_CONFIG_FS_ACCESS_MAX,
};

/* "none", "read", "write". */
const char *config_fs_access_name(enum config_fs_access a);

enum config_fs_special {
	CONFIG_FS_SPECIAL_ROOT,
	CONFIG_FS_SPECIAL_MINIMAL,
	CONFIG_FS_SPECIAL_CURRENT_WORKING_DIRECTORY, /* only from legacy */
	CONFIG_FS_SPECIAL_PROJECT_ROOTS,
	CONFIG_FS_SPECIAL_TMPDIR,
	CONFIG_FS_SPECIAL_SLASH_TMP, /* only from legacy */
	CONFIG_FS_SPECIAL_UNKNOWN,   /* a :token this version does not know */
	_CONFIG_FS_SPECIAL_MAX,
};

/* "root", "minimal", "current_working_directory", "project_roots", ... */
const char *config_fs_special_name(enum config_fs_special s);

struct config_fs_entry {
	bool is_special;
	enum config_fs_special special; /* when is_special */
	char *path;    /* a path: absolute, normalised; UNKNOWN: the token */
	char *subpath; /* PROJECT_ROOTS and UNKNOWN: relative, or NULL */
	enum config_fs_access access;
	struct config_origin origin; /* where written; file NULL if derived */
};

enum config_fs_kind {
	CONFIG_FS_KIND_RESTRICTED,
	CONFIG_FS_KIND_UNRESTRICTED,
	CONFIG_FS_KIND_EXTERNAL_SANDBOX,
	_CONFIG_FS_KIND_MAX,
};

/* "restricted", "unrestricted", "external-sandbox". */
const char *config_fs_kind_name(enum config_fs_kind k);

struct config_fs_policy {
	enum config_fs_kind kind;
	struct config_fs_entry *entries; /* RESTRICTED only, in order */
	size_t n_entries;
};

struct config_fs_policy *config_fs_policy_free(struct config_fs_policy *p);

enum config_sandbox_type {
	CONFIG_SANDBOX_DANGER_FULL_ACCESS,
	CONFIG_SANDBOX_READ_ONLY,
	CONFIG_SANDBOX_EXTERNAL_SANDBOX,
	CONFIG_SANDBOX_WORKSPACE_WRITE,
	_CONFIG_SANDBOX_TYPE_MAX,
};

/* "danger-full-access", "read-only", "external-sandbox",
 * "workspace-write". */
const char *config_sandbox_type_name(enum config_sandbox_type t);

/* The legacy read access: everything, or the listed roots. */
struct config_read_access {
	bool full;
	bool include_platform_defaults; /* when !full */
	char **readable_roots;          /* when !full */
	size_t n_readable_roots;
};

/* The legacy SandboxPolicy. Fields not used by a type are zero. */
struct config_sandbox_policy {
	enum config_sandbox_type type;
	struct config_read_access read; /* READ_ONLY, WORKSPACE_WRITE */
	/* READ_ONLY, WORKSPACE_WRITE; for EXTERNAL_SANDBOX: "enabled". */
	bool network_access;
	char **writable_roots; /* WORKSPACE_WRITE */
	size_t n_writable_roots;
	bool exclude_tmpdir_env_var; /* WORKSPACE_WRITE */
	bool exclude_slash_tmp;      /* WORKSPACE_WRITE */
};

struct config_sandbox_policy *config_sandbox_policy_free(
    struct config_sandbox_policy *p);

/* A writable root and the subpaths under it that stay read-only. */
struct config_writable_root {
	char *root;
	char **read_only_subpaths;
	size_t n_read_only_subpaths;
};

/* The effective sandbox policy (borrowed). */
const struct config_sandbox_policy *config_get_sandbox_policy(
    const struct config *cfg);

/* The effective split filesystem policy (borrowed): the compiled profile,
 * or the legacy policy converted (spec §4.3). */
const struct config_fs_policy *config_get_fs_policy(const struct config *cfg);

/* True when the permissions grant network access (the profile's
 * network.enabled, or the legacy policy's network_access). */
bool config_get_network_sandbox_enabled(const struct config *cfg);

/* The session cwd: absolute, normalised (borrowed). */
const char *config_get_cwd(const struct config *cfg);

/*
 * The pure permission transforms, for the sandbox runner and for tests.
 * Each returns 0 with a new object (caller frees) or a negative errno.
 */

/* Legacy -> split filesystem policy (spec §4.3). */
int config_fs_policy_from_sandbox_policy(const struct config_sandbox_policy *sp,
    struct config_fs_policy **ret);

/* has_full_network_access() of a legacy policy (spec §4.2). */
bool config_sandbox_policy_has_full_network(
    const struct config_sandbox_policy *sp);

/*
 * Split -> legacy projection (spec §4.5) against cwd. Returns -EINVAL when
 * the policy writes outside a non-writable cwd; then *reterr_entry (when
 * not NULL) is the index of the first such entry.
 */
int config_fs_policy_project(const struct config_fs_policy *fs,
    bool network_enabled, const char *cwd, struct config_sandbox_policy **ret,
    size_t *reterr_entry);

/* The writable roots of sp for cwd (spec §4.2.1); reads the filesystem and
 * TMPDIR. *ret_roots is a new array (free with config_writable_roots_free). */
int config_sandbox_policy_writable_roots(const struct config_sandbox_policy *sp,
    const char *cwd, struct config_writable_root **ret_roots, size_t *ret_n);

void config_writable_roots_free(struct config_writable_root *roots, size_t n);

/*
 * [shell_environment_policy]: the environment of the command paddock run
 * starts (docs/sandbox.md). Applied in this order: inherit, the default
 * excludes (*KEY*, *SECRET*, *TOKEN*, unless ignore_default_excludes),
 * exclude, set, include_only. Patterns are case-insensitive globs.
 */
enum config_env_inherit {
	CONFIG_ENV_INHERIT_ALL,
	CONFIG_ENV_INHERIT_CORE,
	CONFIG_ENV_INHERIT_NONE,
	_CONFIG_ENV_INHERIT_MAX,
};

struct config_shell_env {
	enum config_env_inherit inherit;
	bool ignore_default_excludes;
	char **exclude;
	size_t n_exclude;
	char **include_only;
	size_t n_include_only;
	char **set_names; /* parallel to set_values, in written order */
	char **set_values;
	size_t n_set;
};

/* The effective policy (borrowed). */
const struct config_shell_env *config_get_shell_env(const struct config *cfg);

/*
 * Network settings: the top-level [network] table overridden key by key
 * by the selected profile's [permissions.<name>.network] (docs/config.md).
 */
#define CONFIG_ADDR_TEXT_MAX 64

/* A listener address: resolved to an IP literal and clamped to loopback
 * unless allowed otherwise (spec network §1.3, §7.1). */
struct config_listen_addr {
	int family;                      /* AF_INET or AF_INET6 */
	char host[CONFIG_ADDR_TEXT_MAX]; /* IP literal, no brackets */
	uint16_t port;
	bool clamped; /* the configured host was replaced by loopback */
};

/* One domain pattern as written. */
struct config_domain_rule {
	char *pattern;
	enum policy_list list;
	struct config_origin origin;
	char *key; /* its dotted key path, e.g. network.allowed_domains */
};

/* One allowed unix socket path (absolute). */
struct config_unix_socket {
	char *path;
	struct config_origin origin;
};

struct config_network {
	bool enabled;
	char *proxy_url;
	bool enable_socks5;
	char *socks_url;
	bool enable_socks5_udp;
	bool allow_upstream_proxy;
	bool dangerously_allow_non_loopback_proxy;
	char *admin_url; /* NULL: no admin listener (the default) */
	bool dangerously_allow_non_loopback_admin;
	enum policy_mode mode;
	bool mitm; /* intercept HTTPS tunnels in limited mode */
	bool allow_local_binding;
	bool dangerously_allow_all_unix_sockets;
	/* Effective domain rules: allow and deny, deny winning over an equal
	 * allow pattern (the allow is dropped), in first-written order. */
	struct config_domain_rule *rules;
	size_t n_rules;
	struct config_unix_socket *unix_sockets;
	size_t n_unix_sockets;
	struct config_listen_addr http_addr;
	struct config_listen_addr socks_addr;
	struct config_listen_addr admin_addr; /* when admin_url is set */
};

/*
 * [otel] (docs/observability.md): where audit events are exported as OTLP
 * log records. Header values have their ${VAR} references expanded from
 * the environment at load; TLS paths are absolute (relative ones resolved
 * against CODEX_HOME).
 */
enum config_otel_exporter {
	CONFIG_OTEL_EXPORTER_NONE,
	CONFIG_OTEL_EXPORTER_OTLP_HTTP,
	_CONFIG_OTEL_EXPORTER_MAX,
};

enum config_otel_protocol {
	CONFIG_OTEL_PROTOCOL_BINARY, /* application/x-protobuf */
	CONFIG_OTEL_PROTOCOL_JSON,   /* application/json */
	_CONFIG_OTEL_PROTOCOL_MAX,
};

struct config_otel_header {
	char *name;
	char *value; /* expanded: may be a secret, never shown */
};

struct config_otel {
	char *environment; /* "dev" unless set */
	enum config_otel_exporter exporter;
	char *endpoint; /* the full URL POSTed to; NULL for none */
	enum config_otel_protocol protocol;
	struct config_otel_header *headers;
	size_t n_headers;
	char *ca_certificate; /* absolute paths, or NULL */
	char *client_certificate;
	char *client_private_key;
};

/* The effective [otel] settings (borrowed). */
const struct config_otel *config_get_otel(const struct config *cfg);

/* "none", "otlp-http"; "binary", "json". */
const char *config_otel_exporter_name(enum config_otel_exporter e);
const char *config_otel_protocol_name(enum config_otel_protocol p);

/*
 * The first network key a running proxy cannot take from next, compared
 * with the config it runs with: "enabled", "proxy_url", "enable_socks5",
 * "socks_url" (while SOCKS5 is on), "enable_socks5_udp",
 * "dangerously_allow_non_loopback_proxy", "admin_url" or
 * "dangerously_allow_non_loopback_admin"; NULL when none differs.
 * Addresses compare as resolved and clamped ("http://127.0.0.1:3128"
 * equals "127.0.0.1:3128").
 */
const char *config_network_fixed_key(const struct config_network *running,
    const struct config_network *next);

/* The effective network settings (borrowed). */
const struct config_network *config_get_network(const struct config *cfg);

/*
 * The config file where the network settings of the selected permissions
 * are written: the file holding [permissions.NAME.network] (or, without
 * one, [permissions.NAME]) on the profile path, [network] on the legacy
 * path; the user layer's file when that table is not in a file. Where an
 * allow entry would go. Borrowed; NULL only without a user file.
 */
const char *config_get_network_file(const struct config *cfg);

/*
 * The network settings as policy settings, with every rule's origin, for
 * the proxy and `paddock policy check`. Everything in *ret is borrowed
 * from cfg and valid until config_free().
 */
void config_policy_settings(const struct config *cfg,
    struct policy_settings *ret);

/* Format a listen address as "host:port" ("[v6]:port"). Returns out. */
const char *config_listen_addr_format(const struct config_listen_addr *a,
    char *out, size_t outsz);

/*
 * Output.
 */

/* The effective config as TOML, each value followed by a comment naming
 * the file:line it came from, then the compiled permissions as comments.
 * Returns 0 or a negative errno. */
int config_format_toml(const struct config *cfg, struct buf *out);

/* The `config show --json` object (see docs/config.md); warnings from
 * diags. Returns a new reference or NULL on ENOMEM. */
struct json_t *config_to_json(const struct config *cfg,
    const struct config_diags *diags);

/* JSON of the policies in the reference's shapes (spec §4.1-§4.2). Each
 * returns a new reference or NULL on ENOMEM. */
struct json_t *config_sandbox_policy_to_json(
    const struct config_sandbox_policy *p);
struct json_t *config_fs_policy_to_json(const struct config_fs_policy *p);

/* The JSON Schema (draft 2020-12) of everything paddock reads. Returns a
 * new reference or NULL on ENOMEM. */
struct json_t *config_schema(void);
