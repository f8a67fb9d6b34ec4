"""Encryption of personal data at rest, and keyed blind indexes for exact lookup.

Keys live in a key file outside the database (`WANGGE_KEY_FILE`, default
`$WANGGE_DATA_DIR/keys/personal-data.json`, mode 0600), generated on first use. The file holds
numbered data keys; the active one encrypts, any listed one decrypts, so keys can be rotated
and rows re-encrypted in batches. A separate MAC key makes blind indexes: HMAC-SHA256 of the
normalised value, so "find this ID number" is an indexed equality without storing the number.

Ciphertext format: ``v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`` with AES-256-GCM and the
field's name as associated data, so a value copied into another column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import models

from wangge.env import ConfigError

PREFIX = "v1"


@dataclass(frozen=True)
class KeyRing:
    active: str
    keys: dict[str, bytes]
    mac_key: bytes

    def encrypt(self, plaintext: str, *, context: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self.keys[self.active]).encrypt(nonce, plaintext.encode(), context.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{PREFIX}.{self.active}.{body}"

    def decrypt(self, token: str, *, context: str) -> str:
        try:
            version, key_id, body = token.split(".", 2)
        except ValueError:
            raise ValueError("not a wangge ciphertext") from None
        if version != PREFIX or key_id not in self.keys:
            raise ValueError(f"unknown key {key_id!r}")
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return AESGCM(self.keys[key_id]).decrypt(raw[:12], raw[12:], context.encode()).decode()

    def blind_index(self, normalised: str, *, context: str) -> str:
        message = context.encode() + b"\x00" + normalised.encode()
        return hmac.new(self.mac_key, message, hashlib.sha256).hexdigest()


def key_file_path() -> Path:
    configured = getattr(settings, "KEY_FILE", "")
    return (
        Path(configured) if configured else Path(settings.DATA_DIR) / "keys" / "personal-data.json"
    )


def _generate(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    doc = {
        "version": 1,
        "algorithm": "AES-256-GCM",
        "active": "k1",
        "keys": {"k1": base64.b64encode(secrets.token_bytes(32)).decode()},
        "mac_key": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(doc, handle, indent=2)


def _load(path: Path) -> KeyRing:
    try:
        doc = json.loads(path.read_text())
        keys = {k: base64.b64decode(v) for k, v in doc["keys"].items()}
        ring = KeyRing(active=doc["active"], keys=keys, mac_key=base64.b64decode(doc["mac_key"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"key file {path} cannot be used: {exc}") from None
    if ring.active not in keys or any(len(k) != 32 for k in keys.values()):
        raise ConfigError(f"key file {path}: the active key is missing or a key is not 256-bit")
    return ring


_lock = threading.Lock()
_ring: dict[str, KeyRing] = {}


def keyring() -> KeyRing:
    """The key ring, loaded once per process (generated on first use)."""
    path = key_file_path()
    cached = _ring.get(str(path))
    if cached is not None:
        return cached
    with _lock:
        if str(path) not in _ring:
            if not path.exists():
                _generate(path)
            _ring[str(path)] = _load(path)
        return _ring[str(path)]


def blind_index(value: str, *, context: str) -> str:
    return keyring().blind_index(value, context=context)


class EncryptedField(models.TextField):
    """A text column stored encrypted; the model attribute holds the plaintext (or "").

    The associated data is `<app_label>.<model>.<field>`, fixed when the field is attached.
    Lookups other than isnull cannot work on ciphertext: search through a blind index column.
    """

    context = ""

    def contribute_to_class(self, cls: Any, name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        self.context = f"{cls._meta.app_label}.{cls._meta.model_name}.{name}"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str:
        if not value:
            return ""
        return keyring().decrypt(value, context=self.context)

    def get_prep_value(self, value: Any) -> Any:
        if value is None or value == "":
            return ""
        return keyring().encrypt(str(value), context=self.context)
