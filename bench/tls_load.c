/* SPDX-License-Identifier: MIT */
/*
 * The HTTPS load generator of bench/bench_mitm.py. Loopback only: it
 * connects to 127.0.0.1 alone (the proxy, or the origin directly).
 *
 *	tls_load hs PROXY_PORT|0 ORIGIN_PORT CAFILE SECONDS THREADS
 *	    new TLS handshakes per second: each request opens a connection,
 *	    sends CONNECT 127.0.0.1:ORIGIN_PORT (unless PROXY_PORT is 0),
 *	    makes a full TLS handshake (no session resumption) that verifies
 *	    the certificate for 127.0.0.1 against CAFILE, GETs /small and
 *	    closes.
 *	tls_load ka PROXY_PORT|0 ORIGIN_PORT CAFILE SECONDS THREADS
 *	    kept-alive HTTPS requests per second: every thread opens one
 *	    tunnel and GETs /small on it, one request after another.
 *	tls_load bulk PROXY_PORT|0 ORIGIN_PORT CAFILE
 *	    MB/s of GET /big through one tunnel.
 *
 * Prints "NAME: VALUE" lines, among them "cpu_us" (this process's user and
 * system CPU time) so that the caller can tell whether the load generator
 * was the limit. Any failed request fails the run: a proxy that answers
 * errors quickly must not look fast.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "util/strparse.h"

#define LOAD_BUF     (64u * 1024)
#define LOAD_THREADS 64

struct load_run {
	SSL_CTX *ctx;
	uint16_t proxy_port;
	uint16_t origin_port;
	bool keepalive;
	double deadline;
	atomic_uint_fast64_t done;
	atomic_bool failed;
};

static double
load_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
load_arg(const char *s, uint64_t max)
{
	uint64_t v;

	if (strparse_u64_str(s, max, &v) < 0) {
		(void)fprintf(stderr, "tls_load: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static void
load_fail(struct load_run *r, const char *what)
{
	/* Only the first failure is worth reading. */
	if (!atomic_exchange(&r->failed, true)) {
		(void)fprintf(stderr, "tls_load: %s: %s\n", what,
		    errno ? strerror(errno) : "failed");
		ERR_print_errors_fp(stderr);
	}
}

static int
load_connect(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
		.sin_port = htons(port) };
	int one = 1;
	int fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		(void)close(fd);
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* CONNECT and its answer. Nothing follows the answer until our
 * ClientHello (the server speaks second in TLS), so whatever one read
 * returns is the answer alone. */
static int
load_tunnel(int fd, uint16_t origin_port)
{
	char req[128];
	char head[1024];
	size_t n = 0;
	int len = snprintf(req, sizeof(req),
	    "CONNECT 127.0.0.1:%u HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n",
	    origin_port, origin_port);

	if (write(fd, req, (size_t)len) != len)
		return -1;
	for (;;) {
		ssize_t r = read(fd, head + n, sizeof(head) - 1 - n);

		if (r <= 0)
			return -1;
		n += (size_t)r;
		head[n] = '\0';
		if (strstr(head, "\r\n\r\n"))
			break;
		if (n == sizeof(head) - 1)
			return -1;
	}
	return strncmp(head, "HTTP/1.1 200", 12) == 0 ||
		strncmp(head, "HTTP/1.0 200", 12) == 0 ?
	    0 :
	    -1;
}

static SSL *
load_open(struct load_run *r, int *ret_fd)
{
	int fd = load_connect(r->proxy_port ? r->proxy_port : r->origin_port);
	SSL *ssl;

	if (fd < 0) {
		load_fail(r, "connect");
		return NULL;
	}
	if (r->proxy_port && load_tunnel(fd, r->origin_port) < 0) {
		load_fail(r, "CONNECT");
		(void)close(fd);
		return NULL;
	}
	ssl = SSL_new(r->ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1 ||
	    SSL_set1_host(ssl, "127.0.0.1") != 1 || SSL_connect(ssl) != 1) {
		load_fail(r, "TLS handshake");
		SSL_free(ssl);
		(void)close(fd);
		return NULL;
	}
	*ret_fd = fd;
	return ssl;
}

/*
 * One GET; reads the whole answer (Content-Length framing, as nginx sends
 * for static files) and returns the body's size, or -1. The request never
 * asks for "Connection: close": a client that is done closes after the
 * answer, as browsers and HTTP libraries do, so every proxy closes on the
 * client's EOF.
 */
static int64_t
load_get(SSL *ssl, const char *path, uint16_t port, uint8_t *buf)
{
	char req[160];
	int len = snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", path, port);
	size_t have = 0;
	char *end = NULL;
	const char *cl;
	uint64_t body;
	size_t head;

	if (SSL_write(ssl, req, len) != len)
		return -1;
	while (!end) {
		int n;

		if (have == LOAD_BUF - 1)
			return -1;
		n = SSL_read(ssl, buf + have, (int)(LOAD_BUF - 1 - have));
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr((char *)buf, "\r\n\r\n");
	}
	head = (size_t)(end + 4 - (char *)buf);
	if (strncmp((char *)buf, "HTTP/1.1 200", 12) != 0)
		return -1;
	cl = strcasestr((char *)buf, "\r\ncontent-length:");
	if (!cl || cl > end)
		return -1;
	cl += strlen("\r\ncontent-length:");
	while (*cl == ' ')
		cl++;
	if (strparse_u64(cl, strspn(cl, "0123456789"), UINT64_MAX, &body) < 0)
		return -1;
	for (uint64_t got = have - head; got < body;) {
		int n = SSL_read(ssl, buf, LOAD_BUF);

		if (n <= 0)
			return -1;
		got += (uint64_t)n;
	}
	return (int64_t)body;
}

static void
load_close(SSL *ssl, int fd)
{
	/* A client that got its whole answer just closes; no close_notify
	 * round trip is waited for. */
	SSL_free(ssl);
	(void)close(fd);
}

static void *
load_thread(void *arg)
{
	struct load_run *r = arg;
	uint8_t *buf = malloc(LOAD_BUF);
	SSL *ssl = NULL;
	int fd = -1;

	if (!buf) {
		load_fail(r, "malloc");
		return NULL;
	}
	while (!atomic_load(&r->failed) && load_now() < r->deadline) {
		if (!ssl) {
			ssl = load_open(r, &fd);
			if (!ssl)
				break;
		}
		if (load_get(ssl, "/small", r->origin_port, buf) < 0) {
			load_fail(r, "GET");
			break;
		}
		atomic_fetch_add(&r->done, 1);
		if (!r->keepalive) {
			load_close(ssl, fd);
			ssl = NULL;
		}
	}
	if (ssl)
		load_close(ssl, fd);
	free(buf);
	return NULL;
}

static double
load_cpu_us(void)
{
	struct rusage ru;

	(void)getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static int
load_rate(struct load_run *r, double seconds, unsigned threads)
{
	pthread_t tid[LOAD_THREADS];
	double start = load_now();

	r->deadline = start + seconds;
	for (unsigned i = 0; i < threads; i++)
		if (pthread_create(&tid[i], NULL, load_thread, r) != 0) {
			(void)fprintf(stderr, "tls_load: pthread_create\n");
			exit(1);
		}
	for (unsigned i = 0; i < threads; i++)
		(void)pthread_join(tid[i], NULL);
	if (atomic_load(&r->failed))
		return 1;
	(void)printf("requests: %lu\nrate: %.1f\ncpu_us: %.0f\n",
	    (unsigned long)atomic_load(&r->done),
	    (double)atomic_load(&r->done) / (load_now() - start),
	    load_cpu_us());
	return 0;
}

static int
load_bulk(struct load_run *r)
{
	uint8_t *buf = malloc(LOAD_BUF);
	int fd = -1;
	SSL *ssl;
	double start;
	int64_t n;

	if (!buf)
		return 1;
	start = load_now();
	ssl = load_open(r, &fd);
	n = ssl ? load_get(ssl, "/big", r->origin_port, buf) : -1;
	if (ssl)
		load_close(ssl, fd);
	free(buf);
	if (n < 0) {
		load_fail(r, "GET /big");
		return 1;
	}
	(void)printf("bytes: %ld\nrate: %.1f\ncpu_us: %.0f\n", (long)n,
	    (double)n / (load_now() - start) / 1e6, load_cpu_us());
	return 0;
}

int
main(int argc, char **argv)
{
	struct load_run r = { 0 };
	bool bulk = argc == 5 && strcmp(argv[1], "bulk") == 0;
	int rc;

	if (!bulk &&
	    (argc != 7 ||
		(strcmp(argv[1], "hs") != 0 && strcmp(argv[1], "ka") != 0))) {
		(void)fprintf(stderr,
		    "usage: tls_load hs|ka PROXY_PORT|0 ORIGIN_PORT CAFILE "
		    "SECONDS THREADS\n"
		    "       tls_load bulk PROXY_PORT|0 ORIGIN_PORT CAFILE\n");
		return 2;
	}
	r.proxy_port = (uint16_t)load_arg(argv[2], UINT16_MAX);
	r.origin_port = (uint16_t)load_arg(argv[3], UINT16_MAX);
	r.keepalive = strcmp(argv[1], "ka") == 0;
	r.ctx = SSL_CTX_new(TLS_client_method());
	if (!r.ctx ||
	    SSL_CTX_load_verify_locations(r.ctx, argv[4], NULL) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	SSL_CTX_set_verify(r.ctx, SSL_VERIFY_PEER, NULL);
	/* Every handshake a full one: no session cache, no tickets. */
	SSL_CTX_set_session_cache_mode(r.ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(r.ctx, SSL_OP_NO_TICKET);
	if (bulk)
		rc = load_bulk(&r);
	else
		rc = load_rate(&r, (double)load_arg(argv[5], 3600),
		    (unsigned)load_arg(argv[6], LOAD_THREADS));
	SSL_CTX_free(r.ctx);
	return rc;
}
