"""The ab-test scenario end to end: users convert at 10 % and 13 %; the test names the candidate and promotes it."""

from __future__ import annotations

import pytest

from sandbox.scenarios import run

pytestmark = pytest.mark.e2e


def test_the_better_candidate_is_promoted_after_the_minimum_duration_with_its_evidence() -> None:
    result = run("ab-test", out=lambda line: None, time_scale=None)  # unpaced: simulated time only

    assert result.result_line == "RESULT ab-test promoted winner:churn-xgb-v2"
    looks = [d for d in result.rollout["decisions"] if d["kind"] == "A/B Test Judged"]
    # Every look before the minimum duration only reports; the last one decides, on the evidence it shows
    assert all(look["evidence"]["next"] == "wait" for look in looks[:-1])
    assert all(look["evidence"]["elapsed_seconds"] < 1200 for look in looks[:-1] if look["evidence"]["decided"])
    last = looks[-1]["evidence"]
    assert last["next"] == "promote"
    assert last["elapsed_seconds"] >= 1200
    assert last["interval"][0] > 0
    assert last["p_value"] <= 0.05
