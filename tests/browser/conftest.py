"""Real-browser tests: the demo district served by `wangge serve` (gunicorn) in a subprocess,
driven by headless Chromium (Debian's /usr/bin/chromium) through Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("WANGGE_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "browser-test-password-2026"
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of the served demo district: `wangge` commands run with it change the
    data the server shows (imports, as an administrator would run them)."""
    data_dir = tmp_path_factory.mktemp("demo")
    env = {
        **os.environ,
        "WANGGE_DATA_DIR": str(data_dir),
        "WANGGE_DEMO_PASSWORD": PASSWORD,
        "WANGGE_DEMO": "true",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("WANGGE_DATABASE_URL", None)
    subprocess.run([BIN / "wangge", "demo", "--build-only"], env=env, check=True, timeout=300)
    return env


def wangge(env: dict[str, str], *args: str) -> str:
    """Run a `wangge` command against the served district; its output, or the test fails."""
    done = subprocess.run(
        [BIN / "wangge", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="session")
def live_demo(demo_env: dict[str, str]) -> Iterator[str]:
    env = demo_env
    port = _free_port()
    server = subprocess.Popen(
        [BIN / "wangge", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--with-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(
                    server.stderr.read().decode() if server.stderr else "serve died"
                ) from None
            time.sleep(0.3)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=20)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    # Officers start on the command centre, grid roles and auditors on the start page.
    page.wait_for_url(lambda url: url in (f"{base}/", f"{base}/dashboard/"))
