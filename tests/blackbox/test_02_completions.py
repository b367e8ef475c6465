"""Shell completions (contrib/completion/) for bash, zsh and fish: the
commands and options of --help, the values of options, and the profile
names of the effective config given the config options on the line.

bash runs the completion function with COMP_WORDS set as bash would; zsh
runs it with the completion builtins replaced by functions that print
what would be offered; fish asks `complete -C`. A shell that is not
installed is skipped."""
import os
import re
import shlex
import shutil
import subprocess

import pytest

from conftest import ROOT, binary

COMPLETION = os.path.join(ROOT, "contrib", "completion")

BASH = """
source {script}
COMP_WORDS=({words})
COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))
_paddock
printf '%s\\n' "${{COMPREPLY[@]}}"
"""

# compadd and friends exist only inside a completion widget; as functions
# they take precedence over the builtins and print the candidates that
# match what was typed, as zsh would offer them.
ZSH = """
offer() {{
	local c
	for c in "$@"; do [[ $c == "$PREFIX"* ]] && print -r -- $c; done
	return 0
}}
compadd() {{
	while [[ $1 == -* && $1 != -- ]]; do [[ $1 == -S ]] && shift; shift; done
	[[ $1 == -- ]] && shift
	offer "$@"
}}
_describe() {{ offer ${{${{(P)2}}%%:*}}; }}
_files() {{ print -r -- '<files>'; }}
_directories() {{ print -r -- '<directories>'; }}
_message() {{ }}
_default() {{ print -r -- '<files>'; }}
_command_names() {{ offer ${{(k)commands}}; }}
compset() {{ PREFIX=${{PREFIX#*=}}; }}
source {script} >/dev/null 2>&1
words=({words})
CURRENT=$#words
PREFIX=$words[-1]
_paddock
"""

FISH = """
source {script}
complete -C{line}
"""


def run_bash(words):
    script = BASH.format(script=shlex.quote(
        os.path.join(COMPLETION, "paddock.bash")),
        words=" ".join(shlex.quote(w) for w in words))
    out = shell(["bash", "--norc", "--noprofile", "-c", script])
    # bash quotes a candidate the way it is to be inserted.
    return {shlex.split(c)[0] if c.strip() else c for c in out}


def run_zsh(words):
    script = ZSH.format(script=shlex.quote(
        os.path.join(COMPLETION, "_paddock")),
        words=" ".join(shlex.quote(w) for w in words))
    return set(shell(["zsh", "-f", "-c", script]))


def run_fish(words):
    script = FISH.format(script=shlex.quote(
        os.path.join(COMPLETION, "paddock.fish")),
        line=shlex.quote(" ".join(words)))
    return {c.split("\t")[0] for c in shell(["fish", "--no-config", "-c",
                                             script])}


def shell(argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                       env=ENV)
    assert r.returncode == 0, r.stderr
    return [line for line in r.stdout.splitlines() if line]


ENV = {k: v for k, v in os.environ.items() if k != "CODEX_HOME"}

SHELLS = {"bash": run_bash, "zsh": run_zsh, "fish": run_fish}


@pytest.fixture(params=sorted(SHELLS))
def complete(request, tmp_path):
    name = request.param
    if not shutil.which(name):
        pytest.skip(f"{name} is not installed")
    ENV["HOME"] = str(tmp_path)
    exe = binary("paddock")

    def run(*words):
        return SHELLS[name]([exe, *words])
    return run


def help_of(paddock, *args):
    return paddock(*args, "--help").out


def listed(text, heading):
    body = text.split(f"\n{heading}\n", 1)[1].split("\n\n", 1)[0]
    return {line.split()[0].split("=")[0] for line in body.splitlines()}


def options(text):
    found = set()
    for m in re.finditer(r"^  (-{1,2}\w[\w-]*)(?:, (-{1,2}\w[\w-]*))?",
                         text, re.M):
        found.update(o for o in m.groups() if o)
    return found


def test_commands(complete, paddock):
    assert complete("") == listed(help_of(paddock), "Commands:")
    assert complete("c") == {"ca", "config", "connect"}


def test_subcommands(complete, paddock):
    assert complete("config", "") == listed(help_of(paddock, "config"),
                                            "Commands:")
    assert "profiles" in complete("config", "")
    assert complete("policy", "") == {"check"}


@pytest.mark.parametrize("command", [["proxy"], ["env"], ["connect"],
                                     ["policy", "check"], ["config", "show"],
                                     ["run"], ["status"]])
def test_options_are_those_of_help(complete, paddock, command):
    want = {o for o in options(help_of(paddock, *command))
            if o.startswith("--")}
    assert "--home" in want
    assert complete(*command, "--") == want


def test_global_options(complete):
    assert complete("--") == {"--log-level", "--help", "--version"}
    assert complete("--log-level", "") == {"error", "warn", "info", "debug"}


def test_option_values(complete, paddock):
    assert complete("env", "--sandbox", "") == {
        "read-only", "workspace-write", "danger-full-access"}
    assert complete("env", "--format", "j") == {"json"}
    assert complete("status", "--format", "") == {"text", "json"}
    assert complete("run", "--format", "") == {"text", "json"}
    assert complete("policy", "check", "--protocol", "socks5") == {
        "socks5_tcp", "socks5_udp"}
    limits = listed(help_of(paddock, "proxy"), "Limits and their defaults:")
    assert {c.rstrip("=") for c in complete("proxy", "--limit", "")} == \
        limits


def test_run_completes_the_command_to_confine(complete):
    assert "sh" in complete("run", "--quiet", "--", "sh")
    assert "sh" in complete("run", "sh")


def test_profile_names_come_from_the_config_on_the_line(complete, tmp_path):
    cfg = tmp_path / "cfg.toml"
    cfg.write_text('default_permissions = "dev"\n'
                   '[permissions.dev.network]\nenabled = true\n'
                   '[permissions."two words"]\n'
                   '[permissions.other]\n'
                   '[profiles.work]\nsandbox_mode = "read-only"\n')
    where = ["--config", str(cfg), "--system-config", "''"]
    assert complete("proxy", *where, "--permissions", "") == {
        "dev", "two words", "other"}
    assert complete("proxy", *where, "--permissions", "o") == {"other"}
    assert complete("env", *where, "--profile", "") == {"work"}
    # Without the config on the line there is none (HOME is empty).
    assert complete("env", "--system-config", "''", "--profile", "") == \
        set()
