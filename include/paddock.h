/* SPDX-License-Identifier: MIT */
/*
 * libpaddock: the public C API for embedders.
 *
 * This is the only installed header. Types are opaque; every function
 * documents who owns what and which threads may call it. Versioned with
 * PADDOCK_VERSION_*; a minor version only adds.
 *
 * In short: paddock_config_load() a config, paddock_proxy_new() a proxy
 * from it, install a decider, a blocked-request observer and an audit sink,
 * paddock_proxy_start() it, read paddock_proxy_address() or hand
 * paddock_proxy_environ() to a child, paddock_proxy_reload() on a config
 * change, paddock_proxy_stop() and paddock_proxy_free(). examples/embed.c
 * shows all of it.
 *
 * Or run a command confined to the config's permissions, as `paddock run`
 * does, with its own proxy: paddock_spawn_new(), paddock_spawn_start(),
 * paddock_spawn_wait(), paddock_spawn_blocked(), paddock_spawn_free().
 * examples/spawn.c shows it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PADDOCK_VERSION_MAJOR 0
#define PADDOCK_VERSION_MINOR 1
#define PADDOCK_VERSION_PATCH 0

#if defined(__GNUC__)
#define PADDOCK_API __attribute__((visibility("default")))
#else
#define PADDOCK_API
#endif

/* The library's version as "MAJOR.MINOR.PATCH" (static storage). Compare
 * with the PADDOCK_VERSION_* macros to detect a header/library mismatch. */
PADDOCK_API const char *paddock_version(void);

/*
 * How much the library writes to stderr: "error", "warn", "info" (the
 * default: a line per blocked request, one JSON access-log line per
 * connection) or "debug". Any thread. Returns 0 or -EINVAL.
 */
PADDOCK_API int paddock_set_log_level(const char *level);

/*
 * Requests, as the policy decider and the observers see them.
 */
enum paddock_protocol {
	PADDOCK_PROTOCOL_HTTP,          /* plain HTTP through the HTTP proxy */
	PADDOCK_PROTOCOL_HTTPS_CONNECT, /* a CONNECT tunnel */
	PADDOCK_PROTOCOL_SOCKS5_TCP,
	PADDOCK_PROTOCOL_SOCKS5_UDP,
	PADDOCK_PROTOCOL_HTTPS, /* a request inside an intercepted tunnel */
	PADDOCK_PROTOCOL_DNS,   /* a name asked of paddock run's DNS server */
};

/* Borrowed by the callee; valid only for the duration of the call. */
struct paddock_request {
	enum paddock_protocol protocol;
	const char *host; /* canonical: lower-case name or IP literal */
	uint16_t port;
	const char *client;  /* "ip:port" of the client, or NULL */
	const char *method;  /* "CONNECT", the HTTP method, or NULL (SOCKS) */
	const char *command; /* attached by the embedder, or NULL */
	const char *exec_policy_hint; /* attached by the embedder, or NULL */
};

/*
 * The policy decider. It is consulted only when the baseline policy says
 * "not in the allowlist" (never for a denylist match, a local/private
 * address, a mode guard or a disabled proxy). It receives a completion
 * handle and answers through it, immediately or later, from any thread:
 * a UI prompt never blocks the proxy.
 *
 * Thread and ownership rules:
 *  - The decider is called on a paddock thread and must not block for long;
 *    hand slow work (a prompt) to another thread and complete later.
 *  - Every handle must be completed exactly once with one of the
 *    paddock_decision_*() functions. Completing it releases it; the handle
 *    must not be used afterwards.
 *  - An answer that does not come within the decider timeout (default 30 s)
 *    is a deny with reason "decider_timeout". A late completion is still
 *    required (it frees the handle) and is then ignored. The same holds after
 *    the proxy was stopped or freed.
 *  - reason is copied; an empty or NULL reason becomes "policy_denied".
 */
struct paddock_decision;

typedef void (*paddock_decider_fn)(const struct paddock_request *request,
    struct paddock_decision *decision, void *userdata);

PADDOCK_API void paddock_decision_allow(struct paddock_decision *decision);
PADDOCK_API void paddock_decision_deny(struct paddock_decision *decision,
    const char *reason);
PADDOCK_API void paddock_decision_ask(struct paddock_decision *decision,
    const char *reason);

/*
 * A blocked request (spec: the blocked-request buffer). Strings are
 * borrowed for the duration of the call; absent fields are NULL, an absent
 * port is -1. timestamp is Unix seconds.
 */
struct paddock_blocked {
	const char *host;
	const char *reason;
	const char *client;
	const char *method;
	const char *mode;     /* "full" or "limited" */
	const char *protocol; /* "http", "http-connect", "socks5", ... */
	const char *decision; /* "deny" or "ask" */
	const char *source;   /* "baseline_policy", "mode_guard", ... */
	int32_t port;
	int64_t timestamp;
};

/* Called once per blocked request, in order, on a paddock thread that is
 * not a proxy worker (so a slow observer never stalls traffic). */
typedef void (
    *paddock_blocked_fn)(const struct paddock_blocked *blocked, void *userdata);

/* Called once per audit event with one JSON object (no newline), in order,
 * on a paddock thread that is not a proxy worker. json is borrowed. */
typedef void (*paddock_audit_fn)(const char *json, void *userdata);

/*
 * Loading a config: the same layered config.toml that `paddock proxy`
 * reads (system file, user file under CODEX_HOME, trusted project files,
 * then overrides). Every pointer is borrowed for the duration of the call.
 */
struct paddock_config;

struct paddock_config_options {
	const char *home;        /* CODEX_HOME; NULL: $CODEX_HOME or ~/.codex */
	const char *config_file; /* the user layer; NULL: <home>/config.toml */
	const char *system_file; /* NULL: /etc/codex/config.toml; "": none */
	const char *cwd;         /* the session directory; NULL: the current */
	const char *const *overrides; /* "KEY=VALUE" like -c, in order */
	size_t n_overrides;
	const char *profile;     /* a config profile, or NULL */
	const char *permissions; /* a permission profile, or NULL */
};

/*
 * Load and validate. Returns 0 with *ret_config, or a negative errno:
 * -EINVAL when the config has errors, which are then described, one per
 * line, in *ret_errors (caller frees with free(); may be NULL to ignore).
 * Warnings are not reported here; `paddock config check` shows them.
 */
PADDOCK_API int paddock_config_load(const struct paddock_config_options *opts,
    struct paddock_config **ret_config, char **ret_errors);

/* Accepts NULL. A proxy built from a config does not need it afterwards. */
PADDOCK_API void paddock_config_free(struct paddock_config *config);

/*
 * The proxy: built from a loaded config, started on its own threads (one
 * event loop per CPU, a reporting thread, a decider thread when a decider
 * is set), reloaded with a new config, stopped gracefully, freed.
 *
 * Thread and ownership rules:
 *  - paddock_proxy_* functions are called from one controlling thread of
 *    the embedder's choice, never from inside a paddock callback.
 *  - The setters only work before paddock_proxy_start() (-EBUSY after).
 *  - Callbacks run on paddock threads (never on a proxy worker for the
 *    observer and the audit sink); userdata is passed through untouched
 *    and must stay valid until paddock_proxy_stop() returned.
 *  - The proxy's threads block every signal; a peer closing a connection
 *    never raises SIGPIPE in the embedder.
 * Functions that can fail return 0 or a negative errno.
 */
struct paddock_proxy;

enum paddock_listener {
	PADDOCK_LISTENER_HTTP,
	PADDOCK_LISTENER_SOCKS5,
};

/* Build a stopped proxy from config (which may be freed afterwards). */
PADDOCK_API int paddock_proxy_new(const struct paddock_config *config,
    struct paddock_proxy **ret_proxy);

/* The policy decider; see paddock_decider_fn above. */
PADDOCK_API int paddock_proxy_set_decider(struct paddock_proxy *proxy,
    paddock_decider_fn fn, void *userdata);

/* Called once per blocked request. */
PADDOCK_API int paddock_proxy_set_blocked_observer(struct paddock_proxy *proxy,
    paddock_blocked_fn fn, void *userdata);

/* Called once per audit event. */
PADDOCK_API int paddock_proxy_set_audit_sink(struct paddock_proxy *proxy,
    paddock_audit_fn fn, void *userdata);

/*
 * Override a limit: "head-timeout", "connect-timeout", "idle-timeout",
 * "dns-timeout", "decider-timeout", "shutdown-grace" (durations such as
 * "250ms", "10s", "5m") or "sessions" (a count). -ENOENT for an unknown
 * name, -EINVAL or -ERANGE for a bad value.
 */
PADDOCK_API int paddock_proxy_set_limit(struct paddock_proxy *proxy,
    const char *name, const char *value);

/*
 * Bind the listeners and start the threads. A proxy whose config has the
 * network proxy disabled binds nothing and returns 0. On failure nothing
 * runs and paddock_proxy_error() says why.
 */
PADDOCK_API int paddock_proxy_start(struct paddock_proxy *proxy);

/* The last error of paddock_proxy_start() or paddock_proxy_reload(), or
 * "" (borrowed from the proxy). */
PADDOCK_API const char *paddock_proxy_error(const struct paddock_proxy *proxy);

/*
 * The bound address of a listener as "127.0.0.1:3128" or "[::1]:3128"
 * (the real port when the config asked for port 0). Returns the length,
 * -ENOENT when that listener is not running, -ENOBUFS when size is too
 * small.
 */
PADDOCK_API int paddock_proxy_address(const struct paddock_proxy *proxy,
    enum paddock_listener which, char *buf, size_t size);

/*
 * A new environment for a child process: envp (may be NULL) with every
 * proxy variable set or replaced (HTTP_PROXY and its family, NO_PROXY,
 * ALL_PROXY, PADDOCK_NETWORK_PROXY_ACTIVE, ...). Without a running
 * listener it is a plain copy of envp. NULL-terminated, ready for execve();
 * free with paddock_environ_free(). Returns NULL on allocation failure.
 */
PADDOCK_API char **paddock_proxy_environ(const struct paddock_proxy *proxy,
    char *const *envp);

/* Accepts NULL. */
PADDOCK_API void paddock_environ_free(char **envp);

/* paddock_proxy_reload() applied everything except listener changes. */
#define PADDOCK_RELOAD_RESTART_NEEDED 1

/*
 * Apply a new config to a running proxy: the policy, the upstream proxies
 * and the limits take effect for new requests; open tunnels keep going.
 * Returns 0, PADDOCK_RELOAD_RESTART_NEEDED when listener settings differ
 * (they need a new proxy), or a negative errno (the old config stays).
 */
PADDOCK_API int paddock_proxy_reload(struct paddock_proxy *proxy,
    const struct paddock_config *config);

/*
 * Stop accepting, let open exchanges finish for up to the shutdown grace
 * (5 s by default), close the rest and join every thread. Blocks until
 * then. Idempotent.
 */
PADDOCK_API int paddock_proxy_stop(struct paddock_proxy *proxy);

/* Stop when running, then free. Accepts NULL. Decision handles still held
 * by a decider stay valid and must still be completed. */
PADDOCK_API void paddock_proxy_free(struct paddock_proxy *proxy);

/*
 * Spawning: run a command confined to a loaded config's permissions, like
 * `paddock run` (docs/sandbox.md): its own user, mount, pid and network
 * namespaces, Landlock and seccomp, and a proxy of its own whose listeners
 * live inside the command's network namespace. The command never runs
 * unconfined: when a restriction cannot be applied, paddock_spawn_start()
 * fails and says why.
 *
 * Thread and ownership rules:
 *  - paddock_spawn_new(), _start(), _wait() and _free() are called from
 *    one controlling thread; _pid(), _pidfd(), _signal(), _blocked() and
 *    _execution_id() from any thread while the spawn exists (also while
 *    another thread waits). Never from inside a paddock callback.
 *  - The library changes no signal mask or handler of the embedder. The
 *    command's exit raises SIGCHLD like any child's; an embedder that
 *    reaps every child (waitpid(-1, ...)) takes its status away, and
 *    paddock_spawn_wait() then returns -ECHILD.
 *  - The command is killed when the thread that called
 *    paddock_spawn_start() exits (its parent-death signal follows that
 *    thread), and when the process dies.
 *  - Callbacks run on a paddock thread, as for a proxy; their userdata
 *    must stay valid until paddock_spawn_wait() returned (or _free()).
 * Functions that can fail return 0 (or a status) or a negative errno.
 */
struct paddock_spawn;

struct paddock_spawn_options {
	/* The environment the command's is made from ([shell_environment_
	 * policy] applies, then the proxy variables); NULL: environ.
	 * Borrowed for the call. */
	char *const *envp;
	paddock_blocked_fn blocked_fn; /* each blocked request, or NULL */
	void *blocked_userdata;
	paddock_audit_fn audit_fn; /* each audit event, or NULL */
	void *audit_userdata;
};

/*
 * Prepare argv (NULL-terminated, argv[0] searched in the command's PATH)
 * under config's permissions, with the config's cwd as project root and
 * the command's working directory. config must stay valid until
 * paddock_spawn_start() returned; argv and options are borrowed for the
 * call (options may be NULL). Missing protected metadata directories
 * (.git, .codex, .agents under writable roots) get empty placeholders on
 * the host, removed once the command exited. Returns 0 with *ret_spawn,
 * or a negative errno with one line in *ret_error (caller frees with
 * free(); may be NULL to ignore).
 */
PADDOCK_API int paddock_spawn_new(const struct paddock_config *config,
    char *const *argv, const struct paddock_spawn_options *options,
    struct paddock_spawn **ret_spawn, char **ret_error);

/*
 * Start the proxy and the command. Returns 0 once the command runs, or a
 * negative errno (-ENOENT: the command was not found; -EACCES and others:
 * it could not be executed or a restriction failed) with
 * paddock_spawn_error() saying why; nothing is left running then.
 */
PADDOCK_API int paddock_spawn_start(struct paddock_spawn *spawn);

/* The last error of paddock_spawn_start(), or "" (borrowed). */
PADDOCK_API const char *paddock_spawn_error(const struct paddock_spawn *spawn);

/* The command's parent, pid 1 of its pid namespace, or -1 before start. */
PADDOCK_API pid_t paddock_spawn_pid(const struct paddock_spawn *spawn);

/* A pidfd for it that becomes readable when the command exited (poll it
 * in an event loop, then paddock_spawn_wait() returns at once), or -1.
 * Borrowed: closed by paddock_spawn_free(). */
PADDOCK_API int paddock_spawn_pidfd(const struct paddock_spawn *spawn);

/* Send sig to the command (forwarded to its process group; SIGKILL ends
 * the whole sandbox). -ESRCH once it was reaped. */
PADDOCK_API int paddock_spawn_signal(struct paddock_spawn *spawn, int sig);

/*
 * Wait for the command to exit (blocking; retried on EINTR), then stop the
 * proxy. Returns its exit status, 128+N when signal N killed it (the same
 * again on later calls), or a negative errno (-ECHILD when not started).
 */
PADDOCK_API int paddock_spawn_wait(struct paddock_spawn *spawn);

/*
 * The blocked requests so far, oldest first: the last 200, as the
 * observer saw them. *ret_blocked is one allocation holding the records
 * and their strings (caller frees with free(); NULL when there are none).
 * Returns 0 or -ENOMEM.
 */
PADDOCK_API int paddock_spawn_blocked(struct paddock_spawn *spawn,
    struct paddock_blocked **ret_blocked, size_t *ret_n);

/* Every blocked request of the spawn, ever (saturating). */
PADDOCK_API uint64_t paddock_spawn_blocked_total(struct paddock_spawn *spawn);

/* The spawn's execution id, a random UUID that every audit event of its
 * proxy carries as "execution.id" (borrowed). */
PADDOCK_API const char *paddock_spawn_execution_id(
    const struct paddock_spawn *spawn);

/* Kill and reap a command still running, stop the proxy, free. Accepts
 * NULL. */
PADDOCK_API void paddock_spawn_free(struct paddock_spawn *spawn);

#ifdef __cplusplus
}
#endif
