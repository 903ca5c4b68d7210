"""The console in a real browser: GraphiQL for fieldgate, the policy grid, the privacy centre.

One server and one Chromium for the session; each test has its own page (and so its own
signed-in token), with every request off loopback aborted.
"""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Blocked, Server, screenshot

PASSWORD = "fieldgate-demo"
MARKETING = "query @purpose(name: MARKETING) { users(first: 100) { edges { node { id phone } } } }"


async def sign_in(page: Any, server: Server, where: str, username: str) -> None:
    await page.goto(f"{server.url}/console/{where}")
    await page.fill("#bar input[name=username]", username)
    await page.fill("#bar input[name=password]", PASSWORD)
    await page.click("#bar .fg-signin button")
    await page.wait_for_selector(f'[data-testid=who]:has-text("{username}")')


async def switch_to(page: Any, name: str) -> None:
    await page.select_option("[data-testid=principal-switcher]", name)
    await page.wait_for_selector(f'[data-testid=who]:has-text("{name}")')


async def query_fields(page: Any) -> set[str]:
    """The root Query fields GraphiQL's docs list for the principal signed in."""
    await page.wait_for_selector(".graphiql-container")
    await page.click("button[aria-label='Show Documentation Explorer']")
    await page.click(".graphiql-doc-explorer a.graphiql-doc-explorer-type-name:text('Query')")
    await page.wait_for_selector(".graphiql-doc-explorer-title:text('Query')")
    names = await page.locator(".graphiql-doc-explorer-field-name").all_inner_texts()
    return set(names)


async def test_the_console_loads_with_only_loopback_reachable(
    page: Any, server: Server, blocked: Blocked
) -> None:
    await page.goto(f"{server.url}/console")
    await page.wait_for_selector(".graphiql-container .graphiql-query-editor")
    assert await page.locator("[data-testid=who]").inner_text() == "anonymous"
    assert blocked.urls == []  # nothing was even asked of another host


async def test_switching_principals_changes_the_docs(page: Any, server: Server) -> None:
    await sign_in(page, server, "graphiql", "support1")
    support = await query_fields(page)
    assert "tickets" in support
    await switch_to(page, "sf-express")
    partner = await query_fields(page)
    assert "orders" in partner and "tickets" not in partner and "users" not in partner
    await switch_to(page, "alice")
    user = await query_fields(page)
    assert {"myConsents", "myAccessLog"} <= user and "myConsents" not in partner
    assert "auditEvents" in support and "auditEvents" not in user | partner


async def picker_options(page: Any) -> list[str]:
    await page.wait_for_selector("[data-testid=purpose-picker]")
    values = await page.locator("[data-testid=purpose-picker] option").evaluate_all(
        "options => options.map(o => o.value).filter(Boolean)"
    )
    return list(values)


async def test_the_purpose_picker_offers_exactly_the_declarable_purposes(
    page: Any, server: Server
) -> None:
    await sign_in(page, server, "graphiql", "support1")
    assert await picker_options(page) == ["CUSTOMER_SUPPORT"]
    await switch_to(page, "alice")
    assert await picker_options(page) == ["ACCOUNT", "LEARNING", "PERSONALISATION", "RIGHTS"]
    await switch_to(page, "dpo")
    assert await picker_options(page) == ["COMPLIANCE", "LEGAL", "RIGHTS"]
    # choosing one writes the directive
    await page.select_option("[data-testid=purpose-picker]", "LEGAL")
    editor = await page.locator(".graphiql-query-editor .CodeMirror").evaluate(
        "node => node.CodeMirror.getValue()"
    )
    assert "@purpose(name: LEGAL)" in editor and "CUSTOMER_SUPPORT" not in editor


async def test_the_readme_support_query_marks_masked_and_denied_values(
    page: Any, server: Server
) -> None:
    await sign_in(page, server, "graphiql", "support1")
    await page.wait_for_selector(".graphiql-query-editor")
    await page.click("button.graphiql-execute-button")
    masked = page.locator(".graphiql-response .CodeMirror .fg-masked")
    await masked.first.wait_for()
    phones = await masked.all_inner_texts()
    assert len(phones) == 2 and all("****" in phone for phone in phones)
    assert await masked.first.get_attribute("data-fg") == "MASKED PHONE"
    denied = page.locator(".graphiql-response .CodeMirror .fg-denied")
    assert await denied.all_inner_texts() == ["null", "null"]
    assert await denied.first.get_attribute("data-fg") == "DENIED PURPOSE_NOT_ALLOWED_FOR_FIELD"
    await page.click(".fg-explain")
    table = page.locator("[data-testid=explain-table]")
    await table.wait_for()
    assert "Order.bankCard" in await table.inner_text()
    await screenshot(page, "graphiql")


async def test_the_policy_grid(page: Any, server: Server) -> None:
    await sign_in(page, server, "policy", "dpo")
    grid = page.locator(".fg-grid")
    await grid.wait_for(timeout=30_000)

    def cell(field: str, role: str, purpose: str) -> Any:
        return page.locator(
            f'td[data-field="{field}"][data-role="{role}"][data-purpose="{purpose}"]'
        )

    card = cell("Order.bankCard", "support_agent", "CUSTOMER_SUPPORT")
    assert (await card.inner_text()).startswith("DENIED")
    assert "denied" in (await card.get_attribute("class") or "")
    number = cell("User.idNumber", "verification_officer", "IDENTITY_VERIFICATION")
    assert (await number.inner_text()).startswith("FULL")
    assert "full" in (await number.get_attribute("class") or "")
    shadow = cell("Order.buyerPhone", "support_agent", "CUSTOMER_SUPPORT")
    assert "shadow" in (await shadow.get_attribute("class") or "")
    assert "shadow: FULL" in await shadow.inner_text()
    assert await page.locator("td.fg-cell.shadow").count() == 1
    # the filters: one type, one role
    await page.select_option("[data-testid=filter-type]", "Order")
    await page.select_option("[data-testid=filter-role]", "support_agent")
    assert await page.locator('tbody tr[data-type="User"]:visible').count() == 0
    assert await page.locator('td[data-role="finance"]:visible').count() == 0
    await screenshot(page, "policy")


async def test_withdrawing_marketing_withholds_the_phone_from_marketing(
    page: Any, server: Server
) -> None:
    marketing = server.token("marketing1")
    alice = server.gql("{ me { id phone } }", server.token("alice"))["data"]["me"]

    def phone_for_marketing() -> str | None:
        answer = server.gql(MARKETING, marketing)
        rows = {e["node"]["id"]: e["node"]["phone"] for e in answer["data"]["users"]["edges"]}
        return rows[alice["id"]]

    await sign_in(page, server, "privacy", "alice")
    toggle = page.locator("[data-testid=consent-MARKETING]")
    await toggle.wait_for()
    if not await toggle.is_checked():
        await toggle.check()
        await page.wait_for_selector("[data-testid=consent-MARKETING]:checked:enabled")
    assert phone_for_marketing() == alice["phone"]
    await page.locator("[data-testid=access-log] table").wait_for()
    await screenshot(page, "privacy")
    await toggle.uncheck()
    await page.wait_for_selector("[data-testid=consent-MARKETING]:not(:checked):enabled")
    assert phone_for_marketing() is None  # withheld on marketing1's next request


async def test_closing_an_account_needs_the_password(page: Any, server: Server) -> None:
    await sign_in(page, server, "privacy", "bob")
    form = page.locator("[data-testid=close-account]")
    await form.wait_for()
    await form.locator("button").click()
    note = page.locator("[data-testid=close-note]")
    await note.filter(has_text="Enter your password").wait_for()
    await form.locator("input[name=confirm-password]").fill("not the password")
    await form.locator("button").click()
    await note.filter(has_text="not right").wait_for()
    assert server.gql("{ me { username } }", server.token("bob"))["data"]["me"]["username"] == "bob"
    await form.locator("input[name=confirm-password]").fill(PASSWORD)
    await form.locator("button").click()
    await page.wait_for_selector("[data-testid=closed]")
    login = server.gql(f'mutation {{ login(username: "bob", password: "{PASSWORD}") {{ token }} }}')
    assert login["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
