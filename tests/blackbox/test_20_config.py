"""paddock config check|show|schema on temporary home and project trees.

Every test builds its own CODEX_HOME and project under tmp_path, points
paddock at them with --home and --cwd, and turns the system layer off with
--system-config '' so the machine's /etc/codex never leaks in.
"""
import json
import os
import re
import textwrap
import tomllib

import jsonschema
import pytest

from conftest import ROOT


class Tree:
    """A home, a user directory for ~ and a project, under one tmp_path."""

    def __init__(self, tmp_path, paddock):
        self.root = tmp_path
        self.home = tmp_path / "home"
        self.user = tmp_path / "user"
        self.proj = tmp_path / "proj"
        for d in (self.home, self.user, self.proj):
            d.mkdir()
        self._paddock = paddock

    def write(self, rel, text):
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def user_config(self, text):
        return self.write("home/config.toml", text)

    def env(self):
        env = {k: v for k, v in os.environ.items()
               if k not in ("CODEX_HOME", "TMPDIR")}
        env["HOME"] = str(self.user)
        return env

    def run(self, *args, cwd=None, timeout=60):
        where = ["--home", str(self.home), "--system-config", "",
                 "--requirements", "", "--managed-config", "",
                 "--cwd", str(cwd or self.proj)]
        return self._paddock(*args[:2], *where, *args[2:], env=self.env(),
                             timeout=timeout)

    def json(self, *args, cwd=None):
        r = self.run(*args, "--json", cwd=cwd)
        assert r.rc in (0, 1), r.err
        return r, json.loads(r.out)


@pytest.fixture
def tree(tmp_path, paddock):
    return Tree(tmp_path, paddock)


PROFILE = """
    default_permissions = "dev"

    [permissions.dev.filesystem]
    ":minimal" = "read"

    [permissions.dev.filesystem.":project_roots"]
    "." = "write"
    "docs" = "read"

    [permissions.dev.network]
    enabled = true
    allowed_domains = ["example.com"]
    """


# --- help and usage -------------------------------------------------------

@pytest.mark.parametrize("args", [["config", "--help"],
                                  ["config", "check", "--help"],
                                  ["config", "show", "-h"],
                                  ["config", "schema", "--help"],
                                  ["config", "profiles", "--help"]])
def test_every_config_command_has_help(paddock, args):
    r = paddock(*args)
    assert r.rc == 0
    assert r.out.startswith("Usage: paddock config")


def test_config_help_lists_common_options(paddock):
    r = paddock("config", "check", "--help")
    for opt in ("--home", "--config", "--cwd", "-c KEY=VALUE", "--profile",
                "--permissions", "--sandbox", "--add-dir", "--json"):
        assert opt in r.out


def test_config_without_subcommand_is_usage_error(paddock):
    r = paddock("config")
    assert r.rc == 2
    assert "Usage: paddock config" in r.err


@pytest.mark.parametrize("args,needle", [
    (["config", "frob"], "unknown command 'frob'"),
    (["config", "check", "--frob"], "unknown argument '--frob'"),
    (["config", "check", "--home"], "--home needs a value"),
    (["config", "check", "--sandbox", "open"], "--sandbox takes read-only"),
    (["config", "schema", "--json"], "unknown argument '--json'"),
    (["config", "profiles", "--json"], "unknown argument '--json'"),
])
def test_usage_errors_exit_2(paddock, args, needle):
    r = paddock(*args)
    assert r.rc == 2
    assert needle in r.err


# --- profiles -------------------------------------------------------------

def test_profiles_lists_the_names_of_every_layer_and_override(tree):
    tree.write("sys.toml", """
        [permissions.from_system]
        """)
    tree.user_config(PROFILE + """
        [permissions."two words".network]
        enabled = false

        [permissions."bad\\nname"]

        [profiles.work]
        sandbox_mode = "read-only"
        """)
    r = tree._paddock("config", "profiles", "--home", str(tree.home),
                      "--system-config", str(tree.root / "sys.toml"),
                      "--cwd", str(tree.proj), "-c", "profiles.ci.model=\"x\"",
                      env=tree.env())
    assert r.rc == 0, r.err
    assert r.out.splitlines() == [
        "permissions\tfrom_system", "permissions\tdev",
        "permissions\ttwo words", "profile\twork", "profile\tci"]


def test_profiles_fails_when_the_config_does_not_load(tree):
    tree.user_config("default_permissions = 3\n")
    r = tree.run("config", "profiles")
    assert r.rc == 1
    assert r.out == ""
    assert "default_permissions" in r.err


# --- check ----------------------------------------------------------------

def test_check_accepts_a_clean_config(tree):
    tree.user_config(PROFILE)
    r = tree.run("config", "check")
    assert r.rc == 0, r.out
    assert r.out == "config loads: 0 warnings\n"


def test_check_accepts_a_real_codex_config_quietly(tree):
    tree.user_config("""
        model = "gpt-5"
        model_provider = "openai"
        approval_policy = "on-request"
        notify = ["notify-send", "codex"]
        sandbox_mode = "workspace-write"

        [sandbox_workspace_write]
        network_access = false

        [mcp_servers.docs]
        command = "npx"
        args = ["-y", "docs-server"]

        [tui]
        notifications = true

        [history]
        persistence = "save-all"

        [profiles.fast]
        model = "o4-mini"
        approval_policy = "never"
        """)
    r = tree.run("config", "check")
    assert r.rc == 0
    assert r.out == "config loads: 0 warnings\n"


def test_check_reports_every_error_with_position_and_key(tree):
    cfg = tree.user_config("""
        default_permissions = "dev"

        [permissions.dev.filesystem.":minimal"]
        "docs" = "read"

        [permissions.dev.filesystem]
        "relative" = "write"
        """)
    r = tree.run("config", "check")
    assert r.rc == 1
    lines = r.out.splitlines()
    assert lines[0] == (
        f'error: {cfg}:4:1: permissions.dev.filesystem.":minimal": nested '
        "entries are only allowed under :project_roots and absolute paths "
        '(found "docs") [nested_entry_not_allowed]')
    assert lines[1].startswith(
        f"error: {cfg}:7:1: permissions.dev.filesystem.relative: ")
    assert lines[1].endswith("[path_not_absolute]")
    assert lines[-1] == "config does not load: 2 errors, 0 warnings"


def test_check_warns_on_unknown_keys_with_suggestion(tree):
    cfg = tree.user_config("""
        default_permissions = "dev"
        [permissions.dev]
        filesytem = { ":root" = "read" }
        """)
    r = tree.run("config", "check")
    assert r.rc == 0
    assert (f"warning: {cfg}:3:1: permissions.dev.filesytem: unknown key, "
            'ignored; did you mean "filesystem"? [unknown_key]') in r.out


def test_check_json_shape(tree):
    cfg = tree.user_config("""
        sandbox_mode = "everything"
        colour = "blue"
        """)
    r, doc = tree.json("config", "check")
    assert r.rc == 1
    assert set(doc) == {"ok", "errors", "warnings"}
    assert doc["ok"] is False
    assert doc["errors"] == [{
        "code": "invalid_value",
        "message": '"everything" is not a valid sandbox mode; expected '
                   '"read-only", "workspace-write" or "danger-full-access"',
        "file": str(cfg), "line": 1, "column": 16, "key": "sandbox_mode",
        "requirement": None}]
    assert [w["code"] for w in doc["warnings"]] == ["unknown_key"]
    assert set(doc["warnings"][0]) == {"code", "message", "file", "line",
                                       "column", "key", "requirement"}


def test_check_json_ok_when_config_loads(tree):
    tree.user_config(PROFILE)
    r, doc = tree.json("config", "check")
    assert r.rc == 0
    assert doc == {"ok": True, "errors": [], "warnings": []}


def test_missing_user_file_is_fine_but_named_one_is_not(tree):
    r = tree.run("config", "check")
    assert r.rc == 0
    r = tree.run("config", "check", "--config", str(tree.root / "nope.toml"))
    assert r.rc == 1
    assert f"{tree.root}/nope.toml: no such file [file_not_found]" in r.out


def test_syntax_error_has_parser_position(tree):
    cfg = tree.user_config("""
        model = "o3"
        sandbox_mode = = 1
        """)
    r = tree.run("config", "check")
    assert r.rc == 1
    assert re.search(rf"^error: {re.escape(str(cfg))}:2:\d+: .*"
                     r"\[toml_syntax\]$", r.out, re.M)


# --- project layers -------------------------------------------------------

def test_trusted_project_layer_is_loaded(tree):
    (tree.proj / ".git").mkdir()
    tree.user_config(f"""
        sandbox_mode = "read-only"
        [projects."{tree.proj}"]
        trust_level = "trusted"
        """)
    proj_cfg = tree.write("proj/.codex/config.toml",
                          'sandbox_mode = "danger-full-access"\n')
    sub = tree.proj / "sub"
    sub.mkdir()
    r, doc = tree.json("config", "show", cwd=sub)
    assert r.rc == 0
    assert doc["layers"][-1] == {"source": "project", "path": str(proj_cfg),
                                 "enabled": True, "disabled_reason": None}
    assert doc["sandbox_policy"] == {"type": "danger-full-access"}


def test_untrusted_project_layer_is_listed_disabled(tree):
    (tree.proj / ".git").mkdir()
    tree.user_config('model = "o3"\n')
    proj_cfg = tree.write("proj/.codex/config.toml",
                          'sandbox_mode = "danger-full-access"\nnot toml\n')
    r, doc = tree.json("config", "show")
    assert r.rc == 0
    layer = doc["layers"][-1]
    assert layer["path"] == str(proj_cfg)
    assert layer["enabled"] is False
    assert f"mark {tree.proj} as a trusted project" in layer[
        "disabled_reason"]
    assert doc["sandbox_policy"] == {"type": "read-only"}


def test_untrusted_layer_shows_in_text_output(tree):
    (tree.proj / ".git").mkdir()
    tree.user_config(f"""
        [projects."{tree.proj}"]
        trust_level = "untrusted"
        """)
    tree.write("proj/.codex/config.toml", 'sandbox_mode = "read-only"\n')
    r = tree.run("config", "show")
    assert r.rc == 0
    assert f"is marked untrusted in {tree.home}/config.toml]" in r.out


CONFIG_FILE_LIMIT = 16 * 1024 * 1024


@pytest.mark.parametrize("size,ok", [(CONFIG_FILE_LIMIT, True),
                                     (CONFIG_FILE_LIMIT - 100, True),
                                     (CONFIG_FILE_LIMIT + 1, False)])
def test_config_file_size_limit_is_exact(tree, size, ok):
    line = "#" * 1023 + "\n"
    text = line * ((size - 1) // len(line))
    text += "#" * (size - len(text) - 1) + "\n"
    assert len(text) == size
    (tree.home / "config.toml").write_text(text)
    r = tree.run("config", "check")
    assert r.rc == (0 if ok else 1), r.out
    assert ("[file_too_large]" in r.out) == (not ok)


LONG = 100_000


@pytest.mark.parametrize("form", ["list", "map", "sockets", "filesystem",
                                  "writable_roots", "unknown_keys"])
def test_long_lists_load_in_linear_time(tree, form):
    # Each of these once compared every entry with every other one (or
    # grew its array one element at a time): minutes for a few MB.
    if form == "list":
        items = ",".join(f'"h{i}.example.com"' for i in range(LONG))
        text = f"[network]\nallowed_domains = [{items}]\n" \
            'denied_domains = ["h7.example.com"]\n'
    elif form == "map":
        text = "[network.domains]\n" + "".join(
            f'"h{i}.example.com" = "allow"\n' for i in range(LONG))
    elif form == "sockets":
        text = "[network.unix_sockets]\n" + "".join(
            f'"/run/{i}.sock" = "allow"\n' for i in range(LONG))
    elif form == "filesystem":
        text = 'default_permissions = "p"\n[permissions.p.filesystem]\n' \
            '":project_roots" = "write"\n' + "".join(
                f'"/r/{i}" = "write"\n' for i in range(LONG))
    elif form == "unknown_keys":
        # Only the first 1000 problems are listed; the rest must not
        # cost a "did you mean" search each.
        text = "".join(f"modelx{i} = 1\n" for i in range(2 * LONG))
    else:
        items = ",".join(f'"/r/{i}"' for i in range(LONG))
        text = 'sandbox_mode = "workspace-write"\n' \
            f"[sandbox_workspace_write]\nwritable_roots = [{items}]\n"
    (tree.home / "config.toml").write_text(text)
    r = tree.run("config", "check", timeout=30)
    assert r.rc == 0, r.out


def test_brace_expansion_is_bounded_in_all(tree):
    # 4097 patterns of 256 alternatives each: past the 2^20 host patterns
    # a policy takes. Each alone is fine; the sum is an error, at the
    # pattern that goes past it, before anything is built from them.
    body = "{a,b}" * 8
    items = ",\n".join(f'"p{i}{body}.example"' for i in range(4097))
    cfg = tree.user_config(f"[network]\nallowed_domains = [\n{items}]\n")
    r = tree.run("config", "check", timeout=30)
    assert r.rc == 1, r.out
    assert re.search(rf"^error: {re.escape(str(cfg))}:4099:1: "
                     r"network\.allowed_domains: .*more than 1048576 host "
                     r"patterns.*\[too_many_patterns\]$", r.out, re.M)


def _worktree(tree, main, wt, backlink=True):
    """A linked worktree wt of the checkout main, as git makes them."""
    admin = tree.root / main / ".git" / "worktrees" / "w"
    admin.mkdir(parents=True)
    (tree.root / wt).mkdir(exist_ok=True)
    dotgit = tree.write(f"{wt}/.git", f"gitdir: {admin}\n")
    if backlink:
        (admin / "gitdir").write_text(f"{dotgit}\n")
    return tree.root / main


def test_linked_worktree_is_trusted_through_its_main_checkout(tree):
    main = _worktree(tree, "main", "wt")
    tree.user_config(f"""
        [projects."{main}"]
        trust_level = "trusted"
        """)
    proj_cfg = tree.write("wt/.codex/config.toml",
                          'sandbox_mode = "danger-full-access"\n')
    r, doc = tree.json("config", "show", cwd=tree.root / "wt")
    assert r.rc == 0
    assert doc["layers"][-1]["path"] == str(proj_cfg)
    assert doc["layers"][-1]["enabled"] is True
    assert doc["sandbox_policy"] == {"type": "danger-full-access"}


def test_forged_git_file_does_not_borrow_a_trusted_checkout(tree):
    # An unpacked archive can hold a .git file naming any checkout; only
    # a worktree that the checkout lists as its own shares its trust.
    main = _worktree(tree, "main", "evil", backlink=False)
    tree.user_config(f"""
        [projects."{main}"]
        trust_level = "trusted"
        """)
    tree.write("evil/.codex/config.toml",
               'sandbox_mode = "danger-full-access"\n')
    r, doc = tree.json("config", "show", cwd=tree.root / "evil")
    assert r.rc == 0
    assert doc["layers"][-1]["enabled"] is False
    assert doc["sandbox_policy"] == {"type": "read-only"}


def test_git_file_naming_another_worktree_is_not_trusted(tree):
    main = _worktree(tree, "main", "wt")
    tree.write("evil/.git", f"gitdir: {main}/.git/worktrees/w\n")
    tree.user_config(f"""
        [projects."{main}"]
        trust_level = "trusted"
        """)
    tree.write("evil/.codex/config.toml",
               'sandbox_mode = "danger-full-access"\n')
    r, doc = tree.json("config", "show", cwd=tree.root / "evil")
    assert r.rc == 0
    assert doc["layers"][-1]["enabled"] is False
    assert doc["sandbox_policy"] == {"type": "read-only"}


def test_fifo_named_git_does_not_hang_the_load(tree):
    os.mkfifo(tree.proj / ".git")
    tree.user_config('sandbox_mode = "workspace-write"\n')
    r, doc = tree.json("config", "show")
    assert r.rc == 0
    assert doc["sandbox_policy"]["type"] == "workspace-write"


def test_fifo_as_config_file_is_an_error_not_a_hang(tree):
    os.mkfifo(tree.home / "config.toml")
    r = tree.run("config", "check")
    assert r.rc == 1
    assert "not a regular file" in r.out
    assert "[file_unreadable]" in r.out


# --- -c overrides ---------------------------------------------------------

def test_override_with_quoted_key_and_plain_string(tree):
    tree.user_config('[permissions.dev.filesystem]\n":minimal" = "read"\n')
    r, doc = tree.json("config", "show",
                       "-c", 'permissions.dev.filesystem.":root"="read"',
                       "-c", "default_permissions=dev")
    assert r.rc == 0, r.err
    assert doc["default_permissions"] == "dev"
    kinds = [e["path"]["value"]["kind"]
             for e in doc["file_system_sandbox_policy"]["entries"]]
    assert kinds == ["minimal", "root"]
    assert doc["layers"][-1] == {"source": "overrides", "path": None,
                                 "enabled": True, "disabled_reason": None}


def test_override_values_are_toml_and_paths_follow_cwd(tree):
    r, doc = tree.json("config", "show",
                       "-c", "sandbox_mode=workspace-write",
                       "-c", 'sandbox_workspace_write.writable_roots=["out"]',
                       "-c", "sandbox_workspace_write.exclude_slash_tmp=true")
    assert r.rc == 0, r.err
    assert doc["sandbox_policy"]["writable_roots"] == [str(tree.proj / "out")]
    assert doc["sandbox_policy"]["exclude_slash_tmp"] is True


@pytest.mark.parametrize("arg,needle", [
    ("sandbox_mode", "-c sandbox_mode:1:4: missing '='"),
    ("=x", "-c =x:1:4: empty key"),
])
def test_bad_override_shows_the_argument(tree, arg, needle):
    r = tree.run("config", "check", "-c", arg)
    assert r.rc == 1
    assert needle in r.out


def test_bad_override_value_points_at_its_column(tree):
    r = tree.run("config", "check", "-c", "sandbox_mode=bogus")
    assert r.rc == 1
    assert ("error: -c sandbox_mode=bogus:1:17: sandbox_mode: \"bogus\" is "
            "not a valid sandbox mode") in r.out


# --- selectors ------------------------------------------------------------

def test_permissions_flag_selects_profile(tree):
    tree.user_config("""
        sandbox_mode = "danger-full-access"
        [permissions.ro.filesystem]
        ":root" = "read"
        """)
    r, doc = tree.json("config", "show", "--permissions", "ro")
    assert r.rc == 0
    assert doc["permissions_syntax"] == "profiles"
    assert doc["default_permissions"] == "ro"
    assert doc["sandbox_policy"] == {"type": "read-only"}


def test_sandbox_flag_and_add_dir(tree):
    tree.user_config(PROFILE)
    r, doc = tree.json("config", "show", "--sandbox", "workspace-write",
                       "--add-dir", "extra", "--add-dir", "/opt/data")
    assert r.rc == 0
    assert doc["permissions_syntax"] == "legacy"
    assert doc["default_permissions"] is None
    assert doc["sandbox_policy"]["writable_roots"] == [
        str(tree.proj / "extra"), "/opt/data"]
    assert [w["code"] for w in doc["warnings"]] == ["profiles_ignored"]


def test_profile_flag_and_undefined_profile(tree):
    tree.user_config("""
        [profiles.w]
        sandbox_mode = "workspace-write"
        """)
    r, doc = tree.json("config", "show", "--profile", "w")
    assert r.rc == 0
    assert doc["sandbox_policy"]["type"] == "workspace-write"
    r = tree.run("config", "check", "--profile", "nope")
    assert r.rc == 1
    assert ('error: --profile nope:1:11: config profile "nope" is not '
            'defined under [profiles]; defined: "w" '
            "[undefined_config_profile]") in r.out


def test_home_from_environment(tree, paddock):
    tree.user_config(PROFILE)
    env = tree.env()
    env["CODEX_HOME"] = str(tree.home)
    r = paddock("config", "show", "--json", "--system-config", "",
                "--cwd", str(tree.proj), env=env)
    assert r.rc == 0, r.err
    assert json.loads(r.out)["default_permissions"] == "dev"


# --- show -----------------------------------------------------------------

def test_show_text_names_the_origin_of_each_value(tree):
    cfg = tree.user_config(PROFILE)
    r = tree.run("config", "show")
    assert r.rc == 0, r.err
    assert f'default_permissions = "dev"  # {cfg}:1\n' in r.out
    assert f'":minimal" = "read"  # {cfg}:4\n' in r.out
    assert '[permissions.dev.filesystem.":project_roots"]\n' in r.out
    assert "# sandbox policy: workspace-write\n" in r.out
    assert "# network proxy: enabled, mode full\n" in r.out


def test_show_text_is_valid_toml_with_the_same_values(tree):
    tree.user_config(PROFILE + '\n[network]\nproxy_url = "x\\ny"\n')
    r = tree.run("config", "show")
    again = tomllib.loads(r.out)
    original = tomllib.loads((tree.home / "config.toml").read_text())
    assert again == original


def test_show_json_shape(tree):
    tree.user_config(PROFILE)
    r, doc = tree.json("config", "show")
    assert r.rc == 0
    assert list(doc) == ["layers", "permissions_syntax", "default_permissions",
                         "sandbox_policy", "file_system_sandbox_policy",
                         "network_sandbox_policy", "writable_roots",
                         "network", "otel", "requirements", "warnings"]
    assert doc["permissions_syntax"] == "profiles"
    assert doc["sandbox_policy"] == {
        "type": "workspace-write",
        "read_only_access": {"type": "restricted",
                             "include_platform_defaults": True,
                             "readable_roots": [str(tree.proj / "docs")]},
        "network_access": True,
        "exclude_tmpdir_env_var": True,
        "exclude_slash_tmp": True}
    assert doc["file_system_sandbox_policy"]["kind"] == "restricted"
    assert doc["file_system_sandbox_policy"]["entries"][2] == {
        "path": {"type": "special",
                 "value": {"kind": "project_roots", "subpath": "docs"}},
        "access": "read"}
    assert doc["network_sandbox_policy"] == "enabled"
    assert doc["writable_roots"] == [
        {"root": str(tree.proj),
         "read_only_subpaths": [str(tree.proj / ".codex")]}]
    assert doc["network"] == {
        "enabled": True, "proxy_url": "http://127.0.0.1:3128",
        "enable_socks5": True, "socks_url": "http://127.0.0.1:8081",
        "enable_socks5_udp": True, "allow_upstream_proxy": True,
        "dangerously_allow_non_loopback_proxy": False,
        "admin_url": None, "dangerously_allow_non_loopback_admin": False,
        "mode": "full", "mitm": False, "allowed_domains": ["example.com"],
        "denied_domains": [], "allow_local_binding": False,
        "allow_unix_sockets": [], "dangerously_allow_all_unix_sockets": False,
        "http_addr": "127.0.0.1:3128", "socks_addr": "127.0.0.1:8081",
        "admin_addr": None, "required_denied_domains": []}
    assert doc["requirements"] == []
    assert doc["warnings"] == []


def test_show_json_listener_clamped_with_warning(tree):
    tree.user_config("""
        [network]
        enabled = true
        proxy_url = "0.0.0.0:4000"
        mitm = true
        """)
    r, doc = tree.json("config", "show")
    assert r.rc == 0
    assert doc["network"]["http_addr"] == "127.0.0.1:4000"
    assert [w["code"] for w in doc["warnings"]] == ["listen_address_clamped",
                                                   "mitm_full_mode"]


def test_show_fails_like_check_on_errors(tree):
    tree.user_config('default_permissions = "nope"\n')
    r = tree.run("config", "show")
    assert r.rc == 1
    assert r.out == ""
    assert "[missing_permissions_table]" in r.err


def test_show_prints_warnings_on_stderr(tree):
    tree.user_config('colour = "blue"\n')
    r = tree.run("config", "show")
    assert r.rc == 0
    assert "colour: unknown key, ignored [unknown_key]" in r.err


# --- schema ---------------------------------------------------------------

def schema(paddock):
    r = paddock("config", "schema")
    assert r.rc == 0
    return json.loads(r.out)


def test_schema_is_committed_and_current(paddock):
    path = os.path.join(ROOT, "docs", "config.schema.json")
    with open(path, encoding="utf-8") as f:
        committed = json.load(f)
    assert schema(paddock) == committed, (
        "docs/config.schema.json is stale; regenerate it with "
        "'paddock config schema > docs/config.schema.json'")


def test_schema_is_draft_2020_12(paddock):
    s = schema(paddock)
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(s)


def validate(paddock, text):
    jsonschema.Draft202012Validator(schema(paddock)).validate(
        tomllib.loads(textwrap.dedent(text)))


@pytest.mark.parametrize("text", [
    PROFILE,
    """
    model = "o3"
    sandbox_mode = "workspace-write"
    [sandbox_workspace_write]
    writable_roots = ["/a"]
    [mcp_servers.x]
    command = "y"
    """,
    """
    [permissions.p.filesystem]
    ":minimal" = { "." = "read" }
    "/srv" = { "." = "write", "logs/app" = "read" }
    "~/notes" = "read"
    ":future_thing" = "read"
    [permissions.p.network.domains]
    "*.example.com" = "deny"
    """,
])
def test_schema_accepts_valid_configs(paddock, text):
    validate(paddock, text)


@pytest.mark.parametrize("text", [
    '[permissions.p.filesystem]\n":minimal" = { "docs" = "read" }\n',
    '[permissions.p.filesystem]\n"docs" = "read"\n',
    '[permissions.p.filesystem]\n"/x" = "deny"\n',
    '[permissions.p.filesystem]\n":project_roots" = { "../x" = "read" }\n',
    '[permissions.p]\nfilesytem = {}\n',
    'sandbox_mode = "open"\n',
    '[permissions.p.network]\nmode = "strict"\n',
    'colour = "blue"\n',
])
def test_schema_flags_what_check_reports(paddock, text):
    with pytest.raises(jsonschema.ValidationError):
        validate(paddock, text)
