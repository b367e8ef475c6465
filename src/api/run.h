/* SPDX-License-Identifier: MIT */
/*
 * `paddock run`: run a command confined to its permission profile.
 *
 * The orchestration: build the sandbox plan from the loaded config (the
 * filesystem by run_plan.c, the network mode, the child's environment),
 * spawn the confined child (src/sandbox), serve the proxy's listeners it
 * made inside its network namespace, let it run the command, wait, and
 * return the command's status (128+N when a signal N killed it).
 *
 * One lifecycle serves the CLI and the library (paddock_spawn_*):
 * run_new() builds the plan, run_start() spawns and starts the run's own
 * proxy, run_wait() (or the CLI's run_wait_forwarding()) reaps the command
 * and stops the proxy, run_free() releases everything. Every run has an
 * execution id that each audit event of its proxy carries.
 *
 * It never runs the command unconfined: any restriction that cannot be
 * applied ends the run before exec with one line (run_error()) naming the
 * cause and the fix.
 *
 * Threads and signals: run_new(), run_start(), run_wait() and run_free()
 * are called from one controlling thread; run_pid(), run_signal(),
 * run_blocked() and run_get_execution_id() from any thread while the run
 * exists. Only run_wait_forwarding() and run_main() touch the signal mask.
 * The command's parent-death signal follows the thread that called
 * run_start(): if that thread exits, the command is killed.
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "paddock.h"

struct blocked_record;
struct buf;
struct config;

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
	/* The environment the command's is made from (NULL-terminated), or
	 * NULL for environ. */
	char *const *envp;
	/* Audit events: --audit FILE or "-" (stderr), and/or a callback. */
	const char *audit_arg;
	paddock_audit_fn audit_fn;
	void *audit_userdata;
	/* Called for each blocked request besides the run's own records. */
	paddock_blocked_fn blocked_fn;
	void *blocked_userdata;
};

struct run;

/*
 * Prepare a run of o->argv under cfg: the plan, the environment, the
 * execution id. cfg and every pointer in o are borrowed and must outlive
 * the run. Unless o->explain, missing metadata placeholders are taken
 * on the host now (run_placeholder.h; run_free() lets go of them, and the
 * last run using one removes it). Returns 0 with *ret (free
 * with run_free()), or a negative errno with a message in err.
 */
int run_new(const struct config *cfg, const struct run_options *o,
    struct run **ret, char *err, size_t errsz);

/* The plan as text or JSON (--explain). Returns 0 or -ENOMEM. */
int run_explain(const struct run *r, bool json, struct buf *out);

/*
 * Spawn the command and start the run's proxy. Returns 0 once the command
 * runs, or a negative errno with run_error() set (nothing left running;
 * run_start_status() gives the exit status for it). Once per run: later
 * calls return -EALREADY.
 */
int run_start(struct run *r);

/* The last error of run_new()/run_start(), "" when none. Borrowed. */
const char *run_error(const struct run *r);

/* The process status for a failed run_start(): 127 when the command was
 * not found, 126 when it could not be executed, else 1. */
int run_start_status(const struct run *r);

/* pid 1 of the sandbox (the command's parent), or -1 before run_start(). */
pid_t run_pid(const struct run *r);

/* A pidfd for it (readable when it exited), or -1. Borrowed. */
int run_pidfd(const struct run *r);

/* Send sig to the command (the sandbox's pid 1 forwards it to the
 * command's process group; SIGKILL ends the whole sandbox). Returns 0,
 * -ESRCH once it was reaped, or another negative errno. */
int run_signal(struct run *r, int sig);

/*
 * Wait for the command without touching signals (waitid on the pidfd,
 * retried on EINTR), then stop the proxy and remove the placeholders.
 * Returns the exit status (128+N for signal N), the same again on later
 * calls, or -ECHILD when the run was not started (or someone else reaped
 * the child).
 */
int run_wait(struct run *r);

/*
 * The CLI's wait: set holds the signals the caller blocked before
 * run_start() (SIGCHLD among them); the others in it are forwarded to the
 * command until it exits. Then as run_wait().
 */
int run_wait_forwarding(struct run *r, const sigset_t *set);

/* The blocked requests so far (the last LIMIT_BLOCKED_RECORDS), oldest
 * first; caller frees *ret (NULL when none). Returns 0 or -ENOMEM. */
int run_blocked(struct run *r, struct blocked_record **ret, size_t *ret_n);

/* Every blocked request of the run, ever (saturating). */
uint64_t run_blocked_total(struct run *r);

/* Append the blocked summary (run_report.h) to out; nothing when nothing
 * was blocked. After run_wait(). Returns 0 or -ENOMEM. */
int run_summary(const struct run *r, struct buf *out);

/* The execution id, a UUID (version 4) as 36 characters. Borrowed. */
const char *run_get_execution_id(const struct run *r);

/* Kill and reap a command still running, then free. Accepts NULL;
 * returns NULL. */
struct run *run_free(struct run *r);

/*
 * The CLI: run (or explain) o->argv under cfg (borrowed). Reads the
 * environment (environ, TMPDIR). Blocks SIGINT, SIGTERM, SIGHUP, SIGQUIT,
 * SIGUSR1, SIGUSR2 and SIGCHLD in the calling thread while the command
 * runs and forwards the first six to it; prints the blocked summary on
 * stderr unless o->quiet. Call from the main thread. Returns the exit
 * status for the process: the command's, or 1 when paddock failed (said
 * on stderr), 126/127 when the command could not be executed.
 */
int run_main(const struct config *cfg, const struct run_options *o);
