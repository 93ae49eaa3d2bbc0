"""The CLI's views and exit codes, without a server."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from rollouts_cli import render, report
from rollouts_cli.cli import exit_code

VIEW: dict[str, Any] = {
    "rollout_id": "r-0123456789ab",
    "endpoint_name": "churn-predictor",
    "status": "Progressing",
    "step_index": 1,
    "steps": 4,
    "weights": {"v1": 75.0, "churn-xgb-v2": 25.0},
    "winner": None,
    "reason": None,
    "decisions": [
        {"at": "2026-12-04T10:00:00Z", "kind": "Rollout Started", "message": "Canary started: 4 steps", "evidence": {}},
        {"at": "2026-12-04T10:05:30Z", "kind": "Traffic Shifted", "message": "Step 2/4 at 25 %", "evidence": {}},
    ],
}


def test_plain_lines_say_where_the_rollout_is_and_what_was_decided() -> None:
    assert render.plain(VIEW) == [
        "r-0123456789ab  churn-predictor  Progressing  step 2/4 [#####---------------]  weights v1 75 %, "
        "churn-xgb-v2 25 %",
        "10:00:00  Rollout Started       Canary started: 4 steps",
        "10:05:30  Traffic Shifted       Step 2/4 at 25 %",
    ]


def test_the_guardrails_and_the_latest_checks_are_shown_with_their_figures() -> None:
    verdict = {
        "metric": "5xx-rate",
        "outcome": "Successful",
        "critical": True,
        "evidence": {"explanation": "0.10 % vs 0.12 %: z = -0.4, above the boundary -2.9", "rule": "sequential"},
    }
    view = {**VIEW, "decisions": [], "guardrails": ["rollouts-r-1-5xx-rate"], "judgement": [verdict]}

    assert render.plain(view)[1:] == [
        "guardrails: rollouts-r-1-5xx-rate",
        "check 5xx-rate: Successful: 0.10 % vs 0.12 %: z = -0.4, above the boundary -2.9",
    ]


def test_a_strategy_without_steps_shows_no_progress_and_a_rollback_shows_why() -> None:
    view = {**VIEW, "steps": None, "status": "RolledBack", "reason": "GuardrailBreached: alarm 5xx", "decisions": []}

    assert render.plain(view) == [
        "r-0123456789ab  churn-predictor  RolledBack  weights v1 75 %, churn-xgb-v2 25 %",
        "reason: GuardrailBreached: alarm 5xx",
    ]


PLANNED = {
    **VIEW,
    "plan": [{"weight": 10, "bake_seconds": 600}, {"weight": 25, "bake_seconds": 600},
             {"weight": 50, "bake_seconds": 1200}, {"weight": 100, "bake_seconds": 60}],
    "step_started_at": "2026-12-04T10:05:30Z",
    "observed_at": "2026-12-04T10:08:00Z",
    "decisions": [],
}  # fmt: skip


def test_the_time_in_step_and_each_steps_bake_are_shown_by_the_control_planes_clock() -> None:
    assert render.plain(PLANNED) == [
        "r-0123456789ab  churn-predictor  Progressing  step 2/4 [#####---------------]  in step 2m30s  "
        "weights v1 75 %, churn-xgb-v2 25 %",
        "  step 1  10 %  bake 10m00s  [####################] done",
        "  step 2  25 %  bake 10m00s  [#####---------------] 2m30s of 10m00s",
        "  step 3  50 %  bake 20m00s  [--------------------]",
        "  step 4  100 %  bake 1m00s  [--------------------]",
    ]


def test_a_promoted_rollout_has_every_step_done_and_no_time_in_step() -> None:
    lines = render.plain({**PLANNED, "status": "Promoted", "step_index": 3})

    assert "in step" not in lines[0]
    assert all(line.endswith("done") for line in lines[1:5])


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (59, "59s"), (61, "1m01s"), (7260, "2h01m"),
                                               (90000, "1d01h")])  # fmt: skip
def test_durations_read_as_people_write_them(seconds: int, text: str) -> None:
    assert render.duration(seconds) == text


def test_the_live_panel_shows_a_bar_per_step_and_the_time_in_step() -> None:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(render.panel(PLANNED))
    text = console.file.getvalue()  # type: ignore[attr-defined]

    assert "in step 2m30s" in text
    assert all(f"step {n}" in text for n in range(1, 5)) and "bake 20m00s" in text


def test_the_live_panel_shows_progress_weights_and_the_latest_decisions() -> None:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(render.panel(VIEW))
    text = console.file.getvalue()  # type: ignore[attr-defined]

    assert "step 2 of 4" in text and "75 %" in text and "Traffic Shifted" in text


def test_the_list_is_a_table_with_a_header() -> None:
    row = render.summary_row(
        {
            "rollout_id": "r-1",
            "endpoint_name": "e",
            "strategy": "bandit",
            "status": "Promoted",
            "candidate_models": ["m2", "m3"],
            "created_at": "2026-12-04T09:00:00Z",
            "reason": None,
        }
    )

    assert render.table_lines([row]) == [
        "ROLLOUT  ENDPOINT  STRATEGY  STATUS    CANDIDATE  CREATED   REASON",
        "r-1      e         bandit    Promoted  m2, m3     09:00:00",
    ]


@pytest.mark.parametrize(
    ("status", "reason", "code"),
    [
        ("Promoted", None, 0),
        ("RolledBack", "BaselineKept: no candidate beat the baseline", 0),
        ("RolledBack", "GuardrailBreached: alarm", 3),
        ("RollbackFailed", "the restore failed", 4),
        ("Paused", None, 5),
        ("Failed", "StartExecution refused", 2),
        ("Progressing", None, None),
    ],
)
def test_each_end_has_its_exit_code(status: str, reason: str | None, code: int | None) -> None:
    assert exit_code({**VIEW, "status": status, "reason": reason}) == code


def test_a_report_is_one_page_with_the_verdict_the_weights_chart_the_checks_and_the_log() -> None:
    from html.parser import HTMLParser

    verdict = {"metric": "5xx-rate", "outcome": "Failed", "evidence": {"baseline_estimate": 0.001,
               "candidate_estimate": 0.03, "boundary": 2.9, "explanation": "3 % vs 0.1 %"}}  # fmt: skip
    view = {
        **VIEW,
        "status": "RolledBack",
        "reason": "GuardrailBreachedError: step 2 judged Failed",
        "guardrails": ["rollouts-r-1-5xx-rate"],
        "decisions": [
            {"at": "2026-12-04T10:00:00Z", "kind": "Traffic Shifted", "message": "10 %",
             "evidence": {"weights": {"v1": 90, "churn-xgb-v2": 10}}},
            {"at": "2026-12-04T10:05:00Z", "kind": "Step Judged", "message": "failed <b>",
             "evidence": {"metrics": [verdict]}},
            {"at": "2026-12-04T10:06:00Z", "kind": "Rollout Rolled Back", "message": "back",
             "evidence": {"weights": {"v1": 100}}},
        ],
    }  # fmt: skip

    page = report.html_report(view)

    tags: list[str] = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: tags.append(tag)  # type: ignore[method-assign]
    parser.feed(page)
    assert "Rollout r-0123456789ab on churn-predictor: rolled back" in page
    assert "svg" in tags and "Weights over time" in page and "churn-xgb-v2" in page  # the charts, text as text
    assert "5xx-rate: each look per variant" in page  # a chart per checked metric
    assert "3 % vs 0.1 %" in page and "0.03" in page and "2.9" in page
    assert "failed &lt;b&gt;" in page  # the log's text is escaped
    assert report.weights_over_time(view) == [(0.0, {"v1": 90.0, "churn-xgb-v2": 10.0}), (360.0, {"v1": 100.0})]


def test_a_metrics_bound_is_in_its_own_units() -> None:
    rate = {"baseline_estimate": 0.01, "allowed_change": 0.5, "statistic_name": "z", "boundary": -2.9}
    threshold = {"statistic_name": "value", "boundary": 250.0, "candidate_estimate": 180.0}
    rank = {"statistic_name": "U", "boundary": 1.7}

    assert report.bound_of(rate) == pytest.approx(0.015)
    assert report.bound_of(threshold) == 250.0
    assert report.bound_of(rank) is None


def test_the_report_writes_a_png_beside_the_page(tmp_path) -> None:
    from PIL import Image

    verdict = {
        "metric": "p99-latency",
        "outcome": "Successful",
        "evidence": {"statistic_name": "value", "boundary": 250.0, "candidate_estimate": 180.0},
    }
    view = {**VIEW, "status": "Promoted", "decisions": [
        {"at": "2026-12-04T10:00:00Z", "kind": "Traffic Shifted", "message": "10 %",
         "evidence": {"weights": {"v1": 90, "churn-xgb-v2": 10}}},
        {"at": "2026-12-04T10:10:00Z", "kind": "Step Judged", "message": "ok", "evidence": {"metrics": [verdict]}},
        {"at": "2026-12-04T10:11:00Z", "kind": "Rollout Promoted", "message": "done",
         "evidence": {"weights": {"churn-xgb-v2": 100}}},
    ]}  # fmt: skip

    page, image = report.write(view, tmp_path / "r.html")

    assert image == tmp_path / "r.png"
    with Image.open(image) as png:
        assert png.format == "PNG" and png.width > 600 and png.height > 400  # two charts
    assert "promoted" in page.read_text()


def test_a_components_rollout_names_the_component_after_its_endpoint() -> None:
    view = {
        **VIEW,
        "endpoint_name": "churn-shared",
        "inference_component_name": "churn-ic",
        "steps": None,
        "weights": {"v1": 100.0},
    }

    assert render.plain(view)[0] == "r-0123456789ab  churn-shared/churn-ic  Progressing  weights v1 100 %"
    assert render.summary_row({**view, "strategy": "rolling", "candidate_models": ["churn-xgb-v2"],
                               "created_at": "2026-12-04T09:00:00Z"})[1] == "churn-shared/churn-ic"  # fmt: skip
