"""Helpers the benchmarks share: quiet local-cloud runs, run counts from the environment, machine facts."""

from __future__ import annotations

import logging
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def quiet() -> None:
    """Keep the handlers' and moto's logs out of the benchmark output (as tests/conftest.py does)."""
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    logging.getLogger("moto").setLevel(logging.CRITICAL)


def runs_from_env(name: str, default: int, minimum: int = 1) -> int:
    """A run count: the environment variable `name` if set (at least `minimum`), else `default`."""
    value = os.environ.get(name, "").strip()
    return max(minimum, int(value)) if value else default


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(terse=True),
        "machine": platform.machine(),
        "boto3": _version("boto3"),
        "moto": _version("moto"),
        "aws_lambda_powertools": _version("aws-lambda-powertools"),
        "pydantic": _version("pydantic"),
    }
