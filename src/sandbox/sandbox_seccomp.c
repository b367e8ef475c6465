/* SPDX-License-Identifier: MIT */
/*
 * The seccomp filter, compiled with libseccomp in the parent (libseccomp
 * allocates, which the child must not) and exported as a BPF program the
 * child installs with one prctl().
 *
 * Default allow; the calls that could undo the other layers or reach the
 * kernel's riskier surfaces fail with EPERM: ptrace and process_vm_*,
 * io_uring, mount and the new mount API, pivot_root, chroot, new
 * namespaces (unshare, setns, clone with CLONE_NEW*; clone3 fails with
 * ENOSYS so that libc falls back to clone, whose flags a filter can see),
 * keyctl, bpf, perf_event_open, userfaultfd, kexec and module loading,
 * and the TIOCSTI/TIOCLINUX ioctls. Sockets: AF_UNIX, AF_INET, AF_INET6
 * and netlink route only; no raw sockets. Calls of a foreign architecture
 * (the i386 and x32 ABIs on x86_64) kill the process.
 */
#include "sandbox/sandbox.h"

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include <seccomp.h>

#include "util/cleanup.h"

#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

const char *const sandbox_seccomp_denied[] = {
	"ptrace",
	"process_vm_readv",
	"process_vm_writev",
	"io_uring_setup",
	"io_uring_enter",
	"io_uring_register",
	"mount",
	"umount2",
	"pivot_root",
	"chroot",
	"fsopen",
	"fsconfig",
	"fsmount",
	"fspick",
	"open_tree",
	"move_mount",
	"mount_setattr",
	"unshare",
	"setns",
	"keyctl",
	"add_key",
	"request_key",
	"bpf",
	"perf_event_open",
	"userfaultfd",
	"kexec_load",
	"kexec_file_load",
	"init_module",
	"finit_module",
	"delete_module",
	"name_to_handle_at",
	"open_by_handle_at",
	NULL,
};

/* socket() families that are refused: every one below AF_NETLINK except
 * AF_UNIX, AF_INET and AF_INET6, and everything above it. */
static int
sandbox_seccomp_sockets(scmp_filter_ctx ctx)
{
	int r = 0;

	for (int af = 0; af < AF_NETLINK && r == 0; af++) {
		if (af == AF_UNIX || af == AF_INET || af == AF_INET6)
			continue;
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT),
		    SCMP_SYS(socket), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, (unsigned)af));
	}
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT),
		    SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_GT, AF_NETLINK));
	/* Netlink only for route (interface and address listing). */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    SCMP_SYS(socket), 2,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, AF_NETLINK),
		    SCMP_A2(SCMP_CMP_NE, NETLINK_ROUTE));
	/* No raw IP sockets (SOCK_RAW or SOCK_PACKET in the low bits of the
	 * type); netlink route needs SOCK_RAW and keeps it. */
	for (size_t i = 0; i < 4 && r == 0; i++) {
		int af = i % 2 ? AF_INET6 : AF_INET;
		int type = i < 2 ? SOCK_RAW : SOCK_PACKET;

		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    SCMP_SYS(socket), 2,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, (unsigned)af),
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, (unsigned)type));
	}
	return r;
}

/*
 * --landlock-only: Landlock's network rules see TCP only, so every other
 * inet socket is refused at creation: datagrams (UDP, ICMP ping sockets),
 * SEQPACKET, RDM and DCCP, and the stream protocols that are not TCP
 * (SCTP, MPTCP). The type's flags (SOCK_CLOEXEC, SOCK_NONBLOCK) live
 * above the low four bits and are ignored.
 */
static int
sandbox_seccomp_tcp_only(scmp_filter_ctx ctx)
{
	static const unsigned types[] = { SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RDM,
		SOCK_DCCP };
	static const unsigned protos[] = { IPPROTO_SCTP, IPPROTO_MPTCP };
	static const unsigned afs[] = { AF_INET, AF_INET6 };
	int r = 0;

	for (size_t a = 0; a < 2 && r == 0; a++) {
		for (size_t i = 0;
		     i < sizeof(types) / sizeof(types[0]) && r == 0; i++)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
			    SCMP_SYS(socket), 2,
			    SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, afs[a]),
			    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, types[i]));
		for (size_t i = 0;
		     i < sizeof(protos) / sizeof(protos[0]) && r == 0; i++)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
			    SCMP_SYS(socket), 2,
			    SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, afs[a]),
			    SCMP_A2(SCMP_CMP_MASKED_EQ, 0xffffffffu,
				protos[i]));
	}
	return r;
}

static int
sandbox_seccomp_rules(scmp_filter_ctx ctx)
{
	static const unsigned long ns_flags[] = { CLONE_NEWNS, CLONE_NEWCGROUP,
		CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
		CLONE_NEWNET };
	static const unsigned long ioctls[] = { TIOCSTI, TIOCLINUX };
	int r = 0;

	for (size_t i = 0; sandbox_seccomp_denied[i] && r == 0; i++) {
		int nr =
		    seccomp_syscall_resolve_name(sandbox_seccomp_denied[i]);

		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]) && r == 0;
	     i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
		    SCMP_SYS(clone3), 0);
	/* The kernel reads the request as an unsigned int: compare the low
	 * 32 bits only, or high garbage would slip past. */
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]) && r == 0;
	     i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    SCMP_SYS(ioctl), 1,
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, ioctls[i]));
	if (r == 0)
		r = sandbox_seccomp_sockets(ctx);
	return r;
}

int
sandbox_seccomp_build(bool landlock_only, uint8_t **ret, size_t *ret_len)
{
	scmp_filter_ctx ctx;
	_cleanup_close_ int fd = -1;
	uint8_t *bpf = NULL;
	off_t len;
	int r;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	/* no_new_privs is set by the child itself, in its own step. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
		    SCMP_ACT_KILL_PROCESS);
	if (r == 0)
		r = sandbox_seccomp_rules(ctx);
	if (r == 0 && landlock_only)
		r = sandbox_seccomp_tcp_only(ctx);
	if (r < 0)
		goto out;
	fd = memfd_create("paddock-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		goto out;
	len = lseek(fd, 0, SEEK_END);
	if (len <= 0 || len % 8 != 0) {
		r = -EINVAL;
		goto out;
	}
	bpf = malloc((size_t)len);
	if (!bpf) {
		r = -ENOMEM;
		goto out;
	}
	if (pread(fd, bpf, (size_t)len, 0) != len) {
		free(bpf);
		r = -EIO;
		goto out;
	}
	*ret = bpf;
	*ret_len = (size_t)len;
	r = 0;
out:
	seccomp_release(ctx);
	return r;
}
