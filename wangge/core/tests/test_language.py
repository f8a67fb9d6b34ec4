from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_chinese_by_default_even_for_english_browsers() -> None:
    body = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert body["Content-Language"] == "zh-hans"
    assert "<h1>登录</h1>" in body.content.decode()


def test_english_when_chosen() -> None:
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en"}, HTTP_REFERER="/accounts/login/")
    assert response.status_code == 302
    body = client.get("/accounts/login/").content.decode()
    assert "<h1>Log in</h1>" in body
