#!/usr/bin/python3
"""The SOCKS5 listener against microsocks and dante (make bench).

Starts each SOCKS5 server on loopback and measures, in one run, with the
load generator build/bench/socks_load (its destinations are its own
threads on 127.0.0.1):

  CONNECT bulk  a 512 MiB download from an nginx origin with curl
                --socks5, MB/s, and the same download directly
  new conns     SOCKS5 CONNECTs per second (greeting, request, reply,
                close) from 4 client threads
  UDP           datagrams per second echoed through one UDP association

The servers run side by side and every figure is the median of 3
interleaved rounds (each round measures every server in turn). Beside
every rate, what each server itself spent: CPU s per GiB downloaded, CPU
µs per connection and per echoed datagram (utime + stime of its process
tree from /proc/PID/stat over the measurement; dante's tree includes its
child processes). On a shared machine these ratios are the ones to steer
by.

and checks paddock's targets: CONNECT bulk at least 0.9x direct, new
connections at least 2x dante's. UDP is reported beside dante's
(microsocks has no UDP). Prints a Markdown table (also written to
bench/results/socks5.md) and exits non-zero when a target is missed.
Loopback only; the peers are Debian packages (tools/install-deps --bench).

paddock runs with --log-level warn (no access log), dante with its log
sent to /dev/null, so they are compared on the same work.
"""
import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

from benchutil import Server, cpu_during, free_port, per_unit, xfmt

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BULK_MIB = 512
SECONDS = 5
THREADS = 4
RUNS = 3


def start_paddock(tmp, build):
    cfg = os.path.join(tmp, "paddock.toml")
    with open(cfg, "w") as f:
        f.write('default_permissions = "bench"\n'
                "[permissions.bench.filesystem]\n"
                '":root" = "read"\n'
                "[permissions.bench.network]\n"
                'enabled = true\nproxy_url = "http://127.0.0.1:0"\n'
                'socks_url = "socks5://127.0.0.1:0"\n'
                "enable_socks5 = true\nenable_socks5_udp = true\n"
                "allow_local_binding = true\n"
                "[permissions.bench.network.domains]\n"
                '"127.0.0.1" = "allow"\n')
    return Server("paddock", [os.path.join(build, "paddock"), "--log-level",
                              "warn", "proxy", "--config", cfg,
                              "--system-config", "", "--home", tmp,
                              "--cwd", tmp], 0,
                  ready=r"paddock: listening .*socks5=[^ ]*:(\d+)")


def start_dante(tmp):
    port = free_port()
    conf = os.path.join(tmp, "danted.conf")
    with open(conf, "w") as f:
        f.write(f"logoutput: /dev/null\ninternal: 127.0.0.1 port = {port}\n"
                "external: 127.0.0.1\nclientmethod: none\n"
                "socksmethod: none\nuser.privileged: root\n"
                "user.unprivileged: nobody\n"
                "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }\n"
                "socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 "
                "command: connect udpassociate udpreply }\n")
    return Server("dante", [shutil.which("danted") or "/usr/sbin/danted",
                            "-f", conf, "-p", os.path.join(tmp, "dante.pid")],
                  port)


def start_microsocks():
    port = free_port()
    return Server("microsocks", ["microsocks", "-i", "127.0.0.1", "-p",
                                 str(port)], port)


def start_nginx(tmp):
    port = free_port()
    root = os.path.join(tmp, "www")
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "bulk"), "wb") as f:
        f.truncate(BULK_MIB << 20)
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"daemon off; master_process off; worker_processes 1;\n"
                f"pid {tmp}/nginx.pid; error_log /dev/null;\n"
                "events { worker_connections 1024; }\n"
                f"http {{ access_log off; sendfile on; server {{ "
                f"listen 127.0.0.1:{port}; root {root}; }} }}\n")
    return Server("nginx", ["nginx", "-c", conf, "-p", tmp], port)


def curl_bulk(nginx, socks_port=None):
    """(MB/s, bytes) of one download, or None."""
    argv = ["curl", "-sS", "-o", "/dev/null", "-w",
            "%{speed_download} %{size_download}"]
    if socks_port:
        argv += ["--socks5", f"127.0.0.1:{socks_port}"]
    r = subprocess.run(argv + [f"http://127.0.0.1:{nginx.port}/bulk"],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        return None
    speed, size = r.stdout.split()
    return float(speed) / 1e6, int(size)


def load(build, *args):
    r = subprocess.run([os.path.join(build, "bench", "socks_load"),
                        *map(str, args)], capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0:
        return None
    return dict(line.split(": ", 1) for line in r.stdout.splitlines())


def conns(build, port):
    """(connections per second, connections), or None."""
    r = load(build, "conns", port, SECONDS, THREADS)
    return (float(r["conns_per_s"]), int(r["conns"])) if r else None


def udp(build, port):
    """(datagrams echoed per second, datagrams echoed), or None."""
    r = load(build, "udp", port, SECONDS)
    return (float(r["dgrams_per_s"]), int(r["echoed"])) \
        if r and int(r["echoed"]) > 0 else None


def median(samples):
    return None if not samples or None in samples else \
        statistics.median(samples)


def measure_all(build, servers, nginx):
    """Every figure for every server, interleaved: each measurement goes
    round all of them in turn, RUNS times, and the median counts, so a
    slow moment of a busy machine hits every peer alike."""
    ports = {"direct": None, **{s.name: s.port for s in servers}}
    by_name = {s.name: s for s in servers}
    samples = {name: {k: [] for k in ("bulk", "conns", "udp", "bulk_cpu",
                                      "conns_cpu", "udp_cpu")}
               for name in ports}

    def sample(name, kind, fn, *args, units=1.0, scale=1e6):
        out, cpu = cpu_during(by_name.get(name), fn, *args)
        samples[name][kind].append(out[0] if out else None)
        if name in by_name:
            samples[name][kind + "_cpu"].append(
                per_unit(cpu, out[1] / units, scale) if out else None)

    for _ in range(RUNS):
        for name, port in ports.items():
            sample(name, "bulk", curl_bulk, nginx, port, units=1 << 30,
                   scale=1)
    for kind, fn in (("conns", conns), ("udp", udp)):
        for _ in range(RUNS):
            for name, port in ports.items():
                if port:
                    sample(name, kind, fn, build, port)
    return {name: {k: median(v) for k, v in m.items()}
            for name, m in samples.items()}


def fmt(v, digits=0):
    return "n/a" if v is None else f"{v:,.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--quick", action="store_true",
                    help="one round of 2 s runs (a smoke test)")
    args = ap.parse_args()
    global SECONDS, RUNS
    if args.quick:
        SECONDS, RUNS = 2, 1
    if not os.path.exists(os.path.join(args.build, "bench", "socks_load")):
        sys.exit("bench_socks5: socks_load is not built; run make")
    load_before = os.getloadavg()
    tmp = tempfile.mkdtemp(prefix="paddock-bench-socks5-")
    servers = []
    nginx = start_nginx(tmp)
    try:
        for start in (lambda: start_paddock(tmp, args.build),
                      lambda: start_dante(tmp), start_microsocks):
            servers.append(start())
        results = measure_all(args.build, servers, nginx)
    finally:
        for server in servers:
            server.stop()
        nginx.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()

    p, d = results["paddock"], results["dante"]
    bulk_ratio = p["bulk"] / results["direct"]["bulk"] if p["bulk"] else 0
    conns_ratio = p["conns"] / d["conns"] if p["conns"] and d["conns"] \
        else 0
    udp_ratio = p["udp"] / d["udp"] if p["udp"] and d["udp"] else None
    cpu = next((line.split(":", 1)[1].strip()
                for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.machine())
    lines = [
        f"Measured {datetime.datetime.now():%Y-%m-%d %H:%M}, median of "
        f"{RUNS} round{'s' if RUNS > 1 else ''}, on {cpu}, {os.cpu_count()} "
        f"cores, {platform.system()} {platform.release()}; "
        f"build: {os.path.basename(os.path.abspath(args.build))}; load "
        f"average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} "
        "after.",
        "",
        "| | CONNECT bulk (MB/s) | proxy CPU s/GiB | new conns/s | "
        "proxy CPU µs/conn | UDP datagrams/s | proxy CPU µs/datagram |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ("direct", "paddock", "dante", "microsocks"):
        r = results[name]
        lines.append(f"| {name} | {fmt(r['bulk'])} | "
                     f"{fmt(r['bulk_cpu'], 2)} | {fmt(r['conns'])} | "
                     f"{fmt(r['conns_cpu'])} | {fmt(r['udp'])} | "
                     f"{fmt(r['udp_cpu'], 1)} |")

    def ratio(a, b):
        return a / b if a and b else None
    lines += ["", "Proxy CPU per unit of work relative to paddock's (the "
              "server's CPU / paddock's: above 1 means paddock spends "
              "less):", "",
              "| | per GiB, CONNECT | per new connection | per datagram |",
              "|---|---:|---:|---:|"]
    for name in ("dante", "microsocks"):
        lines.append(f"| {name} | " + " | ".join(
            xfmt(ratio(results[name][k + '_cpu'], p[k + '_cpu']))
            for k in ("bulk", "conns", "udp")) + " |")
    lines += [
        "",
        f"- CONNECT bulk: {bulk_ratio:.2f}x direct (target at least 0.9x)",
        f"- new connections: {conns_ratio:.2f}x dante (target at least 2x)",
        "- UDP: " + (f"{udp_ratio:.2f}x dante" if udp_ratio else "n/a"),
        "- CPU per new connection, dante / paddock: "
        f"{xfmt(ratio(d['conns_cpu'], p['conns_cpu']))} (reported)",
        "- CPU per GiB CONNECT bulk, dante / paddock: "
        f"{xfmt(ratio(d['bulk_cpu'], p['bulk_cpu']))} (reported)",
    ]
    table = "\n".join(lines)
    print(table)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "socks5.md"), "w") as f:
        f.write(table + "\n")
    ok = bulk_ratio >= 0.9 and conns_ratio >= 2
    print(f"socks5: targets {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
