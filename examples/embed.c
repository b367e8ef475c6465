/* SPDX-License-Identifier: MIT */
/*
 * embed: run one command behind a paddock proxy, using only the public
 * API of libpaddock (include/paddock.h).
 *
 *	embed --config FILE [--approve HOST]... -- COMMAND [ARG...]
 *
 * The proxy enforces the permission profile of FILE. Hosts that profile
 * does not allow go to a decider, which approves those named with
 * --approve and denies the rest with the reason "not approved". The
 * decider answers from a thread of its own, as a real one would after
 * asking a person. Blocked requests and audit events are printed to
 * stderr; the command runs with the proxy environment and its exit status
 * becomes ours.
 */
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "paddock.h"

extern char **environ;

struct approvals {
	const char **hosts;
	int n;
};

struct pending {
	struct paddock_decision *decision;
	char host[256];
	const struct approvals *approvals;
};

static void *
answer_later(void *arg)
{
	struct pending *p = arg;
	int ok = 0;

	for (int i = 0; i < p->approvals->n; i++)
		if (strcmp(p->host, p->approvals->hosts[i]) == 0)
			ok = 1;
	if (ok)
		paddock_decision_allow(p->decision);
	else
		paddock_decision_deny(p->decision, "not approved");
	free(p);
	return NULL;
}

/* Called on a paddock thread: hand the question to another thread and
 * return at once, as a prompt would. */
static void
decide(const struct paddock_request *req, struct paddock_decision *decision,
    void *userdata)
{
	struct pending *p = calloc(1, sizeof(*p));
	pthread_t t;

	if (!p) {
		paddock_decision_deny(decision, "out of memory");
		return;
	}
	p->decision = decision;
	p->approvals = userdata;
	(void)snprintf(p->host, sizeof(p->host), "%s", req->host);
	if (pthread_create(&t, NULL, answer_later, p) != 0) {
		free(p);
		paddock_decision_deny(decision, "no thread");
		return;
	}
	(void)pthread_detach(t);
}

static void
on_blocked(const struct paddock_blocked *b, void *userdata)
{
	(void)userdata;
	(void)fprintf(stderr, "embed: blocked %s %s:%d (%s, %s)\n", b->protocol,
	    b->host, (int)b->port, b->reason,
	    b->decision ? b->decision : "deny");
}

static void
on_audit(const char *json, void *userdata)
{
	(void)userdata;
	(void)fprintf(stderr, "embed: audit %s\n", json);
}

static int
usage(void)
{
	(void)fputs("usage: embed --config FILE [--approve HOST]... -- "
		    "COMMAND [ARG...]\n",
	    stderr);
	return 2;
}

int
main(int argc, char **argv)
{
	struct paddock_config_options opts = { .system_file = "" };
	struct approvals approvals = { 0 };
	struct paddock_config *config = NULL;
	struct paddock_proxy *proxy = NULL;
	char *errors = NULL, addr[64];
	char **env = NULL;
	int i, r, status = 1;
	pid_t pid;

	approvals.hosts = calloc((size_t)argc, sizeof(char *));
	if (!approvals.hosts)
		return 1;
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
		if (i + 1 >= argc)
			return usage();
		if (strcmp(argv[i], "--config") == 0)
			opts.config_file = argv[i + 1];
		else if (strcmp(argv[i], "--approve") == 0)
			approvals.hosts[approvals.n++] = argv[i + 1];
		else
			return usage();
	}
	if (!opts.config_file || i + 1 >= argc)
		return usage();

	r = paddock_config_load(&opts, &config, &errors);
	if (r < 0) {
		(void)fprintf(stderr, "embed: config: %s\n%s", strerror(-r),
		    errors ? errors : "");
		goto out;
	}
	r = paddock_proxy_new(config, &proxy);
	paddock_config_free(config); /* the proxy keeps what it needs */
	if (r < 0) {
		(void)fprintf(stderr, "embed: proxy: %s\n", strerror(-r));
		goto out;
	}
	(void)paddock_proxy_set_decider(proxy, decide, &approvals);
	(void)paddock_proxy_set_blocked_observer(proxy, on_blocked, NULL);
	(void)paddock_proxy_set_audit_sink(proxy, on_audit, NULL);
	r = paddock_proxy_start(proxy);
	if (r < 0) {
		(void)fprintf(stderr, "embed: start: %s\n",
		    paddock_proxy_error(proxy));
		goto out;
	}
	if (paddock_proxy_address(proxy, PADDOCK_LISTENER_HTTP, addr,
		sizeof(addr)) > 0)
		(void)fprintf(stderr, "embed: paddock %s listening on %s\n",
		    paddock_version(), addr);

	env = paddock_proxy_environ(proxy, environ);
	if (!env)
		goto out;
	r = posix_spawnp(&pid, argv[i + 1], NULL, NULL, argv + i + 1, env);
	if (r != 0) {
		(void)fprintf(stderr, "embed: %s: %s\n", argv[i + 1],
		    strerror(r));
		goto out;
	}
	if (waitpid(pid, &r, 0) == pid && WIFEXITED(r))
		status = WEXITSTATUS(r);
out:
	paddock_environ_free(env);
	if (proxy)
		(void)paddock_proxy_stop(proxy);
	paddock_proxy_free(proxy);
	free(errors);
	free(approvals.hosts);
	return status;
}
