/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/config: one test per rule of the reference spec
 * §1-§5 (selection, validation, compilation, projection, legacy
 * derivation, writable roots, layers, merge, overrides, network).
 *
 * The cases are data in tests/data/config/. <case>.toml is the user layer,
 * or <case>/ is a whole tree (home/, etc/, proj/, ...); <case>.json says
 * how to load it and what must come out. Each test builds the tree in a
 * fresh temporary directory T, loads it with --home T/home, the system
 * file T/etc/config.toml (when the case has one, else none) and --cwd
 * T/proj, compares, and removes T. "$T" in the expectation stands for T.
 *
 * Expectation keys (all optional):
 *   options    {"cwd", "config", "overrides", "profile", "permissions",
 *               "sandbox", "add_dirs"}; paths relative to T
 *   env        {"TMPDIR": value or null} (TMPDIR is unset otherwise)
 *   mkdir      directories to create, relative to T
 *   write      {path: text} files to create, relative to T
 *   ok         whether the load succeeds
 *   errors, warnings
 *              the exact list, in order: {"code", "file", "line",
 *              "column", "key", "message" (a substring)}
 *   layers, permissions_syntax, default_permissions, sandbox_policy,
 *   file_system_sandbox_policy, network_sandbox_policy, writable_roots
 *              equal to the `config show --json` member
 *   network    the listed members of `config show --json`'s network
 *   legacy_to_split
 *              config_fs_policy_from_sandbox_policy(sandbox policy)
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "config/config.h"
#include "util/buf.h"
#include "util/compiler.h"
#include "util/strutil.h"

#define CHECK(cond, ...)                       \
	do {                                   \
		if (!(cond))                   \
			fail_msg(__VA_ARGS__); \
	} while (0)

#define DATA TEST_DATA_DIR "/config"

/* The temporary directory of the running case ("$T"). */
static char tmpdir[64];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_tree(const char *path)
{
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "we");

	CHECK(f, "cannot create %s: %s", path, strerror(errno));
	CHECK(fwrite(text, 1, len, f) == len, "short write to %s", path);
	CHECK(fclose(f) == 0, "cannot write %s", path);
}

static char *
read_file(const char *path, size_t *ret_len)
{
	struct buf b;
	FILE *f = fopen(path, "re");
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		CHECK(buf_append(&b, chunk, n) == 0, "out of memory");
	(void)fclose(f);
	*ret_len = b.len;
	return buf_take(&b);
}

static void
mkdir_p(const char *path)
{
	char p[4096];

	(void)snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			(void)mkdir(p, 0755);
			*s = '/';
		}
	CHECK(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", p,
	    strerror(errno));
}

static char *subst(const char *s);

/* Case files may name the temporary directory as $T. */
static void
write_subst(const char *path, const char *text)
{
	char *s = subst(text);

	write_file(path, s, strlen(s));
	free(s);
}

static void
copy_tree(const char *from, const char *to)
{
	DIR *d = opendir(from);
	struct dirent *de;

	CHECK(d, "opendir %s: %s", from, strerror(errno));
	mkdir_p(to);
	while ((de = readdir(d))) {
		char src[4096], dst[4096];
		struct stat st;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		(void)snprintf(src, sizeof(src), "%s/%s", from, de->d_name);
		(void)snprintf(dst, sizeof(dst), "%s/%s", to, de->d_name);
		CHECK(stat(src, &st) == 0, "stat %s", src);
		if (S_ISDIR(st.st_mode)) {
			copy_tree(src, dst);
		} else {
			size_t len;
			char *text = read_file(src, &len);

			CHECK(text, "cannot read %s", src);
			write_subst(dst, text);
			free(text);
		}
	}
	(void)closedir(d);
}

/* s with every "$T" replaced by the temporary directory (caller frees). */
static char *
subst(const char *s)
{
	struct buf b;

	buf_init(&b, 0);
	for (const char *p = s; *p; p++)
		if (p[0] == '$' && p[1] == 'T') {
			CHECK(buf_append_str(&b, tmpdir) == 0, "oom");
			p++;
		} else {
			CHECK(buf_append_char(&b, *p) == 0, "oom");
		}
	return buf_take(&b);
}

/* Replace "$T" in every string of j, in place. */
static json_t *
subst_json(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_string(j)) {
		char *s = subst(json_string_value(j));

		CHECK(json_string_set(j, s) == 0, "oom");
		free(s);
	} else if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			subst_json(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			subst_json(v);
	}
	return j;
}

static char *
dump(const json_t *j)
{
	char *s = j ? json_dumps(j, JSON_INDENT(1) | JSON_ENCODE_ANY) : NULL;

	return s ? s : strdup("(null)");
}

static void
check_equal(const char *what, const json_t *want, const json_t *got)
{
	char *w;
	char *g;

	if (json_equal(want, got))
		return;
	w = dump(want);
	g = dump(got);
	fail_msg("%s differs\nwant: %s\ngot:  %s", what, w, g);
}

/* The exact list of diagnostics of one severity. */
static void
check_diags(const char *what, const json_t *want, const struct config_diags *d,
    enum config_severity sev)
{
	size_t n = 0, j = 0;
	struct buf all;

	buf_init(&all, 0);
	for (size_t i = 0; i < config_diags_count(d); i++) {
		const struct config_diag *diag = config_diags_get(d, i);

		if (diag->severity != sev)
			continue;
		n++;
		CHECK(buf_printf(&all, "\n  [%s] ", diag->code) == 0 &&
			config_diag_format(diag, &all) == 0,
		    "oom");
	}
	CHECK(n == json_array_size(want), "%s: want %zu, got %zu:%s", what,
	    json_array_size(want), n, buf_str(&all));
	for (size_t i = 0; i < config_diags_count(d); i++) {
		const struct config_diag *diag = config_diags_get(d, i);
		const json_t *w;
		const char *s;

		if (diag->severity != sev)
			continue;
		w = json_array_get(want, j++);
		s = json_string_value(json_object_get(w, "code"));
		CHECK(s && streq(s, diag->code), "%s %zu: want code %s:%s",
		    what, j, s, buf_str(&all));
		s = json_string_value(json_object_get(w, "file"));
		if (s) {
			char *f = subst(s);

			CHECK(diag->origin.file && streq(f, diag->origin.file),
			    "%s %zu: want file %s, got %s", what, j, f,
			    diag->origin.file);
			free(f);
		}
		if (json_object_get(w, "line"))
			CHECK(diag->origin.line ==
				json_integer_value(json_object_get(w, "line")),
			    "%s %zu: want line %lld, got %u:%s", what, j,
			    json_integer_value(json_object_get(w, "line")),
			    diag->origin.line, buf_str(&all));
		if (json_object_get(w, "column"))
			CHECK(diag->origin.column ==
				json_integer_value(
				    json_object_get(w, "column")),
			    "%s %zu: want column %lld, got %u:%s", what, j,
			    json_integer_value(json_object_get(w, "column")),
			    diag->origin.column, buf_str(&all));
		s = json_string_value(json_object_get(w, "key"));
		if (s)
			CHECK(diag->key && streq(s, diag->key),
			    "%s %zu: want key %s, got %s", what, j, s,
			    diag->key ? diag->key : "(none)");
		s = json_string_value(json_object_get(w, "message"));
		if (s) {
			char *m = subst(s);

			CHECK(strstr(diag->message, m),
			    "%s %zu: want message with \"%s\", got \"%s\"",
			    what, j, m, diag->message);
			free(m);
		}
	}
	buf_done(&all);
}

/* Strings of a JSON array, $T replaced and made absolute under T. */
static const char **
strv_from_json(const json_t *a, size_t *ret_n, bool paths)
{
	const char **v = calloc(json_array_size(a) + 1, sizeof(char *));
	size_t i;
	json_t *e;

	CHECK(v, "oom");
	json_array_foreach(a, i, e)
		v[i] = subst(json_string_value(e));
	*ret_n = json_array_size(a);
	(void)paths;
	return v;
}

static void
free_strv(const char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free((char *)v[i]);
	free(v);
}

/* A path option: relative ones are under T. */
static char *
option_path(const json_t *o, const char *key, const char *fallback)
{
	const char *s = json_string_value(json_object_get(o, key));
	char *raw;
	char *out;
	struct buf b;

	if (!s && !fallback)
		return NULL;
	buf_init(&b, 0);
	if (!s)
		CHECK(buf_printf(&b, "%s/%s", tmpdir, fallback) == 0, "oom");
	else if (s[0] == '/' || s[0] == '$' || s[0] == '~')
		CHECK(buf_append_str(&b, s) == 0, "oom");
	else
		CHECK(buf_printf(&b, "%s/%s", tmpdir, s) == 0, "oom");
	raw = buf_take(&b);
	out = subst(raw);
	free(raw);
	return out;
}

static void
prepare_tree(const char *name, const json_t *expect)
{
	char path[4096], dst[4096];
	struct stat st;
	const char *k;
	json_t *v;
	size_t i;

	(void)snprintf(path, sizeof(path), "%s/%s", DATA, name);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		copy_tree(path, tmpdir);
	} else {
		size_t len;
		char *text;

		(void)snprintf(path, sizeof(path), "%s/%s.toml", DATA, name);
		text = read_file(path, &len);
		(void)snprintf(dst, sizeof(dst), "%s/home", tmpdir);
		mkdir_p(dst);
		if (text) {
			(void)snprintf(dst, sizeof(dst), "%s/home/config.toml",
			    tmpdir);
			write_subst(dst, text);
			free(text);
		}
	}
	(void)snprintf(dst, sizeof(dst), "%s/proj", tmpdir);
	mkdir_p(dst);
	json_array_foreach(json_object_get(expect, "mkdir"), i, v) {
		(void)snprintf(dst, sizeof(dst), "%s/%s", tmpdir,
		    json_string_value(v));
		mkdir_p(dst);
	}
	json_object_foreach(json_object_get(expect, "write"), k, v) {
		(void)snprintf(dst, sizeof(dst), "%s/%s", tmpdir, k);
		write_subst(dst, json_string_value(v));
	}
}

static void
set_env(const json_t *expect)
{
	const json_t *env = json_object_get(expect, "env");
	const json_t *t = json_object_get(env, "TMPDIR");
	char home[4096];

	(void)snprintf(home, sizeof(home), "%s/user", tmpdir);
	CHECK(setenv("HOME", home, 1) == 0, "setenv");
	(void)unsetenv("CODEX_HOME");
	if (json_is_string(t)) {
		char *s = subst(json_string_value(t));

		CHECK(setenv("TMPDIR", s, 1) == 0, "setenv");
		free(s);
	} else {
		(void)unsetenv("TMPDIR");
	}
}

/* Run one case; returns the loaded config (or NULL) for extra checks. */
static struct config *
run_case_keep(const char *name)
{
	char path[4096];
	json_error_t jerr;
	json_t *expect;
	json_t *opts;
	json_t *got = NULL;
	json_t *w;
	struct config_options co = { 0 };
	struct config_diags *d = config_diags_new();
	struct config *cfg = NULL;
	char *home;
	char *cwd;
	char *config_file;
	char *sysf;
	const char **overrides;
	const char **add_dirs;
	const char *members[] = { "layers", "permissions_syntax",
		"default_permissions", "sandbox_policy",
		"file_system_sandbox_policy", "network_sandbox_policy",
		"writable_roots" };
	const char *k;
	size_t n_ovr, n_add;
	struct stat st;
	bool want_ok;
	int r;

	CHECK(d, "oom");
	(void)snprintf(path, sizeof(path), "%s/%s.json", DATA, name);
	expect = json_load_file(path, 0, &jerr);
	CHECK(expect, "%s:%d: %s", path, jerr.line, jerr.text);
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/paddock-test-XXXXXX");
	CHECK(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	prepare_tree(name, expect);
	set_env(expect);

	opts = json_object_get(expect, "options");
	home = option_path(opts, "home", "home");
	cwd = option_path(opts, "cwd", "proj");
	config_file = option_path(opts, "config", NULL);
	(void)snprintf(path, sizeof(path), "%s/etc/config.toml", tmpdir);
	sysf = strdup(stat(path, &st) == 0 ? path : "");
	overrides =
	    strv_from_json(json_object_get(opts, "overrides"), &n_ovr, false);
	add_dirs =
	    strv_from_json(json_object_get(opts, "add_dirs"), &n_add, true);
	co = (struct config_options){
		.home = home,
		.config_file = config_file,
		.system_file = sysf,
		.cwd = cwd,
		.overrides = overrides,
		.n_overrides = n_ovr,
		.profile = json_string_value(json_object_get(opts, "profile")),
		.permissions =
		    json_string_value(json_object_get(opts, "permissions")),
		.sandbox = json_string_value(json_object_get(opts, "sandbox")),
		.add_dirs = add_dirs,
		.n_add_dirs = n_add,
	};
	r = config_load(&co, d, &cfg);
	CHECK(r == 0 || r == -EINVAL, "config_load: %s", strerror(-r));

	want_ok = !json_is_false(json_object_get(expect, "ok"));
	/* No list means none: every diagnostic must be expected. */
	if (!json_object_get(expect, "errors"))
		CHECK(json_object_set_new(expect, "errors", json_array()) == 0,
		    "oom");
	if (!json_object_get(expect, "warnings"))
		CHECK(json_object_set_new(expect, "warnings", json_array()) ==
			0,
		    "oom");
	check_diags("errors", json_object_get(expect, "errors"), d,
	    CONFIG_SEVERITY_ERROR);
	check_diags("warnings", json_object_get(expect, "warnings"), d,
	    CONFIG_SEVERITY_WARNING);
	CHECK(want_ok == (r == 0), "want ok=%d, got %d", want_ok, r);

	if (cfg) {
		got = config_to_json(cfg, d);
		CHECK(got, "config_to_json");
		for (size_t i = 0; i < ELEMENTSOF(members); i++) {
			w = json_object_get(expect, members[i]);
			if (w)
				check_equal(members[i], subst_json(w),
				    json_object_get(got, members[i]));
		}
		json_object_foreach(json_object_get(expect, "network"), k, w)
			check_equal(k, subst_json(w),
			    json_object_get(json_object_get(got, "network"),
				k));
		w = json_object_get(expect, "legacy_to_split");
		if (w) {
			struct config_fs_policy *fs = NULL;
			json_t *j;

			CHECK(config_fs_policy_from_sandbox_policy(
				  config_get_sandbox_policy(cfg), &fs) == 0,
			    "legacy_to_split");
			j = config_fs_policy_to_json(fs);
			check_equal("legacy_to_split", subst_json(w), j);
			json_decref(j);
			config_fs_policy_free(fs);
		}
	}
	json_decref(got);
	json_decref(expect);
	config_diags_free(d);
	free(home);
	free(cwd);
	free(config_file);
	free(sysf);
	free_strv(overrides, n_ovr);
	free_strv(add_dirs, n_add);
	return cfg;
}

static void
run_case(const char *name)
{
	config_free(run_case_keep(name));
	rm_tree(tmpdir);
}

static int
teardown(void **state)
{
	(void)state;
	if (tmpdir[0])
		rm_tree(tmpdir);
	tmpdir[0] = '\0';
	return 0;
}

/*
 * The data-driven cases, named after the behaviour each pins down; the
 * files are tests/data/config/<name>.{toml,json} or <name>/.
 */
#define CONFIG_CASES(X)                                 \
	X(select_same_layer_profiles_win)               \
	X(select_project_sandbox_mode_wins)             \
	X(select_override_default_permissions)          \
	X(select_cli_sandbox_forces_legacy)             \
	X(select_config_profile_sandbox_mode)           \
	X(select_profiles_without_default)              \
	X(select_profiles_ignored_by_sandbox_mode)      \
	X(select_permissions_flag)                      \
	X(select_undefined_config_profile)              \
	X(select_missing_permissions_table)             \
	X(select_undefined_profile)                     \
	X(select_undefined_profile_empty_table)         \
	X(fs_worked_example)                            \
	X(fs_key_byte_order)                            \
	X(fs_scoped_absolute)                           \
	X(fs_home_paths)                                \
	X(fs_dot_under_special)                         \
	X(fs_e5_nested_not_allowed)                     \
	X(fs_e6_subpath_not_descendant)                 \
	X(fs_e6_before_e5)                              \
	X(fs_e7_not_absolute)                           \
	X(fs_e8_write_outside_workspace)                \
	X(fs_e8_allowed_with_writable_cwd)              \
	X(fs_e8_cwd_as_path_counts)                     \
	X(fs_e9_unknown_special)                        \
	X(fs_e10_unknown_special_nested)                \
	X(fs_e11_no_filesystem)                         \
	X(fs_e11_empty_filesystem)                      \
	X(fs_e12_invalid_values)                        \
	X(fs_none_is_kept_and_not_projected)            \
	X(fs_unused_profile_problems_warn)              \
	X(project_root_write_without_network)           \
	X(project_root_write_with_network)              \
	X(project_restricted_reads)                     \
	X(project_minimal_write_is_read)                \
	X(legacy_to_split_restricted_workspace)         \
	X(legacy_default_read_only)                     \
	X(legacy_trusted_defaults_to_workspace_write)   \
	X(legacy_untrusted_defaults_to_workspace_write) \
	X(legacy_workspace_write_settings)              \
	X(legacy_danger_full_access)                    \
	X(legacy_sandbox_flag_beats_config)             \
	X(legacy_config_profile_beats_top_level)        \
	X(roots_protected_subpaths)                     \
	X(roots_gitdir_file)                            \
	X(roots_gitdir_missing_target)                  \
	X(roots_tmp_and_tmpdir)                         \
	X(roots_relative_tmpdir_ignored)                \
	X(add_dir_legacy_workspace_write)               \
	X(add_dir_profile_workspace_write)              \
	X(add_dir_read_only_ignored)                    \
	X(layers_trusted_root_to_cwd)                   \
	X(layers_untrusted_project_disabled)            \
	X(layers_marked_untrusted)                      \
	X(layers_trusted_parse_error)                   \
	X(layers_user_parse_error)                      \
	X(layers_codex_home_not_a_project)              \
	X(layers_custom_markers)                        \
	X(layers_empty_markers)                         \
	X(layers_explicit_config_missing)               \
	X(layers_unreadable_is_error)                   \
	X(merge_tables_key_by_key)                      \
	X(merge_scalar_replaces_table)                  \
	X(override_dotted_quoted_key)                   \
	X(override_value_forms)                         \
	X(override_missing_equals)                      \
	X(override_empty_key)                           \
	X(override_bad_key)                             \
	X(override_error_points_at_argument)            \
	X(keys_unknown_with_suggestion)                 \
	X(keys_reference_keys_accepted)                 \
	X(keys_type_mismatch)                           \
	X(keys_project_path_not_absolute)               \
	X(keys_nul_in_names_and_paths)                  \
	X(net_defaults)                                 \
	X(net_profile_overrides_base)                   \
	X(net_sandbox_enabled_by_profile)               \
	X(net_map_forms)                                \
	X(net_deny_wins)                                \
	X(net_global_wildcard)                          \
	X(net_invalid_pattern)                          \
	X(net_unix_socket_paths)                        \
	X(net_unix_socket_paths_are_case_sensitive)     \
	X(net_listen_address_invalid)                   \
	X(net_listen_address_forms)                     \
	X(net_listen_address_clamped)                   \
	X(net_listen_non_loopback_allowed)              \
	X(net_unix_sockets_force_ipv4_loopback)         \
	X(net_listen_hostname)                          \
	X(net_mitm_full_mode)                           \
	X(net_invalid_mode)                             \
	X(net_unused_profile_checked)                   \
	X(net_policy_lint)

#define DEFINE_CASE(name)                            \
	static void test_config_##name(void **state) \
	{                                            \
		(void)state;                         \
		run_case(#name);                     \
	}

CONFIG_CASES(DEFINE_CASE)

#define CASE_ENTRY(name) \
	cmocka_unit_test_teardown(test_config_##name, teardown),

/* Spec §4.5: the kinds a TOML profile cannot produce. */
static void
test_config_project_unrestricted_and_external(void **state)
{
	struct config_fs_policy fs = { .kind = CONFIG_FS_KIND_UNRESTRICTED };
	struct config_sandbox_policy *sp = NULL;

	(void)state;
	assert_int_equal(config_fs_policy_project(&fs, true, "/w", &sp, NULL),
	    0);
	assert_int_equal(sp->type, CONFIG_SANDBOX_DANGER_FULL_ACCESS);
	sp = config_sandbox_policy_free(sp);
	assert_int_equal(config_fs_policy_project(&fs, false, "/w", &sp, NULL),
	    0);
	assert_int_equal(sp->type, CONFIG_SANDBOX_EXTERNAL_SANDBOX);
	assert_false(sp->network_access);
	sp = config_sandbox_policy_free(sp);
	fs.kind = CONFIG_FS_KIND_EXTERNAL_SANDBOX;
	assert_int_equal(config_fs_policy_project(&fs, true, "/w", &sp, NULL),
	    0);
	assert_int_equal(sp->type, CONFIG_SANDBOX_EXTERNAL_SANDBOX);
	assert_true(sp->network_access);
	config_sandbox_policy_free(sp);
}

/* Spec §4.5 step 4: the first write outside a non-writable cwd. */
static void
test_config_project_reports_first_outside_write(void **state)
{
	struct config_fs_entry entries[] = {
		{ .is_special = true,
		    .special = CONFIG_FS_SPECIAL_ROOT,
		    .access = CONFIG_FS_ACCESS_READ },
		{ .path = (char *)"/srv", .access = CONFIG_FS_ACCESS_WRITE },
	};
	struct config_fs_policy fs = { .kind = CONFIG_FS_KIND_RESTRICTED,
		.entries = entries,
		.n_entries = ELEMENTSOF(entries) };
	struct config_sandbox_policy *sp = NULL;
	size_t bad = 99;

	(void)state;
	assert_int_equal(config_fs_policy_project(&fs, false, "/w", &sp, &bad),
	    -EINVAL);
	assert_null(sp);
	assert_int_equal(bad, 1);
}

/* Spec §4.3: the rows for the kinds without entries, and network. */
static void
test_config_legacy_to_split_kinds(void **state)
{
	struct config_sandbox_policy sp = {
		.type = CONFIG_SANDBOX_EXTERNAL_SANDBOX,
		.network_access = true,
	};
	struct config_fs_policy *fs = NULL;

	(void)state;
	assert_int_equal(config_fs_policy_from_sandbox_policy(&sp, &fs), 0);
	assert_int_equal(fs->kind, CONFIG_FS_KIND_EXTERNAL_SANDBOX);
	assert_int_equal(fs->n_entries, 0);
	assert_true(config_sandbox_policy_has_full_network(&sp));
	fs = config_fs_policy_free(fs);
	sp = (struct config_sandbox_policy){ .type = CONFIG_SANDBOX_READ_ONLY,
		.read = { .full = true } };
	assert_int_equal(config_fs_policy_from_sandbox_policy(&sp, &fs), 0);
	assert_int_equal(fs->n_entries, 1);
	assert_true(fs->entries[0].is_special);
	assert_int_equal(fs->entries[0].special, CONFIG_FS_SPECIAL_ROOT);
	assert_int_equal(fs->entries[0].access, CONFIG_FS_ACCESS_READ);
	assert_false(config_sandbox_policy_has_full_network(&sp));
	config_fs_policy_free(fs);
}

static void
test_config_diag_format(void **state)
{
	struct config_diag diag = {
		.severity = CONFIG_SEVERITY_ERROR,
		.code = "nested_entry_not_allowed",
		.message = "nested entries are only allowed under "
			   ":project_roots and absolute paths",
		.origin = { "/home/u/.codex/config.toml", 12, 1 },
		.key = "permissions.dev.filesystem.\":minimal\"",
	};
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(config_diag_format(&diag, &b), 0);
	assert_string_equal(buf_str(&b),
	    "/home/u/.codex/config.toml:12:1: "
	    "permissions.dev.filesystem.\":minimal\": nested entries are "
	    "only allowed under :project_roots and absolute paths");
	buf_clear(&b);
	diag.origin = (struct config_origin){ "bad\nname", 0, 0 };
	diag.key = NULL;
	assert_int_equal(config_diag_format(&diag, &b), 0);
	assert_string_equal(buf_str(&b),
	    "bad\\x0aname: nested entries are only allowed under "
	    ":project_roots and absolute paths");
	buf_done(&b);
}

/* Untrusted bytes in messages are quoted and escaped. */
static void
test_config_message_escapes_value(void **state)
{
	struct config *cfg = NULL;

	(void)state;
	cfg = run_case_keep("keys_value_escaped_in_message");
	assert_null(cfg);
	rm_tree(tmpdir);
}

/* More problems than LIMIT_CONFIG_DIAGS: the last slot counts the rest,
 * and a dropped error still fails the load. */
static void
test_config_too_many_problems(void **state)
{
	struct config_diags *d = config_diags_new();
	struct config *cfg = NULL;
	struct config_options o = { .home = "/nonexistent",
		.system_file = "",
		.cwd = "/nonexistent" };
	const struct config_diag *last;
	struct buf text;

	(void)state;
	buf_init(&text, 0);
	for (int i = 0; i < 1500; i++)
		assert_int_equal(buf_printf(&text, "unknown_%d = 1\n", i), 0);
	assert_int_equal(buf_append_str(&text, "sandbox_mode = 1\n"), 0);
	o.user_text = buf_str(&text);
	o.user_text_len = text.len;
	assert_int_equal(config_load(&o, d, &cfg), -EINVAL);
	assert_int_equal(config_diags_count(d), 1000);
	assert_int_equal(config_diags_count_severity(d, CONFIG_SEVERITY_ERROR),
	    1);
	last = config_diags_get(d, 999);
	assert_string_equal(last->code, "too_many_problems");
	assert_int_equal(last->severity, CONFIG_SEVERITY_ERROR);
	assert_non_null(strstr(last->message, "502 more problems"));
	config_diags_free(d);
	buf_done(&text);
}

static void
test_config_listen_addr_format(void **state)
{
	struct config_listen_addr a = { .family = AF_INET6,
		.host = "::1",
		.port = 8081 };
	char out[CONFIG_ADDR_TEXT_MAX + 8];

	(void)state;
	assert_string_equal(config_listen_addr_format(&a, out, sizeof(out)),
	    "[::1]:8081");
	a = (struct config_listen_addr){ .family = AF_INET,
		.host = "127.0.0.1",
		.port = 3128 };
	assert_string_equal(config_listen_addr_format(&a, out, sizeof(out)),
	    "127.0.0.1:3128");
}

/* The files a watcher follows: every layer that is or could be, from the
 * project root (a .git marker) down to the cwd, CODEX_HOME's .codex not
 * counted twice, the requirements whether or not they exist. */
static void
test_config_layers_files(void **state)
{
	struct config_diags *d = config_diags_new();
	struct config *cfg = NULL;
	char p[5][512], sys[128], req[128], home[128], cwd[128];
	struct config_options o = { 0 };
	char **files = NULL;
	size_t n = 0;

	(void)state;
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/paddock-test-XXXXXX");
	CHECK(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	(void)snprintf(sys, sizeof(sys), "%s/etc/config.toml", tmpdir);
	(void)snprintf(req, sizeof(req), "%s/nowhere/requirements.toml",
	    tmpdir);
	(void)snprintf(home, sizeof(home), "%s/proj/a/.codex", tmpdir);
	(void)snprintf(cwd, sizeof(cwd), "%s/proj/a/b", tmpdir);
	(void)snprintf(p[0], sizeof(p[0]), "%s/etc", tmpdir);
	mkdir_p(p[0]);
	write_file(sys, "", 0);
	(void)snprintf(p[0], sizeof(p[0]), "%s/proj/.git", tmpdir);
	mkdir_p(p[0]);
	mkdir_p(cwd);
	o = (struct config_options){ .home = home,
		.system_file = sys,
		.requirements_file = req,
		.managed_file = "",
		.cwd = cwd };
	assert_int_equal(config_load(&o, d, &cfg), 0);
	assert_int_equal(config_layers_files(cfg, &files, &n), 0);
	(void)snprintf(p[0], sizeof(p[0]), "%s", sys);
	(void)snprintf(p[1], sizeof(p[1]), "%s/config.toml", home);
	(void)snprintf(p[2], sizeof(p[2]), "%s", req);
	(void)snprintf(p[3], sizeof(p[3]), "%s/proj/.codex/config.toml",
	    tmpdir);
	(void)snprintf(p[4], sizeof(p[4]), "%s/proj/a/b/.codex/config.toml",
	    tmpdir);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(files[i], p[i]);
	config_layers_files_free(files, n);
	config_free(cfg);
	config_diags_free(d);
	rm_tree(tmpdir);
}

/* What a running proxy refuses to change (spec network §1.7). */
static void
test_config_network_fixed_key(void **state)
{
	struct config_network a = { .enabled = true,
		.enable_socks5 = true,
		.enable_socks5_udp = true,
		.http_addr = { .family = AF_INET,
		    .host = "127.0.0.1",
		    .port = 3128 },
		.socks_addr = { .family = AF_INET,
		    .host = "127.0.0.1",
		    .port = 8081 } };
	struct config_network b = a;

	(void)state;
	assert_null(config_network_fixed_key(&a, &b));
	/* The policy is not a listener setting. */
	b.mode = POLICY_MODE_LIMITED;
	b.allow_local_binding = true;
	assert_null(config_network_fixed_key(&a, &b));
	b.http_addr.port = 3129;
	assert_string_equal(config_network_fixed_key(&a, &b), "proxy_url");
	b = a;
	(void)snprintf(b.http_addr.host, sizeof(b.http_addr.host), "::1");
	b.http_addr.family = AF_INET6;
	assert_string_equal(config_network_fixed_key(&a, &b), "proxy_url");
	b = a;
	b.enabled = false;
	assert_string_equal(config_network_fixed_key(&a, &b), "enabled");
	b = a;
	b.socks_addr.port = 1080;
	assert_string_equal(config_network_fixed_key(&a, &b), "socks_url");
	b.enable_socks5 = false;
	assert_string_equal(config_network_fixed_key(&a, &b), "enable_socks5");
	/* Where a SOCKS5 listener that stays off would be: no matter. */
	a.enable_socks5 = false;
	assert_null(config_network_fixed_key(&a, &b));
	b = a;
	b.enable_socks5_udp = false;
	assert_string_equal(config_network_fixed_key(&a, &b),
	    "enable_socks5_udp");
	b = a;
	b.dangerously_allow_non_loopback_proxy = true;
	assert_string_equal(config_network_fixed_key(&a, &b),
	    "dangerously_allow_non_loopback_proxy");
}

/*
 * Spec §3 E3 ("profiles active but no profile name") is defensive in the
 * reference too: profiles are active only when some layer or the merged
 * config sets default_permissions, or when profiles exist without one,
 * which is E1 (select_profiles_without_default). No config reaches it.
 */

int
main(void)
{
	/* One group per executable: TAP allows one plan per stream, and
	 * meson's TAP parser reports a second one as an error. */
	const struct CMUnitTest tests[] = {
		CONFIG_CASES(CASE_ENTRY) cmocka_unit_test(
		    test_config_project_unrestricted_and_external),
		cmocka_unit_test(
		    test_config_project_reports_first_outside_write),
		cmocka_unit_test(test_config_legacy_to_split_kinds),
		cmocka_unit_test(test_config_diag_format),
		cmocka_unit_test_teardown(test_config_message_escapes_value,
		    teardown),
		cmocka_unit_test(test_config_too_many_problems),
		cmocka_unit_test(test_config_listen_addr_format),
		cmocka_unit_test_teardown(test_config_layers_files, teardown),
		cmocka_unit_test(test_config_network_fixed_key),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
