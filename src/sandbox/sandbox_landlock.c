/* SPDX-License-Identifier: MIT */
/*
 * The fixed part of a --landlock-only plan (see docs/sandbox.md, "The
 * fallback"). Without namespaces the command sees the host as it is: its
 * /dev, its /proc, its /tmp. Landlock rules grant what every program needs
 * beyond the profile's own entries: the harmless devices, the terminals
 * paddock's stdin, stdout and stderr are on (so that reopening them through
 * /dev/stdout works), and reading /proc. Other terminals and /dev/pts are
 * not granted: opening them would reach the user's other sessions.
 */
#include "sandbox/sandbox.h"

#include <sys/stat.h>

#include <errno.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <unistd.h>

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

/* Opening a device read-write, truncating it ("> /dev/null") and its
 * ioctls. */
#define SANDBOX_LANDLOCK_DEV                                            \
	(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	    LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

int
sandbox_landlock_only_rules(struct sandbox_plan *p)
{
	static const char *const devs[] = { "/dev/null", "/dev/zero",
		"/dev/full", "/dev/random", "/dev/urandom", "/dev/tty" };
	int r = 0;

	for (size_t i = 0; r >= 0 && i < sizeof(devs) / sizeof(devs[0]); i++)
		if (access(devs[i], F_OK) == 0)
			r = sandbox_plan_add_rule(p, devs[i],
			    SANDBOX_LANDLOCK_DEV);
	for (int fd = 0; r >= 0 && fd <= 2; fd++) {
		char name[128];
		struct stat st;

		if (!isatty(fd) || ttyname_r(fd, name, sizeof(name)) != 0 ||
		    stat(name, &st) < 0 || !S_ISCHR(st.st_mode))
			continue;
		r = sandbox_plan_add_rule(p, name, SANDBOX_LANDLOCK_DEV);
	}
	if (r >= 0 && access("/proc", F_OK) == 0)
		r = sandbox_plan_add_rule(p, "/proc",
		    sandbox_landlock_read(true));
	return r;
}
