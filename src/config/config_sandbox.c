/* SPDX-License-Identifier: MIT */
/*
 * The legacy sandbox policy (spec §4.2): its derivation from sandbox_mode
 * and [sandbox_workspace_write] (§2.3) and its writable roots with the
 * subpaths that stay read-only under them (§4.2.1).
 *
 * The writable roots look at the filesystem (/tmp is a root only when it
 * is a directory; .git, .agents and .codex are protected when present) and
 * at TMPDIR, so they are computed once at load time.
 */
#include "config/config_internal.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "toml/toml.h"
#include "util/cleanup.h"
#include "util/limits.h"
#include "util/size.h"
#include "util/strutil.h"

static const char *const config_sandbox_type_names[_CONFIG_SANDBOX_TYPE_MAX] = {
	[CONFIG_SANDBOX_DANGER_FULL_ACCESS] = "danger-full-access",
	[CONFIG_SANDBOX_READ_ONLY] = "read-only",
	[CONFIG_SANDBOX_EXTERNAL_SANDBOX] = "external-sandbox",
	[CONFIG_SANDBOX_WORKSPACE_WRITE] = "workspace-write",
};

const char *
config_sandbox_type_name(enum config_sandbox_type t)
{
	return t < _CONFIG_SANDBOX_TYPE_MAX ? config_sandbox_type_names[t] :
					      NULL;
}

bool
config_sandbox_mode_is_valid(const char *mode)
{
	return mode &&
	    (streq(mode, "read-only") || streq(mode, "workspace-write") ||
		streq(mode, "danger-full-access"));
}

void
config_strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

int
config_strv_add(char ***v, size_t *n, const char *s)
{
	char **nv = *v;
	size_t m;

	if (!size_add(*n, 1, &m))
		return -ENOMEM;
	if (!nv || m > size_room(*n)) {
		nv = reallocarray(*v, size_room(m), sizeof(char *));
		if (!nv)
			return -ENOMEM;
		*v = nv;
	}
	nv[*n] = strdup(s);
	if (!nv[*n])
		return -ENOMEM;
	*n = m;
	return 0;
}

int
config_strv_add_unique(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (streq((*v)[i], s))
			return 0;
	return config_strv_add(v, n, s);
}

int
config_strv_cmp(const char *a, const char *b, bool fold)
{
	size_t la, lb;

	if (!fold)
		return strcmp(a, b);
	la = strlen(a);
	lb = strlen(b);
	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	for (size_t i = 0; i < la && i < lb; i++) {
		unsigned char ca = (unsigned char)ascii_tolower(a[i]);
		unsigned char cb = (unsigned char)ascii_tolower(b[i]);

		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return la < lb ? -1 : la > lb;
}

struct config_strv_ref {
	const char *s;
	size_t pos;
	bool fold;
};

static int
config_strv_ref_cmp(const void *pa, const void *pb)
{
	const struct config_strv_ref *a = pa;
	const struct config_strv_ref *b = pb;
	int c = config_strv_cmp(a->s, b->s, a->fold);

	if (c != 0)
		return c;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

int
config_strv_dups(const char *const *v, size_t n, bool fold, bool keep_last,
    bool *drop)
{
	struct config_strv_ref *refs = calloc(n ? n : 1, sizeof(*refs));

	if (!refs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		refs[i] = (struct config_strv_ref){ v[i], i, fold };
	if (n > 0) /* qsort() must not see the NULL of an empty list */
		qsort(refs, n, sizeof(*refs), config_strv_ref_cmp);
	for (size_t i = 0; i + 1 < n; i++)
		if (config_strv_cmp(refs[i].s, refs[i + 1].s, fold) == 0)
			drop[keep_last ? refs[i].pos : refs[i + 1].pos] = true;
	free(refs);
	return 0;
}

int
config_strv_dedup(char **v, size_t *n)
{
	bool *drop = calloc(*n ? *n : 1, sizeof(*drop));
	size_t k = 0;
	int r;

	if (!drop)
		return -ENOMEM;
	r = config_strv_dups((const char *const *)v, *n, false, false, drop);
	for (size_t i = 0; r >= 0 && i < *n; i++) {
		if (drop[i])
			free(v[i]);
		else
			v[k++] = v[i];
	}
	if (r >= 0)
		*n = k;
	free(drop);
	return r;
}

struct config_sandbox_policy *
config_sandbox_policy_new(enum config_sandbox_type type)
{
	struct config_sandbox_policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->type = type;
	p->read.full = true;
	return p;
}

struct config_sandbox_policy *
config_sandbox_policy_free(struct config_sandbox_policy *p)
{
	if (!p)
		return NULL;
	config_strv_free(p->read.readable_roots, p->read.n_readable_roots);
	config_strv_free(p->writable_roots, p->n_writable_roots);
	free(p);
	return NULL;
}

bool
config_sandbox_policy_has_full_network(const struct config_sandbox_policy *sp)
{
	return sp->type == CONFIG_SANDBOX_DANGER_FULL_ACCESS ||
	    sp->network_access;
}

/* writable_roots of [sandbox_workspace_write], each resolved against the
 * directory of the layer that wrote it (spec §1.2). */
static int
config_sandbox_roots(const struct config *cfg, const struct toml_value *sww,
    struct config_diags *d, struct config_sandbox_policy *sp)
{
	const struct toml_value *roots =
	    sww ? toml_table_get_str(sww, "writable_roots") : NULL;
	struct config_keypath kp = { .n = 0 };

	if (!roots || toml_value_type(roots) != TOML_ARRAY)
		return 0;
	config_keypath_push(&kp, "sandbox_workspace_write",
	    strlen("sandbox_workspace_write"));
	config_keypath_push(&kp, "writable_roots", strlen("writable_roots"));
	for (size_t i = 0; i < toml_array_size(roots); i++) {
		const struct toml_value *e = toml_array_get(roots, i);
		struct config_origin o = config_origin_of(e);
		_cleanup_free_ char *path = NULL;
		const char *s;
		size_t len;
		int r;

		if (toml_value_type(e) != TOML_STRING)
			continue; /* reported by the structural check */
		s = toml_value_string(e, &len);
		if (memchr(s, '\0', len)) {
			config_diags_add(d, CONFIG_SEVERITY_ERROR,
			    "invalid_path", &o, &kp,
			    "element %zu contains a NUL character", i + 1);
			continue;
		}
		r = config_path_resolve(s,
		    config_layers_base_dir(cfg, toml_value_source(e)),
		    cfg->user_home, &path);
		if (r == -ENOENT) {
			config_diags_add(d, CONFIG_SEVERITY_ERROR,
			    "home_unavailable", &o, &kp,
			    "cannot expand ~ in element %zu: HOME is not set",
			    i + 1);
			continue;
		}
		if (r < 0)
			return r;
		r = config_strv_add(&sp->writable_roots, &sp->n_writable_roots,
		    path);
		if (r < 0)
			return r;
	}
	return config_strv_dedup(sp->writable_roots, &sp->n_writable_roots);
}

int
config_sandbox_from_mode(const struct config *cfg, const char *mode,
    const struct toml_value *sww, struct config_diags *d,
    struct config_sandbox_policy **ret)
{
	struct config_sandbox_policy *sp;
	int r = 0;

	if (streq(mode, "danger-full-access"))
		sp = config_sandbox_policy_new(
		    CONFIG_SANDBOX_DANGER_FULL_ACCESS);
	else if (streq(mode, "workspace-write"))
		sp = config_sandbox_policy_new(CONFIG_SANDBOX_WORKSPACE_WRITE);
	else
		sp = config_sandbox_policy_new(CONFIG_SANDBOX_READ_ONLY);
	if (!sp)
		return -ENOMEM;
	if (sp->type == CONFIG_SANDBOX_WORKSPACE_WRITE) {
		(void)config_get_bool(sww, "network_access",
		    &sp->network_access);
		(void)config_get_bool(sww, "exclude_tmpdir_env_var",
		    &sp->exclude_tmpdir_env_var);
		(void)config_get_bool(sww, "exclude_slash_tmp",
		    &sp->exclude_slash_tmp);
		r = config_sandbox_roots(cfg, sww, d, sp);
	}
	if (r < 0) {
		config_sandbox_policy_free(sp);
		return r;
	}
	*ret = sp;
	return 0;
}

/* The file type of p (S_IFREG, S_IFDIR, ...), or 0 when there is none. */
static mode_t
config_sandbox_type(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? st.st_mode & S_IFMT : 0;
}

/*
 * The target of a .git pointer file ("gitdir: <path>"), resolved against
 * the file's directory, if it exists. Like the reference, any text with a
 * ':' counts and a problem simply means no target.
 */
static char *
config_sandbox_gitdir(const char *dotgit, const char *root)
{
	_cleanup_free_ char *text = NULL;
	char *colon;
	char *p;
	char *end;
	char *target;
	struct stat st;
	size_t n;

	/* A regular file only: .git may have become a FIFO since the
	 * stat(), and reading one would block the load. */
	if (config_layers_read(dotgit, LIMIT_CONFIG_GITDIR_BYTES, false, &text,
		&n) < 0 ||
	    !text || n == 0 || memchr(text, '\0', n))
		return NULL;
	colon = strchr(text, ':');
	if (!colon)
		return NULL;
	p = colon + 1;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	end = p + strlen(p);
	while (end > p &&
	    (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
		end[-1] == '\r'))
		*--end = '\0';
	if (!*p)
		return NULL;
	target = config_path_join(root, p);
	if (target && stat(target, &st) < 0) {
		free(target);
		target = NULL;
	}
	return target;
}

/* The read-only subpaths of one writable root (spec §4.2.1). */
static int
config_sandbox_protect(struct config_writable_root *wr, bool is_cwd)
{
	_cleanup_free_ char *git = config_path_join(wr->root, ".git");
	_cleanup_free_ char *agents = config_path_join(wr->root, ".agents");
	_cleanup_free_ char *codex = config_path_join(wr->root, ".codex");
	char ***v = &wr->read_only_subpaths;
	size_t *n = &wr->n_read_only_subpaths;
	mode_t git_type;
	int r = 0;

	if (!git || !agents || !codex)
		return -ENOMEM;
	git_type = config_sandbox_type(git);
	if (git_type == S_IFREG) {
		_cleanup_free_ char *target =
		    config_sandbox_gitdir(git, wr->root);

		if (target)
			r = config_strv_add_unique(v, n, target);
	}
	if (r >= 0 && (git_type == S_IFREG || git_type == S_IFDIR))
		r = config_strv_add_unique(v, n, git);
	if (r >= 0 && config_sandbox_type(agents) == S_IFDIR)
		r = config_strv_add_unique(v, n, agents);
	if (r >= 0 && (is_cwd || config_sandbox_type(codex) == S_IFDIR))
		r = config_strv_add_unique(v, n, codex);
	return r;
}

void
config_writable_roots_free(struct config_writable_root *roots, size_t n)
{
	for (size_t i = 0; roots && i < n; i++) {
		free(roots[i].root);
		config_strv_free(roots[i].read_only_subpaths,
		    roots[i].n_read_only_subpaths);
	}
	free(roots);
}

int
config_sandbox_policy_writable_roots(const struct config_sandbox_policy *sp,
    const char *cwd, struct config_writable_root **ret_roots, size_t *ret_n)
{
	_cleanup_free_ char *tmpdir = NULL;
	const char *list[4] = { 0 };
	struct config_writable_root *roots;
	size_t n = 0, k = 0;
	int r = 0;

	*ret_roots = NULL;
	*ret_n = 0;
	if (sp->type != CONFIG_SANDBOX_WORKSPACE_WRITE)
		return 0;
	list[k++] = cwd;
	if (!sp->exclude_slash_tmp && config_sandbox_type("/tmp") == S_IFDIR)
		list[k++] = "/tmp";
	if (!sp->exclude_tmpdir_env_var) {
		tmpdir = config_path_tmpdir();
		if (tmpdir)
			list[k++] = tmpdir;
	}
	roots = calloc(sp->n_writable_roots + k, sizeof(*roots));
	if (!roots)
		return -ENOMEM;
	/* The configured roots, then the cwd, /tmp and $TMPDIR; like the
	 * reference, duplicates between them are kept. */
	for (size_t i = 0; r >= 0 && i < sp->n_writable_roots + k; i++) {
		const char *root = i < sp->n_writable_roots ?
		    sp->writable_roots[i] :
		    list[i - sp->n_writable_roots];

		roots[n].root = strdup(root);
		if (!roots[n].root) {
			r = -ENOMEM;
			break;
		}
		r = config_sandbox_protect(&roots[n], streq(root, cwd));
		n++;
	}
	if (r < 0) {
		config_writable_roots_free(roots, n);
		return r;
	}
	*ret_roots = roots;
	*ret_n = n;
	return 0;
}
