"""paddock run at exit and as a library call: the summary of blocked
requests (each with the TOML line that would allow it), the execution.id
that every audit event of a run carries, and the spawn call of libpaddock
(examples/spawn.c).

Every test runs as root and as nobody (the box fixture of test_70). Traffic
stays on loopback: blocked names are refused before any lookup, and the
only connections go to the host's 127.0.0.0/8 through the proxy.
"""
import json
import os
import re
import subprocess

from conftest import BUILD
from test_70_runner import PROXY_ON, box, origin  # noqa: F401 (fixtures)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                  r"[0-9a-f]{12}$")

# The allowlist names 127.0.0.1 exactly; local addresses are protected.
STRICT = ('enabled = true\n'
          'allowed_domains = ["127.0.0.1"]\n'
          'denied_domains = ["evil.test"]\n'
          'proxy_url = "http://127.0.0.1:0"\n'
          'socks_url = "http://127.0.0.1:0"\n')


def curl(url):
    # Into the workspace: inside the sandbox, nobody's open of /dev/null
    # with O_TRUNC fails today (EACCES), which is the sandbox's business.
    return f"curl -s -o curl.out --noproxy '' {url}; "


def test_summary_lists_each_blocked_destination_with_what_allows_it(box):
    box.write_config(network=STRICT)
    r = box.sh(curl("http://unlisted.test/") * 2 +
               curl("http://evil.test/") + curl("http://127.0.0.2/") +
               "exit 3")
    assert r.returncode == 3, r.stderr
    err = r.stderr
    assert "paddock: the proxy blocked 4 requests during the run:\n" in err
    assert "  unlisted.test:80  not_allowed  2x\n" in err
    assert ('    allow: add "unlisted.test" = "allow" under '
            f'[permissions.box.network.domains] in {box.config}\n') in err
    assert "  evil.test:80  denied  1x\n" in err
    with open(box.config) as f:
        line = next(n for n, text in enumerate(f, 1)
                    if text.startswith("denied_domains"))
    assert (f'    denied by the entry "evil.test" at {box.config}:{line}:19; '
            "a deny entry wins over any allow") in err
    assert "  127.0.0.2:80  not_allowed_local  1x\n" in err
    assert ('    allow: add "127.0.0.2" = "allow" under '
            "[permissions.box.network.domains], or set "
            "allow_local_binding = true under [permissions.box.network] "
            f"in {box.config}\n") in err
    # Most frequent first; no allow line is offered for the denied host.
    assert err.index("unlisted.test:80") < err.index("evil.test:80")
    assert '"evil.test" = "allow"' not in err


def test_the_suggested_line_allows_the_host(box, origin):
    box.write_config(network=PROXY_ON)
    url = f"http://127.0.0.5:{origin.port}/"
    r = box.sh(curl(url))
    m = re.search(r'allow: add ("127\.0\.0\.5") = "allow" under \[(.+)\] '
                  r'in (.+)\n', r.stderr)
    assert m, r.stderr
    assert m.group(3) == box.config
    with open(box.config, "a") as f:
        f.write(f'[{m.group(2)}]\n{m.group(1)} = "allow"\n')
    # Allowed now: the proxy dials 127.0.0.5 (nothing listens there, so a
    # 502), and nothing is blocked any more.
    r = box.sh("curl -s -o curl.out -w '%{http_code}' --noproxy '' " + url)
    assert r.stdout == "502", r.stderr
    assert "blocked" not in r.stderr


def test_quiet_hides_the_summary(box):
    box.write_config(network=STRICT)
    r = box.sh(curl("http://unlisted.test/") + "true", args=("--quiet",))
    assert r.returncode == 0
    assert r.stderr == ""


def test_nothing_is_said_when_nothing_was_blocked(box, origin):
    box.write_config(network=PROXY_ON)
    r = box.sh(curl(f"http://127.0.0.1:{origin.port}/") + "true")
    assert r.returncode == 0
    assert r.stderr == ""


def audit_events(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_audit_events_carry_an_execution_id_unique_per_run(box, origin):
    box.write_config(network=PROXY_ON)
    ids = []
    for n in range(2):
        path = os.path.join(box.root, f"audit{n}.jsonl")
        r = box.sh(curl(f"http://127.0.0.1:{origin.port}/") +
                   curl("http://unlisted.test/"),
                   args=("--audit", path, "--quiet"))
        assert r.returncode == 0, r.stderr
        events = audit_events(path)
        assert [e["server.address"] for e in events] == [
            "127.0.0.1", "unlisted.test"]
        run_ids = {e["execution.id"] for e in events}
        assert len(run_ids) == 1
        ids.append(run_ids.pop())
        assert UUID.match(ids[-1]), ids[-1]
    assert ids[0] != ids[1]


def test_access_log_lines_carry_the_execution_id(box, origin):
    box.write_config(network=PROXY_ON)
    path = os.path.join(box.root, "audit.jsonl")
    argv = box.argv("--audit", path, cmd=[
        "/bin/sh", "-c", curl(f"http://127.0.0.1:{origin.port}/") +
        curl("http://unlisted.test/")])
    i = argv.index("run")
    argv[i:i] = ["--log-level", "info"]
    r = subprocess.run(argv, cwd=box.ws, env=box.env(), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    [run_id] = {e["execution.id"] for e in audit_events(path)}
    access = [json.loads(line.split(" access ", 1)[1])
              for line in r.stderr.splitlines() if " access {" in line]
    assert sorted(a["target"] for a in access) == sorted([
        f"127.0.0.1:{origin.port}", "unlisted.test:80"]), r.stderr
    assert {a["execution_id"] for a in access} == {run_id}


def spawn(box, *cmd):
    prefix = []
    if box.uid:
        prefix = ["setpriv", f"--reuid={box.uid}", f"--regid={box.uid}",
                  "--clear-groups", "--"]
    exe = os.path.join(BUILD, "examples", "spawn")
    return subprocess.run(prefix + [exe, "--config", box.config, "--home",
                                    box.home, "--", *cmd],
                          cwd=box.ws, env=box.env(), capture_output=True,
                          text=True, timeout=60)


def test_spawn_example_runs_confined_and_reports_blocked(box, origin):
    box.write_config(network=PROXY_ON)
    outside = os.path.join(box.outside, "escape")
    r = spawn(box, "/bin/sh", "-c",
              curl("http://unlisted.test/") +
              f"curl -s --noproxy '' http://127.0.0.1:{origin.port}/; "
              f"touch {outside} 2>/dev/null && echo escaped; "
              "touch inside && exit 5")
    assert r.returncode == 5, r.stderr
    assert r.stdout == "origin says hi\n"
    assert not os.path.exists(outside)
    assert os.path.exists(os.path.join(box.ws, "inside"))
    m = re.search(r"^spawn: execution (\S+) pid (\d+)$", r.stderr, re.M)
    assert m and UUID.match(m.group(1)), r.stderr
    audits = [json.loads(line.split(" ", 2)[2]) for line in
              r.stderr.splitlines() if line.startswith("spawn: audit ")]
    assert {a["server.address"] for a in audits} == {"unlisted.test",
                                                     "127.0.0.1"}
    assert {a["execution.id"] for a in audits} == {m.group(1)}
    assert "spawn: blocked now unlisted.test:80 (not_allowed)" in r.stderr
    assert "spawn: blocked unlisted.test:80 not_allowed\n" in r.stderr
    assert "spawn: 1 blocked in all, exit status 5\n" in r.stderr
    assert "LeakSanitizer" not in r.stderr


def test_spawn_of_a_missing_command_fails_to_start(box):
    r = spawn(box, "no-such-command-here")
    assert r.returncode == 127, r.stderr
    assert "spawn: cannot run the command ('no-such-command-here')" in \
        r.stderr
