"""paddock ca: the interception CA's files, as a user meets them.

Checks what `paddock ca path|show|rotate` print and refuse, and that the
files on disk are what spec network §6.2 asks for (modes, both or neither,
the key's permissions), with the reasons named in the message.
"""
import json
import os
import stat
import subprocess

import pytest


@pytest.fixture
def home(tmp_path):
    return str(tmp_path / "codex")


def ca(paddock, home, *args):
    return paddock("ca", *args, "--home", home)


def test_path_names_the_cert_without_creating_it(paddock, home):
    r = ca(paddock, home, "path")
    assert r.rc == 0, r.err
    assert r.out == os.path.join(home, "proxy", "ca.pem") + "\n"
    assert not os.path.exists(os.path.join(home, "proxy"))


def test_show_without_a_ca_says_how_to_get_one(paddock, home):
    r = ca(paddock, home, "show")
    assert r.rc == 1
    assert "no CA in" in r.err and "paddock ca rotate" in r.err


def test_rotate_creates_then_show_describes(paddock, home):
    r = ca(paddock, home, "rotate")
    assert r.rc == 0, r.err
    d = os.path.join(home, "proxy")
    assert stat.S_IMODE(os.stat(os.path.join(d, "ca.key")).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.join(d, "ca.pem")).st_mode) == 0o644
    r = ca(paddock, home, "show", "--json")
    assert r.rc == 0, r.err
    info = json.loads(r.out)
    assert info["subject"].endswith("CN=paddock interception CA")
    assert info["cert"] == os.path.join(d, "ca.pem")
    assert info["system_store"]["trusted"] is False
    # The fingerprint is the certificate's, as openssl computes it.
    fp = subprocess.run(["openssl", "x509", "-noout", "-fingerprint",
                         "-sha256", "-in", info["cert"]],
                        capture_output=True, text=True, check=True).stdout
    assert fp.strip().split("=", 1)[1] == info["sha256_fingerprint"]
    text = ca(paddock, home, "show")
    assert "fingerprint: SHA256 " + info["sha256_fingerprint"] in text.out


def test_rotate_keeps_the_old_pair(paddock, home):
    assert ca(paddock, home, "rotate").rc == 0
    first = json.loads(ca(paddock, home, "show", "--json").out)
    assert ca(paddock, home, "rotate").rc == 0
    second = json.loads(ca(paddock, home, "show", "--json").out)
    assert first["sha256_fingerprint"] != second["sha256_fingerprint"]
    kept = sorted(os.listdir(os.path.join(home, "proxy")))
    assert len(kept) == 4, kept
    suffixes = {n.split(".", 2)[2] for n in kept if n.count(".") == 2}
    assert len(suffixes) == 1


def test_lone_file_and_open_key_are_refused_by_name(paddock, home):
    assert ca(paddock, home, "rotate").rc == 0
    key = os.path.join(home, "proxy", "ca.key")
    os.chmod(key, 0o644)
    r = ca(paddock, home, "show")
    assert r.rc == 1
    assert key in r.err and "mode=644; expected <= 600" in r.err
    os.unlink(key)
    r = ca(paddock, home, "show")
    assert r.rc == 1
    assert "both managed CA files must exist" in r.err
    # rotate does not paper over a half-missing pair either.
    r = ca(paddock, home, "rotate")
    assert r.rc == 1 and "both managed CA files must exist" in r.err


def test_usage_errors(paddock, home):
    assert ca(paddock, home, "path", "--json").rc == 2
    r = paddock("ca")
    assert r.rc == 2
    r = paddock("ca", "show", "--help")
    assert r.rc == 0 and "Usage: paddock ca show" in r.out
