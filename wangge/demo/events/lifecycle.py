"""One simulated event's life through the workflow, step by step: when each step happens and
who takes it (the demo users where they are answerable, named offices elsewhere) is the
simulation's; what a step changes is the workflow's own. Each step is checked with
`workflow.refusal` (the table's statuses and the actions' rules) and applied with
`workflow.step` on the event in memory, and the deadline scan's marks with `scan.overdue_step`,
so a change to the workflow changes the history too. Only the audit chain is left out (one
summary entry instead of thirty thousand).

`Lifecycle` is the half of `History` that plays the workflow; `History` (history.py) adds the
generation of the events and their bulk writing."""

from __future__ import annotations

import math
import random
from typing import Any

from wangge.demo.events.cases import Actor, Case, Grid, aware
from wangge.demo.events.clock import WorkCalendar, WorkClock
from wangge.demo.events.reference import (
    DEPARTMENT_NAMES,
    DIRECT,
    EXTEND_REASONS,
    HANDLED_NOTES,
    MINE,
    PARK_REASONS,
    REJECT_REASONS,
    RETURN_REASONS,
    REWORK_REASONS,
    TRACKED,
    by_major,
)
from wangge.events.models import FINAL_STATUSES, CloseKind, Tier
from wangge.events.scan import MARKABLE, overdue_step
from wangge.events.scan import SYSTEM as SCAN_ACTOR
from wangge.events.workflow import apply_in_memory, refusal, step


class DemoRuleBroken(RuntimeError):
    """The simulation tried a step the workflow refuses: the demo must follow the rules."""


def ts(value: Any) -> int | None:
    """Unix seconds of an event's datetime (None stays None)."""
    return None if value is None else int(value.timestamp())


class Lifecycle:
    """The workflow's steps on a `Case`, with the random choices of what happens at each."""

    # Set by `History.__init__`.
    rng: random.Random
    clock: WorkClock
    calendar: WorkCalendar
    now: int
    users: dict[str, int]
    departments: list[str]
    cases: list[Case]

    # --- actors -----------------------------------------------------------------------------

    def _user(self, username: str) -> Actor:
        return self.users.get(username), username

    def _centre(self, case: Case) -> Actor:
        return self._centre_at(case.grid, case.event.tier)

    def _centre_at(self, grid: Grid, tier: int) -> Actor:
        """The command centre answerable at a tier (the community's for the grid tier)."""
        if tier >= Tier.DISTRICT:
            return self._user("demo-district")
        if tier == Tier.STREET:
            if grid.code.startswith("440704003"):
                return self._user("demo-street")
            return None, f"{grid.street}综治中心"
        if grid.code.startswith("440704003001"):
            return self._user("demo-community")
        return None, f"{grid.community}综治中心"

    def _worker(self, case: Case) -> Actor:
        if case.grid.code == MINE:
            return self._user("demo-grid")
        return None, f"{case.grid.name}网格员"

    def _verifier(self, case: Case) -> Actor:
        if case.grid.code == MINE:
            who = self._user("demo-grid")
            return who if who[0] != case.event.handler_id else (None, f"{case.grid.name}网格员")
        return None, f"{case.grid.name}网格长"

    def _department(self, code: str) -> Actor:
        if code == "chengguan":
            return self._user("demo-dept")
        return None, DEPARTMENT_NAMES.get(code, code)

    # --- the workflow, step by step -----------------------------------------------------------

    def _mark(self, case: Case, t: int) -> None:
        """What the deadline scan (every minute) did before `t`: mark and escalate once."""
        event = case.event
        due = ts(event.due_at)
        marked = ts(event.overdue_marked_for)
        if due is None or event.status not in MARKABLE or (marked is not None and marked >= due):
            return
        at = due + 60
        if at > t:
            if t != self.now or due >= t:
                return
            at = t
        tier, action, details = overdue_step(tier=event.tier, due_at=aware(due))
        case.actions.append(
            (at, None, SCAN_ACTOR.username, action, event.status, event.status, "", details)
        )
        event.overdue = True
        event.overdue_marked_for = event.due_at
        event.tier = tier
        event.version += 1
        if tier >= Tier.STREET and not event.supervised and self.rng.random() < 0.35:
            when = self.clock.add(at, 30)
            if when <= t:
                reason = "超期未办结，请加快处置并反馈"
                self._step(case, when, "supervise", self._centre(case), reason)

    def _step(
        self, case: Case, t: int, action: str, actor: Actor, reason: str = "", **params: Any
    ) -> None:
        """One workflow step at `t` on the event in memory, and its log line."""
        event = case.event
        refused = refusal(event, action, actor[0])
        if refused:
            raise DemoRuleBroken(f"{action} on a {event.status} event: {refused}")
        change = step(
            event,
            action,
            actor_id=actor[0],
            reason=reason,
            now=aware(t),
            params=params,
            clock=self.calendar,
        )
        before = event.status
        apply_in_memory(event, change)
        case.actions.append(
            (t, actor[0], actor[1], action, before, event.status, reason, change.details)
        )
        if event.status in FINAL_STATUSES:
            case.end = t

    def _act(
        self, case: Case, t: int, action: str, actor: Actor, reason: str = "", **params: Any
    ) -> bool:
        """Take one step at `t`, after what the scan did before it; False if `t` is after now
        (the event's story stops there: it is open)."""
        if t > self.now:
            return False
        self._mark(case, t)
        self._step(case, t, action, actor, reason, **params)
        return True

    def _stage_end(self, t: int, due: int | None, span: int, late: float) -> int:
        """When a stage that began at `t` ends: before its deadline, or (with probability
        `late`) some way past it."""
        rng = self.rng
        if due is not None and rng.random() >= late:
            room = self.clock.between(t, due)
            if room >= 2:
                return self.clock.add(t, max(1, int(room * rng.uniform(0.05, 0.9))))
        base = due if due is not None and due > t else t
        return self.clock.add(base, max(5, int(span * rng.uniform(0.1, 1.2))))

    def _life(self, case: Case) -> None:
        rng, clock, cat, event = self.rng, self.clock, case.cat, case.event
        t = case.created
        direct = event.channel in DIRECT
        details = {"channel": event.channel, "duplicates": []}
        case.actions.append((t, *case.reporter, "intake", "", event.status, "", details))
        if case.merge_into is not None and case.merge_at is not None:
            into = self.cases[case.merge_into].event.pk
            self._act(case, case.merge_at, "merge", self._centre(case), into=into)
            return
        if not direct:
            if rng.random() < 0.085:
                t = clock.add(t, max(1, int(cat.accept_m * rng.uniform(0.1, 0.8))))
                reasons, weights = zip(*REJECT_REASONS, strict=True)
                self._act(case, t, "reject", self._centre(case), rng.choices(reasons, weights)[0])
                return
            t = self._stage_end(t, ts(event.due_at), cat.accept_m, late=0.06)
            if not self._act(case, t, "accept", self._centre(case)):
                return
        if rng.random() < 0.012:
            t = clock.add(t, max(1, int(cat.accept_m * rng.uniform(0.2, 0.9))))
            kind = CloseKind.ERRONEOUS if rng.random() < 0.4 else CloseKind.SPECIAL
            reason = (
                "上报信息有误，作错误结案"
                if kind == CloseKind.ERRONEOUS
                else "经研究无法处置，作特殊结案"
            )
            self._act(case, t, "close_special", self._centre(case), reason, kind=kind)
            return
        resolve_share = 0.8 if direct else 0.5
        if cat.self_resolve and rng.random() < resolve_share:
            self._self_resolve(case, t)
        else:
            self._dispatch(case, t)

    def _self_resolve(self, case: Case, t: int) -> None:
        rng, cat, event = self.rng, case.cat, case.event
        if case.stuck:
            return
        worker = self._worker(case)
        for attempt in range(2):
            late = 0.07 if attempt == 0 else 0.5
            t = self._stage_end(t, ts(event.handle_due_at), cat.handle_m, late)
            if not self._act(case, t, "self_resolve", worker):
                return
            t = self._stage_end(t, ts(event.due_at), cat.verify_m, late=0.04)
            if attempt == 0 and rng.random() < 0.03:
                reason = rng.choice(REWORK_REASONS)
                if not self._act(case, t, "verify", self._verifier(case), reason, passed=False):
                    return
                continue
            break
        if self._act(case, t, "verify", self._verifier(case), passed=True):
            self._finish(case, t)

    def _dispatch(self, case: Case, t: int) -> None:
        rng, clock, cat, event = self.rng, self.clock, case.cat, case.event
        department = cat.department or "chengguan"
        t = self._stage_end(t, ts(event.due_at), cat.accept_m, late=0.05)
        wrong = rng.random() < 0.045
        first = (
            rng.choice([d for d in self.departments if d != department]) if wrong else department
        )
        if not self._act(case, t, "dispatch", self._centre(case), department=first):
            return
        if wrong:
            t = clock.add(t, max(10, int(cat.handle_m * rng.uniform(0.05, 0.3))))
            reason = rng.choice(RETURN_REASONS)
            if not self._act(case, t, "return", self._department(first), reason):
                return
            t = self._stage_end(t, ts(event.due_at), cat.accept_m, late=0.05)
            if not self._act(case, t, "assign", self._centre(case), department=department):
                return
        handler = self._department(department)
        t = clock.add(t, max(5, int(cat.handle_m * rng.uniform(0.02, 0.15))))
        if not self._act(case, t, "handle", handler):
            return
        roll = rng.random()
        handle_due = ts(event.handle_due_at)
        if roll < 0.022 and handle_due is not None:
            room = clock.between(t, handle_due)
            t = clock.add(t, max(1, int(room * rng.uniform(0.1, 0.5))))
            if not self._act(case, t, "park", self._centre(case), rng.choice(PARK_REASONS)):
                return
            if rng.random() < 0.2:
                return  # still parked
            resume = clock.add(t, rng.randint(2, 20) * clock.day_minutes)
            if not self._act(case, resume, "unpark", self._centre(case)):
                return
            t = resume
        elif roll < 0.075 and handle_due is not None:
            room = clock.between(t, handle_due)
            t = clock.add(t, max(1, int(room * rng.uniform(0.3, 0.7))))
            amount, unit = max(1, math.ceil(cat.handle_amount / 2)), cat.handle_unit
            reason = rng.choice(by_major(EXTEND_REASONS, cat.code))
            if not self._act(
                case, t, "request_extension", handler, reason, amount=amount, unit=unit
            ):
                return
            t = clock.add(t, rng.randint(10, 90))
            if not self._act(case, t, "extend", self._centre(case), "同意延期"):
                return  # the amount asked for, as the centre's page proposes
        if case.stuck:
            return
        t = self._stage_end(t, ts(event.handle_due_at), cat.handle_m, late=0.06)
        if not self._report(case, t, handler):
            return
        t = self._stage_end(t, ts(event.due_at), cat.verify_m, late=0.04)
        if rng.random() < 0.04:
            reason = rng.choice(REWORK_REASONS)
            if not self._act(case, t, "verify", self._verifier(case), reason, passed=False):
                return
            t = clock.add(t, rng.randint(20, 120))
            if not self._act(case, t, "handle", handler):
                return
            t = clock.add(t, max(10, int(cat.handle_m * rng.uniform(0.1, 0.6))))
            if not self._report(case, t, handler):
                return
            t = self._stage_end(t, ts(event.due_at), cat.verify_m, late=0.04)
        if self._act(case, t, "verify", self._verifier(case), passed=True):
            self._finish(case, t)

    def _report(self, case: Case, t: int, handler: Actor) -> bool:
        note = self.rng.choice(by_major(HANDLED_NOTES, case.cat.code))
        return self._act(case, t, "report", handler, note=note)

    def _finish(self, case: Case, t: int) -> None:
        rng = self.rng
        t = self.clock.add(t, rng.randint(10, 180))
        if not self._act(case, t, "close", self._centre(case)):
            return
        on_time = case.event.on_time
        share = 0.85 if case.event.channel in TRACKED else 0.3
        if rng.random() < share:
            t = self.clock.add(t, rng.randint(60, 2 * self.clock.day_minutes))
            weights = [75, 18, 7] if on_time else [45, 30, 25]
            value = rng.choices([1, 2, 3], weights)[0]
            self._act(case, t, "callback", self._centre(case), satisfaction=value)
