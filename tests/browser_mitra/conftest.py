"""Fixtures of the mitra app's browser tests: the operator's back office and the two apps' pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize

from tests.browser.actors import Backoffice
from tests.fixtures.browser import PHONE
from tests.fixtures.server import ServerProcess

# Every Notification the page creates is recorded (the real one still runs), so are the chime's
# oscillators and vibrations, and the page's visibility can be switched, because headless
# chromium has no window to hide.
PAGE_HOOKS = """
(() => {
  const Real = window.Notification;
  window.__notifications = [];
  if (Real) {
    class Recorded extends Real {
      constructor(title, options = {}) {
        window.__notifications.push({ title, body: options.body || "", tag: options.tag || "" });
        super(title, options);
      }
    }
    window.Notification = Recorded;
  }
  window.__oscillators = 0;
  const oscillator = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function (...args) {
    window.__oscillators += 1;
    return oscillator.apply(this, args);
  };
  window.__vibrations = [];
  navigator.vibrate = (pattern) => {
    window.__vibrations.push(pattern);
    return true;
  };
  let hidden = false;
  Object.defineProperty(Document.prototype, "visibilityState", { get: () => (hidden ? "hidden" : "visible") });
  Object.defineProperty(Document.prototype, "hidden", { get: () => hidden });
  window.__setHidden = (value) => {
    hidden = value;
    document.dispatchEvent(new Event("visibilitychange"));
  };
})();
"""

OpenPage = Callable[..., Awaitable[Page]]


@pytest.fixture
async def office(web_server: ServerProcess) -> AsyncIterator[Backoffice]:
    """Accounts and settings for one test; its mitras go offline afterwards (the server is shared)."""
    backoffice = await Backoffice.start(web_server)
    yield backoffice
    await backoffice.close()


@pytest.fixture
async def open_page(browser: Browser) -> AsyncIterator[OpenPage]:
    """A page in a fresh context (one person): phone-sized unless told, notifications allowed,
    the hooks above installed; an uncaught JavaScript error fails the test."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    async def make(viewport: ViewportSize = PHONE) -> Page:
        context = await browser.new_context(
            viewport=viewport, locale="id-ID", timezone_id="Asia/Jakarta", permissions=["notifications"]
        )
        context.set_default_timeout(15_000)
        await context.add_init_script(PAGE_HOOKS)
        contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        await context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
