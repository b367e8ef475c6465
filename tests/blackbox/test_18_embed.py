"""examples/embed.c: the public API with a decider answering from its own
thread, an observer and an audit sink; a late answer after the proxy is
gone still frees its handle (the example runs under the sanitizers)."""
import json
import os
import subprocess

from conftest import BUILD, network_config, pattern_bytes


def run_embed(workdir, config, *args, command):
    path = os.path.join(workdir, "config.toml")
    with open(path, "w") as f:
        f.write(config)
    exe = os.path.join(BUILD, "examples", "embed")
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["HOME"] = workdir
    return subprocess.run([exe, "--config", path, *args, "--", "sh", "-c",
                           command], capture_output=True, text=True,
                          env=env, cwd=workdir, timeout=60)


def test_decider_approves_and_denies_from_another_thread(origin, workdir):
    cfg = network_config({"denied.test": "deny"},
                         proxy_url="http://127.0.0.1:0")
    # curl --noproxy '' ignores NO_PROXY, so loopback goes through us too.
    cmd = (f"curl -s --noproxy '' http://127.0.0.1:{origin.port}/bytes/5;"
           " echo; curl -s --noproxy '' http://unlisted.test/;"
           " curl -s --noproxy '' http://denied.test/;"
           " env | grep -c '^PADDOCK_NETWORK_PROXY_ACTIVE=1$'")
    r = run_embed(workdir, cfg, "--approve", "127.0.0.1", command=cmd)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].encode("latin-1") == pattern_bytes(5)
    asked = json.loads(lines[1])
    assert asked["reason"] == "not approved"
    assert asked["source"] == "decider"
    assert asked["decision"] == "deny"
    denied = json.loads(lines[2])
    assert denied["source"] == "baseline_policy"
    assert lines[3] == "1"
    assert "embed: paddock 0.1.0 listening on 127.0.0.1:" in r.stderr
    assert "embed: blocked http unlisted.test:80 (not approved, deny)" in \
        r.stderr
    audits = [json.loads(line.split(" ", 2)[2]) for line in
              r.stderr.splitlines() if line.startswith("embed: audit ")]
    override = [a for a in audits if a["server.address"] == "127.0.0.1"]
    assert override[0]["network.policy.override"] is True
    assert override[0]["network.policy.source"] == "decider"


def test_a_late_answer_times_out_and_still_frees_its_handle(workdir):
    cfg = network_config({}, proxy_url="http://127.0.0.1:0")
    r = run_embed(workdir, cfg, "--late", "slow.test", "--limit",
                  "decider-timeout=200ms",
                  command="curl -s --noproxy '' http://slow.test/")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["reason"] == "decider_timeout"
    assert "LeakSanitizer" not in r.stderr
