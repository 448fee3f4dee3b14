"""Security headers for the web apps: a strict CSP with Trusted Types, nosniff, no referrer, no framing.

``require-trusted-types-for 'script'`` with ``trusted-types 'none'`` makes every HTML sink
(``innerHTML``, ``outerHTML``, ``insertAdjacentHTML``, ``document.write``) throw in the browser,
so data can only ever reach the page as text.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    ]
)

# API docs pages set their own policy (Swagger UI renders with React); they keep the other headers.
_CSP_EXEMPT = ("/docs", "/redoc")


def headers_for(path: str, host: str | None) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if not path.startswith(_CSP_EXEMPT):
        csp = CSP
        if host:
            # Older engines do not let 'self' cover ws:/wss: on the same host.
            csp = CSP.replace("connect-src 'self'", f"connect-src 'self' ws://{host} wss://{host}")
        headers.append((b"content-security-policy", csp.encode()))
    return headers


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"), None)
        if host is not None and not _plain_host(host):
            host = None
        extra = headers_for(scope["path"], host)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((k, v) for k, v in extra if k not in present),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _plain_host(host: str) -> bool:
    """A Host header safe to echo into a CSP source (no spaces, quotes or separators)."""
    return bool(host) and all(c.isalnum() or c in ".-:[]" for c in host)
