"""Price tiers with free-trial marking; extension tiers are never free.

A tier whose own amount is 0 can only ever be bought as a free trial (the schema's
``(amount = 0) = is_free_trial`` check): customers who are not eligible do not see it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from curhat.app_config.service import ConfigSnapshot
from curhat.errors import Conflict, NotFound, ValidationFailed
from curhat.models import PaymentSession, PriceTier
from curhat.pricing import repository


class TierDurationTaken(Conflict):
    code = "tier_duration_taken"
    message = "Sudah ada paket aktif dengan durasi ini."


class PriceTierNotFound(NotFound):
    code = "price_tier_not_found"
    message = "Paket harga tidak ditemukan."


@dataclass(frozen=True)
class PricedTier:
    id: uuid.UUID
    duration_minutes: int
    amount: int
    is_free_trial: bool


@dataclass(frozen=True)
class PriceList:
    tiers: list[PricedTier]
    free_trial_eligible: bool


async def is_customer_eligible_for_free_trial(
    session: AsyncSession, customer_id: uuid.UUID, config: ConfigSnapshot
) -> bool:
    """Eligible = the trial is enabled and the customer never consumed a free-trial session."""
    if config.free_trial_max_duration_minutes <= 0:
        return False
    return not await has_consumed_free_trial(session, customer_id)


async def has_consumed_free_trial(session: AsyncSession, customer_id: uuid.UUID) -> bool:
    used = await session.scalar(
        select(
            exists().where(
                PaymentSession.customer_id == customer_id,
                PaymentSession.is_free_trial.is_(True),
                PaymentSession.status == "consumed",
            )
        )
    )
    return bool(used)


def _price(tier: PriceTier, *, eligible: bool, limit: int) -> PricedTier | None:
    free = eligible and tier.duration_minutes <= limit
    if free:
        return PricedTier(tier.id, tier.duration_minutes, 0, True)
    if tier.amount == 0:
        return None  # a trial-only tier
    return PricedTier(tier.id, tier.duration_minutes, tier.amount, False)


async def get_price_tiers(session: AsyncSession, customer_id: uuid.UUID, config: ConfigSnapshot) -> PriceList:
    """Active tiers for a first chat, ordered by sort_order then duration."""
    eligible = await is_customer_eligible_for_free_trial(session, customer_id, config)
    limit = config.free_trial_max_duration_minutes
    priced = [_price(t, eligible=eligible, limit=limit) for t in await repository.active_tiers(session)]
    return PriceList([p for p in priced if p is not None], eligible)


async def get_extension_price_tiers(
    session: AsyncSession, customer_id: uuid.UUID, config: ConfigSnapshot
) -> PriceList:
    """Active tiers for an extension: never free (``free_trial_eligible`` is false here too)."""
    priced = [_price(t, eligible=False, limit=0) for t in await repository.active_tiers(session)]
    return PriceList([p for p in priced if p is not None], False)


async def quote(
    session: AsyncSession,
    customer_id: uuid.UUID,
    config: ConfigSnapshot,
    *,
    duration_minutes: int,
    tier_id: uuid.UUID | None = None,
    is_extension: bool = False,
) -> PricedTier:
    """The price of one purchase; 400 validation_error when no active tier matches."""
    tier = await repository.active_tier_by_duration(session, duration_minutes)
    if tier is None:
        raise ValidationFailed(
            [{"field": "duration_minutes", "message": "Tidak ada paket aktif dengan durasi ini."}]
        )
    if tier_id is not None and tier.id != tier_id:
        raise ValidationFailed([{"field": "tier_id", "message": "Paket tidak cocok dengan durasi."}])
    if is_extension:
        priced = _price(tier, eligible=False, limit=0)
    else:
        eligible = await is_customer_eligible_for_free_trial(session, customer_id, config)
        priced = _price(tier, eligible=eligible, limit=config.free_trial_max_duration_minutes)
    if priced is None:
        raise ValidationFailed(
            [{"field": "duration_minutes", "message": "Paket ini hanya tersedia sebagai uji coba gratis."}]
        )
    return priced


# -- control center ---------------------------------------------------------------


async def list_all_tiers(session: AsyncSession) -> list[PriceTier]:
    return await repository.all_tiers(session)


async def create_tier(
    session: AsyncSession, *, duration_minutes: int, amount: int, sort_order: int | None = None
) -> PriceTier:
    if sort_order is None:
        sort_order = duration_minutes
    tier = await repository.insert_active_tier(session, duration_minutes, amount, sort_order)
    if tier is None:
        raise TierDurationTaken()
    return tier


async def update_tier(
    session: AsyncSession,
    tier_id: uuid.UUID,
    *,
    amount: int | None = None,
    is_active: bool | None = None,
    sort_order: int | None = None,
) -> PriceTier:
    values: dict[str, object] = {}
    if amount is not None:
        values["amount"] = amount
    if is_active is not None:
        values["is_active"] = is_active
    if sort_order is not None:
        values["sort_order"] = sort_order
    if not values:
        tier = await repository.tier_by_id(session, tier_id)
        if tier is None:
            raise PriceTierNotFound()
        return tier
    try:
        # Re-activating onto a duration another active tier holds trips the partial unique index.
        async with session.begin_nested():
            tier = await repository.update_tier(session, tier_id, values)
    except IntegrityError:
        raise TierDurationTaken() from None
    if tier is None:
        raise PriceTierNotFound()
    return tier
