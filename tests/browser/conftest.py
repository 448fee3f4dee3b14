from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.browser.actors import Backoffice
from tests.fixtures.server import ServerProcess


@pytest.fixture
async def office(web_server: ServerProcess) -> AsyncIterator[Backoffice]:
    """Accounts and settings for one test; its mitras go offline afterwards (the server is shared)."""
    backoffice = await Backoffice.start(web_server)
    yield backoffice
    await backoffice.close()
