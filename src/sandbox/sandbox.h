/* SPDX-License-Identifier: MIT */
/*
 * Confinement: executing a plain plan in a fresh user + mount + pid + net
 * namespace, with Landlock and seccomp as further layers.
 *
 * The parent builds a struct sandbox_plan (src/api/run_plan.c does it from
 * a loaded config): every mount operation with its paths already spelled
 * out, the Landlock rules, the seccomp program (compiled here with
 * libseccomp before the fork), the argv, envp and working directory.
 * sandbox_spawn() then clones a child that only makes system calls until
 * it execs the command: no allocation, no logging, no locks. Everything it
 * needs lives in the plan, which the clone copies.
 *
 * The child is pid 1 of its pid namespace. It sets up the namespace, drops
 * every privilege and forks the command, then stays as a small init: it
 * forwards the signals it receives to the command's process group, reaps
 * orphans and exits with the command's status (128+N when killed by
 * signal N). When it exits the kernel kills whatever is left in the
 * namespace; when paddock dies, PR_SET_PDEATHSIG kills it.
 *
 * Any restriction that cannot be applied stops the child before exec; the
 * parent learns which step failed and with which errno (struct
 * sandbox_error) and says so in one line with the fix.
 *
 * Thread rules: build and spawn from one thread. sandbox_spawn() may run
 * while other threads of the process are running (the proxy's).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct buf;

/* One step of the mount plan. Paths are as the sandbox sees them;
 * the executor prefixes them itself. */
enum sandbox_op_type {
	SANDBOX_OP_MKDIR,     /* path: a directory (an existing one is fine) */
	SANDBOX_OP_TOUCH,     /* path: an empty file, as a mount point */
	SANDBOX_OP_BIND_RO,   /* host src on path, recursive, read-only */
	SANDBOX_OP_BIND_RW,   /* host src on path, recursive, writable */
	SANDBOX_OP_BIND_DEV,  /* host device node src on path */
	SANDBOX_OP_MASK_DIR,  /* path: empty, mode 000, read-only */
	SANDBOX_OP_MASK_FILE, /* path: an empty file of mode 000, read-only */
	SANDBOX_OP_TMPFS,     /* path: a writable tmpfs (src: its mount
				 options, NULL for mode=1777) */
	SANDBOX_OP_SYMLINK,   /* path: a symlink to src */
	SANDBOX_OP_DEVPTS,    /* path: a private devpts instance */
	SANDBOX_OP_PROC,      /* path: a fresh /proc of the pid namespace */
	/* path: read-only, holding the text src (a copy on the setup
	 * tmpfs bound over it) when path is a regular file in the view or
	 * can be made there; else nothing (best effort: resolv.conf) */
	SANDBOX_OP_FILE,
	_SANDBOX_OP_MAX,
};

/* "mkdir", "touch", "bind-ro", ... */
const char *sandbox_op_type_name(enum sandbox_op_type t);

struct sandbox_op {
	enum sandbox_op_type type;
	char *path;   /* in the sandbox, absolute */
	char *src;    /* host path (binds), link target or file text */
	char *at_dst; /* "/newroot" + path, made by sandbox_plan_add() */
	char *at_src; /* "/oldroot" + src for binds, the setup tmpfs's
		       * copy for files, else NULL */
};

/* A Landlock rule: access bits (LANDLOCK_ACCESS_FS_*) beneath path. */
struct sandbox_rule {
	char *path; /* in the sandbox */
	uint64_t access;
};

enum sandbox_net {
	SANDBOX_NET_NONE,  /* an empty network namespace: loopback only */
	SANDBOX_NET_PROXY, /* loopback with the proxy's listeners in it */
	_SANDBOX_NET_MAX,
};

/* A socket the child makes inside its network namespace and hands to
 * the parent (sandbox_spawn()'s ret_listen_fds): a listening TCP socket,
 * or a bound UDP one (datagram). */
struct sandbox_listener {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint16_t port; /* 0: any free port */
	bool datagram;
	char role[16]; /* what it is for, for --explain: "http", "dns" */
};

#define SANDBOX_LISTENERS_MAX 24

/*
 * Missing mechanisms the tests can force (PADDOCK_SANDBOX_FORCE_MISSING,
 * a comma-separated list of "userns", "landlock", "seccomp", "proc").
 */
enum {
	SANDBOX_FORCE_USERNS = 1 << 0,
	SANDBOX_FORCE_LANDLOCK = 1 << 1,
	SANDBOX_FORCE_SECCOMP = 1 << 2,
	SANDBOX_FORCE_PROC = 1 << 3,
};

/*
 * The plan. A public layout because src/api/ builds it and --explain
 * prints it; fill it through the functions below, which own every string.
 */
struct sandbox_plan {
	bool root_read;  /* "/" is bound (read-only or writable), */
	bool root_write; /* else the root is an empty read-only tmpfs */
	struct sandbox_op *ops;
	size_t n_ops;
	struct sandbox_rule *rules;
	size_t n_rules;
	enum sandbox_net net;
	struct sandbox_listener listeners[SANDBOX_LISTENERS_MAX];
	size_t n_listeners;
	char *cwd;         /* where the command starts (in the sandbox) */
	char **argv;       /* NULL-terminated */
	char **exec_paths; /* candidates for argv[0] (PATH search), NULL-t. */
	char **envp;       /* NULL-terminated */
	unsigned force_missing; /* SANDBOX_FORCE_* */
	/* The weaker fallback without namespaces (sandbox_landlock.c): the
	 * host's own filesystem under Landlock alone, TCP connect only to
	 * net_ports (none at all when n_net_ports is 0), no TCP bind, no
	 * UDP or raw sockets. ops and listeners stay empty. */
	bool landlock_only;
	uint16_t net_ports[SANDBOX_LISTENERS_MAX];
	size_t n_net_ports;

	/* Filled by sandbox_plan_finish(). */
	int landlock_abi;
	uint8_t *bpf; /* the seccomp program (struct sock_filter array) */
	size_t bpf_len;
	char uid_map[64], gid_map[64];
};

struct sandbox_plan *sandbox_plan_new(void);

/* Accepts NULL; returns NULL. */
struct sandbox_plan *sandbox_plan_free(struct sandbox_plan *p);

/* Append an op (the strings are copied; src may be NULL). Returns 0 or
 * -ENOMEM. */
int sandbox_plan_add(struct sandbox_plan *p, enum sandbox_op_type type,
    const char *path, const char *src);

/* Append a Landlock rule. Returns 0 or -ENOMEM. */
int sandbox_plan_add_rule(struct sandbox_plan *p, const char *path,
    uint64_t access);

/* Copy argv (n strings) and envp (NULL-terminated, taken over: the plan
 * frees it); the exec candidates come from PATH in envp unless argv[0]
 * holds a '/'. Returns 0 or -ENOMEM. */
int sandbox_plan_set_command(struct sandbox_plan *p, char *const *argv,
    size_t n, char **envp);

/*
 * The fixed part every plan has, after the caller's ops: /dev (null, zero,
 * full, random, urandom, tty, pts, shm, fd links) and /proc, with their
 * Landlock rules; then the Landlock ABI probe, the uid/gid maps and the
 * seccomp program. Returns 0, -ENOMEM, or -ENOSYS with *reterr_what
 * naming the mechanism that is missing ("landlock", "seccomp").
 */
int sandbox_plan_finish(struct sandbox_plan *p, const char **reterr_what);

/* Read PADDOCK_SANDBOX_FORCE_MISSING. Returns the SANDBOX_FORCE_* bits. */
unsigned sandbox_force_missing_from_env(void);

/* The best Landlock ABI the kernel has, 0 when Landlock is off. */
int sandbox_landlock_abi(void);

/* The Landlock rights of ABI abi: everything, or reading only. */
uint64_t sandbox_landlock_all(int abi);
uint64_t sandbox_landlock_read(bool is_dir);

/* Landlock rights as text ("read", "write", "dev", or a hex mask). */
const char *sandbox_landlock_access_name(uint64_t access, int abi);

/*
 * Compile the seccomp filter for this machine's architecture into a BPF
 * program (caller frees *ret). With landlock_only, inet sockets are
 * further limited to TCP streams (no UDP, no SCTP or MPTCP): Landlock's
 * network rules only know TCP. Returns 0, -ENOMEM or a negative errno
 * from libseccomp.
 */
int sandbox_seccomp_build(bool landlock_only, uint8_t **ret, size_t *ret_len);

/* The Landlock ABI --landlock-only needs (TCP port rules). */
#define SANDBOX_LANDLOCK_ONLY_ABI 4

/*
 * The fixed part of a --landlock-only plan, called by
 * sandbox_plan_finish(): Landlock rules for the harmless devices, the
 * terminals of our stdin/stdout/stderr and /proc (read), no mounts.
 * Returns 0 or -ENOMEM.
 */
int sandbox_landlock_only_rules(struct sandbox_plan *p);

/* The system calls the filter refuses, one name per line (--explain). */
extern const char *const sandbox_seccomp_denied[];

/* Which step of the child failed. */
enum sandbox_stage {
	SANDBOX_STAGE_USERNS,
	SANDBOX_STAGE_UIDMAP,
	SANDBOX_STAGE_LOOPBACK,
	SANDBOX_STAGE_LISTENER,
	SANDBOX_STAGE_MOUNT,
	SANDBOX_STAGE_PROC,
	SANDBOX_STAGE_PIVOT,
	SANDBOX_STAGE_LANDLOCK,
	SANDBOX_STAGE_CAPS,
	SANDBOX_STAGE_NO_NEW_PRIVS,
	SANDBOX_STAGE_SECCOMP,
	SANDBOX_STAGE_FORK,
	SANDBOX_STAGE_CWD,
	SANDBOX_STAGE_EXEC,
	SANDBOX_STAGE_PARENT, /* paddock went away during setup */
	_SANDBOX_STAGE_MAX,
};

struct sandbox_error {
	enum sandbox_stage stage;
	int err; /* errno */
	int op;  /* index of the failing op or rule, or -1 */
};

/*
 * Describe e in one line: what failed, why, and how to fix it (for
 * missing kernel features). Returns 0 or -ENOMEM.
 */
int sandbox_error_format(const struct sandbox_plan *p,
    const struct sandbox_error *e, struct buf *out);

/*
 * Start the plan. Returns as soon as the listeners exist: on success
 * *ret_pid is the child (pid 1 of the new namespace, a child of this
 * process: waitpid() it), ret_listen_fds[i] the listening socket made for
 * p->listeners[i] (caller closes), and the child finishes its setup
 * (mounts, Landlock, capabilities, seccomp) meanwhile, then waits for
 * sandbox_release() before it runs the command; sandbox_release() reports
 * a failure of that setup. Returns 0, or a negative errno with
 * *ret_error describing the failure (no child left).
 */
int sandbox_spawn(struct sandbox_plan *p, pid_t *ret_pid, int *ret_sync_fd,
    int ret_listen_fds[SANDBOX_LISTENERS_MAX], struct sandbox_error *ret_error);

/*
 * Let the child run the command (go = true) or make it exit (go = false),
 * then wait until the command is running or the rest of the setup, the
 * fork or the exec failed. Takes over
 * sync_fd. Returns 0 once the command runs (exec succeeded), or a
 * negative errno with *ret_error (the child then exits; waitpid() it).
 */
int sandbox_release(int sync_fd, bool go, struct sandbox_error *ret_error);

/*
 * sandbox_release(sync_fd, true, ...) in two halves, for a parent with
 * work to do while the command starts. sandbox_go() lets the child run
 * the command and returns at once: 0, or -EPIPE when the child has
 * already exited. sandbox_wait_exec() then waits as sandbox_release()
 * does, given what sandbox_go() returned; it takes over sync_fd.
 */
int sandbox_go(int sync_fd);
int sandbox_wait_exec(int sync_fd, int go_result,
    struct sandbox_error *ret_error);
