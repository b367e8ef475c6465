/* SPDX-License-Identifier: MIT */
/*
 * The proxy's limits: defaults, the --limit NAME=VALUE settings (a
 * duration such as 250ms, 10s or 5m, or a count), and their description
 * in `paddock proxy --help`.
 */
#include "proxy/proxy.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/compiler.h"
#include "util/limits.h"
#include "util/strparse.h"
#include "util/strutil.h"

struct proxy_limit_desc {
	const char *name;
	size_t offset;
	bool duration;
	uint64_t min, max;
};

static const struct proxy_limit_desc proxy_limit_descs[] = {
	{ "head-timeout", offsetof(struct proxy_limits, head_timeout_ms), true,
	    1, 3600000 },
	{ "connect-timeout", offsetof(struct proxy_limits, connect_timeout_ms),
	    true, 1, 3600000 },
	{ "idle-timeout", offsetof(struct proxy_limits, idle_timeout_ms), true,
	    1, 86400000 },
	{ "dns-timeout", offsetof(struct proxy_limits, dns_timeout_ms), true, 1,
	    600000 },
	{ "decider-timeout", offsetof(struct proxy_limits, decider_timeout_ms),
	    true, 1, 86400000 },
	{ "shutdown-grace", offsetof(struct proxy_limits, shutdown_grace_ms),
	    true, 0, 3600000 },
	{ "sessions", offsetof(struct proxy_limits, sessions), false, 1,
	    LIMIT_SESSIONS_MAX },
	{ "log-queue", offsetof(struct proxy_limits, log_queue), false, 1,
	    LIMIT_LOG_QUEUE },
};

void
proxy_limits_init(struct proxy_limits *l)
{
	*l = (struct proxy_limits){
		.head_timeout_ms = LIMIT_HTTP_HEAD_TIMEOUT_MS,
		.connect_timeout_ms = LIMIT_CONNECT_TIMEOUT_MS,
		.idle_timeout_ms = LIMIT_IDLE_TIMEOUT_MS,
		.dns_timeout_ms = LIMIT_DNS_TIMEOUT_MS,
		.decider_timeout_ms = LIMIT_DECIDER_TIMEOUT_MS,
		.shutdown_grace_ms = LIMIT_SHUTDOWN_GRACE_MS,
		.sessions = LIMIT_SESSIONS,
		.log_queue = LIMIT_LOG_QUEUE,
	};
}

/* "250ms", "10s", "5m": a number and a unit. */
static int
proxy_limits_parse_duration(const char *v, uint64_t *ret_ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 } };

	size_t digits = strspn(v, "0123456789");
	uint64_t n;
	int r;

	if (digits == 0)
		return -EINVAL;
	r = strparse_u64(v, digits, UINT32_MAX, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(units); i++)
		if (streq(v + digits, units[i].unit)) {
			*ret_ms = n * units[i].ms;
			return 0;
		}
	return -EINVAL;
}

int
proxy_limits_set(struct proxy_limits *l, const char *name, const char *value)
{
	for (size_t i = 0; i < ELEMENTSOF(proxy_limit_descs); i++) {
		const struct proxy_limit_desc *d = &proxy_limit_descs[i];
		uint64_t v;
		int r;

		if (!streq(d->name, name))
			continue;
		r = d->duration ? proxy_limits_parse_duration(value, &v) :
				  strparse_u64_str(value, UINT64_MAX, &v);
		if (r < 0)
			return r;
		if (v < d->min || v > d->max)
			return -ERANGE;
		*(uint64_t *)(void *)((char *)l + d->offset) = v;
		return 0;
	}
	return -ENOENT;
}

int
proxy_limits_describe(const struct proxy_limits *l, struct buf *out)
{
	int r = 0;

	for (size_t i = 0; i < ELEMENTSOF(proxy_limit_descs) && r >= 0; i++) {
		const struct proxy_limit_desc *d = &proxy_limit_descs[i];
		uint64_t v = *(const uint64_t *)(const void *)((const char *)l +
		    d->offset);

		r = buf_printf(out,
		    d->duration ? "  %s=%" PRIu64 "ms\n" : "  %s=%" PRIu64 "\n",
		    d->name, v);
	}
	return r;
}
