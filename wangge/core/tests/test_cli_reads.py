"""The token and audit commands read through core's selectors (as the system)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from wangge.core.audit import audit_record
from wangge.core.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_token_list_shows_one_users_tokens(system: Any, capsys: Any) -> None:
    UserFactory.create(username="bob")
    UserFactory.create(username="carol")
    call_command("token", "create", "bob", "--name", "bobs")
    call_command("token", "create", "carol", "--name", "carols")
    bobs = capsys.readouterr().out.split()[0]

    call_command("token", "list", "bob")

    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[:3] for line in lines] == [[bobs[:10] + "…", "bob", "bobs"]]


def test_no_token_for_a_missing_or_inactive_user(capsys: Any) -> None:
    UserFactory.create(username="gone", is_active=False)
    for name in ("gone", "nobody-here"):
        with pytest.raises(CommandError) as info:
            call_command("token", "create", name)
        assert name in str(info.value)


def test_audit_tail_prints_the_latest_entries_oldest_first(system: Any, capsys: Any) -> None:
    first = audit_record(actor=system, action="test.tail.one")
    second = audit_record(actor=system, action="test.tail.two")

    call_command("audit", "tail", "-n", "2")

    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == [f"#{first.seq}", f"#{second.seq}"]
    assert "test.tail.two" in lines[1]
