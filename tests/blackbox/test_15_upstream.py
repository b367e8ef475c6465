"""Upstream proxies (spec §4.8): with allow_upstream_proxy, traffic leaves
through the HTTP proxy named by the proxy's own HTTP_PROXY / HTTPS_PROXY /
ALL_PROXY, tunnels are chained with CONNECT, and NO_PROXY is honoured.
The parent here is a second paddock proxy, so both sides are observable.
"""
import os
import socket
import subprocess

import pytest

from conftest import Raw, http_get, loopback_config, pattern_bytes


def child_env(parent_url, **extra):
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(extra)
    if parent_url:
        env["HTTP_PROXY"] = parent_url
        env["HTTPS_PROXY"] = parent_url
    return env


@pytest.fixture
def chain(start_proxy):
    parent = start_proxy(loopback_config())

    def make(**env):
        return start_proxy(loopback_config(upstream=True),
                           env=child_env(parent.url, **env))
    return parent, make


def test_plain_requests_go_through_the_parent(chain, origin):
    parent, make = chain
    child = make()
    r = http_get(child, f"http://127.0.0.1:{origin.port}/echo")
    assert r.status == 200
    assert r.json()["target"] == "/echo"
    assert parent.wait_for(rf'"target":"127.0.0.1:{origin.port}"')


def test_tunnels_are_chained_with_connect(chain, origin):
    parent, make = chain
    child = make()
    r = subprocess.run(["curl", "-sS", "--noproxy", "", "-p", "-x",
                        child.url, f"http://127.0.0.1:{origin.port}"
                        "/bytes/1000"], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == pattern_bytes(1000)
    assert parent.wait_for(rf'"target":"127.0.0.1:{origin.port}"')


def test_the_parent_refusing_a_tunnel_is_502(chain):
    parent, make = chain
    child = make()
    c = Raw(child.port)
    # Allowed by both, but nothing listens there: the parent answers 502
    # and the child says so.
    c.send(b"CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n")
    r = c.read_response()
    c.close()
    assert r.status == 502
    assert b"upstream proxy refused the tunnel (HTTP 502)" in r.body


def test_no_proxy_is_honoured(start_proxy, origin):
    # The upstream named is dead: an answer proves the request bypassed it.
    env = child_env("http://127.0.0.1:9", NO_PROXY="localhost,127.0.0.1")
    p = start_proxy(loopback_config(upstream=True), env=env)
    r = http_get(p, f"http://127.0.0.1:{origin.port}/bytes/2")
    assert r.status == 200
    assert r.body == pattern_bytes(2)


def test_a_silent_upstream_proxy_is_a_504(start_proxy, origin):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    env = child_env(f"http://127.0.0.1:{silent.getsockname()[1]}")
    p = start_proxy(loopback_config(upstream=True), env=env,
                    limits=["connect-timeout=300ms"])
    c = Raw(p.port)
    target = f"127.0.0.1:{origin.port}"
    c.send(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    up, _ = silent.accept()  # it takes the chained CONNECT, says nothing
    r = c.read_response()
    assert r.status == 504
    assert b"upstream proxy did not answer the CONNECT in time" in r.body
    c.close()
    up.close()
    silent.close()


def test_non_http_upstreams_are_ignored_with_a_warning(start_proxy, origin):
    env = child_env(None, ALL_PROXY="socks5://127.0.0.1:9")
    p = start_proxy(loopback_config(upstream=True), env=env)
    assert p.wait_for(r"ignoring ALL_PROXY: only http:// upstream proxies")
    r = http_get(p, f"http://127.0.0.1:{origin.port}/bytes/2")
    assert r.body == pattern_bytes(2)


def test_upstream_is_off_unless_allowed(start_proxy, origin):
    env = child_env("http://127.0.0.1:9")
    p = start_proxy(loopback_config(upstream=False), env=env)
    r = http_get(p, f"http://127.0.0.1:{origin.port}/bytes/2")
    assert r.body == pattern_bytes(2)
