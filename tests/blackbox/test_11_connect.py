"""CONNECT tunnels: the 200 comes only after the dial, early bytes are
kept, TLS and websockets pass, half-close works, failures say why, and a
client that vanishes leaves nothing behind."""
import base64
import hashlib
import os
import socket
import ssl
import struct
import subprocess

from conftest import Raw, loopback_config, pattern_bytes


def connect(p, target):
    c = Raw(p.port)
    c.send(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    return c


def test_curl_proxytunnel_plain_http(start_proxy, origin):
    p = start_proxy(loopback_config())
    r = subprocess.run(["curl", "-sS", "--noproxy", "", "-p", "-x", p.url,
                        f"http://127.0.0.1:{origin.port}/bytes/100"],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == pattern_bytes(100)


def test_curl_https_through_connect_verifies_the_origin(start_proxy,
                                                        tls_origin, tls_ca):
    p = start_proxy(loopback_config())
    r = subprocess.run(["curl", "-sS", "--noproxy", "", "-x", p.url,
                        "--cacert", tls_ca[0],
                        f"https://localhost:{tls_origin.port}/echo"],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert b'"method": "GET"' in r.stdout


def test_the_answer_is_connection_established(start_proxy, origin):
    p = start_proxy(loopback_config())
    c = connect(p, f"127.0.0.1:{origin.port}")
    r = c.read_response(head_only=True)
    assert r.status == 200
    assert r.raw_head == b"HTTP/1.1 200 Connection established"
    c.close()


def test_bytes_sent_right_after_the_head_are_forwarded(start_proxy, origin):
    p = start_proxy(loopback_config())
    target = f"127.0.0.1:{origin.port}"
    c = Raw(p.port)
    # Head and first tunnel bytes in one write, like a TLS client that
    # sends its ClientHello at once.
    c.send(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n"
           f"GET /bytes/20 HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    assert c.read_response(head_only=True).status == 200
    assert c.read_response().body == pattern_bytes(20)
    c.close()


def test_tls_client_hello_in_the_same_packet(start_proxy, tls_origin, tls_ca):
    p = start_proxy(loopback_config())
    target = f"localhost:{tls_origin.port}"
    ctx = ssl.create_default_context(cafile=tls_ca[0])
    out, inc = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    c = Raw(p.port)
    c.send(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode()
           + hello)
    assert c.read_response(head_only=True).status == 200
    # Finish the handshake over the tunnel.
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            if out.pending:
                c.send(out.read())
            data = c.buf or c.sock.recv(65536)
            c.buf = b""
            inc.write(data)
    tls.write(b"GET /bytes/9 HTTP/1.1\r\nHost: localhost\r\n"
              b"Connection: close\r\n\r\n")
    c.send(out.read())
    got = b""
    while True:
        try:
            got += tls.read(65536)
        except ssl.SSLWantReadError:
            data = c.sock.recv(65536)
            if not data:
                break
            inc.write(data)
        except ssl.SSLZeroReturnError:
            break
        if got.endswith(pattern_bytes(9)):
            break
    assert got.startswith(b"HTTP/1.1 200")
    assert got.endswith(pattern_bytes(9))
    c.close()


def ws_frame(payload, opcode=1):
    mask = os.urandom(4)
    head = bytes([0x80 | opcode])
    n = len(payload)
    head += bytes([0x80 | n]) if n < 126 else \
        bytes([0x80 | 126]) + struct.pack(">H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def test_websocket_through_connect(start_proxy, origin):
    p = start_proxy(loopback_config())
    target = f"127.0.0.1:{origin.port}"
    c = connect(p, target)
    assert c.read_response(head_only=True).status == 200
    key = base64.b64encode(os.urandom(16)).decode()
    c.send(f"GET /ws HTTP/1.1\r\nHost: {target}\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n".encode())
    r = c.read_response(head_only=True)
    assert r.status == 101
    want = base64.b64encode(hashlib.sha1(
        (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
        .digest()).decode()
    assert r.header("sec-websocket-accept") == want
    for msg in (b"hello", b"x" * 1000):
        c.send(ws_frame(msg))
        while len(c.buf) < 2:
            c._more()
        n = c.buf[1] & 0x7F
        hdr = 2 if n < 126 else 4
        if n == 126:
            while len(c.buf) < 4:
                c._more()
            n = struct.unpack(">H", c.buf[2:4])[0]
        while len(c.buf) < hdr + n:
            c._more()
        assert c.buf[hdr:hdr + n] == msg
        c.buf = c.buf[hdr + n:]
    c.send(ws_frame(b"", opcode=8))
    c.close()


def test_half_close_still_delivers_the_answer(start_proxy, origin):
    p = start_proxy(loopback_config())
    target = f"127.0.0.1:{origin.port}"
    c = connect(p, target)
    assert c.read_response(head_only=True).status == 200
    c.send(f"GET /bytes/50000 HTTP/1.1\r\nHost: {target}\r\n"
           "Connection: close\r\n\r\n".encode())
    c.sock.shutdown(socket.SHUT_WR)
    r = c.read_response()
    assert r.body == pattern_bytes(50000)
    assert c.is_closed()
    c.close()
    p.wait_closed(1)
    assert p.wait_for(r'"close":"done"')


def test_bulk_download_through_a_tunnel_is_intact(start_proxy, origin):
    p = start_proxy(loopback_config())
    r = subprocess.run(["curl", "-sS", "--noproxy", "", "-p", "-x", p.url,
                        f"http://127.0.0.1:{origin.port}/bytes/"
                        f"{64 << 20}"], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert hashlib.sha256(r.stdout).digest() == \
        hashlib.sha256(pattern_bytes(64 << 20)).digest()


def test_blocked_connect_is_403_text(start_proxy):
    p = start_proxy(loopback_config())
    c = connect(p, "denied.test:443")
    r = c.read_response()
    c.close()
    assert r.status == 403
    assert r.header("content-type").startswith("text/plain")
    assert r.header("x-proxy-error") == "blocked-by-denylist"
    assert r.body.strip()
    c = connect(p, "elsewhere.test:443")
    r = c.read_response()
    c.close()
    assert r.status == 403
    assert r.header("x-proxy-error") == "blocked-by-allowlist"


def test_connect_needs_an_authority_with_port(start_proxy):
    p = start_proxy(loopback_config())
    for target in ("127.0.0.1", "127.0.0.1:0", "/x", "[::1"):
        c = connect(p, target)
        r = c.read_response()
        c.close()
        assert r.status == 400, target


def test_failed_tunnels_are_answered_not_reset(start_proxy):
    p = start_proxy(loopback_config(), limits=["connect-timeout=300ms"])
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    c = connect(p, f"127.0.0.1:{port}")
    r = c.read_response()
    c.close()
    assert r.status == 502
    assert b"refused" in r.body
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    filler = socket.create_connection(hole.getsockname(), timeout=5)
    c = connect(p, f"127.0.0.1:{hole.getsockname()[1]}")
    r = c.read_response()
    c.close()
    assert r.status == 504
    filler.close()
    hole.close()


def test_a_client_killed_mid_tunnel_leaves_nothing_behind(start_proxy,
                                                         origin):
    p = start_proxy(loopback_config())
    baseline = p.sockets()
    target = f"127.0.0.1:{origin.port}"
    for i in range(5):
        c = connect(p, target)
        assert c.read_response(head_only=True).status == 200
        c.send(f"GET /bytes/{4 << 20} HTTP/1.1\r\nHost: {target}\r\n\r\n"
               .encode())
        c._more()
        # An abortive close: the client dies with unread bytes.
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack("ii", 1, 0))
        c.close()
    p.wait_closed(5)
    assert p.sockets() == baseline, p.describe_fds()
    c = connect(p, target)
    assert c.read_response(head_only=True).status == 200
    c.close()
