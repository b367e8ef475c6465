/* SPDX-License-Identifier: MIT */
/*
 * Fuzz host canonicalisation. Checks, for any input:
 *  - a valid result is canonical: parsing its text again gives the same
 *    kind, text and address;
 *  - a name has only name bytes, no empty or long label, and no numeric
 *    last label; IPv4 and IPv6 text round-trips through inet_pton;
 *  - nothing the C library's own IPv4 parser (inet_aton, which resolvers
 *    use for numeric hosts) reads as an address is judged a name, or as a
 *    different address.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "policy/policy.h"
#include "util/strutil.h"

static void
check_name(const char *t)
{
	size_t n = strlen(t), label = 0;
	const char *last = strrchr(t, '.');
	bool numeric = true;

	if (n == 0 || n > POLICY_HOST_NAME_MAX)
		abort();
	for (size_t i = 0; i <= n; i++) {
		if (i == n || t[i] == '.') {
			if (label == 0 || label > 63)
				abort();
			label = 0;
			continue;
		}
		if (!ascii_isdigit(t[i]) && !(t[i] >= 'a' && t[i] <= 'z') &&
		    t[i] != '-' && t[i] != '_')
			abort();
		label++;
	}
	for (last = last ? last + 1 : t; *last; last++)
		numeric &= ascii_isdigit(*last);
	if (numeric)
		abort();
}

static void
check_addr(const struct policy_host *h)
{
	uint8_t a[16];
	char text[POLICY_HOST_TEXT_MAX];
	char *pct;

	if (h->kind == POLICY_HOST_IPV4) {
		if (inet_pton(AF_INET, h->text, a) != 1 ||
		    memcmp(a, h->addr, 4) != 0)
			abort();
		return;
	}
	memcpy(text, h->text, sizeof(text));
	pct = strchr(text, '%');
	if (pct)
		*pct = '\0';
	if (inet_pton(AF_INET6, text, a) != 1 || memcmp(a, h->addr, 16) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_host h, again;
	struct in_addr in;
	char *copy;
	int r;

	r = policy_host_parse((const char *)data, size, &h);
	if (r == 0) {
		if (policy_host_parse(h.text, strlen(h.text), &again) != 0 ||
		    again.kind != h.kind || strcmp(again.text, h.text) != 0 ||
		    memcmp(again.addr, h.addr, sizeof(h.addr)) != 0)
			abort();
		if (h.kind == POLICY_HOST_NAME)
			check_name(h.text);
		else
			check_addr(&h);
	} else if (r != -EINVAL || h.text[0] != '\0') {
		abort();
	}

	/* The resolver's view of the same bytes. */
	copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	if (r == 0 && strlen(copy) == size && inet_aton(copy, &in) == 1) {
		if (h.kind == POLICY_HOST_NAME)
			abort();
		if (h.kind == POLICY_HOST_IPV4 && memcmp(&in, h.addr, 4) != 0)
			abort();
	}
	free(copy);
	return 0;
}
