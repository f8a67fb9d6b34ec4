"""`wangge dashboard rebuild | refresh`."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.world import grid_codes
from wangge.dashboard.models import EventFact
from wangge.events.tests.factories import history, local

pytestmark = pytest.mark.django_db


def run(*args: str) -> dict:
    out = StringIO()
    call_command("dashboard", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_rebuild_then_refresh() -> None:
    history(grid_codes(), n=50, start=local(2026, 5, 1), days=10)
    EventFact.objects.dangerously_unscoped().delete()
    result = run("rebuild")
    assert result["days"] >= 10 and result["rows"] > 0 and result["figures"] > 0
    rows = EventFact.objects.dangerously_unscoped().count()
    assert rows > 0
    run("rebuild", "--since", "2026-05-03", "--until", "2026-05-04")
    assert EventFact.objects.dangerously_unscoped().count() == rows
    assert run("refresh")["days"] == 0  # nothing changed since the rebuild


def test_bad_dates_are_a_clear_error() -> None:
    with pytest.raises(CommandError, match=r"2026-13-01 .*2024-04-19"):
        call_command("dashboard", "rebuild", "--since", "2026-13-01")
    with pytest.raises(CommandError):
        call_command("dashboard", "rebuild", "--since", "2026-05-04", "--until", "2026-05-01")
