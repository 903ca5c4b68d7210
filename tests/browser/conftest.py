"""A real fieldgate server on loopback and one headless Chromium for the whole session.

The browser is Debian's (``/usr/bin/chromium``), driven by Playwright; it is never
downloaded. Without it the browser tests are skipped, saying why, unless
``FIELDGATE_REQUIRE_BROWSER_TESTS=1`` (CI) makes that a failure. Every request the
browser makes to anything but loopback is aborted and recorded.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from fieldgate.settings import PACKAGED_POLICY_DIR

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE = "FIELDGATE_REQUIRE_BROWSER_TESTS"
SCREENSHOTS = "FIELDGATE_CONSOLE_SCREENSHOTS"  # a folder: write the README's screenshots there
LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# The shadow candidate: support agents would read buyer phones in full.
CANDIDATE_RULE = "p, support_agent, Order.buyerPhone, CUSTOMER_SUPPORT, full, any, allow\n"


def _no_browser() -> None:
    reason = f"{CHROMIUM} not found: browser tests skipped (apt-get install chromium)"
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{reason}, but {REQUIRE}=1 requires them")
    pytest.skip(reason)


@dataclass
class Server:
    url: str
    env: dict[str, str]

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "fieldgate.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout.strip()

    def token(self, name: str) -> str:
        return self.cli("token", "issue", "--sub", name)

    def gql(self, query: str, token: str | None = None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(f"{self.url}/graphql", json={"query": query}, headers=headers)
        payload: dict[str, Any] = response.json()
        return payload


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``fieldgate serve`` on demo data, with a shadow candidate; development settings,
    with staff validating against the whole schema so that denials can be shown."""
    if not CHROMIUM.exists():
        _no_browser()
    root = tmp_path_factory.mktemp("console")
    candidate = root / "candidate"
    shutil.copytree(PACKAGED_POLICY_DIR, candidate)
    with (candidate / "policy.csv").open("a", encoding="utf-8") as rules:
        rules.write(CANDIDATE_RULE)
    port = _free_port()
    env = {
        **os.environ,
        "FIELDGATE_DATABASE_URL": f"sqlite+aiosqlite:///{root / 'console.db'}",
        "FIELDGATE_KEY_DIR": str(root / "keys"),
        "FIELDGATE_PORT": str(port),
        "FIELDGATE_SHADOW_POLICY_DIR": str(candidate),
        "FIELDGATE_STAFF_FULL_SCHEMA": "true",
        "FIELDGATE_RATE_LIMIT_REQUESTS": "0",
        "FIELDGATE_LOG_LEVEL": "WARNING",
    }
    server = Server(f"http://127.0.0.1:{port}", env)
    server.cli("db", "upgrade")
    server.cli(
        "db",
        "seed",
        "--demo",
        "--users",
        "60",
        "--courses",
        "20",
        "--orders",
        "240",
        "--tickets",
        "40",
        "--seed",
        "7",
        "--no-progress",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "fieldgate.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{server.url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the fieldgate server did not start")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class Blocked:
    """Requests the browser tried to make off loopback (each was aborted)."""

    urls: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
async def browser(server: Server) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        yield launched
        await launched.close()


@pytest.fixture(scope="session")
def blocked() -> Blocked:
    return Blocked()


@pytest.fixture
async def page(browser: Any, blocked: Blocked) -> AsyncIterator[Any]:
    """A new page (its own session storage) where only loopback can be reached."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900})

    async def only_loopback(route: Any) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in LOOPBACK:
            await route.continue_()
        else:
            blocked.urls.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_loopback)
    opened = await context.new_page()
    yield opened
    await context.close()


async def screenshot(page: Any, name: str) -> None:
    """Save the README's screenshot of this page when ``FIELDGATE_CONSOLE_SCREENSHOTS`` names
    a folder."""
    folder = os.environ.get(SCREENSHOTS)
    if folder:
        await page.screenshot(path=str(Path(folder) / f"console-{name}.png"))
