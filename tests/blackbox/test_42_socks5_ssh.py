"""ssh and git over ssh through `paddock connect`, against a local sshd the
test starts on loopback with a throwaway host key and authorized key. An
allowed target logs in; a blocked one fails with the policy's reason on
ssh's stderr."""
import json
import os
import shutil
import socket
import subprocess

import pytest

from conftest import Daemon, binary
from socks5util import socks_config, socks_port

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    if not os.path.exists(SSHD) or os.geteuid() != 0:
        pytest.skip("sshd (openssh-server) and root are needed")
    d = str(tmp_path_factory.mktemp("sshd"))
    host_key, user_key = f"{d}/host_key", f"{d}/id_ed25519"
    for key in (host_key, user_key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                        "-f", key], check=True)
    shutil.copy(f"{user_key}.pub", f"{d}/authorized_keys")
    # sshd insists on its privilege separation directory.
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    port = free_port()
    with open(f"{d}/sshd_config", "w") as f:
        f.write(f"ListenAddress 127.0.0.1:{port}\nHostKey {host_key}\n"
                f"AuthorizedKeysFile {d}/authorized_keys\n"
                "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                "UsePAM no\nStrictModes no\nPermitRootLogin prohibit-password"
                "\nPidFile none\nLogLevel INFO\n")
    daemon = Daemon([SSHD, "-D", "-e", "-f", f"{d}/sshd_config"],
                    r"Server listening on 127\.0\.0\.1 port", stream="stderr")
    daemon.port, daemon.key, daemon.dir = port, user_key, d
    yield daemon
    daemon.stop()


def ssh(sshd, proxy_command, host, *command, env=None):
    return subprocess.run(
        ["ssh", "-F", "/dev/null", "-i", sshd.key, "-p", str(sshd.port),
         "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
         "-o", f"ProxyCommand={proxy_command}", f"root@{host}", *command],
        capture_output=True, text=True, timeout=60, env=env)


def test_ssh_logs_in_through_paddock_connect(start_proxy, sshd):
    p = start_proxy(socks_config())
    cmd = f"{binary('paddock')} connect --socks 127.0.0.1:{socks_port(p)} " \
          "%h %p"
    r = ssh(sshd, cmd, "127.0.0.1", "echo", "through-the-proxy")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "through-the-proxy\n"
    p.wait_for(r'"frontend":"socks5","target":"127\.0\.0\.1:\d+",'
               r'"verdict":"allow"')


def test_ssh_to_a_blocked_host_says_why(start_proxy, sshd):
    p = start_proxy(socks_config())
    cmd = f"{binary('paddock')} connect --socks 127.0.0.1:{socks_port(p)} " \
          "%h %p"
    r = ssh(sshd, cmd, "github.com", "true")
    assert r.returncode == 255
    assert ("paddock: github.com:%d blocked by policy: not in allowlist "
            "(blocked-by-allowlist)" % sshd.port) in r.stderr, r.stderr


def test_git_over_ssh_with_paddock_env(start_proxy, sshd, workdir):
    """paddock env's GIT_SSH_COMMAND carries git through the proxy."""
    repo = f"{sshd.dir}/repo.git"
    if not os.path.exists(repo):
        subprocess.run(["git", "init", "-q", "--bare", repo], check=True)
    port = free_port()
    # paddock env needs fixed ports.
    cfg = socks_config().replace("socks5://127.0.0.1:0",
                                 f"socks5://127.0.0.1:{port}").replace(
        "http://127.0.0.1:0", f"http://127.0.0.1:{free_port()}")
    p = start_proxy(cfg)
    assert socks_port(p) == port
    env_out = subprocess.run(
        [binary("paddock"), "env", "--format", "json", "--config",
         p.config_path, "--system-config", "", "--home", p.workdir,
         "--cwd", p.workdir], capture_output=True, text=True,
        env={k: v for k, v in os.environ.items() if k != "GIT_SSH_COMMAND"})
    assert env_out.returncode == 0, env_out.stderr
    command = json.loads(env_out.stdout)["GIT_SSH_COMMAND"] + \
        f" -F /dev/null -i {sshd.key} -o BatchMode=yes " \
        "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
    env = dict(os.environ, GIT_SSH_COMMAND=command)
    r = subprocess.run(["git", "ls-remote",
                        f"ssh://root@127.0.0.1:{sshd.port}{repo}"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    p.wait_for(r'"frontend":"socks5","target":"127\.0\.0\.1:%d"' % sshd.port)


def test_paddock_env_keeps_an_existing_git_ssh_command(paddock, workdir):
    cfg = socks_config().replace("socks5://127.0.0.1:0",
                                 "socks5://127.0.0.1:1080").replace(
        "http://127.0.0.1:0", "http://127.0.0.1:3128")
    with open(f"{workdir}/config.toml", "w") as f:
        f.write(cfg)
    args = ["env", "--config", f"{workdir}/config.toml", "--system-config",
            "", "--home", workdir, "--cwd", workdir]
    env = {k: v for k, v in os.environ.items() if k != "GIT_SSH_COMMAND"}
    r = paddock(*args, env=env)
    assert "GIT_SSH_COMMAND='ssh -o ProxyCommand='\\''" in r.out
    assert "connect --socks 127.0.0.1:1080 %h %p'\\'''" in r.out
    r = paddock(*args, env=dict(env, GIT_SSH_COMMAND="ssh -v"))
    assert "GIT_SSH_COMMAND" not in r.out
