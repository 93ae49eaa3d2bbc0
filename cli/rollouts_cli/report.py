"""One self-contained HTML page per rollout (`rollouts report ID -o report.html`): the verdict, the weights over
time, every check of every judged step with its figures, and the decision log with its evidence. Inline SVG and
CSS only: the page opens anywhere, attached to a ticket or a chat, with nothing to fetch."""

from __future__ import annotations

import html
import json
from typing import Any

from rollouts_cli import render

WIDTH, HEIGHT, MARGIN = 720, 240, 40
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


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
    return points


def weights_svg(points: list[tuple[float, dict[str, float]]]) -> str:
    """A step chart: each variant's weight (%) from one change to the next."""
    if not points:
        return "<p>No weights were recorded.</p>"
    end = max(points[-1][0], 1.0)
    variants = list(dict.fromkeys(v for _, weights in points for v in weights))

    def x(seconds: float) -> float:
        return MARGIN + (WIDTH - 2 * MARGIN) * seconds / end

    def y(weight: float) -> float:
        return HEIGHT - MARGIN - (HEIGHT - 2 * MARGIN) * weight / 100

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
        'aria-label="weights over time">',
        f'<line x1="{MARGIN}" y1="{y(0)}" x2="{WIDTH - MARGIN}" y2="{y(0)}" stroke="#999"/>',
        f'<line x1="{MARGIN}" y1="{y(0)}" x2="{MARGIN}" y2="{y(100)}" stroke="#999"/>',
        f'<text x="4" y="{y(100) + 4}" font-size="11">100 %</text>',
        f'<text x="14" y="{y(0) + 4}" font-size="11">0 %</text>',
        f'<text x="{WIDTH - MARGIN}" y="{HEIGHT - 8}" font-size="11" text-anchor="end">{end / 60:.0f} min</text>',
    ]
    for index, variant in enumerate(variants):
        colour = COLOURS[index % len(COLOURS)]
        coordinates: list[str] = []
        previous = None
        for seconds, weights in points:
            weight = weights.get(variant, 0.0)
            if previous is not None:
                coordinates.append(f"{x(seconds):.1f},{y(previous):.1f}")
            coordinates.append(f"{x(seconds):.1f},{y(weight):.1f}")
            previous = weight
        coordinates.append(f"{x(end):.1f},{y(previous or 0.0):.1f}")
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(coordinates)}"/>')
        parts.append(
            f'<text x="{WIDTH - MARGIN + 4}" y="{MARGIN + 14 * index}" font-size="11" fill="{colour}">'
            f"{html.escape(variant)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _checks(view: dict[str, Any]) -> list[list[str]]:
    rows = []
    for decision in view.get("decisions") or []:
        for verdict in (decision.get("evidence") or {}).get("metrics") or []:
            evidence = verdict.get("evidence") or {}
            rows.append(
                [
                    decision["at"],
                    str(verdict.get("metric", "")),
                    str(verdict.get("outcome", "")),
                    _figure(evidence.get("baseline_estimate")),
                    _figure(evidence.get("candidate_estimate")),
                    _figure(evidence.get("boundary")),
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


def html_report(view: dict[str, Any]) -> str:
    status = view["status"]
    verdict = {"Promoted": "promoted", "RolledBack": "rolled back", "RollbackFailed": "rollback not verified"}.get(
        status, status
    )
    decisions = "".join(
        "<tr>"
        f"<td>{html.escape(d['at'])}</td><td>{html.escape(d['kind'])}</td><td>{html.escape(d['message'])}"
        f"<details><summary>evidence</summary><pre>{html.escape(json.dumps(d.get('evidence'), indent=2))}</pre>"
        "</details></td></tr>"
        for d in view.get("decisions") or []
    )
    checks = _checks(view)
    title = f"Rollout {view['rollout_id']} on {view['endpoint_name']}: {verdict}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }} td, th {{ border: 1px solid #ddd; padding: 4px 8px;
vertical-align: top; text-align: left; }} pre {{ margin: 0; font-size: 12px; }}
.verdict {{ font-size: 18px; font-weight: 600; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="verdict">{html.escape(status)}{": " + html.escape(view["reason"]) if view.get("reason") else ""}</p>
<p>Weights now: {html.escape(", ".join(f"{k} {v:g} %" for k, v in (view.get("weights") or {}).items()))}.
Guardrails: {html.escape(", ".join(view.get("guardrails") or []) or "none")}.</p>
<h2>Weights over time</h2>
{weights_svg(weights_over_time(view))}
<h2>Checks</h2>
{_table(["at", "check", "outcome", "baseline", "candidate", "bound", "why"], checks) if checks else "<p>No statistical check judged a step.</p>"}
<h2>Decision log</h2>
<table><thead><tr><th>at</th><th>decision</th><th>message</th></tr></thead><tbody>{decisions}</tbody></table>
</body></html>
"""  # noqa: E501
