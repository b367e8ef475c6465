#!/usr/bin/python3
"""HTTPS interception: paddock against squid's ssl-bump (make bench).

An nginx origin speaking TLS with a test CA made at start, paddock in
limited mode with mitm = true, paddock in full mode (a plain CONNECT
tunnel), squid (Debian's squid-openssl) bumping every CONNECT and, for
bulk, bench/bare_relay.c (the ceiling: a TLS-terminating relay of nothing
but OpenSSL and blocking system calls) run side by side on loopback, in a
network namespace of the benchmark's own. Every interceptor verifies the
origin against the test CA. The load generator is bench/tls_load.c
(OpenSSL, blocking threads); every figure is the median of interleaved
rounds, so load from other work on the machine hits every peer alike:

  handshakes   new TLS handshakes per second: per request a fresh
               connection, CONNECT, a full TLS handshake (no resumption)
               and one small GET
  keep-alive   small GETs per second over kept-alive intercepted tunnels
  bulk         a 256 MiB download inside one tunnel, MB/s: intercepted,
               through paddock's plain CONNECT tunnel (end-to-end TLS,
               spliced) and through the bare relay
  leaf cache   paddock's leaf cache hits over leaves looked up (the
               counters it logs at exit)

plus the CPU each proxy spent per request or per GiB (its process tree,
from /proc), the figure to steer by on a shared machine. "direct" is the
client talking TLS to the origin with no proxy. The reference proxy
(codex) is not installed on this machine and is not measured.

Targets (issue 13): handshakes at least 2x squid's, intercepted bulk at
least 0.5x the plain tunnel. Prints Markdown tables (also written to
bench/results/mitm.md) and exits non-zero when a measured target is
missed. --only bulk (or hs, ka) measures a part. Loopback only.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

import benchutil
from benchutil import Server, fmt, free_port, machine

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BULK_BYTES = 256 << 20
SECONDS = 3
THREADS = 8
SQUID_CERTGEN = "/usr/lib/squid/security_file_certgen"


def openssl(*argv):
    subprocess.run(["openssl", *argv], check=True, capture_output=True)


def make_origin_pki(d):
    """A test CA and a leaf for 127.0.0.1 it signed (ECDSA P-256, like
    paddock's own leaves)."""
    ca_key, ca = os.path.join(d, "origin-ca.key"), os.path.join(d,
                                                               "origin-ca.pem")
    key, csr, crt = (os.path.join(d, f"origin.{x}")
                     for x in ("key", "csr", "pem"))
    ext = os.path.join(d, "origin.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName = IP:127.0.0.1\n"
                "extendedKeyUsage = serverAuth\n"
                "basicConstraints = CA:FALSE\n")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_key,
            "-out", ca, "-days", "2", "-subj", "/CN=paddock bench origin CA")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out",
            csr, "-subj", "/CN=127.0.0.1")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
            "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", crt)
    return ca, crt, key


def start_nginx(tmp, crt, key):
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
worker_processes 2;
worker_rlimit_nofile 65536;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx.err warn;
events {{ worker_connections 30000; multi_accept on; }}
http {{
    access_log off;
    tcp_nodelay on;
    keepalive_timeout 300s;
    keepalive_requests 100000000;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl backlog=4096;
        ssl_certificate {crt};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        root {www};
    }}
}}
""")
    return Server("nginx", ["nginx", "-c", conf, "-e", f"{tmp}/nginx.err"],
                  port)


def start_paddock(tmp, build, origin_ca, mode):
    """paddock proxy in limited mode with interception, or in full mode
    (plain CONNECT tunnels). Runs at log level info: paddock logs nothing
    there for an allowed request, and it logs the leaf cache at exit."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SSL_CERT")}
    env["SSL_CERT_FILE"] = origin_ca
    mitm = "true" if mode == "limited" else "false"
    return benchutil.start_paddock(
        os.path.join(tmp, f"paddock-{mode}"), build,
        network=f'mode = "{mode}"\nmitm = {mitm}', log_level="info",
        env=env, name=f"paddock-{mode}")


def start_bare(build, crt, key, origin_ca):
    """bench/bare_relay with the origin's own leaf, which the client
    trusts: the ceiling of a TLS-terminating relay on this machine."""
    return Server("bare relay", [os.path.join(build, "bench", "bare_relay"),
                                 crt, key, origin_ca], 0,
                  ready=r"bare_relay: listening (\d+)")


def start_squid(tmp, origin_ca):
    """squid bumping every CONNECT: peek at the ClientHello, stare at the
    origin's certificate, then bump, so that the leaf it mints mimics the
    origin's (its subjectAltName included), as ssl-bump is usually set
    up. Its own CA, its certificate generator helper with a fresh db."""
    port = free_port()
    d = os.path.join(tmp, "squid")
    os.makedirs(d)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            os.path.join(d, "ca.key"), "-out", os.path.join(d, "ca.pem"),
            "-days", "2", "-subj", "/CN=squid bench CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    db = os.path.join(d, "ssl_db")
    subprocess.run([SQUID_CERTGEN, "-c", "-s", db, "-M", "16MB"],
                   check=True, capture_output=True)
    shutil.copy(origin_ca, os.path.join(d, "origin-ca.pem"))
    conf = os.path.join(d, "squid.conf")
    with open(conf, "w") as f:
        f.write(f"""
http_port 127.0.0.1:{port} ssl-bump generate-host-certificates=on dynamic_cert_mem_cache_size=16MB tls-cert={d}/ca.pem tls-key={d}/ca.key
sslcrtd_program {SQUID_CERTGEN} -s {db} -M 16MB
sslcrtd_children 5 startup=1 idle=1
acl step1 at_step SslBump1
acl step2 at_step SslBump2
ssl_bump peek step1
ssl_bump stare step2
ssl_bump bump all
tls_outgoing_options cafile={d}/origin-ca.pem
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
    if os.geteuid() == 0:
        for root, dirs, files in os.walk(d):
            for name in [root] + [os.path.join(root, x)
                                  for x in dirs + files]:
                shutil.chown(name, "proxy", "proxy")
    return Server("squid", ["squid", "-N", "-f", conf], port), \
        os.path.join(d, "ca.pem")


def tls_load(build, argv):
    """Runs bench/tls_load; returns its NAME: VALUE lines as floats, or
    None when a request failed."""
    r = subprocess.run([os.path.join(build, "bench", "tls_load"),
                        *map(str, argv)], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"bench: tls_load {' '.join(map(str, argv))}: "
              f"{r.stderr.strip()[:300]}", file=sys.stderr)
        return None
    return {k: float(v) for k, v in re.findall(r"^(\w+): ([\d.]+)$",
                                               r.stdout, re.M)}


def measured(build, server, origin, argv):
    """One tls_load run: (rate, proxy CPU µs per request or per MB, load
    generator CPU µs per request or per MB, origin CPU µs per request or
    per MB), or None."""
    before = server.cpu_seconds() if server else 0.0
    origin_before = origin.cpu_seconds()
    out = tls_load(build, argv)
    if not out:
        return None
    used = (server.cpu_seconds() - before) if server else 0.0
    origin_used = origin.cpu_seconds() - origin_before
    units = out.get("requests") or out["bytes"] / 1e6
    return (out["rate"], used * 1e6 / units if server else None,
            out["cpu_us"] / units, origin_used * 1e6 / units)


PEERS = ("direct", "paddock", "squid")
BULK_PEERS = ("direct", "paddock tunnel", "paddock", "bare relay", "squid")
KINDS = ("hs", "ka", "bulk")
LABEL = {"paddock": "paddock (limited, mitm)",
         "paddock tunnel": "paddock (full, plain tunnel)",
         "bare relay": "bare TLS relay (bench/bare_relay.c)",
         "squid": "squid ssl-bump", "direct": "direct"}
US_PER_MB_TO_S_PER_GIB = (1 << 30) / 1e6 / 1e6


def measure_all(build, rounds, kinds):
    tmp = tempfile.mkdtemp(prefix="paddock-bench-mitm-")
    if os.geteuid() == 0:
        os.chmod(tmp, 0o755)
    origin_ca, crt, key = make_origin_pki(tmp)
    origin = start_nginx(tmp, crt, key)
    servers = {}
    samples = {k: {n: [] for n in BULK_PEERS} for k in KINDS}
    try:
        servers["paddock"] = start_paddock(tmp, build, origin_ca, "limited")
        servers["squid"], squid_ca = start_squid(tmp, origin_ca)
        if "bulk" in kinds:
            servers["paddock tunnel"] = start_paddock(tmp, build, origin_ca,
                                                      "full")
            servers["bare relay"] = start_bare(build, crt, key, origin_ca)
        trust = {"direct": origin_ca, "paddock tunnel": origin_ca,
                 "bare relay": origin_ca, "squid": squid_ca,
                 "paddock": os.path.join(tmp, "paddock-limited", "proxy",
                                         "ca.pem")}

        def argv(kind, name):
            port = servers[name].port if name in servers else 0
            base = [kind, port, origin.port, trust[name]]
            return base if kind == "bulk" else base + [SECONDS, THREADS]

        for kind in ("hs", "ka"):
            if kind not in kinds:
                continue
            for _ in range(rounds):
                for name in PEERS:
                    samples[kind][name].append(measured(
                        build, servers.get(name), origin, argv(kind, name)))
        for _ in range(rounds if "bulk" in kinds else 0):
            for name in BULK_PEERS:
                samples["bulk"][name].append(measured(
                    build, servers.get(name), origin, argv("bulk", name)))
    finally:
        for srv in servers.values():
            srv.stop()
        origin.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    cache = None
    for line in servers["paddock"].log:
        m = re.search(r"interception leaf cache: (\d+) hits, (\d+) minted",
                      line)
        if m:
            cache = [int(m.group(1)), int(m.group(2))]
    rows = {}
    for kind, by_name in samples.items():
        for name, values in by_name.items():
            ok = [v for v in values if v is not None]
            rows.setdefault(name, {})[kind] = [
                statistics.median(v[i] for v in ok) if ok and
                ok[0][i] is not None else None for i in range(4)] \
                if ok else [None] * 4
    return {"rows": rows, "cache": cache}


def run_isolated(args):
    """Measure in a network namespace of our own: a fresh loopback whose
    port range and TIME_WAIT reuse we may tune (thousands of new
    connections a second) without touching the host."""
    me = [sys.executable, os.path.abspath(__file__), "--build", args.build,
          "--rounds", str(args.rounds), "--inside"]
    for kind in args.only or ():
        me += ["--only", kind]
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    setup = ("ip link set lo up && "
             "sysctl -qw net.ipv4.ip_local_port_range='1024 65000' "
             "net.ipv4.tcp_tw_reuse=1 net.core.somaxconn=4096; "
             'exec "$@"')
    ns = ["unshare", "--net", *user, "sh", "-c", setup, "sh"]
    for cmd in (ns + me, me):
        r = subprocess.run(cmd, capture_output=True, text=True)
        sys.stderr.write(r.stderr)
        for line in r.stdout.splitlines():
            if line.startswith("result "):
                return json.loads(line[len("result "):])
    sys.exit("bench: the measurement failed")


def ratio(a, b):
    return a / b if a and b else None


def gib(us_per_mb):
    """proxy CPU µs per MB as seconds per GiB."""
    return None if us_per_mb is None else us_per_mb * US_PER_MB_TO_S_PER_GIB


def handshake_lines(rows):
    lines = [
        "| | handshakes/s | proxy CPU µs/handshake | keep-alive req/s | "
        "proxy CPU µs/req |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in PEERS:
        r = rows[name]
        lines.append(f"| {LABEL[name]} | {fmt(r['hs'][0])} | "
                     f"{fmt(r['hs'][1])} | {fmt(r['ka'][0])} | "
                     f"{fmt(r['ka'][1])} |")
    return lines + [
        "", "CPU µs per request (handshakes, keep-alive) of the load "
        "generator: " + "; ".join(
            f"{LABEL[n]} {fmt(rows[n]['hs'][2])}, {fmt(rows[n]['ka'][2])}"
            for n in PEERS) +
        "; of the origin (nginx): " + "; ".join(
            f"{LABEL[n]} {fmt(rows[n]['hs'][3])}, {fmt(rows[n]['ka'][3])}"
            for n in PEERS) + "."]


def bulk_lines(rows):
    plain = rows["paddock tunnel"]["bulk"][0]
    lines = [
        "| bulk (one 256 MiB download) | MB/s | x plain tunnel | "
        "proxy CPU s/GiB | client CPU s/GiB | origin CPU s/GiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in BULK_PEERS:
        b = rows[name]["bulk"]
        lines.append(f"| {LABEL[name]} | {fmt(b[0])} | "
                     f"{fmt(ratio(b[0], plain), 2)} | {fmt(gib(b[1]), 2)} | "
                     f"{fmt(gib(b[2]), 2)} | {fmt(gib(b[3]), 2)} |")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", action="append", choices=KINDS,
                    help="measure only this (repeatable)")
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    kinds = tuple(args.only or KINDS)
    os.environ["PATH"] += ":/usr/sbin"
    if args.inside:
        print("result " + json.dumps(measure_all(args.build, args.rounds,
                                                 kinds)), flush=True)
        return 0
    for tool in ("nginx", "squid", "openssl", SQUID_CERTGEN,
                 os.path.join(args.build, "bench", "tls_load"),
                 os.path.join(args.build, "bench", "bare_relay")):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is missing; run tools/install-deps "
                     "--bench (squid must be squid-openssl) and build")
    print(f"bench: measuring {', '.join(kinds)} through direct, paddock "
          "(limited + mitm), paddock (full, plain tunnel), squid ssl-bump "
          f"and the bare TLS relay ({args.rounds} rounds); the reference "
          "proxy (codex) is not installed here and is not measured",
          flush=True)
    load_before = os.getloadavg()
    res = run_isolated(args)
    load_after = os.getloadavg()
    rows, cache = res["rows"], res["cache"]
    lines = [
        f"Measured {machine()}; load average (1 min) {load_before[0]:.1f} "
        f"before, {load_after[0]:.1f} after; medians of {args.rounds} "
        f"interleaved rounds of tls_load ({THREADS} threads, {SECONDS} s) "
        f"and of a {BULK_BYTES >> 20} MiB download. The reference proxy "
        "(codex) is not available on this machine: not measured.",
    ]
    if "hs" in kinds or "ka" in kinds:
        lines += [""] + handshake_lines(rows)
    if "bulk" in kinds:
        lines += [""] + bulk_lines(rows)
    p, sq, t = rows["paddock"], rows["squid"], rows["paddock tunnel"]
    bare = rows["bare relay"]
    hit = None
    if cache and sum(cache):
        hit = cache[0] / sum(cache)
        lines += ["", f"paddock's leaf cache: {cache[0]:,} hits, "
                  f"{cache[1]:,} minted: hit ratio {hit:.4f} (one origin "
                  "host, so one leaf is minted and every later tunnel "
                  "finds it)."]
    checks = []
    if "hs" in kinds:
        checks += [
            ("handshakes/s vs squid", ratio(p["hs"][0], sq["hs"][0]), 2.0),
            ("CPU per handshake, squid / paddock",
             ratio(sq["hs"][1], p["hs"][1]), None)]
    if "ka" in kinds:
        checks += [
            ("keep-alive req/s vs squid", ratio(p["ka"][0], sq["ka"][0]),
             None),
            ("CPU per kept-alive request, squid / paddock",
             ratio(sq["ka"][1], p["ka"][1]), None)]
    if "bulk" in kinds:
        checks += [
            ("intercepted bulk vs plain tunnel",
             ratio(p["bulk"][0], t["bulk"][0]), 0.5),
            ("bare relay bulk vs plain tunnel",
             ratio(bare["bulk"][0], t["bulk"][0]), None),
            ("intercepted bulk vs bare relay",
             ratio(p["bulk"][0], bare["bulk"][0]), None),
            ("CPU per GiB intercepted, paddock / bare relay",
             ratio(p["bulk"][1], bare["bulk"][1]), None)]
    lines += ["", "| paddock | measured | target | |", "|---|---:|---:|---|"]
    ok = True
    for what, value, target in checks:
        met = target is None or (value is not None and value >= target)
        ok = ok and met
        lines.append(f"| {what} | {fmt(value, 2)}x | "
                     f"{'>= ' + str(target) + 'x' if target else 'reported'}"
                     f" | {('met' if met else 'MISSED') if target else ''} |")
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "mitm.md"), "w") as f:
        f.write(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
