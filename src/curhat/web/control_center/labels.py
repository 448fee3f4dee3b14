"""What operators read instead of codes: cause and action labels, rupiah, times."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from curhat.models.pairing_failure import CAUSE_TAGS, OPERATOR_ACTIONS

CAUSE_LABELS: dict[str, str] = {
    "no_mitra_available": "No mitra available",
    "all_mitras_rejected": "All mitras rejected",
    "targeted_mitra_offline": "Chosen mitra offline",
    "targeted_mitra_rejected": "Chosen mitra declined",
    "targeted_mitra_timeout": "Chosen mitra did not answer",
    "payment_session_expired": "Payment expired unused",
    "customer_cancelled": "Customer cancelled",
}

ACTION_LABELS: dict[str, str] = {"refunded": "Refunded", "credited": "Credited", "no_action": "No action"}
# The per-row menu's wording (product.md).
ACTION_MENU: dict[str, str] = {
    "refunded": "Mark as refunded",
    "credited": "Mark as credited",
    "no_action": "Mark as no-action",
}

assert set(CAUSE_LABELS) == set(CAUSE_TAGS), "every cause tag needs a label"
assert set(ACTION_LABELS) == set(OPERATOR_ACTIONS), "every operator action needs a label"


def cause_label(tag: str) -> str:
    return CAUSE_LABELS.get(tag, tag)


def action_label(action: str | None) -> str:
    return ACTION_LABELS.get(action, action) if action else ""


def rupiah(amount: int) -> str:
    """``Rp 15.000``: dot as thousands separator, no decimals (product.md)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(amount):,}".replace(",", ".")


def when(value: datetime | None) -> str:
    """Times in UTC, like the API and the date filters, so a row and its filter always agree."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 60:
        return f"{value:.1f} s"
    return f"{int(value // 60)} min {int(value % 60)} s"


def edge(value: float) -> str:
    return f"{int(value)} s" if value < 60 or value % 60 else f"{int(value // 60)} min"


def bucket_labels(edges: tuple[float, ...]) -> list[str]:
    """``< 5 s``, ``5–10 s``, …, ``≥ 1 min`` for the histogram buckets of ``edges``."""
    if not edges:
        return ["all"]
    labels = [f"< {edge(edges[0])}"]
    labels += [f"{edge(a)}–{edge(b)}" for a, b in itertools.pairwise(edges)]
    labels.append(f"≥ {edge(edges[-1])}")
    return labels
