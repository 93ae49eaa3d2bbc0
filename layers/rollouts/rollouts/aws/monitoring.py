"""Model Monitor results: the monitoring execution behind a processing-job event, and its violations file."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import ClientError

from rollouts.aws.clients import client

VIOLATIONS_FILE = "constraint_violations.json"


MAX_PAGES = 20  # of 100 executions: the job of an event is among the schedule's latest 2,000


def find_execution(schedule_name: str, processing_job_arn: str | None) -> dict[str, Any] | None:
    """The execution summary for this processing job (the event is only a trigger; this is authoritative), looked
    for page after page, newest first; None when it is not among the latest MAX_PAGES pages."""
    kwargs: dict[str, Any] = {
        "MonitoringScheduleName": schedule_name,
        "SortBy": "ScheduledTime",
        "SortOrder": "Descending",
        "MaxResults": 100,
    }
    for _ in range(MAX_PAGES):
        response = client("sagemaker").list_monitoring_executions(**kwargs)
        for summary in response.get("MonitoringExecutionSummaries", []):
            if processing_job_arn is None or summary.get("ProcessingJobArn") == processing_job_arn:
                return dict(summary)
        if not response.get("NextToken"):
            return None
        kwargs["NextToken"] = response["NextToken"]
    return None


def missing_schedules(names: list[str]) -> list[str]:
    """The monitoring schedules among `names` that do not exist."""
    missing = []
    for name in names:
        try:
            client("sagemaker").describe_monitoring_schedule(MonitoringScheduleName=name)
        except ClientError as error:
            details = error.response.get("Error", {})
            gone = details.get("Code") == "ResourceNotFound" or "does not exist" in str(details.get("Message", ""))
            if not gone:
                raise
            missing.append(name)
    return missing


def monitoring_type(schedule_name: str) -> str | None:
    """The schedule's MonitoringType. A schedule with an inline MonitoringJobDefinition and no type runs data
    quality, the only kind an inline definition can be; otherwise None when SageMaker names none."""
    response = client("sagemaker").describe_monitoring_schedule(MonitoringScheduleName=schedule_name)
    config = response.get("MonitoringScheduleConfig", {})
    value = response.get("MonitoringType") or config.get("MonitoringType")
    if not value and "MonitoringJobDefinition" in config:
        return "DataQuality"
    return str(value) if value else None


def read_violations(processing_job_arn: str) -> tuple[str, str | None]:
    """(S3 URI, file text or None if the execution wrote no violations file)."""
    name = processing_job_arn.rsplit("/", 1)[-1]
    job = client("sagemaker").describe_processing_job(ProcessingJobName=name)
    output = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"].rstrip("/")
    uri = f"{output}/{VIOLATIONS_FILE}"
    return uri, read_document(uri)


def read_document(uri: str) -> str | None:
    """An S3 object's text; None when it does not exist (an execution that wrote no violations file)."""
    parsed = urlparse(uri)
    try:
        body = client("s3").get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))["Body"].read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise
    return str(body.decode("utf-8"))
