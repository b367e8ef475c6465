/* SPDX-License-Identifier: MIT */
/*
 * `paddock run` orchestration; see run.h. The filesystem part of the plan
 * comes from run_plan.c, the child environment from run_env.c, the
 * confinement itself from src/sandbox/, the blocked summary from
 * run_report.c.
 */
#include "api/run.h"

#include <arpa/inet.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/childenv.h"
#include "api/proxy_settings.h"
#include "api/run_ask.h"
#include "api/run_env.h"
#include "api/run_explain.h"
#include "api/run_placeholder.h"
#include "api/run_plan.h"
#include "api/run_report.h"
#include "api/run_udp.h"
#include "audit/audit.h"
#include "audit/blocked.h"
#include "config/config.h"
#include "proxy/proxy.h"
#include "sandbox/sandbox.h"
#include "tls/certgen.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/strutil.h"

/* Ports for listeners the config leaves at 0: inside the namespace
 * nothing else listens, so the usual ones are always free. */
#define RUN_DEFAULT_HTTP_PORT  3128
#define RUN_DEFAULT_SOCKS_PORT 8081

struct run {
	const struct config *cfg;
	const struct run_options *o; /* points at opts */
	struct run_options opts;     /* a copy; its pointers are borrowed */
	struct sandbox_plan *plan;
	struct run_placeholders placeholders; /* held until the run ends */
	bool net_proxy;
	struct childenv env;
	char http[CONFIG_ADDR_TEXT_MAX + 8];
	char socks[CONFIG_ADDR_TEXT_MAX + 8];
	bool socks_on;
	size_t withheld;
	struct proxy_settings settings;
	bool settings_init;
	struct proxy *proxy;
	struct run_ask *ask;
	int listen_fds[SANDBOX_LISTENERS_MAX];
	int frontend_of[SANDBOX_LISTENERS_MAX];
	char ca_dir[PATH_MAX]; /* CODEX_HOME/proxy */
	char execution_id[PROXY_EXECUTION_ID_BYTES];
	/* The command: pid 1 of the sandbox once started. */
	pid_t pid;
	int pidfd;
	bool start_tried, started, reaped;
	int status;       /* once reaped */
	int start_status; /* for a failed run_start() */
	char error[512];
	/* Blocked requests: the last ones (thread-safe) and, written only
	 * by the audit thread until the proxy is freed, the summary. */
	struct blocked *blocked;
	struct run_report report;
};

static int
run_listener(struct run *r, const struct config_listen_addr *a,
    uint16_t def_port, char *text, size_t textsz)
{
	struct sandbox_listener *l = &r->plan->listeners[r->plan->n_listeners];
	uint16_t port = a->port ? a->port : def_port;

	memset(l, 0, sizeof(*l));
	l->family = a->family;
	l->port = port;
	(void)snprintf(l->role, sizeof(l->role), "%s",
	    r->plan->n_listeners == 0 ? "http" : "socks5");
	if (inet_pton(a->family, a->host, l->addr) != 1)
		return -EINVAL;
	if (a->family == AF_INET6)
		(void)snprintf(text, textsz, "[%s]:%u", a->host, port);
	else
		(void)snprintf(text, textsz, "%s:%u", a->host, port);
	r->plan->n_listeners++;
	return 0;
}

/* The network half: an empty namespace, or the proxy's listeners in it
 * and the variables that point the command at them. */
/* Interception in use: the child must trust the CA (spec §6.5). */
static bool
run_intercepts(const struct run *r)
{
	return r->net_proxy && config_intercepts(r->cfg);
}

/* A variable of the environment the command's is made from. */
static const char *
run_lookup(void *userdata, const char *name)
{
	const struct run *r = userdata;
	size_t n = strlen(name);

	if (!r->o->envp)
		return secure_getenv(name);
	for (char *const *e = r->o->envp; *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

/*
 * The proxy's settings, made before the spawn: compiling the policy
 * allocates, and after the fork every heap page written costs a
 * copy-on-write fault (the child keeps the parent's pages for as long
 * as it runs).
 */
static int
run_proxy_settings(struct run *r, char *err, size_t errsz)
{
	char why[256] = "";
	int rc;

	rc = proxy_settings_from_config(r->cfg, &r->settings, why, sizeof(why));
	r->settings_init = true;
	if (rc < 0) {
		(void)snprintf(err, errsz, "cannot start the proxy: %s", why);
		return rc;
	}
	(void)strlcpy(r->settings.execution_id, r->execution_id,
	    sizeof(r->settings.execution_id));
	return 0;
}

static int run_network_env(struct run *r, char *err, size_t errsz);
static int run_network_host(struct run *r, char *err, size_t errsz);

static int
run_network(struct run *r, char *err, size_t errsz)
{
	const struct config_network *net = config_get_network(r->cfg);
	bool granted = config_get_network_sandbox_enabled(r->cfg);
	int rc;

	r->net_proxy = granted && net->enabled;
	if (granted && !net->enabled && !r->o->quiet)
		log_warn("the permissions grant network access but the proxy "
			 "is disabled (network.enabled = false): the command "
			 "runs without network");
	r->plan->net = r->net_proxy ? SANDBOX_NET_PROXY : SANDBOX_NET_NONE;
	if (!r->net_proxy)
		return 0;
	if (r->o->explain == RUN_EXPLAIN_NONE) {
		rc = run_proxy_settings(r, err, errsz);
		if (rc < 0)
			return rc;
	}
	r->socks_on = net->enable_socks5;
	r->frontend_of[0] = PROXY_FRONTEND_HTTP;
	/* --landlock-only: the proxy listens on the host (port 0 is an
	 * ephemeral port), and is started here, so that the plan's TCP
	 * rules and the environment name the ports it got. */
	if (r->o->landlock_only && r->o->explain == RUN_EXPLAIN_NONE)
		return run_network_host(r, err, errsz);
	rc = run_listener(r, &net->http_addr,
	    r->o->landlock_only ? 0 : RUN_DEFAULT_HTTP_PORT, r->http,
	    sizeof(r->http));
	if (rc >= 0 && r->socks_on) {
		r->frontend_of[1] = PROXY_FRONTEND_SOCKS5;
		rc = run_listener(r, &net->socks_addr,
		    r->o->landlock_only ? 0 : RUN_DEFAULT_SOCKS_PORT, r->socks,
		    sizeof(r->socks));
		/* UDP ASSOCIATE needs relay sockets in the namespace too
		 * (--landlock-only refuses UDP). */
		if (rc >= 0 && net->enable_socks5_udp && !r->o->landlock_only)
			rc = run_udp_relays(r->plan, 1);
	}
	/* DNS: a server in the namespace, and resolv.conf naming it. */
	if (rc >= 0 && !r->o->landlock_only)
		rc = run_udp_dns(r->plan);
	if (rc < 0) {
		(void)snprintf(err, errsz, "invalid listener address");
		return rc;
	}
	return run_network_env(r, err, errsz);
}

/* The proxy variables for r->http and r->socks. */
static int
run_network_env(struct run *r, char *err, size_t errsz)
{
	const struct config_network *net = config_get_network(r->cfg);
	int rc;

	rc = childenv_build(&r->env, r->http, r->socks_on ? r->socks : NULL,
	    net->allow_local_binding);
	if (rc >= 0 && r->socks_on && r->o->self_exe)
		rc = childenv_add_git_ssh(&r->env, r->o->self_exe, r->socks);
	if (rc >= 0 && run_intercepts(r)) {
		rc = childenv_ca_setup(&r->env, r->ca_dir, run_lookup, r);
		if (rc < 0) {
			(void)snprintf(err, errsz,
			    "cannot set up the interception CA");
			return rc;
		}
	}
	if (rc < 0)
		(void)snprintf(err, errsz,
		    "cannot build the proxy environment");
	return rc;
}

/* The command's environment: the shell environment policy applied to
 * ours, then the proxy variables or the network-disabled marker. */
static int
run_environment(struct run *r, char ***ret)
{
	char **base = NULL, **envp;
	int rc;

	rc = run_env_build(config_get_shell_env(r->cfg),
	    r->o->envp ? r->o->envp : environ, &base, &r->withheld);
	if (rc < 0)
		return rc;
	if (r->net_proxy) {
		envp = childenv_apply(&r->env, base);
	} else {
		struct childenv marker = { .n_vars = 1 };

		marker.vars[0] =
		    (struct childenv_var){ "CODEX_SANDBOX_NETWORK_DISABLED",
			    "1", false };
		envp = childenv_apply(&marker, base);
	}
	childenv_strv_free(base);
	if (!envp)
		return -ENOMEM;
	*ret = envp;
	return 0;
}

static int
run_ca_ensure(struct run *r, char *err, size_t errsz)
{
	struct certgen_err cerr = { 0 };
	struct certgen_ca *ca = NULL;
	int rc;

	rc = config_mitm_dir(r->cfg, r->ca_dir, sizeof(r->ca_dir));
	if (rc < 0 || !config_intercepts(r->cfg))
		return rc;
	rc = certgen_ca_load(r->ca_dir, true, &ca, &cerr);
	certgen_ca_free(ca);
	if (rc < 0)
		(void)snprintf(err, errsz, "TLS interception: %.400s",
		    cerr.text);
	return rc;
}

static int
run_prepare(struct run *r, char *err, size_t errsz)
{
	const char *missing = NULL;
	char **envp = NULL;
	int rc;

	r->plan = sandbox_plan_new();
	if (!r->plan)
		return -ENOMEM;
	r->plan->force_missing = sandbox_force_missing_from_env();
	/* The CA exists before the plan is made, so its key is masked. */
	rc = run_ca_ensure(r, err, errsz);
	if (rc >= 0 && r->o->landlock_only)
		rc = run_plan_landlock_build(r->cfg, run_lookup(r, "TMPDIR"),
		    r->plan, err, errsz);
	else if (rc >= 0)
		rc = run_plan_build(r->cfg, run_lookup(r, "TMPDIR"),
		    r->o->explain != RUN_EXPLAIN_NONE, r->plan,
		    &r->placeholders, err, errsz);
	if (rc >= 0)
		rc = run_network(r, err, errsz);
	if (rc >= 0)
		rc = run_environment(r, &envp);
	if (rc >= 0)
		rc = sandbox_plan_set_command(r->plan, r->o->argv, r->o->argc,
		    envp);
	else
		childenv_strv_free(envp);
	if (rc >= 0)
		rc = sandbox_plan_finish(r->plan, &missing);
	if (rc == -ENOSYS) {
		struct sandbox_error e = { streq(missing, "landlock") ?
			    SANDBOX_STAGE_LANDLOCK :
			    SANDBOX_STAGE_SECCOMP,
			ENOSYS, -1 };
		struct buf b;

		buf_init(&b, 0);
		if (sandbox_error_format(r->plan, &e, &b) >= 0)
			(void)snprintf(err, errsz, "%s", buf_str(&b));
		buf_done(&b);
	} else if (rc == -ENOMEM) {
		(void)snprintf(err, errsz, "out of memory");
	}
	return rc;
}

/* Every blocked request: kept for run_blocked() and counted for the
 * summary, then handed to the embedder's observer. On the audit thread. */
static void
run_blocked_cb(const struct paddock_blocked *b, void *userdata)
{
	struct run *r = userdata;
	struct blocked_record rec;

	blocked_record_from_view(b, &rec);
	blocked_push(r->blocked, &rec);
	run_report_add(&r->report, &rec);
	if (r->o->blocked_fn)
		r->o->blocked_fn(b, r->o->blocked_userdata);
}

/* The observer and the audit sink, before proxy_start(). */
static void
run_proxy_hooks(struct run *r)
{
	proxy_set_blocked_observer(r->proxy, run_blocked_cb, r);
	if (r->o->audit_arg) {
		struct audit_settings as = { 0 };

		(void)audit_sink_from_arg(r->o->audit_arg, &as);
		proxy_set_audit(r->proxy, &as);
	} else if (r->o->audit_fn) {
		proxy_set_audit_sink(r->proxy, r->o->audit_fn,
		    r->o->audit_userdata);
	}
}

/* The proxy of the run, with its listeners and hooks, not yet started. */
static int
run_proxy_new(struct run *r)
{
	char why[256] = "";
	int rc;

	/* DNS and the UDP relays: sockets the child made in the namespace
	 * too (none under --landlock-only, which refuses UDP). */
	run_udp_settings(r->plan, r->listen_fds, &r->settings);
	for (size_t i = 0; !r->o->landlock_only && i < r->plan->n_listeners;
	     i++) {
		if (r->plan->listeners[i].datagram)
			continue;
		r->settings.listen_premade[r->frontend_of[i]] = true;
		r->settings.listen_fd[r->frontend_of[i]] = r->listen_fds[i];
	}
	/* Questions wait in line behind each other's prompts: the proxy
	 * gives up on one only after a few prompts' time. */
	if (r->o->ask &&
	    r->settings.limits.decider_timeout_ms <
		4 * r->o->ask_timeout_ms + 1000)
		r->settings.limits.decider_timeout_ms =
		    4 * r->o->ask_timeout_ms + 1000;
	rc = proxy_new(&r->settings, &r->proxy, why, sizeof(why));
	if (rc >= 0 && r->o->ask) {
		rc = run_ask_new(r->o->ask_timeout_ms, &r->ask);
		if (rc >= 0)
			proxy_set_decider(r->proxy, run_ask_decider, r->ask);
	}
	if (rc < 0) {
		(void)snprintf(r->error, sizeof(r->error),
		    "cannot start the proxy: %s", why[0] ? why : strerror(-rc));
		return rc;
	}
	run_proxy_hooks(r);
	return 0;
}

/* Start the threads of the proxy run_proxy_new() made. */
static int
run_proxy_start(struct run *r)
{
	char err[256] = "";
	int rc = proxy_start(r->proxy, err, sizeof(err));

	if (rc < 0)
		(void)snprintf(r->error, sizeof(r->error),
		    "cannot start the proxy: %s", err[0] ? err : strerror(-rc));
	return rc;
}

/* --landlock-only: start the proxy on the host now; the command may
 * connect to its ports and nothing else. */
static int
run_network_host(struct run *r, char *err, size_t errsz)
{
	static const enum proxy_frontend fes[] = { PROXY_FRONTEND_HTTP,
		PROXY_FRONTEND_SOCKS5 };

	int rc = run_proxy_new(r);

	if (rc >= 0)
		rc = run_proxy_start(r);
	if (rc < 0) {
		(void)snprintf(err, errsz, "the proxy did not start");
		return rc;
	}
	for (size_t i = 0; i < (r->socks_on ? 2u : 1u); i++) {
		struct sandbox_listener *l = &r->plan->listeners[i];
		struct proxy_listen pl;
		char *text = i == 0 ? r->http : r->socks;

		rc = proxy_get_address(r->proxy, fes[i], &pl);
		if (rc < 0) {
			(void)snprintf(err, errsz,
			    "the proxy has no %s listener",
			    proxy_frontend_name(fes[i]));
			return rc;
		}
		(void)proxy_listen_format(&pl, text, sizeof(r->http));
		memset(l, 0, sizeof(*l));
		(void)strlcpy(l->role, proxy_frontend_name(fes[i]),
		    sizeof(l->role));
		l->family = pl.addr.ss_family;
		if (l->family == AF_INET6) {
			const struct sockaddr_in6 *s6 =
			    (const struct sockaddr_in6 *)&pl.addr;

			memcpy(l->addr, &s6->sin6_addr, 16);
			l->port = ntohs(s6->sin6_port);
		} else {
			const struct sockaddr_in *s4 =
			    (const struct sockaddr_in *)&pl.addr;

			memcpy(l->addr, &s4->sin_addr, 4);
			l->port = ntohs(s4->sin_port);
		}
		r->frontend_of[i] = (int)fes[i];
		r->plan->n_listeners++;
		r->plan->net_ports[r->plan->n_net_ports++] = l->port;
	}
	return run_network_env(r, err, errsz);
}

static void
run_say_error(struct run *r, const struct sandbox_error *e)
{
	struct buf b;

	buf_init(&b, 0);
	if (sandbox_error_format(r->plan, e, &b) >= 0)
		(void)snprintf(r->error, sizeof(r->error), "%s", buf_str(&b));
	else
		(void)snprintf(r->error, sizeof(r->error), "out of memory");
	buf_done(&b);
}

/* A random UUID (RFC 9562 §5.4, version 4). */
static int
run_execution_id_new(char *out, size_t outsz)
{
	uint8_t b[16];
	ssize_t n;

	do
		n = getrandom(b, sizeof(b), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(b))
		return n < 0 ? -errno : -EIO;
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	(void)snprintf(out, outsz,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
	    b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

int
run_new(const struct config *cfg, const struct run_options *o, struct run **ret,
    char *err, size_t errsz)
{
	struct run *r = calloc(1, sizeof(*r));
	int rc;

	if (!r) {
		(void)snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	r->cfg = cfg;
	r->opts = *o;
	r->o = &r->opts;
	r->pid = -1;
	r->pidfd = -1;
	for (size_t i = 0; i < SANDBOX_LISTENERS_MAX; i++)
		r->listen_fds[i] = -1;
	r->blocked = blocked_new();
	if (!r->blocked) {
		(void)snprintf(err, errsz, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	rc = run_execution_id_new(r->execution_id, sizeof(r->execution_id));
	if (rc < 0) {
		(void)snprintf(err, errsz, "cannot make the execution id: %s",
		    strerror(-rc));
		goto fail;
	}
	rc = run_prepare(r, err, errsz);
	if (rc < 0) {
		if (!err[0])
			(void)snprintf(err, errsz, "%s", strerror(-rc));
		goto fail;
	}
	*ret = r;
	return 0;
fail:
	run_free(r);
	return rc;
}

int
run_explain(const struct run *r, bool json, struct buf *out)
{
	return run_explain_format(r->plan, &r->env, r->net_proxy, json, out);
}

const char *
run_error(const struct run *r)
{
	return r->error;
}

int
run_start_status(const struct run *r)
{
	return r->start_status;
}

pid_t
run_pid(const struct run *r)
{
	return r->pid;
}

int
run_pidfd(const struct run *r)
{
	return r->pidfd;
}

const char *
run_get_execution_id(const struct run *r)
{
	return r->execution_id;
}

/* Reap pid (a child of ours that has exited or is about to), without
 * looking at signals. Returns its status, or -errno. */
static int
run_reap(pid_t pid)
{
	int status;
	pid_t w;

	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int
run_start(struct run *r)
{
	struct sandbox_error e;
	int sync = -1, go, rc;
	bool serve;
	pid_t pid;

	/* One spawn per run: a failed start leaves nothing to retry. */
	if (r->start_tried || r->o->explain != RUN_EXPLAIN_NONE)
		return -EALREADY;
	r->start_tried = true;
	r->error[0] = '\0';
	r->start_status = 1;
	rc = sandbox_spawn(r->plan, &pid, &sync, r->listen_fds, &e);
	if (rc < 0) {
		run_say_error(r, &e);
		return rc;
	}
	/* For run_signal() and embedders' event loops. Without one (an old
	 * kernel) signals go by pid, which stays ours until it is reaped. */
	r->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	/* --landlock-only started the proxy with the plan. */
	serve = r->net_proxy && !r->o->landlock_only;
	if (serve) {
		rc = run_proxy_new(r);
		if (rc < 0) {
			(void)sandbox_release(sync, false, &e);
			(void)run_reap(pid);
			return rc;
		}
	}
	if (r->withheld > 0 && !r->o->quiet)
		log_warn("%zu environment variable%s withheld from the command "
			 "(names matching *KEY*, *SECRET* or *TOKEN*); pass "
			 "them with [shell_environment_policy] set, or "
			 "ignore_default_excludes = true",
		    r->withheld, r->withheld == 1 ? "" : "s");
	/* The command starts while the proxy's threads do: a connection it
	 * makes meanwhile waits in a listener's backlog until a worker
	 * accepts it. Starting both at once saves a short command most of
	 * what paddock adds to its run time. Everything that can refuse
	 * (settings, policy, exporter) was checked by run_proxy_new();
	 * should the threads still fail to start (no memory), the command,
	 * fully confined, is killed, having reached no network but perhaps
	 * having written in its writable roots meanwhile. */
	go = sandbox_go(sync);
	if (serve && go == 0) {
		rc = run_proxy_start(r);
		if (rc < 0) {
			(void)kill(pid, SIGKILL); /* ours, not yet reaped */
			(void)sandbox_wait_exec(sync, go, &e);
			(void)run_reap(pid);
			r->proxy = proxy_free(r->proxy);
			return rc;
		}
	}
	rc = sandbox_wait_exec(sync, go, &e);
	if (rc < 0) {
		run_say_error(r, &e);
		(void)run_reap(pid);
		r->start_status = e.stage == SANDBOX_STAGE_EXEC ?
		    (e.err == ENOENT ? 127 : 126) :
		    1;
		r->proxy = proxy_free(r->proxy);
		return rc;
	}
	r->pid = pid;
	r->started = true;
	return 0;
}

int
run_signal(struct run *r, int sig)
{
	if (!r->started)
		return -ESRCH;
	if (r->pidfd >= 0) {
		if (syscall(SYS_pidfd_send_signal, r->pidfd, sig, NULL, 0) < 0)
			return -errno;
		return 0;
	}
	if (r->reaped)
		return -ESRCH;
	return kill(r->pid, sig) < 0 ? -errno : 0;
}

/* The command is gone: stop serving it, then remove what the run put on
 * the host. Stopping the proxy joins its audit thread, so every blocked
 * record has reached the report. */
static void
run_finish(struct run *r)
{
	for (size_t i = 0; i < SANDBOX_LISTENERS_MAX; i++)
		if (r->listen_fds[i] >= 0) {
			(void)close(r->listen_fds[i]);
			r->listen_fds[i] = -1;
		}
	r->proxy = proxy_free(r->proxy);
	r->ask = run_ask_free(r->ask); /* after the proxy that asked */
	run_placeholders_release(&r->placeholders);
}

int
run_wait(struct run *r)
{
	int status;

	if (r->reaped)
		return r->status;
	if (!r->started)
		return -ECHILD;
	status = run_reap(r->pid);
	if (status < 0)
		return status;
	r->status = status;
	r->reaped = true;
	run_finish(r);
	return status;
}

int
run_wait_forwarding(struct run *r, const sigset_t *set)
{
	int status = 0;

	if (r->reaped)
		return r->status;
	if (!r->started)
		return -ECHILD;
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(set, &si);
		pid_t w;

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			(void)run_signal(r, sig);
			continue;
		}
		do
			w = waitpid(r->pid, &status, WNOHANG);
		while (w < 0 && errno == EINTR);
		if (w == r->pid)
			break;
		if (w < 0)
			return -errno;
	}
	r->status =
	    WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	r->reaped = true;
	run_finish(r);
	return r->status;
}

int
run_blocked(struct run *r, struct blocked_record **ret, size_t *ret_n)
{
	return blocked_snapshot(r->blocked, ret, ret_n);
}

uint64_t
run_blocked_total(struct run *r)
{
	return blocked_total(r->blocked);
}

int
run_summary(const struct run *r, struct buf *out)
{
	struct run_report_where w = {
		.profile = config_get_default_permissions(r->cfg),
		.file = config_get_network_file(r->cfg),
		.policy = r->settings_init ? r->settings.policy : NULL,
	};

	if (r->started && !r->reaped)
		return -EBUSY;
	return run_report_format(&r->report, &w, out);
}

struct run *
run_free(struct run *r)
{
	if (!r)
		return NULL;
	if (r->started && !r->reaped) {
		(void)run_signal(r, SIGKILL);
		(void)run_wait(r);
	}
	run_finish(r);
	if (r->pidfd >= 0)
		(void)close(r->pidfd);
	if (r->settings_init)
		proxy_settings_done(&r->settings);
	sandbox_plan_free(r->plan);
	r->blocked = blocked_free(r->blocked);
	run_report_done(&r->report);
	free(r);
	return NULL;
}

/* The summary on stderr, after everything the proxy logged. */
static void
run_say_summary(const struct run *r)
{
	struct buf b;

	buf_init(&b, 0);
	if (run_summary(r, &b) >= 0 && buf_str(&b)[0])
		(void)fputs(buf_str(&b), stderr);
	buf_done(&b);
}

int
run_main(const struct config *cfg, const struct run_options *o)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
		SIGUSR2, SIGCHLD };
	struct run *r = NULL;
	char err[512] = "";
	sigset_t set, old;
	int status = 1, rc;

	rc = run_new(cfg, o, &r, err, sizeof(err));
	if (rc < 0) {
		log_err("%s", err);
		return 1;
	}
	if (o->explain != RUN_EXPLAIN_NONE) {
		struct buf b;

		buf_init(&b, 0);
		rc = run_explain(r, o->explain == RUN_EXPLAIN_JSON, &b);
		if (rc >= 0) {
			(void)fputs(buf_str(&b), stdout);
			status = fflush(stdout) == 0 ? 0 : 1;
		} else {
			log_err("out of memory");
		}
		buf_done(&b);
		goto out;
	}
	/* Blocked before the spawn, so that none is lost before we wait. */
	(void)sigemptyset(&set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaddset(&set, sigs[i]);
	(void)pthread_sigmask(SIG_BLOCK, &set, &old);
	rc = run_start(r);
	if (rc < 0) {
		log_err("%s", run_error(r)[0] ? run_error(r) : strerror(-rc));
		status = run_start_status(r);
	} else {
		status = run_wait_forwarding(r, &set);
		if (status < 0) {
			log_err("cannot wait for the command: %s",
			    strerror(-status));
			status = 1;
		}
	}
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!o->quiet)
		run_say_summary(r);
out:
	run_free(r);
	return status;
}
