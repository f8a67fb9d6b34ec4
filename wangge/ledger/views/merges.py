"""Undoing a merge from a record's page. The view translates; the service decides (who may
undo, and whether it can be undone safely)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.core.errors import NotFound, WanggeError
from wangge.core.scope import scope_for
from wangge.ledger import selectors, services

PAGES = {"person": "ledger:person", "organisation": "ledger:organisation"}


@login_required
@require_POST
def merge_undo(request: HttpRequest, merge_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    merge = selectors.merge_get(actor=scope, merge_id=merge_id)
    # Back to the page the form was on: one of the merge's two records, never anything else.
    back = request.POST.get("from", "")
    target = int(back) if back.isdigit() and int(back) == merge.merged_id else merge.survivor_id
    try:
        services.unmerge_records(
            actor=scope, merge_id=merge.pk, reason=request.POST.get("reason", "")
        )
    except NotFound:
        raise
    except WanggeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The merge was undone."))
    return redirect(PAGES[merge.kind], target)
