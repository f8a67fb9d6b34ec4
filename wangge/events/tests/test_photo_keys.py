"""Event photos are sealed with the personal-data key: rotation re-seals them and a key that
still seals a photo cannot be retired."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from wangge.core import crypto
from wangge.core.scope import Scope
from wangge.events import photos, services
from wangge.events.tests.conftest import tiny_png

pytestmark = pytest.mark.django_db

PNG = tiny_png()


def test_rotation_reseals_photos_and_retire_refuses_a_key_in_use(
    fresh_keys: Path, report: Any, system: Scope
) -> None:
    event = report()
    [photo] = services.photos_add(actor=system, event=event, files=[PNG], stage="report")
    old = crypto.keyring().active
    assert old in photos.keys_in_use()
    crypto.key_add()
    crypto._ring.clear()
    new = crypto.keyring().active
    assert new != old
    # Columns re-sealed but not the photo (as if photos were forgotten): the old key is still
    # in use because of the photo alone, so retiring it is refused.
    stores = dict(crypto._stores)
    crypto._stores.clear()
    try:
        crypto.reencrypt()
    finally:
        crypto._stores.update(stores)
    assert photos.keys_in_use() == {old}
    assert old in crypto.keys_in_use()
    with pytest.raises(CommandError):
        call_command("keys", "retire", old, stdout=io.StringIO())
    # The real rotation re-seals the photo too; then the old key is free.
    counts = crypto.reencrypt()
    assert counts["events.photos"] == 1
    assert crypto.keys_in_use() == {new}
    assert photos.read(photo) == PNG
