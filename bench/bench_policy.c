/* SPDX-License-Identifier: MIT */
/*
 * How long one policy decision takes with a large rule set.
 *
 * Builds a policy of 10,000 patterns (mostly exact hosts, then "*.x" and
 * "**.x" suffixes, a deny list, and some mid-label globs, a few of which
 * have no literal tail and so are tried for every host), then times
 * policy_judge() once per call over a shuffled mix of hosts that hit and
 * miss. The host is already resolved to a public address, so each call is
 * one complete decision: canonicalise, deny list, address check, allow
 * list.
 *
 * Prints one "key: value" line per figure for bench/bench_policy.py.
 * Deterministic: the generator is a fixed-seed splitmix64.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/policy.h"
#include "util/compiler.h"

#define N_PATTERNS 10000
#define N_HOSTS    4000
#define N_SAMPLES  400000
#define TEXT_MAX   96

static uint64_t bench_seed = 0x5eed5eed5eedull;

static uint64_t
bench_random(void)
{
	uint64_t z = (bench_seed += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned
bench_below(unsigned n)
{
	return (unsigned)(bench_random() % n);
}

static const char *const bench_tlds[] = { "com", "net", "org", "io", "dev",
	"co.uk", "de", "cloud" };
static const char *const bench_words[] = { "api", "www", "cdn", "static",
	"auth", "login", "img", "git", "registry", "pkg", "mirror", "eu", "us",
	"edge", "files", "docs" };

/* "site<k>.<tld>": the k-th registrable domain. */
static void
bench_domain(char *out, size_t outsz, unsigned k)
{
	(void)snprintf(out, outsz, "site%u.%s", k,
	    bench_tlds[k % ELEMENTSOF(bench_tlds)]);
}

struct bench_rules {
	struct policy_rule_spec spec[N_PATTERNS];
	char text[N_PATTERNS][TEXT_MAX];
	unsigned exact, sub, apex, glob, root_glob, deny;
};

static void
bench_make_rules(struct bench_rules *b)
{
	for (unsigned i = 0; i < N_PATTERNS; i++) {
		char dom[64];
		unsigned roll = bench_below(100), k = bench_below(4000);
		char *t = b->text[i];

		bench_domain(dom, sizeof(dom), k);
		b->spec[i] = (struct policy_rule_spec){ .pattern = t,
			.list = POLICY_LIST_ALLOW,
			.file = "bench.toml",
			.line = i + 1,
			.column = 1 };
		if (i % 20 == 0) { /* 5%: a deny list */
			(void)snprintf(t, TEXT_MAX, "%s.%s",
			    bench_words[bench_below(ELEMENTSOF(bench_words))],
			    dom);
			b->spec[i].list = POLICY_LIST_DENY;
			b->deny++;
		} else if (i % 1000 == 1) { /* a few globs without a tail */
			(void)snprintf(t, TEXT_MAX, "build-%u-*", k);
			b->root_glob++;
		} else if (roll < 60) {
			(void)snprintf(t, TEXT_MAX, "%s.%s",
			    bench_words[bench_below(ELEMENTSOF(bench_words))],
			    dom);
			b->exact++;
		} else if (roll < 80) {
			(void)snprintf(t, TEXT_MAX, "*.%s", dom);
			b->sub++;
		} else if (roll < 97) {
			(void)snprintf(t, TEXT_MAX, "**.%s", dom);
			b->apex++;
		} else {
			(void)snprintf(t, TEXT_MAX, "%s-*.%s",
			    bench_words[bench_below(ELEMENTSOF(bench_words))],
			    dom);
			b->glob++;
		}
	}
}

/* Half the hosts are drawn from the rules (so most hit), half are
 * unrelated or near misses. */
static void
bench_make_hosts(const struct bench_rules *b, char (*hosts)[TEXT_MAX])
{
	for (unsigned i = 0; i < N_HOSTS; i++) {
		const char *p = b->text[bench_below(N_PATTERNS)];
		const char *w =
		    bench_words[bench_below(ELEMENTSOF(bench_words))];
		char dom[64];

		if (i % 2 == 1) {
			bench_domain(dom, sizeof(dom),
			    4000 + bench_below(100000));
			(void)snprintf(hosts[i], TEXT_MAX, "%s.%s", w, dom);
		} else if (p[0] == '*') {
			(void)snprintf(hosts[i], TEXT_MAX, "%s.%s", w,
			    strchr(p, '.') + 1);
		} else if (strchr(p, '*')) {
			(void)snprintf(hosts[i], TEXT_MAX, "%.*s%u%s",
			    (int)(strchr(p, '*') - p), p, bench_below(1000),
			    strchr(p, '*') + 1);
		} else {
			(void)snprintf(hosts[i], TEXT_MAX, "%s", p);
		}
	}
}

static uint64_t
bench_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
bench_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(void)
{
	static struct bench_rules rules;
	static char hosts[N_HOSTS][TEXT_MAX];
	static uint64_t samples[N_SAMPLES], overhead[N_SAMPLES / 10];
	struct policy_settings s = { .enabled = true,
		.mode = POLICY_MODE_FULL,
		.rules = rules.spec,
		.n_rules = N_PATTERNS };
	struct policy_addr pub = { .family = AF_INET,
		.bytes = { 93, 184, 215, 14 } };
	struct policy_error err;
	struct policy *p;
	unsigned allowed = 0;
	uint64_t t0, t_over;

	bench_make_rules(&rules);
	bench_make_hosts(&rules, hosts);
	t0 = bench_now();
	if (policy_new(&s, &p, &err) < 0) {
		(void)fprintf(stderr, "bench_policy: rule %zu: %s\n", err.rule,
		    err.message);
		return 1;
	}
	(void)printf("compile_ms: %.1f\n", (double)(bench_now() - t0) / 1e6);

	for (unsigned i = 0; i < ELEMENTSOF(overhead); i++) {
		t0 = bench_now();
		overhead[i] = bench_now() - t0;
	}
	qsort(overhead, ELEMENTSOF(overhead), sizeof(overhead[0]), bench_cmp);
	t_over = overhead[ELEMENTSOF(overhead) / 2];

	for (unsigned i = 0; i < N_SAMPLES; i++) {
		struct policy_request req = { .protocol = POLICY_PROTOCOL_HTTP,
			.host = hosts[bench_below(N_HOSTS)],
			.port = 443,
			.method = "GET" };
		struct policy_input in = { .request = &req,
			.resolved = true,
			.addrs = &pub,
			.n_addrs = 1 };
		struct policy_verdict v;
		uint64_t d;

		t0 = bench_now();
		policy_judge(p, &in, &v);
		d = bench_now() - t0;
		samples[i] = d > t_over ? d - t_over : 0;
		allowed += v.decision == POLICY_DECISION_ALLOW;
	}
	qsort(samples, N_SAMPLES, sizeof(samples[0]), bench_cmp);

	(void)printf("patterns: %u\n", N_PATTERNS);
	(void)printf("mix: %u exact, %u *.x, %u **.x, %u globs (%u without "
		     "a tail), %u deny\n",
	    rules.exact, rules.sub, rules.apex, rules.glob + rules.root_glob,
	    rules.root_glob, rules.deny);
	(void)printf("hosts: %u\n", N_HOSTS);
	(void)printf("allowed_pct: %.0f\n", 100.0 * allowed / N_SAMPLES);
	(void)printf("timer_overhead_ns: %llu\n", (unsigned long long)t_over);
	(void)printf("median_ns: %llu\n",
	    (unsigned long long)samples[N_SAMPLES / 2]);
	(void)printf("p99_ns: %llu\n",
	    (unsigned long long)samples[N_SAMPLES / 100 * 99]);
	p = policy_unref(p);
	return 0;
}
