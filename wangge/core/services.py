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
