"""Set-based statement helpers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Uuid, any_, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import QueryableAttribute


def any_of(
    column: ColumnElement[uuid.UUID] | QueryableAttribute[uuid.UUID], ids: Sequence[uuid.UUID]
) -> ColumnElement[bool]:
    """``column = ANY(:ids)``: one array parameter, so a batch of any size is one cached statement
    (``IN`` would render, and prepare, a statement per list length)."""
    return column == any_(literal(list(ids), ARRAY(Uuid())))
