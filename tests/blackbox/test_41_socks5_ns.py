"""SOCKS5 to public-looking hosts inside a private network namespace the
test creates (no route off the machine): the reply codes that need DNS
and routes, local/private protection, and UDP ASSOCIATE with a UDP echo
server and the test DNS server, strangers, fragments and denials.

Raw clients open their sockets from a thread that joined the namespace
(setns affects only the calling thread), then use them from the test."""
import ctypes
import os
import shutil
import socket
import struct
import tempfile
import threading

import pytest

from conftest import (DEAD_V6, HELPERS, ORIGIN_V4, ORIGIN_V6, PYTHON,
                      Daemon, NetNS, Proxy, network_config, start_origin)
from socks5util import (SOCKS_EXTRA, Association, Socks, reply_code,
                        request, socks_port)

ECHO_PORT = 7007
ZONE = {
    "origin.test": {"A": [ORIGIN_V4], "AAAA": [ORIGIN_V6]},
    "private.test": {"A": ["10.1.2.3"]},
    "slow.test": {"drop": True},
    "dead.test": {"AAAA": [DEAD_V6]},
    # Inside the namespace nothing routes there: connect() fails at once.
    "noroute.test": {"A": ["93.184.215.99"]},
    "blocked.test": {"A": [ORIGIN_V4]},
}
DOMAINS = {"*.test": "allow", "blocked.test": "deny",
           # The namespace's DNS server, allowed by name so UDP can reach it.
           "127.0.0.1": "allow"}


@pytest.fixture(scope="module")
def ns():
    d = tempfile.mkdtemp(prefix="paddock-ns-")
    n = NetNS(d, ZONE)
    n.origin = start_origin(n.enter, bind=ORIGIN_V4, port=80)
    n.echo = Daemon([*n.enter, PYTHON, os.path.join(HELPERS, "udpecho.py"),
                     "--bind", ORIGIN_V4, "--port", str(ECHO_PORT)],
                    r"udp: listening")
    yield n
    n.echo.stop()
    n.origin.stop()
    n.close()
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def ns_socks(ns, workdir):
    started = []

    def start(local_binding=False, limits=()):
        d = tempfile.mkdtemp(dir=workdir)
        cfg = network_config(DOMAINS, local_binding=local_binding,
                             socks=True,
                             extra=SOCKS_EXTRA.format(udp="true"))
        p = Proxy(d, cfg, limits=limits, enter=ns.enter)
        p.socks = socks_port(p)
        started.append(p)
        return p
    yield start
    for p in started:
        p.finish()


_libc = ctypes.CDLL(None, use_errno=True)


def in_ns(ns, fn):
    """Run fn in a thread that joined the namespace's network; sockets it
    opens stay there."""
    out = {}

    def run():
        fd = os.open(f"/proc/{ns.holder.pid}/ns/net", os.O_RDONLY)
        try:
            if _libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
                out["skip"] = os.strerror(ctypes.get_errno())
                return
        finally:
            os.close(fd)
        try:
            out["value"] = fn()
        except BaseException as e:  # handed to the test thread
            out["error"] = e
    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "skip" in out:
        pytest.skip(f"cannot join the test namespace: {out['skip']}")
    if "error" in out:
        raise out["error"]
    return out["value"]


def curl(ns, p, url):
    return ns.run("curl", "-sS", "--max-time", "20", "--socks5-hostname",
                  f"127.0.0.1:{p.socks}", url, check=False)


# ---------------------------------------------------------------------------
# TCP
# ---------------------------------------------------------------------------
def test_curl_reaches_a_public_name(ns, ns_socks):
    p = ns_socks()
    r = curl(ns, p, "http://origin.test/bytes/10")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) == 10


def test_a_name_resolving_to_a_private_address_is_0x02(ns, ns_socks):
    p = ns_socks()
    r = curl(ns, p, "http://private.test/")
    assert r.returncode == 97 and b"(2)" in r.stderr, r.stderr
    p.wait_for(r"blocked SOCKS5 CONNECT 'private.test:80' .*not_allowed_local")


def test_network_failures_get_their_reply_codes(ns, ns_socks):
    p = ns_socks(local_binding=True,
                 limits=["connect-timeout=300ms", "dns-timeout=300ms"])
    cases = [("nxdomain.test", 80, 4),   # no such name
             ("slow.test", 80, 4),       # the lookup timed out
             ("noroute.test", 80, 3),    # network unreachable
             ("origin.test", 81, 5),     # refused
             ("dead.test", 80, 6)]       # the connect timed out
    for host, port, code in cases:
        got = in_ns(ns, lambda: reply_code(
            p.socks, b"\x05\x01\x00" + request(1, host, port)))
        assert got == code, (host, got)
        # curl names the reply code it got.
        r = curl(ns, p, f"http://{host}:{port}/")
        assert r.returncode == 97, (host, r.stderr)
        assert f"({code})".encode() in r.stderr, (host, r.stderr)


# ---------------------------------------------------------------------------
# UDP ASSOCIATE
# ---------------------------------------------------------------------------
def associate(ns, p):
    a = in_ns(ns, lambda: Association(p.socks))
    assert a.code == 0
    return a


def test_udp_echo_by_name(ns, ns_socks):
    p = ns_socks()
    a = associate(ns, p)
    a.sendto(b"hello by name", "origin.test", ECHO_PORT)
    host, port, payload = a.recv()
    assert (host, port, payload) == (ORIGIN_V4, ECHO_PORT, b"hello by name")
    # The verdict is cached: the next datagram needs no new lookup.
    lookups = ns.dns_queries("origin.test")
    a.sendto(b"again", "origin.test", ECHO_PORT)
    assert a.recv()[2] == b"again"
    assert ns.dns_queries("origin.test") == lookups
    a.close()


def dns_query(name, qid=0x4242):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", 1, 1)


def test_a_dns_query_through_the_association(ns, ns_socks):
    p = ns_socks()
    a = associate(ns, p)
    a.sendto(dns_query("origin.test"), "127.0.0.1", 53)
    host, port, answer = a.recv()
    assert (host, port) == ("127.0.0.1", 53)
    assert answer[:2] == b"\x42\x42"
    assert socket.inet_aton(ORIGIN_V4) in answer
    a.close()


def test_denied_destinations_are_dropped_and_the_association_goes_on(
        ns, ns_socks):
    p = ns_socks()
    a = associate(ns, p)
    a.sendto(b"to the denylist", "blocked.test", ECHO_PORT)
    a.sendto(b"to a private name", "private.test", ECHO_PORT)
    # An IP destination is judged as an IP literal: "*.test" says nothing.
    a.sendto(b"to a bare address", ORIGIN_V4, ECHO_PORT)
    a.sendto(b"still here", "origin.test", ECHO_PORT)
    assert a.recv()[2] == b"still here"
    p.wait_for(r"blocked UDP to 'blocked.test':7007 .*: denied")
    p.wait_for(r"blocked UDP to 'private.test':7007 .*: not_allowed_local")
    p.wait_for(rf"blocked UDP to '{ORIGIN_V4}':7007 .*: not_allowed")
    for dropped in (b"to the denylist", b"to a private name",
                    b"to a bare address"):
        assert dropped.hex() not in ns.echo.text()
    a.close()
    p.wait_for(r'^\{"event.name"(?=.*"socks5_udp")(?=.*"deny")', 3)
    udp = [e for e in p.audit()
           if e.get("network.transport.protocol") == "socks5_udp"]
    denied = {e["server.address"] for e in udp
              if e["network.policy.decision"] == "deny"}
    assert {"blocked.test", "private.test", ORIGIN_V4} <= denied


def test_strangers_and_fragments_are_dropped(ns, ns_socks):
    p = ns_socks()
    a = associate(ns, p)
    a.sendto(b"first", "origin.test", ECHO_PORT)
    assert a.recv()[2] == b"first"
    stranger = in_ns(ns, lambda: socket.socket(socket.AF_INET,
                                               socket.SOCK_DGRAM))
    in_ns(ns, lambda: stranger.bind(("127.0.0.1", 0)))
    a.sendto(b"from a stranger", "origin.test", ECHO_PORT, sock=stranger)
    a.sendto(b"a fragment", "origin.test", ECHO_PORT, frag=1)
    a.sendto(b"last", "origin.test", ECHO_PORT)
    assert a.recv()[2] == b"last"
    text = ns.echo.text()
    assert b"from a stranger".hex() not in text
    assert b"a fragment".hex() not in text
    stranger.close()
    a.close()


def test_the_association_ends_with_its_connection(ns, ns_socks):
    p = ns_socks()
    baseline = p.sockets()
    a = associate(ns, p)
    a.sendto(b"x", "origin.test", ECHO_PORT)
    assert a.recv()[2] == b"x"
    a.ctl.close()
    p.wait_closed(1)
    assert p.sockets() == baseline, p.describe_fds()
    a.udp.close()


def test_the_association_ends_when_idle(ns, ns_socks):
    p = ns_socks(limits=["idle-timeout=300ms"])
    a = associate(ns, p)
    p.wait_for(r'"close":"UDP association idle timeout"')
    assert a.ctl.is_closed()
    a.close()
