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
