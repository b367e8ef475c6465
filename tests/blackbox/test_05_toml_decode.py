"""build/toml-decode: toml-test's decoder interface over the TOML parser."""
import json
import subprocess

import pytest

from conftest import binary


@pytest.fixture
def decode():
    """Run toml-decode with arguments and stdin; returns rc, out and err."""
    exe = binary("toml-decode")

    def run(*args, input=b""):
        return subprocess.run([exe, *args], input=input, capture_output=True,
                              timeout=60)
    return run


def test_help_exits_zero(decode):
    r = decode("--help")
    assert r.returncode == 0
    assert r.stdout.startswith(b"Usage: toml-decode")
    assert b"--toml" in r.stdout


def test_bad_option_is_a_usage_error(decode):
    r = decode("--toml", "2.0")
    assert r.returncode == 2
    assert b"Usage: toml-decode" in r.stderr


def test_valid_input_becomes_tagged_json(decode):
    r = decode(input=b'a = 1\n[t]\nb = [1.5, "x", 1979-05-27]\n')
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {
        "a": {"type": "integer", "value": "1"},
        "t": {"b": [{"type": "float", "value": "1.5"},
                    {"type": "string", "value": "x"},
                    {"type": "date-local", "value": "1979-05-27"}]},
    }


def test_invalid_input_reports_line_and_column(decode):
    r = decode(input=b"a = 1\nmode\n")
    assert r.returncode == 1
    assert r.stdout == b""
    assert r.stderr == b"2:5: expected '=' after key \"mode\", found newline\n"


def test_version_switch_applies(decode):
    doc = b"t = 07:32\n"
    assert decode("--toml", "1.1", input=doc).returncode == 0
    r = decode("--toml", "1.0", input=doc)
    assert r.returncode == 1
    assert b"seconds are required in TOML 1.0" in r.stderr


def test_oversized_input_is_refused(decode):
    r = decode(input=b"#" * (16 * 1024 * 1024 + 1))
    assert r.returncode == 1
    assert r.stderr == b"toml-decode: the input is more than the limit of " \
        b"16777216 bytes\n"
