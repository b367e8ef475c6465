"""paddock policy check: one request judged against the effective config.

Every name is given its addresses with --resolve, so no test asks a real
resolver; nothing is ever sent.
"""
import json
import os
import textwrap

import pytest


class Home:
    def __init__(self, tmp_path, paddock):
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.cwd = tmp_path
        self._paddock = paddock

    def config(self, text):
        path = self.home / "config.toml"
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def check(self, *args):
        env = {k: v for k, v in os.environ.items() if k != "CODEX_HOME"}
        return self._paddock("policy", "check", "--home", str(self.home),
                             "--system-config", "", "--cwd", str(self.cwd),
                             *args, env=env)

    def json(self, *args):
        r = self.check("--json", *args)
        assert r.rc in (0, 1), r.err
        return r, json.loads(r.out)


@pytest.fixture
def home(tmp_path, paddock):
    return Home(tmp_path, paddock)


NETWORK = """
    [network]
    enabled = true
    allowed_domains = ["*.example.com", "example.com"]
    denied_domains = ["ads.example.com"]
    """


def test_help(paddock):
    for args in (["policy", "--help"], ["policy", "check", "--help"]):
        r = paddock(*args)
        assert r.rc == 0
        assert r.out.startswith("Usage: paddock policy")
    assert "--resolve IP[,IP...]" in paddock("policy", "check", "-h").out


def test_allowed_host_names_the_rule_and_its_origin(home):
    cfg = home.config(NETWORK)
    r = home.check("--resolve", "93.184.216.34", "www.example.com")
    assert r.rc == 0, r.err
    assert r.out.splitlines() == [
        "host: www.example.com (port 443, https_connect, CONNECT)",
        "decision: allow",
        "reason: allow: The network policy allows this request.",
        "source: baseline_policy",
        "x-proxy-error: none",
        f"matched: allow '*.example.com' at {cfg}:3:20",
        "addresses: 93.184.216.34",
    ]


def test_json_shape_of_a_denied_request(home):
    cfg = home.config(NETWORK)
    r, doc = home.json("--protocol", "http", "--method", "POST",
                       "--client", "127.0.0.1:5555",
                       "--resolve", "93.184.216.34", "ADS.example.com.:8080")
    assert r.rc == 1
    assert doc == {
        "host": "ads.example.com",
        "port": 8080,
        "protocol": "http",
        "method": "POST",
        "decision": "deny",
        "reason": "denied",
        "message": "This host is on the network denylist.",
        "source": "baseline_policy",
        "x_proxy_error": "blocked-by-denylist",
        "matched": {"list": "deny", "pattern": "ads.example.com",
                    "origin": f"{cfg}:4:19"},
        "addresses": [],
    }


def test_host_not_in_allowlist(home):
    home.config(NETWORK)
    r, doc = home.json("--resolve", "93.184.216.34", "other.org")
    assert r.rc == 1
    assert doc["decision"] == "deny"
    assert doc["reason"] == "not_allowed"
    assert doc["x_proxy_error"] == "blocked-by-allowlist"
    assert doc["matched"] is None
    # A name refused anyway is not resolved (issue 11, defect 8).
    assert doc["addresses"] == []


def test_name_resolving_to_loopback_is_local(home):
    home.config(NETWORK)
    r, doc = home.json("--resolve", "127.0.0.1,93.184.216.34",
                       "www.example.com")
    assert r.rc == 1
    assert doc["reason"] == "not_allowed_local"
    assert doc["addresses"] == ["127.0.0.1", "93.184.216.34"]


def test_resolve_keeps_as_many_addresses_as_the_proxy(home):
    # The proxy judges at most 16 addresses of a name (LIMIT_DNS_ADDRS);
    # policy check may not judge more, or it would answer differently.
    home.config(NETWORK)
    ips = ",".join(f"93.184.216.{i}" for i in range(1, 17))
    r, doc = home.json("--resolve", ips, "www.example.com")
    assert len(doc["addresses"]) == 16
    r = home.check("--resolve", ips + ",127.0.0.1", "www.example.com")
    assert r.rc == 2
    assert "--resolve takes at most 16 addresses" in r.err


def test_ip_literal_needs_no_lookup(home):
    home.config("""
        [network]
        enabled = true
        allow_local_binding = true
        allowed_domains = ["127.0.0.1"]
        """)
    r, doc = home.json("--protocol", "socks5_tcp", "127.0.0.1:9000")
    assert r.rc == 0
    assert doc["method"] is None
    assert doc["addresses"] == ["127.0.0.1"]
    assert doc["matched"]["pattern"] == "127.0.0.1"


def test_default_port_follows_protocol(home):
    home.config(NETWORK)
    _, doc = home.json("--protocol", "http", "--resolve", "93.184.216.34",
                       "example.com")
    assert doc["port"] == 80
    assert doc["method"] == "GET"
    _, doc = home.json("--resolve", "93.184.216.34", "example.com")
    assert doc["port"] == 443


def test_limited_mode_refuses_post(home):
    home.config(textwrap.dedent(NETWORK) + 'mode = "limited"\n')
    r, doc = home.json("--protocol", "http", "--method", "POST",
                       "--resolve", "93.184.216.34", "example.com")
    assert r.rc == 1
    assert doc["reason"] == "method_not_allowed"
    assert doc["source"] == "mode_guard"


def test_disabled_proxy_says_so(home):
    home.config('[network]\nallowed_domains = ["example.com"]\n')
    r = home.check("--resolve", "93.184.216.34", "example.com")
    assert r.rc == 1
    assert "reason: proxy_disabled" in r.out
    assert "the network proxy is disabled in the config" in r.out


def test_profile_rules_come_from_the_selected_profile(home):
    cfg = home.config("""
        default_permissions = "dev"
        [permissions.dev.filesystem]
        ":root" = "read"
        [permissions.dev.network]
        enabled = true
        [permissions.dev.network.domains]
        "api.internal.test" = "allow"
        """)
    r, doc = home.json("--resolve", "93.184.216.34", "api.internal.test")
    assert r.rc == 0
    assert doc["matched"] == {"list": "allow", "pattern": "api.internal.test",
                              "origin": f"{cfg}:7:1"}


def test_override_rule_origin_is_the_argument(home):
    home.config(NETWORK)
    r, doc = home.json("-c", 'network.denied_domains=["example.com"]',
                       "--resolve", "93.184.216.34", "example.com")
    assert r.rc == 1
    assert doc["matched"]["origin"] == \
        '-c network.denied_domains=["example.com"]:1:28'


@pytest.mark.parametrize("args,needle", [
    ([], "needs a HOST[:PORT]"),
    (["--resolve", "not-an-ip", "example.com"], "is not an IP address"),
    (["--protocol", "ftp", "example.com"], "--protocol takes http"),
    (["a.example", "b.example"], "unexpected argument 'b.example'"),
    (["--method"], "--method needs a value"),
])
def test_usage_errors_exit_2(home, args, needle):
    home.config(NETWORK)
    r = home.check(*args)
    assert r.rc == 2
    assert needle in r.err


def test_config_error_exits_2(home):
    home.config('[network]\nallowed_domains = ["*"]\n')
    r = home.check("--resolve", "93.184.216.34", "example.com")
    assert r.rc == 2
    assert "[global_wildcard]" in r.err


def test_text_output_names_the_class_of_each_non_public_address(home):
    home.config(NETWORK)
    r = home.check("--resolve", "10.1.2.3,93.184.216.34,::1",
                   "www.example.com")
    assert r.rc == 1, r.err
    assert "reason: not_allowed_local:" in r.out
    assert ("addresses: 10.1.2.3 (private), 93.184.216.34, ::1 (loopback)"
            in r.out.splitlines())


@pytest.mark.parametrize("host", ["exa mple.com", "1.2.3.4.5", "a..b",
                                  "[127.0.0.1]", "ex\x1bample.com"])
def test_invalid_host_says_why(home, host):
    home.config(NETWORK)
    r = home.check("--resolve", "93.184.216.34", host)
    assert r.rc == 1, r.err
    assert "decision: deny" in r.out
    assert ("note: the host is not a valid host name or IP address, so no "
            "rule can allow it") in r.out
    assert "\x1b" not in r.out  # the raw argument is printed escaped
