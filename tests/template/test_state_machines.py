"""The deployed state machines: each is what its sources build, and template.yaml fills every placeholder it uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rollouts.strategies.base import EXECUTION_TIMEOUT_SECONDS
from sandbox.template import load
from statemachines import build

PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def shown(path: Path) -> str:
    return path.relative_to(build.ROOT).as_posix()


def substitutions_by_definition() -> dict[str, set[str]]:
    """Each state machine's DefinitionUri in template.yaml, with the names its DefinitionSubstitutions give."""
    return {
        resource["Properties"]["DefinitionUri"]: set(resource["Properties"].get("DefinitionSubstitutions", {}))
        for resource in load()["Resources"].values()
        if resource["Type"] == "AWS::Serverless::StateMachine"
    }


@pytest.mark.parametrize("strategy", build.strategies())
def test_committed_state_machine_is_what_its_sources_build(strategy: str) -> None:
    committed = build.target(strategy)
    built = build.render(build.compose(strategy))
    stale = not committed.is_file() or committed.read_text(encoding="utf-8") != built
    assert not stale, f"{shown(committed)} is stale: run `make asl` and commit it"


def test_every_committed_state_machine_has_a_source() -> None:
    committed = {shown(path) for path in build.HERE.glob("*.asl.json")}
    built = {shown(build.target(strategy)) for strategy in build.strategies()}
    assert committed == built, f"no source in statemachines/src for {sorted(committed - built)}"


def test_template_deploys_every_state_machine_that_is_built() -> None:
    built = {shown(build.target(strategy)) for strategy in build.strategies()}
    assert set(substitutions_by_definition()) == built


@pytest.mark.parametrize("strategy", build.strategies())
def test_template_gives_a_state_machine_exactly_the_placeholders_it_uses(strategy: str) -> None:
    definition = shown(build.target(strategy))
    used = set(PLACEHOLDER.findall(build.target(strategy).read_text(encoding="utf-8")))
    given = substitutions_by_definition()[definition]
    assert used - given == set(), f"{definition} uses placeholders its DefinitionSubstitutions do not give"
    assert given - used == set(), f"DefinitionSubstitutions of {definition} give placeholders it does not use"


def test_an_include_with_a_misspelt_argument_stops_the_build_naming_both_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a fragment that takes `then`, and a strategy that gives it `than`
    shared = tmp_path / "src" / "shared"
    shared.mkdir(parents=True)
    fragment = {"Params": {"then": "the state after"}, "States": [{"Wait": {"Type": "Pass", "Next": "{{then}}"}}]}
    (shared / "wait.json").write_text(json.dumps(fragment))
    strategy = {
        "StartAt": "Wait",
        "TimeoutSeconds": 60,
        "States": [{"Include": "wait", "With": {"than": "Done"}}, {"Done": {"Type": "Succeed"}}],
    }
    (tmp_path / "src" / "x.json").write_text(json.dumps(strategy))
    monkeypatch.setattr(build, "ROOT", tmp_path)
    monkeypatch.setattr(build, "SOURCES", tmp_path / "src")
    monkeypatch.setattr(build, "SHARED", shared)

    # When it is built, Then the build stops and names the fragment and the file that includes it
    with pytest.raises(build.SourceError, match=re.escape("src/shared/wait.json (included by src/x.json)")):
        build.compose("x")


@pytest.mark.parametrize("strategy", [name for name in build.strategies() if name != "monitor"])
def test_every_execution_has_the_top_level_timeout_the_validation_plans_for(strategy: str) -> None:
    machine = json.loads(build.target(strategy).read_text(encoding="utf-8"))

    assert machine["TimeoutSeconds"] == EXECUTION_TIMEOUT_SECONDS


def test_a_monitor_run_ends_within_the_hour() -> None:
    """A run is no strategy: it reads one window, and a run that never ends must not hold a rollout's guard."""
    machine = json.loads(build.target("monitor").read_text(encoding="utf-8"))

    assert machine["TimeoutSeconds"] == 3600


def test_a_strategy_without_a_top_level_timeout_stops_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "x.json").write_text(json.dumps({"StartAt": "Done", "States": [{"Done": {"Type": "Succeed"}}]}))
    monkeypatch.setattr(build, "ROOT", tmp_path)
    monkeypatch.setattr(build, "SOURCES", tmp_path / "src")

    with pytest.raises(build.SourceError, match=re.escape("src/x.json: needs a top-level TimeoutSeconds")):
        build.compose("x")
