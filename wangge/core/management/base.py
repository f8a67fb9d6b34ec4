"""What every `wangge` subcommand shares: Chinese output, JSON output, errors → exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from wangge.core.errors import WanggeError
from wangge.core.scope import Scope


class WanggeCommand(BaseCommand):
    """Runs in the site language (zh-Hans by default) and never shows a stack trace for
    domain errors: they become a one-line message and exit status 1."""

    def execute(self, *args: Any, **options: Any) -> Any:
        translation.activate(settings.LANGUAGE_CODE)
        try:
            return super().execute(*args, **options)
        except WanggeError as exc:
            raise CommandError(exc.message) from None

    def system_actor(self) -> Scope:
        return Scope.system(f"cli:{self.__module__.rsplit('.', 1)[-1]}")

    def actor_for(self, username: str) -> Scope:
        """The scope of `--as USER` (an active user), or the system's when no user is named."""
        from django.utils.translation import gettext as _

        from wangge.core.errors import NotFound
        from wangge.core.scope import scope_for
        from wangge.core.selectors import user_by_username

        if not username:
            return self.system_actor()
        try:
            user = user_by_username(actor=self.system_actor(), username=username)
        except NotFound:
            user = None
        if user is None or not user.is_active:
            raise CommandError(_("No active user %(name)s.") % {"name": username})
        return scope_for(user)

    def print_json(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str))

    def read_file(self, path: Path) -> bytes:
        """The file's bytes, or a one-line error naming it (missing, unreadable, a folder)."""
        try:
            return path.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
            ) from None

    def fail(self, status: int = 1) -> None:
        sys.stdout.flush()
        sys.exit(status)
