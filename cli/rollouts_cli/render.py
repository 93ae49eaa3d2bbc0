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


def current_step(view: dict[str, Any]) -> int:
    """The step the rollout is in, counted from 1 as the decision log counts them (0 before the first shift)."""
    steps = int(view.get("steps") or 0)
    return steps if view.get("status") == "Promoted" else min(steps, int(view.get("step_index", -1)) + 1)


def bar(done: float, total: float, width: int = BAR_WIDTH) -> str:
    filled = min(width, round(width * done / total)) if total else 0
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def duration(seconds: float) -> str:
    """A duration as people read it: 35s, 4m10s, 2h05m, 3d04h."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def time_in_step(view: dict[str, Any]) -> float | None:
    """Seconds since the weights last changed, by the control plane's clock; None once the rollout has ended."""
    started, observed = view.get("step_started_at"), view.get("observed_at")
    if not started or not observed or view.get("status") in FINAL:
        return None
    try:
        return max(0.0, (parse_time(observed) - parse_time(started)).total_seconds())
    except ValueError:
        return None


def step_progress(view: dict[str, Any]) -> list[tuple[float, int, float]]:
    """(candidate's percent, bake seconds, part of the bake done: 0 to 1) of each planned step."""
    plan = view.get("plan") or []
    status, current = view.get("status"), int(view.get("step_index", -1))
    in_step = time_in_step(view)
    rows = []
    for index, step in enumerate(plan):
        bake = int(step["bake_seconds"])
        if status == "Promoted" or index < current:
            done = 1.0
        elif index == current and in_step is not None and status not in ("RollingBack", "RollbackFailed"):
            done = min(1.0, in_step / bake) if bake else 1.0
        else:
            done = 0.0
        rows.append((float(step["weight"]), bake, done))
    return rows


def target(view: dict[str, Any]) -> str:
    """What the rollout changes: its endpoint, and the inference component on it when it updates one."""
    component = view.get("inference_component_name")
    return f"{view['endpoint_name']}/{component}" if component else str(view["endpoint_name"])


def status_line(view: dict[str, Any], timing: bool = True) -> str:
    """One line: id, endpoint, status, step, time in step and weights."""
    parts = [view["rollout_id"], target(view), view["status"]]
    steps = progress(view)
    if steps is not None:
        parts.append(f"step {current_step(view)}/{steps[1]} {bar(*steps)}")
    in_step = time_in_step(view) if timing else None
    if in_step is not None:
        parts.append(f"in step {duration(in_step)}")
    parts.append(f"weights {weights_text(view.get('weights') or {})}")
    return "  ".join(parts)


def step_lines(view: dict[str, Any]) -> list[str]:
    """A line per planned step: its weight and bake, and a bar of the bake done."""
    current = int(view.get("step_index", -1))
    lines = []
    for index, (weight, bake, done) in enumerate(step_progress(view)):
        state = "done" if done >= 1 else f"{duration(done * bake)} of {duration(bake)}" if index == current else ""
        lines.append(f"  step {index + 1}  {weight:g} %  bake {duration(bake)}  {bar(done, 1)} {state}".rstrip())
    return lines


def decision_line(decision: dict[str, Any]) -> str:
    return f"{_time(decision['at'])}  {decision['kind']:<20}  {decision['message']}"


def check_line(verdict: dict[str, Any]) -> str:
    """One check of the latest judgement: its outcome and the figures it rests on."""
    evidence = verdict.get("evidence") or {}
    return f"{verdict.get('metric', '?')}: {verdict.get('outcome', '?')}: {evidence.get('explanation', '')}"


def plain(view: dict[str, Any]) -> list[str]:
    """The whole view as plain lines (`rollouts get`)."""
    lines = [status_line(view), *step_lines(view)]
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
        (view["rollout_id"], "bold"), "  ", target(view), "  ", (view["status"], _style(view["status"]))
    )
    parts: list[Any] = [header]
    steps = progress(view)
    in_step = time_in_step(view)
    if steps is not None:
        parts.append(Text(f"step {current_step(view)} of {steps[1]}"))
    if in_step is not None:
        parts.append(Text(f"in step {duration(in_step)}"))
    plan = Table.grid(padding=(0, 2))
    for index, (weight, bake, done) in enumerate(step_progress(view)):
        plan.add_row(
            f"step {index + 1}",
            f"{weight:g} %",
            f"bake {duration(bake)}",
            ProgressBar(total=1, completed=done, width=30),
        )
    if plan.row_count:
        parts.append(plan)
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
        target(rollout),
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
