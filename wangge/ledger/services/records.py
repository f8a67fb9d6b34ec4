"""What every ledger write shares: finding the record for an edit, the version check, the
change log and the audit entry.

A write service (people.py, places.py) fetches the record through the actor's view scope (out
of scope is NotFound, like a missing id), checks the edit permission against the grant that
covers that record (PermissionDenied when the actor can see but not edit it), locks the row,
compares the version the caller started from with the stored one, applies the change with
`save(update_fields=…)`, raises the version by one, and writes a `LedgerChange` (field names,
never values) and an audit entry — all in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, WanggeError
from wangge.core.roles import Perm
from wangge.core.scope import Scope, as_scope
from wangge.ledger.fields import FieldError, labels
from wangge.ledger.models import LedgerChange, LedgerRecord, RetireReason

R = TypeVar("R", bound=LedgerRecord)

# The permission that lets an actor see each kind (editing always needs ledger.edit).
VIEW_PERM = {"thing": Perm.THINGS_VIEW}


@contextmanager
def lookups_audited() -> Iterator[None]:
    """Around a service's transaction: an error that told whether a number is registered
    (`exc.lookup`) is audited after the rollback, so the hourly budget counts it."""
    try:
        yield
    except WanggeError as exc:
        lookup = getattr(exc, "lookup", None)
        if lookup is not None:
            lookup.audit()
        raise


def view_perm(kind: str) -> Perm:
    return VIEW_PERM.get(kind, Perm.LEDGER_VIEW)


def invalid(errors: list[FieldError]) -> ValidationFailed:
    first = errors[0]
    return ValidationFailed(
        first.message if len(errors) == 1 else _("Some fields are not valid."),
        code=first.code if len(errors) == 1 else "invalid",
        details={"fields": [e.as_dict() for e in errors]},
    )


def for_edit(model: type[R], *, actor: Any, kind: str, pk: Any) -> R:
    """The record `pk`, locked for this transaction, if the actor may edit it.

    NotFound when it is missing or outside the actor's view; PermissionDenied when the actor
    sees it but the grant covering it does not allow editing."""
    scope = as_scope(actor)
    try:
        record = (
            model.objects.visible_to(scope, view_perm(kind)).select_for_update().get(pk=int(pk))
        )
    except (model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    scope.require_for(Perm.LEDGER_EDIT, record, _("Your role may not change this record."))
    return record


def require_edit_at(scope: Scope, grid_code: str) -> None:
    """Adding or moving a record into a grid needs `ledger.edit` over that grid; a grid outside
    the actor's scope reads as unknown."""
    if not grid_code or not scope.holds(Perm.LEDGER_EDIT, grid_code):
        raise ValidationFailed(
            _("Unknown grid, or not one you keep the ledger of."),
            code="unknown_grid",
            details={"field": "grid_code"},
        )


def check_version(record: LedgerRecord, *, kind: str, version: int | None) -> None:
    """A change names the version it started from; a stale one is refused with the fields that
    were changed since (what an offline edit needs to show its user)."""
    if version is None:
        raise ValidationFailed(
            _("Say which version of the record you changed (reload the page)."),
            code="version_required",
        )
    if int(version) == record.version:
        return
    changed = sorted(
        {
            name
            for fields in LedgerChange.objects.dangerously_unscoped()
            .filter(kind=kind, record_id=record.pk, version__gt=int(version))
            .values_list("fields", flat=True)
            for name in fields
        }
    )
    raise Conflict(
        _("Someone else changed this record since you opened it: %(fields)s. Reload it.")
        % {"fields": "、".join(labels(kind, changed)) or _("unknown fields")},
        code="conflict",
        details={"current_version": record.version, "changed_fields": changed},
    )


def apply(record: models.Model, values: dict[str, Any]) -> list[str]:
    """Set the attributes that differ; returns their names."""
    changed = []
    for attr, value in values.items():
        if getattr(record, attr) != value:
            setattr(record, attr, value)
            changed.append(attr)
    return changed


def save_change(
    record: LedgerRecord,
    *,
    actor: Any,
    kind: str,
    action: str,
    changed: list[str],
    extra_fields: tuple[str, ...] = (),
    save: list[str] | None = None,
    audited: bool = True,
) -> None:
    """Save the changed fields (or `save`, when what is logged is not a column of this record,
    like a household's members) with a new version, and log the change (names, not values).
    `audited=False` when the caller writes one audit entry for the whole operation (a merge)."""
    scope = as_scope(actor)
    record.version += 1
    update = sorted({*(changed if save is None else save), *extra_fields, "version"})
    if any(f.name == "updated_at" for f in record._meta.concrete_fields):
        update.append("updated_at")
    record.save(update_fields=update)
    log_change(record, actor=scope, kind=kind, action=action, changed=changed, audited=audited)


def log_change(
    record: LedgerRecord,
    *,
    actor: Any,
    kind: str,
    action: str,
    changed: list[str],
    audited: bool = True,
) -> None:
    scope = as_scope(actor)
    LedgerChange.objects.create(
        kind=kind,
        record_id=record.pk,
        version=record.version,
        action=action,
        fields=sorted(changed),
        grid_code=record.scope_code(),
        actor_id=scope.user_id,
        actor_name=scope.username,
        at=timezone.now(),
    )
    if not audited:
        return
    audit_record(
        actor=scope,
        action=f"{kind}.{action}",
        object_type=kind,
        object_id=record.pk,
        details={"fields": sorted(changed), "version": record.version},
    )


def refuse_sensitive(scope: Scope, grid_code: str, values: dict[str, Any]) -> None:
    """Special-group tags are written only by those who may read them (finding 12)."""
    if "special_tags" in values and not scope.holds(Perm.LEDGER_SENSITIVE, grid_code):
        raise PermissionDenied(
            _("Your role may not record special groups."),
            code="not_allowed",
            details={"field": "special_tags"},
        )


RETIRED_FIELDS = ["retired_on", "retired_reason", "retired_note"]


def retire(
    model: type[R],
    *,
    actor: Any,
    kind: str,
    pk: Any,
    version: int | None,
    reason: str,
    on: dt.date | None,
    note: str,
    allowed: set[RetireReason],
) -> R:
    """Retire a record (the caller's transaction): it stays, with the reason and the date, and
    leaves the lists. `allowed` are the reasons that make sense for its kind."""
    scope = as_scope(actor)
    record = for_edit(model, actor=scope, kind=kind, pk=pk)
    check_version(record, kind=kind, version=version)
    if record.retired_on is not None:
        raise ValidationFailed(_("This record is already retired."), code="already_retired")
    if reason not in {r.value for r in allowed}:
        raise ValidationFailed(
            _("Choose why the record is retired: %(reasons)s.")
            % {"reasons": "、".join(str(RetireReason(r).label) for r in sorted(allowed))},
            code="reason_required",
            details={"field": "reason"},
        )
    today = timezone.localdate()
    day = on or today
    if day > today:
        raise ValidationFailed(_("The date cannot be in the future."), code="future_date")
    record.retired_on, record.retired_reason, record.retired_note = day, reason, note[:200]
    save_change(record, actor=scope, kind=kind, action="retire", changed=RETIRED_FIELDS)
    return record


def restore(model: type[R], *, actor: Any, kind: str, pk: Any, version: int | None) -> R:
    """Undo a retirement made by mistake."""
    scope = as_scope(actor)
    record = for_edit(model, actor=scope, kind=kind, pk=pk)
    check_version(record, kind=kind, version=version)
    if record.retired_on is None:
        raise ValidationFailed(_("This record is not retired."), code="not_retired")
    if getattr(record, "merged_into_id", None) is not None:
        raise ValidationFailed(
            _("This record was merged into another; undo the merge instead."), code="merged"
        )
    record.retired_on, record.retired_reason, record.retired_note = None, "", ""
    save_change(record, actor=scope, kind=kind, action="restore", changed=RETIRED_FIELDS)
    return record
