"""R6: fuzz both listeners' OpenAPI documents (schemathesis) against the real server process.

Every operation gets a bounded number of positive and negative examples, sent with a token of
the role the path belongs to. Two properties must hold for every response: no 5xx, and a
documented status code's body matches its schema. Failures are collected across operations and
reported together, each with a curl line to reproduce it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from curhat.app import create_internal_app, create_public_app
from curhat.config import Settings
from curhat.runtime import Runtime, running
from tests.fixtures.factories import make_customer, make_mitra, make_operator
from tests.fixtures.server import ServerProcess

EXAMPLES = 25  # per operation and generation mode; the whole test stays well under a minute
CHECKS = [not_a_server_error, response_schema_conformance]
# Operations whose every status code and content type must be documented, too.
STRICT_PREFIXES = ("/internal/mitras", "/internal/stats", "/internal/customers", "/internal/chat-sessions")
STRICT_CHECKS = [*CHECKS, status_code_conformance, content_type_conformance]


@dataclass
class Report:
    failures: list[str] = field(default_factory=list)
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


@pytest.fixture
async def seed(settings: Settings) -> AsyncIterator[Runtime]:
    async with running(settings, background=False) as rt:
        yield rt


def fuzz_operation(
    operation: schemathesis.APIOperation,
    mode: schemathesis.GenerationMode,
    base_url: str,
    headers: dict[str, str],
    report: Report,
) -> None:
    checks = STRICT_CHECKS if operation.path.startswith(STRICT_PREFIXES) else CHECKS

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=10)
        report.requests += 1
        report.statuses[response.status_code] = report.statuses.get(response.status_code, 0) + 1
        case.validate_response(response, checks=checks, headers=headers)

    try:
        run()
    except Unsatisfiable:
        pass  # nothing to negate (no parameters, no body)
    except (Exception, FailureGroup) as exc:  # a single failure, or several at once
        report.failures.append(f"{operation.label} [{mode.value}]: {exc}")


def fuzz(
    openapi: dict[str, Any], base_url: str, headers_for: Callable[[str], dict[str, str]], report: Report
) -> None:
    schema = schemathesis.openapi.from_dict(openapi)
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            fuzz_operation(operation, mode, base_url, headers_for(operation.path), report)


@pytest.mark.timeout(600)  # ~2 250 requests: ~30 s on a quiet 2-core machine, minutes on a busy one
async def test_both_listeners_survive_fuzzing(server: ServerProcess, seed: Runtime) -> None:
    customer = await make_customer(seed)
    mitra = await make_mitra(seed)
    operator = await make_operator(seed)

    def headers_for(path: str) -> dict[str, str]:
        if path.startswith("/internal/"):
            return operator.headers
        if path.startswith("/api/mitra/"):
            return mitra.headers
        return customer.headers

    report = Report()
    started = time.monotonic()
    public_doc = create_public_app(seed).openapi()
    internal_doc = create_internal_app(seed).openapi()
    await asyncio.to_thread(fuzz, internal_doc, server.internal_url, headers_for, report)
    await asyncio.to_thread(fuzz, public_doc, server.public_url, headers_for, report)
    elapsed = time.monotonic() - started
    print(f"fuzzed {report.requests} requests in {elapsed:.1f}s: {sorted(report.statuses.items())}")
    assert report.requests > 0
    server_log = "".join(server.output[-60:])
    assert not report.failures, "\n\n".join(report.failures) + "\n\nserver log (tail):\n" + server_log
