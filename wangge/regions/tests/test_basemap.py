"""The district's own basemap file: a small MBTiles and a small PMTiles file, generated here,
served tile by tile (the right tile for Leaflet's XYZ numbering, nothing outside it), and named
to the maps; an intranet tile server still wins; vector tiles are not served."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from wangge.regions import basemap

pytestmark = pytest.mark.django_db


def png(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(buf, format="PNG")
    return buf.getvalue()


RED, BLUE = png((200, 0, 0)), png((0, 0, 200))


def make_mbtiles(path: Path, fmt: str = "png") -> Path:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name text, value text)")
    db.execute(
        "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, "
        "tile_data blob)"
    )
    db.executemany("INSERT INTO metadata VALUES (?, ?)", [("name", "江海区影像"), ("format", fmt)])
    # XYZ (z=12, x=3340, y=1780) is TMS row 4095 - 1780 = 2315.
    db.executemany(
        "INSERT INTO tiles VALUES (?, ?, ?, ?)",
        [(12, 3340, 2315, RED), (12, 3341, 2315, BLUE)],
    )
    db.commit()
    db.close()
    return path


def make_pmtiles(path: Path) -> Path:
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    with path.open("wb") as f:
        writer = Writer(f)
        writer.write_tile(zxy_to_tileid(12, 3340, 1780), RED)
        writer.write_tile(zxy_to_tileid(12, 3341, 1780), BLUE)
        writer.finalize(
            {
                "tile_type": TileType.PNG,
                "tile_compression": Compression.NONE,
                "min_zoom": 12,
                "max_zoom": 12,
                "min_lon_e7": int(113.0e7),
                "min_lat_e7": int(22.4e7),
                "max_lon_e7": int(113.2e7),
                "max_lat_e7": int(22.6e7),
                "center_zoom": 12,
                "center_lon_e7": int(113.1e7),
                "center_lat_e7": int(22.5e7),
            },
            {"name": "江海区影像"},
        )
    return path


@pytest.mark.parametrize("make", [make_mbtiles, make_pmtiles], ids=["mbtiles", "pmtiles"])
def test_tiles_served_from_the_file(
    make: Any, tmp_path: Path, settings: Any, client_as: Any
) -> None:
    settings.TILE_URL = ""
    settings.BASEMAP_FILE = str(make(tmp_path / f"basemap.{make.__name__[5:]}"))
    anonymous = client_as(None)  # the residents' map uses it too
    r = anonymous.get("/regions/tiles/12/3340/1780")
    assert r.status_code == 200 and r["Content-Type"] == "image/png" and r.content == RED
    assert anonymous.get("/regions/tiles/12/3341/1780").content == BLUE
    for missing in ("12/3342/1780", "11/1670/890", "12/99999/1780", "30/0/0"):
        assert anonymous.get(f"/regions/tiles/{missing}").status_code == 204
    assert basemap.tile_url() == "/regions/tiles/{z}/{x}/{y}"
    page = client_as("demo-street").get("/regions/map/").content.decode()
    assert 'data-tiles="/regions/tiles/{z}/{x}/{y}"' in page
    settings.TILE_URL = "http://tiles.intranet/{z}/{x}/{y}.png"
    assert basemap.tile_url() == "http://tiles.intranet/{z}/{x}/{y}.png"


def test_no_file_no_tiles_and_vector_tiles_are_not_served(
    tmp_path: Path, settings: Any, client_as: Any
) -> None:
    settings.TILE_URL = ""
    settings.BASEMAP_FILE = str(tmp_path / "missing.mbtiles")
    assert basemap.tile_url() == ""
    assert client_as(None).get("/regions/tiles/12/3340/1780").status_code == 204
    settings.BASEMAP_FILE = str(make_mbtiles(tmp_path / "vector.mbtiles", fmt="pbf"))
    assert basemap.basemap() is None and basemap.tile_url() == ""
    garbage = tmp_path / "garbage.mbtiles"
    garbage.write_bytes(b"not a database")
    settings.BASEMAP_FILE = str(garbage)
    assert basemap.basemap() is None
    assert client_as(None).get("/regions/tiles/12/3340/1780").status_code == 204
