"""HTTPS interception: limited mode inside HTTPS, with real clients.

The proxy runs in limited mode with mitm = true and trusts the test CA of
the loopback TLS origin (SSL_CERT_FILE of the paddock process); clients
trust paddock's own CA, which the proxy makes in its CODEX_HOME/proxy on
first start. Loopback only.
"""
import http.client
import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile

import pytest

from conftest import (HELPERS, PYTHON, Daemon, Raw, loopback_config,
                      pattern_bytes, start_origin)

sys.path.insert(0, HELPERS)
from piecewise import BODY, timed  # noqa: E402


def proxy_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if "proxy" not in k.lower() and not k.startswith("SSL_CERT")}
    env.update(extra)
    return env


def mitm_config(**kw):
    kw.setdefault("mode", "limited")
    return loopback_config(extra="mitm = true", **kw)


@pytest.fixture
def mitm(start_proxy, tls_ca):
    """A limited-mode proxy that intercepts and trusts the test origin."""
    p = start_proxy(mitm_config(), env=proxy_env(SSL_CERT_FILE=tls_ca[0]))
    p.ca = os.path.join(p.workdir, "proxy", "ca.pem")
    assert os.path.exists(p.ca), p.text()
    return p


def client_context(p, strict=True):
    ctx = ssl.create_default_context(cafile=p.ca)
    if strict:
        # What Python 3.13 turns on by default; needs AKI in the leaf.
        ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    return ctx


def tunnel(p, host, port):
    """An HTTPSConnection through the proxy's CONNECT."""
    c = http.client.HTTPSConnection(p.host, p.port, timeout=10,
                                    context=client_context(p))
    c.set_tunnel(host, port)
    return c


def curl(p, url, *args):
    return subprocess.run(
        ["curl", "-sS", "--max-time", "20", "-x", p.url, "--cacert", p.ca,
         "-o", "-", "-w", "\n%{http_code}", *args, url],
        capture_output=True, text=True, env=proxy_env())


class Listener:
    """A TCP port that never accepts: a connection attempt shows up in its
    backlog, so a test can prove nothing reached it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def reached(self):
        try:
            conn, _ = self.sock.accept()
        except BlockingIOError:
            return False
        conn.close()
        return True


def test_safe_methods_pass_through_interception(mitm, tls_origin):
    url = f"https://localhost:{tls_origin.port}/echo"
    for method in ("GET", "HEAD", "OPTIONS"):
        r = curl(mitm, url, "-X", method) if method != "HEAD" else \
            curl(mitm, url, "-I")
        assert r.returncode == 0, r.stderr
        assert r.stdout.endswith("\n200"), (method, r.stdout)
    r = curl(mitm, url)
    echo = json.loads(r.stdout.rsplit("\n", 1)[0])
    assert echo["method"] == "GET" and echo["target"] == "/echo"
    # Origin-form inside TLS, with the client's Host.
    assert ["host", f"localhost:{tls_origin.port}"] in echo["headers"]
    mitm.wait_for(r'"network.transport.protocol":"https"', 4)
    events = [e for e in mitm.audit() if e.get("network.transport.protocol") ==
              "https"]
    assert events and all(e["network.policy.decision"] == "allow"
                          for e in events)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_unsafe_methods_are_refused_before_the_origin(mitm, method):
    quiet = Listener()
    r = curl(mitm, f"https://localhost:{quiet.port}/x", "-X", method,
             "-d", "payload", "-D", "-")
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith("\n403")
    assert "x-proxy-error: blocked-by-method-policy" in r.stdout.lower()
    text = r.stdout.rsplit("\n", 1)[0].strip()
    body = json.loads(text.split("\n\n")[-1])
    assert body["reason"] == "method_not_allowed"
    assert body["protocol"] == "https"
    assert not quiet.reached()
    mitm.wait_for(r'"network.policy.reason":"method_not_allowed"')
    blocked = [e for e in mitm.audit()
               if e.get("network.policy.reason") == "method_not_allowed"]
    assert blocked and blocked[-1]["network.transport.protocol"] == "https"
    assert blocked[-1]["http.request.method"] == method


def test_kept_alive_tunnel_mixes_allowed_and_refused(mitm, tls_origin):
    c = tunnel(mitm, "localhost", tls_origin.port)
    c.request("GET", "/bytes/100000")
    r = c.getresponse()
    assert r.status == 200 and len(r.read()) == 100000
    sock = c.sock
    c.request("DELETE", "/thing")
    r = c.getresponse()
    assert r.status == 403
    assert r.getheader("x-proxy-error") == "blocked-by-method-policy"
    r.read()
    c.request("GET", "/chunked/5000")
    r = c.getresponse()
    assert r.status == 200 and len(r.read()) == 5000
    c.request("HEAD", "/bytes/10")
    r = c.getresponse()
    assert r.status == 200 and r.read() == b""
    assert c.sock is sock, "the tunnel was not kept alive"
    c.close()


def test_host_mismatch_and_inner_connect(mitm, tls_origin):
    c = tunnel(mitm, "localhost", tls_origin.port)
    c.putrequest("GET", "/echo", skip_host=True)
    c.putheader("Host", "elsewhere.example")
    c.endheaders()
    r = c.getresponse()
    assert r.status == 400 and b"host mismatch" in r.read()
    c.close()
    c = tunnel(mitm, "localhost", tls_origin.port)
    c.request("CONNECT", "other.example:443")
    r = c.getresponse()
    assert r.status == 405
    assert b"CONNECT not supported" in r.read()
    c.close()


def test_untrusted_origin_is_answered_502(start_proxy, tls_origin):
    # This proxy does not trust the test CA of the origin.
    p = start_proxy(mitm_config(), env=proxy_env(
        SSL_CERT_FILE=os.path.join(tempfile.gettempdir(), "no-such-ca.pem")))
    p.ca = os.path.join(p.workdir, "proxy", "ca.pem")
    r = curl(p, f"https://localhost:{tls_origin.port}/echo")
    assert r.stdout.endswith("\n502"), r.stdout
    assert "upstream certificate not trusted" in r.stdout


def test_leaf_fields(mitm, tls_origin):
    s = socket.create_connection((mitm.host, mitm.port), timeout=10)
    s.sendall(f"CONNECT localhost:{tls_origin.port} HTTP/1.1\r\n"
              f"Host: localhost:{tls_origin.port}\r\n\r\n".encode())
    assert s.recv(200).startswith(b"HTTP/1.1 200")
    ctx = client_context(mitm)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    t = ctx.wrap_socket(s, server_hostname="localhost")
    assert t.selected_alpn_protocol() == "http/1.1"
    der = t.getpeercert(binary_form=True)
    t.close()
    pem = ssl.DER_cert_to_PEM_cert(der)
    text = subprocess.run(["openssl", "x509", "-noout", "-text"],
                          input=pem, capture_output=True, text=True,
                          check=True).stdout
    assert "DNS:localhost" in text
    assert "TLS Web Server Authentication" in text
    assert "Authority Key Identifier" in text
    assert "Subject Key Identifier" in text
    assert "CA:FALSE" in text
    dates = subprocess.run(["openssl", "x509", "-noout", "-startdate",
                            "-enddate", "-checkend", str(8 * 86400)],
                           input=pem, capture_output=True, text=True)
    assert dates.returncode == 1, "a leaf must expire within days"
    issuer = subprocess.run(["openssl", "verify", "-CAfile", mitm.ca],
                            input=pem, capture_output=True, text=True)
    assert issuer.returncode == 0, issuer.stdout + issuer.stderr


def test_ip_literal_gets_an_ip_san(mitm, tls_origin):
    c = tunnel(mitm, "127.0.0.1", tls_origin.port)
    c.request("GET", "/echo")
    r = c.getresponse()
    assert r.status == 200
    r.read()
    c.close()


def test_leaf_cache_figures_are_logged_at_exit(mitm, tls_origin):
    # A leaf per host: the first tunnel to a host mints it, later ones
    # find it in the cache.
    for host in ("localhost", "localhost", "localhost", "127.0.0.1"):
        c = tunnel(mitm, host, tls_origin.port)
        c.request("GET", "/echo")
        r = c.getresponse()
        assert r.status == 200
        r.read()
        c.close()
    assert mitm.stop() == 0
    assert ("interception leaf cache: 2 hits, 2 minted, 0 evicted, "
            "2 cached") in mitm.text()


def test_full_mode_never_intercepts(start_proxy, tls_ca, tls_origin):
    p = start_proxy(mitm_config(mode="full"),
                    env=proxy_env(SSL_CERT_FILE=tls_ca[0]))
    # The origin's own certificate arrives: the test CA verifies it.
    r = subprocess.run(
        ["curl", "-sS", "--max-time", "20", "-x", p.url, "--cacert",
         tls_ca[0], "-o", "/dev/null", "-w", "%{http_code}",
         f"https://localhost:{tls_origin.port}/echo"],
        capture_output=True, text=True, env=proxy_env())
    assert r.stdout == "200", r.stderr
    assert "warning" in p.text() and "mitm = true changes nothing" in \
        p.text()


def test_denied_host_is_refused_before_tls(mitm):
    r = curl(mitm, "https://denied.test/")
    assert "403" in r.stderr or r.stdout.endswith("\n000"), r
    mitm.wait_for(r'"server.address":"denied.test"')
    ev = [e for e in mitm.audit()
          if e.get("server.address") == "denied.test"]
    assert ev and ev[-1]["network.transport.protocol"] == "https_connect"


def test_git_over_intercepted_https_reads_refs_and_is_told_why(
        start_proxy, tls_ca, workdir):
    """Smart HTTP fetches with POST (git-upload-pack): limited mode lets
    git read the refs (GET) inside HTTPS, and refuses the fetch with a
    reason git shows, the origin never seeing the POST."""
    root = tempfile.mkdtemp(prefix="paddock-git-", dir=workdir)
    work = os.path.join(root, "work")
    env = proxy_env(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
                    GIT_COMMITTER_NAME="t",
                    GIT_COMMITTER_EMAIL="t@example.com", HOME=root)
    os.makedirs(work)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=work, env=env,
                   check=True)
    with open(os.path.join(work, "f.txt"), "w") as f:
        f.write("intercepted\n" * 1000)
    subprocess.run(["git", "add", "."], cwd=work, env=env, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "x"], cwd=work, env=env,
                   check=True)
    subprocess.run(["git", "clone", "-q", "--bare", work,
                    os.path.join(root, "repo.git")], env=env, check=True)
    origin = start_origin(tls=tls_ca, git_root=root)
    try:
        p = start_proxy(mitm_config(),
                        env=proxy_env(SSL_CERT_FILE=tls_ca[0]))
        # GIT_SSL_CAINFO is what paddock env gives git.
        env["GIT_SSL_CAINFO"] = os.path.join(p.workdir, "proxy", "ca.pem")
        url = f"https://localhost:{origin.port}/git/repo.git"
        # Protocol v0 lists refs with a GET; v2 would POST ls-refs.
        r = subprocess.run(["git", "-c", f"http.proxy={p.url}", "-c",
                            "protocol.version=0", "ls-remote", url], env=env,
                           capture_output=True, timeout=120)
        assert r.returncode == 0, r.stderr.decode()
        assert b"refs/heads/main" in r.stdout
        r = subprocess.run(["git", "-c", f"http.proxy={p.url}", "clone",
                            "-q", url, os.path.join(root, "clone")],
                           env=env, capture_output=True, timeout=120)
        assert r.returncode != 0
        assert b"403" in r.stderr
        p.wait_for(r'"network.policy.reason":"method_not_allowed"')
        refused = [e for e in p.audit()
                   if e.get("network.policy.reason") == "method_not_allowed"]
        assert refused and refused[-1]["http.request.method"] == "POST"
    finally:
        origin.stop()


def test_env_points_clients_at_a_bundle(paddock, workdir):
    cfg = os.path.join(workdir, "config.toml")
    with open(cfg, "w") as f:
        f.write(mitm_config(proxy_url="http://127.0.0.1:3999"))
    custom = os.path.join(workdir, "corp.pem")
    with open(custom, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nQUFB\n"
                "-----END CERTIFICATE-----\n")
    env = proxy_env(REQUESTS_CA_BUNDLE=custom)
    r = paddock("env", "--format", "json", "--config", cfg,
                "--system-config", "", "--home", workdir, "--cwd", workdir,
                env=env)
    assert r.rc == 0, r.err
    vars = json.loads(r.out)
    names = ["SSL_CERT_FILE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS",
             "GIT_SSL_CAINFO", "PIP_CERT", "BUNDLE_SSL_CA_CERT",
             "npm_config_cafile", "NPM_CONFIG_CAFILE", "CODEX_CA_CERTIFICATE",
             "CARGO_HTTP_CAINFO"]
    bundle = vars["SSL_CERT_FILE"]
    assert all(vars[n] == bundle for n in names)
    assert os.path.basename(bundle).startswith("ca-bundle-")
    assert oct(os.stat(bundle).st_mode & 0o777) == "0o644"
    with open(os.path.join(workdir, "proxy", "ca.pem")) as f:
        ca = f.read()
    with open(bundle) as f:
        text = f.read()
    assert text.endswith(ca)
    assert text.count("BEGIN CERTIFICATE") > 1, "system roots missing"
    # The parent's own bundle is kept, with the CA added.
    mine = vars["REQUESTS_CA_BUNDLE"]
    assert mine != bundle
    with open(mine) as f:
        assert f.read() == "-----BEGIN CERTIFICATE-----\nQUFB\n" \
            "-----END CERTIFICATE-----\n" + ca
    # Full mode needs no CA: nothing is set.
    with open(cfg, "w") as f:
        f.write(mitm_config(proxy_url="http://127.0.0.1:3999", mode="full"))
    r = paddock("env", "--format", "json", "--config", cfg,
                "--system-config", "", "--home", workdir, "--cwd", workdir,
                env=env)
    assert "SSL_CERT_FILE" not in json.loads(r.out)


@pytest.fixture
def origin_443(tls_ca):
    """The TLS origin on 127.0.0.1:443 (its certificate names localhost
    and 127.0.0.1)."""
    if os.geteuid() != 0:
        pytest.skip("binding port 443 needs root")
    d = start_origin(tls=tls_ca, bind="127.0.0.1", port=443)
    yield d
    d.stop()


def test_socks5_connect_to_443_is_intercepted(start_proxy, tls_ca,
                                               origin_443):
    p = start_proxy(loopback_config(
        mode="limited", socks=True,
        extra='mitm = true\nsocks_url = "http://127.0.0.1:0"'),
        env=proxy_env(SSL_CERT_FILE=tls_ca[0]))
    ca = os.path.join(p.workdir, "proxy", "ca.pem")
    socks = p.ready.group(3)

    def curl_socks(*args):
        return subprocess.run(
            ["curl", "-sS", "--max-time", "20", "--socks5-hostname", socks,
             "--cacert", ca, "-o", "-", "-w", "\n%{http_code}", *args],
            capture_output=True, text=True, env=proxy_env())
    r = curl_socks("https://localhost/echo")
    assert r.stdout.endswith("\n200"), r.stdout + r.stderr
    r = curl_socks("-X", "PUT", "-d", "x", "https://localhost/echo")
    assert r.stdout.endswith("\n403"), r.stdout + r.stderr
    assert '"protocol":"https"' in r.stdout
    # Any other port stays refused in limited mode.
    r = curl_socks(f"http://localhost:{p.port}/")
    assert r.returncode != 0
    p.wait_for(rf'"server.port":{p.port}')
    ev = [e for e in p.audit() if e.get("server.port") == p.port]
    assert ev and ev[-1]["network.policy.reason"] == "method_not_allowed"


def test_an_answer_before_a_close_is_delivered(mitm, tls_origin):
    """Connection: close inside the tunnel (urllib sends it by default):
    the whole answer arrives before the TLS connection ends."""
    url = f"https://localhost:{tls_origin.port}/bytes/70000"
    for method, want in (("GET", "200 70000"), ("DELETE", "403 ")):
        r = subprocess.run(
            ["curl", "-sS", "--max-time", "20", "-x", mitm.url, "--cacert",
             mitm.ca, "-X", method, "-H", "Connection: close", "-o",
             "/dev/null", "-w", "%{http_code} %{size_download}", url],
            capture_output=True, text=True, env=proxy_env())
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(want), r.stdout
    r = subprocess.run(
        [PYTHON, "-c",
         "import ssl, sys, urllib.request as u\n"
         "ctx = ssl.create_default_context(cafile=sys.argv[2])\n"
         "ctx.verify_flags |= ssl.VERIFY_X509_STRICT\n"
         "o = u.build_opener(u.ProxyHandler({'https': sys.argv[1]}),\n"
         "                   u.HTTPSHandler(context=ctx))\n"
         "print(len(o.open(sys.argv[3]).read()))\n",
         mitm.url, mitm.ca, url],
        capture_output=True, text=True, env=proxy_env())
    assert r.returncode == 0, r.stderr
    assert r.stdout == "70000\n"


def test_node_trusts_the_bundle_paddock_env_gives(mitm, tls_origin, paddock,
                                                  workdir):
    """Node (if installed) through a CONNECT it makes itself, trusting
    the interception CA through NODE_EXTRA_CA_CERTS as paddock env sets
    it: a GET passes, a POST is refused inside HTTPS."""
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    cfg = os.path.join(workdir, "env.toml")
    with open(cfg, "w") as f:
        f.write(mitm_config(proxy_url=f"http://127.0.0.1:{mitm.port}"))
    r = paddock("env", "--format", "json", "--config", cfg,
                "--system-config", "", "--home", mitm.workdir, "--cwd",
                workdir, env=proxy_env())
    assert r.rc == 0, r.err
    extra = json.loads(r.out)["NODE_EXTRA_CA_CERTS"]
    script = r"""
const http = require('http'), tls = require('tls');
const [proxyPort, port, method] = process.argv.slice(1);
const req = http.request({host: '127.0.0.1', port: proxyPort,
  method: 'CONNECT', path: `localhost:${port}`});
req.on('connect', (res, socket) => {
  const t = tls.connect({socket, servername: 'localhost'}, () => {
    t.write(`${method} /echo HTTP/1.1\r\nHost: localhost:${port}\r\n` +
            `Content-Length: 0\r\nConnection: close\r\n\r\n`);
  });
  let data = '';
  t.on('data', d => data += d);
  t.on('end', () => { console.log(data.split('\r\n')[0]); });
  t.on('error', e => { console.log('error ' + e.message); });
});
req.end();
"""
    env = proxy_env(NODE_EXTRA_CA_CERTS=extra)
    for method, want in (("GET", "HTTP/1.1 200"), ("POST", "HTTP/1.1 403")):
        out = subprocess.run([node, "-e", script, str(mitm.port),
                              str(tls_origin.port), method],
                             capture_output=True, text=True, env=env,
                             timeout=60)
        assert out.stdout.startswith(want), out.stdout + out.stderr


def test_bulk_bodies_arrive_whole_on_a_kept_alive_tunnel(mitm, tls_origin):
    """Megabytes both framings, one after another on one tunnel: every
    record read from the origin leaves again whole and in order."""
    c = tunnel(mitm, "localhost", tls_origin.port)
    for target, n in (("/bytes/6000000", 6000000), ("/chunked/300000",
                                                     300000),
                      ("/bytes/1000001", 1000001)):
        c.request("GET", target)
        r = c.getresponse()
        assert r.status == 200
        assert r.read() == pattern_bytes(n), target
    c.close()


def test_client_hello_sent_with_the_connect_is_intercepted(mitm,
                                                          tls_origin):
    """A client that sends its ClientHello in the same write as its
    CONNECT: those bytes are already read when interception starts, and
    the handshake still reads them first."""
    target = f"localhost:{tls_origin.port}"
    out, inc = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = client_context(mitm).wrap_bio(inc, out, server_hostname="localhost")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    c = Raw(mitm.port)
    c.send(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode()
           + out.read())
    assert c.read_response(head_only=True).status == 200
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            if out.pending:
                c.send(out.read())
            data = c.buf or c.sock.recv(65536)
            c.buf = b""
            assert data, "closed during the handshake"
            inc.write(data)
    tls.write(b"GET /bytes/9 HTTP/1.1\r\nHost: " + target.encode() +
              b"\r\nConnection: close\r\n\r\n")
    c.send(out.read())
    got = b""
    while not got.endswith(pattern_bytes(9)):
        try:
            got += tls.read(65536)
        except ssl.SSLWantReadError:
            data = c.sock.recv(65536)
            assert data, got
            inc.write(data)
    assert got.startswith(b"HTTP/1.1 200")
    c.sock.close()


@pytest.fixture(scope="module")
def tls_piecewise(tls_ca):
    d = Daemon([PYTHON, os.path.join(HELPERS, "piecewise.py"), "--tls",
                tls_ca[1], tls_ca[2]], r"piecewise: listening (\d+)")
    d.port = int(d.ready.group(1))
    yield d
    d.stop()


@pytest.mark.parametrize("path", ["/split", "/chunks"])
def test_pieces_of_an_intercepted_answer_are_not_held_back(
        mitm, tls_ca, tls_piecewise, path):
    """An origin over TLS that writes head and body apart, with Nagle's
    algorithm on, sends the body only once the head is acknowledged: the
    proxy must acknowledge on its TLS upstream at once, as on a plain
    one (test_19_latency), not 40 ms later."""
    host = f"localhost:{tls_piecewise.port}"
    direct = ssl.create_default_context(cafile=tls_ca[0]).wrap_socket(
        socket.create_connection(("127.0.0.1", tls_piecewise.port),
                                 timeout=20), server_hostname="localhost")
    raw = Raw(mitm.port)
    raw.send(f"CONNECT {host} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    assert raw.read_response(head_only=True).status == 200
    proxied = client_context(mitm).wrap_socket(raw.sock,
                                               server_hostname="localhost")
    bufs = {id(direct): b"", id(proxied): b""}

    def get(sock):
        secs, body, bufs[id(sock)] = timed(sock, path, host, bufs[id(sock)])
        assert body == BODY
        return secs
    get(direct)
    get(proxied)  # dials the origin; the rest reuse that connection
    d, t = [], []
    for _ in range(15):
        d.append(get(direct))
        t.append(get(proxied))
    direct.close()
    proxied.close()
    added = statistics.median(t) - statistics.median(d)
    assert added < 0.010, (
        f"{path}: interception adds {added * 1000:.1f} ms at the median "
        f"(direct {statistics.median(d) * 1000:.2f} ms, intercepted "
        f"{statistics.median(t) * 1000:.2f} ms)")
