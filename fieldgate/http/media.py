"""Media types of ``/graphql``: what a request may send, and what its answer is.

Requests carry ``application/json`` (a form, ``text/plain`` or multipart body is what a
cross-site form can send without a preflight, so those are refused). Answers follow the
GraphQL-over-HTTP specification: ``application/graphql-response+json`` when the client
asks for it, ``application/json`` otherwise (the legacy answer, also for ``*/*``).
"""

from __future__ import annotations

GRAPHQL_MEDIA_TYPE = "application/graphql-response+json"
JSON = "application/json"
UTF8 = ("utf-8", "utf8")


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """``type/subtype`` (lower case) and its parameters (names lower case, quotes removed)."""
    media_type, *parameters = value.split(";")
    found: dict[str, str] = {}
    for parameter in parameters:
        name, _, content = parameter.partition("=")
        found[name.strip().lower()] = content.strip().strip('"')
    return media_type.strip().lower(), found


def is_json_request(content_type: str | None) -> bool:
    """Whether a request body of this ``Content-Type`` may be read: JSON in UTF-8."""
    if not content_type:
        return False
    media_type, parameters = parse_media_type(content_type)
    charset = parameters.get("charset")
    return media_type == JSON and (charset is None or charset.lower() in UTF8)


def response_media_type(accept: str | None) -> str | None:
    """The media type to answer with, or None when the client accepts neither.

    The most specific range naming a type sets its quality. Between equals, a type named
    exactly beats a wildcard; ``application/graphql-response+json`` wins when both are
    named, ``application/json`` when only wildcards match (legacy clients send ``*/*``).
    """
    if accept is None or not accept.strip():
        return JSON
    ranked: list[tuple[float, bool, bool, str]] = []
    for candidate in (GRAPHQL_MEDIA_TYPE, JSON):
        quality, exact = _quality(accept, candidate)
        if quality > 0:
            preferred = candidate == GRAPHQL_MEDIA_TYPE if exact else candidate == JSON
            ranked.append((quality, exact, preferred, candidate))
    return max(ranked)[3] if ranked else None


def _quality(accept: str, candidate: str) -> tuple[float, bool]:
    """The quality ``accept`` gives ``candidate`` and whether it names it exactly."""
    family = candidate.split("/")[0] + "/*"
    best: tuple[int, float] = (-1, 0.0)  # (specificity, quality)
    for item in accept.split(","):
        media_type, parameters = parse_media_type(item)
        specificity = {candidate: 2, family: 1, "*/*": 0}.get(media_type, -1)
        if specificity <= best[0]:
            continue
        try:
            quality = float(parameters.get("q", "1"))
        except ValueError:
            quality = 0.0
        best = (specificity, min(max(quality, 0.0), 1.0))
    return best[1], best[0] == 2
