"""Every benchmark and the load tool run at smoke size and print their tables.

CI proves they work; it does not time them (quality.md: benchmarks are not timed tests).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_smoke(script: str, tmp_path: Path, *extra: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / script),
            "--smoke",
            "--data-dir",
            str(tmp_path / "data"),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_load_tool_runs_the_apps_flows_and_reports_pairings(tmp_path: Path) -> None:
    out = run_smoke("load.py", tmp_path)
    assert "GET availability" in out and "chat message relay (ws)" in out
    assert "server CPU" in out and "PostgreSQL pool:" in out
    assert "operator simulator: pairings" in out and "matched" in out
