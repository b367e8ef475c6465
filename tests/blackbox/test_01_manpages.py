"""The manual pages (man/) say what --help says: the same options for
every command, the same commands, the same proxy limits, and every key
paddock interprets in paddock-config(5)."""
import json
import os
import re

import pytest

from conftest import ROOT

MAN = os.path.join(ROOT, "man")

# Each page and the --help outputs it documents.
PAGES = {
    "paddock.1": [[]],
    "paddock-config.1": [["config", "check"], ["config", "show"],
                         ["config", "schema"], ["config", "profiles"]],
    "paddock-proxy.1": [["proxy"]],
    "paddock-env.1": [["env"]],
    "paddock-policy.1": [["policy", "check"]],
    "paddock-connect.1": [["connect"]],
    "paddock-run.1": [["run"]],
    "paddock-ca.1": [["ca", "path"], ["ca", "show"], ["ca", "rotate"]],
    "paddock-status.1": [["status"]],
}


def page(name):
    with open(os.path.join(MAN, name)) as f:
        return f.read()


def man_options(text):
    """Every option an .It entry of the page describes."""
    opts = set()
    for line in text.splitlines():
        if line.startswith(".It "):
            for tok in re.findall(r"\bFl (\S+)", line):
                opts.add("-" + tok.replace("\\", ""))
    return opts


def man_items(text, section, macro="Cm"):
    """The words of the top-level .It entries of a section."""
    body = text.split(f"\n.Sh {section}\n", 1)[1].split("\n.Sh ", 1)[0]
    items, depth = [], 0
    for line in body.splitlines():
        if line.startswith(".Bl"):
            depth += 1
        elif line.startswith(".El"):
            depth -= 1
        elif depth == 1 and line.startswith(f".It {macro} "):
            items.append(line.split()[2])
    return items


def help_options(text):
    opts = set()
    for m in re.finditer(r"^  (-{1,2}\w[\w-]*)(?:, (-{1,2}\w[\w-]*))?",
                         text, re.M):
        opts.update(o for o in m.groups() if o)
    return opts


def help_list(text, heading):
    """The first words of the indented lines under a heading."""
    body = text.split(f"\n{heading}\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0].split("=")[0] for line in body.splitlines()]


def test_every_command_has_a_page(paddock):
    commands = help_list(paddock("--help").out, "Commands:")
    assert commands
    for c in commands:
        assert os.path.exists(os.path.join(MAN, f"paddock-{c}.1")), c
    assert man_items(page("paddock.1"), "COMMANDS") == commands


@pytest.mark.parametrize("name", sorted(PAGES))
def test_a_page_lists_the_options_of_its_help(paddock, name):
    helped = set()
    for args in PAGES[name]:
        r = paddock(*args, "--help")
        assert r.rc == 0, r.err
        helped |= help_options(r.out)
    assert helped
    assert man_options(page(name)) == helped


def test_config_page_lists_the_config_commands(paddock):
    subs = help_list(paddock("config", "--help").out, "Commands:")
    assert man_items(page("paddock-config.1"), "DESCRIPTION") == subs


def test_proxy_page_lists_the_limits(paddock):
    limits = help_list(paddock("proxy", "--help").out,
                       "Limits and their defaults:")
    assert len(limits) >= 7
    assert man_items(page("paddock-proxy.1"), "LIMITS") == limits


def test_config_page_names_every_key_paddock_interprets(paddock):
    schema = json.loads(paddock("config", "schema").out)
    defs = schema["$defs"]
    keys = [k for k, v in schema["properties"].items()
            if "ignores it" not in v.get("description", "")]
    keys += list(defs["Network"]["properties"])
    keys += list(defs["SandboxWorkspaceWrite"]["properties"])
    keys += [k for k, v in defs["ShellEnvironmentPolicy"]["properties"].items()
             if "ignores it" not in v.get("description", "")]
    text = page("paddock-config.5")
    documented = set()
    for line in text.splitlines():
        if line.startswith(".It Ic "):
            documented.update(w.strip(",") for w in
                              line.split(" Pq ")[0].split()[2:])
    assert "sandbox_mode" in keys and "allowed_domains" in keys
    assert set(keys) - documented == set()
