"""paddock run --ask: a request outside the allowlist is asked about on
paddock's controlling terminal.

Each test starts paddock run in a new session whose controlling terminal
is a pseudo-terminal the test holds the master side of; the command's own
stdout and stderr go to pipes, so the master side sees only paddock's
questions. The test waits for the question text, answers, and checks what
the command got. Run as root and as nobody, with and without namespaces.
Traffic stays on loopback.
"""
import fcntl
import os
import select
import subprocess
import termios
import time

import pytest

from test_70_runner import (NOBODY, Box, Origin, landlock_works,
                            userns_works)

ASK_NET = ('enabled = true\n'
           'allowed_domains = ["a.test"]\n'
           'denied_domains = ["127.0.0.2"]\n'
           'allow_local_binding = true\n'
           'proxy_url = "http://127.0.0.1:0"\n'
           'socks_url = "http://127.0.0.1:0"\n')

LL_FS = ('[permissions.box.filesystem]\n'
         '":minimal" = "read"\n'
         '":project_roots" = "write"\n')


@pytest.fixture(params=[("root", ""), ("nobody", ""),
                        ("root", "--landlock-only"),
                        ("nobody", "--landlock-only")],
                ids=["root", "nobody", "root-landlock", "nobody-landlock"])
def box(request):
    user, mode = request.param
    uid = 0 if user == "root" else NOBODY
    if not landlock_works():
        pytest.skip("the kernel has no Landlock")
    if not mode and not userns_works(uid):
        pytest.skip(f"user namespaces are unavailable to uid {uid}")
    b = Box(uid)
    b.mode = [mode] if mode else []
    if mode:
        # Landlock cannot hide the none entries of the default box.
        text = open(b.config).read()
        head, _, net = text.partition("[permissions.box.network]\n")
        head = head.split("[permissions.box.filesystem]\n")[0]
        with open(b.config, "w") as f:
            f.write(head + LL_FS + "[permissions.box.network]\n" + ASK_NET)
    else:
        b.write_config(network=ASK_NET)
    if uid:
        os.chown(b.config, uid, uid)
    yield b
    b.cleanup()


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()


def curl(port, host="127.0.0.1"):
    return ("curl -s --noproxy '' -o /dev/null -w '%{http_code}\\n' "
            f"http://{host}:{port}/")


class Tty:
    """paddock run with a pseudo-terminal as its controlling terminal."""

    def __init__(self, box, script, env=None):
        self.master, slave = os.openpty()
        argv = box.argv("--ask", *box.mode, cmd=["/bin/sh", "-c", script])

        def ctty():
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        self.p = subprocess.Popen(argv, cwd=box.ws, env=box.env(env),
                                  stdin=slave, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  start_new_session=True, preexec_fn=ctty)
        os.close(slave)
        self.seen = b""

    def wait_for(self, text, timeout=60):
        """Read the terminal until text appears; return what came."""
        end = time.monotonic() + timeout
        want = text.encode()
        while want not in self.seen:
            left = end - time.monotonic()
            assert left > 0, f"no {text!r} on the terminal: {self.seen!r}"
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                assert chunk, f"terminal closed: {self.seen!r}"
                self.seen += chunk
        got, _, self.seen = self.seen.partition(want)
        return (got + want).decode()

    def answer(self, key):
        os.write(self.master, key.encode() + b"\n")

    def finish(self):
        out, err = self.p.communicate(timeout=60)
        os.close(self.master)
        return self.p.returncode, out, err


def test_allow_once_asks_again_and_deny_refuses(box, origin):
    t = Tty(box, curl(origin.port) + "; " + curl(origin.port))
    q = t.wait_for("(denied in 30 s) ")
    assert f"127.0.0.1:{origin.port} is not in the allowlist (http GET)" in q
    assert "allow [o]nce, allow for this [r]un, or [d]eny?" in q
    t.answer("o")
    t.wait_for("allowed once")
    t.wait_for("(denied in 30 s) ")
    t.answer("d")
    t.wait_for("denied")
    rc, out, err = t.finish()
    assert (rc, out) == (0, "200\n403\n"), err


def test_allow_for_this_run_covers_later_requests(box, origin):
    t = Tty(box, "; ".join([curl(origin.port)] * 3))
    t.wait_for("(denied in 30 s) ")
    t.answer("r")
    t.wait_for("allowed for this run")
    rc, out, err = t.finish()
    assert rc == 0, err
    assert out == "200\n200\n200\n"
    # One question only.
    assert b"not in the allowlist" not in t.seen


def test_socks5_requests_are_asked_too(box, origin):
    t = Tty(box, curl(origin.port).replace("--noproxy ''",
                                          "--noproxy '' -x \"$ALL_PROXY\""))
    q = t.wait_for("(denied in 30 s) ")
    assert f"127.0.0.1:{origin.port} is not in the allowlist (socks5-tcp)" \
        in q
    t.answer("o")
    rc, out, err = t.finish()
    assert (rc, out) == (0, "200\n"), err


def test_denied_hosts_are_never_asked(box, origin):
    # 127.0.0.2 is on the deny list: refused without a question; the
    # first question is about the next request.
    t = Tty(box, curl(origin.port, "127.0.0.2") + "; " + curl(origin.port))
    q = t.wait_for("(denied in 30 s) ")
    assert "127.0.0.2" not in q
    assert f"127.0.0.1:{origin.port}" in q
    t.answer("d")
    rc, out, err = t.finish()
    assert out == "403\n403\n", err


def test_no_answer_denies_after_the_timeout(box, origin):
    t = Tty(box, curl(origin.port), env={"PADDOCK_ASK_TIMEOUT": "300ms"})
    t.wait_for("(denied in 1 s) ")
    t.wait_for("no answer: denied")
    rc, out, err = t.finish()
    assert out == "403\n", err


def test_without_a_terminal_it_denies_and_says_why_once(box, origin):
    argv = box.argv("--ask", *box.mode,
                    cmd=["/bin/sh", "-c",
                         curl(origin.port) + "; " + curl(origin.port)])
    r = subprocess.run(argv, cwd=box.ws, env=box.env(), capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL,
                       start_new_session=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "403\n403\n"
    lines = [x for x in r.stderr.splitlines() if "--ask" in x]
    assert len(lines) == 1, r.stderr
    assert "no terminal to ask on (/dev/tty:" in lines[0]
    assert f"127.0.0.1:{origin.port}" in lines[0]


def test_bad_ask_timeout_is_a_usage_error(box):
    r = box.run("true", args=("--ask",),
                env={"PADDOCK_ASK_TIMEOUT": "soon"})
    assert r.returncode == 2
    assert "PADDOCK_ASK_TIMEOUT takes a duration" in r.stderr
