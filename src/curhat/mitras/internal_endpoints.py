"""``/internal/mitras``: the control center's mitra accounts (operator token only)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, BackgroundTasks, Request

from curhat.auth.deps import CurrentOperator
from curhat.internal.schemas import PageDep, error_responses
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
    operator: CurrentOperator, session: SessionDep, page: PageDep, request: Request
) -> MitraAdminListOut:
    """Newest first, with live ``online`` / ``active_sessions`` and the current ``capacity``."""
    rows, total = await service.list_mitras(session, request.app.state.runtime, page)
    return MitraAdminListOut(rows=[_out(r) for r in rows], total=total)


@router.post("", status_code=201, responses=error_responses((409, "phone_taken")))
async def create_mitra(
    body: MitraCreateIn, operator: CurrentOperator, session: SessionDep, request: Request
) -> MitraAdminOut:
    row = await service.create_mitra(
        session, request.app.state.runtime, body.phone, body.display_name, body.password
    )
    return _out(row)


@router.patch("/{mitra_id}", responses=error_responses((404, "mitra_not_found")))
async def patch_mitra(
    mitra_id: uuid.UUID,
    body: MitraPatchIn,
    operator: CurrentOperator,
    session: SessionDep,
    request: Request,
    background: BackgroundTasks,
) -> MitraAdminOut:
    """Deactivating (``is_active: false``) also takes the mitra offline."""
    runtime = request.app.state.runtime
    changes = service.MitraChanges(
        is_active=body.is_active, display_name=body.display_name, password=body.password
    )
    row, deactivated = await service.update_mitra(session, runtime, mitra_id, changes)
    if deactivated:
        # Background tasks run after the response, i.e. after the session dependency committed.
        background.add_task(service.set_offline_after_deactivation, runtime, mitra_id)
    return _out(row)
