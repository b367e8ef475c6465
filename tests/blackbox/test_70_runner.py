"""paddock run: escape attempts fail, real work succeeds.

Every test runs twice: as root and as the unprivileged user nobody (via
setpriv). Each one works in its own workspace under /tmp owned by that
user, with a config whose permission profile grants read on :root, write
on the workspace and none on a few secrets. The host side is checked
from outside after the run. Traffic stays on loopback: the origin server
listens on the host's 127.0.0.1 and is reached only through the proxy.
"""
import http.server
import json
import os
import shutil
import select
import signal
import socket
import subprocess
import tempfile
import threading

import pytest

from conftest import binary

NOBODY = 65534
PYTHON = "/usr/bin/python3"


def userns_works(uid):
    """Unprivileged user namespaces may be off; say so instead of failing."""
    cmd = ["unshare", "-Urmnpf", "true"]
    if uid:
        cmd = ["setpriv", f"--reuid={uid}", f"--regid={uid}",
               "--clear-groups", "--"] + cmd
    return subprocess.run(cmd, capture_output=True).returncode == 0


def landlock_works():
    """The kernel's Landlock ABI, 0 when off."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    abi = libc.syscall(444, None, 0, 1)  # landlock_create_ruleset(VERSION)
    return abi > 0


class Box:
    """A workspace, an outside directory and a config for one user."""

    def __init__(self, uid):
        self.uid = uid
        self.root = tempfile.mkdtemp(prefix="paddock-run-")
        os.chmod(self.root, 0o755)
        self.ws = os.path.join(self.root, "ws")
        self.outside = os.path.join(self.root, "outside")
        self.home = os.path.join(self.root, "home")
        for d in (self.ws, self.outside, self.home):
            os.mkdir(d)
        with open(os.path.join(self.outside, "host.txt"), "w") as f:
            f.write("host\n")
        os.mkdir(os.path.join(self.ws, "secret"))
        with open(os.path.join(self.ws, "secret", "key"), "w") as f:
            f.write("s3cr3t\n")
        with open(os.path.join(self.outside, "secret.txt"), "w") as f:
            f.write("s3cr3t\n")
        os.chmod(os.path.join(self.outside, "secret.txt"), 0o644)
        self.config = os.path.join(self.root, "config.toml")
        self.write_config()
        if uid:
            for base, dirs, files in os.walk(self.root):
                for n in [base] + [os.path.join(base, x) for x in
                                   dirs + files]:
                    os.lchown(n, uid, uid)

    def write_config(self, network=None, extra="", fs_extra=""):
        net = network or 'enabled = false\n'
        text = (
            'default_permissions = "box"\n' + extra +
            '[permissions.box.filesystem]\n'
            '":root" = "read"\n'
            '":project_roots" = "write"\n'
            f'"{self.ws}/secret" = "none"\n'
            f'"{self.outside}/secret.txt" = "none"\n' + fs_extra +
            '[permissions.box.network]\n' + net)
        with open(self.config, "w") as f:
            f.write(text)
        if self.uid:
            os.chown(self.config, self.uid, self.uid)

    def argv(self, *args, cmd):
        prefix = []
        if self.uid:
            prefix = ["setpriv", f"--reuid={self.uid}",
                      f"--regid={self.uid}", "--clear-groups", "--"]
        return prefix + [binary("paddock"), "run", "--config", self.config,
                         "--system-config", "", "--home", self.home,
                         *args, "--", *cmd]

    def env(self, extra=None):
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": self.home,
               "LANG": "C.UTF-8"}
        env.update(extra or {})
        return env

    def run(self, *cmd, args=(), env=None, timeout=60, input=None):
        return subprocess.run(self.argv(*args, cmd=list(cmd)), cwd=self.ws,
                              env=self.env(env), capture_output=True,
                              text=True, timeout=timeout, input=input)

    def sh(self, script, **kw):
        return self.run("/bin/sh", "-c", script, **kw)

    def py(self, script, **kw):
        return self.run(PYTHON, "-c", script, **kw)

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(params=["root", "nobody"])
def box(request):
    uid = 0 if request.param == "root" else NOBODY
    if not userns_works(uid):
        pytest.skip(f"user namespaces are unavailable to uid {uid} "
                    "(kernel.unprivileged_userns_clone or AppArmor)")
    if not landlock_works():
        pytest.skip("the kernel has no Landlock")
    b = Box(uid)
    yield b
    b.cleanup()


def listing(path):
    return sorted(os.listdir(path))


# ---------------------------------------------------------------------------
# Running and exit status.
# ---------------------------------------------------------------------------

def test_runs_command_with_its_exit_status(box):
    r = box.sh("echo hello; exit 7")
    assert r.returncode == 7, r.stderr
    assert r.stdout == "hello\n"


def test_killed_command_gives_128_plus_signal(box):
    r = box.sh("kill -TERM $$")
    assert r.returncode == 128 + signal.SIGTERM, r.stderr


def test_missing_command_is_127(box):
    r = box.run("no-such-command-here")
    assert r.returncode == 127
    assert "cannot run the command ('no-such-command-here')" in r.stderr


def test_command_runs_as_the_calling_user_without_capabilities(box):
    r = box.sh("id -u; grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status; "
               "grep NoNewPrivs /proc/self/status")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    assert lines[0] == str(box.uid)
    for line in lines[1:4]:
        assert line.split()[1] == "0000000000000000", r.stdout
    assert lines[4].split()[1] == "1"


def test_ctrl_c_reaches_the_command(box):
    script = ("import os, signal\n"
              "def h(s, f):\n"
              "    os.write(1, b'got SIGINT\\n'); os._exit(3)\n"
              "signal.signal(signal.SIGINT, h)\n"
              "os.write(1, b'ready\\n')\n"
              "while True: signal.pause()\n")
    p = subprocess.Popen(box.argv(cmd=[PYTHON, "-c", script]), cwd=box.ws,
                         env=box.env(), stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "ready\n"
    p.send_signal(signal.SIGINT)
    assert p.stdout.readline() == "got SIGINT\n"
    assert p.wait(timeout=30) == 3


def test_whole_tree_dies_with_paddock(box):
    tag = f"paddock-orphan-{os.getpid()}-{box.uid}"
    bg = "import os, time; os.write(1, b'bg\\n'); time.sleep(1000)"
    script = f"(exec -a {tag} {PYTHON} -c \"{bg}\") & wait"
    p = subprocess.Popen(box.argv(cmd=["/bin/bash", "-c", script]),
                         cwd=box.ws, env=box.env(), stdout=subprocess.PIPE)

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
    assert p.stdout.readline() == b"bg\n"
    assert alive(), "the background process is not visible"
    # Kill paddock without a chance to clean up. Every process of the
    # sandbox holds the pipe: EOF means they are all gone.
    p.kill()
    p.wait(timeout=30)
    ready, _, _ = select.select([p.stdout], [], [], 30)
    assert ready and p.stdout.read() == b""
    assert not alive()


# ---------------------------------------------------------------------------
# The filesystem.
# ---------------------------------------------------------------------------

def test_writes_outside_writable_roots_fail(box):
    r = box.sh(f"echo x > {box.outside}/new; echo x >> {box.outside}/host.txt;"
               f" rm -f {box.outside}/host.txt; mkdir {box.outside}/d;"
               f" touch /etc/paddock-escape; echo done")
    assert r.stdout == "done\n"
    assert r.stderr.count("Read-only file system") >= 4, r.stderr
    assert listing(box.outside) == ["host.txt", "secret.txt"]
    assert open(os.path.join(box.outside, "host.txt")).read() == "host\n"
    assert not os.path.exists("/etc/paddock-escape")


def test_workspace_is_writable(box):
    r = box.sh("echo data > made.txt && mkdir sub && mv made.txt sub/")
    assert r.returncode == 0, r.stderr
    path = os.path.join(box.ws, "sub", "made.txt")
    assert open(path).read() == "data\n"
    assert os.stat(path).st_uid == box.uid


def test_none_paths_cannot_be_read(box):
    r = box.sh(f"cat {box.ws}/secret/key; ls {box.ws}/secret;"
               f" cat {box.outside}/secret.txt; echo done")
    assert r.stdout == "done\n"
    assert "s3cr3t" not in r.stdout + r.stderr
    assert r.stderr.count("Permission denied") == 3, r.stderr
    # The host's copies are intact.
    assert open(os.path.join(box.ws, "secret", "key")).read() == "s3cr3t\n"


def test_none_path_cannot_be_replaced(box):
    r = box.sh(f"rm -rf {box.ws}/secret; mv {box.ws}/secret {box.ws}/x;"
               f" echo done")
    assert r.stdout == "done\n"
    assert listing(os.path.join(box.ws, "secret")) == ["key"]
    assert not os.path.exists(os.path.join(box.ws, "x"))


def test_existing_git_metadata_is_read_only(box):
    git = os.path.join(box.ws, ".git")
    os.makedirs(os.path.join(git, "hooks"))
    with open(os.path.join(git, "HEAD"), "w") as f:
        f.write("ref: refs/heads/main\n")
    if box.uid:
        for p in (git, os.path.join(git, "hooks"), os.path.join(git, "HEAD")):
            os.chown(p, box.uid, box.uid)
    r = box.sh("cat .git/HEAD; echo evil > .git/hooks/pre-commit;"
               " echo x >> .git/HEAD; rm -rf .git; mv .git gone; echo done")
    assert r.stdout == "ref: refs/heads/main\ndone\n", r.stderr
    assert listing(git) == ["HEAD", "hooks"]
    assert listing(os.path.join(git, "hooks")) == []
    assert open(os.path.join(git, "HEAD")).read() == "ref: refs/heads/main\n"


def test_gitdir_of_a_git_file_is_read_only(box):
    real = os.path.join(box.ws, "real-gitdir")
    os.mkdir(real)
    with open(os.path.join(real, "config"), "w") as f:
        f.write("[core]\n")
    with open(os.path.join(box.ws, ".git"), "w") as f:
        f.write("gitdir: real-gitdir\n")
    if box.uid:
        for p in (real, os.path.join(real, "config"),
                  os.path.join(box.ws, ".git")):
            os.chown(p, box.uid, box.uid)
    r = box.sh("echo x >> real-gitdir/config; echo y > real-gitdir/hook;"
               " echo 'gitdir: /tmp' > .git; echo done")
    assert r.stdout == "done\n"
    assert r.stderr.count("Read-only file system") == 3, r.stderr
    assert open(os.path.join(real, "config")).read() == "[core]\n"
    assert listing(real) == ["config"]


def test_missing_metadata_cannot_be_created(box):
    r = box.sh("mkdir .codex/x; touch .codex/config.toml; git init -q .;"
               " mkdir -p .agents/a; rmdir .git; echo done")
    assert r.stdout == "done\n", r.stderr
    # The placeholders are gone after the run; nothing was created.
    assert listing(box.ws) == ["secret"]


def test_a_run_ending_leaves_placeholders_to_a_run_still_using_them(box):
    """Two runs in one workspace: the first to end must not take away the
    placeholders the other masks, or that one could create them."""
    def start(script):
        p = subprocess.Popen(box.argv(cmd=["/bin/sh", "-c", script]),
                             cwd=box.ws, env=box.env(), text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        assert p.stdout.readline() == "ready\n", p.stderr.read()
        return p
    first = start("echo ready; read x")
    second = start("echo ready; read x; mkdir .codex/x; mkdir .git/hooks;"
                   " rmdir .agents; echo done")
    first.communicate("\n", timeout=60)
    assert first.returncode == 0
    # Still held by the second run.
    assert sorted(listing(box.ws)) == [".agents", ".codex", ".git",
                                       "secret"]
    out, err = second.communicate("\n", timeout=60)
    assert second.returncode == 0 and out == "done\n", err
    lines = err.splitlines()
    assert len(lines) == 3, err
    assert "'.codex/x'" in lines[0] or "‘.codex/x’" in lines[0], err
    assert ".git/hooks" in lines[1] and "'.agents'" in lines[2], err
    # The last run removed them; nothing was created on the host.
    assert listing(box.ws) == ["secret"]


def test_placeholders_left_by_a_killed_run_are_adopted(box):
    p = subprocess.Popen(box.argv(cmd=["/bin/sh", "-c", "echo ready; read x"]),
                         cwd=box.ws, env=box.env(), text=True,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    assert p.stdout.readline() == "ready\n"
    p.kill()
    p.wait(timeout=30)
    p.stdin.close()
    p.stdout.close()
    left = sorted(listing(box.ws))
    assert left == [".agents", ".codex", ".git", "secret"]
    for name in (".agents", ".codex", ".git"):
        st = os.lstat(os.path.join(box.ws, name))
        assert st.st_mode & 0o7777 == 0o1400 and st.st_uid == box.uid
    # The next run protects the same names with them, then removes them.
    r = box.sh("mkdir .codex/x; echo done")
    assert r.stdout == "done\n", r.stderr
    assert listing(box.ws) == ["secret"]


def test_symlink_hardlink_and_rename_tricks_fail(box):
    r = box.sh(
        f"ln -s {box.outside}/host.txt link; echo x >> link;"
        f" ln -s {box.ws}/secret/key slink; cat slink;"
        f" ln {box.outside}/host.txt hard; ln /etc/passwd hard2;"
        f" echo x > mine; mv mine {box.outside}/host.txt; echo done")
    assert r.stdout == "done\n", r.stderr
    assert "s3cr3t" not in r.stdout + r.stderr
    assert open(os.path.join(box.outside, "host.txt")).read() == "host\n"
    assert sorted(listing(box.ws)) == ["link", "mine", "secret", "slink"]


def test_proc_shows_only_the_sandbox(box):
    r = box.sh("ls /proc | grep -E '^[0-9]+$' | wc -l; ls /proc/1/root/;"
               " ls /proc/1/cwd/; cat /proc/1/environ; echo done")
    assert r.stdout.split("\n")[-2] == "done"
    # pid 1 (paddock's init), sh, ls/grep/wc: a handful, not the host's.
    assert int(r.stdout.split("\n")[0]) < 10
    assert r.stderr.count("Permission denied") >= 3, r.stderr


def test_host_processes_cannot_be_signalled(box):
    # This test process is far outside the sandbox's pid namespace.
    host = subprocess.Popen(["sleep", "1000"])
    try:
        r = box.sh(f"kill -TERM {host.pid} 2>/dev/null || echo refused;"
                   " kill -0 1 && echo init-visible")
        assert r.stdout == "refused\ninit-visible\n", r.stderr
        assert host.poll() is None
    finally:
        host.kill()
        host.wait()


def test_mount_namespaces_and_ptrace_are_refused(box):
    script = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "def t(name, rc):\n"
        "    print(name, 'ok' if rc == 0 else 'refused')\n"
        "t('mount', libc.mount(b'none', b'/tmp', b'tmpfs', 0, None))\n"
        "t('umount', libc.umount2(b'/proc', 2))\n"
        "t('unshare-user', libc.unshare(0x10000000))\n"
        "t('unshare-net', libc.unshare(0x40000000))\n"
        "t('ptrace', libc.ptrace(16, 1, None, None))\n"
        "t('chroot', libc.chroot(b'/tmp'))\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os._exit(0 if libc.ptrace(0, 0, None, None) == 0 else 1)\n"
        "print('traceme', 'ok' if os.waitpid(pid, 0)[1] == 0 else "
        "'refused')\n")
    r = box.py(script)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [
        "mount", "refused", "umount", "refused", "unshare-user", "refused",
        "unshare-net", "refused", "ptrace", "refused", "chroot", "refused",
        "traceme", "refused"]
    r = box.run("unshare", "-U", "true")
    assert r.returncode != 0


def test_tiocsti_and_io_uring_are_refused(box):
    script = (
        "import ctypes, fcntl, os, pty\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "m, s = pty.openpty()\n"
        "try:\n"
        "    fcntl.ioctl(s, 0x5412, b'x'); print('tiocsti ok')\n"
        "except OSError as e: print('tiocsti', e.errno)\n"
        "p = ctypes.create_string_buffer(120)\n"
        "rc = libc.syscall(425, 4, p)\n"
        "print('io_uring', ctypes.get_errno() if rc < 0 else 'ok')\n")
    r = box.py(script)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "tiocsti 1\nio_uring 1\n"


def test_dev_null_takes_redirections(box):
    # The shell opens it with O_CREAT; a sticky world-writable /dev made
    # that fail for every user but root.
    r = box.sh("echo x > /dev/null && echo ok")
    assert (r.returncode, r.stdout) == (0, "ok\n"), r.stderr


def test_compiler_writes_into_the_workspace(box):
    with open(os.path.join(box.ws, "hello.c"), "w") as f:
        f.write('#include <stdio.h>\nint main(void){puts("built");}\n')
    if box.uid:
        os.chown(os.path.join(box.ws, "hello.c"), box.uid, box.uid)
    r = box.sh("cc -o hello hello.c && ./hello")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "built\n"
    assert os.path.exists(os.path.join(box.ws, "hello"))


# ---------------------------------------------------------------------------
# The network.
# ---------------------------------------------------------------------------

class Origin:
    """A loopback HTTP origin on the host."""

    def __init__(self):
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"origin says hi\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()


PROXY_ON = ('enabled = true\n'
            'allowed_domains = ["127.0.0.1"]\n'
            'allow_local_binding = true\n'
            'proxy_url = "http://127.0.0.1:0"\n'
            'socks_url = "http://127.0.0.1:0"\n')


def test_network_disabled_has_only_loopback(box, origin):
    r = box.py(
        "import os, socket\n"
        "print(os.environ.get('CODEX_SANDBOX_NETWORK_DISABLED'))\n"
        "print(sorted(n for _, n in socket.if_nameindex()))\n"
        f"s = socket.socket()\n"
        f"try:\n"
        f"    s.connect(('127.0.0.1', {origin.port})); print('connected')\n"
        f"except OSError as e: print('refused', e.errno)\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "1\n['lo']\nrefused 111\n"


def test_curl_through_the_proxy_reaches_a_loopback_origin(box, origin):
    box.write_config(network=PROXY_ON)
    url = f"http://127.0.0.1:{origin.port}/"
    # NO_PROXY lists 127.0.0.1; --noproxy '' makes curl use the proxy.
    r = box.sh(f"curl -sS --noproxy '' {url}; "
               f"curl -sS --noproxy '' -x \"$ALL_PROXY\" {url}")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "origin says hi\n" * 2


def test_python_urllib_uses_the_proxy_from_the_environment(box, origin):
    box.write_config(network=PROXY_ON)
    r = box.py(
        "import os, urllib.request\n"
        "os.environ['NO_PROXY'] = os.environ['no_proxy'] = ''\n"
        f"print(urllib.request.urlopen('http://127.0.0.1:{origin.port}/')"
        ".read().decode(), end='')\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "origin says hi\n"


def test_denied_destination_is_refused_by_the_proxy(box, origin):
    box.write_config(network=PROXY_ON.replace(
        'allowed_domains = ["127.0.0.1"]', 'allowed_domains = ["a.test"]'))
    r = box.sh("curl -s --noproxy '' -o /dev/null -w '%{http_code}' "
               f"http://127.0.0.1:{origin.port}/")
    assert r.stdout == "403", r.stderr


def test_child_environment_is_what_paddock_env_gives(box, paddock):
    box.write_config(network=PROXY_ON)
    r = box.py("import json, os; print(json.dumps(dict(os.environ)))")
    assert r.returncode == 0, r.stderr
    env = json.loads(r.stdout)
    assert env["HTTP_PROXY"] == "http://127.0.0.1:3128"
    assert env["ALL_PROXY"] == "socks5h://127.0.0.1:8081"
    assert "CODEX_SANDBOX_NETWORK_DISABLED" not in env
    # The same names as 'paddock env' for a config with those ports.
    socks = env["ALL_PROXY"][len("socks5h://"):]
    e = paddock("env", "--format", "json", "--config", box.config,
                "--system-config", "", "--home", box.home,
                "-c", 'permissions.box.network.proxy_url='
                '"http://127.0.0.1:3128"',
                "-c", f'permissions.box.network.socks_url="http://{socks}"')
    assert e.rc == 0, e.err
    want = json.loads(e.out)
    for k, v in want.items():
        if k != "GIT_SSH_COMMAND":
            assert env[k] == v, k


def test_direct_traffic_to_host_loopback_is_unreachable(box, origin):
    box.write_config(network=PROXY_ON)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setblocking(False)
    uport = udp.getsockname()[1]
    r = box.py(
        "import socket\n"
        "s = socket.socket()\n"
        "try:\n"
        f"    s.connect(('127.0.0.1', {origin.port})); print('tcp open')\n"
        "except OSError as e: print('tcp', e.errno)\n"
        "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        f"u.sendto(b'escape', ('127.0.0.1', {uport}))\n"
        "for fam, typ in ((socket.AF_INET, socket.SOCK_RAW),\n"
        "                 (socket.AF_PACKET, socket.SOCK_RAW)):\n"
        "    try:\n"
        "        socket.socket(fam, typ, 1); print('raw ok')\n"
        "    except OSError as e: print('raw', e.errno)\n"
        "print('done')\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "tcp 111\nraw 1\nraw 97\ndone\n"
    # The datagram went to the namespace's own loopback, not the host's.
    with pytest.raises(BlockingIOError):
        udp.recv(100)
    udp.close()


def test_host_unix_and_abstract_sockets_are_unreachable(box):
    path = os.path.join(box.outside, "host.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen()
    os.chmod(path, 0o777)
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind(f"\0paddock-test-{os.getpid()}".encode())
    abstract.listen()
    try:
        r = box.py(
            "import socket\n"
            f"for a in ({path!r}, b'\\0paddock-test-{os.getpid()}'):\n"
            "    c = socket.socket(socket.AF_UNIX)\n"
            "    try:\n"
            "        c.connect(a); print('connected')\n"
            "    except OSError as e: print('refused', e.errno)\n")
        assert r.returncode == 0, r.stderr
        assert r.stdout == "refused 13\nrefused 111\n"
    finally:
        srv.close()
        abstract.close()


# ---------------------------------------------------------------------------
# Refusals, the environment, --explain.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("network", [False, True],
                         ids=["network-off", "network-on"])
@pytest.mark.parametrize("mechanism,words", [
    ("userns", "kernel.unprivileged_userns_clone"),
    ("landlock", "CONFIG_SECURITY_LANDLOCK"),
    ("seccomp", "CONFIG_SECCOMP_FILTER"),
    ("proc", "/proc is partly hidden"),
])
def test_missing_mechanism_stops_before_exec(box, mechanism, words, network):
    # With the network on, the proxy starts on the listeners while the
    # child finishes its setup: a failure after them still stops the run.
    if network:
        box.write_config(network=PROXY_ON)
    r = box.sh("echo ran > ran.txt",
               env={"PADDOCK_SANDBOX_FORCE_MISSING": mechanism})
    assert r.returncode == 1
    lines = r.stderr.strip().split("\n")
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("paddock: error: cannot ")
    assert words in lines[0]
    assert not os.path.exists(os.path.join(box.ws, "ran.txt"))
    assert listing(box.ws) == ["secret"]


def test_secrets_are_withheld_by_default(box):
    env = {"MY_API_KEY": "k", "GH_TOKEN": "t", "DB_SECRET": "s",
           "PLAIN": "p"}
    r = box.py("import os; print(sorted(k for k in os.environ "
               "if k in ('MY_API_KEY','GH_TOKEN','DB_SECRET','PLAIN')))",
               env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "['PLAIN']\n"
    assert "3 environment variables withheld" in r.stderr
    r = box.py("print(1)", env=env, args=("--quiet",))
    assert r.stderr == ""
    box.write_config(extra="[shell_environment_policy]\n"
                     "ignore_default_excludes = true\n"
                     'exclude = ["db_*"]\n'
                     'set = { EXTRA = "e" }\n')
    r = box.py("import os; print(sorted(k for k in os.environ "
               "if k in ('MY_API_KEY','GH_TOKEN','DB_SECRET','PLAIN',"
               "'EXTRA')))", env=env)
    assert r.stdout == "['EXTRA', 'GH_TOKEN', 'MY_API_KEY', 'PLAIN']\n"
    assert "withheld" not in r.stderr


def test_shell_environment_policy_core_and_include_only(box):
    box.write_config(extra="[shell_environment_policy]\n"
                     'inherit = "core"\n'
                     'include_only = ["P*", "H*", "CODEX_*"]\n')
    r = box.run("/usr/bin/env", env={"PLAIN": "p"})
    assert r.returncode == 0, r.stderr
    names = sorted(line.split("=")[0] for line in r.stdout.splitlines())
    assert names == ["CODEX_SANDBOX_NETWORK_DISABLED", "HOME", "PATH"]


def test_explain_prints_the_plan(box):
    r = box.run("true", args=("--explain",))
    assert r.returncode == 0, r.stderr
    assert f"bind-rw   {box.ws}\n" in r.stdout
    assert f"mask-dir  {box.ws}/secret\n" in r.stdout
    assert f"mask-file {box.outside}/secret.txt\n" in r.stdout
    assert "network: own namespace, loopback only" in r.stdout
    assert "CODEX_SANDBOX_NETWORK_DISABLED=1" in r.stdout
    # Explaining creates nothing.
    assert listing(box.ws) == ["secret"]
    box.write_config(network=PROXY_ON)
    r = box.run("true", args=("--explain", "--format", "json"))
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["command"] == ["true"]
    assert plan["filesystem"]["root"] == "read-only"
    assert {"op": "bind-rw", "path": box.ws} in plan["filesystem"]["mounts"]
    assert plan["network"]["mode"] == "proxy"
    assert plan["network"]["listeners"][0] == {
        "frontend": "http", "address": "127.0.0.1:3128"}
    assert plan["environment"]["HTTP_PROXY"] == "http://127.0.0.1:3128"
    assert plan["environment"]["HOME"] is None
    assert "ptrace" in plan["seccomp"]["denied"]


@pytest.mark.parametrize("args", [["--format", "json"], ["--no-such"], []])
def test_bad_usage_is_refused(paddock, args):
    r = paddock("run", *args, *(["true"] if args else []))
    assert r.rc == 2
    assert r.err.startswith("paddock: ")


def test_config_check_validates_the_environment_policy(paddock, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text("[shell_environment_policy]\n"
                   'inherit = "some"\n'
                   'set = { A = 1 }\n'
                   'include_only = "X"\n')
    r = paddock("config", "check", "--config", str(cfg),
                "--system-config", "", "--home", str(tmp_path))
    assert r.rc == 1
    out = r.out + r.err
    assert "shell_environment_policy.inherit: \"some\" is not a valid" in out
    assert "shell_environment_policy.set.A: expected a string" in out
    assert "shell_environment_policy.include_only: expected an array" in out


def test_interception_inside_run_and_the_ca_key_stays_outside(
        box, tls_ca, tls_origin):
    """Limited mode with mitm: curl inside trusts the CA through the
    environment paddock run sets; a POST is refused inside HTTPS; the CA
    key is never readable in the sandbox, though :root is."""
    box.write_config(network=PROXY_ON.replace('"127.0.0.1"]', '"localhost"]')
                     + 'mode = "limited"\nmitm = true\n')
    # paddock itself trusts the origin's test CA (a copy nobody can read).
    test_ca = os.path.join(box.root, "origin-ca.pem")
    shutil.copy(tls_ca[0], test_ca)
    os.chmod(test_ca, 0o644)
    url = f"https://localhost:{tls_origin.port}/echo"
    curl = "curl -sS --noproxy '' -o /dev/null -w '%{http_code}\\n'"
    r = box.sh(f"{curl} {url}; {curl} -X POST -d x {url}; "
               f"cat {box.home}/proxy/ca.pem | head -1; "
               f"cat {box.home}/proxy/ca.key",
               env={"SSL_CERT_FILE": test_ca})
    assert r.stdout.splitlines()[:3] == [
        "200", "403", "-----BEGIN CERTIFICATE-----"], r.stdout + r.stderr
    assert "PRIVATE KEY" not in r.stdout
    assert "ca.key" in r.stderr
    # On the host the key is there, private.
    assert os.stat(os.path.join(box.home, "proxy", "ca.key")).st_mode \
        & 0o777 == 0o600
