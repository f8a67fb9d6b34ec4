"""One simulated event's life through the workflow, step by step: who acts (the demo users
where they are answerable, named offices elsewhere), and the same statuses, deadlines, counters,
escalations and log lines that `workflow.transition` and `scan.scan` would have written.

`Lifecycle` is the half of `History` that plays the workflow; `History` (history.py) adds the
generation of the events and their bulk writing."""

from __future__ import annotations

import math
import random
from typing import Any

from wangge.demo.events.cases import Actor, Case, Grid, aware, iso_local
from wangge.demo.events.clock import WorkClock
from wangge.demo.events.reference import (
    DEPARTMENT_NAMES,
    DIRECT,
    EXTEND_REASONS,
    FINAL,
    HANDLED_NOTES,
    MARKABLE,
    MINE,
    PARK_REASONS,
    REJECT_REASONS,
    RETURN_REASONS,
    REWORK_REASONS,
    TRACKED,
    S,
    by_major,
)
from wangge.events.models import CloseKind, Tier
from wangge.events.scan import SYSTEM as SCAN_ACTOR


class Lifecycle:
    """The workflow's steps on a `Case`, with the random choices of what happens at each."""

    # Set by `History.__init__`.
    rng: random.Random
    clock: WorkClock
    now: int
    users: dict[str, int]
    departments: list[str]

    # --- actors -----------------------------------------------------------------------------

    def _user(self, username: str) -> Actor:
        return self.users.get(username), username

    def _centre(self, case: Case) -> Actor:
        return self._centre_at(case.grid, case.tier)

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
            return who if who[0] != case.handler_id else (None, f"{case.grid.name}网格员")
        return None, f"{case.grid.name}网格长"

    def _department(self, code: str) -> Actor:
        if code == "chengguan":
            return self._user("demo-dept")
        return None, DEPARTMENT_NAMES.get(code, code)

    # --- the workflow, step by step -----------------------------------------------------------

    def _mark(self, case: Case, t: int) -> None:
        """What the deadline scan (every minute) did before `t`: mark and escalate once."""
        due = case.due
        if (
            due is None
            or case.status not in MARKABLE
            or (case.marked is not None and case.marked >= due)
        ):
            return
        at = due + 60
        if at > t:
            if t != self.now or due >= t:
                return
            at = t
        case.overdue = True
        case.marked = due
        tier = min(case.tier + 1, Tier.DISTRICT)
        action = "escalate" if tier != case.tier else "overdue"
        case.actions.append(
            (
                at,
                None,
                SCAN_ACTOR.username,
                action,
                case.status,
                case.status,
                "",
                {"due_at": aware(due).isoformat(), "tier": tier},
            )
        )
        case.tier = tier
        case.version += 1
        if tier >= Tier.STREET and not case.supervised and self.rng.random() < 0.35:
            when = self.clock.add(at, 30)
            if when <= t:
                self._record(
                    case,
                    when,
                    "supervise",
                    self._centre(case),
                    reason="超期未办结，请加快处置并反馈",
                )
                case.supervised = True

    def _record(
        self,
        case: Case,
        t: int,
        action: str,
        actor: Actor,
        to: str | None = None,
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        before = case.status
        if to is not None:
            case.status = to
            if to in FINAL:
                case.end = t
        case.actions.append(
            (t, actor[0], actor[1], action, before, case.status, reason, details or {})
        )
        case.version += 1

    def _act(
        self,
        case: Case,
        t: int,
        action: str,
        actor: Actor,
        to: str | None = None,
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> bool:
        """Take one step at `t`, after what the scan did before it; False if `t` is after now
        (the event's story stops there: it is open)."""
        if t > self.now:
            return False
        self._mark(case, t)
        self._record(case, t, action, actor, to, reason, details)
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
        rng, clock, cat = self.rng, self.clock, case.cat
        t = case.created
        direct = case.channel in DIRECT
        case.status = S.FILED if direct else S.PENDING
        case.actions.append(
            (
                t,
                *case.reporter,
                "intake",
                "",
                case.status,
                "",
                {"channel": case.channel, "duplicates": []},
            )
        )
        if direct:
            case.filed = t
        if direct and cat.self_resolve:
            case.handle_due = case.due = clock.add(t, cat.handle_m)
        else:
            case.due = clock.add(t, cat.accept_m)
        if case.merge_into is not None and case.merge_at is not None:
            t = case.merge_at
            if self._act(case, t, "merge", self._centre(case), S.MERGED, details={"into": None}):
                case.due = None
            return
        if not direct:
            if rng.random() < 0.085:
                t = clock.add(t, max(1, int(cat.accept_m * rng.uniform(0.1, 0.8))))
                reasons, weights = zip(*REJECT_REASONS, strict=True)
                reason = rng.choices(reasons, weights)[0]
                if self._act(case, t, "reject", self._centre(case), S.REJECTED, reason):
                    case.due = None
                return
            t = self._stage_end(t, case.due, cat.accept_m, late=0.06)
            if not self._act(case, t, "accept", self._centre(case), S.FILED):
                return
            case.filed = t
            if cat.self_resolve:
                case.handle_due = case.due = clock.add(t, cat.handle_m)
            else:
                case.due = clock.add(t, cat.accept_m)
        if rng.random() < 0.012:
            t = clock.add(t, max(1, int(cat.accept_m * rng.uniform(0.2, 0.9))))
            kind = CloseKind.ERRONEOUS if rng.random() < 0.4 else CloseKind.SPECIAL
            reason = (
                "上报信息有误，作错误结案"
                if kind == CloseKind.ERRONEOUS
                else "经研究无法处置，作特殊结案"
            )
            if self._act(
                case, t, "close_special", self._centre(case), S.CLOSED, reason, {"kind": kind}
            ):
                self._closing(case, t, kind, None)
            return
        resolve_share = 0.8 if direct else 0.5
        if cat.self_resolve and rng.random() < resolve_share:
            self._self_resolve(case, t)
        else:
            self._dispatch(case, t)

    def _self_resolve(self, case: Case, t: int) -> None:
        rng, clock, cat = self.rng, self.clock, case.cat
        if case.stuck:
            return
        worker = self._worker(case)
        for attempt in range(2):
            late = 0.07 if attempt == 0 else 0.5
            t = self._stage_end(t, case.handle_due, cat.handle_m, late)
            if not self._act(case, t, "self_resolve", worker, S.VERIFYING):
                return
            case.self_resolved = True
            case.handler_id = worker[0]
            case.reported = t
            case.due = clock.add(t, cat.verify_m)
            if case.handle_due is None:
                case.handle_due = t
            t = self._stage_end(t, case.due, cat.verify_m, late=0.04)
            if attempt == 0 and rng.random() < 0.03:
                reason = rng.choice(REWORK_REASONS)
                if not self._act(
                    case, t, "verify", self._verifier(case), S.FILED, reason, {"passed": False}
                ):
                    return
                case.rework_count += 1
                case.self_resolved = False
                case.due = case.handle_due
                continue
            break
        if self._act(case, t, "verify", self._verifier(case), S.VERIFIED, details={"passed": True}):
            case.due = None
            self._finish(case, t)

    def _send(self, case: Case, t: int, action: str, department: str) -> bool:
        due = self.clock.add(t, case.cat.handle_m)
        details = {"department": department, "due_at": iso_local(due)}
        if not self._act(case, t, action, self._centre(case), S.DISPATCHED, details=details):
            return False
        case.department_code = case.handler_department = department
        case.dispatched = t
        case.handle_due = case.due = due
        return True

    def _dispatch(self, case: Case, t: int) -> None:
        rng, clock, cat = self.rng, self.clock, case.cat
        department = cat.department or "chengguan"
        t = self._stage_end(t, case.due, cat.accept_m, late=0.05)
        wrong = rng.random() < 0.045
        first = (
            rng.choice([d for d in self.departments if d != department]) if wrong else department
        )
        if not self._send(case, t, "dispatch", first):
            return
        if wrong:
            t = clock.add(t, max(10, int(cat.handle_m * rng.uniform(0.05, 0.3))))
            reason = rng.choice(RETURN_REASONS)
            if not self._act(
                case,
                t,
                "return",
                self._department(first),
                S.RETURNED,
                reason,
                {"department": first},
            ):
                return
            case.department_code = ""
            case.return_count += 1
            case.due = clock.add(t, cat.accept_m)
            t = self._stage_end(t, case.due, cat.accept_m, late=0.05)
            if not self._send(case, t, "assign", department):
                return
            case.no_return = True
        handler = self._department(department)
        t = clock.add(t, max(5, int(cat.handle_m * rng.uniform(0.02, 0.15))))
        if not self._act(case, t, "handle", handler, S.HANDLING):
            return
        case.handler_id = handler[0]
        roll = rng.random()
        if roll < 0.022 and case.handle_due is not None:
            room = clock.between(t, case.handle_due)
            t = clock.add(t, max(1, int(room * rng.uniform(0.1, 0.5))))
            if not self._act(
                case, t, "park", self._centre(case), S.PARKED, rng.choice(PARK_REASONS)
            ):
                return
            case.parked_from, case.parked_at, case.due = S.HANDLING, t, None
            case.park_count += 1
            if rng.random() < 0.2:
                return  # still parked
            resume = clock.add(t, rng.randint(2, 20) * clock.day_minutes)
            if not self._act(case, resume, "unpark", self._centre(case), S.HANDLING):
                return
            paused = clock.between(t, resume)
            case.handle_due = case.due = clock.add(case.handle_due, paused)
            case.parked_from, case.parked_at = "", None
            t = resume
        elif roll < 0.075 and case.handle_due is not None:
            room = clock.between(t, case.handle_due)
            t = clock.add(t, max(1, int(room * rng.uniform(0.3, 0.7))))
            amount, unit = max(1, math.ceil(cat.handle_amount / 2)), cat.handle_unit
            minutes = amount * {"minute": 1, "hour": 60, "day": clock.day_minutes}[unit]
            reason = rng.choice(by_major(EXTEND_REASONS, cat.code))
            if not self._act(
                case,
                t,
                "request_extension",
                handler,
                reason=reason,
                details={"amount": amount, "unit": unit},
            ):
                return
            t = clock.add(t, rng.randint(10, 90))
            base = max(case.handle_due, t) if case.overdue else case.handle_due
            due = clock.add(base, minutes)
            details = {"amount": amount, "unit": unit, "due_at": iso_local(due)}
            if not self._act(
                case, t, "extend", self._centre(case), reason="同意延期", details=details
            ):
                return
            case.handle_due = case.due = due
            case.extend_count += 1
        if case.stuck:
            return
        t = self._stage_end(t, case.handle_due, cat.handle_m, late=0.06)
        if not self._report(case, t, handler):
            return
        t = self._stage_end(t, case.due, cat.verify_m, late=0.04)
        if rng.random() < 0.04:
            reason = rng.choice(REWORK_REASONS)
            if not self._act(
                case, t, "verify", self._verifier(case), S.DISPATCHED, reason, {"passed": False}
            ):
                return
            case.rework_count += 1
            case.department_code = case.handler_department
            case.due = case.handle_due
            t = clock.add(t, rng.randint(20, 120))
            if not self._act(case, t, "handle", handler, S.HANDLING):
                return
            t = clock.add(t, max(10, int(cat.handle_m * rng.uniform(0.1, 0.6))))
            if not self._report(case, t, handler):
                return
            t = self._stage_end(t, case.due, cat.verify_m, late=0.04)
        if self._act(case, t, "verify", self._verifier(case), S.VERIFIED, details={"passed": True}):
            case.due = None
            self._finish(case, t)

    def _report(self, case: Case, t: int, handler: Actor) -> bool:
        note = {"note": self.rng.choice(by_major(HANDLED_NOTES, case.cat.code))}
        if not self._act(case, t, "report", handler, S.VERIFYING, details=note):
            return False
        case.reported = t
        case.due = self.clock.add(t, case.cat.verify_m)
        # The department keeps seeing what it handled (workflow.py clears it only on return).
        if case.handler_id is None:
            case.handler_id = handler[0]
        return True

    def _finish(self, case: Case, t: int) -> None:
        rng = self.rng
        t = self.clock.add(t, rng.randint(10, 180))
        on_time = case.handle_due is None or (
            case.reported is not None and case.reported <= case.handle_due
        )
        kind = CloseKind.NORMAL if on_time else CloseKind.OVERDUE
        if not self._act(case, t, "close", self._centre(case), S.CLOSED, details={"kind": kind}):
            return
        self._closing(case, t, kind, on_time)
        share = 0.85 if case.channel in TRACKED else 0.3
        if rng.random() < share:
            t = self.clock.add(t, rng.randint(60, 2 * self.clock.day_minutes))
            weights = [75, 18, 7] if on_time else [45, 30, 25]
            value = rng.choices([1, 2, 3], weights)[0]
            if self._act(case, t, "callback", self._centre(case), details={"satisfaction": value}):
                case.satisfaction = value

    def _closing(self, case: Case, t: int, kind: str, on_time: bool | None) -> None:
        case.closed = t
        case.close_kind = kind
        case.due = None
        case.on_time = on_time
        case.handling_seconds = t - (case.filed or case.created)
