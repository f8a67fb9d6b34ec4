"""The audit log in words: what each action code, outcome, object and detail means to a reader.

The codes stay in the log (they are what the hash chain covers and what the API returns); the
page says 查看身份证号, 派遣事件, 成功 / 拒绝. Modules above core tell it how to name and link their
objects (`register_objects`, from each module's AppConfig.ready), so core imports none of them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.translation import get_language, gettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _

# Actions named as they are (the ones no rule below composes).
ACTIONS: dict[str, Any] = {
    "assignment.start": gettext_lazy("Add to a grid team"),
    "assignment.update": gettext_lazy("Change a team member"),
    "assignment.end": gettext_lazy("End a team membership"),
    "campaign.create": gettext_lazy("Create a campaign"),
    "campaign.close": gettext_lazy("Close a campaign"),
    "campaign.edits": gettext_lazy("Send field edits"),
    "campaign.conflict.resolve": gettext_lazy("Resolve an edit conflict"),
    "campaign.progress_export": gettext_lazy("Export campaign progress"),
    "campaign.visit_sheet": gettext_lazy("Print a visit sheet"),
    "campaigns.scan": gettext_lazy("Campaign deadline scan"),
    "dashboard.briefing_export": gettext_lazy("Export the weekly briefing"),
    "dashboard.panel_export": gettext_lazy("Export a dashboard panel"),
    "linkage.source_create": gettext_lazy("Add a department list"),
    "linkage.source_update": gettext_lazy("Change a department list's settings"),
    "linkage.import": gettext_lazy("Upload a department list's file"),
    "linkage.run": gettext_lazy("Link a department list to the ledger"),
    "linkage.export": gettext_lazy("Export a department list's links"),
    "linkage.pair_accept": gettext_lazy("Confirm a match"),
    "linkage.pair_reject": gettext_lazy("Reject a match"),
    "linkage.pair_unsure": gettext_lazy("Mark a match as not sure"),
    "linkage.duplicates": gettext_lazy("Look for duplicates in the ledger"),
    "linkage.enumeration": gettext_lazy("Refuse a list that tries ID numbers"),
    "linkage.regrid": gettext_lazy("Move department lists' links to new grids"),
    "person.care_tag": gettext_lazy("Give a care group to the people on a list"),
    "demo.events": gettext_lazy("Build the demo events"),
    "demo.teams": gettext_lazy("Build the demo teams"),
    "event.calendar_set": gettext_lazy("Set the working calendar"),
    "event.category_update": gettext_lazy("Change an event category"),
    "event.indicators_export": gettext_lazy("Export the indicators"),
    "event.export": gettext_lazy("Export an event list"),
    "audit.export": gettext_lazy("Export the audit log"),
    "saved_filter.save": gettext_lazy("Save a list filter"),
    "saved_filter.delete": gettext_lazy("Delete a saved list filter"),
    "events.scan": gettext_lazy("Event deadline scan"),
    "grant.create": gettext_lazy("Grant a role"),
    "job.create": gettext_lazy("Queue a background job"),
    "keys.retire": gettext_lazy("Retire an encryption key"),
    "keys.rotate": gettext_lazy("Rotate the encryption keys"),
    "layer.create": gettext_lazy("Create a department layer"),
    "ledger.export.people": gettext_lazy("Export people (masked)"),
    "ledger.export.organisations": gettext_lazy("Export organisations (masked)"),
    "teams.export.staff": gettext_lazy("Export the staff directory (masked)"),
    "ledger.export_full": gettext_lazy("Export the full people ledger (server)"),
    "ledger.merge": gettext_lazy("Merge duplicate records"),
    "ledger.unmerge": gettext_lazy("Undo a merge of records"),
    "ledger.refer": gettext_lazy("Refer a record to another grid"),
    "ledger.referral_resolve": gettext_lazy("Resolve a referral"),
    "party_member.create": gettext_lazy("Add a party member"),
    "party_member.update": gettext_lazy("Change a party member"),
    "party_org.save": gettext_lazy("Save a party organisation"),
    "person.view": gettext_lazy("View a person"),
    "personal.reveal": gettext_lazy("View personal data"),
    "backup.create": gettext_lazy("Back up the installation"),
    "backup.restore": gettext_lazy("Restore from a backup"),
    "campaigns.regrid": gettext_lazy("Move campaign tasks to new grids"),
    "events.regrid": gettext_lazy("Move open events to new grids"),
    "ledger.regrid": gettext_lazy("Move ledger records to new grids"),
    "region.close": gettext_lazy("Close a region"),
    "regions.restructure": gettext_lazy("Restructure grids"),
    "teams.regrid": gettext_lazy("Move grid teams to new grids"),
    "region.create": gettext_lazy("Create a region"),
    "region.update": gettext_lazy("Change a region"),
    "regions.import": gettext_lazy("Import grids"),
    "search.exact": gettext_lazy("Search by ID number or phone"),
    "staff.assign": gettext_lazy("Assign a grid worker"),
    "staff.create": gettext_lazy("Add a grid worker"),
    "staff.update": gettext_lazy("Change a grid worker"),
    "team.create": gettext_lazy("Create a grid team"),
    "teams.export": gettext_lazy("Export the roster"),
    "teams.import": gettext_lazy("Import the roster"),
    "teams.phone": gettext_lazy("View a grid worker's phone"),
    "teams.staffmember.id_number": gettext_lazy("View a grid worker's ID number"),
    "token.create": gettext_lazy("Create an API token"),
    "token.revoke": gettext_lazy("Revoke an API token"),
    "user.create": gettext_lazy("Create a user"),
}

# event.<action>: the workflow's actions and the system's.
EVENT_ACTIONS: dict[str, Any] = {
    "create": gettext_lazy("Report an event"),
    "accept": gettext_lazy("Accept an event"),
    "reject": gettext_lazy("Refuse an event"),
    "self_resolve": gettext_lazy("Resolve an event in the grid"),
    "dispatch": gettext_lazy("Dispatch an event"),
    "return": gettext_lazy("Return an event"),
    "assign": gettext_lazy("Assign an event"),
    "handle": gettext_lazy("Start handling an event"),
    "report": gettext_lazy("Report back on an event"),
    "request_extension": gettext_lazy("Ask for more time"),
    "extend": gettext_lazy("Extend a deadline"),
    "park": gettext_lazy("Park an event"),
    "unpark": gettext_lazy("Resume an event"),
    "verify": gettext_lazy("Verify an event"),
    "close": gettext_lazy("Close an event"),
    "close_special": gettext_lazy("Close an event as special"),
    "supervise": gettext_lazy("Supervise an event"),
    "callback": gettext_lazy("Satisfaction call-back"),
    "merge": gettext_lazy("Merge a duplicate event"),
    "overdue": gettext_lazy("Event went overdue"),
    "escalate": gettext_lazy("Event escalated"),
    "photos_add": gettext_lazy("Add photos to an event"),
}

# campaign.task.<action>
TASK_ACTIONS: dict[str, Any] = {
    "start": gettext_lazy("Start a task"),
    "submit": gettext_lazy("Submit a task"),
    "approve": gettext_lazy("Approve a task"),
    "spot_check": gettext_lazy("Send a task to spot check"),
    "return": gettext_lazy("Return a task"),
    "assign": gettext_lazy("Assign a task"),
    "unassign": gettext_lazy("Unassign a task"),
    "split": gettext_lazy("Split a task"),
    "take": gettext_lazy("Take a task"),
    "renew": gettext_lazy("Renew a task hold"),
    "release": gettext_lazy("Release a task"),
    "expire": gettext_lazy("Task hold expired"),
}

# <object>.<verb> for the ledger's records (person.create, organisation.retire …).
OBJECTS: dict[str, Any] = {
    "person": pgettext_lazy("audit object", "person"),
    "household": pgettext_lazy("audit object", "household"),
    "organisation": pgettext_lazy("audit object", "organisation"),
    "thing": pgettext_lazy("audit object", "city component"),
    "estate": pgettext_lazy("audit object", "estate"),
    "building": pgettext_lazy("audit object", "building"),
    "room": pgettext_lazy("audit object", "room"),
    "people": pgettext_lazy("audit object", "people"),
    "households": pgettext_lazy("audit object", "households"),
    "organisations": pgettext_lazy("audit object", "organisations"),
    "things": pgettext_lazy("audit object", "city components"),
    "addresses": pgettext_lazy("audit object", "addresses"),
    "event": pgettext_lazy("audit object", "event"),
    "region": pgettext_lazy("audit object", "region"),
    "layer": pgettext_lazy("audit object", "department layer"),
    "staff": pgettext_lazy("audit object", "grid worker"),
    "assignment": pgettext_lazy("audit object", "team membership"),
    "team": pgettext_lazy("audit object", "grid team"),
    "roster": pgettext_lazy("audit object", "roster"),
    "party_member": pgettext_lazy("audit object", "party member"),
    "party_org": pgettext_lazy("audit object", "party organisation"),
    "linkage_source": pgettext_lazy("audit object", "department list"),
    "linkage_batch": pgettext_lazy("audit object", "department list upload"),
    "linkage_pair": pgettext_lazy("audit object", "suspected match"),
    "care_tag": pgettext_lazy("audit object", "care group"),
    "campaign": pgettext_lazy("audit object", "campaign"),
    "campaign_task": pgettext_lazy("audit object", "campaign task"),
    "campaign_edit": pgettext_lazy("audit object", "field edit"),
    "category": pgettext_lazy("audit object", "event category"),
    "calendar": pgettext_lazy("audit object", "working calendar"),
    "dashboard_panel": pgettext_lazy("audit object", "dashboard panel"),
    "job": pgettext_lazy("audit object", "background job"),
    "ledger": pgettext_lazy("audit object", "ledger"),
    "referral": pgettext_lazy("audit object", "referral"),
    "user": pgettext_lazy("audit object", "user"),
}

VERBS: dict[str, Any] = {
    "create": pgettext_lazy("audit verb", "Create"),
    "update": pgettext_lazy("audit verb", "Change"),
    "tags": pgettext_lazy("audit verb", "Change the tags of"),
    "move": pgettext_lazy("audit verb", "Move"),
    "member": pgettext_lazy("audit verb", "Change the household of"),
    "head": pgettext_lazy("audit verb", "Change the head of"),
    "retire": pgettext_lazy("audit verb", "Retire"),
    "restore": pgettext_lazy("audit verb", "Restore"),
    "verify": pgettext_lazy("audit verb", "Verify"),
    "view": pgettext_lazy("audit verb", "View"),
}

OUTCOMES: dict[str, Any] = {
    "success": gettext_lazy("Succeeded"),
    "denied": gettext_lazy("Refused"),
    "failure": gettext_lazy("Failed"),
}

# Detail keys as field labels.
DETAILS: dict[str, Any] = {
    "field": gettext_lazy("Field"),
    "fields": gettext_lazy("Fields changed"),
    "reason": gettext_lazy("Reason"),
    "reason_given": gettext_lazy("Reason given"),
    "version": gettext_lazy("Version"),
    "from": gettext_lazy("From"),
    "to": gettext_lazy("To"),
    "department": gettext_lazy("Department"),
    "unmasked": gettext_lazy("Full data"),
    "rows": gettext_lazy("Rows"),
    "source": gettext_lazy("Source"),
    "changes": gettext_lazy("Changes"),
    "counts": gettext_lazy("Counts"),
    "user": gettext_lazy("User"),
    "role": gettext_lazy("Role"),
    "until": gettext_lazy("Until"),
    "by": gettext_lazy("By"),
    "parts": gettext_lazy("Parts"),
    "amount": gettext_lazy("Amount"),
    "unit": gettext_lazy("Unit"),
    "satisfaction": gettext_lazy("Satisfaction"),
    "into": gettext_lazy("Merged into"),
    "kind": gettext_lazy("Kind"),
    "channel": gettext_lazy("Channel"),
    "grid": gettext_lazy("Grid"),
    "grid_code": gettext_lazy("Grid"),
    "category": gettext_lazy("Category"),
    "filters": gettext_lazy("Filters"),
    "replaced": gettext_lazy("Replaced"),
    "actor_name": gettext_lazy("User"),
    "object_id": gettext_lazy("Object"),
    "outcome": gettext_lazy("Outcome"),
    "list": gettext_lazy("List"),
    "open_only": gettext_lazy("Open only"),
    "since": gettext_lazy("Since"),
    "status": gettext_lazy("Status"),
    "q": gettext_lazy("Search"),
    "sort": gettext_lazy("Sort"),
    "box": gettext_lazy("Inbox"),
    "panel": gettext_lazy("Panel"),
    "format": gettext_lazy("Format"),
    "object_type": gettext_lazy("Object type"),
    "matches": gettext_lazy("Matches"),
    "found": gettext_lazy("Found"),
    "photos": gettext_lazy("Photos"),
    "tier": gettext_lazy("Tier"),
    "note_given": gettext_lazy("Note given"),
    "staff": gettext_lazy("Grid worker"),
    "created": gettext_lazy("Created"),
    "updated": gettext_lazy("Updated"),
    "unchanged": gettext_lazy("Unchanged"),
    "inserted": gettext_lazy("Inserted"),
    "rejected": gettext_lazy("Rejected"),
    "total": gettext_lazy("Total"),
    "dry_run": gettext_lazy("Dry run"),
    "survivor": gettext_lazy("Record kept"),
    "merged": gettext_lazy("Record merged"),
    "merge": gettext_lazy("Merge"),
    "conflicts": gettext_lazy("Fields that differed"),
    "kept": gettext_lazy("Kept on undo"),
    "backend": gettext_lazy("Engine"),
    "linked_exact": gettext_lazy("Linked exactly"),
    "linked_probable": gettext_lazy("Linked as probable"),
    "review": gettext_lazy("To review"),
    "new": gettext_lazy("New"),
    "people": gettext_lazy("People"),
    "pairs": gettext_lazy("Pairs"),
    "records": gettext_lazy("Records"),
    "probability": gettext_lazy("Probability"),
    "file": gettext_lazy("File"),
    "code": gettext_lazy("Code"),
}

# Field names that a detail may carry as values (personal.reveal's field, a list of changes).
FIELD_WORDS: dict[str, Any] = {
    "id_number": gettext_lazy("ID number"),
    "phone": gettext_lazy("Phone"),
    "name": pgettext_lazy("person", "Name"),
    "address": gettext_lazy("Address"),
    "leader_changed": gettext_lazy("A new grid leader took over"),
    "ended": gettext_lazy("Ended"),
}


def action_label(code: str, details: dict[str, Any] | None = None) -> str:
    """The action in words; the code itself for one nobody named (never an error)."""
    details = details if isinstance(details, dict) else {}
    if code == "personal.reveal":
        field = details.get("field")
        if field == "id_number":
            return _("View an ID number")
        if field == "phone":
            return _("View a phone number")
    if code == "ledger.export.people" and details.get("unmasked"):
        return _("Export full data (people)")
    if code in ACTIONS:
        return str(ACTIONS[code])
    head, _dot, tail = code.partition(".")
    if head == "event" and tail in EVENT_ACTIONS:
        return str(EVENT_ACTIONS[tail])
    if code.startswith("campaign.task.") and code[14:] in TASK_ACTIONS:
        return str(TASK_ACTIONS[code[14:]])
    if code.startswith("ledger.import.") and code[14:] in OBJECTS:
        return _("Import %(object)s") % {"object": OBJECTS[code[14:]]}
    if head in OBJECTS and tail in VERBS:
        return _("%(verb)s %(object)s") % {"verb": VERBS[tail], "object": OBJECTS[head]}
    return code


def action_choices(codes: Iterable[str]) -> list[tuple[str, str]]:
    """(code, words) for a filter's dropdown, in the order of the words."""
    return sorted(((c, action_label(c)) for c in set(codes)), key=lambda pair: pair[1])


def outcome_label(outcome: str) -> str:
    return str(OUTCOMES.get(outcome, outcome))


def object_label(object_type: str) -> str:
    return str(OBJECTS.get(object_type, object_type))


@functools.lru_cache(maxsize=8)
def _model_words_in(language: str | None) -> dict[str, str]:
    """Field names and choice values of every model, in words: what a detail like
    {"fields": ["gender", "phone"]} or {"to": "dispatched"} says. Read from the app registry,
    so core names no module's models; only words a model spells out (a verbose name or a
    choice label), never a field name turned into English."""
    from django.apps import apps

    words: dict[str, str] = {}
    for model in apps.get_models():
        for f in model._meta.get_fields():
            verbose = getattr(f, "verbose_name", None)
            if verbose and str(verbose) != f.name.replace("_", " "):
                words.setdefault(f.name, str(verbose))
            for value, label in getattr(f, "flatchoices", None) or ():
                if isinstance(value, str) and value:
                    words.setdefault(value, str(label))
    return words


def _word(value: str) -> str:
    if value in FIELD_WORDS:
        return str(FIELD_WORDS[value])
    return _model_words_in(get_language()).get(value, value)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None or value == "":
        return "—"
    if isinstance(value, list | tuple):
        return "、".join(_value(v) for v in value) or "—"
    if isinstance(value, dict):
        return "；".join(f"{detail_label(k)}：{_value(v)}" for k, v in value.items()) or "—"
    if isinstance(value, str):
        return _word(value)
    return str(value)


def detail_label(key: str) -> str:
    return str(DETAILS[key]) if key in DETAILS else _word(key)


def detail_fields(details: Any, departments: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """The details as (label, value) pairs: a list to show, not a Python dict. A department
    is named by `departments` (code → name)."""
    if not isinstance(details, dict):
        return [("", _value(details))] if details else []
    departments = departments or {}
    return [
        (
            detail_label(k),
            departments.get(v, v) if k == "department" and isinstance(v, str) else _value(v),
        )
        for k, v in details.items()
    ]


# -- objects: how other modules name and link theirs --------------------------------------------

# object type → (ids → {id: name}, id → the object's page). Registered from AppConfig.ready.
Names = Callable[[list[str]], dict[str, str]]
_RESOLVERS: dict[str, tuple[Names, Callable[[str], str]]] = {}


def register_objects(object_type: str, names: Names, url: Callable[[str], str]) -> None:
    _RESOLVERS[object_type] = (names, url)


def numeric_ids(ids: Iterable[str]) -> list[int]:
    return [int(i) for i in ids if i.isdigit() and len(i) < 19]


def object_links(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
    """(type, id) → (name, url) for the objects a page of the log names: one query per type.
    An object that no longer exists is left out (the page shows its type and id)."""
    by_type: dict[str, set[str]] = {}
    for object_type, object_id in pairs:
        if object_type in _RESOLVERS and object_id:
            by_type.setdefault(object_type, set()).add(str(object_id))
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for object_type, ids in by_type.items():
        names, url = _RESOLVERS[object_type]
        for object_id, name in names(sorted(ids)).items():
            out[(object_type, object_id)] = (name, url(object_id))
    return out
