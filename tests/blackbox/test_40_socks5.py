"""The SOCKS5 listener over loopback: curl with --socks5-hostname and
--socks5, raw clients for every reply code we can provoke without a
network, split and coalesced writes, bad input, and paddock connect.
Every refusal gets its specified answer, the proxy keeps serving and its
sockets return to the baseline."""
import socket
import subprocess

import pytest

from conftest import binary, pattern_bytes
from socks5util import (Association, Socks, reply_code, request,
                        socks_config, socks_port)


@pytest.fixture
def sp(start_proxy, origin):
    p = start_proxy(socks_config(), limits=["head-timeout=500ms"])
    p.socks = socks_port(p)
    p.origin_port = origin.port
    p.baseline = p.sockets()
    return p


def curl(p, flag, url):
    return subprocess.run(["curl", "-sS", "--max-time", "20", flag,
                           f"127.0.0.1:{p.socks}", url],
                          capture_output=True, timeout=30)


def still_serving(p):
    c = Socks(p.socks)
    assert c.connect("127.0.0.1", p.origin_port)[0] == 0
    c.send(b"GET /close HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert c.sock.recv(65536).startswith(b"HTTP/1.1 200")
    c.close()


def settled(p, sessions):
    """Every session so far wrote its access line; no socket is left."""
    p.wait_closed(sessions)
    assert p.sockets() == p.baseline, p.describe_fds()


def test_curl_socks5_hostname_lets_the_proxy_resolve(sp):
    r = curl(sp, "--socks5-hostname",
             f"http://localhost:{sp.origin_port}/bytes/100000")
    assert r.returncode == 0, r.stderr
    assert r.stdout == pattern_bytes(100000)
    sp.wait_for(r'"frontend":"socks5","target":"localhost:\d+",'
                r'"verdict":"allow"')


def test_curl_socks5_with_a_client_side_address(sp):
    r = curl(sp, "--socks5", f"http://127.0.0.1:{sp.origin_port}/bytes/7")
    assert r.returncode == 0, r.stderr
    assert r.stdout == pattern_bytes(7)


def test_curl_denied_host_is_0x02_and_audited(sp):
    r = curl(sp, "--socks5-hostname", "http://denied.test/")
    assert r.returncode == 97
    assert b"(2)" in r.stderr
    sp.wait_closed(1)
    sp.wait_for(r"blocked SOCKS5 CONNECT 'denied.test:80' .*: denied")
    # Audit events come from their own thread: wait for this one.
    sp.wait_for(r'^\{"event.name"(?=.*"socks5_tcp")(?=.*"deny")')
    events = [e for e in sp.audit()
              if e.get("network.transport.protocol") == "socks5_tcp"]
    assert events and events[-1]["network.policy.decision"] == "deny"
    assert events[-1]["network.policy.reason"] == "denied"
    assert events[-1]["server.address"] == "denied.test"
    assert events[-1]["http.request.method"] == "none"


def test_not_in_allowlist_is_0x02(sp):
    assert reply_code(sp.socks, b"\x05\x01\x00" +
                      request(1, "elsewhere.test", 22)) == 2
    settled(sp, 1)


def test_connection_refused_is_0x05(sp):
    # Port 1 on loopback: nothing listens there.
    assert reply_code(sp.socks, b"\x05\x01\x00" +
                      request(1, "127.0.0.1", 1)) == 5
    still_serving(sp)
    settled(sp, 2)


def test_bind_and_unknown_commands_are_0x07(sp):
    for cmd in (2, 9, 0):
        assert reply_code(sp.socks, b"\x05\x01\x00" +
                          request(cmd, "127.0.0.1", 80)) == 7
    still_serving(sp)
    settled(sp, 4)


def test_unknown_address_type_is_0x08(sp):
    assert reply_code(sp.socks, b"\x05\x01\x00\x05\x01\x00\x05\x01\x02") \
        == 8
    settled(sp, 1)


def test_bound_address_is_the_outgoing_socket(sp):
    c = Socks(sp.socks)
    code, host, port = c.connect("127.0.0.1", sp.origin_port)
    assert code == 0
    c.send(b"GET /peer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answer = b""
    while not answer.endswith(f"{host}:{port}".encode()):
        data = c.sock.recv(65536)
        assert data, answer
        answer += data
    assert host == "127.0.0.1" and port not in (0, sp.socks)
    c.close()


def test_split_writes_byte_by_byte(sp):
    c = Socks(sp.socks)
    data = (b"\x05\x02\x01\x00" + request(1, "localhost", sp.origin_port)
            + b"GET /bytes/5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    for i in range(len(data)):
        c.send(data[i:i + 1])
    assert c.method() == 0
    assert c.reply()[0] == 0
    rest = c.buf
    while not rest.endswith(pattern_bytes(5)):
        chunk = c.sock.recv(65536)
        assert chunk, rest
        rest += chunk
    c.close()


def test_greeting_request_and_data_in_one_write(sp):
    c = Socks(sp.socks)
    c.send(b"\x05\x01\x00" + request(1, "127.0.0.1", sp.origin_port) +
           b"GET /bytes/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert c.method() == 0
    assert c.reply()[0] == 0
    assert c.is_closed()
    assert c.buf.endswith(pattern_bytes(3))
    c.close()


def test_no_acceptable_method_gets_0xff_and_the_close(sp):
    c = Socks(sp.socks)
    c.send(b"\x05\x02\x02\x03")
    assert c.method() == 0xFF
    assert c.is_closed()
    c.close()
    still_serving(sp)
    settled(sp, 2)


@pytest.mark.parametrize("data", [
    b"\x05", b"\x05\x03\x00", b"\x05\x01\x00\x05\x01\x00",
    b"\x05\x01\x00\x05\x01\x00\x03\x20abc",
], ids=["version-only", "short-methods", "no-atyp", "short-domain"])
def test_truncated_handshakes_are_forgotten(sp, data):
    c = Socks(sp.socks)
    c.send(data)
    c.sock.shutdown(1)
    assert c.is_closed()
    c.close()
    still_serving(sp)
    settled(sp, 2)


def test_a_silent_client_meets_the_handshake_deadline(sp):
    c = Socks(sp.socks)
    c.send(b"\x05\x01")
    assert c.is_closed()
    c.close()
    sp.wait_for(r'"close":"SOCKS5 greeting timeout"')
    settled(sp, 1)


def test_not_socks_at_all_is_closed(sp):
    c = Socks(sp.socks)
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert c.is_closed()
    assert c.buf == b""
    c.close()
    settled(sp, 1)


def test_oversized_and_nul_domain_names(sp):
    # 255 bytes is the most the format carries: not a valid host name.
    assert reply_code(sp.socks, b"\x05\x01\x00" +
                      request(1, "a" * 255, 80)) == 2
    # A NUL inside a name could never be judged as what it says.
    assert reply_code(sp.socks, b"\x05\x01\x00\x05\x01\x00\x03\x09"
                      b"local\x00hst\x00\x50") == 1
    still_serving(sp)
    settled(sp, 3)


def test_udp_associate_when_udp_is_off_is_0x07(start_proxy):
    p = start_proxy(socks_config(udp=False))
    assert reply_code(socks_port(p), b"\x05\x01\x00" +
                      request(3, "0.0.0.0", 0)) == 7


def test_udp_associate_replies_with_the_relay_address(sp):
    a = Association(sp.socks)
    assert a.code == 0
    assert a.relay_host == "127.0.0.1" and a.relay_port not in (0, sp.socks)
    a.close()
    settled(sp, 1)


# ---------------------------------------------------------------------------
# paddock connect
# ---------------------------------------------------------------------------
def connect(p, host, port, input=b""):
    return subprocess.run([binary("paddock"), "connect", "--socks",
                           f"127.0.0.1:{p.socks}", host, str(port)],
                          input=input, capture_output=True, timeout=30)


def test_connect_relays_stdin_and_stdout(sp):
    r = connect(sp, "localhost", sp.origin_port,
                b"GET /bytes/1000 HTTP/1.1\r\nHost: x\r\n"
                b"Connection: close\r\n\r\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(b"HTTP/1.1 200")
    assert r.stdout.endswith(pattern_bytes(1000))


def test_connect_says_why_the_policy_refused(sp):
    r = connect(sp, "github.com", 22)
    assert r.returncode == 1
    assert r.stderr.decode() == ("paddock: github.com:22 blocked by policy: "
                                 "not in allowlist (blocked-by-allowlist)\n")
    r = connect(sp, "denied.test", 22)
    assert r.returncode == 1
    assert "paddock: denied.test:22 blocked by policy: denied by rule " \
        "'denied.test' at " in r.stderr.decode()
    assert r.stderr.decode().endswith("(blocked-by-denylist)\n")


def test_connect_reports_network_failures(sp):
    r = connect(sp, "127.0.0.1", 1)
    assert r.returncode == 1
    assert r.stderr.decode() == \
        "paddock: 127.0.0.1:1: connection refused by upstream\n"


def test_connect_reads_the_listener_from_the_config(paddock, workdir):
    cfg = socks_config().replace('socks5://127.0.0.1:0',
                                 'socks5://127.0.0.1:1')
    with open(f"{workdir}/config.toml", "w") as f:
        f.write(cfg)
    r = paddock("connect", "--config", f"{workdir}/config.toml",
                "--system-config", "", "--home", workdir, "--cwd", workdir,
                "example.com", "22")
    assert r.rc == 1
    assert "cannot reach the proxy's SOCKS5 listener at 127.0.0.1:1" in r.err
    assert "is 'paddock proxy' running?" in r.err


def test_connect_refuses_a_method_it_did_not_offer(paddock):
    # A server that picks username/password (0x02), which paddock connect
    # never offers: the answer after it would be misread as a reply.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    proc = subprocess.Popen([binary("paddock"), "connect", "--socks",
                             f"127.0.0.1:{srv.getsockname()[1]}",
                             "example.com", "22"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    c, _ = srv.accept()
    c.settimeout(20)
    assert c.recv(2)[0] == 5  # the greeting starts
    c.sendall(b"\x05\x02\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00")
    out, err = proc.communicate(timeout=30)
    c.close()
    srv.close()
    assert proc.returncode == 1
    assert b"accepts none of our methods" in err
    assert out == b""


def test_connect_usage(paddock):
    r = paddock("connect", "--help")
    assert r.rc == 0 and "ProxyCommand" in r.out
    assert paddock("connect", "onlyhost").rc == 2
    assert paddock("connect", "h", "notaport").rc == 2
