"""The API import runs in the worker: the request checks and queues (202 + the job), `wangge
worker` imports, and only the job's owner reads the result. Uploads refused by their size, type
or zip directory are refused in the request, before anything is stored or queued."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from wangge.core import exports
from wangge.core.models import Job
from wangge.core.tests.workbooks import zip_bomb
from wangge.ledger.models import Person
from wangge.ledger.tests.test_import import GRID, valid_id

pytestmark = pytest.mark.django_db

URL = "/api/v1/ledger/import/people"


def _post(client: Any, name: str, data: bytes, **form: Any) -> Any:
    return client.post(URL, {"file": SimpleUploadedFile(name, data), **form})


def _people() -> int:
    return Person.objects.dangerously_unscoped().count()


def test_the_import_is_queued_and_its_owner_reads_the_result(api_as: Any) -> None:
    client = api_as("demo-community")
    text = f"姓名,身份证号,网格编码\n新,{valid_id(711)},{GRID}\n坏,123,{GRID}\n"
    before = _people()

    response = _post(client, "p.csv", text.encode())

    assert response.status_code == 202
    job_id = response.json()["job"]["id"]
    assert response["Location"] == f"/api/v1/jobs/{job_id}"
    queued = {
        "id": job_id,
        "kind": "ledger.import",
        "status": "queued",
        "progress": 0,
        "total": 2,
        "result": None,
        "error": "",
    }
    assert response.json() == {"job": queued}
    assert _people() == before  # the request imported nothing
    assert client.get(f"/api/v1/jobs/{job_id}").json() == {"job": queued}

    call_command("worker", "--once")

    done = client.get(f"/api/v1/jobs/{job_id}")
    assert done.status_code == 200
    assert done.json() == {
        "job": {
            **queued,
            "status": "done",
            "progress": 2,
            "result": {
                "kind": "people",
                "total": 2,
                "inserted": 1,
                "updated": 0,
                "skipped": 0,
                "rejected": 1,
                "dry_run": False,
                "stored": True,
                "overridden": 0,
                "errors": [
                    {
                        "row": 3,
                        "column": "身份证号",
                        "code": "id_format",
                        "message": "身份证号码应为 18 位：17 位数字加 1 位校验码（0–9 或 X）。",
                    }
                ],
                "warnings": [],
            },
        }
    }
    assert _people() == before + 1


def test_someone_elses_job_is_not_found(api_as: Any) -> None:
    owner = api_as("demo-community")
    response = _post(
        owner, "p.csv", f"姓名,身份证号,网格编码\n新,{valid_id(712)},{GRID}\n".encode()
    )
    job_id = response.json()["job"]["id"]
    call_command("worker", "--once")

    other = api_as("demo-street")
    theirs = other.get(f"/api/v1/jobs/{job_id}")
    missing = other.get(f"/api/v1/jobs/{job_id + 1000}")

    assert (theirs.status_code, missing.status_code) == (404, 404)
    assert (
        theirs.json()
        == missing.json()
        == {
            "code": "not_found",
            "message": "未找到。",
            "details": None,
        }
    )
    assert api_as(None).get(f"/api/v1/jobs/{job_id}").status_code == 401
    assert owner.get(f"/api/v1/jobs/{job_id}").json()["job"]["status"] == "done"


def test_who_may_queue_an_import(api_as: Any) -> None:
    data = f"姓名,身份证号,网格编码\n新,{valid_id(713)},{GRID}\n".encode()
    jobs_before = Job.objects.dangerously_unscoped().count()
    assert _post(api_as(None), "p.csv", data).status_code == 401
    denied = _post(api_as("demo-dept"), "p.csv", data)
    assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")
    assert Job.objects.dangerously_unscoped().count() == jobs_before
    assert _post(api_as("demo-grid"), "p.csv", data).status_code == 202


@pytest.mark.parametrize(
    ("name", "data", "max_bytes", "code"),
    [
        ("bomb.xlsx", zip_bomb(), None, "workbook_too_large"),
        ("p.csv", b"\xe5\xa7\x93\xe5\x90\x8d\n" + b"x\n" * 100, 100, "file_too_large"),
        ("p.xls", b"\xd0\xcf\x11\xe0", None, "bad_file_type"),
    ],
    ids=["zip-bomb", "too-large", "not-a-table"],
)
def test_a_refused_upload_is_neither_stored_nor_queued(
    api_as: Any, settings: Any, name: str, data: bytes, max_bytes: int | None, code: str
) -> None:
    if max_bytes is not None:
        settings.IMPORT_MAX_BYTES = max_bytes
    jobs_before = Job.objects.dangerously_unscoped().count()
    stored_before = sorted(exports.directory().glob("*.enc"))

    response = _post(api_as("demo-community"), name, data)

    assert (response.status_code, response.json()["code"]) == (400, code)
    assert Job.objects.dangerously_unscoped().count() == jobs_before
    assert sorted(exports.directory().glob("*.enc")) == stored_before


def test_an_upload_over_the_row_limit_fails_its_job_whole(api_as: Any, settings: Any) -> None:
    settings.IMPORT_MAX_ROWS = 2
    client = api_as("demo-community")
    rows = "".join(f"人{i},{valid_id(720 + i)},{GRID}\n" for i in range(3))
    before = _people()
    job_id = _post(client, "p.csv", f"姓名,身份证号,网格编码\n{rows}".encode()).json()["job"]["id"]

    call_command("worker", "--once")

    job = client.get(f"/api/v1/jobs/{job_id}").json()["job"]
    assert (job["status"], job["result"]) == ("failed", None)
    assert job["error"] == (
        "文件超过 2 行（单次导入的上限），未导入任何数据。请拆分为每个不超过 2 行的文件。"
    )
    assert _people() == before
