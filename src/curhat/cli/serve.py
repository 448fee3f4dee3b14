"""``curhat serve``: both listeners in one process, one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import resource
import signal
import sys
from collections.abc import Generator
from datetime import UTC, datetime

import uvicorn

from curhat.app import create_internal_app, create_public_app
from curhat.config import Settings
from curhat.observability import LogFormat, log_event
from curhat.realtime import protocol
from curhat.runtime import Runtime, running, start_domain_services
from curhat.wsproto import TRANSPORT_MAX_FRAME_BYTES, WebSocketProtocol


class _Server(uvicorn.Server):
    """Signals are handled once for both servers, not captured by each."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _uvicorn_config(
    app: object, host: str, port: int, *, forwarded_allow_ips: str = "127.0.0.1"
) -> uvicorn.Config:
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        # The client address (login limits, logs) from X-Forwarded-For, only from these proxies.
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        loop="none",
        http="httptools",
        ws=WebSocketProtocol,
        # Per-message deflate costs ~50 KiB per idle socket; chat frames are small.
        ws_per_message_deflate=False,
        ws_max_size=TRANSPORT_MAX_FRAME_BYTES,
        lifespan="off",
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=5,
    )


log = logging.getLogger(__name__)

# After the drain delay: how long open sockets get to finish their close handshake.
SOCKET_CLOSE_TIMEOUT = 5.0


def raise_open_file_limit() -> int:
    """The soft open-file limit raised to the hard one; the limit now in force.

    Every WebSocket is a file descriptor, and the usual soft default (1 024) would cap an
    instance far below the tens of thousands of idle sockets it is sized for.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # Linux refuses an unlimited soft limit for open files; a million is plenty.
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            log.warning("could not raise the open-file limit above %d", soft, exc_info=True)
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class _Signals:
    """SIGTERM/SIGINT: the first starts the drain, a second skips its delay, a third stops
    without waiting for open connections."""

    def __init__(self, servers: tuple[uvicorn.Server, ...]) -> None:
        self.servers = servers
        self.stop = asyncio.Event()
        self.hurry = asyncio.Event()
        self.received = 0

    def __call__(self) -> None:
        self.received += 1
        if self.received == 1:
            self.stop.set()
        elif self.received == 2:
            self.hurry.set()
        else:
            for server in self.servers:
                server.force_exit = True


async def drain(runtime: Runtime, signals: _Signals, delay: float) -> None:
    """Readiness 503 and new sockets refused at once; after ``delay`` (time for a load balancer
    to notice) every open socket is closed with 1012 so its app reconnects to another instance;
    then the listeners stop (uvicorn finishes the HTTP requests in flight)."""
    await signals.stop.wait()
    runtime.start_draining()
    log_event(log, "shutdown.draining", delay_s=delay, sockets=len(runtime.hub))
    if all(server.started for server in signals.servers) and delay > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(signals.hurry.wait(), delay)
    closed = await runtime.sockets.close_all(protocol.CLOSE_RESTART, timeout=SOCKET_CLOSE_TIMEOUT)
    log_event(log, "shutdown.sockets_closed", sockets=closed)
    for server in signals.servers:
        server.should_exit = True


async def serve(settings: Settings, log_format: LogFormat = "json") -> None:
    raise_open_file_limit()
    async with running(settings) as runtime:
        await bootstrap(runtime)
        await start_domain_services(runtime)
        public = _Server(
            _uvicorn_config(
                create_public_app(runtime),
                settings.public_host,
                settings.public_port,
                forwarded_allow_ips=settings.forwarded_allow_ips,
            )
        )
        internal = _Server(
            _uvicorn_config(
                create_internal_app(runtime),
                settings.internal_host,
                settings.internal_port,
                forwarded_allow_ips=settings.forwarded_allow_ips,
            )
        )
        signals = _Signals((public, internal))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, signals)

        tasks = [asyncio.create_task(public.serve()), asyncio.create_task(internal.serve())]
        drainer = asyncio.create_task(drain(runtime, signals, settings.shutdown_drain_seconds))
        while not (public.started and internal.started):
            if any(t.done() for t in tasks):
                public.should_exit = internal.should_exit = True
                break
            await asyncio.sleep(0.05)
        else:
            demo = await demo_accounts_present(runtime) if log_format == "text" else []
            print(ready_message(settings, log_format, demo), flush=True)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        drainer.cancel()
        for result in results:
            if isinstance(result, BaseException):
                print(f"listener failed: {result!r}", file=sys.stderr)
        if not (public.started and internal.started):
            raise SystemExit(1)
        log_event(log, "shutdown.done")


def ready_message(settings: Settings, log_format: LogFormat, demo: list[str]) -> str:
    """What ``curhat serve`` prints once both listeners answer: one JSON line (tests and
    deployments wait for it), or a short block for a person at a terminal."""
    public = f"http://{settings.public_host}:{settings.public_port}"
    internal = f"http://{settings.internal_host}:{settings.internal_port}"
    urls = {
        "public": f"{public}/",
        "mitra": f"{public}/mitra/",
        "control_center": f"{internal}/cc/",
        "docs": f"{public}/docs",
        "internal_docs": f"{internal}/docs",
    }
    if log_format == "json":
        ts = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return json.dumps({"ts": ts, "event": "ready", **urls})
    lines = [
        "",
        "Curhat is ready.",
        f"  customer app    {urls['public']}",
        f"  mitra app       {urls['mitra']}",
        f"  control center  {urls['control_center']}",
        f"  API docs        {urls['docs']}  (internal: {urls['internal_docs']})",
    ]
    if demo:
        lines += ["Demo accounts (login / password):", *(f"  {line}" for line in demo)]
    lines += ["Ctrl+C stops (press it twice to skip the drain delay).", ""]
    return "\n".join(lines)


async def demo_accounts_present(runtime: Runtime) -> list[str]:
    from curhat.cli.demo import existing_demo_accounts

    async with runtime.transaction() as session:
        return await existing_demo_accounts(session)


async def bootstrap(runtime: Runtime) -> None:
    s = runtime.settings
    if s.bootstrap_operator_email and s.bootstrap_operator_password:
        from curhat.auth.service import ensure_operator

        async with runtime.transaction() as session:
            await ensure_operator(
                session, runtime.passwords, s.bootstrap_operator_email, s.bootstrap_operator_password
            )
