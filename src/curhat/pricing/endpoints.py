"""``/api/client/pricing``: the tiers a customer may buy now."""

from __future__ import annotations

from fastapi import APIRouter

from curhat.auth.deps import CurrentCustomer
from curhat.deps import ConfigDep
from curhat.kit.openapi import error_responses
from curhat.postgres import SessionDep
from curhat.pricing import service
from curhat.pricing.schemas import PricingOut, TierOut

router = APIRouter(prefix="/api/client/pricing", tags=["pricing"])

_ERRORS = error_responses()


def _out(prices: service.PriceList) -> PricingOut:
    return PricingOut(
        tiers=[
            TierOut(
                id=t.id, duration_minutes=t.duration_minutes, amount=t.amount, is_free_trial=t.is_free_trial
            )
            for t in prices.tiers
        ],
        free_trial_eligible=prices.free_trial_eligible,
    )


@router.get("", responses=_ERRORS)
async def get_pricing(principal: CurrentCustomer, session: SessionDep, config: ConfigDep) -> PricingOut:
    """Eligible customers see ``amount: 0, is_free_trial: true`` on tiers within the free-trial limit."""
    return _out(await service.get_price_tiers(session, principal.id, config))


@router.get("/extension", responses=_ERRORS)
async def get_extension_pricing(
    principal: CurrentCustomer, session: SessionDep, config: ConfigDep
) -> PricingOut:
    """Extension tiers: never a free trial."""
    return _out(await service.get_extension_price_tiers(session, principal.id, config))
