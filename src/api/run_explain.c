/* SPDX-License-Identifier: MIT */
/* The --explain output of paddock run; see run_explain.h. */
#include "api/run_explain.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/childenv.h"
#include "sandbox/sandbox.h"
#include "util/buf.h"
#include "util/strutil.h"

/* Is the variable entry (NAME=value) one paddock sets itself? */
static bool
run_explain_ours(const struct childenv *env, bool net_proxy, const char *var)
{
	size_t len = strcspn(var, "=");

	if (len == strlen("CODEX_SANDBOX_NETWORK_DISABLED") &&
	    strncmp(var, "CODEX_SANDBOX_NETWORK_DISABLED", len) == 0)
		return true;
	for (size_t i = 0; net_proxy && i < env->n_vars; i++)
		if (strlen(env->vars[i].name) == len &&
		    strncmp(env->vars[i].name, var, len) == 0)
			return true;
	return false;
}

static void
run_explain_listener(const struct sandbox_listener *l, char *out, size_t sz)
{
	char host[INET6_ADDRSTRLEN] = "?";

	(void)inet_ntop(l->family, l->addr, host, sizeof(host));
	(void)snprintf(out, sz, l->family == AF_INET6 ? "[%s]:%u" : "%s:%u",
	    host, l->port);
}

/* The lines of a generated file that are not comments, "; "-joined. */
static int
run_explain_text_lines(struct buf *b, const char *text)
{
	const char *sep = " ";
	int r = 0;

	while (r >= 0 && *text) {
		size_t len = strcspn(text, "\n");

		if (len > 0 && text[0] != '#') {
			r = buf_printf(b, "%s%.*s", sep, (int)len, text);
			sep = "; ";
		}
		text += len + (text[len] == '\n');
	}
	return r < 0 ? r : buf_printf(b, ")\n");
}

/* Listener i, unless it is one more UDP relay after the first (those
 * are summed up on the first one's line). */
static bool
run_explain_listener_shown(const struct sandbox_plan *p, size_t i,
    size_t *ret_count)
{
	const struct sandbox_listener *l = &p->listeners[i];
	size_t n = 1;

	if (i > 0 && streq(l->role, p->listeners[i - 1].role))
		return false;
	while (
	    i + n < p->n_listeners && streq(p->listeners[i + n].role, l->role))
		n++;
	*ret_count = n;
	return true;
}

/* The network line of a --landlock-only plan. */
static const char *
run_explain_host_net(const struct sandbox_plan *p, bool net_proxy)
{
	(void)p;
	return net_proxy ? "the host's (--landlock-only): TCP connect only to "
			   "the proxy's ports below, no TCP bind, no UDP" :
			   "the host's (--landlock-only): no TCP connect or "
			   "bind, no UDP";
}

static const char *
run_explain_root(const struct sandbox_plan *p)
{
	if (p->landlock_only)
		return "the host's, by Landlock alone";
	return p->root_write ? "writable" :
	    p->root_read     ? "read-only" :
			       "empty";
}

static int
run_explain_text(const struct sandbox_plan *p, const struct childenv *env,
    bool net_proxy, struct buf *b)
{
	char addr[80];
	int r;

	r = buf_printf(b, "command:");
	for (size_t i = 0; r >= 0 && p->argv[i]; i++)
		r = buf_printf(b, " '%s'", p->argv[i]);
	if (r >= 0)
		r = buf_printf(b, "\ncwd: %s\n\nfilesystem (root: %s):\n",
		    p->cwd, run_explain_root(p));
	for (size_t i = 0; r >= 0 && i < p->n_ops; i++) {
		const struct sandbox_op *op = &p->ops[i];

		if (op->type == SANDBOX_OP_MKDIR ||
		    op->type == SANDBOX_OP_TOUCH)
			continue;
		if (op->type == SANDBOX_OP_FILE) {
			r = buf_printf(b, "  %-9s %s (generated:", "file",
			    op->path);
			r = r < 0 ? r : run_explain_text_lines(b, op->src);
			continue;
		}
		r = buf_printf(b, "  %-9s %s%s%s\n",
		    sandbox_op_type_name(op->type), op->path,
		    op->src && op->type == SANDBOX_OP_SYMLINK ? " -> " : "",
		    op->src && op->type == SANDBOX_OP_SYMLINK ? op->src : "");
	}
	if (r >= 0)
		r = buf_printf(b, "\nlandlock (ABI %d%s):\n", p->landlock_abi,
		    p->landlock_abi >= 6 ? ", scoped: abstract unix sockets, "
					   "signals" :
					   "");
	for (size_t i = 0; r >= 0 && i < p->n_rules; i++)
		r = buf_printf(b, "  %-10s %s\n",
		    sandbox_landlock_access_name(p->rules[i].access,
			p->landlock_abi),
		    p->rules[i].path);
	if (r >= 0)
		r = buf_printf(b, "\nseccomp: refuses");
	for (size_t i = 0; r >= 0 && sandbox_seccomp_denied[i]; i++)
		r = buf_printf(b, " %s", sandbox_seccomp_denied[i]);
	if (r >= 0)
		r = buf_printf(b,
		    ", clone with CLONE_NEW*, clone3, ioctl TIOCSTI and "
		    "TIOCLINUX; sockets other than unix, inet, inet6 and "
		    "netlink route; raw sockets%s\n"
		    "privileges: no_new_privs, no capabilities, new session\n"
		    "\nnetwork: %s\n",
		    p->landlock_only ? "; inet sockets other than TCP streams "
				       "(UDP, SCTP, MPTCP)" :
				       "",
		    p->landlock_only ? run_explain_host_net(p, net_proxy) :
			net_proxy ? "own namespace, loopback and the proxy's "
				    "listeners" :
				    "own namespace, loopback only");
	for (size_t i = 0; r >= 0 && i < p->n_listeners; i++) {
		const struct sandbox_listener *l = &p->listeners[i];
		size_t n;

		if (!run_explain_listener_shown(p, i, &n))
			continue;
		run_explain_listener(l, addr, sizeof(addr));
		if (n > 1)
			r = buf_printf(b, "  %zu udp sockets %s (%s)\n", n,
			    addr, l->role);
		else
			r = buf_printf(b, "  %s %s (%s)%s\n",
			    l->datagram ? "udp" : "listener", addr, l->role,
			    l->port == 0 ? ", an ephemeral port chosen at "
					   "start" :
					   "");
	}
	if (r >= 0)
		r = buf_printf(b, "\nenvironment:\n");
	for (size_t i = 0; r >= 0 && p->envp[i]; i++) {
		if (run_explain_ours(env, net_proxy, p->envp[i]))
			r = buf_printf(b, "  %s\n", p->envp[i]);
		else
			r = buf_printf(b, "  %.*s (inherited)\n",
			    (int)strcspn(p->envp[i], "="), p->envp[i]);
	}
	return r;
}

static json_t *
run_explain_json_env(const struct sandbox_plan *p, const struct childenv *env,
    bool net_proxy)
{
	json_t *o = json_object();

	for (size_t i = 0; o && p->envp[i]; i++) {
		size_t len = strcspn(p->envp[i], "=");
		char *name = strndup(p->envp[i], len);
		json_t *v = run_explain_ours(env, net_proxy, p->envp[i]) ?
		    json_string(p->envp[i] + len + 1) :
		    json_null();

		if (!name || !v || json_object_set_new(o, name, v) < 0) {
			free(name);
			json_decref(o);
			return NULL;
		}
		free(name);
	}
	return o;
}

static json_t *
run_explain_json(const struct sandbox_plan *p, const struct childenv *env,
    bool net_proxy)
{
	json_t *mounts = json_array(), *rules = json_array();
	json_t *argv = json_array(), *denied = json_array();
	json_t *listeners = json_array(), *ports;
	char addr[80];

	for (size_t i = 0; mounts && i < p->n_ops; i++) {
		const struct sandbox_op *op = &p->ops[i];

		if (op->type == SANDBOX_OP_MKDIR ||
		    op->type == SANDBOX_OP_TOUCH)
			continue;
		(void)json_array_append_new(mounts,
		    json_pack("{s:s, s:s, s:s*, s:s*}", "op",
			sandbox_op_type_name(op->type), "path", op->path,
			"target",
			op->type == SANDBOX_OP_SYMLINK ? op->src : NULL, "text",
			op->type == SANDBOX_OP_FILE ? op->src : NULL));
	}
	for (size_t i = 0; rules && i < p->n_rules; i++)
		(void)json_array_append_new(rules,
		    json_pack("{s:s, s:s, s:I}", "path", p->rules[i].path,
			"access",
			sandbox_landlock_access_name(p->rules[i].access,
			    p->landlock_abi),
			"mask", (json_int_t)p->rules[i].access));
	for (size_t i = 0; argv && p->argv[i]; i++)
		(void)json_array_append_new(argv, json_string(p->argv[i]));
	for (size_t i = 0; denied && sandbox_seccomp_denied[i]; i++)
		(void)json_array_append_new(denied,
		    json_string(sandbox_seccomp_denied[i]));
	for (size_t i = 0; listeners && i < p->n_listeners; i++) {
		const struct sandbox_listener *l = &p->listeners[i];
		size_t n;

		if (!run_explain_listener_shown(p, i, &n))
			continue;
		run_explain_listener(l, addr, sizeof(addr));
		/* TCP listeners: one each; UDP sockets say so, and how
		 * many there are at that address. */
		(void)json_array_append_new(listeners,
		    l->datagram ? json_pack("{s:s, s:s, s:s, s:i}", "frontend",
				      l->role, "address", addr, "transport",
				      "udp", "count", (int)n) :
				  json_pack("{s:s, s:s}", "frontend", l->role,
				      "address", addr));
	}
	ports = p->landlock_only ? json_array() : NULL;
	for (size_t i = 0; ports && i < p->n_listeners; i++)
		(void)json_array_append_new(ports,
		    json_integer(p->listeners[i].port));
	return json_pack("{s:s, s:o, s:s, s:{s:s, s:o}, s:{s:i, s:b, s:o}, "
			 "s:{s:o, s:[s,s,s,s], s:b}, s:{s:s, s:o, s:o*}, s:o*}",
	    "sandbox", p->landlock_only ? "landlock-only" : "namespaces",
	    "command", argv, "cwd", p->cwd, "filesystem", "root",
	    run_explain_root(p), "mounts", mounts, "landlock", "abi",
	    p->landlock_abi, "scoped", p->landlock_abi >= 6, "rules", rules,
	    "seccomp", "denied", denied, "socket_families", "unix", "inet",
	    "inet6", "netlink_route", "inet_tcp_only", p->landlock_only,
	    "network", "mode",
	    p->landlock_only ? (net_proxy ? "host-proxy" : "host-none") :
		net_proxy    ? "proxy" :
			       "none",
	    "listeners", listeners, "tcp_connect_ports", ports, "environment",
	    run_explain_json_env(p, env, net_proxy));
}

int
run_explain_format(const struct sandbox_plan *plan, const struct childenv *env,
    bool net_proxy, bool json, struct buf *out)
{
	json_t *o;
	char *text;
	int r;

	if (!json)
		return run_explain_text(plan, env, net_proxy, out);
	o = run_explain_json(plan, env, net_proxy);
	if (!o)
		return -ENOMEM;
	text = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	if (!text)
		return -ENOMEM;
	r = buf_append_str(out, text);
	if (r >= 0)
		r = buf_append_char(out, '\n');
	free(text);
	return r;
}
