"""Shared fixtures: the local cloud with template.yaml deployed, and a SageMaker endpoint to roll out on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.cloud import LocalCloud
from sandbox.scenarios import create_endpoint, spec

EVENTS = Path(__file__).resolve().parents[1] / "events"


def load_event(relative: str) -> dict[str, Any]:
    data = json.loads((EVENTS / relative).read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalCloud]:
    """template.yaml deployed into moto, on virtual time run as fast as it goes; an endpoint update takes 120
    simulated seconds."""
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    with LocalCloud(endpoint_update_seconds=120) as local:
        yield local


@pytest.fixture
def paced_cloud(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalCloud]:
    """As `cloud` with its endpoint, whose updates take `request.param` simulated seconds."""
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    with LocalCloud(endpoint_update_seconds=request.param) as local:
        create_endpoint(local)
        yield local


@pytest.fixture
def endpoint(cloud: LocalCloud) -> str:
    """The endpoint 'churn-predictor' serving model churn-xgb-v1 on variant v1; model churn-xgb-v2 exists."""
    create_endpoint(cloud)
    return "churn-predictor"


@pytest.fixture
def canary_spec() -> dict[str, Any]:
    return spec()
