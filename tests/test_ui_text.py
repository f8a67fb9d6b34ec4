"""The check of `make lint` that no page shows untranslated UI text (scripts/check_ui_text.py,
tests/ui_text.py): it finds English where there is some, and passes the pages as they are."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui_text import untranslated, walk

pytestmark = pytest.mark.django_db


def test_it_finds_latin_words_in_visible_text_and_attributes() -> None:
    assert untranslated("<p>Not found</p>") == ["Not", "found"]
    assert untranslated('<input placeholder="Search here">') == ["Search", "here"]
    assert untranslated('<button title="Zoom in">+</button>') == ["Zoom", "in"]
    assert untranslated('<select data-label-any="All">') == ["All"]


def test_it_leaves_codes_units_proper_names_and_data_marked_as_such() -> None:
    page = (
        "<p>导出 Excel · API 令牌 · 0.58 km² · SJ20261202000123 · demo-grid</p>"
        "<code>chengguan</code><script>var x = 'hello';</script>"
        '<td translate="no">someone</td><p>people.xlsx</p>'
    )
    assert untranslated(page) == []


def test_a_planted_english_name_on_a_page_fails_the_check(client_as: Any) -> None:
    from wangge.events.models import Category

    page = client_as("demo-district")
    assert untranslated(page.get("/events/categories/").content.decode()) == []
    category = Category.objects.filter(parent__isnull=False).order_by("code").first()
    assert category is not None
    Category.objects.filter(pk=category.pk).update(name="Pothole repair")
    found = untranslated(page.get("/events/categories/").content.decode())
    assert found == ["Pothole", "repair"]


def test_the_walk_fails_when_the_pages_are_not_in_chinese() -> None:
    """Every page rendered in English (the catalogue not applied) is found, page by page."""
    english = walk(users=["demo-district"], language="en")
    assert any(page.startswith("/events/ (demo-district, 200)") for page in english)
    assert any(page.startswith("/ledger/people/ (demo-district, 200)") for page in english)
    assert len(english) > 30
