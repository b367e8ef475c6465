"""Plain HTTP through the proxy: absolute-form and origin-form requests,
keep-alive, pipelining, bodies, hop-by-hop handling and the answers the
proxy gives itself (blocks, bad targets, failed dials)."""
import hashlib
import json
import socket
import subprocess
import urllib.request

from conftest import (Raw, http_get, loopback_config, network_config,
                      pattern_bytes)


def test_curl_absolute_form_get_is_forwarded(start_proxy, origin):
    p = start_proxy(loopback_config())
    r = subprocess.run(["curl", "-sS", "--noproxy", "", "-x", p.url,
                        f"http://127.0.0.1:{origin.port}/hello"],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"hello from origin\n"


def test_urllib_through_proxy(start_proxy, origin):
    p = start_proxy(loopback_config())
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": p.url}))
    with opener.open(f"http://127.0.0.1:{origin.port}/echo", timeout=30) as r:
        doc = json.load(r)
    assert doc["method"] == "GET"
    assert doc["target"] == "/echo"


def test_origin_form_is_routed_by_host(start_proxy, origin):
    p = start_proxy(loopback_config())
    c = Raw(p.port)
    c.send(f"GET /echo?x=1 HTTP/1.1\r\nHost: 127.0.0.1:{origin.port}\r\n"
           "\r\n".encode())
    r = c.read_response()
    c.close()
    assert r.status == 200
    assert r.json()["target"] == "/echo?x=1"


def test_hop_by_hop_fields_go_and_nothing_is_added(start_proxy, origin):
    p = start_proxy(loopback_config())
    r = http_get(p, f"http://127.0.0.1:{origin.port}/echo", headers=[
        ("Connection", "X-Secret"), ("X-Secret", "1"), ("Keep-Alive", "5"),
        ("Proxy-Connection", "keep-alive"), ("TE", "trailers"),
        ("Proxy-Authorization", "Basic Zm9vOmJhcg=="),
        ("Upgrade", "h2c"), ("X-Forwarded-For", "192.0.2.1"),
        ("X-Keep", "yes")])
    names = [k for k, _ in r.json()["headers"]]
    for gone in ("x-secret", "keep-alive", "proxy-connection", "te",
                 "proxy-authorization", "upgrade", "via"):
        assert gone not in names
    assert "x-keep" in names and "x-forwarded-for" in names
    assert names.count("x-forwarded-for") == 1
    assert not [n for n in names if n.startswith("x-forwarded-")
                and n != "x-forwarded-for"]
    assert r.header("via") is None


def test_keep_alive_and_pipelining_answer_in_order(start_proxy, origin):
    p = start_proxy(loopback_config())
    host = f"127.0.0.1:{origin.port}"
    reqs = (f"GET http://{host}/bytes/10 HTTP/1.1\r\nHost: {host}\r\n\r\n"
            f"GET http://{host}/chunked/5000 HTTP/1.1\r\nHost: {host}\r\n\r\n"
            f"POST http://{host}/digest HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Length: 5\r\n\r\nhello"
            f"HEAD http://{host}/bytes/77 HTTP/1.1\r\nHost: {host}\r\n\r\n"
            f"GET http://{host}/echo HTTP/1.1\r\nHost: {host}\r\n\r\n")
    c = Raw(p.port)
    c.send(reqs.encode())
    a = c.read_response()
    b = c.read_response()
    d = c.read_response()
    e = c.read_response(head_only=True)
    f = c.read_response()
    c.close()
    assert a.body == pattern_bytes(10)
    assert b.body == pattern_bytes(5000)
    assert b.header("transfer-encoding") == "chunked"
    assert d.body == hashlib.sha256(b"hello").hexdigest().encode()
    assert e.header("content-length") == "77"
    assert f.json()["method"] == "GET"


def test_large_bodies_both_ways_arrive_intact(start_proxy, origin):
    p = start_proxy(loopback_config())
    body = pattern_bytes(8 << 20)
    r = http_get(p, f"http://127.0.0.1:{origin.port}/digest", method="POST",
                 body=body)
    assert r.body.decode() == hashlib.sha256(body).hexdigest()
    out = subprocess.run(["curl", "-sS", "--noproxy", "", "-x", p.url,
                          f"http://127.0.0.1:{origin.port}/bytes/"
                          f"{40 << 20}"], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert hashlib.sha256(out.stdout).digest() == \
        hashlib.sha256(pattern_bytes(40 << 20)).digest()


def test_chunked_request_body_is_reframed(start_proxy, origin):
    p = start_proxy(loopback_config())
    host = f"127.0.0.1:{origin.port}"
    c = Raw(p.port)
    c.send(f"POST http://{host}/echo HTTP/1.1\r\nHost: {host}\r\n"
           "Transfer-Encoding: chunked\r\n\r\n"
           "5;ext=yes\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n"
           .encode())
    r = c.read_response()
    c.close()
    doc = r.json()
    assert doc["body"] == "hello world"
    assert ["transfer-encoding", "chunked"] in doc["headers"]
    assert "x-t" not in [k for k, _ in doc["headers"]]


def test_close_delimited_response_closes_client(start_proxy, origin):
    p = start_proxy(loopback_config())
    host = f"127.0.0.1:{origin.port}"
    c = Raw(p.port)
    c.send(f"GET http://{host}/eof/3000 HTTP/1.1\r\nHost: {host}\r\n\r\n"
           .encode())
    r = c.read_response()
    assert r.body == pattern_bytes(3000)
    assert r.header("connection") == "close"
    c.close()


def test_head_and_http10(start_proxy, origin):
    p = start_proxy(loopback_config())
    host = f"127.0.0.1:{origin.port}"
    c = Raw(p.port)
    c.send(f"HEAD http://{host}/bytes/1000 HTTP/1.1\r\nHost: {host}\r\n\r\n"
           f"GET http://{host}/bytes/3 HTTP/1.1\r\nHost: {host}\r\n\r\n"
           .encode())
    assert c.read_response(head_only=True).header("content-length") == "1000"
    assert c.read_response().body == pattern_bytes(3)
    c.close()
    # HTTP/1.0 without Host: the proxy adds it; the connection closes.
    c = Raw(p.port)
    c.send(f"GET http://{host}/echo HTTP/1.0\r\n\r\n".encode())
    r = c.read_response()
    assert ["host", host] in r.json()["headers"]
    assert c.is_closed()
    c.close()


def test_http10_client_gets_a_chunked_body_decoded(start_proxy, origin):
    p = start_proxy(loopback_config())
    host = f"127.0.0.1:{origin.port}"
    c = Raw(p.port)
    c.send(f"GET http://{host}/chunked/2500 HTTP/1.0\r\n\r\n".encode())
    r = c.read_response()
    # RFC 9112 §6.1: no Transfer-Encoding towards HTTP/1.0; the close
    # delimits the body instead.
    assert r.header("transfer-encoding") is None
    assert r.header("connection") == "close"
    assert r.body == pattern_bytes(2500)
    c.close()


def test_expect_100_continue_passes(start_proxy, origin):
    p = start_proxy(loopback_config())
    out = subprocess.run(["curl", "-sS", "--noproxy", "", "-x", p.url,
                          "-H", "Expect: 100-continue", "--data-binary",
                          "x" * 5000, f"http://127.0.0.1:{origin.port}"
                          "/digest"], capture_output=True, timeout=30)
    assert out.stdout.decode() == hashlib.sha256(b"x" * 5000).hexdigest()


def test_upstream_connections_are_kept_and_reused(start_proxy, origin):
    p = start_proxy(loopback_config(), workers=1)
    url = f"http://127.0.0.1:{origin.port}/peer"
    # Two clients, one after the other: one upstream connection.
    first = Raw(p.port)
    first.send(f"GET {url} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
               .replace(b"Host: x", f"Host: 127.0.0.1:{origin.port}"
                        .encode()))
    a = first.read_response().body
    first.close()
    b = http_get(p, url).body
    assert a == b


def test_blocked_request_gets_the_spec_json(start_proxy, origin):
    p = start_proxy(loopback_config())
    r = http_get(p, "http://denied.test/x")
    assert r.status == 403
    assert r.header("content-type") == "application/json"
    assert r.header("x-proxy-error") == "blocked-by-denylist"
    doc = r.json()
    assert list(doc) == ["status", "host", "reason", "decision", "source",
                         "protocol", "port", "message"]
    assert doc["status"] == "blocked" and doc["host"] == "denied.test"
    assert doc["reason"] == "denied" and doc["decision"] == "deny"
    assert doc["source"] == "baseline_policy" and doc["port"] == 80
    r = http_get(p, "http://not-listed.test:8080/")
    assert r.status == 403
    assert r.header("x-proxy-error") == "blocked-by-allowlist"
    assert r.json()["reason"] == "not_allowed"
    assert r.json()["port"] == 8080


def test_a_block_keeps_the_connection_for_the_next_request(start_proxy,
                                                         origin):
    p = start_proxy(loopback_config())
    host = f"127.0.0.1:{origin.port}"
    c = Raw(p.port)
    c.send(f"GET http://denied.test/ HTTP/1.1\r\nHost: denied.test\r\n\r\n"
           f"GET http://{host}/bytes/5 HTTP/1.1\r\nHost: {host}\r\n\r\n"
           .encode())
    assert c.read_response().status == 403
    assert c.read_response().body == pattern_bytes(5)
    c.close()


def test_bad_targets_are_refused_with_reasons(start_proxy, origin):
    p = start_proxy(loopback_config())
    host = f"127.0.0.1:{origin.port}"
    cases = [
        (f"GET http://{host}/ HTTP/1.1\r\nHost: other.test\r\n\r\n", 400,
         b"Host header does not match request target"),
        (f"GET http://{host}/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n", 400,
         b"does not match"),
        ("GET / HTTP/1.1\r\n\r\n", 400, b"missing host"),
        (f"GET / HTTP/1.1\r\nHost: {host}\r\nHost: {host}\r\n\r\n", 400,
         b"more than one Host"),
        (f"GET https://{host}/ HTTP/1.1\r\nHost: {host}\r\n\r\n", 501,
         b"use CONNECT"),
        (f"GET http://u:p@{host}/ HTTP/1.1\r\nHost: {host}\r\n\r\n", 400,
         b"credentials"),
        (f"GET ftp://{host}/ HTTP/1.1\r\nHost: {host}\r\n\r\n", 400,
         b"scheme"),
        (f"GET http://{host}/ HTTP/1.1\r\nHost: {host}\r\n"
         "x-unix-socket: /run/docker.sock\r\n\r\n", 501,
         b"unix sockets unsupported"),
    ]
    for req, status, text in cases:
        c = Raw(p.port)
        c.send(req.encode())
        r = c.read_response()
        c.close()
        assert r.status == status, req
        assert r.header("content-type").startswith("text/plain")
        assert text in r.body, (req, r.body)
    p.wait_for(r'"network.policy.reason":"unix_socket_unsupported"')
    event = [e for e in p.audit() if e["network.policy.reason"] ==
             "unix_socket_unsupported"][0]
    assert event["network.policy.scope"] == "non_domain"
    assert event["server.address"] == "unix-socket"


def test_limited_mode_allows_only_safe_methods(start_proxy, origin):
    p = start_proxy(loopback_config(mode="limited"))
    base = f"http://127.0.0.1:{origin.port}"
    assert http_get(p, base + "/bytes/4").status == 200
    assert http_get(p, base + "/echo", method="OPTIONS").status == 200
    r = http_get(p, base + "/digest", method="POST", body=b"x")
    assert r.status == 403
    assert r.header("x-proxy-error") == "blocked-by-method-policy"
    assert r.json()["reason"] == "method_not_allowed"
    assert r.json()["source"] == "mode_guard"
    c = Raw(p.port)
    c.send(f"CONNECT 127.0.0.1:{origin.port} HTTP/1.1\r\n"
           f"Host: 127.0.0.1:{origin.port}\r\n\r\n".encode())
    r = c.read_response()
    c.close()
    assert r.status == 403
    assert r.header("x-proxy-error") == "blocked-by-mitm-required"
    assert r.header("content-type").startswith("text/plain")


def test_failed_dials_say_why(start_proxy):
    p = start_proxy(loopback_config(), limits=["connect-timeout=300ms"])
    # Nothing listens on a port we just had and closed.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = http_get(p, f"http://127.0.0.1:{port}/")
    assert r.status == 502
    assert b"connection refused" in r.body
    # A full accept queue drops SYNs: the dial never completes.
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    filler = [socket.create_connection(hole.getsockname(), timeout=5)]
    r = http_get(p, f"http://127.0.0.1:{hole.getsockname()[1]}/")
    assert r.status == 504
    assert b"timed out" in r.body
    for f in filler:
        f.close()
    hole.close()


def test_a_request_to_the_proxy_itself_is_refused(start_proxy):
    p = start_proxy(loopback_config())
    r = http_get(p, f"http://127.0.0.1:{p.port}/")
    assert r.status == 508
    assert b"loops back into the proxy" in r.body


def test_every_decision_is_audited(start_proxy, origin):
    p = start_proxy(loopback_config())
    http_get(p, f"http://127.0.0.1:{origin.port}/bytes/1")
    http_get(p, "http://denied.test/")
    events = p.audit(2)
    assert len(events) == 2
    allow, deny = events
    assert allow["network.policy.decision"] == "allow"
    assert allow["network.policy.scope"] == "domain"
    assert allow["server.address"] == "127.0.0.1"
    assert allow["server.port"] == origin.port
    assert allow["http.request.method"] == "GET"
    assert allow["network.transport.protocol"] == "http"
    assert allow["client.address"].startswith("127.0.0.1:")
    assert deny["network.policy.decision"] == "deny"
    assert deny["network.policy.reason"] == "denied"
    assert deny["event.timestamp"].endswith("Z")
    assert len(deny["event.timestamp"]) == 24


def test_disabled_proxy_binds_nothing_and_exits_zero(paddock, workdir):
    cfg = f"{workdir}/config.toml"
    with open(cfg, "w") as f:
        f.write(network_config({}, enabled=False))
    r = paddock("proxy", "--config", cfg, "--system-config", "",
                "--home", workdir, "--cwd", workdir)
    assert r.rc == 0
    assert "disabled" in r.err
    assert "listening" not in r.err
