/* SPDX-License-Identifier: MIT */
/* Watching the config files; see cfgwatch.h. */
#include "cli/cfgwatch.h"

#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "util/limits.h"
#include "util/log.h"
#include "util/strutil.h"

/* A directory: its entries coming, going, being written or renamed, and
 * the directory itself going away. */
#define CFGWATCH_DIR_MASK                                                 \
	(IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE | \
	    IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | \
	    IN_ONLYDIR)
/* The file a symbolic link names. */
#define CFGWATCH_FILE_MASK \
	(IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

/* One inotify watch: a directory and the names in it that matter, or the
 * target of a link, where every event matters. */
struct cfgwatch_entry {
	int wd;
	bool any;
	char *dir;    /* for the log */
	char **names; /* a layer file, or the next directory towards one */
	size_t n_names;
};

struct cfgwatch {
	/* Guards files and entries: cfgwatch_set() may come from another
	 * thread than the loop's (a reload asked for elsewhere). */
	pthread_mutex_t lock;
	int fd;
	struct event *ev_read;
	struct event *ev_timer;
	cfgwatch_fn fn;
	void *userdata;
	char **files;
	size_t n_files;
	struct cfgwatch_entry *entries;
	size_t n_entries;
	bool pending;
	uint64_t first_ms;   /* when the first pending change was seen */
	char what[PATH_MAX]; /* the first file seen changing, or "" */
};

static uint64_t
cfgwatch_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
cfgwatch_entries_free(struct cfgwatch_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < v[i].n_names; j++)
			free(v[i].names[j]);
		free(v[i].names);
		free(v[i].dir);
	}
	free(v);
}

static struct cfgwatch_entry *
cfgwatch_entry_find(struct cfgwatch_entry *v, size_t n, int wd)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].wd == wd)
			return &v[i];
	return NULL;
}

/* Record that wd (on dir) matters for name, or for everything when name
 * is NULL. Returns 0 or -ENOMEM. */
static int
cfgwatch_entry_add(struct cfgwatch_entry **v, size_t *n, int wd,
    const char *dir, const char *name)
{
	struct cfgwatch_entry *e = cfgwatch_entry_find(*v, *n, wd);
	char **names;

	if (!e) {
		struct cfgwatch_entry *nv =
		    reallocarray(*v, *n + 1, sizeof(**v));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		e = &nv[*n];
		*e = (struct cfgwatch_entry){ .wd = wd, .dir = strdup(dir) };
		if (!e->dir)
			return -ENOMEM;
		(*n)++;
	}
	if (!name) {
		e->any = true;
		return 0;
	}
	for (size_t i = 0; i < e->n_names; i++)
		if (streq(e->names[i], name))
			return 0;
	names = reallocarray(e->names, e->n_names + 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	e->names = names;
	names[e->n_names] = strdup(name);
	if (!names[e->n_names])
		return -ENOMEM;
	e->n_names++;
	return 0;
}

/* Watch the directory of file, or its nearest existing ancestor. */
static int
cfgwatch_arm_file(struct cfgwatch *w, const char *file,
    struct cfgwatch_entry **v, size_t *n)
{
	char *dir = strdup(file);
	struct stat st;
	int r = 0;

	if (!dir)
		return -ENOMEM;
	for (;;) {
		char *slash = strrchr(dir, '/');
		const char *name;
		int wd;

		if (!slash || slash[1] == '\0')
			break; /* not an absolute path of a file */
		*slash = '\0';
		name = slash + 1;
		wd = inotify_add_watch(w->fd, dir[0] ? dir : "/",
		    CFGWATCH_DIR_MASK);
		if (wd >= 0) {
			r = cfgwatch_entry_add(v, n, wd, dir[0] ? dir : "/",
			    name);
			break;
		}
		if (errno != ENOENT && errno != ENOTDIR) {
			log_warn_errno(errno,
			    "cannot watch %s for changes to %s; edit it and "
			    "send SIGHUP",
			    dir[0] ? dir : "/", file);
			break;
		}
		if (!dir[0])
			break;
	}
	free(dir);
	if (r >= 0 && lstat(file, &st) == 0 && S_ISLNK(st.st_mode)) {
		int wd = inotify_add_watch(w->fd, file, CFGWATCH_FILE_MASK);

		if (wd >= 0)
			r = cfgwatch_entry_add(v, n, wd, file, NULL);
	}
	return r;
}

/* Watch every file's directory anew and drop the watches no longer
 * needed. A directory watched already keeps its watch (inotify hands
 * back the same descriptor), so no change falls between two watches. */
static int
cfgwatch_arm(struct cfgwatch *w)
{
	struct cfgwatch_entry *v = NULL;
	size_t n = 0;
	int r = 0;

	for (size_t i = 0; r >= 0 && i < w->n_files; i++)
		r = cfgwatch_arm_file(w, w->files[i], &v, &n);
	if (r < 0) {
		/* Keep the old entries; those just added stay watched. */
		cfgwatch_entries_free(v, n);
		return r;
	}
	for (size_t i = 0; i < w->n_entries; i++)
		if (!cfgwatch_entry_find(v, n, w->entries[i].wd))
			(void)inotify_rm_watch(w->fd, w->entries[i].wd);
	cfgwatch_entries_free(w->entries, w->n_entries);
	w->entries = v;
	w->n_entries = n;
	return 0;
}

static void
cfgwatch_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cfgwatch *w = arg;
	char changed[PATH_MAX];
	int r;

	(void)fd;
	(void)what;
	w->pending = false;
	(void)strlcpy(changed, w->what, sizeof(changed));
	w->what[0] = '\0';
	(void)pthread_mutex_lock(&w->lock);
	r = cfgwatch_arm(w);
	(void)pthread_mutex_unlock(&w->lock);
	if (r < 0)
		log_warn("out of memory renewing the config file watches");
	w->fn(changed[0] ? changed : NULL, w->userdata);
}

/* A change: (re)start the settle timer, but never past the maximum
 * delay after the first change. */
static void
cfgwatch_schedule(struct cfgwatch *w, const struct cfgwatch_entry *e,
    const char *name)
{
	uint64_t now = cfgwatch_now_ms(), delay = LIMIT_CONFIG_WATCH_SETTLE_MS;
	struct timeval tv;

	if (!w->pending) {
		w->pending = true;
		w->first_ms = now;
		if (e)
			(void)snprintf(w->what, sizeof(w->what), "%s%s%s",
			    e->dir, name && !streq(e->dir, "/") ? "/" : "",
			    name ? name : "");
	}
	if (now + delay > w->first_ms + LIMIT_CONFIG_WATCH_MAX_MS)
		delay = w->first_ms + LIMIT_CONFIG_WATCH_MAX_MS > now ?
		    w->first_ms + LIMIT_CONFIG_WATCH_MAX_MS - now :
		    0;
	tv.tv_sec = (time_t)(delay / 1000);
	tv.tv_usec = (suseconds_t)(delay % 1000) * 1000;
	(void)evtimer_add(w->ev_timer, &tv);
}

/* Does this event change a file we watch? */
static bool
cfgwatch_event_matters(const struct cfgwatch_entry *e,
    const struct inotify_event *ev)
{
	if (e->any)
		return true;
	/* The directory itself went away: watch again, higher up. */
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
		return true;
	if (ev->len == 0)
		return false;
	for (size_t i = 0; i < e->n_names; i++)
		if (streq(e->names[i], ev->name))
			return true;
	return false;
}

static void
cfgwatch_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cfgwatch *w = arg;
	alignas(struct inotify_event) char buf[4096];

	(void)what;
	(void)pthread_mutex_lock(&w->lock);
	for (;;) {
		ssize_t len = read(fd, buf, sizeof(buf));

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			break; /* EAGAIN: all read */
		for (ssize_t off = 0; off < len;) {
			const struct inotify_event *ev =
			    (const struct inotify_event *)(buf + off);
			const struct cfgwatch_entry *e;

			off += (ssize_t)(sizeof(*ev) + ev->len);
			if (ev->mask & IN_Q_OVERFLOW) {
				cfgwatch_schedule(w, NULL, NULL);
				continue;
			}
			/* Not found: a watch given up, its last words. */
			e = cfgwatch_entry_find(w->entries, w->n_entries,
			    ev->wd);
			if (e && cfgwatch_event_matters(e, ev))
				cfgwatch_schedule(w, e,
				    ev->len && !e->any ? ev->name : NULL);
		}
	}
	(void)pthread_mutex_unlock(&w->lock);
}

struct cfgwatch *
cfgwatch_new(struct event_base *base, cfgwatch_fn fn, void *userdata,
    int *reterr)
{
	struct cfgwatch *w = calloc(1, sizeof(*w));
	int r = -ENOMEM;

	if (!w)
		goto fail;
	(void)pthread_mutex_init(&w->lock, NULL);
	w->fn = fn;
	w->userdata = userdata;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		r = -errno;
		goto fail;
	}
	w->ev_read =
	    event_new(base, w->fd, EV_READ | EV_PERSIST, cfgwatch_read_cb, w);
	w->ev_timer = evtimer_new(base, cfgwatch_timer_cb, w);
	if (!w->ev_read || !w->ev_timer || event_add(w->ev_read, NULL) < 0)
		goto fail;
	return w;
fail:
	*reterr = r;
	(void)cfgwatch_free(w);
	return NULL;
}

int
cfgwatch_set(struct cfgwatch *w, char *const *files, size_t n)
{
	char **v = calloc(n ? n : 1, sizeof(*v));
	int r;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i] = strdup(files[i]);
		if (!v[i]) {
			for (size_t j = 0; j < i; j++)
				free(v[j]);
			free(v);
			return -ENOMEM;
		}
	}
	(void)pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < w->n_files; i++)
		free(w->files[i]);
	free(w->files);
	w->files = v;
	w->n_files = n;
	r = cfgwatch_arm(w);
	(void)pthread_mutex_unlock(&w->lock);
	return r;
}

struct cfgwatch *
cfgwatch_free(struct cfgwatch *w)
{
	if (!w)
		return NULL;
	if (w->ev_read)
		event_free(w->ev_read);
	if (w->ev_timer)
		event_free(w->ev_timer);
	if (w->fd >= 0)
		(void)close(w->fd);
	cfgwatch_entries_free(w->entries, w->n_entries);
	for (size_t i = 0; i < w->n_files; i++)
		free(w->files[i]);
	free(w->files);
	(void)pthread_mutex_destroy(&w->lock);
	free(w);
	return NULL;
}
