"""``/internal/price-tiers``: the control center's price list (operator token only)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from curhat.auth.deps import CurrentOperator
from curhat.kit.openapi import error_responses
from curhat.postgres import SessionDep
from curhat.pricing import service
from curhat.pricing.schemas import (
    PriceTierAdminOut,
    PriceTierCreateIn,
    PriceTierListOut,
    PriceTierPatchIn,
)

router = APIRouter(prefix="/internal/price-tiers", tags=["price tiers"])


@router.get("", responses=error_responses())
async def list_price_tiers(operator: CurrentOperator, session: SessionDep) -> PriceTierListOut:
    """Every tier, inactive ones included, in the customer's order (sort_order, then duration)."""
    rows = await service.list_all_tiers(session)
    return PriceTierListOut(rows=[PriceTierAdminOut.model_validate(r) for r in rows])


@router.post("", status_code=201, responses=error_responses((409, "tier_duration_taken")))
async def create_price_tier(
    body: PriceTierCreateIn, operator: CurrentOperator, session: SessionDep
) -> PriceTierAdminOut:
    """A new active tier; ``sort_order`` defaults to the duration."""
    tier = await service.create_tier(
        session, duration_minutes=body.duration_minutes, amount=body.amount, sort_order=body.sort_order
    )
    return PriceTierAdminOut.model_validate(tier)


@router.patch(
    "/{tier_id}",
    responses=error_responses((404, "price_tier_not_found"), (409, "tier_duration_taken")),
)
async def patch_price_tier(
    tier_id: uuid.UUID, body: PriceTierPatchIn, operator: CurrentOperator, session: SessionDep
) -> PriceTierAdminOut:
    """Change the amount or order; ``is_active: false`` deactivates (tiers are never deleted)."""
    tier = await service.update_tier(
        session, tier_id, amount=body.amount, is_active=body.is_active, sort_order=body.sort_order
    )
    return PriceTierAdminOut.model_validate(tier)
