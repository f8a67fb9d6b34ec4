"""The phone's pages of campaigns (see views/__init__.py): 我的任务 (my tasks, what is left, what
came back and why, a held task's countdown) and the work page of one task, which downloads the
package and works offline (`static/wangge/field.js`, the site's service worker `/sw.js`).

The work page is a shell: its data comes from the API (the package, the edits) so that the
service worker can serve it from its cache without signal. `device-key` hands out the key the
phone encrypts its stored package and queue with: random, kept in the login session only, so
it is gone with the session (logout, expiry, the browser closed)."""

from __future__ import annotations

import base64
import secrets

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from wangge.campaigns import selectors
from wangge.core.scope import scope_for
from wangge.events.selectors import categories

SESSION_KEY = "campaigns_device_key"


@login_required
@require_GET
def my_tasks(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    abilities = selectors.campaigns_abilities(actor=scope)
    return render(
        request,
        "campaigns/field/my.html",
        {
            "tasks": selectors.my_tasks(actor=scope),
            "open_tasks": selectors.open_tasks(actor=scope) if abilities["collect"] else [],
            "abilities": abilities,
        },
    )


@login_required
@require_GET
def task_work(request: HttpRequest, task_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    task = selectors.task_get(actor=scope, task_id=task_id)
    findings = bool(task.campaign.spec.get("findings"))
    return render(
        request,
        "campaigns/field/work.html",
        {
            "task": task,
            "abilities": selectors.task_abilities(actor=scope, task=task),
            "categories": categories(actor=scope, minor_only=True) if findings else [],
        },
    )


@login_required
@require_GET
def device_key(request: HttpRequest) -> HttpResponse:
    """The session's key for the phone's storage (AES-256-GCM, raw, base64) and its id."""
    stored = request.session.get(SESSION_KEY)
    if not stored:
        stored = {
            "id": secrets.token_hex(8),
            "key": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
        request.session[SESSION_KEY] = stored
    response = JsonResponse(stored)
    response["Cache-Control"] = "no-store"
    return response


urlpatterns: list[URLPattern] = [
    path("my/", my_tasks, name="my_tasks"),
    path("my/<int:task_id>/", task_work, name="task_work"),
    path("device-key", device_key, name="device_key"),
]
