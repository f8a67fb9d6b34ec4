from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag

from wangge.core.crypto import keyring


def test_round_trip_and_randomised() -> None:
    ring = keyring()
    a = ring.encrypt("13800138000", context="t.phone")
    b = ring.encrypt("13800138000", context="t.phone")
    assert a != b and a.startswith("v1.")
    assert ring.decrypt(a, context="t.phone") == "13800138000"


def test_ciphertext_is_bound_to_its_field() -> None:
    ring = keyring()
    token = ring.encrypt("secret", context="t.phone")
    with pytest.raises(InvalidTag):
        ring.decrypt(token, context="t.id_number")


def test_blind_index_is_keyed_and_deterministic() -> None:
    ring = keyring()
    assert ring.blind_index("x", context="c") == ring.blind_index("x", context="c")
    assert ring.blind_index("x", context="c") != ring.blind_index("x", context="d")
    import hashlib

    assert ring.blind_index("x", context="c") != hashlib.sha256(b"c\x00x").hexdigest()


def test_key_file_is_private(settings: object) -> None:
    from wangge.core.crypto import key_file_path

    keyring()
    assert key_file_path().stat().st_mode & 0o777 == 0o600
