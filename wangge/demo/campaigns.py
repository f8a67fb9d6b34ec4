"""The demo's campaigns, made and worked through the campaigns' own services.

- **2022年江海区基础信息采集核查** (template basic, all 190 grids, 2022-04-19 → 2022-05-20), the
  campaign Jianghai is known for, part-way through: most grids approved (the community's
  review, then the street's spot check of a share), some submitted and waiting for review,
  a few returned with the reviewer's reason, some submitted with conflicts waiting (a record
  that the street changed in the ledger after the worker downloaded the package), a few in
  progress or not started. The demo logins act in their roles: demo-grid is named
  responsible for 英南村第1网格 and collects it (its task is in progress, records left, after a
  return), demo-community reviews 英南村's grids, demo-street spot-checks 礼乐街道's. The
  other grids' teams have no logins in the demo: their field work and reviews are entered as
  the demo's system actor.
- **2026年礼乐街道入户走访排查** (template visit, 礼乐街道, a window around today): the open
  campaign of the phone pages — demo-grid is named responsible for its grid's task, which is
  untouched; a few other grids have visited some households.

Each task's field work is one `apply_edits` batch (the confirmations go through the bulk
path), sent from the package the worker downloaded. The 2022 work runs on a simulated clock
(`_Clock`): the services see April and May 2022, so the window holds for the named worker and
the tasks' log shows the dates of the campaign; the ledger and the audit log keep real time.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import Any

from django.utils import timezone as dj_timezone

from wangge.campaigns import edits, selectors, services
from wangge.campaigns.models import Campaign, Task, TaskRecord, TaskState
from wangge.campaigns.selection import MODELS
from wangge.core.models import User
from wangge.core.scope import Scope, scope_for
from wangge.demo.people import PeopleFactory
from wangge.ledger import services as ledger

APRIL_NAME = "2022年江海区基础信息采集核查"
APRIL_START = dt.date(2022, 4, 19)
APRIL_END = dt.date(2022, 5, 20)
VISIT_NAME = "2026年礼乐街道入户走访排查"
DISTRICT = "440704"
LILE = "440704003"  # 礼乐街道: demo-street
YINGNAN = "440704003001"  # 英南村: demo-community
MINE = "440704003001001"  # demo-grid's grid
SPOT_CHECK = 0.2
# 英南村's grids, set by hand so that each demo role finds something to do.
YINGNAN_PLAN = {
    MINE: "mine",
    f"{YINGNAN}002": "submitted",
    f"{YINGNAN}003": "conflicts",
    f"{YINGNAN}004": "returned",
}
# The other grids: (state, weight).
PLAN_WEIGHTS = [
    ("approved", 76),
    ("submitted", 8),
    ("conflicts", 5),
    ("returned", 4),
    ("in_progress", 5),
    ("assigned", 2),
]
RETURN_REASONS = [
    "3户无人在家，户内人员未核实，请复访后再提交。",
    "新增人员缺少身份证号码，请补录后再提交。",
    "出租屋承租人信息未逐一核对，请补充核查。",
    "部分门牌号与实地不符，请核对房屋信息后再提交。",
    "注销人员未注明迁出时间，请补充。",
    "个别单位从业人数与实际明显不符，请重新核实。",
]
MINE_RETURN = "还有部分房屋和人员未核查，请全部核查完再提交。"
OCCUPATIONS = ["个体经营", "务工", "务农", "退休", "教师", "快递员", "司机", "学生", "厨师"]
STREET_CHANGES = ["外出务工", "自由职业", "公司职员"]  # the street's change that makes a conflict


class _Clock:
    """The moment the demo replays the 2022 field work at: passed to the campaign services as
    their `now` (everything else keeps the real time)."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at


def _moment(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(
        day, dt.time(hour, minute), tzinfo=dj_timezone.get_current_timezone()
    )


class _Field:
    """One grid's field work: the edits a worker sends for the records of a package."""

    def __init__(self, rng: random.Random, people: PeopleFactory, device: str) -> None:
        self.rng = rng
        self.people = people
        self.device = device
        self.seq = 0

    def edit(
        self, op: str, kind: str, at: dt.datetime, record: dict[str, Any] | None, **values: Any
    ) -> dict[str, Any]:
        self.seq += 1
        return {
            "key": f"{self.device}-{self.seq}",
            "op": op,
            "kind": kind,
            "record_id": record["id"] if record else None,
            "base_version": record["version"] if record else None,
            "device": self.device,
            "seq": self.seq,
            "made_at": at.isoformat(),
            "values": values,
        }

    def work(
        self, records: list[dict[str, Any]], at: dt.datetime, *, share: float = 1.0
    ) -> list[dict[str, Any]]:
        """Edits for the first `share` of the worklist (in its order), one minute apart."""
        rng = self.rng
        todo = [r for r in records if r["status"] == "pending" and not r["retired"]]
        todo = todo[: round(len(todo) * share)]
        out = []
        for i, r in enumerate(todo):
            t = at + dt.timedelta(minutes=i)
            kind, x = r["kind"], rng.random()
            if kind == "person" and x < 0.03:
                current = r["values"].get("occupation") or ""
                choice = rng.choice([o for o in OCCUPATIONS if o != current])
                out.append(self.edit("correct", kind, t, r, fields={"occupation": choice}))
            elif kind == "person" and x < 0.04:
                out.append(self.edit("correct", kind, t, r, fields={"phone": self.people.phone()}))
            elif kind == "person" and x < 0.055:
                reason = "deceased" if rng.random() < 0.2 else "moved_away"
                out.append(self.edit("retire", kind, t, r, reason=reason, on=t.date().isoformat()))
            elif kind == "room" and x < 0.015:
                use = "rented" if r["values"].get("use") != "rented" else "own"
                out.append(self.edit("correct", kind, t, r, fields={"use": use}))
            elif kind == "organisation" and x < 0.04:
                employees = rng.randint(2, 40)
                out.append(self.edit("correct", kind, t, r, fields={"employees": employees}))
            elif kind == "thing" and x < 0.03:
                out.append(self.edit("correct", kind, t, r, fields={"state": "damaged"}))
            else:
                out.append(self.edit("confirm", kind, t, r))
        if share >= 1.0 and rng.random() < 0.3:
            gender = self.people.gender()
            today = at.date()
            fields = {
                "name": self.people.name(gender),
                "gender": gender,
                # 新迁入: registered in 蓬江区, so never an ID number the demo ledger holds.
                "id_number": self.people.id_number(gender, 20, 45, today),
                "phone": self.people.phone(),
                "population_type": "2",
            }
            t = at + dt.timedelta(minutes=len(todo) + 1)
            out.append(
                self.edit("add", "person", t, None, fields=fields, confirm_new=True)
                | {"ref": f"{self.device}-new-1"}
            )
        return out


# What the field work reads of a record besides its version (to correct it to something new).
_READ = {"person": "occupation", "room": "use"}


def _worklist(task: Task) -> list[dict[str, Any]]:
    """The task's records as the package lists them (kind, id, version, status, retired and
    the values the field work looks at), read in one query per kind: the grids whose
    download is not part of the story skip building the whole package."""
    rows = list(
        TaskRecord.objects.dangerously_unscoped()
        .filter(task=task)
        .order_by("sort_key", "id")
        .values_list("kind", "record_id", "status")
    )
    ids: dict[str, list[int]] = {}
    for kind, pk, _status in rows:
        ids.setdefault(kind, []).append(pk)
    found: dict[tuple[str, int], tuple[int, bool, Any]] = {}
    for kind, pks in ids.items():
        extra = _READ.get(kind)
        columns = ["pk", "version", "retired_on", *([extra] if extra else [])]
        for values in (
            MODELS[kind].objects.dangerously_unscoped().filter(pk__in=pks).values_list(*columns)
        ):
            found[(kind, values[0])] = (values[1], values[2] is not None, values[3:])
    out = []
    for kind, pk, status in rows:
        if (kind, pk) not in found:
            continue
        version, retired, extra_values = found[(kind, pk)]
        shown = {_READ[kind]: extra_values[0]} if kind in _READ else {}
        out.append(
            {
                "kind": kind,
                "id": pk,
                "version": version,
                "status": status,
                "retired": retired,
                "values": shown,
            }
        )
    return out


def _send(actor: Any, task: Task, batch: list[dict[str, Any]], at: dt.datetime) -> Counter[str]:
    if not batch:
        return Counter()
    answer = edits.apply_edits(actor=actor, task_id=task.pk, edits=batch, now=at)
    statuses = Counter(r["status"] for r in answer["results"])
    rejected = [r for r in answer["results"] if r["status"] == "rejected"]
    if rejected:
        raise RuntimeError(f"demo campaign: edits rejected in {task.grid_code}: {rejected[:3]}")
    return statuses


def _who(username: str) -> Scope:
    return scope_for(User.objects.get(username=username))


def _plan(grids: list[str], rng: random.Random) -> dict[str, str]:
    states, weights = zip(*PLAN_WEIGHTS, strict=True)
    plan = {}
    for code in grids:
        plan[code] = YINGNAN_PLAN.get(code) or (
            "approved" if code.startswith(YINGNAN) else rng.choices(states, weights)[0]
        )
    return plan


def april_2022(actor: Scope, *, seed: int = 2022) -> dict[str, Any]:
    """The April 2022 campaign, part-way through (see the module's doc)."""
    rng = random.Random(seed)
    people = PeopleFactory(seed + 7, region="440703")
    campaign = services.campaign_create(
        actor=actor,
        name=APRIL_NAME,
        template="basic",
        regions=[DISTRICT],
        start=APRIL_START,
        end=APRIL_END,
        spot_check_rate=SPOT_CHECK,
    )
    tasks = list(
        Task.objects.dangerously_unscoped().filter(campaign=campaign).order_by("grid_code")
    )
    grid_worker, community, street = _who("demo-grid"), _who("demo-community"), _who("demo-street")
    plan = _plan([t.grid_code for t in tasks], rng)
    edits_sent: Counter[str] = Counter()
    left_for_street = 0
    clock = _Clock(_moment(APRIL_START, 8))
    services.task_assign(
        actor=actor,
        task_id=next(t.pk for t in tasks if t.grid_code == MINE),
        username="demo-grid",
        role="responsible",
        now=clock.at,
    )
    for task in tasks:
        state = plan[task.grid_code]
        if state == "assigned":
            continue
        worker: Any = grid_worker if state == "mine" else actor
        reviewer = community if task.grid_code.startswith(YINGNAN) else actor
        spot = street if task.grid_code.startswith(LILE) else actor
        day = APRIL_START + dt.timedelta(days=rng.randint(1, 18))
        clock.at = _moment(day, 9, rng.randint(0, 50))
        if state in {"mine", "conflicts"}:  # the download the story is about
            records = selectors.task_package(actor=worker, task_id=task.pk, now=clock.at)["records"]
        else:
            records = _worklist(task)
        field = _Field(rng, people, f"demo-{task.grid_code}")
        if state == "conflicts":
            # After the download, the street corrects people in the ledger (户籍核对):
            # the worker's corrections of them, made from the package, are conflicts.
            targets = [r for r in records if r["kind"] == "person" and not r["retired"]][:2]
            for r in targets:
                ledger.person_update(
                    actor=actor,
                    person_id=r["id"],
                    version=r["version"],
                    values={"occupation": rng.choice(STREET_CHANGES)},
                )
            batch = [
                field.edit("correct", "person", clock.at, r, fields={"occupation": "务工"})
                for r in targets
            ]
            rest = [r for r in records if r not in targets]
            batch += field.work(rest, clock.at + dt.timedelta(minutes=5))
        elif state == "mine":
            batch = field.work(records, clock.at, share=0.4)
        elif state == "in_progress":
            batch = field.work(records, clock.at, share=rng.uniform(0.3, 0.8))
        else:
            batch = field.work(records, clock.at)
        clock.at += dt.timedelta(hours=6)
        edits_sent += _send(worker, task, batch, clock.at)
        if state in {"in_progress"}:
            continue
        clock.at += dt.timedelta(hours=2)
        services.task_submit(actor=worker, task_id=task.pk, now=clock.at)
        if state in {"submitted", "conflicts"}:
            continue
        clock.at += dt.timedelta(days=rng.randint(1, 3), hours=1)
        if state in {"returned", "mine"}:
            reason = MINE_RETURN if state == "mine" else rng.choice(RETURN_REASONS)
            services.task_return(actor=reviewer, task_id=task.pk, reason=reason, now=clock.at)
            if state == "mine":
                # Back to work: a few more records, some still left.
                clock.at += dt.timedelta(days=1)
                package = selectors.task_package(actor=worker, task_id=task.pk, now=clock.at)
                more = field.work(package["records"], clock.at, share=0.5)
                edits_sent += _send(worker, task, more, clock.at + dt.timedelta(hours=3))
            continue
        approved = services.task_approve(actor=reviewer, task_id=task.pk, now=clock.at)
        if approved.state == TaskState.REVIEWED:
            if spot is street and left_for_street < 2:
                left_for_street += 1  # for demo-street to spot-check
                continue
            clock.at += dt.timedelta(days=rng.randint(1, 4))
            services.task_approve(actor=spot, task_id=task.pk, now=clock.at)
    states = Counter(
        Task.objects.dangerously_unscoped()
        .filter(campaign=campaign)
        .values_list("state", flat=True)
    )
    return {
        "id": campaign.pk,
        "tasks": len(tasks),
        "states": dict(states),
        "edits": dict(edits_sent),
    }


def visits_now(actor: Scope, *, seed: int = 2026) -> dict[str, Any]:
    """The open 入户走访排查 over 礼乐街道 (a window around today), for the phone pages."""
    rng = random.Random(seed)
    today = dj_timezone.localdate()
    campaign = services.campaign_create(
        actor=actor,
        name=VISIT_NAME,
        template="visit",
        regions=[LILE],
        start=today - dt.timedelta(days=6),
        end=today + dt.timedelta(days=15),
    )
    tasks = list(
        Task.objects.dangerously_unscoped().filter(campaign=campaign).order_by("grid_code")
    )
    services.task_assign(
        actor=actor,
        task_id=next(t.pk for t in tasks if t.grid_code == MINE),
        username="demo-grid",
        role="responsible",
    )
    people = PeopleFactory(seed, region="440703")
    outcomes = ["visited"] * 8 + ["nobody_home", "refused", "vacant"]
    visited = 0
    for n, task in enumerate(t for t in tasks if not t.grid_code.startswith(YINGNAN)):
        if n % 4:
            continue
        field = _Field(rng, people, f"demo-visit-{task.grid_code}")
        at = dj_timezone.now() - dt.timedelta(days=rng.randint(1, 5), hours=rng.randint(0, 5))
        batch = []
        for r in _worklist(task):
            if r["kind"] == "household" and rng.random() < 0.7:
                batch.append(field.edit("visit", "household", at, r, outcome=rng.choice(outcomes)))
                visited += 1
            elif r["kind"] == "person" and rng.random() < 0.6:
                batch.append(field.edit("confirm", "person", at, r))
        _send(actor, task, batch, dj_timezone.now())
    return {"id": campaign.pk, "tasks": len(tasks), "households_visited": visited}


def build(actor: Scope) -> dict[str, Any]:
    return {"april_2022": april_2022(actor), "visits_now": visits_now(actor)}


def april_campaign() -> Campaign:
    return Campaign.objects.dangerously_unscoped().get(name=APRIL_NAME)
