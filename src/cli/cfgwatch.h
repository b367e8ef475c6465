/* SPDX-License-Identifier: MIT */
/*
 * Watching the config files for `paddock proxy`: inotify on the
 * directories that hold them (editors replace a file by renaming another
 * over it, which a watch on the file itself would miss), filtered to the
 * files' names, debounced, on the caller's event loop.
 *
 * A file whose directory does not exist yet is watched through its
 * nearest existing ancestor, for the name of the next directory on the
 * way; once that appears the watch moves down. A symbolic link is also
 * followed to the file it names: writing it, or renaming another file
 * over it (its link count changes), counts too.
 *
 * After a change, once none came for LIMIT_CONFIG_WATCH_SETTLE_MS (and at
 * the latest LIMIT_CONFIG_WATCH_MAX_MS after the first), the watches are
 * renewed and the callback runs, on the loop's thread. Whatever changed
 * before the watches were renewed is in the files the callback reads, and
 * whatever changes after is seen again.
 */
#pragma once

#include <stddef.h>

struct event_base;
struct cfgwatch;

/* path: the first file seen changing (for the log), or NULL when the
 * kernel lost track (its event queue overflowed). */
typedef void (*cfgwatch_fn)(const char *path, void *userdata);

/* A watcher with no files, calling fn on base's thread. Returns NULL and
 * sets *reterr (a negative errno) on failure. */
struct cfgwatch *cfgwatch_new(struct event_base *base, cfgwatch_fn fn,
    void *userdata, int *reterr);

/* Watch these files (absolute paths; copied) instead of the previous
 * ones. Any thread (the callback's own included). A directory that cannot be
 * watched (permissions, the inotify limit) is logged once per call and left
 * out. Returns 0 or -ENOMEM. */
int cfgwatch_set(struct cfgwatch *w, char *const *files, size_t n);

/* Accepts NULL; returns NULL. */
struct cfgwatch *cfgwatch_free(struct cfgwatch *w);
