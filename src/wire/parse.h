/* SPDX-License-Identifier: MIT */
/*
 * The outcome of feeding bytes to an incremental front-end parser (HTTP
 * heads and bodies now, SOCKS5 next). One read is never one message: a
 * parser consumes what it can, says how much, and leaves the rest buffered.
 */
#pragma once

enum parse_result {
	PARSE_DONE,  /* a complete unit was consumed */
	PARSE_AGAIN, /* everything offered was consumed; need more bytes */
	PARSE_ERROR, /* the input is malformed; the parser says why */
};
