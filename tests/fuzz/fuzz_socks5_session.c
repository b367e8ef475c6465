/* SPDX-License-Identifier: MIT */
/*
 * Fuzz a whole SOCKS5 session: the input is a rig script (rig.h) of
 * client bytes (greeting, request and tunnel bytes, possibly all in one
 * write), origin answers, datagrams to a UDP association and both peers'
 * half-closes and resets. Checks, for any input: no sanitizer report, no
 * leak, the proxy connects and sends datagrams only where the policy
 * allows, a denied name is never resolved, and the session closes once
 * both peers are gone.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"
#include "proxy/session_socks5.h"
#include "rig.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return rig_run(&session_socks5_frontend, data, size);
}
