"""Process settings, read from the environment (prefix ``CURHAT_``) and CLI flags."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MisconfiguredDeployment(ValueError):
    """Settings that would run, but not as a working deployment (refused at start-up)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CURHAT_", extra="ignore")

    database_url: str | None = None
    valkey_url: str | None = None
    data_dir: Path = Path(".curhat")

    public_host: str = "127.0.0.1"
    public_port: int = 8000
    internal_host: str = "127.0.0.1"
    internal_port: int = 8001

    jwt_secret: str | None = None
    jwt_ttl_seconds: int = 12 * 3600

    bootstrap_operator_email: str | None = None
    bootstrap_operator_password: str | None = None

    sweeper_interval_seconds: float = 60.0
    # PostgreSQL connections per use, so a burst in one cannot starve the others: requests
    # (HTTP and socket commands) get ``db_pool_size`` + ``db_pool_overflow``; the deadline
    # runner and the payment sweeper each have their own small pool.
    db_pool_size: int = Field(default=10, ge=1)
    db_pool_overflow: int = Field(default=10, ge=0)
    db_deadline_pool_size: int = Field(default=4, ge=1)
    db_sweeper_pool_size: int = Field(default=1, ge=1)
    # A request waits at most this long for a connection, then answers 503 + Retry-After.
    db_pool_timeout_seconds: float = Field(default=2.5, gt=0)
    # Background work (deadlines, sweeps) may wait longer: nobody is waiting on an answer.
    db_background_pool_timeout_seconds: float = Field(default=30.0, gt=0)
    # Backstop poll for deadlines whose in-process timer lives on a dead instance.
    deadline_poll_interval_seconds: float = 0.5
    presence_ttl_seconds: int = 30
    # Comma-separated extra origins allowed by CORS on the internal listener.
    cc_origins: str = ""
    # Comma-separated origins allowed to open /ws besides the public listener's own.
    ws_origins: str = ""
    # Every Valkey key and channel starts with this; lets tests (or tenants) share a server.
    valkey_prefix: str = "curhat:"
    login_attempts_per_window: int = Field(default=10, ge=1)
    login_window_seconds: int = Field(default=300, ge=1)
    # Sign-ups per client address per window: each costs an argon2 hash (64 MiB, tens of ms).
    registrations_per_address: int = Field(default=10, ge=1)
    registration_window_seconds: int = Field(default=3600, ge=1)
    # Hashes at once (each holds 64 MiB and a core for tens of ms) and how long a request
    # waits for a slot before answering 503 + Retry-After.
    password_hash_concurrency: int = Field(default=2, ge=1)
    password_hash_wait_seconds: float = Field(default=5.0, gt=0)
    log_level: str = "INFO"
    # auto: JSON lines when stderr is not a terminal (production, tests), one-line text on a TTY.
    log_format: Literal["auto", "json", "text"] = "auto"
    # Superseded by log_format; true still forces JSON.
    log_json: bool | None = None
    # On SIGTERM/SIGINT: /readyz answers 503 and new sockets are refused this long before the
    # open sockets are closed with 1012, so a load balancer stops sending traffic first.
    shutdown_drain_seconds: float = Field(default=3.0, ge=0)
    # Addresses (comma-separated IPs or networks, or "*") whose X-Forwarded-For/-Proto are
    # believed: the reverse proxy's. Anyone else's are ignored (the per-address login limit).
    forwarded_allow_ips: str = "127.0.0.1"
    # The address users type (https://curhat.example.com): its origin may open /ws.
    public_url: str | None = None
    # With an external PostgreSQL, the embedded Valkey only on purpose (a single instance).
    allow_embedded_valkey: bool = False

    def check_deployment(self) -> None:
        """An external database means several instances may share it: each then needs the
        shared Valkey (events, presence) and the same JWT secret, or they silently disagree."""
        if not self.database_url:
            return
        missing = []
        if not self.valkey_url and not self.allow_embedded_valkey:
            missing.append("CURHAT_VALKEY_URL (or CURHAT_ALLOW_EMBEDDED_VALKEY=true for a single instance)")
        if not self.jwt_secret:
            missing.append("CURHAT_JWT_SECRET (the same on every instance)")
        if missing:
            raise MisconfiguredDeployment(
                "CURHAT_DATABASE_URL is set, so this is a deployment; also set " + " and ".join(missing)
            )

    @property
    def cc_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cc_origins.split(",") if o.strip()]

    @property
    def ws_origin_list(self) -> list[str]:
        extra = [o.strip() for o in self.ws_origins.split(",") if o.strip()]
        if self.public_url:
            parts = urlsplit(self.public_url)
            extra.insert(0, f"{parts.scheme}://{parts.netloc}")
        return extra

    def resolved_jwt_secret(self) -> str:
        """The configured secret, else one generated once and kept in the data directory."""
        if self.jwt_secret:
            return self.jwt_secret
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "jwt_secret"
        try:
            # O_EXCL: when two processes race, the first secret written is the one kept.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
        return path.read_text().strip()
