"""Untranslated UI text: Latin-letter words a reader of the zh-Hans pages would see.

`untranslated(html)` lists the words in a page's visible text (text nodes outside script, style
and code; the attributes a browser shows: title, placeholder, alt, aria-label, a button's value,
and the data-label-* texts our scripts put on screen) that are not on the allowlist of codes,
units and proper names. `walk()` renders every page of the authorisation matrix (tests/authz/
matrix.py: every page of the URLconf, with its object from the test world) as each demo role
and returns what it found; scripts/check_ui_text.py runs it in `make lint`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from typing import Any

# Words that are right in a Chinese page: product and format names, units, standards, the
# language switcher's own name for English.
ALLOWED = {
    "api",
    "echarts",
    "excel",
    "pdf",
    "csv",
    "xlsx",
    "xls",
    "json",
    "geojson",
    "openapi",
    "swagger",
    "open311",
    "wgs84",
    "cgcs2000",
    "gcj",
    "gps",
    "http",
    "https",
    "url",
    "id",
    "ip",
    "qr",
    "png",
    "jpeg",
    "jpg",
    "webp",
    "sm2",
    "sm3",
    "sm4",
    "hmac",
    "sha",
    "aes",
    "gcm",
    "km",
    "m²",
    "km²",
    "english",
    "leaflet",
    "htmx",
    "token",
    "bearer",
    "wifi",
    "app",
    "ui",
    "sj",  # the case number's prefix (SJ20261202000123)
}
# Texts that are data shown as they are: the demo logins in the header, codes, file names.
DATA = re.compile(
    r"demo-[a-z]+|SJ\d+|[A-Z0-9]{8,}|\b[\w.-]+\.(?:xlsx|csv|json|geojson|png|jpe?g)\b"
    r"|https?://\S+|/[\w/.-]+"
)
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")
SKIP_TAGS = {"script", "style", "code", "pre", "kbd", "samp", "noscript", "template"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
SHOWN_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label"}


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skipping: list[str] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if value and (name in SHOWN_ATTRIBUTES or name.startswith("data-label")):
                self.texts.append(value)
        if tag == "input" and values.get("type") in {"submit", "button"} and values.get("value"):
            self.texts.append(values["value"] or "")
        # Data shown as it is (a user name, a code) is marked translate="no" (the HTML attribute
        # that tells translation tools the same).
        if tag not in VOID_TAGS and (tag in SKIP_TAGS or values.get("translate") == "no"):
            self.skipping.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping and data.strip():
            self.texts.append(data)


def visible_texts(html: str) -> list[str]:
    parser = _Texts()
    parser.feed(html)
    parser.close()
    return parser.texts


def english_words(text: str) -> list[str]:
    text = DATA.sub(" ", text)
    return [w for w in WORD.findall(text) if w.lower() not in ALLOWED and len(w) > 1]


def untranslated(html: str) -> list[str]:
    """The visible Latin-letter words of a page that are not codes, units or proper names."""
    found: list[str] = []
    for text in visible_texts(html):
        for word in english_words(text):
            if word not in found:
                found.append(word)
    return found


USERS = [
    None,
    "demo-district",
    "demo-street",
    "demo-community",
    "demo-grid",
    "demo-dept",
    "demo-auditor",
]


def pages() -> Iterator[tuple[Any, str]]:
    """(entry, path) for every page (not API) of the matrix a GET shows, with its object in
    the main test users' scope."""
    from tests.authz.matrix import PAGES
    from tests.authz.objects import MINE
    from tests.authz.test_matrix import _path, resolve

    for entry in PAGES:
        if entry.method != "GET" or entry.system_only:
            continue
        yield entry, _path(entry, resolve(entry, MINE))


def walk(users: Iterable[str | None] = USERS, language: str = "zh-hans") -> dict[str, list[str]]:
    """Render every page as each user; {"path as user": [words]} for the pages with English."""
    from django.conf import settings
    from django.test import Client

    from wangge.core.models import User

    found: dict[str, list[str]] = {}
    clients = {}
    for username in users:
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        if username is not None:
            client.force_login(User.objects.get(username=username))
        clients[username] = client
    for _entry, path in pages():
        for username, client in clients.items():
            response = client.get(path)
            if response.status_code >= 300 and response.status_code < 400:
                continue
            if "text/html" not in response.get("Content-Type", ""):
                continue
            body = (
                b"".join(response.streaming_content)
                if getattr(response, "streaming", False)
                else response.content
            )
            words = untranslated(body.decode("utf-8", "replace"))
            if words:
                found[f"{path} ({username or 'anonymous'}, {response.status_code})"] = words
    return found
