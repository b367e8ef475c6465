"""Real tools behind the proxy: git over smart HTTP (from a local
git http-backend) and pip downloading from a local package index."""
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import PYTHON, loopback_config, start_origin


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if "proxy" not in k.lower()}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def git_origin():
    root = tempfile.mkdtemp(prefix="paddock-git-")
    work = os.path.join(root, "work")
    env = clean_env(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
                    GIT_COMMITTER_NAME="t",
                    GIT_COMMITTER_EMAIL="t@example.com", HOME=root)

    def git(*argv, cwd=work):
        subprocess.run(["git", *argv], cwd=cwd, env=env, check=True,
                       capture_output=True)
    os.makedirs(work)
    git("init", "-q", "-b", "main")
    for i in range(20):
        with open(os.path.join(work, f"file{i}.txt"), "w") as f:
            f.write(f"content {i}\n" * 2000)
    with open(os.path.join(work, "big.bin"), "wb") as f:
        f.write(os.urandom(3 << 20))
    git("add", ".")
    git("commit", "-q", "-m", "first")
    git("clone", "-q", "--bare", work, os.path.join(root, "repo.git"),
        cwd=root)
    d = start_origin(git_root=root)
    d.root = root
    d.env = env
    yield d
    d.stop()
    shutil.rmtree(root, ignore_errors=True)


def test_git_clone_over_smart_http(start_proxy, git_origin, workdir):
    p = start_proxy(loopback_config())
    dest = os.path.join(workdir, "clone")
    r = subprocess.run(
        ["git", "-c", f"http.proxy={p.url}", "clone", "-q",
         f"http://127.0.0.1:{git_origin.port}/git/repo.git", dest],
        env=git_origin.env, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    with open(os.path.join(dest, "file7.txt")) as f:
        assert f.read() == "content 7\n" * 2000
    assert os.path.getsize(os.path.join(dest, "big.bin")) == 3 << 20
    p.wait_closed(1)
    assert p.count(rf'"target":"127.0.0.1:{git_origin.port}"') >= 1


def test_git_clone_of_a_denied_host_says_why(start_proxy, workdir):
    p = start_proxy(loopback_config())
    r = subprocess.run(
        ["git", "-c", f"http.proxy={p.url}", "clone", "-q",
         "http://denied.test/repo.git", os.path.join(workdir, "no")],
        env=clean_env(HOME=workdir), capture_output=True, timeout=60)
    assert r.returncode != 0
    assert b"403" in r.stderr


@pytest.fixture(scope="module")
def pip_index():
    """A PEP 503 simple index with one pure-Python wheel."""
    root = tempfile.mkdtemp(prefix="paddock-pip-")
    src = os.path.join(root, "src")
    os.makedirs(os.path.join(src, "paddocktestpkg"))
    with open(os.path.join(src, "paddocktestpkg", "__init__.py"), "w") as f:
        f.write("VALUE = 42\n")
    with open(os.path.join(src, "setup.py"), "w") as f:
        f.write("from setuptools import setup\n"
                "setup(name='paddocktestpkg', version='1.0',"
                " packages=['paddocktestpkg'])\n")
    r = subprocess.run([PYTHON, "setup.py", "-q", "bdist_wheel", "-d",
                        os.path.join(root, "dist")], cwd=src,
                       capture_output=True)
    # tools/install-deps installs python3-wheel: a failure here is real.
    assert r.returncode == 0, r.stderr.decode()[-500:]
    wheel = os.listdir(os.path.join(root, "dist"))[0]
    index = os.path.join(root, "www", "simple", "paddocktestpkg")
    os.makedirs(index)
    shutil.copy(os.path.join(root, "dist", wheel), index)
    with open(os.path.join(index, "index.html"), "w") as f:
        f.write(f'<a href="{wheel}">{wheel}</a>\n')
    srv = subprocess.Popen(
        [PYTHON, "-u", "-c",
         "import http.server, functools, sys\n"
         "h = functools.partial(http.server.SimpleHTTPRequestHandler,"
         " directory=sys.argv[1])\n"
         "s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), h)\n"
         "print('index:', s.server_address[1], flush=True)\n"
         "s.serve_forever()\n", os.path.join(root, "www")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    port = int(srv.stdout.readline().split()[1])
    yield port, root
    srv.kill()
    srv.wait()
    shutil.rmtree(root, ignore_errors=True)


def test_pip_download_through_the_proxy(start_proxy, pip_index, workdir):
    port, _ = pip_index
    p = start_proxy(loopback_config())
    r = subprocess.run(
        [PYTHON, "-m", "pip", "download", "--no-deps", "--no-cache-dir",
         "--disable-pip-version-check", "-d", workdir, "--proxy", p.url,
         "--index-url", f"http://127.0.0.1:{port}/simple/",
         "--trusted-host", "127.0.0.1", "paddocktestpkg"],
        env=clean_env(HOME=workdir), capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    assert any(f.startswith("paddocktestpkg-1.0") for f in
               os.listdir(workdir))
    p.wait_closed(1)
    assert p.count(rf'"target":"127.0.0.1:{port}"') >= 1
