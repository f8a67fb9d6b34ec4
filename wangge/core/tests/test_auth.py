from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from wangge.core.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password-42"


@pytest.fixture
def alice(db: Any) -> User:
    return User.objects.create_user(username="alice", password=PASSWORD)


def test_production_hasher_is_argon2() -> None:
    from wangge import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_login_page_is_chinese_and_logs_in(alice: User) -> None:
    client = Client()
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert "登录" in page.content.decode()
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"


def test_lockout_after_repeated_failures(alice: User) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 429
    # Now even the right password is refused until the cool-off ends.
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_session_and_csrf_settings() -> None:
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE
    assert settings.X_FRAME_OPTIONS == "DENY"


def test_api_session_write_needs_csrf(alice: User) -> None:
    # Session-authenticated API calls go through CSRF like the pages do.
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get("/api/v1/me").status_code == 200


def test_token_create_revoke(alice: User, capsys: Any) -> None:
    from django.core.management import call_command

    call_command("token", "create", "alice")
    plain = capsys.readouterr().out.strip()
    assert plain.startswith("wg_")
    client = Client(headers={"Authorization": f"Bearer {plain}"})
    assert client.get("/api/v1/me").json()["username"] == "alice"
    call_command("token", "revoke", plain[:10])
    assert client.get("/api/v1/me").status_code == 401
    # Only a digest is stored.
    from wangge.core.models import ApiToken

    assert not ApiToken.objects.filter(digest__contains=plain[3:20]).exists()


def test_logout_needs_post(client_as: Any) -> None:
    client = client_as("demo-street")
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/regions/").status_code == 302
