"""`wangge`: one command for everything an operator does. It wraps the management commands.

wangge migrate            create or upgrade the database
wangge demo               build the demo district and serve it on 127.0.0.1:8000
wangge serve              serve with gunicorn (production)
wangge grids …            import / check / export / locate grids, department layers, history
wangge grids restructure  move / split / merge / recode grids (a dry run unless --apply)
wangge users …            users and grants
wangge audit verify       check the audit log's keyed hash chain and its checkpoints
wangge audit checkpoint   write a signed checkpoint of the audit log's head
wangge token create USER  print an API token
wangge teams …            grid teams, rosters, coverage check
wangge ledger …           ledger templates and imports
wangge events scan        mark overdue events and escalate them (idempotent)
wangge campaigns …        create a campaign, its progress, the progress workbook, scan
wangge linkage …          department lists: import, link (Splink), export, duplicates
wangge open311 keys …     API keys for Open311 clients
wangge worker             background jobs, the deadline scan, audit checkpoints
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(__doc__)
        if not args:
            sys.exit(2)
        return
    if args[:2] == ["grids", "restructure"]:
        # The regions module's `grids` command cannot import the modules above it; restructuring
        # lives in wangge/restructure, which may.
        args = ["restructure", *args[2:]]
    if args[0] == "demo":
        os.environ.setdefault("WANGGE_DEMO", "true")
    from wangge.env import ConfigError

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["wangge", *args])
    except ConfigError as exc:
        print(f"wangge: 配置错误 / configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
