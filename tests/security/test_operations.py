"""Which operation runs, and how deep a document may nest: introspection included."""

from __future__ import annotations

import secrets

from tests.gateway import Gateway

TWO = (
    "query A { courses(first: 1) { totalCount } } "
    'mutation B { login(username: "nobody", password: "not-a-password") { token } }'
)


async def test_several_operations_without_an_operation_name_fail_validation(
    gateway: Gateway,
) -> None:
    refused = (await gateway.client.post("/graphql", json={"query": TWO})).json()
    assert refused["data"] is None
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    named = (
        await gateway.client.post("/graphql", json={"query": TWO, "operationName": "A"})
    ).json()
    assert "errors" not in named and named["data"]["courses"]["totalCount"] > 0


async def test_the_depth_limit_counts_introspection(gateway: Gateway) -> None:
    deep = '{ __type(name: "User") { ' + "ofType { " * 50 + "name" + " }" * 50 + " } }"
    refused = await gateway.gql(deep, as_="admin")
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    # GraphiQL's own introspection query still passes
    from graphql import get_introspection_query

    full = get_introspection_query(descriptions=True, input_value_deprecation=True)
    answered = await gateway.gql(full, as_="admin")
    assert "errors" not in answered and answered["data"]["__schema"]["types"]


async def test_an_anonymous_caller_of_a_users_operation_is_told_to_sign_in(
    gateway: Gateway,
) -> None:
    for document in ("mutation { exportMyData }", "{ myConsents { purpose } }"):
        payload = await gateway.gql(document)
        assert not any((payload["data"] or {}).values())
        assert [e["extensions"] for e in payload["errors"]] == [
            {"code": "UNAUTHENTICATED", "reason": "login_required"}
        ], document
    # but ``me`` is a question anyone may ask: a signed-out page is answered null
    signed_out = await gateway.gql("{ me { id } }")
    assert signed_out["data"] == {"me": None} and "errors" not in signed_out
    # an operator's root stays as absent as a missing one
    hidden = await gateway.gql('mutation { addPolicyRule(line: "p") { revision } }')
    assert [e["extensions"]["code"] for e in hidden["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]


async def test_a_failed_mutation_nulls_only_its_own_field(gateway: Gateway) -> None:
    name = f"sib_{secrets.token_hex(4)}"
    token = (
        await gateway.gql(
            "mutation R($u: String!) { register(input: {username: $u, password: $u}) }",
            {"u": name},  # its own name as its password: 12 characters
        )
    )["data"]["register"]
    both = await gateway.gql(
        'mutation { first: grantConsent(purpose: "RESEARCH") { purpose active } '
        'second: withdrawConsent(purpose: "MARKETING") { purpose } }',
        token=token,
    )
    assert both["data"]["first"] == [{"purpose": "RESEARCH", "active": True}]  # committed
    assert both["data"]["second"] is None
    assert [e["path"] for e in both["errors"]] == [["second"]]
