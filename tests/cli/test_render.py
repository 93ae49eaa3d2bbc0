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
        "r-0123456789ab  churn-predictor  Progressing  step 1/4 [#####---------------]  weights v1 75 %, "
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


def test_the_live_panel_shows_progress_weights_and_the_latest_decisions() -> None:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(render.panel(VIEW))
    text = console.file.getvalue()  # type: ignore[attr-defined]

    assert "step 1 of 4" in text and "75 %" in text and "Traffic Shifted" in text


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
    assert tags.count("polyline") == 2 and "svg" in tags  # one line per variant
    assert "3 % vs 0.1 %" in page and "0.03" in page and "2.9" in page
    assert "failed &lt;b&gt;" in page  # the log's text is escaped
    assert report.weights_over_time(view) == [(0.0, {"v1": 90.0, "churn-xgb-v2": 10.0}), (360.0, {"v1": 100.0})]
