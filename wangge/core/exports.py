"""Short-lived files for one user (import error files): encrypted at rest, since they hold the
rejected rows' personal data, and removed after a day."""

from __future__ import annotations

import base64
import secrets
import time
from pathlib import Path

from django.conf import settings

from wangge.core.crypto import keyring

KEEP_HOURS = 24


def directory() -> Path:
    """Where the files are kept (a file store of backups, core.backup)."""
    path = Path(settings.DATA_DIR) / "exports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def store(data: bytes) -> str:
    """Keep `data`; returns a token to fetch it with (put it in the uploader's session)."""
    folder = directory()
    for old in folder.glob("*.enc"):
        if time.time() - old.stat().st_mtime > KEEP_HOURS * 3600:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(16)
    sealed = keyring().encrypt(base64.b64encode(data).decode(), context=f"export:{token}")
    (folder / f"{token}.enc").write_text(sealed)
    return token


def load(token: str) -> bytes | None:
    if not token or not token.replace("-", "").replace("_", "").isalnum():
        return None
    path = directory() / f"{token}.enc"
    if not path.exists():
        return None
    return base64.b64decode(keyring().decrypt(path.read_text(), context=f"export:{token}"))


def discard(token: str) -> None:
    """Remove a kept file once it has served its one purpose (an upload stored as a batch)."""
    if token and token.replace("-", "").replace("_", "").isalnum():
        (directory() / f"{token}.enc").unlink(missing_ok=True)
