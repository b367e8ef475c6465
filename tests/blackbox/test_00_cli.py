"""The paddock front door: help, version and usage errors."""
import os
import re
import subprocess

import pytest

from conftest import ROOT

VERSION_LINE = r"paddock 0\.1\.0(?: \(git ([0-9a-f]{7,}(?:-dirty)?)\))?"


def test_help_lists_usage_and_exits_zero(paddock):
    r = paddock("--help")
    assert r.rc == 0
    assert r.out.startswith("Usage: paddock")
    assert "--log-level" in r.out


def test_version_prints_semver(paddock):
    r = paddock("--version")
    assert r.rc == 0
    assert re.fullmatch(VERSION_LINE, r.out.splitlines()[0])


def test_version_names_the_git_revision_of_a_git_build(paddock):
    if not os.path.exists(os.path.join(ROOT, ".git")):
        pytest.skip("not built from a git checkout")
    head = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True)
    m = re.fullmatch(VERSION_LINE, paddock("--version").out.splitlines()[0])
    assert m.group(1), "no (git ...) on a build from git"
    assert head.stdout.startswith(m.group(1).removesuffix("-dirty"))


def modversion(module):
    return subprocess.run(["pkg-config", "--modversion", module],
                          capture_output=True, text=True,
                          check=True).stdout.strip()


def test_version_names_the_libraries_paddock_was_built_with(paddock):
    libs = paddock("--version").out.splitlines()[1]
    assert libs.startswith("libraries: ")
    openssl = subprocess.run(["openssl", "version"], capture_output=True,
                             text=True, check=True).stdout.split()[1]
    assert f" OpenSSL/{openssl}" in libs
    assert f" libevent/{modversion('libevent_core')}" in libs
    assert f" jansson/{modversion('jansson')}" in libs
    assert f" libidn2/{modversion('libidn2')}" in libs
    assert f" libseccomp/{modversion('libseccomp')}" in libs
    assert re.search(r" llhttp/\d+\.\d+\.\d+", libs)


def test_no_command_is_a_usage_error(paddock):
    r = paddock()
    assert r.rc == 2
    assert "Usage: paddock" in r.err


def test_unknown_command_names_it(paddock):
    r = paddock("frobnicate")
    assert r.rc == 2
    assert "unknown command 'frobnicate'" in r.err


def test_unknown_option_names_it(paddock):
    r = paddock("--frob")
    assert r.rc == 2
    assert "unknown option '--frob'" in r.err


def test_bad_log_level_is_a_usage_error(paddock):
    r = paddock("--log-level", "loud", "help")
    assert r.rc == 2
    assert "--log-level" in r.err


def test_log_level_takes_the_equals_form(paddock):
    r = paddock("--log-level=error", "--version")
    assert r.rc == 0
    assert re.fullmatch(VERSION_LINE, r.out.splitlines()[0])


def test_log_level_without_value_is_a_usage_error(paddock):
    r = paddock("--log-level")
    assert r.rc == 2
    assert "--log-level needs a value" in r.err


@pytest.mark.parametrize("spec, says", [
    ("foo=1", "--limit foo=1: no such limit"),
    ("idle-timeout=abc", "expected a duration such as 250ms, 10s or 5m"),
    ("sessions=5s", "expected a number of sessions"),
    ("=5s", "--limit takes NAME=VALUE"),
    ("idle-timeout", "--limit takes NAME=VALUE"),
])
def test_bad_limit_is_refused_before_anything_is_loaded(paddock, spec,
                                                        says):
    # The config named does not exist: the option is judged first.
    r = paddock("proxy", "--config", "/nonexistent/config.toml",
                f"--limit={spec}")
    assert r.rc == 2
    assert says in r.err
    assert "listening" not in r.err


@pytest.mark.parametrize("argv, says", [
    (["proxy", "--workers"], "--workers needs a value"),
    (["proxy", "--workers=0"], "--workers takes a number from 1 to 1024"),
    (["env", "--format=xml"], "--format takes sh, fish or json"),
    (["connect", "host", "22", "extra"], "unexpected 'extra'"),
])
def test_command_option_errors_are_usage_errors(paddock, argv, says):
    r = paddock(*argv)
    assert r.rc == 2
    assert says in r.err
