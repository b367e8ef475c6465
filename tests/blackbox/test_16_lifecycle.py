"""Running paddock proxy: the readiness line, SIGHUP reloads, SIGINT and
SIGTERM drain open exchanges within the shutdown grace."""
import os
import re
import signal
import socket

from conftest import Raw, http_get, loopback_config, pattern_bytes


def test_readiness_line_names_the_real_port(start_proxy):
    p = start_proxy(loopback_config())
    line = p.ready.string.strip()
    assert re.fullmatch(r"paddock: listening http=127\.0\.0\.1:(\d+) "
                        r"socks5=off admin=off", line)
    assert p.port != 0
    assert p.text().count("paddock: listening") == 1


def test_ipv6_listener(start_proxy, origin):
    p = start_proxy(loopback_config(proxy_url="http://[::1]:0"))
    assert p.ready.group(1) == "[::1]"
    c = Raw(p.port, host="::1")
    c.send(f"GET http://127.0.0.1:{origin.port}/bytes/3 HTTP/1.1\r\n"
           f"Host: 127.0.0.1:{origin.port}\r\n\r\n".encode())
    assert c.read_response().body == pattern_bytes(3)
    c.close()


def test_sighup_reloads_the_policy(start_proxy, origin):
    p = start_proxy(loopback_config())
    assert http_get(p, "http://reload.test/").status == 403
    p.reload(loopback_config(domains={"reload.test": "deny",
                                      "127.0.0.1": "deny"}))
    assert "configuration reloaded" in p.text()
    assert http_get(p, f"http://127.0.0.1:{origin.port}/").status == 403
    assert http_get(p, "http://reload.test/").json()["reason"] == "denied"


def test_a_broken_config_keeps_the_old_one(start_proxy, origin):
    p = start_proxy(loopback_config())
    p.reload("this is [not toml\n")
    p.wait_for(r"reload failed: .*config\.toml:1:6: .*; the previous "
               r"configuration stays in force")
    assert http_get(p, f"http://127.0.0.1:{origin.port}/bytes/2").body == \
        pattern_bytes(2)


def test_a_fifo_at_reload_is_refused_and_sigterm_still_stops(start_proxy,
                                                             origin):
    """The reload runs on the thread that handles signals: a --config
    replaced by a FIFO (no writer) must be refused, not waited on."""
    p = start_proxy(loopback_config())
    os.unlink(p.config_path)
    os.mkfifo(p.config_path)
    p.proc.send_signal(signal.SIGHUP)
    line = p.wait_for(r"cannot read: not a regular file.*")[0].string
    assert p.config_path in line
    p.wait_for(r"reload failed: .*; the previous configuration stays in "
               r"force")
    assert http_get(p, f"http://127.0.0.1:{origin.port}/bytes/2").body == \
        pattern_bytes(2)
    assert http_get(p, "http://denied.test/").status == 403
    p.proc.send_signal(signal.SIGTERM)
    p.wait_for(r"SIGTERM: stopping")
    assert p.proc.wait(20) == 0


def test_listener_changes_are_refused(start_proxy, origin):
    """Spec network §1.7: a running proxy refuses a new listener, and
    the rest of that config with it (test_82_reload.py has every key)."""
    p = start_proxy(loopback_config())
    p.reload(loopback_config(proxy_url="http://127.0.0.1:1",
                             domains={"127.0.0.1": "deny"}))
    p.wait_for(r"reload failed: cannot update network\.proxy_url on a "
               r"running proxy; the previous configuration stays in force")
    # Still on the old port, with the old policy.
    assert http_get(p, f"http://127.0.0.1:{origin.port}/bytes/2").body == \
        pattern_bytes(2)


def slow_upstream():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    return srv


def test_sigterm_lets_an_open_exchange_finish(start_proxy):
    p = start_proxy(loopback_config())
    srv = slow_upstream()
    port = srv.getsockname()[1]
    idle = Raw(p.port)  # a keep-alive client between requests
    busy = Raw(p.port)
    busy.send(f"GET http://127.0.0.1:{port}/ HTTP/1.1\r\n"
              f"Host: 127.0.0.1:{port}\r\n\r\n".encode())
    up, _ = srv.accept()
    up.recv(65536)
    p.proc.send_signal(signal.SIGTERM)
    p.wait_for(r"SIGTERM: stopping")
    p.wait_for(r"no longer accepting; open exchanges have up to 5000 ms")
    # The idle client goes at once, the open exchange is still served.
    assert idle.is_closed()
    up.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate")
    r = busy.read_response()
    assert r.body == b"late"
    assert r.header("connection") == "close"
    assert busy.is_closed()
    assert p.proc.wait(20) == 0
    up.close()
    srv.close()


def test_sigint_gives_up_on_stuck_exchanges_after_the_grace(start_proxy):
    p = start_proxy(loopback_config(), limits=["shutdown-grace=300ms"])
    srv = slow_upstream()
    port = srv.getsockname()[1]
    busy = Raw(p.port)
    busy.send(f"GET http://127.0.0.1:{port}/ HTTP/1.1\r\n"
              f"Host: 127.0.0.1:{port}\r\n\r\n".encode())
    up, _ = srv.accept()
    p.proc.send_signal(signal.SIGINT)
    assert p.proc.wait(20) == 0
    assert busy.is_closed()
    up.close()
    srv.close()


def test_access_log_names_the_profile_a_session_was_judged_by(start_proxy):
    p = start_proxy(loopback_config())
    srv = slow_upstream()
    port = srv.getsockname()[1]
    c = Raw(p.port)
    c.send(f"GET http://127.0.0.1:{port}/ HTTP/1.1\r\n"
           f"Host: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
           .encode())
    up, _ = srv.accept()
    up.recv(65536)
    # The profile is renamed while the exchange is open.
    p.reload(loopback_config().replace("test", "renamed"))
    assert "configuration reloaded" in p.text()
    up.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert c.read_response().body == b"ok"
    assert c.is_closed()
    p.wait_for(rf'"target":"127.0.0.1:{port}".*"profile":"test"')
    c.close()
    up.close()
    srv.close()



def notify_socket(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(20)
    return s


def test_systemd_is_told_ready_reloading_and_stopping(start_proxy, workdir):
    path = os.path.join(workdir, "notify")
    s = notify_socket(path)
    p = start_proxy(loopback_config(),
                    env=dict(os.environ, NOTIFY_SOCKET=path))
    ready = s.recv(4096).decode().splitlines()
    assert ready[0] == "READY=1"
    p.reload(loopback_config(domains={"reload.test": "deny"}))
    reloading = s.recv(4096).decode().splitlines()
    assert reloading[0] == "RELOADING=1"
    assert re.fullmatch(r"MONOTONIC_USEC=\d+", reloading[1])
    assert s.recv(4096).decode().splitlines()[0] == "READY=1"
    p.finish()
    assert s.recv(4096) == b"STOPPING=1"
    s.close()


def test_an_abstract_notify_socket_is_told_too(start_proxy):
    name = f"paddock-test-notify-{os.getpid()}"
    s = notify_socket("\0" + name)
    start_proxy(loopback_config(),
                env=dict(os.environ, NOTIFY_SOCKET="@" + name))
    assert s.recv(4096).decode().startswith("READY=1\n")
    s.close()
