"""Services of core: users, grants and API tokens. Every write is audited."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from wangge.core.audit import audit_record
from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.models import ApiToken, Department, Grant, User
from wangge.core.roles import Perm, Role
from wangge.core.scope import as_scope, require_any

TOKEN_PREFIX = "wg_"  # noqa: S105 - a prefix, not a secret


def secret_digest(token: str) -> str:
    """SHA-256 of a bearer secret (API tokens, Open311 keys): only this is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def token_create(*, actor: Any, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a bearer token for `user`. The plain token is returned once and never stored.
    An administrator (users.manage) or the system (the CLI) may; anyone else: NotFound."""
    require_any(actor, Perm.USERS_MANAGE)
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:64] or "cli", prefix=plain[:10], digest=secret_digest(plain)
    )
    audit_record(
        actor=actor,
        action="token.create",
        object_type="user",
        object_id=user.pk,
        details={"token": token.prefix, "name": token.name},
    )
    return token, plain


@transaction.atomic
def token_revoke(*, actor: Any, prefix: str) -> ApiToken:
    require_any(actor, Perm.USERS_MANAGE)
    token = ApiToken.objects.filter(prefix=prefix, revoked_at=None).first()
    if token is None:
        raise NotFound()
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action="token.revoke",
        object_type="user",
        object_id=token.user_id,
        details={"token": token.prefix},
    )
    return token


def token_authenticate(plain: str) -> User | None:
    """The active user a bearer token belongs to, or None."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=secret_digest(plain), revoked_at=None, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Touch at most once a minute: a busy client must not turn every read into a write.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def user_create(*, actor: Any, username: str, password: str | None, display_name: str = "") -> User:
    require_any(actor, Perm.USERS_MANAGE)
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(code="duplicate_username", message=f"{username} exists")
    user = User(username=username, display_name=display_name)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save(force_insert=True)
    audit_record(actor=actor, action="user.create", object_type="user", object_id=user.pk)
    return user


@transaction.atomic
def grant_create(
    *, actor: Any, user: User, role: Role, region_code: str, department: Department | None = None
) -> Grant:
    """Give `user` a role over a region. The caller checks that the region exists.

    Only an administrator whose own `users.manage` grant covers the region may, and never
    outside it: a district administrator cannot hand out another district. (The system, i.e.
    the CLI and the demo builder, may.)"""
    scope = as_scope(actor)
    if not scope.holds(Perm.USERS_MANAGE, region_code):
        raise NotFound()
    if role == Role.DEPARTMENT_OFFICER and department is None:
        raise ValidationFailed(code="department_required")
    grant, created = Grant.objects.get_or_create(
        user=user, role=role, region_code=region_code, department=department
    )
    if created:
        audit_record(
            actor=actor,
            action="grant.create",
            object_type="user",
            object_id=user.pk,
            details={
                "role": str(role),
                "region": region_code,
                "department": department.code if department else None,
            },
        )
    return grant


SAVED_FILTERS_PER_LIST = 20


def _saved_query(query: str) -> str:
    """The filters to keep from a list's query string: not the page, and no value that is a
    full ID number or phone (personal data is never stored in the clear)."""
    from urllib.parse import parse_qsl, urlencode

    from wangge.core.personal import exact_query

    kept = [
        (k, v)
        for k, v in parse_qsl(query.lstrip("?"), keep_blank_values=False)
        if k != "page" and len(k) <= 32 and exact_query(v) is None
    ]
    return urlencode(kept)


@transaction.atomic
def saved_filter_save(*, actor: Any, list_name: str, name: str, query: str) -> Any:
    """Save (or replace, by name) the actor's filters of a list. ValidationFailed for no name,
    no filters, or too many saved; NotFound for a list the actor cannot see."""
    from django.utils.translation import gettext as _

    from wangge.core.models import SavedFilter
    from wangge.core.selectors import saved_filters

    saved = saved_filters(actor=actor, list_name=list_name)  # NotFound: not this actor's list
    scope = as_scope(actor)
    if scope.user_id is None:
        raise NotFound()
    name = " ".join((name or "").split())[:40]
    kept = _saved_query(query or "")
    if not name:
        raise ValidationFailed(_("Give the filter a name."), code="name_required")
    if not kept or len(kept) > 1000:
        raise ValidationFailed(
            _("Set some filters first, then save them under a name."), code="no_filters"
        )
    existing = next((f for f in saved if f.name == name), None)
    if existing is None and len(saved) >= SAVED_FILTERS_PER_LIST:
        raise ValidationFailed(
            _("At most %(n)d saved filters per list: delete one first.")
            % {"n": SAVED_FILTERS_PER_LIST},
            code="too_many_filters",
        )
    if existing is None:
        found = SavedFilter.objects.create(
            user_id=scope.user_id, list_name=list_name, name=name, query=kept
        )
    else:
        found = existing
        found.query = kept
        found.save(update_fields=["query"])
    audit_record(
        actor=actor,
        action="saved_filter.save",
        object_type="saved_filter",
        object_id=found.pk,
        details={"list": list_name, "replaced": existing is not None},
    )
    return found


@transaction.atomic
def saved_filter_delete(*, actor: Any, list_name: str, filter_id: int) -> None:
    """Delete one of the actor's saved filters (NotFound for another's, or none)."""
    from wangge.core.selectors import saved_filters

    found = next(
        (f for f in saved_filters(actor=actor, list_name=list_name) if f.pk == filter_id), None
    )
    if found is None:
        raise NotFound()
    pk = found.pk
    found.delete()
    audit_record(
        actor=actor,
        action="saved_filter.delete",
        object_type="saved_filter",
        object_id=pk,
        details={"list": list_name},
    )


AUDIT_EXPORT_MAX_ROWS = 50_000


def audit_export(*, actor: Any, **filters: Any) -> bytes:
    """The audit log as its page shows it (`audit_list` for `filters`, in its order), as an
    Excel workbook: the action, outcome and object in words, times in Beijing time, the
    details as "label：value" lines. Only auditors (NotFound otherwise); refused past
    AUDIT_EXPORT_MAX_ROWS with a message to narrow the filters; the export is itself audited."""
    from django.utils.translation import gettext as _

    from wangge.core import audit_words
    from wangge.core.selectors import audit_list, department_names
    from wangge.core.tabular import write_xlsx

    entries = audit_list(actor=actor, **filters)
    total = entries.count()
    if total > AUDIT_EXPORT_MAX_ROWS:
        raise ValidationFailed(
            _("%(n)d entries are too many for one workbook (at most %(max)d): narrow the filters.")
            % {"n": total, "max": AUDIT_EXPORT_MAX_ROWS},
            code="too_many_rows",
        )
    departments = department_names()
    rows: list[list[Any]] = []
    batch: list[Any] = []

    def flush() -> None:
        links = audit_words.object_links((e.object_type, e.object_id) for e in batch)
        for e in batch:
            named = links.get((e.object_type, e.object_id))
            rows.append(
                [
                    e.seq,
                    timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"),
                    e.actor_name,
                    audit_words.action_label(e.action, e.details),
                    audit_words.object_label(e.object_type) if e.object_type else "",
                    named[0] if named else e.object_id,
                    audit_words.outcome_label(e.outcome),
                    e.client_ip,
                    "\n".join(
                        f"{label}：{value}"
                        for label, value in audit_words.detail_fields(e.details, departments)
                    ),
                ]
            )
        batch.clear()

    for entry in entries.iterator(chunk_size=2000):
        batch.append(entry)
        if len(batch) == 2000:
            flush()
    flush()
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="audit.export",
            object_type="",
            object_id="",
            details={"rows": total}
            | {k: str(v) for k, v in filters.items() if v not in (None, "", False)},
        )
    headers = [
        _("No."),
        _("Time"),
        _("User"),
        _("Action"),
        _("Object type"),
        _("Object"),
        _("Outcome"),
        _("Client address"),
        _("Details"),
    ]
    return write_xlsx([(_("Audit log"), [str(h) for h in headers], rows)])
