"""What the benchmarks share: free loopback ports and the peer servers they
start, stop and measure (bench_http.py, bench_socks5.py)."""
import os
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
        """User and system CPU time of the server and its children."""
        return sum(cpu_seconds(pid)
                   for pid in [self.proc.pid] + children(self.proc.pid))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def cpu_seconds(pid):
    """utime + stime of one process (/proc/PID/stat), seconds; 0 once it
    is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
