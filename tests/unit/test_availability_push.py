"""Availability pushes: only when ``available`` flips, coalesced to one a second (a fixed clock)."""

from __future__ import annotations

from collections.abc import Callable

from curhat.realtime.availability_push import AvailabilityPusher


class FakeLoop:
    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[tuple[float, Callable[[], None]]] = []

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        self.timers.append((self.now + delay, fn))

    def advance(self, to: float) -> None:
        self.now = to
        due = [t for t in self.timers if t[0] <= to]
        self.timers = [t for t in self.timers if t[0] > to]
        for _, fn in sorted(due, key=lambda t: t[0]):
            fn()


def _pusher(loop: FakeLoop, sent: list[tuple[bool, int]]) -> AvailabilityPusher:
    return AvailabilityPusher(
        lambda a, c: sent.append((a, c)), interval=1.0, clock=lambda: loop.now, call_later=loop.call_later
    )


def test_count_changes_alone_push_nothing() -> None:
    loop, sent = FakeLoop(), []
    p = _pusher(loop, sent)
    p.update(True, 1)
    for n in range(2, 50):
        p.update(True, n)
    assert sent == [(True, 1)]


def test_flips_within_a_second_are_coalesced_to_the_latest() -> None:
    loop, sent = FakeLoop(), []
    p = _pusher(loop, sent)
    p.update(True, 1)  # first answer: at once
    loop.advance(0.2)
    p.update(False, 0)  # too soon: waits for t = 1.0
    p.update(True, 3)  # flipped back before then
    p.update(False, 0)
    assert sent == [(True, 1)]
    loop.advance(1.0)
    assert sent == [(True, 1), (False, 0)]


def test_a_flip_back_before_the_push_sends_nothing() -> None:
    loop, sent = FakeLoop(), []
    p = _pusher(loop, sent)
    p.update(True, 1)
    loop.advance(0.5)
    p.update(False, 0)
    p.update(True, 2)
    loop.advance(1.0)
    assert sent == [(True, 1)]
    loop.advance(5.0)
    p.update(False, 0)  # long after the last push: at once
    assert sent == [(True, 1), (False, 0)]
