"""Static files served from memory with content-hash ETags.

Every file gets a strong ETag (a hash of its bytes) and ``Cache-Control: no-cache``, so a
browser revalidates and gets a 304 when nothing changed. URLs written by templates carry
``?v=<hash>``; a request whose ``v`` matches the current hash may be cached for a year
(``immutable``), because a changed file gets a new URL. ES modules imported by other modules
have no hash in their URL and rely on the ETag.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webmanifest": "application/manifest+json",
    ".json": "application/json",
}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@dataclass(frozen=True)
class Asset:
    body: bytes
    etag: str
    version: str
    content_type: str


class AssetStore:
    """The files of one or more directories, each under its own URL prefix (e.g. ``/static/``)."""

    def __init__(self) -> None:
        self._files: dict[str, Asset] = {}

    def add_directory(self, url_prefix: str, directory: Path) -> None:
        prefix = "/" + url_prefix.strip("/") + "/"
        for path in sorted(directory.rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            body = path.read_bytes()
            digest = hashlib.sha256(body).hexdigest()
            content_type = _TYPES.get(path.suffix) or (
                mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            )
            url = prefix + path.relative_to(directory).as_posix()
            self._files[url] = Asset(body, f'"{digest[:32]}"', digest[:12], content_type)

    def url(self, path: str) -> str:
        """The URL to write into a page: the path with ``?v=<content hash>``."""
        asset = self._files.get(path)
        if asset is None:
            raise KeyError(f"no static file {path}")
        return f"{path}?v={asset.version}"

    def __contains__(self, path: object) -> bool:
        return path in self._files

    def response(self, request: Request) -> Response:
        asset = self._files.get(request.url.path)
        if asset is None:
            return Response(status_code=404)
        immutable = request.query_params.get("v") == asset.version
        headers = {"ETag": asset.etag, "Cache-Control": IMMUTABLE if immutable else REVALIDATE}
        if asset.etag in _etags(request.headers.get("if-none-match", "")):
            return Response(status_code=304, headers=headers)
        return Response(asset.body, media_type=asset.content_type, headers=headers)


def _etags(header: str) -> set[str]:
    return {part.strip().removeprefix("W/") for part in header.split(",") if part.strip()}
