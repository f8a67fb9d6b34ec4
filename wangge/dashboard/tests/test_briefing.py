"""The weekly briefing: the printable page and the PDF, per scope, with an overdue event."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.utils import timezone
from pypdf import PdfReader

from wangge.core.models import AuditEntry, User
from wangge.core.scope import scope_for
from wangge.dashboard import selectors
from wangge.dashboard.facts import facts_rebuild, figures_refresh
from wangge.events.intake import Report, event_report
from wangge.events.models import Event
from wangge.events.scan import scan
from wangge.regions.selectors import interior_point_unscoped

pytestmark = pytest.mark.django_db

MINE = "440704003001001"  # 礼乐街道 英南村
OTHER = "440704001001001"  # 江南街道
WEEK = dt.date(2026, 11, 16)  # a Monday
WHEN = dt.datetime(2026, 11, 17, 2, 0, tzinfo=dt.UTC)  # Tuesday morning, Beijing time


def _report(grid: str, title: str) -> Event:
    lon, lat = interior_point_unscoped(grid)
    actor = scope_for(User.objects.get(username="demo-district"))
    return event_report(
        actor, Report(category="0102", title=title, lon=lon, lat=lat), now=WHEN
    ).event


@pytest.fixture
def world() -> dict[str, Event]:
    mine, other = _report(MINE, "礼乐逾期事件"), _report(OTHER, "江南逾期事件")
    assert mine.due_at is not None and other.due_at is not None
    scan(max(mine.due_at, other.due_at) + dt.timedelta(seconds=1))
    facts_rebuild()
    figures_refresh()
    mine.refresh_from_db()
    assert mine.overdue
    return {"mine": mine, "other": other}


def test_the_district_sees_a_page_per_street_with_its_overdue_events(
    world: dict[str, Event], client_as: Any
) -> None:
    response = client_as("demo-district").get("/dashboard/briefing/", {"week": "2026-11-18"})
    assert response.status_code == 200
    html = response.content.decode()
    for code in ("440704001", "440704002", "440704003"):
        assert f'data-region="{code}"' in html
    page = html.split('data-region="440704003"')[1]
    assert world["mine"].number in page.split("</section>")[0]
    assert "礼乐逾期事件" in page.split("</section>")[0]
    assert world["other"].number in html.split('data-region="440704001"')[1]
    # The cover ranks the streets as the selector does, with the week's period.
    ranking = selectors.rankings(
        actor=scope_for(User.objects.get(username="demo-district")),
        since=WEEK,
        until=WEEK + dt.timedelta(days=7),
        level="street",
    )
    assert ranking["rows"], "the week has due events"
    cover = html.split('class="briefing-page cover"')[1].split("</section>")[0]
    for row in ranking["rows"]:
        assert f'data-code="{row["code"]}"' in cover
    # The sketch map: one path per grid of the street, its class from 按期结案率.
    street = page.split("</section>")[0]
    assert street.count("<path ") == 7
    # 英南村第1网格: its one due event went overdue (0 %); the others had nothing due.
    assert 'class="band-bad" fill-rule="evenodd"><title>英南村第1网格 0.0%</title>' in street
    assert street.count('class="band-none"') == 6
    assert "<script" not in street


def test_a_street_officer_sees_only_their_street(world: dict[str, Event], client_as: Any) -> None:
    html = client_as("demo-street").get("/dashboard/briefing/", {"week": "2026-11-16"}).content
    text = html.decode()
    assert 'data-region="440704003"' in text
    assert 'data-region="440704001"' not in text
    assert world["mine"].number in text
    assert world["other"].number not in text
    assert "江南街道" not in text


def test_the_default_week_is_the_last_complete_one(client_as: Any) -> None:
    response = client_as("demo-district").get("/dashboard/briefing/")
    assert response.status_code == 200
    monday = response.context["b"]["since"]
    assert monday.weekday() == 0
    today = timezone.localdate()
    assert response.context["b"]["until"] <= today
    assert 7 <= (today - monday).days < 14


@pytest.mark.parametrize("week", ["2026-13-01", "yesterday", "2100-01-04"])
def test_a_bad_or_future_week_is_a_400_with_a_reason(client_as: Any, week: str) -> None:
    response = client_as("demo-district").get("/dashboard/briefing/", {"week": week})
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()


def test_no_dashboard_no_briefing(client_as: Any) -> None:
    assert client_as(None).get("/dashboard/briefing/").status_code == 302
    assert client_as("demo-auditor").get("/dashboard/briefing/").status_code == 404
    assert client_as("demo-auditor").get("/dashboard/briefing.pdf").status_code == 404


def _pdf(client: Any, week: str) -> PdfReader:
    response = client.get("/dashboard/briefing.pdf", {"week": week})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    return PdfReader(io.BytesIO(response.content))


def test_the_pdf_has_a_cover_and_a_page_per_street_and_is_audited(
    world: dict[str, Event], client_as: Any
) -> None:
    before = AuditEntry.objects.filter(action="dashboard.briefing_export").count()
    reader = _pdf(client_as("demo-district"), "2026-11-20")
    assert len(reader.pages) == 1 + 3
    third = reader.pages[3].extract_text()
    assert "礼乐街道" in third and world["mine"].number in third
    assert world["other"].number in reader.pages[1].extract_text()
    entry = AuditEntry.objects.filter(action="dashboard.briefing_export").latest("seq")
    assert AuditEntry.objects.filter(action="dashboard.briefing_export").count() == before + 1
    assert entry.actor_name == "demo-district"
    assert entry.details["since"] == "2026-11-16" and entry.details["until"] == "2026-11-23"


def test_a_street_officers_pdf_has_their_street_only(
    world: dict[str, Event], client_as: Any
) -> None:
    reader = _pdf(client_as("demo-street"), "2026-11-16")
    assert len(reader.pages) == 2
    text = "".join(p.extract_text() for p in reader.pages)
    assert world["mine"].number in text and world["other"].number not in text


def test_a_department_officer_sees_their_departments_events_only(
    world: dict[str, Event], client_as: Any, system: Any
) -> None:
    from wangge.events.workflow import transition

    dispatched = transition(system, world["mine"], "dispatch", department="chengguan")
    scan(dispatched.due_at + dt.timedelta(seconds=1) if dispatched.due_at else None)
    text = client_as("demo-dept").get("/dashboard/briefing/", {"week": "2026-11-16"}).content
    html = text.decode()
    assert world["other"].number not in html  # not dispatched: not the department's
    assert world["mine"].number in html.split('data-region="440704003"')[1]
    assert html.count('class="briefing-page street"') == 3
    district = client_as("demo-district").get("/dashboard/briefing/", {"week": "2026-11-16"})
    assert world["other"].number in district.content.decode()


def test_the_command_writes_the_pdf_as_a_user(world: dict[str, Event], tmp_path: Any) -> None:
    from django.core.management import call_command

    out = tmp_path / "briefing.pdf"
    call_command(
        "dashboard", "briefing", "--week", "2026-11-16", "--out", str(out), "--as", "demo-street"
    )
    reader = PdfReader(out)
    assert len(reader.pages) == 2
    assert AuditEntry.objects.filter(
        action="dashboard.briefing_export", actor_name="demo-street"
    ).exists()


def test_the_command_without_a_user_covers_every_street(
    world: dict[str, Event], tmp_path: Any
) -> None:
    from django.core.management import call_command

    out = tmp_path / "all.pdf"
    call_command("dashboard", "briefing", "--week", "2026-11-16", "--out", str(out))
    assert len(PdfReader(out).pages) == 1 + 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "none"), (95.0, "good"), (90.0, "good"), (85.0, "fair"), (70.0, "poor"), (0, "bad")],
)
def test_map_bands_against_the_target(value: float | None, expected: str) -> None:
    from wangge.dashboard.briefing import band

    assert band(value, 0.9) == expected
