#!/usr/bin/python3
"""OTLP export on against off: keep-alive requests/s through paddock proxy.

Two paddock proxies run side by side on loopback with the same policy,
one exporting every audit event to a fast fake collector
(tests/blackbox/otlp_collector.py in its standalone mode: it answers 200
without decoding), the other exporting nothing. wrk sends small GETs in
absolute form to an nginx origin through each in turn, interleaved rounds,
and the medians are compared: export on must stay within 5% of off
(issue 14). Also prints the proxy's CPU time per request (utime + stime
of the process, /proc/PID/stat) for both, which includes the exporter
thread's encoding and sending.

Every request is one audit event (a domain allow), so the exporter sends
as many records per second as the proxy serves requests. Loopback only.
Prints a Markdown table (also bench/results/otlp.md) and exits non-zero
when the target is missed.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

import bench_http
from benchutil import Server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTOR = os.path.join(ROOT, "tests", "blackbox", "otlp_collector.py")
TARGET = 0.95


def start_collector():
    proc = subprocess.Popen([sys.executable, COLLECTOR],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    m = re.search(r"listening 127\.0\.0\.1:(\d+)", proc.stdout.readline())
    if not m:
        sys.exit("bench: the OTLP collector did not start")
    return proc, int(m.group(1))


def start_paddock(tmp, build, name, otel):
    d = os.path.join(tmp, name)
    os.makedirs(d)
    conf = os.path.join(d, "config.toml")
    with open(conf, "w") as f:
        f.write("""default_permissions = "bench"
[permissions.bench.filesystem]
":root" = "read"
[permissions.bench.network]
enabled = true
proxy_url = "http://127.0.0.1:0"
enable_socks5 = false
allow_local_binding = true
[permissions.bench.network.domains]
"127.0.0.1" = "allow"
""" + otel)
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return Server(name, [os.path.join(build, "paddock"), "--log-level",
                         "warn", "proxy", "--config", conf,
                         "--system-config", "", "--home", d, "--cwd", d],
                  0, env=env,
                  ready=r"paddock: listening http=127\.0\.0\.1:(\d+)")


def wrk(url, proxy_port, seconds):
    """(requests/s, requests) through the proxy, or (None, 0)."""
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    host = url.split("/")[2]
    script.write(f'wrk.path = "{url}"\nwrk.headers["Host"] = "{host}"\n')
    script.close()
    r = subprocess.run(["wrk", "-t1", f"-c{bench_http.WRK_CONNECTIONS}",
                        f"-d{seconds}s", "-s", script.name,
                        f"http://127.0.0.1:{proxy_port}/"],
                       capture_output=True, text=True)
    os.unlink(script.name)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", r.stdout)
    total = re.search(r"(\d+) requests in", r.stdout)
    if not rps or not total or "Non-2xx" in r.stdout:
        return None, 0
    return float(rps.group(1)), int(total.group(1))


def measure(build, rounds, seconds):
    tmp = tempfile.mkdtemp(prefix="paddock-bench-otlp-")
    if os.geteuid() == 0:
        os.chmod(tmp, 0o755)
    collector, cport = start_collector()
    origin = bench_http.start_nginx(tmp)
    small = f"http://127.0.0.1:{origin.port}/small"
    otel = ("[otel.exporter.otlp-http]\n"
            f'endpoint = "http://127.0.0.1:{cport}/v1/logs"\n'
            'protocol = "binary"\n')
    servers = {}
    rps = {"off": [], "on": []}
    cpu = {"off": [], "on": []}
    try:
        servers["off"] = start_paddock(tmp, build, "off", "")
        servers["on"] = start_paddock(tmp, build, "on", otel)
        for _ in range(rounds):
            for name in ("off", "on"):
                srv = servers[name]
                c0 = srv.cpu_seconds()
                r, n = wrk(small, srv.port, seconds)
                c1 = srv.cpu_seconds()
                rps[name].append(r)
                if n:
                    cpu[name].append((c1 - c0) / n * 1e6)
    finally:
        for srv in servers.values():
            srv.stop()
        origin.stop()
        collector.stdin.close()
        summary = collector.stdout.read()
        collector.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)

    def med(v):
        ok = [x for x in v if x is not None]
        return statistics.median(ok) if ok else None
    m = re.search(r"(\d+) requests, (\d+) bytes", summary)
    received = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    return ({k: med(v) for k, v in rps.items()},
            {k: med(v) for k, v in cpu.items()}, received)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--quick", action="store_true",
                    help="one short round (a smoke test)")
    args = ap.parse_args()
    rounds, seconds = (1, 2) if args.quick else (5, 5)
    os.environ["PATH"] += ":/usr/sbin"
    for tool in ("nginx", "wrk"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is missing; run tools/install-deps "
                     "--bench")
    print(f"bench: keep-alive through paddock, OTLP export off and on "
          f"({rounds} rounds)...", flush=True)
    rps, cpu, received = measure(args.build, rounds, seconds)
    ratio = rps["on"] / rps["off"] if rps["on"] and rps["off"] else None
    # No export requests would make "on" a second "off".
    met = ratio is not None and ratio >= TARGET and received[0] > 0
    lines = [
        f"Measured on {bench_http.machine()}; medians of {rounds} "
        f"interleaved rounds of wrk -t1 -c{bench_http.WRK_CONNECTIONS} "
        f"-d{seconds}s through paddock proxy to an nginx origin; export "
        "on: OTLP/HTTP protobuf to a fake collector on loopback, one "
        "record per request.",
        "",
        "| OTLP export | keep-alive req/s | proxy CPU µs/request |",
        "|---|---:|---:|",
        f"| off | {bench_http.fmt(rps['off'])} | "
        f"{bench_http.fmt(cpu['off'], 1)} |",
        f"| on | {bench_http.fmt(rps['on'])} | "
        f"{bench_http.fmt(cpu['on'], 1)} |",
        "",
        f"The collector received {received[0]:,} export requests "
        f"({received[1] / 1e6:,.1f} MB).",
        "",
        "| paddock | measured | target | |",
        "|---|---:|---:|---|",
        f"| keep-alive, export on vs off | {bench_http.fmt(ratio, 3)}x | "
        f">= {TARGET}x | {'met' if met else 'MISSED'} |",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "otlp.md"), "w") as f:
        f.write(text)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
