"""Merging two ledger records found to be one (a person registered twice, in two grids or with
a typo; an organisation entered twice), and undoing it.

`merge_records` keeps the survivor and retires the other as a duplicate (`merged_into`, never
deleted). What belonged to the merged record moves to the survivor, and a `RecordMerge` keeps
exactly what moved (ids and field names; personal bits encrypted in `sealed`), so that
`unmerge_records` puts it back:

- household membership (the survivor joins the merged record's household when it has none;
  two different households are refused: which one is right is a person's decision) and the
  households whose head the merged person was;
- care groups (the union); special-group tags (copied to the survivor: the merged record keeps
  its own, so undoing deletes the copies and nothing is lost);
- referrals that named the merged record;
- the survivor's blank fields, filled from the merged record — a value the survivor has is never
  overwritten; where the two disagree the field's name is recorded as a conflict;
- through merge hooks, the references that modules above the ledger hold (campaign worklists,
  linkage's links): the ledger imports none of them (`register_merge_hook`).

Both records must be current and editable by the actor (the grant covering each decides, as
for any edit: NotFound outside the view, PermissionDenied without `ledger.edit`). Both get a new
version and a `LedgerChange` ("merge" / "unmerge"); one audit entry (`ledger.merge`,
`ledger.unmerge`) holds counts, never values.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.errors import Conflict, NotFound, ValidationFailed
from wangge.core.scope import Scope, as_scope
from wangge.ledger.importers import person_id_index, phone_index
from wangge.ledger.models import (
    Household,
    LedgerRecord,
    Organisation,
    Person,
    RecordMerge,
    Referral,
    RetireReason,
    SensitiveTag,
)
from wangge.ledger.services import records

MERGE_MODELS: dict[str, type[LedgerRecord]] = {"person": Person, "organisation": Organisation}

# Fields filled on the survivor when blank there (never overwritten), and compared for the
# conflict list. Names and kinds are compared only: a record is never renamed by a merge.
FILL_FIELDS: dict[str, tuple[str, ...]] = {
    "person": (
        "gender",
        "ethnicity",
        "birth_date",
        "id_number",
        "phone",
        "registered_address",
        "current_address",
        "room",
        "move_in",
        "expected_leave",
        "employer",
        "occupation",
        "marital_status",
        "education",
        "political_status",
    ),
    "organisation": (
        "credit_code",
        "legal_representative",
        "phone",
        "address",
        "room",
        "lon",
        "lat",
        "employees",
        "key_tags",
    ),
}
COMPARE_ONLY: dict[str, tuple[str, ...]] = {
    "person": ("name", "population_type"),
    "organisation": ("name", "kind"),
}
# A filled field takes its companions with it (the blind index, the check flag).
COMPANIONS: dict[str, tuple[str, ...]] = {
    "id_number": ("id_index", "id_checked"),
    "phone": ("phone_index",),
}
HEAD_RELATION = "户主"
RESERVED = "ledger"  # moves["ledger"] holds what the ledger itself moved


# -- hooks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeHook:
    name: str
    on_merge: Callable[[RecordMerge], dict[str, Any]]
    on_unmerge: Callable[[RecordMerge, dict[str, Any]], None]


_HOOKS: dict[str, MergeHook] = {}


def register_merge_hook(
    name: str,
    on_merge: Callable[[RecordMerge], dict[str, Any]],
    on_unmerge: Callable[[RecordMerge, dict[str, Any]], None],
) -> None:
    """Let a module above the ledger move its own references to a merged record (called from
    its AppConfig.ready; registering the same name again replaces it).

    Both run inside the merge's transaction, after the permission checks: `on_merge(merge)`
    moves what references (merge.kind, merge.merged_id) to merge.survivor_id and returns what
    it moved (JSON: ids, never personal values), stored as `merge.moves[name]`;
    `on_unmerge(merge, that)` puts it back, or raises Conflict to refuse the undo. Hooks run in
    the order registered on merge and in reverse on undo."""
    if name == RESERVED:
        raise ValueError(f"the merge hook name {name!r} is the ledger's own")
    _HOOKS[name] = MergeHook(name, on_merge, on_unmerge)


def merge_hook_names() -> list[str]:
    return list(_HOOKS)


# -- helpers -----------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _value(record: LedgerRecord, field: str) -> Any:
    """A field's value for comparison (a foreign key by its id)."""
    return getattr(record, "room_id" if field == "room" else field)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationFailed(
            _("Say why (at least two characters)."),
            code="reason_required",
            details={"field": "reason"},
        )
    return reason[:500]


def _model(kind: str) -> type[LedgerRecord]:
    if kind not in MERGE_MODELS:
        raise ValidationFailed(
            _("Only people and organisations can be merged."),
            code="unknown_kind",
            details={"field": "kind"},
        )
    return MERGE_MODELS[kind]


def _pair_for_edit(
    scope: Scope, model: type[LedgerRecord], kind: str, first: Any, second: Any
) -> tuple[Any, Any]:
    """Both records, locked in primary-key order (two merges at once cannot deadlock), if the
    actor may edit each (the grant covering each decides)."""
    try:
        ids = (int(first), int(second))
    except (TypeError, ValueError):
        raise NotFound() from None
    locked = {pk: records.for_edit(model, actor=scope, kind=kind, pk=pk) for pk in sorted(set(ids))}
    return locked[ids[0]], locked[ids[1]]


def _seal(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def _unseal(merge: RecordMerge) -> dict[str, Any]:
    return json.loads(merge.sealed) if merge.sealed else {}


def _counts(moves: dict[str, Any]) -> dict[str, int]:
    """How many of each thing moved, for the audit entry (special groups left out: even their
    number would say that a person is in one)."""
    ledger = moves.get(RESERVED, {})
    counts = {
        "fields": len(ledger.get("filled", [])),
        "households": households_touched(ledger),
        "referrals": len(ledger.get("referrals", [])),
        "care_tags": int(ledger.get("care_tags_added", 0)),
    }
    for name, moved in moves.items():
        if name == RESERVED or not isinstance(moved, dict):
            continue
        for key, value in moved.items():
            if isinstance(value, list):
                counts[f"{name}.{key}"] = len(value)
    return counts


def households_touched(ledger: dict[str, Any]) -> int:
    """How many households the merge touched (as head or as member)."""
    membership = ledger.get("household")
    return len({*ledger.get("heads", []), *([membership["id"]] if membership else [])})


def _bump_household(household: Household, scope: Scope, action: str, changed: list[str]) -> None:
    records.save_change(
        household,
        actor=scope,
        kind="household",
        action=action,
        changed=changed,
        save=[c for c in changed if c != "members"],
        audited=False,
    )


# -- merge -------------------------------------------------------------------------------------


@transaction.atomic
def merge_records(
    *, actor: Any, kind: str, survivor_id: int, merged_id: int, reason: str
) -> RecordMerge:
    """Merge `merged_id` into `survivor_id` (kind "person" or "organisation"); see the module's
    docstring for what moves. Raises NotFound (either record missing or out of view),
    PermissionDenied (seen but not editable), ValidationFailed (the same record, a retired one,
    no reason) or Conflict (two different households)."""
    scope = as_scope(actor)
    model = _model(kind)
    survivor, merged = _pair_for_edit(scope, model, kind, survivor_id, merged_id)
    if survivor.pk == merged.pk:
        raise ValidationFailed(_("A record cannot be merged with itself."), code="same_record")
    if survivor.retired or merged.retired:
        raise ValidationFailed(
            _("Only current records can be merged; this one is retired."), code="retired"
        )
    reason = _reason(reason)
    moved: dict[str, Any] = {}
    sealed: dict[str, Any] = {}
    survivor_changed: list[str] = []
    merged_changed: list[str] = []

    # Blank fields filled, disagreements listed. A unique value (the ID number's blind index,
    # the credit code) leaves the merged record before the survivor takes it.
    filled, conflicts = [], []
    for field in FILL_FIELDS[kind]:
        mine, theirs = _value(survivor, field), _value(merged, field)
        if _blank(theirs) or mine == theirs:
            continue
        if _blank(mine):
            filled.append(field)
        else:
            conflicts.append(field)
    conflicts += [f for f in COMPARE_ONLY[kind] if _value(survivor, f) != _value(merged, f)]
    taken = {f: getattr(merged, f) for f in filled if f != "room"}
    if "id_number" in filled and merged.id_index:
        merged.id_index = None
        merged.save(update_fields=["id_index"])
        moved["merged_id_index"] = True
        merged_changed.append("id_number")
    if "credit_code" in filled:
        moved["merged_credit_code"] = merged.credit_code  # a public registry number
        merged.credit_code = ""
        merged.save(update_fields=["credit_code"])
        merged_changed.append("credit_code")
    for field in filled:
        if field == "room":
            survivor.room_id = merged.room_id
            survivor_changed.append("room_id")
            continue
        setattr(survivor, field, taken[field])
        survivor_changed.append(field)
        if field == "id_number":
            survivor.id_index = person_id_index(merged.id_number)
            survivor.id_checked = merged.id_checked
        elif field == "phone":
            survivor.phone_index = phone_index(merged.phone)
        survivor_changed += COMPANIONS.get(field, ())
    moved["filled"] = filled

    if kind == "person":
        _merge_person(scope, survivor, merged, moved, sealed, survivor_changed, merged_changed)

    referrals = list(
        Referral.objects.dangerously_unscoped()  # the records were fetched in scope above
        .filter(kind=kind, existing_id=merged.pk)
        .values_list("pk", flat=True)
    )
    if referrals:
        Referral.objects.dangerously_unscoped().filter(pk__in=referrals).update(
            existing_id=survivor.pk
        )
    moved["referrals"] = referrals

    merged.retired_on = timezone.localdate()
    merged.retired_reason = RetireReason.DUPLICATE
    merged.retired_note = ""  # the page says where it went (merged_into)
    merged.merged_into_id = survivor.pk
    merged_changed += [*records.RETIRED_FIELDS, "merged_into_id"]
    _save(survivor, scope, kind, "merge", survivor_changed)
    _save(merged, scope, kind, "merge", merged_changed)
    moved["survivor_version"], moved["merged_version"] = survivor.version, merged.version

    merge = RecordMerge.objects.create(
        kind=kind,
        survivor_id=survivor.pk,
        merged_id=merged.pk,
        grid_code=survivor.grid_code,
        merged_grid_code=merged.grid_code,
        reason=reason,
        moves={RESERVED: moved},
        conflicts=sorted(conflicts),
        sealed=_seal(sealed) if sealed else "",
        created_by_id=scope.user_id,
        created_by_name=scope.username,
        created_at=timezone.now(),
    )
    for hook in _HOOKS.values():
        merge.moves[hook.name] = hook.on_merge(merge) or {}
    merge.save(update_fields=["moves"])
    audit_record(
        actor=scope,
        action="ledger.merge",
        object_type=kind,
        object_id=survivor.pk,
        details={
            "kind": kind,
            "survivor": survivor.pk,
            "merged": merged.pk,
            "merge": merge.pk,
            "counts": _counts(merge.moves),
            "conflicts": merge.conflicts,
        },
    )
    return merge


def _merge_person(
    scope: Scope,
    survivor: Person,
    merged: Person,
    moved: dict[str, Any],
    sealed: dict[str, Any],
    survivor_changed: list[str],
    merged_changed: list[str],
) -> None:
    """Household, heads, care groups and special-group tags of a merged person."""
    household_id = merged.household_id
    if household_id is not None:
        if survivor.household_id not in (None, household_id):
            raise Conflict(
                _(
                    "The two people belong to different households. Take one of them out of "
                    "their household first, then merge."
                ),
                code="different_households",
            )
        joined = survivor.household_id is None
        sealed["merged_relation"] = merged.relation
        if joined:
            survivor.household_id, survivor.relation = household_id, merged.relation
            survivor_changed += ["household_id", "relation"]
        merged.household_id, merged.relation = None, ""
        merged_changed += ["household_id", "relation"]
        moved["household"] = {"id": household_id, "survivor_joined": joined}
    heads = list(
        Household.objects.dangerously_unscoped()  # the people were fetched in scope above
        .select_for_update()
        .filter(head_id=merged.pk)
        .order_by("pk")
    )
    for household in heads:
        household.head_id = survivor.pk
        _bump_household(household, scope, "merge", ["head_id"])
        if survivor.household_id == household.pk and survivor.relation != HEAD_RELATION:
            sealed["survivor_relation"] = survivor.relation
            survivor.relation = HEAD_RELATION
            if "relation" not in survivor_changed:
                survivor_changed.append("relation")
    moved["heads"] = [h.pk for h in heads]
    if household_id is not None and household_id not in moved["heads"]:
        household = (
            Household.objects.dangerously_unscoped().select_for_update().get(pk=household_id)
        )
        _bump_household(household, scope, "merge", ["members"])

    mine = survivor.care_tag_list()
    added = [t for t in merged.care_tag_list() if t not in mine]
    if added:
        survivor.care_tags = ",".join(mine + added)
        survivor_changed.append("care_tags")
        sealed["care_tags_added"] = added
    moved["care_tags_added"] = len(added)

    # Copies, not moves: the merged record keeps its own, so undoing deletes the copies.
    tags = SensitiveTag.objects.dangerously_unscoped()
    have = set(tags.filter(person_id=survivor.pk).values_list("tag_index", flat=True))
    copies = [
        SensitiveTag(
            person_id=survivor.pk, grid_code=survivor.grid_code, tag=t.tag, tag_index=t.tag_index
        )
        for t in tags.filter(person_id=merged.pk).order_by("pk")
        if t.tag_index not in have
    ]
    for copy in copies:
        copy.save(force_insert=True)
    moved["sensitive_tags"] = [c.pk for c in copies]


INDEX_FIELDS = ("id_index", "id_checked", "phone_index")


def _save(record: LedgerRecord, scope: Scope, kind: str, action: str, changed: list[str]) -> None:
    """A new version and a "merge"/"unmerge" change (the blind indexes are saved, not logged)."""
    records.save_change(
        record,
        actor=scope,
        kind=kind,
        action=action,
        changed=sorted({c for c in changed if c not in INDEX_FIELDS}),
        extra_fields=tuple(sorted({c for c in changed if c in INDEX_FIELDS})),
        audited=False,
    )


# -- undo --------------------------------------------------------------------------------------


@transaction.atomic
def unmerge_records(*, actor: Any, merge_id: int, reason: str) -> RecordMerge:
    """Undo a merge: put back exactly what moved, restore the merged record (current again,
    its blind index and credit code back), clear the survivor's filled fields that still hold
    the merged record's values (a field the survivor changed since keeps its value).

    NotFound when the merge is unknown or the actor sees neither record; PermissionDenied
    without `ledger.edit` over both. Conflict when it was undone already, or when what changed
    since makes an exact undo unsafe: the survivor was itself merged into another record since
    (undo that first), the merged record was changed out of its merged state, the survivor
    became head of the household it joined, or the merged record's ID number or credit code is
    now someone else's."""
    scope = as_scope(actor)
    try:
        merge = (
            RecordMerge.objects.dangerously_unscoped()  # the records decide, below
            .select_for_update()
            .get(pk=int(merge_id))
        )
    except (RecordMerge.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    kind = merge.kind
    model = _model(kind)
    survivor, merged = _pair_for_edit(scope, model, kind, merge.survivor_id, merge.merged_id)
    reason = _reason(reason)
    if merge.undone:
        raise Conflict(_("This merge was undone already."), code="already_undone")
    if survivor.merged_into_id is not None:
        raise Conflict(
            _("The surviving record was merged into another record since. Undo that merge first."),
            code="survivor_merged",
        )
    if merged.merged_into_id != survivor.pk or merged.retired_reason != RetireReason.DUPLICATE:
        raise Conflict(
            _("The merged record was changed since; it cannot be unmerged automatically."),
            code="merged_changed",
        )
    moved = merge.moves.get(RESERVED, {})
    sealed = _unseal(merge)

    for hook in reversed(list(_HOOKS.values())):
        if hook.name in merge.moves:
            hook.on_unmerge(merge, merge.moves[hook.name])

    survivor_changed: list[str] = []
    merged_changed: list[str] = []
    referrals = Referral.objects.dangerously_unscoped().filter(  # fetched in scope above
        pk__in=moved.get("referrals", []), kind=kind, existing_id=survivor.pk
    )
    referrals.update(existing_id=merged.pk)

    if kind == "person":
        _unmerge_person(scope, survivor, merged, moved, sealed, survivor_changed, merged_changed)

    # Filled fields go back to blank where the survivor still holds the merged record's value;
    # unique values are cleared on the survivor before the merged record takes them back.
    kept = []
    for field in moved.get("filled", []):
        if field == "id_number":
            same = survivor.id_index == person_id_index(merged.id_number)
        elif field == "credit_code":
            same = survivor.credit_code == moved.get("merged_credit_code")
        else:
            same = _value(survivor, field) == _value(merged, field)
        if not same:
            kept.append(field)
            continue
        if field == "room":
            survivor.room_id = None
            survivor_changed.append("room_id")
            continue
        setattr(survivor, field, None if model._meta.get_field(field).null else "")
        survivor_changed.append(field)
        if field == "id_number":
            survivor.id_index, survivor.id_checked = None, True
        elif field == "phone":
            survivor.phone_index = ""
        survivor_changed += COMPANIONS.get(field, ())
    # Saved first: a unique value it gives back must be free before the merged record takes it.
    _save(survivor, scope, kind, "unmerge", survivor_changed)

    if moved.get("merged_id_index"):
        index = person_id_index(merged.id_number)
        if (
            model.objects.dangerously_unscoped()
            .filter(id_index=index)
            .exclude(pk=merged.pk)
            .exists()
        ):
            raise Conflict(
                _("The merged record's ID number is now used by another record."),
                code="id_number_taken",
            )
        merged.id_index = index
        merged_changed += ["id_number", "id_index"]
    if moved.get("merged_credit_code"):
        code = moved["merged_credit_code"]
        if (
            model.objects.dangerously_unscoped()
            .filter(credit_code=code)
            .exclude(pk=merged.pk)
            .exists()
        ):
            raise Conflict(
                _("The merged record's credit code is now used by another record."),
                code="credit_code_taken",
            )
        merged.credit_code = code
        merged_changed.append("credit_code")
    merged.retired_on, merged.retired_reason, merged.retired_note = None, "", ""
    merged.merged_into_id = None
    merged_changed += [*records.RETIRED_FIELDS, "merged_into_id"]
    _save(merged, scope, kind, "unmerge", merged_changed)

    merge.undone_at = timezone.now()
    merge.undone_by_id, merge.undone_by_name = scope.user_id, scope.username
    merge.undo_reason = reason
    merge.moves[RESERVED] = {**moved, "kept_on_undo": kept}
    merge.save(
        update_fields=["undone_at", "undone_by_id", "undone_by_name", "undo_reason", "moves"]
    )
    audit_record(
        actor=scope,
        action="ledger.unmerge",
        object_type=kind,
        object_id=survivor.pk,
        details={
            "kind": kind,
            "survivor": survivor.pk,
            "merged": merged.pk,
            "merge": merge.pk,
            "counts": _counts(merge.moves),
            "kept": kept,
        },
    )
    return merge


def _unmerge_person(
    scope: Scope,
    survivor: Person,
    merged: Person,
    moved: dict[str, Any],
    sealed: dict[str, Any],
    survivor_changed: list[str],
    merged_changed: list[str],
) -> None:
    heads = list(
        Household.objects.dangerously_unscoped()  # the people were fetched in scope above
        .select_for_update()
        .filter(pk__in=moved.get("heads", []))
        .order_by("pk")
    )
    membership = moved.get("household")
    if membership:
        household = (
            Household.objects.dangerously_unscoped()
            .select_for_update()
            .filter(pk=membership["id"])
            .first()
        )
        if household is None:
            raise Conflict(
                _("The household the merged person belonged to no longer exists."),
                code="household_gone",
            )
        if (
            membership["survivor_joined"]
            and survivor.household_id == household.pk
            and household.head_id == survivor.pk
            and household.pk not in moved.get("heads", [])
        ):
            raise Conflict(
                _(
                    "The surviving person was made head of the household since. Make another "
                    "member head first, then undo the merge."
                ),
                code="survivor_is_head",
            )
    for household in heads:
        if household.head_id == survivor.pk:
            household.head_id = merged.pk
            _bump_household(household, scope, "unmerge", ["head_id"])
    if membership:
        if membership["survivor_joined"] and survivor.household_id == membership["id"]:
            survivor.household_id, survivor.relation = None, ""
            survivor_changed += ["household_id", "relation"]
        elif (
            "survivor_relation" in sealed
            and survivor.household_id == membership["id"]
            and survivor.relation == HEAD_RELATION
        ):
            survivor.relation = sealed["survivor_relation"]
            survivor_changed.append("relation")
        merged.household_id = membership["id"]
        merged.relation = sealed.get("merged_relation", "")
        merged_changed += ["household_id", "relation"]
        if membership["id"] not in moved.get("heads", []):
            household = Household.objects.dangerously_unscoped().get(pk=membership["id"])
            _bump_household(household, scope, "unmerge", ["members"])

    added = sealed.get("care_tags_added", [])
    if added:
        tags = [t for t in survivor.care_tag_list() if t not in added]
        if tags != survivor.care_tag_list():
            survivor.care_tags = ",".join(tags)
            survivor_changed.append("care_tags")

    SensitiveTag.objects.dangerously_unscoped().filter(
        pk__in=moved.get("sensitive_tags", []), person_id=survivor.pk
    ).delete()
