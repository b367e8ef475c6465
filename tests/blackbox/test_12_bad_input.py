"""Bad input and faults: smuggling vectors, garbage, truncated, oversized
and slow heads, upstreams that reset or vanish, descriptor exhaustion and
the session cap. Every case gets its specified answer, the proxy keeps
serving, and its sockets return to the baseline."""
import socket
import struct

import pytest

from conftest import Raw, loopback_config, pattern_bytes


@pytest.fixture
def lo_proxy(start_proxy, origin):
    p = start_proxy(loopback_config(), limits=["head-timeout=500ms"])
    p.baseline = p.sockets()
    p.origin = f"127.0.0.1:{origin.port}"
    return p


def still_serving(p):
    """One more exchange works (the origin closes its side, so no pooled
    upstream connection stays behind)."""
    c = Raw(p.port)
    c.send(f"GET http://{p.origin}/close HTTP/1.1\r\nHost: {p.origin}\r\n"
           "Connection: close\r\n\r\n".encode())
    assert c.read_response().body == b"closing"
    c.close()


def refused(p, data, status, text=None):
    """Send data; expect status, then the connection's end."""
    c = Raw(p.port)
    c.send(data)
    r = c.read_response()
    assert r.status == status, (data, r.raw_head, r.body)
    if text:
        assert text in r.body, (data, r.body)
    assert r.header("connection") == "close"
    assert c.is_closed()
    c.close()
    return r


SMUGGLING = [
    ("te-and-cl", "POST {u} HTTP/1.1\r\nHost: {h}\r\nContent-Length: 4\r\n"
     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("cl-and-te", "POST {u} HTTP/1.1\r\nHost: {h}\r\nTransfer-Encoding: "
     "chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"),
    ("two-cl", "POST {u} HTTP/1.1\r\nHost: {h}\r\nContent-Length: 4\r\n"
     "Content-Length: 5\r\n\r\nabcde"),
    ("cl-list", "POST {u} HTTP/1.1\r\nHost: {h}\r\nContent-Length: 4, 5"
     "\r\n\r\nabcde"),
    ("cl-sign", "POST {u} HTTP/1.1\r\nHost: {h}\r\nContent-Length: +4"
     "\r\n\r\nabcd"),
    ("te-not-final", "POST {u} HTTP/1.1\r\nHost: {h}\r\nTransfer-Encoding: "
     "chunked, identity\r\n\r\n0\r\n\r\n"),
    ("te-twice", "POST {u} HTTP/1.1\r\nHost: {h}\r\nTransfer-Encoding: "
     "chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("obs-fold", "GET {u} HTTP/1.1\r\nHost: {h}\r\nX-Fold: a\r\n b\r\n\r\n"),
    ("obs-fold-tab", "GET {u} HTTP/1.1\r\nHost: {h}\r\nX-Fold: a\r\n\tb"
     "\r\n\r\n"),
    ("nul-in-value", "GET {u} HTTP/1.1\r\nHost: {h}\r\nX-V: a\0b\r\n\r\n"),
    ("cr-in-value", "GET {u} HTTP/1.1\r\nHost: {h}\r\nX-V: a\rb\r\n\r\n"),
    ("lf-in-value", "GET {u} HTTP/1.1\r\nHost: {h}\r\nX-V: a\nb: c\r\n\r\n"),
    ("bare-lf", "GET {u} HTTP/1.1\nHost: {h}\n\n"),
    ("space-before-colon", "GET {u} HTTP/1.1\r\nHost : {h}\r\n\r\n"),
    ("host-mismatch", "GET {u} HTTP/1.1\r\nHost: evil.test\r\n\r\n"),
]


@pytest.mark.parametrize("name,req", SMUGGLING, ids=[n for n, _ in SMUGGLING])
def test_smuggling_vectors_are_refused_and_closed(lo_proxy, name, req):
    p = lo_proxy
    data = req.format(u=f"http://{p.origin}/echo", h=p.origin).encode()
    refused(p, data, 400)
    still_serving(p)
    p.wait_closed(2)
    assert p.sockets() == p.baseline


@pytest.mark.parametrize("body", [
    b"3x\r\nabc\r\n0\r\n\r\n", b"-1\r\nx\r\n0\r\n\r\n",
    b"3 \r\nabc\r\n0\r\n\r\n", b"fffffffffffffffffff\r\n",
    b"3\r\nabcXY0\r\n\r\n"])
def test_malformed_chunk_sizes_end_the_connection(lo_proxy, body):
    p = lo_proxy
    c = Raw(p.port)
    c.send(f"POST http://{p.origin}/echo HTTP/1.1\r\nHost: {p.origin}\r\n"
           "Transfer-Encoding: chunked\r\n\r\n".encode() + body)
    r = c.read_response()
    assert r.status == 400
    assert c.is_closed()
    c.close()
    still_serving(p)
    p.wait_closed(2)
    assert p.sockets() == p.baseline


def test_garbage_and_unsupported_versions(lo_proxy):
    p = lo_proxy
    refused(p, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 64,
            400)
    refused(p, b"HELLO WORLD\r\n\r\n", 400)
    refused(p, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505)
    refused(p, f"GET http://{p.origin}/ HTTP/1.2\r\nHost: {p.origin}\r\n\r\n"
            .encode(), 505)
    refused(p, f"POST http://{p.origin}/ HTTP/1.1\r\nHost: {p.origin}\r\n"
            "Transfer-Encoding: gzip, chunked\r\n\r\n".encode(), 501)
    still_serving(p)
    p.wait_closed(6)
    assert p.sockets() == p.baseline


def test_oversized_heads_are_refused(lo_proxy):
    p = lo_proxy
    long_url = f"http://{p.origin}/" + "a" * 9000
    refused(p, f"GET {long_url} HTTP/1.1\r\nHost: {p.origin}\r\n\r\n"
            .encode(), 414)
    many = "".join(f"X-H{i}: v\r\n" for i in range(101))
    refused(p, f"GET http://{p.origin}/ HTTP/1.1\r\nHost: {p.origin}\r\n"
            f"{many}\r\n".encode(), 431)
    big = "X-Big: " + "b" * 70000 + "\r\n"
    refused(p, f"GET http://{p.origin}/ HTTP/1.1\r\nHost: {p.origin}\r\n"
            f"{big}\r\n".encode(), 431)
    still_serving(p)
    p.wait_closed(4)
    assert p.sockets() == p.baseline


def test_truncated_heads_are_forgotten(lo_proxy):
    p = lo_proxy
    for part in (b"GET http://", b"GET http://x/ HTTP/1.1\r\nHost: x\r\n",
                 b"POST http://" + p.origin.encode() + b"/digest HTTP/1.1\r\n"
                 b"Host: " + p.origin.encode() +
                 b"\r\nContent-Length: 100\r\n\r\nonly part"):
        c = Raw(p.port)
        c.send(part)
        c.sock.shutdown(socket.SHUT_WR)
        c.read_to_eof()
        c.close()
    still_serving(p)
    p.wait_closed(4)
    assert p.sockets() == p.baseline


def test_slowloris_gets_408_at_the_head_deadline(lo_proxy):
    p = lo_proxy
    c = Raw(p.port)
    c.send(b"GET http://" + p.origin.encode() + b"/ HTTP/1.1\r\n")
    # Nothing more: the (shortened) head deadline answers.
    r = c.read_response()
    assert r.status == 408
    assert c.is_closed()
    c.close()
    # A connection that never sends a byte is closed silently.
    c = Raw(p.port)
    assert c.is_closed()
    assert c.buf == b""
    c.close()
    still_serving(p)
    p.wait_closed(3)
    assert p.sockets() == p.baseline


def test_upstream_reset_mid_body_ends_the_client(lo_proxy):
    p = lo_proxy
    c = Raw(p.port)
    c.send(f"GET http://{p.origin}/reset/5000 HTTP/1.1\r\nHost: {p.origin}"
           "\r\n\r\n".encode())
    while b"\r\n\r\n" not in c.buf:
        c._more()
    assert c.buf.startswith(b"HTTP/1.1 200")
    assert c.is_closed()
    body = c.buf.split(b"\r\n\r\n", 1)[1]
    assert len(body) < 50000
    c.close()
    still_serving(p)
    p.wait_closed(2)
    assert p.wait_for(r'"close":"upstream (closed mid-response|reset)"')
    assert p.sockets() == p.baseline


def test_upstream_closing_before_answering_is_502(lo_proxy):
    p = lo_proxy
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    port = srv.getsockname()[1]
    c = Raw(p.port)
    c.send(f"GET http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}"
           "\r\n\r\n".encode())
    up, _ = srv.accept()
    up.recv(65536)
    up.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1,
                                                                   0))
    up.close()
    r = c.read_response()
    assert r.status == 502
    assert b"upstream" in r.body
    c.close()
    srv.close()
    still_serving(p)
    p.wait_closed(2)
    assert p.sockets() == p.baseline


def test_out_of_descriptors_pauses_accepting(start_proxy, origin):
    p = start_proxy(loopback_config(), nofile=64, workers=1)
    baseline = p.sockets()
    target = f"127.0.0.1:{origin.port}"
    idle = []
    # More clients than descriptors: the proxy stops accepting instead of
    # failing, and the kernel queues the rest.
    for _ in range(80):
        idle.append(socket.create_connection(("127.0.0.1", p.port)))
    p.wait_for(r"not accepting connections for now: accept: Too many open")
    for s in idle:
        s.close()
    # Every queued client is accepted in the end, and leaves.
    p.wait_closed(len(idle))
    assert p.sockets() == baseline
    c = Raw(p.port)
    c.send(f"GET http://{target}/close HTTP/1.1\r\nHost: {target}\r\n"
           "Connection: close\r\n\r\n".encode())
    assert c.read_response().body == b"closing"
    c.close()
    p.wait_closed(len(idle) + 1)
    assert p.sockets() == baseline


def test_the_session_cap_queues_instead_of_refusing(start_proxy, origin):
    p = start_proxy(loopback_config(), limits=["sessions=3"], workers=1)
    target = f"127.0.0.1:{origin.port}"
    held = [Raw(p.port) for _ in range(3)]
    for h in held:
        h.send(f"GET http://{target}/bytes/1 HTTP/1.1\r\nHost: {target}\r\n"
               "\r\n".encode())
        assert h.read_response().status == 200
    waiting = Raw(p.port)
    waiting.send(f"GET http://{target}/bytes/2 HTTP/1.1\r\nHost: {target}"
                 "\r\nConnection: close\r\n\r\n".encode())
    p.wait_for(r"not accepting connections for now: the session cap")
    held[0].close()
    assert waiting.read_response().body == pattern_bytes(2)
    waiting.close()
    for h in held[1:]:
        h.close()
