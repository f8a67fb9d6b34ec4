"""The CLI's contract (JSON keys, the export's columns), the API and the pages: each only
translates, so a few end-to-end paths per adapter, and the scope as each adapter shows it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from wangge.core.models import AuditEntry
from wangge.core.scope import Scope
from wangge.ledger.models import Person
from wangge.linkage import services
from wangge.linkage.models import Batch, Pair
from wangge.linkage.tests.factories import MZ_HEADERS, csv_bytes, csv_table, mz_row

pytestmark = pytest.mark.django_db


def _people(n: int) -> list[Person]:
    return list(
        Person.objects.dangerously_unscoped()
        .filter(grid_code__startswith="440704003001", retired_on=None)
        .exclude(id_number="")
        .order_by("pk")[:n]
    )


def _cli(*args: str) -> Any:
    out = io.StringIO()
    call_command("linkage", *args, stdout=out)
    return out.getvalue()


def test_cli_import_run_export(tmp_path: Path) -> None:
    ps = _people(3)
    path = tmp_path / "民政高龄.csv"
    path.write_bytes(
        csv_bytes(
            MZ_HEADERS,
            [mz_row(1, ps[0]), mz_row(2, ps[1], id_number=""), ["3", "", "", "", "", "", "", ""]],
        )
    )
    got = json.loads(
        _cli(
            "import",
            "mz-elderly",
            str(path),
            "--kind",
            "people",
            "--department",
            "minzheng",
            "--json",
        )
    )
    assert (got["rows"], got["accepted"], got["rejected"]) == (3, 2, 1)
    batch = got["batch"]
    assert Batch.objects.dangerously_unscoped().get(pk=batch).source.department_code == "minzheng"
    counts = json.loads(_cli("run", str(batch), "--json"))
    assert list(counts) == ["rows", "linked_exact", "linked_probable", "review", "new", "rejected"]
    assert counts["rows"] == 3 and counts["linked_exact"] == 1 and counts["rejected"] == 1
    out = tmp_path / "links.csv"
    _cli("export", str(batch), "--out", str(out))
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["source_row", "status", "person_id", "probability"]
    assert [r["source_row"] for r in rows] == ["2", "3", "4"]
    assert rows[0]["status"] == "linked" and rows[0]["person_id"] == str(ps[0].pk)
    assert rows[2]["status"] == "rejected" and rows[2]["person_id"] == ""
    assert ps[0].id_number not in out.read_text(encoding="utf-8")
    assert AuditEntry.objects.filter(action="linkage.export").exists()


def test_cli_refuses_a_file_that_is_not_there(tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        _cli("import", "x", str(tmp_path / "missing.csv"), "--kind", "people")


def test_api_upload_queue_and_decide(api_as: Any, system: Scope) -> None:
    p = _people(1)[0]
    admin = api_as("demo-district")
    r = admin.post(
        "/api/v1/linkage/sources",
        {
            "code": "wj-chronic",
            "kind": "people",
            "name": "卫健慢病名单",
            "upper": 1.0,
            "lower": 0.01,
        },
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    data = csv_bytes(MZ_HEADERS, [mz_row(1, p, id_number="", phone="")])
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = admin.post(
        "/api/v1/linkage/sources/wj-chronic/batches",
        {"file": SimpleUploadedFile("wj.csv", data, content_type="text/csv")},
    )
    assert r.status_code == 201, r.content
    batch = r.json()["batch"]
    services.batch_run(actor=system, batch_id=batch)  # what the queued job does
    rows = admin.get(f"/api/v1/linkage/batches/{batch}/rows").json()
    assert rows[0]["status"] == "review" and p.id_number not in json.dumps(rows)
    community = api_as("demo-community")
    pairs = community.get("/api/v1/linkage/pairs").json()
    mine = [x for x in pairs if x["batch"] == batch]
    assert mine and mine[0]["record_id"] == p.pk
    detail = community.get(f"/api/v1/linkage/pairs/{mine[0]['id']}").json()
    assert {f["field"] for f in detail["fields"]} >= {"name", "birth_date", "address"}
    r = community.post(
        f"/api/v1/linkage/pairs/{mine[0]['id']}/decision",
        {"decision": "accept"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    again = community.post(
        f"/api/v1/linkage/pairs/{mine[0]['id']}/decision",
        {"decision": "reject"},
        content_type="application/json",
    )
    assert again.status_code == 409
    # Another street's pairs do not exist for this community: 404, not 403.
    other = api_as("demo-grid").get(f"/api/v1/linkage/pairs/{mine[0]['id']}")
    assert other.status_code == 404
    prov = api_as("demo-grid").get(f"/api/v1/linkage/records/people/{p.pk}/provenance").json()
    assert any(f["field"] == "name" for f in prov["fields"])
    r = admin.post(f"/api/v1/linkage/batches/{batch}/run")
    assert r.status_code == 202 and r["Location"].startswith("/api/v1/jobs/")


def test_pages_render_for_each_role(client_as: Any, system: Scope) -> None:
    p = _people(1)[0]
    services.source_save(
        actor=system, code="mz", kind="people", name="民政高龄津贴名单", upper=1.0, lower=0.01
    )
    batch = services.batch_import(
        actor=system,
        source_code="mz",
        table=csv_table(MZ_HEADERS, [mz_row(1, p, id_number="", phone="")]),
        filename="mz.csv",
    ).batch
    services.batch_run(actor=system, batch_id=batch.pk)
    pair = Pair.objects.dangerously_unscoped().filter(batch_row__batch=batch).first()
    assert pair is not None
    admin = client_as("demo-district")
    for url in (
        "/linkage/",
        "/linkage/upload/",
        f"/linkage/batches/{batch.pk}/",
        "/linkage/review/",
        f"/linkage/pairs/{pair.pk}/",
        f"/linkage/people/{p.pk}/",
    ):
        r = admin.get(url)
        assert r.status_code == 200, url
        assert p.id_number not in r.content.decode()
    community = client_as("demo-community")
    assert community.get(f"/linkage/batches/{batch.pk}/").status_code == 404
    page = community.get(f"/linkage/pairs/{pair.pk}/").content.decode()
    assert "data-probability" in page
    r = community.post(f"/linkage/pairs/{pair.pk}/", {"decision": "accept"})
    assert r.status_code == 302
    assert client_as("demo-dept").get("/linkage/").status_code == 404
    assert community.get("/linkage/sources/mz/").status_code == 404
    r = admin.post("/linkage/sources/mz/", {"upper": "0.4", "lower": "0.6"})
    assert r.status_code == 400  # the thresholds' rule, said on the page
    r = admin.post("/linkage/sources/mz/", {"upper": "0.95", "lower": "0.6", "trusted": ["phone"]})
    assert r.status_code == 302


def test_upload_page_suggests_the_mapping_and_stores_the_batch(client_as: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    p = _people(1)[0]
    admin = client_as("demo-district")
    data = csv_bytes(MZ_HEADERS, [mz_row(1, p)])
    r = admin.post(
        "/linkage/upload/",
        {
            "code": "mz-page",
            "name": "民政名单",
            "kind": "people",
            "file": SimpleUploadedFile("mz.csv", data, content_type="text/csv"),
        },
    )
    page = r.content.decode()
    assert r.status_code == 200 and 'name="token"' in page
    assert '<option value="公民身份号码" selected>' in page
    import re

    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token is not None
    r = admin.post(
        "/linkage/upload/",
        {
            "step": "confirm",
            "token": token.group(1),
            "filename": "mz.csv",
            "source": "mz-page",
            "map_name": "老人姓名",
            "map_id_number": "公民身份号码",
        },
    )
    assert r.status_code == 302
    batch = Batch.objects.dangerously_unscoped().get(source__code="mz-page")
    assert batch.rows == 1 and batch.mapping == {"name": "老人姓名", "id_number": "公民身份号码"}


def test_the_person_page_links_to_where_the_values_came_from(client_as: Any, system: Scope) -> None:
    p = _people(1)[0]
    page = client_as("demo-grid").get(f"/ledger/people/{p.pk}/").content.decode()
    assert f"/linkage/people/{p.pk}/" not in page  # no list names them yet
    services.source_save(actor=system, code="mz", kind="people", name="民政高龄津贴名单")
    batch = services.batch_import(
        actor=system,
        source_code="mz",
        table=csv_table(MZ_HEADERS, [mz_row(1, p)]),
        filename="mz.csv",
    ).batch
    services.batch_run(actor=system, batch_id=batch.pk)
    page = client_as("demo-grid").get(f"/ledger/people/{p.pk}/").content.decode()
    assert f"/linkage/people/{p.pk}/" in page
    prov = client_as("demo-grid").get(f"/linkage/people/{p.pk}/").content.decode()
    assert "民政高龄津贴名单" in prov and p.id_number not in prov
