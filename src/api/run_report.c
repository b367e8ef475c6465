/* SPDX-License-Identifier: MIT */
/*
 * The blocked summary of a run; see run_report.h. The advice follows the
 * decision order of docs/policy.md: a deny entry always wins, so only
 * removing it helps; a local address passes with an exact allow entry (a
 * literal) or allow_local_binding (a name); an unlisted host needs an
 * allow entry; the limited-mode guards need another mode.
 */
#include "api/run_report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "audit/blocked.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/strutil.h"

static bool
run_report_same(const struct run_report_entry *e,
    const struct blocked_record *r, bool decider)
{
	return e->port == r->port && e->decider == decider &&
	    streq(e->host, r->host) && streq(e->reason, r->reason);
}

void
run_report_add(struct run_report *rep, const struct blocked_record *r)
{
	bool decider = streq(r->source, "decider");
	struct run_report_entry *e;

	if (rep->total < UINT64_MAX)
		rep->total++;
	for (size_t i = 0; i < rep->n; i++)
		if (run_report_same(&rep->v[i], r, decider)) {
			if (rep->v[i].count < UINT64_MAX)
				rep->v[i].count++;
			return;
		}
	if (!rep->v)
		rep->v = calloc(LIMIT_RUN_REPORT_ENTRIES, sizeof(*rep->v));
	if (!rep->v || rep->n == LIMIT_RUN_REPORT_ENTRIES) {
		if (rep->other < UINT64_MAX)
			rep->other++;
		return;
	}
	e = &rep->v[rep->n++];
	(void)strlcpy(e->host, r->host, sizeof(e->host));
	(void)strlcpy(e->reason, r->reason, sizeof(e->reason));
	e->port = r->port;
	e->decider = decider;
	e->count = 1;
}

void
run_report_done(struct run_report *rep)
{
	free(rep->v);
	*rep = (struct run_report){ 0 };
}

static int
run_report_cmp(const void *a, const void *b)
{
	const struct run_report_entry *x =
	    *(const struct run_report_entry *const *)a;
	const struct run_report_entry *y =
	    *(const struct run_report_entry *const *)b;
	int c;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	c = strcmp(x->host, y->host);
	if (c)
		return c;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return strcmp(x->reason, y->reason);
}

/* A TOML basic string (also a quoted key): s between double quotes. */
static int
run_report_quote(struct buf *out, const char *s)
{
	int r = buf_append_char(out, '"');

	for (; r >= 0 && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			r = buf_printf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			r = buf_printf(out, "\\u%04x", c);
		else
			r = buf_append_char(out, (char)c);
	}
	return r < 0 ? r : buf_append_char(out, '"');
}

/* A bare TOML key ([A-Za-z0-9_-]+) is written as is, anything else
 * quoted. */
static int
run_report_key(struct buf *out, const char *k)
{
	size_t n = strspn(k,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

	if (k[0] && !k[n])
		return buf_append_str(out, k);
	return run_report_quote(out, k);
}

/* "[permissions.NAME.network" or "[network" plus suffix and "]". */
static int
run_report_table(struct buf *out, const struct run_report_where *w,
    const char *suffix)
{
	int r = buf_append_char(out, '[');

	if (r >= 0 && w->profile) {
		r = buf_append_str(out, "permissions.");
		if (r >= 0)
			r = run_report_key(out, w->profile);
		if (r >= 0)
			r = buf_append_char(out, '.');
	}
	if (r >= 0)
		r = buf_printf(out, "network%s]", suffix);
	return r;
}

/* ' in FILE' when the file is known. */
static int
run_report_in(struct buf *out, const struct run_report_where *w)
{
	if (!w->file)
		return 0;
	return buf_printf(out, " in %s", w->file);
}

/* allow: add "HOST" = "allow" under [....domains] in FILE */
static int
run_report_allow_line(struct buf *out, const struct run_report_where *w,
    const char *host)
{
	int r = buf_append_str(out, "add ");

	if (r >= 0)
		r = run_report_quote(out, host);
	if (r >= 0)
		r = buf_append_str(out, " = \"allow\" under ");
	if (r >= 0)
		r = run_report_table(out, w, ".domains");
	return r;
}

/* set KEY = VALUE under [...network] in FILE */
static int
run_report_set_line(struct buf *out, const struct run_report_where *w,
    const char *setting)
{
	int r = buf_printf(out, "set %s under ", setting);

	if (r >= 0)
		r = run_report_table(out, w, "");
	return r;
}

/* The deny entry that decides for host, judged again by the policy. */
static int
run_report_denied(struct buf *out, const struct run_report_where *w,
    const struct run_report_entry *e)
{
	struct policy_request req = { .protocol = POLICY_PROTOCOL_HTTP,
		.host = e->host,
		.port = e->port > 0 ? (uint16_t)e->port : 80 };
	struct policy_input in = { .request = &req };
	struct policy_verdict v;
	int r;

	if (w->policy) {
		policy_judge(w->policy, &in, &v);
		if (v.reason == POLICY_REASON_DENIED && v.matched &&
		    v.match.list == POLICY_LIST_DENY) {
			r = buf_append_str(out, "    denied by the entry ");
			if (r >= 0)
				r = run_report_quote(out, v.match.pattern);
			if (r >= 0 && v.match.file)
				r = buf_printf(out, " at %s:%u:%u",
				    v.match.file, v.match.line, v.match.column);
			if (r >= 0)
				r = buf_append_str(out,
				    "; a deny entry wins over any allow: "
				    "remove it there to allow this host\n");
			return r;
		}
	}
	r = buf_append_str(out, "    denied by a deny entry under ");
	if (r >= 0)
		r = run_report_table(out, w, "");
	if (r >= 0)
		r = run_report_in(out, w);
	if (r >= 0)
		r = buf_append_str(out,
		    "; a deny entry wins over any allow: "
		    "remove it there to allow this host\n");
	return r;
}

/* What would allow e, on lines of their own ("" when nothing would). */
static int
run_report_advice(struct buf *out, const struct run_report_where *w,
    const struct run_report_entry *e)
{
	struct policy_host h;
	bool literal;
	int r;

	if (policy_host_parse(e->host, strlen(e->host), &h) < 0)
		return 0; /* not a host: nothing to allow */
	if (streq(e->reason, "not_allowed") || e->decider) {
		r = buf_append_str(out, "    allow: ");
		if (r >= 0)
			r = run_report_allow_line(out, w, h.text);
		goto tail;
	}
	if (streq(e->reason, "denied"))
		return run_report_denied(out, w, e);
	if (streq(e->reason, "not_allowed_local")) {
		literal =
		    h.kind != POLICY_HOST_NAME || policy_host_is_localhost(&h);
		r = buf_append_str(out, "    allow: ");
		if (r >= 0 && literal) {
			/* An exact entry lets a local literal through
			 * (docs/policy.md §3). */
			r = run_report_allow_line(out, w, h.text);
			if (r >= 0)
				r = buf_append_str(out, ", or ");
		}
		if (r >= 0)
			r = run_report_set_line(out, w,
			    "allow_local_binding = true");
		if (r >= 0)
			r = run_report_in(out, w);
		if (r >= 0 && !literal)
			r = buf_append_str(out,
			    " (the name resolved to a local or private "
			    "address, or did not resolve)");
		return r < 0 ? r : buf_append_char(out, '\n');
	}
	if (streq(e->reason, "method_not_allowed")) {
		r = buf_append_str(out, "    allow: ");
		if (r >= 0)
			r = run_report_set_line(out, w, "mode = \"full\"");
		goto tail;
	}
	if (streq(e->reason, "mitm_required")) {
		r = buf_append_str(out, "    allow: ");
		if (r >= 0)
			r = run_report_set_line(out, w,
			    "mitm = true (HTTPS interception) or mode = "
			    "\"full\"");
		goto tail;
	}
	return 0;
tail:
	if (r >= 0)
		r = run_report_in(out, w);
	return r < 0 ? r : buf_append_char(out, '\n');
}

/* The advice for e was given already, for the same host and reason on
 * another port. */
static bool
run_report_advised(const struct run_report_entry *const *v, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (v[j]->decider == v[i]->decider &&
		    streq(v[j]->host, v[i]->host) &&
		    streq(v[j]->reason, v[i]->reason))
			return true;
	return false;
}

int
run_report_format(const struct run_report *rep,
    const struct run_report_where *w, struct buf *out)
{
	const struct run_report_entry **v;
	size_t shown =
	    rep->n < LIMIT_RUN_REPORT_SHOWN ? rep->n : LIMIT_RUN_REPORT_SHOWN;
	uint64_t rest = rep->other;
	size_t rest_dest = 0;
	int r;

	if (rep->total == 0)
		return 0;
	v = calloc(rep->n ? rep->n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < rep->n; i++)
		v[i] = &rep->v[i];
	qsort(v, rep->n, sizeof(*v), run_report_cmp);
	r = buf_printf(out,
	    "paddock: the proxy blocked %" PRIu64
	    " request%s during the run:\n",
	    rep->total, rep->total == 1 ? "" : "s");
	for (size_t i = 0; r >= 0 && i < shown; i++) {
		const struct run_report_entry *e = v[i];

		r = buf_printf(out, "  %s", e->host);
		if (r >= 0 && e->port >= 0)
			r = buf_printf(out, ":%d", (int)e->port);
		if (r >= 0)
			r = buf_printf(out, "  %s%s  %" PRIu64 "x\n", e->reason,
			    e->decider ? " (decider)" : "", e->count);
		if (r >= 0 && !run_report_advised(v, i))
			r = run_report_advice(out, w, e);
	}
	for (size_t i = shown; i < rep->n; i++) {
		rest += v[i]->count;
		rest_dest++;
	}
	if (r >= 0 && rest > 0)
		r = buf_printf(out,
		    "  ... and %" PRIu64 " more to %s%zu other destination%s\n",
		    rest, rep->other ? "at least " : "",
		    rest_dest + (rep->other ? 1 : 0),
		    rest_dest == 1 && !rep->other ? "" : "s");
	free(v);
	return r;
}
