"""Queries over HTTP: pagination, batching of related rows, lookups, the catalogue."""

from __future__ import annotations

from tests.gateway import Gateway, recorded_statements

FINANCE_ORDERS = """
query Orders($first: Int!) @purpose(name: ORDER_FULFILLMENT) {
  orders(first: $first) {
    edges { node { id orderNo amountCents
      items { id priceCents course { id title } }
      buyer { id realName } } }
  }
}
"""


async def test_statement_count_does_not_grow_with_rows(gateway: Gateway) -> None:
    token = await gateway.token("finance1")
    counts = {}
    runs = gateway.services.plans.compiled.runs
    # the second request at least reuses the plan: the compiled path batches as the executor
    for first in (10, 100):
        with recorded_statements(gateway) as statements:
            payload = (await gateway.post(FINANCE_ORDERS, {"first": first}, token=token)).json()
        edges = payload["data"]["orders"]["edges"]
        assert len(edges) == first
        assert all(edge["node"]["items"] for edge in edges)
        assert all(edge["node"]["buyer"]["id"] for edge in edges)
        counts[first] = len(statements)
    assert gateway.services.plans.compiled.runs >= runs + 1
    assert counts[10] == counts[100]
    # token check, orders, items, courses, buyers
    assert counts[100] <= 6


async def test_pagination_round_trip(gateway: Gateway) -> None:
    token = await gateway.token("finance1")
    query = """query($after: String) @purpose(name: ORDER_FULFILLMENT) {
      orders(first: 7, after: $after) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id } }
      }
    }"""
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        payload = (await gateway.post(query, {"after": after}, token=token)).json()
        page = payload["data"]["orders"]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if page["edges"]:
            assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
            assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        seen.extend(edge["node"]["id"] for edge in page["edges"])
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"]
    assert [int(i) for i in seen] == sorted(int(i) for i in seen)
    assert pages == -(-page["totalCount"] // 7)


async def test_first_is_capped_and_bad_cursors_are_refused(gateway: Gateway) -> None:
    capped = await gateway.gql("{ courses(first: 1000) { edges { node { id } } } }")
    assert len(capped["data"]["courses"]["edges"]) <= 100
    bad = await gateway.gql('{ courses(after: "not-a-cursor") { edges { node { id } } } }')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    negative = await gateway.gql("{ courses(first: -1) { edges { node { id } } } }")
    assert negative["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_course_search_and_category(gateway: Gateway) -> None:
    everything = await gateway.gql(
        "{ courses(first: 100) { edges { node { id title category } } } }"
    )
    courses = [edge["node"] for edge in everything["data"]["courses"]["edges"]]
    category = courses[0]["category"]
    by_category = await gateway.gql(
        "query($c: String) { courses(category: $c, first: 100) { edges { node { category } } } }",
        {"c": category},
    )
    found = [edge["node"]["category"] for edge in by_category["data"]["courses"]["edges"]]
    assert found and set(found) == {category}
    word = courses[0]["title"][5:9]
    searched = await gateway.gql(
        "query($s: String) { courses(search: $s, first: 100) { edges { node { title } } } }",
        {"s": word},
    )
    titles = [edge["node"]["title"] for edge in searched["data"]["courses"]["edges"]]
    assert titles and all(word in title for title in titles)
    single = await gateway.gql(
        "query($id: ID!) { course(id: $id) { id title } }", {"id": courses[0]["id"]}
    )
    assert single["data"]["course"]["title"] == courses[0]["title"]


async def test_health_and_readiness(gateway: Gateway) -> None:
    assert (await gateway.client.get("/healthz")).json() == {"status": "ok"}
    ready = await gateway.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_graphiql_and_printed_schema_in_development(gateway: Gateway) -> None:
    page = await gateway.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    anonymous = await gateway.client.get("/graphql/schema.graphql")
    assert "type Course" in anonymous.text
    assert (
        "type Order" not in anonymous.text and "@classified(level: SENSITIVE" not in anonymous.text
    )
    token = await gateway.token("support1")
    sdl = await gateway.client.get(
        "/graphql/schema.graphql", headers={"authorization": f"Bearer {token}"}
    )
    assert "phone: String @classified(level: SENSITIVE, mask: PHONE" in sdl.text
