"""Domain errors. Adapters (views, API, CLI) turn them into 404 pages, JSON errors or exit codes."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class WanggeError(Exception):
    """Base class: `code` is stable and machine-readable, `message` is for people (translated)."""

    code = "error"
    status = 400
    default_message: Any = _("The request could not be completed.")
    # An exact lookup the error's answer amounts to (core.personal.ExactLookup), audited by the
    # service's caller after the transaction rolled back.
    lookup: Any = None

    def __init__(self, message: Any = None, *, code: str | None = None, details: Any = None):
        self.message = str(message if message is not None else self.default_message)
        if code:
            self.code = code
        self.details = details
        super().__init__(self.message)


class NotFound(WanggeError):
    """Missing and out of scope look the same, on purpose."""

    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionDenied(WanggeError):
    """Only for actions on objects the actor can already see; unseen objects are NotFound."""

    code = "permission_denied"
    status = 403
    default_message = _("You do not have permission to do this.")


class ValidationFailed(WanggeError):
    code = "invalid"
    status = 400
    default_message = _("The input is not valid.")


class Conflict(WanggeError):
    code = "conflict"
    status = 409
    default_message = _("The record was changed by someone else.")


class TooManyRequests(WanggeError):
    code = "rate_limited"
    status = 429
    default_message = _("Too many requests. Please try again later.")


class MalformedRequest(ValidationFailed):
    """A request Django cannot read: a multipart body without a usable boundary, too many
    fields, a body over the size limit."""

    code = "malformed_request"
    default_message = _("The request cannot be read.")


class NulCharacter(ValidationFailed):
    """Text holding NUL (PostgreSQL can neither store nor compare it)."""

    code = "nul_character"
    default_message = _("The request holds a NUL character, which no field can take.")
