/* SPDX-License-Identifier: MIT */
/*
 * TCP_QUICKACK (tcp(7)). Setting it leaves the delayed-ACK "ping-pong"
 * mode and pushes an acknowledgement already scheduled; the kernel sets
 * the mode again on its own after we send data within the delayed-ACK
 * timeout of receiving some, so callers ask again after each send.
 */
#include "proxy/tcpopt.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <errno.h>

int
tcpopt_quickack(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}
