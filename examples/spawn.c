/* SPDX-License-Identifier: MIT */
/*
 * spawn: run one command confined to a config's permissions, like
 * `paddock run`, using only the public API of libpaddock
 * (include/paddock.h).
 *
 *	spawn --config FILE [--home DIR] -- COMMAND [ARG...]
 *
 * The command gets the filesystem and network access of the permission
 * profile of FILE (the current directory is the project root), and a
 * proxy of its own. spawn prints the run's execution id, each audit event
 * and each blocked request as they happen, waits for the command with
 * poll() on its pidfd (as an event loop would), lists what was blocked,
 * and exits with the command's status.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paddock.h"

static void
on_audit(const char *json, void *userdata)
{
	(void)userdata;
	(void)fprintf(stderr, "spawn: audit %s\n", json);
}

static void
on_blocked(const struct paddock_blocked *b, void *userdata)
{
	(void)userdata;
	(void)fprintf(stderr, "spawn: blocked now %s:%d (%s)\n", b->host,
	    (int)b->port, b->reason);
}

/* Wait until the command exited without blocking in the library, as an
 * event loop would: poll the pidfd, then collect the status. */
static int
wait_for(struct paddock_spawn *sp)
{
	struct pollfd p = { .fd = paddock_spawn_pidfd(sp), .events = POLLIN };

	while (p.fd >= 0 && poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	return paddock_spawn_wait(sp);
}

int
main(int argc, char **argv)
{
	struct paddock_config_options opts = { .system_file = "" };
	struct paddock_spawn_options so = { .blocked_fn = on_blocked,
		.audit_fn = on_audit };
	struct paddock_config *config = NULL;
	struct paddock_spawn *sp = NULL;
	struct paddock_blocked *blocked = NULL;
	char *errors = NULL;
	size_t n = 0;
	int i, r, status;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
		if (i + 1 >= argc)
			break;
		if (strcmp(argv[i], "--config") == 0)
			opts.config_file = argv[i + 1];
		else if (strcmp(argv[i], "--home") == 0)
			opts.home = argv[i + 1];
		else
			break;
	}
	if (i + 1 >= argc || strcmp(argv[i], "--") != 0) {
		(void)fputs("usage: spawn --config FILE [--home DIR] -- "
			    "COMMAND [ARG...]\n",
		    stderr);
		return 2;
	}
	r = paddock_config_load(&opts, &config, &errors);
	if (r < 0) {
		(void)fprintf(stderr, "spawn: config: %s\n",
		    errors ? errors : strerror(-r));
		free(errors);
		return 1;
	}
	r = paddock_spawn_new(config, argv + i + 1, &so, &sp, &errors);
	if (r < 0) {
		(void)fprintf(stderr, "spawn: %s\n",
		    errors ? errors : strerror(-r));
		free(errors);
		paddock_config_free(config);
		return 1;
	}
	r = paddock_spawn_start(sp);
	/* The config is no longer needed once the command started. */
	paddock_config_free(config);
	if (r < 0) {
		(void)fprintf(stderr, "spawn: %s\n", paddock_spawn_error(sp));
		paddock_spawn_free(sp);
		return r == -ENOENT ? 127 : 126;
	}
	(void)fprintf(stderr, "spawn: execution %s pid %ld\n",
	    paddock_spawn_execution_id(sp), (long)paddock_spawn_pid(sp));
	status = wait_for(sp);
	if (status < 0) {
		(void)fprintf(stderr, "spawn: wait: %s\n", strerror(-status));
		status = 1;
	}
	if (paddock_spawn_blocked(sp, &blocked, &n) == 0) {
		for (size_t k = 0; k < n; k++)
			(void)fprintf(stderr, "spawn: blocked %s:%d %s\n",
			    blocked[k].host, (int)blocked[k].port,
			    blocked[k].reason);
		free(blocked);
	}
	(void)fprintf(stderr, "spawn: %llu blocked in all, exit status %d\n",
	    (unsigned long long)paddock_spawn_blocked_total(sp), status);
	paddock_spawn_free(sp);
	return status;
}
