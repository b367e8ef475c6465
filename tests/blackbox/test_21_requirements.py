"""Administrator requirements: /etc/codex/requirements.toml and the legacy
managed_config.toml, as `paddock config check|show` report them.

Each test writes a requirements file and a user config under tmp_path and
points paddock at them (--requirements, --managed-config, --home); the
machine's /etc/codex never leaks in (--system-config '').
"""
import json
import textwrap

import pytest


class Admin:
    def __init__(self, tmp_path, paddock):
        self.dir = tmp_path
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.req = tmp_path / "requirements.toml"
        self.managed = tmp_path / "managed_config.toml"
        self._paddock = paddock

    def write(self, path, text):
        path.write_text(textwrap.dedent(text).lstrip("\n"))

    def run(self, cmd, *extra):
        return self._paddock(
            "config", cmd, "--home", str(self.home), "--system-config", "",
            "--cwd", str(self.dir), "--requirements",
            str(self.req) if self.req.exists() else "",
            "--managed-config",
            str(self.managed) if self.managed.exists() else "", *extra)

    def check(self):
        r = self.run("check", "--json")
        assert r.rc in (0, 1), r.err
        return r.rc, json.loads(r.out)


@pytest.fixture
def admin(tmp_path, paddock):
    return Admin(tmp_path, paddock)


def violations(doc):
    return [e for e in doc["errors"] if e["code"] == "requirement_violated"]


def user(admin, text):
    admin.write(admin.home / "config.toml", text)


def test_no_requirements_change_nothing(admin):
    user(admin, 'sandbox_mode = "danger-full-access"\n')
    rc, doc = admin.check()
    assert rc == 0 and doc["ok"]


def test_sandbox_mode_outside_the_allowed_set_names_both_files(admin):
    admin.write(admin.req, """
        allowed_sandbox_modes = ["read-only", "workspace-write"]
    """)
    user(admin, 'sandbox_mode = "danger-full-access"\n')
    rc, doc = admin.check()
    assert rc == 1
    [v] = violations(doc)
    assert v["file"] == str(admin.home / "config.toml")
    assert (v["line"], v["key"]) == (1, "sandbox_mode")
    assert v["requirement"] == {"file": str(admin.req), "line": 1,
                                "column": 25,
                                "key": "allowed_sandbox_modes"}
    assert "danger-full-access" in v["message"]
    # The text form says the same on one line.
    r = admin.run("check")
    assert r.rc == 1
    said = r.out + r.err
    assert f"{admin.home / 'config.toml'}:1:16: sandbox_mode:" in said
    assert f"at {admin.req}:1:25" in said


def test_allowed_modes_must_include_read_only(admin):
    admin.write(admin.req, 'allowed_sandbox_modes = ["workspace-write"]\n')
    rc, doc = admin.check()
    assert rc == 1
    assert [e["code"] for e in doc["errors"]] == ["invalid_requirements"]
    assert doc["errors"][0]["file"] == str(admin.req)


def test_broken_requirements_fail_closed(admin):
    admin.write(admin.req, "allowed_sandbox_modes = [\n")
    rc, doc = admin.check()
    assert rc == 1
    assert doc["errors"][0]["code"] == "toml_syntax"
    assert doc["errors"][0]["file"] == str(admin.req)


def test_legacy_managed_config_maps_to_allowed_modes(admin):
    admin.write(admin.managed, 'sandbox_mode = "workspace-write"\n')
    user(admin, 'sandbox_mode = "danger-full-access"\n')
    rc, doc = admin.check()
    assert rc == 1
    [v] = violations(doc)
    assert v["requirement"]["file"] == str(admin.managed)
    assert '["read-only", "workspace-write"]' in v["message"]
    user(admin, 'sandbox_mode = "workspace-write"\n')
    assert admin.check()[0] == 0
    # requirements.toml is the first source: it wins over the legacy file.
    admin.write(admin.req, 'allowed_sandbox_modes = ["read-only"]\n')
    rc, doc = admin.check()
    assert rc == 1
    assert violations(doc)[0]["requirement"]["file"] == str(admin.req)


def test_boolean_maxima_and_mode(admin):
    admin.write(admin.req, """
        [experimental_network]
        allow_local_binding = false
        allow_upstream_proxy = false
        mode = "limited"
    """)
    user(admin, """
        [network]
        enabled = true
        allow_local_binding = true
        allow_upstream_proxy = true
        mode = "full"
    """)
    rc, doc = admin.check()
    assert rc == 1
    keys = sorted(v["key"] for v in violations(doc))
    assert keys == ["network.allow_local_binding",
                    "network.allow_upstream_proxy", "network.mode"]
    user(admin, """
        [network]
        enabled = true
        allow_upstream_proxy = false
        mode = "limited"
    """)
    assert admin.check()[0] == 0


def test_profile_values_are_the_ones_named(admin):
    admin.write(admin.req, """
        [experimental_network]
        allow_local_binding = false
    """)
    user(admin, """
        default_permissions = "dev"
        [permissions.dev.filesystem]
        ":root" = "read"
        [permissions.dev.network]
        enabled = true
        allow_local_binding = true
    """)
    rc, doc = admin.check()
    [v] = violations(doc)
    assert v["key"] == "permissions.dev.network.allow_local_binding"


def test_managed_denies_are_added_and_win(admin, paddock):
    admin.write(admin.req, """
        [experimental_network]
        denied_domains = ["evil.example"]
    """)
    user(admin, """
        [network]
        enabled = true
        allowed_domains = ["evil.example", "good.example"]
    """)
    rc, doc = admin.check()
    assert rc == 0
    [w] = [w for w in doc["warnings"]
           if w["code"] == "allow_overridden_by_deny"]
    assert str(admin.req) in w["message"]
    r = admin.run("show", "--json")
    shown = json.loads(r.out)
    assert shown["network"]["required_denied_domains"] == ["evil.example"]
    assert any(q["key"] == "experimental_network.denied_domains"
               for q in shown["requirements"])
    text = admin.run("show").out
    assert "deny  evil.example" in text and "[required]" in text
    # The proxy's judge sees the managed deny.
    r = paddock("policy", "check", "--home", str(admin.home),
                "--system-config", "", "--requirements", str(admin.req),
                "--managed-config", "", "--cwd", str(admin.dir),
                "evil.example")
    assert r.rc == 1, r.out + r.err
    assert "denied" in r.out


def test_denylist_expansion_disabled_forbids_more_denies(admin):
    admin.write(admin.req, """
        [experimental_network]
        denied_domains = ["evil.example"]
        denylist_expansion_enabled = false
    """)
    user(admin, """
        [network]
        enabled = true
        denied_domains = ["other.example"]
    """)
    rc, doc = admin.check()
    [v] = violations(doc)
    assert "other.example" in v["message"]


@pytest.mark.parametrize("candidate,ok", [
    ("api.github.com", True),
    ("**.github.com", True),
    ("github.com", True),
    ("files.pypi.org", True),
    ("pypi.org", False),
    ("**.pypi.org", False),
    ("example.org", False),
])
def test_allowed_domains_coverage(admin, candidate, ok):
    admin.write(admin.req, """
        [experimental_network]
        allowed_domains = ["**.github.com", "*.pypi.org"]
    """)
    user(admin, f"""
        [network]
        enabled = true
        allowed_domains = ["{candidate}"]
    """)
    rc, doc = admin.check()
    assert (rc == 0) == ok, doc
    if not ok:
        [v] = violations(doc)
        assert candidate in v["message"]
        assert v["requirement"]["key"] == \
            "experimental_network.allowed_domains"


def test_allowlist_expansion_flags(admin):
    admin.write(admin.req, """
        [experimental_network]
        allowed_domains = ["a.example", "b.example"]
        allowlist_expansion_enabled = true
    """)
    user(admin, """
        [network]
        enabled = true
        allowed_domains = ["a.example", "extra.example"]
        denied_domains = ["b.example"]
    """)
    assert admin.check()[0] == 0
    user(admin, """
        [network]
        enabled = true
        allowed_domains = ["a.example"]
    """)
    rc, doc = admin.check()
    assert "b.example" in violations(doc)[0]["message"]
    admin.write(admin.req, """
        [experimental_network]
        allowed_domains = ["a.example"]
        allowlist_expansion_enabled = false
    """)
    user(admin, """
        [network]
        enabled = true
        allowed_domains = ["a.example", "extra.example"]
    """)
    rc, doc = admin.check()
    assert "extra.example" in violations(doc)[0]["message"]


def test_global_wildcard_cannot_be_managed(admin):
    admin.write(admin.req, """
        [experimental_network]
        allowed_domains = ["*"]
    """)
    rc, doc = admin.check()
    assert rc == 1
    assert doc["errors"][0]["code"] == "invalid_requirements"


def test_unix_sockets_subset(admin):
    admin.write(admin.req, """
        [experimental_network]
        allow_unix_sockets = ["/run/ok.sock"]
    """)
    user(admin, """
        [network]
        enabled = true
        allow_unix_sockets = ["/run/ok.sock", "/run/other.sock"]
        dangerously_allow_all_unix_sockets = true
    """)
    rc, doc = admin.check()
    msgs = " | ".join(v["message"] for v in violations(doc))
    assert "/run/other.sock" in msgs
    assert "dangerously_allow_all_unix_sockets" in msgs
