""".github/workflows/deploy.yml, the deploy pipeline users copy: tests first, dev before prod, prod behind its
environment's reviewers, OIDC rather than stored keys, a release that waits for the rollout's end, and every
`--config-env` and stack name it uses as samconfig.toml has them."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"
CONFIG_ENV = re.compile(r"--config-env\s+(\S+)")


def workflow() -> dict[str, Any]:
    data = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(data, dict)
    return data


def samconfig() -> dict[str, Any]:
    return tomllib.loads((ROOT / "samconfig.toml").read_text())


def job(name: str) -> dict[str, Any]:
    jobs = workflow()["jobs"]
    assert name in jobs, f"no job {name!r} in {sorted(jobs)}"
    found = jobs[name]
    assert isinstance(found, dict)
    return found


def needs(name: str) -> list[str]:
    value = job(name).get("needs", [])
    return [value] if isinstance(value, str) else list(value)


def runs(name: str) -> list[str]:
    return [step["run"] for step in job(name)["steps"] if "run" in step]


def uses(name: str, action: str) -> list[dict[str, Any]]:
    return [step for step in job(name)["steps"] if str(step.get("uses", "")).split("@")[0] == action]


def triggers() -> dict[str, Any]:
    data: dict[Any, Any] = workflow()
    # PyYAML reads the bare key `on` as the boolean true (YAML 1.1); GitHub reads it as "on".
    found = data.get("on", data.get(True))
    assert isinstance(found, dict)
    return found


def test_runs_on_a_push_to_main_and_by_hand() -> None:
    on = triggers()

    assert on["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in on


def test_the_tests_run_first() -> None:
    assert runs("test") == ["make test"]
    assert needs("deploy-dev") == ["test"]


def test_dev_deploys_before_prod_and_prod_waits_for_its_environment() -> None:
    assert needs("deploy-prod") == ["deploy-dev"]
    assert job("deploy-prod")["environment"] == "prod"
    assert "environment" not in job("deploy-dev")


def test_each_deploy_builds_then_deploys_its_config_env_without_a_prompt() -> None:
    for name, env in (("deploy-dev", "dev"), ("deploy-prod", "prod")):
        commands = runs(name)
        deploys = [c for c in commands if c.startswith("sam deploy")]
        builds = [c for c in commands if c.startswith("sam build")]

        assert len(deploys) == 1, commands
        assert builds, commands
        assert commands.index(builds[0]) < commands.index(deploys[0])
        assert CONFIG_ENV.findall(deploys[0]) == [env]
        assert "--no-confirm-changeset" in deploys[0].split()
        assert "--no-fail-on-empty-changeset" in deploys[0].split()


def test_aws_credentials_come_from_oidc_roles() -> None:
    for name in ("deploy-dev", "deploy-prod", "release-model"):
        assert job(name)["permissions"] == {"id-token": "write", "contents": "read"}
        [credentials] = uses(name, "aws-actions/configure-aws-credentials")
        assert re.fullmatch(r"\$\{\{ (secrets|vars)\.\w+ \}\}", credentials["with"]["role-to-assume"])
        assert credentials["with"]["aws-region"]
        assert "aws-access-key-id" not in credentials["with"]
    assert workflow()["permissions"] == {"contents": "read"}


def test_the_release_follows_the_rollout_on_the_prod_stack() -> None:
    release = job("release-model")
    [start] = [c for c in runs("release-model") if c.startswith("rollouts start")]
    words = start.split()
    prod_stack = samconfig()["prod"]["global"]["parameters"]["stack_name"]

    assert needs("release-model") == ["deploy-prod"]
    assert "workflow_dispatch" in release["if"]
    assert "pip install ." in runs("release-model")
    assert "--wait" in words
    assert "--plain" in words
    assert words[words.index("--stack") + 1] == prod_stack
    assert words[words.index("-f") + 1] == '"$SPEC"'
    # GitHub must not stop the job before the CLI's own --timeout does.
    assert release["timeout-minutes"] * 60 > float(words[words.index("--timeout") + 1])


def test_the_spec_to_release_is_an_input_with_an_example_as_default() -> None:
    spec = triggers()["workflow_dispatch"]["inputs"]["spec"]

    assert spec["default"] == "examples/canary.yaml"
    assert (ROOT / spec["default"]).is_file()
    assert job("release-model")["env"]["SPEC"] == "${{ inputs.spec }}"


def test_every_config_env_exists_in_samconfig() -> None:
    config = samconfig()
    used = set(CONFIG_ENV.findall(WORKFLOW.read_text()))

    assert used == {"dev", "prod"}
    for env in used:
        assert "stack_name" in config[env]["global"]["parameters"], env
        assert "build" in config[env], env
        assert "deploy" in config[env], env


def test_the_credentials_region_is_the_region_samconfig_deploys_to() -> None:
    config = samconfig()
    region = workflow()["env"]["AWS_REGION"]

    assert {config[env]["deploy"]["parameters"]["region"] for env in ("dev", "prod")} == {region}


def _schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    checker = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_workflow_follows_githubs_workflow_schema() -> None:
    result = _schema_check(WORKFLOW)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_refuses_a_broken_workflow(tmp_path: Path) -> None:
    broken = yaml.safe_load(WORKFLOW.read_text())
    broken["jobs"]["deploy-prod"]["runs-on"] = {"os": "ubuntu"}  # not a label, a group or a list
    path = tmp_path / "deploy.yml"
    path.write_text(yaml.safe_dump(broken))

    assert _schema_check(path).returncode == 1
