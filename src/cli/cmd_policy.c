/* SPDX-License-Identifier: MIT */
/*
 * paddock policy check: judge one request against the effective config
 * without sending anything. The verdict comes from the same policy engine
 * the proxy uses, compiled from the same config. Names are resolved only
 * when the engine asks for it: with --resolve the caller supplies the
 * answer, otherwise the system resolver is asked (a CLI may block).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cfgopts.h"
#include "cli/cli.h"
#include "config/config.h"
#include "policy/policy.h"
#include "util/log.h"
#include "util/strutil.h"

/* How many addresses one name may bring into the verdict. */

struct cmd_policy_args {
	struct cfgopts cfg;
	enum policy_protocol protocol;
	const char *method; /* NULL: the protocol's default */
	const char *client;
	const char *target;
	struct policy_addr resolve[LIMIT_DNS_ADDRS];
	size_t n_resolve;
	bool have_resolve;
	bool json;
};

static void
cmd_policy_usage(FILE *f)
{
	(void)fprintf(f,
	    "Usage: paddock policy COMMAND [OPTIONS]\n"
	    "\n"
	    "Ask the network policy of the effective config.\n"
	    "\nCommands:\n"
	    "  check    judge one request without sending it\n"
	    "\nRun 'paddock policy COMMAND --help' for its options.\n");
}

static void
cmd_policy_check_usage(FILE *f)
{
	(void)fprintf(f,
	    "Usage: paddock policy check [OPTIONS] HOST[:PORT]\n"
	    "\n"
	    "Judge one request against the effective config, as the proxy "
	    "would, without\nsending anything. Prints the decision, the "
	    "reason, the rule that matched\nand where it was written. Exits 0 "
	    "when allowed, 1 when denied, 2 on a\nusage or config error.\n"
	    "\nOptions:\n"
	    "  --protocol P        http, https_connect (default), socks5_tcp "
	    "or\n"
	    "                      socks5_udp\n"
	    "  --method M          the HTTP method (default GET for http, "
	    "CONNECT\n"
	    "                      for https_connect)\n"
	    "  --client ADDR       the client as ip:port\n"
	    "  --resolve IP[,IP...]\n"
	    "                      the addresses HOST resolves to; without it "
	    "the\n"
	    "                      system resolver is asked when needed\n"
	    "  --json              print one JSON object\n"
	    "  -h, --help          show this help\n"
	    "\nThe port defaults to 80 for http and 443 otherwise.\n"
	    "\n%s",
	    cfgopts_help);
}

/* "1.2.3.4,::1" into addrs. Returns 0 or -EINVAL (printed). */
static int
cmd_policy_parse_resolve(struct cmd_policy_args *a, const char *list)
{
	const char *p = list;

	a->have_resolve = true;
	while (*p) {
		char one[INET6_ADDRSTRLEN + 2];
		size_t len = strcspn(p, ",");
		struct policy_addr *ad;

		if (a->n_resolve >= LIMIT_DNS_ADDRS || len >= sizeof(one)) {
			(void)fprintf(stderr,
			    "paddock: --resolve takes at most %d addresses\n",
			    LIMIT_DNS_ADDRS);
			return -EINVAL;
		}
		memcpy(one, p, len);
		one[len] = '\0';
		ad = &a->resolve[a->n_resolve];
		if (inet_pton(AF_INET, one, ad->bytes) == 1) {
			ad->family = AF_INET;
		} else if (inet_pton(AF_INET6, one, ad->bytes) == 1) {
			ad->family = AF_INET6;
		} else {
			(void)fprintf(stderr,
			    "paddock: --resolve: '%s' is not an IP address\n",
			    one);
			return -EINVAL;
		}
		a->n_resolve++;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* One argument of `policy check` that is not a config option. Returns -1
 * to go on, or an exit status. */
static int
cmd_policy_arg(void *userdata, int argc, char **argv, int *i)
{
	struct cmd_policy_args *a = userdata;
	const char *arg = argv[*i];
	const char *v;
	int m;

	if (cli_is_help(arg)) {
		cmd_policy_check_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (streq(arg, "--json")) {
		a->json = true;
		(*i)++;
		return -1;
	}
	m = cli_option_value(argc, argv, i, "--protocol", &v);
	if (m > 0 && policy_protocol_from_name(v, &a->protocol) < 0) {
		(void)fprintf(stderr,
		    "paddock: --protocol takes http, https_connect, "
		    "socks5_tcp or socks5_udp, not '%s'\n",
		    v);
		return CLI_EXIT_USAGE;
	}
	if (m == 0) {
		m = cli_option_value(argc, argv, i, "--method", &v);
		if (m > 0)
			a->method = v;
	}
	if (m == 0) {
		m = cli_option_value(argc, argv, i, "--client", &v);
		if (m > 0)
			a->client = v;
	}
	if (m == 0) {
		m = cli_option_value(argc, argv, i, "--resolve", &v);
		if (m > 0 && cmd_policy_parse_resolve(a, v) < 0)
			return CLI_EXIT_USAGE;
	}
	if (m < 0)
		return CLI_EXIT_USAGE;
	if (m > 0)
		return -1;
	if (arg[0] == '-' || a->target) {
		(void)fprintf(stderr,
		    "paddock: policy check: unexpected argument '%s'\n"
		    "Run 'paddock policy check --help' for usage.\n",
		    arg);
		return CLI_EXIT_USAGE;
	}
	a->target = arg;
	(*i)++;
	return -1;
}

static int
cmd_policy_parse(struct cmd_policy_args *a, int argc, char **argv)
{
	int r = cfgopts_parse_args(&a->cfg, argc, argv, cmd_policy_arg, a);

	if (r >= 0)
		return r;
	if (!a->target) {
		(void)fprintf(stderr,
		    "paddock: policy check needs a HOST[:PORT]\n"
		    "Run 'paddock policy check --help' for usage.\n");
		return CLI_EXIT_USAGE;
	}
	return -1;
}

/* Ask the system resolver; a failure is an empty answer. */
static size_t
cmd_policy_getaddrinfo(const char *host, struct policy_addr *out, size_t max)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	size_t n;

	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return 0;
	n = policy_addrs_add(out, 0, max, res);
	freeaddrinfo(res);
	return n;
}

static const char *
cmd_policy_addr_text(const struct policy_addr *a, char *out, size_t outsz)
{
	if (!inet_ntop(a->family, a->bytes, out, (socklen_t)outsz))
		(void)snprintf(out, outsz, "?");
	return out;
}

/* The judge loop: resolve when asked, never ask a decider (there is none
 * in a CLI). Returns false when the engine does not come to a verdict. */
static bool
cmd_policy_judge(const struct policy *p, const struct cmd_policy_args *a,
    const struct policy_request *req, struct policy_addr *addrs,
    size_t *n_addrs, bool *resolved, struct policy_verdict *v)
{
	struct policy_input in = { .request = req };

	for (int round = 0; round < 3; round++) {
		policy_judge(p, &in, v);
		if (v->next != POLICY_NEXT_RESOLVE || in.resolved)
			break;
		if (a->have_resolve) {
			memcpy(addrs, a->resolve,
			    a->n_resolve * sizeof(*addrs));
			*n_addrs = a->n_resolve;
		} else {
			*n_addrs = cmd_policy_getaddrinfo(v->host.text, addrs,
			    LIMIT_DNS_ADDRS);
		}
		*resolved = true;
		in.resolved = true;
		in.addrs = addrs;
		in.n_addrs = *n_addrs;
	}
	return v->next == POLICY_NEXT_DONE;
}

static json_t *
cmd_policy_json(const struct policy_request *req,
    const struct policy_verdict *v, const struct policy_addr *addrs,
    size_t n_addrs)
{
	const char *xpe = policy_reason_x_proxy_error(v->reason);
	json_t *o;
	json_t *host;
	json_t *list = json_array();
	json_t *matched = json_null();
	char text[INET6_ADDRSTRLEN];

	for (size_t i = 0; list && i < n_addrs; i++)
		(void)json_array_append_new(list,
		    json_string(
			cmd_policy_addr_text(&addrs[i], text, sizeof(text))));
	if (v->matched) {
		char origin[4096];

		if (v->match.file)
			(void)snprintf(origin, sizeof(origin), "%s:%u:%u",
			    v->match.file, v->match.line, v->match.column);
		json_decref(matched);
		matched = json_pack("{s:s,s:s?,s:s?}", "list",
		    policy_list_name(v->match.list), "pattern",
		    v->match.pattern, "origin", v->match.file ? origin : NULL);
	}
	/* A host that is not even UTF-8 cannot be a JSON string. */
	host = json_string(v->host_valid ? v->host.text : req->host);
	if (!host)
		host = json_string("(not UTF-8)");
	o = json_pack("{s:o,s:i,s:s,s:s?,s:s,s:s,s:s,s:s,s:s?,s:o,s:o}", "host",
	    host, "port", req->port, "protocol",
	    policy_protocol_name(req->protocol), "method", req->method,
	    "decision", policy_decision_name(v->decision), "reason",
	    policy_reason_name(v->reason), "message",
	    policy_verdict_message(v, v->reason), "source",
	    policy_source_name(v->source), "x_proxy_error", xpe, "matched",
	    matched, "addresses", list);
	return o;
}

static void
cmd_policy_print(const struct policy_request *req,
    const struct policy_verdict *v, const struct policy_addr *addrs,
    size_t n_addrs, bool resolved)
{
	const char *xpe = policy_reason_x_proxy_error(v->reason);
	char text[INET6_ADDRSTRLEN];

	(void)printf("host: %s (port %u, %s%s%s)\n",
	    LOG_ES(v->host_valid ? v->host.text : req->host), req->port,
	    policy_protocol_name(req->protocol), req->method ? ", " : "",
	    req->method ? req->method : "");
	(void)printf("decision: %s\n", policy_decision_name(v->decision));
	(void)printf("reason: %s: %s\n", policy_reason_name(v->reason),
	    policy_verdict_message(v, v->reason));
	(void)printf("source: %s\n", policy_source_name(v->source));
	(void)printf("x-proxy-error: %s\n", xpe ? xpe : "none");
	if (v->matched && v->match.file)
		(void)printf("matched: %s '%s' at %s:%u:%u\n",
		    policy_list_name(v->match.list), v->match.pattern,
		    v->match.file, v->match.line, v->match.column);
	else if (v->matched)
		(void)printf("matched: %s '%s'\n",
		    policy_list_name(v->match.list), v->match.pattern);
	else
		(void)printf("matched: no rule\n");
	(void)printf("addresses:");
	for (size_t i = 0; i < n_addrs; i++) {
		const char *class = policy_addr_class(&addrs[i]);

		(void)printf("%s%s%s%s%s", i ? ", " : " ",
		    cmd_policy_addr_text(&addrs[i], text, sizeof(text)),
		    class ? " (" : "", class ? class : "", class ? ")" : "");
	}
	(void)printf("%s\n",
	    n_addrs      ? "" :
		resolved ? " none (the name did not resolve)" :
			   " none (no lookup was needed)");
	if (!v->host_valid && v->reason != POLICY_REASON_PROXY_DISABLED)
		(void)printf("note: the host is not a valid host name or IP "
			     "address, so no rule can allow it\n");
	if (v->reason == POLICY_REASON_PROXY_DISABLED)
		(void)printf("note: the network proxy is disabled in the "
			     "config (network.enabled is false), so every "
			     "request is refused\n");
}

/* HOST[:PORT] -> the request's port (the protocol's default when none). */
static void
cmd_policy_port(const struct cmd_policy_args *a, struct policy_request *req)
{
	struct policy_host h;

	req->port = a->protocol == POLICY_PROTOCOL_HTTP ? 80 : 443;
	if (policy_host_parse(a->target, strlen(a->target), &h) == 0 &&
	    h.has_port)
		req->port = h.port;
	req->method = a->method;
	if (!req->method && a->protocol == POLICY_PROTOCOL_HTTP)
		req->method = "GET";
	else if (!req->method && a->protocol == POLICY_PROTOCOL_HTTPS_CONNECT)
		req->method = "CONNECT";
}

static int
cmd_policy_check(int argc, char **argv)
{
	struct cmd_policy_args a = { .protocol =
					 POLICY_PROTOCOL_HTTPS_CONNECT };
	struct policy_addr addrs[LIMIT_DNS_ADDRS];
	struct policy_request req = { 0 };
	struct config_diags *d = NULL;
	struct config *cfg = NULL;
	struct policy_settings settings;
	struct policy_verdict v;
	struct policy_error perr;
	struct policy *p = NULL;
	size_t n_addrs = 0;
	bool resolved = false;
	int r;

	cfgopts_init(&a.cfg);
	r = cmd_policy_parse(&a, argc, argv);
	if (r >= 0)
		goto out;
	r = CLI_EXIT_USAGE;
	cfg = cfgopts_load(&a.cfg, false, &d);
	if (!cfg)
		goto out;
	config_policy_settings(cfg, &settings);
	if (policy_new(&settings, &p, &perr) < 0) {
		(void)fprintf(stderr,
		    "paddock: cannot compile the policy: %s\n", perr.message);
		goto out;
	}
	req.protocol = a.protocol;
	req.host = a.target;
	req.client = a.client;
	cmd_policy_port(&a, &req);
	if (!cmd_policy_judge(p, &a, &req, addrs, &n_addrs, &resolved, &v)) {
		(void)fputs("paddock: the policy engine came to no verdict\n",
		    stderr);
		goto out;
	}
	/* An IP literal is the address that was judged. */
	if (!resolved && v.host_valid && v.host.kind != POLICY_HOST_NAME) {
		addrs[0] = policy_host_addr(&v.host);
		n_addrs = 1;
	}
	if (a.json) {
		json_t *j = cmd_policy_json(&req, &v, addrs, n_addrs);
		char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;

		json_decref(j);
		if (!text) {
			(void)fputs("paddock: out of memory\n", stderr);
			goto out;
		}
		(void)printf("%s\n", text);
		free(text);
	} else {
		cmd_policy_print(&req, &v, addrs, n_addrs, resolved);
	}
	r = v.decision == POLICY_DECISION_ALLOW ? CLI_EXIT_OK :
						  CLI_EXIT_FAILURE;
out:
	policy_unref(p);
	config_free(cfg);
	config_diags_free(d);
	cfgopts_done(&a.cfg);
	return r;
}

int
cmd_policy(int argc, char **argv)
{
	static const struct cli_command subs[] = {
		{ "check", "judge one request", cmd_policy_check },
		{ NULL, NULL, NULL },
	};

	return cli_dispatch(argc, argv, subs, cmd_policy_usage);
}
