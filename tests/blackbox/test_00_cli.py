"""The paddock front door: help, version and usage errors."""


def test_help_lists_usage_and_exits_zero(paddock):
    r = paddock("--help")
    assert r.rc == 0
    assert r.out.startswith("Usage: paddock")
    assert "--log-level" in r.out


def test_version_prints_semver(paddock):
    r = paddock("--version")
    assert r.rc == 0
    assert r.out.strip() == "paddock 0.1.0"


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
