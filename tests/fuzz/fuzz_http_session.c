/* SPDX-License-Identifier: MIT */
/*
 * Fuzz a whole HTTP front-end session: the input is a rig script (rig.h)
 * of client bytes (pipelined requests, bodies, CONNECT and tunnel bytes),
 * origin answers and both peers' half-closes and resets. Checks, for any
 * input: no sanitizer report, no leak, the proxy connects only where the
 * policy allows, a denied name is never resolved, and the session closes
 * once both peers are gone.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"
#include "proxy/session_http.h"
#include "rig.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return rig_run(&session_http_frontend, data, size);
}
