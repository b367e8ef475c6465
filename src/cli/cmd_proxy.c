/* SPDX-License-Identifier: MIT */
/*
 * paddock proxy: run the network policy proxy in the foreground.
 *
 * The controlling thread loads the config, starts the runtime, prints one
 * readiness line and then only handles signals and config file changes:
 * SIGHUP, or a config layer file written, created, replaced or removed
 * (cli/cfgwatch.h; --no-watch turns it off), reloads the config through
 * one path, cmd_proxy_reload(). A config that fails to load, that a
 * requirement forbids or that changes the listeners changes nothing and
 * says why in one line. SIGINT and SIGTERM stop accepting, let open
 * exchanges finish for the shutdown grace and exit 0.
 *
 * POST /reload on the admin thread takes the same path; one lock
 * serialises reloads and guards the config in force, which the admin API
 * reads (GET /config, the requirement check of POST /mode).
 *
 * Under systemd (Type=notify) the same moments are also told to the
 * service manager: READY=1 with the readiness line, RELOADING=1/READY=1
 * around a reload, STOPPING=1 when stopping. The readiness line stays, for
 * everyone else.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "api/proxy_settings.h"
#include "audit/audit.h"
#include "cli/cfgopts.h"
#include "cli/cfgwatch.h"
#include "cli/cli.h"
#include "config/config.h"
#include "proxy/proxy.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/strparse.h"
#include "util/strutil.h"

struct cmd_proxy {
	struct cfgopts cfg;
	const char *audit_arg;
	unsigned workers;
	const char **limits; /* "NAME=VALUE" */
	size_t n_limits;
	bool no_watch;
	struct proxy *proxy;
	struct event_base *base;
	/* Guards reloads and running (controlling and admin thread). */
	pthread_mutex_t lock;
	struct config *running; /* the config in force */
	struct cfgwatch *watch; /* NULL with --no-watch */
};

static void
cmd_proxy_usage(FILE *f)
{
	struct proxy_limits l;
	struct buf defaults;

	proxy_limits_init(&l);
	buf_init(&defaults, 0);
	(void)proxy_limits_describe(&l, &defaults);
	(void)fprintf(f,
	    "Usage: paddock proxy [OPTIONS]\n"
	    "\n"
	    "Run the network policy proxy in the foreground. It prints\n"
	    "  paddock: listening http=HOST:PORT socks5=HOST:PORT|off "
	    "admin=HOST:PORT|off\n"
	    "once it accepts connections. SIGHUP, or a change to a config "
	    "file,\nreloads the config; SIGINT and SIGTERM stop it after open "
	    "exchanges\nfinished (at most the shutdown grace). A disabled "
	    "proxy\n(network.enabled = false) says so and exits 0.\n"
	    "\nOptions:\n"
	    "  --audit FILE|-      write one JSON audit event per line to "
	    "FILE\n"
	    "                      (appending, created 0600), or to stderr "
	    "for '-'\n"
	    "  --workers N         event loops (default: one per CPU)\n"
	    "  --limit NAME=VALUE  override a limit (repeatable):\n"
	    "                      head-timeout, connect-timeout, "
	    "idle-timeout,\n"
	    "                      dns-timeout, decider-timeout, "
	    "shutdown-grace\n"
	    "                      (durations: 250ms, 10s, 5m), sessions and\n"
	    "                      log-queue (counts)\n"
	    "  --no-watch          reload on SIGHUP only, not when a config "
	    "file\n"
	    "                      changes\n"
	    "  -h, --help          show this help\n"
	    "\nLimits and their defaults:\n%s"
	    "\n%s",
	    buf_str(&defaults), cfgopts_help);
	buf_done(&defaults);
}

/* Every session needs two descriptors, a busy one a pipe more: use what
 * the hard limit allows. */
static void
cmd_proxy_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * Tell systemd about a state change (sd_notify(3)): one datagram to the
 * AF_UNIX socket named by $NOTIFY_SOCKET, a path or, with a leading '@',
 * an abstract name. Without the variable this does nothing; a failure is
 * only logged at debug, since readiness is also on stderr.
 */
static void
cmd_proxy_notify(const char *state)
{
	const char *path = secure_getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	n = strlen(path);
	if (n >= sizeof(sa.sun_path)) {
		log_debug("NOTIFY_SOCKET is too long; not notifying");
		return;
	}
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_debug_errno(errno, "NOTIFY_SOCKET: socket");
		return;
	}
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		(const struct sockaddr *)&sa,
		(socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
		log_debug_errno(errno, "NOTIFY_SOCKET: sendto");
	(void)close(fd);
}

/* RELOADING=1 carries the monotonic time the reload began (newer systemd
 * checks it; older ones ignore it). READY=1 ends the reload. */
static void
cmd_proxy_notify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		ts = (struct timespec){ 0 };
	(void)snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
	    (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
	cmd_proxy_notify(msg);
}

/* Apply one "NAME=VALUE" to l. Returns proxy_limits_set()'s answer, or
 * -ENOENT for a name too long to be one. */
static int
cmd_proxy_limit_apply(struct proxy_limits *l, const char *spec)
{
	const char *eq = strchr(spec, '=');
	char name[32];

	if (!eq || (size_t)(eq - spec) >= sizeof(name))
		return -ENOENT;
	memcpy(name, spec, (size_t)(eq - spec));
	name[eq - spec] = '\0';
	return proxy_limits_set(l, name, eq + 1);
}

/* Turn a loaded config into settings with our overrides. Returns 0, or a
 * negative errno with the reason in err. */
static int
cmd_proxy_settings(struct cmd_proxy *c, const struct config *cfg,
    struct proxy_settings *s, char *err, size_t errsz)
{
	int r;

	r = proxy_settings_from_config(cfg, s, err, errsz);
	if (r < 0)
		return r;
	s->workers = c->workers;
	for (size_t i = 0; i < c->n_limits; i++) {
		/* Checked when parsed; only an impossible name could fail. */
		if (cmd_proxy_limit_apply(&s->limits, c->limits[i]) < 0) {
			(void)snprintf(err, errsz, "--limit %s: not applicable",
			    c->limits[i]);
			proxy_settings_done(s);
			return -EINVAL;
		}
	}
	return 0;
}

/* The first error of a failed load as one line ("file:line:col: key:
 * message"), with how many more there were. */
static void
cmd_proxy_first_error(const struct config_diags *d, char *err, size_t errsz)
{
	size_t errors = config_diags_count_severity(d, CONFIG_SEVERITY_ERROR);
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < config_diags_count(d); i++) {
		const struct config_diag *diag = config_diags_get(d, i);

		if (diag->severity != CONFIG_SEVERITY_ERROR)
			continue;
		if (config_diag_format(diag, &b) < 0 ||
		    (errors > 1 &&
			buf_printf(&b, " (and %zu more error%s)", errors - 1,
			    errors > 2 ? "s" : "") < 0))
			buf_clear(&b);
		break;
	}
	(void)snprintf(err, errsz, "%s",
	    b.len ? buf_str(&b) : "the config does not load");
	buf_done(&b);
}

/* Watch the files the running config is made of. */
static void
cmd_proxy_watch_files(struct cmd_proxy *c)
{
	char **files = NULL;
	size_t n = 0;

	if (!c->watch)
		return;
	if (config_layers_files(c->running, &files, &n) < 0 ||
	    cfgwatch_set(c->watch, files, n) < 0)
		log_warn("out of memory listing the config files to watch; "
			 "changes may need SIGHUP");
	config_layers_files_free(files, n);
}

static void
cmd_proxy_stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct cmd_proxy *c = arg;

	(void)what;
	log_info("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	(void)event_base_loopbreak(c->base);
}

/*
 * The one reload path, whatever asked for it (why: "SIGHUP", a file that
 * changed): load the config again, check it and apply it to new requests.
 * A config that does not load (a syntax error, a requirement it breaks)
 * or that changes what a running proxy cannot (its listeners: spec §1.7)
 * changes nothing, and one line says why. Open tunnels and kept-alive
 * exchanges are never cut: the runtime hands them nothing new.
 * Every outcome is counted (proxy_reload() or proxy_reload_failed()).
 * Any thread; serialised on c->lock. Returns 0 or a negative errno with
 * the reason in err (the previous config stays in force).
 */
static int
cmd_proxy_reload(struct cmd_proxy *c, const char *why, char *err, size_t errsz)
{
	struct config_diags *d = config_diags_new();
	struct proxy_settings s;
	struct config *cfg = NULL;
	bool restart = false;
	const char *key;
	int r;

	(void)pthread_mutex_lock(&c->lock);
	log_info("%s: reloading the configuration", why);
	/* This thread handles SIGTERM too: a --config that became a FIFO
	 * must be refused, not waited on. */
	c->cfg.opts.regular_files_only = true;
	cmd_proxy_notify_reloading();
	r = d ? config_load(&c->cfg.opts, d, &cfg) : -ENOMEM;
	if (r == -EINVAL)
		cmd_proxy_first_error(d, err, errsz);
	else if (r < 0)
		(void)snprintf(err, errsz, "out of memory");
	config_diags_free(d);
	if (r < 0)
		goto fail;
	key = config_network_fixed_key(config_get_network(c->running),
	    config_get_network(cfg));
	if (key) {
		(void)snprintf(err, errsz,
		    "cannot update network.%s on a running proxy", key);
		r = -EBUSY;
		goto fail;
	}
	r = cmd_proxy_settings(c, cfg, &s, err, errsz);
	if (r < 0)
		goto fail;
	r = proxy_reload(c->proxy, &s, &restart); /* counts either way */
	proxy_settings_done(&s);
	if (r < 0) {
		(void)snprintf(err, errsz, "out of memory");
		goto failed;
	}
	config_free(c->running);
	c->running = cfg;
	cmd_proxy_watch_files(c);
	log_info("configuration reloaded");
	if (restart) /* the config said otherwise; never expected */
		log_warn("listener settings changed; restart paddock proxy to "
			 "apply them");
	cmd_proxy_notify("READY=1\nSTATUS=accepting connections");
	(void)pthread_mutex_unlock(&c->lock);
	return 0;
fail:
	proxy_reload_failed(c->proxy);
failed:
	config_free(cfg);
	log_err("reload failed: %s; the previous configuration stays in force",
	    err);
	cmd_proxy_notify("READY=1\nSTATUS=reload failed; the previous "
			 "configuration stays in force");
	(void)pthread_mutex_unlock(&c->lock);
	return r;
}

static void
cmd_proxy_reload_cb(evutil_socket_t sig, short what, void *arg)
{
	char err[512];

	(void)sig;
	(void)what;
	(void)cmd_proxy_reload(arg, "SIGHUP", err, sizeof(err));
}

static void
cmd_proxy_changed_cb(const char *path, void *userdata)
{
	char why[PATH_MAX + 16], err[512];

	(void)snprintf(why, sizeof(why), "%s changed",
	    path ? path : "a config file");
	(void)cmd_proxy_reload(userdata, why, err, sizeof(err));
}

/*
 * The admin API's hooks (proxy_admin_ops), on the admin thread.
 */
static int
cmd_proxy_admin_reload(void *userdata, char *err, size_t errsz)
{
	return cmd_proxy_reload(userdata, "POST /reload", err, errsz) < 0 ?
	    -EINVAL :
	    0;
}

/* The effective config as `config show --json` prints it, with the mode
 * in force (POST /mode may have changed it since the files were read). */
static char *
cmd_proxy_admin_config(void *userdata)
{
	struct cmd_proxy *c = userdata;
	json_t *o, *net;
	char *text = NULL;

	(void)pthread_mutex_lock(&c->lock);
	o = c->running ? config_to_json(c->running, NULL) : NULL;
	(void)pthread_mutex_unlock(&c->lock);
	if (!o)
		return NULL;
	net = json_object_get(o, "network");
	if (!json_is_object(net) ||
	    json_object_set_new(net, "mode",
		json_string(policy_mode_name(proxy_get_mode(c->proxy)))) == 0)
		text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

static int
cmd_proxy_admin_check_mode(void *userdata, enum policy_mode mode, char *err,
    size_t errsz)
{
	struct cmd_proxy *c = userdata;
	int r = 0;

	(void)pthread_mutex_lock(&c->lock);
	if (c->running)
		r = config_requirements_check_mode(c->running, mode, err,
		    errsz);
	(void)pthread_mutex_unlock(&c->lock);
	return r;
}

static int
cmd_proxy_announce(struct cmd_proxy *c)
{
	struct proxy_listen l;
	char http[80], socks[80] = "off", admin[80] = "off";

	if (proxy_get_address(c->proxy, PROXY_FRONTEND_HTTP, &l) < 0)
		return -1;
	(void)proxy_listen_format(&l, http, sizeof(http));
	if (proxy_get_address(c->proxy, PROXY_FRONTEND_SOCKS5, &l) == 0)
		(void)proxy_listen_format(&l, socks, sizeof(socks));
	if (proxy_get_address(c->proxy, PROXY_FRONTEND_ADMIN, &l) == 0)
		(void)proxy_listen_format(&l, admin, sizeof(admin));
	(void)fprintf(stderr, "paddock: listening http=%s socks5=%s admin=%s\n",
	    http, socks, admin);
	(void)fflush(stderr);
	cmd_proxy_notify("READY=1\nSTATUS=accepting connections");
	return 0;
}

static int
cmd_proxy_run(struct cmd_proxy *c)
{
	struct event *ev_int = NULL, *ev_term = NULL, *ev_hup = NULL;
	struct sigaction ign = { .sa_handler = SIG_IGN };
	struct config_diags *diags = NULL;
	struct proxy_settings s;
	struct proxy_admin_ops ops = {
		.config_json = cmd_proxy_admin_config,
		.reload = cmd_proxy_admin_reload,
		.check_mode = cmd_proxy_admin_check_mode,
		.userdata = c,
	};
	char err[512];
	uint64_t grace_ms;
	int r, rc = CLI_EXIT_FAILURE;

	c->running = cfgopts_load(&c->cfg, true, &diags);
	config_diags_free(diags);
	if (!c->running)
		return CLI_EXIT_FAILURE;
	if (cmd_proxy_settings(c, c->running, &s, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return CLI_EXIT_FAILURE;
	}
	grace_ms = s.limits.shutdown_grace_ms;
	if (!s.enabled) {
		log_info("the network proxy is disabled (network.enabled = "
			 "false); nothing to do");
		proxy_settings_done(&s);
		return CLI_EXIT_OK;
	}
	/* A peer that went away must not kill us. */
	(void)sigaction(SIGPIPE, &ign, NULL);
	cmd_proxy_raise_nofile();
	c->base = event_base_new();
	err[0] = '\0';
	r = proxy_new(&s, &c->proxy, err, sizeof(err));
	proxy_settings_done(&s);
	if (!c->base || r == -ENOMEM) {
		log_err("out of memory");
		goto out;
	}
	if (r < 0) {
		if (err[0])
			log_err("cannot start the proxy: %s", err);
		else
			log_err_errno(r, "cannot start the proxy");
		goto out;
	}
	if (c->audit_arg) {
		struct audit_settings as = { 0 };

		(void)audit_sink_from_arg(c->audit_arg, &as);
		proxy_set_audit(c->proxy, &as);
	}
	proxy_set_admin_ops(c->proxy, &ops);
	ev_int = evsignal_new(c->base, SIGINT, cmd_proxy_stop_cb, c);
	ev_term = evsignal_new(c->base, SIGTERM, cmd_proxy_stop_cb, c);
	ev_hup = evsignal_new(c->base, SIGHUP, cmd_proxy_reload_cb, c);
	if (!ev_int || !ev_term || !ev_hup || evsignal_add(ev_int, NULL) < 0 ||
	    evsignal_add(ev_term, NULL) < 0 || evsignal_add(ev_hup, NULL) < 0) {
		log_err("cannot handle signals");
		goto out;
	}
	if (!c->no_watch) {
		c->watch = cfgwatch_new(c->base, cmd_proxy_changed_cb, c, &r);
		if (!c->watch)
			log_warn_errno(-r,
			    "cannot watch the config files; reload with "
			    "SIGHUP");
		cmd_proxy_watch_files(c);
	}
	r = proxy_start(c->proxy, err, sizeof(err));
	if (r < 0) {
		log_err("%s", err);
		goto out;
	}
	if (cmd_proxy_announce(c) < 0)
		goto out;
	(void)event_base_dispatch(c->base);
	cmd_proxy_notify("STOPPING=1");
	proxy_stop_begin(c->proxy);
	log_info("no longer accepting; open exchanges have up to %" PRIu64
		 " ms to finish",
	    grace_ms);
	(void)proxy_stop(c->proxy);
	rc = CLI_EXIT_OK;
out:
	c->watch = cfgwatch_free(c->watch);
	c->proxy = proxy_free(c->proxy);
	if (ev_int)
		event_free(ev_int);
	if (ev_term)
		event_free(ev_term);
	if (ev_hup)
		event_free(ev_hup);
	if (c->base)
		event_base_free(c->base);
	return rc;
}

static int
cmd_proxy_push_limit(struct cmd_proxy *c, const char *v)
{
	struct proxy_limits scratch;
	const char **nv;
	int r;

	if (!strchr(v, '=') || v[0] == '=') {
		(void)fprintf(stderr, "paddock: --limit takes NAME=VALUE\n");
		return -EINVAL;
	}
	proxy_limits_init(&scratch);
	r = cmd_proxy_limit_apply(&scratch, v);
	if (r == -ENOENT) {
		(void)fprintf(stderr,
		    "paddock: --limit %s: no such limit\n"
		    "Run 'paddock proxy --help' for the list.\n",
		    v);
		return -EINVAL;
	}
	if (r < 0) {
		(void)fprintf(stderr, "paddock: --limit %s: expected %s\n", v,
		    strncmp(v, "sessions=", 9) == 0 ?
			"a number of sessions" :
			strncmp(v, "log-queue=", 10) == 0 ?
			"a number of lines" :
			"a duration such as 250ms, 10s or 5m");
		return -EINVAL;
	}
	nv = reallocarray(c->limits, c->n_limits + 1, sizeof(*nv));
	if (!nv) {
		(void)fputs("paddock: out of memory\n", stderr);
		return -ENOMEM;
	}
	nv[c->n_limits++] = v;
	c->limits = nv;
	return 0;
}

/* One argument that is not a config option. Returns -1 to go on, or an
 * exit status. */
static int
cmd_proxy_arg(void *userdata, int argc, char **argv, int *i)
{
	struct cmd_proxy *c = userdata;
	const char *arg = argv[*i];
	const char *v;
	uint64_t n;
	int m;

	if (cli_is_help(arg)) {
		cmd_proxy_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (streq(arg, "--no-watch")) {
		c->no_watch = true;
		(*i)++;
		return -1;
	}
	m = cli_option_value(argc, argv, i, "--audit", &v);
	if (m > 0) {
		if (!v[0]) {
			(void)fputs("paddock: --audit takes a file or '-' "
				    "(stderr)\n",
			    stderr);
			return CLI_EXIT_USAGE;
		}
		c->audit_arg = v;
		return -1;
	}
	if (m == 0)
		m = cli_option_value(argc, argv, i, "--workers", &v);
	if (m > 0) {
		if (strparse_u64_str(v, 1024, &n) < 0 || n == 0) {
			(void)fputs("paddock: --workers takes a number from 1 "
				    "to 1024\n",
			    stderr);
			return CLI_EXIT_USAGE;
		}
		c->workers = (unsigned)n;
		return -1;
	}
	if (m == 0)
		m = cli_option_value(argc, argv, i, "--limit", &v);
	if (m > 0) {
		int r = cmd_proxy_push_limit(c, v);

		if (r < 0)
			return r == -ENOMEM ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
		return -1;
	}
	if (m == 0)
		(void)fprintf(stderr,
		    "paddock: unknown option '%s'\n"
		    "Run 'paddock proxy --help' for usage.\n",
		    arg);
	return CLI_EXIT_USAGE;
}

int
cmd_proxy(int argc, char **argv)
{
	struct cmd_proxy c = { 0 };
	int rc;

	cfgopts_init(&c.cfg);
	(void)pthread_mutex_init(&c.lock, NULL);
	rc = cfgopts_parse_args(&c.cfg, argc, argv, cmd_proxy_arg, &c);
	if (rc < 0)
		rc = cmd_proxy_run(&c);
	free(c.limits);
	config_free(c.running);
	(void)pthread_mutex_destroy(&c.lock);
	cfgopts_done(&c.cfg);
	return rc;
}
