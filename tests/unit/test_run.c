/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the paddock run plan builder (src/api/run_plan.c), the
 * child environment (src/api/run_env.c) and the blocked summary
 * (src/api/run_report.c). The plan tests work in a fresh directory under
 * /tmp; nothing is spawned.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/childenv.h"
#include "api/run_env.h"
#include "api/run_placeholder.h"
#include "api/run_plan.h"
#include "api/run_report.h"
#include "audit/blocked.h"
#include "config/config.h"
#include "policy/policy.h"
#include "sandbox/sandbox.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/strutil.h"

static char T[64];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	(void)state;
	(void)snprintf(T, sizeof(T), "/tmp/paddock-run-unit-XXXXXX");
	return mkdtemp(T) ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	(void)nftw(T, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static const char *
at(const char *rel)
{
	static char bufs[8][256];
	static int k;
	char *b = bufs[k++ % 8];

	(void)snprintf(b, 256, "%s%s%s", T, rel[0] ? "/" : "", rel);
	return b;
}

static void
mkdirs(const char *rel)
{
	char path[256];

	(void)snprintf(path, sizeof(path), "%s", at(rel));
	for (char *s = path + strlen(T) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		(void)mkdir(path, 0755);
		*s = '/';
	}
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static void
write_file(const char *rel, const char *text)
{
	FILE *f = fopen(at(rel), "w");

	assert_non_null(f);
	(void)fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static struct config_fs_entry
path_entry(const char *path, enum config_fs_access a)
{
	return (struct config_fs_entry){ .path = (char *)path, .access = a };
}

static struct config_fs_entry
special_entry(enum config_fs_special s, const char *sub,
    enum config_fs_access a)
{
	return (struct config_fs_entry){ .is_special = true,
		.special = s,
		.subpath = (char *)sub,
		.access = a };
}

static void
test_run_plan_deepest_entry_wins(void **state)
{
	struct config_fs_entry e[3];
	struct config_fs_policy fs = { CONFIG_FS_KIND_RESTRICTED, e, 3 };
	struct run_plan_paths p;

	(void)state;
	mkdirs("a/b");
	e[0] = path_entry(at("a/b"), CONFIG_FS_ACCESS_NONE);
	e[1] = path_entry(at(""), CONFIG_FS_ACCESS_READ);
	e[2] = path_entry(at("a"), CONFIG_FS_ACCESS_WRITE);
	assert_int_equal(run_plan_resolve(&fs, T, NULL, &p), 0);
	assert_int_equal(p.n, 3);
	/* Sorted shallowest first, whatever the written order. */
	assert_string_equal(p.v[0].path, T);
	assert_string_equal(p.v[2].path, at("a/b"));
	assert_int_equal(run_plan_access(&p, at("x")), CONFIG_FS_ACCESS_READ);
	assert_int_equal(run_plan_access(&p, at("a")), CONFIG_FS_ACCESS_WRITE);
	assert_int_equal(run_plan_access(&p, at("a/x/y")),
	    CONFIG_FS_ACCESS_WRITE);
	assert_int_equal(run_plan_access(&p, at("a/b/c")),
	    CONFIG_FS_ACCESS_NONE);
	/* Component-wise: a/bc is not under a/b. */
	assert_int_equal(run_plan_access(&p, at("a/bc")),
	    CONFIG_FS_ACCESS_WRITE);
	assert_int_equal(run_plan_access(&p, "/elsewhere"),
	    CONFIG_FS_ACCESS_NONE);
	run_plan_paths_done(&p);
}

static void
test_run_plan_tie_none_beats_write_beats_read(void **state)
{
	struct config_fs_entry e[4];
	struct config_fs_policy fs = { CONFIG_FS_KIND_RESTRICTED, e, 2 };
	struct run_plan_paths p;
	char link[256], dotted[256];

	(void)state;
	mkdirs("d");
	(void)snprintf(link, sizeof(link), "%s", at("link"));
	assert_int_equal(symlink(at("d"), link), 0);
	(void)snprintf(dotted, sizeof(dotted), "%s/./d/", T);
	e[0] = path_entry(at("d"), CONFIG_FS_ACCESS_READ);
	e[1] = path_entry(link, CONFIG_FS_ACCESS_WRITE);
	assert_int_equal(run_plan_resolve(&fs, T, NULL, &p), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].access, CONFIG_FS_ACCESS_WRITE);
	run_plan_paths_done(&p);
	e[2] = path_entry(dotted, CONFIG_FS_ACCESS_NONE);
	e[3] = path_entry(at("d"), CONFIG_FS_ACCESS_READ);
	fs.n_entries = 4;
	assert_int_equal(run_plan_resolve(&fs, T, NULL, &p), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].access, CONFIG_FS_ACCESS_NONE);
	run_plan_paths_done(&p);
}

static void
test_run_plan_special_paths(void **state)
{
	struct config_fs_entry e[6];
	struct config_fs_policy fs = { CONFIG_FS_KIND_RESTRICTED, e, 6 };
	struct run_plan_paths p;

	(void)state;
	mkdirs("proj/docs");
	mkdirs("tmp");
	e[0] =
	    special_entry(CONFIG_FS_SPECIAL_ROOT, NULL, CONFIG_FS_ACCESS_READ);
	e[1] = special_entry(CONFIG_FS_SPECIAL_PROJECT_ROOTS, NULL,
	    CONFIG_FS_ACCESS_WRITE);
	e[2] = special_entry(CONFIG_FS_SPECIAL_PROJECT_ROOTS, "docs",
	    CONFIG_FS_ACCESS_READ);
	e[3] = special_entry(CONFIG_FS_SPECIAL_TMPDIR, NULL,
	    CONFIG_FS_ACCESS_WRITE);
	e[4] = special_entry(CONFIG_FS_SPECIAL_UNKNOWN, NULL,
	    CONFIG_FS_ACCESS_WRITE);
	e[4].path = ":future";
	e[5] = path_entry(at("missing"), CONFIG_FS_ACCESS_WRITE);
	assert_int_equal(run_plan_resolve(&fs, at("proj"), at("tmp"), &p), 0);
	/* /, proj, tmp, proj/docs; the unknown token and the missing path
	 * grant nothing. */
	assert_int_equal(p.n, 4);
	assert_string_equal(p.v[0].path, "/");
	assert_int_equal(run_plan_access(&p, "/usr"), CONFIG_FS_ACCESS_READ);
	assert_int_equal(run_plan_access(&p, at("proj/x")),
	    CONFIG_FS_ACCESS_WRITE);
	assert_int_equal(run_plan_access(&p, at("proj/docs/x")),
	    CONFIG_FS_ACCESS_READ);
	assert_int_equal(run_plan_access(&p, at("tmp/f")),
	    CONFIG_FS_ACCESS_WRITE);
	run_plan_paths_done(&p);
	/* Without TMPDIR, :tmpdir grants nothing. */
	assert_int_equal(run_plan_resolve(&fs, at("proj"), NULL, &p), 0);
	assert_int_equal(p.n, 3);
	assert_int_equal(run_plan_access(&p, at("tmp/f")),
	    CONFIG_FS_ACCESS_READ);
	run_plan_paths_done(&p);
}

static void
test_run_plan_unrestricted_is_root_write(void **state)
{
	struct config_fs_policy fs = { CONFIG_FS_KIND_UNRESTRICTED, NULL, 0 };
	struct run_plan_paths p;

	(void)state;
	assert_int_equal(run_plan_resolve(&fs, T, NULL, &p), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(run_plan_access(&p, "/etc"), CONFIG_FS_ACCESS_WRITE);
	run_plan_paths_done(&p);
}

/* Load a config whose cwd is T/ws, with text as the user layer. */
static struct config *
load(const char *text)
{
	struct config_options o = { 0 };
	struct config_diags *d = config_diags_new();
	struct config *cfg = NULL;
	char home[256];

	(void)snprintf(home, sizeof(home), "%s", at("home"));
	mkdirs("home");
	o.home = home;
	o.system_file = "";
	o.cwd = at("ws");
	o.user_text = text;
	o.user_text_len = strlen(text);
	assert_int_equal(config_load(&o, d, &cfg), 0);
	config_diags_free(d);
	return cfg;
}

static const struct sandbox_op *
find_op(const struct sandbox_plan *p, enum sandbox_op_type t, const char *path)
{
	for (size_t i = 0; i < p->n_ops; i++)
		if (p->ops[i].type == t && streq(p->ops[i].path, path))
			return &p->ops[i];
	return NULL;
}

static void
test_run_plan_build_mounts_and_metadata(void **state)
{
	struct sandbox_plan *plan = sandbox_plan_new();
	struct config *cfg;
	struct run_placeholders held = { 0 };
	char err[256] = "", text[1024];
	const struct sandbox_op *op;

	(void)state;
	mkdirs("ws/secret/pub");
	mkdirs("ws/gd");
	write_file("ws/.git", "gitdir: gd\n");
	mkdirs("ws/.agents");
	(void)snprintf(text, sizeof(text),
	    "default_permissions = \"p\"\n"
	    "[permissions.p.filesystem]\n"
	    "\":minimal\" = \"read\"\n"
	    "\":project_roots\" = { \".\" = \"write\", \"secret\" = \"none\", "
	    "\"secret/pub\" = \"read\" }\n");
	cfg = load(text);
	assert_int_equal(run_plan_build(cfg, NULL, true, plan, &held, err,
			     sizeof(err)),
	    0);
	assert_int_equal(held.n, 0);
	assert_false(plan->root_read);
	assert_non_null(find_op(plan, SANDBOX_OP_BIND_RO, "/usr"));
	assert_non_null(find_op(plan, SANDBOX_OP_BIND_RW, at("ws")));
	/* The none directory stays traversable for the read entry in it. */
	op = find_op(plan, SANDBOX_OP_MASK_DIR, at("ws/secret"));
	assert_non_null(op);
	assert_string_equal(op->src, "mode=111");
	assert_non_null(find_op(plan, SANDBOX_OP_BIND_RO, at("ws/secret/pub")));
	/* .git is a file: it and its gitdir are read-only; .agents exists;
	 * .codex is missing and gets a mask (created only for a real run). */
	assert_non_null(find_op(plan, SANDBOX_OP_BIND_RO, at("ws/.git")));
	assert_non_null(find_op(plan, SANDBOX_OP_BIND_RO, at("ws/gd")));
	assert_non_null(find_op(plan, SANDBOX_OP_BIND_RO, at("ws/.agents")));
	assert_non_null(find_op(plan, SANDBOX_OP_MASK_DIR, at("ws/.codex")));
	assert_int_equal(access(at("ws/.codex"), F_OK), -1);
	assert_string_equal(plan->cwd, at("ws"));
	sandbox_plan_free(plan);

	plan = sandbox_plan_new();
	assert_int_equal(run_plan_build(cfg, NULL, false, plan, &held, err,
			     sizeof(err)),
	    0);
	assert_int_equal(held.n, 1);
	assert_string_equal(held.v[0].path, at("ws/.codex"));
	assert_int_equal(access(at("ws/.codex"), F_OK), 0);
	run_placeholders_release(&held);
	assert_int_equal(held.n, 0);
	assert_int_equal(access(at("ws/.codex"), F_OK), -1);
	sandbox_plan_free(plan);
	config_free(cfg);
}

/* Two runs in one workspace share a placeholder: the first to end leaves
 * it to the other, the last removes it; one left behind is adopted; a
 * directory of the user's is never taken. */
static void
test_run_placeholder_shared_by_runs(void **state)
{
	struct run_placeholders a = { 0 }, b = { 0 }, c = { 0 };
	struct stat st;

	(void)state;
	mkdirs("ws");
	assert_int_equal(run_placeholder_take(&a, at("ws/.codex")), 1);
	assert_int_equal(lstat(at("ws/.codex"), &st), 0);
	assert_true(run_placeholder_looks(&st));
	assert_int_equal(run_placeholder_take(&b, at("ws/.codex")), 1);
	run_placeholders_release(&a);
	assert_int_equal(access(at("ws/.codex"), F_OK), 0); /* b holds it */
	run_placeholders_release(&b);
	assert_int_equal(access(at("ws/.codex"), F_OK), -1);

	/* Left by a run that was killed: the next one adopts it. */
	assert_int_equal(mkdir(at("ws/.agents"), 0), 0);
	assert_int_equal(chmod(at("ws/.agents"), RUN_PLACEHOLDER_MODE), 0);
	assert_int_equal(run_placeholder_take(&c, at("ws/.agents")), 1);
	run_placeholders_release(&c);
	assert_int_equal(access(at("ws/.agents"), F_OK), -1);

	/* The user's: another mode, or not empty, or a file. */
	assert_int_equal(mkdir(at("ws/.git"), 0755), 0);
	assert_int_equal(run_placeholder_take(&c, at("ws/.git")), 0);
	assert_int_equal(rmdir(at("ws/.git")), 0);
	mkdirs("ws/.git/objects");
	assert_int_equal(chmod(at("ws/.git"), RUN_PLACEHOLDER_MODE), 0);
	assert_int_equal(run_placeholder_take(&c, at("ws/.git")), 0);
	assert_int_equal(chmod(at("ws/.git"), 0755), 0);
	write_file("ws/.codex", "a file\n");
	assert_int_equal(run_placeholder_take(&c, at("ws/.codex")), 0);
	assert_int_equal(c.n, 0);
}

/* A link at the name is never followed: its target keeps its mode and
 * nothing is made there. A lock held by some other process is waited for
 * a bounded time, then reported. */
static void
test_run_placeholder_links_and_foreign_locks(void **state)
{
	struct run_placeholders a = { 0 };
	struct stat st;
	int fd;

	(void)state;
	mkdirs("ws/target");
	assert_int_equal(chmod(at("ws/target"), 0755), 0);
	assert_int_equal(symlink(at("ws/target"), at("ws/.agents")), 0);
	assert_int_equal(run_placeholder_take(&a, at("ws/.agents")), 0);
	assert_int_equal(stat(at("ws/target"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);

	assert_int_equal(mkdir(at("ws/.codex"), RUN_PLACEHOLDER_MODE), 0);
	fd = open(at("ws/.codex"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(run_placeholder_take(&a, at("ws/.codex")),
	    -EWOULDBLOCK);
	assert_int_equal(a.n, 0);
	(void)close(fd);
	assert_int_equal(run_placeholder_take(&a, at("ws/.codex")), 1);
	run_placeholders_release(&a);
	assert_int_equal(access(at("ws/.codex"), F_OK), -1);
}

/* The access of the rule on path, or 0 when there is none. */
static uint64_t
find_rule(const struct sandbox_plan *p, const char *path)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if (streq(p->rules[i].path, path))
			return p->rules[i].access;
	return 0;
}

static void
test_run_plan_landlock_carves_read_only_paths(void **state)
{
	struct sandbox_plan *plan = sandbox_plan_new();
	struct config *cfg;
	char err[512] = "", text[1024];

	(void)state;
	mkdirs("ws/src/deep");
	mkdirs("ws/gd");
	mkdirs("ws/docs/x");
	mkdirs("out");
	write_file("ws/.git", "gitdir: gd\n");
	write_file("ws/notes", "n\n");
	assert_int_equal(symlink(at("out"), at("ws/link")), 0);
	(void)snprintf(text, sizeof(text),
	    "default_permissions = \"p\"\n"
	    "[permissions.p.filesystem]\n"
	    "\":minimal\" = \"read\"\n"
	    "\":project_roots\" = { \".\" = \"write\", \"docs\" = "
	    "\"read\" }\n");
	cfg = load(text);
	assert_int_equal(run_plan_landlock_build(cfg, NULL, plan, err,
			     sizeof(err)),
	    0);
	assert_true(plan->landlock_only);
	assert_int_equal(plan->n_ops, 0);
	assert_int_equal(find_rule(plan, "/usr"), sandbox_landlock_read(true));
	/* The top of the workspace is read-only: .git, its gitdir, the
	 * missing .codex and .agents, and docs sit there. */
	assert_int_equal(find_rule(plan, at("ws")),
	    sandbox_landlock_read(true));
	assert_int_equal(find_rule(plan, at("ws/src")), ~0ULL);
	assert_int_equal(find_rule(plan, at("ws/notes")), ~0ULL);
	assert_int_equal(find_rule(plan, at("ws/docs")),
	    sandbox_landlock_read(true));
	assert_int_equal(find_rule(plan, at("ws/.git")), 0);
	assert_int_equal(find_rule(plan, at("ws/gd")), 0);
	assert_int_equal(find_rule(plan, at("ws/link")), 0);
	assert_int_equal(find_rule(plan, at("out")), 0);
	assert_int_equal(find_rule(plan, at("ws/src/deep")), 0);
	/* Nothing is made on the host. */
	assert_int_equal(access(at("ws/.codex"), F_OK), -1);
	sandbox_plan_free(plan);
	config_free(cfg);

	/* A none entry inside a granted one cannot be expressed. */
	(void)snprintf(text, sizeof(text),
	    "default_permissions = \"p\"\n"
	    "[permissions.p.filesystem]\n"
	    "\":minimal\" = \"read\"\n"
	    "\":project_roots\" = { \".\" = \"write\", \"docs/x\" = "
	    "\"none\" }\n");
	cfg = load(text);
	plan = sandbox_plan_new();
	assert_int_equal(run_plan_landlock_build(cfg, NULL, plan, err,
			     sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "cannot hide"));
	assert_non_null(strstr(err, at("ws/docs/x")));
	sandbox_plan_free(plan);
	config_free(cfg);
}

static void
test_run_plan_refuses_symlinked_metadata(void **state)
{
	struct sandbox_plan *plan = sandbox_plan_new();
	struct config *cfg;
	struct run_placeholders held = { 0 };
	char err[256] = "";

	(void)state;
	mkdirs("ws");
	assert_int_equal(symlink("/etc", at("ws/.codex")), 0);
	cfg = load("default_permissions = \"p\"\n"
		   "[permissions.p.filesystem]\n"
		   "\":root\" = \"read\"\n"
		   "\":project_roots\" = \"write\"\n");
	assert_int_equal(run_plan_build(cfg, NULL, false, plan, &held, err,
			     sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "is a symbolic link"));
	/* Nothing is left behind (.git was created, then removed). */
	assert_int_equal(held.n, 0);
	assert_int_equal(access(at("ws/.git"), F_OK), -1);
	sandbox_plan_free(plan);
	config_free(cfg);
}

static bool
has(char **env, const char *entry)
{
	for (size_t i = 0; env[i]; i++)
		if (streq(env[i], entry))
			return true;
	return false;
}

static size_t
count(char **env)
{
	size_t n = 0;

	while (env[n])
		n++;
	return n;
}

static void
test_run_env_default_excludes_and_count(void **state)
{
	char *envp[] = { "PATH=/bin", "my_api_key=1", "GH_TOKEN=2",
		"Secret_x=3", "KEYBOARD=4", "novalue", NULL };
	struct config_shell_env p = { 0 };
	char **out;
	size_t withheld;

	(void)state;
	assert_int_equal(run_env_build(&p, envp, &out, &withheld), 0);
	/* Case-insensitive: KEYBOARD matches *KEY* too, as in the
	 * reference's patterns. */
	assert_int_equal(withheld, 4);
	assert_int_equal(count(out), 1);
	assert_true(has(out, "PATH=/bin"));
	childenv_strv_free(out);
	p.ignore_default_excludes = true;
	assert_int_equal(run_env_build(&p, envp, &out, &withheld), 0);
	assert_int_equal(withheld, 0);
	assert_int_equal(count(out), 5);
	childenv_strv_free(out);
}

static void
test_run_env_steps_in_order(void **state)
{
	char *envp[] = { "PATH=/bin", "HOME=/h", "EDITOR=vi", "LANG=C",
		"PAGER=less", NULL };
	char *exclude[] = { "pa*" };
	char *names[] = { "PAGER", "EXTRA" };
	char *values[] = { "more", "x" };
	char *only[] = { "P*", "E*" };
	struct config_shell_env p = { .inherit = CONFIG_ENV_INHERIT_ALL,
		.exclude = exclude,
		.n_exclude = 1,
		.set_names = names,
		.set_values = values,
		.n_set = 2 };
	char **out;
	size_t withheld;

	(void)state;
	/* exclude (case-insensitive) drops PATH and PAGER; set adds them
	 * back. */
	assert_int_equal(run_env_build(&p, envp, &out, &withheld), 0);
	assert_int_equal(count(out), 5);
	assert_true(has(out, "PAGER=more"));
	assert_true(has(out, "EXTRA=x"));
	assert_false(has(out, "PATH=/bin"));
	childenv_strv_free(out);
	/* include_only comes last, after set. */
	p.include_only = only;
	p.n_include_only = 2;
	assert_int_equal(run_env_build(&p, envp, &out, &withheld), 0);
	assert_int_equal(count(out), 3);
	assert_true(has(out, "EDITOR=vi"));
	childenv_strv_free(out);
	/* core keeps only the core names; none keeps nothing but set. */
	p = (struct config_shell_env){ .inherit = CONFIG_ENV_INHERIT_CORE };
	assert_int_equal(run_env_build(&p, envp, &out, &withheld), 0);
	assert_int_equal(count(out), 2);
	assert_true(has(out, "HOME=/h"));
	childenv_strv_free(out);
	p.inherit = CONFIG_ENV_INHERIT_NONE;
	assert_int_equal(run_env_build(&p, envp, &out, &withheld), 0);
	assert_int_equal(count(out), 0);
	childenv_strv_free(out);
}

static void
report_add(struct run_report *rep, const char *host, int32_t port,
    const char *reason, const char *source, int times)
{
	struct blocked_record r = { .port = port };

	(void)strlcpy(r.host, host, sizeof(r.host));
	(void)strlcpy(r.reason, reason, sizeof(r.reason));
	(void)strlcpy(r.source, source, sizeof(r.source));
	for (int i = 0; i < times; i++)
		run_report_add(rep, &r);
}

static void
test_run_report_counts_orders_and_advises(void **state)
{
	static const struct policy_rule_spec rules[] = {
		{ "evil.test", POLICY_LIST_DENY, "/etc/codex/requirements.toml",
		    9, 3 },
		{ "a.test", POLICY_LIST_ALLOW, "/c.toml", 4, 1 },
	};
	struct policy_settings ps = { .enabled = true,
		.mode = POLICY_MODE_FULL,
		.rules = rules,
		.n_rules = ELEMENTSOF(rules) };
	struct run_report_where w = { .profile = "dev", .file = "/c.toml" };
	struct run_report rep = { 0 };
	struct policy_error perr;
	struct policy *pol = NULL;
	struct buf b;

	(void)state;
	assert_int_equal(policy_new(&ps, &pol, &perr), 0);
	w.policy = pol;
	report_add(&rep, "example.com", 443, "not_allowed", "baseline_policy",
	    3);
	report_add(&rep, "example.com", 80, "not_allowed", "baseline_policy",
	    1);
	report_add(&rep, "evil.test", 443, "denied", "baseline_policy", 2);
	report_add(&rep, "127.0.0.2", 8080, "not_allowed_local",
	    "baseline_policy", 1);
	report_add(&rep, "intra.test", 22, "not_allowed_local",
	    "baseline_policy", 1);
	report_add(&rep, "asked.test", 443, "not approved", "decider", 1);
	report_add(&rep, "a.test", 80, "method_not_allowed", "mode_guard", 1);
	report_add(&rep, "bad host", -1, "not_allowed", "baseline_policy", 1);
	buf_init(&b, 0);
	assert_int_equal(run_report_format(&rep, &w, &b), 0);
	assert_string_equal(buf_str(&b),
	    "paddock: the proxy blocked 11 requests during the run:\n"
	    "  example.com:443  not_allowed  3x\n"
	    "    allow: add \"example.com\" = \"allow\" under "
	    "[permissions.dev.network.domains] in /c.toml\n"
	    "  evil.test:443  denied  2x\n"
	    "    denied by the entry \"evil.test\" at "
	    "/etc/codex/requirements.toml:9:3; a deny entry wins over any "
	    "allow: remove it there to allow this host\n"
	    "  127.0.0.2:8080  not_allowed_local  1x\n"
	    "    allow: add \"127.0.0.2\" = \"allow\" under "
	    "[permissions.dev.network.domains], or set allow_local_binding = "
	    "true under [permissions.dev.network] in /c.toml\n"
	    "  a.test:80  method_not_allowed  1x\n"
	    "    allow: set mode = \"full\" under [permissions.dev.network] in "
	    "/c.toml\n"
	    "  asked.test:443  not approved (decider)  1x\n"
	    "    allow: add \"asked.test\" = \"allow\" under "
	    "[permissions.dev.network.domains] in /c.toml\n"
	    "  bad host  not_allowed  1x\n"
	    "  example.com:80  not_allowed  1x\n"
	    "  intra.test:22  not_allowed_local  1x\n"
	    "    allow: set allow_local_binding = true under "
	    "[permissions.dev.network] in /c.toml (the name resolved to a "
	    "local or private address, or did not resolve)\n");
	buf_done(&b);
	run_report_done(&rep);
	(void)policy_unref(pol);
}

static void
test_run_report_legacy_tables_and_quoted_profiles(void **state)
{
	struct run_report_where legacy = { .file = "/u.toml" };
	struct run_report_where quoted = { .profile = "my \"box\"" };
	struct run_report rep = { 0 };
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(run_report_format(&rep, &legacy, &b), 0);
	assert_string_equal(buf_str(&b), "");
	report_add(&rep, "x.test", 443, "not_allowed", "baseline_policy", 1);
	assert_int_equal(run_report_format(&rep, &legacy, &b), 0);
	assert_string_equal(buf_str(&b),
	    "paddock: the proxy blocked 1 request during the run:\n"
	    "  x.test:443  not_allowed  1x\n"
	    "    allow: add \"x.test\" = \"allow\" under [network.domains] in "
	    "/u.toml\n");
	buf_clear(&b);
	assert_int_equal(run_report_format(&rep, &quoted, &b), 0);
	assert_non_null(strstr(buf_str(&b),
	    "under [permissions.\"my \\\"box\\\"\".network.domains]\n"));
	buf_done(&b);
	run_report_done(&rep);
}

static void
test_run_report_is_bounded(void **state)
{
	struct run_report_where w = { .file = "/u.toml" };
	struct run_report rep = { 0 };
	char host[32];
	struct buf b;

	(void)state;
	for (int i = 0; i < LIMIT_RUN_REPORT_ENTRIES + 5; i++) {
		(void)snprintf(host, sizeof(host), "h%03d.test", i);
		report_add(&rep, host, 443, "not_allowed", "baseline_policy",
		    i == 0 ? 2 : 1);
	}
	assert_int_equal(rep.n, LIMIT_RUN_REPORT_ENTRIES);
	assert_int_equal(rep.other, 5);
	buf_init(&b, 0);
	assert_int_equal(run_report_format(&rep, &w, &b), 0);
	assert_non_null(strstr(buf_str(&b), "blocked 262 requests"));
	assert_non_null(
	    strstr(buf_str(&b), "  h000.test:443  not_allowed  2x\n"));
	/* 20 listed; 236 more destinations in the table, 5 beyond it. */
	assert_non_null(strstr(buf_str(&b),
	    "  ... and 241 more to at least 237 other destinations\n"));
	assert_null(strstr(buf_str(&b), "h020.test"));
	buf_done(&b);
	run_report_done(&rep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_run_plan_deepest_entry_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_plan_tie_none_beats_write_beats_read, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_run_plan_special_paths,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_plan_unrestricted_is_root_write, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_plan_build_mounts_and_metadata, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_plan_refuses_symlinked_metadata, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_placeholder_shared_by_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_placeholder_links_and_foreign_locks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_plan_landlock_carves_read_only_paths, setup,
		    teardown),
		cmocka_unit_test(test_run_env_default_excludes_and_count),
		cmocka_unit_test(test_run_env_steps_in_order),
		cmocka_unit_test(test_run_report_counts_orders_and_advises),
		cmocka_unit_test(
		    test_run_report_legacy_tables_and_quoted_profiles),
		cmocka_unit_test(test_run_report_is_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
