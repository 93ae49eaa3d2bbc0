"""Reading SageMaker's data capture: the records a variant's requests left in S3."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from rollouts.aws.clients import client


def captured_lines(destination_s3_uri: str, endpoint_name: str, variant: str, since: datetime) -> Iterator[str]:
    """A variant's captured lines, from the files written since the hour before `since`, oldest first.

    SageMaker writes `<destination>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl`, one JSON record a line; the
    lines are the reader's to parse (`rollouts.logic.shadow.parse_capture`).
    """
    bucket, _, prefix = destination_s3_uri.removeprefix("s3://").partition("/")
    if not bucket:
        return
    root = f"{prefix.strip('/')}/{endpoint_name}/{variant}/".lstrip("/")
    # Files sit under the hour they were written: from the hour before, so none of the window is missed.
    after = root + (since - timedelta(hours=1)).strftime("%Y/%m/%d/%H")
    s3 = client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=root, StartAfter=after):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode("utf-8", errors="replace")
            yield from body.splitlines()
