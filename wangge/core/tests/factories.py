"""Factories for core: users and their grants."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from wangge.core.models import Department, Grant, User
from wangge.core.roles import Role


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Faker("name", locale="zh_CN")
    password = factory.django.Password("test-password-2026")


class GrantFactory(DjangoModelFactory[Grant]):
    class Meta:
        model = Grant
        django_get_or_create = ("user", "role", "region_code", "department")

    user = factory.SubFactory(UserFactory)
    role = Role.GRID_WORKER
    region_code = "440704003001001"
    department = None


def user_with(
    *grants: tuple[Role, str] | tuple[Role, str, str], username: str | None = None
) -> User:
    """A user holding the given (role, region code[, department code]) grants."""
    user = UserFactory.create(**({"username": username} if username else {}))
    for spec in grants:
        role, code = spec[0], spec[1]
        department = Department.objects.get(code=spec[2]) if len(spec) > 2 else None
        GrantFactory.create(user=user, role=role, region_code=code, department=department)
    return user
