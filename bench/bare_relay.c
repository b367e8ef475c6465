/* SPDX-License-Identifier: MIT */
/*
 * bare_relay: the ceiling for the intercepted bulk figure of
 * bench_mitm.py. A TLS-terminating CONNECT relay with nothing but OpenSSL
 * and plain system calls: no policy, no HTTP parsing, no event library.
 *
 *	bare_relay CERT KEY CAFILE
 *
 * Prints "bare_relay: listening PORT" (127.0.0.1, a port of its own) and
 * serves until killed. Per connection, one thread: the CONNECT head (to
 * 127.0.0.1 only, loopback is all a benchmark may reach), 200, TLS with
 * the client (CERT and KEY: the benchmark gives the origin's own leaf,
 * which the client trusts), TLS to the origin verified against CAFILE,
 * then records both ways: SSL_read() into a 16 KiB buffer, SSL_write() of
 * what it returned, so every record leaves whole. Read-ahead is on (one
 * read(2) takes several records; SSL_has_pending() keeps buffered ones
 * from waiting for poll(2)). One thread serves both directions of a
 * tunnel because an SSL object must not be read and written from two
 * threads at once.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "util/strparse.h"

#define BARE_BUF      (16u * 1024)
#define BARE_READ_BUF (64u * 1024)
#define BARE_HEAD_MAX 1024

static SSL_CTX *bare_server_ctx;
static SSL_CTX *bare_client_ctx;

struct bare_side {
	SSL *ssl;
	int fd;
};

static void
bare_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* The CONNECT head; returns the origin port on 127.0.0.1, or 0. */
static uint16_t
bare_connect_head(int fd)
{
	static const char prefix[] = "CONNECT 127.0.0.1:";
	char head[BARE_HEAD_MAX];
	size_t n = 0;
	uint64_t port;

	for (;;) {
		ssize_t r = read(fd, head + n, sizeof(head) - 1 - n);

		if (r <= 0)
			return 0;
		n += (size_t)r;
		head[n] = '\0';
		if (strstr(head, "\r\n\r\n"))
			break;
		if (n == sizeof(head) - 1)
			return 0;
	}
	if (strncmp(head, prefix, strlen(prefix)) != 0)
		return 0;
	if (strparse_u64(head + strlen(prefix),
		strspn(head + strlen(prefix), "0123456789"), UINT16_MAX,
		&port) < 0)
		return 0;
	return (uint16_t)port;
}

static int
bare_dial(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
		.sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		(void)close(fd);
		return -1;
	}
	bare_nodelay(fd);
	return fd;
}

static void
bare_wait(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	(void)poll(&p, 1, -1);
}

/* Write all n bytes of p as records to side d (non-blocking socket). */
static int
bare_write_all(struct bare_side *d, const uint8_t *p, int n)
{
	while (n > 0) {
		int w = SSL_write(d->ssl, p, n);
		int e;

		if (w > 0) {
			p += w;
			n -= w;
			continue;
		}
		e = SSL_get_error(d->ssl, w);
		if (e == SSL_ERROR_WANT_WRITE)
			bare_wait(d->fd, POLLOUT);
		else if (e == SSL_ERROR_WANT_READ)
			bare_wait(d->fd, POLLIN);
		else
			return -1;
	}
	return 0;
}

/* One read from src, written to dst. Returns 1 when bytes moved, 0 when
 * src has nothing now, -1 at its end or on an error. */
static int
bare_move(struct bare_side *src, struct bare_side *dst, uint8_t *buf)
{
	int n = SSL_read(src->ssl, buf, BARE_BUF);
	int e;

	if (n > 0)
		return bare_write_all(dst, buf, n) < 0 ? -1 : 1;
	e = SSL_get_error(src->ssl, n);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	return -1;
}

static void
bare_relay(struct bare_side *a, struct bare_side *b, uint8_t *buf)
{
	struct bare_side *side[2] = { a, b };

	(void)fcntl(a->fd, F_SETFL, fcntl(a->fd, F_GETFL) | O_NONBLOCK);
	(void)fcntl(b->fd, F_SETFL, fcntl(b->fd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct pollfd p[2] = { { .fd = a->fd, .events = POLLIN },
			{ .fd = b->fd, .events = POLLIN } };
		bool buffered =
		    SSL_has_pending(a->ssl) || SSL_has_pending(b->ssl);

		if (!buffered && poll(p, 2, -1) < 0 && errno != EINTR)
			return;
		for (int i = 0; i < 2; i++) {
			if (!buffered && !p[i].revents)
				continue;
			if (buffered && !SSL_has_pending(side[i]->ssl))
				continue;
			if (bare_move(side[i], side[1 - i], buf) < 0)
				return;
		}
	}
}

static void *
bare_tunnel(void *arg)
{
	struct bare_side c = { .fd = (int)(intptr_t)arg, .ssl = NULL };
	struct bare_side o = { .fd = -1, .ssl = NULL };
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	uint8_t *buf = malloc(BARE_BUF);
	uint16_t port = bare_connect_head(c.fd);

	if (!buf || !port)
		goto done;
	o.fd = bare_dial(port);
	if (o.fd < 0 || write(c.fd, ok, sizeof(ok) - 1) != sizeof(ok) - 1)
		goto done;
	c.ssl = SSL_new(bare_server_ctx);
	if (!c.ssl || SSL_set_fd(c.ssl, c.fd) != 1 || SSL_accept(c.ssl) != 1)
		goto done;
	o.ssl = SSL_new(bare_client_ctx);
	if (!o.ssl || SSL_set_fd(o.ssl, o.fd) != 1 ||
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(o.ssl), "127.0.0.1") !=
		1 ||
	    SSL_connect(o.ssl) != 1)
		goto done;
	bare_relay(&c, &o, buf);
done:
	ERR_clear_error();
	SSL_free(c.ssl);
	SSL_free(o.ssl);
	(void)close(c.fd);
	if (o.fd >= 0)
		(void)close(o.fd);
	free(buf);
	return NULL;
}

static int
bare_contexts(const char *cert, const char *key, const char *cafile)
{
	bare_server_ctx = SSL_CTX_new(TLS_server_method());
	bare_client_ctx = SSL_CTX_new(TLS_client_method());
	if (!bare_server_ctx || !bare_client_ctx ||
	    SSL_CTX_use_certificate_chain_file(bare_server_ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(bare_server_ctx, key,
		SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(bare_client_ctx, cafile, NULL) != 1)
		return -1;
	SSL_CTX_set_verify(bare_client_ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_read_ahead(bare_server_ctx, 1);
	SSL_CTX_set_read_ahead(bare_client_ctx, 1);
	SSL_CTX_set_default_read_buffer_len(bare_server_ctx, BARE_READ_BUF);
	SSL_CTX_set_default_read_buffer_len(bare_client_ctx, BARE_READ_BUF);
	return 0;
}

static int
bare_listen(uint16_t *ret_port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	*ret_port = ntohs(a.sin_port);
	return fd;
}

int
main(int argc, char **argv)
{
	uint16_t port;
	int lfd;

	if (argc != 4) {
		(void)fprintf(stderr, "usage: bare_relay CERT KEY CAFILE\n");
		return 2;
	}
	if (bare_contexts(argv[1], argv[2], argv[3]) < 0) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	lfd = bare_listen(&port);
	if (lfd < 0) {
		(void)fprintf(stderr, "bare_relay: listen: %s\n",
		    strerror(errno));
		return 1;
	}
	(void)fprintf(stderr, "bare_relay: listening %u\n", port);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		pthread_t tid;

		if (fd < 0)
			continue;
		bare_nodelay(fd);
		if (pthread_create(&tid, NULL, bare_tunnel,
			(void *)(intptr_t)fd) != 0) {
			(void)close(fd);
			continue;
		}
		(void)pthread_detach(tid);
	}
}
