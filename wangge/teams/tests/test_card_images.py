"""The notice card's QR code of the residents' report page for the grid, and its sketch map."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import pytest

from wangge.teams import card_images

pytestmark = pytest.mark.django_db
GRID = "440704003001001"


def test_card_carries_a_qr_code_and_a_sketch_of_the_grid(client_as: Any) -> None:
    page = client_as("demo-grid").get(f"/teams/grid/{GRID}/card/").content.decode()
    url = re.search(r'data-report-url="([^"]+)"', page)
    assert url is not None and url.group(1).endswith(f"/events/public/report/?grid={GRID}")
    images = re.findall(r'<img src="(data:image/svg\+xml[^"]+)"', page)
    assert len(images) == 2  # the sketch and the QR code, as images (never markup)
    sketch = unquote(images[0])
    assert "<path d='M" in sketch and "Z" in sketch
    # The QR code: an SVG of its modules (what it encodes is the URL checked above).
    assert "<svg" in unquote(images[1])


def test_the_qr_code_opens_the_report_page_on_that_grid(client_as: Any) -> None:
    page = client_as(None).get(f"/events/public/report/?grid={GRID}").content.decode()
    assert f'data-focus="{GRID}"' in page
    hostile = client_as(None).get('/events/public/report/?grid="><script>').content.decode()
    assert "data-focus" not in hostile


def test_sketch_keeps_holes_and_north_up() -> None:
    square = (
        '{"type":"Polygon","coordinates":[[[113,22],[113.01,22],[113.01,22.01],[113,22.01],'
        "[113,22]],[[113.004,22.004],[113.006,22.004],[113.006,22.006],[113.004,22.006],"
        "[113.004,22.004]]]}"
    )
    svg = unquote(card_images.sketch_data_uri(square))
    assert svg.count("M") == 2 and "evenodd" in svg
    assert card_images.sketch_data_uri(None) == ""
