/* SPDX-License-Identifier: MIT */
/*
 * The SOCKS5 load generator of bench/bench_socks5.py. Loopback only: the
 * destinations are threads of this process on 127.0.0.1.
 *
 *	socks_load conns SOCKS_PORT SECONDS THREADS
 *	    CONNECTs per second: each thread greets, asks for a CONNECT to
 *	    a local accept-and-close server, waits for the reply and closes.
 *	socks_load bulk SOCKS_PORT|0 MIB
 *	    MB/s of a download through a CONNECT tunnel (0: directly).
 *	socks_load udp SOCKS_PORT SECONDS
 *	    datagrams per second echoed through one UDP association, with a
 *	    window of datagrams in flight.
 *
 * Prints "NAME: VALUE" lines. A client speaks RFC 1928 the way common
 * clients do: greeting, wait, request, wait.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/strparse.h"

#define LOAD_CHUNK       (256u * 1024)
#define LOAD_UDP_PAYLOAD 512
#define LOAD_UDP_WINDOW  32

static double
load_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static _Noreturn void
load_die(const char *what)
{
	(void)fprintf(stderr, "socks_load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t
load_arg(const char *s)
{
	uint64_t v;

	if (strparse_u64_str(s, UINT32_MAX, &v) < 0) {
		(void)fprintf(stderr, "socks_load: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static struct sockaddr_in
load_addr(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
		.sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int
load_listen(int type, uint16_t *ret_port)
{
	struct sockaddr_in a = load_addr(0);
	socklen_t len = sizeof(a);
	int one = 1;
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		load_die("socket");
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 4096) < 0) ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		load_die("listen");
	*ret_port = ntohs(a.sin_port);
	return fd;
}

static int
load_connect(uint16_t port)
{
	struct sockaddr_in a = load_addr(port);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int
load_read_exact(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Greeting, then cmd to 127.0.0.1:port. Returns 0 on a success reply,
 * with the bound port in *ret_bnd when not NULL. */
static int
load_handshake(int fd, uint8_t cmd, uint16_t port, uint16_t *ret_bnd)
{
	uint8_t req[10] = { 5, cmd, 0, 1, 127, 0, 0, 1, (uint8_t)(port >> 8),
		(uint8_t)port };
	uint8_t buf[10];

	if (cmd == 3)
		memset(req + 4, 0, 6); /* we send from anywhere */
	if (write(fd, "\x05\x01\x00", 3) != 3 || load_read_exact(fd, buf, 2) ||
	    buf[1] != 0 || write(fd, req, sizeof(req)) != sizeof(req) ||
	    load_read_exact(fd, buf, 10) || buf[1] != 0 || buf[3] != 1)
		return -1;
	if (ret_bnd)
		*ret_bnd = (uint16_t)(buf[8] << 8 | buf[9]);
	return 0;
}

/*
 * conns
 */
struct load_conns {
	uint16_t socks, dst;
	double until;
	atomic_uint_fast64_t ok, failed;
};

static void *
load_accept_close_main(void *arg)
{
	int lfd = *(int *)arg;

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0)
			(void)close(fd);
	}
	return NULL;
}

static void *
load_conns_main(void *arg)
{
	struct load_conns *c = arg;

	while (load_now() < c->until) {
		int fd = load_connect(c->socks);

		if (fd >= 0 && load_handshake(fd, 1, c->dst, NULL) == 0)
			atomic_fetch_add(&c->ok, 1);
		else
			atomic_fetch_add(&c->failed, 1);
		if (fd >= 0)
			(void)close(fd);
	}
	return NULL;
}

static int
load_conns(uint16_t socks, uint64_t seconds, uint64_t threads)
{
	struct load_conns c = { .socks = socks };
	pthread_t acceptor, *t = calloc(threads, sizeof(*t));
	int lfd = load_listen(SOCK_STREAM, &c.dst);
	double start;

	if (!t ||
	    pthread_create(&acceptor, NULL, load_accept_close_main, &lfd) != 0)
		load_die("threads");
	start = load_now();
	c.until = start + (double)seconds;
	for (uint64_t i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, load_conns_main, &c) != 0)
			load_die("pthread_create");
	for (uint64_t i = 0; i < threads; i++)
		(void)pthread_join(t[i], NULL);
	(void)printf("conns_per_s: %.0f\nconns: %llu\nfailed: %llu\n",
	    (double)atomic_load(&c.ok) / (load_now() - start),
	    (unsigned long long)atomic_load(&c.ok),
	    (unsigned long long)atomic_load(&c.failed));
	free(t);
	return 0;
}

/*
 * bulk
 */
struct load_bulk {
	int lfd;
	uint64_t bytes;
};

static void *
load_bulk_server_main(void *arg)
{
	struct load_bulk *b = arg;
	uint8_t *buf = calloc(1, LOAD_CHUNK);
	int fd = accept4(b->lfd, NULL, NULL, SOCK_CLOEXEC);

	for (uint64_t left = b->bytes; buf && fd >= 0 && left > 0;) {
		ssize_t w = write(fd, buf,
		    left < LOAD_CHUNK ? (size_t)left : LOAD_CHUNK);

		if (w <= 0)
			break;
		left -= (uint64_t)w;
	}
	if (fd >= 0)
		(void)close(fd);
	free(buf);
	return NULL;
}

static int
load_bulk(uint16_t socks, uint64_t mib)
{
	struct load_bulk b = { .bytes = mib << 20 };
	uint8_t *buf = malloc(LOAD_CHUNK);
	uint64_t got = 0;
	uint16_t dst;
	pthread_t server;
	double start;
	int fd;

	b.lfd = load_listen(SOCK_STREAM, &dst);
	if (!buf || pthread_create(&server, NULL, load_bulk_server_main, &b))
		load_die("threads");
	start = load_now();
	fd = load_connect(socks ? socks : dst);
	if (fd < 0 || (socks && load_handshake(fd, 1, dst, NULL) < 0))
		load_die("connect");
	for (;;) {
		ssize_t r = read(fd, buf, LOAD_CHUNK);

		if (r <= 0)
			break;
		got += (uint64_t)r;
	}
	(void)printf("mb_per_s: %.0f\nbytes: %llu\n",
	    (double)got / 1e6 / (load_now() - start), (unsigned long long)got);
	(void)pthread_join(server, NULL);
	(void)close(fd);
	free(buf);
	return got == b.bytes ? 0 : 1;
}

/*
 * udp
 */
static void *
load_udp_echo_main(void *arg)
{
	int fd = *(int *)arg;
	uint8_t buf[2048];

	for (;;) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&peer, &len);

		if (n > 0)
			(void)sendto(fd, buf, (size_t)n, 0,
			    (struct sockaddr *)&peer, len);
	}
	return NULL;
}

static int
load_udp(uint16_t socks, uint64_t seconds)
{
	uint8_t dgram[10 + LOAD_UDP_PAYLOAD] = { 0, 0, 0, 1, 127, 0, 0, 1 };
	uint8_t buf[2048];
	uint16_t echo_port, relay_port;
	struct sockaddr_in relay;
	int efd = load_listen(SOCK_DGRAM, &echo_port);
	int ctl = load_connect(socks);
	int ufd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint64_t sent = 0, echoed = 0, in_flight = 0;
	pthread_t echo;
	double start, until;

	if (ctl < 0 || ufd < 0 || load_handshake(ctl, 3, 0, &relay_port) < 0)
		load_die("UDP ASSOCIATE");
	if (pthread_create(&echo, NULL, load_udp_echo_main, &efd) != 0)
		load_die("pthread_create");
	relay = load_addr(relay_port);
	if (connect(ufd, (struct sockaddr *)&relay, sizeof(relay)) < 0)
		load_die("connect");
	dgram[8] = (uint8_t)(echo_port >> 8);
	dgram[9] = (uint8_t)echo_port;
	start = load_now();
	until = start + (double)seconds;
	while (load_now() < until) {
		struct pollfd p = { .fd = ufd, .events = POLLIN };

		while (in_flight < LOAD_UDP_WINDOW &&
		    send(ufd, dgram, sizeof(dgram), 0) > 0) {
			in_flight++;
			sent++;
		}
		/* A lost datagram must not stall the window for good. */
		if (poll(&p, 1, 20) <= 0) {
			in_flight = 0;
			continue;
		}
		while (recv(ufd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
			echoed++;
			if (in_flight > 0)
				in_flight--;
		}
	}
	(void)printf("dgrams_per_s: %.0f\nsent: %llu\nechoed: %llu\n",
	    (double)echoed / (load_now() - start), (unsigned long long)sent,
	    (unsigned long long)echoed);
	(void)close(ctl);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "conns") == 0)
		return load_conns((uint16_t)load_arg(argv[2]),
		    load_arg(argv[3]), load_arg(argv[4]));
	if (argc == 4 && strcmp(argv[1], "bulk") == 0)
		return load_bulk((uint16_t)load_arg(argv[2]),
		    load_arg(argv[3]));
	if (argc == 4 && strcmp(argv[1], "udp") == 0)
		return load_udp((uint16_t)load_arg(argv[2]), load_arg(argv[3]));
	(void)fprintf(stderr,
	    "usage: socks_load conns PORT SECONDS THREADS | bulk PORT|0 MIB "
	    "| udp PORT SECONDS\n");
	return 2;
}
