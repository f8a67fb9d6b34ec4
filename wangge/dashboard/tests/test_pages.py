"""The dashboard's pages: who gets them, and the start page by role."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "username", ["demo-district", "demo-street", "demo-community", "demo-dept"]
)
@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/screen/"])
def test_officers_get_the_dashboard(client_as: Any, username: str, path: str) -> None:
    response = client_as(username).get(path)
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-api="/api/v1/dashboard/summary"' in text
    assert "vendor/echarts/echarts.min.js" in text
    assert 'id="dash-labels"' in text and "按期结案率" in text
    assert "<script>" not in text  # no inline script (the labels are JSON, not code)


def test_no_dashboard_without_events(client_as: Any) -> None:
    assert client_as("demo-auditor").get("/dashboard/").status_code == 404
    assert client_as(None).get("/dashboard/").status_code == 302


@pytest.mark.parametrize(
    ("username", "dashboard"),
    [("demo-district", True), ("demo-dept", True), ("demo-grid", False), ("demo-auditor", False)],
)
def test_the_start_page_by_role(client_as: Any, username: str, dashboard: bool) -> None:
    response = client_as(username).get("/")
    if dashboard:
        assert response.status_code == 302 and response["Location"] == "/dashboard/"
    else:
        assert response.status_code == 200


def test_grid_roles_see_their_grids_panel(client_as: Any) -> None:
    text = client_as("demo-grid").get("/").content.decode()
    assert 'data-grid-panel="/api/v1/dashboard/summary"' in text
    assert 'href="/dashboard/"' in text
    assert "data-grid-panel" not in client_as("demo-auditor").get("/").content.decode()
    assert "data-grid-panel" not in client_as("demo-street").get("/?start=1").content.decode()
