/* SPDX-License-Identifier: MIT */
/*
 * The compiled pattern set of a policy: answers "which allow rule and which
 * deny rule match this host" in time that does not grow with the number of
 * exact or suffix patterns. Internal to src/policy/.
 *
 * Exact hosts and the "*.x"/"**.x" suffixes live in one trie over reversed
 * labels ("a.example.com" is com -> example -> a), whose edges sit in one
 * hash table keyed by (parent node, label). Globs hang off the trie node
 * of the whole labels their literal tail ends with ("region*.v2.x.com" off
 * com -> x -> v2), so only globs that could match are ever tried; a glob
 * without such a tail hangs off the root and is tried for every host.
 *
 * Built once, then read-only: concurrent hostset_match() calls are safe.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/pattern.h"

#define HOSTSET_NONE  UINT32_MAX
#define HOSTSET_LISTS 2 /* indexed by enum policy_list */

struct hostset;

struct hostset *hostset_new(void);

/* Accepts NULL; returns NULL. */
struct hostset *hostset_free(struct hostset *s);

/*
 * Add one brace-free alternative body[0..len) of a rule of the given kind
 * to list (0 or 1). Rules must be added in increasing rule order; when
 * several rules match a host equally well, the first one is reported.
 * explicit marks an exact literal allow entry (spec network §2.4: the only
 * kind that may allow a local address). Returns 0 or -ENOMEM (the set is
 * then unchanged or holds part of the rule; free it).
 */
int hostset_add(struct hostset *s, enum pattern_kind kind, const char *body,
    size_t len, unsigned list, uint32_t rule, bool explicit);

/* Add every alternative of pattern p (its braces expanded) as
 * hostset_add() does. Returns 0 or -ENOMEM. */
int hostset_add_pattern(struct hostset *s, const struct pattern *p,
    unsigned list, uint32_t rule, bool explicit);

struct hostset_result {
	uint32_t rule[HOSTSET_LISTS]; /* the matching rule, or HOSTSET_NONE */
	uint32_t explicit_allow;      /* an explicit exact allow, or NONE */
};

/*
 * Match canonical host[0..len) against both lists. Per list, the most
 * specific rule is reported: a whole-host match (exact or apex), else the
 * longest matching suffix, else the first glob in rule order (globs with
 * longer literal tails first).
 */
void hostset_match(const struct hostset *s, const char *host, size_t len,
    struct hostset_result *ret);
