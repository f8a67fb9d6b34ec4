"""Encryption of personal data at rest, and keyed blind indexes for exact lookup.

Keys live in a key file outside the database (`WANGGE_KEY_FILE`, default
`$WANGGE_DATA_DIR/keys/personal-data.json`, mode 0600), generated on first use. The file holds
numbered data keys, each with its algorithm; the active one encrypts, any listed one decrypts,
so keys (and the algorithm) can be rotated and rows re-encrypted in batches
(`wangge keys rotate`). A separate MAC key makes blind indexes: a keyed hash of the normalised
value, so "find this ID number" is an indexed equality without storing the number.

Two profiles (`WANGGE_CRYPTO_PROFILE`, used when a key is made):
- `aes` (default): AES-256-GCM, blind index HMAC-SHA256;
- `sm`: SM4-GCM and HMAC-SM3 (GB/T 39786 national algorithms), for deployments assessed on them.

Ciphertext: ``v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>``; the field's name is the
associated data, so a value copied into another column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import models

from wangge.env import ConfigError

PREFIX = "v1"
AES = "AES-256-GCM"
SM4 = "SM4-GCM"
PROFILES = {"aes": (AES, "HMAC-SHA256"), "sm": (SM4, "HMAC-SM3")}
KEY_BYTES = {AES: 32, SM4: 16}


def _sm4_seal(key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    body = encryptor.update(data) + encryptor.finalize()
    return body + encryptor.tag


def _sm4_open(key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, sealed[-16:])).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(sealed[:-16]) + decryptor.finalize()


@dataclass(frozen=True)
class DataKey:
    key_id: str
    algorithm: str
    secret: bytes
    _seal: Callable[[bytes, bytes, bytes], bytes] = field(repr=False, compare=False)
    _open: Callable[[bytes, bytes, bytes], bytes] = field(repr=False, compare=False)

    @classmethod
    def make(cls, key_id: str, algorithm: str, secret: bytes) -> DataKey:
        if KEY_BYTES.get(algorithm) != len(secret):
            raise ConfigError(
                f"key {key_id}: {algorithm} needs a {KEY_BYTES.get(algorithm)}-byte key"
            )
        if algorithm == AES:
            aead = AESGCM(secret)
            return cls(key_id, algorithm, secret, aead.encrypt, aead.decrypt)
        return cls(
            key_id,
            algorithm,
            secret,
            lambda n, d, a: _sm4_seal(secret, n, d, a),
            lambda n, d, a: _sm4_open(secret, n, d, a),
        )


@dataclass(frozen=True)
class KeyRing:
    active: str
    keys: dict[str, DataKey]
    mac_key: bytes
    mac_algorithm: str = "HMAC-SHA256"
    _keyed_sha256: Any = field(default=None, repr=False, compare=False)

    def encrypt(self, plaintext: str, *, context: str) -> str:
        key = self.keys[self.active]
        nonce = secrets.token_bytes(12)
        sealed = key._seal(nonce, plaintext.encode(), context.encode())
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
        return self.keys[key_id]._open(raw[:12], raw[12:], context.encode()).decode()

    def key_of(self, token: str) -> str:
        return token.split(".", 2)[1] if token.count(".") >= 2 else ""

    def blind_index(self, normalised: str, *, context: str) -> str:
        message = context.encode() + b"\x00" + normalised.encode()
        if self.mac_algorithm == "HMAC-SM3":
            mac = crypto_hmac.HMAC(self.mac_key, hashes.SM3())
            mac.update(message)
            return mac.finalize().hex()
        keyed = self._keyed_sha256
        if keyed is None:
            keyed = hmac.new(self.mac_key, digestmod=hashlib.sha256)
            object.__setattr__(self, "_keyed_sha256", keyed)
        # Copying a keyed HMAC skips the key schedule: the import hot path makes millions.
        mac = keyed.copy()
        mac.update(message)
        return mac.hexdigest()


def key_file_path() -> Path:
    configured = getattr(settings, "KEY_FILE", "")
    return (
        Path(configured) if configured else Path(settings.DATA_DIR) / "keys" / "personal-data.json"
    )


def _profile() -> tuple[str, str]:
    name = getattr(settings, "CRYPTO_PROFILE", "aes")
    if name not in PROFILES:
        raise ConfigError(f"WANGGE_CRYPTO_PROFILE={name!r}: use aes or sm")
    return PROFILES[name]


def _new_key_doc(algorithm: str) -> dict[str, str]:
    return {
        "algorithm": algorithm,
        "key": base64.b64encode(secrets.token_bytes(KEY_BYTES[algorithm])).decode(),
    }


def write_key_file(path: Path, doc: dict[str, Any], *, create: bool) -> None:
    """Write a key file readable by its owner only (directory 0700): `create` refuses to
    overwrite one (two processes making the first key), otherwise replace it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if create:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    else:
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(doc, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    if not create:
        os.replace(path.with_suffix(".tmp"), path)


def _generate(path: Path) -> None:
    algorithm, mac_algorithm = _profile()
    doc = {
        "version": 2,
        "active": "k1",
        "keys": {"k1": _new_key_doc(algorithm)},
        "mac_algorithm": mac_algorithm,
        "mac_key": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    write_key_file(path, doc, create=True)


def _load(path: Path) -> KeyRing:
    try:
        doc = json.loads(path.read_text())
        keys = {
            k: DataKey.make(k, v["algorithm"], base64.b64decode(v["key"]))
            for k, v in doc["keys"].items()
        }
        ring = KeyRing(
            active=doc["active"],
            keys=keys,
            mac_key=base64.b64decode(doc["mac_key"]),
            mac_algorithm=doc.get("mac_algorithm", "HMAC-SHA256"),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"key file {path} cannot be used: {exc}") from None
    if ring.active not in keys:
        raise ConfigError(f"key file {path}: the active key {ring.active} is missing")
    return ring


_lock = threading.Lock()
_ring: dict[str, KeyRing] = {}


_paths: dict[tuple[str, str], str] = {}


def keyring() -> KeyRing:
    """The key ring, loaded once per process (generated on first use). Every encrypt and
    decrypt asks for it: the key file's path is memoised by the settings it comes from (path
    arithmetic was a fifth of decrypting a task package)."""
    where = (str(getattr(settings, "KEY_FILE", "")), str(settings.DATA_DIR))
    name = _paths.get(where)
    if name is None:
        name = _paths[where] = str(key_file_path())
    cached = _ring.get(name)
    if cached is not None:
        return cached
    path = Path(name)
    with _lock:
        if str(path) not in _ring:
            if not path.exists():
                _generate(path)
            _ring[str(path)] = _load(path)
        return _ring[str(path)]


def key_add(*, profile: str | None = None) -> str:
    """Add a data key (of `profile`, default the configured one) and make it active.
    Old keys stay so existing rows decrypt until `reencrypt` has moved them."""
    path = key_file_path()
    keyring()
    doc = json.loads(path.read_text())
    algorithm = PROFILES[profile][0] if profile else _profile()[0]
    number = 1 + max(int(k[1:]) for k in doc["keys"] if k[1:].isdigit())
    key_id = f"k{number}"
    doc["keys"][key_id] = _new_key_doc(algorithm)
    doc["active"] = key_id
    write_key_file(path, doc, create=False)
    with _lock:
        _ring.pop(str(path), None)
    return key_id


def key_retire(key_id: str) -> None:
    """Remove a key that no row uses any more (the caller checked)."""
    path = key_file_path()
    doc = json.loads(path.read_text())
    if key_id == doc["active"]:
        raise ConfigError("the active key cannot be removed")
    doc["keys"].pop(key_id, None)
    write_key_file(path, doc, create=False)
    with _lock:
        _ring.pop(str(path), None)


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


def encrypted_fields() -> list[tuple[type[models.Model], list[EncryptedField]]]:
    """Every model with encrypted columns (for key rotation)."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        fields = [f for f in model._meta.get_fields() if isinstance(f, EncryptedField)]
        if fields:
            found.append((model, fields))
    return found


# Sealed data outside EncryptedField columns (event photos on disk…): modules register how to
# list the keys they use and how to re-seal under the active key, so rotation and retirement
# cover them too (a retired key must never strand a file).
_stores: dict[str, tuple[Callable[[], set[str]], Callable[[], int]]] = {}


def register_sealed_store(
    label: str, *, keys_used: Callable[[], set[str]], reencrypt: Callable[[], int]
) -> None:
    _stores[label] = (keys_used, reencrypt)


def reencrypt(
    *, batch: int = 1000, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Re-encrypt every encrypted column under the active key, in primary-key batches, each
    batch in its own transaction (an interruption leaves whole batches; re-running is safe)."""
    from django.db import connection, transaction

    ring = keyring()
    counts: dict[str, int] = {}
    for model, fields in encrypted_fields():
        table = model._meta.db_table
        columns = [str(f.column) for f in fields]
        pk = str(model._meta.pk.column)
        quoted = connection.ops.quote_name
        last: Any = None
        done = 0
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                where = f"WHERE {quoted(pk)} > %s " if last is not None else ""
                cursor.execute(
                    f"SELECT {quoted(pk)}, {', '.join(quoted(c) for c in columns)} FROM "  # noqa: S608 - identifiers from model metadata
                    f"{quoted(table)} {where}ORDER BY {quoted(pk)} LIMIT %s",
                    [last, batch] if last is not None else [batch],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                updates = []
                for row in rows:
                    new_values = []
                    stale = False
                    for f, value in zip(fields, row[1:], strict=True):
                        if value and ring.key_of(value) != ring.active:
                            value = ring.encrypt(
                                ring.decrypt(value, context=f.context), context=f.context
                            )
                            stale = True
                        new_values.append(value)
                    if stale:
                        updates.append([*new_values, row[0]])
                if updates:
                    sets = ", ".join(f"{quoted(c)} = %s" for c in columns)
                    cursor.executemany(
                        f"UPDATE {quoted(table)} SET {sets} WHERE {quoted(pk)} = %s",  # noqa: S608 - identifiers from model metadata
                        updates,
                    )
                done += len(updates)
                last = rows[-1][0]
            if progress:
                progress(model._meta.label, done)
        counts[model._meta.label] = done
    for label, (_keys_used, reseal) in _stores.items():
        counts[label] = reseal()
        if progress:
            progress(label, counts[label])
    return counts


def ciphertext_samples_unscoped() -> list[tuple[str, str, str]]:
    """(column label, context, ciphertext) of the first non-empty value of every encrypted
    column: what `wangge check` and `wangge restore` decrypt to show the key file fits the data.
    Read raw (no decryption on load, and no key file made when there is none)."""
    from django.db import connection

    quoted = connection.ops.quote_name
    samples = []
    for model, fields in encrypted_fields():
        for f in fields:
            column, table = quoted(str(f.column)), quoted(model._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {column} FROM {table} WHERE {column} <> '' "  # noqa: S608 - model metadata
                    f"ORDER BY {quoted(str(model._meta.pk.column))} LIMIT 1"
                )
                row = cursor.fetchone()
            if row and row[0]:
                samples.append((f"{model._meta.label}.{f.name}", f.context, str(row[0])))
    return samples


def keys_in_use() -> set[str]:
    from django.db import connection

    ring = keyring()
    used: set[str] = set()
    quoted = connection.ops.quote_name
    for model, fields in encrypted_fields():
        for f in fields:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT DISTINCT substr({quoted(str(f.column))}, 1, 16) "  # noqa: S608 - model metadata
                    f"FROM {quoted(model._meta.db_table)}"
                )
                used |= {ring.key_of(v[0]) for v in cursor.fetchall() if v[0]}
    for keys_used, _reseal in _stores.values():
        used |= keys_used()
    return used - {""}
