"""Shared fixtures for the black-box suite.

Tests run the built binaries (PADDOCK_BUILD, default build-test) as a user
would. Servers report readiness on a line; nothing here sleeps to wait.
Traffic goes to loopback only, or to hosts inside network namespaces the
test itself created.
"""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
BUILD = os.environ.get("PADDOCK_BUILD", os.path.join(ROOT, "build-test"))


def binary(name):
    path = os.path.join(BUILD, name)
    if not os.path.exists(path):
        pytest.fail(f"{path} is not built; run make test")
    return path


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr


@pytest.fixture
def paddock():
    """Run build/paddock with arguments; returns rc, out and err."""
    exe = binary("paddock")

    def run(*args, input=None, env=None, cwd=None, timeout=60):
        proc = subprocess.run([exe, *args], input=input, env=env, cwd=cwd,
                              capture_output=True, text=True, timeout=timeout)
        return Result(proc)
    return run


# ---------------------------------------------------------------------------
# The proxy and its peers (tests/blackbox/test_1x_*.py).
# ---------------------------------------------------------------------------
import json
import re
import select
import shutil
import signal
import socket
import tempfile
import threading

HELPERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "helpers")
PYTHON = "/usr/bin/python3"

# Public-looking addresses that exist only inside the test namespace.
ORIGIN_V4 = "93.184.215.10"
ORIGIN_V6 = "2606:4700:90::10"
DEAD_V6 = "2606:4700:dead::1"


class Daemon:
    """A helper process that announces readiness on one line of output.

    Every later line is collected; wait_for() blocks on a condition until
    a matching line arrives (no sleeping, no polling).
    """

    def __init__(self, argv, ready, stream="stdout", env=None, preexec=None,
                 cwd=None, timeout=30):
        self.argv = argv
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE if stream == "stdout" else None,
            stderr=subprocess.PIPE if stream == "stderr" else None,
            env=env, preexec_fn=preexec, cwd=cwd)
        self.out = self.proc.stdout if stream == "stdout" else self.proc.stderr
        self.lines = []
        self.cond = threading.Condition()
        self.reading = threading.Event()
        self.reading.set()
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()
        self.ready = self.wait_for(ready, 1, timeout)[0]

    def _pump(self):
        fd, pending = self.out.fileno(), b""
        while True:
            self.reading.wait()
            data = os.read(fd, 65536)
            if not data:
                break
            pending += data
            *lines, pending = pending.split(b"\n")
            with self.cond:
                self.lines += [x.decode(errors="replace") + "\n"
                               for x in lines]
                self.cond.notify_all()
        with self.cond:
            if pending:
                self.lines.append(pending.decode(errors="replace"))
            self.eof = True
            self.cond.notify_all()

    def pause(self):
        """Stop reading the output (after the read in progress), so the
        pipe fills up as if nobody were reading it."""
        self.reading.clear()

    def resume(self):
        self.reading.set()

    def text(self):
        with self.cond:
            return "".join(self.lines)

    def wait_for(self, pattern, count=1, timeout=20):
        """Block until count lines match pattern; returns the matches."""
        rx = re.compile(pattern)
        with self.cond:
            def found():
                return [m for m in map(rx.search, self.lines) if m]
            self.cond.wait_for(lambda: len(found()) >= count or
                               getattr(self, "eof", False), timeout)
            hits = found()
        if len(hits) < count:
            pytest.fail(f"no {count} line(s) matching {pattern!r}:\n"
                        + self.text())
        return hits

    def count(self, pattern):
        rx = re.compile(pattern)
        with self.cond:
            return sum(1 for line in self.lines if rx.search(line))

    def stop(self, sig=signal.SIGTERM, timeout=20):
        self.resume()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.thread.join(5)
        return rc


def network_config(domains=None, *, proxy_url="http://127.0.0.1:0",
                   local_binding=True, mode="full", extra="", enabled=True,
                   socks=False, upstream=False):
    """A config.toml with one permission profile, "test"."""
    lines = [
        'default_permissions = "test"',
        "[permissions.test.filesystem]",
        '":root" = "read"',
        "[permissions.test.network]",
        f"enabled = {str(enabled).lower()}",
        f'proxy_url = "{proxy_url}"',
        f"enable_socks5 = {str(socks).lower()}",
        f"allow_local_binding = {str(local_binding).lower()}",
        f"allow_upstream_proxy = {str(upstream).lower()}",
        f'mode = "{mode}"',
        extra,
        "[permissions.test.network.domains]",
    ]
    for pattern, verdict in (domains or {}).items():
        lines.append(f'"{pattern}" = "{verdict}"')
    return "\n".join(lines) + "\n"


class Proxy(Daemon):
    """build/paddock proxy with a generated config."""

    def __init__(self, workdir, config, limits=(), env=None, enter=(),
                 nofile=None, workers=2, args=(), watch=False):
        self.workdir = workdir
        self.config_path = os.path.join(workdir, "config.toml")
        with open(self.config_path, "w") as f:
            f.write(config)
        argv = [*enter, binary("paddock"), "--log-level", "info", "proxy",
                "--config", self.config_path, "--system-config", "",
                "--home", workdir, "--cwd", workdir,
                "--audit", "-", "--workers", str(workers)]
        for lim in limits:
            argv += ["--limit", lim]
        # Reloads happen when a test asks (SIGHUP, reload()), not also
        # when it writes the config: test_82_reload.py tests the watcher.
        if not watch:
            argv.append("--no-watch")
        argv += list(args)
        preexec = None
        if nofile:
            import resource

            def preexec():
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        super().__init__(argv, r"paddock: listening http=(\S+):(\d+) "
                         r"socks5=(\S+) admin=(\S+)", stream="stderr",
                         env=env, preexec=preexec, cwd=workdir)
        self.host = self.ready.group(1).strip("[]")
        self.port = int(self.ready.group(2))
        # "HOST:PORT" of the admin API, or None when it is off.
        admin = self.ready.group(4)
        self.admin = None if admin == "off" else admin
        self.url = f"http://{self.ready.group(1)}:{self.port}"
        self.pid = self.proc.pid

    def reload(self, config):
        before = self.count(r"configuration reloaded|reload failed")
        with open(self.config_path, "w") as f:
            f.write(config)
        self.proc.send_signal(signal.SIGHUP)
        self.wait_for(r"configuration reloaded|reload failed", before + 1)

    def sockets(self):
        """Open sockets of the proxy process (listeners included)."""
        n = 0
        for fd in os.listdir(f"/proc/{self.pid}/fd"):
            try:
                if os.readlink(f"/proc/{self.pid}/fd/{fd}").startswith(
                        "socket:"):
                    n += 1
            except OSError:
                pass
        return n

    def describe_fds(self):
        out = []
        for fd in sorted(os.listdir(f"/proc/{self.pid}/fd"), key=int):
            try:
                out.append(f"{fd} -> "
                           f"{os.readlink(f'/proc/{self.pid}/fd/{fd}')}")
            except OSError:
                pass
        return "\n".join(out)

    def sessions_closed(self):
        return self.count(r"paddock: info: access ")

    def wait_closed(self, n):
        """Block until n sessions wrote their access-log line (written
        after their sockets were closed)."""
        self.wait_for(r"paddock: info: access ", n)

    def audit(self, count=0):
        """The audit events so far (they share stderr with the log), after
        waiting for at least count of them."""
        if count:
            self.wait_for(r'^\{"event.name"', count)
        with self.cond:
            return [json.loads(line) for line in self.lines
                    if line.startswith('{"event.name"')]

    def finish(self):
        rc = self.stop()
        err = self.text()
        assert "ERROR: AddressSanitizer" not in err, err
        assert "runtime error:" not in err, err
        assert "ERROR: LeakSanitizer" not in err, err
        assert rc == 0, f"paddock proxy exited {rc}:\n{err}"


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="paddock-test-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def start_proxy(workdir):
    """Start paddock proxy: start_proxy(config_text, limits=[...])."""
    started = []

    def start(config, **kw):
        d = tempfile.mkdtemp(dir=workdir)
        p = Proxy(d, config, **kw)
        started.append(p)
        return p
    yield start
    for p in started:
        p.finish()


@pytest.fixture(scope="session")
def tls_ca(tmp_path_factory):
    """A throwaway CA and one leaf for origin.test, localhost, 127.0.0.1
    and the namespace origin address. Returns (ca.pem, leaf.pem, leaf.key).
    """
    d = str(tmp_path_factory.mktemp("ca"))
    ca, ca_key = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
    leaf, key = os.path.join(d, "leaf.pem"), os.path.join(d, "leaf.key")
    csr, ext = os.path.join(d, "leaf.csr"), os.path.join(d, "ext.cnf")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]

    def run(*argv):
        subprocess.run(["openssl", *argv], check=True, capture_output=True)
    run("req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2",
        "-subj", "/CN=paddock test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                "subjectAltName=DNS:origin.test,DNS:localhost,"
                f"IP:127.0.0.1,IP:{ORIGIN_V4}\n")
    run("req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=origin.test")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
        "-CAcreateserial", "-days", "2", "-out", leaf, "-extfile", ext)
    return ca, leaf, key


def start_origin(enter=(), bind="127.0.0.1", port=0, tls=None,
                 git_root=None):
    argv = [*enter, PYTHON, os.path.join(HELPERS, "origin.py"),
            "--bind", bind, "--port", str(port)]
    if tls:
        argv += ["--tls", tls[1], tls[2]]
    if git_root:
        argv += ["--git-root", git_root]
    d = Daemon(argv, r"origin: listening (\S+) (\d+)")
    d.port = int(d.ready.group(2))
    return d


@pytest.fixture(scope="module")
def origin():
    """An HTTP origin on loopback (see helpers/origin.py)."""
    d = start_origin()
    yield d
    d.stop()


@pytest.fixture(scope="module")
def tls_origin(tls_ca):
    d = start_origin(tls=tls_ca)
    yield d
    d.stop()


def loopback_config(**kw):
    """Loopback origins are local: allow them explicitly."""
    domains = {"127.0.0.1": "allow", "localhost": "allow",
               "denied.test": "deny"}
    domains.update(kw.pop("domains", {}))
    return network_config(domains, **kw)


def pattern_bytes(n):
    block = bytes(i % 251 for i in range(251 * 64))
    out = bytearray()
    while len(out) < n:
        out += block[:n - len(out)]
    return bytes(out)


class Response:
    def __init__(self, status, reason, headers, body, raw_head):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.raw_head = raw_head

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body)


class Raw:
    """A raw client connection for exact bytes on the wire."""

    def __init__(self, port, host="127.0.0.1", timeout=20):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _more(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def read_response(self, head_only=False):
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        _, status, *reason = lines[0].split(" ", 2)
        headers = [tuple(x.strip() for x in line.split(":", 1))
                   for line in lines[1:]]
        r = Response(int(status), reason[0] if reason else "", headers, b"",
                     head)
        if head_only or r.status in (204, 304) or 100 <= r.status < 200:
            return r
        if (r.header("transfer-encoding") or "").lower() == "chunked":
            body = b""
            while True:
                while b"\r\n" not in self.buf:
                    self._more()
                size_line, self.buf = self.buf.split(b"\r\n", 1)
                size = int(size_line, 16)
                while len(self.buf) < size + 2:
                    self._more()
                body += self.buf[:size]
                self.buf = self.buf[size + 2:]
                if size == 0:
                    break
            r.body = body
        elif r.header("content-length") is not None:
            n = int(r.header("content-length"))
            while len(self.buf) < n:
                self._more()
            r.body, self.buf = self.buf[:n], self.buf[n:]
        else:
            r.body = self.read_to_eof()
        return r

    def read_to_eof(self):
        try:
            while True:
                self._more()
        except (EOFError, ConnectionResetError):
            pass
        data, self.buf = self.buf, b""
        return data

    def is_closed(self):
        """True once the peer closed (reads what is left first)."""
        try:
            self.sock.settimeout(20)
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.buf += data
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def http_get(proxy, url, headers=(), method="GET", body=b""):
    """One request through the proxy in absolute form; closes after."""
    host = url.split("/")[2]
    req = f"{method} {url} HTTP/1.1\r\nHost: {host}\r\n"
    req += "".join(f"{k}: {v}\r\n" for k, v in headers)
    if body:
        req += f"Content-Length: {len(body)}\r\n"
    req += "Connection: close\r\n\r\n"
    c = Raw(proxy.port, proxy.host)
    try:
        c.send(req.encode() + body)
        return c.read_response(head_only=method == "HEAD")
    finally:
        c.close()


class NetNS:
    """A private network and mount namespace with no route off the
    machine: loopback, a dummy interface with public-looking addresses,
    and /etc/hosts and /etc/resolv.conf of our own that point at a test
    DNS server. Commands run inside through nsenter."""

    def __init__(self, workdir, zone, hosts="", localhost=True):
        self.workdir = workdir
        user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
        self.holder = subprocess.Popen(
            ["unshare", "--net", "--mount", "--propagation", "private",
             *user, PYTHON, "-c",
             "import sys; print('ready', flush=True); sys.stdin.read()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        if self.holder.stdout.readline().strip() != b"ready":
            err = self.holder.stderr.read().decode()
            self.holder.kill()
            pytest.skip(f"cannot create a network namespace: {err.strip()}")
        self.enter = ["nsenter", "-t", str(self.holder.pid), "-n", "-m"]
        if user:
            self.enter += ["-U", "--preserve-credentials"]
        self.run("ip", "link", "set", "lo", "up")
        dev = "pd0"
        if self.run("ip", "link", "add", dev, "type", "dummy",
                    check=False).returncode != 0:
            dev = "lo"  # no dummy driver: the addresses live on lo
        else:
            self.run("ip", "link", "set", dev, "up")
        self.run("ip", "addr", "add", f"{ORIGIN_V4}/32", "dev", dev)
        self.run("ip", "-6", "addr", "add", f"{ORIGIN_V6}/128", "dev", dev,
                 "nodad")
        # A route into nowhere: connects to DEAD_V6 hang (Happy Eyeballs).
        self.run("ip", "link", "add", "pdv0", "type", "veth", "peer", "name",
                 "pdv1", check=False)
        self.run("ip", "link", "set", "pdv0", "up", check=False)
        self.run("ip", "-6", "route", "add", f"{DEAD_V6}/128", "dev",
                 "pdv0", check=False)
        hosts_path = os.path.join(workdir, "hosts")
        resolv_path = os.path.join(workdir, "resolv.conf")
        zone_path = os.path.join(workdir, "zone.json")
        with open(hosts_path, "w") as f:
            # localhost=False: an /etc/hosts without a localhost line,
            # as some containers have.
            f.write(("127.0.0.1 localhost\n::1 localhost\n"
                     if localhost else "") + hosts)
        with open(resolv_path, "w") as f:
            f.write("nameserver 127.0.0.1\noptions ndots:1 attempts:1\n")
        with open(zone_path, "w") as f:
            json.dump(zone, f)
        self.run("mount", "--bind", hosts_path, "/etc/hosts")
        self.run("mount", "--bind", resolv_path, "/etc/resolv.conf")
        self.dns = Daemon([*self.enter, PYTHON,
                           os.path.join(HELPERS, "dnsserver.py"),
                           "--bind", "127.0.0.1", "--port", "53",
                           "--zone", zone_path], r"dns: listening")

    def run(self, *argv, check=True, input=None, env=None, timeout=60):
        r = subprocess.run([*self.enter, *argv], capture_output=True,
                           input=input, env=env, timeout=timeout)
        if check and r.returncode != 0:
            pytest.fail(f"in namespace: {' '.join(argv)}: "
                        f"{r.stderr.decode(errors='replace')}")
        return r

    def dns_queries(self, name):
        """Lookups of name the DNS server saw so far (each was logged
        before it was answered)."""
        return self.dns.count(rf"dns: query {re.escape(name)} ")

    def close(self):
        self.dns.stop(signal.SIGKILL)
        self.holder.stdin.close()
        self.holder.wait(10)
