"""The embedded servers: PostgreSQL stopped by the last live process (even after a sibling
was SIGKILLed), Valkey reachable only through an owner-only Unix socket."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import psutil

from curhat.embedded import EmbeddedPostgres, EmbeddedValkey, _pid_alive
from curhat.valkey import create_client


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _gone(pid: int, within: float = 10) -> bool:
    """pg_ctl has stopped it; the exited process may take a moment to be reaped."""
    deadline = time.monotonic() + within
    while _pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_last_survivor_stops_postgres_although_a_killed_sibling_is_still_listed(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "postgres")
    pg.start()
    handles = tmp_path / "postgres" / ".handle_pids.json"
    postmaster = int((tmp_path / "postgres" / "postmaster.pid").read_text().split()[0])
    assert (tmp_path / "postgres" / "PG_VERSION").read_text().strip() == "18"
    # What a SIGKILLed sibling leaves behind: its pid in the handle list, never removed.
    listed = json.loads(handles.read_text())
    assert listed == [os.getpid()]
    handles.write_text(json.dumps([*listed, _dead_pid()]))
    try:
        pg.stop()
        assert _gone(postmaster)
    finally:
        if _pid_alive(postmaster):  # the bug: do not leave it running after the test
            os.kill(postmaster, signal.SIGINT)
    assert json.loads(handles.read_text()) == []


def test_a_live_sibling_keeps_postgres_running(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "postgres")
    pg.start()
    handles = tmp_path / "postgres" / ".handle_pids.json"
    postmaster = int((tmp_path / "postgres" / "postmaster.pid").read_text().split()[0])
    sibling = subprocess.Popen(["sleep", "600"])
    handles.write_text(json.dumps([*json.loads(handles.read_text()), sibling.pid]))
    try:
        pg.stop()
        assert _pid_alive(postmaster)  # still in use by the sibling
        assert json.loads(handles.read_text()) == [sibling.pid]
    finally:
        sibling.kill()
        sibling.wait()
        os.kill(postmaster, signal.SIGINT)
    assert _gone(postmaster)


async def test_valkey_listens_on_an_owner_only_unix_socket_and_no_port(tmp_path: Path) -> None:
    vk = EmbeddedValkey(tmp_path / "valkey")
    url = vk.start()
    pid = int(json.loads((tmp_path / "valkey" / "server.json").read_text())["pid"])
    try:
        assert url.startswith("unix://")
        sock = vk.socket_path
        assert sock.is_socket() and sock.parent == tmp_path / "valkey"
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
        assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
        assert not [c for c in psutil.Process(pid).net_connections("inet") if c.status == "LISTEN"]

        client = create_client(url)
        try:
            assert await client.config_get("port") == {"port": "0"}
            # What the event bus and presence use: sharded pub/sub and Lua, over the socket.
            pubsub = client.pubsub()
            await pubsub.execute_command("SSUBSCRIBE", "ev:customer:1")
            kinds = []
            for _ in range(20):  # bounded: the confirmation, then the message, within ms
                message = await pubsub.get_message(timeout=5)
                kinds.append(message and message["type"])
                if message and message["type"] == "ssubscribe":
                    assert await client.execute_command("SPUBLISH", "ev:customer:1", "hello") == 1
                if message and message["type"] == "smessage":
                    assert message["data"] == "hello"
                    break
            assert kinds[-1] == "smessage", kinds
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            assert await client.eval("return redis.call('INCR', KEYS[1])", 1, "k") == 1
        finally:
            await client.aclose()
    finally:
        vk.stop()
    assert _gone(pid)
    assert not (tmp_path / "valkey" / "server.json").exists()


def test_a_data_dir_too_deep_for_a_socket_path_gets_a_private_socket_dir(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    vk = EmbeddedValkey(deep / "valkey")
    assert len(str(vk.socket_path)) <= 100
    assert vk.socket_path != deep / "valkey" / "valkey.sock"
    assert vk.socket_path == EmbeddedValkey(deep / "valkey").socket_path  # shared by siblings
