"""Each principal's schema: introspection, validation and the printed SDL show only what
it could ever receive; execution still goes through the disclosure engine."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from fieldgate.app import create_app
from fieldgate.cli import app as cli
from fieldgate.settings import Settings
from tests.gateway import Gateway

ORDER_FIELDS = '{ __type(name: "Order") { fields { name } } }'
USER_TYPE = '{ __type(name: "User") { name } }'
TYPES = "{ __schema { types { name } } }"

_production: dict[str, Gateway] = {}


def field_names(payload: dict[str, Any]) -> set[str]:
    assert "errors" not in payload, payload
    found = payload["data"]["__type"]
    assert found is not None
    return {f["name"] for f in found["fields"]}


def type_names(payload: dict[str, Any]) -> set[str]:
    assert "errors" not in payload, payload
    return {t["name"] for t in payload["data"]["__schema"]["types"]}


def production_of(gateway: Gateway) -> Gateway:
    """The app in production mode (key files named) on the gateway's database."""
    if gateway.database_url not in _production:
        settings: Settings = gateway.services.settings
        keys = settings.key_dir
        app = create_app(
            settings.model_copy(
                update={
                    "env": "production",
                    "signing_key_file": keys / "signing.pem",
                    "data_key_file": keys / "data-keys.json",
                    "audit_key_file": keys / "audit.key",
                }
            )
        )
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        _production[gateway.database_url] = Gateway(app, client, gateway.database_url)
    return _production[gateway.database_url]


@pytest.fixture(scope="module", autouse=True)
async def _close_production() -> Any:
    yield
    for built in _production.values():
        await built.client.aclose()
        await built.services.engine.dispose()
    _production.clear()


async def test_logistics_sees_its_delivery_fields_only(gateway: Gateway) -> None:
    token = await gateway.token("sf-express")
    fields = field_names(await gateway.gql(ORDER_FIELDS, token=token))
    assert {"orderNo", "buyerPhone", "deliveryAddress", "buyerName", "items"} <= fields
    assert not fields & {"bankCard", "buyerIdNumber", "invoiceTaxId", "remarks", "buyer"}
    # User holds only the id of `me`, which answers null for anyone but a user
    user_fields = '{ __type(name: "User") { fields { name } } }'
    assert field_names(await gateway.gql(user_fields, token=token)) == {"id"}
    types = type_names(await gateway.gql(TYPES, token=token))
    assert "Order" in types and "Course" in types
    assert not types & {"SupportTicket", "AuditEventView", "ProfileInput", "Mutation"}


async def test_each_partner_kind_sees_its_own_fields(gateway: Gateway) -> None:
    payment = field_names(await gateway.gql(ORDER_FIELDS, as_="unionpay"))
    assert payment == {"id", "orderNo", "amountCents"}
    merchant = field_names(await gateway.gql(ORDER_FIELDS, as_="merchant-1"))
    assert {"orderNo", "buyerPhone"} <= merchant and "bankCard" not in merchant
    analytics = await gateway.gql('{ __type(name: "User") { fields { name } } }', as_="insight-1")
    user_fields = field_names(analytics)
    assert {"birthDate", "gender", "region"} <= user_fields
    assert not user_fields & {"phone", "email", "realName", "idNumber", "username"}


async def test_token_scopes_narrow_the_view(gateway: Gateway) -> None:
    token = await gateway.token("sf-express", scopes=["Order.orderNo", "Order.id"])
    assert field_names(await gateway.gql(ORDER_FIELDS, token=token)) == {"id", "orderNo"}


# graphql-core's own wording for a field the type does not have, without suggestions
@pytest.mark.parametrize("field", ["bankCard", "noSuchField"])
async def test_a_hidden_field_fails_like_a_missing_one(gateway: Gateway, field: str) -> None:
    query = f"{{ orders(first: 1) {{ edges {{ node {{ {field} }} }} }} }}"
    payload = await gateway.gql(query, as_="sf-express")
    assert payload["data"] is None
    [error] = payload["errors"]
    assert error["message"] == f"Cannot query field '{field}' on type 'Order'."
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_hidden_type_fails_like_a_missing_one(gateway: Gateway) -> None:
    payload = await gateway.gql("{ users(first: 1) { totalCount } }", as_="sf-express")
    [error] = payload["errors"]
    assert error["message"] == "Cannot query field 'users' on type 'Query'."


async def test_visible_fields_still_go_through_disclosure(gateway: Gateway) -> None:
    payload = await gateway.gql(
        "query @purpose(name: DELIVERY) { orders(first: 3) { edges { node { orderNo buyerPhone } } } }",
        as_="sf-express",
    )
    assert "errors" not in payload, payload
    assert payload["data"]["orders"]["edges"]


async def test_introspection_cannot_ride_along_with_data(gateway: Gateway) -> None:
    payload = await gateway.gql("{ courses(first: 1) { totalCount } " + TYPES[1:], as_="sf-express")
    assert payload["data"] is None
    assert payload["errors"][0]["extensions"]["code"] == "QUERY_REFUSED"


async def test_staff_see_everything_in_development(gateway: Gateway) -> None:
    fields = field_names(await gateway.gql(ORDER_FIELDS, as_="support1"))
    assert {"bankCard", "buyerIdNumber", "invoiceTaxId"} <= fields


async def test_anonymous_sees_the_catalogue(gateway: Gateway) -> None:
    types = type_names(await gateway.gql(TYPES))
    assert "Course" in types
    assert not types & {"Order", "SupportTicket", "UserConnection"}  # User: `me`'s id only
    refused = await gateway.gql("{ orders(first: 1) { totalCount } }")
    assert refused["errors"][0]["message"] == "Cannot query field 'orders' on type 'Query'."


async def test_users_see_their_rights_roots(gateway: Gateway) -> None:
    payload = await gateway.gql('{ __type(name: "Query") { fields { name } } }', as_="alice")
    assert {"me", "myConsents", "myAccessLog", "orders"} <= field_names(payload)
    mutations = await gateway.gql('{ __type(name: "Mutation") { fields { name } } }', as_="alice")
    assert {"exportMyData", "updateMyProfile"} <= field_names(mutations)
    partner = await gateway.gql('{ __type(name: "Query") { fields { name } } }', as_="sf-express")
    assert not field_names(partner) & {"myConsents", "myAccessLog"}
    assert "me" in field_names(partner)  # null for a partner, as for anonymous callers


async def test_printed_schema_per_principal(gateway: Gateway) -> None:
    token = await gateway.token("sf-express")
    response = await gateway.client.get(
        "/graphql/schema.graphql", headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    sdl = response.text
    assert "type Order {" in sdl and "buyerPhone: String @classified(" in sdl
    assert "bankCard" not in sdl and "type Mutation" not in sdl and "phone" not in sdl
    anonymous = (await gateway.client.get("/graphql/schema.graphql")).text
    assert "type Course {" in anonymous and "type Order " not in anonymous


async def test_production_introspection_serves_each_its_own_view(gateway: Gateway) -> None:
    production = production_of(gateway)
    refused = await production.gql(TYPES)
    assert refused["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
    alice = type_names(await production.gql(TYPES, as_="alice"))
    assert {"User", "Order", "ConsentRecord"} <= alice and "AuditEventView" not in alice
    dpo = field_names(
        await production.gql('{ __type(name: "Query") { fields { name } } }', as_="dpo")
    )
    assert "auditEvents" in dpo and "orders" not in dpo
    # in production staff get their own view too
    hidden = await production.gql("{ orders(first: 1) { totalCount } }", as_="dpo")
    assert hidden["errors"][0]["message"] == "Cannot query field 'orders' on type 'Query'."
    printed = await production.client.get("/graphql/schema.graphql")
    assert printed.status_code == 404


def test_schema_print_for_a_role() -> None:
    runner = CliRunner()
    printed = runner.invoke(cli, ["schema", "print", "--role", "payment"])
    assert printed.exit_code == 0, printed.output
    sdl = printed.output
    assert "amountCents: Int @classified(" in sdl and "directive @classified" in sdl
    assert "buyerPhone" not in sdl and "realName" not in sdl
    scoped = runner.invoke(
        cli, ["schema", "print", "--role", "logistics", "--scope", "Order.orderNo"]
    )
    assert scoped.exit_code == 0, scoped.output
    assert "orderNo" in scoped.output and "deliveryAddress" not in scoped.output
    everything = runner.invoke(cli, ["schema", "print"])
    assert "bankCard" in everything.output and "type User " in everything.output
    unknown = runner.invoke(cli, ["schema", "print", "--role", "no-such-role"])
    assert unknown.exit_code == 1


def test_every_field_the_matrix_discloses_is_in_the_view() -> None:
    """The view never hides what the disclosure engine would give: every FULL or MASKED of
    the expectations matrix, on a kind of row the role can meet, is in the role's view."""
    from fieldgate.authz.explain import synthetic_principal
    from fieldgate.authz.policy_loading import load_policy
    from fieldgate.authz.purposes import load_purposes
    from fieldgate.schema import build_schema
    from fieldgate.schema.catalog import build_catalog
    from fieldgate.schema.views import SchemaViews
    from fieldgate.settings import PACKAGED_POLICY_DIR
    from tests.matrix.expectations import cases

    vocabulary = load_purposes(PACKAGED_POLICY_DIR)
    policy = load_policy(PACKAGED_POLICY_DIR, vocabulary)
    schema = build_schema()
    views = SchemaViews(
        schema.as_str(), build_catalog(schema._schema, vocabulary), staff_see_all=False
    )
    checked = 0
    for (role, _), expectations in cases().items():
        principal = synthetic_principal(policy, [role])
        view = views.view(principal, policy).schema
        meets = {"user": ("other", "owner"), "staff": ("other", "assigned")}.get(
            str(principal.kind), ("other",)
        )
        for coordinate, expected in expectations.items():
            if not {getattr(expected, kind) for kind in meets} & {"FULL", "MASKED"}:
                continue
            type_name, field = coordinate.split(".", 1)
            shown = view.type_map.get(type_name)
            assert shown is not None, f"{role}: {type_name} hidden"
            assert field in shown.fields, f"{role}: {coordinate} hidden"  # type: ignore[attr-defined]
            checked += 1
    assert checked > 100
