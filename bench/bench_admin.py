#!/usr/bin/python3
"""What scraping the admin API costs the data path (make bench).

One nginx origin and one paddock proxy with its admin API on, on loopback.
Keep-alive requests per second through the proxy (wrk, small GETs in
absolute form over 50 kept-alive connections) are measured in interleaved
rounds, alternately with a scraper reading GET /metrics ten times a second
and without it, in the same run against the same proxy; the figure is the
ratio of the medians. Target: the scrape costs nothing measurable, the
ratio at least 0.97 (the rounds' own spread on this shared machine is of
that order). Prints a Markdown table (also bench/results/admin.md) and
exits non-zero when the target is missed.
"""
import argparse
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time

import bench_http
from bench_http import machine, start_nginx, wrk
from benchutil import Server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRAPES_PER_SECOND = 10
TARGET = 0.97


def measured(proxy, url):
    """(req/s, proxy CPU µs per request) of one wrk run, or None."""
    c0 = proxy.cpu_seconds()
    r = wrk(url, proxy.port)
    c1 = proxy.cpu_seconds()
    if not r:
        return None
    rps, n = r
    return rps, (c1 - c0) / n * 1e6


def start_paddock(tmp, build):
    d = os.path.join(tmp, "paddock")
    os.makedirs(d)
    conf = os.path.join(d, "config.toml")
    with open(conf, "w") as f:
        f.write("""default_permissions = "bench"
[permissions.bench.filesystem]
":root" = "read"
[permissions.bench.network]
enabled = true
proxy_url = "http://127.0.0.1:0"
admin_url = "127.0.0.1:0"
enable_socks5 = false
allow_local_binding = true
[permissions.bench.network.domains]
"127.0.0.1" = "allow"
""")
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return Server("paddock", [os.path.join(build, "paddock"), "--log-level",
                             "warn", "proxy", "--config", conf,
                             "--system-config", "", "--requirements", "",
                             "--home", d, "--cwd", d], 0, env=env,
                 ready=r"paddock: listening http=127\.0\.0\.1:(\d+) .*"
                       r"admin=127\.0\.0\.1:(\d+)")


class Scraper:
    """GET /metrics every 1/SCRAPES_PER_SECOND s on a fresh connection,
    as Prometheus would, until stopped."""

    def __init__(self, port):
        self.port = port
        self.stop_ev = threading.Event()
        self.scrapes = 0
        self.failures = 0
        self.bytes = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _one(self):
        with socket.create_connection(("127.0.0.1", self.port),
                                      timeout=5) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        if not data.startswith(b"HTTP/1.1 200 "):
            raise OSError("scrape failed")
        return len(data)

    def _run(self):
        period = 1.0 / SCRAPES_PER_SECOND
        next_at = time.monotonic()
        while not self.stop_ev.is_set():
            try:
                self.bytes += self._one()
                self.scrapes += 1
            except OSError:
                self.failures += 1
            next_at += period
            self.stop_ev.wait(max(0.0, next_at - time.monotonic()))

    def stop(self):
        self.stop_ev.set()
        self.thread.join(10)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--quick", action="store_true",
                    help="2-second runs, 2 rounds (a smoke test)")
    args = ap.parse_args()
    rounds = 5
    if args.quick:
        bench_http.WRK_SECONDS, rounds = 2, 2
    os.environ["PATH"] += ":/usr/sbin"
    for tool in ("nginx", "wrk"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is missing; run tools/install-deps "
                     "--bench")
    tmp = tempfile.mkdtemp(prefix="paddock-bench-")
    if os.geteuid() == 0:
        os.chmod(tmp, 0o755)
    origin = start_nginx(tmp)
    small = f"http://127.0.0.1:{origin.port}/small"
    proxy = None
    plain, scraped = [], []
    scrapes = failures = 0
    size = 0
    try:
        proxy = start_paddock(tmp, args.build)
        port = int(proxy.ready.group(2))  # the admin listener
        print(f"bench: keep-alive req/s through paddock, with and without "
              f"a scraper at {SCRAPES_PER_SECOND}/s ({rounds} rounds)...",
              flush=True)
        wrk(small, proxy.port)  # warm-up
        for _ in range(rounds):
            plain.append(measured(proxy, small))
            sc = Scraper(port)
            scraped.append(measured(proxy, small))
            sc.stop()
            scrapes += sc.scrapes
            failures += sc.failures
            size = sc.bytes // max(sc.scrapes, 1)
    finally:
        if proxy:
            proxy.stop()
        origin.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    def med(rows, i):
        ok = [r[i] for r in rows if r]
        return statistics.median(ok) if ok else None

    a, b = med(plain, 0), med(scraped, 0)
    cpu_a, cpu_b = med(plain, 1), med(scraped, 1)
    ratio = b / a if a and b else None
    cpu_ratio = cpu_b / cpu_a if cpu_a and cpu_b else None
    met = ratio is not None and ratio >= TARGET and failures == 0
    text = "\n".join([
        f"Measured {machine()}; an nginx origin and paddock on loopback; "
        f"medians of {rounds} interleaved rounds of wrk -t1 "
        f"-c{bench_http.WRK_CONNECTIONS} -d{bench_http.WRK_SECONDS}s; "
        f"{scrapes} scrapes of /metrics ({size:,} bytes each), "
        f"{failures} failed.",
        "",
        "| paddock | keep-alive req/s | proxy CPU µs/request |",
        "|---|---:|---:|",
        f"| no scraper | {bench_http.fmt(a)} | {bench_http.fmt(cpu_a, 1)} |",
        f"| /metrics scraped {SCRAPES_PER_SECOND}x/s | "
        f"{bench_http.fmt(b)} | {bench_http.fmt(cpu_b, 1)} |",
        "",
        "| | measured | target | |",
        "|---|---:|---:|---|",
        f"| req/s, scraped vs not | {bench_http.fmt(ratio, 3)}x | "
        f">= {TARGET}x | {'met' if met else 'MISSED'} |",
        f"| proxy CPU per request, scraped vs not (the scrapes "
        f"included) | {bench_http.fmt(cpu_ratio, 3)}x | reported | |",
        "",
        "Rounds (req/s, no scraper / scraped): " + ", ".join(
            f"{bench_http.fmt(x[0] if x else None)} / "
            f"{bench_http.fmt(y[0] if y else None)}"
            for x, y in zip(plain, scraped)),
    ]) + "\n"
    print(text)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "admin.md"), "w") as f:
        f.write(text)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
