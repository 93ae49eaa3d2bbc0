"""How a rollout looks in a terminal: plain lines for logs and pipes, a live panel (rich) on a terminal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

FINAL = ("Promoted", "RolledBack", "Failed")
BAR_WIDTH = 20


def parse_time(value: str) -> datetime:
    """A time as the API writes it (ISO 8601, `Z` for UTC)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _time(value: str) -> str:
    try:
        return parse_time(value).strftime("%H:%M:%S")
    except ValueError:
        return value


def weights_text(weights: dict[str, float]) -> str:
    return ", ".join(f"{variant} {weight:g} %" for variant, weight in weights.items()) or "none"


def progress(view: dict[str, Any]) -> tuple[int, int] | None:
    """(steps done, steps) of a strategy with planned steps; None for one that runs to a verdict."""
    steps = view.get("steps")
    if not steps:
        return None
    done = steps if view.get("status") == "Promoted" else max(0, int(view.get("step_index", -1)))
    return min(done, steps), steps


def bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    filled = round(width * done / total) if total else 0
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def status_line(view: dict[str, Any]) -> str:
    """One line: id, endpoint, status, step and weights."""
    parts = [view["rollout_id"], view["endpoint_name"], view["status"]]
    steps = progress(view)
    if steps is not None:
        parts.append(f"step {steps[0]}/{steps[1]} {bar(*steps)}")
    parts.append(f"weights {weights_text(view.get('weights') or {})}")
    return "  ".join(parts)


def decision_line(decision: dict[str, Any]) -> str:
    return f"{_time(decision['at'])}  {decision['kind']:<20}  {decision['message']}"


def check_line(verdict: dict[str, Any]) -> str:
    """One check of the latest judgement: its outcome and the figures it rests on."""
    evidence = verdict.get("evidence") or {}
    return f"{verdict.get('metric', '?')}: {verdict.get('outcome', '?')}: {evidence.get('explanation', '')}"


def plain(view: dict[str, Any]) -> list[str]:
    """The whole view as plain lines (`rollouts get`)."""
    lines = [status_line(view)]
    if view.get("winner"):
        lines.append(f"winner: {view['winner']}")
    if view.get("reason"):
        lines.append(f"reason: {view['reason']}")
    if view.get("guardrails"):
        lines.append("guardrails: " + ", ".join(view["guardrails"]))
    lines += [f"check {check_line(verdict)}" for verdict in view.get("judgement") or []]
    lines += [decision_line(decision) for decision in view.get("decisions", [])]
    return lines


def panel(view: dict[str, Any], last: int = 12) -> Panel:
    """The live view: status, progress, weights as bars, the latest decisions."""
    header = Text.assemble(
        (view["rollout_id"], "bold"), "  ", view["endpoint_name"], "  ", (view["status"], _style(view["status"]))
    )
    parts: list[Any] = [header]
    steps = progress(view)
    if steps is not None:
        parts.append(Text(f"step {steps[0]} of {steps[1]}"))
        parts.append(ProgressBar(total=steps[1], completed=steps[0], width=40))
    weights = Table.grid(padding=(0, 2))
    for variant, weight in (view.get("weights") or {}).items():
        weights.add_row(variant, ProgressBar(total=100, completed=weight, width=30), f"{weight:g} %")
    parts += [Text("weights", style="bold"), weights]
    if view.get("reason"):
        parts.append(Text(f"reason: {view['reason']}", style="yellow"))
    if view.get("guardrails"):
        parts.append(Text("guardrails: " + ", ".join(view["guardrails"])))
    for verdict in view.get("judgement") or []:
        parts.append(Text(check_line(verdict), style=_style({"Failed": "RolledBack"}.get(verdict.get("outcome"), ""))))
    decisions = Table(show_header=True, header_style="bold", box=None, padding=(0, 1))
    for column in ("at", "decision", "message"):
        decisions.add_column(column, overflow="fold")
    for decision in view.get("decisions", [])[-last:]:
        decisions.add_row(_time(decision["at"]), decision["kind"], decision["message"])
    parts.append(decisions)
    return Panel(Group(*parts), title="rollout", expand=True)


def _style(status: str) -> str:
    return {"Promoted": "green", "RolledBack": "red", "RollbackFailed": "bold red", "Paused": "yellow"}.get(
        status, "cyan"
    )


def summary_row(rollout: dict[str, Any]) -> list[str]:
    """A rollout of `rollouts list`."""
    return [
        rollout["rollout_id"],
        rollout["endpoint_name"],
        rollout["strategy"],
        rollout["status"],
        ", ".join(rollout.get("candidate_models") or []),
        _time(rollout["created_at"]),
        (rollout.get("reason") or "")[:60],
    ]


LIST_COLUMNS = ["ROLLOUT", "ENDPOINT", "STRATEGY", "STATUS", "CANDIDATE", "CREATED", "REASON"]


def table_lines(rows: list[list[str]], columns: list[str] = LIST_COLUMNS) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(columns, *rows, strict=False)]
    return ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in [columns, *rows]]  # fmt: skip
