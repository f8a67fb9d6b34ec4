"""People and households: add, correct, move, retire, restore; households' members and head;
the audited look at a person and the reveal of a full ID number or phone.

Every function takes the actor, checks its own rules against the grant that covers the record
(see records.py), runs in one transaction and writes its change log and audit entry. Values are
parsed by the import's own columns (fields.py), so the page, the API and the import agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.errors import Conflict, NotFound, ValidationFailed
from wangge.core.personal import (
    ExactLookup,
    exact_lookup_audit,
    exact_lookup_budget,
    mask_name,
    reveal,
)
from wangge.core.roles import Perm
from wangge.core.scope import as_scope, require_any
from wangge.core.validators import IdNumber
from wangge.ledger import fields as ledger_fields
from wangge.ledger.importers import person_id_index, phone_index, tag_index
from wangge.ledger.models import Household, Person, Referral, RetireReason, Room, SensitiveTag
from wangge.ledger.services import records
from wangge.ledger.services.referrals import Referred, refer

KIND = "person"
PERSON_RETIRE_REASONS = {
    RetireReason.MOVED_AWAY,
    RetireReason.DECEASED,
    RetireReason.DUPLICATE,
    RetireReason.OTHER,
}


def person_viewed(*, actor: Any, person: Person, via: str) -> None:
    """Every look at a person's page is in the audit log (PIPL: who saw whose data)."""
    audit_record(
        actor=actor,
        action="person.view",
        object_type="person",
        object_id=person.pk,
        details={"via": via},
    )


@transaction.atomic
def person_reveal(*, actor: Any, person_id: int, field: str, reason: str) -> str:
    """The full ID number or phone of one person, once: the grant covering the person must
    hold `personal.reveal`, a reason is required, and the look (or its refusal) is audited."""
    from wangge.ledger.selectors import person_get

    if field not in {"id_number", "phone"}:
        raise ValidationFailed(code="invalid_field", details={"field": field})
    person = person_get(actor=actor, person_id=person_id)
    reveal(
        actor=actor,
        object_type="person",
        object_id=person.pk,
        field=field,
        reason=reason,
        codes=[person.grid_code],
    )
    return str(getattr(person, field))


# -- values ----------------------------------------------------------------------------------


def _person_values(
    values: dict[str, Any], *, current: Person | None = None
) -> tuple[dict[str, Any], list[str] | None]:
    """Model attributes from parsed field values, and the special-group tags if given.

    The ID number's parse gives the normalised number; the birth date and gender default to
    the ones the number holds, and a birth date that contradicts it is refused."""
    out: dict[str, Any] = {}
    special = values.pop("special_tags", None)
    parsed: IdNumber | None = None
    if "id_number" in values:
        parsed = values.pop("id_number")
        out["id_number"] = parsed.value if parsed else ""
        out["id_index"] = person_id_index(parsed.value) if parsed else None
        out["id_checked"] = True
    if "phone" in values:
        out["phone"] = values.pop("phone") or ""
        out["phone_index"] = phone_index(out["phone"])
    if "care_tags" in values:
        out["care_tags"] = ",".join(values.pop("care_tags") or [])
    out.update(values)
    if parsed is not None:
        birth = out.get("birth_date") or (current.birth_date if current else None)
        if "birth_date" in out and out["birth_date"] and out["birth_date"] != parsed.birth_date:
            raise ValidationFailed(
                _("The birth date differs from the one in the ID number."),
                code="id_birth_date",
                details={"fields": [{"field": "birth_date", "code": "id_birth_date"}]},
            )
        if not out.get("birth_date") and (birth is None or birth != parsed.birth_date):
            out["birth_date"] = parsed.birth_date
        if not out.get("gender") and not (current and current.gender):
            out["gender"] = parsed.gender
    return out, special


def _parse(raw: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    values, errors = ledger_fields.parse(KIND, raw, creating=creating)
    if errors:
        raise records.invalid(errors)
    return values


def _set_special_tags(person: Person, tags: list[str]) -> bool:
    """Replace the person's special-group tags; returns whether they changed."""
    stored = SensitiveTag.objects.dangerously_unscoped().filter(person=person)
    wanted = {tag_index(t): t for t in tags}
    have = set(stored.values_list("tag_index", flat=True))
    if have == set(wanted):
        return False
    stored.exclude(tag_index__in=list(wanted)).delete()
    SensitiveTag.objects.bulk_create(
        [
            SensitiveTag(person=person, grid_code=person.grid_code, tag=t, tag_index=i)
            for i, t in wanted.items()
            if i not in have
        ]
    )
    return True


# -- duplicates at entry -----------------------------------------------------------------------


def possible_duplicates(
    *, actor: Any, grid_code: str, name: str, birth_date: dt.date | None, phone: str
) -> list[Person]:
    """People in the grid who may be the one being added: the same name and birth date, or the
    same phone. Only people the actor sees (the grid is theirs: they are adding to it)."""
    from django.db.models import Q

    wanted = Q(pk__in=[])
    if name and birth_date:
        wanted |= Q(name=name, birth_date=birth_date)
    if phone:
        wanted |= Q(phone_index=phone_index(phone))
    return list(
        Person.objects.visible_to(actor, Perm.LEDGER_VIEW)
        .filter(wanted, grid_code=grid_code, retired_on__isnull=True)
        .order_by("id")[:10]
    )


def _candidates(people: list[Person]) -> list[dict[str, Any]]:
    return [
        {
            "id": p.pk,
            "name": mask_name(p.name),
            "birth_year": p.birth_date.year if p.birth_date else None,
            "grid_code": p.grid_code,
        }
        for p in people
    ]


def _placement(scope: Any, *, grid_code: str, room_code: str) -> tuple[str, Room | None]:
    """The grid (and room) a person goes into: the room's grid, or the grid given. A room or
    grid outside the actor's edit scope reads as unknown (not as someone else's)."""
    room = None
    if room_code:
        room = (
            Room.objects.visible_to(scope, Perm.LEDGER_EDIT)
            .select_related("building")
            .filter(code=room_code)
            .first()
        )
        if room is None:
            raise ValidationFailed(
                _("No standard address has this code."),
                code="unknown_address",
                details={"field": "room_code"},
            )
        if grid_code and grid_code != room.grid_code:
            raise ValidationFailed(
                _("The grid code and the address's grid (%(grid)s) differ.")
                % {"grid": room.grid_code},
                code="grid_mismatch",
                details={"field": "grid_code"},
            )
        grid_code = room.grid_code
    records.require_edit_at(as_scope(scope), grid_code)
    return grid_code, room


# -- create, update, move, retire ------------------------------------------------------------


def person_create(
    *,
    actor: Any,
    values: dict[str, Any],
    grid_code: str = "",
    room_code: str = "",
    confirm_new: bool = False,
    source: str = "page",
) -> Person:
    """Add a person to the ledger.

    - The same ID number in the actor's scope: Conflict `duplicate` naming that person.
    - The same ID number outside it: nothing is written here; the entry is referred to the
      district (raises Referred once the referral is stored), and the actor is not told where,
      or that, the person exists.
    - The same name and birth date, or phone, in the grid: Conflict `possible_duplicate` with the
      candidates, unless `confirm_new` says it is someone else.
    """
    with records.lookups_audited():
        made = _person_create(
            actor=actor,
            values=values,
            grid_code=grid_code,
            room_code=room_code,
            confirm_new=confirm_new,
            source=source,
        )
    if not isinstance(made, Person):
        raise Referred()
    return made


@transaction.atomic
def _person_create(
    *,
    actor: Any,
    values: dict[str, Any],
    grid_code: str,
    room_code: str,
    confirm_new: bool,
    source: str,
) -> Person | Referral:
    # Without ledger.edit anywhere the people ledger is not theirs to add to: not found.
    scope = require_any(actor, Perm.LEDGER_EDIT)
    parsed = _parse(dict(values), creating=True)
    grid_code, room = _placement(scope, grid_code=grid_code, room_code=room_code)
    attrs, special = _person_values(parsed)
    records.refuse_sensitive(scope, grid_code, {"special_tags": special} if special else {})
    existing = (
        Person.objects.dangerously_unscoped()
        .filter(id_index=attrs["id_index"])
        .values_list("pk", "grid_code")
        .first()
        if attrs.get("id_index")
        else None
    )
    if existing is not None:
        # The answer tells whether a number is registered: counted like an exact search, so
        # trying the candidates a masked number leaves is slow and on the record.
        exact_lookup_budget(actor=scope)
        pk, where = existing
        if scope.holds(Perm.LEDGER_VIEW, where):
            refused = Conflict(
                _("This ID number is already in the ledger."),
                code="duplicate",
                details={"id": pk},
            )
            refused.lookup = ExactLookup(
                actor=scope, by="id_number", object_type=KIND, via="create"
            )
            raise refused
        exact_lookup_audit(actor=scope, by="id_number", object_type=KIND, via="create")
        return refer(
            actor=scope,
            kind=KIND,
            reason="duplicate_elsewhere",
            grid_code=grid_code,
            existing_id=pk,
            payload={k: ledger_fields.to_cell(v) for k, v in values.items()},
            source=source,
        )
    if not confirm_new:
        maybe = possible_duplicates(
            actor=scope,
            grid_code=grid_code,
            name=attrs.get("name", ""),
            birth_date=attrs.get("birth_date"),
            phone=attrs.get("phone", ""),
        )
        if maybe:
            raise Conflict(
                _("Someone like this is already registered in the grid. Is it the same person?"),
                code="possible_duplicate",
                details={"candidates": _candidates(maybe)},
            )
    person = Person(grid_code=grid_code, room=room, **attrs)
    if room is not None and not person.current_address:
        person.current_address = str(room)
    try:
        with transaction.atomic():
            person.save(force_insert=True)
    except IntegrityError:  # the same ID number raced in
        raise Conflict(_("This ID number is already in the ledger."), code="duplicate") from None
    changed = sorted(attrs)
    if special:
        _set_special_tags(person, special)
        changed.append("special_tags")
    records.log_change(person, actor=scope, kind=KIND, action="create", changed=changed)
    return person


def person_update(
    *, actor: Any, person_id: int, version: int | None, values: dict[str, Any]
) -> Person:
    """Correct a person's fields. `version` is the one the change started from: a stale one is
    refused with the fields changed since. Special-group tags need `ledger.sensitive`."""
    with records.lookups_audited():
        return _person_update(actor=actor, person_id=person_id, version=version, values=values)


@transaction.atomic
def _person_update(
    *, actor: Any, person_id: int, version: int | None, values: dict[str, Any]
) -> Person:
    scope = as_scope(actor)
    person = records.for_edit(Person, actor=scope, kind=KIND, pk=person_id)
    parsed = _parse(dict(values), creating=False)
    records.check_version(person, kind=KIND, version=version)
    attrs, special = _person_values(parsed, current=person)
    records.refuse_sensitive(
        scope, person.grid_code, {"special_tags": special} if special is not None else {}
    )
    new_index = attrs.get("id_index")
    if (
        new_index
        and new_index != person.id_index
        and Person.objects.dangerously_unscoped()
        .filter(id_index=new_index)
        .exclude(pk=person.pk)
        .exists()
    ):
        # Not which person, nor where: only that the number cannot be used here (counted).
        exact_lookup_budget(actor=scope)
        taken = ValidationFailed(
            _("This ID number cannot be used here; ask the district to check it."),
            code="id_number_taken",
            details={"fields": [{"field": "id_number", "code": "id_number_taken"}]},
        )
        taken.lookup = ExactLookup(actor=scope, by="id_number", object_type=KIND, via="update")
        raise taken
    changed = records.apply(person, attrs)
    if special is not None and _set_special_tags(person, special):
        changed.append("special_tags")
    if not changed:
        return person
    index_fields = tuple(
        f for f in ("id_index", "phone_index", "id_checked") if f in attrs and f not in changed
    )
    records.save_change(
        person,
        actor=scope,
        kind=KIND,
        action="update",
        changed=[c for c in changed if c != "special_tags"],
        extra_fields=index_fields,
    )
    if "special_tags" in changed:
        records.log_change(person, actor=scope, kind=KIND, action="tags", changed=["special_tags"])
    return person


@transaction.atomic
def person_move(
    *,
    actor: Any,
    person_id: int,
    version: int | None,
    room_code: str = "",
    grid_code: str = "",
) -> Person:
    """Move a person to another address (room) or grid. The actor must keep the ledger of both
    the grid the person leaves and the one they go to."""
    scope = as_scope(actor)
    person = records.for_edit(Person, actor=scope, kind=KIND, pk=person_id)
    records.check_version(person, kind=KIND, version=version)
    if not room_code and not grid_code:
        raise ValidationFailed(_("Give the new address code or grid."), code="location_required")
    target, room = _placement(scope, grid_code=grid_code, room_code=room_code)
    changed = records.apply(
        person,
        {
            "grid_code": target,
            "room": room,
            "current_address": str(room) if room is not None else person.current_address,
        },
    )
    if not changed:
        return person
    records.save_change(person, actor=scope, kind=KIND, action="move", changed=changed)
    if "grid_code" in changed:
        SensitiveTag.objects.dangerously_unscoped().filter(person=person).update(grid_code=target)
    return person


@transaction.atomic
def person_retire(
    *,
    actor: Any,
    person_id: int,
    version: int | None,
    reason: str,
    on: dt.date | None = None,
    note: str = "",
) -> Person:
    """Retire a person (moved away, deceased, registered twice): the record stays."""
    return records.retire(
        Person,
        actor=actor,
        kind=KIND,
        pk=person_id,
        version=version,
        reason=reason,
        on=on,
        note=note,
        allowed=PERSON_RETIRE_REASONS,
    )


@transaction.atomic
def person_restore(*, actor: Any, person_id: int, version: int | None) -> Person:
    """Undo a retirement made by mistake."""
    return records.restore(Person, actor=actor, kind=KIND, pk=person_id, version=version)


# -- households ------------------------------------------------------------------------------

HOUSEHOLD = "household"


def _household_for_edit(actor: Any, household_id: int) -> Household:
    return records.for_edit(Household, actor=actor, kind=HOUSEHOLD, pk=household_id)


@transaction.atomic
def household_create(*, actor: Any, code: str, head_id: int, room_code: str = "") -> Household:
    """A new household with its head (a person the actor may edit, not yet in a household).
    Its grid is the head's; the code must be new (a code used anywhere, in scope or not, is
    refused the same way: codes are guessable, so nothing says where it is used)."""
    scope = as_scope(actor)
    code = (code or "").strip()
    if not code or len(code) > 32:
        raise ValidationFailed(_("Give the household number."), code="code_required")
    head = records.for_edit(Person, actor=scope, kind=KIND, pk=head_id)
    if head.household_id is not None:
        raise ValidationFailed(
            _("%(name)s already belongs to a household.") % {"name": head.name},
            code="already_member",
        )
    room = None
    if room_code:
        _grid, room = _placement(scope, grid_code=head.grid_code, room_code=room_code)
    if Household.objects.dangerously_unscoped().filter(code=code).exists():
        raise ValidationFailed(
            _("This household number cannot be used; choose another."), code="code_taken"
        )
    household = Household.objects.create(
        code=code, grid_code=head.grid_code, room=room or head.room, head=head
    )
    records.log_change(
        household, actor=scope, kind=HOUSEHOLD, action="create", changed=["code", "head", "room"]
    )
    head.household, head.relation = household, "户主"
    records.save_change(
        head, actor=scope, kind=KIND, action="member", changed=["household_id", "relation"]
    )
    return household


@transaction.atomic
def household_add_member(
    *, actor: Any, household_id: int, version: int | None, person_id: int, relation: str
) -> Household:
    scope = as_scope(actor)
    household = _household_for_edit(scope, household_id)
    records.check_version(household, kind=HOUSEHOLD, version=version)
    person = records.for_edit(Person, actor=scope, kind=KIND, pk=person_id)
    if person.household_id == household.pk:
        raise ValidationFailed(_("Already a member of this household."), code="already_member")
    if person.household_id is not None:
        raise ValidationFailed(
            _("%(name)s belongs to another household; remove them there first.")
            % {"name": person.name},
            code="already_member",
        )
    person.household, person.relation = household, (relation or "")[:10]
    records.save_change(
        person, actor=scope, kind=KIND, action="member", changed=["household_id", "relation"]
    )
    records.save_change(
        household, actor=scope, kind=HOUSEHOLD, action="member", changed=["members"], save=[]
    )
    return household


@transaction.atomic
def household_remove_member(
    *, actor: Any, household_id: int, version: int | None, person_id: int
) -> Household:
    """Take a person out of a household (moved out, married into another). The head is
    removed only after another member was made head."""
    scope = as_scope(actor)
    household = _household_for_edit(scope, household_id)
    records.check_version(household, kind=HOUSEHOLD, version=version)
    person = records.for_edit(Person, actor=scope, kind=KIND, pk=person_id)
    if person.household_id != household.pk:
        raise NotFound()
    if household.head_id == person.pk:
        raise ValidationFailed(
            _("Make another member the head before removing the head."), code="is_head"
        )
    person.household, person.relation = None, ""
    records.save_change(
        person, actor=scope, kind=KIND, action="member", changed=["household_id", "relation"]
    )
    records.save_change(
        household, actor=scope, kind=HOUSEHOLD, action="member", changed=["members"], save=[]
    )
    return household


@transaction.atomic
def household_set_head(
    *, actor: Any, household_id: int, version: int | None, person_id: int
) -> Household:
    scope = as_scope(actor)
    household = _household_for_edit(scope, household_id)
    records.check_version(household, kind=HOUSEHOLD, version=version)
    person = records.for_edit(Person, actor=scope, kind=KIND, pk=person_id)
    if person.household_id != household.pk:
        raise ValidationFailed(_("The head must be a member of the household."), code="not_member")
    if household.head_id == person.pk:
        return household
    previous = household.head
    household.head = person
    records.save_change(household, actor=scope, kind=HOUSEHOLD, action="head", changed=["head_id"])
    person.relation = "户主"
    records.save_change(person, actor=scope, kind=KIND, action="member", changed=["relation"])
    if previous is not None and previous.pk != person.pk:
        previous.relation = ""
        records.save_change(previous, actor=scope, kind=KIND, action="member", changed=["relation"])
    return household
