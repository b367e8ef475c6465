/* SPDX-License-Identifier: MIT */
/*
 * Relay sockets for SOCKS5 UDP associations made by someone else: paddock
 * run has its sandbox's child bind them inside the sandbox's network
 * namespace, where the proxy cannot bind itself. An association takes a
 * free one whose address matches the SOCKS5 listener the client reached
 * and gives it back when it ends; the longest-free one is taken first, so
 * a socket is reused as late as possible. A given-back socket is drained
 * of datagrams still queued for the association that had it.
 *
 * Thread rules: udprelay_take() and udprelay_give() may be called from
 * any worker at once; new and free from the controlling thread.
 */
#pragma once

#include <stddef.h>
#include <sys/socket.h>

struct udprelay;

/* A set of the bound UDP sockets fds[0..n) (borrowed: the set keeps
 * duplicates). Returns NULL on failure (errno-less: out of memory or
 * descriptors). */
struct udprelay *udprelay_new(const int *fds, size_t n);

/* Accepts NULL; returns NULL. Closes every socket, taken or not. */
struct udprelay *udprelay_free(struct udprelay *r);

/*
 * A free socket bound to local's IP address (any port), for one
 * association. Returns the descriptor (owned by the set: hand it back
 * with udprelay_give(), never close it), -EAGAIN when every matching
 * socket is taken, or -EADDRNOTAVAIL when none matches local.
 */
int udprelay_take(struct udprelay *r, const struct sockaddr *local);

/* Give fd back (from udprelay_take()). */
void udprelay_give(struct udprelay *r, int fd);
