#!/usr/bin/python3
"""The HTTP proxy against squid, tinyproxy and privoxy (make bench).

Starts an nginx origin and the proxies side by side on loopback, in a
network namespace of its own, and measures, in one run, direct and through
every proxy (each figure the median of interleaved rounds, so that other
work on the machine hits every peer alike):

  keep-alive   small GETs in absolute form over 50 kept-alive connections
               (wrk), requests per second
  new conns    the same with "Connection: close": connections per second
  CONNECT bulk a 512 MiB download through a CONNECT tunnel (curl -p), MB/s
  abs. bulk    the same download in absolute form (curl -x), MB/s
  idle RSS     resident memory per idle CONNECT tunnel, 10,000 of them

and, beside every rate, what each proxy itself spent: CPU µs per request
or connection, CPU s per GiB for the downloads (utime + stime of its
process tree from /proc/PID/stat over the measurement). On a shared
machine the rates move with whatever else runs; the CPU ratios are the
ones to steer by.

and compares paddock with the targets: keep-alive at least 3x squid, new
connections at least 2x squid, CONNECT bulk at least 0.9x direct, absolute
bulk at least 0.8x direct, at most 20 KiB per idle tunnel. Prints a
Markdown table (also written to bench/results/http.md) and exits non-zero
when a target is missed. Loopback only; the peers are Debian packages
(tools/install-deps --bench).

Every proxy runs with its access log off (paddock: --log-level warn), so
they are compared on the same work.
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile

from benchutil import (Server, cpu_during, free_port, per_unit,
                       start_paddock, xfmt)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BULK_BYTES = 512 << 20
TUNNELS = 10000
WRK_SECONDS = 5
WRK_CONNECTIONS = 50


def start_nginx(tmp):
    www = os.path.join(tmp, "www")
    os.makedirs(www)
    with open(os.path.join(www, "small"), "w") as f:
        f.write("hello from nginx\n")
    with open(os.path.join(www, "big"), "wb") as f:
        f.truncate(BULK_BYTES)  # sparse: nginx sends zeros from the cache
    port = free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 1;
worker_rlimit_nofile 65536;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx.err warn;
events {{ worker_connections 30000; multi_accept on; }}
http {{
    access_log off;
    sendfile on;
    tcp_nodelay on;
    keepalive_timeout 300s;
    keepalive_requests 100000000;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {www};
    }}
}}
""")
    return Server("nginx", ["nginx", "-c", conf, "-e", f"{tmp}/nginx.err"],
                  port)


def start_squid(tmp):
    port = free_port()
    d = os.path.join(tmp, "squid")
    os.makedirs(d)
    shutil.chown(d, "proxy", "proxy") if os.geteuid() == 0 else None
    conf = os.path.join(d, "squid.conf")
    with open(conf, "w") as f:
        f.write(f"""
http_port 127.0.0.1:{port}
http_access allow all
cache deny all
cache_mem 8 MB
access_log none
cache_store_log none
cache_log /dev/null
logfile_rotate 0
pid_filename {d}/squid.pid
coredump_dir {d}
max_filedescriptors 65536
shutdown_lifetime 0 seconds
via off
forwarded_for transparent
client_persistent_connections on
server_persistent_connections on
""")
    return Server("squid", ["squid", "-N", "-f", conf], port)


def start_tinyproxy(tmp):
    port = free_port()
    conf = os.path.join(tmp, "tinyproxy.conf")
    with open(conf, "w") as f:
        f.write(f"""
Port {port}
Listen 127.0.0.1
Timeout 600
MaxClients 20000
LogLevel Critical
PidFile "{tmp}/tinyproxy.pid"
Allow 127.0.0.1
DisableViaHeader Yes
""")
    return Server("tinyproxy", ["tinyproxy", "-d", "-c", conf], port)


def start_privoxy(tmp):
    port = free_port()
    d = os.path.join(tmp, "privoxy")
    os.makedirs(d)
    with open(os.path.join(d, "bench.action"), "w") as f:
        f.write("{+limit-connect{1-} -hide-referrer}\n/\n")
    conf = os.path.join(d, "config")
    with open(conf, "w") as f:
        f.write(f"""
confdir {d}
logdir {d}
actionsfile bench.action
listen-address 127.0.0.1:{port}
toggle 0
enable-remote-toggle 0
enable-edit-actions 0
max-client-connections 20000
keep-alive-timeout 300
default-server-timeout 300
connection-sharing 1
socket-timeout 300
""")
    return Server("privoxy", ["privoxy", "--no-daemon", conf], port)


# A transparent TCP relay that does nothing but splice(2) both ways, one
# thread per direction: the most any relay adds to a bulk download on this
# machine, a reference for the bulk columns.
RELAY = """
import fcntl, os, socket, sys, threading
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(64)
print(srv.getsockname()[1], flush=True)
def pump(a, b):
    r, w = os.pipe()
    fcntl.fcntl(r, 1031, 1 << 20)  # F_SETPIPE_SZ
    try:
        while True:
            n = os.splice(a.fileno(), w, 1 << 20)
            if n == 0:
                break
            while n:
                n -= os.splice(r, b.fileno(), n)
    except OSError:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass
while True:
    c, _ = srv.accept()
    u = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    for a, b in ((c, u), (u, c)):
        threading.Thread(target=pump, args=(a, b), daemon=True).start()
"""


def start_relay(origin_port):
    proc = subprocess.Popen([sys.executable, "-c", RELAY, str(origin_port)],
                            stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    return proc, port


def wrk(url, proxy_port=None, close=False):
    """(requests per second, requests), or None when anything failed."""
    argv = ["wrk", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{WRK_SECONDS}s",
            "--latency"]
    if close:
        argv += ["-H", "Connection: close"]
    script = None
    if proxy_port:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua",
                                             delete=False)
        # Absolute form to the proxy: wrk connects to the URL's host and
        # sends wrk.path as the request target.
        host = url.split("/")[2]
        script.write(f'wrk.path = "{url}"\nwrk.headers["Host"] = "{host}"\n')
        script.close()
        argv += ["-s", script.name, f"http://127.0.0.1:{proxy_port}/"]
    else:
        argv.append(url)
    r = subprocess.run(argv, capture_output=True, text=True)
    if script:
        os.unlink(script.name)
    m = re.search(r"Requests/sec:\s+([\d.]+)", r.stdout)
    total = re.search(r"(\d+) requests in", r.stdout)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", r.stdout)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), "
                       r"write (\d+), timeout (\d+)", r.stdout)
    if not m or not total or bad:
        return None
    if errors and not close and sum(map(int, errors.groups())) > 0:
        return None
    return float(m.group(1)), int(total.group(1))


def curl_bulk(url, proxy_port=None, tunnel=False, runs=3):
    """Median MB/s of a 512 MiB download, or None."""
    speeds = []
    for _ in range(runs):
        argv = ["curl", "-s", "-o", "/dev/null", "-w",
                "%{http_code} %{size_download} %{speed_download}"]
        if proxy_port:
            argv += ["--noproxy", "", "-x", f"http://127.0.0.1:{proxy_port}"]
            if tunnel:
                argv.append("-p")
        r = subprocess.run(argv + [url], capture_output=True, text=True)
        parts = r.stdout.split()
        if r.returncode != 0 or len(parts) != 3 or parts[0] != "200" or \
                int(parts[1]) != BULK_BYTES:
            return None
        speeds.append(float(parts[2]) / 1e6)
    return statistics.median(speeds)


def idle_tunnels(server, origin_port, n=TUNNELS):
    """KiB of resident memory per idle CONNECT tunnel, or None."""
    target = f"127.0.0.1:{origin_port}"
    head = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode()
    # Warm up: the first tunnels create what every tunnel then shares.
    warm = []
    for _ in range(100):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall(head)
        warm.append(s)
    for s in warm:
        answer = s.recv(4096)
        if b" 200" not in answer.split(b"\r\n", 1)[0]:
            print(f"bench: {server.name}: warm-up tunnel: {answer[:80]!r}",
                  file=sys.stderr)
            return None
    before = server.rss_kib()
    socks = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", server.port),
                                         timeout=30)
            s.sendall(head)
            socks.append(s)
            answer = s.recv(4096)
            if b" 200" not in answer:
                print(f"bench: {server.name}: tunnel {len(socks)}: "
                      f"{answer[:80]!r}", file=sys.stderr)
                return None
        after = server.rss_kib()
        # Every tunnel still works.
        socks[0].sendall(b"GET /small HTTP/1.1\r\nHost: x\r\n\r\n")
        # The head and the body may arrive in separate reads: a tunnel
        # relays each piece as soon as it comes (no delayed ACK holds
        # them together any more).
        answer = b""
        while b"hello from nginx" not in answer:
            piece = socks[0].recv(4096)
            if not piece:
                break
            answer += piece
        if b"hello from nginx" not in answer:
            print(f"bench: {server.name}: first tunnel after the rest: "
                  f"{answer[:80]!r}", file=sys.stderr)
            return None
        return (after - before) / n
    except OSError as e:
        print(f"bench: {server.name}: idle tunnels: {e}", file=sys.stderr)
        return None
    finally:
        for s in socks + warm:
            s.close()


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}, "
            f"{os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}")


def fmt(v, digits=0):
    return "n/a" if v is None else f"{v:,.{digits}f}"


STARTERS = {
    "paddock": lambda tmp, build: start_paddock(
        os.path.join(tmp, "paddock"), build),
    "squid": lambda tmp, build: start_squid(tmp),
    "tinyproxy": lambda tmp, build: start_tinyproxy(tmp),
    "privoxy": lambda tmp, build: start_privoxy(tmp),
}


def raise_nofile():
    """10,000 tunnels need about 20,000 descriptors in the proxy. Returns
    how many tunnels fit under the hard limit we have."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
        return TUNNELS
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return min(TUNNELS, (hard - 500) // 2)


PEERS = ("direct", "paddock", "squid", "tinyproxy", "privoxy")


def measure_all(build, rounds):
    """Every figure for every peer, in the current network namespace.

    The peers run side by side and each measurement goes round all of
    them in turn, `rounds` times; the median counts. On a machine that is
    busy with other work, that keeps the comparison fair: a slow moment
    hits every peer alike, not whoever happened to run then."""
    tunnels = raise_nofile()
    tmp = tempfile.mkdtemp(prefix="paddock-bench-")
    if os.geteuid() == 0:
        os.chmod(tmp, 0o755)
    origin = start_nginx(tmp)
    small = f"http://127.0.0.1:{origin.port}/small"
    big = f"http://127.0.0.1:{origin.port}/big"
    servers = {}
    kinds = ("keepalive", "connect_bulk", "abs_bulk", "newconn")
    samples = {name: {k: [] for k in kinds + tuple(k + "_cpu"
                                                   for k in kinds)}
               for name in PEERS}
    rows = {name: {"tunnels": tunnels, "rss": None} for name in PEERS}
    try:
        for name in PEERS[1:]:
            servers[name] = STARTERS[name](tmp, build)

        def port(name):
            return servers[name].port if name in servers else None

        def requests(name, kind, close):
            """One wrk run: the rate, and the proxy's CPU µs/request."""
            out, cpu = cpu_during(servers.get(name), wrk, small, port(name),
                                  close=close)
            samples[name][kind].append(out[0] if out else None)
            samples[name][kind + "_cpu"].append(
                per_unit(cpu, out[1], 1e6) if out else None)

        def bulk(name, kind, tunnel):
            """One download: MB/s, and the proxy's CPU s/GiB."""
            rate, cpu = cpu_during(servers.get(name), curl_bulk, big,
                                   port(name), tunnel=tunnel, runs=1)
            samples[name][kind].append(rate)
            samples[name][kind + "_cpu"].append(
                per_unit(cpu, BULK_BYTES / (1 << 30), 1) if rate else None)

        for _ in range(rounds):
            for name in PEERS:
                requests(name, "keepalive", False)
        for _ in range(rounds):
            for name in PEERS:
                bulk(name, "connect_bulk", True)
                bulk(name, "abs_bulk", False)
        for name in PEERS[1:]:
            rows[name]["rss"] = idle_tunnels(servers[name], origin.port,
                                             tunnels)
        relay, relay_port = start_relay(origin.port)
        relay_bulk = []
        for _ in range(rounds):
            relay_bulk.append(curl_bulk(
                f"http://127.0.0.1:{relay_port}/big", runs=1))
        relay.kill()
        relay.wait()
        ok = [v for v in relay_bulk if v is not None]
        rows["splice relay"] = {k: None for k in samples["direct"]}
        rows["splice relay"].update(
            rss=None, tunnels=0,
            connect_bulk=statistics.median(ok) if ok else None)
        # New connections last: their TIME_WAIT sockets must not crowd
        # the other measurements.
        for _ in range(rounds):
            for name in PEERS:
                requests(name, "newconn", True)
    finally:
        for srv in servers.values():
            srv.stop()
        origin.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    for name in PEERS:
        for k, values in samples[name].items():
            ok = [v for v in values if v is not None]
            rows[name][k] = statistics.median(ok) if ok else None
    return rows


def run_isolated(args):
    """Measure in a network namespace of our own: a fresh loopback whose
    port range and TIME_WAIT reuse we may tune without touching the host.
    Falls back to the current namespace where that is not possible."""
    me = [sys.executable, os.path.abspath(__file__), "--build", args.build,
          "--inside"] + (["--quick"] if args.quick else [])
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    setup = ("ip link set lo up && "
             "sysctl -qw net.ipv4.ip_local_port_range='1024 65000' "
             "net.ipv4.tcp_tw_reuse=1 net.core.somaxconn=4096; "
             'exec "$@"')
    ns = ["unshare", "--net", *user, "sh", "-c", setup, "sh"]
    for argv in (ns + me, me):
        r = subprocess.run(argv, capture_output=True, text=True)
        sys.stderr.write(r.stderr)
        for line in r.stdout.splitlines():
            if line.startswith("result "):
                return json.loads(line[len("result "):])
    sys.exit("bench: the measurement failed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--quick", action="store_true",
                    help="shorter runs, 1,000 tunnels (a smoke test)")
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    global WRK_SECONDS, TUNNELS
    rounds = 3
    if args.quick:
        WRK_SECONDS, TUNNELS, rounds = 2, 1000, 1
    os.environ["PATH"] += ":/usr/sbin"
    if args.inside:
        print("result " + json.dumps(measure_all(args.build, rounds)),
              flush=True)
        return 0
    for tool in ("nginx", "squid", "tinyproxy", "privoxy", "wrk", "curl"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is missing; run tools/install-deps "
                     "--bench")
    print("bench: measuring direct, paddock, squid, tinyproxy and privoxy "
          f"({rounds} rounds)...", flush=True)
    load_before = os.getloadavg()
    rows = run_isolated(args)
    load_after = os.getloadavg()
    tunnels = rows["paddock"]["tunnels"]

    lines = [
        f"Measured {machine()}; load average (1 min) {load_before[0]:.1f} "
        f"before, {load_after[0]:.1f} after; an nginx origin and every "
        "peer side by "
        f"side in a network namespace of our own; medians of {rounds} "
        f"interleaved rounds of wrk -t1 -c{WRK_CONNECTIONS} "
        f"-d{WRK_SECONDS}s and of curl fetching {BULK_BYTES >> 20} MiB; "
        f"{tunnels:,} idle tunnels"
        + (" (the descriptor limit allows no more here)"
           if tunnels < TUNNELS else "") + ".",
        "",
        "| | keep-alive req/s | proxy CPU µs/req | new conn/s | "
        "proxy CPU µs/conn | CONNECT bulk MB/s | proxy CPU s/GiB | "
        "absolute-form bulk MB/s | proxy CPU s/GiB | KiB per idle tunnel |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in PEERS + ("splice relay",):
        r = rows[name]
        lines.append(f"| {name} | {fmt(r['keepalive'])} | "
                     f"{fmt(r['keepalive_cpu'])} | {fmt(r['newconn'])} | "
                     f"{fmt(r['newconn_cpu'])} | {fmt(r['connect_bulk'])} | "
                     f"{fmt(r['connect_bulk_cpu'], 2)} | "
                     f"{fmt(r['abs_bulk'])} | {fmt(r['abs_bulk_cpu'], 2)} | "
                     f"{fmt(r['rss'], 1)} |")
    p, sq, d = rows["paddock"], rows["squid"], rows["direct"]

    def ratio(a, b):
        return a / b if a and b else None
    cpu_kinds = ("keepalive", "newconn", "connect_bulk", "abs_bulk")
    lines += ["", "Proxy CPU per unit of work relative to paddock's (the "
              "proxy's CPU / paddock's: above 1 means paddock spends less):",
              "", "| | per kept-alive request | per new connection | "
              "per GiB, CONNECT | per GiB, absolute form |",
              "|---|---:|---:|---:|---:|"]
    for name in PEERS[2:]:
        lines.append(f"| {name} | " + " | ".join(
            xfmt(ratio(rows[name][k + '_cpu'], p[k + '_cpu']))
            for k in cpu_kinds) + " |")
    checks = [
        ("keep-alive vs squid", ratio(p["keepalive"], sq["keepalive"]), 3.0,
         True),
        ("new connections vs squid", ratio(p["newconn"], sq["newconn"]),
         2.0, True),
        ("CONNECT bulk vs direct",
         ratio(p["connect_bulk"], d["connect_bulk"]), 0.9, True),
        ("absolute-form bulk vs direct",
         ratio(p["abs_bulk"], d["abs_bulk"]), 0.8, True),
        ("KiB per idle tunnel", p["rss"], 20.0, False),
        ("CPU per kept-alive request, squid / paddock",
         ratio(sq["keepalive_cpu"], p["keepalive_cpu"]), None, True),
        ("CPU per new connection, squid / paddock",
         ratio(sq["newconn_cpu"], p["newconn_cpu"]), None, True),
        ("CPU per GiB CONNECT bulk, squid / paddock",
         ratio(sq["connect_bulk_cpu"], p["connect_bulk_cpu"]), None, True),
    ]
    lines += ["", "*splice relay*: a transparent TCP relay that only calls "
              "splice(2), one thread per direction (no HTTP, no policy), "
              "fetching the same file; the most one extra hop on loopback "
              "allows on this machine."]
    lines += ["", "| paddock | measured | target | |", "|---|---:|---:|---|"]
    ok = True
    for what, value, target, higher in checks:
        unit = "x" if higher else ""
        if target is None:
            lines.append(f"| {what} | {fmt(value, 2)}{unit} | reported | |")
            continue
        met = value is not None and (value >= target if higher
                                     else value <= target)
        ok = ok and met
        lines.append(f"| {what} | {fmt(value, 2)}{unit} | "
                     f"{'>=' if higher else '<='} {target}{unit} | "
                     f"{'met' if met else 'MISSED'} |")
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "http.md"), "w") as f:
        f.write(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
