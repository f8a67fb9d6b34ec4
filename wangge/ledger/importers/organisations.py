"""Organisations: de-duplicated by credit code (GB 32100) in the file and the ledger."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from wangge.core.crypto import keyring
from wangge.core.personal import normalise
from wangge.core.tabular import ParsedRow
from wangge.ledger import columns as cols
from wangge.ledger.importers.base import Importer
from wangge.ledger.importers.common import PHONE_CONTEXT
from wangge.ledger.models import Organisation


class OrganisationImporter(Importer):
    kind = "organisations"
    columns = cols.ORGANISATIONS

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.seen: dict[str, int] = {}

    def override(self, row: ParsedRow) -> None:
        position = self.mapping["credit_code"]
        row.values["credit_code"] = normalise(str(row.cells[position]))
        row.values["credit_checked"] = False

    def dedupe(self, rows: list[ParsedRow]) -> list[ParsedRow]:
        unique = []
        for r in rows:
            code = r.values.get("credit_code")
            if code:
                if code in self.seen:
                    self.result.skipped += 1
                    self.warn(
                        r,
                        "统一社会信用代码",
                        "duplicate_in_file",
                        _("The same credit code is on row %(row)d; this row was skipped.")
                        % {"row": self.seen[code]},
                    )
                    continue
                self.seen[code] = r.number
            unique.append(r)
        codes = [r.values["credit_code"] for r in unique if r.values.get("credit_code")]
        stored = {
            code: (pk, grid)
            for code, pk, grid in Organisation.objects.dangerously_unscoped()
            .filter(credit_code__in=codes)
            .values_list("credit_code", "pk", "grid_code")
        }
        out = []
        for r in unique:
            found = stored.get(r.values.get("credit_code") or "")
            pk = found[0] if found else None
            if found is not None:
                if self.elsewhere(r, found[1], "统一社会信用代码"):
                    continue
                if self.on_duplicate == "skip":
                    self.result.skipped += 1
                    self.warn(
                        r,
                        "统一社会信用代码",
                        "duplicate",
                        _("This organisation is already in the ledger; skipped."),
                    )
                    continue
                r.values["pk"] = pk
            out.append(r)
        return out

    def write(self, rows: list[ParsedRow]) -> None:
        ring = keyring()
        new: list[Organisation] = []
        changed: list[Organisation] = []
        for r in rows:
            v = r.values
            phone = v.get("phone") or ""
            org = Organisation(
                pk=v.get("pk"),
                grid_code=v["grid"],
                name=v["name"],
                credit_code=v.get("credit_code") or "",
                credit_checked=v.get("credit_checked", True),
                kind=v["kind"],
                legal_representative=v.get("legal_representative") or "",
                phone=phone,
                phone_index=ring.blind_index(phone, context=PHONE_CONTEXT) if phone else "",
                address=v.get("address") or "",
                room_id=v.get("room_id"),
                lon=v.get("lon"),
                lat=v.get("lat"),
                employees=v.get("employees"),
                key_tags=v.get("key_tags") or "",
                created_at=self.now,
            )
            (changed if v.get("pk") else new).append(org)
        Organisation.objects.bulk_create(new, batch_size=1000)
        fields = [
            "grid_code",
            "name",
            "credit_checked",
            "kind",
            "legal_representative",
            "phone",
            "phone_index",
            "address",
            "room_id",
            "lon",
            "lat",
            "employees",
            "key_tags",
        ]
        if changed:
            Organisation.objects.dangerously_unscoped().bulk_update(changed, fields, batch_size=500)
        self.result.inserted += len(new)
        self.result.updated += len(changed)
