"""Factories for the ledger: addresses, people and households, organisations, things."""

from __future__ import annotations

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from wangge.core.validators import CREDIT_CHARS, credit_check_char
from wangge.ledger.importers import person_id_index, phone_index, tag_index
from wangge.ledger.models import (
    Building,
    Estate,
    Household,
    Organisation,
    Person,
    Room,
    SensitiveTag,
    Thing,
)

GRID = "440704003001001"


def credit_code(n: int) -> str:
    """A check-valid unified social credit code (an enterprise registered in 440704)."""
    body = "91440704" + "".join(CREDIT_CHARS[(n // 31**i) % 31] for i in range(9))[::-1]
    return body + credit_check_char(body)


def _birth(id_number: str) -> dt.date:
    return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


class EstateFactory(DjangoModelFactory[Estate]):
    class Meta:
        model = Estate

    grid_code = GRID
    code = factory.Sequence(lambda n: f"{GRID[:12]}{n % 1000:03d}")
    name = factory.Sequence(lambda n: f"测试{n}号小区")


class BuildingFactory(DjangoModelFactory[Building]):
    class Meta:
        model = Building

    estate = factory.SubFactory(EstateFactory)
    grid_code = factory.LazyAttribute(lambda o: o.estate.grid_code)
    code = factory.Sequence(lambda n: f"{n % 1000:03d}")
    name = factory.Sequence(lambda n: f"{n % 1000 + 1}栋")
    address = factory.LazyAttribute(lambda o: f"{o.estate.name}{o.name}")
    lon = 113.1
    lat = 22.5

    @classmethod
    def _create(cls, model_class: type, *args: object, **kwargs: object) -> Building:
        # A building's code extends its estate's.
        estate = kwargs["estate"]
        kwargs["code"] = f"{estate.code}{kwargs['code']}"  # type: ignore[attr-defined]
        return super()._create(model_class, *args, **kwargs)


class RoomFactory(DjangoModelFactory[Room]):
    class Meta:
        model = Room

    building = factory.SubFactory(BuildingFactory)
    grid_code = factory.LazyAttribute(lambda o: o.building.grid_code)
    unit = 1
    number = factory.Sequence(lambda n: f"{n % 9 + 1}0{n % 2 + 1}")
    floor = factory.LazyAttribute(lambda o: int(o.number[0]))
    code = factory.LazyAttribute(lambda o: f"{o.building.code}{o.unit:02d}{int(o.number):04d}")
    area_m2 = 86.0
    use = "own"


class HouseholdFactory(DjangoModelFactory[Household]):
    class Meta:
        model = Household

    grid_code = GRID
    code = factory.Sequence(lambda n: f"H{GRID}{n:05d}")
    room = None


class PersonFactory(DjangoModelFactory[Person]):
    class Meta:
        model = Person

    grid_code = GRID
    name = factory.Faker("name", locale="zh_CN")
    gender = "male"
    ethnicity = "汉族"
    id_number = factory.Faker("ssn", locale="zh_CN")
    id_index = factory.LazyAttribute(
        lambda o: person_id_index(o.id_number) if o.id_number else None
    )
    birth_date = factory.LazyAttribute(lambda o: _birth(o.id_number) if o.id_number else None)
    phone = factory.Sequence(lambda n: f"136{n:08d}")
    phone_index = factory.LazyAttribute(lambda o: phone_index(o.phone))
    registered_address = "广东省江门市江海区"
    current_address = factory.LazyAttribute(lambda o: str(o.room) if o.room else "")
    room = None
    population_type = "1"
    household = None
    relation = ""
    care_tags = ""


class SensitiveTagFactory(DjangoModelFactory[SensitiveTag]):
    class Meta:
        model = SensitiveTag

    person = factory.SubFactory(PersonFactory)
    grid_code = factory.LazyAttribute(lambda o: o.person.grid_code)
    tag = "released"
    tag_index = factory.LazyAttribute(lambda o: tag_index(o.tag))


class OrganisationFactory(DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation

    grid_code = GRID
    name = factory.Faker("company", locale="zh_CN")
    credit_code = factory.Sequence(credit_code)
    kind = "enterprise"
    legal_representative = factory.Faker("name", locale="zh_CN")
    phone = factory.Sequence(lambda n: f"135{n:08d}")
    phone_index = factory.LazyAttribute(lambda o: phone_index(o.phone))
    address = "江门市江海区"
    employees = 12


class ThingFactory(DjangoModelFactory[Thing]):
    class Meta:
        model = Thing

    grid_code = GRID
    major = "01"
    minor = "01"
    code = factory.LazyAttributeSequence(lambda o, n: f"440704{o.major}{o.minor}{n:06d}")
    name = "上水井盖"
    responsible_unit = "江海区水务局"
    state = "good"
    lon = 113.1
    lat = 22.5
