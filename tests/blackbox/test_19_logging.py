"""The operator log never stalls the proxy, and neither the log nor the
CLI ever prints raw peer bytes.

Every line the proxy's threads log (blocked requests, the access log, audit
events on stderr) goes through one bounded writer thread: an unread stderr
costs log lines, counted and reported, never answers.
"""
import concurrent.futures
import fcntl
import socket
import subprocess
import threading
import time

from conftest import binary, loopback_config
from socks5util import Association, Socks, socks_config, socks_port

# A destination name that would forge a whole log line and clear the
# screen of whoever tails the log, were it written raw.
HOSTILE = b"x.test\npaddock: info: forged\x1b[2J\x07"
ESCAPED = r"x\.test\\x0apaddock: info: forged\\x1b\[2J\\x07"


def blocked_get(port):
    """One refused request; True when the 403 arrived in time."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(b"GET http://denied.test/ HTTP/1.1\r\nHost: denied.test"
                  b"\r\nConnection: close\r\n\r\n")
        data = b""
        while b"\r\n" not in data:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.startswith(b"HTTP/1.1 403 ")


def test_unread_stderr_does_not_stop_the_proxy(start_proxy):
    p = start_proxy(loopback_config(), limits=["log-queue=200"])
    # The pipe holds little, so the writer blocks soon.
    fcntl.fcntl(p.out.fileno(), fcntl.F_SETPIPE_SZ, 4096)
    p.pause()
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        answered = sum(ex.map(lambda _: blocked_get(p.port), range(2000)))
    elapsed = time.monotonic() - start
    assert answered == 2000
    assert elapsed < 60, f"2000 refusals took {elapsed:.1f} s"
    p.resume()
    m = p.wait_for(r"^paddock: warning: (\d+) log lines dropped$")[0]
    assert int(m.group(1)) > 0
    # Lines written after the report are whole lines again.
    n = p.count(r"paddock: info: access ")
    blocked_get(p.port)
    p.wait_for(r"paddock: info: access ", n + 1)


def assert_not_forged(p):
    text = p.text()
    assert "\x1b" not in text and "\x07" not in text
    assert not any(line.startswith("paddock: info: forged")
                   for line in text.splitlines()), text


def test_socks5_name_cannot_forge_a_log_line(start_proxy):
    p = start_proxy(socks_config())
    port = socks_port(p)
    c = Socks(port)
    c.send(b"\x05\x01\x00\x05\x01\x00\x03" + bytes([len(HOSTILE)]) +
           HOSTILE + b"\x00\x50")
    assert c.method() == 0
    assert c.reply()[0] != 0
    c.close()
    p.wait_for(rf"blocked SOCKS5 CONNECT '\[?{ESCAPED}\]?:80' from ")
    p.wait_closed(1)

    a = Association(port)
    assert a.code == 0
    a.sendto(b"payload", HOSTILE, 7007)
    p.wait_for(rf"blocked UDP to '{ESCAPED}':7007 from ")
    a.close()
    p.wait_closed(2)
    assert_not_forged(p)


def fake_socks5_server(code, message):
    """A SOCKS5 server that refuses every CONNECT with paddock's reason
    method, sending code and message as given. Returns (port, thread)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(20)

    def serve():
        c, _ = srv.accept()
        with c, srv:
            c.settimeout(20)
            greeting = c.recv(2)
            c.recv(greeting[1])
            c.sendall(b"\x05\xa7")
            head = c.recv(5)  # VER CMD RSV ATYP=3 LEN
            c.recv(head[4] + 2)
            c.sendall(b"\x05\x02\x00\x01\x00\x00\x00\x00\x00\x00" +
                      bytes([len(code)]) + code + bytes([len(message)]) +
                      message)
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return srv.getsockname()[1], t


def test_connect_escapes_a_hostile_socks5_reason():
    port, t = fake_socks5_server(b"blocked\x1b[2J",
                                 b"no\npaddock: forged line\x07\x1b]0;x\x07")
    r = subprocess.run([binary("paddock"), "connect", "--socks",
                        f"127.0.0.1:{port}", "example.com", "22"],
                       capture_output=True, timeout=30)
    t.join(20)
    err = r.stderr.decode()
    assert r.returncode == 1
    assert err == ("paddock: example.com:22 blocked by policy: "
                   "no\\x0apaddock: forged line\\x07\\x1b]0;x\\x07 "
                   "(blocked\\x1b[2J)\n")
