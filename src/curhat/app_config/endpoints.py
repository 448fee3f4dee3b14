from __future__ import annotations

from fastapi import APIRouter

from curhat.app_config import repository
from curhat.app_config.definitions import CONFIG_KEYS
from curhat.app_config.schemas import ConfigListOut, ConfigPatchIn, ConfigRowOut
from curhat.auth.deps import CurrentOperator
from curhat.deps import ConfigServiceDep
from curhat.kit.openapi import error_responses
from curhat.models import AppConfig
from curhat.postgres import SessionDep

router = APIRouter(prefix="/internal/config", tags=["config"])


def _row(row: AppConfig) -> ConfigRowOut:
    d = CONFIG_KEYS[row.key]
    try:
        value = d.parse(row.value)
    except ValueError:
        value = d.default
    return ConfigRowOut(
        key=row.key,
        value=value,
        type=d.type,
        label=d.label,
        description=d.description,
        min=d.min,
        max=d.max,
        choices=list(d.choices) if d.choices else None,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


@router.get("", responses=error_responses())
async def list_config(operator: CurrentOperator, session: SessionDep) -> ConfigListOut:
    """Every business setting with its Indonesian label, explanation, range, and who changed it when."""
    rows = [r for r in await repository.all_rows(session) if r.key in CONFIG_KEYS]
    return ConfigListOut(rows=[_row(r) for r in rows])


@router.patch(
    "/{key}",
    responses=error_responses((404, "config_key_not_found")),
)
async def patch_config(
    key: str,
    body: ConfigPatchIn,
    operator: CurrentOperator,
    session: SessionDep,
    config: ConfigServiceDep,
) -> ConfigRowOut:
    """Every instance reloads the settings once this change has committed."""
    return _row(await config.update(session, key, body.value, operator.id))
