"""The control plane's own monitor and S3: captured objects in a window, baselines, labels, results."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from rollouts.aws.clients import client
from rollouts.errors import MonitorInputError

MISSING = ("NoSuchKey", "404", "NoSuchBucket")


def split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key.strip("/")


def read_json(uri: str, what: str) -> dict[str, Any]:
    """A JSON document in S3; `ValidationError` naming `what` and the URI when it is missing or not a JSON object."""
    bucket, key = split_uri(uri)
    try:
        body = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in MISSING:
            raise MonitorInputError(f"{what} {uri} does not exist") from error
        raise
    try:
        document = json.loads(body)
    except ValueError as error:
        raise MonitorInputError(f"{what} {uri} is not JSON: {error}") from error
    if not isinstance(document, dict):
        raise MonitorInputError(f"{what} {uri} is not a JSON object")
    return document


def hourly_objects(root_uri: str, start: datetime, end: datetime) -> list[tuple[str, str, int]]:
    """(bucket, key, size) of the objects under `root_uri`/yyyy/mm/dd/hh/ for the hours from the one before
    `start` to the one of `end`: SageMaker files capture (and Model Monitor ground truth) by the hour written."""
    bucket, prefix = split_uri(root_uri)
    if not bucket:
        return []
    root = f"{prefix}/" if prefix else ""
    after = root + (start - timedelta(hours=1)).strftime("%Y/%m/%d/%H")
    last = root + (end + timedelta(hours=1)).strftime("%Y/%m/%d/%H")
    found: list[tuple[str, str, int]] = []
    paginator = client("s3").get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=root, StartAfter=after):
        for item in page.get("Contents", []):
            if item["Key"] >= last:
                return found
            found.append((bucket, item["Key"], int(item.get("Size", 0))))
    return found


def object_lines(bucket: str, key: str) -> Iterator[str]:
    body = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8", errors="replace")
    yield from body.splitlines()


def write_json(uri: str, document: Any) -> str:
    bucket, key = split_uri(uri)
    client("s3").put_object(
        Bucket=bucket, Key=key, Body=json.dumps(document, indent=2).encode(), ContentType="application/json"
    )
    return f"s3://{bucket}/{key}"


def invoke_csv(endpoint_name: str, variant: str, rows: list[list[float]], inference_id_prefix: str) -> list[float]:
    """One InvokeEndpoint on `variant` with `rows` as CSV lines; the scores, one a row (CSV or a JSON list). The
    call's InferenceId starts with `inference_id_prefix`, so that readers of the capture can leave it out."""
    body = "\n".join(",".join(repr(float(value)) for value in row) for row in rows).encode()
    response = client("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint_name,
        TargetVariant=variant,
        ContentType="text/csv",
        Accept="text/csv",
        Body=body,
        InferenceId=f"{inference_id_prefix}{uuid.uuid4().hex}",
    )
    text = response["Body"].read().decode("utf-8").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = [line.split(",")[0] for line in text.replace(",", "\n").splitlines() if line.strip()]
    values = parsed if isinstance(parsed, list) else [parsed]
    if isinstance(values, list) and values and isinstance(values[0], dict):
        values = [next(iter(value.values())) for value in values]
    scores = [float(value[0] if isinstance(value, list) else value) for value in values]
    if len(scores) != len(rows):
        raise MonitorInputError(
            f"endpoint {endpoint_name} variant {variant} answered {len(scores)} scores for {len(rows)} rows"
        )
    return scores
