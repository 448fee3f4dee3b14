"""``curhat serve`` under pyinstrument, sampling on the process's CPU clock.

    python benchmarks/profiled_serve.py OUT.pyisession [-m curhat.cli.main serve]

With ``time.process_time`` as the sampler's clock, time the process spends waiting
(for PostgreSQL, Valkey or a socket) adds no samples, so the profile is CPU only. The
stacks are plain (no async attribution): what was running when the CPU was used.
"""

from __future__ import annotations

import sys
import time

from pyinstrument import Profiler
from pyinstrument.stack_sampler import get_stack_sampler


def main() -> None:
    out = sys.argv[1]
    get_stack_sampler().timer_func = time.process_time
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    try:
        from curhat.cli.main import app

        sys.argv = ["curhat", "serve"]
        app()
    except SystemExit:
        pass
    finally:
        session = profiler.stop()
        session.save(out)


if __name__ == "__main__":
    main()
