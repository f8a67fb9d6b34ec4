"""The staff directory as a table (issue 14 §4): sort by a whitelisted column, the id last."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.core.models import User
from wangge.core.scope import scope_for
from wangge.teams import selectors
from wangge.teams.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_staff_sort_by_employer_with_id_ties(client_as: Any) -> None:
    made = [StaffFactory.create(employer=e) for e in ("乙单位", "甲单位", "乙单位")]
    actor = scope_for(User.objects.get(username="demo-district"))
    ours = {s.pk for s in made}

    def order(sort: str) -> list[int]:
        return [s.pk for s in selectors.staff_list(actor=actor, sort=sort) if s.pk in ours]

    first, second, third = made
    assert order("employer") == [first.pk, third.pk, second.pk]  # 乙 U+4E59 before 甲
    assert order("-employer") == [second.pk, third.pk, first.pk]
    assert order("phone") == order("name") == order("")  # not a key: by name
    body = client_as("demo-district").get("/teams/staff/?sort=-employer").content.decode()
    assert '<th data-sort="employer" aria-sort="descending">' in body
