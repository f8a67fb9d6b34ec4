"""Care groups given by a department's list (民政's elderly list → 高龄): many people at once,
each change logged like any other edit, one audit entry for the whole list."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.roles import Perm
from wangge.core.scope import as_scope
from wangge.ledger.models import CareTag, LedgerChange, Person

KIND = "person"


@transaction.atomic
def care_tag_add(*, actor: Any, person_ids: list[int], tag: str, reason: str) -> int:
    """Give `tag` to the current people among `person_ids` who lack it; every person must be
    editable by the actor (the grant covering their grid), else NotFound and nothing changes.
    Returns how many people changed."""
    scope = as_scope(actor)
    if tag not in CareTag.values:
        raise ValidationFailed(_("Unknown care group %(tag)s.") % {"tag": tag})
    ids = sorted(set(person_ids))
    if not ids:
        return 0
    people = list(
        Person.objects.visible_to(scope, Perm.LEDGER_EDIT)
        .select_for_update()
        .filter(pk__in=ids, retired_on__isnull=True)
        .only("pk", "care_tags", "version", "grid_code")
    )
    if len(people) != len(ids):
        raise NotFound()
    now = timezone.now()
    changed: list[Person] = []
    for person in people:
        tags = [t for t in (person.care_tags or "").split(",") if t]
        if tag in tags:
            continue
        person.care_tags = ",".join(sorted({*tags, tag}))
        person.version += 1
        changed.append(person)
    Person.objects.dangerously_unscoped().bulk_update(
        changed, ["care_tags", "version"], batch_size=2000
    )
    LedgerChange.objects.bulk_create(
        [
            LedgerChange(
                kind=KIND,
                record_id=p.pk,
                version=p.version,
                action="update",
                fields=["care_tags"],
                grid_code=p.grid_code,
                actor_id=scope.user_id,
                actor_name=scope.username,
                at=now,
            )
            for p in changed
        ],
        batch_size=2000,
    )
    audit_record(
        actor=scope,
        action="person.care_tag",
        object_type="care_tag",
        object_id=tag,
        details={"people": len(changed), "reason": reason[:100]},
    )
    return len(changed)
