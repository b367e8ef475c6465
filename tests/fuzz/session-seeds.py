#!/usr/bin/python3
"""Write the hand-made seeds of the session fuzz targets (rig.h scripts)
into tests/fuzz/corpus/{http,socks5}_session/seed-*. Run from anywhere;
the fuzzers grow the corpora from there."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
DECIDER, UDP, TCP, LIMITED, LOCAL_OFF = 1, 2, 4, 8, 16


def data(op, b):
    out = b""
    while True:
        out += bytes([op, min(len(b), 255)]) + b[:255]
        b = b[255:]
        if not b:
            return out


def C(b): return data(0, b)
def O(b): return data(1, b)
def U(b): return data(6, b)


CSHUT, OSHUT, ORESET, ONEXT, CRESET = b"\x02", b"\x03", b"\x04", b"\x05", b"\x07"

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
GET = b"GET http://origin.test/%d HTTP/1.1\r\nHost: origin.test\r\n\r\n"

http = {
    "get-keepalive": bytes([0]) + C(GET % 1) + O(OK) + C(GET % 2) + O(OK),
    "pipelined": bytes([0]) + C(GET % 1 + GET % 2 + GET % 3) + O(OK)
    + O(OK) + O(OK),
    "head-then-body": bytes([0]) + C(GET % 1)
    + O(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n") + O(b"0123456789"),
    "chunked-trailers": bytes([0]) + C(GET % 1)
    + O(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    + O(b"5\r\nhello\r\n") + O(b"0\r\nX-Trailer: 1\r\n\r\n") + C(GET % 2),
    "eof-framed": bytes([0]) + C(GET % 1)
    + O(b"HTTP/1.1 200 OK\r\n\r\nuntil the end") + OSHUT,
    "post-client-reset": bytes([0])
    + C(b"POST http://origin.test/up HTTP/1.1\r\nHost: origin.test\r\n"
        b"Content-Length: 100\r\n\r\npartial") + CRESET,
    "post-chunked": bytes([0])
    + C(b"POST http://origin.test/up HTTP/1.1\r\nHost: origin.test\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n")
    + O(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
    "origin-reset-mid-body": bytes([0]) + C(GET % 1)
    + O(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort") + ORESET,
    "origin-reset-before-answer": bytes([0]) + C(GET % 1) + ORESET
    + C(GET % 2) + O(OK),
    "connect-tunnel": bytes([0])
    + C(b"CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\n\r\n"
        b"\x16\x03\x01hello") + O(b"\x16\x03\x03server") + CSHUT + OSHUT,
    "denied-and-unlisted": bytes([0])
    + C(b"GET http://denied.test/ HTTP/1.1\r\nHost: denied.test\r\n\r\n"
        b"GET http://other.test/ HTTP/1.1\r\nHost: other.test\r\n\r\n"
        b"CONNECT denied.test:443 HTTP/1.1\r\n\r\n"),
    "origin-form": bytes([0])
    + C(b"GET /x HTTP/1.1\r\nHost: origin.test:8080\r\n\r\n") + O(OK),
    "ip-literal": bytes([0])
    + C(b"GET http://127.0.0.1:8080/ HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
        b"GET http://[::ffff:127.0.0.1]/ HTTP/1.1\r\nHost: x\r\n\r\n")
    + O(OK) + O(OK),
    "limited-post": bytes([LIMITED])
    + C(b"POST http://origin.test/ HTTP/1.1\r\nHost: origin.test\r\n"
        b"Content-Length: 2\r\n\r\nhi") + C(GET % 1) + O(OK),
    "decider": bytes([DECIDER])
    + C(b"GET http://asked.test/ HTTP/1.1\r\nHost: asked.test\r\n\r\n"),
    "local-off": bytes([LOCAL_OFF]) + C(GET % 1 + GET % 2),
    "head-request": bytes([TCP])
    + C(b"HEAD http://origin.test/ HTTP/1.1\r\nHost: origin.test\r\n\r\n")
    + O(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n") + C(GET % 2)
    + O(OK),
    "two-origins": bytes([0]) + C(GET % 1) + O(OK)
    + C(b"GET http://www.origin.test/ HTTP/1.1\r\nHost: www.origin.test"
        b"\r\nConnection: close\r\n\r\n") + ONEXT + O(OK),
    "expect-100": bytes([0])
    + C(b"PUT http://origin.test/ HTTP/1.1\r\nHost: origin.test\r\n"
        b"Expect: 100-continue\r\nContent-Length: 3\r\n\r\n")
    + O(b"HTTP/1.1 100 Continue\r\n\r\n") + C(b"abc") + O(OK),
}


def greet(*methods):
    return bytes([5, len(methods), *methods])


def req(cmd, host, port):
    if isinstance(host, bytes):
        dst = bytes([3, len(host)]) + host
    else:
        dst = bytes([1, *host])
    return bytes([5, cmd, 0]) + dst + struct.pack(">H", port)


socks = {
    "connect-name": bytes([0]) + C(greet(0)) + C(req(1, b"origin.test", 80))
    + C(GET % 1) + O(OK) + CSHUT + OSHUT,
    "connect-all-at-once": bytes([0])
    + C(greet(0) + req(1, b"www.origin.test", 443) + b"early bytes")
    + O(b"answer"),
    "connect-ipv4": bytes([TCP]) + C(greet(0)) + C(req(1, (127, 0, 0, 1), 22))
    + O(b"SSH-2.0-x\r\n") + ORESET,
    "denied-reason": bytes([0]) + C(greet(0, 0xA7))
    + C(req(1, b"denied.test", 443)),
    "unlisted": bytes([0]) + C(greet(0)) + C(req(1, b"other.test", 443)),
    "decider": bytes([DECIDER]) + C(greet(0xA7, 0))
    + C(req(1, b"asked.test", 443)),
    "bind-and-bad": bytes([0]) + C(greet(0)) + C(req(2, b"origin.test", 80)),
    "userpass-only": bytes([0]) + C(greet(2)),
    "udp-associate": bytes([UDP | TCP]) + C(greet(0))
    + C(req(3, (0, 0, 0, 0), 0))
    + U(bytes([0, 0, 0, 3, 11]) + b"origin.test" + struct.pack(">H", 53)
        + b"query")
    + U(bytes([0, 0, 0, 1, 127, 0, 0, 1, 0, 7]) + b"ping")
    + U(bytes([0, 0, 0, 3, 11]) + b"denied.test" + struct.pack(">H", 53)
        + b"no"),
    "udp-decider": bytes([UDP | TCP | DECIDER]) + C(greet(0))
    + C(req(3, (0, 0, 0, 0), 0))
    + U(bytes([0, 0, 0, 3, 10]) + b"asked.test" + struct.pack(">H", 53)
        + b"q"),
    "udp-off": bytes([0]) + C(greet(0)) + C(req(3, (0, 0, 0, 0), 0)),
    "local-off": bytes([LOCAL_OFF]) + C(greet(0))
    + C(req(1, b"origin.test", 80)),
    "client-reset-in-tunnel": bytes([0]) + C(greet(0))
    + C(req(1, b"origin.test", 80)) + O(b"x" * 300) + CRESET,
}

for name, seeds in (("http_session", http), ("socks5_session", socks)):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for k, v in seeds.items():
        with open(os.path.join(d, "seed-" + k), "wb") as f:
            f.write(v)
