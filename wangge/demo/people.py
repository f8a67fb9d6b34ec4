"""Synthetic people for the demo: names, valid ID numbers and mobile numbers, deterministic."""

from __future__ import annotations

import datetime as dt
import random

from wangge.core.validators import id_check_char

SURNAMES = (
    "陈李黄张梁刘林吴何郑谭罗冯陆余谢莫钟伍容关邓周杨赵胡许朱苏卢叶蔡彭曾潘袁蒋韦甘区麦司徒欧阳"
)
SINGLE_SURNAMES = [c for c in SURNAMES if c not in "司徒欧阳"] + ["司徒", "欧阳"]
GIVEN_MALE = "伟强军建华志明国荣俊杰文斌永健家辉锦鸿海涛浩宇振东世基达峰"
GIVEN_FEMALE = "芳丽敏静燕玲娟霞婷秀兰美惠雪红慧萍嘉欣颖洁凤月琴晓桂"


class PeopleFactory:
    """Makes people with unique, checksum-valid ID numbers and unique phones."""

    def __init__(self, seed: int, region: str = "440704"):
        self.rng = random.Random(seed)
        self.region = region
        self._ids: set[str] = set()
        self._phones: set[str] = set()

    def name(self, gender: str) -> str:
        surname = self.rng.choice(SINGLE_SURNAMES)
        pool = GIVEN_MALE if gender == "male" else GIVEN_FEMALE
        given = "".join(self.rng.choice(pool) for _ in range(self.rng.choice((1, 2, 2, 2))))
        return surname + given

    def id_number(self, gender: str, min_age: int, max_age: int, today: dt.date) -> str:
        while True:
            age_days = self.rng.randint(min_age * 365, max_age * 365)
            birth = today - dt.timedelta(days=age_days)
            seq = self.rng.randint(0, 99) * 10 + self.rng.choice(
                (1, 3, 5, 7, 9) if gender == "male" else (0, 2, 4, 6, 8)
            )
            first17 = f"{self.region}{birth:%Y%m%d}{seq:03d}"
            value = first17 + id_check_char(first17)
            if value not in self._ids:
                self._ids.add(value)
                return value

    def phone(self) -> str:
        while True:
            prefix = self.rng.choice(
                (
                    "134",
                    "135",
                    "136",
                    "137",
                    "138",
                    "139",
                    "150",
                    "151",
                    "158",
                    "159",
                    "186",
                    "188",
                    "189",
                    "133",
                    "153",
                    "180",
                    "177",
                    "199",
                )
            )
            value = prefix + f"{self.rng.randint(0, 99_999_999):08d}"
            if value not in self._phones:
                self._phones.add(value)
                return value

    def gender(self, male_share: float = 0.5) -> str:
        return "male" if self.rng.random() < male_share else "female"
