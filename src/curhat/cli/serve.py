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

import uvicorn

from curhat.app import create_internal_app, create_public_app
from curhat.config import Settings
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


async def serve(settings: Settings) -> None:
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
        loop = asyncio.get_running_loop()

        def stop() -> None:
            public.should_exit = True
            internal.should_exit = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)

        tasks = [asyncio.create_task(public.serve()), asyncio.create_task(internal.serve())]
        while not (public.started and internal.started):
            if any(t.done() for t in tasks):
                stop()
                break
            await asyncio.sleep(0.05)
        else:
            print(
                json.dumps(
                    {
                        "event": "ready",
                        "public": f"http://{settings.public_host}:{settings.public_port}/",
                        "mitra": f"http://{settings.public_host}:{settings.public_port}/mitra/",
                        "control_center": f"http://{settings.internal_host}:{settings.internal_port}/cc/",
                    }
                ),
                flush=True,
            )
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                print(f"listener failed: {result!r}", file=sys.stderr)
        if not (public.started and internal.started):
            raise SystemExit(1)


async def bootstrap(runtime: Runtime) -> None:
    s = runtime.settings
    if s.bootstrap_operator_email and s.bootstrap_operator_password:
        from curhat.auth.service import ensure_operator

        async with runtime.transaction() as session:
            await ensure_operator(
                session, runtime.passwords, s.bootstrap_operator_email, s.bootstrap_operator_password
            )
