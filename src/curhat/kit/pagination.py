"""Limit/offset paging for list endpoints, and the ``{rows, total}`` page they answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
# Far beyond any real table, and well inside PostgreSQL's bigint OFFSET.
MAX_OFFSET = 1_000_000_000


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def paging(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="rows per page (1–200)")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page:
    return Page(limit, offset)


PageDep = Annotated[Page, Depends(paging)]
