"""The bandit scenario end to end: users' delayed feedback moves the weights, and the best model is promoted."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox import bandit_race
from sandbox.bandit_race import RACE, Race, variant_of

pytestmark = pytest.mark.e2e

# The demo's arms with a third of its traffic (less work for the same simulated time) and a winner after 2 confident
# updates instead of 3.
QUICK = Race(arms=RACE.arms, requests_per_second=2.0, stop_after_updates=2)


def test_the_bandit_moves_traffic_to_the_best_model_and_promotes_it(tmp_path: Path) -> None:
    # Given three models that convert at 4, 6 and 12 %, and users who report conversions minutes late
    best = variant_of(QUICK.best)

    # When the scenario runs a bandit rollout of the three
    result = bandit_race.run(out=lambda line: None, time_scale=None, output_dir=tmp_path, race=QUICK)

    # Then the best model won and serves alone
    assert result.result_line == f"RESULT bandit promoted winner:{best}"
    assert result.rollout["status"] == "Promoted"
    variants = result.endpoint["ProductionVariants"]
    assert [(v["VariantName"], float(v["CurrentWeight"])) for v in variants] == [(best, 1.0)]

    # And before it was promoted, the reweightings had moved the traffic towards it
    decisions = result.rollout["decisions"]
    kinds = [d["kind"] for d in decisions]
    reweights = [d["evidence"]["weights"] for d in decisions if d["kind"] == "Bandit Reweighted"]
    assert len(reweights) >= 3
    assert reweights[-1][best] > reweights[0][best]
    assert reweights[-1][best] >= 95.0
    last_reweight = max(index for index, kind in enumerate(kinds) if kind == "Bandit Reweighted")
    assert last_reweight < kinds.index("Rollout Promoted")

    # And the chart of the weights is a PNG beside the report
    assert result.chart == tmp_path / "bandit-weights.png"
    assert result.chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
