"""The restructuring page: a form per operation, the dry run shown before anything changes,
the confirmation applying the same request; district administrators only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from wangge.core.models import AuditEntry
from wangge.ledger.models import Person
from wangge.regions.models import Boundary, Region
from wangge.restructure.tests.test_restructure import FIFTH, MINE, NANCUN, _halves

pytestmark = pytest.mark.django_db

URL = "/restructure/"


@pytest.fixture(autouse=True)
def backdated() -> None:
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    Region.objects.dangerously_unscoped().update(valid_from=start)
    Boundary.objects.dangerously_unscoped().update(valid_from=start)


def _text(response: Any) -> str:
    return response.content.decode()


@pytest.mark.parametrize("op", ["move", "split", "merge", "recode"])
def test_each_operation_has_its_form(client_as: Any, op: str) -> None:
    response = client_as("demo-district").get(URL, {"op": op})
    assert response.status_code == 200
    assert 'id="restructure-form"' in _text(response)
    assert f'name="op" value="{op}"' in _text(response)


def test_the_menu_offers_it_to_district_admins_only(client_as: Any) -> None:
    assert URL in _text(client_as("demo-district").get("/?start=1"))
    assert URL not in _text(client_as("demo-street").get("/?start=1"))


@pytest.mark.parametrize("username", ["demo-street", "demo-grid", "demo-dept", "demo-auditor"])
def test_others_get_not_found(client_as: Any, username: str) -> None:
    client = client_as(username)
    assert client.get(URL).status_code == 404
    before = AuditEntry.objects.count()
    response = client.post(URL, {"op": "move", "grids": FIFTH, "community": NANCUN, "confirm": "1"})
    assert response.status_code == 404
    assert AuditEntry.objects.count() == before
    assert Region.objects.dangerously_unscoped().get(code=FIFTH).valid_to is None


def test_dry_run_then_confirm(client_as: Any) -> None:
    client = client_as("demo-district")
    form = {"op": "move", "grids": FIFTH, "community": NANCUN, "effective": "2026-06-01"}

    preview = client.post(URL, form)

    assert preview.status_code == 200
    page = _text(preview)
    assert "restructure-confirm" in page and "440704003002003" in page
    assert not Region.objects.dangerously_unscoped().filter(code="440704003002003").exists()

    done = client.post(URL, {**form, "confirm": "1"})

    assert done.status_code == 200 and "restructure-confirm" not in _text(done)
    assert Region.objects.dangerously_unscoped().get(code="440704003002003").parent.code == NANCUN
    assert Person.objects.dangerously_unscoped().filter(grid_code=FIFTH).count() == 0


def test_split_lists_what_cannot_be_placed(client_as: Any) -> None:
    client = client_as("demo-district")
    upload = SimpleUploadedFile("pieces.geojson", _halves(), content_type="application/geo+json")

    response = client.post(URL, {"op": "split", "grids": MINE, "pieces": upload})

    assert response.status_code == 400
    page = _text(response)
    assert "restructure-confirm" not in page
    assert 'name="pieces_text"' in page  # carried forward: the next try needs no new upload
    again = client.post(
        URL,
        {"op": "split", "grids": MINE, "pieces_text": _halves().decode(), "default": MINE},
    )
    assert again.status_code == 200 and "restructure-confirm" in _text(again)
    applied = client.post(
        URL,
        {
            "op": "split",
            "grids": MINE,
            "pieces_text": _halves().decode(),
            "default": MINE,
            "confirm": "1",
        },
    )
    assert applied.status_code == 200
    assert Region.objects.dangerously_unscoped().filter(code="440704003001006").exists()


@pytest.mark.parametrize(
    "form",
    [
        {"op": "move", "grids": "440704009009009", "community": NANCUN},
        {"op": "move", "grids": FIFTH, "community": NANCUN, "effective": "9999-12-31"},
        {"op": "recode", "grids": FIFTH},
        {"op": "split", "grids": MINE},
        {"op": "split", "grids": MINE, "pieces_text": "not json"},
        {"op": "merge", "grids": f"{MINE} {MINE}"},
        {"op": "move", "grids": FIFTH, "community": NANCUN, "mapping": "x"},
    ],
)
def test_bad_input_gets_a_chinese_message(client_as: Any, form: dict[str, str]) -> None:
    response = client_as("demo-district").post(URL, form)
    assert response.status_code == 400
    page = _text(response)
    assert 'class="message error"' in page or 'class="problems"' in page
    assert "Traceback" not in page
    assert Region.objects.dangerously_unscoped().filter(valid_to__isnull=False).count() == 0


def test_the_old_grids_page_names_its_successor(client_as: Any) -> None:
    client = client_as("demo-district")
    client.post(URL, {"op": "move", "grids": FIFTH, "community": NANCUN, "confirm": "1"})
    page = _text(client.get(f"/regions/{FIFTH}/"))
    assert 'id="successions"' in page and "/regions/440704003002003/" in page
    new = _text(client.get("/regions/440704003002003/"))
    assert 'id="successions"' in new and FIFTH in new
