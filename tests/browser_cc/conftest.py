"""Browser tests of the control center: one real server, database and chromium per module.

The shared ``tests/fixtures/browser.py`` launches a browser per test on a phone-sized
viewport for the customer app; the control center is a desktop tool whose tests share one.

A module shares one server (starting one is the slow part); each test opens its own
browser context, already signed in as the module's operator.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from curhat.config import Settings
from curhat.runtime import Runtime, running
from tests.e2e.flows import Api, Socket
from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS
from tests.fixtures.database import TEMPLATE, Servers
from tests.fixtures.factories import Account, make_operator
from tests.fixtures.server import ServerProcess, env_for
from tests.invariants import assert_invariants

# Screenshots kept as artifacts of the run; the best are copied to docs/screenshots by hand.
ARTIFACTS = Path(os.environ.get("CURHAT_TEST_OUTPUT", "test-output")) / "browser_cc"

EXPECTED_4XX = "Failed to load resource: the server responded with a status of 4"

module_fixture = pytest_asyncio.fixture(scope="module", loop_scope="module")


@module_fixture
async def cc_database(servers: Servers) -> AsyncIterator[str]:
    name = f"cc_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(host=servers.socket_dir, user="postgres", database="postgres")
    try:
        await conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    finally:
        await conn.close()
    url = servers.database_url(name)
    yield url
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection, AsyncSession(bind=connection) as session:
            await assert_invariants(session)
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(host=servers.socket_dir, user="postgres", database="postgres")
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def cc_settings(servers: Servers, cc_database: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=cc_database,
        valkey_url=servers.valkey_url,
        jwt_secret="test-secret-" + uuid.uuid4().hex,
        valkey_prefix=f"t{uuid.uuid4().hex[:12]}:",
        data_dir=tmp_path_factory.mktemp("cc-data"),
        log_json=False,
    )


@pytest.fixture(scope="module")
def cc_server(cc_settings: Settings) -> Iterator[ServerProcess]:
    server = ServerProcess(env=env_for(cc_settings, cc_settings.data_dir)).start()
    yield server
    server.stop()


@module_fixture
async def seed(cc_settings: Settings) -> AsyncIterator[Runtime]:
    """Database access for arranging what the API cannot (e.g. an old date); runs no loops."""
    async with running(cc_settings, background=False) as runtime:
        yield runtime


@module_fixture
async def api(cc_server: ServerProcess) -> AsyncIterator[Api]:
    client = Api(cc_server.public_url)
    yield client
    await client.aclose()


@module_fixture
async def sockets() -> AsyncIterator[list[Socket]]:
    opened: list[Socket] = []
    yield opened
    for sock in opened:
        await sock.close()


@module_fixture
async def operator(seed: Runtime) -> Account:
    return await make_operator(seed)


@module_fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def sign_in(page: Page, operator: Account) -> None:
    await page.goto("/cc/login")
    await page.get_by_label("Email").fill(operator.phone)  # make_operator keeps the email in .phone
    await page.get_by_label("Kata sandi").fill(operator.password)
    await page.get_by_role("button", name="Masuk").click()
    await page.wait_for_url("**/cc/dashboard")


@module_fixture
async def signed_in_state(
    browser: Browser, cc_server: ServerProcess, operator: Account, tmp_path_factory: pytest.TempPathFactory
) -> str:
    context = await browser.new_context(base_url=cc_server.internal_url)
    page = await context.new_page()
    await sign_in(page, operator)
    path = tmp_path_factory.mktemp("cc-state") / "state.json"
    await context.storage_state(path=path)
    await context.close()
    return str(path)


@pytest_asyncio.fixture(loop_scope="module")
async def context(
    browser: Browser, cc_server: ServerProcess, signed_in_state: str
) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(
        base_url=cc_server.internal_url,
        storage_state=signed_in_state,
        viewport={"width": 1280, "height": 900},
    )
    yield ctx
    await ctx.close()


@pytest_asyncio.fixture(loop_scope="module")
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    """A signed-in page; any script error or CSP violation in the browser fails the test."""
    p = await context.new_page()
    problems: list[str] = []
    p.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def on_console(msg: ConsoleMessage) -> None:
        # A form answered 400 with the page showing the error is expected; anything else is not.
        if msg.type == "error" and not msg.text.startswith(EXPECTED_4XX):
            problems.append(f"console {msg.type}: {msg.text}")

    p.on("console", on_console)
    yield p
    assert not problems, problems


async def check_axe(page: Page, name: str, *, full_page: bool = True) -> None:
    """0 serious or critical axe violations, and a screenshot as an artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=ARTIFACTS / f"cc-{name}.png", full_page=full_page)
    results = await Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in bad
    )
