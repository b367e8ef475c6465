/* SPDX-License-Identifier: MIT */
/*
 * The public embedding API (include/paddock.h): thin wrappers that turn a
 * loaded config into runtime settings and forward to proxy.c. The public
 * names carry the paddock_ prefix the header promises.
 */
#include "paddock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/childenv.h"
#include "api/proxy_settings.h"
#include "api/run.h"
#include "audit/blocked.h"
#include "config/config.h"
#include "policy/policy.h"
#include "proxy/decision.h"
#include "proxy/proxy.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/strutil.h"

struct paddock_config {
	struct config *cfg;
};

struct paddock_spawn {
	struct run *run;
};

struct paddock_proxy {
	struct proxy *proxy;
	struct proxy_settings settings; /* for the limits set before start */
	bool started;
	char error[256];
};

PADDOCK_API int
paddock_set_log_level(const char *level)
{
	enum log_level l;

	if (!level || log_level_from_string(level, &l) < 0)
		return -EINVAL;
	log_set_level(l);
	return 0;
}

PADDOCK_API int
paddock_config_load(const struct paddock_config_options *opts,
    struct paddock_config **ret_config, char **ret_errors)
{
	struct config_options o = { 0 };
	struct config_diags *d = config_diags_new();
	struct paddock_config *c;
	struct config *cfg = NULL;
	int r;

	if (ret_errors)
		*ret_errors = NULL;
	if (!d)
		return -ENOMEM;
	if (opts) {
		o.home = opts->home;
		o.config_file = opts->config_file;
		o.system_file = opts->system_file;
		o.cwd = opts->cwd;
		o.overrides = opts->overrides;
		o.n_overrides = opts->n_overrides;
		o.profile = opts->profile;
		o.permissions = opts->permissions;
	}
	r = config_load(&o, d, &cfg);
	if (r == -EINVAL && ret_errors) {
		struct buf b;

		buf_init(&b, 0);
		for (size_t i = 0; i < config_diags_count(d); i++) {
			const struct config_diag *diag = config_diags_get(d, i);

			if (diag->severity != CONFIG_SEVERITY_ERROR)
				continue;
			if (config_diag_format(diag, &b) < 0 ||
			    buf_append_char(&b, '\n') < 0)
				break;
		}
		*ret_errors = buf_take(&b);
	}
	config_diags_free(d);
	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c) {
		config_free(cfg);
		return -ENOMEM;
	}
	c->cfg = cfg;
	*ret_config = c;
	return 0;
}

PADDOCK_API void
paddock_config_free(struct paddock_config *config)
{
	if (!config)
		return;
	config_free(config->cfg);
	free(config);
}

PADDOCK_API int
paddock_proxy_new(const struct paddock_config *config,
    struct paddock_proxy **ret_proxy)
{
	struct paddock_proxy *pp;
	char err[256];
	int r;

	if (!config || !ret_proxy)
		return -EINVAL;
	pp = calloc(1, sizeof(*pp));
	if (!pp)
		return -ENOMEM;
	r = proxy_settings_from_config(config->cfg, &pp->settings, err,
	    sizeof(err));
	if (r == 0)
		r = proxy_new(&pp->settings, &pp->proxy, NULL, 0);
	if (r < 0) {
		proxy_settings_done(&pp->settings);
		free(pp);
		return r;
	}
	*ret_proxy = pp;
	return 0;
}

PADDOCK_API int
paddock_proxy_set_decider(struct paddock_proxy *proxy, paddock_decider_fn fn,
    void *userdata)
{
	if (proxy->started)
		return -EBUSY;
	proxy_set_decider(proxy->proxy, fn, userdata);
	return 0;
}

PADDOCK_API int
paddock_proxy_set_blocked_observer(struct paddock_proxy *proxy,
    paddock_blocked_fn fn, void *userdata)
{
	if (proxy->started)
		return -EBUSY;
	proxy_set_blocked_observer(proxy->proxy, fn, userdata);
	return 0;
}

PADDOCK_API int
paddock_proxy_set_audit_sink(struct paddock_proxy *proxy, paddock_audit_fn fn,
    void *userdata)
{
	if (proxy->started)
		return -EBUSY;
	proxy_set_audit_sink(proxy->proxy, fn, userdata);
	return 0;
}

PADDOCK_API int
paddock_proxy_set_limit(struct paddock_proxy *proxy, const char *name,
    const char *value)
{
	int r;

	if (proxy->started)
		return -EBUSY;
	r = proxy_limits_set(&proxy->settings.limits, name, value);
	if (r < 0)
		return r;
	/* The settings are applied again with the new limits. */
	return proxy_reload(proxy->proxy, &proxy->settings, NULL);
}

PADDOCK_API int
paddock_proxy_start(struct paddock_proxy *proxy)
{
	int r;

	proxy->error[0] = '\0';
	r = proxy_start(proxy->proxy, proxy->error, sizeof(proxy->error));
	if (r == 0)
		proxy->started = true;
	return r;
}

PADDOCK_API const char *
paddock_proxy_error(const struct paddock_proxy *proxy)
{
	return proxy->error;
}

PADDOCK_API int
paddock_proxy_address(const struct paddock_proxy *proxy,
    enum paddock_listener which, char *buf, size_t size)
{
	struct proxy_listen l;
	char text[80];
	size_t n;
	int r;

	r = proxy_get_address(proxy->proxy,
	    which == PADDOCK_LISTENER_SOCKS5 ? PROXY_FRONTEND_SOCKS5 :
					       PROXY_FRONTEND_HTTP,
	    &l);
	if (r < 0)
		return r;
	n = strlen(proxy_listen_format(&l, text, sizeof(text)));
	if (n >= size)
		return -ENOBUFS;
	memcpy(buf, text, n + 1);
	return (int)n;
}

static char **
paddock_copy_environ(char *const *envp)
{
	struct childenv empty = { 0 };

	return childenv_apply(&empty, envp);
}

/* A variable of envp (NULL-terminated "NAME=value" array), or NULL. */
static const char *
paddock_environ_lookup(void *userdata, const char *name)
{
	char *const *envp = userdata;
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

PADDOCK_API char **
paddock_proxy_environ(const struct paddock_proxy *proxy, char *const *envp)
{
	struct childenv e;
	char http[80], socks[80];
	bool has_socks;

	if (paddock_proxy_address(proxy, PADDOCK_LISTENER_HTTP, http,
		sizeof(http)) < 0)
		return paddock_copy_environ(envp);
	has_socks = paddock_proxy_address(proxy, PADDOCK_LISTENER_SOCKS5, socks,
			sizeof(socks)) >= 0;
	if (childenv_build(&e, http, has_socks ? socks : NULL,
		proxy->settings.allow_local_binding) < 0)
		return NULL;
	if (proxy->settings.mitm_dir[0] &&
	    policy_get_mode(proxy->settings.policy) == POLICY_MODE_LIMITED &&
	    childenv_ca_setup(&e, proxy->settings.mitm_dir,
		paddock_environ_lookup, (void *)envp) < 0)
		return NULL;
	return childenv_apply(&e, envp);
}

PADDOCK_API void
paddock_environ_free(char **envp)
{
	(void)childenv_strv_free(envp);
}

PADDOCK_API int
paddock_proxy_reload(struct paddock_proxy *proxy,
    const struct paddock_config *config)
{
	struct proxy_settings s;
	bool restart = false;
	int r;

	proxy->error[0] = '\0';
	r = proxy_settings_from_config(config->cfg, &s, proxy->error,
	    sizeof(proxy->error));
	if (r < 0)
		return r;
	s.limits = proxy->settings.limits;
	s.workers = proxy->settings.workers;
	r = proxy_reload(proxy->proxy, &s, &restart);
	if (r == 0) {
		proxy_settings_done(&proxy->settings);
		proxy->settings = s;
		return restart ? PADDOCK_RELOAD_RESTART_NEEDED : 0;
	}
	(void)snprintf(proxy->error, sizeof(proxy->error), "out of memory");
	proxy_settings_done(&s);
	return r;
}

PADDOCK_API int
paddock_proxy_stop(struct paddock_proxy *proxy)
{
	return proxy_stop(proxy->proxy);
}

PADDOCK_API void
paddock_proxy_free(struct paddock_proxy *proxy)
{
	if (!proxy)
		return;
	proxy->proxy = proxy_free(proxy->proxy);
	proxy_settings_done(&proxy->settings);
	free(proxy);
}

void
paddock_decision_allow(struct paddock_decision *decision)
{
	decision_complete(decision, POLICY_DECISION_ALLOW, NULL);
}

void
paddock_decision_deny(struct paddock_decision *decision, const char *reason)
{
	decision_complete(decision, POLICY_DECISION_DENY, reason);
}

void
paddock_decision_ask(struct paddock_decision *decision, const char *reason)
{
	decision_complete(decision, POLICY_DECISION_ASK, reason);
}

PADDOCK_API int
paddock_spawn_new(const struct paddock_config *config, char *const *argv,
    const struct paddock_spawn_options *options,
    struct paddock_spawn **ret_spawn, char **ret_error)
{
	struct run_options o = { .argv = argv };
	struct paddock_spawn *sp;
	char err[512] = "";
	int r;

	if (ret_error)
		*ret_error = NULL;
	if (!config || !argv || !argv[0] || !ret_spawn)
		return -EINVAL;
	while (argv[o.argc])
		o.argc++;
	if (options) {
		o.envp = options->envp;
		o.blocked_fn = options->blocked_fn;
		o.blocked_userdata = options->blocked_userdata;
		o.audit_fn = options->audit_fn;
		o.audit_userdata = options->audit_userdata;
	}
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	r = run_new(config->cfg, &o, &sp->run, err, sizeof(err));
	if (r < 0) {
		if (ret_error)
			*ret_error = strdup(err[0] ? err : strerror(-r));
		free(sp);
		return r;
	}
	*ret_spawn = sp;
	return 0;
}

PADDOCK_API int
paddock_spawn_start(struct paddock_spawn *spawn)
{
	return run_start(spawn->run);
}

PADDOCK_API const char *
paddock_spawn_error(const struct paddock_spawn *spawn)
{
	return run_error(spawn->run);
}

PADDOCK_API pid_t
paddock_spawn_pid(const struct paddock_spawn *spawn)
{
	return run_pid(spawn->run);
}

PADDOCK_API int
paddock_spawn_pidfd(const struct paddock_spawn *spawn)
{
	return run_pidfd(spawn->run);
}

PADDOCK_API int
paddock_spawn_signal(struct paddock_spawn *spawn, int sig)
{
	return run_signal(spawn->run, sig);
}

PADDOCK_API int
paddock_spawn_wait(struct paddock_spawn *spawn)
{
	return run_wait(spawn->run);
}

PADDOCK_API int
paddock_spawn_blocked(struct paddock_spawn *spawn,
    struct paddock_blocked **ret_blocked, size_t *ret_n)
{
	struct blocked_record *recs = NULL, *copy;
	struct paddock_blocked *out;
	size_t n = 0;
	int r;

	*ret_blocked = NULL;
	*ret_n = 0;
	r = run_blocked(spawn->run, &recs, &n);
	if (r < 0 || n == 0)
		return r;
	/* The views first, then the records their strings point into: one
	 * free() releases both. The views' size keeps the records aligned. */
	_Static_assert(sizeof(*out) % _Alignof(struct blocked_record) == 0,
	    "records after the views stay aligned");
	out = calloc(n, sizeof(*out) + sizeof(*recs));
	if (!out) {
		free(recs);
		return -ENOMEM;
	}
	copy = (struct blocked_record *)(void *)(out + n);
	memcpy(copy, recs, n * sizeof(*recs));
	for (size_t i = 0; i < n; i++)
		blocked_record_view(&copy[i], &out[i]);
	free(recs);
	*ret_blocked = out;
	*ret_n = n;
	return 0;
}

PADDOCK_API uint64_t
paddock_spawn_blocked_total(struct paddock_spawn *spawn)
{
	return run_blocked_total(spawn->run);
}

PADDOCK_API const char *
paddock_spawn_execution_id(const struct paddock_spawn *spawn)
{
	return run_get_execution_id(spawn->run);
}

PADDOCK_API void
paddock_spawn_free(struct paddock_spawn *spawn)
{
	if (!spawn)
		return;
	spawn->run = run_free(spawn->run);
	free(spawn);
}
