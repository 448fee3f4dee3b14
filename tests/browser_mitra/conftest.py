"""Fixtures of the mitra app's browser tests: the operator's back office and the two apps' pages."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect

from tests.browser.actors import Backoffice
from tests.fixtures.browser import OpenPage, fresh_contexts
from tests.fixtures.server import ServerProcess

# Every Notification the page creates is recorded (the real one still runs), so are the
# chime's oscillators, vibrations and wake-lock requests; the page's visibility can be
# switched, because headless chromium has no window to hide.
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
  window.__wakeLocks = [];
  if (navigator.wakeLock) {
    const request = navigator.wakeLock.request.bind(navigator.wakeLock);
    navigator.wakeLock.request = (type) => {
      window.__wakeLocks.push(type);
      return request(type);
    };
  }
  let hidden = false;
  Object.defineProperty(Document.prototype, "visibilityState", { get: () => (hidden ? "hidden" : "visible") });
  Object.defineProperty(Document.prototype, "hidden", { get: () => hidden });
  window.__setHidden = (value) => {
    hidden = value;
    document.dispatchEvent(new Event("visibilitychange"));
  };
})();
"""


# Two apps and a server share two cores with everything else a CI machine runs: an event
# crossing from one app to the other gets more than the default 5 s before a check fails.
expect.set_options(timeout=10_000)


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
    async with fresh_contexts(browser, init_script=PAGE_HOOKS, permissions=["notifications"]) as make:
        yield make
