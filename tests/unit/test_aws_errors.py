"""AWS errors as the control plane sees them: adapters translate botocore's, nothing else imports botocore."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from rollouts.aws.clients import aws_error

ROOT = Path(__file__).resolve().parents[2]


def client_error(code: str, status: int, operation: str = "SetAlarmState") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "slow down"}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [
        ("ThrottlingException", 400, True),
        ("Throttling", 400, True),
        ("ProvisionedThroughputExceededException", 400, True),
        ("InternalFailure", 500, True),
        ("SomethingNew", 503, True),
        ("AccessDeniedException", 400, False),
        ("ValidationException", 400, False),
        ("ResourceNotFound", 404, False),
    ],
)
def test_an_aws_error_says_its_code_and_whether_calling_again_may_succeed(code, status, retryable):
    error = aws_error(client_error(code, status))

    assert (error.operation, error.code, error.retryable) == ("SetAlarmState", code, retryable)
    assert str(error) == f"SetAlarmState: {code}: slow down"


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_only_the_adapters_import_botocore():
    layer = ROOT / "layers" / "rollouts" / "rollouts"
    outside = [
        str(path.relative_to(ROOT))
        for path in [*layer.rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
        if path.parent != layer / "aws" and any(module.split(".")[0] == "botocore" for module in imported_modules(path))
    ]

    assert outside == []
