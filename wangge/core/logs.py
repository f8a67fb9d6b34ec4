"""Structured logs: one JSON object per line (`WANGGE_LOG_FORMAT=json`), for a log collector.

Each line has `time` (ISO 8601, UTC), `level`, `logger`, `message`, the request fields the
request log adds (`method`, `route`, `status`, `duration_ms`) when present, and `exc` with the
trace of an exception. Nothing else of the record is copied: what a record carries is chosen by
the code that logs it, and no code here logs personal data (the request line names the route,
never the path or query string).
"""

from __future__ import annotations

import datetime as dt
import json
import logging

# Fields a record may carry through `extra=` that are copied into the line.
EXTRA_FIELDS = ("method", "route", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in EXTRA_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)
