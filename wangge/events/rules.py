"""The table of workflow actions: for each action a person takes on an event, from which
statuses, with which permission, to which status, its inputs and the stage of the photos taken
with it. It is the one description of an action: `workflow.transition` enforces it, the API's
action names and input schema and the event page's action forms are made from it, and the
demo's history follows it. Adding an action is its entry here and its branch in
`workflow.step()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core.roles import Perm
from wangge.core.selectors import departments
from wangge.events.models import OPEN_STATUSES, CloseKind, Event, LimitUnit, Status

S = Status
_OPEN = tuple(OPEN_STATUSES)

SATISFACTION = {
    1: gettext_lazy("Satisfied"),
    2: gettext_lazy("Fairly satisfied"),
    3: gettext_lazy("Not satisfied"),
}


@dataclass(frozen=True)
class Param:
    """One input of an action; the API's input field and the page's form field are made from
    it. `kind`: text, int, bool, or choice (one of `values`, or of `options` when they are
    data). `required`: the page asks for it (the workflow refuses the action without it)."""

    name: str
    label: Any
    kind: str = "text"
    required: bool = False
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    values: tuple[str, ...] = ()
    options: Callable[[], list[tuple[Any, Any]]] | None = None
    initial: Callable[[Event], Any] | None = None
    description: str = ""
    multiline: bool = False  # the page asks for it in a text area (what was done, and how)


def _department_options() -> list[tuple[Any, Any]]:
    return [(d.code, d.name) for d in departments()]


def category_department(event: Event) -> str:
    department = event.category.department
    return department.code if department else ""


def _requested(key: str, default: Any) -> Callable[[Event], Any]:
    return lambda event: (event.extension_request or {}).get(key, default)


REASON = Param("reason", gettext_lazy("Reason"), max_length=2000)
REASON_REQUIRED = replace(REASON, required=True)
NOTE = Param("note", gettext_lazy("Note"), max_length=2000)
# The same input, asked for as what it is at each step: the dispatcher's instructions, what the
# handler did (several lines, with the photos beside it).
DISPATCH_NOTE = replace(NOTE, label=gettext_lazy("Dispatch instructions"))
HANDLED_NOTE = replace(NOTE, label=gettext_lazy("What was done"), multiline=True)
DEPARTMENT = Param(
    "department",
    gettext_lazy("Department"),
    kind="choice",
    max_length=32,
    options=_department_options,
    initial=category_department,
    description="department code; the category's department by default",
)
AMOUNT = Param(
    "amount",
    gettext_lazy("Extra time"),
    kind="int",
    required=True,
    minimum=1,
    maximum=1000,
    initial=_requested("amount", 1),
)
UNIT = Param(
    "unit",
    gettext_lazy("Unit"),
    kind="choice",
    values=tuple(LimitUnit.values),
    options=lambda: list(LimitUnit.choices),
    initial=_requested("unit", LimitUnit.DAY),
)
PASSED = Param(
    "passed",
    gettext_lazy("Result"),
    kind="bool",
    options=lambda: [(1, _("Passed")), (0, _("Not passed: handle again"))],
)
KIND = Param(
    "kind",
    gettext_lazy("Kind"),
    kind="choice",
    values=(CloseKind.SPECIAL, CloseKind.ERRONEOUS),
    options=lambda: [(k, CloseKind(k).label) for k in (CloseKind.SPECIAL, CloseKind.ERRONEOUS)],
)
SATISFACTION_PARAM = Param(
    "satisfaction",
    gettext_lazy("Satisfaction"),
    kind="int",
    minimum=1,
    maximum=3,
    options=lambda: list(SATISFACTION.items()),
)
INTO = Param(
    "into",
    gettext_lazy("Merge into (event id)"),
    kind="int",
    required=True,
    minimum=1,
    description="the event to merge into",
)


@dataclass(frozen=True)
class Rule:
    sources: tuple[str, ...]
    perm: Perm
    label: Any
    to: str | None = None  # the status it leads to; None: it stays, or `step()` decides
    params: tuple[Param, ...] = field(default=())
    photos: str | None = None  # the stage of the photos taken with it; None: it takes none

    @property
    def reason(self) -> bool:
        """A reason is required."""
        return REASON_REQUIRED in self.params


RULES: dict[str, Rule] = {
    "accept": Rule((S.PENDING,), Perm.EVENTS_COMMAND, gettext_lazy("Accept"), S.FILED),
    "reject": Rule(
        (S.PENDING,), Perm.EVENTS_COMMAND, gettext_lazy("Reject"), S.REJECTED, (REASON_REQUIRED,)
    ),
    "self_resolve": Rule(
        (S.FILED,),
        Perm.EVENTS_REPORT,
        gettext_lazy("Resolve in the grid"),
        S.VERIFYING,
        (HANDLED_NOTE,),
        photos="handle",
    ),
    "dispatch": Rule(
        (S.FILED,),
        Perm.EVENTS_COMMAND,
        gettext_lazy("Dispatch"),
        S.DISPATCHED,
        (DEPARTMENT, DISPATCH_NOTE),
    ),
    "return": Rule(
        (S.DISPATCHED, S.HANDLING),
        Perm.EVENTS_HANDLE,
        gettext_lazy("Return"),
        S.RETURNED,
        (REASON_REQUIRED,),
    ),
    "assign": Rule(
        (S.RETURNED,),
        Perm.EVENTS_COMMAND,
        gettext_lazy("Assign"),
        S.DISPATCHED,
        (DEPARTMENT, DISPATCH_NOTE),
    ),
    "handle": Rule((S.DISPATCHED,), Perm.EVENTS_HANDLE, gettext_lazy("Start handling"), S.HANDLING),
    "report": Rule(
        (S.DISPATCHED, S.HANDLING),
        Perm.EVENTS_HANDLE,
        gettext_lazy("Report back"),
        S.VERIFYING,
        (HANDLED_NOTE,),
        photos="handle",
    ),
    "request_extension": Rule(
        (S.DISPATCHED, S.HANDLING),
        Perm.EVENTS_HANDLE,
        gettext_lazy("Ask for more time"),
        params=(AMOUNT, UNIT, REASON_REQUIRED),
    ),
    "extend": Rule(
        (S.FILED, S.DISPATCHED, S.HANDLING),
        Perm.EVENTS_COMMAND,
        gettext_lazy("Extend"),
        params=(AMOUNT, UNIT, REASON_REQUIRED),
    ),
    "park": Rule(
        (S.FILED, S.DISPATCHED, S.HANDLING, S.RETURNED),
        Perm.EVENTS_COMMAND,
        gettext_lazy("Park"),
        S.PARKED,
        (REASON_REQUIRED,),
    ),
    # Back to where it was parked from.
    "unpark": Rule((S.PARKED,), Perm.EVENTS_COMMAND, gettext_lazy("Resume")),
    # Verified, or back to whoever handled it.
    "verify": Rule(
        (S.VERIFYING,),
        Perm.EVENTS_VERIFY,
        gettext_lazy("Verify"),
        params=(PASSED, REASON),
        photos="verify",
    ),
    "close": Rule((S.VERIFIED,), Perm.EVENTS_COMMAND, gettext_lazy("Close"), S.CLOSED),
    "close_special": Rule(
        _OPEN,
        Perm.EVENTS_COMMAND,
        gettext_lazy("Close as special"),
        S.CLOSED,
        (KIND, REASON_REQUIRED),
    ),
    "supervise": Rule(
        _OPEN, Perm.EVENTS_COMMAND, gettext_lazy("Supervise"), params=(REASON_REQUIRED,)
    ),
    "callback": Rule(
        (S.CLOSED,),
        Perm.EVENTS_COMMAND,
        gettext_lazy("Satisfaction call-back"),
        params=(SATISFACTION_PARAM, NOTE),
    ),
    "merge": Rule(
        (S.PENDING, S.FILED),
        Perm.EVENTS_COMMAND,
        gettext_lazy("Merge as duplicate"),
        S.MERGED,
        (INTO, REASON),
    ),
}

ACTIONS = tuple(RULES)

# What moves an event on from each status, best first: the page offers the first of these the
# actor may take as its one primary action, the others as secondary ones. (Returns, parking,
# special closes, supervision and merges are never the next step: they are there when needed.)
NEXT_STEP: dict[str, tuple[str, ...]] = {
    S.PENDING: ("accept",),
    # A command centre dispatches; the grid (which may not) resolves a small matter itself.
    S.FILED: ("dispatch", "self_resolve"),
    S.DISPATCHED: ("handle", "report"),
    S.HANDLING: ("report",),
    S.RETURNED: ("assign",),
    S.PARKED: ("unpark",),
    S.VERIFYING: ("verify",),
    S.VERIFIED: ("close",),
    S.CLOSED: ("callback",),
}


def primary_action(event: Event, actions: list[str]) -> str | None:
    """The one action the page puts first for an actor who may take `actions` on `event` now:
    the step that moves it on (an extension asked for comes before the work itself, for
    whoever may grant it). None when none of the actor's actions moves it on."""
    wanted = NEXT_STEP.get(event.status, ())
    if event.extension_request and "extend" in actions:
        wanted = ("extend", *wanted)
    return next((name for name in wanted if name in actions), None)


def params_by_name() -> dict[str, tuple[Param, list[str]]]:
    """Every input any action takes, once, with the actions that take it (the API's schema).
    Variants of one input (a reason required or not) share its name and type."""
    found: dict[str, tuple[Param, list[str]]] = {}
    for action, rule in RULES.items():
        for param in rule.params:
            if param.name in found:
                found[param.name][1].append(action)
            else:
                found[param.name] = (param, [action])
    return found
