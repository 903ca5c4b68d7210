"""Every error the edge answers itself leaves in one envelope."""

from __future__ import annotations

from fieldgate.errors import NotFound, Unauthenticated
from fieldgate.http.envelope import error_response


def test_an_error_after_execution_starts_carries_data_null() -> None:
    response = error_response(
        Unauthenticated("expired"), 401, content_type="application/json", headers={"X-A": "1"}
    )
    assert response.status_code == 401
    assert response.body == (
        b'{"data":null,"errors":[{"message":"authentication failed",'
        b'"extensions":{"code":"UNAUTHENTICATED","reason":"expired"}}]}'
    )
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-a"] == "1"


def test_a_refusal_before_anything_ran_has_no_data_entry() -> None:
    response = error_response(
        NotFound("not found"), 404, content_type="application/json; charset=utf-8", with_data=False
    )
    assert (
        response.body == b'{"errors":[{"message":"not found","extensions":{"code":"NOT_FOUND"}}]}'
    )
    assert response.headers["content-type"] == "application/json; charset=utf-8"
