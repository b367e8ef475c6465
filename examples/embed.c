/* SPDX-License-Identifier: MIT */
/*
 * embed: run one command behind a paddock proxy, using only the public
 * API of libpaddock (include/paddock.h).
 *
 *	embed --config FILE [--approve HOST]... [--late HOST]...
 *	      [--limit NAME=VALUE]... -- COMMAND [ARG...]
 *
 * The proxy enforces the permission profile of FILE. Hosts that profile
 * does not allow go to a decider, which approves those named with
 * --approve and denies the rest with the reason "not approved". The
 * decider answers from a thread of its own, as a real one would after
 * asking a person. For a --late host it answers only after the proxy was
 * stopped and freed (the request meanwhile got decider_timeout): a
 * decision handle outlives its proxy and must still be completed. Blocked
 * requests and audit events are printed to stderr; the command runs with
 * the proxy environment and its exit status becomes ours.
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
	const char **late;
	int n_late;
	/* Late answers wait until the proxy is gone. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int proxy_gone;
	int outstanding;
};

struct pending {
	struct paddock_decision *decision;
	char host[256];
	struct approvals *approvals;
};

static int
listed(const char *host, const char **hosts, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(host, hosts[i]) == 0)
			return 1;
	return 0;
}

static void *
answer_later(void *arg)
{
	struct pending *p = arg;
	struct approvals *a = p->approvals;

	if (listed(p->host, a->late, a->n_late)) {
		(void)pthread_mutex_lock(&a->lock);
		while (!a->proxy_gone)
			(void)pthread_cond_wait(&a->cond, &a->lock);
		(void)pthread_mutex_unlock(&a->lock);
	}
	if (listed(p->host, a->hosts, a->n))
		paddock_decision_allow(p->decision);
	else
		paddock_decision_deny(p->decision, "not approved");
	(void)pthread_mutex_lock(&a->lock);
	a->outstanding--;
	(void)pthread_cond_broadcast(&a->cond);
	(void)pthread_mutex_unlock(&a->lock);
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
	(void)pthread_mutex_lock(&p->approvals->lock);
	p->approvals->outstanding++;
	(void)pthread_mutex_unlock(&p->approvals->lock);
	if (pthread_create(&t, NULL, answer_later, p) != 0) {
		(void)pthread_mutex_lock(&p->approvals->lock);
		p->approvals->outstanding--;
		(void)pthread_mutex_unlock(&p->approvals->lock);
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
	(void)
	    fputs("usage: embed --config FILE [--approve HOST]... "
		  "[--late HOST]...\n"
		  "             [--limit NAME=VALUE]... -- COMMAND [ARG...]\n",
		stderr);
	return 2;
}

int
main(int argc, char **argv)
{
	struct paddock_config_options opts = { .system_file = "" };
	struct approvals approvals = { .lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER };
	const char **limits;
	int n_limits = 0;
	struct paddock_config *config = NULL;
	struct paddock_proxy *proxy = NULL;
	char *errors = NULL, addr[64];
	char **env = NULL;
	int i, r, status = 1;
	pid_t pid;

	approvals.hosts = calloc((size_t)argc, sizeof(char *));
	approvals.late = calloc((size_t)argc, sizeof(char *));
	limits = calloc((size_t)argc, sizeof(char *));
	if (!approvals.hosts || !approvals.late || !limits)
		return 1;
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
		if (i + 1 >= argc)
			return usage();
		if (strcmp(argv[i], "--config") == 0)
			opts.config_file = argv[i + 1];
		else if (strcmp(argv[i], "--approve") == 0)
			approvals.hosts[approvals.n++] = argv[i + 1];
		else if (strcmp(argv[i], "--late") == 0)
			approvals.late[approvals.n_late++] = argv[i + 1];
		else if (strcmp(argv[i], "--limit") == 0)
			limits[n_limits++] = argv[i + 1];
		else
			return usage();
	}
	if (!opts.config_file || i + 1 >= argc)
		return usage();

	/* Blocks and audit events are printed below; the library's own
	 * per-connection log lines are not needed here. */
	(void)paddock_set_log_level("warn");
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
	for (int k = 0; k < n_limits; k++) {
		char name[64];
		const char *eq = strchr(limits[k], '=');

		if (!eq || (size_t)(eq - limits[k]) >= sizeof(name))
			return usage();
		memcpy(name, limits[k], (size_t)(eq - limits[k]));
		name[eq - limits[k]] = '\0';
		if (paddock_proxy_set_limit(proxy, name, eq + 1) < 0) {
			(void)fprintf(stderr, "embed: bad limit %s\n",
			    limits[k]);
			goto out;
		}
	}
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
	/* Late answers come now, to handles whose proxy is gone. */
	(void)pthread_mutex_lock(&approvals.lock);
	approvals.proxy_gone = 1;
	(void)pthread_cond_broadcast(&approvals.cond);
	while (approvals.outstanding > 0)
		(void)pthread_cond_wait(&approvals.cond, &approvals.lock);
	(void)pthread_mutex_unlock(&approvals.lock);
	free(errors);
	free(approvals.hosts);
	free(approvals.late);
	free(limits);
	return status;
}
