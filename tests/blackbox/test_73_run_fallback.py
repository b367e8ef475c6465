"""paddock run --landlock-only: the fallback without namespaces.

Every test runs as root and as nobody, like test_70_runner.py, with a
profile Landlock can express (:minimal read, the workspace writable). The
command runs on the host as it is, so each escape is checked against the
host itself. Traffic stays on loopback: the origin listens on the host's
127.0.0.1 and the proxy on another host loopback port.
"""
import json
import os
import signal
import socket
import subprocess

import pytest

from test_70_runner import (NOBODY, PYTHON, Box, Origin, landlock_works,
                            listing)

FS = ('[permissions.box.filesystem]\n'
      '":minimal" = "read"\n'
      '":project_roots" = "write"\n')

PROXY_ON = ('enabled = true\n'
            'allowed_domains = ["127.0.0.1"]\n'
            'allow_local_binding = true\n'
            'proxy_url = "http://127.0.0.1:0"\n'
            'socks_url = "http://127.0.0.1:0"\n')


class FallbackBox(Box):
    """A Box whose profile has no none entries, run with --landlock-only."""

    def __init__(self, uid):
        super().__init__(uid)
        os.mkdir(os.path.join(self.ws, "src"))
        os.mkdir(os.path.join(self.ws, ".git"))
        for name in ("src/main.c", ".git/config", "notes.txt"):
            with open(os.path.join(self.ws, name), "w") as f:
                f.write("old\n")
        self.write_config()
        if uid:
            for base, dirs, files in os.walk(self.ws):
                for n in [base] + [os.path.join(base, x) for x in
                                   dirs + files]:
                    os.lchown(n, uid, uid)

    def write_config(self, network=None, extra="", fs=FS):
        text = ('default_permissions = "box"\n' + extra + fs +
                '[permissions.box.network]\n' +
                (network or 'enabled = false\n'))
        with open(self.config, "w") as f:
            f.write(text)
        if self.uid:
            os.chown(self.config, self.uid, self.uid)

    def as_user(self, argv):
        if not self.uid:
            return argv
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}",
                "--clear-groups", "--"] + argv

    def run(self, *cmd, args=(), **kw):
        return super().run(*cmd, args=("--landlock-only", *args), **kw)


@pytest.fixture(params=["root", "nobody"])
def box(request):
    if not landlock_works():
        pytest.skip("the kernel has no Landlock")
    b = FallbackBox(0 if request.param == "root" else NOBODY)
    yield b
    b.cleanup()


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()


def test_runs_command_with_its_exit_status(box):
    r = box.sh("echo hello; exit 7")
    assert (r.returncode, r.stdout) == (7, "hello\n"), r.stderr
    r = box.sh("kill -TERM $$")
    assert r.returncode == 128 + signal.SIGTERM, r.stderr


def test_no_new_privileges_and_no_capabilities(box):
    r = box.sh("id -u; grep -E '^Cap(Eff|Prm)' /proc/self/status; "
               "grep NoNewPrivs /proc/self/status")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    assert lines[0] == str(box.uid)
    assert lines[1].split()[1] == lines[2].split()[1] == "0000000000000000"
    assert lines[3].split()[1] == "1"


def test_writes_outside_writable_roots_fail(box):
    r = box.sh(f"echo x > {box.outside}/new.txt; "
               f"echo x >> {box.outside}/host.txt; "
               f"rm -f {box.outside}/host.txt; "
               f"echo x > {box.home}/h; echo x > /tmp/paddock-ll-$$")
    assert r.returncode != 0
    assert listing(box.outside) == ["host.txt", "secret.txt"]
    assert open(os.path.join(box.outside, "host.txt")).read() == "host\n"
    assert listing(box.home) == []


def test_reads_outside_the_profile_fail(box):
    r = box.run(PYTHON, "-c",
                "import sys\n"
                "for p in sys.argv[1:]:\n"
                "    try:\n"
                "        open(p).read(); print('read')\n"
                "    except OSError as e: print(e.errno)\n",
                f"{box.outside}/host.txt", "/etc/hostname",
                f"{box.ws}/src/main.c")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "13\nread\nread\n"


def test_workspace_is_writable_below_its_top(box):
    r = box.sh("echo new > src/main.c && echo more > src/new.c && "
               "mkdir src/sub && echo top > notes.txt && echo ok")
    assert (r.returncode, r.stdout) == (0, "ok\n"), r.stderr
    assert open(os.path.join(box.ws, "src/new.c")).read() == "more\n"
    assert open(os.path.join(box.ws, "notes.txt")).read() == "top\n"


def test_metadata_stays_read_only_and_cannot_be_created(box):
    r = box.sh("echo x > .git/config; echo x > .git/new; rm -f .git/config; "
               "mkdir .codex; mkdir .agents; mv .git gone; "
               "mv src/main.c .git/x; echo x > newtop")
    assert r.returncode != 0
    assert open(os.path.join(box.ws, ".git/config")).read() == "old\n"
    assert listing(box.ws) == [".git", "notes.txt", "secret", "src"]
    assert listing(os.path.join(box.ws, ".git")) == ["config"]


def test_symlink_out_of_the_workspace_grants_nothing(box):
    os.symlink(box.outside, os.path.join(box.ws, "src", "out"))
    r = box.sh("echo x > src/out/new.txt; cat src/out/host.txt")
    assert r.returncode != 0
    assert listing(box.outside) == ["host.txt", "secret.txt"]


def test_none_inside_a_granted_path_is_refused_at_start(box):
    box.write_config(fs=FS + f'"{box.ws}/secret" = "none"\n')
    r = box.sh("echo ran > src/ran.txt")
    assert r.returncode == 1
    lines = r.stderr.strip().split("\n")
    assert len(lines) == 1, r.stderr
    assert (f"--landlock-only cannot hide '{box.ws}/secret' (none) inside "
            f"'{box.ws}' (write)") in lines[0]
    assert not os.path.exists(os.path.join(box.ws, "src", "ran.txt"))


def test_network_disabled_allows_no_tcp_at_all(box, origin):
    r = box.py(
        "import os, socket\n"
        "print(os.environ.get('CODEX_SANDBOX_NETWORK_DISABLED'))\n"
        "s = socket.socket()\n"
        "try:\n"
        f"    s.connect(('127.0.0.1', {origin.port})); print('connected')\n"
        "except OSError as e: print('tcp', e.errno)\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "1\ntcp 13\n"


def test_proxied_curl_works_and_direct_traffic_is_refused(box, origin):
    box.write_config(network=PROXY_ON)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setblocking(False)
    url = f"http://127.0.0.1:{origin.port}/"
    script = (
        "import socket\n"
        "def tr(what, f):\n"
        "    try:\n"
        "        f(); print(what, 'ok')\n"
        "    except OSError as e: print(what, e.errno)\n"
        f"tr('tcp', lambda: socket.create_connection(('127.0.0.1', "
        f"{origin.port})))\n"
        "tr('bind', lambda: socket.socket().bind(('127.0.0.1', 0)))\n"
        "tr('udp', lambda: socket.socket(socket.AF_INET, "
        f"socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', "
        f"{udp.getsockname()[1]})))\n"
        "tr('udp6', lambda: socket.socket(socket.AF_INET6, "
        "socket.SOCK_DGRAM))\n"
        "tr('raw', lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, "
        "1))\n"
        "tr('packet', lambda: socket.socket(socket.AF_PACKET, "
        "socket.SOCK_RAW))\n"
        "tr('sctp', lambda: socket.socket(socket.AF_INET, "
        "socket.SOCK_STREAM, 132))\n")
    r = box.run("/bin/sh", "-c",
                f"curl -sS --noproxy '' {url} && "
                f"curl -sS --noproxy '' -x \"$ALL_PROXY\" {url} && "
                f"exec {PYTHON} -c \"$1\"", "sh", script)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("origin says hi\n" * 2 +
                        "tcp 13\nbind 13\nudp 13\nudp6 13\nraw 1\n"
                        "packet 97\nsctp 13\n")
    with pytest.raises(BlockingIOError):
        udp.recv(100)
    udp.close()


def test_environment_names_the_proxy_on_host_loopback(box, origin):
    box.write_config(network=PROXY_ON)
    r = box.py("import json, os; print(json.dumps(dict(os.environ)))")
    assert r.returncode == 0, r.stderr
    env = json.loads(r.stdout)
    http = env["HTTP_PROXY"]
    assert http.startswith("http://127.0.0.1:")
    assert int(http.rsplit(":", 1)[1]) > 0
    assert env["ALL_PROXY"].startswith("socks5h://127.0.0.1:")
    assert "CODEX_SANDBOX_NETWORK_DISABLED" not in env


def test_host_abstract_sockets_and_processes_are_out_of_reach(box):
    name = f"\0paddock-ll-{os.getpid()}-{box.uid}".encode()
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind(name)
    abstract.listen()
    # A process of the same user: only Landlock's signal scope stops it.
    host = subprocess.Popen(box.as_user(["sleep", "60"]))
    try:
        r = box.py(
            "import os, socket\n"
            "c = socket.socket(socket.AF_UNIX)\n"
            "try:\n"
            f"    c.connect({name!r}); print('connected')\n"
            "except OSError as e: print('abstract', e.errno)\n"
            "try:\n"
            f"    os.kill({host.pid}, 0); print('signalled')\n"
            "except OSError as e: print('kill', e.errno)\n")
        assert r.returncode == 0, r.stderr
        assert r.stdout == "abstract 1\nkill 1\n"
        assert host.poll() is None
    finally:
        host.kill()
        host.wait()
        abstract.close()


def test_tree_dies_with_the_command_and_host_processes_survive(box):
    tag = f"paddock-ll-orphan-{os.getpid()}-{box.uid}"
    host = subprocess.Popen(box.as_user(["sleep", "60"]))
    try:
        r = box.run("/bin/sh", "-c",
                    f"setsid sh -c 'exec -a {tag} sleep 60' & echo bg")
        assert (r.returncode, r.stdout) == (0, "bg\n"), r.stderr

        def alive():
            found = []
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        if f.read().startswith(tag.encode()):
                            found.append(pid)
                except OSError:
                    pass
            return found
        # paddock returned after its init had killed the tree.
        assert alive() == []
        assert host.poll() is None
    finally:
        host.kill()
        host.wait()


def test_ptrace_and_new_namespaces_are_refused(box):
    r = box.sh("unshare -Ur true; echo $?; "
               f"{PYTHON} -c 'import ctypes; "
               "print(ctypes.CDLL(None, use_errno=True).ptrace(16, 1, 0, 0), "
               "ctypes.get_errno())'")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[0] != "0"
    assert r.stdout.split("\n")[1] == "-1 1"


def test_explain_shows_the_landlock_only_plan(box):
    box.write_config(network=PROXY_ON)
    r = box.run("true", args=("--explain",))
    assert r.returncode == 0, r.stderr
    assert "filesystem (root: the host's, by Landlock alone):" in r.stdout
    assert f"read       {box.ws}\n" in r.stdout
    assert f"read-write {box.ws}/src\n" in r.stdout
    assert "network: the host's (--landlock-only): TCP connect only to " \
        "the proxy's ports" in r.stdout
    assert "listener 127.0.0.1:0 (http), an ephemeral port" in r.stdout
    assert "inet sockets other than TCP streams" in r.stdout
    r = box.run("true", args=("--explain", "--format", "json"))
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["sandbox"] == "landlock-only"
    assert plan["filesystem"]["mounts"] == []
    assert plan["network"]["mode"] == "host-proxy"
    assert plan["seccomp"]["inet_tcp_only"] is True
    rules = {x["path"]: x["access"] for x in plan["landlock"]["rules"]}
    assert rules[box.ws] == "read"
    assert rules[f"{box.ws}/src"] == "read-write"
    assert f"{box.ws}/.git" not in rules


def test_missing_landlock_is_one_line(box):
    r = box.sh("echo ran > src/ran.txt",
               env={"PADDOCK_SANDBOX_FORCE_MISSING": "landlock"})
    assert r.returncode == 1
    lines = r.stderr.strip().split("\n")
    assert len(lines) == 1, r.stderr
    assert "CONFIG_SECURITY_LANDLOCK" in lines[0]
    assert not os.path.exists(os.path.join(box.ws, "src", "ran.txt"))


def test_missing_user_namespaces_suggest_the_fallback(box):
    r = Box.run(box, "/bin/sh", "-c", "echo ran > src/ran.txt",
                env={"PADDOCK_SANDBOX_FORCE_MISSING": "userns"})
    assert r.returncode == 1
    lines = r.stderr.strip().split("\n")
    assert len(lines) == 1, r.stderr
    assert "or run with --landlock-only" in lines[0]
    # The fallback does not need them.
    r = box.sh("echo ran > src/ran.txt",
               env={"PADDOCK_SANDBOX_FORCE_MISSING": "userns"})
    assert r.returncode == 0, r.stderr
    assert open(os.path.join(box.ws, "src", "ran.txt")).read() == "ran\n"
