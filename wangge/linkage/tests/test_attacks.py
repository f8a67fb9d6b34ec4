"""What a security review found, as regression tests: the exact link as an ID-number oracle,
a pair's scope after its record moved, sensitive list data, the upload page's settings, codes
and numbers a URL or a form cannot take, department-narrowed grants, one reviewer for a row's
candidates, runs at once, retired records, headerless files and short phone numbers."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from wangge.core.errors import Conflict, NotFound, ValidationFailed
from wangge.core.models import AuditEntry
from wangge.core.roles import Role
from wangge.core.scope import Scope, scope_for
from wangge.core.tests.factories import user_with
from wangge.core.validators import id_check_char
from wangge.ledger import services as ledger
from wangge.linkage import selectors, services
from wangge.linkage.models import Batch, BatchRow, BatchStatus, Pair, RowStatus, Source
from wangge.linkage.tests.factories import MZ_HEADERS, csv_bytes, csv_table, mz_row
from wangge.linkage.tests.test_services import YINGNAN, people, source, who

pytestmark = pytest.mark.django_db


def _review(system: Scope, persons: list[Any], **kw: Any) -> Batch:
    src = source(system, upper=1.0, lower=0.01, **kw)
    rows = [mz_row(i + 1, p, id_number="", phone="") for i, p in enumerate(persons)]
    batch = services.batch_import(
        actor=system, source_code=src.code, table=csv_table(MZ_HEADERS, rows), filename="mz.csv"
    ).batch
    services.batch_run(actor=system, batch_id=batch.pk)
    return batch


def test_a_file_trying_numbers_is_refused_not_linked(system: Scope) -> None:
    p = people()[0]
    head = p.id_number[:14]
    tries = [head + f"{n:03d}" for n in range(60)]
    tries = [t + id_check_char(t) for t in tries] + [p.id_number]
    src = source(system, below="tag")
    summary = services.batch_import(
        actor=system,
        source_code=src.code,
        table=csv_table(["姓名", "身份证号"], [["某", t] for t in tries]),
        filename="p.csv",
    )
    assert summary.rejected == len(tries) and summary.pending == 0
    assert summary.errors[0]["field"] == "id_number"
    assert AuditEntry.objects.filter(action="linkage.enumeration", outcome="denied").exists()
    counts = services.batch_run(actor=system, batch_id=summary.batch.pk)
    assert counts["linked_exact"] == 0


def test_a_pair_whose_record_moved_away_is_not_found(system: Scope) -> None:
    p = people()[0]
    batch = _review(system, [p])
    pair = Pair.objects.dangerously_unscoped().filter(batch_row__batch=batch, record_id=p.pk).get()
    ledger.person_move(actor=system, person_id=p.pk, version=p.version, grid_code="440704001001001")
    community = who("demo-community")
    with pytest.raises(NotFound):
        selectors.pair_detail(actor=community, pair_id=pair.pk)
    with pytest.raises(NotFound):
        services.pair_decide(actor=community, pair_id=pair.pk, decision="accept")


def test_status_values_and_sensitive_lists_need_the_special_groups_right(system: Scope) -> None:
    p = next(x for x in people() if x.grid_code == "440704003001001")
    for code, name, sensitive in (("wj", "卫健慢病名单", False), ("jd", "严重精神障碍名单", True)):
        src = services.source_save(
            actor=system, code=code, kind="people", name=name, sensitive=sensitive
        )
        batch = services.batch_import(
            actor=system,
            source_code=src.code,
            table=csv_table(["姓名", "公民身份号码", "病种"], [[p.name, p.id_number, "某病"]]),
            filename="x.csv",
        ).batch
        services.batch_run(actor=system, batch_id=batch.pk)
    leader = selectors.record_provenance(actor=who("demo-grid"), kind="people", record_id=p.pk)
    assert "status" not in {f["field"] for f in leader["fields"]}
    assert {v["source_code"] for f in leader["fields"] for v in f["values"]} == {"wj"}
    assert [link["batch__source__name"] for link in leader["links"]] == ["卫健慢病名单"]
    community = selectors.record_provenance(
        actor=who("demo-community"), kind="people", record_id=p.pk
    )
    assert "status" in {f["field"] for f in community["fields"]}  # ledger.sensitive holders
    assert {v["source_code"] for f in community["fields"] for v in f["values"]} == {"wj", "jd"}


def test_a_lists_next_file_on_the_page_keeps_its_settings(system: Scope, client_as: Any) -> None:
    services.source_save(
        actor=system, code="wj", kind="people", name="卫健", care_tag="chronic", below="tag"
    )
    p = people()[0]
    r = client_as("demo-district").post(
        "/linkage/upload/",
        {
            "source": "wj",
            "code": "",
            "kind": "people",
            "care_tag": "",
            "below": "new",
            "file": SimpleUploadedFile("wj.csv", csv_bytes(MZ_HEADERS, [mz_row(1, p)])),
        },
    )
    assert r.status_code == 200 and 'name="token"' in r.content.decode()
    s = Source.objects.dangerously_unscoped().get(code="wj")
    assert (s.care_tag, s.below) == ("chronic", "tag")


def test_codes_and_numbers_a_url_cannot_take(system: Scope, client_as: Any) -> None:
    with pytest.raises(ValidationFailed):
        services.source_save(actor=system, code="民政", kind="people")
    batch = _review(system, people()[:1])
    admin = client_as("demo-district")
    for query in ("after=²", "job=²", "after=99999999999999999999"):
        assert admin.get(f"/linkage/batches/{batch.pk}/?{query}").status_code == 200
    pair = Pair.objects.dangerously_unscoped().filter(batch_row__batch=batch).first()
    assert pair is not None
    r = client_as("demo-community").post(
        f"/linkage/pairs/{pair.pk}/", {"decision": "unsure", "survivor": "²"}
    )
    assert r.status_code == 302


def test_a_department_narrowed_grant_acts_on_no_list(system: Scope) -> None:
    services.source_save(actor=system, code="mz", kind="people", name="民政", care_tag="elderly")
    narrowed = scope_for(user_with((Role.DISTRICT_ADMIN, "440704", "chengguan"), username="cg-a"))
    with pytest.raises(NotFound):
        services.source_save(actor=narrowed, code="mz", kind="people", care_tag="subsistence")
    with pytest.raises(NotFound):
        services.source_save(actor=narrowed, code="new-one", kind="people")
    assert Source.objects.dangerously_unscoped().get(code="mz").care_tag == "elderly"


def test_a_rows_candidates_in_two_communities_go_to_their_street(system: Scope) -> None:
    a = people(YINGNAN)[0]
    assert a.birth_date is not None
    body = a.id_number[:14] + "987"
    ledger.person_create(
        actor=system,
        values={
            "name": a.name,
            "gender": "男" if a.gender == "male" else "女",
            "birth_date": a.birth_date.isoformat(),
            "id_number": body + id_check_char(body),
        },
        grid_code="440704003002001",
        confirm_new=True,
    )
    batch = _review(system, [a])
    grids = set(
        Pair.objects.dangerously_unscoped()
        .filter(batch_row__batch=batch)
        .values_list("grid_code", flat=True)
    )
    assert grids == {"440704003"}  # 礼乐街道 holds 英南村 and 南村
    assert (
        not selectors.pair_queue(actor=who("demo-community"))
        .filter(batch_row__batch=batch)
        .exists()
    )
    assert selectors.pair_queue(actor=who("demo-street")).filter(batch_row__batch=batch).exists()


def test_one_run_at_a_time(system: Scope) -> None:
    src = source(system)
    batch = services.batch_import(
        actor=system,
        source_code=src.code,
        table=csv_table(MZ_HEADERS, [mz_row(1, people()[0])]),
        filename="m.csv",
    ).batch
    Batch.objects.dangerously_unscoped().filter(pk=batch.pk).update(status=BatchStatus.RUNNING)
    with pytest.raises(Conflict):
        services.batch_run(actor=system, batch_id=batch.pk)
    assert BatchRow.objects.dangerously_unscoped().get(batch=batch).status == RowStatus.PENDING


def test_a_retired_record_cannot_be_accepted(system: Scope) -> None:
    p = people()[0]
    batch = _review(system, [p], care_tag="elderly_alone")
    pair = Pair.objects.dangerously_unscoped().filter(batch_row__batch=batch, record_id=p.pk).get()
    ledger.person_retire(actor=system, person_id=p.pk, version=p.version, reason="deceased")
    with pytest.raises(Conflict):
        services.pair_decide(actor=who("demo-community"), pair_id=pair.pk, decision="accept")
    services.pair_decide(actor=who("demo-community"), pair_id=pair.pk, decision="reject")


def test_a_file_without_headers_is_refused_without_echoing_it(system: Scope, api_as: Any) -> None:
    services.source_save(actor=system, code="nohdr", kind="people", name="x")
    p = people()[0]
    body = f"{p.name},{p.id_number},{p.phone}\n{p.name},{p.id_number},{p.phone}\n".encode()
    r = api_as("demo-district").post(
        "/api/v1/linkage/sources/nohdr/batches", {"file": SimpleUploadedFile("a.csv", body)}
    )
    assert r.status_code == 400 and r.json()["code"] == "no_header_row"
    assert p.id_number not in r.content.decode() and p.phone not in r.content.decode()


def test_short_phones_show_their_last_four_only() -> None:
    assert selectors.masked("people", {"phone": "33123456"})["phone"] == "****3456"
    assert selectors.masked("people", {"phone": "13812345678"})["phone"] == "138****5678"
