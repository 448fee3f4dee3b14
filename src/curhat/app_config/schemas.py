from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class ConfigRowOut(BaseModel):
    key: str
    value: int | str
    type: str
    label: str
    description: str
    min: int | None = None
    max: int | None = None
    choices: list[str] | None = None
    updated_at: datetime | None
    updated_by: uuid.UUID | None


class ConfigListOut(BaseModel):
    rows: list[ConfigRowOut]


class ConfigPatchIn(BaseModel):
    value: int | str
