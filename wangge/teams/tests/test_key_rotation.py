from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from wangge.core import crypto

pytestmark = pytest.mark.django_db


@pytest.fixture
def empty_keys(tmp_path: Path, settings: Any) -> Iterator[Path]:
    settings.KEY_FILE = str(tmp_path / "new-keys.json")
    crypto._ring.clear()
    yield tmp_path / "new-keys.json"
    crypto._ring.clear()


def _raw_phones() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM teams_staffmember WHERE phone <> '' ORDER BY id LIMIT 50")
        return [r[0] for r in cursor.fetchall()]


def test_rotation_to_the_sm_profile_re_encrypts_every_row(
    fresh_keys: Path, system: Any, capsys: Any
) -> None:
    from wangge.teams import selectors
    from wangge.teams.models import StaffMember
    from wangge.teams.tests.factories import StaffFactory

    staff = StaffFactory.create(name="轮换", id_number="11010519491231002X", phone="13800138000")
    before = _raw_phones()
    assert all(v.startswith("v1.k1.") for v in before)

    call_command("keys", "rotate", "--profile", "sm", "--batch", "7")

    doc = json.loads(fresh_keys.read_text())
    assert doc["active"] == "k2" and doc["keys"]["k2"]["algorithm"] == "SM4-GCM"
    after = _raw_phones()
    assert all(v.startswith("v1.k2.") for v in after) and after != before
    assert StaffMember.objects.dangerously_unscoped().get(pk=staff.pk).phone == "13800138000"
    # The blind index did not change, so search still works.
    assert list(selectors.staff_list(actor=system, q="11010519491231002X")) == [staff]
    assert crypto.keys_in_use() == {"k2"}
    call_command("keys", "retire", "k1")
    assert "k1" not in json.loads(fresh_keys.read_text())["keys"]


def test_an_unused_key_only_can_be_retired(fresh_keys: Path, system: Any) -> None:
    from django.core.management.base import CommandError

    from wangge.teams.tests.factories import StaffFactory

    StaffFactory.create(name="在用", phone="13800138000")
    crypto.key_add()
    with pytest.raises(CommandError):
        call_command("keys", "retire", "k1")


def test_sm_profile_round_trip(empty_keys: Path, settings: Any) -> None:
    settings.CRYPTO_PROFILE = "sm"
    ring = crypto.keyring()
    assert ring.keys[ring.active].algorithm == "SM4-GCM" and ring.mac_algorithm == "HMAC-SM3"
    token = ring.encrypt("44070419900101123X", context="x.id")
    assert ring.decrypt(token, context="x.id") == "44070419900101123X"
    assert len(ring.blind_index("a", context="c")) == 64
