/* SPDX-License-Identifier: MIT */
/*
 * The relay socket set: a small array under one lock. Every slot knows
 * where its socket is bound; "freed" orders the free ones by when they
 * were given back.
 */
#include "proxy/udprelay.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/limits.h"

struct udprelay_slot {
	int fd;
	struct sockaddr_storage bound;
	bool taken;
	uint64_t freed; /* when it was given back (a counter) */
};

struct udprelay {
	pthread_mutex_t lock;
	uint64_t clock;
	size_t n;
	struct udprelay_slot slots[];
};

static bool
udprelay_same_ip(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)(const void *)b)
			->sin_addr.s_addr;
	if (b->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			   &((const struct sockaddr_in6 *)(const void *)b)
				->sin6_addr,
			   16) == 0;
	return false;
}

struct udprelay *
udprelay_new(const int *fds, size_t n)
{
	struct udprelay *r;

	r = calloc(1, sizeof(*r) + n * sizeof(r->slots[0]));
	if (!r)
		return NULL;
	if (pthread_mutex_init(&r->lock, NULL) != 0) {
		free(r);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct udprelay_slot *s = &r->slots[i];
		socklen_t len = sizeof(s->bound);

		s->fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		if (s->fd < 0)
			return udprelay_free(r);
		r->n++;
		if (getsockname(s->fd, (struct sockaddr *)&s->bound, &len) <
			0 ||
		    fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK) <
			0)
			return udprelay_free(r);
	}
	return r;
}

struct udprelay *
udprelay_free(struct udprelay *r)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		(void)close(r->slots[i].fd);
	(void)pthread_mutex_destroy(&r->lock);
	free(r);
	return NULL;
}

int
udprelay_take(struct udprelay *r, const struct sockaddr *local)
{
	struct udprelay_slot *pick = NULL;
	bool any = false;

	(void)pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n; i++) {
		struct udprelay_slot *s = &r->slots[i];

		if (!udprelay_same_ip(&s->bound, local))
			continue;
		any = true;
		if (!s->taken && (!pick || s->freed < pick->freed))
			pick = s;
	}
	if (pick)
		pick->taken = true;
	(void)pthread_mutex_unlock(&r->lock);
	if (!pick)
		return any ? -EAGAIN : -EADDRNOTAVAIL;
	return pick->fd;
}

void
udprelay_give(struct udprelay *r, int fd)
{
	uint8_t buf[1];

	/* What the last association's client still sent is not the next
	 * one's. (The socket is non-blocking; MSG_TRUNC discards.) */
	for (int i = 0; i < LIMIT_SOCKS5_UDP_RELAYS * 64; i++)
		if (recv(fd, buf, sizeof(buf), MSG_TRUNC | MSG_DONTWAIT) < 0)
			break;
	(void)pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n; i++)
		if (r->slots[i].fd == fd) {
			r->slots[i].taken = false;
			r->slots[i].freed = ++r->clock;
		}
	(void)pthread_mutex_unlock(&r->lock);
}
