from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command

from wangge.teams.models import Assignment, PartyMember, PartyOrganisation
from wangge.teams.selectors import coverage

pytestmark = pytest.mark.django_db


def test_each_problem_is_found(system: Any) -> None:
    leader = Assignment.objects.dangerously_unscoped().get(
        grid_code="440704003001003", role="leader", valid_to=None
    )
    Assignment.objects.dangerously_unscoped().filter(pk=leader.pk).update(
        valid_to=dt.date(2026, 1, 1)
    )
    PartyOrganisation.objects.dangerously_unscoped().filter(grid_code="440704003001004").delete()
    org = PartyOrganisation.objects.dangerously_unscoped().get(grid_code="440704003001005")
    other = (
        Assignment.objects.dangerously_unscoped()
        .filter(grid_code="440704003001005", role="part_time", valid_to=None)
        .first()
    )
    PartyOrganisation.objects.dangerously_unscoped().filter(pk=org.pk).update(
        kind="branch", secretary=other.staff
    )
    PartyMember.objects.dangerously_unscoped().filter(grid_code="440704003001005").exclude(
        pk__in=PartyMember.objects.dangerously_unscoped()
        .filter(grid_code="440704003001005")
        .values("pk")[:2]
    ).update(formal=False)

    kinds = {(p.kind, p.grid) for p in coverage(actor=system).problems}

    assert ("no_leader", "440704003001003") in kinds
    assert ("no_party_organisation", "440704003001004") in kinds
    assert ("leader_not_secretary", "440704003001005") in kinds
    assert ("branch_too_small", "440704003001005") in kinds


def test_command_exits_non_zero_on_problems(system: Any) -> None:
    PartyOrganisation.objects.dangerously_unscoped().filter(grid_code="440704003001004").delete()
    with pytest.raises(SystemExit) as exit_info:
        call_command("teams", "check")
    assert exit_info.value.code == 1
