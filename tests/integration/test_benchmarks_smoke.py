"""The load tool and the P3–P8 benchmarks run at smoke size and print their tables.

CI proves they work; it does not time them (quality.md: benchmarks are not timed tests).
One run of ``benchmarks/smoke.py`` shares one server between them to keep this short.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_every_benchmark_completes_and_prints_its_table(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    charts = tmp_path / "charts"
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "smoke.py"),
            "--charts",
            str(charts),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        timeout=540,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    text = out.stdout
    # the load tool and the operator simulator
    assert "GET availability" in text and "chat message relay (ws)" in text
    assert "PostgreSQL pool:" in text and "operator simulator: pairings" in text and "matched" in text
    # each benchmark's table, with its same-run baseline and server CPU per operation
    for title, columns in {
        "P3 blast fan-out": ("bare p99", "CPU ms/blast"),
        "P4 accept race": ("concurrent GET /healthz", "server CPU per race"),
        "P5 chat relay": ("bare p99", "CPU ms/msg"),
        "P6 idle WebSockets": ("bare KiB/socket", "KiB/socket"),
        "P7 deadlines": ("bare p99", "CPU ms/deadline"),
        "P8 scale-out": ("chat: 2 instances", "blast: 1 instance", "CPU ms/op", "cross"),
    }.items():
        table = text.split(title, 1)[1]
        assert all(column in table for column in columns), title
    assert "races with exactly one winner: 3/3" in text
    assert "stored in PostgreSQL: 60 of 60 sent" in text
    assert "stored in PostgreSQL: 40 of 40 sent" in text.split("P8 scale-out", 1)[1]
    assert "each fired once" in text and " yes" in text.split("P7 deadlines", 1)[1]
    for png in ("p3-blast.png", "p5-chat.png"):
        assert (charts / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
