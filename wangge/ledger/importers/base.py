"""The import loop every kind shares: parse in batches, accept or reject, place, de-duplicate
and write each batch in its own transaction, then one audit entry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.errors import PermissionDenied, ValidationFailed
from wangge.core.roles import Perm
from wangge.core.scope import as_scope
from wangge.core.tabular import (
    ParsedRow,
    RejectedRows,
    RowError,
    RowPlan,
    Table,
    match_headers,
    parse_row,
)
from wangge.ledger.importers.common import (
    BATCH,
    MAX_KEPT_REJECTS,
    OVERRIDABLE,
    LedgerImportResult,
)
from wangge.ledger.importers.placement import place_rows
from wangge.regions.models import Level, Region


class Importer:
    kind = ""
    columns: list[Any] = []
    needs_grid = True

    def __init__(
        self,
        *,
        actor: Any,
        dry_run: bool = False,
        on_duplicate: str = "skip",
        override_reason: str = "",
        progress: Callable[[int], None] | None = None,
        batch_size: int = BATCH,
    ):
        self.scope = as_scope(actor)
        if not self.scope.has(Perm.LEDGER_EDIT):
            raise PermissionDenied(_("Your role may not import into the ledger."))
        if on_duplicate not in {"skip", "update"}:
            raise ValidationFailed("on_duplicate must be skip or update", code="bad_option")
        if override_reason and not self.scope.has(Perm.LEDGER_OVERRIDE):
            raise PermissionDenied(_("Your role may not accept codes that fail their check."))
        self.dry_run = dry_run
        self.on_duplicate = on_duplicate
        self.override_reason = override_reason.strip()
        self.progress = progress
        self.batch_size = batch_size
        self.result = LedgerImportResult(kind=self.kind, dry_run=dry_run)
        self.grids = set(
            Region.objects.visible_to(self.scope, Perm.LEDGER_EDIT)
            .filter(level=Level.GRID, valid_to=None)
            .values_list("code", flat=True)
        )
        self.now = timezone.now()
        self.overridden_rows: list[int] = []

    # -- the loop -------------------------------------------------------------------------------

    def run(self, table: Table) -> LedgerImportResult:
        """Import the table (which its reader has held to the row limit)."""
        self.headers = table.headers
        self.mapping = match_headers(table.headers, self.columns)
        self.result.stored = not self.dry_run
        for batch in self.prepared_batches(table):
            self.result.total += len(batch)
            ok = [r for r in batch if self._accept(r)]
            if self.needs_grid:
                ok = self._place(ok)
            with transaction.atomic():
                ok = self.dedupe(ok)
                if ok:
                    self.write(ok)
                if self.dry_run:
                    transaction.set_rollback(True)
            if self.progress:
                self.progress(self.result.total)
        if not self.dry_run:
            details = {
                k: v for k, v in self.result.as_dict().items() if k not in {"errors", "warnings"}
            }
            if self.overridden_rows:
                details["override_reason"] = self.override_reason
                details["override_rows"] = self.overridden_rows[:1000]
            audit_record(
                actor=self.scope,
                action=f"ledger.import.{self.kind}",
                object_type="ledger",
                object_id=self.kind,
                details=details,
            )
        self.result.overridden = len(self.overridden_rows)
        # Cell errors are found before placement errors: report both in the file's row order.
        self.result.errors.sort(key=lambda e: e.row)
        for rejected in self.result.rejected_rows:
            rejected.rows.sort(key=lambda r: r.number)
        return self.result

    def prepared_batches(self, table: Table) -> Iterator[list[ParsedRow]]:
        """Batches of parsed rows. Subclasses may parse in worker processes."""
        plan = RowPlan.make(self.columns, self.mapping)
        rows = (
            ParsedRow(number, cells, *parse_row(number, cells, self.columns, self.mapping, plan))
            for number, cells in table.rows
        )
        while True:
            batch = list(islice(rows, self.batch_size))
            if not batch:
                return
            yield batch

    def _accept(self, row: ParsedRow) -> bool:
        """Rows with errors are rejected, except check-digit errors under a supervised override."""
        if row.values.pop("overridden", False):
            self.overridden_rows.append(row.number)
            return True
        if row.errors and self.override_reason and all(e.code in OVERRIDABLE for e in row.errors):
            self.override(row)
            self.overridden_rows.append(row.number)
            row.errors = []
            return True
        if row.errors:
            self.reject(row, row.errors)
            return False
        return True

    def override(self, row: ParsedRow) -> None:
        """Keep the value as written, flagged as failing its check."""

    def reject(self, row: ParsedRow, errors: list[RowError]) -> None:
        self.result.rejected += 1
        self.result.errors.extend(errors)
        row.errors = errors
        if sum(len(r.rows) for r in self.result.rejected_rows) < MAX_KEPT_REJECTS:
            if not self.result.rejected_rows:
                self.result.rejected_rows.append(RejectedRows(self.kind, self.headers))
            self.result.rejected_rows[0].rows.append(row)

    def elsewhere(self, row: ParsedRow, stored_grid: str, column: str) -> bool:
        """A duplicate of a record in a grid outside the actor's scope is left untouched —
        never updated, never moved — and reported without saying where it is."""
        if stored_grid in self.grids:
            return False
        self.result.skipped += 1
        self.warn(
            row,
            column,
            "duplicate_elsewhere",
            _("Already registered outside your scope; not changed. Ask the district centre."),
        )
        return True

    def warn(self, row: ParsedRow, column: str, code: str, message: str) -> None:
        self.result.warnings.append(RowError(row.number, column, code, message))

    def _place(self, rows: list[ParsedRow]) -> list[ParsedRow]:
        return place_rows(rows, grids=self.grids, reject=self.reject)

    # -- per kind ---------------------------------------------------------------------------------

    def dedupe(self, rows: list[ParsedRow]) -> list[ParsedRow]:
        raise NotImplementedError

    def write(self, rows: list[ParsedRow]) -> None:
        raise NotImplementedError
