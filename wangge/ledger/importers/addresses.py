"""Standard addresses: estates, buildings and rooms, one row per room (or per building)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from wangge.core.tabular import ParsedRow, RowError
from wangge.ledger import columns as cols
from wangge.ledger.importers.base import Importer
from wangge.ledger.models import Building, Estate, Room


class AddressImporter(Importer):
    """One row per room (or per building when the room columns are empty). The building's
    location places it — and its rooms — in a grid."""

    kind = "addresses"
    columns = cols.ADDRESSES

    def dedupe(self, rows: list[ParsedRow]) -> list[ParsedRow]:
        out = []
        for r in rows:
            v = r.values
            if not v["building_code"].startswith(v["estate_code"]):
                self.reject(
                    r,
                    [
                        RowError(
                            r.number,
                            "楼栋编码",
                            "code_parent_mismatch",
                            _("The building code must start with its estate code."),
                        )
                    ],
                )
                continue
            if v.get("room_code") and not v["room_code"].startswith(v["building_code"]):
                self.reject(
                    r,
                    [
                        RowError(
                            r.number,
                            "房屋编码",
                            "code_parent_mismatch",
                            _("The room code must start with its building code."),
                        )
                    ],
                )
                continue
            out.append(r)
        return out

    def _place(self, rows: list[ParsedRow]) -> list[ParsedRow]:
        # Addresses are placed by their building's location only.
        for r in rows:
            r.values.pop("grid_code", None)
            r.values.pop("room_code_for_place", None)
        saved = [(r, r.values.pop("room_code", None)) for r in rows]
        placed = super()._place(rows)
        for r, code in saved:
            r.values["room_code"] = code
        return placed

    def write(self, rows: list[ParsedRow]) -> None:
        estates = {
            e.code: e
            for e in Estate.objects.dangerously_unscoped().filter(
                code__in={r.values["estate_code"] for r in rows}
            )
        }
        buildings = {
            b.code: b
            for b in Building.objects.dangerously_unscoped().filter(
                code__in={r.values["building_code"] for r in rows}
            )
        }
        rooms = set(
            Room.objects.dangerously_unscoped()
            .filter(code__in={r.values["room_code"] for r in rows if r.values.get("room_code")})
            .values_list("code", flat=True)
        )
        for r in rows:
            v = r.values
            # Finding 8: an estate or building of another street is never added to (its code is
            # guessable); refused without saying it exists.
            foreign = [
                (column, record)
                for column, record in (
                    ("小区编码", estates.get(v["estate_code"])),
                    ("楼栋编码", buildings.get(v["building_code"])),
                )
                if record is not None and record.grid_code not in self.grids
            ]
            if foreign:
                self.reject(
                    r,
                    [
                        RowError(
                            r.number,
                            column,
                            "code_taken",
                            _("This code cannot be used; choose another."),
                        )
                        for column, _record in foreign
                    ],
                )
                continue
            estate = estates.get(v["estate_code"])
            if estate is None:
                estate = Estate.objects.create(
                    code=v["estate_code"], name=v["estate_name"], grid_code=v["grid"]
                )
                estates[estate.code] = estate
            building = buildings.get(v["building_code"])
            created = False
            if building is None:
                building = Building.objects.create(
                    code=v["building_code"],
                    estate=estate,
                    name=v["building_name"],
                    address=v["address"],
                    lon=v["lon"],
                    lat=v["lat"],
                    grid_code=v["grid"],
                    floors=v.get("floors") or 1,
                    units=v.get("units") or 1,
                )
                buildings[building.code] = building
                created = True
            if v.get("room_code"):
                if v["room_code"] in rooms:
                    self.result.skipped += 1
                    self.warn(
                        r,
                        "房屋编码",
                        "duplicate",
                        _("This room is already in the ledger; skipped."),
                    )
                    continue
                Room.objects.create(
                    code=v["room_code"],
                    building=building,
                    unit=v.get("unit") or 1,
                    number=v.get("number") or v["room_code"][-4:],
                    floor=v.get("floor") or 1,
                    area_m2=v.get("area_m2"),
                    use=v.get("use") or "own",
                    grid_code=building.grid_code,
                )
                rooms.add(v["room_code"])
                self.result.inserted += 1
            elif created:
                self.result.inserted += 1
            else:
                self.result.skipped += 1
                self.warn(
                    r,
                    "楼栋编码",
                    "duplicate",
                    _("This building is already in the ledger; skipped."),
                )
