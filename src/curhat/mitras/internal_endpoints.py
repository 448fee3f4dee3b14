"""``/internal/mitras``: the control center's mitra accounts (operator token only)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from curhat.auth.deps import CurrentOperator
from curhat.deps import ConfigDep, PasswordsDep, PresenceDep
from curhat.kit.openapi import error_responses
from curhat.kit.pagination import PageDep
from curhat.mitras import service
from curhat.mitras.schemas import MitraAdminListOut, MitraAdminOut, MitraCreateIn, MitraPatchIn
from curhat.postgres import SessionDep

router = APIRouter(prefix="/internal/mitras", tags=["mitras"])


def _out(row: service.MitraLive) -> MitraAdminOut:
    m = row.mitra
    return MitraAdminOut(
        id=m.id,
        phone=m.phone,
        display_name=m.display_name,
        is_active=m.is_active,
        created_at=m.created_at,
        online=row.online,
        active_sessions=row.active_sessions,
        capacity=row.capacity,
    )


@router.get("", responses=error_responses())
async def list_mitras(
    operator: CurrentOperator, session: SessionDep, page: PageDep, presence: PresenceDep, config: ConfigDep
) -> MitraAdminListOut:
    """Newest first, with live ``online`` / ``active_sessions`` and the current ``capacity``."""
    rows, total = await service.list_mitras(session, presence, config, page)
    return MitraAdminListOut(rows=[_out(r) for r in rows], total=total)


@router.post("", status_code=201, responses=error_responses((409, "phone_taken")))
async def create_mitra(
    body: MitraCreateIn,
    operator: CurrentOperator,
    session: SessionDep,
    presence: PresenceDep,
    config: ConfigDep,
    passwords: PasswordsDep,
) -> MitraAdminOut:
    """Create a mitra account; 409 phone_taken when the phone is in use."""
    row = await service.create_mitra(
        session, presence, config, passwords, body.phone, body.display_name, body.password
    )
    return _out(row)


@router.patch("/{mitra_id}", responses=error_responses((404, "mitra_not_found")))
async def patch_mitra(
    mitra_id: uuid.UUID,
    body: MitraPatchIn,
    operator: CurrentOperator,
    session: SessionDep,
    presence: PresenceDep,
    config: ConfigDep,
    passwords: PasswordsDep,
) -> MitraAdminOut:
    """Deactivating (``is_active: false``) also takes the mitra offline."""
    changes = service.MitraChanges(
        is_active=body.is_active, display_name=body.display_name, password=body.password
    )
    return _out(await service.update_mitra(session, presence, config, passwords, mitra_id, changes))
