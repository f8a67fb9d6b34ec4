"""Scope cannot leak: combined querysets keep it, every region-bound model is scoped (or says
why not), the public is not the system, and nothing opens the scope by default."""

from __future__ import annotations

import inspect

import pytest
from django.apps import apps
from django.db import models

from wangge.core.models import User
from wangge.core.roles import PUBLIC_PERMS, Perm
from wangge.core.scope import ANONYMOUS, Scope, ScopedModel, ScopeNotApplied, scope_for
from wangge.events.models import Event
from wangge.events.public import OPEN311_READER, RESIDENT
from wangge.ledger.models import Person

pytestmark = pytest.mark.django_db

LILE = "440704003"


def street() -> Scope:
    return scope_for(User.objects.get(username="demo-street"))


def test_a_union_with_an_unscoped_queryset_is_refused() -> None:
    """`visible_to(s) | Model.objects.filter(...)` returned rows outside s (the review)."""
    mine = Person.objects.visible_to(street(), Perm.LEDGER_VIEW)
    everyone = Person.objects.filter(grid_code__startswith="4407")
    for combine in (
        lambda: list(mine | everyone),
        lambda: list(everyone | mine),
        lambda: list(mine.union(everyone)),
        lambda: list(mine ^ everyone),
        lambda: list(mine & everyone),
        lambda: list(mine.intersection(everyone)),
        lambda: list(mine.difference(everyone)),
    ):
        with pytest.raises(ScopeNotApplied):
            combine()


def test_a_union_of_two_scopes_is_refused_and_narrowing_keeps_the_first() -> None:
    mine = Person.objects.visible_to(street(), Perm.LEDGER_VIEW)
    district = Person.objects.visible_to(
        scope_for(User.objects.get(username="demo-district")), Perm.LEDGER_VIEW
    )
    with pytest.raises(ScopeNotApplied):
        list(mine | district)
    with pytest.raises(ScopeNotApplied):
        list(mine | Person.objects.dangerously_unscoped())
    narrowed = list(district & mine)
    assert narrowed and all(p.grid_code.startswith(LILE) for p in narrowed)
    same = list(mine.filter(care_tags="") | mine.filter(care_tags__contains="elderly"))
    assert same and all(p.grid_code.startswith(LILE) for p in same)


def test_raw_sql_only_for_the_system() -> None:
    with pytest.raises(ScopeNotApplied):
        Person.objects.visible_to(street(), Perm.LEDGER_VIEW).raw("SELECT * FROM ledger_person")
    with pytest.raises(ScopeNotApplied):
        Person.objects.raw("SELECT * FROM ledger_person")
    assert list(Person.objects.dangerously_unscoped().raw("SELECT * FROM ledger_person LIMIT 1"))


def test_none_is_safe_to_evaluate() -> None:
    assert list(Person.objects.none()) == [] and Person.objects.none().count() == 0


# Models of other packages (Django's own, django-axes): not ours to scope.
THIRD_PARTY = {"admin", "auth", "contenttypes", "sessions", "axes"}


def test_every_model_is_scoped_or_says_why_not() -> None:
    """A model that holds region-bound data is a ScopedModel; any other names its reason."""
    problems = []
    for model in apps.get_models():
        if model._meta.app_label in THIRD_PARTY:
            continue
        if issubclass(model, ScopedModel):
            code = model.scope_code_field
            owner = model.scope_owner_field
            if code is None and owner is None:
                problems.append(f"{model.__name__}: scoped on nothing")
            continue
        reason = getattr(model, "scope_exempt", "")
        if len(reason) < 10:
            region_fields = [
                f.name
                for f in model._meta.get_fields()
                if isinstance(f, models.Field) and f.name in {"grid_code", "region_code"}
            ]
            problems.append(
                f"{model.__name__}: neither scoped nor exempt with a reason (holds {region_fields})"
            )
    assert problems == []


def test_the_public_is_not_the_system() -> None:
    """Residents and Open311 clients ran as the system scope (events/views.py)."""
    for public in (RESIDENT, OPEN311_READER):
        assert not public.is_system and public.is_public
        assert not public.has(Perm.EVENTS_VIEW) and not public.has(Perm.LEDGER_VIEW)
        assert Person.objects.visible_to(public, Perm.LEDGER_VIEW).count() == 0
        assert Person.objects.visible_to(public, Perm.EVENTS_PUBLIC_READ).count() == 0
    internal = Event.objects.dangerously_unscoped().exclude(
        channel__in=["resident", "hotline", "open311"]
    )
    assert internal.exists()
    readable = set(
        Event.objects.visible_to(OPEN311_READER, Perm.EVENTS_PUBLIC_READ).values_list(
            "pk", flat=True
        )
    )
    assert readable.isdisjoint(set(internal.values_list("pk", flat=True)))
    with pytest.raises(ValueError, match="not public permissions"):
        Scope.public("x", {Perm.EVENTS_VIEW})
    # No role holds a public permission: a user never gets one through a grant.
    from wangge.core.roles import ROLE_PERMISSIONS

    assert all(not (perms & PUBLIC_PERMS) for perms in ROLE_PERMISSIONS.values())
    assert not ANONYMOUS.has(Perm.EVENTS_PUBLIC_REPORT)


def test_no_reader_opens_the_scope_by_default() -> None:
    """No selector or service takes an actor/scope that defaults to "everything"."""
    import wangge.events.intake
    import wangge.events.selectors
    import wangge.events.services
    import wangge.ledger.selectors
    import wangge.ledger.services
    import wangge.regions.selectors
    import wangge.teams.selectors
    import wangge.teams.services

    found = []
    for module in (
        wangge.events.intake,
        wangge.events.selectors,
        wangge.events.services,
        wangge.ledger.selectors,
        wangge.ledger.services,
        wangge.regions.selectors,
        wangge.teams.selectors,
        wangge.teams.services,
    ):
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            for param in inspect.signature(fn).parameters.values():
                if (
                    param.name in {"actor", "scope", "user"}
                    and param.default is not inspect.Parameter.empty
                ):
                    found.append(f"{module.__name__}.{name}({param.name}={param.default!r})")
    assert found == []


def test_objects_of_one_grant_are_decided_by_that_grant() -> None:
    from wangge.core.roles import Role
    from wangge.core.tests.factories import user_with

    user = user_with((Role.GRID_LEADER, "440704003001001"), (Role.GRID_WORKER, "440704003001002"))
    scope = scope_for(user)
    assert scope.has(Perm.PERSONAL_REVEAL)  # somewhere …
    assert scope.holds(Perm.PERSONAL_REVEAL, "440704003001001")  # … here,
    assert not scope.holds(Perm.PERSONAL_REVEAL, "440704003001002")  # but not in grid 2
    assert scope.holds(Perm.LEDGER_VIEW, "440704003001002")
