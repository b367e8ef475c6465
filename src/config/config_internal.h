/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared by the files of src/config/ and by nothing else:
 * the config object itself, the diagnostics helpers and the steps of
 * config_load() (layers -> merge -> selection -> permissions -> network).
 * Other modules include only config.h.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "policy/policy.h"
#include "util/compiler.h"

struct buf;
struct toml_value;

/* A dotted key path under construction; segments are borrowed. */
#define CONFIG_KEYPATH_MAX 16

struct config_keypath {
	const char *seg[CONFIG_KEYPATH_MAX];
	size_t len[CONFIG_KEYPATH_MAX];
	size_t n;
};

/* Push a segment (len bytes). The walkers never nest deeper than the
 * schema, which is far below CONFIG_KEYPATH_MAX. */
void config_keypath_push(struct config_keypath *kp, const char *seg,
    size_t len);
void config_keypath_pop(struct config_keypath *kp);

/* The path as TOML dotted key text (caller frees), or NULL on ENOMEM. */
char *config_keypath_format(const struct config_keypath *kp);

/*
 * Recording diagnostics. Allocation failures are remembered in the list
 * and turned into -ENOMEM by config_load(), so callers need not check.
 * key may be NULL; origin may be NULL or have a NULL file.
 */
void config_diags_add(struct config_diags *d, enum config_severity sev,
    const char *code, const struct config_origin *origin,
    const struct config_keypath *key, const char *fmt, ...) _printf_(6, 7);

/* The same with the key path already formatted (or NULL). */
void config_diags_add_at(struct config_diags *d, enum config_severity sev,
    const char *code, const struct config_origin *origin, const char *key,
    const char *fmt, ...) _printf_(6, 7);

void config_diags_addv(struct config_diags *d, enum config_severity sev,
    const char *code, const struct config_origin *origin, const char *key,
    const char *fmt, va_list ap) _printf_(6, 0);

/* True when the list is full: a diagnostic added now is only counted, so
 * a caller may skip the work of its message. */
bool config_diags_full(const struct config_diags *d);

/* Attach the requirement a just-added "requirement_violated" diagnostic
 * is about. Returns 0 or -ENOMEM (then the list is marked out of
 * memory). */
int config_diags_set_requirement(struct config_diags *d,
    const struct config_origin *origin, const char *key);

/* Append text with control bytes escaped as \xNN, nothing else changed,
 * so file names, patterns and messages cannot write to the terminal.
 * Returns 0 or -ENOMEM. */
int config_escape_text(struct buf *out, const char *text);

/* "FLAG VALUE", the source name of a command-line option (NULL when out of
 * memory). */
char *config_flag_source(const char *flag, const char *value);

/* Remembered out-of-memory condition. */
bool config_diags_oom(const struct config_diags *d);
void config_diags_set_oom(struct config_diags *d);

/* Where a TOML value was written. */
struct config_origin config_origin_of(const struct toml_value *v);

/* Where the i-th key of table t was written (its value's source). */
struct config_origin config_origin_of_key(const struct toml_value *t, size_t i);

/*
 * Append s[0..len) to out as a double-quoted, escaped string, at most
 * LIMIT_CONFIG_QUOTE_BYTES input bytes: control bytes become \xNN, '"' and
 * '\\' are escaped, UTF-8 is kept. Returns 0 or a negative errno.
 */
int config_quote(struct buf *out, const char *s, size_t len);

/*
 * JSON helpers (config_json.c). config_json_text() turns any bytes into a
 * JSON string (invalid UTF-8 becomes U+FFFD; NULL becomes null). Each
 * returns a new reference or NULL on ENOMEM.
 */
struct json_t *config_json_text(const char *s);
struct json_t *config_json_strv(char *const *v, size_t n);

/* A layer as loaded. */
struct config_layer_state {
	struct config_layer pub;
	char *path;              /* owned; pub.path points here */
	char *disabled_reason;   /* owned */
	char *dir;               /* base for relative paths */
	struct toml_value *tree; /* NULL when missing or disabled */
	char **sources;          /* overrides: one source name per -c */
	size_t n_sources;
};

/* The administrator's requirements (config_requirements.c). */
struct config_req_set {
	char *paths[2];               /* requirements.toml, managed_config */
	struct toml_value *trees[2];  /* NULL when absent or broken */
	struct config_requirement *v; /* in force; key and value owned */
	size_t n;
};

struct config {
	char *cwd;       /* session cwd, absolute, normalised */
	char *home;      /* CODEX_HOME */
	char *user_home; /* $HOME for ~ expansion, or NULL */
	char *git_root;  /* root git project of the cwd, or NULL */
	char *project_root;
	char *user_file;   /* where the user layer is (or would be) */
	char *system_file; /* where the system layer is (or would be) */
	/* config_options.regular_files_only */
	bool regular_files_only;

	struct config_layer_state *layers;
	size_t n_layers;
	struct toml_value *tree; /* merged */

	/* Command-line values and where they were given. */
	char *cli_profile_source;
	char *cli_sandbox_source;
	char **add_dirs; /* resolved against the cwd */
	size_t n_add_dirs;

	enum config_syntax syntax;
	char *default_permissions;
	const struct toml_value *profile; /* selected, in tree; or NULL */
	struct config_fs_policy *fs;
	struct config_sandbox_policy *sandbox;
	bool network_sandbox_enabled;
	struct config_writable_root *roots;
	size_t n_roots;

	struct config_network net;
	struct config_shell_env shell_env;
	struct config_otel otel;
	struct policy_rule_spec *rule_specs;
	struct config_req_set req;
};

/* Step 1 (config_layers.c): find, read, parse and order the layers; builds
 * the overrides layer from -c and --permissions. Returns 0 or -ENOMEM;
 * problems go to d. */
int config_layers_load(struct config *cfg, const struct config_options *opts,
    struct config_diags *d);

/*
 * Read a whole file of at most max bytes. Returns 0 with *ret (caller
 * frees; NUL-terminated, may hold NULs) or with *ret NULL when the file
 * does not exist; -EISDIR, -E2BIG, -ENOMEM or another -errno otherwise.
 * Unless any_type, only a regular file is read (-EINVAL for a FIFO, a
 * device or a socket): a file a checkout supplies must never block the
 * load. A file the user named may be a pipe (--config <(...)).
 */
int config_layers_read(const char *path, size_t max, bool any_type, char **ret,
    size_t *ret_len);

/* The trust_level that a [projects] table gives path (keys compared after
 * normalisation), or NULL. */
const char *config_layers_trust(const struct toml_value *projects,
    const char *path);

/* The base directory for relative paths written in source (a layer path or
 * a command-line source name): the file's directory, else the cwd. */
const char *config_layers_base_dir(const struct config *cfg,
    const char *source);

/* Step 2 (config_merge.c): merge src into dst, tables key by key, anything
 * else replaced by a copy. Returns 0 or -ENOMEM. */
int config_merge(struct toml_value *dst, const struct toml_value *src);

/*
 * -c KEY=VALUE (config_override.c): parse arg and set the value in tree,
 * creating (or replacing) intermediate tables. source names the argument
 * in origins and must outlive tree. Returns 0, -EINVAL (reported to d) or
 * -ENOMEM.
 */
int config_override_apply(struct toml_value *tree, const char *arg,
    const char *source, size_t arg_col, struct config_diags *d);

/*
 * The schema of everything paddock reads (config_keys.c). One table drives
 * the structural check of every layer, the "did you mean" suggestions and
 * the JSON Schema (config_schema.c).
 */
enum config_kind {
	CONFIG_KIND_ANY, /* known to the reference, ignored by paddock */
	CONFIG_KIND_BOOL,
	CONFIG_KIND_STRING,
	CONFIG_KIND_ENUM,
	CONFIG_KIND_STRINGS,  /* array of strings */
	CONFIG_KIND_TABLE,    /* fixed fields */
	CONFIG_KIND_MAP,      /* free keys, one value schema */
	CONFIG_KIND_FS_TABLE, /* path spec -> access or scoped table */
	_CONFIG_KIND_MAX,
};

struct config_node;

struct config_key {
	const char *name; /* NULL ends a field list */
	const struct config_node *node;
	const char *def; /* the default as JSON text, or NULL */
	const char *doc;
};

struct config_node {
	enum config_kind kind;
	const char *defname; /* its name under $defs, or NULL to inline */
	const char *doc;
	const struct config_key *fields; /* TABLE */
	const char *const *ignored;      /* TABLE: NULL-terminated */
	const struct config_node *value; /* MAP */
	const char *const *words;        /* ENUM: NULL-terminated */
	const char *noun;                /* ENUM: what a word names */
	bool absolute_keys; /* MAP: keys are absolute paths (warned) */
};

/* The root of the schema. */
extern const struct config_node config_schema_root;

/* The access words of a filesystem entry: "read", "write", "none". */
extern const char *const config_access_words[];

/* Structural check of one layer against the schema: unknown keys (with a
 * suggestion), wrong types, words outside an enum. */
void config_keys_check(const struct toml_value *root, struct config_diags *d);

/* Typed lookups in t (which may be NULL or not a table) that return NULL
 * (or false) for a missing key or a value of the wrong type, which
 * config_keys_check() reported already. Strings with a NUL count as
 * wrong. */
const struct toml_value *config_get_table(const struct toml_value *t,
    const char *key);
const char *config_get_string(const struct toml_value *t, const char *key,
    const struct toml_value **ret_value);
bool config_get_bool(const struct toml_value *t, const char *key, bool *ret);

/* Paths (config_path.c): lexical, no filesystem access. */
bool config_path_is_absolute(const char *p);

/* Normalise an absolute path: collapse "//", drop ".", resolve ".." (never
 * above "/"), drop a trailing "/". Caller frees; NULL on ENOMEM. */
char *config_path_normalize(const char *p);

/* base joined with rel (rel may be absolute), normalised. */
char *config_path_join(const char *base, const char *rel);

/*
 * Resolve a path written in config: "~" and "~/..." expand to home, an
 * absolute path is normalised, anything else joins base. Returns 0,
 * -ENOENT when "~" is needed but home is NULL, or -ENOMEM.
 */
int config_path_resolve(const char *p, const char *base, const char *home,
    char **ret);

/* True when p equals prefix or lies below it, compared by component. */
bool config_path_has_prefix(const char *p, const char *prefix);

/* The directory part of an absolute path (caller frees). */
char *config_path_dirname(const char *p);

/* $TMPDIR when set, non-empty and absolute, normalised (caller frees);
 * NULL otherwise or on ENOMEM. */
char *config_path_tmpdir(void);

/* Step 3 (config_select.c): choose the legacy or the profile path (spec
 * §2.2), compile and project the permissions, add the extra roots, derive
 * the split policies and the writable roots. Returns 0 or -ENOMEM. */
/* Read the requirement sources (config_options.requirements_file and
 * managed_file); check them against the loaded config once the network
 * settings are in (managed denies are added to net.rules then). */
int config_requirements_load(struct config *cfg,
    const struct config_options *opts, struct config_diags *d);
int config_requirements_check(struct config *cfg, struct config_diags *d);
void config_requirements_done(struct config_req_set *rs);

/* Rebuild cfg->rule_specs from cfg->net.rules. 0 or -ENOMEM. */
int config_network_specs(struct config *cfg);

int config_select(struct config *cfg, const struct config_options *opts,
    struct config_diags *d);

/*
 * Filesystem profiles (config_fs.c). Compile [permissions.<name>] (spec
 * §4.4) and report the key grammar (§3 E5-E7, E9-E11) and writes outside
 * a non-writable workspace root (E8). Errors are reported at severity sev
 * (a warning for a profile not in use). Returns 0 with *ret, or -ENOMEM.
 */
int config_fs_compile(const struct config *cfg, const char *name,
    const struct toml_value *profile, enum config_severity sev,
    struct config_diags *d, struct config_fs_policy **ret);

/* Append an entry (strings copied; subpath may be NULL). */
int config_fs_policy_append(struct config_fs_policy *p, bool is_special,
    enum config_fs_special special, const char *path, const char *subpath,
    enum config_fs_access access, const struct config_origin *origin);

/* A new, empty policy of the given kind, or NULL on ENOMEM. */
struct config_fs_policy *config_fs_policy_new(enum config_fs_kind kind);

/* Legacy policies (config_sandbox.c). A new policy, or NULL on ENOMEM. */
struct config_sandbox_policy *config_sandbox_policy_new(
    enum config_sandbox_type type);

/*
 * String arrays (v, n), built from (NULL, 0) by these functions only: the
 * capacity is implied by n. Append a copy of s; the _unique form does
 * nothing when s is there already (a linear scan: for short lists; long
 * ones are appended to and deduplicated once). Return 0 or -ENOMEM.
 */
int config_strv_add(char ***v, size_t *n, const char *s);
int config_strv_add_unique(char ***v, size_t *n, const char *s);

/* Drop every later copy of a string from v, keeping the order. Returns 0
 * or -ENOMEM (v unchanged). */
int config_strv_dedup(char **v, size_t *n);

/* strcmp(), or with fold the way host patterns compare: ASCII case and
 * one trailing dot aside. */
int config_strv_cmp(const char *a, const char *b, bool fold);

/* Set drop[i] for every v[i] whose key (config_strv_cmp) occurs again in
 * v[0..n): all but the last occurrence (keep_last) or all but the first.
 * Sorts a copy: O(n log n). Returns 0 or -ENOMEM. */
int config_strv_dups(const char *const *v, size_t n, bool fold, bool keep_last,
    bool *drop);

void config_strv_free(char **v, size_t n);

/* Derive the legacy policy from a mode and [sandbox_workspace_write]
 * (spec §2.3); bad writable roots are reported to d. Returns 0 or
 * -ENOMEM. */
int config_sandbox_from_mode(const struct config *cfg, const char *mode,
    const struct toml_value *sww, struct config_diags *d,
    struct config_sandbox_policy **ret);

/* Step 4 (config_network.c): effective network settings and their
 * validation, for the selected profile (NULL on the legacy path); checks
 * the network tables of all other profiles at warning level. Returns 0 or
 * -ENOMEM. */
int config_network_load(struct config *cfg, struct config_diags *d);

/* [shell_environment_policy] (config_shellenv.c), after the merge. Returns
 * 0 or -ENOMEM. The types were checked by config_keys_check(). */
int config_shellenv_load(struct config *cfg);
void config_shellenv_done(struct config_shell_env *e);

void config_network_done(struct config_network *net);

/* [otel] (config_otel.c), after the merge: the exporter, its endpoint,
 * headers (with ${VAR} expanded) and TLS files. Errors go to d. Returns 0
 * or -ENOMEM. */
int config_otel_load(struct config *cfg, struct config_diags *d);
void config_otel_done(struct config_otel *o);

/* Listener addresses (config_addr.c): parse value as spec network §1.3 and
 * resolve to a bind address. Returns 0, or -EINVAL with a reason in err. */
int config_addr_parse(const char *value, uint16_t default_port,
    struct config_listen_addr *ret, bool *ret_host_replaced, char *err,
    size_t errsz);

/* True for 127.0.0.0/8 and ::1. */
bool config_addr_is_loopback(const struct config_listen_addr *a);
