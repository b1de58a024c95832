"""The ``blendbot`` command: settings errors, and ``serve`` on the embedded database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import ROOT
from tests.support.cli import blendbot


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("BLENDBOT_") and k != "DATABASE_URL"
    }
    env.update(extra)
    return env


def test_a_wrong_setting_is_one_line_naming_it(tmp_path: Path) -> None:
    result = blendbot(_env(BLENDBOT_PORT="eighty", BLENDBOT_DATA_DIR=str(tmp_path)), "migrate")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: BLENDBOT_PORT: Input should be a valid integer, unable to parse string as an "
        "integer (got 'eighty')"
    ]


def test_short_api_tokens_are_refused(tmp_path: Path) -> None:
    result = blendbot(
        _env(BLENDBOT_API_TOKENS="abc,def", BLENDBOT_DATA_DIR=str(tmp_path)), "migrate"
    )
    assert result.returncode == 2
    assert "BLENDBOT_API_TOKENS" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    result = blendbot(
        _env(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none", BLENDBOT_DATA_DIR=str(tmp_path)),
        "migrate",
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: could not connect to PostgreSQL")
    assert "Traceback" not in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_on_the_embedded_database_with_sample_data(tmp_path: Path) -> None:
    port = _free_port()
    data_dir = tmp_path / "data"
    with subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "serve", "--with-sample-data", "--port", str(port)],
        env=_env(BLENDBOT_DATA_DIR=str(data_dir)),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            lines: list[str] = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                line = process.stdout.readline()
                assert line, (
                    f"serve exited early: {process.stderr.read() if process.stderr else ''}"
                )
                lines.append(line.strip())
                if line.startswith("OpenAPI document"):
                    break
            assert f"blendbot listening on http://127.0.0.1:{port}" in lines
            token = (data_dir / "api-token").read_text().strip()
            assert any(line.endswith(token) and line.startswith("API token") for line in lines)
            assert oct((data_dir / "api-token").stat().st_mode & 0o777) == "0o600"
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/tasks?limit=100",
                headers={"Authorization": f"Bearer {token}"},
            )
            with urllib.request.urlopen(request) as response:  # noqa: S310
                assert b'"external_id":"APP-1042"' in response.read()
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    assert process.returncode == 0
    assert not (data_dir / "postgres" / "postmaster.pid").exists(), "embedded server left running"
