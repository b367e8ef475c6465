/* SPDX-License-Identifier: MIT */
/*
 * From a loaded config's split filesystem policy to a sandbox plan.
 *
 * Every entry is resolved to a canonical host path (:root is /, :minimal
 * the platform directories, :project_roots the cwd or a subpath of it,
 * :tmpdir $TMPDIR, the legacy /tmp entry /tmp); entries naming a path that
 * does not exist are dropped. The access of a path is that of the most
 * specific entry containing it (the most path components); at equal
 * specificity none beats write, which beats read; no entry means none
 * (spec permissions §4.7).
 *
 * The mounts follow from that order, shallowest first, so that a deeper
 * entry overrides its ancestor inside its own subtree. Under every
 * writable root, .git (and the gitdir a .git file points to), .codex and
 * .agents are bound read-only; a missing one gets a placeholder
 * (run_placeholder.h), masked in the sandbox.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

struct run_placeholders;
struct sandbox_plan;

struct run_plan_entry {
	char *path; /* canonical, absolute */
	enum config_fs_access access;
	bool is_dir;
};

/* The resolved entries, sorted by depth then path; one per path. */
struct run_plan_paths {
	struct run_plan_entry *v;
	size_t n;
};

/*
 * Resolve fs against cwd and tmpdir ($TMPDIR, or NULL). Reads the
 * filesystem (realpath, stat). Returns 0 with *ret filled (free with
 * run_plan_paths_done()) or -ENOMEM.
 */
int run_plan_resolve(const struct config_fs_policy *fs, const char *cwd,
    const char *tmpdir, struct run_plan_paths *ret);

void run_plan_paths_done(struct run_plan_paths *p);

/* The access paths grants to path (canonical): the most specific entry
 * containing it, or NONE. */
enum config_fs_access run_plan_access(const struct run_plan_paths *paths,
    const char *path);

/* The entry above paths->v[i] (the most specific strictly containing
 * it), or NULL. Borrowed. */
const struct run_plan_entry *run_plan_parent(const struct run_plan_paths *paths,
    size_t i);

/* path is p or lies beneath it (component-wise). */
bool run_plan_is_under(const char *path, const char *p);

/* ".git", ".codex", ".agents": protected under every writable root. */
extern const char *const run_plan_protected[];

/* "gitdir: <path>" in the .git file dotgit, resolved against root;
 * canonical (caller frees), or NULL. */
char *run_plan_gitdir(const char *root, const char *dotgit);

/* Add the interception CA's directory (read, when interception is on)
 * and none entries for its keys to paths. Returns 0 or -ENOMEM. */
int run_plan_ca(const struct config *cfg, struct run_plan_paths *paths);

/*
 * Add the filesystem part of plan (ops and Landlock rules) for cfg, and
 * its cwd. Unless dry_run, the placeholders for missing protected
 * metadata are taken on the host and appended to placeholders (the
 * caller releases them after the run: run_placeholders_release(); on
 * failure they are released already). Returns 0, -ENOMEM, or -EINVAL
 * with a reason in err.
 */
int run_plan_build(const struct config *cfg, const char *tmpdir, bool dry_run,
    struct sandbox_plan *plan, struct run_placeholders *placeholders, char *err,
    size_t errsz);

/*
 * The --landlock-only variant (run_plan_landlock.c): Landlock rules only,
 * no mounts, nothing created on the host. A none entry inside a readable
 * or writable one cannot be expressed and is refused (-EINVAL with the
 * entry named in err). Read-only paths inside a writable root (the
 * protected metadata, read entries) are carved out by granting write on
 * each other entry of their directories instead of the directory itself.
 * Returns 0, -ENOMEM or -EINVAL.
 */
int run_plan_landlock_build(const struct config *cfg, const char *tmpdir,
    struct sandbox_plan *plan, char *err, size_t errsz);
