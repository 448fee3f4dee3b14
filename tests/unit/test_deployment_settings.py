"""Settings a deployment behind a proxy, over shared PostgreSQL + Valkey, depends on."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from curhat.cli.serve import _uvicorn_config
from curhat.config import MisconfiguredDeployment, Settings

DB = "postgresql+asyncpg://curhat:secret@db.internal/curhat"


def test_an_external_database_needs_a_shared_valkey_and_jwt_secret() -> None:
    with pytest.raises(MisconfiguredDeployment, match="CURHAT_VALKEY_URL"):
        Settings(database_url=DB, jwt_secret="s").check_deployment()
    with pytest.raises(MisconfiguredDeployment, match="CURHAT_JWT_SECRET"):
        Settings(database_url=DB, valkey_url="redis://v:6379/0").check_deployment()
    Settings(database_url=DB, valkey_url="redis://v:6379/0", jwt_secret="s").check_deployment()
    # One instance on purpose: the embedded Valkey is allowed when asked for explicitly.
    Settings(database_url=DB, jwt_secret="s", allow_embedded_valkey=True).check_deployment()
    Settings().check_deployment()  # make run: everything embedded


def test_serve_refuses_to_start_with_a_clear_message() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CURHAT_")}
    env["CURHAT_DATABASE_URL"] = DB
    proc = subprocess.run(
        [sys.executable, "-m", "curhat.cli.main", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "CURHAT_VALKEY_URL" in proc.stderr and "CURHAT_JWT_SECRET" in proc.stderr


def test_ws_origins_include_the_public_url() -> None:
    s = Settings(public_url="https://curhat.example.com/", ws_origins="https://app.example.com")
    assert set(s.ws_origin_list) == {"https://curhat.example.com", "https://app.example.com"}
    assert Settings(public_url="https://curhat.example.com:8443/app").ws_origin_list == [
        "https://curhat.example.com:8443"
    ]


def test_forwarded_addresses_are_trusted_only_from_the_configured_proxies() -> None:
    config = _uvicorn_config(object(), "0.0.0.0", 8000, forwarded_allow_ips="10.0.0.5,10.0.1.0/24")
    assert config.proxy_headers is True
    assert config.forwarded_allow_ips == "10.0.0.5,10.0.1.0/24"
    assert Settings().forwarded_allow_ips == "127.0.0.1"
