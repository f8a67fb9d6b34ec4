"""The worker's record of a failed job: what the job page may show (a domain error's own
message, kept short, or a plain sentence), never a trace; the trace goes to the log (security
review, finding 13)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from wangge.core import jobs
from wangge.core.errors import ValidationFailed
from wangge.core.models import Job, User

pytestmark = pytest.mark.django_db

KIND = "test.fails"


@pytest.fixture
def failing_kind() -> Iterator[Callable[[BaseException], Job]]:
    """Queue a job whose handler raises the given exception, and run it."""
    raised: list[BaseException] = []

    def handler(job: Job, progress: Callable[[int], None]) -> dict[str, Any]:
        raise raised[0]

    jobs.register(KIND, handler)

    def run(exc: BaseException) -> Job:
        raised[:] = [exc]
        user = User.objects.get(username="demo-community")
        return jobs.run(jobs.job_create(actor_user=user, kind=KIND, params={}))

    yield run
    jobs._handlers.pop(KIND)


def test_an_unexpected_error_is_stored_as_a_plain_sentence_and_logged_with_its_trace(
    failing_kind: Callable[[BaseException], Job], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="wangge.core.jobs"):
        job = failing_kind(RuntimeError("cannot open /srv/wangge/var/secret.key"))
    assert job.status == "failed"
    assert job.error == "任务因系统内部错误而失败，已记录日志。"
    [record] = caplog.records
    assert record.getMessage() == f"job {job.pk} ({KIND}) failed"
    assert record.exc_info is not None
    assert "/srv/wangge/var/secret.key" in caplog.text
    assert "Traceback" in caplog.text


def test_a_domain_error_keeps_its_message_cut_to_a_sane_length(
    failing_kind: Callable[[BaseException], Job],
) -> None:
    assert failing_kind(ValidationFailed("文件有误")).error == "文件有误"
    long = failing_kind(ValidationFailed("错" * 5000)).error
    assert long == "错" * (jobs.MAX_ERROR_CHARS - 1) + "…"
