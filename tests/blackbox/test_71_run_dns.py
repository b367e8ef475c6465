"""paddock run: DNS inside the sandbox, and SOCKS5 UDP from inside it.

Every test runs as root and as nobody (the box fixture of
test_70_runner). The sandboxed command's /etc/resolv.conf names a DNS
server in its own network namespace that paddock answers: allowed names
from paddock's own resolver, REFUSED for the rest, each question audited
with protocol dns. The tests that need paddock's resolver to answer run
paddock inside a private network namespace (conftest.NetNS) whose test
DNS server knows the names; the others ask only names the policy refuses
or localhost names, which are never looked up. All traffic stays on
loopback.
"""
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading

import pytest

from conftest import NetNS
from test_70_runner import (NOBODY, PYTHON, Box, landlock_works,
                            userns_works)

ZONE = {
    "allowed.test": {"A": ["127.0.0.1"], "AAAA": ["::1"]},
    "v4only.allowed.test": {"A": ["127.0.0.9"]},
    "denied.test": {"A": ["127.0.0.1"]},
    "unlisted.test": {"A": ["127.0.0.1"]},
}

RESOLV = ("# paddock run: names are answered by paddock, within the network\n"
          "# policy of the permission profile.\n"
          "nameserver 127.0.0.1\n"
          "options edns0\n")


def net(domains, denied=(), socks=False, udp=False, local=True):
    text = ('enabled = true\n'
            f'allowed_domains = {json.dumps(domains)}\n'
            f'denied_domains = {json.dumps(list(denied))}\n'
            f'allow_local_binding = {str(local).lower()}\n'
            'proxy_url = "http://127.0.0.1:0"\n')
    if socks:
        text += ('enable_socks5 = true\n'
                 'socks_url = "socks5://127.0.0.1:0"\n'
                 f'enable_socks5_udp = {str(udp).lower()}\n')
    return text


class NsBox(Box):
    """A Box whose paddock runs inside a network namespace (enter)."""

    enter = []

    def argv(self, *args, cmd):
        return [*self.enter, *super().argv(*args, cmd=cmd)]


@pytest.fixture(params=["root", "nobody"])
def box(request):
    uid = 0 if request.param == "root" else NOBODY
    if not userns_works(uid):
        pytest.skip(f"user namespaces are unavailable to uid {uid}")
    if not landlock_works():
        pytest.skip("the kernel has no Landlock")
    b = NsBox(uid)
    yield b
    b.cleanup()


@pytest.fixture(scope="module")
def ns():
    d = tempfile.mkdtemp(prefix="paddock-ns-")
    n = NetNS(d, ZONE)
    yield n
    n.close()
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def nsbox(box, ns):
    box.enter = ns.enter
    return box


def audit_path(box):
    path = os.path.join(box.root, "audit.jsonl")
    return path


def dns_events(path):
    with open(path) as f:
        events = [json.loads(line) for line in f if line.strip()]
    return [e for e in events
            if e["network.transport.protocol"] == "dns"]


# ---------------------------------------------------------------------------
# Resolution through paddock.
# ---------------------------------------------------------------------------

def test_allowed_name_resolves_through_paddocks_resolver(nsbox, ns):
    nsbox.write_config(network=net(["allowed.test", "*.allowed.test"]))
    audit = audit_path(nsbox)
    r = nsbox.py(
        "import socket\n"
        "def addrs(name, fam):\n"
        "    return sorted({a[4][0] for a in socket.getaddrinfo(\n"
        "        name, 80, fam, socket.SOCK_STREAM)})\n"
        "print(addrs('allowed.test', socket.AF_INET))\n"
        "print(addrs('allowed.test', socket.AF_INET6))\n"
        "print(addrs('v4only.allowed.test', socket.AF_UNSPEC))\n",
        args=("--audit", audit))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "['127.0.0.1']\n['::1']\n['127.0.0.9']\n"
    # paddock's resolver asked the namespace's test server.
    assert ns.dns_queries("allowed.test") > 0
    ev = dns_events(audit)
    assert ev and all(e["network.policy.decision"] == "allow" for e in ev)
    assert {e["server.address"] for e in ev} == {"allowed.test",
                                                 "v4only.allowed.test"}


def test_getent_resolves_an_allowed_name(nsbox, ns):
    # getent ahosts: AF_UNSPEC with AI_ADDRCONFIG. (ahostsv4 fails: with
    # only loopback in the namespace, glibc's AI_ADDRCONFIG finds no
    # IPv4 configured; see docs/sandbox.md.)
    nsbox.write_config(network=net(["allowed.test"]))
    r = nsbox.sh("getent ahosts allowed.test")
    assert r.returncode == 0, r.stderr
    assert {line.split()[0] for line in r.stdout.splitlines()} == {
        "127.0.0.1", "::1"}


def test_denied_and_unlisted_names_are_refused_and_audited(nsbox, ns):
    nsbox.write_config(network=net(["allowed.test"], denied=["denied.test"]))
    audit = audit_path(nsbox)
    before = ns.dns_queries("denied.test") + ns.dns_queries("unlisted.test")
    r = nsbox.py(
        "import socket\n"
        "for name in ('denied.test', 'unlisted.test'):\n"
        "    try:\n"
        "        socket.getaddrinfo(name, 80)\n"
        "        print(name, 'resolved')\n"
        "    except socket.gaierror as e:\n"
        "        print(name, 'failed')\n",
        args=("--audit", audit))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "denied.test failed\nunlisted.test failed\n"
    # A refused name is never looked up.
    after = ns.dns_queries("denied.test") + ns.dns_queries("unlisted.test")
    assert after == before
    reasons = {(e["server.address"], e["network.policy.reason"])
               for e in dns_events(audit)}
    assert reasons == {("denied.test", "denied"),
                       ("unlisted.test", "not_allowed")}
    assert all(e["network.policy.decision"] == "deny"
               for e in dns_events(audit))


def test_local_answers_are_refused_without_allow_local_binding(nsbox, ns):
    # As for a CONNECT: an allowed name that leads to a local address is
    # refused (not_allowed_local) unless allow_local_binding is on; a
    # name that does not exist is NXDOMAIN.
    nsbox.write_config(network=net(["*.allowed.test", "allowed.test"],
                                   local=False))
    audit = audit_path(nsbox)
    r = nsbox.py(
        "import socket\n"
        "for name in ('allowed.test', 'missing.allowed.test'):\n"
        "    try:\n"
        "        socket.getaddrinfo(name, 80)\n"
        "        print(name, 'resolved')\n"
        "    except socket.gaierror as e:\n"
        "        print(name, e.errno == socket.EAI_NONAME)\n",
        args=("--audit", audit))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "allowed.test False\nmissing.allowed.test True\n"
    reasons = {(e["server.address"], e["network.policy.reason"])
               for e in dns_events(audit)}
    assert ("allowed.test", "not_allowed_local") in reasons
    nsbox.write_config(network=net(["*.allowed.test"], local=True))
    r = nsbox.py(
        "import socket\n"
        "try:\n"
        "    socket.getaddrinfo('missing.allowed.test', 80)\n"
        "    print('resolved')\n"
        "except socket.gaierror as e:\n"
        "    print(e.errno == socket.EAI_NONAME)\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "True\n"


# ---------------------------------------------------------------------------
# The listener and resolv.conf.
# ---------------------------------------------------------------------------

def raw_dns_script(queries):
    """A script that sends each hex datagram of queries to 127.0.0.1:53,
    then one valid query (ID 0x7777) for ok.localhost, and prints every
    reply's ID and RCODE in arrival order up to the valid one's."""
    return (
        "import socket, struct\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "s.settimeout(10)\n"
        f"for q in {queries!r}:\n"
        "    s.sendto(bytes.fromhex(q), ('127.0.0.1', 53))\n"
        "ok = struct.pack('>HHHHHH', 0x7777, 0x0100, 1, 0, 0, 0)\n"
        "ok += b'\\x02ok\\x09localhost\\x00\\x00\\x01\\x00\\x01'\n"
        "s.sendto(ok, ('127.0.0.1', 53))\n"
        "while True:\n"
        "    m = s.recv(2048)\n"
        "    qid, flags, qd, an = struct.unpack('>HHHH', m[:8])\n"
        "    print(hex(qid), flags & 15, an)\n"
        "    if qid == 0x7777:\n"
        "        print(socket.inet_ntoa(m[-4:]))\n"
        "        break\n")


def header(qid, flags=0x0100, qd=1, an=0, ns_=0, ar=0):
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns_, ar)


Q_A = b"\x01a\x04test\x00\x00\x01\x00\x01"


def test_malformed_datagrams_get_formerr_or_nothing(box):
    box.write_config(network=net(["*.localhost"]))
    queries = [
        b"\x12\x34\x01",                          # no header: nothing
        header(0x1001, flags=0x8180) + Q_A,       # an answer: nothing
        header(0x1002, qd=2) + Q_A + Q_A,         # two questions
        header(0x1003) + b"\xc0\x0c\x00\x01\x00\x01",  # a pointer loop
        header(0x1004) + b"\x05ab",               # truncated name
        header(0x1005, ar=1) + Q_A + b"\x00\x00",  # a cut OPT record
        header(0x1006) + b"\x03a.b\x00\x00\x01\x00\x01",  # a dot in a label
        header(0x1007, flags=0x2800) + Q_A,       # UPDATE
    ]
    r = box.py(raw_dns_script([q.hex() for q in queries]))
    assert r.returncode == 0, r.stderr
    # FORMERR 1, REFUSED 5, NOTIMP 4, in order; nothing for the first
    # two; then the valid question's answer, from the same server.
    assert r.stdout.splitlines() == [
        "0x1002 1 0", "0x1003 1 0", "0x1004 1 0", "0x1005 1 0",
        "0x1006 5 0", "0x1007 4 0", "0x7777 0 1", "127.0.0.1"]


def test_resolv_conf_names_paddocks_server_only_with_the_network(box):
    with open("/etc/resolv.conf") as f:
        host = f.read()
    box.write_config(network=net(["*.localhost"]))
    r = box.sh("cat /etc/resolv.conf")
    assert r.returncode == 0, r.stderr
    assert r.stdout == RESOLV
    with open("/etc/resolv.conf") as f:
        assert f.read() == host  # the host's file is untouched
    # Network disabled: the host's file, and nobody on port 53.
    box.write_config()
    r = box.py(
        "import socket\n"
        "print(open('/etc/resolv.conf').read() == " + repr(host) + ")\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "s.connect(('127.0.0.1', 53))\n"
        "s.send(b'x' * 12)\n"
        "try:\n"
        "    s.recv(100); print('answered')\n"
        "except ConnectionRefusedError:\n"
        "    print('refused')\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "True\nrefused\n"


def test_explain_shows_the_dns_server_and_resolv_conf(box):
    box.write_config(network=net(["*.localhost"], socks=True, udp=True))
    r = box.run("true", args=("--explain",))
    assert r.returncode == 0, r.stderr
    assert "  udp 127.0.0.1:53 (dns)\n" in r.stdout
    assert "  16 udp sockets 127.0.0.1:0 (socks5-udp)\n" in r.stdout
    assert ("  file      /etc/resolv.conf (generated: nameserver 127.0.0.1; "
            "options edns0)\n") in r.stdout
    r = box.run("true", args=("--explain", "--format", "json"))
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    lst = {(x["frontend"], x.get("transport", "tcp"), x.get("count", 1))
           for x in plan["network"]["listeners"]}
    assert lst == {("http", "tcp", 1), ("socks5", "tcp", 1),
                   ("socks5-udp", "udp", 16), ("dns", "udp", 1)}
    files = [m for m in plan["filesystem"]["mounts"] if m["op"] == "file"]
    assert len(files) == 1 and files[0]["text"] == RESOLV
    box.write_config()
    r = box.run("true", args=("--explain", "--format", "json"))
    plan = json.loads(r.stdout)
    assert plan["network"]["listeners"] == []
    assert not [m for m in plan["filesystem"]["mounts"] if m["op"] == "file"]


# ---------------------------------------------------------------------------
# SOCKS5 UDP inside the sandbox.
# ---------------------------------------------------------------------------

class UdpEcho:
    """A UDP echo server on the host's loopback that counts datagrams."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.got = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(65535)
            except OSError:
                return
            self.got.append(data)
            self.sock.sendto(b"echo:" + data, peer)

    def close(self):
        self.sock.close()
        self.thread.join(5)


@pytest.fixture
def echo():
    pair = (UdpEcho(), UdpEcho())
    yield pair
    for e in pair:
        e.close()


UDP_CLIENT = """
import os, socket, struct
host, port = os.environ['ALL_PROXY'].split('//')[1].rsplit(':', 1)
c = socket.create_connection((host, int(port)), timeout=10)
c.sendall(b'\\x05\\x01\\x00')
assert c.recv(2) == b'\\x05\\x00'
c.sendall(b'\\x05\\x03\\x00\\x01' + bytes(4) + bytes(2))
rep = c.recv(10)
print('associate', rep[1])
if rep[1] != 0:
    raise SystemExit(0)
relay = (socket.inet_ntoa(rep[4:8]), struct.unpack('>H', rep[8:10])[0])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(10)
def dest(name, port):
    if name[0].isdigit():
        return b'\\x01' + socket.inet_aton(name) + struct.pack('>H', port)
    return (b'\\x03' + bytes([len(name)]) + name.encode() +
            struct.pack('>H', port))
for name, port, data in TARGETS:
    u.sendto(b'\\x00\\x00\\x00' + dest(name, port) + data, relay)
m = u.recv(65535)
print(m[10:].decode())
"""


def test_socks5_udp_associate_relays_inside_the_sandbox(box, echo):
    denied, allowed = echo
    box.write_config(network=net(["localhost"], socks=True, udp=True))
    audit = audit_path(box)
    # The literal 127.0.0.1 is not on the list, the name localhost is:
    # the first datagram is dropped, the second comes back. Datagrams of
    # one association are handled in order, so when the echo is there,
    # the first was judged already.
    targets = [("127.0.0.1", denied.port, b"one"),
               ("localhost", allowed.port, b"two")]
    r = box.py(f"TARGETS = {targets!r}\n" + UDP_CLIENT,
               args=("--audit", audit))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "associate 0\necho:two\n"
    assert denied.got == [] and allowed.got == [b"two"]
    with open(audit) as f:
        events = [json.loads(line) for line in f if line.strip()]
    udp = {(e["server.address"], e["network.policy.decision"])
           for e in events
           if e["network.transport.protocol"] == "socks5_udp"}
    assert udp == {("127.0.0.1", "deny"), ("localhost", "allow")}


def test_socks5_udp_associate_refused_when_udp_is_off(box, echo):
    box.write_config(network=net(["localhost"], socks=True, udp=False))
    targets = [("localhost", echo[0].port, b"x")]
    r = box.py(f"TARGETS = {targets!r}\n" + UDP_CLIENT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("associate ")
    assert r.stdout != "associate 0\n"
    assert echo[0].got == []
