/* SPDX-License-Identifier: MIT */
/*
 * Sessions: the connection state machine (STYLE.md §7).
 *
 * Every accepted client is one struct session with two halves, client and
 * upstream, each holding its bufferevent, a peer pointer, a byte count and
 * an eof flag. The state changes only through session_set_state(), which
 * checks the transition table. Front ends (HTTP now, SOCKS5 next) drive the
 * early states; judging, dialing and relaying are shared. A CONNECT leaves
 * its front end through session_tunnel(), the one tunnel handoff.
 *
 * There is one way out: session_close(s, reason). It is idempotent, keeps
 * the first reason, cancels the timer, the judgement and the dial, frees
 * both bufferevents (closing their sockets at once), unlinks the session,
 * writes its access-log line and moves it to the worker's graveyard. The
 * memory is released by the worker's reaper on a later loop turn once the
 * reference count is zero; nothing frees a session directly. Callbacks
 * that can run after a close check session_is_closed() first.
 *
 * Thread rules: a session lives on its worker's thread only.
 */
#pragma once

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "proxy/proxy.h"
#include "proxy/splice.h"
#include "util/log.h"

struct bufferevent;
struct dial;
struct event;
struct evbuffer;
struct judge;
struct relay;
struct session;
struct ssl_st;

enum session_state {
	SESSION_ST_NEW,
	SESSION_ST_HTTP_HEAD,
	SESSION_ST_SOCKS_GREETING,
	SESSION_ST_SOCKS_AUTH,
	SESSION_ST_SOCKS_REQUEST,
	SESSION_ST_RESOLVING, /* name resolution and the verdict, decider too */
	SESSION_ST_CONNECTING,
	SESSION_ST_TLS_ACCEPT,
	SESSION_ST_RELAY, /* a tunnel, or one forwarded HTTP exchange */
	SESSION_ST_DRAINING,
	SESSION_ST_CLOSED,
	_SESSION_ST_MAX,
};

const char *session_state_name(enum session_state st);

/* True when the transition table allows from -> to. */
bool session_transition_ok(enum session_state from, enum session_state to);

/*
 * One side of the connection.
 *
 * fd is the socket under bev while bev is a plain socket bufferevent: the
 * session core (session.c, relay.c) writes to it directly, shuts it down
 * and splices from it. It is -1 while there is no bev and once bev is
 * wrapped (session_half_wrap(), e.g. in TLS): then every byte goes through
 * bev, never past it. Nothing outside the core uses fd.
 */
struct half {
	struct bufferevent *bev;
	int fd;
	struct half *peer;
	uint64_t bytes; /* bytes received from this side */
	bool eof;       /* this side will send nothing more */
	bool shut;      /* we sent EOF to this side (SHUT_WR) */
};

/* What the session's single timer is currently measuring. */
enum session_timer {
	SESSION_TIMER_NONE,
	SESSION_TIMER_HEAD,    /* request head deadline (408) */
	SESSION_TIMER_DECIDER, /* waiting for the decider */
	SESSION_TIMER_IDLE,    /* keep-alive or relay idle timeout */
	SESSION_TIMER_CHAIN,   /* an upstream proxy answering our CONNECT */
	SESSION_TIMER_DRAIN,   /* flushing and lingering before the close */
	_SESSION_TIMER_MAX,
};

/* The close reason naming a timer's phase: "idle timeout", ... */
const char *session_timer_reason(enum session_timer t);

struct session_frontend {
	const char *name;
	/* Set up front-end state and enter the first state. Returns 0 or a
	 * negative errno (the session is then closed). */
	int (*start)(struct session *s);
	/* The timer fired. */
	void (*timeout)(struct session *s, enum session_timer t);
	/* The worker is stopping: close when idle, else finish and close. */
	void (*shutdown)(struct session *s);
	/* session_close() ran: cancel front-end work. Memory stays. */
	void (*closed)(struct session *s);
	/* Free front-end state (from the reaper). */
	void (*free)(struct session *s);
};

#define SESSION_CLIENT_TEXT_MAX 64
#define SESSION_TARGET_TEXT_MAX 340
#define SESSION_RULE_TEXT_MAX   128

struct session {
	uint64_t id;
	unsigned refs;
	enum session_state state;
	struct worker *worker;
	const struct session_frontend *fe;
	const char *fe_name; /* the accepting front end's, kept by a tunnel */
	void *fe_state;
	TAILQ_ENTRY(session) link; /* worker's live list or graveyard */
	struct half client;
	struct half upstream;
	struct event *timer;
	enum session_timer timer_kind;
	uint64_t last_active_ms;
	struct proxy_conf *conf; /* snapshot of the current exchange */
	struct dial *dial;
	struct relay *relay;
	/* The access-log line. */
	struct sockaddr_storage peer;
	char client_text[SESSION_CLIENT_TEXT_MAX];
	uint64_t started_ms;
	uint64_t requests;
	char target[SESSION_TARGET_TEXT_MAX];
	const char *verdict; /* static: "allow", "deny", "ask" */
	const char *reason;  /* static policy reason name */
	char rule[SESSION_RULE_TEXT_MAX];
	const char *close_reason;
};

/*
 * Accept fd from peer on worker w with front end fe. Takes ownership of fd
 * (closed on failure). Returns the session, or NULL when it could not be
 * created (the fd is closed and the reason logged).
 */
struct session *session_new(struct worker *w, int fd,
    const struct sockaddr *peer, socklen_t peerlen,
    const struct session_frontend *fe);

struct session *session_ref(struct session *s);

/* Drop a reference. A closed session with no references left is reaped
 * on the next loop turn. */
void session_unref(struct session *s);

void session_set_state(struct session *s, enum session_state st);

/* The only way out; see the top of this file. reason is static text. */
void session_close(struct session *s, const char *reason);

static inline bool
session_is_closed(const struct session *s)
{
	return s->state == SESSION_ST_CLOSED;
}

/* Free a session whose refcount is zero (the worker's reaper). */
void session_reap(struct session *s);

/* Arm the timer: after ms, fe->timeout(s, kind) runs (IDLE re-arms itself
 * while there was activity). Replaces any running timer. */
void session_timer_set(struct session *s, enum session_timer kind, uint64_t ms);

void session_timer_clear(struct session *s);

/* Note activity for the idle timer. */
void session_touch(struct session *s);

/* A bufferevent for fd on the session's loop (takes ownership of fd).
 * Returns NULL on failure (fd closed). */
struct bufferevent *session_bev_new(struct session *s, int fd);

/*
 * Enable what of events (EV_READ, EV_WRITE) is not enabled yet. Enabling
 * EV_WRITE again is not free in libevent: it registers write interest
 * even with nothing to write, and the wake-up that follows removes it.
 * Returns 0 or -1.
 */
int session_bev_enable(struct bufferevent *bev, short events);

/*
 * After a final answer went out: send EOF to the client, then read and
 * drop whatever it still sends until it closes (the front end's EOF
 * handling closes the session) or LIMIT_LINGER_MS passed, so closing
 * never resets the connection under an answer it has not read yet.
 */
void session_linger(struct session *s);

/*
 * A front end's start: the client's bufferevent gets the callbacks (with
 * s as their argument) and reads at most LIMIT_RELAY_HIWAT ahead, so
 * pipelined requests and early tunnel bytes are bounded; the session
 * enters st and the head deadline runs. Writing is enabled only when an
 * answer does not fit at once. Returns 0 or -ENOMEM.
 */
int session_await_head(struct session *s, enum session_state st,
    void (*readcb)(struct bufferevent *bev, void *arg),
    void (*writecb)(struct bufferevent *bev, void *arg),
    void (*eventcb)(struct bufferevent *bev, short what, void *arg));

/*
 * Free a bufferevent. fd is the socket under it when it is a plain socket
 * bufferevent (a half's fd): that socket is closed now, since
 * bufferevent_free() may defer the close to a later loop turn. With fd -1
 * (a wrapped bufferevent) the layers under it are freed with it and close
 * their socket themselves. Accepts NULL.
 */
void session_bev_free(struct bufferevent *bev, int fd);

/*
 * Send n bytes from the front of src to h: straight to h's raw socket when
 * nothing is queued for it (one writev, no wake-up needed), and whatever
 * the socket does not take is queued on h's bufferevent; a wrapped half
 * gets everything through its bufferevent. The bytes leave src either way.
 * Returns 0 or -ENOMEM. Socket errors surface through h's bufferevent.
 */
int session_send(struct half *h, struct evbuffer *src, size_t n);

/* The same for n bytes at p (copied when they must be queued): the SOCKS5
 * front end's short answers. */
int session_send_bytes(struct half *h, const void *p, size_t n);

/*
 * An answer is awaited from h: have its socket acknowledge what arrives
 * at once, and push out an acknowledgement the kernel is delaying
 * (tcpopt.h). Holds until the next send to h. A half wrapped in TLS
 * gets it on the socket under its layer.
 */
void session_quickack(struct half *h);

/*
 * Wrap h: outer was built over h->bev and owns it now (for instance
 * bufferevent_openssl_filter_new() with BEV_OPT_CLOSE_ON_FREE; STYLE.md
 * §6). From here on every byte of h goes through outer: h->fd becomes -1,
 * so the core neither writes to, shuts down nor splices the socket
 * underneath. Set outer's callbacks afterwards (relay_start() does).
 */
void session_half_wrap(struct half *h, struct bufferevent *outer);

/*
 * Wrap h in TLS with ssl (taken, whatever happens): accepting as a server
 * or connecting as a client. A raw half with nothing buffered either way
 * gets an OpenSSL bufferevent on its socket in place of the socket one
 * (OpenSSL then reads and writes a whole record per system call); one with
 * bytes already read or still queued gets a filter over its bufferevent,
 * which reads the former and writes behind the latter. Either way h->fd
 * becomes -1 (session_half_wrap()). Returns 0, or -ENOMEM with h left
 * without a bufferevent (its socket closed). Set the new bufferevent's
 * callbacks afterwards.
 */
int session_half_tls(struct session *s, struct half *h, struct ssl_st *ssl,
    bool accept);

/*
 * Send EOF to h once (h->shut): shutdown(SHUT_WR) on its raw socket, or
 * for a half wrapped in TLS a close_notify alert through the TLS layer
 * (RFC 8446 §6.1); a wrapped half's socket is never shut down underneath
 * its layer. Call it once h's output is empty. Accepts a half without a
 * bufferevent (does nothing).
 */
void session_shut(struct half *h);

/* True when both halves are raw sockets, so bytes may move socket to
 * socket (splice(2)) without passing through any layer. */
static inline bool
session_can_splice(const struct session *s)
{
	return s->client.fd >= 0 && s->upstream.fd >= 0;
}

/*
 * Move bytes from src's socket to its peer's with splice(2) until limit
 * bytes were moved (splice_dir_new(); cb and arg as there). The caller
 * disables both bufferevents for as long as the direction runs. Returns
 * NULL when a half is not raw (session_can_splice() is false: the bytes
 * must go through the bufferevents) or on allocation failure.
 */
struct splice_dir *session_splice(struct session *s, struct half *src,
    uint64_t limit, splice_fn cb, void *arg);

/* The local address of the client's connection (getsockname(2) on its
 * raw socket). Returns 0, -EBADF when the client half is wrapped, or a
 * negative errno. */
int session_local_address(const struct session *s,
    struct sockaddr_storage *ret_addr, socklen_t *ret_len);

/*
 * The one tunnel handoff (HTTP CONNECT, SOCKS5 CONNECT). Call it with the
 * upstream attached, the front end's success answer queued and no
 * front-end work in flight (judge, dial). It frees the front end's state
 * through its vtable (fe->free), switches the session to the built-in
 * tunnel front end (no state; its timer, the relay's idle timeout, closes
 * the session; a stopping worker lets it run until the grace period ends;
 * the access log still names the accepting front end), enters RELAY and
 * starts the relay, which sends what either side already buffered first.
 * If the relay cannot start, the session is closed ("out of memory").
 * Either way the front end's state is gone on return: touch none of it.
 *
 * TLS interception plugs in here: a CONNECT then goes on either as this
 * plain tunnel or as a TLS accept followed by inner HTTP.
 */
void session_tunnel(struct session *s);

/* Attach a connected upstream bufferevent (takes ownership). fd is the
 * socket under it when it is a plain socket bufferevent, -1 when it is
 * wrapped (struct half). */
void session_attach_upstream(struct session *s, struct bufferevent *bev,
    int fd);

/* Detach the upstream bufferevent and hand it to the caller (for the
 * pool); callbacks are cleared. *ret_fd is set to its raw socket, or -1
 * when it is wrapped. Returns NULL (and *ret_fd -1) when there is none. */
struct bufferevent *session_take_upstream(struct session *s, int *ret_fd);

/* Free the upstream bufferevent (closing it). */
void session_drop_upstream(struct session *s);

/* Record what the access log says about the current exchange. */
void session_note_target(struct session *s, const char *host, uint16_t port);
void session_note_verdict(struct session *s, const char *decision,
    const char *reason, const char *rule);

/* Session log helpers: "session <id>: ...". */
#define slog_err(s, fmt, ...) \
	log_err("session %" PRIu64 ": " fmt, (s)->id, ##__VA_ARGS__)
#define slog_warn(s, fmt, ...) \
	log_warn("session %" PRIu64 ": " fmt, (s)->id, ##__VA_ARGS__)
#define slog_info(s, fmt, ...) \
	log_info("session %" PRIu64 ": " fmt, (s)->id, ##__VA_ARGS__)
#define slog_debug(s, fmt, ...)                                         \
	do {                                                            \
		if (log_get_level() >= LOG_LEVEL_DEBUG)                 \
			log_debug("session %" PRIu64 ": " fmt, (s)->id, \
			    ##__VA_ARGS__);                             \
	} while (0)
