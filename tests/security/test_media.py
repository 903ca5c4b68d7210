"""Media types: which request bodies are read, and what answer an ``Accept`` gets."""

from __future__ import annotations

import pytest

from fieldgate.http.media import GRAPHQL_MEDIA_TYPE, JSON, is_json_request, response_media_type


@pytest.mark.parametrize(
    ("content_type", "readable"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("Application/JSON;charset=UTF-8", True),
        ('application/json; charset="utf8"', True),
        ("application/json; charset=iso-8859-1", False),
        ("text/plain", False),
        ("text/plain; charset=utf-8", False),
        ("application/x-www-form-urlencoded", False),
        ("multipart/form-data; boundary=x", False),
        ("application/graphql", False),
        ("application/jsonp", False),
        ("", False),
        (None, False),
    ],
)
def test_only_json_bodies_are_read(content_type: str | None, readable: bool) -> None:
    assert is_json_request(content_type) is readable


@pytest.mark.parametrize(
    ("accept", "answer"),
    [
        (None, JSON),
        ("", JSON),
        ("application/json", JSON),
        (GRAPHQL_MEDIA_TYPE, GRAPHQL_MEDIA_TYPE),
        (f"{GRAPHQL_MEDIA_TYPE}, application/json;q=0.9", GRAPHQL_MEDIA_TYPE),
        (f"application/json, {GRAPHQL_MEDIA_TYPE}", GRAPHQL_MEDIA_TYPE),
        (f"application/json, {GRAPHQL_MEDIA_TYPE};q=0.5", JSON),
        (f"{GRAPHQL_MEDIA_TYPE};q=0, */*", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (f"{GRAPHQL_MEDIA_TYPE}, */*;q=0.1", GRAPHQL_MEDIA_TYPE),
        ("text/html", None),
        ("text/html, application/xhtml+xml", None),
        ("application/json;q=0", None),
        ("application/json;q=nonsense", None),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON),
    ],
)
def test_negotiation(accept: str | None, answer: str | None) -> None:
    assert response_media_type(accept) == answer
