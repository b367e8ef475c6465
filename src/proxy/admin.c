/* SPDX-License-Identifier: MIT */
/*
 * The admin API server. Everything here runs on the admin thread: the
 * accept, the strict HTTP parsing (wire/http_head.h, the parser the proxy
 * uses), the answers. It reads the workers' counters (relaxed loads, see
 * proxy/stats.h) and the blocked-request buffer (its own short lock); it
 * never touches a worker's loop. POST /reload and POST /mode go through
 * proxy_reload()/proxy_set_mode(), which serialise with the controlling
 * thread's reloads.
 *
 * A connection carries one request: the head (at most
 * LIMIT_HTTP_HEAD_BYTES), a body of at most LIMIT_ADMIN_BODY_BYTES, all
 * within LIMIT_ADMIN_TIMEOUT_MS; then the answer and the close.
 */
#include "proxy/admin.h"

#include <sys/queue.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>

#include "audit/audit.h"
#include "audit/blocked.h"
#include "policy/policy.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/strutil.h"
#include "wire/http_head.h"
#include "wire/http_reply.h"
#include "wire/prom.h"

struct admin_conn {
	TAILQ_ENTRY(admin_conn) link;
	struct admin *a;
	struct bufferevent *bev;
	struct event *timer;
	struct http_head head;
	struct http_parser parser;
	bool head_done;
	bool answered;
	struct buf body;
	uint64_t body_left; /* HTTP_BODY_LENGTH: bytes still to come */
	bool body_over;     /* a chunked body grew beyond the cap */
};

TAILQ_HEAD(admin_conns, admin_conn);

struct admin {
	struct proxy *p;
	struct proxy_admin_ops ops;
	pthread_t thread;
	bool started;
	struct event_base *base;
	struct evconnlistener *l;
	struct event *quit;
	struct admin_conns conns;
	size_t n_conns;
};

static void
admin_conn_free(struct admin_conn *c)
{
	TAILQ_REMOVE(&c->a->conns, c, link);
	c->a->n_conns--;
	if (c->timer)
		event_free(c->timer);
	if (c->bev)
		bufferevent_free(c->bev);
	http_head_done(&c->head);
	buf_done(&c->body);
	free(c);
}

static void
admin_write_cb(struct bufferevent *bev, void *arg)
{
	struct admin_conn *c = arg;

	if (c->answered &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		admin_conn_free(c);
}

static void
admin_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct admin_conn *c = arg;

	(void)bev;
	(void)what;
	/* EOF before the request was complete, or an error: nobody is left
	 * to answer. */
	admin_conn_free(c);
}

/* Queue a complete answer and close once it is flushed. extra is more
 * header lines ("Allow: GET\r\n") or NULL. */
static void
admin_reply(struct admin_conn *c, unsigned status, const char *type,
    const char *extra, const char *body, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (c->answered)
		return;
	c->answered = true;
	(void)bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_add_printf(out,
		"HTTP/1.1 %u %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		"Cache-Control: no-store\r\n%sConnection: close\r\n\r\n",
		status, http_reply_reason(status), type, len,
		extra ? extra : "") < 0 ||
	    evbuffer_add(out, body, len) < 0) {
		admin_conn_free(c);
		return;
	}
	(void)bufferevent_enable(c->bev, EV_WRITE);
}

static void
admin_text(struct admin_conn *c, unsigned status, const char *text)
{
	admin_reply(c, status, "text/plain; charset=utf-8", NULL, text,
	    strlen(text));
}

/* Answer with j (taken over) as JSON, or 500 when it is NULL. */
static void
admin_json(struct admin_conn *c, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!text) {
		admin_text(c, 500, "error");
		return;
	}
	admin_reply(c, 200, "application/json", NULL, text, strlen(text));
	free(text);
}

static void
admin_get_config(struct admin_conn *c)
{
	char *text = c->a->ops.config_json ?
	    c->a->ops.config_json(c->a->ops.userdata) :
	    NULL;

	if (!text) {
		admin_text(c, 500, "error");
		return;
	}
	admin_reply(c, 200, "application/json", NULL, text, strlen(text));
	free(text);
}

static void
admin_get_patterns(struct admin_conn *c)
{
	struct proxy_conf *conf = proxy_get_conf(c->a->p);
	json_t *o = json_object(), *allowed = json_array(),
	       *denied = json_array();
	bool ok = o && allowed && denied;

	for (size_t i = 0; ok && i < policy_rule_count(conf->policy); i++) {
		enum policy_list list;
		const char *pat = policy_rule_pattern(conf->policy, i, &list);

		ok = json_array_append_new(list == POLICY_LIST_ALLOW ? allowed :
								       denied,
			 json_string(pat)) == 0;
	}
	proxy_conf_unref(conf);
	ok = ok && json_object_set(o, "allowed", allowed) == 0 &&
	    json_object_set(o, "denied", denied) == 0;
	json_decref(allowed);
	json_decref(denied);
	if (!ok)
		o = (json_decref(o), NULL);
	admin_json(c, o);
}

static void
admin_get_blocked(struct admin_conn *c, bool keep)
{
	struct audit *au = proxy_get_audit(c->a->p);
	struct blocked_record *recs = NULL;
	size_t n = 0;
	struct buf b;
	int r = 0;

	if (au)
		r = keep ? blocked_snapshot(audit_get_blocked(au), &recs, &n) :
			   blocked_drain(audit_get_blocked(au), &recs, &n);
	buf_init(&b, 0);
	if (r >= 0)
		r = buf_append_str(&b, "{\"blocked\":[");
	for (size_t i = 0; i < n && r >= 0; i++) {
		char *one = blocked_record_json(&recs[i]);

		r = one ? buf_printf(&b, "%s%s", i ? "," : "", one) : -ENOMEM;
		free(one);
	}
	if (r >= 0)
		r = buf_append_str(&b, "]}");
	free(recs);
	if (r < 0)
		admin_text(c, 500, "error");
	else
		admin_reply(c, 200, "application/json", NULL, buf_str(&b),
		    b.len);
	buf_done(&b);
}

static void
admin_get_metrics(struct admin_conn *c)
{
	struct buf b;

	buf_init(&b, 0);
	if (proxy_metrics(c->a->p, &b) < 0)
		admin_text(c, 500, "error");
	else
		admin_reply(c, 200, PROM_CONTENT_TYPE, NULL, buf_str(&b),
		    b.len);
	buf_done(&b);
}

/* POST /mode: {"mode":"full"|"limited"} (spec network §8.5). */
static void
admin_post_mode(struct admin_conn *c)
{
	struct admin *a = c->a;
	enum policy_mode mode;
	json_t *j, *m;
	const char *s;
	char err[256] = "", msg[320];
	int r;

	if (c->body.len == 0) {
		admin_text(c, 400, "missing body");
		return;
	}
	j = json_loadb(buf_str(&c->body), c->body.len, JSON_REJECT_DUPLICATES,
	    NULL);
	if (!j) {
		admin_text(c, 400, "invalid json");
		return;
	}
	m = json_is_object(j) && json_object_size(j) == 1 ?
	    json_object_get(j, "mode") :
	    NULL;
	s = json_is_string(m) ? json_string_value(m) : NULL;
	if (s && streq(s, "full"))
		mode = POLICY_MODE_FULL;
	else if (s && streq(s, "limited"))
		mode = POLICY_MODE_LIMITED;
	else {
		json_decref(j);
		admin_text(c, 400, "invalid body");
		return;
	}
	json_decref(j);
	r = a->ops.check_mode ?
	    a->ops.check_mode(a->ops.userdata, mode, err, sizeof(err)) :
	    0;
	if (r == 0)
		r = proxy_set_mode(a->p, mode, err, sizeof(err));
	if (r < 0) {
		log_warn("admin: POST /mode %s refused: %s",
		    policy_mode_name(mode), err);
		(void)snprintf(msg, sizeof(msg), "mode update failed: %s", err);
		admin_text(c, 500, msg);
		return;
	}
	log_info("admin: mode set to %s", policy_mode_name(mode));
	j = json_pack("{s:s,s:s}", "status", "ok", "mode",
	    policy_mode_name(mode));
	admin_json(c, j);
}

static void
admin_post_reload(struct admin_conn *c)
{
	struct admin *a = c->a;
	char err[256] = "no reload hook", msg[320];
	int r = -ENOTSUP;

	if (a->ops.reload)
		r = a->ops.reload(a->ops.userdata, err, sizeof(err));
	else
		proxy_reload_failed(a->p);
	if (r < 0) {
		(void)snprintf(msg, sizeof(msg), "reload failed: %s", err);
		admin_text(c, 500, msg);
		return;
	}
	admin_json(c, json_pack("{s:s}", "status", "reloaded"));
}

enum admin_route {
	ADMIN_ROUTE_HEALTH,
	ADMIN_ROUTE_CONFIG,
	ADMIN_ROUTE_PATTERNS,
	ADMIN_ROUTE_BLOCKED,
	ADMIN_ROUTE_METRICS,
	ADMIN_ROUTE_MODE,
	ADMIN_ROUTE_RELOAD,
	_ADMIN_ROUTE_MAX,
};

static const struct {
	const char *path;
	bool post;
} admin_routes[_ADMIN_ROUTE_MAX] = {
	[ADMIN_ROUTE_HEALTH] = { "/health", false },
	[ADMIN_ROUTE_CONFIG] = { "/config", false },
	[ADMIN_ROUTE_PATTERNS] = { "/patterns", false },
	[ADMIN_ROUTE_BLOCKED] = { "/blocked", false },
	[ADMIN_ROUTE_METRICS] = { "/metrics", false },
	[ADMIN_ROUTE_MODE] = { "/mode", true },
	[ADMIN_ROUTE_RELOAD] = { "/reload", true },
};

/* The route of the request target (origin-form; the query is cut off
 * into *ret_query), or _ADMIN_ROUTE_MAX. */
static enum admin_route
admin_route_of(const struct admin_conn *c, const char **ret_query)
{
	const char *t = http_head_str(&c->head, c->head.target);
	size_t n = strcspn(t, "?");

	*ret_query = t[n] == '?' ? t + n + 1 : "";
	for (int i = 0; i < _ADMIN_ROUTE_MAX; i++)
		if (strlen(admin_routes[i].path) == n &&
		    memcmp(admin_routes[i].path, t, n) == 0)
			return (enum admin_route)i;
	return _ADMIN_ROUTE_MAX;
}

/* Checked once the head is in: may the body follow? Returns false when it
 * answered already. */
static bool
admin_check_head(struct admin_conn *c)
{
	const char *method = http_head_method(&c->head);
	const char *query;
	enum admin_route r = admin_route_of(c, &query);

	if (r == _ADMIN_ROUTE_MAX) {
		admin_text(c, 404, "not found");
		return false;
	}
	if (!streq(method, admin_routes[r].post ? "POST" : "GET")) {
		admin_reply(c, 405, "text/plain; charset=utf-8",
		    admin_routes[r].post ? "Allow: POST\r\n" : "Allow: GET\r\n",
		    "method not allowed", strlen("method not allowed"));
		return false;
	}
	if (c->head.body == HTTP_BODY_LENGTH &&
	    c->head.content_length > LIMIT_ADMIN_BODY_BYTES) {
		admin_text(c, 413, "body too large");
		return false;
	}
	if (c->head.body == HTTP_BODY_LENGTH)
		c->body_left = c->head.content_length;
	return true;
}

static void
admin_dispatch(struct admin_conn *c)
{
	const char *query;

	switch (admin_route_of(c, &query)) {
	case ADMIN_ROUTE_HEALTH:
		admin_reply(c, 200, "text/plain; charset=utf-8", NULL, "ok", 2);
		break;
	case ADMIN_ROUTE_CONFIG:
		admin_get_config(c);
		break;
	case ADMIN_ROUTE_PATTERNS:
		admin_get_patterns(c);
		break;
	case ADMIN_ROUTE_BLOCKED:
		admin_get_blocked(c, streq(query, "keep=1"));
		break;
	case ADMIN_ROUTE_METRICS:
		admin_get_metrics(c);
		break;
	case ADMIN_ROUTE_MODE:
		admin_post_mode(c);
		break;
	case ADMIN_ROUTE_RELOAD:
		admin_post_reload(c);
		break;
	default:
		admin_text(c, 404, "not found");
		break;
	}
}

static void
admin_body_sink(void *userdata, const char *p, size_t n)
{
	struct admin_conn *c = userdata;

	if (c->body_over || buf_append(&c->body, p, n) < 0)
		c->body_over = true;
}

/* The head is in and no body bytes are still to come. */
static bool
admin_body_done(const struct admin_conn *c)
{
	return c->head.body == HTTP_BODY_NONE ||
	    (c->head.body == HTTP_BODY_LENGTH && c->body_left == 0);
}

/* Consume what arrived. Returns true once the request is complete. */
static bool
admin_feed(struct admin_conn *c, struct evbuffer *in)
{
	while (!c->answered && evbuffer_get_length(in) > 0) {
		size_t len = evbuffer_get_length(in), used = 0;
		const char *data =
		    (const char *)evbuffer_pullup(in, (ssize_t)len);
		enum parse_result pr;

		if (!data) {
			admin_text(c, 500, "error");
			return false;
		}
		if (!c->head_done) {
			pr =
			    http_parser_feed_head(&c->parser, data, len, &used);
			(void)evbuffer_drain(in, used);
			if (pr == PARSE_ERROR) {
				admin_text(c, c->parser.error_status,
				    c->parser.error ? c->parser.error :
						      "bad request");
				return false;
			}
			if (pr == PARSE_AGAIN)
				return false;
			c->head_done = true;
			if (!admin_check_head(c))
				return false;
			if (admin_body_done(c))
				return true;
			continue;
		}
		if (c->head.body == HTTP_BODY_CHUNKED) {
			pr = http_parser_feed_body(&c->parser, data, len, &used,
			    admin_body_sink, c);
			(void)evbuffer_drain(in, used);
			if (c->body_over) {
				admin_text(c, 413, "body too large");
				return false;
			}
			if (pr == PARSE_ERROR) {
				admin_text(c, 400, "bad request");
				return false;
			}
			if (pr == PARSE_DONE)
				return true;
			continue;
		}
		used = len < c->body_left ? len : (size_t)c->body_left;
		if (buf_append(&c->body, data, used) < 0) {
			admin_text(c, 500, "error");
			return false;
		}
		(void)evbuffer_drain(in, used);
		c->body_left -= used;
		if (c->body_left == 0)
			return true;
	}
	return false;
}

static void
admin_read_cb(struct bufferevent *bev, void *arg)
{
	struct admin_conn *c = arg;

	if (c->answered)
		return;
	if (admin_feed(c, bufferevent_get_input(bev)))
		admin_dispatch(c);
}

static void
admin_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->answered)
		admin_conn_free(c); /* a client that does not read */
	else
		admin_text(c, 408, "request timeout");
}

static void
admin_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int len, void *arg)
{
	struct admin *a = arg;
	struct admin_conn *c;
	struct timeval tv = {
		.tv_sec = LIMIT_ADMIN_TIMEOUT_MS / 1000,
		.tv_usec = (LIMIT_ADMIN_TIMEOUT_MS % 1000) * 1000,
	};

	(void)l;
	(void)sa;
	(void)len;
	if (a->n_conns >= LIMIT_ADMIN_CONNS || !(c = calloc(1, sizeof(*c)))) {
		(void)close(fd);
		return;
	}
	c->a = a;
	TAILQ_INSERT_TAIL(&a->conns, c, link);
	a->n_conns++;
	http_head_init(&c->head, HTTP_KIND_REQUEST);
	http_parser_init(&c->parser, HTTP_KIND_REQUEST, &c->head);
	buf_init(&c->body, LIMIT_ADMIN_BODY_BYTES);
	c->bev = bufferevent_socket_new(a->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = event_new(a->base, -1, 0, admin_timer_cb, c);
	if (!c->bev || !c->timer || event_add(c->timer, &tv) < 0) {
		if (!c->bev)
			(void)close(fd);
		admin_conn_free(c);
		return;
	}
	bufferevent_setcb(c->bev, admin_read_cb, admin_write_cb, admin_event_cb,
	    c);
	(void)bufferevent_enable(c->bev, EV_READ);
}

static void
admin_quit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin *a = arg;
	struct admin_conn *c;

	(void)fd;
	(void)what;
	while ((c = TAILQ_FIRST(&a->conns)))
		admin_conn_free(c);
	if (a->l) {
		evconnlistener_free(a->l);
		a->l = NULL;
	}
	(void)event_base_loopbreak(a->base);
}

struct admin *
admin_new(struct proxy *p, int fd, const struct proxy_admin_ops *ops)
{
	struct admin *a = calloc(1, sizeof(*a));

	if (!a) {
		(void)close(fd);
		return NULL;
	}
	a->p = p;
	a->ops = *ops;
	TAILQ_INIT(&a->conns);
	a->base = event_base_new();
	if (!a->base) {
		(void)close(fd);
		return admin_free(a);
	}
	a->l = evconnlistener_new(a->base, admin_accept_cb, a,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (!a->l)
		(void)close(fd);
	a->quit = event_new(a->base, -1, 0, admin_quit_cb, a);
	if (!a->l || !a->quit)
		return admin_free(a);
	return a;
}

static void *
admin_main(void *arg)
{
	struct admin *a = arg;

	(void)pthread_setname_np(pthread_self(), "paddock-admin");
	(void)event_base_loop(a->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

int
admin_start(struct admin *a)
{
	int r = pthread_create(&a->thread, NULL, admin_main, a);

	if (r != 0)
		return -r;
	a->started = true;
	return 0;
}

struct admin *
admin_free(struct admin *a)
{
	struct admin_conn *c;

	if (!a)
		return NULL;
	if (a->started) {
		event_active(a->quit, EV_TIMEOUT, 0);
		(void)pthread_join(a->thread, NULL);
	}
	while ((c = TAILQ_FIRST(&a->conns)))
		admin_conn_free(c);
	if (a->l)
		evconnlistener_free(a->l);
	if (a->quit)
		event_free(a->quit);
	if (a->base)
		event_base_free(a->base);
	free(a);
	return NULL;
}
