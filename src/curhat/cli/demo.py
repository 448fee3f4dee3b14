"""Demo accounts: one operator, three mitras, two customers. Running it twice changes nothing."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.auth import repository, service
from curhat.auth.passwords import PasswordHashing

OPERATOR = ("operator@curhat.test", "operator-demo-1", "Operator Demo")
MITRAS = [
    ("+6281100000001", "bestie-demo-1", "Bestie Ayu"),
    ("+6281100000002", "bestie-demo-2", "Bestie Bima"),
    ("+6281100000003", "bestie-demo-3", "Bestie Citra"),
]
CUSTOMERS = [
    ("+6281200000001", "customer-demo-1", "Dina"),
    ("+6281200000002", "customer-demo-2", "Eko"),
]


async def create_demo_data(session: AsyncSession, passwords: PasswordHashing) -> list[str]:
    email, password, name = OPERATOR
    if await repository.operator_by_email(session, email) is None:
        await service.create_operator(session, passwords, email, password, name)
    lines = [
        "Demo accounts (control center at /cc/ on the internal listener):",
        f"  operator  {email} / {password}",
    ]
    for phone, password, name in MITRAS:
        if await repository.mitra_by_phone(session, phone) is None:
            await service.create_mitra(session, passwords, phone, password, name)
        lines.append(f"  mitra     {phone} / {password}  ({name}, app at /mitra/)")
    for phone, password, name in CUSTOMERS:
        if await repository.customer_by_phone(session, phone) is None:
            await service.register_customer(session, passwords, phone, password, name)
        lines.append(f"  customer  {phone} / {password}  ({name}, app at /)")
    return lines


async def existing_demo_accounts(session: AsyncSession) -> list[str]:
    """The demo accounts this database holds (``curhat demo-data`` ran), one line each, for the
    start-up banner of a terminal session."""
    email, password, _ = OPERATOR
    lines = []
    if await repository.operator_by_email(session, email) is not None:
        lines.append(f"operator  {email} / {password}  (control center)")
    for phone, password, name in MITRAS:
        if await repository.mitra_by_phone(session, phone) is not None:
            lines.append(f"mitra     {phone} / {password}  ({name}, mitra app)")
    for phone, password, name in CUSTOMERS:
        if await repository.customer_by_phone(session, phone) is not None:
            lines.append(f"customer  {phone} / {password}  ({name}, customer app)")
    return lines
