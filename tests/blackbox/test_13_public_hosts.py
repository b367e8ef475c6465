"""Public destinations, inside a private network namespace created by the
test (no route off the machine): clients configured by `paddock env`,
DNS through /etc/resolv.conf and /etc/hosts, local/private protection,
lookup failures and timeouts, DNS rebinding and Happy Eyeballs."""
import json
import os
import shutil
import tempfile

import pytest

from conftest import (DEAD_V6, HELPERS, ORIGIN_V4, ORIGIN_V6, PYTHON,
                      NetNS, Proxy, binary, network_config, start_origin)

ZONE = {
    "origin.test": {"A": [ORIGIN_V4], "AAAA": [ORIGIN_V6]},
    "v4only.test": {"A": [ORIGIN_V4]},
    "private.test": {"A": ["10.1.2.3"]},
    "loopback.test": {"A": ["127.0.0.1"]},
    "slow.test": {"drop": True},
    "rebind.test": {"A": [ORIGIN_V4], "then": {"A": ["127.0.0.1"]}},
    "eyeballs.test": {"A": [ORIGIN_V4], "AAAA": [DEAD_V6]},
    "unlisted.example": {"A": [ORIGIN_V4]},
}

DOMAINS = {"*.test": "allow", "blocked.test": "deny"}


@pytest.fixture(scope="module")
def ns():
    d = tempfile.mkdtemp(prefix="paddock-ns-")
    n = NetNS(d, ZONE, hosts=f"{ORIGIN_V4} hosts-only.test\n")
    n.origins = [start_origin(n.enter, bind=ORIGIN_V4, port=80),
                 start_origin(n.enter, bind=ORIGIN_V6, port=80),
                 # A "local" service the policy must protect.
                 start_origin(n.enter, bind="127.0.0.1", port=8080)]
    yield n
    for o in n.origins:
        o.stop()
    n.close()
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def ns_proxy(ns, workdir):
    started = []

    def start(local_binding=False, limits=(), domains=DOMAINS):
        d = tempfile.mkdtemp(dir=workdir)
        cfg = network_config(domains, local_binding=local_binding,
                             proxy_url="http://127.0.0.1:3128")
        p = Proxy(d, cfg, limits=limits, enter=ns.enter)
        p.ns = ns
        started.append(p)
        return p
    yield start
    for p in started:
        p.finish()


def in_env(ns, p, *argv):
    """Run argv in the namespace with the environment `paddock env`
    prints for p's config."""
    script = (f'eval "$({binary("paddock")} env --config {p.config_path} '
              f'--system-config \'\' --home {p.workdir} --cwd {p.workdir})" '
              '&& exec "$@"')
    return ns.run("sh", "-c", script, "sh", *argv, check=False)


def curl(ns, p, url, *extra):
    r = in_env(ns, p, "curl", "-sS", "-o", "/dev/stdout", "-w",
               "\n%{http_code}", *extra, url)
    body, _, code = r.stdout.rpartition(b"\n")
    return int(code or 0), body, r.stderr.decode()


def test_paddock_env_drives_curl_and_python(ns, ns_proxy):
    p = ns_proxy()
    code, body, err = curl(ns, p, "http://origin.test/hello")
    assert code == 200, err
    assert body == b"hello from origin\n"
    r = in_env(ns, p, PYTHON, "-c",
               "import urllib.request as u, json; "
               "print(json.load(u.urlopen('http://origin.test/echo'))"
               "['target'])")
    assert r.stdout.strip() == b"/echo", r.stderr
    # Both went through the proxy.
    p.wait_closed(2)
    assert p.count(r'"target":"origin.test:80"') == 2


def test_blocks_reach_the_client_with_reasons(ns, ns_proxy):
    p = ns_proxy()
    code, body, _ = curl(ns, p, "http://blocked.test/")
    assert code == 403
    assert json.loads(body)["reason"] == "denied"
    code, body, _ = curl(ns, p, "http://unlisted.example/")
    assert code == 403
    assert json.loads(body)["reason"] == "not_allowed"
    # An unlisted name is refused without a lookup, resolvable or not
    # (issue 11, defect 8).
    code, body, _ = curl(ns, p, "http://unknown.example/")
    assert code == 403
    assert json.loads(body)["reason"] == "not_allowed"


def test_private_and_loopback_answers_are_refused(ns, ns_proxy):
    p = ns_proxy()
    for host in ("private.test", "loopback.test"):
        code, body, _ = curl(ns, p, f"http://{host}:8080/")
        assert code == 403, host
        doc = json.loads(body)
        assert doc["reason"] == "not_allowed_local"
        assert doc["host"] == host


def test_failed_lookups_fail_closed(ns, ns_proxy):
    p = ns_proxy(limits=["dns-timeout=300ms"])
    # The policy needs the addresses to judge locality: no answer, no way.
    for host in ("nxdomain.test", "slow.test"):
        code, body, _ = curl(ns, p, f"http://{host}/")
        assert code == 403, host
        assert json.loads(body)["reason"] == "not_allowed_local"


def test_failed_lookups_for_dialing_say_why(ns, ns_proxy):
    p = ns_proxy(local_binding=True, limits=["dns-timeout=300ms"])
    code, body, _ = curl(ns, p, "http://nxdomain.test/")
    assert code == 502
    assert b"DNS lookup failed: no such host" in body
    code, body, _ = curl(ns, p, "http://slow.test/")
    assert code == 504
    assert b"DNS lookup timed out" in body


def test_hosts_file_is_honoured(ns, ns_proxy):
    p = ns_proxy()
    code, body, _ = curl(ns, p, "http://hosts-only.test/hello")
    assert code == 200
    assert ns.dns_queries("hosts-only.test") == 0


def test_a_name_is_resolved_once_and_rebinding_cannot_redirect(ns,
                                                               ns_proxy):
    p = ns_proxy()
    # First answer: the public origin. Any later answer: 127.0.0.1, where
    # the protected service listens. Only the judged address is dialed.
    before = ns.dns_queries("rebind.test")
    code, body, _ = curl(ns, p, "http://rebind.test/hello")
    assert code == 200
    assert body == b"hello from origin\n"
    assert ns.dns_queries("rebind.test") - before == 2  # one A, one AAAA
    code, body, _ = curl(ns, p, "http://rebind.test:8080/hello")
    assert code == 403
    assert json.loads(body)["reason"] == "not_allowed_local"


def test_connect_through_the_namespace(ns, ns_proxy):
    p = ns_proxy()
    code, body, err = curl(ns, p, "http://origin.test/bytes/100",
                           "--proxytunnel")
    assert code == 200, err
    assert len(body) == 100
    code, _, err = curl(ns, p, "http://private.test:8080/", "--proxytunnel")
    assert code == 0 or code == 403
    assert "403" in err


def test_happy_eyeballs_falls_back_to_ipv4(ns, ns_proxy):
    p = ns_proxy()
    # The AAAA points into a black hole; IPv4 wins after the attempt delay.
    code, body, err = curl(ns, p, "http://eyeballs.test/hello")
    assert code == 200, err
    # With both families reachable, IPv6 is tried first (RFC 8305 §4).
    code, body, err = curl(ns, p, "http://origin.test/peer")
    assert code == 200
    assert body.startswith(ORIGIN_V6.encode())


def test_ipv6_origin_is_reached(ns, ns_proxy):
    p = ns_proxy(domains={ORIGIN_V6: "allow"})
    code, body, err = curl(ns, p, f"http://[{ORIGIN_V6}]/hello")
    assert code == 200, err
