/* SPDX-License-Identifier: MIT */
/*
 * `paddock run --ask`: the policy engine's decider, asking on paddock's
 * own controlling terminal (/dev/tty, never the command's stdin) whether
 * a request outside the allowlist may pass: allow once, allow for this
 * run (that host:port is then allowed without asking until the run ends),
 * or deny. A prompt that gets no answer within its timeout denies.
 *
 * The proxy calls the decider on its decider thread, never on a worker's
 * loop; run_ask_decider() only queues the question and returns. One
 * thread of this module asks, one question at a time, in the order they
 * came: a second request for a host waits for the first answer, and an
 * answer "for this run" settles the questions still waiting for it.
 * Without a terminal every question is denied, and paddock says why once
 * on stderr.
 *
 * Thread rules: run_ask_new() and run_ask_free() from the controlling
 * thread; run_ask_decider() from any thread (it is a paddock_decider_fn).
 */
#pragma once

#include <stdint.h>

#include "paddock.h"

struct run_ask;

/*
 * Open /dev/tty (a missing terminal is not an error: questions are then
 * denied) and start the asking thread. timeout_ms bounds each prompt.
 * Returns 0 with *ret, or -ENOMEM / a negative errno from
 * pthread_create().
 */
int run_ask_new(uint64_t timeout_ms, struct run_ask **ret);

/* Stop the thread, deny every question still waiting and close the
 * terminal. Call after the proxy was stopped. Accepts NULL; returns
 * NULL. */
struct run_ask *run_ask_free(struct run_ask *a);

/* The decider (userdata: the struct run_ask). */
void run_ask_decider(const struct paddock_request *req,
    struct paddock_decision *d, void *userdata);

/*
 * The prompt timeout: PADDOCK_ASK_TIMEOUT (a duration: "500ms", "10s",
 * "2m") or LIMIT_ASK_TIMEOUT_MS. Returns 0, or -EINVAL with the default
 * in *ret for a bad value.
 */
int run_ask_timeout_from_env(uint64_t *ret);
