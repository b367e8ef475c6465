"""What the benchmarks share: free loopback ports, the peer servers they
start, stop and measure, paddock itself with a loopback profile, the CPU
time a process tree spends, and the formatting of their tables
(bench_http.py, bench_socks5.py, bench_mitm.py, bench_latency.py,
bench_run.py)."""
import datetime
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import threading
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port, proc, what, timeout=20):
    """Connect until the peer accepts (third-party servers print no
    readiness line we could wait for)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"bench: {what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            threading.Event().wait(0.05)
    sys.exit(f"bench: {what} did not start listening on {port}")


class Server:
    def __init__(self, name, argv, port, env=None, ready=None):
        self.name = name
        self.port = port
        self.log = []
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE if ready else subprocess.DEVNULL, env=env)
        if ready:
            for raw in self.proc.stderr:
                line = raw.decode(errors="replace")
                m = re.search(ready, line)
                if m:
                    self.port = int(m.group(1))
                    self.ready = m  # further groups for the caller
                    break
            else:
                sys.exit(f"bench: {name} did not start")
            threading.Thread(target=self._drain, daemon=True).start()
        else:
            wait_listening(port, self.proc, name)

    def _drain(self):
        """Keep what the server says after its readiness line (a
        benchmark may read a summary it logs at exit)."""
        for raw in self.proc.stderr:
            self.log.append(raw.decode(errors="replace"))

    def rss_kib(self):
        """Resident memory of the server and its children, KiB."""
        total = 0
        for pid in [self.proc.pid] + children(self.proc.pid):
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
            except OSError:
                pass
        return total

    def cpu_seconds(self):
        """User and system CPU time of the server's process tree: every
        thread of the server and of its live descendants, and what the
        descendants that already exited spent."""
        return tree_cpu_seconds(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def cpu_seconds(pid, reaped=False):
    """utime + stime of one process (/proc/PID/stat: all its threads),
    seconds; with reaped, also cutime + cstime (its children that exited
    and were waited for); 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid):
    """CPU seconds of a process tree: pid and its live descendants (each
    with its threads), plus the descendants already reaped. A difference
    of two readings is what the tree spent in between."""
    return sum(cpu_seconds(p, reaped=True) for p in [pid] + children(pid))


def cpu_during(server, fn, *args, **kwargs):
    """(fn's result, CPU seconds the server's process tree spent while fn
    ran); the CPU is None without a server (a direct measurement)."""
    before = server.cpu_seconds() if server else None
    value = fn(*args, **kwargs)
    if server is None:
        return value, None
    return value, server.cpu_seconds() - before


def per_unit(cpu, units, scale):
    """cpu seconds per unit times scale (1e6: µs per request; for bulk,
    units in GiB and scale 1: s per GiB), or None."""
    if cpu is None or not units:
        return None
    return cpu * scale / units


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            out.append(int(d))
            out += children(int(d))
    return out


def xfmt(r):
    """A ratio as the tables print it: "2.41x", or "n/a"."""
    return "n/a" if r is None else f"{r:,.2f}x"


def start_paddock(d, build, network="", log_level="warn", env=None,
                  name="paddock"):
    """paddock proxy with an HTTP listener on a port of its own and a
    profile that allows 127.0.0.1, its home and config in directory d
    (created). network is more of the profile's [network] table (mode,
    mitm, ...); proxy variables are dropped from env (default: ours)."""
    os.makedirs(d)
    conf = os.path.join(d, "config.toml")
    with open(conf, "w") as f:
        f.write(f"""default_permissions = "bench"
[permissions.bench.filesystem]
":root" = "read"
[permissions.bench.network]
enabled = true
proxy_url = "http://127.0.0.1:0"
enable_socks5 = false
allow_local_binding = true
{network}
[permissions.bench.network.domains]
"127.0.0.1" = "allow"
""")
    env = {k: v for k, v in (env or os.environ).items()
           if "proxy" not in k.lower()}
    return Server(name, [os.path.join(build, "paddock"), "--log-level",
                         log_level, "proxy", "--config", conf,
                         "--system-config", "", "--home", d, "--cwd", d],
                  0, env=env,
                  ready=r"paddock: listening http=127\.0\.0\.1:(\d+)")


def machine():
    """When and on what a run was measured, for a table's caption."""
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}"
            f" UTC, {os.cpu_count()} CPUs ({cpu}), Linux "
            f"{platform.release()}")


def fmt(v, digits=0):
    """A figure for a table: thousands separated, "n/a" when missing."""
    return "n/a" if v is None else f"{v:,.{digits}f}"
