"""Latency the proxy adds to an exchange: an origin that writes its answer
in pieces (head then body, small chunks, trailers) must not wait for the
proxy's delayed acknowledgements (40 ms on Linux), whether the client
comes back on its connection or opens a fresh one each time (the upstream
connection is reused either way), or sends its requests through a CONNECT
tunnel."""
import os
import socket
import statistics
import sys

import pytest

from conftest import HELPERS, PYTHON, Daemon, loopback_config

sys.path.insert(0, HELPERS)
from piecewise import BODY, timed  # noqa: E402

ROUNDS = 15
# Far below the 40 ms of a delayed ACK, far above scheduling noise on a
# busy machine.
MAX_ADDED_S = 0.010


@pytest.fixture(scope="module")
def piecewise():
    d = Daemon([PYTHON, os.path.join(HELPERS, "piecewise.py")],
               r"piecewise: listening (\d+)")
    d.port = int(d.ready.group(1))
    yield d
    d.stop()


class Client:
    """Requests to one server, on one kept-alive connection, on a fresh
    connection each time, or through a CONNECT tunnel to host."""

    def __init__(self, port, fresh, tunnel=None):
        self.port = port
        self.fresh = fresh
        self.tunnel = tunnel
        self.sock = None
        self.buf = b""

    def get(self, target, host):
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port),
                                                 timeout=20)
            self.buf = b""
            if self.tunnel:
                self.sock.sendall(f"CONNECT {self.tunnel} HTTP/1.1\r\n"
                                  f"Host: {self.tunnel}\r\n\r\n".encode())
                while b"\r\n\r\n" not in self.buf:
                    self.buf += self.sock.recv(4096)
                head, self.buf = self.buf.split(b"\r\n\r\n", 1)
                assert head.startswith(b"HTTP/1.1 200"), head
        secs, body, self.buf = timed(self.sock, target, host, self.buf)
        assert body == BODY
        if self.fresh:
            self.close()
        return secs

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None


@pytest.mark.parametrize("mode", ["kept-alive", "fresh", "tunnel"])
@pytest.mark.parametrize("path", ["/split", "/chunks", "/trailers",
                                  "/whole"])
def test_pieces_of_an_answer_are_not_held_back(start_proxy, piecewise, path,
                                               mode):
    p = start_proxy(f'''default_permissions = "test"
[permissions.test.filesystem]
":root" = "read"
[permissions.test.network]
enabled = true
proxy_url = "http://127.0.0.1:0"
allow_local_binding = true
[permissions.test.network.domains]
"127.0.0.1" = "allow"
''')
    host = f"127.0.0.1:{piecewise.port}"
    fresh = mode == "fresh"
    direct = Client(piecewise.port, fresh)
    if mode == "tunnel":
        proxied, target = Client(p.port, False, tunnel=host), path
    else:
        proxied, target = Client(p.port, fresh), f"http://{host}{path}"
    # The first exchange dials; the rest reuse the upstream connection.
    direct.get(path, host)
    proxied.get(target, host)
    d, t = [], []
    for _ in range(ROUNDS):
        d.append(direct.get(path, host))
        t.append(proxied.get(target, host))
    direct.close()
    proxied.close()
    added = statistics.median(t) - statistics.median(d)
    assert added < MAX_ADDED_S, (
        f"{path}: the proxy adds {added * 1000:.1f} ms at the median "
        f"(direct {statistics.median(d) * 1000:.2f} ms, through the proxy "
        f"{statistics.median(t) * 1000:.2f} ms)")


def test_writes_to_a_client_that_delays_its_acks_are_not_held_back(
        start_proxy, piecewise):
    """The proxy's own writes never wait for Nagle's algorithm
    (TCP_NODELAY): each piece it passes on reaches a client that delays
    its acknowledgements at once. Directly, that client waits for its own
    delayed ACKs."""
    p = start_proxy(loopback_config())
    host = f"127.0.0.1:{piecewise.port}"
    c = socket.create_connection(("127.0.0.1", p.port), timeout=20)
    buf, t = b"", []
    for _ in range(ROUNDS + 1):
        secs, body, buf = timed(c, f"http://{host}/chunks", host, buf,
                                quickack=False)
        assert body == BODY
        t.append(secs)
    c.close()
    assert statistics.median(t[1:]) < MAX_ADDED_S, t
