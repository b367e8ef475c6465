/* SPDX-License-Identifier: MIT */
/*
 * Building a sandbox plan in the parent: every string the child will need
 * is allocated and formatted here, before the fork, so that the child can
 * work with system calls alone. Also the fixed part of every plan (/dev,
 * /proc), the Landlock probe and the error texts.
 */
#include "sandbox/sandbox.h"

#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/strutil.h"

/* Rights newer than the installed kernel headers. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

static const char *const sandbox_op_names[_SANDBOX_OP_MAX] = {
	[SANDBOX_OP_MKDIR] = "mkdir",
	[SANDBOX_OP_TOUCH] = "touch",
	[SANDBOX_OP_BIND_RO] = "bind-ro",
	[SANDBOX_OP_BIND_RW] = "bind-rw",
	[SANDBOX_OP_BIND_DEV] = "bind-dev",
	[SANDBOX_OP_MASK_DIR] = "mask-dir",
	[SANDBOX_OP_MASK_FILE] = "mask-file",
	[SANDBOX_OP_TMPFS] = "tmpfs",
	[SANDBOX_OP_SYMLINK] = "symlink",
	[SANDBOX_OP_DEVPTS] = "devpts",
	[SANDBOX_OP_PROC] = "proc",
	[SANDBOX_OP_FILE] = "file",
};

const char *
sandbox_op_type_name(enum sandbox_op_type t)
{
	return t < _SANDBOX_OP_MAX ? sandbox_op_names[t] : "?";
}

struct sandbox_plan *
sandbox_plan_new(void)
{
	struct sandbox_plan *p = calloc(1, sizeof(*p));

	if (p)
		p->landlock_abi = -1;
	return p;
}

static void
sandbox_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

struct sandbox_plan *
sandbox_plan_free(struct sandbox_plan *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n_ops; i++) {
		free(p->ops[i].path);
		free(p->ops[i].src);
		free(p->ops[i].at_dst);
		free(p->ops[i].at_src);
	}
	free(p->ops);
	for (size_t i = 0; i < p->n_rules; i++)
		free(p->rules[i].path);
	free(p->rules);
	free(p->cwd);
	sandbox_strv_free(p->argv);
	sandbox_strv_free(p->exec_paths);
	sandbox_strv_free(p->envp);
	free(p->bpf);
	free(p);
	return NULL;
}

static char *
sandbox_join(const char *prefix, const char *path)
{
	char *s = NULL;

	if (asprintf(&s, "%s%s", prefix, streq(path, "/") ? "" : path) < 0)
		return NULL;
	return s;
}

int
sandbox_plan_add(struct sandbox_plan *p, enum sandbox_op_type type,
    const char *path, const char *src)
{
	struct sandbox_op *ops, *op;
	bool bind = type == SANDBOX_OP_BIND_RO || type == SANDBOX_OP_BIND_RW ||
	    type == SANDBOX_OP_BIND_DEV;

	ops = reallocarray(p->ops, p->n_ops + 1, sizeof(*ops));
	if (!ops)
		return -ENOMEM;
	p->ops = ops;
	op = &ops[p->n_ops];
	*op = (struct sandbox_op){ .type = type };
	op->path = strdup(path);
	op->src = src ? strdup(src) : NULL;
	op->at_dst = sandbox_join("/newroot", path);
	op->at_src = bind && src ? sandbox_join("/oldroot", src) : NULL;
	/* A file's text goes to the setup tmpfs (the child's "/" then),
	 * one name per op. */
	if (type == SANDBOX_OP_FILE &&
	    asprintf(&op->at_src, "/.file%zu", p->n_ops) < 0)
		op->at_src = NULL;
	p->n_ops++;
	if (!op->path || (src && !op->src) || !op->at_dst ||
	    ((bind || type == SANDBOX_OP_FILE) && src && !op->at_src) ||
	    (type == SANDBOX_OP_FILE && !src))
		return -ENOMEM;
	return 0;
}

int
sandbox_plan_add_rule(struct sandbox_plan *p, const char *path, uint64_t access)
{
	struct sandbox_rule *r;

	r = reallocarray(p->rules, p->n_rules + 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	p->rules = r;
	r[p->n_rules].access = access;
	r[p->n_rules].path = strdup(path);
	if (!r[p->n_rules].path)
		return -ENOMEM;
	p->n_rules++;
	return 0;
}

static char **
sandbox_strv_copy(char *const *v, size_t n)
{
	char **c = calloc(n + 1, sizeof(*c));

	for (size_t i = 0; c && i < n; i++) {
		c[i] = strdup(v[i]);
		if (!c[i]) {
			sandbox_strv_free(c);
			return NULL;
		}
	}
	return c;
}

/* The PATH search happens here, not in the child: each directory of the
 * child's PATH (or the default one) joined with argv[0]. */
static int
sandbox_plan_exec_paths(struct sandbox_plan *p)
{
	const char *cmd = p->argv[0];
	const char *path = "/usr/local/bin:/usr/bin:/bin";
	size_t n = 0;
	char **v;

	if (strchr(cmd, '/')) {
		p->exec_paths = sandbox_strv_copy(p->argv, 1);
		return p->exec_paths ? 0 : -ENOMEM;
	}
	for (size_t i = 0; p->envp && p->envp[i]; i++)
		if (startswith(p->envp[i], "PATH="))
			path = p->envp[i] + 5;
	v = calloc(strlen(path) + 2, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (const char *s = path;;) {
		const char *e = strchr(s, ':');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		/* An empty element means the current directory. */
		if (asprintf(&v[n], "%.*s%s%s", (int)len, s, len ? "/" : "./",
			cmd) < 0) {
			v[n] = NULL;
			sandbox_strv_free(v);
			return -ENOMEM;
		}
		n++;
		if (!e)
			break;
		s = e + 1;
	}
	p->exec_paths = v;
	return 0;
}

int
sandbox_plan_set_command(struct sandbox_plan *p, char *const *argv, size_t n,
    char **envp)
{
	p->envp = envp;
	if (n == 0)
		return -EINVAL;
	p->argv = sandbox_strv_copy(argv, n);
	if (!p->argv)
		return -ENOMEM;
	return sandbox_plan_exec_paths(p);
}

int
sandbox_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

uint64_t
sandbox_landlock_all(int abi)
{
	if (abi >= 5)
		return (LANDLOCK_ACCESS_FS_IOCTL_DEV << 1) - 1;
	if (abi >= 3)
		return (LANDLOCK_ACCESS_FS_TRUNCATE << 1) - 1;
	if (abi >= 2)
		return (LANDLOCK_ACCESS_FS_REFER << 1) - 1;
	return (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
}

uint64_t
sandbox_landlock_read(bool is_dir)
{
	return LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
	    (is_dir ? LANDLOCK_ACCESS_FS_READ_DIR : 0);
}

/* Opening a device read-write (and truncating it, as "> /dev/null"
 * does), and its ioctls. */
static uint64_t
sandbox_landlock_dev(void)
{
	return LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV;
}

const char *
sandbox_landlock_access_name(uint64_t access, int abi)
{
	uint64_t all = sandbox_landlock_all(abi);

	if ((access & all) == all)
		return "read-write";
	if (access == sandbox_landlock_read(true))
		return "read";
	if (access == sandbox_landlock_read(false))
		return "read-file";
	if (access == LANDLOCK_ACCESS_FS_READ_DIR)
		return "list";
	if ((access & ~LANDLOCK_ACCESS_FS_READ_DIR) == sandbox_landlock_dev())
		return "device";
	return "proc";
}

/* /dev: a small tmpfs with the harmless devices of the host. */
static int
sandbox_plan_dev(struct sandbox_plan *p)
{
	static const char *const devs[] = { "null", "zero", "full", "random",
		"urandom", "tty" };
	static const char *const links[][2] = { { "fd", "/proc/self/fd" },
		{ "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
		{ "stderr", "/proc/self/fd/2" }, { "ptmx", "pts/ptmx" } };
	char path[32], src[32];
	int r;

	/* Not sticky and world-writable: in such a directory the kernel
	 * refuses O_CREAT on a file of another owner (may_create_in_sticky),
	 * and the devices belong to root, so '> /dev/null' failed for any
	 * other user. */
	r = sandbox_plan_add(p, SANDBOX_OP_MKDIR, "/dev", NULL);
	if (r >= 0)
		r = sandbox_plan_add(p, SANDBOX_OP_TMPFS, "/dev", "mode=0755");
	for (size_t i = 0; r >= 0 && i < sizeof(devs) / sizeof(devs[0]); i++) {
		(void)snprintf(path, sizeof(path), "/dev/%s", devs[i]);
		(void)snprintf(src, sizeof(src), "/dev/%s", devs[i]);
		if (access(src, F_OK) < 0)
			continue;
		r = sandbox_plan_add(p, SANDBOX_OP_TOUCH, path, NULL);
		if (r >= 0)
			r = sandbox_plan_add(p, SANDBOX_OP_BIND_DEV, path, src);
		if (r >= 0)
			r = sandbox_plan_add_rule(p, path,
			    sandbox_landlock_dev());
	}
	for (size_t i = 0; r >= 0 && i < sizeof(links) / sizeof(links[0]);
	     i++) {
		(void)snprintf(path, sizeof(path), "/dev/%s", links[i][0]);
		r = sandbox_plan_add(p, SANDBOX_OP_SYMLINK, path, links[i][1]);
	}
	if (r >= 0)
		r = sandbox_plan_add(p, SANDBOX_OP_MKDIR, "/dev/pts", NULL);
	if (r >= 0)
		r = sandbox_plan_add(p, SANDBOX_OP_DEVPTS, "/dev/pts", NULL);
	if (r >= 0)
		r = sandbox_plan_add_rule(p, "/dev/pts",
		    sandbox_landlock_dev() | LANDLOCK_ACCESS_FS_READ_DIR);
	if (r >= 0)
		r = sandbox_plan_add(p, SANDBOX_OP_MKDIR, "/dev/shm", NULL);
	if (r >= 0)
		r = sandbox_plan_add(p, SANDBOX_OP_TMPFS, "/dev/shm", NULL);
	if (r >= 0)
		r = sandbox_plan_add_rule(p, "/dev/shm", ~0ULL);
	if (r >= 0)
		r = sandbox_plan_add_rule(p, "/dev",
		    LANDLOCK_ACCESS_FS_READ_DIR);
	return r;
}

int
sandbox_plan_finish(struct sandbox_plan *p, const char **reterr_what)
{
	uint64_t all;
	int r;

	if (p->landlock_only) {
		r = sandbox_landlock_only_rules(p);
	} else {
		r = sandbox_plan_dev(p);
		if (r >= 0)
			r = sandbox_plan_add(p, SANDBOX_OP_MKDIR, "/proc",
			    NULL);
		if (r >= 0)
			r = sandbox_plan_add(p, SANDBOX_OP_PROC, "/proc", NULL);
		if (r >= 0)
			r = sandbox_plan_add_rule(p, "/proc",
			    sandbox_landlock_read(true) |
				LANDLOCK_ACCESS_FS_WRITE_FILE);
	}
	if (r < 0)
		return r;
	p->landlock_abi = (p->force_missing & SANDBOX_FORCE_LANDLOCK) ?
	    0 :
	    sandbox_landlock_abi();
	if (p->landlock_abi < 1 ||
	    (p->landlock_only && p->landlock_abi < SANDBOX_LANDLOCK_ONLY_ABI)) {
		*reterr_what = "landlock";
		return -ENOSYS;
	}
	/* Rights the kernel does not know are dropped from every rule, and
	 * a rule on a file keeps only the rights a file can have. */
	all = sandbox_landlock_all(p->landlock_abi);
	for (size_t i = 0; i < p->n_rules; i++) {
		struct stat st;

		p->rules[i].access &= all;
		if (stat(p->rules[i].path, &st) == 0 && !S_ISDIR(st.st_mode))
			p->rules[i].access &= LANDLOCK_ACCESS_FS_EXECUTE |
			    LANDLOCK_ACCESS_FS_WRITE_FILE |
			    LANDLOCK_ACCESS_FS_READ_FILE |
			    LANDLOCK_ACCESS_FS_TRUNCATE |
			    LANDLOCK_ACCESS_FS_IOCTL_DEV;
	}
	(void)snprintf(p->uid_map, sizeof(p->uid_map), "%u %u 1\n",
	    (unsigned)geteuid(), (unsigned)geteuid());
	(void)snprintf(p->gid_map, sizeof(p->gid_map), "%u %u 1\n",
	    (unsigned)getegid(), (unsigned)getegid());
	r = sandbox_seccomp_build(p->landlock_only, &p->bpf, &p->bpf_len);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		*reterr_what = "seccomp";
		return -ENOSYS;
	}
	return 0;
}

unsigned
sandbox_force_missing_from_env(void)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = { { "userns", SANDBOX_FORCE_USERNS },
		{ "landlock", SANDBOX_FORCE_LANDLOCK },
		{ "seccomp", SANDBOX_FORCE_SECCOMP },
		{ "proc", SANDBOX_FORCE_PROC } };

	const char *v = secure_getenv("PADDOCK_SANDBOX_FORCE_MISSING");
	unsigned bits = 0;

	while (v && *v) {
		size_t len = strcspn(v, ",");

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == len &&
			    strncmp(v, names[i].name, len) == 0)
				bits |= names[i].bit;
		v += len + (v[len] == ',');
	}
	return bits;
}

static const char *const sandbox_stage_names[_SANDBOX_STAGE_MAX] = {
	[SANDBOX_STAGE_USERNS] = "cannot create the user namespace",
	[SANDBOX_STAGE_UIDMAP] = "cannot map the user into its namespace",
	[SANDBOX_STAGE_LOOPBACK] = "cannot bring up the loopback interface",
	[SANDBOX_STAGE_LISTENER] = "cannot listen inside the namespace",
	[SANDBOX_STAGE_MOUNT] = "cannot set up the filesystem view",
	[SANDBOX_STAGE_PROC] = "cannot mount a fresh /proc",
	[SANDBOX_STAGE_PIVOT] = "cannot switch to the new root",
	[SANDBOX_STAGE_LANDLOCK] = "cannot enforce the Landlock ruleset",
	[SANDBOX_STAGE_CAPS] = "cannot drop the capabilities",
	[SANDBOX_STAGE_NO_NEW_PRIVS] = "cannot set no_new_privs",
	[SANDBOX_STAGE_SECCOMP] = "cannot install the seccomp filter",
	[SANDBOX_STAGE_FORK] = "cannot start the command",
	[SANDBOX_STAGE_CWD] = "cannot enter the working directory",
	[SANDBOX_STAGE_EXEC] = "cannot run the command",
	[SANDBOX_STAGE_PARENT] = "paddock went away",
};

/* The fix for a mechanism the kernel lacks or refuses. */
static const char *
sandbox_error_fix(const struct sandbox_error *e)
{
	switch (e->stage) {
	case SANDBOX_STAGE_USERNS:
		if (e->err == EPERM || e->err == ENOSPC || e->err == EINVAL)
			return "unprivileged user namespaces are off; enable "
			       "them with 'sysctl -w "
			       "kernel.unprivileged_userns_clone=1' (Debian), "
			       "'sysctl -w "
			       "kernel.apparmor_restrict_unprivileged_userns=0'"
			       " "
			       "(Ubuntu) or a non-zero "
			       "user.max_user_namespaces; or run with "
			       "--landlock-only (weaker, see docs/sandbox.md)";
		return NULL;
	case SANDBOX_STAGE_LANDLOCK:
		return "the kernel has no Landlock; boot with "
		       "'lsm=landlock,...' "
		       "on a kernel built with CONFIG_SECURITY_LANDLOCK=y";
	case SANDBOX_STAGE_SECCOMP:
		return "the kernel refuses seccomp filters; it needs "
		       "CONFIG_SECCOMP_FILTER=y";
	case SANDBOX_STAGE_PROC:
		return "/proc is partly hidden here (a container masking "
		       "/proc?); run paddock where /proc is fully visible";
	case SANDBOX_STAGE_EXEC:
		if (e->err == ENOENT)
			return "no such command in the sandbox's view; check "
			       "the name and that its directory is readable";
		return NULL;
	default:
		return NULL;
	}
}

int
sandbox_error_format(const struct sandbox_plan *p,
    const struct sandbox_error *e, struct buf *out)
{
	const char *what = e->stage < _SANDBOX_STAGE_MAX ?
	    sandbox_stage_names[e->stage] :
	    "setup failed";
	const char *fix = sandbox_error_fix(e);
	const char *detail = NULL;
	int r;

	if (p && e->op >= 0) {
		if (e->stage == SANDBOX_STAGE_LANDLOCK &&
		    (size_t)e->op < p->n_rules)
			detail = p->rules[e->op].path;
		else if ((size_t)e->op < p->n_ops)
			detail = p->ops[e->op].path;
	}
	if (e->stage == SANDBOX_STAGE_EXEC && p && p->argv)
		detail = p->argv[0];
	/* A Landlock too old for the fallback is not "no Landlock". */
	if (e->stage == SANDBOX_STAGE_LANDLOCK && e->err == ENOSYS && p &&
	    p->landlock_only && p->landlock_abi >= 1)
		return buf_printf(out,
		    "--landlock-only needs Landlock ABI %d or later (TCP "
		    "rules, Linux 6.7); this kernel has ABI %d",
		    SANDBOX_LANDLOCK_ONLY_ABI, p->landlock_abi);
	r = buf_printf(out, "%s%s%s%s: %s", what, detail ? " ('" : "",
	    detail ? detail : "", detail ? "')" : "", strerror(e->err));
	if (r >= 0 && fix)
		r = buf_printf(out, "; %s", fix);
	return r;
}
