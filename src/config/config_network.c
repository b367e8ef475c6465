/* SPDX-License-Identifier: MIT */
/*
 * The effective network settings (spec network §1, §7.1).
 *
 * Defaults first, then the top-level [network] table, then the selected
 * profile's [permissions.<name>.network], key by key. A list key
 * (allowed_domains, denied_domains, allow_unix_sockets) replaces the list
 * of the level below; the map forms ([...domains], [...unix_sockets]) are
 * merged entry by entry, a later entry for the same pattern replacing an
 * earlier one. A pattern both allowed and denied is denied, and the
 * dropped allow is reported. Every pattern keeps the file:line:col it was
 * written at, for the policy engine's "which rule matched" answers.
 *
 * Everything is validated here, once: patterns (policy_pattern_check()),
 * the global "*", unix socket paths, listener addresses. The network
 * tables of profiles that are not in use are checked too, at warning level.
 */
#include "config/config_internal.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml/toml.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/size.h"
#include "util/strutil.h"

#define CONFIG_NET_DEFAULT_PROXY_URL  "http://127.0.0.1:3128"
#define CONFIG_NET_DEFAULT_SOCKS_URL  "http://127.0.0.1:8081"
#define CONFIG_NET_DEFAULT_HTTP_PORT  3128
#define CONFIG_NET_DEFAULT_SOCKS_PORT 8081
#define CONFIG_NET_DEFAULT_ADMIN_PORT 8080

/* A pattern or socket path as collected, before the final lists. */
struct config_net_item {
	const char *text; /* borrowed from the merged tree */
	enum policy_list list;
	bool none; /* a unix_sockets entry set to "none" */
	struct config_origin origin;
	char *key; /* its dotted key path */
};

struct config_net_items {
	struct config_net_item *v;
	size_t n;
};

struct config_net_ctx {
	struct config *cfg;
	struct config_diags *d;
	enum config_severity sev; /* warning for profiles not in use */
	const char *profile;      /* the profile, for messages; or NULL */
	struct config_keypath kp;
	bool apply; /* false: only validate */
	struct config_net_items allow_list, deny_list, domains;
	struct config_net_items socket_list, sockets;
	/* The values that won, and their key paths, for later warnings. */
	const struct toml_value *mitm_value;
	const struct toml_value *proxy_url_value;
	const struct toml_value *socks_url_value;
	const struct toml_value *admin_url_value;
	char *mitm_key;
	char *proxy_url_key;
	char *socks_url_key;
	char *admin_url_key;
	int r;
};

static void
config_net_keep(struct config_net_ctx *c, int r)
{
	if (r < 0 && c->r >= 0)
		c->r = r;
}

/* Remember which value (and key) set a setting. */
static void
config_net_remember(struct config_net_ctx *c, const char *key,
    const struct toml_value *v, const struct toml_value **into_value,
    char **into_key)
{
	char *k;

	config_keypath_push(&c->kp, key, strlen(key));
	k = config_keypath_format(&c->kp);
	config_keypath_pop(&c->kp);
	if (!k) {
		config_net_keep(c, -ENOMEM);
		return;
	}
	free(*into_key);
	*into_key = k;
	*into_value = v;
}

static void config_net_report(struct config_net_ctx *c,
    enum config_severity sev, const char *code, const struct config_origin *o,
    const char *fmt, ...) _printf_(5, 6);

static void
config_net_report(struct config_net_ctx *c, enum config_severity sev,
    const char *code, const struct config_origin *o, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	int r;

	if (sev == CONFIG_SEVERITY_ERROR)
		sev = c->sev;
	buf_init(&b, 0);
	va_start(ap, fmt);
	r = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r >= 0 && c->sev == CONFIG_SEVERITY_WARNING && c->profile)
		r = buf_printf(&b, " (profile \"%s\" is not in use)",
		    c->profile);
	if (r < 0)
		config_net_keep(c, r);
	else
		config_diags_add(c->d, sev, code, o, &c->kp, "%s", buf_str(&b));
	buf_done(&b);
}

static int
config_net_items_add(struct config_net_items *items, const char *text,
    enum policy_list list, bool none, const struct config_origin *o,
    const struct config_keypath *kp)
{
	struct config_net_item *v;
	char *key;
	size_t n;

	if (!size_add(items->n, 1, &n))
		return -ENOMEM;
	if (!items->v || n > size_room(items->n)) {
		v = reallocarray(items->v, size_room(n), sizeof(*v));
		if (!v)
			return -ENOMEM;
		items->v = v;
	}
	v = items->v;
	key = config_keypath_format(kp);
	if (!key)
		return -ENOMEM;
	v[items->n] = (struct config_net_item){ .text = text,
		.list = list,
		.none = none,
		.origin = *o,
		.key = key };
	items->n = n;
	return 0;
}

/* Forget the items, keep the storage. */
static void
config_net_items_reset(struct config_net_items *items)
{
	for (size_t i = 0; i < items->n; i++)
		free(items->v[i].key);
	items->n = 0;
}

static void
config_net_items_clear(struct config_net_items *items)
{
	config_net_items_reset(items);
	free(items->v);
	*items = (struct config_net_items){ 0 };
}

struct config_net_ref {
	const char *text;
	size_t pos;
	bool path;
};

static int
config_net_ref_cmp(const void *pa, const void *pb)
{
	const struct config_net_ref *a = pa;
	const struct config_net_ref *b = pb;
	int c = config_strv_cmp(a->text, b->text, !a->path);

	if (c != 0)
		return c;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static void
config_net_refs_sort(struct config_net_ref *refs, size_t n)
{
	if (n > 0) /* qsort() must not see the NULL of an empty list */
		qsort(refs, n, sizeof(*refs), config_net_ref_cmp);
}

/* The first position holding text's key in sorted refs, or SIZE_MAX. */
static size_t
config_net_refs_find(const struct config_net_ref *refs, size_t n,
    const char *text, bool path)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (config_strv_cmp(refs[mid].text, text, !path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && config_strv_cmp(refs[lo].text, text, !path) == 0)
		return refs[lo].pos;
	return SIZE_MAX;
}

/* Check one domain pattern; returns false when it is not usable. */
static bool
config_net_check_pattern(struct config_net_ctx *c, const char *s, size_t len,
    enum policy_list list, const struct config_origin *o)
{
	char err[256];
	size_t a = 0, b = len;
	struct buf q;

	while (a < b && (s[a] == ' ' || s[a] == '\t'))
		a++;
	while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
		b--;
	if (b - a == 1 && s[a] == '*') {
		config_net_report(c, CONFIG_SEVERITY_ERROR, "global_wildcard",
		    o,
		    "\"*\" would match every host; use exact hosts or scoped "
		    "wildcards such as *.example.com or **.example.com");
		return false;
	}
	buf_init(&q, 0);
	if (config_quote(&q, s, len) < 0) {
		buf_done(&q);
		config_net_keep(c, -ENOMEM);
		return false;
	}
	if (memchr(s, '\0', len)) {
		config_net_report(c, CONFIG_SEVERITY_ERROR,
		    "invalid_domain_pattern", o, "%s contains a NUL character",
		    buf_str(&q));
		buf_done(&q);
		return false;
	}
	if (policy_pattern_check(s, list, NULL, err, sizeof(err)) < 0) {
		config_net_report(c, CONFIG_SEVERITY_ERROR,
		    "invalid_domain_pattern", o, "%s: %s", buf_str(&q), err);
		buf_done(&q);
		return false;
	}
	buf_done(&q);
	return true;
}

/* Check one allowed unix socket path: absolute and NUL-free. */
static bool
config_net_check_socket(struct config_net_ctx *c, const char *s, size_t len,
    const struct config_origin *o)
{
	struct buf q;
	bool ok = len > 0 && s[0] == '/' && !memchr(s, '\0', len);

	if (ok)
		return true;
	buf_init(&q, 0);
	if (config_quote(&q, s, len) < 0)
		config_net_keep(c, -ENOMEM);
	else
		config_net_report(c, CONFIG_SEVERITY_ERROR,
		    "invalid_unix_socket_path", o,
		    "%s is not an absolute path without NUL characters",
		    buf_str(&q));
	buf_done(&q);
	return false;
}

/* A list key: every string element checked, the list replaced. */
static void
config_net_list(struct config_net_ctx *c, const struct toml_value *t,
    const char *key, enum policy_list list, bool sockets,
    struct config_net_items *into)
{
	const struct toml_value *a = toml_table_get_str(t, key);

	if (!a || toml_value_type(a) != TOML_ARRAY)
		return;
	config_keypath_push(&c->kp, key, strlen(key));
	if (c->apply)
		config_net_items_reset(into);
	for (size_t i = 0; i < toml_array_size(a); i++) {
		const struct toml_value *e = toml_array_get(a, i);
		struct config_origin o = config_origin_of(e);
		const char *s;
		size_t len;
		bool ok;

		if (toml_value_type(e) != TOML_STRING)
			continue; /* reported by the structural check */
		s = toml_value_string(e, &len);
		ok = sockets ? config_net_check_socket(c, s, len, &o) :
			       config_net_check_pattern(c, s, len, list, &o);
		if (ok && c->apply)
			config_net_keep(c,
			    config_net_items_add(into, s, list, false, &o,
				&c->kp));
	}
	config_keypath_pop(&c->kp);
}

/* A map's entries in the order given; a later entry for the same key
 * replaces the earlier one, and takes its place at the end. */
static int
config_net_items_dedup(struct config_net_items *items, bool path)
{
	size_t n = items->n, k = 0;
	const char **texts = calloc(n ? n : 1, sizeof(*texts));
	bool *drop = calloc(n ? n : 1, sizeof(*drop));
	int r = -ENOMEM;

	if (!texts || !drop)
		goto out;
	for (size_t i = 0; i < n; i++)
		texts[i] = items->v[i].text;
	r = config_strv_dups(texts, n, !path, true, drop);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (drop[i])
			free(items->v[i].key);
		else
			items->v[k++] = items->v[i];
	}
	items->n = k;
out:
	free(texts);
	free(drop);
	return r;
}

/* A map key: [... .domains] or [... .unix_sockets]. */
static void
config_net_map(struct config_net_ctx *c, const struct toml_value *t,
    const char *key, bool sockets, struct config_net_items *into)
{
	const struct toml_value *m = config_get_table(t, key);

	if (!m)
		return;
	config_keypath_push(&c->kp, key, strlen(key));
	for (size_t i = 0; i < toml_table_size(m); i++) {
		size_t len;
		const char *k = toml_table_key(m, i, &len);
		struct config_origin o = config_origin_of_key(m, i);
		const struct toml_value *wv = toml_table_value(m, i);
		const char *w;
		enum policy_list list = POLICY_LIST_ALLOW;
		bool none = false, ok;

		if (toml_value_type(wv) != TOML_STRING)
			continue; /* reported by the structural check */
		w = toml_value_string(wv, NULL);
		if (!(streq(w, "allow") || streq(w, "deny") ||
			streq(w, "none")))
			continue; /* likewise */
		if (streq(w, "deny"))
			list = POLICY_LIST_DENY;
		none = streq(w, "none");
		config_keypath_push(&c->kp, k, len);
		if (sockets)
			ok = none || config_net_check_socket(c, k, len, &o);
		else
			ok = config_net_check_pattern(c, k, len, list, &o);
		if (ok && c->apply)
			config_net_keep(c,
			    config_net_items_add(into, k, list, none, &o,
				&c->kp));
		config_keypath_pop(&c->kp);
	}
	config_keypath_pop(&c->kp);
}

static void
config_net_bool(struct config_net_ctx *c, const struct toml_value *t,
    const char *key, bool *into)
{
	if (c->apply)
		(void)config_get_bool(t, key, into);
}

/* Report a listener address that does not parse. */
static void
config_net_check_addr(struct config_net_ctx *c, const struct toml_value *v,
    const char *key)
{
	struct config_origin o = config_origin_of(v);
	struct config_listen_addr a;
	char err[128];
	bool replaced;
	struct buf q;
	size_t len;
	const char *s = toml_value_string(v, &len);

	if (config_addr_parse(s, 0, &a, &replaced, err, sizeof(err)) >= 0)
		return;
	buf_init(&q, 0);
	if (config_quote(&q, s, len) < 0) {
		config_net_keep(c, -ENOMEM);
	} else {
		config_keypath_push(&c->kp, key, strlen(key));
		config_net_report(c, CONFIG_SEVERITY_ERROR,
		    "invalid_listen_address", &o, "cannot listen on %s: %s",
		    buf_str(&q), err);
		config_keypath_pop(&c->kp);
	}
	buf_done(&q);
}

static void
config_net_url(struct config_net_ctx *c, const struct toml_value *t,
    const char *key, char **into, const struct toml_value **into_value,
    char **into_key)
{
	const struct toml_value *v = NULL;
	const char *s = config_get_string(t, key, &v);
	char *copy;

	if (!s)
		return;
	/* admin_url = "" turns the admin listener off again. */
	if (streq(key, "admin_url") && !s[strspn(s, " \t")]) {
		if (c->apply) {
			free(*into);
			*into = NULL;
			config_net_remember(c, key, v, into_value, into_key);
		}
		return;
	}
	config_net_check_addr(c, v, key);
	if (!c->apply)
		return;
	copy = strdup(s);
	if (!copy) {
		config_net_keep(c, -ENOMEM);
		return;
	}
	free(*into);
	*into = copy;
	config_net_remember(c, key, v, into_value, into_key);
}

/* Apply (or only check) one network table. */
static void
config_net_table(struct config_net_ctx *c, const struct toml_value *t)
{
	struct config_network *net = &c->cfg->net;
	const struct toml_value *mode = NULL;
	const char *s;

	config_net_bool(c, t, "enabled", &net->enabled);
	config_net_url(c, t, "proxy_url", &net->proxy_url, &c->proxy_url_value,
	    &c->proxy_url_key);
	config_net_bool(c, t, "enable_socks5", &net->enable_socks5);
	config_net_url(c, t, "socks_url", &net->socks_url, &c->socks_url_value,
	    &c->socks_url_key);
	config_net_bool(c, t, "enable_socks5_udp", &net->enable_socks5_udp);
	config_net_bool(c, t, "allow_upstream_proxy",
	    &net->allow_upstream_proxy);
	config_net_bool(c, t, "dangerously_allow_non_loopback_proxy",
	    &net->dangerously_allow_non_loopback_proxy);
	config_net_url(c, t, "admin_url", &net->admin_url, &c->admin_url_value,
	    &c->admin_url_key);
	config_net_bool(c, t, "dangerously_allow_non_loopback_admin",
	    &net->dangerously_allow_non_loopback_admin);
	config_net_bool(c, t, "allow_local_binding", &net->allow_local_binding);
	config_net_bool(c, t, "dangerously_allow_all_unix_sockets",
	    &net->dangerously_allow_all_unix_sockets);
	s = config_get_string(t, "mode", &mode);
	if (c->apply && s && streq(s, "limited"))
		net->mode = POLICY_MODE_LIMITED;
	else if (c->apply && s && streq(s, "full"))
		net->mode = POLICY_MODE_FULL;
	if (c->apply && config_get_bool(t, "mitm", &net->mitm))
		config_net_remember(c, "mitm", toml_table_get_str(t, "mitm"),
		    &c->mitm_value, &c->mitm_key);
	config_net_list(c, t, "allowed_domains", POLICY_LIST_ALLOW, false,
	    &c->allow_list);
	config_net_list(c, t, "denied_domains", POLICY_LIST_DENY, false,
	    &c->deny_list);
	config_net_list(c, t, "allow_unix_sockets", POLICY_LIST_ALLOW, true,
	    &c->socket_list);
	config_net_map(c, t, "domains", false, &c->domains);
	config_net_map(c, t, "unix_sockets", true, &c->sockets);
}

static void
config_net_deny_wins(struct config_net_ctx *c,
    const struct config_net_item *allow, const struct config_net_item *deny)
{
	struct buf q;

	buf_init(&q, 0);
	if (config_quote(&q, allow->text, strlen(allow->text)) < 0)
		config_net_keep(c, -ENOMEM);
	else
		config_diags_add_at(c->d, CONFIG_SEVERITY_WARNING,
		    "allow_overridden_by_deny", &allow->origin, allow->key,
		    "%s is allowed here but denied at %s:%u:%u (%s); the deny "
		    "wins",
		    buf_str(&q), deny->origin.file ? deny->origin.file : "?",
		    deny->origin.line, deny->origin.column, deny->key);
	buf_done(&q);
}

/*
 * The final domain rules: the lists, then the map entries; an allow whose
 * pattern is also denied is dropped with a warning naming the first deny
 * (deny wins).
 */
static int
config_net_rules(struct config_net_ctx *c)
{
	struct config_network *net = &c->cfg->net;
	const struct config_net_items *srcs[] = { &c->allow_list, &c->deny_list,
		&c->domains };
	size_t total = c->allow_list.n + c->deny_list.n + c->domains.n;
	const struct config_net_item **all =
	    calloc(total ? total : 1, sizeof(*all));
	struct config_net_ref *denies =
	    calloc(total ? total : 1, sizeof(*denies));
	size_t n_all = 0, n_denies = 0;
	int r = -ENOMEM;

	net->rules = calloc(total ? total : 1, sizeof(*net->rules));
	if (!net->rules || !all || !denies)
		goto out;
	for (size_t s = 0; s < ELEMENTSOF(srcs); s++)
		for (size_t i = 0; i < srcs[s]->n; i++) {
			if (srcs[s]->v[i].list == POLICY_LIST_DENY)
				denies[n_denies++] =
				    (struct config_net_ref){ srcs[s]->v[i].text,
					    n_all, false };
			all[n_all++] = &srcs[s]->v[i];
		}
	config_net_refs_sort(denies, n_denies);
	for (size_t i = 0; i < n_all; i++) {
		const struct config_net_item *it = all[i];
		struct config_domain_rule *rule = &net->rules[net->n_rules];
		size_t deny = it->list == POLICY_LIST_ALLOW ?
		    config_net_refs_find(denies, n_denies, it->text, false) :
		    SIZE_MAX;

		if (deny != SIZE_MAX) {
			config_net_deny_wins(c, it, all[deny]);
			continue;
		}
		*rule = (struct config_domain_rule){ .list = it->list,
			.origin = it->origin };
		rule->pattern = strdup(it->text);
		rule->key = strdup(it->key);
		net->n_rules++;
		if (!rule->pattern || !rule->key)
			goto out;
	}
	r = 0;
out:
	free(all);
	free(denies);
	return r;
}

/*
 * The policy engine takes at most LIMIT_POLICY_HOSTS host patterns once
 * "{...}" alternatives are expanded (each pattern may have 256). Report
 * the rule that goes past it; returns false then.
 */
static bool
config_net_count_hosts(struct config_net_ctx *c)
{
	const struct config_network *net = &c->cfg->net;
	size_t total = 0;

	for (size_t i = 0; i < net->n_rules; i++) {
		const struct config_domain_rule *rule = &net->rules[i];
		size_t n = 1;

		(void)policy_pattern_check(rule->pattern, rule->list, &n, NULL,
		    0);
		total += n;
		if (total > LIMIT_POLICY_HOSTS) {
			config_diags_add_at(c->d, CONFIG_SEVERITY_ERROR,
			    "too_many_patterns", &rule->origin, rule->key,
			    "the domain rules come to more than %u host "
			    "patterns once '{...}' alternatives are expanded",
			    LIMIT_POLICY_HOSTS);
			return false;
		}
	}
	return true;
}

/* The allowed unix sockets: the list, then the map's "allow" entries,
 * each once; a map "none" takes a path back out. */
static int
config_net_sockets(struct config_net_ctx *c)
{
	struct config_network *net = &c->cfg->net;
	size_t total = c->socket_list.n + c->sockets.n, n_none = 0, k = 0;
	struct config_net_ref *none = calloc(total ? total : 1, sizeof(*none));
	const char **paths = calloc(total ? total : 1, sizeof(*paths));
	bool *drop = calloc(total ? total : 1, sizeof(*drop));
	int r = -ENOMEM;

	net->unix_sockets =
	    calloc(total ? total : 1, sizeof(*net->unix_sockets));
	if (!net->unix_sockets || !none || !paths || !drop)
		goto out;
	for (size_t i = 0; i < c->sockets.n; i++)
		if (c->sockets.v[i].none)
			none[n_none++] =
			    (struct config_net_ref){ c->sockets.v[i].text, i,
				    true };
	config_net_refs_sort(none, n_none);
	for (size_t i = 0; i < total; i++) {
		const struct config_net_item *it = i < c->socket_list.n ?
		    &c->socket_list.v[i] :
		    &c->sockets.v[i - c->socket_list.n];

		if (it->none ||
		    config_net_refs_find(none, n_none, it->text, true) !=
			SIZE_MAX)
			continue;
		net->unix_sockets[net->n_unix_sockets].path = strdup(it->text);
		if (!net->unix_sockets[net->n_unix_sockets].path)
			goto out;
		net->unix_sockets[net->n_unix_sockets].origin = it->origin;
		paths[net->n_unix_sockets++] = it->text;
	}
	r = config_strv_dups(paths, net->n_unix_sockets, false, false, drop);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < net->n_unix_sockets; i++) {
		if (drop[i])
			free(net->unix_sockets[i].path);
		else
			net->unix_sockets[k++] = net->unix_sockets[i];
	}
	net->n_unix_sockets = k;
out:
	free(none);
	free(paths);
	free(drop);
	return r;
}

/* Resolve one listener and clamp it to loopback (spec network §7.1).
 * name is the setting ("proxy_url"); key its path, NULL for a default.
 * The admin listener has a dangerously_allow_* flag of its own. */
static void
config_net_listener(struct config_net_ctx *c, const char *name, const char *url,
    const struct toml_value *v, const char *key, uint16_t default_port,
    struct config_listen_addr *a)
{
	const struct config_network *net = &c->cfg->net;
	bool admin = streq(name, "admin_url");
	bool dangerous = admin ? net->dangerously_allow_non_loopback_admin :
				 net->dangerously_allow_non_loopback_proxy;
	const char *flag = admin ? "dangerously_allow_non_loopback_admin" :
				   "dangerously_allow_non_loopback_proxy";
	struct config_origin o =
	    v ? config_origin_of(v) : (struct config_origin){ 0 };
	bool unix_proxying =
	    net->n_unix_sockets > 0 || net->dangerously_allow_all_unix_sockets;
	char err[128], text[CONFIG_ADDR_TEXT_MAX + 8];
	bool replaced;

	if (config_addr_parse(url, default_port, a, &replaced, err,
		sizeof(err)) < 0) {
		/* Reported where it was written; bind the default. */
		(void)config_addr_parse("127.0.0.1", default_port, a, &replaced,
		    err, sizeof(err));
		return;
	}
	(void)config_listen_addr_format(a, text, sizeof(text));
	if (replaced)
		config_diags_add_at(c->d, CONFIG_SEVERITY_WARNING,
		    "listen_host_replaced", &o, key,
		    "the host is not an IP address; the %s listener binds %s "
		    "(names are never resolved)",
		    name, text);
	if (unix_proxying) {
		if (a->family == AF_INET && streq(a->host, "127.0.0.1"))
			return;
		(void)config_addr_parse("127.0.0.1", a->port, a, &replaced, err,
		    sizeof(err));
		a->clamped = true;
		config_diags_add_at(c->d, CONFIG_SEVERITY_WARNING,
		    "listen_address_clamped", &o, key,
		    "unix socket proxying is configured, so the %s listener "
		    "binds 127.0.0.1:%u instead of %s",
		    name, a->port, text);
		return;
	}
	if (config_addr_is_loopback(a))
		return;
	if (dangerous) {
		config_diags_add_at(c->d, CONFIG_SEVERITY_WARNING,
		    "non_loopback_listener", &o, key,
		    "DANGEROUS: the %s listener binds %s, which is not a "
		    "loopback address; other hosts can reach it",
		    name, text);
		return;
	}
	(void)config_addr_parse("127.0.0.1", a->port, a, &replaced, err,
	    sizeof(err));
	a->clamped = true;
	config_diags_add_at(c->d, CONFIG_SEVERITY_WARNING,
	    "listen_address_clamped", &o, key,
	    "%s is not a loopback address; the %s listener binds 127.0.0.1:%u "
	    "instead (set %s to keep it)",
	    text, name, a->port, flag);
}

static int
config_net_defaults(struct config_network *net)
{
	*net = (struct config_network){
		.enable_socks5 = true,
		.enable_socks5_udp = true,
		.allow_upstream_proxy = true,
		.mode = POLICY_MODE_FULL,
	};
	net->proxy_url = strdup(CONFIG_NET_DEFAULT_PROXY_URL);
	net->socks_url = strdup(CONFIG_NET_DEFAULT_SOCKS_URL);
	return net->proxy_url && net->socks_url ? 0 : -ENOMEM;
}

/* Check the network tables of the profiles that are not in use. */
static void
config_net_others(struct config_net_ctx *c)
{
	const struct toml_value *perms =
	    config_get_table(c->cfg->tree, "permissions");

	c->apply = false;
	c->sev = CONFIG_SEVERITY_WARNING;
	for (size_t i = 0; perms && i < toml_table_size(perms); i++) {
		size_t len;
		const char *name = toml_table_key(perms, i, &len);
		const struct toml_value *p = toml_table_value(perms, i);
		const struct toml_value *t = config_get_table(p, "network");

		if (!t || p == c->cfg->profile)
			continue;
		c->profile = name;
		c->kp.n = 0;
		config_keypath_push(&c->kp, "permissions",
		    strlen("permissions"));
		config_keypath_push(&c->kp, name, len);
		config_keypath_push(&c->kp, "network", strlen("network"));
		config_net_table(c, t);
	}
}

int
config_network_specs(struct config *cfg)
{
	const struct config_network *net = &cfg->net;

	free(cfg->rule_specs);
	cfg->rule_specs =
	    calloc(net->n_rules ? net->n_rules : 1, sizeof(*cfg->rule_specs));
	if (!cfg->rule_specs)
		return -ENOMEM;
	for (size_t i = 0; i < net->n_rules; i++)
		cfg->rule_specs[i] = (struct policy_rule_spec){
			.pattern = net->rules[i].pattern,
			.list = net->rules[i].list,
			.file = net->rules[i].origin.file,
			.line = net->rules[i].origin.line,
			.column = net->rules[i].origin.column,
		};
	return 0;
}

/* The policy engine's lint codes, in the spelling of ours. */
static const char *
config_net_lint_code(const char *code)
{
	static const struct {
		const char *lint;
		const char *ours;
	} codes[] = {
		{ "allow-and-deny", "allow_and_deny" },
		{ "duplicate", "duplicate_pattern" },
		{ "apex-not-covered", "apex_not_covered" },
		{ "never-matches", "pattern_never_matches" },
		{ "port-ignored", "pattern_port_ignored" },
	};

	for (size_t i = 0; i < ELEMENTSOF(codes); i++)
		if (streq(code, codes[i].lint))
			return codes[i].ours;
	return code; /* a literal in the policy module: static */
}

struct config_net_lint_ctx {
	const struct config *cfg;
	struct config_diags *d;
};

static void
config_net_lint_cb(void *userdata, size_t rule, const char *code,
    const char *message)
{
	const struct config_net_lint_ctx *l = userdata;
	const struct config_domain_rule *r;
	struct buf b;

	r = rule < l->cfg->net.n_rules ? &l->cfg->net.rules[rule] : NULL;
	/* The message quotes a pattern: keep control bytes out of it. */
	buf_init(&b, 0);
	if (config_escape_text(&b, message) < 0)
		config_diags_set_oom(l->d);
	else
		config_diags_add_at(l->d, CONFIG_SEVERITY_WARNING,
		    config_net_lint_code(code), r ? &r->origin : NULL,
		    r ? r->key : NULL, "%s", buf_str(&b));
	buf_done(&b);
}

/* Patterns that are legal but likely not what was meant (policy_lint). */
static void
config_net_lint(const struct config *cfg, struct config_diags *d)
{
	struct config_net_lint_ctx l = { .cfg = cfg, .d = d };
	struct policy_settings s;

	config_policy_settings(cfg, &s);
	policy_lint(&s, config_net_lint_cb, &l);
}

int
config_network_load(struct config *cfg, struct config_diags *d)
{
	struct config_net_ctx c = { .cfg = cfg, .d = d, .apply = true };
	const struct toml_value *base = config_get_table(cfg->tree, "network");
	const struct toml_value *prof =
	    config_get_table(cfg->profile, "network");
	struct config_network *net = &cfg->net;
	int r;

	r = config_net_defaults(net);
	if (r < 0)
		return r;
	if (base) {
		config_keypath_push(&c.kp, "network", strlen("network"));
		config_net_table(&c, base);
	}
	if (prof) {
		c.kp.n = 0;
		config_keypath_push(&c.kp, "permissions",
		    strlen("permissions"));
		config_keypath_push(&c.kp, cfg->default_permissions,
		    strlen(cfg->default_permissions));
		config_keypath_push(&c.kp, "network", strlen("network"));
		config_net_table(&c, prof);
	}
	r = c.r;
	if (r >= 0)
		r = config_net_items_dedup(&c.domains, false);
	if (r >= 0)
		r = config_net_items_dedup(&c.sockets, true);
	if (r >= 0)
		r = config_net_rules(&c);
	if (r >= 0)
		r = config_net_sockets(&c);
	if (r >= 0) {
		config_net_listener(&c, "proxy_url", net->proxy_url,
		    c.proxy_url_value, c.proxy_url_key,
		    CONFIG_NET_DEFAULT_HTTP_PORT, &net->http_addr);
		config_net_listener(&c, "socks_url", net->socks_url,
		    c.socks_url_value, c.socks_url_key,
		    CONFIG_NET_DEFAULT_SOCKS_PORT, &net->socks_addr);
		if (net->admin_url)
			config_net_listener(&c, "admin_url", net->admin_url,
			    c.admin_url_value, c.admin_url_key,
			    CONFIG_NET_DEFAULT_ADMIN_PORT, &net->admin_addr);
		if (net->mitm && c.mitm_value &&
		    net->mode == POLICY_MODE_FULL) {
			struct config_origin o = config_origin_of(c.mitm_value);

			config_diags_add_at(d, CONFIG_SEVERITY_WARNING,
			    "mitm_full_mode", &o, c.mitm_key,
			    "interception is used in limited mode only; in "
			    "full mode mitm = true changes nothing");
		}
		config_net_others(&c);
		r = c.r;
	}
	if (r >= 0)
		r = config_network_specs(cfg);
	if (r >= 0 && config_net_count_hosts(&c))
		config_net_lint(cfg, d);
	config_net_items_clear(&c.allow_list);
	config_net_items_clear(&c.deny_list);
	config_net_items_clear(&c.domains);
	config_net_items_clear(&c.socket_list);
	config_net_items_clear(&c.sockets);
	free(c.mitm_key);
	free(c.proxy_url_key);
	free(c.socks_url_key);
	free(c.admin_url_key);
	return r;
}

void
config_network_done(struct config_network *net)
{
	free(net->proxy_url);
	free(net->socks_url);
	free(net->admin_url);
	for (size_t i = 0; net->rules && i < net->n_rules; i++) {
		free(net->rules[i].pattern);
		free(net->rules[i].key);
	}
	free(net->rules);
	for (size_t i = 0; net->unix_sockets && i < net->n_unix_sockets; i++)
		free(net->unix_sockets[i].path);
	free(net->unix_sockets);
	*net = (struct config_network){ 0 };
}

const struct config_network *
config_get_network(const struct config *cfg)
{
	return &cfg->net;
}

void
config_policy_settings(const struct config *cfg, struct policy_settings *ret)
{
	*ret = (struct policy_settings){
		.enabled = cfg->net.enabled,
		.mode = cfg->net.mode,
		.mitm = cfg->net.mitm,
		.allow_local_binding = cfg->net.allow_local_binding,
		.rules = cfg->rule_specs,
		.n_rules = cfg->net.n_rules,
	};
}

/* A file of one of cfg's layers (not -c text). */
static bool
config_net_is_layer_file(const struct config *cfg, const char *file)
{
	for (size_t i = 0; file && i < cfg->n_layers; i++)
		if (cfg->layers[i].pub.source != CONFIG_LAYER_OVERRIDES &&
		    cfg->layers[i].pub.path &&
		    streq(cfg->layers[i].pub.path, file))
			return true;
	return false;
}

const char *
config_get_network_file(const struct config *cfg)
{
	const struct toml_value *prof =
	    cfg->syntax == CONFIG_SYNTAX_PROFILES ? cfg->profile : NULL;
	const struct toml_value *t =
	    config_get_table(prof ? prof : cfg->tree, "network");
	const char *file = t ? toml_value_source(t) : NULL;

	if (!file && prof)
		file = toml_value_source(prof);
	if (config_net_is_layer_file(cfg, file))
		return file;
	return cfg->user_file;
}

static bool
config_network_addr_equal(const struct config_listen_addr *a,
    const struct config_listen_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	    streq(a->host, b->host);
}

const char *
config_network_fixed_key(const struct config_network *running,
    const struct config_network *next)
{
	if (running->enabled != next->enabled)
		return "enabled";
	if (!config_network_addr_equal(&running->http_addr, &next->http_addr))
		return "proxy_url";
	if (running->enable_socks5 != next->enable_socks5)
		return "enable_socks5";
	if (next->enable_socks5 &&
	    !config_network_addr_equal(&running->socks_addr, &next->socks_addr))
		return "socks_url";
	if (running->enable_socks5_udp != next->enable_socks5_udp)
		return "enable_socks5_udp";
	if (running->dangerously_allow_non_loopback_proxy !=
	    next->dangerously_allow_non_loopback_proxy)
		return "dangerously_allow_non_loopback_proxy";
	if (!running->admin_url != !next->admin_url ||
	    (next->admin_url &&
		!config_network_addr_equal(&running->admin_addr,
		    &next->admin_addr)))
		return "admin_url";
	if (running->dangerously_allow_non_loopback_admin !=
	    next->dangerously_allow_non_loopback_admin)
		return "dangerously_allow_non_loopback_admin";
	return NULL;
}
