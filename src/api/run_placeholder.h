/* SPDX-License-Identifier: MIT */
/*
 * Placeholders for missing protected metadata (.git, .codex, .agents
 * under a writable root): an empty directory on the host, masked in the
 * sandbox, so that the command can neither create the name nor write
 * into it.
 *
 * Several runs may share a workspace, so a placeholder belongs to every
 * run using it: each holds a shared flock() on it for the whole run, and
 * the one that finishes last (the one that gets the exclusive lock)
 * removes it. Removing it under a run still using it would detach that
 * run's mount and let its command create the name after all. A
 * placeholder left by a killed run is adopted by the next run there and
 * removed when that one ends.
 *
 * A placeholder is recognised by its mode, 01400 (sticky, owner-read
 * only), its owner (the caller's effective uid) and its emptiness; any
 * other directory is the user's and is only ever bound read-only.
 *
 * The locks order paddock runs among themselves. They do not bind other
 * processes: a command that its own profile lets write where another
 * run's metadata lives (a run of /work beside a run of /work/sub) can
 * change that metadata whatever the other run masks, placeholder or not.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <sys/stat.h>

#define RUN_PLACEHOLDER_MODE 01400

struct run_placeholder {
	char *path;
	int dir_fd; /* its parent, O_PATH */
	int fd;     /* the directory; holds the shared lock */
};

struct run_placeholders {
	struct run_placeholder *v;
	size_t n;
};

/* True when st (of an lstat()) looks like a placeholder of ours. */
bool run_placeholder_looks(const struct stat *st);

/*
 * Make path (absolute) a placeholder held by this run: create it when
 * missing, or adopt the one there. Returns 1 when taken (appended to
 * list), 0 when path is something else (the caller binds it read-only),
 * or a negative errno: -EWOULDBLOCK when another process has held it
 * locked for seconds.
 */
int run_placeholder_take(struct run_placeholders *list, const char *path);

/* Let go of every placeholder in list, removing those no other run holds,
 * and empty it. */
void run_placeholders_release(struct run_placeholders *list);
