/* SPDX-License-Identifier: MIT */
/*
 * Filesystem permission profiles: compiling [permissions.<name>.filesystem]
 * to a split filesystem policy (spec §1.4-§1.6, §4.4) with every rule of
 * spec §3, and the policy's life cycle.
 *
 * Entries come out in key byte order, like the reference's sorted map
 * ('/' < ':' < '~'), and scoped tables in subpath byte order. Each entry
 * remembers where it was written. Problems never stop the compilation:
 * every key is looked at, so one run reports them all.
 */
#include "config/config_internal.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "toml/toml.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/size.h"
#include "util/strutil.h"

static const char *const config_fs_access_names[_CONFIG_FS_ACCESS_MAX] = {
	[CONFIG_FS_ACCESS_NONE] = "none",
	[CONFIG_FS_ACCESS_READ] = "read",
	[CONFIG_FS_ACCESS_WRITE] = "write",
};

static const char *const config_fs_special_names[_CONFIG_FS_SPECIAL_MAX] = {
	[CONFIG_FS_SPECIAL_ROOT] = "root",
	[CONFIG_FS_SPECIAL_MINIMAL] = "minimal",
	[CONFIG_FS_SPECIAL_CURRENT_WORKING_DIRECTORY] =
	    "current_working_directory",
	[CONFIG_FS_SPECIAL_PROJECT_ROOTS] = "project_roots",
	[CONFIG_FS_SPECIAL_TMPDIR] = "tmpdir",
	[CONFIG_FS_SPECIAL_SLASH_TMP] = "slash_tmp",
	[CONFIG_FS_SPECIAL_UNKNOWN] = "unknown",
};

static const char *const config_fs_kind_names[_CONFIG_FS_KIND_MAX] = {
	[CONFIG_FS_KIND_RESTRICTED] = "restricted",
	[CONFIG_FS_KIND_UNRESTRICTED] = "unrestricted",
	[CONFIG_FS_KIND_EXTERNAL_SANDBOX] = "external-sandbox",
};

const char *
config_fs_access_name(enum config_fs_access a)
{
	return a < _CONFIG_FS_ACCESS_MAX ? config_fs_access_names[a] : NULL;
}

const char *
config_fs_special_name(enum config_fs_special s)
{
	return s < _CONFIG_FS_SPECIAL_MAX ? config_fs_special_names[s] : NULL;
}

const char *
config_fs_kind_name(enum config_fs_kind k)
{
	return k < _CONFIG_FS_KIND_MAX ? config_fs_kind_names[k] : NULL;
}

struct config_fs_policy *
config_fs_policy_new(enum config_fs_kind kind)
{
	struct config_fs_policy *p = calloc(1, sizeof(*p));

	if (p)
		p->kind = kind;
	return p;
}

struct config_fs_policy *
config_fs_policy_free(struct config_fs_policy *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n_entries; i++) {
		free(p->entries[i].path);
		free(p->entries[i].subpath);
	}
	free(p->entries);
	free(p);
	return NULL;
}

int
config_fs_policy_append(struct config_fs_policy *p, bool is_special,
    enum config_fs_special special, const char *path, const char *subpath,
    enum config_fs_access access, const struct config_origin *origin)
{
	struct config_fs_entry *v;
	struct config_fs_entry *e;
	size_t n;

	if (!size_add(p->n_entries, 1, &n))
		return -ENOMEM;
	v = reallocarray(p->entries, n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->entries = v;
	e = &v[p->n_entries];
	*e = (struct config_fs_entry){ .is_special = is_special,
		.special = special,
		.access = access };
	if (origin)
		e->origin = *origin;
	if (path) {
		e->path = strdup(path);
		if (!e->path)
			return -ENOMEM;
	}
	if (subpath) {
		e->subpath = strdup(subpath);
		if (!e->subpath) {
			free(e->path);
			return -ENOMEM;
		}
	}
	p->n_entries = n;
	return 0;
}

/* How a filesystem key reads (spec §1.4). */
enum config_fs_key {
	CONFIG_FS_KEY_SPECIAL,
	CONFIG_FS_KEY_UNKNOWN_SPECIAL,
	CONFIG_FS_KEY_PATH,    /* absolute or ~: resolved */
	CONFIG_FS_KEY_INVALID, /* reported */
};

struct config_fs_ctx {
	const struct config *cfg;
	const char *name; /* the profile */
	enum config_severity sev;
	struct config_diags *d;
	struct config_keypath kp;
	struct config_fs_policy *fs;
	char **keys; /* the key path of each entry, for E8 */
	int r;       /* first allocation failure */
};

static void
config_fs_keep(struct config_fs_ctx *c, int r)
{
	if (r < 0 && c->r >= 0)
		c->r = r;
}

/*
 * A problem in the profile at key (NULL: the current key path). Errors
 * take the context's severity, and for a profile not in use the message
 * says so.
 */
static void config_fs_report_at(struct config_fs_ctx *c,
    enum config_severity sev, const char *code, const struct config_origin *o,
    const char *key, const char *fmt, ...) _printf_(6, 7);

static void
config_fs_report_at(struct config_fs_ctx *c, enum config_severity sev,
    const char *code, const struct config_origin *o, const char *key,
    const char *fmt, ...)
{
	_cleanup_free_ char *k = NULL;
	struct buf b;
	va_list ap;
	int r;

	if (sev == CONFIG_SEVERITY_ERROR)
		sev = c->sev;
	if (!key) {
		k = config_keypath_format(&c->kp);
		if (!k) {
			config_fs_keep(c, -ENOMEM);
			return;
		}
		key = k;
	}
	buf_init(&b, 0);
	va_start(ap, fmt);
	r = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r >= 0 && c->sev == CONFIG_SEVERITY_WARNING)
		r = buf_printf(&b, " (profile \"%s\" is not in use)", c->name);
	if (r < 0)
		config_fs_keep(c, r);
	else
		config_diags_add_at(c->d, sev, code, o, key, "%s", buf_str(&b));
	buf_done(&b);
}

#define config_fs_report(c, sev, code, o, ...) \
	config_fs_report_at(c, sev, code, o, NULL, __VA_ARGS__)

static enum config_fs_access
config_fs_access_from(const struct toml_value *v, bool *ret_ok)
{
	size_t len;
	const char *s;

	*ret_ok = false;
	if (toml_value_type(v) != TOML_STRING)
		return CONFIG_FS_ACCESS_NONE;
	s = toml_value_string(v, &len);
	for (int a = 0; a < _CONFIG_FS_ACCESS_MAX; a++)
		if (strlen(config_fs_access_names[a]) == len &&
		    memcmp(config_fs_access_names[a], s, len) == 0) {
			*ret_ok = true;
			return (enum config_fs_access)a;
		}
	return CONFIG_FS_ACCESS_NONE;
}

static int
config_fs_add(struct config_fs_ctx *c, bool is_special,
    enum config_fs_special special, const char *path, const char *subpath,
    enum config_fs_access access, const struct config_origin *o)
{
	char **keys;
	char *key;
	int r;

	keys = reallocarray(c->keys, c->fs->n_entries + 1, sizeof(char *));
	if (!keys)
		return -ENOMEM;
	c->keys = keys;
	key = config_keypath_format(&c->kp);
	if (!key)
		return -ENOMEM;
	r = config_fs_policy_append(c->fs, is_special, special, path, subpath,
	    access, o);
	if (r < 0) {
		free(key);
		return r;
	}
	c->keys[c->fs->n_entries - 1] = key;
	return 0;
}

/*
 * Classify a key. For a path, *ret_path is the resolved absolute path
 * (caller frees); for a special, *ret_special says which. Problems with
 * the key itself (E7, a NUL, no home for ~) are reported here, once.
 */
static enum config_fs_key
config_fs_key(struct config_fs_ctx *c, const char *key, size_t len,
    const struct config_origin *o, enum config_fs_special *ret_special,
    char **ret_path)
{
	static const struct {
		const char *token;
		enum config_fs_special special;
	} specials[] = {
		{ ":root", CONFIG_FS_SPECIAL_ROOT },
		{ ":minimal", CONFIG_FS_SPECIAL_MINIMAL },
		{ ":project_roots", CONFIG_FS_SPECIAL_PROJECT_ROOTS },
		{ ":tmpdir", CONFIG_FS_SPECIAL_TMPDIR },
	};
	struct buf q;
	int r;

	*ret_path = NULL;
	if (len > 0 && key[0] == ':') {
		for (size_t i = 0; i < ELEMENTSOF(specials); i++)
			if (strlen(specials[i].token) == len &&
			    memcmp(specials[i].token, key, len) == 0) {
				*ret_special = specials[i].special;
				return CONFIG_FS_KEY_SPECIAL;
			}
		*ret_special = CONFIG_FS_SPECIAL_UNKNOWN;
		return CONFIG_FS_KEY_UNKNOWN_SPECIAL;
	}
	buf_init(&q, 0);
	if (config_quote(&q, key, len) < 0) {
		buf_done(&q);
		config_fs_keep(c, -ENOMEM);
		return CONFIG_FS_KEY_INVALID;
	}
	if (memchr(key, '\0', len)) {
		config_fs_report(c, CONFIG_SEVERITY_ERROR, "invalid_path", o,
		    "%s contains a NUL character", buf_str(&q));
	} else if (len == 0 ||
	    !(key[0] == '/' || streq(key, "~") || startswith(key, "~/"))) {
		config_fs_report(c, CONFIG_SEVERITY_ERROR, "path_not_absolute",
		    o,
		    "%s is not an absolute path, ~, ~/..., or a :special "
		    "path",
		    buf_str(&q));
	} else {
		r = config_path_resolve(key, "/", c->cfg->user_home, ret_path);
		buf_done(&q);
		if (r == -ENOENT)
			config_fs_report(c, CONFIG_SEVERITY_ERROR,
			    "home_unavailable", o,
			    "cannot expand ~: HOME is not set");
		else
			config_fs_keep(c, r);
		return *ret_path ? CONFIG_FS_KEY_PATH : CONFIG_FS_KEY_INVALID;
	}
	buf_done(&q);
	return CONFIG_FS_KEY_INVALID;
}

/*
 * A subpath the way the reference's component splitter sees it: a leading
 * '/' is a root component, "." is dropped except at the very start, empty
 * components vanish. Valid when every component is a plain name (E6).
 * Sets *ret_dot for a subpath that is just "." (the base itself) and
 * *ret_norm to the components joined by '/'.
 */
static bool
config_fs_subpath(const char *s, size_t len, bool *ret_dot, char **ret_norm)
{
	struct buf b;
	bool any = false, ok = true;

	*ret_dot = false;
	*ret_norm = NULL;
	if (len == 0 || s[0] == '/' || memchr(s, '\0', len))
		return false;
	buf_init(&b, 0);
	for (size_t i = 0; i < len;) {
		size_t j = i;

		while (j < len && s[j] != '/')
			j++;
		if (j - i == 1 && s[i] == '.') {
			if (i == 0)
				*ret_dot = true; /* a leading CurDir */
		} else if (j - i == 2 && s[i] == '.' && s[i + 1] == '.') {
			ok = false;
		} else if (j > i) {
			if ((any && buf_append_char(&b, '/') < 0) ||
			    buf_append(&b, s + i, j - i) < 0) {
				buf_done(&b);
				return false;
			}
			any = true;
		}
		i = j + 1;
	}
	if (*ret_dot) {
		/* "." (and "./") is the base; "./x" is not a descendant. */
		ok = ok && !any;
		if (!ok)
			*ret_dot = false;
		buf_done(&b);
		return ok;
	}
	if (!ok || !any) {
		buf_done(&b);
		return false;
	}
	*ret_norm = buf_take(&b);
	return *ret_norm != NULL;
}

static const char *
config_fs_quote(struct config_fs_ctx *c, struct buf *q, const char *s,
    size_t len)
{
	buf_clear(q);
	if (config_quote(q, s, len) < 0)
		config_fs_keep(c, -ENOMEM);
	return buf_str(q);
}

/* One nested entry base.sub = access (spec §1.5 rules, E6 before E5). */
static void
config_fs_scoped_one(struct config_fs_ctx *c, const char *key, size_t klen,
    enum config_fs_key kind, enum config_fs_special special, const char *base,
    const struct toml_value *t, size_t j)
{
	size_t slen;
	const char *sub = toml_table_key(t, j, &slen);
	struct config_origin o = config_origin_of_key(t, j);
	_cleanup_free_ char *norm = NULL;
	_cleanup_free_ char *joined = NULL;
	enum config_fs_access access;
	struct buf q, q2;
	bool dot, ok;

	access = config_fs_access_from(toml_table_value(t, j), &ok);
	if (!ok)
		return; /* reported by the structural check */
	buf_init(&q, 0);
	buf_init(&q2, 0);
	config_keypath_push(&c->kp, sub, slen);
	if (!config_fs_subpath(sub, slen, &dot, &norm)) {
		config_fs_report(c, CONFIG_SEVERITY_ERROR,
		    "subpath_not_descendant", &o,
		    "subpath %s must name a path below its base, without "
		    "\".\" or \"..\" components",
		    config_fs_quote(c, &q, sub, slen));
	} else if (dot) {
		/* The base itself, exactly like the unscoped form. */
		if (kind == CONFIG_FS_KEY_SPECIAL || kind == CONFIG_FS_KEY_PATH)
			config_fs_keep(c,
			    config_fs_add(c, kind == CONFIG_FS_KEY_SPECIAL,
				special, base, NULL, access, &o));
		else if (kind == CONFIG_FS_KEY_UNKNOWN_SPECIAL) {
			config_fs_keep(c,
			    config_fs_add(c, true, CONFIG_FS_SPECIAL_UNKNOWN,
				base, NULL, access, &o));
			config_fs_report(c, CONFIG_SEVERITY_WARNING,
			    "unknown_special_path", &o,
			    "%s is not a filesystem path this version knows; "
			    "the entry is ignored",
			    config_fs_quote(c, &q, key, klen));
		}
	} else if (kind == CONFIG_FS_KEY_PATH) {
		joined = config_path_join(base, norm);
		config_fs_keep(c,
		    joined ?
			config_fs_add(c, false, 0, joined, NULL, access, &o) :
			-ENOMEM);
	} else if (kind == CONFIG_FS_KEY_UNKNOWN_SPECIAL) {
		config_fs_keep(c,
		    config_fs_add(c, true, CONFIG_FS_SPECIAL_UNKNOWN, base,
			norm, access, &o));
		config_fs_report(c, CONFIG_SEVERITY_WARNING,
		    "unknown_special_path", &o,
		    "%s with nested entry %s is not a filesystem path this "
		    "version knows; the entry is ignored",
		    config_fs_quote(c, &q, key, klen),
		    config_fs_quote(c, &q2, sub, slen));
	} else if (kind == CONFIG_FS_KEY_SPECIAL &&
	    special == CONFIG_FS_SPECIAL_PROJECT_ROOTS) {
		config_fs_keep(c,
		    config_fs_add(c, true, special, NULL, norm, access, &o));
	} else if (kind == CONFIG_FS_KEY_SPECIAL) {
		config_keypath_pop(&c->kp);
		config_fs_report(c, CONFIG_SEVERITY_ERROR,
		    "nested_entry_not_allowed", &o,
		    "nested entries are only allowed under :project_roots and "
		    "absolute paths (found %s)",
		    config_fs_quote(c, &q, sub, slen));
		config_keypath_push(&c->kp, sub, slen);
	}
	config_keypath_pop(&c->kp);
	buf_done(&q);
	buf_done(&q2);
}

/* A table key for sorting in byte order (the reference's sorted map). */
struct config_fs_keyref {
	const char *key;
	size_t len;
	size_t index;
};

static int
config_fs_keyref_cmp(const void *pa, const void *pb)
{
	const struct config_fs_keyref *a = pa;
	const struct config_fs_keyref *b = pb;
	int r = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);

	if (r != 0)
		return r;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* The keys of t in byte order (caller frees), or NULL on ENOMEM. */
static struct config_fs_keyref *
config_fs_sorted(const struct toml_value *t)
{
	size_t n = toml_table_size(t);
	struct config_fs_keyref *v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		v[i].key = toml_table_key(t, i, &v[i].len);
		v[i].index = i;
	}
	qsort(v, n, sizeof(*v), config_fs_keyref_cmp);
	return v;
}

/* One key of the filesystem table, with an access or a scoped table. */
static void
config_fs_entry(struct config_fs_ctx *c, const struct toml_value *fs, size_t i)
{
	size_t klen;
	const char *key = toml_table_key(fs, i, &klen);
	const struct toml_value *v = toml_table_value(fs, i);
	struct config_origin o = config_origin_of_key(fs, i);
	enum config_fs_special special = CONFIG_FS_SPECIAL_ROOT;
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *token = NULL;
	_cleanup_free_ struct config_fs_keyref *subs = NULL;
	enum config_fs_access access;
	enum config_fs_key kind;
	const char *base;
	struct buf q;
	bool ok;

	config_keypath_push(&c->kp, key, klen);
	kind = config_fs_key(c, key, klen, &o, &special, &path);
	if (kind == CONFIG_FS_KEY_UNKNOWN_SPECIAL) {
		token = strndup(key, klen);
		if (!token)
			config_fs_keep(c, -ENOMEM);
	}
	base = kind == CONFIG_FS_KEY_PATH ? path : token;
	if (toml_value_type(v) == TOML_TABLE) {
		subs = config_fs_sorted(v);
		if (!subs)
			config_fs_keep(c, -ENOMEM);
		for (size_t j = 0; subs && j < toml_table_size(v); j++)
			config_fs_scoped_one(c, key, klen, kind, special, base,
			    v, subs[j].index);
		goto out;
	}
	access = config_fs_access_from(v, &ok);
	if (!ok || kind == CONFIG_FS_KEY_INVALID)
		goto out; /* reported already */
	config_fs_keep(c,
	    config_fs_add(c, kind != CONFIG_FS_KEY_PATH, special, base, NULL,
		access, &o));
	if (kind == CONFIG_FS_KEY_UNKNOWN_SPECIAL) {
		buf_init(&q, 0);
		config_fs_report(c, CONFIG_SEVERITY_WARNING,
		    "unknown_special_path", &o,
		    "%s is not a filesystem path this version knows; the "
		    "entry is ignored",
		    config_fs_quote(c, &q, key, klen));
		buf_done(&q);
	}
out:
	config_keypath_pop(&c->kp);
}

/* Does a write entry leave the workspace root (spec §4.5 fold)? */
static bool
config_fs_writes_outside(const struct config_fs_entry *e, const char *cwd)
{
	if (e->access != CONFIG_FS_ACCESS_WRITE)
		return false;
	if (!e->is_special)
		return !streq(e->path, cwd);
	switch (e->special) {
	case CONFIG_FS_SPECIAL_PROJECT_ROOTS:
		return e->subpath != NULL;
	case CONFIG_FS_SPECIAL_TMPDIR:
	case CONFIG_FS_SPECIAL_SLASH_TMP:
		return true;
	default:
		return false;
	}
}

/* Does a write entry make the workspace root (the cwd) writable? */
static bool
config_fs_writes_cwd(const struct config_fs_entry *e, const char *cwd)
{
	if (e->access != CONFIG_FS_ACCESS_WRITE)
		return false;
	if (!e->is_special)
		return streq(e->path, cwd);
	return e->special == CONFIG_FS_SPECIAL_CURRENT_WORKING_DIRECTORY ||
	    (e->special == CONFIG_FS_SPECIAL_PROJECT_ROOTS && !e->subpath);
}

/* E8: writes outside the workspace root need the root to be writable. */
static void
config_fs_check_outside(struct config_fs_ctx *c)
{
	const struct config_fs_policy *fs = c->fs;
	const char *cwd = c->cfg->cwd;

	for (size_t i = 0; i < fs->n_entries; i++) {
		const struct config_fs_entry *e = &fs->entries[i];

		if (config_fs_writes_cwd(e, cwd) ||
		    (e->is_special && e->special == CONFIG_FS_SPECIAL_ROOT &&
			e->access == CONFIG_FS_ACCESS_WRITE))
			return;
	}
	for (size_t i = 0; i < fs->n_entries; i++) {
		const struct config_fs_entry *e = &fs->entries[i];

		if (!config_fs_writes_outside(e, cwd))
			continue;
		config_fs_report_at(c, CONFIG_SEVERITY_ERROR,
		    "write_outside_workspace", &e->origin, c->keys[i],
		    "writes outside the workspace root are only possible "
		    "while the workspace root itself is writable; grant "
		    "\":project_roots\" = \"write\" or drop this write");
	}
}

int
config_fs_compile(const struct config *cfg, const char *name,
    const struct toml_value *profile, enum config_severity sev,
    struct config_diags *d, struct config_fs_policy **ret)
{
	struct config_fs_ctx c = { .cfg = cfg,
		.name = name,
		.sev = sev,
		.d = d };
	const struct toml_value *fs = config_get_table(profile, "filesystem");
	_cleanup_free_ struct config_fs_keyref *keys = NULL;
	struct config_origin o = config_origin_of(profile);
	int r;

	c.fs = config_fs_policy_new(CONFIG_FS_KIND_RESTRICTED);
	if (!c.fs)
		return -ENOMEM;
	config_keypath_push(&c.kp, "permissions", strlen("permissions"));
	config_keypath_push(&c.kp, name, strlen(name));
	if (!fs || toml_table_size(fs) == 0) {
		if (fs)
			o = config_origin_of(fs);
		config_fs_report(&c, CONFIG_SEVERITY_WARNING,
		    "no_filesystem_entries", &o,
		    "the profile defines no filesystem entries, so it grants "
		    "no filesystem access");
		*ret = c.fs;
		return 0;
	}
	config_keypath_push(&c.kp, "filesystem", strlen("filesystem"));
	keys = config_fs_sorted(fs);
	if (!keys)
		c.r = -ENOMEM;
	for (size_t i = 0; keys && c.r >= 0 && i < toml_table_size(fs); i++)
		config_fs_entry(&c, fs, keys[i].index);
	if (c.r >= 0)
		config_fs_check_outside(&c);
	for (size_t i = 0; c.keys && i < c.fs->n_entries; i++)
		free(c.keys[i]);
	free(c.keys);
	r = c.r;
	if (r < 0) {
		config_fs_policy_free(c.fs);
		return r;
	}
	*ret = c.fs;
	return 0;
}

/* The fold of spec §4.5 over a restricted policy. */
struct config_fs_fold {
	bool full_read, full_write, ipd;
	bool ws_writable, tmpdir_writable, slash_tmp_writable;
	char **readable;
	size_t n_readable;
	char **writable;
	size_t n_writable;
	size_t first_outside; /* SIZE_MAX: none */
};

static bool
config_fs_is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int
config_fs_fold_entry(struct config_fs_fold *f, const struct config_fs_entry *e,
    size_t i, const char *cwd)
{
	_cleanup_free_ char *p = NULL;
	bool write = e->access == CONFIG_FS_ACCESS_WRITE;

	if (e->access == CONFIG_FS_ACCESS_NONE)
		return 0;
	if (config_fs_writes_outside(e, cwd) && f->first_outside == SIZE_MAX)
		f->first_outside = i;
	if (!e->is_special) {
		if (!write)
			return config_strv_add_unique(&f->readable,
			    &f->n_readable, e->path);
		if (streq(e->path, cwd))
			f->ws_writable = true;
		else
			return config_strv_add_unique(&f->writable,
			    &f->n_writable, e->path);
		return 0;
	}
	switch (e->special) {
	case CONFIG_FS_SPECIAL_ROOT:
		f->full_read = true;
		f->full_write = f->full_write || write;
		return 0;
	case CONFIG_FS_SPECIAL_MINIMAL:
		f->ipd = true;
		return 0;
	case CONFIG_FS_SPECIAL_CURRENT_WORKING_DIRECTORY:
	case CONFIG_FS_SPECIAL_PROJECT_ROOTS:
		if (e->special == CONFIG_FS_SPECIAL_PROJECT_ROOTS &&
		    e->subpath) {
			p = config_path_join(cwd, e->subpath);
			if (!p)
				return -ENOMEM;
			return write ? config_strv_add_unique(&f->writable,
					   &f->n_writable, p) :
				       config_strv_add_unique(&f->readable,
					   &f->n_readable, p);
		}
		if (write)
			f->ws_writable = true;
		else
			return config_strv_add_unique(&f->readable,
			    &f->n_readable, cwd);
		return 0;
	case CONFIG_FS_SPECIAL_TMPDIR:
		if (write) {
			f->tmpdir_writable = true;
			return 0;
		}
		p = config_path_tmpdir();
		return p ?
		    config_strv_add_unique(&f->readable, &f->n_readable, p) :
		    0;
	case CONFIG_FS_SPECIAL_SLASH_TMP:
		if (write)
			f->slash_tmp_writable = true;
		else if (config_fs_is_dir("/tmp"))
			return config_strv_add_unique(&f->readable,
			    &f->n_readable, "/tmp");
		return 0;
	case CONFIG_FS_SPECIAL_UNKNOWN:
	case _CONFIG_FS_SPECIAL_MAX:
		return 0;
	}
	return 0;
}

static void
config_fs_fold_done(struct config_fs_fold *f)
{
	config_strv_free(f->readable, f->n_readable);
	config_strv_free(f->writable, f->n_writable);
}

int
config_fs_policy_project(const struct config_fs_policy *fs,
    bool network_enabled, const char *cwd, struct config_sandbox_policy **ret,
    size_t *reterr_entry)
{
	struct config_fs_fold f = { .first_outside = SIZE_MAX };
	struct config_sandbox_policy *sp;
	enum config_sandbox_type type;
	int r = 0;

	if (fs->kind == CONFIG_FS_KIND_EXTERNAL_SANDBOX ||
	    fs->kind == CONFIG_FS_KIND_UNRESTRICTED) {
		bool danger =
		    fs->kind == CONFIG_FS_KIND_UNRESTRICTED && network_enabled;

		sp = config_sandbox_policy_new(danger ?
			CONFIG_SANDBOX_DANGER_FULL_ACCESS :
			CONFIG_SANDBOX_EXTERNAL_SANDBOX);
		if (!sp)
			return -ENOMEM;
		sp->network_access = !danger && network_enabled;
		*ret = sp;
		return 0;
	}
	for (size_t i = 0; r >= 0 && i < fs->n_entries; i++)
		r = config_fs_fold_entry(&f, &fs->entries[i], i, cwd);
	if (r < 0)
		goto out;
	if (f.full_write)
		type = network_enabled ? CONFIG_SANDBOX_DANGER_FULL_ACCESS :
					 CONFIG_SANDBOX_EXTERNAL_SANDBOX;
	else if (f.ws_writable)
		type = CONFIG_SANDBOX_WORKSPACE_WRITE;
	else if (f.n_writable > 0 || f.tmpdir_writable ||
	    f.slash_tmp_writable) {
		if (reterr_entry)
			*reterr_entry = f.first_outside;
		r = -EINVAL;
		goto out;
	} else
		type = CONFIG_SANDBOX_READ_ONLY;
	sp = config_sandbox_policy_new(type);
	if (!sp) {
		r = -ENOMEM;
		goto out;
	}
	if (type == CONFIG_SANDBOX_DANGER_FULL_ACCESS ||
	    type == CONFIG_SANDBOX_EXTERNAL_SANDBOX) {
		/* External here means "restricted network" (spec §4.5). */
		*ret = sp;
		goto out;
	}
	sp->network_access = network_enabled;
	sp->read.full = f.full_read;
	if (!f.full_read) {
		sp->read.include_platform_defaults = f.ipd;
		sp->read.readable_roots = TAKE_PTR(f.readable);
		sp->read.n_readable_roots = f.n_readable;
		f.n_readable = 0;
	}
	if (type == CONFIG_SANDBOX_WORKSPACE_WRITE) {
		sp->writable_roots = TAKE_PTR(f.writable);
		sp->n_writable_roots = f.n_writable;
		f.n_writable = 0;
		sp->exclude_tmpdir_env_var = !f.tmpdir_writable;
		sp->exclude_slash_tmp = !f.slash_tmp_writable;
	}
	*ret = sp;
out:
	config_fs_fold_done(&f);
	return r;
}

static int
config_fs_add_paths(struct config_fs_policy *p, char *const *paths, size_t n,
    enum config_fs_access access)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < n; i++)
		r = config_fs_policy_append(p, false, 0, paths[i], NULL, access,
		    NULL);
	return r;
}

static int
config_fs_add_special(struct config_fs_policy *p, enum config_fs_special s,
    enum config_fs_access access)
{
	return config_fs_policy_append(p, true, s, NULL, NULL, access, NULL);
}

int
config_fs_policy_from_sandbox_policy(const struct config_sandbox_policy *sp,
    struct config_fs_policy **ret)
{
	struct config_fs_policy *p;
	const struct config_read_access *ra = &sp->read;
	int r = 0;

	switch (sp->type) {
	case CONFIG_SANDBOX_DANGER_FULL_ACCESS:
		p = config_fs_policy_new(CONFIG_FS_KIND_UNRESTRICTED);
		break;
	case CONFIG_SANDBOX_EXTERNAL_SANDBOX:
		p = config_fs_policy_new(CONFIG_FS_KIND_EXTERNAL_SANDBOX);
		break;
	default:
		p = config_fs_policy_new(CONFIG_FS_KIND_RESTRICTED);
		break;
	}
	if (!p)
		return -ENOMEM;
	if (sp->type == CONFIG_SANDBOX_READ_ONLY ||
	    sp->type == CONFIG_SANDBOX_WORKSPACE_WRITE) {
		bool ws = sp->type == CONFIG_SANDBOX_WORKSPACE_WRITE;

		if (ra->full)
			r = config_fs_add_special(p, CONFIG_FS_SPECIAL_ROOT,
			    CONFIG_FS_ACCESS_READ);
		else if (!ws)
			r = config_fs_add_special(p,
			    CONFIG_FS_SPECIAL_CURRENT_WORKING_DIRECTORY,
			    CONFIG_FS_ACCESS_READ);
		if (r >= 0 && !ra->full && ra->include_platform_defaults)
			r = config_fs_add_special(p, CONFIG_FS_SPECIAL_MINIMAL,
			    CONFIG_FS_ACCESS_READ);
		if (r >= 0 && !ra->full)
			r = config_fs_add_paths(p, ra->readable_roots,
			    ra->n_readable_roots, CONFIG_FS_ACCESS_READ);
		if (r >= 0 && ws)
			r = config_fs_add_special(p,
			    CONFIG_FS_SPECIAL_CURRENT_WORKING_DIRECTORY,
			    CONFIG_FS_ACCESS_WRITE);
		if (r >= 0 && ws && !sp->exclude_slash_tmp)
			r = config_fs_add_special(p,
			    CONFIG_FS_SPECIAL_SLASH_TMP,
			    CONFIG_FS_ACCESS_WRITE);
		if (r >= 0 && ws && !sp->exclude_tmpdir_env_var)
			r = config_fs_add_special(p, CONFIG_FS_SPECIAL_TMPDIR,
			    CONFIG_FS_ACCESS_WRITE);
		if (r >= 0 && ws)
			r = config_fs_add_paths(p, sp->writable_roots,
			    sp->n_writable_roots, CONFIG_FS_ACCESS_WRITE);
	}
	if (r < 0) {
		config_fs_policy_free(p);
		return r;
	}
	*ret = p;
	return 0;
}
