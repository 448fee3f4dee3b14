"""Price tiers: list, add, edit amount and order, deactivate and reactivate."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from curhat.errors import CurhatError
from curhat.postgres import SessionDep
from curhat.pricing import service
from curhat.pricing.schemas import PriceTierCreateIn, PriceTierPatchIn
from curhat.web.control_center import labels, render
from curhat.web.control_center.forms import fields, optional_int, parse
from curhat.web.control_center.sessions import CurrentOperatorPage, Operator

router = APIRouter()


async def _page(
    request: Request,
    operator: Operator,
    session: SessionDep,
    *,
    new: dict[str, str] | None = None,
    new_errors: dict[str, str] | None = None,
    edit_id: uuid.UUID | None = None,
    edit: dict[str, str] | None = None,
    edit_errors: dict[str, str] | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "operator": operator,
        "tiers": await service.list_all_tiers(session),
        "new": new or {"duration_minutes": "", "amount": "", "sort_order": ""},
        "new_errors": new_errors or {},
        "edit_id": edit_id,
        "edit": edit or {},
        "edit_errors": edit_errors or {},
    }
    failed = bool(new_errors or edit_errors)
    return render.page(request, "price_tiers.html", context, status=400 if failed else 200, section="tiers")


@router.get("/price-tiers")
async def price_tiers(request: Request, operator: CurrentOperatorPage, session: SessionDep) -> HTMLResponse:
    return await _page(request, operator, session)


@router.post("/price-tiers", response_model=None)
async def create(request: Request, operator: CurrentOperatorPage, session: SessionDep) -> Response:
    form = await fields(request, "duration_minutes", "amount", "sort_order")
    data = {k: optional_int(v) for k, v in form.items()}
    body, errors = parse(PriceTierCreateIn, data)
    if body is not None:
        try:
            tier = await service.create_tier(
                session,
                duration_minutes=body.duration_minutes,
                amount=body.amount,
                sort_order=body.sort_order,
            )
        except CurhatError as exc:
            errors = {"duration_minutes": exc.message}
        else:
            message = f"Tier added: {tier.duration_minutes} min for {labels.rupiah(tier.amount)}."
            return render.redirect(request, "/cc/price-tiers", success=message, target=str(tier.id))
    return await _page(request, operator, session, new=form, new_errors=errors)


@router.post("/price-tiers/{tier_id}", response_model=None)
async def edit(
    request: Request, tier_id: uuid.UUID, operator: CurrentOperatorPage, session: SessionDep
) -> Response:
    form = await fields(request, "amount", "sort_order")
    body, errors = parse(PriceTierPatchIn, {k: optional_int(v) for k, v in form.items()})
    if body is not None:
        tier = await service.update_tier(session, tier_id, amount=body.amount, sort_order=body.sort_order)
        message = f"Saved: {tier.duration_minutes} min now {labels.rupiah(tier.amount)}."
        return render.redirect(request, "/cc/price-tiers", success=message, target=str(tier_id))
    return await _page(request, operator, session, edit_id=tier_id, edit=form, edit_errors=errors)


async def _set_active(
    request: Request, session: SessionDep, tier_id: uuid.UUID, active: bool
) -> RedirectResponse:
    try:
        tier = await service.update_tier(session, tier_id, is_active=active)
    except service.TierDurationTaken as exc:
        return render.redirect(request, "/cc/price-tiers", error=exc.message, target=str(tier_id))
    state = "active again" if active else "deactivated (customers no longer see it)"
    message = f"The {tier.duration_minutes} min tier is {state}."
    return render.redirect(request, "/cc/price-tiers", success=message, target=str(tier_id))


@router.post("/price-tiers/{tier_id}/deactivate")
async def deactivate(
    request: Request, tier_id: uuid.UUID, operator: CurrentOperatorPage, session: SessionDep
) -> RedirectResponse:
    return await _set_active(request, session, tier_id, False)


@router.post("/price-tiers/{tier_id}/activate")
async def activate(
    request: Request, tier_id: uuid.UUID, operator: CurrentOperatorPage, session: SessionDep
) -> RedirectResponse:
    return await _set_active(request, session, tier_id, True)
