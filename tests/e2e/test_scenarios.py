"""The demo's scenarios end to end on the local cloud: data plane, alarms, monitoring, the real template."""

from __future__ import annotations

import pytest

from sandbox.scenarios import run

pytestmark = pytest.mark.e2e

# The scenarios run unpaced (time_scale=None), on simulated time only. The drift scenario fires its monitor's
# schedule partway through a bake: the simulated clock stands still while the run reads the captured data, so it
# finishes inside the bake however slow the machine. The model-quality, bias-drift and feature-attribution monitors
# run at the end of the first bake, and the judge after it fails the step.


@pytest.mark.parametrize(
    ("name", "outcome", "reason"),
    [
        ("healthy", "promoted", "all-steps-passed"),
        ("error-spike", "rolled back", "alarm:5xx-rate"),
        ("drift", "rolled back", "DataQuality-violations:age,income"),
        ("small-regression", "rolled back", "judged:5xx-rate"),
        ("slow-candidate", "rolled back", "judged:latency-p90"),
        ("no-regression", "promoted", "all-steps-passed"),
        ("model-quality", "rolled back", "ModelQuality-violations:accuracy"),
        ("bias-drift", "rolled back", "ModelBias-violations:DPPL,DI"),
        ("feature-attribution", "rolled back", "ModelExplainability-violations:label0"),
        ("hook-veto", "rolled back", "hook:rollout-hook-smoke-test"),
    ],
)
def test_scenario_ends_as_the_demo_says(name: str, outcome: str, reason: str) -> None:
    result = run(name, out=lambda line: None, time_scale=None)

    assert result.result_line == f"RESULT {name} {outcome} {reason}"
    assert result.rollout["status"] == ("Promoted" if outcome == "promoted" else "RolledBack")
    if reason.startswith(("alarm:", "DataQuality")):
        # An outside signal ended the bake: the baseline had its traffic back within simulated seconds of it.
        assert result.signal_to_restore_seconds is not None
        assert result.signal_to_restore_seconds < 5
