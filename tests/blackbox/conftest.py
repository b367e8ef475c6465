"""Shared fixtures for the black-box suite.

Tests run the built binaries (PADDOCK_BUILD, default build-test) as a user
would. Servers report readiness on a line; nothing here sleeps to wait.
Traffic goes to loopback only, or to hosts inside network namespaces the
test itself created.
"""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
BUILD = os.environ.get("PADDOCK_BUILD", os.path.join(ROOT, "build-test"))


def binary(name):
    path = os.path.join(BUILD, name)
    if not os.path.exists(path):
        pytest.fail(f"{path} is not built; run make test")
    return path


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr


@pytest.fixture
def paddock():
    """Run build/paddock with arguments; returns rc, out and err."""
    exe = binary("paddock")

    def run(*args, input=None, env=None, cwd=None, timeout=60):
        proc = subprocess.run([exe, *args], input=input, env=env, cwd=cwd,
                              capture_output=True, text=True, timeout=timeout)
        return Result(proc)
    return run
