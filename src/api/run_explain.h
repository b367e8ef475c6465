/* SPDX-License-Identifier: MIT */
/*
 * `paddock run --explain`: the plan as text or JSON. Values of inherited
 * environment variables are not printed (only their names); the ones
 * paddock sets are.
 */
#pragma once

#include <stdbool.h>

struct buf;
struct childenv;
struct sandbox_plan;

/* Append the plan (finished) to out. env holds the proxy variables when
 * net_proxy. Returns 0 or -ENOMEM. */
int run_explain_format(const struct sandbox_plan *plan,
    const struct childenv *env, bool net_proxy, bool json, struct buf *out);
