"""Components and facilities (部件): 16/17-digit codes, placed by their location."""

from __future__ import annotations

from django.utils.translation import gettext as _

from wangge.core.tabular import ParsedRow
from wangge.ledger import columns as cols
from wangge.ledger.importers.base import Importer
from wangge.ledger.models import Thing


class ThingImporter(Importer):
    kind = "things"
    columns = cols.THINGS

    def dedupe(self, rows: list[ParsedRow]) -> list[ParsedRow]:
        seen: set[str] = getattr(self, "_seen", set())
        self._seen = seen
        codes = [r.values["code"] for r in rows]
        stored = {
            code: (pk, grid)
            for code, pk, grid in Thing.objects.dangerously_unscoped()
            .filter(code__in=codes)
            .values_list("code", "pk", "grid_code")
        }
        out = []
        for r in rows:
            code = r.values["code"]
            if code in seen:
                self.result.skipped += 1
                self.warn(
                    r,
                    "部件编码",
                    "duplicate_in_file",
                    _("This code appears earlier in the file; skipped."),
                )
                continue
            seen.add(code)
            if code in stored:
                if self.elsewhere(r, stored[code][1], "部件编码"):
                    continue
                if self.on_duplicate == "skip":
                    self.result.skipped += 1
                    self.warn(
                        r,
                        "部件编码",
                        "duplicate",
                        _("This component is already in the ledger; skipped."),
                    )
                    continue
                r.values["pk"] = stored[code][0]
            out.append(r)
        return out

    def write(self, rows: list[ParsedRow]) -> None:
        new: list[Thing] = []
        changed: list[Thing] = []
        for r in rows:
            v = r.values
            code = v["code"]
            thing = Thing(
                pk=v.get("pk"),
                code=code,
                name=v["name"],
                major=code[6:8],
                minor=code[8:10] if len(code) == 16 else code[8:11],
                responsible_unit=v.get("responsible_unit") or "",
                state=v.get("state") or "good",
                lon=v["lon"],
                lat=v["lat"],
                grid_code=v["grid"],
                note=v.get("note") or "",
            )
            (changed if v.get("pk") else new).append(thing)
        Thing.objects.bulk_create(new, batch_size=1000)
        if changed:
            Thing.objects.dangerously_unscoped().bulk_update(
                changed,
                ["name", "responsible_unit", "state", "lon", "lat", "grid_code", "note"],
                batch_size=500,
            )
        self.result.inserted += len(new)
        self.result.updated += len(changed)
