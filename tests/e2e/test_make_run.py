"""What `make run` does, on a fresh data directory: embedded servers, demo data, both listeners."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from curhat.cli.demo import CUSTOMERS, MITRAS, OPERATOR
from tests.fixtures.server import ServerProcess

pytestmark = pytest.mark.e2e


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_embedded_default_serves_demo_accounts_and_stops_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CURHAT_DATABASE_URL", "CURHAT_VALKEY_URL", "CURHAT_JWT_SECRET")
    }
    env["CURHAT_DATA_DIR"] = str(data_dir)
    demo = subprocess.run(
        [sys.executable, "-m", "curhat.cli.main", "demo-data"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    assert OPERATOR[0] in demo.stdout and MITRAS[0][0] in demo.stdout
    again = subprocess.run(
        [sys.executable, "-m", "curhat.cli.main", "demo-data"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0 and again.stdout == demo.stdout

    server = ServerProcess(env={"CURHAT_DATA_DIR": str(data_dir)})
    server.env.update({"CURHAT_DATABASE_URL": "", "CURHAT_VALKEY_URL": "", "CURHAT_JWT_SECRET": ""})
    try:
        server.start(timeout=120)
        ready = server.ready_line()
        assert ready["public"] == server.public_url + "/"
        assert ready["control_center"] == server.internal_url + "/cc/"
        with httpx.Client(timeout=10) as client:
            r = client.post(
                f"{server.public_url}/api/mitra/auth/login",
                json={"phone": MITRAS[0][0], "password": MITRAS[0][1]},
            )
            assert r.status_code == 200
            r = client.post(
                f"{server.public_url}/api/client/auth/login",
                json={"phone": CUSTOMERS[0][0], "password": CUSTOMERS[0][1]},
            )
            assert r.status_code == 200
            r = client.post(
                f"{server.internal_url}/internal/auth/login",
                json={"email": OPERATOR[0], "password": OPERATOR[1]},
            )
            assert r.status_code == 200
            assert client.get(f"{server.internal_url}/readyz").status_code == 200
            assert client.get(f"{server.public_url}/internal/config").status_code == 404
        # The embedded Valkey is reached through its socket in the data directory, no port.
        assert json.loads((data_dir / "valkey" / "server.json").read_text())["url"].startswith("unix://")
        # The secret was generated once into the data directory.
        assert (data_dir / "jwt_secret").read_text().strip()
    finally:
        code = server.stop()
    assert code == 0, "".join(server.output[-30:])
    valkey_state = data_dir / "valkey" / "server.json"
    assert not valkey_state.exists() or not _pid_alive(json.loads(valkey_state.read_text())["pid"])
    postmaster = data_dir / "postgres18" / "postmaster.pid"
    assert not postmaster.exists()
