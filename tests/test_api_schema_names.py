"""Two API schemas with one name become one entry in the OpenAPI document (django-ninja keeps
the last): the document then describes one endpoint with the other's fields. Every schema
class the modules define has a name of its own."""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel


def test_every_api_schema_has_its_own_name() -> None:
    from wangge.api import api

    assert api.get_openapi_schema()["paths"]  # every module's API (and its schemas) loaded
    seen: dict[str, set[str]] = defaultdict(set)

    def walk(cls: type) -> None:
        sub: type
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("wangge."):
                seen[sub.__name__].add(f"{sub.__module__}.{sub.__qualname__}")
            walk(sub)

    walk(BaseModel)
    assert {name: sorted(where) for name, where in seen.items() if len(where) > 1} == {}


def test_the_document_keeps_the_events_action_input() -> None:
    """The events' action input is built from the rule table at run time; a campaign schema of
    the same name once replaced it in the document."""
    from wangge.api import api

    schemas = api.get_openapi_schema()["components"]["schemas"]
    assert "reason" in schemas["ActionIn"]["properties"]
    assert "satisfaction" in schemas["ActionIn"]["properties"]
