"""The shadow scenario end to end: the challenger shadows production, passes its comparison, replaces production."""

from __future__ import annotations

import pytest

from sandbox.scenarios import run

pytestmark = pytest.mark.e2e


def test_a_challenger_that_agrees_is_judged_on_production_copies_and_promoted() -> None:
    result = run("shadow", out=lambda line: None, time_scale=None)  # unpaced: simulated time only

    assert result.result_line == "RESULT shadow promoted challenger-passed"
    verdict = next(d for d in result.rollout["decisions"] if d["message"].startswith("Challenger"))
    checks = {check["check"]: check for check in verdict["evidence"]["checks"]}
    assert set(checks) == {"requests", "5xx-rate", "latency", "agreement"}
    assert 0.95 <= checks["agreement"]["observed"] < 1.0  # the challenger moves a few scores across 0.5
    assert checks["agreement"]["samples"] >= 200
    # Half of production's requests were copied to the challenger (sampling 50 %), and production answered them all
    copies, answered = checks["requests"]["observed"], checks["requests"]["baseline"]
    assert 0.45 <= copies / answered <= 0.55
    assert answered > 2_000
