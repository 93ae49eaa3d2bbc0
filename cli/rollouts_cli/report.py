"""One self-contained HTML page per rollout (`rollouts report ID -o report.html`): the verdict, the weights over
time, each checked metric per variant with its bound, every check of every judged step with its figures, and the
decision log with its evidence; and a PNG of the charts beside it (`report.png`), for a chat or a ticket. The charts
are drawn by matplotlib and inlined as SVG: the page opens anywhere, with nothing to fetch."""

from __future__ import annotations

import html
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollouts_cli import render

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
MAX_METRIC_CHARTS = 6
VERDICTS = {"Promoted": "promoted", "RolledBack": "rolled back", "RollbackFailed": "rollback not verified"}


def weights_over_time(view: dict[str, Any]) -> list[tuple[float, dict[str, float]]]:
    """(seconds since the first decision, the weights then) for every decision that set or read the weights."""
    decisions = view.get("decisions") or []
    if not decisions:
        return []
    start = render.parse_time(decisions[0]["at"])
    points = []
    for decision in decisions:
        weights = (decision.get("evidence") or {}).get("weights")
        if isinstance(weights, dict) and weights:
            seconds = (render.parse_time(decision["at"]) - start).total_seconds()
            points.append((seconds, {str(k): float(v) for k, v in weights.items()}))
    baseline = view.get("baseline_variant")
    if baseline and (not points or points[0][0] > 0):
        points.insert(0, (0.0, {baseline: 100.0}))  # before the first change, the baseline took it all
    return points


@dataclass(frozen=True)
class Look:
    """One judged look at a metric: the estimates of both variants and the value the candidate had to stay within."""

    seconds: float
    baseline: float | None
    candidate: float | None
    bound: float | None
    outcome: str


def bound_of(evidence: dict[str, Any]) -> float | None:
    """The candidate's limit in the metric's own units: a threshold rule's value, or the baseline's estimate moved by
    the relative change the check tolerates. None when the check compares a statistic only (z, U, a ratio)."""
    if evidence.get("statistic_name") == "value":
        return _number(evidence.get("boundary"))
    baseline, allowed = _number(evidence.get("baseline_estimate")), _number(evidence.get("allowed_change"))
    if baseline is not None and allowed is not None:
        return baseline * (1 + allowed)
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def metric_looks(view: dict[str, Any]) -> dict[str, list[Look]]:
    """Every judged look of each metric, in order, from the decision log."""
    decisions = view.get("decisions") or []
    if not decisions:
        return {}
    start = render.parse_time(decisions[0]["at"])
    looks: dict[str, list[Look]] = {}
    for decision in decisions:
        seconds = (render.parse_time(decision["at"]) - start).total_seconds()
        for verdict in (decision.get("evidence") or {}).get("metrics") or []:
            evidence = verdict.get("evidence") or {}
            looks.setdefault(str(verdict.get("metric", "?")), []).append(
                Look(
                    seconds,
                    _number(evidence.get("baseline_estimate")),
                    _number(evidence.get("candidate_estimate")),
                    bound_of(evidence),
                    str(verdict.get("outcome", "")),
                )
            )
    return looks


def figure(view: dict[str, Any]) -> Any:
    """The charts: the weights over time, then each checked metric per variant with its bound (a matplotlib Figure,
    drawn without pyplot: no display, no global state)."""
    from matplotlib.figure import Figure

    looks = dict(list(metric_looks(view).items())[:MAX_METRIC_CHARTS])
    fig = Figure(figsize=(8, 2.6 * (1 + len(looks))), layout="constrained")
    axes = fig.subplots(1 + len(looks), 1, squeeze=False)[:, 0]
    baseline = view.get("baseline_variant") or "baseline"
    candidate = view.get("candidate_variant") or "candidate"
    _weights_chart(axes[0], weights_over_time(view))
    for ax, (metric, metric_series) in zip(axes[1:], looks.items(), strict=True):
        _metric_chart(ax, metric, metric_series, baseline, candidate)
    heading = title(view) + (f"\n{view['reason']}" if view.get("reason") else "")
    fig.suptitle(heading[:200], fontsize=11)
    return fig


def _weights_chart(ax: Any, points: list[tuple[float, dict[str, float]]]) -> None:
    ax.set_title("Weights over time", fontsize=10, loc="left")
    ax.set_ylabel("% of traffic")
    ax.set_ylim(-2, 102)
    if not points:
        ax.text(0.5, 0.5, "no weights were recorded", ha="center", va="center", transform=ax.transAxes)
        return
    variants = list(dict.fromkeys(v for _, weights in points for v in weights))
    minutes = [seconds / 60 for seconds, _ in points]
    for index, variant in enumerate(variants):
        ax.step(
            minutes,
            [weights.get(variant, 0.0) for _, weights in points],
            where="post",
            label=variant,
            color=COLOURS[index % len(COLOURS)],
            linewidth=2,
        )
    ax.set_xlabel("minutes since the rollout started")
    ax.legend(loc="center right", fontsize=8)


def _metric_chart(ax: Any, metric: str, looks: list[Look], baseline: str, candidate: str) -> None:
    ax.set_title(f"{metric}: each look per variant, with the candidate's bound", fontsize=10, loc="left")
    minutes = [look.seconds / 60 for look in looks]
    for label, values, colour in (
        (baseline, [look.baseline for look in looks], COLOURS[0]),
        (candidate, [look.candidate for look in looks], COLOURS[1]),
    ):
        shown = [(m, v) for m, v in zip(minutes, values, strict=True) if v is not None]
        if shown:
            ax.plot(*zip(*shown, strict=True), marker="o", label=label, color=colour)
    bounds = [(m, look.bound) for m, look in zip(minutes, looks, strict=True) if look.bound is not None]
    if bounds:
        ax.plot(*zip(*bounds, strict=True), linestyle="--", color="#555555", label="bound")
    for m, look in zip(minutes, looks, strict=True):
        if look.outcome == "Failed" and look.candidate is not None:
            ax.plot([m], [look.candidate], marker="x", markersize=12, color="black", linestyle="none")
    ax.set_xlabel("minutes since the rollout started")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)


def svg(fig: Any) -> str:
    """The figure as an SVG element to inline in HTML (text kept as text, ids stable from run to run)."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "rollouts-report"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def png(fig: Any, path: Path) -> None:
    fig.savefig(path, format="png", dpi=110, metadata={"Software": None})


def title(view: dict[str, Any]) -> str:
    verdict = VERDICTS.get(view["status"], view["status"])
    return f"Rollout {view['rollout_id']} on {view['endpoint_name']}: {verdict}"


def write(view: dict[str, Any], page: Path) -> tuple[Path, Path]:
    """The HTML page at `page` and its charts as a PNG beside it (same name, .png)."""
    fig = figure(view)
    image = page.with_suffix(".png")
    page.write_text(html_report(view, fig), encoding="utf-8")
    png(fig, image)
    return page, image


def _checks(view: dict[str, Any]) -> list[list[str]]:
    rows = []
    for decision in view.get("decisions") or []:
        for verdict in (decision.get("evidence") or {}).get("metrics") or []:
            evidence = verdict.get("evidence") or {}
            statistic = ""
            if evidence.get("statistic") is not None and evidence.get("statistic_name") != "value":
                statistic = f"{evidence.get('statistic_name', '')} = {_figure(evidence.get('statistic'))}"
                if evidence.get("boundary") is not None:
                    statistic += f" (boundary {_figure(evidence.get('boundary'))})"
            rows.append(
                [
                    decision["at"],
                    str(verdict.get("metric", "")),
                    str(verdict.get("outcome", "")),
                    _figure(evidence.get("baseline_estimate")),
                    _figure(evidence.get("candidate_estimate")),
                    _figure(bound_of(evidence)),
                    statistic,
                    str(evidence.get("explanation", "")),
                ]
            )
    return rows


def _figure(value: Any) -> str:
    return "" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_report(view: dict[str, Any], fig: Any | None = None) -> str:
    """The page; `fig` is `figure(view)` when the caller has drawn it already."""
    status = view["status"]
    decisions = "".join(
        "<tr>"
        f"<td>{html.escape(d['at'])}</td><td>{html.escape(d['kind'])}</td><td>{html.escape(d['message'])}"
        f"<details><summary>evidence</summary><pre>{html.escape(json.dumps(d.get('evidence'), indent=2))}</pre>"
        "</details></td></tr>"
        for d in view.get("decisions") or []
    )
    checks = _checks(view)
    heading = title(view)
    charts = svg(fig if fig is not None else figure(view))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(heading)}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }} td, th {{ border: 1px solid #ddd; padding: 4px 8px;
vertical-align: top; text-align: left; }} pre {{ margin: 0; font-size: 12px; }}
.verdict {{ font-size: 18px; font-weight: 600; }}
</style></head><body>
<h1>{html.escape(heading)}</h1>
<p class="verdict">{html.escape(status)}{": " + html.escape(view["reason"]) if view.get("reason") else ""}</p>
<p>Weights now: {html.escape(", ".join(f"{k} {v:g} %" for k, v in (view.get("weights") or {}).items()))}.
Guardrails: {html.escape(", ".join(view.get("guardrails") or []) or "none")}.</p>
<h2>Weights over time and each checked metric</h2>
<figure>{charts}</figure>
<h2>Checks</h2>
{_table(["at", "check", "outcome", "baseline", "candidate", "bound", "statistic", "why"], checks) if checks else "<p>No statistical check judged a step.</p>"}
<h2>Decision log</h2>
<table><thead><tr><th>at</th><th>decision</th><th>message</th></tr></thead><tbody>{decisions}</tbody></table>
</body></html>
"""  # noqa: E501
