/* SPDX-License-Identifier: MIT */
/*
 * From a loaded config (src/config) to the runtime's plain settings: the
 * listener addresses as the config resolved and clamped them, the network
 * switches, and the policy compiled from the effective rules.
 */
#pragma once

#include <stddef.h>

#include "proxy/proxy.h"

struct config;

/*
 * Fill ret from cfg with default limits and worker count. The policy is
 * compiled into ret->policy (a reference the caller drops with
 * proxy_settings_done()). Returns 0, -ENOMEM, or -EINVAL with a message in
 * err (errsz bytes).
 */
int proxy_settings_from_config(const struct config *cfg,
    struct proxy_settings *ret, char *err, size_t errsz);

/* Drop what proxy_settings_from_config() created. */
void proxy_settings_done(struct proxy_settings *s);
