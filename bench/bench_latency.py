#!/usr/bin/python3
"""Latency paddock adds to one request, against direct (make bench).

An origin that writes its answers in pieces (tests/blackbox/helpers/
piecewise.py: head then body, small chunks, trailers, and head and body in
one write as the control) keeps Nagle's algorithm on, so a piece after the
first leaves only once the one before was acknowledged: whoever delays an
acknowledgement delays the answer. For every pattern and three clients

  fresh        a new connection per request, absolute form
  kept-alive   one connection for every request, absolute form
  tunnel       one CONNECT tunnel for every request

the client sends GETs one after another, directly and through each proxy
(taking turns in blocks), and times each until its whole answer arrived. The client itself
acknowledges at once (TCP_QUICKACK), so direct is the best case and
"added" is what the proxy costs. Prints p50 and p99 of the added latency
(proxied percentile minus direct percentile) per pattern, a Markdown table
also written to bench/results/latency.md, and exits non-zero when paddock
adds 1 ms or more at p50 to any pattern in absolute form. squid is
measured too when it is installed. Loopback only.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile

from benchutil import start_paddock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELPERS = os.path.join(ROOT, "tests", "blackbox", "helpers")
sys.path.insert(0, HELPERS)
from piecewise import BODY, timed  # noqa: E402

PATTERNS = ("split", "chunks", "trailers", "whole")
CLIENTS = ("fresh", "kept-alive", "tunnel")
TARGET_MS = 1.0


class Client:
    """GETs to the origin, directly (proxy_port None) or through a proxy,
    in one of the CLIENTS modes."""

    def __init__(self, origin_port, proxy_port, mode):
        self.host = f"127.0.0.1:{origin_port}"
        self.port = proxy_port or origin_port
        self.absolute = proxy_port is not None and mode != "tunnel"
        self.tunnel = proxy_port is not None and mode == "tunnel"
        self.fresh = mode == "fresh"
        self.sock = None
        self.buf = b""

    def _connect(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port),
                                             timeout=30)
        self.buf = b""
        if self.tunnel:
            self.sock.sendall(f"CONNECT {self.host} HTTP/1.1\r\nHost: "
                              f"{self.host}\r\n\r\n".encode())
            while b"\r\n\r\n" not in self.buf:
                data = self.sock.recv(4096)
                if not data:
                    raise EOFError("tunnel refused")
                self.buf += data
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            if b" 200" not in head.split(b"\r\n")[0]:
                raise EOFError(f"tunnel refused: {head[:60]!r}")

    def get(self, path):
        if self.sock is None:
            self._connect()
        target = f"http://{self.host}{path}" if self.absolute else path
        secs, body, self.buf = timed(self.sock, target, self.host, self.buf)
        if body != BODY:
            raise ValueError(f"unexpected body {body[:60]!r}")
        if self.fresh:
            self.close()
        return secs

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None


def percentile(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def measure(origin_port, proxies, requests, rounds=5):
    """{(peer, client, pattern): [seconds]}. Each peer sends its requests
    back to back, as a client fetching one file after another does, in
    blocks of requests/rounds; the peers take turns block by block, so
    that other work on the machine hits every peer alike. (Turns request
    by request would not do: a proxy's upstream connection idle for
    another peer's 40 ms stall is out of the kernel's delayed-ACK mode
    when its own next request comes, which hides the delay.)"""
    out = {}
    block = max(1, requests // rounds)
    for mode in CLIENTS:
        for pattern in PATTERNS:
            path = "/" + pattern
            clients = {"direct": Client(origin_port, None, mode)}
            for name, port in proxies.items():
                clients[name] = Client(origin_port, port, mode)
            for name, c in clients.items():
                c.get(path)  # warm-up: dials, fills pools
                out[(name, mode, pattern)] = []
            for _ in range(rounds):
                for name, c in clients.items():
                    out[(name, mode, pattern)] += [c.get(path)
                                                   for _ in range(block)]
            for c in clients.values():
                c.close()
    return out


def ms(v):
    return f"{v * 1000:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--requests", type=int, default=200,
                    help="requests per peer, client and pattern")
    args = ap.parse_args()
    os.environ["PATH"] += ":/usr/sbin"
    tmp = tempfile.mkdtemp(prefix="paddock-bench-")
    if os.geteuid() == 0:
        os.chmod(tmp, 0o755)
    origin = subprocess.Popen([sys.executable,
                               os.path.join(HELPERS, "piecewise.py")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    servers = {}
    try:
        origin_port = int(origin.stdout.readline().split()[-1])
        servers["paddock"] = start_paddock(tmp, args.build)
        if shutil.which("squid"):
            from bench_http import start_squid
            servers["squid"] = start_squid(tmp)
        print(f"bench: {', '.join(servers)} and direct, {args.requests} "
              "requests per client and pattern...", flush=True)
        proxies = {name: s.port for name, s in servers.items()}
        samples = measure(origin_port, proxies, args.requests)
    finally:
        for s in servers.values():
            s.stop()
        origin.stdin.close()
        origin.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    lines = [
        f"{args.requests} requests per peer, client and pattern, back to "
        "back in 5 interleaved blocks; added = the proxy's percentile minus direct's, ms "
        "(direct: the p50 and p99 of the requests themselves).",
        "",
        "| client | pattern | direct p50 | direct p99 | "
        + " | ".join(f"{n} added p50 | {n} added p99" for n in servers)
        + " |",
        "|---|---|---:|---:|" + "---:|---:|" * len(servers),
    ]
    ok = True
    for mode in CLIENTS:
        for pattern in PATTERNS:
            d = samples[("direct", mode, pattern)]
            row = [mode, pattern, ms(percentile(d, 0.5)),
                   ms(percentile(d, 0.99))]
            for name in servers:
                t = samples[(name, mode, pattern)]
                p50 = percentile(t, 0.5) - percentile(d, 0.5)
                p99 = percentile(t, 0.99) - percentile(d, 0.99)
                row += [ms(p50), ms(p99)]
                if name == "paddock" and mode != "tunnel" and \
                        p50 * 1000 >= TARGET_MS:
                    ok = False
            lines.append("| " + " | ".join(row) + " |")
    lines += ["", "*tunnel*: directly, the same client on one kept-alive "
              "connection; the proxy only relays bytes it cannot read.",
              "", f"paddock, absolute form: added p50 < {TARGET_MS} ms for "
              f"every pattern: {'met' if ok else 'MISSED'}"]
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "latency.md"),
              "w") as f:
        f.write(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
