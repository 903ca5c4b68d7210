"""The error envelope: every error the edge answers itself leaves in one GraphQL shape,
``{"data": null, "errors": [{"message": …, "extensions": {"code": …, …}}]}``.

``data`` is present when the request reached (or would have reached) execution, and absent
for a refusal before anything ran; the error's code and extensions come from the
:class:`~fieldgate.errors.FieldgateError`, never from a value.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response

from fieldgate.errors import FieldgateError


def error_response(
    error: FieldgateError,
    status: int,
    *,
    content_type: str,
    with_data: bool = True,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The response of ``status`` carrying ``error`` in the envelope; ``with_data`` adds
    ``"data": null`` before ``errors``."""
    body: dict[str, object] = {"data": None} if with_data else {}
    body["errors"] = [
        {"message": error.message, "extensions": {"code": error.code, **error.extensions}}
    ]
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type=content_type
    )
