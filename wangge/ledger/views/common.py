"""What the ledger's pages share: the record form built from the field list, reading it back
from a POST, and showing a service's errors beside the fields they concern."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from wangge.core.errors import WanggeError
from wangge.ledger.fields import Field, fields

# Encrypted personal fields: an edit form never shows them (the page masks them, and an editor
# may not be allowed to reveal); left blank, they stay as they are.
SECRET = {"id_number", "phone"}


@dataclass
class FormField:
    field: Field
    value: Any = None
    errors: list[str] = dataclass_field(default_factory=list)
    placeholder: str = ""

    @property
    def name(self) -> str:
        return self.field.key

    @property
    def selected(self) -> set[str]:
        if isinstance(self.value, list | tuple | set):
            return {str(v) for v in self.value}
        return {str(self.value)} if self.value not in (None, "") else set()


def form_fields(
    kind: str,
    *,
    record: Any = None,
    posted: dict[str, Any] | None = None,
    creating: bool,
    sensitive: bool,
    errors: dict[str, list[str]] | None = None,
) -> list[FormField]:
    """The form of a kind of record: its fields with the stored or posted values. Fields set
    only at creation are left out of edit forms; special groups only for those who may see them."""
    out = []
    for f in fields(kind):
        if f.create_only and not creating:
            continue
        if f.sensitive and not sensitive:
            continue
        placeholder = ""
        if posted is not None:
            value = posted.get(f.key)
        elif record is not None:
            value = stored_value(record, f)
        else:
            value = [] if f.widget == "tags" else ""
        if f.key in SECRET and record is not None:
            stored = getattr(record, f.attr, "") or ""
            placeholder = (
                _("%(masked)s — leave blank to keep") % {"masked": _mask(f.key, stored)}
                if stored
                else ""
            )
            if posted is None or value == stored:
                value = ""
        out.append(FormField(f, value, (errors or {}).get(f.key, []), placeholder))
    return out


def _mask(key: str, value: str) -> str:
    from wangge.core.personal import mask_id_number, mask_phone

    return mask_id_number(value) if key == "id_number" else mask_phone(value)


def stored_value(record: Any, f: Field) -> Any:
    value = getattr(record, f.attr, None)
    if f.key == "care_tags":
        return record.care_tag_list()
    if f.widget == "date" and value:
        return value.isoformat()
    if value is None:
        return ""
    return value


def posted_values(
    request: HttpRequest, kind: str, *, creating: bool, sensitive: bool
) -> dict[str, Any]:
    """What the form posted, by field key, as the services take it (only the fields shown)."""
    out: dict[str, Any] = {}
    for f in fields(kind):
        if (f.create_only and not creating) or (f.sensitive and not sensitive):
            continue
        if f.widget == "tags":
            out[f.key] = request.POST.getlist(f.key)
        elif f.widget == "checkbox":
            out[f.key] = request.POST.get(f.key) == "on"
        elif f.key in request.POST:
            out[f.key] = request.POST.get(f.key, "").strip()
    if creating:
        # An empty optional field is simply not set when adding.
        out = {k: v for k, v in out.items() if v not in ("", [], None)}
    else:
        # A blank secret field keeps the stored value (the form never showed it).
        out = {k: v for k, v in out.items() if not (k in SECRET and v == "")}
    return out


def field_errors(exc: WanggeError) -> dict[str, list[str]]:
    """A ValidationFailed's per-field problems (details.fields), by field key."""
    found: dict[str, list[str]] = {}
    details = exc.details if isinstance(exc.details, dict) else {}
    for item in details.get("fields", []) or []:
        found.setdefault(str(item.get("field", "")), []).append(
            str(item.get("message") or exc.message)
        )
    if not found and details.get("field"):
        found[str(details["field"])] = [exc.message]
    return found


def version_posted(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None
