"""A basemap from a file the district has, served by wangge itself: no online tiles.

A raster tile file placed in the data directory — `basemap.mbtiles` (MBTiles: SQLite, tiles
in TMS rows) or `basemap.pmtiles` (PMTiles v3, read with the `pmtiles` library) — or named by
`WANGGE_BASEMAP_FILE` is served at `/regions/tiles/{z}/{x}/{y}`, and the maps draw it under
the grids. `WANGGE_TILE_URL` (an intranet tile server) wins when both are set. Raster tiles
only (PNG, JPEG, WebP): vector tiles need a renderer the maps do not carry. docs/deployment.md
says how a district produces one from its own imagery.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
}
PMTILES_TYPES = {2: "png", 3: "jpg", 4: "webp"}  # pmtiles.tile.TileType


@dataclass(frozen=True)
class Basemap:
    path: Path
    kind: str  # "mbtiles" | "pmtiles"
    format: str  # png | jpg | webp
    min_zoom: int
    max_zoom: int
    stamp: tuple[float, int]  # mtime, size: a replaced file is read afresh


_lock = threading.Lock()
_cache: dict[str, Any] = {}


def basemap_path() -> Path | None:
    named = getattr(settings, "BASEMAP_FILE", "")
    if named:
        path = Path(named)
        return path if path.is_file() else None
    for name in ("basemap.mbtiles", "basemap.pmtiles"):
        path = Path(settings.DATA_DIR) / name
        if path.is_file():
            return path
    return None


def _mbtiles(path: Path) -> sqlite3.Connection:
    # Read-only, and immutable: a file replaced while serving is picked up by its new stamp.
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)


def _open(path: Path, stamp: tuple[float, int]) -> Basemap | None:
    if path.suffix.lower() == ".pmtiles":
        from pmtiles.reader import MmapSource, Reader

        handle = path.open("rb")
        reader = Reader(MmapSource(handle))
        header = reader.header()
        kind = header["tile_type"]
        fmt = PMTILES_TYPES.get(int(getattr(kind, "value", kind)))
        if fmt is None:
            log.warning("basemap %s holds vector tiles; only raster tiles are served", path)
            handle.close()
            return None
        _cache["reader"] = (reader, handle)
        return Basemap(
            path, "pmtiles", fmt, int(header["min_zoom"]), int(header["max_zoom"]), stamp
        )
    with _mbtiles(path) as db:
        meta = dict(db.execute("SELECT name, value FROM metadata").fetchall())
        zooms = db.execute("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
    fmt = str(meta.get("format", "png")).lower()
    if fmt not in CONTENT_TYPES:
        log.warning("basemap %s holds %s tiles; only raster tiles are served", path, fmt)
        return None
    _cache["db"] = _mbtiles(path)
    return Basemap(path, "mbtiles", fmt, int(zooms[0] or 0), int(zooms[1] or 0), stamp)


def basemap() -> Basemap | None:
    """The basemap file in use, or None (no file, unreadable, or vector tiles)."""
    path = basemap_path()
    if path is None:
        return None
    st = path.stat()
    stamp = (st.st_mtime, st.st_size)
    with _lock:
        current = _cache.get("basemap")
        if current is not None and current.path == path and current.stamp == stamp:
            return current
        _close()
        try:
            current = _open(path, stamp)
        except (sqlite3.Error, OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("basemap %s cannot be read: %s", path, exc)
            current = None
        _cache["basemap"] = current
        return current


def _close() -> None:
    db = _cache.pop("db", None)
    if db is not None:
        db.close()
    pm = _cache.pop("reader", None)
    if pm is not None:
        pm[1].close()
    _cache.pop("basemap", None)


def tile(z: int, x: int, y: int) -> tuple[bytes, str] | None:
    """One tile's bytes and content type (XYZ numbering, as Leaflet asks), or None."""
    found = basemap()
    if found is None or not (found.min_zoom <= z <= found.max_zoom):
        return None
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        return None
    with _lock:
        if found.kind == "mbtiles":
            db = _cache.get("db")
            if db is None:
                return None
            row = db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (z, x, (2**z - 1) - y),  # MBTiles rows count from the south (TMS)
            ).fetchone()
            data = bytes(row[0]) if row else None
        else:
            reader = _cache.get("reader")
            data = reader[0].get(z, x, y) if reader else None
    if not data:
        return None
    return data, CONTENT_TYPES[found.format]


def tile_url() -> str:
    """What the maps load tiles from: the intranet tile server, else our own basemap file,
    else nothing (the maps draw our grids on a plain background)."""
    if settings.TILE_URL:
        return str(settings.TILE_URL)
    if basemap() is not None:
        from django.urls import reverse

        return reverse("regions:tile", args=[0, 0, 0]).replace("/0/0/0", "/{z}/{x}/{y}")
    return ""
