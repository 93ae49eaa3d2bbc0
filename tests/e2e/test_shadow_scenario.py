"""The shadow scenario end to end: the challenger shadows production, passes its comparison, replaces production."""

from __future__ import annotations

import pytest

from sandbox.scenarios import run

pytestmark = pytest.mark.e2e

DEMO = 1 / 60  # one real second is one simulated minute, as in `make demo`


def test_a_challenger_that_agrees_is_judged_on_production_copies_and_promoted() -> None:
    result = run("shadow", out=lambda line: None, time_scale=DEMO)

    assert result.result_line == "RESULT shadow promoted challenger-passed"
    verdict = next(d for d in result.rollout["decisions"] if d["message"].startswith("Challenger"))
    checks = {check["check"]: check for check in verdict["evidence"]["checks"]}
    assert set(checks) == {"requests", "5xx-rate", "latency", "agreement"}
    assert 0.95 <= checks["agreement"]["observed"] < 1.0  # the challenger moves a few scores across 0.5
    assert checks["agreement"]["samples"] >= 200
    # The copies answered nobody: production answered every request
    assert "copies the challenger answered in the shadow" in result.summary
