/* SPDX-License-Identifier: MIT */
/*
 * paddock status: a summary of a running proxy, read from its admin API
 * (network.admin_url of the same config): the mode, the listeners, the
 * uptime, the decisions by outcome, connections, reloads and the hosts
 * blocked most often among the buffered blocked requests. It reads
 * GET /metrics and GET /blocked?keep=1, so the blocked buffer is left as
 * it was for whoever drains it.
 *
 * The client is deliberately small: a blocking loopback connection with a
 * deadline per call, one request each, the answer read to EOF (bounded by
 * LIMIT_ADMIN_REPLY_BYTES) and its head checked with the proxy's own
 * strict parser.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cfgopts.h"
#include "cli/cli.h"
#include "config/config.h"
#include "util/buf.h"
#include "util/compiler.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/strutil.h"
#include "wire/http_head.h"

#define CMD_STATUS_TIMEOUT_S 5
#define CMD_STATUS_TOP       5

struct cmd_status {
	struct cfgopts cfg;
	bool json;
};

static void
cmd_status_usage(FILE *f)
{
	(void)fprintf(f,
	    "Usage: paddock status [OPTIONS]\n"
	    "\n"
	    "Summarise the proxy that runs with the same config, from its "
	    "admin API\n(network.admin_url): mode, listeners, uptime, "
	    "decisions by outcome,\nconnections, reloads and the hosts "
	    "blocked most often. The blocked\nrequests are read without "
	    "draining them.\n"
	    "\nOptions:\n"
	    "  --format text|json  output format (default text)\n"
	    "  -h, --help          show this help\n"
	    "\n%s",
	    cfgopts_help);
}

/*
 * The HTTP client.
 */

/* Connect to the admin listener a. Returns the socket or -errno. */
static int
cmd_status_connect(const struct config_listen_addr *a)
{
	struct sockaddr_storage ss = { 0 };
	struct timeval tv = { .tv_sec = CMD_STATUS_TIMEOUT_S };
	socklen_t len;
	int fd, r;

	if (a->family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(a->port);
		if (inet_pton(AF_INET6, a->host, &in6->sin6_addr) != 1)
			return -EINVAL;
		len = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(a->port);
		if (inet_pton(AF_INET, a->host, &in->sin_addr) != 1)
			return -EINVAL;
		len = sizeof(*in);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The send timeout bounds connect() too (socket(7)). */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&ss, len) < 0) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	return fd;
}

/* GET path; the body of a 200 answer into body. Returns 0, -errno for a
 * connection problem, or -EPROTO with what the answer was in err. */
static int
cmd_status_get(const struct config_listen_addr *a, const char *path,
    struct buf *body, char *err, size_t errsz)
{
	struct http_head head;
	struct http_parser parser;
	struct buf in;
	char req[256], chunk[16384];
	size_t used = 0;
	ssize_t n;
	int fd, r = 0, len;

	fd = cmd_status_connect(a);
	if (fd < 0)
		return fd;
	len = snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\nHost: paddock\r\nConnection: close\r\n\r\n",
	    path);
	if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
		r = errno ? -errno : -EIO;
		(void)close(fd);
		return r;
	}
	buf_init(&in, LIMIT_ADMIN_REPLY_BYTES);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(&in, chunk, (size_t)n) < 0) {
			r = -EFBIG;
			break;
		}
	if (n < 0)
		r = -errno;
	(void)close(fd);
	if (r < 0) {
		buf_done(&in);
		return r;
	}
	http_head_init(&head, HTTP_KIND_RESPONSE);
	http_parser_init(&parser, HTTP_KIND_RESPONSE, &head);
	if (http_parser_feed_head(&parser, buf_str(&in), in.len, &used) !=
	    PARSE_DONE) {
		(void)snprintf(err, errsz, "not an HTTP answer");
		r = -EPROTO;
	} else if (head.status != 200) {
		(void)snprintf(err, errsz, "GET %s answered %u: %.200s", path,
		    head.status, buf_str(&in) + used);
		r = -EPROTO;
	} else if (buf_append(body, buf_str(&in) + used, in.len - used) < 0) {
		r = -ENOMEM;
	}
	http_head_done(&head);
	buf_done(&in);
	return r;
}

/*
 * Prometheus text, as far as the summary needs it: one sample per line,
 * "name{label="value",...} number".
 */
struct cmd_status_sample {
	char name[128];
	char labels[8][2][128]; /* name, value (unescaped) */
	size_t n_labels;
	double value;
};

/* Parse one sample line. Returns false for comments and lines it does
 * not understand. */
static bool
cmd_status_parse_sample(const char *line, struct cmd_status_sample *s)
{
	size_t n = strcspn(line, "{ ");
	const char *p = line + n;
	char *end;

	memset(s, 0, sizeof(*s));
	if (line[0] == '#' || n == 0 || n >= sizeof(s->name))
		return false;
	memcpy(s->name, line, n);
	if (*p == '{') {
		p++;
		while (*p && *p != '}') {
			size_t k = strcspn(p, "="), o = 0;
			char *v;

			if (s->n_labels == ELEMENTSOF(s->labels) ||
			    p[k] != '=' || p[k + 1] != '"' ||
			    k >= sizeof(s->labels[0][0]))
				return false;
			memcpy(s->labels[s->n_labels][0], p, k);
			v = s->labels[s->n_labels][1];
			for (p += k + 2; *p && *p != '"'; p++) {
				char c = *p;

				if (c == '\\' && p[1]) {
					p++;
					c = *p == 'n' ? '\n' : *p;
				}
				if (o + 1 < sizeof(s->labels[0][1]))
					v[o++] = c;
			}
			if (*p != '"')
				return false;
			p++;
			s->n_labels++;
			if (*p == ',')
				p++;
		}
		if (*p != '}')
			return false;
		p++;
	}
	if (*p != ' ')
		return false;
	errno = 0;
	s->value = strtod(p + 1, &end);
	return errno == 0 && end != p + 1;
}

static const char *
cmd_status_label(const struct cmd_status_sample *s, const char *name)
{
	for (size_t i = 0; i < s->n_labels; i++)
		if (streq(s->labels[i][0], name))
			return s->labels[i][1];
	return NULL;
}

struct cmd_status_summary {
	char version[64];
	char mode[16];
	char listeners[3][2][128]; /* front end, address */
	size_t n_listeners;
	double started;
	double decisions[3]; /* allow, deny, ask */
	double open, total;
	double reloads, reload_failures;

	struct {
		char host[256];
		unsigned count;
	} top[CMD_STATUS_TOP];

	size_t n_top;
	size_t n_blocked;
};

static void
cmd_status_take(struct cmd_status_summary *sum,
    const struct cmd_status_sample *s)
{
	static const char *const outcomes[] = { "allow", "deny", "ask" };
	const char *v;

	if (streq(s->name, "paddock_build_info") &&
	    (v = cmd_status_label(s, "version")))
		(void)strlcpy(sum->version, v, sizeof(sum->version));
	else if (streq(s->name, "paddock_policy_mode") && s->value == 1 &&
	    (v = cmd_status_label(s, "mode")))
		(void)strlcpy(sum->mode, v, sizeof(sum->mode));
	else if (streq(s->name, "paddock_listener_info") &&
	    sum->n_listeners < ELEMENTSOF(sum->listeners) &&
	    cmd_status_label(s, "frontend") && cmd_status_label(s, "address")) {
		(void)strlcpy(sum->listeners[sum->n_listeners][0],
		    cmd_status_label(s, "frontend"),
		    sizeof(sum->listeners[0][0]));
		(void)strlcpy(sum->listeners[sum->n_listeners][1],
		    cmd_status_label(s, "address"),
		    sizeof(sum->listeners[0][1]));
		sum->n_listeners++;
	} else if (streq(s->name, "paddock_start_time_seconds"))
		sum->started = s->value;
	else if (streq(s->name, "paddock_policy_decisions_total") &&
	    (v = cmd_status_label(s, "decision"))) {
		for (size_t i = 0; i < ELEMENTSOF(outcomes); i++)
			if (streq(v, outcomes[i]))
				sum->decisions[i] += s->value;
	} else if (streq(s->name, "paddock_connections_open"))
		sum->open += s->value;
	else if (streq(s->name, "paddock_connections_total"))
		sum->total += s->value;
	else if (streq(s->name, "paddock_reloads_total"))
		sum->reloads = s->value;
	else if (streq(s->name, "paddock_reload_failures_total"))
		sum->reload_failures = s->value;
}

static void
cmd_status_metrics(struct cmd_status_summary *sum, char *text)
{
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct cmd_status_sample s;

		if (cmd_status_parse_sample(line, &s))
			cmd_status_take(sum, &s);
	}
}

static int
cmd_status_host_cmp(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t cx = json_integer_value(json_array_get(x, 1));
	json_int_t cy = json_integer_value(json_array_get(y, 1));

	if (cx != cy)
		return cx < cy ? 1 : -1;
	return strcmp(json_string_value(json_array_get(x, 0)),
	    json_string_value(json_array_get(y, 0)));
}

/* Count the buffered blocked requests by host; keep the most frequent. */
static int
cmd_status_blocked(struct cmd_status_summary *sum, const struct buf *body)
{
	json_t *doc = json_loadb(buf_str(body), body->len, 0, NULL);
	json_t *list = json_object_get(doc, "blocked");
	json_t *counts = json_object(), *v;
	json_t **pairs = NULL;
	const char *host;
	size_t i, n = 0;
	int r = 0;

	if (!json_is_array(list) || !counts) {
		r = json_is_array(list) ? -ENOMEM : -EPROTO;
		goto out;
	}
	sum->n_blocked = json_array_size(list);
	json_array_foreach(list, i, v) {
		const char *h = json_string_value(json_object_get(v, "host"));
		json_t *c;

		if (!h)
			continue;
		c = json_object_get(counts, h);
		if (json_object_set_new(counts, h,
			json_integer(c ? json_integer_value(c) + 1 : 1)) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	pairs = calloc(json_object_size(counts) + 1, sizeof(*pairs));
	if (!pairs) {
		r = -ENOMEM;
		goto out;
	}
	json_object_foreach(counts, host, v) {
		pairs[n] = json_pack("[sO]", host, v);
		if (!pairs[n]) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
	qsort(pairs, n, sizeof(*pairs), cmd_status_host_cmp);
	for (i = 0; i < n && i < CMD_STATUS_TOP; i++) {
		(void)strlcpy(sum->top[i].host,
		    json_string_value(json_array_get(pairs[i], 0)),
		    sizeof(sum->top[i].host));
		sum->top[i].count =
		    (unsigned)json_integer_value(json_array_get(pairs[i], 1));
	}
	sum->n_top = i;
out:
	for (i = 0; i < n; i++)
		json_decref(pairs[i]);
	free(pairs);
	json_decref(counts);
	json_decref(doc);
	return r;
}

static void
cmd_status_uptime(double seconds, char *out, size_t outsz)
{
	uint64_t s = seconds > 0 ? (uint64_t)seconds : 0;

	if (s >= 86400)
		(void)snprintf(out, outsz,
		    "%" PRIu64 "d %" PRIu64 "h %" PRIu64 "m", s / 86400,
		    s % 86400 / 3600, s % 3600 / 60);
	else if (s >= 3600)
		(void)snprintf(out, outsz,
		    "%" PRIu64 "h %" PRIu64 "m %" PRIu64 "s", s / 3600,
		    s % 3600 / 60, s % 60);
	else if (s >= 60)
		(void)snprintf(out, outsz, "%" PRIu64 "m %" PRIu64 "s", s / 60,
		    s % 60);
	else
		(void)snprintf(out, outsz, "%" PRIu64 "s", s);
}

static void
cmd_status_print_text(const struct cmd_status_summary *sum, double uptime)
{
	char up[64];

	cmd_status_uptime(uptime, up, sizeof(up));
	(void)printf("paddock %s, running for %s\n", sum->version, up);
	(void)printf("  mode:        %s\n", sum->mode);
	(void)printf("  listeners:  ");
	for (size_t i = 0; i < sum->n_listeners; i++)
		(void)printf(" %s %s%s", sum->listeners[i][0],
		    sum->listeners[i][1], i + 1 < sum->n_listeners ? "," : "");
	(void)printf("\n  decisions:   %.0f allowed, %.0f denied, %.0f "
		     "asked\n",
	    sum->decisions[0], sum->decisions[1], sum->decisions[2]);
	(void)printf("  connections: %.0f open, %.0f in all\n", sum->open,
	    sum->total);
	(void)printf("  reloads:     %.0f applied, %.0f failed\n", sum->reloads,
	    sum->reload_failures);
	if (sum->n_top == 0) {
		(void)printf("  blocked:     none buffered\n");
		return;
	}
	(void)printf("  top blocked hosts (of %zu buffered blocked "
		     "requests):\n",
	    sum->n_blocked);
	/* A blocked host is what a client asked for: escaped for the
	 * terminal. */
	for (size_t i = 0; i < sum->n_top; i++)
		(void)printf("    %-40s %u\n", LOG_ES(sum->top[i].host),
		    sum->top[i].count);
}

static int
cmd_status_print_json(const struct cmd_status_summary *sum, double uptime)
{
	json_t *o = json_pack("{s:s,s:s,s:o,s:I,s:{s:I,s:I,s:I},s:{s:I,s:I},"
			      "s:{s:I,s:I},s:o,s:I}",
	    "version", sum->version, "mode", sum->mode, "listeners",
	    json_object(), "uptime_seconds", (json_int_t)uptime, "decisions",
	    "allow", (json_int_t)sum->decisions[0], "deny",
	    (json_int_t)sum->decisions[1], "ask", (json_int_t)sum->decisions[2],
	    "connections", "open", (json_int_t)sum->open, "total",
	    (json_int_t)sum->total, "reloads", "applied",
	    (json_int_t)sum->reloads, "failed",
	    (json_int_t)sum->reload_failures, "top_blocked", json_array(),
	    "blocked_buffered", (json_int_t)sum->n_blocked);
	json_t *l = json_object_get(o, "listeners");
	json_t *t = json_object_get(o, "top_blocked");
	bool ok = o != NULL;

	for (size_t i = 0; ok && i < sum->n_listeners; i++)
		ok = json_object_set_new(l, sum->listeners[i][0],
			 json_string(sum->listeners[i][1])) == 0;
	for (size_t i = 0; ok && i < sum->n_top; i++)
		ok = json_array_append_new(t,
			 json_pack("{s:s,s:I}", "host", sum->top[i].host,
			     "count", (json_int_t)sum->top[i].count)) == 0;
	ok = ok && json_dumpf(o, stdout, JSON_INDENT(2)) == 0;
	json_decref(o);
	if (ok)
		(void)putchar('\n');
	return ok ? 0 : -ENOMEM;
}

static int
cmd_status_run(struct cmd_status *c)
{
	struct cmd_status_summary sum = { .version = "?", .mode = "?" };
	struct config_diags *diags = NULL;
	struct config *cfg;
	const struct config_network *net;
	struct config_listen_addr a;
	struct buf metrics, blocked;
	char err[512] = "", where[CONFIG_ADDR_TEXT_MAX + 8];
	int r, rc = CLI_EXIT_FAILURE;

	cfg = cfgopts_load(&c->cfg, false, &diags);
	config_diags_free(diags);
	if (!cfg)
		return CLI_EXIT_FAILURE;
	net = config_get_network(cfg);
	if (!net->admin_url) {
		(void)fputs("paddock: the admin API is off: set "
			    "network.admin_url (for example "
			    "\"127.0.0.1:8080\") and restart paddock proxy\n",
		    stderr);
		config_free(cfg);
		return CLI_EXIT_FAILURE;
	}
	a = net->admin_addr;
	config_free(cfg);
	(void)config_listen_addr_format(&a, where, sizeof(where));
	if (a.port == 0) {
		(void)fprintf(stderr,
		    "paddock: network.admin_url has port 0, so the admin "
		    "port is only known to the proxy (its readiness line "
		    "says admin=...); set a fixed port\n");
		return CLI_EXIT_FAILURE;
	}
	buf_init(&metrics, LIMIT_ADMIN_REPLY_BYTES);
	buf_init(&blocked, LIMIT_ADMIN_REPLY_BYTES);
	r = cmd_status_get(&a, "/metrics", &metrics, err, sizeof(err));
	if (r >= 0)
		r = cmd_status_get(&a, "/blocked?keep=1", &blocked, err,
		    sizeof(err));
	if (r == -ECONNREFUSED) {
		(void)fprintf(stderr,
		    "paddock: no proxy answers on %s (network.admin_url): "
		    "is paddock proxy running with this config?\n",
		    where);
		goto out;
	}
	if (r == -EPROTO) {
		(void)fprintf(stderr, "paddock: the admin API on %s: %s\n",
		    where, err);
		goto out;
	}
	if (r < 0) {
		(void)fprintf(stderr, "paddock: the admin API on %s: %s\n",
		    where, strerror(-r));
		goto out;
	}
	cmd_status_metrics(&sum, (char *)buf_str(&metrics));
	r = cmd_status_blocked(&sum, &blocked);
	if (r < 0) {
		(void)fprintf(stderr,
		    "paddock: the admin API on %s: unreadable GET /blocked\n",
		    where);
		goto out;
	}
	if (c->json)
		r = cmd_status_print_json(&sum,
		    (double)time(NULL) - sum.started);
	else
		cmd_status_print_text(&sum, (double)time(NULL) - sum.started);
	rc = r < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
out:
	buf_done(&metrics);
	buf_done(&blocked);
	return rc;
}

static int
cmd_status_arg(void *userdata, int argc, char **argv, int *i)
{
	struct cmd_status *c = userdata;
	const char *arg = argv[*i];
	const char *v;
	int m;

	if (cli_is_help(arg)) {
		cmd_status_usage(stdout);
		return CLI_EXIT_OK;
	}
	m = cli_option_value(argc, argv, i, "--format", &v);
	if (m > 0) {
		if (!streq(v, "text") && !streq(v, "json")) {
			(void)fputs("paddock: --format takes text or json\n",
			    stderr);
			return CLI_EXIT_USAGE;
		}
		c->json = streq(v, "json");
		return -1;
	}
	if (m == 0)
		(void)fprintf(stderr,
		    "paddock: unknown option '%s'\n"
		    "Run 'paddock status --help' for usage.\n",
		    arg);
	return CLI_EXIT_USAGE;
}

int
cmd_status(int argc, char **argv)
{
	struct cmd_status c = { 0 };
	int rc;

	cfgopts_init(&c.cfg);
	rc = cfgopts_parse_args(&c.cfg, argc, argv, cmd_status_arg, &c);
	if (rc < 0)
		rc = cmd_status_run(&c);
	cfgopts_done(&c.cfg);
	return rc;
}
