/* SPDX-License-Identifier: MIT */
/* The access-log writer thread. */
#include "audit/accesslog.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/limits.h"
#include "util/log.h"

struct accesslog_line {
	struct accesslog_line *next;
	char *text;
};

struct accesslog {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct accesslog_line *head, *tail;
	unsigned len;
	bool quit;
	atomic_uint_fast64_t dropped;
};

void
accesslog_push(struct accesslog *l, char *line)
{
	struct accesslog_line *it;

	if (!l || log_get_level() < LOG_LEVEL_INFO) {
		free(line);
		return;
	}
	it = malloc(sizeof(*it));
	if (!it) {
		free(line);
		atomic_fetch_add(&l->dropped, 1);
		return;
	}
	*it = (struct accesslog_line){ .text = line };
	(void)pthread_mutex_lock(&l->lock);
	if (l->len >= LIMIT_ACCESSLOG_QUEUE) {
		(void)pthread_mutex_unlock(&l->lock);
		atomic_fetch_add(&l->dropped, 1);
		free(it->text);
		free(it);
		return;
	}
	if (l->tail)
		l->tail->next = it;
	else
		l->head = it;
	l->tail = it;
	l->len++;
	(void)pthread_cond_signal(&l->cond);
	(void)pthread_mutex_unlock(&l->lock);
}

static void *
accesslog_main(void *arg)
{
	struct accesslog *l = arg;

	(void)pthread_setname_np(pthread_self(), "paddock-access");
	(void)pthread_mutex_lock(&l->lock);
	for (;;) {
		struct accesslog_line *batch;
		uint_fast64_t dropped;

		while (!l->head && !l->quit)
			(void)pthread_cond_wait(&l->cond, &l->lock);
		batch = l->head;
		l->head = l->tail = NULL;
		l->len = 0;
		if (!batch && l->quit)
			break;
		(void)pthread_mutex_unlock(&l->lock);
		while (batch) {
			struct accesslog_line *next = batch->next;

			log_info("access %s", batch->text);
			free(batch->text);
			free(batch);
			batch = next;
		}
		dropped = atomic_exchange(&l->dropped, 0);
		if (dropped)
			log_warn("the access log fell behind: %" PRIuFAST64
				 " lines dropped",
			    dropped);
		(void)pthread_mutex_lock(&l->lock);
	}
	(void)pthread_mutex_unlock(&l->lock);
	return NULL;
}

struct accesslog *
accesslog_new(void)
{
	struct accesslog *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	atomic_init(&l->dropped, 0);
	(void)pthread_mutex_init(&l->lock, NULL);
	(void)pthread_cond_init(&l->cond, NULL);
	if (pthread_create(&l->thread, NULL, accesslog_main, l) != 0) {
		(void)pthread_cond_destroy(&l->cond);
		(void)pthread_mutex_destroy(&l->lock);
		free(l);
		return NULL;
	}
	return l;
}

struct accesslog *
accesslog_free(struct accesslog *l)
{
	if (!l)
		return NULL;
	(void)pthread_mutex_lock(&l->lock);
	l->quit = true;
	(void)pthread_cond_signal(&l->cond);
	(void)pthread_mutex_unlock(&l->lock);
	(void)pthread_join(l->thread, NULL);
	(void)pthread_cond_destroy(&l->cond);
	(void)pthread_mutex_destroy(&l->lock);
	free(l);
	return NULL;
}
