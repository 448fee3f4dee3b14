"""The embedded PostgreSQL is stopped by the last live process, even after a sibling was SIGKILLed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from curhat.embedded import EmbeddedPostgres, _pid_alive


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _gone(pid: int, within: float = 10) -> bool:
    """pg_ctl has stopped it; the exited process may take a moment to be reaped."""
    deadline = time.monotonic() + within
    while _pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_last_survivor_stops_postgres_although_a_killed_sibling_is_still_listed(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "postgres")
    pg.start()
    handles = tmp_path / "postgres" / ".handle_pids.json"
    postmaster = int((tmp_path / "postgres" / "postmaster.pid").read_text().split()[0])
    # What a SIGKILLed sibling leaves behind: its pid in the handle list, never removed.
    handles.write_text(json.dumps([*json.loads(handles.read_text()), _dead_pid()]))
    try:
        pg.stop()
        assert _gone(postmaster)
    finally:
        if _pid_alive(postmaster):  # the bug: do not leave it running after the test
            os.kill(postmaster, signal.SIGINT)
    assert json.loads(handles.read_text()) == []
