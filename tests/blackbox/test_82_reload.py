"""Live reload: `paddock proxy` notices when a config layer file is
written, replaced, created or removed, and reloads through the same path
as SIGHUP (docs/config.md "Live reload").

Every test starts the proxy with its own CODEX_HOME (the user layer), a
project directory (the cwd, trusted, so its .codex/config.toml is a layer)
and a requirements file that may not exist yet. A change must show within
1 s of the write: each test polls with requests until the change took
effect or the second is over, and asserts which one happened.
"""
import os
import signal
import tempfile
import time

import pytest

from conftest import (Daemon, Proxy, Raw, binary, http_get, network_config,
                      pattern_bytes)

DEADLINE = 1.0  # the bound: new requests see a change within 1 s
RELOADED = r"configuration reloaded|reload failed"


class Watched(Proxy):
    """paddock proxy over a CODEX_HOME, a project and a requirements
    path, all under root; the file watcher on unless args say not."""

    def __init__(self, root, user, project=None, requirements=None,
                 trust=False, args=()):
        self.root = root
        self.home = os.path.join(root, "home")
        self.proj = os.path.join(root, "proj")
        os.makedirs(self.home)
        os.makedirs(self.proj)
        self.user_file = os.path.join(self.home, "config.toml")
        self.project_file = os.path.join(self.proj, ".codex", "config.toml")
        # Under a directory that does not exist unless the test makes it.
        self.req_file = os.path.join(root, "etc", "codex", "requirements.toml")
        self.config_path = self.user_file
        write(self.user_file, self.trusted(user) if trust else user)
        if project is not None:
            write(self.project_file, project)
        if requirements is not None:
            write(self.req_file, requirements)
        argv = [binary("paddock"), "--log-level", "info", "proxy",
                "--home", self.home, "--cwd", self.proj,
                "--system-config", "", "--requirements", self.req_file,
                "--managed-config", "", "--workers", "2", *args]
        Daemon.__init__(self, argv, r"paddock: listening http=(\S+):(\d+) "
                        r"socks5=(\S+)", stream="stderr", cwd=root)
        self.host = self.ready.group(1).strip("[]")
        self.port = int(self.ready.group(2))
        self.pid = self.proc.pid

    def trusted(self, text):
        """A user config that trusts the project directory."""
        return text + f'[projects."{self.proj}"]\ntrust_level = "trusted"\n'


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def user_config(domains=None, **kw):
    """The test profile with loopback allowed, and the project trusted
    (the caller appends that part: it needs the project's path)."""
    d = {"127.0.0.1": "allow", "denied.test": "deny"}
    d.update(domains or {})
    return network_config(d, **kw)


@pytest.fixture
def watched(workdir):
    started = []

    def start(user, **kw):
        root = tempfile.mkdtemp(dir=workdir)
        p = Watched(root, user, **kw)
        started.append(p)
        return p
    yield start
    for p in started:
        p.finish()


def refused(p, origin):
    return http_get(p, f"http://127.0.0.1:{origin.port}/bytes/1").status \
        == 403


def within_deadline(pred, since, what):
    """Poll pred() until it holds; fail if DEADLINE passed after since.
    Returns the seconds it took."""
    while True:
        if pred():
            return time.monotonic() - since
        if time.monotonic() - since > DEADLINE:
            pytest.fail(f"{what}: not within {DEADLINE} s")


def holds_for_deadline(pred, since, what):
    """pred() holds at every poll until DEADLINE after since."""
    while time.monotonic() - since <= DEADLINE:
        assert pred(), what


def reload_lines(p):
    return p.count(r"reloading the configuration")



def get(origin, path, close=False):
    return (f"GET http://127.0.0.1:{origin.port}{path} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{origin.port}\r\n"
            + ("Connection: close\r\n" if close else "") + "\r\n").encode()


def test_an_edit_of_the_user_config_applies_within_a_second(watched,
                                                            origin):
    p = watched(user_config())
    assert not refused(p, origin)
    # Another file in the same directory is no config layer.
    write(os.path.join(p.home, "notes.txt"), "not a layer\n")
    write(p.user_file, user_config({"127.0.0.1": "deny"}))
    within_deadline(lambda: refused(p, origin), time.monotonic(),
                    "the deny written into the user config")
    p.wait_for(r"configuration reloaded")
    # The line names the layer, not the other file written first.
    [line] = p.wait_for(r"(\S+) changed: reloading the configuration")
    assert line.group(1) == p.user_file


def test_a_file_replaced_by_rename_applies(watched, origin):
    """Editors write a new file and rename it over the old one."""
    p = watched(user_config())
    assert not refused(p, origin)
    tmp = p.user_file + ".tmp"
    write(tmp, user_config({"127.0.0.1": "deny"}))
    os.replace(tmp, p.user_file)
    within_deadline(lambda: refused(p, origin), time.monotonic(),
                    "the deny renamed into place")
    # Again: the watch is on the directory, so the new file is seen too.
    write(tmp, user_config())
    os.replace(tmp, p.user_file)
    within_deadline(lambda: not refused(p, origin), time.monotonic(),
                    "the allow renamed into place")


def test_deleting_a_layer_file_applies(watched, origin):
    p = watched(user_config(), trust=True,
                project=network_config({"127.0.0.1": "deny"}))
    assert refused(p, origin)  # the project layer's deny
    os.unlink(p.project_file)
    within_deadline(lambda: not refused(p, origin), time.monotonic(),
                    "the project layer removed")
    [line] = p.wait_for(r"(\S+) changed: reloading the configuration")
    assert line.group(1) == p.project_file


def test_creating_a_project_layer_applies(watched, origin):
    """proj/.codex does not exist at start: the watch sits on proj for
    that name and moves down once the directory appears."""
    p = watched(user_config(), trust=True)
    assert not os.path.exists(os.path.dirname(p.project_file))
    assert not refused(p, origin)
    os.mkdir(os.path.dirname(p.project_file))
    write(p.project_file, network_config({"127.0.0.1": "deny"}))
    within_deadline(lambda: refused(p, origin), time.monotonic(),
                    "the new project layer's deny")
    # The file is watched now: an edit of it applies too.
    write(p.project_file, network_config({"127.0.0.1": "allow"}))
    within_deadline(lambda: not refused(p, origin), time.monotonic(),
                    "the project layer edited")


def test_a_broken_edit_keeps_the_old_policy_and_says_where(watched,
                                                           origin):
    p = watched(user_config())
    write(p.user_file, user_config({"127.0.0.1": "deny"}) +
          "[broken\n")
    since = time.monotonic()
    [m] = p.wait_for(r"paddock: error: reload failed: (.*)")
    assert time.monotonic() - since <= DEADLINE
    # One line: file:line:col of the error, and that nothing changed.
    lines = user_config({"127.0.0.1": "deny"}).count("\n")
    assert m.group(1).startswith(f"{p.user_file}:{lines + 1}:8: ")
    assert m.group(1).endswith(
        "; the previous configuration stays in force")
    assert p.count(r"reload failed") == 1
    # The deny written with the error did not apply.
    assert not refused(p, origin)
    # Fixed, it applies.
    write(p.user_file, user_config({"127.0.0.1": "deny"}))
    within_deadline(lambda: refused(p, origin), time.monotonic(),
                    "the fixed config")


def test_an_edit_a_requirement_forbids_is_refused(watched, origin):
    p = watched(user_config(), requirements="[experimental_network]\n"
                "allow_upstream_proxy = false\n")
    write(p.user_file, user_config({"127.0.0.1": "deny"}, upstream=True))
    [m] = p.wait_for(r"paddock: error: reload failed: (.*)")
    # The user's entry, the requirement and its file, in one line.
    assert m.group(1).startswith(f"{p.user_file}:")
    assert "allow_upstream_proxy" in m.group(1)
    assert p.req_file in m.group(1)
    assert not refused(p, origin)


def test_the_requirements_file_is_watched_too(watched, origin):
    """The administrator's file does not exist, nor does its directory:
    the watch sits on the nearest ancestor there is."""
    p = watched(user_config())
    assert not os.path.exists(os.path.dirname(p.req_file))
    write(p.req_file, '[experimental_network]\n'
          'denied_domains = ["127.0.0.1"]\n')
    within_deadline(lambda: refused(p, origin), time.monotonic(),
                    "the managed deny")
    # Now the administrator forbids what the user has: refused, and the
    # managed deny stays in force.
    write(p.req_file, '[experimental_network]\n'
          'denied_domains = ["127.0.0.1"]\n'
          'allow_local_binding = false\n')
    [m] = p.wait_for(r"paddock: error: reload failed: (.*)")
    assert "allow_local_binding" in m.group(1) and p.req_file in m.group(1)
    assert refused(p, origin)


@pytest.mark.parametrize("key,change", [
    ("proxy_url", {"proxy_url": "http://127.0.0.1:1"}),
    ("enabled", {"enabled": False}),
    ("enable_socks5", {"socks": True}),
    ("dangerously_allow_non_loopback_proxy",
     {"extra": "dangerously_allow_non_loopback_proxy = true"}),
])
def test_a_listener_change_is_refused(watched, origin, key, change):
    p = watched(user_config())
    # With the listener change comes a deny: nothing of it applies.
    write(p.user_file, user_config({"127.0.0.1": "deny"}, **change))
    [m] = p.wait_for(r"paddock: error: reload failed: (.*)")
    assert m.group(1) == (f"cannot update network.{key} on a running "
                          "proxy; the previous configuration stays in force")
    assert not refused(p, origin)


def test_socks_udp_change_is_refused(watched, origin):
    p = watched(user_config(socks=True))
    write(p.user_file, user_config(
        {"127.0.0.1": "deny"}, socks=True,
        extra="enable_socks5_udp = false"))
    [m] = p.wait_for(r"paddock: error: reload failed: (.*)")
    assert m.group(1).startswith(
        "cannot update network.enable_socks5_udp on a running proxy")
    assert not refused(p, origin)


def test_open_tunnels_and_kept_alive_connections_survive(watched, origin):
    p = watched(user_config())
    tunnel = Raw(p.port)
    tunnel.send(f"CONNECT 127.0.0.1:{origin.port} HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{origin.port}\r\n\r\n".encode())
    assert tunnel.read_response(head_only=True).status == 200
    kept = Raw(p.port)
    kept.send(get(origin, "/bytes/3"))
    assert kept.read_response().body == pattern_bytes(3)
    # An exchange in flight: its head judged, half its body sent.
    flight = Raw(p.port)
    flight.send(f"POST http://127.0.0.1:{origin.port}/echo HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{origin.port}\r\n"
                "Content-Length: 10\r\nConnection: close\r\n\r\n"
                "01234".encode())

    write(p.user_file, user_config({"127.0.0.1": "deny"}))
    within_deadline(lambda: refused(p, origin), time.monotonic(),
                    "the deny")
    p.wait_for(r"configuration reloaded")

    # The tunnel was judged when it opened and keeps relaying.
    tunnel.send(b"GET /bytes/7 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert tunnel.read_response().body == pattern_bytes(7)
    # The exchange in flight completes.
    flight.send(b"56789")
    r = flight.read_response()
    assert r.status == 200 and r.json()["body"] == "0123456789"
    # The kept-alive connection stays open; its next request is a new
    # one and sees the new policy, on the same connection.
    kept.send(get(origin, "/bytes/3"))
    assert kept.read_response().status == 403
    kept.send(get(origin, "/bytes/3"))
    assert kept.read_response().status == 403
    for c in (tunnel, kept, flight):
        c.close()


def test_no_watch_reloads_on_sighup_only(watched, origin):
    p = watched(user_config(), args=("--no-watch",))
    fds = [os.readlink(f"/proc/{p.pid}/fd/{fd}")
           for fd in os.listdir(f"/proc/{p.pid}/fd")]
    assert "anon_inode:inotify" not in fds
    write(p.user_file, user_config({"127.0.0.1": "deny"}))
    holds_for_deadline(lambda: not refused(p, origin), time.monotonic(),
                       "a change applied with --no-watch")
    assert reload_lines(p) == 0
    p.proc.send_signal(signal.SIGHUP)
    p.wait_for(r"configuration reloaded")
    assert refused(p, origin)


def test_the_watcher_is_on_by_default(watched):
    p = watched(user_config())
    fds = [os.readlink(f"/proc/{p.pid}/fd/{fd}")
           for fd in os.listdir(f"/proc/{p.pid}/fd")]
    assert "anon_inode:inotify" in fds
