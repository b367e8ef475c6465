/* SPDX-License-Identifier: MIT */
/*
 * The filesystem half of a `paddock run` plan; see run_plan.h for the
 * rules. Synchronous code in the parent: it may allocate, stat and log.
 */
#include "api/run_plan.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/run_placeholder.h"
#include "sandbox/sandbox.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strutil.h"

/* The platform directories :minimal grants (spec permissions §6.2). */
static const char *const run_plan_minimal[] = { "/bin", "/sbin", "/usr", "/etc",
	"/lib", "/lib32", "/lib64", "/nix/store", "/run/current-system/sw",
	NULL };

/* The metadata protected under every writable root. */
const char *const run_plan_protected[] = { ".git", ".codex", ".agents", NULL };

static size_t
run_plan_depth(const char *path)
{
	size_t n = 0;

	if (streq(path, "/"))
		return 0;
	for (const char *s = path; *s; s++)
		n += *s == '/';
	return n;
}

bool
run_plan_is_under(const char *path, const char *p)
{
	size_t len = strlen(p);

	if (streq(p, "/"))
		return true;
	return strncmp(path, p, len) == 0 &&
	    (path[len] == '\0' || path[len] == '/');
}

static int
run_plan_cmp(const void *a, const void *b)
{
	const struct run_plan_entry *x = a, *y = b;
	size_t dx = run_plan_depth(x->path), dy = run_plan_depth(y->path);

	if (dx != dy)
		return dx < dy ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* At equal specificity: none > write > read. */
static int
run_plan_rank(enum config_fs_access a)
{
	return a == CONFIG_FS_ACCESS_NONE ? 2 :
	    a == CONFIG_FS_ACCESS_WRITE   ? 1 :
					    0;
}

static int
run_plan_add(struct run_plan_paths *p, const char *path,
    enum config_fs_access access)
{
	char real[PATH_MAX];
	struct run_plan_entry *v;
	struct stat st;

	if (!path || path[0] != '/' || !realpath(path, real) ||
	    stat(real, &st) < 0) {
		log_debug("run: '%s' does not exist; its entry is dropped",
		    path ? path : "(unset)");
		return 0;
	}
	for (size_t i = 0; i < p->n; i++)
		if (streq(p->v[i].path, real)) {
			if (run_plan_rank(access) >
			    run_plan_rank(p->v[i].access))
				p->v[i].access = access;
			return 0;
		}
	v = reallocarray(p->v, p->n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->v = v;
	v[p->n].path = strdup(real);
	if (!v[p->n].path)
		return -ENOMEM;
	v[p->n].access = access;
	v[p->n].is_dir = S_ISDIR(st.st_mode);
	p->n++;
	return 0;
}

static int
run_plan_add_entry(struct run_plan_paths *p, const struct config_fs_entry *e,
    const char *cwd, const char *tmpdir)
{
	char buf[PATH_MAX];
	int r = 0;

	if (!e->is_special)
		return run_plan_add(p, e->path, e->access);
	switch (e->special) {
	case CONFIG_FS_SPECIAL_ROOT:
		return run_plan_add(p, "/", e->access);
	case CONFIG_FS_SPECIAL_MINIMAL:
		/* Write implies read here; a none entry hides nothing that
		 * the entry would otherwise grant. */
		if (e->access == CONFIG_FS_ACCESS_NONE)
			return 0;
		for (size_t i = 0; run_plan_minimal[i] && r >= 0; i++)
			r = run_plan_add(p, run_plan_minimal[i],
			    CONFIG_FS_ACCESS_READ);
		return r;
	case CONFIG_FS_SPECIAL_CURRENT_WORKING_DIRECTORY:
		return run_plan_add(p, cwd, e->access);
	case CONFIG_FS_SPECIAL_PROJECT_ROOTS:
		if (!e->subpath)
			return run_plan_add(p, cwd, e->access);
		if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", cwd,
			e->subpath) >= sizeof(buf))
			return 0;
		return run_plan_add(p, buf, e->access);
	case CONFIG_FS_SPECIAL_TMPDIR:
		return tmpdir && tmpdir[0] == '/' ?
		    run_plan_add(p, tmpdir, e->access) :
		    0;
	case CONFIG_FS_SPECIAL_SLASH_TMP:
		return run_plan_add(p, "/tmp", e->access);
	default:
		return 0; /* unknown tokens grant nothing */
	}
}

int
run_plan_resolve(const struct config_fs_policy *fs, const char *cwd,
    const char *tmpdir, struct run_plan_paths *ret)
{
	int r = 0;

	*ret = (struct run_plan_paths){ 0 };
	if (fs->kind != CONFIG_FS_KIND_RESTRICTED)
		r = run_plan_add(ret, "/", CONFIG_FS_ACCESS_WRITE);
	for (size_t i = 0; fs->kind == CONFIG_FS_KIND_RESTRICTED &&
	     i < fs->n_entries && r >= 0;
	     i++)
		r = run_plan_add_entry(ret, &fs->entries[i], cwd, tmpdir);
	if (r < 0) {
		run_plan_paths_done(ret);
		return r;
	}
	if (ret->n > 1)
		qsort(ret->v, ret->n, sizeof(*ret->v), run_plan_cmp);
	return 0;
}

void
run_plan_paths_done(struct run_plan_paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].path);
	free(p->v);
	*p = (struct run_plan_paths){ 0 };
}

/* The most specific entry containing path, or NULL. Entries are sorted by
 * depth, so the last match is the deepest. */
static const struct run_plan_entry *
run_plan_match(const struct run_plan_paths *paths, const char *path,
    size_t limit)
{
	const struct run_plan_entry *m = NULL;

	for (size_t i = 0; i < limit && i < paths->n; i++)
		if (run_plan_is_under(path, paths->v[i].path))
			m = &paths->v[i];
	return m;
}

enum config_fs_access
run_plan_access(const struct run_plan_paths *paths, const char *path)
{
	const struct run_plan_entry *m = run_plan_match(paths, path, SIZE_MAX);

	return m ? m->access : CONFIG_FS_ACCESS_NONE;
}

const struct run_plan_entry *
run_plan_parent(const struct run_plan_paths *paths, size_t i)
{
	return run_plan_match(paths, paths->v[i].path, i);
}

/* mkdir every component of path below the root, then the mount point
 * itself (a directory or an empty file). */
static int
run_plan_mountpoint(struct sandbox_plan *plan, const char *path, bool is_dir)
{
	char buf[PATH_MAX];
	int r = 0;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (char *s = strchr(buf + 1, '/'); s && r >= 0;
	     s = strchr(s + 1, '/')) {
		*s = '\0';
		r = sandbox_plan_add(plan, SANDBOX_OP_MKDIR, buf, NULL);
		*s = '/';
	}
	if (r >= 0)
		r = sandbox_plan_add(plan,
		    is_dir ? SANDBOX_OP_MKDIR : SANDBOX_OP_TOUCH, path, NULL);
	return r;
}

static int
run_plan_bind(struct sandbox_plan *plan, const char *path, bool is_dir,
    bool write)
{
	int r = run_plan_mountpoint(plan, path, is_dir);

	if (r >= 0)
		r = sandbox_plan_add(plan,
		    write ? SANDBOX_OP_BIND_RW : SANDBOX_OP_BIND_RO, path,
		    path);
	if (r >= 0)
		r = sandbox_plan_add_rule(plan, path,
		    write ? ~0ULL : sandbox_landlock_read(is_dir));
	return r;
}

/* A none entry whose subtree holds entries that grant access again gets
 * a traversable (mode 111) mask. */
static bool
run_plan_has_descendant(const struct run_plan_paths *paths, size_t i)
{
	for (size_t j = i + 1; j < paths->n; j++)
		if (run_plan_is_under(paths->v[j].path, paths->v[i].path) &&
		    paths->v[j].access != CONFIG_FS_ACCESS_NONE)
			return true;
	return false;
}

static int
run_plan_entries(const struct run_plan_paths *paths, struct sandbox_plan *plan)
{
	int r = 0;

	for (size_t i = 0; i < paths->n && r >= 0; i++) {
		const struct run_plan_entry *e = &paths->v[i];
		const struct run_plan_entry *parent;
		enum config_fs_access above;

		if (streq(e->path, "/"))
			continue;
		parent = run_plan_match(paths, e->path, i);
		above = parent ? parent->access : CONFIG_FS_ACCESS_NONE;
		if (e->access == above)
			continue;
		if (e->access != CONFIG_FS_ACCESS_NONE) {
			r = run_plan_bind(plan, e->path, e->is_dir,
			    e->access == CONFIG_FS_ACCESS_WRITE);
			continue;
		}
		r = sandbox_plan_add(plan,
		    e->is_dir ? SANDBOX_OP_MASK_DIR : SANDBOX_OP_MASK_FILE,
		    e->path,
		    e->is_dir && run_plan_has_descendant(paths, i) ?
			"mode=111" :
			NULL);
	}
	return r;
}

char *
run_plan_gitdir(const char *root, const char *dotgit)
{
	char text[PATH_MAX + 16], joined[PATH_MAX * 2], real[PATH_MAX];
	FILE *f = fopen(dotgit, "re");
	size_t n;
	char *p;

	if (!f)
		return NULL;
	n = fread(text, 1, sizeof(text) - 1, f);
	(void)fclose(f);
	text[n] = '\0';
	if (!startswith(text, "gitdir:"))
		return NULL;
	p = text + 7;
	while (*p == ' ' || *p == '\t')
		p++;
	p[strcspn(p, "\r\n")] = '\0';
	if (!*p)
		return NULL;
	if (*p == '/')
		(void)snprintf(joined, sizeof(joined), "%s", p);
	else
		(void)snprintf(joined, sizeof(joined), "%s/%s", root, p);
	return realpath(joined, real) ? strdup(real) : NULL;
}

/* .git (and its gitdir), .codex and .agents under the writable root
 * root: read-only when present, an empty read-only directory when not. */
static int
run_plan_protect(const struct run_plan_paths *paths, const char *root,
    bool dry_run, struct sandbox_plan *plan,
    struct run_placeholders *placeholders, char *err, size_t errsz)
{
	char path[PATH_MAX];
	int r = 0;

	for (size_t k = 0; run_plan_protected[k] && r >= 0; k++) {
		_cleanup_free_ char *gitdir = NULL;
		bool placeholder;
		struct stat st;

		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", root,
			streq(root, "/") ? "" : "/",
			run_plan_protected[k]) >= sizeof(path))
			continue;
		/* An explicit entry for the path itself decides. */
		if (run_plan_access(paths, path) != CONFIG_FS_ACCESS_WRITE)
			continue;
		/* Missing (or a placeholder already): a directory the run
		 * cannot write into, so it cannot be created either. git
		 * skips such a .git and keeps looking upwards. */
		if (dry_run) {
			placeholder = lstat(path, &st) < 0 ?
			    errno == ENOENT :
			    run_placeholder_looks(&st);
		} else {
			r = run_placeholder_take(placeholders, path);
			if (r < 0) {
				(void)snprintf(err, errsz,
				    "cannot protect '%s': %s", path,
				    strerror(-r));
				return -EINVAL;
			}
			placeholder = r > 0;
		}
		if (placeholder) {
			r = sandbox_plan_add(plan, SANDBOX_OP_MASK_DIR, path,
			    NULL);
			continue;
		}
		if (lstat(path, &st) == 0) {
			if (S_ISLNK(st.st_mode)) {
				(void)snprintf(err, errsz,
				    "'%s' is a symbolic link; protected "
				    "metadata must be a real directory or "
				    "file (replace the link to run here)",
				    path);
				return -EINVAL;
			}
			r = sandbox_plan_add(plan, SANDBOX_OP_BIND_RO, path,
			    path);
			if (r < 0 || !S_ISREG(st.st_mode) || k != 0)
				continue;
			gitdir = run_plan_gitdir(root, path);
			if (gitdir &&
			    run_plan_access(paths, gitdir) ==
				CONFIG_FS_ACCESS_WRITE)
				r = sandbox_plan_add(plan, SANDBOX_OP_BIND_RO,
				    gitdir, gitdir);
			continue;
		}
		/* Not a placeholder a moment ago, gone now: something else
		 * is changing the workspace. Protect nothing by accident. */
		if (!dry_run) {
			(void)snprintf(err, errsz,
			    "cannot protect '%s': it changed while the run was "
			    "starting (%s); run again",
			    path, strerror(errno));
			return -EINVAL;
		}
	}
	return r;
}

static bool
run_plan_socket_allowed(const struct config_network *net, const char *path)
{
	if (net->dangerously_allow_all_unix_sockets)
		return true;
	for (size_t i = 0; i < net->n_unix_sockets; i++)
		if (streq(net->unix_sockets[i].path, path))
			return true;
	return false;
}

/*
 * Host unix sockets: abstract ones belong to the host's network namespace
 * and are out of reach already, but a socket file in a readable directory
 * could still be connected to (a read-only mount does not stop
 * connect()). Every socket bound on the host when the run starts and
 * visible in the sandbox gets an unreadable file over it, except those
 * allow_unix_sockets names. XXX: sockets bound later, or in another
 * network namespace, are not seen here.
 */
static int
run_plan_sockets(const struct run_plan_paths *paths,
    const struct config_network *net, struct sandbox_plan *plan)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/net/unix", "re");
	char line[PATH_MAX + 128], real[PATH_MAX];
	int r = 0;

	if (!f)
		return 0;
	while (r >= 0 && fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/');
		struct stat st;

		if (!path)
			continue;
		path[strcspn(path, "\n")] = '\0';
		if (!realpath(path, real) || stat(real, &st) < 0 ||
		    !S_ISSOCK(st.st_mode) ||
		    run_plan_access(paths, real) == CONFIG_FS_ACCESS_NONE ||
		    run_plan_socket_allowed(net, real) ||
		    run_plan_socket_allowed(net, path))
			continue;
		r = sandbox_plan_add(plan, SANDBOX_OP_MASK_FILE, real, NULL);
	}
	return r;
}

/*
 * The interception CA's key never enters a sandbox, whatever the profile
 * grants: whoever holds it can impersonate any site to every process that
 * trusts the CA. Old keys kept by rotation (ca.key.<suffix>) neither. With
 * interception in use, the directory itself is readable, so the child can
 * read the CA bundle its environment names.
 */
int
run_plan_ca(const struct config *cfg, struct run_plan_paths *paths)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int r = config_mitm_dir(cfg, dir, sizeof(dir));

	if (r < 0)
		return r;
	if (config_intercepts(cfg))
		r = run_plan_add(paths, dir, CONFIG_FS_ACCESS_READ);
	d = opendir(dir);
	if (!d)
		return r;
	while (r >= 0 && (e = readdir(d)))
		if (startswith(e->d_name, "ca.key") &&
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) <
			(int)sizeof(path))
			r = run_plan_add(paths, path, CONFIG_FS_ACCESS_NONE);
	(void)closedir(d);
	return r;
}

int
run_plan_build(const struct config *cfg, const char *tmpdir, bool dry_run,
    struct sandbox_plan *plan, struct run_placeholders *placeholders, char *err,
    size_t errsz)
{
	const char *cwd = config_get_cwd(cfg);
	struct run_plan_paths paths;
	enum config_fs_access root;
	char real[PATH_MAX];
	int r;

	r = run_plan_resolve(config_get_fs_policy(cfg), cwd, tmpdir, &paths);
	if (r >= 0)
		r = run_plan_ca(cfg, &paths);
	if (r < 0) {
		run_plan_paths_done(&paths);
		return r;
	}
	root = run_plan_access(&paths, "/");
	plan->root_read = root != CONFIG_FS_ACCESS_NONE;
	plan->root_write = root == CONFIG_FS_ACCESS_WRITE;
	r = sandbox_plan_add_rule(plan, "/",
	    plan->root_write    ? ~0ULL :
		plan->root_read ? sandbox_landlock_read(true) :
				  sandbox_landlock_read(true) &
		    ~sandbox_landlock_read(false));
	if (r >= 0)
		r = run_plan_entries(&paths, plan);
	/* With the whole disk writable nothing is protected: that is what
	 * full access means. */
	for (size_t i = 0; r >= 0 && !plan->root_write && i < paths.n; i++)
		if (paths.v[i].access == CONFIG_FS_ACCESS_WRITE &&
		    paths.v[i].is_dir)
			r = run_plan_protect(&paths, paths.v[i].path, dry_run,
			    plan, placeholders, err, errsz);
	if (r >= 0)
		r = run_plan_sockets(&paths, config_get_network(cfg), plan);
	if (r >= 0) {
		plan->cwd = strdup(realpath(cwd, real) ? real : cwd);
		if (!plan->cwd)
			r = -ENOMEM;
	}
	run_plan_paths_done(&paths);
	if (r < 0)
		run_placeholders_release(placeholders);
	return r;
}
