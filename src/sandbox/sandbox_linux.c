/* SPDX-License-Identifier: MIT */
/*
 * Executing a plan on Linux. Everything below sandbox_child() runs in the
 * cloned child and makes system calls only: no allocation, no stdio, no
 * logging, no locks (other threads of the parent may have held any of
 * them at the clone). Failures go back to the parent as one struct
 * sandbox_error over the sync socket, and the child exits.
 *
 * The sync socket (SOCK_SEQPACKET, close-on-exec) carries, in order:
 *   child -> parent  "listening" (a struct sandbox_error with stage
 *                    _SANDBOX_STAGE_MAX) with the listening sockets, as
 *                    soon as they exist, or an error;
 *   parent -> child  one byte: 'g' to run the command, anything else (or
 *                    EOF) to exit; the child reads it once the rest of
 *                    its setup is done, so the parent starts its proxy on
 *                    the sockets while the child mounts and confines;
 *   child -> parent  an error if the rest of the setup, the fork, chdir
 *                    or exec failed, else nothing: the exec closes the
 *                    command's copy and the parent reads EOF.
 */
#include "sandbox/sandbox.h"

#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Newer than the installed headers. */
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL               (1ULL << 1)
#endif
#ifndef LANDLOCK_RULE_NET_PORT
#define LANDLOCK_RULE_NET_PORT          2
#define LANDLOCK_ACCESS_NET_BIND_TCP    (1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)

struct landlock_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV  0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008

struct mount_attr {
	uint64_t attr_set;
	uint64_t attr_clr;
	uint64_t propagation;
	uint64_t userns_fd;
};
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* The ruleset attribute of ABI 6 (the kernel takes shorter ones). */
struct sandbox_landlock_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct sandbox_msg {
	struct sandbox_error e;
	int n_fds;
};

#define SANDBOX_STAGE_READY _SANDBOX_STAGE_MAX

/* The base the new root is assembled on; private to our mount namespace,
 * so the host's directory is never touched. */
#define SANDBOX_BASE "/tmp"

static void
sandbox_send(int fd, enum sandbox_stage stage, int err, int op, const int *fds,
    int n_fds)
{
	struct sandbox_msg m = { .e = { stage, err, op }, .n_fds = n_fds };
	struct iovec iov = { &m, sizeof(m) };

	union {
		char buf[CMSG_SPACE(sizeof(int) * SANDBOX_LISTENERS_MAX)];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n_fds > 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n_fds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n_fds);
	}
	(void)sendmsg(fd, &mh, MSG_NOSIGNAL);
}

_Noreturn static void
sandbox_die(int fd, enum sandbox_stage stage, int err, int op)
{
	sandbox_send(fd, stage, err, op, NULL, 0);
	_exit(126);
}

static int
sandbox_write_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n < 0 || (size_t)n != len) {
		int r = n < 0 ? -errno : -EIO;

		(void)close(fd);
		return r;
	}
	(void)close(fd);
	return 0;
}

static int
sandbox_maps(const struct sandbox_plan *p)
{
	int r = sandbox_write_file("/proc/self/uid_map", p->uid_map);

	if (r == 0)
		r = sandbox_write_file("/proc/self/setgroups", "deny");
	if (r == 0)
		r = sandbox_write_file("/proc/self/gid_map", p->gid_map);
	return r;
}

static int
sandbox_loopback_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		r = -errno;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (r == 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		r = -errno;
	(void)close(fd);
	return r;
}

static int
sandbox_listen(const struct sandbox_listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;
	int fd = socket(l->family,
	    (l->datagram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC |
		SOCK_NONBLOCK,
	    0);

	if (fd < 0)
		return -errno;
	memset(&ss, 0, sizeof(ss));
	if (l->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(l->port);
		memcpy(&s6->sin6_addr, l->addr, 16);
		len = sizeof(*s6);
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(l->port);
		memcpy(&s4->sin_addr, l->addr, 4);
		len = sizeof(*s4);
	}
	if (!l->datagram)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (!l->datagram && listen(fd, SOMAXCONN) < 0)) {
		int r = -errno;

		(void)close(fd);
		return r;
	}
	return fd;
}

static int
sandbox_setattr(const char *path, uint64_t set, bool recursive)
{
	struct mount_attr a = { .attr_set = set };

	if (syscall(SYS_mount_setattr, AT_FDCWD, path,
		recursive ? AT_RECURSIVE : 0, &a, sizeof(a)) < 0)
		return -errno;
	return 0;
}

static int
sandbox_bind(const char *src, const char *dst, bool recursive, uint64_t set)
{
	if (mount(src, dst, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL) < 0)
		return -errno;
	return sandbox_setattr(dst, set, recursive);
}

/* Write text to a new file at path (mode 0444). */
static int
sandbox_make_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	(void)close(fd);
	if (n < 0 || (size_t)n != len)
		return n < 0 ? -EIO : -ENOSPC;
	return 0;
}

/* The text op->src read-only over op->at_dst: a regular file, or made
 * when missing and its directory allows. Otherwise nothing happens. */
static int
sandbox_file(const struct sandbox_op *op)
{
	const uint64_t ro = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
	    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	struct stat st;
	int r;

	if (lstat(op->at_dst, &st) < 0) {
		if (errno != ENOENT || mknod(op->at_dst, S_IFREG | 0444, 0) < 0)
			return 0;
	} else if (!S_ISREG(st.st_mode)) {
		return 0;
	}
	r = sandbox_make_file(op->at_src, op->src);
	if (r == 0)
		r = sandbox_bind(op->at_src, op->at_dst, false, ro);
	return r;
}

static int
sandbox_op_run(const struct sandbox_plan *p, const struct sandbox_op *op)
{
	const uint64_t ro =
	    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	int r = 0;

	switch (op->type) {
	case SANDBOX_OP_MKDIR:
		if (mkdir(op->at_dst, 0755) < 0 && errno != EEXIST)
			r = -errno;
		break;
	case SANDBOX_OP_TOUCH:
		if (mknod(op->at_dst, S_IFREG | 0444, 0) < 0 && errno != EEXIST)
			r = -errno;
		break;
	case SANDBOX_OP_BIND_RO:
		r = sandbox_bind(op->at_src, op->at_dst, true, ro);
		break;
	case SANDBOX_OP_BIND_RW:
		r = sandbox_bind(op->at_src, op->at_dst, true,
		    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
		break;
	case SANDBOX_OP_BIND_DEV:
		r = sandbox_bind(op->at_src, op->at_dst, false,
		    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
		break;
	case SANDBOX_OP_MASK_DIR:
		/* Sealed read-only once the mounts beneath it are done. */
		if (mount("tmpfs", op->at_dst, "tmpfs",
			MS_NOSUID | MS_NODEV | MS_NOEXEC,
			op->src ? op->src : "mode=000") < 0)
			r = -errno;
		break;
	case SANDBOX_OP_MASK_FILE:
		r = sandbox_bind("/.empty", op->at_dst, false,
		    ro | MOUNT_ATTR_NOEXEC);
		break;
	case SANDBOX_OP_TMPFS:
		if (mount("tmpfs", op->at_dst, "tmpfs", MS_NOSUID | MS_NODEV,
			op->src ? op->src : "mode=1777") < 0)
			r = -errno;
		break;
	case SANDBOX_OP_SYMLINK:
		if (symlink(op->src, op->at_dst) < 0 && errno != EEXIST)
			r = -errno;
		break;
	case SANDBOX_OP_DEVPTS:
		if (mount("devpts", op->at_dst, "devpts", MS_NOSUID | MS_NOEXEC,
			"newinstance,ptmxmode=0666,mode=620") < 0)
			r = -errno;
		break;
	case SANDBOX_OP_FILE:
		r = sandbox_file(op);
		break;
	case SANDBOX_OP_PROC:
		if (p->force_missing & SANDBOX_FORCE_PROC)
			r = -EPERM;
		else if (mount("proc", op->at_dst, "proc",
			     MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			r = -errno;
		break;
	default:
		r = -EINVAL;
		break;
	}
	return r;
}

/* Assemble the new root on a tmpfs at SANDBOX_BASE: the old root moves to
 * /oldroot, the new one is built at /newroot, then becomes / and the old
 * one is detached. */
static void
sandbox_mounts(int sync, const struct sandbox_plan *p)
{
	int r;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", SANDBOX_BASE, "tmpfs", MS_NOSUID | MS_NODEV,
		"mode=0755") < 0 ||
	    chdir(SANDBOX_BASE) < 0 ||
	    (mkdir("newroot", 0755) < 0 && errno != EEXIST) ||
	    (mkdir("oldroot", 0755) < 0 && errno != EEXIST) ||
	    mknod(".empty", S_IFREG | 0000, 0) < 0 ||
	    syscall(SYS_pivot_root, ".", "oldroot") < 0 || chdir("/") < 0)
		sandbox_die(sync, SANDBOX_STAGE_PIVOT, errno, -1);
	if (p->root_read) {
		r = sandbox_bind("/oldroot", "/newroot", true,
		    p->root_write ? MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV :
				    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
			    MOUNT_ATTR_NODEV);
	} else {
		r = mount("tmpfs", "/newroot", "tmpfs", MS_NOSUID | MS_NODEV,
			"mode=0755") < 0 ?
		    -errno :
		    0;
	}
	if (r < 0)
		sandbox_die(sync, SANDBOX_STAGE_MOUNT, -r, -1);
	for (size_t i = 0; i < p->n_ops; i++) {
		r = sandbox_op_run(p, &p->ops[i]);
		if (r < 0)
			sandbox_die(sync,
			    p->ops[i].type == SANDBOX_OP_PROC ?
				SANDBOX_STAGE_PROC :
				SANDBOX_STAGE_MOUNT,
			    -r, (int)i);
	}
	for (size_t i = 0; i < p->n_ops; i++) {
		if (p->ops[i].type != SANDBOX_OP_MASK_DIR)
			continue;
		r = sandbox_setattr(p->ops[i].at_dst,
		    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
		    false);
		if (r < 0)
			sandbox_die(sync, SANDBOX_STAGE_MOUNT, -r, (int)i);
	}
	/* An empty root stays empty: nothing can be created beside the
	 * mounts. */
	if (!p->root_read) {
		r = sandbox_setattr("/newroot",
		    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
		    false);
		if (r < 0)
			sandbox_die(sync, SANDBOX_STAGE_MOUNT, -r, -1);
	}
	if (umount2("/oldroot", MNT_DETACH) < 0 || chdir("/newroot") < 0 ||
	    syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		sandbox_die(sync, SANDBOX_STAGE_PIVOT, errno, -1);
}

static void
sandbox_landlock(int sync, const struct sandbox_plan *p)
{
	struct sandbox_landlock_attr attr = {
		.handled_access_fs = sandbox_landlock_all(p->landlock_abi),
	};
	size_t size = sizeof(attr.handled_access_fs);
	int rs, r;

	if (p->landlock_abi >= 6) {
		attr.scoped =
		    LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	/* Without a network namespace, Landlock is what keeps TCP to the
	 * proxy's ports: connecting elsewhere and binding are refused. */
	if (p->landlock_only) {
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP |
		    LANDLOCK_ACCESS_NET_CONNECT_TCP;
		if (size < offsetof(struct sandbox_landlock_attr, scoped))
			size = offsetof(struct sandbox_landlock_attr, scoped);
	}
	if (p->force_missing & SANDBOX_FORCE_LANDLOCK)
		sandbox_die(sync, SANDBOX_STAGE_LANDLOCK, EOPNOTSUPP, -1);
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (rs < 0)
		sandbox_die(sync, SANDBOX_STAGE_LANDLOCK, errno, -1);
	for (size_t i = 0; i < p->n_rules; i++) {
		struct landlock_path_beneath_attr pb = {
			.allowed_access = p->rules[i].access,
		};

		pb.parent_fd = open(p->rules[i].path, O_PATH | O_CLOEXEC);
		if (pb.parent_fd < 0)
			sandbox_die(sync, SANDBOX_STAGE_LANDLOCK, errno,
			    (int)i);
		r = (int)syscall(SYS_landlock_add_rule, rs,
		    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
		if (r < 0)
			sandbox_die(sync, SANDBOX_STAGE_LANDLOCK, errno,
			    (int)i);
		(void)close(pb.parent_fd);
	}
	for (size_t i = 0; p->landlock_only && i < p->n_net_ports; i++) {
		struct landlock_net_port_attr np = {
			.allowed_access = LANDLOCK_ACCESS_NET_CONNECT_TCP,
			.port = p->net_ports[i],
		};

		if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_NET_PORT,
			&np, 0) < 0)
			sandbox_die(sync, SANDBOX_STAGE_LANDLOCK, errno, -1);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		sandbox_die(sync, SANDBOX_STAGE_NO_NEW_PRIVS, errno, -1);
	/* The kernel either enforces the whole ruleset or fails here. */
	if (syscall(SYS_landlock_restrict_self, rs, 0) < 0)
		sandbox_die(sync, SANDBOX_STAGE_LANDLOCK, errno, -1);
	(void)close(rs);
}

/* Empty the bounding and ambient sets, then the effective, permitted and
 * inheritable ones: the command (even uid 0 inside) execs with none. */
static void
sandbox_drop_caps(int sync, const struct sandbox_plan *p)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	/* Outside a user namespace an unprivileged user may not shrink the
	 * bounding set (CAP_SETPCAP); with no_new_privs already set and
	 * the sets below emptied, no exec can gain a capability anyway. */
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
		    errno != EINVAL && !(p->landlock_only && errno == EPERM))
			sandbox_die(sync, SANDBOX_STAGE_CAPS, errno, cap);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		sandbox_die(sync, SANDBOX_STAGE_CAPS, errno, -1);
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) < 0)
		sandbox_die(sync, SANDBOX_STAGE_CAPS, errno, -1);
}

static void
sandbox_seccomp(int sync, const struct sandbox_plan *p)
{
	struct sock_fprog prog = {
		.len =
		    (unsigned short)(p->bpf_len / sizeof(struct sock_filter)),
		.filter = (struct sock_filter *)(void *)p->bpf,
	};

	if (p->force_missing & SANDBOX_FORCE_SECCOMP)
		sandbox_die(sync, SANDBOX_STAGE_SECCOMP, EINVAL, -1);
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		sandbox_die(sync, SANDBOX_STAGE_SECCOMP, errno, -1);
}

/* The command's process: a new session, default signal dispositions, the
 * working directory, then exec. */
_Noreturn static void
sandbox_command(int sync, const struct sandbox_plan *p)
{
	struct sigaction sa;
	sigset_t none;
	int err = ENOENT;

	(void)setsid();
	/* No pid namespace to take it down with its init. */
	if (p->landlock_only)
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (chdir(p->cwd) < 0)
		sandbox_die(sync, SANDBOX_STAGE_CWD, errno, -1);
	for (size_t i = 0; p->exec_paths[i]; i++) {
		(void)execve(p->exec_paths[i], p->argv, p->envp);
		/* Like execvp: a permission problem is remembered, a missing
		 * file is not. */
		if (errno != ENOENT && errno != ENOTDIR)
			err = errno;
	}
	sandbox_send(sync, SANDBOX_STAGE_EXEC, err, -1, NULL, 0);
	_exit(err == ENOENT ? 127 : 126);
}

struct sandbox_command_args {
	int sync;
	const struct sandbox_plan *p;
};

static int
sandbox_command_main(void *arg)
{
	const struct sandbox_command_args *a = arg;

	sandbox_command(a->sync, a->p);
}

/* pid 1: forward signals to the command's process group, reap everyone,
 * exit with the command's status. Every signal is blocked here, so the
 * ones sent from outside wait in the queue instead of being dropped (an
 * init ignores signals it has no handler for). */
/*
 * --landlock-only has no pid namespace whose end kills what is left. With
 * Landlock's signal scope (ABI 6), kill(-1) reaches exactly the processes
 * of this sandbox's domain (those outside refuse the signal); without it,
 * only the command's process group.
 */
static void
sandbox_kill_tree(const struct sandbox_plan *p, pid_t cmd)
{
	if (!p->landlock_only)
		return;
	if (p->landlock_abi >= 6)
		(void)kill(-1, SIGKILL);
	else
		(void)kill(-cmd, SIGKILL);
}

_Noreturn static void
sandbox_init(const struct sandbox_plan *p, pid_t cmd)
{
	sigset_t all;

	(void)sigfillset(&all);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);

		if (sig < 0)
			continue;
		if (p->landlock_only && sig == SIGRTMAX) {
			/* paddock died (the parent-death signal). */
			sandbox_kill_tree(p, cmd);
			_exit(128 + SIGKILL);
		}
		if (sig != SIGCHLD) {
			(void)kill(-cmd, sig);
			continue;
		}
		for (;;) {
			int status;
			pid_t w = waitpid(-1, &status, WNOHANG);

			if (w <= 0)
				break;
			if (w != cmd)
				continue;
			sandbox_kill_tree(p, cmd);
			if (WIFSIGNALED(status))
				_exit(128 + WTERMSIG(status));
			_exit(WEXITSTATUS(status));
		}
	}
}

/* Start the command and stay as its reaper: the second half of both
 * modes, once every layer is in place. */
_Noreturn static void
sandbox_child_run(int sync, const struct sandbox_plan *p)
{
	/* The command's process borrows this process's memory until its
	 * exec (CLONE_VM | CLONE_VFORK, as posix_spawn does): no page table
	 * to copy and none to tear down at the exec, which a fork of a
	 * process mapping all of paddock costs. It runs on this array of
	 * our stack while we are suspended. */
	long stack[4096];
	struct sandbox_command_args args = { sync, p };
	char go = 0;
	pid_t cmd;

	if (read(sync, &go, 1) != 1 || go != 'g')
		_exit(126);
	cmd =
	    clone(sandbox_command_main, stack + sizeof(stack) / sizeof(*stack),
		CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
	if (cmd < 0)
		sandbox_die(sync, SANDBOX_STAGE_FORK, errno, -1);
	(void)close(sync);
	sandbox_init(p, cmd);
}

/* --landlock-only: no namespaces and no mounts; Landlock (files and TCP),
 * the capabilities and seccomp on the host as it is. Orphans of the
 * command come back to this process (a subreaper) instead of the host's
 * init. */
_Noreturn static void
sandbox_child_landlock_only(int sync, const struct sandbox_plan *p)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		sandbox_die(sync, SANDBOX_STAGE_FORK, errno, -1);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	sandbox_landlock(sync, p);
	sandbox_drop_caps(sync, p);
	sandbox_seccomp(sync, p);
	sandbox_send(sync, SANDBOX_STAGE_READY, 0, -1, NULL, 0);
	sandbox_child_run(sync, p);
}

_Noreturn static void
sandbox_child(int sync, const struct sandbox_plan *p)
{
	int fds[SANDBOX_LISTENERS_MAX];
	sigset_t all;
	int r;

	(void)sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
	if (prctl(PR_SET_PDEATHSIG, p->landlock_only ? SIGRTMAX : SIGKILL, 0, 0,
		0) < 0)
		_exit(126);
	if (p->landlock_only)
		sandbox_child_landlock_only(sync, p);
	r = sandbox_maps(p);
	if (r < 0)
		sandbox_die(sync, SANDBOX_STAGE_UIDMAP, -r, -1);
	/* Not before the maps: /proc/self of a process that cannot be
	 * dumped belongs to root, and the maps could not be written. The
	 * command cannot ptrace or read the memory of this process, which
	 * keeps capabilities in the namespace until it drops them. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	r = sandbox_loopback_up();
	if (r < 0)
		sandbox_die(sync, SANDBOX_STAGE_LOOPBACK, -r, -1);
	for (size_t i = 0; i < p->n_listeners; i++) {
		fds[i] = sandbox_listen(&p->listeners[i]);
		if (fds[i] < 0)
			sandbox_die(sync, SANDBOX_STAGE_LISTENER, -fds[i],
			    (int)i);
	}
	/* The parent serves the listeners from outside; it starts doing so
	 * while we finish (a connection made before waits in the backlog,
	 * and none can be made before the command runs anyway). */
	sandbox_send(sync, SANDBOX_STAGE_READY, 0, -1, fds,
	    (int)p->n_listeners);
	for (size_t i = 0; i < p->n_listeners; i++)
		(void)close(fds[i]);
	sandbox_mounts(sync, p);
	sandbox_landlock(sync, p);
	sandbox_drop_caps(sync, p);
	sandbox_seccomp(sync, p);
	sandbox_child_run(sync, p);
}

static int
sandbox_recv(int fd, struct sandbox_error *ret_error, int *fds, size_t max)
{
	struct sandbox_msg m;
	struct iovec iov = { &m, sizeof(m) };

	union {
		char buf[CMSG_SPACE(sizeof(int) * SANDBOX_LISTENERS_MAX)];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	bool reset = false;
	ssize_t n;
	size_t got = 0;

	/* A child that exits with our go unread resets the pair, and a
	 * seqpacket socket reports that before the reason the child sent
	 * first: the error is reported once, the message is read next. */
	for (;;) {
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		if (n >= 0 ||
		    (errno != EINTR && (errno != ECONNRESET || reset)))
			break;
		reset = reset || errno == ECONNRESET;
	}
	if (n == 0)
		return 0; /* EOF */
	if (n != (ssize_t)sizeof(m)) {
		*ret_error = (struct sandbox_error){ SANDBOX_STAGE_PARENT,
			n < 0 ? errno : EPROTO, -1 };
		return -EPROTO;
	}
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (got < max)
				fds[got++] = f;
			else
				(void)close(f);
		}
	}
	if (m.e.stage != SANDBOX_STAGE_READY) {
		for (size_t i = 0; i < got; i++)
			(void)close(fds[i]);
		*ret_error = m.e;
		return -m.e.err ? -m.e.err : -EIO;
	}
	if (got != (size_t)m.n_fds) {
		for (size_t i = 0; i < got; i++)
			(void)close(fds[i]);
		*ret_error = (struct sandbox_error){ SANDBOX_STAGE_LISTENER,
			EPROTO, -1 };
		return -EPROTO;
	}
	return 1;
}

int
sandbox_spawn(struct sandbox_plan *p, pid_t *ret_pid, int *ret_sync_fd,
    int ret_listen_fds[SANDBOX_LISTENERS_MAX], struct sandbox_error *ret_error)
{
	struct clone_args ca = {
		.flags = p->landlock_only ?
		    0 :
		    CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
			CLONE_NEWIPC | CLONE_NEWUTS,
		.exit_signal = SIGCHLD,
	};
	int sv[2], status, r;
	pid_t pid;

	*ret_error = (struct sandbox_error){ SANDBOX_STAGE_USERNS, 0, -1 };
	if ((p->force_missing & SANDBOX_FORCE_USERNS) && !p->landlock_only) {
		ret_error->err = EPERM;
		return -EPERM;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		ret_error->err = errno;
		ret_error->stage = SANDBOX_STAGE_FORK;
		return -ret_error->err;
	}
	pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0) {
		(void)close(sv[0]);
		sandbox_child(sv[1], p);
	}
	(void)close(sv[1]);
	if (pid < 0) {
		ret_error->err = errno;
		(void)close(sv[0]);
		return -ret_error->err;
	}
	for (size_t i = 0; i < SANDBOX_LISTENERS_MAX; i++)
		ret_listen_fds[i] = -1;
	r = sandbox_recv(sv[0], ret_error, ret_listen_fds, p->n_listeners);
	if (r <= 0) {
		if (r == 0)
			*ret_error =
			    (struct sandbox_error){ SANDBOX_STAGE_PARENT, EPIPE,
				    -1 };
		(void)close(sv[0]);
		(void)kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		return r < 0 ? r : -EPIPE;
	}
	*ret_pid = pid;
	*ret_sync_fd = sv[0];
	return 0;
}

/* Send the child its one-byte answer: 'g' (go) or 'q' (quit). */
static int
sandbox_answer(int sync_fd, char c)
{
	ssize_t n;

	do
		n = send(sync_fd, &c, 1, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -EPIPE;
}

int
sandbox_go(int sync_fd)
{
	return sandbox_answer(sync_fd, 'g');
}

int
sandbox_wait_exec(int sync_fd, int go_result, struct sandbox_error *ret_error)
{
	/* A child whose setup failed has sent why and exited: the go was
	 * not delivered, the reason is still there to read. */
	int r = sandbox_recv(sync_fd, ret_error, NULL, 0);

	if (r == 0 && go_result < 0) {
		*ret_error =
		    (struct sandbox_error){ SANDBOX_STAGE_FORK, EPIPE, -1 };
		r = -EPIPE;
	}
	(void)close(sync_fd);
	return r > 0 ? -EPROTO : r;
}

int
sandbox_release(int sync_fd, bool go, struct sandbox_error *ret_error)
{
	if (go)
		return sandbox_wait_exec(sync_fd, sandbox_go(sync_fd),
		    ret_error);
	(void)sandbox_answer(sync_fd, 'q');
	(void)close(sync_fd);
	return 0;
}
