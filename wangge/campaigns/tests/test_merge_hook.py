"""The campaigns' merge hook: when two ledger records are merged, worklist rows and field edits
that name the merged one move to the survivor, and back when the merge is undone."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.campaigns.models import FieldEdit, TaskRecord
from wangge.campaigns.tests.factories import campaign, task_of
from wangge.core.errors import Conflict
from wangge.core.models import AuditEntry, User
from wangge.core.scope import Scope, scope_for
from wangge.ledger import services
from wangge.ledger.models import Person, RecordMerge
from wangge.ledger.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

MINE = "440704003001001"
NEXT = "440704003001002"


def who(username: str) -> Scope:
    return scope_for(User.objects.get(username=username))


def references(*ids: int) -> dict[str, Any]:
    return {
        "tasks": sorted(
            TaskRecord.objects.dangerously_unscoped()
            .filter(kind="person", record_id__in=ids)
            .values_list("pk", "task_id", "record_id")
        ),
        "edits": sorted(
            FieldEdit.objects.dangerously_unscoped()
            .filter(kind="person", record_id__in=ids)
            .values_list("pk", "record_id")
        ),
    }


def merge(survivor: Person, merged: Person) -> RecordMerge:
    return services.merge_records(
        actor=who("demo-community"),
        kind="person",
        survivor_id=survivor.pk,
        merged_id=merged.pk,
        reason="同一人登记两次",
    )


@pytest.fixture
def world() -> tuple[Person, Person, Any]:
    """One person in MINE and in NEXT, both on a campaign's worklists; the merged one also on
    MINE's task (which lists the survivor already) and with an edit sent from the field."""
    survivor = PersonFactory.create(grid_code=MINE)
    merged = PersonFactory.create(grid_code=NEXT)
    c = campaign(regions=[MINE[:12]])
    return survivor, merged, c


def test_merge_moves_worklist_rows_and_edits_and_undo_puts_them_back(world: Any) -> None:
    survivor, merged, c = world
    mine, nxt = task_of(c, MINE), task_of(c, NEXT)
    rows = TaskRecord.objects.dangerously_unscoped()
    assert rows.filter(task=nxt, kind="person", record_id=merged.pk).exists()
    extra = rows.create(
        task=mine, campaign_id_copy=c.pk, grid_code=MINE, kind="person", record_id=merged.pk
    )
    edit = FieldEdit.objects.create(
        key="merge-test-1",
        task=nxt,
        grid_code=NEXT,
        made_at=c.created_at,
        received_at=c.created_at,
        op="confirm",
        kind="person",
        record_id=merged.pk,
        status="applied",
    )
    before = references(survivor.pk, merged.pk)

    result = merge(survivor, merged)

    hook = result.moves["campaigns"]
    moved = rows.get(task=nxt, kind="person", record_id=survivor.pk)
    assert hook["task_records"] == [moved.pk]
    # MINE's task lists the survivor already: its row for the merged record stays, recorded.
    assert hook["task_records_skipped"] == [extra.pk]
    assert rows.get(pk=extra.pk).record_id == merged.pk
    assert FieldEdit.objects.dangerously_unscoped().get(pk=edit.pk).record_id == survivor.pk
    assert hook["field_edits"] == [edit.pk]
    audit = AuditEntry.objects.filter(action="ledger.merge").order_by("-seq")[0]
    assert audit.details["counts"]["campaigns.task_records"] == 1

    services.unmerge_records(actor=who("demo-community"), merge_id=result.pk, reason="误合并")
    assert references(survivor.pk, merged.pk) == before


def test_undo_is_refused_when_a_task_lists_the_merged_record_again(world: Any) -> None:
    survivor, merged, c = world
    nxt = task_of(c, NEXT)
    result = merge(survivor, merged)
    TaskRecord.objects.dangerously_unscoped().create(
        task=nxt, campaign_id_copy=c.pk, grid_code=NEXT, kind="person", record_id=merged.pk
    )
    with pytest.raises(Conflict) as caught:
        services.unmerge_records(actor=who("demo-community"), merge_id=result.pk, reason="误合并")
    assert caught.value.code == "campaign_record_taken"
    assert Person.objects.dangerously_unscoped().get(pk=merged.pk).merged_into_id == survivor.pk
