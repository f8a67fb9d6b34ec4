from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from wangge.core import jobs
from wangge.core.models import Job
from wangge.ledger.models import Person
from wangge.ledger.tests.test_import import GRID, valid_id

pytestmark = pytest.mark.django_db


def _upload(client: Any, text: str, dry_run: bool = False) -> Any:
    data = {"kind": "people", "file": SimpleUploadedFile("p.csv", text.encode())}
    if dry_run:
        data["dry_run"] = "on"
    return client.post("/ledger/import/", data)


def test_ui_import_runs_as_a_background_job_with_progress_and_error_file(client_as: Any) -> None:
    client = client_as("demo-community")
    text = f"姓名,身份证号,网格编码\n新,{valid_id(701)},{GRID}\n坏,123,{GRID}\n"
    response = _upload(client, text)
    assert response.status_code == 302
    job = Job.objects.dangerously_unscoped().get(kind="ledger.import")
    assert response["Location"] == f"/ledger/jobs/{job.pk}/"
    assert (job.status, job.total) == ("queued", 2)
    page = client.get(f"/ledger/jobs/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page  # the page polls while the job is queued

    call_command("worker", "--once")

    job.refresh_from_db()
    assert job.status == "done" and job.progress == 2
    assert (job.result["inserted"], job.result["rejected"]) == (1, 1)
    assert Person.objects.dangerously_unscoped().filter(name="新").exists()
    fragment = client.get(f"/ledger/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "every 1s" not in fragment and 'data-status="done"' in fragment
    errors = client.get(f"/ledger/jobs/{job.pk}/errors.xlsx")
    assert errors.status_code == 200 and errors.content[:2] == b"PK"
    # Someone else's job is not found.
    assert client_as("demo-street").get(f"/ledger/jobs/{job.pk}/").status_code == 404
    assert client_as("demo-street").get(f"/ledger/jobs/{job.pk}/errors.xlsx").status_code == 404


def test_a_job_is_claimed_once(client_as: Any) -> None:
    _upload(
        client_as("demo-community"),
        f"姓名,身份证号,网格编码\n一,{valid_id(702)},{GRID}\n",
        dry_run=True,
    )
    first = jobs.claim(name="a")
    second = jobs.claim(name="b")
    assert first is not None and second is None
    assert Job.objects.dangerously_unscoped().get(pk=first.pk).claimed_by == "a"


def test_the_job_runs_with_the_uploaders_scope(client_as: Any) -> None:
    client = client_as("demo-grid")
    _upload(client, f"姓名,身份证号,网格编码\n越,{valid_id(703)},440704001001001\n")
    call_command("worker", "--once")
    job = Job.objects.dangerously_unscoped().get(kind="ledger.import")
    assert job.result["rejected"] == 1 and job.result["errors"][0]["code"] == "unknown_grid"


def test_a_two_million_character_cell_fails_the_job_with_its_row_and_no_trace(
    client_as: Any,
) -> None:
    # Security review, finding 13: the job page showed a Python trace with file paths.
    client = client_as("demo-community")
    text = f"姓名,身份证号,网格编码\n新,{valid_id(704)},{GRID}\n{'长' * 2_000_000},{valid_id(705)},{GRID}\n"
    _upload(client, text)
    call_command("worker", "--once")
    job = Job.objects.dangerously_unscoped().get(kind="ledger.import")
    message = "第 3 行无法读取：有单元格超过 131072 个字符。是否有引号未闭合？"
    assert (job.status, job.error) == ("failed", message)
    page = client.get(f"/ledger/jobs/{job.pk}/").content.decode()
    assert f'<p class="error">{message}</p>' in page
    assert "Traceback" not in page and ".py" not in page
    assert not Person.objects.dangerously_unscoped().filter(name="新").exists()
