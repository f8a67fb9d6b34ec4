"""Linkage on the test world: a 民政 list in its own columns is mapped, stored with every row
accounted for, linked (exact, probable, review, new), reviewed, and leaves provenance and the
care tag; nothing personal is stored in plaintext; scope decides who reviews what."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection

from wangge.core.errors import Conflict, NotFound, ValidationFailed
from wangge.core.models import AuditEntry, User
from wangge.core.scope import Scope, scope_for
from wangge.ledger.models import Person
from wangge.linkage import mapping, selectors, services
from wangge.linkage.models import (
    BatchRow,
    FieldValue,
    LinkMethod,
    Pair,
    PairStatus,
    RowStatus,
)
from wangge.linkage.tests.factories import (
    MZ_HEADERS,
    csv_table,
    full_width,
    legacy,
    mz_row,
)

pytestmark = pytest.mark.django_db

YINGNAN = "440704003001"


def who(username: str) -> Scope:
    return scope_for(User.objects.get(username=username))


def people(prefix: str = YINGNAN) -> list[Person]:
    return list(
        Person.objects.dangerously_unscoped()
        .filter(grid_code__startswith=prefix, retired_on=None)
        .exclude(id_number="")
        .order_by("pk")
    )


def source(actor: Scope, **kw: Any) -> Any:
    return services.source_save(
        actor=actor,
        code=kw.pop("code", "mz-elderly"),
        kind="people",
        name="民政高龄津贴名单",
        department_code="minzheng",
        **kw,
    )


def test_mapping_suggested_from_a_departments_headers() -> None:
    got = mapping.suggest("people", MZ_HEADERS)
    assert got == {
        "name": "老人姓名",
        "gender": "性别",
        "id_number": "公民身份号码",
        "birth_date": "出生年月",
        "phone": "联系电话",
        "address": "现住址",
        "status": "享受状态",
    }
    assert mapping.suggest("people", ["身份证号", "手机", "居住地址", "姓名"]) == {
        "name": "姓名",
        "id_number": "身份证号",
        "phone": "手机",
        "address": "居住地址",
    }
    with pytest.raises(ValidationFailed) as err:
        mapping.check("people", mapping.suggest("people", ["电话", "住址"]), ["电话", "住址"])
    assert err.value.code == "bad_mapping"


def test_import_accounts_for_every_row_and_stores_nothing_in_plaintext(system: Scope) -> None:
    src = source(system)
    p = people()[0]
    table = csv_table(MZ_HEADERS, [mz_row(1, p), [2, "", "男", "", "", "", "", ""], mz_row(3, p)])
    summary = services.batch_import(
        actor=system, source_code=src.code, table=table, filename="mz.csv"
    )
    assert (summary.rows, summary.pending, summary.rejected) == (3, 2, 1)
    assert [(e["row"], e["column"]) for e in summary.errors] == [(3, "老人姓名")]
    assert summary.warnings == []
    bad = services.batch_import(
        actor=system,
        source_code=src.code,
        table=csv_table(MZ_HEADERS, [mz_row(1, p, id_number=p.id_number[:17] + "Y")]),
        filename="mz.csv",
    )
    assert bad.pending == 1 and [(w["row"], w["column"]) for w in bad.warnings] == [
        (2, "公民身份号码")
    ]
    src.refresh_from_db()
    assert src.mapping["id_number"] == "公民身份号码"  # remembered for the next file
    with connection.cursor() as cur:
        cur.execute('SELECT "values" FROM linkage_batchrow')
        stored = " ".join(r[0] for r in cur.fetchall())
    assert p.id_number not in stored and p.phone not in stored and p.name not in stored
    assert AuditEntry.objects.filter(action="linkage.import").count() == 2


def test_run_links_exact_forms_probable_and_new_and_counts_every_row(system: Scope) -> None:
    src = source(system, upper=0.9, lower=0.5)
    ps = people()
    a, b, c, d = ps[0], ps[1], ps[2], ps[3]
    rows = [
        mz_row(1, a),  # the same number
        mz_row(2, b, id_number=legacy(b.id_number)),  # its 15-digit legacy form
        mz_row(3, c, id_number=full_width(c.id_number.lower())),  # full-width, lower-case x
        mz_row(4, d, id_number=""),  # no number: the model decides on name, birth, phone
        [5, "欧阳某某", "男", "", "1931/02/03", "13000000000", "外地", "正常发放"],  # nobody
        [6, "", "", "", "", "", "", ""],  # rejected at import
    ]
    batch = services.batch_import(
        actor=system, source_code=src.code, table=csv_table(MZ_HEADERS, rows), filename="mz.csv"
    ).batch
    counts = services.batch_run(actor=system, batch_id=batch.pk)
    assert set(counts) == set(services.RUN_KEYS)
    assert counts["rows"] == 6
    assert sum(counts[k] for k in services.RUN_KEYS if k != "rows") == 6
    by_row = {r.row: r for r in BatchRow.objects.dangerously_unscoped().filter(batch=batch)}
    for n, person in ((2, a), (3, b), (4, c)):
        assert (by_row[n].status, by_row[n].method, by_row[n].record_id) == (
            RowStatus.LINKED,
            LinkMethod.EXACT,
            person.pk,
        )
    assert by_row[5].status == RowStatus.LINKED and by_row[5].record_id == d.pk
    assert by_row[5].method == LinkMethod.PROBABLE and by_row[5].probability >= 0.9
    assert by_row[6].status == RowStatus.NEW and by_row[6].record_id is None
    assert by_row[7].status == RowStatus.REJECTED
    assert counts["linked_exact"] == 3 and counts["linked_probable"] == 1
    # The linked rows' grids are their records' (scope follows the person).
    assert by_row[2].grid_code == a.grid_code
    # Re-running links nothing twice.
    assert services.batch_run(actor=system, batch_id=batch.pk) == counts


def test_review_pairs_decided_by_the_community_of_the_grid(system: Scope) -> None:
    # Thresholds that put every candidate in review: the flow, not the model, is tested here.
    src = source(system, upper=1.0, lower=0.01)
    p = people()[0]
    rows = [mz_row(1, p, id_number="", phone="")]
    batch = services.batch_import(
        actor=system, source_code=src.code, table=csv_table(MZ_HEADERS, rows), filename="mz.csv"
    ).batch
    counts = services.batch_run(actor=system, batch_id=batch.pk)
    assert counts["review"] == 1
    pairs = list(Pair.objects.dangerously_unscoped().filter(batch_row__batch=batch))
    assert pairs and pairs[0].record_id == p.pk and pairs[0].grid_code == p.grid_code
    assert all(set(e) == {"field", "level", "weight"} for e in pairs[0].evidence)
    # Another street's officer does not see it: not found, not forbidden.
    outsider = who("demo-district")  # covers everything
    assert selectors.pair_queue(actor=outsider).filter(pk=pairs[0].pk).exists()
    community = who("demo-community")
    best = selectors.pair_queue(actor=community).filter(batch_row__batch=batch).first()
    assert best is not None and best.record_id == p.pk
    detail = selectors.pair_detail(actor=community, pair_id=best.pk)
    shown = {f["field"]: f for f in detail["fields"]}
    assert shown["id_number"]["right"].endswith("*" * 12)  # masked to its region
    assert shown["birth_date"]["right"] == str(
        p.birth_date.year if p.birth_date else ""
    )  # the year, never the date
    services.pair_decide(actor=community, pair_id=best.pk, decision="accept", note="核实")
    row = BatchRow.objects.dangerously_unscoped().get(batch=batch)
    assert (row.status, row.method, row.record_id) == (RowStatus.LINKED, LinkMethod.REVIEWED, p.pk)
    assert (
        not Pair.objects.dangerously_unscoped()
        .filter(batch_row=row, status=PairStatus.OPEN)
        .exists()
    )
    with pytest.raises(Conflict):
        services.pair_decide(actor=community, pair_id=best.pk, decision="reject")
    assert AuditEntry.objects.filter(action="linkage.pair_accept").count() == 1


def test_a_reviewer_outside_the_grid_gets_not_found(system: Scope) -> None:
    src = source(system, upper=1.0, lower=0.01)
    p = people("440704001")[0]  # 江南街道, outside demo-community's 英南村
    batch = services.batch_import(
        actor=system,
        source_code=src.code,
        table=csv_table(MZ_HEADERS, [mz_row(1, p, id_number="", phone="")]),
        filename="mz.csv",
    ).batch
    services.batch_run(actor=system, batch_id=batch.pk)
    pair = (
        Pair.objects.dangerously_unscoped().filter(batch_row__batch=batch, record_id=p.pk).first()
    )
    assert pair is not None
    with pytest.raises(NotFound):
        services.pair_decide(actor=who("demo-community"), pair_id=pair.pk, decision="accept")
    with pytest.raises(NotFound):
        selectors.pair_detail(actor=who("demo-community"), pair_id=pair.pk)
    # A grid leader may not review at all; a department officer has no linkage.
    with pytest.raises(NotFound):
        selectors.pair_queue(actor=who("demo-dept"))


def test_rejecting_the_only_candidate_makes_the_row_new(system: Scope) -> None:
    src = source(system, upper=1.0, lower=0.01, below="tag")
    p = people()[0]
    batch = services.batch_import(
        actor=system,
        source_code=src.code,
        table=csv_table(MZ_HEADERS, [mz_row(1, p, id_number="", phone="")]),
        filename="mz.csv",
    ).batch
    services.batch_run(actor=system, batch_id=batch.pk)
    for pair in Pair.objects.dangerously_unscoped().filter(batch_row__batch=batch):
        services.pair_decide(actor=system, pair_id=pair.pk, decision="reject")
    row = BatchRow.objects.dangerously_unscoped().get(batch=batch)
    assert row.status == RowStatus.NEW and row.record_id is None


def test_provenance_lists_values_encrypted_and_the_trusted_source_wins(system: Scope) -> None:
    p = people()[0]
    gongan = services.source_save(
        actor=system, code="ga", kind="people", name="公安流动人口", trusted=["phone"]
    )
    minzheng = source(system, care_tag="elderly_alone")
    for src, phone in ((gongan, "13811112222"), (minzheng, "13833334444")):
        batch = services.batch_import(
            actor=system,
            source_code=src.code,
            table=csv_table(MZ_HEADERS, [mz_row(1, p, phone=phone)]),
            filename="x.csv",
        ).batch
        services.batch_run(actor=system, batch_id=batch.pk)
    detail = selectors.record_provenance(actor=who("demo-grid"), kind="people", record_id=p.pk)
    phones = next(f for f in detail["fields"] if f["field"] == "phone")
    assert phones["conflict"] is True
    winner = next(v for v in phones["values"] if v["wins"])
    assert winner["source_code"] == "ga"  # trusted for phone, although older
    assert winner["value"] == "138****2222"  # masked
    assert FieldValue._meta.get_field("value").column == "value"
    with connection.cursor() as cur:
        cur.execute('SELECT "value" FROM linkage_fieldvalue')
        stored = " ".join(r[0] for r in cur.fetchall())
    assert "13811112222" not in stored and p.id_number not in stored
    p.refresh_from_db()
    assert "elderly_alone" in p.care_tags.split(",")


def test_settings_are_checked(system: Scope) -> None:
    with pytest.raises(ValidationFailed):
        services.source_save(actor=system, code="bad code!", kind="people")
    with pytest.raises(ValidationFailed):
        services.source_save(actor=system, code="x", kind="people", upper=0.4, lower=0.6)
    services.source_save(actor=system, code="x", kind="people")
    with pytest.raises(Conflict):
        services.source_save(actor=system, code="x", kind="organisations")
    with pytest.raises(NotFound):
        services.source_save(actor=who("demo-street"), code="y", kind="people")


def test_rows_page_is_masked(system: Scope) -> None:
    src = source(system)
    p = people()[0]
    batch = services.batch_import(
        actor=system,
        source_code=src.code,
        table=csv_table(MZ_HEADERS, [mz_row(1, p)]),
        filename="mz.csv",
    ).batch
    _b, rows = selectors.batch_rows(actor=who("demo-district"), batch_id=batch.pk)
    text = json.dumps(rows, ensure_ascii=False)
    assert p.id_number not in text and p.phone not in text
    assert rows[0]["values"]["birth_date"] == str(p.birth_date.year if p.birth_date else "")


def test_duplicates_found_reviewed_merged_and_undone(system: Scope) -> None:
    from wangge.ledger import services as ledger
    from wangge.ledger.tests.factories import PersonFactory

    original = people()[0]
    # The same person registered again in another grid of the same community, with a typo in
    # the number (so the ledger's own duplicate check let it through).
    other_grid = "440704003001002"
    from wangge.core.validators import id_check_char

    body = original.id_number[:14] + str((int(original.id_number[14]) + 1) % 10)
    body += original.id_number[15:17]
    typo = body + id_check_char(body)  # one digit mistyped, the check digit made to fit
    twin = PersonFactory.create(
        grid_code=other_grid,
        name=original.name,
        gender=original.gender,
        id_number=typo,
        birth_date=original.birth_date,
        phone=original.phone,
        current_address=original.current_address,
    )
    found = services.duplicates_find(actor=system, region_code=YINGNAN)
    assert found["queued"] >= 1
    pair = Pair.objects.dangerously_unscoped().get(
        kind="duplicate", left_id=min(original.pk, twin.pk), record_id=max(original.pk, twin.pk)
    )
    assert pair.grid_code == YINGNAN  # two grids: the community that holds both reviews it
    assert services.duplicates_find(actor=system, region_code=YINGNAN)["queued"] == 0
    # A grid's leader may not review; the community may.
    with pytest.raises(NotFound):
        services.pair_decide(actor=who("demo-grid"), pair_id=pair.pk, decision="accept")
    # A list had linked the twin: its link and provenance follow the merge.
    src = source(system)
    batch = services.batch_import(
        actor=system,
        source_code=src.code,
        table=csv_table(MZ_HEADERS, [mz_row(1, twin)]),
        filename="mz.csv",
    ).batch
    services.batch_run(actor=system, batch_id=batch.pk)
    assert BatchRow.objects.dangerously_unscoped().get(batch=batch).record_id == twin.pk
    decided = services.pair_decide(
        actor=who("demo-community"),
        pair_id=pair.pk,
        decision="accept",
        note="同一人重复登记",
        survivor_id=original.pk,
    )
    assert decided.status == PairStatus.ACCEPTED and decided.merge_id
    twin.refresh_from_db()
    assert twin.retired_on is not None and twin.merged_into_id == original.pk
    assert BatchRow.objects.dangerously_unscoped().get(batch=batch).record_id == original.pk
    assert FieldValue.objects.dangerously_unscoped().filter(record_id=twin.pk).count() == 0
    ledger.unmerge_records(actor=system, merge_id=decided.merge_id, reason="误合并")
    twin.refresh_from_db()
    assert twin.retired_on is None
    assert BatchRow.objects.dangerously_unscoped().get(batch=batch).record_id == twin.pk
    assert FieldValue.objects.dangerously_unscoped().filter(record_id=twin.pk).count() > 0
