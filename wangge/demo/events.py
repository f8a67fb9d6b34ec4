"""The demo district's events (事): six months of history, and a few live cases.

The history (about 6,000 events by default) is simulated step by step with the workflow's own
rules — the same statuses, deadlines, counters, escalations and log lines `workflow.transition`
and `scan.scan` would have written — and then written in bulk, because thousands of audited
transitions would make the demo (built in every test session) slow. Deadlines use the working
calendar through `WorkClock`, a table of office minutes equal to `Calendar.add` (checked by
the tests) but thousands of times faster. The one audit entry is the summary `demo.events`.

The live cases go through the real intake, workflow and deadline scan, reported a few working
days ago, so that every demo role opens an inbox with one overdue case waiting for it:
demo-grid (a small matter in its grid), demo-community and demo-street (escalated to their
tier), demo-district (escalated to the district) and demo-dept (dispatched to 城管, past its
handling deadline).

Points keep 80 m away from each grid's interior point (where tests report), so no demo event
is suggested as a duplicate of a test's report.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import time
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import shapely
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from wangge.core.audit import audit_record
from wangge.core.models import User
from wangge.core.scope import Scope, scope_for
from wangge.demo.people import PeopleFactory
from wangge.events.calendar import Calendar, office_periods
from wangge.events.intake import Report, event_report
from wangge.events.models import (
    OPEN_STATUSES,
    Category,
    Channel,
    CloseKind,
    Event,
    EventAction,
    Status,
    Tier,
)
from wangge.events.scan import SYSTEM as SCAN_ACTOR
from wangge.events.scan import scan
from wangge.events.workflow import transition
from wangge.regions.models import Boundary, Level, Region

DAYS = 182  # six months before now
SEED = 2026
MINE = "440704003001001"  # demo-grid's grid (英南村第1网格)
CLEARING_M = 80.0

S = Status
DIRECT = frozenset({Channel.PATROL, Channel.ASSIGNED, Channel.VIDEO})
TRACKED = frozenset({Channel.HOTLINE, Channel.RESIDENT, Channel.OPEN311})
MARKABLE = frozenset(OPEN_STATUSES - {S.PARKED})
FINAL = frozenset({S.CLOSED, S.REJECTED, S.MERGED})
TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # as intake: no 0/O, 1/I

CHANNELS = [
    (Channel.PATROL, 60),
    (Channel.HOTLINE, 20),
    (Channel.RESIDENT, 10),
    (Channel.ASSIGNED, 5),
    (Channel.OPEN311, 3),
    (Channel.VIDEO, 2),
]
# Relative frequency of each minor category: 市容环境 and 街面秩序 most, 突发事件 rare, 信访 few.
CATEGORY_WEIGHTS = {
    "0101": 25, "0102": 110, "0103": 90, "0104": 20,
    "0201": 45, "0202": 12,
    "0301": 30, "0302": 18, "0303": 20,
    "0401": 60, "0402": 90, "0403": 55,
    "0501": 4, "0502": 2, "0503": 6, "0504": 2,
    "0601": 30, "0602": 10, "0603": 12,
    "0701": 30, "0702": 15, "0703": 15, "0704": 8,
    "0801": 18, "0802": 10, "0803": 10, "0804": 40,
    "0901": 12,
    "1001": 3, "1002": 10,
}  # fmt: skip
CHANNEL_BIAS: dict[str, dict[str, float]] = {
    Channel.PATROL: {"0901": 0, "0804": 0.2, "0301": 0.5},
    Channel.HOTLINE: {"0804": 6, "0301": 3, "0601": 1.5, "0703": 2, "0901": 2, "0102": 0.5},
    Channel.RESIDENT: {"0301": 2, "0804": 2},
    Channel.OPEN311: {"0301": 2, "0804": 2},
    Channel.ASSIGNED: {"0901": 12, "0101": 3, "0702": 2, "1002": 3},
}
# (hour of day, weight): patrols in office hours, calls and residents from morning to night.
OFFICE_HOURS = (range(8, 18), [3, 10, 10, 8, 2, 4, 9, 9, 7, 2])
CALL_HOURS = (range(7, 23), [2, 6, 9, 10, 9, 5, 6, 8, 9, 8, 7, 6, 6, 5, 3, 2])
VIDEO_CATEGORIES = {"0102", "0103", "0201", "0303", "0401", "0402", "0403", "0503", "0504"}

TITLES = {
    "0101": ["楼顶违规搭建铁皮房", "天台私自加建构筑物", "空地私搭简易棚"],
    "0102": ["垃圾收集点垃圾满溢未清运", "绿化带内暴露垃圾", "路边堆放生活垃圾"],
    "0103": ["路面油污未清理", "人行道泥沙堆积", "路面散落建筑垃圾"],
    "0104": ["河涌水面漂浮垃圾", "排水渠水体发黑发臭"],
    "0201": ["电线杆张贴非法小广告", "楼道墙面喷涂小广告"],
    "0202": ["商铺违规设置户外广告牌", "广告牌破损存在坠落隐患"],
    "0301": ["夜间施工噪音扰民", "工地超时施工噪音大"],
    "0302": ["道路开挖未设围挡", "占道施工未恢复路面"],
    "0303": ["工地出入口扬尘严重", "渣土车未覆盖遗撒"],
    "0401": ["流动摊贩占道叫卖", "路口无照游商聚集"],
    "0402": ["商铺出店经营占用人行道", "夜市摊档占道经营"],
    "0403": ["人行道乱堆建材", "楼道乱堆杂物"],
    "0501": ["供水管道破裂路面冒水", "消防栓漏水"],
    "0502": ["路面塌陷出现坑洞", "人行道地面下沉"],
    "0503": ["暴雨后路段积水", "下穿通道积水"],
    "0504": ["绿化带起火冒烟", "垃圾堆起火"],
    "0601": ["邻里漏水纠纷", "邻里噪音纠纷", "通道占用引发邻里矛盾"],
    "0602": ["工人反映被拖欠工资", "劳务费结算纠纷"],
    "0603": ["家庭矛盾需调解", "赡养纠纷"],
    "0701": ["楼道堆放杂物堵塞消防通道", "电动车楼道充电", "消防通道被占用"],
    "0702": ["餐馆液化气瓶存放不规范", "疑似燃气泄漏异味"],
    "0703": ["无证食品摊点", "餐馆后厨卫生差"],
    "0704": ["老旧房屋墙体开裂", "危房仍有人居住"],
    "0801": ["独居老人生活困难求助", "困难家庭申请帮扶"],
    "0802": ["长者饭堂服务咨询", "居家养老服务申请"],
    "0803": ["社区卫生站服务反映", "疫苗接种咨询"],
    "0804": ["小区路灯不亮", "公交站台设施损坏", "咨询办事流程"],
    "0901": ["群众来信反映征地补偿问题", "信访事项交办", "反映小区物业管理问题"],
    "1001": ["发现发热人员", "重点场所人员发热报告"],
    "1002": ["重点人员排查登记", "返乡人员健康排查"],
}
ROADS = {
    "440704001": ["江海一路", "江海二路", "东海路", "高新路", "金瓯路", "文昌路"],
    "440704002": ["外海大道", "龙溪路", "直冲路", "南山路", "金溪路"],
    "440704003": ["礼乐大道", "英南路", "威东路", "乌纱路", "新民路", "武东路"],
}
PREFIX: dict[str, str] = {
    Channel.PATROL: "网格员巡查发现：",
    Channel.HOTLINE: "市民致电12345反映：",
    Channel.RESIDENT: "居民上报：",
    Channel.OPEN311: "12345政务服务平台转来：",
    Channel.ASSIGNED: "上级交办：",
    Channel.VIDEO: "视频监控智能识别：",
}
REPORTERS: dict[str, str] = {
    Channel.HOTLINE: "12345热线",
    Channel.RESIDENT: "anonymous",
    Channel.OPEN311: "open311:12345政务服务平台",
    Channel.VIDEO: "视频监控（智能识别）",
}
DEPARTMENT_NAMES = {
    "chengguan": "区城管局",
    "yingji": "区应急管理局",
    "shichang": "区市场监督管理局",
    "minzheng": "区民政局",
    "weijian": "区卫生健康局",
    "xinfang": "区信访局",
    "zhengfa": "区委政法委",
    "gongan": "公安江海分局",
    "dangjian": "区委组织部",
}
REJECT_REASONS = [
    ("属于110警情，已告知来电人拨打110", 30),
    ("已在诉讼程序中，按规定不予受理", 15),
    ("重复上报，已有事件在办理", 30),
    ("不属于本区管辖范围", 15),
    ("诉求内容不清，多次联系未果", 10),
]
RETURN_REASONS = ["非本部门职责，请重新派遣", "该点位不属于本部门管养范围", "派遣部门有误"]
PARK_REASONS = [
    "涉及历史遗留问题，需区里统筹研究",
    "需多部门联合处置，待协调",
    "当事人在外地，待其返回后处理",
    "需等待专项资金安排",
]
# By major category (the first two digits); "" for the rest.
EXTEND_REASONS = {
    "03": ["受天气影响无法施工", "需施工单位整改到位后复查"],
    "06": ["涉及多方当事人，调解需更多时间"],
    "07": ["需等待检测结果", "整改工程量大，需更多时间"],
    "": ["需协调产权单位，申请延期", "涉及多个部门，需协调时间"],
}
REWORK_REASONS = ["现场复核仍未处理到位", "问题反弹，需重新处置", "整改不到位"]
HANDLED_NOTES = {
    "03": ["已责令施工单位整改并复查", "已责令停工整改"],
    "06": ["已调解，双方达成一致", "已组织双方调解并签订协议"],
    "07": ["已督促整改，隐患已消除", "已现场检查并责令整改"],
    "08": ["已上门走访并落实", "已办理并答复诉求人"],
    "09": ["已按程序办理并答复信访人"],
    "10": ["已按规定登记并跟进"],
    "": ["已现场处置完毕", "已清理完毕", "已责令当事人整改"],
}


def _for(table: dict[str, list[str]], code: str) -> list[str]:
    return table.get(code[:2]) or table[""]


class WorkClock:
    """Working time as a line of office minutes over a range of dates.

    `add(t, minutes)` equals `Calendar.add`: the moment `minutes` office minutes after `t`
    (seconds dropped, a period's end counted in the period), but found by two bisections in a
    precomputed table instead of a walk over days. Times are Unix seconds."""

    def __init__(self, calendar: Calendar, first: dt.date, last: dt.date) -> None:
        tz = timezone.get_current_timezone()
        self.workdays: set[dt.date] = set()
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._cums: list[int] = []
        self._cum_ends: list[int] = []
        total = 0
        day = first
        periods = office_periods()
        while day <= last:
            if calendar.is_workday(day):
                self.workdays.add(day)
                for period in periods:
                    start = int(dt.datetime.combine(day, period.start, tzinfo=tz).timestamp())
                    self._starts.append(start)
                    self._ends.append(start + period.minutes * 60)
                    self._cums.append(total)
                    total += period.minutes
                    self._cum_ends.append(total)
            day += dt.timedelta(days=1)
        self.day_minutes = sum(p.minutes for p in periods)

    def position(self, t: int) -> int:
        """Office minutes from the start of the table to `t` (seconds dropped)."""
        t -= t % 60
        i = bisect_right(self._starts, t) - 1
        if i < 0:
            raise ValueError("time before the working clock's range")
        if t < self._ends[i]:
            return self._cums[i] + (t - self._starts[i]) // 60
        return self._cum_ends[i]

    def moment(self, position: int) -> int:
        """The time at `position` office minutes (a period's end rather than the next start)."""
        j = bisect_left(self._cum_ends, position)
        if j >= len(self._starts):
            raise ValueError("time after the working clock's range")
        return self._starts[j] + (position - self._cums[j]) * 60

    def add(self, t: int, minutes: int) -> int:
        return self.moment(self.position(t) + max(1, int(minutes)))

    def back(self, t: int, minutes: int) -> int:
        return self.moment(self.position(t) - int(minutes))

    def between(self, a: int, b: int) -> int:
        return max(0, self.position(b) - self.position(a))


@dataclass(frozen=True)
class Cat:
    pk: int
    code: str
    name: str
    department: str
    self_resolve: bool
    public: bool
    accept_m: int
    handle_m: int
    verify_m: int
    handle_amount: int
    handle_unit: str


@dataclass(frozen=True)
class Grid:
    code: str
    name: str
    community: str
    street: str
    geom: Any
    inner: tuple[float, float]


Actor = tuple[int | None, str]


@dataclass
class Case:
    """An event being simulated: the model's fields, times as Unix seconds, and its log."""

    cat: Cat
    grid: Grid
    channel: str
    created: int
    title: str
    description: str
    address: str
    lon: float
    lat: float
    reporter: Actor
    reporter_name: str = ""
    reporter_phone: str = ""
    tracking_code: str | None = None
    stuck: bool = False
    merge_into: int | None = None  # index of the case it duplicates
    merge_at: int | None = None
    status: str = S.PENDING
    tier: int = Tier.GRID
    department_code: str = ""
    handler_department: str = ""
    handler_id: int | None = None
    filed: int | None = None
    dispatched: int | None = None
    reported: int | None = None
    closed: int | None = None
    due: int | None = None
    handle_due: int | None = None
    no_return: bool = False
    self_resolved: bool = False
    parked_from: str = ""
    parked_at: int | None = None
    supervised: bool = False
    close_kind: str = ""
    satisfaction: int | None = None
    overdue: bool = False
    marked: int | None = None
    on_time: bool | None = None
    return_count: int = 0
    rework_count: int = 0
    extend_count: int = 0
    park_count: int = 0
    handling_seconds: int | None = None
    version: int = 0
    updated: int = 0
    end: float = math.inf  # when it left the open statuses
    actions: list[tuple[Any, ...]] = field(default_factory=list)


def _aware(t: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, dt.UTC)


def _iso_local(t: int) -> str:
    return dt.datetime.fromtimestamp(t, timezone.get_current_timezone()).isoformat()


class History:
    """Simulates `count` events over the `days` before `now`, then writes them in bulk."""

    def __init__(self, *, count: int, seed: int, now: dt.datetime, days: int = DAYS) -> None:
        self.rng = random.Random(seed)
        self.people = PeopleFactory(seed + 7)
        self.count = count
        self.now = int(now.timestamp())
        self.tz = timezone.get_current_timezone()
        self.start = self.now - days * 86400
        local_now = timezone.localtime(now)
        self.clock = WorkClock(
            Calendar(),
            local_now.date() - dt.timedelta(days=days + 3),
            local_now.date() + dt.timedelta(days=400),
        )
        self.users = dict(
            User.objects.filter(username__startswith="demo-").values_list("username", "pk")
        )
        self.grids = load_grids()
        self.categories = load_categories()
        self.departments = sorted({c.department for c in self.categories.values() if c.department})
        self.cases: list[Case] = []
        self._tracking: set[str] = set()
        self._pools: dict[str, list[tuple[float, float]]] = {}
        self._channel_cats = self._category_tables()

    # --- generation ------------------------------------------------------------------------

    def _category_tables(self) -> dict[str, tuple[list[str], list[float]]]:
        tables: dict[str, tuple[list[str], list[float]]] = {}
        for channel, _w in CHANNELS:
            codes, cum, total = [], [], 0.0
            for code, weight in CATEGORY_WEIGHTS.items():
                cat = self.categories.get(code)
                if cat is None:
                    continue
                if channel in {Channel.RESIDENT, Channel.OPEN311} and not cat.public:
                    continue
                if channel == Channel.VIDEO and code not in VIDEO_CATEGORIES:
                    continue
                w = weight * CHANNEL_BIAS.get(channel, {}).get(code, 1.0)
                if w <= 0:
                    continue
                total += w
                codes.append(code)
                cum.append(total)
            tables[channel] = (codes, cum)
        return tables

    def _created(self, channel: str) -> int:
        """A moment in the period: grid patrols in office hours on workdays mostly; calls and
        residents' reports any day from morning to late evening."""
        rng = self.rng
        while True:
            t = rng.randrange(self.start, self.now)
            local = dt.datetime.fromtimestamp(t, self.tz)
            day = local.date()
            if channel in DIRECT:
                if day not in self.clock.workdays and rng.random() > 0.15:
                    continue
                hour = rng.choices(*OFFICE_HOURS)[0]
            else:
                hour = rng.choices(*CALL_HOURS)[0]
            moment = local.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
            t = int(moment.timestamp())
            if self.start <= t < self.now:
                return t

    def point(self, grid: Grid) -> tuple[float, float]:
        pool = self._pools.setdefault(grid.code, [])
        while not pool:
            minx, miny, maxx, maxy = grid.geom.bounds
            xs = [self.rng.uniform(minx, maxx) for _ in range(64)]
            ys = [self.rng.uniform(miny, maxy) for _ in range(64)]
            inside = shapely.contains_xy(grid.geom, xs, ys)
            kx = 111_320.0 * math.cos(math.radians(grid.inner[1]))
            for x, y, ok in zip(xs, ys, inside, strict=True):
                far = math.hypot((x - grid.inner[0]) * kx, (y - grid.inner[1]) * 111_320.0)
                if ok and far > CLEARING_M:
                    pool.append((round(x, 7), round(y, 7)))
        return pool.pop()

    def _near(self, grid: Grid, lon: float, lat: float) -> tuple[float, float]:
        """A point within ~20 m of another, still in the grid and out of the clearing."""
        for _ in range(10):
            x = round(lon + self.rng.uniform(-1.5e-4, 1.5e-4), 7)
            y = round(lat + self.rng.uniform(-1.5e-4, 1.5e-4), 7)
            kx = 111_320.0 * math.cos(math.radians(grid.inner[1]))
            far = math.hypot((x - grid.inner[0]) * kx, (y - grid.inner[1]) * 111_320.0)
            if far > CLEARING_M and shapely.contains_xy(grid.geom, x, y):
                return x, y
        return lon, lat

    def address(self, grid: Grid) -> str:
        rng = self.rng
        if rng.random() < 0.5:
            road = rng.choice(ROADS.get(grid.code[:9], ["江海路"]))
            return f"{grid.community}{road}{rng.randint(1, 180)}号附近"
        return f"{grid.community}{grid.code[-2:]}号小区{rng.randint(1, 12)}栋旁"

    def _tracking_code(self) -> str:
        while True:
            code = "".join(self.rng.choices(TRACKING_ALPHABET, k=10))
            if code not in self._tracking:
                self._tracking.add(code)
                return code

    def generate(self) -> None:
        rng = self.rng
        channels, channel_weights = zip(*CHANNELS, strict=True)
        grid_list = list(self.grids.values())
        grid_cum: list[float] = []
        total = 0.0
        for grid in grid_list:  # busier and quieter grids; demo-grid's a little busy
            total += rng.lognormvariate(0, 0.45) * (1.5 if grid.code == MINE else 1.0)
            grid_cum.append(total)
        plans = sorted(
            (self._created(ch), ch) for ch in rng.choices(channels, channel_weights, k=self.count)
        )
        recent: list[int] = []
        for created, channel in plans:
            target, merge_at = None, None
            if channel not in {Channel.ASSIGNED, Channel.VIDEO} and rng.random() < 0.02:
                merge_at = self.clock.add(created, rng.randint(5, 90))
                target = self._merge_target(recent, created, merge_at)
            if target is not None:
                base = self.cases[target]
                grid, cat = base.grid, base.cat
                if channel in {Channel.RESIDENT, Channel.OPEN311} and not cat.public:
                    channel = Channel.HOTLINE
                lon, lat = self._near(grid, base.lon, base.lat)
                title, address = base.title, base.address
            else:
                grid = rng.choices(grid_list, cum_weights=grid_cum)[0]
                codes, cum = self._channel_cats[channel]
                cat = self.categories[rng.choices(codes, cum_weights=cum)[0]]
                lon, lat = self.point(grid)
                title = rng.choice(TITLES.get(cat.code, [cat.name]))
                address = self.address(grid)
            reporter, tier = self._reporter(channel, grid)
            case = Case(
                cat=cat,
                grid=grid,
                channel=channel,
                created=created,
                title=title,
                description=f"{PREFIX[channel]}{address}{title}，请及时处理。",
                address=address,
                lon=lon,
                lat=lat,
                reporter=reporter,
                tier=tier,
                merge_into=target,
                merge_at=merge_at,
                stuck=created > self.now - 75 * 86400 and rng.random() < 0.015,
                updated=created,
            )
            if channel in TRACKED:
                case.tracking_code = self._tracking_code()
            if channel in {Channel.HOTLINE, Channel.RESIDENT}:
                case.reporter_phone = self.people.phone()
                if channel == Channel.HOTLINE or rng.random() < 0.6:
                    gender = self.people.gender()
                    case.reporter_name = self.people.name(gender)
            self.cases.append(case)
            recent.append(len(self.cases) - 1)
            self._life(case)
            case.updated = max([case.updated] + [a[0] for a in case.actions])

    def _merge_target(self, recent: list[int], created: int, merge_at: int) -> int | None:
        """The latest event of the last three days still open when this one is merged."""
        for index in reversed(recent[-200:]):
            other = self.cases[index]
            if other.created < created - 3 * 86400:
                break
            if other.merge_into is None and other.end > merge_at:
                return index
        return None

    def _reporter(self, channel: str, grid: Grid) -> tuple[Actor, int]:
        """Who reports, and the tier the event starts at: an assignment from above starts at
        the assigner's (as intake does)."""
        if channel == Channel.PATROL:
            if grid.code == MINE:
                return self._user("demo-grid"), Tier.GRID
            return (None, f"{grid.name}网格员"), Tier.GRID
        if channel == Channel.ASSIGNED:
            tier = self.rng.choices([Tier.DISTRICT, Tier.STREET, Tier.COMMUNITY], [55, 30, 15])[0]
            return self._centre_at(grid, tier), tier
        return (None, REPORTERS[channel]), Tier.GRID

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
                {"due_at": _aware(due).isoformat(), "tier": tier},
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
        details = {"department": department, "due_at": _iso_local(due)}
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
            reason = rng.choice(_for(EXTEND_REASONS, cat.code))
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
            details = {"amount": amount, "unit": unit, "due_at": _iso_local(due)}
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
        note = {"note": self.rng.choice(_for(HANDLED_NOTES, case.cat.code))}
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

    # --- writing ------------------------------------------------------------------------------

    def finish(self) -> None:
        """The scan at `now`: every open event whose deadline has passed is marked."""
        for case in self.cases:
            self._mark(case, self.now)
            if case.actions:
                case.updated = max(case.updated, max(a[0] for a in case.actions))

    def write(self) -> None:
        """Insert the events and their logs with executemany: the ORM's bulk_create spends
        most of a second per thousand rows preparing values (the ledger's people import takes
        the same fast path). Ids are given here, so the log rows need no read-back."""
        ops = connection.ops
        fields = {f.attname: f for f in Event._meta.concrete_fields}
        when, as_json = _adapters()

        def secret(name: str, value: str) -> Any:
            return fields[name].get_db_prep_save(value, connection) if value else ""

        top = Event.objects.dangerously_unscoped().aggregate(top=Max("id"))["top"] or 0
        ids = range(top + 1, top + 1 + len(self.cases))
        rows: list[dict[str, Any]] = []
        for pk, case in zip(ids, self.cases, strict=True):
            rows.append(
                {
                    "id": pk,
                    "category_id": case.cat.pk,
                    "title": case.title,
                    "description": case.description,
                    "channel": str(case.channel),
                    "status": str(case.status),
                    "tier": int(case.tier),
                    "grid_code": case.grid.code,
                    "department_code": case.department_code,
                    "lon": case.lon,
                    "lat": case.lat,
                    "address": case.address,
                    "reporter_id": case.reporter[0],
                    "reporter_name": secret("reporter_name", case.reporter_name),
                    "reporter_phone": secret("reporter_phone", case.reporter_phone),
                    "tracking_code": case.tracking_code,
                    "created_at": when(case.created),
                    "updated_at": when(case.updated),
                    "filed_at": when(case.filed),
                    "dispatched_at": when(case.dispatched),
                    "reported_at": when(case.reported),
                    "closed_at": when(case.closed),
                    "due_at": when(case.due),
                    "handle_due_at": when(case.handle_due),
                    "handler_id": case.handler_id,
                    "handler_department": case.handler_department,
                    "no_return": case.no_return,
                    "self_resolved": case.self_resolved,
                    "parked_from": str(case.parked_from),
                    "parked_at": when(case.parked_at),
                    "supervised": case.supervised,
                    "close_kind": str(case.close_kind),
                    "satisfaction": case.satisfaction,
                    "merged_into_id": None if case.merge_into is None else ids[case.merge_into],
                    "overdue": case.overdue,
                    "overdue_marked_for": when(case.marked),
                    "on_time": case.on_time,
                    "return_count": case.return_count,
                    "rework_count": case.rework_count,
                    "extend_count": case.extend_count,
                    "park_count": case.park_count,
                    "handling_seconds": case.handling_seconds,
                    "version": case.version,
                }
            )
        # Columns added to the model later get their defaults.
        for name in fields.keys() - rows[0].keys() if rows else ():
            default = fields[name].get_db_prep_save(fields[name].get_default(), connection)
            for row in rows:
                row[name] = default
        _insert(Event, rows)
        actions = []
        for pk, case in zip(ids, self.cases, strict=True):
            for at, actor_id, actor_name, action, before, after, reason, extra in case.actions:
                if action == "merge":
                    extra = {"into": ids[case.merge_into]} if case.merge_into is not None else {}
                actions.append(
                    {
                        "event_id": pk,
                        "at": when(at),
                        "actor_id": actor_id,
                        "actor_name": actor_name,
                        "action": action,
                        "from_status": str(before),
                        "to_status": str(after),
                        "reason": reason,
                        "details": as_json(extra),
                    }
                )
        _insert(EventAction, actions)
        with connection.cursor() as cursor:
            for sql in ops.sequence_reset_sql(no_style(), [Event]):
                cursor.execute(sql)

    def counts(self) -> dict[str, Any]:
        cases = self.cases
        closed = [c for c in cases if c.status == S.CLOSED]
        return {
            "events": len(cases),
            "actions": sum(len(c.actions) for c in cases),
            "by_status": dict(Counter(str(c.status) for c in cases).most_common()),
            "by_channel": dict(Counter(str(c.channel) for c in cases).most_common()),
            "closed_on_time": sum(1 for c in closed if c.close_kind == CloseKind.NORMAL),
            "closed_overdue": sum(1 for c in closed if c.close_kind == CloseKind.OVERDUE),
            "closed_special": sum(
                1 for c in closed if c.close_kind in {CloseKind.SPECIAL, CloseKind.ERRONEOUS}
            ),
            "self_resolved": sum(1 for c in cases if c.self_resolved),
            "open": sum(1 for c in cases if c.status in OPEN_STATUSES),
            "overdue": sum(1 for c in cases if c.overdue),
            "open_overdue": sum(1 for c in cases if c.overdue and c.status in OPEN_STATUSES),
            "returned": sum(1 for c in cases if c.return_count),
            "reworked": sum(1 for c in cases if c.rework_count),
            "extended": sum(1 for c in cases if c.extend_count),
            "parked": sum(1 for c in cases if c.park_count),
            "supervised": sum(1 for c in cases if c.supervised),
            "callbacks": sum(1 for c in cases if c.satisfaction is not None),
        }


def _adapters() -> tuple[Callable[[int | None], Any], Callable[[dict[str, Any]], Any]]:
    """Unix seconds → the database's datetime value, and a dict → its JSON value, as Django
    would write them; on SQLite without the per-value detour through the ORM (a third of the
    write time): UTC text `YYYY-MM-DD HH:MM:SS` and `json.dumps`."""
    ops = connection.ops
    if connection.vendor == "sqlite":

        def when(t: int | None) -> Any:
            return None if t is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))

        return when, json.dumps

    def when_aware(t: int | None) -> Any:
        return None if t is None else ops.adapt_datetimefield_value(_aware(t))

    return when_aware, lambda value: ops.adapt_json_value(value, None)


def _insert(model: Any, rows: list[dict[str, Any]], batch: int = 5000) -> None:
    if not rows:
        return
    columns = list(rows[0])
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608 - identifiers from model metadata
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    with connection.cursor() as cursor:
        for i in range(0, len(rows), batch):
            cursor.executemany(sql, [[row[c] for c in columns] for row in rows[i : i + batch]])


def load_grids() -> dict[str, Grid]:
    regions = (
        Region.objects.dangerously_unscoped()
        .filter(valid_to=None)
        .exclude(level=Level.GRID)
        .values_list("code", "name")
    )
    names = dict(regions)
    grids = {}
    boundaries = Boundary.objects.filter(valid_to=None, region__level=Level.GRID).values_list(
        "region__code", "region__name", "geojson"
    )
    for code, name, geojson in sorted(boundaries):
        geom = shapely.from_geojson(geojson)
        shapely.prepare(geom)
        inner = geom.representative_point()
        grids[code] = Grid(
            code=code,
            name=name,
            community=names.get(code[:12], ""),
            street=names.get(code[:9], ""),
            geom=geom,
            inner=(float(inner.x), float(inner.y)),
        )
    return grids


def load_categories() -> dict[str, Cat]:
    day = sum(p.minutes for p in office_periods())
    per = {"minute": 1, "hour": 60, "day": day}
    cats = {}
    for c in Category.objects.filter(parent__isnull=False, active=True).select_related(
        "department"
    ):
        cats[c.code] = Cat(
            pk=c.pk,
            code=c.code,
            name=c.name,
            department=c.department.code if c.department else "",
            self_resolve=c.self_resolve,
            public=c.public,
            accept_m=c.accept_limit * per[c.accept_unit],
            handle_m=c.handle_limit * per[c.handle_unit],
            verify_m=c.verify_limit * per[c.verify_unit],
            handle_amount=c.handle_limit,
            handle_unit=c.handle_unit,
        )
    return cats


# --- live cases, through the real services ------------------------------------------------------


def live_cases(history: History, now: dt.datetime) -> tuple[dict[str, int], dict[str, int]]:
    """Cases reported a few working days ago through the real intake and workflow, with the
    deadline scan run a minute after each deadline (as the worker would have), so each demo
    role has one overdue case waiting for it. Returns the events made and the scans' counts."""
    clock = history.clock
    users = {u.username: u for u in User.objects.filter(username__startswith="demo-")}
    made: dict[str, int] = {}
    scanned: Counter[str] = Counter()

    def who(username: str) -> Scope:
        return scope_for(users[username])

    today = timezone.localtime(now).date()
    workdays = sorted(d for d in clock.workdays if d < today)

    def day(k: int, hour: int, minute: int = 0) -> dt.datetime:
        """`hour:minute` on the k-th workday before today."""
        moment = dt.datetime.combine(workdays[-k], dt.time(hour, minute))
        return timezone.make_aware(moment, timezone.get_current_timezone())

    def catch_up(until: dt.datetime) -> None:
        """The scans the worker ran before `until`: one a minute after each passed deadline
        (the history's deadlines before now are marked already, so these see only ours)."""
        while True:
            due = (
                Event.objects.dangerously_unscoped()
                .filter(pk__in=made.values(), status__in=list(MARKABLE), due_at__lt=until)
                .filter(Q(overdue_marked_for__isnull=True) | Q(overdue_marked_for__lt=F("due_at")))
                .order_by("due_at")
                .values_list("due_at", flat=True)
                .first()
            )
            if due is None:
                return
            scanned.update(scan(now=min(due + dt.timedelta(minutes=1), until)))

    def report(
        name: str, actor: Any, grid: str, category: str, channel: str, at: dt.datetime, **kw: Any
    ) -> Event:
        catch_up(at)
        lon, lat = history.point(history.grids[grid])
        title = TITLES.get(category, [category])[0]
        r = Report(
            category=category,
            title=title,
            description=f"{PREFIX[channel]}{title}",
            lon=lon,
            lat=lat,
            channel=channel,
            address=history.address(history.grids[grid]),
            **kw,
        )
        event = event_report(actor, r, now=at).event
        made[name] = event.pk
        return event

    def act(actor: Any, event: Event, action: str, at: dt.datetime, **kw: Any) -> Event:
        catch_up(at)
        return transition(actor, event, action, now=at, **kw)

    district, street, dept = who("demo-district"), who("demo-street"), who("demo-dept")
    # In time order. demo-district: a road dig reported on 12345 ten workdays ago, accepted
    # late, dispatched late and never finished: three deadlines missed, escalated to the
    # district (and overdue in 城管's queue too).
    e4 = report(
        "district",
        district,
        "440704001002001",
        "0302",
        Channel.HOTLINE,
        day(10, 9),
        reporter_name="黄先生",
        reporter_phone="13902290001",
    )
    act(district, e4, "accept", day(9, 10))
    act(district, e4, "dispatch", day(8, 10), department="chengguan")
    # demo-street: a fire hazard in 南村 reported by the street and dispatched to 应急管理 a
    # day late; both deadlines missed: community, then street.
    e3 = report("street", street, "440704003002001", "0701", Channel.PATROL, day(6, 9))
    act(street, e3, "dispatch", day(5, 10, 30), department="yingji")
    # demo-dept: dust from a building site, assigned from above, dispatched to 城管 and being
    # handled, past its one-day limit.
    e5 = report("dept", district, "440704002003001", "0303", Channel.ASSIGNED, day(4, 9))
    act(district, e5, "dispatch", day(4, 9, 20), department="chengguan")
    act(dept, e5, "handle", day(4, 11))
    # demo-grid: exposed refuse it reported itself and has not cleared (小事不出网格).
    report("grid", who("demo-grid"), MINE, "0102", Channel.PATROL, day(3, 9, 40))
    # demo-community: a resident's report waiting for acceptance since two workdays ago.
    report(
        "community",
        scope_for(None),
        "440704003001002",
        "0403",
        Channel.RESIDENT,
        day(2, 10, 15),
        reporter_phone="13800138000",
    )
    # Not overdue: handled by 城管 just now, waiting for demo-grid to verify on site.
    now_t = int(now.timestamp())

    def ago(minutes: int) -> dt.datetime:
        return _aware(clock.back(now_t, minutes))

    e6 = report("verify", who("demo-grid"), MINE, "0104", Channel.PATROL, ago(120))
    act(who("demo-community"), e6, "dispatch", ago(100), department="chengguan")
    act(dept, e6, "handle", ago(80))
    act(dept, e6, "report", ago(10), note="已打捞清理")
    catch_up(now)
    return made, dict(scanned)


def build(
    actor: Scope,
    *,
    events: int = 6000,
    seed: int = SEED,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Six months of events before `now` in bulk, then the live cases; one audit entry."""
    started = time.perf_counter()
    now = now or timezone.now()
    history = History(count=events, seed=seed, now=now)
    history.generate()
    history.finish()
    with transaction.atomic():
        history.write()
    written = time.perf_counter()
    live, scanned = live_cases(history, now)
    for key, n in scan(now=now).items():  # what the worker does next: nothing left to mark
        scanned[key] = scanned.get(key, 0) + n
    summary = history.counts() | {
        "now": now.isoformat(),
        "live": live,
        "scan": scanned,
        "seconds": round(time.perf_counter() - started, 2),
        "seconds_history": round(written - started, 2),
    }
    audit_record(actor=actor, action="demo.events", details=summary)
    return summary
