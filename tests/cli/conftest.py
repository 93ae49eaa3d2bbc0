"""The local cloud served over HTTP (`make serve`), one server per test module: what the CLI and the contract tests
run against, as a release tool would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Real seconds per simulated second: a five-minute bake takes a second and a half. Nothing depends on the pace: each
# command waits for the rollout's end, however long it takes.
TIME_SCALE = 0.005


PYTHONPATH = f"{ROOT / 'layers' / 'rollouts'}:{ROOT / 'layers' / 'monitor'}:{ROOT}"


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    env = {**os.environ, "POWERTOOLS_LOG_LEVEL": "ERROR", "PYTHONPATH": PYTHONPATH}
    server = subprocess.Popen(
        [sys.executable, "-W", "ignore", "-m", "sandbox.serve", "--port", "0", "--time-scale", str(TIME_SCALE)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()  # the first line names the URL once the cloud is up
        assert first.startswith("Rollouts API (local cloud): "), first
        yield first.split(": ", 1)[1].strip()
    finally:
        server.terminate()
        server.wait(timeout=30)
