"""Response headers for every control-center response, and the Origin check on every POST."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from curhat.deps import runtime_of
from curhat.errors import Forbidden

# No inline script or style anywhere, and with Trusted Types any string-to-HTML sink throws:
# markup can only come from the server's templates.
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}

PREFIX = "/cc"


def _ours(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


class SecurityHeaders:
    """Pure ASGI, so streamed and file responses get the headers too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _ours(scope["path"]):
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith(PREFIX + "/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if not static:
                    # Pages show customers' names and phones: never kept by the browser or a proxy.
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CrossOriginRefused(Forbidden):
    code = "cross_origin"
    message = "This form was sent from another site; it was refused."


def allowed_origins(request: Request) -> set[str]:
    settings = runtime_of(request).settings
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    return {own, f"http://{settings.internal_host}:{settings.internal_port}", *settings.cc_origin_list}


async def same_origin(request: Request) -> None:
    """Every state-changing request must say it comes from this site (SameSite=Strict is the other half)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.headers.get("origin") not in allowed_origins(request):
        raise CrossOriginRefused()
