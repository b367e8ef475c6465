/* SPDX-License-Identifier: MIT */
/*
 * `paddock run` orchestration; see run.h. The filesystem part of the plan
 * comes from run_plan.c, the child environment from run_env.c, the
 * confinement itself from src/sandbox/.
 */
#include "api/run.h"

#include <arpa/inet.h>
#include <sys/socket.h>
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
#include "api/run_plan.h"
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
	const struct run_options *o;
	struct sandbox_plan *plan;
	char **created; /* metadata placeholders to remove */
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

static const char *
run_lookup(void *userdata, const char *name)
{
	(void)userdata;
	return secure_getenv(name);
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
	}
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
		rc = childenv_ca_setup(&r->env, r->ca_dir, run_lookup, NULL);
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

	rc = run_env_build(config_get_shell_env(r->cfg), environ, &base,
	    &r->withheld);
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
		rc = run_plan_landlock_build(r->cfg, secure_getenv("TMPDIR"),
		    r->plan, err, errsz);
	else if (rc >= 0)
		rc = run_plan_build(r->cfg, secure_getenv("TMPDIR"),
		    r->o->explain != RUN_EXPLAIN_NONE, r->plan, &r->created,
		    err, errsz);
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

static int
run_proxy_start(struct run *r)
{
	char err[256] = "";
	int rc;

	rc = proxy_settings_from_config(r->cfg, &r->settings, err, sizeof(err));
	r->settings_init = true;
	if (rc < 0) {
		log_err("cannot start the proxy: %s", err);
		return rc;
	}
	/* The UDP relay would live outside the namespace, out of reach
	 * (and --landlock-only refuses UDP). */
	r->settings.socks5_udp = false;
	for (size_t i = 0; !r->o->landlock_only && i < r->plan->n_listeners;
	     i++) {
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
	rc = proxy_new(&r->settings, &r->proxy);
	if (rc >= 0 && r->o->ask) {
		rc = run_ask_new(r->o->ask_timeout_ms, &r->ask);
		if (rc >= 0)
			proxy_set_decider(r->proxy, run_ask_decider, r->ask);
	}
	if (rc >= 0)
		rc = proxy_start(r->proxy, err, sizeof(err));
	if (rc < 0)
		log_err("cannot start the proxy: %s",
		    err[0] ? err : strerror(-rc));
	return rc;
}

/* --landlock-only: start the proxy on the host now; the command may
 * connect to its ports and nothing else. */
static int
run_network_host(struct run *r, char *err, size_t errsz)
{
	static const enum proxy_frontend fes[] = { PROXY_FRONTEND_HTTP,
		PROXY_FRONTEND_SOCKS5 };

	int rc = run_proxy_start(r);

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
run_say_error(const struct run *r, const struct sandbox_error *e)
{
	struct buf b;

	buf_init(&b, 0);
	if (sandbox_error_format(r->plan, e, &b) >= 0)
		log_err("%s", buf_str(&b));
	buf_done(&b);
}

/* Wait for the child, forwarding the signals in set (except SIGCHLD).
 * Returns its exit status. */
static int
run_wait(pid_t pid, const sigset_t *set)
{
	int status;

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(set, &si);
		pid_t w;

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			(void)kill(pid, sig);
			continue;
		}
		do
			w = waitpid(pid, &status, WNOHANG);
		while (w < 0 && errno == EINTR);
		if (w == pid)
			break;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int
run_execute(struct run *r)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
		SIGUSR2, SIGCHLD };
	struct sandbox_error e;
	sigset_t set, old;
	int sync = -1, status = 1, rc;
	pid_t pid;

	(void)sigemptyset(&set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaddset(&set, sigs[i]);
	(void)pthread_sigmask(SIG_BLOCK, &set, &old);
	rc = sandbox_spawn(r->plan, &pid, &sync, r->listen_fds, &e);
	if (rc < 0) {
		run_say_error(r, &e);
		goto out;
	}
	if (r->net_proxy && !r->o->landlock_only && run_proxy_start(r) < 0) {
		(void)sandbox_release(sync, false, &e);
		(void)run_wait(pid, &set);
		goto out;
	}
	if (r->withheld > 0 && !r->o->quiet)
		log_warn("%zu environment variable%s withheld from the command "
			 "(names matching *KEY*, *SECRET* or *TOKEN*); pass "
			 "them with [shell_environment_policy] set, or "
			 "ignore_default_excludes = true",
		    r->withheld, r->withheld == 1 ? "" : "s");
	rc = sandbox_release(sync, true, &e);
	if (rc < 0) {
		run_say_error(r, &e);
		(void)run_wait(pid, &set);
		status = e.stage == SANDBOX_STAGE_EXEC ?
		    (e.err == ENOENT ? 127 : 126) :
		    1;
		goto out;
	}
	status = run_wait(pid, &set);
out:
	for (size_t i = 0; i < r->plan->n_listeners; i++)
		if (r->listen_fds[i] >= 0)
			(void)close(r->listen_fds[i]);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	return status;
}

int
run_main(const struct config *cfg, const struct run_options *o)
{
	struct run r = { .cfg = cfg, .o = o };
	char err[512] = "";
	int status = 1, rc;

	for (size_t i = 0; i < SANDBOX_LISTENERS_MAX; i++)
		r.listen_fds[i] = -1;
	rc = run_prepare(&r, err, sizeof(err));
	if (rc < 0) {
		log_err("%s", err[0] ? err : strerror(-rc));
		goto out;
	}
	if (o->explain != RUN_EXPLAIN_NONE) {
		struct buf b;

		buf_init(&b, 0);
		rc = run_explain_format(r.plan, &r.env, r.net_proxy,
		    o->explain == RUN_EXPLAIN_JSON, &b);
		if (rc >= 0) {
			(void)fputs(buf_str(&b), stdout);
			status = fflush(stdout) == 0 ? 0 : 1;
		} else {
			log_err("out of memory");
		}
		buf_done(&b);
		goto out;
	}
	status = run_execute(&r);
out:
	r.proxy = proxy_free(r.proxy);
	r.ask = run_ask_free(r.ask);
	if (r.settings_init)
		proxy_settings_done(&r.settings);
	run_plan_created_remove(r.created);
	sandbox_plan_free(r.plan);
	return status;
}
