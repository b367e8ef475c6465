"""The operator log never stalls the proxy.

Every line the proxy's threads log (blocked requests, the access log, audit
events on stderr) goes through one bounded writer thread: an unread stderr
costs log lines, counted and reported, never answers.
"""
import concurrent.futures
import fcntl
import socket
import time

from conftest import loopback_config


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

