"""Every benchmark at its smoke size on one shared server (what CI runs; seconds, not timed).

    .venv/bin/python benchmarks/smoke.py [--charts DIR] [--data-dir DIR] [--only p3,p5]

Starting embedded PostgreSQL, Valkey and ``curhat serve`` costs tens of seconds on a busy
2-core machine, so the benchmarks share one stack here instead of starting one each.
"""

from __future__ import annotations

import argparse
import sys

import accept_race
import blast
import chat_relay
import deadlines
import idle_sockets
import instances
import load
from harness import Server, parser_for, raise_fd_limit, run_main, server_settings, stack

BENCHMARKS = {
    "load": load,
    "p3": blast,
    "p4": accept_race,
    "p5": chat_relay,
    "p6": idle_sockets,
    "p7": deadlines,
    "p8": instances,
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--charts", default=None)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--only", default=",".join(BENCHMARKS))
    opts = p.parse_args()
    chosen = [BENCHMARKS[name] for name in opts.only.split(",")]
    runs = []
    for module in chosen:
        extra = ["--smoke"] + (["--charts", opts.charts] if opts.charts else [])
        args = parser_for(module.__doc__, module.add_arguments).parse_args(extra)
        for key, value in module.SMOKE.items():
            setattr(args, key, value)
        runs.append((module, args))
    raise_fd_limit()
    with stack(opts.data_dir, **server_settings()) as settings:
        server = Server(settings).start()
        try:

            async def all_of_them() -> None:
                for module, args in runs:
                    await module.run(args, server)

            run_main(all_of_them)
        finally:
            server.stop()
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
