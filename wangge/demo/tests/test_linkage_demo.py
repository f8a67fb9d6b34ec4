"""The demo's department lists: three departments' own files, linked, every row accounted for,
some waiting for review in demo-community's grids, the care tags given, and the provenance
page of a linked person (the demo is built once per session by the root conftest)."""

from __future__ import annotations

from collections import Counter

import pytest

from wangge.core.models import User
from wangge.core.scope import scope_for
from wangge.linkage import selectors
from wangge.linkage.models import Batch, BatchRow, Pair, PairStatus, RowStatus

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def test_three_department_lists_linked_with_every_row_accounted_for() -> None:
    batches = {
        b.source.code: b for b in Batch.objects.dangerously_unscoped().select_related("source")
    }
    assert set(batches) == {"mz-elderly", "wj-chronic", "scjg-registry"}
    for batch in batches.values():
        statuses = Counter(
            BatchRow.objects.dangerously_unscoped()
            .filter(batch=batch)
            .values_list("status", flat=True)
        )
        assert sum(statuses.values()) == batch.rows
        assert RowStatus.PENDING not in statuses
        assert batch.counts["linked_exact"] > 0 and batch.counts["linked_probable"] > 0
    assert batches["mz-elderly"].filename.endswith(".xlsx")  # 民政's workbook, its own headers
    assert batches["mz-elderly"].mapping["name"] == "老人姓名"
    assert batches["mz-elderly"].counts["rejected"] == 1  # the row with no name
    assert batches["wj-chronic"].counts["review"] > 0


def test_review_waits_in_grids_and_the_linked_have_provenance() -> None:
    open_pairs = Pair.objects.dangerously_unscoped().filter(status=PairStatus.OPEN)
    assert open_pairs.exists()
    district = scope_for(User.objects.get(username="demo-district"))
    assert selectors.pair_queue(actor=district).count() == open_pairs.count()
    row = (
        BatchRow.objects.dangerously_unscoped()
        .filter(status=RowStatus.LINKED, batch__source__code="mz-elderly")
        .first()
    )
    assert row is not None and row.record_id
    detail = selectors.record_provenance(actor=district, kind="people", record_id=row.record_id)
    assert {"name"} <= {f["field"] for f in detail["fields"]}
    assert detail["record"].care_tags and "elderly" in detail["record"].care_tags.split(",")
