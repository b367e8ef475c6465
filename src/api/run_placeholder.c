/* SPDX-License-Identifier: MIT */
/*
 * Shared, locked placeholders: see run_placeholder.h.
 *
 * Invariant: a run holds LOCK_SH on every placeholder it masks, from
 * before its plan is final until the run has ended. Removal happens only
 * under LOCK_EX, so never while another run holds one; a taker that
 * waited on a placeholder being removed sees it unlinked (st_nlink 0)
 * once it gets its lock, and makes a new one.
 *
 * Every step works on the name inside its parent directory, held open,
 * and never follows a symbolic link there: another command writing in
 * the same workspace must not be able to turn a placeholder operation
 * into one on something else.
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
#include <time.h>
#include <unistd.h>

/* Creation and removal by other runs can each make one attempt fail;
 * more than a few in a row means something else is at play. */
#define RUN_PLACEHOLDER_TRIES 8

/* How long a taker waits for the exclusive lock of a removal to go: a
 * removal holds it for a few system calls, so anything longer is a
 * process holding the lock for its own reasons. */
#define RUN_PLACEHOLDER_LOCK_WAIT_MS 2000

bool
run_placeholder_looks(const struct stat *st)
{
	return S_ISDIR(st->st_mode) &&
	    (st->st_mode & 07777) == RUN_PLACEHOLDER_MODE &&
	    st->st_uid == geteuid();
}

/* Empty: nothing but "." and "..". Reads through a duplicate of fd (which
 * shares its offset; fd is never read otherwise). */
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

/* LOCK_SH on fd, waiting at most RUN_PLACEHOLDER_LOCK_WAIT_MS. */
static int
run_placeholder_lock_shared(int fd)
{
	struct timespec pause = { 0, 1000000 }; /* 1 ms, doubling */
	long waited_ms = 0;

	for (;;) {
		if (flock(fd, LOCK_SH | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (waited_ms >= RUN_PLACEHOLDER_LOCK_WAIT_MS)
			return -EWOULDBLOCK;
		(void)nanosleep(&pause, NULL);
		waited_ms += pause.tv_nsec / 1000000;
		if (pause.tv_nsec < 256000000)
			pause.tv_nsec *= 2;
	}
}

static int
run_placeholder_push(struct run_placeholders *list, const char *path,
    int dir_fd, int fd)
{
	struct run_placeholder *v;
	char *copy = strdup(path);

	v = copy ? reallocarray(list->v, list->n + 1, sizeof(*v)) : NULL;
	if (!v) {
		free(copy);
		return -ENOMEM;
	}
	v[list->n++] = (struct run_placeholder){ copy, dir_fd, fd };
	list->v = v;
	return 0;
}

/* The parent of path, held open; *ret_name points into path. */
static int
run_placeholder_parent(const char *path, const char **ret_name)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	size_t n;
	int fd;

	if (!slash || !slash[1])
		return -EINVAL;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_name = slash + 1;
	return fd;
}

int
run_placeholder_take(struct run_placeholders *list, const char *path)
{
	const char *name;
	int dir_fd = run_placeholder_parent(path, &name);

	if (dir_fd < 0)
		return dir_fd;
	for (int i = 0; i < RUN_PLACEHOLDER_TRIES; i++) {
		struct stat st;
		int fd, r;

		/* Owner-read suffices to open it: no need for root's DAC
		 * override, so this works for every user. */
		fd = openat(dir_fd, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {
			if (mkdirat(dir_fd, name, RUN_PLACEHOLDER_MODE) < 0 &&
			    errno != EEXIST) {
				r = -errno;
				(void)close(dir_fd);
				return r;
			}
			continue;
		}
		if (fd < 0) { /* a file, a link, someone else's directory */
			r = errno == ENOTDIR || errno == ELOOP ||
				errno == EACCES ?
			    0 :
			    -errno;
			(void)close(dir_fd);
			return r;
		}
		if (fstat(fd, &st) < 0 || !run_placeholder_looks(&st) ||
		    !run_placeholder_is_empty(fd)) {
			(void)close(fd);
			(void)close(dir_fd);
			return 0;
		}
		r = run_placeholder_lock_shared(fd);
		if (r == 0 && fstat(fd, &st) < 0)
			r = -errno;
		if (r < 0) {
			(void)close(fd);
			(void)close(dir_fd);
			return r;
		}
		if (st.st_nlink == 0) { /* removed meanwhile: make another */
			(void)close(fd);
			continue;
		}
		r = run_placeholder_push(list, path, dir_fd, fd);
		if (r < 0) {
			(void)close(fd);
			(void)close(dir_fd);
			return r;
		}
		return 1;
	}
	(void)close(dir_fd);
	return -EAGAIN;
}

/* Remove p's directory unless another run holds it, or its name no longer
 * names the directory we hold. */
static void
run_placeholder_remove(const struct run_placeholder *p)
{
	const char *name = strrchr(p->path, '/') + 1;
	struct stat held, now;

	if (flock(p->fd, LOCK_EX | LOCK_NB) < 0)
		return; /* still in use: its last user removes it */
	if (fstat(p->fd, &held) == 0 &&
	    fstatat(p->dir_fd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	    held.st_dev == now.st_dev && held.st_ino == now.st_ino)
		(void)unlinkat(p->dir_fd, name, AT_REMOVEDIR);
}

void
run_placeholders_release(struct run_placeholders *list)
{
	for (size_t i = 0; i < list->n; i++) {
		run_placeholder_remove(&list->v[i]);
		(void)close(list->v[i].fd);
		(void)close(list->v[i].dir_fd);
		free(list->v[i].path);
	}
	free(list->v);
	*list = (struct run_placeholders){ NULL, 0 };
}
