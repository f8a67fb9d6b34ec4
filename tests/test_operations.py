"""/healthz, /metrics, JSON logs, the worker's heartbeat and `wangge check`."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from wangge.core import crypto, jobs
from wangge.core.logs import JsonFormatter
from wangge.core.models import WorkerBeat
from wangge.ledger.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The messages these tests match, in the language they are written in."""
    from django.utils import translation

    with translation.override("en"):
        yield


def _beat() -> None:
    jobs.worker_beat(name="test-host:1", started_at=timezone.now())


# /healthz -----------------------------------------------------------------------------------


def test_healthz_fails_without_a_worker_and_passes_with_one() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["worker"]["heartbeat_age_seconds"] is None

    _beat()
    response = Client().get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["worker"]["ok"] is True
    assert 0 <= body["checks"]["worker"]["heartbeat_age_seconds"] < 60
    assert body["checks"]["disk"]["free_bytes"] > 0


def test_healthz_says_nothing_sensitive() -> None:
    _beat()
    text = Client().get("/healthz").content.decode()
    for secret in (socket.gethostname(), str(django_settings.DATA_DIR), "test-host", "sqlite"):
        assert secret not in text
    assert set(json.loads(text)) == {"status", "checks"}


def test_a_stale_heartbeat_and_a_full_disk_fail(settings: Any) -> None:
    jobs.worker_beat(name="old:1", started_at=timezone.now())
    WorkerBeat.objects.filter(name="old:1").update(
        seen_at=timezone.now() - dt.timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_SECONDS + 5)
    )
    body = Client().get("/healthz").json()
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["worker"]["heartbeat_age_seconds"] > settings.WORKER_HEARTBEAT_MAX_SECONDS

    _beat()
    settings.HEALTH_MIN_FREE_BYTES = 2**62
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["disk"]["ok"] is False


def test_the_worker_beats_and_records_its_periodic_tasks() -> None:
    call_command("worker", "--once")
    beat = WorkerBeat.objects.get()
    assert beat.name == jobs.worker_name()
    scan = beat.periodic["events.scan"]
    assert scan["ok"] is True
    assert scan["seconds"] >= 0


def test_a_running_job_keeps_the_worker_alive(user: Callable[[str], Any]) -> None:
    from wangge.core.health import worker_heartbeat_age

    assert worker_heartbeat_age() is None
    jobs.register("test.noop", lambda job, progress: {})
    job = jobs.job_create(actor_user=user("demo-district"), kind="test.noop", params={})
    assert jobs.claim(name="w:1") is not None
    assert job.pk
    age = worker_heartbeat_age()
    assert age is not None and age < 60


# /metrics ------------------------------------------------------------------------------------


def _value(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        match = re.match(r"([^{ ]+)(?:\{(.*)\})? (\S+)$", line)
        assert match, line
        found = dict(re.findall(r'(\w+)="([^"]*)"', match[2] or ""))
        if match[1] == name and all(found.get(k) == v for k, v in labels.items()):
            return float(match[3])
    return 0.0


def test_metrics_count_requests_by_route_name_and_read_the_database() -> None:
    client = Client()
    before = client.get("/metrics").content.decode()
    client.get("/healthz")  # 503: no worker yet
    call_command("worker", "--once")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.content.decode()
    labels = {"route": "healthz", "method": "GET", "status": "503"}
    assert _value(text, "wangge_http_requests_total", **labels) == (
        _value(before, "wangge_http_requests_total", **labels) + 1
    )
    assert _value(text, "wangge_http_request_duration_seconds_count", route="healthz") >= 1
    assert 'wangge_http_request_duration_seconds_bucket{le="0.3",route="healthz"}' in text
    assert _value(text, "wangge_database_up") == 1
    assert 'wangge_jobs{state="queued"}' in text
    assert _value(text, "wangge_worker_heartbeat_age_seconds") < 60
    assert 'wangge_periodic_last_duration_seconds{task="events.scan"}' in text
    assert 'wangge_periodic_last_run_failed{task="events.scan"} 0.0' in text


def test_metrics_never_name_a_path_or_query() -> None:
    person = Person.objects.dangerously_unscoped().exclude(id_number="").first()
    client = Client()
    client.get(f"/ledger/people/?q={person.id_number}")
    client.get("/no/such/page/440704")
    text = client.get("/metrics").content.decode()
    assert person.id_number not in text
    assert "440704" not in text
    assert 'route="unmatched"' in text
    assert 'route="ledger:people"' in text


def test_metrics_only_for_this_machine_without_a_token(settings: Any) -> None:
    assert Client(REMOTE_ADDR="10.0.0.8").get("/metrics").status_code == 403
    # a request through a proxy on this machine comes from 127.0.0.1 too
    proxied = Client().get("/metrics", HTTP_X_FORWARDED_FOR="10.0.0.8")
    assert proxied.status_code == 403
    assert b"wangge_" not in proxied.content


def test_metrics_with_a_token_need_it(settings: Any) -> None:
    settings.METRICS_TOKEN = "a-metrics-token-0123456789"
    refused = Client().get("/metrics")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    wrong = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 401
    right = Client(REMOTE_ADDR="10.0.0.8").get(
        "/metrics",
        HTTP_AUTHORIZATION="Bearer a-metrics-token-0123456789",
        HTTP_X_FORWARDED_FOR="10.0.0.9",
    )
    assert right.status_code == 200
    assert b"wangge_database_up" in right.content


# JSON logs -----------------------------------------------------------------------------------


def test_a_request_is_one_json_log_line_without_personal_data(
    client_as: Callable[[str | None], Client],
) -> None:
    person = Person.objects.dangerously_unscoped().exclude(id_number="").exclude(phone="").first()
    client = client_as("demo-district")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        response = client.get(f"/ledger/people/?q={person.id_number}&phone={person.phone}")
    finally:
        root.removeHandler(handler)
    assert response.status_code == 200
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1, lines
    line = json.loads(lines[0])
    assert line["logger"] == "wangge.request"
    assert (line["method"], line["route"], line["status"]) == ("GET", "ledger:people", 200)
    assert line["duration_ms"] >= 0
    assert set(line) == {
        "time",
        "level",
        "logger",
        "message",
        "method",
        "route",
        "status",
        "duration_ms",
    }
    for personal in (person.id_number, person.phone, person.name, "q=", "/ledger/people/"):
        assert personal not in lines[0]


def test_json_log_format_is_a_setting() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import wangge.settings as s; print(s.LOGGING['handlers'])"],
        env={"WANGGE_LOG_FORMAT": "xml", "WANGGE_DATA_DIR": str(django_settings.DATA_DIR)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "WANGGE_LOG_FORMAT='xml'" in done.stderr


# wangge check --------------------------------------------------------------------------------


def _check(capsys: Any) -> tuple[int, dict[str, Any]]:
    status = 0
    try:
        call_command("check", "--json")
    except SystemExit as exc:
        status = int(exc.code or 0)
    report = json.loads(capsys.readouterr().out)
    return status, {c["name"]: c for c in report["checks"]} | {"ok": report["ok"]}


def test_check_passes_on_a_working_installation(capsys: Any) -> None:
    _beat()
    status, checks = _check(capsys)
    assert status == 0, checks
    assert checks["ok"] is True
    assert set(checks) == {
        "ok",
        "database",
        "migrations",
        "keys",
        "audit",
        "worker",
        "disk",
        "static",
    }
    assert checks["keys"]["details"]["columns_sampled"] >= 3  # people's, staff's, organisations'


def test_check_fails_without_a_worker_and_says_so(capsys: Any) -> None:
    call_command_status, checks = _check(capsys)
    assert call_command_status == 1
    assert checks["ok"] is False
    assert checks["worker"]["ok"] is False
    assert "wangge worker" in checks["worker"]["message"]


def test_check_fails_on_keys_that_do_not_decrypt(
    capsys: Any, settings: Any, tmp_path: Path
) -> None:
    _beat()
    settings.KEY_FILE = str(tmp_path / "other.json")
    crypto._generate(Path(settings.KEY_FILE))
    crypto._ring.clear()
    try:
        status, checks = _check(capsys)
    finally:
        crypto._ring.clear()
    assert status == 1
    assert checks["keys"]["ok"] is False
    assert checks["keys"]["details"]["undecryptable"]


def test_check_fails_on_a_missing_key_file(capsys: Any, settings: Any, tmp_path: Path) -> None:
    _beat()
    settings.KEY_FILE = str(tmp_path / "missing.json")
    crypto._ring.clear()
    try:
        status, checks = _check(capsys)
    finally:
        crypto._ring.clear()
    assert status == 1
    assert settings.KEY_FILE in checks["keys"]["message"]
    assert not Path(settings.KEY_FILE).exists()  # the check made no key


def test_check_fails_on_a_broken_audit_chain(capsys: Any) -> None:
    from wangge.core.audit import audit_checkpoint

    _beat()
    audit_checkpoint()
    line = json.loads(Path(django_settings.AUDIT_CHECKPOINT_FILE).read_text().splitlines()[-1])
    line["mac"] = "0" * 64
    Path(django_settings.AUDIT_CHECKPOINT_FILE).write_text(json.dumps(line) + "\n")
    status, checks = _check(capsys)
    assert status == 1
    assert checks["audit"]["ok"] is False
    assert checks["audit"]["details"]["problems"][0]["kind"] == "checkpoint_forged"


def test_check_prints_a_readable_report(capsys: Any) -> None:
    _beat()
    call_command("check")
    out = capsys.readouterr().out
    assert "database" in out and "static" in out
    assert out.strip().splitlines()[-1] in {"All checks passed.", "全部检查通过。"}
