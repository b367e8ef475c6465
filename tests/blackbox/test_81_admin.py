"""The admin API (network.admin_url, docs/observability.md): every endpoint
and its errors, loopback clamping, /metrics parsed with the Prometheus
client's own parser and checked against the exact requests made, POST /mode
and POST /reload against the administrator's requirements, and
`paddock status`."""
import json
import re
import shutil
import signal
import socket
import tempfile
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import NetNS, Proxy, Raw, http_get, loopback_config, \
    start_origin

ADMIN = 'admin_url = "127.0.0.1:0"'


def admin_config(extra="", **kw):
    return loopback_config(extra=f"{ADMIN}\n{extra}", **kw)


def admin(p, method, path, body=None, raw=None):
    """One request to p's admin API; the Response."""
    host, port = p.admin.rsplit(":", 1)
    c = Raw(int(port), host)
    try:
        if raw is None:
            raw = f"{method} {path} HTTP/1.1\r\nHost: admin\r\n"
            if body is not None:
                raw += f"Content-Length: {len(body)}\r\n"
            raw = raw.encode() + b"\r\n" + (body or b"")
        c.send(raw)
        r = c.read_response()
        assert c.is_closed()
        return r
    finally:
        c.close()


def metrics(p):
    """{(name, frozenset(labels)): value} of every sample of /metrics."""
    r = admin(p, "GET", "/metrics")
    assert r.status == 200
    assert r.header("content-type").startswith("text/plain; version=0.0.4")
    out = {}
    for fam in text_string_to_metric_families(r.body.decode()):
        assert fam.name.startswith("paddock_"), fam.name
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def sample(m, name, **labels):
    return m.get((name, frozenset(labels.items())), 0)


def wait_metrics(p, pred, timeout=20):
    """The metrics once pred(metrics) holds. A session writes its access
    line just before the worker counts it closed, so a scrape right after
    wait_closed() may still see it open: poll for the condition."""
    deadline = time.monotonic() + timeout
    while True:
        m = metrics(p)
        if pred(m) or time.monotonic() > deadline:
            return m


def decisions(m):
    """The non-zero decision series, as {(decision, reason, source,
    protocol): count}."""
    out = {}
    for (name, labels), v in m.items():
        if name == "paddock_policy_decisions_total" and v:
            d = dict(labels)
            out[(d["decision"], d["reason"], d["source"],
                 d["protocol"])] = v
    return out


def test_the_readiness_line_names_the_admin_listener(start_proxy):
    p = start_proxy(admin_config())
    assert re.fullmatch(r"127\.0\.0\.1:\d+", p.admin)
    assert not p.admin.endswith(":0")
    line = p.ready.string.strip()
    assert line.endswith(f" admin={p.admin}")


def test_health_patterns_and_config(start_proxy):
    p = start_proxy(admin_config())
    r = admin(p, "GET", "/health")
    assert (r.status, r.body) == (200, b"ok")
    r = admin(p, "GET", "/patterns")
    assert r.status == 200
    assert r.json() == {"allowed": ["127.0.0.1", "localhost"],
                        "denied": ["denied.test"]}
    r = admin(p, "GET", "/config")
    assert r.status == 200
    net = r.json()["network"]
    assert net["admin_url"] == "127.0.0.1:0"
    assert net["mode"] == "full"
    assert net["allowed_domains"] == ["127.0.0.1", "localhost"]


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/", 404), ("GET", "/nope", 404), ("GET", "/healthz", 404),
    ("POST", "/health", 405), ("GET", "/mode", 405), ("GET", "/reload", 405),
    ("DELETE", "/blocked", 405), ("PUT", "/metrics", 405)])
def test_unknown_paths_and_wrong_methods(start_proxy, method, path, status):
    p = start_proxy(admin_config())
    r = admin(p, method, path, body=b"" if method != "GET" else None)
    assert r.status == status
    if status == 404:
        assert r.body == b"not found"
    else:
        assert r.header("allow") in ("GET", "POST")


@pytest.mark.parametrize("raw,status", [
    (b"GET /health HTTP/1.1\r\nHost admin\r\n\r\n", 400),
    (b"GET /health HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n", 400),
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /health HTTP/3.0\r\nHost: a\r\n\r\n", 505),
    (b"POST /mode HTTP/1.1\r\nHost: a\r\nContent-Length: 9000\r\n\r\n", 413),
    (b"POST /mode HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
     + b"2328\r\n" + b"x" * 9000 + b"\r\n0\r\n\r\n", 413)])
def test_malformed_requests_are_refused(start_proxy, raw, status):
    p = start_proxy(admin_config())
    assert admin(p, None, None, raw=raw).status == status
    # The listener still serves.
    assert admin(p, "GET", "/health").status == 200


@pytest.mark.parametrize("body,answer", [
    (None, b"missing body"), (b"", b"missing body"),
    (b"{", b"invalid json"), (b"[]", b"invalid body"),
    (b'{"mode":"open"}', b"invalid body"), (b'{"mode":1}', b"invalid body"),
    (b'{"mode":"full","x":1}', b"invalid body")])
def test_post_mode_bad_bodies(start_proxy, body, answer):
    p = start_proxy(admin_config())
    r = admin(p, "POST", "/mode", body=body)
    assert (r.status, r.body) == (400, answer)


def test_blocked_drains_and_keep_copies(start_proxy, origin):
    p = start_proxy(admin_config())
    assert http_get(p, "http://denied.test/").status == 403
    assert http_get(p, "http://other.test/x?secret=1").status == 403
    r = admin(p, "GET", "/blocked?keep=1")
    assert [b["host"] for b in r.json()["blocked"]] == ["denied.test",
                                                         "other.test"]
    r = admin(p, "GET", "/blocked")
    got = r.json()["blocked"]
    assert [(b["host"], b["reason"]) for b in got] == [
        ("denied.test", "denied"), ("other.test", "not_allowed")]
    assert "secret" not in r.body.decode()
    assert admin(p, "GET", "/blocked").json() == {"blocked": []}
    m = metrics(p)
    assert sample(m, "paddock_blocked_buffer_size") == 0
    assert sample(m, "paddock_blocked_buffer_dropped_total") == 0


def test_metrics_count_exactly_the_requests_made(start_proxy, origin):
    p = start_proxy(admin_config())
    allowed, denied, unlisted = 4, 3, 2
    for i in range(allowed):
        r = http_get(p, f"http://127.0.0.1:{origin.port}/bytes/{100 + i}")
        assert r.status == 200 and len(r.body) == 100 + i
    for _ in range(denied):
        assert http_get(p, "http://denied.test/").status == 403
    for _ in range(unlisted):
        assert http_get(p, "http://unlisted.test/").status == 403
    # localhost is loopback without a lookup.
    assert http_get(p, f"http://localhost:{origin.port}/hello").status == 200
    # Limited mode: only GET, HEAD and OPTIONS.
    r = admin(p, "POST", "/mode", body=b'{"mode":"limited"}')
    assert (r.status, r.json()) == (200, {"status": "ok",
                                          "mode": "limited"})
    blocked_posts = 3
    for _ in range(blocked_posts):
        r = http_get(p, f"http://127.0.0.1:{origin.port}/echo",
                     method="POST", body=b"data")
        assert r.status == 403
    assert http_get(p, f"http://127.0.0.1:{origin.port}/bytes/5").status \
        == 200
    conns = allowed + denied + unlisted + 1 + blocked_posts + 1
    p.wait_closed(conns)
    m = wait_metrics(p, lambda m: sample(m, "paddock_connections_open",
                                         frontend="http") == 0)
    # A method block in limited mode is two audit events: the host
    # policy's allow, then the mode guard's deny (spec network §9).
    assert decisions(m) == {
        ("allow", "allow", "baseline_policy", "http"):
            allowed + 2 + blocked_posts,
        ("deny", "denied", "baseline_policy", "http"): denied,
        ("deny", "not_allowed", "baseline_policy", "http"): unlisted,
        ("deny", "method_not_allowed", "mode_guard", "http"): blocked_posts,
    }
    # The audit stream has the same events.
    events = p.audit(sum(decisions(m).values()))
    assert len(events) == sum(decisions(m).values())
    assert sample(m, "paddock_connections_total", frontend="http") == conns
    assert sample(m, "paddock_connections_open", frontend="http") == 0
    assert sample(m, "paddock_connections_total", frontend="socks5") == 0
    up = sample(m, "paddock_relayed_bytes_total",
                direction="client_to_upstream")
    down = sample(m, "paddock_relayed_bytes_total",
                  direction="upstream_to_client")
    assert up > 0
    assert down >= sum(100 + i for i in range(allowed)) + 5
    # Upstream connections are pooled: at most one dial per request.
    dials = sample(m, "paddock_upstream_dial_seconds_count")
    assert 1 <= dials <= allowed + 2
    assert sample(m, "paddock_upstream_dial_seconds_bucket", le="+Inf") == \
        dials
    assert sample(m, "paddock_upstream_dial_seconds_sum") > 0
    assert sample(m, "paddock_policy_mode", mode="limited") == 1
    assert sample(m, "paddock_blocked_buffer_size") == \
        denied + unlisted + blocked_posts
    assert sample(m, "paddock_build_info", version="0.1.0",
                  libevent=dict(next(k for k in m if k[0] ==
                                     "paddock_build_info")[1])["libevent"],
                  openssl=dict(next(k for k in m if k[0] ==
                                    "paddock_build_info")[1])["openssl"]) \
        == 1
    for name in ("paddock_exporter_queue_depth",
                 "paddock_exporter_sent_total",
                 "paddock_exporter_retried_total",
                 "paddock_exporter_dropped_total",
                 "paddock_reloads_total", "paddock_reload_failures_total"):
        assert (name, frozenset()) in m, name
        assert m[(name, frozenset())] == 0


def test_bytes_are_counted_exactly(start_proxy, origin):
    p = start_proxy(admin_config())
    req = (f"GET http://127.0.0.1:{origin.port}/bytes/1000 HTTP/1.1\r\n"
           f"Host: 127.0.0.1:{origin.port}\r\nConnection: close\r\n\r\n")
    c = Raw(p.port)
    c.send(req.encode())
    r = c.read_response()
    c.close()
    assert len(r.body) == 1000
    p.wait_closed(1)
    m = wait_metrics(p, lambda m: sample(m, "paddock_connections_open",
                                         frontend="http") == 0)
    assert sample(m, "paddock_relayed_bytes_total",
                  direction="client_to_upstream") == len(req)
    assert 1000 < sample(m, "paddock_relayed_bytes_total",
                         direction="upstream_to_client") < 1400


def test_connections_open_counts_a_held_connection(start_proxy, origin):
    p = start_proxy(admin_config())
    c = Raw(p.port)
    c.send(f"GET http://127.0.0.1:{origin.port}/hello HTTP/1.1\r\n"
           f"Host: 127.0.0.1:{origin.port}\r\n\r\n".encode())
    assert c.read_response().status == 200
    assert sample(metrics(p), "paddock_connections_open",
                  frontend="http") == 1
    c.close()
    p.wait_closed(1)
    m = wait_metrics(p, lambda m: sample(m, "paddock_connections_open",
                                         frontend="http") == 0)
    assert sample(m, "paddock_connections_open", frontend="http") == 0


def test_dns_lookups_are_timed(workdir):
    """A name looked up for real, inside a namespace with a test DNS
    server; the admin API is scraped from inside it too."""
    d = tempfile.mkdtemp(dir=workdir)
    ns = NetNS(d, {"origin.test": {"A": ["127.0.0.1"]}})
    origin = p = None
    try:
        origin = start_origin(ns.enter)
        p = Proxy(d, admin_config(domains={"origin.test": "allow"}),
                  enter=ns.enter)
        for _ in range(2):
            r = ns.run("curl", "-sS", "--noproxy", "", "-x", p.url,
                       f"http://origin.test:{origin.port}/hello")
            assert r.stdout == b"hello from origin\n"
        assert ns.dns_queries("origin.test") >= 1
        r = ns.run("curl", "-sS", f"http://{p.admin}/metrics")
        m = {}
        for fam in text_string_to_metric_families(r.stdout.decode()):
            for s in fam.samples:
                m[(s.name, frozenset(s.labels.items()))] = s.value
        # A second request may reuse the pooled upstream connection
        # (or a cached answer): at least one lookup, at most one each.
        n = sample(m, "paddock_dns_lookup_seconds_count")
        assert 1 <= n <= 2
        assert sample(m, "paddock_dns_lookup_seconds_bucket", le="+Inf") == n
        assert sample(m, "paddock_dns_lookup_seconds_sum") > 0
    finally:
        if p:
            p.finish()
        if origin:
            origin.stop(signal.SIGKILL)
        ns.close()
        shutil.rmtree(d, ignore_errors=True)


def test_post_mode_switches_and_config_shows_it(start_proxy, origin):
    p = start_proxy(admin_config())
    url = f"http://127.0.0.1:{origin.port}/echo"
    assert http_get(p, url, method="POST", body=b"x").status == 200
    r = admin(p, "POST", "/mode", body=b'{"mode":"limited"}')
    assert r.status == 200
    assert http_get(p, url, method="POST", body=b"x").status == 403
    assert admin(p, "GET", "/config").json()["network"]["mode"] == "limited"
    assert admin(p, "POST", "/mode", body=b'{"mode":"full"}').status == 200
    assert http_get(p, url, method="POST", body=b"x").status == 200


def requirements(workdir, text):
    path = f"{workdir}/requirements.toml"
    with open(path, "w") as f:
        f.write(text)
    return ["--requirements", path]


def test_post_mode_refused_by_a_requirement(start_proxy, origin, workdir):
    req = requirements(workdir, '[experimental_network]\nmode = "limited"\n')
    p = start_proxy(admin_config(mode="limited"), args=req)
    r = admin(p, "POST", "/mode", body=b'{"mode":"full"}')
    assert r.status == 500
    text = r.body.decode()
    assert text.startswith("mode update failed: ")
    assert "administrator" in text and "requirements.toml" in text
    # Nothing changed.
    url = f"http://127.0.0.1:{origin.port}/echo"
    assert http_get(p, url, method="POST", body=b"x").status == 403
    assert sample(metrics(p), "paddock_policy_mode", mode="limited") == 1
    # What the requirement allows still works.
    assert admin(p, "POST", "/mode", body=b'{"mode":"limited"}').status \
        == 200


def test_post_mode_full_without_requirements(start_proxy, workdir):
    p = start_proxy(admin_config(mode="limited"),
                    args=requirements(workdir, ""))
    assert admin(p, "POST", "/mode", body=b'{"mode":"full"}').status == 200


def test_reloads_are_counted_whatever_triggers_them(start_proxy, origin,
                                                    workdir):
    req = requirements(workdir, '[experimental_network]\nmode = "limited"\n')
    p = start_proxy(admin_config(mode="limited"), args=req)
    r = admin(p, "POST", "/reload", body=b"")
    assert (r.status, r.json()) == (200, {"status": "reloaded"})
    p.reload(admin_config(mode="limited",
                          domains={"new.test": "deny"}))  # SIGHUP
    assert "new.test" in admin(p, "GET", "/patterns").json()["denied"]
    m = metrics(p)
    assert sample(m, "paddock_reloads_total") == 2
    assert sample(m, "paddock_reload_failures_total") == 0
    # A config the requirement forbids: refused, the old policy stays.
    with open(p.config_path, "w") as f:
        f.write(admin_config(mode="full"))
    r = admin(p, "POST", "/reload", body=b"")
    assert r.status == 500
    assert r.body.startswith(b"reload failed: ")
    assert b"administrator" in r.body
    url = f"http://127.0.0.1:{origin.port}/echo"
    assert http_get(p, url, method="POST", body=b"x").status == 403
    # A config that does not parse: refused as well.
    with open(p.config_path, "w") as f:
        f.write("[network\n")
    assert admin(p, "POST", "/reload", body=b"").status == 500
    m = metrics(p)
    assert sample(m, "paddock_reloads_total") == 2
    assert sample(m, "paddock_reload_failures_total") == 2


def test_admin_listener_is_clamped_to_loopback(start_proxy):
    p = start_proxy(loopback_config(extra='admin_url = "0.0.0.0:0"'))
    assert p.admin.startswith("127.0.0.1:")
    assert "dangerously_allow_non_loopback_admin" in p.text()
    p = start_proxy(loopback_config(
        extra='admin_url = "0.0.0.0:0"\n'
              "dangerously_allow_non_loopback_proxy = true"))
    assert p.admin.startswith("127.0.0.1:")
    p = start_proxy(loopback_config(
        extra='admin_url = "0.0.0.0:0"\n'
              "dangerously_allow_non_loopback_admin = true"))
    assert p.admin.startswith("0.0.0.0:")
    assert "DANGEROUS" in p.text()


def test_admin_url_empty_is_off(start_proxy):
    p = start_proxy(loopback_config(extra='admin_url = ""'))
    assert p.admin is None


def test_a_requirement_forbids_a_non_loopback_admin(paddock, workdir):
    cfg = f"{workdir}/config.toml"
    with open(cfg, "w") as f:
        f.write(loopback_config(extra='admin_url = "0.0.0.0:0"\n'
                                "dangerously_allow_non_loopback_admin = "
                                "true"))
    req = requirements(workdir, "[experimental_network]\n"
                       "dangerously_allow_non_loopback_admin = false\n")
    r = paddock("config", "check", "--config", cfg, "--system-config", "",
                "--home", workdir, *req)
    assert r.rc == 1
    assert "dangerously_allow_non_loopback_admin" in r.out + r.err


def status(paddock, p, *args):
    return paddock("status", "--config", p.config_path, "--system-config",
                   "", "--home", p.workdir, "--requirements", "",
                   "-c", f'permissions.test.network.admin_url="{p.admin}"', *args)


def test_status_summarises_the_proxy(paddock, start_proxy, origin):
    p = start_proxy(admin_config(), args=["--requirements", ""])
    assert http_get(p, f"http://127.0.0.1:{origin.port}/hello").status == 200
    for host in ("a.test", "b.test", "a.test", "denied.test", "a.test"):
        assert http_get(p, f"http://{host}/").status == 403
    r = status(paddock, p)
    assert r.rc == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].startswith("paddock 0.1.0, running for ")
    assert "  mode:        full" in lines
    assert f"http 127.0.0.1:{p.port}" in r.out
    assert f"admin {p.admin}" in r.out
    assert "  decisions:   1 allowed, 5 denied, 0 asked" in lines
    top = lines[lines.index(
        "  top blocked hosts (of 5 buffered blocked requests):") + 1:]
    assert [t.split() for t in top] == [["a.test", "3"], ["b.test", "1"],
                                        ["denied.test", "1"]]
    doc = json.loads(status(paddock, p, "--format", "json").out)
    assert doc["mode"] == "full"
    assert doc["decisions"] == {"allow": 1, "deny": 5, "ask": 0}
    assert doc["listeners"]["admin"] == p.admin
    assert doc["top_blocked"][0] == {"host": "a.test", "count": 3}
    # status did not drain the buffer.
    assert len(admin(p, "GET", "/blocked").json()["blocked"]) == 5


def test_status_errors(paddock, workdir):
    cfg = f"{workdir}/config.toml"
    with open(cfg, "w") as f:
        f.write(loopback_config())
    base = ["status", "--config", cfg, "--system-config", "", "--home",
            workdir, "--requirements", ""]
    r = paddock(*base)
    assert r.rc == 1
    assert "admin API is off" in r.err and "network.admin_url" in r.err
    r = paddock(*base, "-c", 'network.admin_url="127.0.0.1:0"')
    assert r.rc == 1 and "port 0" in r.err
    # A bound port nobody listens on refuses connections.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        r = paddock(*base, "-c", f'network.admin_url="127.0.0.1:{port}"')
    assert r.rc == 1
    assert "no proxy answers on 127.0.0.1:" in r.err
    assert paddock(*base, "--format", "xml").rc == 2
