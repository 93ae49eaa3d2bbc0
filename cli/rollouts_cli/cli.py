"""`rollouts`: start, follow and steer rollouts from a terminal or a CI job.

Exit codes, for CI:
  0  promoted, or the baseline kept by design (an A/B test or a bandit whose candidates did not win)
  1  an unexpected error (a bug: please report it)
  2  a usage or API error (a bad spec, an unknown rollout, no URL or credentials, the API unreachable)
  3  rolled back
  4  the rollback could not be verified (RollbackFailed: an operator is needed; see docs/operations.md)
  5  stopped waiting: the rollout is paused for an operator, or --timeout passed
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

import yaml
from rich.console import Console
from rich.live import Live

from rollouts_cli import baseline, render, report
from rollouts_cli.client import ApiError, ConfigurationError, RolloutsClient

EXIT_OK, EXIT_BUG, EXIT_USAGE, EXIT_ROLLED_BACK, EXIT_ROLLBACK_FAILED, EXIT_WAITING = 0, 1, 2, 3, 4, 5
FEEDBACK_BATCH = 500  # events per POST /feedback: the API's limit for one message


def exit_code(view: dict[str, Any]) -> int | None:
    """What a rollout's status means to CI; None while it is still going."""
    status = view["status"]
    if status == "Promoted":
        return EXIT_OK
    if status == "RolledBack":
        return EXIT_OK if str(view.get("reason") or "").startswith("BaselineKept") else EXIT_ROLLED_BACK
    if status == "Failed":
        return EXIT_USAGE
    if status == "RollbackFailed":
        return EXIT_ROLLBACK_FAILED
    if status == "Paused":
        return EXIT_WAITING
    return None


def read_spec(path: str) -> dict[str, Any]:
    """A spec from a YAML or JSON file ('-': standard input)."""
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    try:
        spec = yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as error:
        raise ConfigurationError(f"{path}: not YAML or JSON: {error}") from error
    if not isinstance(spec, dict):
        raise ConfigurationError(f"{path}: a spec is a mapping (endpoint_name, candidate, strategy, guardrails)")
    return spec


class Follower:
    """Follows a rollout until it ends, pauses or the timeout passes: plain lines when piped, a live panel on a
    terminal."""

    def __init__(
        self,
        client: RolloutsClient,
        out: TextIO,
        interval: float,
        timeout: float | None,
        live: bool,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client, self.out, self.interval, self.timeout, self.live = client, out, interval, timeout, live
        self.sleep = sleep

    def follow(self, rollout_id: str) -> tuple[int, dict[str, Any]]:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        if self.live:
            with Live(console=Console(file=self.out), auto_refresh=False) as live:
                return self._loop(rollout_id, deadline, lambda view: live.update(render.panel(view), refresh=True))
        return self._loop(rollout_id, deadline, self._print_new())

    def _print_new(self) -> Callable[[dict[str, Any]], None]:
        printed: list[str] = []  # the last status line
        shown = [0]  # decisions printed

        def show(view: dict[str, Any]) -> None:
            line = render.status_line(view, timing=False)  # a new line when the step or weights change, no more
            if printed[-1:] != [line]:
                print(render.status_line(view), file=self.out, flush=True)
                printed.append(line)
            decisions = view.get("decisions", [])
            for decision in decisions[shown[0] :]:
                print("  " + render.decision_line(decision), file=self.out, flush=True)
            shown[0] = len(decisions)

        return show

    def _loop(
        self, rollout_id: str, deadline: float | None, show: Callable[[dict[str, Any]], None]
    ) -> tuple[int, dict[str, Any]]:
        while True:
            view = self.client.get(rollout_id)
            show(view)
            code = exit_code(view)
            if code is not None:
                return code, view
            if deadline is not None and time.monotonic() >= deadline:
                return EXIT_WAITING, view
            self.sleep(self.interval)


def _ending(code: int, view: dict[str, Any]) -> str:
    rollout_id = view["rollout_id"]
    if code == EXIT_WAITING and view["status"] == "Paused":
        return f"{rollout_id} is paused for an operator: rollouts resume|promote|abort {rollout_id}"
    if code == EXIT_WAITING:
        return f"{rollout_id} is still {view['status']}: stopped waiting (--timeout)"
    if code == EXIT_ROLLBACK_FAILED:
        return f"{rollout_id}: the rollback could not be verified, the endpoint's lock is held; see the runbook"
    return f"{rollout_id} ended {view['status']}" + (f": {view['reason']}" if view.get("reason") else "")


def _emit(args: argparse.Namespace, out: TextIO, data: Any, lines: Iterable[str]) -> None:
    if args.output == "json":
        print(json.dumps(data, indent=2), file=out)
    else:
        for line in lines:
            print(line, file=out)


def _follower(args: argparse.Namespace, client: RolloutsClient, out: TextIO) -> Follower:
    live = args.output == "text" and out.isatty() and not args.plain
    return Follower(client, out, args.interval, args.timeout, live)


def cmd_start(args: argparse.Namespace, client: RolloutsClient, out: TextIO) -> int:
    started = client.start(read_spec(args.file), args.idempotency_key)
    if not args.wait:
        _emit(args, out, started, [f"{started['rollout_id']} {started['status']}"])
        return EXIT_OK
    if args.output == "text":
        print(f"{started['rollout_id']} started", file=out, flush=True)
    code, view = _follower(args, client, out).follow(started["rollout_id"])
    _emit(args, out, view, [_ending(code, view)])
    return code


def cmd_get(args: argparse.Namespace, client: RolloutsClient, out: TextIO) -> int:
    view = client.get(args.rollout_id)
    _emit(args, out, view, render.plain(view))
    return EXIT_OK


def cmd_watch(args: argparse.Namespace, client: RolloutsClient, out: TextIO) -> int:
    code, view = _follower(args, client, out).follow(args.rollout_id)
    _emit(args, out, view, [_ending(code, view)])
    return code


def cmd_list(args: argparse.Namespace, client: RolloutsClient, out: TextIO) -> int:
    statuses = [s for given in args.status or [] for s in given.split(",") if s]
    if args.all:
        rollouts = list(client.iter_rollouts(args.endpoint, statuses))
        page: dict[str, Any] = {"rollouts": rollouts, "next_token": None}
    else:
        page = client.list_rollouts(args.endpoint, statuses, args.limit, args.next_token)
    lines = render.table_lines([render.summary_row(r) for r in page["rollouts"]])
    if page.get("next_token"):
        lines.append(f"more: --next-token {page['next_token']}")
    _emit(args, out, page, lines)
    return EXIT_OK


def cmd_command(args: argparse.Namespace, client: RolloutsClient, out: TextIO) -> int:
    answer = client.command(args.rollout_id, args.command, args.reason)
    _emit(args, out, answer, [f"{answer['rollout_id']} {answer['command']}: {answer['outcome']}: {answer['message']}"])
    return EXIT_OK


def cmd_retry(args: argparse.Namespace, client: RolloutsClient, out: TextIO) -> int:
    answer = client.retry(args.rollout_id, args.idempotency_key)
    if "command" in answer:  # the restore of a RollbackFailed rollout, as an abort
        _emit(args, out, answer, [f"{answer['rollout_id']} retry: {answer['outcome']}: {answer['message']}"])
        target = args.rollout_id
    else:
        _emit(args, out, answer, [f"{args.rollout_id} retried as {answer['rollout_id']} {answer['status']}"])
        target = answer["rollout_id"]
    if not args.wait:
        return EXIT_OK
    code, view = _follower(args, client, out).follow(target)
    _emit(args, out, view, [_ending(code, view)])
    return code


def cmd_report(args: argparse.Namespace, client: RolloutsClient, out: TextIO) -> int:
    view = client.get(args.rollout_id)
    page, image = report.write(view, Path(args.out))
    decisions = len(view.get("decisions") or [])
    print(f"{page}: {view['rollout_id']} {view['status']}, {decisions} decisions; charts also in {image}", file=out)
    return EXIT_OK


def cmd_feedback_send(args: argparse.Namespace, client: RolloutsClient, out: TextIO) -> int:
    stream = sys.stdin if args.file == "-" else Path(args.file).open(encoding="utf-8")  # noqa: SIM115
    events: list[dict[str, Any]] = []
    with stream:
        for number, line in enumerate(stream, start=1):
            if line.strip():
                try:
                    events.append(json.loads(line))
                except ValueError as error:
                    raise ConfigurationError(f"{args.file}:{number}: not JSON: {error}") from error
    answers = [client.send_feedback(events[i : i + FEEDBACK_BATCH]) for i in range(0, len(events), FEEDBACK_BATCH)]
    accepted = sum(int(answer.get("accepted", 0)) for answer in answers)
    _emit(args, out, {"sent": len(events), "accepted": accepted, "batches": answers}, [
        f"{accepted} of {len(events)} events accepted in {len(answers)} requests"
    ])  # fmt: skip
    return EXIT_OK


def _policy_lines(policy: dict[str, Any]) -> list[str]:
    state = "" if policy.get("enabled", True) else " (disabled)"
    lines = [f"{policy['model_package_group']}{state}: role {policy['execution_role_arn']}"]
    for target in policy.get("targets") or []:
        strategy = (target.get("template") or {}).get("strategy") or {}
        lines.append(f"  -> {target['endpoint_name']}: {strategy.get('type', '?')}")
    return lines


def cmd_policy(args: argparse.Namespace, client: RolloutsClient, out: TextIO) -> int:
    if args.policy_command == "put":
        policy = read_spec(args.file)
        group = args.group or policy.get("model_package_group")
        if not group:
            raise ConfigurationError("name the model package group: --group, or model_package_group in the file")
        stored = client.put_policy(group, policy)
        _emit(args, out, stored, _policy_lines(stored))
    elif args.policy_command == "get":
        stored = client.get_policy(args.group)
        _emit(args, out, stored, _policy_lines(stored))
    elif args.policy_command == "list":
        policies = client.list_policies()
        _emit(args, out, {"policies": policies}, [line for p in policies for line in _policy_lines(p)])
    else:
        client.delete_policy(args.group)
        _emit(args, out, {"deleted": args.group}, [f"{args.group}: release policy deleted"])
    return EXIT_OK


def _policy_parser(commands: Any) -> None:
    """`rollouts policy put|get|list|delete`."""
    policy = commands.add_parser("policy", help="release policies: where an approved Model Registry version rolls out")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True, metavar="COMMAND")
    put = policy_commands.add_parser("put", help="create or replace a group's policy from a YAML or JSON file")
    put.add_argument("-f", "--file", required=True, help="the policy ('-': standard input)")
    put.add_argument("--group", help="the model package group (default: model_package_group in the file)")
    for name, help_text in (("get", "show a group's policy"), ("delete", "delete a group's policy")):
        sub = policy_commands.add_parser(name, help=help_text)
        sub.add_argument("group")
    policy_commands.add_parser("list", help="every policy")
    for sub in policy_commands.choices.values():
        sub.add_argument("-o", "--output", choices=["text", "json"], default="text")
        sub.set_defaults(run=cmd_policy)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="rollouts", description=__doc__.splitlines()[0], epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    root.add_argument("--api-url", help="the API's URL with its stage (default: $ROLLOUTS_API_URL)")
    root.add_argument("--stack", help="read the URL from this stack's ApiUrl output (default: $ROLLOUTS_STACK)")
    commands = root.add_subparsers(dest="command_name", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, run: Callable[..., int], output: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(run=run)
        if output:
            sub.add_argument("-o", "--output", choices=["text", "json"], default="text")
        return sub

    def following(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--interval", type=float, default=2.0, help="seconds between two reads (default 2)")
        sub.add_argument("--timeout", type=float, help="stop waiting after this many seconds (exit 5)")
        sub.add_argument("--plain", action="store_true", help="plain lines even on a terminal")

    start = command("start", "start a rollout from a YAML or JSON spec", cmd_start)
    start.add_argument("-f", "--file", required=True, help="the spec ('-': standard input)")
    start.add_argument("--wait", action="store_true", help="follow it to the end; the exit code says how it ended")
    start.add_argument("--idempotency-key", help="a retry with the same key answers the first rollout")
    following(start)
    get = command("get", "show a rollout: status, weights, decisions", cmd_get)
    get.add_argument("rollout_id")
    watch = command("watch", "follow a rollout until it ends", cmd_watch)
    watch.add_argument("rollout_id")
    following(watch)
    listing = command("list", "list rollouts, newest first", cmd_list)
    listing.add_argument("--endpoint")
    listing.add_argument("--status", action="append", help="repeat or comma-join: Progressing,Paused")
    listing.add_argument("--limit", type=int, default=25)
    listing.add_argument("--next-token")
    listing.add_argument("--all", action="store_true", help="every page")
    for name, help_text in (
        ("abort", "roll back now"),
        ("promote", "promote the candidate now"),
        ("resume", "resume a paused rollout"),
        ("pause", "hold the weights until resume, promote or abort"),
    ):
        sub = command(name, help_text, cmd_command)
        sub.add_argument("rollout_id")
        sub.add_argument("--reason", help="recorded in the decision log")
        sub.set_defaults(command=name)
    reporting = command("report", "write one self-contained HTML page about a rollout", cmd_report, output=False)
    reporting.add_argument("rollout_id")
    reporting.add_argument(
        "-o",
        "--out",
        default="report.html",
        help="the HTML file (default report.html); the PNG goes beside it (report.png)",
    )
    retry = command("retry", "run a rolled-back rollout's spec again, or retry a failed restore", cmd_retry)
    retry.add_argument("rollout_id")
    retry.add_argument("--wait", action="store_true", help="follow the retry to its end")
    retry.add_argument("--idempotency-key")
    following(retry)
    feedback = commands.add_parser("feedback", help="send feedback events (rewards and labels)")
    feedback_commands = feedback.add_subparsers(dest="feedback_command", required=True, metavar="COMMAND")
    send = feedback_commands.add_parser("send", help="send JSON lines of events, batched")
    send.add_argument("-f", "--file", default="-", help="JSON lines ('-', the default: standard input)")
    send.add_argument("-o", "--output", choices=["text", "json"], default="text")
    send.set_defaults(run=cmd_feedback_send)
    _policy_parser(commands)
    baseline.add_parser(commands)
    return root


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    args = parser().parse_args(argv)
    if args.command_name == "baseline":  # local files only: no API, no client
        return baseline.run(args, out, err)
    try:
        client = RolloutsClient.from_environment(args.api_url, args.stack)
        code: int = args.run(args, client, out)
    except ApiError as error:
        fields = [detail for detail in error.details if detail.get("field")]
        if fields:  # one line per field, as the API names them
            print(f"rollouts: {error.status} {error.error}", file=err)
            for detail in fields:
                print(f"  {detail['field']}: {detail.get('reason')}", file=err)
        else:
            print(f"rollouts: {error.status} {error.error}: {error.message}", file=err)
        return EXIT_USAGE
    except (ConfigurationError, OSError) as error:
        print(f"rollouts: {error}", file=err)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_WAITING
    return code
