"""Shared test fixtures. The common world is the small test district of `tests/world.py`, built
by the modules' factories once per test session; each test runs in a rolled-back transaction.
End-to-end tests of the demo district itself (marker `demo`) run in their own session with
`WANGGE_TEST_WORLD=demo`, which builds the whole demo instead (`make test` runs both)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from wangge.core import crypto
from wangge.core.models import User
from wangge.core.scope import Scope
from wangge.core.services import token_create

DEMO_WORLD = os.environ.get("WANGGE_TEST_WORLD") == "demo"

# Directories every test of which carries one marker. A session whose `-m` leaves that marker
# out does not even import them: collecting the fuzz tests alone builds a hypothesis strategy
# for every API operation (seconds per process, and every xdist worker collects).
MARKED_DIRS = {
    Path(__file__).parent / "tests" / "fuzz": "fuzz",
    Path(__file__).parent / "tests" / "browser": "browser",
    Path(__file__).parent / "tests" / "packaging": "wheel",
}


def _selects(config: Any, marker: str) -> bool:
    """Whether the session's `-m` expression keeps a test carrying only `marker`."""
    from _pytest.mark.expression import Expression

    expression = config.getoption("markexpr")
    return not expression or Expression.compile(expression).evaluate(
        lambda name, **_kwargs: name == marker
    )


def pytest_ignore_collect(collection_path: Path, config: Any) -> bool | None:
    marker = MARKED_DIRS.get(collection_path)
    if marker is not None and not _selects(config, marker):
        return True
    return None


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """The demo's end-to-end tests need the demo world, the others the small one: each session
    runs the tests of its own world only."""
    for item in items:
        for directory, marker in MARKED_DIRS.items():
            if item.path.is_relative_to(directory) and item.get_closest_marker(marker) is None:
                raise pytest.UsageError(f"{item.nodeid} must carry the {marker} marker")
    keep, drop = [], []
    for item in items:
        (keep if (item.get_closest_marker("demo") is not None) == DEMO_WORLD else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        if DEMO_WORLD:
            from wangge.demo import builder

            builder.build()
        else:
            from tests import world

            world.build()


@pytest.fixture
def fresh_keys(tmp_path: Path, settings: Any) -> Iterator[Path]:
    """A copy of the session's key file: rotating it leaves the session's keys alone, and the
    database changes roll back with the test."""
    import shutil

    source = crypto.key_file_path()
    crypto.keyring()
    copy = tmp_path / "keys.json"
    shutil.copy(source, copy)
    settings.KEY_FILE = str(copy)
    crypto._ring.clear()
    yield copy
    crypto._ring.clear()


@pytest.fixture(autouse=True)
def _audit_checkpoints_per_test(tmp_path: Path, settings: Any) -> None:
    """Audit checkpoints are a file, which does not roll back with the test's transaction:
    each test writes its own, so one test's checkpoint never describes another's log."""
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "audit" / "checkpoints.jsonl")


@pytest.fixture
def system() -> Scope:
    return Scope.system("test")


@pytest.fixture
def user(db: Any) -> Callable[[str], User]:
    def get(username: str) -> User:
        return User.objects.get(username=username)

    return get


@pytest.fixture
def client_as(db: Any) -> Callable[[str | None], Client]:
    """A browser-like client logged in as a demo user (None = anonymous)."""

    def make(username: str | None) -> Client:
        client = Client()
        if username:
            client.force_login(User.objects.get(username=username))
        return client

    return make


@pytest.fixture
def api_as(db: Any, system: Scope) -> Callable[[str | None], Client]:
    """An API client sending `Authorization: Bearer …` for a demo user (None = no token)."""

    def make(username: str | None) -> Client:
        if username is None:
            return Client()
        _token, plain = token_create(
            actor=system, user=User.objects.get(username=username), name="test"
        )
        return Client(headers={"Authorization": f"Bearer {plain}"})

    return make
