/* SPDX-License-Identifier: MIT */
/*
 * The filesystem half of a --landlock-only plan; see run_plan.h.
 *
 * Landlock only grants: a right given on a directory holds for everything
 * beneath it, and nothing deeper can take it away. So:
 *  - a none entry inside a readable or writable one cannot be expressed;
 *    the run is refused, naming the entry, rather than widened;
 *  - a read-only path inside a writable root (the protected metadata
 *    .git/.codex/.agents and the gitdir a .git file points to, or a read
 *    entry) is carved out: each directory on the way to it gets read
 *    rights only, and every other entry of that directory (symlinks
 *    excepted, which stay as they are) gets write. Entries of those
 *    directories cannot be created, removed or renamed during the run,
 *    which is also what keeps a missing .git from being created. The
 *    listing is taken when the plan is built: an entry a host process
 *    adds later is read-only in the sandbox.
 */
#include "api/run_plan.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/sandbox.h"
#include "util/cleanup.h"
#include "util/strutil.h"

/* The paths that must stay read-only inside writable roots. */
struct run_plan_keep {
	char **v;
	size_t n;
};

static void
run_plan_keep_done(struct run_plan_keep *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
}

static int
run_plan_keep_add(struct run_plan_keep *k, const char *path)
{
	char **v = reallocarray(k->v, k->n + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	k->v = v;
	v[k->n] = strdup(path);
	if (!v[k->n])
		return -ENOMEM;
	k->n++;
	return 0;
}

static const char *
run_plan_access_name(enum config_fs_access a)
{
	return a == CONFIG_FS_ACCESS_WRITE ? "write" :
	    a == CONFIG_FS_ACCESS_READ     ? "read" :
					     "none";
}

/* The entries Landlock cannot express, and what to keep read-only. */
static int
run_plan_landlock_check(const struct run_plan_paths *paths,
    struct run_plan_keep *keep, char *err, size_t errsz)
{
	int r = 0;

	for (size_t i = 0; i < paths->n && r >= 0; i++) {
		const struct run_plan_entry *e = &paths->v[i];
		const struct run_plan_entry *up = run_plan_parent(paths, i);

		if (!up || up->access == CONFIG_FS_ACCESS_NONE)
			continue;
		if (e->access == CONFIG_FS_ACCESS_NONE) {
			(void)snprintf(err, errsz,
			    "--landlock-only cannot hide '%s' (none) inside "
			    "'%s' (%s): Landlock can only grant access; drop "
			    "the entry or run with user namespaces",
			    e->path, up->path,
			    run_plan_access_name(up->access));
			return -EINVAL;
		}
		if (e->access == CONFIG_FS_ACCESS_READ &&
		    up->access == CONFIG_FS_ACCESS_WRITE)
			r = run_plan_keep_add(keep, e->path);
	}
	return r;
}

/* The protected metadata of the writable root root, present or not. */
static int
run_plan_landlock_protect(const struct run_plan_paths *paths, const char *root,
    struct run_plan_keep *keep, char *err, size_t errsz)
{
	char path[PATH_MAX];
	int r = 0;

	for (size_t k = 0; run_plan_protected[k] && r >= 0; k++) {
		_cleanup_free_ char *gitdir = NULL;
		struct stat st;

		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", root,
			streq(root, "/") ? "" : "/",
			run_plan_protected[k]) >= sizeof(path))
			continue;
		if (run_plan_access(paths, path) != CONFIG_FS_ACCESS_WRITE)
			continue;
		if (lstat(path, &st) < 0) {
			if (errno == ENOENT)
				r = run_plan_keep_add(keep, path);
			continue;
		}
		if (S_ISLNK(st.st_mode)) {
			(void)snprintf(err, errsz,
			    "'%s' is a symbolic link; protected metadata must "
			    "be a real directory or file (replace the link to "
			    "run here)",
			    path);
			return -EINVAL;
		}
		r = run_plan_keep_add(keep, path);
		if (r < 0 || !S_ISREG(st.st_mode) || k != 0)
			continue;
		gitdir = run_plan_gitdir(root, path);
		if (gitdir &&
		    run_plan_access(paths, gitdir) == CONFIG_FS_ACCESS_WRITE)
			r = run_plan_keep_add(keep, gitdir);
	}
	return r;
}

/* Write on dir, except beneath the kept paths. */
static int
run_plan_landlock_write(struct sandbox_plan *plan, const char *dir,
    const struct run_plan_keep *keep, unsigned depth)
{
	DIR *d;
	bool inside = false;
	struct dirent *de;
	int r = 0;

	for (size_t i = 0; i < keep->n; i++) {
		if (streq(keep->v[i], dir))
			return 0; /* read-only, from the rule above it */
		if (run_plan_is_under(keep->v[i], dir))
			inside = true;
	}
	if (!inside)
		return sandbox_plan_add_rule(plan, dir, ~0ULL);
	if (depth > PATH_MAX / 2)
		return -ELOOP;
	r = sandbox_plan_add_rule(plan, dir, sandbox_landlock_read(true));
	d = opendir(dir);
	if (!d)
		return r;
	while (r >= 0 && (de = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", dir,
			streq(dir, "/") ? "" : "/", de->d_name) >= sizeof(path))
			continue;
		/* A symlink's rule would land on its target, wherever that
		 * is; the link itself stays read-only. */
		if (lstat(path, &st) < 0 || S_ISLNK(st.st_mode))
			continue;
		r = run_plan_landlock_write(plan, path, keep, depth + 1);
	}
	(void)closedir(d);
	return r;
}

int
run_plan_landlock_build(const struct config *cfg, const char *tmpdir,
    struct sandbox_plan *plan, char *err, size_t errsz)
{
	const char *cwd = config_get_cwd(cfg);
	struct run_plan_keep keep = { 0 };
	struct run_plan_paths paths;
	char real[PATH_MAX];
	int r;

	plan->landlock_only = true;
	r = run_plan_resolve(config_get_fs_policy(cfg), cwd, tmpdir, &paths);
	if (r < 0)
		return r;
	r = run_plan_ca(cfg, &paths);
	plan->root_read = run_plan_access(&paths, "/") != CONFIG_FS_ACCESS_NONE;
	plan->root_write =
	    run_plan_access(&paths, "/") == CONFIG_FS_ACCESS_WRITE;
	if (r >= 0)
		r = run_plan_landlock_check(&paths, &keep, err, errsz);
	/* As in the full mode, a writable / protects nothing. */
	for (size_t i = 0; r >= 0 && !plan->root_write && i < paths.n; i++)
		if (paths.v[i].access == CONFIG_FS_ACCESS_WRITE &&
		    paths.v[i].is_dir)
			r = run_plan_landlock_protect(&paths, paths.v[i].path,
			    &keep, err, errsz);
	for (size_t i = 0; r >= 0 && i < paths.n; i++) {
		const struct run_plan_entry *e = &paths.v[i];

		if (e->access == CONFIG_FS_ACCESS_READ)
			r = sandbox_plan_add_rule(plan, e->path,
			    sandbox_landlock_read(e->is_dir));
		else if (e->access == CONFIG_FS_ACCESS_WRITE)
			r = run_plan_landlock_write(plan, e->path, &keep, 0);
	}
	if (r >= 0) {
		plan->cwd = strdup(realpath(cwd, real) ? real : cwd);
		if (!plan->cwd)
			r = -ENOMEM;
	}
	run_plan_keep_done(&keep);
	run_plan_paths_done(&paths);
	return r;
}
