/* SPDX-License-Identifier: MIT */
/*
 * TCP socket options the proxy sets on the sockets it relays for, so that
 * neither end's TCP timers add latency to an exchange: Linux's
 * TCP_QUICKACK here (tcpopt_linux.c); another platform gets its own file.
 *
 * Why quick acknowledgements matter: an origin that writes a response's
 * head and body in two writes (Python's http.server, many frameworks) has
 * Nagle's algorithm hold the body back until the head is acknowledged.
 * On a connection that has carried a request and an answer, the kernel
 * delays that acknowledgement by up to 40 ms hoping to piggyback it on
 * data (its "ping-pong" mode, entered whenever we send soon after
 * receiving). Leaving that mode pushes the pending acknowledgement out,
 * and until we send again the kernel acknowledges each small segment when
 * it is read.
 *
 * Thread rules: none; these only make system calls on a borrowed fd.
 */
#pragma once

/*
 * Acknowledge what arrives on fd without delay until we next send on it
 * (the kernel re-enters the delaying mode then), and send an
 * acknowledgement that is already pending now. fd is borrowed. Returns 0
 * or a negative errno; a failure only costs latency, so callers may
 * ignore it.
 */
int tcpopt_quickack(int fd);
