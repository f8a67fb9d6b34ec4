"""What every ledger importer shares: batch sizes, blind-index contexts, the result."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from wangge.core.crypto import keyring
from wangge.core.personal import normalise, normalise_phone
from wangge.core.tabular import ImportResult, RejectedRows, RowError, error_workbook

BATCH = 20_000  # rows per transaction: fewer WAL checkpoints, bounded memory
MAX_KEPT_REJECTS = 100_000  # rows kept for the error file; the counts stay exact beyond it
# Blind-index contexts (an index is only comparable with indexes of the same context).
ID_CONTEXT = "ledger.person.id_number"
PHONE_CONTEXT = "ledger.phone"
TAG_CONTEXT = "ledger.sensitivetag.tag"
# Check-digit errors a supervised override may accept.
OVERRIDABLE = {"id_check", "id_birth_date", "credit_check"}


def field_context(model: Any, name: str) -> str:
    """The associated data the model's EncryptedField uses: the raw path must match it."""
    return str(model._meta.get_field(name).context)


def person_id_index(value: str) -> str:
    return keyring().blind_index(normalise(value), context=ID_CONTEXT)


def phone_index(value: str) -> str:
    return keyring().blind_index(normalise_phone(value), context=PHONE_CONTEXT) if value else ""


def tag_index(tag: str) -> str:
    return keyring().blind_index(tag, context=TAG_CONTEXT)


def chunks(items: list[Any], size: int = 900) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@dataclass
class LedgerImportResult(ImportResult):
    kind: str = ""
    warnings: list[RowError] = field(default_factory=list)
    rejected_rows: list[RejectedRows] = field(default_factory=list)
    overridden: int = 0

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data.update(
            kind=self.kind,
            overridden=self.overridden,
            warnings=[w.as_dict() for w in self.warnings[:10_000]],
        )
        return data

    def error_file(self) -> bytes:
        return error_workbook(self.rejected_rows)
