/* SPDX-License-Identifier: MIT */
/*
 * paddock connect: one TCP stream through the running proxy's SOCKS5
 * listener, relayed to stdin and stdout, for ssh's ProxyCommand:
 *
 *	ssh -o ProxyCommand='paddock connect %h %p' git@github.com
 *
 * The client offers paddock's private method (socks5.h), so a refusal
 * comes with the reason the proxy itself decided on: the message is right
 * even when the proxy runs with another config or an embedder's decider.
 * Against any other SOCKS5 server it falls back to "no authentication"
 * and reports the bare reply code. The greeting and the request go out in
 * one write: one round trip less, and the proxy parses them in any split.
 */
#include <netinet/in.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cfgopts.h"
#include "cli/cli.h"
#include "config/config.h"
#include "util/log.h"
#include "util/strparse.h"
#include "util/strutil.h"
#include "wire/socks5.h"

#define CONNECT_BUF_BYTES (64u * 1024)

struct cmd_connect {
	struct cfgopts cfg;
	const char *socks; /* --socks HOST:PORT, else from the config */
	const char *host;
	const char *port;
	struct socks5_addr dst;
	char target[SOCKS5_DOMAIN_MAX + 16]; /* "host:port" for messages */
	char proxy_text[CONFIG_ADDR_TEXT_MAX + 8];
};

static void
cmd_connect_usage(FILE *f)
{
	(void)fprintf(f,
	    "Usage: paddock connect [OPTIONS] HOST PORT\n"
	    "\n"
	    "Open a TCP connection to HOST:PORT through the SOCKS5 listener "
	    "of the\nrunning 'paddock proxy' and relay it to stdin and "
	    "stdout. For ssh and git:\n"
	    "  ssh -o ProxyCommand='paddock connect %%h %%p' git@github.com\n"
	    "  GIT_SSH_COMMAND=\"ssh -o ProxyCommand='paddock connect %%h "
	    "%%p'\" git fetch\n"
	    "The proxy resolves HOST and judges it. When it refuses, the "
	    "reason it\ngave is printed and the exit status is 1.\n"
	    "\nOptions:\n"
	    "  --socks HOST:PORT   the SOCKS5 listener (default: from the "
	    "config,\n"
	    "                      like 'paddock env')\n"
	    "  -h, --help          show this help\n"
	    "\n%s",
	    cfgopts_help);
}

/* "1.2.3.4:1080" or "[::1]:1080". */
static int
connect_parse_listener(const char *text, struct sockaddr_storage *ret,
    socklen_t *ret_len)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ret;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ret;
	const char *colon = strrchr(text, ':');
	char host[INET6_ADDRSTRLEN + 2];
	size_t hlen;
	uint64_t port;

	if (!colon || strparse_u64_str(colon + 1, UINT16_MAX, &port) < 0 ||
	    port == 0)
		return -EINVAL;
	hlen = (size_t)(colon - text);
	if (hlen >= 2 && text[0] == '[' && text[hlen - 1] == ']') {
		text++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	memset(ret, 0, sizeof(*ret));
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*ret_len = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*ret_len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

/* Where the proxy listens: --socks, else the effective config. Returns
 * 0 or an exit status (the problem printed). */
static int
connect_listener(struct cmd_connect *c, struct sockaddr_storage *ret,
    socklen_t *ret_len)
{
	struct config_diags *diags = NULL;
	const struct config_network *net;
	struct config *cfg;
	int rc = CLI_EXIT_FAILURE;

	if (c->socks) {
		(void)strlcpy(c->proxy_text, c->socks, sizeof(c->proxy_text));
		if (connect_parse_listener(c->socks, ret, ret_len) == 0)
			return 0;
		(void)fprintf(stderr,
		    "paddock: --socks takes IP:PORT or [IPv6]:PORT, not "
		    "'%s'\n",
		    c->socks);
		return CLI_EXIT_USAGE;
	}
	cfg = cfgopts_load(&c->cfg, false, &diags);
	config_diags_free(diags);
	if (!cfg)
		return CLI_EXIT_FAILURE;
	net = config_get_network(cfg);
	(void)config_listen_addr_format(&net->socks_addr, c->proxy_text,
	    sizeof(c->proxy_text));
	if (!net->enabled)
		(void)fputs("paddock: the network proxy is disabled "
			    "(network.enabled = false)\n",
		    stderr);
	else if (!net->enable_socks5)
		(void)fputs("paddock: the proxy's SOCKS5 listener is off "
			    "(network.enable_socks5 = false)\n",
		    stderr);
	else if (net->socks_addr.port == 0)
		(void)fputs("paddock: the SOCKS5 listener's port is only known "
			    "once the proxy runs; set network.socks_url or "
			    "pass --socks\n",
		    stderr);
	else if (connect_parse_listener(c->proxy_text, ret, ret_len) == 0)
		rc = 0;
	else
		(void)fprintf(stderr, "paddock: invalid SOCKS5 address '%s'\n",
		    c->proxy_text);
	config_free(cfg);
	return rc;
}

static int
connect_target(struct cmd_connect *c)
{
	uint64_t port;
	size_t len = strlen(c->host);
	const char *h = c->host;
	char v6[INET6_ADDRSTRLEN];

	if (strparse_u64_str(c->port, UINT16_MAX, &port) < 0 || port == 0) {
		(void)fprintf(stderr, "paddock: invalid port '%s'\n", c->port);
		return -EINVAL;
	}
	c->dst = (struct socks5_addr){ .port = (uint16_t)port };
	if (len >= 2 && h[0] == '[' && h[len - 1] == ']' &&
	    len - 2 < sizeof(v6)) {
		memcpy(v6, h + 1, len - 2);
		v6[len - 2] = '\0';
		h = v6;
	}
	if (inet_pton(AF_INET, h, c->dst.ip) == 1) {
		c->dst.atyp = SOCKS5_ATYP_IPV4;
	} else if (inet_pton(AF_INET6, h, c->dst.ip) == 1) {
		c->dst.atyp = SOCKS5_ATYP_IPV6;
	} else if (len >= 1 && len <= SOCKS5_DOMAIN_MAX) {
		/* The proxy resolves names (socks5h semantics). */
		c->dst.atyp = SOCKS5_ATYP_DOMAIN;
		(void)strlcpy(c->dst.domain, c->host, sizeof(c->dst.domain));
	} else {
		(void)fprintf(stderr, "paddock: invalid host %s\n",
		    LOG_US(c->host));
		return -EINVAL;
	}
	(void)snprintf(c->target, sizeof(c->target),
	    c->dst.atyp == SOCKS5_ATYP_IPV6 ? "[%s]:%u" : "%s:%u", h,
	    (unsigned)port);
	return 0;
}

static int
connect_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == ENOTSOCK)
			w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Bytes from the proxy for the handshake: what is left over in
 * buf[*off..*len) first, then a fresh read. Returns 0, or -EPIPE at EOF. */
static int
connect_read(int fd, uint8_t *buf, size_t *off, size_t *len)
{
	ssize_t n;

	if (*off < *len)
		return 0;
	do
		n = read(fd, buf, CONNECT_BUF_BYTES);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	*off = 0;
	*len = (size_t)n;
	return 0;
}

/* Why the proxy refused, when it tells. */
static void
connect_explain(int fd, uint8_t *buf, size_t *off, size_t *len,
    struct socks5_reason *ret)
{
	struct socks5_parser p;
	enum parse_result r = PARSE_AGAIN;

	socks5_parser_init(&p);
	while (r == PARSE_AGAIN && connect_read(fd, buf, off, len) == 0) {
		size_t used;

		r = socks5_reason_feed(&p, buf + *off, *len - *off, &used, ret);
		*off += used;
	}
	if (r != PARSE_DONE)
		ret->code[0] = ret->message[0] = '\0';
}

static void
connect_report(const struct cmd_connect *c, uint8_t rep,
    const struct socks5_reason *why)
{
	if (why->code[0])
		(void)fprintf(stderr,
		    "paddock: %s blocked by policy: %s (%s)\n",
		    LOG_ES(c->target), LOG_ES(why->message), LOG_ES(why->code));
	else if (why->message[0])
		(void)fprintf(stderr, "paddock: %s: %s\n", LOG_ES(c->target),
		    LOG_ES(why->message));
	else
		(void)fprintf(stderr, "paddock: %s: %s (SOCKS5 reply 0x%02x)\n",
		    LOG_ES(c->target), socks5_reply_text(rep), (unsigned)rep);
}

/* The handshake. Returns 0 with the tunnel open (bytes that already
 * belong to it in buf[*off..*len)), or an exit status. */
static int
connect_handshake(struct cmd_connect *c, int fd, uint8_t *buf, size_t *off,
    size_t *len)
{
	static const uint8_t methods[] = { SOCKS5_METHOD_PADDOCK_REASON,
		SOCKS5_METHOD_NO_AUTH };
	uint8_t out[SOCKS5_GREETING_MAX + SOCKS5_REQUEST_MAX];
	struct socks5_reason why = { .code = "" };
	struct socks5_parser p;
	struct socks5_reply reply;
	enum parse_result r = PARSE_AGAIN;
	size_t n;
	uint8_t method;

	n = socks5_greeting_encode(methods, sizeof(methods), out, sizeof(out));
	n += socks5_request_encode(SOCKS5_CMD_CONNECT, &c->dst, out + n,
	    sizeof(out) - n);
	if (connect_write_all(fd, out, n) < 0)
		goto broken;
	/* The method selection: VER METHOD. */
	for (n = 0; n < 2; n++) {
		if (connect_read(fd, buf, off, len) < 0)
			goto broken;
		out[n] = buf[(*off)++];
	}
	method = out[1];
	/* Only a method we offered: any other would start a sub-negotiation
	 * we would misread as the reply. */
	if (out[0] != SOCKS5_VERSION ||
	    (method != SOCKS5_METHOD_NO_AUTH &&
		method != SOCKS5_METHOD_PADDOCK_REASON)) {
		(void)fprintf(stderr,
		    "paddock: the SOCKS5 server at %s accepts none of our "
		    "methods (no authentication)\n",
		    c->proxy_text);
		return CLI_EXIT_FAILURE;
	}
	socks5_parser_init(&p);
	while (r == PARSE_AGAIN) {
		if (connect_read(fd, buf, off, len) < 0)
			goto broken;
		r = socks5_reply_feed(&p, buf + *off, *len - *off, &n, &reply);
		*off += n;
	}
	if (r == PARSE_ERROR) {
		(void)fprintf(stderr,
		    "paddock: the SOCKS5 server at %s sent a malformed "
		    "reply: %s\n",
		    c->proxy_text, p.error);
		return CLI_EXIT_FAILURE;
	}
	if (reply.rep == SOCKS_REPLY_SUCCEEDED)
		return 0;
	if (method == SOCKS5_METHOD_PADDOCK_REASON)
		connect_explain(fd, buf, off, len, &why);
	connect_report(c, reply.rep, &why);
	return CLI_EXIT_FAILURE;
broken:
	(void)fprintf(stderr,
	    "paddock: the SOCKS5 server at %s closed the connection during "
	    "the handshake\n",
	    c->proxy_text);
	return CLI_EXIT_FAILURE;
}

/* stdin -> fd and fd -> stdout until the remote end closes. An EOF on
 * stdin is passed on as a half-close. */
static int
connect_relay(int fd, uint8_t *buf)
{
	struct pollfd pf[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = fd, .events = POLLIN },
	};

	for (;;) {
		ssize_t n;

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return CLI_EXIT_FAILURE;
		}
		if (pf[0].revents) {
			n = read(STDIN_FILENO, buf, CONNECT_BUF_BYTES);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				(void)shutdown(fd, SHUT_WR);
				pf[0].fd = -1;
			} else if (connect_write_all(fd, buf, (size_t)n) < 0) {
				return CLI_EXIT_FAILURE;
			}
		}
		if (pf[1].revents) {
			n = read(fd, buf, CONNECT_BUF_BYTES);
			if (n < 0 && errno == EINTR)
				continue;
			if (n == 0)
				return CLI_EXIT_OK;
			if (n < 0 ||
			    connect_write_all(STDOUT_FILENO, buf, (size_t)n) <
				0)
				return CLI_EXIT_FAILURE;
		}
	}
}

static int
cmd_connect_run(struct cmd_connect *c)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };
	struct sockaddr_storage ss;
	socklen_t ss_len = 0;
	size_t off = 0, len = 0;
	uint8_t *buf;
	int fd, rc;

	if (connect_target(c) < 0)
		return CLI_EXIT_USAGE;
	rc = connect_listener(c, &ss, &ss_len);
	if (rc != 0)
		return rc;
	/* A reader that went away is an error result, not a signal. */
	(void)sigaction(SIGPIPE, &ign, NULL);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, ss_len) < 0) {
		(void)fprintf(stderr,
		    "paddock: cannot reach the proxy's SOCKS5 listener at %s: "
		    "%s (is 'paddock proxy' running?)\n",
		    c->proxy_text, strerror(errno));
		if (fd >= 0)
			(void)close(fd);
		return CLI_EXIT_FAILURE;
	}
	buf = malloc(CONNECT_BUF_BYTES);
	if (!buf) {
		(void)close(fd);
		(void)fputs("paddock: out of memory\n", stderr);
		return CLI_EXIT_FAILURE;
	}
	rc = connect_handshake(c, fd, buf, &off, &len);
	if (rc == 0 && off < len &&
	    connect_write_all(STDOUT_FILENO, buf + off, len - off) < 0)
		rc = CLI_EXIT_FAILURE;
	if (rc == 0)
		rc = connect_relay(fd, buf);
	free(buf);
	(void)close(fd);
	return rc;
}

/* One argument that is not a config option: --socks, --help, HOST or
 * PORT. Returns -1 to go on, or an exit status. */
static int
cmd_connect_arg(void *userdata, int argc, char **argv, int *i)
{
	struct cmd_connect *c = userdata;
	const char *a = argv[*i];
	int m;

	if (cli_is_help(a)) {
		cmd_connect_usage(stdout);
		return CLI_EXIT_OK;
	}
	m = cli_option_value(argc, argv, i, "--socks", &c->socks);
	if (m != 0)
		return m > 0 ? -1 : CLI_EXIT_USAGE;
	if (a[0] == '-' && a[1] != '\0') {
		(void)fprintf(stderr,
		    "paddock: unknown option '%s'\n"
		    "Run 'paddock connect --help' for usage.\n",
		    a);
		return CLI_EXIT_USAGE;
	}
	if (c->host && c->port) {
		(void)fprintf(stderr,
		    "paddock: connect takes HOST PORT; unexpected '%s'\n", a);
		return CLI_EXIT_USAGE;
	}
	if (!c->host)
		c->host = a;
	else
		c->port = a;
	(*i)++;
	return -1;
}

int
cmd_connect(int argc, char **argv)
{
	struct cmd_connect c = { 0 };
	int rc;

	cfgopts_init(&c.cfg);
	rc = cfgopts_parse_args(&c.cfg, argc, argv, cmd_connect_arg, &c);
	if (rc < 0 && (!c.host || !c.port)) {
		(void)fputs("paddock: connect needs HOST and PORT\n"
			    "Run 'paddock connect --help' for usage.\n",
		    stderr);
		rc = CLI_EXIT_USAGE;
	}
	if (rc < 0)
		rc = cmd_connect_run(&c);
	cfgopts_done(&c.cfg);
	return rc;
}
