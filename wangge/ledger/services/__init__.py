"""Writes of the ledger (and its audited reads): one module per kind of record.

- people.py: people and households — create, update, move, retire, restore; members and head;
  the audited look and the reveal;
- places.py: organisations, things and standard addresses (estates, buildings, rooms);
- exports.py: the people export (masked unless a reason is given);
- merge.py: merging two records found to be one, and undoing it (hooks for modules above);
- tags.py: care groups given to many people at once (a department's list);
- referrals.py: entries the district reviews instead of the system writing them;
- records.py: what they share — the edit check, versions, the change log and audit.
"""

from wangge.ledger.services.exports import (
    organisations_export,
    people_export,
    people_export_full,
)
from wangge.ledger.services.merge import merge_records, register_merge_hook, unmerge_records
from wangge.ledger.services.people import (
    household_add_member,
    household_create,
    household_remove_member,
    household_set_head,
    person_create,
    person_move,
    person_restore,
    person_retire,
    person_reveal,
    person_update,
    person_viewed,
    possible_duplicates,
)
from wangge.ledger.services.places import (
    Verified,
    building_create,
    building_update,
    estate_create,
    estate_update,
    organisation_create,
    organisation_move,
    organisation_restore,
    organisation_retire,
    organisation_reveal,
    organisation_update,
    record_restore,
    record_retire,
    records_verify,
    room_create,
    room_update,
    thing_create,
    thing_move,
    thing_restore,
    thing_retire,
    thing_update,
)
from wangge.ledger.services.referrals import Referred, referral_resolve
from wangge.ledger.services.regrid import regrid
from wangge.ledger.services.tags import care_tag_add

__all__ = [
    "Referred",
    "Verified",
    "building_create",
    "building_update",
    "care_tag_add",
    "estate_create",
    "estate_update",
    "household_add_member",
    "household_create",
    "household_remove_member",
    "household_set_head",
    "merge_records",
    "organisation_create",
    "organisation_move",
    "organisation_restore",
    "organisation_retire",
    "organisation_reveal",
    "organisation_update",
    "organisations_export",
    "people_export",
    "people_export_full",
    "person_create",
    "person_move",
    "person_restore",
    "person_retire",
    "person_reveal",
    "person_update",
    "person_viewed",
    "possible_duplicates",
    "record_restore",
    "record_retire",
    "records_verify",
    "referral_resolve",
    "register_merge_hook",
    "regrid",
    "room_create",
    "room_update",
    "thing_create",
    "thing_move",
    "thing_restore",
    "thing_retire",
    "thing_update",
    "unmerge_records",
]
