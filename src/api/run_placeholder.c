/* SPDX-License-Identifier: MIT */
/*
 * Shared, locked placeholders: see run_placeholder.h.
 *
 * Invariant: a run holds LOCK_SH on every placeholder it masks, from
 * before its plan is final until the run has ended. Removal happens only
 * under LOCK_EX, so never while another run holds one; a taker that
 * waited on a placeholder being removed sees it unlinked (st_nlink 0)
 * once it gets its lock, and makes a new one.
 */
#include "api/run_placeholder.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Creation and removal by other runs can each make one attempt fail;
 * more than a few in a row means something else is at play. */
#define RUN_PLACEHOLDER_TRIES 8

bool
run_placeholder_looks(const struct stat *st)
{
	return S_ISDIR(st->st_mode) &&
	    (st->st_mode & 07777) == RUN_PLACEHOLDER_MODE &&
	    st->st_uid == geteuid();
}

/* Empty: nothing but "." and "..". Reads through a duplicate, so fd keeps
 * its lock and position. */
static bool
run_placeholder_is_empty(int fd)
{
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	struct dirent *e;
	bool empty = true;
	DIR *d;

	if (dup_fd < 0)
		return false;
	d = fdopendir(dup_fd);
	if (!d) {
		(void)close(dup_fd);
		return false;
	}
	while (empty && (e = readdir(d)))
		empty =
		    strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	(void)closedir(d);
	return empty;
}

static int
run_placeholder_push(struct run_placeholders *list, const char *path, int fd)
{
	struct run_placeholder *v;
	char *copy = strdup(path);

	v = copy ? realloc(list->v, (list->n + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(copy);
		return -ENOMEM;
	}
	v[list->n++] = (struct run_placeholder){ copy, fd };
	list->v = v;
	return 0;
}

int
run_placeholder_take(struct run_placeholders *list, const char *path)
{
	for (int i = 0; i < RUN_PLACEHOLDER_TRIES; i++) {
		struct stat st;
		int fd, r;

		/* Owner-read suffices to open it: root's DAC override is not
		 * needed, so this works for every user. */
		fd =
		    open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {
			if (mkdir(path, RUN_PLACEHOLDER_MODE) < 0 &&
			    errno != EEXIST)
				return -errno;
			/* The umask may have taken bits we need. */
			if (chmod(path, RUN_PLACEHOLDER_MODE) < 0 &&
			    errno != ENOENT)
				return -errno;
			continue;
		}
		if (fd < 0) /* a file, a link, someone else's directory */
			return errno == ENOTDIR || errno == ELOOP ||
				errno == EACCES ?
			    0 :
			    -errno;
		if (fstat(fd, &st) < 0 || !run_placeholder_looks(&st) ||
		    !run_placeholder_is_empty(fd)) {
			(void)close(fd);
			return 0;
		}
		/* Waits only while another run removes it. */
		while ((r = flock(fd, LOCK_SH)) < 0 && errno == EINTR)
			;
		if (r < 0 || fstat(fd, &st) < 0) {
			r = -errno;
			(void)close(fd);
			return r;
		}
		if (st.st_nlink == 0) { /* removed meanwhile: make another */
			(void)close(fd);
			continue;
		}
		r = run_placeholder_push(list, path, fd);
		if (r < 0) {
			(void)close(fd);
			return r;
		}
		return 1;
	}
	return -EAGAIN;
}

/* Remove p's directory unless another run holds it, or it is no longer
 * the directory we hold. */
static void
run_placeholder_remove(const struct run_placeholder *p)
{
	struct stat held, now;

	if (flock(p->fd, LOCK_EX | LOCK_NB) < 0)
		return; /* still in use: its last user removes it */
	if (fstat(p->fd, &held) == 0 && lstat(p->path, &now) == 0 &&
	    held.st_dev == now.st_dev && held.st_ino == now.st_ino)
		(void)rmdir(p->path);
}

void
run_placeholders_release(struct run_placeholders *list)
{
	for (size_t i = 0; i < list->n; i++) {
		run_placeholder_remove(&list->v[i]);
		(void)close(list->v[i].fd);
		free(list->v[i].path);
	}
	free(list->v);
	*list = (struct run_placeholders){ NULL, 0 };
}
