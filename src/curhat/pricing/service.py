"""Price tiers with free-trial marking; extension tiers are never free."""

from __future__ import annotations

import uuid

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from curhat.app_config.service import ConfigSnapshot
from curhat.models import PaymentSession


async def is_customer_eligible_for_free_trial(
    session: AsyncSession, customer_id: uuid.UUID, config: ConfigSnapshot
) -> bool:
    """Eligible = the trial is enabled and the customer never consumed a free-trial session."""
    if config.int("free_trial_max_duration_minutes") <= 0:
        return False
    used = await session.scalar(
        select(
            exists().where(
                PaymentSession.customer_id == customer_id,
                PaymentSession.is_free_trial.is_(True),
                PaymentSession.status == "consumed",
            )
        )
    )
    return not used
