"""The wheel (`make wheel`): built from a clean copy of the checkout (no node_modules, no
front-end files, no compiled translations), it carries the front-end files and the .mo files,
and installed into a fresh virtualenv it serves pages with no Node.js on PATH. Without Node.js
and without the files, the build refuses with a clear message. (Marker `wheel`: a minute or
so; `make test-wheel`, which CI runs.)"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"
REQUIRED = [
    line.strip()
    for line in (ROOT / "wangge/core/vendor_files.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]


def clean_copy(target: Path) -> Path:
    """The checkout's files as git sees them (tracked and new, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def build(source: Path, out: Path, path: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path}
    env.pop("UV_PROJECT_ENVIRONMENT", None)
    return subprocess.run(
        [str(UV), "build", "--wheel", "--python", sys.executable, "--out-dir", str(out)],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wheel")


@pytest.fixture(scope="module")
def wheel(work: Path) -> Path:
    source = clean_copy(work / "src")
    assert not (source / "wangge/static/vendor").exists()
    result = build(source, work / "dist", os.environ["PATH"])
    assert result.returncode == 0, result.stderr[-3000:]
    (built,) = (work / "dist").glob("wangge-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(work: Path, wheel: Path) -> Path:
    """A fresh virtualenv with the wheel and the locked runtime dependencies (no dev tools)."""
    env = {k: v for k, v in os.environ.items() if k != "UV_PROJECT_ENVIRONMENT"}
    target = work / "venv"
    requirements = work / "requirements.txt"
    export = ["export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "-q"]
    subprocess.run(
        [str(UV), *export, "-o", str(requirements)],
        cwd=ROOT,
        env=env,
        check=True,
    )
    subprocess.run([str(UV), "venv", "-q", "--python", sys.executable, str(target)], check=True)
    python = str(target / "bin/python")
    subprocess.run(
        [str(UV), "pip", "install", "-q", "--python", python, "-r", str(requirements), str(wheel)],
        env=env,
        check=True,
    )
    return target


def no_node_env(venv: Path, data: Path) -> dict[str, str]:
    """Only the virtualenv on PATH: no node, no npm, nothing of the checkout."""
    return {
        "PATH": str(venv / "bin"),
        "HOME": str(data),
        "WANGGE_DATA_DIR": str(data),
        "LANG": "C.UTF-8",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own server
        return response.status, response.read()


@pytest.fixture
def server(venv: Path, work: Path) -> Iterator[str]:
    data = work / "data"
    data.mkdir(exist_ok=True)
    env = no_node_env(venv, data)
    subprocess.run([str(venv / "bin/wangge"), "migrate", "-v0"], env=env, check=True, cwd=data)
    port = free_port()
    process = subprocess.Popen(
        [str(venv / "bin/wangge"), "serve", "--workers", "1", "--bind", f"127.0.0.1:{port}"],
        env=env,
        cwd=data,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            if process.poll() is not None:
                pytest.fail(f"wangge serve exited: {process.stdout.read().decode()[-3000:]}")
            try:
                get(base + "/accounts/login/")
                break
            except OSError:
                time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_without_node_and_without_the_files_the_build_refuses(work: Path) -> None:
    source = clean_copy(work / "src-no-node")
    empty = work / "empty-bin"
    empty.mkdir()

    result = build(source, work / "dist-no-node", str(empty))

    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "缺少前端文件" in output and "Node.js (npm) is not installed" in output
    assert "wangge/static/vendor/htmx/htmx.min.js" in output
    assert not list((work / "dist-no-node").glob("*.whl"))


def test_the_wheel_carries_the_front_end_files_and_the_translations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())

    assert {f"wangge/static/{name}" for name in REQUIRED} <= names
    assert "wangge/locale/zh_Hans/LC_MESSAGES/django.mo" in names
    assert "wangge/core/vendor_files.txt" in names
    assert "wangge/static/vendor/.copied" not in names


def test_the_installed_wheel_serves_pages_without_node(venv: Path, server: str) -> None:
    status, body = get(server + "/accounts/login/")
    assert status == 200
    page = body.decode()
    assert "登录" in page  # the compiled translations are there
    (htmx,) = re.findall(r'src="(/static/vendor/htmx/htmx\.min\.[0-9a-f]+\.js)"', page)

    status, script = get(server + htmx)

    assert status == 200
    assert script == (ROOT / "wangge/static/vendor/htmx/htmx.min.js").read_bytes()


def test_the_installed_wheel_refuses_to_serve_without_the_files(venv: Path, work: Path) -> None:
    # Last in this module: it breaks the installed package.
    (site,) = venv.glob("lib/python*/site-packages")
    shutil.rmtree(site / "wangge/static/vendor/leaflet")
    data = work / "data-broken"
    data.mkdir()
    env = no_node_env(venv, data)
    subprocess.run([str(venv / "bin/wangge"), "migrate", "-v0"], env=env, check=True, cwd=data)

    result = subprocess.run(
        [str(venv / "bin/wangge"), "serve", "--bind", f"127.0.0.1:{free_port()}"],
        env=env,
        cwd=data,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert "vendor/leaflet/LICENSE" in result.stderr
    assert "缺少前端文件" in result.stderr and "The front-end files are missing" in result.stderr
