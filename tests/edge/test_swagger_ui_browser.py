"""Swagger UI in a real browser (Debian's Chromium, headless, driven by playwright) against
a running stack, as a portal developer uses it: Authorize with the password flow as a
customer, then Try it out on `GET /api/v1/wallet`. Every request the page makes must go to
the stack itself: the docs work offline (core.web.docs)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, Request, Route, async_playwright

from devstack.demo.world import CUSTOMERS, DEMO_PASSWORD
from devstack.stack.spawned import SpawnedStack

pytestmark = pytest.mark.slow  # starts a whole stack and a browser

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",  # as root, in CI's container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Chromium's own traffic (updates, sync, safe browsing lists) stays off the record.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
STEP_TIMEOUT_MS = 30_000  # a loaded 2-core machine renders the 1.5 MB script slowly


@pytest.fixture
def customer(stack: SpawnedStack) -> str:
    """A demo customer, registered as `make demo` registers them."""
    email = CUSTOMERS[0]
    registered = httpx.post(
        f"{stack.base_url}/api/v1/auth/register",
        json={"email": email, "password": DEMO_PASSWORD, "display_name": "alice"},
    )
    assert registered.status_code == 201, registered.text
    return email


@pytest.fixture
def chromium() -> Path:
    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: make chromium installs Debian's"
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path, tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with async_playwright() as playwright:
        # A persistent context is how playwright takes a --user-data-dir: a fresh one here.
        context = await playwright.chromium.launch_persistent_context(
            tmp_path / "profile",
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_FLAGS,
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        try:
            yield context
        finally:
            await context.close()


async def _record_and_keep_local(context: BrowserContext) -> list[str]:
    """Every URL the pages ask for; one for another host is refused, so that the page
    fails here as it would on a machine without the Internet."""
    asked: list[str] = []

    async def route(route: Route, request: Request) -> None:
        asked.append(request.url)
        if urlsplit(request.url).hostname in LOCAL_HOSTS:
            await route.continue_()
        else:
            await route.abort("internetdisconnected")

    await context.route("**/*", route)
    return asked


def _foreign(urls: list[str]) -> list[str]:
    return [url for url in urls if urlsplit(url).hostname not in LOCAL_HOSTS]


async def _authorize_with_the_password_flow(page: Page, email: str) -> None:
    await page.locator("button.authorize").first.click()
    password_flow = page.locator(".auth-container", has=page.locator("#oauth_username"))
    await password_flow.locator("#oauth_username").fill(email)
    await password_flow.locator("#oauth_password").fill(DEMO_PASSWORD)
    assert await password_flow.locator("#client_id_password").input_value() == "customer-portal"
    async with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/token")) as issued:
        await password_flow.locator("button.authorize").click()
    assert (await issued.value).status == 200, await (await issued.value).text()
    # Swagger UI swaps the scheme's forms (one per flow) for the user name and Logout.
    await page.get_by_role("button", name="Remove authorization").first.wait_for()
    await page.locator(".auth-btn-wrapper button.btn-done").first.click()


async def test_a_customer_authorizes_and_lists_the_wallet_from_swagger_ui(
    stack: SpawnedStack, customer: str, browser: BrowserContext
) -> None:
    asked = await _record_and_keep_local(browser)
    page = browser.pages[0] if browser.pages else await browser.new_page()
    docs = await page.goto(f"{stack.base_url}/api/v1/coupons/docs")
    assert docs is not None
    assert docs.status == 200
    await page.wait_for_load_state("load")
    assert _foreign(asked) == []

    await _authorize_with_the_password_flow(page, customer)

    operation = page.locator("#operations-wallet-listWallet")
    await operation.locator(".opblock-summary").click()
    await operation.locator("button.try-out__btn").click()
    async with page.expect_response(lambda r: "/api/v1/wallet" in r.url) as answered:
        await operation.locator("button.execute").click()
    wallet = await answered.value
    assert wallet.status == 200, await wallet.text()
    assert (await wallet.request.all_headers())["authorization"].startswith("Bearer ")
    shown = operation.locator(".live-responses-table .response .response-col_status")
    await shown.first.wait_for()
    assert (await shown.first.inner_text()).strip() == "200"

    assert _foreign(asked) == []
    assert any("/docs/assets/" in url and url.endswith(".js") for url in asked)
    assert any(url.endswith("/api/v1/auth/token") for url in asked)
