"""Bulk import of the ledger: people, organisations, addresses and things.

Rows are read by the core tabular framework (within its size, unpacked-size and row limits) and
parsed and checked with the ledger's columns, placed in a grid (`placement`: grid-code column,
standard address code, or lon/lat through the vectorised locate), de-duplicated inside the file
and against stored records (blind index for people, credit code for organisations, codes for
addresses and things), and written in batches (`base.Importer`): each batch is one
transaction, so an interrupted import leaves no half-written batch, and re-running it skips
what is stored. People take a fast path (`people`, with its parsing processes in `workers`)
because registers run to millions of rows; the others use the ORM's bulk operations.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from wangge.core.errors import ValidationFailed
from wangge.core.tabular import Table, write_xlsx
from wangge.ledger import columns as cols
from wangge.ledger.importers.addresses import AddressImporter
from wangge.ledger.importers.base import Importer
from wangge.ledger.importers.common import (
    BATCH,
    LedgerImportResult,
    person_id_index,
    phone_index,
    tag_index,
)
from wangge.ledger.importers.organisations import OrganisationImporter
from wangge.ledger.importers.people import PeopleImporter
from wangge.ledger.importers.things import ThingImporter

__all__ = [
    "BATCH",
    "IMPORTERS",
    "IMPORT_LABELS",
    "Importer",
    "LedgerImportResult",
    "import_label",
    "ledger_import",
    "person_id_index",
    "phone_index",
    "tag_index",
    "template",
    "template_filename",
]

IMPORTERS: dict[str, type[Importer]] = {
    "people": PeopleImporter,
    "organisations": OrganisationImporter,
    "addresses": AddressImporter,
    "things": ThingImporter,
}


# What each import is called on the page, in the template's file and sheet names.
IMPORT_LABELS: dict[str, Any] = {
    "people": pgettext_lazy("ledger import", "People"),
    "organisations": pgettext_lazy("ledger import", "Organisations"),
    "addresses": pgettext_lazy("ledger import", "Standard addresses"),
    "things": pgettext_lazy("ledger import", "City components"),
}


def import_label(kind: str) -> str:
    return str(IMPORT_LABELS.get(kind, kind))


def template_filename(kind: str) -> str:
    return _("%(kind)s import template.xlsx") % {"kind": import_label(kind)}


def ledger_import(*, actor: Any, kind: str, table: Table, **options: Any) -> LedgerImportResult:
    if kind not in IMPORTERS:
        raise ValidationFailed(f"unknown kind {kind}", code="bad_kind")
    return IMPORTERS[kind](actor=actor, **options).run(table)


def template(kind: str) -> bytes:
    columns = cols.KINDS[kind]
    notes = [[c.header, "是" if c.required else "否", "、".join(c.aliases)] for c in columns]
    return write_xlsx(
        [
            (import_label(kind), [c.header for c in columns], []),
            ("说明", ["列", "必填", "可用的其他列名"], notes),
        ]
    )
