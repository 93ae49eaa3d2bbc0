"""Composes each strategy's state machine from statemachines/src into the deployed statemachines/<strategy>.asl.json.

`python -m statemachines.build` writes the files that changed; `--check` writes nothing and fails when a committed
file differs from what its sources compose. statemachines/src/README.md describes the sources. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCES = HERE / "src"
SHARED = SOURCES / "shared"
PARAMETER = re.compile(r"\{\{(\w+)\}\}")
INCLUDE_KEYS = frozenset({"Include", "With"})
LAMBDA_TASK = re.compile(r"^arn:aws:states:::lambda:invoke(\.waitForTaskToken)?$")
# Every Lambda task first retries what AWS answered with throttling or a 5xx (rollouts.aws.clients raises
# AwsRetryableError for them): exponential backoff from 2 s, each wait at most 60 s and drawn at random below it
# (full jitter), six retries, about two minutes at the most. Written here once instead of in every task's source.
AWS_RETRY = {
    "ErrorEquals": ["AwsRetryableError"],
    "IntervalSeconds": 2,
    "MaxAttempts": 6,
    "BackoffRate": 2.0,
    "MaxDelaySeconds": 60,
    "JitterStrategy": "FULL",
}


class SourceError(Exception):
    """A strategy source or a fragment that does not compose; the message names the file."""


def _shown(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _load(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SourceError(f"{_shown(path)}: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("States"), list):
        raise SourceError(f"{_shown(path)}: needs a list of parts under States")
    return document


def _substitute(node: Any, arguments: dict[str, str]) -> Any:
    """Every {{name}} in a key or a string value, replaced by its argument."""
    if isinstance(node, str):
        return PARAMETER.sub(lambda match: arguments[match.group(1)], node)
    if isinstance(node, list):
        return [_substitute(item, arguments) for item in node]
    if isinstance(node, dict):
        return {_substitute(key, arguments): _substitute(value, arguments) for key, value in node.items()}
    return node


def _compose(path: Path, arguments: dict[str, str], chain: tuple[Path, ...]) -> dict[str, Any]:
    """The states of one source file, its includes expanded in place, in the order the file lists them."""
    where = _shown(path) + (f" (included by {_shown(chain[-1])})" if chain else "")
    if path in chain:
        raise SourceError(f"{where}: includes itself")
    document = _load(path)
    declared = set(document.get("Params", {}))
    used = set(PARAMETER.findall(json.dumps(document["States"])))
    if used != declared:
        raise SourceError(f"{where}: Params are {sorted(declared)}, but its states use {sorted(used)}")
    if set(arguments) != declared or not all(isinstance(value, str) for value in arguments.values()):
        raise SourceError(f"{where}: takes a string for each of {sorted(declared)}, given {arguments}")
    states: dict[str, Any] = {}
    for part in _substitute(document["States"], arguments):
        if not isinstance(part, dict):
            raise SourceError(f"{where}: a part is {part!r}, neither an object of states nor an include")
        for name, state in (_include(path, part, chain) if "Include" in part else part).items():
            if name in states:
                raise SourceError(f"{where}: two states named {name!r}")
            states[name] = state
    return states


def _include(path: Path, part: dict[str, Any], chain: tuple[Path, ...]) -> dict[str, Any]:
    if not set(part) <= INCLUDE_KEYS:
        raise SourceError(f"{_shown(path)}: an include has {sorted(set(part) - INCLUDE_KEYS)}")
    fragment = SHARED / f"{part['Include']}.json"
    if not fragment.is_file():
        raise SourceError(f"{_shown(path)}: includes {part['Include']!r}, but {_shown(fragment)} is missing")
    return _compose(fragment, part.get("With", {}), (*chain, path))


def strategies() -> list[str]:
    return sorted(path.name.removesuffix(".json") for path in SOURCES.glob("*.json"))


def target(strategy: str) -> Path:
    return HERE / f"{strategy}.asl.json"


def compose(strategy: str) -> dict[str, Any]:
    """The strategy's state machine: its source's top-level fields, with States composed."""
    source = SOURCES / f"{strategy}.json"
    document = _load(source)
    if "Params" in document:
        raise SourceError(f"{_shown(source)}: a strategy takes no Params")
    if not isinstance(document.get("TimeoutSeconds"), int):
        # No execution may run unbounded: at its timeout it ends TIMED_OUT and the watchdog rolls the rollout back.
        raise SourceError(f"{_shown(source)}: needs a top-level TimeoutSeconds")
    return {**document, "States": {name: _with_aws_retry(state) for name, state in _compose(source, {}, ()).items()}}


def _with_aws_retry(state: dict[str, Any]) -> dict[str, Any]:
    """A Lambda task with AWS_RETRY first among its retriers; Retry keeps its place among the keys."""
    if state.get("Type") != "Task" or not LAMBDA_TASK.match(str(state.get("Resource", ""))):
        return state
    retry = [AWS_RETRY, *(r for r in state.get("Retry", []) if r != AWS_RETRY)]
    if "Retry" not in state:
        return {**state, "Retry": retry}
    return {key: retry if key == "Retry" else value for key, value in state.items()}


def render(machine: dict[str, Any]) -> str:
    """Two-space indented, keys in source order: the same sources always give the same bytes."""
    return json.dumps(machine, indent=2) + "\n"


def build() -> dict[Path, str]:
    return {target(strategy): render(compose(strategy)) for strategy in strategies()}


def stale(built: dict[Path, str]) -> list[Path]:
    """Committed files that differ from their build, are missing, or have no source."""
    orphans = set(HERE.glob("*.asl.json")) - set(built)
    differ = {path for path, text in built.items() if not path.is_file() or path.read_text(encoding="utf-8") != text}
    return sorted(orphans | differ)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m statemachines.build", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; fail if a committed file is stale")
    args = parser.parse_args(argv)
    try:
        built = build()
    except SourceError as error:
        print(f"statemachines: {error}", file=sys.stderr)
        return 2
    outdated = stale(built)
    for path in outdated:
        if path not in built:
            print(f"{_shown(path)} has no source in {_shown(SOURCES)}: delete it or add one", file=sys.stderr)
        elif args.check:
            print(f"{_shown(path)} is stale: run `make asl` and commit it", file=sys.stderr)
        else:
            path.write_text(built[path], encoding="utf-8")
            print(f"wrote {_shown(path)}")
    unfixed = [path for path in outdated if args.check or path not in built]
    return 1 if unfixed else 0


if __name__ == "__main__":
    sys.exit(main())
