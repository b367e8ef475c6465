/* SPDX-License-Identifier: MIT */
/*
 * Finding and reading the config layers (spec §5.1), lowest precedence
 * first: the system file, the user file, the project files
 * .codex/config.toml from the project root down to the cwd, and the
 * command-line overrides.
 *
 * A project layer is loaded only when its directory, the project root or
 * the root git project is marked trusted under [projects] in the user
 * layer; otherwise it is listed as disabled with the reason and never
 * parsed, so a broken file in an untrusted checkout is harmless. A .codex
 * directory that is CODEX_HOME itself is not a project layer.
 *
 * A missing file is no layer. An unreadable file, a directory where a file
 * should be, or a TOML syntax error is an error with the parser's position.
 * A file named explicitly (--config, a system file given by the caller)
 * must exist.
 */
#include "config/config_internal.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toml/toml.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/limits.h"
#include "util/strutil.h"

#define CONFIG_SYSTEM_FILE "/etc/codex/config.toml"

int
config_layers_read(const char *path, size_t max, bool any_type, char **ret,
    size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	struct buf b;
	struct stat st;

	*ret = NULL;
	*ret_len = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path,
	    O_RDONLY | O_CLOEXEC | O_NOCTTY | (any_type ? 0 : O_NONBLOCK));
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!any_type && !S_ISREG(st.st_mode))
		return -EINVAL;
	buf_init(&b, 0);
	for (;;) {
		ssize_t n;
		int r = buf_reserve(&b, 4096);

		if (r < 0) {
			buf_done(&b);
			return r;
		}
		n = read(fd, b.data + b.len, b.cap - b.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			buf_done(&b);
			return r;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		b.data[b.len] = '\0';
		/* Checked after the read, so a file of exactly max bytes
		 * passes whatever the chunk size. */
		if (b.len > max) {
			buf_done(&b);
			return -E2BIG;
		}
	}
	*ret_len = b.len;
	*ret = buf_take(&b);
	return *ret ? 0 : -ENOMEM;
}

static struct config_layer_state *
config_layers_add(struct config *cfg, enum config_layer_source source,
    const char *path, struct config_diags *d)
{
	struct config_layer_state *l;

	if (cfg->n_layers >= LIMIT_CONFIG_LAYERS) {
		struct config_origin o = { .file = path };

		config_diags_add(d, CONFIG_SEVERITY_ERROR, "too_many_layers",
		    &o, NULL,
		    "more than %d config layers; this one is not loaded",
		    LIMIT_CONFIG_LAYERS);
		return NULL;
	}
	l = &cfg->layers[cfg->n_layers];
	*l = (struct config_layer_state){ .pub = { .source = source,
					      .enabled = true } };
	if (path) {
		l->path = strdup(path);
		l->dir = l->path ? config_path_dirname(l->path) : NULL;
		if (!l->path || !l->dir) {
			free(l->path);
			free(l->dir);
			config_diags_set_oom(d);
			return NULL;
		}
		l->pub.path = l->path;
	}
	cfg->n_layers++;
	return l;
}

/* Parse text into l->tree; report a syntax error at its position. */
static int
config_layers_parse(struct config_layer_state *l, const char *text, size_t len,
    struct config_diags *d)
{
	struct toml_options opts = { .source = l->path,
		.max_bytes = LIMIT_CONFIG_FILE_BYTES };
	struct config_origin o = { .file = l->path };
	struct toml_error err = { 0 };
	int r;

	r = toml_parse(text, len, &opts, &l->tree, &err);
	if (r == -ENOMEM)
		return r;
	if (r == -E2BIG) {
		config_diags_add(d, CONFIG_SEVERITY_ERROR, "file_too_large", &o,
		    NULL, "the file is larger than %u bytes",
		    (unsigned)LIMIT_CONFIG_FILE_BYTES);
	} else if (r < 0) {
		o.line = err.line;
		o.column = err.column;
		config_diags_add(d, CONFIG_SEVERITY_ERROR, "toml_syntax", &o,
		    NULL, "%s", err.message);
	}
	return 0;
}

/*
 * Load one file layer. A missing file is no layer unless required. With
 * text, the file is not read: text stands for its contents.
 */
static int
config_layers_load_file(struct config *cfg, enum config_layer_source source,
    const char *path, bool required, const char *text, size_t text_len,
    struct config_diags *d)
{
	struct config_origin o = { .file = path };
	_cleanup_free_ char *buf = NULL;
	struct config_layer_state *l;
	size_t len = text_len;
	int r;

	if (!text) {
		/* A file the user named may be a pipe, unless every file must
		 * be regular (a reload). */
		bool any_type = required && !cfg->regular_files_only;

		r = config_layers_read(path, LIMIT_CONFIG_FILE_BYTES, any_type,
		    &buf, &len);
		if (r == -ENOMEM)
			return r;
		if (r == -E2BIG) {
			config_diags_add(d, CONFIG_SEVERITY_ERROR,
			    "file_too_large", &o, NULL,
			    "the file is larger than %u bytes",
			    (unsigned)LIMIT_CONFIG_FILE_BYTES);
			return 0;
		}
		if (r < 0) {
			config_diags_add(d, CONFIG_SEVERITY_ERROR,
			    "file_unreadable", &o, NULL, "cannot read: %s%s",
			    r == -EINVAL ? "not a regular file" : strerror(-r),
			    r == -EINVAL && required &&
				    cfg->regular_files_only ?
				"; a reload reads regular files only (a pipe "
				"or a device could block it)" :
				"");
			return 0;
		}
		if (!buf) {
			if (required)
				config_diags_add(d, CONFIG_SEVERITY_ERROR,
				    "file_not_found", &o, NULL, "no such file");
			return 0;
		}
		text = buf;
	}
	l = config_layers_add(cfg, source, path, d);
	if (!l)
		return 0;
	return config_layers_parse(l, text, len, d);
}

/* $HOME, else the password database; NULL when neither says. */
static int
config_layers_user_home(char **ret)
{
	const char *h = secure_getenv("HOME");
	struct passwd pw;
	struct passwd *res = NULL;
	char tmp[4096];

	if (h && config_path_is_absolute(h)) {
		*ret = config_path_normalize(h);
		return *ret ? 0 : -ENOMEM;
	}
	if (getpwuid_r(getuid(), &pw, tmp, sizeof(tmp), &res) != 0 || !res ||
	    !config_path_is_absolute(res->pw_dir)) {
		*ret = NULL;
		return 0;
	}
	*ret = config_path_normalize(res->pw_dir);
	return *ret ? 0 : -ENOMEM;
}

/* The session cwd and CODEX_HOME, both absolute and normalised. */
static int
config_layers_dirs(struct config *cfg, const struct config_options *opts,
    struct config_diags *d)
{
	_cleanup_free_ char *proc_cwd = getcwd(NULL, 0);
	int cwd_err = proc_cwd ? 0 : errno;
	const char *home = opts->home;
	const char *base = proc_cwd ? proc_cwd : "/";
	int r;

	r = config_layers_user_home(&cfg->user_home);
	if (r < 0)
		return r;
	if (opts->cwd) {
		r = config_path_resolve(opts->cwd, base, cfg->user_home,
		    &cfg->cwd);
	} else if (proc_cwd) {
		cfg->cwd = config_path_normalize(proc_cwd);
		r = cfg->cwd ? 0 : -ENOMEM;
	} else {
		config_diags_add(d, CONFIG_SEVERITY_ERROR, "cwd_unavailable",
		    NULL, NULL,
		    "cannot determine the current directory (%s); use --cwd",
		    strerror(cwd_err));
		cfg->cwd = strdup("/");
		r = cfg->cwd ? 0 : -ENOMEM;
	}
	if (r == -ENOENT)
		config_diags_add(d, CONFIG_SEVERITY_ERROR, "home_unavailable",
		    NULL, NULL, "cannot expand ~ in --cwd: HOME is not set");
	else if (r < 0)
		return r;

	if (!home) {
		home = secure_getenv("CODEX_HOME");
		if (home && !home[0])
			home = NULL;
	}
	if (home) {
		r = config_path_resolve(home, base, cfg->user_home, &cfg->home);
		if (r == -ENOMEM)
			return r;
	} else if (cfg->user_home) {
		cfg->home = config_path_join(cfg->user_home, ".codex");
		if (!cfg->home)
			return -ENOMEM;
	}
	if (!cfg->home)
		config_diags_add(d, CONFIG_SEVERITY_ERROR, "home_unavailable",
		    NULL, NULL,
		    "cannot locate CODEX_HOME: neither CODEX_HOME nor HOME is "
		    "set; use --home");
	if (!cfg->cwd) {
		cfg->cwd = strdup("/");
		if (!cfg->cwd)
			return -ENOMEM;
	}
	return 0;
}

/* The overrides layer: -c in order, then --permissions. */
static int
config_layers_overrides(struct config *cfg, const struct config_options *opts,
    struct config_diags *d)
{
	size_t n = opts->n_overrides + (opts->permissions ? 1 : 0);
	struct config_layer_state *l;
	int r;

	if (n == 0)
		return 0;
	l = config_layers_add(cfg, CONFIG_LAYER_OVERRIDES, NULL, d);
	if (!l)
		return 0;
	l->tree = toml_table_new();
	l->sources = calloc(n, sizeof(char *));
	if (!l->tree || !l->sources)
		return -ENOMEM;
	for (size_t i = 0; i < opts->n_overrides; i++) {
		l->sources[l->n_sources] =
		    config_flag_source("-c", opts->overrides[i]);
		if (!l->sources[l->n_sources])
			return -ENOMEM;
		/* The argument starts at column 4 of "-c ARG". */
		r = config_override_apply(l->tree, opts->overrides[i],
		    l->sources[l->n_sources++], strlen("-c ") + 1, d);
		if (r == -ENOMEM)
			return r;
	}
	if (opts->permissions) {
		static const char flag[] = "--permissions";
		struct toml_value *v;
		char *src;

		src = l->sources[l->n_sources++] =
		    config_flag_source(flag, opts->permissions);
		v = toml_string_new(opts->permissions,
		    strlen(opts->permissions));
		if (!src || !v) {
			toml_value_free(v);
			return -ENOMEM;
		}
		toml_value_set_origin(v,
		    (struct toml_pos){ 1, (uint32_t)strlen(flag) + 2 }, src,
		    false);
		r = toml_table_set(l->tree, "default_permissions",
		    strlen("default_permissions"), (struct toml_pos){ 1, 1 },
		    v);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The layer of the given source with a tree, highest first. */
static const struct toml_value *
config_layers_lookup(const struct config *cfg, const char *key,
    bool project_layers)
{
	for (size_t i = cfg->n_layers; i-- > 0;) {
		const struct config_layer_state *l = &cfg->layers[i];
		const struct toml_value *v;

		if (!l->tree || !l->pub.enabled ||
		    (!project_layers && l->pub.source == CONFIG_LAYER_PROJECT))
			continue;
		v = toml_table_get_str(l->tree, key);
		if (v)
			return v;
	}
	return NULL;
}

static bool
config_layers_entry_exists(const char *dir, const char *name)
{
	_cleanup_free_ char *p = config_path_join(dir, name);
	struct stat st;

	return p && lstat(p, &st) == 0;
}

/* The nearest ancestor of the cwd holding a marker, else the cwd. */
static int
config_layers_project_root(struct config *cfg)
{
	const struct toml_value *markers =
	    config_layers_lookup(cfg, "project_root_markers", false);
	_cleanup_free_ char *dir = strdup(cfg->cwd);
	bool custom = markers && toml_value_type(markers) == TOML_ARRAY;

	if (!dir)
		return -ENOMEM;
	for (;;) {
		bool found = false;
		char *parent;

		if (!custom) {
			found = config_layers_entry_exists(dir, ".git");
		} else {
			for (size_t i = 0;
			     !found && i < toml_array_size(markers); i++) {
				const struct toml_value *m =
				    toml_array_get(markers, i);

				if (toml_value_type(m) == TOML_STRING &&
				    config_layers_entry_exists(dir,
					toml_value_string(m, NULL)))
					found = true;
			}
		}
		if (found) {
			cfg->project_root = TAKE_PTR(dir);
			return 0;
		}
		if (streq(dir, "/"))
			break;
		parent = config_path_dirname(dir);
		if (!parent)
			return -ENOMEM;
		free(dir);
		dir = parent;
	}
	cfg->project_root = strdup(cfg->cwd);
	return cfg->project_root ? 0 : -ENOMEM;
}

/*
 * The main checkout named by the .git file dotgit whose text says
 * "gitdir: <main>/.git/worktrees/<name>", or NULL (*ret untouched). Git
 * records the worktree's .git file in <name>/gitdir; without that
 * back-link the pointer is only a claim, which a .git file in an unpacked
 * archive can make about any checkout, so it lends no trust.
 */
static int
config_layers_worktree_main(const char *dotgit, char *text, char **ret)
{
	_cleanup_free_ char *link = NULL;
	_cleanup_free_ char *back = NULL;
	_cleanup_free_ char *linked = NULL;
	char *gitdir = strstr(text, "gitdir:");
	size_t len;
	char *wt;
	int r;

	if (!gitdir)
		return 0;
	gitdir += strlen("gitdir:");
	gitdir[strcspn(gitdir, "\r\n")] = '\0';
	while (*gitdir == ' ' || *gitdir == '\t')
		gitdir++;
	wt = strstr(gitdir, "/.git/worktrees/");
	if (!config_path_is_absolute(gitdir) || !wt)
		return 0;
	link = config_path_join(gitdir, "gitdir");
	if (!link)
		return -ENOMEM;
	r = config_layers_read(link, LIMIT_CONFIG_GITDIR_BYTES, false, &back,
	    &len);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || !back || memchr(back, '\0', len))
		return 0;
	back[strcspn(back, "\r\n")] = '\0';
	/* Git writes it absolute, or relative to <name> with
	 * worktree.useRelativePaths. */
	linked = config_path_join(gitdir, back);
	if (!linked)
		return -ENOMEM;
	if (!streq(linked, dotgit))
		return 0;
	*wt = '\0';
	*ret = config_path_normalize(gitdir);
	return *ret ? 0 : -ENOMEM;
}

/*
 * The root git project of the cwd, which [projects] trust may name (spec
 * §2.3): the nearest ancestor holding .git; for a linked worktree, whose
 * .git file points into <main>/.git/worktrees/<name> and is listed there,
 * the main checkout.
 */
static int
config_layers_git_root(struct config *cfg)
{
	_cleanup_free_ char *dir = strdup(cfg->cwd);

	if (!dir)
		return -ENOMEM;
	for (;;) {
		_cleanup_free_ char *dotgit = config_path_join(dir, ".git");
		_cleanup_free_ char *text = NULL;
		struct stat st;
		size_t len;
		char *parent;
		int r;

		if (!dotgit)
			return -ENOMEM;
		if (lstat(dotgit, &st) == 0) {
			r = config_layers_read(dotgit,
			    LIMIT_CONFIG_GITDIR_BYTES, false, &text, &len);
			if (r == -ENOMEM)
				return r;
			if (r >= 0 && text) {
				r = config_layers_worktree_main(dotgit, text,
				    &cfg->git_root);
				if (r < 0 || cfg->git_root)
					return r;
			}
			cfg->git_root = TAKE_PTR(dir);
			return 0;
		}
		if (streq(dir, "/"))
			return 0;
		parent = config_path_dirname(dir);
		if (!parent)
			return -ENOMEM;
		free(dir);
		dir = parent;
	}
}

const char *
config_layers_trust(const struct toml_value *projects, const char *path)
{
	for (size_t i = 0; projects && i < toml_table_size(projects); i++) {
		const char *key = toml_table_key(projects, i, NULL);
		_cleanup_free_ char *norm = NULL;

		if (!config_path_is_absolute(key))
			continue;
		norm = config_path_normalize(key);
		if (norm && streq(norm, path))
			return config_get_string(toml_table_value(projects, i),
			    "trust_level", NULL);
	}
	return NULL;
}

static const struct config_layer_state *
config_layers_find(const struct config *cfg, enum config_layer_source source)
{
	for (size_t i = 0; i < cfg->n_layers; i++)
		if (cfg->layers[i].pub.source == source)
			return &cfg->layers[i];
	return NULL;
}

/*
 * Decide whether the project layer of dir is trusted. Returns 0 with
 * *ret_reason NULL (trusted) or a new reason text, or -ENOMEM.
 */
static int
config_layers_trust_reason(const struct config *cfg, const char *dir,
    char **ret_reason)
{
	const struct config_layer_state *user =
	    config_layers_find(cfg, CONFIG_LAYER_USER);
	const struct toml_value *projects =
	    config_get_table(user ? user->tree : NULL, "projects");
	const char *candidates[] = { dir, cfg->project_root, cfg->git_root };
	const char *untrusted = NULL;
	const char *file = cfg->user_file ? cfg->user_file : "the user config";
	struct buf b;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
		const char *t;

		if (!candidates[i])
			continue;
		t = config_layers_trust(projects, candidates[i]);
		if (t && streq(t, "trusted")) {
			*ret_reason = NULL;
			return 0;
		}
		if (t && streq(t, "untrusted") && !untrusted)
			untrusted = candidates[i];
	}
	buf_init(&b, 0);
	if (untrusted)
		r = buf_printf(&b, "%s is marked untrusted in %s", untrusted,
		    file);
	else
		r = buf_printf(&b,
		    "to load it, mark %s as a trusted project in %s "
		    "([projects.\"%s\"] trust_level = \"trusted\")",
		    cfg->project_root, file, cfg->project_root);
	if (r < 0) {
		buf_done(&b);
		return -ENOMEM;
	}
	*ret_reason = buf_take(&b);
	return *ret_reason ? 0 : -ENOMEM;
}

/* True when dir/.codex is CODEX_HOME, by name or by identity. */
static bool
config_layers_is_home(const struct config *cfg, const char *dotcodex)
{
	struct stat a, b;

	if (!cfg->home)
		return false;
	if (streq(dotcodex, cfg->home))
		return true;
	return stat(dotcodex, &a) == 0 && stat(cfg->home, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int
config_layers_project_dir(struct config *cfg, const char *dir,
    struct config_diags *d)
{
	_cleanup_free_ char *dotcodex = config_path_join(dir, ".codex");
	_cleanup_free_ char *path = NULL;
	struct config_layer_state *l;
	struct stat st;
	char *reason;
	int r;

	if (!dotcodex)
		return -ENOMEM;
	if (config_layers_is_home(cfg, dotcodex))
		return 0;
	path = config_path_join(dotcodex, "config.toml");
	if (!path)
		return -ENOMEM;
	if (stat(path, &st) < 0)
		return 0;
	r = config_layers_trust_reason(cfg, dir, &reason);
	if (r < 0)
		return r;
	if (!reason)
		return config_layers_load_file(cfg, CONFIG_LAYER_PROJECT, path,
		    false, NULL, 0, d);
	l = config_layers_add(cfg, CONFIG_LAYER_PROJECT, path, d);
	if (!l) {
		free(reason);
		return 0;
	}
	l->pub.enabled = false;
	l->disabled_reason = reason;
	l->pub.disabled_reason = reason;
	return 0;
}

/* Every directory from the project root down to the cwd. */
static int
config_layers_projects(struct config *cfg, struct config_diags *d)
{
	size_t root_len = strlen(cfg->project_root), n = strlen(cfg->cwd);
	_cleanup_free_ char *dir = strdup(cfg->cwd);
	int r;

	if (!dir)
		return -ENOMEM;
	if (!config_path_has_prefix(cfg->cwd, cfg->project_root))
		return 0;
	r = config_layers_project_dir(cfg, cfg->project_root, d);
	if (r < 0)
		return r;
	/* Each separator (and the end) after the root ends a directory. */
	for (size_t i = root_len + 1; i <= n; i++) {
		if (i < n && dir[i] != '/')
			continue;
		dir[i] = '\0';
		r = config_layers_project_dir(cfg, dir, d);
		if (i < n)
			dir[i] = '/';
		if (r < 0)
			return r;
	}
	return 0;
}

int
config_layers_load(struct config *cfg, const struct config_options *opts,
    struct config_diags *d)
{
	_cleanup_free_ char *user_file = NULL;
	const char *system_file =
	    opts->system_file ? opts->system_file : CONFIG_SYSTEM_FILE;
	int r;

	/* One spare slot: the overrides layer is set aside while the project
	 * layers are added, and always fits back in. */
	cfg->layers = calloc(LIMIT_CONFIG_LAYERS + 1, sizeof(*cfg->layers));
	if (!cfg->layers)
		return -ENOMEM;
	cfg->regular_files_only = opts->regular_files_only;
	r = config_layers_dirs(cfg, opts, d);
	if (r < 0)
		return r;

	if (system_file[0]) {
		cfg->system_file = strdup(system_file);
		if (!cfg->system_file)
			return -ENOMEM;
		r = config_layers_load_file(cfg, CONFIG_LAYER_SYSTEM,
		    system_file, opts->system_file != NULL, NULL, 0, d);
		if (r < 0)
			return r;
	}
	if (opts->config_file) {
		_cleanup_free_ char *proc_cwd = getcwd(NULL, 0);

		r = config_path_resolve(opts->config_file,
		    proc_cwd ? proc_cwd : "/", cfg->user_home, &user_file);
		if (r == -ENOENT)
			config_diags_add(d, CONFIG_SEVERITY_ERROR,
			    "home_unavailable", NULL, NULL,
			    "cannot expand ~ in --config: HOME is not set");
		else if (r < 0)
			return r;
	} else if (cfg->home) {
		user_file = config_path_join(cfg->home, "config.toml");
		if (!user_file)
			return -ENOMEM;
	}
	if (user_file) {
		cfg->user_file = strdup(user_file);
		if (!cfg->user_file)
			return -ENOMEM;
		r = config_layers_load_file(cfg, CONFIG_LAYER_USER, user_file,
		    opts->config_file && !opts->user_text, opts->user_text,
		    opts->user_text_len, d);
		if (r < 0)
			return r;
	}

	/* The overrides go first so project_root_markers can come from
	 * them; the layer moves to the end below. */
	r = config_layers_overrides(cfg, opts, d);
	if (r < 0)
		return r;
	r = config_layers_project_root(cfg);
	if (r >= 0)
		r = config_layers_git_root(cfg);
	if (r < 0)
		return r;
	if (cfg->n_layers > 0 &&
	    cfg->layers[cfg->n_layers - 1].pub.source ==
		CONFIG_LAYER_OVERRIDES) {
		struct config_layer_state ovr = cfg->layers[--cfg->n_layers];

		r = config_layers_projects(cfg, d);
		cfg->layers[cfg->n_layers++] = ovr;
	} else {
		r = config_layers_projects(cfg, d);
	}
	return r;
}

const char *
config_layers_base_dir(const struct config *cfg, const char *source)
{
	for (size_t i = 0; source && i < cfg->n_layers; i++)
		if (cfg->layers[i].path && streq(cfg->layers[i].path, source))
			return cfg->layers[i].dir;
	return cfg->cwd;
}

/* Add p, made absolute against the process cwd, to the list once. */
static int
config_layers_files_add(char ***v, size_t *n, const char *p)
{
	_cleanup_free_ char *proc_cwd = NULL;
	_cleanup_free_ char *abs = NULL;

	if (config_path_is_absolute(p)) {
		abs = config_path_normalize(p);
	} else {
		proc_cwd = getcwd(NULL, 0);
		abs = config_path_join(proc_cwd ? proc_cwd : "/", p);
	}
	if (!abs)
		return -ENOMEM;
	return config_strv_add_unique(v, n, abs);
}

/* dir/.codex/config.toml, unless dir/.codex is CODEX_HOME. */
static int
config_layers_files_project(const struct config *cfg, const char *dir,
    char ***v, size_t *n)
{
	_cleanup_free_ char *dotcodex = config_path_join(dir, ".codex");
	_cleanup_free_ char *path = NULL;

	if (!dotcodex)
		return -ENOMEM;
	if (config_layers_is_home(cfg, dotcodex))
		return 0;
	path = config_path_join(dotcodex, "config.toml");
	if (!path)
		return -ENOMEM;
	return config_strv_add_unique(v, n, path);
}

int
config_layers_files(const struct config *cfg, char ***ret, size_t *ret_n)
{
	char **v = NULL;
	size_t n = 0;
	int r = 0;

	if (cfg->system_file)
		r = config_layers_files_add(&v, &n, cfg->system_file);
	if (r >= 0 && cfg->user_file)
		r = config_layers_files_add(&v, &n, cfg->user_file);
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(cfg->req.paths); i++)
		if (cfg->req.paths[i])
			r = config_layers_files_add(&v, &n, cfg->req.paths[i]);
	/* The project layers that exist or could, walked as
	 * config_layers_projects() walks them. */
	if (r >= 0 && cfg->project_root &&
	    config_path_has_prefix(cfg->cwd, cfg->project_root)) {
		size_t root_len = strlen(cfg->project_root);
		size_t len = strlen(cfg->cwd);
		char *dir = strdup(cfg->cwd);

		r = dir ? config_layers_files_project(cfg, cfg->project_root,
			      &v, &n) :
			  -ENOMEM;
		for (size_t i = root_len + 1; r >= 0 && i <= len; i++) {
			if (i < len && dir[i] != '/')
				continue;
			dir[i] = '\0';
			r = config_layers_files_project(cfg, dir, &v, &n);
			if (i < len)
				dir[i] = '/';
		}
		free(dir);
	}
	if (r < 0) {
		config_strv_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

void
config_layers_files_free(char **v, size_t n)
{
	config_strv_free(v, n);
}
