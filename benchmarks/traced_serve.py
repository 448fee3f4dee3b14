"""``curhat serve`` with tracemalloc: each SIGUSR1 writes a snapshot (P6's allocation sites).

    python benchmarks/traced_serve.py OUT_PREFIX

Tracing starts at the first SIGUSR1 (tracing from start-up would make start-up minutes
long), so the snapshots show what was allocated after it and is still alive. Snapshot ``k``
(from 0) goes to ``OUT_PREFIX.k``, then ``OUT_PREFIX.k.done`` is created, so the caller
knows it is complete. Tracing costs memory and time: RSS figures of a traced server mean
nothing; the snapshots' differences are the result.
"""

from __future__ import annotations

import contextlib
import gc
import signal
import sys
import tracemalloc
from pathlib import Path
from types import FrameType

FRAMES = 12


def main() -> None:
    prefix = sys.argv[1]
    taken = 0

    def snapshot(signum: int, frame: FrameType | None) -> None:
        nonlocal taken
        if not tracemalloc.is_tracing():
            tracemalloc.start(FRAMES)
        gc.collect()
        path = f"{prefix}.{taken}"
        tracemalloc.take_snapshot().dump(path)
        Path(f"{path}.done").touch()
        taken += 1

    signal.signal(signal.SIGUSR1, snapshot)
    from curhat.cli.main import app

    sys.argv = ["curhat", "serve"]
    with contextlib.suppress(SystemExit):
        app()


if __name__ == "__main__":
    main()
