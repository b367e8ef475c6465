"""paddock env: the child environment of spec §8.6 with our markers,
quoted for sh and fish, or as JSON."""
import json
import shutil
import subprocess

import pytest

from conftest import binary, network_config

HTTP_NAMES = ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
              "WS_PROXY", "WSS_PROXY", "ws_proxy", "wss_proxy",
              "YARN_HTTP_PROXY", "YARN_HTTPS_PROXY", "npm_config_http_proxy",
              "npm_config_https_proxy", "npm_config_proxy",
              "NPM_CONFIG_HTTP_PROXY", "NPM_CONFIG_HTTPS_PROXY",
              "NPM_CONFIG_PROXY", "BUNDLE_HTTP_PROXY", "BUNDLE_HTTPS_PROXY",
              "PIP_PROXY", "DOCKER_HTTP_PROXY", "DOCKER_HTTPS_PROXY",
              "CARGO_HTTP_PROXY"]
NO_PROXY_NAMES = ["NO_PROXY", "no_proxy", "npm_config_noproxy",
                  "NPM_CONFIG_NOPROXY", "BUNDLE_NO_PROXY"]
NO_PROXY = "localhost,127.0.0.1,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"


def env_cmd(paddock, workdir, config, *args):
    path = f"{workdir}/config.toml"
    with open(path, "w") as f:
        f.write(config)
    return paddock("env", "--config", path, "--system-config", "",
                   "--home", workdir, "--cwd", workdir, *args)


def test_json_has_every_variable(paddock, workdir):
    r = env_cmd(paddock, workdir, network_config(
        {}, proxy_url="http://127.0.0.1:3128", local_binding=False),
        "--format", "json")
    assert r.rc == 0, r.err
    env = json.loads(r.out)
    for name in HTTP_NAMES:
        assert env[name] == "http://127.0.0.1:3128", name
    for name in NO_PROXY_NAMES:
        assert env[name] == NO_PROXY
    for name in ("ALL_PROXY", "all_proxy", "FTP_PROXY", "ftp_proxy"):
        assert env[name] == "http://127.0.0.1:3128"
    assert env["PADDOCK_NETWORK_PROXY_ACTIVE"] == "1"
    assert env["PADDOCK_NETWORK_ALLOW_LOCAL_BINDING"] == "0"
    assert env["NODE_USE_ENV_PROXY"] == "1"
    assert env["ELECTRON_GET_USE_PROXY"] == "true"
    assert "YARN_NO_PROXY" not in env


def test_sh_output_evaluates_to_the_same(paddock, workdir):
    cfg = network_config({}, proxy_url="http://[::1]:8888",
                         local_binding=True)
    r = env_cmd(paddock, workdir, cfg)
    assert r.rc == 0, r.err
    out = subprocess.run(["sh", "-c", r.out + 'printf "%s|%s|%s" '
                          '"$HTTPS_PROXY" "$no_proxy" '
                          '"$PADDOCK_NETWORK_ALLOW_LOCAL_BINDING"'],
                         capture_output=True, text=True, env={})
    assert out.stdout == f"http://[::1]:8888|{NO_PROXY}|1"
    assert all(line.startswith("export ") for line in r.out.splitlines())


def test_fish_output(paddock, workdir):
    cfg = network_config({}, proxy_url="http://127.0.0.1:3128")
    r = env_cmd(paddock, workdir, cfg, "--format", "fish")
    assert r.rc == 0
    assert "set -gx HTTP_PROXY 'http://127.0.0.1:3128';" in r.out


@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed")
def test_fish_output_runs_in_fish(paddock, workdir):
    cfg = network_config({}, proxy_url="http://127.0.0.1:3128")
    r = env_cmd(paddock, workdir, cfg, "--format", "fish")
    out = subprocess.run(["fish", "-c", r.out + "echo $NO_PROXY"],
                         capture_output=True, text=True)
    assert out.stdout.strip() == NO_PROXY


def test_port_zero_cannot_be_exported(paddock, workdir):
    r = env_cmd(paddock, workdir, network_config({}))
    assert r.rc == 1
    assert "port 0" in r.err


def test_disabled_proxy_exports_nothing(paddock, workdir):
    r = env_cmd(paddock, workdir, network_config(
        {}, enabled=False, proxy_url="http://127.0.0.1:3128"))
    assert r.rc == 0
    assert r.out == ""
    assert "disabled" in r.err


@pytest.mark.parametrize("args", [["--format", "csh"], ["--bogus"]])
def test_usage_errors(paddock, workdir, args):
    r = env_cmd(paddock, workdir, network_config({}), *args)
    assert r.rc == 2
