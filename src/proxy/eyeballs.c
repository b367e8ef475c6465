/* SPDX-License-Identifier: MIT */
/* RFC 8305 §4 address interleaving. */
#include "proxy/eyeballs.h"

#include <sys/socket.h>

#include <stdbool.h>
#include <string.h>

#include "policy/policy.h"
#include "util/limits.h"

size_t
eyeballs_order(struct policy_addr *addrs, size_t n)
{
	struct policy_addr v6[LIMIT_DNS_ADDRS], v4[LIMIT_DNS_ADDRS];
	size_t n6 = 0, n4 = 0, out = 0;

	if (n > LIMIT_DNS_ADDRS)
		n = LIMIT_DNS_ADDRS;
	for (size_t i = 0; i < n; i++) {
		bool dup = false;

		for (size_t k = 0; k < i && !dup; k++)
			dup = policy_addr_equal(&addrs[i], &addrs[k]);
		if (dup)
			continue;
		if (addrs[i].family == AF_INET6)
			v6[n6++] = addrs[i];
		else if (addrs[i].family == AF_INET)
			v4[n4++] = addrs[i];
	}
	for (size_t i = 0; i < n6 || i < n4; i++) {
		if (i < n6)
			addrs[out++] = v6[i];
		if (i < n4)
			addrs[out++] = v4[i];
	}
	return out;
}
