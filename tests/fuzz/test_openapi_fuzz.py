"""OpenAPI-driven fuzzing: schemathesis generates requests for every operation of the document
the app serves (`/api/v1/openapi.json`) and sends them in-process to the WSGI app, as the
demo district's administrator (a Bearer token). Every answer must be something other than a 5xx,
with a documented status code, content type and body schema.

Bounded and deterministic for CI: a few examples per operation, derandomised. Each test runs in
the rolled-back transaction of pytest-django's `db` (the `wsgi_app` fixture, conftest.py), on
the demo district the root conftest builds once per session. `make test-fuzz` runs it, with
the Open311 and page fuzzers beside it."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from wangge.api import api

pytestmark = pytest.mark.fuzz

ROSTER_XLSX = "/api/v1/teams-roster.xlsx"
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"max-examples": 15},
        "operations": [
            # The whole district's roster, decrypted and written as XLSX, takes seconds per call:
            # a few examples, and no coverage phase (which would enumerate every parameter).
            {
                "include-path": ROSTER_XLSX,
                "generation": {"max-examples": 3},
                "phases": {"coverage": {"enabled": False}},
            }
        ],
    }
)
# The same document /api/v1/openapi.json serves (and docs/openapi.json keeps).
schema = schemathesis.openapi.from_dict(
    api.get_openapi_schema(path_prefix="/api/v1"), config=CONFIG
)

# Every check on every operation. The binary answers (people.csv, teams-roster.xlsx, a photo)
# document their 200 without a content type or schema, so content-type and body-schema
# conformance have nothing to compare and pass; no operation needs a check left out.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

GRID = "440704003001001"  # 英南村第 1 网格
# Values that exist in the demo district, mixed with the generated ones, so that the fuzzer
# reaches real objects (and their actions), not only 404s.
REAL: dict[str, st.SearchStrategy[Any]] = {
    "code": st.sampled_from(["440704", "440704003", "440704003001", GRID, "0102", "0601"]),
    "grid_code": st.sampled_from([GRID, "440704001001001", "440704003001"]),
    "slug": st.sampled_from(["chengguan", "dangjian", "zhengfa"]),
}
REAL_IDS = st.integers(min_value=1, max_value=40)


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    if not path_parameters:
        return st.just(path_parameters)
    real = {
        name: REAL.get(name, REAL_IDS if name.endswith("_id") else st.just(value))
        for name, value in path_parameters.items()
    }
    return st.one_of(st.just(path_parameters), st.fixed_dictionaries(real))


@pytest.fixture
def bearer(db: Any) -> dict[str, str]:
    from wangge.core.models import User
    from wangge.core.scope import Scope
    from wangge.core.services import token_create

    _token, plain = token_create(
        actor=Scope.system("test"), user=User.objects.get(username="demo-district"), name="fuzz"
    )
    return {"Authorization": f"Bearer {plain}"}


@schema.parametrize()
# max_examples is set per operation in CONFIG (an explicit value here would override it).
@settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_every_generated_request_without_5xx_and_as_documented(
    case: Any, wsgi_app: Any, bearer: dict[str, str]
) -> None:
    case.call_and_validate(app=wsgi_app, headers=bearer, checks=CHECKS)
