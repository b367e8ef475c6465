/* SPDX-License-Identifier: MIT */
/*
 * `paddock run`: run a command confined to its permission profile.
 *
 * The orchestration: build the sandbox plan from the loaded config (the
 * filesystem by run_plan.c, the network mode, the child's environment),
 * spawn the confined child (src/sandbox), serve the proxy's listeners it
 * made inside its network namespace, let it run the command, forward
 * signals, wait, and return the command's status (128+N when a signal N
 * killed it).
 *
 * It never runs the command unconfined: any restriction that cannot be
 * applied ends the run before exec with one line on stderr naming the
 * cause and the fix.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct buf;

enum run_explain {
	RUN_EXPLAIN_NONE, /* run the command */
	RUN_EXPLAIN_TEXT,
	RUN_EXPLAIN_JSON,
	_RUN_EXPLAIN_MAX,
};

struct run_options {
	char *const *argv; /* the command; argc >= 1 */
	size_t argc;
	enum run_explain explain;
	bool quiet; /* no notes on stderr */
	/* The fallback without namespaces: Landlock and seccomp only, the
	 * proxy on the host's loopback (docs/sandbox.md). */
	bool landlock_only;
	/* Ask on the terminal about requests outside the allowlist
	 * (run_ask.h), each prompt denying after ask_timeout_ms. */
	bool ask;
	uint64_t ask_timeout_ms;
	/* The paddock binary, for GIT_SSH_COMMAND through 'paddock connect'
	 * (absolute), or NULL. */
	const char *self_exe;
};

/*
 * Run (or explain) o->argv under cfg (borrowed). Reads the environment
 * (environ, TMPDIR). Blocks SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
 * SIGUSR2 and SIGCHLD in the calling thread while the command runs and
 * forwards the first five to it. Call from the main thread (the child's
 * parent-death signal follows the thread that spawned it). Returns the
 * exit status for the process: the command's, or 1 when paddock failed
 * (said on stderr), 126/127 when the command could not be executed.
 */
int run_main(const struct config *cfg, const struct run_options *o);
