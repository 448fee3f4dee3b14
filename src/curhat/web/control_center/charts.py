"""Bar charts as geometry for inline SVG: the server draws them, the browser runs no script."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float
    value_x: float
    value_y: float
    tone: str


@dataclass(frozen=True)
class Chart:
    kind: Literal["rows", "columns"]
    title: str
    width: int
    height: int
    bars: list[Bar]
    axis: tuple[float, float, float, float]

    @property
    def summary(self) -> str:
        """What a screen reader hears instead of the picture."""
        return f"{self.title}: " + ", ".join(f"{b.label} {b.value}" for b in self.bars)

    @property
    def empty(self) -> bool:
        return all(b.value == 0 for b in self.bars)


Item = tuple[str, int, str]  # label, value, tone

ROW_HEIGHT = 30
LABEL_WIDTH = 210
ROWS_WIDTH = 640


def rows(title: str, items: Sequence[Item]) -> Chart:
    """Horizontal bars, one per item, labels on the left and the value after the bar."""
    top = max((v for _, v, _ in items), default=0) or 1
    area = ROWS_WIDTH - LABEL_WIDTH - 60
    bars = []
    for i, (label, value, tone) in enumerate(items):
        y = i * ROW_HEIGHT + 6
        width = area * value / top
        bars.append(
            Bar(
                label=label,
                value=value,
                x=LABEL_WIDTH,
                y=y,
                width=round(width, 1),
                height=ROW_HEIGHT - 10,
                label_x=LABEL_WIDTH - 8,
                label_y=y + (ROW_HEIGHT - 10) / 2 + 5,
                value_x=round(LABEL_WIDTH + width + 6, 1),
                value_y=y + (ROW_HEIGHT - 10) / 2 + 5,
                tone=tone,
            )
        )
    height = len(items) * ROW_HEIGHT + 8
    return Chart("rows", title, ROWS_WIDTH, height, bars, (LABEL_WIDTH, 0, LABEL_WIDTH, height))


COLUMNS_WIDTH = 560
COLUMNS_HEIGHT = 220
BOTTOM = 36
TOP = 24


def columns(title: str, labels: Sequence[str], counts: Sequence[int], tone: str = "neutral") -> Chart:
    """A histogram: one column per bucket, the bucket under it and the count above it."""
    top = max(counts, default=0) or 1
    slot = COLUMNS_WIDTH / max(len(counts), 1)
    area = COLUMNS_HEIGHT - BOTTOM - TOP
    base = COLUMNS_HEIGHT - BOTTOM
    bars = []
    for i, (label, value) in enumerate(zip(labels, counts, strict=True)):
        height = area * value / top
        x = i * slot + slot * 0.15
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(x, 1),
                y=round(base - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                label_x=round(i * slot + slot / 2, 1),
                label_y=base + 20,
                value_x=round(i * slot + slot / 2, 1),
                value_y=round(base - height - 6, 1),
                tone=tone,
            )
        )
    return Chart("columns", title, COLUMNS_WIDTH, COLUMNS_HEIGHT, bars, (0, base, COLUMNS_WIDTH, base))
