"""Settings from the environment, failing loudly on bad values (after Healthchecks' settings)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(RuntimeError):
    """A setting from the environment has a value we cannot use."""


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use true/false)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def data_dir() -> Path:
    """The data directory, made private (0700): it holds the database, keys and uploads."""
    path = Path(env_str("WANGGE_DATA_DIR", "var")).resolve()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"WANGGE_DATA_DIR={path} exists and is not a directory")
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def secret_key(directory: Path) -> str:
    """WANGGE_SECRET_KEY, or a key generated once into the data dir (mode 0600)."""
    given = os.environ.get("WANGGE_SECRET_KEY")
    if given:
        if len(given) < 32:
            raise ConfigError("WANGGE_SECRET_KEY must be at least 32 characters")
        return given
    key_file = directory / "secret_key"
    if not key_file.exists():
        import secrets

        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    key = key_file.read_text().strip()
    if len(key) < 32:
        raise ConfigError(f"{key_file} holds a key shorter than 32 characters")
    return key


def csp_source(name: str, url: str) -> str:
    """The Content-Security-Policy source that lets pages load from `url`'s server: for an
    intranet tile server such as http://{s}.tiles.intranet/{z}/{x}/{y}.png it is
    http://*.tiles.intranet. Empty for no URL or a path on this site ('self' covers it)."""
    if not url or (url.startswith("/") and not url.startswith("//")):
        return ""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(f"{name}={url!r} must start with http:// or https://, or be a path")
    host = parts.netloc
    if host.startswith("{s}."):  # Leaflet's subdomain placeholder
        host = "*." + host[len("{s}.") :]
    if any(c in host for c in "{}@;,'\" \t"):
        raise ConfigError(f"{name}={url!r}: only a leading {{s}}. may vary in the host")
    return f"{parts.scheme}://{host}"
