"""Issue 14 §6, the bugs seen on the first day: each as the page shows it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from wangge.core.tabular.write import join_reasons

pytestmark = pytest.mark.django_db

MINE = "440704003001001"


def test_the_team_form_ships_its_start_date_as_a_date_input_takes_it(client_as: Any) -> None:
    body = client_as("demo-street").get(f"/teams/grid/{MINE}/").content.decode()
    field = re.search(r'<input type="date" name="valid_from" value="([^"]*)"', body)
    assert field is not None
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", field.group(1))


def test_the_categories_page_groups_minor_categories_under_their_major(client_as: Any) -> None:
    body = client_as("demo-district").get("/events/categories/").content.decode()
    rows = re.findall(r'<tr class="major"><th[^>]*>(\d+) |<td><code>(\d+)</code>', body)
    codes = [major or minor for major, minor in rows]
    assert len(codes) > 20
    current = ""
    for code in codes:
        if len(code) == 2:
            current = code
        else:
            assert code.startswith(current), (code, current)
    majors = [c for c in codes if len(c) == 2]
    assert len(majors) >= 5 and majors == sorted(majors)


def test_people_s_names_are_labelled_as_names(client_as: Any) -> None:
    body = client_as("demo-grid").get("/ledger/people/").content.decode()
    # The column sorts: its header is a link (<th data-sort="name"><a …>姓名</a></th>).
    assert re.search(r"<th[^>]*><a[^>]*>姓名</a></th>", body) and ">名称</" not in body
    team = client_as("demo-street").get(f"/teams/grid/{MINE}/").content.decode()
    assert "<th>姓名</th>" in team


def test_areas_are_in_one_format_on_the_grid_page_and_the_card(client_as: Any) -> None:
    page = client_as("demo-grid")
    grid = page.get(f"/regions/{MINE}/").content.decode()
    card = page.get(f"/teams/grid/{MINE}/card/").content.decode()
    on_grid = re.search(r"(\d+\.\d\d) 平方公里", grid)
    on_card = re.search(r"(\d+\.\d\d) 平方公里", card)
    assert on_grid is not None and on_card is not None
    assert on_grid.group(1) == on_card.group(1)
    assert "m²" not in grid and "km²" not in card


def test_the_error_file_joins_reasons_once() -> None:
    assert (
        join_reasons(["姓名：必填。", "身份证号：校验位不对。"])
        == "姓名：必填；身份证号：校验位不对。"
    )
    assert join_reasons(["只有一条"]) == "只有一条。"
    assert join_reasons([]) == ""


def test_the_region_tree_toggle_says_it_opens_and_closes(client_as: Any) -> None:
    body = client_as("demo-street").get("/regions/").content.decode()
    assert 'aria-expanded="false"' in body and 'hx-trigger="click once"' in body
    assert 'data-close-label="收起"' in body
    assert "wangge/tree.js" in body


def test_layer_slugs_and_boundary_sources_are_not_shown(client_as: Any) -> None:
    from tests.ui_text import visible_texts

    page = client_as("demo-district")
    for path in ("/regions/layers/", "/regions/layers/chengguan/"):
        body = page.get(path).content.decode()
        texts = " ".join(visible_texts(body))
        assert "城管" in texts and "chengguan" not in texts and ">chengguan<" not in body
