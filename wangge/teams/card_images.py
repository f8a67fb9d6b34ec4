"""The notice card's two pictures, made here as data URIs (an <img>, never markup in the page):
a QR code of the residents' report page for the grid, and a sketch map of the grid's outline."""

from __future__ import annotations

from urllib.parse import quote

import segno
import shapely


def qr_data_uri(url: str) -> str:
    """A QR code of `url` (error correction M: a card on a wall gets scratched)."""
    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=2))


def sketch_data_uri(geojson: str | None, *, size: int = 240) -> str:
    """The grid's outline as a small SVG, north up (longitude and latitude scaled alike at the
    grid's latitude), or "" without a boundary."""
    if not geojson:
        return ""
    import math

    geom = shapely.from_geojson(geojson)
    if geom.is_empty:
        return ""
    min_x, min_y, max_x, max_y = geom.bounds
    k = math.cos(math.radians((min_y + max_y) / 2))
    width, height = max((max_x - min_x) * k, 1e-9), max(max_y - min_y, 1e-9)
    scale = (size - 16) / max(width, height)

    def project(x: float, y: float) -> tuple[float, float]:
        return 8 + (x - min_x) * k * scale, 8 + (max_y - y) * scale

    paths = []
    polygons = list(getattr(geom, "geoms", [geom]))
    for polygon in polygons:
        rings = [polygon.exterior, *polygon.interiors]
        for ring in rings:
            points = [project(x, y) for x, y in ring.coords]
            paths.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
    w = round(width * scale + 16)
    h = round(height * scale + 16)
    svg = (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' viewBox='0 0 {w} {h}'>"
        f"<path d='{' '.join(paths)}' fill='#f6d7a7' fill-opacity='0.6' stroke='#b3261e' "
        "stroke-width='2' fill-rule='evenodd'/></svg>"
    )
    return "data:image/svg+xml;charset=utf-8," + quote(svg)
