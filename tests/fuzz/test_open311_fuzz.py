"""Open311 fuzzing: schemathesis generates requests from open311.yaml (beside this file: the
GeoReport v2 operations, parameters and bodies as /open311/ serves them) and sends them
in-process to the WSGI app, anonymously as the specification allows, with a registered key for
reports. Every answer must be something other than a 5xx, with a documented status, content
type and (JSON) body; an XML answer must parse and never carry a trace.

Deterministic and bounded like the API fuzzer (test_openapi_fuzz.py); `make test-fuzz` runs it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
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

pytestmark = pytest.mark.fuzz

KEY = "o311_fuzz-client-key-0000000000"  # registered by the `client_key` fixture
CONFIG = schemathesis.Config.from_dict({"generation": {"max-examples": 50}})
schema = schemathesis.openapi.from_path(Path(__file__).with_name("open311.yaml"), config=CONFIG)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Values of the demo district mixed into generated ones, so that generated reports pass the key
# check and land in a grid (the yaml's examples cover the other parameters).
REAL_BODY: dict[str, st.SearchStrategy[Any]] = {
    "api_key": st.just(KEY),
    "service_code": st.sampled_from(["0101", "0102", "0201", "9999"]),
    "lat": st.sampled_from(["22.53606885", "22.5", "-91", "1e400"]),
    "long": st.sampled_from(["113.0697781", "113.07", "181", "-0"]),
}


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    if not isinstance(body, dict):
        return st.just(body)
    real = st.fixed_dictionaries({}, optional=REAL_BODY).map(lambda extra: {**body, **extra})
    return st.one_of(st.just(body), real)


@pytest.fixture
def client_key(db: Any) -> str:
    from wangge.core.services import secret_digest
    from wangge.events.models import Open311Client

    Open311Client.objects.create(name="fuzz", prefix=KEY[:10], digest=secret_digest(KEY))
    return KEY


@schema.parametrize()
@settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_open311_answers_every_generated_request_without_5xx_and_as_specified(
    case: Any, wsgi_app: Any, client_key: str
) -> None:
    response = case.call_and_validate(app=wsgi_app, checks=CHECKS)
    assert b"Traceback" not in response.content
    if response.headers.get("Content-Type", [""])[0].startswith("text/xml"):
        root = ET.fromstring(response.content)  # noqa: S314 - our own output
        assert root.tag in {
            "discovery",
            "services",
            "service_definition",
            "service_requests",
            "errors",
        }
